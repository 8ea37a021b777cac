/* Rows grouped by a column's values, in sorted order, and subsets of an evaluation data
 * set's rows (the rows of one group). */
#include <stdlib.h>
#include <string.h>

#include "ml/eval.h"
#include "ml/num.h"

void ml_groups_init(struct ml_groups *g)
{
	memset(g, 0, sizeof(*g));
}

void ml_groups_release(struct ml_groups *g)
{
	int i;

	for (i = 0; g->name && i < g->n; i++)
		free(g->name[i]);
	free(g->name);
	free(g->start);
	free(g->rows);
	ml_groups_init(g);
}

struct gkey {
	int32_t id;
	const char *s;
};

static int gkey_cmp(const void *a, const void *b)
{
	const struct gkey *p = a, *q = b;

	return strcmp(p->s, q->s);
}

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* A copy of len bytes of s as group k's name. */
static int set_name(struct ml_groups *g, int k, const char *s, size_t len)
{
	if (!(g->name[k] = malloc(len + 1)))
		return -1;
	memcpy(g->name[k], s, len);
	g->name[k][len] = 0;
	return 0;
}

/* Categorical values: the codes in use, sorted by bytes. */
static int cat_groups(struct ml_groups *g, const struct ml_labcol *col, size_t n, int32_t *gid,
		      struct ml_err *e)
{
	const struct ml_dict *d = col->dict;
	int32_t *rank = malloc((size_t)(d->n ? d->n : 1) * sizeof(*rank));
	struct gkey *k = malloc((size_t)(d->n ? d->n : 1) * sizeof(*k));
	char *used = calloc((size_t)(d->n ? d->n : 1), 1);
	int ng = 0, i, rc = 0;
	size_t r;

	if (!rank || !k || !used) {
		rc = ml_err_nomem(e);
		goto out;
	}
	for (r = 0; r < n; r++)
		used[col->code[r]] = 1;
	for (i = 0; i < d->n; i++)
		if (used[i]) {
			k[ng].id = i;
			k[ng].s = d->str[i];
			ng++;
		}
	qsort(k, (size_t)ng, sizeof(*k), gkey_cmp);
	for (i = 0; i < ng; i++)
		rank[k[i].id] = i;
	if (!(g->name = calloc((size_t)(ng ? ng : 1), sizeof(*g->name)))) {
		rc = ml_err_nomem(e);
		goto out;
	}
	for (i = 0; i < ng; i++, g->n++)
		if (set_name(g, i, k[i].s, d->len[k[i].id]) < 0) {
			rc = ml_err_nomem(e);
			goto out;
		}
	for (r = 0; r < n; r++)
		gid[r] = rank[col->code[r]];
out:
	free(rank);
	free(k);
	free(used);
	return rc;
}

/* Numeric values: the distinct values in order. */
static int num_groups(struct ml_groups *g, const struct ml_labcol *col, size_t n, int32_t *gid,
		      struct ml_err *e)
{
	double *vals = malloc((n ? n : 1) * sizeof(double));
	size_t nv = 0, i;
	int k;

	if (!vals)
		return ml_err_nomem(e);
	memcpy(vals, col->num, n * sizeof(double));
	qsort(vals, n, sizeof(double), dbl_cmp);
	for (i = 0; i < n; i++)
		if (i == 0 || vals[i] != vals[nv - 1])
			vals[nv++] = vals[i] + 0.0;
	if (!(g->name = calloc(nv ? nv : 1, sizeof(*g->name)))) {
		free(vals);
		return ml_err_nomem(e);
	}
	for (k = 0; k < (int)nv; k++, g->n++) {
		char buf[ML_FMT_DOUBLE_MAX + 1];
		size_t len = ml_fmt_double(buf, vals[k]);
		if (set_name(g, k, buf, len) < 0) {
			free(vals);
			return ml_err_nomem(e);
		}
	}
	for (i = 0; i < n; i++) {
		double x = col->num[i];
		size_t lo = 0, hi = nv - 1;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (vals[mid] < x)
				lo = mid + 1;
			else
				hi = mid;
		}
		gid[i] = (int32_t)lo;
	}
	free(vals);
	return 0;
}

/* Counting sort of the rows by group. */
static int sort_rows(struct ml_groups *g, const int32_t *gid, size_t n, struct ml_err *e)
{
	size_t *at, i;
	int k;

	g->start = calloc((size_t)g->n + 1, sizeof(*g->start));
	g->rows = malloc((n ? n : 1) * sizeof(*g->rows));
	at = malloc(((size_t)g->n + 1) * sizeof(*at));
	if (!g->start || !g->rows || !at) {
		free(at);
		return ml_err_nomem(e);
	}
	for (i = 0; i < n; i++)
		g->start[gid[i] + 1]++;
	for (k = 0; k < g->n; k++)
		g->start[k + 1] += g->start[k];
	memcpy(at, g->start, ((size_t)g->n + 1) * sizeof(*at));
	for (i = 0; i < n; i++)
		g->rows[at[gid[i]]++] = i;
	free(at);
	return 0;
}

int ml_groups_build(struct ml_groups *g, const struct ml_labcol *c, size_t n, struct ml_err *e)
{
	int32_t *gid = malloc((n ? n : 1) * sizeof(*gid));
	int rc;

	if (!gid)
		return ml_err_nomem(e);
	rc = c->dict ? cat_groups(g, c, n, gid, e) : num_groups(g, c, n, gid, e);
	if (rc == 0)
		rc = sort_rows(g, gid, n, e);
	free(gid);
	return rc;
}

/* --- Subsets ------------------------------------------------------------------------------- */

void ml_subset_init(struct ml_subset *s)
{
	memset(s, 0, sizeof(*s));
}

void ml_subset_release(struct ml_subset *s)
{
	int c;

	for (c = 0; s->prob && c < s->k; c++)
		free(s->prob[c]);
	free(s->prob);
	free(s->truth);
	free(s->pred);
	free(s->y);
	free(s->p);
	free(s->w);
	ml_subset_init(s);
}

int ml_subset_classify(struct ml_subset *s, const struct ml_cls_data *d, const size_t *rows,
		       size_t m, struct ml_err *e)
{
	size_t r, sz = m ? m : 1;
	int c;

	s->k = d->k;
	s->truth = malloc(sz * sizeof(int32_t));
	s->pred = malloc(sz * sizeof(int32_t));
	if (!s->truth || !s->pred || (d->w && !(s->w = malloc(sz * sizeof(double)))))
		return ml_err_nomem(e);
	if (d->prob && !(s->prob = calloc((size_t)(d->k ? d->k : 1), sizeof(double *))))
		return ml_err_nomem(e);
	for (c = 0; d->prob && c < d->k; c++)
		if (d->prob[c] && !(s->prob[c] = malloc(sz * sizeof(double))))
			return ml_err_nomem(e);
	for (r = 0; r < m; r++) {
		size_t src = rows[r];
		if (s->w)
			s->w[r] = d->w[src];
		s->truth[r] = d->truth[src];
		s->pred[r] = d->pred[src];
		for (c = 0; s->prob && c < d->k; c++)
			if (s->prob[c])
				s->prob[c][r] = d->prob[c][src];
	}
	s->cls = *d;
	s->cls.n = m;
	s->cls.truth = s->truth;
	s->cls.pred = s->pred;
	s->cls.prob = (const double *const *)s->prob;
	s->cls.w = s->w;
	return 0;
}

int ml_subset_regress(struct ml_subset *s, const struct ml_reg_data *d, const size_t *rows,
		      size_t m, struct ml_err *e)
{
	size_t r, sz = m ? m : 1;

	s->y = malloc(sz * sizeof(double));
	s->p = malloc(sz * sizeof(double));
	if (!s->y || !s->p || (d->w && !(s->w = malloc(sz * sizeof(double)))))
		return ml_err_nomem(e);
	for (r = 0; r < m; r++) {
		size_t src = rows[r];
		if (s->w)
			s->w[r] = d->w[src];
		s->y[r] = d->y[src];
		s->p[r] = d->p[src];
	}
	s->reg.n = m;
	s->reg.y = s->y;
	s->reg.p = s->p;
	s->reg.w = s->w;
	return 0;
}
