/* Gradient boosted decision trees on quantized features (-a gbdt): second-order boosting
 * with XGBoost's regularised gain, histograms of gradient pairs over at most 255 bins
 * per feature, histogram subtraction, level-wise (depth-limited) or leaf-wise growth,
 * learned directions for missing values, native categorical splits, early stopping.
 *
 * Threads never change the result: rows are cut into chunks that depend on the row
 * count alone, each chunk sums into its own histogram, and the chunks are added in
 * order; partitions are stable. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gbdt.h"
#include "hist.h"
#include "ml/learn.h"
#include "tree.h"

/* Rows per task for row-wise passes (gradients, margin updates). */
#define ROW_TASK 65536
/* Above this many rows the training loss is computed every tenth round only. */
#define LOSS_EVERY_ROWS 100000
/* Feature blocks for reduction and split search. */
#define MAX_FBLOCKS 16

/* The fitted model. */
struct gbdt {
	int obj;
	int nclass; /* 0 for regression */
	double delta, alpha;
	int rounds;	/* rounds kept */
	int best_round; /* with early stopping: the best round (1-based), else 0 */
	struct ml_forest F;
	double *fitF;	/* the training rows' margins (n x K) from the fit, or NULL */
	size_t fitn;
};

static void gbdt_free(void *state)
{
	struct gbdt *g = state;

	if (!g)
		return;
	ml_forest_release(&g->F);
	free(g->fitF);
	free(g);
}

/* --- Row passes ---------------------------------------------------------------------------- */

/* The put-off margin updates of rows [a, z): each sampled row's slot value per class. */
static void apply_pending(struct gb *g, size_t a, size_t z)
{
	size_t i, n = g->n;
	int K = g->K, k;

#define APPLY_SLOTS(T)                                                                             \
	do {                                                                                       \
		const T *pos = (const T *)(const void *)(g->pos + (size_t)k * n);                  \
		for (i = a; i < z; i++)                                                            \
			if (!g->insample || g->insample[i])                                        \
				F[i * (size_t)K] += v[pos[i]];                                     \
	} while (0)
	for (k = 0; k < K; k++) {
		const double *v = g->pv + (size_t)k * (size_t)g->npv;
		double *F = g->F + k;
		if (g->narrow[k])
			APPLY_SLOTS(uint8_t);
		else
			APPLY_SLOTS(uint32_t);
	}
#undef APPLY_SLOTS
}

static void apply_task(void *arg, size_t t, int worker)
{
	struct gb *g = arg;
	size_t a = t * ROW_TASK, z = a + ROW_TASK < g->n ? a + ROW_TASK : g->n;

	(void)worker;
	apply_pending(g, a, z);
}

/* Every row in the tree, in order: the root's rows. */
static void iota_task(void *arg, size_t t, int worker)
{
	struct gb *g = arg;
	size_t a = t * ROW_TASK, z = a + ROW_TASK < g->n ? a + ROW_TASK : g->n, i;

	(void)worker;
	for (i = a; i < z; i++)
		g->idx[i] = (uint32_t)i;
}

/* Rows of a gradient pass handled together, the margins' pending updates first: their
 * margins are still in cache for the gradients. */
#define GRAD_SUB 4096

static void grad_task(void *arg, size_t t, int worker)
{
	struct gb *g = arg;
	size_t a = t * ROW_TASK, z = a + ROW_TASK < g->n ? a + ROW_TASK : g->n, i;
	int K = g->K, k, obj = g->obj;
	const double *y = g->d->y, *w = g->d->w;
	double ls = 0;

	(void)worker;
	if (g->pend && obj != OBJ_LOGISTIC)
		apply_pending(g, a, z);
	if (obj == OBJ_SOFTMAX) {
		for (i = a; i < z; i++) {
			double wi = w ? w[i] : 1;
			float gh[512];
			double l = ml_gbdt_softmax_gh(g->F + i * (size_t)K, K, (int)y[i], wi, gh);
			for (k = 0; k < K; k++) {
				float *o = g->gh + (size_t)k * 2 * g->n + 2 * i;
				o[0] = gh[2 * k];
				o[1] = gh[2 * k + 1];
			}
			if (g->want_loss)
				ls += wi * l;
		}
	} else if (obj == OBJ_LOGISTIC) {
		size_t s0;
		for (s0 = a; s0 < z; s0 += GRAD_SUB) {
			size_t s1 = s0 + GRAD_SUB < z ? s0 + GRAD_SUB : z, m = (s1 - s0) / 8 * 8;
			if (g->pend)
				apply_pending(g, s0, s1);
			ml_gbdt_logistic_pass(g->F + s0, y + s0, w ? w + s0 : NULL, g->gh + 2 * s0,
					      m, g->avx2);
			for (i = s0 + m; i < s1; i++)
				ml_gbdt_logistic_gh(g->F[i], y[i], w ? w[i] : 1, g->gh + 2 * i);
		}
		if (g->want_loss)
			for (i = a; i < z; i++) {
				double f = g->F[i], wi = w ? w[i] : 1;
				ls += wi * ((f > 0 ? f : 0) + log1p(exp(-fabs(f))) - y[i] * f);
			}
	} else {
		for (i = a; i < z; i++) {
			double gg, hh, wi = w ? w[i] : 1;
			ml_gbdt_grad1(obj, g->F[i], y[i], g->delta, g->alpha, &gg, &hh);
			g->gh[2 * i] = (float)(wi * gg);
			g->gh[2 * i + 1] = (float)(wi * hh);
			if (g->want_loss)
				ls +=
				    wi * ml_gbdt_loss1(obj, g->F + i, 1, y[i], g->delta, g->alpha);
		}
	}
	g->loss[t] = ls;
	if (g->ghsum)
		/* The sums sum_task would make of this chunk, while the pairs are in cache. */
		for (k = 0; k < K; k++) {
			const float *q = g->gh + (size_t)k * 2 * g->n;
			double G = 0, H = 0;
			for (i = a; i < z; i++) {
				G += q[2 * i];
				H += q[2 * i + 1];
			}
			g->ghsum[2 * ((size_t)t * (size_t)K + (size_t)k)] = G;
			g->ghsum[2 * ((size_t)t * (size_t)K + (size_t)k) + 1] = H;
		}
}

/* Sums of (g, h) of the rows in the tree, in fixed chunks. */
struct sumjob {
	struct gb *g;
	double *part;
};

static void sum_task(void *arg, size_t t, int worker)
{
	struct sumjob *J = arg;
	struct gb *g = J->g;
	size_t a = t * ROW_TASK, z = a + ROW_TASK < g->nidx ? a + ROW_TASK : g->nidx, k;
	double G = 0, H = 0;

	(void)worker;
	for (k = a; k < z; k++) {
		uint32_t i = g->idx[k];
		G += g->ghk[2 * (size_t)i];
		H += g->ghk[2 * (size_t)i + 1];
	}
	J->part[2 * t] = G;
	J->part[2 * t + 1] = H;
}

/* Margin updates: leaves' rows by position, rows out of the sample by walking the tree. */
struct upd {
	struct gb *g;
	const struct ml_tnode *nd;
	const uint32_t *bits;
	int k; /* margin */
	/* leaf tasks */
	const int *leaf; /* per task: the g->nodes index of a deferred parent, or -1 */
	const size_t *la, *lz;
	const uint32_t *slot; /* per task: the slots (a deferred parent: left, right) */
	/* raw-row tasks */
	const double *const *col;
	size_t n;
	double *out;
	const unsigned char *skip;
};

static void upd_leaf_task(void *arg, size_t t, int worker)
{
	struct upd *U = arg;
	const uint32_t *idx = U->g->idx;
	uint32_t sl = U->slot[2 * t], sr = U->slot[2 * t + 1];
	size_t k;

	(void)worker;
	/* Each row's leaf slot: its margin is added by the next gradient pass. */
#define SET_SLOTS(T)                                                                               \
	do {                                                                                       \
		T *pos = (T *)(void *)(U->g->pos + (size_t)U->k * U->g->n);                        \
		if (U->leaf[t] >= 0) {                                                             \
			const struct gnode *nd = &U->g->nodes[U->leaf[t]];                         \
			const uint8_t *C = U->g->bins->C + (size_t)nd->sp.feat * U->g->n;          \
			for (k = U->la[t]; k < U->lz[t]; k++) {                                    \
				uint32_t i = idx[k];                                               \
				if (k + UPD_AHEAD < U->lz[t])                                      \
					__builtin_prefetch(C + idx[k + UPD_AHEAD]);                \
				pos[i] = (T)(nd->lut[C[i]] ? sl : sr);                             \
			}                                                                          \
		} else {                                                                           \
			for (k = U->la[t]; k < U->lz[t]; k++)                                      \
				pos[idx[k]] = (T)sl;                                               \
		}                                                                                  \
	} while (0)
	if (U->g->narrow[U->k])
		SET_SLOTS(uint8_t);
	else
		SET_SLOTS(uint32_t);
#undef SET_SLOTS
}

static void upd_raw_task(void *arg, size_t t, int worker)
{
	struct upd *U = arg;
	size_t a = t * ROW_TASK, z = a + ROW_TASK < U->n ? a + ROW_TASK : U->n, i;
	int K = U->g->K;

	(void)worker;
	for (i = a; i < z; i++) {
		if (U->skip && U->skip[i])
			continue;
		U->out[i * (size_t)K + (size_t)U->k] +=
		    U->nd[ml_tree_leafc(U->nd, U->bits, U->col, i)].thr;
	}
}

/* Weighted alpha-quantile of v[0..n) with weights w (sorted in place together). */
static int cmp_pair(const void *a, const void *b)
{
	const double *x = a, *y = b;
	return (x[0] > y[0]) - (x[0] < y[0]);
}

static double wquantile(double *vw, size_t n, double alpha)
{
	double W = 0, c = 0;
	size_t i;

	if (n == 0)
		return 0;
	qsort(vw, n, 2 * sizeof(double), cmp_pair);
	for (i = 0; i < n; i++)
		W += vw[2 * i + 1];
	for (i = 0; i < n; i++) {
		c += vw[2 * i + 1];
		if (c >= alpha * W)
			return vw[2 * i];
	}
	return vw[2 * (n - 1)];
}

/* The progress line of round r (1-based): the training loss from the last gradient pass,
 * which saw the margins after r rounds. */
static void progress(struct ml_ctx *ctx, struct gb *g, int r, int rounds, double W,
		     double vmetric)
{
	char line[256] = "";
	int len = 0;
	size_t nrt = (g->n + ROW_TASK - 1) / ROW_TASK, t;
	double s = 0;

	if (!ctx || !ctx->progress)
		return;
	if (g->want_loss) {
		for (t = 0; t < nrt; t++)
			s += g->loss[t];
		g->last_loss = ml_gbdt_metric_of(g->obj, s, W);
	}
	/* on many rows measured every tenth round: the last figure stays in between */
	if (g->last_loss == g->last_loss)
		len += snprintf(line, sizeof(line), "train-%s %.5f", ml_gbdt_metric_name[g->obj],
				g->last_loss);
	if (vmetric == vmetric)
		snprintf(line + len, sizeof(line) - (size_t)len, "%svalid-%s %.5f", len ? " " : "",
			 ml_gbdt_metric_name[g->obj], vmetric);
	ml_progress(ctx, r, rounds, "rounds", "%s", line);
}

/* --- Fit ------------------------------------------------------------------------------------ */

/* Room for n slot values per class in G->pv, class k's tree being the one that asks; the
 * values of the classes before it in the round are kept. */
static int grow_slots(struct gb *g, int k, size_t n)
{
	double *q;
	int kk;

	if (n <= g->npv)
		return 0;
	q = malloc((size_t)g->K * n * sizeof(double));
	if (!q)
		return -1;
	for (kk = 0; kk < k; kk++)
		memcpy(q + (size_t)kk * n, g->pv + (size_t)kk * g->npv, g->npv * sizeof(double));
	free(g->pv);
	g->pv = q;
	g->npv = n;
	return 0;
}

/* Resolve *obj (auto: by the target) and check the options against the data. 0, or a
 * negative ML_E_* code. */
static int fit_check(const struct ml_data *d, const struct ml_data *valid, int *obj, int early,
		     struct ml_err *e)
{
	size_t i;

	if (*obj == OBJ_AUTO)
		*obj = d->nclass == 0 ? OBJ_SQUARED : d->nclass == 2 ? OBJ_LOGISTIC : OBJ_SOFTMAX;
	if (d->nclass == 0 && (*obj == OBJ_LOGISTIC || *obj == OBJ_SOFTMAX))
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "--objective %s needs a classification target",
				  ml_gbdt_obj_name[*obj]);
	if (d->nclass > 0 && *obj != OBJ_LOGISTIC && *obj != OBJ_SOFTMAX)
		return ml_err_set(
		    e, ML_E_USAGE, NULL, 0, 0,
		    "--objective %s needs a numeric target to regress (--task regress)",
		    ml_gbdt_obj_name[*obj]);
	if (d->nclass == 2 && *obj == OBJ_SOFTMAX)
		return ml_err_set(
		    e, ML_E_USAGE, NULL, 0, 0,
		    "--objective softmax needs more than two classes (two use logistic)");
	if (d->nclass > 2 && *obj == OBJ_LOGISTIC)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "--objective logistic needs two classes (more use softmax)");
	if (d->nclass > 256)
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "gbdt: at most 256 classes (%d here)",
				  d->nclass);
	if (early > 0 && !valid)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "--early-stop needs validation rows (--valid or --valid-frac)");
	if (d->n > UINT32_MAX)
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "gbdt: at most %u rows", UINT32_MAX);
	if (*obj == OBJ_POISSON) {
		double s = 0;
		for (i = 0; i < d->n; i++) {
			if (!(d->y[i] >= 0))
				return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
						  "--objective poisson needs targets >= 0");
			s += (d->w ? d->w[i] : 1) * d->y[i];
		}
		if (!(s > 0))
			return ml_err_set(
			    e, ML_E_DATA, NULL, 0, 0,
			    "--objective poisson needs a target with a positive mean");
	}
	return 0;
}

/* The options of a fit on d with objective obj into G. 0, or ML_E_USAGE. */
static int fit_options(struct gb *G, const struct ml_data *d, const struct ml_params *hp,
		       struct ml_ctx *ctx, int obj, struct ml_err *e)
{
	G->d = d;
	G->n = d->n;
	G->p = d->p;
	G->K = obj == OBJ_SOFTMAX ? d->nclass : 1;
	G->obj = obj;
	G->eta = ml_param(hp, "learning-rate");
	G->lambda = ml_param(hp, "l2");
	G->l1 = ml_param(hp, "l1");
	G->gamma = ml_param(hp, "min-gain");
	G->mcw = ml_param(hp, "min-child-weight");
	G->delta = ml_param(hp, "huber-delta");
	G->alpha = obj == OBJ_ABSOLUTE ? 0.5 : ml_param(hp, "alpha");
	G->min_leaf = (int)ml_param(hp, "min-samples-leaf");
	G->max_depth = (int)ml_param(hp, "max-depth");
	G->max_leaves = (int)ml_param(hp, "max-leaves");
	if (G->max_leaves > 0 && !ml_param_given(hp, "max-depth"))
		G->max_depth = 0;
	if (G->max_leaves == 0 && G->max_depth == 0)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "--max-depth 0 (unlimited) needs --max-leaves");
	G->ES = G->min_leaf > 1 ? 4 : 2;
	G->refit = obj == OBJ_ABSOLUTE || obj == OBJ_QUANTILE;
#ifdef HAVE_PASS8
	G->avx2 = __builtin_cpu_supports("avx2");
#endif
	G->pool = ctx ? ctx->pool : NULL;
	G->nfb = d->p < MAX_FBLOCKS ? (d->p > 0 ? d->p : 1) : MAX_FBLOCKS;
	return 0;
}

/* G's buffers, its options and bins set; nrt row tasks. 0, or -1 when out of memory (what was
 * allocated is G's to release). */
static int fit_alloc(struct gb *G, const struct ml_data *valid, double subsample, size_t nrt)
{
	const struct ml_data *d = G->d;
	int K = G->K, k;

	G->hlen = (size_t)G->bins->total * (size_t)G->ES;
	G->nkb = ml_pool_size(G->pool);
	G->kb = calloc((size_t)G->nkb, sizeof(*G->kb));
	if (!G->kb)
		return -1;
	for (k = 0; k < G->nkb; k++) {
		G->kb[k].rows = malloc(BLOCK_ROWS * (((size_t)d->p + 7) / 8 * 8 + 8));
		G->kb[k].gh = aligned_alloc(16, BLOCK_ROWS * sizeof(v2d));
		if (!G->kb[k].rows || !G->kb[k].gh)
			return -1;
	}
	G->F = ml_alloc_big((d->n ? d->n : 1) * (size_t)K * sizeof(double));
	G->gh = ml_alloc_big((d->n ? d->n : 1) * 2 * (size_t)K * sizeof(float));
	G->idx = ml_alloc_big((d->n ? d->n : 1) * sizeof(uint32_t));
	G->loss = calloc(nrt ? nrt : 1, sizeof(double));
	if (subsample >= 1)
		G->ghsum = calloc((nrt ? nrt : 1) * 2 * (size_t)K, sizeof(double));
	G->fon = malloc((size_t)(d->p ? d->p : 1));
	if (subsample < 1)
		G->insample = malloc(d->n ? d->n : 1);
	G->pos = ml_alloc_big((d->n ? d->n : 1) * (size_t)K * sizeof(uint32_t));
	/* With one tree a round the leaf slots are spent (by the next gradient pass) before
	 * the next tree partitions its rows, so the partitions' scratch can be theirs. */
	G->tmp = K == 1 ? G->pos : ml_alloc_big((d->n ? d->n : 1) * sizeof(uint32_t));
	G->narrow = calloc((size_t)K, 1);
	if (valid) {
		G->vF = malloc((valid->n ? valid->n : 1) * (size_t)K * sizeof(double));
	}
	if (!G->F || !G->gh || !G->idx || !G->tmp || !G->loss || !G->fon ||
	    (subsample >= 1 && !G->ghsum) || (subsample < 1 && !G->insample) || !G->pos ||
	    !G->narrow || (valid && !G->vF))
		return -1;
	return 0;
}

/* Free what fit_alloc, the growing and the partials P hold. */
static void fit_release(struct gb *G, struct partials *P)
{
	int k;

	for (k = 0; k < P->cap; k++)
		free(P->buf[k]);
	free(P->buf);
	for (k = 0; k < G->nhall; k++)
		free(G->hall[k]);
	free(G->hall);
	free(G->hfree);
	free(G->nodes);
	free(G->bt);
	free(G->border);
	free(G->pt);
	free(G->pairs);
	free(G->bres);
	free(G->F);
	free(G->gh);
	free(G->idx);
	if (G->tmp != G->pos)
		free(G->tmp);
	free(G->loss);
	free(G->ghsum);
	free(G->fon);
	free(G->insample);
	free(G->pos);
	free(G->narrow);
	free(G->pv);
	free(G->vF);
	for (k = 0; G->kb && k < G->nkb; k++) {
		free(G->kb[k].rows);
		free(G->kb[k].gh);
	}
	free(G->kb);
	ml_tree_release(&G->tree);
}

/* The starting margins, the best constant, into the model's base and the training and
 * validation margins; *W: the sum of the row weights. 0, or a negative ML_E_* code. */
static int fit_start(struct gb *G, struct gbdt *mod, const struct ml_data *valid, double *Wsum,
		     struct ml_err *e)
{
	const struct ml_data *d = G->d;
	int obj = G->obj, K = G->K, k;
	double W = 0;
	size_t i;

	for (i = 0; i < d->n; i++)
		W += d->w ? d->w[i] : 1;
	if (!(W > 0))
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "gbdt: the row weights sum to zero");
	if (obj == OBJ_SOFTMAX) {
		double *pri = mod->F.base;
		for (i = 0; i < d->n; i++)
			pri[(int)d->y[i]] += d->w ? d->w[i] : 1;
		for (k = 0; k < K; k++)
			pri[k] = log(fmax(pri[k] / W, 1e-15));
	} else if (obj == OBJ_LOGISTIC || obj == OBJ_SQUARED || obj == OBJ_POISSON) {
		double s = 0;
		for (i = 0; i < d->n; i++)
			s += (d->w ? d->w[i] : 1) * d->y[i];
		s /= W;
		if (obj == OBJ_LOGISTIC) {
			s = fmin(fmax(s, 1e-15), 1 - 1e-15);
			mod->F.base[0] = log(s / (1 - s));
		} else {
			mod->F.base[0] = obj == OBJ_POISSON ? log(s) : s;
		}
	} else {
		double *vw = malloc(2 * (d->n ? d->n : 1) * sizeof(double));
		if (!vw)
			return ml_err_nomem(e);
		for (i = 0; i < d->n; i++) {
			vw[2 * i] = d->y[i];
			vw[2 * i + 1] = d->w ? d->w[i] : 1;
		}
		mod->F.base[0] = wquantile(vw, d->n, obj == OBJ_QUANTILE ? G->alpha : 0.5);
		free(vw);
	}
	for (i = 0; i < d->n; i++)
		for (k = 0; k < K; k++)
			G->F[i * (size_t)K + (size_t)k] = mod->F.base[k];
	if (valid)
		for (i = 0; i < valid->n; i++)
			for (k = 0; k < K; k++)
				G->vF[i * (size_t)K + (size_t)k] = mod->F.base[k];
	*Wsum = W;
	return 0;
}

/* A round's rows (with row sampling) and its ncol features (perm: room for p), drawn from
 * rng. */
static void fit_sample(struct gb *G, struct ml_rng *rng, double subsample, int ncol, int *perm)
{
	const struct ml_data *d = G->d;
	size_t i;

	if (subsample < 1) {
		G->nidx = 0;
		for (i = 0; i < d->n; i++) {
			G->insample[i] = ml_rng_uniform(rng) < subsample;
			if (G->insample[i])
				G->idx[G->nidx++] = (uint32_t)i;
		}
	}
	memset(G->fon, ncol == d->p, (size_t)d->p);
	if (ncol < d->p) {
		int j;
		for (j = 0; j < d->p; j++)
			perm[j] = j;
		for (j = 0; j < ncol; j++) {
			int q = j + (int)ml_rng_below(rng, (uint64_t)(d->p - j)), x = perm[j];
			perm[j] = perm[q];
			perm[q] = x;
			G->fon[perm[j]] = 1;
		}
	}
}

/* Class k's rows in the tree, in row order, and the sums of their (g, h) into *Gs, *Hs:
 * without row sampling every row, whose sums the gradient pass made by chunks; else the
 * round's sample, summed in fixed chunks. 0, or -1 when out of memory. */
static int fit_rows(struct gb *G, int k, double subsample, size_t nrt, double *Gs, double *Hs)
{
	const struct ml_data *d = G->d;
	int K = G->K;
	size_t i, t;

	G->ghk = G->gh + (size_t)k * 2 * d->n;
	if (subsample >= 1) {
		G->nidx = d->n;
		ml_pool_run(G->pool, nrt, iota_task, G);
	} else if (k > 0) {
		/* The same rows for every class's tree, in row order. */
		G->nidx = 0;
		for (i = 0; i < d->n; i++)
			if (G->insample[i])
				G->idx[G->nidx++] = (uint32_t)i;
	}
	if (G->ghsum) {
		/* Every row: the gradient pass summed its own chunks. */
		for (t = 0; t < nrt; t++) {
			*Gs += G->ghsum[2 * (t * (size_t)K + (size_t)k)];
			*Hs += G->ghsum[2 * (t * (size_t)K + (size_t)k) + 1];
		}
	} else {
		struct sumjob SJ;
		double *part =
		    malloc(2 * ((G->nidx + ROW_TASK - 1) / ROW_TASK + 1) * sizeof(double));
		if (!part)
			return -1;
		SJ.g = G;
		SJ.part = part;
		ml_pool_run(G->pool, (G->nidx + ROW_TASK - 1) / ROW_TASK, sum_task, &SJ);
		for (t = 0; t < (G->nidx + ROW_TASK - 1) / ROW_TASK; t++) {
			*Gs += part[2 * t];
			*Hs += part[2 * t + 1];
		}
		free(part);
	}
	return 0;
}

/* A refitted leaf's value (absolute, quantile): the weighted quantile of its rows' residuals,
 * times eta, into *v. 0, or -1 when out of memory. */
static int leaf_quantile(const struct gb *G, const struct gnode *nd, double *v)
{
	const struct ml_data *d = G->d;
	size_t m = nd->hi - nd->lo, q;
	double *vw = malloc(2 * (m ? m : 1) * sizeof(double));

	if (!vw)
		return -1;
	for (q = 0; q < m; q++) {
		uint32_t row = G->idx[nd->lo + q];
		vw[2 * q] = d->y[row] - G->F[row];
		vw[2 * q + 1] = d->w ? d->w[row] : 1;
	}
	*v = G->eta * wquantile(vw, m, G->alpha);
	free(vw);
	return 0;
}

/* Leaf values of class k's tree just grown, and the leaf slots of its rows: each leaf's rows
 * (a deferred parent's rows at once, by the side they take) get a slot whose value the next
 * gradient pass adds to their margins. 0, or -1 when out of memory. */
static int fit_leaves(struct gb *G, int k)
{
	struct upd U;
	size_t nl = 0, nlt = 0, *la = NULL, *lz = NULL;
	int *lf = NULL, j, rc = -1;
	uint32_t *slot = NULL, ns = 0;

	/* Update tasks over the leaves' rows. */
	for (j = 0; j < G->nnodes; j++) {
		const struct gnode *nd = &G->nodes[j];
		int isleaf = G->tree.node[nd->tn].feat < 0;
		if ((isleaf && !nd->shared) || (!isleaf && nd->defer)) {
			nl++;
			nlt += (nd->hi - nd->lo + ROW_TASK - 1) / ROW_TASK;
		}
	}
	la = malloc((nlt + 1) * sizeof(size_t));
	lz = malloc((nlt + 1) * sizeof(size_t));
	lf = malloc((nlt + 1) * sizeof(int));
	slot = malloc(2 * (nlt + 1) * sizeof(uint32_t));
	G->narrow[k] = 2 * nl <= 256;
	if (!la || !lz || !lf || !slot || grow_slots(G, k, 2 * nl) < 0)
		goto out;
	nlt = 0;
	for (j = 0; j < G->nnodes; j++) {
		struct gnode *nd = &G->nodes[j];
		double v = 0, v2 = 0;
		size_t a;
		int isleaf = G->tree.node[nd->tn].feat < 0;
		if (isleaf && (G->obj == OBJ_ABSOLUTE || G->obj == OBJ_QUANTILE)) {
			if (leaf_quantile(G, nd, &v) < 0)
				goto out;
			G->tree.node[nd->tn].thr = v;
		} else if (isleaf) {
			v = G->eta * ml_gbdt_weight(G, nd->G, nd->H);
			G->tree.node[nd->tn].thr = v;
		}
		if (!(isleaf && !nd->shared) && !(!isleaf && nd->defer))
			continue;
		if (!isleaf) {
			/* Deferred: its children's values. */
			const struct gnode *L = &G->nodes[nd->kid], *R = L + 1;
			v = G->eta * ml_gbdt_weight(G, L->G, L->H);
			v2 = G->eta * ml_gbdt_weight(G, R->G, R->H);
		}
		G->pv[(size_t)k * G->npv + ns] = v;
		G->pv[(size_t)k * G->npv + ns + 1] = v2;
		for (a = nd->lo; a < nd->hi; a += ROW_TASK) {
			la[nlt] = a;
			lz[nlt] = a + ROW_TASK < nd->hi ? a + ROW_TASK : nd->hi;
			lf[nlt] = isleaf ? -1 : j;
			slot[2 * nlt] = ns;
			slot[2 * nlt + 1] = ns + 1;
			nlt++;
		}
		ns += 2;
	}
	memset(&U, 0, sizeof(U));
	U.g = G;
	U.k = k;
	U.la = la;
	U.lz = lz;
	U.leaf = lf;
	U.slot = slot;
	ml_pool_run(G->pool, nlt, upd_leaf_task, &U);
	G->pend = 1;
	rc = 0;
out:
	free(la);
	free(lz);
	free(lf);
	free(slot);
	return rc;
}

/* The margins that walk class k's tree, the model's last: the training rows out of the
 * round's sample, and the validation rows. */
static void fit_walk(struct gb *G, const struct gbdt *mod, int k, const struct ml_data *valid,
		     double subsample, size_t nrt)
{
	struct upd U;

	memset(&U, 0, sizeof(U));
	U.g = G;
	U.k = k;
	U.nd = mod->F.node + mod->F.start[mod->F.ntrees - 1];
	U.bits = mod->F.bits;
	if (subsample < 1) {
		U.col = G->d->col;
		U.n = G->d->n;
		U.out = G->F;
		U.skip = G->insample;
		ml_pool_run(G->pool, nrt, upd_raw_task, &U);
	}
	if (valid) {
		U.col = valid->col;
		U.n = valid->n;
		U.out = G->vF;
		U.skip = NULL;
		ml_pool_run(G->pool, (valid->n + ROW_TASK - 1) / ROW_TASK, upd_raw_task, &U);
	}
}

/* Class k's tree of a round, added to the model with its margin updates. 0, or a negative
 * ML_E_* code. */
static int fit_tree(struct gb *G, struct partials *P, struct gbdt *mod, int k,
		    const struct ml_data *valid, double subsample, size_t nrt, struct ml_err *e)
{
	double Gs = 0, Hs = 0;
	int rc;

	if (fit_rows(G, k, subsample, nrt, &Gs, &Hs) < 0 || ml_gbdt_grow_tree(G, P, Gs, Hs) < 0 ||
	    fit_leaves(G, k) < 0)
		return ml_err_nomem(e);
	if ((rc = ml_forest_add(&mod->F, &G->tree, e)) < 0)
		return rc;
	fit_walk(G, mod, k, valid, subsample, nrt);
	return 0;
}

/* The validation loss of the margins G->vF, as its metric. */
static double valid_metric(const struct gb *G, const struct ml_data *valid)
{
	double s = 0, vw = 0;
	size_t i;

	for (i = 0; i < valid->n; i++) {
		double wi = valid->w ? valid->w[i] : 1;
		s += wi * ml_gbdt_loss1(G->obj, G->vF + i * (size_t)G->K, G->K, valid->y[i],
					G->delta, G->alpha);
		vw += wi;
	}
	return ml_gbdt_metric_of(G->obj, s, vw);
}

static int gbdt_fit(void **state, const struct ml_data *d, const struct ml_data *valid,
		    const struct ml_params *hp, struct ml_ctx *ctx, struct ml_err *e)
{
	struct gb G;
	struct gbdt *mod = NULL;
	struct ml_bins bins;
	struct partials P = {NULL, 0, 0};
	int obj = (int)ml_param(hp, "objective"), K, rounds = (int)ml_param(hp, "rounds");
	int early = (int)ml_param(hp, "early-stop"), r, k, rc = 0, best_round = 0;
	double subsample = ml_param(hp, "subsample"), colsample = ml_param(hp, "colsample");
	double best_metric = INFINITY, W = 0, vmetric = NAN;
	size_t nrt;
	int ncol, *perm = NULL, trained;

	memset(&G, 0, sizeof(G));
	G.last_loss = NAN;
	memset(&bins, 0, sizeof(bins));
	ml_tree_init(&G.tree);
	if ((rc = fit_check(d, valid, &obj, early, e)) < 0 ||
	    (rc = fit_options(&G, d, hp, ctx, obj, e)) < 0)
		return rc;
	K = G.K;
	rc = ml_bins_build(&bins, d, (int)ml_param(hp, "max-bin"), (int)ml_param(hp, "max-cat"),
			   ML_BINS_ROWS | ML_BINS_COLS, ctx ? ctx->seed : 0, G.pool, e);
	if (rc < 0)
		return rc;
	G.bins = &bins;
	nrt = (d->n + ROW_TASK - 1) / ROW_TASK;
	perm = malloc((size_t)(d->p ? d->p : 1) * sizeof(int));
	mod = calloc(1, sizeof(*mod));
	if (fit_alloc(&G, valid, subsample, nrt) < 0 || !perm || !mod) {
		rc = ml_err_nomem(e);
		goto out;
	}
	mod->obj = obj;
	mod->nclass = d->nclass;
	mod->delta = G.delta;
	mod->alpha = G.alpha;
	if ((rc = ml_forest_init(&mod->F, d->p, 1, K, 0, e)) < 0 ||
	    (rc = fit_start(&G, mod, valid, &W, e)) < 0)
		goto out;

	ncol = (int)floor(colsample * d->p + 0.5);
	if (ncol < 1)
		ncol = 1;
	if (ncol > d->p)
		ncol = d->p;
	for (r = 0; r < rounds; r++) {
		struct ml_rng rng;
		ml_rng_derive(&rng, ctx ? ctx->seed : 0, (uint64_t)r);
		/* The training loss rides on the gradient pass; on many rows only every tenth
		 * round, as its logarithms would cost more than the rest of the pass. */
		G.want_loss = ctx && ctx->log && ctx->progress &&
			      (d->n <= LOSS_EVERY_ROWS || r % 10 == 0);
		ml_pool_run(G.pool, nrt, grad_task, &G);
		G.pend = 0;
		if (r > 0)
			progress(ctx, &G, r, rounds, W, valid ? vmetric : NAN);
		fit_sample(&G, &rng, subsample, ncol, perm);
		for (k = 0; k < K; k++)
			if ((rc = fit_tree(&G, &P, mod, k, valid, subsample, nrt, e)) < 0)
				goto out;
		/* Early stopping on the validation loss. */
		if (valid) {
			vmetric = valid_metric(&G, valid);
			if (vmetric < best_metric) {
				best_metric = vmetric;
				best_round = r + 1;
			}
			if (early > 0 && r + 1 - best_round >= early) {
				r++;
				break;
			}
		}
	}
	if (G.pend) {
		ml_pool_run(G.pool, nrt, apply_task, &G);
		G.pend = 0;
	}
	/* The last round's line: its training loss needs one more pass. */
	G.want_loss = ctx && ctx->log && ctx->progress;
	if (r > 0 && G.want_loss) {
		ml_pool_run(G.pool, nrt, grad_task, &G);
		progress(ctx, &G, r, rounds, W, valid ? vmetric : NAN);
	}
	mod->rounds = mod->F.ntrees / K;
	trained = mod->F.ntrees;
	if (early > 0 && best_round > 0) {
		ml_forest_truncate(&mod->F, best_round * K);
		mod->rounds = best_round;
		mod->best_round = best_round;
		ml_log(ctx, ML_LOG_INFO, "gbdt: best round %d of %d (valid-%s %.6g)", best_round, r,
		       ml_gbdt_metric_name[obj], best_metric);
	}
	if ((rc = ml_forest_finish(&mod->F, e)) < 0)
		goto out;
	/* The training margins are the model's own scores of those rows unless early
	 * stopping dropped trees after them. */
	if (mod->F.ntrees == trained) {
		mod->fitF = G.F;
		mod->fitn = d->n;
		G.F = NULL;
	}
	*state = mod;
	mod = NULL;
out:
	gbdt_free(mod);
	fit_release(&G, &P);
	free(perm);
	ml_bins_release(&bins);
	return rc;
}

/* --- Predict, save, load, tables ------------------------------------------------------------ */

/* Margins to what predict gives: probabilities (in place, out[i * nclass + k]) or the
 * Poisson mean. */
static void to_scores(const struct gbdt *g, double *out, size_t n)
{
	int K = ml_forest_nmargin(&g->F), k;
	size_t i;

	if (g->obj == OBJ_LOGISTIC) {
		for (i = n; i-- > 0;) {
			double pr = ml_gbdt_sigmoid(out[i]);
			out[2 * i + 1] = pr;
			out[2 * i] = 1 - pr;
		}
	} else if (g->obj == OBJ_SOFTMAX) {
		for (i = 0; i < n; i++) {
			double *o = out + i * (size_t)K, zmax = o[0], s = 0;
			for (k = 1; k < K; k++)
				if (o[k] > zmax)
					zmax = o[k];
			for (k = 0; k < K; k++) {
				o[k] = exp(o[k] - zmax);
				s += o[k];
			}
			for (k = 0; k < K; k++)
				o[k] /= s;
		}
	} else if (g->obj == OBJ_POISSON) {
		for (i = 0; i < n; i++)
			out[i] = exp(out[i]);
	}
}

static int gbdt_predict(const void *state, const double *X, size_t n, size_t ld, double *out,
			int raw, struct ml_err *e)
{
	const struct gbdt *g = state;

	(void)e;
	ml_forest_margins(&g->F, X, n, ld, out);
	if (!raw)
		to_scores(g, out, n);
	return 0;
}

static int gbdt_fitted(void *state, double *out, int raw)
{
	struct gbdt *g = state;

	if (!g->fitF)
		return 0;
	memcpy(out, g->fitF, g->fitn * (size_t)ml_forest_nmargin(&g->F) * sizeof(double));
	if (!raw)
		to_scores(g, out, g->fitn);
	free(g->fitF);
	g->fitF = NULL;
	return 1;
}

static int gbdt_ntrees(const void *state)
{
	return ((const struct gbdt *)state)->F.ntrees;
}

static int gbdt_leaves(const void *state, const double *X, size_t n, size_t ld, int32_t *out,
		       struct ml_err *e)
{
	(void)e;
	ml_forest_leaves(&((const struct gbdt *)state)->F, X, n, ld, out);
	return 0;
}

static int gbdt_contrib(const void *state, const double *X, size_t n, size_t ld, double *out,
			struct ml_err *e)
{
	const struct gbdt *g = state;
	return ml_forest_contrib(&g->F, X, n, ld, 0, g->F.ngroup, out, e);
}

static int gbdt_save(const void *state, struct ml_model *m, struct ml_err *e)
{
	const struct gbdt *g = state;
	struct ml_wbuf b;
	cJSON *meta = ml_model_meta(m);
	int rc;

	ml_wbuf_init(&b);
	ml_wbuf_u32(&b, 1);
	ml_wbuf_u32(&b, (uint32_t)g->obj);
	ml_wbuf_u32(&b, (uint32_t)g->nclass);
	ml_wbuf_f64(&b, g->delta);
	ml_wbuf_f64(&b, g->alpha);
	ml_wbuf_u32(&b, (uint32_t)g->rounds);
	ml_wbuf_u32(&b, (uint32_t)g->best_round);
	if (b.err) {
		ml_wbuf_release(&b);
		return ml_err_nomem(e);
	}
	rc = ml_model_add(m, "gbdt.model", b.p, b.n, e);
	ml_wbuf_release(&b);
	if (rc < 0)
		return rc;
	if (meta) {
		int bad = 0;
		ml_json_str(&bad, meta, "objective", ml_gbdt_obj_name[g->obj]);
		ml_json_num(&bad, meta, "rounds_used", g->rounds);
		if (g->best_round)
			ml_json_num(&bad, meta, "best_round", g->best_round);
		if (bad)
			return ml_err_nomem(e);
	}
	return ml_forest_save(&g->F, m, "gbdt.forest", e);
}

static int gbdt_load(void **state, const struct ml_model *m, const struct ml_data *shape,
		     struct ml_err *e)
{
	struct gbdt *g = calloc(1, sizeof(*g));
	const void *data;
	size_t len;
	struct ml_rbuf b;
	uint32_t ver;
	int rc, want;

	*state = NULL;
	if (!g)
		return ml_err_nomem(e);
	if ((rc = ml_model_get(m, "gbdt.model", &data, &len, e)) < 0) {
		free(g);
		return rc;
	}
	ml_rbuf_init(&b, data, len);
	ver = ml_rbuf_u32(&b);
	g->obj = (int)ml_rbuf_u32(&b);
	g->nclass = (int)ml_rbuf_u32(&b);
	g->delta = ml_rbuf_f64(&b);
	g->alpha = ml_rbuf_f64(&b);
	g->rounds = (int)ml_rbuf_u32(&b);
	g->best_round = (int)ml_rbuf_u32(&b);
	if (b.err || ver != 1 || b.off != b.n || g->obj <= OBJ_AUTO || g->obj >= OBJ_COUNT ||
	    g->nclass != shape->nclass || (g->obj == OBJ_LOGISTIC) != (shape->nclass == 2) ||
	    (g->obj == OBJ_SOFTMAX) != (shape->nclass > 2)) {
		free(g);
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				  "model section 'gbdt.model' is malformed");
	}
	if ((rc = ml_forest_load(&g->F, m, "gbdt.forest", shape->p, e)) < 0) {
		free(g);
		return rc;
	}
	want = g->obj == OBJ_SOFTMAX ? g->nclass : 1;
	if (g->F.nout != 1 || g->F.ngroup != want || g->F.average) {
		gbdt_free(g);
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				  "model section 'gbdt.forest' does not fit "
				  "the model");
	}
	*state = g;
	return 0;
}

static const char *const gbdt_tables[] = {"importance", "tree", NULL};

/* Features by total gain, largest first (ties in feature order). */
static int importance_table(const struct ml_forest *F, const struct ml_data *shape,
			    struct ml_frame *out, struct ml_err *e)
{
	double *gain = malloc((size_t)(F->p ? F->p : 1) * 3 * sizeof(double)), *cover, *splits;
	int *ord = malloc((size_t)(F->p ? F->p : 1) * sizeof(int)), j, i, rc;

	if (!gain || !ord) {
		free(gain);
		free(ord);
		return ml_err_nomem(e);
	}
	cover = gain + F->p;
	splits = cover + F->p;
	ml_forest_importance(F, gain, cover, splits);
	for (j = 0; j < F->p; j++) {
		int x = j;
		for (i = j; i > 0 && gain[ord[i - 1]] < gain[x]; i--)
			ord[i] = ord[i - 1];
		ord[i] = x;
	}
	if (ml_schema_add(&out->schema, "feature", ML_CAT) < 0 ||
	    ml_schema_add(&out->schema, "gain", ML_NUM) < 0 ||
	    ml_schema_add(&out->schema, "splits", ML_NUM) < 0 ||
	    ml_schema_add(&out->schema, "cover", ML_NUM) < 0)
		goto nomem;
	if ((rc = ml_block_init(&out->rows, &out->schema, (size_t)(F->p ? F->p : 1), e)) < 0)
		goto fail;
	for (i = 0; i < F->p; i++) {
		const char *nm = shape->names ? shape->names[ord[i]] : "?";
		int32_t c = ml_dict_intern(&out->schema.cols[0].dict, nm, strlen(nm));
		if (c < 0)
			goto nomem;
		out->rows.col[0].cat[i] = c;
		out->rows.col[1].num[i] = gain[ord[i]];
		out->rows.col[2].num[i] = splits[ord[i]];
		out->rows.col[3].num[i] = cover[ord[i]];
	}
	out->rows.nrow = (size_t)F->p;
	free(gain);
	free(ord);
	return 0;
nomem:
	rc = ml_err_nomem(e);
fail:
	free(gain);
	free(ord);
	ml_frame_release(out);
	return rc;
}

static int gbdt_table(const void *state, const char *name, const struct ml_data *shape,
		      struct ml_frame *out, struct ml_err *e)
{
	const struct gbdt *g = state;

	if (strcmp(name, "tree") == 0)
		return ml_forest_table_tree(&g->F, shape, 1, out, e);
	return importance_table(&g->F, shape, out, e);
}

static const struct ml_param gbdt_params[] = {
    {"objective", ML_P_ENUM, OBJ_AUTO, 0, 0,
     "auto,logistic,softmax,squared-error,absolute-error,huber,quantile,poisson",
     "the loss: auto picks logistic (two classes), softmax (more) or squared-error"},
    {"rounds", ML_P_INT, 100, 1, 10000000, NULL, "boosting rounds (default 100)"},
    {"learning-rate", ML_P_REAL, 0.1, 1e-12, 1, NULL,
     "shrinkage eta of each tree's leaf values (default 0.1)"},
    {"max-depth", ML_P_INT, 6, 0, 64, NULL,
     "depth limit; growth is level-wise (default 6; 0: none, with --max-leaves)"},
    {"max-leaves", ML_P_INT, 0, 0, 1 << 20, NULL,
     "grow leaf-wise, best gain first, up to this many leaves (default 0: off)"},
    {"min-child-weight", ML_P_REAL, 1, 0, INFINITY, NULL,
     "least hessian sum in each child (default 1)"},
    {"min-samples-leaf", ML_P_INT, 1, 1, 1000000000, NULL,
     "least training rows in each child (default 1)"},
    {"l2", ML_P_REAL, 1, 0, INFINITY, NULL, "L2 penalty lambda on leaf values (default 1)"},
    {"l1", ML_P_REAL, 0, 0, INFINITY, NULL, "L1 penalty alpha on leaf values (default 0)"},
    {"min-gain", ML_P_REAL, 0, 0, INFINITY, NULL,
     "least loss reduction gamma for a split (default 0)"},
    {"subsample", ML_P_REAL, 1, 1e-9, 1, NULL, "fraction of rows drawn for each round (default 1)"},
    {"colsample", ML_P_REAL, 1, 1e-9, 1, NULL,
     "fraction of features drawn for each round (default 1)"},
    {"max-bin", ML_P_INT, 255, 2, 255, NULL, "bins per feature (default 255)"},
    {"max-cat", ML_P_INT, 64, 0, 255, NULL,
     "categorical features with more levels split as ordinal numbers (default 64)"},
    {"early-stop", ML_P_INT, 0, 0, 1000000000, NULL,
     "stop after N rounds without a better validation loss; keep the best (default 0: off)"},
    {"huber-delta", ML_P_REAL, 1, 1e-12, INFINITY, NULL,
     "huber: residuals beyond delta count linearly (default 1)"},
    {"alpha", ML_P_REAL, 0.5, 1e-9, 1 - 1e-9, NULL, "quantile: the quantile to fit (default 0.5)"},
    {0}};

const struct ml_algo ml_algo_gbdt = {
    .name = "gbdt",
    .summary = "gradient boosted trees on binned features, XGBoost-style (histograms)",
    .flags = ML_ALGO_CLASSIFY | ML_ALGO_REGRESS | ML_ALGO_NATIVE_CAT | ML_ALGO_MISSING |
	     ML_ALGO_ROWWISE,
    .params = gbdt_params,
    .fit = gbdt_fit,
    .predict = gbdt_predict,
    .fitted = gbdt_fitted,
    .save = gbdt_save,
    .load = gbdt_load,
    .tables = gbdt_tables,
    .table = gbdt_table,
    .free = gbdt_free,
    .ntrees = gbdt_ntrees,
    .leaves = gbdt_leaves,
    .contrib = gbdt_contrib,
};
