/* Isolation forest (-a iforest): Liu, Ting and Zhou's random isolation trees as
 * scikit-learn's IsolationForest grows them, and Hariri's extended variant with random
 * hyperplane cuts. Each tree is kept complete to its height limit (a leaf that stops
 * early is copied down) so that scoring is a fixed number of branch-free steps per tree,
 * with the trees as flat arrays. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "detect.h"

#define IF_VERSION   1
#define IF_MAX_DEPTH 16 /* --max-samples up to 2^16 */
#define IF_BLOCK     256 /* rows scored together, tree after tree */

static const struct ml_param if_params[] = {
	{"trees", ML_P_INT, 100, 1, 100000, NULL, "isolation trees"},
	{"max-samples", ML_P_INT, 256, 2, 65536, NULL,
	 "rows drawn (without replacement) for each tree, at most the training rows"},
	{"max-features", ML_P_REAL, 1, 1e-9, 1, NULL,
	 "fraction of the features each tree draws (without replacement)"},
	{"extended", ML_P_ENUM, 0, 0, 0, "no,yes",
	 "cut by random hyperplanes through every feature (extended isolation forest) "
	 "instead of one feature at a time"},
	ML_DETECT_PARAMS,
	{NULL, ML_P_REAL, 0, 0, 0, NULL, NULL}};

struct iforest {
	int p, ntrees, depth, extended;
	size_t psi;	  /* rows per tree */
	double cpsi;	  /* c(psi), the average path length of an unsuccessful search */
	size_t ninner;	  /* internal nodes per tree: 2^depth - 1 */
	int32_t *feat;	  /* per tree and node: the feature cut (standard trees) */
	double *thr;	  /* per tree and node: left when x <= thr (or normal . x <= thr) */
	double *normal;	  /* extended: per tree and node, p coefficients */
	double *leaf;	  /* per tree and leaf: depth + c(rows in the leaf) */
	struct ml_detect det;
};

static void if_free(void *state)
{
	struct iforest *m = state;

	if (!m)
		return;
	free(m->feat);
	free(m->thr);
	free(m->normal);
	free(m->leaf);
	ml_detect_release(&m->det);
	free(m);
}

/* c(n): the average path length of an unsuccessful binary search tree search among n. */
static double avg_path(double n)
{
	if (n <= 1)
		return 0;
	if (n <= 2)
		return 1;
	return 2 * (log(n - 1) + 0.5772156649015329) - 2 * (n - 1) / n;
}

/* --- Growing --------------------------------------------------------------------------- */

struct grow {
	const struct iforest *m;
	const double *X; /* column-major, n rows */
	size_t n;
	uint64_t seed;
	int nfeat;	    /* features each tree draws */
	/* per worker: psi row numbers, a hash set of 2 * psi (rounded up to a power of two),
	 * the tree's features, the values of the node's rows for one feature, dots */
	size_t *rows, *set, setsz;
	int *feats;
	double *val, *lo, *hi;
	int *rc;
};

/* Draw psi of n rows without replacement, in the order drawn, by rejection through a
 * hash set (psi is small beside n, or n itself is small). */
static void draw_rows(struct ml_rng *r, size_t n, size_t psi, size_t *out, size_t *set,
		      size_t setsz)
{
	size_t k = 0, mask = setsz - 1;

	if (psi == n) {
		for (k = 0; k < n; k++)
			out[k] = k;
		ml_rng_shuffle(r, out, n);
		return;
	}
	memset(set, 0xff, setsz * sizeof(size_t));
	while (k < psi) {
		size_t v = (size_t)ml_rng_below(r, n), h = (v * 0x9E3779B97F4A7C15ULL) & mask;
		while (set[h] != SIZE_MAX && set[h] != v)
			h = (h + 1) & mask;
		if (set[h] == v)
			continue;
		set[h] = v;
		out[k++] = v;
	}
}

/* Fill the subtree of node t (at depth d) as a leaf of value v. */
static void fill_leaf(const struct iforest *m, size_t tree, size_t t, int d, double v)
{
	size_t first = t, count = 1;
	int k;

	/* the descendants of t at depth dd are 2^(dd-d) consecutive nodes */
	for (k = d; k < m->depth; k++) {
		size_t j;
		for (j = first; j < first + count; j++) {
			m->thr[tree * m->ninner + j] = INFINITY;
			if (m->extended)
				memset(m->normal + (tree * m->ninner + j) * (size_t)m->p, 0,
				       (size_t)m->p * sizeof(double));
			else
				m->feat[tree * m->ninner + j] = 0;
		}
		first = 2 * first + 1;
		count *= 2;
	}
	for (k = 0; k < (int)count; k++)
		m->leaf[tree * (m->ninner + 1) + (first - m->ninner) + (size_t)k] = v;
}

/* Grow node t at depth d of a standard tree on rows[0..cnt). */
static void grow_std(const struct grow *g, struct ml_rng *r, int w, size_t tree, size_t t, int d,
		     size_t *rows, size_t cnt)
{
	const struct iforest *m = g->m;
	int *feats = g->feats + (size_t)w * (size_t)m->p, left = g->nfeat, f = -1;
	double lo = 0, hi = 0, th;
	size_t i, a, b;

	if (d == m->depth || cnt <= 1) {
		fill_leaf(m, tree, t, d, d + avg_path((double)cnt));
		return;
	}
	/* a random feature among those not constant here: the first of a random order */
	while (left > 0) {
		int k = (int)ml_rng_below(r, (uint64_t)left), tmp;
		const double *x = g->X + (size_t)feats[k] * g->n;
		lo = hi = x[rows[0]];
		for (i = 1; i < cnt; i++) {
			double v = x[rows[i]];
			if (v < lo)
				lo = v;
			if (v > hi)
				hi = v;
		}
		if (hi > lo) {
			f = feats[k];
			break;
		}
		left--;
		tmp = feats[k];
		feats[k] = feats[left];
		feats[left] = tmp;
	}
	if (f < 0) {
		fill_leaf(m, tree, t, d, d + avg_path((double)cnt));
		return;
	}
	th = lo + ml_rng_uniform(r) * (hi - lo);
	if (th >= hi)
		th = lo;
	m->feat[tree * m->ninner + t] = f;
	m->thr[tree * m->ninner + t] = th;
	/* left: x <= th, in place */
	for (a = 0, b = cnt; a < b;) {
		if (g->X[(size_t)f * g->n + rows[a]] <= th) {
			a++;
		} else {
			size_t tmp = rows[a];
			rows[a] = rows[--b];
			rows[b] = tmp;
		}
	}
	grow_std(g, r, w, tree, 2 * t + 1, d + 1, rows, a);
	grow_std(g, r, w, tree, 2 * t + 2, d + 1, rows + a, cnt - a);
}

/* Grow node t of an extended tree: a normal drawn from N(0, I) on the tree's features,
 * through a point drawn uniformly in the box of the node's rows. */
static void grow_ext(const struct grow *g, struct ml_rng *r, int w, size_t tree, size_t t, int d,
		     size_t *rows, size_t cnt)
{
	const struct iforest *m = g->m;
	const int *feats = g->feats + (size_t)w * (size_t)m->p;
	double *lo = g->lo + (size_t)w * (size_t)m->p, *hi = g->hi + (size_t)w * (size_t)m->p;
	double *nv = m->normal + (tree * m->ninner + t) * (size_t)m->p, th = 0;
	double *dot = g->val + (size_t)w * m->psi;
	size_t i, a, b;
	int k, spread = 0;

	if (d == m->depth || cnt <= 1) {
		fill_leaf(m, tree, t, d, d + avg_path((double)cnt));
		return;
	}
	for (k = 0; k < g->nfeat; k++) {
		const double *x = g->X + (size_t)feats[k] * g->n;
		lo[k] = hi[k] = x[rows[0]];
		for (i = 1; i < cnt; i++) {
			double v = x[rows[i]];
			if (v < lo[k])
				lo[k] = v;
			if (v > hi[k])
				hi[k] = v;
		}
		spread |= hi[k] > lo[k];
	}
	if (!spread) {
		fill_leaf(m, tree, t, d, d + avg_path((double)cnt));
		return;
	}
	memset(nv, 0, (size_t)m->p * sizeof(double));
	for (k = 0; k < g->nfeat; k++) {
		double c = ml_rng_normal(r), pt = lo[k] + ml_rng_uniform(r) * (hi[k] - lo[k]);
		nv[feats[k]] = c;
		th += c * pt;
	}
	for (i = 0; i < cnt; i++) {
		double s = 0;
		for (k = 0; k < g->nfeat; k++)
			s += nv[feats[k]] * g->X[(size_t)feats[k] * g->n + rows[i]];
		dot[i] = s;
	}
	m->thr[tree * m->ninner + t] = th;
	for (a = 0, b = cnt; a < b;) {
		if (dot[a] <= th) {
			a++;
		} else {
			size_t tmp = rows[a];
			double td = dot[a];
			b--;
			rows[a] = rows[b];
			rows[b] = tmp;
			dot[a] = dot[b];
			dot[b] = td;
		}
	}
	grow_ext(g, r, w, tree, 2 * t + 1, d + 1, rows, a);
	grow_ext(g, r, w, tree, 2 * t + 2, d + 1, rows + a, cnt - a);
}

static void grow_task(void *arg, size_t tree, int w)
{
	const struct grow *g = arg;
	const struct iforest *m = g->m;
	size_t *rows = g->rows + (size_t)w * m->psi;
	int *feats = g->feats + (size_t)w * (size_t)m->p, k;
	struct ml_rng r;

	ml_rng_derive(&r, g->seed, tree);
	draw_rows(&r, g->n, m->psi, rows, g->set + (size_t)w * g->setsz, g->setsz);
	/* the tree's features: a random subset when it draws fewer than all */
	for (k = 0; k < m->p; k++)
		feats[k] = k;
	for (k = 0; k < g->nfeat && g->nfeat < m->p; k++) {
		int j = k + (int)ml_rng_below(&r, (uint64_t)(m->p - k)), tmp = feats[k];
		feats[k] = feats[j];
		feats[j] = tmp;
	}
	if (m->extended)
		grow_ext(g, &r, w, tree, 0, 0, rows, m->psi);
	else
		grow_std(g, &r, w, tree, 0, 0, rows, m->psi);
	g->rc[tree] = 0;
}

/* --- Scoring --------------------------------------------------------------------------- */

/* Standard trees: the rows of a block laid out row by row (xr[i * p + j]), eight rows
 * descending each tree at once, each keeping its node in a register (no row waits on
 * another), the trees in order so that each row's sum is added up as it always was. Nodes
 * are numbered from 1 here (children 2k and 2k + 1; the leaves from 2^depth on). */
static void block_std(const struct iforest *m, const double *xr, size_t nb, double *sum)
{
	const size_t p = (size_t)m->p, ninner = m->ninner;
	const int depth = m->depth;
	size_t i, t;

	for (t = 0; t < (size_t)m->ntrees; t++) {
		const int32_t *feat = m->feat + t * ninner - 1;
		const double *thr = m->thr + t * ninner - 1;
		const double *leaf = m->leaf + t * (ninner + 1) - (ninner + 1);
		for (i = 0; i + 8 <= nb; i += 8) {
			const double *r0 = xr + i * p, *r1 = r0 + p, *r2 = r1 + p, *r3 = r2 + p;
			const double *r4 = r3 + p, *r5 = r4 + p, *r6 = r5 + p, *r7 = r6 + p;
			size_t k0 = 1, k1 = 1, k2 = 1, k3 = 1, k4 = 1, k5 = 1, k6 = 1, k7 = 1;
			int d;
			for (d = 0; d < depth; d++) {
				k0 = 2 * k0 + (r0[feat[k0]] > thr[k0]);
				k1 = 2 * k1 + (r1[feat[k1]] > thr[k1]);
				k2 = 2 * k2 + (r2[feat[k2]] > thr[k2]);
				k3 = 2 * k3 + (r3[feat[k3]] > thr[k3]);
				k4 = 2 * k4 + (r4[feat[k4]] > thr[k4]);
				k5 = 2 * k5 + (r5[feat[k5]] > thr[k5]);
				k6 = 2 * k6 + (r6[feat[k6]] > thr[k6]);
				k7 = 2 * k7 + (r7[feat[k7]] > thr[k7]);
			}
			sum[i] += leaf[k0];
			sum[i + 1] += leaf[k1];
			sum[i + 2] += leaf[k2];
			sum[i + 3] += leaf[k3];
			sum[i + 4] += leaf[k4];
			sum[i + 5] += leaf[k5];
			sum[i + 6] += leaf[k6];
			sum[i + 7] += leaf[k7];
		}
		for (; i < nb; i++) {
			const double *r = xr + i * p;
			size_t k = 1;
			int d;
			for (d = 0; d < depth; d++)
				k = 2 * k + (r[feat[k]] > thr[k]);
			sum[i] += leaf[k];
		}
	}
}

/* The mean path length of rows [0, n) of X over the trees into out[i * stride]; -1 when
 * out of memory. */
static int path_lengths(const struct iforest *m, const double *X, size_t n, size_t ld,
			double *out, size_t stride)
{
	const size_t p = (size_t)m->p;
	double sum[IF_BLOCK], *xr = NULL;
	size_t s, i, j, t;

	if (!m->extended && !(xr = malloc(IF_BLOCK * p * sizeof(double))))
		return -1;
	for (s = 0; s < n; s += IF_BLOCK) {
		size_t nb = n - s < IF_BLOCK ? n - s : IF_BLOCK;
		const double *xb = X + s;
		memset(sum, 0, sizeof(sum));
		if (!m->extended) {
			for (j = 0; j < p; j++)
				for (i = 0; i < nb; i++)
					xr[i * p + j] = xb[j * ld + i];
			block_std(m, xr, nb, sum);
		} else {
			for (t = 0; t < (size_t)m->ntrees; t++) {
				const double *thr = m->thr + t * m->ninner;
				const double *leaf = m->leaf + t * (m->ninner + 1);
				const double *nv = m->normal + t * m->ninner * p;
				for (i = 0; i < nb; i++) {
					size_t k = 0;
					int d;
					for (d = 0; d < m->depth; d++) {
						const double *c = nv + k * p;
						double v = 0;
						for (j = 0; j < p; j++)
							v += c[j] * xb[j * ld + i];
						k = 2 * k + 1 + (v > thr[k]);
					}
					sum[i] += leaf[k - m->ninner];
				}
			}
		}
		for (i = 0; i < nb; i++)
			out[(s + i) * stride] = sum[i] / m->ntrees;
	}
	free(xr);
	return 0;
}

/* Per feature: the cuts on it along the row's paths, each weighing 1 / (depth + 1), so
 * that the cuts that isolate a row early weigh most (a hyperplane's weight shared among
 * the features by |coefficient|), averaged over the trees. */
static int if_contrib(const void *state, const double *X, size_t n, size_t ld, double *out,
		      struct ml_err *e)
{
	const struct iforest *m = state;
	size_t i, t, w = (size_t)m->p + 1;
	int d, j;

	(void)e;
	memset(out, 0, n * w * sizeof(double));
	for (i = 0; i < n; i++) {
		double *o = out + i * w;
		for (t = 0; t < (size_t)m->ntrees; t++) {
			const double *thr = m->thr + t * m->ninner;
			size_t k = 0;
			for (d = 0; d < m->depth && thr[k] != INFINITY; d++) {
				double v = 0, cw = 1.0 / (d + 1);
				if (!m->extended) {
					int f = m->feat[t * m->ninner + k];
					o[f] += cw;
					v = X[(size_t)f * ld + i];
				} else {
					const double *c = m->normal + (t * m->ninner + k) * (size_t)m->p;
					double s = 0;
					for (j = 0; j < m->p; j++) {
						s += fabs(c[j]);
						v += c[j] * X[(size_t)j * ld + i];
					}
					for (j = 0; j < m->p && s > 0; j++)
						o[j] += cw * fabs(c[j]) / s;
				}
				k = 2 * k + 1 + (v > thr[k]);
			}
		}
		for (j = 0; j < m->p; j++)
			o[j] /= m->ntrees;
	}
	return 0;
}

/* Scores 2^(-E(h) / c(psi)) into out[i * ML_DETECT_NOUT]; -1 when out of memory. */
static int if_scores(const struct iforest *m, const double *X, size_t n, size_t ld, double *out)
{
	size_t i;

	if (path_lengths(m, X, n, ld, out, ML_DETECT_NOUT) < 0)
		return -1;
	for (i = 0; i < n; i++)
		out[i * ML_DETECT_NOUT] = exp2(-out[i * ML_DETECT_NOUT] / m->cpsi);
	return 0;
}

static int if_predict(const void *state, const double *X, size_t n, size_t ld, double *out,
		      int what, struct ml_err *e)
{
	const struct iforest *m = state;

	(void)what;
	if (if_scores(m, X, n, ld, out) < 0)
		return ml_err_nomem(e);
	ml_detect_apply(&m->det, out, n);
	return 0;
}

/* --- Fitting --------------------------------------------------------------------------- */

static int if_alloc(struct iforest *m)
{
	size_t nt = (size_t)m->ntrees;

	m->ninner = ((size_t)1 << m->depth) - 1;
	m->thr = malloc(nt * m->ninner * sizeof(double) + 1);
	m->leaf = malloc(nt * (m->ninner + 1) * sizeof(double));
	if (m->extended)
		m->normal = malloc(nt * m->ninner * (size_t)m->p * sizeof(double) + 1);
	else
		m->feat = malloc(nt * m->ninner * sizeof(int32_t) + 1);
	return m->thr && m->leaf && (m->extended ? m->normal != NULL : m->feat != NULL) ? 0 : -1;
}

static int if_fit(void **state, const struct ml_data *d, const struct ml_data *valid,
		  const struct ml_params *hp, struct ml_ctx *ctx, struct ml_err *e)
{
	struct iforest *m;
	struct grow g;
	double *buf = NULL, *s = NULL;
	const double *X;
	int workers = ctx->pool ? ml_pool_size(ctx->pool) : 1, rc = 0;
	size_t i;

	(void)valid;
	*state = NULL;
	if ((rc = ml_detect_check(d, "iforest", 2, e)) < 0)
		return rc;
	if (!(m = calloc(1, sizeof(*m))))
		return ml_err_nomem(e);
	if ((rc = ml_detect_init(&m->det, hp, "iforest", e)) < 0) {
		if_free(m);
		return rc;
	}
	m->p = d->p;
	m->ntrees = (int)ml_param(hp, "trees");
	m->extended = (int)ml_param(hp, "extended");
	m->psi = (size_t)ml_param(hp, "max-samples");
	if (m->psi > d->n)
		m->psi = d->n;
	m->depth = 1;
	while (((size_t)1 << m->depth) < m->psi)
		m->depth++;
	m->cpsi = avg_path((double)m->psi);
	memset(&g, 0, sizeof(g));
	g.m = m;
	g.n = d->n;
	g.seed = ctx->seed;
	g.nfeat = (int)(ml_param(hp, "max-features") * d->p);
	if (g.nfeat < 1)
		g.nfeat = 1;
	for (g.setsz = 1; g.setsz < 2 * m->psi; g.setsz *= 2)
		;
	X = ml_data_dense(d, &buf);
	g.X = X;
	g.rows = malloc((size_t)workers * m->psi * sizeof(size_t));
	g.set = malloc((size_t)workers * g.setsz * sizeof(size_t));
	g.feats = malloc((size_t)workers * (size_t)m->p * sizeof(int));
	g.val = malloc((size_t)workers * m->psi * sizeof(double));
	g.lo = malloc((size_t)workers * (size_t)m->p * sizeof(double));
	g.hi = malloc((size_t)workers * (size_t)m->p * sizeof(double));
	g.rc = calloc((size_t)m->ntrees, sizeof(int));
	s = malloc(d->n * ML_DETECT_NOUT * sizeof(double));
	if (!X || !g.rows || !g.set || !g.feats || !g.val || !g.lo || !g.hi || !g.rc || !s ||
	    if_alloc(m) < 0) {
		rc = ml_err_nomem(e);
		goto out;
	}
	if (ctx->pool)
		ml_pool_run(ctx->pool, (size_t)m->ntrees, grow_task, &g);
	else
		for (i = 0; i < (size_t)m->ntrees; i++)
			grow_task(&g, i, 0);
	/* the training rows' scores set the threshold and the bands */
	rc = if_scores(m, X, d->n, d->n, s) < 0 ? ml_err_nomem(e)
						 : ml_detect_calibrate(&m->det, d, X, s, 0.5, e);
	ml_log(ctx, ML_LOG_DEBUG, "iforest: %d trees of %zu rows, height limit %d", m->ntrees,
	       m->psi, m->depth);
out:
	free(buf);
	free(s);
	free(g.rows);
	free(g.set);
	free(g.feats);
	free(g.val);
	free(g.lo);
	free(g.hi);
	free(g.rc);
	if (rc < 0) {
		if_free(m);
		return rc;
	}
	*state = m;
	return 0;
}

/* --- Model file ------------------------------------------------------------------------ */

/* "algo.iforest": u32 version, u32 features, trees, height limit, u8 extended, u64 rows
 * per tree, the calibration (detect.h); "algo.iforest.nodes": per tree and internal node
 * (2^height - 1 of them, in heap order) the feature as i32 (standard trees) or p
 * coefficients (extended), then the thresholds, then per tree 2^height leaf values. */
static int if_save(const void *state, struct ml_model *mo, struct ml_err *e)
{
	const struct iforest *m = state;
	size_t nt = (size_t)m->ntrees;
	struct ml_wbuf b;
	int rc;

	if ((rc = ml_detect_save_sample(&m->det, mo, e)) < 0)
		return rc;
	ml_wbuf_init(&b);
	ml_wbuf_u32(&b, IF_VERSION);
	ml_wbuf_u32(&b, (uint32_t)m->p);
	ml_wbuf_u32(&b, (uint32_t)m->ntrees);
	ml_wbuf_u32(&b, (uint32_t)m->depth);
	ml_wbuf_u8(&b, (uint8_t)m->extended);
	ml_wbuf_u64(&b, m->psi);
	ml_detect_save(&m->det, &b);
	if ((rc = ml_algo_put(mo, "algo.iforest", &b, e)) < 0)
		return rc;
	ml_wbuf_init(&b);
	if (m->extended)
		ml_wbuf_f64v(&b, m->normal, nt * m->ninner * (size_t)m->p);
	else
		ml_wbuf_i32v(&b, m->feat, nt * m->ninner);
	ml_wbuf_f64v(&b, m->thr, nt * m->ninner);
	ml_wbuf_f64v(&b, m->leaf, nt * (m->ninner + 1));
	return ml_algo_put(mo, "algo.iforest.nodes", &b, e);
}

static int if_bad(struct iforest *m, struct ml_err *e, const char *sec, const char *what)
{
	if_free(m);
	return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "model section '%s' is invalid: %s", sec, what);
}

static int if_load(void **state, const struct ml_model *mo, const struct ml_data *shape,
		   struct ml_err *e)
{
	const void *data;
	size_t len, nt, i, need;
	struct ml_rbuf b;
	struct iforest *m;
	int rc;

	*state = NULL;
	if ((rc = ml_algo_get(mo, "algo.iforest", IF_VERSION, &b, e)) < 0)
		return rc;
	if (!(m = calloc(1, sizeof(*m))))
		return ml_err_nomem(e);
	m->p = (int)ml_rbuf_u32(&b);
	m->ntrees = (int)ml_rbuf_u32(&b);
	m->depth = (int)ml_rbuf_u32(&b);
	m->extended = ml_rbuf_u8(&b);
	m->psi = (size_t)ml_rbuf_u64(&b);
	if (b.err || m->p != shape->p || m->p < 1 || m->ntrees < 1 || m->ntrees > 100000 ||
	    m->depth < 1 || m->depth > IF_MAX_DEPTH || m->extended > 1 || m->psi < 2 ||
	    m->psi > ((size_t)1 << m->depth))
		return if_bad(m, e, "algo.iforest", "bad parameters");
	if ((rc = ml_detect_load(&m->det, &b, "algo.iforest", e)) < 0) {
		if_free(m);
		return rc;
	}
	if (b.off != b.n)
		return if_bad(m, e, "algo.iforest", "wrong size");
	m->cpsi = avg_path((double)m->psi);
	nt = (size_t)m->ntrees;
	if (if_alloc(m) < 0) {
		if_free(m);
		return ml_err_nomem(e);
	}
	if ((rc = ml_model_get(mo, "algo.iforest.nodes", &data, &len, e)) < 0) {
		if_free(m);
		return rc;
	}
	need = nt * m->ninner * (m->extended ? 8 * (size_t)m->p : 4) + nt * m->ninner * 8 +
	       nt * (m->ninner + 1) * 8;
	if (len != need)
		return if_bad(m, e, "algo.iforest.nodes", "its size does not match the trees");
	ml_rbuf_init(&b, data, len);
	if (m->extended)
		ml_rbuf_f64v(&b, m->normal, nt * m->ninner * (size_t)m->p);
	else
		ml_rbuf_i32v(&b, m->feat, nt * m->ninner);
	ml_rbuf_f64v(&b, m->thr, nt * m->ninner);
	ml_rbuf_f64v(&b, m->leaf, nt * (m->ninner + 1));
	for (i = 0; i < nt * m->ninner; i++)
		if ((!m->extended && (m->feat[i] < 0 || m->feat[i] >= m->p)) || isnan(m->thr[i]))
			return if_bad(m, e, "algo.iforest.nodes", "a node is out of range");
	for (i = 0; m->extended && i < nt * m->ninner * (size_t)m->p; i++)
		if (!isfinite(m->normal[i]))
			return if_bad(m, e, "algo.iforest.nodes", "a coefficient is not finite");
	for (i = 0; i < nt * (m->ninner + 1); i++)
		if (!(m->leaf[i] >= 0 && m->leaf[i] < 1000))
			return if_bad(m, e, "algo.iforest.nodes", "a leaf value is out of range");
	*state = m;
	return 0;
}

/* --- Tables ---------------------------------------------------------------------------- */

static const char *const if_tables[] = {ML_DETECT_TABLES, NULL};

static int if_table(const void *state, const char *name, const struct ml_data *shape,
		    struct ml_frame *out, struct ml_err *e)
{
	(void)shape;
	return ml_detect_table(&((const struct iforest *)state)->det, "iforest", name, out, e);
}

const struct ml_algo ml_algo_iforest = {
	.name = "iforest",
	.summary = "isolation forest: anomaly scores from the depth random trees isolate a "
		   "row at",
	.flags = ML_ALGO_UNSUPERVISED | ML_ALGO_ROWWISE,
	.params = if_params,
	.fit = if_fit,
	.predict = if_predict,
	.save = if_save,
	.load = if_load,
	.tables = if_tables,
	.table = if_table,
	.free = if_free,
	.contrib = if_contrib,
	.outputs = ml_detect_outputs,
	.output_levels = ml_detect_output_levels,
};
