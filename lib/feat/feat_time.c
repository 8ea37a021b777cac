/* Feature steps over time: lags and rolling windows, per group, from past rows only. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feat_int.h"
#include "ml/num.h"

/* What lags and windows share: the group and time columns and the time-order check. */
struct tcommon {
	char *group, *time;
	int gcol, tcol;
	struct fgroups groups;
	double *lastt; /* per group: the last time seen */
	size_t nlastt;
};

static int tc_parse(struct tcommon *c, const struct ml_feat_spec *spec, struct ml_err *e)
{
	c->gcol = c->tcol = -1;
	ml_fgroups_init(&c->groups);
	if (spec->group_col && !(c->group = ml_feat_strdup(spec->group_col)))
		return ml_err_nomem(e);
	if (spec->time_col && !(c->time = ml_feat_strdup(spec->time_col)))
		return ml_err_nomem(e);
	return 0;
}

static int tc_fit(struct tcommon *c, const struct fstep *s, const struct fdata *d, struct ml_err *e)
{
	int rc;

	if (c->group && (rc = ml_feat_find(d->s, c->group, "--group-col", s, 1, e)) < 0)
		return rc;
	if (c->time && (rc = ml_feat_find(d->s, c->time, "--time-col", s, 1, e)) < 0)
		return rc;
	return 0;
}

static int tc_layout(struct tcommon *c, const struct fstep *s, const struct ml_schema *in,
		     struct ml_err *e)
{
	if (c->group && (c->gcol = ml_feat_find(in, c->group, "--group-col", s, 0, e)) < 0)
		return c->gcol;
	if (c->time && (c->tcol = ml_feat_find(in, c->time, "--time-col", s, 0, e)) < 0)
		return c->tcol;
	return 0;
}

static void tc_reset(struct tcommon *c)
{
	ml_fgroups_release(&c->groups);
	ml_fgroups_init(&c->groups);
	free(c->lastt);
	c->lastt = NULL;
	c->nlastt = 0;
}

static void tc_free(struct tcommon *c)
{
	tc_reset(c);
	ml_fgroups_release(&c->groups);
	free(c->group);
	free(c->time);
}

static void tc_save(const struct tcommon *c, struct ml_wbuf *b)
{
	ml_wbuf_u8(b, c->group != NULL);
	if (c->group)
		ml_wbuf_str(b, c->group);
	ml_wbuf_u8(b, c->time != NULL);
	if (c->time)
		ml_wbuf_str(b, c->time);
}

static int tc_load(struct tcommon *c, struct ml_rbuf *b, struct ml_err *e)
{
	c->gcol = c->tcol = -1;
	ml_fgroups_init(&c->groups);
	if (ml_rbuf_u8(b) && !(c->group = ml_rbuf_str(b)))
		return ml_feat_bad_at(b, e, "the --group-col");
	if (ml_rbuf_u8(b) && !(c->time = ml_rbuf_str(b)))
		return ml_feat_bad_at(b, e, "the --time-col");
	return 0;
}

/* Row i's group (0 without a group column) and time (NaN without a time column);
 * ML_E_DATA when time goes backwards within a group. */
static int32_t tc_row(struct tcommon *c, const struct fstep *s, const struct fio *io, size_t i,
		      double *t, struct ml_err *e)
{
	int32_t g = 0;
	int rc;

	*t = NAN;
	if (c->gcol >= 0) {
		g = ml_fgroups_get(&c->groups, io->in->cols[c->gcol].type,
				   &io->in->cols[c->gcol].dict, io->v[c->gcol], i, e);
		if (g < 0)
			return g;
	}
	if ((size_t)g >= c->nlastt) {
		size_t n = ((size_t)g + 1) * 2, k;
		double *a = realloc(c->lastt, n * sizeof(*a));
		if (!a)
			return ml_err_nomem(e);
		for (k = c->nlastt; k < n; k++)
			a[k] = NAN;
		c->lastt = a;
		c->nlastt = n;
	}
	if (c->tcol >= 0) {
		if ((rc = ml_feat_time(io->in, c->tcol, io->v[c->tcol], io->line, i, t, e)) < 0)
			return rc;
		if (*t == *t) {
			if (c->lastt[g] == c->lastt[g] && *t < c->lastt[g]) {
				const struct ml_col *tc = &io->in->cols[c->tcol];
				char q[160], v[160];
				ml_feat_quote_col(q, sizeof(q), tc->name);
				if (tc->type == ML_CAT) {
					int32_t code = io->v[c->tcol].cat[i];
					ml_err_quote(v, sizeof(v), tc->dict.str[code],
						     tc->dict.len[code]);
				} else {
					ml_fmt_double(v, *t);
				}
				return ml_err_set(
				    e, ML_E_DATA, NULL, ml_feat_line(io->line, i), 0,
				    "--%s: time goes backwards in column '%s' ('%s' comes "
				    "after a later time%s); sort the rows by time",
				    s->ops->name, q, v, c->gcol >= 0 ? " of its group" : "");
			}
			c->lastt[g] = *t;
		}
	}
	return g;
}

/* ---------------------------------------------------------------- lag */

struct lag {
	struct tcommon tc;
	int nk, maxk;
	int *k;
	int first;     /* output index of the first lag column */
	double *ring;  /* per group: ncol * maxk values */
	double *count; /* per group: rows seen */
	size_t ng;
};

static int lag_parse(struct fstep *s, const struct ml_feat_spec *spec, struct ml_err *e)
{
	struct lag *p = calloc(1, sizeof(*p));
	char *ks, *tok;

	if (!p)
		return ml_err_nomem(e);
	s->p = p;
	if (tc_parse(&p->tc, spec, e) < 0)
		return ML_E_NOMEM;
	ks = ml_feat_cut(s->args);
	s->colspec = s->args[0] ? s->args : NULL;
	if (!ks || !s->colspec)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "--lag: '%s' is not COL:K[,K...]",
				  s->arg);
	p->k = malloc((strlen(ks) / 2 + 2) * sizeof(int));
	if (!p->k)
		return ml_err_nomem(e);
	for (tok = ks; tok;) {
		char *comma = strchr(tok, ',');
		long v;
		int q, dup = 0;
		if (comma)
			*comma = 0;
		if (ml_parse_long(tok, 1, 100000, &v) != 0)
			return ml_err_set(
			    e, ML_E_USAGE, NULL, 0, 0,
			    "--lag: '%s' is not a lag (a whole number from 1 to 100000)", tok);
		for (q = 0; q < p->nk; q++)
			dup |= p->k[q] == v;
		if (!dup)
			p->k[p->nk++] = (int)v;
		if (v > p->maxk)
			p->maxk = (int)v;
		tok = comma ? comma + 1 : NULL;
	}
	return 0;
}

static int lag_fit(struct fstep *s, const struct fdata *d, struct ml_err *e)
{
	struct lag *p = s->p;

	return tc_fit(&p->tc, s, d, e);
}

static int lag_layout(struct fstep *s, const struct ml_schema *in, struct ml_err *e)
{
	struct lag *p = s->p;
	int j, k, q, rc;
	char name[1100];

	if ((rc = tc_layout(&p->tc, s, in, e)) < 0)
		return rc;
	for (j = 0; j < in->ncol; j++)
		if ((rc = ml_fout_pass(s, in, j, e)) < 0)
			return rc;
	p->first = s->nout;
	for (k = 0; k < s->ncol; k++)
		for (q = 0; q < p->nk; q++) {
			snprintf(name, sizeof(name), "%s_lag%d", s->cols[k], p->k[q]);
			if ((rc = ml_fout_add(s, name, ML_NUM, -1, 1, e)) < 0)
				return rc;
		}
	return 0;
}

static void lag_reset(struct fstep *s)
{
	struct lag *p = s->p;

	tc_reset(&p->tc);
	free(p->ring);
	free(p->count);
	p->ring = p->count = NULL;
	p->ng = 0;
}

static int lag_apply(struct fstep *s, struct fio *io, struct ml_err *e)
{
	struct lag *p = s->p;
	size_t i, per = (size_t)s->ncol * (size_t)p->maxk;
	int k, q;

	for (i = 0; i < io->n; i++) {
		double t, *ring, cnt;
		int32_t g = tc_row(&p->tc, s, io, i, &t, e);
		if (g < 0)
			return g;
		if ((size_t)g >= p->ng) {
			size_t n = ((size_t)g + 1) * 2;
			double *r = realloc(p->ring, n * per * sizeof(double));
			double *c;
			if (!r)
				return ml_err_nomem(e);
			p->ring = r;
			c = realloc(p->count, n * sizeof(double));
			if (!c)
				return ml_err_nomem(e);
			p->count = c;
			memset(c + p->ng, 0, (n - p->ng) * sizeof(double));
			p->ng = n;
		}
		ring = p->ring + (size_t)g * per;
		cnt = p->count[g];
		for (k = 0; k < s->ncol; k++) {
			const double *r = ring + (size_t)k * (size_t)p->maxk;
			for (q = 0; q < p->nk; q++) {
				double lag = p->k[q];
				io->o[p->first + k * p->nk + q].num[i] =
				    cnt >= lag ? r[(size_t)fmod(cnt - lag, p->maxk)] : NAN;
			}
		}
		for (k = 0; k < s->ncol; k++)
			ring[(size_t)k * (size_t)p->maxk + (size_t)fmod(cnt, p->maxk)] =
			    io->v[s->ci[k]].num[i];
		p->count[g] = cnt + 1;
	}
	return 0;
}

static void lag_save(const struct fstep *s, struct ml_wbuf *b)
{
	const struct lag *p = s->p;
	int q;

	tc_save(&p->tc, b);
	ml_wbuf_u32(b, (uint32_t)p->nk);
	for (q = 0; q < p->nk; q++)
		ml_wbuf_u32(b, (uint32_t)p->k[q]);
}

static int lag_load(struct fstep *s, struct ml_rbuf *b, struct ml_err *e)
{
	struct lag *p = calloc(1, sizeof(*p));
	uint32_t n, q;
	int rc;

	if (!p)
		return ml_err_nomem(e);
	s->p = p;
	if ((rc = tc_load(&p->tc, b, e)) < 0)
		return rc;
	n = ml_rbuf_u32(b);
	if (b->err || n < 1 || !ml_feat_count(b, n, 4))
		return ml_feat_bad(e, "the --lag lags");
	p->k = malloc(n * sizeof(int));
	if (!p->k)
		return ml_err_nomem(e);
	p->nk = (int)n;
	for (q = 0; q < n; q++) {
		uint32_t v = ml_rbuf_u32(b);
		if (v < 1 || v > 100000)
			return ml_feat_bad(e, "the --lag lags");
		p->k[q] = (int)v;
		if (p->k[q] > p->maxk)
			p->maxk = p->k[q];
	}
	return 0;
}

static void lag_free(struct fstep *s)
{
	struct lag *p = s->p;

	if (!p)
		return;
	lag_reset(s);
	tc_free(&p->tc);
	free(p->k);
	free(p);
	s->p = NULL;
}

const struct fops ml_fops_lag = {"lag",	   FK_LAG,     FS_NUM,	  0,	     lag_parse,
				 lag_fit,  lag_layout, lag_reset, lag_apply, NULL,
				 lag_save, lag_load,   NULL,	  lag_free};

/* ---------------------------------------------------------------- rolling */

enum { RF_MEAN, RF_STD, RF_MIN, RF_MAX, RF_SUM, RF_COUNT, RF_TREND, RF_N };

static const char *const rf_names[RF_N] = {"mean", "std", "min", "max", "sum", "count", "trend"};

struct win {
	double *x, *v; /* ring buffer of (position, value) */
	size_t head, n, cap;
};

struct roll {
	struct tcommon tc;
	long rows;   /* a window of rows, or 0 */
	double dur;  /* a window of time (seconds), or 0 */
	double unit; /* seconds per unit of the duration as written: trend is per unit */
	char *wtext; /* the window as written, for names */
	int nf;
	int f[RF_N];
	int first;
	struct win *w; /* per (group, column) */
	size_t nw;
	double *count; /* per group: rows seen (positions for row windows) */
	size_t ng;
};

static int roll_parse(struct fstep *s, const struct ml_feat_spec *spec, struct ml_err *e)
{
	struct roll *p = calloc(1, sizeof(*p));
	char *win, *funcs, *tok;
	size_t len;

	if (!p)
		return ml_err_nomem(e);
	s->p = p;
	if (tc_parse(&p->tc, spec, e) < 0)
		return ML_E_NOMEM;
	win = ml_feat_cut(s->args);
	funcs = win ? ml_feat_cut(win) : NULL;
	s->colspec = s->args[0] ? s->args : NULL;
	if (!win || !funcs || !s->colspec)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "--rolling: '%s' is not COL:WINDOW:FUNCS", s->arg);
	if (!(p->wtext = ml_feat_strdup(win)))
		return ml_err_nomem(e);
	len = strlen(win);
	if (ml_parse_window(win, 1000000, &p->rows, &p->dur, &p->unit) < 0) {
		int digit = len && win[len - 1] >= '0' && win[len - 1] <= '9';
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  digit ? "--rolling: window '%s' is not a row count (1 to 1000000) "
					  "or a duration (5m, 1h, 1d)"
					: "--rolling: window '%s' is not a row count (12) or a "
					  "duration (a number and s, m, h, d or w: 5m, 1h, 1d)",
				  win);
	}
	if (p->dur > 0) {
		if (!spec->time_col)
			return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
					  "--rolling: a window of time (%s) needs --time-col", win);
	}
	for (tok = funcs; tok;) {
		char *comma = strchr(tok, ',');
		int k, q, dup = 0;
		if (comma)
			*comma = 0;
		for (k = 0; k < RF_N; k++)
			if (strcmp(tok, rf_names[k]) == 0)
				break;
		if (k == RF_N)
			return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
					  "--rolling: unknown function '%s' (mean, std, min, max, "
					  "sum, count or trend)",
					  tok);
		for (q = 0; q < p->nf; q++)
			dup |= p->f[q] == k;
		if (!dup)
			p->f[p->nf++] = k;
		tok = comma ? comma + 1 : NULL;
	}
	return 0;
}

static int roll_fit(struct fstep *s, const struct fdata *d, struct ml_err *e)
{
	struct roll *p = s->p;

	return tc_fit(&p->tc, s, d, e);
}

static int roll_layout(struct fstep *s, const struct ml_schema *in, struct ml_err *e)
{
	struct roll *p = s->p;
	int j, k, q, rc;
	char name[1100];

	if ((rc = tc_layout(&p->tc, s, in, e)) < 0)
		return rc;
	if (p->dur > 0 && p->tc.tcol < 0)
		return ml_feat_bad(e, "a window of time without a time column");
	for (j = 0; j < in->ncol; j++)
		if ((rc = ml_fout_pass(s, in, j, e)) < 0)
			return rc;
	p->first = s->nout;
	for (k = 0; k < s->ncol; k++)
		for (q = 0; q < p->nf; q++) {
			snprintf(name, sizeof(name), "%s_%s%s", s->cols[k], rf_names[p->f[q]],
				 p->wtext);
			if ((rc = ml_fout_add(s, name, ML_NUM, -1, 1, e)) < 0)
				return rc;
		}
	return 0;
}

static void roll_reset(struct fstep *s)
{
	struct roll *p = s->p;
	size_t i;

	tc_reset(&p->tc);
	for (i = 0; i < p->nw; i++) {
		free(p->w[i].x);
		free(p->w[i].v);
	}
	free(p->w);
	p->w = NULL;
	p->nw = 0;
	free(p->count);
	p->count = NULL;
	p->ng = 0;
}

static int win_push(struct win *w, double x, double v)
{
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 16, i;
		double *nx = malloc(cap * sizeof(double)), *nv = malloc(cap * sizeof(double));
		if (!nx || !nv) {
			free(nx);
			free(nv);
			return -1;
		}
		for (i = 0; i < w->n; i++) {
			nx[i] = w->x[(w->head + i) % w->cap];
			nv[i] = w->v[(w->head + i) % w->cap];
		}
		free(w->x);
		free(w->v);
		w->x = nx;
		w->v = nv;
		w->head = 0;
		w->cap = cap;
	}
	w->x[(w->head + w->n) % w->cap] = x;
	w->v[(w->head + w->n) % w->cap] = v;
	w->n++;
	return 0;
}

static void win_pop(struct win *w)
{
	w->head = (w->head + 1) % w->cap;
	w->n--;
}

/* The functions over the window's entries with position below xmax (all when NaN). */
static void win_eval(const struct roll *p, const struct win *w, double xmax, double xscale,
		     double *out)
{
	size_t i, cnt = 0;
	double sum = 0, mn = INFINITY, mx = -INFINITY, mean, ss = 0, sx = 0, sxx = 0, sxy = 0;
	int q;

	for (i = 0; i < w->n; i++) {
		size_t at = (w->head + i) % w->cap;
		double v = w->v[at];
		if (v != v || (xmax == xmax && !(w->x[at] < xmax)))
			continue;
		cnt++;
		sum += v;
		if (v < mn)
			mn = v;
		if (v > mx)
			mx = v;
	}
	mean = cnt ? sum / (double)cnt : NAN;
	for (i = 0; i < w->n; i++) {
		size_t at = (w->head + i) % w->cap;
		double v = w->v[at];
		if (v != v || (xmax == xmax && !(w->x[at] < xmax)))
			continue;
		ss += (v - mean) * (v - mean);
		sx += w->x[at] / xscale;
	}
	if (cnt) {
		double xm = sx / (double)cnt;
		for (i = 0; i < w->n; i++) {
			size_t at = (w->head + i) % w->cap;
			double v = w->v[at], dx;
			if (v != v || (xmax == xmax && !(w->x[at] < xmax)))
				continue;
			dx = w->x[at] / xscale - xm;
			sxx += dx * dx;
			sxy += dx * (v - mean);
		}
	}
	for (q = 0; q < p->nf; q++) {
		double r;
		switch (p->f[q]) {
		case RF_MEAN:
			r = mean;
			break;
		case RF_STD:
			r = cnt > 1 ? sqrt(ss / (double)(cnt - 1)) : NAN;
			break;
		case RF_MIN:
			r = cnt ? mn : NAN;
			break;
		case RF_MAX:
			r = cnt ? mx : NAN;
			break;
		case RF_SUM:
			r = sum;
			break;
		case RF_COUNT:
			r = (double)cnt;
			break;
		default:
			r = cnt > 1 && sxx > 0 ? sxy / sxx : NAN;
		}
		out[q] = r;
	}
}

static int roll_apply(struct fstep *s, struct fio *io, struct ml_err *e)
{
	struct roll *p = s->p;
	size_t i;
	int k, q;
	double out[RF_N];
	char qc[160];

	for (i = 0; i < io->n; i++) {
		double t, x;
		int32_t g = tc_row(&p->tc, s, io, i, &t, e);
		if (g < 0)
			return g;
		if ((size_t)g >= p->ng) {
			size_t n = ((size_t)g + 1) * 2;
			double *c = realloc(p->count, n * sizeof(double));
			struct win *w;
			if (!c)
				return ml_err_nomem(e);
			memset(c + p->ng, 0, (n - p->ng) * sizeof(double));
			p->count = c;
			p->ng = n;
			w = realloc(p->w, n * (size_t)s->ncol * sizeof(*w));
			if (!w)
				return ml_err_nomem(e);
			memset(w + p->nw, 0, (n * (size_t)s->ncol - p->nw) * sizeof(*w));
			p->w = w;
			p->nw = n * (size_t)s->ncol;
		}
		if (p->dur > 0 && t != t) {
			ml_feat_quote_col(qc, sizeof(qc), io->in->cols[p->tc.tcol].name);
			return ml_err_set(e, ML_E_DATA, NULL, ml_feat_line(io->line, i), 0,
					  "--rolling: the time in column '%s' is missing", qc);
		}
		x = p->dur > 0 ? t : p->count[g];
		p->count[g] += 1;
		for (k = 0; k < s->ncol; k++) {
			struct win *w = &p->w[(size_t)g * (size_t)s->ncol + (size_t)k];
			if (p->dur > 0) {
				while (w->n && w->x[w->head] < t - p->dur)
					win_pop(w);
				win_eval(p, w, t, p->unit, out);
			} else {
				win_eval(p, w, NAN, 1, out);
			}
			for (q = 0; q < p->nf; q++)
				io->o[p->first + k * p->nf + q].num[i] = out[q];
			if (win_push(w, x, io->v[s->ci[k]].num[i]) < 0)
				return ml_err_nomem(e);
			if (p->rows && w->n > (size_t)p->rows)
				win_pop(w);
		}
	}
	return 0;
}

static void roll_save(const struct fstep *s, struct ml_wbuf *b)
{
	const struct roll *p = s->p;
	int q;

	tc_save(&p->tc, b);
	ml_wbuf_str(b, p->wtext);
	ml_wbuf_u64(b, (uint64_t)p->rows);
	ml_wbuf_f64(b, p->dur);
	ml_wbuf_f64(b, p->unit);
	ml_wbuf_u32(b, (uint32_t)p->nf);
	for (q = 0; q < p->nf; q++)
		ml_wbuf_u8(b, (uint8_t)p->f[q]);
}

static int roll_load(struct fstep *s, struct ml_rbuf *b, struct ml_err *e)
{
	struct roll *p = calloc(1, sizeof(*p));
	uint32_t n, q;
	int rc;

	if (!p)
		return ml_err_nomem(e);
	s->p = p;
	if ((rc = tc_load(&p->tc, b, e)) < 0)
		return rc;
	p->wtext = ml_rbuf_str(b);
	p->rows = (long)ml_rbuf_u64(b);
	p->dur = ml_rbuf_f64(b);
	p->unit = ml_rbuf_f64(b);
	n = ml_rbuf_u32(b);
	if (!p->wtext || b->err || n < 1 || n > RF_N || p->rows < 0 || p->rows > 1000000 ||
	    !(p->dur >= 0) || (p->rows == 0) == (p->dur == 0) || (p->dur > 0 && !(p->unit > 0)))
		return ml_feat_bad_at(b, e, "the --rolling window");
	p->nf = (int)n;
	for (q = 0; q < n; q++) {
		p->f[q] = ml_rbuf_u8(b);
		if (p->f[q] >= RF_N)
			return ml_feat_bad(e, "the --rolling functions");
	}
	return 0;
}

static void roll_free(struct fstep *s)
{
	struct roll *p = s->p;

	if (!p)
		return;
	roll_reset(s);
	tc_free(&p->tc);
	free(p->wtext);
	free(p);
	s->p = NULL;
}

const struct fops ml_fops_rolling = {"rolling", FK_ROLLING,  FS_NUM,	 0,	     roll_parse,
				     roll_fit,	roll_layout, roll_reset, roll_apply, NULL,
				     roll_save, roll_load,   NULL,	 roll_free};
