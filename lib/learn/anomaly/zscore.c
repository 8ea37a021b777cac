/* Robust and classical z-scores (-a zscore): each feature centred and scaled on the
 * training rows (median and MAD, or mean and standard deviation), a row scored by its
 * largest absolute z; or the Mahalanobis distance from the mean under the training
 * covariance (its Cholesky factor through LAPACK). */
#include <lapacke.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "detect.h"
#include "ml/stats.h"
#include "core/sort.h"

#define ZS_VERSION 1

enum { ZS_ROBUST, ZS_STANDARD, ZS_MAHALANOBIS };

static const struct ml_param zs_params[] = {
	{"method", ML_P_ENUM, 0, 0, 0, "robust,standard,mahalanobis",
	 "robust: |x - median| / (1.4826 MAD), standard: |x - mean| / sd, both combined by "
	 "the largest over the features; mahalanobis: the distance from the mean under the "
	 "covariance"},
	ML_DETECT_PARAMS,
	{NULL, ML_P_REAL, 0, 0, 0, NULL, NULL}};

struct zscore {
	int p, method;
	double *center; /* per feature: median or mean */
	double *scale;	/* per feature: the robust or standard scale; mahalanobis: the lower
			 * Cholesky factor of the covariance, p x p column-major */
	struct ml_detect det;
};

static void zs_free(void *state)
{
	struct zscore *m = state;

	if (!m)
		return;
	free(m->center);
	free(m->scale);
	ml_detect_release(&m->det);
	free(m);
}

/* The median of v[0..n) (sorted in place). */
static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(double), ml_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The score of row i of X into out[i * ML_DETECT_NOUT]; y is scratch of p values. Explain
 * (when not NULL) gets the feature of the largest |z| (or of the largest share of the
 * squared distance). */
static double zs_row(const struct zscore *m, const double *X, size_t ld, size_t i, double *y,
		     int *top)
{
	double best = 0, s = 0;
	int j, k, arg = 0;

	if (m->method != ZS_MAHALANOBIS) {
		for (j = 0; j < m->p; j++) {
			double z = fabs(X[(size_t)j * ld + i] - m->center[j]) / m->scale[j];
			if (z > best || j == 0) {
				best = z;
				arg = j;
			}
		}
		if (top)
			*top = arg;
		return best;
	}
	/* solve L y = x - mean; the distance is |y| */
	for (j = 0; j < m->p; j++) {
		double v = X[(size_t)j * ld + i] - m->center[j];
		for (k = 0; k < j; k++)
			v -= m->scale[(size_t)k * (size_t)m->p + (size_t)j] * y[k];
		y[j] = v / m->scale[(size_t)j * (size_t)m->p + (size_t)j];
		s += y[j] * y[j];
		if (y[j] * y[j] > best || j == 0) {
			best = y[j] * y[j];
			arg = j;
		}
	}
	if (top)
		*top = arg;
	return sqrt(s);
}

/* Per feature: |z|, or for Mahalanobis the square of its whitened coordinate (they sum
 * to the squared distance). */
static int zs_contrib(const void *state, const double *X, size_t n, size_t ld, double *out,
		      struct ml_err *e)
{
	const struct zscore *m = state;
	size_t i, w = (size_t)m->p + 1;
	int j;

	(void)e;
	for (i = 0; i < n; i++) {
		double *o = out + i * w;
		if (m->method == ZS_MAHALANOBIS) {
			zs_row(m, X, ld, i, o, NULL);
			for (j = 0; j < m->p; j++)
				o[j] *= o[j];
		} else {
			for (j = 0; j < m->p; j++)
				o[j] = fabs(X[(size_t)j * ld + i] - m->center[j]) / m->scale[j];
		}
		o[m->p] = 0;
	}
	return 0;
}

static int zs_scores(const struct zscore *m, const double *X, size_t n, size_t ld, double *out,
		     struct ml_err *e)
{
	double *y = malloc((size_t)m->p * sizeof(double));
	size_t i;

	if (!y)
		return ml_err_nomem(e);
	for (i = 0; i < n; i++)
		out[i * ML_DETECT_NOUT] = zs_row(m, X, ld, i, y, NULL);
	free(y);
	return 0;
}

static int zs_predict(const void *state, const double *X, size_t n, size_t ld, double *out,
		      int what, struct ml_err *e)
{
	const struct zscore *m = state;
	int rc;

	(void)what;
	if ((rc = zs_scores(m, X, n, ld, out, e)) < 0)
		return rc;
	ml_detect_apply(&m->det, out, n);
	return 0;
}

/* Centre and scale of each feature; ML_E_DATA naming a constant one. */
static int fit_scales(struct zscore *m, const struct ml_data *d, const double *X, double *v,
		      struct ml_err *e)
{
	size_t n = d->n, i;
	int j;

	for (j = 0; j < m->p; j++) {
		const double *x = X + (size_t)j * n;
		double c = 0, s = 0;
		if (m->method == ZS_ROBUST) {
			memcpy(v, x, n * sizeof(double));
			c = median(v, n);
			for (i = 0; i < n; i++)
				v[i] = fabs(x[i] - c);
			s = 1.482602218505602 * median(v, n);
			if (s == 0) {
				/* over half the values equal: the mean absolute deviation from the
				 * median, scaled to a normal's sd (Iglewicz and Hoaglin) */
				for (i = 0; i < n; i++)
					s += fabs(x[i] - c);
				s = 1.2533141373155001 * s / (double)n;
			}
		} else {
			for (i = 0; i < n; i++)
				c += x[i];
			c /= (double)n;
			for (i = 0; i < n; i++)
				s += (x[i] - c) * (x[i] - c);
			s = sqrt(s / (double)n);
		}
		if (!(s > 0))
			return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
					  "feature '%s' is constant in the training rows (-a zscore "
					  "cannot scale it; --ignore it)",
					  d->names ? d->names[j] : "?");
		m->center[j] = c;
		m->scale[j] = s;
	}
	return 0;
}

/* Mean and the Cholesky factor of the covariance (divided by n, as the maximum likelihood
 * estimate). */
static int fit_cov(struct zscore *m, const struct ml_data *d, const double *X, struct ml_err *e)
{
	size_t n = d->n, p = (size_t)m->p, i, j, k;
	lapack_int info;

	for (j = 0; j < p; j++) {
		double c = 0;
		for (i = 0; i < n; i++)
			c += X[j * n + i];
		m->center[j] = c / (double)n;
	}
	for (j = 0; j < p; j++)
		for (k = 0; k <= j; k++) {
			double s = 0;
			for (i = 0; i < n; i++)
				s += (X[j * n + i] - m->center[j]) * (X[k * n + i] - m->center[k]);
			m->scale[k * p + j] = m->scale[j * p + k] = s / (double)n;
		}
	info = LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', (lapack_int)p, m->scale, (lapack_int)p);
	if (info > 0)
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				  "the features' covariance is singular at '%s' (constant, or a "
				  "combination of the features before it): --ignore it or use "
				  "--method robust",
				  d->names ? d->names[info - 1] : "?");
	if (info < 0)
		return ml_err_set(e, ML_E_INTERNAL, NULL, 0, 0, "dpotrf failed (%d)", (int)info);
	return 0;
}

/* The auto threshold: 3.5 robust z (Iglewicz and Hoaglin), 3 standard deviations, or the
 * square root of the chi-square(p) 0.999 quantile (Wilson and Hilferty's cube root). */
static double auto_threshold(const struct zscore *m)
{
	double k = m->p, z = ml_norm_ppf(0.999), a = 1 - 2 / (9 * k) + z * sqrt(2 / (9 * k));

	return m->method == ZS_ROBUST ? 3.5 : m->method == ZS_STANDARD ? 3 : sqrt(k * a * a * a);
}

static int zs_fit(void **state, const struct ml_data *d, const struct ml_data *valid,
		  const struct ml_params *hp, struct ml_ctx *ctx, struct ml_err *e)
{
	struct zscore *m;
	double *buf = NULL, *v = NULL, *s = NULL;
	const double *X;
	size_t p = (size_t)d->p;
	int rc = 0;

	(void)valid;
	(void)ctx;
	*state = NULL;
	if ((rc = ml_detect_check(d, "zscore", 2, e)) < 0)
		return rc;
	if (!(m = calloc(1, sizeof(*m))))
		return ml_err_nomem(e);
	if ((rc = ml_detect_init(&m->det, hp, "zscore", e)) < 0) {
		zs_free(m);
		return rc;
	}
	m->p = d->p;
	m->method = (int)ml_param(hp, "method");
	m->center = malloc(p * sizeof(double));
	m->scale = malloc((m->method == ZS_MAHALANOBIS ? p * p : p) * sizeof(double));
	X = ml_data_dense(d, &buf);
	v = malloc(d->n * sizeof(double));
	s = malloc(d->n * ML_DETECT_NOUT * sizeof(double));
	if (!m->center || !m->scale || !X || !v || !s) {
		rc = ml_err_nomem(e);
		goto out;
	}
	rc = m->method == ZS_MAHALANOBIS ? fit_cov(m, d, X, e) : fit_scales(m, d, X, v, e);
	if (rc == 0)
		rc = zs_scores(m, X, d->n, d->n, s, e);
	if (rc == 0)
		rc = ml_detect_calibrate(&m->det, d, X, s, auto_threshold(m), e);
out:
	free(buf);
	free(v);
	free(s);
	if (rc < 0) {
		zs_free(m);
		return rc;
	}
	*state = m;
	return 0;
}

/* "algo.zscore": u32 version, u32 features, u8 method, the calibration (detect.h), then p
 * centres and p scales (mahalanobis: the p x p lower Cholesky factor, column-major). */
static int zs_save(const void *state, struct ml_model *mo, struct ml_err *e)
{
	const struct zscore *m = state;
	size_t p = (size_t)m->p;
	struct ml_wbuf b;
	int rc = ml_detect_save_sample(&m->det, mo, e);

	if (rc < 0)
		return rc;
	ml_wbuf_init(&b);
	ml_wbuf_u32(&b, ZS_VERSION);
	ml_wbuf_u32(&b, (uint32_t)m->p);
	ml_wbuf_u8(&b, (uint8_t)m->method);
	ml_detect_save(&m->det, &b);
	ml_wbuf_f64v(&b, m->center, p);
	ml_wbuf_f64v(&b, m->scale, m->method == ZS_MAHALANOBIS ? p * p : p);
	return ml_algo_put(mo, "algo.zscore", &b, e);
}

static int zs_load(void **state, const struct ml_model *mo, const struct ml_data *shape,
		   struct ml_err *e)
{
	size_t p, ns, j;
	struct ml_rbuf b;
	struct zscore *m;
	int rc, ok = 1;

	*state = NULL;
	if ((rc = ml_algo_get(mo, "algo.zscore", ZS_VERSION, &b, e)) < 0)
		return rc;
	if (!(m = calloc(1, sizeof(*m))))
		return ml_err_nomem(e);
	m->p = (int)ml_rbuf_u32(&b);
	m->method = ml_rbuf_u8(&b);
	if (b.err || m->p != shape->p || m->p < 1 || m->method > ZS_MAHALANOBIS) {
		zs_free(m);
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				  "model section 'algo.zscore' is invalid: bad parameters");
	}
	if ((rc = ml_detect_load(&m->det, &b, "algo.zscore", e)) < 0) {
		zs_free(m);
		return rc;
	}
	p = (size_t)m->p;
	ns = m->method == ZS_MAHALANOBIS ? p * p : p;
	m->center = malloc(p * sizeof(double));
	m->scale = malloc(ns * sizeof(double));
	if (!m->center || !m->scale) {
		zs_free(m);
		return ml_err_nomem(e);
	}
	if (b.n - b.off != (p + ns) * 8)
		ok = 0;
	if (ok) {
		ml_rbuf_f64v(&b, m->center, p);
		ml_rbuf_f64v(&b, m->scale, ns);
	}
	for (j = 0; ok && j < p; j++)
		ok = isfinite(m->center[j]) &&
		     (m->method == ZS_MAHALANOBIS ? m->scale[j * p + j] > 0 : m->scale[j] > 0);
	for (j = 0; ok && j < ns; j++)
		ok = isfinite(m->scale[j]);
	if (!ok || b.err) {
		zs_free(m);
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				  "model section 'algo.zscore' is invalid: bad centres or scales");
	}
	*state = m;
	return 0;
}

static const char *const zs_tables[] = {"features", ML_DETECT_TABLES, NULL};

/* "features": per feature its centre and scale (mahalanobis: the standard deviation). */
static int zs_table(const void *state, const char *name, const struct ml_data *shape,
		    struct ml_frame *out, struct ml_err *e)
{
	const struct zscore *m = state;
	size_t p = (size_t)m->p, j, k;
	int rc;

	if (strcmp(name, "features") != 0)
		return ml_detect_table(&m->det, "zscore", name, out, e);
	if (ml_schema_add(&out->schema, "feature", ML_CAT) < 0 ||
	    ml_schema_add(&out->schema, "center", ML_NUM) < 0 ||
	    ml_schema_add(&out->schema, "scale", ML_NUM) < 0)
		return ml_err_nomem(e);
	if ((rc = ml_block_init(&out->rows, &out->schema, p, e)) < 0)
		return rc;
	for (j = 0; j < p; j++) {
		double sc = m->scale[j];
		if ((rc = ml_detect_frame_cat(out, 0, j, shape->names[j], e)) < 0)
			return rc;
		if (m->method == ZS_MAHALANOBIS) {
			/* the covariance's diagonal from its factor: the row of L squared */
			sc = 0;
			for (k = 0; k <= j; k++)
				sc += m->scale[k * p + j] * m->scale[k * p + j];
			sc = sqrt(sc);
		}
		out->rows.col[1].num[j] = m->center[j];
		out->rows.col[2].num[j] = sc;
	}
	out->rows.nrow = p;
	return 0;
}

const struct ml_algo ml_algo_zscore = {
	.name = "zscore",
	.summary = "z-score detector: the largest robust or classical z of a row, or its "
		   "Mahalanobis distance",
	.flags = ML_ALGO_UNSUPERVISED | ML_ALGO_ROWWISE,
	.params = zs_params,
	.fit = zs_fit,
	.predict = zs_predict,
	.save = zs_save,
	.load = zs_load,
	.tables = zs_tables,
	.table = zs_table,
	.free = zs_free,
	.contrib = zs_contrib,
	.outputs = ml_detect_outputs,
	.output_levels = ml_detect_output_levels,
};
