/* Cross-validation and what a fit records about its data: scoring rows of a frame in a
 * reference learner's class space and measuring those scores, fold assignment (random,
 * stratified, grouped, time-ordered), a fit per fold with its held-out rows scored and
 * measured, the out-of-fold predictions as arrays, and the training-data fingerprint.
 *
 * The reference learner is one fitted on the rows being cross-validated (mltrain's final
 * model): its classes, in its order, are the columns of every score here, and it codes
 * the truth for metrics. Frames, rows, specs and learners are borrowed for the length of a
 * call; results are released by their release functions. */
#ifndef ML_CV_H
#define ML_CV_H

#include <stddef.h>
#include <stdint.h>
#include "ml/ctx.h"
#include "ml/err.h"
#include "ml/feat.h"
#include "ml/frame.h"
#include "ml/learn.h"
#include "ml/metrics.h"
#include "ml/model.h"

/* --- Scores and their metrics --------------------------------------------------------------- */

/* Score rows[0..n) of f with l into out: per row ml_learner_nclass(ref) probabilities in
 * ref's class order (a class l was not fitted on scores 0; one ref lacks is dropped), or
 * one value for a regression. l may be ref itself. l is bound to f's schema and scores on
 * pool's threads (NULL: the calling thread), with the same answers for any thread count.
 * Returns 0, ML_E_NOMEM, or an error of the learner's binding or scoring (ML_E_DATA
 * naming a column or line). */
ML_API int ml_score_rows(const struct ml_learner *l, const struct ml_learner *ref,
			 const struct ml_frame *f, const size_t *rows, size_t n,
			 struct ml_pool *pool, double *out, struct ml_err *e);

/* Metrics (out[ML_M_COUNT], NaN where not reported or undefined) of scores as
 * ml_score_rows gives them against the truth of rows[0..n) of f, coded by ref; rows whose
 * truth ref does not know (missing, or a class it was not fitted on) are left out. A
 * classification predicts each row's first class of highest score, is binary with two
 * classes (the second positive) and takes the scores as probabilities. weight names a
 * column of row weights (a missing weight counts 1), or is NULL. has (ML_M_COUNT flags,
 * or NULL) is or'ed with the metrics reported. Returns 0 or a negative ML_E_*. */
ML_API int ml_score_metrics(const struct ml_learner *ref, const struct ml_frame *f,
			    const size_t *rows, size_t n, const double *score, const char *weight,
			    double *out, int *has, struct ml_err *e);

/* --- Cross-validation ------------------------------------------------------------------------ */

enum ml_cv_split {
	ML_CV_AUTO = 0, /* ML_CV_STRATIFY when classifying, else ML_CV_RANDOM */
	ML_CV_RANDOM,	/* a seeded shuffle cut in k runs (KFold) */
	ML_CV_STRATIFY, /* classes of the target keep their shares (StratifiedKFold) */
	ML_CV_GROUP,	/* rows with the same value of col stay in one fold (GroupKFold) */
	ML_CV_TIME	/* expanding windows in the order of col (TimeSeriesSplit): fold j
			 * trains on the rows before its test rows only */
};

/* A fold as the progress callback sees it: before its fit (done 0), and once its held-out
 * rows are measured (done 1, metrics set). */
struct ml_cv_fold {
	int fold, k; /* fold 1..k */
	int done;
	size_t ntrain, ntest;
	const double *metrics; /* done: ML_M_COUNT values, else NULL */
};

struct ml_cv_opts {
	int k;			/* folds, >= 2 (default 5) */
	enum ml_cv_split split; /* default ML_CV_AUTO */
	int col;		/* ML_CV_GROUP, ML_CV_TIME: the column of the frame */
	uint64_t seed;		/* of the fold assignment (default 42) */
	const size_t *valid;	/* rows every fold's fit gets as validation rows (early
				 * stopping), or NULL */
	size_t nvalid;
	/* A feature pipeline (target set) fitted in each fold on that fold's training rows
	 * only, its output training the fold's learner, and applied to the fold's held-out
	 * rows (ml_fit_pipeline); NULL: none. It takes no validation rows. */
	const struct ml_feat_spec *feat;
	/* Called from the calling thread around each fold, or NULL. */
	void (*progress)(void *ud, const struct ml_cv_fold *fold);
	void *ud;
};

ML_API void ml_cv_opts_init(struct ml_cv_opts *o);
/* "stratified", "random", "group", "time" or "auto". */
ML_API const char *ml_cv_split_name(enum ml_cv_split s);
/* The split that ML_CV_AUTO is for a task; other splits as they are. */
ML_API enum ml_cv_split ml_cv_split_resolve(enum ml_cv_split s, enum ml_task task);

/* The test fold (1..k; 0 for the rows of a time split's first chunk, never tested) of
 * each of rows[0..n) of f, as ml_kfold deals them (split.h) by o->split resolved for
 * task: stratified by spec->target's values, grouped or ordered by o->col. Returns 0,
 * ML_E_USAGE for a split without the column it needs, or ML_E_DATA for rows that cannot
 * be dealt (fewer than k, or fewer groups, or a class of fewer rows than k in every
 * class, a missing time), naming spec->name. */
ML_API int ml_cv_folds(int32_t *fold, const struct ml_frame *f, const size_t *rows, size_t n,
		       const struct ml_cv_opts *o, const struct ml_train_spec *spec,
		       enum ml_task task, struct ml_err *e);

/* Fit a feature pipeline and then a learner on rows tr[0..ntr) of f: feat's pipeline
 * (required) fitted on those rows alone, and spec's learner on the rows it gives for
 * them (cross-fitted where its steps are). With te, rows te[0..nte) are applied through
 * both and scored into score as ml_score_rows scores them (ref's class space; ref NULL:
 * the learner's own). *fout and *lout (either may be NULL: the fit is then freed) get
 * the fits; nothing on failure. A pipeline that holds rows back (interpolation) is
 * ML_E_USAGE when te is given. Returns 0 or a negative ML_E_*. */
ML_API int ml_fit_pipeline(const struct ml_frame *f, const size_t *tr, size_t ntr,
			   const size_t *te, size_t nte, const struct ml_feat_spec *feat,
			   const struct ml_train_spec *spec, const struct ml_learner *ref,
			   struct ml_ctx *ctx, struct ml_features **fout,
			   struct ml_learner **lout, double *score, struct ml_err *e);

/* What a cross-validation found. */
struct ml_cv_result {
	int k;			/* folds */
	enum ml_cv_split split; /* as resolved (never ML_CV_AUTO) */
	size_t n;		/* rows, in the order they were given */
	int nout;		/* scores per row: ref's classes, or 1 */
	int32_t *fold;		/* per row: the fold that held it out (1..k), or 0 */
	double *oof;		/* per row, nout scores (row i at oof[i * nout]) from the fold
				 * that held it out, in ref's class space; NaN for rows of
				 * fold 0 */
	size_t *ntest;		/* per fold: rows held out */
	double (*metrics)[ML_M_COUNT]; /* per fold: ml_score_metrics of its held-out rows */
	double mean[ML_M_COUNT], sd[ML_M_COUNT]; /* over the folds where a metric is defined:
						  * the mean and the sample sd (NaN under 2) */
	int has[ML_M_COUNT];			 /* metrics some fold reported */
};

ML_API void ml_cv_result_init(struct ml_cv_result *r);
ML_API void ml_cv_result_release(struct ml_cv_result *r);

/* K-fold cross-validation of spec on rows[0..n) of f into r (fresh from
 * ml_cv_result_init): folds from fold (n entries as ml_cv_folds gives them, with o->split
 * saying whether they are time-ordered) or, when fold is NULL, from ml_cv_folds. Folds run
 * one after another, each fitted with ml_learner_fit on the rows of the other folds (a time
 * split: of the earlier ones) with o->valid as validation rows (or with o->feat's pipeline,
 * by ml_fit_pipeline), its held-out rows scored
 * with ml_score_rows and measured with ml_score_metrics (weights from spec->weight). ref
 * (required) gives the class space and the truth's coding; the fold learners use ctx and
 * its pool. The same inputs and seeds give the same bytes in r whatever ctx's thread
 * count. Returns 0 or a negative ML_E_* (an error of a fold's fit or scoring is prefixed
 * "cross-validation fold J: "); on failure r holds what must be released. */
ML_API int ml_cv_run(struct ml_cv_result *r, const struct ml_frame *f, const size_t *rows, size_t n,
		     const int32_t *fold, const struct ml_train_spec *spec,
		     const struct ml_learner *ref, const struct ml_cv_opts *o, struct ml_ctx *ctx,
		     struct ml_err *e);

#endif
