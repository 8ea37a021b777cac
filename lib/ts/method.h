/* Private to libml: how a forecasting method is written. A method fits one series into its
 * own immutable state and forecasts from it; the generic layer (forecast.c) checks the
 * arguments, keeps the series and the parameters, and saves and loads both. Adding one:
 * its fc_NAME.c defines const struct ml_fc_method ml_fc_NAME, and one line in methods.h
 * lists it. */
#ifndef ML_FC_METHOD_H
#define ML_FC_METHOD_H

#include <stddef.h>

#include "core/model_int.h"
#include "ml/forecast.h"

struct ml_fc_method {
	const char *name;    /* the --model value */
	const char *summary; /* one line */
	const struct ml_param *params;
	int xreg; /* takes regressors (s->nx > 0) */
	/* The shortest series it fits (NULL: 1). */
	size_t (*min_length)(const struct ml_series *s);
	/* Fit s (every value present, n >= min_length) with parameters p. */
	int (*fit)(void **state, const struct ml_series *s, const struct ml_params *p,
		   struct ml_ctx *ctx, struct ml_err *e);
	/* mean[0..h) and, for each level (checked: 0 < level < 100), lo and hi as
	 * ml_fc_forecast lays them out. s is the series the state was fitted on, its
	 * regressors (checked: s->xlen >= s->n + h) holding the future values at n.. */
	int (*forecast)(const void *state, const struct ml_series *s, int h, const double *level,
			int nlevel, double *mean, double *lo, double *hi, struct ml_err *e);
	/* One-step-ahead fitted values, n of them (NaN where there are none). */
	int (*fitted)(const void *state, const struct ml_series *s, double *out);
	/* The one-step residual variance. */
	double (*sigma2)(const void *state);
	/* Store what the fit found beyond the series and parameters: metadata (what mlinfo
	 * shows: coefficients, criteria) and sections ("fc.*"), and read it back. load may
	 * instead fit the stored series again when that is exact and cheap. */
	int (*save)(const void *state, struct ml_model *m, struct ml_err *e);
	int (*load)(void **state, const struct ml_model *m, const struct ml_series *s,
		    const struct ml_params *p, struct ml_err *e);
	void (*free)(void *state);
	/* The fitted model in a few words, as a user of the reference implementation would
	 * name it ("ETS(M,Ad,N)", "ARIMA(0,1,1)(0,1,1)[12]"), into buf (NULL: the name). */
	void (*describe)(const void *state, char *buf, size_t size);
};

/* Append printf-style text to the string in buf (of size bytes), cut to fit. */
void ml_fc_appendf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A forecaster of m on s with parameters p whose state (taken over, freed on failure)
 * was made by another's fit: what m's own fit of s with p would have made, as a
 * combination's damped member from its ets member's candidates. */
int ml_fc_adopt(struct ml_forecaster **out, const struct ml_fc_method *m,
		const struct ml_series *s, const struct ml_params *p, void *state,
		struct ml_err *e);

/* The state a method's fit made, for methods built from others (combinations). */
void *ml_fc_state(const struct ml_forecaster *f);
/* Forecast from f with the regressors' future of s (a series of f's length whose x holds
 * at least h future values): a combination passes its own series to its members. */
int ml_fc_forecast_on(const struct ml_forecaster *f, const struct ml_series *s, int h,
		      const double *level, int nlevel, double *mean, double *lo, double *hi,
		      struct ml_err *e);

/* Conformal intervals (conformal.c): the absolute errors of H-step forecasts of a method
 * refitted at K rolling origins one step apart (the last ends H values before the end),
 * sorted per step. The bounds at step t < H are the mean plus or minus the
 * ceil((K + 1) level)-th smallest error of step t (the largest when beyond K), made
 * nondecreasing in t; beyond H the last width grows with sqrt(t / H). fit leaves err NULL
 * (and returns 0) when fewer than two origins could be fitted; bounds then returns -1. */
struct ml_fc_conformal {
	int H, K;
	double *err; /* err[t * K + k] */
};
int ml_fc_conformal_fit(struct ml_fc_conformal *c, const struct ml_fc_method *m,
			const struct ml_series *s, const struct ml_params *p, int H, int K,
			struct ml_ctx *ctx, struct ml_err *e);
int ml_fc_conformal_bounds(const struct ml_fc_conformal *c, const double *mean, int h,
			   const double *level, int nlevel, double *lo, double *hi);
void ml_fc_conformal_free(struct ml_fc_conformal *c);

#endif
