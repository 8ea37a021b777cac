/* Unit tests of the prophet forecasting method: it recovers a synthetic trend with one
 * change of rate and a season, forecasts it, and is deterministic for a seed. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml.h"
#include "unit.h"

static struct ml_forecaster *fit(const double *y, size_t n, int m, const char *seed,
				 struct ml_err *e)
{
	const struct ml_fc_method *meth = ml_fc_method_find("prophet");
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
	if (seed && ml_params_set(&p, "seed", seed, e) < 0)
		return NULL;
	ml_fc_fit(&f, meth, &s, &p, NULL, e);
	return f;
}

/* 10 + 0.5 t up to t = 100, then falling 0.3 a step, plus a season of 12 and noise. */
static double truth(double t)
{
	double trend = t <= 100 ? 10 + 0.5 * t : 60 - 0.3 * (t - 100);
	return trend + 4 * sin(2 * M_PI * t / 12) + 2 * cos(4 * M_PI * t / 12);
}

static void test_recovers(void)
{
	static const double level[2] = {80, 95};
	double y[160], mean[24], lo[48], hi[48], fitted[160], ss = 0;
	unsigned s = 3;
	size_t t;
	struct ml_forecaster *f;
	struct ml_err e;

	for (t = 0; t < 160; t++) {
		s = s * 1103515245u + 12345u;
		y[t] = truth((double)t) + ((double)((s >> 16) % 1000) / 1000.0 - 0.5);
	}
	f = fit(y, 160, 12, NULL, &e);
	CHECK(f != NULL);
	if (!f)
		return;
	CHECK(ml_fc_fitted(f, fitted, &e) == 0);
	for (t = 0; t < 160; t++)
		ss += (fitted[t] - truth((double)t)) * (fitted[t] - truth((double)t));
	CHECK(sqrt(ss / 160) < 0.5);
	CHECK(ml_fc_forecast(f, 24, level, 2, mean, lo, hi, &e) == 0);
	/* the new rate goes on: within a little of the truth a year and two ahead */
	for (t = 0; t < 24; t++) {
		CHECK(fabs(mean[t] - truth(160.0 + (double)t)) < 1.5);
		CHECK(lo[24 + t] <= lo[t] && lo[t] < mean[t] && mean[t] < hi[t] && hi[t] <= hi[24 + t]);
		CHECK(lo[t] < truth(160.0 + (double)t) + 0.5 && truth(160.0 + (double)t) - 0.5 < hi[t]);
	}
	/* intervals widen with the horizon (trend uncertainty) */
	CHECK(hi[24 + 23] - lo[24 + 23] > hi[24] - lo[24]);
	CHECK(ml_fc_sigma2(f) > 0.03 && ml_fc_sigma2(f) < 0.15);
	ml_fc_free(f);
}

static void test_seeded(void)
{
	static const double level[1] = {90};
	double y[100], a[10], b[10], la[10], lb[10], ha[10], hb[10];
	struct ml_forecaster *f, *g, *k;
	struct ml_err e;
	size_t t;

	for (t = 0; t < 100; t++)
		y[t] = 5 + 0.1 * (double)t + sin((double)t) + 0.3 * cos(7.0 * (double)t);
	f = fit(y, 100, 7, NULL, &e);
	g = fit(y, 100, 7, NULL, &e);
	k = fit(y, 100, 7, "99", &e);
	CHECK(f && g && k);
	if (f && g && k) {
		CHECK(ml_fc_forecast(f, 10, level, 1, a, la, ha, &e) == 0);
		CHECK(ml_fc_forecast(g, 10, level, 1, b, lb, hb, &e) == 0);
		CHECK(!memcmp(a, b, sizeof(a)) && !memcmp(la, lb, sizeof(la)) && !memcmp(ha, hb, sizeof(ha)));
		CHECK(ml_fc_forecast(k, 10, level, 1, b, lb, hb, &e) == 0);
		CHECK(!memcmp(a, b, sizeof(a)) && memcmp(la, lb, sizeof(la)) != 0);
	}
	ml_fc_free(f);
	ml_fc_free(g);
	ml_fc_free(k);
}

/* Short, constant and wild series give finite forecasts. */
static void test_robust(void)
{
	static const double level[2] = {80, 95};
	double y[60], mean[12], lo[24], hi[24];
	struct ml_forecaster *f;
	struct ml_err e;
	size_t n, t;
	int kind;

	for (kind = 0; kind < 3; kind++)
		for (n = 3; n <= 60; n += 7) {
			for (t = 0; t < n; t++)
				y[t] = kind == 0 ? 7 : kind == 1 ? (t % 5 ? 1 : 1e6) : exp((double)t / 4);
			f = fit(y, n, 12, NULL, &e);
			CHECK(f != NULL);
			if (!f)
				continue;
			CHECK(ml_fc_forecast(f, 12, level, 2, mean, lo, hi, &e) == 0);
			for (t = 0; t < 12; t++)
				CHECK(isfinite(mean[t]) && isfinite(lo[12 + t]) && isfinite(hi[12 + t]) &&
				      lo[12 + t] <= mean[t] && mean[t] <= hi[12 + t]);
			if (kind == 0)
				CHECK(fabs(mean[0] - 7) < 1e-6);
			ml_fc_free(f);
		}
}

/* The calendar: months keep their day where the month has it, seconds step evenly, plain
 * numbers have none. */
static void test_calendar(void)
{
	struct ml_series s;

	memset(&s, 0, sizeof(s));
	CHECK(isnan(ml_fc_step_day(&s, 3)));
	s.cal.kind = ML_CAL_MONTHS;
	s.cal.t0 = (double)ml_days_from_civil(2019, 12, 31) * 86400;
	s.cal.step = 1;
	CHECK(ml_fc_step_day(&s, 0) == (double)ml_days_from_civil(2019, 12, 31));
	CHECK(ml_fc_step_day(&s, 2) == (double)ml_days_from_civil(2020, 2, 29));
	CHECK(ml_fc_step_day(&s, 3) == (double)ml_days_from_civil(2020, 3, 31));
	CHECK(ml_fc_step_day(&s, -12) == (double)ml_days_from_civil(2018, 12, 31));
	s.cal.kind = ML_CAL_SECONDS;
	s.cal.t0 = -86400;
	s.cal.step = 1800;
	CHECK(ml_fc_step_day(&s, 0) == -1 && ml_fc_step_day(&s, 36) == -0.25);
}

/* Half-hourly steps on a calendar give prophet's daily and weekly seasons in days, the
 * same model as seasons of 48 and 336 steps (orders 4 and 3) on plain numbers. */
static void test_calendar_seasons(void)
{
	const struct ml_fc_method *meth = ml_fc_method_find("prophet");
	static const double level[1] = {80};
	double y[3 * 336], a[48], b[48], la[48], lb[48], ha[48], hb[48];
	struct ml_series s;
	struct ml_params p;
	struct ml_forecaster *f = NULL, *g = NULL;
	struct ml_err e;
	size_t t;

	ml_err_init(&e);
	for (t = 0; t < 3 * 336; t++)
		y[t] = 100 + 0.01 * (double)t + 10 * sin(2 * M_PI * (double)t / 48) +
		       3 * cos(2 * M_PI * (double)t / 336) + (double)(t * 7919 % 13) / 13;
	memset(&s, 0, sizeof(s));
	s.y = y;
	s.n = 3 * 336; /* three weeks: a weekly season needs two */
	s.season[0] = 48;
	s.season[1] = 336;
	s.nseason = 2;
	ml_fc_params_init(&p, meth);
	CHECK(ml_fc_fit(&f, meth, &s, &p, NULL, &e) == 0);
	s.cal.kind = ML_CAL_SECONDS;
	s.cal.t0 = 0; /* 1970-01-01, so that u in days is the step over 48 */
	s.cal.step = 1800;
	CHECK(ml_fc_fit(&g, meth, &s, &p, NULL, &e) == 0);
	if (f && g) {
		CHECK(ml_fc_forecast(f, 48, level, 1, a, la, ha, &e) == 0);
		CHECK(ml_fc_forecast(g, 48, level, 1, b, lb, hb, &e) == 0);
		for (t = 0; t < 48; t++)
			CHECK(fabs(a[t] - b[t]) < 1e-8 * fabs(a[t]));
	}
	ml_fc_free(f);
	ml_fc_free(g);
}

int main(void)
{
	RUN(test_calendar);
	RUN(test_calendar_seasons);
	RUN(test_recovers);
	RUN(test_seeded);
	RUN(test_robust);
	return UNIT_EXIT();
}
