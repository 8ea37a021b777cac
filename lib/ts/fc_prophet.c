/* A Prophet-style model (Taylor and Letham 2018, as the prophet package fits it with
 * MAP): a piecewise-linear trend whose rate changes at potential changepoints spread over
 * the first part of the history under a Laplace prior (an L1 penalty, so most changes are
 * zero), plus Fourier seasonalities under a normal prior, with the series scaled by its
 * largest absolute value and time by the history's length. The MAP is found by coordinate
 * descent on the penalised least squares for a given noise scale, alternated with the
 * noise scale's own MAP under its half-normal prior. Regressors (holidays and events are
 * 0/1 ones) are extra columns under a normal prior, standardised as prophet's
 * add_regressor does by default (all but those whose only values are 0 and 1), their
 * effect added to the trend and seasons (additive). Intervals are quantiles of simulated
 * paths: future changepoints as often as in the history, with Laplace rate changes of the
 * fitted changes' mean size, plus Gaussian noise, from a seeded generator. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "method.h"
#include "core/sort.h"

#define MAX_TERMS 256

struct prophet {
	size_t n;
	double scale;	       /* y / scale is fitted */
	int ncp;	       /* changepoints */
	double cp[64];	       /* their times (history on [0, 1]) */
	int nseas;	       /* seasonal periods */
	double period[ML_FC_MAX_SEASONS];
	int order[ML_FC_MAX_SEASONS];
	int p;		       /* coefficients: m, k, deltas, sin/cos pairs, then regressors */
	int nx;		       /* regressors, the last nx coefficients */
	double xmu[ML_FC_MAX_XREG], xsd[ML_FC_MAX_XREG]; /* their standardisation */
	double beta[MAX_TERMS];
	double sigma;	       /* noise scale (scaled) */
	int samples;
	uint64_t seed;
};

static size_t prophet_min(const struct ml_series *s)
{
	(void)s;
	return 3;
}

/* The default Fourier order of a seasonal period in steps: 3 for weekly ones (7 days,
 * 168 hours, 336 half-hours), 4 for daily ones (24 hours, 48 half-hours, 96 quarters, 288
 * five-minute and 1440 one-minute steps), 10 otherwise (yearly: 4, 12, 52, 365); never
 * more than the period carries. */
static int default_order(int m)
{
	int k = m == 7 || m == 168 || m == 336 ? 3
		: m == 24 || m == 48 || m == 96 || m == 144 || m == 288 || m == 1440 ? 4
											 : 10;
	return k < (m - 1) / 2 ? k : (m - 1) / 2;
}

/* Column j of the design at time t (history on [0, 1]). */
static double column(const struct prophet *f, int j, double t)
{
	int k;

	if (j == 0)
		return 1;
	if (j == 1)
		return t;
	j -= 2;
	if (j < f->ncp)
		return t > f->cp[j] ? t - f->cp[j] : 0;
	j -= f->ncp;
	for (k = 0; k < f->nseas; k++) {
		if (j < 2 * f->order[k]) {
			/* time in steps: t (n - 1) */
			double w = 2 * M_PI * (double)(j / 2 + 1) * t * (double)(f->n - 1) / f->period[k];
			return j % 2 ? cos(w) : sin(w);
		}
		j -= 2 * f->order[k];
	}
	return 0;
}

static double tscale(const struct prophet *f, double i)
{
	return f->n > 1 ? i / (double)(f->n - 1) : 0;
}

/* Regressor k of s at step i, standardised. */
static double xcol(const struct prophet *f, const struct ml_series *s, int k, size_t i)
{
	return (s->x[(size_t)k * s->xlen + i] - f->xmu[k]) / f->xsd[k];
}

/* The regressors' part of the fit at step i (scaled). */
static double xpart(const struct prophet *f, const struct ml_series *s, size_t i)
{
	double v = 0;
	int k;

	for (k = 0; k < f->nx; k++)
		v += f->beta[f->p - f->nx + k] * xcol(f, s, k, i);
	return v;
}

static const struct ml_param prophet_params[] = {
    {"changepoints", ML_P_INT, 25, 0, 60, NULL,
     "potential changepoints of the trend's rate (default 25)"},
    {"changepoint-range", ML_P_REAL, 0.8, 0.05, 1, NULL,
     "the share of the history they spread over (default 0.8)"},
    {"changepoint-prior", ML_P_REAL, 0.05, 1e-6, 100, NULL,
     "the scale of their Laplace prior: larger, a more flexible trend (default 0.05)"},
    {"seasonality-prior", ML_P_REAL, 10, 1e-6, 1000, NULL,
     "the scale of the Fourier terms' normal prior (default 10)"},
    {"regressor-prior", ML_P_REAL, 10, 1e-6, 1000, NULL,
     "the scale of the regressors' normal prior (default 10)"},
    {"fourier-order", ML_P_INT, 0, 0, 50, NULL,
     "Fourier pairs of each season (default 0: 10 yearly, 3 weekly, 4 daily)"},
    {"samples", ML_P_INT, 1000, 10, 100000, NULL,
     "simulated paths behind the intervals (default 1000)"},
    {"seed", ML_P_INT, 1, 0, 2147483647, NULL, "seed of the simulated paths (default 1)"},
    {NULL, ML_P_REAL, 0, 0, 0, NULL, NULL}};

static int prophet_fit(void **state, const struct ml_series *s, const struct ml_params *p,
		       struct ml_ctx *ctx, struct ml_err *e)
{
	struct prophet *f = calloc(1, sizeof(*f));
	size_t n = s->n, i;
	int ncp = (int)ml_param(p, "changepoints"), fo = (int)ml_param(p, "fourier-order");
	double range = ml_param(p, "changepoint-range"), tau = ml_param(p, "changepoint-prior"),
	       sprior = ml_param(p, "seasonality-prior"), xprior = ml_param(p, "regressor-prior");
	double *X, *y, *G, *xy, *c, sigma2, rss, yy;
	size_t P2;
	int j, k, outer, hist;

	(void)ctx;
	if (!f)
		return ml_err_nomem(e);
	f->n = n;
	f->samples = (int)ml_param(p, "samples");
	f->seed = (uint64_t)ml_param(p, "seed");
	for (i = 0; i < n; i++)
		if (fabs(s->y[i]) > f->scale)
			f->scale = fabs(s->y[i]);
	if (!(f->scale > 0))
		f->scale = 1;
	/* changepoints at evenly spaced indexes of the first range of the history */
	hist = (int)floor((double)n * range);
	if (ncp + 1 > hist)
		ncp = hist - 1;
	if (ncp < 0)
		ncp = 0;
	f->ncp = ncp;
	for (j = 1; j <= ncp; j++)
		f->cp[j - 1] = tscale(f, nearbyint((double)(hist - 1) * j / ncp));
	for (k = 0; k < s->nseason; k++) {
		int ord = fo ? fo : default_order(s->season[k]);
		if (ord > (s->season[k] - 1) / 2)
			ord = (s->season[k] - 1) / 2;
		if (ord < 1)
			continue;
		f->period[f->nseas] = s->season[k];
		f->order[f->nseas++] = ord;
	}
	f->p = 2 + ncp;
	for (k = 0; k < f->nseas; k++)
		f->p += 2 * f->order[k];
	f->nx = s->nx;
	f->p += s->nx;
	for (k = 0; k < s->nx; k++) {
		const double *xk = s->x + (size_t)k * s->xlen;
		double mu = 0, v = 0;
		int binary = 1;
		for (i = 0; i < n; i++) {
			mu += xk[i];
			binary &= xk[i] == 0 || xk[i] == 1;
		}
		mu /= (double)n;
		for (i = 0; i < n; i++)
			v += (xk[i] - mu) * (xk[i] - mu);
		v = n > 1 ? sqrt(v / (double)(n - 1)) : 0;
		/* a constant one gets a column of zeros, and no effect */
		f->xmu[k] = binary ? 0 : mu;
		f->xsd[k] = binary || !(v > 0) ? 1 : v;
		if (!binary && !(v > 0))
			f->xmu[k] = xk[0];
	}
	if (f->p > MAX_TERMS) {
		free(f);
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "--model prophet: at most %d trend and seasonal terms", MAX_TERMS);
	}
	/* coordinate descent on the Gram matrix: each update costs p, not n */
	P2 = (size_t)f->p * (size_t)f->p;
	X = malloc(((size_t)f->p + 1) * n * sizeof(double) + (P2 + 2 * (size_t)f->p) * sizeof(double));
	if (!X) {
		free(f);
		return ml_err_nomem(e);
	}
	y = X + (size_t)f->p * n;
	G = y + n;
	xy = G + P2;
	c = xy + f->p;
	for (j = 0; j < f->p - f->nx; j++)
		for (i = 0; i < n; i++)
			X[i + (size_t)j * n] = column(f, j, tscale(f, (double)i));
	for (k = 0; k < f->nx; k++)
		for (i = 0; i < n; i++)
			X[i + (size_t)(f->p - f->nx + k) * n] = xcol(f, s, k, i);
	for (i = 0; i < n; i++)
		y[i] = s->y[i] / f->scale;
	yy = 0;
	for (i = 0; i < n; i++)
		yy += y[i] * y[i];
	for (j = 0; j < f->p; j++) {
		const double *xj = X + (size_t)j * n;
		double sxy = 0;
		for (i = 0; i < n; i++)
			sxy += xj[i] * y[i];
		xy[j] = sxy;
		c[j] = 0;
		for (k = 0; k <= j; k++) {
			const double *xk = X + (size_t)k * n;
			double g = 0;
			for (i = 0; i < n; i++)
				g += xj[i] * xk[i];
			G[j + (size_t)f->p * k] = G[k + (size_t)f->p * j] = g;
		}
	}
	/* start: sigma from the spread of the scaled series */
	{
		double mu = 0, v = 0;
		for (i = 0; i < n; i++)
			mu += y[i];
		mu /= (double)n;
		for (i = 0; i < n; i++)
			v += (y[i] - mu) * (y[i] - mu);
		sigma2 = v / (double)n + 1e-12;
	}
	for (outer = 0; outer < 50; outer++) {
		double s2new;
		int sweep;
		for (sweep = 0; sweep < 20000; sweep++) {
			double change = 0;
			for (j = 0; j < f->p; j++) {
				double b = f->beta[j], gjj = G[j + (size_t)f->p * j], g, nb;
				if (gjj <= 0)
					continue;
				/* x_j' (y - X beta) + x_j' x_j beta_j */
				g = xy[j] - c[j] + gjj * b;
				if (j >= 2 && j < 2 + ncp) {
					double lam = sigma2 / tau;
					nb = g > lam ? (g - lam) / gjj : g < -lam ? (g + lam) / gjj : 0;
				} else {
					double v = j < 2		 ? 25.0 :
						   j >= f->p - f->nx ? xprior * xprior :
								       sprior * sprior;
					nb = g / (gjj + sigma2 / v);
				}
				if (nb != b) {
					double d = nb - b;
					const double *gc = G + (size_t)f->p * j;
					for (k = 0; k < f->p; k++)
						c[k] += d * gc[k];
					f->beta[j] = nb;
					if (fabs(d) * sqrt(gjj) > change)
						change = fabs(d) * sqrt(gjj);
				}
			}
			if (change < 1e-10 * sqrt((double)n))
				break;
		}
		/* RSS = y'y - 2 beta'X'y + beta'G beta, with c = G beta */
		rss = yy;
		for (j = 0; j < f->p; j++)
			rss += f->beta[j] * (c[j] - 2 * xy[j]);
		if (rss < 0)
			rss = 0;
		/* the noise's MAP under its half-normal(0.5) prior: 4 s^4 + n s^2 - RSS = 0 */
		s2new = (-(double)n + sqrt((double)n * (double)n + 16 * rss)) / 8;
		if (!(s2new > 1e-24))
			s2new = 1e-24;
		if (fabs(s2new - sigma2) <= 1e-10 * sigma2) {
			sigma2 = s2new;
			break;
		}
		sigma2 = s2new;
	}
	f->sigma = sqrt(sigma2);
	free(X);
	*state = f;
	return 0;
}

/* The trend and seasons at t (scaled; the regressors are xpart's). */
static double predict(const struct prophet *f, double t)
{
	double v = 0;
	int j;

	for (j = 0; j < f->p - f->nx; j++)
		v += f->beta[j] * column(f, j, t);
	return v;
}

/* splitmix64, and uniform, exponential, normal variates from it */
static uint64_t next_u64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double unif(uint64_t *s)
{
	return ((double)(next_u64(s) >> 11) + 0.5) / 9007199254740992.0;
}

static double gauss(uint64_t *s)
{
	double u = unif(s), v = unif(s);
	return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

/* numpy's default quantile (linear between order statistics) of sorted v[0..n). */
static double quantile(const double *v, int n, double q)
{
	double pos = q * (n - 1);
	int lo = (int)floor(pos);
	if (lo >= n - 1)
		return v[n - 1];
	return v[lo] + (pos - lo) * (v[lo + 1] - v[lo]);
}

static int prophet_forecast(const void *state, const struct ml_series *s, int h,
			    const double *level, int nlevel, double *mean, double *lo,
			    double *hi, struct ml_err *e)
{
	const struct prophet *f = state;
	int t, k, sim, ns = f->samples;
	double lambda = 1e-8, *paths, *col, T = tscale(f, (double)(f->n - 1 + (size_t)h));
	uint64_t rng = f->seed * 0x2545f4914f6cdd1dull + 1;

	for (t = 0; t < h; t++)
		mean[t] = f->scale * (predict(f, tscale(f, (double)(f->n - 1 + (size_t)t + 1))) +
				      xpart(f, s, f->n + (size_t)t));
	if (!nlevel)
		return 0;
	for (k = 0; k < f->ncp; k++)
		lambda += fabs(f->beta[2 + k]) / (f->ncp ? f->ncp : 1);
	paths = malloc((size_t)h * (size_t)ns * sizeof(double) + (size_t)ns * sizeof(double));
	if (!paths)
		return ml_err_nomem(e);
	col = paths + (size_t)h * (size_t)ns;
	for (sim = 0; sim < ns; sim++) {
		/* future changepoints: as many per unit of time as in the history */
		double slope_add = 0, level_add = 0, next;
		/* a Poisson process of intensity ncp per unit time on (1, T]: exponential gaps */
		next = f->ncp > 0 && T > 1 ? 1 - log(unif(&rng)) / f->ncp : INFINITY;
		for (t = 0; t < h; t++) {
			double tt = tscale(f, (double)(f->n - 1 + (size_t)t + 1));
			while (next <= tt) {
				double u = unif(&rng) - 0.5,
				       d = -lambda * (u < 0 ? -1 : 1) * log(1 - 2 * fabs(u));
				/* a rate change d from time next on */
				slope_add += d;
				level_add -= d * next;
				next += -log(unif(&rng)) / f->ncp;
			}
			paths[(size_t)t * (size_t)ns + (size_t)sim] =
			    mean[t] + f->scale * (slope_add * tt + level_add + f->sigma * gauss(&rng));
		}
	}
	for (t = 0; t < h; t++) {
		memcpy(col, paths + (size_t)t * (size_t)ns, (size_t)ns * sizeof(double));
		qsort(col, (size_t)ns, sizeof(double), ml_cmp_double);
		for (k = 0; k < nlevel; k++) {
			double a = (1 - level[k] / 100) / 2;
			lo[(size_t)k * (size_t)h + (size_t)t] = fmin(quantile(col, ns, a), mean[t]);
			hi[(size_t)k * (size_t)h + (size_t)t] = fmax(quantile(col, ns, 1 - a), mean[t]);
		}
	}
	free(paths);
	return 0;
}

static int prophet_fitted(const void *state, const struct ml_series *s, double *out)
{
	const struct prophet *f = state;
	size_t i;

	for (i = 0; i < s->n; i++)
		out[i] = f->scale * (predict(f, tscale(f, (double)i)) + xpart(f, s, i));
	return 0;
}

static double prophet_sigma2(const void *state)
{
	const struct prophet *f = state;
	return f->sigma * f->sigma * f->scale * f->scale;
}

static int prophet_save(const void *state, struct ml_model *m, struct ml_err *e)
{
	const struct prophet *f = state;
	cJSON *meta = ml_model_meta(m), *a;
	int j;

	if (!cJSON_AddNumberToObject(meta, "scale", f->scale) ||
	    !cJSON_AddNumberToObject(meta, "rate", f->beta[1] * f->scale) ||
	    !cJSON_AddNumberToObject(meta, "offset", f->beta[0] * f->scale) ||
	    !(a = cJSON_AddArrayToObject(meta, "changepoints")))
		return ml_err_nomem(e);
	/* the changepoints where the rate changes, as step index and change per step */
	for (j = 0; j < f->ncp; j++)
		if (f->beta[2 + j] != 0) {
			cJSON *o = cJSON_CreateObject();
			int bad = 0;
			ml_json_add(&bad, a, NULL, o);
			if (!bad) {
				ml_json_num(&bad, o, "t", nearbyint(f->cp[j] * (double)(f->n - 1)));
				ml_json_num(&bad, o, "delta",
					    f->beta[2 + j] * f->scale / (double)(f->n > 1 ? f->n - 1 : 1));
			}
			if (bad)
				return ml_err_nomem(e);
		}
	if (!cJSON_AddNumberToObject(meta, "fourier_terms", f->p - 2 - f->ncp - f->nx))
		return ml_err_nomem(e);
	if (f->nx) {
		/* each regressor's effect per unit of its own */
		int bad = 0;
		if (!(a = cJSON_AddArrayToObject(meta, "xreg")))
			return ml_err_nomem(e);
		for (j = 0; j < f->nx; j++)
			ml_json_add(&bad, a, NULL,
				    cJSON_CreateNumber(f->beta[f->p - f->nx + j] * f->scale /
						       f->xsd[j]));
		if (bad)
			return ml_err_nomem(e);
	}
	return 0;
}

static int prophet_load(void **state, const struct ml_model *m, const struct ml_series *s,
			const struct ml_params *p, struct ml_err *e)
{
	(void)m;
	return prophet_fit(state, s, p, NULL, e);
}

const struct ml_fc_method ml_fc_prophet = {
    .name = "prophet",
    .summary = "piecewise-linear trend with sparse changepoints plus Fourier seasons (MAP)",
    .params = prophet_params,
    .xreg = 1,
    .min_length = prophet_min,
    .fit = prophet_fit,
    .forecast = prophet_forecast,
    .fitted = prophet_fitted,
    .sigma2 = prophet_sigma2,
    .save = prophet_save,
    .load = prophet_load,
    .free = free,
};
