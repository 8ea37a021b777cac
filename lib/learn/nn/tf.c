/* The tabular transformer of nn.h (--arch tabular-transformer), after the FT-Transformer
 * of Gorishniy, Rubachev, Khrulkov and Babenko, "Revisiting Deep Learning Models for
 * Tabular Data" (NeurIPS 2021): every feature a token, a [CLS] token after them, pre-norm
 * blocks of multi-head self-attention and a feed-forward layer, each added back to its
 * input, and the [CLS] token's final state through layer norm, ReLU and a dense layer to
 * the outputs. Token rows are row-major, T = features + 1 of them per data row; the dense
 * parts are cblas_sgemm calls on all b T of them, the attention loops over each row's
 * tokens. */
#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"

#define LN_EPS 1e-5f

/* Offsets of a block's parameters from its start, for width d and feed-forward width f. */
struct blk {
	size_t g1, b1, wqkv, bqkv, wo, bo, g2, b2, w1, bf1, w2, bf2, size;
};

static struct blk blk_layout(size_t d, size_t f)
{
	struct blk k;
	size_t t = 0;

	k.g1 = t, t += d;
	k.b1 = t, t += d;
	k.wqkv = t, t += d * 3 * d;
	k.bqkv = t, t += 3 * d;
	k.wo = t, t += d * d;
	k.bo = t, t += d;
	k.g2 = t, t += d;
	k.b2 = t, t += d;
	k.w1 = t, t += d * f;
	k.bf1 = t, t += f;
	k.w2 = t, t += f * d;
	k.bf2 = t, t += d;
	k.size = t;
	return k;
}

struct tf_work {
	float *X[NN_TF_MAX_LAYERS + 1];		      /* each block's input, the last's output */
	float *xh1[NN_TF_MAX_LAYERS], *mr1[NN_TF_MAX_LAYERS]; /* normalised, mean and 1/sd */
	float *z1[NN_TF_MAX_LAYERS], *qkv[NN_TF_MAX_LAYERS], *P[NN_TF_MAX_LAYERS];
	float *O[NN_TF_MAX_LAYERS], *Xm[NN_TF_MAX_LAYERS];
	float *xh2[NN_TF_MAX_LAYERS], *mr2[NN_TF_MAX_LAYERS], *z2[NN_TF_MAX_LAYERS];
	float *H1[NN_TF_MAX_LAYERS], *G[NN_TF_MAX_LAYERS], *mask[NN_TF_MAX_LAYERS];
	float *amask[NN_TF_MAX_LAYERS]; /* attention dropout, as P */
	float *c, *xhf, *mrf, *r, *out;			/* the head, per data row */
	float *dX, *dQ, *dH, *dZ, *dT, *dc; /* backward */
	float *sp;			    /* the attention's scratch */
	float *arena;
};

/* Theta's parts: tokenizer weights (inputs x d) from 0, feature biases (p x d), [CLS]
 * (d), the blocks, then the head: layer norm (2 d), weights (d x k), biases (k). */
static size_t tok_b(const struct nn *net)
{
	return (size_t)net->size[0] * (size_t)net->tf.dim;
}

static size_t cls_off(const struct nn *net)
{
	return tok_b(net) + (size_t)net->tf.p * (size_t)net->tf.dim;
}

static size_t blk_off(const struct nn *net, int l)
{
	struct blk k = blk_layout((size_t)net->tf.dim, (size_t)net->tf.ffn);

	return cls_off(net) + (size_t)net->tf.dim + (size_t)l * k.size;
}

static size_t head_off(const struct nn *net)
{
	return blk_off(net, net->tf.layers);
}

int nn_tf_setup(struct nn *net, int p, const int *first, const int *width, int layers,
		int heads, int dim, int ffn)
{
	size_t d = (size_t)dim, k = (size_t)net->size[1], t, at;
	struct blk bk = blk_layout(d, (size_t)ffn);
	int l, j;

	if (p < 1 || layers < 1 || layers > NN_TF_MAX_LAYERS || heads < 1 || dim < 1 ||
	    dim % heads || ffn < 1)
		return -1;
	net->tf.on = 1;
	net->tf.p = p;
	net->tf.layers = layers;
	net->tf.heads = heads;
	net->tf.dim = dim;
	net->tf.ffn = ffn;
	net->tf.first = malloc((size_t)p * sizeof(int));
	net->tf.width = malloc((size_t)p * sizeof(int));
	net->nwr = 4 * layers + 1;
	free(net->wr);
	net->wr = malloc(2 * (size_t)net->nwr * sizeof(size_t));
	if (!net->tf.first || !net->tf.width || !net->wr)
		return -1;
	for (j = 0; j < p; j++) {
		net->tf.first[j] = first[j];
		net->tf.width[j] = width[j];
		if (first[j] < 0 || width[j] < 0 || first[j] + width[j] > net->size[0])
			return -1;
	}
	net->ntheta = head_off(net) + 2 * d + d * k + k;
	free(net->theta);
	net->theta = calloc(net->ntheta + 1, sizeof(float));
	if (!net->theta)
		return -1;
	/* weight decay: the blocks' four matrices and the head's */
	for (l = 0; l < layers; l++) {
		at = blk_off(net, l);
		net->wr[8 * l] = at + bk.wqkv;
		net->wr[8 * l + 1] = at + bk.wqkv + 3 * d * d;
		net->wr[8 * l + 2] = at + bk.wo;
		net->wr[8 * l + 3] = at + bk.wo + d * d;
		net->wr[8 * l + 4] = at + bk.w1;
		net->wr[8 * l + 5] = at + bk.w1 + d * (size_t)ffn;
		net->wr[8 * l + 6] = at + bk.w2;
		net->wr[8 * l + 7] = at + bk.w2 + d * (size_t)ffn;
	}
	t = head_off(net) + 2 * d;
	net->wr[8 * layers] = t;
	net->wr[8 * layers + 1] = t + d * k;
	return 0;
}

static void uniform(float *v, size_t n, double s, struct ml_rng *rng)
{
	size_t i;

	for (i = 0; i < n; i++)
		v[i] = (float)(s * (2 * ml_rng_uniform(rng) - 1));
}

void nn_tf_init(struct nn *net, struct ml_rng *rng)
{
	size_t d = (size_t)net->tf.dim, f = (size_t)net->tf.ffn, k = (size_t)net->size[1], i;
	struct blk bk = blk_layout(d, f);
	double s = 1 / sqrt((double)d);
	float *th = net->theta, *h;
	int l;

	/* the tokens as FT-Transformer starts them: uniform within 1/sqrt(d) */
	uniform(th, (size_t)net->size[0] * d, s, rng);
	uniform(th + tok_b(net), (size_t)net->tf.p * d, s, rng);
	uniform(th + cls_off(net), d, s, rng);
	for (l = 0; l < net->tf.layers; l++) {
		float *b = th + blk_off(net, l);
		memset(b, 0, bk.size * sizeof(float));
		for (i = 0; i < d; i++)
			b[bk.g1 + i] = b[bk.g2 + i] = 1;
		/* Glorot uniform; the query, key and value maps each d x d */
		uniform(b + bk.wqkv, 3 * d * d, sqrt(6.0 / (double)(2 * d)), rng);
		uniform(b + bk.wo, d * d, sqrt(6.0 / (double)(2 * d)), rng);
		uniform(b + bk.w1, d * f, sqrt(6.0 / (double)(d + f)), rng);
		uniform(b + bk.w2, f * d, sqrt(6.0 / (double)(d + f)), rng);
	}
	h = th + head_off(net);
	for (i = 0; i < d; i++) {
		h[i] = 1;
		h[d + i] = 0;
	}
	uniform(h + 2 * d, d * k, sqrt(6.0 / (double)(d + k)), rng);
	memset(h + 2 * d + d * k, 0, k * sizeof(float));
}

void nn_tf_work_release(struct nn_work *w)
{
	if (w->tw)
		free(w->tw->arena);
	free(w->tw);
	w->tw = NULL;
}

/* Attention works on one row's head at a time in its own layout: matrices with a column
 * per token, T of them padded to TP(T) (zeros past T), so that every inner loop runs
 * along a whole padded row of tokens, elementwise (no sum split across vector lanes:
 * every processor gives the same values). P is kept transposed: P[u T + t] is the weight
 * of token u in token t's output. */
#define TP(T) (((T) + 15) & ~(size_t)15)

/* expf under another name, declared with vector variants (x86-64 glibc's libmvec), so
 * that the softmax's '#pragma omp simd' loop calls them; elsewhere plain expf. */
#if defined(__x86_64__) && defined(__GLIBC__) && (defined(__GNUC__) || defined(__clang__))
#pragma omp declare simd notinbranch
float tf_vexpf(float x) __asm__("expf");
#else
#define tf_vexpf expf
#endif

/* Rows [0, r) of an r x TP(T) matrix: zero. */
static void zero_rows(float *m, size_t r, size_t T)
{
	memset(m, 0, r * TP(T) * sizeof(float));
}

/* The scratch attn_fwd and attn_back need, in floats. */
static size_t attn_scratch(size_t T, size_t dh)
{
	return (4 * T + 5 * dh + 4) * TP(T);
}

/* The work space's parts in one arena of floats: laid out at base, or only counted when
 * base is NULL; returns the count. */
static size_t tf_layout(struct tf_work *tw, float *base, const struct nn *net, size_t cap)
{
	size_t T = (size_t)net->tf.p + 1, N = cap * T, d = (size_t)net->tf.dim;
	size_t f = (size_t)net->tf.ffn, H = (size_t)net->tf.heads, k = (size_t)net->size[1];
	size_t at = 0;
	int l, L = net->tf.layers;

#define TAKE(p, n) ((p) = base ? base + at : NULL, at += (n))
	for (l = 0; l < L; l++) {
		TAKE(tw->X[l], N * d);
		TAKE(tw->xh1[l], N * d);
		TAKE(tw->mr1[l], 2 * N);
		TAKE(tw->z1[l], N * d);
		TAKE(tw->qkv[l], N * 3 * d);
		TAKE(tw->P[l], cap * H * T * T);
		TAKE(tw->O[l], N * d);
		TAKE(tw->Xm[l], N * d);
		TAKE(tw->xh2[l], N * d);
		TAKE(tw->mr2[l], 2 * N);
		TAKE(tw->z2[l], N * d);
		TAKE(tw->H1[l], N * f);
		TAKE(tw->G[l], N * f);
		TAKE(tw->mask[l], N * f);
		TAKE(tw->amask[l], net->tf.adrop > 0 ? cap * H * T * T : 0);
	}
	TAKE(tw->X[L], N * d);
	TAKE(tw->c, cap * d);
	TAKE(tw->xhf, cap * d);
	TAKE(tw->mrf, 2 * cap);
	TAKE(tw->r, cap * d);
	TAKE(tw->out, cap * k);
	TAKE(tw->dX, N * d);
	TAKE(tw->dZ, N * d);
	TAKE(tw->dT, N * d);
	TAKE(tw->dQ, N * 3 * d);
	TAKE(tw->dH, N * f);
	TAKE(tw->dc, cap * d);
	TAKE(tw->sp, attn_scratch(T, d / H));
#undef TAKE
	return at;
}

size_t nn_tf_work_floats(const struct nn *net, size_t cap)
{
	struct tf_work tw;

	return tf_layout(&tw, NULL, net, cap);
}

int nn_tf_work_init(struct nn_work *w, const struct nn *net)
{
	struct tf_work *tw = calloc(1, sizeof(*tw));

	if (!tw)
		return -1;
	w->tw = tw;
	tw->arena = malloc((tf_layout(tw, NULL, net, w->cap) + 1) * sizeof(float));
	if (!tw->arena)
		return -1;
	tf_layout(tw, tw->arena, net, w->cap);
	return 0;
}

/* Layer norm of n rows of d: xh the normalised rows, mr their means and 1/sd (2 a row),
 * z = gamma xh + beta. */
static void ln_fwd(const float *x, size_t n, size_t d, const float *gam, const float *bet,
		   float *xh, float *mr, float *z)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		const float *xi = x + i * d;
		double s = 0, q = 0;
		float mu, is;
		for (j = 0; j < d; j++)
			s += xi[j];
		s /= (double)d;
		for (j = 0; j < d; j++)
			q += (xi[j] - s) * (xi[j] - s);
		mu = (float)s;
		is = (float)(1 / sqrt(q / (double)d + LN_EPS));
		mr[2 * i] = mu;
		mr[2 * i + 1] = is;
		for (j = 0; j < d; j++) {
			float v = (xi[j] - mu) * is;
			xh[i * d + j] = v;
			z[i * d + j] = gam[j] * v + bet[j];
		}
	}
}

/* Back through layer norm: dz the gradient by z (n x d), into the gradients of gamma and
 * beta (added) and by x, added to dx. */
static void ln_back(const float *dz, size_t n, size_t d, const float *xh, const float *mr,
		    const float *gam, float *dgam, float *dbet, float *dx)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		const float *di = dz + i * d, *xi = xh + i * d;
		double s = 0, sx = 0;
		for (j = 0; j < d; j++) {
			float g = di[j] * gam[j];
			dgam[j] += di[j] * xi[j];
			dbet[j] += di[j];
			s += g;
			sx += g * xi[j];
		}
		s /= (double)d;
		sx /= (double)d;
		for (j = 0; j < d; j++)
			dx[i * d + j] += mr[2 * i + 1] * (float)(di[j] * gam[j] - s - xi[j] * sx);
	}
}

/* C (n x m) = A (n x q) B (q x m) + beta C, row-major; ta, tb transpose A or B. */
static void mm(int ta, int tb, size_t n, size_t m, size_t q, const float *A, const float *B,
	       float beta, float *C)
{
	cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
		    (int)n, (int)m, (int)q, 1.0f, A, ta ? (int)n : (int)q, B, tb ? (int)q : (int)m,
		    beta, C, (int)m);
}

/* out[t] = the sum over r < nr, in order, of c[r cs] m[r ld + t], for t < Tp (a multiple
 * of 16): sixteen tokens at a time, their sums held in registers through every r. */
static inline void lincomb(float *restrict out, const float *restrict c, size_t cs,
			   const float *restrict m, size_t ld, size_t nr, size_t Tp)
{
	size_t t0, t, r;

	for (t0 = 0; t0 < Tp; t0 += 16) {
		float acc[16];
		for (t = 0; t < 16; t++)
			acc[t] = 0;
		for (r = 0; r < nr; r++) {
			float cr = c[r * cs];
			const float *restrict mr = m + r * ld + t0;
#pragma omp simd
			for (t = 0; t < 16; t++)
				acc[t] += cr * mr[t];
		}
		for (t = 0; t < 16; t++)
			out[t0 + t] = acc[t];
	}
}

/* Self-attention of b rows of T tokens, H heads of width dh: qkv the queries, keys and
 * values (each token's 3 d), P the attention weights, O the heads' outputs side by side;
 * M, when not NULL, the dropout scales of the weights (as P) that O sees; sp
 * attn_scratch's floats. */
NN_CLONES static void attn_fwd(const float *qkv, size_t b, size_t T, size_t H, size_t dh,
			       float *P, const float *M, float *O, float *sp)
{
	size_t d = H * dh, i, h, t, u, j, Tp = TP(T);
	float sc = 1 / sqrtf((float)dh);
	float *restrict Qt = sp, *restrict St = Qt + dh * Tp, *restrict Ot = St + T * Tp;
	float *restrict mx = Ot + dh * Tp, *restrict sum = mx + Tp;

	for (i = 0; i < b; i++)
		for (h = 0; h < H; h++) {
			const float *q = qkv + i * T * 3 * d + h * dh, *k = q + d, *v = q + 2 * d;
			float *Ph = P + (i * H + h) * T * T;
			/* the queries, scaled, by token */
			zero_rows(Qt, dh, T);
			for (t = 0; t < T; t++)
				for (j = 0; j < dh; j++)
					Qt[j * Tp + t] = sc * q[t * 3 * d + j];
			/* the scores of key u, for every query t */
			for (u = 0; u < T; u++)
				lincomb(St + u * Tp, k + u * 3 * d, 1, Qt, Tp, dh, Tp);
			/* the softmax over u, down each token's column */
			memcpy(mx, St, Tp * sizeof(float));
			for (u = 1; u < T; u++) {
				const float *restrict su = St + u * Tp;
#pragma omp simd
				for (t = 0; t < Tp; t++)
					mx[t] = su[t] > mx[t] ? su[t] : mx[t];
			}
			memset(sum, 0, Tp * sizeof(float));
			for (u = 0; u < T; u++) {
				float *restrict su = St + u * Tp;
#pragma omp simd
				for (t = 0; t < Tp; t++) {
					su[t] = tf_vexpf(su[t] - mx[t]);
					sum[t] += su[t];
				}
			}
			for (u = 0; u < T; u++) {
				float *restrict su = St + u * Tp;
#pragma omp simd
				for (t = 0; t < Tp; t++)
					su[t] = su[t] / sum[t];
				memcpy(Ph + u * T, su, T * sizeof(float));
				if (M) {
					const float *restrict mu = M + (i * H + h) * T * T + u * T;
#pragma omp simd
					for (t = 0; t < T; t++)
						su[t] *= mu[t];
				}
			}
			/* the output's value j, for every token t: the values weighted */
			for (j = 0; j < dh; j++)
				lincomb(Ot + j * Tp, v + j, 3 * d, St, Tp, T, Tp);
			for (t = 0; t < T; t++)
				for (j = 0; j < dh; j++)
					O[(i * T + t) * d + h * dh + j] = Ot[j * Tp + t];
		}
}

/* Back through attn_fwd (M its dropout scales or NULL): dO the gradient by O, into dqkv
 * (set); sp attn_scratch's floats. */
NN_CLONES static void attn_back(const float *qkv, const float *P, const float *M,
				const float *dO, size_t b, size_t T, size_t H, size_t dh,
				float *dqkv, float *sp)
{
	size_t d = H * dh, i, h, t, u, j, Tp = TP(T);
	float sc = 1 / sqrtf((float)dh);
	float *restrict dOt = sp, *restrict dPt = dOt + dh * Tp, *restrict Pn = dPt + T * Tp;
	float *restrict dS = Pn + T * Tp, *restrict dVt = dS + T * Tp, *restrict dQt = dVt + dh * Tp;
	float *restrict dKt = dQt + dh * Tp, *restrict s = dKt + dh * Tp;

	for (i = 0; i < b; i++)
		for (h = 0; h < H; h++) {
			size_t at = i * T * 3 * d + h * dh;
			const float *q = qkv + at, *k = q + d, *v = q + 2 * d;
			const float *Ph = P + (i * H + h) * T * T;
			float *dq = dqkv + at, *dk = dq + d, *dv = dq + 2 * d;
			zero_rows(dOt, dh, T);
			zero_rows(Pn, T, T);
			zero_rows(dS, T, T);
			memset(s, 0, Tp * sizeof(float));
			for (t = 0; t < T; t++)
				for (j = 0; j < dh; j++)
					dOt[j * Tp + t] = dO[(i * T + t) * d + h * dh + j];
			/* by the weight of key u in query t: the values against dO */
			for (u = 0; u < T; u++) {
				const float *restrict pu = Ph + u * T;
				const float *restrict mu = M ? M + (i * H + h) * T * T + u * T : NULL;
				float *restrict du = dPt + u * Tp;
				lincomb(du, v + u * 3 * d, 1, dOt, Tp, dh, Tp);
				if (mu) /* by the weights before their dropout */
#pragma omp simd
					for (t = 0; t < T; t++)
						du[t] *= mu[t];
#pragma omp simd
				for (t = 0; t < T; t++)
					s[t] += pu[t] * du[t];
				for (t = 0; t < T; t++)
					Pn[t * Tp + u] = mu ? pu[t] * mu[t] : pu[t];
			}
			/* dS = P (dP - s), scaled: in dPt's place by u, and by t in dS */
			for (u = 0; u < T; u++) {
				const float *restrict pu = Ph + u * T;
				float *restrict du = dPt + u * Tp;
#pragma omp simd
				for (t = 0; t < T; t++)
					du[t] = pu[t] * (du[t] - s[t]) * sc;
				for (t = 0; t < T; t++)
					dS[t * Tp + u] = du[t];
			}
			/* by value j, key j and query j of every token */
			for (j = 0; j < dh; j++) {
				lincomb(dVt + j * Tp, dOt + j * Tp, 1, Pn, Tp, T, Tp);
				lincomb(dKt + j * Tp, q + j, 3 * d, dS, Tp, T, Tp);
				lincomb(dQt + j * Tp, k + j, 3 * d, dPt, Tp, T, Tp);
			}
			for (t = 0; t < T; t++)
				for (j = 0; j < dh; j++) {
					dq[t * 3 * d + j] = dQt[j * Tp + t];
					dk[t * 3 * d + j] = dKt[j * Tp + t];
					dv[t * 3 * d + j] = dVt[j * Tp + t];
				}
		}
}

void nn_tf_masks(const struct nn *net, struct nn_work *w, const size_t *rows, int nw,
		 struct ml_rng *rng)
{
	float keep = 1 - net->dropout, sc = 1 / keep;
	float akeep = 1 - net->tf.adrop, asc = 1 / akeep;
	size_t T = (size_t)net->tf.p + 1, f = (size_t)net->tf.ffn, H = (size_t)net->tf.heads, i;
	int l, k;

	/* layer by layer: the attention's, then the feed-forward units' */
	for (l = 0; l < net->tf.layers; l++) {
		for (k = 0; k < nw && net->tf.adrop > 0; k++)
			for (i = 0; i < rows[k] * H * T * T; i++)
				w[k].tw->amask[l][i] = ml_rng_uniform(rng) < akeep ? asc : 0;
		for (k = 0; k < nw && net->dropout > 0; k++)
			for (i = 0; i < rows[k] * T * f; i++)
				w[k].tw->mask[l][i] = ml_rng_uniform(rng) < keep ? sc : 0;
	}
}

const float *nn_tf_forward(const struct nn *net, struct nn_work *w, size_t b, int train,
			   struct ml_rng *rng)
{
	struct tf_work *tw = w->tw;
	size_t T = (size_t)net->tf.p + 1, N = b * T, d = (size_t)net->tf.dim;
	size_t f = (size_t)net->tf.ffn, H = (size_t)net->tf.heads, k = (size_t)net->size[1];
	size_t nin = (size_t)net->size[0], i, j, c;
	struct blk bk = blk_layout(d, f);
	const float *th = net->theta, *hd = th + head_off(net);
	int l, drop = train && net->dropout > 0, adrop = train && net->tf.adrop > 0;

	if ((drop || adrop) && rng)
		nn_tf_masks(net, w, &b, 1, rng);
	/* tokens: a feature's bias plus its input columns' weights times their values */
	for (i = 0; i < b; i++) {
		const float *x = w->in + i * nin;
		float *X = tw->X[0] + i * T * d;
		for (j = 0; j < (size_t)net->tf.p; j++) {
			float *o = X + j * d;
			int c0 = net->tf.first[j], cw = net->tf.width[j];
			memcpy(o, th + tok_b(net) + j * d, d * sizeof(float));
			for (c = (size_t)c0; c < (size_t)(c0 + cw); c++) {
				const float *wc = th + c * d;
				size_t q;
				if (x[c] == 0)
					continue;
				for (q = 0; q < d; q++)
					o[q] += x[c] * wc[q];
			}
		}
		memcpy(X + (T - 1) * d, th + cls_off(net), d * sizeof(float));
	}
	for (l = 0; l < net->tf.layers; l++) {
		const float *bp = th + blk_off(net, l);
		ln_fwd(tw->X[l], N, d, bp + bk.g1, bp + bk.b1, tw->xh1[l], tw->mr1[l], tw->z1[l]);
		mm(0, 0, N, 3 * d, d, tw->z1[l], bp + bk.wqkv, 0, tw->qkv[l]);
		nn_add_bias(tw->qkv[l], bp + bk.bqkv, N, 3 * d);
		attn_fwd(tw->qkv[l], b, T, H, d / H, tw->P[l], adrop ? tw->amask[l] : NULL, tw->O[l],
			 tw->sp);
		memcpy(tw->Xm[l], tw->X[l], N * d * sizeof(float));
		mm(0, 0, N, d, d, tw->O[l], bp + bk.wo, 1, tw->Xm[l]);
		nn_add_bias(tw->Xm[l], bp + bk.bo, N, d);
		ln_fwd(tw->Xm[l], N, d, bp + bk.g2, bp + bk.b2, tw->xh2[l], tw->mr2[l], tw->z2[l]);
		mm(0, 0, N, f, d, tw->z2[l], bp + bk.w1, 0, tw->H1[l]);
		nn_add_bias(tw->H1[l], bp + bk.bf1, N, f);
		nn_activate(net->act, tw->G[l], tw->H1[l], N * f);
		if (drop)
			for (i = 0; i < N * f; i++)
				tw->G[l][i] *= tw->mask[l][i];
		memcpy(tw->X[l + 1], tw->Xm[l], N * d * sizeof(float));
		mm(0, 0, N, d, f, tw->G[l], bp + bk.w2, 1, tw->X[l + 1]);
		nn_add_bias(tw->X[l + 1], bp + bk.bf2, N, d);
	}
	/* the head on each row's [CLS] token */
	for (i = 0; i < b; i++)
		memcpy(tw->c + i * d, tw->X[net->tf.layers] + (i * T + T - 1) * d, d * sizeof(float));
	ln_fwd(tw->c, b, d, hd, hd + d, tw->xhf, tw->mrf, tw->r);
	for (i = 0; i < b * d; i++)
		tw->r[i] = tw->r[i] > 0 ? tw->r[i] : 0;
	mm(0, 0, b, k, d, tw->r, hd + 2 * d, 0, tw->out);
	nn_add_bias(tw->out, hd + 2 * d + d * k, b, k);
	return tw->out;
}

void nn_tf_backward(const struct nn *net, struct nn_work *w, size_t b, const float *dz)
{
	struct tf_work *tw = w->tw;
	size_t T = (size_t)net->tf.p + 1, N = b * T, d = (size_t)net->tf.dim;
	size_t f = (size_t)net->tf.ffn, H = (size_t)net->tf.heads, k = (size_t)net->size[1];
	size_t nin = (size_t)net->size[0], i, j, c, q;
	struct blk bk = blk_layout(d, f);
	const float *th = net->theta, *hd = th + head_off(net);
	float *g = w->grad, *gh = g + head_off(net);
	int l, drop = net->dropout > 0;

	memset(g, 0, net->ntheta * sizeof(float));
	/* the head */
	mm(1, 0, d, k, b, tw->r, dz, 0, gh + 2 * d);
	nn_col_sums(gh + 2 * d + d * k, dz, b, k);
	mm(0, 1, b, d, k, dz, hd + 2 * d, 0, tw->dc);
	for (i = 0; i < b * d; i++)
		if (!(tw->r[i] > 0))
			tw->dc[i] = 0;
	memset(tw->dX, 0, N * d * sizeof(float));
	memset(tw->dT, 0, b * d * sizeof(float));
	ln_back(tw->dc, b, d, tw->xhf, tw->mrf, hd, gh, gh + d, tw->dT);
	for (i = 0; i < b; i++)
		memcpy(tw->dX + (i * T + T - 1) * d, tw->dT + i * d, d * sizeof(float));
	for (l = net->tf.layers - 1; l >= 0; l--) {
		const float *bp = th + blk_off(net, l);
		float *gp = g + blk_off(net, l);
		/* the feed-forward layer: X[l + 1] = Xm + act(z2 W1 + b1) W2 + b2 */
		mm(1, 0, f, d, N, tw->G[l], tw->dX, 1, gp + bk.w2);
		nn_col_sums(gp + bk.bf2, tw->dX, N, d);
		mm(0, 1, N, f, d, tw->dX, bp + bk.w2, 0, tw->dH);
		nn_activate_back(net->act, tw->dH, tw->H1[l], tw->G[l], drop ? tw->mask[l] : NULL,
				 N * f);
		mm(1, 0, d, f, N, tw->z2[l], tw->dH, 1, gp + bk.w1);
		nn_col_sums(gp + bk.bf1, tw->dH, N, f);
		mm(0, 1, N, d, f, tw->dH, bp + bk.w1, 0, tw->dZ);
		ln_back(tw->dZ, N, d, tw->xh2[l], tw->mr2[l], bp + bk.g2, gp + bk.g2, gp + bk.b2,
			tw->dX);
		/* attention: Xm = X + attn(z1 Wqkv + bqkv) Wo + bo */
		mm(1, 0, d, d, N, tw->O[l], tw->dX, 1, gp + bk.wo);
		nn_col_sums(gp + bk.bo, tw->dX, N, d);
		mm(0, 1, N, d, d, tw->dX, bp + bk.wo, 0, tw->dZ);
		attn_back(tw->qkv[l], tw->P[l], net->tf.adrop > 0 ? tw->amask[l] : NULL, tw->dZ, b,
			  T, H, d / H, tw->dQ, tw->sp);
		mm(1, 0, d, 3 * d, N, tw->z1[l], tw->dQ, 1, gp + bk.wqkv);
		nn_col_sums(gp + bk.bqkv, tw->dQ, N, 3 * d);
		mm(0, 1, N, d, 3 * d, tw->dQ, bp + bk.wqkv, 0, tw->dZ);
		ln_back(tw->dZ, N, d, tw->xh1[l], tw->mr1[l], bp + bk.g1, gp + bk.g1, gp + bk.b1,
			tw->dX);
	}
	/* the tokens */
	for (i = 0; i < b; i++) {
		const float *x = w->in + i * nin, *dXi = tw->dX + i * T * d;
		for (j = 0; j < (size_t)net->tf.p; j++) {
			const float *dj = dXi + j * d;
			int c0 = net->tf.first[j], cw = net->tf.width[j];
			float *gb = g + tok_b(net) + j * d;
			for (q = 0; q < d; q++)
				gb[q] += dj[q];
			for (c = (size_t)c0; c < (size_t)(c0 + cw); c++) {
				float *gw = g + c * d;
				if (x[c] == 0)
					continue;
				for (q = 0; q < d; q++)
					gw[q] += x[c] * dj[q];
			}
		}
		for (q = 0; q < d; q++)
			g[cls_off(net) + q] += dXi[(T - 1) * d + q];
	}
}

double nn_tf_row_flops(const struct nn *net)
{
	double T = net->tf.p + 1, d = net->tf.dim, f = net->tf.ffn;

	/* forward and both backward products of the blocks' dense maps and the attention */
	return 3 * 2 * T * net->tf.layers * (3 * d * d + d * d + 2 * d * f + 2 * T * d);
}
