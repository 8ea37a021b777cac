/* Ensembles: several fitted members (each a chain of artefacts ending in a model) nested in
 * one "ensemble" artefact, whose scorer writes the prediction columns of ml/pred.h from
 * the members' answers. The combining rules are shared with the combination of
 * prediction files, so that an ensemble and the files its members wrote give the same
 * numbers.
 *
 * Methods (ml_ens_method_find): mean (probabilities or predictions averaged: soft
 * voting), median, vote (hard voting: the share of members' labels per class), weighted
 * (the weighted mean, weights scaled to sum to one), stack (a meta-model fitted on the
 * members' answers). Classes are aligned by label: member k's p_LABEL is read by name. */
#ifndef ML_ENSEMBLE_H
#define ML_ENSEMBLE_H

#include <stddef.h>
#include "ml/artefact.h"
#include "ml/cv.h"
#include "ml/err.h"
#include "ml/feat.h"
#include "ml/model.h"

enum ml_ens_method {
	ML_ENS_MEAN = 0,
	ML_ENS_MEDIAN,
	ML_ENS_VOTE,
	ML_ENS_WEIGHTED,
	ML_ENS_RANK, /* prediction files only: the mean of each member's ranks */
	ML_ENS_STACK,
	ML_ENS_ANOMALY /* detectors: standardised scores weighted by agreement (below) */
};

/* The method named name ("mean", ...), or -1. */
ML_API int ml_ens_method_find(const char *name);
ML_API const char *ml_ens_method_name(int method);

/* Combine one row's answers of n members. p holds n * K values, member after member:
 * K class probabilities (classification) or K = 1 prediction (regression). label holds
 * each member's class index (-1: none), read by vote only (may be NULL otherwise). w (n
 * weights, or NULL for equal ones) is read by weighted and vote. scratch has room for
 * n doubles. out gets K values: the combined probabilities or prediction, in order
 * member 1 + member 2 + ... then divided by the total weight (the mean divides by n), so
 * that the same inputs give the same bits wherever they are combined. Returns the
 * predicted class (the first with the largest combined value; -1 when every value is
 * missing), 0 for a regression. */
ML_API int ml_ens_combine_row(int method, int n, int K, const double *p, const int *label,
			      const double *w, double *scratch, double *out);

/* A member to nest: its chain of artefacts (feature pipelines, then a model), borrowed,
 * a name for mlinfo (NULL: the last artefact's), and a weight (weighted and vote). */
struct ml_ens_member {
	const struct ml_artefact *const *stage;
	int nstage;
	const char *name;
	double weight;
};

/* Build an ensemble artefact of the fitted members (n >= 2; meta is the stack method's
 * meta-model container, NULL otherwise, fitted on columns named by
 * ml_ens_meta_feature). The members must be models of one task (classification or
 * regression), with the same classes (in any order) and target, and input columns of
 * one type wherever two share a name: a mismatch is ML_E_DATA naming the member and
 * what differs. *out gets a new container (metadata: method, task, target, classes,
 * members with their weights and stages). */
ML_API int ml_ensemble_build(struct ml_model **out, int method, const struct ml_ens_member *m,
			     int n, const struct ml_model *meta, int passthrough, struct ml_err *e);

/* The name of the meta-model's feature for member k (0-based) and class label (NULL for a
 * regression's prediction): "m1:p_LABEL", "m1:pred". Returns the length as snprintf. */
ML_API size_t ml_ens_meta_feature(char *buf, size_t size, int k, const char *label);

/* Stacking and blending: base learners fitted from data, their out-of-fold predictions
 * training a meta-learner. */
struct ml_stack_opts {
	const struct ml_train_spec *base; /* nbase base learners (target, task and ignore
					   * are base[0]'s for every one) */
	int nbase;
	const char *const *names; /* nbase names for mlinfo, or NULL */
	const struct ml_train_spec *meta; /* the meta-learner, on the same target (no
					   * algorithm: logistic or linear by the task) */
	struct ml_cv_opts cv;	 /* the folds (k, split, col, seed) */
	double holdout;		 /* > 0: blend: this fraction of the rows (stratified when
				  * classifying, from cv.seed) trains the meta-learner, on the
				  * predictions of base learners fitted on the other rows */
	int passthrough;	 /* the meta-learner also sees f's columns */
	const struct ml_feat_spec *feat; /* a feature pipeline (target set) fitted with
					  * every base learner inside each fold, on that fold's
					  * training rows only, and on every row for the
					  * members, which then carry it; NULL: none */
	int optimize;		 /* the weighted method instead of a meta-learner: member
				  * weights (non-negative, summing to one) that minimise the
				  * out-of-fold log loss (classification) or RMSE; meta unused */
	int nonneg;		 /* the meta-learner's weights of the members' answers are
				  * non-negative (ml_fit_nonneg; a linear or logistic
				  * meta-learner) */
	struct ml_frame *report; /* fresh from ml_frame_init, or NULL: what the fit found,
				  * one row a figure (what, member, other, metric, value):
				  * "member" K's out-of-fold metrics; "ensemble", the same of
				  * the weighted mix (optimize) or of the meta-learner on the
				  * out-of-fold features it was fitted on; "correlation" and
				  * "disagreement" of members K and L's out-of-fold answers
				  * (the Pearson correlation of their scores; the share of
				  * rows whose labels differ); "weight" K (optimize) */
	long long created;	 /* the creation time of the members (ml_model_set_created),
				  * or -1 (the default): now */
};
ML_API void ml_stack_opts_init(struct ml_stack_opts *o);

/* Fit a stacked (or blended) ensemble on every row of f: the folds of o->cv (ml_cv_folds,
 * by base[0]'s target and task), each base learner cross-validated over them
 * (ml_cv_run) for its out-of-fold predictions, which, named by ml_ens_meta_feature
 * (with f's columns under passthrough), train the meta-learner on the rows a fold held
 * out (a time split's first chunk trains none); each base learner is then fitted on every
 * row, and those fits are the members of *out, built as ml_ensemble_build builds. The
 * same inputs and seeds give the same bytes whatever ctx's thread count. oof (fresh from
 * ml_frame_init, or NULL) gets the meta-learner's features for every row of f, with
 * the fold that held it out first (column "fold", 0: none; NaN features). Returns 0 or a
 * negative ML_E_* (a fit's error names the base learner). */
ML_API int ml_ensemble_stack(struct ml_model **out, const struct ml_frame *f,
			     const struct ml_stack_opts *o, struct ml_ctx *ctx,
			     struct ml_frame *oof, struct ml_err *e);

/* Fit spec's learner, linear or logistic regression, on f (spec->task resolved) with
 * the coefficients of the columns cols[0..ncol) non-negative and the others free.
 * Linear: an active set of those columns, the learner refitted on it (the others left out
 * through spec->ignore, added to the spec's own) until every coefficient in it is
 * non-negative and no column left out would lower the loss with a positive coefficient
 * (its gradient is not negative): non-negative least squares, as SciPy's nnls with a
 * free intercept; columns left out are not in the model (their weight is zero).
 * Logistic, binary or multinomial: one fit with the learner's --positive naming those
 * columns (each class's coefficient of each of them bounded below by 0; projected Newton),
 * as L-BFGS-B with those bounds. ML_E_USAGE for another learner. */
ML_API int ml_fit_nonneg(struct ml_learner **out, const struct ml_frame *f,
			 const struct ml_train_spec *spec, const char *const *cols, int ncol,
			 struct ml_ctx *ctx, struct ml_err *e);

/* --- Adaptive weighting ------------------------------------------------------------------
 * Rows that carry the truth and each member's answers (prediction files of members run
 * side by side, in a stream or a daily batch): each row's combined answer uses the weights
 * learned from the rows before it, never from its own truth; then the row's truth
 * updates them. Member P's answers are the columns P_p_LABEL (a probability per class;
 * logloss and accuracy) or P_pred (a regression; mae). After each row with a truth, with
 * L_k member k's mean loss over the window (log loss, 1 - accuracy or absolute error),
 * the target weights are r_k / sum r, r_k = 1 / (L_k + 1e-9), and the weights move towards
 * them: w_k = (1 - A) w_k + A target_k (A the smoothing). The state (weights, window,
 * history) is an artefact of kind "adaptive", so that runs over consecutive parts of a
 * stream continue one another: the same answers and state as one run over the whole. */
enum ml_ada_metric { ML_ADA_LOGLOSS = 0, ML_ADA_ACCURACY, ML_ADA_MAE };

/* The metric named name ("logloss", "accuracy", "mae"), or -1; and back. */
ML_API int ml_ada_metric_find(const char *name);
ML_API const char *ml_ada_metric_name(int metric);

/* The history a state keeps: the weights after each of the last so many updates. */
#define ML_ADA_HISTORY 1000

struct ml_ada_opts {
	const char *const *members; /* nmember column prefixes (nmember >= 2), or NULL */
	int nmember;
	int metric;	      /* ML_ADA_*, or -1 */
	const char *target;   /* the truth column, or NULL */
	const char *time_col; /* a time column (numbers: seconds; or dates), or NULL */
	long window;	      /* the window: the last window rows with a truth, or 0 */
	double seconds;	      /* or those of the last seconds (time_col needed), or 0 */
	double smoothing;     /* A in (0, 1], or NaN */
};
/* Everything unset (NULL, -1, 0, NaN). */
ML_API void ml_ada_opts_init(struct ml_ada_opts *o);

struct ml_adaptive;
/* A fresh state: equal weights, an empty window. o must set members, metric, target, a
 * window (rows or seconds, with time_col for seconds) and the smoothing; ML_E_USAGE
 * otherwise. */
ML_API int ml_adaptive_new(struct ml_adaptive **out, const struct ml_ada_opts *o,
			   struct ml_err *e);
/* The state in m (kind "adaptive"), checked against o (NULL: no check): what o sets
 * (members, metric, target, time column, window, smoothing) must be what the state was
 * started with, else ML_E_DATA "a state of another ensemble" saying what differs. A
 * damaged state is ML_E_DATA. name is for messages. */
ML_API int ml_adaptive_from_model(struct ml_adaptive **out, const struct ml_model *m,
				  const char *name, const struct ml_ada_opts *o,
				  struct ml_err *e);
ML_API int ml_adaptive_to_model(const struct ml_adaptive *a, struct ml_model **out,
				struct ml_err *e);
ML_API void ml_adaptive_free(struct ml_adaptive *a);
/* Bind to an input schema (borrowed until the last apply): the truth, the time column
 * and every member's columns (by the state's classes; a fresh state takes the classes of
 * the first member's P_p_LABEL columns, in schema order). *out: the input's other
 * columns, then pred and p_LABEL (classification) or pred. A missing column is ML_E_DATA
 * naming it, name being the input's name. */
ML_API int ml_adaptive_bind(struct ml_adaptive *a, const struct ml_schema *in,
			    const char *name, const struct ml_schema **out, struct ml_err *e);
/* Combine and learn from the rows of in, in order: *out gets as many rows (valid until
 * the next apply or free). A truth that is no class, a time that is missing (a window in
 * seconds) or earlier than the last are ML_E_DATA naming the line. */
ML_API int ml_adaptive_apply(struct ml_adaptive *a, const struct ml_block *in,
			     const struct ml_block **out, struct ml_err *e);
/* Anomaly ensembles (method anomaly): members are detectors (models fitted without a
 * target whose outputs are score, anomaly and severity). Member k's score s is
 * standardised on its own training scores, z = (s - mean_k) / sd_k, with the mean and
 * standard deviation of its calibration grid (the 1001 training-score quantiles of
 * mlinfo --table calibration); the ensemble's score is sum_k w_k z_k with weights summing
 * to one. The weights are given (-w), or come from the members' agreement on common
 * rows (ml_ens_agreement). The rows: o->rows, scored through each member's chain, or
 * else the sample of training rows each detector keeps (the same rows for detectors
 * fitted on the same data: the members must then have the same training data
 * fingerprint). The ensemble's threshold, severity bands and calibration come from its
 * scores on those rows (contamination and bands as a detector's). Flagged rows are
 * named statistical when some numeric input column is far out on its own (a robust
 * |z| of 3.5 or more, the column's median and 1.4826 MAD taken on the rows), else
 * multivariate. */
struct ml_ens_anomaly_opts {
	const struct ml_frame *rows; /* unlabelled rows, or NULL: the kept samples */
	const char *rows_name;	     /* for messages */
	int weighted;		     /* 1: the members' weights as given */
	double contamination;	     /* the fraction to flag, or -1: auto (0.1) */
	double band[4];		     /* the severity quantiles (0.9, 0.95, 0.99, 0.999) */
};
ML_API void ml_ens_anomaly_opts_init(struct ml_ens_anomaly_opts *o);
ML_API int ml_ensemble_anomaly(struct ml_model **out, const struct ml_ens_member *m, int n,
			       const struct ml_ens_anomaly_opts *o, struct ml_err *e);
/* Weights from agreement: S holds n members' scores on r rows (member after member, r
 * values each). Each member's scores are turned into ranks (ties share their mean rank);
 * starting from equal weights, member k's new weight is the square of the Pearson
 * correlation (Spearman's, on the scores) between its ranks and the weighted sum of the
 * other members' ranks, 0 when negative, then the weights are scaled to sum to one (equal
 * when all are 0); repeated until no weight moves by 1e-12 (at most 100 rounds). w gets
 * n weights. 0 or ML_E_NOMEM. */
ML_API int ml_ens_agreement(const double *S, size_t r, int n, double *w, struct ml_err *e);

#endif
