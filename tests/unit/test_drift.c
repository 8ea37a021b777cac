/* Unit tests for lib/drift: the tests against SciPy's answers, multiple-testing control
 * against a hand computation, and the merge property of profiles. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml.h"
#include "ml/drift.h"
#include "ml/stats.h"
#include "drift/drift_int.h"
#include "unit.h"

#include "../fixtures/drift/expected.h"

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The generator of gen_drift.py: ((a i + b) mod m) / div + shift, sorted. */
static double *gen(long n, long a, long b, long m, double div, double shift)
{
	double *v = malloc((size_t)n * sizeof(double));
	long i;

	for (i = 0; i < n; i++)
		v[i] = (double)((a * i + b) % m) / div + shift;
	qsort(v, (size_t)n, sizeof(double), cmp_d);
	return v;
}

static void test_ks_scipy(void)
{
	size_t c;

	for (c = 0; c < sizeof(ks_cases) / sizeof(ks_cases[0]); c++) {
		const struct ks_case *k = &ks_cases[c];
		double *x = gen(k->n1, k->a1, k->b1, k->m1, k->div1, k->shift1);
		double *y = gen(k->n2, k->a2, k->b2, k->m2, k->div2, k->shift2);
		int exact = -1;
		double d = ml_ks_stat(x, NULL, (size_t)k->n1, y, NULL, (size_t)k->n2);
		double p = ml_ks_pvalue(d, (uint64_t)k->n1, (uint64_t)k->n2, &exact);
		CHECK_NEAR(d, k->d, 1e-12);
		if (fabs(p - k->p) > 1e-6)
			fprintf(stderr, "ks case %zu: p %.17g, want %.17g\n", c, p, k->p);
		CHECK(fabs(p - k->p) <= 1e-6);
		CHECK(exact == k->exact);
		CHECK_NEAR(ml_wasserstein(x, NULL, (size_t)k->n1, y, NULL, (size_t)k->n2), k->w, 1e-9);
		free(x);
		free(y);
	}
}

static void test_kstwo_scipy(void)
{
	size_t c;

	for (c = 0; c < sizeof(kstwo_cases) / sizeof(kstwo_cases[0]); c++) {
		double p = ml_kstwo_sf(kstwo_cases[c][0], kstwo_cases[c][1]);
		if (fabs(p - kstwo_cases[c][2]) > 1e-6)
			fprintf(stderr, "kstwo.sf(%g, %g) = %.17g, want %.17g\n", kstwo_cases[c][0],
				kstwo_cases[c][1], p, kstwo_cases[c][2]);
		CHECK(fabs(p - kstwo_cases[c][2]) <= 1e-6);
	}
}

static void test_chi2_scipy(void)
{
	size_t c;

	for (c = 0; c < sizeof(chi2_cases) / sizeof(chi2_cases[0]); c++) {
		const struct chi2_case *k = &chi2_cases[c];
		double p;
		int dof;
		double s = ml_chi2_homog(k->a, k->b, k->k, &p, &dof);
		CHECK_NEAR(s, k->stat, 1e-9);
		CHECK(fabs(p - k->p) <= 1e-6 * (1 + k->p));
		CHECK(dof == k->dof);
	}
	for (c = 0; c < sizeof(chi2_sf_cases) / sizeof(chi2_sf_cases[0]); c++)
		CHECK_NEAR(ml_chi2_sf(chi2_sf_cases[c][0], chi2_sf_cases[c][1]), chi2_sf_cases[c][2],
			   1e-9);
}

static void test_js_scipy(void)
{
	size_t c;

	for (c = 0; c < sizeof(js_cases) / sizeof(js_cases[0]); c++)
		CHECK_NEAR(ml_js(js_cases[c], js_cases[c] + 4, 4), js_cases[c][8], 1e-9);
}

static void test_psi_kl_hand(void)
{
	double r[3] = {50, 30, 20}, c[3] = {20, 30, 50};
	double want = (0.2 - 0.5) * log(0.2 / 0.5) + 0 + (0.5 - 0.2) * log(0.5 / 0.2);

	CHECK_NEAR(ml_psi(r, c, 3), want, 1e-12);
	CHECK_NEAR(ml_kl(r, c, 3), 0.2 * log(0.2 / 0.5) + 0.5 * log(0.5 / 0.2), 1e-12);
	CHECK_NEAR(ml_psi(r, r, 3), 0, 1e-15);
	/* an empty bin takes the documented epsilon */
	{
		double a[2] = {1, 0}, b[2] = {1, 1};
		double ra = 1 / (1 + ML_DRIFT_EPS), rb = ML_DRIFT_EPS / (1 + ML_DRIFT_EPS);
		CHECK_NEAR(ml_psi(a, b, 2), (0.5 - ra) * log(0.5 / ra) + (0.5 - rb) * log(0.5 / rb),
			   1e-12);
	}
}

/* Benjamini-Hochberg by hand: sorted p 0.001 0.008 0.039 0.041 0.042 0.06 0.074 0.205, m = 8,
 * alpha 0.05: i alpha / m = 0.00625 0.0125 0.01875 0.025 0.03125 0.0375 0.04375 0.05; the
 * largest i with p_(i) <= i alpha / m is 2, so 0.001 and 0.008 are rejected, cut 0.0125. */
static void test_bh_hand(void)
{
	double p[9] = {0.041, 0.001, 0.205, 0.039, NAN, 0.008, 0.074, 0.042, 0.06}, thr[9];
	int rej[9], i;

	CHECK(ml_p_adjust(p, 9, 0.05, ML_CORR_BH, thr, rej) == 0);
	for (i = 0; i < 9; i++)
		CHECK(rej[i] == (i == 1 || i == 5));
	CHECK_NEAR(thr[0], 0.0125, 1e-15);
	CHECK(isnan(thr[4]));
	CHECK(ml_p_adjust(p, 9, 0.05, ML_CORR_BONFERRONI, thr, rej) == 0);
	CHECK_NEAR(thr[0], 0.00625, 1e-15);
	for (i = 0; i < 9; i++)
		CHECK(rej[i] == (i == 1));
	CHECK(ml_p_adjust(p, 9, 0.05, ML_CORR_NONE, thr, rej) == 0);
	for (i = 0; i < 9; i++)
		CHECK(rej[i] == (!isnan(p[i]) && p[i] <= 0.05));
}

/* A table of a numeric and a categorical column, rows [from, to) of a fixed sequence. */
static void fill(struct ml_schema *s, struct ml_block *b, long from, long to)
{
	static const char *const lv[] = {"a", "b", "c", "d", "e"};
	long i;

	b->nrow = 0;
	ml_block_reserve(b, (size_t)(to - from), NULL);
	for (i = from; i < to; i++) {
		size_t r = (size_t)(i - from);
		b->col[0].num[r] = i % 17 == 3 ? NAN : (double)((i * 7919 + 11) % 10007) / 7.0;
		b->col[1].cat[r] = i % 23 == 5 ? ML_MISSING_CAT :
			ml_dict_intern(&s->cols[1].dict, lv[(i * 31) % 5], 1);
	}
	b->nrow = (size_t)(to - from);
}

static struct ml_profile *profile_of(long from, long to, const struct ml_profile *edges)
{
	struct ml_schema s;
	struct ml_block b;
	struct ml_profile_opts o;
	struct ml_profile *p;

	ml_schema_init(&s);
	ml_schema_add(&s, "x", ML_NUM);
	ml_schema_add(&s, "c", ML_CAT);
	ml_block_init(&b, &s, 16, NULL);
	fill(&s, &b, from, to);
	ml_profile_opts_init(&o);
	o.edges = edges;
	p = ml_profile_new(&s, NULL, 0, &o, NULL);
	CHECK(p != NULL);
	CHECK(ml_profile_add(p, &b, 0, b.nrow, NULL) == 0);
	CHECK(ml_profile_finish(p, NULL) == 0);
	ml_block_release(&b);
	ml_schema_release(&s);
	return p;
}

static void same_profile(const struct ml_profile *a, const struct ml_profile *b)
{
	int j, k;

	CHECK(ml_profile_rows(a) == ml_profile_rows(b));
	for (j = 0; j < ml_profile_ncol(a); j++) {
		struct ml_profile_col x, y;
		ml_profile_col(a, j, &x);
		ml_profile_col(b, j, &y);
		CHECK(x.count == y.count && x.missing == y.missing && x.nbin == y.nbin);
		for (k = 0; k < x.nbin && x.nbin == y.nbin; k++)
			CHECK(x.hist[k] == y.hist[k]);
		if (x.type == ML_NUM) {
			/* from exact sums: the same bits however the rows were grouped */
			CHECK(memcmp(&x.mean, &y.mean, sizeof(double)) == 0);
			CHECK(memcmp(&x.m2, &y.m2, sizeof(double)) == 0);
			CHECK(memcmp(&x.var, &y.var, sizeof(double)) == 0);
			CHECK(x.min == y.min && x.max == y.max);
			CHECK(ml_quantiles_count(x.q) == ml_quantiles_count(y.q));
			CHECK_NEAR(ml_quantiles_get(x.q, 0.5), ml_quantiles_get(y.q, 0.5), 1e-12);
		} else {
			for (k = 0; k + 1 < x.nbin && x.nbin == y.nbin; k++)
				CHECK(strcmp(x.label[k], y.label[k]) == 0);
		}
	}
}

/* profile(A) + profile(B) = profile(A u B), in either order and grouping, when the pieces
 * take their edges from one reference. */
static void test_merge_property(void)
{
	struct ml_profile *ref = profile_of(0, 3000, NULL);
	struct ml_profile *whole = profile_of(0, 3000, ref);
	struct ml_profile *a = profile_of(0, 1000, ref), *b = profile_of(1000, 2200, ref);
	struct ml_profile *c = profile_of(2200, 3000, ref);
	struct ml_profile *c2 = profile_of(2200, 3000, ref), *a2 = profile_of(0, 1000, ref);
	struct ml_profile *other = profile_of(0, 500, NULL);

	same_profile(ref, whole);
	CHECK(ml_profile_merge(a, b, NULL) == 0);
	CHECK(ml_profile_merge(a, c, NULL) == 0);
	same_profile(a, whole);
	CHECK(ml_profile_merge(c2, b, NULL) == 0); /* (C + B) + A */
	CHECK(ml_profile_merge(c2, a2, NULL) == 0);
	same_profile(c2, whole);
	{
		struct ml_err e;
		ml_err_init(&e);
		CHECK(ml_profile_merge(whole, other, &e) == ML_E_DATA);
		CHECK(strstr(e.msg, "other bin edges") != NULL);
	}
	{
		/* through the container and back */
		struct ml_model *m = ml_profile_to_model(a, NULL);
		struct ml_profile *back = ml_profile_from_model(m, "t", NULL);
		CHECK(back != NULL);
		if (back)
			same_profile(back, a);
		ml_profile_free(back);
		ml_model_free(m);
	}
	ml_profile_free(ref);
	ml_profile_free(whole);
	ml_profile_free(a);
	ml_profile_free(b);
	ml_profile_free(c);
	ml_profile_free(a2);
	ml_profile_free(c2);
	ml_profile_free(other);
}

/* Under, [1,2), [2,3), [3,4] (the last closed), over; a single value has the bin [5, 5]. */
static void test_bins(void)
{
	double e[4] = {1, 2, 3, 4}, one[2] = {5, 5};

	CHECK(ml_profile_bin(e, 4, 0.5) == 0);
	CHECK(ml_profile_bin(e, 4, 1) == 1);
	CHECK(ml_profile_bin(e, 4, 1.5) == 1);
	CHECK(ml_profile_bin(e, 4, 2) == 2);
	CHECK(ml_profile_bin(e, 4, 3.999) == 3);
	CHECK(ml_profile_bin(e, 4, 4) == 3);
	CHECK(ml_profile_bin(e, 4, 4.5) == 4);
	CHECK(ml_profile_bin(one, 2, 5) == 1);
	CHECK(ml_profile_bin(one, 2, 4) == 0);
	CHECK(ml_profile_bin(one, 2, 6) == 2);
}

static void test_sort(void)
{
	double v[12] = {3.5, -1, 0.0, -0.0, INFINITY, -INFINITY, 1e-300, -1e300, 2, 3.5, -2.5, 5e-324};
	double w[12];
	int i;

	memcpy(w, v, sizeof(v));
	qsort(w, 12, sizeof(double), cmp_d);
	CHECK(ml_drift_sort(v, 12) == 0);
	for (i = 0; i < 12; i++)
		CHECK(v[i] == w[i]);
	for (i = 1; i < 12; i++)
		CHECK(v[i - 1] <= v[i]);
	CHECK(signbit(v[4]) && !signbit(v[5])); /* -0 before +0 */
}

/* The moments of v[0..n) from exact sums. */
static void xs_moments(const double *v, size_t n, double *mean, double *m2, double *var)
{
	struct ml_xsum x;
	size_t i;

	ml_xsum_init(&x);
	for (i = 0; i < n; i++)
		ml_xsum_add(&x, v[i]);
	CHECK(ml_xsum_moments(&x, n, mean, m2, var) == 0);
}

/* The saved form of the sums of v[0..n) added from first to last, or last to first in
 * two halves merged. */
static void xs_saved(const double *v, size_t n, int backwards, struct ml_wbuf *b)
{
	struct ml_xsum x, y;
	size_t i;

	ml_xsum_init(&x);
	ml_xsum_init(&y);
	for (i = 0; i < n; i++) {
		if (!backwards)
			ml_xsum_add(&x, v[i]);
		else if (n - 1 - i < n / 2)
			ml_xsum_add(&x, v[n - 1 - i]);
		else
			ml_xsum_add(&y, v[n - 1 - i]);
	}
	ml_xsum_merge(&y, &x);
	ml_wbuf_init(b);
	ml_xsum_save(backwards ? &y : &x, b);
}

/* Exact sums: moments correctly rounded where a one-pass formula cancels, at the ends of
 * the doubles' range, through the carries, and one canonical saved form. */
static void test_xsum(void)
{
	static double v[3000000];
	double mean, m2, var;
	size_t i;

	/* 1e9 + {-1, 0, 1} 1e-3 (as doubles): the mean is 1e9 exactly, m2 the exact sum of
	 * the squared deviations of the doubles */
	{
		double d = 1e9 + 1e-3 - 1e9, e = 1e9 - (1e9 - 1e-3);
		v[0] = 1e9 + 1e-3;
		v[1] = 1e9;
		v[2] = 1e9 - 1e-3;
		xs_moments(v, 3, &mean, &m2, &var);
		CHECK(d == e && mean == 1e9);
		CHECK(m2 == 2 * d * d && var == d * d);
	}
	/* 0.1 seven times: the mean is the double 0.1, the deviations 0 */
	for (i = 0; i < 7; i++)
		v[i] = 0.1;
	xs_moments(v, 7, &mean, &m2, &var);
	CHECK(mean == 0.1 && m2 == 0 && var == 0);
	/* subnormals: the least one, twice, and 0: mean 2/3 of it rounds to it */
	v[0] = v[1] = 4.9406564584124654e-324;
	v[2] = 0;
	xs_moments(v, 3, &mean, &m2, &var);
	CHECK(mean == 4.9406564584124654e-324 && m2 == 0);
	/* the largest doubles: a finite mean, a variance beyond the range */
	v[0] = 1.7976931348623157e308;
	v[1] = -1.7976931348623157e308;
	v[2] = 1.7976931348623157e308;
	xs_moments(v, 3, &mean, &m2, &var);
	CHECK(mean == 1.7976931348623157e308 / 3 && isinf(var) && var > 0);
	/* infinities: as IEEE arithmetic */
	v[0] = 1;
	v[1] = INFINITY;
	xs_moments(v, 2, &mean, &m2, &var);
	CHECK(isinf(mean) && mean > 0 && isnan(var));
	v[2] = -INFINITY;
	xs_moments(v, 3, &mean, &m2, &var);
	CHECK(isnan(mean));
	xs_moments(v, 1, &mean, &m2, &var);
	CHECK(mean == 1 && m2 == 0 && isnan(var));
	xs_moments(v, 0, &mean, &m2, &var);
	CHECK(isnan(mean) && isnan(var));
	/* more values than the carry period: 1e15 + k and 1e15 - k (exact doubles), w and
	 * -w of every magnitude: the mean is 1e15 / 2, whatever the order; the saved forms
	 * are equal */
	for (i = 0; i < 2500000; i += 4) {
		double k = (double)(i % 9973) * 0.125, w = ldexp((double)(i % 9973), (int)(i % 1500) - 1000);
		v[i] = 1e15 + k;
		v[i + 1] = 1e15 - k;
		v[i + 2] = w;
		v[i + 3] = -w;
	}
	xs_moments(v, 2500000, &mean, &m2, &var);
	CHECK(mean == 1e15 / 2);
	{
		struct ml_wbuf a, b;
		struct ml_rbuf r;
		struct ml_xsum x;
		double mean2, m22, var2;
		xs_saved(v, 2500000, 0, &a);
		xs_saved(v, 2500000, 1, &b);
		CHECK(a.n == b.n && memcmp(a.p, b.p, a.n) == 0);
		ml_rbuf_init(&r, a.p, a.n);
		CHECK(ml_xsum_load(&x, &r) == 0 && r.off == r.n);
		CHECK(ml_xsum_moments(&x, 2500000, &mean2, &m22, &var2) == 0);
		CHECK(mean2 == mean && m22 == m2 && var2 == var);
		/* a sum of squares below the square of the sum belongs to no values */
		ml_xsum_init(&x);
		ml_xsum_add(&x, 3);
		ml_xsum_add(&x, 3);
		CHECK(ml_xsum_moments(&x, 1, &mean2, &m22, &var2) < 0);
		CHECK(ml_xsum_moments(&x, 2, &mean2, &m22, &var2) == 0 && mean2 == 3 && var2 == 0);
		/* a form that is not canonical: the sum's lowest limb (after u8 sign, u32 first
		 * limb, u32 limbs) made 0 */
		memset(a.p + 9, 0, 4);
		ml_rbuf_init(&r, a.p, a.n);
		CHECK(ml_xsum_load(&x, &r) < 0);
		ml_wbuf_release(&a);
		ml_wbuf_release(&b);
	}
}

int main(void)
{
	RUN(test_sort);
	RUN(test_ks_scipy);
	RUN(test_kstwo_scipy);
	RUN(test_chi2_scipy);
	RUN(test_js_scipy);
	RUN(test_psi_kl_hand);
	RUN(test_bh_hand);
	RUN(test_merge_property);
	RUN(test_bins);
	RUN(test_xsum);
	return UNIT_EXIT();
}
