/* Unit tests for the anomaly detectors' shared calibration (lib/learn/anomaly/detect.c):
 * quantiles as numpy's, thresholds, severities and calibrated scores; the iforest score
 * of a hand-built case; a model round trip through memory giving the same bytes; the moving
 * baseline's state carried from call to call. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "learn/anomaly/detect.h"
#include "ml/ml.h"
#include "unit.h"

static struct ml_ctx ctx;

static void set_params(struct ml_params *p, const char *algo, const char *cont,
		       const char *bands)
{
	struct ml_err e;

	ml_err_init(&e);
	ml_params_init(p, ml_algo_find(algo));
	if (cont)
		CHECK(ml_params_set(p, "contamination", cont, &e) == 0);
	if (bands)
		CHECK(ml_params_set(p, "bands", bands, &e) == 0);
}

static void test_quantile(void)
{
	/* numpy.quantile([1, 2, 4, 8, 16], q) */
	const double s[] = {1, 2, 4, 8, 16};

	CHECK_NEAR(ml_detect_quantile(s, 5, 0), 1, 0);
	CHECK_NEAR(ml_detect_quantile(s, 5, 1), 16, 0);
	CHECK_NEAR(ml_detect_quantile(s, 5, 0.5), 4, 0);
	CHECK_NEAR(ml_detect_quantile(s, 5, 0.9), 12.8, 1e-15);
	CHECK_NEAR(ml_detect_quantile(s, 5, 0.1), 1.4, 1e-15);
	CHECK(isnan(ml_detect_quantile(s, 0, 0.5)));
}

static void test_threshold_and_severity(void)
{
	struct ml_params p;
	struct ml_detect d;
	struct ml_err e;
	double s[100], out[3 * 4];
	int i;

	ml_err_init(&e);
	/* scores 1..100: contamination 0.1 puts the threshold at the 0.9 quantile, 90.1 */
	set_params(&p, "zscore", "0.1", "0.5,0.8,0.95,0.99");
	CHECK(ml_detect_init(&d, &p, "zscore", &e) == 0);
	for (i = 0; i < 100; i++)
		s[i] = 100 - i;
	CHECK(ml_detect_fit(&d, s, 100, 3.5, &e) == 0);
	CHECK_NEAR(d.thr, 90.1, 1e-15);
	CHECK_NEAR(d.bscore[0], 50.5, 1e-15);
	CHECK_NEAR(d.bscore[3], 99.01, 1e-15);
	out[0] = 10;	/* none */
	out[3] = 60;	/* low: the first band, not flagged */
	out[6] = 90.5;	/* flagged, medium */
	out[9] = 1000;	/* critical */
	ml_detect_apply(&d, out, 4);
	CHECK(out[1] == 0 && out[2] == 0);
	CHECK(out[4] == 0 && out[5] == 1);
	CHECK(out[7] == 1 && out[8] == 2);
	CHECK(out[10] == 1 && out[11] == 4);
	/* calibrated: the fraction of training scores at or below */
	CHECK_NEAR(ml_detect_calibrated(&d, 0.5), 0, 0);
	CHECK_NEAR(ml_detect_calibrated(&d, 100), 1, 0);
	CHECK_NEAR(ml_detect_calibrated(&d, 50.5), 0.5, 1e-12);
	CHECK_NEAR(ml_detect_calibrated(&d, 1000), 1, 0);
	/* auto: the method's threshold; a flagged row below the first band is low */
	set_params(&p, "zscore", NULL, NULL);
	CHECK(ml_detect_init(&d, &p, "zscore", &e) == 0);
	CHECK(d.contamination == -1);
	for (i = 0; i < 100; i++)
		s[i] = i + 1;
	CHECK(ml_detect_fit(&d, s, 100, 3.5, &e) == 0);
	CHECK(d.thr == 3.5);
	out[0] = 4;
	ml_detect_apply(&d, out, 1);
	CHECK(out[1] == 1 && out[2] == 1);
	/* NaN: the 0.9 quantile */
	for (i = 0; i < 100; i++)
		s[i] = i + 1;
	CHECK(ml_detect_fit(&d, s, 100, NAN, &e) == 0);
	CHECK_NEAR(d.thr, 90.1, 1e-15);
	s[5] = INFINITY;
	CHECK(ml_detect_fit(&d, s, 100, 1, &e) == ML_E_DATA);
}

static void test_bad_params(void)
{
	struct ml_params p;
	struct ml_detect d;
	struct ml_err e;

	ml_err_init(&e);
	set_params(&p, "iforest", "0", NULL);
	CHECK(ml_detect_init(&d, &p, "iforest", &e) == ML_E_USAGE);
	set_params(&p, "iforest", "many", NULL);
	CHECK(ml_detect_init(&d, &p, "iforest", &e) == ML_E_USAGE);
	CHECK(strstr(e.msg, "'many'") != NULL);
	set_params(&p, "iforest", NULL, "0.9,0.9,0.95,0.99");
	CHECK(ml_detect_init(&d, &p, "iforest", &e) == ML_E_USAGE);
	set_params(&p, "iforest", NULL, "0.5,0.6,0.7,1");
	CHECK(ml_detect_init(&d, &p, "iforest", &e) == ML_E_USAGE);
}

/* Two rows: every tree cuts them apart at its root, so each row's path length is 1 and
 * its score 2^(-1 / c(2)) = 0.5 exactly. */
static void test_iforest_two_rows(void)
{
	struct ml_frame f;
	struct ml_train_spec spec;
	struct ml_learner *l = NULL;
	struct ml_predictor *pr;
	struct ml_err e;
	double out[6];

	ml_err_init(&e);
	ml_frame_init(&f);
	CHECK(ml_schema_add(&f.schema, "x", ML_NUM) >= 0);
	CHECK(ml_block_init(&f.rows, &f.schema, 2, &e) == 0);
	f.rows.col[0].num[0] = 1;
	f.rows.col[0].num[1] = 5;
	f.rows.nrow = 2;
	memset(&spec, 0, sizeof(spec));
	ml_params_init(&spec.params, ml_algo_find("iforest"));
	CHECK(ml_learner_fit(&l, &f, NULL, 0, NULL, 0, &spec, &ctx, &e) == 0);
	if (!l) {
		ml_frame_release(&f);
		return;
	}
	CHECK(ml_learner_task(l) == ML_TASK_UNSUPERVISED);
	CHECK(ml_learner_nout(l, ML_OUT_VALUE) == 3);
	CHECK(strcmp(ml_learner_output_name(l, 2), "severity") == 0);
	pr = ml_predictor_new(l);
	CHECK(pr && ml_predictor_bind(pr, &f.schema, &e) == 0);
	CHECK(ml_predictor_predict(pr, &f.rows, 0, 2, out, ML_OUT_VALUE, &e) == 0);
	CHECK(out[0] == 0.5 && out[3] == 0.5);
	CHECK(out[1] == 0 && out[4] == 0); /* not above 0.5 */
	ml_predictor_free(pr);
	ml_learner_free(l);
	ml_frame_release(&f);
}

/* A detector written to memory and read back scores the same bytes. */
static void test_roundtrip(void)
{
	const char *algos[] = {"iforest", "lof", "zscore", "hbos"};
	struct ml_frame f;
	struct ml_err e;
	size_t i, n = 60;
	int a;

	ml_err_init(&e);
	ml_frame_init(&f);
	CHECK(ml_schema_add(&f.schema, "x", ML_NUM) >= 0);
	CHECK(ml_schema_add(&f.schema, "y", ML_NUM) >= 0);
	CHECK(ml_block_init(&f.rows, &f.schema, n, &e) == 0);
	for (i = 0; i < n; i++) {
		f.rows.col[0].num[i] = sin((double)i) * 3;
		f.rows.col[1].num[i] = cos((double)i * 1.7) + (double)(i % 7);
	}
	f.rows.nrow = n;
	for (a = 0; a < 4; a++) {
		struct ml_train_spec spec;
		struct ml_learner *l = NULL, *back = NULL;
		struct ml_model *m = NULL, *m2 = NULL;
		struct ml_predictor *p1, *p2;
		unsigned char *buf = NULL;
		size_t len;
		double o1[3 * 60], o2[3 * 60];
		memset(&spec, 0, sizeof(spec));
		ml_params_init(&spec.params, ml_algo_find(algos[a]));
		if (ml_learner_fit(&l, &f, NULL, 0, NULL, 0, &spec, &ctx, &e) < 0) {
			CHECK(!"fit");
			continue;
		}
		CHECK(ml_learner_to_model(l, &m, &e) == 0);
		CHECK(m && ml_model_to_mem(m, &buf, &len, &e) == 0);
		CHECK(buf && (m2 = ml_model_from_mem(buf, len, "mem", &e)) != NULL);
		CHECK(m2 && (back = ml_learner_from_model(m2, &e)) != NULL);
		p1 = ml_predictor_new(l);
		p2 = back ? ml_predictor_new(back) : NULL;
		if (p1 && p2 && ml_predictor_bind(p1, &f.schema, &e) == 0 &&
		    ml_predictor_bind(p2, &f.schema, &e) == 0) {
			CHECK(ml_predictor_predict(p1, &f.rows, 0, n, o1, ML_OUT_VALUE, &e) == 0);
			CHECK(ml_predictor_predict(p2, &f.rows, 0, n, o2, ML_OUT_VALUE, &e) == 0);
			CHECK(memcmp(o1, o2, sizeof(o1)) == 0);
		} else {
			CHECK(!"bind");
		}
		ml_predictor_free(p1);
		ml_predictor_free(p2);
		ml_learner_free(back);
		ml_learner_free(l);
		ml_model_free(m);
		ml_model_free(m2);
		free(buf);
	}
	ml_frame_release(&f);
}

/* Agreement weights (ml_ens_agreement) equal the numpy hand computation of
 * tests/fixtures/gen_anomaly2.py; the member whose scores are noise gets the least. */
static void test_agreement(void)
{
	const char *sp = "tests/fixtures/anomaly2/agreement.csv",
		   *wp = "tests/fixtures/anomaly2/agreement_weights.csv";
	FILE *fs = fopen(sp, "r"), *fw = fopen(wp, "r");
	double S[4 * 300], want[4], w[4], a[4];
	char line[512];
	size_t r = 0;
	struct ml_err e;
	int k, ok = fs && fw;

	ml_err_init(&e);
	if (!ok) {
		unit_fixture_failed(fs ? wp : sp, "cannot open");
		if (fs)
			fclose(fs);
		if (fw)
			fclose(fw);
		return;
	}
	ok = fgets(line, sizeof(line), fs) != NULL;
	while (ok && r < 300 && fscanf(fs, "%lf,%lf,%lf,%lf", &a[0], &a[1], &a[2], &a[3]) == 4) {
		for (k = 0; k < 4; k++)
			S[(size_t)k * 300 + r] = a[k];
		r++;
	}
	ok = ok && fgets(line, sizeof(line), fw) != NULL;
	for (k = 0; ok && k < 4; k++)
		ok = fscanf(fw, "%lf", &want[k]) == 1;
	fclose(fs);
	fclose(fw);
	if (!ok || r != 300) {
		unit_fixture_failed(sp, "short");
		return;
	}
	CHECK(ml_ens_agreement(S, r, 4, w, &e) == 0);
	for (k = 0; k < 4; k++)
		CHECK_NEAR(w[k], want[k], 1e-12);
	CHECK(w[3] < 0.01 && w[3] < w[2] && w[2] < w[0]);
	/* two members: each the other's consensus, so equal weights */
	CHECK(ml_ens_agreement(S, r, 2, w, &e) == 0);
	CHECK_NEAR(w[0], 0.5, 1e-15);
	CHECK_NEAR(w[1], 0.5, 1e-15);
}

/* The moving baseline carries its state from call to call of one predictor: rows scored
 * one call each give the bytes of one call for all, a new bind starts again from the
 * fitted state, and so does a model read back from memory. */
static void test_baseline_stream(void)
{
	struct ml_frame f;
	struct ml_train_spec spec;
	struct ml_learner *l = NULL, *back = NULL;
	struct ml_model *m = NULL, *m2 = NULL;
	struct ml_predictor *p1 = NULL, *p2 = NULL, *p3 = NULL;
	unsigned char *buf = NULL;
	size_t rows[60], i, n = 120, len;
	double o1[3 * 60], o2[3 * 60], o3[3 * 60];
	struct ml_err e;

	ml_err_init(&e);
	ml_frame_init(&f);
	CHECK(ml_schema_add(&f.schema, "t", ML_NUM) >= 0);
	CHECK(ml_schema_add(&f.schema, "g", ML_NUM) >= 0);
	CHECK(ml_schema_add(&f.schema, "v", ML_NUM) >= 0);
	CHECK(ml_block_init(&f.rows, &f.schema, n, &e) == 0);
	for (i = 0; i < n; i++) {
		f.rows.col[0].num[i] = (double)(i / 2);
		f.rows.col[1].num[i] = (double)(i % 2);
		/* a cycle of three steps per group, a little noise, one spike */
		f.rows.col[2].num[i] = 4 * sin(2 * M_PI * (double)(i / 2) / 3) +
				       0.2 * sin((double)i * 7.3) + (double)(i % 2) * 10 +
				       (i == 91 ? 5 : 0);
	}
	f.rows.nrow = n;
	for (i = 0; i < 60; i++)
		rows[i] = i;
	memset(&spec, 0, sizeof(spec));
	ml_params_init(&spec.params, ml_algo_find("baseline"));
	CHECK(ml_params_set(&spec.params, "time-col", "t", &e) == 0);
	CHECK(ml_params_set(&spec.params, "group-col", "g", &e) == 0);
	CHECK(ml_params_set(&spec.params, "method", "median", &e) == 0);
	CHECK(ml_params_set(&spec.params, "window", "8", &e) == 0);
	CHECK(ml_params_set(&spec.params, "season", "3", &e) == 0);
	if (ml_learner_fit(&l, &f, rows, 60, NULL, 0, &spec, &ctx, &e) < 0) {
		CHECK(!"fit");
		ml_frame_release(&f);
		return;
	}
	CHECK(ml_learner_to_model(l, &m, &e) == 0);
	CHECK(m && ml_model_to_mem(m, &buf, &len, &e) == 0);
	CHECK(buf && (m2 = ml_model_from_mem(buf, len, "mem", &e)) != NULL);
	CHECK(m2 && (back = ml_learner_from_model(m2, &e)) != NULL);
	p1 = ml_predictor_new(l);
	p2 = ml_predictor_new(l);
	p3 = back ? ml_predictor_new(back) : NULL;
	if (p1 && p2 && p3 && ml_predictor_bind(p1, &f.schema, &e) == 0 &&
	    ml_predictor_bind(p2, &f.schema, &e) == 0 && ml_predictor_bind(p3, &f.schema, &e) == 0) {
		CHECK(ml_predictor_predict(p1, &f.rows, 60, n, o1, ML_OUT_VALUE, &e) == 0);
		for (i = 60; i < n; i++)
			CHECK(ml_predictor_predict(p2, &f.rows, i, i + 1, o2 + 3 * (i - 60),
						   ML_OUT_VALUE, &e) == 0);
		CHECK(memcmp(o1, o2, sizeof(o1)) == 0);
		CHECK(ml_predictor_predict(p3, &f.rows, 60, n, o3, ML_OUT_VALUE, &e) == 0);
		CHECK(memcmp(o1, o3, sizeof(o1)) == 0);
		/* the spike is flagged, with the highest score; once more from the start after
		 * a bind */
		CHECK(o1[3 * 31 + 1] == 1);
		for (i = 0; i < 60; i++)
			CHECK(o1[3 * i] <= o1[3 * 31]);
		CHECK(ml_predictor_bind(p1, &f.schema, &e) == 0);
		CHECK(ml_predictor_predict(p1, &f.rows, 60, n, o2, ML_OUT_VALUE, &e) == 0);
		CHECK(memcmp(o1, o2, sizeof(o1)) == 0);
		/* and a row from before the state's last time is refused */
		CHECK(ml_predictor_predict(p1, &f.rows, 0, 1, o2, ML_OUT_VALUE, &e) == ML_E_DATA);
	} else {
		CHECK(!"bind");
	}
	ml_predictor_free(p1);
	ml_predictor_free(p2);
	ml_predictor_free(p3);
	ml_learner_free(back);
	ml_learner_free(l);
	ml_model_free(m);
	ml_model_free(m2);
	free(buf);
	ml_frame_release(&f);
}

int main(void)
{
	struct ml_err e;

	if (ml_ctx_init(&ctx, 2, 1, &e) < 0)
		return 1;
	RUN(test_quantile);
	RUN(test_threshold_and_severity);
	RUN(test_bad_params);
	RUN(test_iforest_two_rows);
	RUN(test_roundtrip);
	RUN(test_agreement);
	RUN(test_baseline_stream);
	ml_ctx_release(&ctx);
	return UNIT_EXIT();
}
