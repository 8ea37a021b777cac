/* Unit tests of forecasting with exogenous regressors against R (tests/fixtures/xreg, made
 * by tests/fixtures/gen_xreg.R on samples/seatbelts.csv): tslm with regressors, regression
 * with ARIMA errors at fixed orders and auto.arima's orders; prophet recovering a known
 * effect and a holiday column; gbm following a strong regressor; what-if forecasts, saved
 * forecasters and the methods that take no regressors. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml.h"
#include "unit.h"

#define FIX "tests/fixtures/xreg/"
#define NH 180 /* history */
#define NF 12  /* future */
#define NT (NH + NF)

static double drivers[NH], front[NH], X[2 * NT]; /* X: PetrolPrice, then law */
static int loaded;

static double num(const struct ml_frame *f, const char *col, size_t r)
{
	int c = ml_schema_find(&f->schema, col);
	CHECK(c >= 0 && f->schema.cols[c].type == ML_NUM);
	return c >= 0 && f->schema.cols[c].type == ML_NUM ? f->rows.col[c].num[r] : NAN;
}

static const char *text(const struct ml_frame *f, const char *col, size_t r)
{
	int c = ml_schema_find(&f->schema, col);
	CHECK(c >= 0 && f->schema.cols[c].type == ML_CAT);
	if (c < 0 || f->schema.cols[c].type != ML_CAT)
		return "";
	return f->schema.cols[c].dict.str[f->rows.col[c].cat[r]];
}

static int load(void)
{
	struct ml_frame a, b;
	size_t r;

	if (loaded)
		return 0;
	if (unit_read_frame(&a, FIX, "series.csv", NULL) < 0)
		return -1;
	if (unit_read_frame(&b, FIX, "future.csv", NULL) < 0) {
		ml_frame_release(&a);
		return -1;
	}
	CHECK(a.rows.nrow == NH && b.rows.nrow == NF);
	for (r = 0; r < NH && r < a.rows.nrow; r++) {
		drivers[r] = num(&a, "drivers", r);
		front[r] = num(&a, "front", r);
		X[r] = num(&a, "PetrolPrice", r);
		X[NT + r] = num(&a, "law", r);
	}
	for (r = 0; r < NF && r < b.rows.nrow; r++) {
		X[NH + r] = num(&b, "PetrolPrice", r);
		X[NT + NH + r] = num(&b, "law", r);
	}
	loaded = a.rows.nrow == NH && b.rows.nrow == NF;
	ml_frame_release(&a);
	ml_frame_release(&b);
	return loaded ? 0 : -1;
}

/* A monthly series of n values with nx regressors, each xlen values long in x. */
static void monthly(struct ml_series *s, const double *y, size_t n, const double *x, size_t xlen,
		    int nx)
{
	memset(s, 0, sizeof(*s));
	s->y = y;
	s->n = n;
	s->season[0] = 12;
	s->nseason = 1;
	s->x = x;
	s->xlen = xlen;
	s->nx = nx;
}

/* The next state of a 64-bit linear congruential generator (Knuth's MMIX constants). */
static uint64_t lcg(uint64_t *st)
{
	return *st = *st * 6364136223846793005ull + 1442695040888963407ull;
}

static struct ml_forecaster *fit(const char *method, const struct ml_series *s,
				 const char *const *params, struct ml_err *e)
{
	const struct ml_fc_method *m = ml_fc_method_find(method);
	struct ml_params p;
	struct ml_forecaster *f = NULL;

	ml_err_init(e);
	CHECK(m != NULL);
	if (!m)
		return NULL;
	ml_fc_params_init(&p, m);
	for (; params && *params; params += 2)
		CHECK(ml_params_set(&p, params[0], params[1], e) == 0);
	if (ml_fc_fit(&f, m, s, &p, NULL, e) < 0) {
		fprintf(stderr, "fit %s: %s\n", method, e->msg);
		return NULL;
	}
	return f;
}

static cJSON *meta(const struct ml_forecaster *f)
{
	struct ml_model *m = NULL;
	struct ml_err e;
	cJSON *j = NULL;
	char *js;

	ml_err_init(&e);
	if (ml_fc_to_model(f, &m, &e) < 0)
		return NULL;
	if ((js = ml_model_meta_json(m)))
		j = cJSON_Parse(js);
	free(js);
	ml_model_free(m);
	return j;
}

/* Compare a 12-step forecast at levels 80, 95 with R's file, relative tolerance tol. */
static void check_fc(const struct ml_forecaster *f, const char *file, double tol)
{
	char path[256];
	struct ml_frame r;
	static const char *const col[5] = {"mean", "lo_80", "hi_80", "lo_95", "hi_95"};
	double mean[NF], lo[2 * NF], hi[2 * NF], lv[2] = {80, 95};
	const double *got[5] = {mean, lo, hi, lo + NF, hi + NF};
	struct ml_err e;
	int t, k;

	snprintf(path, sizeof(path), FIX "%s.csv", file);
	if (unit_read_frame(&r, NULL, path, NULL) < 0)
		return;
	ml_err_init(&e);
	CHECK(ml_fc_forecast(f, NF, lv, 2, mean, lo, hi, &e) == 0);
	for (t = 0; t < NF && (size_t)t < r.rows.nrow; t++)
		for (k = 0; k < 5; k++)
			CHECK_NEAR(got[k][t], num(&r, col[k], (size_t)t), tol);
	ml_frame_release(&r);
}

static void test_linear(void)
{
	struct ml_series s;
	struct ml_forecaster *f;
	struct ml_frame r;
	struct ml_err e;
	cJSON *j;
	const cJSON *c;
	size_t i = 0;

	if (load() < 0)
		return;
	monthly(&s, drivers, NH, X, NT, 2);
	if (!(f = fit("linear", &s, NULL, &e)))
		return;
	if (unit_read_frame(&r, FIX, "linear.csv", NULL) == 0) {
		j = meta(f);
		c = cJSON_GetObjectItemCaseSensitive(j, "coefficients");
		CHECK(cJSON_GetArraySize(c) == (int)r.rows.nrow);
		/* R: intercept, trend, season2..12, PetrolPrice, law; the same order here */
		for (i = 0; i < r.rows.nrow && (int)i < cJSON_GetArraySize(c); i++)
			CHECK_NEAR(cJSON_GetArrayItem(c, (int)i)->valuedouble, num(&r, "coef", i), 1e-8);
		cJSON_Delete(j);
		ml_frame_release(&r);
	}
	check_fc(f, "linear_fc", 1e-8);
	ml_fc_free(f);
}

static void parse_coef(const char *s, double *c, int *n)
{
	char *end;
	*n = 0;
	while (*s && *n < 16) {
		c[(*n)++] = strtod(s, &end);
		s = *end == ';' ? end + 1 : end;
		if (end == s && *s != ';' && !*end)
			break;
	}
}

/* A number in the forecaster's metadata. */
static double jnum(const cJSON *j, const char *key)
{
	return cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, key));
}

/* The metadata's key against R's value in column key of row i, to 1e-6. */
static void check_stat(const cJSON *j, const char *key, const struct ml_frame *r, size_t i)
{
	CHECK(fabs(jnum(j, key) - num(r, key, i)) < 1e-6);
}

/* arima with parameters pr (NULL: auto.arima's search) fitted on the series that row i
 * of R's table r names (drivers or front), s holding it; NULL (a failed check) when it
 * does not fit, else the forecaster with its metadata in *j. */
static struct ml_forecaster *fit_row(const struct ml_frame *r, size_t i, const char *const *pr,
				     struct ml_series *s, cJSON **j)
{
	struct ml_forecaster *f;
	struct ml_err e;

	monthly(s, strcmp(text(r, "y", i), "front") == 0 ? front : drivers, NH, X, NT, 2);
	if (!(f = fit("arima", s, pr, &e))) {
		CHECK(!"fitted");
		return NULL;
	}
	*j = meta(f);
	return f;
}

static void test_arima_fixed(void)
{
	struct ml_frame r;
	size_t i;

	if (load() < 0 || unit_read_frame(&r, FIX, "fixed.csv", NULL) < 0)
		return;
	for (i = 0; i < r.rows.nrow; i++) {
		struct ml_series s;
		struct ml_forecaster *f;
		char ord[64], sord[64], fc[64];
		const char *pr[] = {"order", ord, "seasonal-order", sord, NULL};
		double want[16];
		int nw, k = 0;
		cJSON *j;
		const cJSON *c, *it;

		snprintf(ord, sizeof(ord), "%g,%g,%g", num(&r, "p", i), num(&r, "d", i), num(&r, "q", i));
		snprintf(sord, sizeof(sord), "%g,%g,%g", num(&r, "P", i), num(&r, "D", i),
			 num(&r, "Q", i));
		if (!(f = fit_row(&r, i, pr, &s, &j)))
			continue;
		fprintf(stderr, "# %s: loglik %.10g (R %.10g) aicc %.10g (R %.10g)\n",
			text(&r, "name", i), jnum(j, "loglik"), num(&r, "loglik", i),
			jnum(j, "aicc"), num(&r, "aicc", i));
		check_stat(j, "loglik", &r, i);
		check_stat(j, "aicc", &r, i);
		parse_coef(text(&r, "coef", i), want, &nw);
		c = cJSON_GetObjectItemCaseSensitive(j, "coef");
		CHECK(cJSON_GetArraySize(c) == nw);
		cJSON_ArrayForEach(it, c)
		{
			if (k < nw)
				CHECK_NEAR(it->valuedouble, want[k], 1e-5);
			k++;
		}
		cJSON_Delete(j);
		snprintf(fc, sizeof(fc), "fixed_%s", text(&r, "name", i));
		check_fc(f, fc, 1e-7);
		ml_fc_free(f);
	}
	ml_frame_release(&r);
}

static void test_arima_auto(void)
{
	struct ml_frame r;
	size_t i;

	if (load() < 0 || unit_read_frame(&r, FIX, "auto.csv", NULL) < 0)
		return;
	for (i = 0; i < r.rows.nrow; i++) {
		struct ml_series s;
		struct ml_forecaster *f;
		char want[128], got[128];
		cJSON *j;
		const cJSON *c;

		if (!(f = fit_row(&r, i, NULL, &s, &j)))
			continue;
		c = cJSON_GetObjectItemCaseSensitive(j, "coef");
		snprintf(want, sizeof(want), "%g,%g,%g %g,%g,%g %g", num(&r, "p", i), num(&r, "d", i),
			 num(&r, "q", i), num(&r, "P", i), num(&r, "D", i), num(&r, "Q", i),
			 num(&r, "constant", i));
		snprintf(got, sizeof(got), "%s %s %d",
			 cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "order")),
			 cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "seasonal_order")),
			 cJSON_GetObjectItemCaseSensitive(c, "intercept") ||
				 cJSON_GetObjectItemCaseSensitive(c, "drift"));
		fprintf(stderr, "# auto %s: %s (R %s), aicc %.10g (R %.10g)\n", text(&r, "y", i), got,
			want, jnum(j, "aicc"), num(&r, "aicc", i));
		CHECK(strcmp(got, want) == 0);
		if (strcmp(got, want) == 0)
			check_stat(j, "aicc", &r, i);
		cJSON_Delete(j);
		ml_fc_free(f);
	}
	ml_frame_release(&r);
}

/* What-if: changing the future regressors moves linear's forecast by exactly the
 * coefficient times the change; a saved forecaster needs the future given. */
static void test_scenario_and_saved(void)
{
	struct ml_series s;
	struct ml_forecaster *f, *g;
	struct ml_model *m = NULL;
	struct ml_err e;
	double base[NF], alt[NF], xf[2 * NF], lv = 95, lo[NF], hi[NF], blaw;
	cJSON *j;
	int t;

	if (load() < 0)
		return;
	monthly(&s, drivers, NH, X, NT, 2);
	if (!(f = fit("linear", &s, NULL, &e)))
		return;
	j = meta(f);
	blaw = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "coefficients"), 14)->valuedouble;
	cJSON_Delete(j);
	CHECK(ml_fc_forecast(f, NF, NULL, 0, base, NULL, NULL, &e) == 0);
	for (t = 0; t < NF; t++) {
		xf[t] = X[NH + t];
		xf[NF + t] = 0; /* no seat belt law in 1984 */
	}
	CHECK(ml_fc_forecast_x(f, NF, xf, NULL, 0, alt, NULL, NULL, &e) == 0);
	for (t = 0; t < NF; t++)
		CHECK_NEAR(alt[t] - base[t], -blaw, 1e-9);
	/* more steps than the future holds */
	ml_err_init(&e);
	CHECK(ml_fc_forecast(f, NF + 1, NULL, 0, alt, NULL, NULL, &e) == ML_E_USAGE);
	CHECK(ml_fc_to_model(f, &m, &e) == 0);
	g = m ? ml_fc_from_model(m, &e) : NULL;
	CHECK(g != NULL);
	if (g) {
		CHECK(ml_fc_nx(g) == 2);
		ml_err_init(&e);
		CHECK(ml_fc_forecast(g, NF, &lv, 1, alt, lo, hi, &e) == ML_E_USAGE);
		CHECK(strstr(e.msg, "regressor") != NULL);
		for (t = 0; t < NF; t++)
			xf[NF + t] = X[NT + NH + t];
		CHECK(ml_fc_forecast_x(g, NF, xf, NULL, 0, alt, NULL, NULL, &e) == 0);
		for (t = 0; t < NF; t++)
			CHECK(alt[t] == base[t]);
		ml_fc_free(g);
	}
	ml_model_free(m);
	ml_fc_free(f);
}

/* Methods without regressors refuse them; the others fit. */
static void test_refused(void)
{
	const char *no[] = {"naive", "snaive", "drift", "mean", "ets", "theta", "combo", NULL};
	const char *yes[] = {"arima", "linear", "prophet", "gbm", "auto", "ensemble", NULL};
	struct ml_series s;
	struct ml_err e;
	int i;

	if (load() < 0)
		return;
	monthly(&s, drivers, NH, X, NT, 2);
	for (i = 0; no[i]; i++) {
		const struct ml_fc_method *m = ml_fc_method_find(no[i]);
		struct ml_params p;
		struct ml_forecaster *f = NULL;
		ml_err_init(&e);
		CHECK(m && !ml_fc_method_xreg(m));
		if (!m)
			continue;
		ml_fc_params_init(&p, m);
		CHECK(ml_fc_fit(&f, m, &s, &p, NULL, &e) == ML_E_USAGE);
		CHECK(strstr(e.msg, no[i]) != NULL);
		ml_fc_free(f);
	}
	for (i = 0; yes[i]; i++)
		CHECK(ml_fc_method_xreg(ml_fc_method_find(yes[i])));
}

/* prophet: a regressor's known effect is recovered, and a holiday column moves the
 * forecast on its dates only. */
static void test_prophet(void)
{
	enum { N = 300, H = 20 };
	static double y[N], x[2 * (N + H)], y0[N];
	struct ml_series s;
	struct ml_forecaster *f;
	struct ml_err e;
	double a[H], b[H], xf[2 * H];
	uint64_t st = 42;
	cJSON *j;
	int t;

	for (t = 0; t < N + H; t++) {
		double u;
		u = (double)(lcg(&st) >> 11) / 9007199254740992.0;
		x[t] = 5 + 3 * sin(t / 7.0) + u;	  /* a continuous driver */
		x[N + H + t] = t % 30 == 3 ? 1 : 0; /* an event every 30 steps */
		if (t < N) {
			u = (double)(lcg(&st) >> 11) / 9007199254740992.0 - 0.5;
			y0[t] = 100 + 0.2 * t + 10 * sin(2 * M_PI * t / 12) + u;
			y[t] = y0[t] + 4 * x[t] + 25 * x[N + H + t];
		}
	}
	monthly(&s, y, N, x, N + H, 2);
	if (!(f = fit("prophet", &s, NULL, &e)))
		return;
	j = meta(f);
	{
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "xreg");
		CHECK(cJSON_GetArraySize(c) == 2);
		if (cJSON_GetArraySize(c) == 2) {
			fprintf(stderr, "# prophet effects %.6g (4), %.6g (25)\n",
				cJSON_GetArrayItem(c, 0)->valuedouble, cJSON_GetArrayItem(c, 1)->valuedouble);
			CHECK(fabs(cJSON_GetArrayItem(c, 0)->valuedouble - 4) < 0.1);
			CHECK(fabs(cJSON_GetArrayItem(c, 1)->valuedouble - 25) < 0.5);
		}
	}
	cJSON_Delete(j);
	CHECK(ml_fc_forecast(f, H, NULL, 0, a, NULL, NULL, &e) == 0);
	for (t = 0; t < H; t++) {
		xf[t] = x[N + t];
		xf[H + t] = 0;
	}
	CHECK(ml_fc_forecast_x(f, H, xf, NULL, 0, b, NULL, NULL, &e) == 0);
	for (t = 0; t < H; t++) {
		if (x[N + H + N + t] == 1)
			CHECK(a[t] - b[t] > 20);
		else
			CHECK(fabs(a[t] - b[t]) < 1e-9);
	}
	ml_fc_free(f);
}

/* gbm: with a strong regressor, the forecast follows its future values. */
static void test_gbm(void)
{
	enum { N = 240, H = 12 };
	static double y[N], x[N + H];
	struct ml_series s;
	struct ml_forecaster *f;
	struct ml_err e;
	double lo[H], hi[H], xf[H];
	int t;

	uint64_t st = 7;

	for (t = 0; t < N + H; t++) {
		/* on or off at random, so that no lag of y tells it */
		x[t] = lcg(&st) >> 63 ? 1 : 0;
	}
	for (t = 0; t < N; t++)
		y[t] = 50 + 5 * sin(2 * M_PI * t / 12) + 30 * x[t];
	monthly(&s, y, N, x, N + H, 1);
	if (!(f = fit("gbm", &s, NULL, &e)))
		return;
	for (t = 0; t < H; t++)
		xf[t] = 1;
	CHECK(ml_fc_forecast_x(f, H, xf, NULL, 0, hi, NULL, NULL, &e) == 0);
	for (t = 0; t < H; t++)
		xf[t] = 0;
	CHECK(ml_fc_forecast_x(f, H, xf, NULL, 0, lo, NULL, NULL, &e) == 0);
	for (t = 0; t < H; t++) {
		CHECK(hi[t] - lo[t] > 15);
	}
	ml_fc_free(f);
}

/* Backtests forecast from past origins with the history's own regressor values: an exact
 * linear relation backtests without error. */
static void test_backtest(void)
{
	enum { N = 120 };
	static double y[N], x[N];
	const struct ml_fc_method *m = ml_fc_method_find("linear");
	struct ml_series s;
	struct ml_params p;
	struct ml_fc_score sc;
	struct ml_err e;
	double lv = 95;
	uint64_t st = 3;
	int t;

	for (t = 0; t < N; t++) {
		x[t] = (double)(lcg(&st) >> 40) / 16777216.0 * 10;
		y[t] = 10 + 0.5 * t + (t % 12 == 3 ? 4 : 0) + 3 * x[t];
	}
	monthly(&s, y, N, x, N, 1);
	ml_err_init(&e);
	ml_fc_params_init(&p, m);
	CHECK(ml_fc_backtest(m, &s, &p, 12, 4, &lv, 1, &sc, NULL, &e) == 0);
	CHECK(sc.norigin == 4 && sc.npoint > 0);
	CHECK(sc.mae < 1e-8);
}

int main(void)
{
	RUN(test_backtest);
	RUN(test_linear);
	RUN(test_arima_fixed);
	RUN(test_arima_auto);
	RUN(test_scenario_and_saved);
	RUN(test_refused);
	RUN(test_prophet);
	RUN(test_gbm);
	return UNIT_EXIT();
}
