/* Private to libml: the exponential smoothing state space models (ETS) as pieces the
 * Theta method and the combinations reuse. */
#ifndef ML_TS_ETS_H
#define ML_TS_ETS_H

#include <stddef.h>

enum { ETS_N = 0, ETS_A = 1, ETS_M = 2 };
enum { ETS_OPT_LIK = 0, ETS_OPT_MSE = 1 };

#define ETS_MAX_STATE (2 + 24)

/* One fitted ETS model. */
struct ets_fit {
	int error, trend, season, damped; /* ETS_A / ETS_M / ETS_N */
	int m;				  /* seasonal period (1 without season) */
	double alpha, beta, gamma, phi;
	int nstate;
	double x0[ETS_MAX_STATE];   /* initial states: l, b, s_1..s_m (s_m used first) */
	double last[ETS_MAX_STATE]; /* states after the last value */
	int np;			    /* estimated parameters (smoothing + initial states) */
	double lik;		    /* -2 log likelihood up to a constant, as R's */
	double loglik, aic, aicc, bic, sigma2, mse;
};

/* Fit one model (error, trend, season, damped) to y by Nelder-Mead on opt (ETS_OPT_*),
 * as R's forecast::etsmodel with bounds "both". Returns 0, or -1 when the model cannot be
 * fitted (too many parameters for n, a multiplicative model on non-positive data), or
 * ML_E_NOMEM. */
int ml_ets_fit1(const double *y, size_t n, int m, int error, int trend, int season, int damped,
		int opt, struct ets_fit *out);
/* Mean and variance of the forecast h steps ahead (analytic, classes 1 to 3). */
int ml_ets_forecast(const struct ets_fit *f, int h, double *mean, double *var);
/* One-step fitted values. */
void ml_ets_fitted(const struct ets_fit *f, const double *y, size_t n, double *out);
/* The longest season the decomposition-based methods adjust for. */
#define ML_TS_MAX_SEASON 400
/* Whether y is seasonal at lag m (2 <= m <= ML_TS_MAX_SEASON, n > 2m) by thetaf's test:
 * the autocorrelation at lag m beyond 1.645 of its standard error under a moving
 * average of order m - 1. */
int ml_ts_seasonal_test(const double *y, size_t n, int m);
/* The longest of s's seasons for which y is seasonal by that test, or 0. */
struct ml_series;
int ml_ts_long_season(const struct ml_series *s);
/* The classical decomposition's seasonal figure of y (n >= 2m): additive (mult 0) or
 * multiplicative, fig[0..m) for positions 0..m-1 of y. */
void ml_ts_decompose(const double *y, size_t n, int m, int mult, double *fig);
/* The spec ("MAdM") of the model an ets forecaster's state holds (buf of 5 bytes at least);
 * "ZZZ" for the last-resort smoothing of a series too short for every model. */
void ml_ets_spec(const void *state, char *buf);
/* Whether method m is ets or one built on it (damped): its state has a spec, and a refit
 * with "spec" set to it fits that model again. */
struct ml_fc_method;
int ml_ets_method(const struct ml_fc_method *m);
/* Select among the models spec allows as R's ets(y, model = spec) does (ic 0 aicc, 1 aic,
 * 2 bic). Returns 0, -1 when none could be fitted, -2 for a malformed spec, or ML_E_NOMEM.
 * damped, when not NULL, receives the best of the damped models among them (what
 * ets(y, damped = TRUE) selects when spec leaves the trend free) and *ndamped 1, or
 * *ndamped 0 when none was fitted. */
int ml_ets_auto(const double *y, size_t n, int m, const char *spec, int ic, struct ets_fit *best,
		struct ets_fit *damped, int *ndamped);
/* The state of the damped method that an ets state with the trend free also selected
 * (the same candidates' fits), newly allocated, or NULL when it has none. */
void *ml_ets_damped_state(const void *state);

#endif
