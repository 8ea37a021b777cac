/* The moving-baseline detector (-a baseline): rows in time order, per group, each value
 * column scored by its robust deviation from a baseline of the group's rows before it
 * (an EWMA of level and absolute deviation, or the median and MAD of a window), with an
 * optional seasonal difference; the groups' state after the training rows is kept in
 * the model, so that scoring carries on where training stopped. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ml/feat.h"
#include "detect.h"
#include "core/sort.h"

#define BL_VERSION 1
#define BL_MAX_ROWS 100000 /* the most a group's window or season ring holds */
#define BL_FAR 3.5	   /* the auto threshold, in robust deviations */
#define BL_MAD 1.482602218505602  /* MAD to a normal standard deviation */
#define BL_MEAN 1.2533141373155001 /* mean absolute deviation to one: sqrt(pi / 2) */

enum { BL_EWMA, BL_MEDIAN };

static const struct ml_param bl_params[] = {
	{"time-col", ML_P_STRING, 0, 0, 0, "",
	 "the time column (required): ISO 8601 dates or date-times, or numbers (seconds since "
	 "1970-01-01 UTC or a step count); rows in time order within a group"},
	{"group-col", ML_P_STRING, 0, 0, 0, "",
	 "one baseline per value of this column (default: one for all rows)"},
	{"window", ML_P_STRING, 0, 0, 0, "20",
	 "N rows or a duration (90s, 1h, 7d) of the group's rows the baseline follows"},
	{"method", ML_P_ENUM, 0, 0, 0, "ewma,median",
	 "ewma: exponentially weighted level and absolute deviation, alpha 2/(N+1); median: "
	 "median and 1.4826 MAD of the window"},
	{"season", ML_P_INT, 0, 0, BL_MAX_ROWS, NULL,
	 "compare each row with the value this many rows before in its group, the method "
	 "following those differences (0: none)"},
	{"warmup", ML_P_INT, 3, 2, BL_MAX_ROWS, NULL,
	 "values a group's baseline takes before it scores a row (rows before score 0)"},
	{"scale-floor", ML_P_REAL, 0.001, 0, 1, NULL,
	 "the least scale, a fraction of the column's robust scale over the training rows"},
	ML_DETECT_PARAMS,
	{NULL, ML_P_REAL, 0, 0, 0, NULL, NULL}};

/* One group's baseline, q value columns. */
struct bgroup {
	double key;	/* the group column's value (level index when categorical) */
	double tlast;	/* time of its last row */
	double td;	/* time of its last value taken by the method */
	uint64_t rows;	/* rows seen */
	uint64_t nd;	/* values the method has taken */
	double *seas;	/* season ring: row k's values at seas[(k % season) * q + c] */
	double *lev, *dev; /* ewma: level and mean absolute deviation per column */
	size_t head, len, cap; /* median: the window, a ring of cap entries */
	double *wt, *wv;       /* their times and values (wv[k * q + c]) */
};

/* Every group's baseline, found by key through an open-addressing index. */
struct bstate {
	struct bgroup *g;
	size_t ng, gcap;
	size_t *idx; /* hcap slots: group index + 1, 0 empty */
	size_t hcap;
	double *tmp; /* scratch for medians: BL_MAX_ROWS values */
};

struct baseline {
	int p, q;
	int tcol, gcol; /* features (gcol -1: no groups) */
	int *vcol;	/* the value columns */
	char *tname;	/* the time column's name, for messages */
	int method, season, warmup;
	long wrows;	/* window in rows, or 0 */
	double wsec;	/* window in seconds, or 0 */
	double floorfrac;
	double *floor;	/* per value column: the least scale */
	struct bstate st; /* after the training rows */
	struct ml_detect det;
};

static void bg_release(struct bgroup *g)
{
	free(g->seas);
	free(g->lev);
	free(g->dev);
	free(g->wt);
	free(g->wv);
}

static void bs_release(struct bstate *s)
{
	size_t k;

	for (k = 0; k < s->ng; k++)
		bg_release(&s->g[k]);
	free(s->g);
	free(s->idx);
	free(s->tmp);
	memset(s, 0, sizeof(*s));
}

static void bl_free(void *state)
{
	struct baseline *m = state;

	if (!m)
		return;
	bs_release(&m->st);
	free(m->vcol);
	free(m->tname);
	free(m->floor);
	ml_detect_release(&m->det);
	free(m);
}

static uint64_t key_hash(double key)
{
	uint64_t x;

	if (key == 0)
		key = 0; /* -0 and 0 are one group */
	memcpy(&x, &key, sizeof(x));
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* The slot of key in the index: its group's, or the empty one where it would go. */
static size_t bs_slot(const struct bstate *s, double key)
{
	size_t h = (size_t)key_hash(key) & (s->hcap - 1);

	while (s->idx[h] && s->g[s->idx[h] - 1].key != key)
		h = (h + 1) & (s->hcap - 1);
	return h;
}

static int bs_rehash(struct bstate *s, size_t hcap)
{
	size_t *idx = calloc(hcap, sizeof(*idx)), k;

	if (!idx)
		return -1;
	free(s->idx);
	s->idx = idx;
	s->hcap = hcap;
	for (k = 0; k < s->ng; k++)
		s->idx[bs_slot(s, s->g[k].key)] = k + 1;
	return 0;
}

/* A new empty group for key (not in s) with room for m's rings; NULL when out of
 * memory. */
static struct bgroup *bs_add(struct bstate *s, const struct baseline *m, double key)
{
	struct bgroup *g;
	size_t q = (size_t)m->q;

	if (s->ng == s->gcap) {
		size_t cap = s->gcap ? 2 * s->gcap : 8;
		struct bgroup *ng = realloc(s->g, cap * sizeof(*ng));
		if (!ng)
			return NULL;
		s->g = ng;
		s->gcap = cap;
	}
	if (2 * (s->ng + 1) > s->hcap && bs_rehash(s, s->hcap ? 2 * s->hcap : 16) < 0)
		return NULL;
	g = &s->g[s->ng];
	memset(g, 0, sizeof(*g));
	g->key = key == 0 ? 0 : key;
	g->tlast = g->td = -INFINITY;
	if (m->season && !(g->seas = calloc((size_t)m->season * q, sizeof(double))))
		return NULL;
	if (m->method == BL_EWMA) {
		g->lev = calloc(q, sizeof(double));
		g->dev = calloc(q, sizeof(double));
		if (!g->lev || !g->dev) {
			bg_release(g);
			return NULL;
		}
	} else {
		g->cap = m->wrows ? (size_t)m->wrows : 16;
		g->wt = malloc(g->cap * sizeof(double));
		g->wv = malloc(g->cap * q * sizeof(double));
		if (!g->wt || !g->wv) {
			bg_release(g);
			return NULL;
		}
	}
	s->idx[bs_slot(s, g->key)] = ++s->ng;
	return g;
}

/* The window of a duration grown to cap entries, oldest first. */
static int bg_grow(struct bgroup *g, size_t q, size_t cap)
{
	double *wt = malloc(cap * sizeof(double)), *wv = malloc(cap * q * sizeof(double));
	size_t k;

	if (!wt || !wv) {
		free(wt);
		free(wv);
		return -1;
	}
	for (k = 0; k < g->len; k++) {
		size_t r = (g->head + k) % g->cap;
		wt[k] = g->wt[r];
		memcpy(wv + k * q, g->wv + r * q, q * sizeof(double));
	}
	free(g->wt);
	free(g->wv);
	g->wt = wt;
	g->wv = wv;
	g->head = 0;
	g->cap = cap;
	return 0;
}

static double median_of(double *v, size_t n)
{
	qsort(v, n, sizeof(double), ml_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Column c's deviation d from the median window: |d - median| / max(1.4826 MAD, floor). */
static double bg_median_z(const struct bgroup *g, size_t q, size_t c, double d, double floor,
			  double *tmp)
{
	double med, mad;
	size_t k;

	for (k = 0; k < g->len; k++)
		tmp[k] = g->wv[((g->head + k) % g->cap) * q + c];
	med = median_of(tmp, g->len);
	for (k = 0; k < g->len; k++)
		tmp[k] = fabs(tmp[k] - med);
	mad = BL_MAD * median_of(tmp, g->len);
	return fabs(d - med) / (mad > floor ? mad : floor);
}

/* Score row i of X (leading dimension ld) against its group's baseline in s, then add it
 * there. d has room for q values; con, when not NULL, gets the p + 1 contributions: each
 * value column's robust deviation (0 before the warm-up ends), 0 for the others. */
static int bl_row(const struct baseline *m, struct bstate *s, const double *X, size_t ld,
		  size_t i, double *score, double *d, double *con, struct ml_err *e)
{
	double t = X[(size_t)m->tcol * ld + i], key = m->gcol >= 0 ? X[(size_t)m->gcol * ld + i] : 0;
	size_t q = (size_t)m->q, c, h;
	struct bgroup *g;
	double z = 0;

	if (key != key) /* the learner layer lets no missing value through: never here */
		return ml_err_set(e, ML_E_DATA, NULL, ML_ALGO_ROW(i), 0, "missing group value");
	if (!s->idx || !s->idx[h = bs_slot(s, key)]) {
		if (!(g = bs_add(s, m, key)))
			return ml_err_nomem(e);
	} else {
		g = &s->g[s->idx[h] - 1];
	}
	if (t < g->tlast)
		return ml_err_set(e, ML_E_DATA, NULL, ML_ALGO_ROW(i), 0,
				  "time %.17g in column '%s' is before %.17g, the time of the "
				  "previous row of its group (rows must be in time order)",
				  t, m->tname, g->tlast);
	g->tlast = t;
	*score = 0;
	if (con)
		memset(con, 0, ((size_t)m->p + 1) * sizeof(double));
	for (c = 0; c < q; c++)
		d[c] = X[(size_t)m->vcol[c] * ld + i];
	if (m->season) {
		double *r = g->seas + (size_t)(g->rows % (uint64_t)m->season) * q;
		int have = g->rows >= (uint64_t)m->season;
		for (c = 0; c < q; c++) {
			double x = d[c];
			d[c] = x - r[c];
			r[c] = x;
		}
		g->rows++;
		if (!have)
			return 0;
	} else {
		g->rows++;
	}
	if (m->method == BL_EWMA) {
		double a = m->wrows ? 2.0 / ((double)m->wrows + 1) : 1 - exp(-2 * (t - g->td) / m->wsec);
		for (c = 0; c < q; c++) {
			double r = fabs(d[c] - g->lev[c]), sc = BL_MEAN * g->dev[c];
			if (g->nd >= (uint64_t)m->warmup) {
				double zc = r / (sc > m->floor[c] ? sc : m->floor[c]);
				if (zc > z)
					z = zc;
				if (con)
					con[m->vcol[c]] = zc;
			}
			if (g->nd == 0) {
				g->lev[c] = d[c];
				continue;
			}
			g->dev[c] = g->nd == 1 ? r : (1 - a) * g->dev[c] + a * r;
			g->lev[c] = (1 - a) * g->lev[c] + a * d[c];
		}
	} else {
		if (m->wsec)
			while (g->len && !(g->wt[g->head] > t - m->wsec)) {
				g->head = (g->head + 1) % g->cap;
				g->len--;
			}
		if (g->len >= (size_t)m->warmup)
			for (c = 0; c < q; c++) {
				double zc = bg_median_z(g, q, c, d[c], m->floor[c], s->tmp);
				if (zc > z)
					z = zc;
				if (con)
					con[m->vcol[c]] = zc;
			}
		if (g->len == g->cap) {
			if (m->wrows) {
				g->head = (g->head + 1) % g->cap;
				g->len--;
			} else if (g->cap >= BL_MAX_ROWS) {
				return ml_err_set(e, ML_E_DATA, NULL, ML_ALGO_ROW(i), 0,
						  "more than %d rows of a group within the --window "
						  "of %.17g seconds",
						  BL_MAX_ROWS, m->wsec);
			} else if (bg_grow(g, q, g->cap * 2 < BL_MAX_ROWS ? g->cap * 2 : BL_MAX_ROWS) <
				   0) {
				return ml_err_nomem(e);
			}
		}
		h = (g->head + g->len) % g->cap;
		g->wt[h] = t;
		memcpy(g->wv + h * q, d, q * sizeof(double));
		g->len++;
	}
	g->td = t;
	g->nd++;
	*score = z;
	return 0;
}

/* Scratch of a state: the median's. */
static int bs_scratch(struct bstate *s, const struct baseline *m)
{
	if (m->method == BL_MEDIAN && !s->tmp &&
	    !(s->tmp = malloc((m->wrows ? (size_t)m->wrows : BL_MAX_ROWS) * sizeof(double))))
		return -1;
	return 0;
}

static int bl_run(const struct baseline *m, struct bstate *s, const double *X, size_t n,
		  size_t ld, double *out, double *con, struct ml_err *e)
{
	double *d = malloc((size_t)m->q * sizeof(double));
	size_t i;
	int rc = 0;

	if (!d || bs_scratch(s, m) < 0) {
		free(d);
		return ml_err_nomem(e);
	}
	for (i = 0; i < n && rc == 0; i++)
		rc = bl_row(m, s, X, ld, i, &out[i * ML_DETECT_NOUT], d,
			    con ? con + i * ((size_t)m->p + 1) : NULL, e);
	free(d);
	return rc;
}

/* A deep copy of the fitted state, for a stream to carry on from. */
static int bs_copy(struct bstate *dst, const struct bstate *src, const struct baseline *m)
{
	size_t q = (size_t)m->q, k;

	memset(dst, 0, sizeof(*dst));
	for (k = 0; k < src->ng; k++) {
		const struct bgroup *a = &src->g[k];
		struct bgroup *b = bs_add(dst, m, a->key);
		if (!b || (a->cap > b->cap && bg_grow(b, q, a->cap) < 0)) {
			bs_release(dst);
			return -1;
		}
		b->tlast = a->tlast;
		b->td = a->td;
		b->rows = a->rows;
		b->nd = a->nd;
		if (m->season)
			memcpy(b->seas, a->seas, (size_t)m->season * q * sizeof(double));
		if (m->method == BL_EWMA) {
			memcpy(b->lev, a->lev, q * sizeof(double));
			memcpy(b->dev, a->dev, q * sizeof(double));
			continue;
		}
		for (b->len = 0; b->len < a->len; b->len++) {
			size_t r = (a->head + b->len) % a->cap;
			b->wt[b->len] = a->wt[r];
			memcpy(b->wv + b->len * q, a->wv + r * q, q * sizeof(double));
		}
	}
	return 0;
}

static void bl_stream_free(void *stream)
{
	if (stream) {
		bs_release(stream);
		free(stream);
	}
}

static int bl_stream_predict(const void *state, void **stream, const double *X, size_t n,
			     size_t ld, double *out, double *con, struct ml_err *e)
{
	const struct baseline *m = state;
	int rc;

	if (!*stream) {
		struct bstate *s = calloc(1, sizeof(*s));
		if (!s || bs_copy(s, &m->st, m) < 0) {
			free(s);
			return ml_err_nomem(e);
		}
		*stream = s;
	}
	if ((rc = bl_run(m, *stream, X, n, ld, out, con, e)) < 0)
		return rc;
	ml_detect_apply(&m->det, out, n);
	return 0;
}

/* Without a stream (a caller scoring rows apart): each call from the fitted state. */
static int bl_predict(const void *state, const double *X, size_t n, size_t ld, double *out,
		      int what, struct ml_err *e)
{
	void *s = NULL;
	int rc;

	(void)what;
	rc = bl_stream_predict(state, &s, X, n, ld, out, NULL, e);
	bl_stream_free(s);
	return rc;
}

/* The feature named name, or -1. */
static int find_feature(const struct ml_data *d, const char *name)
{
	int j;

	for (j = 0; j < d->p; j++)
		if (d->names && strcmp(d->names[j], name) == 0)
			return j;
	return -1;
}

/* The columns and options of a fit into m. */
static int bl_setup(struct baseline *m, const struct ml_data *d, const struct ml_params *hp,
		    struct ml_err *e)
{
	const char *tn = ml_param_text(hp, "time-col"), *gn = ml_param_text(hp, "group-col");
	const char *w = ml_param_text(hp, "window");
	int j;

	if (ml_parse_window(w, BL_MAX_ROWS, &m->wrows, &m->wsec, NULL) != 0)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "invalid value '%s' for --window of -a baseline (a count of rows "
				  "from 1 to %d, or a duration such as 90s, 1h or 7d)",
				  w, BL_MAX_ROWS);
	m->method = (int)ml_param(hp, "method");
	m->season = (int)ml_param(hp, "season");
	m->warmup = (int)ml_param(hp, "warmup");
	m->floorfrac = ml_param(hp, "scale-floor");
	if (m->wrows && m->warmup > m->wrows)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "--warmup %d is more than the --window of %ld rows: no row would "
				  "be scored",
				  m->warmup, m->wrows);
	if (!tn || !*tn)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "-a baseline needs --time-col COL (the time column)");
	if ((m->tcol = find_feature(d, tn)) < 0)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "--time-col: no feature column '%s' in the training rows", tn);
	m->gcol = -1;
	if (gn && *gn) {
		if ((m->gcol = find_feature(d, gn)) < 0)
			return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
					  "--group-col: no feature column '%s' in the training rows",
					  gn);
		if (m->gcol == m->tcol)
			return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
					  "--group-col and --time-col name the same column");
	}
	if (!(m->vcol = malloc((size_t)d->p * sizeof(int))) || !(m->tname = strdup(tn)))
		return ml_err_nomem(e);
	for (j = 0; j < d->p; j++) {
		if (j == m->tcol || j == m->gcol)
			continue;
		if (d->ncat && d->ncat[j])
			return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
					  "value column '%s' is not numeric (-a baseline scores "
					  "numeric columns: leave it out with --ignore)",
					  d->names[j]);
		m->vcol[m->q++] = j;
	}
	if (m->q == 0)
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				  "-a baseline needs a numeric value column besides the time and "
				  "group columns");
	return 0;
}

static int bl_fit(void **state, const struct ml_data *d, const struct ml_data *valid,
		  const struct ml_params *hp, struct ml_ctx *ctx, struct ml_err *e)
{
	struct baseline *m;
	double *buf = NULL, *s = NULL, *v = NULL, c0;
	const double *X;
	int j, rc;

	(void)valid;
	(void)ctx;
	*state = NULL;
	if ((rc = ml_detect_check(d, "baseline", 2, e)) < 0)
		return rc;
	if (!(m = calloc(1, sizeof(*m))))
		return ml_err_nomem(e);
	m->p = d->p;
	if ((rc = ml_detect_init(&m->det, hp, "baseline", e)) < 0 ||
	    (rc = bl_setup(m, d, hp, e)) < 0)
		goto out;
	X = ml_data_dense(d, &buf);
	s = malloc(d->n * ML_DETECT_NOUT * sizeof(double));
	v = malloc(d->n * sizeof(double));
	m->floor = malloc((size_t)m->q * sizeof(double));
	if (!X || !s || !v || !m->floor) {
		rc = ml_err_nomem(e);
		goto out;
	}
	for (j = 0; j < m->q; j++) {
		memcpy(v, X + (size_t)m->vcol[j] * d->n, d->n * sizeof(double));
		ml_detect_robust(v, d->n, &c0, &m->floor[j]);
		m->floor[j] *= m->floorfrac;
	}
	if ((rc = bl_run(m, &m->st, X, d->n, d->n, s, NULL, e)) < 0)
		goto out;
	rc = ml_detect_calibrate(&m->det, d, X, s, BL_FAR, e);
out:
	free(buf);
	free(s);
	free(v);
	if (rc < 0) {
		bl_free(m);
		return rc;
	}
	*state = m;
	return 0;
}

/* "algo.baseline": u32 version, u32 features p, i32 time and group features, u32 value
 * columns q and their features, u32 method, u64 window rows, f64 window seconds, u32
 * season, u32 warmup, f64 scale floor fraction, q f64 floors, the calibration (detect.h),
 * u64 groups, then per group: f64 key, time of the last row, time of the last value taken,
 * u64 rows, u64 values taken, season * q f64 ring (with a season), ewma: q f64 levels and q
 * f64 deviations; median: u64 window entries, each f64 time and q f64 values, oldest
 * first. */
static int bl_save(const void *state, struct ml_model *mo, struct ml_err *e)
{
	const struct baseline *m = state;
	size_t q = (size_t)m->q, k, r;
	struct ml_wbuf b;
	int j, rc = ml_detect_save_sample(&m->det, mo, e);

	if (rc < 0)
		return rc;
	ml_wbuf_init(&b);
	ml_wbuf_u32(&b, BL_VERSION);
	ml_wbuf_u32(&b, (uint32_t)m->p);
	ml_wbuf_i32(&b, m->tcol);
	ml_wbuf_i32(&b, m->gcol);
	ml_wbuf_u32(&b, (uint32_t)m->q);
	for (j = 0; j < m->q; j++)
		ml_wbuf_u32(&b, (uint32_t)m->vcol[j]);
	ml_wbuf_u32(&b, (uint32_t)m->method);
	ml_wbuf_u64(&b, (uint64_t)m->wrows);
	ml_wbuf_f64(&b, m->wsec);
	ml_wbuf_u32(&b, (uint32_t)m->season);
	ml_wbuf_u32(&b, (uint32_t)m->warmup);
	ml_wbuf_f64(&b, m->floorfrac);
	ml_wbuf_f64v(&b, m->floor, q);
	ml_detect_save(&m->det, &b);
	ml_wbuf_u64(&b, m->st.ng);
	for (k = 0; k < m->st.ng; k++) {
		const struct bgroup *g = &m->st.g[k];
		ml_wbuf_f64(&b, g->key);
		ml_wbuf_f64(&b, g->tlast);
		ml_wbuf_f64(&b, g->td);
		ml_wbuf_u64(&b, g->rows);
		ml_wbuf_u64(&b, g->nd);
		if (m->season)
			ml_wbuf_f64v(&b, g->seas, (size_t)m->season * q);
		if (m->method == BL_EWMA) {
			ml_wbuf_f64v(&b, g->lev, q);
			ml_wbuf_f64v(&b, g->dev, q);
			continue;
		}
		ml_wbuf_u64(&b, g->len);
		for (r = 0; r < g->len; r++) {
			size_t at = (g->head + r) % g->cap;
			ml_wbuf_f64(&b, g->wt[at]);
			ml_wbuf_f64v(&b, g->wv + at * q, q);
		}
	}
	return ml_algo_put(mo, "algo.baseline", &b, e);
}

static int finite_all(const double *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isfinite(v[i]))
			return 0;
	return 1;
}

/* The groups of a section into m->st; 0 when they are not sound. */
static int bl_load_groups(struct baseline *m, struct ml_rbuf *b)
{
	size_t q = (size_t)m->q, ng, k, r, len;
	/* the fewest bytes a group takes */
	size_t ent = 8 * (5 + (size_t)m->season * q + (m->method == BL_EWMA ? 2 * q : 1));

	ng = ml_rbuf_count(b, ml_rbuf_u64(b), ent);
	for (k = 0; k < ng && !b->err; k++) {
		double key = ml_rbuf_f64(b);
		struct bgroup *g;
		if (!isfinite(key) || (m->st.idx && m->st.idx[bs_slot(&m->st, key)]))
			return 0;
		if (!(g = bs_add(&m->st, m, key)))
			return -1;
		g->tlast = ml_rbuf_f64(b);
		g->td = ml_rbuf_f64(b);
		g->rows = ml_rbuf_u64(b);
		g->nd = ml_rbuf_u64(b);
		if (isnan(g->tlast) || isnan(g->td) || g->td > g->tlast || g->nd > g->rows)
			return 0;
		if (m->season) {
			ml_rbuf_f64v(b, g->seas, (size_t)m->season * q);
			if (!finite_all(g->seas, (size_t)m->season * q))
				return 0;
		}
		if (m->method == BL_EWMA) {
			ml_rbuf_f64v(b, g->lev, q);
			ml_rbuf_f64v(b, g->dev, q);
			if (!finite_all(g->lev, q) || !finite_all(g->dev, q))
				return 0;
			continue;
		}
		len = ml_rbuf_count(b, ml_rbuf_u64(b), 8 * (q + 1));
		if (len > BL_MAX_ROWS || (m->wrows && len > (size_t)m->wrows) || len > g->nd)
			return 0;
		if (len > g->cap && bg_grow(g, q, len) < 0)
			return -1;
		for (r = 0; r < len && !b->err; r++) {
			g->wt[r] = ml_rbuf_f64(b);
			ml_rbuf_f64v(b, g->wv + r * q, q);
			if (!isfinite(g->wt[r]) || !finite_all(g->wv + r * q, q))
				return 0;
		}
		g->len = len;
	}
	return !b->err && b->off == b->n;
}

static int bl_load(void **state, const struct ml_model *mo, const struct ml_data *shape,
		   struct ml_err *e)
{
	struct ml_rbuf b;
	struct baseline *m;
	int rc, ok, j;
	uint32_t q;

	*state = NULL;
	if ((rc = ml_algo_get(mo, "algo.baseline", BL_VERSION, &b, e)) < 0)
		return rc;
	if (!(m = calloc(1, sizeof(*m))))
		return ml_err_nomem(e);
	m->p = (int)ml_rbuf_u32(&b);
	m->tcol = ml_rbuf_i32(&b);
	m->gcol = ml_rbuf_i32(&b);
	q = ml_rbuf_u32(&b);
	ok = !b.err && m->p == shape->p && m->tcol >= 0 && m->tcol < m->p && m->gcol >= -1 &&
	     m->gcol < m->p && m->gcol != m->tcol && q >= 1 && q <= (uint32_t)m->p;
	if (ok) {
		m->q = (int)q;
		m->vcol = malloc(q * sizeof(int));
		m->floor = malloc(q * sizeof(double));
		if (!m->vcol || !m->floor) {
			bl_free(m);
			return ml_err_nomem(e);
		}
		for (j = 0; j < m->q; j++) {
			m->vcol[j] = (int)ml_rbuf_u32(&b);
			ok = ok && m->vcol[j] >= 0 && m->vcol[j] < m->p && m->vcol[j] != m->tcol &&
			     m->vcol[j] != m->gcol;
		}
		m->method = (int)ml_rbuf_u32(&b);
		m->wrows = (long)ml_rbuf_u64(&b);
		m->wsec = ml_rbuf_f64(&b);
		m->season = (int)ml_rbuf_u32(&b);
		m->warmup = (int)ml_rbuf_u32(&b);
		m->floorfrac = ml_rbuf_f64(&b);
		ml_rbuf_f64v(&b, m->floor, q);
		ok = ok && !b.err && (m->method == BL_EWMA || m->method == BL_MEDIAN) &&
		     m->wrows >= 0 && m->wrows <= BL_MAX_ROWS && m->wsec >= 0 &&
		     isfinite(m->wsec) && (m->wrows > 0) != (m->wsec > 0) && m->season >= 0 &&
		     m->season <= BL_MAX_ROWS && m->warmup >= 2 && m->warmup <= BL_MAX_ROWS &&
		     m->floorfrac >= 0 && m->floorfrac <= 1 && finite_all(m->floor, q);
		for (j = 0; ok && j < m->q; j++)
			ok = m->floor[j] >= 0;
	}
	if (ok && (rc = ml_detect_load(&m->det, &b, "algo.baseline", e)) < 0) {
		bl_free(m);
		return rc;
	}
	if (ok && (!(m->tname = strdup(shape->names ? shape->names[m->tcol] : "?")) ||
		   (rc = bl_load_groups(m, &b)) < 0)) {
		bl_free(m);
		return ml_err_nomem(e);
	}
	if (!ok || rc == 0) {
		bl_free(m);
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				  "model section 'algo.baseline' is invalid: bad columns or "
				  "baselines");
	}
	*state = m;
	return 0;
}

static const char *const bl_tables[] = {ML_DETECT_TABLES, NULL};

static int bl_table(const void *state, const char *name, const struct ml_data *shape,
		    struct ml_frame *out, struct ml_err *e)
{
	(void)shape;
	return ml_detect_table(&((const struct baseline *)state)->det, "baseline", name, out, e);
}

const struct ml_algo ml_algo_baseline = {
	.name = "baseline",
	.summary = "moving baseline of time-ordered rows per group: the largest robust "
		   "deviation of a value column",
	.flags = ML_ALGO_UNSUPERVISED | ML_ALGO_NATIVE_CAT | ML_ALGO_OPEN_CAT,
	.params = bl_params,
	.fit = bl_fit,
	.predict = bl_predict,
	.save = bl_save,
	.load = bl_load,
	.tables = bl_tables,
	.table = bl_table,
	.free = bl_free,
	.outputs = ml_detect_outputs,
	.output_levels = ml_detect_output_levels,
	.stream_predict = bl_stream_predict,
	.stream_free = bl_stream_free,
	.time_param = "time-col",
};
