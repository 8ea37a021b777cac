/* Unit tests of lib/stats/metrics.c: hand-sized cases whose values come from scikit-learn 1.2.1
 * (the call is quoted beside each), and properties of the prepared evaluator. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "ml/ctx.h"
#include "ml/metrics.h"
#include "ml/svg.h"
#include "unit.h"

#define TOL  1e-12
#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_names(void)
{
	int m;

	for (m = 0; m < ML_M_COUNT; m++)
		CHECK(ml_metric_find(ml_metric_name(m)) == m);
	CHECK(ml_metric_find("auc") == ML_M_AUC);
	CHECK(ml_metric_find("f1_weighted") == ML_M_F1_WEIGHTED);
	CHECK(ml_metric_find("AUC") == -1);
	CHECK(ml_metric_find("") == -1);
	CHECK(ml_metric_name(ML_M_COUNT) == NULL);
	CHECK(ml_metric_higher_better(ML_M_AUC));
	CHECK(ml_metric_higher_better(ML_M_R2));
	CHECK(!ml_metric_higher_better(ML_M_LOGLOSS));
	CHECK(!ml_metric_higher_better(ML_M_MEDAE));
}

static void test_confusion_multiclass(void)
{
	/* y = [0,1,2,0,1,2,0,2], p = [0,2,2,0,1,1,1,2] */
	int32_t y[] = {0, 1, 2, 0, 1, 2, 0, 2}, p[] = {0, 2, 2, 0, 1, 1, 1, 2};
	double cm[9];

	ml_confusion(y, p, NULL, N(y), 3, cm);
	CHECK(cm[0] == 2 && cm[1] == 1 && cm[2] == 0);
	CHECK(cm[3] == 0 && cm[4] == 1 && cm[5] == 1);
	CHECK(cm[6] == 0 && cm[7] == 1 && cm[8] == 2);
	CHECK_NEAR(ml_cm_accuracy(cm, 3), 0.625, TOL);
	CHECK_NEAR(ml_cm_balanced_accuracy(cm, 3), 0.611111111111111, TOL);
	CHECK_NEAR(ml_cm_precision(cm, 3, ML_AVG_MACRO), 0.6666666666666666, TOL);
	CHECK_NEAR(ml_cm_recall(cm, 3, ML_AVG_WEIGHTED), 0.625, TOL);
	CHECK_NEAR(ml_cm_f1(cm, 3, ML_AVG_MACRO), 0.6222222222222222, TOL);
	CHECK_NEAR(ml_cm_f1(cm, 3, ML_AVG_WEIGHTED), 0.65, TOL);
	CHECK_NEAR(ml_cm_mcc(cm, 3), 0.4523809523809524, TOL);
}

static void test_binary_scores(void)
{
	/* matthews_corrcoef([1,1,1,0], [1,0,1,1]) */
	int32_t y[] = {1, 1, 1, 0}, p[] = {1, 0, 1, 1};
	double cm[4];

	ml_confusion(y, p, NULL, 4, 2, cm);
	CHECK_NEAR(ml_cm_mcc(cm, 2), -0.3333333333333333, TOL);
	CHECK_NEAR(ml_cm_precision(cm, 2, 1), 2.0 / 3, TOL);
	CHECK_NEAR(ml_cm_recall(cm, 2, 1), 2.0 / 3, TOL);
	CHECK_NEAR(ml_cm_precision(cm, 2, 0), 0, TOL); /* 0/1 */
	CHECK_NEAR(ml_cm_f1(cm, 2, 0), 0, TOL);	       /* zero_division: 0 */
}

static void test_absent_class(void)
{
	/* A third class that neither the truth nor the predictions hold is left out of macro
	 * averages: the same as on two classes. */
	int32_t y[] = {0, 1, 1, 0}, p[] = {0, 1, 0, 0};
	double cm2[4], cm3[9];

	ml_confusion(y, p, NULL, 4, 2, cm2);
	ml_confusion(y, p, NULL, 4, 3, cm3);
	CHECK_NEAR(ml_cm_precision(cm3, 3, ML_AVG_MACRO), ml_cm_precision(cm2, 2, ML_AVG_MACRO),
		   TOL);
	CHECK_NEAR(ml_cm_f1(cm3, 3, ML_AVG_MACRO), ml_cm_f1(cm2, 2, ML_AVG_MACRO), TOL);
	CHECK_NEAR(ml_cm_balanced_accuracy(cm3, 3), 0.75, TOL);
	CHECK_NEAR(ml_cm_mcc(cm3, 3), ml_cm_mcc(cm2, 2), TOL);
}

static void test_sort(void)
{
	double v[] = {0.5, -1, 3, -0.0, 0.0, 1e-300, -2e10, 3, 0.25};
	size_t o[N(v)], i;
	int seen[N(v)] = {0};

	CHECK(ml_sort_desc(v, N(v), o, NULL) == 0);
	for (i = 0; i < N(v); i++)
		seen[o[i]]++;
	for (i = 0; i < N(v); i++)
		CHECK(seen[i] == 1);
	for (i = 1; i < N(v); i++)
		CHECK(v[o[i - 1]] >= v[o[i]]);
	CHECK(ml_sort_desc(v, 0, o, NULL) == 0);
	{
		/* Many rows, with ties, of every sign and magnitude: descending, and tied
		 * scores in row order (the sort is stable). */
		size_t n = 50000, bad = 0;
		double *w = malloc(n * sizeof(double));
		size_t *q = malloc(n * sizeof(size_t));
		uint64_t x = 88172645463325252ULL;
		CHECK(w && q);
		for (i = 0; w && q && i < n; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			w[i] = i % 3 == 0 ? (double)(x % 50) - 25
					  : ldexp((double)(x >> 11), (int)(x % 60) - 80) *
						(x & 1 ? -1 : 1);
		}
		if (w && q && ml_sort_desc(w, n, q, NULL) == 0)
			for (i = 1; i < n; i++)
				bad += w[q[i - 1]] < w[q[i]] ||
				       (w[q[i - 1]] == w[q[i]] && q[i - 1] > q[i]);
		else
			bad = 1;
		CHECK(bad == 0);
		free(w);
		free(q);
	}
}

static void test_auc_ap(void)
{
	/* roc_auc_score / average_precision_score([0,0,1,1], [0.1,0.4,0.35,0.8]) */
	int32_t y[] = {0, 0, 1, 1};
	double s[] = {0.1, 0.4, 0.35, 0.8}, v;
	/* with ties and weights: y2, s2, w2 */
	int32_t y2[] = {0, 1, 1, 0, 1, 0, 1};
	double s2[] = {0.3, 0.3, 0.7, 0.7, 0.7, 0.1, 0.9}, w2[] = {1, 2, 0.5, 1, 1, 3, 1};
	double flat[] = {0.5, 0.5, 0.5, 0.5};
	int32_t one[] = {1, 1, 1, 1};

	CHECK(ml_auc(s, 4, y, 1, NULL, &v, NULL) == 0);
	CHECK_NEAR(v, 0.75, TOL);
	CHECK(ml_average_precision(s, 4, y, 1, NULL, &v, NULL) == 0);
	CHECK_NEAR(v, 0.8333333333333333, TOL);
	ml_auc(s2, 7, y2, 1, NULL, &v, NULL);
	CHECK_NEAR(v, 0.7916666666666666, TOL);
	ml_average_precision(s2, 7, y2, 1, NULL, &v, NULL);
	CHECK_NEAR(v, 0.7916666666666666, TOL);
	ml_auc(s2, 7, y2, 1, w2, &v, NULL);
	CHECK_NEAR(v, 0.8333333333333333, TOL);
	ml_average_precision(s2, 7, y2, 1, w2, &v, NULL);
	CHECK_NEAR(v, 0.7680097680097681, TOL);
	/* all scores tied: one step, the diagonal */
	ml_auc(flat, 4, y, 1, NULL, &v, NULL);
	CHECK_NEAR(v, 0.5, TOL);
	/* one class only: undefined */
	ml_auc(s, 4, one, 1, NULL, &v, NULL);
	CHECK(isnan(v));
	ml_average_precision(s, 4, one, 0, NULL, &v, NULL);
	CHECK(isnan(v));
}

/* The sorted forms: one order from ml_sort_desc serves AUC and AP for either class, and
 * they give the bytes ml_auc and ml_average_precision give (the cases above). */
static void test_auc_ap_sorted(void)
{
	int32_t y2[] = {0, 1, 1, 0, 1, 0, 1};
	double s2[] = {0.3, 0.3, 0.7, 0.7, 0.7, 0.1, 0.9}, w2[] = {1, 2, 0.5, 1, 1, 3, 1};
	int32_t one[] = {1, 1, 1, 1, 1, 1, 1};
	size_t o[N(s2)];
	const double *ws[] = {NULL, w2};
	double v, a;
	int k, pos;

	CHECK(ml_sort_desc(s2, N(s2), o, NULL) == 0);
	CHECK_NEAR(ml_auc_sorted(s2, o, N(s2), y2, 1, NULL), 0.7916666666666666, TOL);
	CHECK_NEAR(ml_ap_sorted(s2, o, N(s2), y2, 1, NULL), 0.7916666666666666, TOL);
	CHECK_NEAR(ml_auc_sorted(s2, o, N(s2), y2, 1, w2), 0.8333333333333333, TOL);
	CHECK_NEAR(ml_ap_sorted(s2, o, N(s2), y2, 1, w2), 0.7680097680097681, TOL);
	for (k = 0; k < 2; k++)
		for (pos = 0; pos < 2; pos++) {
			CHECK(ml_auc(s2, N(s2), y2, pos, ws[k], &v, NULL) == 0);
			a = ml_auc_sorted(s2, o, N(s2), y2, pos, ws[k]);
			CHECK(a == v);
			/* the other class ranked by the same scores: the complement */
			CHECK_NEAR(a + ml_auc_sorted(s2, o, N(s2), y2, 1 - pos, ws[k]), 1, TOL);
			CHECK(ml_average_precision(s2, N(s2), y2, pos, ws[k], &v, NULL) == 0);
			CHECK(ml_ap_sorted(s2, o, N(s2), y2, pos, ws[k]) == v);
		}
	/* one class only: AUC undefined; AP undefined without positives, 1 with only them */
	CHECK(isnan(ml_auc_sorted(s2, o, N(s2), one, 1, NULL)));
	CHECK(isnan(ml_ap_sorted(s2, o, N(s2), one, 0, NULL)));
	CHECK(ml_ap_sorted(s2, o, N(s2), one, 1, NULL) == 1);
	/* a row of weight 0 counts for nothing */
	{
		double w0[] = {1, 1, 1, 1, 1, 1, 0};
		size_t o6[6];
		CHECK(ml_sort_desc(s2, 6, o6, NULL) == 0);
		CHECK(ml_auc_sorted(s2, o, N(s2), y2, 1, w0) == ml_auc_sorted(s2, o6, 6, y2, 1, NULL));
		CHECK(ml_ap_sorted(s2, o, N(s2), y2, 1, w0) == ml_ap_sorted(s2, o6, 6, y2, 1, NULL));
	}
}

static void test_curves(void)
{
	int32_t y[] = {0, 0, 1, 1};
	double s[] = {0.1, 0.4, 0.35, 0.8};
	int32_t one[] = {1, 1, 1, 1};
	struct ml_curve c = {0};
	struct ml_err e;

	/* roc_curve(drop_intermediate=False): fpr [0,0,.5,.5,1], tpr [0,.5,.5,1,1] */
	CHECK(ml_roc_curve(s, 4, y, 1, NULL, &c, NULL) == 0);
	CHECK(c.n == 5);
	if (c.n == 5) {
		CHECK(c.x[0] == 0 && c.x[1] == 0 && c.x[2] == 0.5 && c.x[3] == 0.5 && c.x[4] == 1);
		CHECK(c.y[0] == 0 && c.y[1] == 0.5 && c.y[2] == 0.5 && c.y[3] == 1 && c.y[4] == 1);
		CHECK(isinf(c.t[0]) && c.t[1] == 0.8 && c.t[4] == 0.1);
	}
	ml_curve_release(&c);
	/* precision_recall_curve: precision [.5,.667,.5,1,1], recall [1,1,.5,.5,0] */
	CHECK(ml_pr_curve(s, 4, y, 1, NULL, &c, NULL) == 0);
	CHECK(c.n == 5);
	if (c.n == 5) {
		CHECK_NEAR(c.y[0], 0.5, TOL);
		CHECK_NEAR(c.y[1], 2.0 / 3, TOL);
		CHECK_NEAR(c.y[2], 0.5, TOL);
		CHECK(c.y[3] == 1 && c.y[4] == 1);
		CHECK(c.x[0] == 1 && c.x[1] == 1 && c.x[2] == 0.5 && c.x[3] == 0.5 && c.x[4] == 0);
		CHECK(c.t[0] == 0.1 && c.t[3] == 0.8 && isinf(c.t[4]));
	}
	ml_curve_release(&c);
	ml_err_init(&e);
	CHECK(ml_roc_curve(s, 4, one, 1, NULL, &c, &e) == ML_E_DATA);
	CHECK(e.code == ML_E_DATA);
	CHECK(c.n == 0 && c.x == NULL);
}

static void test_logloss_brier(void)
{
	/* log_loss(["spam","ham","ham","spam"], [[.1,.9],[.9,.1],[.8,.2],[.35,.65]]): ham = 0 */
	double ham[] = {.1, .9, .8, .35}, spam[] = {.9, .1, .2, .65};
	const double *p2[] = {ham, spam};
	int32_t y[] = {1, 0, 0, 1};
	/* log_loss([0,1], [[1,0],[1,0]]): clipped to eps */
	double a[] = {1, 1}, b[] = {0, 0};
	const double *q2[] = {a, b};
	int32_t y01[] = {0, 1};
	/* log_loss([0,1,2], [[.5,.3,.3],[.2,.2,.2],[.1,.1,.9]], sample_weight=[1,2,3]):
	 * rows renormalized */
	double c0[] = {.5, .2, .1}, c1[] = {.3, .2, .1}, c2[] = {.3, .2, .9}, w[] = {1, 2, 3};
	const double *p3[] = {c0, c1, c2};
	int32_t y3[] = {0, 1, 2};
	/* brier_score_loss([0,1,1,0], [0.1,0.9,0.8,0.3]) */
	double pb[] = {0.1, 0.9, 0.8, 0.3};
	int32_t yb[] = {0, 1, 1, 0};

	CHECK_NEAR(ml_logloss(p2, 2, y, NULL, 4), 0.21616187468057912, TOL);
	CHECK_NEAR(ml_logloss(q2, 2, y01, NULL, 2), 18.021826694558577, TOL);
	CHECK_NEAR(ml_logloss(p3, 3, y3, w, 3), 0.5979490040144906, TOL);
	CHECK_NEAR(ml_brier_binary(pb, yb, 1, NULL, 4), 0.0375, TOL);
	/* an evaluator of a binary set with only the positive column: log_loss(y, spam) */
	{
		const double *only[2] = {NULL, spam};
		int32_t pred[4] = {1, 0, 0, 1};
		struct ml_cls_data d = {4, 2, y, pred, only, NULL, 1};
		struct ml_eval *ev = ml_eval_classify(&d, NULL);
		double out[ML_M_COUNT];
		CHECK(ev != NULL);
		if (ev) {
			CHECK(ml_eval_has(ev, ML_M_LOGLOSS));
			CHECK(ml_eval_run(ev, NULL, out, NULL) == 0);
			CHECK_NEAR(out[ML_M_LOGLOSS], 0.21616187468057912, TOL);
			CHECK_NEAR(out[ML_M_AUC], 1.0, TOL);
			CHECK_NEAR(out[ML_M_ACCURACY], 1.0, TOL);
		}
		ml_eval_free(ev);
	}
	/* multiclass Brier of two complementary columns is twice the binary score */
	{
		double neg[4];
		const double *pp[2];
		int i;
		for (i = 0; i < 4; i++)
			neg[i] = 1 - pb[i];
		pp[0] = neg;
		pp[1] = pb;
		CHECK_NEAR(ml_brier_multi(pp, 2, yb, NULL, 4), 0.075, TOL);
	}
}

static void test_calibration(void)
{
	/* calibration_curve(y, p, n_bins=3): prob_true [0, .5, 1], prob_pred [.2, .525, .85] */
	int32_t y[] = {0, 0, 0, 0, 1, 1, 1, 1, 1};
	double p[] = {0.1, 0.2, 0.3, 0.4, 0.65, 0.7, 0.8, 0.9, 1.0};
	struct ml_calib_bin b[3];
	/* an edge value goes to the lower bin: 0.5 with two bins */
	double e[] = {0.5, 0.0, 1.0};
	int32_t ye[] = {1, 0, 1};
	struct ml_calib_bin b2[2];

	ml_calibration(p, y, 1, NULL, 9, 3, b);
	CHECK(b[0].count == 3 && b[1].count == 2 && b[2].count == 4);
	CHECK_NEAR(b[0].frac_pos, 0, TOL);
	CHECK_NEAR(b[1].frac_pos, 0.5, TOL);
	CHECK_NEAR(b[2].frac_pos, 1, TOL);
	CHECK_NEAR(b[0].mean_pred, 0.2, TOL);
	CHECK_NEAR(b[1].mean_pred, 0.525, TOL);
	CHECK_NEAR(b[2].mean_pred, 0.85, TOL);
	CHECK(b[0].lower == 0 && b[2].upper == 1 && b[1].lower == 1.0 / 3);
	ml_calibration(e, ye, 1, NULL, 3, 2, b2);
	CHECK(b2[0].count == 2 && b2[1].count == 1);
}

static void test_regression(void)
{
	/* y = [3,-0.5,2,7], p = [2.5,0,2,8] */
	double y[] = {3, -0.5, 2, 7}, p[] = {2.5, 0, 2, 8}, v;
	/* weighted: y = [1..5], p = [1.5,2,5,4,0], w = [1,1,1,5,1] */
	double y2[] = {1, 2, 3, 4, 5}, p2[] = {1.5, 2, 5, 4, 0}, w2[] = {1, 1, 1, 5, 1};
	double c[] = {2, 2, 2}, c2[] = {2, 2, 3}, z[] = {0, 0}, z2[] = {0, 1};

	CHECK_NEAR(ml_rmse(y, p, NULL, 4), 0.6123724356957945, TOL);
	CHECK_NEAR(ml_mae(y, p, NULL, 4), 0.5, TOL);
	CHECK_NEAR(ml_r2(y, p, NULL, 4), 0.9486081370449679, TOL);
	CHECK_NEAR(ml_mape(y, p, NULL, 4), 0.3273809523809524, TOL);
	CHECK(ml_medae(y, p, NULL, 4, &v, NULL) == 0);
	CHECK_NEAR(v, 0.5, TOL);
	CHECK(ml_medae(y2, p2, w2, 5, &v, NULL) == 0);
	CHECK_NEAR(v, 0.0, TOL);
	CHECK_NEAR(ml_r2(y2, p2, w2, 5), -1.3931818181818185, TOL);
	CHECK_NEAR(ml_mape(y2, p2, w2, 5), 0.24074074074074073, TOL);
	CHECK_NEAR(ml_r2(c, c, NULL, 3), 1.0, TOL);
	CHECK_NEAR(ml_r2(c, c2, NULL, 3), 0.0, TOL);
	/* smape: 0 when both are 0; 2 when one is */
	CHECK_NEAR(ml_smape(z, z, NULL, 2), 0, TOL);
	CHECK_NEAR(ml_smape(z, z2, NULL, 2), 1, TOL);
	/* mape's epsilon for a zero truth */
	CHECK_NEAR(ml_mape(z, z2, NULL, 2), 0.5 / 2.220446049250313e-16, TOL);
	CHECK(isnan(ml_mae(y, p, NULL, 0)));
}

/* Evaluating with multiplicities equals evaluating the rows repeated. */
static void check_mult(const struct ml_eval *ev, const uint32_t *mult, const struct ml_eval *rep)
{
	double a[ML_M_COUNT], b[ML_M_COUNT];
	int m;

	CHECK(ml_eval_run(ev, mult, a, NULL) == 0);
	CHECK(ml_eval_run(rep, NULL, b, NULL) == 0);
	for (m = 0; m < ML_M_COUNT; m++) {
		CHECK(ml_eval_has(ev, m) == ml_eval_has(rep, m));
		if (!ml_eval_has(ev, m))
			CHECK(isnan(a[m]));
		else if (isnan(b[m]))
			CHECK(isnan(a[m]));
		else if (!(fabs(a[m] - b[m]) <= 1e-12 * (1 + fabs(b[m]))))
			CHECK_NEAR(a[m], b[m], 1e-12);
	}
}

static void test_eval_mult_classify(void)
{
	enum { n = 9 };
	int32_t y[n] = {0, 1, 2, 0, 1, 2, 2, 1, 0}, p[n] = {0, 2, 2, 0, 1, 1, 2, 1, 1};
	double p0[n] = {.7, .1, .1, .5, .2, .3, .2, .3, .3},
	       p1[n] = {.2, .3, .3, .4, .6, .5, .1, .6, .5};
	double p2[n];
	uint32_t mult[n] = {2, 0, 1, 3, 1, 1, 2, 0, 1};
	const double *prob[3];
	int32_t ry[32], rp[32];
	double r0[32], r1[32], r2[32];
	const double *rprob[3] = {r0, r1, r2};
	struct ml_cls_data d = {n, 3, y, p, prob, NULL, -1}, rd;
	struct ml_eval *ev, *rep;
	size_t i, j, m = 0;

	for (i = 0; i < n; i++)
		p2[i] = 1 - p0[i] - p1[i];
	prob[0] = p0;
	prob[1] = p1;
	prob[2] = p2;
	for (i = 0; i < n; i++)
		for (j = 0; j < mult[i]; j++, m++) {
			ry[m] = y[i];
			rp[m] = p[i];
			r0[m] = p0[i];
			r1[m] = p1[i];
			r2[m] = p2[i];
		}
	rd = d;
	rd.n = m;
	rd.truth = ry;
	rd.pred = rp;
	rd.prob = rprob;
	ev = ml_eval_classify(&d, NULL);
	rep = ml_eval_classify(&rd, NULL);
	CHECK(ev && rep);
	if (ev && rep) {
		CHECK(ml_eval_has(ev, ML_M_F1_WEIGHTED) && !ml_eval_has(ev, ML_M_F1));
		check_mult(ev, mult, rep);
	}
	ml_eval_free(ev);
	ml_eval_free(rep);
	/* binary, positive class 1, one column */
	d.k = 2;
	d.pos = 1;
	for (i = 0; i < n; i++) {
		y[i] = y[i] == 1;
		p[i] = p[i] == 1;
	}
	prob[0] = NULL;
	prob[1] = p1;
	for (i = m = 0; i < n; i++)
		for (j = 0; j < mult[i]; j++, m++) {
			ry[m] = y[i];
			rp[m] = p[i];
		}
	rprob[0] = NULL;
	rprob[1] = r1;
	rd.k = 2;
	rd.pos = 1;
	ev = ml_eval_classify(&d, NULL);
	rep = ml_eval_classify(&rd, NULL);
	CHECK(ev && rep);
	if (ev && rep) {
		double out[ML_M_COUNT];
		CHECK(ml_eval_has(ev, ML_M_F1) && ml_eval_has(ev, ML_M_AUC));
		check_mult(ev, mult, rep);
		/* the evaluator agrees with the scalar functions */
		ml_eval_run(ev, NULL, out, NULL);
		{
			double auc;
			ml_auc(p1, n, y, 1, NULL, &auc, NULL);
			CHECK_NEAR(out[ML_M_AUC], auc, TOL);
			CHECK_NEAR(out[ML_M_BRIER], ml_brier_binary(p1, y, 1, NULL, n), TOL);
		}
	}
	ml_eval_free(ev);
	ml_eval_free(rep);
}

static void test_eval_mult_regress(void)
{
	enum { n = 7 };
	double y[n] = {1, 2, 3, 4, 5, 6, 0}, p[n] = {1.5, 2, 5, 3.5, 0, 6.25, 0.5};
	uint32_t mult[n] = {3, 0, 1, 2, 1, 0, 1};
	double ry[16], rp[16];
	struct ml_reg_data d = {n, y, p, NULL}, rd;
	struct ml_eval *ev, *rep;
	size_t i, j, m = 0;

	for (i = 0; i < n; i++)
		for (j = 0; j < mult[i]; j++, m++) {
			ry[m] = y[i];
			rp[m] = p[i];
		}
	rd.n = m;
	rd.y = ry;
	rd.p = rp;
	rd.w = NULL;
	ev = ml_eval_regress(&d, NULL);
	rep = ml_eval_regress(&rd, NULL);
	CHECK(ev && rep);
	if (ev && rep)
		check_mult(ev, mult, rep);
	ml_eval_free(ev);
	ml_eval_free(rep);
}

static void test_bootstrap(void)
{
	enum { n = 500 };
	static int32_t y[n], p[n];
	static double s[n];
	const double *prob[2] = {NULL, s};
	struct ml_cls_data d = {n, 2, y, p, prob, NULL, 1};
	struct ml_eval *ev;
	struct ml_ctx c1, c4;
	struct ml_rng r;
	double lo1[ML_M_COUNT], hi1[ML_M_COUNT], lo4[ML_M_COUNT], hi4[ML_M_COUNT], v[ML_M_COUNT];
	size_t i;
	int m;

	ml_rng_seed(&r, 1);
	for (i = 0; i < n; i++) {
		y[i] = ml_rng_uniform(&r) < 0.4;
		s[i] = fmin(1, fmax(0, 0.3 + 0.4 * y[i] + (ml_rng_uniform(&r) - 0.5)));
		p[i] = s[i] > 0.5;
	}
	ev = ml_eval_classify(&d, NULL);
	CHECK(ev != NULL);
	if (!ev)
		return;
	CHECK(ml_ctx_init(&c1, 1, 7, NULL) == 0);
	CHECK(ml_ctx_init(&c4, 4, 7, NULL) == 0);
	CHECK(ml_eval_bootstrap(ev, &c1, 7, 200, 0.95, lo1, hi1, NULL) == 0);
	CHECK(ml_eval_bootstrap(ev, &c4, 7, 200, 0.95, lo4, hi4, NULL) == 0);
	ml_eval_run(ev, NULL, v, NULL);
	for (m = 0; m < ML_M_COUNT; m++) {
		if (!ml_eval_has(ev, m)) {
			CHECK(isnan(lo1[m]) && isnan(hi1[m]));
			continue;
		}
		if (!(lo1[m] == lo4[m] && hi1[m] == hi4[m]))
			fprintf(stderr, "%s: %.17g %.17g / %.17g %.17g\n", ml_metric_name(m),
				lo1[m], hi1[m], lo4[m], hi4[m]);
		CHECK(lo1[m] == lo4[m] && hi1[m] == hi4[m]);
		CHECK(lo1[m] <= v[m] && v[m] <= hi1[m]);
		CHECK(lo1[m] < hi1[m]);
	}
	/* another seed, other intervals */
	CHECK(ml_eval_bootstrap(ev, &c1, 8, 200, 0.95, lo4, hi4, NULL) == 0);
	CHECK(lo4[ML_M_AUC] != lo1[ML_M_AUC] || hi4[ML_M_AUC] != hi1[ML_M_AUC]);
	ml_ctx_release(&c1);
	ml_ctx_release(&c4);
	ml_eval_free(ev);
}

static void year_fmt(char *buf, size_t size, double v, void *ud)
{
	(void)ud;
	snprintf(buf, size, "Y%d", (int)v);
}

static size_t count(const char *s, const char *what)
{
	size_t n = 0;

	while ((s = strstr(s, what)) != NULL) {
		n++;
		s += strlen(what);
	}
	return n;
}

/* The SVG writer that mleval's plots use: a line with a gap, a band, markers, escaping. */
static void test_svg(void)
{
	double x[] = {2000, 2001, 2002, 2003, 2004, 2005}, y[] = {1, 3, NAN, 2, 5, 4};
	double lo[] = {0, 2, 1, 1, 4, 3}, hi[] = {2, 4, 3, 3, 6, 5};
	struct ml_svg *p = ml_svg_new("a <title> & \"more\"", "year", "value");
	FILE *fp = tmpfile();
	char buf[16384];
	size_t n;

	CHECK(p && fp);
	if (!p || !fp) {
		ml_svg_free(p);
		if (fp)
			fclose(fp);
		return;
	}
	ml_svg_xfmt(p, year_fmt, NULL);
	ml_svg_legend(p, ML_SVG_BOTTOM_RIGHT);
	CHECK(ml_svg_band(p, x, lo, hi, 6, "interval", ML_SVG_COLOR(0), NULL) == 0);
	CHECK(ml_svg_line(p, x, y, 6, "series", ML_SVG_COLOR(0) | ML_SVG_MARKERS, NULL) == 0);
	CHECK(ml_svg_line(p, x, lo, 6, NULL, ML_SVG_REF | ML_SVG_DASHED | ML_SVG_STEP, NULL) == 0);
	CHECK(ml_svg_write(p, fp, NULL) == 0);
	rewind(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = 0;
	CHECK(n > 0 && n < sizeof(buf) - 1);
	CHECK(strncmp(buf, "<?xml version=\"1.0\"", 19) == 0);
	CHECK(strstr(buf, "</svg>\n") == buf + n - 7);
	CHECK(strstr(buf, "a &lt;title&gt; &amp; &quot;more&quot;") != NULL);
	CHECK(strstr(buf, ">Y2002<") != NULL);
	CHECK(count(buf, "<polygon") == 1);
	/* the NaN splits the series in two, the reference line is one */
	CHECK(count(buf, "<polyline") == 3);
	CHECK(count(buf, "stroke-dasharray") >= 1);
	/* five markers, and one in the legend */
	CHECK(count(buf, "<circle") == 6);
	CHECK(strstr(buf, ">interval<") != NULL && strstr(buf, ">series<") != NULL);
	CHECK(strstr(buf, " width=\"640\" height=\"480\" viewBox=\"0 0 640 480\"") != NULL);
	fclose(fp);
	ml_svg_free(p);
}

/* The size of the drawing: 640 x 480 unless set; a size too small to draw in is refused. */
static void test_svg_size(void)
{
	double x[] = {0, 1, 2}, y[] = {1, 0, 2};
	struct ml_svg *p = ml_svg_new(NULL, NULL, NULL);
	char buf[8192];
	size_t n;
	FILE *fp;
	int k;
	struct {
		int w, h;
		const char *want;
	} sz[] = {{800, 300, " width=\"800\" height=\"300\" viewBox=\"0 0 800 300\""},
		  {100, 300, " width=\"800\" height=\"300\" viewBox=\"0 0 800 300\""},
		  {1200, 900, " width=\"1200\" height=\"900\" viewBox=\"0 0 1200 900\""}};

	CHECK(p != NULL);
	if (!p)
		return;
	CHECK(ml_svg_line(p, x, y, 3, "l", 0, NULL) == 0);
	for (k = 0; k < 3; k++) {
		ml_svg_size(p, sz[k].w, sz[k].h);
		fp = tmpfile();
		CHECK(fp && ml_svg_write(p, fp, NULL) == 0);
		if (!fp)
			break;
		rewind(fp);
		n = fread(buf, 1, sizeof(buf) - 1, fp);
		buf[n] = 0;
		fclose(fp);
		CHECK(strstr(buf, sz[k].want) != NULL);
	}
	ml_svg_free(p);
}

int main(void)
{
	RUN(test_names);
	RUN(test_confusion_multiclass);
	RUN(test_binary_scores);
	RUN(test_absent_class);
	RUN(test_sort);
	RUN(test_auc_ap);
	RUN(test_auc_ap_sorted);
	RUN(test_curves);
	RUN(test_logloss_brier);
	RUN(test_calibration);
	RUN(test_regression);
	RUN(test_eval_mult_classify);
	RUN(test_eval_mult_regress);
	RUN(test_bootstrap);
	RUN(test_svg);
	RUN(test_svg_size);
	return UNIT_EXIT();
}
