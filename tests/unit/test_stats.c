/* Unit tests for lib/stats/stats.c: exact quantiles and describe against numpy/pandas fixtures,
 * the KLL sketch's rank error, merging, and the serialised form. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml.h"
#include "unit.h"
#include "../fixtures/stats_expected.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The bound on the normalized rank error for k = 2048 (max over p in 0.01..0.99): 120
 * runs of 10M uniform or lognormal values peaked at 0.10%, averaging 0.06%. */
#define RANK_BOUND 0.0015

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int same(double a, double b, double tol)
{
	if (isnan(a) || isnan(b))
		return isnan(a) && isnan(b);
	return fabs(a - b) <= tol * (1 + fabs(b));
}

/* Distance from p to the ranks (as fractions of n) that q holds in sorted v. */
static double rank_error(const double *v, size_t n, double q, double p)
{
	size_t lo = 0, hi = n, a, b;

	while (lo < hi) {
		size_t m = lo + (hi - lo) / 2;
		if (v[m] < q)
			lo = m + 1;
		else
			hi = m;
	}
	a = lo;
	hi = n;
	while (lo < hi) {
		size_t m = lo + (hi - lo) / 2;
		if (v[m] <= q)
			lo = m + 1;
		else
			hi = m;
	}
	b = lo;
	if (p * (double)n < (double)a)
		return (double)a / (double)n - p;
	if (p * (double)n > (double)b)
		return p - (double)b / (double)n;
	return 0;
}

static double max_rank_error(const struct ml_quantiles *q, double *v, size_t n)
{
	double worst = 0;
	int i;

	qsort(v, n, sizeof(double), cmp_double);
	for (i = 1; i <= 99; i++) {
		double e = rank_error(v, n, ml_quantiles_get(q, i / 100.0), i / 100.0);
		if (e > worst)
			worst = e;
	}
	return worst;
}

static double *uniform_values(size_t n, uint64_t seed)
{
	struct ml_rng r;
	double *v = malloc(n * sizeof(double));
	size_t i;

	ml_rng_seed(&r, seed);
	for (i = 0; v && i < n; i++)
		v[i] = ml_rng_uniform(&r);
	return v;
}

/* The serialised bytes: two sketches with equal bytes answer everything alike. */
static int same_bytes(const struct ml_quantiles *a, const struct ml_quantiles *b)
{
	struct ml_wbuf x, y;
	int eq;

	ml_wbuf_init(&x);
	ml_wbuf_init(&y);
	ml_quantiles_save(a, &x);
	ml_quantiles_save(b, &y);
	eq = !x.err && !y.err && x.n == y.n && memcmp(x.p, y.p, x.n) == 0;
	ml_wbuf_release(&x);
	ml_wbuf_release(&y);
	return eq;
}

static void check_fixture(const double *data, size_t n, const double *want, size_t nvalid)
{
	struct ml_quantiles *q = ml_quantiles_new(0, 1);
	size_t i;

	CHECK(q != NULL);
	if (!q)
		return;
	for (i = 0; i < n; i++)
		CHECK(ml_quantiles_add(q, data[i]) == 0);
	CHECK(ml_quantiles_count(q) == nvalid);
	CHECK(ml_quantiles_exact(q));
	for (i = 0; i < NELEM(q_probs); i++)
		CHECK_NEAR(ml_quantiles_get(q, q_probs[i]), want[i], 1e-14);
	ml_quantiles_free(q);
}

static void test_exact_vs_numpy(void)
{
	check_fixture(q_small, NELEM(q_small), q_small_want, NELEM(q_small) - 1);
	check_fixture(q_big, NELEM(q_big), q_big_want, NELEM(q_big));
}

static void test_exact_edges(void)
{
	struct ml_quantiles *q = ml_quantiles_new(0, 1);

	CHECK(ml_quantiles_new(-1, 1) == NULL);
	CHECK(ml_quantiles_new(7, 1) == NULL);
	CHECK(ml_quantiles_new(65536, 1) == NULL);
	CHECK(isnan(ml_quantiles_get(q, 0.5)));
	CHECK(ml_quantiles_add(q, NAN) == 0);
	CHECK(ml_quantiles_count(q) == 0);
	CHECK(isnan(ml_quantiles_get(q, 0.5)));
	ml_quantiles_add(q, 5);
	CHECK(ml_quantiles_get(q, 0) == 5 && ml_quantiles_get(q, 0.3) == 5);
	CHECK(ml_quantiles_get(q, 1) == 5);
	ml_quantiles_add(q, 7);
	CHECK(ml_quantiles_get(q, 0.5) == 6);
	CHECK(isnan(ml_quantiles_get(q, -0.1)) && isnan(ml_quantiles_get(q, 1.5)));
	CHECK(isnan(ml_quantiles_get(q, NAN)));
	ml_quantiles_add(q, INFINITY);
	CHECK(ml_quantiles_get(q, 1) == INFINITY);
	CHECK(ml_quantiles_get(q, 0.25) == 6);
	ml_quantiles_free(q);
	ml_quantiles_free(NULL);
}

static void test_switch_to_sketch(void)
{
	struct ml_quantiles *q = ml_quantiles_new(0, 3);
	size_t i;

	for (i = 0; i < ML_QUANTILES_EXACT; i++)
		ml_quantiles_add(q, (double)i);
	CHECK(ml_quantiles_exact(q));
	CHECK(ml_quantiles_get(q, 0.5) == (ML_QUANTILES_EXACT - 1) / 2.0);
	ml_quantiles_add(q, -1);
	CHECK(!ml_quantiles_exact(q));
	CHECK(ml_quantiles_count(q) == ML_QUANTILES_EXACT + 1);
	CHECK(ml_quantiles_get(q, 0) == -1);
	CHECK(ml_quantiles_get(q, 1) == ML_QUANTILES_EXACT - 1);
	CHECK_NEAR(ml_quantiles_get(q, 0.5), ML_QUANTILES_EXACT / 2.0,
		   RANK_BOUND * ML_QUANTILES_EXACT / (ML_QUANTILES_EXACT / 2.0));
	ml_quantiles_free(q);
}

static void test_sketch_rank_error(void)
{
	size_t n = 1000000, i;
	double *v = uniform_values(n, 11);
	struct ml_quantiles *q = ml_quantiles_new(0, 5), *l = ml_quantiles_new(0, 6);
	struct ml_rng r;
	double e;

	CHECK(v && q && l);
	if (!v || !q || !l)
		goto out;
	for (i = 0; i < n; i++)
		ml_quantiles_add(q, v[i]);
	e = max_rank_error(q, v, n);
	CHECK(e <= RANK_BOUND);
	ml_rng_seed(&r, 12);
	for (i = 0; i < n; i++) {
		v[i] = exp(ml_rng_normal(&r));
		ml_quantiles_add(l, v[i]);
	}
	e = max_rank_error(l, v, n);
	CHECK(e <= RANK_BOUND);
out:
	ml_quantiles_free(q);
	ml_quantiles_free(l);
	free(v);
}

/* Add v[from..to) to q. */
static void add_range(struct ml_quantiles *q, const double *v, size_t from, size_t to)
{
	size_t i;

	for (i = from; i < to; i++)
		ml_quantiles_add(q, v[i]);
}

static void test_merge(void)
{
	size_t n = 600000, i;
	double *v = uniform_values(n, 21);
	struct ml_quantiles *a, *b, *all, *parts[4];
	int j;

	CHECK(v != NULL);
	if (!v)
		return;

	/* exact + exact, staying exact: the same answers as one quantiles object. */
	a = ml_quantiles_new(0, 1);
	b = ml_quantiles_new(0, 2);
	all = ml_quantiles_new(0, 1);
	add_range(a, v, 0, 1000);
	add_range(b, v, 1000, 3000);
	add_range(all, v, 0, 3000);
	CHECK(ml_quantiles_merge(a, b) == 0);
	CHECK(ml_quantiles_exact(a) && ml_quantiles_count(a) == 3000);
	CHECK(same_bytes(a, all));
	for (i = 0; i <= 100; i++)
		CHECK(ml_quantiles_get(a, i / 100.0) == ml_quantiles_get(all, i / 100.0));
	ml_quantiles_free(a);
	ml_quantiles_free(b);
	ml_quantiles_free(all);

	/* exact + exact past the limit, then sketch + exact: what adding in order gives. */
	a = ml_quantiles_new(0, 1);
	b = ml_quantiles_new(0, 2);
	all = ml_quantiles_new(0, 1);
	add_range(a, v, 0, 60000);
	add_range(b, v, 60000, 120000);
	CHECK(ml_quantiles_merge(a, b) == 0);
	ml_quantiles_free(b);
	b = ml_quantiles_new(0, 2);
	add_range(b, v, 120000, 170000);
	CHECK(ml_quantiles_merge(a, b) == 0);
	add_range(all, v, 0, 170000);
	CHECK(!ml_quantiles_exact(a) && ml_quantiles_count(a) == 170000);
	CHECK(same_bytes(a, all));
	ml_quantiles_free(a);
	ml_quantiles_free(b);
	ml_quantiles_free(all);

	/* sketch + sketch and exact + sketch: within the bound, and deterministic. */
	for (j = 0; j < 4; j++) {
		parts[j] = ml_quantiles_new(0, 100 + (uint64_t)j);
		add_range(parts[j], v, (size_t)j * (n / 4), (size_t)(j + 1) * (n / 4));
		CHECK(!ml_quantiles_exact(parts[j]));
	}
	a = ml_quantiles_new(0, 100);
	b = ml_quantiles_new(0, 100);
	/* a and b start empty: exact + sketch, then sketch + sketch */
	for (j = 0; j < 4; j++) {
		CHECK(ml_quantiles_merge(a, parts[j]) == 0);
		CHECK(ml_quantiles_merge(b, parts[j]) == 0);
	}
	CHECK(ml_quantiles_count(a) == n);
	CHECK(same_bytes(a, b));
	CHECK(ml_quantiles_get(a, 0) <= ml_quantiles_get(a, 1e-9));
	all = ml_quantiles_new(0, 7);
	add_range(all, v, 0, 50000);
	CHECK(ml_quantiles_merge(all, a) == 0); /* exact + sketch */
	CHECK(!ml_quantiles_exact(all) && ml_quantiles_count(all) == n + 50000);
	CHECK(max_rank_error(a, v, n) <= RANK_BOUND);
	/* Merging into itself doubles every weight and moves no quantile by much. */
	CHECK(ml_quantiles_merge(b, b) == 0);
	CHECK(ml_quantiles_count(b) == 2 * n);
	CHECK(max_rank_error(b, v, n) <= RANK_BOUND);
	for (j = 0; j < 4; j++)
		ml_quantiles_free(parts[j]);
	ml_quantiles_free(a);
	ml_quantiles_free(b);
	ml_quantiles_free(all);
	free(v);
}

/* Save q, load it back, and check the copy answers and continues alike. */
static void round_trip(struct ml_quantiles *q, const double *more, size_t nmore)
{
	struct ml_wbuf w;
	struct ml_rbuf r;
	struct ml_err e;
	struct ml_quantiles *c;
	int i;

	ml_wbuf_init(&w);
	ml_quantiles_save(q, &w);
	CHECK(w.err == 0);
	ml_rbuf_init(&r, w.p, w.n);
	ml_err_init(&e);
	c = ml_quantiles_load(&r, &e);
	CHECK(c != NULL && r.off == w.n);
	if (c) {
		CHECK(ml_quantiles_count(c) == ml_quantiles_count(q));
		CHECK(ml_quantiles_exact(c) == ml_quantiles_exact(q));
		CHECK(same_bytes(c, q));
		for (i = 0; i <= 100; i++)
			CHECK(same(ml_quantiles_get(c, i / 100.0), ml_quantiles_get(q, i / 100.0),
				   0));
		add_range(c, more, 0, nmore);
		add_range(q, more, 0, nmore);
		CHECK(same_bytes(c, q));
	}
	ml_quantiles_free(c);
	ml_wbuf_release(&w);
}

static void test_save_load(void)
{
	double *v = uniform_values(300000, 31);
	struct ml_quantiles *q;

	CHECK(v != NULL);
	if (!v)
		return;
	q = ml_quantiles_new(0, 1);
	round_trip(q, v, 10); /* empty */
	add_range(q, v, 10, 1000);
	round_trip(q, v, 100); /* exact */
	ml_quantiles_free(q);
	q = ml_quantiles_new(300, 9);
	add_range(q, v, 0, 250000);
	round_trip(q, v + 250000, 50000); /* sketch, with a non-default k */
	ml_quantiles_free(q);
	free(v);
}

/* Loading data must fail with ML_E_DATA. */
static int rejects(const unsigned char *p, size_t n)
{
	struct ml_rbuf r;
	struct ml_err e;
	struct ml_quantiles *q;

	ml_rbuf_init(&r, p, n);
	ml_err_init(&e);
	q = ml_quantiles_load(&r, &e);
	ml_quantiles_free(q);
	return q == NULL && e.code == ML_E_DATA && e.msg[0] != 0;
}

/* Byte offsets in the layout lib/stats/stats.c documents above ml_quantiles_save. */
#define OFF_VERSION 4
#define OFF_MODE    8
#define OFF_K	    9
#define OFF_COUNT   13
#define OFF_BODY    69 /* exact: u64 n; sketch: u32 levels */

static void put32(unsigned char *p, uint32_t v)
{
	int i;

	for (i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void test_load_rejects(void)
{
	struct ml_quantiles *q = ml_quantiles_new(0, 1);
	struct ml_wbuf w;
	unsigned char *p;
	size_t n, i, lv1;
	int ok = 1;

	ml_wbuf_init(&w);
	add_range(q, q_big, 0, 50);
	ml_quantiles_save(q, &w);
	for (n = 0; n < w.n; n++)
		ok &= rejects(w.p, n);
	CHECK(ok);
	p = w.p;
	p[0] ^= 1;
	CHECK(rejects(p, w.n));
	p[0] ^= 1;
	p[OFF_VERSION] = 3;
	CHECK(rejects(p, w.n));
	p[OFF_VERSION] = 0;
	CHECK(rejects(p, w.n));
	p[OFF_VERSION] = 2;
	p[OFF_MODE] = 2;
	CHECK(rejects(p, w.n));
	p[OFF_MODE] = 0;
	put32(p + OFF_K, 7);
	CHECK(rejects(p, w.n));
	put32(p + OFF_K, 65536);
	CHECK(rejects(p, w.n));
	put32(p + OFF_K, ML_QUANTILES_K);
	CHECK(!rejects(p, w.n));
	p[OFF_COUNT] ^= 1; /* count no longer the number of values */
	CHECK(rejects(p, w.n));
	p[OFF_COUNT] ^= 1;
	put64(p + OFF_BODY + 8 + 8 * 7, 0x7ff8000000000000ULL); /* a NaN value */
	CHECK(rejects(p, w.n));
	put64(p + OFF_BODY + 8 + 8 * 7, 0x7ff0000000000000ULL); /* above the max */
	CHECK(rejects(p, w.n));
	ml_wbuf_release(&w);
	ml_quantiles_free(q);

	/* A sketch: truncations (a sample of lengths), bad weights, an unsorted level. */
	q = ml_quantiles_new(0, 1);
	for (i = 0; i < 150000; i++)
		ml_quantiles_add(q, (double)(i * 7919 % 150000));
	ml_wbuf_init(&w);
	ml_quantiles_save(q, &w);
	ok = 1;
	for (n = 0; n < w.n; n += n < 300 ? 1 : 97)
		ok &= rejects(w.p, n);
	ok &= rejects(w.p, w.n - 1);
	CHECK(ok);
	p = w.p;
	p[OFF_COUNT] ^= 1;
	CHECK(rejects(p, w.n));
	p[OFF_COUNT] ^= 1;
	lv1 = OFF_BODY + 4 + 8 + 8 * (size_t)get64(p + OFF_BODY + 4); /* level 1's count */
	CHECK(get64(p + lv1) >= 2);
	{
		unsigned char t[8];
		memcpy(t, p + lv1 + 8, 8); /* swap level 1's first two values */
		memcpy(p + lv1 + 8, p + lv1 + 16, 8);
		memcpy(p + lv1 + 16, t, 8);
		CHECK(rejects(p, w.n));
	}
	ml_wbuf_release(&w);
	ml_quantiles_free(q);
}

static int num_col(const struct ml_frame *f, const char *name)
{
	int j = ml_schema_find(&f->schema, name);

	CHECK(j >= 0 && f->schema.cols[j].type == ML_NUM);
	return j;
}

static const char *cat_at(const struct ml_frame *f, const char *name, size_t row)
{
	int j = ml_schema_find(&f->schema, name);
	int32_t c;

	CHECK(j >= 0 && f->schema.cols[j].type == ML_CAT);
	if (j < 0)
		return NULL;
	c = f->rows.col[j].cat[row];
	return c < 0 ? NULL : f->schema.cols[j].dict.str[c];
}

static int code_of(struct ml_schema *s, int j, const char *str)
{
	return str ? ml_dict_intern(&s->cols[j].dict, str, strlen(str)) : ML_MISSING_CAT;
}

static void fill_rows(struct ml_schema *s, struct ml_block *b, size_t from, size_t to)
{
	size_t i;

	for (i = from; i < to; i++) {
		b->col[0].num[i] = desc_x[i];
		b->col[1].num[i] = desc_big[i];
		b->col[2].cat[i] = code_of(s, 2, desc_c[i]);
		b->col[3].num[i] = desc_one[i];
		b->col[4].num[i] = desc_empty[i];
		b->col[5].cat[i] = code_of(s, 5, desc_none[i]);
	}
	b->nrow = to;
}

static void test_describe_vs_pandas(void)
{
	static const char *const names[] = {"column", "type",	  "count", "missing", "mean",
					    "std",    "min",	  "p25",   "p50",     "p75",
					    "max",    "distinct", "top",   "freq"};
	struct ml_schema s;
	struct ml_block b;
	struct ml_frame f;
	struct ml_err e;
	struct ml_describe *d;
	size_t i;
	int j;

	ml_schema_init(&s);
	ml_schema_add(&s, "x", ML_NUM);
	ml_schema_add(&s, "big", ML_NUM);
	ml_schema_add(&s, "c", ML_CAT);
	ml_schema_add(&s, "one", ML_NUM);
	ml_schema_add(&s, "empty", ML_NUM);
	ml_schema_add(&s, "none", ML_CAT);
	ml_err_init(&e);
	CHECK(ml_block_init(&b, &s, DESC_NROW, &e) == 0);
	d = ml_describe_new(&s, 42, &e);
	CHECK(d != NULL);
	/* Two calls, the dictionary growing in between. */
	fill_rows(&s, &b, 0, 4);
	CHECK(ml_describe_add(d, &b, 0, 4, &e) == 0);
	fill_rows(&s, &b, 4, DESC_NROW);
	CHECK(ml_describe_add(d, &b, 4, DESC_NROW, &e) == 0);
	CHECK(ml_describe_add(d, &b, 3, DESC_NROW + 1, &e) == ML_E_INTERNAL);

	ml_frame_init(&f);
	CHECK(ml_describe_result(d, &f, &e) == 0);
	CHECK(f.schema.ncol == (int)NELEM(names) && f.rows.nrow == NELEM(desc_want));
	for (j = 0; j < f.schema.ncol && j < (int)NELEM(names); j++)
		CHECK(strcmp(f.schema.cols[j].name, names[j]) == 0);
	for (i = 0; i < f.rows.nrow && i < NELEM(desc_want); i++) {
		const struct desc_want *w = &desc_want[i];
		const double want[] = {w->count, w->missing, w->mean, w->std,	   w->min, w->p25,
				       w->p50,	 w->p75,     w->max,  w->distinct, w->freq};
		const char *const wname[] = {"count", "missing", "mean", "std",	     "min", "p25",
					     "p50",   "p75",	 "max",	 "distinct", "freq"};
		const char *top = cat_at(&f, "top", i);
		size_t k;

		CHECK(strcmp(cat_at(&f, "column", i), w->column) == 0);
		CHECK(strcmp(cat_at(&f, "type", i), w->type) == 0);
		CHECK(w->top ? top && strcmp(top, w->top) == 0 : top == NULL);
		for (k = 0; k < NELEM(want); k++) {
			double got = f.rows.col[num_col(&f, wname[k])].num[i];
			if (!same(got, want[k], 1e-12)) {
				fprintf(stderr, "describe %s %s = %.17g, want %.17g\n", w->column,
					wname[k], got, want[k]);
				CHECK(0);
			}
		}
	}
	ml_frame_release(&f);
	ml_describe_free(d);
	ml_block_release(&b);
	ml_schema_release(&s);
}

/* Ties for the top value go to the first seen; codes grow past any initial size; a
 * large offset with a tiny spread keeps its standard deviation; sketch-mode quartiles. */
static void test_describe_more(void)
{
	struct ml_schema s;
	struct ml_block b;
	struct ml_frame f;
	struct ml_err e;
	struct ml_describe *d;
	size_t n = 300000, i;
	double var;
	char name[8];

	ml_schema_init(&s);
	ml_schema_add(&s, "tie", ML_CAT);
	ml_schema_add(&s, "many", ML_CAT);
	ml_schema_add(&s, "off", ML_NUM);
	ml_err_init(&e);
	d = ml_describe_new(&s, 1, &e);
	CHECK(ml_block_init(&b, &s, n, &e) == 0);
	CHECK(d != NULL);
	for (i = 0; i < n; i++) {
		int k = (int)(i % 100);
		name[0] = (char)('a' + k / 10);
		name[1] = (char)('a' + k % 10);
		name[2] = 0;
		b.col[0].cat[i] =
		    i < 4 ? code_of(&s, 0, i == 1 || i == 2 ? "x" : "y") : ML_MISSING_CAT;
		b.col[1].cat[i] = code_of(&s, 1, name);
		b.col[2].num[i] = 1e9 + (double)(i % 10) * 0.125;
	}
	b.nrow = n;
	CHECK(ml_describe_add(d, &b, 0, n, &e) == 0);
	ml_frame_init(&f);
	CHECK(ml_describe_result(d, &f, &e) == 0);
	CHECK(strcmp(cat_at(&f, "top", 0), "y") == 0);
	CHECK(f.rows.col[num_col(&f, "freq")].num[0] == 2);
	CHECK(f.rows.col[num_col(&f, "distinct")].num[0] == 2);
	CHECK(f.rows.col[num_col(&f, "missing")].num[0] == (double)(n - 4));
	CHECK(f.rows.col[num_col(&f, "distinct")].num[1] == 100);
	CHECK(strcmp(cat_at(&f, "top", 1), "aa") == 0);
	CHECK(f.rows.col[num_col(&f, "mean")].num[2] == 1e9 + 0.5625);
	/* Population variance of k/8, k = 0..9, is 33/256. */
	var = 33.0 / 256 * (double)n / (double)(n - 1);
	CHECK_NEAR(f.rows.col[num_col(&f, "std")].num[2], sqrt(var), 1e-14);
	CHECK(f.rows.col[num_col(&f, "p25")].num[2] >= 1e9 + 0.25 &&
	      f.rows.col[num_col(&f, "p25")].num[2] <= 1e9 + 0.25 + 0.125);
	CHECK(f.rows.col[num_col(&f, "p50")].num[2] >= 1e9 + 0.5 &&
	      f.rows.col[num_col(&f, "p50")].num[2] <= 1e9 + 0.625);
	CHECK(f.rows.col[num_col(&f, "p75")].num[2] >= 1e9 + 0.75 &&
	      f.rows.col[num_col(&f, "p75")].num[2] <= 1e9 + 0.875);
	ml_frame_release(&f);
	ml_describe_free(d);
	ml_block_release(&b);
	ml_schema_release(&s);
}

/* The normal quantile function and CDF against scipy.stats.norm (SciPy 1.10.1). */
static void test_normal(void)
{
	static const double p[] = {0.5, 0.9, 0.975, 0.995, 0.1, 1e-10, 0.999999, 0.3},
			    z[] = {0.0,
				   1.2815515655446004,
				   1.959963984540054,
				   2.5758293035489004,
				   -1.2815515655446004,
				   -6.361340902404056,
				   4.753424308817087,
				   -0.5244005127080407};
	size_t k;

	for (k = 0; k < sizeof(p) / sizeof(p[0]); k++) {
		CHECK_NEAR(ml_norm_ppf(p[k]), z[k], 1e-15);
		CHECK_NEAR(ml_norm_cdf(z[k]), p[k], 1e-14);
	}
	CHECK(isinf(ml_norm_ppf(0)) && ml_norm_ppf(0) < 0 && isinf(ml_norm_ppf(1)));
	CHECK(isnan(ml_norm_ppf(-0.1)) && isnan(ml_norm_ppf(NAN)) && isnan(ml_norm_ppf(1.5)));
	CHECK_NEAR(ml_norm_cdf(1.96), 0.9750021048517795, 1e-15);
}

/* Student's t quantiles against R 4.2's qt, and the CDF back. */
static void test_student(void)
{
	static const double p[] = {0.9, 0.975, 0.995, 0.95, 0.999, 1e-6, 0.6},
			    df[] = {5, 10, 1, 30, 2.5, 3, 100},
			    t[] = {1.47588404882448043, 2.22813885198627393, 63.65674116287152629,
				   1.69726088659395691, 13.82219311086599944, -103.29946778041933442,
				   0.25402218245822766};
	size_t k;

	for (k = 0; k < sizeof(p) / sizeof(p[0]); k++) {
		CHECK_NEAR(ml_t_ppf(p[k], df[k]), t[k], 1e-13);
		CHECK_NEAR(ml_t_cdf(t[k], df[k]), p[k], 1e-13);
	}
	CHECK(ml_t_ppf(0.5, 4) == 0 && isnan(ml_t_ppf(0.5, 0)) && isnan(ml_t_ppf(2, 3)));
	CHECK(isinf(ml_t_ppf(1, 3)) && ml_t_cdf(-INFINITY, 3) == 0);
	/* Many degrees of freedom: the normal. */
	CHECK_NEAR(ml_t_ppf(0.975, 1e9), 1.959963984540054, 1e-8);
	CHECK_NEAR(ml_beta_inc(2, 3, 0.4), 0.5248, 1e-14);
	CHECK(isnan(ml_beta_inc(0, 1, 0.5)) && ml_beta_inc(2, 2, 1) == 1);
}

/* Past exact mode, a quantile is a value of a row (the inverted CDF): exact for a column of
 * few distinct values, from the sketch's items otherwise; the distinct counts survive a
 * save, a merge, and a version-1 file (which has none) still loads. */
static void test_row_values(void)
{
	struct ml_quantiles *q = ml_quantiles_new(0, 1), *r = ml_quantiles_new(0, 2), *back;
	struct ml_wbuf w;
	struct ml_rbuf b;
	struct ml_err e;
	size_t i, tail;
	double v;

	ml_err_init(&e);
	/* half zeros, half ones, past the exact limit */
	for (i = 0; i < 2 * ML_QUANTILES_EXACT; i++)
		ml_quantiles_add(q, (double)(i % 2));
	CHECK(!ml_quantiles_exact(q));
	CHECK(ml_quantiles_get(q, 0.5) == 0 && ml_quantiles_get(q, 0.50001) == 1);
	CHECK(ml_quantiles_get(q, 0.25) == 0 && ml_quantiles_get(q, 0.75) == 1);
	/* three values in 1:2:1 */
	for (i = 0; i < 2 * ML_QUANTILES_EXACT; i++)
		ml_quantiles_add(r, (double)(i % 4 == 0 ? 10 : i % 4 == 3 ? 30 : 20));
	CHECK(ml_quantiles_get(r, 0.25) == 10 && ml_quantiles_get(r, 0.26) == 20);
	CHECK(ml_quantiles_get(r, 0.75) == 20 && ml_quantiles_get(r, 0.76) == 30);
	/* merged, the counts add up */
	CHECK(ml_quantiles_merge(q, r) == 0);
	CHECK(ml_quantiles_get(q, 0.5) == 1 && ml_quantiles_get(q, 0.6) == 10);
	CHECK(ml_quantiles_get(q, 0.7) == 20);
	ml_wbuf_init(&w);
	ml_quantiles_save(q, &w);
	ml_rbuf_init(&b, w.p, w.n);
	back = ml_quantiles_load(&b, &e);
	CHECK(back && ml_quantiles_get(back, 0.5) == 1 && ml_quantiles_get(back, 0.7) == 20);
	ml_quantiles_free(back);
	/* version 1: the same file without the distinct counts */
	tail = 4 + 16 * 5;
	CHECK(w.n > tail);
	w.p[OFF_VERSION] = 1;
	ml_rbuf_init(&b, w.p, w.n - tail);
	back = ml_quantiles_load(&b, &e);
	CHECK(back != NULL);
	if (back) {
		v = ml_quantiles_get(back, 0.5);
		CHECK(v == 0 || v == 1 || v == 10 || v == 20 || v == 30);
		ml_quantiles_free(back);
	}
	ml_wbuf_release(&w);
	ml_quantiles_free(q);
	ml_quantiles_free(r);
	/* many values, each 30 times: every answer is one of them, within the rank error */
	q = ml_quantiles_new(0, 3);
	for (i = 0; i < 30 * 9973; i++)
		ml_quantiles_add(q, (double)(i % 9973) + 0.5);
	for (i = 1; i < 100; i++) {
		v = ml_quantiles_get(q, (double)i / 100);
		CHECK(v - floor(v) == 0.5);
		CHECK(fabs(v - 9973.0 * (double)i / 100) < 9973 * 0.002);
	}
	ml_quantiles_free(q);
}

int main(void)
{
	RUN(test_exact_vs_numpy);
	RUN(test_exact_edges);
	RUN(test_switch_to_sketch);
	RUN(test_sketch_rank_error);
	RUN(test_merge);
	RUN(test_save_load);
	RUN(test_load_rejects);
	RUN(test_describe_vs_pandas);
	RUN(test_describe_more);
	RUN(test_normal);
	RUN(test_student);
	RUN(test_row_values);
	return UNIT_EXIT();
}
