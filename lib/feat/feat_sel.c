/* Feature steps across columns: pairwise interactions, selection (variance, k best by
 * F, chi-squared or mutual information, recursive elimination, Boruta) and PCA. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lapacke.h>

#include "feat_int.h"
#include "ml/learn.h"
#include "ml/num.h"
#include "core/sort.h"

/* ---------------------------------------------------------------- interactions */

struct inter {
	int squares;
	int first;
};

static int inter_parse(struct fstep *s, const struct ml_feat_spec *spec, struct ml_err *e)
{
	struct inter *p = calloc(1, sizeof(*p));

	if (!p)
		return ml_err_nomem(e);
	s->p = p;
	p->squares = spec->squares;
	s->colspec = s->args[0] ? s->args : NULL;
	return 0;
}

static int inter_fit(struct fstep *s, const struct fdata *d, struct ml_err *e)
{
	struct inter *p = s->p;

	(void)d;
	if (s->ncol < 2 && !(p->squares && s->ncol == 1))
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "--interactions: needs two numeric columns or more (%d given)",
				  s->ncol);
	return 0;
}

static int inter_layout(struct fstep *s, const struct ml_schema *in, struct ml_err *e)
{
	struct inter *p = s->p;
	int j, a, b, rc;
	char name[2100];

	for (j = 0; j < in->ncol; j++)
		if ((rc = ml_fout_pass(s, in, j, e)) < 0)
			return rc;
	p->first = s->nout;
	for (a = 0; a < s->ncol; a++)
		for (b = a; b < s->ncol; b++) {
			if (a == b && !p->squares)
				continue;
			if (a == b)
				snprintf(name, sizeof(name), "%s^2", s->cols[a]);
			else
				snprintf(name, sizeof(name), "%s*%s", s->cols[a], s->cols[b]);
			if ((rc = ml_fout_add(s, name, ML_NUM, -1, 1, e)) < 0)
				return rc;
		}
	return 0;
}

static int inter_apply(struct fstep *s, struct fio *io, struct ml_err *e)
{
	struct inter *p = s->p;
	int a, b, o = p->first;
	size_t i;

	(void)e;
	for (a = 0; a < s->ncol; a++)
		for (b = a; b < s->ncol; b++) {
			const double *x = io->v[s->ci[a]].num, *y = io->v[s->ci[b]].num;
			double *out;
			if (a == b && !p->squares)
				continue;
			out = io->o[o++].num;
			for (i = 0; i < io->n; i++)
				out[i] = x[i] * y[i];
		}
	return 0;
}

static void inter_save(const struct fstep *s, struct ml_wbuf *b)
{
	const struct inter *p = s->p;

	ml_wbuf_u8(b, (uint8_t)p->squares);
}

static int inter_load(struct fstep *s, struct ml_rbuf *b, struct ml_err *e)
{
	struct inter *p = calloc(1, sizeof(*p));

	if (!p)
		return ml_err_nomem(e);
	s->p = p;
	p->squares = ml_rbuf_u8(b) != 0;
	return 0;
}

static void plain_free(struct fstep *s)
{
	free(s->p);
	s->p = NULL;
}

const struct fops ml_fops_interact = {
    "interactions", FK_INTERACT, FS_NUM, 0,	     inter_parse, inter_fit, inter_layout,
    NULL,	    inter_apply, NULL,	 inter_save, inter_load,  NULL,	     plain_free};

/* ---------------------------------------------------------------- selection */

enum { SE_VARIANCE, SE_KBEST, SE_RFE, SE_BORUTA };
enum { SS_F, SS_CHI2, SS_MI };

struct sel {
	double thr;	     /* variance */
	long k;		     /* kbest, rfe */
	int score;	     /* kbest: SS_* */
	char *algo;	     /* rfe, boruta */
	unsigned char *keep; /* per step column */
	double *scores;	     /* per step column (variance, score, rank) */
	int nkeep;
};

static int sel_parse(struct fstep *s, const struct ml_feat_spec *spec, struct ml_err *e)
{
	struct sel *p = calloc(1, sizeof(*p));
	char *m = s->args, *a, *b;

	if (!p)
		return ml_err_nomem(e);
	s->p = p;
	a = ml_feat_cut(m);
	if (strcmp(m, "variance") == 0) {
		s->method = SE_VARIANCE;
		s->colspec = a ? ml_feat_cut(a) : NULL;
		if (!a || ml_parse_real(a, 0, INFINITY, &p->thr) != 0)
			return ml_err_set(
			    e, ML_E_USAGE, NULL, 0, 0,
			    "--select variance:T: '%s' is not a threshold (a number >= 0)",
			    a ? a : "");
	} else if (strcmp(m, "kbest") == 0) {
		s->method = SE_KBEST;
		b = a ? ml_feat_cut(a) : NULL;
		s->colspec = b ? ml_feat_cut(b) : NULL;
		if (!a || ml_parse_long(a, 1, 1 << 24, &p->k) != 0)
			return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
					  "--select kbest:K:SCORE: '%s' is not a count (1 or more)",
					  a ? a : "");
		if (!b || (strcmp(b, "f") && strcmp(b, "chi2") && strcmp(b, "mi")))
			return ml_err_set(
			    e, ML_E_USAGE, NULL, 0, 0,
			    "--select kbest:K:SCORE: unknown score '%s' (f, chi2 or mi)",
			    b ? b : "");
		p->score = !strcmp(b, "f") ? SS_F : !strcmp(b, "chi2") ? SS_CHI2 : SS_MI;
	} else if (strcmp(m, "rfe") == 0) {
		s->method = SE_RFE;
		s->colspec = a ? ml_feat_cut(a) : NULL;
		if (!a || ml_parse_long(a, 1, 1 << 24, &p->k) != 0)
			return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
					  "--select rfe:K: '%s' is not a count (1 or more)",
					  a ? a : "");
		if (spec->algorithm) {
			const struct ml_algo *al = ml_algo_find(spec->algorithm);
			const char *const *t;
			int ok = 0;
			if (!al)
				return ml_err_set(
				    e, ML_E_USAGE, NULL, 0, 0,
				    "--select rfe: unknown or not yet available algorithm '%s'",
				    spec->algorithm);
			for (t = ml_algo_tables(al); *t; t++)
				ok |= !strcmp(*t, "coef") || !strcmp(*t, "importance");
			if (!ok)
				return ml_err_set(
				    e, ML_E_USAGE, NULL, 0, 0,
				    "--select rfe: -a %s gives neither coefficients nor "
				    "importances to rank features by",
				    spec->algorithm);
			if (!(p->algo = ml_feat_strdup(spec->algorithm)))
				return ml_err_nomem(e);
		}
	} else if (strcmp(m, "boruta") == 0) {
		s->method = SE_BORUTA;
		s->colspec = a;
		if (!ml_algo_find("rf"))
			return ml_err_set(
			    e, ML_E_USAGE, NULL, 0, 0,
			    "--select boruta is not available yet (it needs the random "
			    "forest learner)");
	} else {
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "--select: unknown method '%s' (variance:T, kbest:K:f|chi2|mi, "
				  "rfe:K or boruta)",
				  m);
	}
	return 0;
}

/* The step's columns as a matrix without missing values. */
static double *sel_matrix(const struct fstep *s, const struct fdata *d, const char *what,
			  struct ml_err *e)
{
	double *X = malloc((d->n ? d->n : 1) * (size_t)(s->ncol ? s->ncol : 1) * sizeof(double));
	size_t i;
	int k;
	char q[160];

	if (!X) {
		ml_err_nomem(e);
		return NULL;
	}
	for (k = 0; k < s->ncol; k++) {
		const double *x = d->v[s->ci[k]].num;
		for (i = 0; i < d->n; i++) {
			if (x[i] != x[i]) {
				free(X);
				ml_feat_quote_col(q, sizeof(q), s->cols[k]);
				ml_err_set(
				    e, ML_E_DATA, d->name, ml_feat_line(d->line, i), 0,
				    "--%s %s: column '%s' has a missing value (impute first)",
				    s->ops->name, what, q);
				return NULL;
			}
			X[(size_t)k * d->n + i] = x[i];
		}
	}
	return X;
}

static int need_target(const struct fstep *s, const struct fdata *d, const char *what,
		       struct ml_err *e)
{
	if (!d->y)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "--%s %s needs the target (-t COL)",
				  s->ops->name, what);
	return 0;
}

/* scikit-learn's f_classif: one-way ANOVA F from sums of squares, summed as it sums
 * them (per class in row order, then over the classes), for the same roundings. */
static double f_classif(const double *x, const double *y, size_t n, int nclass)
{
	double *sum = calloc((size_t)nclass, sizeof(double)),
	       *cnt = calloc((size_t)nclass, sizeof(double));
	double *sq = calloc((size_t)nclass, sizeof(double));
	double ss = 0, s = 0, sstot, ssbn = 0, sswn, f;
	size_t i;
	int c, kk = 0;

	if (!sum || !cnt || !sq) {
		free(sum);
		free(cnt);
		free(sq);
		return NAN;
	}
	for (i = 0; i < n; i++) {
		int cl = (int)y[i];
		sq[cl] += x[i] * x[i];
		sum[cl] += x[i];
		cnt[cl] += 1;
	}
	for (c = 0; c < nclass; c++)
		if (cnt[c] > 0) {
			ss += sq[c];
			s += sum[c];
		}
	sstot = ss - s * s / (double)n;
	for (c = 0; c < nclass; c++)
		if (cnt[c] > 0) {
			ssbn += sum[c] * sum[c] / cnt[c];
			kk++;
		}
	ssbn -= s * s / (double)n;
	sswn = sstot - ssbn;
	f = (ssbn / (double)(kk - 1)) / (sswn / (double)(n - (size_t)kk));
	free(sum);
	free(cnt);
	free(sq);
	return f;
}

/* scikit-learn's f_regression: F from the correlation with the target. */
static double f_regression(const double *x, const double *y, size_t n)
{
	double mx = 0, my = 0, sxy = 0, sxx = 0, syy = 0, r;
	size_t i;

	for (i = 0; i < n; i++) {
		mx += x[i];
		my += y[i];
	}
	mx /= (double)n;
	my /= (double)n;
	for (i = 0; i < n; i++) {
		sxy += (x[i] - mx) * (y[i] - my);
		sxx += (x[i] - mx) * (x[i] - mx);
		syy += (y[i] - my) * (y[i] - my);
	}
	r = sxy / (sqrt(sxx) * sqrt(syy));
	return r * r / (1 - r * r) * (double)(n - 2);
}

/* scikit-learn's chi2: observed class sums of the feature against expected ones. */
static double chi2_score(const double *x, const double *y, size_t n, int nclass)
{
	double *obs = calloc((size_t)nclass, sizeof(double)),
	       *cnt = calloc((size_t)nclass, sizeof(double));
	double tot = 0, chi = 0;
	size_t i;
	int c;

	if (!obs || !cnt) {
		free(obs);
		free(cnt);
		return NAN;
	}
	for (i = 0; i < n; i++) {
		obs[(int)y[i]] += x[i];
		cnt[(int)y[i]] += 1;
		tot += x[i];
	}
	for (c = 0; c < nclass; c++) {
		double ex = cnt[c] / (double)n * tot, d = obs[c] - ex;
		chi += d * d / ex;
	}
	free(obs);
	free(cnt);
	return chi;
}

static double digamma(double x)
{
	double r = 0, f;

	while (x < 6) {
		r -= 1 / x;
		x += 1;
	}
	f = 1 / (x * x);
	return r + log(x) - 0.5 / x -
	       f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f / 132))));
}

/* Points of a sorted array within r of v (|a[j] - v| <= r). */
static size_t count_within(const double *a, size_t n, double v, double r)
{
	size_t lo = 0, hi = n, l, u;

	while (lo < hi) {
		size_t m = (lo + hi) / 2;
		if (a[m] < v - r)
			lo = m + 1;
		else
			hi = m;
	}
	l = lo;
	while (l > 0 && fabs(a[l - 1] - v) <= r)
		l--;
	while (l < n && fabs(a[l] - v) > r)
		l++;
	u = l;
	while (u < n && fabs(a[u] - v) <= r)
		u++;
	return u - l;
}

/* The distance from a[i] to its k-th nearest other point of the sorted array a. */
static double kth_1d(const double *a, size_t n, size_t i, int k)
{
	size_t l = i, r = i + 1;
	double d = 0;
	int t;

	for (t = 0; t < k; t++) {
		double dl = l > 0 ? a[i] - a[l - 1] : INFINITY;
		double dr = r < n ? a[r] - a[i] : INFINITY;
		if (dl <= dr) {
			d = dl;
			l--;
		} else {
			d = dr;
			r++;
		}
	}
	return d;
}

/* Mutual information between a continuous x and classes y, by the nearest-neighbour
 * estimator of Ross (2014) with 3 neighbours, as scikit-learn's mutual_info_classif. */
static double mi_classif(const double *x, const double *y, size_t n, int nclass, struct ml_err *e)
{
	double *all = malloc((n ? n : 1) * sizeof(double)),
	       *cls = malloc((n ? n : 1) * sizeof(double));
	size_t *cnt = calloc((size_t)nclass, sizeof(size_t)), m = 0, i, j;
	double sk = 0, sc = 0, sm = 0, mi;
	int c;

	if (!all || !cls || !cnt) {
		free(all);
		free(cls);
		free(cnt);
		ml_err_nomem(e);
		return NAN;
	}
	for (i = 0; i < n; i++)
		cnt[(int)y[i]]++;
	for (i = 0; i < n; i++)
		if (cnt[(int)y[i]] > 1)
			all[m++] = x[i];
	qsort(all, m, sizeof(double), ml_cmp_double);
	for (c = 0; c < nclass; c++) {
		size_t nc = 0;
		int k;
		if (cnt[c] < 2)
			continue;
		for (i = 0; i < n; i++)
			if ((int)y[i] == c)
				cls[nc++] = x[i];
		qsort(cls, nc, sizeof(double), ml_cmp_double);
		k = nc - 1 < 3 ? (int)(nc - 1) : 3;
		for (j = 0; j < nc; j++) {
			double r = nextafter(kth_1d(cls, nc, j, k), 0);
			sm += digamma((double)count_within(all, m, cls[j], r));
			sk += digamma(k);
			sc += digamma((double)nc);
		}
	}
	mi = m ? digamma((double)m) + sk / (double)m - sc / (double)m - sm / (double)m : 0;
	free(all);
	free(cls);
	free(cnt);
	return mi > 0 ? mi : 0;
}

struct pt {
	double x, y;
};

static int cmp_ptx(const void *a, const void *b)
{
	double x = ((const struct pt *)a)->x, y = ((const struct pt *)b)->x;
	return (x > y) - (x < y);
}

/* Mutual information between two continuous variables, by the estimator of Kraskov et
 * al. with 3 neighbours in the max-norm, as scikit-learn's mutual_info_regression. */
static double mi_regress(const double *x, const double *y, size_t n, struct ml_err *e)
{
	struct pt *p = malloc((n ? n : 1) * sizeof(*p));
	double *xs = malloc((n ? n : 1) * sizeof(double)),
	       *ys = malloc((n ? n : 1) * sizeof(double));
	double snx = 0, sny = 0, mi;
	size_t i;
	const int k = 3;

	if (!p || !xs || !ys) {
		free(p);
		free(xs);
		free(ys);
		ml_err_nomem(e);
		return NAN;
	}
	for (i = 0; i < n; i++) {
		p[i].x = xs[i] = x[i];
		p[i].y = ys[i] = y[i];
	}
	qsort(p, n, sizeof(*p), cmp_ptx);
	qsort(xs, n, sizeof(double), ml_cmp_double);
	qsort(ys, n, sizeof(double), ml_cmp_double);
	for (i = 0; i < n; i++) {
		double best[3] = {INFINITY, INFINITY, INFINITY}, r;
		size_t l = i, u = i + 1;
		int t;
		/* walk out in x order while points can still be among the k nearest */
		for (;;) {
			double dl = l > 0 ? p[i].x - p[l - 1].x : INFINITY;
			double du = u < n ? p[u].x - p[i].x : INFINITY;
			size_t q;
			double d;
			if (dl > best[k - 1] && du > best[k - 1])
				break;
			if (dl <= du)
				q = --l;
			else
				q = u++;
			d = fabs(p[q].x - p[i].x);
			if (fabs(p[q].y - p[i].y) > d)
				d = fabs(p[q].y - p[i].y);
			if (d < best[k - 1]) {
				best[k - 1] = d;
				for (t = k - 1; t > 0 && best[t] < best[t - 1]; t--) {
					double tmp = best[t];
					best[t] = best[t - 1];
					best[t - 1] = tmp;
				}
			}
			if (l == 0 && u == n)
				break;
		}
		r = nextafter(best[k - 1], 0);
		snx += digamma((double)count_within(xs, n, p[i].x, r));
		sny += digamma((double)count_within(ys, n, p[i].y, r));
	}
	mi = digamma((double)n) + digamma(k) - snx / (double)n - sny / (double)n;
	free(p);
	free(xs);
	free(ys);
	return mi > 0 ? mi : 0;
}

/* scikit-learn's preparation for the estimators: scale to unit standard deviation and
 * add noise of 1e-10 times max(1, mean |x|), here from the seed's generator. */
static void mi_prepare(double *x, size_t n, struct ml_rng *r)
{
	double m = 0, v = 0, a = 0;
	size_t i;

	for (i = 0; i < n; i++)
		m += x[i];
	m /= (double)n;
	for (i = 0; i < n; i++)
		v += (x[i] - m) * (x[i] - m);
	v = sqrt(v / (double)n);
	if (v == 0)
		v = 1;
	for (i = 0; i < n; i++) {
		x[i] /= v;
		a += fabs(x[i]);
	}
	a /= (double)n;
	if (a < 1)
		a = 1;
	for (i = 0; i < n; i++)
		x[i] += 1e-10 * a * ml_rng_normal(r);
}

/* Keep the k columns of highest score; of equal scores the later column wins, as
 * scikit-learn's SelectKBest. A NaN score counts as the lowest. */
static void keep_top(struct sel *p, int ncol, long k)
{
	int *ord = malloc((size_t)(ncol ? ncol : 1) * sizeof(int)), a, b;

	if (!ord)
		return;
	for (a = 0; a < ncol; a++)
		ord[a] = a;
	for (a = 1; a < ncol; a++) {
		int x = ord[a];
		double sx = p->scores[x] == p->scores[x] ? p->scores[x] : -INFINITY;
		for (b = a; b > 0; b--) {
			double sb = p->scores[ord[b - 1]];
			if (sb != sb)
				sb = -INFINITY;
			if (!(sb > sx))
				break;
			ord[b] = ord[b - 1];
		}
		ord[b] = x;
	}
	for (a = 0; a < ncol; a++)
		p->keep[ord[a]] = (long)(ncol - a) <= k;
	free(ord);
}

static char *escape_name(const char *s)
{
	size_t n = strlen(s), i, k = 0;
	char *o = malloc(2 * n + 1);

	if (!o)
		return NULL;
	for (i = 0; i < n; i++) {
		if (s[i] == ',' || s[i] == '-' || s[i] == '!' || s[i] == '\\')
			o[k++] = '\\';
		o[k++] = s[i];
	}
	o[k] = 0;
	return o;
}

/* A frame for a learner: the step's columns, nshadow more columns named shadow_1...
 * (filled by the caller), and the target. */
static int learn_frame(const struct fstep *s, const struct fdata *d, int nshadow,
		       struct ml_frame *fr, struct ml_err *e)
{
	const struct ml_col *tc = &d->s->cols[d->target];
	char name[48];
	int k, tcol;

	ml_frame_init(fr);
	for (k = 0; k < s->ncol; k++)
		if (ml_schema_add(&fr->schema, s->cols[k], ML_NUM) < 0)
			goto nomem;
	for (k = 0; k < nshadow; k++) {
		snprintf(name, sizeof(name), "shadow_%d", k + 1);
		if (ml_schema_find(&fr->schema, name) >= 0 || ml_schema_find(d->s, name) >= 0) {
			ml_frame_release(fr);
			return ml_err_set(
			    e, ML_E_USAGE, NULL, 0, 0,
			    "--select boruta: rename column '%s' (the name of a shadow "
			    "column)",
			    name);
		}
		if (ml_schema_add(&fr->schema, name, ML_NUM) < 0)
			goto nomem;
	}
	tcol = ml_schema_add(&fr->schema, tc->name, tc->type);
	if (tcol < 0 ||
	    (tc->type == ML_CAT && (ml_dict_release(&fr->schema.cols[tcol].dict),
				    ml_dict_copy(&fr->schema.cols[tcol].dict, &tc->dict) < 0)))
		goto nomem;
	if (ml_block_init(&fr->rows, &fr->schema, d->n, e) < 0)
		goto nomem;
	for (k = 0; k < s->ncol; k++)
		memcpy(fr->rows.col[k].num, d->v[s->ci[k]].num, d->n * sizeof(double));
	memcpy(fr->rows.col[tcol].num, d->v[d->target].num,
	       d->n * (tc->type == ML_NUM ? sizeof(double) : sizeof(int32_t)));
	fr->rows.nrow = d->n;
	return 0;
nomem:
	ml_frame_release(fr);
	return ml_err_nomem(e);
}

/* Fit al on fr without the columns listed in ignore, and read each column's importance:
 * the squared coefficients summed over classes, or the importance table's impurity
 * column. imp[j] for column j of fr (0 for the ignored ones). */
static int importances(const struct ml_algo *al, const struct ml_frame *fr, const char *target,
		       const char *ignore, const struct fdata *d, uint64_t seed, double *imp,
		       struct ml_err *e)
{
	struct ml_learner *l = NULL;
	struct ml_frame tab;
	struct ml_train_spec spec;
	struct ml_ctx c2 = *d->ctx;
	const char *const *t;
	const char *table = "coef";
	int rc, j, col, icol = -1;
	size_t r;

	for (t = ml_algo_tables(al); *t; t++)
		if (!strcmp(*t, "importance"))
			table = "importance";
	memset(&spec, 0, sizeof(spec));
	spec.target = target;
	spec.ignore = ignore;
	spec.name = d->name;
	ml_params_init(&spec.params, al);
	c2.seed = seed;
	if ((rc = ml_learner_fit(&l, fr, NULL, 0, NULL, 0, &spec, &c2, e)) < 0)
		return rc;
	ml_frame_init(&tab);
	rc = ml_learner_table(l, table, &tab, e);
	ml_learner_free(l);
	if (rc < 0)
		return rc;
	if (!strcmp(table, "importance"))
		icol = ml_schema_find(&tab.schema, "impurity");
	for (j = 0; j < fr->schema.ncol; j++)
		imp[j] = 0;
	for (r = 0; r < tab.rows.nrow; r++) {
		int32_t code = tab.rows.col[0].cat[r];
		const char *nm = code >= 0 ? tab.schema.cols[0].dict.str[code] : "";
		j = ml_schema_find(&fr->schema, nm);
		if (j < 0)
			continue;
		for (col = 1; col < tab.schema.ncol; col++) {
			double v;
			if (tab.schema.cols[col].type != ML_NUM || (icol >= 0 && col != icol))
				continue;
			v = tab.rows.col[col].num[r];
			imp[j] += icol >= 0 ? v : v * v;
		}
	}
	ml_frame_release(&tab);
	return 0;
}

/* Append a column name, escaped, to a COLS list. */
static int list_add(char **list, size_t *len, const char *name, struct ml_err *e)
{
	char *esc = escape_name(name);
	size_t el = esc ? strlen(esc) : 0;
	char *ni = esc ? realloc(*list, *len + el + 2) : NULL;

	if (!ni) {
		free(esc);
		return ml_err_nomem(e);
	}
	*list = ni;
	if (*len)
		ni[(*len)++] = ',';
	memcpy(ni + *len, esc, el + 1);
	*len += el;
	free(esc);
	return 0;
}

static const struct ml_algo *sel_algo(const struct sel *p, const struct fdata *d, const char *dflt,
				      struct ml_err *e)
{
	const char *aname = p->algo ? p->algo : dflt ? dflt : d->nclass ? "logistic" : "linear";
	const struct ml_algo *al = ml_algo_find(aname);

	if (!al)
		ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
			   "--select: the algorithm '%s' is not available", aname);
	return al;
}

/* Recursive feature elimination: fit, drop the column of least importance, repeat. */
static int sel_rfe(struct fstep *s, const struct fdata *d, struct ml_err *e)
{
	struct sel *p = s->p;
	struct ml_frame fr;
	const struct ml_algo *al = sel_algo(p, d, NULL, e);
	char *ignore = NULL;
	size_t ilen = 0;
	int k, rc, remaining = s->ncol;
	double *imp;

	if (!al)
		return ML_E_USAGE;
	if ((rc = learn_frame(s, d, 0, &fr, e)) < 0)
		return rc;
	imp = malloc((size_t)fr.schema.ncol * sizeof(double));
	if (!imp) {
		ml_frame_release(&fr);
		return ml_err_nomem(e);
	}
	for (k = 0; k < s->ncol; k++) {
		p->keep[k] = 1;
		p->scores[k] = 1; /* the rank: 1 for the kept ones */
	}
	while (remaining > p->k) {
		int worst = -1;
		if ((rc = importances(al, &fr, d->s->cols[d->target].name, ignore, d,
				      d->ctx ? d->ctx->seed : 42, imp, e)) < 0)
			break;
		for (k = 0; k < s->ncol; k++)
			if (p->keep[k] && (worst < 0 || imp[k] < imp[worst]))
				worst = k;
		p->keep[worst] = 0;
		p->scores[worst] = (double)(remaining - p->k + 1);
		remaining--;
		if ((rc = list_add(&ignore, &ilen, s->cols[worst], e)) < 0)
			break;
	}
	free(imp);
	free(ignore);
	ml_frame_release(&fr);
	return rc;
}

/* P(X >= h) for X ~ Binomial(n, 1/2). */
static double binom_upper(int n, int h)
{
	double p = 0;
	int k;

	for (k = h < 0 ? 0 : h; k <= n; k++)
		p += exp(lgamma(n + 1.0) - lgamma(k + 1.0) - lgamma(n - k + 1.0) - n * log(2.0));
	return p > 1 ? 1 : p;
}

#define BORUTA_RUNS 100
#define BORUTA_P    0.01

/* Boruta: each run adds a shuffled copy (a shadow) of every column still in play, fits
 * a random forest, and counts a hit for each column more important than the best shadow.
 * After each run a column is confirmed when P(hits or more | chance) < 0.01 / (columns
 * undecided), rejected when P(hits or fewer) is; what is undecided after 100 runs stays. */
static int sel_boruta(struct fstep *s, const struct fdata *d, struct ml_err *e)
{
	struct sel *p = s->p;
	struct ml_frame fr;
	const struct ml_algo *al = sel_algo(p, d, "rf", e);
	int *state = calloc((size_t)(s->ncol ? s->ncol : 1), sizeof(int)); /* 1 in, -1 out */
	int *hits = calloc((size_t)(s->ncol ? s->ncol : 1), sizeof(int));
	size_t *perm = malloc((d->n ? d->n : 1) * sizeof(size_t));
	double *imp = NULL;
	char *ignore = NULL;
	size_t ilen = 0, i;
	int k, run, rc = 0, runs = 0;
	uint64_t seed = d->ctx ? d->ctx->seed : 42;

	if (!al || !state || !hits || !perm) {
		free(state);
		free(hits);
		free(perm);
		return al ? ml_err_nomem(e) : ML_E_USAGE;
	}
	if ((rc = learn_frame(s, d, s->ncol, &fr, e)) < 0)
		goto out;
	if (!(imp = malloc((size_t)fr.schema.ncol * sizeof(double)))) {
		rc = ml_err_nomem(e);
		goto done;
	}
	for (run = 1; run <= BORUTA_RUNS; run++) {
		struct ml_rng r;
		double best = -INFINITY;
		int undecided = 0;
		ml_rng_derive(&r, seed, (uint64_t)run);
		for (k = 0; k < s->ncol; k++) {
			double *sh = fr.rows.col[s->ncol + k].num, *x = fr.rows.col[k].num;
			if (state[k] < 0)
				continue;
			for (i = 0; i < d->n; i++)
				perm[i] = i;
			ml_rng_shuffle(&r, perm, d->n);
			for (i = 0; i < d->n; i++)
				sh[i] = x[perm[i]];
		}
		if ((rc = importances(al, &fr, d->s->cols[d->target].name, ignore, d,
				      ml_rng_next(&r), imp, e)) < 0)
			goto done;
		for (k = 0; k < s->ncol; k++)
			if (state[k] >= 0 && imp[s->ncol + k] > best)
				best = imp[s->ncol + k];
		for (k = 0; k < s->ncol; k++) {
			if (state[k] < 0)
				continue;
			hits[k] += imp[k] > best;
			undecided += state[k] == 0;
		}
		runs = run;
		for (k = 0; k < s->ncol; k++) {
			if (state[k] != 0)
				continue;
			if (binom_upper(run, hits[k]) * undecided < BORUTA_P) {
				state[k] = 1;
			} else if ((1 - binom_upper(run, hits[k] + 1)) * undecided < BORUTA_P) {
				char name[48];
				state[k] = -1;
				snprintf(name, sizeof(name), "shadow_%d", k + 1);
				if ((rc = list_add(&ignore, &ilen, s->cols[k], e)) < 0 ||
				    (rc = list_add(&ignore, &ilen, name, e)) < 0)
					goto done;
			}
		}
		for (undecided = 0, k = 0; k < s->ncol; k++)
			undecided += state[k] == 0;
		if (!undecided)
			break;
	}
	for (k = 0; k < s->ncol; k++) {
		p->keep[k] = state[k] >= 0;
		p->scores[k] = runs ? (double)hits[k] / runs : 0; /* the share of runs won */
	}
	ml_log(d->ctx, ML_LOG_DEBUG, "--select boruta: %d runs", runs);
done:
	ml_frame_release(&fr);
out:
	free(imp);
	free(ignore);
	free(state);
	free(hits);
	free(perm);
	return rc;
}

static int sel_fit(struct fstep *s, const struct fdata *d, struct ml_err *e)
{
	struct sel *p = s->p;
	double *X = NULL;
	size_t i;
	int k, rc = 0;
	char q[160];

	p->keep = calloc((size_t)(s->ncol ? s->ncol : 1), 1);
	p->scores = calloc((size_t)(s->ncol ? s->ncol : 1), sizeof(double));
	if (!p->keep || !p->scores)
		return ml_err_nomem(e);
	if (s->method == SE_VARIANCE) {
		for (k = 0; k < s->ncol; k++) {
			const double *x = d->v[s->ci[k]].num;
			double m = 0, v = 0;
			size_t np = 0;
			for (i = 0; i < d->n; i++)
				if (x[i] == x[i]) {
					m += x[i];
					np++;
				}
			if ((rc = ml_feat_need_values(s, d, k, np, e)) < 0)
				return rc;
			m /= (double)np;
			for (i = 0; i < d->n; i++)
				if (x[i] == x[i])
					v += (x[i] - m) * (x[i] - m);
			p->scores[k] = v / (double)np;
			p->keep[k] = p->scores[k] > p->thr;
		}
	} else if (s->method == SE_KBEST) {
		const char *what = p->score == SS_F	 ? "kbest f"
				   : p->score == SS_CHI2 ? "kbest chi2"
							 : "kbest mi";
		struct ml_rng r;
		double *yy = NULL;
		if ((rc = need_target(s, d, what, e)) < 0)
			return rc;
		if (p->score == SS_CHI2 && !d->nclass)
			return ml_err_set(
			    e, ML_E_USAGE, NULL, 0, 0,
			    "--select kbest chi2 needs classes; the target is numeric "
			    "(use f or mi)");
		if (d->n < 3)
			return ml_err_set(e, ML_E_DATA, d->name, 0, 0,
					  "--select kbest: %zu rows are too few", d->n);
		if (!(X = sel_matrix(s, d, what, e)))
			return e ? e->code : ML_E_DATA;
		ml_rng_seed(&r, d->ctx ? d->ctx->seed : 42);
		if (p->score == SS_MI && !d->nclass) {
			yy = malloc(d->n * sizeof(double));
			if (!yy) {
				free(X);
				return ml_err_nomem(e);
			}
			memcpy(yy, d->y, d->n * sizeof(double));
		}
		for (k = 0; k < s->ncol; k++) {
			double *x = X + (size_t)k * d->n;
			if (p->score == SS_CHI2)
				for (i = 0; i < d->n; i++)
					if (x[i] < 0) {
						ml_feat_quote_col(q, sizeof(q), s->cols[k]);
						free(X);
						free(yy);
						return ml_err_set(
						    e, ML_E_DATA, d->name, ml_feat_line(d->line, i),
						    0,
						    "--select kbest chi2: column '%s' has a "
						    "negative value; chi-squared needs counts or "
						    "other values >= 0",
						    q);
					}
			if (p->score == SS_MI)
				mi_prepare(x, d->n, &r);
		}
		if (yy)
			mi_prepare(yy, d->n, &r);
		for (k = 0; k < s->ncol; k++) {
			const double *x = X + (size_t)k * d->n;
			if (p->score == SS_F)
				p->scores[k] = d->nclass ? f_classif(x, d->y, d->n, d->nclass)
							 : f_regression(x, d->y, d->n);
			else if (p->score == SS_CHI2)
				p->scores[k] = chi2_score(x, d->y, d->n, d->nclass);
			else
				p->scores[k] = d->nclass ? mi_classif(x, d->y, d->n, d->nclass, e)
							 : mi_regress(x, yy, d->n, e);
		}
		free(yy);
		keep_top(p, s->ncol, p->k);
	} else {
		const char *what = s->method == SE_RFE ? "rfe" : "boruta";
		if ((rc = need_target(s, d, what, e)) < 0)
			return rc;
		if (!(X = sel_matrix(s, d, what, e)))
			return e ? e->code : ML_E_DATA;
		rc = s->method == SE_RFE ? sel_rfe(s, d, e) : sel_boruta(s, d, e);
		if (rc < 0) {
			free(X);
			return rc;
		}
	}
	free(X);
	p->nkeep = 0;
	for (k = 0; k < s->ncol; k++)
		p->nkeep += p->keep[k];
	if (p->nkeep == 0 && s->method == SE_VARIANCE)
		return ml_err_set(e, ML_E_DATA, d->name, 0, 0,
				  "--select %s: no column is left (every variance is at most %g)",
				  s->arg, p->thr);
	if (p->nkeep == 0)
		return ml_err_set(e, ML_E_DATA, d->name, 0, 0,
				  "--select %s: no column is left (none beats the shadows)",
				  s->arg);
	return 0;
}

static int sel_layout(struct fstep *s, const struct ml_schema *in, struct ml_err *e)
{
	struct sel *p = s->p;
	int j, rc;

	for (j = 0; j < in->ncol; j++) {
		int k = ml_fstep_pos(s, j);
		if (k >= 0 && !p->keep[k])
			continue;
		if ((rc = ml_fout_pass(s, in, j, e)) < 0)
			return rc;
	}
	return 0;
}

static int sel_apply(struct fstep *s, struct fio *io, struct ml_err *e)
{
	(void)s;
	(void)io;
	(void)e;
	return 0;
}

static void sel_save(const struct fstep *s, struct ml_wbuf *b)
{
	const struct sel *p = s->p;

	ml_wbuf_u32(b, (uint32_t)s->ncol);
	ml_wbuf_put(b, p->keep, (size_t)s->ncol);
	ml_wbuf_f64v(b, p->scores, (size_t)s->ncol);
}

static int sel_load(struct fstep *s, struct ml_rbuf *b, struct ml_err *e)
{
	struct sel *p = calloc(1, sizeof(*p));
	uint32_t n;
	int k;

	if (!p)
		return ml_err_nomem(e);
	s->p = p;
	n = ml_rbuf_u32(b);
	if (b->err || n != (uint32_t)s->ncol || !ml_feat_count(b, n, 9))
		return ml_feat_bad(e, "the --select columns");
	p->keep = malloc(n ? n : 1);
	p->scores = malloc((n ? n : 1) * sizeof(double));
	if (!p->keep || !p->scores)
		return ml_err_nomem(e);
	for (k = 0; k < (int)n; k++)
		p->keep[k] = ml_rbuf_u8(b) != 0;
	ml_rbuf_f64v(b, p->scores, n);
	return 0;
}

static int sel_json(const struct fstep *s, cJSON *o)
{
	const struct sel *p = s->p;
	cJSON *a = cJSON_AddArrayToObject(o, "selected"), *sc = cJSON_AddArrayToObject(o, "scores"),
	      *x;
	int k;

	if (!a || !sc)
		return -1;
	for (k = 0; k < s->ncol; k++) {
		if (p->keep[k] &&
		    (!(x = cJSON_CreateString(s->cols[k])) || !cJSON_AddItemToArray(a, x)))
			return -1;
		x = isfinite(p->scores[k]) ? cJSON_CreateNumber(p->scores[k]) : cJSON_CreateNull();
		if (!x || !cJSON_AddItemToArray(sc, x))
			return -1;
	}
	return 0;
}

static void sel_free(struct fstep *s)
{
	struct sel *p = s->p;

	if (!p)
		return;
	free(p->algo);
	free(p->keep);
	free(p->scores);
	free(p);
	s->p = NULL;
}

/* Supervised or not depends on the method; the fit checks for the target itself. */
const struct fops ml_fops_select = {"select", FK_SELECT,  FS_NUM,   0,	       sel_parse,
				    sel_fit,  sel_layout, NULL,	    sel_apply, NULL,
				    sel_save, sel_load,	  sel_json, sel_free};

/* ---------------------------------------------------------------- PCA */

struct pca {
	double want; /* N, or a fraction of the variance */
	int whiten;
	int p, nc;    /* inputs, components */
	double *mean; /* p */
	double *comp; /* nc x p, row-major */
	double *var;  /* nc: explained variance */
	double *ratio;
	int first;
};

static int pca_parse(struct fstep *s, const struct ml_feat_spec *spec, struct ml_err *e)
{
	struct pca *p = calloc(1, sizeof(*p));

	if (!p)
		return ml_err_nomem(e);
	s->p = p;
	p->whiten = spec->whiten;
	s->colspec = ml_feat_cut(s->args);
	if (ml_parse_real(s->args, DBL_MIN, 1e6, &p->want) != 0 ||
	    (p->want >= 1 && p->want != floor(p->want)))
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "--pca: '%s' is neither a number of components (1, 2, ...) nor a "
				  "fraction of the variance (0 < F < 1)",
				  s->args);
	return 0;
}

static int pca_fit(struct fstep *s, const struct fdata *d, struct ml_err *e)
{
	struct pca *p = s->p;
	size_t n = d->n, i;
	int np = s->ncol, k, j, mn, nc, info;
	double *X, *S, *VT, *superb, *scores, total = 0;

	if (np < 1)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "--pca: no numeric columns");
	if (n < 2)
		return ml_err_set(e, ML_E_DATA, d->name, 0, 0, "--pca: needs two rows or more");
	if (!(X = sel_matrix(s, d, "", e)))
		return e ? e->code : ML_E_DATA;
	p->p = np;
	p->mean = malloc((size_t)np * sizeof(double));
	mn = (size_t)np < n ? np : (int)n;
	S = malloc((size_t)mn * sizeof(double));
	VT = malloc((size_t)np * (size_t)np * sizeof(double));
	superb = malloc((size_t)(mn > 1 ? mn : 2) * sizeof(double));
	scores = malloc(n * sizeof(double));
	if (!p->mean || !S || !VT || !superb || !scores) {
		free(X);
		free(S);
		free(VT);
		free(superb);
		free(scores);
		return ml_err_nomem(e);
	}
	for (k = 0; k < np; k++) {
		double *x = X + (size_t)k * n, m = 0;
		for (i = 0; i < n; i++)
			m += x[i];
		m /= (double)n;
		p->mean[k] = m;
		for (i = 0; i < n; i++)
			x[i] -= m;
	}
	{
		/* the centred copy stays for the signs below; LAPACK overwrites its input */
		double *A = malloc(n * (size_t)np * sizeof(double));
		if (!A) {
			free(X);
			free(S);
			free(VT);
			free(superb);
			free(scores);
			return ml_err_nomem(e);
		}
		memcpy(A, X, n * (size_t)np * sizeof(double));
		info = LAPACKE_dgesvd(LAPACK_COL_MAJOR, 'N', 'A', (lapack_int)n, np, A,
				      (lapack_int)n, S, NULL, 1, VT, np, superb);
		free(A);
	}
	free(superb);
	if (info != 0) {
		free(X);
		free(S);
		free(VT);
		free(scores);
		return ml_err_set(e, ML_E_DATA, d->name, 0, 0, "--pca: the SVD did not converge");
	}
	for (k = 0; k < mn; k++)
		total += S[k] * S[k];
	if (p->want >= 1) {
		if (p->want > mn) {
			free(X);
			free(S);
			free(VT);
			free(scores);
			return ml_err_set(
			    e, ML_E_USAGE, NULL, 0, 0,
			    "--pca: %g components asked for, but %d columns and %zu rows "
			    "give at most %d",
			    p->want, np, n, mn);
		}
		nc = (int)p->want;
	} else {
		/* as scikit-learn: the fewest components whose cumulative ratio exceeds F */
		double cum = 0;
		for (nc = 0; nc < mn; nc++) {
			cum += S[nc] * S[nc] / total;
			if (cum > p->want)
				break;
		}
		nc = nc < mn ? nc + 1 : mn;
	}
	p->nc = nc;
	p->comp = malloc((size_t)nc * (size_t)np * sizeof(double));
	p->var = malloc((size_t)nc * sizeof(double));
	p->ratio = malloc((size_t)nc * sizeof(double));
	if (!p->comp || !p->var || !p->ratio) {
		free(X);
		free(S);
		free(VT);
		free(scores);
		return ml_err_nomem(e);
	}
	for (k = 0; k < nc; k++) {
		/* VT is column-major np x np: row k is VT[k + j * np] */
		size_t best = 0;
		double bv = -1, sign;
		for (j = 0; j < np; j++)
			p->comp[(size_t)k * (size_t)np + (size_t)j] =
			    VT[(size_t)k + (size_t)j * (size_t)np];
		/* scikit-learn's svd_flip: the largest |u| of each component is positive; u is
		 * the scores over the singular value, so look at the scores */
		for (i = 0; i < n; i++) {
			double sc = 0;
			for (j = 0; j < np; j++)
				sc += X[(size_t)j * n + i] *
				      p->comp[(size_t)k * (size_t)np + (size_t)j];
			if (fabs(sc) > bv) {
				bv = fabs(sc);
				best = i;
				scores[0] = sc;
			}
		}
		(void)best;
		sign = scores[0] < 0 ? -1 : 1;
		for (j = 0; j < np; j++)
			p->comp[(size_t)k * (size_t)np + (size_t)j] *= sign;
		p->var[k] = S[k] * S[k] / (double)(n - 1);
		p->ratio[k] = S[k] * S[k] / total;
	}
	free(X);
	free(S);
	free(VT);
	free(scores);
	return 0;
}

static int pca_layout(struct fstep *s, const struct ml_schema *in, struct ml_err *e)
{
	struct pca *p = s->p;
	int j, k, rc, done = 0;
	char name[32];

	if (s->ncol != p->p)
		return ml_feat_bad(e, "the --pca inputs");
	for (j = 0; j < in->ncol; j++) {
		if (ml_fstep_pos(s, j) < 0) {
			if ((rc = ml_fout_pass(s, in, j, e)) < 0)
				return rc;
			continue;
		}
		if (in->cols[j].type != ML_NUM)
			return ml_feat_bad(e, "a --pca input is not numeric");
		if (done++)
			continue;
		p->first = s->nout;
		for (k = 0; k < p->nc; k++) {
			snprintf(name, sizeof(name), "pc%d", k + 1);
			if ((rc = ml_fout_add(s, name, ML_NUM, -1, 1, e)) < 0)
				return rc;
		}
	}
	return 0;
}

static int pca_apply(struct fstep *s, struct fio *io, struct ml_err *e)
{
	struct pca *p = s->p;
	size_t i;
	int k, j;

	(void)e;
	for (k = 0; k < p->nc; k++) {
		double *o = io->o[p->first + k].num;
		const double *w = p->comp + (size_t)k * (size_t)p->p;
		double sd = p->whiten ? sqrt(p->var[k]) : 1;
		for (i = 0; i < io->n; i++)
			o[i] = 0;
		/* a fixed order of sums, whatever the block size */
		for (j = 0; j < p->p; j++) {
			const double *x = io->v[s->ci[j]].num;
			double m = p->mean[j], wj = w[j];
			for (i = 0; i < io->n; i++)
				o[i] += (x[i] - m) * wj;
		}
		if (p->whiten)
			for (i = 0; i < io->n; i++)
				o[i] /= sd;
	}
	return 0;
}

static void pca_save(const struct fstep *s, struct ml_wbuf *b)
{
	const struct pca *p = s->p;

	ml_wbuf_f64(b, p->want);
	ml_wbuf_u8(b, (uint8_t)p->whiten);
	ml_wbuf_u32(b, (uint32_t)p->p);
	ml_wbuf_u32(b, (uint32_t)p->nc);
	ml_wbuf_f64v(b, p->mean, (size_t)p->p);
	ml_wbuf_f64v(b, p->comp, (size_t)p->nc * (size_t)p->p);
	ml_wbuf_f64v(b, p->var, (size_t)p->nc);
	ml_wbuf_f64v(b, p->ratio, (size_t)p->nc);
}

static int pca_load(struct fstep *s, struct ml_rbuf *b, struct ml_err *e)
{
	struct pca *p = calloc(1, sizeof(*p));
	uint32_t np, nc;

	if (!p)
		return ml_err_nomem(e);
	s->p = p;
	p->want = ml_rbuf_f64(b);
	p->whiten = ml_rbuf_u8(b) != 0;
	np = ml_rbuf_u32(b);
	nc = ml_rbuf_u32(b);
	if (b->err || np != (uint32_t)s->ncol || nc < 1 || nc > np ||
	    !ml_feat_count(b, (uint64_t)np + (uint64_t)nc * np + 2ULL * nc, 8))
		return ml_feat_bad(e, "the --pca shape");
	p->p = (int)np;
	p->nc = (int)nc;
	p->mean = malloc(np * sizeof(double));
	p->comp = malloc((size_t)nc * np * sizeof(double));
	p->var = malloc(nc * sizeof(double));
	p->ratio = malloc(nc * sizeof(double));
	if (!p->mean || !p->comp || !p->var || !p->ratio)
		return ml_err_nomem(e);
	ml_rbuf_f64v(b, p->mean, np);
	ml_rbuf_f64v(b, p->comp, (size_t)nc * np);
	ml_rbuf_f64v(b, p->var, nc);
	ml_rbuf_f64v(b, p->ratio, nc);
	return 0;
}

static int pca_json(const struct fstep *s, cJSON *o)
{
	const struct pca *p = s->p;
	cJSON *a = cJSON_AddArrayToObject(o, "explained_variance"),
	      *r = cJSON_AddArrayToObject(o, "explained_variance_ratio"), *x;
	int k;

	if (!a || !r)
		return -1;
	for (k = 0; k < p->nc; k++) {
		if (!(x = cJSON_CreateNumber(p->var[k])) || !cJSON_AddItemToArray(a, x))
			return -1;
		if (!(x = cJSON_CreateNumber(p->ratio[k])) || !cJSON_AddItemToArray(r, x))
			return -1;
	}
	return 0;
}

static void pca_free(struct fstep *s)
{
	struct pca *p = s->p;

	if (!p)
		return;
	free(p->mean);
	free(p->comp);
	free(p->var);
	free(p->ratio);
	free(p);
	s->p = NULL;
}

const struct fops ml_fops_pca = {"pca",	   FK_PCA,     FS_NUM,	 0,	    pca_parse,
				 pca_fit,  pca_layout, NULL,	 pca_apply, NULL,
				 pca_save, pca_load,   pca_json, pca_free};
