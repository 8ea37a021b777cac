/* Private to libml: a dense feed-forward network in float32 for -a mlp. Layers are
 * dense (x W + b), each hidden one optionally batch-normalised, then activated, then
 * dropped out while training; the input may hold learned embeddings of categorical
 * features. Forward and backward passes work on batches of rows (row-major) through
 * cblas_sgemm. All parameters live in one flat array, so an optimiser is one loop. */
#ifndef ML_LEARN_NN_H
#define ML_LEARN_NN_H

#include <stddef.h>
#include "ml/ctx.h"

/* Elementwise loops in AVX-512's or AVX2's wider vectors where the processor has them:
 * the same operations, one at a time on each value, so the same values either way. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define NN_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define NN_CLONES
#endif

enum { NN_RELU, NN_TANH, NN_GELU };
/* Output and loss: identity outputs with half the squared error (averaged over the
 * outputs when there are several: a regression target, or an autoencoder's
 * reconstruction of its inputs), a sigmoid with the binary cross-entropy, a softmax with
 * the multiclass one. */
enum { NN_MSE, NN_SIGMOID, NN_SOFTMAX };

/* An embedding: input columns [col, col + dim) of every row are row level of a
 * table of nlev x dim parameters at offset off of theta (no level: zeros). */
struct nn_embed {
	int col, dim, nlev;
	size_t off;
};

#define NN_TF_MAX_LAYERS 16

/* A tabular transformer's settings (tf.c): p feature tokens, each from its input columns
 * [first, first + width), and a [CLS] token; layers blocks of heads attention heads on
 * tokens of dim values, with feed-forward layers of ffn units. */
struct nn_tf {
	int on, p, layers, heads, dim, ffn;
	int *first, *width;
	float adrop; /* attention dropout while training: set before any work space */
};

struct nn {
	int nlayer;  /* dense layers: hidden ones and the output (a transformer: 1, its sizes
		      * the inputs and the outputs) */
	int *size;   /* nlayer + 1: inputs, each hidden width, outputs */
	int act, bn, loss;
	float dropout;
	size_t ntheta;
	float *theta;		    /* every trained parameter */
	size_t *woff, *boff, *goff; /* per layer: W (size[l] x size[l+1]), b, and with bn
				     * gamma then beta (hidden layers) */
	float *rmean, *rvar;	    /* batch norm running statistics, per hidden unit */
	size_t *roff;		    /* per layer: offset into rmean/rvar */
	int nembed;
	struct nn_embed *embed;
	int nwr;
	size_t *wr; /* nwr ranges [wr[2 i], wr[2 i + 1]) of theta: the weights decayed */
	struct nn_tf tf;
};

/* Per-batch work space for up to cap rows. */
struct nn_work {
	size_t cap;
	float *in;		    /* cap x size[0]: the input batch */
	float **h, **u, **a, **mask; /* per layer: pre-normalisation (then the normalised
				      * values), pre-activation, output, dropout scale */
	float **mu, **istd;	    /* per hidden layer: batch statistics */
	float *d1, *d2;		    /* gradients, cap x widest */
	float *grad;		    /* ntheta */
	struct tf_work *tw;	    /* a transformer's */
};

/* A network with these sizes (nlayer + 1 of them) and settings, parameters zero;
 * NULL when out of memory. nembed embeddings are added to theta after the layers. */
struct nn *nn_new(int nlayer, const int *size, int act, int bn, int loss, float dropout,
		  int nembed, const struct nn_embed *embed);
void nn_free(struct nn *net);
/* Seeded initialisation: He normal for ReLU and GELU layers, Glorot uniform for tanh
 * layers and the output, standard normal embeddings, biases 0, gamma 1, beta 0. */
void nn_init(struct nn *net, struct ml_rng *rng);

int nn_work_init(struct nn_work *w, const struct nn *net, size_t cap);
void nn_work_release(struct nn_work *w);

/* Forward pass of b rows in w->in (their embedding columns filled from theta with
 * levels lev[i * nembed + k], -1 for none; lev NULL when there are no embeddings).
 * train: batch statistics, running statistics updated (with momentum 0.1), dropout
 * drawn from rng (NULL: the masks already in w, from nn_dropout_masks). Returns the
 * outputs, b x size[nlayer], in w's space. */
const float *nn_forward(struct nn *net, struct nn_work *w, size_t b, const int32_t *lev,
			int train, struct ml_rng *rng);
/* The inference pass with no side effects (running statistics, no dropout). Hidden
 * layer l's outputs are then in w->a[l] (b x size[l + 1]). */
const float *nn_infer(const struct nn *net, struct nn_work *w, size_t b, const int32_t *lev);
/* A batch's dropout masks for its rows cut into nw consecutive shards, rows[k] of them
 * in w[k]: drawn from rng in the order nn_forward draws them for the whole batch (layer
 * by layer, row by row), so the shards see the masks the whole batch would. */
void nn_dropout_masks(const struct nn *net, struct nn_work *w, const size_t *rows, int nw,
		      struct ml_rng *rng);
/* The loss of outputs z of b rows (k each) against targets y (NN_MSE: k values a row,
 * y[i * k + c]; else class indices, y[i]) with weights wt (NULL: 1), as the weighted
 * mean; its gradient by z into dz. W > 0 is the total weight the mean divides by (that
 * of a whole batch, when these rows are a shard of it); otherwise the rows' own. */
double nn_loss(int loss, const float *z, size_t b, int k, const double *y, const double *wt,
	       double W, float *dz);
/* Backward pass after nn_forward with train 1: dz (b x outputs) the loss gradient by
 * the outputs; the gradient of every parameter into w->grad. */
void nn_backward(const struct nn *net, struct nn_work *w, size_t b, const int32_t *lev,
		 const float *dz);

/* y (n rows of m) += b on every row; g (m) += the column sums of x (n rows of m), row by
 * row: elementwise, so the same sums in any vector width. */
void nn_add_bias(float *restrict y, const float *restrict b, size_t n, size_t m);
void nn_col_sums(float *restrict g, const float *restrict x, size_t n, size_t m);
/* a = act(u) over n values; and back: d, the gradient by the outputs a = m act(u) (m the
 * dropout scales, NULL for 1), into the gradient by u, in place. */
void nn_activate(int act, float *restrict a, const float *restrict u, size_t n);
void nn_activate_back(int act, float *restrict d, const float *restrict u,
		      const float *restrict a, const float *restrict mask, size_t n);

/* The tabular transformer: a network made by nn_new(1, {inputs, outputs}, act, 0, loss,
 * dropout, 0, NULL) turned into one (its parameters reallocated, zero); -1 when out of
 * memory or the settings do not fit (dim a multiple of heads). Then the functions above
 * work on it as on any network (the dropout on the feed-forward layers' units). */
int nn_tf_setup(struct nn *net, int p, const int *first, const int *width, int layers,
		int heads, int dim, int ffn);
/* The floats of a transformer's work space for cap rows. */
size_t nn_tf_work_floats(const struct nn *net, size_t cap);
/* The sgemm and attention work of one row's forward and backward passes, in flops. */
double nn_tf_row_flops(const struct nn *net);
/* tf.c's side of the functions above, which call them for a transformer. */
void nn_tf_init(struct nn *net, struct ml_rng *rng);
int nn_tf_work_init(struct nn_work *w, const struct nn *net);
void nn_tf_work_release(struct nn_work *w);
const float *nn_tf_forward(const struct nn *net, struct nn_work *w, size_t b, int train,
			   struct ml_rng *rng);
void nn_tf_masks(const struct nn *net, struct nn_work *w, const size_t *rows, int nw,
		 struct ml_rng *rng);
void nn_tf_backward(const struct nn *net, struct nn_work *w, size_t b, const float *dz);

#endif
