/* Private to the feature-pipeline files (lib/feat/): the step interface. */
#ifndef ML_FEAT_INT_H
#define ML_FEAT_INT_H

#include <stdint.h>
#include <cjson/cJSON.h>

#include "ml/feat.h"
#include "ml/model.h"
#include "core/model_int.h"

/* Step kinds: stored in files, so never renumbered. */
enum {
	FK_IMPUTE = 1,
	FK_SCALE = 2,
	FK_LOG = 3,
	FK_POWER = 4,
	FK_CLIP = 5,
	FK_ONEHOT = 6,
	FK_ORDINAL = 7,
	FK_FREQ = 8,
	FK_TARGET = 9,
	FK_HASH = 10,
	FK_DATETIME = 11,
	FK_INTERACT = 12,
	FK_ROLLING = 13,
	FK_LAG = 14,
	FK_SELECT = 15,
	FK_PCA = 16,
	FK_TEXT = 17,
	FK_EMBED = 18,
	FK_MAX = 19
};

/* Which columns a step takes when its COLS are left out. */
enum { FS_NUM = 1, FS_CAT = 2, FS_ANY = 3 };

/* One output column of a step. */
struct fout {
	char *name;
	enum ml_type type;
	int src;  /* the input column it passes on (data, or the dictionary of a categorical
		   * column the step rewrites), or -1 */
	int made; /* the step writes its rows */
};

/* What a step is fitted on: every training row at its stage. */
struct fdata {
	const struct ml_schema *s;
	const union ml_colv *v;
	const long *line;
	size_t n;
	int target;	 /* column in s, or -1 */
	const double *y; /* per row: the value, or the class index; NaN when missing */
	int nclass;	 /* 0: regression */
	char **classes;	 /* nclass labels */
	const struct ml_feat_spec *spec;
	struct ml_ctx *ctx;
	const char *name; /* input name for messages */
};

/* One application of a step to rows. */
struct fio {
	const struct ml_schema *in;
	const union ml_colv *v; /* the input columns */
	const long *line;	/* source lines, or NULL */
	size_t n;
	struct ml_schema *out; /* made categorical columns intern their strings here */
	union ml_colv *o;      /* output columns: made ones point at room for n rows */
	/* A holding step sets every o[j] itself and these: */
	size_t nout;
	const long *oline;
	int fitting; /* the pass over the training rows during the fit */
};

struct fstep;

struct fops {
	const char *name;
	int kind;
	int deftype;	/* FS_*: the columns taken when COLS are left out */
	int supervised; /* needs the target */
	/* Parse s->arg: set s->method and the step's options, and s->colspec (the COLS part,
	 * or NULL). No data yet. */
	int (*parse)(struct fstep *s, const struct ml_feat_spec *spec, struct ml_err *e);
	/* Check the chosen columns (s->ci) and learn from d. */
	int (*fit)(struct fstep *s, const struct fdata *d, struct ml_err *e);
	/* Fill s->out for the input schema in (see fout_* below). */
	int (*layout)(struct fstep *s, const struct ml_schema *in, struct ml_err *e);
	/* A new stream: forget what earlier rows left (optional). Called after layout. */
	void (*reset)(struct fstep *s);
	int (*apply)(struct fstep *s, struct fio *io, struct ml_err *e);
	/* End of input for a holding step: emit what it holds. */
	int (*finish)(struct fstep *s, struct fio *io, struct ml_err *e);
	void (*save)(const struct fstep *s, struct ml_wbuf *b);
	int (*load)(struct fstep *s, struct ml_rbuf *b, struct ml_err *e);
	/* Fitted values worth showing in the metadata (optional). */
	int (*json)(const struct fstep *s, cJSON *o);
	void (*free)(struct fstep *s);
};

struct fstep {
	const struct fops *ops;
	int method;
	char *arg;     /* as given */
	char *colspec; /* the COLS part of arg, or NULL (points into args, not freed) */
	char *args;    /* a writable copy of arg that parse may cut up */
	int ncol;
	char **cols; /* the input columns, by name */
	int *ci;     /* their index in the stage input */
	int *pos;    /* and back: pos[j] the first k with ci[k] == j, else -1 (npos of them) */
	int npos;
	int nout;
	struct fout *out;
	void *p;     /* fitted state of the kind */
	int deftype; /* FS_*: from ops, or what parse chose for the method */
	int acctype; /* FS_*: the types named columns may have (default: deftype) */
	int holds;   /* from ops, or what parse chose for the method */
	/* the options the step copies from the spec */
	int unseen;
	/* room for made columns */
	union ml_colv *buf;
	size_t cap;
};

/* The table of steps (lib/feat/feat.c) and each kind's ops (lib/feat/feat_*.c). */
extern const struct fops ml_fops_impute, ml_fops_scale, ml_fops_log, ml_fops_power, ml_fops_clip,
    ml_fops_onehot, ml_fops_ordinal, ml_fops_freq, ml_fops_target, ml_fops_hash, ml_fops_datetime,
    ml_fops_interact, ml_fops_rolling, ml_fops_lag, ml_fops_select, ml_fops_pca, ml_fops_text,
    ml_fops_embed;

/* Layout helpers (lib/feat/feat.c). fout_add appends an output column (name copied) and
 * returns its index; fout_pass passes input column j on unchanged; fout_inplace passes
 * every input column on, with the step's columns made in place (same name and type). */
int ml_fout_add(struct fstep *s, const char *name, enum ml_type type, int src, int made,
		struct ml_err *e);
int ml_fout_pass(struct fstep *s, const struct ml_schema *in, int j, struct ml_err *e);
int ml_fout_inplace(struct fstep *s, const struct ml_schema *in, struct ml_err *e);
/* Is input column j one of the step's columns? Its position in s->ci, or -1. */
int ml_fstep_pos(const struct fstep *s, int j);
/* Resolve an option's column (--time-col, --group-col) in a stage schema: its index,
 * ML_E_USAGE at fit (fit set) or ML_E_DATA (a file that does not fit together). */
int ml_feat_find(const struct ml_schema *in, const char *name, const char *opt,
		 const struct fstep *s, int fit, struct ml_err *e);

/* Messages. */
/* "--scale standard" for messages: the option and its argument's method part. */
const char *ml_fstep_label(const struct fstep *s);
int ml_feat_quote_col(char *dst, size_t n, const char *name);

/* Small shared helpers. */
char *ml_feat_strdup(const char *s);
/* Split "a:b:c" at unescaped ':' from the left: returns the rest after the first ':'
 * (the ':' cut to NUL), or NULL when there is none. */
char *ml_feat_cut(char *s);
/* Sort doubles (NaN-free) ascending. */
void ml_feat_sort(double *v, size_t n);
/* numpy.quantile's default (linear) on sorted values. */
double ml_feat_quantile(const double *sorted, size_t n, double p);
/* The present values of a numeric column (unsorted), *np set; NULL when out of memory. */
double *ml_feat_present(const double *x, size_t n, size_t *np);
/* numpy.quantile's default on the n values of v, in linear time (v is reordered). */
double ml_feat_qsel(double *v, size_t n, double p);
/* The present values of a numeric column, sorted; *n set. NULL when out of memory. */
double *ml_feat_sorted(const double *x, size_t n, size_t *np);
/* Line of row i for messages (0 when unknown). */
static inline long ml_feat_line(const long *line, size_t i)
{
	return line ? line[i] : 0;
}
/* ML_E_DATA when a numeric column has no present value: "--STEP: column 'x' has no
 * values (every value is missing)". */
int ml_feat_need_values(const struct fstep *s, const struct fdata *d, int k, size_t present,
			struct ml_err *e);
/* Lazily extended map from a dictionary's codes to something (level index, code). */
struct fmap {
	int32_t *v;
	int32_t n, cap;
};
void ml_fmap_release(struct fmap *m);
/* Extend m to d->n entries with fn(arg, string, len) for each new code. */
int ml_fmap_sync(struct fmap *m, const struct ml_dict *d,
		 int32_t (*fn)(void *arg, const char *s, size_t len), void *arg, struct ml_err *e);
/* Sorted levels of a categorical column's present values over rows, into a fresh dict
 * (sorted by bytes) with counts (malloc'd) when counts is not NULL. */
int ml_feat_levels(const struct ml_dict *d, const int32_t *codes, size_t n, struct ml_dict *levels,
		   double **counts, struct ml_err *e);
/* Save and load a dictionary's strings. */
void ml_feat_save_dict(struct ml_wbuf *b, const struct ml_dict *d);
int ml_feat_load_dict(struct ml_rbuf *b, struct ml_dict *d, struct ml_err *e);
/* ML_E_DATA: "the feature pipeline is corrupt (WHAT)". */
int ml_feat_bad(struct ml_err *e, const char *what);
/* The same, or out of memory when that is why reading b failed (a string's allocation). */
int ml_feat_bad_at(const struct ml_rbuf *b, struct ml_err *e, const char *what);
/* Can n items of sz bytes follow in b? (ml_rbuf_count, with 0 items fine.) */
static inline int ml_feat_count(struct ml_rbuf *b, uint64_t n, size_t sz)
{
	ml_rbuf_count(b, n, sz);
	return !b->err;
}

/* Group keys for per-group state (lags, windows, ffill, interpolation): a hash table from
 * the group column's value (string or number) to a dense group index. */
struct fgroups {
	struct ml_dict keys; /* the value as bytes */
	struct fmap map;     /* categorical group column: code -> group */
};
void ml_fgroups_init(struct fgroups *g);
void ml_fgroups_release(struct fgroups *g);
/* Group index of row i of column v (type t in dictionary d), or negative on error;
 * missing values form a group of their own. */
int32_t ml_fgroups_get(struct fgroups *g, enum ml_type t, const struct ml_dict *d, union ml_colv v,
		       size_t i, struct ml_err *e);

/* Time of row i of a time column: numeric seconds, or a parsed date. ML_E_DATA naming
 * the row when it cannot be read. *t is NaN for a missing value. */
int ml_feat_time(const struct ml_schema *s, int col, union ml_colv v, const long *line, size_t i,
		 double *t, struct ml_err *e);

#endif
