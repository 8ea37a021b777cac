/* Random forests (-a rf): CART trees on bootstrap samples of the rows, each split chosen
 * among mtry features drawn at random, their class proportions or means averaged. Tree t
 * draws from its own random stream (ml_rng_derive(seed, t)), so the forest does not
 * depend on the thread count. The out-of-bag rows give an accuracy or R^2 score and
 * permutation importances. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hist.h"
#include "ml/learn.h"
#include "tree.h"

/* Rows per out-of-bag scoring task. */
#define OOB_ROWS 4096
/* Rows the permutation importances are measured on at most. */
#define PERM_ROWS 10000
/* --importance, in the order of its choices. */
enum { IMPORTANCE_IMPURITY, IMPORTANCE_PERMUTATION };

struct rfjob {
	const struct ml_bins *b;
	const struct ml_data *d;
	struct ml_cart_opts o;
	uint64_t seed;
	struct ml_tree *trees;
	uint8_t *inbag; /* per tree: a bit per row */
	size_t nbytes;	/* bytes per tree's bits */
	struct ml_cart_ws **ws;
	uint32_t **cnt, **rows;
	double **wbuf;
	int *failed; /* per worker: out of memory */
	/* out-of-bag scoring */
	const struct ml_forest *F;
	double *osum; /* n x K sums of the out-of-bag trees' outputs */
	int *ocnt;
	/* permutation importances */
	const size_t *S; /* the rows */
	size_t ns;
	double *xbuf; /* per worker: p values */
	double *perm; /* per feature: the score with it permuted */
};

static int inbag(const struct rfjob *J, int t, size_t i)
{
	return (J->inbag[(size_t)t * J->nbytes + i / 8] >> (i % 8)) & 1;
}

static void tree_task(void *arg, size_t t, int worker)
{
	struct rfjob *J = arg;
	const struct ml_data *d = J->d;
	struct ml_rng rng;
	uint32_t *cnt = J->cnt[worker], *rows = J->rows[worker];
	double *w = J->wbuf[worker];
	uint8_t *bits = J->inbag + t * J->nbytes;
	size_t n = d->n, i, m = 0;

	ml_rng_derive(&rng, J->seed, (uint64_t)t);
	memset(cnt, 0, n * sizeof(uint32_t));
	for (i = 0; i < n; i++)
		cnt[ml_rng_below(&rng, n)]++;
	/* A drawn row is in the bag even at weight 0 (it then takes no part in the tree). */
	for (i = 0; i < n; i++) {
		double wi = d->w ? d->w[i] : 1;
		if (!cnt[i])
			continue;
		bits[i / 8] |= (uint8_t)(1u << (i % 8));
		if (wi > 0) {
			rows[m++] = (uint32_t)i;
			w[i] = wi * cnt[i];
		}
	}
	if (ml_cart_grow(&J->trees[t], J->b, d->y, w, rows, m, &J->o, &rng, J->ws[worker]) < 0)
		J->failed[worker] = 1;
}

/* The out-of-bag sums of rows [a, z). */
static void oob_task(void *arg, size_t task, int worker)
{
	struct rfjob *J = arg;
	const struct ml_forest *F = J->F;
	size_t n = J->d->n, a = task * OOB_ROWS, z = a + OOB_ROWS < n ? a + OOB_ROWS : n, i, m, x;
	int t, K = F->nout, k;
	uint32_t rows[OOB_ROWS];
	int32_t leaf[OOB_ROWS];

	(void)worker;
	/* Tree by tree (each row's sum still in tree order), its out-of-bag rows together. */
	for (t = 0; t < F->ntrees; t++) {
		const struct ml_tnode *nd = F->node + F->start[t];
		for (i = a, m = 0; i < z; i++)
			if (!inbag(J, t, i))
				rows[m++] = (uint32_t)i;
		ml_forest_leaves_of(F, t, J->d->col, rows, m, leaf);
		for (x = 0; x < m; x++) {
			double *s = J->osum + rows[x] * (size_t)K;
			if (K == 1)
				s[0] += nd[leaf[x]].thr;
			else
				for (k = 0; k < K; k++)
					s[k] += F->val[nd[leaf[x]].left + k];
			J->ocnt[rows[x]]++;
		}
	}
}

/* Accuracy or R^2 of the out-of-bag outputs pred of rows rows[i] (NULL: row i), over
 * those with a count cnt[i] > 0: pred and cnt are indexed by i. */
static double oob_score(const struct ml_data *d, const double *pred, const int *cnt,
			const size_t *rows, size_t nr, int K)
{
	size_t i, m = 0;
	double hit = 0, sy = 0, sse = 0, sst = 0, mean;

	for (i = 0; i < nr; i++) {
		size_t r = rows ? rows[i] : i;
		const double *q = pred + i * (size_t)K;
		int k, best = 0;
		if (!cnt[i])
			continue;
		m++;
		if (K > 1) {
			for (k = 1; k < K; k++)
				if (q[k] > q[best])
					best = k;
			hit += best == (int)d->y[r];
		} else {
			sy += d->y[r];
		}
	}
	if (m == 0)
		return NAN;
	if (K > 1)
		return hit / (double)m;
	mean = sy / (double)m;
	for (i = 0; i < nr; i++) {
		size_t r = rows ? rows[i] : i;
		double q = pred[i];
		if (!cnt[i])
			continue;
		sse += (d->y[r] - q) * (d->y[r] - q);
		sst += (d->y[r] - mean) * (d->y[r] - mean);
	}
	return sst > 0 ? 1 - sse / sst : NAN;
}

/* Feature j permuted among the rows S: their out-of-bag score. */
static void perm_task(void *arg, size_t task, int worker)
{
	struct rfjob *J = arg;
	const struct ml_forest *F = J->F;
	const struct ml_data *d = J->d;
	int j = (int)task, p = d->p, K = F->nout, t, f, k;
	double *x = J->xbuf + (size_t)worker * (size_t)(p + K + 1), *acc = x + p;
	size_t s, *ord = NULL;
	struct ml_rng rng;
	double *pred = NULL;
	int *cnt = NULL;

	ord = malloc((J->ns ? J->ns : 1) * sizeof(size_t));
	pred = malloc((J->ns ? J->ns : 1) * (size_t)K * sizeof(double));
	cnt = malloc((J->ns ? J->ns : 1) * sizeof(int));
	if (!ord || !pred || !cnt) {
		J->failed[worker] = 1;
		free(ord);
		free(pred);
		free(cnt);
		return;
	}
	for (s = 0; s < J->ns; s++)
		ord[s] = J->S[s];
	ml_rng_derive(&rng, J->seed ^ 0x7065726d75746cULL, (uint64_t)j);
	ml_rng_shuffle(&rng, ord, J->ns);
	for (s = 0; s < J->ns; s++) {
		size_t r = J->S[s];
		for (f = 0; f < p; f++)
			x[f] = d->col[f][r];
		x[j] = d->col[j][ord[s]];
		memset(acc, 0, (size_t)K * sizeof(double));
		cnt[s] = 0;
		for (t = 0; t < F->ntrees; t++) {
			const struct ml_tnode *nd = F->node + F->start[t];
			int32_t leaf;
			if (inbag(J, t, r))
				continue;
			leaf = ml_tree_leaf(nd, F->bits, x, 1, 0);
			if (K == 1)
				acc[0] += nd[leaf].thr;
			else
				for (k = 0; k < K; k++)
					acc[k] += F->val[nd[leaf].left + k];
			cnt[s]++;
		}
		for (k = 0; k < K; k++)
			pred[s * (size_t)K + (size_t)k] = cnt[s] ? acc[k] / cnt[s] : 0;
	}
	J->perm[j] = oob_score(d, pred, cnt, J->S, J->ns, K);
	free(ord);
	free(pred);
	free(cnt);
}

/* The CART options of a forest on d into o: criterion, depth and leaf limits, mtry. 0, or a
 * negative ML_E_* code. */
static int rf_options(struct ml_cart_opts *o, const struct ml_data *d, const struct ml_params *hp,
		      struct ml_err *e)
{
	int crit, K = d->nclass, mtry = (int)ml_param(hp, "mtry");

	crit = (int)ml_param(hp, "criterion") - 1;
	if (crit < 0)
		crit = K ? ML_CRIT_GINI : ML_CRIT_MSE;
	if (K && crit == ML_CRIT_MSE)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "--criterion squared-error needs a numeric target to regress");
	if (!K && crit != ML_CRIT_MSE)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "--criterion %s needs a classification target",
				  crit == ML_CRIT_GINI ? "gini" : "entropy");
	if (K > 64)
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "rf: at most 64 classes (%d here)", K);
	if (d->n > UINT32_MAX)
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "rf: at most %u rows", UINT32_MAX);
	if (mtry <= 0)
		mtry = K ? (int)floor(sqrt((double)d->p)) : d->p / 3;
	if (mtry < 1)
		mtry = 1;
	if (mtry > d->p)
		mtry = d->p;
	o->crit = crit;
	o->K = K;
	o->max_depth = (int)ml_param(hp, "max-depth");
	o->min_split = (int)ml_param(hp, "min-samples-split");
	o->min_leaf = (int)ml_param(hp, "min-samples-leaf");
	o->mtry = mtry;
	o->ccp_alpha = 0;
	o->raw = NULL; /* bins only: the forest's speed over exactness */
	return 0;
}

/* The job's trees, bags and per-worker scratch for ntrees trees on nw workers. 0, or -1 when
 * out of memory (what was allocated is rf_release's to free). */
static int rf_alloc(struct rfjob *J, int ntrees, int nw)
{
	size_t n = J->d->n;
	int t, w;

	J->nbytes = (n + 7) / 8;
	J->trees = calloc((size_t)ntrees, sizeof(*J->trees));
	J->inbag = calloc((size_t)ntrees * J->nbytes + 1, 1);
	J->ws = calloc((size_t)nw, sizeof(*J->ws));
	J->cnt = calloc((size_t)nw, sizeof(*J->cnt));
	J->rows = calloc((size_t)nw, sizeof(*J->rows));
	J->wbuf = calloc((size_t)nw, sizeof(*J->wbuf));
	J->failed = calloc((size_t)nw, sizeof(*J->failed));
	if (!J->trees || !J->inbag || !J->ws || !J->cnt || !J->rows || !J->wbuf || !J->failed)
		return -1;
	for (w = 0; w < nw; w++) {
		J->ws[w] = ml_cart_ws_new(J->b, J->o.K);
		J->cnt[w] = malloc((n ? n : 1) * sizeof(uint32_t));
		J->rows[w] = malloc((n ? n : 1) * sizeof(uint32_t));
		J->wbuf[w] = malloc((n ? n : 1) * sizeof(double));
		if (!J->ws[w] || !J->cnt[w] || !J->rows[w] || !J->wbuf[w])
			return -1;
	}
	for (t = 0; t < ntrees; t++)
		ml_tree_init(&J->trees[t]);
	return 0;
}

/* Free what rf_alloc and the scoring made. */
static void rf_release(struct rfjob *J, int ntrees, int nw)
{
	int t, w;

	if (J->trees)
		for (t = 0; t < ntrees; t++)
			ml_tree_release(&J->trees[t]);
	free(J->trees);
	free(J->inbag);
	for (w = 0; w < nw; w++) {
		if (J->ws)
			ml_cart_ws_free(J->ws[w]);
		if (J->cnt)
			free(J->cnt[w]);
		if (J->rows)
			free(J->rows[w]);
		if (J->wbuf)
			free(J->wbuf[w]);
	}
	free(J->ws);
	free(J->cnt);
	free(J->rows);
	free(J->wbuf);
	free(J->failed);
	free(J->osum);
	free(J->ocnt);
	free(J->xbuf);
}

/* Grow the trees on the pool and gather them into the model's forest. 0, or a negative
 * ML_E_* code. */
static int rf_grow(struct rfjob *J, struct ml_cf *mod, int ntrees, int nw, struct ml_ctx *ctx,
		   struct ml_err *e)
{
	int t, w, rc;

	ml_pool_run(ctx ? ctx->pool : NULL, (size_t)ntrees, tree_task, J);
	for (w = 0; w < nw; w++)
		if (J->failed[w])
			return ml_err_nomem(e);
	if ((rc = ml_forest_init(&mod->F, J->d->p, J->o.K ? J->o.K : 1, 1, 1, e)) < 0)
		return rc;
	for (t = 0; t < ntrees; t++) {
		if ((rc = ml_forest_add(&mod->F, &J->trees[t], e)) < 0)
			return rc;
		ml_tree_release(&J->trees[t]);
		ml_log(ctx, ML_LOG_PROGRESS, "tree %d/%d", t + 1, ntrees);
	}
	return ml_forest_finish(&mod->F, e);
}

/* The out-of-bag outputs of every row (J->osum, means over J->ocnt trees) and their score.
 * 0, or -1 when out of memory. */
static int rf_oob(struct rfjob *J, struct ml_cf *mod, struct ml_pool *pool)
{
	size_t n = J->d->n, i;
	int KK = J->o.K ? J->o.K : 1, k;

	J->F = &mod->F;
	J->osum = calloc((n ? n : 1) * (size_t)KK, sizeof(double));
	J->ocnt = calloc(n ? n : 1, sizeof(int));
	if (!J->osum || !J->ocnt)
		return -1;
	ml_pool_run(pool, (n + OOB_ROWS - 1) / OOB_ROWS, oob_task, J);
	for (i = 0; i < n; i++)
		if (J->ocnt[i])
			for (k = 0; k < KK; k++)
				J->osum[i * (size_t)KK + (size_t)k] /= J->ocnt[i];
	mod->oob = oob_score(J->d, J->osum, J->ocnt, NULL, n, KK);
	return 0;
}

/* Permutation importances on up to PERM_ROWS rows with out-of-bag trees, drawn with the
 * seed: the out-of-bag score's drop with each feature permuted. 0, or -1 when out of
 * memory. */
static int rf_permutation(struct rfjob *J, struct ml_cf *mod, struct ml_pool *pool, int nw)
{
	const struct ml_data *d = J->d;
	size_t n = d->n, i, *S = malloc((n ? n : 1) * sizeof(size_t)), ns = 0;
	int KK = J->o.K ? J->o.K : 1, k, t, w, rc = -1;
	double base, *pred = NULL;
	struct ml_rng rng;
	int *c2 = NULL;

	if (!S)
		return -1;
	for (i = 0; i < n; i++)
		if (J->ocnt[i])
			S[ns++] = i;
	if (ns > PERM_ROWS) {
		ml_rng_derive(&rng, J->seed ^ 0x7065726d75746cULL, UINT64_MAX);
		ml_rng_shuffle(&rng, S, ns);
		ns = PERM_ROWS;
		/* Back to row order for memory locality. */
		for (i = 1; i < ns; i++) {
			size_t x = S[i], q = i;
			while (q > 0 && S[q - 1] > x) {
				S[q] = S[q - 1];
				q--;
			}
			S[q] = x;
		}
	}
	pred = malloc((ns ? ns : 1) * (size_t)KK * sizeof(double));
	c2 = malloc((ns ? ns : 1) * sizeof(int));
	mod->perm = malloc((size_t)(d->p ? d->p : 1) * sizeof(double));
	J->xbuf = malloc((size_t)nw * (size_t)(d->p + KK + 1) * sizeof(double));
	if (!pred || !c2 || !mod->perm || !J->xbuf)
		goto out;
	for (i = 0; i < ns; i++) {
		for (k = 0; k < KK; k++)
			pred[i * (size_t)KK + (size_t)k] = J->osum[S[i] * (size_t)KK + (size_t)k];
		c2[i] = J->ocnt[S[i]];
	}
	base = oob_score(d, pred, c2, S, ns, KK);
	J->S = S;
	J->ns = ns;
	J->perm = mod->perm;
	ml_pool_run(pool, (size_t)d->p, perm_task, J);
	for (t = 0; t < d->p; t++)
		mod->perm[t] = base - mod->perm[t];
	rc = 0;
	for (w = 0; w < nw; w++)
		if (J->failed[w])
			rc = -1;
out:
	free(S);
	free(c2);
	free(pred);
	return rc;
}

static int rf_fit(void **state, const struct ml_data *d, const struct ml_data *valid,
		  const struct ml_params *hp, struct ml_ctx *ctx, struct ml_err *e)
{
	struct rfjob J;
	struct ml_bins bins;
	struct ml_cf *mod = NULL;
	struct ml_pool *pool = ctx ? ctx->pool : NULL;
	int ntrees = (int)ml_param(hp, "trees"), nw = ml_pool_size(pool), rc = 0;

	(void)valid;
	memset(&J, 0, sizeof(J));
	memset(&bins, 0, sizeof(bins));
	if ((rc = rf_options(&J.o, d, hp, e)) < 0)
		return rc;
	J.seed = ctx ? ctx->seed : 0;
	J.d = d;
	rc = ml_bins_build(&bins, d, (int)ml_param(hp, "max-bin"), (int)ml_param(hp, "max-cat"),
			   ML_BINS_COLS, J.seed, pool, e);
	if (rc < 0)
		return rc;
	J.b = &bins;
	mod = calloc(1, sizeof(*mod));
	if (rf_alloc(&J, ntrees, nw) < 0 || !mod)
		goto nomem;
	mod->oob = NAN;
	mod->nclass = d->nclass;
	if ((rc = rf_grow(&J, mod, ntrees, nw, ctx, e)) < 0)
		goto out;
	if (rf_oob(&J, mod, pool) < 0)
		goto nomem;
	if (mod->oob == mod->oob && (int)ml_param(hp, "importance") == IMPORTANCE_PERMUTATION &&
	    rf_permutation(&J, mod, pool, nw) < 0)
		goto nomem;
	*state = mod;
	mod = NULL;
	goto out;
nomem:
	rc = ml_err_nomem(e);
out:
	ml_cf_free(mod);
	rf_release(&J, ntrees, nw);
	ml_bins_release(&bins);
	return rc;
}

static int rf_save(const void *state, struct ml_model *m, struct ml_err *e)
{
	return ml_cf_save(state, m, "rf", e);
}

static int rf_load(void **state, const struct ml_model *m, const struct ml_data *shape,
		   struct ml_err *e)
{
	struct ml_cf *c;
	int rc = ml_cf_load(&c, m, "rf", shape, e);

	*state = c;
	return rc;
}

static const char *const rf_tables[] = {"importance", "tree", NULL};

static int rf_table(const void *state, const char *name, const struct ml_data *shape,
		    struct ml_frame *out, struct ml_err *e)
{
	return ml_cf_table(state, name, shape, 0, out, e);
}

static const struct ml_param rf_params[] = {
    {"trees", ML_P_INT, 100, 1, 1000000, NULL, "trees in the forest (default 100)"},
    {"mtry", ML_P_INT, 0, 0, 1000000000, NULL,
     "features tried per split (default 0: sqrt(p) to classify, p/3 to regress)"},
    {"max-depth", ML_P_INT, 0, 0, 100000, NULL, "depth limit (default 0: none)"},
    {"min-samples-split", ML_P_INT, 2, 2, 1000000000, NULL,
     "least rows in a node to split it (default 2)"},
    {"min-samples-leaf", ML_P_INT, 1, 1, 1000000000, NULL, "least rows in each child (default 1)"},
    {"criterion", ML_P_ENUM, 0, 0, 0, "auto,gini,entropy,squared-error",
     "split quality: auto is gini to classify, squared-error to regress"},
    {"max-bin", ML_P_INT, 255, 2, 255, NULL,
     "bins per feature; features with fewer distinct values split exactly (default 255)"},
    {"max-cat", ML_P_INT, 64, 0, 255, NULL,
     "categorical features with more levels split as ordinal numbers (default 64)"},
    {"importance", ML_P_ENUM, 0, 0, 0, "impurity,permutation",
     "importances kept: impurity, or permutation as well (out of bag; slower)"},
    {0}};

const struct ml_algo ml_algo_rf = {
    .name = "rf",
    .summary = "random forest: bootstrap CART trees with random feature subsets",
    .flags = ML_ALGO_CLASSIFY | ML_ALGO_REGRESS | ML_ALGO_NATIVE_CAT | ML_ALGO_MISSING |
	     ML_ALGO_ROWWISE,
    .params = rf_params,
    .fit = rf_fit,
    .predict = ml_cf_predict,
    .save = rf_save,
    .load = rf_load,
    .tables = rf_tables,
    .table = rf_table,
    .free = ml_cf_free,
    .ntrees = ml_cf_ntrees,
    .leaves = ml_cf_leaves,
    .contrib = ml_cf_contrib,
};
