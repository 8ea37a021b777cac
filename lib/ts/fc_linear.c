/* A linear trend plus seasonal dummies for a season of at most 24 steps (the first one),
 * and Fourier pairs for longer seasons, fitted by least squares as R's tslm(y ~ trend +
 * season) (or + fourier(y, K)) does, with the regressors last (tslm(y ~ trend + season +
 * x1 + x2), forecast with their future values as newdata); intervals from Student's t with
 * the coefficients' uncertainty, as R's forecast.lm. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "method.h"
#include "ml/stats.h"

#define LIN_MAXP 96

struct linear {
	int p;		   /* columns */
	int dummy;	   /* the dummies' season (0: none) */
	int nf, fm[ML_FC_MAX_SEASONS], fk[ML_FC_MAX_SEASONS]; /* Fourier seasons, pairs */
	int nx;		   /* regressors, the last columns */
	int xidx[ML_FC_MAX_XREG]; /* their columns in the series (constant ones left out) */
	double b[LIN_MAXP];
	double *inv;	   /* (X'X)^-1, p x p */
	double sigma2;
	size_t n;
};

static const struct ml_param linear_params[] = {
	{"fourier", ML_P_INT, 5, 1, 40, NULL,
	 "Fourier pairs for each season longer than 24 steps"},
	{NULL, ML_P_REAL, 0, 0, 0, NULL, NULL}};

/* The layout for s: dummies for a first season up to 24, Fourier pairs for the others
 * longer than 24; returns the column count. */
static int layout(struct linear *L, const struct ml_series *s, int K)
{
	int k;

	L->p = 2;
	L->dummy = 0;
	L->nf = 0;
	for (k = 0; k < s->nseason; k++) {
		int m = s->season[k];
		if (m <= 24 && !L->dummy && k == 0) {
			L->dummy = m;
			L->p += m - 1;
		} else if (m > 24) {
			int kk = K < m / 2 ? K : m / 2;
			L->fm[L->nf] = m;
			L->fk[L->nf++] = kk;
			L->p += 2 * kk;
		}
	}
	/* a regressor constant over the history is left out, its effect zero (R's lm gives
	 * it NA and predicts without it) */
	L->nx = 0;
	for (k = 0; k < s->nx; k++) {
		const double *x = s->x + (size_t)k * s->xlen;
		size_t t = 1;
		while (t < s->n && x[t] == x[0])
			t++;
		if (t < s->n)
			L->xidx[L->nx++] = k;
	}
	L->p += L->nx;
	return L->p;
}

/* Row of the design for step t (0-based) into x; the regressors at t come from s. */
static void row(const struct linear *L, const struct ml_series *s, size_t t, double *x)
{
	int j = 0, k, i;

	x[j++] = 1;
	x[j++] = (double)(t + 1);
	if (L->dummy)
		for (i = 1; i < L->dummy; i++)
			x[j++] = (int)(t % (size_t)L->dummy) == i;
	for (k = 0; k < L->nf; k++)
		for (i = 1; i <= L->fk[k]; i++) {
			double a = 2 * M_PI * i * (double)(t + 1) / L->fm[k];
			x[j++] = sin(a);
			x[j++] = cos(a);
		}
	for (k = 0; k < L->nx; k++)
		x[j++] = s->x[(size_t)L->xidx[k] * s->xlen + t];
}

static size_t linear_min(const struct ml_series *s)
{
	struct linear L;
	return (size_t)layout(&L, s, 5) + 1;
}

/* Invert the p x p symmetric matrix A in place (Gauss-Jordan with pivoting); -1 when
 * singular. */
static int invert(double *A, int p)
{
	int *piv = malloc((size_t)p * sizeof(int)), i, j, k, rc = 0;
	double *B = malloc((size_t)(p * p) * sizeof(double)), scale = 0;

	if (!piv || !B) {
		free(piv);
		free(B);
		return -2;
	}
	for (i = 0; i < p * p; i++)
		B[i] = 0;
	for (i = 0; i < p; i++) {
		B[i * p + i] = 1;
		if (A[i * p + i] > scale)
			scale = A[i * p + i];
	}
	for (k = 0; k < p; k++) {
		int best = k;
		double f;
		for (i = k + 1; i < p; i++)
			if (fabs(A[i * p + k]) > fabs(A[best * p + k]))
				best = i;
		if (fabs(A[best * p + k]) <= 1e-12 * scale) {
			rc = -1;
			break;
		}
		if (best != k)
			for (j = 0; j < p; j++) {
				double t = A[k * p + j];
				A[k * p + j] = A[best * p + j];
				A[best * p + j] = t;
				t = B[k * p + j];
				B[k * p + j] = B[best * p + j];
				B[best * p + j] = t;
			}
		f = A[k * p + k];
		for (j = 0; j < p; j++) {
			A[k * p + j] /= f;
			B[k * p + j] /= f;
		}
		for (i = 0; i < p; i++) {
			if (i == k || A[i * p + k] == 0)
				continue;
			f = A[i * p + k];
			for (j = 0; j < p; j++) {
				A[i * p + j] -= f * A[k * p + j];
				B[i * p + j] -= f * B[k * p + j];
			}
		}
	}
	if (!rc)
		memcpy(A, B, (size_t)(p * p) * sizeof(double));
	free(piv);
	free(B);
	return rc;
}

static int linear_fit(void **state, const struct ml_series *s, const struct ml_params *p,
		      struct ml_ctx *ctx, struct ml_err *e)
{
	struct linear *L = calloc(1, sizeof(*L));
	double x[LIN_MAXP], xty[LIN_MAXP] = {0}, rss = 0;
	size_t t;
	int P, i, j, rc;

	(void)ctx;
	if (!L)
		return ml_err_nomem(e);
	P = layout(L, s, (int)ml_param(p, "fourier"));
	if ((size_t)P >= s->n) {
		free(L);
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				  "--model linear needs at least %d values for its %d terms; the "
				  "series has %zu",
				  P + 1, P, s->n);
	}
	if (P > LIN_MAXP || !(L->inv = calloc((size_t)(P * P), sizeof(double)))) {
		free(L);
		return P > LIN_MAXP ? ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
						 "--model linear: too many terms (%d)", P) :
				      ml_err_nomem(e);
	}
	L->n = s->n;
	for (t = 0; t < s->n; t++) {
		row(L, s, t, x);
		for (i = 0; i < P; i++) {
			xty[i] += x[i] * s->y[t];
			for (j = 0; j < P; j++)
				L->inv[i * P + j] += x[i] * x[j];
		}
	}
	if ((rc = invert(L->inv, P)) < 0) {
		free(L->inv);
		free(L);
		return rc == -2 ? ml_err_nomem(e) :
				  ml_err_set(e, ML_E_DATA, NULL, 0, 0,
					     "--model linear: the trend, seasonal terms%s are "
					     "collinear on %zu values",
					     s->nx ? " and regressors (a constant one?)" : "", s->n);
	}
	for (i = 0; i < P; i++) {
		L->b[i] = 0;
		for (j = 0; j < P; j++)
			L->b[i] += L->inv[i * P + j] * xty[j];
	}
	for (t = 0; t < s->n; t++) {
		double f = 0;
		row(L, s, t, x);
		for (i = 0; i < P; i++)
			f += x[i] * L->b[i];
		rss += (s->y[t] - f) * (s->y[t] - f);
	}
	L->sigma2 = rss / (double)(s->n - (size_t)P);
	*state = L;
	return 0;
}

static int linear_forecast(const void *state, const struct ml_series *s, int h,
			   const double *level, int nlevel, double *mean, double *lo, double *hi,
			   struct ml_err *e)
{
	const struct linear *L = state;
	double x[LIN_MAXP], df = (double)(L->n - (size_t)L->p);
	int t, i, j, k;

	(void)e;
	for (t = 0; t < h; t++) {
		double f = 0, q = 0;
		row(L, s, L->n + (size_t)t, x);
		for (i = 0; i < L->p; i++) {
			f += x[i] * L->b[i];
			for (j = 0; j < L->p; j++)
				q += x[i] * L->inv[i * L->p + j] * x[j];
		}
		mean[t] = f;
		for (k = 0; k < nlevel; k++) {
			double w = ml_t_ppf(0.5 + level[k] / 200, df) * sqrt(L->sigma2 * (1 + q));
			lo[(size_t)k * (size_t)h + (size_t)t] = f - w;
			hi[(size_t)k * (size_t)h + (size_t)t] = f + w;
		}
	}
	return 0;
}

static int linear_fitted(const void *state, const struct ml_series *s, double *out)
{
	const struct linear *L = state;
	double x[LIN_MAXP];
	size_t t;
	int i;

	for (t = 0; t < s->n; t++) {
		row(L, s, t, x);
		out[t] = 0;
		for (i = 0; i < L->p; i++)
			out[t] += x[i] * L->b[i];
	}
	return 0;
}

static double linear_sigma2(const void *state)
{
	return ((const struct linear *)state)->sigma2;
}

static void linear_free(void *state)
{
	struct linear *L = state;
	if (L)
		free(L->inv);
	free(L);
}

static int linear_save(const void *state, struct ml_model *m, struct ml_err *e)
{
	const struct linear *L = state;
	cJSON *arr = cJSON_AddArrayToObject(ml_model_meta(m), "coefficients");
	int i, bad = 0;

	if (!arr)
		return ml_err_nomem(e);
	for (i = 0; i < L->p; i++)
		ml_json_add(&bad, arr, NULL, cJSON_CreateNumber(L->b[i]));
	return bad ? ml_err_nomem(e) : 0;
}

/* Least squares is exact and quick: loading fits the stored series again. */
static int linear_load(void **state, const struct ml_model *m, const struct ml_series *s,
		       const struct ml_params *p, struct ml_err *e)
{
	(void)m;
	return linear_fit(state, s, p, NULL, e);
}

const struct ml_fc_method ml_fc_linear = {
	.name = "linear",
	.summary = "a linear trend plus seasonal dummies, or Fourier terms for long seasons",
	.params = linear_params,
	.xreg = 1,
	.min_length = linear_min,
	.fit = linear_fit,
	.forecast = linear_forecast,
	.fitted = linear_fitted,
	.sigma2 = linear_sigma2,
	.save = linear_save,
	.load = linear_load,
	.free = linear_free,
};
