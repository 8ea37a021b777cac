/* Quantile binning of features for the tree learners: bin edges from the sorted training
 * values (or a seeded sample of them), then every cell mapped to its bin byte. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hist.h"

/* Rows per binning task. */
#define BIN_ROWS 8192

double ml_midpoint(double a, double b)
{
	double m = a / 2.0 + b / 2.0;

	if (m == b || isinf(m))
		m = a;
	return m;
}

/* Doubles as unsigned keys that sort in the same order. */
static uint64_t dkey(double x)
{
	uint64_t u;

	memcpy(&u, &x, sizeof(u));
	return (u >> 63) ? ~u : u | 0x8000000000000000ULL;
}

static double keyd(uint64_t u)
{
	double x;

	u = (u >> 63) ? u & 0x7fffffffffffffffULL : ~u;
	memcpy(&x, &u, sizeof(x));
	return x;
}

/* LSD radix sort of n keys (11-bit digits) using tmp, as large as k; returns the array
 * (k or tmp) that holds the sorted keys. */
static uint64_t *radix_sort(uint64_t *k, uint64_t *tmp, size_t n)
{
	size_t cnt[2048], i;
	int shift;

	for (shift = 0; shift < 64; shift += 11) {
		size_t sum = 0, c;
		uint64_t *sw;
		memset(cnt, 0, sizeof(cnt));
		for (i = 0; i < n; i++)
			cnt[(k[i] >> shift) & 2047]++;
		/* A digit every key shares moves nothing. */
		if (n == 0 || cnt[(k[0] >> shift) & 2047] == n)
			continue;
		for (i = 0; i < 2048; i++) {
			c = cnt[i];
			cnt[i] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			tmp[cnt[(k[i] >> shift) & 2047]++] = k[i];
		sw = k;
		k = tmp;
		tmp = sw;
	}
	return k;
}

/* Up to max_bin bins over the distinct values v[0..D) with counts c (D > max_bin): the
 * greedy equal-count rule (a value holding at least a bin's share gets a bin of its
 * own). Writes the upper edges into ub and returns the bin count. */
static int greedy_bins(const double *v, const size_t *c, size_t D, int max_bin, unsigned char *big,
		       double *ub)
{
	size_t N = 0, i;
	double mean, rest_cnt, cur = 0;
	int rest_bins = max_bin, nb = 0;

	for (i = 0; i < D; i++)
		N += c[i];
	mean = (double)N / max_bin;
	rest_cnt = (double)N;
	for (i = 0; i < D; i++) {
		big[i] = (double)c[i] >= mean;
		if (big[i]) {
			rest_bins--;
			rest_cnt -= (double)c[i];
		}
	}
	mean = rest_bins > 0 ? rest_cnt / rest_bins : INFINITY;
	for (i = 0; i + 1 < D; i++) {
		if (!big[i])
			rest_cnt -= (double)c[i];
		cur += (double)c[i];
		if (big[i] || cur >= mean || (big[i + 1] && cur >= fmax(1.0, mean * 0.5))) {
			ub[nb++] = ml_midpoint(v[i], v[i + 1]);
			if (nb >= max_bin - 1)
				break;
			cur = 0;
			if (!big[i]) {
				rest_bins--;
				mean = rest_bins > 0 ? rest_cnt / rest_bins : INFINITY;
			}
		}
	}
	return nb + 1;
}

struct job {
	struct ml_bins *b;
	const struct ml_data *d;
	int max_bin, max_cat;
	const size_t *rows; /* sample rows, or NULL for all */
	size_t ns;	    /* sample size */
	uint64_t *keys;	    /* per worker: 2 * ns keys */
	size_t *cnt;	    /* per worker: ns counts */
	double *dv;	    /* per worker: ns distinct values */
	unsigned char *big; /* per worker: ns flags */
	int *failed;	    /* per worker: out of memory in a task */
};

/* The edges of feature j. */
static void edges_task(void *arg, size_t task, int worker)
{
	struct job *J = arg;
	struct ml_bins *b = J->b;
	const struct ml_data *d = J->d;
	int j = (int)task, nb;
	const double *x = d->col[j];
	uint64_t *k = J->keys + (size_t)worker * 2 * J->ns, *tmp = k + J->ns;
	size_t *cnt = J->cnt + (size_t)worker * J->ns, m = 0, D = 0, i;
	double *dv = J->dv + (size_t)worker * J->ns;
	int nc = d->ncat ? d->ncat[j] : 0;

	if (nc > 0 && nc <= J->max_cat && nc <= J->max_bin) {
		b->cat[j] = 1;
		b->ncat[j] = nc;
		b->nb[j] = nc;
		return;
	}
	for (i = 0; i < J->ns; i++) {
		double v = x[J->rows ? J->rows[i] : i];
		if (v == v)
			k[m++] = dkey(v);
	}
	k = radix_sort(k, tmp, m);
	for (i = 0; i < m; i++) {
		double v = keyd(k[i]);
		if (D > 0 && dv[D - 1] == v) {
			cnt[D - 1]++;
		} else {
			dv[D] = v;
			cnt[D++] = 1;
		}
	}
	if (D == 0) {
		b->nb[j] = 1;
		return;
	}
	b->ub[j] = malloc(256 * sizeof(double));
	if (!b->ub[j]) {
		J->failed[worker] = 1;
		return;
	}
	for (i = 0; i < 256; i++)
		b->ub[j][i] = INFINITY;
	if (D <= (size_t)J->max_bin) {
		b->val[j] = malloc(D * sizeof(double));
		if (!b->val[j]) {
			J->failed[worker] = 1;
			return;
		}
		memcpy(b->val[j], dv, D * sizeof(double));
		for (i = 0; i + 1 < D; i++)
			b->ub[j][i] = ml_midpoint(dv[i], dv[i + 1]);
		nb = (int)D;
	} else {
		nb = greedy_bins(dv, cnt, D, J->max_bin, J->big + (size_t)worker * J->ns, b->ub[j]);
	}
	b->nb[j] = nb;
}

/* The bins of four values: how many of the 256 edges (padded with +inf) are below each,
 * NaN taken as 0. The four searches go side by side, without branches, so that their loads
 * overlap. */
static inline void bins4(const double *ub, double x0, double x1, double x2, double x3,
			 uint8_t *out)
{
	int p0 = 0, p1 = 0, p2 = 0, p3 = 0, step;

	for (step = 128; step >= 1; step >>= 1) {
		p0 += ub[p0 + step - 1] < x0 ? step : 0;
		p1 += ub[p1 + step - 1] < x1 ? step : 0;
		p2 += ub[p2 + step - 1] < x2 ? step : 0;
		p3 += ub[p3 + step - 1] < x3 ? step : 0;
	}
	out[0] = (uint8_t)p0;
	out[1] = (uint8_t)p1;
	out[2] = (uint8_t)p2;
	out[3] = (uint8_t)p3;
}

static void bin_task(void *arg, size_t task, int worker)
{
	struct job *J = arg;
	struct ml_bins *b = J->b;
	const struct ml_data *d = J->d;
	size_t a = task * BIN_ROWS, z = a + BIN_ROWS < d->n ? a + BIN_ROWS : d->n, i;
	int j, p = d->p;
	uint8_t col[BIN_ROWS];

	(void)worker;
	for (j = 0; j < p; j++) {
		const double *x = d->col[j];
		uint8_t miss = (uint8_t)b->nb[j];
		if (b->cat[j]) {
			double nc = b->ncat[j];
			for (i = a; i < z; i++) {
				double v = x[i];
				col[i - a] = v >= 0 && v < nc && v == floor(v) ? (uint8_t)v : miss;
			}
		} else if (!b->ub[j]) {
			for (i = a; i < z; i++)
				col[i - a] = x[i] == x[i] ? 0 : miss;
		} else {
			const double *ub = b->ub[j];
			/* Four searches side by side: their loads overlap. */
			uint8_t bn[4];
			for (i = a; i < z; i += 4) {
				/* the last values of the task repeated to fill a four */
				size_t i1 = i + 1 < z ? i + 1 : i, i2 = i + 2 < z ? i + 2 : i,
				       i3 = i + 3 < z ? i + 3 : i, w;
				bins4(ub, x[i], x[i1], x[i2], x[i3], bn);
				for (w = 0; w < 4 && i + w < z; w++)
					col[i + w - a] = x[i + w] == x[i + w] ? bn[w] : miss;
			}
		}
		if (b->C)
			memcpy(b->C + (size_t)j * d->n + a, col, z - a);
		if (b->B) {
			uint8_t *out = b->B + j;
			for (i = a; i < z; i++)
				out[i * b->stride] = col[i - a];
		}
	}
	if (b->B && b->stride > (size_t)p)
		for (i = a; i < z; i++)
			memset(b->B + i * b->stride + p, 0, b->stride - (size_t)p);
}

/* Row stride of the row-major bins: see struct ml_bins. */
static size_t row_stride(size_t p)
{
	size_t s = p;

	if (p <= 64) {
		s = 1;
		while (s < p)
			s *= 2;
	} else {
		s = (p + 63) / 64 * 64;
	}
	return 4 * (s - p) <= p ? s : p;
}

void ml_bins_release(struct ml_bins *b)
{
	int j;

	if (!b)
		return;
	for (j = 0; j < b->p; j++) {
		if (b->ub)
			free(b->ub[j]);
		if (b->val)
			free(b->val[j]);
	}
	free(b->B);
	free(b->C);
	free(b->nb);
	free(b->off);
	free(b->ub);
	free(b->val);
	free(b->cat);
	free(b->ncat);
	memset(b, 0, sizeof(*b));
}

int ml_bins_build(struct ml_bins *b, const struct ml_data *d, int max_bin, int max_cat, int layouts,
		  uint64_t seed, struct ml_pool *pool, struct ml_err *e)
{
	struct job J;
	size_t *rows = NULL, i, np = (size_t)(d->p > 0 ? d->p : 1);
	int j, nw = ml_pool_size(pool), rc = 0;

	memset(b, 0, sizeof(*b));
	memset(&J, 0, sizeof(J));
	if (max_bin < 2 || max_bin > ML_HIST_MAX_BIN)
		return ml_err_set(e, ML_E_INTERNAL, NULL, 0, 0, "max_bin %d out of range", max_bin);
	b->n = d->n;
	b->p = d->p;
	b->stride = row_stride(np);
	if (d->n > (SIZE_MAX - 64) / b->stride)
		return ml_err_nomem(e);
	if (layouts & ML_BINS_ROWS)
		b->B = ml_alloc_big(d->n * b->stride + 64); /* readers may load past a row */
	if (layouts & ML_BINS_COLS)
		b->C = ml_alloc_big(d->n * np + 1);
	b->nb = calloc(np, sizeof(int));
	b->off = calloc(np + 1, sizeof(int));
	b->ub = calloc(np, sizeof(double *));
	b->val = calloc(np, sizeof(double *));
	b->cat = calloc(np, 1);
	b->ncat = calloc(np, sizeof(int));
	if ((!b->B && (layouts & ML_BINS_ROWS)) || (!b->C && (layouts & ML_BINS_COLS)) || !b->nb ||
	    !b->off || !b->ub || !b->val || !b->cat || !b->ncat)
		goto nomem;
	J.b = b;
	J.d = d;
	J.max_bin = max_bin;
	J.max_cat = max_cat;
	J.ns = d->n;
	if (d->n > ML_HIST_SAMPLE) {
		/* Selection sampling: each row kept with the probability that leaves exactly
		 * ML_HIST_SAMPLE, in row order. */
		struct ml_rng r;
		size_t need = ML_HIST_SAMPLE, m = 0;
		rows = malloc(ML_HIST_SAMPLE * sizeof(size_t));
		if (!rows)
			goto nomem;
		ml_rng_derive(&r, seed, 0x68697374ULL);
		for (i = 0; i < d->n && m < need; i++) {
			/* written always, kept when taken: no branch on a coin toss */
			rows[m] = i;
			m += (double)(d->n - i) * ml_rng_uniform(&r) < (double)(need - m);
		}
		J.rows = rows;
		J.ns = m;
	}
	J.keys = malloc((size_t)nw * 2 * (J.ns ? J.ns : 1) * sizeof(uint64_t));
	J.cnt = malloc((size_t)nw * (J.ns ? J.ns : 1) * sizeof(size_t));
	J.dv = malloc((size_t)nw * (J.ns ? J.ns : 1) * sizeof(double));
	J.big = malloc((size_t)nw * (J.ns ? J.ns : 1));
	J.failed = calloc((size_t)nw, sizeof(int));
	if (!J.keys || !J.cnt || !J.dv || !J.big || !J.failed)
		goto nomem;
	ml_pool_run(pool, (size_t)d->p, edges_task, &J);
	for (j = 0; j < nw; j++)
		if (J.failed[j])
			goto nomem;
	free(J.keys);
	free(J.cnt);
	free(J.dv);
	free(J.big);
	J.keys = NULL;
	J.cnt = NULL;
	J.dv = NULL;
	J.big = NULL;
	for (j = 0; j < d->p; j++)
		b->off[j + 1] = b->off[j] + b->nb[j] + 1;
	b->total = b->off[d->p];
	ml_pool_run(pool, (d->n + BIN_ROWS - 1) / BIN_ROWS, bin_task, &J);
	free(rows);
	free(J.failed);
	return 0;
nomem:
	rc = ml_err_nomem(e);
	free(rows);
	free(J.failed);
	free(J.keys);
	free(J.cnt);
	free(J.dv);
	free(J.big);
	ml_bins_release(b);
	return rc;
}

double ml_bins_threshold(const struct ml_bins *b, int j, int lo, int hi)
{
	if (hi >= b->nb[j])
		return INFINITY;
	if (b->val[j])
		return ml_midpoint(b->val[j][lo], b->val[j][hi]);
	return b->ub[j][lo];
}
