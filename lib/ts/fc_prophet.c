/* A Prophet-style model (Taylor and Letham 2018, as the prophet package fits it with
 * MAP): a piecewise-linear trend whose rate changes at potential changepoints spread over
 * the first part of the history under a Laplace prior (an L1 penalty, so most changes are
 * zero), plus Fourier seasonalities under a normal prior, with the series scaled by its
 * largest absolute value and time by the history's length. On a calendar (dates) the
 * model is prophet's own: time in days, the yearly, weekly and daily seasons its rules
 * allow, in days since 1970-01-01; on plain numbers, the series' seasons in steps. The MAP
 * is found for a given noise scale by solving the normal terms exactly and the changes of
 * rate by coordinate descent on what is left, alternated with the noise scale's own MAP
 * under its half-normal prior. Regressors (holidays and events are 0/1 ones) are extra
 * columns under a normal prior, standardised as prophet's add_regressor does by default
 * (all but those whose only values are 0 and 1). Seasons and regressors are added to the
 * trend, or (mode multiplicative) multiply it, y = T (1 + M), fitted by block coordinate
 * ascent between the trend's terms and the multipliers'. Intervals are quantiles of simulated paths: future changepoints as
 * often as in the history, with Laplace rate changes of the fitted changes' mean size,
 * plus Gaussian noise, from a seeded generator. */
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
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
	int cpi[64];	       /* and steps */
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
	double logpost;	       /* the log posterior at the fit */
	int mult;	       /* seasons and regressors multiply the trend */
	int cal;	       /* with a calendar: time and periods in days, as prophet's */
	double day0, span;     /* then the first step's day and the history's days */
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

/* Column j of the design at time t (history on [0, 1]) and u, the time the seasons read:
 * steps from the first, or with a calendar days since 1970-01-01 (prophet's origin). */
static double column(const struct prophet *f, int j, double t, double u)
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
			double w = 2 * M_PI * (double)(j / 2 + 1) * u / f->period[k];
			return j % 2 ? cos(w) : sin(w);
		}
		j -= 2 * f->order[k];
	}
	return 0;
}

/* The seasons' time u of step i (which may be in the future). */
static double utime(const struct prophet *f, const struct ml_series *s, long i)
{
	return f->cal ? ml_fc_step_day(s, i) : (double)i;
}

/* The trend's time of step i: the history on [0, 1]. */
static double tscale(const struct prophet *f, const struct ml_series *s, long i)
{
	if (f->cal)
		return f->span > 0 ? (ml_fc_step_day(s, i) - f->day0) / f->span : 0;
	return f->n > 1 ? (double)i / (double)(f->n - 1) : 0;
}

/* prophet's seasonalities with a calendar: yearly (365.25 days, 10 pairs) once the history
 * spans two years, weekly (3 pairs) once it spans two weeks at steps under a week, daily
 * (4 pairs) once it spans two days at steps under a day. */
static void calendar_seasons(struct prophet *f, const struct ml_series *s, int fo)
{
	double mindt = INFINITY;
	size_t i;

	for (i = 1; i < s->n; i++) {
		double d = ml_fc_step_day(s, (long)i) - ml_fc_step_day(s, (long)i - 1);
		if (d < mindt)
			mindt = d;
	}
	if (f->span >= 730) {
		f->period[f->nseas] = 365.25;
		f->order[f->nseas++] = fo ? fo : 10;
	}
	if (f->span >= 14 && mindt < 7) {
		f->period[f->nseas] = 7;
		f->order[f->nseas++] = fo ? fo : 3;
	}
	if (f->span >= 2 && mindt < 1) {
		f->period[f->nseas] = 1;
		f->order[f->nseas++] = fo ? fo : 4;
	}
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

/* The MAP of the coefficients for a noise variance s2: minimise RSS/2 + s2/tau sum |delta|
 * + s2 sum beta_j^2 / (2 prior_j) on the Gram matrix G (p x p) and X'y. The normal terms
 * are solved exactly for given changes of rate (a Cholesky factor of G's block plus their
 * penalties), so the changes alone are left to coordinate descent, on the Gram matrix of
 * what the normal terms cannot explain: the seasons' columns, nearly collinear with the
 * trend when a season has few steps (a yearly one on quarterly data), no longer slow it.
 * p terms, the changes of rate nd of them from index 2 on (or none), in beta, where the
 * changes start from (the previous noise variance's). wk holds 2p^2 + 2p. */
static int map_given_sigma(int p, int nd, double *beta, const double *G, const double *xy,
			   double s2, const double *prior, double tau, double tol, double *wk)
{
	int nr = p - nd, r, q, j, k, sweep;
	lapack_int info;
	double *A = wk, *B = A + (size_t)nr * nr, *Gd = B + (size_t)nr * (nd + 1), jit,
	       *bd = Gd + (size_t)nd * nd, *cd = bd + nd, lam = s2 / tau;
	int ri[MAX_TERMS];

	/* the normal terms: every index but the changes of rate 2 .. 2 + nd - 1 */
	for (r = 0, j = 0; j < p; j++)
		if (j < 2 || j >= 2 + nd)
			ri[r++] = j;
	for (r = 0; r < nr; r++) {
		for (q = 0; q < nr; q++)
			A[r + (size_t)nr * q] = G[ri[r] + (size_t)p * ri[q]];
		A[r + (size_t)nr * r] += s2 / prior[ri[r]];
		/* B = [G_RD, X_R'y] */
		for (k = 0; k < nd; k++)
			B[r + (size_t)nr * k] = G[ri[r] + (size_t)p * (2 + k)];
		B[r + (size_t)nr * nd] = xy[ri[r]];
	}
	/* more terms than values fit the series exactly, and s2 then falls towards 0 with
	 * the penalties: the columns' collinearity gets the smallest jitter that factors */
	for (j = 0, jit = 0; j < nr; j++)
		jit += A[j + (size_t)nr * j];
	jit *= 1e-15 / nr;
	memcpy(B + (size_t)nr * (nd + 1), A, (size_t)nr * nr * sizeof(double));
	for (k = 0; (info = LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', nr, A, nr)) != 0 && k < 12; k++) {
		memcpy(A, B + (size_t)nr * (nd + 1), (size_t)nr * nr * sizeof(double));
		for (j = 0; j < nr; j++)
			A[j + (size_t)nr * j] += jit;
		jit *= 10;
	}
	if (info == 0)
		info = LAPACKE_dpotrs(LAPACK_COL_MAJOR, 'L', nr, nd + 1, A, nr, B, nr);
	if (info != 0)
		return -1;
	/* what is left for the changes: Gd = G_DD - G_DR B, bd = X_D'y - G_DR z */
	for (j = 0; j < nd; j++) {
		for (k = 0; k <= nd; k++) {
			double v = k < nd ? G[(2 + j) + (size_t)p * (2 + k)] : xy[2 + j];
			for (r = 0; r < nr; r++)
				v -= G[(2 + j) + (size_t)p * ri[r]] * B[r + (size_t)nr * k];
			if (k < nd)
				Gd[j + (size_t)nd * k] = v;
			else
				bd[j] = v;
		}
	}
	for (j = 0; j < nd; j++) {
		cd[j] = 0;
		for (k = 0; k < nd; k++)
			cd[j] += Gd[j + (size_t)nd * k] * beta[2 + k];
	}
	for (sweep = 0; nd && sweep < 10000; sweep++) {
		double change = 0;
		for (j = 0; j < nd; j++) {
			double b = beta[2 + j], gjj = Gd[j + (size_t)nd * j], g, nb;
			/* a change the normal terms explain whole has no effect of its own */
			if (!(gjj > 1e-12 * G[(2 + j) + (size_t)p * (2 + j)])) {
				nb = 0;
				gjj = 0;
			} else {
				g = bd[j] - cd[j] + gjj * b;
				nb = g > lam ? (g - lam) / gjj : g < -lam ? (g + lam) / gjj : 0;
			}
			if (nb != b) {
				double d = nb - b;
				const double *gc = Gd + (size_t)nd * j;
				for (k = 0; k < nd; k++)
					cd[k] += d * gc[k];
				beta[2 + j] = nb;
				if (fabs(d) * sqrt(gjj) > change)
					change = fabs(d) * sqrt(gjj);
			}
		}
		if (change < 1e-10 * tol)
			break;
	}
	/* the normal terms given the changes: z - B_D delta */
	for (r = 0; r < nr; r++) {
		double v = B[r + (size_t)nr * nd];
		for (k = 0; k < nd; k++)
			v -= B[r + (size_t)nr * k] * beta[2 + k];
		beta[ri[r]] = v;
	}
	return 0;
}

/* prophet's log posterior (its Stan model's target, without constants) for the residual
 * sum of squares rss of n values, noise variance s2, Laplace scale tau and the terms'
 * prior variances (0: the changes of rate, Laplace). */
static double log_post(const struct prophet *f, size_t n, double rss, double s2,
		       const double *prior, double tau)
{
	double lp = -(double)n * log(sqrt(s2)) - fmax(rss, 0) / (2 * s2) - 2 * s2;
	int j;

	for (j = 0; j < f->p; j++)
		lp -= prior[j] > 0 ? f->beta[j] * f->beta[j] / (2 * prior[j]) : fabs(f->beta[j]) / tau;
	return lp;
}

/* The noise variance's MAP for a residual sum of squares rss of n values, under its
 * half-normal(0.5) prior: the root of 4 s^4 + n s^2 - RSS = 0, at least 1e-18. */
static double noise_map(size_t n, double rss)
{
	double s2 = (-(double)n + sqrt((double)n * (double)n + 16 * fmax(rss, 0))) / 8;
	return s2 > 1e-18 ? s2 : 1e-18;
}

/* The Gram matrix and X'r of the columns X[, j0 .. j0 + m) (n rows each) times w. */
static void weighted_gram(const double *X, size_t n, int j0, int m, const double *w,
			  const double *r, double *G, double *xr)
{
	int j, k;
	size_t i;

	for (j = 0; j < m; j++) {
		const double *xj = X + (size_t)(j0 + j) * n;
		double v = 0;
		for (i = 0; i < n; i++)
			v += xj[i] * w[i] * r[i];
		xr[j] = v;
		for (k = 0; k <= j; k++) {
			const double *xk = X + (size_t)(j0 + k) * n;
			double g = 0;
			for (i = 0; i < n; i++)
				g += xj[i] * xk[i] * w[i] * w[i];
			G[j + (size_t)m * k] = G[k + (size_t)m * j] = g;
		}
	}
}

/* Multiplicative seasons, y = T (1 + M): T the trend's terms, M the seasons' and
 * regressors'. Block coordinate ascent on the log posterior: the trend's terms given M
 * (their columns times 1 + M), M's terms given the trend (their columns times T, fitting
 * y - T), the noise given both, until the log posterior stops rising. *s2 is the noise
 * variance, in and out; the log posterior goes to f->logpost. */
static int fit_mult(struct prophet *f, const double *X, const double *y, size_t n,
		    const double *prior, double tau, double *s2, double *wk)
{
	int p = f->p, pt = 2 + f->ncp, ps = p - pt, j, it, rc = 0;
	size_t i;
	double *T = malloc((4 * n + (size_t)p * (size_t)p + (size_t)p) * sizeof(double));
	double *M, *w, *r, *Gw, *xw, prev = -INFINITY, tol = sqrt((double)n);

	if (!T)
		return -2;
	M = T + n;
	w = M + n;
	r = w + n;
	Gw = r + n;
	xw = Gw + (size_t)p * (size_t)p;
	for (i = 0; i < n; i++)
		M[i] = 0;
	for (it = 0; it < 2000; it++) {
		double rss = 0, lp;
		for (i = 0; i < n; i++)
			w[i] = 1 + M[i];
		weighted_gram(X, n, 0, pt, w, y, Gw, xw);
		if (map_given_sigma(pt, f->ncp, f->beta, Gw, xw, *s2, prior, tau, tol, wk) < 0) {
			rc = -1;
			break;
		}
		for (i = 0; i < n; i++) {
			T[i] = 0;
			for (j = 0; j < pt; j++)
				T[i] += f->beta[j] * X[i + (size_t)j * n];
			r[i] = y[i] - T[i];
		}
		if (ps) {
			weighted_gram(X, n, pt, ps, T, r, Gw, xw);
			if (map_given_sigma(ps, 0, f->beta + pt, Gw, xw, *s2, prior + pt, tau, tol,
					    wk) < 0) {
				rc = -1;
				break;
			}
		}
		for (i = 0; i < n; i++) {
			double d;
			M[i] = 0;
			for (j = pt; j < p; j++)
				M[i] += f->beta[j] * X[i + (size_t)j * n];
			d = y[i] - T[i] * (1 + M[i]);
			rss += d * d;
		}
		*s2 = noise_map(n, rss);
		lp = log_post(f, n, rss, *s2, prior, tau);
		f->logpost = lp;
		if (it > 1 && lp - prev <= 1e-13 * fabs(lp))
			break;
		prev = lp;
	}
	free(T);
	return rc < 0 || !isfinite(f->logpost) ? -1 : 0;
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
    {"mode", ML_P_ENUM, 0, 0, 0, "additive,multiplicative",
     "seasons and regressors added to the trend, or multiplying it: y = trend (1 + s(t))"},
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
	double *X, *y, *G, *xy, *c, *prior, *wk, sigma2, rss, yy;
	size_t P2;
	int j, k, outer, hist;

	(void)ctx;
	if (!f)
		return ml_err_nomem(e);
	f->n = n;
	f->samples = (int)ml_param(p, "samples");
	f->seed = (uint64_t)ml_param(p, "seed");
	f->mult = (int)ml_param(p, "mode") == 1;
	for (i = 0; i < n; i++)
		if (fabs(s->y[i]) > f->scale)
			f->scale = fabs(s->y[i]);
	if (!(f->scale > 0))
		f->scale = 1;
	if (s->cal.kind) {
		f->cal = 1;
		f->day0 = ml_fc_step_day(s, 0);
		f->span = ml_fc_step_day(s, (long)n - 1) - f->day0;
	}
	/* changepoints at evenly spaced indexes of the first range of the history */
	hist = (int)floor((double)n * range);
	if (ncp + 1 > hist)
		ncp = hist - 1;
	if (ncp < 0)
		ncp = 0;
	f->ncp = ncp;
	for (j = 1; j <= ncp; j++) {
		f->cpi[j - 1] = (int)nearbyint((double)(hist - 1) * j / ncp);
		f->cp[j - 1] = tscale(f, s, f->cpi[j - 1]);
	}
	if (f->cal)
		calendar_seasons(f, s, fo);
	for (k = 0; !f->cal && k < s->nseason; k++) {
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
	/* the fit works on the Gram matrix and X'y: each step costs p^2 or p^3, not n */
	P2 = (size_t)f->p * (size_t)f->p;
	X = malloc(((size_t)f->p + 1) * n * sizeof(double) +
		   (3 * P2 + 5 * (size_t)f->p) * sizeof(double));
	if (!X) {
		free(f);
		return ml_err_nomem(e);
	}
	y = X + (size_t)f->p * n;
	G = y + n;
	xy = G + P2;
	c = xy + f->p;
	prior = c + f->p;
	wk = prior + f->p;
	for (j = 0; j < f->p - f->nx; j++)
		for (i = 0; i < n; i++)
			X[i + (size_t)j * n] =
				column(f, j, tscale(f, s, (long)i), utime(f, s, (long)i));
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
	/* each term's prior variance (0 for the changes of rate, whose prior is Laplace) */
	for (j = 0; j < f->p; j++)
		prior[j] = j < 2 ? 25.0 : j < 2 + ncp ? 0 : j >= f->p - f->nx ? xprior * xprior :
										    sprior * sprior;
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
	/* a constant series: its level and nothing else, with prophet's noise of 1e-9 (where
	 * more terms than values would otherwise fit it with any changes of rate at all) */
	for (i = 1; i < n && y[i] == y[0]; i++)
		;
	if (i == n) {
		f->beta[0] = y[0];
		for (j = 0; j < f->p; j++)
			c[j] = G[j] * y[0];
		sigma2 = 1e-18;
	} else if (f->mult) {
		int rc = fit_mult(f, X, y, n, prior, tau, &sigma2, wk);
		free(X);
		if (rc < 0) {
			free(f);
			return rc == -2 ? ml_err_nomem(e) :
			       ml_err_set(e, ML_E_DATA, NULL, 0, 0, "--model prophet: the "
					  "multiplicative fit's least squares are singular");
		}
		f->sigma = sqrt(sigma2);
		*state = f;
		return 0;
	}
	for (outer = 0; i < n && outer < 50; outer++) {
		double s2new;
		if (map_given_sigma(f->p, f->ncp, f->beta, G, xy, sigma2, prior, tau, sqrt((double)n),
				    wk) < 0) {
			free(X);
			free(f);
			return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "--model prophet: the "
					  "penalised least squares are singular");
		}
		for (j = 0; j < f->p; j++) {
			c[j] = 0;
			for (k = 0; k < f->p; k++)
				c[j] += G[j + (size_t)f->p * k] * f->beta[k];
		}
		/* RSS = y'y - 2 beta'X'y + beta'G beta, with c = G beta */
		rss = yy;
		for (j = 0; j < f->p; j++)
			rss += f->beta[j] * (c[j] - 2 * xy[j]);
		s2new = noise_map(n, rss);
		if (fabs(s2new - sigma2) <= 1e-10 * sigma2) {
			sigma2 = s2new;
			break;
		}
		sigma2 = s2new;
	}
	f->sigma = sqrt(sigma2);
	/* the log posterior at the MAP, as prophet's Stan model states it (no constants) */
	rss = yy;
	for (j = 0; j < f->p; j++)
		rss += f->beta[j] * (c[j] - 2 * xy[j]);
	f->logpost = log_post(f, n, rss, sigma2, prior, tau);
	free(X);
	*state = f;
	return 0;
}

/* The fit at step i (scaled): the trend plus the seasons and regressors, or times one plus
 * them when multiplicative; *mul (when not NULL) gets what the trend is multiplied by. */
static double predict(const struct prophet *f, const struct ml_series *s, long i, double *mul)
{
	double tr = 0, rest, t = tscale(f, s, i), u = utime(f, s, i);
	int j;

	for (j = 0; j < 2 + f->ncp; j++)
		tr += f->beta[j] * column(f, j, t, u);
	rest = xpart(f, s, (size_t)i);
	for (; j < f->p - f->nx; j++)
		rest += f->beta[j] * column(f, j, t, u);
	if (mul)
		*mul = f->mult ? 1 + rest : 1;
	return f->mult ? tr * (1 + rest) : tr + rest;
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
	double lambda = 1e-8, *paths, *col, *mul, T = tscale(f, s, (long)f->n - 1 + h);
	uint64_t rng = f->seed * 0x2545f4914f6cdd1dull + 1;

	for (t = 0; t < h; t++)
		mean[t] = f->scale * predict(f, s, (long)f->n + t, NULL);
	if (!nlevel)
		return 0;
	for (k = 0; k < f->ncp; k++)
		lambda += fabs(f->beta[2 + k]) / (f->ncp ? f->ncp : 1);
	paths = malloc((size_t)h * (size_t)ns * sizeof(double) + ((size_t)ns + (size_t)h) * sizeof(double));
	if (!paths)
		return ml_err_nomem(e);
	col = paths + (size_t)h * (size_t)ns;
	mul = col + ns;
	for (t = 0; t < h; t++)
		predict(f, s, (long)f->n + t, &mul[t]);
	for (sim = 0; sim < ns; sim++) {
		/* future changepoints: as many per unit of time as in the history */
		double slope_add = 0, level_add = 0, next;
		/* a Poisson process of intensity ncp per unit time on (1, T]: exponential gaps */
		next = f->ncp > 0 && T > 1 ? 1 - log(unif(&rng)) / f->ncp : INFINITY;
		for (t = 0; t < h; t++) {
			double tt = tscale(f, s, (long)f->n + t);
			while (next <= tt) {
				double u = unif(&rng) - 0.5,
				       d = -lambda * (u < 0 ? -1 : 1) * log(1 - 2 * fabs(u));
				/* a rate change d from time next on */
				slope_add += d;
				level_add -= d * next;
				next += -log(unif(&rng)) / f->ncp;
			}
			paths[(size_t)t * (size_t)ns + (size_t)sim] =
			    mean[t] + f->scale * ((slope_add * tt + level_add) * mul[t] +
						  f->sigma * gauss(&rng));
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
		out[i] = f->scale * predict(f, s, (long)i, NULL);
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
				ml_json_num(&bad, o, "t", f->cpi[j]);
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

static void prophet_describe(const void *state, char *buf, size_t size)
{
	const struct prophet *f = state;
	int j, active = 0;

	for (j = 0; j < f->ncp; j++)
		active += f->beta[2 + j] != 0;
	snprintf(buf, size, "prophet%s, %d of %d changepoints active",
		 f->mult ? " (multiplicative)" : "", active, f->ncp);
	for (j = 0; j < f->nseas; j++) {
		const char *what = !f->cal ? NULL : f->period[j] == 365.25 ? "yearly" :
						f->period[j] == 7 ? "weekly" : "daily";
		ml_fc_appendf(buf, size, "%s ", j ? "," : ";");
		if (what)
			ml_fc_appendf(buf, size, "%s", what);
		else
			ml_fc_appendf(buf, size, "period %g", f->period[j]);
		ml_fc_appendf(buf, size, " season (%d pairs)", f->order[j]);
	}
	if (f->nx)
		ml_fc_appendf(buf, size, "; %d regressor%s", f->nx, f->nx == 1 ? "" : "s");
	ml_fc_appendf(buf, size, "; log posterior %.6f at the MAP", f->logpost);
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
    .describe = prophet_describe,
};
