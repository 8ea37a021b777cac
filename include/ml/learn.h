/* Learners: every model family behind one interface, and the generic layer that turns a
 * frame into a learner's numbers (feature design, target classes, weights), fits, saves
 * and loads models, and scores blocks of rows.
 *
 * For library users: struct ml_param (what an algorithm's hyperparameters are), struct
 * ml_params (a set of values), struct ml_train_spec (what to fit), and the opaque handles
 * struct ml_algo (an algorithm), struct ml_learner (a fitted model) and struct
 * ml_predictor (a learner bound for scoring). How an algorithm is written (its fit and
 * predict calls, the numbers it sees) is internal to libml: lib/learn/algo.h.
 *
 * Features. Categorical features reach an algorithm one-hot encoded ("col=level" columns),
 * or, for algorithms with ML_ALGO_NATIVE_CAT, as the level index in one column. Missing
 * values reach only algorithms with ML_ALGO_MISSING; for the others the generic layer
 * refuses them, naming the column. When scoring, a level not seen in training is an
 * all-zero one-hot group (or missing, for native categorical algorithms). The feature
 * levels (sorted by bytes) and the classes come from the training rows only, so
 * validation and held-out rows never leak into the design.
 *
 * Threads: a fitted learner is immutable once ml_learner_fit or ml_learner_from_model
 * has returned it (ml_learner_fitted aside, which is for the fitting thread), and may be
 * shared by any number of threads, each scoring through a predictor of its own:
 * predictors are cheap (a binding and scratch space) and are not shared. */
#ifndef ML_LEARN_H
#define ML_LEARN_H

#include <stddef.h>
#include <stdint.h>
#include "ml/ctx.h"
#include "ml/err.h"
#include "ml/frame.h"
#include "ml/model.h"

/* What is learnt: classes, values, or structure without a target (anomaly scores,
 * clusters). AUTO is for a spec: decided by the target column (see ml_train_spec). */
enum ml_task { ML_TASK_AUTO = 0, ML_TASK_CLASSIFY, ML_TASK_REGRESS, ML_TASK_UNSUPERVISED };

/* What an algorithm can do (ml_algo_flags). */
enum {
	ML_ALGO_CLASSIFY = 1 << 0,     /* can classify */
	ML_ALGO_REGRESS = 1 << 1,      /* can regress */
	ML_ALGO_NATIVE_CAT = 1 << 2,   /* takes categorical features as level indices */
	ML_ALGO_MISSING = 1 << 3,      /* takes missing feature values */
	ML_ALGO_ROWWISE = 1 << 4,      /* scores blocks of rows on several threads at once */
	ML_ALGO_UNSUPERVISED = 1 << 5, /* fits without a target */
	ML_ALGO_DIST = 1 << 6,	       /* regression with a predictive standard deviation */
	ML_ALGO_TREES = 1 << 7,	       /* tree ensembles: leaf indices of rows */
	ML_ALGO_CONTRIB = 1 << 8,      /* per-feature contributions to the margin */
	ML_ALGO_VALID = 1 << 9	       /* fits without a target, and uses validation rows
					* (--early-stop) */
};

/* Hyperparameters: each algorithm lists its own; the long option is --NAME. */
enum ml_ptype {
	ML_P_REAL,    /* a number in [lo, hi] */
	ML_P_INT,     /* a whole number in [lo, hi] */
	ML_P_ENUM,    /* one word of choices */
	ML_P_STRING,  /* text: an expression, a name (at most ML_PARAM_TEXT_MAX bytes) */
	ML_P_LIST,    /* comma-separated numbers, each in [lo, hi] ("0.1,0.5") */
	ML_P_INT_LIST /* comma-separated whole numbers, each in [lo, hi] ("128,64") */
};

struct ml_param {
	const char *name;    /* "l2", "k", "weights" */
	enum ml_ptype type;
	double def;          /* default (ML_P_ENUM: index into choices) */
	double lo, hi;       /* inclusive range (ML_P_REAL, ML_P_INT, each list item) */
	const char *choices; /* ML_P_ENUM: comma-separated, e.g. "uniform,distance";
			      * ML_P_STRING and the lists: the default text ("" for none) */
	const char *help;    /* one line for --help and the man page */
};

#define ML_MAX_PARAMS 40
#define ML_PARAM_TEXT_MAX 255	/* bytes of one ML_P_STRING or list value */
#define ML_PARAMS_TEXT 1024	/* bytes of all text values of a set together */

/* A set of values for one algorithm's parameters (or any other table of them: forecasting
 * methods have theirs): a plain value, copied by assignment. */
struct ml_params {
	const struct ml_algo *algo;    /* the learner's, or NULL */
	const struct ml_param *table;  /* the parameters */
	const char *opt, *owner;       /* who has them, for messages: "-a", "ridge" */
	int n;                   /* parameters the table has */
	double v[ML_MAX_PARAMS]; /* value per algorithm parameter index (numbers, enums) */
	int set[ML_MAX_PARAMS];  /* 1 when given explicitly */
	/* text values (strings, lists): offset + 1 into text, 0 for the default */
	unsigned short off[ML_MAX_PARAMS];
	unsigned short used;
	char text[ML_PARAMS_TEXT];
};

/* Defaults of a. */
ML_API void ml_params_init(struct ml_params *p, const struct ml_algo *a);
/* Defaults of a table of parameters (terminated by an entry whose name is NULL) owned by
 * what opt names ("--model", "ets"); the strings are borrowed. */
ML_API void ml_params_init_table(struct ml_params *p, const struct ml_param *table,
				 const char *opt, const char *owner);
/* Set parameter name from text. ML_E_USAGE when a has no such parameter ("--l1 does not
 * apply to -a ridge"), or the value is out of range, not a choice, or not a list of
 * numbers in range. */
ML_API int ml_params_set(struct ml_params *p, const char *name, const char *text,
			 struct ml_err *e);
/* The value of a number or enum parameter (an enum as its choice index). A name the
 * algorithm's table does not hold is NaN; the test suite checks that every name libml
 * asks for is in a table. */
ML_API double ml_param(const struct ml_params *p, const char *name);
/* Whether name was given explicitly (0 for a name not in the table). */
ML_API int ml_param_given(const struct ml_params *p, const char *name);
/* The text of a string or list parameter (its default when not given); NULL for a name
 * not in the table or of another type. Valid while p is. */
ML_API const char *ml_param_text(const struct ml_params *p, const char *name);
/* The items of a list parameter into out[0..max): returns how many the list has (which
 * may exceed max: only max are written), or -1 for a name not in the table or not a
 * list. */
ML_API int ml_param_list(const struct ml_params *p, const char *name, double *out, int max);

/* Algorithms. */

struct ml_algo;

/* The algorithms, NULL-terminated, in the order --help lists them, and lookup by the -a
 * name (NULL when none). */
ML_API const struct ml_algo *const *ml_algos(void);
ML_API const struct ml_algo *ml_algo_find(const char *name);
ML_API const char *ml_algo_name(const struct ml_algo *a);
ML_API const char *ml_algo_summary(const struct ml_algo *a);
/* ML_ALGO_* bits. */
ML_API unsigned ml_algo_flags(const struct ml_algo *a);
/* The hyperparameters, terminated by an entry whose name is NULL (never NULL itself). */
ML_API const struct ml_param *ml_algo_params(const struct ml_algo *a);
/* The names of the tables a fitted model can print, NULL-terminated (never NULL). */
ML_API const char *const *ml_algo_tables(const struct ml_algo *a);

/* Fitting. */

/* What to fit, in terms of a frame. */
struct ml_train_spec {
	const char *target;  /* column name; NULL for an unsupervised algorithm */
	const char *ignore;  /* COLS not to use as features, or NULL */
	const char *weight;  /* column of row weights, or NULL */
	enum ml_task task;   /* AUTO: a categorical target, or a numeric one with exactly two
			      * distinct values, classifies; other numeric targets regress;
			      * no target: UNSUPERVISED */
	int balanced;        /* class weights n / (nclass * count), as sklearn's "balanced" */
	int allow_ids;       /* accept a categorical feature with nearly as many levels as
			      * rows (see ML_ID_LEVELS) */
	struct ml_params params;
	const char *name;       /* the training input's name for messages, or NULL */
	const char *valid_name; /* the validation rows' input name (NULL: name) */
};

/* A categorical feature with more levels than this among the training rows, and at least
 * nine for every ten rows where it is present, looks like an identifier (or free text):
 * ml_learner_fit refuses it (ML_E_DATA naming it) unless ml_train_spec.allow_ids. */
#define ML_ID_LEVELS 100

/* A fitted model with its feature design, target and classes. */
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
 * lack. ML_E_USAGE: an unknown --ignore column, an algorithm that cannot do the task (a
 * target for an unsupervised algorithm, none for a supervised one), balanced class
 * weights on a regression. Errors name spec->name (or, for validation rows,
 * spec->valid_name) as their input. */
ML_API int ml_learner_fit(struct ml_learner **out, const struct ml_frame *f,
			  const size_t *rows, size_t nrows, const size_t *valid_rows,
			  size_t nvalid, const struct ml_train_spec *spec, struct ml_ctx *ctx,
			  struct ml_err *e);
ML_API void ml_learner_free(struct ml_learner *l);

ML_API const struct ml_algo *ml_learner_algo(const struct ml_learner *l);
ML_API enum ml_task ml_learner_task(const struct ml_learner *l);
/* The target column's name, or NULL for an unsupervised model. */
ML_API const char *ml_learner_target(const struct ml_learner *l);
/* Classes in output order (sorted: numerically for a numeric target, else by bytes). */
ML_API int ml_learner_nclass(const struct ml_learner *l);
ML_API const char *ml_learner_class(const struct ml_learner *l, int k);
/* The hyperparameters the learner was fitted with. */
ML_API const struct ml_params *ml_learner_params(const struct ml_learner *l);
/* The feature columns as an input schema (names, types, training levels in level
 * order), appended to s (fresh from ml_schema_init): what ml_predictor_bind needs. */
ML_API int ml_learner_input_schema(const struct ml_learner *l, struct ml_schema *s,
				   struct ml_err *e);
/* Names of the encoded features (p of them), as --contrib names them. */
ML_API int ml_learner_nfeatures(const struct ml_learner *l);
ML_API const char *ml_learner_feature(const struct ml_learner *l, int j);
/* Tree ensembles: the number of trees (0 for other families). */
ML_API int ml_learner_ntrees(const struct ml_learner *l);

/* What a score is (ml_predictor_predict's out, per row):
 *  ML_OUT_VALUE   regression: the value; classification: the nclass probabilities;
 *                 unsupervised: the model's outputs (ml_learner_output_name)
 *  ML_OUT_MARGIN  raw margins: one for regression and binary classification (the
 *                 log-odds of the second class), nclass for more classes
 *  ML_OUT_DIST    regression by an ML_ALGO_DIST algorithm: the mean and the predictive
 *                 standard deviation
 *  ML_OUT_EMBED   a learned representation of the row (an autoencoder's bottleneck
 *                 activations), ml_learner_nout values */
enum ml_out { ML_OUT_VALUE = 0, ML_OUT_MARGIN = 1, ML_OUT_DIST = 2, ML_OUT_EMBED = 3 };

/* Values per row for what (0 when the learner cannot give it). */
ML_API int ml_learner_nout(const struct ml_learner *l, enum ml_out what);
/* Unsupervised models: the name of output k (k < ml_learner_nout(l, ML_OUT_VALUE)), e.g.
 * "score"; NULL otherwise. */
ML_API const char *ml_learner_output_name(const struct ml_learner *l, int k);
/* The scores of the rows the learner was fitted on, in their order, the same bytes
 * ml_predictor_predict_rows would give, when the algorithm kept them from the fit
 * (gradient boosting does): 1 when written to out (once: they are then given up), else
 * 0. For the thread that fitted the learner, before it is shared. */
ML_API int ml_learner_fitted(struct ml_learner *l, double *out, enum ml_out what);
/* The true class index of rows of a frame's target for metrics (the target must be bound
 * by name in f): -1 for a label the model does not know or a missing one; regression: the
 * values. */
ML_API int ml_learner_target_codes(const struct ml_learner *l, const struct ml_frame *f,
				   const size_t *rows, size_t n, double *y, struct ml_err *e);

/* Model files: a container of kind "model" whose metadata holds algorithm, task, target,
 * classes, features (the input schema of the feature columns, with levels), params and
 * whatever the caller adds through ml_model_meta_set. */
ML_API int ml_learner_to_model(const struct ml_learner *l, struct ml_model **out,
			       struct ml_err *e);
/* The learner a container of kind "model" holds; ML_E_DATA for any other kind, an
 * unknown algorithm or sections that do not check out. m is not kept. */
ML_API struct ml_learner *ml_learner_from_model(const struct ml_model *m, struct ml_err *e);
/* Build one of the algorithm's tables (ml_algo_tables) as a frame (out fresh from
 * ml_frame_init); ML_E_USAGE naming the tables there are for an unknown name. */
ML_API int ml_learner_table(const struct ml_learner *l, const char *name, struct ml_frame *out,
			    struct ml_err *e);

/* Scoring. */

/* One thread's scorer of a learner: the binding to an input schema and scratch space.
 * The learner must outlive it. NULL when out of memory. */
struct ml_predictor;
ML_API struct ml_predictor *ml_predictor_new(const struct ml_learner *l);
ML_API void ml_predictor_free(struct ml_predictor *p);
/* Bind to an input schema by column name (any order; extra columns ignored). A missing
 * feature column, or one of the wrong type, is ML_E_DATA naming it. The schema must stay
 * valid while the predictor scores its blocks; its dictionaries may grow meanwhile. */
ML_API int ml_predictor_bind(struct ml_predictor *p, const struct ml_schema *in,
			     struct ml_err *e);
/* Score with pool's threads from now on (NULL: the calling thread alone) when the
 * algorithm is ML_ALGO_ROWWISE; answers are the same bytes either way. The pool is not
 * owned. */
ML_API void ml_predictor_set_pool(struct ml_predictor *p, struct ml_pool *pool);
/* Score rows [from, to) of b (schema as bound) into out, ml_learner_nout(l, what) values
 * per row. A missing feature value is ML_E_DATA naming line and column for algorithms
 * without ML_ALGO_MISSING; ML_E_USAGE for a what the learner cannot give. */
ML_API int ml_predictor_predict(struct ml_predictor *p, const struct ml_block *b, size_t from,
				size_t to, double *out, enum ml_out what, struct ml_err *e);
/* The same for the rows rows[0..n) of b, in any order. */
ML_API int ml_predictor_predict_rows(struct ml_predictor *p, const struct ml_block *b,
				     const size_t *rows, size_t n, double *out, enum ml_out what,
				     struct ml_err *e);
/* Tree ensembles (ML_ALGO_TREES): the leaf each row reaches in each tree, out[i * ntrees +
 * t]. ML_E_USAGE for a family without trees. */
ML_API int ml_predictor_leaves(struct ml_predictor *p, const struct ml_block *b, size_t from,
			       size_t to, int32_t *out, struct ml_err *e);
/* ML_ALGO_CONTRIB: per-feature contributions to the margin (TreeSHAP for trees),
 * out[(i * K + k) * (p + 1) + j] for margin k of K = ml_learner_nout(l, ML_OUT_MARGIN),
 * j < p the encoded features and j = p the expected value, summing to the margin.
 * ML_E_USAGE for a family without them. */
ML_API int ml_predictor_contrib(struct ml_predictor *p, const struct ml_block *b, size_t from,
				size_t to, double *out, struct ml_err *e);
/* Unsupervised models: the outputs (ML_OUT_VALUE) of rows [from, to) into out and in the
 * same pass each encoded feature's contribution to the row's score into contrib[i * (p +
 * 1) + j] (j = p: 0), which for a model scoring rows against the rows before them (a
 * moving baseline) are those of the same state. ML_E_USAGE for a model without them. */
ML_API int ml_predictor_score_contrib(struct ml_predictor *p, const struct ml_block *b,
				      size_t from, size_t to, double *out, double *contrib,
				      struct ml_err *e);

#endif
