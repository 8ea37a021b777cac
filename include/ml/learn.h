/* Learners: every model family behind one interface (struct ml_algo) and a table of them,
 * plus the generic layer that turns a frame into a learner's numbers (feature design,
 * target classes, weights), saves and loads fitted models, and scores blocks of rows.
 *
 * A learner sees only numbers: struct ml_data. Categorical features reach it one-hot
 * encoded ("col=level" columns), or, for algorithms with ML_ALGO_NATIVE_CAT, as the level
 * index (0..ncat-1) in one column. Missing values reach only algorithms with
 * ML_ALGO_MISSING (as NaN); for the others the generic layer refuses them, naming the
 * column. When scoring, a level not seen in training is an all-zero one-hot group, or
 * NaN in a native categorical column (so an ML_ALGO_NATIVE_CAT algorithm must accept
 * NaN there even without ML_ALGO_MISSING).
 *
 * The generic layer picks the feature levels (sorted by bytes) and the classes from the
 * training rows only, so validation and held-out rows never leak into the design. */
#ifndef ML_LEARN_H
#define ML_LEARN_H

#include <stddef.h>
#include <stdint.h>
#include "ml/ctx.h"
#include "ml/err.h"
#include "ml/frame.h"
#include "ml/model.h"

enum ml_task { ML_TASK_AUTO = 0, ML_TASK_CLASSIFY, ML_TASK_REGRESS };

/* Hyperparameters: each algorithm lists its own; the long option is --NAME. */
enum ml_ptype { ML_P_REAL, ML_P_INT, ML_P_ENUM };

struct ml_param {
	const char *name;    /* "l2", "k", "weights" */
	enum ml_ptype type;
	double def;          /* default (ML_P_ENUM: index into choices) */
	double lo, hi;       /* inclusive range (ML_P_REAL, ML_P_INT) */
	const char *choices; /* ML_P_ENUM: comma-separated, e.g. "uniform,distance" */
	const char *help;    /* one line for --help and the man page */
};

#define ML_MAX_PARAMS 40

struct ml_params {
	const struct ml_algo *algo;
	int n;                   /* parameters the algorithm has */
	double v[ML_MAX_PARAMS]; /* value per algo->params index */
	int set[ML_MAX_PARAMS];  /* 1 when given explicitly */
};

/* Defaults of a. */
ML_API void ml_params_init(struct ml_params *p, const struct ml_algo *a);
/* Set parameter name from text. ML_E_USAGE when a has no such parameter ("--l1 does not
 * apply to -a ridge"), or the value is out of range or not a choice. */
ML_API int ml_params_set(struct ml_params *p, const char *name, const char *text,
			 struct ml_err *e);
/* The value of name (NaN when a has no such parameter). */
ML_API double ml_param(const struct ml_params *p, const char *name);
ML_API int ml_param_given(const struct ml_params *p, const char *name);
/* As JSON {"name": value, ...} (ENUM values as their choice string) and back. */
ML_API cJSON *ml_params_to_json(const struct ml_params *p);
ML_API int ml_params_from_json(struct ml_params *p, const struct ml_algo *a, const cJSON *j,
			       struct ml_err *e);

/* What a learner is fitted on. */
struct ml_data {
	size_t n;                 /* rows */
	int p;                    /* features */
	const double *const *col; /* feature j of row i: col[j][i]; NaN = missing */
	const double *X;          /* the same values as one column-major array,
				   * X[j * n + i], when they are stored so; else NULL
				   * (ml_data_dense gives that form) */
	const double *y;          /* target: a value, or a class index 0..nclass-1 */
	const double *w;          /* row weights, or NULL for all 1 */
	int nclass;               /* 0: regression; >= 2: classification */
	const int *ncat;          /* per feature: 0 numeric, else native level count */
	const char *const *names; /* per feature, for messages and tables */
	const char *const *classes; /* the nclass labels, for tables (NULL in regression) */
	const struct ml_dict *const *levels; /* per feature: the levels of a native
						* categorical one, for tables (or NULL) */
};

enum {
	ML_ALGO_CLASSIFY = 1 << 0,   /* can classify */
	ML_ALGO_REGRESS = 1 << 1,    /* can regress */
	ML_ALGO_NATIVE_CAT = 1 << 2, /* takes categorical features as level indices */
	ML_ALGO_MISSING = 1 << 3,    /* takes NaN in features */
	ML_ALGO_ROWWISE = 1 << 4     /* predict, leaves and contrib may run on blocks of
				      * rows at once from several threads, each row's
				      * answer its own */
};

/* d's features as one column-major array X[j * n + i]: d->X itself, or a copy in *buf
 * (free it) when d holds its columns apart. NULL when out of memory. */
ML_API const double *ml_data_dense(const struct ml_data *d, double **buf);

/* One model family. The state is the algorithm's own fitted object. */
struct ml_algo {
	const char *name;    /* the -a value */
	const char *summary; /* one line */
	unsigned flags;
	const struct ml_param *params; /* terminated by an entry with name NULL */
	/* Fit on d; valid (may be NULL) is held-out data for iterative learners (early
	 * stopping, validation metrics). Progress goes through ml_log(ctx, ...). */
	int (*fit)(void **state, const struct ml_data *d, const struct ml_data *valid,
		   const struct ml_params *hp, struct ml_ctx *ctx, struct ml_err *e);
	/* Score n rows of X (column-major, X[j * ld + i], p as fitted). out gets, per row i:
	 * regression: out[i]; classification: probabilities out[i * nclass + k]; with raw,
	 * margins instead: out[i] for regression and binary classification (the log-odds
	 * of the second class), out[i * nclass + k] for more classes. */
	int (*predict)(const void *state, const double *X, size_t n, size_t ld, double *out,
		       int raw, struct ml_err *e);
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
	int (*fitted)(void *state, double *out, int raw);
	int (*leaves)(const void *state, const double *X, size_t n, size_t ld, int32_t *out,
		      struct ml_err *e);
	int (*contrib)(const void *state, const double *X, size_t n, size_t ld, double *out,
		       struct ml_err *e);
};

/* The table of algorithms, NULL-terminated, and lookup by name. */
ML_API const struct ml_algo *const *ml_algos(void);
ML_API const struct ml_algo *ml_algo_find(const char *name);

/* What to fit, in terms of a frame. */
struct ml_train_spec {
	const char *target;  /* column name */
	const char *ignore;  /* COLS not to use as features, or NULL */
	const char *weight;  /* column of row weights, or NULL */
	enum ml_task task;   /* AUTO: a categorical target, or a numeric one with exactly two
			      * distinct values, classifies; other numeric targets regress */
	int balanced;        /* class weights n / (nclass * count), as sklearn's "balanced" */
	struct ml_params params;
	const char *name;       /* the training input's name for messages, or NULL */
	const char *valid_name; /* the validation rows' input name (NULL: name) */
};

/* A fitted model with its feature design, target and classes. Not safe to share between
 * threads while scoring (it holds a binding and scratch space). */
struct ml_learner;

/* The task a spec's target and task give on rows of f (rows NULL: every row), by the
 * rule of ml_train_spec.task, without fitting: for stratified splits and metrics before
 * a fit. ML_E_DATA when there is no such column, or a categorical target is to be
 * regressed. */
ML_API int ml_task_resolve(const struct ml_frame *f, const size_t *rows, size_t n,
			   const char *target, enum ml_task task, enum ml_task *out,
			   struct ml_err *e);

/* Fit on rows[0..nrows) of f (rows NULL: every row); valid_rows likewise for validation
 * (NULL, 0: none). ML_E_DATA (naming column and, for text input, line) for: no target
 * column, no rows, a missing target, a single class, a missing feature value the
 * algorithm cannot take, a bad weight, a validation row with a class the training rows
 * lack. ML_E_USAGE: an unknown --ignore column, an algorithm that cannot do the task,
 * balanced class weights on a regression. Errors name spec->name (or, for validation
 * rows, spec->valid_name) as their input. */
ML_API int ml_learner_fit(struct ml_learner **out, const struct ml_frame *f,
			  const size_t *rows, size_t nrows, const size_t *valid_rows,
			  size_t nvalid, const struct ml_train_spec *spec, struct ml_ctx *ctx,
			  struct ml_err *e);
ML_API void ml_learner_free(struct ml_learner *l);

ML_API const struct ml_algo *ml_learner_algo(const struct ml_learner *l);
ML_API enum ml_task ml_learner_task(const struct ml_learner *l);
ML_API const char *ml_learner_target(const struct ml_learner *l);
/* Classes in output order (sorted: numerically for a numeric target, else by bytes). */
ML_API int ml_learner_nclass(const struct ml_learner *l);
ML_API const char *ml_learner_class(const struct ml_learner *l, int k);
/* Values per row from ml_learner_predict. */
ML_API int ml_learner_nout(const struct ml_learner *l, int raw);

/* Bind to an input schema by column name (any order; extra columns ignored). A missing
 * feature column, or one of the wrong type, is ML_E_DATA naming it. */
ML_API int ml_learner_bind(struct ml_learner *l, const struct ml_schema *in, struct ml_err *e);
/* Score rows [from, to) of b (schema as bound) into out (nout values per row). Categories
 * not seen in training score as all-zero one-hot columns (or missing, for native
 * categorical algorithms). A missing feature value is ML_E_DATA naming line and column for
 * algorithms without ML_ALGO_MISSING. */
ML_API int ml_learner_predict(struct ml_learner *l, const struct ml_block *b, size_t from,
			      size_t to, double *out, int raw, struct ml_err *e);
/* The same for the rows rows[0..n) of b, in any order. */
/* Tree ensembles (0 trees otherwise): the leaf each row reaches in each tree, out[i * ntrees
 * + t], and per-feature contributions to the margin (TreeSHAP), out[(i * K + k) * (p + 1) +
 * j] for margin k of K = ml_learner_nout(l, 1), j < p the encoded features and j = p the
 * expected value, summing to the margin. ML_E_USAGE for a family without them. */
/* Score with pool's threads from now on (NULL: the calling thread alone) when the
 * algorithm is ML_ALGO_ROWWISE; answers are the same bytes either way. */
ML_API void ml_learner_set_pool(struct ml_learner *l, struct ml_pool *pool);
ML_API int ml_learner_ntrees(const struct ml_learner *l);
/* The scores of the rows the learner was fitted on, in their order, the same bytes
 * ml_learner_predict_rows would give, when the algorithm kept them from the fit (gradient
 * boosting does): 1 when written to out (once: they are then given up), else 0. */
ML_API int ml_learner_fitted(struct ml_learner *l, double *out, int raw);
ML_API int ml_learner_leaves(struct ml_learner *l, const struct ml_block *b, size_t from,
			     size_t to, int32_t *out, struct ml_err *e);
ML_API int ml_learner_contrib(struct ml_learner *l, const struct ml_block *b, size_t from,
			      size_t to, double *out, struct ml_err *e);
ML_API int ml_learner_predict_rows(struct ml_learner *l, const struct ml_block *b,
				   const size_t *rows, size_t n, double *out, int raw,
				   struct ml_err *e);
/* The true class index of rows of a frame's target for metrics (the target must be bound
 * by name in f): -1 for a label the model does not know or a missing one. */
ML_API int ml_learner_target_codes(const struct ml_learner *l, const struct ml_frame *f,
				   const size_t *rows, size_t n, double *y, struct ml_err *e);

/* Save as an ml-model container (kind "model"): metadata holds algorithm, task, target,
 * classes, features (the input schema of the feature columns, with levels), params,
 * seed and whatever the caller adds (metrics) through ml_model_meta. */
ML_API int ml_learner_to_model(const struct ml_learner *l, struct ml_model **out,
			       struct ml_err *e);
ML_API struct ml_learner *ml_learner_from_model(const struct ml_model *m, struct ml_err *e);
/* Build one of the algorithm's tables (see struct ml_algo). */
ML_API int ml_learner_table(const struct ml_learner *l, const char *name, struct ml_frame *out,
			    struct ml_err *e);
/* The hyperparameters the learner was fitted with. */
ML_API const struct ml_params *ml_learner_params(const struct ml_learner *l);
/* The feature columns as an input schema (names, types, training levels in level
 * order), appended to s (fresh from ml_schema_init): what ml_learner_bind needs. */
ML_API int ml_learner_input_schema(const struct ml_learner *l, struct ml_schema *s,
				   struct ml_err *e);
/* Names of the encoded features (p of them). */
ML_API int ml_learner_nfeatures(const struct ml_learner *l);
ML_API const char *ml_learner_feature(const struct ml_learner *l, int j);

#endif
