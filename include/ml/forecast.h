/* Forecasting: methods fitted on one time series at a regular interval, forecasting h steps
 * ahead with prediction intervals, saved as artefacts of kind "forecaster". They have their
 * own interface rather than the tabular learners' (lib/ts/): a series is ordered, its
 * seasonal periods matter, and what comes out is a path with intervals, not a row's answer.
 *
 *	m = ml_fc_method_find("snaive");
 *	ml_fc_params_init(&p, m);                  (then ml_params_set for --NAME options)
 *	ml_fc_fit(&f, m, &series, &p, &ctx, &e);
 *	ml_fc_forecast(f, h, levels, nlevel, mean, lo, hi, &e);
 *
 * Threads: a fitted forecaster is immutable; many threads may forecast from it, and series
 * are fitted independently (one per task), so results never depend on the thread count. */
#ifndef ML_FORECAST_H
#define ML_FORECAST_H

#include <stddef.h>
#include "ml/ctx.h"
#include "ml/err.h"
#include "ml/learn.h"
#include "ml/model.h"

/* One series: n values at a regular interval, oldest first, and its seasonal periods in
 * steps (12 for monthly data with a yearly season; 24 and 168 for hourly data), none when
 * nseason is 0. Missing values (NaN) are the caller's to fill before fitting, except where
 * a method says it takes them. */
#define ML_FC_MAX_SEASONS 4
#define ML_FC_MAX_XREG 32
struct ml_series {
	const double *y;
	size_t n;
	int season[ML_FC_MAX_SEASONS];
	int nseason;
	/* Exogenous regressors, none when nx is 0: x[j * xlen + t] is regressor j at time t
	 * for t < xlen (xlen >= n, every value present). The times from n on are the future
	 * the forecasts read: forecasting h steps needs xlen >= n + h. A prefix of the series
	 * (n smaller, x and xlen kept) so sees the rest of the history as its future, which is
	 * how backtests forecast from past origins with the regressors' known values. */
	const double *x;
	size_t xlen;
	int nx;
	/* The calendar of the steps when the time index holds dates or date-times: step i is
	 * t0 (seconds since 1970-01-01 UTC) plus i times step months (ML_CAL_MONTHS: monthly,
	 * quarterly and yearly data, the day of the month kept where the month has it) or step
	 * seconds (ML_CAL_SECONDS); ML_CAL_NONE (zero) for a time index of plain numbers. Only
	 * methods that read the calendar (prophet) depend on it. */
	struct {
		int kind;
		double t0, step;
	} cal;
};

enum { ML_CAL_NONE, ML_CAL_MONTHS, ML_CAL_SECONDS };

/* The time of step i of s (i may pass the end: the future) in days since 1970-01-01 UTC,
 * with the fraction of a day; NaN without a calendar. */
ML_API double ml_fc_step_day(const struct ml_series *s, long i);

/* Methods. */
struct ml_fc_method;

/* The methods, NULL-terminated, in the order mlforecast(1) lists them, and lookup by the
 * --model name (NULL when none). */
ML_API const struct ml_fc_method *const *ml_fc_methods(void);
ML_API const struct ml_fc_method *ml_fc_method_find(const char *name);
ML_API const char *ml_fc_method_name(const struct ml_fc_method *m);
ML_API const char *ml_fc_method_summary(const struct ml_fc_method *m);
/* The method's hyperparameters (terminated by a NULL name; never NULL). */
ML_API const struct ml_param *ml_fc_method_params(const struct ml_fc_method *m);
/* The shortest series the method fits, given its seasonal periods (e.g. two seasons of
 * data for seasonal naive needs one). */
ML_API size_t ml_fc_method_min_length(const struct ml_fc_method *m, const struct ml_series *s);
/* Whether the method takes regressors (ml_series.nx > 0); fitting one that does not on a
 * series with regressors is ML_E_USAGE. */
ML_API int ml_fc_method_xreg(const struct ml_fc_method *m);
/* Defaults of m's parameters. */
ML_API void ml_fc_params_init(struct ml_params *p, const struct ml_fc_method *m);

/* A fitted forecaster. */
struct ml_forecaster;

/* Fit m on s with parameters p (from ml_fc_params_init). ML_E_DATA naming what is wrong
 * for a series the method cannot take (too short, missing values, a season longer than
 * the data); ML_E_USAGE for parameters that contradict each other. */
ML_API int ml_fc_fit(struct ml_forecaster **out, const struct ml_fc_method *m,
		     const struct ml_series *s, const struct ml_params *p, struct ml_ctx *ctx,
		     struct ml_err *e);
ML_API void ml_fc_free(struct ml_forecaster *f);
ML_API const struct ml_fc_method *ml_fc_method_of(const struct ml_forecaster *f);
/* Forecast steps 1..h: mean[t] for t < h, and for each of the nlevel levels (percent,
 * strictly between 0 and 100) the bounds lo[k * h + t] and hi[k * h + t] of the central
 * prediction interval (lo, hi may be NULL when nlevel is 0). ML_E_USAGE for h < 1 or a
 * level out of range. */
ML_API int ml_fc_forecast(const struct ml_forecaster *f, int h, const double *level,
			  int nlevel, double *mean, double *lo, double *hi, struct ml_err *e);
/* The same with the regressors' future values given: xf[j * h + t] is regressor j at
 * step t + 1 (a what-if scenario; a forecaster loaded from a file has no future of its
 * own). ml_fc_forecast on a forecaster with regressors and fewer than h future values is
 * ML_E_USAGE. */
ML_API int ml_fc_forecast_x(const struct ml_forecaster *f, int h, const double *xf,
			    const double *level, int nlevel, double *mean, double *lo, double *hi,
			    struct ml_err *e);
/* The number of regressors the forecaster was fitted with. */
ML_API int ml_fc_nx(const struct ml_forecaster *f);
/* The in-sample one-step-ahead fitted values, n of them (NaN where the method has none,
 * e.g. the first season of seasonal naive). */
ML_API int ml_fc_fitted(const struct ml_forecaster *f, double *out, struct ml_err *e);
/* The number of values the forecaster was fitted on. */
ML_API size_t ml_fc_nobs(const struct ml_forecaster *f);
/* The fitted model in a few words into buf (always terminated): the components or
 * orders a method chose where it chooses ("ETS(A,Ad,N)", "ARIMA(1,1,0) with drift"),
 * a combination's members, and otherwise the method's name. */
ML_API void ml_fc_describe(const struct ml_forecaster *f, char *buf, size_t size);
/* The residual variance the intervals start from (one step ahead). */
ML_API double ml_fc_sigma2(const struct ml_forecaster *f);

/* Model files: a container of kind "forecaster" (algorithm: the method's name) whose
 * metadata holds the parameters, the seasonal periods and what the method reports (its
 * fitted coefficients, information criteria), and back. m is not kept. The regressors'
 * history is kept (section "xreg", metadata "nx"), not their future. */
ML_API int ml_fc_to_model(const struct ml_forecaster *f, struct ml_model **out,
			  struct ml_err *e);
ML_API struct ml_forecaster *ml_fc_from_model(const struct ml_model *m, struct ml_err *e);

/* Rolling-origin backtests. Origin k of norigin (k = 0 the earliest) fits m on the first
 * n - h - (norigin - 1 - k) * step values, step = max(1, h / 2), and forecasts the next h
 * (fewer when the series ends sooner). The scores pool every forecast point of every
 * origin: MAE, RMSE, MAPE and sMAPE in percent (points where the actual value, or for
 * sMAPE the sum of both, is zero are left out), MASE scaled by the training part's mean
 * absolute difference at the first seasonal lag (lag 1 when the part is no longer than
 * that season), and for each of the nlevel levels (at most ML_FC_MAX_LEVELS) the share
 * of actual values inside the interval. An origin whose training part is too short for
 * the method is skipped; ML_E_DATA when every origin is. */
#define ML_FC_MAX_LEVELS 8
struct ml_fc_score {
	double mae, rmse, mape, smape, mase;
	double coverage[ML_FC_MAX_LEVELS];
	size_t npoint;	/* forecast points scored */
	int norigin;	/* origins that were fitted */
};
ML_API int ml_fc_backtest(const struct ml_fc_method *m, const struct ml_series *s,
			  const struct ml_params *p, int h, int norigin, const double *level,
			  int nlevel, struct ml_fc_score *out, struct ml_ctx *ctx,
			  struct ml_err *e);
/* The training length of origin k as ml_fc_backtest lays them out. */
ML_API size_t ml_fc_backtest_origin(size_t n, int h, int norigin, int k);

#endif
