/* Unit tests of what the fuzzers found (tests/fuzz/RESULTS.md), one a finding, each beside
 * the input that showed it in tests/fuzz/regressions/. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int main(void)
{
	ml_ctx_init(&ctx, 1, 42, NULL);
	RUN(test_tree_missing_level);
	ml_ctx_release(&ctx);
	return UNIT_EXIT();
}
