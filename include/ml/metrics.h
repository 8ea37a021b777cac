/* Evaluation metrics over arrays of truth codes, predictions, probabilities and weights,
 * defined as scikit-learn 1.2 defines them, plus a prepared evaluator for repeated
 * evaluation (bootstrap intervals, groups).
 *
 * Conventions. Classes are codes 0..k-1; truth[i] and pred[i] are codes in that range.
 * Class probabilities are column-major: prob[c][i] is the probability of class c for row
 * i, and prob[c] may be NULL when there is no column for class c. Weights w[i] >= 0 are
 * scikit-learn's sample_weight (NULL: every row weighs 1); every weighted mean is
 * sum(w * x) / sum(w). Scalar functions return NaN when a metric is undefined (no rows,
 * weights summing to zero, AUC with a single class in the truth). A class takes part in a
 * macro average when some row of non-zero weight has it as truth or prediction
 * (scikit-learn's unique_labels(y_true, y_pred), except that rows of weight zero do not
 * make a class present). All arrays are borrowed. */
#ifndef ML_METRICS_H
#define ML_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include "ml/err.h"
#include "ml/ctx.h"

/* Every metric, in the order they are reported. */
enum ml_metric {
	ML_M_ACCURACY,
	ML_M_BALANCED_ACCURACY,
	ML_M_PRECISION, /* binary: of the positive class */
	ML_M_RECALL,
	ML_M_F1,
	ML_M_PRECISION_MACRO,
	ML_M_RECALL_MACRO,
	ML_M_F1_MACRO,
	ML_M_PRECISION_WEIGHTED, /* multiclass only */
	ML_M_RECALL_WEIGHTED,
	ML_M_F1_WEIGHTED,
	ML_M_AUC,
	ML_M_AVERAGE_PRECISION,
	ML_M_LOGLOSS,
	ML_M_BRIER,
	ML_M_MCC,
	ML_M_RMSE,
	ML_M_MAE,
	ML_M_MAPE,
	ML_M_SMAPE,
	ML_M_R2,
	ML_M_MEDAE,
	ML_M_COUNT
};

/* "accuracy", "f1_macro", ... as the metrics are named on output. */
ML_API const char *ml_metric_name(int m);
/* The metric called name, or -1. */
ML_API int ml_metric_find(const char *name);
/* 1 when larger values are better (accuracy, auc, r2), 0 for losses and errors. */
ML_API int ml_metric_higher_better(int m);

/* --- From a confusion matrix ---------------------------------------------------------- */

/* Fill cm (k * k doubles, row = truth, column = prediction) with the summed weights. */
ML_API void ml_confusion(const int32_t *truth, const int32_t *pred, const double *w, size_t n,
			 int k, double *cm);
ML_API double ml_cm_accuracy(const double *cm, int k);
/* Mean recall over the classes present in the truth. */
ML_API double ml_cm_balanced_accuracy(const double *cm, int k);
/* avg >= 0: the score of class avg (scikit-learn average='binary', pos_label = that
 * class); ML_AVG_MACRO: unweighted mean over the present classes; ML_AVG_WEIGHTED: mean
 * weighted by each class's truth support. 0/0 counts as 0 (zero_division="warn"). F1 of a
 * class is 2PR / (P + R), 0 when P + R = 0; the macro F1 is the mean of the classes' F1. */
#define ML_AVG_MACRO	(-1)
#define ML_AVG_WEIGHTED (-2)
ML_API double ml_cm_precision(const double *cm, int k, int avg);
ML_API double ml_cm_recall(const double *cm, int k, int avg);
ML_API double ml_cm_f1(const double *cm, int k, int avg);
/* Matthews correlation coefficient, multiclass as scikit-learn (Gorodkin's R_K); 0 when
 * the denominator is 0. */
ML_API double ml_cm_mcc(const double *cm, int k);

/* --- Ranking ------------------------------------------------------------------------------ */

/* order[0..n-1] = the row indices by decreasing score (a radix sort; NaN is not allowed).
 * Returns 0, or ML_E_NOMEM. */
ML_API int ml_sort_desc(const double *score, size_t n, size_t *order, struct ml_err *e);
/* ROC AUC of score for "truth == pos" against the rest, from an order made by
 * ml_sort_desc: tied scores form one step of the curve and are integrated by the
 * trapezoid, exactly as roc_auc_score. NaN when the truth (of non-zero weight) holds only
 * one side. */
ML_API double ml_auc_sorted(const double *score, const size_t *order, size_t n,
			    const int32_t *truth, int32_t pos, const double *w);
/* Average precision (average_precision_score): sum over thresholds of
 * (R_t - R_{t-1}) P_t, thresholds at the distinct scores. NaN without positives. */
ML_API double ml_ap_sorted(const double *score, const size_t *order, size_t n, const int32_t *truth,
			   int32_t pos, const double *w);
/* The same, sorting first. Return 0 or ML_E_NOMEM; *out as above. */
ML_API int ml_auc(const double *score, size_t n, const int32_t *truth, int32_t pos, const double *w,
		  double *out, struct ml_err *e);
ML_API int ml_average_precision(const double *score, size_t n, const int32_t *truth, int32_t pos,
				const double *w, double *out, struct ml_err *e);

/* A curve: points (x[i], y[i]) with the score threshold t[i] that gives them. */
struct ml_curve {
	size_t n;
	double *x, *y, *t;
};

ML_API void ml_curve_release(struct ml_curve *c);
/* roc_curve(drop_intermediate=False): x = false positive rate, y = true positive rate,
 * one point per distinct score from the highest down, after a first point (0, 0) whose
 * threshold is +inf. c must be zeroed. Returns 0, ML_E_NOMEM, or ML_E_DATA when the
 * truth holds only one side. */
ML_API int ml_roc_curve(const double *score, size_t n, const int32_t *truth, int32_t pos,
			const double *w, struct ml_curve *c, struct ml_err *e);
/* precision_recall_curve: x = recall (decreasing), y = precision, one point per distinct
 * score from the lowest up, then the point (0, 1) with threshold +inf. ML_E_DATA without
 * positives. */
ML_API int ml_pr_curve(const double *score, size_t n, const int32_t *truth, int32_t pos,
		       const double *w, struct ml_curve *c, struct ml_err *e);

/* --- Probabilities ---------------------------------------------------------------------- */

/* Epsilon of log_loss's clipping: the machine epsilon of float64. */
#define ML_LOGLOSS_EPS 2.220446049250313e-16

/* log_loss(labels = the m classes): every probability is clipped to [eps, 1 - eps], each
 * row is divided by its sum, and the loss is the weighted mean of -log p[truth]. All m
 * columns must be present, and truth codes must be < m. */
ML_API double ml_logloss(const double *const *prob, int m, const int32_t *truth, const double *w,
			 size_t n);
/* brier_score_loss: weighted mean of (p - [truth == pos])^2. */
ML_API double ml_brier_binary(const double *p, const int32_t *truth, int32_t pos, const double *w,
			      size_t n);
/* Multiclass Brier score: weighted mean over rows of sum over the m classes of
 * (prob[c] - [truth == c])^2 (twice the binary score on two classes). */
ML_API double ml_brier_multi(const double *const *prob, int m, const int32_t *truth,
			     const double *w, size_t n);

/* Reliability table: nbins equal-width bins over [0, 1], edges i * (1.0 / nbins) as
 * numpy.linspace makes them; a probability on an edge belongs to the lower bin (as
 * calibration_curve's searchsorted). bins[] (nbins entries) get lower, upper, count (rows),
 * weight, the weighted mean probability and the weighted fraction of "truth == pos";
 * the means are NaN in an empty bin. */
struct ml_calib_bin {
	double lower, upper;
	size_t count;
	double weight, mean_pred, frac_pos;
};

ML_API void ml_calibration(const double *p, const int32_t *truth, int32_t pos, const double *w,
			   size_t n, int nbins, struct ml_calib_bin *bins);

/* --- Regression ------------------------------------------------------------------------- */

/* mean_squared_error(squared=False), mean_absolute_error, mean_absolute_percentage_error
 * (|y - p| / max(|y|, eps) with eps = 2.220446049250313e-16, as a fraction), symmetric
 * MAPE (2|y - p| / (|y| + |p|), 0 when both are 0, as a fraction) and r2_score (1 - SSres
 * / SStot around the weighted mean; when SStot = 0: 1 if SSres = 0, else 0). */
ML_API double ml_rmse(const double *y, const double *p, const double *w, size_t n);
ML_API double ml_mae(const double *y, const double *p, const double *w, size_t n);
ML_API double ml_mape(const double *y, const double *p, const double *w, size_t n);
ML_API double ml_smape(const double *y, const double *p, const double *w, size_t n);
ML_API double ml_r2(const double *y, const double *p, const double *w, size_t n);
/* median_absolute_error: without weights the median of |y - p| (the mean of the two middle
 * values when n is even); with weights scikit-learn's weighted percentile (the smallest
 * error whose cumulative weight reaches half the total). Returns 0 or ML_E_NOMEM. */
ML_API int ml_medae(const double *y, const double *p, const double *w, size_t n, double *out,
		    struct ml_err *e);

/* --- Prepared evaluation ------------------------------------------------------------------ */

/* A classification data set. Binary when pos >= 0: precision, recall, f1 are those of pos
 * and auc, average_precision, brier use prob[pos]; multiclass when pos < 0: auc and
 * average_precision are one-vs-rest macro averages over the classes present in the truth
 * (each needs its column), brier is ml_brier_multi. Probability metrics are computed
 * when prob is not NULL; logloss and the multiclass brier use the classes whose column is
 * present, in code order, except that a binary set with only the positive class's column
 * takes its complement for the other class (log_loss of a 1-D y_pred). */
struct ml_cls_data {
	size_t n;
	int k;
	const int32_t *truth;
	const int32_t *pred;
	const double *const *prob; /* k columns (some NULL), or NULL */
	const double *w;
	int pos;
};

struct ml_reg_data {
	size_t n;
	const double *y, *p, *w;
};

/* An evaluator borrows its data (which must outlive it) and keeps the sort orders that
 * ranking metrics and the median need, so that each further evaluation is linear. */
struct ml_eval;

ML_API struct ml_eval *ml_eval_classify(const struct ml_cls_data *d, struct ml_err *e);
ML_API struct ml_eval *ml_eval_regress(const struct ml_reg_data *d, struct ml_err *e);
ML_API void ml_eval_free(struct ml_eval *ev);
/* 1 when the evaluator reports metric m (by task, binary or multiclass, and whether
 * there are probabilities). */
ML_API int ml_eval_has(const struct ml_eval *ev, int m);
/* Evaluate into out[ML_M_COUNT] (NaN for metrics not reported or undefined). mult, when
 * not NULL, repeats row i mult[i] times (0 leaves it out): a bootstrap resample. Safe to
 * call from several threads at once. Returns 0 or ML_E_NOMEM. */
ML_API int ml_eval_run(const struct ml_eval *ev, const uint32_t *mult, double *out,
		       struct ml_err *e);
/* Percentile bootstrap intervals: nboot resamples of the n rows drawn with replacement,
 * resample b from ml_rng_derive(seed, b), spread over ctx's pool (the results do not
 * depend on the thread count). lower[m] and upper[m] (ML_M_COUNT each) get the
 * (1 - level) / 2 and (1 + level) / 2 quantiles of the metric over the resamples where it
 * is defined, interpolated linearly as numpy.percentile; NaN when it never is. */
ML_API int ml_eval_bootstrap(const struct ml_eval *ev, struct ml_ctx *ctx, uint64_t seed,
			     long nboot, double level, double *lower, double *upper,
			     struct ml_err *e);

#endif
