/* Local outlier factor in novelty mode (-a lof), as scikit-learn's LocalOutlierFactor
 * with novelty=True: a row's local reachability density against those of its k nearest
 * training rows, found exactly by the search of -a knn. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "detect.h"
#include "learn/knn.h"

#define LOF_VERSION 1
#define LOF_CHUNK   256 /* rows scored together */

static const struct ml_param lof_params[] = {
	{"k", ML_P_INT, 20, 1, 100000, NULL, "neighbours"},
	{"metric", ML_P_ENUM, 0, 0, 0, "euclidean,manhattan", "distance between rows"},
	{"search", ML_P_ENUM, 0, 0, 0, "auto,kdtree,brute",
	 "neighbour search: KD-tree, brute force, or auto (KD-tree up to 15 features)"},
	ML_DETECT_PARAMS,
	{NULL, ML_P_REAL, 0, 0, 0, NULL, NULL}};

struct lof {
	size_t n;
	int p, k, metric, search;
	double *X;     /* training rows, row-major */
	double *kdist; /* per training row: the distance to its k-th neighbour (itself aside) */
	double *lrd;   /* per training row: its local reachability density */
	struct knn *index;
	struct ml_detect det;
};

static void lof_free(void *state)
{
	struct lof *m = state;

	if (!m)
		return;
	ml_knn_index_free(m->index);
	free(m->X);
	free(m->kdist);
	free(m->lrd);
	ml_detect_release(&m->det);
	free(m);
}

/* The reachability density of a row from its neighbours (idx, d), as scikit-learn: 1e-10
 * keeps duplicates finite. */
static double reach_density(const struct lof *m, const double *d, const size_t *idx)
{
	double s = 0;
	int t;

	for (t = 0; t < m->k; t++)
		s += d[t] > m->kdist[idx[t]] ? d[t] : m->kdist[idx[t]];
	return 1 / (s / m->k + 1e-10);
}

/* The factor of a row from its neighbours: the mean of their densities over its own. */
static double factor(const struct lof *m, const double *d, const size_t *idx)
{
	double s = 0, own = reach_density(m, d, idx);
	int t;

	for (t = 0; t < m->k; t++)
		s += m->lrd[idx[t]];
	return s / m->k / own;
}

/* A scoring thread's room for one row and its neighbours. */
struct query {
	double *q, *d;
	size_t *idx;
};

static void query_release(struct query *qs)
{
	free(qs->q);
	free(qs->d);
	free(qs->idx);
}

static int query_init(struct query *qs, const struct lof *m)
{
	qs->q = malloc((size_t)m->p * sizeof(double));
	qs->d = malloc((size_t)m->k * sizeof(double));
	qs->idx = malloc((size_t)m->k * sizeof(size_t));
	if (qs->q && qs->d && qs->idx)
		return 0;
	query_release(qs);
	return -1;
}

/* Row i of X into q, and its k nearest training rows. */
static void query_row(struct query *qs, const struct lof *m, const double *X, size_t ld, size_t i)
{
	int j;

	for (j = 0; j < m->p; j++)
		qs->q[j] = X[(size_t)j * ld + i];
	ml_knn_nearest(m->index, qs->q, m->k, qs->d, qs->idx);
}

/* Per feature: its mean share of the distances to the row's neighbours (|difference| for
 * manhattan, its square for euclidean). */
static int lof_contrib(const void *state, const double *X, size_t n, size_t ld, double *out,
		       struct ml_err *e)
{
	const struct lof *m = state;
	struct query qs;
	const double *q;
	const size_t *idx;
	size_t i, w = (size_t)m->p + 1;
	int j, t;

	if (query_init(&qs, m) < 0)
		return ml_err_nomem(e);
	q = qs.q;
	idx = qs.idx;
	for (i = 0; i < n; i++) {
		double *o = out + i * w;
		query_row(&qs, m, X, ld, i);
		for (j = 0; j <= m->p; j++)
			o[j] = 0;
		for (t = 0; t < m->k; t++)
			for (j = 0; j < m->p; j++) {
				double g = q[j] - m->X[idx[t] * (size_t)m->p + (size_t)j];
				o[j] += (m->metric ? fabs(g) : g * g) / m->k;
			}
	}
	query_release(&qs);
	return 0;
}

static int lof_predict(const void *state, const double *X, size_t n, size_t ld, double *out,
		       int what, struct ml_err *e)
{
	const struct lof *m = state;
	struct query qs;
	size_t i;

	(void)what;
	if (query_init(&qs, m) < 0)
		return ml_err_nomem(e);
	for (i = 0; i < n; i++) {
		query_row(&qs, m, X, ld, i);
		out[i * ML_DETECT_NOUT] = factor(m, qs.d, qs.idx);
	}
	query_release(&qs);
	ml_detect_apply(&m->det, out, n);
	return 0;
}

/* The training rows' neighbours, themselves left out as scikit-learn does (k + 1 found,
 * then the row itself dropped, or the nearest when ties hid it): into nd and ni, k per
 * row. */
struct nbjob {
	const struct lof *m;
	double *nd, *d;
	size_t *ni, *idx;
};

static void train_task(void *arg, size_t task, int w)
{
	const struct nbjob *jb = arg;
	const struct lof *m = jb->m;
	size_t k = (size_t)m->k, s = task * LOF_CHUNK, r, t, o;
	double *d = jb->d + (size_t)w * (k + 1);
	size_t *idx = jb->idx + (size_t)w * (k + 1);

	for (r = s; r < m->n && r < s + LOF_CHUNK; r++) {
		size_t self = 0;
		ml_knn_nearest(m->index, m->X + r * (size_t)m->p, m->k + 1, d, idx);
		for (t = 0; t <= k; t++)
			if (idx[t] == r) {
				self = t;
				break;
			}
		for (t = o = 0; t <= k; t++)
			if (t != self) {
				jb->nd[r * k + o] = d[t];
				jb->ni[r * k + o++] = idx[t];
			}
	}
}

static int lof_fit(void **state, const struct ml_data *d, const struct ml_data *valid,
		   const struct ml_params *hp, struct ml_ctx *ctx, struct ml_err *e)
{
	struct lof *m;
	struct nbjob jb;
	double *s = NULL;
	int workers = ctx->pool ? ml_pool_size(ctx->pool) : 1, j, rc = 0;
	size_t i, k, ntask;

	(void)valid;
	*state = NULL;
	if ((rc = ml_detect_check(d, "lof", 0, e)) < 0)
		return rc;
	if (d->n <= (size_t)ml_param(hp, "k"))
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				  "-a lof needs more training rows than --k %.0f, not %zu",
				  ml_param(hp, "k"), d->n);
	if (!(m = calloc(1, sizeof(*m))))
		return ml_err_nomem(e);
	memset(&jb, 0, sizeof(jb));
	if ((rc = ml_detect_init(&m->det, hp, "lof", e)) < 0)
		goto out;
	m->n = d->n;
	m->p = d->p;
	m->k = (int)ml_param(hp, "k");
	m->metric = (int)ml_param(hp, "metric");
	m->search = (int)ml_param(hp, "search");
	k = (size_t)m->k;
	m->X = malloc(m->n * (size_t)m->p * sizeof(double));
	m->kdist = malloc(m->n * sizeof(double));
	m->lrd = malloc(m->n * sizeof(double));
	jb.nd = malloc(m->n * k * sizeof(double));
	jb.ni = malloc(m->n * k * sizeof(size_t));
	jb.d = malloc((size_t)workers * (k + 1) * sizeof(double));
	jb.idx = malloc((size_t)workers * (k + 1) * sizeof(size_t));
	s = malloc(m->n * sizeof(double));
	if (!m->X || !m->kdist || !m->lrd || !jb.nd || !jb.ni || !jb.d || !jb.idx || !s) {
		rc = ml_err_nomem(e);
		goto out;
	}
	for (i = 0; i < m->n; i++)
		for (j = 0; j < m->p; j++) {
			m->X[i * (size_t)m->p + (size_t)j] = d->col[j][i];
		}
	if (ml_knn_index_new(&m->index, m->X, m->n, m->p, m->metric, m->search) < 0) {
		rc = ml_err_nomem(e);
		goto out;
	}
	jb.m = m;
	ntask = (m->n + LOF_CHUNK - 1) / LOF_CHUNK;
	if (ctx->pool)
		ml_pool_run(ctx->pool, ntask, train_task, &jb);
	else
		for (i = 0; i < ntask; i++)
			train_task(&jb, i, 0);
	for (i = 0; i < m->n; i++)
		m->kdist[i] = jb.nd[i * k + k - 1];
	for (i = 0; i < m->n; i++)
		m->lrd[i] = reach_density(m, jb.nd + i * k, jb.ni + i * k);
	for (i = 0; i < m->n; i++)
		s[i] = factor(m, jb.nd + i * k, jb.ni + i * k);
	rc = ml_detect_keep(&m->det, m->X, m->n, m->p, (size_t)m->p, 1, d->names, s, e);
	if (rc == 0)
		rc = ml_detect_fit(&m->det, s, m->n, 1.5, e);
out:
	free(jb.nd);
	free(jb.ni);
	free(jb.d);
	free(jb.idx);
	free(s);
	if (rc < 0) {
		lof_free(m);
		return rc;
	}
	*state = m;
	return 0;
}

/* "algo.lof": u32 version, u64 rows, u32 features, u32 k, u8 metric, u8 search, the
 * calibration (detect.h); "algo.lof.X" the training rows (row-major), then per row the
 * k-distance, then per row the reachability density. */
static int lof_save(const void *state, struct ml_model *mo, struct ml_err *e)
{
	const struct lof *m = state;
	struct ml_wbuf b;
	int rc;

	if ((rc = ml_detect_save_sample(&m->det, mo, e)) < 0)
		return rc;
	ml_wbuf_init(&b);
	ml_wbuf_u32(&b, LOF_VERSION);
	ml_wbuf_u64(&b, m->n);
	ml_wbuf_u32(&b, (uint32_t)m->p);
	ml_wbuf_u32(&b, (uint32_t)m->k);
	ml_wbuf_u8(&b, (uint8_t)m->metric);
	ml_wbuf_u8(&b, (uint8_t)m->search);
	ml_detect_save(&m->det, &b);
	if ((rc = ml_algo_put(mo, "algo.lof", &b, e)) < 0)
		return rc;
	ml_wbuf_init(&b);
	ml_wbuf_f64v(&b, m->X, m->n * (size_t)m->p);
	ml_wbuf_f64v(&b, m->kdist, m->n);
	ml_wbuf_f64v(&b, m->lrd, m->n);
	return ml_algo_put(mo, "algo.lof.X", &b, e);
}

static int lof_bad(struct lof *m, struct ml_err *e, const char *sec, const char *what)
{
	lof_free(m);
	return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "model section '%s' is invalid: %s", sec, what);
}

static int lof_load(void **state, const struct ml_model *mo, const struct ml_data *shape,
		    struct ml_err *e)
{
	const void *data;
	size_t len, i, np;
	struct ml_rbuf b;
	struct lof *m;
	uint64_t n;
	int rc;

	*state = NULL;
	if ((rc = ml_algo_get(mo, "algo.lof", LOF_VERSION, &b, e)) < 0)
		return rc;
	if (!(m = calloc(1, sizeof(*m))))
		return ml_err_nomem(e);
	n = ml_rbuf_u64(&b);
	m->p = (int)ml_rbuf_u32(&b);
	m->k = (int)ml_rbuf_u32(&b);
	m->metric = ml_rbuf_u8(&b);
	m->search = ml_rbuf_u8(&b);
	if (b.err || m->p != shape->p || m->p < 1 || m->k < 1 || n <= (uint64_t)m->k ||
	    m->metric > 1 || m->search > 2 || n > SIZE_MAX / 16 / (uint64_t)m->p)
		return lof_bad(m, e, "algo.lof", "bad parameters");
	if ((rc = ml_detect_load(&m->det, &b, "algo.lof", e)) < 0) {
		lof_free(m);
		return rc;
	}
	if (b.off != b.n)
		return lof_bad(m, e, "algo.lof", "wrong size");
	m->n = (size_t)n;
	np = m->n * (size_t)m->p;
	if ((rc = ml_model_get(mo, "algo.lof.X", &data, &len, e)) < 0) {
		lof_free(m);
		return rc;
	}
	if (len != (np + 2 * m->n) * 8)
		return lof_bad(m, e, "algo.lof.X", "its size does not match the rows");
	m->X = malloc(np * sizeof(double));
	m->kdist = malloc(m->n * sizeof(double));
	m->lrd = malloc(m->n * sizeof(double));
	if (!m->X || !m->kdist || !m->lrd) {
		lof_free(m);
		return ml_err_nomem(e);
	}
	ml_rbuf_init(&b, data, len);
	ml_rbuf_f64v(&b, m->X, np);
	ml_rbuf_f64v(&b, m->kdist, m->n);
	ml_rbuf_f64v(&b, m->lrd, m->n);
	for (i = 0; i < np; i++)
		if (!isfinite(m->X[i]))
			return lof_bad(m, e, "algo.lof.X", "a value is not finite");
	for (i = 0; i < m->n; i++)
		if (!(m->kdist[i] >= 0 && isfinite(m->kdist[i])) || !(m->lrd[i] > 0 && isfinite(m->lrd[i])))
			return lof_bad(m, e, "algo.lof.X", "a distance or density is out of range");
	if (ml_knn_index_new(&m->index, m->X, m->n, m->p, m->metric, m->search) < 0) {
		lof_free(m);
		return ml_err_nomem(e);
	}
	*state = m;
	return 0;
}

static const char *const lof_tables[] = {ML_DETECT_TABLES, NULL};

static int lof_table(const void *state, const char *name, const struct ml_data *shape,
		    struct ml_frame *out, struct ml_err *e)
{
	(void)shape;
	return ml_detect_table(&((const struct lof *)state)->det, "lof", name, out, e);
}

const struct ml_algo ml_algo_lof = {
	.name = "lof",
	.summary = "local outlier factor (novelty): a row's density against its neighbours'",
	.flags = ML_ALGO_UNSUPERVISED | ML_ALGO_ROWWISE,
	.params = lof_params,
	.fit = lof_fit,
	.predict = lof_predict,
	.save = lof_save,
	.load = lof_load,
	.tables = lof_tables,
	.table = lof_table,
	.free = lof_free,
	.contrib = lof_contrib,
	.outputs = ml_detect_outputs,
	.output_levels = ml_detect_output_levels,
};
