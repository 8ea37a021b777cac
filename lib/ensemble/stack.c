/* Stacking and blending: base learners cross-validated over shared folds, their
 * out-of-fold predictions training a meta-learner, the base learners refitted on every
 * row as the members. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml/artefact.h"
#include "ml/ensemble.h"
#include "ml/pred.h"

void ml_stack_opts_init(struct ml_stack_opts *o)
{
	memset(o, 0, sizeof(*o));
	ml_cv_opts_init(&o->cv);
	o->created = -1;
}

/* The meta-features a base learner's scores give: the second class's probability for two
 * classes, every class's for more, the prediction for a regression. */
static int first_feature(int nout)
{
	return nout == 2 ? 1 : 0;
}

/* A frame of f's columns keep (or none), then nfeat numeric columns named names, over the
 * rows whose use[i] is set. */
static int meta_frame(struct ml_frame *mf, const struct ml_frame *f, const int *keep, int nkeep,
		      char **names, int nfeat, const double *const *feat, const int32_t *fold,
		      int all, struct ml_err *e)
{
	size_t n = f->rows.nrow, i, r;
	int j, at;

	if (all && ml_schema_add(&mf->schema, "fold", ML_NUM) < 0)
		return ml_err_nomem(e);
	for (j = 0; j < nkeep; j++) {
		const struct ml_col *c = &f->schema.cols[keep[j]];
		if ((at = ml_schema_add(&mf->schema, c->name, c->type)) < 0 ||
		    ml_dict_copy(&mf->schema.cols[at].dict, &c->dict) < 0)
			return ml_err_nomem(e);
	}
	for (j = 0; j < nfeat; j++)
		if (ml_schema_add(&mf->schema, names[j], ML_NUM) < 0)
			return ml_err_nomem(e);
	if (ml_block_init(&mf->rows, &mf->schema, n ? n : 1, e) < 0)
		return e ? e->code : ML_E_NOMEM;
	for (i = 0, r = 0; i < n; i++) {
		if (!all && fold[i] <= 0)
			continue;
		at = 0;
		if (all)
			mf->rows.col[at++].num[r] = fold[i];
		for (j = 0; j < nkeep; j++, at++)
			if (f->schema.cols[keep[j]].type == ML_NUM)
				mf->rows.col[at].num[r] = f->rows.col[keep[j]].num[i];
			else
				mf->rows.col[at].cat[r] = f->rows.col[keep[j]].cat[i];
		for (j = 0; j < nfeat; j++, at++)
			mf->rows.col[at].num[r] = fold[i] > 0 ? feat[j][i] : NAN;
		r++;
	}
	mf->rows.nrow = r;
	return 0;
}

struct stack {
	const struct ml_stack_opts *o;
	enum ml_cv_split split;	 /* as resolved */
	struct ml_features **fp; /* per base: the pipeline fitted on every row, or NULL */
	size_t n, *rows;
	int32_t *fold;
	struct ml_learner **ref; /* each base learner on every row */
	double **oof;		 /* per base: n * nout */
	int *nout;
	char **names;		 /* meta-feature names */
	const double **feat;	 /* per meta-feature: n values */
	double *featbuf;
	int nfeat;
};

/* --- Pipelines fitted per fold ----------------------------------------------------------- */

/* Blending: the holdout is fold 1 of round(1/F) folds; the other rows are "fold 0" for
 * the meta-learner (their predictions would be fitted ones). */
static int deal_rows(struct stack *S, const struct ml_frame *f, enum ml_task task,
		     struct ml_cv_opts *cv, struct ml_err *e)
{
	const struct ml_stack_opts *o = S->o;
	size_t i;
	int rc;

	*cv = o->cv;
	if (o->holdout > 0) {
		long k = lround(1 / o->holdout);
		cv->k = k < 2 ? 2 : k > 1000 ? 1000 : (int)k;
	}
	if ((rc = ml_cv_folds(S->fold, f, S->rows, S->n, cv, &o->base[0], task, e)) < 0)
		return rc;
	S->split = ml_cv_split_resolve(cv->split, task);
	if (o->holdout > 0)
		for (i = 0; i < S->n; i++)
			S->fold[i] = S->fold[i] == 1 ? 1 : 0;
	return 0;
}

/* A fit's error, prefixed with the base learner it came from. */
static int base_failed(const struct ml_stack_opts *o, int b, int rc, struct ml_err *e)
{
	char msg[sizeof(e->msg)];

	if (!e)
		return rc;
	snprintf(msg, sizeof(msg), "%s", e->msg);
	snprintf(e->msg, sizeof(e->msg), "base learner %d (%.60s): %.800s", b + 1,
		 o->names ? o->names[b] : ml_algo_name(o->base[b].params.algo), msg);
	return rc;
}

/* --- Fits in parallel -------------------------------------------------------------------- */

/* The fits of a stack as tasks of ctx's pool: first every base learner on every row (a
 * task per base learner), then each on each fold (a task per base learner and fold),
 * which needs the first for its class space. Each task fits with a context of its own,
 * of the pool's threads shared out between the tasks; fits never depend on the thread
 * count, so the bytes are the same for any. */
struct fits {
	struct stack *S;
	const struct ml_frame *f;
	const struct ml_ctx *ctx;
	int k;		  /* folds fitted (a blend: fold 1 alone) */
	int folds;	  /* the phase: 0 every row, 1 the folds */
	int threads;	  /* per task */
	int *rc;	  /* per task */
	struct ml_err *err; /* per task */
};

/* Base learner b on the rows fold j holds out: fitted on the others (a time split: the
 * earlier folds' rows; a blend: the rows outside the holdout), its scores into oof. */
static int fold_fit(struct stack *S, const struct ml_frame *f, int b, int j, struct ml_ctx *ctx,
		    struct ml_err *e)
{
	size_t sz = S->n ? S->n : 1, ntr = 0, nte = 0, i;
	size_t *tr = malloc(sz * sizeof(size_t)), *te = malloc(sz * sizeof(size_t));
	int K = S->nout[b], rc = 0;
	double *sc = malloc(sz * (size_t)K * sizeof(double));
	struct ml_learner *l = NULL;

	if (!tr || !te || !sc)
		rc = ml_err_nomem(e);
	for (i = 0; rc == 0 && i < S->n; i++)
		if (S->fold[i] == j)
			te[nte++] = i;
		else if (S->split == ML_CV_TIME ? S->fold[i] < j : 1)
			tr[ntr++] = i;
	if (rc == 0 && nte > 0) {
		if (S->o->feat)
			rc = ml_fit_pipeline(f, tr, ntr, te, nte, S->o->feat, &S->o->base[b], S->ref[b],
					     ctx, NULL, NULL, sc, e);
		else if ((rc = ml_learner_fit(&l, f, tr, ntr, NULL, 0, &S->o->base[b], ctx, e)) == 0)
			rc = ml_score_rows(l, S->ref[b], f, te, nte, ctx->pool, sc, e);
		for (i = 0; rc == 0 && i < nte; i++)
			memcpy(S->oof[b] + te[i] * (size_t)K, sc + i * (size_t)K, (size_t)K * sizeof(double));
		if (rc < 0 && e) {
			char msg[sizeof(e->msg)];
			snprintf(msg, sizeof(msg), "%s", e->msg);
			snprintf(e->msg, sizeof(e->msg), "fold %d: %.900s", j, msg);
		}
	}
	ml_learner_free(l);
	free(tr);
	free(te);
	free(sc);
	return rc;
}

static void fit_task(void *arg, size_t t, int worker)
{
	struct fits *F = arg;
	struct stack *S = F->S;
	struct ml_ctx sub;
	struct ml_err *e = &F->err[t];
	int b = F->folds ? (int)t / F->k : (int)t, rc;

	(void)worker;
	ml_err_init(e);
	if ((rc = ml_ctx_init(&sub, F->threads, F->ctx->seed, e)) == 0) {
		sub.log = F->ctx->log;
		sub.log_ud = F->ctx->log_ud;
		sub.progress = 0;
		if (F->folds)
			rc = fold_fit(S, F->f, b, (int)t % F->k + 1, &sub, e);
		else if (S->o->feat)
			rc = ml_fit_pipeline(F->f, S->rows, S->n, NULL, 0, S->o->feat, &S->o->base[b],
					     NULL, &sub, &S->fp[b], &S->ref[b], NULL, e);
		else
			rc = ml_learner_fit(&S->ref[b], F->f, S->rows, S->n, NULL, 0, &S->o->base[b],
					    &sub, e);
	}
	ml_ctx_release(&sub);
	F->rc[t] = rc;
}

/* One phase's tasks; the first failure in task order is the error, so that it is the same
 * for any thread count. */
static int run_fits(struct fits *F, size_t ntask, struct ml_err *e)
{
	int pool = F->ctx->threads > 0 ? F->ctx->threads : 1, rc = 0;
	size_t t;

	F->threads = pool / (int)(ntask < (size_t)pool ? ntask : (size_t)pool);
	F->rc = calloc(ntask, sizeof(int));
	F->err = calloc(ntask, sizeof(struct ml_err));
	if (!F->rc || !F->err)
		rc = ml_err_nomem(e);
	else
		ml_pool_run(F->ctx->pool, ntask, fit_task, F);
	for (t = 0; rc == 0 && t < ntask; t++)
		if (F->rc[t] < 0) {
			rc = F->rc[t];
			if (e)
				*e = F->err[t];
			rc = base_failed(F->S->o, F->folds ? (int)t / F->k : (int)t, rc, e);
		}
	free(F->rc);
	free(F->err);
	return rc;
}

/* Every base learner on every row, then on each fold for the out-of-fold scores. */
static int fit_bases(struct stack *S, const struct ml_frame *f, const struct ml_cv_opts *cv,
		     struct ml_ctx *ctx, struct ml_err *e)
{
	struct fits F;
	size_t i;
	int b, rc;

	memset(&F, 0, sizeof(F));
	F.S = S;
	F.f = f;
	F.ctx = ctx;
	F.k = S->o->holdout > 0 ? 1 : cv->k;
	if ((rc = run_fits(&F, (size_t)S->o->nbase, e)) < 0)
		return rc;
	for (b = 0; b < S->o->nbase; b++) {
		int K = ml_learner_task(S->ref[b]) == ML_TASK_CLASSIFY ? ml_learner_nclass(S->ref[b]) : 1;
		S->nout[b] = K;
		if (!(S->oof[b] = malloc((S->n ? S->n : 1) * (size_t)K * sizeof(double))))
			return ml_err_nomem(e);
		for (i = 0; i < S->n * (size_t)K; i++)
			S->oof[b][i] = NAN;
	}
	F.folds = 1;
	return run_fits(&F, (size_t)S->o->nbase * (size_t)F.k, e);
}

/* The meta-features: names and columns, from each base's out-of-fold scores. */
static int meta_features(struct stack *S, struct ml_err *e)
{
	const struct ml_stack_opts *o = S->o;
	int b, c, j = 0;
	size_t i;
	char name[1100];

	for (b = 0; b < o->nbase; b++)
		S->nfeat += S->nout[b] - first_feature(S->nout[b]);
	S->names = calloc((size_t)S->nfeat, sizeof(*S->names));
	S->feat = calloc((size_t)S->nfeat, sizeof(*S->feat));
	S->featbuf = malloc((S->n ? S->n : 1) * (size_t)S->nfeat * sizeof(double));
	if (!S->names || !S->feat || !S->featbuf)
		return ml_err_nomem(e);
	for (b = 0; b < o->nbase; b++) {
		int K = S->nout[b], classify = ml_learner_task(S->ref[b]) == ML_TASK_CLASSIFY;
		for (c = first_feature(K); c < K; c++, j++) {
			double *v = S->featbuf + (size_t)j * S->n;
			ml_ens_meta_feature(name, sizeof(name), b,
					    classify ? ml_learner_class(S->ref[b], c) : NULL);
			if (!(S->names[j] = strdup(name)))
				return ml_err_nomem(e);
			for (i = 0; i < S->n; i++)
				v[i] = S->oof[b][i * (size_t)K + (size_t)c];
			S->feat[j] = v;
		}
	}
	return 0;
}

/* Weights on the simplex that minimise the out-of-fold log loss of the weighted mean of
 * probabilities (or the squared error of the weighted mean of predictions), by
 * exponentiated gradient steps, from equal weights: the same steps for the same inputs. */
static int optimize_weights(struct stack *S, const struct ml_frame *f, double *w,
			    struct ml_err *e)
{
	int nb = S->o->nbase, b, it, K = S->nout[0], classify = K > 1 || ml_learner_task(S->ref[0]) == ML_TASK_CLASSIFY;
	double *y = malloc((S->n ? S->n : 1) * sizeof(double)), *g = malloc((size_t)nb * sizeof(double));
	size_t i;
	int rc;

	if (!y || !g) {
		free(y);
		free(g);
		return ml_err_nomem(e);
	}
	if ((rc = ml_learner_target_codes(S->ref[0], f, S->rows, S->n, y, e)) < 0)
		goto done;
	for (b = 0; b < nb; b++)
		w[b] = 1.0 / nb;
	for (it = 0; it < 1000; it++) {
		double gmax = 0, tot = 0;
		size_t used = 0;
		for (b = 0; b < nb; b++)
			g[b] = 0;
		for (i = 0; i < S->n; i++) {
			double mix = 0;
			if (S->fold[i] <= 0 || y[i] != y[i] || (classify && y[i] < 0))
				continue;
			used++;
			for (b = 0; b < nb; b++)
				mix += w[b] * (classify ? S->oof[b][i * (size_t)K + (size_t)y[i]] : S->oof[b][i]);
			for (b = 0; b < nb; b++) {
				double pb = classify ? S->oof[b][i * (size_t)K + (size_t)y[i]] : S->oof[b][i];
				g[b] += classify ? -pb / (mix > 1e-15 ? mix : 1e-15) : 2 * (mix - y[i]) * pb;
			}
		}
		if (!used)
			break;
		for (b = 0; b < nb; b++) {
			g[b] /= (double)used;
			if (fabs(g[b]) > gmax)
				gmax = fabs(g[b]);
		}
		if (!(gmax > 0))
			break;
		for (b = 0; b < nb; b++) {
			w[b] *= exp(-0.5 * g[b] / gmax);
			tot += w[b];
		}
		for (b = 0; b < nb; b++)
			w[b] /= tot;
	}
done:
	free(y);
	free(g);
	return rc;
}

/* The members (each base learner fitted on every row) and the meta-model, nested; or,
 * with weights, a weighted ensemble of them. */
static int assemble(struct stack *S, struct ml_model **out, const struct ml_learner *meta,
		    const double *w, struct ml_err *e)
{
	const struct ml_stack_opts *o = S->o;
	struct ml_artefact **art = calloc((size_t)o->nbase * 2, sizeof(*art));
	struct ml_ens_member *mem = calloc((size_t)o->nbase, sizeof(*mem));
	struct ml_model *mm = NULL;
	int b, rc = 0;

	if (!art || !mem)
		rc = ml_err_nomem(e);
	for (b = 0; b < o->nbase && rc == 0; b++) {
		const char *name = o->names ? o->names[b] : ml_algo_name(ml_learner_algo(S->ref[b]));
		int st, nst = S->fp[b] ? 2 : 1;
		for (st = 0; st < nst && rc == 0; st++) {
			struct ml_model *m;
			int model = st == nst - 1;
			if ((rc = model ? ml_learner_to_model(S->ref[b], &m, e) :
					  ml_features_to_model(S->fp[b], &m, e)) < 0)
				break;
			if (o->created >= 0 && (rc = ml_model_set_created(m, o->created, e)) < 0) {
				ml_model_free(m);
				break;
			}
			if (!(art[2 * b + st] = ml_artefact_from_model(m, name, e)))
				rc = e ? e->code : ML_E_NOMEM;
		}
		if (rc < 0)
			break;
		mem[b].stage = (const struct ml_artefact *const *)&art[2 * b];
		mem[b].nstage = nst;
		mem[b].name = name;
		mem[b].weight = w ? w[b] : 1;
	}
	if (rc == 0 && w) {
		rc = ml_ensemble_build(out, ML_ENS_WEIGHTED, mem, o->nbase, NULL, 0, e);
		goto done;
	}
	if (rc == 0)
		rc = ml_learner_to_model(meta, &mm, e);
	if (rc == 0 && o->created >= 0)
		rc = ml_model_set_created(mm, o->created, e);
	if (rc == 0)
		rc = ml_ensemble_build(out, ML_ENS_STACK, mem, o->nbase, mm, o->passthrough, e);
done:
	for (b = 0; art && b < 2 * o->nbase; b++)
		ml_artefact_free(art[b]);
	free(art);
	free(mem);
	ml_model_free(mm);
	return rc;
}

/* --- Non-negative meta weights ----------------------------------------------------------- */

/* The learner's coefficients of cols (0 for a column it was not fitted on). */
static int coefs_of(const struct ml_learner *l, const char *const *cols, int ncol, double *beta,
		    struct ml_err *e)
{
	struct ml_model *m = NULL;
	struct ml_artefact *a;
	struct ml_frame t;
	size_t i;
	int j, rc;

	if ((rc = ml_learner_to_model(l, &m, e)) < 0)
		return rc;
	if (!(a = ml_artefact_from_model(m, NULL, e)))
		return e ? e->code : ML_E_NOMEM;
	ml_frame_init(&t);
	rc = ml_artefact_table(a, "coef", &t, e);
	for (j = 0; j < ncol; j++)
		beta[j] = 0;
	for (i = 0; rc == 0 && i < t.rows.nrow; i++) {
		int32_t c = t.rows.col[0].cat[i];
		for (j = 0; c >= 0 && j < ncol; j++)
			if (strcmp(t.schema.cols[0].dict.str[c], cols[j]) == 0)
				beta[j] = t.rows.col[1].num[i];
	}
	ml_frame_release(&t);
	ml_artefact_free(a);
	return rc;
}

/* base (or "") and the columns cols[j] whose in[j] is 0, as a column list (COLS), with
 * the characters that list syntax reads escaped. */
static char *ignore_list(const char *base, const char *const *cols, const int *in, int ncol)
{
	size_t len = strlen(base) + 1, n = 0;
	char *out, *p;
	int j;

	for (j = 0; j < ncol; j++)
		len += 2 * strlen(cols[j]) + 1;
	if (!(out = malloc(len)))
		return NULL;
	for (p = (char *)base; *p; p++)
		out[n++] = *p;
	for (j = 0; j < ncol; j++) {
		const char *c;
		if (in[j])
			continue;
		if (n)
			out[n++] = ',';
		for (c = cols[j]; *c; c++) {
			if (strchr(",-!\\", *c))
				out[n++] = '\\';
			out[n++] = *c;
		}
	}
	out[n] = 0;
	return out;
}

/* The gradient of the loss in the coefficient of column c at zero: sum of (score - y) x. */
static double gradient(const struct ml_frame *f, int c, const double *y, const double *sc, int K)
{
	double g = 0;
	size_t i;

	for (i = 0; i < f->rows.nrow; i++) {
		double x = f->rows.col[c].num[i], s = sc[i * (size_t)K + (size_t)(K - 1)];
		if (x == x && y[i] == y[i] && s == s)
			g += (s - y[i]) * x;
	}
	return g;
}

/* A logistic meta-learner: one fit with --positive naming cols, by their 1-based indices
 * among the features of an unconstrained fit (ranges where they follow each other: a
 * list of names could outgrow a parameter's text). */
static int fit_positive(struct ml_learner **out, const struct ml_frame *f,
			const struct ml_train_spec *spec, const char *const *cols, int ncol,
			struct ml_ctx *ctx, struct ml_err *e)
{
	struct ml_train_spec sp = *spec;
	char list[ML_PARAM_TEXT_MAX + 1];
	size_t len = 0;
	int j, k, p, first = -1, rc;
	unsigned char *in = NULL;

	if ((rc = ml_learner_fit(out, f, NULL, f->rows.nrow, NULL, 0, spec, ctx, e)) < 0)
		return rc;
	p = ml_learner_nfeatures(*out);
	if (!(in = calloc((size_t)p + 1, 1)))
		return ml_err_nomem(e);
	for (j = 0; j < p; j++)
		for (k = 0; k < ncol; k++)
			if (strcmp(ml_learner_feature(*out, j), cols[k]) == 0)
				in[j] = 1;
	for (j = 0; j <= p && len < sizeof(list); j++) {
		if (j < p && in[j] && first < 0)
			first = j;
		if ((j == p || !in[j]) && first >= 0) {
			len += (size_t)snprintf(list + len, sizeof(list) - len,
						j - 1 > first ? "%s%d-%d" : "%s%d", len ? "," : "",
						first + 1, j);
			first = -1;
		}
	}
	free(in);
	if (len >= sizeof(list))
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "non-negative weights: the members' columns are too scattered "
				  "among the features");
	if (len == 0) /* no member column among the features: nothing to bound */
		return 0;
	if ((rc = ml_params_set(&sp.params, "positive", list, e)) < 0)
		return rc;
	ml_learner_free(*out);
	*out = NULL;
	return ml_learner_fit(out, f, NULL, f->rows.nrow, NULL, 0, &sp, ctx, e);
}

int ml_fit_nonneg(struct ml_learner **out, const struct ml_frame *f,
		  const struct ml_train_spec *spec, const char *const *cols, int ncol,
		  struct ml_ctx *ctx, struct ml_err *e)
{
	const char *alg = spec->params.algo ? ml_algo_name(spec->params.algo) : "";
	struct ml_train_spec sp = *spec;
	size_t n = f->rows.nrow;
	int *in = malloc((size_t)(ncol ? ncol : 1) * sizeof(int)), *col = malloc((size_t)(ncol ? ncol : 1) * sizeof(int));
	double *beta = malloc((size_t)(ncol ? ncol : 1) * sizeof(double));
	double *y = malloc((n ? n : 1) * sizeof(double)), *sc = malloc((n ? n : 1) * 2 * sizeof(double));
	char *ign = NULL;
	int j, it, rc = 0, K, nin = ncol;

	*out = NULL;
	if (!in || !col || !beta || !y || !sc) {
		rc = ml_err_nomem(e);
		goto done;
	}
	if (strcmp(alg, "linear") != 0 && strcmp(alg, "logistic") != 0) {
		rc = ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				"non-negative weights are for a linear or logistic meta-learner, not %s",
				alg[0] ? alg : "none");
		goto done;
	}
	for (j = 0; j < ncol; j++) {
		in[j] = 1;
		if ((col[j] = ml_schema_find(&f->schema, cols[j])) < 0 || f->schema.cols[col[j]].type != ML_NUM) {
			rc = ml_err_set(e, ML_E_DATA, NULL, 0, 0, "no numeric column '%s'", cols[j]);
			goto done;
		}
	}
	if (strcmp(alg, "logistic") == 0) {
		rc = fit_positive(out, f, spec, cols, ncol, ctx, e);
		goto done;
	}
	for (it = 0; it < 4 * ncol + 8; it++) {
		int worst = -1, best = -1;
		double gbest = 0, tol;
		free(ign);
		if (!(ign = ignore_list(spec->ignore ? spec->ignore : "", cols, in, ncol))) {
			rc = ml_err_nomem(e);
			goto done;
		}
		sp.ignore = ign[0] ? ign : NULL;
		ml_learner_free(*out);
		*out = NULL;
		if ((rc = ml_learner_fit(out, f, NULL, n, NULL, 0, &sp, ctx, e)) < 0)
			goto done;
		K = 1; /* a linear meta-learner: one score per row */
		if ((rc = coefs_of(*out, cols, ncol, beta, e)) < 0)
			goto done;
		/* A negative weight leaves the set (the most negative first), but for the last. */
		for (j = 0; j < ncol; j++)
			if (in[j] && beta[j] < 0 && (worst < 0 || beta[j] < beta[worst]))
				worst = j;
		if (worst >= 0 && nin > 1) {
			in[worst] = 0;
			nin--;
			continue;
		}
		/* A column left out whose weight would lower the loss comes back (the steepest). */
		if ((rc = ml_learner_target_codes(*out, f, NULL, n, y, e)) < 0 ||
		    (rc = ml_score_rows(*out, *out, f, NULL, n, ctx->pool, sc, e)) < 0)
			goto done;
		tol = 1e-9 * (double)(n ? n : 1);
		for (j = 0; j < ncol; j++) {
			double g;
			if (in[j])
				continue;
			g = gradient(f, col[j], y, sc, K);
			if (g < -tol && (best < 0 || g < gbest)) {
				best = j;
				gbest = g;
			}
		}
		if (best < 0)
			break;
		in[best] = 1;
		nin++;
	}
done:
	if (rc < 0) {
		ml_learner_free(*out);
		*out = NULL;
	}
	free(in);
	free(col);
	free(beta);
	free(y);
	free(sc);
	free(ign);
	return rc;
}

/* --- The report ----------------------------------------------------------------------- */

static int report_row(struct ml_frame *r, const char *what, int a, int b, const char *metric,
		      double v, struct ml_err *e)
{
	size_t i = r->rows.nrow;
	int32_t cw, cm;

	if (i == r->rows.cap && ml_block_reserve(&r->rows, 2 * i + 16, e) < 0)
		return e ? e->code : ML_E_NOMEM;
	cw = ml_dict_intern(&r->schema.cols[0].dict, what, strlen(what));
	cm = ml_dict_intern(&r->schema.cols[3].dict, metric, strlen(metric));
	if (cw < 0 || cm < 0)
		return ml_err_nomem(e);
	r->rows.col[0].cat[i] = cw;
	r->rows.col[1].num[i] = a > 0 ? a : NAN;
	r->rows.col[2].num[i] = b > 0 ? b : NAN;
	r->rows.col[3].cat[i] = *metric ? cm : -1;
	r->rows.col[4].num[i] = v;
	r->rows.nrow = i + 1;
	return 0;
}

/* The metrics a report gives: for classification log loss, AUC (binary) and accuracy; for
 * a regression RMSE, MAE and R2. */
static const int report_metrics[2][3] = {{ML_M_LOGLOSS, ML_M_AUC, ML_M_ACCURACY},
					 {ML_M_RMSE, ML_M_MAE, ML_M_R2}};

static int report_metric_rows(struct stack *S, const struct ml_frame *f, const size_t *rows,
			      size_t n, const double *score, const char *what, int k,
			      struct ml_err *e)
{
	double m[ML_M_COUNT];
	int has[ML_M_COUNT] = {0}, j, rc, reg = ml_learner_task(S->ref[0]) != ML_TASK_CLASSIFY;

	if ((rc = ml_score_metrics(S->ref[0], f, rows, n, score, NULL, m, has, e)) < 0)
		return rc;
	for (j = 0; j < 3; j++) {
		int id = report_metrics[reg][j];
		if (has[id] && (rc = report_row(S->o->report, what, k, 0, ml_metric_name(id), m[id], e)) < 0)
			return rc;
	}
	return 0;
}

static int argmax(const double *v, int K)
{
	int k, b = 0;

	for (k = 1; k < K; k++)
		if (v[k] > v[b])
			b = k;
	return b;
}

/* ens: the ensemble's out-of-fold scores of the rows a fold held out, or NULL. */
static int report(struct stack *S, const struct ml_frame *f, const double *ens, const double *w,
		  struct ml_err *e)
{
	struct ml_frame *r = S->o->report;
	const char *cols[] = {"what", "member", "other", "metric", "value"};
	int nb = S->o->nbase, a, b, j, rc = 0, K = S->nout[0];
	size_t *rows = malloc((S->n ? S->n : 1) * sizeof(size_t)), n = 0, i;
	double *sc = malloc((S->n ? S->n : 1) * (size_t)K * sizeof(double));

	for (j = 0; j < 5 && rc == 0; j++)
		if (ml_schema_add(&r->schema, cols[j], j == 0 || j == 3 ? ML_CAT : ML_NUM) < 0)
			rc = ml_err_nomem(e);
	if (!rows || !sc || rc < 0 || ml_block_init(&r->rows, &r->schema, 16, e) < 0) {
		free(rows);
		free(sc);
		return rc < 0 ? rc : ml_err_nomem(e);
	}
	for (i = 0; i < S->n; i++)
		if (S->fold[i] > 0)
			rows[n++] = i;
	for (b = 0; b < nb && rc == 0; b++) {
		for (i = 0; i < n; i++)
			memcpy(sc + i * (size_t)K, S->oof[b] + rows[i] * (size_t)K, (size_t)K * sizeof(double));
		rc = report_metric_rows(S, f, rows, n, sc, "member", b + 1, e);
	}
	if (rc == 0 && ens)
		rc = report_metric_rows(S, f, rows, n, ens, "ensemble", 0, e);
	for (a = 0; a < nb && rc == 0; a++)
		for (b = a + 1; b < nb && rc == 0; b++) {
			double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0, m = 0, dis = 0;
			int c;
			for (i = 0; i < n; i++) {
				const double *x = S->oof[a] + rows[i] * (size_t)K, *y = S->oof[b] + rows[i] * (size_t)K;
				for (c = first_feature(K); c < K; c++, m++) {
					sx += x[c];
					sy += y[c];
					sxx += x[c] * x[c];
					syy += y[c] * y[c];
					sxy += x[c] * y[c];
				}
				if (K > 1)
					dis += argmax(x, K) != argmax(y, K);
			}
			rc = report_row(r, "correlation", a + 1, b + 1, "",
					(sxy - sx * sy / m) / sqrt((sxx - sx * sx / m) * (syy - sy * sy / m)), e);
			if (rc == 0 && K > 1)
				rc = report_row(r, "disagreement", a + 1, b + 1, "", n ? dis / (double)n : NAN, e);
		}
	for (b = 0; w && b < nb && rc == 0; b++)
		rc = report_row(r, "weight", b + 1, 0, "", w[b], e);
	free(rows);
	free(sc);
	return rc;
}

/* The ensemble's out-of-fold scores (rows a fold held out, in order): the weighted mix, or
 * the meta-learner's on its own training rows (mf, in the same order). */
static int ensemble_scores(struct stack *S, const double *w, const struct ml_learner *meta,
			   const struct ml_frame *mf, struct ml_ctx *ctx, double **out,
			   struct ml_err *e)
{
	int K = S->nout[0], b, c;
	size_t i, r = 0;
	double *v = malloc((S->n ? S->n : 1) * (size_t)K * sizeof(double));

	if (!v)
		return ml_err_nomem(e);
	*out = v;
	if (meta)
		return ml_score_rows(meta, S->ref[0], mf, NULL, mf->rows.nrow, ctx->pool, v, e);
	for (i = 0; i < S->n; i++) {
		if (S->fold[i] <= 0)
			continue;
		for (c = 0; c < K; c++) {
			double s = 0;
			for (b = 0; b < S->o->nbase; b++)
				s += w[b] * S->oof[b][i * (size_t)K + (size_t)c];
			v[r * (size_t)K + (size_t)c] = s;
		}
		r++;
	}
	return 0;
}

static void stack_release(struct stack *S)
{
	int b;

	for (b = 0; b < S->o->nbase; b++) {
		if (S->ref)
			ml_learner_free(S->ref[b]);
		if (S->oof)
			free(S->oof[b]);
		if (S->fp)
			ml_features_free(S->fp[b]);
	}
	for (b = 0; S->names && b < S->nfeat; b++)
		free(S->names[b]);
	free(S->names);
	free(S->feat);
	free(S->featbuf);
	free(S->ref);
	free(S->oof);
	free(S->nout);
	free(S->fp);
	free(S->rows);
	free(S->fold);
}

int ml_ensemble_stack(struct ml_model **out, const struct ml_frame *f,
		      const struct ml_stack_opts *o, struct ml_ctx *ctx, struct ml_frame *oof,
		      struct ml_err *e)
{
	struct stack S;
	struct ml_cv_opts cv;
	struct ml_frame mf;
	struct ml_learner *meta = NULL;
	struct ml_train_spec mspec;
	enum ml_task task;
	int *keep = NULL, nkeep = 0, j, rc;
	size_t i;

	*out = NULL;
	memset(&S, 0, sizeof(S));
	S.o = o;
	S.n = f->rows.nrow;
	ml_frame_init(&mf);
	if (o->nbase < 1 || (!o->meta && !o->optimize))
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "stacking needs base learners and a meta-learner");
	S.rows = malloc((S.n ? S.n : 1) * sizeof(size_t));
	S.fold = malloc((S.n ? S.n : 1) * sizeof(int32_t));
	S.ref = calloc((size_t)o->nbase, sizeof(*S.ref));
	S.oof = calloc((size_t)o->nbase, sizeof(*S.oof));
	S.nout = calloc((size_t)o->nbase, sizeof(*S.nout));
	S.fp = calloc((size_t)o->nbase, sizeof(*S.fp));
	if (!S.rows || !S.fold || !S.ref || !S.oof || !S.nout || !S.fp) {
		rc = ml_err_nomem(e);
		goto done;
	}
	for (i = 0; i < S.n; i++)
		S.rows[i] = i;
	if ((rc = ml_task_resolve(f, S.rows, S.n, o->base[0].target, o->base[0].task, &task, e)) < 0 ||
	    (rc = deal_rows(&S, f, task, &cv, e)) < 0)
		goto done;
	if ((rc = fit_bases(&S, f, &cv, ctx, e)) < 0)
		goto done;
	if (o->optimize) {
		double *w = malloc((size_t)o->nbase * sizeof(double));
		if (!w) {
			rc = ml_err_nomem(e);
			goto done;
		}
		rc = optimize_weights(&S, f, w, e);
		if (rc == 0 && oof)
			rc = meta_features(&S, e);
		if (rc == 0 && oof)
			rc = meta_frame(oof, f, NULL, 0, S.names, S.nfeat, S.feat, S.fold, 1, e);
		if (rc == 0 && o->report) {
			double *ens = NULL;
			if ((rc = ensemble_scores(&S, w, NULL, NULL, ctx, &ens, e)) == 0)
				rc = report(&S, f, ens, w, e);
			free(ens);
		}
		if (rc == 0)
			rc = assemble(&S, out, NULL, w, e);
		free(w);
		goto done;
	}
	if ((rc = meta_features(&S, e)) < 0)
		goto done;
	/* The meta-learner's columns: the target alone, or every column of f. */
	if (o->passthrough) {
		nkeep = f->schema.ncol;
		if (!(keep = malloc((size_t)nkeep * sizeof(int)))) {
			rc = ml_err_nomem(e);
			goto done;
		}
		for (j = 0; j < nkeep; j++)
			keep[j] = j;
	} else {
		int t = ml_schema_find(&f->schema, o->base[0].target);
		if (!(keep = malloc(sizeof(int)))) {
			rc = ml_err_nomem(e);
			goto done;
		}
		keep[nkeep++] = t;
	}
	if ((rc = meta_frame(&mf, f, keep, nkeep, S.names, S.nfeat, S.feat, S.fold, 0, e)) < 0)
		goto done;
	mspec = *o->meta;
	if (!mspec.params.algo)
		ml_params_init(&mspec.params,
			       ml_algo_find(task == ML_TASK_CLASSIFY ? "logistic" : "linear"));
	mspec.target = o->base[0].target;
	mspec.task = task;
	mspec.ignore = o->passthrough ? o->base[0].ignore : NULL;
	mspec.weight = NULL;
	if ((rc = o->nonneg ? ml_fit_nonneg(&meta, &mf, &mspec, (const char *const *)S.names, S.nfeat, ctx, e)
			    : ml_learner_fit(&meta, &mf, NULL, mf.rows.nrow, NULL, 0, &mspec, ctx, e)) < 0) {
		char msg[sizeof(e->msg)];
		snprintf(msg, sizeof(msg), "%s", e->msg);
		snprintf(e->msg, sizeof(e->msg), "the meta-learner: %.1000s", msg);
		goto done;
	}
	if (oof && (rc = meta_frame(oof, f, NULL, 0, S.names, S.nfeat, S.feat, S.fold, 1, e)) < 0)
		goto done;
	if (o->report) {
		double *ens = NULL;
		if ((rc = ensemble_scores(&S, NULL, meta, &mf, ctx, &ens, e)) == 0)
			rc = report(&S, f, ens, NULL, e);
		free(ens);
		if (rc < 0)
			goto done;
	}
	rc = assemble(&S, out, meta, NULL, e);
done:
	ml_learner_free(meta);
	ml_frame_release(&mf);
	free(keep);
	stack_release(&S);
	return rc;
}
