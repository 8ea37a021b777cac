/* Rolling-origin backtests of a forecasting method: refit at each origin, forecast, score
 * against what followed. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "method.h"

size_t ml_fc_backtest_origin(size_t n, int h, int norigin, int k)
{
	size_t step = h / 2 > 1 ? (size_t)(h / 2) : 1, back = (size_t)h + (size_t)(norigin - 1 - k) * step;

	return back < n ? n - back : 0;
}

/* Mean absolute difference at lag in y[0..n), or NaN when there is none or it is zero. */
static double mase_scale(const double *y, size_t n, size_t lag)
{
	double s = 0;
	size_t t;

	if (n <= lag)
		lag = 1;
	if (n <= lag)
		return NAN;
	for (t = lag; t < n; t++)
		s += fabs(y[t] - y[t - lag]);
	s /= (double)(n - lag);
	return s > 0 ? s : NAN;
}

int ml_fc_backtest(const struct ml_fc_method *m, const struct ml_series *s,
		   const struct ml_params *p, int h, int norigin, const double *level, int nlevel,
		   struct ml_fc_score *out, struct ml_ctx *ctx, struct ml_err *e)
{
	double *mean = malloc((size_t)h * sizeof(double));
	double *lo = malloc(((size_t)h * (size_t)(nlevel ? nlevel : 1)) * sizeof(double));
	double *hi = malloc(((size_t)h * (size_t)(nlevel ? nlevel : 1)) * sizeof(double));
	double sae = 0, sse = 0, sape = 0, ssape = 0, sase = 0, cov[ML_FC_MAX_LEVELS] = {0};
	size_t nape = 0, nsape = 0, nase = 0;
	int k, rc = 0;

	memset(out, 0, sizeof(*out));
	if (!mean || !lo || !hi) {
		rc = ml_err_nomem(e);
		goto done;
	}
	if (h < 1 || norigin < 1 || nlevel < 0 || nlevel > ML_FC_MAX_LEVELS) {
		rc = ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				"a backtest needs a horizon and origins >= 1 and at most %d levels",
				ML_FC_MAX_LEVELS);
		goto done;
	}
	for (k = 0; k < norigin; k++) {
		size_t ntrain = ml_fc_backtest_origin(s->n, h, norigin, k), t, nt;
		struct ml_series sub = *s;
		struct ml_forecaster *f = NULL;
		struct ml_err e2;
		double scale;
		int j;

		if (ntrain < 2)
			continue;
		sub.n = ntrain;
		if (ntrain < ml_fc_method_min_length(m, &sub))
			continue;
		ml_err_init(&e2);
		if (ml_fc_fit(&f, m, &sub, p, ctx, &e2) < 0) {
			if (e2.code == ML_E_NOMEM) {
				*e = e2;
				rc = ML_E_NOMEM;
				goto done;
			}
			continue;
		}
		nt = s->n - ntrain < (size_t)h ? s->n - ntrain : (size_t)h;
		rc = ml_fc_forecast(f, h, level, nlevel, mean, lo, hi, e);
		ml_fc_free(f);
		if (rc < 0)
			goto done;
		scale = mase_scale(s->y, ntrain, s->nseason ? (size_t)s->season[0] : 1);
		for (t = 0; t < nt; t++) {
			double a = s->y[ntrain + t], err = a - mean[t];
			sae += fabs(err);
			sse += err * err;
			if (a != 0) {
				sape += fabs(err / a);
				nape++;
			}
			if (fabs(a) + fabs(mean[t]) > 0) {
				ssape += 2 * fabs(err) / (fabs(a) + fabs(mean[t]));
				nsape++;
			}
			if (scale == scale) {
				sase += fabs(err) / scale;
				nase++;
			}
			for (j = 0; j < nlevel; j++)
				cov[j] += a >= lo[(size_t)j * (size_t)h + t] &&
					  a <= hi[(size_t)j * (size_t)h + t];
		}
		out->npoint += nt;
		out->norigin++;
	}
	if (!out->norigin) {
		rc = ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				"the series (%zu values) is too short to backtest --model %s at a "
				"horizon of %d",
				s->n, m->name, h);
		goto done;
	}
	out->mae = sae / (double)out->npoint;
	out->rmse = sqrt(sse / (double)out->npoint);
	out->mape = nape ? 100 * sape / (double)nape : NAN;
	out->smape = nsape ? 100 * ssape / (double)nsape : NAN;
	out->mase = nase ? sase / (double)nase : NAN;
	for (k = 0; k < nlevel; k++)
		out->coverage[k] = cov[k] / (double)out->npoint;
done:
	free(mean);
	free(lo);
	free(hi);
	return rc;
}
