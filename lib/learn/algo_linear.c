/* The linear family: ordinary least squares, ridge, lasso and elastic net, and the
 * linear-predictor state (margins, sections, coefficient table) logistic regression shares. */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include <lapacke.h>

#include "linear.h"

/* The shared state. */

struct ml_lin *ml_lin_new(int p, int k)
{
	struct ml_lin *m;

	if (p < 0 || k < 1 || (size_t)p + 1 > SIZE_MAX / sizeof(double) / (size_t)k)
		return NULL;
	m = calloc(1, sizeof(*m) + (size_t)k * ((size_t)p + 1) * sizeof(double));
	if (m) {
		m->p = p;
		m->k = k;
	}
	return m;
}

void ml_lin_free(void *state)
{
	free(state);
}

void ml_lin_margins(const struct ml_lin *m, const double *X, size_t n, size_t ld, double *out)
{
	int c, j, k = m->k, p = m->p;
	size_t i;

	for (c = 0; c < k; c++) {
		const double *b = m->coef + (size_t)c * ((size_t)p + 1);
		double *o = out + c;
		for (i = 0; i < n; i++)
			o[i * (size_t)k] = b[p];
		for (j = 0; j < p; j++) {
			const double *x = X + (size_t)j * ld;
			double bj = b[j];
			if (bj == 0)
				continue;
			if (k == 1)
				for (i = 0; i < n; i++)
					o[i] += x[i] * bj;
			else
				for (i = 0; i < n; i++)
					o[i * (size_t)k] += x[i] * bj;
		}
	}
}

int ml_lin_save(const struct ml_lin *m, const char *name, struct ml_model *mod, struct ml_err *e)
{
	struct ml_wbuf b;
	int rc;

	ml_wbuf_init(&b);
	ml_wbuf_u32(&b, (uint32_t)m->p);
	ml_wbuf_u32(&b, (uint32_t)m->k);
	ml_wbuf_f64v(&b, m->coef, (size_t)m->k * ((size_t)m->p + 1));
	rc = b.err ? ml_err_nomem(e) : ml_model_add(mod, name, b.p, b.n, e);
	ml_wbuf_release(&b);
	return rc;
}

int ml_lin_load(struct ml_lin **out, const struct ml_model *mod, const char *name, int p, int k,
		struct ml_err *e)
{
	const void *data;
	size_t len, cnt, i;
	struct ml_rbuf r;
	uint32_t fp, fk;
	struct ml_lin *m;
	int rc;

	*out = NULL;
	if ((rc = ml_model_get(mod, name, &data, &len, e)) < 0)
		return rc;
	ml_rbuf_init(&r, data, len);
	fp = ml_rbuf_u32(&r);
	fk = ml_rbuf_u32(&r);
	if (r.err || fp != (uint32_t)p || fk != (uint32_t)k)
		return ml_err_set(
		    e, ML_E_DATA, NULL, 0, 0,
		    "model section '%s' holds %u features and %u coefficient vectors, "
		    "the model %d and %d",
		    name, (unsigned)fp, (unsigned)fk, p, k);
	cnt = ml_rbuf_count(&r, (uint64_t)fk * ((uint64_t)fp + 1), sizeof(double));
	if (r.err || cnt * sizeof(double) != r.n - r.off)
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "model section '%s' has a bad length",
				  name);
	if (!(m = ml_lin_new(p, k)))
		return ml_err_nomem(e);
	ml_rbuf_f64v(&r, m->coef, cnt);
	for (i = 0; i < cnt; i++)
		if (!isfinite(m->coef[i])) {
			ml_lin_free(m);
			return ml_err_set(
			    e, ML_E_DATA, NULL, 0, 0,
			    "model section '%s' holds a coefficient that is not finite", name);
		}
	*out = m;
	return 0;
}

int ml_lin_table(const struct ml_lin *m, const struct ml_data *shape, struct ml_frame *out,
		 struct ml_err *e)
{
	int c, j, rc = 0;
	size_t m1 = (size_t)m->p + 1;

	if (shape->p != m->p || (m->k > 1 && (!shape->classes || shape->nclass != m->k)))
		return ml_err_set(e, ML_E_INTERNAL, NULL, 0, 0, "coefficient table: model shape");
	if (ml_schema_add(&out->schema, "feature", ML_CAT) < 0)
		goto nomem;
	for (c = 0; c < m->k; c++) {
		/* "coef", or "coef_" and the class. */
		const char *cls = m->k > 1 ? shape->classes[c] : NULL;
		size_t len = cls ? strlen(cls) + 6 : 5;
		char *name = malloc(len);
		if (!name)
			goto nomem;
		snprintf(name, len, cls ? "coef_%s" : "coef", cls);
		rc = ml_schema_add(&out->schema, name, ML_NUM);
		free(name);
		if (rc < 0)
			goto nomem;
	}
	if ((rc = ml_block_init(&out->rows, &out->schema, m1, e)) < 0)
		goto fail;
	for (j = 0; j <= m->p; j++) {
		const char *f = j == 0 ? "(intercept)" : shape->names[j - 1];
		int32_t code = ml_dict_intern(&out->schema.cols[0].dict, f, strlen(f));
		if (code < 0)
			goto nomem;
		out->rows.col[0].cat[j] = code;
		for (c = 0; c < m->k; c++) {
			const double *b = m->coef + (size_t)c * m1;
			out->rows.col[1 + c].num[j] = j == 0 ? b[m->p] : b[j - 1];
		}
	}
	out->rows.nrow = m1;
	return 0;
nomem:
	rc = ml_err_nomem(e);
fail:
	ml_frame_release(out);
	return rc;
}

/* Regression: predict, save, load and tables are the same for the whole family. */

static int reg_predict(const void *state, const double *X, size_t n, size_t ld, double *out,
		       int raw, struct ml_err *e)
{
	(void)raw;
	(void)e;
	ml_lin_margins(state, X, n, ld, out);
	return 0;
}

static int reg_save(const void *state, struct ml_model *m, struct ml_err *e)
{
	return ml_lin_save(state, "linear.coef", m, e);
}

static int reg_load(void **state, const struct ml_model *m, const struct ml_data *shape,
		    struct ml_err *e)
{
	struct ml_lin *l;
	int rc;

	if (shape->nclass != 0)
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "a regression model with classes");
	rc = ml_lin_load(&l, m, "linear.coef", shape->p, 1, e);
	*state = l;
	return rc;
}

static const char *const reg_tables[] = {"coef", NULL};

static int reg_table(const void *state, const char *name, const struct ml_data *shape,
		     struct ml_frame *out, struct ml_err *e)
{
	(void)name;
	return ml_lin_table(state, shape, out, e);
}

/* The centred design: sklearn's preprocessing for fit_intercept. Rows are scaled by
 * sqrt(w_i * s), columns centred by the weighted means; s is n / sum(w) when norm is set
 * (the lasso's weights sum to n), else 1. */
struct design {
	size_t n;
	int p;
	double *X, *y, *xm;
	double ym;
};

static void design_release(struct design *s)
{
	free(s->X);
	free(s->y);
	free(s->xm);
	memset(s, 0, sizeof(*s));
}

static int design_init(struct design *s, const struct ml_data *d, int norm, struct ml_err *e)
{
	size_t n = d->n, i;
	int j, p = d->p;
	double W = 0, sc;

	memset(s, 0, sizeof(*s));
	s->n = n;
	s->p = p;
	if (n > (size_t)INT_MAX - (size_t)p)
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "too many rows for LAPACK (%zu)", n);
	if (n > SIZE_MAX / sizeof(double) / (size_t)(p ? p : 1))
		return ml_err_nomem(e);
	s->X = malloc(n * (size_t)(p ? p : 1) * sizeof(double));
	s->y = malloc((n ? n : 1) * sizeof(double));
	s->xm = calloc((size_t)(p ? p : 1), sizeof(double));
	if (!s->X || !s->y || !s->xm) {
		design_release(s);
		return ml_err_nomem(e);
	}
	if (d->w)
		for (i = 0; i < n; i++)
			W += d->w[i];
	else
		W = (double)n;
	if (!(W > 0)) {
		design_release(s);
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "the row weights sum to zero");
	}
	sc = norm ? (double)n / W : 1;
	if (d->w)
		for (i = 0; i < n; i++)
			s->y[i] = sqrt(d->w[i] * sc); /* the row scales, for now */
	for (j = 0; j < p; j++) {
		const double *x = d->col[j];
		double *o = s->X + (size_t)j * n, m = 0;
		if (d->w)
			for (i = 0; i < n; i++)
				m += d->w[i] * x[i];
		else
			for (i = 0; i < n; i++)
				m += x[i];
		m /= W;
		s->xm[j] = m;
		if (d->w)
			for (i = 0; i < n; i++)
				o[i] = (x[i] - m) * s->y[i];
		else
			for (i = 0; i < n; i++)
				o[i] = x[i] - m;
	}
	if (d->w)
		for (i = 0; i < n; i++)
			s->ym += d->w[i] * d->y[i];
	else
		for (i = 0; i < n; i++)
			s->ym += d->y[i];
	s->ym /= W;
	if (d->w)
		for (i = 0; i < n; i++)
			s->y[i] *= d->y[i] - s->ym;
	else
		for (i = 0; i < n; i++)
			s->y[i] = d->y[i] - s->ym;
	return 0;
}

/* A fitted state from coefficients on the centred design. */
static int finish(void **state, const struct design *s, const double *b, struct ml_err *e)
{
	struct ml_lin *m = ml_lin_new(s->p, 1);
	int j;
	double c = s->ym;

	if (!m)
		return ml_err_nomem(e);
	for (j = 0; j < s->p; j++) {
		m->coef[j] = b[j];
		c -= s->xm[j] * b[j];
	}
	m->coef[s->p] = c;
	for (j = 0; j <= s->p; j++)
		if (!isfinite(m->coef[j])) {
			ml_lin_free(m);
			return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
					  "the fit gave coefficients that are not finite (are the "
					  "features or the target too large?)");
		}
	*state = m;
	return 0;
}

/* Minimum-norm least squares of X b = y (n x p, destroyed) through QR with column
 * pivoting; rows may be more or fewer than p. Numerical rank is decided with numpy's
 * default cut-off, eps * max(n, p). */
static int lstsq(double *X, size_t n, int p, const double *y, double *b, int *rank,
		 struct ml_err *e)
{
	size_t ldb = n > (size_t)p ? n : (size_t)p;
	double *B = calloc(ldb, sizeof(double));
	lapack_int *jpvt = calloc((size_t)p, sizeof(lapack_int)), r = 0, info;

	if (!B || !jpvt) {
		free(B);
		free(jpvt);
		return ml_err_nomem(e);
	}
	memcpy(B, y, n * sizeof(double));
	info = LAPACKE_dgelsy(LAPACK_COL_MAJOR, (lapack_int)n, p, 1, X, (lapack_int)(n ? n : 1), B,
			      (lapack_int)ldb, jpvt, DBL_EPSILON * (double)ldb, &r);
	if (info == 0)
		memcpy(b, B, (size_t)p * sizeof(double));
	free(B);
	free(jpvt);
	if (info != 0)
		return ml_err_set(e, info < 0 ? ML_E_INTERNAL : ML_E_NOMEM, NULL, 0, 0,
				  "least squares failed (LAPACK dgelsy info %d)", (int)info);
	*rank = (int)r;
	return 0;
}

static int linear_fit(void **state, const struct ml_data *d, const struct ml_data *valid,
		      const struct ml_params *hp, struct ml_ctx *ctx, struct ml_err *e)
{
	struct design s;
	double *b;
	int rc, rank = 0;

	(void)valid;
	(void)hp;
	if ((rc = design_init(&s, d, 0, e)) < 0)
		return rc;
	b = calloc((size_t)(s.p ? s.p : 1), sizeof(double));
	if (!b)
		rc = ml_err_nomem(e);
	else if ((rc = lstsq(s.X, s.n, s.p, s.y, b, &rank, e)) == 0) {
		if (rank < s.p)
			ml_log(ctx, ML_LOG_DEBUG,
			       "linear: the centred features have rank %d of %d: minimum-norm "
			       "coefficients",
			       rank, s.p);
		rc = finish(state, &s, b, e);
	}
	free(b);
	design_release(&s);
	return rc;
}

/* X'X (upper triangle) and X'y of the centred design. */
static int gram(const struct design *s, double **G, double **q, struct ml_err *e)
{
	size_t p = (size_t)s->p;

	*G = calloc(p * p, sizeof(double));
	*q = calloc(p, sizeof(double));
	if (!*G || !*q) {
		free(*G);
		free(*q);
		*G = *q = NULL;
		return ml_err_nomem(e);
	}
	if (s->n) {
		cblas_dsyrk(CblasColMajor, CblasUpper, CblasTrans, s->p, (int)s->n, 1.0, s->X,
			    (int)s->n, 0.0, *G, s->p);
		cblas_dgemv(CblasColMajor, CblasTrans, (int)s->n, s->p, 1.0, s->X, (int)s->n, s->y,
			    1, 0.0, *q, 1);
	}
	return 0;
}

static int ridge_fit(void **state, const struct ml_data *d, const struct ml_data *valid,
		     const struct ml_params *hp, struct ml_ctx *ctx, struct ml_err *e)
{
	struct design s;
	double alpha = ml_param(hp, "l2"), *G = NULL, *q = NULL;
	int rc, j, p;
	lapack_int info;

	(void)valid;
	(void)ctx;
	if ((rc = design_init(&s, d, 0, e)) < 0)
		return rc;
	p = s.p;
	if ((rc = gram(&s, &G, &q, e)) < 0)
		goto out;
	for (j = 0; j < p; j++)
		G[(size_t)j * p + j] += alpha;
	/* No penalty is least squares, minimum-norm when the features are collinear. */
	info = alpha > 0 ? LAPACKE_dposv(LAPACK_COL_MAJOR, 'U', p, 1, G, p, q, p) : 1;
	if (info > 0) {
		/* Not positive definite in floating point: the minimum-norm solution of the
		 * stacked system [X; sqrt(alpha) I] b = [y; 0]. */
		size_t n2 = s.n + (size_t)p;
		double *A = calloc(n2 * (size_t)p, sizeof(double)),
		       *y2 = calloc(n2, sizeof(double));
		int rank;
		if (!A || !y2) {
			free(A);
			free(y2);
			rc = ml_err_nomem(e);
			goto out;
		}
		for (j = 0; j < p; j++) {
			memcpy(A + (size_t)j * n2, s.X + (size_t)j * s.n, s.n * sizeof(double));
			A[(size_t)j * n2 + s.n + (size_t)j] = sqrt(alpha);
		}
		memcpy(y2, s.y, s.n * sizeof(double));
		rc = lstsq(A, n2, p, y2, q, &rank, e);
		free(A);
		free(y2);
		if (rc < 0)
			goto out;
	} else if (info < 0) {
		rc = ml_err_set(e, ML_E_INTERNAL, NULL, 0, 0, "ridge: LAPACK dposv info %d",
				(int)info);
		goto out;
	}
	rc = finish(state, &s, q, e);
out:
	free(G);
	free(q);
	design_release(&s);
	return rc;
}

/* Coordinate descent for the elastic net, as sklearn's cd_fast: minimise
 * 1/2 ||y - Xw||^2 + l1 ||w||_1 + l2/2 ||w||^2 on the centred design, stopping when the
 * largest coordinate change relative to the largest coefficient falls below tol and the
 * duality gap below tol * ||y||^2. */
struct cd_result {
	int iter, converged;
	double gap, gap_tol;
};

static double soft(double z, double t)
{
	return z > t ? z - t : z < -t ? z + t : 0;
}

/* The duality gap from X'R (xtr), ||R||^2, R'y and w. */
static double enet_gap(const double *w, const double *xtr, int p, double l1, double l2, double rr,
		       double ry)
{
	double dual = 0, l1n = 0, ww = 0, cst, gap;
	int j;

	for (j = 0; j < p; j++) {
		double a = fabs(xtr[j] - l2 * w[j]);
		if (a > dual)
			dual = a;
		l1n += fabs(w[j]);
		ww += w[j] * w[j];
	}
	if (dual > l1) {
		cst = l1 / dual;
		gap = 0.5 * (rr + rr * cst * cst);
	} else {
		cst = 1;
		gap = rr;
	}
	return gap + l1 * l1n - cst * ry + 0.5 * l2 * (1 + cst * cst) * ww;
}

/* Covariance updates: G = X'X (upper triangle filled to full here), q = X'y. */
static int cd_gram(double *G, const double *q, double yy, int p, double l1, double l2, double tol,
		   int max_iter, double *w, struct cd_result *res, const struct ml_ctx *ctx,
		   const char *name, struct ml_err *e)
{
	double *H = calloc((size_t)p, sizeof(double));
	int it, j, k;

	if (!H)
		return ml_err_nomem(e);
	for (j = 0; j < p; j++)
		for (k = 0; k < j; k++)
			G[(size_t)k * p + j] = G[(size_t)j * p + k];
	res->gap_tol = tol * yy;
	res->converged = 0;
	for (it = 0; it < max_iter; it++) {
		double wmax = 0, dmax = 0;
		for (j = 0; j < p; j++) {
			const double *gj = G + (size_t)j * p;
			double old = w[j], nw;
			if (gj[j] == 0)
				continue;
			nw = soft(q[j] - H[j] + gj[j] * old, l1) / (gj[j] + l2);
			if (nw != old) {
				double dl = nw - old;
				for (k = 0; k < p; k++)
					H[k] += dl * gj[k];
				w[j] = nw;
			}
			if (fabs(nw - old) > dmax)
				dmax = fabs(nw - old);
			if (fabs(nw) > wmax)
				wmax = fabs(nw);
		}
		if (wmax == 0 || dmax / wmax < tol || it == max_iter - 1) {
			double qw = 0, wGw = 0;
			for (j = 0; j < p; j++) {
				qw += q[j] * w[j];
				wGw += w[j] * H[j];
			}
			/* X'R = q - H; ||R||^2 = y'y - 2 w'q + w'Gw; R'y = y'y - w'q. */
			for (j = 0; j < p; j++)
				H[j] = q[j] - H[j];
			res->gap = enet_gap(w, H, p, l1, l2, yy - 2 * qw + wGw, yy - qw);
			for (j = 0; j < p; j++)
				H[j] = q[j] - H[j];
			ml_progress(ctx, it + 1, 0, "iterations", "%s duality gap %.6g", name,
				    res->gap);
			if (res->gap < res->gap_tol) {
				res->converged = 1;
				it++;
				break;
			}
		}
	}
	res->iter = it;
	free(H);
	return 0;
}

/* Residual updates, for many features: the same iterates as cd_gram. */
static int cd_naive(const double *X, const double *y, size_t n, int p, double l1, double l2,
		    double tol, int max_iter, double *w, struct cd_result *res,
		    const struct ml_ctx *ctx, const char *name, struct ml_err *e)
{
	double *R = malloc((n ? n : 1) * sizeof(double));
	double *nc = calloc((size_t)p, sizeof(double)), *xtr = calloc((size_t)p, sizeof(double));
	double yy = 0;
	size_t i;
	int it, j;

	if (!R || !nc || !xtr) {
		free(R);
		free(nc);
		free(xtr);
		return ml_err_nomem(e);
	}
	for (i = 0; i < n; i++) {
		R[i] = y[i];
		yy += y[i] * y[i];
	}
	for (j = 0; j < p; j++) {
		const double *x = X + (size_t)j * n;
		double s = 0;
		for (i = 0; i < n; i++)
			s += x[i] * x[i];
		nc[j] = s;
	}
	res->gap_tol = tol * yy;
	res->converged = 0;
	for (it = 0; it < max_iter; it++) {
		double wmax = 0, dmax = 0;
		for (j = 0; j < p; j++) {
			const double *x = X + (size_t)j * n;
			double old = w[j], nw, t = 0;
			if (nc[j] == 0)
				continue;
			for (i = 0; i < n; i++)
				t += x[i] * R[i];
			nw = soft(t + nc[j] * old, l1) / (nc[j] + l2);
			if (nw != old) {
				double dl = nw - old;
				for (i = 0; i < n; i++)
					R[i] -= dl * x[i];
				w[j] = nw;
			}
			if (fabs(nw - old) > dmax)
				dmax = fabs(nw - old);
			if (fabs(nw) > wmax)
				wmax = fabs(nw);
		}
		if (wmax == 0 || dmax / wmax < tol || it == max_iter - 1) {
			double rr = 0, ry = 0;
			for (i = 0; i < n; i++) {
				rr += R[i] * R[i];
				ry += R[i] * y[i];
			}
			for (j = 0; j < p; j++) {
				const double *x = X + (size_t)j * n;
				double t = 0;
				for (i = 0; i < n; i++)
					t += x[i] * R[i];
				xtr[j] = t;
			}
			res->gap = enet_gap(w, xtr, p, l1, l2, rr, ry);
			ml_progress(ctx, it + 1, 0, "iterations", "%s duality gap %.6g", name,
				    res->gap);
			if (res->gap < res->gap_tol) {
				res->converged = 1;
				it++;
				break;
			}
		}
	}
	res->iter = it;
	free(R);
	free(nc);
	free(xtr);
	return 0;
}

/* The covariance form pays n p^2 / 2 once to make every sweep cost p per changed
 * coefficient instead of n; it is used while the p x p matrix stays modest. */
#define CD_GRAM_MAX 2048

static int enet_fit(void **state, const struct ml_data *d, double alpha, double l1_ratio,
		    const struct ml_params *hp, struct ml_ctx *ctx, const char *name,
		    struct ml_err *e)
{
	struct design s;
	double tol = ml_param(hp, "tol"), *w = NULL, *G = NULL, *q = NULL, l1, l2;
	int max_iter = (int)ml_param(hp, "max-iter"), rc;
	struct cd_result res = {0, 0, 0, 0};

	if ((rc = design_init(&s, d, 1, e)) < 0)
		return rc;
	l1 = alpha * l1_ratio * (double)s.n;
	l2 = alpha * (1 - l1_ratio) * (double)s.n;
	w = calloc((size_t)(s.p ? s.p : 1), sizeof(double));
	if (!w) {
		rc = ml_err_nomem(e);
		goto out;
	}
	if (s.p <= CD_GRAM_MAX && (size_t)s.p <= s.n) {
		double yy = 0;
		size_t i;
		for (i = 0; i < s.n; i++)
			yy += s.y[i] * s.y[i];
		if ((rc = gram(&s, &G, &q, e)) < 0)
			goto out;
		rc = cd_gram(G, q, yy, s.p, l1, l2, tol, max_iter, w, &res, ctx, name, e);
	} else {
		rc = cd_naive(s.X, s.y, s.n, s.p, l1, l2, tol, max_iter, w, &res, ctx, name, e);
	}
	if (rc < 0)
		goto out;
	if (!res.converged)
		ml_log(ctx, ML_LOG_INFO,
		       "%s did not converge in %d iterations (duality gap %.3g, tolerance %.3g); "
		       "raise --max-iter",
		       name, res.iter, res.gap, res.gap_tol);
	rc = finish(state, &s, w, e);
out:
	free(w);
	free(G);
	free(q);
	design_release(&s);
	return rc;
}

static int lasso_fit(void **state, const struct ml_data *d, const struct ml_data *valid,
		     const struct ml_params *hp, struct ml_ctx *ctx, struct ml_err *e)
{
	(void)valid;
	return enet_fit(state, d, ml_param(hp, "l1"), 1.0, hp, ctx, "lasso", e);
}

static int elasticnet_fit(void **state, const struct ml_data *d, const struct ml_data *valid,
			  const struct ml_params *hp, struct ml_ctx *ctx, struct ml_err *e)
{
	(void)valid;
	return enet_fit(state, d, ml_param(hp, "alpha"), ml_param(hp, "l1-ratio"), hp, ctx,
			"elasticnet", e);
}

#define PENALTY_MAX 1e12

static const struct ml_param linear_params[] = {{0}};

static const struct ml_param ridge_params[] = {
    {"l2", ML_P_REAL, 1.0, 0, PENALTY_MAX, NULL,
     "L2 penalty alpha: minimise ||y - Xb - c||^2 + alpha ||b||^2 (default 1)"},
    {0}};

static const struct ml_param lasso_params[] = {
    {"l1", ML_P_REAL, 1.0, 0, PENALTY_MAX, NULL,
     "L1 penalty alpha: minimise ||y - Xb - c||^2 / 2n + alpha ||b||_1 (default 1)"},
    {"tol", ML_P_REAL, 1e-4, 0, 1, NULL,
     "stop when the duality gap is below tol * ||y - mean||^2 (default 1e-4)"},
    {"max-iter", ML_P_INT, 1000, 1, 100000000, NULL,
     "most coordinate descent sweeps (default 1000)"},
    {0}};

static const struct ml_param elasticnet_params[] = {
    {"alpha", ML_P_REAL, 1.0, 0, PENALTY_MAX, NULL, "penalty strength alpha (default 1)"},
    {"l1-ratio", ML_P_REAL, 0.5, 0, 1, NULL,
     "share of the penalty that is L1: alpha (r ||b||_1 + (1 - r) ||b||^2 / 2) (default 0.5)"},
    {"tol", ML_P_REAL, 1e-4, 0, 1, NULL,
     "stop when the duality gap is below tol * ||y - mean||^2 (default 1e-4)"},
    {"max-iter", ML_P_INT, 1000, 1, 100000000, NULL,
     "most coordinate descent sweeps (default 1000)"},
    {0}};

#define REGRESSOR                                                                                  \
	.flags = ML_ALGO_REGRESS, .predict = reg_predict, .save = reg_save, .load = reg_load,      \
	.tables = reg_tables, .table = reg_table, .free = ml_lin_free

const struct ml_algo ml_algo_linear = {
    .name = "linear",
    .summary = "ordinary least squares (minimum-norm when features are collinear)",
    .params = linear_params,
    .fit = linear_fit,
    REGRESSOR,
};

const struct ml_algo ml_algo_ridge = {
    .name = "ridge",
    .summary = "least squares with an L2 penalty",
    .params = ridge_params,
    .fit = ridge_fit,
    REGRESSOR,
};

const struct ml_algo ml_algo_lasso = {
    .name = "lasso",
    .summary = "least squares with an L1 penalty (coordinate descent)",
    .params = lasso_params,
    .fit = lasso_fit,
    REGRESSOR,
};

const struct ml_algo ml_algo_elasticnet = {
    .name = "elasticnet",
    .summary = "least squares with L1 and L2 penalties (coordinate descent)",
    .params = elasticnet_params,
    .fit = elasticnet_fit,
    REGRESSOR,
};
