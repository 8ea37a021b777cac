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

int main(void)
{
	RUN(test_recovers);
	RUN(test_seeded);
	RUN(test_robust);
	return UNIT_EXIT();
}
