/* Reference profiles: per-column counts, moments, histograms on fixed edges, quantile
 * sketches and category counts, built in one pass, merged, saved as kind "profile". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drift/drift_int.h"
#include "ml/ctx.h"
#include "ml/stats.h"

#define P_MAGIC	  0x46504c4dU /* "MLPF" little-endian */
#define P_VERSION 2 /* 1: the moments alone, without the exact sums */

void ml_profile_opts_init(struct ml_profile_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->bins = 10;
	o->max_categories = 100;
	o->seed = 42;
}

static void pcol_release(struct pcol *c)
{
	int i;

	free(c->name);
	free(c->edge);
	free(c->hist);
	free(c->buf);
	free(c->vals);
	free(c->xs);
	free(c->code_count);
	for (i = 0; i < c->nkept; i++)
		free(c->label[i]);
	free(c->label);
	ml_quantiles_free(c->q);
}

void ml_profile_free(struct ml_profile *p)
{
	int j;

	if (!p)
		return;
	for (j = 0; j < p->ncol; j++)
		pcol_release(&p->col[j]);
	free(p->col);
	free(p);
}

static struct ml_profile *profile_alloc(int ncol, const struct ml_profile_opts *o)
{
	struct ml_profile *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->col = calloc((size_t)(ncol > 0 ? ncol : 1), sizeof(*p->col));
	if (!p->col) {
		free(p);
		return NULL;
	}
	p->ncol = ncol;
	p->bins = o->bins;
	p->max_categories = o->max_categories;
	p->seed = o->seed;
	p->keep = o->keep_values;
	p->no_moments = o->keep_values && o->no_moments;
	p->pool = o->pool;
	return p;
}

static int set_edges(struct pcol *c, const double *edge, int nedge)
{
	c->edge = malloc((size_t)(nedge > 0 ? nedge : 1) * sizeof(double));
	c->hist = calloc((size_t)nedge + 1, sizeof(double));
	if (!c->edge || !c->hist)
		return ML_E_NOMEM;
	if (nedge)
		memcpy(c->edge, edge, (size_t)nedge * sizeof(double));
	c->nedge = nedge;
	c->nbin = nedge + 1;
	c->fixed = 1;
	return 0;
}

struct ml_profile *ml_profile_new(const struct ml_schema *s, const int *cols, int ncol,
				  const struct ml_profile_opts *o, struct ml_err *e)
{
	struct ml_profile *p;
	int j;

	if (!cols)
		ncol = s->ncol;
	if (o->bins < 1 || o->max_categories < 1) {
		ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "bins and categories must be at least 1");
		return NULL;
	}
	if (!(p = profile_alloc(ncol, o))) {
		ml_err_nomem(e);
		return NULL;
	}
	p->schema = s;
	for (j = 0; j < ncol; j++) {
		struct pcol *c = &p->col[j];
		int k = cols ? cols[j] : j;
		c->src = k;
		c->type = s->cols[k].type;
		c->min = INFINITY;
		c->max = -INFINITY;
		if (!(c->name = strdup(s->cols[k].name)))
			goto nomem;
		if (c->type != ML_NUM)
			continue;
		if (!(c->xs = malloc(sizeof(*c->xs))))
			goto nomem;
		ml_xsum_init(c->xs);
		/* a profile that keeps the values needs no sketch of them */
		if (!o->keep_values && !(c->q = ml_quantiles_new(0, o->seed + (uint64_t)j)))
			goto nomem;
		if (o->edges) {
			int r = ml_profile_find(o->edges, c->name);
			const struct pcol *rc = r >= 0 ? &o->edges->col[r] : NULL;
			if (!rc || rc->type != ML_NUM) {
				ml_err_set(e, ML_E_DATA, NULL, 0, 0,
					   rc ? "column '%s' is numeric here but categorical in the reference"
					      : "column '%s' is not in the reference",
					   c->name);
				ml_profile_free(p);
				return NULL;
			}
			if (set_edges(c, rc->edge, rc->nedge) < 0)
				goto nomem;
		}
	}
	return p;
nomem:
	ml_profile_free(p);
	ml_err_nomem(e);
	return NULL;
}

int ml_profile_bin(const double *edge, int nedge, double x)
{
	int lo = 0, hi = nedge;

	if (nedge == 0)
		return 0;
	if (x < edge[0])
		return 0;
	if (x > edge[nedge - 1])
		return nedge;
	/* the count of edges at or below x, at least 1 here */
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (edge[mid] <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < nedge - 1 ? lo : nedge - 1;
}

/* Edges at the quantiles i/bins (numpy's linear interpolation) of the buffered values,
 * duplicates dropped; a single value gives the edge twice, so its bin is [v, v]. */
static int edges_of_sorted(struct pcol *c, const double *v, size_t n, int bins)
{
	double *edge;
	int i, ne = 0, rc;

	if (n == 0) {
		c->fixed = 1;
		c->nbin = 1;
		c->hist = calloc(1, sizeof(double));
		return c->hist ? 0 : ML_E_NOMEM;
	}
	edge = malloc(((size_t)bins + 2) * sizeof(double));
	if (!edge)
		return ML_E_NOMEM;
	for (i = 0; i <= bins; i++) {
		double h = (double)(n - 1) * ((double)i / bins), x;
		size_t lo = (size_t)floor(h);
		x = lo + 1 < n ? v[lo] + (h - (double)lo) * (v[lo + 1] - v[lo]) : v[n - 1];
		if (i == bins)
			x = v[n - 1];
		if (ne == 0 || x > edge[ne - 1])
			edge[ne++] = x;
	}
	if (ne == 1)
		edge[ne++] = edge[0];
	rc = set_edges(c, edge, ne);
	free(edge);
	return rc;
}

static int fix_edges(struct pcol *c, int bins)
{
	double *v = c->buf;
	size_t n = c->nbuf;
	int rc;

	if (ml_drift_sort(v, n) < 0)
		return ML_E_NOMEM;
	if ((rc = edges_of_sorted(c, v, n, bins)) < 0)
		return rc;
	for (size_t k = 0; k < n; k++)
		c->hist[ml_profile_bin(c->edge, c->nedge, v[k])] += 1;
	free(c->buf);
	c->buf = NULL;
	c->nbuf = c->capbuf = 0;
	return 0;
}

static int push(double **v, size_t *n, size_t *cap, double x)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 1024;
		double *t = realloc(*v, nc * sizeof(double));
		if (!t)
			return ML_E_NOMEM;
		*v = t;
		*cap = nc;
	}
	(*v)[(*n)++] = x;
	return 0;
}

/* Count a present value into the sums, the minimum and the maximum. */
static void moments_add(struct pcol *c, double v)
{
	c->count++;
	ml_xsum_add(c->xs, v);
	if (v < c->min)
		c->min = v;
	if (v > c->max)
		c->max = v;
}

/* A profile that keeps the values sums and bins them when it is finished (on the pool's
 * threads), the bins once they are sorted. */
static int add_kept(struct pcol *c, const double *x, size_t n)
{
	size_t i;

	if (c->nvals + n > c->capvals) {
		size_t nc = c->capvals ? c->capvals : 1024;
		double *t;
		while (nc < c->nvals + n)
			nc *= 2;
		if (!(t = realloc(c->vals, nc * sizeof(double))))
			return ML_E_NOMEM;
		c->vals = t;
		c->capvals = nc;
	}
	for (i = 0; i < n; i++) {
		double v = x[i];
		if (isnan(v)) {
			c->missing++;
			continue;
		}
		c->vals[c->nvals++] = v;
	}
	return 0;
}

static int add_num(struct ml_profile *p, struct pcol *c, const double *x, size_t n)
{
	size_t i;

	if (p->keep)
		return add_kept(c, x, n);
	for (i = 0; i < n; i++) {
		double v = x[i];
		if (isnan(v)) {
			c->missing++;
			continue;
		}
		moments_add(c, v);
		if (c->q && ml_quantiles_add(c->q, v) < 0)
			return ML_E_NOMEM;
		if (c->fixed) {
			c->hist[ml_profile_bin(c->edge, c->nedge, v)] += 1;
		} else {
			if (push(&c->buf, &c->nbuf, &c->capbuf, v) < 0)
				return ML_E_NOMEM;
			if (c->nbuf == ML_PROFILE_EDGE_ROWS && fix_edges(c, p->bins) < 0)
				return ML_E_NOMEM;
		}
	}
	return 0;
}

static int add_cat(struct pcol *c, const int32_t *x, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int32_t v = x[i];
		if (v < 0) {
			c->missing++;
			continue;
		}
		c->count++;
		if ((size_t)v >= c->ncode) {
			size_t nc = c->ncode ? c->ncode : 64, k;
			double *t;
			while (nc <= (size_t)v)
				nc *= 2;
			t = realloc(c->code_count, nc * sizeof(double));
			if (!t)
				return ML_E_NOMEM;
			for (k = c->ncode; k < nc; k++)
				t[k] = 0;
			c->code_count = t;
			c->ncode = nc;
		}
		c->code_count[v] += 1;
	}
	return 0;
}

int ml_profile_add(struct ml_profile *p, const struct ml_block *b, size_t from, size_t to,
		   struct ml_err *e)
{
	int j;

	for (j = 0; j < p->ncol; j++) {
		struct pcol *c = &p->col[j];
		int rc = c->type == ML_NUM ? add_num(p, c, b->col[c->src].num + from, to - from)
					   : add_cat(c, b->col[c->src].cat + from, to - from);
		if (rc < 0)
			return ml_err_nomem(e);
	}
	p->rows += to - from;
	return 0;
}

struct lc {
	char *label;
	double count;
};

static int cmp_lc(const void *a, const void *b)
{
	const struct lc *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->label, y->label);
}

/* Keep the max most frequent labels (ties by bytes), the rest and 'other' in the last
 * bin. Takes the labels of l. */
static int keep_top(struct pcol *c, struct lc *l, size_t n, double other, int max)
{
	size_t i, kept;

	qsort(l, n, sizeof(*l), cmp_lc);
	kept = n < (size_t)max ? n : (size_t)max;
	c->label = malloc((kept ? kept : 1) * sizeof(char *));
	c->hist = malloc((kept + 1) * sizeof(double));
	if (!c->label || !c->hist) {
		for (i = 0; i < n; i++)
			free(l[i].label);
		free(c->label);
		free(c->hist);
		c->label = NULL;
		c->hist = NULL;
		return ML_E_NOMEM;
	}
	for (i = 0; i < n; i++) {
		if (i < kept) {
			c->label[i] = l[i].label;
			c->hist[i] = l[i].count;
		} else {
			other += l[i].count;
			free(l[i].label);
		}
	}
	c->nkept = (int)kept;
	c->hist[kept] = other;
	c->nbin = (int)kept + 1;
	return 0;
}

static int finish_cat(const struct ml_profile *p, struct pcol *c, const struct ml_dict *d)
{
	struct lc *l;
	size_t i, n = 0;
	int rc;

	l = malloc((c->ncode ? c->ncode : 1) * sizeof(*l));
	if (!l)
		return ML_E_NOMEM;
	for (i = 0; i < c->ncode; i++) {
		if (!(c->code_count[i] > 0))
			continue;
		if (!(l[n].label = strdup(d->str[i]))) {
			while (n > 0)
				free(l[--n].label);
			free(l);
			return ML_E_NOMEM;
		}
		l[n++].count = c->code_count[i];
	}
	rc = keep_top(c, l, n, 0, p->max_categories);
	free(l);
	free(c->code_count);
	c->code_count = NULL;
	c->ncode = 0;
	return rc;
}

/* A kept column: its edges from its first ML_PROFILE_EDGE_ROWS values (as a profile that
 * streams takes them) unless they are fixed, its values sorted, then each bin's count as
 * the run of sorted values that fall in it. */
static int finish_kept(struct ml_profile *p, struct pcol *c)
{
	size_t n = c->nvals, i = 0, lo, hi;
	int b, rc;

	/* in the order they came, as a profile that streams counts them */
	for (i = 0; i < n && !p->no_moments; i++)
		moments_add(c, c->vals[i]);
	for (i = 0; i < n && p->no_moments; i++) {
		if (c->vals[i] < c->min)
			c->min = c->vals[i];
		if (c->vals[i] > c->max)
			c->max = c->vals[i];
	}
	if (p->no_moments)
		c->count = n;
	i = 0;
	if (!c->fixed && n > ML_PROFILE_EDGE_ROWS) {
		double *first = malloc(ML_PROFILE_EDGE_ROWS * sizeof(double));
		if (!first)
			return ML_E_NOMEM;
		memcpy(first, c->vals, ML_PROFILE_EDGE_ROWS * sizeof(double));
		rc = ml_drift_sort(first, ML_PROFILE_EDGE_ROWS);
		if (rc == 0)
			rc = edges_of_sorted(c, first, ML_PROFILE_EDGE_ROWS, p->bins);
		free(first);
		if (rc < 0)
			return rc;
	}
	if ((rc = ml_drift_sort(c->vals, n)) < 0)
		return rc;
	/* every value fixes the edges: they are sorted already */
	if (!c->fixed && (rc = edges_of_sorted(c, c->vals, n, p->bins)) < 0)
		return rc;
	for (b = 0; b < c->nbin; b++) {
		/* the first value past bin b: the bin is monotone in the value */
		for (lo = i, hi = n; lo < hi;) {
			size_t mid = lo + (hi - lo) / 2;
			if (ml_profile_bin(c->edge, c->nedge, c->vals[mid]) <= b)
				lo = mid + 1;
			else
				hi = mid;
		}
		c->hist[b] = (double)(lo - i);
		i = lo;
	}
	return 0;
}

/* The moments from the exact sums, rounded once; from the moments of a profile of
 * version 1, the variance. -1 for sums no values have. */
static int derive(struct pcol *c)
{
	if (c->xs)
		return ml_xsum_moments(c->xs, c->count, &c->mean, &c->m2, &c->var);
	c->var = c->count > 1 ? c->m2 / (double)(c->count - 1) : NAN;
	return 0;
}

struct finish_job {
	struct ml_profile *p;
	int *rc;
};

static void finish_task(void *arg, size_t task, int worker)
{
	struct finish_job *J = arg;
	struct ml_profile *p = J->p;
	struct pcol *c = &p->col[task];
	int rc = 0;

	(void)worker;
	if (c->type == ML_NUM) {
		rc = p->keep ? finish_kept(p, c) : c->fixed ? 0 : fix_edges(c, p->bins);
		if (p->no_moments)
			c->mean = c->m2 = c->var = NAN;
		else
			derive(c);
	} else
		rc = finish_cat(p, c, &p->schema->cols[c->src].dict);
	J->rc[task] = rc;
}

int ml_profile_finish(struct ml_profile *p, struct ml_err *e)
{
	struct finish_job J;
	int j, rc = 0;

	if (p->finished)
		return 0;
	J.p = p;
	if (!(J.rc = calloc((size_t)(p->ncol ? p->ncol : 1), sizeof(int))))
		return ml_err_nomem(e);
	/* the columns are independent: the result does not depend on the threads */
	ml_pool_run(p->pool, (size_t)p->ncol, finish_task, &J);
	for (j = 0; j < p->ncol; j++)
		if (J.rc[j] < 0)
			rc = J.rc[j];
	free(J.rc);
	if (rc < 0)
		return ml_err_nomem(e);
	p->schema = NULL;
	p->finished = 1;
	return 0;
}

int ml_profile_compatible(const struct ml_profile *a, const struct ml_profile *b,
			  struct ml_err *e)
{
	int j, k;

	if (a->keep || b->keep)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "profiles that keep their values do not merge");
	if (a->ncol != b->ncol)
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "profiles of %d and %d columns", a->ncol,
				  b->ncol);
	for (j = 0; j < a->ncol; j++) {
		const struct pcol *x = &a->col[j], *y = &b->col[j];
		if (strcmp(x->name, y->name) != 0)
			return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
					  "column %d is '%s' in one profile and '%s' in the other", j + 1,
					  x->name, y->name);
		if (x->type != y->type)
			return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
					  "column '%s' is numeric in one profile and categorical in the other",
					  x->name);
		if (x->type != ML_NUM)
			continue;
		for (k = 0; k < x->nedge && x->nedge == y->nedge; k++)
			if (x->edge[k] != y->edge[k])
				break;
		if (x->nedge != y->nedge || k < x->nedge)
			return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
					  "column '%s' has other bin edges in each profile (profile the pieces with --bins-from the same profile)",
					  x->name);
	}
	if (a->max_categories != b->max_categories)
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				  "profiles kept %d and %d categories per column", a->max_categories,
				  b->max_categories);
	return 0;
}

static int merge_cat(struct pcol *d, const struct pcol *s, int max)
{
	size_t n = 0, i;
	int k;
	struct lc *l = malloc(((size_t)d->nkept + (size_t)s->nkept + 1) * sizeof(*l));
	double other = d->hist[d->nkept] + s->hist[s->nkept];
	int rc;

	if (!l)
		return ML_E_NOMEM;
	for (k = 0; k < d->nkept; k++) {
		l[n].label = d->label[k];
		l[n++].count = d->hist[k];
	}
	for (k = 0; k < s->nkept; k++) {
		for (i = 0; i < (size_t)d->nkept; i++)
			if (strcmp(l[i].label, s->label[k]) == 0)
				break;
		if (i < (size_t)d->nkept) {
			l[i].count += s->hist[k];
			continue;
		}
		if (!(l[n].label = strdup(s->label[k]))) {
			for (i = (size_t)d->nkept; i < n; i++)
				free(l[i].label);
			free(l);
			return ML_E_NOMEM;
		}
		l[n++].count = s->hist[k];
	}
	/* d's labels are l's now: d keeps none until keep_top gives them back */
	free(d->label);
	free(d->hist);
	d->label = NULL;
	d->hist = NULL;
	d->nkept = 0;
	d->nbin = 0;
	rc = keep_top(d, l, n, other, max);
	free(l);
	return rc;
}

/* The moments of d and s as those of their union, when one of them has no exact sums. */
static void chan_merge(struct pcol *d, const struct pcol *s)
{
	double delta = s->mean - d->mean, n = (double)(d->count + s->count);

	if (d->count == 0) {
		d->mean = s->mean;
		d->m2 = s->m2;
		return;
	}
	d->mean += delta * ((double)s->count / n);
	d->m2 += s->m2 + delta * delta * ((double)d->count * (double)s->count / n);
}

int ml_profile_merge(struct ml_profile *dst, const struct ml_profile *src, struct ml_err *e)
{
	int j, rc;

	if ((rc = ml_profile_compatible(dst, src, e)) < 0)
		return rc;
	for (j = 0; j < dst->ncol; j++) {
		struct pcol *d = &dst->col[j];
		const struct pcol *s = &src->col[j];
		uint64_t n = d->count + s->count;
		if (d->type == ML_NUM && s->count) {
			if (d->xs && s->xs) {
				ml_xsum_merge(d->xs, s->xs);
			} else {
				chan_merge(d, s);
				free(d->xs);
				d->xs = NULL;
			}
			if (s->min < d->min)
				d->min = s->min;
			if (s->max > d->max)
				d->max = s->max;
			for (int k = 0; k < d->nbin; k++)
				d->hist[k] += s->hist[k];
			if (ml_quantiles_merge(d->q, s->q) < 0)
				return ml_err_nomem(e);
		} else if (d->type == ML_CAT && merge_cat(d, s, dst->max_categories) < 0) {
			return ml_err_nomem(e);
		}
		d->count = n;
		d->missing += s->missing;
		if (d->type == ML_NUM)
			derive(d);
	}
	dst->rows += src->rows;
	return 0;
}

int ml_profile_ncol(const struct ml_profile *p)
{
	return p->ncol;
}

uint64_t ml_profile_rows(const struct ml_profile *p)
{
	return p->rows;
}

const char *ml_profile_col_name(const struct ml_profile *p, int j)
{
	return p->col[j].name;
}

enum ml_type ml_profile_col_type(const struct ml_profile *p, int j)
{
	return p->col[j].type;
}

int ml_profile_find(const struct ml_profile *p, const char *name)
{
	int j;

	for (j = 0; j < p->ncol; j++)
		if (strcmp(p->col[j].name, name) == 0)
			return j;
	return -1;
}

void ml_profile_col(const struct ml_profile *p, int j, struct ml_profile_col *o)
{
	const struct pcol *c = &p->col[j];

	memset(o, 0, sizeof(*o));
	o->name = c->name;
	o->type = c->type;
	o->count = c->count;
	o->missing = c->missing;
	o->mean = c->count ? c->mean : NAN;
	o->m2 = c->m2;
	o->var = c->var;
	o->min = c->count ? c->min : NAN;
	o->max = c->count ? c->max : NAN;
	o->nedge = c->nedge;
	o->edge = c->edge;
	o->nbin = c->nbin;
	o->hist = c->hist;
	o->label = c->label;
	o->q = c->q;
}

const double *ml_profile_values(const struct ml_profile *p, int j, size_t *n)
{
	*n = p->col[j].vals ? p->col[j].nvals : 0;
	return p->col[j].vals;
}

/* Serialisation: see ml-model(5) and mldrift(1) for the layout of section "profile". */
static void save_col(const struct pcol *c, struct ml_wbuf *b)
{
	int k;

	ml_wbuf_str(b, c->name);
	ml_wbuf_u8(b, (uint8_t)c->type);
	ml_wbuf_u64(b, c->count);
	ml_wbuf_u64(b, c->missing);
	if (c->type == ML_NUM) {
		struct ml_wbuf q;
		ml_wbuf_f64(b, c->mean);
		ml_wbuf_f64(b, c->m2);
		ml_wbuf_f64(b, c->min);
		ml_wbuf_f64(b, c->max);
		ml_wbuf_u8(b, c->xs != NULL);
		if (c->xs)
			ml_xsum_save(c->xs, b);
		ml_wbuf_u32(b, (uint32_t)c->nedge);
		ml_wbuf_f64v(b, c->edge, (size_t)c->nedge);
		ml_wbuf_f64v(b, c->hist, (size_t)c->nbin);
		ml_wbuf_init(&q);
		ml_quantiles_save(c->q, &q);
		if (q.err)
			b->err = q.err;
		ml_wbuf_u64(b, q.n);
		ml_wbuf_put(b, q.p, q.n);
		ml_wbuf_release(&q);
		return;
	}
	ml_wbuf_u32(b, (uint32_t)c->nkept);
	for (k = 0; k < c->nkept; k++)
		ml_wbuf_str(b, c->label[k]);
	ml_wbuf_f64v(b, c->hist, (size_t)c->nbin);
}

struct ml_model *ml_profile_to_model(const struct ml_profile *p, struct ml_err *e)
{
	struct ml_model *m = ml_model_new("profile", "drift");
	struct ml_wbuf b;
	char num[64];
	int j;

	if (!m) {
		ml_err_nomem(e);
		return NULL;
	}
	if (p->keep) {
		ml_model_free(m);
		ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "a profile that keeps its values is not saved");
		return NULL;
	}
	ml_wbuf_init(&b);
	ml_wbuf_u32(&b, P_MAGIC);
	ml_wbuf_u32(&b, P_VERSION);
	ml_wbuf_u64(&b, p->rows);
	ml_wbuf_u32(&b, (uint32_t)p->ncol);
	ml_wbuf_u32(&b, (uint32_t)p->bins);
	ml_wbuf_u32(&b, (uint32_t)p->max_categories);
	for (j = 0; j < p->ncol; j++)
		save_col(&p->col[j], &b);
	if (b.err || ml_model_add(m, "profile", b.p, b.n, e) < 0)
		goto fail;
	snprintf(num, sizeof(num), "%llu", (unsigned long long)p->rows);
	if (ml_model_meta_set(m, "rows", num, e) < 0)
		goto fail;
	snprintf(num, sizeof(num), "%d", p->bins);
	if (ml_model_meta_set(m, "bins", num, e) < 0)
		goto fail;
	snprintf(num, sizeof(num), "%d", p->max_categories);
	if (ml_model_meta_set(m, "max_categories", num, e) < 0)
		goto fail;
	if (ml_drift_meta_columns(m, p, e) < 0)
		goto fail;
	ml_wbuf_release(&b);
	return m;
fail:
	if (b.err)
		ml_err_nomem(e);
	ml_wbuf_release(&b);
	ml_model_free(m);
	return NULL;
}

static int bad(struct ml_err *e, const char *name, const char *what)
{
	return ml_err_set(e, ML_E_DATA, name, 0, 0, "not a valid profile: %s", what);
}

/* The same, or out of memory when that is why reading b failed (a string's allocation). */
static int bad_at(const struct ml_rbuf *b, struct ml_err *e, const char *name, const char *what)
{
	return b->err == ML_E_NOMEM ? ml_err_nomem(e) : bad(e, name, what);
}

static int load_col(struct pcol *c, struct ml_rbuf *b, uint32_t version, const char *name,
		    struct ml_err *e)
{
	uint8_t t;
	size_t n;
	int k;

	if (!(c->name = ml_rbuf_str(b)))
		return bad_at(b, e, name, "truncated");
	t = ml_rbuf_u8(b);
	if (t > 1)
		return bad(e, name, "unknown column type");
	c->type = t ? ML_CAT : ML_NUM;
	c->count = ml_rbuf_u64(b);
	c->missing = ml_rbuf_u64(b);
	if (c->type == ML_NUM) {
		uint64_t qlen;
		struct ml_rbuf q;
		c->mean = ml_rbuf_f64(b);
		c->m2 = ml_rbuf_f64(b);
		c->min = ml_rbuf_f64(b);
		c->max = ml_rbuf_f64(b);
		/* version 1 has the moments alone; 2 says whether the exact sums follow */
		if (version >= 2 && ml_rbuf_u8(b)) {
			if (!(c->xs = malloc(sizeof(*c->xs))))
				return ml_err_nomem(e);
			if (ml_xsum_load(c->xs, b) < 0 || derive(c) < 0)
				return bad_at(b, e, name, "bad exact sums");
		} else {
			derive(c);
		}
		c->nedge = (int)ml_rbuf_u32(b);
		if (c->nedge < 0 || c->nedge > 1 << 20)
			return bad(e, name, "bin count out of range");
		n = ml_rbuf_count(b, (uint64_t)c->nedge * 2 + 1, sizeof(double));
		if (b->err)
			return bad(e, name, "truncated");
		(void)n;
		c->nbin = c->nedge + 1;
		c->edge = malloc((size_t)(c->nedge ? c->nedge : 1) * sizeof(double));
		c->hist = malloc((size_t)c->nbin * sizeof(double));
		if (!c->edge || !c->hist)
			return ml_err_nomem(e);
		ml_rbuf_f64v(b, c->edge, (size_t)c->nedge);
		ml_rbuf_f64v(b, c->hist, (size_t)c->nbin);
		for (k = 1; k < c->nedge; k++)
			if (!(c->edge[k] >= c->edge[k - 1]))
				return bad(e, name, "bin edges out of order");
		qlen = ml_rbuf_u64(b);
		if (b->err || ml_rbuf_count(b, qlen, 1) != qlen || b->err)
			return bad(e, name, "truncated");
		ml_rbuf_init(&q, b->p + b->off, (size_t)qlen);
		b->off += (size_t)qlen;
		if (!(c->q = ml_quantiles_load(&q, e)))
			return e && e->code ? e->code : bad(e, name, "bad quantile sketch");
		if (ml_quantiles_count(c->q) != c->count)
			return bad(e, name, "sketch and count disagree");
		c->fixed = 1;
	} else {
		/* the count is kept only once its labels exist: the release walks them */
		int nkept = (int)ml_rbuf_u32(b);
		if (nkept < 0 || (ml_rbuf_count(b, (uint64_t)nkept, 4) == 0 && nkept))
			return bad(e, name, "truncated");
		c->label = calloc((size_t)(nkept ? nkept : 1), sizeof(char *));
		if (!c->label)
			return ml_err_nomem(e);
		for (k = 0; k < nkept; k++, c->nkept = k)
			if (!(c->label[k] = ml_rbuf_str(b)))
				return bad_at(b, e, name, "truncated");
		c->nbin = c->nkept + 1;
		if (ml_rbuf_count(b, (uint64_t)c->nbin, sizeof(double)) == 0)
			return bad(e, name, "truncated");
		if (!(c->hist = malloc((size_t)c->nbin * sizeof(double))))
			return ml_err_nomem(e);
		ml_rbuf_f64v(b, c->hist, (size_t)c->nbin);
	}
	if (b->err)
		return bad(e, name, "truncated");
	{
		double s = 0;
		for (k = 0; k < c->nbin; k++) {
			if (!(c->hist[k] >= 0))
				return bad(e, name, "negative count");
			s += c->hist[k];
		}
		if (s != (double)c->count)
			return bad(e, name, "histogram and count disagree");
	}
	return 0;
}

struct ml_profile *ml_profile_from_model(const struct ml_model *m, const char *name,
					 struct ml_err *e)
{
	struct ml_profile_opts o;
	struct ml_profile *p = NULL;
	const void *data;
	size_t len;
	struct ml_rbuf b;
	uint32_t ncol, version;
	int j;

	if (strcmp(ml_model_kind(m), "profile") != 0) {
		ml_err_set(e, ML_E_DATA, name, 0, 0, "not a profile but a '%s' artefact",
			   ml_model_kind(m));
		return NULL;
	}
	if (ml_model_get(m, "profile", &data, &len, e) < 0) {
		bad(e, name, "no section 'profile'");
		return NULL;
	}
	ml_rbuf_init(&b, data, len);
	if (ml_rbuf_u32(&b) != P_MAGIC) {
		bad(e, name, "bad magic");
		return NULL;
	}
	version = ml_rbuf_u32(&b);
	if (version < 1 || version > P_VERSION) {
		ml_err_set(e, ML_E_DATA, name, 0, 0,
			   "not a valid profile: unknown version %u (versions 1 to %d are read)",
			   version, P_VERSION);
		return NULL;
	}
	ml_profile_opts_init(&o);
	{
		uint64_t rows = ml_rbuf_u64(&b);
		ncol = ml_rbuf_u32(&b);
		o.bins = (int)ml_rbuf_u32(&b);
		o.max_categories = (int)ml_rbuf_u32(&b);
		if (b.err || ncol > (1u << 24) || o.bins < 1 || o.max_categories < 1) {
			bad(e, name, "bad header");
			return NULL;
		}
		if (!(p = profile_alloc((int)ncol, &o))) {
			ml_err_nomem(e);
			return NULL;
		}
		p->rows = rows;
	}
	for (j = 0; j < p->ncol; j++) {
		int rc = load_col(&p->col[j], &b, version, name, e);
		if (rc < 0)
			goto fail;
		if (p->col[j].count + p->col[j].missing != p->rows) {
			bad(e, name, "column counts and row count disagree");
			goto fail;
		}
	}
	if (b.off != b.n) {
		bad(e, name, "trailing bytes");
		goto fail;
	}
	p->finished = 1;
	return p;
fail:
	if (e && e->code == ML_E_DATA && !e->where[0])
		snprintf(e->where, sizeof(e->where), "%s", name ? name : "");
	ml_profile_free(p);
	return NULL;
}

int ml_quantiles_items(const struct ml_quantiles *q, double **v, double **w, size_t *n,
		       struct ml_err *e)
{
	return ml_drift_sketch_items(q, v, w, n, e);
}
