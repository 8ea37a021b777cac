/* Unit tests for lib/stats/split.c: test sizes, every split and k-fold mode, the key hash. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml/frame.h"
#include "ml/split.h"
#include "unit.h"

/* A frame with a categorical column "c" and a numeric column "x". */
struct tab {
	struct ml_schema s;
	struct ml_block b;
};

static void tab_init(struct tab *t, size_t n)
{
	ml_schema_init(&t->s);
	if (ml_schema_add(&t->s, "c", ML_CAT) < 0 || ml_schema_add(&t->s, "x", ML_NUM) < 0 ||
	    ml_block_init(&t->b, &t->s, n, NULL) < 0)
		abort();
	t->b.nrow = n;
}

static void tab_release(struct tab *t)
{
	ml_block_release(&t->b);
	ml_schema_release(&t->s);
}

static void set_cat(struct tab *t, size_t i, const char *v)
{
	int32_t c = v ? ml_dict_intern(&t->s.cols[0].dict, v, strlen(v)) : -1;
	if (v && c < 0)
		abort();
	t->b.col[0].cat[i] = c;
}

static size_t count(const unsigned char *side, size_t n, int what)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += side[i] == what;
	return k;
}

static void test_test_rows(void)
{
	struct ml_err e;
	size_t t;

	ml_err_init(&e);
	CHECK(ml_split_test_rows(344, 0.2, &t, &e) == 0 && t == 69);
	CHECK(ml_split_test_rows(344, 0.25, &t, &e) == 0 && t == 86);
	CHECK(ml_split_test_rows(30, 0.1, &t, &e) == 0 && t == 3);
	CHECK(ml_split_test_rows(1461, 0.2, &t, &e) == 0 && t == 293);
	CHECK(ml_split_test_rows(344, 50, &t, &e) == 0 && t == 50);
	CHECK(ml_split_test_rows(344, 343, &t, &e) == 0 && t == 343);
	CHECK(ml_split_test_rows(2, 0.5, &t, &e) == 0 && t == 1);
	CHECK(ml_split_test_rows(344, 344, &t, &e) == ML_E_DATA);
	CHECK(strcmp(e.msg, "a test count of 344 is not smaller than the 344 rows") == 0);
	CHECK(ml_split_test_rows(344, 0.999, &t, &e) == ML_E_DATA);
	CHECK(ml_split_test_rows(1, 0.5, &t, &e) == ML_E_DATA);
	CHECK(ml_split_test_rows(0, 0.2, &t, &e) == ML_E_DATA);
	CHECK(strcmp(e.msg, "no rows to split") == 0);
	CHECK(ml_split_test_rows(10, 0, &t, &e) == ML_E_USAGE);
	CHECK(ml_split_test_rows(10, -1, &t, &e) == ML_E_USAGE);
	CHECK(ml_split_test_rows(10, 1.5, &t, &e) == ML_E_USAGE);
	CHECK(ml_split_test_rows(10, NAN, &t, &e) == ML_E_USAGE);
}

static void test_hash(void)
{
	/* Values of the documented function, computed independently. */
	CHECK(ml_split_hash("", 0, 0) == UINT64_C(0x7bd3144f29c0cc9e));
	CHECK(ml_split_hash("", 0, 42) == UINT64_C(0xa6245a5dcf278758));
	CHECK(ml_split_hash("2012/01/01", 10, 42) == UINT64_C(0xcc412ba6c2ef3509));
	CHECK(ml_split_hash("abc", 3, 1) == UINT64_C(0x72577830b6d9ad1d));
	CHECK(ml_split_hash("1.5", 3, 42) == UINT64_C(0x5c684763e7b9a8d5));
	CHECK_NEAR(ml_split_hash_unit(UINT64_C(0xcc412ba6c2ef3509)), 0.7978694231159664, 1e-15);
	CHECK(ml_split_hash_unit(0) == 0);
	CHECK(ml_split_hash_unit(UINT64_MAX) < 1);
	CHECK(ml_split_hash_fold(0, 5) == 0);
	CHECK(ml_split_hash_fold(UINT64_MAX, 5) == 4);
	CHECK(ml_split_hash_fold(UINT64_C(1) << 63, 2) == 1);
	CHECK(ml_split_hash_fold(UINT64_C(0x5c684763e7b9a8d5), 5) == 1);
}

static void test_key_hash(void)
{
	struct tab t;

	tab_init(&t, 3);
	set_cat(&t, 0, "abc");
	set_cat(&t, 1, NULL);
	set_cat(&t, 2, "1.5");
	t.b.col[1].num[0] = 1.5;
	t.b.col[1].num[1] = NAN;
	t.b.col[1].num[2] = 1.50;
	CHECK(ml_split_key_hash(&t.b, 0, 0, 1) == ml_split_hash("abc", 3, 1));
	CHECK(ml_split_key_hash(&t.b, 0, 1, 7) == ml_split_hash("", 0, 7));
	/* A number is hashed as its shortest text, as the same text read as a category. */
	CHECK(ml_split_key_hash(&t.b, 1, 0, 42) == ml_split_key_hash(&t.b, 0, 2, 42));
	CHECK(ml_split_key_hash(&t.b, 1, 2, 42) == UINT64_C(0x5c684763e7b9a8d5));
	CHECK(ml_split_key_hash(&t.b, 1, 1, 9) == ml_split_hash("", 0, 9));
	tab_release(&t);
}

static void test_labels(void)
{
	struct tab t;
	struct ml_err e;
	int32_t lab[6];
	size_t nl;
	const char *v[] = {"b", "a", NULL, "b", NULL, "c"};
	double x[] = {3, NAN, 1, 3, NAN, -0.0};
	int i;

	tab_init(&t, 6);
	for (i = 0; i < 6; i++) {
		set_cat(&t, (size_t)i, v[i]);
		t.b.col[1].num[i] = x[i];
	}
	ml_err_init(&e);
	CHECK(ml_split_labels(&t.b, 0, lab, &nl, &e) == 0);
	CHECK(nl == 4);
	CHECK(lab[0] == 0 && lab[1] == 1 && lab[2] == 2 && lab[3] == 0 && lab[4] == 2 &&
	      lab[5] == 3);
	CHECK(ml_split_labels(&t.b, 1, lab, &nl, &e) == 0);
	CHECK(nl == 4);
	CHECK(lab[0] == 0 && lab[1] == 1 && lab[2] == 2 && lab[3] == 0 && lab[4] == 1 &&
	      lab[5] == 3);
	CHECK(ml_split_labels(&t.b, 5, lab, &nl, &e) == ML_E_INTERNAL);
	tab_release(&t);
}

static void test_time_order(void)
{
	struct tab t;
	struct ml_err e;
	size_t ord[5];
	const char *v[] = {"2021-03-01T10:00:00", "2021-02-28", "2021-03-01T10:00:00", "2020-12-31",
			   "2021-03-01T09:00:00"};
	double x[] = {5, 1, 5, -2, 3};
	long lines[] = {2, 3, 4, 5, 6};
	int i;

	tab_init(&t, 5);
	for (i = 0; i < 5; i++) {
		set_cat(&t, (size_t)i, v[i]);
		t.b.col[1].num[i] = x[i];
	}
	ml_err_init(&e);
	CHECK(ml_split_time_order(&t.b, 0, ord, &e) == 0);
	CHECK(ord[0] == 3 && ord[1] == 1 && ord[2] == 4 && ord[3] == 0 && ord[4] == 2);
	CHECK(ml_split_time_order(&t.b, 1, ord, &e) == 0);
	CHECK(ord[0] == 3 && ord[1] == 1 && ord[2] == 4 && ord[3] == 0 && ord[4] == 2);
	t.b.line = lines;
	t.b.col[1].num[2] = NAN;
	CHECK(ml_split_time_order(&t.b, 1, ord, &e) == ML_E_DATA);
	CHECK(e.line == 4);
	CHECK(strcmp(e.msg, "missing value in time column 'x'") == 0);
	set_cat(&t, 4, NULL);
	CHECK(ml_split_time_order(&t.b, 0, ord, &e) == ML_E_DATA);
	CHECK(e.line == 6);
	t.b.line = NULL;
	tab_release(&t);
}

static void test_random(void)
{
	struct tab t;
	struct ml_split_opts o;
	struct ml_split_info in;
	unsigned char a[1000], b[1000], c[1000];
	struct ml_err e;

	tab_init(&t, 1000);
	ml_split_opts_init(&o);
	ml_err_init(&e);
	o.test = 0.2;
	CHECK(ml_split(&t.b, &o, a, &in, &e) == 0);
	CHECK(count(a, 1000, ML_SIDE_TEST) == 200 && in.ntest == 200 && in.ntrain == 800);
	CHECK(in.target == 200 && in.n == 1000 && in.ngap == 0);
	CHECK(ml_split(&t.b, &o, b, NULL, &e) == 0);
	CHECK(memcmp(a, b, 1000) == 0);
	o.seed = 43;
	CHECK(ml_split(&t.b, &o, c, NULL, &e) == 0);
	CHECK(memcmp(a, c, 1000) != 0);
	CHECK(count(c, 1000, ML_SIDE_TEST) == 200);
	o.test = 7;
	CHECK(ml_split(&t.b, &o, c, NULL, &e) == 0);
	CHECK(count(c, 1000, ML_SIDE_TEST) == 7);
	o.gap = 3;
	CHECK(ml_split(&t.b, &o, c, NULL, &e) == ML_E_USAGE);
	tab_release(&t);
}

static void test_stratified(void)
{
	struct tab t;
	struct ml_split_opts o;
	struct ml_split_info in;
	unsigned char side[100];
	size_t per[3] = {0, 0, 0}, i;
	struct ml_err e;

	/* 50 'a', 30 'b', 20 'c', interleaved. */
	tab_init(&t, 100);
	for (i = 0; i < 100; i++)
		set_cat(&t, i, i % 10 < 5 ? "a" : i % 10 < 8 ? "b" : "c");
	ml_split_opts_init(&o);
	ml_err_init(&e);
	o.mode = ML_SPLIT_STRATIFY;
	o.col = 0;
	o.test = 0.25;
	CHECK(ml_split(&t.b, &o, side, &in, &e) == 0);
	for (i = 0; i < 100; i++)
		if (side[i] == ML_SIDE_TEST)
			per[t.b.col[0].cat[i]]++;
	/* 12.5, 7.5, 5: the tie of remainders goes to the class seen first */
	CHECK(per[0] == 13 && per[1] == 7 && per[2] == 5);
	CHECK(in.nlabels == 3 && in.min_count == 20 && in.ntest == 25);
	o.test = 2;
	CHECK(ml_split(&t.b, &o, side, NULL, &e) == ML_E_DATA);
	CHECK(strcmp(e.msg, "2 test rows cannot hold one row of each of the 3 classes of 'c'") == 0);
	set_cat(&t, 99, "z");
	o.test = 0.25;
	CHECK(ml_split(&t.b, &o, side, NULL, &e) == ML_E_DATA);
	CHECK(strcmp(e.msg, "class 'z' of column 'c' has only 1 row; stratifying needs at least 2 "
			    "rows in every class") == 0);
	/* stratifying on a numeric column: its distinct values are the classes */
	for (i = 0; i < 100; i++)
		t.b.col[1].num[i] = (double)(i % 4);
	o.col = 1;
	CHECK(ml_split(&t.b, &o, side, &in, &e) == 0);
	CHECK(in.nlabels == 4 && in.ntest == 25);
	tab_release(&t);
}

static void test_group(void)
{
	struct tab t;
	struct ml_split_opts o;
	struct ml_split_info in;
	unsigned char side[200];
	struct ml_err e;
	size_t i, g;
	uint64_t seed;

	tab_init(&t, 200);
	/* groups of 1..19 rows and the rest */
	for (i = 0, g = 1; i < 200; g++) {
		size_t k;
		for (k = 0; k < g && i < 200; k++, i++)
			t.b.col[1].num[i] = (double)g;
	}
	ml_split_opts_init(&o);
	ml_err_init(&e);
	o.mode = ML_SPLIT_GROUP;
	o.col = 1;
	o.test = 0.2;
	for (seed = 0; seed < 20; seed++) {
		o.seed = seed;
		CHECK(ml_split(&t.b, &o, side, &in, &e) == 0);
		for (i = 1; i < 200; i++)
			if (t.b.col[1].num[i] == t.b.col[1].num[i - 1])
				CHECK(side[i] == side[i - 1]);
		/* small groups make the target reachable */
		CHECK(in.ntest == 40);
	}
	/* two groups of 3 and 5: a target of 1 still tests a group */
	t.b.nrow = 8;
	for (i = 0; i < 8; i++)
		t.b.col[1].num[i] = i < 3 ? 1 : 2;
	o.test = 1;
	CHECK(ml_split(&t.b, &o, side, &in, &e) == 0);
	CHECK(in.ntest == 3 && in.ntrain == 5);
	o.test = 7;
	CHECK(ml_split(&t.b, &o, side, &in, &e) == 0);
	CHECK(in.ntest == 5 && in.ntrain == 3);
	for (i = 0; i < 8; i++)
		t.b.col[1].num[i] = 4;
	CHECK(ml_split(&t.b, &o, side, &in, &e) == ML_E_DATA);
	CHECK(strcmp(e.msg, "column 'x' has a single group: it cannot be split") == 0);
	tab_release(&t);
}

static void test_time(void)
{
	struct tab t;
	struct ml_split_opts o;
	struct ml_split_info in;
	unsigned char side[10];
	struct ml_err e;
	double x[10] = {9, 0, 8, 1, 7, 2, 6, 3, 5, 4};
	size_t i;

	tab_init(&t, 10);
	for (i = 0; i < 10; i++)
		t.b.col[1].num[i] = x[i];
	ml_split_opts_init(&o);
	ml_err_init(&e);
	o.mode = ML_SPLIT_TIME;
	o.col = 1;
	o.test = 3;
	o.gap = 2;
	CHECK(ml_split(&t.b, &o, side, &in, &e) == 0);
	for (i = 0; i < 10; i++)
		CHECK(side[i] == (x[i] >= 7 ? ML_SIDE_TEST : x[i] >= 5 ? ML_SIDE_GAP : ML_SIDE_TRAIN));
	CHECK(in.ntest == 3 && in.ngap == 2 && in.ntrain == 5);
	o.gap = 6;
	CHECK(ml_split(&t.b, &o, side, NULL, &e) == 0);
	CHECK(count(side, 10, ML_SIDE_TRAIN) == 1);
	o.gap = 7;
	CHECK(ml_split(&t.b, &o, side, NULL, &e) == ML_E_DATA);
	CHECK(strcmp(e.msg, "no rows left to train on: 10 rows, 3 tested and a gap of 7") == 0);
	tab_release(&t);
}

static void test_key(void)
{
	struct tab t, h;
	struct ml_split_opts o;
	unsigned char all[500], part[250];
	int32_t fold[500];
	struct ml_err e;
	size_t i, k;
	char buf[32];

	tab_init(&t, 500);
	tab_init(&h, 250);
	for (i = 0; i < 500; i++) {
		snprintf(buf, sizeof buf, "id%zu", i);
		set_cat(&t, i, buf);
	}
	ml_split_opts_init(&o);
	ml_err_init(&e);
	o.mode = ML_SPLIT_KEY;
	o.col = 0;
	o.test = 0.3;
	CHECK(ml_split(&t.b, &o, all, NULL, &e) == 0);
	/* the second half alone, in reverse order, in a block with another dictionary */
	for (i = 0; i < 250; i++) {
		snprintf(buf, sizeof buf, "id%zu", 499 - i);
		set_cat(&h, i, buf);
	}
	CHECK(ml_split(&h.b, &o, part, NULL, &e) == 0);
	for (i = 0; i < 250; i++)
		CHECK(part[i] == all[499 - i]);
	for (i = 0; i < 500; i++)
		CHECK(all[i] == (ml_split_hash_unit(ml_split_key_hash(&t.b, 0, i, 42)) < 0.3));
	k = count(all, 500, ML_SIDE_TEST);
	CHECK(k > 110 && k < 190);
	o.test = 5;
	CHECK(ml_split(&t.b, &o, all, NULL, &e) == ML_E_USAGE);
	CHECK(ml_kfold(&t.b, &o, 4, fold, NULL, &e) == 0);
	for (i = 0; i < 500; i++)
		CHECK(fold[i] == 1 + ml_split_hash_fold(ml_split_key_hash(&t.b, 0, i, 42), 4));
	tab_release(&h);
	tab_release(&t);
}

static void test_kfold_random(void)
{
	struct tab t;
	struct ml_split_opts o;
	struct ml_split_info in;
	int32_t f[103], g[103];
	size_t cnt[6] = {0}, i;
	struct ml_err e;

	tab_init(&t, 103);
	ml_split_opts_init(&o);
	ml_err_init(&e);
	CHECK(ml_kfold(&t.b, &o, 5, f, &in, &e) == 0);
	for (i = 0; i < 103; i++) {
		CHECK(f[i] >= 1 && f[i] <= 5);
		if (f[i] >= 1 && f[i] <= 5)
			cnt[f[i]]++;
	}
	CHECK(cnt[1] == 21 && cnt[2] == 21 && cnt[3] == 21 && cnt[4] == 20 && cnt[5] == 20);
	CHECK(in.fold_min == 20 && in.fold_max == 21);
	CHECK(ml_kfold(&t.b, &o, 5, g, NULL, &e) == 0);
	CHECK(memcmp(f, g, sizeof f) == 0);
	CHECK(ml_kfold(&t.b, &o, 1, g, NULL, &e) == ML_E_USAGE);
	CHECK(ml_kfold(&t.b, &o, 104, g, NULL, &e) == ML_E_DATA);
	CHECK(strcmp(e.msg, "cannot make 104 folds from 103 rows") == 0);
	CHECK(ml_kfold(&t.b, &o, 103, g, &in, &e) == 0);
	CHECK(in.fold_min == 1 && in.fold_max == 1);
	t.b.nrow = 0;
	CHECK(ml_kfold(&t.b, &o, 2, g, NULL, &e) == ML_E_DATA);
	tab_release(&t);
}

static void test_kfold_stratified(void)
{
	struct tab t;
	struct ml_split_opts o;
	struct ml_split_info in;
	int32_t f[344];
	size_t c[3][6], i, j, k;
	struct ml_err e;

	/* penguins' species: 152, 68, 124, in blocks */
	tab_init(&t, 344);
	for (i = 0; i < 344; i++)
		set_cat(&t, i, i < 152 ? "Adelie" : i < 220 ? "Chinstrap" : "Gentoo");
	ml_split_opts_init(&o);
	ml_err_init(&e);
	o.mode = ML_SPLIT_STRATIFY;
	o.col = 0;
	CHECK(ml_kfold(&t.b, &o, 5, f, &in, &e) == 0);
	memset(c, 0, sizeof c);
	for (i = 0; i < 344; i++)
		c[t.b.col[0].cat[i]][f[i]]++;
	for (j = 0; j < 3; j++) {
		size_t lo = SIZE_MAX, hi = 0;
		for (k = 1; k <= 5; k++) {
			lo = c[j][k] < lo ? c[j][k] : lo;
			hi = c[j][k] > hi ? c[j][k] : hi;
		}
		CHECK(hi - lo <= 1);
	}
	CHECK(in.fold_min == 68 && in.fold_max == 69);
	CHECK(in.nlabels == 3 && in.min_count == 68);
	CHECK(ml_kfold(&t.b, &o, 200, f, NULL, &e) == ML_E_DATA);
	CHECK(strcmp(e.msg, "200 folds are more than the rows of any class of 'c' (at most 152)") ==
	      0);
	tab_release(&t);
}

static void test_kfold_group(void)
{
	struct tab t;
	struct ml_split_opts o;
	int32_t f[344];
	struct ml_err e;
	size_t i;

	tab_init(&t, 344);
	for (i = 0; i < 344; i++)
		set_cat(&t, i, i < 168 ? "Biscoe" : i < 292 ? "Dream" : "Torgersen");
	ml_split_opts_init(&o);
	ml_err_init(&e);
	o.mode = ML_SPLIT_GROUP;
	o.col = 0;
	CHECK(ml_kfold(&t.b, &o, 3, f, NULL, &e) == 0);
	CHECK(f[0] == 1 && f[200] == 2 && f[300] == 3);
	for (i = 0; i < 344; i++)
		CHECK(f[i] == (i < 168 ? 1 : i < 292 ? 2 : 3));
	CHECK(ml_kfold(&t.b, &o, 4, f, NULL, &e) == ML_E_DATA);
	CHECK(strcmp(e.msg, "cannot make 4 folds from the 3 groups of 'c'") == 0);
	/* 10 groups of 1 to 10 rows into 2 folds: 55 rows split 28/27 or so */
	{
		size_t cnt[3] = {0, 0, 0}, g, k;
		t.b.nrow = 55;
		for (i = 0, g = 1; g <= 10; g++)
			for (k = 0; k < g; k++, i++)
				t.b.col[1].num[i] = (double)g;
		o.col = 1;
		CHECK(ml_kfold(&t.b, &o, 2, f, NULL, &e) == 0);
		for (i = 0; i < 55; i++)
			cnt[f[i]]++;
		CHECK(cnt[1] + cnt[2] == 55);
		CHECK(cnt[1] >= 26 && cnt[1] <= 29);
		for (i = 1; i < 55; i++)
			if (t.b.col[1].num[i] == t.b.col[1].num[i - 1])
				CHECK(f[i] == f[i - 1]);
	}
	tab_release(&t);
}

static void test_kfold_time(void)
{
	struct tab t;
	struct ml_split_opts o;
	struct ml_split_info in;
	int32_t f[1461];
	size_t cnt[5] = {0}, i;
	struct ml_err e;

	tab_init(&t, 1461);
	for (i = 0; i < 1461; i++)
		t.b.col[1].num[i] = (double)((i * 7919) % 1461); /* a permutation of 0..1460 */
	ml_split_opts_init(&o);
	ml_err_init(&e);
	o.mode = ML_SPLIT_TIME;
	o.col = 1;
	CHECK(ml_kfold(&t.b, &o, 4, f, &in, &e) == 0);
	for (i = 0; i < 1461; i++) {
		double x = t.b.col[1].num[i];
		int want = x < 293 ? 0 : 1 + (int)((x - 293) / 292);
		CHECK(f[i] == want);
		if (f[i] >= 0 && f[i] <= 4)
			cnt[f[i]]++;
	}
	CHECK(cnt[0] == 293 && cnt[1] == 292 && cnt[4] == 292);
	CHECK(in.fold_min == 292 && in.fold_max == 292);
	t.b.nrow = 4;
	CHECK(ml_kfold(&t.b, &o, 4, f, NULL, &e) == ML_E_DATA);
	CHECK(strcmp(e.msg, "cannot cut 4 rows into 5 time chunks (4 folds)") == 0);
	t.b.nrow = 5;
	CHECK(ml_kfold(&t.b, &o, 4, f, NULL, &e) == 0);
	o.gap = 1;
	CHECK(ml_kfold(&t.b, &o, 4, f, NULL, &e) == ML_E_USAGE);
	tab_release(&t);
}

/* Many rows and classes: quick and exact. */
static void test_large(void)
{
	struct tab t;
	struct ml_split_opts o;
	struct ml_split_info in;
	size_t n = 300000, i;
	unsigned char *side = malloc(n);
	int32_t *f = malloc(n * sizeof(*f));
	struct ml_err e;

	if (!side || !f)
		abort();
	tab_init(&t, n);
	for (i = 0; i < n; i++)
		t.b.col[1].num[i] = (double)(i % 100000);
	ml_split_opts_init(&o);
	ml_err_init(&e);
	o.mode = ML_SPLIT_STRATIFY;
	o.col = 1;
	o.test = 0.3;
	/* 90000 test rows cannot hold the 100000 classes */
	CHECK(ml_split(&t.b, &o, side, &in, &e) == ML_E_DATA);
	o.test = 0.4;
	CHECK(ml_split(&t.b, &o, side, &in, &e) == 0);
	CHECK(in.ntest == 120000 && in.nlabels == 100000);
	o.mode = ML_SPLIT_GROUP;
	CHECK(ml_split(&t.b, &o, side, &in, &e) == 0);
	CHECK(in.ntest == 120000);
	CHECK(ml_kfold(&t.b, &o, 10, f, &in, &e) == 0);
	CHECK(in.fold_min == 30000 && in.fold_max == 30000);
	o.mode = ML_SPLIT_STRATIFY;
	CHECK(ml_kfold(&t.b, &o, 3, f, &in, &e) == 0);
	CHECK(in.fold_min == 100000 && in.fold_max == 100000);
	tab_release(&t);
	free(side);
	free(f);
}

int main(void)
{
	RUN(test_test_rows);
	RUN(test_hash);
	RUN(test_key_hash);
	RUN(test_labels);
	RUN(test_time_order);
	RUN(test_random);
	RUN(test_stratified);
	RUN(test_group);
	RUN(test_time);
	RUN(test_key);
	RUN(test_kfold_random);
	RUN(test_kfold_stratified);
	RUN(test_kfold_group);
	RUN(test_kfold_time);
	RUN(test_large);
	return UNIT_EXIT();
}
