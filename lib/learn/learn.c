/* The generic learner layer: the algorithm table, hyperparameters, feature design,
 * target classes, fitting from frames, scoring blocks, and model files. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml/learn.h"
#include "ml/num.h"

/* The algorithms, each defined in its own algo_*.c here or in tree/ (ridge, lasso and
 * elasticnet beside linear). */
extern const struct ml_algo ml_algo_linear;
extern const struct ml_algo ml_algo_ridge;
extern const struct ml_algo ml_algo_lasso;
extern const struct ml_algo ml_algo_elasticnet;
extern const struct ml_algo ml_algo_logistic;
extern const struct ml_algo ml_algo_nb;
extern const struct ml_algo ml_algo_knn;
extern const struct ml_algo ml_algo_gbdt;
extern const struct ml_algo ml_algo_rf;
extern const struct ml_algo ml_algo_tree;

const struct ml_algo *const *ml_algos(void)
{
	static const struct ml_algo *const all[] = {
		&ml_algo_linear, &ml_algo_ridge, &ml_algo_lasso, &ml_algo_elasticnet,
		&ml_algo_logistic, &ml_algo_nb, &ml_algo_knn, &ml_algo_gbdt, &ml_algo_rf,
		&ml_algo_tree, NULL};
	return all;
}

const struct ml_algo *ml_algo_find(const char *name)
{
	const struct ml_algo *const *a;

	for (a = ml_algos(); *a; a++)
		if (strcmp((*a)->name, name) == 0)
			return *a;
	return NULL;
}

/* Hyperparameters. */

static int param_index(const struct ml_algo *a, const char *name)
{
	int i;

	for (i = 0; a->params && a->params[i].name; i++)
		if (strcmp(a->params[i].name, name) == 0)
			return i;
	return -1;
}

void ml_params_init(struct ml_params *p, const struct ml_algo *a)
{
	int i;

	memset(p, 0, sizeof(*p));
	p->algo = a;
	for (i = 0; a && a->params && a->params[i].name && i < ML_MAX_PARAMS; i++)
		p->v[i] = a->params[i].def;
	p->n = i;
}

/* Index of word in a comma-separated list, or -1. */
static int choice_index(const char *choices, const char *word)
{
	size_t wl = strlen(word);
	int k = 0;
	const char *s = choices;

	while (s && *s) {
		const char *c = strchr(s, ',');
		size_t l = c ? (size_t)(c - s) : strlen(s);
		if (l == wl && memcmp(s, word, l) == 0)
			return k;
		k++;
		s = c ? c + 1 : NULL;
	}
	return -1;
}

/* Copy choice k of a list into buf. */
static const char *choice_name(const char *choices, int k, char *buf, size_t n)
{
	const char *s = choices;

	while (s && *s) {
		const char *c = strchr(s, ',');
		size_t l = c ? (size_t)(c - s) : strlen(s);
		if (k-- == 0) {
			if (l >= n)
				l = n - 1;
			memcpy(buf, s, l);
			buf[l] = 0;
			return buf;
		}
		s = c ? c + 1 : NULL;
	}
	buf[0] = 0;
	return buf;
}

/* An integer parameter's bound as a long (an infinite or huge bound saturates). */
static long bound_long(double v)
{
	if (!(v < 9.2e18))
		return v != v ? 0 : LONG_MAX;
	if (!(v > -9.2e18))
		return LONG_MIN;
	return (long)v;
}

int ml_params_set(struct ml_params *p, const char *name, const char *text, struct ml_err *e)
{
	const struct ml_algo *a = p->algo;
	int i = param_index(a, name);
	const struct ml_param *d;

	if (i < 0)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "--%s does not apply to -a %s", name,
				  a->name);
	d = &a->params[i];
	if (d->type == ML_P_ENUM) {
		int k = choice_index(d->choices, text);
		if (k < 0)
			return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
					  "invalid value '%s' for --%s (one of %s)", text, name,
					  d->choices);
		p->v[i] = k;
	} else if (d->type == ML_P_INT) {
		long v, lo = bound_long(d->lo), hi = bound_long(d->hi);
		if (ml_parse_long(text, lo, hi, &v) != 0) {
			if (hi == LONG_MAX)
				return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
						  "invalid value '%s' for --%s (a whole number >= %ld)",
						  text, name, lo);
			return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
					  "invalid value '%s' for --%s (a whole number from %ld to %ld)",
					  text, name, lo, hi);
		}
		p->v[i] = (double)v;
	} else {
		double v;
		if (ml_parse_real(text, d->lo, d->hi, &v) != 0 || !isfinite(v)) {
			if (d->hi == INFINITY)
				return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
						  "invalid value '%s' for --%s (a number >= %g)", text,
						  name, d->lo);
			return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
					  "invalid value '%s' for --%s (a number from %g to %g)", text,
					  name, d->lo, d->hi);
		}
		p->v[i] = v;
	}
	p->set[i] = 1;
	return 0;
}

double ml_param(const struct ml_params *p, const char *name)
{
	int i = param_index(p->algo, name);
	return i < 0 ? NAN : p->v[i];
}

int ml_param_given(const struct ml_params *p, const char *name)
{
	int i = param_index(p->algo, name);
	return i < 0 ? 0 : p->set[i];
}

cJSON *ml_params_to_json(const struct ml_params *p)
{
	cJSON *j = cJSON_CreateObject();
	int i;

	if (!j)
		return NULL;
	for (i = 0; i < p->n; i++) {
		const struct ml_param *d = &p->algo->params[i];
		if (d->type == ML_P_ENUM) {
			char buf[64];
			cJSON_AddStringToObject(j, d->name,
						choice_name(d->choices, (int)p->v[i], buf, sizeof(buf)));
		} else {
			cJSON_AddNumberToObject(j, d->name, p->v[i]);
		}
	}
	return j;
}

int ml_params_from_json(struct ml_params *p, const struct ml_algo *a, const cJSON *j,
			struct ml_err *e)
{
	int i;

	ml_params_init(p, a);
	if (!cJSON_IsObject(j))
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "model parameters are not an object");
	for (i = 0; i < p->n; i++) {
		const struct ml_param *d = &a->params[i];
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, d->name);
		if (!v)
			continue;
		if (d->type == ML_P_ENUM) {
			int k = cJSON_IsString(v) ? choice_index(d->choices, v->valuestring) : -1;
			if (k < 0)
				return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "bad value for parameter '%s'",
						  d->name);
			p->v[i] = k;
		} else {
			if (!cJSON_IsNumber(v) || !(v->valuedouble >= d->lo && v->valuedouble <= d->hi))
				return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "bad value for parameter '%s'",
						  d->name);
			p->v[i] = v->valuedouble;
		}
		p->set[i] = 1;
	}
	return 0;
}

/* The learner. */

struct feat {
	char *name;
	enum ml_type type;
	struct ml_dict levels; /* categorical: training levels, sorted */
	int first, width;      /* encoded columns [first, first + width) */
};

struct ml_learner {
	const struct ml_algo *algo;
	struct ml_params params;
	enum ml_task task;
	char *target;
	enum ml_type target_type;
	int nclass;
	char **classes;
	double *class_num; /* numeric target: the class values */
	int nfeat;
	struct feat *feat;
	int p;
	char **enc;
	int *ncat;
	const struct ml_dict **lev; /* per encoded feature: its levels when native categorical */
	void *state;
	/* binding to an input schema */
	const struct ml_schema *bound;
	int *bcol;
	int32_t **bmap;
	int32_t *bmapn;
	double *scratch;
	size_t scratch_cap;
	struct ml_pool *pool; /* for scoring, or NULL */
};

static struct ml_data shape_of(const struct ml_learner *l)
{
	struct ml_data d;

	memset(&d, 0, sizeof(d));
	d.p = l->p;
	d.nclass = l->nclass;
	d.ncat = l->ncat;
	d.names = (const char *const *)l->enc;
	d.classes = (const char *const *)l->classes;
	d.levels = l->lev;
	return d;
}

static void unbind(struct ml_learner *l)
{
	int j;

	if (l->bmap)
		for (j = 0; j < l->nfeat; j++)
			free(l->bmap[j]);
	free(l->bmap);
	free(l->bmapn);
	free(l->bcol);
	l->bmap = NULL;
	l->bmapn = NULL;
	l->bcol = NULL;
	l->bound = NULL;
}

void ml_learner_free(struct ml_learner *l)
{
	int j;

	if (!l)
		return;
	if (l->state && l->algo->free)
		l->algo->free(l->state);
	unbind(l);
	for (j = 0; j < l->nclass; j++)
		free(l->classes[j]);
	free(l->classes);
	free(l->class_num);
	for (j = 0; j < l->nfeat; j++) {
		free(l->feat[j].name);
		ml_dict_release(&l->feat[j].levels);
	}
	free(l->feat);
	for (j = 0; j < l->p; j++)
		free(l->enc[j]);
	free(l->enc);
	free(l->ncat);
	free(l->lev);
	free(l->target);
	free(l->scratch);
	free(l);
}

const struct ml_algo *ml_learner_algo(const struct ml_learner *l)
{
	return l->algo;
}

enum ml_task ml_learner_task(const struct ml_learner *l)
{
	return l->task;
}

const char *ml_learner_target(const struct ml_learner *l)
{
	return l->target;
}

int ml_learner_nclass(const struct ml_learner *l)
{
	return l->nclass;
}

const char *ml_learner_class(const struct ml_learner *l, int k)
{
	return k >= 0 && k < l->nclass ? l->classes[k] : NULL;
}

int ml_learner_nout(const struct ml_learner *l, int raw)
{
	if (l->task == ML_TASK_REGRESS)
		return 1;
	if (raw && l->nclass == 2)
		return 1;
	return l->nclass;
}

const struct ml_params *ml_learner_params(const struct ml_learner *l)
{
	return &l->params;
}

int ml_learner_input_schema(const struct ml_learner *l, struct ml_schema *s, struct ml_err *e)
{
	int j;

	for (j = 0; j < l->nfeat; j++) {
		int c = ml_schema_add(s, l->feat[j].name, l->feat[j].type);
		if (c < 0 || ml_dict_copy(&s->cols[c].dict, &l->feat[j].levels) < 0) {
			ml_schema_release(s);
			ml_schema_init(s);
			return ml_err_nomem(e);
		}
	}
	return 0;
}

int ml_learner_nfeatures(const struct ml_learner *l)
{
	return l->p;
}

const char *ml_learner_feature(const struct ml_learner *l, int j)
{
	return j >= 0 && j < l->p ? l->enc[j] : NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static char *dup_str(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}

/* Lay out the encoded columns of the features. */
static int layout(struct ml_learner *l, struct ml_err *e)
{
	int j, k, p = 0, native = (l->algo->flags & ML_ALGO_NATIVE_CAT) != 0;

	for (j = 0; j < l->nfeat; j++) {
		struct feat *f = &l->feat[j];
		f->first = p;
		f->width = f->type == ML_CAT && !native ? f->levels.n : 1;
		p += f->width;
	}
	l->p = p;
	l->enc = calloc((size_t)(p ? p : 1), sizeof(*l->enc));
	l->ncat = calloc((size_t)(p ? p : 1), sizeof(*l->ncat));
	l->lev = calloc((size_t)(p ? p : 1), sizeof(*l->lev));
	if (!l->enc || !l->ncat || !l->lev)
		return ml_err_nomem(e);
	for (j = 0; j < l->nfeat; j++) {
		struct feat *f = &l->feat[j];
		if (f->type == ML_NUM || native) {
			l->enc[f->first] = dup_str(f->name);
			if (!l->enc[f->first])
				return ml_err_nomem(e);
			l->ncat[f->first] = f->type == ML_CAT ? f->levels.n : 0;
			l->lev[f->first] = f->type == ML_CAT ? &f->levels : NULL;
			continue;
		}
		for (k = 0; k < f->width; k++) {
			size_t n = strlen(f->name) + f->levels.len[k] + 2;
			char *s = malloc(n);
			if (!s)
				return ml_err_nomem(e);
			snprintf(s, n, "%s=%s", f->name, f->levels.str[k]);
			l->enc[f->first + k] = s;
		}
	}
	return 0;
}

static long row_line(const struct ml_frame *f, size_t i)
{
	return f->rows.line ? f->rows.line[i] : 0;
}

/* Encode n rows of a block (rows[i], or from + i when rows is NULL) into X (column-major,
 * leading dimension ld). map[j][code] is the level index of input code for categorical
 * feature j, col[j] the input column. */
/* Encode feature j (its columns from x on, leading dimension ld) of rows of b, column c
 * of b, with level map map (categorical features). */
static int encode_feat(const struct ml_learner *l, int j, const struct ml_block *b, int c,
		       const int32_t *map, const size_t *rows, size_t from, size_t n, double *x,
		       size_t ld, const char *where, struct ml_err *e)
{
	const struct feat *f = &l->feat[j];
	int native = (l->algo->flags & ML_ALGO_NATIVE_CAT) != 0;
	int missing_ok = (l->algo->flags & ML_ALGO_MISSING) != 0;
	size_t i;

	if (f->type == ML_NUM) {
		const double *v = b->col[c].num;
		if (!rows) {
			/* The common case when scoring: a straight copy. */
			const double *src = v + from;
			int bad = 0;
			for (i = 0; i < n; i++) {
				x[i] = src[i];
				bad |= src[i] != src[i];
			}
			if (!bad || missing_ok)
				return 0;
		}
		for (i = 0; i < n; i++) {
			size_t r = rows ? rows[i] : from + i;
			x[i] = v[r];
			if (v[r] != v[r] && !missing_ok)
				return ml_err_set(e, ML_E_DATA, where, b->line ? b->line[r] : 0, c + 1,
						  "missing value in column '%s' (-a %s takes no missing "
						  "values; impute them with mlfeat --impute)",
						  f->name, l->algo->name);
		}
		return 0;
	}
	if (!native)
		for (i = 0; i < (size_t)f->width; i++)
			memset(x + i * ld, 0, n * sizeof(double));
	for (i = 0; i < n; i++) {
		size_t r = rows ? rows[i] : from + i;
		int32_t code = b->col[c].cat[r], lev = code >= 0 ? map[code] : -1;
		if (code < 0 && !missing_ok)
			return ml_err_set(e, ML_E_DATA, where, b->line ? b->line[r] : 0, c + 1,
					  "missing value in column '%s' (-a %s takes no missing "
					  "values; impute them with mlfeat --impute)",
					  f->name, l->algo->name);
		if (native)
			x[i] = lev >= 0 ? (double)lev : NAN;
		else if (lev >= 0)
			x[(size_t)lev * ld + i] = 1;
	}
	return 0;
}

/* Encode rows of b into the column-major matrix X (leading dimension ld): features through
 * columns col of b, categorical levels through map. */
static int encode(const struct ml_learner *l, const struct ml_block *b, const int *col,
		  int32_t *const *map, const size_t *rows, size_t from, size_t n, double *X,
		  size_t ld, const char *where, struct ml_err *e)
{
	int j, rc;

	for (j = 0; j < l->nfeat; j++)
		if ((rc = encode_feat(l, j, b, col[j], map[j], rows, from, n,
				      X + (size_t)l->feat[j].first * ld, ld, where, e)) < 0)
			return rc;
	return 0;
}

/* Map every code of dict to a level index of f (or -1). */
static int32_t *level_map(const struct feat *f, const struct ml_dict *d)
{
	int32_t *m = malloc((size_t)(d->n ? d->n : 1) * sizeof(*m));
	int32_t c;

	if (!m)
		return NULL;
	for (c = 0; c < d->n; c++)
		m[c] = ml_dict_find(&f->levels, d->str[c], d->len[c]);
	return m;
}

/* The task for target column tcol of rows of fr (see ml_task_resolve), or a negative
 * ML_E_*. */
static int task_of(const struct ml_frame *fr, int tcol, const size_t *rows, size_t n,
		   enum ml_task task, const char *where, struct ml_err *e)
{
	const struct ml_col *tc = &fr->schema.cols[tcol];
	double a = NAN, b = NAN;
	int other = 0;
	size_t i;

	if (tc->type == ML_CAT) {
		if (task == ML_TASK_REGRESS)
			return ml_err_set(e, ML_E_DATA, where, 0, tcol + 1,
					  "target column '%s' is categorical: it cannot be regressed "
					  "(use --task classify, or --num %s if it holds numbers)",
					  tc->name, tc->name);
		return ML_TASK_CLASSIFY;
	}
	if (task != ML_TASK_AUTO)
		return task;
	/* Exactly two distinct values classify; missing values do not count. The first two
	 * found, the other rows are compared with them without a branch on the data (labels in
	 * random order would mispredict half the time). */
	for (i = 0; i < n; i++) {
		double v = fr->rows.col[tcol].num[rows ? rows[i] : i];
		if (v != v)
			continue;
		if (a != a)
			a = v;
		else if (v != a) {
			b = v;
			break;
		}
	}
	if (b != b)
		return ML_TASK_REGRESS;
	for (i++; i < n; i++) {
		double v = fr->rows.col[tcol].num[rows ? rows[i] : i];
		other |= (v == v) & (v != a) & (v != b);
	}
	return other ? ML_TASK_REGRESS : ML_TASK_CLASSIFY;
}

int ml_task_resolve(const struct ml_frame *f, const size_t *rows, size_t n, const char *target,
		    enum ml_task task, enum ml_task *out, struct ml_err *e)
{
	int tcol = ml_schema_find(&f->schema, target), rc;

	if (tcol < 0)
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "no target column '%s'", target);
	rc = task_of(f, tcol, rows, rows ? n : f->rows.nrow, task, NULL, e);
	if (rc < 0)
		return rc;
	*out = (enum ml_task)rc;
	return 0;
}

/* Choose the target's task and classes and fill y (class indices or values). */
static int setup_target(struct ml_learner *l, const struct ml_frame *fr, int tcol,
			const size_t *rows, size_t n, enum ml_task task, double *y,
			const char *where, struct ml_err *e)
{
	const struct ml_col *tc = &fr->schema.cols[tcol];
	size_t i;
	int k;

	l->target_type = tc->type;
	for (i = 0; i < n; i++) {
		size_t r = rows ? rows[i] : i;
		int miss = tc->type == ML_NUM ? fr->rows.col[tcol].num[r] != fr->rows.col[tcol].num[r] :
			fr->rows.col[tcol].cat[r] < 0;
		if (miss)
			return ml_err_set(e, ML_E_DATA, where, row_line(fr, r), tcol + 1,
					  "missing value in target column '%s'", tc->name);
	}
	if ((k = task_of(fr, tcol, rows, n, task, where, e)) < 0)
		return k;
	task = (enum ml_task)k;
	l->task = task;
	if (task == ML_TASK_REGRESS) {
		for (i = 0; i < n; i++)
			y[i] = fr->rows.col[tcol].num[rows ? rows[i] : i];
		l->nclass = 0;
		return 0;
	}
	if (tc->type == ML_CAT) {
		/* Labels present in the rows, sorted by bytes. */
		const struct ml_dict *d = &tc->dict;
		char *seen = calloc((size_t)(d->n ? d->n : 1), 1);
		int32_t *idx;
		if (!seen)
			return ml_err_nomem(e);
		for (i = 0; i < n; i++)
			seen[fr->rows.col[tcol].cat[rows ? rows[i] : i]] = 1;
		for (k = 0; k < d->n; k++)
			l->nclass += seen[k];
		l->classes = calloc((size_t)(l->nclass ? l->nclass : 1), sizeof(char *));
		idx = malloc((size_t)(d->n ? d->n : 1) * sizeof(*idx));
		if (!l->classes || !idx) {
			free(seen);
			free(idx);
			return ml_err_nomem(e);
		}
		l->nclass = 0;
		for (k = 0; k < d->n; k++)
			if (seen[k] && !(l->classes[l->nclass++] = dup_str(d->str[k]))) {
				free(seen);
				free(idx);
				return ml_err_nomem(e);
			}
		qsort(l->classes, (size_t)l->nclass, sizeof(char *), cmp_str);
		for (k = 0; k < d->n; k++)
			idx[k] = -1;
		for (k = 0; k < l->nclass; k++)
			idx[ml_dict_find(d, l->classes[k], strlen(l->classes[k]))] = k;
		for (i = 0; i < n; i++)
			y[i] = idx[fr->rows.col[tcol].cat[rows ? rows[i] : i]];
		free(seen);
		free(idx);
	} else {
		double *v = malloc((n ? n : 1) * sizeof(double));
		size_t m = 0;
		if (!v)
			return ml_err_nomem(e);
		/* Distinct values, found without sorting every row: classes are few. */
		for (i = 0; i < n && m <= 1000; i++) {
			double t = fr->rows.col[tcol].num[rows ? rows[i] : i];
			size_t q;
			int seen = 0;
			if (m <= 8) {
				/* the usual few classes: compared with each, without branching */
				for (q = 0; q < m; q++)
					seen |= v[q] == t;
			} else if (t == v[m - 1]) {
				seen = 1;
			} else {
				for (q = 0; q < m && v[q] != t; q++)
					;
				seen = q < m;
			}
			if (!seen)
				v[m++] = t;
		}
		qsort(v, m, sizeof(double), cmp_dbl);
		if (m > 1000) {
			free(v);
			return ml_err_set(e, ML_E_DATA, where, 0, tcol + 1,
					  "target column '%s' has %zu distinct numbers: too many classes "
					  "(use --task regress)",
					  tc->name, m);
		}
		l->nclass = (int)m;
		l->class_num = v;
		l->classes = calloc(m ? m : 1, sizeof(char *));
		if (!l->classes)
			return ml_err_nomem(e);
		for (k = 0; k < (int)m; k++) {
			char buf[ML_FMT_DOUBLE_MAX + 1];
			ml_fmt_double(buf, v[k]);
			if (!(l->classes[k] = dup_str(buf)))
				return ml_err_nomem(e);
		}
		for (i = 0; i < n; i++) {
			double t = fr->rows.col[tcol].num[rows ? rows[i] : i];
			size_t lo = 0, hi = m - 1, q;
			if (m <= 8) {
				/* the class's index: how many are below it, counted without
				 * branching */
				for (q = 0; q < m; q++)
					lo += v[q] < t;
				hi = lo;
			}
			while (lo < hi) {
				size_t mid = (lo + hi) / 2;
				if (v[mid] < t)
					lo = mid + 1;
				else
					hi = mid;
			}
			y[i] = (double)lo;
		}
	}
	if (l->nclass < 2)
		return ml_err_set(e, ML_E_DATA, where, 0, tcol + 1,
				  "target column '%s' has only one class ('%s'): nothing to learn",
				  tc->name, l->nclass ? l->classes[0] : "");
	return 0;
}

/* Feature columns: all but the target, the weight and the ignored ones. */
static int choose_features(struct ml_learner *l, const struct ml_frame *fr, int tcol, int wcol,
			   const char *ignore, const size_t *rows, size_t n, struct ml_err *e)
{
	const struct ml_schema *s = &fr->schema;
	char *skip = calloc((size_t)(s->ncol ? s->ncol : 1), 1);
	int j, rc = 0;
	size_t i;

	if (!skip)
		return ml_err_nomem(e);
	skip[tcol] = 1;
	if (wcol >= 0)
		skip[wcol] = 1;
	if (ignore) {
		int *idx, cnt = ml_cols_parse(ignore, s, 1, &idx, e);
		if (cnt < 0) {
			if (e) {
				char msg[sizeof(e->msg)];
				snprintf(msg, sizeof(msg), "--ignore: %.1000s", e->msg);
				memcpy(e->msg, msg, sizeof(msg));
			}
			free(skip);
			return cnt;
		}
		for (j = 0; j < cnt; j++)
			skip[idx[j]] = 1;
		free(idx);
	}
	l->feat = calloc((size_t)(s->ncol ? s->ncol : 1), sizeof(*l->feat));
	if (!l->feat) {
		free(skip);
		return ml_err_nomem(e);
	}
	for (j = 0; j < s->ncol; j++) {
		struct feat *f;
		if (skip[j])
			continue;
		f = &l->feat[l->nfeat++];
		f->name = dup_str(s->cols[j].name);
		f->type = s->cols[j].type;
		ml_dict_init(&f->levels);
		if (!f->name) {
			rc = ml_err_nomem(e);
			break;
		}
		if (f->type == ML_CAT) {
			/* Levels seen in the training rows, sorted by bytes. */
			const struct ml_dict *d = &s->cols[j].dict;
			char *seen = calloc((size_t)(d->n ? d->n : 1), 1);
			char **names = malloc((size_t)(d->n ? d->n : 1) * sizeof(char *));
			int32_t k, m = 0;
			if (!seen || !names) {
				free(seen);
				free(names);
				rc = ml_err_nomem(e);
				break;
			}
			for (i = 0; i < n; i++) {
				int32_t c = fr->rows.col[j].cat[rows ? rows[i] : i];
				if (c >= 0)
					seen[c] = 1;
			}
			for (k = 0; k < d->n; k++)
				if (seen[k])
					names[m++] = d->str[k];
			qsort(names, (size_t)m, sizeof(char *), cmp_str);
			for (k = 0; k < m && rc == 0; k++)
				if (ml_dict_intern(&f->levels, names[k], strlen(names[k])) < 0)
					rc = ml_err_nomem(e);
			free(seen);
			free(names);
			if (rc)
				break;
		}
	}
	free(skip);
	if (rc == 0 && l->nfeat == 0)
		rc = ml_err_set(e, ML_E_DATA, NULL, 0, 0, "no feature columns left to learn from");
	return rc;
}

/* The design of rows of a frame: columns of the frame itself where a numeric feature's
 * values can be used as they are (every row in order, no missing value the algorithm
 * refuses), the others encoded into buf. */
struct design {
	double *buf;
	const double **col; /* per encoded column */
	const double *X;    /* buf when it holds every column in order, else NULL */
};

static void design_release(struct design *ds)
{
	free(ds->buf);
	free(ds->col);
	memset(ds, 0, sizeof(*ds));
}

/* May feature j (column c of fr) be used as it is, for rows that are the frame's first n
 * in order? */
static int as_is(const struct ml_learner *l, const struct ml_frame *fr, int j, int c, size_t n)
{
	const double *v = fr->rows.col[c].num;
	size_t i;

	if (l->feat[j].type != ML_NUM)
		return 0;
	if (l->algo->flags & ML_ALGO_MISSING)
		return 1;
	for (i = 0; i < n; i++)
		if (v[i] != v[i])
			return 0;
	return 1;
}

static int design_frame(const struct ml_learner *l, const struct ml_frame *fr, const size_t *rows,
			size_t n, const char *where, struct design *ds, struct ml_err *e)
{
	int *col = malloc((size_t)l->nfeat * sizeof(int));
	int32_t **map = calloc((size_t)l->nfeat, sizeof(*map));
	char *keep = calloc((size_t)l->nfeat + 1, 1);
	size_t width = 0, at = 0, i;
	int j, w, rc = 0, in_order = 1;

	memset(ds, 0, sizeof(*ds));
	ds->col = malloc((size_t)(l->p ? l->p : 1) * sizeof(*ds->col));
	if (!col || !map || !keep || !ds->col) {
		rc = ml_err_nomem(e);
		goto out;
	}
	for (i = 0; rows && i < n && in_order; i++)
		in_order = rows[i] == i;
	for (j = 0; j < l->nfeat; j++) {
		col[j] = ml_schema_find(&fr->schema, l->feat[j].name);
		keep[j] = (char)(in_order && as_is(l, fr, j, col[j], n));
		if (!keep[j])
			width += (size_t)l->feat[j].width;
		if (l->feat[j].type == ML_CAT &&
		    !(map[j] = level_map(&l->feat[j], &fr->schema.cols[col[j]].dict))) {
			rc = ml_err_nomem(e);
			goto out;
		}
	}
	if (width && !(ds->buf = malloc(n * width * sizeof(double)))) {
		rc = ml_err_nomem(e);
		goto out;
	}
	for (j = 0; j < l->nfeat && rc == 0; j++) {
		const struct feat *f = &l->feat[j];
		if (keep[j]) {
			ds->col[f->first] = fr->rows.col[col[j]].num;
			continue;
		}
		rc = encode_feat(l, j, &fr->rows, col[j], map[j], rows, 0, n, ds->buf + at * n, n,
				 where, e);
		for (w = 0; w < f->width; w++)
			ds->col[f->first + w] = ds->buf + (at + (size_t)w) * n;
		at += (size_t)f->width;
	}
	ds->X = width == (size_t)l->p ? ds->buf : NULL;
out:
	if (map)
		for (j = 0; j < l->nfeat; j++)
			free(map[j]);
	free(map);
	free(col);
	free(keep);
	if (rc < 0)
		design_release(ds);
	return rc;
}

const double *ml_data_dense(const struct ml_data *d, double **buf)
{
	int j;

	*buf = NULL;
	if (d->X)
		return d->X;
	if (!(*buf = malloc((d->n ? d->n : 1) * (size_t)(d->p ? d->p : 1) * sizeof(double))))
		return NULL;
	for (j = 0; j < d->p; j++)
		memcpy(*buf + (size_t)j * d->n, d->col[j], d->n * sizeof(double));
	return *buf;
}

int ml_learner_fit(struct ml_learner **out, const struct ml_frame *fr, const size_t *rows,
		   size_t nrows, const size_t *vrows, size_t nvalid,
		   const struct ml_train_spec *spec, struct ml_ctx *ctx, struct ml_err *e)
{
	struct ml_learner *l = calloc(1, sizeof(*l));
	const struct ml_algo *a = spec->params.algo;
	int tcol, wcol = -1, rc;
	size_t n = rows ? nrows : fr->rows.nrow, i;
	double *y = NULL, *w = NULL, *vy = NULL, *vw = NULL;
	struct design dX = {0}, dV = {0};
	const char *vname = spec->valid_name ? spec->valid_name : spec->name;
	struct ml_data d, v;

	*out = NULL;
	if (!l)
		return ml_err_nomem(e);
	l->algo = a;
	l->params = spec->params;
	tcol = ml_schema_find(&fr->schema, spec->target);
	if (tcol < 0) {
		rc = ml_err_set(e, ML_E_DATA, spec->name, 0, 0, "no target column '%s'",
				spec->target);
		goto fail;
	}
	if (!(l->target = dup_str(spec->target))) {
		rc = ml_err_nomem(e);
		goto fail;
	}
	if (n == 0) {
		rc = ml_err_set(e, ML_E_DATA, spec->name, 0, 0, "no rows to train on");
		goto fail;
	}
	if (spec->weight) {
		wcol = ml_schema_find(&fr->schema, spec->weight);
		if (wcol < 0 || fr->schema.cols[wcol].type != ML_NUM) {
			rc = ml_err_set(e, ML_E_DATA, spec->name, 0, 0,
					wcol < 0 ? "no weight column '%s'" :
						   "weight column '%s' is not numeric",
					spec->weight);
			goto fail;
		}
	}
	y = malloc(n * sizeof(double));
	if (!y) {
		rc = ml_err_nomem(e);
		goto fail;
	}
	if ((rc = setup_target(l, fr, tcol, rows, n, spec->task, y, spec->name, e)) < 0)
		goto fail;
	if (l->task == ML_TASK_CLASSIFY && !(a->flags & ML_ALGO_CLASSIFY)) {
		rc = ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "-a %s does not classify (target '%s'%s)",
				a->name, l->target,
				l->target_type == ML_NUM ? "; --task regress fits its values" : "");
		goto fail;
	}
	if (l->task == ML_TASK_REGRESS && !(a->flags & ML_ALGO_REGRESS)) {
		rc = ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "-a %s does not regress (target '%s')",
				a->name, l->target);
		goto fail;
	}
	if (spec->balanced && l->task != ML_TASK_CLASSIFY) {
		rc = ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				"--class-weight balanced needs a classification target ('%s' is "
				"regressed)",
				l->target);
		goto fail;
	}
	if ((rc = choose_features(l, fr, tcol, wcol, spec->ignore, rows, n, e)) < 0 ||
	    (rc = layout(l, e)) < 0)
		goto fail;
	if (wcol >= 0 || spec->balanced) {
		w = malloc(n * sizeof(double));
		if (!w) {
			rc = ml_err_nomem(e);
			goto fail;
		}
		for (i = 0; i < n; i++) {
			size_t r = rows ? rows[i] : i;
			w[i] = wcol >= 0 ? fr->rows.col[wcol].num[r] : 1;
			if (!(w[i] >= 0) || !isfinite(w[i])) {
				rc = ml_err_set(e, ML_E_DATA, spec->name, row_line(fr, r), wcol + 1,
						"weight in column '%s' must be a finite number >= 0",
						spec->weight);
				goto fail;
			}
		}
		if (spec->balanced && l->task == ML_TASK_CLASSIFY) {
			double *cnt = calloc((size_t)l->nclass, sizeof(double));
			if (!cnt) {
				rc = ml_err_nomem(e);
				goto fail;
			}
			for (i = 0; i < n; i++)
				cnt[(int)y[i]] += 1;
			for (i = 0; i < n; i++)
				w[i] *= (double)n / (l->nclass * cnt[(int)y[i]]);
			free(cnt);
		}
	}
	if ((rc = design_frame(l, fr, rows, n, spec->name, &dX, e)) < 0)
		goto fail;
	d = shape_of(l);
	d.n = n;
	d.col = dX.col;
	d.X = dX.X;
	d.y = y;
	d.w = w;
	if (vrows && nvalid) {
		v = shape_of(l);
		v.n = nvalid;
		vy = malloc(nvalid * sizeof(double));
		if (!vy) {
			rc = ml_err_nomem(e);
			goto fail;
		}
		if ((rc = ml_learner_target_codes(l, fr, vrows, nvalid, vy, e)) < 0)
			goto fail;
		for (i = 0; i < nvalid; i++) {
			size_t r = vrows[i];
			const struct ml_col *tc = &fr->schema.cols[tcol];
			int miss = tc->type == ML_NUM ? fr->rows.col[tcol].num[r] != fr->rows.col[tcol].num[r] :
				fr->rows.col[tcol].cat[r] < 0;
			if (miss) {
				rc = ml_err_set(e, ML_E_DATA, vname, row_line(fr, r), tcol + 1,
						"missing value in target column '%s'", tc->name);
				goto fail;
			}
			if (l->task == ML_TASK_CLASSIFY && vy[i] < 0) {
				char q[80], buf[ML_FMT_DOUBLE_MAX + 1];
				const char *lab = buf;
				if (tc->type == ML_CAT)
					lab = tc->dict.str[fr->rows.col[tcol].cat[r]];
				else
					ml_fmt_double(buf, fr->rows.col[tcol].num[r]);
				rc = ml_err_set(e, ML_E_DATA, vname, row_line(fr, r), tcol + 1,
						"validation row of class '%s', which the training rows "
						"lack",
						ml_err_quote(q, sizeof(q), lab, strlen(lab)));
				goto fail;
			}
		}
		if (wcol >= 0) {
			vw = malloc(nvalid * sizeof(double));
			if (!vw) {
				rc = ml_err_nomem(e);
				goto fail;
			}
			for (i = 0; i < nvalid; i++) {
				vw[i] = fr->rows.col[wcol].num[vrows[i]];
				if (!(vw[i] >= 0) || !isfinite(vw[i])) {
					rc = ml_err_set(e, ML_E_DATA, vname, row_line(fr, vrows[i]),
							wcol + 1,
							"weight in column '%s' must be a finite number "
							">= 0",
							spec->weight);
					goto fail;
				}
			}
		}
		if ((rc = design_frame(l, fr, vrows, nvalid, vname, &dV, e)) < 0)
			goto fail;
		v.col = dV.col;
		v.X = dV.X;
		v.y = vy;
		v.w = vw;
	}
	rc = a->fit(&l->state, &d, vrows && nvalid ? &v : NULL, &l->params, ctx, e);
	if (rc < 0)
		goto fail;
	design_release(&dX);
	design_release(&dV);
	free(y);
	free(vy);
	free(vw);
	free(w);
	*out = l;
	return 0;
fail:
	design_release(&dX);
	design_release(&dV);
	free(y);
	free(vy);
	free(vw);
	free(w);
	ml_learner_free(l);
	return rc;
}

int ml_learner_target_codes(const struct ml_learner *l, const struct ml_frame *fr,
			    const size_t *rows, size_t n, double *y, struct ml_err *e)
{
	int tcol = ml_schema_find(&fr->schema, l->target), k;
	const struct ml_col *tc;
	double *cv = NULL;
	int32_t *map = NULL;
	size_t i;

	if (tcol < 0)
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "no target column '%s'", l->target);
	tc = &fr->schema.cols[tcol];
	if (l->task == ML_TASK_REGRESS) {
		if (tc->type != ML_NUM)
			return ml_err_set(e, ML_E_DATA, NULL, 0, tcol + 1,
					  "target column '%s' is not numeric", l->target);
		for (i = 0; i < n; i++)
			y[i] = fr->rows.col[tcol].num[rows ? rows[i] : i];
		return 0;
	}
	if (tc->type == ML_CAT) {
		/* Input code -> class index. */
		map = malloc((size_t)(tc->dict.n ? tc->dict.n : 1) * sizeof(*map));
		if (!map)
			return ml_err_nomem(e);
		for (k = 0; k < tc->dict.n; k++)
			map[k] = -1;
		for (k = 0; k < l->nclass; k++) {
			int32_t c = ml_dict_find(&tc->dict, l->classes[k], strlen(l->classes[k]));
			if (c >= 0)
				map[c] = k;
		}
		for (i = 0; i < n; i++) {
			int32_t c = fr->rows.col[tcol].cat[rows ? rows[i] : i];
			y[i] = c < 0 ? -1 : map[c];
		}
		free(map);
		return 0;
	}
	/* A numeric truth against the classes as numbers (a class that is not a number
	 * matches nothing). */
	cv = malloc((size_t)l->nclass * sizeof(double));
	if (!cv)
		return ml_err_nomem(e);
	for (k = 0; k < l->nclass; k++)
		if (l->class_num)
			cv[k] = l->class_num[k];
		else if (ml_parse_double(l->classes[k], strlen(l->classes[k]), &cv[k]) != 0)
			cv[k] = NAN;
	for (i = 0; i < n; i++) {
		double t = fr->rows.col[tcol].num[rows ? rows[i] : i];
		y[i] = -1;
		for (k = 0; k < l->nclass; k++)
			if (cv[k] == t) {
				y[i] = k;
				break;
			}
	}
	free(cv);
	return 0;
}

int ml_learner_bind(struct ml_learner *l, const struct ml_schema *in, struct ml_err *e)
{
	int j;

	unbind(l);
	l->bcol = malloc((size_t)(l->nfeat ? l->nfeat : 1) * sizeof(int));
	l->bmap = calloc((size_t)(l->nfeat ? l->nfeat : 1), sizeof(*l->bmap));
	l->bmapn = calloc((size_t)(l->nfeat ? l->nfeat : 1), sizeof(*l->bmapn));
	if (!l->bcol || !l->bmap || !l->bmapn) {
		unbind(l);
		return ml_err_nomem(e);
	}
	for (j = 0; j < l->nfeat; j++) {
		int c = ml_schema_find(in, l->feat[j].name);
		if (c < 0) {
			unbind(l);
			return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "no column '%s' (a feature of the model)",
					  l->feat[j].name);
		}
		if (in->cols[c].type != l->feat[j].type) {
			const char *want = l->feat[j].type == ML_NUM ? "numeric" : "categorical";
			unbind(l);
			return ml_err_set(e, ML_E_DATA, NULL, 0, c + 1,
					  "column '%s' is %s here but was %s in training%s",
					  l->feat[j].name,
					  l->feat[j].type == ML_NUM ? "categorical" : "numeric", want,
					  l->feat[j].type == ML_NUM ? " (see --num)" : " (see --cat)");
		}
		l->bcol[j] = c;
	}
	l->bound = in;
	return 0;
}

/* Extend the level maps to the input dictionaries, which grow as the input is read. */
static int sync_maps(struct ml_learner *l, struct ml_err *e)
{
	int j;

	for (j = 0; j < l->nfeat; j++) {
		const struct ml_dict *d;
		if (l->feat[j].type != ML_CAT)
			continue;
		d = &l->bound->cols[l->bcol[j]].dict;
		if (l->bmapn[j] < d->n) {
			int32_t *m = realloc(l->bmap[j], (size_t)d->n * sizeof(int32_t));
			int32_t c;
			if (!m)
				return ml_err_nomem(e);
			l->bmap[j] = m;
			for (c = l->bmapn[j]; c < d->n; c++)
				m[c] = ml_dict_find(&l->feat[j].levels, d->str[c], d->len[c]);
			l->bmapn[j] = d->n;
		}
	}
	return 0;
}

enum { SCORE, SCORE_RAW, LEAVES, CONTRIB };

/* Encode rows and hand them to the algorithm for what is asked. */
static int run_rows(struct ml_learner *l, const struct ml_block *b, const size_t *rows,
		    size_t from, size_t n, void *out, int what, struct ml_err *e);

static int predict_some(struct ml_learner *l, const struct ml_block *b, const size_t *rows,
			size_t from, size_t n, double *out, int raw, struct ml_err *e)
{
	return run_rows(l, b, rows, from, n, out, raw ? SCORE_RAW : SCORE, e);
}

int ml_learner_fitted(struct ml_learner *l, double *out, int raw)
{
	return l->algo->fitted ? l->algo->fitted(l->state, out, raw) : 0;
}

int ml_learner_ntrees(const struct ml_learner *l)
{
	return l->algo->ntrees ? l->algo->ntrees(l->state) : 0;
}

int ml_learner_leaves(struct ml_learner *l, const struct ml_block *b, size_t from, size_t to,
		      int32_t *out, struct ml_err *e)
{
	if (!l->algo->leaves)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "-a %s models have no trees",
				  l->algo->name);
	return run_rows(l, b, NULL, from, to > from ? to - from : 0, out, LEAVES, e);
}

int ml_learner_contrib(struct ml_learner *l, const struct ml_block *b, size_t from, size_t to,
		       double *out, struct ml_err *e)
{
	if (!l->algo->contrib)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "-a %s models give no per-feature contributions", l->algo->name);
	return run_rows(l, b, NULL, from, to > from ? to - from : 0, out, CONTRIB, e);
}

/* Rows per scoring task: the answers never depend on how tasks meet threads. */
#define TASK_ROWS 4096

struct run {
	struct ml_learner *l;
	const struct ml_block *b;
	const size_t *rows;
	size_t from, n;
	char *out;
	size_t rowsz; /* bytes of out per row */
	int what;
	int *rc; /* per task */
};

/* Encode and score rows [a, a + m) of the run with work space X (m x p). */
static int run_some(const struct run *R, size_t a, size_t m, double *X, struct ml_err *e)
{
	struct ml_learner *l = R->l;
	void *out = R->out + a * R->rowsz;
	int rc;

	rc = encode(l, R->b, l->bcol, l->bmap, R->rows ? R->rows + a : NULL, R->from + a, m, X, m,
		    NULL, e);
	if (rc < 0)
		return rc;
	if (R->what == LEAVES)
		return l->algo->leaves(l->state, X, m, m, out, e);
	if (R->what == CONTRIB)
		return l->algo->contrib(l->state, X, m, m, out, e);
	return l->algo->predict(l->state, X, m, m, out, R->what == SCORE_RAW, e);
}

static void run_task(void *arg, size_t t, int worker)
{
	const struct run *R = arg;
	size_t a = t * TASK_ROWS, m = R->n - a < TASK_ROWS ? R->n - a : TASK_ROWS;

	R->rc[t] = run_some(R, a, m, R->l->scratch + (size_t)worker * TASK_ROWS * (size_t)R->l->p,
			    NULL);
}

static int run_rows(struct ml_learner *l, const struct ml_block *b, const size_t *rows,
		    size_t from, size_t n, void *out, int what, struct ml_err *e)
{
	struct run R;
	int workers = l->pool && (l->algo->flags & ML_ALGO_ROWWISE) ? ml_pool_size(l->pool) : 1;
	size_t ntask = (n + TASK_ROWS - 1) / TASK_ROWS, t, need;
	int rc;

	if (!l->bound)
		return ml_err_set(e, ML_E_INTERNAL, NULL, 0, 0, "learner is not bound to an input");
	if (n == 0)
		return 0;
	if ((rc = sync_maps(l, e)) < 0)
		return rc;
	memset(&R, 0, sizeof(R));
	R.l = l;
	R.b = b;
	R.rows = rows;
	R.from = from;
	R.n = n;
	R.out = out;
	R.what = what;
	if (what == LEAVES)
		R.rowsz = (size_t)l->algo->ntrees(l->state) * sizeof(int32_t);
	else if (what == CONTRIB)
		R.rowsz = (size_t)ml_learner_nout(l, 1) * (size_t)(l->p + 1) * sizeof(double);
	else
		R.rowsz = (size_t)ml_learner_nout(l, what == SCORE_RAW) * sizeof(double);
	if (!(l->algo->flags & ML_ALGO_ROWWISE)) {
		/* The rows in one go. */
		workers = 0;
		need = n * (size_t)(l->p ? l->p : 1);
	} else {
		need = (size_t)workers * TASK_ROWS * (size_t)(l->p ? l->p : 1);
	}
	if (need > l->scratch_cap) {
		double *s = realloc(l->scratch, need * sizeof(double));
		if (!s)
			return ml_err_nomem(e);
		l->scratch = s;
		l->scratch_cap = need;
	}
	if (workers == 0)
		return run_some(&R, 0, n, l->scratch, e);
	if (workers == 1 || ntask == 1) {
		for (t = 0, rc = 0; t < ntask && rc == 0; t++)
			rc = run_some(&R, t * TASK_ROWS,
				      n - t * TASK_ROWS < TASK_ROWS ? n - t * TASK_ROWS : TASK_ROWS,
				      l->scratch, e);
		return rc;
	}
	if (!(R.rc = malloc(ntask * sizeof(int))))
		return ml_err_nomem(e);
	ml_pool_run(l->pool, ntask, run_task, &R);
	/* A failed task again on this thread, for its message. */
	for (t = 0, rc = 0; t < ntask && rc == 0; t++)
		if (R.rc[t] < 0)
			rc = run_some(&R, t * TASK_ROWS,
				      n - t * TASK_ROWS < TASK_ROWS ? n - t * TASK_ROWS : TASK_ROWS,
				      l->scratch, e);
	free(R.rc);
	return rc;
}

void ml_learner_set_pool(struct ml_learner *l, struct ml_pool *pool)
{
	l->pool = pool;
}

int ml_learner_predict(struct ml_learner *l, const struct ml_block *b, size_t from, size_t to,
		       double *out, int raw, struct ml_err *e)
{
	return predict_some(l, b, NULL, from, to > from ? to - from : 0, out, raw, e);
}

int ml_learner_predict_rows(struct ml_learner *l, const struct ml_block *b, const size_t *rows,
			    size_t n, double *out, int raw, struct ml_err *e)
{
	return predict_some(l, b, rows, 0, n, out, raw, e);
}

int ml_learner_table(const struct ml_learner *l, const char *name, struct ml_frame *out,
		     struct ml_err *e)
{
	struct ml_data d = shape_of(l);
	const char *const *t;

	for (t = l->algo->tables; t && *t; t++)
		if (strcmp(*t, name) == 0)
			return l->algo->table(l->state, name, &d, out, e);
	return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "-a %s models have no table '%s'",
			  l->algo->name, name);
}

int ml_learner_to_model(const struct ml_learner *l, struct ml_model **out, struct ml_err *e)
{
	struct ml_model *m = ml_model_new("model", l->algo->name);
	struct ml_schema s;
	cJSON *meta, *arr, *fj, *pj;
	int j, rc;

	*out = NULL;
	if (!m)
		return ml_err_nomem(e);
	meta = ml_model_meta(m);
	cJSON_AddStringToObject(meta, "task", l->task == ML_TASK_REGRESS ? "regress" : "classify");
	cJSON_AddStringToObject(meta, "target", l->target);
	cJSON_AddStringToObject(meta, "target_type", l->target_type == ML_NUM ? "num" : "cat");
	if (l->task == ML_TASK_CLASSIFY) {
		arr = cJSON_AddArrayToObject(meta, "classes");
		for (j = 0; arr && j < l->nclass; j++)
			cJSON_AddItemToArray(arr, cJSON_CreateString(l->classes[j]));
	}
	/* The feature columns as an input schema with their training levels. */
	ml_schema_init(&s);
	if ((rc = ml_learner_input_schema(l, &s, e)) < 0) {
		ml_model_free(m);
		return rc;
	}
	fj = ml_schema_to_json(&s);
	ml_schema_release(&s);
	pj = ml_params_to_json(&l->params);
	if (!fj || !pj) {
		cJSON_Delete(fj);
		cJSON_Delete(pj);
		ml_model_free(m);
		return ml_err_nomem(e);
	}
	cJSON_AddItemToObject(meta, "features", fj);
	cJSON_AddItemToObject(meta, "params", pj);
	rc = l->algo->save(l->state, m, e);
	if (rc < 0) {
		ml_model_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

struct ml_learner *ml_learner_from_model(const struct ml_model *m, struct ml_err *e)
{
	const cJSON *meta = ml_model_meta_const(m), *t, *c, *f, *p;
	struct ml_learner *l;
	struct ml_schema s;
	struct ml_data d;
	int j;

	if (strcmp(ml_model_kind(m), "model") != 0) {
		ml_err_set(e, ML_E_DATA, NULL, 0, 0, "is a '%s' artefact, not a model",
			   ml_model_kind(m));
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		ml_err_nomem(e);
		return NULL;
	}
	ml_schema_init(&s);
	l->algo = ml_algo_find(ml_model_algorithm(m));
	if (!l->algo) {
		ml_err_set(e, ML_E_DATA, NULL, 0, 0, "unknown algorithm '%s'", ml_model_algorithm(m));
		goto fail;
	}
	t = cJSON_GetObjectItemCaseSensitive(meta, "task");
	c = cJSON_GetObjectItemCaseSensitive(meta, "target");
	f = cJSON_GetObjectItemCaseSensitive(meta, "features");
	p = cJSON_GetObjectItemCaseSensitive(meta, "params");
	if (!cJSON_IsString(t) || !cJSON_IsString(c) || !f || !p) {
		ml_err_set(e, ML_E_DATA, NULL, 0, 0, "model metadata lacks task, target or features");
		goto fail;
	}
	if (strcmp(t->valuestring, "regress") == 0) {
		l->task = ML_TASK_REGRESS;
	} else if (strcmp(t->valuestring, "classify") == 0) {
		l->task = ML_TASK_CLASSIFY;
	} else {
		ml_err_set(e, ML_E_DATA, NULL, 0, 0, "model metadata has an unknown task");
		goto fail;
	}
	if (!(l->target = dup_str(c->valuestring))) {
		ml_err_nomem(e);
		goto fail;
	}
	t = cJSON_GetObjectItemCaseSensitive(meta, "target_type");
	l->target_type = cJSON_IsString(t) && strcmp(t->valuestring, "cat") == 0 ? ML_CAT : ML_NUM;
	if (l->task == ML_TASK_CLASSIFY) {
		const cJSON *arr = cJSON_GetObjectItemCaseSensitive(meta, "classes"), *it;
		int n = cJSON_GetArraySize(arr);
		if (!cJSON_IsArray(arr) || n < 2 || n > 1000000) {
			ml_err_set(e, ML_E_DATA, NULL, 0, 0, "model metadata has no valid classes");
			goto fail;
		}
		l->classes = calloc((size_t)n, sizeof(char *));
		if (!l->classes) {
			ml_err_nomem(e);
			goto fail;
		}
		cJSON_ArrayForEach(it, arr)
		{
			if (!cJSON_IsString(it)) {
				ml_err_set(e, ML_E_DATA, NULL, 0, 0, "model class is not a string");
				goto fail;
			}
			if (!(l->classes[l->nclass++] = dup_str(it->valuestring))) {
				ml_err_nomem(e);
				goto fail;
			}
		}
	}
	if (ml_params_from_json(&l->params, l->algo, p, e) < 0)
		goto fail;
	if (ml_schema_from_json(&s, f, e) < 0)
		goto fail;
	l->feat = calloc((size_t)(s.ncol ? s.ncol : 1), sizeof(*l->feat));
	if (!l->feat) {
		ml_err_nomem(e);
		goto fail;
	}
	for (j = 0; j < s.ncol; j++) {
		struct feat *ft = &l->feat[l->nfeat++];
		ft->name = dup_str(s.cols[j].name);
		ft->type = s.cols[j].type;
		if (!ft->name || ml_dict_copy(&ft->levels, &s.cols[j].dict) < 0) {
			ml_err_nomem(e);
			goto fail;
		}
	}
	ml_schema_release(&s);
	if (layout(l, e) < 0)
		goto fail;
	d = shape_of(l);
	if (l->algo->load(&l->state, m, &d, e) < 0)
		goto fail;
	return l;
fail:
	ml_schema_release(&s);
	ml_learner_free(l);
	return NULL;
}
