/* Feature pipelines: steps fitted on training rows (impute, scale, power, encoders, dates,
 * interactions, lags and rolling windows, selection, PCA, text) whose fitted state is an
 * ml-model container of kind "features", replayed exactly on new rows by name.
 *
 * Replaying a saved pipeline (what mlfeat --load and mlpredict do):
 *
 *	m = ml_model_load_kind(path, "features", &e);
 *	f = ml_features_from_model(m, &e);        (m may be freed once f exists)
 *	ml_schema_init(&types);
 *	ml_features_input_schema(f, &types, &e);  (ml_read_opts.types: the fit's column types)
 *	r = ml_reader_open(input, &ro, &e);
 *	ml_features_bind(f, ml_reader_schema(r), &out, &e);
 *	while ((n = ml_reader_next(r, &b, &e)) > 0) {
 *		ml_features_apply(f, b, 0, n, &o, &e);   (o->nrow rows, schema out)
 *		... o is the input of the next artefact (bind it to out) ...
 *	}
 *	ml_features_finish(f, &o, &e);              (rows held back until the end, if any)
 *	ml_features_free(f);
 *
 * Binding is by column name: the input may hold the columns in any order; a column the
 * pipeline was fitted with that the input lacks is ML_E_DATA naming every difference
 * (missing columns, columns of another type), except the target, which may be absent
 * (it is then absent from the output too). Input columns the pipeline has never seen
 * are dropped, or passed through at the end of the output after ml_features_set_extra.
 *
 * Rows: the output rows are the input rows, in order. Only the 'interpolate' imputation
 * needs to see the next present value of a column, so a pipeline holding it may return
 * fewer rows from ml_features_apply than it was given (none, possibly) and the rest from
 * later calls and from ml_features_finish; ml_features_holds_rows says whether it can.
 * Every other pipeline returns exactly the rows it was given.
 *
 * Memory: constant per block, except lags and rolling windows (window x groups) and the
 * rows an interpolation holds (the longest run of missing values).
 *
 * Ownership: the output schema and blocks belong to the pipeline. The schema stays valid
 * until the next bind or ml_features_free; its categorical dictionaries grow as blocks are
 * applied (as a reader's do). A block stays valid until the next apply, finish or free.
 * The input block's schema must be the schema given to bind (its dictionaries may grow).
 * A pipeline is not safe to share between threads. */
#ifndef ML_FEAT_H
#define ML_FEAT_H

#include <stddef.h>
#include "ml/ctx.h"
#include "ml/err.h"
#include "ml/frame.h"
#include "ml/model.h"

struct ml_features;

/* Replay. */

/* Build a pipeline from a container of kind "features" (anything else, or a section that
 * does not check out, is ML_E_DATA). m is not kept. */
ML_API struct ml_features *ml_features_from_model(const struct ml_model *m, struct ml_err *e);
/* The columns the pipeline was fitted on (names and types, no levels), appended to s
 * (fresh from ml_schema_init): give it to ml_read_opts.types so text input is typed as it
 * was when fitting. */
ML_API int ml_features_input_schema(const struct ml_features *f, struct ml_schema *s,
				    struct ml_err *e);
/* Extra input columns (ones the pipeline was not fitted on): 0 (default) drops them,
 * 1 passes them through after the pipeline's columns. Takes effect at the next bind. */
ML_API void ml_features_set_extra(struct ml_features *f, int pass);
/* Bind to an input schema by name and set *out to the output schema. Resets the state of
 * stateful steps (forward fill, lags, windows), so a stream starts afresh. */
ML_API int ml_features_bind(struct ml_features *f, const struct ml_schema *in,
			    const struct ml_schema **out, struct ml_err *e);
/* Transform rows [from, to) of in. *out gets the rows ready (see Rows above). ML_E_DATA
 * names line and column (when in->line is known) for a value a step cannot take: an
 * unparseable date, an unseen category under --unseen error, time going backwards. */
ML_API int ml_features_apply(struct ml_features *f, const struct ml_block *in, size_t from,
			     size_t to, const struct ml_block **out, struct ml_err *e);
/* At the end of the input: the rows still held (an empty block for most pipelines). */
ML_API int ml_features_finish(struct ml_features *f, const struct ml_block **out, struct ml_err *e);
ML_API int ml_features_holds_rows(const struct ml_features *f);
ML_API void ml_features_free(struct ml_features *f);

/* The target column the pipeline was fitted with, or NULL. */
ML_API const char *ml_features_target(const struct ml_features *f);

/* Fitting. */

/* How an encoder treats a category it did not see when fitted. */
enum ml_unseen {
	ML_UNSEEN_IGNORE = 0, /* one-hot: all zeros; ordinal: missing; frequency: 0;
			       * target encoding: the prior */
	ML_UNSEEN_ERROR,      /* ML_E_DATA naming line, column and value */
	ML_UNSEEN_OTHER	      /* one-hot: the col=other column; ordinal: the code after the
			       * last level; frequency and target encoding as IGNORE */
};

/* One-hot refuses a column with more distinct values than this unless max_categories
 * folds the rare ones. */
#define ML_ONEHOT_LIMIT 100

struct ml_feat_step {
	const char *step; /* "impute", "scale", ... (the long option without dashes) */
	const char *arg;  /* its argument as given ("median:age,income") */
};

struct ml_feat_spec {
	const char *name;   /* the input's name in messages */
	const char *target; /* -t: the label column, or NULL */
	const char *keep;   /* COLS passed through untouched, or NULL */
	enum ml_unseen unseen;
	int max_categories;    /* one-hot: 0, or at most this many columns per input column
				* with the rarest values folded into col=other */
	double smoothing;      /* target encoding: < 0 (default): "auto"; else m */
	int folds;	       /* target encoding cross-fitting folds (default 5) */
	int missing_indicator; /* impute steps add COL_missing columns */
	const char *time_col;  /* order of rows for interpolation, windows and lags */
	const char *group_col; /* windows, lags, ffill and interpolation run per group */
	int cyclical;	       /* datetime: sin/cos pairs for periodic parts */
	int squares;	       /* interactions: x^2 too */
	int whiten;	       /* PCA: scores of unit variance */
	const char *algorithm; /* RFE and Boruta: the learner (NULL: logistic or linear by
				* the task for RFE, rf for Boruta) */
	int nsteps;
	const struct ml_feat_step *steps;
};

ML_API void ml_feat_spec_init(struct ml_feat_spec *s);
/* The step names, NULL-terminated, in the order the manual lists them. */
ML_API const char *const *ml_feat_step_names(void);
/* Check the spec's syntax without data (step names, methods, numbers): ML_E_USAGE
 * naming the option. Column names are checked by the fit. */
ML_API int ml_features_check(const struct ml_feat_spec *spec, struct ml_err *e);
/* Fit every step in order on the rows of fr (each step sees the output of the ones
 * before it) and set *rows to the transformed training rows (owned by the pipeline,
 * valid until the next bind or ml_features_free; columns a step did not touch point into fr's, so
 * fr must outlive them; schema as the output of a bind to fr's schema). They are what
 * ml_features_apply gives for the same rows, except for target encoding, which is
 * cross-fitted there. fr's rows must be in order for the steps that care (time order for
 * lags, windows and interpolation). Bind the fitted pipeline (which also resets its
 * state) before applying it to any rows. Errors: ML_E_USAGE for unknown columns and
 * columns of the wrong type, a supervised step without a target; ML_E_DATA for what the
 * data cannot give (no rows, an all-missing column, box-cox on values <= 0, one-hot of
 * an identifier, an unparseable date, missing values where a step needs none). Warnings
 * (a constant column) go through ml_log(ctx, ML_LOG_WARN, ...). */
ML_API int ml_features_fit(struct ml_features **out, const struct ml_frame *fr,
			   const struct ml_feat_spec *spec, struct ml_ctx *ctx,
			   const struct ml_block **rows, struct ml_err *e);
/* Store as an ml-model container of kind "features" (algorithm "pipeline"). */
ML_API int ml_features_to_model(const struct ml_features *f, struct ml_model **out,
				struct ml_err *e);

/* Shared pieces, documented in mlfeat(1). */

/* Parse a date or time: ISO 8601 dates and date-times ('T' or space; seconds and
 * fractions optional; 'Z' or +-HH[:MM] zones, converted to UTC), 'YYYY/MM/DD' with the
 * same optional time, or a plain number of seconds since 1970-01-01 UTC. Returns 0 with
 * *t in seconds since the epoch (UTC), or -1. */
ML_API int ml_parse_time(const char *s, size_t n, double *t);
/* A window as the options that take one write it: a count of rows (1 to max_rows) or a
 * duration, a positive number and a unit s, m, h, d or w ("90s", "1.5h", "2w"). Returns 0
 * with *rows or *seconds set (the other 0) and, when unit is not NULL, the seconds of the
 * duration's unit in *unit (0 for rows), or -1. */
ML_API int ml_parse_window(const char *s, long max_rows, long *rows, double *seconds,
			   double *unit);
/* The proleptic Gregorian calendar: days since 1970-01-01 of year y, month m (1-12), day
 * d, and back; the days in a month. */
ML_API long long ml_days_from_civil(long long y, int m, int d);
ML_API void ml_civil_from_days(long long z, long long *y, int *m, int *d);
ML_API int ml_month_days(long long y, int m);

#endif
