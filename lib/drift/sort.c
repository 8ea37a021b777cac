/* Sorting doubles by radix: profiles and comparisons sort every value of a column, where
 * qsort's comparisons cost more than reading the file. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drift/drift_int.h"

/* Order-preserving map of a double's bits to an unsigned integer. */
static uint64_t key(double d)
{
	uint64_t u;

	memcpy(&u, &d, sizeof(u));
	return u >> 63 ? ~u : u | 0x8000000000000000ULL;
}

static double unkey(uint64_t u)
{
	double d;

	u = u >> 63 ? u & 0x7fffffffffffffffULL : ~u;
	memcpy(&d, &u, sizeof(d));
	return d;
}

/* Six passes of 11 bits (the last of 9): fewer passes than bytes, and a count table of
 * 2048 that stays in the first-level cache. */
#define RBITS 11
#define RSIZE (1 << RBITS)
#define RPASSES 6

int ml_drift_sort(double *v, size_t n)
{
	uint64_t *a, *b, *t;
	size_t (*cnt)[RSIZE], i;
	int pass;

	if (n < 2)
		return 0;
	a = malloc(n * sizeof(uint64_t));
	b = malloc(n * sizeof(uint64_t));
	cnt = calloc(RPASSES, sizeof(*cnt));
	if (!a || !b || !cnt) {
		free(a);
		free(b);
		free(cnt);
		return ML_E_NOMEM;
	}
	for (i = 0; i < n; i++) {
		uint64_t k = key(v[i]);
		a[i] = k;
		for (pass = 0; pass < RPASSES; pass++)
			cnt[pass][(k >> (RBITS * pass)) & (RSIZE - 1)]++;
	}
	for (pass = 0; pass < RPASSES; pass++) {
		size_t sum = 0, c;
		int shift = RBITS * pass, dig;
		/* a pass whose digit is the same in every value moves nothing */
		if (cnt[pass][(a[0] >> shift) & (RSIZE - 1)] == n)
			continue;
		for (dig = 0; dig < RSIZE; dig++) {
			c = cnt[pass][dig];
			cnt[pass][dig] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			b[cnt[pass][(a[i] >> shift) & (RSIZE - 1)]++] = a[i];
		t = a;
		a = b;
		b = t;
	}
	for (i = 0; i < n; i++)
		v[i] = unkey(a[i]);
	free(a);
	free(b);
	free(cnt);
	return 0;
}
