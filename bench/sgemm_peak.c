/* The machine's measured single-precision matrix product peak: cblas_sgemm on square
 * matrices and on the shapes of an MLP training step, best of several calls each, in
 * GFLOP/s (2 m n k flops per call); the peak is the best of them all. OPENBLAS_NUM_THREADS sets the threads.
 *   sgemm_peak [SIZE...]   (default 512 1024 2048)
 * Build: cc -O2 -std=c11 -o sgemm_peak bench/sgemm_peak.c $(pkg-config --libs openblas) */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Best GFLOP/s of C = op(A) op(B), m x n, inner k. */
static double rate(int m, int n, int k, int ta, int tb)
{
	float *A = malloc((size_t)m * k * sizeof(float)), *B = malloc((size_t)k * n * sizeof(float));
	float *C = malloc((size_t)m * n * sizeof(float));
	double best = 0, flops = 2.0 * m * n * k;
	int i, reps;

	if (!A || !B || !C) {
		fprintf(stderr, "sgemm_peak: out of memory\n");
		exit(71);
	}
	for (i = 0; i < m * k; i++)
		A[i] = (float)((i % 17) - 8) / 8;
	for (i = 0; i < k * n; i++)
		B[i] = (float)((i % 13) - 6) / 6;
	reps = (int)(2e10 / flops) + 3;
	if (reps > 200)
		reps = 200;
	for (i = 0; i < reps; i++) {
		double t0 = now(), g;
		cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans,
			    tb ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, A, ta ? m : k, B,
			    tb ? k : n, 0.0f, C, n);
		g = flops / (now() - t0) / 1e9;
		if (g > best)
			best = g;
	}
	free(A);
	free(B);
	free(C);
	return best;
}

int main(int argc, char **argv)
{
	double peak = 0, g;
	int i;
	static const int def[] = {512, 1024, 2048};

	for (i = 0; i < (argc > 1 ? argc - 1 : 3); i++) {
		int s = argc > 1 ? atoi(argv[i + 1]) : def[i];
		g = rate(s, s, s, 0, 0);
		printf("sgemm %dx%dx%d: %.1f GFLOP/s\n", s, s, s, g);
		if (g > peak)
			peak = g;
	}
	g = rate(200, 128, 784, 0, 0);
	printf("forward  200x128x784:      %.1f GFLOP/s\n", g);
	if (g > peak)
		peak = g;
	g = rate(784, 128, 200, 1, 0);
	printf("backward 784x128x200 (A'): %.1f GFLOP/s\n", g);
	if (g > peak)
		peak = g;
	printf("peak: %.1f GFLOP/s\n", peak);
	return 0;
}
