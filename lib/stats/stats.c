/* Streaming statistics: the exact-then-KLL quantile sketch and the per-column describe summary. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ctx.h"
#include "ml/stats.h"
#include "core/sort.h"

#define Q_K_MIN 8
#define Q_K_MAX 65535
/* Level h holds items of weight 2^h, so a count below 2^64 never needs more levels. */
#define Q_MAXLEV    64
#define Q_MIN_WIDTH 2
#define Q_MAGIC	    0x53514c4dU /* "MLQS" little-endian */
#define Q_VERSION   2
/* Distinct values counted exactly, so that quantiles of a column of few values are exact
 * past exact mode too. */
#define Q_DISTINCT 1024

struct qlevel {
	double *v; /* level 0 in arrival order, every other level sorted */
	size_t n, cap;
};

struct ml_quantiles {
	int k;
	int sketch;	 /* 0: exact mode */
	uint64_t n;	 /* values seen, NaN excluded */
	double min, max; /* exact extremes, so p = 0 and p = 1 stay exact in sketch mode */
	struct ml_rng rng;
	/* exact mode: every value in arrival order (arrival order keeps a later switch to
	 * sketch mode independent of how the values were split across merges) */
	double *x;
	size_t nx, capx;
	/* sketch mode */
	int nlev;
	size_t size, maxsize; /* retained items; sum of the level capacities */
	struct qlevel lv[Q_MAXLEV];
	/* every distinct value with its count, sorted, while there are at most Q_DISTINCT of
	 * them (dtrack); then nothing */
	int dtrack;
	size_t nd;
	double *dv;
	uint64_t *dc;
};

static void distinct_off(struct ml_quantiles *q)
{
	free(q->dv);
	free(q->dc);
	q->dv = NULL;
	q->dc = NULL;
	q->nd = 0;
	q->dtrack = 0;
}

/* Count c more of value v; beyond Q_DISTINCT values the counts are given up. */
static int distinct_add(struct ml_quantiles *q, double v, uint64_t c)
{
	size_t lo = 0, hi = q->nd;

	if (!q->dtrack)
		return 0;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (q->dv[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < q->nd && q->dv[lo] == v) {
		q->dc[lo] += c;
		return 0;
	}
	if (q->nd == Q_DISTINCT) {
		distinct_off(q);
		return 0;
	}
	if (!q->dv) {
		q->dv = malloc(Q_DISTINCT * sizeof(double));
		q->dc = malloc(Q_DISTINCT * sizeof(uint64_t));
		if (!q->dv || !q->dc) {
			distinct_off(q);
			return ML_E_NOMEM;
		}
	}
	memmove(q->dv + lo + 1, q->dv + lo, (q->nd - lo) * sizeof(double));
	memmove(q->dc + lo + 1, q->dc + lo, (q->nd - lo) * sizeof(uint64_t));
	q->dv[lo] = v;
	q->dc[lo] = c;
	q->nd++;
	return 0;
}

/* Quicksort for doubles without NaN (the comparator call dominates qsort on compaction
 * sizes); insertion sort for short runs, qsort once the pivots have gone bad. */
static void sort_doubles(double *v, size_t n)
{
	int budget = 8;
	size_t m;

	for (m = n; m > 1; m >>= 1)
		budget += 2;
	while (n > 16) {
		size_t mid = n / 2, i = 0, j = n - 1;
		double pivot, t;

		if (budget-- == 0) {
			qsort(v, n, sizeof(double), ml_cmp_double);
			return;
		}
		if (v[mid] < v[0]) {
			t = v[mid], v[mid] = v[0], v[0] = t;
		}
		if (v[n - 1] < v[0]) {
			t = v[n - 1], v[n - 1] = v[0], v[0] = t;
		}
		if (v[n - 1] < v[mid]) {
			t = v[n - 1], v[n - 1] = v[mid], v[mid] = t;
		}
		pivot = v[mid];
		/* Hoare partition: afterwards v[0..j] <= pivot <= v[i..n-1], i > j. */
		for (;;) {
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i >= j)
				break;
			t = v[i], v[i] = v[j], v[j] = t;
			i++;
			j--;
		}
		if (i == j) {
			i++;
			if (j > 0)
				j--;
		}
		/* Recurse on the smaller side, loop on the larger. */
		if (j + 1 < n - i) {
			sort_doubles(v, j + 1);
			v += i;
			n -= i;
		} else {
			sort_doubles(v + i, n - i);
			n = j + 1;
		}
	}
	for (m = 1; m < n; m++) {
		double x = v[m];
		size_t k = m;

		while (k > 0 && v[k - 1] > x) {
			v[k] = v[k - 1];
			k--;
		}
		v[k] = x;
	}
}

/* numpy's _lerp, so exact answers match numpy.quantile to the bit; a == b and t == 0 are
 * answered directly so infinities give the value rather than NaN. */
static double lerp(double a, double b, double t)
{
	double d, r;

	if (t == 0 || a == b)
		return a;
	d = b - a;
	r = a + d * t;
	if (t >= 0.5)
		r = b - d * (1 - t);
	return r;
}

/* Capacity of level h when there are nlev levels: k * (2/3)^depth rounded, in integers so
 * every platform agrees, and never below Q_MIN_WIDTH. */
static size_t level_cap(int k, int nlev, int h)
{
	int depth = nlev - 1 - h, i;
	uint64_t num = (uint64_t)k, den = 1, c;

	if (depth > 30)
		return Q_MIN_WIDTH;
	for (i = 0; i < depth; i++) {
		num *= 2;
		den *= 3;
	}
	c = (num + den / 2) / den;
	return c < Q_MIN_WIDTH ? Q_MIN_WIDTH : (size_t)c;
}

static void set_maxsize(struct ml_quantiles *q)
{
	int h;

	q->maxsize = 0;
	for (h = 0; h < q->nlev; h++)
		q->maxsize += level_cap(q->k, q->nlev, h);
}

static int reserve(double **v, size_t *cap, size_t need)
{
	size_t c = *cap ? *cap : 16;
	double *p;

	if (need <= *cap)
		return 0;
	while (c < need) {
		if (c > SIZE_MAX / 2 / sizeof(double))
			return ML_E_NOMEM;
		c *= 2;
	}
	p = realloc(*v, c * sizeof(double));
	if (!p)
		return ML_E_NOMEM;
	*v = p;
	*cap = c;
	return 0;
}

static void levels_free(struct ml_quantiles *q)
{
	int h;

	for (h = 0; h < Q_MAXLEV; h++) {
		free(q->lv[h].v);
		q->lv[h].v = NULL;
		q->lv[h].n = q->lv[h].cap = 0;
	}
	q->nlev = 0;
	q->size = q->maxsize = 0;
}

/* One compaction: the lowest level at or over its capacity is sorted, and every other item
 * (odd or even positions, by a coin from the generator) moves up with doubled weight;
 * an odd item out, the smallest, stays. Either everything happens or nothing does. */
static int compress_one(struct ml_quantiles *q)
{
	struct qlevel *lo, *up;
	size_t m, half, base, off, i, j, d;
	int h;

	for (h = 0; h < q->nlev; h++)
		if (q->lv[h].n >= level_cap(q->k, q->nlev, h))
			break;
	if (h == q->nlev)
		return 0;
	if (h + 1 >= Q_MAXLEV)
		return ML_E_INTERNAL;
	lo = &q->lv[h];
	up = &q->lv[h + 1];
	m = lo->n;
	half = m / 2;
	if (reserve(&up->v, &up->cap, up->n + half) < 0)
		return ML_E_NOMEM;
	if (h + 1 == q->nlev) {
		q->nlev++;
		set_maxsize(q);
	}
	if (h == 0)
		sort_doubles(lo->v, m);
	base = m & 1;
	off = (size_t)(ml_rng_next(&q->rng) >> 63);
	/* Merge the promoted items into the sorted level above, from the back. */
	i = up->n;
	j = half;
	d = up->n + half;
	while (j > 0) {
		double pj = lo->v[base + off + 2 * (j - 1)];
		if (i > 0 && up->v[i - 1] > pj)
			up->v[--d] = up->v[--i];
		else {
			up->v[--d] = pj;
			j--;
		}
	}
	up->n += half;
	lo->n = base;
	q->size -= half;
	return 0;
}

static int compress(struct ml_quantiles *q)
{
	int rc;

	while (q->size >= q->maxsize)
		if ((rc = compress_one(q)) < 0)
			return rc;
	return 0;
}

static int sketch_push(struct ml_quantiles *q, double v)
{
	struct qlevel *l0 = &q->lv[0];

	if (reserve(&l0->v, &l0->cap, l0->n + 1) < 0)
		return ML_E_NOMEM;
	l0->v[l0->n++] = v;
	q->size++;
	return compress(q);
}

/* Leave exact mode: the stored values go through a fresh sketch in arrival order. On
 * failure q is unchanged. */
static int to_sketch(struct ml_quantiles *q)
{
	struct ml_quantiles t;
	size_t i;
	int rc;

	memset(&t, 0, sizeof(t));
	t.k = q->k;
	t.rng = q->rng;
	t.nlev = 1;
	t.size = 0;
	set_maxsize(&t);
	for (i = 0; i < q->nx; i++)
		if ((rc = sketch_push(&t, q->x[i])) < 0) {
			levels_free(&t);
			return rc;
		}
	free(q->x);
	q->x = NULL;
	q->nx = q->capx = 0;
	memcpy(q->lv, t.lv, sizeof(t.lv));
	q->nlev = t.nlev;
	q->size = t.size;
	q->maxsize = t.maxsize;
	q->rng = t.rng;
	q->sketch = 1;
	return 0;
}

struct ml_quantiles *ml_quantiles_new(int k, uint64_t seed)
{
	struct ml_quantiles *q;

	if (k == 0)
		k = ML_QUANTILES_K;
	if (k < Q_K_MIN || k > Q_K_MAX)
		return NULL;
	q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	q->k = k;
	q->min = INFINITY;
	q->max = -INFINITY;
	q->dtrack = 1;
	ml_rng_seed(&q->rng, seed);
	return q;
}

void ml_quantiles_free(struct ml_quantiles *q)
{
	if (!q)
		return;
	free(q->x);
	levels_free(q);
	distinct_off(q);
	free(q);
}

int ml_quantiles_add(struct ml_quantiles *q, double v)
{
	int rc;

	if (isnan(v))
		return 0;
	if (!q->sketch && q->nx >= ML_QUANTILES_EXACT && (rc = to_sketch(q)) < 0)
		return rc;
	if ((rc = distinct_add(q, v, 1)) < 0)
		return rc;
	if (q->sketch) {
		struct qlevel *l0 = &q->lv[0];

		if (reserve(&l0->v, &l0->cap, l0->n + 1) < 0)
			return ML_E_NOMEM;
		l0->v[l0->n++] = v;
		q->size++;
	} else {
		if (reserve(&q->x, &q->capx, q->nx + 1) < 0)
			return ML_E_NOMEM;
		q->x[q->nx++] = v;
	}
	q->n++;
	if (v < q->min)
		q->min = v;
	if (v > q->max)
		q->max = v;
	/* A failed compaction leaves the value in and the sketch consistent, only over its
	 * bound until the next one succeeds. */
	return q->sketch ? compress(q) : 0;
}

static struct ml_quantiles *clone(const struct ml_quantiles *src)
{
	struct ml_quantiles *c = ml_quantiles_new(src->k, 0);
	int h;

	if (!c)
		return NULL;
	c->sketch = src->sketch;
	c->n = src->n;
	c->min = src->min;
	c->max = src->max;
	c->rng = src->rng;
	if (reserve(&c->x, &c->capx, src->nx) < 0)
		goto fail;
	if (src->nx)
		memcpy(c->x, src->x, src->nx * sizeof(double));
	c->nx = src->nx;
	for (h = 0; h < src->nlev; h++) {
		if (reserve(&c->lv[h].v, &c->lv[h].cap, src->lv[h].n) < 0)
			goto fail;
		if (src->lv[h].n)
			memcpy(c->lv[h].v, src->lv[h].v, src->lv[h].n * sizeof(double));
		c->lv[h].n = src->lv[h].n;
	}
	c->nlev = src->nlev;
	c->size = src->size;
	c->maxsize = src->maxsize;
	c->dtrack = src->dtrack;
	if (src->dtrack && src->nd) {
		c->dv = malloc(Q_DISTINCT * sizeof(double));
		c->dc = malloc(Q_DISTINCT * sizeof(uint64_t));
		if (!c->dv || !c->dc)
			goto fail;
		memcpy(c->dv, src->dv, src->nd * sizeof(double));
		memcpy(c->dc, src->dc, src->nd * sizeof(uint64_t));
		c->nd = src->nd;
	}
	return c;
fail:
	ml_quantiles_free(c);
	return NULL;
}

/* Both in sketch mode: levels add up item by item, then compactions restore the bound.
 * The smaller k wins, as in DataSketches. */
static int merge_sketches(struct ml_quantiles *dst, const struct ml_quantiles *src)
{
	int h;

	for (h = 0; h < src->nlev; h++)
		if (reserve(&dst->lv[h].v, &dst->lv[h].cap, dst->lv[h].n + src->lv[h].n) < 0)
			return ML_E_NOMEM;
	if (src->k < dst->k)
		dst->k = src->k;
	if (src->nlev > dst->nlev)
		dst->nlev = src->nlev;
	set_maxsize(dst);
	for (h = 0; h < src->nlev; h++) {
		struct qlevel *a = &dst->lv[h];
		const struct qlevel *b = &src->lv[h];
		size_t i = a->n, j = b->n, d = a->n + b->n;

		if (h == 0) {
			if (b->n)
				memcpy(a->v + a->n, b->v, b->n * sizeof(double));
		} else {
			while (j > 0) {
				if (i > 0 && a->v[i - 1] > b->v[j - 1])
					a->v[--d] = a->v[--i];
				else
					a->v[--d] = b->v[--j];
			}
		}
		a->n += b->n;
		dst->size += b->n;
	}
	dst->n += src->n;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	return compress(dst);
}

int ml_quantiles_merge(struct ml_quantiles *dst, const struct ml_quantiles *src)
{
	size_t i;
	int rc;

	if (src->n == 0)
		return 0;
	if (dst == src) {
		struct ml_quantiles *c = clone(src);
		if (!c)
			return ML_E_NOMEM;
		rc = ml_quantiles_merge(dst, c);
		ml_quantiles_free(c);
		return rc;
	}
	if (!src->sketch) {
		/* Exactly what adding src's values one by one to dst gives. */
		if (!dst->sketch && dst->nx + src->nx <= ML_QUANTILES_EXACT) {
			if (reserve(&dst->x, &dst->capx, dst->nx + src->nx) < 0)
				return ML_E_NOMEM;
			if (!src->dtrack)
				distinct_off(dst);
			for (i = 0; dst->dtrack && i < src->nd; i++)
				if ((rc = distinct_add(dst, src->dv[i], src->dc[i])) < 0)
					return rc;
			memcpy(dst->x + dst->nx, src->x, src->nx * sizeof(double));
			dst->nx += src->nx;
			dst->n += src->n;
			if (src->min < dst->min)
				dst->min = src->min;
			if (src->max > dst->max)
				dst->max = src->max;
			return 0;
		}
		for (i = 0; i < src->nx; i++)
			if ((rc = ml_quantiles_add(dst, src->x[i])) < 0)
				return rc;
		return 0;
	}
	if (!dst->sketch && (rc = to_sketch(dst)) < 0)
		return rc;
	if (!src->dtrack)
		distinct_off(dst);
	for (i = 0; dst->dtrack && i < src->nd; i++)
		if ((rc = distinct_add(dst, src->dv[i], src->dc[i])) < 0)
			return rc;
	return merge_sketches(dst, src);
}

uint64_t ml_quantiles_count(const struct ml_quantiles *q)
{
	return q->n;
}

int ml_quantiles_exact(const struct ml_quantiles *q)
{
	return !q->sketch;
}

/* Rearrange v so that v[k] is the k-th smallest, nothing larger before it and nothing
 * smaller after it (quickselect, falling back to sorting on a bad run of pivots). */
static double select_kth(double *v, size_t n, size_t k)
{
	ptrdiff_t lo = 0, hi = (ptrdiff_t)n - 1, kk = (ptrdiff_t)k;
	int budget = 16;
	size_t m;

	for (m = n; m > 1; m >>= 1)
		budget += 2;
	while (hi > lo) {
		ptrdiff_t mid = lo + (hi - lo) / 2, i = lo, j = hi;
		double pivot, t;

		if (budget-- == 0) {
			qsort(v + lo, (size_t)(hi - lo + 1), sizeof(double), ml_cmp_double);
			break;
		}
		if (v[mid] < v[lo]) {
			t = v[mid], v[mid] = v[lo], v[lo] = t;
		}
		if (v[hi] < v[lo]) {
			t = v[hi], v[hi] = v[lo], v[lo] = t;
		}
		if (v[hi] < v[mid]) {
			t = v[hi], v[hi] = v[mid], v[mid] = t;
		}
		pivot = v[mid];
		while (i <= j) {
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i <= j) {
				t = v[i], v[i] = v[j], v[j] = t;
				i++;
				j--;
			}
		}
		if (kk <= j)
			hi = j;
		else if (kk >= i)
			lo = i;
		else
			break;
	}
	return v[k];
}

static double exact_get(const struct ml_quantiles *q, double p, int *rc)
{
	size_t n = q->nx, i, lo;
	double h = (double)(n - 1) * p, a, b, *v;

	if (h >= (double)(n - 1))
		return q->max;
	lo = (size_t)floor(h);
	v = malloc(n * sizeof(double));
	if (!v) {
		*rc = ML_E_NOMEM;
		return NAN;
	}
	memcpy(v, q->x, n * sizeof(double));
	a = select_kth(v, n, lo);
	b = v[lo + 1];
	for (i = lo + 2; i < n; i++)
		if (v[i] < b)
			b = v[i];
	free(v);
	return lerp(a, b, h - (double)lo);
}

struct witem {
	double v;
	uint64_t w;
};

static int cmp_witem(const void *a, const void *b)
{
	const struct witem *x = a, *y = b;

	if (x->v != y->v)
		return x->v < y->v ? -1 : 1;
	return (x->w > y->w) - (x->w < y->w);
}

/* Each retained item of weight w stands for w copies of its value; it sits at the middle
 * of the ranks it covers, and the answer interpolates (numpy-style, at rank (n-1)p)
 * between neighbouring items, with the exact min and max at ranks 0 and n-1. With every
 * weight 1 this is numpy's linear method. */
/* Past exact mode a quantile is the value of a row: the smallest value with at least a
 * share p of the values at or below it (the inverted CDF), exactly from the distinct
 * counts while there are few values, else from the sketch's weighted items. */
static double sketch_get(const struct ml_quantiles *q, double p, int *rc)
{
	struct witem *it;
	size_t m = 0, i;
	double target = p * (double)q->n, c = 0, r = q->max;
	int l;

	if (q->dtrack) {
		for (i = 0; i < q->nd; i++) {
			c += (double)q->dc[i];
			if (c >= target)
				return q->dv[i];
		}
		return q->max;
	}
	it = malloc((q->size ? q->size : 1) * sizeof(*it));
	if (!it) {
		*rc = ML_E_NOMEM;
		return NAN;
	}
	for (l = 0; l < q->nlev; l++)
		for (i = 0; i < q->lv[l].n; i++) {
			it[m].v = q->lv[l].v[i];
			it[m++].w = (uint64_t)1 << l;
		}
	qsort(it, m, sizeof(*it), cmp_witem);
	for (i = 0; i < m; i++) {
		c += (double)it[i].w;
		if (c >= target) {
			r = it[i].v;
			break;
		}
	}
	free(it);
	return r;
}

/* The p-quantile, with *rc set to ML_E_NOMEM when the scratch copy cannot be had. */
static double quantile(const struct ml_quantiles *q, double p, int *rc)
{
	if (q->n == 0 || !(p >= 0 && p <= 1))
		return NAN;
	if (p == 0)
		return q->min;
	if (p == 1)
		return q->max;
	return q->sketch ? sketch_get(q, p, rc) : exact_get(q, p, rc);
}

double ml_quantiles_get(const struct ml_quantiles *q, double p)
{
	int rc = 0;

	return quantile(q, p, &rc);
}

/* Layout: u32 magic "MLQS", u32 version, u8 mode (0 exact, 1 sketch), u32 k, u64 count,
 * f64 min, f64 max, 4 x u64 generator state; exact: u64 n + n f64 in arrival order;
 * sketch: u32 levels, then per level u64 n + n f64 (level 0 in arrival order, the others
 * sorted), then (version 2) u32 the number of distinct values counted, 0xffffffff when
 * they are not, and per value, in order, f64 value + u64 count. Version 1 has no distinct
 * counts; exact mode rebuilds them from its values. */
void ml_quantiles_save(const struct ml_quantiles *q, struct ml_wbuf *b)
{
	int i;

	ml_wbuf_u32(b, Q_MAGIC);
	ml_wbuf_u32(b, Q_VERSION);
	ml_wbuf_u8(b, (uint8_t)q->sketch);
	ml_wbuf_u32(b, (uint32_t)q->k);
	ml_wbuf_u64(b, q->n);
	ml_wbuf_f64(b, q->min);
	ml_wbuf_f64(b, q->max);
	for (i = 0; i < 4; i++)
		ml_wbuf_u64(b, q->rng.s[i]);
	if (!q->sketch) {
		ml_wbuf_u64(b, q->nx);
		ml_wbuf_f64v(b, q->x, q->nx);
		return;
	}
	ml_wbuf_u32(b, (uint32_t)q->nlev);
	for (i = 0; i < q->nlev; i++) {
		ml_wbuf_u64(b, q->lv[i].n);
		ml_wbuf_f64v(b, q->lv[i].v, q->lv[i].n);
	}
	ml_wbuf_u32(b, q->dtrack ? (uint32_t)q->nd : 0xffffffffU);
	for (i = 0; q->dtrack && i < (int)q->nd; i++) {
		ml_wbuf_f64(b, q->dv[i]);
		ml_wbuf_u64(b, q->dc[i]);
	}
}

/* Read n values into a fresh array checked against what is left in b; every value must
 * lie in [lo, hi] and, when sorted is set, be in order. */
static int load_values(struct ml_rbuf *b, double **v, size_t *cap, uint64_t n, double lo, double hi,
		       int sorted, struct ml_err *e)
{
	size_t m = ml_rbuf_count(b, n, sizeof(double)), i;

	if (b->err)
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "quantile sketch: truncated");
	if (reserve(v, cap, m ? m : 1) < 0)
		return ml_err_nomem(e);
	ml_rbuf_f64v(b, *v, m);
	if (b->err)
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "quantile sketch: truncated");
	for (i = 0; i < m; i++) {
		if (!((*v)[i] >= lo && (*v)[i] <= hi))
			return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
					  "quantile sketch: value outside its recorded range");
		if (sorted && i > 0 && (*v)[i] < (*v)[i - 1])
			return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
					  "quantile sketch: level out of order");
	}
	return 0;
}

/* The distinct counts of a version-2 sketch: sorted values in range, counts adding up to
 * the count. */
static int load_distinct(struct ml_quantiles *q, struct ml_rbuf *b, double mn, double mx,
			 struct ml_err *e)
{
	uint32_t nd = ml_rbuf_u32(b);
	uint64_t sum = 0;
	size_t i;

	if (b->err)
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "quantile sketch: truncated");
	if (nd == 0xffffffffU)
		return 0;
	if (nd > Q_DISTINCT || ml_rbuf_count(b, nd, 16) != nd)
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "quantile sketch: bad distinct count");
	q->dtrack = 1;
	q->dv = malloc(Q_DISTINCT * sizeof(double));
	q->dc = malloc(Q_DISTINCT * sizeof(uint64_t));
	if (!q->dv || !q->dc)
		return ml_err_nomem(e);
	for (i = 0; i < nd; i++) {
		q->dv[i] = ml_rbuf_f64(b);
		q->dc[i] = ml_rbuf_u64(b);
		if (!(q->dv[i] >= mn && q->dv[i] <= mx) || (i > 0 && !(q->dv[i] > q->dv[i - 1])) ||
		    q->dc[i] == 0 || q->dc[i] > q->n - sum)
			return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
					  "quantile sketch: bad distinct values");
		sum += q->dc[i];
	}
	q->nd = nd;
	if (sum != q->n)
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				  "quantile sketch: distinct counts do not add up to the count");
	return 0;
}

struct ml_quantiles *ml_quantiles_load(struct ml_rbuf *b, struct ml_err *e)
{
	struct ml_quantiles *q = NULL;
	uint32_t magic, version, k, nlev;
	uint64_t n, cnt, wsum = 0;
	uint8_t mode;
	double mn, mx;
	int i;

	magic = ml_rbuf_u32(b);
	version = ml_rbuf_u32(b);
	mode = ml_rbuf_u8(b);
	k = ml_rbuf_u32(b);
	n = ml_rbuf_u64(b);
	mn = ml_rbuf_f64(b);
	mx = ml_rbuf_f64(b);
	if (b->err) {
		ml_err_set(e, ML_E_DATA, NULL, 0, 0, "quantile sketch: truncated");
		return NULL;
	}
	if (magic != Q_MAGIC) {
		ml_err_set(e, ML_E_DATA, NULL, 0, 0, "quantile sketch: bad magic 0x%08x", magic);
		return NULL;
	}
	if (version < 1 || version > Q_VERSION) {
		ml_err_set(e, ML_E_DATA, NULL, 0, 0, "quantile sketch: unsupported version %u",
			   version);
		return NULL;
	}
	if (mode > 1 || k < Q_K_MIN || k > Q_K_MAX) {
		ml_err_set(e, ML_E_DATA, NULL, 0, 0, "quantile sketch: bad %s %u",
			   mode > 1 ? "mode" : "k", mode > 1 ? mode : k);
		return NULL;
	}
	if (n > 0 && !(mn <= mx)) {
		ml_err_set(e, ML_E_DATA, NULL, 0, 0, "quantile sketch: bad range");
		return NULL;
	}
	q = ml_quantiles_new((int)k, 0);
	if (!q) {
		ml_err_nomem(e);
		return NULL;
	}
	for (i = 0; i < 4; i++)
		q->rng.s[i] = ml_rbuf_u64(b);
	q->n = n;
	if (n > 0) {
		q->min = mn;
		q->max = mx;
	}
	if (mode == 0) {
		cnt = ml_rbuf_u64(b);
		if (!b->err && (cnt != n || n > ML_QUANTILES_EXACT)) {
			ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				   "quantile sketch: %llu values for a count of %llu",
				   (unsigned long long)cnt, (unsigned long long)n);
			goto fail;
		}
		if (load_values(b, &q->x, &q->capx, cnt, mn, mx, 0, e) < 0)
			goto fail;
		q->nx = (size_t)cnt;
		if (q->nx > 0) {
			size_t j;
			double lo = q->x[0], hi = q->x[0];
			for (j = 1; j < q->nx; j++) {
				if (q->x[j] < lo)
					lo = q->x[j];
				if (q->x[j] > hi)
					hi = q->x[j];
			}
			if (lo != mn || hi != mx) {
				ml_err_set(e, ML_E_DATA, NULL, 0, 0,
					   "quantile sketch: range does not match the values");
				goto fail;
			}
		}
		for (cnt = 0; cnt < n; cnt++)
			if (distinct_add(q, q->x[cnt], 1) < 0) {
				ml_err_nomem(e);
				goto fail;
			}
		return q;
	}
	nlev = ml_rbuf_u32(b);
	if (b->err) {
		ml_err_set(e, ML_E_DATA, NULL, 0, 0, "quantile sketch: truncated");
		goto fail;
	}
	if (nlev < 1 || nlev > Q_MAXLEV || n <= ML_QUANTILES_EXACT) {
		ml_err_set(e, ML_E_DATA, NULL, 0, 0, "quantile sketch: bad %s",
			   n <= ML_QUANTILES_EXACT ? "count" : "level count");
		goto fail;
	}
	q->sketch = 1;
	q->nlev = (int)nlev;
	for (i = 0; i < (int)nlev; i++) {
		struct qlevel *l = &q->lv[i];

		cnt = ml_rbuf_u64(b);
		if (load_values(b, &l->v, &l->cap, cnt, mn, mx, i > 0, e) < 0)
			goto fail;
		l->n = (size_t)cnt;
		q->size += l->n;
		/* The weights must add up to the count. */
		if (cnt > (UINT64_MAX - wsum) >> i)
			break;
		wsum += cnt << i;
	}
	if (i < (int)nlev || wsum != n) {
		ml_err_set(e, ML_E_DATA, NULL, 0, 0,
			   "quantile sketch: level weights do not add up to the count");
		goto fail;
	}
	set_maxsize(q);
	distinct_off(q);
	if (version >= 2 && load_distinct(q, b, mn, mx, e) < 0)
		goto fail;
	return q;
fail:
	ml_quantiles_free(q);
	return NULL;
}

/* Describe. */

/* Mean and sum of squared deviations of n values. */
struct mstat {
	uint64_t n;
	double mean, m2;
};

/* Finite values are summed in chunks of CHUNK, each by the corrected two-pass formula,
 * and the chunks are combined pairwise (Chan et al.), so the rounding error grows with
 * log n as in numpy's pairwise sums rather than with n as in Welford's update. Values are
 * shifted by the first chunk's mean, so chunk means of data like 1e9 + a spread of 1 keep
 * their digits when combined. */
#define CHUNK 256

struct dcol {
	uint64_t count, missing;
	/* numeric: infinities are only counted, they make mean and std non-finite */
	double min, max;
	uint64_t npinf, nninf;
	double *buf; /* the current chunk */
	size_t nbuf;
	double shift; /* the first chunk's mean, once it is known */
	int shifted;
	struct mstat stk[64]; /* chunk sums, sizes decreasing from the bottom */
	int nstk;
	struct ml_quantiles *q;
	/* categorical: count per code, grown as the dictionary grows */
	uint64_t *cnt;
	size_t ncnt;
};

struct ml_describe {
	const struct ml_schema *s;
	int ncol;
	struct dcol *c;
};

struct ml_describe *ml_describe_new(const struct ml_schema *s, uint64_t seed, struct ml_err *e)
{
	struct ml_describe *d = calloc(1, sizeof(*d));
	int j;

	if (!d) {
		ml_err_nomem(e);
		return NULL;
	}
	d->s = s;
	d->ncol = s->ncol;
	d->c = calloc(s->ncol ? (size_t)s->ncol : 1, sizeof(*d->c));
	if (!d->c)
		goto fail;
	for (j = 0; j < s->ncol; j++) {
		d->c[j].min = INFINITY;
		d->c[j].max = -INFINITY;
		if (s->cols[j].type == ML_NUM) {
			d->c[j].q = ml_quantiles_new(0, seed + (uint64_t)j);
			d->c[j].buf = malloc(CHUNK * sizeof(double));
			if (!d->c[j].q || !d->c[j].buf)
				goto fail;
		}
	}
	return d;
fail:
	ml_describe_free(d);
	ml_err_nomem(e);
	return NULL;
}

void ml_describe_free(struct ml_describe *d)
{
	int j;

	if (!d)
		return;
	if (d->c)
		for (j = 0; j < d->ncol; j++) {
			ml_quantiles_free(d->c[j].q);
			free(d->c[j].buf);
			free(d->c[j].cnt);
		}
	free(d->c);
	free(d);
}

static void mstat_merge(struct mstat *a, const struct mstat *b)
{
	double n, delta;

	if (b->n == 0)
		return;
	if (a->n == 0) {
		*a = *b;
		return;
	}
	n = (double)a->n + (double)b->n;
	delta = b->mean - a->mean;
	a->mean += delta * ((double)b->n / n);
	a->m2 += b->m2 + delta * delta * ((double)a->n * ((double)b->n / n));
	a->n += b->n;
}

/* Mean and squared deviations of v[i] - shift: a first pass relative to the first value,
 * a second about that mean, corrected by the residual sum. */
static struct mstat chunk_stat(const double *v, size_t n, double shift)
{
	struct mstat m = {0, 0, 0};
	double k, s = 0, d = 0, q = 0;
	size_t i;

	if (n == 0)
		return m;
	k = v[0] - shift;
	for (i = 0; i < n; i++)
		s += (v[i] - shift) - k;
	m.mean = k + s / (double)n;
	for (i = 0; i < n; i++) {
		double r = (v[i] - shift) - m.mean;
		d += r;
		q += r * r;
	}
	m.mean += d / (double)n;
	m.m2 = q - d * d / (double)n;
	if (m.m2 < 0)
		m.m2 = 0;
	m.n = n;
	return m;
}

static void flush_chunk(struct dcol *c)
{
	if (!c->shifted) {
		c->shift = chunk_stat(c->buf, c->nbuf, 0).mean;
		c->shifted = 1;
	}
	c->stk[c->nstk++] = chunk_stat(c->buf, c->nbuf, c->shift);
	c->nbuf = 0;
	while (c->nstk >= 2 && c->stk[c->nstk - 2].n <= c->stk[c->nstk - 1].n) {
		mstat_merge(&c->stk[c->nstk - 2], &c->stk[c->nstk - 1]);
		c->nstk--;
	}
}

/* Everything so far, c unchanged. */
static struct mstat total_stat(const struct dcol *c)
{
	struct mstat t = chunk_stat(c->buf, c->nbuf, c->shift);
	int i;

	for (i = c->nstk - 1; i >= 0; i--)
		mstat_merge(&t, &c->stk[i]);
	t.mean += c->shift;
	return t;
}

static int add_num(struct dcol *c, const double *x, size_t from, size_t to, struct ml_err *e)
{
	size_t i;

	for (i = from; i < to; i++) {
		double v = x[i];

		if (isnan(v)) {
			c->missing++;
			continue;
		}
		if (ml_quantiles_add(c->q, v) < 0)
			return ml_err_nomem(e);
		c->count++;
		if (v < c->min)
			c->min = v;
		if (v > c->max)
			c->max = v;
		if (isinf(v)) {
			if (v > 0)
				c->npinf++;
			else
				c->nninf++;
			continue;
		}
		c->buf[c->nbuf++] = v;
		if (c->nbuf == CHUNK)
			flush_chunk(c);
	}
	return 0;
}

static int add_cat(struct dcol *c, const struct ml_col *col, const int32_t *x, size_t from,
		   size_t to, struct ml_err *e)
{
	size_t i;

	for (i = from; i < to; i++) {
		int32_t v = x[i];

		if (v == ML_MISSING_CAT) {
			c->missing++;
			continue;
		}
		if (v < 0 || v >= col->dict.n)
			return ml_err_set(e, ML_E_INTERNAL, NULL, 0, 0,
					  "describe: code %ld outside the dictionary of '%s'",
					  (long)v, col->name);
		if ((size_t)v >= c->ncnt) {
			size_t n = c->ncnt ? c->ncnt : 16;
			uint64_t *p;

			while (n <= (size_t)v)
				n *= 2;
			p = realloc(c->cnt, n * sizeof(*p));
			if (!p)
				return ml_err_nomem(e);
			memset(p + c->ncnt, 0, (n - c->ncnt) * sizeof(*p));
			c->cnt = p;
			c->ncnt = n;
		}
		c->cnt[v]++;
		c->count++;
	}
	return 0;
}

int ml_describe_add(struct ml_describe *d, const struct ml_block *b, size_t from, size_t to,
		    struct ml_err *e)
{
	int j, rc;

	if (from > to || to > b->nrow)
		return ml_err_set(e, ML_E_INTERNAL, NULL, 0, 0,
				  "describe: rows %zu..%zu outside a block of %zu", from, to,
				  b->nrow);
	if (b->ncol != d->ncol)
		return ml_err_set(e, ML_E_INTERNAL, NULL, 0, 0,
				  "describe: a block of %d columns for a schema of %d", b->ncol,
				  d->ncol);
	for (j = 0; j < d->ncol; j++) {
		const struct ml_col *col = &d->s->cols[j];

		if (b->schema && b->schema->cols[j].type != col->type)
			return ml_err_set(e, ML_E_INTERNAL, NULL, 0, 0,
					  "describe: column '%s' changed type", col->name);
		if (col->type == ML_NUM)
			rc = add_num(&d->c[j], b->col[j].num, from, to, e);
		else
			rc = add_cat(&d->c[j], col, b->col[j].cat, from, to, e);
		if (rc < 0)
			return rc;
	}
	return 0;
}

enum {
	R_COLUMN,
	R_TYPE,
	R_COUNT,
	R_MISSING,
	R_MEAN,
	R_STD,
	R_MIN,
	R_P25,
	R_P50,
	R_P75,
	R_MAX,
	R_DISTINCT,
	R_TOP,
	R_FREQ,
	R_NCOL
};

static const char *const result_names[R_NCOL] = {"column", "type",     "count", "missing", "mean",
						 "std",	   "min",      "p25",	"p50",	   "p75",
						 "max",	   "distinct", "top",	"freq"};

static int intern(struct ml_frame *out, int col, const char *s, int32_t *code)
{
	int32_t c = ml_dict_intern(&out->schema.cols[col].dict, s, strlen(s));

	if (c < 0)
		return c;
	*code = c;
	return 0;
}

static int num_summary(const struct dcol *c, double *v)
{
	struct mstat t = total_stat(c);
	int rc = 0;

	v[R_MEAN] = v[R_STD] = v[R_MIN] = v[R_MAX] = NAN;
	v[R_P25] = quantile(c->q, 0.25, &rc);
	v[R_P50] = quantile(c->q, 0.5, &rc);
	v[R_P75] = quantile(c->q, 0.75, &rc);
	if (c->count == 0)
		return rc;
	v[R_MIN] = c->min;
	v[R_MAX] = c->max;
	if (c->npinf || c->nninf)
		v[R_MEAN] = c->npinf && c->nninf ? NAN : c->npinf ? INFINITY : -INFINITY;
	else
		v[R_MEAN] = t.mean;
	if (c->count >= 2 && !c->npinf && !c->nninf)
		v[R_STD] = sqrt(t.m2 / (double)(t.n - 1));
	return rc;
}

int ml_describe_result(const struct ml_describe *d, struct ml_frame *out, struct ml_err *e)
{
	int j, r, rc;

	for (r = 0; r < R_NCOL; r++) {
		enum ml_type t = r == R_COLUMN || r == R_TYPE || r == R_TOP ? ML_CAT : ML_NUM;
		if ((rc = ml_schema_add(&out->schema, result_names[r], t)) < 0) {
			rc = rc == ML_E_NOMEM ? ml_err_nomem(e)
					      : ml_err_set(e, rc, NULL, 0, 0,
							   "describe: cannot build the result");
			goto fail;
		}
	}
	if ((rc = ml_block_init(&out->rows, &out->schema, (size_t)d->ncol, e)) < 0)
		goto fail;
	for (j = 0; j < d->ncol; j++) {
		const struct ml_col *col = &d->s->cols[j];
		const struct dcol *c = &d->c[j];
		double v[R_NCOL];
		int32_t code[R_NCOL];

		for (r = 0; r < R_NCOL; r++) {
			v[r] = NAN;
			code[r] = ML_MISSING_CAT;
		}
		v[R_COUNT] = (double)c->count;
		v[R_MISSING] = (double)c->missing;
		rc = intern(out, R_COLUMN, col->name, &code[R_COLUMN]);
		if (rc == 0)
			rc =
			    intern(out, R_TYPE, col->type == ML_NUM ? "num" : "cat", &code[R_TYPE]);
		if (rc < 0)
			goto intern_fail;
		if (col->type == ML_NUM) {
			if (num_summary(c, v) < 0) {
				rc = ml_err_nomem(e);
				goto fail;
			}
		} else {
			size_t i, top = 0, distinct = 0;

			for (i = 0; i < c->ncnt; i++)
				if (c->cnt[i]) {
					distinct++;
					if (c->cnt[i] > c->cnt[top])
						top = i;
				}
			v[R_DISTINCT] = (double)distinct;
			if (distinct) {
				if ((int32_t)top >= col->dict.n) {
					rc = ml_err_set(e, ML_E_INTERNAL, NULL, 0, 0,
							"describe: dictionary of '%s' shrank",
							col->name);
					goto fail;
				}
				if ((rc = intern(out, R_TOP, col->dict.str[top], &code[R_TOP])) < 0)
					goto intern_fail;
				v[R_FREQ] = (double)c->cnt[top];
			}
		}
		for (r = 0; r < R_NCOL; r++) {
			if (out->schema.cols[r].type == ML_CAT)
				out->rows.col[r].cat[j] = code[r];
			else
				out->rows.col[r].num[j] = v[r];
		}
	}
	out->rows.nrow = (size_t)d->ncol;
	return 0;
intern_fail:
	rc = rc == ML_E_NOMEM ? ml_err_nomem(e)
			      : ml_err_set(e, rc, NULL, 0, 0, "describe: too many distinct names");
fail:
	ml_frame_release(out);
	return rc;
}
