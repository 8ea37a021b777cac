/* The learner: its lifetime, accessors, the layout of encoded features and the encoding of
 * rows that fitting and scoring share. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml/feat.h"
#include "ml/num.h"
#include "learn_int.h"

struct ml_data ml_learn_shape(const struct ml_learner *l)
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

void ml_learner_free(struct ml_learner *l)
{
	int j;

	if (!l)
		return;
	if (l->state && l->algo->free)
		l->algo->free(l->state);
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

int ml_learner_nout(const struct ml_learner *l, enum ml_out what)
{
	switch (what) {
	case ML_OUT_VALUE:
		if (l->task == ML_TASK_UNSUPERVISED)
			return l->algo->outputs ? l->algo->outputs(l->state, NULL, 0) : 1;
		return l->task == ML_TASK_REGRESS ? 1 : l->nclass;
	case ML_OUT_MARGIN:
		if (l->task == ML_TASK_UNSUPERVISED)
			return 0;
		return l->task == ML_TASK_REGRESS || l->nclass == 2 ? 1 : l->nclass;
	case ML_OUT_DIST:
		return l->task == ML_TASK_REGRESS && (l->algo->flags & ML_ALGO_DIST) ? 2 : 0;
	case ML_OUT_EMBED:
		return l->algo->nembed ? l->algo->nembed(l->state) : 0;
	}
	return 0;
}

const char *ml_learner_output_name(const struct ml_learner *l, int k)
{
	const char *names[64];
	int n;

	if (l->task != ML_TASK_UNSUPERVISED || k < 0)
		return NULL;
	if (!l->algo->outputs)
		return k == 0 ? "score" : NULL;
	n = l->algo->outputs(l->state, names, 64);
	return k < n && k < 64 ? names[k] : NULL;
}

int ml_learner_ntrees(const struct ml_learner *l)
{
	return l->algo->ntrees ? l->algo->ntrees(l->state) : 0;
}

int ml_learner_fitted(struct ml_learner *l, double *out, enum ml_out what)
{
	return l->algo->fitted && what != ML_OUT_DIST ? l->algo->fitted(l->state, out, what) : 0;
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

char *ml_learn_dup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}

/* Lay out the encoded columns of the features. */
int ml_learn_is_time(const struct ml_algo *a, const struct ml_params *p, const struct feat *f)
{
	const char *t = a->time_param ? ml_param_text(p, a->time_param) : NULL;

	return f->type == ML_CAT && t && strcmp(t, f->name) == 0;
}

int ml_learn_layout(struct ml_learner *l, struct ml_err *e)
{
	int j, k, p = 0, native = (l->algo->flags & ML_ALGO_NATIVE_CAT) != 0;

	for (j = 0; j < l->nfeat; j++) {
		struct feat *f = &l->feat[j];
		f->time = ml_learn_is_time(l->algo, &l->params, f);
		f->first = p;
		f->width = f->type == ML_CAT && !native && !f->time ? f->levels.n : 1;
		p += f->width;
	}
	l->enc = calloc((size_t)(p ? p : 1), sizeof(*l->enc));
	l->ncat = calloc((size_t)(p ? p : 1), sizeof(*l->ncat));
	l->lev = calloc((size_t)(p ? p : 1), sizeof(*l->lev));
	if (!l->enc || !l->ncat || !l->lev)
		return ml_err_nomem(e);
	l->p = p; /* only once enc exists: ml_learner_free walks it */
	for (j = 0; j < l->nfeat; j++) {
		struct feat *f = &l->feat[j];
		if (f->type == ML_NUM || native || f->time) {
			int cat = f->type == ML_CAT && !f->time;
			l->enc[f->first] = ml_learn_dup(f->name);
			if (!l->enc[f->first])
				return ml_err_nomem(e);
			l->ncat[f->first] = cat ? f->levels.n : 0;
			l->lev[f->first] = cat ? &f->levels : NULL;
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

long ml_learn_row_line(const struct ml_frame *f, size_t i)
{
	return f->rows.line ? f->rows.line[i] : 0;
}

/* Encode feature j (its columns from x on, leading dimension ld) of rows of b, column c
 * of b, with level map map (categorical features). */
/* A time feature (struct feat's time): each row's text as seconds since the epoch. */
static int encode_time(const struct ml_learner *l, const struct feat *f, const struct ml_block *b,
		       int c, const size_t *rows, size_t from, size_t n, double *x,
		       const char *where, struct ml_err *e)
{
	const struct ml_dict *d = &b->schema->cols[c].dict;
	size_t i;

	for (i = 0; i < n; i++) {
		size_t r = rows ? rows[i] : from + i;
		int32_t code = b->col[c].cat[r];
		char q[160];
		if (code < 0)
			return ml_err_set(e, ML_E_DATA, where, b->line ? b->line[r] : 0, c + 1,
					  "missing time in column '%s' (-a %s takes no missing "
					  "values)",
					  f->name, l->algo->name);
		if (ml_parse_time(d->str[code], d->len[code], &x[i]) == 0)
			continue;
		ml_err_quote(q, sizeof(q), d->str[code], d->len[code]);
		return ml_err_set(e, ML_E_DATA, where, b->line ? b->line[r] : 0, c + 1,
				  "cannot parse '%s' as a date or time in column '%s' (ISO 8601 "
				  "as 2026-01-31 or 2026-01-31T08:00:00Z, or seconds since "
				  "1970-01-01 UTC)",
				  q, f->name);
	}
	return 0;
}

int ml_learn_encode_feat(const struct ml_learner *l, int j, const struct ml_block *b, int c,
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
	if (f->time)
		return encode_time(l, f, b, c, rows, from, n, x, where, e);
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
int ml_learn_encode(const struct ml_learner *l, const struct ml_block *b, const int *col,
		  int32_t *const *map, const size_t *rows, size_t from, size_t n, double *X,
		  size_t ld, const char *where, struct ml_err *e)
{
	int j, rc;

	for (j = 0; j < l->nfeat; j++)
		if ((rc = ml_learn_encode_feat(l, j, b, col[j], map[j], rows, from, n,
				      X + (size_t)l->feat[j].first * ld, ld, where, e)) < 0)
			return rc;
	return 0;
}

/* Map every code of dict to a level index of f (or -1). */
int32_t *ml_learn_level_map(const struct feat *f, const struct ml_dict *d)
{
	int32_t *m = malloc((size_t)(d->n ? d->n : 1) * sizeof(*m));
	int32_t c;

	if (!m)
		return NULL;
	for (c = 0; c < d->n; c++)
		m[c] = ml_dict_find(&f->levels, d->str[c], d->len[c]);
	return m;
}
