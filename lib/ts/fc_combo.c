/* Combinations of forecasting methods, whose members are looked up by name so that every
 * method registered in methods.h takes part: combo (the fixed mean of ets, arima and
 * theta), auto (per series, the mean of those and damped, or of fewer where a
 * rolling-origin backtest prefers them) and ensemble (the mean of the few that backtest
 * best). With
 * regressors, auto's members are the methods that take them (arima, linear, prophet) and
 * ensemble's pool keeps only those; combo, fixed on two methods that take none, refuses
 * them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arima.h"
#include "ets.h"
#include "method.h"
#include "ml/stats.h"
#include "core/sort.h"

#define MAXC 10
#define MAXSUB 4 /* the most members whose every subset is scored */

enum { K_COMBO, K_AUTO, K_ENSEMBLE };

/* The members of combo and auto, and the pool ensemble chooses from. */
static const char *const combo_names[] = {"ets", "arima", "theta", NULL};
static const char *const auto_names[] = {"ets", "arima", "theta", "damped", NULL};
static const char *const pool_names[] = {"ets", "damped", "arima", "theta", "linear", "gbm",
					 "drift", "naive", "snaive", NULL};
static const char *const xreg_names[] = {"arima", "linear", "prophet", NULL};

struct combo {
	int kind;
	int n;				  /* fitted members */
	struct ml_forecaster *f[MAXC];
	const struct ml_fc_method *fm[MAXC];
	int use[MAXC];			  /* members the forecast averages */
	double score[MAXC + 1];		  /* backtest MASE of each member, then of the mean */
	double sub[1 << MAXSUB];	  /* backtest MASE of the mean of each subset of
					   * members (bit i: member i), when n <= MAXSUB */
	int backtested; /* origins scored */
	double widen;			  /* the intervals' half-widths times this (>= 1) */
	/* the backtest's points while fitting: actual value, and each member's mean and 95%
	 * half-width (a NaN width where a member gave none); pt_a holds room for 2 + 2 MAXC
	 * values a point, the last npt for interval_widen */
	int npt;
	size_t ptcap;
	double *pt_a, *pt_fc, *pt_hw;
};

static void combo_free(void *state)
{
	struct combo *c = state;
	int i;

	if (!c)
		return;
	for (i = 0; i < c->n; i++)
		ml_fc_free(c->f[i]);
	free(c->pt_a);
	free(c);
}

static size_t combo_min(const struct ml_series *s)
{
	(void)s;
	return 3;
}

/* A season longer than 24 steps: ARIMA models it as regression on Fourier terms, whose
 * search takes seconds to minutes on the thousands of values such series have, for
 * forecasts no better than the decomposition the other members use; the combinations
 * leave arima out there. */
static int long_season(const struct ml_series *s)
{
	int k;

	for (k = 0; k < s->nseason; k++)
		if (s->season[k] > 24)
			return 1;
	return 0;
}

/* The damped method's state as the ets member's fit selected it too, or NULL. */
static void *damped_of_ets(const struct combo *c)
{
	int i;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->fm[i]->name, "ets") == 0)
			return ml_ets_damped_state(ml_fc_state(c->f[i]));
	return NULL;
}

/* Fit each method of names that is registered and takes s; members that fail are left
 * out (a series too short for one of them). */
static int fit_members(struct combo *c, const char *const *names, const struct ml_series *s,
		       struct ml_ctx *ctx, struct ml_err *e)
{
	int i;

	for (i = 0; names[i] && c->n < MAXC; i++) {
		const struct ml_fc_method *m = ml_fc_method_find(names[i]);
		struct ml_params p;
		struct ml_err e2;
		void *alt;
		if (!m || s->n < ml_fc_method_min_length(m, s) || (s->nx && !ml_fc_method_xreg(m)))
			continue;
		if (strcmp(names[i], "snaive") == 0 && !s->nseason)
			continue;
		if (strcmp(names[i], "arima") == 0 && long_season(s))
			continue;
		ml_fc_params_init(&p, m);
		ml_err_init(&e2);
		/* arima's order search on conditional sums of squares for every series
		 * (auto.arima's approximation, which it takes only past 150 values), the best
		 * refitted by likelihood up to 150 values and forecast from its CSS fit past
		 * that, refits screened: a third of the cost on short series and a quarter on
		 * long ones, and no less accurate on the benchmark's sets (bench/RESULTS.md) */
		if (strcmp(names[i], "arima") == 0 &&
		    (ml_params_set(&p, "approximation", "on", &e2) < 0 ||
		     ml_params_set(&p, "refit", "auto", &e2) < 0 ||
		     ml_params_set(&p, "screen", "on", &e2) < 0))
			continue;
		if (strcmp(names[i], "damped") == 0 && (alt = damped_of_ets(c))) {
			/* the ets member fitted every damped candidate: its best is damped's */
			if (ml_fc_adopt(&c->f[c->n], m, s, &p, alt, e) < 0)
				return ML_E_NOMEM;
		} else if (ml_fc_fit(&c->f[c->n], m, s, &p, ctx, &e2) < 0) {
			if (e2.code == ML_E_NOMEM) {
				*e = e2;
				return ML_E_NOMEM;
			}
			continue;
		}
		c->fm[c->n] = m;
		c->use[c->n] = 1;
		c->n++;
	}
	if (!c->n)
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				  "no member of the combination could be fitted to %zu values",
				  s->n);
	return 0;
}

/* Mean absolute scaled error of each member and of their mean over rolling origins
 * (ml_fc_backtest's layout); members refit at each origin (ets keeps the model and arima
 * the orders the whole series chose, which makes it a backtest of the parameters and not
 * of the selection, at a fraction of the cost). Returns 0 when at least one origin was
 * scored. */
static int backtest_members(struct combo *c, const struct ml_series *s, int h, int norigin,
			    struct ml_ctx *ctx, struct ml_err *e)
{
	double *fc = malloc((size_t)(3 * MAXC * h) * sizeof(double)), sum[MAXC + 1] = {0},
	       ssum[1 << MAXSUB] = {0}, *lo, *hi;
	const double l95 = 95;
	size_t cnt[MAXC + 1] = {0}, npt = (size_t)norigin * (size_t)h;
	int k, i, t, mask, scored = 0, ok[MAXC];
	char spec[MAXC][8];
	size_t lag = s->nseason ? (size_t)s->season[0] : 1;

	if (!fc || !(c->pt_a = malloc(npt * (2 + 2 * MAXC) * sizeof(double)))) {
		free(fc);
		return ml_err_nomem(e);
	}
	c->ptcap = npt;
	c->pt_fc = c->pt_a + npt;
	c->pt_hw = c->pt_fc + npt * MAXC;
	c->npt = 0;
	lo = fc + MAXC * h;
	hi = lo + MAXC * h;
	for (k = 0; k < norigin; k++) {
		size_t L = ml_fc_backtest_origin(s->n, h, norigin, k), nt;
		struct ml_series sub = *s;
		double scale = 0;
		int nok = 0;

		if (L < 8 || L < 2 * lag)
			continue;
		sub.n = L;
		nt = s->n - L < (size_t)h ? s->n - L : (size_t)h;
		for (t = (int)lag; t < (int)L; t++)
			scale += fabs(s->y[t] - s->y[t - (int)lag]);
		scale /= (double)(L - lag);
		if (!(scale > 0))
			continue;
		memset(ok, 0, sizeof(ok));
		for (i = 0; i < c->n; i++) {
			struct ml_params p;
			struct ml_forecaster *f = NULL;
			struct ml_err e2;
			if (L < ml_fc_method_min_length(c->fm[i], &sub))
				continue;
			ml_fc_params_init(&p, c->fm[i]);
			ml_err_init(&e2);
			if (strcmp(c->fm[i]->name, "arima") == 0) {
				if (ml_arima_refit(ml_fc_state(c->f[i]), &sub, h, &l95, 1,
						   fc + (size_t)i * (size_t)h, lo + (size_t)i * (size_t)h,
						   hi + (size_t)i * (size_t)h, &e2) == 0) {
					nok++;
					continue;
				}
				if (e2.code == ML_E_NOMEM) {
					free(fc);
					*e = e2;
					return ML_E_NOMEM;
				}
				continue;
			}
			if (ml_ets_method(c->fm[i])) {
				int j;
				ml_ets_spec(ml_fc_state(c->f[i]), spec[i]);
				ml_params_set(&p, "spec", spec[i], &e2);
				/* ets and damped on the same model: the same refit */
				for (j = 0; j < i; j++)
					if (ok[j] && ml_ets_method(c->fm[j]) &&
					    !strcmp(spec[i], spec[j]))
						break;
				if (j < i) {
					size_t hs = (size_t)h * sizeof(double), oi, oj;
					oi = (size_t)i * (size_t)h;
					oj = (size_t)j * (size_t)h;
					memcpy(fc + oi, fc + oj, hs);
					memcpy(lo + oi, lo + oj, hs);
					memcpy(hi + oi, hi + oj, hs);
					ok[i] = 1;
					nok++;
					continue;
				}
			}
			if (ml_fc_fit(&f, c->fm[i], &sub, &p, ctx, &e2) < 0 ||
			    ml_fc_forecast(f, h, &l95, 1, fc + (size_t)i * (size_t)h,
					   lo + (size_t)i * (size_t)h, hi + (size_t)i * (size_t)h,
					   &e2) < 0) {
				ml_fc_free(f);
				if (e2.code == ML_E_NOMEM) {
					free(fc);
					*e = e2;
					return ML_E_NOMEM;
				}
				continue;
			}
			ml_fc_free(f);
			ok[i] = 1;
			nok++;
		}
		if (nok < c->n)
			continue; /* score origins where every member forecast */
		for (t = 0; t < (int)nt; t++) {
			double a = s->y[L + (size_t)t], mean = 0;
			int nu = 0;
			size_t pt = (size_t)c->npt++;
			c->pt_a[pt] = a;
			for (i = 0; i < c->n; i++) {
				size_t j = (size_t)i * (size_t)h + (size_t)t;
				c->pt_fc[pt * MAXC + (size_t)i] = fc[j];
				c->pt_hw[pt * MAXC + (size_t)i] = 0.5 * (hi[j] - lo[j]);
			}
			for (i = 0; i < c->n; i++) {
				sum[i] += fabs(a - fc[(size_t)i * (size_t)h + (size_t)t]) / scale;
				cnt[i]++;
				if (c->use[i]) {
					mean += fc[(size_t)i * (size_t)h + (size_t)t];
					nu++;
				}
			}
			sum[MAXC] += fabs(a - mean / nu) / scale;
			cnt[MAXC]++;
			for (mask = 1; c->n <= MAXSUB && mask < 1 << c->n; mask++) {
				double sm = 0;
				int ns = 0;
				for (i = 0; i < c->n; i++)
					if (mask >> i & 1) {
						sm += fc[(size_t)i * (size_t)h + (size_t)t];
						ns++;
					}
				ssum[mask] += fabs(a - sm / ns) / scale;
			}
		}
		scored++;
	}
	free(fc);
	for (i = 0; i < c->n; i++)
		c->score[i] = cnt[i] ? sum[i] / (double)cnt[i] : INFINITY;
	c->score[MAXC] = cnt[MAXC] ? sum[MAXC] / (double)cnt[MAXC] : INFINITY;
	for (mask = 1; c->n <= MAXSUB && mask < 1 << c->n; mask++)
		c->sub[mask] = cnt[MAXC] ? ssum[mask] / (double)cnt[MAXC] : INFINITY;
	c->backtested = scored;
	return 0;
}

static const struct ml_param auto_params[] = {
	{"horizon", ML_P_INT, 0, 0, 100000,
	 NULL, "the horizon the backtest scores (0: two seasons, or 10 without a season)"},
	{"backtest", ML_P_INT, 3, 1, 1000, NULL, "rolling origins of the backtest"},
	{"margin", ML_P_REAL, 0.8, 0, 1, NULL,
	 "a single model replaces the mean when its backtest MASE is below margin times the "
	 "mean's"},
	{NULL, ML_P_REAL, 0, 0, 0, NULL, NULL}};

static const struct ml_param ensemble_params[] = {
	{"horizon", ML_P_INT, 0, 0, 100000,
	 NULL, "the horizon the backtest scores (0: two seasons, or 10 without a season)"},
	{"backtest", ML_P_INT, 3, 1, 1000, NULL, "rolling origins of the backtest"},
	{"members", ML_P_INT, 3, 1, MAXC, NULL, "how many of the best methods are averaged"},
	{NULL, ML_P_REAL, 0, 0, 0, NULL, NULL}};

/* How much the used members' mean 95% interval must widen for the backtest's errors to
 * fall inside it at 95% of its points: the 95th percentile of |actual - mean| over the
 * mean half-width, when above 1 (narrower is never taken), at most 3; 1 with fewer than
 * 5 points. Below 20 points that percentile is their largest ratio, which estimates the
 * k/(k+1) quantile of k (its plotting position) and not the 95%: it is scaled to the 95%
 * as for normal errors, by z(0.975) / z((1 + k/(k+1)) / 2) (1.42 at 5 points, 1.11 at 12,
 * 1 at 19). */
static double interval_widen(const struct combo *c)
{
	double *u = c->pt_a + c->ptcap * (1 + 2 * MAXC), q = 1;
	int p, i, k = 0;

	for (p = 0; p < c->npt; p++) {
		double mean = 0, hw = 0, v;
		int nu = 0;
		for (i = 0; i < c->n; i++)
			if (c->use[i]) {
				mean += c->pt_fc[(size_t)p * MAXC + (size_t)i];
				hw += c->pt_hw[(size_t)p * MAXC + (size_t)i];
				nu++;
			}
		v = fabs(c->pt_a[p] - mean / nu) / (hw / nu);
		if (isfinite(v) && hw > 0)
			u[k++] = v;
	}
	if (k >= 5) {
		qsort(u, (size_t)k, sizeof(double), ml_cmp_double);
		q = u[(int)ceil(0.95 * k) - 1];
		if ((int)ceil(0.95 * k) == k)
			q *= ml_norm_ppf(0.975) / ml_norm_ppf(0.5 + 0.5 * (double)k / (k + 1));
	}
	return q > 1 ? fmin(q, 3) : 1;
}

static int combo_fit_kind(void **state, int kind, const struct ml_series *s,
			  const struct ml_params *p, struct ml_ctx *ctx, struct ml_err *e)
{
	struct combo *c = calloc(1, sizeof(*c));
	int rc, i, h;

	if (!c)
		return ml_err_nomem(e);
	c->kind = kind;
	c->widen = 1;
	if ((rc = fit_members(c, kind == K_ENSEMBLE ? pool_names : s->nx ? xreg_names
								 : kind == K_AUTO ? auto_names : combo_names,
			      s, ctx, e)) < 0) {
		free(c);
		return rc;
	}
	if (kind != K_COMBO && c->n > 1) {
		h = (int)ml_param(p, "horizon");
		if (h <= 0)
			h = s->nseason ? 2 * s->season[0] : 10;
		if ((rc = backtest_members(c, s, h, (int)ml_param(p, "backtest"), ctx, e)) < 0) {
			combo_free(c);
			return rc;
		}
	}
	if (c->backtested >= 2 && kind == K_AUTO && c->n <= MAXSUB) {
		/* the mean of every member unless the mean of fewer (one alone, or a pair)
		 * backtests clearly better, at two origins at least: one origin's errors (a
		 * short series has no room for more) are one draw, too few to pick on */
		int full = (1 << c->n) - 1, best = full, mask;
		for (mask = 1; mask < full; mask++)
			if (c->sub[mask] < c->sub[best])
				best = mask;
		if (c->sub[best] < ml_param(p, "margin") * c->sub[full])
			for (i = 0; i < c->n; i++)
				c->use[i] = best >> i & 1;
	} else if (c->backtested && kind == K_ENSEMBLE) {
		int k = (int)ml_param(p, "members"), j, order[MAXC];
		for (i = 0; i < c->n; i++)
			order[i] = i;
		for (i = 1; i < c->n; i++)
			for (j = i; j > 0 && c->score[order[j]] < c->score[order[j - 1]]; j--) {
				int tmp = order[j];
				order[j] = order[j - 1];
				order[j - 1] = tmp;
			}
		for (i = 0; i < c->n; i++)
			c->use[order[i]] = i < k && isfinite(c->score[order[i]]);
		if (!c->use[order[0]])
			c->use[order[0]] = 1;
	} else if (kind == K_ENSEMBLE) {
		/* not enough history to rank: the fixed combination's members */
		int nu = 0;
		for (i = 0; i < c->n; i++) {
			int j;
			c->use[i] = 0;
			for (j = 0; combo_names[j]; j++)
				if (strcmp(c->fm[i]->name, combo_names[j]) == 0)
					c->use[i] = 1;
			nu += c->use[i];
		}
		for (i = 0; !nu && i < c->n; i++)
			c->use[i] = 1; /* with regressors: every member */
	}
	if (c->backtested)
		c->widen = interval_widen(c);
	free(c->pt_a);
	c->pt_a = c->pt_fc = c->pt_hw = NULL;
	*state = c;
	return 0;
}

static int combo_fit(void **state, const struct ml_series *s, const struct ml_params *p,
		     struct ml_ctx *ctx, struct ml_err *e)
{
	return combo_fit_kind(state, K_COMBO, s, p, ctx, e);
}

static int auto_fit(void **state, const struct ml_series *s, const struct ml_params *p,
		    struct ml_ctx *ctx, struct ml_err *e)
{
	return combo_fit_kind(state, K_AUTO, s, p, ctx, e);
}

static int ensemble_fit(void **state, const struct ml_series *s, const struct ml_params *p,
			struct ml_ctx *ctx, struct ml_err *e)
{
	return combo_fit_kind(state, K_ENSEMBLE, s, p, ctx, e);
}

/* The mean of the used members' forecasts and of their interval bounds. */
static int combo_forecast(const void *state, const struct ml_series *s, int h,
			  const double *level, int nlevel, double *mean, double *lo, double *hi,
			  struct ml_err *e)
{
	const struct combo *c = state;
	size_t nb = (size_t)h * (size_t)(nlevel ? nlevel : 1), j;
	double *m1 = malloc((size_t)h * sizeof(double)), *l1 = malloc(nb * sizeof(double)),
	       *h1 = malloc(nb * sizeof(double));
	int i, t, nu = 0, rc = 0;

	if (!m1 || !l1 || !h1) {
		rc = ml_err_nomem(e);
		goto out;
	}
	for (t = 0; t < h; t++)
		mean[t] = 0;
	for (j = 0; j < (size_t)h * (size_t)nlevel; j++)
		lo[j] = hi[j] = 0;
	for (i = 0; i < c->n; i++) {
		if (!c->use[i])
			continue;
		if ((rc = ml_fc_forecast_on(c->f[i], s, h, level, nlevel, m1, l1, h1, e)) < 0)
			goto out;
		for (t = 0; t < h; t++)
			mean[t] += m1[t];
		for (j = 0; j < (size_t)h * (size_t)nlevel; j++) {
			lo[j] += l1[j];
			hi[j] += h1[j];
		}
		nu++;
	}
	for (t = 0; t < h; t++)
		mean[t] /= nu;
	for (j = 0; j < (size_t)h * (size_t)nlevel; j++) {
		lo[j] /= nu;
		hi[j] /= nu;
		if (c->widen > 1) {
			double mt = mean[j % (size_t)h];
			lo[j] = mt - c->widen * (mt - lo[j]);
			hi[j] = mt + c->widen * (hi[j] - mt);
		}
	}
out:
	free(m1);
	free(l1);
	free(h1);
	return rc;
}

static int combo_fitted(const void *state, const struct ml_series *s, double *out)
{
	const struct combo *c = state;
	double *f1 = malloc((s->n ? s->n : 1) * sizeof(double));
	size_t t;
	int i, nu = 0;

	if (!f1)
		return ML_E_NOMEM;
	for (t = 0; t < s->n; t++)
		out[t] = 0;
	for (i = 0; i < c->n; i++) {
		if (!c->use[i])
			continue;
		ml_fc_fitted(c->f[i], f1, NULL);
		for (t = 0; t < s->n; t++)
			out[t] += f1[t];
		nu++;
	}
	for (t = 0; t < s->n; t++)
		out[t] /= nu;
	free(f1);
	return 0;
}

static double combo_sigma2(const void *state)
{
	const struct combo *c = state;
	double s = 0;
	int i, nu = 0;

	for (i = 0; i < c->n; i++)
		if (c->use[i]) {
			s += ml_fc_sigma2(c->f[i]);
			nu++;
		}
	return s / nu;
}

static int combo_save(const void *state, struct ml_model *m, struct ml_err *e)
{
	const struct combo *c = state;
	cJSON *arr = cJSON_AddArrayToObject(ml_model_meta(m), "members");
	int i, bad = 0;

	if (!arr)
		return ml_err_nomem(e);
	if (c->kind != K_COMBO)
		ml_json_num(&bad, ml_model_meta(m), "interval_scale", c->widen);
	for (i = 0; i < c->n; i++) {
		cJSON *o = cJSON_CreateObject();
		if (!o || !cJSON_AddItemToArray(arr, o))
			return ml_err_nomem(e);
		ml_json_str(&bad, o, "method", c->fm[i]->name);
		ml_json_add(&bad, o, "used", cJSON_CreateBool(c->use[i]));
		if (c->backtested && isfinite(c->score[i]))
			ml_json_num(&bad, o, "backtest_mase", c->score[i]);
		if (ml_ets_method(c->fm[i])) {
			char spec[8];
			ml_ets_spec(ml_fc_state(c->f[i]), spec);
			ml_json_str(&bad, o, "model", spec);
		}
	}
	return bad ? ml_err_nomem(e) : 0;
}

/* The members the forecast averages, each as it describes itself, and how they were
 * chosen. */
static void combo_describe(const void *state, char *buf, size_t size)
{
	const struct combo *c = state;
	int i, k = 0, nuse = 0;

	for (i = 0; i < c->n; i++)
		nuse += c->use[i];
	snprintf(buf, size, "%s", nuse > 1 ? "mean of " : "");
	for (i = 0; i < c->n; i++) {
		char d[256];
		if (!c->use[i])
			continue;
		ml_fc_describe(c->f[i], d, sizeof(d));
		ml_fc_appendf(buf, size, "%s%s", k++ ? " | " : "", d);
	}
	if (c->kind != K_COMBO && c->backtested)
		ml_fc_appendf(buf, size, " (%d of %d by backtest MASE over %d origin%s)", nuse,
			      c->n, c->backtested, c->backtested > 1 ? "s" : "");
	if (c->kind != K_COMBO && c->widen >= 1.005)
		ml_fc_appendf(buf, size, "; intervals widened %.2fx", c->widen);
}

/* Members fit deterministically: loading fits the stored series again. */
static int combo_load(void **state, const struct ml_model *m, const struct ml_series *s,
		      const struct ml_params *p, struct ml_err *e)
{
	(void)m;
	return combo_fit(state, s, p, NULL, e);
}

static int auto_load(void **state, const struct ml_model *m, const struct ml_series *s,
		     const struct ml_params *p, struct ml_err *e)
{
	(void)m;
	return auto_fit(state, s, p, NULL, e);
}

static int ensemble_load(void **state, const struct ml_model *m, const struct ml_series *s,
			 const struct ml_params *p, struct ml_err *e)
{
	(void)m;
	return ensemble_fit(state, s, p, NULL, e);
}

const struct ml_fc_method ml_fc_combo = {
	.name = "combo",
	.summary = "the mean of ets, arima and theta (those registered that fit the series)",
	.min_length = combo_min,
	.fit = combo_fit,
	.forecast = combo_forecast,
	.fitted = combo_fitted,
	.sigma2 = combo_sigma2,
	.save = combo_save,
	.load = combo_load,
	.free = combo_free,
	.describe = combo_describe,
};

const struct ml_fc_method ml_fc_auto = {
	.name = "auto",
	.summary = "per series, the combination or one of its members, by rolling backtest",
	.params = auto_params,
	.xreg = 1,
	.min_length = combo_min,
	.fit = auto_fit,
	.forecast = combo_forecast,
	.fitted = combo_fitted,
	.sigma2 = combo_sigma2,
	.save = combo_save,
	.load = auto_load,
	.free = combo_free,
	.describe = combo_describe,
};

const struct ml_fc_method ml_fc_ensemble = {
	.name = "ensemble",
	.summary = "the mean of the methods that backtest best",
	.params = ensemble_params,
	.xreg = 1,
	.min_length = combo_min,
	.fit = ensemble_fit,
	.forecast = combo_forecast,
	.fitted = combo_fitted,
	.sigma2 = combo_sigma2,
	.save = combo_save,
	.load = ensemble_load,
	.free = combo_free,
	.describe = combo_describe,
};
