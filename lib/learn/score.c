/* Scoring: a predictor binds a learner to an input schema by name and scores blocks of
 * rows, on the thread pool for algorithms that score row by row. */
#include <stdlib.h>
#include <string.h>

#include "learn_int.h"

struct ml_predictor {
	const struct ml_learner *l;
	const struct ml_schema *bound;
	int *bcol;	      /* per feature: its input column */
	int32_t **bmap;	      /* per categorical feature: input code -> level index */
	int32_t *bmapn;	      /* codes mapped so far */
	double *scratch;      /* encoded rows: TASK_ROWS a worker, or a whole block */
	size_t scratch_cap;
	struct ml_pool *pool; /* or NULL */
	int32_t *bopen;	      /* ML_ALGO_OPEN_CAT: per feature, unseen levels so far */
	void *stream;	      /* the algorithm's running state (stream_predict), or NULL */
};

static void unbind(struct ml_predictor *p)
{
	int j;

	if (p->bmap)
		for (j = 0; j < p->l->nfeat; j++)
			free(p->bmap[j]);
	free(p->bmap);
	free(p->bmapn);
	free(p->bopen);
	free(p->bcol);
	if (p->stream && p->l->algo->stream_free)
		p->l->algo->stream_free(p->stream);
	p->stream = NULL;
	p->bopen = NULL;
	p->bmap = NULL;
	p->bmapn = NULL;
	p->bcol = NULL;
	p->bound = NULL;
}

struct ml_predictor *ml_predictor_new(const struct ml_learner *l)
{
	struct ml_predictor *p = calloc(1, sizeof(*p));

	if (p)
		p->l = l;
	return p;
}

void ml_predictor_free(struct ml_predictor *p)
{
	if (!p)
		return;
	unbind(p);
	free(p->scratch);
	free(p);
}

void ml_predictor_set_pool(struct ml_predictor *p, struct ml_pool *pool)
{
	p->pool = pool;
}

int ml_predictor_bind(struct ml_predictor *p, const struct ml_schema *in, struct ml_err *e)
{
	const struct ml_learner *l = p->l;
	int j;

	unbind(p);
	p->bcol = malloc((size_t)(l->nfeat ? l->nfeat : 1) * sizeof(int));
	p->bmap = calloc((size_t)(l->nfeat ? l->nfeat : 1), sizeof(*p->bmap));
	p->bmapn = calloc((size_t)(l->nfeat ? l->nfeat : 1), sizeof(*p->bmapn));
	p->bopen = calloc((size_t)(l->nfeat ? l->nfeat : 1), sizeof(*p->bopen));
	if (!p->bcol || !p->bmap || !p->bmapn || !p->bopen) {
		unbind(p);
		return ml_err_nomem(e);
	}
	for (j = 0; j < l->nfeat; j++) {
		int c = ml_schema_find(in, l->feat[j].name);
		if (c < 0) {
			unbind(p);
			return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "no column '%s' (a feature of the model)",
					  l->feat[j].name);
		}
		if (in->cols[c].type != l->feat[j].type) {
			const char *want = l->feat[j].type == ML_NUM ? "numeric" : "categorical";
			unbind(p);
			return ml_err_set(e, ML_E_DATA, NULL, 0, c + 1,
					  "column '%s' is %s here but was %s in training%s",
					  l->feat[j].name,
					  l->feat[j].type == ML_NUM ? "categorical" : "numeric", want,
					  l->feat[j].type == ML_NUM ? " (see --num)" : " (see --cat)");
		}
		p->bcol[j] = c;
	}
	p->bound = in;
	return 0;
}

/* Extend the level maps to the input dictionaries, which grow as the input is read. */
static int sync_maps(struct ml_predictor *p, struct ml_err *e)
{
	const struct ml_learner *l = p->l;
	int j;

	for (j = 0; j < l->nfeat; j++) {
		const struct ml_dict *d;
		if (l->feat[j].type != ML_CAT)
			continue;
		d = &p->bound->cols[p->bcol[j]].dict;
		if (p->bmapn[j] < d->n) {
			int32_t *m = realloc(p->bmap[j], (size_t)d->n * sizeof(int32_t));
			int32_t c;
			if (!m)
				return ml_err_nomem(e);
			p->bmap[j] = m;
			for (c = p->bmapn[j]; c < d->n; c++) {
				m[c] = ml_dict_find(&l->feat[j].levels, d->str[c], d->len[c]);
				if (m[c] < 0 && (l->algo->flags & ML_ALGO_OPEN_CAT))
					m[c] = l->feat[j].levels.n + p->bopen[j]++;
			}
			p->bmapn[j] = d->n;
		}
	}
	return 0;
}

/* What run_rows asks of the algorithm: an enum ml_out, or one of these. */
enum { LEAVES = 16, CONTRIB };

/* Rows per scoring task: the answers never depend on how tasks meet threads. */
#define TASK_ROWS 4096

struct run {
	struct ml_predictor *p;
	const struct ml_block *b;
	const size_t *rows;
	size_t from, n;
	char *out;
	size_t rowsz; /* bytes of out per row */
	double *contrib; /* or NULL: with ML_OUT_VALUE, the contributions too (p + 1 a row) */
	int what;
	int *rc; /* per task */
};

/* Encode and score rows [a, a + m) of the run with work space X (m x p). */
static int run_some(const struct run *R, size_t a, size_t m, double *X, struct ml_err *e)
{
	const struct ml_learner *l = R->p->l;
	void *out = R->out + a * R->rowsz;
	double *con;
	int rc;

	rc = ml_learn_encode(l, R->b, R->p->bcol, R->p->bmap, R->rows ? R->rows + a : NULL,
			     R->from + a, m, X, m, NULL, e);
	if (rc < 0)
		return rc;
	if (R->what == LEAVES)
		return l->algo->leaves(l->state, X, m, m, out, e);
	if (R->what == CONTRIB)
		return l->algo->contrib(l->state, X, m, m, out, e);
	con = R->contrib ? R->contrib + a * (size_t)(l->p + 1) : NULL;
	if (R->what == ML_OUT_VALUE && l->algo->stream_predict)
		rc = l->algo->stream_predict(l->state, &R->p->stream, X, m, m, out, con, e);
	else
		rc = l->algo->predict(l->state, X, m, m, out, R->what, e);
	if (rc == 0 && con && !l->algo->stream_predict)
		rc = l->algo->contrib(l->state, X, m, m, con, e);
	if (rc < 0 && e && e->line < 0 && (size_t)(-e->line - 1) < m) {
		/* the algorithm named one of the rows (ML_ALGO_ROW) */
		size_t r = R->rows ? R->rows[a + (size_t)(-e->line - 1)]
				   : R->from + a + (size_t)(-e->line - 1);
		e->line = R->b->line ? R->b->line[r] : 0;
	}
	return rc;
}

static void run_task(void *arg, size_t t, int worker)
{
	const struct run *R = arg;
	size_t a = t * TASK_ROWS, m = R->n - a < TASK_ROWS ? R->n - a : TASK_ROWS;

	R->rc[t] = run_some(R, a, m,
			    R->p->scratch + (size_t)worker * TASK_ROWS * (size_t)R->p->l->p, NULL);
}

/* Encode rows and hand them to the algorithm for what is asked. */
static int run_rows(struct ml_predictor *p, const struct ml_block *b, const size_t *rows,
		    size_t from, size_t n, void *out, int what, double *contrib,
		    struct ml_err *e)
{
	const struct ml_learner *l = p->l;
	struct run R;
	int workers = p->pool && (l->algo->flags & ML_ALGO_ROWWISE) ? ml_pool_size(p->pool) : 1;
	size_t ntask = (n + TASK_ROWS - 1) / TASK_ROWS, t, need;
	int rc;

	if (!p->bound)
		return ml_err_set(e, ML_E_INTERNAL, NULL, 0, 0, "predictor is not bound to an input");
	if (n == 0)
		return 0;
	if ((rc = sync_maps(p, e)) < 0)
		return rc;
	memset(&R, 0, sizeof(R));
	R.p = p;
	R.b = b;
	R.rows = rows;
	R.from = from;
	R.n = n;
	R.out = out;
	R.what = what;
	R.contrib = contrib;
	if (what == LEAVES)
		R.rowsz = (size_t)l->algo->ntrees(l->state) * sizeof(int32_t);
	else if (what == CONTRIB)
		/* an unsupervised model's contributions are to its one score */
		R.rowsz = (size_t)(l->task == ML_TASK_UNSUPERVISED ? 1 :
								     ml_learner_nout(l, ML_OUT_MARGIN)) *
			  (size_t)(l->p + 1) * sizeof(double);
	else
		R.rowsz = (size_t)ml_learner_nout(l, (enum ml_out)what) * sizeof(double);
	if (!(l->algo->flags & ML_ALGO_ROWWISE)) {
		/* The rows in one go. */
		workers = 0;
		need = n * (size_t)(l->p ? l->p : 1);
	} else {
		need = (size_t)workers * TASK_ROWS * (size_t)(l->p ? l->p : 1);
	}
	if (need > p->scratch_cap) {
		double *s = realloc(p->scratch, need * sizeof(double));
		if (!s)
			return ml_err_nomem(e);
		p->scratch = s;
		p->scratch_cap = need;
	}
	if (workers == 0)
		return run_some(&R, 0, n, p->scratch, e);
	if (workers == 1 || ntask == 1) {
		for (t = 0, rc = 0; t < ntask && rc == 0; t++)
			rc = run_some(&R, t * TASK_ROWS,
				      n - t * TASK_ROWS < TASK_ROWS ? n - t * TASK_ROWS : TASK_ROWS,
				      p->scratch, e);
		return rc;
	}
	if (!(R.rc = malloc(ntask * sizeof(int))))
		return ml_err_nomem(e);
	ml_pool_run(p->pool, ntask, run_task, &R);
	/* A failed task again on this thread, for its message. */
	for (t = 0, rc = 0; t < ntask && rc == 0; t++)
		if (R.rc[t] < 0)
			rc = run_some(&R, t * TASK_ROWS,
				      n - t * TASK_ROWS < TASK_ROWS ? n - t * TASK_ROWS : TASK_ROWS,
				      p->scratch, e);
	free(R.rc);
	return rc;
}

/* ML_E_USAGE unless the learner can give what. */
static int can_give(const struct ml_learner *l, enum ml_out what, struct ml_err *e)
{
	if (ml_learner_nout(l, what) > 0)
		return 0;
	if (what == ML_OUT_DIST)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "-a %s models give no predictive standard deviation%s",
				  l->algo->name,
				  l->task == ML_TASK_REGRESS ? "" : " (it is for regression)");
	if (what == ML_OUT_EMBED)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "-a %s models learn no representation of a row to embed it "
				  "with (an -a autoencoder does)",
				  l->algo->name);
	return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "-a %s models give no margins",
			  l->algo->name);
}

int ml_predictor_predict(struct ml_predictor *p, const struct ml_block *b, size_t from,
			 size_t to, double *out, enum ml_out what, struct ml_err *e)
{
	int rc = can_give(p->l, what, e);

	return rc < 0 ? rc
		      : run_rows(p, b, NULL, from, to > from ? to - from : 0, out, what, NULL, e);
}

int ml_predictor_predict_rows(struct ml_predictor *p, const struct ml_block *b,
			      const size_t *rows, size_t n, double *out, enum ml_out what,
			      struct ml_err *e)
{
	int rc = can_give(p->l, what, e);

	return rc < 0 ? rc : run_rows(p, b, rows, 0, n, out, what, NULL, e);
}

int ml_predictor_leaves(struct ml_predictor *p, const struct ml_block *b, size_t from, size_t to,
			int32_t *out, struct ml_err *e)
{
	const struct ml_learner *l = p->l;

	if (!l->algo->leaves || !l->algo->ntrees)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "-a %s models have no trees",
				  l->algo->name);
	return run_rows(p, b, NULL, from, to > from ? to - from : 0, out, LEAVES, NULL, e);
}

int ml_predictor_contrib(struct ml_predictor *p, const struct ml_block *b, size_t from,
			 size_t to, double *out, struct ml_err *e)
{
	const struct ml_learner *l = p->l;

	if (!l->algo->contrib)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "-a %s models give no per-feature contributions", l->algo->name);
	return run_rows(p, b, NULL, from, to > from ? to - from : 0, out, CONTRIB, NULL, e);
}

int ml_predictor_score_contrib(struct ml_predictor *p, const struct ml_block *b, size_t from,
			       size_t to, double *out, double *contrib, struct ml_err *e)
{
	const struct ml_learner *l = p->l;

	if (l->task != ML_TASK_UNSUPERVISED || (!l->algo->contrib && !l->algo->stream_predict))
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "-a %s models give no per-feature contributions to a score",
				  l->algo->name);
	return run_rows(p, b, NULL, from, to > from ? to - from : 0, out, ML_OUT_VALUE, contrib,
			e);
}
