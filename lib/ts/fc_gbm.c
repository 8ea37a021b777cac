/* Gradient boosting on lags: libml's gbdt learner, through the public learner API, fits
 * the change from the last value, (y[t] - y[t-1]) / scale, from features of the values
 * before t: the lags 2..L relative to y[t-1] (L: the first season up to 24, else 4), each
 * season's own lag, rolling means over 3 steps and over the first season (relative to
 * y[t-1]), and the position of t in each season (the month of monthly data, the hour of
 * hourly data: the calendar as the series' seasons see it), and for each regressor its
 * value at the time forecast and its change since t - 1. scale is the mean absolute
 * change of the series, so the trees work on the same numbers whatever its units.
 * Multi-step forecasts are recursive (each step fed back as a lag) or direct (one model
 * per step, the step's change from the last value known). Intervals are conformal
 * (conformal.c) from refits at rolling origins, or, with calibration 0, normal from the
 * one-step residuals widening as a random walk's. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "method.h"
#include "ml/frame.h"
#include "ml/learn.h"
#include "ml/stats.h"

#define GBM_MAXF 40
#define GBM_MAXP (GBM_MAXF + ML_FC_MAX_SEASONS + 2 + 2 * ML_FC_MAX_XREG)

extern const struct ml_fc_method ml_fc_gbm;
#define GBM_MAXLAG 24

struct layout {
	int nlag, lag[GBM_MAXF];	 /* lags k >= 2, relative to y[t-1] */
	int nroll, roll[2];		 /* rolling-mean windows */
	int npos, pos[ML_FC_MAX_SEASONS]; /* seasons whose position is a feature */
	int nx;				 /* regressors (two features each) */
	int maxlag;			 /* values of history a row needs */
	int p;				 /* features */
};

struct gbm {
	struct layout L;
	int nmodel;		/* 1 (recursive) or one per step (direct) */
	struct ml_learner **l;
	double scale;
	double sigma2;		/* one-step in-sample residual variance */
	double *fit;		/* one-step fitted values (NaN for the first maxlag) */
	struct ml_fc_conformal cal;
	size_t n;
};

static const struct ml_param gbm_params[] = {
	{"strategy", ML_P_ENUM, 0, 0, 0, "recursive,direct",
	 "multi-step forecasts: recursive (one model, each step fed back) or direct (one model "
	 "per step)"},
	{"lags", ML_P_INT, 0, 0, GBM_MAXLAG, NULL,
	 "lags 1..L (0: the first season up to 24, or 4 without one); each season's own lag "
	 "besides"},
	{"rounds", ML_P_INT, 100, 1, 100000, NULL, "boosting rounds"},
	{"learning-rate", ML_P_REAL, 0.1, 1e-6, 1, NULL, "shrinkage of each tree"},
	{"max-depth", ML_P_INT, 3, 1, 16, NULL, "depth of each tree"},
	{"horizon", ML_P_INT, 0, 0, 100000, NULL,
	 "steps the direct models and the calibration cover (0: two seasons, or 10 without a "
	 "season)"},
	{"calibration", ML_P_INT, 10, 0, 1000, NULL,
	 "rolling origins whose errors make the conformal intervals (0: normal intervals from "
	 "the one-step residuals)"},
	{NULL, ML_P_REAL, 0, 0, 0, NULL, NULL}};

static void layout(struct layout *L, const struct ml_series *s, int lags)
{
	int k, m0 = s->nseason ? s->season[0] : 0;

	memset(L, 0, sizeof(*L));
	if (lags <= 0)
		lags = m0 ? (m0 < GBM_MAXLAG ? m0 : GBM_MAXLAG) : 4;
	for (k = 2; k <= lags; k++)
		L->lag[L->nlag++] = k;
	L->maxlag = lags;
	for (k = 0; k < s->nseason; k++) {
		if (s->season[k] > lags)
			L->lag[L->nlag++] = s->season[k];
		if (s->season[k] > L->maxlag)
			L->maxlag = s->season[k];
		L->pos[L->npos++] = s->season[k];
	}
	if (lags >= 3)
		L->roll[L->nroll++] = 3;
	if (m0 > 3)
		L->roll[L->nroll++] = m0;
	L->nx = s->nx;
	L->p = L->nlag + L->nroll + L->npos + 2 * L->nx;
}

static size_t gbm_min(const struct ml_series *s)
{
	struct layout L;

	layout(&L, s, 0);
	return (size_t)L.maxlag + 10;
}

/* The features of the value at t + j from x[t - maxlag .. t) and the regressors of s at
 * t + j. */
static void features(const struct layout *L, const double *x, const struct ml_series *s,
		     size_t t, size_t j0, double scale, double *f)
{
	double r = x[t - 1];
	int j = 0, k;

	for (k = 0; k < L->nlag; k++)
		f[j++] = (x[t - (size_t)L->lag[k]] - r) / scale;
	for (k = 0; k < L->nroll; k++) {
		double sum = 0;
		int i;
		for (i = 1; i <= L->roll[k]; i++)
			sum += x[t - (size_t)i];
		f[j++] = (sum / L->roll[k] - r) / scale;
	}
	for (k = 0; k < L->npos; k++)
		f[j++] = (double)(t % (size_t)L->pos[k]);
	for (k = 0; k < L->nx; k++) {
		const double *xr = s->x + (size_t)k * s->xlen;
		f[j++] = xr[t + j0];
		f[j++] = xr[t + j0] - xr[t - 1];
	}
}

/* The schema of the features x1..xp and the target y. */
static int make_schema(const struct layout *L, struct ml_schema *sc)
{
	char name[16];
	int k;

	ml_schema_init(sc);
	for (k = 0; k < L->p; k++) {
		snprintf(name, sizeof(name), "x%d", k + 1);
		if (ml_schema_add(sc, name, ML_NUM) < 0)
			return ML_E_NOMEM;
	}
	return ml_schema_add(sc, "y", ML_NUM) < 0 ? ML_E_NOMEM : 0;
}

static void gbm_free(void *state)
{
	struct gbm *g = state;
	int i;

	if (!g)
		return;
	for (i = 0; i < g->nmodel; i++)
		ml_learner_free(g->l[i]);
	free(g->l);
	free(g->fit);
	ml_fc_conformal_free(&g->cal);
	free(g);
}

/* Fit the model of step j (0: the next value) on rows t = maxlag .. n - 1 - j. */
static int fit_step(struct gbm *g, const struct ml_series *s, const struct ml_params *p, int j,
		    struct ml_ctx *ctx, struct ml_err *e)
{
	const struct layout *L = &g->L;
	struct ml_frame fr;
	struct ml_train_spec spec;
	size_t t, nrow = s->n - (size_t)L->maxlag - (size_t)j, r;
	double f[GBM_MAXP];
	char buf[32];
	int k, rc;

	ml_frame_init(&fr);
	if (make_schema(L, &fr.schema) < 0 || ml_block_init(&fr.rows, &fr.schema, nrow, e) < 0) {
		ml_frame_release(&fr);
		return ml_err_nomem(e);
	}
	for (r = 0, t = (size_t)L->maxlag; r < nrow; r++, t++) {
		features(L, s->y, s, t, (size_t)j, g->scale, f);
		for (k = 0; k < L->p; k++)
			fr.rows.col[k].num[r] = f[k];
		fr.rows.col[L->p].num[r] = (s->y[t + (size_t)j] - s->y[t - 1]) / g->scale;
	}
	fr.rows.nrow = nrow;
	memset(&spec, 0, sizeof(spec));
	spec.target = "y";
	spec.task = ML_TASK_REGRESS;
	spec.name = "gbm";
	ml_params_init(&spec.params, ml_algo_find("gbdt"));
	snprintf(buf, sizeof(buf), "%d", (int)ml_param(p, "rounds"));
	rc = ml_params_set(&spec.params, "rounds", buf, e);
	snprintf(buf, sizeof(buf), "%.17g", ml_param(p, "learning-rate"));
	rc = rc < 0 ? rc : ml_params_set(&spec.params, "learning-rate", buf, e);
	snprintf(buf, sizeof(buf), "%d", (int)ml_param(p, "max-depth"));
	rc = rc < 0 ? rc : ml_params_set(&spec.params, "max-depth", buf, e);
	rc = rc < 0 ? rc : ml_params_set(&spec.params, "min-samples-leaf", "2", e);
	if (rc >= 0)
		rc = ml_learner_fit(&g->l[j], &fr, NULL, 0, NULL, 0, &spec, ctx, e);
	ml_frame_release(&fr);
	return rc < 0 ? rc : 0;
}

/* A one-row scorer of a model's features. */
struct scorer {
	struct ml_schema sc;
	struct ml_block b;
	struct ml_predictor *pr;
	int model; /* the model pr scores */
};

static int scorer_open(struct scorer *S, const struct gbm *g, struct ml_err *e)
{
	memset(S, 0, sizeof(*S));
	if (make_schema(&g->L, &S->sc) < 0 || ml_block_init(&S->b, &S->sc, 1, e) < 0) {
		ml_schema_release(&S->sc);
		return ml_err_nomem(e);
	}
	S->b.nrow = 1;
	S->model = -1;
	return 0;
}

static int scorer_run(struct scorer *S, const struct gbm *g, int model, const double *f,
		      double *out, struct ml_err *e)
{
	int k, rc;

	if (S->model != model) {
		ml_predictor_free(S->pr);
		S->model = -1;
		if (!(S->pr = ml_predictor_new(g->l[model])))
			return ml_err_nomem(e);
		if ((rc = ml_predictor_bind(S->pr, &S->sc, e)) < 0)
			return rc;
		S->model = model;
	}
	for (k = 0; k < g->L.p; k++)
		S->b.col[k].num[0] = f[k];
	return ml_predictor_predict(S->pr, &S->b, 0, 1, out, ML_OUT_VALUE, e);
}

static void scorer_close(struct scorer *S)
{
	ml_predictor_free(S->pr);
	ml_block_release(&S->b);
	ml_schema_release(&S->sc);
}

/* The means of steps 1..h. */
static int gbm_path(const struct gbm *g, const struct ml_series *s, int h, double *mean,
		    struct ml_err *e)
{
	struct scorer S;
	double *x = malloc((s->n + (size_t)h) * sizeof(double));
	double f[GBM_MAXP], d;
	int t, rc = 0;

	if (!x)
		return ml_err_nomem(e);
	if ((rc = scorer_open(&S, g, e)) < 0) {
		free(x);
		return rc;
	}
	memcpy(x, s->y, s->n * sizeof(double));
	if (g->nmodel > 1) {
		/* direct: model t from the features at the end of the series */
		for (t = 0; t < h && t < g->nmodel && rc >= 0; t++) {
			features(&g->L, x, s, s->n, (size_t)t, g->scale, f);
			if ((rc = scorer_run(&S, g, t, f, &d, e)) >= 0)
				x[s->n + (size_t)t] = mean[t] = s->y[s->n - 1] + g->scale * d;
		}
	} else {
		t = 0;
	}
	/* recursive (and direct beyond its models): the next value from the last ones */
	for (; t < h && rc >= 0; t++) {
		features(&g->L, x, s, s->n + (size_t)t, 0, g->scale, f);
		if ((rc = scorer_run(&S, g, 0, f, &d, e)) >= 0)
			x[s->n + (size_t)t] = mean[t] = x[s->n + (size_t)t - 1] + g->scale * d;
	}
	scorer_close(&S);
	free(x);
	return rc < 0 ? rc : 0;
}

static int gbm_fit(void **state, const struct ml_series *s, const struct ml_params *p,
		   struct ml_ctx *ctx, struct ml_err *e)
{
	struct gbm *g = calloc(1, sizeof(*g));
	int H = (int)ml_param(p, "horizon"), K = (int)ml_param(p, "calibration"), j, rc;
	double f[GBM_MAXP], ss = 0, d;
	size_t t, cnt = 0;
	struct scorer S;

	if (!g)
		return ml_err_nomem(e);
	if (H <= 0)
		H = s->nseason ? 2 * s->season[0] : 10;
	layout(&g->L, s, (int)ml_param(p, "lags"));
	g->n = s->n;
	if (s->n < (size_t)g->L.maxlag + 10) {
		int maxlag = g->L.maxlag;
		free(g);
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				  "--model gbm needs at least %d values for lags up to %d; the "
				  "series has %zu",
				  maxlag + 10, maxlag, s->n);
	}
	for (t = 1; t < s->n; t++)
		g->scale += fabs(s->y[t] - s->y[t - 1]);
	g->scale /= (double)(s->n - 1);
	if (!(g->scale > 0))
		g->scale = fabs(s->y[0]) > 0 ? fabs(s->y[0]) : 1;
	/* direct: a model per step while each keeps ten rows */
	g->nmodel = 1;
	if (ml_param(p, "strategy") == 1) {
		size_t most = s->n - (size_t)g->L.maxlag - 9;
		g->nmodel = (size_t)H < most ? H : (int)most;
	}
	if (!(g->l = calloc((size_t)g->nmodel, sizeof(*g->l))) ||
	    !(g->fit = malloc(s->n * sizeof(double)))) {
		gbm_free(g);
		return ml_err_nomem(e);
	}
	for (j = 0; j < g->nmodel; j++)
		if ((rc = fit_step(g, s, p, j, ctx, e)) < 0) {
			gbm_free(g);
			return rc;
		}
	/* one-step fitted values and their residual variance */
	if ((rc = scorer_open(&S, g, e)) < 0) {
		gbm_free(g);
		return rc;
	}
	for (t = 0; t < s->n; t++) {
		g->fit[t] = NAN;
		if (t < (size_t)g->L.maxlag)
			continue;
		features(&g->L, s->y, s, t, 0, g->scale, f);
		if ((rc = scorer_run(&S, g, 0, f, &d, e)) < 0)
			break;
		g->fit[t] = s->y[t - 1] + g->scale * d;
		ss += (s->y[t] - g->fit[t]) * (s->y[t] - g->fit[t]);
		cnt++;
	}
	scorer_close(&S);
	if (rc < 0) {
		gbm_free(g);
		return rc;
	}
	g->sigma2 = cnt ? ss / (double)cnt : 0;
	if (K > 0) {
		struct ml_params q = *p;
		if ((rc = ml_params_set(&q, "calibration", "0", e)) < 0 ||
		    (rc = ml_fc_conformal_fit(&g->cal, &ml_fc_gbm, s, &q, H, K, ctx, e)) < 0) {
			gbm_free(g);
			return rc;
		}
	}
	*state = g;
	return 0;
}

static int gbm_forecast(const void *state, const struct ml_series *s, int h,
			const double *level, int nlevel, double *mean, double *lo, double *hi,
			struct ml_err *e)
{
	const struct gbm *g = state;
	int rc, k, t;

	if ((rc = gbm_path(g, s, h, mean, e)) < 0)
		return rc;
	if (!nlevel || ml_fc_conformal_bounds(&g->cal, mean, h, level, nlevel, lo, hi) == 0)
		return 0;
	for (k = 0; k < nlevel; k++) {
		double z = ml_norm_ppf(0.5 + level[k] / 200);
		for (t = 0; t < h; t++) {
			double w = z * sqrt(g->sigma2 * (t + 1));
			lo[(size_t)k * (size_t)h + (size_t)t] = mean[t] - w;
			hi[(size_t)k * (size_t)h + (size_t)t] = mean[t] + w;
		}
	}
	return 0;
}

static int gbm_fitted(const void *state, const struct ml_series *s, double *out)
{
	const struct gbm *g = state;

	memcpy(out, g->fit, s->n * sizeof(double));
	return 0;
}

static double gbm_sigma2(const void *state)
{
	return ((const struct gbm *)state)->sigma2;
}

static int gbm_save(const void *state, struct ml_model *m, struct ml_err *e)
{
	const struct gbm *g = state;
	cJSON *meta = ml_model_meta(m);

	if (!cJSON_AddNumberToObject(meta, "features", g->L.p) ||
	    !cJSON_AddNumberToObject(meta, "models", g->nmodel) ||
	    !cJSON_AddNumberToObject(meta, "calibration_origins", g->cal.K))
		return ml_err_nomem(e);
	return 0;
}

/* The trees are deterministic (no row or column sampling): loading fits the stored series
 * again. */
static int gbm_load(void **state, const struct ml_model *m, const struct ml_series *s,
		    const struct ml_params *p, struct ml_err *e)
{
	(void)m;
	return gbm_fit(state, s, p, NULL, e);
}

const struct ml_fc_method ml_fc_gbm = {
	.name = "gbm",
	.summary = "gradient boosted trees on lags, rolling means and season positions",
	.params = gbm_params,
	.xreg = 1,
	.min_length = gbm_min,
	.fit = gbm_fit,
	.forecast = gbm_forecast,
	.fitted = gbm_fitted,
	.sigma2 = gbm_sigma2,
	.save = gbm_save,
	.load = gbm_load,
	.free = gbm_free,
};
