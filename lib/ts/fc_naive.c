/* The benchmark forecasts, as R's forecast package (8.x) makes them: naive (a random walk),
 * seasonal naive, the random walk with drift (forecast intervals allow for the drift's
 * standard error), and the mean (intervals from Student's t). */
#include <math.h>
#include <stdlib.h>

#include "method.h"
#include "ml/stats.h"

struct walk {
	int lag;
	int drift;   /* estimate a drift */
	double b, bse; /* the drift and its standard error (0 without) */
	double mse;  /* the residual mean square the intervals use */
	double sigma2;
};

static size_t naive_min(const struct ml_series *s)
{
	(void)s;
	return 2;
}

static size_t drift_min(const struct ml_series *s)
{
	(void)s;
	return 3;
}

static size_t snaive_min(const struct ml_series *s)
{
	return s->nseason ? (size_t)s->season[0] + 1 : 2;
}

/* Differences at the lag, their mean (the drift) and the residual mean squares. */
static int walk_fit(void **state, const struct ml_series *s, int lag, int drift,
		    struct ml_err *e)
{
	struct walk *w = calloc(1, sizeof(*w));
	size_t t, m = s->n - (size_t)lag;
	double sum = 0, ss = 0;

	if (!w)
		return ml_err_nomem(e);
	w->lag = lag;
	w->drift = drift;
	for (t = (size_t)lag; t < s->n; t++)
		sum += s->y[t] - s->y[t - (size_t)lag];
	if (drift) {
		w->b = sum / (double)m;
		for (t = (size_t)lag; t < s->n; t++) {
			double r = s->y[t] - s->y[t - (size_t)lag] - w->b;
			ss += r * r;
		}
		w->sigma2 = ss / (double)(m - 1); /* lm's residual variance */
		w->bse = sqrt(w->sigma2 / (double)m);
		/* R divides by one less observation when the drift is not zero. */
		w->mse = ss / (double)(m - (w->b != 0));
	} else {
		for (t = (size_t)lag; t < s->n; t++) {
			double d = s->y[t] - s->y[t - (size_t)lag];
			ss += d * d;
		}
		w->mse = w->sigma2 = ss / (double)m;
	}
	*state = w;
	return 0;
}

static int naive_fit(void **state, const struct ml_series *s, const struct ml_params *p,
		     struct ml_ctx *ctx, struct ml_err *e)
{
	(void)p;
	(void)ctx;
	return walk_fit(state, s, 1, 0, e);
}

static int drift_fit(void **state, const struct ml_series *s, const struct ml_params *p,
		     struct ml_ctx *ctx, struct ml_err *e)
{
	(void)p;
	(void)ctx;
	return walk_fit(state, s, 1, 1, e);
}

static int snaive_fit(void **state, const struct ml_series *s, const struct ml_params *p,
		      struct ml_ctx *ctx, struct ml_err *e)
{
	(void)p;
	(void)ctx;
	if (!s->nseason)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "--model snaive needs a seasonal period (--season M)");
	return walk_fit(state, s, s->season[0], 0, e);
}

static int walk_forecast(const void *state, const struct ml_series *s, int h,
			 const double *level, int nlevel, double *mean, double *lo, double *hi,
			 struct ml_err *e)
{
	const struct walk *w = state;
	int t, k;

	(void)e;
	for (t = 0; t < h; t++) {
		double steps = (double)(t / w->lag + 1);
		double se = sqrt(w->mse * steps + (steps * w->bse) * (steps * w->bse));
		mean[t] = s->y[s->n - (size_t)w->lag + (size_t)(t % w->lag)] + steps * w->b;
		for (k = 0; k < nlevel; k++) {
			double z = ml_norm_ppf(0.5 + level[k] / 200);
			lo[(size_t)k * (size_t)h + (size_t)t] = mean[t] - z * se;
			hi[(size_t)k * (size_t)h + (size_t)t] = mean[t] + z * se;
		}
	}
	return 0;
}

static int walk_fitted(const void *state, const struct ml_series *s, double *out)
{
	const struct walk *w = state;
	size_t t;

	for (t = 0; t < s->n; t++)
		out[t] = t < (size_t)w->lag ? NAN : s->y[t - (size_t)w->lag] + w->b;
	return 0;
}

static double walk_sigma2(const void *state)
{
	return ((const struct walk *)state)->sigma2;
}

static int walk_save(const void *state, struct ml_model *m, struct ml_err *e)
{
	const struct walk *w = state;
	cJSON *meta = ml_model_meta(m);

	if (w->drift && (!cJSON_AddNumberToObject(meta, "drift", w->b) ||
			 !cJSON_AddNumberToObject(meta, "drift_se", w->bse)))
		return ml_err_nomem(e);
	return 0;
}

/* The fit is a pass over the stored series: loading fits it again. */
static int naive_load(void **state, const struct ml_model *m, const struct ml_series *s,
		      const struct ml_params *p, struct ml_err *e)
{
	(void)m;
	return naive_fit(state, s, p, NULL, e);
}

static int drift_load(void **state, const struct ml_model *m, const struct ml_series *s,
		      const struct ml_params *p, struct ml_err *e)
{
	(void)m;
	return drift_fit(state, s, p, NULL, e);
}

static int snaive_load(void **state, const struct ml_model *m, const struct ml_series *s,
		       const struct ml_params *p, struct ml_err *e)
{
	(void)m;
	return snaive_fit(state, s, p, NULL, e);
}

const struct ml_fc_method ml_fc_naive = {
	.name = "naive",
	.summary = "the last value (a random walk)",
	.min_length = naive_min,
	.fit = naive_fit,
	.forecast = walk_forecast,
	.fitted = walk_fitted,
	.sigma2 = walk_sigma2,
	.save = walk_save,
	.load = naive_load,
	.free = free,
};

const struct ml_fc_method ml_fc_snaive = {
	.name = "snaive",
	.summary = "the value one season before (seasonal random walk)",
	.min_length = snaive_min,
	.fit = snaive_fit,
	.forecast = walk_forecast,
	.fitted = walk_fitted,
	.sigma2 = walk_sigma2,
	.save = walk_save,
	.load = snaive_load,
	.free = free,
};

const struct ml_fc_method ml_fc_drift = {
	.name = "drift",
	.summary = "the last value plus the average change (random walk with drift)",
	.min_length = drift_min,
	.fit = drift_fit,
	.forecast = walk_forecast,
	.fitted = walk_fitted,
	.sigma2 = walk_sigma2,
	.save = walk_save,
	.load = drift_load,
	.free = free,
};

/* The mean. */

struct meanf {
	double mu, s; /* mean and sample standard deviation */
};

static int mean_fit(void **state, const struct ml_series *s, const struct ml_params *p,
		    struct ml_ctx *ctx, struct ml_err *e)
{
	struct meanf *f = calloc(1, sizeof(*f));
	double sum = 0, ss = 0;
	size_t t;

	(void)p;
	(void)ctx;
	if (!f)
		return ml_err_nomem(e);
	for (t = 0; t < s->n; t++)
		sum += s->y[t];
	f->mu = sum / (double)s->n;
	for (t = 0; t < s->n; t++)
		ss += (s->y[t] - f->mu) * (s->y[t] - f->mu);
	f->s = sqrt(ss / (double)(s->n - 1));
	*state = f;
	return 0;
}

static int mean_forecast(const void *state, const struct ml_series *s, int h,
			 const double *level, int nlevel, double *mean, double *lo, double *hi,
			 struct ml_err *e)
{
	const struct meanf *f = state;
	double n = (double)s->n;
	int t, k;

	(void)e;
	for (k = 0; k < nlevel; k++) {
		double w = ml_t_ppf(0.5 + level[k] / 200, n - 1) * f->s * sqrt(1 + 1 / n);
		for (t = 0; t < h; t++) {
			lo[(size_t)k * (size_t)h + (size_t)t] = f->mu - w;
			hi[(size_t)k * (size_t)h + (size_t)t] = f->mu + w;
		}
	}
	for (t = 0; t < h; t++)
		mean[t] = f->mu;
	return 0;
}

static int mean_fitted(const void *state, const struct ml_series *s, double *out)
{
	size_t t;

	for (t = 0; t < s->n; t++)
		out[t] = ((const struct meanf *)state)->mu;
	return 0;
}

static double mean_sigma2(const void *state)
{
	const struct meanf *f = state;
	return f->s * f->s;
}

static int mean_load(void **state, const struct ml_model *m, const struct ml_series *s,
		     const struct ml_params *p, struct ml_err *e)
{
	(void)m;
	return mean_fit(state, s, p, NULL, e);
}

const struct ml_fc_method ml_fc_mean = {
	.name = "mean",
	.summary = "the mean of the series",
	.min_length = naive_min,
	.fit = mean_fit,
	.forecast = mean_forecast,
	.fitted = mean_fitted,
	.sigma2 = mean_sigma2,
	.load = mean_load,
	.free = free,
};
