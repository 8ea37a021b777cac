/* Empirical-CDF outlier detection (-a ecod, Li et al. 2022, as PyOD's ECOD): per feature
 * the left- and right-tail probabilities of a value under the training values' empirical
 * distribution, a row scored by the largest of three sums over the features of their
 * negative logs: the left tails, the right tails, and each feature's tail on the side of
 * its skewness. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "detect.h"
#include "core/sort.h"

#define EC_VERSION 1

static const struct ml_param ec_params[] = {ML_DETECT_PARAMS,
					    {NULL, ML_P_REAL, 0, 0, 0, NULL, NULL}};

struct ecod {
	int p;
	size_t n;
	double *sorted; /* per feature: the n training values, sorted */
	uint8_t *left;	/* per feature: 1 when its skewness is negative (the left tail) */
	struct ml_detect det;
};

static void ec_free(void *state)
{
	struct ecod *m = state;

	if (!m)
		return;
	free(m->sorted);
	free(m->left);
	ml_detect_release(&m->det);
	free(m);
}

/* -log of the left and right tail probabilities of x for feature j: the training values
 * at or below x (at or above x), with x itself counted among them, over n + 1. */
static void ec_tails(const struct ecod *m, int j, double x, double *ul, double *ur)
{
	const double *v = m->sorted + (size_t)j * m->n;
	size_t lo = 0, hi = m->n, le, lt;

	/* le: values <= x */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid] <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	le = lo;
	/* lt: values < x */
	lo = 0;
	hi = le;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	lt = lo;
	*ul = -log((double)(le + 1) / (double)(m->n + 1));
	*ur = -log((double)(m->n - lt + 1) / (double)(m->n + 1));
}

/* Which sum wins for row i (0 left, 1 right, 2 skewness-side) and the score; terms (when
 * not NULL) gets the winning sum's per-feature terms. */
static double ec_row(const struct ecod *m, const double *X, size_t ld, size_t i, double *terms)
{
	double sum[3] = {0, 0, 0}, ul, ur;
	int j, best = 0, k;

	for (j = 0; j < m->p; j++) {
		double x = X[(size_t)j * ld + i];
		if (isnan(x))
			return NAN;
		ec_tails(m, j, x, &ul, &ur);
		sum[0] += ul;
		sum[1] += ur;
		sum[2] += m->left[j] ? ul : ur;
	}
	for (k = 1; k < 3; k++)
		if (sum[k] > sum[best])
			best = k;
	for (j = 0; terms && j < m->p; j++) {
		ec_tails(m, j, X[(size_t)j * ld + i], &ul, &ur);
		terms[j] = best == 0 ? ul : best == 1 ? ur : m->left[j] ? ul : ur;
	}
	return sum[best];
}

static void ec_scores(const struct ecod *m, const double *X, size_t n, size_t ld, double *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		out[i * ML_DETECT_NOUT] = ec_row(m, X, ld, i, NULL);
}

static int ec_contrib(const void *state, const double *X, size_t n, size_t ld, double *out,
		      struct ml_err *e)
{
	const struct ecod *m = state;
	size_t i, w = (size_t)m->p + 1;
	int j;

	(void)e;
	for (i = 0; i < n; i++) {
		if (isnan(ec_row(m, X, ld, i, out + i * w)))
			for (j = 0; j < m->p; j++)
				out[i * w + (size_t)j] = NAN;
		out[i * w + (size_t)m->p] = 0;
	}
	return 0;
}

static int ec_predict(const void *state, const double *X, size_t n, size_t ld, double *out,
		      int what, struct ml_err *e)
{
	const struct ecod *m = state;

	(void)what;
	(void)e;
	ec_scores(m, X, n, ld, out);
	ml_detect_apply(&m->det, out, n);
	return 0;
}

/* The sign of the sample skewness (the biased estimate m3 / m2^1.5, as scipy.stats.skew):
 * only its sign matters, so m3 < 0. */
static int skew_negative(const double *x, size_t n)
{
	double mean = 0, m3 = 0;
	size_t i;

	for (i = 0; i < n; i++)
		mean += x[i];
	mean /= (double)n;
	for (i = 0; i < n; i++)
		m3 += (x[i] - mean) * (x[i] - mean) * (x[i] - mean);
	return m3 < 0;
}

static int ec_fit(void **state, const struct ml_data *d, const struct ml_data *valid,
		  const struct ml_params *hp, struct ml_ctx *ctx, struct ml_err *e)
{
	struct ecod *m;
	double *buf = NULL, *s = NULL;
	const double *X;
	int j, rc = 0;

	(void)valid;
	(void)ctx;
	*state = NULL;
	if ((rc = ml_detect_check(d, "ecod", 2, e)) < 0)
		return rc;
	if (!(m = calloc(1, sizeof(*m))))
		return ml_err_nomem(e);
	if ((rc = ml_detect_init(&m->det, hp, "ecod", e)) < 0) {
		ec_free(m);
		return rc;
	}
	m->p = d->p;
	m->n = d->n;
	m->sorted = malloc(d->n * (size_t)d->p * sizeof(double));
	m->left = malloc((size_t)d->p);
	X = ml_data_dense(d, &buf);
	s = malloc(d->n * ML_DETECT_NOUT * sizeof(double));
	if (!m->sorted || !m->left || !X || !s) {
		rc = ml_err_nomem(e);
		goto out;
	}
	for (j = 0; j < m->p; j++) {
		double *v = m->sorted + (size_t)j * d->n;
		memcpy(v, X + (size_t)j * d->n, d->n * sizeof(double));
		m->left[j] = (uint8_t)skew_negative(v, d->n);
		qsort(v, d->n, sizeof(double), ml_cmp_double);
	}
	/* the training rows scored as any row is, each counted once among the values */
	ec_scores(m, X, d->n, d->n, s);
	/* auto: PyOD's default contamination of 0.1 */
	rc = ml_detect_calibrate(&m->det, d, X, s, NAN, e);
out:
	free(buf);
	free(s);
	if (rc < 0) {
		ec_free(m);
		return rc;
	}
	*state = m;
	return 0;
}

/* "algo.ecod": u32 version, u64 rows, u32 features, the calibration (detect.h), then per
 * feature a u8 (1: negative skewness) and per feature the n sorted training values. */
static int ec_save(const void *state, struct ml_model *mo, struct ml_err *e)
{
	const struct ecod *m = state;
	struct ml_wbuf b;
	int j, rc = ml_detect_save_sample(&m->det, mo, e);

	if (rc < 0)
		return rc;
	ml_wbuf_init(&b);
	ml_wbuf_u32(&b, EC_VERSION);
	ml_wbuf_u64(&b, m->n);
	ml_wbuf_u32(&b, (uint32_t)m->p);
	ml_detect_save(&m->det, &b);
	for (j = 0; j < m->p; j++)
		ml_wbuf_u8(&b, m->left[j]);
	ml_wbuf_f64v(&b, m->sorted, m->n * (size_t)m->p);
	return ml_algo_put(mo, "algo.ecod", &b, e);
}

static int ec_load(void **state, const struct ml_model *mo, const struct ml_data *shape,
		   struct ml_err *e)
{
	size_t i, nv;
	struct ml_rbuf b;
	struct ecod *m;
	int rc, ok, j;

	*state = NULL;
	if ((rc = ml_algo_get(mo, "algo.ecod", EC_VERSION, &b, e)) < 0)
		return rc;
	if (!(m = calloc(1, sizeof(*m))))
		return ml_err_nomem(e);
	m->n = (size_t)ml_rbuf_u64(&b);
	m->p = (int)ml_rbuf_u32(&b);
	ok = !b.err && m->p == shape->p && m->p >= 1 && m->n >= 2;
	if (ok && (rc = ml_detect_load(&m->det, &b, "algo.ecod", e)) < 0) {
		ec_free(m);
		return rc;
	}
	nv = ok ? ml_rbuf_count(&b, (uint64_t)m->n * (uint64_t)m->p, 8) : 0;
	ok = ok && nv == m->n * (size_t)m->p && b.n - b.off == (size_t)m->p + nv * 8;
	if (ok) {
		m->left = malloc((size_t)m->p);
		m->sorted = malloc(nv * sizeof(double));
		if (!m->left || !m->sorted) {
			ec_free(m);
			return ml_err_nomem(e);
		}
		for (j = 0; j < m->p; j++)
			m->left[j] = ml_rbuf_u8(&b);
		ml_rbuf_f64v(&b, m->sorted, nv);
	}
	for (j = 0; ok && j < m->p; j++)
		ok = m->left[j] <= 1;
	for (i = 0; ok && i < nv; i++)
		ok = isfinite(m->sorted[i]) && (i % m->n == 0 || m->sorted[i] >= m->sorted[i - 1]);
	if (!ok) {
		ec_free(m);
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				  "model section 'algo.ecod' is invalid: bad training values");
	}
	*state = m;
	return 0;
}

static const char *const ec_tables[] = {ML_DETECT_TABLES, NULL};

static int ec_table(const void *state, const char *name, const struct ml_data *shape,
		    struct ml_frame *out, struct ml_err *e)
{
	(void)shape;
	return ml_detect_table(&((const struct ecod *)state)->det, "ecod", name, out, e);
}

const struct ml_algo ml_algo_ecod = {
	.name = "ecod",
	.summary = "empirical-CDF outlier detection: the largest sum over the features of "
		   "-log tail probabilities",
	.flags = ML_ALGO_UNSUPERVISED | ML_ALGO_ROWWISE,
	.params = ec_params,
	.fit = ec_fit,
	.predict = ec_predict,
	.save = ec_save,
	.load = ec_load,
	.tables = ec_tables,
	.table = ec_table,
	.free = ec_free,
	.contrib = ec_contrib,
	.outputs = ml_detect_outputs,
	.output_levels = ml_detect_output_levels,
};
