/* The Theta method as R's forecast::thetaf (8.x) makes it: a 90% test for seasonality on
 * the autocorrelation at the seasonal lag, multiplicative classical decomposition when it
 * passes, simple exponential smoothing (fitted on the one-step mean square error) with a
 * drift of half the slope of a linear trend, reseasonalised; intervals from the SES
 * variance as thetaf computes them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ets.h"
#include "method.h"
#include "ml/stats.h"

struct theta {
	struct ets_fit ses; /* on the seasonally adjusted series */
	int m;		    /* the season used (1: none) */
	double fig[ML_TS_MAX_SEASON]; /* the seasonal figure, position t of the series at t % m */
	double drift;	     /* half the slope */
	double alpha;
	size_t n;
};


static size_t theta_min(const struct ml_series *s)
{
	(void)s;
	return 4;
}

int ml_ts_seasonal_test(const double *y, size_t n, int m)
{
	double mean = 0, c0 = 0, r[ML_TS_MAX_SEASON + 1], sum = 0, stat;
	size_t t;
	int k, constant = 1;

	if (m < 2 || m > ML_TS_MAX_SEASON || n <= 2 * (size_t)m)
		return 0;
	for (t = 1; t < n; t++)
		if (y[t] != y[0])
			constant = 0;
	if (constant)
		return 0;
	for (t = 0; t < n; t++)
		mean += y[t];
	mean /= (double)n;
	for (t = 0; t < n; t++)
		c0 += (y[t] - mean) * (y[t] - mean);
	for (k = 1; k <= m; k++) {
		double c = 0;
		for (t = 0; t + (size_t)k < n; t++)
			c += (y[t] - mean) * (y[t + (size_t)k] - mean);
		r[k] = c / c0;
	}
	for (k = 1; k < m; k++)
		sum += r[k] * r[k];
	stat = sqrt((1 + 2 * sum) / (double)n);
	return fabs(r[m]) / stat > ml_norm_ppf(0.95);
}

int ml_ts_long_season(const struct ml_series *s)
{
	int k, best = 0;

	for (k = 0; k < s->nseason; k++)
		if (s->season[k] > best && ml_ts_seasonal_test(s->y, s->n, s->season[k]))
			best = s->season[k];
	return best;
}

static int theta_fit(void **state, const struct ml_series *s, const struct ml_params *p,
		     struct ml_ctx *ctx, struct ml_err *e)
{
	struct theta *th = calloc(1, sizeof(*th));
	double *x = malloc(s->n * sizeof(double)), sx = 0, sy = 0, sxx = 0, sxy = 0, N;
	size_t t, n = s->n;
	int m = s->nseason > 1 ? ml_ts_long_season(s) : s->nseason ? s->season[0] : 1, i, rc;

	(void)p;
	(void)ctx;
	if (!th || !x) {
		free(th);
		free(x);
		return ml_err_nomem(e);
	}
	memcpy(x, s->y, n * sizeof(double));
	th->m = 1;
	th->n = n;
	if (ml_ts_seasonal_test(s->y, n, m)) {
		int ok = 1;
		ml_ts_decompose(s->y, n, m, 1, th->fig);
		for (i = 0; i < m; i++)
			if (!(fabs(th->fig[i]) >= 1e-4))
				ok = 0;
		if (ok) {
			th->m = m;
			for (t = 0; t < n; t++)
				x[t] /= th->fig[t % (size_t)m];
		}
	}
	if ((rc = ml_ets_fit1(x, n, 1, ETS_A, ETS_N, ETS_N, 0, ETS_OPT_MSE, &th->ses)) < 0) {
		free(th);
		free(x);
		if (rc == ML_E_NOMEM)
			return ml_err_nomem(e);
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				  "--model theta cannot fit simple exponential smoothing to %zu "
				  "values",
				  n);
	}
	N = (double)n;
	for (t = 0; t < n; t++) {
		sx += (double)t;
		sy += x[t];
		sxx += (double)t * (double)t;
		sxy += (double)t * x[t];
	}
	th->drift = (sxy - sx * sy / N) / (sxx - sx * sx / N) / 2;
	th->alpha = fmax(1e-10, th->ses.alpha);
	free(x);
	*state = th;
	return 0;
}

static int theta_forecast(const void *state, const struct ml_series *s, int h,
			  const double *level, int nlevel, double *mean, double *lo, double *hi,
			  struct ml_err *e)
{
	const struct theta *th = state;
	double *var = malloc((size_t)h * sizeof(double)), a = th->alpha;
	double c = (1 - pow(1 - a, (double)th->n)) / a;
	int t, k;

	(void)s;
	if (!var || ml_ets_forecast(&th->ses, h, mean, var) < 0) {
		free(var);
		return ml_err_nomem(e);
	}
	for (t = 0; t < h; t++) {
		mean[t] += th->drift * ((double)t + c);
		if (th->m > 1)
			mean[t] *= th->fig[(th->n + (size_t)t) % (size_t)th->m];
	}
	for (k = 0; k < nlevel; k++) {
		double z = ml_norm_ppf(0.5 + level[k] / 200);
		for (t = 0; t < h; t++) {
			double w = z * sqrt(th->ses.sigma2) * sqrt((double)t * a * a + 1);
			lo[(size_t)k * (size_t)h + (size_t)t] = mean[t] - w;
			hi[(size_t)k * (size_t)h + (size_t)t] = mean[t] + w;
		}
	}
	free(var);
	return 0;
}

static int theta_fitted(const void *state, const struct ml_series *s, double *out)
{
	const struct theta *th = state;
	double *x = malloc((s->n ? s->n : 1) * sizeof(double));
	size_t t;

	if (!x)
		return ML_E_NOMEM;
	for (t = 0; t < s->n; t++)
		x[t] = th->m > 1 ? s->y[t] / th->fig[t % (size_t)th->m] : s->y[t];
	ml_ets_fitted(&th->ses, x, s->n, out);
	for (t = 0; t < s->n; t++)
		if (th->m > 1)
			out[t] *= th->fig[t % (size_t)th->m];
	free(x);
	return 0;
}

static double theta_sigma2(const void *state)
{
	return ((const struct theta *)state)->ses.sigma2;
}

static int theta_save(const void *state, struct ml_model *m, struct ml_err *e)
{
	const struct theta *th = state;
	cJSON *o = cJSON_AddObjectToObject(ml_model_meta(m), "theta");

	if (!o || !cJSON_AddNumberToObject(o, "alpha", th->alpha) ||
	    !cJSON_AddNumberToObject(o, "drift", th->drift) ||
	    !cJSON_AddNumberToObject(o, "seasonal", th->m > 1))
		return ml_err_nomem(e);
	return 0;
}

/* The fit is deterministic and quick: loading fits the stored series again. */
static int theta_load(void **state, const struct ml_model *m, const struct ml_series *s,
		      const struct ml_params *p, struct ml_err *e)
{
	(void)m;
	return theta_fit(state, s, p, NULL, e);
}

static void theta_describe(const void *state, char *buf, size_t size)
{
	const struct theta *th = state;

	if (th->m > 1)
		snprintf(buf, size, "theta, seasonally adjusted (period %d)", th->m);
	else
		snprintf(buf, size, "theta");
}

const struct ml_fc_method ml_fc_theta = {
	.name = "theta",
	.summary = "the Theta method: SES with half the trend's slope, seasonally adjusted",
	.min_length = theta_min,
	.fit = theta_fit,
	.forecast = theta_forecast,
	.fitted = theta_fitted,
	.sigma2 = theta_sigma2,
	.save = theta_save,
	.load = theta_load,
	.free = free,
	.describe = theta_describe,
};
