/* Seasonal ARIMA with automatic orders, as R's forecast::auto.arima (8.20): the seasonal
 * difference from the STL seasonal strength, the others from repeated KPSS tests, then
 * the stepwise search on AICc from the same starting models and moves, with conditional
 * sums of squares standing in for the likelihood while searching long or finely seasonal
 * series and the best models refitted by maximum likelihood. --order and
 * --seasonal-order fix the orders (R's Arima). Long seasons (periods above 24, or more
 * than one period) are modelled as regression on Fourier terms with ARIMA errors, the
 * number of terms of each period chosen by AICc of the least-squares fit. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arima.h"
#include "method.h"
#include "ml/stats.h"

#define MAX_SEASON 24  /* longer periods go to Fourier terms */
#define MAX_FOURIER 10 /* pairs per period at most */
#define NMODELS 94

enum { TERM_AUTO, TERM_ON, TERM_OFF };
enum { IC_AICC, IC_AIC, IC_BIC };
enum { REFIT_ON, REFIT_OFF, REFIT_AUTO };

struct arima_state {
	struct arima_fit fit;
	double sigma2;	      /* what the intervals use */
	double aic, aicc, bic;
	char note[200];	      /* how the model was chosen when it was not the plain way */
	int nrefit, nskip;    /* the approximate search: candidates refitted by likelihood,
			       * and passed over by screen */
};

static size_t arima_min(const struct ml_series *s)
{
	(void)s;
	return 3;
}

/* Criteria as forecast's myarima computes them (npar counts sigma2). */
static void criteria(struct arima_fit *f, size_t nstar, double offset, double *aic,
		     double *aicc, double *bic)
{
	double npar = f->narma + f->ncx + 1, ns = (double)nstar;

	*aic = f->method == ARIMA_CSS ? offset + ns * log(f->sigma2) + 2 * npar : f->aic;
	*bic = *aic + npar * (log(ns) - 2);
	*aicc = *aic + 2 * npar * (npar + 1) / (ns - npar - 1);
}

/* The residual variance forecast's Arima and auto.arima give their intervals: the
 * residuals' sum of squares over nstar - npar + 1, npar counting the free coefficients
 * and sigma2. */
static double arima_sigma2_adj(const struct arima_fit *f, int nfree)
{
	size_t nstar = f->n - (size_t)(f->s.d + f->s.D * f->s.m), t;
	double ss = 0;

	for (t = 0; t < f->n; t++)
		ss += f->resid[t] * f->resid[t];
	return ss / ((double)nstar - nfree);
}

/* The search. */
struct search {
	const double *y;
	size_t n;
	int d, D, m, ic, approx;
	int max_p, max_q, max_P, max_Q;
	double offset;
	struct arima_spec base; /* Fourier terms */
	int k;			/* models tried */
	int res[NMODELS + 1][5];
	double resic[NMODELS + 1];
	struct arima_fit best;
	double best_ic, best_aic, best_aicc, best_bic, best_sigma2;
};

/* The criterion of one model (INFINITY when it fails a check). The coefficients'
 * variance, whose diagonal must be finite, is computed only where the criterion is below
 * thresh: a model that cannot be the best so far needs none (the approximate search
 * orders every model by its criterion, so it has them all). */
static double model_ic(struct search *S, int p, int q, int P, int Q, int constant, int approx,
		       double thresh, struct arima_fit *f, double *aic, double *aicc, double *bic,
		       double *sigma2)
{
	struct arima_spec sp = S->base;
	size_t nstar = S->n - (size_t)S->d - (size_t)(S->D * S->m);
	int diffs = S->d + S->D;
	double ic, mr;

	sp.p = p;
	sp.q = q;
	sp.P = P;
	sp.Q = Q;
	sp.d = S->d;
	sp.D = S->D;
	sp.m = S->m;
	sp.drift = diffs == 1 && constant;
	sp.mean = diffs != 1 && constant;
	if (arima_fit_defer(f, S->y, S->n, &sp, approx ? ARIMA_CSS : ARIMA_CSS_ML, NULL,
			    approx ? ARIMA_NO_STATE : ARIMA_DEFER_VAR) < 0)
		return INFINITY;
	criteria(f, nstar, S->offset, aic, aicc, bic);
	ic = S->ic == IC_AICC ? *aicc : S->ic == IC_AIC ? *aic : *bic;
	if (isnan(*aic))
		ic = INFINITY;
	*sigma2 = arima_sigma2_adj(f, f->narma + f->ncx);
	if (p + P > 0) {
		mr = arima_minroot(f->phi, f->np, -1);
		if (mr < 0)
			ic = INFINITY;
		else if (mr < 1.01)
			ic = INFINITY;
	}
	if (q + Q > 0 && ic < INFINITY) {
		mr = arima_minroot(f->theta, f->nq, 1);
		if (mr < 0 || mr < 1.01)
			ic = INFINITY;
	}
	if (ic < thresh && arima_fit_var(f, S->y) < 0) {
		arima_fit_release(f);
		*aic = *aicc = *bic = *sigma2 = NAN;
		return INFINITY;
	}
	if (!f->var_ok)
		ic = INFINITY;
	return ic;
}

/* Whether the orders r (p, q, P, Q) hold one of held[0..n) (each order at least as
 * large). */
static int nests(const int *const *held, int n, const int *r)
{
	int i;

	for (i = 0; i < n; i++)
		if (r[0] >= held[i][0] && r[1] >= held[i][1] && r[2] >= held[i][2] &&
		    r[3] >= held[i][3])
			return 1;
	return 0;
}

static int new_model(const struct search *S, int p, int q, int P, int Q, int c)
{
	int i;
	for (i = 0; i < S->k; i++)
		if (S->res[i][0] == p && S->res[i][1] == q && S->res[i][2] == P &&
		    S->res[i][3] == Q && S->res[i][4] == c)
			return 0;
	return 1;
}

/* Fit and record one model; 1 when it is the best so far. */
static int try_model(struct search *S, int p, int q, int P, int Q, int c)
{
	struct arima_fit f;
	double aic = NAN, aicc = NAN, bic = NAN, s2 = NAN,
	       ic = model_ic(S, p, q, P, Q, c, S->approx,
			     S->approx || S->k == 0 ? INFINITY : S->best_ic, &f, &aic, &aicc, &bic,
			     &s2);

	if (S->k < NMODELS) {
		S->res[S->k][0] = p;
		S->res[S->k][1] = q;
		S->res[S->k][2] = P;
		S->res[S->k][3] = Q;
		S->res[S->k][4] = c;
		S->resic[S->k] = ic;
	}
	S->k++;
	if (ic < S->best_ic || (S->k == 1)) {
		arima_fit_release(&S->best);
		S->best = f;
		S->best_ic = ic;
		S->best_aic = aic;
		S->best_aicc = aicc;
		S->best_bic = bic;
		S->best_sigma2 = s2;
		return S->k > 1;
	}
	arima_fit_release(&f);
	return 0;
}

static void stepwise(struct search *S, int p, int q, int P, int Q, int constant, int allow_c)
{
	int startk = 0;

	while (startk < S->k && S->k < NMODELS) {
		/* the moves, in auto.arima's order: seasonal first, then non-seasonal */
		static const int moves[16][4] = {
		    {0, 0, -1, 0}, {0, 0, 0, -1}, {0, 0, 1, 0},	 {0, 0, 0, 1},
		    {0, 0, -1, -1}, {0, 0, -1, 1}, {0, 0, 1, -1}, {0, 0, 1, 1},
		    {-1, 0, 0, 0}, {0, -1, 0, 0}, {1, 0, 0, 0},	 {0, 1, 0, 0},
		    {-1, -1, 0, 0}, {-1, 1, 0, 0}, {1, -1, 0, 0}, {1, 1, 0, 0}};
		int i, moved = 0;

		startk = S->k;
		for (i = 0; i < 16 && !moved; i++) {
			int np = p + moves[i][0], nq = q + moves[i][1], nP = P + moves[i][2],
			    nQ = Q + moves[i][3];
			if (np < 0 || nq < 0 || nP < 0 || nQ < 0 || np > S->max_p || nq > S->max_q ||
			    nP > S->max_P || nQ > S->max_Q)
				continue;
			if (!new_model(S, np, nq, nP, nQ, constant))
				continue;
			if (S->k >= NMODELS) {
				S->k++;
				break;
			}
			if (try_model(S, np, nq, nP, nQ, constant)) {
				p = np;
				q = nq;
				P = nP;
				Q = nQ;
				moved = 1;
			}
		}
		if (moved || S->k > NMODELS)
			continue;
		if (allow_c && new_model(S, p, q, P, Q, !constant)) {
			if (S->k >= NMODELS) {
				S->k++;
				continue;
			}
			if (try_model(S, p, q, P, Q, !constant))
				constant = !constant;
		}
	}
}

static void diff_lag(double *x, size_t *n, size_t lag)
{
	size_t t;
	for (t = 0; t + lag < *n; t++)
		x[t] = x[t + lag] - x[t];
	*n = *n > lag ? *n - lag : 0;
}

static void set_note(struct arima_state *st, const char *msg)
{
	snprintf(st->note, sizeof(st->note), "%s", msg);
}

/* A fit with every coefficient given (R's Arima(fixed = ...)), for the degenerate cases. */
static int fit_fixed(struct arima_state *st, const double *y, size_t n,
		     const struct arima_spec *sp, const double *fixed)
{
	if (arima_fit(&st->fit, y, n, sp, ARIMA_ML, fixed) < 0)
		return -1;
	st->sigma2 = arima_sigma2_adj(&st->fit, 0);
	return 0;
}

/* The residuals of y on an intercept and the regressors of sp (lm(x ~ xreg)), or a copy
 * of y without any. */
static int regress_out(const double *y, size_t n, const struct arima_spec *sp, double *out)
{
	struct arima_spec lin = *sp;
	struct arima_fit f;

	memcpy(out, y, n * sizeof(double));
	if (!lin.nfourier && !lin.next)
		return 0;
	lin.p = lin.q = lin.P = lin.Q = lin.d = lin.D = 0;
	lin.m = 1;
	lin.mean = 1;
	lin.drift = 0;
	/* white noise with the regressors by CSS is least squares */
	if (arima_fit_defer(&f, y, n, &lin, ARIMA_CSS, NULL, ARIMA_NO_STATE) < 0)
		return -1;
	memcpy(out, f.resid, n * sizeof(double));
	arima_fit_release(&f);
	return 0;
}

/* Whether an external regressor of sp is constant once differenced D times at lag m and
 * then d times at lag 1 (R's is.constant on diff(xreg)); -1 when out of memory. */
static int xreg_flat(const struct arima_spec *sp, size_t n, int D, size_t m, int d, size_t dl)
{
	double *w = ts_malloc((n ? n : 1) * sizeof(double));
	int j, i, flat = 0;

	if (!w)
		return -1;
	for (j = 0; j < sp->next && !flat; j++) {
		size_t len = n;
		memcpy(w, sp->xext + (size_t)sp->xidx[j] * sp->xld, n * sizeof(double));
		for (i = 0; i < D; i++)
			diff_lag(w, &len, m);
		for (i = 0; i < d; i++)
			diff_lag(w, &len, dl);
		flat = ts_is_constant(w, len);
	}
	free(w);
	return flat;
}

static int auto_arima(struct arima_state *st, const double *y, size_t n, int m,
		      const struct arima_spec *base, int ic, int approx, int refit, int screen,
		      int allow_mean, int allow_drift, int fix_d, int fix_D)
{
	struct search S;
	int d, D = 0, p, q, P, Q, constant, i;
	size_t len;
	double *dx = ts_malloc(n * sizeof(double));
	int rc = -1, has_x = base->nfourier > 0 || base->next > 0;

	if (!dx)
		return -1;
	memset(&S, 0, sizeof(S));
	S.y = y;
	S.n = n;
	S.base = *base;
	S.max_p = S.max_q = (int)(n / 3) < 5 ? (int)(n / 3) : 5;
	if (m <= 1) {
		m = 1;
		S.max_P = S.max_Q = 0;
	} else
		S.max_P = S.max_Q = (int)((double)n / 3 / m) < 2 ? (int)((double)n / 3 / m) : 2;
	if (n <= 3)
		ic = IC_AIC;
	if (ts_is_constant(y, n)) {
		struct arima_spec sp = {0};
		double mu = 0;
		size_t t;
		for (t = 0; t < n; t++)
			mu += y[t];
		sp.m = 1;
		sp.mean = 1;
		mu /= (double)n;
		set_note(st, "constant series: its mean");
		rc = fit_fixed(st, y, n, &sp, &mu);
		free(dx);
		return rc;
	}
	if (regress_out(y, n, base, dx) < 0)
		goto done;
	/* seasonal differences */
	if (m == 1)
		D = 0;
	else if (fix_D >= 0)
		D = fix_D;
	else if (n <= 2 * (size_t)m)
		D = 0;
	else
		D = arima_nsdiffs(dx, n, m);
	/* a regressor left constant by the seasonal difference takes it back (auto.arima) */
	if (D > 0 && base->next && xreg_flat(base, n, D, (size_t)m, 0, 0) > 0)
		D--;
	len = n;
	for (i = 0; i < D; i++)
		diff_lag(dx, &len, (size_t)m);
	if (fix_d >= 0)
		d = fix_d;
	else {
		d = arima_ndiffs(dx, len, 2);
		if (d > 0 && len <= (size_t)d)
			d--;
		if (d > 0 && base->next && xreg_flat(base, n, D, (size_t)m, d, 1) > 0)
			d--;
	}
	for (i = 0; i < d; i++)
		diff_lag(dx, &len, 1);
	S.d = d;
	S.D = D;
	S.m = m;
	S.ic = ic;
	if (len == 0)
		goto done;
	if (ts_is_constant(dx, len)) {
		struct arima_spec sp = *base;
		double fx[2 * 4 * MAX_FOURIER + 2];
		sp.d = d;
		sp.D = D;
		sp.m = m;
		set_note(st, "the differenced series is constant: no ARMA terms");
		if (!has_x && D > 0 && d == 0) {
			double mu = 0;
			for (size_t t = 0; t < len; t++)
				mu += dx[t] / m;
			fx[0] = mu / (double)len;
			sp.drift = 1;
			rc = fit_fixed(st, y, n, &sp, fx);
		} else if (!has_x && d < 2 && D == 0) {
			double mu = 0;
			for (size_t t = 0; t < len; t++)
				mu += dx[t];
			fx[0] = mu / (double)len;
			sp.mean = d == 0;
			sp.drift = d == 1;
			rc = fit_fixed(st, y, n, &sp, fx);
		} else {
			rc = arima_fit(&st->fit, y, n, &sp, ARIMA_CSS_ML, NULL);
			if (rc == 0)
				st->sigma2 = arima_sigma2_adj(&st->fit, st->fit.narma + st->fit.ncx);
		}
		goto done;
	}
	if (m > 1) {
		if (S.max_P > 0 && S.max_p > m - 1)
			S.max_p = m - 1;
		if (S.max_Q > 0 && S.max_q > m - 1)
			S.max_q = m - 1;
	}
	S.approx = approx == TERM_ON ||
		   (approx == TERM_AUTO && (n > 150 || m > 12 || base->nfourier > 0));
	S.offset = 0;
	if (S.approx) {
		struct arima_fit f;
		struct arima_spec sp = *base;
		sp.d = d;
		sp.D = D;
		sp.m = m;
		sp.mean = 1;
		if (arima_fit(&f, y, n, &sp, ARIMA_CSS_ML, NULL) == 0) {
			S.offset = -2 * f.loglik - (double)n * log(f.sigma2);
			arima_fit_release(&f);
		}
	}
	allow_drift = allow_drift && d + D == 1;
	allow_mean = allow_mean && d + D == 0;
	constant = allow_drift || allow_mean;
	p = S.max_p < 2 ? S.max_p : 2;
	q = S.max_q < 2 ? S.max_q : 2;
	P = S.max_P < 1 ? S.max_P : 1;
	Q = S.max_Q < 1 ? S.max_Q : 1;
	if (n < 10) {
		p = p < 1 ? p : 1;
		q = q < 1 ? q : 1;
		P = Q = 0;
	}
	S.best_ic = INFINITY;
	try_model(&S, p, q, P, Q, constant);
	if (try_model(&S, 0, 0, 0, 0, constant))
		p = q = P = Q = 0;
	if (S.max_p > 0 || S.max_P > 0) {
		int a = S.max_p > 0, b = m > 1 && S.max_P > 0;
		if (try_model(&S, a, 0, b, 0, constant)) {
			p = a;
			P = b;
			q = Q = 0;
		}
	}
	if (S.max_q > 0 || S.max_Q > 0) {
		int a = S.max_q > 0, b = m > 1 && S.max_Q > 0;
		if (try_model(&S, 0, a, 0, b, constant)) {
			p = P = 0;
			Q = b;
			q = a;
		}
	}
	if (constant && try_model(&S, 0, 0, 0, 0, 0))
		p = q = P = Q = 0;
	stepwise(&S, p, q, P, Q, constant, allow_drift || allow_mean);
	if (S.approx && (refit == REFIT_ON || (refit == REFIT_AUTO && n <= 150))) {
		/* refit by likelihood in order of the approximate criterion */
		int order[NMODELS], nm = S.k < NMODELS ? S.k : NMODELS, a, b, nheld = 0;
		const int *held[NMODELS]; /* orders whose seasonal MA reached the unit circle */
		for (a = 0; a < nm; a++)
			order[a] = a;
		for (a = 1; a < nm; a++) /* stable insertion sort */
			for (b = a; b > 0 && S.resic[order[b]] < S.resic[order[b - 1]]; b--) {
				int tmp = order[b];
				order[b] = order[b - 1];
				order[b - 1] = tmp;
			}
		S.approx = 0;
		for (a = 0; a < nm; a++) {
			struct arima_fit f;
			int *r = S.res[order[a]];
			double aic, aicc, bic, s2, icv;
			if (nests(held, nheld, r)) {
				st->nskip++;
				continue;
			}
			st->nrefit++;
			icv = model_ic(&S, r[0], r[1], r[2], r[3], r[4], 0, INFINITY, &f, &aic,
				       &aicc, &bic, &s2);
			/* the likelihood took a seasonal MA to the unit circle: the seasonal
			 * difference overdifferences a fixed season, and a candidate that holds
			 * this one (every order at least as large) climbs to the same boundary;
			 * its refit, the costliest part of the search, is skipped */
			if (screen && D > 0 && !(icv < INFINITY) && f.coef && r[3] > 0 &&
			    nheld < NMODELS) {
				double sr = arima_minroot(f.coef + r[0] + r[1] + r[2], r[3], 1);
				if (sr >= 0 && sr < pow(1.01, m))
					held[nheld++] = r;
			}
			if (icv < INFINITY) {
				arima_fit_release(&S.best);
				S.best = f;
				S.best_ic = icv;
				S.best_aic = aic;
				S.best_aicc = aicc;
				S.best_bic = bic;
				S.best_sigma2 = s2;
				break;
			}
			arima_fit_release(&f);
		}
	}
	if (!(S.best_ic < INFINITY) || !S.best.coef) {
		arima_fit_release(&S.best);
		goto done;
	}
	if (!S.best.filtered) {
		/* no refit passed: the approximate search's best, fitted again with its state
		 * (the same deterministic fit) to forecast from */
		struct arima_spec sp = S.best.s;
		arima_fit_release(&S.best);
		if (arima_fit(&S.best, y, n, &sp, ARIMA_CSS, NULL) < 0)
			goto done;
	}
	st->fit = S.best;
	st->sigma2 = S.best_sigma2;
	st->aic = S.best_aic;
	st->aicc = S.best_aicc;
	st->bic = S.best_bic;
	rc = 0;
done:
	free(dx);
	return rc;
}

/* The Fourier terms of the long or many seasons: K per period by AICc of least squares
 * with an intercept and a trend, one period after another. */
static void choose_fourier(const double *y, size_t n, const struct ml_series *s,
			   struct arima_spec *sp)
{
	int j, K;

	memset(sp, 0, sizeof(*sp));
	for (j = 0; j < s->nseason && sp->nfourier < 4; j++) {
		int kmax = (s->season[j] - 1) / 2, bestk = 0;
		double best = INFINITY;
		if (kmax > MAX_FOURIER)
			kmax = MAX_FOURIER;
		if ((size_t)s->season[j] * 2 > n || kmax < 1)
			continue;
		sp->fourier_period[sp->nfourier] = s->season[j];
		sp->nfourier++;
		for (K = 1; K <= kmax; K++) {
			struct arima_fit f;
			struct arima_spec t = *sp;
			double k, crit;
			t.fourier_k[t.nfourier - 1] = K;
			t.m = 1;
			t.mean = 1;
			t.drift = 1;
			k = arima_ncx(&t) + 1;
			if ((double)n - k - 1 <= 0 ||
			    arima_fit_defer(&f, y, n, &t, ARIMA_CSS, NULL, ARIMA_NO_STATE) < 0)
				break;
			crit = (double)n * log(f.sigma2) + 2 * k + 2 * k * (k + 1) / ((double)n - k - 1);
			arima_fit_release(&f);
			if (crit < best) {
				best = crit;
				bestk = K;
			}
		}
		if (bestk)
			sp->fourier_k[sp->nfourier - 1] = bestk;
		else
			sp->nfourier--;
	}
}

static const struct ml_param arima_params[] = {
    {"order", ML_P_INT_LIST, 0, 0, 20, "",
     "p,d,q: fix the non-seasonal orders (default: chosen by unit-root tests and a stepwise "
     "search on AICc)"},
    {"seasonal-order", ML_P_INT_LIST, 0, 0, 2, "",
     "P,D,Q: fix the seasonal orders (default: chosen with the others)"},
    {"mean", ML_P_ENUM, 0, 0, 0, "auto,on,off",
     "a mean term when nothing is differenced (auto: as auto.arima or Arima decide)"},
    {"drift", ML_P_ENUM, 0, 0, 0, "auto,on,off",
     "a drift term when differenced once (auto: searched; off with fixed orders)"},
    {"ic", ML_P_ENUM, 0, 0, 0, "aicc,aic,bic", "the criterion of the order search"},
    {"approximation", ML_P_ENUM, 0, 0, 0, "auto,on,off",
     "search on conditional sums of squares, then refit the best by likelihood (auto: for "
     "series longer than 150 or seasons above 12, as auto.arima)"},
    {"refit", ML_P_ENUM, 0, 0, 0, "on,off,auto",
     "after the approximation's search, refit by likelihood (off: forecast from the "
     "best conditional-sums-of-squares fit; auto: refit series of at most 150 values)"},
    {"screen", ML_P_ENUM, 0, 0, 0, "off,on",
     "in the approximation's refits: once a candidate's seasonal MA reaches the unit circle "
     "after seasonal differencing, skip the candidates that hold it (every order at least "
     "as large)"},
    {NULL, ML_P_REAL, 0, 0, 0, NULL, NULL}};

/* The fit; defer_var: a fit at fixed orders leaves out the coefficients' variance (which
 * nothing reads there) and so does not fail where it cannot be computed. */
/* The same terms (orders, period, regressors) in two specs: coefficients of one can start
 * a fit of the other. */
static int same_terms(const struct arima_spec *a, const struct arima_spec *b)
{
	int j;

	if (a->p != b->p || a->q != b->q || a->P != b->P || a->Q != b->Q || a->m != b->m ||
	    a->mean != b->mean || a->drift != b->drift || a->nfourier != b->nfourier ||
	    a->next != b->next)
		return 0;
	for (j = 0; j < a->nfourier; j++)
		if (a->fourier_k[j] != b->fourier_k[j] ||
		    a->fourier_period[j] != b->fourier_period[j])
			return 0;
	for (j = 0; j < a->next; j++)
		if (a->xidx[j] != b->xidx[j])
			return 0;
	return 1;
}

/* Fit as p says. from, when not NULL, is a fit of the same orders to a longer stretch of
 * the series (a backtest's refit): its coefficients start the likelihood's maximisation
 * where the terms agree, and the coefficients' variance is not computed. */
static int fit_impl(void **state, const struct ml_series *s, const struct ml_params *p,
		    const struct arima_fit *from, struct ml_err *e)
{
	int defer_var = from != NULL;
	struct arima_state *st = ts_calloc(1, sizeof(*st));
	double ord[4], sord[4];
	int nord = ml_param_list(p, "order", ord, 4), nsord = ml_param_list(p, "seasonal-order", sord, 4);
	int mean = (int)ml_param(p, "mean"), drift = (int)ml_param(p, "drift");
	int ic = (int)ml_param(p, "ic"), m = s->nseason ? s->season[0] : 1, rc, k;
	struct arima_spec base;

	if (!st)
		return ml_err_nomem(e);
	if (nord > 0 && nord != 3) {
		free(st);
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "--order takes p,d,q (three numbers)");
	}
	if (nsord > 0 && nsord != 3) {
		free(st);
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "--seasonal-order takes P,D,Q (three numbers)");
	}
	memset(&base, 0, sizeof(base));
	if (s->nseason > 1 || m > MAX_SEASON) {
		choose_fourier(s->y, s->n, s, &base);
		m = 1;
		if (nsord == 3 && (sord[0] || sord[1] || sord[2])) {
			free(st);
			return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
					  "--seasonal-order needs one seasonal period of at most %d "
					  "(longer or several seasons are Fourier terms)",
					  MAX_SEASON);
		}
		if (base.nfourier)
			snprintf(st->note, sizeof(st->note),
				 "seasons as Fourier terms (%d pairs of period %g%s)", base.fourier_k[0],
				 base.fourier_period[0], base.nfourier > 1 ? " and more" : "");
	}
	/* a regressor constant over the history has no effect to estimate (auto.arima drops
	 * it; a backtest's early origins may see one before its first change) */
	base.xext = s->x;
	base.xld = s->xlen;
	for (k = 0; k < s->nx && k < 32; k++)
		if (!ts_is_constant(s->x + (size_t)k * s->xlen, s->n))
			base.xidx[base.next++] = k;
	if (nsord == 3 && m == 1 && (sord[0] || sord[1] || sord[2])) {
		free(st);
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "--seasonal-order needs a seasonal period (--season M)");
	}
	if (nord == 3) {
		struct arima_spec sp = base;
		size_t need;
		sp.p = (int)ord[0];
		sp.d = (int)ord[1];
		sp.q = (int)ord[2];
		sp.m = m;
		if (nsord == 3) {
			sp.P = (int)sord[0];
			sp.D = (int)sord[1];
			sp.Q = (int)sord[2];
		}
		sp.mean = mean != TERM_OFF && sp.d + sp.D == 0;
		sp.drift = drift == TERM_ON && sp.d + sp.D == 1; /* Arima drops it past one */
		need = (size_t)(sp.d + sp.D * m + sp.p + sp.P * m) + (size_t)arima_ncx(&sp) +
		       (size_t)(sp.q + sp.Q * m > 0) + 2;
		if (s->n < need) {
			free(st);
			return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
					  "ARIMA(%d,%d,%d)(%d,%d,%d)[%d] needs at least %zu values; the "
					  "series has %zu",
					  sp.p, sp.d, sp.q, sp.P, sp.D, sp.Q, m, need, s->n);
		}
		rc = -1;
		/* a refit of a fit (a backtest's origin): the same estimator, by likelihood from
		 * its coefficients, or by conditional sums of squares as it was */
		if (from && same_terms(&from->s, &sp))
			rc = from->method == ARIMA_CSS
				     ? arima_fit(&st->fit, s->y, s->n, &sp, ARIMA_CSS, NULL)
				     : arima_fit_from(&st->fit, s->y, s->n, &sp, from->coef);
		if (rc < 0)
			rc = arima_fit_defer(&st->fit, s->y, s->n, &sp, ARIMA_CSS_ML, NULL,
					     defer_var);
		if (rc < 0) {
			/* R stops here (a non-stationary AR part from CSS): maximum likelihood
			 * from zero instead */
			rc = arima_fit_defer(&st->fit, s->y, s->n, &sp, ARIMA_ML, NULL, defer_var);
			set_note(st, "CSS start was not stationary: fitted by ML from zero");
		}
		if (rc < 0) {
			free(st);
			return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
					  "ARIMA(%d,%d,%d)(%d,%d,%d)[%d] could not be fitted to the "
					  "series",
					  sp.p, sp.d, sp.q, sp.P, sp.D, sp.Q, m);
		}
		st->sigma2 = arima_sigma2_adj(&st->fit, st->fit.narma + st->fit.ncx);
		criteria(&st->fit, s->n - (size_t)(sp.d + sp.D * m), 0, &st->aic, &st->aicc,
			 &st->bic);
	} else {
		int fix_d = -1, fix_D = -1;
		if (nsord == 3)
			fix_D = (int)sord[1];
		rc = auto_arima(st, s->y, s->n, m, &base, ic, (int)ml_param(p, "approximation"),
				(int)ml_param(p, "refit"), (int)ml_param(p, "screen"),
				mean != TERM_OFF, drift != TERM_OFF, fix_d, fix_D);
		if (rc < 0) {
			/* no model passed the checks: a random walk (with drift when allowed) */
			struct arima_spec sp = base;
			sp.d = 1;
			sp.m = 1;
			sp.drift = drift != TERM_OFF && s->n > 3;
			arima_fit_release(&st->fit);
			rc = arima_fit(&st->fit, s->y, s->n, &sp, ARIMA_CSS_ML, NULL);
			if (rc < 0) {
				sp.drift = 0;
				sp.nfourier = 0;
				rc = arima_fit(&st->fit, s->y, s->n, &sp, ARIMA_CSS_ML, NULL);
			}
			if (rc < 0) {
				free(st);
				return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
						  "no ARIMA model could be fitted to the series");
			}
			set_note(st, "no suitable model in the search: ARIMA(0,1,0)");
			st->sigma2 = arima_sigma2_adj(&st->fit, st->fit.narma + st->fit.ncx);
			criteria(&st->fit, s->n - 1, 0, &st->aic, &st->aicc, &st->bic);
		}
	}
	if (!isfinite(st->sigma2) || st->sigma2 < 0)
		st->sigma2 = 0;
	*state = st;
	return 0;
}

static int arima_fit_method(void **state, const struct ml_series *s, const struct ml_params *p,
			    struct ml_ctx *ctx, struct ml_err *e)
{
	(void)ctx;
	return fit_impl(state, s, p, NULL, e);
}

static int arima_forecast_method(const void *state, const struct ml_series *s, int h,
				 const double *level, int nlevel, double *mean, double *lo,
				 double *hi, struct ml_err *e)
{
	const struct arima_state *st = state;
	double *se2 = ts_malloc((size_t)h * sizeof(double));
	struct arima_fit f = st->fit;
	int t, k;

	/* the regressors' future from the series forecast (a scenario) */
	f.s.xext = s->x;
	f.s.xld = s->xlen;
	if (!se2 || arima_forecast(&f, h, mean, se2) < 0) {
		free(se2);
		return ml_err_nomem(e);
	}
	for (t = 0; t < h; t++) {
		double se = sqrt(fmax(se2[t], 0) * st->sigma2);
		if (!isfinite(mean[t]))
			mean[t] = s->y[s->n - 1];
		if (!isfinite(se))
			se = 0;
		for (k = 0; k < nlevel; k++) {
			double z = ml_norm_ppf(0.5 + level[k] / 200);
			lo[(size_t)k * (size_t)h + (size_t)t] = mean[t] - z * se;
			hi[(size_t)k * (size_t)h + (size_t)t] = mean[t] + z * se;
		}
	}
	free(se2);
	return 0;
}

static int arima_fitted(const void *state, const struct ml_series *s, double *out)
{
	const struct arima_state *st = state;
	size_t t;

	for (t = 0; t < s->n; t++)
		out[t] = s->y[t] - st->fit.resid[t];
	return 0;
}

static double arima_sigma2(const void *state)
{
	return ((const struct arima_state *)state)->sigma2;
}

static int arima_save(const void *state, struct ml_model *m, struct ml_err *e)
{
	const struct arima_state *st = state;
	const struct arima_fit *f = &st->fit;
	const struct arima_spec *sp = &f->s;
	cJSON *meta = ml_model_meta(m), *c;
	char name[32];
	int i, j, bad = 0;
	static const char *const parts[4] = {"ar", "ma", "sar", "sma"};
	int counts[4];

	counts[0] = sp->p;
	counts[1] = sp->q;
	counts[2] = sp->P;
	counts[3] = sp->Q;
	snprintf(name, sizeof(name), "%d,%d,%d", sp->p, sp->d, sp->q);
	if (!cJSON_AddStringToObject(meta, "order", name))
		return ml_err_nomem(e);
	snprintf(name, sizeof(name), "%d,%d,%d", sp->P, sp->D, sp->Q);
	if (!cJSON_AddStringToObject(meta, "seasonal_order", name) ||
	    !cJSON_AddNumberToObject(meta, "period", sp->m) ||
	    !(c = cJSON_AddObjectToObject(meta, "coef")))
		return ml_err_nomem(e);
	for (j = 0, i = 0; j < 4; j++) {
		int k;
		for (k = 0; k < counts[j]; k++, i++) {
			snprintf(name, sizeof(name), "%s%d", parts[j], k + 1);
			ml_json_num(&bad, c, name, f->coef[i]);
		}
	}
	for (j = 0; j < f->ncx; j++, i++) {
		int base = (sp->mean && sp->d + sp->D == 0) + (sp->drift != 0);
		if (sp->mean && sp->d + sp->D == 0 && j == 0)
			snprintf(name, sizeof(name), "intercept");
		else if (sp->drift && j == base - 1)
			snprintf(name, sizeof(name), "drift");
		else if (j - base < sp->next)
			snprintf(name, sizeof(name), "xreg%d", sp->xidx[j - base] + 1);
		else
			snprintf(name, sizeof(name), "%s%d", (j - base - sp->next) % 2 ? "cos" : "sin",
				 (j - base - sp->next) / 2 + 1);
		ml_json_num(&bad, c, name, f->coef[i]);
	}
	if (isfinite(f->loglik))
		ml_json_num(&bad, meta, "loglik", f->loglik);
	if (isfinite(st->aic)) {
		ml_json_num(&bad, meta, "aic", st->aic);
		ml_json_num(&bad, meta, "aicc", st->aicc);
		ml_json_num(&bad, meta, "bic", st->bic);
	}
	for (j = 0; j < sp->nfourier; j++) {
		snprintf(name, sizeof(name), "fourier_%g", sp->fourier_period[j]);
		ml_json_num(&bad, meta, name, sp->fourier_k[j]);
	}
	if (st->note[0])
		ml_json_str(&bad, meta, "note", st->note);
	return bad ? ml_err_nomem(e) : 0;
}

/* As R prints the model: ARIMA(1,1,1)(0,1,1)[12] with drift; the regressors counted. */
static void arima_describe(const void *state, char *buf, size_t size)
{
	const struct arima_state *st = state;
	const struct arima_spec *sp = &st->fit.s;
	int reg = sp->next || sp->nfourier;

	snprintf(buf, size, "%sARIMA(%d,%d,%d)", reg ? "regression with " : "", sp->p, sp->d,
		 sp->q);
	if (sp->P || sp->D || sp->Q)
		ml_fc_appendf(buf, size, "(%d,%d,%d)[%d]", sp->P, sp->D, sp->Q, sp->m);
	if (reg)
		ml_fc_appendf(buf, size, " errors");
	if (sp->drift)
		ml_fc_appendf(buf, size, " with drift");
	else if (sp->mean && sp->d + sp->D == 0)
		ml_fc_appendf(buf, size, " with non-zero mean");
	if (sp->next)
		ml_fc_appendf(buf, size, ", %d regressor%s", sp->next, sp->next > 1 ? "s" : "");
	if (st->nrefit)
		ml_fc_appendf(buf, size, "; approximate search, %d refit%s by likelihood%s",
			      st->nrefit, st->nrefit > 1 ? "s" : "", st->nskip ? "," : "");
	if (st->nskip)
		ml_fc_appendf(buf, size, " %d screened out", st->nskip);
	if (st->fit.method == ARIMA_CSS)
		ml_fc_appendf(buf, size,
			      "; approximate search, fitted by conditional sums of squares");
	if (st->note[0])
		ml_fc_appendf(buf, size, "; %s", st->note);
}

static void arima_free(void *state)
{
	struct arima_state *st = state;
	if (!st)
		return;
	arima_fit_release(&st->fit);
	free(st);
}

/* Fitting is deterministic: loading fits the stored series again. */
static int arima_load(void **state, const struct ml_model *m, const struct ml_series *s,
		      const struct ml_params *p, struct ml_err *e)
{
	(void)m;
	return arima_fit_method(state, s, p, NULL, e);
}

const struct ml_fc_method ml_fc_arima = {
    .name = "arima",
    .summary = "seasonal ARIMA, orders chosen as R's auto.arima (or fixed by --order)",
    .params = arima_params,
    .xreg = 1,
    .min_length = arima_min,
    .fit = arima_fit_method,
    .forecast = arima_forecast_method,
    .fitted = arima_fitted,
    .sigma2 = arima_sigma2,
    .save = arima_save,
    .load = arima_load,
    .free = arima_free,
    .describe = arima_describe,
};

/* The orders and terms a fit chose as the parameters that fix them, for refits of the
 * same model (a combination's backtest) without the search. */
int ml_arima_spec_params(const void *state, struct ml_params *p, struct ml_err *e)
{
	const struct arima_spec *sp = &((const struct arima_state *)state)->fit.s;
	char buf[64];
	int rc;

	snprintf(buf, sizeof(buf), "%d,%d,%d", sp->p, sp->d, sp->q);
	if ((rc = ml_params_set(p, "order", buf, e)) < 0)
		return rc;
	if (sp->m > 1) {
		snprintf(buf, sizeof(buf), "%d,%d,%d", sp->P, sp->D, sp->Q);
		if ((rc = ml_params_set(p, "seasonal-order", buf, e)) < 0)
			return rc;
	}
	if ((rc = ml_params_set(p, "mean", sp->mean ? "on" : "off", e)) < 0)
		return rc;
	return ml_params_set(p, "drift", sp->drift ? "on" : "off", e);
}

int ml_arima_refit(const void *state, const struct ml_series *s, int h, const double *level,
		   int nlevel, double *mean, double *lo, double *hi, struct ml_err *e)
{
	struct ml_params p;
	void *st = NULL;
	int rc;

	ml_fc_params_init(&p, &ml_fc_arima);
	if ((rc = ml_arima_spec_params(state, &p, e)) < 0 || (rc = fit_impl(&st, s, &p, &((const struct arima_state *)state)->fit, e)) < 0)
		return rc;
	rc = arima_forecast_method(st, s, h, level, nlevel, mean, lo, hi, e);
	arima_free(st);
	return rc;
}
