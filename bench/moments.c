/* The per-value cost of a profile's moments: Welford's one-pass update of the mean and the
 * squared deviations (what profiles kept before their exact sums) against the exact sums
 * of lib/drift/xsum.h, over the same values in cache, with the count, min and max both
 * keep. Usage: moments [ROUNDS]; prints nanoseconds per value for each. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "drift/xsum.h"

struct one_pass {
	unsigned long long n;
	double mean, m2, min, max;
};

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static __attribute__((noinline)) void welford(struct one_pass *c, const double *x, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		double v = x[i], d;
		if (isnan(v))
			continue;
		c->n++;
		d = v - c->mean;
		c->mean += d / (double)c->n;
		c->m2 += d * (v - c->mean);
		if (v < c->min)
			c->min = v;
		if (v > c->max)
			c->max = v;
	}
}

static __attribute__((noinline)) void exact(struct ml_xsum *s, struct one_pass *c,
					     const double *x, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		double v = x[i];
		if (isnan(v))
			continue;
		c->n++;
		ml_xsum_add(s, v);
		if (v < c->min)
			c->min = v;
		if (v > c->max)
			c->max = v;
	}
}

int main(int argc, char **argv)
{
	enum { N = 4096 };
	static double x[N];
	long rounds = argc > 1 ? strtol(argv[1], NULL, 10) : 20000, r;
	struct one_pass a = {0, 0, 0, INFINITY, -INFINITY}, b = a;
	struct ml_xsum s;
	double t0, t1, t2, mean, m2, var;
	unsigned long long u = 88172645463325252ULL;
	size_t i;

	/* values like a generated data set's: a few digits, both signs, of a few magnitudes */
	for (i = 0; i < N; i++) {
		u ^= u << 13, u ^= u >> 7, u ^= u << 17;
		x[i] = ((double)(u >> 11) * 0x1p-53 - 0.3) * (i % 4 == 3 ? 150 : 3);
	}
	ml_xsum_init(&s);
	t0 = now();
	for (r = 0; r < rounds; r++)
		welford(&a, x, N);
	t1 = now();
	for (r = 0; r < rounds; r++)
		exact(&s, &b, x, N);
	t2 = now();
	ml_xsum_moments(&s, b.n, &mean, &m2, &var);
	printf("welford:    %.2f ns/value (mean %.17g)\n", (t1 - t0) * 1e9 / ((double)N * rounds),
	       a.mean);
	printf("exact sums: %.2f ns/value (mean %.17g)\n", (t2 - t1) * 1e9 / ((double)N * rounds),
	       mean);
	return 0;
}
