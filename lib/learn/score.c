/* Scoring: binding a learner to an input schema by name, and scoring blocks of rows on the
 * thread pool. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml/learn.h"
#include "ml/num.h"
#include "learn_int.h"

int ml_learner_bind(struct ml_learner *l, const struct ml_schema *in, struct ml_err *e)
{
	int j;

	ml_learn_unbind(l);
	l->bcol = malloc((size_t)(l->nfeat ? l->nfeat : 1) * sizeof(int));
	l->bmap = calloc((size_t)(l->nfeat ? l->nfeat : 1), sizeof(*l->bmap));
	l->bmapn = calloc((size_t)(l->nfeat ? l->nfeat : 1), sizeof(*l->bmapn));
	if (!l->bcol || !l->bmap || !l->bmapn) {
		ml_learn_unbind(l);
		return ml_err_nomem(e);
	}
	for (j = 0; j < l->nfeat; j++) {
		int c = ml_schema_find(in, l->feat[j].name);
		if (c < 0) {
			ml_learn_unbind(l);
			return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "no column '%s' (a feature of the model)",
					  l->feat[j].name);
		}
		if (in->cols[c].type != l->feat[j].type) {
			const char *want = l->feat[j].type == ML_NUM ? "numeric" : "categorical";
			ml_learn_unbind(l);
			return ml_err_set(e, ML_E_DATA, NULL, 0, c + 1,
					  "column '%s' is %s here but was %s in training%s",
					  l->feat[j].name,
					  l->feat[j].type == ML_NUM ? "categorical" : "numeric", want,
					  l->feat[j].type == ML_NUM ? " (see --num)" : " (see --cat)");
		}
		l->bcol[j] = c;
	}
	l->bound = in;
	return 0;
}

/* Extend the level maps to the input dictionaries, which grow as the input is read. */
static int sync_maps(struct ml_learner *l, struct ml_err *e)
{
	int j;

	for (j = 0; j < l->nfeat; j++) {
		const struct ml_dict *d;
		if (l->feat[j].type != ML_CAT)
			continue;
		d = &l->bound->cols[l->bcol[j]].dict;
		if (l->bmapn[j] < d->n) {
			int32_t *m = realloc(l->bmap[j], (size_t)d->n * sizeof(int32_t));
			int32_t c;
			if (!m)
				return ml_err_nomem(e);
			l->bmap[j] = m;
			for (c = l->bmapn[j]; c < d->n; c++)
				m[c] = ml_dict_find(&l->feat[j].levels, d->str[c], d->len[c]);
			l->bmapn[j] = d->n;
		}
	}
	return 0;
}

enum { SCORE, SCORE_RAW, LEAVES, CONTRIB };

/* Encode rows and hand them to the algorithm for what is asked. */
static int run_rows(struct ml_learner *l, const struct ml_block *b, const size_t *rows,
		    size_t from, size_t n, void *out, int what, struct ml_err *e);

static int predict_some(struct ml_learner *l, const struct ml_block *b, const size_t *rows,
			size_t from, size_t n, double *out, int raw, struct ml_err *e)
{
	return run_rows(l, b, rows, from, n, out, raw ? SCORE_RAW : SCORE, e);
}

int ml_learner_fitted(struct ml_learner *l, double *out, int raw)
{
	return l->algo->fitted ? l->algo->fitted(l->state, out, raw) : 0;
}

int ml_learner_ntrees(const struct ml_learner *l)
{
	return l->algo->ntrees ? l->algo->ntrees(l->state) : 0;
}

int ml_learner_leaves(struct ml_learner *l, const struct ml_block *b, size_t from, size_t to,
		      int32_t *out, struct ml_err *e)
{
	if (!l->algo->leaves)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "-a %s models have no trees",
				  l->algo->name);
	return run_rows(l, b, NULL, from, to > from ? to - from : 0, out, LEAVES, e);
}

int ml_learner_contrib(struct ml_learner *l, const struct ml_block *b, size_t from, size_t to,
		       double *out, struct ml_err *e)
{
	if (!l->algo->contrib)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "-a %s models give no per-feature contributions", l->algo->name);
	return run_rows(l, b, NULL, from, to > from ? to - from : 0, out, CONTRIB, e);
}

/* Rows per scoring task: the answers never depend on how tasks meet threads. */
#define TASK_ROWS 4096

struct run {
	struct ml_learner *l;
	const struct ml_block *b;
	const size_t *rows;
	size_t from, n;
	char *out;
	size_t rowsz; /* bytes of out per row */
	int what;
	int *rc; /* per task */
};

/* Encode and score rows [a, a + m) of the run with work space X (m x p). */
static int run_some(const struct run *R, size_t a, size_t m, double *X, struct ml_err *e)
{
	struct ml_learner *l = R->l;
	void *out = R->out + a * R->rowsz;
	int rc;

	rc = ml_learn_encode(l, R->b, l->bcol, l->bmap, R->rows ? R->rows + a : NULL, R->from + a, m, X, m,
		    NULL, e);
	if (rc < 0)
		return rc;
	if (R->what == LEAVES)
		return l->algo->leaves(l->state, X, m, m, out, e);
	if (R->what == CONTRIB)
		return l->algo->contrib(l->state, X, m, m, out, e);
	return l->algo->predict(l->state, X, m, m, out, R->what == SCORE_RAW, e);
}

static void run_task(void *arg, size_t t, int worker)
{
	const struct run *R = arg;
	size_t a = t * TASK_ROWS, m = R->n - a < TASK_ROWS ? R->n - a : TASK_ROWS;

	R->rc[t] = run_some(R, a, m, R->l->scratch + (size_t)worker * TASK_ROWS * (size_t)R->l->p,
			    NULL);
}

static int run_rows(struct ml_learner *l, const struct ml_block *b, const size_t *rows,
		    size_t from, size_t n, void *out, int what, struct ml_err *e)
{
	struct run R;
	int workers = l->pool && (l->algo->flags & ML_ALGO_ROWWISE) ? ml_pool_size(l->pool) : 1;
	size_t ntask = (n + TASK_ROWS - 1) / TASK_ROWS, t, need;
	int rc;

	if (!l->bound)
		return ml_err_set(e, ML_E_INTERNAL, NULL, 0, 0, "learner is not bound to an input");
	if (n == 0)
		return 0;
	if ((rc = sync_maps(l, e)) < 0)
		return rc;
	memset(&R, 0, sizeof(R));
	R.l = l;
	R.b = b;
	R.rows = rows;
	R.from = from;
	R.n = n;
	R.out = out;
	R.what = what;
	if (what == LEAVES)
		R.rowsz = (size_t)l->algo->ntrees(l->state) * sizeof(int32_t);
	else if (what == CONTRIB)
		R.rowsz = (size_t)ml_learner_nout(l, 1) * (size_t)(l->p + 1) * sizeof(double);
	else
		R.rowsz = (size_t)ml_learner_nout(l, what == SCORE_RAW) * sizeof(double);
	if (!(l->algo->flags & ML_ALGO_ROWWISE)) {
		/* The rows in one go. */
		workers = 0;
		need = n * (size_t)(l->p ? l->p : 1);
	} else {
		need = (size_t)workers * TASK_ROWS * (size_t)(l->p ? l->p : 1);
	}
	if (need > l->scratch_cap) {
		double *s = realloc(l->scratch, need * sizeof(double));
		if (!s)
			return ml_err_nomem(e);
		l->scratch = s;
		l->scratch_cap = need;
	}
	if (workers == 0)
		return run_some(&R, 0, n, l->scratch, e);
	if (workers == 1 || ntask == 1) {
		for (t = 0, rc = 0; t < ntask && rc == 0; t++)
			rc = run_some(&R, t * TASK_ROWS,
				      n - t * TASK_ROWS < TASK_ROWS ? n - t * TASK_ROWS : TASK_ROWS,
				      l->scratch, e);
		return rc;
	}
	if (!(R.rc = malloc(ntask * sizeof(int))))
		return ml_err_nomem(e);
	ml_pool_run(l->pool, ntask, run_task, &R);
	/* A failed task again on this thread, for its message. */
	for (t = 0, rc = 0; t < ntask && rc == 0; t++)
		if (R.rc[t] < 0)
			rc = run_some(&R, t * TASK_ROWS,
				      n - t * TASK_ROWS < TASK_ROWS ? n - t * TASK_ROWS : TASK_ROWS,
				      l->scratch, e);
	free(R.rc);
	return rc;
}

void ml_learner_set_pool(struct ml_learner *l, struct ml_pool *pool)
{
	l->pool = pool;
}

int ml_learner_predict(struct ml_learner *l, const struct ml_block *b, size_t from, size_t to,
		       double *out, int raw, struct ml_err *e)
{
	return predict_some(l, b, NULL, from, to > from ? to - from : 0, out, raw, e);
}

int ml_learner_predict_rows(struct ml_learner *l, const struct ml_block *b, const size_t *rows,
			    size_t n, double *out, int raw, struct ml_err *e)
{
	return predict_some(l, b, rows, 0, n, out, raw, e);
}
