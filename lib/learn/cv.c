/* Cross-validation: fold assignment, a fit per fold, its held-out rows scored in the
 * reference learner's class space and measured, and the out-of-fold predictions. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml/cv.h"
#include "ml/split.h"

/* --- Scores and their metrics --------------------------------------------------------------- */

/* The one place that scores rows with a learner: a predictor bound to the frame. */
static int predict(const struct ml_learner *l, const struct ml_frame *f, const size_t *rows,
		   size_t n, struct ml_pool *pool, double *out, struct ml_err *e)
{
	struct ml_predictor *p = ml_predictor_new(l);
	int rc;

	if (!p)
		return ml_err_nomem(e);
	ml_predictor_set_pool(p, pool);
	rc = ml_predictor_bind(p, &f->schema, e);
	if (rc == 0)
		rc = ml_predictor_predict_rows(p, &f->rows, rows, n, out, ML_OUT_VALUE, e);
	ml_predictor_free(p);
	return rc;
}

/* Score rows with learner l into out, in the reference's class space (nclass
 * probabilities per row, or one value). */
int ml_score_rows(const struct ml_learner *l, const struct ml_learner *ref, const struct ml_frame *f,
		  const size_t *rows, size_t n, struct ml_pool *pool, double *out, struct ml_err *e)
{
	int lk = ml_learner_nout(l, ML_OUT_VALUE), nclass = ml_learner_nclass(ref), k, g, rc;
	double *s;
	size_t i;

	if (l == ref || ml_learner_task(ref) == ML_TASK_REGRESS)
		return predict(l, f, rows, n, pool, out, e);
	/* A fold's learner may lack classes: place its columns among the final ones. */
	s = malloc((n ? n : 1) * (size_t)lk * sizeof(double));
	if (!s)
		return ml_err_nomem(e);
	rc = predict(l, f, rows, n, pool, s, e);
	if (rc == 0) {
		memset(out, 0, n * (size_t)nclass * sizeof(double));
		for (k = 0; k < lk; k++) {
			const char *name = ml_learner_class(l, k);
			for (g = 0; g < nclass; g++)
				if (strcmp(ml_learner_class(ref, g), name) == 0)
					break;
			if (g == nclass)
				continue;
			for (i = 0; i < n; i++)
				out[i * (size_t)nclass + (size_t)g] = s[i * (size_t)lk + (size_t)k];
		}
	}
	free(s);
	return rc;
}

/* Metrics of scores (per row: the nclass probabilities in the reference's class order,
 * or one value) against the truth of rows. */
int ml_score_metrics(const struct ml_learner *ref, const struct ml_frame *f, const size_t *rows,
		     size_t n, const double *score, const char *weight, double *out, int *has,
		     struct ml_err *e)
{
	double *y = malloc((n ? n : 1) * sizeof(double)), *w = NULL, *pc = NULL;
	int32_t *truth = NULL, *pred = NULL;
	const double **prob = NULL;
	struct ml_eval *ev = NULL;
	int m, k, wcol = weight ? ml_schema_find(&f->schema, weight) : -1;
	int nclass = ml_learner_nclass(ref);
	size_t i, used = 0;
	int rc = 0;

	for (m = 0; m < ML_M_COUNT; m++)
		out[m] = NAN;
	if (!y)
		return ml_err_nomem(e);
	if ((rc = ml_learner_target_codes(ref, f, rows, n, y, e)) < 0)
		goto out;
	if (wcol >= 0) {
		if (!(w = malloc((n ? n : 1) * sizeof(double)))) {
			rc = ml_err_nomem(e);
			goto out;
		}
	}
	if (ml_learner_task(ref) == ML_TASK_REGRESS) {
		double *p = malloc((n ? n : 1) * sizeof(double));
		struct ml_reg_data d;
		if (!p) {
			rc = ml_err_nomem(e);
			goto out;
		}
		for (i = 0; i < n; i++)
			if (y[i] == y[i]) {
				y[used] = y[i];
				p[used] = score[i];
				if (w) {
					double x = f->rows.col[wcol].num[rows[i]];
					w[used] = x == x ? x : 1;
				}
				used++;
			}
		d.n = used;
		d.y = y;
		d.p = p;
		d.w = w;
		ev = ml_eval_regress(&d, e);
		if (ev)
			rc = ml_eval_run(ev, NULL, out, e);
		else
			rc = e && e->code ? e->code : ML_E_NOMEM;
		free(p);
		goto out;
	}
	truth = malloc((n ? n : 1) * sizeof(int32_t));
	pred = malloc((n ? n : 1) * sizeof(int32_t));
	pc = malloc((n ? n : 1) * (size_t)nclass * sizeof(double));
	prob = malloc((size_t)nclass * sizeof(*prob));
	if (!truth || !pred || !pc || !prob) {
		rc = ml_err_nomem(e);
		goto out;
	}
	for (i = 0; i < n; i++) {
		const double *s = score + i * (size_t)nclass;
		int best = 0;
		if (!(y[i] >= 0))
			continue;
		for (k = 1; k < nclass; k++)
			if (s[k] > s[best])
				best = k;
		truth[used] = (int32_t)y[i];
		pred[used] = best;
		for (k = 0; k < nclass; k++)
			pc[(size_t)k * n + used] = s[k];
		if (w) {
			double x = f->rows.col[wcol].num[rows[i]];
			w[used] = x == x ? x : 1;
		}
		used++;
	}
	for (k = 0; k < nclass; k++)
		prob[k] = pc + (size_t)k * n;
	{
		struct ml_cls_data d;
		d.n = used;
		d.k = nclass;
		d.truth = truth;
		d.pred = pred;
		d.prob = prob;
		d.w = w;
		d.pos = nclass == 2 ? 1 : -1;
		ev = ml_eval_classify(&d, e);
		if (ev)
			rc = ml_eval_run(ev, NULL, out, e);
		else
			rc = e && e->code ? e->code : ML_E_NOMEM;
	}
out:
	if (ev && rc == 0 && has)
		for (m = 0; m < ML_M_COUNT; m++)
			has[m] |= ml_eval_has(ev, m);
	ml_eval_free(ev);
	free(y);
	free(w);
	free(truth);
	free(pred);
	free(pc);
	free(prob);
	return rc;
}

/* --- Folds ------------------------------------------------------------------------------------ */

void ml_cv_opts_init(struct ml_cv_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->k = 5;
	o->split = ML_CV_AUTO;
	o->col = -1;
	o->seed = 42;
}

const char *ml_cv_split_name(enum ml_cv_split s)
{
	switch (s) {
	case ML_CV_RANDOM:
		return "random";
	case ML_CV_STRATIFY:
		return "stratified";
	case ML_CV_GROUP:
		return "group";
	case ML_CV_TIME:
		return "time";
	default:
		return "auto";
	}
}

enum ml_cv_split ml_cv_split_resolve(enum ml_cv_split s, enum ml_task task)
{
	if (s != ML_CV_AUTO)
		return s;
	return task == ML_TASK_CLASSIFY ? ML_CV_STRATIFY : ML_CV_RANDOM;
}

/* A one-column copy of column col over the rows, for the fold assignment. */
static int split_block(const struct ml_frame *f, const size_t *rows, size_t n, int col,
		       struct ml_schema *s, struct ml_block *b, struct ml_err *e)
{
	const struct ml_col *c;
	size_t i;
	int rc;

	ml_schema_init(s);
	if (col < 0)
		col = 0;
	c = &f->schema.cols[col];
	if (ml_schema_add(s, c->name, c->type) < 0 || ml_dict_copy(&s->cols[0].dict, &c->dict) < 0)
		return ml_err_nomem(e);
	if ((rc = ml_block_init(b, s, n ? n : 1, e)) < 0)
		return rc;
	if (f->rows.line && !(b->line = malloc((n ? n : 1) * sizeof(long))))
		return ml_err_nomem(e);
	for (i = 0; i < n; i++) {
		size_t r = rows[i];
		if (c->type == ML_NUM)
			b->col[0].num[i] = f->rows.col[col].num[r];
		else
			b->col[0].cat[i] = f->rows.col[col].cat[r];
		if (b->line)
			b->line[i] = f->rows.line[r];
	}
	b->nrow = n;
	return 0;
}

int ml_cv_folds(int32_t *fold, const struct ml_frame *f, const size_t *rows, size_t n,
		const struct ml_cv_opts *o, const struct ml_train_spec *spec, enum ml_task task,
		struct ml_err *e)
{
	enum ml_cv_split split = ml_cv_split_resolve(o->split, task);
	struct ml_split_opts so;
	struct ml_schema s;
	struct ml_block b;
	int col = -1, rc;

	ml_split_opts_init(&so);
	so.seed = o->seed;
	if (split == ML_CV_TIME || split == ML_CV_GROUP) {
		if (o->col < 0 || o->col >= f->schema.ncol)
			return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "a %s split needs a column",
					  ml_cv_split_name(split));
		col = o->col;
		so.mode = split == ML_CV_TIME ? ML_SPLIT_TIME : ML_SPLIT_GROUP;
	} else if (split == ML_CV_STRATIFY) {
		col = spec->target ? ml_schema_find(&f->schema, spec->target) : -1;
		if (col < 0)
			return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
					  "a stratified split needs the target column");
		so.mode = ML_SPLIT_STRATIFY;
	} else if (f->schema.ncol == 0) {
		return ml_err_set(e, ML_E_DATA, spec->name, 0, 0, "no columns");
	}
	so.col = col < 0 ? -1 : 0;
	memset(&b, 0, sizeof(b));
	rc = split_block(f, rows, n, col, &s, &b, e);
	if (rc == 0 && (rc = ml_kfold(&b, &so, o->k, fold, NULL, e)) < 0 && e && !e->where[0] &&
	    spec->name)
		snprintf(e->where, sizeof(e->where), "%s", spec->name);
	ml_block_release(&b);
	ml_schema_release(&s);
	return rc;
}

/* --- Cross-validation ---------------------------------------------------------------------- */

void ml_cv_result_init(struct ml_cv_result *r)
{
	memset(r, 0, sizeof(*r));
}

void ml_cv_result_release(struct ml_cv_result *r)
{
	free(r->fold);
	free(r->oof);
	free(r->ntest);
	free(r->metrics);
	ml_cv_result_init(r);
}

/* --- Pipelines fitted per fold ----------------------------------------------------------- */

/* Rows rows[0..n) of f copied into a frame of their own. */
static int sub_frame(struct ml_frame *out, const struct ml_frame *f, const size_t *rows,
		     size_t n, struct ml_err *e)
{
	size_t i;
	int j;

	if (ml_schema_copy(&out->schema, &f->schema) < 0)
		return ml_err_nomem(e);
	if (ml_block_init(&out->rows, &out->schema, n ? n : 1, e) < 0)
		return e ? e->code : ML_E_NOMEM;
	for (j = 0; j < f->schema.ncol; j++)
		for (i = 0; i < n; i++)
			if (f->schema.cols[j].type == ML_NUM)
				out->rows.col[j].num[i] = f->rows.col[j].num[rows[i]];
			else
				out->rows.col[j].cat[i] = f->rows.col[j].cat[rows[i]];
	out->rows.nrow = n;
	return 0;
}

/* A frame that borrows a block's columns (release its schema only). */
static int view_frame(struct ml_frame *v, const struct ml_block *b, struct ml_err *e)
{
	ml_frame_init(v);
	if (ml_schema_copy(&v->schema, b->schema) < 0)
		return ml_err_nomem(e);
	v->rows = *b;
	v->rows.schema = &v->schema;
	return 0;
}

int ml_fit_pipeline(const struct ml_frame *f, const size_t *tr, size_t ntr, const size_t *te,
		    size_t nte, const struct ml_feat_spec *feat, const struct ml_train_spec *spec,
		    const struct ml_learner *ref, struct ml_ctx *ctx, struct ml_features **fout,
		    struct ml_learner **lout, double *sc, struct ml_err *e)
{
	struct ml_frame a, b, v, w;
	struct ml_features *fp = NULL;
	struct ml_learner *l = NULL;
	const struct ml_block *rows, *ob;
	const struct ml_schema *os;
	int rc;

	ml_frame_init(&a);
	ml_frame_init(&b);
	ml_frame_init(&v);
	ml_frame_init(&w);
	if ((rc = sub_frame(&a, f, tr, ntr, e)) < 0 ||
	    (rc = ml_features_fit(&fp, &a, feat, ctx, &rows, e)) < 0 ||
	    (rc = view_frame(&v, rows, e)) < 0 ||
	    (rc = ml_learner_fit(&l, &v, NULL, rows->nrow, NULL, 0, spec, ctx, e)) < 0)
		goto done;
	if (te) {
		if ((rc = sub_frame(&b, f, te, nte, e)) < 0 ||
		    (rc = ml_features_bind(fp, &b.schema, &os, e)) < 0 ||
		    (rc = ml_features_apply(fp, &b.rows, 0, nte, &ob, e)) < 0)
			goto done;
		if (ob->nrow != nte) {
			rc = ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
					"a feature pipeline that holds rows back (interpolation) "
					"cannot be fitted per fold");
			goto done;
		}
		if ((rc = view_frame(&w, ob, e)) < 0 ||
		    (rc = ml_score_rows(l, ref ? ref : l, &w, NULL, nte, ctx->pool, sc, e)) < 0)
			goto done;
	}
done:
	ml_schema_release(&v.schema);
	ml_schema_release(&w.schema);
	ml_frame_release(&a);
	ml_frame_release(&b);
	if (fout && rc == 0)
		*fout = fp;
	else
		ml_features_free(fp);
	if (lout && rc == 0)
		*lout = l;
	else
		ml_learner_free(l);
	return rc;
}

/* What every fold shares. */
struct cv_run {
	struct ml_cv_result *r;
	const struct ml_frame *f;
	const size_t *rows;
	const struct ml_train_spec *spec;
	const struct ml_learner *ref;
	const struct ml_cv_opts *o;
	struct ml_ctx *ctx;
	size_t *trn, *tst; /* a fold's training and test rows (of f) */
	double *score;	   /* its test rows' scores */
};

static void progress(const struct cv_run *c, int fold, int done, size_t ntrain, size_t ntest)
{
	struct ml_cv_fold p;

	if (!c->o->progress)
		return;
	p.fold = fold;
	p.k = c->r->k;
	p.done = done;
	p.ntrain = ntrain;
	p.ntest = ntest;
	p.metrics = done ? c->r->metrics[fold - 1] : NULL;
	c->o->progress(c->o->ud, &p);
}

/* Fit fold f on the other folds' rows, score and measure its own. */
static int run_fold(struct cv_run *c, int f, struct ml_err *e)
{
	struct ml_cv_result *r = c->r;
	struct ml_learner *fl = NULL;
	size_t ntrn = 0, ntst = 0, i, at = 0;
	int nout = r->nout, rc;

	for (i = 0; i < r->n; i++) {
		if (r->fold[i] == f)
			c->tst[ntst++] = c->rows[i];
		else if (r->split != ML_CV_TIME || r->fold[i] < f)
			c->trn[ntrn++] = c->rows[i];
	}
	progress(c, f, 0, ntrn, ntst);
	if (c->o->feat)
		rc = ml_fit_pipeline(c->f, c->trn, ntrn, c->tst, ntst, c->o->feat, c->spec, c->ref,
				     c->ctx, NULL, NULL, c->score, e);
	else if ((rc = ml_learner_fit(&fl, c->f, c->trn, ntrn, c->o->valid, c->o->nvalid, c->spec,
				      c->ctx, e)) == 0)
		rc = ml_score_rows(fl, c->ref, c->f, c->tst, ntst, c->ctx->pool, c->score, e);
	ml_learner_free(fl);
	if (rc == 0)
		rc = ml_score_metrics(c->ref, c->f, c->tst, ntst, c->score, c->spec->weight,
				      r->metrics[f - 1], r->has, e);
	if (rc < 0) {
		if (e) {
			char msg[sizeof(e->msg) + 48];
			snprintf(msg, sizeof(msg), "cross-validation fold %d: %s", f, e->msg);
			memcpy(e->msg, msg, sizeof(e->msg) - 1);
			e->msg[sizeof(e->msg) - 1] = 0;
		}
		return rc;
	}
	/* The fold's rows in the order of the rows given. */
	for (i = 0; i < r->n; i++)
		if (r->fold[i] == f) {
			memcpy(r->oof + i * (size_t)nout, c->score + at * (size_t)nout,
			       (size_t)nout * sizeof(double));
			at++;
		}
	r->ntest[f - 1] = ntst;
	progress(c, f, 1, ntrn, ntst);
	return 0;
}

/* The mean and sample sd of each metric over the folds that define it. */
static void summarise(struct ml_cv_result *r)
{
	int f, m, k = r->k;

	for (m = 0; m < ML_M_COUNT; m++) {
		double sum = 0, ss = 0;
		int cnt = 0;
		for (f = 0; f < k; f++)
			if (r->metrics[f][m] == r->metrics[f][m]) {
				sum += r->metrics[f][m];
				cnt++;
			}
		r->mean[m] = cnt ? sum / cnt : NAN;
		for (f = 0; f < k; f++)
			if (r->metrics[f][m] == r->metrics[f][m])
				ss += (r->metrics[f][m] - r->mean[m]) *
				      (r->metrics[f][m] - r->mean[m]);
		r->sd[m] = cnt > 1 ? sqrt(ss / (cnt - 1)) : NAN;
	}
}

int ml_cv_run(struct ml_cv_result *r, const struct ml_frame *f, const size_t *rows, size_t n,
	      const int32_t *fold, const struct ml_train_spec *spec, const struct ml_learner *ref,
	      const struct ml_cv_opts *o, struct ml_ctx *ctx, struct ml_err *e)
{
	struct cv_run c;
	size_t sz = n ? n : 1, i;
	int k, rc = 0;

	r->k = o->k;
	r->split = ml_cv_split_resolve(o->split, ml_learner_task(ref));
	r->n = n;
	r->nout = ml_learner_nout(ref, ML_OUT_VALUE);
	if (r->k < 2)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "cross-validation needs 2 folds or more");
	if (o->feat && o->nvalid)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "a feature pipeline fitted per fold takes no validation rows");
	memset(&c, 0, sizeof(c));
	c.r = r;
	c.f = f;
	c.rows = rows;
	c.spec = spec;
	c.ref = ref;
	c.o = o;
	c.ctx = ctx;
	r->fold = malloc(sz * sizeof(*r->fold));
	r->oof = malloc(sz * (size_t)r->nout * sizeof(double));
	r->ntest = calloc((size_t)r->k, sizeof(*r->ntest));
	r->metrics = calloc((size_t)r->k, sizeof(*r->metrics));
	c.trn = malloc(sz * sizeof(*c.trn));
	c.tst = malloc(sz * sizeof(*c.tst));
	c.score = malloc(sz * (size_t)r->nout * sizeof(double));
	if (!r->fold || !r->oof || !r->ntest || !r->metrics || !c.trn || !c.tst || !c.score) {
		rc = ml_err_nomem(e);
		goto out;
	}
	if (fold)
		memcpy(r->fold, fold, n * sizeof(*fold));
	else if ((rc = ml_cv_folds(r->fold, f, rows, n, o, spec, ml_learner_task(ref), e)) < 0)
		goto out;
	for (i = 0; i < n * (size_t)r->nout; i++)
		r->oof[i] = NAN;
	for (k = 1; k <= r->k && rc == 0; k++)
		rc = run_fold(&c, k, e);
	if (rc == 0)
		summarise(r);
out:
	free(c.trn);
	free(c.tst);
	free(c.score);
	return rc;
}
