/* Private declarations of gbdt's files: objectives, training state, histograms, growth. */
#ifndef ML_GBDT_H
#define ML_GBDT_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "hist.h"
#include "ml/ctx.h"
#include "ml/learn.h"
#include "tree.h"

/* --- Objectives --------------------------------------------------------------------- */

/* --objective, in the order of its choices (stored in model files: never renumbered). */
enum {
	OBJ_AUTO = 0,
	OBJ_LOGISTIC,
	OBJ_SOFTMAX,
	OBJ_SQUARED,
	OBJ_ABSOLUTE,
	OBJ_HUBER,
	OBJ_QUANTILE,
	OBJ_POISSON,
	OBJ_COUNT
};

/* Per objective: its --objective name, and the metric its progress lines report. */
extern const char *const ml_gbdt_obj_name[OBJ_COUNT];
extern const char *const ml_gbdt_metric_name[OBJ_COUNT];

/* Inline: predictions take it row by row. */
static inline double ml_gbdt_sigmoid(double z)
{
	if (z >= 0)
		return 1 / (1 + exp(-z));
	else {
		double ez = exp(z);
		return ez / (1 + ez);
	}
}

/* Gradient and hessian of the loss of one row (weight 1) at margin f, for the single
 * margin objectives. */
void ml_gbdt_grad1(int obj, double f, double y, double delta, double alpha, double *g, double *h);

/* The binary logistic pass has an AVX2 version, taken when the processor has it. */
#if defined(__GNUC__) && defined(__x86_64__)
#define HAVE_PASS8 1
#endif

/* The weighted (g, h) pairs of logistic rows [0, n) into gh, in single precision: n a
 * multiple of 4 (of 8 when avx2 is set). */
void ml_gbdt_logistic_pass(const double *f, const double *y, const double *w, float *gh, size_t n,
			   int avx2);
/* One row's (g, h) by the same arithmetic. */
void ml_gbdt_logistic_gh(double f, double y, double w, float *gh);
/* A softmax row's (g, h) pairs per class with weight w into gh[2k], gh[2k + 1]; the
 * hessian is the diagonal p (1 - p). Returns the row's loss (weight 1). */
double ml_gbdt_softmax_gh(const double *f, int K, int y, double w, float *gh);
/* The loss of one row (weight 1); for softmax the margins are f[0..K). */
double ml_gbdt_loss1(int obj, const double *f, int K, double y, double delta, double alpha);
/* The metric from the summed losses of rows of weight W. */
double ml_gbdt_metric_of(int obj, double sum, double W);

/* For tests: the loss of one row of weight 1 at margins f[0..K) (K > 1 for softmax
 * only), and the gradient and hessian (diagonal) that gbdt boosts with, rounded to single
 * precision as it stores them. objective: a --objective name other than auto. Returns
 * 0, or -1 for an unknown objective or a bad K. The loss is the one the gradient
 * belongs to: half the squared error, half the Poisson deviance. */
int ml_gbdt_objective(const char *objective, const double *f, int K, double y, double delta,
		      double alpha, double *loss, double *g, double *h);

/* --- Training state ----------------------------------------------------------------- */

struct split {
	double gain, GL, HL, CL; /* left sums (with the missing rows when dleft) */
	int feat, lo, hi, dleft, ncat;
	uint32_t set[8];
};

struct gnode {
	size_t lo, hi; /* rows idx[lo..hi) */
	double G, H;
	int depth;
	int32_t tn;	 /* node in the tree */
	double *hist;	 /* histogram, or NULL */
	int want;	 /* evaluate its split */
	struct split sp; /* sp.feat < 0: none */
	uint8_t lut[256];
	size_t nl;  /* rows going left */
	int defer;  /* split without partitioning its rows: both children are final leaves */
	int shared; /* a leaf whose rows are its parent's, unpartitioned */
	int kid;    /* g->nodes index of its left child (the right one follows) */
};

struct btask {
	const struct gnode *nd;
	size_t a, z;
	double *dst;
};

struct ptask {
	struct gnode *nd;
	size_t a, z, nl, pl, pr;
};

/* A split parent: its smaller child is built from rows (possibly in chunks), the larger
 * derived by subtraction in the parent's buffer. */
struct pair {
	struct gnode *small, *big; /* big may be NULL */
	int t0, nt;		   /* its build tasks */
};

struct gb {
	const struct ml_data *d;
	const struct ml_bins *bins;
	size_t n;
	int p, K, obj, ES; /* ES: doubles per histogram entry, 2 or 4 with counts */
	double eta, lambda, l1, gamma, mcw, delta, alpha;
	int min_leaf, max_depth, max_leaves;
	int refit; /* leaves refitted from their rows' residuals (absolute, quantile) */
	int avx2;  /* the processor has AVX2 */
	struct ml_pool *pool;
	/* per round */
	double *F; /* margins, n x K */
	float *gh; /* K blocks of n (g, h) pairs */
	const float *ghk;
	uint32_t *idx, *tmp;
	size_t nidx;
	unsigned char *insample;
	/* Margin updates put off to the next gradient pass: each sampled row's leaf slot per
	 * class and the slots' values (class k's at pv + k * npv). A tree with at most 256
	 * slots writes them as bytes at the start of its class's room (narrow[k]): a quarter
	 * of the memory traffic. */
	uint32_t *pos;
	unsigned char *narrow;
	double *pv;
	size_t npv;
	int pend;
	unsigned char *fon; /* features of this round */
	double *loss;	    /* per row task: summed loss */
	double *ghsum;	    /* without row sampling, per row task and class: sums of (g, h) */
	int want_loss;
	/* histogram buffers */
	double **hfree;
	int nhfree, caphfree;
	double **hall;
	int nhall, caphall;
	size_t hlen; /* doubles per histogram */
	/* nodes */
	struct gnode *nodes;
	int nnodes, capnodes;
	/* jobs */
	struct btask *bt;
	int nbt, capbt;
	int *border; /* build tasks, largest first: the pool hands them out in this order */
	struct ptask *pt;
	int npt, cappt;
	struct pair *pairs;
	int npairs, cappairs;
	struct split *bres; /* per pair, block and side: best split */
	int nfb;
	struct kbuf *kb; /* per worker */
	int nkb;
	/* the tree growing */
	struct ml_tree tree;
	/* validation margins */
	double *vF;
};

/* --- Histogram building ----------------------------------------------------------------- */

typedef double v2d __attribute__((vector_size(16)));

/* Rows per block of the histogram kernel. */
#define BLOCK_ROWS 1024

/* Per worker: a block of rows' bins (stride p8) and their (g, h) as doubles. */
struct kbuf {
	uint8_t *rows;
	v2d *gh;
};

/* A pool task: the histogram of build task t (g->bt[g->border[t]]) of the struct gb at arg,
 * cleared first. */
void ml_gbdt_build_task(void *arg, size_t t, int worker);

/* --- Growing one tree ------------------------------------------------------------------ */

/* Rows ahead whose bins are prefetched where a node's scattered rows are walked. */
#define UPD_AHEAD 32

/* Partial buffers for chunked builds: reuse those of earlier steps. */
struct partials {
	double **buf;
	int n, cap;
};

/* Leaf weight -T(G) / (H + lambda), 0 without enough hessian. */
double ml_gbdt_weight(const struct gb *g, double G, double H);
/* Grow a tree on rows idx[0..nidx) with gradients g->ghk. The leaves are the nodes of
 * g->nodes with no children: their rows and sums stay there for the caller. */
int ml_gbdt_grow_tree(struct gb *g, struct partials *P, double G, double H);

#endif
