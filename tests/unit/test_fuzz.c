/* Unit tests of what the fuzzers found (tests/fuzz/RESULTS.md), one a finding, each beside
 * the input that showed it in tests/fuzz/regressions/. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ml/ml.h"
#include "unit.h"

static struct ml_ctx ctx;

/* Twelve rows: a category (with a gap), two numbers, a class and a value to predict. */
static void small_frame(struct ml_frame *f)
{
	static const char *const isl[] = {"a", "b", "c", "a", "b", "c"};
	size_t i;

	ml_frame_init(f);
	ml_schema_add(&f->schema, "island", ML_CAT);
	ml_schema_add(&f->schema, "x", ML_NUM);
	ml_schema_add(&f->schema, "z", ML_NUM);
	ml_schema_add(&f->schema, "species", ML_CAT);
	ml_schema_add(&f->schema, "mass", ML_NUM);
	ml_block_init(&f->rows, &f->schema, 12, NULL);
	for (i = 0; i < 12; i++) {
		f->rows.col[0].cat[i] = i == 7 ? ML_MISSING_CAT :
			ml_dict_intern(&f->schema.cols[0].dict, isl[i % 6], 1);
		f->rows.col[1].num[i] = (double)(i * 5 % 7);
		f->rows.col[2].num[i] = (double)i * 0.5;
		f->rows.col[3].cat[i] = ml_dict_intern(&f->schema.cols[3].dict, i % 3 ? "p" : "q", 1);
		f->rows.col[4].num[i] = 10.0 + (double)(i % 4) + (i % 6 == 1 ? 3 : 0);
	}
	f->rows.nrow = 12;
}

static struct ml_learner *fit(const char *algo, const struct ml_frame *f, const char *target)
{
	struct ml_train_spec spec;
	struct ml_learner *l = NULL;
	struct ml_err e;

	memset(&spec, 0, sizeof(spec));
	spec.target = target;
	ml_params_init(&spec.params, ml_algo_find(algo));
	if (ml_learner_fit(&l, f, NULL, 0, NULL, 0, &spec, &ctx, &e) < 0)
		fprintf(stderr, "fit %s: %s\n", algo, e.msg);
	return l;
}

/* A copy of m (kind "model") with section name's bytes replaced by data. */
static struct ml_model *with_section(const struct ml_model *m, const char *name, const void *data,
				     size_t len)
{
	static const char *const keys[] = {"task", "target", "target_type", "classes", "features",
					   "params", NULL};
	struct ml_model *c = ml_model_new(ml_model_kind(m), ml_model_algorithm(m));
	int i;

	for (i = 0; keys[i]; i++) {
		char *v = ml_model_meta_get(m, keys[i]);
		if (v)
			ml_model_meta_set(c, keys[i], v, NULL);
		free(v);
	}
	for (i = 0; i < ml_model_nsections(m); i++) {
		const char *s = ml_model_section_name(m, i);
		const void *d;
		size_t n;
		if (strcmp(s, name) == 0)
			ml_model_add(c, s, data, len, NULL);
		else if (ml_model_get(m, s, &d, &n, NULL) == 0)
			ml_model_add(c, s, d, n, NULL);
	}
	return c;
}

/* regressions/model/tree-missing-level: a tree ensemble scoring a missing level of a
 * categorical feature converted NaN to an unsigned level index (undefined) before it
 * checked the value; the row goes the missing values' way. */
static void test_tree_missing_level(void)
{
	static const char *const algos[] = {"tree", "rf", "gbdt"};
	struct ml_frame f;
	struct ml_err e;
	int k;

	small_frame(&f);
	for (k = 0; k < 3; k++) {
		struct ml_learner *l = fit(algos[k], &f, "mass");
		struct ml_predictor *pr = l ? ml_predictor_new(l) : NULL;
		double out[12];
		size_t i;
		CHECK(pr && ml_predictor_bind(pr, &f.schema, &e) == 0);
		CHECK(pr && ml_predictor_predict(pr, &f.rows, 0, 12, out, ML_OUT_VALUE, &e) == 0);
		for (i = 0; pr && i < 12; i++)
			CHECK(isfinite(out[i]));
		ml_predictor_free(pr);
		ml_learner_free(l);
	}
	ml_frame_release(&f);
}

/* regressions/model/nb-feature-count: naive Bayes took its feature count from the file
 * before comparing it with the model's, and on the way out walked that many features (2^31
 * - 1 of them: seconds). The load is refused at once. */
static void test_nb_feature_count(void)
{
	struct ml_frame f;
	struct ml_model *m = NULL, *bad;
	struct ml_learner *l;
	struct ml_err e;
	const void *d;
	size_t n;
	unsigned char *copy;
	clock_t t0;

	small_frame(&f);
	l = fit("nb", &f, "species");
	CHECK(l && ml_learner_to_model(l, &m, &e) == 0);
	CHECK(m && ml_model_get(m, "algo.nb", &d, &n, &e) == 0 && n > 12);
	if (!m || !(copy = malloc(n)))
		return;
	memcpy(copy, d, n);
	/* after the version: the feature count */
	copy[4] = copy[5] = copy[6] = 0xff;
	copy[7] = 0x7f;
	bad = with_section(m, "algo.nb", copy, n);
	t0 = clock();
	ml_err_init(&e);
	CHECK(ml_learner_from_model(bad, &e) == NULL && e.code == ML_E_DATA);
	CHECK(strstr(e.msg, "algo.nb' is invalid: its shape does not match") != NULL);
	CHECK((double)(clock() - t0) / CLOCKS_PER_SEC < 0.5);
	free(copy);
	ml_model_free(bad);
	ml_model_free(m);
	ml_learner_free(l);
	ml_frame_release(&f);
}

/* regressions/feat/ffill-no-columns: forward fill of an empty column list pointed into the
 * last values of a group that none were allocated for (NULL plus zero: undefined). */
static void test_ffill_no_columns(void)
{
	struct ml_feat_step step = {"impute", "ffill:"};
	struct ml_feat_spec sp;
	struct ml_features *f = NULL;
	const struct ml_block *rows, *out;
	const struct ml_schema *os;
	struct ml_frame fr;
	struct ml_err e;

	small_frame(&fr);
	ml_feat_spec_init(&sp);
	sp.steps = &step;
	sp.nsteps = 1;
	sp.missing_indicator = 1;
	CHECK(ml_features_fit(&f, &fr, &sp, &ctx, &rows, &e) == 0);
	CHECK(f && rows->nrow == 12);
	CHECK(f && ml_features_bind(f, &fr.schema, &os, &e) == 0);
	CHECK(f && ml_features_apply(f, &fr.rows, 0, 12, &out, &e) == 0 && out->nrow == 12);
	CHECK(f && os->ncol == fr.schema.ncol);
	ml_features_free(f);
	ml_frame_release(&fr);
}

/* CPU seconds to fit "--hash=COLS:12 --scale=minmax" on ncat categorical columns of 40
 * rows: 4096 hashed columns each. */
static double wide_fit(int ncat)
{
	struct ml_feat_step steps[2] = {{"hash", NULL}, {"scale", "minmax"}};
	struct ml_feat_spec sp;
	struct ml_features *f = NULL;
	const struct ml_block *rows;
	const struct ml_schema *os;
	struct ml_frame fr;
	struct ml_err e;
	char name[16], arg[256], v[16];
	size_t i, at = 0;
	clock_t t0;
	int j;

	ml_frame_init(&fr);
	for (j = 0; j < ncat; j++) {
		snprintf(name, sizeof(name), "c%d", j);
		ml_schema_add(&fr.schema, name, ML_CAT);
		at += (size_t)snprintf(arg + at, sizeof(arg) - at, "%s%s", j ? "," : "", name);
	}
	snprintf(arg + at, sizeof(arg) - at, ":12");
	steps[0].arg = arg;
	ml_block_init(&fr.rows, &fr.schema, 40, NULL);
	for (j = 0; j < ncat; j++)
		for (i = 0; i < 40; i++) {
			snprintf(v, sizeof(v), "w%zu", (i * 7 + (size_t)j) % 13);
			fr.rows.col[j].cat[i] = ml_dict_intern(&fr.schema.cols[j].dict, v, strlen(v));
		}
	fr.rows.nrow = 40;
	ml_feat_spec_init(&sp);
	sp.steps = steps;
	sp.nsteps = 2;
	t0 = clock();
	CHECK(ml_features_fit(&f, &fr, &sp, NULL, &rows, &e) == 0);
	CHECK(f && ml_features_bind(f, &fr.schema, &os, &e) == 0 && os->ncol == 4096 * ncat);
	ml_features_free(f);
	ml_frame_release(&fr);
	return (double)(clock() - t0) / CLOCKS_PER_SEC;
}

/* regressions/feat/text-4096-columns: a step's output names were checked against the
 * columns so far one by one, and a step's columns found in its input one by one: a wide
 * stage (4096 hashed columns a column) took time quadratic in its width. Four times the
 * columns now take about four times as long, not sixteen. */
static void test_wide_steps(void)
{
	double t1 = wide_fit(2), t4 = wide_fit(8);

	CHECK(t4 < 8 * t1 + 0.05);
	if (getenv("UNIT_VERBOSE") || !(t4 < 8 * t1 + 0.05))
		fprintf(stderr, "2 columns: %.3f s, 8 columns: %.3f s\n", t1, t4);
}

int main(void)
{
	ml_ctx_init(&ctx, 1, 42, NULL);
	RUN(test_tree_missing_level);
	RUN(test_nb_feature_count);
	RUN(test_ffill_no_columns);
	RUN(test_wide_steps);
	ml_ctx_release(&ctx);
	return UNIT_EXIT();
}
