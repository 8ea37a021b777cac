/* Unit tests of the arima forecasting method against R (tests/fixtures/arima, made by
 * tests/fixtures/gen_arima.R): log-likelihoods, coefficients and forecasts at fixed
 * orders, auto.arima's choice of orders, the differencing tests, and series that must
 * not break it (short, constant, trending, wild, long seasons). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ml/ml.h"
#include "ts/arima.h"
#include "ts/method.h"
#include "unit.h"

#define FIX "tests/fixtures/arima/"

static double *series(const char *name, size_t *n)
{
	char path[256];
	struct ml_frame f;
	double *y;

	snprintf(path, sizeof(path), FIX "%s.csv", name);
	if (unit_read_frame(&f, NULL, path, NULL) < 0)
		return NULL;
	*n = f.rows.nrow;
	if ((y = malloc(*n * sizeof(double))))
		memcpy(y, f.rows.col[0].num, *n * sizeof(double));
	ml_frame_release(&f);
	return y;
}

/* Column c of row r of a frame as text (numbers and categories alike). */
static double num(const struct ml_frame *f, const char *col, size_t r)
{
	int c = ml_schema_find(&f->schema, col);
	CHECK(c >= 0);
	if (c < 0)
		return NAN;
	return f->rows.col[c].num[r];
}

static const char *text(const struct ml_frame *f, const char *col, size_t r)
{
	int c = ml_schema_find(&f->schema, col);
	CHECK(c >= 0 && f->schema.cols[c].type == ML_CAT);
	if (c < 0 || f->schema.cols[c].type != ML_CAT)
		return "";
	return f->schema.cols[c].dict.str[f->rows.col[c].cat[r]];
}

static int period_of(const char *name)
{
	struct ml_frame f;
	size_t r;
	int m = 1;

	if (unit_read_frame(&f, FIX, "series.csv", NULL) < 0)
		return 1;
	for (r = 0; r < f.rows.nrow; r++)
		if (!strcmp(text(&f, "name", r), name))
			m = (int)num(&f, "period", r);
	ml_frame_release(&f);
	return m;
}

static struct ml_forecaster *fit(const double *y, size_t n, int m, const char *order,
				 const char *sorder, const char *drift, struct ml_err *e)
{
	const struct ml_fc_method *meth = ml_fc_method_find("arima");
	struct ml_series s;
	struct ml_params p;
	struct ml_forecaster *f = NULL;

	ml_err_init(e);
	CHECK(meth != NULL);
	if (!meth)
		return NULL;
	memset(&s, 0, sizeof(s));
	s.y = y;
	s.n = n;
	if (m > 1) {
		s.season[0] = m;
		s.nseason = 1;
	}
	ml_fc_params_init(&p, meth);
	if ((order && ml_params_set(&p, "order", order, e) < 0) ||
	    (sorder && ml_params_set(&p, "seasonal-order", sorder, e) < 0) ||
	    (drift && ml_params_set(&p, "drift", drift, e) < 0))
		return NULL;
	ml_fc_fit(&f, meth, &s, &p, NULL, e);
	return f;
}

/* The forecaster's metadata as parsed JSON. */
static cJSON *meta(const struct ml_forecaster *f)
{
	struct ml_model *m = NULL;
	struct ml_err e;
	cJSON *j = NULL;
	char *js;

	if (ml_fc_to_model(f, &m, &e) < 0)
		return NULL;
	if ((js = ml_model_meta_json(m)))
		j = cJSON_Parse(js);
	free(js);
	ml_model_free(m);
	return j;
}

static double meta_num(const cJSON *j, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* Every forecast and bound finite, lo <= mean <= hi. */
static int finite_forecasts(const struct ml_forecaster *f, int h)
{
	static const double level[2] = {80, 95};
	double mean[64], lo[128], hi[128];
	struct ml_err e;
	int t;

	if (h > 64 || ml_fc_forecast(f, h, level, 2, mean, lo, hi, &e) < 0)
		return 0;
	for (t = 0; t < h; t++)
		if (!isfinite(mean[t]) || !isfinite(lo[t]) || !isfinite(hi[h + t]) ||
		    !(lo[h + t] <= lo[t] && lo[t] <= mean[t] && mean[t] <= hi[t] && hi[t] <= hi[h + t]))
			return 0;
	return 1;
}

/* Fixed orders: log-likelihood, coefficients, sigma2, AICc and 24 forecasts with 80 and 95%
 * intervals as R's forecast::Arima and forecast(). */
static void test_fixed_orders(void)
{
	static const double level[2] = {80, 95};
	static const char *const col[] = {"mean", "lo_80", "hi_80", "lo_95", "hi_95"};
	struct ml_frame fx, fc;
	size_t r, n, t;
	int k, checked = 0;

	if (unit_read_frame(&fx, FIX, "fixed.csv", NULL) < 0)
		return;
	for (r = 0; r < fx.rows.nrow; r++) {
		const char *name = text(&fx, "name", r);
		char order[64], sorder[64], path[256], coefs[1024], *tok, *save = NULL;
		double *y = series(name, &n), mean[24], lo[48], hi[48];
		struct ml_forecaster *f;
		struct ml_err e;
		const cJSON *c, *it;
		cJSON *j;
		if (!y)
			continue;
		snprintf(order, sizeof(order), "%g,%g,%g", num(&fx, "p", r), num(&fx, "d", r),
			 num(&fx, "q", r));
		snprintf(sorder, sizeof(sorder), "%g,%g,%g", num(&fx, "P", r), num(&fx, "D", r),
			 num(&fx, "Q", r));
		f = fit(y, n, period_of(name), order, sorder, num(&fx, "drift", r) ? "on" : NULL, &e);
		CHECK(f != NULL);
		if (!f) {
			fprintf(stderr, "%s: %s\n", name, e.msg);
			free(y);
			continue;
		}
		j = meta(f);
		CHECK_NEAR(meta_num(j, "loglik"), num(&fx, "loglik", r), 1e-6);
		CHECK_NEAR(meta_num(j, "aicc"), num(&fx, "aicc", r), 1e-6);
		CHECK_NEAR(ml_fc_sigma2(f), num(&fx, "sigma2", r), 1e-4);
		/* coefficients in R's order */
		snprintf(coefs, sizeof(coefs), "%s", text(&fx, "coef", r));
		c = cJSON_GetObjectItemCaseSensitive(j, "coef");
		it = c ? c->child : NULL;
		for (tok = strtok_r(coefs, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
			CHECK(it != NULL);
			if (!it)
				break;
			CHECK_NEAR(it->valuedouble, strtod(tok, NULL), 1e-4);
			it = it->next;
		}
		CHECK(it == NULL);
		cJSON_Delete(j);
		CHECK(ml_fc_forecast(f, 24, level, 2, mean, lo, hi, &e) == 0);
		snprintf(path, sizeof(path), FIX "fixed_%s.csv", name);
		if (unit_read_frame(&fc, NULL, path, NULL) == 0) {
			CHECK(fc.rows.nrow == 24);
			for (k = 0; k < 5 && fc.rows.nrow == 24; k++) {
				const double *got = k == 0 ? mean : k % 2 ? lo + (k / 2) * 24 : hi + (k / 2 - 1) * 24;
				for (t = 0; t < 24; t++)
					CHECK_NEAR(got[t], num(&fc, col[k], t), 1e-4);
			}
			ml_frame_release(&fc);
		}
		checked++;
		ml_fc_free(f);
		free(y);
	}
	CHECK(checked >= 10);
	ml_frame_release(&fx);
}

/* auto.arima's orders, constant and AICc on every series. */
static void test_auto_orders(void)
{
	struct ml_frame fx;
	size_t r, n;
	int checked = 0;

	if (unit_read_frame(&fx, FIX, "auto.csv", NULL) < 0)
		return;
	for (r = 0; r < fx.rows.nrow; r++) {
		const char *name = text(&fx, "name", r);
		char want[160], got[160];
		double *y = series(name, &n);
		struct ml_forecaster *f;
		struct ml_err e;
		const cJSON *c;
		cJSON *j;
		int constant;
		if (!y)
			continue;
		f = fit(y, n, period_of(name), NULL, NULL, NULL, &e);
		CHECK(f != NULL);
		if (!f) {
			free(y);
			continue;
		}
		j = meta(f);
		snprintf(want, sizeof(want), "%g,%g,%g %g,%g,%g", num(&fx, "p", r), num(&fx, "d", r),
			 num(&fx, "q", r), num(&fx, "P", r), num(&fx, "D", r), num(&fx, "Q", r));
		snprintf(got, sizeof(got), "%.60s %.60s",
			 cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "order")),
			 cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "seasonal_order")));
		if (strcmp(want, got))
			fprintf(stderr, "%s: auto.arima %s, ours %s\n", name, want, got);
		CHECK(!strcmp(want, got));
		c = cJSON_GetObjectItemCaseSensitive(j, "coef");
		constant = cJSON_GetObjectItemCaseSensitive(c, "intercept") != NULL ||
			   cJSON_GetObjectItemCaseSensitive(c, "drift") != NULL;
		CHECK(constant == (int)num(&fx, "constant", r));
		CHECK_NEAR(meta_num(j, "aicc"), num(&fx, "aicc", r), 1e-6);
		CHECK(finite_forecasts(f, 30));
		cJSON_Delete(j);
		checked++;
		ml_fc_free(f);
		free(y);
	}
	CHECK(checked >= 14);
	ml_frame_release(&fx);
}

/* Series that must give a model and finite forecasts, or a clear error. */
static void test_robust(void)
{
	double y[400], cst[30], mean[5];
	struct ml_forecaster *f;
	struct ml_err e;
	size_t i;
	int k;
	unsigned s = 7;

	for (i = 0; i < 30; i++)
		cst[i] = 4.5;
	f = fit(cst, 30, 12, NULL, NULL, NULL, &e);
	CHECK(f && finite_forecasts(f, 12));
	if (f) {
		CHECK(ml_fc_forecast(f, 5, NULL, 0, mean, NULL, NULL, &e) == 0 && mean[4] == 4.5);
		ml_fc_free(f);
	}
	/* a straight line: the differences are constant, the drift is exact */
	for (i = 0; i < 40; i++)
		y[i] = 3 + 2 * (double)i;
	f = fit(y, 40, 1, NULL, NULL, NULL, &e);
	CHECK(f && finite_forecasts(f, 10));
	if (f) {
		CHECK(ml_fc_forecast(f, 5, NULL, 0, mean, NULL, NULL, &e) == 0);
		CHECK_NEAR(mean[0], 83, 1e-9);
		ml_fc_free(f);
	}
	/* short series of every length from 3, seasonal and not, smooth and wild */
	for (k = 0; k < 4; k++)
		for (i = 3; i < 40; i++) {
			size_t t;
			for (t = 0; t < i; t++) {
				s = s * 1103515245u + 12345u;
				y[t] = k == 0   ? (double)(s >> 16) / 65536.0
				       : k == 1 ? 100 + (double)t + 5 * sin((double)t)
				       : k == 2 ? ((s >> 16) % 7 == 0 ? 1e6 : 1.0)
						: exp((double)t / 3);
			}
			f = fit(y, i, k % 2 ? 4 : 12, NULL, NULL, NULL, &e);
			CHECK(f != NULL);
			if (!f) {
				fprintf(stderr, "kind %d, n %zu: %s\n", k, i, e.msg);
				continue;
			}
			CHECK(finite_forecasts(f, 8));
			ml_fc_free(f);
		}
	/* fixed orders too long for the series, and bad order lists */
	f = fit(y, 10, 12, "1,1,1", "1,1,1", NULL, &e);
	CHECK(f == NULL && e.code == ML_E_DATA);
	CHECK(strstr(e.msg, "ARIMA(1,1,1)(1,1,1)[12] needs at least") != NULL);
	f = fit(y, 30, 1, "1,1", NULL, NULL, &e);
	CHECK(f == NULL && e.code == ML_E_USAGE);
	CHECK(!strcmp(e.msg, "--order takes p,d,q (three numbers)"));
	f = fit(y, 30, 1, "1,0,0", "1,0,0", NULL, &e);
	CHECK(f == NULL && e.code == ML_E_USAGE);
}

/* Long seasons become Fourier terms and fit in seconds. */
static void test_long_season(void)
{
	size_t n = 2016, t;
	double *y = malloc(n * sizeof(double)), mean[48];
	struct ml_forecaster *f;
	struct ml_err e;
	clock_t c0;
	unsigned s = 11;
	cJSON *j;

	if (!y)
		return;
	for (t = 0; t < n; t++) {
		s = s * 1103515245u + 12345u;
		y[t] = 50 + 10 * sin(2 * M_PI * (double)t / 336) + 3 * cos(4 * M_PI * (double)t / 336) +
		       (double)((s >> 16) % 100) / 50.0;
	}
	c0 = clock();
	f = fit(y, n, 336, NULL, NULL, NULL, &e);
	CHECK(f != NULL);
	CHECK((double)(clock() - c0) / CLOCKS_PER_SEC < 20);
	if (f) {
		j = meta(f);
		CHECK(meta_num(j, "fourier_336") >= 2);
		cJSON_Delete(j);
		CHECK(finite_forecasts(f, 48));
		CHECK(ml_fc_forecast(f, 48, NULL, 0, mean, NULL, NULL, &e) == 0);
		/* the season is forecast: the value a season ahead of the end */
		CHECK(fabs(mean[20] - (50 + 10 * sin(2 * M_PI * (double)(n + 20) / 336) +
				       3 * cos(4 * M_PI * (double)(n + 20) / 336) + 1)) < 2);
		ml_fc_free(f);
	}
	free(y);
}

/* The differencing tests against their R counterparts on known series. */
static void test_unit_roots(void)
{
	size_t n;
	double *y = series("nile", &n);

	if (y) {
		/* urca::ur.kpss(Nile, type = "mu", use.lag = 2)@teststat */
		CHECK_NEAR(kpss_stat(y, n), 1.315226, 1e-6);
		CHECK(arima_ndiffs(y, n, 2) == 1);
		free(y);
	}
	if ((y = series("co2", &n))) {
		CHECK(arima_nsdiffs(y, n, 12) == 1);
		free(y);
	}
	if ((y = series("lakehuron", &n))) {
		CHECK(arima_ndiffs(y, n, 2) == 1);
		free(y);
	}
}

/* A CSS fit without its state (what an approximate search ranks) has the same
 * coefficients, residuals and variance as one with it, and says that its state is not the
 * filtered one; with it, it forecasts. */
static void test_css_no_state(void)
{
	size_t n;
	double *y = series("co2", &n);
	struct arima_spec sp;
	struct arima_fit a, b;
	double mean[12], se2[12];
	size_t t;

	if (!y)
		return;
	memset(&sp, 0, sizeof(sp));
	sp.p = 1;
	sp.q = 1;
	sp.Q = 1;
	sp.d = 1;
	sp.D = 1;
	sp.m = 12;
	CHECK(arima_fit_defer(&a, y, n, &sp, ARIMA_CSS, NULL, ARIMA_NO_STATE) == 0);
	CHECK(arima_fit_defer(&b, y, n, &sp, ARIMA_CSS, NULL, 0) == 0);
	CHECK(!a.filtered && b.filtered);
	CHECK(a.sigma2 == b.sigma2 && a.var_ok == b.var_ok);
	CHECK(!memcmp(a.coef, b.coef, 3 * sizeof(double)));
	for (t = 0; t < n; t++)
		CHECK(a.resid[t] == b.resid[t] ||
		      (a.resid[t] != a.resid[t] && b.resid[t] != b.resid[t]));
	CHECK(arima_forecast(&b, 12, mean, se2) == 0);
	for (t = 0; t < 12; t++)
		CHECK(fabs(mean[t] - y[n - 12 + t]) < 5 && se2[t] > 0);
	arima_fit_release(&a);
	arima_fit_release(&b);
	free(y);
}

/* A backtest's refit of a model fitted by conditional sums of squares (auto's member past
 * 150 values) fits the origin's part the same way, at the same orders; one fitted by
 * likelihood refits by likelihood. */
static void test_refit_same_estimator(void)
{
	size_t n;
	double *y = series("co2", &n);
	const struct ml_fc_method *m = ml_fc_method_find("arima");
	struct ml_forecaster *f = NULL;
	struct ml_params p;
	struct ml_series s, sub;
	struct ml_err e;
	struct arima_fit a;
	const struct arima_fit *full;
	double mean[12], lo[12], hi[12], want[12], se2[12], l95 = 95;
	int t;

	if (!y)
		return;
	ml_err_init(&e);
	memset(&s, 0, sizeof(s));
	s.y = y;
	s.n = n;
	s.season[0] = 12;
	s.nseason = 1;
	ml_fc_params_init(&p, m);
	CHECK(ml_params_set(&p, "approximation", "on", &e) == 0 &&
	      ml_params_set(&p, "refit", "off", &e) == 0);
	CHECK(ml_fc_fit(&f, m, &s, &p, NULL, &e) == 0);
	if (!f) {
		free(y);
		return;
	}
	/* the state begins with its fit */
	full = ml_fc_state(f);
	CHECK(full->method == ARIMA_CSS);
	sub = s;
	sub.n = n - 24;
	CHECK(ml_arima_refit(ml_fc_state(f), &sub, 12, &l95, 1, mean, lo, hi, &e) == 0);
	CHECK(arima_fit(&a, y, n - 24, &full->s, ARIMA_CSS, NULL) == 0);
	CHECK(arima_forecast(&a, 12, want, se2) == 0);
	for (t = 0; t < 12; t++)
		CHECK(mean[t] == want[t]);
	arima_fit_release(&a);
	ml_fc_free(f);
	free(y);
}

/* Saved and loaded, a fitted model forecasts the same bytes. */
static void test_saved(void)
{
	static const double level[1] = {90};
	size_t n, len = 0;
	double *y = series("usaccdeaths", &n), a[12], b[12], la[12], lb[12], ha[12], hb[12];
	struct ml_forecaster *f, *g = NULL;
	struct ml_model *m = NULL;
	unsigned char *buf = NULL;
	struct ml_err e;

	if (!y)
		return;
	f = fit(y, n, 12, NULL, NULL, NULL, &e);
	CHECK(f && ml_fc_to_model(f, &m, &e) == 0);
	CHECK(m && ml_model_to_mem(m, &buf, &len, &e) == 0);
	ml_model_free(m);
	m = buf ? ml_model_from_mem(buf, len, "fc.mlm", &e) : NULL;
	CHECK(m && (g = ml_fc_from_model(m, &e)) != NULL);
	if (f && g) {
		CHECK(ml_fc_forecast(f, 12, level, 1, a, la, ha, &e) == 0);
		CHECK(ml_fc_forecast(g, 12, level, 1, b, lb, hb, &e) == 0);
		CHECK(!memcmp(a, b, sizeof(a)) && !memcmp(la, lb, sizeof(la)) &&
		      !memcmp(ha, hb, sizeof(ha)));
	}
	ml_model_free(m);
	free(buf);
	ml_fc_free(f);
	ml_fc_free(g);
	free(y);
}

int main(void)
{
	RUN(test_fixed_orders);
	RUN(test_auto_orders);
	RUN(test_unit_roots);
	RUN(test_robust);
	RUN(test_long_season);
	RUN(test_saved);
	RUN(test_css_no_state);
	RUN(test_refit_same_estimator);
	return UNIT_EXIT();
}
