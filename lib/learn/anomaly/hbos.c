/* Histogram-based outlier score (-a hbos, Goldstein and Dengel): per feature a histogram
 * of equal-width bins over the training range, a row scored by the sum over the features
 * of -log(density of its bin + alpha), as PyOD's HBOS with static bins. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "detect.h"

#define HB_VERSION 1

static const struct ml_param hb_params[] = {
	{"bins", ML_P_INT, 10, 2, 100000, NULL, "equal-width bins per feature"},
	{"alpha", ML_P_REAL, 0.1, 1e-12, 1e6, NULL,
	 "added to each bin's density before the log (a value outside every bin scores "
	 "-log(alpha))"},
	{"tol", ML_P_REAL, 0.5, 0, 1e6, NULL,
	 "a value beyond the training range by at most this many bin widths counts in the "
	 "edge bin"},
	ML_DETECT_PARAMS,
	{NULL, ML_P_REAL, 0, 0, 0, NULL, NULL}};

struct hbos {
	int p, bins;
	double alpha, tol;
	double *edge; /* per feature: bins + 1 edges */
	double *dens; /* per feature: bins densities (count / (n * width)) */
	struct ml_detect det;
};

static void hb_free(void *state)
{
	struct hbos *m = state;

	if (!m)
		return;
	free(m->edge);
	free(m->dens);
	ml_detect_release(&m->det);
	free(m);
}

/* Feature j's term for value x: -log of its bin's density plus alpha. */
static double hb_term(const struct hbos *m, int j, double x)
{
	const double *e = m->edge + (size_t)j * (size_t)(m->bins + 1);
	const double *h = m->dens + (size_t)j * (size_t)m->bins;
	int lo = 0, hi = m->bins;

	if (x < e[0])
		return e[0] - x <= m->tol * (e[1] - e[0]) ? -log(h[0] + m->alpha) : -log(m->alpha);
	if (x >= e[m->bins]) {
		double w = e[m->bins] - e[m->bins - 1];
		return x - e[m->bins] <= m->tol * w ? -log(h[m->bins - 1] + m->alpha)
						     : -log(m->alpha);
	}
	/* the bin b with e[b] <= x < e[b + 1] */
	while (hi - lo > 1) {
		int mid = (lo + hi) / 2;
		if (e[mid] <= x)
			lo = mid;
		else
			hi = mid;
	}
	return -log(h[lo] + m->alpha);
}

static void hb_scores(const struct hbos *m, const double *X, size_t n, size_t ld, double *out)
{
	size_t i;
	int j;

	for (i = 0; i < n; i++) {
		double s = 0;
		for (j = 0; j < m->p; j++)
			s += hb_term(m, j, X[(size_t)j * ld + i]);
		out[i * ML_DETECT_NOUT] = s;
	}
}

/* Per feature: its term of the sum. */
static int hb_contrib(const void *state, const double *X, size_t n, size_t ld, double *out,
		      struct ml_err *e)
{
	const struct hbos *m = state;
	size_t i, w = (size_t)m->p + 1;
	int j;

	(void)e;
	for (i = 0; i < n; i++) {
		for (j = 0; j < m->p; j++)
			out[i * w + (size_t)j] = hb_term(m, j, X[(size_t)j * ld + i]);
		out[i * w + (size_t)m->p] = 0;
	}
	return 0;
}

static int hb_predict(const void *state, const double *X, size_t n, size_t ld, double *out,
		      int what, struct ml_err *e)
{
	const struct hbos *m = state;

	(void)what;
	(void)e;
	hb_scores(m, X, n, ld, out);
	ml_detect_apply(&m->det, out, n);
	return 0;
}

/* The histogram of feature j as numpy.histogram(x, bins, density=True) makes it. */
static void hb_hist(struct hbos *m, int j, const double *x, size_t n)
{
	double *e = m->edge + (size_t)j * (size_t)(m->bins + 1);
	double *h = m->dens + (size_t)j * (size_t)m->bins, lo = x[0], hi = x[0], w;
	size_t i;
	int b;

	for (i = 1; i < n; i++) {
		if (x[i] < lo)
			lo = x[i];
		if (x[i] > hi)
			hi = x[i];
	}
	if (lo == hi) {
		lo -= 0.5;
		hi += 0.5;
	}
	for (b = 0; b <= m->bins; b++)
		e[b] = lo + (hi - lo) * b / m->bins;
	memset(h, 0, (size_t)m->bins * sizeof(double));
	for (i = 0; i < n; i++) {
		b = (int)((x[i] - lo) / (hi - lo) * m->bins);
		if (b >= m->bins)
			b = m->bins - 1;
		/* the edges decide where rounding put a value beside one */
		while (b > 0 && x[i] < e[b])
			b--;
		while (b < m->bins - 1 && x[i] >= e[b + 1])
			b++;
		h[b] += 1;
	}
	for (b = 0; b < m->bins; b++) {
		w = e[b + 1] - e[b];
		h[b] /= (double)n * w;
	}
}

static int hb_fit(void **state, const struct ml_data *d, const struct ml_data *valid,
		  const struct ml_params *hp, struct ml_ctx *ctx, struct ml_err *e)
{
	struct hbos *m;
	double *buf = NULL, *s = NULL;
	const double *X;
	int j, rc = 0;

	(void)valid;
	(void)ctx;
	*state = NULL;
	if ((rc = ml_detect_check(d, "hbos", 2, e)) < 0)
		return rc;
	if (!(m = calloc(1, sizeof(*m))))
		return ml_err_nomem(e);
	if ((rc = ml_detect_init(&m->det, hp, "hbos", e)) < 0) {
		hb_free(m);
		return rc;
	}
	m->p = d->p;
	m->bins = (int)ml_param(hp, "bins");
	m->alpha = ml_param(hp, "alpha");
	m->tol = ml_param(hp, "tol");
	m->edge = malloc((size_t)m->p * (size_t)(m->bins + 1) * sizeof(double));
	m->dens = malloc((size_t)m->p * (size_t)m->bins * sizeof(double));
	X = ml_data_dense(d, &buf);
	s = malloc(d->n * ML_DETECT_NOUT * sizeof(double));
	if (!m->edge || !m->dens || !X || !s) {
		rc = ml_err_nomem(e);
		goto out;
	}
	for (j = 0; j < m->p; j++)
		hb_hist(m, j, X + (size_t)j * d->n, d->n);
	hb_scores(m, X, d->n, d->n, s);
	/* auto: PyOD's default contamination of 0.1 */
	rc = ml_detect_calibrate(&m->det, d, X, s, NAN, e);
out:
	free(buf);
	free(s);
	if (rc < 0) {
		hb_free(m);
		return rc;
	}
	*state = m;
	return 0;
}

/* "algo.hbos": u32 version, u32 features, u32 bins, f64 alpha, tol, the calibration
 * (detect.h), then per feature bins + 1 edges and bins densities. */
static int hb_save(const void *state, struct ml_model *mo, struct ml_err *e)
{
	const struct hbos *m = state;
	struct ml_wbuf b;
	int rc = ml_detect_save_sample(&m->det, mo, e);

	if (rc < 0)
		return rc;
	ml_wbuf_init(&b);
	ml_wbuf_u32(&b, HB_VERSION);
	ml_wbuf_u32(&b, (uint32_t)m->p);
	ml_wbuf_u32(&b, (uint32_t)m->bins);
	ml_wbuf_f64(&b, m->alpha);
	ml_wbuf_f64(&b, m->tol);
	ml_detect_save(&m->det, &b);
	ml_wbuf_f64v(&b, m->edge, (size_t)m->p * (size_t)(m->bins + 1));
	ml_wbuf_f64v(&b, m->dens, (size_t)m->p * (size_t)m->bins);
	return ml_algo_put(mo, "algo.hbos", &b, e);
}

static int hb_load(void **state, const struct ml_model *mo, const struct ml_data *shape,
		   struct ml_err *e)
{
	size_t ne, nd, i;
	struct ml_rbuf b;
	struct hbos *m;
	int rc, ok;

	*state = NULL;
	if ((rc = ml_algo_get(mo, "algo.hbos", HB_VERSION, &b, e)) < 0)
		return rc;
	if (!(m = calloc(1, sizeof(*m))))
		return ml_err_nomem(e);
	m->p = (int)ml_rbuf_u32(&b);
	m->bins = (int)ml_rbuf_u32(&b);
	m->alpha = ml_rbuf_f64(&b);
	m->tol = ml_rbuf_f64(&b);
	ok = !b.err && m->p == shape->p && m->p >= 1 && m->bins >= 2 && m->bins <= 100000 &&
	     m->alpha > 0 && isfinite(m->alpha) && m->tol >= 0 && isfinite(m->tol);
	if (ok && (rc = ml_detect_load(&m->det, &b, "algo.hbos", e)) < 0) {
		hb_free(m);
		return rc;
	}
	ne = (size_t)m->p * (size_t)(m->bins + 1);
	nd = (size_t)m->p * (size_t)m->bins;
	ok = ok && b.n - b.off == (ne + nd) * 8;
	if (ok) {
		m->edge = malloc(ne * sizeof(double));
		m->dens = malloc(nd * sizeof(double));
		if (!m->edge || !m->dens) {
			hb_free(m);
			return ml_err_nomem(e);
		}
		ml_rbuf_f64v(&b, m->edge, ne);
		ml_rbuf_f64v(&b, m->dens, nd);
	}
	for (i = 0; ok && i < ne; i++)
		ok = isfinite(m->edge[i]) && (i % (size_t)(m->bins + 1) == 0 || m->edge[i] > m->edge[i - 1]);
	for (i = 0; ok && i < nd; i++)
		ok = m->dens[i] >= 0 && isfinite(m->dens[i]);
	if (!ok) {
		hb_free(m);
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				  "model section 'algo.hbos' is invalid: bad histograms");
	}
	*state = m;
	return 0;
}

static const char *const hb_tables[] = {ML_DETECT_TABLES, NULL};

static int hb_table(const void *state, const char *name, const struct ml_data *shape,
		    struct ml_frame *out, struct ml_err *e)
{
	(void)shape;
	return ml_detect_table(&((const struct hbos *)state)->det, "hbos", name, out, e);
}

const struct ml_algo ml_algo_hbos = {
	.name = "hbos",
	.summary = "histogram-based outlier score: the sum over the features of -log density",
	.flags = ML_ALGO_UNSUPERVISED | ML_ALGO_ROWWISE,
	.params = hb_params,
	.fit = hb_fit,
	.predict = hb_predict,
	.save = hb_save,
	.load = hb_load,
	.tables = hb_tables,
	.table = hb_table,
	.free = hb_free,
	.contrib = hb_contrib,
	.outputs = ml_detect_outputs,
	.output_levels = ml_detect_output_levels,
};
