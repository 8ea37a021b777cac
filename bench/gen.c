/* Generates the benchmark data: N rows of 28 numeric features and a binary label, seeded,
 * written as CSV. The label follows a noisy non-linear rule, so trees beat lines on it. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t s[2] = {0x9e3779b97f4a7c15ULL, 0xbf58476d1ce4e5b9ULL};

static uint64_t next(void)
{
	uint64_t a = s[0], b = s[1], r = a + b;
	b ^= a;
	s[0] = ((a << 55) | (a >> 9)) ^ b ^ (b << 14);
	s[1] = (b << 36) | (b >> 28);
	return r;
}

static double unif(void)
{
	return (double)(next() >> 11) * 0x1.0p-53;
}

static double normal(void)
{
	double u = unif(), v = unif();
	return sqrt(-2 * log(u + 1e-300)) * cos(6.283185307179586 * v);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000, i;
	int j, p = 28;
	double x[28];

	if (argc > 2)
		s[0] ^= (uint64_t)strtoull(argv[2], NULL, 10);
	printf("label");
	for (j = 0; j < p; j++)
		printf(",f%d", j + 1);
	printf("\n");
	for (i = 0; i < n; i++) {
		double z;
		for (j = 0; j < p; j++) {
			/* mixed scales and shapes, like physics features */
			double g = normal();
			x[j] = j % 4 == 0 ? exp(0.5 * g) : j % 4 == 1 ? g : j % 4 == 2 ? 3 * unif() - 1.5 :
									 100 + 20 * g;
		}
		z = 0.8 * x[1] - 0.6 * x[5] + 0.5 * x[0] * x[2] + 0.3 * sin(3 * x[9]) +
		    0.02 * (x[3] - 100) + (x[13] > 0.2 ? 0.7 : -0.2) + 0.4 * x[17] * x[21] +
		    0.5 * normal();
		printf("%d", z > 0.3);
		for (j = 0; j < p; j++)
			printf(",%.7g", x[j]);
		printf("\n");
	}
	return 0;
}
