/* Unit tests of the forecasting interface: the benchmark methods against R's forecast
 * package (tests/fixtures/forecast, made by tests/fixtures/gen_forecast.R), argument checks,
 * and forecasters saved as artefacts and loaded back. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml.h"
#include <cjson/cJSON.h>
#include "unit.h"

#define FIX "tests/fixtures/forecast/"
#define H 30

/* Column name of a frame as doubles, or NULL (with a failed check) when the file or column
 * is missing. */
static double *column(const char *path, const char *name, size_t *n)
{
	struct ml_frame f;
	double *v = NULL;
	int c;

	if (unit_read_frame(&f, NULL, path, NULL) < 0)
		return NULL;
	c = ml_schema_find(&f.schema, name);
	if (c < 0 || f.schema.cols[c].type != ML_NUM) {
		fprintf(stderr, "%s: no numeric column '%s'\n", path, name);
		CHECK(!"fixture column");
	} else if ((v = malloc((f.rows.nrow ? f.rows.nrow : 1) * sizeof(double)))) {
		memcpy(v, f.rows.col[c].num, f.rows.nrow * sizeof(double));
		*n = f.rows.nrow;
	}
	ml_frame_release(&f);
	return v;
}

static struct ml_forecaster *fit(const char *method, const double *y, size_t n, int season,
				 struct ml_err *e)
{
	struct ml_series s;
	struct ml_params p;
	struct ml_forecaster *f = NULL;
	const struct ml_fc_method *m = ml_fc_method_find(method);

	memset(&s, 0, sizeof(s));
	s.y = y;
	s.n = n;
	if (season) {
		s.season[0] = season;
		s.nseason = 1;
	}
	ml_err_init(e);
	if (!m)
		return NULL;
	ml_fc_params_init(&p, m);
	ml_fc_fit(&f, m, &s, &p, NULL, e);
	return f;
}

/* Forecasts and fitted values of method on a series against R's. */
static void against_r(const char *series, const char *method)
{
	static const double level[2] = {80, 95};
	static const char *const col[] = {"mean", "lo_80", "hi_80", "lo_95", "hi_95"};
	char path[256];
	double *y, mean[H], lo[2 * H], hi[2 * H], *fitted = NULL, *want;
	size_t n = 0, m = 0, t;
	struct ml_forecaster *f;
	struct ml_err e;
	int k;

	snprintf(path, sizeof(path), "samples/%s.csv", series);
	if (!(y = column(path, "y", &n)))
		return;
	f = fit(method, y, n, 12, &e);
	CHECK(f != NULL);
	if (!f) {
		fprintf(stderr, "%s %s: %s\n", series, method, e.msg);
		free(y);
		return;
	}
	CHECK(ml_fc_forecast(f, H, level, 2, mean, lo, hi, &e) == 0);
	snprintf(path, sizeof(path), FIX "%s_%s.csv", series, method);
	for (k = 0; k < 5; k++) {
		const double *got = k == 0 ? mean : k % 2 ? lo + (k / 2) * H : hi + (k / 2 - 1) * H;
		if (!(want = column(path, col[k], &m)))
			continue;
		CHECK(m == H);
		for (t = 0; t < m && t < H; t++)
			CHECK_NEAR(got[t], want[t], 1e-13);
		free(want);
	}
	snprintf(path, sizeof(path), FIX "%s_%s.fitted.csv", series, method);
	if ((want = column(path, "fitted", &m)) && (fitted = malloc(n * sizeof(double)))) {
		CHECK(m == n && ml_fc_fitted(f, fitted, &e) == 0);
		for (t = 0; t < m && t < n; t++) {
			if (isnan(want[t]))
				CHECK(isnan(fitted[t]));
			else
				CHECK_NEAR(fitted[t], want[t], 1e-13);
		}
	}
	free(want);
	free(fitted);
	ml_fc_free(f);
	free(y);
}

static void test_against_r(void)
{
	static const char *const methods[] = {"naive", "snaive", "drift", "mean"};
	int k;

	for (k = 0; k < 4; k++) {
		against_r("airpassengers", methods[k]);
		against_r("co2", methods[k]);
	}
}

static void test_checks(void)
{
	static const double y[] = {1, 2, 3, 4, 5}, gap[] = {1, NAN, 3};
	double mean[3], lo[3], hi[3], level = 100;
	struct ml_forecaster *f;
	struct ml_err e;

	CHECK(fit("snaive", y, 5, 0, &e) == NULL && e.code == ML_E_USAGE);
	CHECK(!strcmp(e.msg, "--model snaive needs a seasonal period (--season M)"));
	CHECK(fit("snaive", y, 5, 12, &e) == NULL && e.code == ML_E_DATA);
	CHECK(!strcmp(e.msg, "--model snaive needs at least 13 values; the series has 5"));
	CHECK(fit("naive", gap, 3, 0, &e) == NULL && e.code == ML_E_DATA);
	CHECK(!strcmp(e.msg, "value 2 of the series is missing (fill gaps before fitting --model "
			     "naive)"));
	CHECK(fit("drift", y, 2, 0, &e) == NULL);
	CHECK(fit("naive", y, 5, 1, &e) == NULL && e.code == ML_E_USAGE);
	f = fit("naive", y, 5, 0, &e);
	CHECK(f != NULL);
	if (f) {
		CHECK(ml_fc_forecast(f, 0, NULL, 0, mean, NULL, NULL, &e) == ML_E_USAGE);
		CHECK(ml_fc_forecast(f, 3, &level, 1, mean, lo, hi, &e) == ML_E_USAGE);
		CHECK(ml_fc_forecast(f, 3, NULL, 0, mean, NULL, NULL, &e) == 0 && mean[2] == 5);
		CHECK(ml_fc_nobs(f) == 5 && ml_fc_sigma2(f) == 1);
		ml_fc_free(f);
	}
	CHECK(ml_fc_method_find("nope") == NULL && ml_fc_methods()[0] != NULL);
	CHECK(ml_fc_method_params(ml_fc_method_find("naive"))[0].name == NULL);
}

/* Every method sums itself up, and fits a series of exactly its shortest length but not
 * one value shorter; seasonal naive needs a season and a value more. */
static void test_min_length(void)
{
	double y[40];
	const struct ml_fc_method *const *m;
	struct ml_series s;
	struct ml_params p;
	struct ml_forecaster *f;
	struct ml_err e;
	size_t i, need;
	int n = 0;

	for (i = 0; i < 40; i++)
		y[i] = 10 + (double)(i % 4) + 0.5 * (double)i;
	for (m = ml_fc_methods(); *m; m++, n++) {
		CHECK(ml_fc_method_summary(*m) && *ml_fc_method_summary(*m));
		memset(&s, 0, sizeof(s));
		s.y = y;
		s.season[0] = 4;
		s.nseason = 1;
		need = ml_fc_method_min_length(*m, &s);
		CHECK(need >= 2 && need < 40);
		if (need < 2 || need >= 40)
			continue;
		ml_fc_params_init(&p, *m);
		ml_err_init(&e);
		f = NULL;
		s.n = need;
		CHECK(ml_fc_fit(&f, *m, &s, &p, NULL, &e) == 0 && f != NULL);
		ml_fc_free(f);
		f = NULL;
		s.n = need - 1;
		CHECK(ml_fc_fit(&f, *m, &s, &p, NULL, &e) == ML_E_DATA && f == NULL);
		CHECK(strstr(e.msg, "needs at least") != NULL);
	}
	CHECK(n >= 4);
	memset(&s, 0, sizeof(s));
	s.season[0] = 12;
	s.nseason = 1;
	CHECK(ml_fc_method_min_length(ml_fc_method_find("snaive"), &s) == 13);
	CHECK(ml_fc_method_min_length(ml_fc_method_find("naive"), &s) == 2);
}

/* Saved and loaded, a forecaster forecasts the same bytes, and is an artefact of kind
 * "forecaster" with its fitted values as a table. */
static void test_saved(void)
{
	static const double level[1] = {90};
	size_t n = 0;
	double *y = column("samples/airpassengers.csv", "y", &n), a[12], b[12], la[12], lb[12],
	       ha[12], hb[12];
	struct ml_forecaster *f, *g = NULL;
	struct ml_model *m = NULL;
	struct ml_artefact *art;
	struct ml_frame t;
	struct ml_err e;
	unsigned char *buf = NULL;
	size_t len = 0;
	char *js;

	if (!y)
		return;
	f = fit("drift", y, n, 12, &e);
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
		CHECK(!strcmp(ml_fc_method_name(ml_fc_method_of(g)), "drift"));
	}
	art = m ? ml_artefact_from_model(m, "fc.mlm", &e) : NULL;
	m = NULL;
	CHECK(art && ml_artefact_check(art, &e) == 0 && ml_artefact_flags(art) == ML_ARTEFACT_KNOWN);
	if (art) {
		js = ml_artefact_describe(art, &e);
		CHECK(js && strstr(js, "\"kind\":\"forecaster\",\"algorithm\":\"drift\"") &&
		      strstr(js, "\"n\":144,\"seasons\":[12],\"params\":{}") && strstr(js, "\"drift\":"));
		free(js);
		ml_frame_init(&t);
		CHECK(ml_artefact_table(art, "fitted", &t, &e) == 0 && t.rows.nrow == 144);
		CHECK(t.rows.nrow == 144 && isnan(t.rows.col[2].num[0]) &&
		      t.rows.col[1].num[143] == y[143]);
		ml_frame_release(&t);
		CHECK(ml_scorer_new(art, NULL, &e) == NULL);
		ml_artefact_free(art);
	}
	free(buf);
	ml_fc_free(f);
	ml_fc_free(g);
	free(y);
}

/* One line of ets_series.csv: the values of series name and its period. */
static double *ets_series(const char *name, size_t *n, int *m)
{
	FILE *fp = fopen(FIX "ets_series.csv", "r");
	char *line = NULL;
	size_t cap = 0;
	double *y = NULL;

	*n = 0;
	if (!fp) {
		unit_fixture_failed(FIX "ets_series.csv", "cannot open");
		return NULL;
	}
	while (getline(&line, &cap, fp) > 0) {
		char *c = strchr(line, ','), *p;
		if (!c || (size_t)(c - line) != strlen(name) || strncmp(line, name, strlen(name)))
			continue;
		*m = (int)strtol(c + 1, &p, 10);
		y = malloc(2000 * sizeof(double));
		while (y && *p == ',' && *n < 2000) {
			y[(*n)++] = strtod(p + 1, &c);
			p = c;
		}
		break;
	}
	free(line);
	fclose(fp);
	CHECK(y != NULL);
	return y;
}

/* A number of the "ets" object of a fitted forecaster's metadata (NaN when absent). */
static double ets_meta(struct ml_forecaster *f, const char *key, char *model, size_t msize)
{
	struct ml_model *m = NULL;
	struct ml_err e;
	char *js;
	cJSON *o, *v;
	double r = NAN;

	ml_err_init(&e);
	if (ml_fc_to_model(f, &m, &e) < 0)
		return NAN;
	js = ml_model_meta_get(m, "ets");
	o = js ? cJSON_Parse(js) : NULL;
	if ((v = cJSON_GetObjectItemCaseSensitive(o, key)) && cJSON_IsNumber(v))
		r = v->valuedouble;
	if (model && (v = cJSON_GetObjectItemCaseSensitive(o, "model")) && cJSON_IsString(v))
		snprintf(model, msize, "%s", v->valuestring);
	cJSON_Delete(o);
	free(js);
	ml_model_free(m);
	return r;
}

/* ETS against R's ets() on the classic series, for every class of model: the model it
 * chose, its parameters, log-likelihood, AICc and forecasts with their 95% bound; and
 * ets(damped = TRUE), which the damped method is. */
static void test_ets_models(void)
{
	static const char *const num[] = {"alpha", "beta", "gamma", "phi", "loglik", "aicc",
					  "sigma2", "mean1", "mean12", "hi1", "hi12"};
	struct ml_frame fr;
	struct ml_read_opts o;
	struct ml_err e;
	size_t r;
	int checked = 0, damped = 0;

	ml_read_opts_init(&o);
	o.cat_cols = "series,spec,chosen";
	o.num_cols = "alpha,beta,gamma,phi";
	ml_err_init(&e);
	if (unit_read_frame(&fr, FIX, "ets_models.csv", &o) < 0)
		return;
	for (r = 0; r < fr.rows.nrow; r++) {
		const char *name = fr.schema.cols[0].dict.str[fr.rows.col[0].cat[r]];
		const char *spec = fr.schema.cols[1].dict.str[fr.rows.col[1].cat[r]];
		const char *chosen = fr.schema.cols[2].dict.str[fr.rows.col[2].cat[r]];
		const struct ml_fc_method *m = ml_fc_method_find("ets");
		struct ml_series s;
		struct ml_params p;
		struct ml_forecaster *f = NULL;
		double got[11], mean[12], lo[12], hi[12], level = 95;
		char model[32] = "", want_model[40];
		size_t n;
		int per = 1, k;
		double *y = ets_series(name, &n, &per);

		if (!y)
			continue;
		memset(&s, 0, sizeof(s));
		s.y = y;
		s.n = n;
		if (per > 1) {
			s.season[0] = per;
			s.nseason = 1;
		}
		ml_fc_params_init(&p, m);
		CHECK(ml_params_set(&p, "spec", spec, &e) == 0);
		CHECK(ml_fc_fit(&f, m, &s, &p, NULL, &e) == 0);
		if (!f) {
			fprintf(stderr, "%s %s: %s (%zu values)\n", name, spec, e.msg, n);
			free(y);
			continue;
		}
		CHECK(ml_fc_forecast(f, 12, &level, 1, mean, lo, hi, &e) == 0);
		got[0] = ets_meta(f, "alpha", model, sizeof(model));
		got[1] = ets_meta(f, "beta", NULL, 0);
		got[2] = ets_meta(f, "gamma", NULL, 0);
		got[3] = ets_meta(f, "phi", NULL, 0);
		got[4] = ets_meta(f, "loglik", NULL, 0);
		got[5] = ets_meta(f, "aicc", NULL, 0);
		got[6] = ml_fc_sigma2(f);
		got[7] = mean[0];
		got[8] = mean[11];
		got[9] = hi[0];
		got[10] = hi[11];
		snprintf(want_model, sizeof(want_model), "%s", chosen);
		{
			/* "ETS(MAdM)" against "ETS(M,Ad,M)" */
			char plain[32];
			size_t i, j = 0;
			for (i = 0; model[i] && j + 1 < sizeof(plain); i++)
				if (model[i] != ',')
					plain[j++] = model[i];
			plain[j] = 0;
			if (strcmp(plain, want_model) != 0)
				fprintf(stderr, "%s %s: chose %s, R %s\n", name, spec, plain, want_model);
			CHECK(!strcmp(plain, want_model));
		}
		for (k = 0; k < 11; k++) {
			int c = ml_schema_find(&fr.schema, num[k]);
			double want = fr.rows.col[c].num[r], g = got[k];
			double tol = k < 4 ? 2e-3 : 1e-4 * (1 + fabs(want));
			if (isnan(want))
				continue;
			if (k == 3 && strchr(chosen, 'd') == NULL)
				continue;
			if (!(fabs(g - want) <= tol))
				fprintf(stderr, "%s %s %s: %.10g, R %.10g\n", name, spec, num[k], g, want);
			CHECK(fabs(g - want) <= tol);
		}
		if (strcmp(spec, "ZAdZ") == 0) {
			/* mlforecast's damped is ets(damped = TRUE) by default */
			const struct ml_fc_method *dm = ml_fc_method_find("damped");
			struct ml_forecaster *g = NULL;
			double dmean[12], dlo[12], dhi[12];
			ml_fc_params_init(&p, dm);
			CHECK(ml_fc_fit(&g, dm, &s, &p, NULL, &e) == 0);
			CHECK(g && ml_fc_forecast(g, 12, &level, 1, dmean, dlo, dhi, &e) == 0);
			CHECK(g && !memcmp(dmean, mean, sizeof(mean)) && !memcmp(dhi, hi, sizeof(hi)));
			ml_fc_free(g);
			damped++;
		}
		checked++;
		ml_fc_free(f);
		free(y);
	}
	CHECK(checked >= 27);
	CHECK(damped == 7);
	ml_frame_release(&fr);
}

/* Theta, ETS and linear forecasts against R's thetaf(), ets() and tslm(y ~ trend + season)
 * on two series. */
static void test_theta_ets(void)
{
	static const double level[2] = {80, 95};
	static const char *const col[] = {"mean", "lo_80", "hi_80", "lo_95", "hi_95"};
	static const char *const series[] = {"airpassengers", "co2"};
	static const char *const method[] = {"theta", "ets", "linear"};
	int a, b, k;

	for (a = 0; a < 2; a++)
		for (b = 0; b < 3; b++) {
			char path[256];
			size_t n = 0, m = 0, t;
			double *y, mean[H], lo[2 * H], hi[2 * H], *want;
			struct ml_forecaster *f;
			struct ml_err e;

			snprintf(path, sizeof(path), "samples/%s.csv", series[a]);
			if (!(y = column(path, "y", &n)))
				continue;
			f = fit(method[b], y, n, 12, &e);
			CHECK(f && ml_fc_forecast(f, H, level, 2, mean, lo, hi, &e) == 0);
			snprintf(path, sizeof(path), FIX "%s_%s.csv", series[a], method[b]);
			for (k = 0; f && k < 5; k++) {
				const double *got = k == 0 ? mean : k % 2 ? lo + (k / 2) * H :
									  hi + (k / 2 - 1) * H;
				if (!(want = column(path, col[k], &m)))
					continue;
				for (t = 0; t < m && t < H; t++)
					CHECK_NEAR(got[t], want[t], 1e-6);
				free(want);
			}
			ml_fc_free(f);
			free(y);
		}
}

/* The combinations average their members, find them by name, and save and load. */
static void test_combo(void)
{
	size_t n = 0, t;
	double *y = column("samples/airpassengers.csv", "y", &n), c[12], a[12], b[12], lv = 95,
	       lo[12], hi[12], l1[12], h1[12], l2[12], h2[12];
	struct ml_forecaster *fc, *fe, *ft;
	struct ml_err e;
	struct ml_fc_score sc;
	struct ml_series s;
	struct ml_params p;

	if (!y)
		return;
	fc = fit("combo", y, n, 12, &e);
	fe = fit("ets", y, n, 12, &e);
	ft = fit("theta", y, n, 12, &e);
	CHECK(fc && fe && ft);
	if (fc && fe && ft && !ml_fc_method_find("arima")) {
		ml_fc_forecast(fc, 12, &lv, 1, c, lo, hi, &e);
		ml_fc_forecast(fe, 12, &lv, 1, a, l1, h1, &e);
		ml_fc_forecast(ft, 12, &lv, 1, b, l2, h2, &e);
		for (t = 0; t < 12; t++) {
			CHECK_NEAR(c[t], (a[t] + b[t]) / 2, 1e-12);
			CHECK_NEAR(lo[t], (l1[t] + l2[t]) / 2, 1e-12);
		}
	}
	ml_fc_free(fc);
	ml_fc_free(fe);
	ml_fc_free(ft);
	memset(&s, 0, sizeof(s));
	s.y = y;
	s.n = n;
	s.season[0] = 12;
	s.nseason = 1;
	ml_fc_params_init(&p, ml_fc_method_find("snaive"));
	ml_err_init(&e);
	/* seasonal naive at 3 origins 12 steps ahead: origins 120, 126, 132 */
	CHECK(ml_fc_backtest(ml_fc_method_find("snaive"), &s, &p, 12, 3, &lv, 1, &sc, NULL, &e) == 0);
	CHECK(sc.norigin == 3 && sc.npoint == 36);
	CHECK(ml_fc_backtest_origin(144, 12, 3, 0) == 120 && ml_fc_backtest_origin(144, 12, 3, 2) == 132);
	{
		/* its MAE by hand */
		double sae = 0;
		size_t o, k;
		for (o = 120; o <= 132; o += 6)
			for (k = 0; k < 12; k++)
				sae += fabs(y[o + k] - y[o + k - 12 * (1 + k / 12)]);
		CHECK_NEAR(sc.mae, sae / 36, 1e-12);
	}
	free(y);
}

/* gbm: the same bytes from two fits, and conformal 95% bounds that are the largest
 * absolute error of each step over ten refits one origin apart (calibration off), never
 * narrowing further ahead. */
static void test_gbm(void)
{
	size_t n = 0, k;
	double *y = column("samples/airpassengers.csv", "y", &n), lv = 95, m1[24], m2[24], lo[24],
	       hi[24], lo2[24], hi2[24], worst[24] = {0}, f[24], w = 0;
	const struct ml_fc_method *m = ml_fc_method_find("gbm");
	struct ml_forecaster *a, *b;
	struct ml_series s;
	struct ml_params p;
	struct ml_err e;
	int t;

	if (!y || !m)
		return;
	a = fit("gbm", y, n, 12, &e);
	b = fit("gbm", y, n, 12, &e);
	CHECK(a && b);
	if (!a || !b)
		goto out;
	CHECK(ml_fc_forecast(a, 24, &lv, 1, m1, lo, hi, &e) == 0);
	CHECK(ml_fc_forecast(b, 24, &lv, 1, m2, lo2, hi2, &e) == 0);
	CHECK(memcmp(m1, m2, sizeof(m1)) == 0 && memcmp(hi, hi2, sizeof(hi)) == 0);
	memset(&s, 0, sizeof(s));
	s.y = y;
	s.season[0] = 12;
	s.nseason = 1;
	ml_fc_params_init(&p, m);
	ml_params_set(&p, "calibration", "0", &e);
	for (k = 0; k < 10; k++) {
		struct ml_forecaster *c = NULL;
		s.n = n - 24 - k;
		CHECK(ml_fc_fit(&c, m, &s, &p, NULL, &e) == 0);
		if (!c)
			continue;
		CHECK(ml_fc_forecast(c, 24, NULL, 0, f, NULL, NULL, &e) == 0);
		for (t = 0; t < 24; t++)
			if (fabs(y[s.n + (size_t)t] - f[t]) > worst[t])
				worst[t] = fabs(y[s.n + (size_t)t] - f[t]);
		ml_fc_free(c);
	}
	for (t = 0; t < 24; t++) {
		w = worst[t] > w ? worst[t] : w;
		CHECK_NEAR(hi[t] - m1[t], w, 1e-9 * w);
		CHECK_NEAR(m1[t] - lo[t], w, 1e-9 * w);
	}
out:
	ml_fc_free(a);
	ml_fc_free(b);
	free(y);
}

int main(void)
{
	RUN(test_gbm);
	RUN(test_ets_models);
	RUN(test_theta_ets);
	RUN(test_combo);
	RUN(test_against_r);
	RUN(test_checks);
	RUN(test_min_length);
	RUN(test_saved);
	return UNIT_EXIT();
}
