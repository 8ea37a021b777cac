/* Unit tests for lib/learn/cv.c and lib/table/fingerprint.c: scores in a reference class
 * space, fold assignment, cross-validation and its out-of-fold predictions, and the
 * training-data fingerprint, byte for byte. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "ml/ctx.h"
#include "ml/cv.h"
#include "ml/fingerprint.h"
#include "ml/frame.h"
#include "ml/learn.h"
#include "ml/model.h"
#include "ml/split.h"
#include "unit.h"

/* A frame "x" (numbers with a NaN), "c" (categories with a missing one). */
static void frame_of(struct ml_frame *f, size_t n)
{
	size_t i;

	ml_frame_init(f);
	if (ml_schema_add(&f->schema, "x", ML_NUM) < 0 ||
	    ml_schema_add(&f->schema, "c", ML_CAT) < 0 ||
	    ml_dict_intern(&f->schema.cols[1].dict, "ab", 2) != 0 ||
	    ml_dict_intern(&f->schema.cols[1].dict, "", 0) != 1 ||
	    ml_block_init(&f->rows, &f->schema, n, NULL) < 0)
		abort();
	for (i = 0; i < n; i++) {
		f->rows.col[0].num[i] = i % 7 == 3 ? NAN : (double)i * 0.5 - 3;
		f->rows.col[1].cat[i] = i % 5 == 4 ? -1 : (int32_t)(i % 2);
	}
	f->rows.nrow = n;
}

/* The documented byte sequence, hashed in one pass. */
static uint32_t expected(const struct ml_frame *f)
{
	uLong crc = crc32(0L, Z_NULL, 0);
	unsigned char b[8];
	size_t i;
	int k;

	crc = crc32(crc, (const Bytef *)"x\0n", 3);
	for (i = 0; i < f->rows.nrow; i++) {
		double x = f->rows.col[0].num[i];
		uint64_t u;
		memcpy(&u, &x, 8);
		if (x != x)
			u = 0x7ff8000000000000ULL;
		for (k = 0; k < 8; k++)
			b[k] = (unsigned char)(u >> (8 * k));
		crc = crc32(crc, b, 8);
	}
	crc = crc32(crc, (const Bytef *)"c\0c", 3);
	for (i = 0; i < f->rows.nrow; i++) {
		int32_t c = f->rows.col[1].cat[i];
		uint32_t len = c < 0 ? 0xffffffffU : (uint32_t)f->schema.cols[1].dict.len[c];
		for (k = 0; k < 4; k++)
			b[k] = (unsigned char)(len >> (8 * k));
		crc = crc32(crc, b, 4);
		if (c >= 0)
			crc = crc32(crc, (const Bytef *)f->schema.cols[1].dict.str[c], len);
	}
	return (uint32_t)crc;
}

static void test_fingerprint(void)
{
	struct ml_frame f;
	struct ml_fingerprint a, b;
	struct ml_pool *pool = ml_pool_new(3);
	struct ml_err e;

	ml_err_init(&e);
	/* more rows than one 512-value buffer, so the numbers go in several pieces */
	frame_of(&f, 1300);
	CHECK(ml_fingerprint(&f, NULL, &a, &e) == 0);
	CHECK(ml_fingerprint(&f, pool, &b, &e) == 0);
	CHECK(a.rows == 1300 && a.columns == 2);
	CHECK(a.crc32 == expected(&f));
	CHECK(b.crc32 == a.crc32 && b.rows == a.rows && b.columns == a.columns);
	/* a NaN of another payload hashes as the quiet NaN; any change of value shows */
	{
		uint64_t u = 0xfff8000000000123ULL;
		memcpy(&f.rows.col[0].num[3], &u, 8);
		CHECK(ml_fingerprint(&f, NULL, &b, &e) == 0 && b.crc32 == a.crc32);
		f.rows.col[0].num[0] = -0.0;
		CHECK(ml_fingerprint(&f, NULL, &b, &e) == 0 && b.crc32 != a.crc32);
		CHECK(b.crc32 == expected(&f));
	}
	ml_frame_release(&f);
	/* no rows, no columns */
	ml_frame_init(&f);
	CHECK(ml_fingerprint(&f, pool, &a, &e) == 0 && a.rows == 0 && a.columns == 0);
	CHECK(a.crc32 == 0);
	ml_frame_release(&f);
	ml_pool_free(pool);
}

static void test_fingerprint_meta(void)
{
	struct ml_model *m = ml_model_new("features", NULL);
	struct ml_fingerprint fp;
	char *text;

	fp.rows = 344;
	fp.columns = 7;
	fp.crc32 = 0x0012abcdU;
	CHECK(m && ml_model_set_fingerprint(m, &fp, NULL) == 0);
	text = m ? ml_model_meta_get(m, "data") : NULL;
	CHECK(text && strcmp(text, "{\"rows\":344,\"columns\":7,\"crc32\":\"0012abcd\"}") == 0);
	free(text);
	ml_model_free(m);
}

/* --- Cross-validation ------------------------------------------------------------------------ */

#define N 60

/* Three classes a, b, c of two numeric features with noise; a group of 6 rows each; a time
 * that runs backwards; the classes of the latest rows are all 'a'. */
static void cls_frame(struct ml_frame *f)
{
	static const char *const lab[] = {"a", "b", "c"};
	struct ml_rng r;
	size_t i;

	ml_frame_init(f);
	if (ml_schema_add(&f->schema, "x1", ML_NUM) < 0 ||
	    ml_schema_add(&f->schema, "x2", ML_NUM) < 0 ||
	    ml_schema_add(&f->schema, "y", ML_CAT) < 0 ||
	    ml_schema_add(&f->schema, "g", ML_NUM) < 0 ||
	    ml_schema_add(&f->schema, "t", ML_NUM) < 0 ||
	    ml_schema_add(&f->schema, "w", ML_NUM) < 0 ||
	    ml_block_init(&f->rows, &f->schema, N, NULL) < 0)
		abort();
	for (i = 0; i < 3; i++)
		if (ml_dict_intern(&f->schema.cols[2].dict, lab[i], 1) != (int32_t)i)
			abort();
	ml_rng_seed(&r, 5);
	for (i = 0; i < N; i++) {
		int c = i < 12 ? 0 : (int)(i % 3);
		f->rows.col[0].num[i] = c + ml_rng_normal(&r) * 0.7;
		f->rows.col[1].num[i] = (c == 2) - (c == 1) + ml_rng_normal(&r) * 0.7;
		f->rows.col[2].cat[i] = c;
		f->rows.col[3].num[i] = (double)(i / 6);
		f->rows.col[4].num[i] = (double)(N - i);
		f->rows.col[5].num[i] = i % 4 == 0 ? 2 : 1;
	}
	f->rows.nrow = N;
}

static void spec_of(struct ml_train_spec *spec, const char *algo)
{
	memset(spec, 0, sizeof(*spec));
	spec->target = "y";
	spec->ignore = "g,t";
	spec->weight = "w";
	spec->name = "cls.csv";
	ml_params_init(&spec->params, ml_algo_find(algo));
}

static size_t *all_rows(size_t n)
{
	size_t *r = malloc(n * sizeof(*r)), i;

	for (i = 0; i < n; i++)
		r[i] = i;
	return r;
}

static void test_cv_names(void)
{
	struct ml_cv_opts o;

	ml_cv_opts_init(&o);
	CHECK(o.k == 5 && o.split == ML_CV_AUTO && o.col == -1 && o.seed == 42 && !o.progress);
	CHECK(strcmp(ml_cv_split_name(ML_CV_STRATIFY), "stratified") == 0);
	CHECK(strcmp(ml_cv_split_name(ML_CV_RANDOM), "random") == 0);
	CHECK(strcmp(ml_cv_split_name(ML_CV_GROUP), "group") == 0);
	CHECK(strcmp(ml_cv_split_name(ML_CV_TIME), "time") == 0);
	CHECK(strcmp(ml_cv_split_name(ML_CV_AUTO), "auto") == 0);
	CHECK(ml_cv_split_resolve(ML_CV_AUTO, ML_TASK_CLASSIFY) == ML_CV_STRATIFY);
	CHECK(ml_cv_split_resolve(ML_CV_AUTO, ML_TASK_REGRESS) == ML_CV_RANDOM);
	CHECK(ml_cv_split_resolve(ML_CV_TIME, ML_TASK_CLASSIFY) == ML_CV_TIME);
}

static void test_cv_folds(void)
{
	struct ml_frame f;
	struct ml_train_spec spec;
	struct ml_cv_opts o;
	struct ml_err e;
	int32_t fold[N], fold2[N];
	size_t *rows = all_rows(N), i, cnt[6] = {0};

	cls_frame(&f);
	spec_of(&spec, "logistic");
	ml_cv_opts_init(&o);
	o.k = 4;
	ml_err_init(&e);
	/* stratified: each class's 20 (a: 28, b: 16, c: 16) rows spread over the folds */
	CHECK(ml_cv_folds(fold, &f, rows, N, &o, &spec, ML_TASK_CLASSIFY, &e) == 0);
	for (i = 0; i < N; i++)
		if (f.rows.col[2].cat[i] == 1)
			cnt[fold[i]]++;
	CHECK(cnt[0] == 0 && cnt[1] == 4 && cnt[2] == 4 && cnt[3] == 4 && cnt[4] == 4);
	/* random: as ml_kfold on the rows */
	{
		struct ml_split_opts so;
		ml_split_opts_init(&so);
		CHECK(ml_cv_folds(fold, &f, rows, N, &o, &spec, ML_TASK_REGRESS, &e) == 0);
		CHECK(ml_kfold(&f.rows, &so, 4, fold2, NULL, &e) == 0);
		CHECK(memcmp(fold, fold2, sizeof(fold)) == 0);
	}
	/* grouped: a group's rows share a fold */
	o.split = ML_CV_GROUP;
	o.col = 3;
	CHECK(ml_cv_folds(fold, &f, rows, N, &o, &spec, ML_TASK_CLASSIFY, &e) == 0);
	for (i = 1; i < N; i++)
		if (i % 6)
			CHECK(fold[i] == fold[i - 1]);
	/* time: the earliest 60 - 4 * 12 rows (the last ones here) are never tested */
	o.split = ML_CV_TIME;
	o.col = 4;
	CHECK(ml_cv_folds(fold, &f, rows + 10, N - 10, &o, &spec, ML_TASK_CLASSIFY, &e) == 0);
	CHECK(fold[0] == 4 && fold[9] == 4 && fold[10] == 3 && fold[49] == 0 && fold[40] == 0);
	/* errors */
	o.col = -1;
	CHECK(ml_cv_folds(fold, &f, rows, N, &o, &spec, ML_TASK_CLASSIFY, &e) == ML_E_USAGE);
	o.split = ML_CV_AUTO;
	o.k = 61;
	ml_err_init(&e);
	CHECK(ml_cv_folds(fold, &f, rows, N, &o, &spec, ML_TASK_REGRESS, &e) == ML_E_DATA);
	CHECK(strcmp(e.where, "cls.csv") == 0);
	free(rows);
	ml_frame_release(&f);
}

static int calls, last_fold, done_calls;

static void count_progress(void *ud, const struct ml_cv_fold *p)
{
	(void)ud;
	calls++;
	if (p->done) {
		done_calls++;
		CHECK(p->metrics != NULL && p->fold == last_fold);
	} else {
		CHECK(p->metrics == NULL && p->fold == last_fold + 1 && p->k == 4);
		CHECK(p->ntrain + p->ntest == N);
		last_fold = p->fold;
	}
}

/* A run of ml_cv_run with ctx's threads. */
static int cv_with(struct ml_cv_result *r, int threads, const struct ml_frame *f,
		   const struct ml_train_spec *spec, const struct ml_learner *ref,
		   const struct ml_cv_opts *o, const int32_t *fold)
{
	struct ml_ctx ctx;
	struct ml_err e;
	size_t *rows = all_rows(N);
	int rc;

	ml_err_init(&e);
	if (ml_ctx_init(&ctx, threads, 42, &e) < 0)
		abort();
	ml_cv_result_init(r);
	rc = ml_cv_run(r, f, rows, N, fold, spec, ref, o, &ctx, &e);
	if (rc < 0)
		fprintf(stderr, "cv: %s\n", e.msg);
	ml_ctx_release(&ctx);
	free(rows);
	return rc;
}

static void test_cv_run(void)
{
	struct ml_frame f;
	struct ml_train_spec spec;
	struct ml_cv_opts o;
	struct ml_cv_result r, r3, rf;
	struct ml_learner *ref = NULL, *l = NULL;
	struct ml_ctx ctx;
	struct ml_err e;
	size_t *rows = all_rows(N), trn[N], tst[N], ntrn = 0, ntst = 0, i, total = 0;
	double score[N * 3], m[ML_M_COUNT], mean = 0;
	int k, has[ML_M_COUNT] = {0};

	cls_frame(&f);
	spec_of(&spec, "logistic");
	ml_err_init(&e);
	ml_ctx_init(&ctx, 1, 42, &e);
	CHECK(ml_learner_fit(&ref, &f, rows, N, NULL, 0, &spec, &ctx, &e) == 0);
	ml_cv_opts_init(&o);
	o.k = 4;
	o.progress = count_progress;
	CHECK(cv_with(&r, 1, &f, &spec, ref, &o, NULL) == 0);
	CHECK(calls == 8 && done_calls == 4 && last_fold == 4);
	CHECK(r.k == 4 && r.split == ML_CV_STRATIFY && r.n == N && r.nout == 3);
	for (k = 0; k < 4; k++)
		total += r.ntest[k];
	CHECK(total == N);
	for (i = 0; i < N; i++)
		CHECK(r.fold[i] >= 1 && r.fold[i] <= 4 &&
		      fabs(r.oof[i * 3] + r.oof[i * 3 + 1] + r.oof[i * 3 + 2] - 1) < 1e-9);
	/* fold 2 by hand: the same scores and metrics, bit for bit */
	for (i = 0; i < N; i++) {
		if (r.fold[i] == 2)
			tst[ntst++] = i;
		else
			trn[ntrn++] = i;
	}
	CHECK(ml_learner_fit(&l, &f, trn, ntrn, NULL, 0, &spec, &ctx, &e) == 0);
	CHECK(ml_score_rows(l, ref, &f, tst, ntst, NULL, score, &e) == 0);
	for (i = 0; i < ntst; i++)
		CHECK(memcmp(score + i * 3, r.oof + tst[i] * 3, 3 * sizeof(double)) == 0);
	CHECK(ml_score_metrics(ref, &f, tst, ntst, score, "w", m, has, &e) == 0);
	CHECK(memcmp(m, r.metrics[1], sizeof(m)) == 0);
	CHECK(has[ML_M_ACCURACY] && has[ML_M_LOGLOSS] && !has[ML_M_RMSE] && !has[ML_M_PRECISION]);
	CHECK(memcmp(has, r.has, sizeof(has)) == 0);
	for (k = 0; k < 4; k++)
		mean += r.metrics[k][ML_M_ACCURACY];
	CHECK_NEAR(r.mean[ML_M_ACCURACY], mean / 4, 1e-15);
	CHECK(r.sd[ML_M_ACCURACY] >= 0 && isnan(r.mean[ML_M_RMSE]));
	ml_learner_free(l);

	/* the same bytes with three threads, and with the folds given */
	o.progress = NULL;
	CHECK(cv_with(&r3, 3, &f, &spec, ref, &o, NULL) == 0);
	CHECK(memcmp(r.oof, r3.oof, N * 3 * sizeof(double)) == 0);
	CHECK(memcmp(r.metrics, r3.metrics, 4 * sizeof(*r.metrics)) == 0);
	CHECK(cv_with(&rf, 1, &f, &spec, ref, &o, r.fold) == 0);
	CHECK(memcmp(r.oof, rf.oof, N * 3 * sizeof(double)) == 0);
	CHECK(memcmp(r.mean, rf.mean, sizeof(r.mean)) == 0);
	ml_cv_result_release(&r3);
	ml_cv_result_release(&rf);
	ml_cv_result_release(&r);
	CHECK(r.oof == NULL && r.k == 0);
	ml_learner_free(ref);
	ml_ctx_release(&ctx);
	free(rows);
	ml_frame_release(&f);
}

/* A time split: the first chunk is never tested; a fold that trains on one class fails
 * naming the fold. */
static void test_cv_time(void)
{
	struct ml_frame f;
	struct ml_train_spec spec;
	struct ml_cv_opts o;
	struct ml_cv_result r;
	struct ml_learner *ref = NULL;
	struct ml_ctx ctx;
	struct ml_err e;
	size_t *rows = all_rows(N), i, untested = 0;

	cls_frame(&f);
	spec_of(&spec, "nb");
	ml_err_init(&e);
	ml_ctx_init(&ctx, 1, 42, &e);
	CHECK(ml_learner_fit(&ref, &f, rows, N, NULL, 0, &spec, &ctx, &e) == 0);
	ml_cv_opts_init(&o);
	o.k = 3;
	o.split = ML_CV_TIME;
	o.col = 4;
	CHECK(cv_with(&r, 1, &f, &spec, ref, &o, NULL) == 0);
	CHECK(r.split == ML_CV_TIME && r.ntest[0] == 15 && r.ntest[2] == 15);
	for (i = 0; i < N; i++)
		if (r.fold[i] == 0) {
			untested++;
			CHECK(isnan(r.oof[i * 3]) && i >= 45);
		}
	CHECK(untested == 15);
	ml_cv_result_release(&r);
	/* the latest 12 rows (a only) train the first of 4 folds */
	o.k = 4;
	o.col = 4;
	{
		int32_t fold[N];
		for (i = 0; i < N; i++)
			fold[i] = i < 12 ? 0 : 1 + (int32_t)((i - 12) / 12);
		ml_cv_result_init(&r);
		CHECK(ml_cv_run(&r, &f, rows, N, fold, &spec, ref, &o, &ctx, &e) == ML_E_DATA);
		CHECK(strncmp(e.msg, "cross-validation fold 1: ", 25) == 0);
		ml_cv_result_release(&r);
	}
	ml_learner_free(ref);
	ml_ctx_release(&ctx);
	free(rows);
	ml_frame_release(&f);
}

/* A learner fitted without class c scores 0 for it in the reference's space. */
static void test_score_rows(void)
{
	struct ml_frame f;
	struct ml_train_spec spec;
	struct ml_learner *ref = NULL, *l = NULL;
	struct ml_ctx ctx;
	struct ml_err e;
	size_t *rows = all_rows(N), ab[N], nab = 0, i;
	double own[N * 2], mapped[N * 3];

	cls_frame(&f);
	spec_of(&spec, "nb");
	ml_err_init(&e);
	ml_ctx_init(&ctx, 1, 42, &e);
	CHECK(ml_learner_fit(&ref, &f, rows, N, NULL, 0, &spec, &ctx, &e) == 0);
	for (i = 0; i < N; i++)
		if (f.rows.col[2].cat[i] != 2)
			ab[nab++] = i;
	CHECK(ml_learner_fit(&l, &f, ab, nab, NULL, 0, &spec, &ctx, &e) == 0);
	CHECK(ml_learner_nclass(l) == 2);
	CHECK(ml_score_rows(l, l, &f, rows, N, ctx.pool, own, &e) == 0);
	CHECK(ml_score_rows(l, ref, &f, rows, N, ctx.pool, mapped, &e) == 0);
	for (i = 0; i < N; i++)
		CHECK(mapped[i * 3] == own[i * 2] && mapped[i * 3 + 1] == own[i * 2 + 1] &&
		      mapped[i * 3 + 2] == 0);
	ml_learner_free(l);
	ml_learner_free(ref);
	ml_ctx_release(&ctx);
	free(rows);
	ml_frame_release(&f);
}

int main(void)
{
	RUN(test_fingerprint);
	RUN(test_fingerprint_meta);
	RUN(test_cv_names);
	RUN(test_cv_folds);
	RUN(test_cv_run);
	RUN(test_cv_time);
	RUN(test_score_rows);
	return UNIT_EXIT();
}
