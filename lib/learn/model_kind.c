/* The "model" kind of artefact: a fitted learner, final in a chain. Its scorer writes the
 * prediction columns of the contract mlpredict(1) documents: pred (the value, or the label:
 * the first class with the largest probability or margin), p_LABEL per class or margins,
 * pred_std and interval bounds, an unsupervised model's named outputs, leaf_T and
 * contrib_FEATURE. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "artefact/kind.h"
#include "learn/anomaly/detect.h"
#include "learn_int.h"
#include "ml/num.h"
#include "ml/pred.h"
#include "ml/stats.h"

static int mk_open(void **state, const struct ml_model *m, const char *name, struct ml_err *e)
{
	struct ml_learner *l = ml_learner_from_model(m, e);

	(void)name;
	if (!l)
		return e ? e->code : ML_E_DATA;
	*state = l;
	return 0;
}

static void mk_close(void *state)
{
	ml_learner_free(state);
}

static int mk_input_schema(const void *state, struct ml_schema *s, struct ml_err *e)
{
	return ml_learner_input_schema(state, s, e);
}

static const char *const *mk_tables(const void *state)
{
	return ml_algo_tables(ml_learner_algo(state));
}

static int mk_table(const void *state, const char *name, struct ml_frame *out, struct ml_err *e)
{
	return ml_learner_table(state, name, out, e);
}

/* A scorer: the predictor and the output block's columns. */
struct mscorer {
	const struct ml_learner *l;
	struct ml_predictor *pr;
	struct ml_apply_opts o;
	enum ml_out what;
	int nout;	/* scores per row */
	int ntrees;	/* leaf columns */
	int ncontrib;	/* contribution columns */
	int explain;	/* the explain column's index, or -1 */
	int nshare;	/* share columns (a feature each), or 0 */
	struct ml_schema out;
	union ml_colv *vcol;
	struct ml_block view;
	double *score;	/* nout per row, row-major */
	int32_t *label; /* classification: the predicted class */
	int32_t *codes; /* unsupervised outputs that are categories: nout columns of codes */
	double *cols;	/* the other columns, column-major */
	int32_t *leaves;
	double *contribs;
	size_t cap;
};

static void mk_scorer_free(void *sc)
{
	struct mscorer *s = sc;

	if (!s)
		return;
	ml_predictor_free(s->pr);
	ml_schema_release(&s->out);
	free(s->vcol);
	free(s->score);
	free(s->label);
	free(s->codes);
	free(s->cols);
	free(s->leaves);
	free(s->contribs);
	free(s);
}

static int add_col(struct mscorer *s, const char *name, enum ml_type t, struct ml_err *e)
{
	int rc = ml_schema_add(&s->out, name, t);
	return rc < 0 ? ml_err_nomem(e) : rc;
}

static int add_scores(struct mscorer *s, struct ml_err *e)
{
	const struct ml_learner *l = s->l;
	char name[1024];
	int k, c, rc;

	if (l->task == ML_TASK_UNSUPERVISED) {
		for (k = 0; k < s->nout; k++) {
			const char *lv = l->algo->output_levels ? l->algo->output_levels(l->state, k)
								: NULL;
			if ((c = add_col(s, ml_learner_output_name(l, k), lv ? ML_CAT : ML_NUM, e)) < 0)
				return c;
			while (lv && *lv) {
				size_t w = strcspn(lv, ",");
				if (ml_dict_intern(&s->out.cols[c].dict, lv, w) < 0)
					return ml_err_nomem(e);
				lv += w + (lv[w] == ',');
			}
		}
		return 0;
	}
	if (l->task == ML_TASK_REGRESS) {
		if ((rc = add_col(s, s->o.margin ? ML_PRED_MARGIN : ML_PRED_LABEL, ML_NUM, e)) < 0)
			return rc;
		if (s->o.std && (rc = add_col(s, ML_PRED_STD, ML_NUM, e)) < 0)
			return rc;
		for (k = 0; k < s->o.nlevel; k++) {
			ml_pred_interval_name(name, sizeof(name), s->o.level[k], 0);
			if ((rc = add_col(s, name, ML_NUM, e)) < 0)
				return rc;
			ml_pred_interval_name(name, sizeof(name), s->o.level[k], 1);
			if ((rc = add_col(s, name, ML_NUM, e)) < 0)
				return rc;
		}
		return 0;
	}
	if ((c = add_col(s, ML_PRED_LABEL, ML_CAT, e)) < 0)
		return c;
	for (k = 0; k < l->nclass; k++) {
		int32_t got = ml_dict_intern(&s->out.cols[c].dict, l->classes[k],
					     strlen(l->classes[k]));
		if (got == ML_E_NOMEM)
			return ml_err_nomem(e);
		if (got != k)
			return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "the model's classes repeat");
	}
	if (!s->o.proba)
		return 0;
	if (s->o.margin && s->nout == 1)
		return (rc = add_col(s, ML_PRED_MARGIN, ML_NUM, e)) < 0 ? rc : 0;
	for (k = 0; k < l->nclass; k++) {
		ml_pred_name(name, sizeof(name),
			     s->o.margin ? ML_PRED_MARGIN_PREFIX : ML_PRED_PROB_PREFIX, l->classes[k]);
		if ((rc = add_col(s, name, ML_NUM, e)) < 0)
			return rc;
	}
	return 0;
}

static int add_extras(struct mscorer *s, struct ml_err *e)
{
	const struct ml_learner *l = s->l;
	char name[1024];
	int k, f, rc;

	s->explain = -1;
	if (s->o.explain || s->o.shares) {
		if (l->task != ML_TASK_UNSUPERVISED ||
		    (!l->algo->contrib && !l->algo->stream_predict) ||
		    ml_schema_find(&s->out, "anomaly") < 0)
			return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
					  "--explain: -a %s models are not anomaly detectors that "
					  "explain their scores",
					  l->algo->name);
		if (s->o.explain && (s->explain = add_col(s, "explain", ML_CAT, e)) < 0)
			return s->explain;
	}
	if (s->o.shares) {
		for (f = 0; f < l->p; f++) {
			ml_pred_name(name, sizeof(name), ML_PRED_SHARE_PREFIX, l->enc[f]);
			if ((rc = add_col(s, name, ML_NUM, e)) < 0)
				return rc;
		}
		s->nshare = l->p;
	}
	if (s->o.leaf) {
		s->ntrees = ml_learner_ntrees(l);
		if (s->ntrees <= 0)
			return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "--leaf: -a %s models have no trees",
					  l->algo->name);
		for (k = 0; k < s->ntrees; k++) {
			char t[24];
			snprintf(t, sizeof(t), "%d", k + 1);
			ml_pred_name(name, sizeof(name), ML_PRED_LEAF_PREFIX, t);
			if ((rc = add_col(s, name, ML_NUM, e)) < 0)
				return rc;
		}
	}
	if (s->o.contrib && l->task == ML_TASK_UNSUPERVISED)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "--contrib: -a %s models have no margin (--explain names the "
				  "features behind a detector's score)",
				  l->algo->name);
	if (s->o.contrib) {
		int K = ml_learner_nout(l, ML_OUT_MARGIN), nf = l->p;
		if (!l->algo->contrib)
			return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
					  "--contrib: -a %s models give no per-feature contributions",
					  l->algo->name);
		s->ncontrib = K * (nf + 1);
		for (k = 0; k < K; k++)
			for (f = 0; f <= nf; f++) {
				const char *fn = f < nf ? l->enc[f] : ML_PRED_CONTRIB_BIAS;
				if (K > 1)
					snprintf(name, sizeof(name), "%s%s_%s", ML_PRED_CONTRIB_PREFIX,
						 l->classes[k], fn);
				else
					ml_pred_name(name, sizeof(name), ML_PRED_CONTRIB_PREFIX, fn);
				if ((rc = add_col(s, name, ML_NUM, e)) < 0)
					return rc;
			}
	}
	return 0;
}

static int mk_scorer_new(void **sc, const void *state, const struct ml_apply_opts *o,
			 struct ml_err *e)
{
	const struct ml_learner *l = state;
	struct mscorer *s = calloc(1, sizeof(*s));
	int rc;

	if (!s)
		return ml_err_nomem(e);
	s->l = l;
	s->o = *o;
	ml_schema_init(&s->out);
	if (s->o.nlevel < 0 || s->o.nlevel > 8)
		s->o.nlevel = 0;
	s->what = s->o.margin ? ML_OUT_MARGIN : ML_OUT_VALUE;
	if ((s->o.std || s->o.nlevel) && l->task != ML_TASK_UNSUPERVISED && !s->o.margin) {
		if (ml_learner_nout(l, ML_OUT_DIST) == 0) {
			rc = ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
					"-a %s models give no predictive standard deviation%s",
					l->algo->name,
					l->task == ML_TASK_REGRESS ? "" : " (it is for regression)");
			goto fail;
		}
		s->what = ML_OUT_DIST;
	}
	s->nout = ml_learner_nout(l, s->what);
	if (s->nout <= 0) {
		rc = ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "-a %s models give no margins",
				l->algo->name);
		goto fail;
	}
	if (!(s->pr = ml_predictor_new(l))) {
		rc = ml_err_nomem(e);
		goto fail;
	}
	if ((rc = add_scores(s, e)) < 0 || (rc = add_extras(s, e)) < 0)
		goto fail;
	if (!(s->vcol = calloc((size_t)s->out.ncol, sizeof(*s->vcol)))) {
		rc = ml_err_nomem(e);
		goto fail;
	}
	s->view.schema = &s->out;
	s->view.ncol = s->out.ncol;
	s->view.col = s->vcol;
	*sc = s;
	return 0;
fail:
	mk_scorer_free(s);
	return rc;
}

static void mk_set_pool(void *sc, struct ml_pool *pool)
{
	ml_predictor_set_pool(((struct mscorer *)sc)->pr, pool);
}

static int mk_bind(void *sc, const struct ml_schema *in, const struct ml_schema **out,
		   struct ml_err *e)
{
	struct mscorer *s = sc;
	int rc = ml_predictor_bind(s->pr, in, e);

	if (rc < 0)
		return rc;
	*out = &s->out;
	return 0;
}

/* Room for n rows of answers. */
static int reserve(struct mscorer *s, size_t n, struct ml_err *e)
{
	size_t ncols = (size_t)s->out.ncol;

	if (n <= s->cap)
		return 0;
	free(s->score);
	free(s->label);
	free(s->codes);
	free(s->cols);
	free(s->leaves);
	free(s->contribs);
	s->score = malloc(n * (size_t)s->nout * sizeof(double));
	s->label = malloc(n * sizeof(int32_t));
	s->codes = malloc(n * (size_t)s->nout * sizeof(int32_t));
	s->cols = malloc(n * (ncols + 1) * sizeof(double)); /* + scratch */
	s->leaves = s->ntrees ? malloc(n * (size_t)s->ntrees * sizeof(int32_t)) : NULL;
	s->contribs = s->ncontrib || s->explain >= 0 || s->nshare ?
			  malloc(n * (size_t)(s->ncontrib ? s->ncontrib : s->l->p + 1) *
				 sizeof(double)) :
			  NULL;
	if (!s->score || !s->label || !s->codes || !s->cols || (s->ntrees && !s->leaves) ||
	    ((s->ncontrib || s->explain >= 0 || s->nshare) && !s->contribs)) {
		s->cap = 0;
		return ml_err_nomem(e);
	}
	s->cap = n;
	return 0;
}

/* Column k of the row-major scores, copied into the next free column of cols. */
static double *score_col(struct mscorer *s, size_t n, int k, int *at)
{
	double *c = s->cols + (size_t)*at * n;
	size_t i;

	for (i = 0; i < n; i++)
		c[i] = s->score[i * (size_t)s->nout + (size_t)k];
	s->vcol[(*at)++].num = c;
	return c;
}

/* The label: the first class with the largest probability (or margin); for one binary
 * margin, the second class when it is positive. */
static void labels(struct mscorer *s, size_t n)
{
	const double *v = s->score;
	int m = s->nout, k;
	size_t i;

	for (i = 0; i < n; i++, v += m) {
		int best = -1;
		if (m == 1) {
			best = v[0] > 0 ? 1 : v[0] == v[0] ? 0 : -1;
		} else {
			for (k = 0; k < m; k++)
				if (v[k] == v[k] && (best < 0 || v[k] > v[best]))
					best = k;
		}
		s->label[i] = best;
	}
}

/* Regression with a standard deviation: pred, pred_std, then lo/hi per level. */
static void dist_cols(struct mscorer *s, size_t n, int *at)
{
	double *mean = score_col(s, n, 0, at), *sd;
	size_t i;
	int k;

	if (s->o.std) {
		sd = score_col(s, n, 1, at);
	} else {
		sd = s->cols + (size_t)s->out.ncol * n; /* the scratch column */
		for (i = 0; i < n; i++)
			sd[i] = s->score[2 * i + 1];
	}
	for (k = 0; k < s->o.nlevel; k++) {
		double z = ml_norm_ppf(0.5 + s->o.level[k] / 200);
		double *lo = s->cols + (size_t)*at * n, *hi = lo + n;
		for (i = 0; i < n; i++) {
			lo[i] = mean[i] - z * sd[i];
			hi[i] = mean[i] + z * sd[i];
		}
		s->vcol[(*at)++].num = lo;
		s->vcol[(*at)++].num = hi;
	}
}

/* The explain column of a detector, from the contributions the scoring pass left in
 * s->contribs: for each flagged row, the features with the largest positive contributions
 * to its score (ml_detect_explain); empty for the other rows. */
static int explain_rows(struct mscorer *s, size_t n, struct ml_err *e)
{
	const struct ml_learner *l = s->l;
	size_t i, w = (size_t)l->p + 1;
	struct ml_dict *d = &s->out.cols[s->explain].dict;
	int32_t *code = s->label; /* free: a detector has no label */
	int rc, anom = ml_schema_find(&s->out, "anomaly");

	for (i = 0; i < n; i++) {
		code[i] = ML_MISSING_CAT;
		if (s->score[i * (size_t)s->nout + (size_t)anom] > 0 &&
		    (rc = ml_detect_explain(s->contribs + i * w, l->p,
					    (const char *const *)l->enc, d, &code[i], e)) < 0)
			return rc;
	}
	s->vcol[s->explain].cat = code;
	return 0;
}

/* The share columns of a detector: each feature's part of the row's positive
 * contributions (all 0 when none is positive), for every row. */
static void share_cols(struct mscorer *s, size_t n, int *at)
{
	size_t i, w = (size_t)s->l->p + 1;
	int j;

	for (i = 0; i < n; i++) {
		const double *c = s->contribs + i * w;
		double tot = 0;
		for (j = 0; j < s->nshare; j++)
			tot += c[j] > 0 ? c[j] : 0;
		for (j = 0; j < s->nshare; j++)
			s->cols[(size_t)(*at + j) * n + i] = tot > 0 && c[j] > 0 ? c[j] / tot : 0;
	}
	for (j = 0; j < s->nshare; j++, (*at)++)
		s->vcol[*at].num = s->cols + (size_t)*at * n;
}

static int mk_apply(void *sc, const struct ml_block *in, size_t from, size_t to,
		    const struct ml_block **out, struct ml_err *e)
{
	struct mscorer *s = sc;
	const struct ml_learner *l = s->l;
	size_t n = to > from ? to - from : 0, i;
	int k, at = 0, rc;

	s->view.nrow = s->view.cap = n;
	*out = &s->view;
	if (n == 0)
		return 0;
	if ((rc = reserve(s, n, e)) < 0)
		return rc;
	/* the contributions of an explanation in the same pass as the scores (a moving
	 * baseline's are those of the state each row met) */
	if (s->explain >= 0 || s->nshare)
		rc = ml_predictor_score_contrib(s->pr, in, from, to, s->score, s->contribs, e);
	else
		rc = ml_predictor_predict(s->pr, in, from, to, s->score, s->what, e);
	if (rc < 0)
		return rc;
	if (s->what == ML_OUT_DIST) {
		dist_cols(s, n, &at);
	} else if (l->task == ML_TASK_UNSUPERVISED) {
		for (k = 0; k < s->nout; k++) {
			int32_t *code;
			int nlev;
			if (s->out.cols[at].type == ML_NUM) {
				score_col(s, n, k, &at);
				continue;
			}
			/* a category: the value is its level index */
			code = s->codes + (size_t)k * n;
			nlev = s->out.cols[at].dict.n;
			for (i = 0; i < n; i++) {
				double v = s->score[i * (size_t)s->nout + (size_t)k];
				code[i] = v >= 0 && v < nlev ? (int32_t)v : ML_MISSING_CAT;
			}
			s->vcol[at++].cat = code;
		}
	} else if (l->task != ML_TASK_CLASSIFY) {
		if (s->nout == 1)
			s->vcol[at++].num = s->score;
		else
			for (k = 0; k < s->nout; k++)
				score_col(s, n, k, &at);
	} else {
		labels(s, n);
		s->vcol[at++].cat = s->label;
		if (s->o.proba)
			for (k = 0; k < s->nout; k++)
				score_col(s, n, k, &at);
	}
	if (s->explain >= 0) {
		if ((rc = explain_rows(s, n, e)) < 0)
			return rc;
		at++;
	}
	if (s->nshare)
		share_cols(s, n, &at);
	if (s->ntrees) {
		double *c = s->cols + (size_t)at * n;
		if ((rc = ml_predictor_leaves(s->pr, in, from, to, s->leaves, e)) < 0)
			return rc;
		for (k = 0; k < s->ntrees; k++, c += n) {
			for (i = 0; i < n; i++)
				c[i] = s->leaves[i * (size_t)s->ntrees + (size_t)k];
			s->vcol[at++].num = c;
		}
	}
	if (s->ncontrib) {
		double *c = s->cols + (size_t)at * n;
		if ((rc = ml_predictor_contrib(s->pr, in, from, to, s->contribs, e)) < 0)
			return rc;
		for (k = 0; k < s->ncontrib; k++, c += n) {
			for (i = 0; i < n; i++)
				c[i] = s->contribs[i * (size_t)s->ncontrib + (size_t)k];
			s->vcol[at++].num = c;
		}
	}
	return 0;
}

const struct ml_kind ml_kind_model = {
	.name = "model",
	.flags = ML_ARTEFACT_FINAL,
	.open = mk_open,
	.close = mk_close,
	.input_schema = mk_input_schema,
	.tables = mk_tables,
	.table = mk_table,
	.scorer_new = mk_scorer_new,
	.scorer_free = mk_scorer_free,
	.set_pool = mk_set_pool,
	.bind = mk_bind,
	.apply = mk_apply,
};
