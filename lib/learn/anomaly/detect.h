/* Private to the anomaly detectors (lib/learn/anomaly/): what every detector shares once
 * its raw scores are made. A detector's predict writes three values per row: the score
 * (higher is more anomalous), the flag (1 above the threshold) and the severity (0 none,
 * 1 low, 2 medium, 3 high, 4 critical: the last band whose training-score quantile the
 * score reaches, and at least low for a flagged row); this file fixes the threshold and the severity
 * bands from the training rows' scores, keeps a calibration grid (the training scores'
 * quantiles) so that scores of detectors on different scales can be compared or averaged,
 * and saves, loads and prints all of it. */
#ifndef ML_ANOMALY_DETECT_H
#define ML_ANOMALY_DETECT_H

#include <stddef.h>
#include <stdint.h>

#include "learn/algo.h"

/* Outputs per row, and their names. */
#define ML_DETECT_NOUT 3
/* Quantile levels of the calibration grid: 0, 1/(n-1), ..., 1. */
#define ML_DETECT_GRID 1001

/* The parameters every detector takes, at the end of its table. */
#define ML_DETECT_PARAMS                                                                     \
	{"contamination", ML_P_STRING, 0, 0, 0, "auto",                                      \
	 "auto (the method's own threshold) or the fraction F of training rows to flag: "    \
	 "the threshold is the training scores' (1-F) quantile"},                            \
	    {"bands", ML_P_LIST, 0, 0, 1, "0.9,0.95,0.99,0.999",                             \
	     "training-score quantiles where a flagged row's severity becomes low, medium, "  \
	     "high and critical"}

struct ml_detect {
	double contamination; /* the fraction asked for, or -1 for auto */
	double thr;	      /* a row is anomalous when its score is above this */
	double band[4];	      /* quantile levels of low, medium, high, critical */
	double bscore[4];     /* the training scores at those levels */
	double grid[ML_DETECT_GRID]; /* training-score quantiles at k / (ML_DETECT_GRID - 1) */
	size_t n;	      /* training rows */
	/* The kept sample (ml_detect_keep): ns training rows by index, their raw scores, and
	 * per feature a robust centre and scale over those rows, for ensembles. */
	size_t ns;
	uint64_t *sidx;
	double *sscore;
	int p;
	double *center, *scale;
	char **names;
};

/* The training data a detector takes: at least one feature, at least min_rows rows (0: no
 * such check, the detector says its own), every value finite; ML_E_DATA naming the
 * algorithm, or the first feature with a value that is not. */
int ml_detect_check(const struct ml_data *d, const char *algo, size_t min_rows,
		    struct ml_err *e);
/* The end of a fit: the training rows' raw scores, as predict leaves them in
 * s[i * ML_DETECT_NOUT], gathered into s[0..n), the sample kept (ml_detect_keep, X
 * column-major as d's) and the calibration fitted (ml_detect_fit with auto_thr). */
int ml_detect_calibrate(struct ml_detect *det, const struct ml_data *d, const double *X,
			double *s, double auto_thr, struct ml_err *e);
/* Read --contamination and --bands into d (ML_E_USAGE naming the option when wrong). */
int ml_detect_init(struct ml_detect *d, const struct ml_params *hp, const char *algo,
		   struct ml_err *e);
/* Calibrate on the training rows' scores s[0..n) (sorted in place): the threshold at the
 * (1 - contamination) quantile, or auto_thr for auto (NaN: the 0.9 quantile, as a
 * contamination of 0.1); the bands and the grid. */
int ml_detect_fit(struct ml_detect *d, double *s, size_t n, double auto_thr, struct ml_err *e);
/* The outputs of n rows whose raw scores are in out[i * ML_DETECT_NOUT]. */
void ml_detect_apply(const struct ml_detect *d, double *out, size_t n);
/* The calibrated score of s: the fraction of training scores at or below it, linear
 * between the grid's quantiles (0 below the smallest, 1 from the largest on). */
double ml_detect_calibrated(const struct ml_detect *d, double s);
/* The quantile at level q (linear between order statistics, as numpy's default) of the
 * sorted s[0..n). */
double ml_detect_quantile(const double *s, size_t n, double q);

/* The sample of training rows every detector keeps so that detectors fitted on the same
 * rows can be compared on common rows without them (mlensemble --method anomaly): up to
 * ML_DETECT_SAMPLE rows drawn by a generator seeded with ML_DETECT_SAMPLE_SEED and the
 * row count alone (so any two fits on n rows keep the same rows, whatever their --seed),
 * in row order, with their raw training scores s[0..n) (in row order, before
 * ml_detect_fit sorts them), and per feature the median and 1.4826 MAD of the kept rows'
 * values (the mean absolute deviation scaled by 1.2533 when the MAD is 0; 1 when that is
 * 0 too). X holds feature j of row i at X[i * ri + j * rj]. Call before ml_detect_fit. */
#define ML_DETECT_SAMPLE 512
#define ML_DETECT_SAMPLE_SEED 0x5a4d504cULL
int ml_detect_keep(struct ml_detect *d, const double *X, size_t n, int p, size_t ri,
		   size_t rj, const char *const *names, const double *s, struct ml_err *e);
/* The robust centre and scale of v[0..n) as ml_detect_keep takes them (v is reordered). */
void ml_detect_robust(double *v, size_t n, double *center, double *scale);
/* The kept sample as the model section ML_DETECT_SAMPLE_SECTION: u32 version, u64
 * training rows, u32 kept rows m, m u64 row indices, m f64 raw scores, u32 features p,
 * then per feature its name (u32 length, bytes), f64 centre, f64 scale. Nothing when the
 * state has no sample (a model loaded from a file). */
#define ML_DETECT_SAMPLE_SECTION "algo.sample"
int ml_detect_save_sample(const struct ml_detect *d, struct ml_model *mo, struct ml_err *e);
void ml_detect_release(struct ml_detect *d);

/* Saved as part of a detector's section, and read back (ML_E_DATA when it is not sound). */
void ml_detect_save(const struct ml_detect *d, struct ml_wbuf *b);
int ml_detect_load(struct ml_detect *d, struct ml_rbuf *b, const char *sec, struct ml_err *e);

/* The algorithm hooks every detector shares: its output names and the severity levels. */
int ml_detect_outputs(const void *state, const char **names, int max);
const char *ml_detect_output_levels(const void *state, int k);
/* The tables "calibration" (quantile, score: the grid) and "severity" (level, quantile,
 * score: the threshold and the bands); ML_E_USAGE naming algo for any other name. */
int ml_detect_table(const struct ml_detect *d, const char *algo, const char *name,
		    struct ml_frame *out, struct ml_err *e);
#define ML_DETECT_TABLES "calibration", "severity"

/* The explanation of a flagged row (mlpredict --explain): the (at most ML_DETECT_TOP)
 * features of w[0..p) with the largest positive weights, largest first (ties: the earlier
 * feature first), their names joined by ';' and interned in d as *code; ML_MISSING_CAT
 * when no weight is positive. ML_E_NOMEM when d cannot grow. */
#define ML_DETECT_TOP 3
struct ml_dict;
int ml_detect_explain(const double *w, int p, const char *const *names, struct ml_dict *d,
		      int32_t *code, struct ml_err *e);

/* A table's categorical cell. */
int ml_detect_frame_cat(struct ml_frame *f, int col, size_t row, const char *s,
			struct ml_err *e);

#endif
