/* The prediction contract: the names of the columns that scoring writes and evaluation
 * reads, and the search for them in a schema.
 *
 * Columns are found by name, never by position. A scorer writes:
 *   pred              the predicted label (classification) or value (regression)
 *   p_LABEL           the probability of class LABEL, one column per class
 *   margin            the raw score of a regression or a binary classification (the
 *                     log-odds of the second class)
 *   margin_LABEL      the raw score of class LABEL, one per class, for more classes
 *   leaf_T            the leaf a row reaches in tree T of an ensemble (T = 1, 2, ...)
 *   contrib_FEATURE   the feature's contribution to the margin (contrib_bias: the
 *                     expected value); contrib_LABEL_FEATURE per class for more classes
 *   score             an anomaly score (higher: more anomalous)
 *   pred_std          the standard deviation of a prediction with uncertainty
 *   lo_LEVEL, hi_LEVEL  the bounds of the central prediction interval of LEVEL percent
 *                     (lo_95, hi_95; lo_97.5), written by ml_pred_interval_name
 * LABEL is the class's text as the model knows it (numbers in their shortest form). */
#ifndef ML_PRED_H
#define ML_PRED_H

#include <stddef.h>
#include "ml/err.h"
#include "ml/frame.h"

#define ML_PRED_LABEL	       "pred"
#define ML_PRED_PROB_PREFIX    "p_"
#define ML_PRED_MARGIN	       "margin"
#define ML_PRED_MARGIN_PREFIX  "margin_"
#define ML_PRED_LEAF_PREFIX    "leaf_"
#define ML_PRED_CONTRIB_PREFIX "contrib_"
#define ML_PRED_SHARE_PREFIX   "share_"
#define ML_PRED_CONTRIB_BIAS   "bias"
#define ML_PRED_SCORE	       "score"
#define ML_PRED_STD	       "pred_std"
#define ML_PRED_LO_PREFIX      "lo_"
#define ML_PRED_HI_PREFIX      "hi_"

/* Write prefix and label into buf (size n), cut to fit: "p_yes", "margin_2", "leaf_7".
 * Returns the length the whole name has (as snprintf; n or more means it was cut). */
ML_API size_t ml_pred_name(char *buf, size_t n, const char *prefix, const char *label);
/* The name of an interval bound: "lo_" (upper 0) or "hi_" (upper 1), then the level, a
 * percentage in (0, 100), in at most 15 significant digits (95: "lo_95", 97.5:
 * "hi_97.5"). Levels are percentages everywhere in mlpipe, as in --level 80,95. Returns
 * the length as ml_pred_name; with n > ML_PRED_INTERVAL_MAX it is never cut. */
#define ML_PRED_INTERVAL_MAX 40
ML_API size_t ml_pred_interval_name(char *buf, size_t n, double level, int upper);

/* --- Reading: the prediction columns of a schema ----------------------------------------- */

/* A per-class column: its index and its label (the text after the prefix, borrowed from
 * the schema's column name). */
struct ml_pred_class {
	int col;
	const char *label;
};

/* What ml_pred_find looks for. */
struct ml_pred_opts {
	const char *name;   /* the input's name for messages, or NULL */
	const char *pred;   /* the predicted label or value; NULL: ML_PRED_LABEL, which may
			     * then be absent (a named column must be there) */
	int truth;	    /* the truth column, or -1: never a prediction column; when it is
			     * numeric, class labels must be finite numbers */
	const int *exclude; /* other columns that are no class columns (weights, groups) */
	int nexclude;
	int classes; /* 1 (default): look for per-class columns; 0: a regression, none */
};

/* The columns found: indices into the schema, -1 for one that is absent. */
struct ml_pred_cols {
	int pred;   /* the predicted label or value */
	int margin; /* ML_PRED_MARGIN */
	int score;  /* ML_PRED_SCORE */
	int std;    /* ML_PRED_STD */
	int nprob;  /* p_LABEL columns in schema order */
	struct ml_pred_class *prob;
	int nmargin; /* margin_LABEL columns in schema order */
	struct ml_pred_class *margins;
	int nskipped; /* p_ columns that cannot be class columns (an empty label, or one that
		       * is no number when the truth is numeric), in schema order */
	int *skipped;
};

/* Defaults: pred NULL, truth -1, no exclusions, classes 1. */
ML_API void ml_pred_opts_init(struct ml_pred_opts *o);
ML_API void ml_pred_cols_init(struct ml_pred_cols *c);
/* Frees the arrays of c (not the labels, which the schema owns). */
ML_API void ml_pred_cols_release(struct ml_pred_cols *c);

/* Find the prediction columns of s into c (fresh from ml_pred_cols_init; its labels
 * point into s, which must outlive their use). The pred column is the one named o->pred
 * (or ML_PRED_LABEL), unless that is the truth. A class column is a column named with its
 * prefix and a label that is not the truth, the pred column or an excluded one; with
 * o->classes 0 none is looked for. Returns 0, ML_E_DATA naming o->name when o->pred
 * names no column, or ML_E_NOMEM; c holds nothing on failure. Whether the columns found
 * are enough for a task is the caller's to decide. */
ML_API int ml_pred_find(const struct ml_schema *s, const struct ml_pred_opts *o,
			struct ml_pred_cols *c, struct ml_err *e);

/* --- Writing ------------------------------------------------------------------------------ */

/* A model artefact's scorer (ml_scorer_new of ml/artefact.h, with struct ml_apply_opts
 * saying which of them) writes these columns in this order: pred, then p_LABEL (or margin,
 * or margin_LABEL with margins asked for), or pred, pred_std, lo_L and hi_L per level for a
 * regression with uncertainty, or an unsupervised model's named outputs (score, ...);
 * then leaf_T and contrib_FEATURE when asked for. Its names come from the functions above. */

#endif
