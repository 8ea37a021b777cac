/* Evaluation metrics as scikit-learn 1.2 defines them, and the prepared evaluator behind
 * mleval's groups and bootstrap intervals. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ml/metrics.h"

static const char *const metric_names[ML_M_COUNT] = {"accuracy",
						     "balanced_accuracy",
						     "precision",
						     "recall",
						     "f1",
						     "precision_macro",
						     "recall_macro",
						     "f1_macro",
						     "precision_weighted",
						     "recall_weighted",
						     "f1_weighted",
						     "auc",
						     "average_precision",
						     "logloss",
						     "brier",
						     "mcc",
						     "rmse",
						     "mae",
						     "mape",
						     "smape",
						     "r2",
						     "medae"};

const char *ml_metric_name(int m)
{
	return m >= 0 && m < ML_M_COUNT ? metric_names[m] : NULL;
}

int ml_metric_find(const char *name)
{
	int m;

	for (m = 0; m < ML_M_COUNT; m++)
		if (strcmp(name, metric_names[m]) == 0)
			return m;
	return -1;
}

int ml_metric_higher_better(int m)
{
	switch (m) {
	case ML_M_LOGLOSS:
	case ML_M_BRIER:
	case ML_M_RMSE:
	case ML_M_MAE:
	case ML_M_MAPE:
	case ML_M_SMAPE:
	case ML_M_MEDAE:
		return 0;
	default:
		return 1;
	}
}

#define WT(w, i) ((w) ? (w)[i] : 1.0)

/* --- Confusion matrix ---------------------------------------------------------------------- */

void ml_confusion(const int32_t *truth, const int32_t *pred, const double *w, size_t n, int k,
		  double *cm)
{
	size_t i;

	memset(cm, 0, (size_t)k * (size_t)k * sizeof(*cm));
	for (i = 0; i < n; i++)
		cm[(size_t)truth[i] * (size_t)k + (size_t)pred[i]] += WT(w, i);
}

static double cm_row(const double *cm, int k, int c)
{
	double s = 0;
	int j;

	for (j = 0; j < k; j++)
		s += cm[(size_t)c * (size_t)k + (size_t)j];
	return s;
}

static double cm_col(const double *cm, int k, int c)
{
	double s = 0;
	int j;

	for (j = 0; j < k; j++)
		s += cm[(size_t)j * (size_t)k + (size_t)c];
	return s;
}

static double cm_diag(const double *cm, int k, int c)
{
	return cm[(size_t)c * (size_t)k + (size_t)c];
}

double ml_cm_accuracy(const double *cm, int k)
{
	double tot = 0, ok = 0;
	int c;

	for (c = 0; c < k; c++) {
		tot += cm_row(cm, k, c);
		ok += cm_diag(cm, k, c);
	}
	return tot > 0 ? ok / tot : NAN;
}

double ml_cm_balanced_accuracy(const double *cm, int k)
{
	double s = 0;
	int c, np = 0;

	for (c = 0; c < k; c++) {
		double r = cm_row(cm, k, c);
		if (r > 0) {
			s += cm_diag(cm, k, c) / r;
			np++;
		}
	}
	return np ? s / np : NAN;
}

enum { S_PRECISION, S_RECALL, S_F1 };

static double class_score(const double *cm, int k, int c, int what)
{
	double tp = cm_diag(cm, k, c), col = cm_col(cm, k, c), row = cm_row(cm, k, c);
	double p = col > 0 ? tp / col : 0, r = row > 0 ? tp / row : 0;

	if (what == S_PRECISION)
		return p;
	if (what == S_RECALL)
		return r;
	return p + r > 0 ? 2 * p * r / (p + r) : 0;
}

static double averaged(const double *cm, int k, int avg, int what)
{
	double s = 0, ws = 0;
	int c, np = 0;

	if (avg >= 0)
		return avg < k ? class_score(cm, k, avg, what) : NAN;
	for (c = 0; c < k; c++) {
		double row = cm_row(cm, k, c);
		if (row <= 0 && cm_col(cm, k, c) <= 0)
			continue;
		np++;
		if (avg == ML_AVG_WEIGHTED) {
			s += row * class_score(cm, k, c, what);
			ws += row;
		} else
			s += class_score(cm, k, c, what);
	}
	if (!np)
		return NAN;
	if (avg == ML_AVG_WEIGHTED)
		return ws > 0 ? s / ws : 0;
	return s / np;
}

double ml_cm_precision(const double *cm, int k, int avg)
{
	return averaged(cm, k, avg, S_PRECISION);
}

double ml_cm_recall(const double *cm, int k, int avg)
{
	return averaged(cm, k, avg, S_RECALL);
}

double ml_cm_f1(const double *cm, int k, int avg)
{
	return averaged(cm, k, avg, S_F1);
}

double ml_cm_mcc(const double *cm, int k)
{
	double ns = 0, ok = 0, tp = 0, pp = 0, tt = 0;
	double cov_tp, cov_pp, cov_tt;
	int c;

	for (c = 0; c < k; c++) {
		double t = cm_row(cm, k, c), p = cm_col(cm, k, c);
		ok += cm_diag(cm, k, c);
		ns += p;
		tp += t * p;
		pp += p * p;
		tt += t * t;
	}
	cov_tp = ok * ns - tp;
	cov_pp = ns * ns - pp;
	cov_tt = ns * ns - tt;
	if (cov_pp * cov_tt == 0)
		return 0.0;
	return cov_tp / sqrt(cov_tt * cov_pp);
}

/* --- Sorting ----------------------------------------------------------------------------- */

/* A key whose unsigned order is the order of the doubles (-0 taken as 0). */
static uint64_t dkey(double v)
{
	uint64_t u;

	if (v == 0)
		v = 0.0;
	memcpy(&u, &v, sizeof(u));
	return (u >> 63) ? ~u : (u | 0x8000000000000000ULL);
}

/* LSD radix sort of the indices by key, 11 bits a pass (the six passes' counts from one
 * read), skipping passes where every key has the same digit; keys and indices go back and
 * forth between two arrays. Stable: tied keys keep their rows' order. */
#define SORT_BITS   11
#define SORT_PASSES ((64 + SORT_BITS - 1) / SORT_BITS)
#define SORT_MASK   ((1u << SORT_BITS) - 1)

static int sort_by(const double *v, size_t n, size_t *order, int desc, struct ml_err *e)
{
	uint64_t *k1, *k2;
	size_t *o1 = order, *o2, i;
	size_t(*cnt)[1u << SORT_BITS];
	int pass;

	if (n < 2) {
		if (n)
			order[0] = 0;
		return 0;
	}
	k1 = malloc(n * sizeof(*k1));
	k2 = malloc(n * sizeof(*k2));
	o2 = malloc(n * sizeof(*o2));
	cnt = calloc(SORT_PASSES, sizeof(*cnt));
	if (!k1 || !k2 || !o2 || !cnt) {
		free(k1);
		free(k2);
		free(o2);
		free(cnt);
		return ml_err_nomem(e);
	}
	for (i = 0; i < n; i++) {
		uint64_t key = dkey(v[i]);
		if (desc)
			key = ~key;
		k1[i] = key;
		order[i] = i;
		for (pass = 0; pass < SORT_PASSES; pass++)
			cnt[pass][(key >> (SORT_BITS * pass)) & SORT_MASK]++;
	}
	for (pass = 0; pass < SORT_PASSES; pass++) {
		size_t *c = cnt[pass], sum = 0, t;
		int shift = SORT_BITS * pass;
		unsigned d;
		uint64_t *tk;
		size_t *to;

		if (c[(k1[0] >> shift) & SORT_MASK] == n)
			continue;
		for (d = 0; d <= SORT_MASK; d++) {
			t = c[d];
			c[d] = sum;
			sum += t;
		}
		for (i = 0; i < n; i++) {
			size_t at = c[(k1[i] >> shift) & SORT_MASK]++;
			k2[at] = k1[i];
			o2[at] = o1[i];
		}
		tk = k1;
		k1 = k2;
		k2 = tk;
		to = o1;
		o1 = o2;
		o2 = to;
	}
	if (o1 != order) {
		memcpy(order, o1, n * sizeof(*o1));
		o2 = o1;
	}
	free(k1);
	free(k2);
	free(o2);
	free(cnt);
	return 0;
}

int ml_sort_desc(const double *score, size_t n, size_t *order, struct ml_err *e)
{
	return sort_by(score, n, order, 1, e);
}

/* --- Ranking ------------------------------------------------------------------------------ */

/* ROC AUC and average precision in one pass over the rows by decreasing score (order
 * NULL: the rows are in that order already). Tied scores make one step. */
static void rank_scores(const double *score, const size_t *order, size_t n, const int32_t *truth,
			int32_t pos, const double *w, double *auc, double *ap)
{
	double tp = 0, fp = 0, ptp = 0, pfp = 0, area = 0, prec = 0;
	size_t i = 0;

	while (i < n) {
		size_t r = order ? order[i] : i;
		double s = score[r];
		for (;;) {
			if (truth[r] == pos)
				tp += WT(w, r);
			else
				fp += WT(w, r);
			if (++i == n)
				break;
			r = order ? order[i] : i;
			if (score[r] != s)
				break;
		}
		area += (fp - pfp) * (tp + ptp) * 0.5;
		if (tp + fp != 0)
			prec += (tp - ptp) * (tp / (tp + fp));
		ptp = tp;
		pfp = fp;
	}
	if (auc)
		*auc = tp > 0 && fp > 0 ? area / (tp * fp) : NAN;
	if (ap)
		*ap = tp > 0 ? prec / tp : NAN;
}

double ml_auc_sorted(const double *score, const size_t *order, size_t n, const int32_t *truth,
		     int32_t pos, const double *w)
{
	double v;

	rank_scores(score, order, n, truth, pos, w, &v, NULL);
	return v;
}

double ml_ap_sorted(const double *score, const size_t *order, size_t n, const int32_t *truth,
		    int32_t pos, const double *w)
{
	double v;

	rank_scores(score, order, n, truth, pos, w, NULL, &v);
	return v;
}

static int ranked(const double *score, size_t n, const int32_t *truth, int32_t pos, const double *w,
		  double *out, int ap, struct ml_err *e)
{
	size_t *order = malloc((n ? n : 1) * sizeof(*order));
	int rc;

	if (!order)
		return ml_err_nomem(e);
	if ((rc = ml_sort_desc(score, n, order, e)) == 0)
		*out = ap ? ml_ap_sorted(score, order, n, truth, pos, w)
			  : ml_auc_sorted(score, order, n, truth, pos, w);
	free(order);
	return rc;
}

int ml_auc(const double *score, size_t n, const int32_t *truth, int32_t pos, const double *w,
	   double *out, struct ml_err *e)
{
	return ranked(score, n, truth, pos, w, out, 0, e);
}

int ml_average_precision(const double *score, size_t n, const int32_t *truth, int32_t pos,
			 const double *w, double *out, struct ml_err *e)
{
	return ranked(score, n, truth, pos, w, out, 1, e);
}

void ml_curve_release(struct ml_curve *c)
{
	if (!c)
		return;
	free(c->x);
	free(c->y);
	free(c->t);
	memset(c, 0, sizeof(*c));
}

/* The cumulative (fp, tp) at each distinct score, highest first: fills fp, tp, thr with
 * the steps and returns how many, or -1 when out of memory. */
static long clf_steps(const double *score, size_t n, const int32_t *truth, int32_t pos,
		      const double *w, double **fp, double **tp, double **thr, struct ml_err *e)
{
	size_t *order = malloc((n ? n : 1) * sizeof(*order)), i = 0, m = 0;
	double f = 0, t = 0;

	*fp = malloc((n + 2) * sizeof(double));
	*tp = malloc((n + 2) * sizeof(double));
	*thr = malloc((n + 2) * sizeof(double));
	if (!order || !*fp || !*tp || !*thr || ml_sort_desc(score, n, order, e) < 0) {
		free(order);
		free(*fp);
		free(*tp);
		free(*thr);
		*fp = *tp = *thr = NULL;
		ml_err_nomem(e);
		return -1;
	}
	while (i < n) {
		double s = score[order[i]];
		while (i < n && score[order[i]] == s) {
			size_t r = order[i++];
			if (truth[r] == pos)
				t += WT(w, r);
			else
				f += WT(w, r);
		}
		(*fp)[m] = f;
		(*tp)[m] = t;
		(*thr)[m] = s;
		m++;
	}
	free(order);
	return (long)m;
}

int ml_roc_curve(const double *score, size_t n, const int32_t *truth, int32_t pos, const double *w,
		 struct ml_curve *c, struct ml_err *e)
{
	double *fp, *tp, *thr, nf, nt;
	long m = clf_steps(score, n, truth, pos, w, &fp, &tp, &thr, e), i;

	if (m < 0)
		return ML_E_NOMEM;
	nf = m ? fp[m - 1] : 0;
	nt = m ? tp[m - 1] : 0;
	if (!(nf > 0) || !(nt > 0)) {
		free(fp);
		free(tp);
		free(thr);
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				  "a ROC curve needs both positive and negative rows");
	}
	/* Shift right by one for the (0, 0) start. */
	for (i = m; i > 0; i--) {
		fp[i] = fp[i - 1] / nf;
		tp[i] = tp[i - 1] / nt;
		thr[i] = thr[i - 1];
	}
	fp[0] = tp[0] = 0;
	thr[0] = INFINITY;
	c->n = (size_t)m + 1;
	c->x = fp;
	c->y = tp;
	c->t = thr;
	return 0;
}

int ml_pr_curve(const double *score, size_t n, const int32_t *truth, int32_t pos, const double *w,
		struct ml_curve *c, struct ml_err *e)
{
	double *fp, *tp, *thr, nt;
	long m = clf_steps(score, n, truth, pos, w, &fp, &tp, &thr, e), i;

	if (m < 0)
		return ML_E_NOMEM;
	nt = m ? tp[m - 1] : 0;
	if (!(nt > 0)) {
		free(fp);
		free(tp);
		free(thr);
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				  "a precision-recall curve needs positive rows");
	}
	/* In place: fp becomes precision, tp recall; then reverse to lowest threshold first. */
	for (i = 0; i < m; i++) {
		double ps = tp[i] + fp[i];
		fp[i] = ps != 0 ? tp[i] / ps : 0;
		tp[i] = tp[i] / nt;
	}
	for (i = 0; i < m / 2; i++) {
		double t;
		t = fp[i], fp[i] = fp[m - 1 - i], fp[m - 1 - i] = t;
		t = tp[i], tp[i] = tp[m - 1 - i], tp[m - 1 - i] = t;
		t = thr[i], thr[i] = thr[m - 1 - i], thr[m - 1 - i] = t;
	}
	fp[m] = 1;
	tp[m] = 0;
	thr[m] = INFINITY;
	c->n = (size_t)m + 1;
	c->x = tp;
	c->y = fp;
	c->t = thr;
	return 0;
}

/* --- Probabilities ---------------------------------------------------------------------- */

static double clip(double p)
{
	if (p < ML_LOGLOSS_EPS)
		return ML_LOGLOSS_EPS;
	if (p > 1 - ML_LOGLOSS_EPS)
		return 1 - ML_LOGLOSS_EPS;
	return p;
}

double ml_logloss(const double *const *prob, int m, const int32_t *truth, const double *w, size_t n)
{
	double s = 0, ws = 0;
	size_t i;
	int c;

	for (i = 0; i < n; i++) {
		double sum = 0, wi = WT(w, i);
		for (c = 0; c < m; c++)
			sum += clip(prob[c][i]);
		s += wi * -log(clip(prob[truth[i]][i]) / sum);
		ws += wi;
	}
	return ws > 0 ? s / ws : NAN;
}

double ml_brier_binary(const double *p, const int32_t *truth, int32_t pos, const double *w,
		       size_t n)
{
	double s = 0, ws = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		double d = p[i] - (truth[i] == pos ? 1.0 : 0.0), wi = WT(w, i);
		s += wi * d * d;
		ws += wi;
	}
	return ws > 0 ? s / ws : NAN;
}

double ml_brier_multi(const double *const *prob, int m, const int32_t *truth, const double *w,
		      size_t n)
{
	double s = 0, ws = 0;
	size_t i;
	int c;

	for (i = 0; i < n; i++) {
		double r = 0, wi = WT(w, i);
		for (c = 0; c < m; c++) {
			double d = prob[c][i] - (truth[i] == c ? 1.0 : 0.0);
			r += d * d;
		}
		s += wi * r;
		ws += wi;
	}
	return ws > 0 ? s / ws : NAN;
}

void ml_calibration(const double *p, const int32_t *truth, int32_t pos, const double *w, size_t n,
		    int nbins, struct ml_calib_bin *bins)
{
	double step = 1.0 / nbins;
	size_t i;
	int b;

	for (b = 0; b < nbins; b++) {
		bins[b].lower = b * step;
		bins[b].upper = b + 1 == nbins ? 1.0 : (b + 1) * step;
		bins[b].count = 0;
		bins[b].weight = bins[b].mean_pred = bins[b].frac_pos = 0;
	}
	for (i = 0; i < n; i++) {
		/* The number of inner edges below p (searchsorted, side left). */
		int lo = 0, hi = nbins - 1;
		double wi = WT(w, i);
		while (lo < hi) {
			int mid = (lo + hi) / 2;
			if ((mid + 1) * step < p[i])
				lo = mid + 1;
			else
				hi = mid;
		}
		bins[lo].count++;
		bins[lo].weight += wi;
		bins[lo].mean_pred += wi * p[i];
		if (truth[i] == pos)
			bins[lo].frac_pos += wi;
	}
	for (b = 0; b < nbins; b++) {
		if (bins[b].weight > 0) {
			bins[b].mean_pred /= bins[b].weight;
			bins[b].frac_pos /= bins[b].weight;
		} else
			bins[b].mean_pred = bins[b].frac_pos = NAN;
	}
}

/* --- Regression ------------------------------------------------------------------------- */

#define MAPE_EPS 2.220446049250313e-16

enum { R_SE, R_AE, R_APE, R_SAPE };

static double reg_mean(const double *y, const double *p, const double *w, size_t n, int what)
{
	double s = 0, ws = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		double d = p[i] - y[i], v, wi = WT(w, i);
		switch (what) {
		case R_SE:
			v = d * d;
			break;
		case R_AE:
			v = fabs(d);
			break;
		case R_APE:
			v = fabs(d) / fmax(fabs(y[i]), MAPE_EPS);
			break;
		default: {
			double den = fabs(y[i]) + fabs(p[i]);
			v = den > 0 ? 2 * fabs(d) / den : 0;
		}
		}
		s += wi * v;
		ws += wi;
	}
	return ws > 0 ? s / ws : NAN;
}

double ml_rmse(const double *y, const double *p, const double *w, size_t n)
{
	return sqrt(reg_mean(y, p, w, n, R_SE));
}

double ml_mae(const double *y, const double *p, const double *w, size_t n)
{
	return reg_mean(y, p, w, n, R_AE);
}

double ml_mape(const double *y, const double *p, const double *w, size_t n)
{
	return reg_mean(y, p, w, n, R_APE);
}

double ml_smape(const double *y, const double *p, const double *w, size_t n)
{
	return reg_mean(y, p, w, n, R_SAPE);
}

double ml_r2(const double *y, const double *p, const double *w, size_t n)
{
	double sy = 0, ws = 0, mean, num = 0, den = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		sy += WT(w, i) * y[i];
		ws += WT(w, i);
	}
	if (!(ws > 0))
		return NAN;
	mean = sy / ws;
	for (i = 0; i < n; i++) {
		double d = y[i] - p[i], t = y[i] - mean;
		num += WT(w, i) * d * d;
		den += WT(w, i) * t * t;
	}
	if (den == 0)
		return num == 0 ? 1.0 : 0.0;
	return 1 - num / den;
}

/* The median of v in the given ascending order: with w, the first value whose cumulative
 * weight reaches half the total; with mult (and no w), the median of the values repeated
 * mult[i] times; with neither, the plain median. */
#define ORD(i) (order ? order[i] : (i))

static double median_sorted(const double *v, const size_t *order, size_t n, const double *w,
			    const uint32_t *mult)
{
	size_t i;

	if (w) {
		double tot = 0, cum = 0, half;
		for (i = 0; i < n; i++)
			tot += w[ORD(i)];
		if (!(tot > 0))
			return NAN;
		half = 0.5 * tot;
		for (i = 0; i < n; i++) {
			cum += w[ORD(i)];
			if (cum >= half)
				return v[ORD(i)];
		}
		return v[ORD(n - 1)];
	}
	if (mult) {
		uint64_t tot = 0, cum = 0, ra, rb;
		double a = NAN;
		for (i = 0; i < n; i++)
			tot += mult[i];
		if (!tot)
			return NAN;
		ra = (tot - 1) / 2;
		rb = tot / 2;
		for (i = 0; i < n; i++) {
			uint64_t next = cum + mult[ORD(i)];
			if (ra >= cum && ra < next)
				a = v[ORD(i)];
			if (rb >= cum && rb < next)
				return (a + v[ORD(i)]) / 2;
			cum = next;
		}
		return NAN;
	}
	if (!n)
		return NAN;
	return (v[ORD((n - 1) / 2)] + v[ORD(n / 2)]) / 2;
}

#undef ORD

int ml_medae(const double *y, const double *p, const double *w, size_t n, double *out,
	     struct ml_err *e)
{
	double *r = malloc((n ? n : 1) * sizeof(*r));
	size_t *order = malloc((n ? n : 1) * sizeof(*order)), i;
	int rc;

	if (!r || !order) {
		free(r);
		free(order);
		return ml_err_nomem(e);
	}
	for (i = 0; i < n; i++)
		r[i] = fabs(p[i] - y[i]);
	if ((rc = sort_by(r, n, order, 0, e)) == 0)
		*out = median_sorted(r, order, n, w, NULL);
	free(r);
	free(order);
	return rc;
}

/* --- Prepared evaluation ------------------------------------------------------------------ */

/* An evaluator keeps its own copy of the rows, permuted so that the ranking it needs
 * most (binary: the positive class's probability, decreasing; regression: the absolute
 * error, increasing) is a plain walk through memory. */
struct ml_eval {
	int cls;
	int k, pos, has_prob, ncols;
	size_t n;
	size_t *perm;	       /* internal row j is the caller's row perm[j] */
	int32_t *truth, *pred; /* classification, internal order */
	double **prob;	       /* k columns (NULL where absent) */
	double *w;	       /* NULL: unweighted */
	int *ranked;	       /* per class: 0 no ranking, 1 order[c], 2 rows are in order */
	size_t **order;
	double *loss, *brier;	/* per row terms, NaN when undefined */
	double *y, *p, *absres; /* regression, by increasing |y - p| */
};

void ml_eval_free(struct ml_eval *ev)
{
	int c;

	if (!ev)
		return;
	for (c = 0; c < ev->k; c++) {
		if (ev->prob)
			free(ev->prob[c]);
		if (ev->order)
			free(ev->order[c]);
	}
	free(ev->prob);
	free(ev->order);
	free(ev->ranked);
	free(ev->perm);
	free(ev->truth);
	free(ev->pred);
	free(ev->w);
	free(ev->loss);
	free(ev->brier);
	free(ev->y);
	free(ev->p);
	free(ev->absres);
	free(ev);
}

#define NZ(n) ((n) ? (n) : 1)

struct ml_eval *ml_eval_classify(const struct ml_cls_data *d, struct ml_err *e)
{
	struct ml_eval *ev = calloc(1, sizeof(*ev));
	size_t i, n = d->n;
	int c, first = -1, onlypos;
	int *colof = NULL;

	if (!ev) {
		ml_err_nomem(e);
		return NULL;
	}
	ev->cls = 1;
	ev->k = d->k;
	ev->pos = d->pos;
	ev->n = n;
	ev->has_prob = d->prob != NULL;
	ev->perm = malloc(NZ(n) * sizeof(size_t));
	ev->truth = malloc(NZ(n) * sizeof(int32_t));
	ev->pred = malloc(NZ(n) * sizeof(int32_t));
	ev->prob = calloc((size_t)NZ(d->k), sizeof(double *));
	ev->order = calloc((size_t)NZ(d->k), sizeof(size_t *));
	ev->ranked = calloc((size_t)NZ(d->k), sizeof(int));
	if (!ev->perm || !ev->truth || !ev->pred || !ev->prob || !ev->order || !ev->ranked ||
	    (d->w && !(ev->w = malloc(NZ(n) * sizeof(double)))))
		goto nomem;
	/* Which classes are ranked: binary, the positive one; multiclass, those with a
	 * column that the truth holds. The first of them orders the rows. */
	for (c = 0; d->prob && c < d->k; c++) {
		if (!d->prob[c])
			continue;
		if (d->pos >= 0)
			ev->ranked[c] = c == d->pos;
		else
			for (i = 0; i < n && !ev->ranked[c]; i++)
				ev->ranked[c] = d->truth[i] == c;
		if (ev->ranked[c] && first < 0)
			first = c;
	}
	if (first >= 0) {
		if (ml_sort_desc(d->prob[first], n, ev->perm, e) < 0)
			goto nomem;
		ev->ranked[first] = 2;
	} else
		for (i = 0; i < n; i++)
			ev->perm[i] = i;
	for (i = 0; i < n; i++) {
		size_t r = ev->perm[i];
		ev->truth[i] = d->truth[r];
		ev->pred[i] = d->pred[r];
		if (d->w)
			ev->w[i] = d->w[r];
	}
	if (!d->prob)
		return ev;
	for (c = 0; c < d->k; c++) {
		if (!d->prob[c])
			continue;
		if (!(ev->prob[c] = malloc(NZ(n) * sizeof(double))))
			goto nomem;
		for (i = 0; i < n; i++)
			ev->prob[c][i] = d->prob[c][ev->perm[i]];
		if (ev->ranked[c] == 1) {
			if (!(ev->order[c] = malloc(NZ(n) * sizeof(size_t))) ||
			    ml_sort_desc(ev->prob[c], n, ev->order[c], e) < 0)
				goto nomem;
		}
	}
	/* The per-row terms of log loss and Brier score do not depend on the weights, so a
	 * resample only averages them again. Log loss: the columns present, clipped and
	 * renormalized. */
	colof = malloc((size_t)NZ(d->k) * sizeof(int));
	ev->loss = malloc(NZ(n) * sizeof(double));
	ev->brier = malloc(NZ(n) * sizeof(double));
	if (!colof || !ev->loss || !ev->brier)
		goto nomem;
	for (c = 0; c < d->k; c++)
		colof[c] = ev->prob[c] ? ev->ncols++ : -1;
	onlypos = d->pos >= 0 && ev->ncols == 1 && ev->prob[d->pos];
	for (i = 0; i < n; i++) {
		double sum = 0, r = 0;
		int32_t t = ev->truth[i];
		for (c = 0; c < d->k; c++) {
			double q;
			if (!ev->prob[c])
				continue;
			q = ev->prob[c][i] - (t == c ? 1.0 : 0.0);
			sum += clip(ev->prob[c][i]);
			r += q * q;
		}
		if (onlypos) {
			/* log_loss on a 1-D y_pred: clip, then the complement */
			double pp = clip(ev->prob[d->pos][i]), q = 1 - pp;
			ev->loss[i] = -log((t == d->pos ? pp : q) / (q + pp));
		} else
			ev->loss[i] = colof[t] >= 0 ? -log(clip(ev->prob[t][i]) / sum) : NAN;
		if (d->pos >= 0) {
			double q = ev->prob[d->pos]
				       ? ev->prob[d->pos][i] - (t == d->pos ? 1.0 : 0.0)
				       : NAN;
			ev->brier[i] = q * q;
		} else
			ev->brier[i] = colof[t] >= 0 ? r : NAN;
	}
	free(colof);
	return ev;
nomem:
	free(colof);
	ml_eval_free(ev);
	ml_err_nomem(e);
	return NULL;
}

struct ml_eval *ml_eval_regress(const struct ml_reg_data *d, struct ml_err *e)
{
	struct ml_eval *ev = calloc(1, sizeof(*ev));
	double *r = NULL;
	size_t i, n = d->n;

	if (!ev) {
		ml_err_nomem(e);
		return NULL;
	}
	ev->n = n;
	ev->perm = malloc(NZ(n) * sizeof(size_t));
	ev->y = malloc(NZ(n) * sizeof(double));
	ev->p = malloc(NZ(n) * sizeof(double));
	ev->absres = malloc(NZ(n) * sizeof(double));
	r = calloc(NZ(n), sizeof(double));
	if (!ev->perm || !ev->y || !ev->p || !ev->absres || !r ||
	    (d->w && !(ev->w = malloc(NZ(n) * sizeof(double)))))
		goto nomem;
	for (i = 0; i < n; i++)
		r[i] = fabs(d->p[i] - d->y[i]);
	if (sort_by(r, n, ev->perm, 0, e) < 0)
		goto nomem;
	for (i = 0; i < n; i++) {
		size_t k = ev->perm[i];
		ev->y[i] = d->y[k];
		ev->p[i] = d->p[k];
		ev->absres[i] = r[k];
		if (d->w)
			ev->w[i] = d->w[k];
	}
	free(r);
	return ev;
nomem:
	free(r);
	ml_eval_free(ev);
	ml_err_nomem(e);
	return NULL;
}

int ml_eval_has(const struct ml_eval *ev, int m)
{
	int bin = ev->pos >= 0;

	if (!ev->cls)
		return m >= ML_M_RMSE && m <= ML_M_MEDAE;
	switch (m) {
	case ML_M_ACCURACY:
	case ML_M_BALANCED_ACCURACY:
	case ML_M_PRECISION_MACRO:
	case ML_M_RECALL_MACRO:
	case ML_M_F1_MACRO:
	case ML_M_MCC:
		return 1;
	case ML_M_PRECISION:
	case ML_M_RECALL:
	case ML_M_F1:
		return bin;
	case ML_M_PRECISION_WEIGHTED:
	case ML_M_RECALL_WEIGHTED:
	case ML_M_F1_WEIGHTED:
		return !bin;
	case ML_M_AUC:
	case ML_M_AVERAGE_PRECISION:
	case ML_M_BRIER:
		return ev->has_prob && (!bin || ev->prob[ev->pos]);
	case ML_M_LOGLOSS:
		return ev->has_prob && ev->ncols > 0;
	default:
		return 0;
	}
}

/* Weighted mean of per-row terms; rows of weight zero are left out, so an undefined term
 * (NaN) there does not matter. */
static double wmean(const double *v, const double *w, size_t n)
{
	double s = 0, ws = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		double wi = WT(w, i);
		if (wi == 0)
			continue;
		s += wi * v[i];
		ws += wi;
	}
	return ws > 0 ? s / ws : NAN;
}

static void ranking(const struct ml_eval *ev, int c, const double *w, double *auc, double *ap)
{
	rank_scores(ev->prob[c], ev->ranked[c] == 2 ? NULL : ev->order[c], ev->n, ev->truth, c, w,
		    auc, ap);
}

static int run_cls(const struct ml_eval *ev, const double *w, double *out, struct ml_err *e)
{
	double *cm = malloc((size_t)NZ(ev->k) * (size_t)NZ(ev->k) * sizeof(*cm));
	int k = ev->k, bin = ev->pos >= 0, c, np = 0;

	if (!cm)
		return ml_err_nomem(e);
	ml_confusion(ev->truth, ev->pred, w, ev->n, k, cm);
	out[ML_M_ACCURACY] = ml_cm_accuracy(cm, k);
	out[ML_M_BALANCED_ACCURACY] = ml_cm_balanced_accuracy(cm, k);
	if (bin) {
		out[ML_M_PRECISION] = ml_cm_precision(cm, k, ev->pos);
		out[ML_M_RECALL] = ml_cm_recall(cm, k, ev->pos);
		out[ML_M_F1] = ml_cm_f1(cm, k, ev->pos);
	} else {
		out[ML_M_PRECISION_WEIGHTED] = ml_cm_precision(cm, k, ML_AVG_WEIGHTED);
		out[ML_M_RECALL_WEIGHTED] = ml_cm_recall(cm, k, ML_AVG_WEIGHTED);
		out[ML_M_F1_WEIGHTED] = ml_cm_f1(cm, k, ML_AVG_WEIGHTED);
	}
	out[ML_M_PRECISION_MACRO] = ml_cm_precision(cm, k, ML_AVG_MACRO);
	out[ML_M_RECALL_MACRO] = ml_cm_recall(cm, k, ML_AVG_MACRO);
	out[ML_M_F1_MACRO] = ml_cm_f1(cm, k, ML_AVG_MACRO);
	out[ML_M_MCC] = ml_cm_mcc(cm, k);
	if (!ev->has_prob) {
		free(cm);
		return 0;
	}
	if (bin) {
		if (ev->prob[ev->pos]) {
			ranking(ev, ev->pos, w, &out[ML_M_AUC], &out[ML_M_AVERAGE_PRECISION]);
			out[ML_M_BRIER] = wmean(ev->brier, w, ev->n);
		}
	} else {
		/* One-vs-rest macro averages over the classes the truth holds (the row sums
		 * of the confusion matrix). */
		double sa = 0, sp = 0;
		int missing = 0;
		for (c = 0; c < k; c++) {
			double t = 0, a, p;
			int j;
			for (j = 0; j < k; j++)
				t += cm[(size_t)c * (size_t)k + (size_t)j];
			if (!(t > 0))
				continue;
			if (!ev->ranked[c]) {
				missing = 1;
				break;
			}
			ranking(ev, c, w, &a, &p);
			sa += a;
			sp += p;
			np++;
		}
		out[ML_M_AUC] = np && !missing ? sa / np : NAN;
		out[ML_M_AVERAGE_PRECISION] = np && !missing ? sp / np : NAN;
		out[ML_M_BRIER] = wmean(ev->brier, w, ev->n);
	}
	if (ev->ncols > 0)
		out[ML_M_LOGLOSS] = wmean(ev->loss, w, ev->n);
	free(cm);
	return 0;
}

static void run_reg(const struct ml_eval *ev, const double *w, const uint32_t *mult, double *out)
{
	size_t n = ev->n;

	out[ML_M_RMSE] = ml_rmse(ev->y, ev->p, w, n);
	out[ML_M_MAE] = ml_mae(ev->y, ev->p, w, n);
	out[ML_M_MAPE] = ml_mape(ev->y, ev->p, w, n);
	out[ML_M_SMAPE] = ml_smape(ev->y, ev->p, w, n);
	out[ML_M_R2] = ml_r2(ev->y, ev->p, w, n);
	out[ML_M_MEDAE] = median_sorted(ev->absres, NULL, n, ev->w ? w : NULL, ev->w ? NULL : mult);
}

/* Evaluate with multiplicities in the evaluator's own row order. */
static int eval_run(const struct ml_eval *ev, const uint32_t *mult, double *out, struct ml_err *e)
{
	double *wm = NULL;
	const double *w = ev->w;
	size_t i;
	int m, rc = 0;

	for (m = 0; m < ML_M_COUNT; m++)
		out[m] = NAN;
	if (mult) {
		wm = malloc(NZ(ev->n) * sizeof(*wm));
		if (!wm)
			return ml_err_nomem(e);
		for (i = 0; i < ev->n; i++)
			wm[i] = WT(ev->w, i) * mult[i];
		w = wm;
	}
	if (ev->cls)
		rc = run_cls(ev, w, out, e);
	else
		run_reg(ev, w, mult, out);
	free(wm);
	return rc;
}

int ml_eval_run(const struct ml_eval *ev, const uint32_t *mult, double *out, struct ml_err *e)
{
	uint32_t *m;
	size_t i;
	int rc;

	if (!mult)
		return eval_run(ev, NULL, out, e);
	m = malloc(NZ(ev->n) * sizeof(*m));
	if (!m)
		return ml_err_nomem(e);
	for (i = 0; i < ev->n; i++)
		m[i] = mult[ev->perm[i]];
	rc = eval_run(ev, m, out, e);
	free(m);
	return rc;
}

/* --- Bootstrap ------------------------------------------------------------------------------ */

struct boot {
	const struct ml_eval *ev;
	uint64_t seed;
	size_t n;
	double *vals;	 /* nboot * ML_M_COUNT */
	uint32_t **mult; /* per worker */
	int *status;	 /* per resample */
};

static void boot_task(void *arg, size_t b, int worker)
{
	struct boot *bt = arg;
	uint32_t *mult = bt->mult[worker];
	struct ml_rng rng;
	size_t i;

	memset(mult, 0, bt->n * sizeof(*mult));
	ml_rng_derive(&rng, bt->seed, (uint64_t)b);
	for (i = 0; i < bt->n; i++)
		mult[ml_rng_below(&rng, bt->n)]++;
	bt->status[b] = eval_run(bt->ev, mult, bt->vals + b * ML_M_COUNT, NULL);
}

static int dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* numpy.percentile, linear interpolation, on sorted v. */
static double pct(const double *v, size_t m, double q)
{
	double h = (double)(m - 1) * q, f = floor(h), t = h - f;
	size_t lo = (size_t)f, hi = lo + 1 < m ? lo + 1 : lo;
	double d = v[hi] - v[lo];

	return t >= 0.5 ? v[hi] - d * (1 - t) : v[lo] + d * t;
}

int ml_eval_bootstrap(const struct ml_eval *ev, struct ml_ctx *ctx, uint64_t seed, long nboot,
		      double level, double *lower, double *upper, struct ml_err *e)
{
	struct boot bt;
	int nw = ctx && ctx->pool ? ml_pool_size(ctx->pool) : 1, w, m, rc = 0;
	double *col = NULL;
	size_t b;

	memset(&bt, 0, sizeof(bt));
	for (m = 0; m < ML_M_COUNT; m++)
		lower[m] = upper[m] = NAN;
	if (nboot <= 0)
		return 0;
	bt.ev = ev;
	bt.seed = seed;
	bt.n = ev->n;
	if (!bt.n)
		return 0;
	bt.vals = malloc((size_t)nboot * ML_M_COUNT * sizeof(double));
	bt.status = calloc((size_t)nboot, sizeof(int));
	bt.mult = calloc((size_t)nw, sizeof(*bt.mult));
	col = malloc((size_t)nboot * sizeof(double));
	if (!bt.vals || !bt.status || !bt.mult || !col)
		goto nomem;
	for (w = 0; w < nw; w++)
		if (!(bt.mult[w] = malloc(bt.n * sizeof(uint32_t))))
			goto nomem;
	ml_pool_run(ctx ? ctx->pool : NULL, (size_t)nboot, boot_task, &bt);
	for (b = 0; b < (size_t)nboot; b++)
		if (bt.status[b] < 0)
			goto nomem;
	for (m = 0; m < ML_M_COUNT; m++) {
		size_t k = 0;
		if (!ml_eval_has(ev, m))
			continue;
		for (b = 0; b < (size_t)nboot; b++) {
			double v = bt.vals[b * ML_M_COUNT + (size_t)m];
			if (v == v)
				col[k++] = v;
		}
		if (!k)
			continue;
		qsort(col, k, sizeof(*col), dcmp);
		lower[m] = pct(col, k, (1 - level) / 2);
		upper[m] = pct(col, k, (1 + level) / 2);
	}
	goto out;
nomem:
	rc = ml_err_nomem(e);
out:
	if (bt.mult)
		for (w = 0; w < nw; w++)
			free(bt.mult[w]);
	free(bt.mult);
	free(bt.vals);
	free(bt.status);
	free(col);
	return rc;
}
