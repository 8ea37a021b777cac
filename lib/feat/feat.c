/* Feature pipelines: the step table, fitting, binding by name, streaming application,
 * and the "features" container. The steps themselves live in lib/feat/feat_*.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feat_int.h"
#include "ml/feat.h"
#include "ml/num.h"
#include "core/sort.h"

#define FEAT_FORMAT 1

static const struct fops *const all_ops[] = {&ml_fops_impute,  &ml_fops_scale,	  &ml_fops_log,
					     &ml_fops_power,   &ml_fops_clip,	  &ml_fops_onehot,
					     &ml_fops_ordinal, &ml_fops_freq,	  &ml_fops_target,
					     &ml_fops_hash,    &ml_fops_datetime, &ml_fops_interact,
					     &ml_fops_rolling, &ml_fops_lag,	  &ml_fops_select,
					     &ml_fops_pca,     &ml_fops_text,	  &ml_fops_embed,
					     NULL};

static const char *const step_names[] = {
    "impute",  "scale",	    "log",	     "power", "clip",	  "onehot",
    "ordinal", "frequency", "target-encode", "hash",  "datetime", "interactions",
    "rolling", "lag",	    "select",	     "pca",   "text",	  "embed",
    NULL};

const char *const *ml_feat_step_names(void)
{
	return step_names;
}

static const struct fops *ops_by_name(const char *name)
{
	int i;

	for (i = 0; all_ops[i]; i++)
		if (strcmp(all_ops[i]->name, name) == 0)
			return all_ops[i];
	return NULL;
}

static const struct fops *ops_by_kind(int kind)
{
	int i;

	for (i = 0; all_ops[i]; i++)
		if (all_ops[i]->kind == kind)
			return all_ops[i];
	return NULL;
}

/* Helpers shared by the steps. */

char *ml_feat_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);

	if (p)
		memcpy(p, s, n);
	return p;
}

char *ml_feat_cut(char *s)
{
	for (; *s; s++) {
		if (*s == '\\' && s[1]) {
			s++;
			continue;
		}
		if (*s == ':') {
			*s = 0;
			return s + 1;
		}
	}
	return NULL;
}

void ml_feat_sort(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), ml_cmp_double);
}

double ml_feat_quantile(const double *v, size_t n, double p)
{
	double h, t;
	size_t lo;

	if (n == 0)
		return NAN;
	h = p * (double)(n - 1);
	lo = (size_t)floor(h);
	if (lo >= n - 1)
		return v[n - 1];
	t = h - (double)lo;
	/* numpy's _lerp: exact at both ends */
	if (t >= 0.5)
		return v[lo + 1] - (v[lo + 1] - v[lo]) * (1 - t);
	return v[lo] + (v[lo + 1] - v[lo]) * t;
}

#define SWAPD(x, y)                                                                                \
	do {                                                                                       \
		double t_ = (x);                                                                   \
		(x) = (y);                                                                         \
		(y) = t_;                                                                          \
	} while (0)

/* The k-th smallest of a (0-based) by quickselect with a median of three (Numerical
 * Recipes' select): a is reordered so that a[k] is in place, nothing after it smaller. */
static double nth(double *a, size_t n, size_t k)
{
	size_t l = 0, ir = n - 1;

	for (;;) {
		size_t mid, i, j;
		double x;
		if (ir <= l + 1) {
			if (ir == l + 1 && a[ir] < a[l])
				SWAPD(a[l], a[ir]);
			return a[k];
		}
		mid = (l + ir) / 2;
		SWAPD(a[mid], a[l + 1]);
		if (a[l] > a[ir])
			SWAPD(a[l], a[ir]);
		if (a[l + 1] > a[ir])
			SWAPD(a[l + 1], a[ir]);
		if (a[l] > a[l + 1])
			SWAPD(a[l], a[l + 1]);
		i = l + 1;
		j = ir;
		x = a[l + 1];
		for (;;) {
			do
				i++;
			while (a[i] < x);
			do
				j--;
			while (a[j] > x);
			if (j < i)
				break;
			SWAPD(a[i], a[j]);
		}
		a[l + 1] = a[j];
		a[j] = x;
		if (j >= k)
			ir = j - 1;
		if (j <= k)
			l = i;
	}
}

double ml_feat_qsel(double *v, size_t n, double p)
{
	double h, t, a, b;
	size_t lo, i;

	if (n == 0)
		return NAN;
	h = p * (double)(n - 1);
	lo = (size_t)floor(h);
	if (lo >= n - 1)
		return nth(v, n, n - 1);
	a = nth(v, n, lo);
	/* the next order statistic: the smallest of what quickselect left above lo */
	b = v[lo + 1];
	for (i = lo + 2; i < n; i++)
		if (v[i] < b)
			b = v[i];
	t = h - (double)lo;
	if (t >= 0.5)
		return b - (b - a) * (1 - t);
	return a + (b - a) * t;
}

double *ml_feat_present(const double *x, size_t n, size_t *np)
{
	double *v = malloc((n ? n : 1) * sizeof(*v));
	size_t i, k = 0;

	if (!v)
		return NULL;
	for (i = 0; i < n; i++)
		if (x[i] == x[i])
			v[k++] = x[i];
	*np = k;
	return v;
}

double *ml_feat_sorted(const double *x, size_t n, size_t *np)
{
	double *v = malloc((n ? n : 1) * sizeof(*v));
	size_t i, k = 0;

	if (!v)
		return NULL;
	for (i = 0; i < n; i++)
		if (x[i] == x[i])
			v[k++] = x[i];
	ml_feat_sort(v, k);
	*np = k;
	return v;
}

int ml_feat_quote_col(char *dst, size_t n, const char *name)
{
	ml_err_quote(dst, n, name, strlen(name));
	return 0;
}

const char *ml_fstep_label(const struct fstep *s)
{
	return s->ops->name;
}

int ml_feat_need_values(const struct fstep *s, const struct fdata *d, int k, size_t present,
			struct ml_err *e)
{
	char q[160];

	if (present > 0)
		return 0;
	ml_feat_quote_col(q, sizeof(q), d->s->cols[s->ci[k]].name);
	return ml_err_set(e, ML_E_DATA, d->name, 0, 0,
			  "--%s: column '%s' has no values to learn from (every value is missing)",
			  s->ops->name, q);
}

void ml_fmap_release(struct fmap *m)
{
	free(m->v);
	memset(m, 0, sizeof(*m));
}

int ml_fmap_sync(struct fmap *m, const struct ml_dict *d,
		 int32_t (*fn)(void *arg, const char *s, size_t len), void *arg, struct ml_err *e)
{
	if (m->n >= d->n)
		return 0;
	if (d->n > m->cap) {
		int32_t cap = d->n < 16 ? 16 : d->n + d->n / 2;
		int32_t *v = realloc(m->v, (size_t)cap * sizeof(*v));
		if (!v)
			return ml_err_nomem(e);
		m->v = v;
		m->cap = cap;
	}
	while (m->n < d->n) {
		int32_t r = fn(arg, d->str[m->n], d->len[m->n]);
		if (r < -1)
			return r == ML_E_NOMEM
				   ? ml_err_nomem(e)
				   : ml_err_set(e, r, NULL, 0, 0, "too many categories");
		m->v[m->n++] = r;
	}
	return 0;
}

/* Byte-order sort of codes by their strings (merge sort: qsort has no context). */
static int str_less(const struct ml_dict *d, int32_t x, int32_t y)
{
	size_t lx = d->len[x], ly = d->len[y];
	int c = memcmp(d->str[x], d->str[y], lx < ly ? lx : ly);

	return c < 0 || (c == 0 && lx < ly);
}

static void msort_codes(const struct ml_dict *d, int32_t *v, int32_t *tmp, size_t n)
{
	size_t h, i, j, k;

	if (n < 2)
		return;
	h = n / 2;
	msort_codes(d, v, tmp, h);
	msort_codes(d, v + h, tmp, n - h);
	for (i = 0, j = h, k = 0; i < h && j < n;)
		tmp[k++] = str_less(d, v[j], v[i]) ? v[j++] : v[i++];
	while (i < h)
		tmp[k++] = v[i++];
	while (j < n)
		tmp[k++] = v[j++];
	memcpy(v, tmp, n * sizeof(*v));
}

int ml_feat_levels(const struct ml_dict *d, const int32_t *codes, size_t n, struct ml_dict *levels,
		   double **counts, struct ml_err *e)
{
	double *cnt = calloc((size_t)(d->n ? d->n : 1), sizeof(*cnt));
	int32_t *order = NULL, *tmp = NULL, k = 0, c;
	size_t i;
	int rc = 0;

	ml_dict_init(levels);
	if (counts)
		*counts = NULL;
	if (!cnt)
		return ml_err_nomem(e);
	for (i = 0; i < n; i++)
		if (codes[i] >= 0 && codes[i] < d->n)
			cnt[codes[i]] += 1;
	order = malloc((size_t)(d->n ? d->n : 1) * sizeof(*order));
	tmp = malloc((size_t)(d->n ? d->n : 1) * sizeof(*tmp));
	if (!order || !tmp) {
		rc = ml_err_nomem(e);
		goto out;
	}
	for (c = 0; c < d->n; c++)
		if (cnt[c] > 0)
			order[k++] = c;
	msort_codes(d, order, tmp, (size_t)k);
	for (c = 0; c < k; c++)
		if (ml_dict_intern(levels, d->str[order[c]], d->len[order[c]]) < 0) {
			rc = ml_err_nomem(e);
			goto out;
		}
	if (counts) {
		double *out = malloc((size_t)(k ? k : 1) * sizeof(*out));
		if (!out) {
			rc = ml_err_nomem(e);
			goto out;
		}
		for (c = 0; c < k; c++)
			out[c] = cnt[order[c]];
		*counts = out;
	}
out:
	if (rc < 0)
		ml_dict_release(levels);
	free(cnt);
	free(order);
	free(tmp);
	return rc;
}

void ml_feat_save_dict(struct ml_wbuf *b, const struct ml_dict *d)
{
	int32_t i;

	ml_wbuf_u32(b, (uint32_t)d->n);
	for (i = 0; i < d->n; i++)
		ml_wbuf_str(b, d->str[i]);
}

int ml_feat_bad(struct ml_err *e, const char *what)
{
	return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "the feature pipeline is corrupt (%s)", what);
}

int ml_feat_bad_at(const struct ml_rbuf *b, struct ml_err *e, const char *what)
{
	return b->err == ML_E_NOMEM ? ml_err_nomem(e) : ml_feat_bad(e, what);
}

int ml_feat_load_dict(struct ml_rbuf *b, struct ml_dict *d, struct ml_err *e)
{
	uint32_t n = ml_rbuf_u32(b), i;

	ml_dict_init(d);
	if (!ml_feat_count(b, n, 4))
		return ml_feat_bad(e, "a level count");
	for (i = 0; i < n; i++) {
		char *s = ml_rbuf_str(b);
		int32_t c;
		if (!s)
			return ml_feat_bad_at(b, e, "a level");
		c = ml_dict_intern(d, s, strlen(s));
		free(s);
		if (c == ML_E_NOMEM)
			return ml_err_nomem(e);
		if (c != (int32_t)i)
			return ml_feat_bad(e, "a level repeats");
	}
	return 0;
}

void ml_fgroups_init(struct fgroups *g)
{
	ml_dict_init(&g->keys);
	memset(&g->map, 0, sizeof(g->map));
}

void ml_fgroups_release(struct fgroups *g)
{
	ml_dict_release(&g->keys);
	ml_fmap_release(&g->map);
}

static int32_t group_intern(void *arg, const char *s, size_t len)
{
	return ml_dict_intern(arg, s, len);
}

int32_t ml_fgroups_get(struct fgroups *g, enum ml_type t, const struct ml_dict *d, union ml_colv v,
		       size_t i, struct ml_err *e)
{
	char buf[ML_FMT_DOUBLE_MAX + 2];
	int32_t c;

	if (t == ML_CAT) {
		int32_t code = v.cat[i];
		if (code < 0)
			c = ml_dict_intern(&g->keys, "", 0);
		else {
			int rc = ml_fmap_sync(&g->map, d, group_intern, &g->keys, e);
			if (rc < 0)
				return rc;
			/* a category's key starts with 'c' so it never meets a number's */
			c = g->map.v[code];
		}
	} else {
		double x = v.num[i];
		size_t n;
		buf[0] = 'n';
		n = x == x ? ml_fmt_double(buf + 1, x) + 1 : 1;
		c = ml_dict_intern(&g->keys, buf, n);
	}
	if (c < 0)
		return c == ML_E_NOMEM ? ml_err_nomem(e)
				       : ml_err_set(e, ML_E_DATA, NULL, 0, 0, "too many groups");
	return c;
}

int ml_feat_time(const struct ml_schema *s, int col, union ml_colv v, const long *line, size_t i,
		 double *t, struct ml_err *e)
{
	char q[160], qc[160];

	if (s->cols[col].type == ML_NUM) {
		*t = v.num[i];
		return 0;
	}
	if (v.cat[i] < 0) {
		*t = NAN;
		return 0;
	}
	{
		const struct ml_dict *d = &s->cols[col].dict;
		int32_t c = v.cat[i];
		if (ml_parse_time(d->str[c], d->len[c], t) == 0)
			return 0;
		ml_err_quote(q, sizeof(q), d->str[c], d->len[c]);
		ml_feat_quote_col(qc, sizeof(qc), s->cols[col].name);
		return ml_err_set(e, ML_E_DATA, NULL, ml_feat_line(line, i), 0,
				  "cannot parse '%s' as a date or time in column '%s'", q, qc);
	}
}

/* Layout helpers. */

int ml_fout_add(struct fstep *s, const char *name, enum ml_type type, int src, int made,
		struct ml_err *e)
{
	/* The room doubles as nout reaches each power of two (as ml_schema_add's does), so
	 * that the thousands of columns of a wide step are not copied once per column. */
	struct fout *o = s->nout & (s->nout - 1) ? s->out :
		realloc(s->out, (size_t)(s->nout ? 2 * s->nout : 1) * sizeof(*o));
	char *nm = ml_feat_strdup(name);

	if (o)
		s->out = o;
	if (!o || !nm) {
		free(nm);
		return ml_err_nomem(e);
	}
	o += s->nout;
	o->name = nm;
	o->type = type;
	o->src = src;
	o->made = made;
	return s->nout++;
}

int ml_fout_pass(struct fstep *s, const struct ml_schema *in, int j, struct ml_err *e)
{
	return ml_fout_add(s, in->cols[j].name, in->cols[j].type, j, 0, e);
}

int ml_feat_find(const struct ml_schema *in, const char *name, const char *opt,
		 const struct fstep *s, int fit, struct ml_err *e)
{
	int j = ml_schema_find(in, name);
	char q[160];

	if (j >= 0)
		return j;
	ml_feat_quote_col(q, sizeof(q), name);
	if (fit)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "--%s: %s: no column '%s'",
				  s->ops->name, opt, q);
	return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
			  "the feature pipeline is corrupt (--%s: %s '%s' is not in its table)",
			  s->ops->name, opt, q);
}

int ml_fstep_pos(const struct fstep *s, int j)
{
	return j >= 0 && j < s->npos ? s->pos[j] : -1;
}

int ml_fout_inplace(struct fstep *s, const struct ml_schema *in, struct ml_err *e)
{
	int j, rc;

	for (j = 0; j < in->ncol; j++) {
		int k = ml_fstep_pos(s, j);
		rc = ml_fout_add(s, in->cols[j].name, in->cols[j].type, j, k >= 0, e);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Steps. */

static void step_release(struct fstep *s)
{
	int j;

	if (s->ops && s->ops->free && s->p)
		s->ops->free(s);
	free(s->arg);
	free(s->args);
	for (j = 0; j < s->ncol; j++)
		free(s->cols[j]);
	free(s->cols);
	free(s->ci);
	free(s->pos);
	for (j = 0; j < s->nout; j++)
		free(s->out[j].name);
	free(s->out);
	if (s->buf)
		for (j = 0; j < s->nout; j++)
			free(s->buf[j].num);
	free(s->buf);
	memset(s, 0, sizeof(*s));
}

static void step_clear_layout(struct fstep *s)
{
	int j;

	if (s->buf)
		for (j = 0; j < s->nout; j++)
			free(s->buf[j].num);
	free(s->buf);
	s->buf = NULL;
	s->cap = 0;
	for (j = 0; j < s->nout; j++)
		free(s->out[j].name);
	free(s->out);
	s->out = NULL;
	s->nout = 0;
}

static int step_init(struct fstep *s, const char *name, const char *arg,
		     const struct ml_feat_spec *spec, struct ml_err *e)
{
	int rc;

	memset(s, 0, sizeof(*s));
	s->ops = ops_by_name(name);
	if (!s->ops)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "unknown step '--%s'", name);
	s->arg = ml_feat_strdup(arg ? arg : "");
	s->args = ml_feat_strdup(arg ? arg : "");
	if (!s->arg || !s->args)
		return ml_err_nomem(e);
	s->unseen = spec->unseen;
	s->deftype = s->ops->deftype;
	rc = s->ops->parse(s, spec, e);
	if (!s->acctype)
		s->acctype = s->deftype;
	return rc;
}

void ml_feat_spec_init(struct ml_feat_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->smoothing = -1;
	s->folds = 5;
}

int ml_features_check(const struct ml_feat_spec *spec, struct ml_err *e)
{
	int i, rc = 0;

	if (spec->folds < 2)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "--folds must be at least 2");
	for (i = 0; i < spec->nsteps && rc == 0; i++) {
		struct fstep s;
		rc = step_init(&s, spec->steps[i].step, spec->steps[i].arg, spec, e);
		step_release(&s);
	}
	return rc;
}

/* The pipeline. */

struct stage {
	struct ml_schema s;
	union ml_colv *v;
	const long *line;
	size_t n;
};

struct ml_features {
	struct ml_schema in; /* the fit's input: names and types */
	char *target;
	int nkeep;
	char **keep;
	int nsteps;
	struct fstep *steps;
	int holds;
	/* stages, built at fit, load and bind */
	int extra_pass;
	struct stage *st; /* nsteps + 1 */
	int nst;
	int *map;   /* stage-0 column -> bound input column; -1: the absent target */
	int absent; /* stage-0 column of an absent target, or -1 */
	union ml_colv absbuf;
	size_t abscap;
	const struct ml_schema *bin; /* the bound input */
	int bound;
	int fitting;
	/* the output: the last stage without an absent target, extras last */
	struct ml_schema out;
	int *osrc;
	union ml_colv *ov;
	struct ml_block ob;
	struct ml_block acc; /* rows from finish */
	int acc_init;
};

ML_API const char *ml_features_target(const struct ml_features *f)
{
	return f ? f->target : NULL;
}

int ml_features_holds_rows(const struct ml_features *f)
{
	return f->holds;
}

void ml_features_set_extra(struct ml_features *f, int pass)
{
	f->extra_pass = pass != 0;
}

static void stages_release(struct ml_features *f)
{
	int k;

	if (f->st)
		for (k = 0; k < f->nst; k++) {
			ml_schema_release(&f->st[k].s);
			free(f->st[k].v);
		}
	free(f->st);
	f->st = NULL;
	f->nst = 0;
	free(f->map);
	f->map = NULL;
	ml_schema_release(&f->out);
	free(f->osrc);
	f->osrc = NULL;
	free(f->ov);
	f->ov = NULL;
	if (f->acc_init)
		ml_block_release(&f->acc);
	f->acc_init = 0;
	f->bound = 0;
}

void ml_features_free(struct ml_features *f)
{
	int k;

	if (!f)
		return;
	stages_release(f);
	for (k = 0; k < f->nsteps; k++)
		step_release(&f->steps[k]);
	free(f->steps);
	ml_schema_release(&f->in);
	free(f->target);
	for (k = 0; k < f->nkeep; k++)
		free(f->keep[k]);
	free(f->keep);
	free(f->absbuf.num);
	free(f);
}

static int is_keep(const struct ml_features *f, const char *name)
{
	int k;

	for (k = 0; k < f->nkeep; k++)
		if (strcmp(f->keep[k], name) == 0)
			return 1;
	return 0;
}

/* Resolve a step's column names in its stage input. */
static int step_resolve(struct fstep *s, const struct ml_schema *in, struct ml_err *e)
{
	/* The stage's names hashed, with the first column of each name, and the way back
	 * from a column to the step's: a search per column made steps on wide stages
	 * (thousands of hashed columns) quadratic. */
	struct ml_dict names;
	int *first = malloc((size_t)(in->ncol ? in->ncol : 1) * sizeof(*first));
	int k, j, rc = 0;

	free(s->ci);
	free(s->pos);
	s->ci = malloc((size_t)(s->ncol ? s->ncol : 1) * sizeof(*s->ci));
	s->pos = malloc((size_t)(in->ncol ? in->ncol : 1) * sizeof(*s->pos));
	s->npos = 0;
	ml_dict_init(&names);
	for (j = 0; first && j < in->ncol && rc == 0; j++) {
		int32_t c = ml_dict_intern(&names, in->cols[j].name, strlen(in->cols[j].name));
		if (c < 0)
			rc = ML_E_NOMEM;
		else if (c == names.n - 1)
			first[c] = j;
	}
	if (!s->ci || !s->pos || !first || rc < 0) {
		ml_dict_release(&names);
		free(first);
		return ml_err_nomem(e);
	}
	s->npos = in->ncol;
	for (j = 0; j < in->ncol; j++)
		s->pos[j] = -1;
	for (k = 0; k < s->ncol; k++) {
		int32_t c = ml_dict_find(&names, s->cols[k], strlen(s->cols[k]));
		s->ci[k] = c < 0 ? -1 : first[c];
		if (s->ci[k] >= 0 && s->pos[s->ci[k]] < 0)
			s->pos[s->ci[k]] = k;
		if (s->ci[k] < 0) {
			char q[160];
			ml_feat_quote_col(q, sizeof(q), s->cols[k]);
			rc = ml_err_set(e, ML_E_DATA, NULL, 0, 0,
					"the feature pipeline is corrupt (--%s reads column '%s', "
					"which no earlier step gives)",
					s->ops->name, q);
			break;
		}
	}
	ml_dict_release(&names);
	free(first);
	return rc;
}

/* Lay a step out on stage k and build stage k + 1's schema. */
static int stage_next(struct ml_features *f, int k, struct ml_err *e)
{
	struct fstep *s = &f->steps[k];
	struct stage *a = &f->st[k], *b = &f->st[k + 1];
	struct ml_dict names; /* the columns so far: hashing them keeps wide steps linear */
	int j, rc;

	step_clear_layout(s);
	if ((rc = s->ops->layout(s, &a->s, e)) < 0)
		return rc;
	ml_schema_release(&b->s);
	free(b->v);
	b->v = NULL;
	ml_dict_init(&names);
	for (j = 0; j < s->nout; j++) {
		const char *nm = s->out[j].name;
		int32_t code = ml_dict_intern(&names, nm, strlen(nm));
		if (code >= 0 && code != j) {
			char q[160];
			ml_dict_release(&names);
			ml_feat_quote_col(q, sizeof(q), nm);
			return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
					  "--%s makes a column '%s' but the table already has one",
					  s->ops->name, q);
		}
		if (code < 0 || ml_schema_add(&b->s, nm, s->out[j].type) < 0) {
			ml_dict_release(&names);
			return ml_err_nomem(e);
		}
	}
	ml_dict_release(&names);
	b->v = calloc((size_t)(s->nout ? s->nout : 1), sizeof(*b->v));
	s->buf = calloc((size_t)(s->nout ? s->nout : 1), sizeof(*s->buf));
	if (!b->v || !s->buf)
		return ml_err_nomem(e);
	s->cap = 0;
	if (s->ops->reset)
		s->ops->reset(s);
	return 0;
}

/* Stage 0 from a list of columns (the fit's input, then extras). */
static int stage0(struct ml_features *f, const struct ml_schema *cols, struct ml_err *e)
{
	int j;

	stages_release(f);
	f->nst = f->nsteps + 1;
	f->st = calloc((size_t)f->nst, sizeof(*f->st));
	if (!f->st)
		return ml_err_nomem(e);
	for (j = 0; j < f->nst; j++)
		ml_schema_init(&f->st[j].s);
	for (j = 0; j < cols->ncol; j++)
		if (ml_schema_add(&f->st[0].s, cols->cols[j].name, cols->cols[j].type) < 0)
			return ml_err_nomem(e);
	f->st[0].v = calloc((size_t)(cols->ncol ? cols->ncol : 1), sizeof(*f->st[0].v));
	ml_schema_init(&f->out);
	if (!f->st[0].v)
		return ml_err_nomem(e);
	return 0;
}

/* Mirror the dictionaries of categorical columns passed on from stage k to k + 1. */
static int stage_sync(struct ml_features *f, int k, struct ml_err *e)
{
	struct fstep *s = &f->steps[k];
	struct stage *a = &f->st[k], *b = &f->st[k + 1];
	int j;

	for (j = 0; j < s->nout; j++) {
		const struct fout *o = &s->out[j];
		const struct ml_dict *src;
		struct ml_dict *dst;
		if (o->type != ML_CAT || o->src < 0 || (o->made && !s->holds))
			continue;
		src = &a->s.cols[o->src].dict;
		dst = &b->s.cols[j].dict;
		while (dst->n < src->n)
			if (ml_dict_intern(dst, src->str[dst->n], src->len[dst->n]) < 0)
				return ml_err_nomem(e);
	}
	return 0;
}

static int dict_mirror(struct ml_dict *dst, const struct ml_dict *src, struct ml_err *e)
{
	while (dst->n < src->n)
		if (ml_dict_intern(dst, src->str[dst->n], src->len[dst->n]) < 0)
			return ml_err_nomem(e);
	return 0;
}

/* Run step k on the rows of stage k. */
static int stage_run(struct ml_features *f, int k, struct ml_err *e)
{
	struct fstep *s = &f->steps[k];
	struct stage *a = &f->st[k], *b = &f->st[k + 1];
	struct fio io;
	int j, rc;

	if ((rc = stage_sync(f, k, e)) < 0)
		return rc;
	if (a->n == 0) {
		/* nothing reached this step (a holding step before it kept every row) */
		b->n = 0;
		b->line = NULL;
		return 0;
	}
	if (!s->holds) {
		if (a->n > s->cap) {
			size_t cap = a->n;
			for (j = 0; j < s->nout; j++) {
				void *p;
				if (!s->out[j].made)
					continue;
				p = realloc(s->buf[j].num,
					    cap * (s->out[j].type == ML_NUM ? sizeof(double)
									    : sizeof(int32_t)));
				if (!p)
					return ml_err_nomem(e);
				s->buf[j].num = p;
			}
			s->cap = cap;
		}
		for (j = 0; j < s->nout; j++)
			b->v[j] = s->out[j].made ? s->buf[j] : a->v[s->out[j].src];
	}
	memset(&io, 0, sizeof(io));
	io.in = &a->s;
	io.v = a->v;
	io.line = a->line;
	io.n = a->n;
	io.out = &b->s;
	io.o = b->v;
	io.nout = a->n;
	io.oline = a->line;
	io.fitting = f->fitting;
	if ((rc = s->ops->apply(s, &io, e)) < 0)
		return rc;
	b->n = io.nout;
	b->line = io.oline;
	return 0;
}

/* The output schema: the last stage's columns, an absent target left out, extras last. */
static int build_output(struct ml_features *f, int nfit0, struct ml_err *e)
{
	const struct ml_schema *last = &f->st[f->nsteps].s;
	int j, n = 0, pass;

	ml_schema_release(&f->out);
	free(f->osrc);
	free(f->ov);
	f->osrc = malloc((size_t)(last->ncol ? last->ncol : 1) * sizeof(*f->osrc));
	f->ov = calloc((size_t)(last->ncol ? last->ncol : 1), sizeof(*f->ov));
	if (!f->osrc || !f->ov)
		return ml_err_nomem(e);
	/* Extras are the stage-0 columns past the fit's; they keep their names to the end. */
	for (pass = 0; pass < 2; pass++)
		for (j = 0; j < last->ncol; j++) {
			int s0 = ml_schema_find(&f->st[0].s, last->cols[j].name);
			int extra = s0 >= nfit0;
			if (extra != pass)
				continue;
			if (f->absent >= 0 && f->target &&
			    strcmp(last->cols[j].name, f->target) == 0)
				continue;
			if (ml_schema_add(&f->out, last->cols[j].name, last->cols[j].type) < 0)
				return ml_err_nomem(e);
			f->osrc[n++] = j;
		}
	memset(&f->ob, 0, sizeof(f->ob));
	f->ob.schema = &f->out;
	f->ob.ncol = f->out.ncol;
	f->ob.col = f->ov;
	return 0;
}

static int output_view(struct ml_features *f, struct ml_err *e)
{
	const struct stage *l = &f->st[f->nsteps];
	int j;

	for (j = 0; j < f->out.ncol; j++) {
		f->ov[j] = l->v[f->osrc[j]];
		if (f->out.cols[j].type == ML_CAT) {
			int rc = dict_mirror(&f->out.cols[j].dict, &l->s.cols[f->osrc[j]].dict, e);
			if (rc < 0)
				return rc;
		}
	}
	f->ob.nrow = f->ob.cap = l->n;
	f->ob.line = (long *)l->line;
	return 0;
}

static int run_from(struct ml_features *f, int k0, struct ml_err *e)
{
	int k, rc;

	for (k = k0; k < f->nsteps; k++)
		if ((rc = stage_run(f, k, e)) < 0)
			return rc;
	return output_view(f, e);
}

/* Target classes at fit. */
struct target {
	int col;
	double *y;
	int nclass;
	char **classes;
};

static void target_release(struct target *t)
{
	int k;

	free(t->y);
	for (k = 0; k < t->nclass; k++)
		free(t->classes[k]);
	free(t->classes);
	memset(t, 0, sizeof(*t));
	t->col = -1;
}

static int target_setup(struct target *t, const struct ml_frame *fr, int col, struct ml_err *e)
{
	size_t n = fr->rows.nrow, i;
	const struct ml_col *c = &fr->schema.cols[col];

	t->col = col;
	t->y = malloc((n ? n : 1) * sizeof(*t->y));
	if (!t->y)
		return ml_err_nomem(e);
	if (c->type == ML_CAT) {
		struct ml_dict lv;
		const int32_t *codes = fr->rows.col[col].cat;
		int32_t k, *idx;
		int rc = ml_feat_levels(&c->dict, codes, n, &lv, NULL, e);
		if (rc < 0)
			return rc;
		idx = malloc((size_t)(c->dict.n ? c->dict.n : 1) * sizeof(*idx));
		t->classes = calloc((size_t)(lv.n ? lv.n : 1), sizeof(char *));
		if (!idx || !t->classes) {
			free(idx);
			ml_dict_release(&lv);
			return ml_err_nomem(e);
		}
		t->nclass = lv.n;
		for (k = 0; k < lv.n; k++)
			if (!(t->classes[k] = ml_feat_strdup(lv.str[k]))) {
				free(idx);
				ml_dict_release(&lv);
				return ml_err_nomem(e);
			}
		for (k = 0; k < c->dict.n; k++)
			idx[k] = ml_dict_find(&lv, c->dict.str[k], c->dict.len[k]);
		for (i = 0; i < n; i++)
			t->y[i] = codes[i] < 0 || idx[codes[i]] < 0 ? NAN : (double)idx[codes[i]];
		free(idx);
		ml_dict_release(&lv);
		return 0;
	}
	{
		const double *x = fr->rows.col[col].num;
		double a = NAN, b = NAN;
		int two = 1;
		for (i = 0; i < n && two; i++) {
			if (x[i] != x[i])
				continue;
			if (a != a || x[i] == a)
				a = x[i];
			else if (b != b || x[i] == b)
				b = x[i];
			else
				two = 0;
		}
		if (two && a == a && b == b) {
			char buf[ML_FMT_DOUBLE_MAX + 1];
			double lo = a < b ? a : b, hi = a < b ? b : a;
			t->nclass = 2;
			t->classes = calloc(2, sizeof(char *));
			if (!t->classes)
				return ml_err_nomem(e);
			ml_fmt_double(buf, lo);
			t->classes[0] = ml_feat_strdup(buf);
			ml_fmt_double(buf, hi);
			t->classes[1] = ml_feat_strdup(buf);
			if (!t->classes[0] || !t->classes[1])
				return ml_err_nomem(e);
			for (i = 0; i < n; i++)
				t->y[i] = x[i] != x[i] ? NAN : x[i] == hi ? 1 : 0;
		} else {
			memcpy(t->y, x, n * sizeof(double));
		}
	}
	return 0;
}

/* The columns a step takes: its COLS, or the default set of its type. */
static int choose_cols(struct ml_features *f, struct fstep *s, const struct ml_schema *in,
		       const char *target, struct ml_err *e)
{
	int *idx = NULL, n, k, j, def = 0;
	const char *spec = s->colspec;
	char q[160];

	if (!spec || (strcmp(spec, "all") == 0 && ml_schema_find(in, "all") < 0))
		def = 1;
	if (def) {
		idx = malloc((size_t)(in->ncol ? in->ncol : 1) * sizeof(*idx));
		if (!idx)
			return ml_err_nomem(e);
		for (n = 0, j = 0; j < in->ncol; j++)
			idx[n++] = j;
	} else {
		n = ml_cols_parse(spec, in, 1, &idx, e);
		if (n < 0) {
			char msg[sizeof(e->msg)];
			if (e) {
				snprintf(msg, sizeof(msg), "%s", e->msg);
				ml_err_set(e, n, NULL, 0, 0, "--%s: %s", s->ops->name, msg);
			}
			return n;
		}
		def = spec[0] == '!';
	}
	s->cols = calloc((size_t)(n ? n : 1), sizeof(char *));
	if (!s->cols) {
		free(idx);
		return ml_err_nomem(e);
	}
	s->ncol = 0;
	for (k = 0; k < n; k++) {
		const struct ml_col *c = &in->cols[idx[k]];
		int want = def ? s->deftype : s->acctype;
		int typeok = (want & (c->type == ML_NUM ? FS_NUM : FS_CAT)) != 0;
		int special = is_keep(f, c->name) || (target && strcmp(c->name, target) == 0);
		if (def) {
			if (!typeok || special)
				continue;
		} else {
			ml_feat_quote_col(q, sizeof(q), c->name);
			if (target && strcmp(c->name, target) == 0) {
				free(idx);
				return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
						  "--%s: column '%s' is the target", s->ops->name,
						  q);
			}
			if (is_keep(f, c->name)) {
				free(idx);
				return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
						  "--%s: column '%s' is a --keep column",
						  s->ops->name, q);
			}
			if (!typeok) {
				free(idx);
				if (c->type == ML_CAT)
					return ml_err_set(
					    e, ML_E_USAGE, NULL, 0, 0,
					    "--%s: column '%s' is categorical, not numeric",
					    s->ops->name, q);
				return ml_err_set(
				    e, ML_E_USAGE, NULL, 0, 0,
				    "--%s: column '%s' is numeric, not categorical (read "
				    "it as one with --cat %s)",
				    s->ops->name, q, q);
			}
		}
		if (!(s->cols[s->ncol] = ml_feat_strdup(c->name))) {
			free(idx);
			return ml_err_nomem(e);
		}
		s->ncol++;
	}
	free(idx);
	return 0;
}

static int fit_step(struct ml_features *f, int k, const struct ml_feat_spec *spec,
		    const struct target *t, struct ml_ctx *ctx, struct ml_err *e)
{
	struct fstep *s = &f->steps[k];
	struct stage *a = &f->st[k];
	struct fdata d;
	int rc;

	if ((rc = choose_cols(f, s, &a->s, f->target, e)) < 0)
		return rc;
	if ((rc = step_resolve(s, &a->s, e)) < 0)
		return rc;
	if (s->ops->supervised && !f->target)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "--%s needs the target (-t COL)",
				  s->ops->name);
	memset(&d, 0, sizeof(d));
	d.s = &a->s;
	d.v = a->v;
	d.line = a->line;
	d.n = a->n;
	d.target = f->target ? ml_schema_find(&a->s, f->target) : -1;
	d.y = t->y;
	d.nclass = t->nclass;
	d.classes = t->classes;
	d.spec = spec;
	d.ctx = ctx;
	d.name = spec->name;
	if (s->ops->supervised && t->y) {
		size_t i;
		for (i = 0; i < d.n; i++)
			if (t->y[i] != t->y[i]) {
				char q[160];
				ml_feat_quote_col(q, sizeof(q), f->target);
				return ml_err_set(e, ML_E_DATA, spec->name, ml_feat_line(d.line, i),
						  0, "--%s: the target '%s' is missing",
						  s->ops->name, q);
			}
	}
	if ((rc = s->ops->fit(s, &d, e)) < 0)
		return rc;
	if ((rc = stage_next(f, k, e)) < 0)
		return rc;
	return stage_run(f, k, e);
}

int ml_features_fit(struct ml_features **out, const struct ml_frame *fr,
		    const struct ml_feat_spec *spec, struct ml_ctx *ctx,
		    const struct ml_block **rows, struct ml_err *e)
{
	struct ml_features *f;
	struct target t;
	int rc = 0, k, j, *kidx = NULL;

	*out = NULL;
	memset(&t, 0, sizeof(t));
	t.col = -1;
	if ((rc = ml_features_check(spec, e)) < 0)
		return rc;
	if (fr->rows.nrow == 0)
		return ml_err_set(e, ML_E_DATA, spec->name, 0, 0, "no rows to learn from");
	f = calloc(1, sizeof(*f));
	if (!f)
		return ml_err_nomem(e);
	f->absent = -1;
	ml_schema_init(&f->in);
	ml_schema_init(&f->out);
	for (j = 0; j < fr->schema.ncol; j++)
		if (ml_schema_add(&f->in, fr->schema.cols[j].name, fr->schema.cols[j].type) < 0) {
			rc = ml_err_nomem(e);
			goto fail;
		}
	if (spec->target) {
		int tc = ml_schema_find(&fr->schema, spec->target);
		if (tc < 0) {
			char q[160];
			ml_feat_quote_col(q, sizeof(q), spec->target);
			rc = ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "-t: no column '%s'", q);
			goto fail;
		}
		if (!(f->target = ml_feat_strdup(spec->target))) {
			rc = ml_err_nomem(e);
			goto fail;
		}
		if ((rc = target_setup(&t, fr, tc, e)) < 0)
			goto fail;
	}
	if (spec->keep) {
		int n = ml_cols_parse(spec->keep, &fr->schema, 1, &kidx, e);
		if (n < 0) {
			char msg[sizeof(e->msg)];
			snprintf(msg, sizeof(msg), "%s", e->msg);
			rc = ml_err_set(e, n, NULL, 0, 0, "--keep: %s", msg);
			goto fail;
		}
		f->keep = calloc((size_t)(n ? n : 1), sizeof(char *));
		if (!f->keep) {
			rc = ml_err_nomem(e);
			goto fail;
		}
		for (j = 0; j < n; j++) {
			if (!(f->keep[j] = ml_feat_strdup(fr->schema.cols[kidx[j]].name))) {
				rc = ml_err_nomem(e);
				goto fail;
			}
			f->nkeep++;
		}
	}
	f->steps = calloc((size_t)(spec->nsteps ? spec->nsteps : 1), sizeof(*f->steps));
	if (!f->steps) {
		rc = ml_err_nomem(e);
		goto fail;
	}
	f->nsteps = spec->nsteps; /* only once steps exists: ml_features_free walks it */
	for (k = 0; k < f->nsteps; k++) {
		if ((rc = step_init(&f->steps[k], spec->steps[k].step, spec->steps[k].arg, spec,
				    e)) < 0)
			goto fail;
		if (f->steps[k].holds)
			f->holds = 1;
	}
	/* Stage 0 is the frame itself. */
	if ((rc = stage0(f, &fr->schema, e)) < 0)
		goto fail;
	f->map = malloc((size_t)(fr->schema.ncol ? fr->schema.ncol : 1) * sizeof(*f->map));
	if (!f->map) {
		rc = ml_err_nomem(e);
		goto fail;
	}
	for (j = 0; j < fr->schema.ncol; j++) {
		f->map[j] = j;
		f->st[0].v[j] = fr->rows.col[j];
		if (fr->schema.cols[j].type == ML_CAT &&
		    (rc = dict_mirror(&f->st[0].s.cols[j].dict, &fr->schema.cols[j].dict, e)) < 0)
			goto fail;
	}
	f->st[0].n = fr->rows.nrow;
	f->st[0].line = fr->rows.line;
	f->bin = &fr->schema;
	f->fitting = 1;
	for (k = 0; k < f->nsteps; k++)
		if ((rc = fit_step(f, k, spec, &t, ctx, e)) < 0) {
			if (e && !e->where[0] && e->line > 0 && spec->name)
				snprintf(e->where, sizeof(e->where), "%s", spec->name);
			goto fail;
		}
	f->fitting = 0;
	if ((rc = build_output(f, fr->schema.ncol, e)) < 0 || (rc = output_view(f, e)) < 0)
		goto fail;
	/* the steps' state is the fit pass's: a bind must reset it before any apply */
	f->bound = 0;
	*rows = &f->ob;
	*out = f;
	free(kidx);
	target_release(&t);
	return 0;
fail:
	free(kidx);
	target_release(&t);
	ml_features_free(f);
	return rc;
}

int ml_features_input_schema(const struct ml_features *f, struct ml_schema *s, struct ml_err *e)
{
	int j;

	for (j = 0; j < f->in.ncol; j++)
		if (ml_schema_add(s, f->in.cols[j].name, f->in.cols[j].type) < 0)
			return ml_err_nomem(e);
	return 0;
}

/* Build every stage from stage 0 (no data). */
static int build_stages(struct ml_features *f, const struct ml_schema *s0, struct ml_err *e)
{
	int k, rc;

	if ((rc = stage0(f, s0, e)) < 0)
		return rc;
	for (k = 0; k < f->nsteps; k++) {
		if ((rc = step_resolve(&f->steps[k], &f->st[k].s, e)) < 0)
			return rc;
		if ((rc = stage_next(f, k, e)) < 0)
			return rc;
	}
	return 0;
}

/* Append the strings (NULL-terminated list) to msg, within cap. */
static void append(char *msg, size_t cap, const char *a, const char *b, const char *c,
		   const char *d)
{
	const char *part[4];
	size_t n = strlen(msg);
	int k;

	part[0] = a;
	part[1] = b;
	part[2] = c;
	part[3] = d;
	for (k = 0; k < 4 && part[k]; k++) {
		size_t l = strlen(part[k]);
		if (n + l + 1 >= cap)
			return;
		memcpy(msg + n, part[k], l + 1);
		n += l;
	}
}

int ml_features_bind(struct ml_features *f, const struct ml_schema *in,
		     const struct ml_schema **out, struct ml_err *e)
{
	struct ml_schema s0;
	char missing[400] = "", types[400] = "", q[160];
	int j, rc, nextra = 0;

	stages_release(f);
	f->absent = -1;
	ml_schema_init(&s0);
	for (j = 0; j < f->in.ncol; j++) {
		const struct ml_col *c = &f->in.cols[j];
		int k = ml_schema_find(in, c->name);
		ml_feat_quote_col(q, sizeof(q), c->name);
		if (k < 0) {
			if (f->target && strcmp(c->name, f->target) == 0)
				continue;
			append(missing, sizeof(missing), missing[0] ? ", '" : "'", q, "'", NULL);
		} else if (in->cols[k].type != c->type) {
			append(types, sizeof(types), types[0] ? "; '" : "'", q, "' is ",
			       in->cols[k].type == ML_NUM
				   ? "numeric here but categorical in the pipeline"
				   : "categorical here but numeric in the pipeline");
		}
	}
	if (missing[0] || types[0]) {
		char extra[200] = "";
		if (missing[0])
			for (j = 0; j < in->ncol; j++)
				if (ml_schema_find(&f->in, in->cols[j].name) < 0) {
					ml_feat_quote_col(q, sizeof(q), in->cols[j].name);
					append(extra, sizeof(extra),
					       extra[0] ? ", '"
							: "; columns it was not fitted on: '",
					       q, "'", NULL);
				}
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				  "the input does not match the feature pipeline: %s%s%s%s%s",
				  missing[0] ? "no column " : "", missing,
				  missing[0] && types[0] ? "; " : "", types, extra);
	}
	for (j = 0; j < f->in.ncol; j++)
		if (ml_schema_add(&s0, f->in.cols[j].name, f->in.cols[j].type) < 0)
			goto nomem;
	if (f->extra_pass)
		for (j = 0; j < in->ncol; j++)
			if (ml_schema_find(&f->in, in->cols[j].name) < 0) {
				if (ml_schema_add(&s0, in->cols[j].name, in->cols[j].type) < 0)
					goto nomem;
				nextra++;
			}
	rc = build_stages(f, &s0, e);
	if (rc < 0) {
		ml_schema_release(&s0);
		return rc;
	}
	f->map = malloc((size_t)(s0.ncol ? s0.ncol : 1) * sizeof(*f->map));
	if (!f->map)
		goto nomem;
	for (j = 0; j < s0.ncol; j++) {
		f->map[j] = ml_schema_find(in, s0.cols[j].name);
		if (f->map[j] < 0)
			f->absent = j;
	}
	ml_schema_release(&s0);
	if ((rc = build_output(f, f->in.ncol, e)) < 0)
		return rc;
	(void)nextra;
	f->bin = in;
	f->bound = 1;
	*out = &f->out;
	return 0;
nomem:
	ml_schema_release(&s0);
	return ml_err_nomem(e);
}

int ml_features_apply(struct ml_features *f, const struct ml_block *in, size_t from, size_t to,
		      const struct ml_block **out, struct ml_err *e)
{
	struct stage *a;
	size_t n = to - from, i;
	int j, rc;

	if (!f->bound || f->fitting)
		return ml_err_set(e, ML_E_INTERNAL, NULL, 0, 0, "feature pipeline not bound");
	if (to < from || to > in->nrow)
		return ml_err_set(e, ML_E_INTERNAL, NULL, 0, 0, "rows out of range");
	a = &f->st[0];
	if (f->absent >= 0 && n > f->abscap) {
		void *p = realloc(f->absbuf.num, n * sizeof(double));
		if (!p)
			return ml_err_nomem(e);
		f->absbuf.num = p;
		f->abscap = n;
	}
	for (j = 0; j < a->s.ncol; j++) {
		int src = f->map[j];
		if (src < 0) {
			if (a->s.cols[j].type == ML_NUM)
				for (i = 0; i < n; i++)
					f->absbuf.num[i] = NAN;
			else
				for (i = 0; i < n; i++)
					f->absbuf.cat[i] = ML_MISSING_CAT;
			a->v[j] = f->absbuf;
			continue;
		}
		if (a->s.cols[j].type == ML_NUM) {
			a->v[j].num = in->col[src].num + from;
		} else {
			a->v[j].cat = in->col[src].cat + from;
			if ((rc = dict_mirror(&a->s.cols[j].dict, &f->bin->cols[src].dict, e)) < 0)
				return rc;
		}
	}
	a->n = n;
	a->line = in->line ? in->line + from : NULL;
	if ((rc = run_from(f, 0, e)) < 0)
		return rc;
	*out = &f->ob;
	return 0;
}

/* Append the output view's rows to the finish block. */
static int acc_append(struct ml_features *f, struct ml_err *e)
{
	size_t at = f->acc.nrow, n = f->ob.nrow, i;
	int j, rc;

	if (n == 0)
		return 0;
	if ((rc = ml_block_reserve(&f->acc, at + n, e)) < 0)
		return rc;
	if (f->ob.line && !f->acc.line) {
		f->acc.line = calloc(f->acc.cap, sizeof(long));
		if (!f->acc.line)
			return ml_err_nomem(e);
	}
	for (j = 0; j < f->out.ncol; j++) {
		size_t sz = f->out.cols[j].type == ML_NUM ? sizeof(double) : sizeof(int32_t);
		memcpy((char *)f->acc.col[j].num + at * sz, f->ob.col[j].num, n * sz);
	}
	if (f->acc.line)
		for (i = 0; i < n; i++)
			f->acc.line[at + i] = f->ob.line ? f->ob.line[i] : 0;
	f->acc.nrow += n;
	return 0;
}

int ml_features_finish(struct ml_features *f, const struct ml_block **out, struct ml_err *e)
{
	int k, rc;

	if (!f->bound)
		return ml_err_set(e, ML_E_INTERNAL, NULL, 0, 0, "feature pipeline not bound");
	if (f->acc_init)
		ml_block_release(&f->acc);
	if ((rc = ml_block_init(&f->acc, &f->out, 0, e)) < 0)
		return rc;
	f->acc_init = 1;
	for (k = 0; k < f->nsteps; k++) {
		struct fstep *s = &f->steps[k];
		struct stage *a = &f->st[k], *b = &f->st[k + 1];
		struct fio io;
		if (!s->ops->finish || !s->holds)
			continue;
		if ((rc = stage_sync(f, k, e)) < 0)
			return rc;
		memset(&io, 0, sizeof(io));
		io.in = &a->s;
		io.out = &b->s;
		io.o = b->v;
		if ((rc = s->ops->finish(s, &io, e)) < 0)
			return rc;
		b->n = io.nout;
		b->line = io.oline;
		if ((rc = run_from(f, k + 1, e)) < 0 || (rc = acc_append(f, e)) < 0)
			return rc;
	}
	*out = &f->acc;
	return 0;
}

/* The container. */

static void save_step(const struct fstep *s, struct ml_wbuf *b)
{
	struct ml_wbuf p;
	int j;

	ml_wbuf_u8(b, (uint8_t)s->ops->kind);
	ml_wbuf_str(b, s->arg);
	ml_wbuf_i32(b, s->method);
	ml_wbuf_i32(b, s->unseen);
	ml_wbuf_u32(b, (uint32_t)s->ncol);
	for (j = 0; j < s->ncol; j++)
		ml_wbuf_str(b, s->cols[j]);
	ml_wbuf_init(&p);
	s->ops->save(s, &p);
	if (p.err)
		b->err = p.err;
	ml_wbuf_u64(b, p.n);
	ml_wbuf_put(b, p.p, p.n);
	ml_wbuf_release(&p);
}

static cJSON *names_json(char **names, int n)
{
	cJSON *a = cJSON_CreateArray();
	int j;

	for (j = 0; a && j < n; j++) {
		cJSON *s = cJSON_CreateString(names[j]);
		if (!s || !cJSON_AddItemToArray(a, s)) {
			cJSON_Delete(s);
			cJSON_Delete(a);
			return NULL;
		}
	}
	return a;
}

static cJSON *schema_names_json(const struct ml_schema *sc, int with_types)
{
	cJSON *a = cJSON_CreateArray();
	int j;

	for (j = 0; a && j < sc->ncol; j++) {
		cJSON *o;
		if (with_types) {
			o = cJSON_CreateObject();
			if (o && (!cJSON_AddStringToObject(o, "name", sc->cols[j].name) ||
				  !cJSON_AddStringToObject(
				      o, "type", sc->cols[j].type == ML_NUM ? "num" : "cat"))) {
				cJSON_Delete(o);
				o = NULL;
			}
		} else {
			o = cJSON_CreateString(sc->cols[j].name);
		}
		if (!o || !cJSON_AddItemToArray(a, o)) {
			cJSON_Delete(o);
			cJSON_Delete(a);
			return NULL;
		}
	}
	return a;
}

/* Add x (NULL when it could not be made) to o under key; x is o's or freed. */
static int add_json(cJSON *o, const char *key, cJSON *x)
{
	if (x && cJSON_AddItemToObject(o, key, x))
		return 0;
	cJSON_Delete(x);
	return -1;
}

static int meta_json(const struct ml_features *f, cJSON *meta)
{
	cJSON *steps, *x;
	int k, j;

	if (add_json(meta, "input", schema_names_json(&f->in, 1)) < 0 ||
	    add_json(meta, "target",
		     f->target ? cJSON_CreateString(f->target) : cJSON_CreateNull()) < 0 ||
	    add_json(meta, "keep", names_json(f->keep, f->nkeep)) < 0)
		goto fail;
	steps = cJSON_AddArrayToObject(meta, "steps");
	if (!steps)
		goto fail;
	for (k = 0; k < f->nsteps; k++) {
		const struct fstep *s = &f->steps[k];
		cJSON *o = cJSON_CreateObject(), *made;
		if (!o || !cJSON_AddItemToArray(steps, o)) {
			cJSON_Delete(o);
			goto fail;
		}
		if (!cJSON_AddStringToObject(o, "step", s->ops->name) ||
		    !cJSON_AddStringToObject(o, "arg", s->arg))
			goto fail;
		if (add_json(o, "columns", names_json(s->cols, s->ncol)) < 0)
			goto fail;
		made = cJSON_AddArrayToObject(o, "outputs");
		if (!made)
			goto fail;
		for (j = 0; j < s->nout; j++) {
			const struct fout *u = &s->out[j];
			if (!u->made || (s->holds && ml_fstep_pos(s, u->src) < 0 && u->src >= 0))
				continue;
			if (!(x = cJSON_CreateString(u->name)) || !cJSON_AddItemToArray(made, x))
				goto fail;
		}
		if (s->ops->json && s->ops->json(s, o) < 0)
			goto fail;
	}
	if (add_json(meta, "output", schema_names_json(&f->st[f->nsteps].s, 0)) < 0)
		goto fail;
	return 0;
fail:
	return -1;
}

int ml_features_to_model(const struct ml_features *f, struct ml_model **out, struct ml_err *e)
{
	struct ml_model *m = ml_model_new("features", "pipeline");
	struct ml_wbuf b;
	int j, k, rc;

	*out = NULL;
	if (!m)
		return ml_err_nomem(e);
	ml_wbuf_init(&b);
	ml_wbuf_u32(&b, FEAT_FORMAT);
	ml_wbuf_u32(&b, (uint32_t)f->in.ncol);
	for (j = 0; j < f->in.ncol; j++) {
		ml_wbuf_str(&b, f->in.cols[j].name);
		ml_wbuf_u8(&b, f->in.cols[j].type == ML_CAT);
	}
	ml_wbuf_u8(&b, f->target != NULL);
	if (f->target)
		ml_wbuf_str(&b, f->target);
	ml_wbuf_u32(&b, (uint32_t)f->nkeep);
	for (j = 0; j < f->nkeep; j++)
		ml_wbuf_str(&b, f->keep[j]);
	ml_wbuf_u32(&b, (uint32_t)f->nsteps);
	for (k = 0; k < f->nsteps; k++)
		save_step(&f->steps[k], &b);
	if (b.err) {
		ml_wbuf_release(&b);
		ml_model_free(m);
		return ml_err_nomem(e);
	}
	rc = ml_model_add(m, "feat.pipeline", b.p, b.n, e);
	ml_wbuf_release(&b);
	if (rc == 0 && meta_json(f, ml_model_meta(m)) < 0)
		rc = ml_err_nomem(e);
	if (rc < 0) {
		ml_model_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

static int load_step(struct fstep *s, struct ml_rbuf *b, struct ml_err *e)
{
	uint32_t n, j;
	uint64_t len;
	struct ml_rbuf p;
	int kind = ml_rbuf_u8(b), rc;

	memset(s, 0, sizeof(*s));
	s->ops = ops_by_kind(kind);
	if (b->err || !s->ops)
		return ml_feat_bad(e, "an unknown step");
	s->arg = ml_rbuf_str(b);
	s->method = ml_rbuf_i32(b);
	s->unseen = ml_rbuf_i32(b);
	n = ml_rbuf_u32(b);
	if (!s->arg || b->err || !ml_feat_count(b, n, 4) || s->unseen < 0 || s->unseen > 2)
		return ml_feat_bad_at(b, e, "a step header");
	s->cols = calloc(n ? n : 1, sizeof(char *));
	if (!s->cols)
		return ml_err_nomem(e);
	for (j = 0; j < n; j++) {
		if (!(s->cols[j] = ml_rbuf_str(b)))
			return ml_feat_bad_at(b, e, "a column name");
		s->ncol++;
	}
	len = ml_rbuf_u64(b);
	if (b->err || len > b->n - b->off)
		return ml_feat_bad(e, "a step's length");
	ml_rbuf_init(&p, b->p + b->off, (size_t)len);
	b->off += (size_t)len;
	if ((rc = s->ops->load(s, &p, e)) < 0)
		return rc;
	if (p.err || p.off != p.n) {
		char what[80];
		snprintf(what, sizeof(what), "the --%s step", s->ops->name);
		return ml_feat_bad(e, what);
	}
	return 0;
}

struct ml_features *ml_features_from_model(const struct ml_model *m, struct ml_err *e)
{
	struct ml_features *f;
	struct ml_rbuf b;
	const void *data;
	size_t len;
	uint32_t n, j, ver;
	int rc;

	if (strcmp(ml_model_kind(m), "features") != 0) {
		char q[80];
		ml_err_set(e, ML_E_DATA, NULL, 0, 0, "is a '%s' artefact, not a feature pipeline",
			   ml_err_quote(q, sizeof(q), ml_model_kind(m), strlen(ml_model_kind(m))));
		return NULL;
	}
	if (ml_model_get(m, "feat.pipeline", &data, &len, e) < 0)
		return NULL;
	f = calloc(1, sizeof(*f));
	if (!f) {
		ml_err_nomem(e);
		return NULL;
	}
	f->absent = -1;
	ml_schema_init(&f->in);
	ml_schema_init(&f->out);
	ml_rbuf_init(&b, data, len);
	ver = ml_rbuf_u32(&b);
	if (b.err || ver == 0 || ver > FEAT_FORMAT) {
		if (b.err)
			ml_feat_bad(e, "no header");
		else
			ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				   "the feature pipeline has format %u; this mlfeat reads 1 to %d",
				   ver, FEAT_FORMAT);
		goto fail;
	}
	n = ml_rbuf_u32(&b);
	if (!ml_feat_count(&b, n, 5)) {
		ml_feat_bad(e, "the column count");
		goto fail;
	}
	for (j = 0; j < n; j++) {
		char *name = ml_rbuf_str(&b);
		int type = ml_rbuf_u8(&b);
		if (!name || b.err || type > 1 || ml_schema_find(&f->in, name) >= 0) {
			free(name);
			ml_feat_bad_at(&b, e, "an input column");
			goto fail;
		}
		rc = ml_schema_add(&f->in, name, type ? ML_CAT : ML_NUM);
		free(name);
		if (rc < 0) {
			ml_err_nomem(e);
			goto fail;
		}
	}
	if (ml_rbuf_u8(&b)) {
		f->target = ml_rbuf_str(&b);
		if (!f->target || ml_schema_find(&f->in, f->target) < 0) {
			ml_feat_bad_at(&b, e, "the target");
			goto fail;
		}
	}
	n = ml_rbuf_u32(&b);
	if (!ml_feat_count(&b, n, 4)) {
		ml_feat_bad(e, "the --keep count");
		goto fail;
	}
	f->keep = calloc(n ? n : 1, sizeof(char *));
	if (!f->keep) {
		ml_err_nomem(e);
		goto fail;
	}
	for (j = 0; j < n; j++) {
		if (!(f->keep[j] = ml_rbuf_str(&b))) {
			ml_feat_bad_at(&b, e, "a --keep column");
			goto fail;
		}
		f->nkeep++;
	}
	n = ml_rbuf_u32(&b);
	if (!ml_feat_count(&b, n, 21)) {
		ml_feat_bad(e, "the step count");
		goto fail;
	}
	f->steps = calloc(n ? n : 1, sizeof(*f->steps));
	if (!f->steps) {
		ml_err_nomem(e);
		goto fail;
	}
	for (j = 0; j < n; j++) {
		f->nsteps++;
		if (load_step(&f->steps[j], &b, e) < 0)
			goto fail;
		if (f->steps[j].holds)
			f->holds = 1;
	}
	if (b.err || b.off != b.n) {
		ml_feat_bad(e, "trailing bytes");
		goto fail;
	}
	/* Lay the steps out once now, so that a file whose steps do not fit together fails
	 * here rather than at the first row. */
	if (build_stages(f, &f->in, e) < 0)
		goto fail;
	stages_release(f);
	return f;
fail:
	ml_features_free(f);
	return NULL;
}
