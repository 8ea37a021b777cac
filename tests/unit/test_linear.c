/* Unit tests for the linear family and logistic regression: coefficients and predictions
 * against scikit-learn (tests/fixtures/gen_linear.py), model round trips, results that do
 * not depend on the thread count, rank-deficient least squares, damaged model sections. */
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cblas.h>

#include "ml/ml.h"
#include "ml/learn.h"
#include "learn/algo.h"
#include "unit.h"

#define FIX "tests/fixtures/linear/"

/* The string in a categorical cell, or NULL when missing. */
static const char *cell_str(const struct ml_frame *f, int col, size_t row)
{
	int32_t c;

	if (col < 0 || f->schema.cols[col].type != ML_CAT)
		return NULL;
	c = f->rows.col[col].cat[row];
	return c < 0 ? NULL : f->schema.cols[col].dict.str[c];
}

static double cell_num(const struct ml_frame *f, int col, size_t row)
{
	return f->schema.cols[col].type == ML_NUM ? f->rows.col[col].num[row] : NAN;
}

/* Fit algo on f with "name=value ..." parameters. */
static struct ml_learner *fit(const struct ml_frame *f, const char *target, const char *weight,
			      const char *ignore, const char *algo, const char *params, int threads,
			      struct ml_err *e)
{
	struct ml_train_spec spec;
	struct ml_ctx ctx;
	struct ml_learner *l = NULL;
	char buf[512], *s, *next;

	memset(&spec, 0, sizeof(spec));
	spec.target = target;
	spec.weight = weight;
	spec.ignore = ignore;
	ml_err_init(e);
	ml_params_init(&spec.params, ml_algo_find(algo));
	if (!spec.params.algo) {
		fprintf(stderr, "no algorithm '%s'\n", algo);
		return NULL;
	}
	snprintf(buf, sizeof(buf), "%s", params ? params : "");
	for (s = buf; *s; s = next) {
		char *eq;
		next = strchr(s, ' ');
		if (next)
			*next++ = 0;
		else
			next = s + strlen(s);
		if (!*s)
			continue;
		if (!(eq = strchr(s, '=')))
			return NULL;
		*eq = 0;
		if (ml_params_set(&spec.params, s, eq + 1, e) < 0) {
			fprintf(stderr, "%s\n", e->msg);
			return NULL;
		}
	}
	if (ml_ctx_init(&ctx, threads, 1, e) < 0)
		return NULL;
	if (ml_learner_fit(&l, f, NULL, 0, NULL, 0, &spec, &ctx, e) < 0) {
		fprintf(stderr, "fit %s: %s\n", algo, e->msg);
		l = NULL;
	}
	ml_ctx_release(&ctx);
	return l;
}

/* Predictions (nout per row) for every row of f; malloc'd. */
static double *predict_all(struct ml_learner *l, const struct ml_frame *f, int raw)
{
	struct ml_err e;
	struct ml_predictor *pr;
	size_t n = f->rows.nrow;
	double *out = malloc((n ? n : 1) * (size_t)ml_learner_nout(l, raw ? ML_OUT_MARGIN : ML_OUT_VALUE) * sizeof(double));

	ml_err_init(&e);
	pr = ml_predictor_new(l);
	if (!out || !pr || ml_predictor_bind(pr, &f->schema, &e) < 0 ||
	    ml_predictor_predict(pr, &f->rows, 0, n, out, raw ? ML_OUT_MARGIN : ML_OUT_VALUE,
				 &e) < 0) {
		fprintf(stderr, "predict: %s\n", e.msg);
		ml_predictor_free(pr);
		free(out);
		return NULL;
	}
	ml_predictor_free(pr);
	return out;
}

/* The coefficient table as a frame. */
static int coef_table(const struct ml_learner *l, struct ml_frame *t)
{
	struct ml_err e;

	ml_frame_init(t);
	ml_err_init(&e);
	if (ml_learner_table(l, "coef", t, &e) < 0) {
		fprintf(stderr, "table: %s\n", e.msg);
		return -1;
	}
	return 0;
}

/* One line of cases.csv: fit and compare coefficients and predictions. */
static void check_case(const struct ml_frame *cases, size_t r)
{
	const char *name = cell_str(cases, 0, r), *data = cell_str(cases, 1, r);
	const char *target = cell_str(cases, 2, r), *weight = cell_str(cases, 3, r);
	const char *algo = cell_str(cases, 4, r), *params = cell_str(cases, 5, r);
	double rtol = cell_num(cases, 6, r), *pred = NULL;
	struct ml_frame f, want, wpred, got;
	struct ml_learner *l = NULL;
	struct ml_err e;
	char path[512];
	int before = unit_checks_failed, c, nout;
	size_t i;

	ml_frame_init(&want);
	ml_frame_init(&wpred);
	ml_frame_init(&got);
	snprintf(path, sizeof(path), FIX "%s.csv", data);
	if (unit_read_frame(&f, NULL, path, NULL) < 0) {
		CHECK(0);
		return;
	}
	snprintf(path, sizeof(path), FIX "%s.coef.csv", name);
	CHECK(unit_read_frame(&want, NULL, path, NULL) == 0);
	snprintf(path, sizeof(path), FIX "%s.pred.csv", name);
	CHECK(unit_read_frame(&wpred, NULL, path, NULL) == 0);
	l = fit(&f, target, weight, NULL, algo, params, 1, &e);
	CHECK(l != NULL);
	if (!l || unit_checks_failed != before)
		goto out;
	/* Coefficients, row by row and feature by feature. */
	CHECK(coef_table(l, &got) == 0);
	CHECK(got.schema.ncol == want.schema.ncol && got.rows.nrow == want.rows.nrow);
	if (unit_checks_failed != before)
		goto out;
	for (c = 0; c < got.schema.ncol; c++)
		CHECK(strcmp(got.schema.cols[c].name, want.schema.cols[c].name) == 0);
	for (i = 0; i < got.rows.nrow; i++) {
		CHECK(strcmp(cell_str(&got, 0, i), cell_str(&want, 0, i)) == 0);
		for (c = 1; c < got.schema.ncol; c++)
			CHECK_NEAR(cell_num(&got, c, i), cell_num(&want, c, i), rtol);
	}
	/* Predictions on the training rows. */
	nout = ml_learner_nout(l, ML_OUT_VALUE);
	CHECK(nout == wpred.schema.ncol && wpred.rows.nrow == f.rows.nrow);
	pred = predict_all(l, &f, 0);
	CHECK(pred != NULL);
	if (pred && nout == wpred.schema.ncol)
		for (i = 0; i < f.rows.nrow; i++)
			for (c = 0; c < nout; c++)
				CHECK_NEAR(pred[i * (size_t)nout + (size_t)c],
					   cell_num(&wpred, c, i), rtol);
out:
	if (unit_checks_failed != before)
		fprintf(stderr, "  in case '%s' (-a %s %s)\n", name, algo, params ? params : "");
	free(pred);
	ml_learner_free(l);
	ml_frame_release(&f);
	ml_frame_release(&want);
	ml_frame_release(&wpred);
	ml_frame_release(&got);
}

static void test_sklearn_fixtures(void)
{
	struct ml_frame cases;
	size_t r;

	if (unit_read_frame(&cases, FIX, "cases.csv", NULL) < 0) {
		CHECK(0);
		return;
	}
	CHECK(cases.rows.nrow >= 30);
	CHECK(strcmp(cases.schema.cols[6].name, "rtol") == 0);
	for (r = 0; r < cases.rows.nrow; r++)
		check_case(&cases, r);
	ml_frame_release(&cases);
}

/* A deterministic table: n rows of p numeric features x1.., a binary target yb, a
 * three-class target ym, a regression target yr, and weights w. */
static uint64_t lcg;

static double unif(void)
{
	lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
	return (double)(lcg >> 11) / 9007199254740992.0;
}

static int make_frame(struct ml_frame *f, size_t n, int p, uint64_t seed)
{
	struct ml_err e;
	char name[32];
	int j, cb, cm, cr, cw;
	size_t i;

	lcg = seed;
	ml_frame_init(f);
	ml_err_init(&e);
	for (j = 0; j < p; j++) {
		snprintf(name, sizeof(name), "x%d", j + 1);
		if (ml_schema_add(&f->schema, name, ML_NUM) < 0)
			return -1;
	}
	cb = ml_schema_add(&f->schema, "yb", ML_CAT);
	cm = ml_schema_add(&f->schema, "ym", ML_CAT);
	cr = ml_schema_add(&f->schema, "yr", ML_NUM);
	cw = ml_schema_add(&f->schema, "w", ML_NUM);
	if (cb < 0 || cm < 0 || cr < 0 || cw < 0 ||
	    ml_dict_intern(&f->schema.cols[cb].dict, "no", 2) != 0 ||
	    ml_dict_intern(&f->schema.cols[cb].dict, "yes", 3) != 1 ||
	    ml_dict_intern(&f->schema.cols[cm].dict, "a", 1) != 0 ||
	    ml_dict_intern(&f->schema.cols[cm].dict, "b", 1) != 1 ||
	    ml_dict_intern(&f->schema.cols[cm].dict, "c", 1) != 2 ||
	    ml_block_init(&f->rows, &f->schema, n, &e) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		double z1 = 0, z2 = 0;
		for (j = 0; j < p; j++) {
			double x = (unif() - 0.5) * (1 + j % 5);
			f->rows.col[j].num[i] = x;
			z1 += x * ((j % 3) - 1) * 0.3;
			z2 += x * ((j % 4) - 1.5) * 0.2;
		}
		f->rows.col[cb].cat[i] = z1 + unif() - 0.5 > 0;
		f->rows.col[cm].cat[i] = z1 + unif() > 0.5 ? 0 : z2 + unif() > 0.5 ? 1 : 2;
		f->rows.col[cr].num[i] = z1 + z2 + unif();
		f->rows.col[cw].num[i] = 0.5 + unif();
	}
	f->rows.nrow = n;
	return 0;
}

/* The coefficients of a fit: every number of the table, malloc'd, and their count. */
static double *coefs(const struct ml_learner *l, size_t *cnt)
{
	struct ml_frame t;
	double *v;
	size_t i, k = 0;
	int c;

	*cnt = 0;
	if (coef_table(l, &t) < 0)
		return NULL;
	v = malloc(t.rows.nrow * (size_t)t.schema.ncol * sizeof(double));
	for (i = 0; v && i < t.rows.nrow; i++)
		for (c = 1; c < t.schema.ncol; c++)
			v[k++] = t.rows.col[c].num[i];
	*cnt = k;
	ml_frame_release(&t);
	return v;
}

static int same_fit(const struct ml_frame *f, const char *target, const char *weight,
		    const char *ignore, const char *algo, const char *params)
{
	struct ml_err e;
	struct ml_learner *a = fit(f, target, weight, ignore, algo, params, 1, &e);
	struct ml_learner *b = fit(f, target, weight, ignore, algo, params, 2, &e);
	size_t na = 0, nb = 0;
	double *ca = a ? coefs(a, &na) : NULL, *cb = b ? coefs(b, &nb) : NULL;
	int same = ca && cb && na == nb && na > 0 && memcmp(ca, cb, na * sizeof(double)) == 0;

	if (!same)
		fprintf(stderr, "-a %s %s on '%s': 1 and 2 threads differ\n", algo, params, target);
	free(ca);
	free(cb);
	ml_learner_free(a);
	ml_learner_free(b);
	return same;
}

static void test_threads(void)
{
	struct ml_frame f, g;

	/* Several tasks of rows; the Hessian formed (few features) and Hessian-free (many). */
	CHECK(make_frame(&f, 40000, 12, 7) == 0);
	CHECK(same_fit(&f, "yb", NULL, "ym,yr", "logistic", ""));
	CHECK(same_fit(&f, "yb", "w", "ym,yr", "logistic", "c=0.1"));
	CHECK(same_fit(&f, "ym", "w", "yb,yr", "logistic", ""));
	CHECK(same_fit(&f, "ym", NULL, "yb,yr", "logistic", "penalty=l1 c=0.01"));
	CHECK(same_fit(&f, "yr", "w", "yb,ym", "linear", ""));
	CHECK(same_fit(&f, "yr", NULL, "yb,ym", "ridge", ""));
	CHECK(same_fit(&f, "yr", "w", "yb,ym", "lasso", "l1=0.01"));
	CHECK(same_fit(&f, "yr", NULL, "yb,ym", "elasticnet", "alpha=0.01"));
	ml_frame_release(&f);
	CHECK(make_frame(&g, 36000, 130, 11) == 0);
	CHECK(same_fit(&g, "yb", "w", "ym,yr", "logistic", ""));
	CHECK(same_fit(&g, "ym", NULL, "yb,yr", "logistic", "c=0.5"));
	ml_frame_release(&g);
}

/* The gradient of C * sum(w * log-loss) + ||W||^2 / 2 at a fit, from its margins, relative
 * to the gradient at zero: the Hessian-free solver (used from m * (vectors + 1) > 256)
 * must reach the same optimum as the others. */
static double rel_gradient(struct ml_learner *l, const struct ml_frame *f, const char *target,
			   const char *weight, int p, double C)
{
	int k = ml_learner_nclass(l), nk = k == 2 ? 1 : k, c, j;
	size_t n = f->rows.nrow, i, m = (size_t)p + 1;
	double *z = predict_all(l, f, 1), *y = malloc(n * sizeof(double)), *coef, *g, *g0;
	int wcol = weight ? ml_schema_find(&f->schema, weight) : -1, tc;
	size_t cnt;
	double gn = 0, g0n = 0;
	struct ml_err e;

	g = calloc(m * (size_t)nk, sizeof(double));
	g0 = calloc(m * (size_t)nk, sizeof(double));
	coef = coefs(l, &cnt);
	tc = ml_schema_find(&f->schema, target);
	if (!z || !y || !g || !g0 || !coef || cnt != m * (size_t)nk || tc < 0 ||
	    ml_learner_target_codes(l, f, NULL, n, y, &e) < 0) {
		gn = 1e300;
		goto out;
	}
	for (i = 0; i < n; i++) {
		double w = C * (wcol >= 0 ? f->rows.col[wcol].num[i] : 1), pr[16], s = 0, zmax;
		if (nk == 1) {
			pr[0] = 1 / (1 + exp(-z[i]));
		} else {
			zmax = z[i * (size_t)nk];
			for (c = 1; c < nk; c++)
				zmax = z[i * (size_t)nk + (size_t)c] > zmax
					   ? z[i * (size_t)nk + (size_t)c]
					   : zmax;
			for (c = 0; c < nk; c++)
				s += pr[c] = exp(z[i * (size_t)nk + (size_t)c] - zmax);
			for (c = 0; c < nk; c++)
				pr[c] /= s;
		}
		for (c = 0; c < nk; c++) {
			double yc = nk == 1 ? y[i] == 1 : y[i] == c;
			double r = w * (pr[c] - yc), r0 = w * ((nk == 1 ? 0.5 : 1.0 / nk) - yc);
			for (j = 0; j < p; j++) {
				g[(size_t)c * m + (size_t)j + 1] += r * f->rows.col[j].num[i];
				g0[(size_t)c * m + (size_t)j + 1] += r0 * f->rows.col[j].num[i];
			}
			g[(size_t)c * m] += r;
			g0[(size_t)c * m] += r0;
		}
	}
	/* The table's rows: intercept first, then the features; vector c is column c. */
	for (c = 0; c < nk; c++)
		for (j = 0; j <= p; j++) {
			double v = g[(size_t)c * m + (size_t)j];
			if (j > 0)
				v += coef[(size_t)j * (size_t)nk + (size_t)c];
			gn = fabs(v) > gn ? fabs(v) : gn;
			g0n = fabs(g0[(size_t)c * m + (size_t)j]) > g0n
				  ? fabs(g0[(size_t)c * m + (size_t)j])
				  : g0n;
		}
	gn /= g0n;
out:
	free(z);
	free(y);
	free(g);
	free(g0);
	free(coef);
	return gn;
}

static void test_hessian_free(void)
{
	struct ml_frame f;
	struct ml_err e;
	struct ml_learner *l;
	double r;

	CHECK(make_frame(&f, 3000, 130, 3) == 0);
	l = fit(&f, "yb", "w", "ym,yr", "logistic", "c=0.05", 1, &e);
	CHECK(l != NULL);
	r = l ? rel_gradient(l, &f, "yb", "w", 130, 0.05) : 1;
	if (!(r < 1e-7))
		fprintf(stderr, "binary: relative gradient %g\n", r);
	CHECK(r < 1e-7);
	ml_learner_free(l);
	l = fit(&f, "ym", NULL, "yb,yr,w", "logistic", "c=2", 1, &e);
	CHECK(l != NULL);
	r = l ? rel_gradient(l, &f, "ym", NULL, 130, 2) : 1;
	if (!(r < 1e-7))
		fprintf(stderr, "multinomial: relative gradient %g\n", r);
	CHECK(r < 1e-7);
	ml_learner_free(l);
	ml_frame_release(&f);
}

/* Save, serialise, load: predictions bit-identical, the same table. */
static void round_trip(const struct ml_frame *f, const char *target, const char *weight,
		       const char *algo, const char *params)
{
	struct ml_err e;
	struct ml_learner *l = fit(f, target, weight, NULL, algo, params, 1, &e), *l2 = NULL;
	int before = unit_checks_failed;
	struct ml_model *m = NULL, *m2 = NULL;
	unsigned char *buf = NULL;
	size_t len = 0, n = f->rows.nrow, na = 0, nb = 0;
	double *p1 = NULL, *p2 = NULL, *r1 = NULL, *r2 = NULL, *ca = NULL, *cb = NULL;
	int nout, nraw;

	CHECK(l != NULL);
	if (!l)
		return;
	CHECK(ml_learner_to_model(l, &m, &e) == 0);
	CHECK(m && ml_model_to_mem(m, &buf, &len, &e) == 0);
	CHECK(buf && (m2 = ml_model_from_mem(buf, len, "t.mlm", &e)) != NULL);
	CHECK(m2 && (l2 = ml_learner_from_model(m2, &e)) != NULL);
	if (!l2) {
		fprintf(stderr, "load: %s\n", e.msg);
		goto out;
	}
	nout = ml_learner_nout(l, ML_OUT_VALUE);
	nraw = ml_learner_nout(l, ML_OUT_MARGIN);
	CHECK(nout == ml_learner_nout(l2, ML_OUT_VALUE) && nraw == ml_learner_nout(l2, ML_OUT_MARGIN));
	p1 = predict_all(l, f, 0);
	p2 = predict_all(l2, f, 0);
	r1 = predict_all(l, f, 1);
	r2 = predict_all(l2, f, 1);
	CHECK(p1 && p2 && memcmp(p1, p2, n * (size_t)nout * sizeof(double)) == 0);
	CHECK(r1 && r2 && memcmp(r1, r2, n * (size_t)nraw * sizeof(double)) == 0);
	ca = coefs(l, &na);
	cb = coefs(l2, &nb);
	CHECK(ca && cb && na == nb && memcmp(ca, cb, na * sizeof(double)) == 0);
	if (ml_learner_task(l) == ML_TASK_CLASSIFY && p1 && r1) {
		/* Probabilities from margins: binary sigmoid, or softmax rows. */
		if (nout == 2)
			CHECK_NEAR(p1[1], 1 / (1 + exp(-r1[0])), 1e-15);
		CHECK_NEAR(p1[0] + p1[1] + (nout > 2 ? p1[2] : 0), 1, 1e-15);
	}
out:
	if (unit_checks_failed != before)
		fprintf(stderr, "  round trip of -a %s %s\n", algo, params);
	free(p1);
	free(p2);
	free(r1);
	free(r2);
	free(ca);
	free(cb);
	free(buf);
	ml_model_free(m);
	ml_model_free(m2);
	ml_learner_free(l);
	ml_learner_free(l2);
}

static void test_save_load(void)
{
	struct ml_frame pen, bc, pst;

	CHECK(unit_read_frame(&pen, FIX, "penguins.csv", NULL) == 0);
	CHECK(unit_read_frame(&bc, FIX, "breast_std.csv", NULL) == 0);
	CHECK(unit_read_frame(&pst, FIX, "penguins_std.csv", NULL) == 0);
	round_trip(&pen, "body_mass_g", NULL, "linear", "");
	round_trip(&pen, "body_mass_g", NULL, "ridge", "l2=2");
	round_trip(&pen, "body_mass_g", NULL, "lasso", "l1=3");
	round_trip(&pen, "body_mass_g", NULL, "elasticnet", "alpha=2");
	round_trip(&bc, "target", "w", "logistic", "c=0.3");
	round_trip(&pst, "species", NULL, "logistic", "");
	round_trip(&pst, "species", "w", "logistic", "penalty=l1");
	ml_frame_release(&pen);
	ml_frame_release(&bc);
	ml_frame_release(&pst);
}

/* Exactly collinear features: the minimum-norm least-squares solution. */
static void test_rank_deficient(void)
{
	struct ml_frame f, t;
	struct ml_err e;
	struct ml_learner *l;
	const double eff[3] = {1.0, -2.0, 0.5};
	double *pred = NULL, s = 0;
	size_t n = 60, i;
	int cx, c2, cg, cy, j;

	ml_frame_init(&f);
	ml_err_init(&e);
	cx = ml_schema_add(&f.schema, "x", ML_NUM);
	c2 = ml_schema_add(&f.schema, "x2", ML_NUM);
	cg = ml_schema_add(&f.schema, "g", ML_CAT);
	cy = ml_schema_add(&f.schema, "y", ML_NUM);
	CHECK(ml_dict_intern(&f.schema.cols[cg].dict, "p", 1) == 0);
	CHECK(ml_dict_intern(&f.schema.cols[cg].dict, "q", 1) == 1);
	CHECK(ml_dict_intern(&f.schema.cols[cg].dict, "r", 1) == 2);
	CHECK(ml_block_init(&f.rows, &f.schema, n, &e) == 0);
	for (i = 0; i < n; i++) {
		double x = (double)(i % 7) - 3;
		int g = (int)((i * 5) % 3);
		f.rows.col[cx].num[i] = x;
		f.rows.col[c2].num[i] = 2 * x;
		f.rows.col[cg].cat[i] = g;
		f.rows.col[cy].num[i] = 4 + 3 * x + eff[g];
	}
	f.rows.nrow = n;
	l = fit(&f, "y", NULL, NULL, "linear", "", 1, &e);
	CHECK(l != NULL);
	if (l && coef_table(l, &t) == 0) {
		const double *b = t.rows.col[1].num;
		/* Rows: intercept, x, x2, g=p, g=q, g=r. */
		CHECK(t.rows.nrow == 6);
		/* b_x + 2 b_x2 = 3 with the smallest norm: b_x2 = 2 b_x = 6 / 5. */
		CHECK_NEAR(b[1], 0.6, 1e-12);
		CHECK_NEAR(b[2], 1.2, 1e-12);
		/* The one-hot coefficients are orthogonal to (1, 1, 1). */
		for (j = 3; j < 6; j++)
			s += b[j];
		CHECK_NEAR(s, 0, 1e-12);
		CHECK_NEAR(b[4] - b[3], eff[1] - eff[0], 1e-12);
		CHECK_NEAR(b[5] - b[3], eff[2] - eff[0], 1e-12);
		pred = predict_all(l, &f, 0);
		for (i = 0; pred && i < n; i++)
			CHECK_NEAR(pred[i], f.rows.col[cy].num[i], 1e-12);
		ml_frame_release(&t);
	}
	free(pred);
	ml_learner_free(l);
	/* Ridge with no penalty is the same least-squares problem. */
	l = fit(&f, "y", NULL, NULL, "ridge", "l2=0", 1, &e);
	CHECK(l != NULL);
	if (l && coef_table(l, &t) == 0) {
		CHECK_NEAR(t.rows.col[1].num[1], 0.6, 1e-12);
		CHECK_NEAR(t.rows.col[1].num[2], 1.2, 1e-12);
		ml_frame_release(&t);
	}
	ml_learner_free(l);
	ml_frame_release(&f);
}

/* A copy of model m with section name replaced by data (NULL: left out). */
static struct ml_model *with_section(const struct ml_model *m, const char *name, const void *data,
				     size_t len)
{
	static const char *const keep[] = {"task",    "target",	  "target_type",
					   "classes", "features", "params"};
	struct ml_model *c = ml_model_new("model", ml_model_algorithm(m));
	struct ml_err e;
	size_t k;
	int i;

	for (k = 0; c && k < sizeof(keep) / sizeof(keep[0]); k++) {
		const cJSON *it = cJSON_GetObjectItemCaseSensitive(ml_model_meta_const(m), keep[k]);
		if (it)
			cJSON_AddItemToObject(ml_model_meta(c), keep[k], cJSON_Duplicate(it, 1));
	}
	for (i = 0; c && i < ml_model_nsections(m); i++) {
		const char *s = ml_model_section_name(m, i);
		const void *p;
		size_t n;
		if (strcmp(s, name) == 0 || ml_model_get(m, s, &p, &n, &e) < 0)
			continue;
		ml_model_add(c, s, p, n, &e);
	}
	if (c && data)
		ml_model_add(c, name, data, len, &e);
	return c;
}

static int rejects(const struct ml_model *m, const char *name, const void *data, size_t len,
		   const char *msg)
{
	struct ml_model *c = with_section(m, name, data, len);
	struct ml_learner *l;
	struct ml_err e;
	int ok;

	ml_err_init(&e);
	l = c ? ml_learner_from_model(c, &e) : NULL;
	ok = c && !l && e.code == ML_E_DATA && strcmp(e.msg, msg) == 0;
	if (!ok)
		fprintf(stderr, "load gave %d '%s', expected '%s'\n", e.code, e.msg, msg);
	ml_learner_free(l);
	ml_model_free(c);
	return ok;
}

static void test_bad_sections(void)
{
	struct ml_frame f;
	struct ml_err e;
	struct ml_learner *l, *l2;
	struct ml_model *m = NULL, *c;
	const void *data;
	size_t len;
	unsigned char *bad;

	CHECK(unit_read_frame(&f, FIX, "penguins.csv", NULL) == 0);
	l = fit(&f, "body_mass_g", NULL, NULL, "ridge", "", 1, &e);
	CHECK(l && ml_learner_to_model(l, &m, &e) == 0);
	CHECK(m && ml_model_get(m, "linear.coef", &data, &len, &e) == 0);
	if (!m || ml_model_get(m, "linear.coef", &data, &len, &e) < 0)
		goto out;
	/* The copy as it is loads. */
	c = with_section(m, "linear.coef", data, len);
	l2 = c ? ml_learner_from_model(c, &e) : NULL;
	CHECK(l2 != NULL);
	ml_learner_free(l2);
	ml_model_free(c);
	bad = malloc(len + 8);
	CHECK(bad != NULL);
	if (!bad)
		goto out;
	/* Truncated, extended, wrong feature count, not finite, missing. */
	CHECK(rejects(m, "linear.coef", data, len - 8,
		      "model section 'linear.coef' has a bad length"));
	memcpy(bad, data, len);
	memset(bad + len, 0, 8);
	CHECK(rejects(m, "linear.coef", bad, len + 8,
		      "model section 'linear.coef' has a bad length"));
	bad[0]++;
	CHECK(rejects(m, "linear.coef", bad, len,
		      "model section 'linear.coef' holds 12 features and 1 coefficient vectors, "
		      "the model 11 and 1"));
	bad[0]--;
	memset(bad + 8, 0xff, 8);
	CHECK(rejects(m, "linear.coef", bad, len,
		      "model section 'linear.coef' holds a coefficient that is not finite"));
	CHECK(rejects(m, "linear.coef", NULL, 0, "the model has no section named 'linear.coef'"));
	free(bad);
out:
	ml_model_free(m);
	ml_learner_free(l);
	ml_frame_release(&f);
}

static void test_params(void)
{
	struct ml_params p;
	struct ml_err e;

	ml_err_init(&e);
	ml_params_init(&p, ml_algo_find("ridge"));
	CHECK(ml_param(&p, "l2") == 1.0);
	CHECK(ml_params_set(&p, "l1", "1", &e) == ML_E_USAGE);
	CHECK(strcmp(e.msg, "--l1 does not apply to -a ridge") == 0);
	ml_params_init(&p, ml_algo_find("lasso"));
	CHECK(ml_param(&p, "l1") == 1.0 && ml_param(&p, "tol") == 1e-4 &&
	      ml_param(&p, "max-iter") == 1000);
	ml_params_init(&p, ml_algo_find("elasticnet"));
	CHECK(ml_param(&p, "alpha") == 1.0 && ml_param(&p, "l1-ratio") == 0.5);
	CHECK(ml_params_set(&p, "l1-ratio", "1.5", &e) == ML_E_USAGE);
	ml_params_init(&p, ml_algo_find("logistic"));
	CHECK(ml_param(&p, "c") == 1.0 && ml_param(&p, "penalty") == 0 &&
	      ml_param(&p, "tol") == 1e-8 && ml_param(&p, "max-iter") == 100);
	CHECK(ml_params_set(&p, "penalty", "l1", &e) == 0 && ml_param(&p, "penalty") == 1);
	CHECK(ml_params_set(&p, "penalty", "l3", &e) == ML_E_USAGE);
	CHECK(ml_params_set(&p, "c", "0", &e) == ML_E_USAGE);
	ml_params_init(&p, ml_algo_find("linear"));
	CHECK(p.n == 0);
}

/* Messages through the log. */
static char last_info[1024];

static void log_cb(void *ud, int level, const char *msg)
{
	(void)ud;
	if (level == ML_LOG_INFO)
		snprintf(last_info, sizeof(last_info), "%s", msg);
}

static void test_messages(void)
{
	struct ml_frame f;
	struct ml_train_spec spec;
	struct ml_ctx ctx;
	struct ml_err e;
	struct ml_learner *l = NULL;

	CHECK(unit_read_frame(&f, FIX, "breast_std.csv", NULL) == 0);
	CHECK(ml_ctx_init(&ctx, 1, 1, &e) == 0);
	ctx.log = log_cb;
	memset(&spec, 0, sizeof(spec));
	spec.target = "target";
	ml_params_init(&spec.params, ml_algo_find("logistic"));
	CHECK(ml_params_set(&spec.params, "max-iter", "2", &e) == 0);
	last_info[0] = 0;
	CHECK(ml_learner_fit(&l, &f, NULL, 0, NULL, 0, &spec, &ctx, &e) == 0);
	CHECK(strcmp(last_info, "logistic did not converge in 2 iterations; raise --max-iter") ==
	      0);
	ml_learner_free(l);
	l = NULL;
	ml_frame_release(&f);
	CHECK(unit_read_frame(&f, FIX, "reg.csv", NULL) == 0);
	ml_params_init(&spec.params, ml_algo_find("lasso"));
	spec.target = "y";
	CHECK(ml_params_set(&spec.params, "max-iter", "2", &e) == 0);
	CHECK(ml_params_set(&spec.params, "l1", "0.01", &e) == 0);
	last_info[0] = 0;
	CHECK(ml_learner_fit(&l, &f, NULL, 0, NULL, 0, &spec, &ctx, &e) == 0);
	CHECK(strncmp(last_info, "lasso did not converge in 2 iterations (duality gap ", 52) == 0);
	ml_learner_free(l);
	ml_frame_release(&f);
	ml_ctx_release(&ctx);
}

/* Threads of this process, from /proc (0 where there is none). */
static int nthreads_now(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* The threads once at most `want` remain: a joined thread can still be listed for a moment
 * while the kernel takes it down, so the count is taken again for up to a second. */
static int nthreads_settled(int want)
{
	int n = nthreads_now(), k;

	for (k = 0; k < 1000 && n > want; k++) {
		usleep(1000);
		n = nthreads_now();
	}
	return n;
}

/* OpenBLAS's threads put to rest are gone, and come back for a product that wants them,
 * which is still right. */
static void test_blas_rest(void)
{
	enum { N = 400 };
	double *a = malloc(N * N * sizeof(double)), *b = malloc(N * N * sizeof(double));
	double *c = malloc(N * N * sizeof(double));
	int i, j, k, bad = 0, n0;

	ml_blas_rest();
	n0 = nthreads_settled(1);
	CHECK(n0 <= 1);
	for (i = 0; i < N * N; i++) {
		a[i] = (double)(i % 7) - 3;
		b[i] = (double)(i % 5) * 0.5;
	}
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, N, N, 1.0, a, N, b, N, 0.0, c, N);
	for (i = 0; i < N; i += 37)
		for (j = 0; j < N; j += 41) {
			double s = 0;
			for (k = 0; k < N; k++)
				s += a[i * N + k] * b[k * N + j];
			bad += c[i * N + j] != s; /* small integers and halves: exact */
		}
	CHECK(bad == 0);
	ml_blas_rest();
	CHECK(nthreads_settled(n0) == n0);
	free(a);
	free(b);
	free(c);
}

int main(void)
{
	RUN(test_blas_rest);
	RUN(test_params);
	RUN(test_sklearn_fixtures);
	RUN(test_rank_deficient);
	RUN(test_save_load);
	RUN(test_bad_sections);
	RUN(test_threads);
	RUN(test_hessian_free);
	RUN(test_messages);
	return UNIT_EXIT();
}
