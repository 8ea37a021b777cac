/* Unit tests of the generic learner layer: typed hyperparameters (strings and lists, their
 * checks and their JSON form), fitting without a target, predictions with a standard
 * deviation, the algorithm accessors, the fitted learner's hyperparameters, parameter tables
 * of other owners, a predictor's outputs (rows in any order, a pool, leaves, contributions),
 * and one learner shared by predictors on threads. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml.h"
#include "learn/learn_int.h"
#include "unit.h"

/* --- A test family: the distance of a row from the training means --------------------- */

struct centre {
	int p;
	double *mean;
};

static const struct ml_param centre_params[] = {
	{"hidden", ML_P_INT_LIST, 0, 1, 4096, "128,64", "layer sizes"},
	{"quantiles", ML_P_LIST, 0, 0, 1, "0.5", "levels"},
	{"kernel", ML_P_STRING, 0, 0, 0, "rbf", "a kernel expression"},
	{"scale", ML_P_REAL, 1, 0, INFINITY, NULL, "a factor"},
	{NULL, ML_P_REAL, 0, 0, 0, NULL, NULL}};

static int centre_fit(void **state, const struct ml_data *d, const struct ml_data *valid,
		      const struct ml_params *hp, struct ml_ctx *ctx, struct ml_err *e)
{
	struct centre *c = calloc(1, sizeof(*c));
	size_t i;
	int j;

	(void)valid;
	(void)ctx;
	if (!c || !(c->mean = calloc((size_t)d->p, sizeof(double)))) {
		free(c);
		return ml_err_nomem(e);
	}
	c->p = d->p;
	for (j = 0; j < d->p; j++) {
		for (i = 0; i < d->n; i++)
			c->mean[j] += d->col[j][i];
		c->mean[j] = c->mean[j] / (double)d->n * ml_param(hp, "scale");
	}
	*state = c;
	return 0;
}

/* Unsupervised: score = squared distance, far = score > 1. Regression (DIST): the value is
 * the first feature, the standard deviation the second. */
static int centre_predict(const void *state, const double *X, size_t n, size_t ld, double *out,
			  int what, struct ml_err *e)
{
	const struct centre *c = state;
	size_t i;
	int j;

	(void)e;
	for (i = 0; i < n; i++) {
		double s = 0;
		for (j = 0; j < c->p; j++)
			s += (X[(size_t)j * ld + i] - c->mean[j]) * (X[(size_t)j * ld + i] - c->mean[j]);
		if (what == ML_OUT_DIST) {
			out[2 * i] = X[i];
			out[2 * i + 1] = fabs(X[ld + i]);
		} else {
			out[2 * i] = s;
			out[2 * i + 1] = s > 1;
		}
	}
	return 0;
}

static int centre_outputs(const void *state, const char **names, int max)
{
	static const char *const mine[] = {"score", "far"};
	int k;

	(void)state;
	for (k = 0; k < 2 && k < max; k++)
		names[k] = mine[k];
	return 2;
}

static void centre_free(void *state)
{
	struct centre *c = state;
	if (c)
		free(c->mean);
	free(c);
}

static const struct ml_algo centre = {
	.name = "centre",
	.summary = "distance from the training means",
	.flags = ML_ALGO_UNSUPERVISED,
	.params = centre_params,
	.fit = centre_fit,
	.predict = centre_predict,
	.free = centre_free,
	.outputs = centre_outputs,
};

static const struct ml_algo spread = {
	.name = "spread",
	.summary = "the first feature, with the second as its standard deviation",
	.flags = ML_ALGO_REGRESS | ML_ALGO_DIST,
	.params = centre_params,
	.fit = centre_fit,
	.predict = centre_predict,
	.free = centre_free,
};

/* A frame of three numeric columns a, b, y. */
static void small_frame(struct ml_frame *f)
{
	static const double a[] = {0, 1, 2, 3, 4, 5}, b[] = {1, -1, 2, -2, 0.5, 3},
			    y[] = {1, 2, 3, 4, 5, 6};
	struct ml_err e;
	size_t i;

	ml_frame_init(f);
	ml_err_init(&e);
	CHECK(ml_schema_add(&f->schema, "a", ML_NUM) == 0);
	CHECK(ml_schema_add(&f->schema, "b", ML_NUM) == 1);
	CHECK(ml_schema_add(&f->schema, "y", ML_NUM) == 2);
	CHECK(ml_block_init(&f->rows, &f->schema, 6, &e) == 0);
	for (i = 0; i < 6; i++) {
		f->rows.col[0].num[i] = a[i];
		f->rows.col[1].num[i] = b[i];
		f->rows.col[2].num[i] = y[i];
	}
	f->rows.nrow = 6;
}

static void test_text_params(void)
{
	struct ml_params p, q;
	struct ml_err e;
	double v[8];
	cJSON *j;

	ml_err_init(&e);
	ml_params_init(&p, &centre);
	CHECK(strcmp(ml_param_text(&p, "kernel"), "rbf") == 0);
	CHECK(ml_param_list(&p, "hidden", v, 8) == 2 && v[0] == 128 && v[1] == 64);
	CHECK(ml_param_list(&p, "quantiles", v, 8) == 1 && v[0] == 0.5);
	CHECK(ml_params_set(&p, "hidden", "256,128,32", &e) == 0);
	CHECK(ml_param_list(&p, "hidden", v, 2) == 3 && v[0] == 256 && v[1] == 128);
	CHECK(ml_param_given(&p, "hidden") && !ml_param_given(&p, "kernel"));
	CHECK(ml_params_set(&p, "kernel", "matern52+white", &e) == 0);
	CHECK(strcmp(ml_param_text(&p, "kernel"), "matern52+white") == 0);
	CHECK(ml_params_set(&p, "quantiles", "0.1,0.9", &e) == 0);
	/* Wrong items, empty items, out of range, whole numbers expected. */
	CHECK(ml_params_set(&p, "hidden", "128,x", &e) == ML_E_USAGE);
	CHECK(strcmp(e.msg, "invalid value '128,x' for --hidden (comma-separated whole numbers "
			    "from 1 to 4096)") == 0);
	CHECK(ml_params_set(&p, "hidden", "128,,64", &e) == ML_E_USAGE);
	CHECK(ml_params_set(&p, "hidden", "1.5", &e) == ML_E_USAGE);
	CHECK(ml_params_set(&p, "hidden", "0", &e) == ML_E_USAGE);
	CHECK(ml_params_set(&p, "quantiles", "0.5,2", &e) == ML_E_USAGE);
	CHECK(strcmp(e.msg, "invalid value '0.5,2' for --quantiles (comma-separated numbers from "
			    "0 to 1)") == 0);
	/* The failed sets left the earlier values. */
	CHECK(ml_param_list(&p, "hidden", v, 8) == 3 && v[2] == 32);
	/* Numbers and text do not mix; unknown names are NaN, NULL, -1. */
	CHECK(isnan(ml_param(&p, "kernel")) && ml_param_text(&p, "scale") == NULL);
	CHECK(isnan(ml_param(&p, "nope")) && !ml_param_text(&p, "nope"));
	CHECK(ml_param_list(&p, "kernel", v, 8) == -1 && ml_param_list(&p, "nope", v, 8) == -1);
	CHECK(ml_params_set(&p, "nope", "1", &e) == ML_E_USAGE);
	/* JSON and back: strings as strings, lists as arrays of numbers. */
	j = ml_params_to_json(&p);
	CHECK(j != NULL);
	if (j) {
		char *txt = cJSON_PrintUnformatted(j);
		CHECK(txt && strcmp(txt, "{\"hidden\":[256,128,32],\"quantiles\":[0.1,0.9],"
					 "\"kernel\":\"matern52+white\",\"scale\":1}") == 0);
		free(txt);
		CHECK(ml_params_from_json(&q, &centre, j, &e) == 0);
		CHECK(strcmp(ml_param_text(&q, "hidden"), "256,128,32") == 0);
		CHECK(strcmp(ml_param_text(&q, "quantiles"), "0.1,0.9") == 0);
		CHECK(strcmp(ml_param_text(&q, "kernel"), "matern52+white") == 0);
		cJSON_Delete(j);
	}
	/* A value that is too long, and a set whose text space is full. */
	{
		char big[ML_PARAM_TEXT_MAX + 2];
		int k;
		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = 0;
		CHECK(ml_params_set(&p, "kernel", big, &e) == ML_E_USAGE);
		big[ML_PARAM_TEXT_MAX] = 0;
		for (k = 0; k < 8; k++)
			if (ml_params_set(&p, "kernel", big, &e) < 0)
				break;
		CHECK(k < 8 && strcmp(e.msg, "value of --kernel is too long") == 0);
	}
}

static void test_unsupervised(void)
{
	struct ml_frame f;
	struct ml_train_spec spec;
	struct ml_learner *l = NULL;
	struct ml_predictor *pr;
	struct ml_ctx ctx;
	struct ml_err e;
	double out[12];

	small_frame(&f);
	ml_err_init(&e);
	CHECK(ml_ctx_init(&ctx, 1, 1, &e) == 0);
	memset(&spec, 0, sizeof(spec));
	ml_params_init(&spec.params, &centre);
	spec.ignore = "y";
	/* A target for an algorithm without one, none for one that needs it. */
	spec.target = "y";
	CHECK(ml_learner_fit(&l, &f, NULL, 0, NULL, 0, &spec, &ctx, &e) == ML_E_USAGE);
	CHECK(strcmp(e.msg, "-a centre fits without a target (no -t)") == 0);
	spec.target = NULL;
	ml_params_init(&spec.params, &spread);
	CHECK(ml_learner_fit(&l, &f, NULL, 0, NULL, 0, &spec, &ctx, &e) == ML_E_USAGE);
	CHECK(strcmp(e.msg, "-a spread learns from a target: name its column with -t") == 0);
	ml_params_init(&spec.params, &centre);
	CHECK(ml_learner_fit(&l, &f, NULL, 0, NULL, 0, &spec, &ctx, &e) == 0);
	if (!l)
		goto out;
	CHECK(ml_learner_task(l) == ML_TASK_UNSUPERVISED && ml_learner_target(l) == NULL);
	CHECK(ml_learner_nout(l, ML_OUT_VALUE) == 2 && ml_learner_nout(l, ML_OUT_MARGIN) == 0 &&
	      ml_learner_nout(l, ML_OUT_DIST) == 0);
	CHECK(strcmp(ml_learner_output_name(l, 0), "score") == 0);
	CHECK(strcmp(ml_learner_output_name(l, 1), "far") == 0);
	CHECK(ml_learner_output_name(l, 2) == NULL && ml_learner_nfeatures(l) == 2);
	pr = ml_predictor_new(l);
	CHECK(pr && ml_predictor_bind(pr, &f.schema, &e) == 0);
	CHECK(ml_predictor_predict(pr, &f.rows, 0, 6, out, ML_OUT_VALUE, &e) == 0);
	/* means 2.5 and 7/12: row 0 is (0 - 2.5)^2 + (1 - 7/12)^2 */
	CHECK_NEAR(out[0], 6.25 + 25.0 / 144, 1e-15);
	CHECK(out[1] == 1);
	CHECK(ml_predictor_predict(pr, &f.rows, 0, 6, out, ML_OUT_MARGIN, &e) == ML_E_USAGE);
	CHECK(ml_learner_target_codes(l, &f, NULL, 6, out, &e) == ML_E_USAGE);
	ml_predictor_free(pr);
out:
	ml_learner_free(l);
	ml_ctx_release(&ctx);
	ml_frame_release(&f);
}

static void test_dist(void)
{
	struct ml_frame f;
	struct ml_train_spec spec;
	struct ml_learner *l = NULL;
	struct ml_predictor *pr;
	struct ml_ctx ctx;
	struct ml_err e;
	double out[12];

	small_frame(&f);
	ml_err_init(&e);
	CHECK(ml_ctx_init(&ctx, 1, 1, &e) == 0);
	memset(&spec, 0, sizeof(spec));
	ml_params_init(&spec.params, &spread);
	spec.target = "y";
	CHECK(ml_learner_fit(&l, &f, NULL, 0, NULL, 0, &spec, &ctx, &e) == 0);
	if (!l)
		goto out;
	CHECK(ml_learner_task(l) == ML_TASK_REGRESS);
	CHECK(ml_learner_nout(l, ML_OUT_DIST) == 2 && ml_learner_nout(l, ML_OUT_VALUE) == 1);
	pr = ml_predictor_new(l);
	CHECK(pr && ml_predictor_bind(pr, &f.schema, &e) == 0);
	CHECK(ml_predictor_predict(pr, &f.rows, 1, 3, out, ML_OUT_DIST, &e) == 0);
	CHECK(out[0] == 1 && out[1] == 1 && out[2] == 2 && out[3] == 2);
	ml_predictor_free(pr);
	ml_learner_free(l);
	l = NULL;
	/* A family without a standard deviation says so. */
	ml_params_init(&spec.params, ml_algo_find("linear"));
	CHECK(ml_learner_fit(&l, &f, NULL, 0, NULL, 0, &spec, &ctx, &e) == 0);
	if (!l)
		goto out;
	CHECK(ml_learner_nout(l, ML_OUT_DIST) == 0);
	pr = ml_predictor_new(l);
	CHECK(pr && ml_predictor_bind(pr, &f.schema, &e) == 0);
	CHECK(ml_predictor_predict(pr, &f.rows, 0, 6, out, ML_OUT_DIST, &e) == ML_E_USAGE);
	CHECK(strcmp(e.msg, "-a linear models give no predictive standard deviation") == 0);
	ml_predictor_free(pr);
out:
	ml_learner_free(l);
	ml_ctx_release(&ctx);
	ml_frame_release(&f);
}

static void test_algo_accessors(void)
{
	const struct ml_algo *const *a;
	const struct ml_algo *g = ml_algo_find("gbdt"), *lin = ml_algo_find("linear");
	int n = 0;

	for (a = ml_algos(); *a; a++, n++) {
		CHECK(ml_algo_find(ml_algo_name(*a)) == *a);
		CHECK(ml_algo_summary(*a) && *ml_algo_summary(*a));
		CHECK(ml_algo_params(*a) != NULL && ml_algo_tables(*a) != NULL);
		CHECK(ml_algo_flags(*a) & (ML_ALGO_CLASSIFY | ML_ALGO_REGRESS | ML_ALGO_UNSUPERVISED));
	}
	CHECK(n >= 10 && ml_algo_find("nope") == NULL);
	CHECK(g && (ml_algo_flags(g) & ML_ALGO_TREES) && (ml_algo_flags(g) & ML_ALGO_CONTRIB));
	CHECK(lin && !(ml_algo_flags(lin) & (ML_ALGO_TREES | ML_ALGO_CONTRIB)));
	CHECK(lin && ml_algo_tables(lin)[0] && strcmp(ml_algo_tables(lin)[0], "coef") == 0);
	CHECK(ml_algo_params(lin)[0].name == NULL);
}

/* The hyperparameters a learner was fitted with, as set and as defaulted, and after a
 * round trip through a model file. */
static void test_learner_params(void)
{
	struct ml_frame f;
	struct ml_train_spec spec;
	struct ml_learner *l = NULL, *l2 = NULL;
	struct ml_model *m = NULL, *m2 = NULL;
	const struct ml_params *p;
	unsigned char *buf = NULL;
	size_t len;
	struct ml_ctx ctx;
	struct ml_err e;

	small_frame(&f);
	ml_err_init(&e);
	CHECK(ml_ctx_init(&ctx, 1, 1, &e) == 0);
	/* a family of the test's own: text kept as given */
	memset(&spec, 0, sizeof(spec));
	ml_params_init(&spec.params, &centre);
	spec.ignore = "y";
	CHECK(ml_params_set(&spec.params, "kernel", "matern32", &e) == 0);
	CHECK(ml_params_set(&spec.params, "scale", "2", &e) == 0);
	CHECK(ml_learner_fit(&l, &f, NULL, 0, NULL, 0, &spec, &ctx, &e) == 0);
	p = l ? ml_learner_params(l) : NULL;
	CHECK(p != NULL);
	if (p) {
		CHECK(strcmp(ml_param_text(p, "kernel"), "matern32") == 0 &&
		      ml_param(p, "scale") == 2 && ml_param_given(p, "scale"));
		CHECK(strcmp(ml_param_text(p, "hidden"), "128,64") == 0 &&
		      !ml_param_given(p, "hidden"));
	}
	ml_learner_free(l);
	l = NULL;
	/* a registered one, saved and loaded */
	memset(&spec, 0, sizeof(spec));
	ml_params_init(&spec.params, ml_algo_find("ridge"));
	spec.target = "y";
	CHECK(ml_params_set(&spec.params, "l2", "3.5", &e) == 0);
	CHECK(ml_learner_fit(&l, &f, NULL, 0, NULL, 0, &spec, &ctx, &e) == 0);
	if (!l)
		goto out;
	p = ml_learner_params(l);
	CHECK(p && ml_param(p, "l2") == 3.5 && ml_param_given(p, "l2"));
	CHECK(ml_learner_to_model(l, &m, &e) == 0 && ml_model_to_mem(m, &buf, &len, &e) == 0);
	if (buf && (m2 = ml_model_from_mem(buf, len, "mem", &e)))
		l2 = ml_learner_from_model(m2, &e);
	CHECK(l2 != NULL);
	p = l2 ? ml_learner_params(l2) : NULL;
	CHECK(p && ml_param(p, "l2") == 3.5);
out:
	free(buf);
	ml_model_free(m);
	ml_model_free(m2);
	ml_learner_free(l);
	ml_learner_free(l2);
	ml_ctx_release(&ctx);
	ml_frame_release(&f);
}

/* A table of parameters of some other owner: its defaults, and messages naming the owner. */
static void test_params_table(void)
{
	struct ml_params p;
	struct ml_err e;
	double v[4];

	ml_err_init(&e);
	ml_params_init_table(&p, centre_params, "--model", "centre");
	CHECK(strcmp(ml_param_text(&p, "kernel"), "rbf") == 0 && ml_param(&p, "scale") == 1);
	CHECK(ml_param_list(&p, "hidden", v, 4) == 2 && !ml_param_given(&p, "scale"));
	CHECK(ml_params_set(&p, "scale", "2.5", &e) == 0 && ml_param(&p, "scale") == 2.5);
	CHECK(ml_params_set(&p, "nope", "1", &e) == ML_E_USAGE);
	CHECK(strcmp(e.msg, "--nope does not apply to --model centre") == 0);
}

/* A predictor binds to the learner's input schema; rows in any order score as they do in
 * order, a pool changes no byte, and tree models give a leaf per tree and contributions
 * that add up to the margin, which other families refuse. */
static void test_predictor_outputs(void)
{
	static const char *const algos[] = {"gbdt", "nb"};
	struct ml_frame f;
	struct ml_ctx ctx;
	struct ml_err e;
	int k;

	ml_err_init(&e);
	if (unit_read_frame(&f, NULL, "samples/penguins.csv", NULL) < 0)
		return;
	CHECK(ml_ctx_init(&ctx, 1, 1, &e) == 0);
	for (k = 0; k < 2; k++) {
		struct ml_train_spec spec;
		struct ml_learner *l = NULL;
		struct ml_predictor *p = NULL;
		struct ml_pool *pool = NULL;
		struct ml_schema in;
		size_t n = f.rows.nrow, i, *rev = NULL;
		double *a = NULL, *b = NULL, *c = NULL, *margin = NULL, *con = NULL;
		int32_t *leaf = NULL;
		int nout, nf, nt, K, j, isl, ok = 1;

		memset(&spec, 0, sizeof(spec));
		spec.target = "species";
		ml_params_init(&spec.params, ml_algo_find(algos[k]));
		if (k == 0)
			CHECK(ml_params_set(&spec.params, "rounds", "5", &e) == 0);
		CHECK(ml_learner_fit(&l, &f, NULL, 0, NULL, 0, &spec, &ctx, &e) == 0);
		if (!l)
			continue;
		ml_schema_init(&in);
		CHECK(ml_learner_input_schema(l, &in, &e) == 0);
		isl = ml_schema_find(&in, "island");
		CHECK(in.ncol == 6 && ml_schema_find(&in, "species") < 0 && isl >= 0);
		CHECK(isl >= 0 && in.cols[isl].type == ML_CAT && in.cols[isl].dict.n == 3 &&
		      strcmp(in.cols[isl].dict.str[0], "Biscoe") == 0);
		nf = ml_learner_nfeatures(l);
		CHECK(nf >= 6);
		for (j = 0; j < nf; j++)
			ok &= ml_learner_feature(l, j) && *ml_learner_feature(l, j);
		CHECK(ok);
		nt = ml_learner_ntrees(l);
		CHECK(k == 0 ? nt == 15 : nt == 0);
		p = ml_predictor_new(l);
		CHECK(p && ml_predictor_bind(p, &in, &e) == 0);
		nout = ml_learner_nout(l, ML_OUT_VALUE);
		K = ml_learner_nout(l, ML_OUT_MARGIN);
		a = malloc(n * (size_t)nout * sizeof(double));
		b = malloc(n * (size_t)nout * sizeof(double));
		c = malloc(n * (size_t)nout * sizeof(double));
		rev = malloc(n * sizeof(size_t));
		if (!p || !a || !b || !c || !rev || nout != 3 || ml_predictor_bind(p, &f.schema, &e)) {
			CHECK(0);
			goto next;
		}
		CHECK(ml_predictor_predict(p, &f.rows, 0, n, a, ML_OUT_VALUE, &e) == 0);
		for (i = 0; i < n; i++)
			rev[i] = n - 1 - i;
		CHECK(ml_predictor_predict_rows(p, &f.rows, rev, n, b, ML_OUT_VALUE, &e) == 0);
		for (i = 0, ok = 1; i < n; i++)
			ok &= !memcmp(b + i * 3, a + rev[i] * 3, 3 * sizeof(double));
		CHECK(ok);
		pool = ml_pool_new(3);
		ml_predictor_set_pool(p, pool);
		CHECK(ml_predictor_predict(p, &f.rows, 0, n, c, ML_OUT_VALUE, &e) == 0);
		CHECK(!memcmp(a, c, n * 3 * sizeof(double)));
		ml_predictor_set_pool(p, NULL);
		leaf = malloc((n * (size_t)(nt ? nt : 1)) * sizeof(int32_t));
		margin = malloc(n * (size_t)(K ? K : 1) * sizeof(double));
		con = malloc(n * (size_t)(K ? K : 1) * (size_t)(nf + 1) * sizeof(double));
		if (!leaf || !margin || !con) {
			CHECK(0);
			goto next;
		}
		if (k == 1) {
			CHECK(ml_predictor_leaves(p, &f.rows, 0, n, leaf, &e) == ML_E_USAGE);
			CHECK(ml_predictor_contrib(p, &f.rows, 0, n, con, &e) == ML_E_USAGE);
			goto next;
		}
		CHECK(ml_predictor_leaves(p, &f.rows, 0, n, leaf, &e) == 0);
		for (i = 0, ok = 1; i < n * (size_t)nt; i++)
			ok &= leaf[i] >= 0;
		CHECK(ok);
		CHECK(K == 3 && ml_predictor_predict(p, &f.rows, 0, n, margin, ML_OUT_MARGIN, &e) == 0);
		CHECK(ml_predictor_contrib(p, &f.rows, 0, n, con, &e) == 0);
		for (i = 0; i < n * (size_t)K; i++) {
			double sum = 0;
			for (j = 0; j <= nf; j++)
				sum += con[i * (size_t)(nf + 1) + (size_t)j];
			CHECK_NEAR(sum, margin[i], 1e-9);
		}
	next:
		ml_pool_free(pool);
		free(a);
		free(b);
		free(c);
		free(rev);
		free(leaf);
		free(margin);
		free(con);
		ml_predictor_free(p);
		ml_schema_release(&in);
		ml_learner_free(l);
	}
	ml_ctx_release(&ctx);
	ml_frame_release(&f);
}

/* One fitted learner, scored by predictors on two threads at once. */
struct job {
	const struct ml_learner *l;
	const struct ml_frame *f;
	double *out;
	int rc;
};

static void *score_job(void *arg)
{
	struct job *j = arg;
	struct ml_predictor *pr = ml_predictor_new(j->l);
	struct ml_err e;
	int r;

	ml_err_init(&e);
	j->rc = -1;
	if (!pr || ml_predictor_bind(pr, &j->f->schema, &e) < 0) {
		ml_predictor_free(pr);
		return NULL;
	}
	for (r = 0, j->rc = 0; r < 20 && j->rc == 0; r++)
		j->rc = ml_predictor_predict(pr, &j->f->rows, 0, j->f->rows.nrow, j->out, ML_OUT_VALUE,
					     &e);
	ml_predictor_free(pr);
	return NULL;
}

static void test_shared_learner(void)
{
	struct ml_frame f;
	struct ml_train_spec spec;
	struct ml_learner *l = NULL;
	struct ml_ctx ctx;
	struct ml_err e;
	struct job J[3];
	pthread_t th[2];
	size_t n;
	int k;

	ml_err_init(&e);
	CHECK(unit_read_frame(&f, NULL, "samples/penguins.csv", NULL) == 0);
	CHECK(ml_ctx_init(&ctx, 1, 7, &e) == 0);
	memset(&spec, 0, sizeof(spec));
	spec.target = "species";
	ml_params_init(&spec.params, ml_algo_find("gbdt"));
	CHECK(ml_params_set(&spec.params, "rounds", "20", &e) == 0);
	CHECK(ml_learner_fit(&l, &f, NULL, 0, NULL, 0, &spec, &ctx, &e) == 0);
	n = f.rows.nrow;
	for (k = 0; l && k < 3; k++) {
		J[k].l = l;
		J[k].f = &f;
		J[k].out = malloc(n * 3 * sizeof(double));
		J[k].rc = -1;
	}
	if (l && J[0].out && J[1].out && J[2].out) {
		score_job(&J[0]);
		for (k = 0; k < 2; k++)
			CHECK(pthread_create(&th[k], NULL, score_job, &J[k + 1]) == 0);
		for (k = 0; k < 2; k++)
			pthread_join(th[k], NULL);
		CHECK(J[0].rc == 0 && J[1].rc == 0 && J[2].rc == 0);
		CHECK(memcmp(J[0].out, J[1].out, n * 3 * sizeof(double)) == 0);
		CHECK(memcmp(J[0].out, J[2].out, n * 3 * sizeof(double)) == 0);
	}
	for (k = 0; l && k < 3; k++)
		free(J[k].out);
	ml_learner_free(l);
	ml_ctx_release(&ctx);
	ml_frame_release(&f);
}

/* Logistic regression on ill-conditioned data (collinear features on scales from 1 to 300,
 * three classes all but separable) stops near the minimum by default: within 1e-7 of the
 * largest coefficient of a fit to a tolerance of 1e-15 (the gradient test alone stops
 * 1e-6 of it away). */
static void test_logistic_conditioning(void)
{
	struct ml_frame f;
	struct ml_err e;
	struct ml_ctx ctx;
	struct ml_rng r;
	struct ml_learner *a = NULL, *b = NULL;
	struct ml_train_spec spec;
	struct ml_frame ta, tb;
	size_t i, n = 600;
	int j, k;
	double big = 0, diff = 0;

	ml_frame_init(&f);
	ml_err_init(&e);
	ml_rng_seed(&r, 11);
	for (j = 0; j < 6; j++) {
		char nm[16];
		snprintf(nm, sizeof(nm), "x%d", j);
		ml_schema_add(&f.schema, nm, ML_NUM);
	}
	ml_schema_add(&f.schema, "y", ML_NUM);
	CHECK(ml_block_init(&f.rows, &f.schema, n, &e) == 0);
	for (i = 0; i < n; i++) {
		double z = ml_rng_normal(&r), u = ml_rng_normal(&r), s;
		f.rows.col[0].num[i] = z;
		f.rows.col[1].num[i] = 300 * (z + 0.01 * ml_rng_normal(&r));
		f.rows.col[2].num[i] = u;
		f.rows.col[3].num[i] = 16 * (u - z + 0.05 * ml_rng_normal(&r));
		f.rows.col[4].num[i] = ml_rng_normal(&r);
		f.rows.col[5].num[i] = 50 * ml_rng_uniform(&r);
		s = z + 0.5 * u + 0.001 * ml_rng_normal(&r);
		f.rows.col[6].num[i] = s < -0.5 ? 0 : s < 0.5 ? 1 : 2;
	}
	f.rows.nrow = n;
	CHECK(ml_ctx_init(&ctx, 1, 1, &e) == 0);
	memset(&spec, 0, sizeof(spec));
	spec.target = "y";
	spec.task = ML_TASK_CLASSIFY;
	ml_params_init(&spec.params, ml_algo_find("logistic"));
	CHECK(ml_learner_fit(&a, &f, NULL, 0, NULL, 0, &spec, &ctx, &e) == 0);
	CHECK(ml_params_set(&spec.params, "tol", "1e-15", &e) == 0);
	CHECK(ml_params_set(&spec.params, "max-iter", "1000", &e) == 0);
	CHECK(ml_learner_fit(&b, &f, NULL, 0, NULL, 0, &spec, &ctx, &e) == 0);
	ml_frame_init(&ta);
	ml_frame_init(&tb);
	if (a && b && ml_learner_table(a, "coef", &ta, &e) == 0 &&
	    ml_learner_table(b, "coef", &tb, &e) == 0) {
		for (k = 1; k < ta.schema.ncol; k++)
			for (i = 0; i < ta.rows.nrow; i++) {
				double x = ta.rows.col[k].num[i], y = tb.rows.col[k].num[i];
				big = fmax(big, fabs(y));
				diff = fmax(diff, fabs(x - y));
			}
		CHECK(big > 0 && diff <= 1e-7 * big);
		if (!(diff <= 1e-7 * big))
			fprintf(stderr, "logistic: %g off, largest coefficient %g\n", diff, big);
	}
	ml_frame_release(&ta);
	ml_frame_release(&tb);
	ml_learner_free(a);
	ml_learner_free(b);
	ml_ctx_release(&ctx);
	ml_frame_release(&f);
}

int main(void)
{
	RUN(test_text_params);
	RUN(test_unsupervised);
	RUN(test_dist);
	RUN(test_algo_accessors);
	RUN(test_learner_params);
	RUN(test_params_table);
	RUN(test_predictor_outputs);
	RUN(test_shared_learner);
	RUN(test_logistic_conditioning);
	return UNIT_EXIT();
}
