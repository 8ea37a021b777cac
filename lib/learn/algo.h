/* Private to libml: how a model family is written. An algorithm sees only numbers (struct
 * ml_data) and keeps its own fitted state; the generic layer (lib/learn/) does the rest.
 * Adding one: its algo_NAME.c defines const struct ml_algo ml_algo_NAME, and one line in
 * algos.h lists it. */
#ifndef ML_ALGO_H
#define ML_ALGO_H

#include <stddef.h>
#include <stdint.h>

#include "ml/ctx.h"
#include "ml/err.h"
#include "ml/frame.h"
#include "ml/learn.h"
#include "ml/model.h"
#include "core/model_int.h"

/* What a learner is fitted on. */
struct ml_data {
	size_t n;                 /* rows */
	int p;                    /* features */
	const double *const *col; /* feature j of row i: col[j][i]; NaN = missing */
	const double *X;          /* the same values as one column-major array,
				   * X[j * n + i], when they are stored so; else NULL
				   * (ml_data_dense gives that form) */
	const double *y;          /* target: a value, or a class index 0..nclass-1; NULL
				   * for an unsupervised fit */
	const double *w;          /* row weights, or NULL for all 1 */
	int nclass;               /* 0: regression or unsupervised; >= 2: classification */
	const int *ncat;          /* per feature: 0 numeric, else native level count */
	const char *const *names; /* per feature, for messages and tables */
	const char *const *classes; /* the nclass labels, for tables (NULL in regression) */
	const struct ml_dict *const *levels; /* per feature: the levels of a native
						* categorical one, for tables (or NULL) */
};

/* d's features as one column-major array X[j * n + i]: d->X itself, or a copy in *buf
 * (free it) when d holds its columns apart. NULL when out of memory. */
const double *ml_data_dense(const struct ml_data *d, double **buf);

/* Add section name to m with the bytes of b, which is released either way (ML_E_NOMEM
 * when b ran out of memory): how a save call writes its sections. */
int ml_algo_put(struct ml_model *m, const char *name, struct ml_wbuf *b, struct ml_err *e);
/* Section name of m into b, past its leading version, which must be version (ML_E_DATA
 * "model section 'NAME' has an unknown version" otherwise): how a load call starts. */
int ml_algo_get(const struct ml_model *m, const char *name, uint32_t version, struct ml_rbuf *b,
		struct ml_err *e);
/* The same for a section whose layout has versions oldest .. newest, all still read: the
 * one found into *version. */
int ml_algo_get_versions(const struct ml_model *m, const char *name, uint32_t oldest,
			 uint32_t newest, uint32_t *version, struct ml_rbuf *b, struct ml_err *e);

/* One model family. The state is the algorithm's own fitted object: immutable once fit or
 * load has returned it (fitted aside), since threads share it while scoring. */
struct ml_algo {
	const char *name;    /* the -a value */
	const char *summary; /* one line */
	unsigned flags;      /* ML_ALGO_*: CLASSIFY, REGRESS, UNSUPERVISED, NATIVE_CAT, MISSING,
			      * ROWWISE (predict, leaves and contrib may run on blocks of rows
			      * from several threads at once, each row's answer its own), DIST
			      * (predict gives a standard deviation); TREES and CONTRIB follow
			      * from the calls below */
	const struct ml_param *params; /* terminated by an entry with name NULL */
	/* Fit on d; valid (may be NULL) is held-out data for iterative learners (early
	 * stopping, validation metrics). Progress goes through ml_log(ctx, ...). */
	int (*fit)(void **state, const struct ml_data *d, const struct ml_data *valid,
		   const struct ml_params *hp, struct ml_ctx *ctx, struct ml_err *e);
	/* Score n rows of X (column-major, X[j * ld + i], p as fitted). what is an enum
	 * ml_out. out gets, per row i: ML_OUT_VALUE: regression out[i], classification the
	 * probabilities out[i * nclass + k], unsupervised the nout outputs out[i * nout + k];
	 * ML_OUT_MARGIN: margins, out[i] for regression and binary classification (the
	 * log-odds of the second class), out[i * nclass + k] for more classes; ML_OUT_DIST
	 * (ML_ALGO_DIST only): the mean and standard deviation, out[2 * i], out[2 * i + 1];
	 * ML_OUT_EMBED (with nembed): the representation, out[i * nembed + k]. */
	int (*predict)(const void *state, const double *X, size_t n, size_t ld, double *out,
		       int what, struct ml_err *e);
	/* Store the state as sections of m ("algo.*" names are free to use) and back. */
	int (*save)(const void *state, struct ml_model *m, struct ml_err *e);
	int (*load)(void **state, const struct ml_model *m, const struct ml_data *shape,
		    struct ml_err *e);
	/* Tables mlinfo --table prints (NULL-terminated names, may be NULL), and the call
	 * that builds one as a frame (out fresh from ml_frame_init). */
	const char *const *tables;
	int (*table)(const void *state, const char *name, const struct ml_data *shape,
		     struct ml_frame *out, struct ml_err *e);
	void (*free)(void *state);
	/* Optional, NULL when the family has none. Tree ensembles: the number of trees
	 * (columns of leaves' output), the leaf index each row reaches in each tree
	 * (out[i * ntrees + t]), and per-feature contributions to the margin (TreeSHAP):
	 * out[(i * K + k) * (p + 1) + j] for margin k of K (K = 1 for regression and binary),
	 * with the expected value at j = p, so that a row's values sum to its margin. */
	int (*ntrees)(const void *state);
	/* Optional: the training rows' scores as predict would give them (same layout),
	 * when the fit kept them; 1 when written (they are then given up), 0 when not kept. */
	int (*fitted)(void *state, double *out, int what);
	int (*leaves)(const void *state, const double *X, size_t n, size_t ld, int32_t *out,
		      struct ml_err *e);
	int (*contrib)(const void *state, const double *X, size_t n, size_t ld, double *out,
		       struct ml_err *e);
	/* Optional, unsupervised algorithms: the names of the values predict writes per row
	 * (at most max into names, static or owned by the state); returns how many. NULL:
	 * one value, "score". */
	int (*outputs)(const void *state, const char **names, int max);
	/* Optional, unsupervised algorithms: output k as a category, the comma-separated
	 * levels its value (a level index) stands for ("none,low,high"); NULL for a number. */
	const char *(*output_levels)(const void *state, int k);
	/* Optional, for a model whose score of a row depends on the rows before it (not
	 * ML_ALGO_ROWWISE): score n rows in input order against a running state, which the
	 * first call makes from the fitted state (*stream NULL) and later calls carry on; a
	 * predictor owns its stream and frees it with stream_free when bound anew or freed.
	 * Used instead of predict for ML_OUT_VALUE. When contrib is not NULL, each feature's
	 * contribution to a row's score against that same state goes to contrib[i * (p + 1) +
	 * j] (j = p: 0), as contrib gives them for a model without a stream. */
	int (*stream_predict)(const void *state, void **stream, const double *X, size_t n,
			      size_t ld, double *out, double *contrib, struct ml_err *e);
	void (*stream_free)(void *stream);
	/* Optional: the width of a learned representation of a row, which predict gives
	 * for ML_OUT_EMBED (out[i * width + k]); NULL for none. */
	int (*nembed)(const void *state);
	/* Optional: the parameter that names a time column. When that column is text, the
	 * learner hands the algorithm its dates and times as seconds since 1970-01-01 UTC
	 * (ml_parse_time: ISO 8601, or a number), in fitting and in scoring; a value that
	 * does not parse is ML_E_DATA naming the line, the column and the value. */
	const char *time_param;
};

/* Private flag: a native categorical level unseen in training reaches predict as an index
 * from the training level count on, numbered by its first appearance in the predictor's
 * input, rather than as NaN (the moving baseline keeps a state per group this way). */
#define ML_ALGO_OPEN_CAT (1u << 16)

/* An algorithm's fit, predict or stream_predict that fails on row i of the rows it was
 * given sets e->line to ML_ALGO_ROW(i); the learner layer turns that into the row's input
 * line (and the input's name). */
#define ML_ALGO_ROW(i) (-(long)(i) - 1)

#endif
