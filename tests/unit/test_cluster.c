/* Unit tests for -a kmeans through its algorithm calls: a fitted model is a fixed point of
 * Lloyd's step (each centre the weighted mean of its rows, each row at its nearest
 * centre), the inertia is what scoring gives, the same bytes for any thread count, and a
 * model section that lies is refused on load. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "learn/algo.h"
#include "ml/ml.h"
#include "unit.h"

extern const struct ml_algo ml_algo_kmeans;

#define N 600
#define P 3
#define K 4

static double cols[P][N], wts[N];

static void make_data(void)
{
	struct ml_rng r;
	size_t i;
	int j;

	ml_rng_seed(&r, 5);
	for (i = 0; i < N; i++) {
		int c = (int)ml_rng_below(&r, K);
		for (j = 0; j < P; j++)
			cols[j][i] = 3 * (double)((c >> (j % 2)) & 1) + j * c + ml_rng_normal(&r);
		wts[i] = 1 + (double)(i % 3);
	}
}

static struct ml_data data(int weighted)
{
	static const double *cp[P];
	static const char *names[P] = {"a", "b", "c"};
	static const int ncat[P] = {0, 0, 0};
	struct ml_data d;
	int j;

	for (j = 0; j < P; j++)
		cp[j] = cols[j];
	memset(&d, 0, sizeof(d));
	d.n = N;
	d.p = P;
	d.col = cp;
	d.w = weighted ? wts : NULL;
	d.ncat = ncat;
	d.names = names;
	return d;
}

static void *fit(int weighted, int threads, const char *init)
{
	struct ml_data d = data(weighted);
	struct ml_params hp;
	struct ml_ctx ctx;
	struct ml_err e;
	void *st = NULL;

	ml_err_init(&e);
	ml_params_init(&hp, &ml_algo_kmeans);
	CHECK(ml_params_set(&hp, "k", "4", &e) == 0);
	CHECK(ml_params_set(&hp, "n-init", "3", &e) == 0);
	CHECK(ml_params_set(&hp, "init", init, &e) == 0);
	CHECK(ml_ctx_init(&ctx, threads, 11, &e) == 0);
	CHECK(ml_algo_kmeans.fit(&st, &d, NULL, &hp, &ctx, &e) == 0);
	ml_ctx_release(&ctx);
	return st;
}

/* The rows as one column-major matrix, and their scores. */
static void score(const void *st, double *out)
{
	static double X[P * N];
	struct ml_err e;
	int j;

	for (j = 0; j < P; j++)
		memcpy(X + (size_t)j * N, cols[j], N * sizeof(double));
	ml_err_init(&e);
	CHECK(ml_algo_kmeans.predict(st, X, N, N, out, ML_OUT_VALUE, &e) == 0);
}

static void test_fixed_point(void)
{
	static double out[2 * N];
	int weighted;

	make_data();
	for (weighted = 0; weighted < 2; weighted++) {
		void *st = fit(weighted, 1, "k-means++");
		struct ml_data shape = data(weighted);
		struct ml_frame f;
		struct ml_err e;
		double sum[K][P], w[K], in = 0, want = NAN;
		size_t i, r;
		int c, j;

		CHECK(st != NULL);
		if (!st)
			continue;
		score(st, out);
		memset(sum, 0, sizeof(sum));
		memset(w, 0, sizeof(w));
		for (i = 0; i < N; i++) {
			double wi = weighted ? wts[i] : 1;
			c = (int)out[2 * i];
			CHECK(c >= 0 && c < K);
			w[c] += wi;
			for (j = 0; j < P; j++)
				sum[c][j] += wi * cols[j][i];
			in += wi * out[2 * i + 1] * out[2 * i + 1];
		}
		ml_err_init(&e);
		ml_frame_init(&f);
		CHECK(ml_algo_kmeans.table(st, "centers", &shape, &f, &e) == 0);
		CHECK(f.rows.nrow == K && f.schema.ncol == 2 + P);
		for (r = 0; r < f.rows.nrow && r < K; r++) {
			CHECK_NEAR(f.rows.col[1].num[r], w[r], 1e-12);
			for (j = 0; j < P; j++)
				CHECK_NEAR(f.rows.col[2 + j].num[r], sum[r][j] / w[r], 1e-9);
		}
		ml_frame_release(&f);
		ml_frame_init(&f);
		CHECK(ml_algo_kmeans.table(st, "fit", &shape, &f, &e) == 0);
		for (r = 0; r < f.rows.nrow; r++)
			if (strcmp(f.schema.cols[0].dict.str[f.rows.col[0].cat[r]], "inertia") == 0)
				want = f.rows.col[1].num[r];
		CHECK_NEAR(in, want, 1e-9);
		ml_frame_release(&f);
		ml_algo_kmeans.free(st);
	}
}

static void test_threads_and_load(void)
{
	void *a = fit(1, 1, "random"), *b = fit(1, 3, "random");
	struct ml_model *ma = ml_model_new("model", "kmeans"), *mb = ml_model_new("model", "kmeans");
	struct ml_data shape = data(0);
	struct ml_err e;
	const void *da, *db;
	size_t la, lb;
	void *back = NULL;
	static double o1[2 * N], o2[2 * N];

	ml_err_init(&e);
	CHECK(a && b && ma && mb);
	if (!a || !b || !ma || !mb)
		goto out;
	CHECK(ml_algo_kmeans.save(a, ma, &e) == 0 && ml_algo_kmeans.save(b, mb, &e) == 0);
	CHECK(ml_model_get(ma, "algo.kmeans", &da, &la, &e) == 0);
	CHECK(ml_model_get(mb, "algo.kmeans", &db, &lb, &e) == 0);
	CHECK(la == lb && memcmp(da, db, la) == 0);
	/* a round trip scores alike */
	CHECK(ml_algo_kmeans.load(&back, ma, &shape, &e) == 0);
	if (back) {
		score(a, o1);
		score(back, o2);
		CHECK(memcmp(o1, o2, sizeof(o1)) == 0);
		ml_algo_kmeans.free(back);
		back = NULL;
	}
	/* a centre that is not finite, then a wrong feature count, are refused */
	{
		unsigned char *bad = malloc(la);
		double nan = NAN;
		struct ml_model *mc = ml_model_new("model", "kmeans");
		struct ml_data other = shape;
		CHECK(bad && mc);
		if (bad && mc) {
			memcpy(bad, da, la);
			memcpy(bad + 4 * 4 + 8 + 8 + 8, &nan, 8);
			CHECK(ml_model_add(mc, "algo.kmeans", bad, la, &e) == 0);
			CHECK(ml_algo_kmeans.load(&back, mc, &shape, &e) == ML_E_DATA && !back);
			other.p = P + 1;
			CHECK(ml_algo_kmeans.load(&back, ma, &other, &e) == ML_E_DATA && !back);
		}
		free(bad);
		ml_model_free(mc);
	}
out:
	ml_algo_kmeans.free(a);
	ml_algo_kmeans.free(b);
	ml_model_free(ma);
	ml_model_free(mb);
}

int main(void)
{
	RUN(test_fixed_point);
	RUN(test_threads_and_load);
	return UNIT_EXIT();
}
