/* Unit tests for lib/ensemble: the method table, the combining rules, building an
 * ensemble from learners fitted here and scoring it through the artefact layer, and the
 * out-of-fold features of a stack. */
#include <stdlib.h>
#include <string.h>

#include "ml/ml.h"
#include "unit.h"

static void test_methods(void)
{
	CHECK(ml_ens_method_find("mean") == ML_ENS_MEAN);
	CHECK(ml_ens_method_find("stack") == ML_ENS_STACK);
	CHECK(ml_ens_method_find("rank") == ML_ENS_RANK);
	CHECK(ml_ens_method_find("anomaly") == ML_ENS_ANOMALY);
	CHECK(ml_ens_method_find("boost") == -1);
	CHECK(strcmp(ml_ens_method_name(ML_ENS_VOTE), "vote") == 0);
}

static void test_combine(void)
{
	/* three members, two classes */
	double p[6] = {0.9, 0.1, 0.2, 0.8, 0.3, 0.7}, out[2], scratch[3];
	double w[3] = {2, 1, 1};
	int lab[3] = {0, 1, 1};

	CHECK(ml_ens_combine_row(ML_ENS_MEAN, 3, 2, p, lab, NULL, scratch, out) == 1);
	CHECK(out[0] == (0.9 + 0.2 + 0.3) / 3 && out[1] == (0.1 + 0.8 + 0.7) / 3);
	CHECK(ml_ens_combine_row(ML_ENS_MEDIAN, 3, 2, p, lab, NULL, scratch, out) == 1);
	CHECK(out[0] == 0.3 && out[1] == 0.7);
	CHECK(ml_ens_combine_row(ML_ENS_VOTE, 3, 2, p, lab, NULL, scratch, out) == 1);
	CHECK(out[0] == 1.0 / 3 && out[1] == 2.0 / 3);
	/* a weighted vote: the first member's two votes tie the others'; the first class wins */
	CHECK(ml_ens_combine_row(ML_ENS_VOTE, 3, 2, p, lab, w, scratch, out) == 0);
	CHECK(out[0] == 0.5 && out[1] == 0.5);
	CHECK(ml_ens_combine_row(ML_ENS_WEIGHTED, 3, 2, p, lab, w, scratch, out) == 0);
	CHECK_NEAR(out[0], (2 * 0.9 + 0.2 + 0.3) / 4, 1e-15);
	/* a regression: the median of an even count is the mean of the middle two */
	{
		double y[4] = {3, 1, 4, 2}, o;
		double s4[4];
		CHECK(ml_ens_combine_row(ML_ENS_MEDIAN, 4, 1, y, NULL, NULL, s4, &o) == 0);
		CHECK(o == 2.5);
		CHECK(ml_ens_combine_row(ML_ENS_MEAN, 4, 1, y, NULL, NULL, s4, &o) == 0 && o == 2.5);
	}
	/* a member without a vote is left out */
	lab[1] = -1;
	CHECK(ml_ens_combine_row(ML_ENS_VOTE, 3, 2, p, lab, NULL, scratch, out) == 0);
	CHECK(out[0] == 0.5);
}

/* y = 1 when x0 + x1 > 1; x2 is noise. */
static void toy(struct ml_frame *f, size_t n)
{
	const char *names[] = {"x0", "x1", "x2", "y"};
	struct ml_rng r;
	size_t i;
	int j;

	ml_frame_init(f);
	for (j = 0; j < 4; j++)
		if (ml_schema_add(&f->schema, names[j], ML_NUM) < 0)
			abort();
	if (ml_block_init(&f->rows, &f->schema, n, NULL) < 0)
		abort();
	ml_rng_seed(&r, 5);
	for (i = 0; i < n; i++) {
		for (j = 0; j < 3; j++)
			f->rows.col[j].num[i] = ml_rng_uniform(&r);
		f->rows.col[3].num[i] = f->rows.col[0].num[i] + f->rows.col[1].num[i] > 1;
	}
	f->rows.nrow = n;
}

static void spec_of(struct ml_train_spec *s, const char *algo)
{
	memset(s, 0, sizeof(*s));
	s->target = "y";
	ml_params_init(&s->params, ml_algo_find(algo));
}

static void test_build_and_score(void)
{
	struct ml_frame f;
	struct ml_train_spec s[2];
	struct ml_learner *l[2];
	struct ml_artefact *a[2], *ens;
	struct ml_ens_member m[2];
	struct ml_model *md = NULL;
	struct ml_ctx ctx;
	struct ml_scorer *sc;
	const struct ml_schema *out;
	const struct ml_block *o;
	int k;

	toy(&f, 200);
	CHECK(ml_ctx_init(&ctx, 1, 1, NULL) == 0);
	spec_of(&s[0], "logistic");
	spec_of(&s[1], "nb");
	for (k = 0; k < 2; k++) {
		struct ml_model *mm;
		CHECK(ml_learner_fit(&l[k], &f, NULL, f.rows.nrow, NULL, 0, &s[k], &ctx, NULL) == 0);
		CHECK(ml_learner_to_model(l[k], &mm, NULL) == 0);
		a[k] = ml_artefact_from_model(mm, k ? "nb" : "lr", NULL);
		m[k].stage = (const struct ml_artefact *const *)&a[k];
		m[k].nstage = 1;
		m[k].name = NULL;
		m[k].weight = 1;
	}
	CHECK(ml_ensemble_build(&md, ML_ENS_MEAN, m, 2, NULL, 0, NULL) == 0);
	/* one member is no ensemble */
	{
		struct ml_model *none = NULL;
		struct ml_err e;
		ml_err_init(&e);
		CHECK(ml_ensemble_build(&none, ML_ENS_MEAN, m, 1, NULL, 0, &e) == ML_E_USAGE);
		CHECK(none == NULL);
	}
	ens = ml_artefact_from_model(md, "ens", NULL);
	CHECK(ens && strcmp(ml_artefact_kind(ens), "ensemble") == 0);
	CHECK(ml_artefact_check(ens, NULL) == 0);
	sc = ml_scorer_new(ens, NULL, NULL);
	CHECK(sc && ml_scorer_bind(sc, &f.schema, &out, NULL) == 0);
	CHECK(out->ncol == 3 && strcmp(out->cols[2].name, "p_1") == 0);
	CHECK(ml_scorer_apply(sc, &f.rows, 10, 12, &o, NULL) == 0 && o->nrow == 2);
	/* the mean of the members' own answers, exactly */
	{
		double p0[4], p1[4];
		ml_score_rows(l[0], l[0], &f, (size_t[]){10, 11}, 2, NULL, p0, NULL);
		ml_score_rows(l[1], l[1], &f, (size_t[]){10, 11}, 2, NULL, p1, NULL);
		CHECK(o->col[2].num[0] == (p0[1] + p1[1]) / 2);
		CHECK(o->col[2].num[1] == (p0[3] + p1[3]) / 2);
	}
	ml_scorer_free(sc);
	ml_artefact_free(ens);
	for (k = 0; k < 2; k++) {
		ml_artefact_free(a[k]);
		ml_learner_free(l[k]);
	}
	ml_ctx_release(&ctx);
	ml_frame_release(&f);
}

/* Every row's out-of-fold feature comes from a fit on the other folds: refit by hand. */
static void test_stack_oof(void)
{
	struct ml_frame f, oof;
	struct ml_train_spec base, meta;
	struct ml_stack_opts o;
	struct ml_model *md = NULL;
	struct ml_ctx ctx;
	size_t i, *tr, ntr, *te, nte, n = 150;
	int fold, bad = 0;

	toy(&f, n);
	ml_frame_init(&oof);
	CHECK(ml_ctx_init(&ctx, 2, 1, NULL) == 0);
	spec_of(&base, "logistic");
	memset(&meta, 0, sizeof(meta));
	ml_stack_opts_init(&o);
	o.base = &base;
	o.nbase = 1;
	o.meta = &meta;
	o.cv.k = 3;
	CHECK(ml_ensemble_stack(&md, &f, &o, &ctx, &oof, NULL) == 0);
	CHECK(oof.rows.nrow == n && oof.schema.ncol == 2);
	CHECK(strcmp(oof.schema.cols[1].name, "m1:p_1") == 0);
	tr = malloc(n * sizeof(size_t));
	te = malloc(n * sizeof(size_t));
	for (fold = 1; fold <= 3; fold++) {
		struct ml_learner *l = NULL;
		double *sc = malloc(n * 2 * sizeof(double));
		ntr = nte = 0;
		for (i = 0; i < n; i++)
			if (oof.rows.col[0].num[i] == fold)
				te[nte++] = i;
			else
				tr[ntr++] = i;
		CHECK(nte > 0 && ntr > 0);
		CHECK(ml_learner_fit(&l, &f, tr, ntr, NULL, 0, &base, &ctx, NULL) == 0);
		CHECK(ml_score_rows(l, l, &f, te, nte, NULL, sc, NULL) == 0);
		for (i = 0; i < nte; i++)
			bad += sc[2 * i + 1] != oof.rows.col[1].num[te[i]];
		ml_learner_free(l);
		free(sc);
	}
	CHECK(bad == 0);
	free(tr);
	free(te);
	ml_model_free(md);
	ml_frame_release(&oof);
	ml_ctx_release(&ctx);
	ml_frame_release(&f);
}

/* The fixture's coefficients (intercept, a, b, c) against a learner's "coef" table. */
static void check_coefs(const struct ml_learner *l, const char *path, double tol)
{
	struct ml_frame want, got;
	struct ml_model *m = NULL;
	struct ml_artefact *a;
	size_t i, j;
	int c, gc;

	ml_frame_init(&got);
	if (unit_read_frame(&want, NULL, path, NULL) < 0)
		return;
	CHECK(ml_learner_to_model(l, &m, NULL) == 0);
	a = ml_artefact_from_model(m, NULL, NULL);
	CHECK(a && ml_artefact_table(a, "coef", &got, NULL) == 0);
	/* every column of coefficients (coef, or one per class), matched by name */
	for (c = 1; a && c < want.schema.ncol; c++) {
		CHECK((gc = ml_schema_find(&got.schema, want.schema.cols[c].name)) > 0);
		for (i = 0; gc > 0 && i < want.rows.nrow; i++) {
			const char *name = want.schema.cols[0].dict.str[want.rows.col[0].cat[i]];
			double w = want.rows.col[c].num[i], g = 0;
			for (j = 0; j < got.rows.nrow; j++)
				if (strcmp(got.schema.cols[0].dict.str[got.rows.col[0].cat[j]], name) == 0)
					g = got.rows.col[gc].num[j];
			CHECK_NEAR(g, w, tol);
			if (w == 0) /* a weight at zero: left out of the model, or exactly 0 */
				CHECK(g == 0);
		}
	}
	ml_artefact_free(a);
	ml_frame_release(&want);
	ml_frame_release(&got);
}

/* Non-negative weights against SciPy (tests/fixtures/gen_ensemble_nonneg.py): nnls with a
 * free intercept, and logistic regression bounded below by zero (L-BFGS-B), of two
 * classes and of three (with a free column d). */
static void test_nonneg(void)
{
	static const char *const cols[] = {"a", "b", "c"};
	static const char *const files[3][2] = {
		{"tests/fixtures/ensemble/nonneg_reg.csv", "tests/fixtures/ensemble/nonneg_reg_coef.csv"},
		{"tests/fixtures/ensemble/nonneg_cls.csv", "tests/fixtures/ensemble/nonneg_cls_coef.csv"},
		{"tests/fixtures/ensemble/nonneg_mc.csv", "tests/fixtures/ensemble/nonneg_mc_coef.csv"}};
	struct ml_ctx ctx;
	int k;

	CHECK(ml_ctx_init(&ctx, 2, 1, NULL) == 0);
	for (k = 0; k < 3; k++) {
		struct ml_frame f;
		struct ml_train_spec s;
		struct ml_learner *l = NULL;
		if (unit_read_frame(&f, NULL, files[k][0], NULL) < 0)
			continue;
		spec_of(&s, k ? "logistic" : "linear");
		CHECK(ml_fit_nonneg(&l, &f, &s, cols, 3, &ctx, NULL) == 0);
		if (l)
			check_coefs(l, files[k][1], k ? 1e-6 : 1e-9);
		ml_learner_free(l);
		ml_frame_release(&f);
	}
	/* another learner is refused */
	{
		struct ml_frame f;
		struct ml_train_spec s;
		struct ml_learner *l = NULL;
		struct ml_err e;
		ml_err_init(&e);
		if (unit_read_frame(&f, NULL, files[0][0], NULL) == 0) {
			spec_of(&s, "knn");
			CHECK(ml_fit_nonneg(&l, &f, &s, cols, 3, &ctx, &e) == ML_E_USAGE);
			CHECK(l == NULL && strstr(e.msg, "not knn") != NULL);
		}
		ml_frame_release(&f);
	}
	ml_ctx_release(&ctx);
}

int main(void)
{
	RUN(test_methods);
	RUN(test_combine);
	RUN(test_build_and_score);
	RUN(test_stack_oof);
	RUN(test_nonneg);
	return UNIT_EXIT();
}
