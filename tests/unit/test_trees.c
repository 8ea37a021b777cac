/* Unit tests for the tree learners (-a gbdt, -a rf, -a tree): objective gradients against
 * finite differences, a depth-1 tree against brute force, missing-value directions and
 * categorical splits, TreeSHAP against brute-force Shapley values and against the
 * margins, model round trips, results that do not depend on the thread count, and
 * fixtures from scikit-learn and XGBoost (tests/fixtures/trees, made by
 * tests/fixtures/gen_trees.py). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml/learn.h"
#include "learn/algo.h"
#include "ml/ml.h"
#include "learn/tree/gbdt.h"
#include "learn/tree/hist.h"
#include "learn/tree/tree.h"
#include "unit.h"

#define FIX "tests/fixtures/trees/"

static struct ml_ctx ctx1, ctx2, ctx3;

/* --- Helpers ------------------------------------------------------------------------- */

/* Set parameters from "name=value,name=value" (NULL: none). */
static int set_params(struct ml_params *p, const char *params, struct ml_err *e)
{
	char buf[512], *s, *next;

	if (!params)
		return 0;
	snprintf(buf, sizeof(buf), "%s", params);
	for (s = buf; s; s = next) {
		char *eq = strchr(s, '=');
		next = strchr(s, ',');
		if (next)
			*next++ = 0;
		if (!eq)
			return -1;
		*eq = 0;
		if (ml_params_set(p, s, eq + 1, e) < 0) {
			fprintf(stderr, "param %s: %s\n", s, e->msg);
			return -1;
		}
	}
	return 0;
}

static struct ml_learner *fit_frame(const char *algo, const struct ml_frame *f, const char *target,
				    const char *params, int balanced, struct ml_ctx *ctx)
{
	struct ml_train_spec spec;
	struct ml_learner *l = NULL;
	struct ml_err e;

	memset(&spec, 0, sizeof(spec));
	spec.target = target;
	spec.balanced = balanced;
	ml_err_init(&e);
	ml_params_init(&spec.params, ml_algo_find(algo));
	if (set_params(&spec.params, params, &e) < 0)
		return NULL;
	if (ml_learner_fit(&l, f, NULL, 0, NULL, 0, &spec, ctx, &e) < 0) {
		fprintf(stderr, "fit %s: %s\n", algo, e.msg);
		return NULL;
	}
	return l;
}

static double *predict_frame(struct ml_learner *l, const struct ml_frame *f, int raw, int *nout)
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

/* A learner's numbers built by hand. */
struct dset {
	size_t n;
	int p, nclass;
	double *X, *y, *w;
	const double **col; /* col[j] = X + j * n */
	int *ncat;
	char **names;
};

static void dset_init(struct dset *s, size_t n, int p, int nclass)
{
	int j;

	memset(s, 0, sizeof(*s));
	s->n = n;
	s->p = p;
	s->nclass = nclass;
	s->X = calloc(n * (size_t)p + 1, sizeof(double));
	s->col = malloc(((size_t)p + 1) * sizeof(*s->col));
	for (j = 0; j < p; j++)
		s->col[j] = s->X + (size_t)j * n;
	s->y = calloc(n + 1, sizeof(double));
	s->ncat = calloc((size_t)p + 1, sizeof(int));
	s->names = calloc((size_t)p + 1, sizeof(char *));
	for (j = 0; j < p; j++) {
		s->names[j] = malloc(64);
		snprintf(s->names[j], 64, "x%d", j);
	}
}

static void dset_free(struct dset *s)
{
	int j;

	for (j = 0; j < s->p; j++)
		free(s->names[j]);
	free(s->names);
	free(s->X);
	free(s->col);
	free(s->y);
	free(s->w);
	free(s->ncat);
}

static struct ml_data as_data(const struct dset *s)
{
	struct ml_data d;

	memset(&d, 0, sizeof(d));
	d.n = s->n;
	d.p = s->p;
	d.X = s->X;
	d.col = s->col;
	d.y = s->y;
	d.w = s->w;
	d.nclass = s->nclass;
	d.ncat = s->ncat;
	d.names = (const char *const *)s->names;
	return d;
}

/* A frame's columns other than target as a dset: categorical ones as their codes. */
static void frame_dset(struct dset *s, const struct ml_frame *f, const char *target)
{
	int j, k = 0, tc = ml_schema_find(&f->schema, target);
	size_t i, n = f->rows.nrow;
	const struct ml_col *t = &f->schema.cols[tc];

	dset_init(s, n, f->schema.ncol - 1, t->type == ML_CAT ? t->dict.n : 0);
	for (j = 0; j < f->schema.ncol; j++) {
		const struct ml_col *c = &f->schema.cols[j];
		if (j == tc)
			continue;
		snprintf(s->names[k], 64, "%s", c->name);
		for (i = 0; i < n; i++) {
			double v;
			if (c->type == ML_NUM)
				v = f->rows.col[j].num[i];
			else
				v = f->rows.col[j].cat[i] < 0 ? NAN : f->rows.col[j].cat[i];
			s->X[(size_t)k * n + i] = v;
		}
		s->ncat[k] = c->type == ML_CAT ? c->dict.n : 0;
		k++;
	}
	for (i = 0; i < n; i++)
		s->y[i] = t->type == ML_CAT ? f->rows.col[tc].cat[i] : f->rows.col[tc].num[i];
}

static void *fit_direct(const char *algo, const struct dset *s, const struct dset *valid,
			const char *params, struct ml_ctx *ctx)
{
	const struct ml_algo *a = ml_algo_find(algo);
	struct ml_params hp;
	struct ml_data d = as_data(s), v;
	struct ml_err e;
	void *state = NULL;

	ml_err_init(&e);
	ml_params_init(&hp, a);
	if (set_params(&hp, params, &e) < 0)
		return NULL;
	if (valid)
		v = as_data(valid);
	if (a->fit(&state, &d, valid ? &v : NULL, &hp, ctx, &e) < 0) {
		fprintf(stderr, "fit %s: %s\n", algo, e.msg);
		return NULL;
	}
	return state;
}

static double *predict_direct(const char *algo, const void *state, const struct dset *s, int raw,
			      int nout)
{
	const struct ml_algo *a = ml_algo_find(algo);
	double *out = malloc((s->n ? s->n : 1) * (size_t)nout * sizeof(double));
	struct ml_err e;

	ml_err_init(&e);
	if (out && a->predict(state, s->X, s->n, s->n, out, raw, &e) < 0) {
		fprintf(stderr, "predict: %s\n", e.msg);
		free(out);
		return NULL;
	}
	return out;
}

/* A section's bytes of a model saved from state. */
static unsigned char *section(const char *algo, const void *state, const char *name, size_t *len)
{
	const struct ml_algo *a = ml_algo_find(algo);
	struct ml_model *m = ml_model_new("model", algo);
	const void *data;
	unsigned char *copy = NULL;
	struct ml_err e;

	ml_err_init(&e);
	if (m && a->save(state, m, &e) == 0 && ml_model_get(m, name, &data, len, &e) == 0) {
		copy = malloc(*len ? *len : 1);
		if (copy)
			memcpy(copy, data, *len);
	}
	ml_model_free(m);
	return copy;
}

static double auc(const double *s, const double *y, size_t n)
{
	double num = 0, np = 0, nn = 0;
	size_t i, j;

	for (i = 0; i < n; i++) {
		if (y[i] != 1)
			continue;
		np++;
		for (j = 0; j < n; j++) {
			if (y[j] != 0)
				continue;
			num += s[i] > s[j] ? 1 : s[i] == s[j] ? 0.5 : 0;
		}
	}
	for (j = 0; j < n; j++)
		nn += y[j] == 0;
	return num / (np * nn);
}

/* --- Objectives ----------------------------------------------------------------------- */

static void test_objective_gradients(void)
{
	static const char *const objs[] = {"logistic", "squared-error", "absolute-error",
					   "huber",    "quantile",	"poisson"};
	static const double fs[] = {-2.5, -0.3, 0.4, 1.7};
	static const double ys[] = {0, 1, 0.2, 3};
	/* The gradients are single precision: the hessian's difference quotient takes a
	 * wider step. */
	double hstep = 1e-5, hs2 = 1e-3, l, lp, lm, g, h, gp, gm, hh, fp2, fm2;
	size_t o, a, b;
	int k, c;

	for (o = 0; o < sizeof(objs) / sizeof(objs[0]); o++)
		for (a = 0; a < 4; a++)
			for (b = 0; b < 4; b++) {
				double f = fs[a], y = ys[b], fp = f + hstep, fm = f - hstep;
				if (strcmp(objs[o], "logistic") == 0 && b > 1)
					continue;
				CHECK(ml_gbdt_objective(objs[o], &f, 1, y, 0.8, 0.3, &l, &g, &h) ==
				      0);
				CHECK(ml_gbdt_objective(objs[o], &fp, 1, y, 0.8, 0.3, &lp, &gp,
							&hh) == 0);
				CHECK(ml_gbdt_objective(objs[o], &fm, 1, y, 0.8, 0.3, &lm, &gm,
							&hh) == 0);
				fp2 = f + hs2;
				fm2 = f - hs2;
				ml_gbdt_objective(objs[o], &fp2, 1, y, 0.8, 0.3, &hh, &gp, &hh);
				ml_gbdt_objective(objs[o], &fm2, 1, y, 0.8, 0.3, &hh, &gm, &hh);
				/* Single precision gradients. */
				CHECK_NEAR(g, (lp - lm) / (2 * hstep), 2e-6);
				if (strcmp(objs[o], "absolute-error") == 0 ||
				    strcmp(objs[o], "quantile") == 0) {
					/* Piecewise linear: the leaves are refitted; the hessian is
					 * the weight. */
					CHECK(h == 1);
				} else if (strcmp(objs[o], "huber") == 0) {
					CHECK(h == 1);
					if (fabs(f - y) < 0.8 - hs2)
						CHECK_NEAR(h, (gp - gm) / (2 * hs2), 2e-4);
				} else {
					CHECK_NEAR(h, (gp - gm) / (2 * hs2), 2e-4);
				}
			}
	/* Softmax: gradient and the hessian's diagonal per class. */
	for (c = 0; c < 3; c++) {
		double f[3] = {0.3, -1.2, 2.0}, gv[3], hv[3], g2[3], h2[3];
		CHECK(ml_gbdt_objective("softmax", f, 3, c, 0, 0, &l, gv, hv) == 0);
		for (k = 0; k < 3; k++) {
			double sv = f[k];
			f[k] = sv + hstep;
			ml_gbdt_objective("softmax", f, 3, c, 0, 0, &lp, g2, h2);
			f[k] = sv - hstep;
			ml_gbdt_objective("softmax", f, 3, c, 0, 0, &lm, g2, h2);
			f[k] = sv + hs2;
			ml_gbdt_objective("softmax", f, 3, c, 0, 0, &hh, g2, h2);
			gp = g2[k];
			f[k] = sv - hs2;
			ml_gbdt_objective("softmax", f, 3, c, 0, 0, &hh, g2, h2);
			gm = g2[k];
			f[k] = sv;
			CHECK_NEAR(gv[k], (lp - lm) / (2 * hstep), 2e-6);
			CHECK_NEAR(hv[k], (gp - gm) / (2 * hs2), 2e-4);
		}
	}
	CHECK(ml_gbdt_objective("auto", fs, 1, 0, 1, 0.5, &l, &g, &h) < 0);
	CHECK(ml_gbdt_objective("softmax", fs, 1, 0, 1, 0.5, &l, &g, &h) < 0);
}

/* --- A depth-1 tree against brute force -------------------------------------------------- */

static double th1(double G, double a)
{
	return G > a ? G - a : G < -a ? G + a : 0;
}

/* The best XGBoost split of squared error or logistic gradients, predicted. */
static void brute_stump(const struct dset *s, int logistic, double lambda, double l1, double *pred)
{
	size_t n = s->n, i, k;
	double *g = malloc(n * sizeof(double)), *h = malloc(n * sizeof(double)), base = 0;
	double G = 0, H = 0, best = 0, bthr = 0, wl = 0, wr = 0, w0;
	int j, bj = -1;

	for (i = 0; i < n; i++)
		base += s->y[i];
	base /= (double)n;
	if (logistic)
		base = log(base / (1 - base));
	for (i = 0; i < n; i++) {
		if (logistic) {
			double p = 1 / (1 + exp(-base));
			g[i] = p - s->y[i];
			h[i] = p * (1 - p);
		} else {
			g[i] = base - s->y[i];
			h[i] = 1;
		}
		G += g[i];
		H += h[i];
	}
	for (j = 0; j < s->p; j++) {
		const double *x = s->X + (size_t)j * n;
		for (i = 0; i < n; i++) {
			/* Split between x[i] and the next larger value. */
			double nxt = INFINITY, GL = 0, HL = 0, gain, t;
			for (k = 0; k < n; k++)
				if (x[k] > x[i] && x[k] < nxt)
					nxt = x[k];
			if (nxt == INFINITY)
				continue;
			for (k = 0; k < n; k++)
				if (x[k] <= x[i]) {
					GL += g[k];
					HL += h[k];
				}
			if (HL < 1 || H - HL < 1)
				continue;
			gain = th1(GL, l1) * th1(GL, l1) / (HL + lambda) +
			       th1(G - GL, l1) * th1(G - GL, l1) / (H - HL + lambda) -
			       th1(G, l1) * th1(G, l1) / (H + lambda);
			t = x[i] / 2 + nxt / 2;
			if (gain > best) {
				best = gain;
				bj = j;
				bthr = t;
				wl = -th1(GL, l1) / (HL + lambda);
				wr = -th1(G - GL, l1) / (H - HL + lambda);
			}
		}
	}
	w0 = -th1(G, l1) / (H + lambda);
	for (i = 0; i < n; i++) {
		double m = bj < 0 ? w0 : s->X[(size_t)bj * n + i] <= bthr ? wl : wr;
		pred[i] = base + m;
	}
	free(g);
	free(h);
}

static void test_depth1_brute_force(void)
{
	struct dset s;
	struct ml_rng r;
	size_t n = 200, i;
	int j, logistic;

	ml_rng_seed(&r, 11);
	for (logistic = 0; logistic < 2; logistic++) {
		void *st;
		double *got, *want = malloc(n * sizeof(double));
		const char *params[] = {"rounds=1,max-depth=1,learning-rate=1,l2=1",
					"rounds=1,max-depth=1,learning-rate=1,l2=3,l1=0.4"};
		int q;
		dset_init(&s, n, 4, logistic ? 2 : 0);
		for (i = 0; i < n; i++) {
			for (j = 0; j < 4; j++)
				s.X[(size_t)j * n + i] = ml_rng_normal(&r);
			s.y[i] = 0.8 * s.X[i] - s.X[2 * n + i] + ml_rng_normal(&r);
			if (logistic)
				s.y[i] = s.y[i] > 0.3;
		}
		for (q = 0; q < 2; q++) {
			st = fit_direct("gbdt", &s, NULL, params[q], &ctx2);
			CHECK(st != NULL);
			if (!st)
				continue;
			got = predict_direct("gbdt", st, &s, 1, 1);
			brute_stump(&s, logistic, q ? 3 : 1, q ? 0.4 : 0, want);
			for (i = 0; got && i < n; i++)
				CHECK_NEAR(got[i], want[i], 1e-6);
			free(got);
			ml_algo_find("gbdt")->free(st);
		}
		free(want);
		dset_free(&s);
	}
}

/* --- Bins ----------------------------------------------------------------------------- */

/* The row-major bins are the column-major ones, rows padded to a cache-friendly stride
 * only where that costs at most a quarter more, with zero padding. */
static void test_bin_layouts(void)
{
	const int ps[] = {1, 3, 7, 17, 26, 28, 32, 70, 200, 240};
	const size_t want[] = {1, 3, 8, 17, 32, 32, 32, 70, 200, 256};
	size_t n = 301, i, q;
	struct ml_rng r;
	int k, j;

	ml_rng_seed(&r, 5);
	for (k = 0; k < (int)(sizeof(ps) / sizeof(ps[0])); k++) {
		struct dset s;
		struct ml_data d;
		struct ml_bins b;
		struct ml_err e;
		int bad = 0;
		dset_init(&s, n, ps[k], 0);
		for (i = 0; i < n * (size_t)ps[k]; i++)
			s.X[i] = i % 13 == 0 ? NAN : ml_rng_normal(&r);
		d = as_data(&s);
		ml_err_init(&e);
		CHECK(ml_bins_build(&b, &d, 255, 0, ML_BINS_ROWS | ML_BINS_COLS, 1, ctx2.pool,
				    &e) == 0);
		CHECK(b.stride == want[k]);
		for (i = 0; b.B && b.C && i < n; i++) {
			for (j = 0; j < ps[k]; j++)
				bad |= b.B[i * b.stride + (size_t)j] != b.C[(size_t)j * n + i];
			for (q = (size_t)ps[k]; q < b.stride; q++)
				bad |= b.B[i * b.stride + q] != 0;
		}
		CHECK(!bad);
		ml_bins_release(&b);
		dset_free(&s);
	}
}

/* --- Missing values and categorical splits ------------------------------------------- */

static void test_missing_direction(void)
{
	struct dset s;
	struct ml_rng r;
	size_t n = 400, i;
	void *st;
	double *p, q[4] = {0};

	/* x1's missingness predicts the label; x0 is noise. */
	ml_rng_seed(&r, 5);
	dset_init(&s, n, 2, 2);
	for (i = 0; i < n; i++) {
		s.y[i] = i % 2;
		s.X[i] = ml_rng_normal(&r);
		s.X[n + i] = ml_rng_uniform(&r) < (s.y[i] ? 0.9 : 0.1) ? NAN : ml_rng_normal(&r);
	}
	st = fit_direct("gbdt", &s, NULL, "rounds=1,max-depth=1,learning-rate=1", &ctx1);
	CHECK(st != NULL);
	p = predict_direct("gbdt", st, &s, 0, 2);
	for (i = 0; p && i < n; i++) {
		int miss = s.X[n + i] != s.X[n + i];
		q[miss * 2] += p[2 * i + 1];
		q[miss * 2 + 1] += 1;
	}
	/* Rows missing x1 score far higher. */
	CHECK(q[2] / q[3] > 0.75 && q[0] / q[1] < 0.25);
	free(p);
	ml_algo_find("gbdt")->free(st);

	/* A threshold split: the label is x0 > 0, and x0 is missing only in positive rows;
	 * missing values go with the positives, and so would an unseen NaN. */
	for (i = 0; i < n; i++) {
		s.X[i] = ml_rng_normal(&r);
		s.y[i] = s.X[i] > 0;
		if (s.y[i] && ml_rng_uniform(&r) < 0.3)
			s.X[i] = NAN;
		s.X[n + i] = ml_rng_normal(&r);
	}
	{
		const char *algos[] = {"gbdt", "rf", "tree"};
		int a;
		for (a = 0; a < 3; a++) {
			double x[4] = {NAN, 2.0, 0.1, 0.1}, out[4];
			struct ml_err e;
			st = fit_direct(algos[a], &s, NULL,
					a == 0	 ? "rounds=1,max-depth=1,learning-rate=1"
					: a == 1 ? "trees=5,max-depth=1,mtry=1"
						 : "max-depth=1",
					&ctx1);
			CHECK(st != NULL);
			if (!st)
				continue;
			ml_err_init(&e);
			/* Rows (NaN, 0.1) and (2, 0.1). */
			CHECK(ml_algo_find(algos[a])->predict(st, x, 2, 2, out, 0, &e) == 0);
			if (a < 2)
				CHECK(out[1] == out[3]);
			else
				CHECK(out[1] == out[3] && out[1] == 1);
			ml_algo_find(algos[a])->free(st);
		}
	}
	dset_free(&s);
}

static void test_categorical_split(void)
{
	struct dset s;
	struct ml_rng r;
	size_t n = 600, i;
	void *st;
	double *p;
	int lv;

	/* Levels 2, 5 and 7 of twelve mean the positive class. */
	ml_rng_seed(&r, 9);
	dset_init(&s, n, 2, 2);
	s.ncat[0] = 12;
	for (i = 0; i < n; i++) {
		lv = (int)ml_rng_below(&r, 12);
		s.X[i] = lv;
		s.X[n + i] = ml_rng_normal(&r);
		s.y[i] = lv == 2 || lv == 5 || lv == 7;
	}
	st = fit_direct("gbdt", &s, NULL, "rounds=1,max-depth=1,learning-rate=1", &ctx1);
	CHECK(st != NULL);
	p = predict_direct("gbdt", st, &s, 0, 2);
	for (i = 0; p && i < n; i++)
		CHECK(s.y[i] ? p[2 * i + 1] > 0.6 : p[2 * i + 1] < 0.4);
	free(p);
	ml_algo_find("gbdt")->free(st);
	/* The same with the level treated as a number cannot separate them in one split. */
	st = fit_direct("gbdt", &s, NULL, "rounds=1,max-depth=1,learning-rate=1,max-cat=4", &ctx1);
	CHECK(st != NULL);
	p = predict_direct("gbdt", st, &s, 0, 2);
	{
		int bad = 0;
		for (i = 0; p && i < n; i++)
			bad += s.y[i] ? p[2 * i + 1] < 0.5 : p[2 * i + 1] > 0.5;
		CHECK(bad > 0);
	}
	free(p);
	ml_algo_find("gbdt")->free(st);
	/* CART and forests too. */
	st = fit_direct("tree", &s, NULL, "max-depth=1", &ctx1);
	CHECK(st != NULL);
	p = predict_direct("tree", st, &s, 0, 2);
	for (i = 0; p && i < n; i++)
		CHECK(p[2 * i + 1] == s.y[i]);
	free(p);
	ml_algo_find("tree")->free(st);
	dset_free(&s);
}

/* --- TreeSHAP ----------------------------------------------------------------------------- */

/* The path-dependent value of feature set S (bit mask) for row x of one tree: features in
 * S follow x, the others average their children by cover. */
static double tree_value(const struct ml_forest *F, int t, int32_t k, unsigned S, const double *x,
			 int o)
{
	const struct ml_tnode *nd = F->node + F->start[t], *q = &nd[k];
	double c, fl;

	if (q->feat < 0)
		return F->nout == 1 ? q->thr : F->val[q->left + o];
	if (S >> q->feat & 1) {
		double v = x[q->feat];
		int left;
		if (v != v)
			left = q->dleft;
		else if (q->cat >= 0)
			left = v >= 0 && v < q->thr &&
			       (F->bits[q->cat + ((int)v >> 5)] >> ((int)v & 31)) & 1;
		else
			left = v <= q->thr;
		return tree_value(F, t, left ? q->left : q->left + 1, S, x, o);
	}
	c = F->cover[F->start[t] + k];
	fl = F->cover[F->start[t] + q->left] / c;
	return fl * tree_value(F, t, q->left, S, x, o) +
	       F->cover[F->start[t] + q->left + 1] / c * tree_value(F, t, q->left + 1, S, x, o);
}

static double forest_value(const struct ml_forest *F, unsigned S, const double *x, int m)
{
	double v = 0, sc = F->average ? 1.0 / F->ntrees : 1;
	int t;

	for (t = 0; t < F->ntrees; t++) {
		int g = (t % F->ngroup) * F->nout;
		if (m < g || m >= g + F->nout)
			continue;
		v += sc * tree_value(F, t, 0, S, x, m - g);
	}
	return F->base[m] + v;
}

static double fact(int k)
{
	double r = 1;
	while (k > 1)
		r *= k--;
	return r;
}

/* A random forest of p features (0 and 1 categorical with 6 levels). */
static void random_forest(struct ml_forest *F, struct ml_rng *r, int p, int nout, int ngroup,
			  int average, int ntrees)
{
	struct ml_tree t;
	struct ml_err e;
	int i, s, o;

	ml_forest_init(F, p, nout, ngroup, average, &e);
	for (i = 0; i < nout * ngroup; i++)
		F->base[i] = ml_rng_normal(r);
	ml_tree_init(&t);
	for (i = 0; i < ntrees; i++) {
		int32_t k;
		ml_tree_root(&t, 50 + 100 * ml_rng_uniform(r));
		for (s = 0; s < 12; s++) {
			int32_t leaf = (int32_t)ml_rng_below(r, (uint64_t)t.n);
			int f = (int)ml_rng_below(r, (uint64_t)p);
			double u = 0.1 + 0.8 * ml_rng_uniform(r), c;
			uint32_t set[1];
			if (t.node[leaf].feat >= 0)
				continue;
			c = t.cover[leaf];
			set[0] = (uint32_t)ml_rng_below(r, 63) + 1;
			ml_tree_split(&t, leaf, f, f < 2 ? 0 : ml_rng_normal(r),
				      (int)ml_rng_below(r, 2), f < 2 ? set : NULL, 6, 1, c * u,
				      c * (1 - u));
		}
		for (k = 0; k < t.n; k++) {
			if (t.node[k].feat >= 0)
				continue;
			if (nout == 1) {
				t.node[k].thr = ml_rng_normal(r);
			} else {
				double v[4];
				for (o = 0; o < nout; o++)
					v[o] = ml_rng_uniform(r);
				ml_tree_leafv(&t, k, v, nout);
			}
		}
		ml_forest_add(F, &t, &e);
	}
	ml_tree_release(&t);
	ml_forest_finish(F, &e);
}

/* Shallow trees (the scorer's fixed-depth walk), deep ones (eight rows walking until all
 * reach leaves) and deep, big ones (the same over a row-major copy of the block) give every
 * row the leaf a plain walk finds, and the margins its sum. */
static void test_walks_agree(void)
{
	struct ml_rng r;
	int p = 6, t, j, size, nout;

	ml_rng_seed(&r, 11);
	/* size 0: shallow trees; 1: deep ones of a few hundred nodes; 2: deep and big. */
	for (size = 0; size < 3; size++)
		for (nout = 1; nout <= 2; nout++) {
			struct ml_forest F;
			struct ml_tree tr;
			struct ml_err e;
			size_t n = 9000, i;
			int ntrees = 3, M = nout;
			double *X = malloc(n * (size_t)p * sizeof(double));
			double *out = malloc(n * (size_t)M * sizeof(double));
			int32_t *lv = malloc(n * (size_t)ntrees * sizeof(int32_t)), k;
			int deep = 0, bad = 0;

			ml_err_init(&e);
			ml_forest_init(&F, p, nout, 1, 0, &e);
			F.base[0] = 0.5;
			if (nout == 2)
				F.base[1] = -0.5;
			ml_tree_init(&tr);
			for (t = 0; t < ntrees; t++) {
				int nsplit = size == 2 ? 5000 : size == 1 ? 300 : 20, s;
				ml_tree_root(&tr, 1e6);
				for (s = 0; s < nsplit; s++) {
					/* Mostly the newest leaves: deep trees. */
					int32_t leaf = tr.n - 1 -
						       (int32_t)ml_rng_below(&r, tr.n < 8 ? (uint64_t)tr.n : 8);
					if (tr.node[leaf].feat >= 0)
						continue;
					ml_tree_split(&tr, leaf, (int)ml_rng_below(&r, (uint64_t)p),
						      ml_rng_normal(&r), (int)ml_rng_below(&r, 2), NULL, 0, 1,
						      tr.cover[leaf] / 2, tr.cover[leaf] / 2);
				}
				for (k = 0; k < tr.n; k++) {
					if (tr.node[k].feat >= 0)
						continue;
					if (nout == 1) {
						tr.node[k].thr = ml_rng_normal(&r);
					} else {
						double v[2] = {ml_rng_uniform(&r), ml_rng_uniform(&r)};
						ml_tree_leafv(&tr, k, v, nout);
					}
				}
				ml_forest_add(&F, &tr, &e);
			}
			ml_tree_release(&tr);
			CHECK(ml_forest_finish(&F, &e) == 0);
			for (t = 0; t < ntrees; t++)
				deep |= F.depth[t] > 12;
			CHECK(size ? deep : !deep);
			CHECK((F.nnode / F.ntrees > 4096) == (size == 2));
			for (i = 0; i < n * (size_t)p; i++)
				X[i] = ml_rng_uniform(&r) < 0.1 ? NAN : ml_rng_normal(&r);
			ml_forest_leaves(&F, X, n, n, lv);
			ml_forest_margins(&F, X, n, n, out);
			for (i = 0; i < n; i++) {
				double want[2] = {F.base[0], nout == 2 ? F.base[1] : 0};
				for (t = 0; t < ntrees; t++) {
					const struct ml_tnode *nd = F.node + F.start[t];
					int32_t l = ml_tree_leaf(nd, F.bits, X, n, i);
					bad |= lv[i * (size_t)ntrees + (size_t)t] != l;
					if (nout == 1)
						want[0] += nd[l].thr;
					else
						for (j = 0; j < 2; j++)
							want[j] += F.val[nd[l].left + j];
				}
				/* From the base, tree by tree, as boosting builds its margins. */
				for (j = 0; j < M; j++)
					bad |= out[i * (size_t)M + (size_t)j] != want[j];
			}
			CHECK(!bad);
			ml_forest_release(&F);
			free(X);
			free(out);
			free(lv);
		}
}

static void test_treeshap_brute_force(void)
{
	struct ml_rng r;
	int shape, p = 5;
	static const int shapes[][4] = {{1, 1, 0, 3}, {1, 3, 0, 6}, {3, 1, 1, 4}};

	ml_rng_seed(&r, 3);
	for (shape = 0; shape < 3; shape++) {
		struct ml_forest F;
		int nout = shapes[shape][0], ng = shapes[shape][1], M = nout * ng, row, m, j;
		size_t n = 8, i;
		double *X = malloc(n * (size_t)p * sizeof(double));
		double *phi = malloc(n * (size_t)M * (size_t)(p + 1) * sizeof(double));
		struct ml_err e;
		random_forest(&F, &r, p, nout, ng, shapes[shape][2], shapes[shape][3]);
		for (i = 0; i < n; i++)
			for (j = 0; j < p; j++) {
				double v = j < 2 ? (double)ml_rng_below(&r, 7) : ml_rng_normal(&r);
				if (ml_rng_uniform(&r) < 0.15 || (j < 2 && v == 6))
					v = NAN;
				X[(size_t)j * n + i] = v;
			}
		ml_err_init(&e);
		CHECK(ml_forest_contrib(&F, X, n, n, 0, M, phi, &e) == 0);
		for (row = 0; row < (int)n; row++) {
			double x[5];
			for (j = 0; j < p; j++)
				x[j] = X[(size_t)j * n + (size_t)row];
			for (m = 0; m < M; m++) {
				const double *ph =
				    phi + ((size_t)row * M + (size_t)m) * (size_t)(p + 1);
				double sum = 0;
				CHECK_NEAR(ph[p], forest_value(&F, 0, x, m), 1e-12);
				for (j = 0; j < p; j++) {
					double want = 0;
					unsigned S;
					for (S = 0; S < 1u << p; S++) {
						int sz = __builtin_popcount(S);
						if (S >> j & 1)
							continue;
						want += fact(sz) * fact(p - sz - 1) / fact(p) *
							(forest_value(&F, S | 1u << j, x, m) -
							 forest_value(&F, S, x, m));
					}
					CHECK_NEAR(ph[j], want, 1e-10);
					sum += ph[j];
				}
				CHECK_NEAR(sum + ph[p], forest_value(&F, (1u << p) - 1, x, m),
					   1e-10);
			}
		}
		free(X);
		free(phi);
		ml_forest_release(&F);
	}
}

/* Contributions of fitted models add up to their raw margins, row by row. */
static void check_contrib_sums(const char *algo, const struct dset *s, const char *params)
{
	const struct ml_algo *a = ml_algo_find(algo);
	void *st = fit_direct(algo, s, NULL, params, &ctx2);
	int K = s->nclass > 2 ? s->nclass : 1, k, j, p = s->p;
	double *raw, *phi;
	size_t i;
	struct ml_err e;

	CHECK(st != NULL);
	if (!st)
		return;
	ml_err_init(&e);
	raw = predict_direct(algo, st, s, 1, K);
	phi = malloc(s->n * (size_t)K * (size_t)(p + 1) * sizeof(double));
	CHECK(a->contrib(st, s->X, s->n, s->n, phi, &e) == 0);
	for (i = 0; raw && i < s->n; i++)
		for (k = 0; k < K; k++) {
			const double *ph = phi + (i * (size_t)K + (size_t)k) * (size_t)(p + 1);
			double sum = 0;
			for (j = 0; j <= p; j++)
				sum += ph[j];
			CHECK_NEAR(sum, raw[i * (size_t)K + (size_t)k], 1e-9);
		}
	free(raw);
	free(phi);
	a->free(st);
}

static void test_treeshap_sums(void)
{
	struct ml_frame f;
	struct dset s;

	if (unit_read_frame(&f, FIX, "pg_train.csv", NULL) == 0) {
		frame_dset(&s, &f, "species");
		check_contrib_sums("gbdt", &s, "rounds=30");
		check_contrib_sums("gbdt", &s, "rounds=10,max-leaves=12,max-cat=1");
		check_contrib_sums("rf", &s, "trees=20");
		check_contrib_sums("tree", &s, NULL);
		dset_free(&s);
		ml_frame_release(&f);
	}
	if (unit_read_frame(&f, FIX, "pima_train.csv", NULL) == 0) {
		frame_dset(&s, &f, "diabetes");
		check_contrib_sums("gbdt", &s, NULL);
		check_contrib_sums("rf", &s, "trees=30");
		check_contrib_sums("tree", &s, "max-depth=8");
		dset_free(&s);
		ml_frame_release(&f);
	}
	if (unit_read_frame(&f, FIX, "wx_train.csv", NULL) == 0) {
		frame_dset(&s, &f, "temp_max");
		check_contrib_sums("gbdt", &s, "rounds=50,subsample=0.7,colsample=0.7");
		check_contrib_sums("gbdt", &s, "rounds=20,objective=quantile,alpha=0.3");
		check_contrib_sums("rf", &s, "trees=10");
		check_contrib_sums("tree", &s, "min-samples-leaf=5");
		dset_free(&s);
		ml_frame_release(&f);
	}
}

/* --- Leaves ---------------------------------------------------------------------------- */

static void test_leaves(void)
{
	struct ml_frame f;
	struct dset s;
	const struct ml_algo *a = ml_algo_find("gbdt");
	void *st;
	size_t i;
	int t, nt;

	if (unit_read_frame(&f, FIX, "pg_train.csv", NULL) < 0)
		return;
	frame_dset(&s, &f, "species");
	st = fit_direct("gbdt", &s, NULL, "rounds=5,min-samples-leaf=20", &ctx1);
	CHECK(st != NULL);
	if (st) {
		int32_t *lv;
		int *cnt;
		nt = a->ntrees(st);
		CHECK(nt == 15);
		lv = malloc(s.n * (size_t)nt * sizeof(int32_t));
		cnt = calloc(4096, sizeof(int));
		CHECK(a->leaves(st, s.X, s.n, s.n, lv, NULL) == 0);
		/* Every leaf a training row reaches holds at least 20 of them. */
		for (t = 0; t < nt; t++) {
			memset(cnt, 0, 4096 * sizeof(int));
			for (i = 0; i < s.n; i++)
				if (lv[i * (size_t)nt + (size_t)t] >= 0 &&
				    lv[i * (size_t)nt + (size_t)t] < 4096)
					cnt[lv[i * (size_t)nt + (size_t)t]]++;
			for (i = 0; i < 4096; i++)
				CHECK(cnt[i] == 0 || cnt[i] >= 20);
		}
		free(lv);
		free(cnt);
		a->free(st);
	}
	dset_free(&s);
	ml_frame_release(&f);
}

/* --- Model round trips ------------------------------------------------------------------- */

static void round_trip(const char *algo, const char *file, const char *target, const char *params)
{
	struct ml_frame f;
	struct ml_learner *l, *l2;
	struct ml_model *m = NULL, *m2;
	unsigned char *buf = NULL;
	size_t len = 0;
	struct ml_err e;
	double *a, *b;
	int na, nb, raw;

	if (unit_read_frame(&f, FIX, file, NULL) < 0)
		return;
	l = fit_frame(algo, &f, target, params, 0, &ctx2);
	CHECK(l != NULL);
	ml_err_init(&e);
	if (!l || ml_learner_to_model(l, &m, &e) < 0 || ml_model_to_mem(m, &buf, &len, &e) < 0) {
		CHECK(0);
		goto out;
	}
	m2 = ml_model_from_mem(buf, len, "mem", &e);
	l2 = m2 ? ml_learner_from_model(m2, &e) : NULL;
	CHECK(l2 != NULL);
	for (raw = 0; l2 && raw < 2; raw++) {
		a = predict_frame(l, &f, raw, &na);
		b = predict_frame(l2, &f, raw, &nb);
		CHECK(a && b && na == nb &&
		      memcmp(a, b, f.rows.nrow * (size_t)na * sizeof(double)) == 0);
		free(a);
		free(b);
	}
	ml_learner_free(l2);
	ml_model_free(m2);
out:
	free(buf);
	ml_model_free(m);
	ml_learner_free(l);
	ml_frame_release(&f);
}

static void test_save_load(void)
{
	round_trip("gbdt", "pg_train.csv", "species", NULL);
	round_trip("gbdt", "bc_train.csv", "target", "rounds=20,max-leaves=20");
	round_trip("gbdt", "wx_train.csv", "temp_max", "objective=huber,huber-delta=2");
	round_trip("gbdt", "wx_train.csv", "temp_max", "objective=quantile,alpha=0.8");
	round_trip("rf", "pg_train.csv", "species", "trees=10");
	round_trip("rf", "wx_train.csv", "temp_max", "trees=10");
	round_trip("tree", "pima_train.csv", "diabetes", NULL);
}

/* A corrupted forest section is refused. */
static void test_load_rejects(void)
{
	struct ml_rng r;
	struct ml_forest F, G;
	struct ml_model *m;
	struct ml_err e;
	int what;

	ml_rng_seed(&r, 1);
	for (what = 0; what < 5; what++) {
		random_forest(&F, &r, 4, 1, 1, 0, 2);
		switch (what) {
		case 0:
			F.node[0].left = 0; /* a cycle */
			break;
		case 1:
			F.node[0].feat = 4; /* no such feature */
			break;
		case 2:
			F.node[0].left = F.start[1] - 1; /* right child past the tree */
			break;
		case 3:
			F.cover[1] = -1;
			break;
		case 4:
			break; /* intact */
		}
		m = ml_model_new("model", "gbdt");
		ml_err_init(&e);
		CHECK(ml_forest_save(&F, m, "x.forest", &e) == 0);
		if (what < 4) {
			CHECK(ml_forest_load(&G, m, "x.forest", 4, &e) == ML_E_DATA);
		} else {
			CHECK(ml_forest_load(&G, m, "x.forest", 4, &e) == 0 && G.nnode == F.nnode);
			ml_forest_release(&G);
			CHECK(ml_forest_load(&G, m, "x.forest", 5, &e) == ML_E_DATA);
		}
		ml_model_free(m);
		ml_forest_release(&F);
	}
}

/* --- Threads ------------------------------------------------------------------------------ */

static void test_threads_identical(void)
{
	struct dset s;
	struct ml_rng r;
	size_t n = 70000, i, la, lb, lc;
	int j;
	void *a, *b, *c;
	unsigned char *sa, *sb, *sc;

	ml_rng_seed(&r, 21);
	dset_init(&s, n, 8, 2);
	s.ncat[7] = 12;
	for (i = 0; i < n; i++) {
		double z = 0;
		for (j = 0; j < 7; j++) {
			double v = ml_rng_normal(&r);
			z += v * (j % 3 - 1);
			s.X[(size_t)j * n + i] = ml_rng_uniform(&r) < 0.05 ? NAN : v;
		}
		s.X[7 * n + i] = (double)ml_rng_below(&r, 12);
		z += s.X[7 * n + i] > 6 ? 0.5 : 0;
		s.y[i] = z + ml_rng_normal(&r) > 0;
	}
	{
		const char *pr =
		    "rounds=8,max-depth=5,subsample=0.8,colsample=0.7,min-samples-leaf=3";
		a = fit_direct("gbdt", &s, NULL, pr, &ctx1);
		b = fit_direct("gbdt", &s, NULL, pr, &ctx2);
		c = fit_direct("gbdt", &s, NULL, pr, &ctx3);
		CHECK(a && b && c);
		sa = section("gbdt", a, "gbdt.forest", &la);
		sb = section("gbdt", b, "gbdt.forest", &lb);
		sc = section("gbdt", c, "gbdt.forest", &lc);
		CHECK(sa && sb && sc && la == lb && la == lc && memcmp(sa, sb, la) == 0 &&
		      memcmp(sa, sc, la) == 0);
		free(sa);
		free(sb);
		free(sc);
		ml_algo_find("gbdt")->free(a);
		ml_algo_find("gbdt")->free(b);
		ml_algo_find("gbdt")->free(c);
		pr = "rounds=5,max-leaves=16";
		a = fit_direct("gbdt", &s, NULL, pr, &ctx1);
		b = fit_direct("gbdt", &s, NULL, pr, &ctx3);
		sa = section("gbdt", a, "gbdt.forest", &la);
		sb = section("gbdt", b, "gbdt.forest", &lb);
		CHECK(sa && sb && la == lb && memcmp(sa, sb, la) == 0);
		free(sa);
		free(sb);
		ml_algo_find("gbdt")->free(a);
		ml_algo_find("gbdt")->free(b);
	}
	s.n = 3000; /* the first 3000 rows: columns keep stride n below */
	{
		struct dset t;
		dset_init(&t, 3000, 8, 2);
		for (j = 0; j < 8; j++)
			memcpy(t.X + (size_t)j * 3000, s.X + (size_t)j * n, 3000 * sizeof(double));
		memcpy(t.y, s.y, 3000 * sizeof(double));
		t.ncat[7] = 12;
		a = fit_direct("rf", &t, NULL, "trees=12", &ctx1);
		b = fit_direct("rf", &t, NULL, "trees=12", &ctx3);
		CHECK(a && b);
		sa = section("rf", a, "rf.forest", &la);
		sb = section("rf", b, "rf.forest", &lb);
		CHECK(sa && sb && la == lb && memcmp(sa, sb, la) == 0);
		free(sa);
		free(sb);
		sa = section("rf", a, "rf.info", &la);
		sb = section("rf", b, "rf.info", &lb);
		CHECK(sa && sb && la == lb && memcmp(sa, sb, la) == 0);
		free(sa);
		free(sb);
		ml_algo_find("rf")->free(a);
		ml_algo_find("rf")->free(b);
		dset_free(&t);
	}
	s.n = n;
	dset_free(&s);
}

/* --- Early stopping ---------------------------------------------------------------------- */

static void test_early_stopping(void)
{
	struct ml_frame f, v;
	struct dset s, t;
	const struct ml_algo *a = ml_algo_find("gbdt");
	void *st, *st2;
	int best;
	char params[128];

	if (unit_read_frame(&f, FIX, "bc_train.csv", NULL) < 0 ||
	    unit_read_frame(&v, FIX, "bc_test.csv", NULL) < 0)
		return;
	frame_dset(&s, &f, "target");
	frame_dset(&t, &v, "target");
	s.nclass = t.nclass = 2;
	st = fit_direct("gbdt", &s, &t, "rounds=500,learning-rate=0.3,early-stop=10", &ctx2);
	CHECK(st != NULL);
	if (st) {
		double *p1, *p2;
		best = a->ntrees(st);
		CHECK(best >= 1 && best < 490);
		/* The kept model is the one of exactly that many rounds. */
		snprintf(params, sizeof(params), "rounds=%d,learning-rate=0.3", best);
		st2 = fit_direct("gbdt", &s, NULL, params, &ctx1);
		p1 = predict_direct("gbdt", st, &t, 1, 1);
		p2 = predict_direct("gbdt", st2, &t, 1, 1);
		CHECK(p1 && p2 && memcmp(p1, p2, t.n * sizeof(double)) == 0);
		free(p1);
		free(p2);
		a->free(st2);
		a->free(st);
	}
	dset_free(&s);
	dset_free(&t);
	ml_frame_release(&f);
	ml_frame_release(&v);
}

/* --- The fit's own scores of its rows ----------------------------------------------------- */

/* What gbdt keeps of its training rows' scores is, byte for byte, what predict gives for
 * them, for every objective, with row and column sampling, categories and missing values;
 * early stopping that drops trees keeps none. */
static void test_fitted_scores(void)
{
	static const struct {
		int nclass;
		const char *params;
	} cases[] = {
	    {2, "rounds=12,max-depth=4"},
	    {2, "rounds=10,max-depth=0,max-leaves=9,subsample=0.7,colsample=0.6"},
	    {3, "rounds=8,max-depth=3"},
	    /* over 128 leaves a tree: wide leaf slots */
	    {2, "rounds=4,max-depth=0,max-leaves=300,subsample=0.8"},
	    {3, "rounds=3,max-depth=9"},
	    {0, "rounds=10,max-depth=4,subsample=0.8"},
	    {0, "objective=absolute-error,rounds=6,max-depth=3"},
	    {0, "objective=huber,rounds=6,max-depth=3"},
	    {0, "objective=quantile,alpha=0.3,rounds=6,max-depth=3"},
	};
	const struct ml_algo *a = ml_algo_find("gbdt");
	struct ml_rng r;
	size_t n = 4000, i;
	int c, j, raw;

	ml_rng_seed(&r, 5);
	for (c = 0; c < (int)(sizeof(cases) / sizeof(cases[0])); c++)
		for (raw = 0; raw < 2; raw++) {
			struct dset s;
			int K = cases[c].nclass, nout = K == 0 || (raw && K == 2) ? 1 : K;
			double *p, *f = malloc(n * (size_t)(K ? K : 1) * sizeof(double));
			void *st;
			dset_init(&s, n, 4, K);
			s.ncat[3] = 5;
			for (i = 0; i < n; i++) {
				double z = 0;
				for (j = 0; j < 3; j++) {
					double v = ml_rng_normal(&r);
					s.X[(size_t)j * n + i] = ml_rng_uniform(&r) < 0.05 ? NAN : v;
					z += v * (j + 1);
				}
				s.X[3 * n + i] = (double)ml_rng_below(&r, 5);
				z += s.X[3 * n + i] - 2 + ml_rng_normal(&r);
				s.y[i] = K == 0 ? z : K == 2 ? z > 0 : (z > 1) + (z > -1);
			}
			st = fit_direct("gbdt", &s, NULL, cases[c].params, &ctx2);
			p = predict_direct("gbdt", st, &s, raw, nout);
			CHECK(st && p && f);
			CHECK(a->fitted(st, f, raw) == 1);
			CHECK(memcmp(f, p, n * (size_t)nout * sizeof(double)) == 0);
			/* Given up once handed over. */
			CHECK(a->fitted(st, f, raw) == 0);
			free(p);
			free(f);
			a->free(st);
			dset_free(&s);
		}
}

/* --- Other objectives -------------------------------------------------------------------- */

static void test_objectives_fit(void)
{
	struct dset s;
	struct ml_rng r;
	size_t n = 3000, i;
	void *st;
	double *p, below = 0, my = 0, mp = 0;

	ml_rng_seed(&r, 77);
	dset_init(&s, n, 2, 0);
	for (i = 0; i < n; i++) {
		s.X[i] = ml_rng_uniform(&r);
		s.X[n + i] = ml_rng_normal(&r);
		s.y[i] = 3 * s.X[i] + ml_rng_normal(&r);
	}
	/* The 0.9 quantile leaves about 90% of the rows below. */
	st = fit_direct("gbdt", &s, NULL, "objective=quantile,alpha=0.9,rounds=200,max-depth=3",
			&ctx2);
	p = predict_direct("gbdt", st, &s, 0, 1);
	for (i = 0; p && i < n; i++)
		below += s.y[i] <= p[i];
	CHECK(fabs(below / n - 0.9) < 0.03);
	free(p);
	ml_algo_find("gbdt")->free(st);
	/* Poisson: counts with log mean x0; the predicted mean matches the mean count. */
	for (i = 0; i < n; i++) {
		double mu = exp(1 + s.X[i]), k = 0, L = exp(-mu), pp = 1;
		do {
			k++;
			pp *= ml_rng_uniform(&r);
		} while (pp > L);
		s.y[i] = k - 1;
		my += s.y[i];
	}
	st = fit_direct("gbdt", &s, NULL, "objective=poisson,rounds=100,max-depth=2", &ctx2);
	p = predict_direct("gbdt", st, &s, 0, 1);
	for (i = 0; p && i < n; i++)
		mp += p[i];
	CHECK(fabs(mp / my - 1) < 0.01);
	free(p);
	ml_algo_find("gbdt")->free(st);
	/* Absolute error: the median of a skewed noise. */
	for (i = 0; i < n; i++)
		s.y[i] = exp(ml_rng_normal(&r));
	st = fit_direct("gbdt", &s, NULL, "objective=absolute-error,rounds=50,max-depth=1", &ctx2);
	p = predict_direct("gbdt", st, &s, 0, 1);
	below = 0;
	for (i = 0; p && i < n; i++)
		below += s.y[i] <= p[i];
	CHECK(fabs(below / n - 0.5) < 0.03);
	free(p);
	ml_algo_find("gbdt")->free(st);
	dset_free(&s);
}

/* --- Fixtures: scikit-learn and XGBoost --------------------------------------------------- */

/* The value of (case, model, metric) in scores.csv, NaN when absent. */
static double sk_score(const struct ml_frame *sc, const char *c, const char *m, const char *k)
{
	size_t i;

	for (i = 0; i < sc->rows.nrow; i++) {
		const struct ml_col *cc = sc->schema.cols;
		if (strcmp(cc[0].dict.str[sc->rows.col[0].cat[i]], c) == 0 &&
		    strcmp(cc[1].dict.str[sc->rows.col[1].cat[i]], m) == 0 &&
		    strcmp(cc[2].dict.str[sc->rows.col[2].cat[i]], k) == 0)
			return sc->rows.col[3].num[i];
	}
	return NAN;
}

static void compare_case(const struct ml_frame *sc, const char *cs, const char *target, int regress)
{
	struct ml_frame tr, te;
	char name[64];
	const char *algos[] = {"gbdt", "rf"}, *ref[] = {"hgb", "rf"};
	int a;

	snprintf(name, sizeof(name), "%s_train.csv", cs);
	if (unit_read_frame(&tr, FIX, name, NULL) < 0)
		return;
	snprintf(name, sizeof(name), "%s_test.csv", cs);
	if (unit_read_frame(&te, FIX, name, NULL) < 0) {
		ml_frame_release(&tr);
		return;
	}
	for (a = 0; a < 2; a++) {
		struct ml_learner *l = fit_frame(algos[a], &tr, target, NULL, 0, &ctx2);
		size_t n = te.rows.nrow, i;
		double *y = malloc(n * sizeof(double)), *p;
		int K, k;
		struct ml_err e;
		CHECK(l != NULL);
		if (!l) {
			free(y);
			continue;
		}
		p = predict_frame(l, &te, 0, &K);
		ml_err_init(&e);
		CHECK(ml_learner_target_codes(l, &te, NULL, n, y, &e) == 0);
		if (regress) {
			double sse = 0, sst = 0, my = 0, rmse, r2;
			for (i = 0; i < n; i++)
				my += y[i] / (double)n;
			for (i = 0; i < n; i++) {
				sse += (y[i] - p[i]) * (y[i] - p[i]);
				sst += (y[i] - my) * (y[i] - my);
			}
			rmse = sqrt(sse / (double)n);
			r2 = 1 - sse / sst;
			printf("# %s %s rmse %.4f (sklearn %.4f) r2 %.4f (sklearn %.4f)\n", cs,
			       algos[a], rmse, sk_score(sc, cs, ref[a], "rmse"), r2,
			       sk_score(sc, cs, ref[a], "r2"));
			CHECK(rmse <= 1.05 * sk_score(sc, cs, ref[a], "rmse"));
			CHECK(r2 >= sk_score(sc, cs, ref[a], "r2") - 0.02);
		} else {
			double acc = 0, ll = 0, au = NAN, *s1 = malloc(n * sizeof(double));
			for (i = 0; i < n; i++) {
				int best = 0;
				for (k = 1; k < K; k++)
					if (p[i * (size_t)K + (size_t)k] >
					    p[i * (size_t)K + (size_t)best])
						best = k;
				acc += best == (int)y[i];
				ll -= log(fmax(p[i * (size_t)K + (size_t)y[i]], 1e-15));
				s1[i] = p[i * (size_t)K + 1];
			}
			acc /= (double)n;
			ll /= (double)n;
			if (K == 2)
				au = auc(s1, y, n);
			printf("# %s %s accuracy %.4f (sklearn %.4f) auc %.4f (sklearn %.4f) "
			       "logloss %.4f "
			       "(sklearn %.4f)\n",
			       cs, algos[a], acc, sk_score(sc, cs, ref[a], "accuracy"), au,
			       sk_score(sc, cs, ref[a], "auc"), ll,
			       sk_score(sc, cs, ref[a], "logloss"));
			CHECK(acc >= sk_score(sc, cs, ref[a], "accuracy") - 0.04);
			if (K == 2)
				CHECK(au >= sk_score(sc, cs, ref[a], "auc") - 0.015);
			if (a == 0)
				CHECK(ll <= sk_score(sc, cs, ref[a], "logloss") + 0.05);
			free(s1);
		}
		free(p);
		free(y);
		ml_learner_free(l);
	}
	ml_frame_release(&tr);
	ml_frame_release(&te);
}

static void test_sklearn_scores(void)
{
	struct ml_frame sc;

	if (unit_read_frame(&sc, FIX, "scores.csv", NULL) < 0) {
		CHECK(0);
		return;
	}
	compare_case(&sc, "bc", "target", 0);
	compare_case(&sc, "pima", "diabetes", 0);
	compare_case(&sc, "pg", "species", 0);
	compare_case(&sc, "wx", "temp_max", 1);
	ml_frame_release(&sc);
}

static void cart_case(const char *cs, const char *expect, const char *target, const char *params,
		      int balanced)
{
	struct ml_frame tr, te, ex;
	char name[64];
	struct ml_learner *l;
	double *p;
	int K, k;
	size_t i;

	snprintf(name, sizeof(name), "%s_train.csv", cs);
	if (unit_read_frame(&tr, FIX, name, NULL) < 0)
		return;
	snprintf(name, sizeof(name), "%s_test.csv", cs);
	unit_read_frame(&te, FIX, name, NULL);
	snprintf(name, sizeof(name), "%s.csv", expect);
	unit_read_frame(&ex, FIX, name, NULL);
	l = fit_frame("tree", &tr, target, params, balanced, &ctx1);
	CHECK(l != NULL);
	p = l ? predict_frame(l, &te, 0, &K) : NULL;
	CHECK(p && K == ex.schema.ncol && ex.rows.nrow == te.rows.nrow);
	for (i = 0; p && K == ex.schema.ncol && i < ex.rows.nrow; i++)
		for (k = 0; k < K; k++)
			if (fabs(p[i * (size_t)K + (size_t)k] - ex.rows.col[k].num[i]) >
			    1e-12 * (1 + fabs(ex.rows.col[k].num[i]))) {
				fprintf(stderr, "%s: row %zu value %d: %.17g, want %.17g\n", expect,
					i, k, p[i * (size_t)K + (size_t)k], ex.rows.col[k].num[i]);
				CHECK(0);
				i = ex.rows.nrow;
				break;
			}
	free(p);
	ml_learner_free(l);
	ml_frame_release(&tr);
	ml_frame_release(&te);
	ml_frame_release(&ex);
}

static void test_cart_sklearn(void)
{
	cart_case("cart_pg", "cart_pg_depth3", "species", "max-depth=3", 0);
	cart_case("cart_pg", "cart_pg_entropy", "species", "criterion=entropy", 0);
	cart_case("cart_pg", "cart_pg_leaf5", "species", "min-samples-leaf=5,min-samples-split=12",
		  0);
	cart_case("cart_pg", "cart_pg_ccp", "species", "ccp-alpha=0.01", 0);
	cart_case("cart_pg", "cart_pg_balanced", "species", "max-depth=4", 1);
	cart_case("cart_wx", "cart_wx_depth5", "temp_max", "max-depth=5", 0);
	cart_case("cart_wx", "cart_wx_ccp", "temp_max", "ccp-alpha=0.5,min-samples-leaf=3", 0);
	cart_case("cart_wx", "cart_wx_leaf20", "temp_max", "min-samples-leaf=20", 0);
	/* more distinct values than bins: split between the sorted values */
	cart_case("cart_bc", "cart_bc_depth4", "target", "max-depth=4", 0);
	cart_case("cart_bc", "cart_bc_ccp", "target", "ccp-alpha=0.005", 0);
	cart_case("cart_bcr", "cart_bcr_ccp", "worst area", "ccp-alpha=2000,min-samples-leaf=2", 0);
}

static void xgb_case(const char *expect, const char *target, const char *params)
{
	struct ml_frame tr, ex;
	struct dset s, t;
	void *st;
	double *m;
	size_t i;
	int j, k = 0;
	static const char *const feats[] = {"bill_length_mm", "bill_depth_mm", "flipper_length_mm"};
	char name[64];

	if (unit_read_frame(&tr, FIX, "cart_pg_train.csv", NULL) < 0)
		return;
	snprintf(name, sizeof(name), "%s.csv", expect);
	unit_read_frame(&ex, FIX, name, NULL);
	frame_dset(&s, &tr, "species");
	dset_init(&t, s.n, 3, strcmp(target, "adelie") == 0 ? 2 : 0);
	for (j = 0; j < s.p; j++) {
		int q;
		for (q = 0; q < 3; q++)
			if (strcmp(s.names[j], feats[q]) == 0)
				memcpy(t.X + (size_t)q * s.n, s.X + (size_t)j * s.n,
				       s.n * sizeof(double));
		if (strcmp(s.names[j], "body_mass_g") == 0)
			k = j;
	}
	for (i = 0; i < s.n; i++) {
		int32_t c = tr.rows.col[ml_schema_find(&tr.schema, "species")].cat[i];
		const struct ml_dict *dd =
		    &tr.schema.cols[ml_schema_find(&tr.schema, "species")].dict;
		t.y[i] = t.nclass ? strcmp(dd->str[c], "Adelie") == 0 : s.X[(size_t)k * s.n + i];
	}
	st = fit_direct("gbdt", &t, NULL, params, &ctx2);
	CHECK(st != NULL);
	m = st ? predict_direct("gbdt", st, &t, 1, 1) : NULL;
	CHECK(m && ex.rows.nrow == t.n);
	for (i = 0; m && i < ex.rows.nrow; i++)
		if (fabs(m[i] - ex.rows.col[0].num[i]) > 2e-5 * (1 + fabs(ex.rows.col[0].num[i]))) {
			fprintf(stderr, "%s: row %zu margin %.9g, want %.9g\n", expect, i, m[i],
				ex.rows.col[0].num[i]);
			CHECK(0);
			break;
		}
	free(m);
	if (st)
		ml_algo_find("gbdt")->free(st);
	dset_free(&s);
	dset_free(&t);
	ml_frame_release(&tr);
	ml_frame_release(&ex);
}

static void test_xgboost_same_trees(void)
{
	xgb_case("xgb_pg_logistic", "adelie", "rounds=20,learning-rate=0.3,max-depth=3");
	xgb_case(
	    "xgb_pg_squared", "body_mass_g",
	    "rounds=20,learning-rate=0.3,max-depth=3,l2=2,l1=50,min-gain=1000,min-child-weight=5");
}

static void test_tables(void)
{
	struct ml_frame f, t;
	struct ml_learner *l;
	struct ml_err e;
	const char *algos[] = {"gbdt", "rf", "tree"};
	int a;

	if (unit_read_frame(&f, FIX, "pg_train.csv", NULL) < 0)
		return;
	for (a = 0; a < 3; a++) {
		l = fit_frame(algos[a], &f, "species", a == 1 ? "trees=5" : NULL, 0, &ctx1);
		CHECK(l != NULL);
		if (!l)
			continue;
		ml_err_init(&e);
		ml_frame_init(&t);
		CHECK(ml_learner_table(l, "importance", &t, &e) == 0 && t.rows.nrow == 6);
		ml_frame_release(&t);
		ml_frame_init(&t);
		CHECK(ml_learner_table(l, "tree", &t, &e) == 0 && t.rows.nrow > 3);
		ml_frame_release(&t);
		ml_learner_free(l);
	}
	ml_frame_release(&f);
}

int main(void)
{
	struct ml_err e;

	ml_err_init(&e);
	if (ml_ctx_init(&ctx1, 1, 42, &e) < 0 || ml_ctx_init(&ctx2, 2, 42, &e) < 0 ||
	    ml_ctx_init(&ctx3, 3, 42, &e) < 0)
		return 1;
	RUN(test_objective_gradients);
	RUN(test_depth1_brute_force);
	RUN(test_bin_layouts);
	RUN(test_missing_direction);
	RUN(test_categorical_split);
	RUN(test_treeshap_brute_force);
	RUN(test_treeshap_sums);
	RUN(test_leaves);
	RUN(test_walks_agree);
	RUN(test_save_load);
	RUN(test_load_rejects);
	RUN(test_threads_identical);
	RUN(test_early_stopping);
	RUN(test_objectives_fit);
	RUN(test_fitted_scores);
	RUN(test_sklearn_scores);
	RUN(test_cart_sklearn);
	RUN(test_xgboost_same_trees);
	RUN(test_tables);
	ml_ctx_release(&ctx1);
	ml_ctx_release(&ctx2);
	ml_ctx_release(&ctx3);
	return UNIT_EXIT();
}
