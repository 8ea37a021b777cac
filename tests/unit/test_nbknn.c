/* Unit tests for -a nb and -a knn: scikit-learn fixtures (tests/fixtures/nbknn, made by
 * tests/fixtures/gen_nbknn.py), KD-tree against brute force, model round trips and
 * rejection of corrupted model sections. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml/learn.h"
#include "learn/algo.h"
#include "ml/ml.h"
#include "unit.h"

#define FIX "tests/fixtures/nbknn/"
#define TOL 1e-9

static struct ml_ctx ctx;

/* Fit algo on f; params is "name=value,name=value" or NULL. */
static struct ml_learner *fit(const char *algo, const struct ml_frame *f, const size_t *rows,
			      size_t nrows, const char *target, const char *ignore,
			      const char *weight, const char *params, struct ml_err *e)
{
	struct ml_train_spec spec;
	struct ml_learner *l = NULL;
	char buf[256], *s, *next;

	memset(&spec, 0, sizeof(spec));
	spec.target = target;
	spec.ignore = ignore;
	spec.weight = weight;
	ml_params_init(&spec.params, ml_algo_find(algo));
	ml_err_init(e);
	if (params) {
		snprintf(buf, sizeof(buf), "%s", params);
		for (s = buf; s; s = next) {
			char *eq = strchr(s, '=');
			next = strchr(s, ',');
			if (next)
				*next++ = 0;
			if (!eq)
				return NULL;
			*eq = 0;
			if (ml_params_set(&spec.params, s, eq + 1, e) < 0)
				return NULL;
		}
	}
	if (ml_learner_fit(&l, f, rows, nrows, NULL, 0, &spec, &ctx, e) < 0)
		return NULL;
	return l;
}

/* Scores every row of f: a malloc'd array of nrow * nout values. */
static double *predict(struct ml_learner *l, const struct ml_frame *f, int raw, int *nout)
{
	struct ml_err e;
	struct ml_predictor *pr;
	double *out;

	*nout = ml_learner_nout(l, raw ? ML_OUT_MARGIN : ML_OUT_VALUE);
	out = malloc((f->rows.nrow ? f->rows.nrow : 1) * (size_t)*nout * sizeof(double));
	ml_err_init(&e);
	pr = ml_predictor_new(l);
	if (!out || !pr || ml_predictor_bind(pr, &f->schema, &e) < 0 ||
	    ml_predictor_predict(pr, &f->rows, 0, f->rows.nrow, out, raw ? ML_OUT_MARGIN : ML_OUT_VALUE,
				 &e) < 0) {
		fprintf(stderr, "predict: %s\n", e.msg);
		ml_predictor_free(pr);
		free(out);
		return NULL;
	}
	ml_predictor_free(pr);
	return out;
}

/* Compare out with the expected file: a column per class named by the class (or "pred"
 * when there is one value per row). Returns the number of differences. */
static int compare(const char *what, struct ml_learner *l, const double *out, int nout,
		   const char *expect_file)
{
	struct ml_frame x;
	int k, bad = 0;
	size_t i;

	if (unit_read_frame(&x, FIX, expect_file, NULL) < 0)
		return 1;
	for (k = 0; k < nout; k++) {
		const char *name = nout == 1 ? "pred" : ml_learner_class(l, k);
		int c = ml_schema_find(&x.schema, name);
		if (c < 0 || x.schema.cols[c].type != ML_NUM) {
			fprintf(stderr, "%s: %s has no column '%s'\n", what, expect_file, name);
			bad++;
			continue;
		}
		for (i = 0; i < x.rows.nrow; i++) {
			double a = out[i * (size_t)nout + (size_t)k], b = x.rows.col[c].num[i];
			if (!(fabs(a - b) <= TOL * (1 + fabs(b)))) {
				if (bad < 5)
					fprintf(stderr,
						"%s: row %zu column '%s': %.17g, want %.17g\n",
						what, i, name, a, b);
				bad++;
			}
		}
	}
	ml_frame_release(&x);
	return bad;
}

/* Fit on train, score test, compare with expect. */
static int check_case(const char *algo, const char *train, const char *test, const char *expect,
		      const char *target, const char *ignore, const char *weight,
		      const char *params, int raw)
{
	struct ml_frame tr, te;
	struct ml_learner *l = NULL;
	struct ml_err e;
	double *out = NULL;
	int nout, bad = 1;
	char what[512];

	snprintf(what, sizeof(what), "%s %s %s", algo, expect, params ? params : "");
	if (unit_read_frame(&tr, FIX, train, NULL) < 0 || unit_read_frame(&te, FIX, test, NULL) < 0)
		goto out;
	l = fit(algo, &tr, NULL, 0, target, ignore, weight, params, &e);
	if (!l) {
		fprintf(stderr, "%s: fit: %s\n", what, e.msg);
		goto out;
	}
	out = predict(l, &te, raw, &nout);
	if (!out)
		goto out;
	bad = compare(what, l, out, nout, expect);
out:
	free(out);
	ml_learner_free(l);
	ml_frame_release(&tr);
	ml_frame_release(&te);
	return bad;
}

static void test_gnb_penguins(void)
{
	CHECK(check_case("nb", "penguins_train.csv", "penguins_test.csv", "penguins_gnb.csv",
			 "species", "island,sex", NULL, NULL, 0) == 0);
}

static void test_cnb_penguins(void)
{
	CHECK(check_case("nb", "penguins_train.csv", "penguins_test.csv", "penguins_cnb.csv",
			 "species", "bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g",
			 NULL, NULL, 0) == 0);
}

static void test_mixed_penguins(void)
{
	CHECK(check_case("nb", "penguins_train.csv", "penguins_test.csv", "penguins_mixed.csv",
			 "species", NULL, NULL, NULL, 0) == 0);
}

static void test_gnb_breast_cancer(void)
{
	CHECK(check_case("nb", "bc_train.csv", "bc_test.csv", "bc_gnb.csv", "target", NULL, NULL,
			 NULL, 0) == 0);
	CHECK(check_case("nb", "bc_train.csv", "bc_test.csv", "bc_gnb_raw.csv", "target", NULL,
			 NULL, NULL, 1) == 0);
	CHECK(check_case("nb", "bc_train.csv", "bc_test.csv", "bc_gnb_vs.csv", "target", NULL, NULL,
			 "var-smoothing=1e-3", 0) == 0);
}

static void test_cnb_weighted(void)
{
	CHECK(check_case("nb", "cat_train.csv", "cat_test.csv", "cat_cnb.csv", "y", "num1,w", NULL,
			 NULL, 0) == 0);
	CHECK(check_case("nb", "cat_train.csv", "cat_test.csv", "cat_cnb_w.csv", "y", "num1", "w",
			 "alpha=0.5", 0) == 0);
	CHECK(check_case("nb", "cat_train.csv", "cat_test.csv", "cat_mixed_w.csv", "y", NULL, "w",
			 "alpha=0.5", 0) == 0);
}

/* A table's numeric column c against the expected file's column named name, by row. */
static int table_matches(const struct ml_frame *t, int c, const struct ml_frame *x,
			 const char *name)
{
	int xc = ml_schema_find(&x->schema, name), bad = 0;
	size_t i;

	if (xc < 0 || t->rows.nrow != x->rows.nrow)
		return 0;
	for (i = 0; i < t->rows.nrow; i++)
		if (!(fabs(t->rows.col[c].num[i] - x->rows.col[xc].num[i]) <=
		      TOL * (1 + fabs(x->rows.col[xc].num[i]))))
			bad++;
	return bad == 0;
}

static void test_nb_tables(void)
{
	struct ml_frame tr, t, x;
	struct ml_learner *l;
	struct ml_err e;
	const char *const *names;
	int k;

	CHECK(unit_read_frame(&tr, FIX, "penguins_train.csv", NULL) == 0);
	l = fit("nb", &tr, NULL, 0, "species", "island,sex", NULL, NULL, &e);
	CHECK(l != NULL);
	if (!l) {
		ml_frame_release(&tr);
		return;
	}
	names = ml_learner_algo(l)->tables;
	CHECK(names && strcmp(names[0], "classes") == 0);
	ml_frame_init(&t);
	CHECK(ml_learner_table(l, "classes", &t, &e) == 0);
	CHECK(unit_read_frame(&x, FIX, "penguins_gnb_params.csv", NULL) == 0);
	CHECK(t.schema.ncol == 3 && strcmp(t.schema.cols[0].name, "class") == 0);
	CHECK(table_matches(&t, 1, &x, "prior"));
	CHECK(table_matches(&t, 2, &x, "count"));
	ml_frame_release(&x);
	ml_frame_release(&t);
	CHECK(unit_read_frame(&x, FIX, "penguins_gnb_theta.csv", NULL) == 0);
	ml_frame_init(&t);
	CHECK(ml_learner_table(l, "theta", &t, &e) == 0);
	CHECK(t.rows.nrow == 4 && t.schema.ncol == 4);
	for (k = 0; k < 3 && t.schema.ncol == 4; k++)
		CHECK(table_matches(&t, k + 1, &x, ml_learner_class(l, k)));
	CHECK(t.rows.nrow > 0 &&
	      strcmp(t.schema.cols[0].dict.str[t.rows.col[0].cat[0]], "bill_length_mm") == 0);
	ml_frame_release(&x);
	ml_frame_release(&t);
	CHECK(unit_read_frame(&x, FIX, "penguins_gnb_var.csv", NULL) == 0);
	ml_frame_init(&t);
	CHECK(ml_learner_table(l, "var", &t, &e) == 0);
	for (k = 0; k < 3 && t.schema.ncol == 4; k++)
		CHECK(table_matches(&t, k + 1, &x, ml_learner_class(l, k)));
	ml_frame_release(&x);
	ml_frame_release(&t);
	ml_frame_init(&t);
	CHECK(ml_learner_table(l, "nope", &t, &e) == ML_E_USAGE);
	ml_frame_release(&t);
	ml_learner_free(l);
	ml_frame_release(&tr);
}

/* A missing feature adds no term: the same as a model without that feature (whose
 * other parameters, and var-smoothing's epsilon, are the same here). */
static void test_nb_missing(void)
{
	struct ml_frame tr, te;
	struct ml_learner *a, *b;
	struct ml_err e;
	double *pa = NULL, *pb = NULL;
	int na = 0, nb = 0, c;
	size_t i;

	CHECK(unit_read_frame(&tr, FIX, "penguins_train.csv", NULL) == 0);
	CHECK(unit_read_frame(&te, FIX, "penguins_test.csv", NULL) == 0);
	a = fit("nb", &tr, NULL, 0, "species", "sex", NULL, NULL, &e);
	b = fit("nb", &tr, NULL, 0, "species", "sex,bill_length_mm,island", NULL, NULL, &e);
	CHECK(a && b);
	c = ml_schema_find(&te.schema, "bill_length_mm");
	for (i = 0; i < te.rows.nrow; i++)
		te.rows.col[c].num[i] = NAN;
	/* an unknown island scores as missing too */
	c = ml_schema_find(&te.schema, "island");
	CHECK(ml_dict_intern(&te.schema.cols[c].dict, "Atlantis", 8) >= 0);
	for (i = 0; i < te.rows.nrow; i++)
		te.rows.col[c].cat[i] =
		    i % 2 ? -1 : ml_dict_find(&te.schema.cols[c].dict, "Atlantis", 8);
	if (a && b) {
		pa = predict(a, &te, 0, &na);
		pb = predict(b, &te, 0, &nb);
	}
	CHECK(pa && pb && na == 3 && nb == 3);
	for (i = 0; pa && pb && i < te.rows.nrow * 3; i++)
		CHECK_NEAR(pa[i], pb[i], 1e-12);
	free(pa);
	free(pb);
	ml_learner_free(a);
	ml_learner_free(b);
	ml_frame_release(&tr);
	ml_frame_release(&te);
}

static const char *const searches[] = {"auto", "kdtree", "brute"};

/* One kNN fixture under every search method. */
static void knn_case(const char *data, const char *expect, const char *target, const char *ignore,
		     const char *params)
{
	char train[128], test[128], p[256];
	int s;

	snprintf(train, sizeof(train), "%s_train.csv", data);
	snprintf(test, sizeof(test), "%s_test.csv", data);
	for (s = 0; s < 3; s++) {
		snprintf(p, sizeof(p), "%s,search=%s", params, searches[s]);
		CHECK(check_case("knn", train, test, expect, target, ignore, NULL, p, 0) == 0);
	}
}

static void test_knn_penguins(void)
{
	knn_case("penguins", "penguins_knn_uniform.csv", "species", "island,sex", "k=5");
	knn_case("penguins", "penguins_knn_distance.csv", "species", "island,sex",
		 "k=7,weights=distance");
	knn_case("penguins", "penguins_knn_manhattan.csv", "species", "island,sex",
		 "k=5,weights=distance,metric=manhattan");
	knn_case("penguins", "penguins_knnreg_uniform.csv", "body_mass_g", "species,island,sex",
		 "k=5");
	knn_case("penguins", "penguins_knnreg_distance.csv", "body_mass_g", "species,island,sex",
		 "k=8,weights=distance");
}

static void test_knn_breast_cancer(void)
{
	knn_case("bc", "bc_knn_uniform.csv", "target", NULL, "k=5");
	knn_case("bc", "bc_knn_distance.csv", "target", NULL, "k=9,weights=distance");
	knn_case("bc", "bc_knnreg_distance.csv", "worst area", "target", "k=6,weights=distance");
}

static void test_knn_ties(void)
{
	knn_case("ties", "ties_knn_uniform.csv", "label", "value", "k=5");
	knn_case("ties", "ties_knn_distance.csv", "label", "value", "k=5,weights=distance");
	knn_case("ties", "ties_knn_manhattan.csv", "label", "value",
		 "k=6,weights=distance,metric=manhattan");
	knn_case("ties", "ties_knnreg_uniform.csv", "value", "label", "k=7");
	knn_case("ties", "ties_knnreg_distance.csv", "value", "label",
		 "k=4,weights=distance,metric=manhattan");
}

/* Raw binary kNN output is the probability of the second class. */
static void test_knn_raw(void)
{
	struct ml_frame tr, te;
	struct ml_learner *l;
	struct ml_err e;
	double *p = NULL, *r = NULL;
	int np = 0, nr = 0;
	size_t i;

	CHECK(unit_read_frame(&tr, FIX, "bc_train.csv", NULL) == 0);
	CHECK(unit_read_frame(&te, FIX, "bc_test.csv", NULL) == 0);
	l = fit("knn", &tr, NULL, 0, "target", NULL, NULL, "k=9,weights=distance", &e);
	CHECK(l != NULL);
	if (l) {
		p = predict(l, &te, 0, &np);
		r = predict(l, &te, 1, &nr);
	}
	CHECK(p && r && np == 2 && nr == 1);
	for (i = 0; p && r && i < te.rows.nrow; i++)
		CHECK(r[i] == p[2 * i + 1]);
	free(p);
	free(r);
	ml_learner_free(l);
	ml_frame_release(&tr);
	ml_frame_release(&te);
}

/* Random frames with integer features (many equal distances) and a unique random value
 * per row as the target. */
static uint64_t rs = 0x9E3779B97F4A7C15ULL;

static uint64_t next_rand(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

static void random_frame(struct ml_frame *f, size_t n, int p, int levels)
{
	char name[16];
	struct ml_err e;
	size_t i;
	int j;

	ml_frame_init(f);
	for (j = 0; j < p; j++) {
		snprintf(name, sizeof(name), "x%d", j + 1);
		ml_schema_add(&f->schema, name, ML_NUM);
	}
	ml_schema_add(&f->schema, "y", ML_NUM);
	ml_block_init(&f->rows, &f->schema, n, &e);
	for (i = 0; i < n; i++) {
		for (j = 0; j < p; j++)
			f->rows.col[j].num[i] = (double)(next_rand() % (uint64_t)levels) - 1;
		f->rows.col[p].num[i] = (double)(next_rand() >> 11) * 0x1p-53;
	}
	f->rows.nrow = n;
}

struct dpair {
	double d;
	size_t i;
};

static int cmp_dpair(const void *a, const void *b)
{
	const struct dpair *x = a, *y = b;
	if (x->d != y->d)
		return x->d < y->d ? -1 : 1;
	return (x->i > y->i) - (x->i < y->i);
}

/* KD-tree and brute force find the same neighbours as a sort by (distance, row). */
static void test_kd_vs_brute(void)
{
	static const int ps[] = {3, 20};
	static const char *const metrics[] = {"euclidean", "manhattan"};
	static const int ks[] = {1, 7};
	struct dpair *dp;
	size_t n = 3000, nq = 700;
	int pi, mi, ki;

	dp = malloc(n * sizeof(*dp));
	for (pi = 0; pi < 2; pi++) {
		struct ml_frame tr, te;
		int p = ps[pi];
		random_frame(&tr, n, p, p == 3 ? 5 : 3);
		random_frame(&te, nq, p, p == 3 ? 7 : 4);
		for (mi = 0; mi < 2; mi++)
			for (ki = 0; ki < 2; ki++) {
				struct ml_learner *a, *b;
				struct ml_err e;
				double *pa = NULL, *pb = NULL;
				char params[128];
				int na = 0, nb = 0, k = ks[ki], bad = 0;
				size_t q, i;
				snprintf(params, sizeof(params), "k=%d,metric=%s,search=kdtree", k,
					 metrics[mi]);
				a = fit("knn", &tr, NULL, 0, "y", NULL, NULL, params, &e);
				snprintf(params, sizeof(params), "k=%d,metric=%s,search=brute", k,
					 metrics[mi]);
				b = fit("knn", &tr, NULL, 0, "y", NULL, NULL, params, &e);
				CHECK(a && b);
				if (a && b) {
					pa = predict(a, &te, 0, &na);
					pb = predict(b, &te, 0, &nb);
				}
				CHECK(pa && pb && na == 1 && nb == 1);
				CHECK(pa && pb && memcmp(pa, pb, nq * sizeof(double)) == 0);
				for (q = 0; pa && q < nq; q++) {
					double s = 0;
					int j;
					for (i = 0; i < n; i++) {
						double d = 0;
						for (j = 0; j < p; j++) {
							double t = te.rows.col[j].num[q] -
								   tr.rows.col[j].num[i];
							d += mi == 0 ? t * t : fabs(t);
						}
						dp[i].d = d;
						dp[i].i = i;
					}
					qsort(dp, n, sizeof(*dp), cmp_dpair);
					for (i = 0; i < (size_t)k; i++)
						s += tr.rows.col[p].num[dp[i].i];
					if (s / k != pa[q])
						bad++;
				}
				CHECK(bad == 0);
				free(pa);
				free(pb);
				ml_learner_free(a);
				ml_learner_free(b);
			}
		ml_frame_release(&tr);
		ml_frame_release(&te);
	}
	free(dp);
}

/* Row weights multiply the votes; rows of weight 0 are left out. */
static void test_knn_weights(void)
{
	static const double x[] = {0, 1, 2, 3, 10, 1.2}, y[] = {1, 2, 3, 4, 100, 50},
			    w[] = {1, 1, 2, 1, 1, 0};
	struct ml_frame tr, te;
	struct ml_learner *l;
	struct ml_err e;
	double *out = NULL;
	int nout, i;

	ml_frame_init(&tr);
	ml_schema_add(&tr.schema, "x", ML_NUM);
	ml_schema_add(&tr.schema, "y", ML_NUM);
	ml_schema_add(&tr.schema, "w", ML_NUM);
	ml_block_init(&tr.rows, &tr.schema, 6, &e);
	for (i = 0; i < 6; i++) {
		tr.rows.col[0].num[i] = x[i];
		tr.rows.col[1].num[i] = y[i];
		tr.rows.col[2].num[i] = w[i];
	}
	tr.rows.nrow = 6;
	ml_frame_init(&te);
	ml_schema_add(&te.schema, "x", ML_NUM);
	ml_block_init(&te.rows, &te.schema, 1, &e);
	te.rows.col[0].num[0] = 1.2;
	te.rows.nrow = 1;
	l = fit("knn", &tr, NULL, 0, "y", NULL, "w", "k=3", &e);
	CHECK(l != NULL);
	if (l && (out = predict(l, &te, 0, &nout)))
		CHECK_NEAR(out[0], (2.0 + 2 * 3.0 + 1.0) / 4, 1e-15);
	free(out);
	out = NULL;
	ml_learner_free(l);
	l = fit("knn", &tr, NULL, 0, "y", NULL, "w", "k=3,weights=distance", &e);
	CHECK(l != NULL);
	if (l && (out = predict(l, &te, 0, &nout))) {
		double a = 1 / (1.2 - 1), b = 2 / (2 - 1.2), c = 1 / 1.2;
		CHECK_NEAR(out[0], (2 * a + 3 * b + 1 * c) / (a + b + c), 1e-12);
	}
	free(out);
	ml_learner_free(l);
	/* five rows with weight above 0 */
	l = fit("knn", &tr, NULL, 0, "y", NULL, "w", "k=6", &e);
	CHECK(l == NULL && e.code == ML_E_DATA);
	CHECK(strstr(e.msg, "--k 6 is more than the 5 training rows") != NULL);
	ml_frame_release(&tr);
	ml_frame_release(&te);
}

/* Save, serialise, load, score: the same bits. */
static void roundtrip(const char *algo, const char *data, const char *target, const char *ignore,
		      const char *weight, const char *params, int raw)
{
	struct ml_frame tr, te;
	struct ml_learner *l, *l2 = NULL;
	struct ml_model *m = NULL, *m2 = NULL;
	struct ml_err e;
	unsigned char *buf = NULL;
	size_t len = 0;
	double *a = NULL, *b = NULL;
	int na = 0, nb = 0;
	char train[128], test[128];

	snprintf(train, sizeof(train), "%s_train.csv", data);
	snprintf(test, sizeof(test), "%s_test.csv", data);
	CHECK(unit_read_frame(&tr, FIX, train, NULL) == 0);
	CHECK(unit_read_frame(&te, FIX, test, NULL) == 0);
	l = fit(algo, &tr, NULL, 0, target, ignore, weight, params, &e);
	CHECK(l != NULL);
	if (l && ml_learner_to_model(l, &m, &e) == 0 && ml_model_to_mem(m, &buf, &len, &e) == 0 &&
	    (m2 = ml_model_from_mem(buf, len, "mem", &e)))
		l2 = ml_learner_from_model(m2, &e);
	CHECK(l2 != NULL);
	if (l2) {
		a = predict(l, &te, raw, &na);
		b = predict(l2, &te, raw, &nb);
	}
	CHECK(a && b && na == nb && memcmp(a, b, te.rows.nrow * (size_t)na * sizeof(double)) == 0);
	free(a);
	free(b);
	free(buf);
	ml_model_free(m);
	ml_model_free(m2);
	ml_learner_free(l);
	ml_learner_free(l2);
	ml_frame_release(&tr);
	ml_frame_release(&te);
}

static void test_roundtrip(void)
{
	roundtrip("nb", "penguins", "species", NULL, NULL, NULL, 0);
	roundtrip("nb", "penguins", "species", NULL, NULL, "alpha=0.3", 1);
	roundtrip("nb", "cat", "y", NULL, "w", "alpha=0.5", 0);
	roundtrip("nb", "bc", "target", NULL, NULL, NULL, 1);
	roundtrip("knn", "penguins", "species", "island,sex", NULL, "k=7,weights=distance", 0);
	roundtrip("knn", "penguins", "species", NULL, NULL, "k=3,metric=manhattan", 0);
	roundtrip("knn", "bc", "target", NULL, NULL, "k=5", 0);
	roundtrip("knn", "bc", "worst area", "target", NULL, "k=4,search=kdtree", 0);
	roundtrip("knn", "cat", "y", NULL, "w", "k=5,weights=distance,search=brute", 0);
	roundtrip("knn", "cat", "num1", "y", "w", "k=5,metric=manhattan,search=brute", 0);
}

/* A copy of src with section sec changed by edit (NULL: left out). */
typedef size_t (*edit_fn)(unsigned char *p, size_t len);

static struct ml_model *rebuild(const struct ml_model *src, const char *sec, edit_fn edit)
{
	struct ml_model *m = ml_model_new(ml_model_kind(src), ml_model_algorithm(src));
	const cJSON *it;
	int i;

	cJSON_ArrayForEach(it, ml_model_meta_const(src))
	{
		cJSON_DeleteItemFromObjectCaseSensitive(ml_model_meta(m), it->string);
		cJSON_AddItemToObject(ml_model_meta(m), it->string, cJSON_Duplicate(it, 1));
	}
	for (i = 0; i < ml_model_nsections(src); i++) {
		const char *name = ml_model_section_name(src, i);
		const void *data;
		size_t len;
		struct ml_err e;
		ml_model_get(src, name, &data, &len, &e);
		if (strcmp(name, sec) == 0) {
			unsigned char *c;
			if (!edit)
				continue;
			c = malloc(len + 64);
			memcpy(c, data, len);
			memset(c + len, 0, 64);
			len = edit(c, len);
			ml_model_add(m, name, c, len, &e);
			free(c);
		} else {
			ml_model_add(m, name, data, len, &e);
		}
	}
	return m;
}

static void put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static void put_f64(unsigned char *p, double v)
{
	uint64_t u;
	int i;
	memcpy(&u, &v, 8);
	for (i = 0; i < 8; i++)
		p[i] = (unsigned char)(u >> (8 * i));
}

static size_t ed_same(unsigned char *p, size_t n)
{
	(void)p;
	return n;
}
static size_t ed_cut1(unsigned char *p, size_t n)
{
	(void)p;
	return n - 1;
}
static size_t ed_cut8(unsigned char *p, size_t n)
{
	(void)p;
	return n - 8;
}
static size_t ed_add8(unsigned char *p, size_t n)
{
	(void)p;
	return n + 8;
}
static size_t ed_empty(unsigned char *p, size_t n)
{
	(void)p;
	(void)n;
	return 0;
}
static size_t ed_version(unsigned char *p, size_t n)
{
	put_u32(p, 99);
	return n;
}
/* knn header: version 0, rows 4, p 12, nclass 16, k 20, weights 24, metric 25, search 26,
 * has_weights 27 */
static size_t ed_rows(unsigned char *p, size_t n)
{
	p[4]++;
	return n;
}
static size_t ed_rows_huge(unsigned char *p, size_t n)
{
	p[11] = 0x7f;
	return n;
}
static size_t ed_p(unsigned char *p, size_t n)
{
	p[12]++;
	return n;
}
static size_t ed_nclass(unsigned char *p, size_t n)
{
	p[16]++;
	return n;
}
static size_t ed_k0(unsigned char *p, size_t n)
{
	put_u32(p + 20, 0);
	return n;
}
static size_t ed_kbig(unsigned char *p, size_t n)
{
	put_u32(p + 20, 1000000);
	return n;
}
static size_t ed_weights(unsigned char *p, size_t n)
{
	p[24] = 2;
	return n;
}
static size_t ed_metric(unsigned char *p, size_t n)
{
	p[25] = 9;
	return n;
}
static size_t ed_search(unsigned char *p, size_t n)
{
	p[26] = 0;
	return n;
}
static size_t ed_hasw(unsigned char *p, size_t n)
{
	p[27] = 1;
	return n;
}
static size_t ed_nan(unsigned char *p, size_t n)
{
	put_f64(p + 16, NAN);
	return n;
}
static size_t ed_inf(unsigned char *p, size_t n)
{
	put_f64(p + n - 8, INFINITY);
	return n;
}
static size_t ed_class(unsigned char *p, size_t n)
{
	put_f64(p + 8, 3);
	return n;
}
static size_t ed_half(unsigned char *p, size_t n)
{
	put_f64(p, 0.5);
	return n;
}
static size_t ed_neg(unsigned char *p, size_t n)
{
	put_f64(p, -1);
	return n;
}
/* nb: version 0, p 4, nclass 8, alpha 12, var_smoothing 20, epsilon 28, counts 36 */
static size_t ed_nb_p(unsigned char *p, size_t n)
{
	p[4]++;
	return n;
}
static size_t ed_nb_alpha(unsigned char *p, size_t n)
{
	put_f64(p + 12, -1);
	return n;
}
static size_t ed_nb_count(unsigned char *p, size_t n)
{
	put_f64(p + 36, NAN);
	return n;
}
static size_t ed_nb_ncat(unsigned char *p, size_t n)
{
	p[36 + 3 * 8]++;
	return n;
}
/* last value of a penguins mixed model: a categorical count (sex, last class, last level) */
static size_t ed_nb_last(unsigned char *p, size_t n)
{
	put_f64(p + n - 8, -2);
	return n;
}

struct corruption {
	const char *sec;
	edit_fn edit;
};

static void expect_rejected(const struct ml_model *m, const struct corruption *c, size_t nc)
{
	size_t i;

	for (i = 0; i < nc; i++) {
		struct ml_model *bad = rebuild(m, c[i].sec, c[i].edit);
		struct ml_err e;
		struct ml_learner *l;
		ml_err_init(&e);
		l = ml_learner_from_model(bad, &e);
		if (l || e.code != ML_E_DATA)
			fprintf(stderr, "corruption %zu of '%s' accepted (%s)\n", i, c[i].sec,
				e.msg);
		CHECK(l == NULL && e.code == ML_E_DATA);
		ml_learner_free(l);
		ml_model_free(bad);
	}
}

static void test_corrupt(void)
{
	static const struct corruption knn_bad[] = {
	    {"algo.knn", NULL},	      {"algo.knn.X", NULL},	{"algo.knn.y", NULL},
	    {"algo.knn", ed_cut1},    {"algo.knn", ed_add8},	{"algo.knn", ed_empty},
	    {"algo.knn", ed_version}, {"algo.knn", ed_rows},	{"algo.knn", ed_rows_huge},
	    {"algo.knn", ed_p},	      {"algo.knn", ed_nclass},	{"algo.knn", ed_k0},
	    {"algo.knn", ed_kbig},    {"algo.knn", ed_weights}, {"algo.knn", ed_metric},
	    {"algo.knn", ed_search},  {"algo.knn", ed_hasw},	{"algo.knn.X", ed_cut8},
	    {"algo.knn.X", ed_add8},  {"algo.knn.X", ed_cut1},	{"algo.knn.X", ed_nan},
	    {"algo.knn.X", ed_inf},   {"algo.knn.y", ed_class}, {"algo.knn.y", ed_half},
	    {"algo.knn.y", ed_neg},   {"algo.knn.y", ed_cut8},	{"algo.knn.y", ed_empty},
	};
	static const struct corruption knnw_bad[] = {
	    {"algo.knn.w", NULL},    {"algo.knn.w", ed_neg},  {"algo.knn.w", ed_nan},
	    {"algo.knn.w", ed_cut8}, {"algo.knn.w", ed_add8},
	};
	static const struct corruption nb_bad[] = {
	    {"algo.nb", NULL},	     {"algo.nb", ed_cut1},     {"algo.nb", ed_cut8},
	    {"algo.nb", ed_add8},    {"algo.nb", ed_empty},    {"algo.nb", ed_version},
	    {"algo.nb", ed_nb_p},    {"algo.nb", ed_nb_alpha}, {"algo.nb", ed_nb_count},
	    {"algo.nb", ed_nb_ncat}, {"algo.nb", ed_nb_last},
	};
	struct ml_frame tr;
	struct ml_learner *l, *ok;
	struct ml_model *m = NULL, *same;
	struct ml_err e;

	CHECK(unit_read_frame(&tr, FIX, "penguins_train.csv", NULL) == 0);
	l = fit("knn", &tr, NULL, 0, "species", "island,sex", NULL, "k=5", &e);
	CHECK(l && ml_learner_to_model(l, &m, &e) == 0);
	if (m) {
		same = rebuild(m, "algo.knn", ed_same);
		ok = ml_learner_from_model(same, &e);
		CHECK(ok != NULL);
		ml_learner_free(ok);
		ml_model_free(same);
		expect_rejected(m, knn_bad, sizeof(knn_bad) / sizeof(knn_bad[0]));
	}
	ml_model_free(m);
	m = NULL;
	ml_learner_free(l);
	ml_frame_release(&tr);

	CHECK(unit_read_frame(&tr, FIX, "cat_train.csv", NULL) == 0);
	l = fit("knn", &tr, NULL, 0, "y", NULL, "w", "k=5", &e);
	CHECK(l && ml_learner_to_model(l, &m, &e) == 0);
	if (m)
		expect_rejected(m, knnw_bad, sizeof(knnw_bad) / sizeof(knnw_bad[0]));
	ml_model_free(m);
	m = NULL;
	ml_learner_free(l);
	ml_frame_release(&tr);

	CHECK(unit_read_frame(&tr, FIX, "penguins_train.csv", NULL) == 0);
	l = fit("nb", &tr, NULL, 0, "species", NULL, NULL, NULL, &e);
	CHECK(l && ml_learner_to_model(l, &m, &e) == 0);
	if (m) {
		same = rebuild(m, "algo.nb", ed_same);
		ok = ml_learner_from_model(same, &e);
		CHECK(ok != NULL);
		ml_learner_free(ok);
		ml_model_free(same);
		expect_rejected(m, nb_bad, sizeof(nb_bad) / sizeof(nb_bad[0]));
	}
	ml_model_free(m);
	ml_learner_free(l);
	ml_frame_release(&tr);
}

static void test_params(void)
{
	struct ml_params p;
	struct ml_err e;
	struct ml_frame f;
	struct ml_learner *l;

	ml_params_init(&p, ml_algo_find("knn"));
	CHECK(ml_param(&p, "k") == 5);
	CHECK(ml_params_set(&p, "k", "0", &e) == ML_E_USAGE);
	CHECK(ml_params_set(&p, "weights", "gaussian", &e) == ML_E_USAGE);
	CHECK(ml_params_set(&p, "metric", "manhattan", &e) == 0 && ml_param(&p, "metric") == 1);
	CHECK(ml_params_set(&p, "alpha", "1", &e) == ML_E_USAGE);
	ml_params_init(&p, ml_algo_find("nb"));
	CHECK(ml_param(&p, "var-smoothing") == 1e-9 && ml_param(&p, "alpha") == 1);
	CHECK(ml_params_set(&p, "alpha", "-1", &e) == ML_E_USAGE);
	CHECK(ml_params_set(&p, "k", "3", &e) == ML_E_USAGE);
	CHECK(ml_algo_find("nb")->flags & ML_ALGO_NATIVE_CAT);
	CHECK(!(ml_algo_find("knn")->flags & ML_ALGO_MISSING));

	/* knn takes no missing values; nb does; nb does not regress */
	CHECK(unit_read_frame(&f, NULL, "samples/penguins.csv", NULL) == 0);
	l = fit("knn", &f, NULL, 0, "species", NULL, NULL, NULL, &e);
	CHECK(l == NULL && e.code == ML_E_DATA && strstr(e.msg, "missing value") != NULL);
	l = fit("nb", &f, NULL, 0, "species", NULL, NULL, NULL, &e);
	CHECK(l != NULL);
	ml_learner_free(l);
	ml_frame_release(&f);
	CHECK(unit_read_frame(&f, FIX, "bc_train.csv", NULL) == 0);
	l = fit("nb", &f, NULL, 0, "worst area", NULL, NULL, NULL, &e);
	CHECK(l == NULL && e.code == ML_E_USAGE);
	ml_frame_release(&f);
}

int main(void)
{
	struct ml_err e;

	if (ml_ctx_init(&ctx, 2, 1, &e) < 0)
		return 1;
	RUN(test_gnb_penguins);
	RUN(test_cnb_penguins);
	RUN(test_mixed_penguins);
	RUN(test_gnb_breast_cancer);
	RUN(test_cnb_weighted);
	RUN(test_nb_tables);
	RUN(test_nb_missing);
	RUN(test_knn_penguins);
	RUN(test_knn_breast_cancer);
	RUN(test_knn_ties);
	RUN(test_knn_raw);
	RUN(test_kd_vs_brute);
	RUN(test_knn_weights);
	RUN(test_roundtrip);
	RUN(test_corrupt);
	RUN(test_params);
	ml_ctx_release(&ctx);
	return UNIT_EXIT();
}
