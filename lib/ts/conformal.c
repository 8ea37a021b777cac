/* Conformal prediction intervals for methods without analytic ones: the method is fitted
 * again at rolling origins one step apart at the end of the series, each fit forecasts
 * the H steps that follow it, and the absolute errors at each step give the interval's
 * half-width at that step. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "method.h"
#include "core/sort.h"

void ml_fc_conformal_free(struct ml_fc_conformal *c)
{
	free(c->err);
	memset(c, 0, sizeof(*c));
}

int ml_fc_conformal_fit(struct ml_fc_conformal *c, const struct ml_fc_method *m,
			const struct ml_series *s, const struct ml_params *p, int H, int K,
			struct ml_ctx *ctx, struct ml_err *e)
{
	double *fc = malloc((size_t)(H > 0 ? H : 1) * sizeof(double));
	int k, j, rc = 0;

	memset(c, 0, sizeof(*c));
	if (!fc || H < 1 || K < 1 ||
	    !(c->err = malloc((size_t)H * (size_t)K * sizeof(double)))) {
		free(fc);
		return H < 1 || K < 1 ? 0 : ml_err_nomem(e);
	}
	c->H = H;
	for (k = 0; k < K; k++) {
		struct ml_series sub = *s;
		struct ml_forecaster *f = NULL;
		struct ml_err e2;
		size_t back = (size_t)H + (size_t)k;

		if (back >= s->n)
			break;
		sub.n = s->n - back;
		if (sub.n < ml_fc_method_min_length(m, &sub))
			break;
		ml_err_init(&e2);
		if (ml_fc_fit(&f, m, &sub, p, ctx, &e2) < 0 ||
		    ml_fc_forecast(f, H, NULL, 0, fc, NULL, NULL, &e2) < 0) {
			ml_fc_free(f);
			if (e2.code == ML_E_NOMEM) {
				rc = ml_err_nomem(e);
				break;
			}
			continue;
		}
		ml_fc_free(f);
		for (j = 0; j < H; j++)
			c->err[(size_t)j * (size_t)K + (size_t)c->K] = fabs(s->y[sub.n + (size_t)j] - fc[j]);
		c->K++;
	}
	free(fc);
	if (rc < 0 || c->K < 2) {
		ml_fc_conformal_free(c);
		return rc;
	}
	/* each step's errors sorted, packed K to a step */
	for (j = 0; j < H; j++) {
		memmove(c->err + (size_t)j * (size_t)c->K, c->err + (size_t)j * (size_t)K,
			(size_t)c->K * sizeof(double));
		qsort(c->err + (size_t)j * (size_t)c->K, (size_t)c->K, sizeof(double), ml_cmp_double);
	}
	return 0;
}

/* The half-width at step j (0-based, < H) for a level: the ceil((K + 1) level)-th
 * smallest error of the step (the largest when that is beyond K). */
static double width(const struct ml_fc_conformal *c, int j, double level)
{
	double r = ceil((double)(c->K + 1) * level / 100);
	int i = r < 1 ? 0 : r > c->K ? c->K - 1 : (int)r - 1;

	return c->err[(size_t)j * (size_t)c->K + (size_t)i];
}

int ml_fc_conformal_bounds(const struct ml_fc_conformal *c, const double *mean, int h,
			   const double *level, int nlevel, double *lo, double *hi)
{
	int k, t;

	if (!c->err)
		return -1;
	for (k = 0; k < nlevel; k++) {
		double w = 0;
		for (t = 0; t < h; t++) {
			size_t o = (size_t)k * (size_t)h + (size_t)t;
			double wk;
			if (t < c->H) {
				double wt = width(c, t, level[k]);
				w = wt > w ? wt : w; /* never narrower further ahead */
			}
			/* beyond the steps calibrated, the last width grows as a random walk's */
			wk = t < c->H ? w : w * sqrt((double)(t + 1) / c->H);
			lo[o] = mean[t] - wk;
			hi[o] = mean[t] + wk;
		}
	}
	return 0;
}
