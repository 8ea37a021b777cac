/* Feature steps on numbers: impute, scale, log, power (Yeo-Johnson, Box-Cox), clip. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feat_int.h"
#include "ml/num.h"

/* ---------------------------------------------------------------- impute */

enum { IM_MEAN, IM_MEDIAN, IM_MODE, IM_CONSTANT, IM_FFILL, IM_INTERP };

static const char *const im_names[] = {"mean",	   "median", "mode",
				       "constant", "ffill",  "interpolate"};

struct imcol {
	int type;	 /* ML_NUM or ML_CAT */
	int had_missing; /* at fit: the column gets an indicator */
	double fill;	 /* numeric fill (fallback for ffill and interpolate) */
	char *sfill;	 /* categorical fill, or NULL */
	/* runtime */
	struct fmap map;  /* categorical: input code -> output code */
	int32_t fillcode; /* output code of sfill, -1 until interned */
};

struct impute {
	int indicator;
	char *constant; /* constant=V: V */
	char *group;	/* --group-col, or NULL */
	char *time;	/* --time-col (interpolate), or NULL */
	int ncol;
	struct imcol *c;
	/* layout */
	int gcol, tcol;
	int *ind; /* step column -> output index of its indicator, or -1 */
	/* ffill: last value per (group, column) */
	struct fgroups groups;
	double *last;
	size_t nlast;
	/* interpolate: rows held until every missing value has its next present value */
	size_t hn, hcap;     /* rows held */
	union ml_colv *hold; /* per input column */
	long *hline;
	double *hx;		 /* the row's position: time, or its index within its group */
	int *hpend;		 /* values still waiting */
	double *hres;		 /* hres[k * hcap + r]: the interpolated value */
	unsigned long long head; /* sequence number of held row 0 */
	struct ipend {
		double x0, v0; /* the last present value */
		int has0;
		unsigned long long *seq; /* rows waiting for the next present value */
		size_t n, cap;
	} * pend; /* per (group, column) */
	size_t npend;
	double *gcount; /* rows seen per group (positions in row order) */
	size_t ngcount;
	double *glast; /* the last time per group (interpolation by time) */
	size_t nglast;
	int ninput; /* columns of the stage input */
	long *hline_out;
	size_t lcap;
	int has_lines;
};

static struct impute *imp_new(struct fstep *s)
{
	struct impute *p = calloc(1, sizeof(*p));

	if (p) {
		ml_fgroups_init(&p->groups);
		p->gcol = p->tcol = -1;
		s->p = p;
	}
	return p;
}

static int imp_parse(struct fstep *s, const struct ml_feat_spec *spec, struct ml_err *e)
{
	char *m = s->args, *v;
	struct impute *p = imp_new(s);
	int k;

	if (!p)
		return ml_err_nomem(e);
	s->colspec = ml_feat_cut(m);
	s->method = -1;
	if (strncmp(m, "constant=", 9) == 0) {
		double d;
		s->method = IM_CONSTANT;
		v = m + 9;
		if (!(p->constant = ml_feat_strdup(v)))
			return ml_err_nomem(e);
		if (ml_parse_double(v, strlen(v), &d) == 0 && isfinite(d)) {
			s->deftype = FS_NUM;
			s->acctype = FS_ANY;
		} else {
			s->deftype = s->acctype = FS_CAT;
		}
	} else {
		for (k = 0; k < (int)(sizeof(im_names) / sizeof(im_names[0])); k++)
			if (k != IM_CONSTANT && strcmp(m, im_names[k]) == 0)
				s->method = k;
		if (s->method < 0)
			return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
					  "--impute: unknown method '%s' (mean, median, mode, "
					  "constant=V, ffill or interpolate)",
					  m);
		/* mode takes the categorical columns by default (median or mean are for
		 * numbers), but any column when named */
		s->deftype = s->method == IM_MODE    ? FS_CAT
			     : s->method == IM_FFILL ? FS_ANY
						     : FS_NUM;
		s->acctype = s->method == IM_MODE || s->method == IM_FFILL ? FS_ANY : FS_NUM;
	}
	s->holds = s->method == IM_INTERP;
	p->indicator = spec->missing_indicator;
	if ((s->method == IM_FFILL || s->method == IM_INTERP) && spec->group_col &&
	    !(p->group = ml_feat_strdup(spec->group_col)))
		return ml_err_nomem(e);
	if (s->method == IM_INTERP && spec->time_col && !(p->time = ml_feat_strdup(spec->time_col)))
		return ml_err_nomem(e);
	return 0;
}

/* The most frequent present value; ties go to the smallest (as scikit-learn). */
static double num_mode(const double *sorted, size_t n)
{
	size_t i = 0, best = 0, bestn = 0;

	while (i < n) {
		size_t j = i;
		while (j < n && sorted[j] == sorted[i])
			j++;
		if (j - i > bestn) {
			bestn = j - i;
			best = i;
		}
		i = j;
	}
	return n ? sorted[best] : NAN;
}

static int imp_fit(struct fstep *s, const struct fdata *d, struct ml_err *e)
{
	struct impute *p = s->p;
	int k, rc;
	size_t i;

	p->c = calloc((size_t)(s->ncol ? s->ncol : 1), sizeof(*p->c));
	if (!p->c)
		return ml_err_nomem(e);
	p->ncol = s->ncol; /* only once c exists: releasing walks it */
	if (p->group && (rc = ml_feat_find(d->s, p->group, "--group-col", s, 1, e)) < 0)
		return rc;
	if (p->time && (rc = ml_feat_find(d->s, p->time, "--time-col", s, 1, e)) < 0)
		return rc;
	for (k = 0; k < s->ncol; k++) {
		struct imcol *c = &p->c[k];
		int j = s->ci[k];
		c->type = d->s->cols[j].type;
		c->fillcode = -1;
		if (c->type == ML_NUM) {
			size_t np;
			double *v = s->method == IM_MODE ? ml_feat_sorted(d->v[j].num, d->n, &np)
							 : ml_feat_present(d->v[j].num, d->n, &np);
			if (!v)
				return ml_err_nomem(e);
			c->had_missing = np < d->n;
			if (s->method != IM_CONSTANT && np == 0) {
				free(v);
				return ml_feat_need_values(s, d, k, 0, e);
			}
			switch (s->method) {
			case IM_MEDIAN:
				c->fill = ml_feat_qsel(v, np, 0.5);
				break;
			case IM_MODE:
				c->fill = num_mode(v, np);
				break;
			case IM_CONSTANT:
				ml_parse_double(p->constant, strlen(p->constant), &c->fill);
				if (!isfinite(c->fill)) {
					char q[160];
					free(v);
					ml_feat_quote_col(q, sizeof(q), d->s->cols[j].name);
					return ml_err_set(
					    e, ML_E_USAGE, NULL, 0, 0,
					    "--impute constant=%s: column '%s' is numeric "
					    "and '%s' is not a number",
					    p->constant, q, p->constant);
				}
				break;
			default: {
				/* the mean, by a sum in row order */
				double sum = 0;
				for (i = 0; i < d->n; i++)
					if (d->v[j].num[i] == d->v[j].num[i])
						sum += d->v[j].num[i];
				c->fill = sum / (double)np;
			}
			}
			free(v);
		} else {
			const struct ml_dict *dict = &d->s->cols[j].dict;
			const int32_t *codes = d->v[j].cat;
			size_t np = 0;
			for (i = 0; i < d->n; i++)
				np += codes[i] >= 0;
			c->had_missing = np < d->n;
			if (s->method == IM_CONSTANT) {
				c->sfill = ml_feat_strdup(p->constant);
				if (!c->sfill)
					return ml_err_nomem(e);
			} else {
				struct ml_dict lv;
				double *cnt;
				int32_t b = 0, l;
				if (np == 0)
					return ml_feat_need_values(s, d, k, 0, e);
				if ((rc = ml_feat_levels(dict, codes, d->n, &lv, &cnt, e)) < 0)
					return rc;
				for (l = 1; l < lv.n; l++)
					if (cnt[l] > cnt[b])
						b = l;
				c->sfill = ml_feat_strdup(lv.str[b]);
				free(cnt);
				ml_dict_release(&lv);
				if (!c->sfill)
					return ml_err_nomem(e);
			}
		}
	}
	return 0;
}

static int imp_layout(struct fstep *s, const struct ml_schema *in, struct ml_err *e)
{
	struct impute *p = s->p;
	int j, k, rc;
	char name[1024];

	if (p->group && (p->gcol = ml_feat_find(in, p->group, "--group-col", s, 0, e)) < 0)
		return p->gcol;
	if (p->time && (p->tcol = ml_feat_find(in, p->time, "--time-col", s, 0, e)) < 0)
		return p->tcol;
	p->ninput = in->ncol;
	for (j = 0; j < in->ncol; j++) {
		k = ml_fstep_pos(s, j);
		if (k >= 0 && (int)in->cols[j].type != p->c[k].type)
			return ml_feat_bad(e, "an imputed column changed type");
		rc = ml_fout_add(s, in->cols[j].name, in->cols[j].type, j, k >= 0 || s->holds, e);
		if (rc < 0)
			return rc;
	}
	free(p->ind);
	p->ind = malloc((size_t)(s->ncol ? s->ncol : 1) * sizeof(int));
	if (!p->ind)
		return ml_err_nomem(e);
	for (k = 0; k < s->ncol; k++) {
		p->ind[k] = -1;
		if (!p->indicator || !p->c[k].had_missing)
			continue;
		snprintf(name, sizeof(name), "%s_missing", s->cols[k]);
		if ((rc = ml_fout_add(s, name, ML_NUM, -1, 1, e)) < 0)
			return rc;
		p->ind[k] = rc;
	}
	return 0;
}

static void pend_clear(struct impute *p)
{
	size_t i;

	for (i = 0; i < p->npend; i++)
		free(p->pend[i].seq);
	free(p->pend);
	p->pend = NULL;
	p->npend = 0;
}

static void hold_free(struct impute *p)
{
	int j;

	if (p->hold)
		for (j = 0; j < p->ninput; j++)
			free(p->hold[j].num);
	free(p->hold);
	p->hold = NULL;
	free(p->hline);
	free(p->hline_out);
	p->hline_out = NULL;
	p->lcap = 0;
	free(p->hx);
	free(p->hpend);
	free(p->hres);
	p->hline = NULL;
	p->hx = p->hres = NULL;
	p->hpend = NULL;
	p->hn = p->hcap = 0;
}

static void imp_reset(struct fstep *s)
{
	struct impute *p = s->p;
	int k;

	ml_fgroups_release(&p->groups);
	ml_fgroups_init(&p->groups);
	free(p->last);
	p->last = NULL;
	p->nlast = 0;
	pend_clear(p);
	hold_free(p);
	free(p->gcount);
	p->gcount = NULL;
	p->ngcount = 0;
	free(p->glast);
	p->glast = NULL;
	p->nglast = 0;
	p->head = 0;
	for (k = 0; k < p->ncol; k++) {
		ml_fmap_release(&p->c[k].map);
		p->c[k].fillcode = -1;
	}
}

struct intern_arg {
	struct ml_dict *d;
};

static int32_t intern_out(void *arg, const char *s, size_t len)
{
	return ml_dict_intern(arg, s, len);
}

/* The group of row i, growing the per-group arrays to hold it. */
static int32_t imp_group(struct impute *p, const struct fio *io, size_t i, size_t per, double **arr,
			 size_t *narr, double init, struct ml_err *e)
{
	int32_t g = 0;

	if (p->gcol >= 0) {
		g = ml_fgroups_get(&p->groups, io->in->cols[p->gcol].type,
				   &io->in->cols[p->gcol].dict, io->v[p->gcol], i, e);
		if (g < 0)
			return g;
	}
	if ((size_t)(g + 1) * per > *narr) {
		size_t n = (size_t)(g + 1) * 2 * per, x;
		double *a = realloc(*arr, n * sizeof(double));
		if (!a)
			return ml_err_nomem(e);
		for (x = *narr; x < n; x++)
			a[x] = init;
		*arr = a;
		*narr = n;
	}
	return g;
}

static int imp_cat_sync(struct imcol *c, const struct ml_dict *in, struct ml_dict *out,
			struct ml_err *e)
{
	int rc = ml_fmap_sync(&c->map, in, intern_out, out, e);

	if (rc < 0)
		return rc;
	if (c->fillcode < 0 && c->sfill) {
		c->fillcode = ml_dict_intern(out, c->sfill, strlen(c->sfill));
		if (c->fillcode < 0)
			return ml_err_nomem(e);
	}
	return 0;
}

static int imp_indicators(struct fstep *s, struct fio *io)
{
	struct impute *p = s->p;
	int k;
	size_t i;

	for (k = 0; k < s->ncol; k++) {
		double *o;
		int j = s->ci[k];
		if (p->ind[k] < 0)
			continue;
		o = io->o[p->ind[k]].num;
		if (p->c[k].type == ML_NUM)
			for (i = 0; i < io->n; i++)
				o[i] = io->v[j].num[i] != io->v[j].num[i];
		else
			for (i = 0; i < io->n; i++)
				o[i] = io->v[j].cat[i] < 0;
	}
	return 0;
}

static int imp_ffill(struct fstep *s, struct fio *io, struct ml_err *e)
{
	struct impute *p = s->p;
	size_t i, per = (size_t)s->ncol;
	int k, rc;

	/* No columns (an empty list): nothing to fill, and no last values were allocated,
	 * so there is no row of them to point at. */
	if (per == 0)
		return 0;
	for (k = 0; k < s->ncol; k++)
		if (p->c[k].type == ML_CAT &&
		    (rc = imp_cat_sync(&p->c[k], &io->in->cols[s->ci[k]].dict,
				       &io->out->cols[s->ci[k]].dict, e)) < 0)
			return rc;
	for (i = 0; i < io->n; i++) {
		int32_t g = imp_group(p, io, i, per, &p->last, &p->nlast, NAN, e);
		double *last;
		if (g < 0)
			return g;
		last = p->last + (size_t)g * per;
		for (k = 0; k < s->ncol; k++) {
			int j = s->ci[k];
			struct imcol *c = &p->c[k];
			if (c->type == ML_NUM) {
				double x = io->v[j].num[i];
				if (x == x)
					last[k] = x;
				io->o[j].num[i] = x == x	       ? x
						  : last[k] == last[k] ? last[k]
								       : c->fill;
			} else {
				int32_t x = io->v[j].cat[i];
				if (x >= 0)
					last[k] = c->map.v[x];
				io->o[j].cat[i] = x >= 0	       ? c->map.v[x]
						  : last[k] == last[k] ? (int32_t)last[k]
								       : c->fillcode;
			}
		}
	}
	return imp_indicators(s, io);
}

/* Interpolation: rows wait in the step until each of their missing values has the next
 * present value of its column (in the row's group); then they leave in order. */

static int hold_reserve(struct impute *p, const struct ml_schema *in, int ncol, size_t need,
			struct ml_err *e)
{
	size_t cap = p->hcap ? p->hcap : 256, r;
	int j, k;

	if (need <= p->hcap)
		return 0;
	while (cap < need)
		cap *= 2;
	if (!p->hold && !(p->hold = calloc((size_t)(in->ncol ? in->ncol : 1), sizeof(*p->hold))))
		return ml_err_nomem(e);
	for (j = 0; j < in->ncol; j++) {
		void *q =
		    realloc(p->hold[j].num,
			    cap * (in->cols[j].type == ML_NUM ? sizeof(double) : sizeof(int32_t)));
		if (!q)
			return ml_err_nomem(e);
		p->hold[j].num = q;
	}
	{
		long *l = realloc(p->hline, cap * sizeof(*l));
		double *x;
		int *pd;
		double *res;
		if (l)
			p->hline = l;
		x = realloc(p->hx, cap * sizeof(*x));
		if (x)
			p->hx = x;
		pd = realloc(p->hpend, cap * sizeof(*pd));
		if (pd)
			p->hpend = pd;
		res = malloc(cap * (size_t)(ncol ? ncol : 1) * sizeof(*res));
		if (!l || !x || !pd || !res) {
			free(res);
			return ml_err_nomem(e);
		}
		for (k = 0; k < ncol; k++)
			for (r = 0; r < p->hn; r++)
				res[(size_t)k * cap + r] = p->hres[(size_t)k * p->hcap + r];
		free(p->hres);
		p->hres = res;
	}
	p->hcap = cap;
	return 0;
}

static struct ipend *pend_get(struct impute *p, int32_t g, int ncol, int k, struct ml_err *e)
{
	size_t need = (size_t)(g + 1) * (size_t)ncol;

	if (need > p->npend) {
		size_t n = need * 2;
		struct ipend *a = realloc(p->pend, n * sizeof(*a));
		if (!a) {
			ml_err_nomem(e);
			return NULL;
		}
		memset(a + p->npend, 0, (n - p->npend) * sizeof(*a));
		p->pend = a;
		p->npend = n;
	}
	return &p->pend[(size_t)g * (size_t)ncol + (size_t)k];
}

static void pend_resolve(struct impute *p, struct ipend *q, int k, double x1, double v1, int have1,
			 double fallback)
{
	size_t t;

	for (t = 0; t < q->n; t++) {
		size_t r = (size_t)(q->seq[t] - p->head);
		double v, x = p->hx[r];
		if (!q->has0)
			v = have1 ? fallback : fallback;
		else if (!have1)
			v = q->v0;
		else if (x1 == q->x0)
			v = q->v0;
		else
			v = q->v0 + (v1 - q->v0) * ((x - q->x0) / (x1 - q->x0));
		p->hres[(size_t)k * p->hcap + r] = v;
		p->hpend[r]--;
	}
	q->n = 0;
}

/* Emit the leading rows that wait for nothing. */
static int hold_emit(struct fstep *s, struct fio *io, struct ml_err *e)
{
	struct impute *p = s->p;
	size_t m = 0, i, rest;
	int j, k;

	while (m < p->hn && p->hpend[m] == 0)
		m++;
	if (m > s->cap) {
		for (j = 0; j < s->nout; j++) {
			void *q = realloc(
			    s->buf[j].num,
			    m * (s->out[j].type == ML_NUM ? sizeof(double) : sizeof(int32_t)));
			if (!q)
				return ml_err_nomem(e);
			s->buf[j].num = q;
		}
		s->cap = m;
	}
	/* none ready (a block of no rows first of all): the held rows may not exist yet */
	for (j = 0; m && j < p->ninput; j++) {
		size_t sz = s->out[j].type == ML_NUM ? sizeof(double) : sizeof(int32_t);
		memcpy(s->buf[j].num, p->hold[j].num, m * sz);
	}
	for (k = 0; m && k < s->ncol; k++) {
		int jj = s->ci[k];
		double *o = s->buf[jj].num;
		const double *res = p->hres + (size_t)k * p->hcap;
		for (i = 0; i < m; i++)
			if (o[i] != o[i])
				o[i] = res[i];
		if (p->ind[k] >= 0) {
			double *ind = s->buf[p->ind[k]].num;
			const double *orig = p->hold[jj].num;
			for (i = 0; i < m; i++)
				ind[i] = orig[i] != orig[i];
		}
	}
	for (j = 0; j < s->nout; j++)
		io->o[j] = s->buf[j];
	io->nout = m;
	/* Lines: copied out before the held rows move. */
	if (m > p->lcap) {
		long *l = realloc(p->hline_out, m * sizeof(*l));
		if (!l)
			return ml_err_nomem(e);
		p->hline_out = l;
		p->lcap = m;
	}
	if (m)
		memcpy(p->hline_out, p->hline, m * sizeof(long));
	io->oline = p->has_lines ? p->hline_out : NULL;
	rest = p->hn - m;
	if (m && rest) {
		for (j = 0; j < p->ninput; j++) {
			size_t sz = s->out[j].type == ML_NUM ? sizeof(double) : sizeof(int32_t);
			memmove(p->hold[j].num, (char *)p->hold[j].num + m * sz, rest * sz);
		}
		memmove(p->hline, p->hline + m, rest * sizeof(long));
		memmove(p->hx, p->hx + m, rest * sizeof(double));
		memmove(p->hpend, p->hpend + m, rest * sizeof(int));
		for (k = 0; k < s->ncol; k++)
			memmove(p->hres + (size_t)k * p->hcap, p->hres + (size_t)k * p->hcap + m,
				rest * sizeof(double));
	}
	p->hn = rest;
	p->head += m;
	return 0;
}

static int interp_time(struct impute *p, const struct fio *io, size_t i, double *x,
		       struct ml_err *e)
{
	int rc = ml_feat_time(io->in, p->tcol, io->v[p->tcol], io->line, i, x, e);
	char q[160];

	if (rc < 0)
		return rc;
	if (*x != *x) {
		ml_feat_quote_col(q, sizeof(q), io->in->cols[p->tcol].name);
		return ml_err_set(e, ML_E_DATA, NULL, ml_feat_line(io->line, i), 0,
				  "--impute interpolate: the time in column '%s' is missing", q);
	}
	return 0;
}

static void interp_end(struct fstep *s)
{
	struct impute *p = s->p;
	size_t t;
	int ncol = s->ncol;

	for (t = 0; t < p->npend; t++) {
		int k = (int)(t % (size_t)ncol);
		if (p->pend[t].n)
			pend_resolve(p, &p->pend[t], k, 0, 0, 0, p->c[k].fill);
	}
}

static int imp_interp(struct fstep *s, struct fio *io, struct ml_err *e)
{
	struct impute *p = s->p;
	size_t i;
	int j, k;

	if (io->line)
		p->has_lines = 1;
	if (hold_reserve(p, io->in, s->ncol, p->hn + io->n, e) < 0)
		return ML_E_NOMEM;
	for (i = 0; i < io->n; i++) {
		size_t r = p->hn + i;
		unsigned long long seq = p->head + r;
		int32_t g;
		double x;
		for (j = 0; j < io->in->ncol; j++) {
			if (io->in->cols[j].type == ML_NUM)
				p->hold[j].num[r] = io->v[j].num[i];
			else
				p->hold[j].cat[r] = io->v[j].cat[i];
		}
		p->hline[r] = ml_feat_line(io->line, i);
		g = imp_group(p, io, i, 1, &p->gcount, &p->ngcount, 0, e);
		if (g < 0)
			return g;
		if (p->tcol >= 0) {
			int rc = interp_time(p, io, i, &x, e);
			int32_t g2;
			if (rc < 0)
				return rc;
			g2 = imp_group(p, io, i, 1, &p->glast, &p->nglast, NAN, e);
			if (g2 < 0)
				return g2;
			if (p->glast[g2] == p->glast[g2] && x < p->glast[g2]) {
				char q[160];
				ml_feat_quote_col(q, sizeof(q), io->in->cols[p->tcol].name);
				return ml_err_set(
				    e, ML_E_DATA, NULL, ml_feat_line(io->line, i), 0,
				    "--impute interpolate: time goes backwards in column '%s'; "
				    "sort the rows by time",
				    q);
			}
			p->glast[g2] = x;
		} else {
			x = p->gcount[g]++;
		}
		p->hx[r] = x;
		p->hpend[r] = 0;
		for (k = 0; k < s->ncol; k++) {
			double v = io->v[s->ci[k]].num[i];
			struct ipend *q = pend_get(p, g, s->ncol, k, e);
			if (!q)
				return ML_E_NOMEM;
			if (v == v) {
				pend_resolve(p, q, k, x, v, 1, p->c[k].fill);
				q->x0 = x;
				q->v0 = v;
				q->has0 = 1;
				continue;
			}
			if (q->n == q->cap) {
				size_t cap = q->cap ? q->cap * 2 : 16;
				unsigned long long *sq = realloc(q->seq, cap * sizeof(*sq));
				if (!sq)
					return ml_err_nomem(e);
				q->seq = sq;
				q->cap = cap;
			}
			q->seq[q->n++] = seq;
			p->hpend[r]++;
		}
	}
	p->hn += io->n;
	if (io->fitting)
		interp_end(s);
	return hold_emit(s, io, e);
}

static int imp_apply(struct fstep *s, struct fio *io, struct ml_err *e)
{
	struct impute *p = s->p;
	size_t i;
	int k, rc;

	if (s->method == IM_INTERP)
		return imp_interp(s, io, e);
	if (s->method == IM_FFILL)
		return imp_ffill(s, io, e);
	for (k = 0; k < s->ncol; k++) {
		int j = s->ci[k];
		struct imcol *c = &p->c[k];
		if (c->type == ML_NUM) {
			const double *x = io->v[j].num;
			double *o = io->o[j].num, fill = c->fill;
			for (i = 0; i < io->n; i++)
				o[i] = x[i] == x[i] ? x[i] : fill;
		} else {
			const int32_t *x = io->v[j].cat;
			int32_t *o = io->o[j].cat;
			if ((rc = imp_cat_sync(c, &io->in->cols[j].dict, &io->out->cols[j].dict,
					       e)) < 0)
				return rc;
			for (i = 0; i < io->n; i++)
				o[i] = x[i] >= 0 ? c->map.v[x[i]] : c->fillcode;
		}
	}
	return imp_indicators(s, io);
}

static int imp_finish(struct fstep *s, struct fio *io, struct ml_err *e)
{
	interp_end(s);
	return hold_emit(s, io, e);
}

static void put_opt_str(struct ml_wbuf *b, const char *s)
{
	ml_wbuf_u8(b, s != NULL);
	if (s)
		ml_wbuf_str(b, s);
}

static int get_opt_str(struct ml_rbuf *b, char **s)
{
	*s = NULL;
	if (!ml_rbuf_u8(b))
		return 0;
	*s = ml_rbuf_str(b);
	return *s ? 0 : -1;
}

static void imp_save(const struct fstep *s, struct ml_wbuf *b)
{
	const struct impute *p = s->p;
	int k;

	ml_wbuf_u8(b, (uint8_t)p->indicator);
	put_opt_str(b, p->constant);
	put_opt_str(b, p->group);
	put_opt_str(b, p->time);
	ml_wbuf_u32(b, (uint32_t)p->ncol);
	for (k = 0; k < p->ncol; k++) {
		ml_wbuf_u8(b, (uint8_t)p->c[k].type);
		ml_wbuf_u8(b, (uint8_t)p->c[k].had_missing);
		ml_wbuf_f64(b, p->c[k].fill);
		put_opt_str(b, p->c[k].sfill);
	}
}

static int imp_load(struct fstep *s, struct ml_rbuf *b, struct ml_err *e)
{
	struct impute *p = imp_new(s);
	uint32_t n, k;

	if (!p)
		return ml_err_nomem(e);
	if (s->method < IM_MEAN || s->method > IM_INTERP)
		return ml_feat_bad(e, "an --impute method");
	s->holds = s->method == IM_INTERP;
	p->indicator = ml_rbuf_u8(b);
	if (get_opt_str(b, &p->constant) < 0 || get_opt_str(b, &p->group) < 0 ||
	    get_opt_str(b, &p->time) < 0)
		return ml_feat_bad_at(b, e, "--impute options");
	n = ml_rbuf_u32(b);
	if (b->err || n != (uint32_t)s->ncol)
		return ml_feat_bad(e, "the --impute columns");
	p->c = calloc(n ? n : 1, sizeof(*p->c));
	if (!p->c)
		return ml_err_nomem(e);
	p->ncol = (int)n; /* only once c exists: releasing walks it */
	for (k = 0; k < n; k++) {
		struct imcol *c = &p->c[k];
		c->type = ml_rbuf_u8(b);
		c->had_missing = ml_rbuf_u8(b);
		c->fill = ml_rbuf_f64(b);
		c->fillcode = -1;
		if (get_opt_str(b, &c->sfill) < 0 || c->type > 1)
			return ml_feat_bad_at(b, e, "an --impute column");
		if (c->type == ML_CAT && !c->sfill && s->method != IM_CONSTANT)
			return ml_feat_bad(e, "an --impute column");
		if (c->type == ML_CAT &&
		    (s->method == IM_MEAN || s->method == IM_MEDIAN || s->method == IM_INTERP))
			return ml_feat_bad(e, "an --impute column");
	}
	return 0;
}

static int imp_json(const struct fstep *s, cJSON *o)
{
	const struct impute *p = s->p;
	cJSON *a = cJSON_AddArrayToObject(o, "fill"), *x;
	int k;

	if (!a)
		return -1;
	for (k = 0; k < p->ncol; k++) {
		x = p->c[k].type == ML_CAT
			? (p->c[k].sfill ? cJSON_CreateString(p->c[k].sfill) : cJSON_CreateNull())
			: (isfinite(p->c[k].fill) ? cJSON_CreateNumber(p->c[k].fill)
						  : cJSON_CreateNull());
		if (!x || !cJSON_AddItemToArray(a, x))
			return -1;
	}
	return 0;
}

static void imp_free(struct fstep *s)
{
	struct impute *p = s->p;
	int k;

	if (!p)
		return;
	imp_reset(s);
	ml_fgroups_release(&p->groups);
	for (k = 0; k < p->ncol; k++) {
		free(p->c[k].sfill);
		ml_fmap_release(&p->c[k].map);
	}
	free(p->c);
	free(p->constant);
	free(p->group);
	free(p->time);
	free(p->ind);
	free(p);
	s->p = NULL;
}

const struct fops ml_fops_impute = {"impute", FK_IMPUTE,  FS_NUM,    0,		imp_parse,
				    imp_fit,  imp_layout, imp_reset, imp_apply, imp_finish,
				    imp_save, imp_load,	  imp_json,  imp_free};

/* ---------------------------------------------------- per-column affine maps */

/* scale, power and clip keep two numbers per column. */
struct pair {
	int ncol;
	double *a, *b, *c;
};

static struct pair *pair_new(struct fstep *s, int n)
{
	struct pair *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->ncol = n;
	p->a = calloc((size_t)(n ? n : 1), sizeof(double));
	p->b = calloc((size_t)(n ? n : 1), sizeof(double));
	p->c = calloc((size_t)(n ? n : 1), sizeof(double));
	s->p = p;
	if (!p->a || !p->b || !p->c)
		return NULL;
	return p;
}

static void pair_free(struct fstep *s)
{
	struct pair *p = s->p;

	if (p) {
		free(p->a);
		free(p->b);
		free(p->c);
		free(p);
	}
	s->p = NULL;
}

static void pair_save(const struct fstep *s, struct ml_wbuf *b)
{
	const struct pair *p = s->p;

	ml_wbuf_u32(b, (uint32_t)p->ncol);
	ml_wbuf_f64v(b, p->a, (size_t)p->ncol);
	ml_wbuf_f64v(b, p->b, (size_t)p->ncol);
	ml_wbuf_f64v(b, p->c, (size_t)p->ncol);
}

static int pair_load(struct fstep *s, struct ml_rbuf *b, struct ml_err *e)
{
	uint32_t n = ml_rbuf_u32(b);
	struct pair *p;

	if (b->err || n != (uint32_t)s->ncol || !ml_feat_count(b, n, 24))
		return ml_feat_bad(e, "a step's column count");
	p = pair_new(s, (int)n);
	if (!p)
		return ml_err_nomem(e);
	ml_rbuf_f64v(b, p->a, n);
	ml_rbuf_f64v(b, p->b, n);
	ml_rbuf_f64v(b, p->c, n);
	return 0;
}

static int add_numbers(cJSON *o, const char *name, const double *v, int n)
{
	cJSON *a = cJSON_AddArrayToObject(o, name), *x;
	int k;

	if (!a)
		return -1;
	for (k = 0; k < n; k++) {
		x = isfinite(v[k]) ? cJSON_CreateNumber(v[k]) : cJSON_CreateNull();
		if (!x || !cJSON_AddItemToArray(a, x))
			return -1;
	}
	return 0;
}

static int nocols_parse(struct fstep *s, const struct ml_feat_spec *spec, struct ml_err *e)
{
	(void)spec;
	(void)e;
	s->colspec = s->args[0] ? s->args : NULL;
	return 0;
}

/* ---------------------------------------------------------------- scale */

enum { SC_STANDARD, SC_MINMAX, SC_ROBUST, SC_MAXABS };

static int method_of(const char *m, const char *const *names, int n)
{
	int k;

	for (k = 0; k < n; k++)
		if (strcmp(m, names[k]) == 0)
			return k;
	return -1;
}

static const char *const sc_names[] = {"standard", "minmax", "robust", "maxabs"};

static int scale_parse(struct fstep *s, const struct ml_feat_spec *spec, struct ml_err *e)
{
	(void)spec;
	s->colspec = ml_feat_cut(s->args);
	s->method = method_of(s->args, sc_names, 4);
	if (s->method < 0)
		return ml_err_set(
		    e, ML_E_USAGE, NULL, 0, 0,
		    "--scale: unknown method '%s' (standard, minmax, robust or maxabs)", s->args);
	return 0;
}

/* Mean and population variance of the present values, in row order. */
static size_t mean_var(const double *x, size_t n, double *mean, double *var)
{
	size_t i, k = 0;
	double s = 0, ss = 0, m;

	for (i = 0; i < n; i++)
		if (x[i] == x[i]) {
			s += x[i];
			k++;
		}
	m = k ? s / (double)k : NAN;
	for (i = 0; i < n; i++)
		if (x[i] == x[i])
			ss += (x[i] - m) * (x[i] - m);
	*mean = m;
	*var = k ? ss / (double)k : NAN;
	return k;
}

/* scikit-learn's test for a constant feature, which it then leaves unscaled. */
static int is_constant(double var, double mean, size_t n)
{
	double eps = DBL_EPSILON, nn = (double)n;

	return var <= nn * eps * var + (nn * mean * eps) * (nn * mean * eps);
}

static int scale_fit(struct fstep *s, const struct fdata *d, struct ml_err *e)
{
	struct pair *p = pair_new(s, s->ncol);
	int k, rc;
	char q[160];

	if (!p)
		return ml_err_nomem(e);
	for (k = 0; k < s->ncol; k++) {
		const double *x = d->v[s->ci[k]].num;
		double c = 0, sc = 1, mean, var;
		size_t np, i;
		int flat = 0;
		ml_feat_quote_col(q, sizeof(q), s->cols[k]);
		if (s->method == SC_STANDARD) {
			np = mean_var(x, d->n, &mean, &var);
			if ((rc = ml_feat_need_values(s, d, k, np, e)) < 0)
				return rc;
			c = mean;
			flat = is_constant(var, mean, np);
			sc = flat ? 1 : sqrt(var);
		} else if (s->method == SC_MINMAX || s->method == SC_MAXABS) {
			double lo = INFINITY, hi = -INFINITY;
			for (i = 0, np = 0; i < d->n; i++)
				if (x[i] == x[i]) {
					np++;
					if (x[i] < lo)
						lo = x[i];
					if (x[i] > hi)
						hi = x[i];
				}
			if ((rc = ml_feat_need_values(s, d, k, np, e)) < 0)
				return rc;
			if (s->method == SC_MINMAX) {
				c = lo;
				sc = hi - lo;
				flat = sc == 0;
			} else {
				c = 0;
				sc = fabs(lo) > fabs(hi) ? fabs(lo) : fabs(hi);
				flat = sc == 0;
			}
			if (flat)
				sc = 1;
		} else {
			double *v = ml_feat_present(x, d->n, &np);
			if (!v)
				return ml_err_nomem(e);
			if ((rc = ml_feat_need_values(s, d, k, np, e)) < 0) {
				free(v);
				return rc;
			}
			c = ml_feat_qsel(v, np, 0.5);
			sc = ml_feat_qsel(v, np, 0.75) - ml_feat_qsel(v, np, 0.25);
			free(v);
			flat = sc == 0;
			if (flat)
				sc = 1;
		}
		if (flat)
			ml_log(d->ctx, ML_LOG_WARN,
			       s->method == SC_ROBUST
				   ? "--scale robust: column '%s' has an interquartile range of 0; "
				     "it is only centred"
				   : "--scale %s: column '%s' is constant; it becomes 0",
			       s->method == SC_ROBUST ? q : sc_names[s->method], q);
		p->a[k] = c;
		p->b[k] = sc;
	}
	return 0;
}

static int inplace_layout(struct fstep *s, const struct ml_schema *in, struct ml_err *e)
{
	return ml_fout_inplace(s, in, e);
}

static int scale_apply(struct fstep *s, struct fio *io, struct ml_err *e)
{
	const struct pair *p = s->p;
	size_t i;
	int k;

	(void)e;
	for (k = 0; k < s->ncol; k++) {
		int j = s->ci[k];
		const double *x = io->v[j].num;
		double *o = io->o[j].num, c = p->a[k], sc = p->b[k];
		for (i = 0; i < io->n; i++)
			o[i] = (x[i] - c) / sc;
	}
	return 0;
}

static int scale_load(struct fstep *s, struct ml_rbuf *b, struct ml_err *e)
{
	if (s->method < SC_STANDARD || s->method > SC_MAXABS)
		return ml_feat_bad(e, "a --scale method");
	return pair_load(s, b, e);
}

static int scale_json(const struct fstep *s, cJSON *o)
{
	const struct pair *p = s->p;

	if (add_numbers(o, "center", p->a, p->ncol) < 0 ||
	    add_numbers(o, "scale", p->b, p->ncol) < 0)
		return -1;
	return 0;
}

const struct fops ml_fops_scale = {"scale",   FK_SCALE,	      FS_NUM,	  0,	       scale_parse,
				   scale_fit, inplace_layout, NULL,	  scale_apply, NULL,
				   pair_save, scale_load,     scale_json, pair_free};

/* ---------------------------------------------------------------- log */

static int log_fit(struct fstep *s, const struct fdata *d, struct ml_err *e)
{
	int k;
	char q[160];

	(void)e;
	for (k = 0; k < s->ncol; k++) {
		const double *x = d->v[s->ci[k]].num;
		size_t i, bad = 0;
		for (i = 0; i < d->n; i++)
			bad += x[i] <= -1;
		if (bad) {
			ml_feat_quote_col(q, sizeof(q), s->cols[k]);
			ml_log(d->ctx, ML_LOG_WARN,
			       "--log: column '%s' has %zu value%s <= -1, made missing", q, bad,
			       bad == 1 ? "" : "s");
		}
	}
	return 0;
}

static int log_apply(struct fstep *s, struct fio *io, struct ml_err *e)
{
	size_t i;
	int k;

	(void)e;
	for (k = 0; k < s->ncol; k++) {
		int j = s->ci[k];
		const double *x = io->v[j].num;
		double *o = io->o[j].num;
		for (i = 0; i < io->n; i++)
			o[i] = x[i] > -1 ? log1p(x[i]) : NAN;
	}
	return 0;
}

static void none_save(const struct fstep *s, struct ml_wbuf *b)
{
	(void)s;
	(void)b;
}

static int none_load(struct fstep *s, struct ml_rbuf *b, struct ml_err *e)
{
	(void)s;
	(void)b;
	(void)e;
	return 0;
}

const struct fops ml_fops_log = {"log",	    FK_LOG,	    FS_NUM, 0,	       nocols_parse,
				 log_fit,   inplace_layout, NULL,   log_apply, NULL,
				 none_save, none_load,	    NULL,   NULL};

/* ---------------------------------------------------------------- power */

enum { PW_YJ, PW_BC };

static const char *const pw_names[] = {"yeo-johnson", "box-cox"};

static int power_parse(struct fstep *s, const struct ml_feat_spec *spec, struct ml_err *e)
{
	(void)spec;
	s->colspec = ml_feat_cut(s->args);
	s->method = method_of(s->args, pw_names, 2);
	if (s->method < 0)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "--power: unknown method '%s' (yeo-johnson or box-cox)", s->args);
	return 0;
}

static double yj(double x, double l)
{
	if (x >= 0) {
		if (fabs(l) < DBL_EPSILON)
			return log1p(x);
		return (pow(x + 1, l) - 1) / l;
	}
	if (fabs(l - 2) > DBL_EPSILON)
		return -(pow(-x + 1, 2 - l) - 1) / (2 - l);
	return -log1p(-x);
}

static double bc(double x, double l)
{
	if (x <= 0)
		return NAN;
	if (fabs(l) < 1e-19)
		return log(x);
	return expm1(l * log(x)) / l;
}

struct llf {
	const double *x;
	size_t n;
	int method;
	double sumlog; /* box-cox: sum of log x; yeo-johnson: sum of sign(x) log1p(|x|) */
	double *t;     /* scratch */
};

/* numpy's pairwise summation (what np.sum and np.var do on a contiguous array), so
 * that the flat likelihood below sees the same numbers SciPy's optimiser sees. */
static double np_sum(const double *a, size_t n)
{
	if (n < 8) {
		double r = 0;
		size_t i;
		for (i = 0; i < n; i++)
			r += a[i];
		return r;
	}
	if (n <= 128) {
		double r[8], res;
		size_t i, j;
		for (j = 0; j < 8; j++)
			r[j] = a[j];
		for (i = 8; i < n - n % 8; i += 8)
			for (j = 0; j < 8; j++)
				r[j] += a[i + j];
		res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
		for (; i < n; i++)
			res += a[i];
		return res;
	}
	{
		size_t n2 = n / 2;
		n2 -= n2 % 8;
		return np_sum(a, n2) + np_sum(a + n2, n - n2);
	}
}

/* np.var: the mean, then the mean of squared deviations (t is overwritten). */
static double var_of(double *t, size_t n)
{
	double m = np_sum(t, n) / (double)n;
	size_t i;

	for (i = 0; i < n; i++)
		t[i] = (t[i] - m) * (t[i] - m);
	return np_sum(t, n) / (double)n;
}

/* The negative log-likelihood scikit-learn and SciPy minimise. */
static double neg_llf(const struct llf *f, double l)
{
	size_t i;
	double v, nn = (double)f->n;

	if (f->method == PW_YJ) {
		for (i = 0; i < f->n; i++)
			f->t[i] = yj(f->x[i], l);
		v = var_of(f->t, f->n);
		if (v < DBL_MIN)
			return INFINITY;
		return -(-nn / 2 * log(v) + (l - 1) * f->sumlog);
	}
	if (l == 0) {
		for (i = 0; i < f->n; i++)
			f->t[i] = log(f->x[i]);
	} else {
		for (i = 0; i < f->n; i++)
			f->t[i] = pow(f->x[i], l) / l;
	}
	v = var_of(f->t, f->n);
	return -((l - 1) * f->sumlog - nn / 2 * log(v));
}

/* scipy.optimize.bracket from (xa, xb), then scipy.optimize.brent (tol 1.48e-8, 500
 * iterations), step for step, so the lambdas agree with scikit-learn's. */
static double brent_min(const struct llf *f, double xa, double xb)
{
	const double gold = 1.618034, tiny = 1e-21, grow = 110.0;
	const double cg = 0.3819660, mintol = 1.0e-11, tol = 1.48e-8;
	double fa = neg_llf(f, xa), fb = neg_llf(f, xb), xc, fc, t;
	double x, w, v, fx, fw, fv, a, b, deltax = 0, rat = 0, u, fu;
	int iter = 0;

	if (fa < fb) {
		t = xa, xa = xb, xb = t;
		t = fa, fa = fb, fb = t;
	}
	xc = xb + gold * (xb - xa);
	fc = neg_llf(f, xc);
	while (fc < fb && iter++ <= 1000) {
		double tmp1 = (xb - xa) * (fb - fc), tmp2 = (xb - xc) * (fb - fa);
		double val = tmp2 - tmp1, denom, wlim, fw2;
		denom = fabs(val) < tiny ? 2.0 * tiny : 2.0 * val;
		w = xb - ((xb - xc) * tmp2 - (xb - xa) * tmp1) / denom;
		wlim = xb + grow * (xc - xb);
		if ((w - xc) * (xb - w) > 0.0) {
			fw2 = neg_llf(f, w);
			if (fw2 < fc) {
				xa = xb;
				xb = w;
				fa = fb;
				fb = fw2;
				break;
			} else if (fw2 > fb) {
				xc = w;
				fc = fw2;
				break;
			}
			w = xc + gold * (xc - xb);
			fw2 = neg_llf(f, w);
		} else if ((w - wlim) * (wlim - xc) >= 0.0) {
			w = wlim;
			fw2 = neg_llf(f, w);
		} else if ((w - wlim) * (xc - w) > 0.0) {
			fw2 = neg_llf(f, w);
			if (fw2 < fc) {
				xb = xc;
				xc = w;
				w = xc + gold * (xc - xb);
				fb = fc;
				fc = fw2;
				fw2 = neg_llf(f, w);
			}
		} else {
			w = xc + gold * (xc - xb);
			fw2 = neg_llf(f, w);
		}
		xa = xb;
		xb = xc;
		xc = w;
		fa = fb;
		fb = fc;
		fc = fw2;
	}
	(void)fa;
	x = w = v = xb;
	fw = fv = fx = fb;
	if (xa < xc) {
		a = xa;
		b = xc;
	} else {
		a = xc;
		b = xa;
	}
	for (iter = 0; iter < 500; iter++) {
		double tol1 = tol * fabs(x) + mintol, tol2 = 2.0 * tol1, xmid = 0.5 * (a + b);
		if (fabs(x - xmid) < (tol2 - 0.5 * (b - a)))
			break;
		if (fabs(deltax) <= tol1) {
			deltax = x >= xmid ? a - x : b - x;
			rat = cg * deltax;
		} else {
			double tmp1 = (x - w) * (fx - fv), tmp2 = (x - v) * (fx - fw), p, dx;
			p = (x - v) * tmp2 - (x - w) * tmp1;
			tmp2 = 2.0 * (tmp2 - tmp1);
			if (tmp2 > 0.0)
				p = -p;
			tmp2 = fabs(tmp2);
			dx = deltax;
			deltax = rat;
			if (p > tmp2 * (a - x) && p < tmp2 * (b - x) &&
			    fabs(p) < fabs(0.5 * tmp2 * dx)) {
				rat = p * 1.0 / tmp2;
				u = x + rat;
				if ((u - a) < tol2 || (b - u) < tol2)
					rat = xmid - x >= 0 ? tol1 : -tol1;
			} else {
				deltax = x >= xmid ? a - x : b - x;
				rat = cg * deltax;
			}
		}
		if (fabs(rat) < tol1)
			u = rat >= 0 ? x + tol1 : x - tol1;
		else
			u = x + rat;
		fu = neg_llf(f, u);
		if (fu > fx) {
			if (u < x)
				a = u;
			else
				b = u;
			if (fu <= fw || w == x) {
				v = w;
				w = u;
				fv = fw;
				fw = fu;
			} else if (fu <= fv || v == x || v == w) {
				v = u;
				fv = fu;
			}
		} else {
			if (u >= x)
				a = x;
			else
				b = x;
			v = w;
			w = x;
			x = u;
			fv = fw;
			fw = fx;
			fx = fu;
		}
	}
	return x;
}

static int power_fit(struct fstep *s, const struct fdata *d, struct ml_err *e)
{
	struct pair *p = pair_new(s, s->ncol);
	int k, rc;
	char q[160], qv[64];

	if (!p)
		return ml_err_nomem(e);
	for (k = 0; k < s->ncol; k++) {
		const double *x = d->v[s->ci[k]].num;
		struct llf f;
		size_t i, np = 0;
		double lambda, mean, var;
		double *xs = malloc((d->n ? d->n : 1) * sizeof(double));
		double *t = malloc((d->n ? d->n : 1) * sizeof(double));
		if (!xs || !t) {
			free(xs);
			free(t);
			return ml_err_nomem(e);
		}
		ml_feat_quote_col(q, sizeof(q), s->cols[k]);
		for (i = 0; i < d->n; i++) {
			if (x[i] != x[i])
				continue;
			if (s->method == PW_BC && x[i] <= 0) {
				ml_fmt_double(qv, x[i]);
				free(xs);
				free(t);
				return ml_err_set(
				    e, ML_E_DATA, d->name, ml_feat_line(d->line, i), 0,
				    "--power box-cox: column '%s' has the value %s; box-cox "
				    "needs values above 0 (use --power yeo-johnson)",
				    q, qv);
			}
			xs[np++] = x[i];
		}
		if ((rc = ml_feat_need_values(s, d, k, np, e)) < 0) {
			free(xs);
			free(t);
			return rc;
		}
		f.x = xs;
		f.n = np;
		f.method = s->method;
		f.t = t;
		for (i = 0; i < np; i++)
			t[i] = s->method == PW_BC ? log(xs[i])
						  : (xs[i] > 0	 ? 1
						     : xs[i] < 0 ? -1
								 : 0) *
							log1p(fabs(xs[i]));
		f.sumlog = np_sum(t, np);
		lambda = brent_min(&f, -2, 2);
		for (i = 0; i < np; i++)
			t[i] = s->method == PW_BC ? bc(xs[i], lambda) : yj(xs[i], lambda);
		mean_var(t, np, &mean, &var);
		free(xs);
		free(t);
		p->a[k] = lambda;
		p->b[k] = mean;
		if (is_constant(var, mean, np)) {
			ml_log(d->ctx, ML_LOG_WARN,
			       "--power: column '%s' is constant; it becomes 0", q);
			p->c[k] = 1;
		} else {
			p->c[k] = sqrt(var);
		}
	}
	return 0;
}

static int power_apply(struct fstep *s, struct fio *io, struct ml_err *e)
{
	const struct pair *p = s->p;
	size_t i;
	int k;

	(void)e;
	for (k = 0; k < s->ncol; k++) {
		int j = s->ci[k];
		const double *x = io->v[j].num;
		double *o = io->o[j].num, l = p->a[k], m = p->b[k], sd = p->c[k];
		if (s->method == PW_BC)
			for (i = 0; i < io->n; i++)
				o[i] = (bc(x[i], l) - m) / sd;
		else
			for (i = 0; i < io->n; i++)
				o[i] = x[i] == x[i] ? (yj(x[i], l) - m) / sd : NAN;
	}
	return 0;
}

static int power_load(struct fstep *s, struct ml_rbuf *b, struct ml_err *e)
{
	if (s->method != PW_YJ && s->method != PW_BC)
		return ml_feat_bad(e, "a --power method");
	return pair_load(s, b, e);
}

static int power_json(const struct fstep *s, cJSON *o)
{
	const struct pair *p = s->p;

	if (add_numbers(o, "lambda", p->a, p->ncol) < 0 ||
	    add_numbers(o, "mean", p->b, p->ncol) < 0 || add_numbers(o, "scale", p->c, p->ncol) < 0)
		return -1;
	return 0;
}

const struct fops ml_fops_power = {"power",   FK_POWER,	      FS_NUM,	  0,	       power_parse,
				   power_fit, inplace_layout, NULL,	  power_apply, NULL,
				   pair_save, power_load,     power_json, pair_free};

/* ---------------------------------------------------------------- clip */

struct clipq {
	double lo, hi;
};

static int clip_parse(struct fstep *s, const struct ml_feat_spec *spec, struct ml_err *e)
{
	char *comma;
	double lo, hi;

	(void)spec;
	s->colspec = ml_feat_cut(s->args);
	comma = strchr(s->args, ',');
	if (!comma || (*comma = 0, ml_parse_real(s->args, 0, 1, &lo) != 0) ||
	    ml_parse_real(comma + 1, 0, 1, &hi) != 0 || lo > hi) {
		if (comma)
			*comma = ',';
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "--clip: '%s' is not LOW,HIGH (quantiles, 0 <= LOW <= HIGH <= 1)",
				  s->args);
	}
	*comma = ',';
	return 0;
}

static int clip_fit(struct fstep *s, const struct fdata *d, struct ml_err *e)
{
	struct pair *p = pair_new(s, s->ncol);
	char *comma = strchr(s->args, ',');
	double qlo, qhi;
	int k, rc;

	if (!p || !comma)
		return ml_err_nomem(e);
	*comma = 0;
	ml_parse_real(s->args, 0, 1, &qlo);
	ml_parse_real(comma + 1, 0, 1, &qhi);
	*comma = ',';
	for (k = 0; k < s->ncol; k++) {
		size_t np;
		double *v = ml_feat_present(d->v[s->ci[k]].num, d->n, &np);
		if (!v)
			return ml_err_nomem(e);
		if ((rc = ml_feat_need_values(s, d, k, np, e)) < 0) {
			free(v);
			return rc;
		}
		p->a[k] = ml_feat_qsel(v, np, qlo);
		p->b[k] = ml_feat_qsel(v, np, qhi);
		free(v);
	}
	return 0;
}

static int clip_apply(struct fstep *s, struct fio *io, struct ml_err *e)
{
	const struct pair *p = s->p;
	size_t i;
	int k;

	(void)e;
	for (k = 0; k < s->ncol; k++) {
		int j = s->ci[k];
		const double *x = io->v[j].num;
		double *o = io->o[j].num, lo = p->a[k], hi = p->b[k];
		for (i = 0; i < io->n; i++)
			o[i] = x[i] < lo ? lo : x[i] > hi ? hi : x[i];
	}
	return 0;
}

static int clip_json(const struct fstep *s, cJSON *o)
{
	const struct pair *p = s->p;

	if (add_numbers(o, "low", p->a, p->ncol) < 0 || add_numbers(o, "high", p->b, p->ncol) < 0)
		return -1;
	return 0;
}

const struct fops ml_fops_clip = {"clip",    FK_CLIP,	     FS_NUM,	0,	    clip_parse,
				  clip_fit,  inplace_layout, NULL,	clip_apply, NULL,
				  pair_save, pair_load,	     clip_json, pair_free};
