/* Multilayer perceptron (-a mlp): a dense network (nn.h), or with --arch
 * tabular-transformer attention over feature tokens (tf.c), trained by minibatch Adam,
 * AdamW or SGD on the cross-entropy (softmax for more than two classes, sigmoid for two)
 * or half the squared error, inputs standardised inside the model, categorical features
 * one-hot or embedded. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mlp.h"

#define MLP_VERSION 1
#define TF_VERSION 1
#define ENC_ROWS 32 /* rows encoded together, feature by feature, into the training set */

static const struct ml_param mlp_params[] = {
    {"hidden", ML_P_INT_LIST, 0, 1, 65536, "100", "hidden layer sizes (default 100)"},
    MLP_TRAIN_PARAMS,
    {"embed", ML_P_STRING, 0, 0, 0, "",
     "COL:DIM[,COL:DIM..]: learned embeddings of categorical features"},
    {"arch", ML_P_ENUM, ARCH_MLP, 0, 0, "mlp,tabular-transformer",
     "the network: dense layers, or attention over feature tokens"},
    {"layers", ML_P_INT, 3, 1, NN_TF_MAX_LAYERS, NULL, "tabular-transformer: blocks (default 3)"},
    {"heads", ML_P_INT, 8, 1, 64, NULL, "tabular-transformer: attention heads (default 8)"},
    {"dim", ML_P_INT, 64, 1, 1024, NULL,
     "tabular-transformer: token width, a multiple of --heads (default 64)"},
    {"attention-dropout", ML_P_REAL, 0, 0, 0.95, NULL,
     "tabular-transformer: fraction of attention weights dropped (default 0)"},
    {NULL, ML_P_REAL, 0, 0, 0, NULL, NULL}};

void mlp_free(void *state)
{
	struct mlp *m = state;

	if (!m)
		return;
	free(m->kind);
	free(m->first);
	free(m->ncat);
	free(m->emb);
	free(m->mean);
	free(m->sd);
	nn_free(m->net);
	free(m);
}

static int mlp_alloc(struct mlp *m, int p)
{
	size_t n = (size_t)p + 1;

	m->p = p;
	m->kind = calloc(n, sizeof(int));
	m->first = calloc(n, sizeof(int));
	m->ncat = calloc(n, sizeof(int));
	m->emb = calloc(n, sizeof(int));
	m->mean = calloc(n, sizeof(double));
	m->sd = calloc(n, sizeof(double));
	return m->kind && m->first && m->ncat && m->emb && m->mean && m->sd ? 0 : -1;
}

/* Feature j's values c of b rows into their inputs in (b rows of m->nin, zero where a
 * one-hot level is not set) and their embedding levels lev. */
static void encode_col(const struct mlp *m, int j, const double *c, size_t b, float *in,
		       int32_t *lev)
{
	size_t i, nin = (size_t)m->nin;
	int ne = m->net->nembed;
	float *x = in + m->first[j];

	if (m->kind[j] == IN_NUM) {
		double mu = m->mean[j], sd = m->sd[j];
		for (i = 0; i < b; i++)
			x[i * nin] = (float)((c[i] - mu) / sd);
		return;
	}
	for (i = 0; i < b; i++) {
		double v = c[i];
		int lv = v >= 0 && v < m->ncat[j] ? (int)v : -1;
		if (m->kind[j] == IN_ONEHOT) {
			if (lv >= 0)
				x[i * nin + (size_t)lv] = 1;
		} else {
			lev[i * (size_t)ne + (size_t)m->emb[j]] = lv;
		}
	}
}

void mlp_encode(const struct mlp *m, const double *X, size_t ld, size_t from, size_t b,
		struct nn_work *w, int32_t *lev)
{
	int j;

	memset(w->in, 0, b * (size_t)m->nin * sizeof(float));
	for (j = 0; j < m->p; j++)
		encode_col(m, j, X + (size_t)j * ld + from, b, w->in, lev);
}

/* Scores of b encoded rows from the outputs z: values, probabilities or margins. */
static void outputs(const struct mlp *m, const float *z, size_t b, int what, double *out)
{
	size_t i;
	int k = m->net->size[m->net->nlayer], c;

	for (i = 0; i < b; i++) {
		const float *zi = z + i * (size_t)k;
		if (m->nclass == 0) {
			out[i] = zi[0] * m->ysd + m->ymean;
		} else if (m->nclass == 2) {
			if (what == ML_OUT_MARGIN) {
				out[i] = zi[0];
			} else {
				double p = 1 / (1 + exp(-(double)zi[0]));
				out[2 * i] = 1 - p;
				out[2 * i + 1] = p;
			}
		} else if (what == ML_OUT_MARGIN) {
			for (c = 0; c < k; c++)
				out[i * (size_t)k + (size_t)c] = zi[c];
		} else {
			double mx = zi[0], s = 0;
			for (c = 1; c < k; c++)
				if (zi[c] > mx)
					mx = zi[c];
			for (c = 0; c < k; c++)
				s += exp(zi[c] - mx);
			for (c = 0; c < k; c++)
				out[i * (size_t)k + (size_t)c] = exp(zi[c] - mx) / s;
		}
	}
}

int mlp_check_rows(const struct mlp *m, const double *X, size_t n, size_t ld,
		   const char *algo, struct ml_err *e)
{
	size_t i;
	int j;

	for (j = 0; j < m->p; j++)
		if (m->kind[j] == IN_NUM)
			for (i = 0; i < n; i++)
				if (!isfinite(X[(size_t)j * ld + i]))
					return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
							  "-a %s cannot score a row with a missing "
							  "or infinite feature value",
							  algo);
	return 0;
}

/* Rows scored together: MLP_CHUNK, or for a transformer as many as keep its work space
 * (every block's activations for every token) within TF_WORK_MAX floats. */
#define TF_WORK_MAX ((size_t)8 << 20)
static size_t mlp_chunk(const struct mlp *m)
{
	size_t c = MLP_CHUNK;

	while (m->net->tf.on && c > 1 && nn_tf_work_floats(m->net, c) > TF_WORK_MAX)
		c /= 2;
	return c;
}

static int mlp_predict(const void *state, const double *X, size_t n, size_t ld, double *out,
		       int what, struct ml_err *e)
{
	const struct mlp *m = state;
	struct nn_work w;
	int32_t *lev = NULL;
	size_t s, ch = mlp_chunk(m);
	int ne = m->net->nembed, nout, rc;

	if ((rc = mlp_check_rows(m, X, n, ld, "mlp", e)) < 0)
		return rc;
	if (n == 0)
		return 0;
	if (nn_work_init(&w, m->net, ch) < 0)
		return ml_err_nomem(e);
	if (ne && !(lev = malloc(ch * (size_t)ne * sizeof(int32_t)))) {
		nn_work_release(&w);
		return ml_err_nomem(e);
	}
	nout = m->nclass == 0 || (m->nclass == 2 && what == ML_OUT_MARGIN) ? 1 : m->nclass;
	/* blocks of rows may come from several threads: each scores on one BLAS thread, so
	 * that scores do not depend on the thread counts */
	ml_blas_hold();
	for (s = 0; s < n; s += ch) {
		size_t b = n - s < ch ? n - s : ch;
		mlp_encode(m, X, ld, s, b, &w, lev);
		outputs(m, nn_infer(m->net, &w, b, lev), b, what, out + s * (size_t)nout);
	}
	ml_blas_release();
	free(lev);
	nn_work_release(&w);
	return 0;
}

/* --embed: "COL:DIM,..." against the feature names; dims into emb_dim (0: none). */
static int parse_embed(const char *spec, const struct ml_data *d, int *dim, struct ml_err *e)
{
	char buf[ML_PARAM_TEXT_MAX + 1], *s, *next;
	int j;

	snprintf(buf, sizeof(buf), "%s", spec);
	for (s = buf; s && *s; s = next) {
		char *colon, *end;
		long v;
		next = strchr(s, ',');
		if (next)
			*next++ = 0;
		colon = strrchr(s, ':');
		if (!colon)
			return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
					  "--embed '%s' is not COL:DIM", s);
		*colon = 0;
		v = strtol(colon + 1, &end, 10);
		if (*end || end == colon + 1 || v < 1 || v > 1024)
			return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
					  "--embed '%s': the dimension must be 1 to 1024", s);
		for (j = 0; j < d->p; j++)
			if (d->names && strcmp(d->names[j], s) == 0)
				break;
		if (j == d->p)
			return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
					  "--embed names '%s', which is no feature", s);
		if (!d->ncat || d->ncat[j] == 0)
			return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
					  "--embed names '%s', which is not categorical", s);
		dim[j] = (int)v;
	}
	return 0;
}

/* An autoencoder's targets: the b encoded input rows of w, as doubles into y. */
static void ae_targets(const struct mlp *m, const struct nn_work *w, size_t b, double *y)
{
	size_t i;

	for (i = 0; i < b * (size_t)m->nin; i++)
		y[i] = w->in[i];
}

/* The mean loss of rows [0, n) of data through the inference pass, in chunks; y the
 * targets, or for an autoencoder space for a chunk's (MLP_CHUNK x inputs). */
static double eval_loss(const struct mlp *m, const double *X, size_t ld, double *y,
			size_t n, const double *wt, struct nn_work *w, int32_t *lev, float *dz)
{
	size_t s, ch = mlp_chunk(m);
	double L = 0, W = 0;

	for (s = 0; s < n; s += ch) {
		size_t b = n - s < ch ? n - s : ch, i;
		double wb = 0;
		const float *z;
		mlp_encode(m, X, ld, s, b, w, lev);
		if (m->ae)
			ae_targets(m, w, b, y);
		z = nn_infer(m->net, w, b, lev);
		for (i = 0; i < b; i++)
			wb += wt ? wt[s + i] : 1;
		L += wb * nn_loss(m->net->loss, z, b, m->net->size[m->net->nlayer],
				  m->ae ? y : y + s, wt ? wt + s : NULL, 0, dz);
		W += wb;
	}
	return W > 0 ? L / W : 0;
}

static double clock_s(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double now_s(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

/* One Adam update of n parameters with step a (the bias corrections folded in):
 * elementwise, so vectorised it gives the same values. */
NN_CLONES static void adam_step(float *restrict th, const float *restrict g, float *restrict mom,
		      float *restrict vel, size_t n, float a)
{
	size_t q;

#pragma omp simd
	for (q = 0; q < n; q++) {
		mom[q] = 0.9f * mom[q] + 0.1f * g[q];
		vel[q] = 0.999f * vel[q] + 0.001f * g[q] * g[q];
		th[q] -= a * mom[q] / (sqrtf(vel[q]) + 1e-8f);
	}
}

/* One step of SGD with momentum fm and learning rate fl over n parameters. */
NN_CLONES static void sgd_step(float *restrict th, const float *restrict g, float *restrict mom,
		     size_t n, float fm, float fl)
{
	size_t q;

#pragma omp simd
	for (q = 0; q < n; q++) {
		mom[q] = fm * mom[q] - fl * g[q];
		th[q] += mom[q];
	}
}

/* Data-parallel batches. A batch of b rows is cut into nshards(b) consecutive shards of
 * near-equal size, fixed by b alone (a power of two, each of at least SHARD_MIN rows, at
 * most MAX_SHARDS; for a transformer, whose rows are T tokens each, SHARD_MIN tokens):
 * each shard's forward and backward passes are one task, its matrix
 * products cblas_sgemm on the task's thread, into the shard's own gradient, and the
 * batch's gradient is their sum taken shard by shard in order. So the model does not
 * depend on the thread count, and every thread works on the whole step, not only on the
 * matrix products. With batch normalisation a batch is one shard: its statistics are the
 * whole batch's. */
#define SHARD_MIN 48
#define MAX_SHARDS 16
#define UPD_CHUNK 16384 /* parameters summed and updated per task */
#define ENC_BLOCK 1024	/* training rows encoded per task */

static int nshards(size_t b, size_t smin)
{
	int s = 1;

	while (smin && s < MAX_SHARDS && (size_t)s * 2 * smin <= b)
		s *= 2;
	return s;
}

/* The fewest rows of a shard (0: a batch is one shard). */
static size_t shard_min(const struct nn *net, int bn)
{
	size_t T = (size_t)net->tf.p + 1;

	if (bn)
		return 0;
	return net->tf.on ? (SHARD_MIN + T - 1) / T : SHARD_MIN;
}

/* One batch's step, shared by its tasks. */
struct step {
	struct mlp *m;
	struct nn_work *sw; /* per shard */
	float *dz;	    /* per shard: cap x outputs */
	int32_t *lev;	    /* per shard: cap x embeddings */
	size_t cap;
	const float *E;	      /* the encoded training rows */
	const int32_t *elev;  /* their embedding levels */
	const size_t *idx;    /* the batch's row numbers */
	double *by;	      /* the batch's targets (an autoencoder's: filled per shard) */
	const double *bw;     /* the batch's weights */
	int weighted;
	size_t b;
	int S;
	double W, loss[MAX_SHARDS];
	/* the update */
	float *mom, *vel, a, fm, fl, wd;
	int opt;
};

static size_t shard_row(const struct step *st, size_t k)
{
	return k * st->b / (size_t)st->S;
}

static void shard_task(void *arg, size_t t, int worker)
{
	struct step *st = arg;
	const struct mlp *m = st->m;
	struct nn *net = m->net;
	struct nn_work *w = &st->sw[t];
	size_t r0 = shard_row(st, t), nb = shard_row(st, t + 1) - r0, i, nin = (size_t)m->nin;
	size_t ne = (size_t)net->nembed, nout = (size_t)net->size[net->nlayer];
	int32_t *lev = ne ? st->lev + t * st->cap * ne : NULL;
	float *dz = st->dz + t * st->cap * nout;
	const double *y;

	(void)worker;
	for (i = 0; i < nb; i++) {
		size_t r = st->idx[r0 + i], q;
		/* the row after next on its way: rows are scattered, each a miss at its start */
		if (i + 2 < nb) {
			const char *nx = (const char *)(st->E + st->idx[r0 + i + 2] * nin);
			for (q = 0; q < nin * sizeof(float); q += 64)
				__builtin_prefetch(nx + q);
		}
		memcpy(w->in + i * nin, st->E + r * nin, nin * sizeof(float));
		if (ne)
			memcpy(lev + i * ne, st->elev + r * ne, ne * sizeof(int32_t));
	}
	if (m->ae) {
		ae_targets(m, w, nb, st->by + r0 * nout);
		y = st->by + r0 * nout;
	} else {
		y = st->by + r0;
	}
	st->loss[t] = nn_loss(net->loss, nn_forward(net, w, nb, lev, 1, NULL), nb, (int)nout, y,
			      st->weighted ? st->bw + r0 : NULL, st->W, dz);
	nn_backward(net, w, nb, lev, dz);
}

/* Parameters [t UPD_CHUNK, (t + 1) UPD_CHUNK): the shards' gradients summed in order
 * into the first's, the weight decay added, the optimiser's update. */
static void update_task(void *arg, size_t t, int worker)
{
	struct step *st = arg;
	struct nn *net = st->m->net;
	size_t q0 = t * UPD_CHUNK, q1 = q0 + UPD_CHUNK < net->ntheta ? q0 + UPD_CHUNK : net->ntheta;
	size_t q, n = q1 - q0;
	float *restrict g = st->sw[0].grad + q0, *th = net->theta + q0;
	int k, l;

	(void)worker;
	for (k = 1; k < st->S; k++) {
		const float *restrict gk = st->sw[k].grad + q0;
#pragma omp simd
		for (q = 0; q < n; q++)
			g[q] += gk[q];
	}
	/* weight decay on the weights: in the gradient (an L2 penalty), or with adamw
	 * decoupled from it, the weights shrunk by lr wd before Adam's step */
	for (l = 0; st->wd > 0 && l < net->nwr; l++) {
		size_t lo = net->wr[2 * l], hi = net->wr[2 * l + 1];
		float shrink = 1 - st->fl * st->wd;
		for (q = lo > q0 ? lo : q0; q < hi && q < q1; q++) {
			if (st->opt == OPT_ADAMW)
				net->theta[q] *= shrink;
			else
				g[q - q0] += st->wd * net->theta[q];
		}
	}
	if (st->opt != OPT_SGD)
		adam_step(th, g, st->mom + q0, st->vel + q0, n, st->a);
	else
		sgd_step(th, g, st->mom + q0, n, st->fm, st->fl);
}

/* The training rows' encoding, a block of rows per task. */
struct enc {
	struct mlp *m;
	const struct ml_data *d;
	float *E;
	int32_t *elev;
};

static void enc_task(void *arg, size_t t, int worker)
{
	const struct enc *en = arg;
	const struct ml_data *d = en->d;
	size_t n = d->n, nin = (size_t)en->m->nin, ne = (size_t)en->m->net->nembed, i;
	size_t end = (t + 1) * ENC_BLOCK < n ? (t + 1) * ENC_BLOCK : n;
	int j;

	(void)worker;
	memset(en->E + t * ENC_BLOCK * nin, 0, (end - t * ENC_BLOCK) * nin * sizeof(float));
	for (i = t * ENC_BLOCK; i < end; i += ENC_ROWS) {
		size_t b = end - i < ENC_ROWS ? end - i : ENC_ROWS;
		for (j = 0; j < d->p; j++)
			encode_col(en->m, j, (d->X ? d->X + (size_t)j * n : d->col[j]) + i, b,
				   en->E + i * nin, ne ? en->elev + i * ne : NULL);
	}
}

/* The mean and population standard deviation (1 for 0) of n values, as the model
 * standardises a feature or the target. */
static void mean_sd(const double *c, size_t n, double *mean, double *sd)
{
	double s = 0, q = 0;
	size_t i;

	for (i = 0; i < n; i++)
		s += c[i];
	s /= (double)n;
	for (i = 0; i < n; i++)
		q += (c[i] - s) * (c[i] - s);
	q = sqrt(q / (double)n);
	*mean = s;
	*sd = q > 0 ? q : 1;
}

/* A numeric feature's mean and standard deviation, a feature per task. */
static void stats_task(void *arg, size_t t, int worker)
{
	const struct enc *en = arg;
	const struct ml_data *d = en->d;
	struct mlp *m = en->m;
	const double *c = d->X ? d->X + t * d->n : d->col[t];

	(void)worker;
	if (!(d->ncat && d->ncat[t])) /* categorical: set by the layout */
		mean_sd(c, d->n, &m->mean[t], &m->sd[t]);
}

/* The network of m (its layout set) made a transformer: a token per feature, from its
 * input columns. */
static int tf_setup(struct mlp *m, int layers, int heads, int dim)
{
	int *width = malloc((size_t)m->p * sizeof(int)), j, rc;

	if (!width)
		return -1;
	for (j = 0; j < m->p; j++)
		width[j] = m->kind[j] == IN_NUM ? 1 : m->ncat[j];
	rc = nn_tf_setup(m->net, m->p, m->first, width, layers, heads, dim, 2 * dim);
	free(width);
	return rc;
}

int mlp_train(struct mlp **out, const struct ml_data *d, const struct ml_data *valid,
	      const struct ml_params *hp, const int *hidden, int nh, int ae, struct ml_ctx *ctx,
	      struct ml_err *e)
{
	struct mlp *m;
	struct nn_work w, *sw = NULL;
	struct step st;
	struct enc en;
	struct ml_pool *pool = ctx ? ctx->pool : NULL;
	struct ml_rng rng;
	struct nn_embed emb[64];
	double *Xv = NULL, *bufv = NULL, *y = NULL,
					    *yv = NULL, *bw = NULL, *by = NULL;
	int size[MLP_MAX_LAYERS + 2], dim[256], j, k, ne = 0, rc = 0, ep, nout;
	int epochs = (int)ml_param(hp, "epochs"), early = (int)ml_param(hp, "early-stop");
	int opt = (int)ml_param(hp, "optimizer"), sched = (int)ml_param(hp, "schedule");
	size_t n = d->n, i, bs = (size_t)ml_param(hp, "batch-size"), *idx = NULL, t = 0;
	double lr0 = ml_param(hp, "learning-rate"), mo = ml_param(hp, "momentum");
	double wd = ml_param(hp, "weight-decay"), best_loss = INFINITY, t0 = now_s();
	double c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID), t1 = t0, c_ep = c0;
	int32_t *lev = NULL, *elev = NULL;
	float *dz = NULL, *best = NULL, *E = NULL, *mom = NULL, *vel = NULL;
	const char *embed = ml_param_text(hp, "embed");
	int best_ep = 0, nsh = 0, bn = (int)ml_param(hp, "batch-norm"), blas = 0;
	int tfm = !ae && (int)ml_param(hp, "arch") == ARCH_TF;
	size_t cap = 0, ntask, smin;

	*out = NULL;
	memset(&w, 0, sizeof(w));
	memset(&st, 0, sizeof(st));
	if (!embed)
		embed = "";
	if (d->p > 256 && embed[0])
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "--embed takes data of at most 256 features");
	if (early > 0 && !valid)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "--early-stop needs validation rows (--valid or --valid-frac)");
	if (nh > MLP_MAX_LAYERS)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "--hidden takes at most %d layers",
				  MLP_MAX_LAYERS);
	if (tfm) {
		int heads = (int)ml_param(hp, "heads"), width = (int)ml_param(hp, "dim");
		const char *no = ml_param_given(hp, "hidden")	? "--hidden"
				 : embed[0]			? "--embed"
				 : bn				? "--batch-norm"
								: NULL;
		if (no)
			return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
					  "%s does not apply to --arch tabular-transformer (its "
					  "shape is --layers, --heads and --dim; categorical features "
					  "are tokens of their own)",
					  no);
		if (width % heads)
			return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
					  "--dim %d is not a multiple of --heads %d", width, heads);
	}
	if (!tfm && !ae) {
		static const char *const only[] = {"layers", "heads", "dim", "attention-dropout"};
		for (k = 0; k < 4; k++)
			if (ml_param_given(hp, only[k]))
				return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
						  "--%s applies to --arch tabular-transformer only",
						  only[k]);
	}
	if (bs > n)
		bs = n;
	m = calloc(1, sizeof(*m));
	if (!m || mlp_alloc(m, d->p) < 0) {
		mlp_free(m);
		return ml_err_nomem(e);
	}
	m->nclass = d->nclass;
	m->ae = ae;
	memset(dim, 0, sizeof(dim));
	if (d->p <= 256 && (rc = parse_embed(embed, d, dim, e)) < 0)
		goto out;
	en.m = m;
	en.d = d;
	ml_pool_run(pool, (size_t)d->p, stats_task, &en);
	/* the input layout and the standardisation of numeric features, from the columns as
	 * they are (the rows are encoded once below; a dense copy would be a third one) */
	for (j = 0; j < d->p; j++) {
		m->first[j] = m->nin;
		m->ncat[j] = d->ncat ? d->ncat[j] : 0;
		m->emb[j] = -1;
		if (m->ncat[j] != 0)
			m->sd[j] = 1;
		if (m->ncat[j] == 0) {
			m->kind[j] = IN_NUM; /* its mean and sd from stats_task */
			m->nin++;
		} else if (j < 256 && dim[j] > 0) {
			if (ne == 64) {
				rc = ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
						"--embed takes at most 64 features");
				goto out;
			}
			m->kind[j] = IN_EMBED;
			m->emb[j] = ne;
			emb[ne].col = m->nin;
			emb[ne].dim = dim[j];
			emb[ne].nlev = m->ncat[j];
			ne++;
			m->nin += dim[j];
		} else {
			m->kind[j] = IN_ONEHOT;
			m->nin += m->ncat[j];
		}
	}
	size[0] = m->nin;
	if (tfm)
		nh = 0;
	for (k = 0; k < nh; k++)
		size[k + 1] = hidden[k];
	size[nh + 1] = nout = ae ? m->nin : d->nclass > 2 ? d->nclass : 1;
	m->net = nn_new(nh + 1, size, (int)ml_param(hp, "activation"),
			bn, d->nclass > 2	? NN_SOFTMAX
			: d->nclass == 2 ? NN_SIGMOID
					 : NN_MSE,
			(float)ml_param(hp, "dropout"), ne, emb);
	if (!m->net || (tfm && tf_setup(m, (int)ml_param(hp, "layers"),
					(int)ml_param(hp, "heads"), (int)ml_param(hp, "dim")) < 0)) {
		rc = ml_err_nomem(e);
		goto out;
	}
	if (tfm)
		m->net->tf.adrop = (float)ml_param(hp, "attention-dropout");
	ml_rng_derive(&rng, ctx ? ctx->seed : 0, 0x6d6c70);
	nn_init(m->net, &rng);
	/* targets: classes as they are, values standardised, an autoencoder's inputs
	 * gathered batch by batch (by, and y for a validation chunk) */
	y = malloc((ae ? MLP_CHUNK * (size_t)nout : n) * sizeof(double));
	by = malloc(bs * (size_t)nout * sizeof(double));
	bw = malloc(bs * sizeof(double));
	idx = malloc(n * sizeof(size_t));
	/* shards: as many as a whole batch has, as many rows as any batch's largest */
	smin = shard_min(m->net, bn);
	nsh = nshards(bs, smin);
	for (i = 1; i <= bs; i++) {
		size_t sh = (size_t)nshards(i, smin), r = (i + sh - 1) / sh;
		if (r > cap)
			cap = r;
	}
	ntask = (size_t)nsh * cap > MLP_CHUNK ? (size_t)nsh * cap : MLP_CHUNK;
	dz = malloc(ntask * (size_t)nout * sizeof(float));
	mom = calloc(m->net->ntheta + 1, sizeof(float));
	vel = calloc(m->net->ntheta + 1, sizeof(float));
	if (ne)
		lev = malloc(ntask * (size_t)ne * sizeof(int32_t));
	sw = calloc((size_t)nsh, sizeof(*sw));
	if (!y || !by || !bw || !idx || !dz || !mom || !vel || (ne && !lev) || !sw ||
	    nn_work_init(&w, m->net, mlp_chunk(m)) < 0) {
		rc = ml_err_nomem(e);
		goto out;
	}
	for (k = 0; k < nsh; k++)
		if (nn_work_init(&sw[k], m->net, cap) < 0) {
			rc = ml_err_nomem(e);
			goto out;
		}
	m->ymean = 0;
	m->ysd = 1;
	if (d->nclass == 0 && !ae)
		mean_sd(d->y, n, &m->ymean, &m->ysd);
	for (i = 0; i < n && !ae; i++)
		y[i] = d->nclass ? d->y[i] : (d->y[i] - m->ymean) / m->ysd;
	if (valid) {
		Xv = (double *)ml_data_dense(valid, &bufv);
		yv = malloc((ae ? MLP_CHUNK * (size_t)nout : valid->n + 1) * sizeof(double));
		best = malloc(m->net->ntheta * sizeof(float) + 4);
		if (!Xv || !yv || !best) {
			rc = ml_err_nomem(e);
			goto out;
		}
		for (i = 0; i < valid->n && !ae; i++)
			yv[i] = d->nclass ? valid->y[i] : (valid->y[i] - m->ymean) / m->ysd;
	}
	/* the training rows encoded once, row-major, so that a batch is a gather of rows */
	E = ml_alloc_big((n * (size_t)m->nin + 1) * sizeof(float));
	if (ne)
		elev = malloc(n * (size_t)ne * sizeof(int32_t));
	if (!E || (ne && !elev)) {
		rc = ml_err_nomem(e);
		goto out;
	}
	en.E = E;
	en.elev = elev;
	ml_pool_run(pool, (n + ENC_BLOCK - 1) / ENC_BLOCK, enc_task, &en);
	for (i = 0; i < n; i++)
		idx[i] = i;
	st.m = m;
	st.sw = sw;
	st.dz = dz;
	st.lev = lev;
	st.cap = cap;
	st.E = E;
	st.elev = elev;
	st.by = by;
	st.bw = bw;
	st.weighted = d->w != NULL;
	st.mom = mom;
	st.vel = vel;
	st.opt = opt;
	st.wd = (float)wd;
	st.fm = (float)mo;
	/* shards call BLAS on one thread each, whatever the thread counts: OpenBLAS's
	 * threads may sum a product in another order */
	if (nsh > 1) {
		ml_blas_hold();
		blas = 1;
	}
	t1 = now_s();
	c_ep = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	for (ep = 0; ep < epochs; ep++) {
		double lr = lr0, tl = 0, tw = 0, vl = NAN;
		size_t s;
		if (sched == SCHED_COSINE)
			lr = lr0 * 0.5 * (1 + cos(M_PI * ep / epochs));
		else if (sched == SCHED_STEP)
			lr = lr0 * (ep >= epochs * 3 / 4 ? 0.01 : ep >= epochs / 2 ? 0.1 : 1);
		ml_rng_shuffle(&rng, idx, n);
		for (s = 0; s < n; s += bs) {
			size_t b = n - s < bs ? n - s : bs, rows[MAX_SHARDS];
			double wsum = 0, lb = 0;
			for (i = 0; i < b; i++) {
				size_t r = idx[s + i];
				if (!ae)
					by[i] = y[r];
				bw[i] = d->w ? d->w[r] : 1;
				wsum += bw[i];
			}
			st.idx = idx + s;
			st.b = b;
			st.S = nshards(b, smin);
			st.W = wsum;
			for (k = 0; k < st.S; k++)
				rows[k] = shard_row(&st, (size_t)k + 1) - shard_row(&st, (size_t)k);
			nn_dropout_masks(m->net, sw, rows, st.S, &rng);
			ml_pool_run(pool, (size_t)st.S, shard_task, &st);
			for (k = 0; k < st.S; k++)
				lb += st.loss[k];
			tl += lb * wsum;
			tw += wsum;
			t++;
			if (opt != OPT_SGD) {
				double c1 = 1 - pow(0.9, (double)t), c2 = 1 - pow(0.999, (double)t);
				st.a = (float)(lr * sqrt(c2) / c1);
			}
			st.fl = (float)lr;
			ml_pool_run(pool, (m->net->ntheta + UPD_CHUNK - 1) / UPD_CHUNK, update_task,
				    &st);
		}
		m->epochs_run = ep + 1;
		if (valid) {
			vl = eval_loss(m, Xv, valid->n, yv, valid->n, valid->w, &w, lev, dz);
			if (vl < best_loss) {
				best_loss = vl;
				best_ep = ep + 1;
				memcpy(best, m->net->theta, m->net->ntheta * sizeof(float));
			}
		}
		if (ctx && ctx->log && ctx->progress) {
			double el = now_s() - t0;
			char line[200];
			int len = snprintf(line, sizeof(line), "epoch %d/%d loss %.5f", ep + 1,
					   epochs, tw > 0 ? tl / tw : 0);
			if (valid)
				len += snprintf(line + len, sizeof(line) - (size_t)len,
						" valid-%s %.5f", d->nclass ? "logloss" : "loss",
						vl);
			snprintf(line + len, sizeof(line) - (size_t)len,
				 ", %.0f rows/s, ETA %.0f s", (double)n * (ep + 1) / el,
				 el / (ep + 1) * (epochs - ep - 1));
			ml_log(ctx, ML_LOG_PROGRESS, "%s", line);
		}
		if (early > 0 && ep + 1 - best_ep >= early)
			break;
	}
	{
		/* sgemm work of the epochs run: forward, weight gradients, input gradients;
		 * over the whole fit, and over the epochs alone (after the rows' encoding) */
		double fl = 0, el = now_s() - t0, cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
		double cpu1 = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c_ep;
		int l;
		for (l = 0; l < m->net->nlayer; l++)
			fl += 2.0 * size[l] * size[l + 1] * (l > 0 || ne ? 3 : 2);
		if (tfm)
			fl = nn_tf_row_flops(m->net);
		fl *= (double)n * m->epochs_run;
		ml_log(ctx, ML_LOG_DEBUG,
		       "%s: %d epochs in %.3f s (%.3f CPU s), sgemm work %.1f GFLOP/s, %.1f "
		       "GFLOP per CPU second",
		       ae ? "autoencoder" : "mlp", m->epochs_run, el, cpu, fl / el / 1e9, fl / cpu / 1e9);
		ml_log(ctx, ML_LOG_DEBUG,
		       "%s: of which %.3f s (%.3f CPU s) setting up, the epochs alone %.1f GFLOP "
		       "per CPU second",
		       ae ? "autoencoder" : "mlp", t1 - t0, c_ep - c0, fl / cpu1 / 1e9);
	}
	if (valid && best_ep > 0 && early > 0) {
		memcpy(m->net->theta, best, m->net->ntheta * sizeof(float));
		ml_log(ctx, ML_LOG_DEBUG, "%s: best validation loss %.6g at epoch %d",
		       ae ? "autoencoder" : "mlp", best_loss, best_ep);
	}
	*out = m;
	m = NULL;
out:
	if (blas)
		ml_blas_release();
	mlp_free(m);
	nn_work_release(&w);
	for (k = 0; sw && k < nsh; k++)
		nn_work_release(&sw[k]);
	free(sw);
	free(bufv);
	free(y);
	free(yv);
	free(by);
	free(bw);
	free(idx);
	free(dz);
	free(mom);
	free(vel);
	free(best);
	free(lev);
	free(E);
	free(elev);
	return rc;
}

static int mlp_fit(void **state, const struct ml_data *d, const struct ml_data *valid,
		   const struct ml_params *hp, struct ml_ctx *ctx, struct ml_err *e)
{
	struct mlp *m;
	double h[MLP_MAX_LAYERS + 1];
	int hidden[MLP_MAX_LAYERS + 1], nh, k, rc;

	*state = NULL;
	if (d->p < 1)
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "-a mlp needs at least one feature");
	nh = ml_param_list(hp, "hidden", h, MLP_MAX_LAYERS + 1);
	for (k = 0; k < nh && k <= MLP_MAX_LAYERS; k++)
		hidden[k] = (int)h[k];
	rc = mlp_train(&m, d, valid, hp, hidden, nh, 0, ctx, e);
	*state = m;
	return rc;
}

/* Sections: "algo.mlp" holds u32 version, features, classes, inputs, layers, the layer
 * sizes (layers + 1), u8 activation, batch norm, loss, f64 dropout, per feature u8 input
 * kind, u32 first input, u32 levels, i32 embedding, f64 mean, sd, then u32 embeddings
 * with u32 column, dimension and levels each, f64 target mean and sd, u32 epochs run;
 * "algo.mlp.theta" the parameters and "algo.mlp.bn" the running means and variances, as
 * f64 (each exactly a float32). A tabular transformer has one layer of sizes inputs and
 * outputs there, and "algo.mlp.tf": u32 version, blocks, heads, token width and
 * feed-forward width. */
static void put_floats(struct ml_wbuf *b, const float *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		ml_wbuf_f64(b, v[i]);
}

static size_t bn_count(const struct nn *net)
{
	int l;
	size_t r = 0;

	if (net->bn)
		for (l = 0; l < net->nlayer - 1; l++)
			r += (size_t)net->size[l + 1];
	return r;
}

int mlp_save_net(const struct mlp *m, struct ml_model *mo, struct ml_err *e)
{
	const struct nn *net = m->net;
	struct ml_wbuf b;
	int j, rc;

	ml_wbuf_init(&b);
	ml_wbuf_u32(&b, MLP_VERSION);
	ml_wbuf_u32(&b, (uint32_t)m->p);
	ml_wbuf_u32(&b, (uint32_t)m->nclass);
	ml_wbuf_u32(&b, (uint32_t)m->nin);
	ml_wbuf_u32(&b, (uint32_t)net->nlayer);
	for (j = 0; j <= net->nlayer; j++)
		ml_wbuf_u32(&b, (uint32_t)net->size[j]);
	ml_wbuf_u8(&b, (uint8_t)net->act);
	ml_wbuf_u8(&b, (uint8_t)net->bn);
	ml_wbuf_u8(&b, (uint8_t)net->loss);
	ml_wbuf_f64(&b, net->dropout);
	for (j = 0; j < m->p; j++) {
		ml_wbuf_u8(&b, (uint8_t)m->kind[j]);
		ml_wbuf_u32(&b, (uint32_t)m->first[j]);
		ml_wbuf_u32(&b, (uint32_t)m->ncat[j]);
		ml_wbuf_i32(&b, m->emb[j]);
		ml_wbuf_f64(&b, m->mean[j]);
		ml_wbuf_f64(&b, m->sd[j]);
	}
	ml_wbuf_u32(&b, (uint32_t)net->nembed);
	for (j = 0; j < net->nembed; j++) {
		ml_wbuf_u32(&b, (uint32_t)net->embed[j].col);
		ml_wbuf_u32(&b, (uint32_t)net->embed[j].dim);
		ml_wbuf_u32(&b, (uint32_t)net->embed[j].nlev);
	}
	ml_wbuf_f64(&b, m->ymean);
	ml_wbuf_f64(&b, m->ysd);
	ml_wbuf_u32(&b, (uint32_t)m->epochs_run);
	if ((rc = ml_algo_put(mo, "algo.mlp", &b, e)) < 0)
		return rc;
	if (net->tf.on) {
		ml_wbuf_init(&b);
		ml_wbuf_u32(&b, TF_VERSION);
		ml_wbuf_u32(&b, (uint32_t)net->tf.layers);
		ml_wbuf_u32(&b, (uint32_t)net->tf.heads);
		ml_wbuf_u32(&b, (uint32_t)net->tf.dim);
		ml_wbuf_u32(&b, (uint32_t)net->tf.ffn);
		if ((rc = ml_algo_put(mo, "algo.mlp.tf", &b, e)) < 0)
			return rc;
	}
	ml_wbuf_init(&b);
	put_floats(&b, net->theta, net->ntheta);
	if ((rc = ml_algo_put(mo, "algo.mlp.theta", &b, e)) < 0)
		return rc;
	ml_wbuf_init(&b);
	put_floats(&b, net->rmean, bn_count(net));
	put_floats(&b, net->rvar, bn_count(net));
	return ml_algo_put(mo, "algo.mlp.bn", &b, e);
}

static int bad(struct mlp *m, struct ml_err *e, const char *sec, const char *what)
{
	mlp_free(m);
	return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "model section '%s' is invalid: %s", sec, what);
}

/* Read exactly n finite float32 values (stored as f64) of section name into v. */
static int get_floats(const struct ml_model *mo, const char *name, float *v, size_t n,
		      struct ml_err *e)
{
	const void *data;
	size_t len, i;
	struct ml_rbuf b;
	int rc;

	if ((rc = ml_model_get(mo, name, &data, &len, e)) < 0)
		return rc;
	if (len / 8 != n || len % 8)
		return 1;
	ml_rbuf_init(&b, data, len);
	for (i = 0; i < n; i++) {
		double x = ml_rbuf_f64(&b);
		if (!isfinite(x) || (double)(float)x != x)
			return 1;
		v[i] = (float)x;
	}
	return 0;
}

int mlp_load_net(struct mlp **state, const struct ml_model *mo, const struct ml_data *shape,
		 int ae, struct ml_err *e)
{
	size_t r;
	struct ml_rbuf b;
	struct mlp *m;
	struct nn_embed emb[64];
	int size[MLP_MAX_LAYERS + 2], nl, j, nin = 0, act, bn, loss, ne, rc;
	double drop;

	*state = NULL;
	if ((rc = ml_algo_get(mo, "algo.mlp", MLP_VERSION, &b, e)) < 0)
		return rc;
	m = calloc(1, sizeof(*m));
	if (!m)
		return ml_err_nomem(e);
	m->ae = ae;
	j = (int)ml_rbuf_u32(&b);
	if (j != shape->p || j < 1 || mlp_alloc(m, j) < 0)
		return bad(m, e, "algo.mlp", "its shape does not match the model's features");
	m->nclass = (int)ml_rbuf_u32(&b);
	m->nin = (int)ml_rbuf_u32(&b);
	nl = (int)ml_rbuf_u32(&b);
	if (b.err || m->nclass != shape->nclass || nl < 1 || nl > MLP_MAX_LAYERS + 1)
		return bad(m, e, "algo.mlp", "bad shape");
	for (j = 0; j <= nl; j++) {
		uint32_t v = ml_rbuf_u32(&b);
		if (v < 1 || v > (1u << 24))
			return bad(m, e, "algo.mlp", "bad layer size");
		size[j] = (int)v;
	}
	act = ml_rbuf_u8(&b);
	bn = ml_rbuf_u8(&b);
	loss = ml_rbuf_u8(&b);
	drop = ml_rbuf_f64(&b);
	if (act > NN_GELU || bn > 1 || loss > NN_SOFTMAX || !(drop >= 0 && drop < 1) ||
	    size[0] != m->nin ||
	    size[nl] != (ae ? m->nin : m->nclass > 2 ? m->nclass : 1) ||
	    loss != (m->nclass > 2 ? NN_SOFTMAX : m->nclass == 2 ? NN_SIGMOID : NN_MSE))
		return bad(m, e, "algo.mlp", "bad settings");
	for (j = 0; j < m->p; j++) {
		m->kind[j] = ml_rbuf_u8(&b);
		m->first[j] = (int)ml_rbuf_u32(&b);
		m->ncat[j] = (int)ml_rbuf_u32(&b);
		m->emb[j] = ml_rbuf_i32(&b);
		m->mean[j] = ml_rbuf_f64(&b);
		m->sd[j] = ml_rbuf_f64(&b);
		if (b.err || m->kind[j] > IN_EMBED || m->first[j] < 0 ||
		    (m->kind[j] == IN_NUM) != (m->ncat[j] == 0) || m->ncat[j] > (1 << 24) ||
		    !isfinite(m->mean[j]) || !(m->sd[j] > 0) || !isfinite(m->sd[j]) ||
		    (m->kind[j] == IN_EMBED) != (m->emb[j] >= 0) || m->emb[j] >= 64)
			return bad(m, e, "algo.mlp", "bad feature");
	}
	ne = (int)ml_rbuf_u32(&b);
	if (b.err || ne > 64)
		return bad(m, e, "algo.mlp", "bad features");
	for (j = 0; j < ne; j++) {
		emb[j].col = (int)ml_rbuf_u32(&b);
		emb[j].dim = (int)ml_rbuf_u32(&b);
		emb[j].nlev = (int)ml_rbuf_u32(&b);
		if (emb[j].dim < 1 || emb[j].dim > 1024 || emb[j].nlev < 1 || emb[j].col < 0 ||
		    emb[j].col + emb[j].dim > m->nin)
			return bad(m, e, "algo.mlp", "bad embedding");
	}
	m->ymean = ml_rbuf_f64(&b);
	m->ysd = ml_rbuf_f64(&b);
	m->epochs_run = (int)ml_rbuf_u32(&b);
	if (b.err || b.off != b.n || !isfinite(m->ymean) || !(m->ysd > 0) || !isfinite(m->ysd))
		return bad(m, e, "algo.mlp", "wrong size");
	/* every feature's columns follow each other exactly */
	for (j = 0, nin = 0; j < m->p; j++) {
		int width = m->kind[j] == IN_NUM ? 1 : m->kind[j] == IN_ONEHOT ? m->ncat[j] : 0;
		if (m->first[j] != nin)
			return bad(m, e, "algo.mlp", "bad feature layout");
		if (m->kind[j] == IN_EMBED) {
			if (m->emb[j] >= ne || emb[m->emb[j]].col != nin ||
			    emb[m->emb[j]].nlev != m->ncat[j])
				return bad(m, e, "algo.mlp", "bad embedding");
			width = emb[m->emb[j]].dim;
		}
		nin += width;
	}
	if (nin != m->nin)
		return bad(m, e, "algo.mlp", "bad input count");
	m->net = nn_new(nl, size, act, bn, loss, (float)drop, ne, emb);
	if (!m->net) {
		mlp_free(m);
		return ml_err_nomem(e);
	}
	for (j = 0; j < ml_model_nsections(mo); j++)
		if (strcmp(ml_model_section_name(mo, j), "algo.mlp.tf") == 0)
			break;
	if (j < ml_model_nsections(mo)) {
		uint32_t v[4];
		if ((rc = ml_algo_get(mo, "algo.mlp.tf", TF_VERSION, &b, e)) < 0) {
			mlp_free(m);
			return rc;
		}
		for (j = 0; j < 4; j++)
			v[j] = ml_rbuf_u32(&b);
		if (b.err || b.off != b.n || ne || bn || nl != 1 || v[0] < 1 ||
		    v[0] > NN_TF_MAX_LAYERS || v[1] < 1 || v[1] > 64 || v[2] < 1 || v[2] > 1024 ||
		    v[2] % v[1] || v[3] != 2 * v[2])
			return bad(m, e, "algo.mlp.tf", "bad settings");
		if (tf_setup(m, (int)v[0], (int)v[1], (int)v[2]) < 0) {
			mlp_free(m);
			return ml_err_nomem(e);
		}
	}
	r = bn_count(m->net);
	{
		/* the running means, then the variances */
		float *st = malloc((2 * r + 1) * sizeof(float));
		size_t i;
		if (!st) {
			mlp_free(m);
			return ml_err_nomem(e);
		}
		if ((rc = get_floats(mo, "algo.mlp.theta", m->net->theta, m->net->ntheta, e)) == 0)
			rc = get_floats(mo, "algo.mlp.bn", st, 2 * r, e);
		for (i = 0; rc == 0 && i < r; i++) {
			m->net->rmean[i] = st[i];
			m->net->rvar[i] = st[r + i];
			if (!(st[r + i] >= 0))
				rc = 1;
		}
		free(st);
		if (rc < 0) {
			mlp_free(m);
			return rc;
		}
		if (rc)
			return bad(m, e, "algo.mlp.theta", "wrong size or values");
	}
	*state = m;
	return 0;
}

static int mlp_save(const void *state, struct ml_model *mo, struct ml_err *e)
{
	return mlp_save_net(state, mo, e);
}

static int mlp_load(void **state, const struct ml_model *mo, const struct ml_data *shape,
		    struct ml_err *e)
{
	struct mlp *m;
	int rc = mlp_load_net(&m, mo, shape, 0, e);

	*state = m;
	return rc;
}

static const char *const mlp_tables[] = {"embedding", NULL};

/* "embedding": per embedded feature and level, its vector (dim_1.., NaN past the
 * feature's own dimension). */
static int mlp_table(const void *state, const char *name, const struct ml_data *shape,
		     struct ml_frame *out, struct ml_err *e)
{
	const struct mlp *m = state;
	const struct nn *net = m->net;
	int j, k, maxd = 0, rc;
	size_t rows = 0, r = 0;
	char col[32];

	(void)name;
	for (k = 0; k < net->nembed; k++) {
		if (net->embed[k].dim > maxd)
			maxd = net->embed[k].dim;
		rows += (size_t)net->embed[k].nlev;
	}
	if (ml_schema_add(&out->schema, "feature", ML_CAT) < 0 ||
	    ml_schema_add(&out->schema, "level", ML_CAT) < 0)
		goto nomem;
	for (k = 0; k < maxd; k++) {
		snprintf(col, sizeof(col), "dim_%d", k + 1);
		if (ml_schema_add(&out->schema, col, ML_NUM) < 0)
			goto nomem;
	}
	if ((rc = ml_block_init(&out->rows, &out->schema, rows, e)) < 0) {
		ml_frame_release(out);
		return rc;
	}
	for (j = 0; j < m->p; j++) {
		const struct nn_embed *em;
		int lv;
		if (m->kind[j] != IN_EMBED)
			continue;
		em = &net->embed[m->emb[j]];
		for (lv = 0; lv < em->nlev; lv++, r++) {
			const char *f = shape->names ? shape->names[j] : "?";
			const struct ml_dict *dl = shape->levels ? shape->levels[j] : NULL;
			const char *ls = dl && lv < dl->n ? dl->str[lv] : "?";
			int32_t c1 = ml_dict_intern(&out->schema.cols[0].dict, f, strlen(f));
			int32_t c2 = ml_dict_intern(&out->schema.cols[1].dict, ls, strlen(ls));
			if (c1 < 0 || c2 < 0)
				goto nomem;
			out->rows.col[0].cat[r] = c1;
			out->rows.col[1].cat[r] = c2;
			for (k = 0; k < maxd; k++)
				out->rows.col[2 + k].num[r] =
				    k < em->dim ? net->theta[em->off + (size_t)lv * (size_t)em->dim +
							     (size_t)k]
						: NAN;
		}
	}
	out->rows.nrow = rows;
	return 0;
nomem:
	ml_frame_release(out);
	return ml_err_nomem(e);
}

const struct ml_algo ml_algo_mlp = {
	.name = "mlp",
	.summary = "multilayer perceptron: a dense neural network, or a tabular transformer, "
		   "trained by minibatch Adam, AdamW or SGD",
	.flags = ML_ALGO_CLASSIFY | ML_ALGO_REGRESS | ML_ALGO_NATIVE_CAT | ML_ALGO_ROWWISE,
	.params = mlp_params,
	.fit = mlp_fit,
	.predict = mlp_predict,
	.save = mlp_save,
	.load = mlp_load,
	.tables = mlp_tables,
	.table = mlp_table,
	.free = mlp_free,
};
