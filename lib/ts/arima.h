/* Private to lib/ts: seasonal ARIMA models with regressors (a mean, a drift, Fourier terms)
 * fitted by exact Gaussian likelihood through a Kalman filter, as R's stats::arima does,
 * and the unit-root and seasonal-strength tests that choose the differencing. */
#ifndef ML_TS_ARIMA_H
#define ML_TS_ARIMA_H

#include <stddef.h>

#include "ts_alloc.h"

#define ARIMA_MAX_FOURIER 64 /* sine-cosine pairs of the long-season regressors */

/* What is fitted: orders, the seasonal period m (1 for none), and the regressors: an
 * intercept (only without differencing), a drift (the time index 1..n), next external
 * regressors (xext[xidx[j] * xld + t - 1] at time t, as R's xreg =) and K pairs of Fourier
 * terms sin(2 pi k t / period), cos(...) for k = 1..K of each period. The external
 * values must reach as far as they are read: n for a fit, n + h for a forecast. */
struct arima_spec {
	int p, d, q, P, D, Q, m;
	int mean, drift;
	int nfourier;		/* periods with Fourier terms */
	int fourier_k[4];
	double fourier_period[4];
	int next;
	const double *xext;
	size_t xld;
	int xidx[32]; /* the column of xext of each external regressor */
};

enum arima_method { ARIMA_CSS_ML, ARIMA_ML, ARIMA_CSS };

struct arima_fit {
	struct arima_spec s;
	enum arima_method method;
	int narma, ncx;
	double *coef;	     /* narma + ncx: ar, ma, sar, sma, then the regressors' */
	double loglik, aic;  /* NaN for CSS (aic is then R's approximation via the offset) */
	double sigma2;	     /* the ML innovations variance (CSS: its mean square) */
	int var_ok;	     /* the coefficients' variance has a finite diagonal (-1: not
			      * computed yet, arima_fit_defer) */
	double *tcoef;	     /* deferred: the transformed coefficients and their scales */
	double *resid;	     /* n (standardised innovations, scaled as y) */
	size_t n;
	/* The state space after filtering the series (for forecasting). */
	int np, nq, r, dl, rd;
	double *phi, *theta, *delta, *a, *P;
	int filtered; /* a and P are the state after the series (see ARIMA_NO_STATE) */
};

/* Fit spec on y[0..n) (every value present). 0, or -1 when R's arima would stop with an
 * error (a non-stationary AR part from CSS, a singular system, too few observations);
 * out is then released. fixed, when not NULL, holds every coefficient: none is
 * estimated (R's fixed = with no free parameter). */
int arima_fit(struct arima_fit *out, const double *y, size_t n, const struct arima_spec *s,
	      enum arima_method method, const double *fixed);
void arima_fit_release(struct arima_fit *f);
/* arima_fit, leaving out (defer_var ARIMA_DEFER_VAR) the coefficients' variance of a
 * maximum-likelihood fit, the costliest part of a small model's fit (a Hessian by
 * differences): var_ok is then -1 until arima_fit_var computes it on the same y.
 * arima_fit_var returns 0, or -1 where arima_fit would have failed (the Hessian cannot be
 * inverted, as R stops). With ARIMA_NO_STATE, a CSS fit leaves out the Kalman filter over
 * the series that gives the state forecasts start from (a and P are then not the filtered
 * ones and filtered is 0): an approximate search ranks its candidates without it. */
#define ARIMA_DEFER_VAR 1
#define ARIMA_NO_STATE 2
int arima_fit_defer(struct arima_fit *out, const double *y, size_t n,
		    const struct arima_spec *s, enum arima_method method, const double *fixed,
		    int defer_var);
int arima_fit_var(struct arima_fit *f, const double *y);
/* arima_fit_defer by CSS then ML with the variance deferred, but the likelihood maximised
 * from start (every coefficient, as arima_fit's coef) instead of from the CSS estimates:
 * a refit of a model on a part of the series it was fitted to. start is ignored where
 * external regressors are rotated (more than one regressor column). */
int arima_fit_from(struct arima_fit *out, const double *y, size_t n, const struct arima_spec *s,
		   const double *start);
/* The regressor column j at time t (1-based) of a spec. */
double arima_xreg(const struct arima_spec *s, int j, double t);
int arima_ncx(const struct arima_spec *s);
/* Forecast h steps: mean and the forecast variance divided by sigma2 (se2). */
int arima_forecast(const struct arima_fit *f, int h, double *mean, double *se2);
/* The smallest modulus of the roots of 1 + sign (c1 z + ... + ck z^k), ignoring trailing
 * coefficients below 1e-8, capped at 2 (forecast's check in myarima); -1 on failure. */
double arima_minroot(const double *c, int k, int sign);

/* The orders and terms an arima forecaster's state chose, set in p (the arima method's
 * parameters) as --order, --seasonal-order, mean and drift: refits of the same model. */
struct ml_params;
struct ml_err;
int ml_arima_spec_params(const void *state, struct ml_params *p, struct ml_err *e);
/* The h-step forecast (mean, and the bounds at nlevel levels laid out as ml_fc_forecast's)
 * of the same model (orders and terms) refitted on s, as the arima
 * method fits it with those orders fixed but without the coefficients' variance, which
 * only the search reads (a refit whose Hessian cannot be inverted is kept, not dropped),
 * and with the likelihood maximised from the state's coefficients rather than from CSS
 * estimates (a state fitted by conditional sums of squares alone is refitted so): a
 * combination's backtest, on the first part of the series state was fitted to. */
struct ml_series;
int ml_arima_refit(const void *state, const struct ml_series *s, int h, const double *level,
		   int nlevel, double *mean, double *lo, double *hi, struct ml_err *e);

/* Unit roots and seasonality. */
/* KPSS level-stationarity statistic with the Bartlett window of lag trunc(3 sqrt(n)/13),
 * as urca::ur.kpss(type = "mu"). */
double kpss_stat(const double *x, size_t n);
/* forecast::ndiffs (KPSS at 5%, at most max_d) and nsdiffs (test "seas": the STL
 * seasonal strength above 0.64, at most one). */
int arima_ndiffs(const double *x, size_t n, int max_d);
int arima_nsdiffs(const double *x, size_t n, int m);
/* STL decomposition (robust off, as R's stl with s.window given and its defaults). */
int stl_decompose(const double *y, size_t n, int np, int swindow, double *season,
		  double *trend);
double seasonal_strength(const double *x, size_t n, int m);
int ts_is_constant(const double *x, size_t n);

#endif
