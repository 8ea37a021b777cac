/* Comparing current data with a reference profile: each column's tests, the thresholds and
 * severities, and the correction of p-values across columns. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "drift/drift_int.h"

static const char *const test_names[ML_DT_COUNT] = {
	"ks", "chi2", "psi", "kl", "js", "wasserstein", "mean", "std", "missing"};

const char *ml_drift_test_name(int t)
{
	return t >= 0 && t < ML_DT_COUNT ? test_names[t] : "?";
}

int ml_drift_test_parse(const char *s, size_t len)
{
	int t;

	for (t = 0; t < ML_DT_COUNT; t++)
		if (strlen(test_names[t]) == len && memcmp(test_names[t], s, len) == 0)
			return t;
	return -1;
}

void ml_drift_opts_init(struct ml_drift_opts *o)
{
	int t;

	memset(o, 0, sizeof(*o));
	o->alpha = 0.05;
	o->correction = ML_CORR_BH;
	for (t = 0; t < ML_DT_COUNT; t++)
		o->thr[t] = 0.1;
	o->thr[ML_DT_KS] = o->thr[ML_DT_CHI2] = NAN;
	o->thr[ML_DT_PSI] = 0.25;
	o->thr[ML_DT_MISSING] = 0.05;
	o->psi_warn = 0.1;
}

#define NUM_ONLY ((1u << ML_DT_KS) | (1u << ML_DT_WASSERSTEIN) | (1u << ML_DT_MEAN) | (1u << ML_DT_STD))

static double std_of(const struct pcol *c)
{
	return c->count > 1 ? sqrt(c->var) : NAN;
}

/* The current column's category counts in the order of the reference's kept labels, the
 * rest (and the current 'other') in the last bin. */
static int align_cats(const struct pcol *r, const struct pcol *c, double *out)
{
	int i, k;

	for (i = 0; i < r->nbin; i++)
		out[i] = 0;
	out[r->nbin - 1] = c->hist[c->nbin - 1];
	for (k = 0; k < c->nkept; k++) {
		for (i = 0; i < r->nkept; i++)
			if (strcmp(r->label[i], c->label[k]) == 0)
				break;
		out[i < r->nkept ? i : r->nbin - 1] += c->hist[k];
	}
	return 0;
}

int ml_drift_align(const struct ml_profile *ref, const struct ml_profile *cur, int j,
		   double *out, struct ml_err *e)
{
	int k = ml_profile_find(ref, cur->col[j].name);

	if (k < 0 || ref->col[k].type != cur->col[j].type)
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				  k < 0 ? "column '%s' is not in the reference" :
					  "column '%s' has another type in the reference",
				  cur->col[j].name);
	if (ref->col[k].type == ML_NUM)
		memcpy(out, cur->col[j].hist, (size_t)ref->col[k].nbin * sizeof(double));
	else
		align_cats(&ref->col[k], &cur->col[j], out);
	return 0;
}

/* The reference as a weighted sample: its values when kept, else the sketch's items. */
static int ref_sample(const struct ml_profile *ref, const struct pcol *r, double **v, double **w,
		      size_t *n, int *sketch, struct ml_err *e)
{
	*sketch = 0;
	if (r->vals || (ref->keep && r->count == 0)) {
		*v = r->vals;
		*w = NULL;
		*n = r->nvals;
		return 0;
	}
	*sketch = !ml_quantiles_exact(r->q);
	return ml_drift_sketch_items(r->q, v, w, n, e);
}

struct acc {
	struct ml_drift_row *row;
	size_t n, cap;
};

static struct ml_drift_row *add_row(struct acc *a, int col, int test, double stat, double p,
				    double thr)
{
	struct ml_drift_row *r;

	if (a->n == a->cap) {
		size_t nc = a->cap ? a->cap * 2 : 32;
		struct ml_drift_row *t = realloc(a->row, nc * sizeof(*t));
		if (!t)
			return NULL;
		a->row = t;
		a->cap = nc;
	}
	r = &a->row[a->n++];
	memset(r, 0, sizeof(*r));
	r->col = col;
	r->test = test;
	r->statistic = stat;
	r->p_value = p;
	r->threshold = thr;
	return r;
}

static int compare_col(const struct ml_profile *ref, const struct ml_profile *cur,
		       const struct pcol *r, const struct pcol *c, int col, unsigned tests, const struct ml_drift_opts *o, struct acc *a,
		       struct ml_err *e)
{
	double *hc = NULL, *rv = NULL, *rw = NULL;
	size_t rn = 0;
	int sketch = 0, t, rc = 0, own_items = 0;
	double sr = r->type == ML_NUM ? std_of(r) : NAN;

	if (!(hc = malloc((size_t)r->nbin * sizeof(double))))
		return ml_err_nomem(e);
	if ((rc = ml_drift_align(ref, cur, col, hc, e)) < 0)
		goto out;
	if (r->type == ML_NUM && (tests & ((1u << ML_DT_KS) | (1u << ML_DT_WASSERSTEIN)))) {
		if ((rc = ref_sample(ref, r, &rv, &rw, &rn, &sketch, e)) < 0)
			goto out;
		own_items = rv != r->vals;
	}
	for (t = 0; t < ML_DT_COUNT; t++) {
		double stat = NAN, p = NAN, thr = o->thr[t];
		struct ml_drift_row *row;
		int dof;
		if (!(tests & (1u << t)) || (r->type != ML_NUM && (NUM_ONLY & (1u << t))))
			continue;
		switch (t) {
		case ML_DT_KS:
			stat = ml_ks_stat(rv, rw, rn, c->vals, NULL, c->nvals);
			p = ml_ks_pvalue(stat, r->count, c->count, NULL);
			break;
		case ML_DT_CHI2:
			stat = ml_chi2_homog(r->hist, hc, r->nbin, &p, &dof);
			break;
		case ML_DT_PSI:
			stat = ml_psi(r->hist, hc, r->nbin);
			break;
		case ML_DT_KL:
			stat = ml_kl(r->hist, hc, r->nbin);
			break;
		case ML_DT_JS:
			stat = ml_js(r->hist, hc, r->nbin);
			break;
		case ML_DT_WASSERSTEIN:
			stat = ml_wasserstein(rv, rw, rn, c->vals, NULL, c->nvals) / sr;
			break;
		case ML_DT_MEAN:
			stat = c->count && r->count ? (c->mean - r->mean) / sr : NAN;
			break;
		case ML_DT_STD:
			stat = std_of(c) / sr;
			break;
		case ML_DT_MISSING:
			stat = (c->count + c->missing ? (double)c->missing / (double)(c->count + c->missing) : NAN) -
			       (r->count + r->missing ? (double)r->missing / (double)(r->count + r->missing) : NAN);
			break;
		}
		if (!isfinite(stat))
			stat = NAN;
		if (!(row = add_row(a, col, t, stat, p, thr))) {
			rc = ml_err_nomem(e);
			goto out;
		}
		row->sketch = t == ML_DT_KS || t == ML_DT_WASSERSTEIN ? sketch : 0;
		if (isnan(stat) || t == ML_DT_KS || t == ML_DT_CHI2)
			continue;
		if (t == ML_DT_MEAN || t == ML_DT_MISSING)
			row->drift = fabs(stat) > thr;
		else if (t == ML_DT_STD)
			row->drift = fabs(stat - 1) > thr;
		else
			row->drift = stat > thr;
		row->severity = row->drift ? ML_SEV_ALERT :
			t == ML_DT_PSI && stat > o->psi_warn ? ML_SEV_WARN : ML_SEV_NONE;
	}
out:
	free(hc);
	if (own_items) {
		free(rv);
		free(rw);
	}
	return rc;
}

int ml_drift_compare(const struct ml_profile *ref, const struct ml_profile *cur,
		     const struct ml_drift_opts *o, struct ml_drift_row **rows, size_t *n,
		     struct ml_err *e)
{
	struct acc a = {NULL, 0, 0};
	double *p = NULL, *thr = NULL;
	int *rej = NULL, j, rc = 0;
	size_t i;

	*rows = NULL;
	*n = 0;
	for (j = 0; j < cur->ncol; j++) {
		int k = ml_profile_find(ref, cur->col[j].name);
		unsigned tests = o->tests;
		if (k < 0 || ref->col[k].type != cur->col[j].type)
			return ml_drift_align(ref, cur, j, NULL, e);
		if (!tests)
			tests = cur->col[j].type == ML_NUM ? (1u << ML_DT_KS) | (1u << ML_DT_PSI)
							   : (1u << ML_DT_CHI2) | (1u << ML_DT_PSI);
		if ((rc = compare_col(ref, cur, &ref->col[k], &cur->col[j], j, tests, o, &a, e)) < 0)
			goto fail;
	}
	p = malloc((a.n ? a.n : 1) * sizeof(double));
	thr = malloc((a.n ? a.n : 1) * sizeof(double));
	rej = malloc((a.n ? a.n : 1) * sizeof(int));
	if (!p || !thr || !rej) {
		rc = ml_err_nomem(e);
		goto fail;
	}
	for (i = 0; i < a.n; i++)
		p[i] = a.row[i].test == ML_DT_KS || a.row[i].test == ML_DT_CHI2 ? a.row[i].p_value : NAN;
	if ((rc = ml_p_adjust(p, a.n, o->alpha, o->correction, thr, rej)) < 0) {
		rc = ml_err_nomem(e);
		goto fail;
	}
	for (i = 0; i < a.n; i++) {
		struct ml_drift_row *r = &a.row[i];
		if (r->test != ML_DT_KS && r->test != ML_DT_CHI2)
			continue;
		r->threshold = isnan(r->p_value) ? NAN : thr[i];
		r->drift = rej[i];
		r->severity = rej[i] ? ML_SEV_ALERT :
			r->p_value <= o->alpha ? ML_SEV_WARN : ML_SEV_NONE;
	}
	free(p);
	free(thr);
	free(rej);
	*rows = a.row;
	*n = a.n;
	return 0;
fail:
	free(p);
	free(thr);
	free(rej);
	free(a.row);
	return rc;
}
