/* Decision trees shared by the tree learners (gbdt, rf, tree): the flattened node arrays,
 * a growable tree, forests of them with fast scoring, leaf indices and exact TreeSHAP,
 * their model sections and tables, and the CART grower that rf and tree use. */
#ifndef ML_TREE_H
#define ML_TREE_H

#include <stddef.h>
#include <stdint.h>

#include "hist.h"
#include "ml/ctx.h"
#include "ml/err.h"
#include "ml/frame.h"
#include "ml/learn.h"
#include "ml/model.h"

/* A node. Children come in pairs: the right child is always left + 1, and children
 * have larger indices than their parent, so every walk ends. */
struct ml_tnode {
	double thr;    /* numeric split: x <= thr goes left; categorical split: the number of
			* levels its set covers; leaf (nout == 1): the value */
	int32_t feat;  /* split feature, or -1 for a leaf */
	int32_t left;  /* split: left child; leaf with nout > 1: offset of its values */
	int32_t cat;   /* categorical split: offset of its level set in bits, else -1 */
	int32_t dleft; /* missing values (NaN) go left */
};

/* One tree while it grows. Node indices are local to the tree. */
struct ml_tree {
	struct ml_tnode *node;
	double *cover, *gain; /* per node: training weight (hessian sum for gbdt), split gain */
	int32_t n, cap;
	double *val; /* leaf values when nout > 1 */
	int32_t nval, capval;
	uint32_t *bits; /* category sets, 32 levels a word */
	int32_t nbits, capbits;
};

void ml_tree_init(struct ml_tree *t);
void ml_tree_release(struct ml_tree *t);
/* Reset to no nodes, keeping the memory. */
void ml_tree_clear(struct ml_tree *t);
/* The root, as a leaf of value 0 with the given cover. 0, or -1 when out of memory. */
int ml_tree_root(struct ml_tree *t, double cover);
/* Split leaf k on feature feat: numerically at thr when set is NULL, else by the level
 * set set (ncat levels; a level in the set goes left). Returns the index of the new
 * left child (the right one follows it), both leaves of value 0, or -1 when out of
 * memory. */
int32_t ml_tree_split(struct ml_tree *t, int32_t k, int32_t feat, double thr, int dleft,
		      const uint32_t *set, int ncat, double gain, double cover_left,
		      double cover_right);
/* Set leaf k's value vector (nout > 1); 0 or -1 when out of memory. */
int ml_tree_leafv(struct ml_tree *t, int32_t k, const double *v, int nout);
/* The depth of the deepest leaf (the root alone: 0). */
int ml_tree_depth(const struct ml_tnode *node, int32_t n);
/* Room for need elements of sz bytes in the array *p of capacity *cap, which doubles (up to
 * INT32_MAX elements). 0, or -1 when out of memory or need is more than that. */
int ml_tree_grow_array(void **p, int32_t *cap, int64_t need, size_t sz);

/* A node as scoring walks it: a leaf points to itself and sends every value left, so a
 * walk of a tree's depth in steps needs no test for leaves. feat holds the feature in
 * its low 31 bits and the missing direction (1: left) in its top bit. */
struct ml_snode {
	double thr;
	uint32_t feat;
	int32_t left;
};

/* A forest: trees scored together. There are M = nout * ngroup margins per row: tree t
 * adds its leaf's nout values to margins (t % ngroup) * nout ...; a margin is base plus
 * the sum of what its trees add, or plus their mean when average is set. */
struct ml_forest {
	int p, nout, ngroup, average, ntrees;
	double *base;	/* M start values */
	int32_t *start; /* ntrees + 1: each tree's first node */
	struct ml_tnode *node;
	double *cover, *gain;
	double *mean;		/* per node and leaf value: the cover-weighted expected value */
	struct ml_snode *snode; /* per node, for trees without categorical splits */
	int *depth;		/* per tree: its depth, or -1 when it has categorical splits */
	double *val;
	uint32_t *bits;
	int32_t nnode, capnode, captree, nval, capval, nbits, capbits;
};

int ml_forest_init(struct ml_forest *F, int p, int nout, int ngroup, int average, struct ml_err *e);
void ml_forest_release(struct ml_forest *F);
static inline int ml_forest_nmargin(const struct ml_forest *F)
{
	return F->nout * F->ngroup;
}
/* Append a copy of tree t. */
int ml_forest_add(struct ml_forest *F, const struct ml_tree *t, struct ml_err *e);
/* Keep the first ntrees trees. */
void ml_forest_truncate(struct ml_forest *F, int ntrees);
/* Compute what scoring needs beyond the trees (expected values for TreeSHAP). Call
 * after the last ml_forest_add. */
int ml_forest_finish(struct ml_forest *F, struct ml_err *e);

/* The fraction of a node's cover that child c has. */
static inline double ml_forest_frac(const struct ml_forest *F, int32_t node, int32_t child)
{
	double w = F->cover[node];
	return w > 0 ? F->cover[child] / w : 0.5;
}

/* The child of split node q that value x goes to. */
static inline int32_t ml_tree_next(const struct ml_tnode *q, const uint32_t *bits, double x)
{
	int left;

	if (q->cat < 0) {
		left = x <= q->thr;
	} else {
		/* x becomes a level index only once it is one: converting NaN (a missing
		 * level) or a negative value to an unsigned type is undefined */
		left = x >= 0 && x < q->thr &&
		       (bits[q->cat + (int32_t)((uint32_t)x >> 5)] >> ((uint32_t)x & 31)) & 1;
	}
	if (x != x)
		left = q->dleft;
	return q->left + !left;
}

/* The leaf row i of X (column-major, leading dimension ld) reaches in the tree whose
 * nodes start at nd. */
static inline int32_t ml_tree_leaf(const struct ml_tnode *nd, const uint32_t *bits, const double *X,
				   size_t ld, size_t i)
{
	int32_t k = 0;

	while (nd[k].feat >= 0)
		k = ml_tree_next(&nd[k], bits, X[(size_t)nd[k].feat * ld + i]);
	return k;
}

/* The same for row i of columns col (col[j][i]). */
static inline int32_t ml_tree_leafc(const struct ml_tnode *nd, const uint32_t *bits,
				    const double *const *col, size_t i)
{
	int32_t k = 0;

	while (nd[k].feat >= 0)
		k = ml_tree_next(&nd[k], bits, col[nd[k].feat][i]);
	return k;
}

/* The leaves of rows rows[0..m) of columns col (col[j][row]) in tree t: leaf[x]. Trees
 * without categorical splits walk eight rows together. */
void ml_forest_leaves_of(const struct ml_forest *F, int t, const double *const *col,
			 const uint32_t *rows, size_t m, int32_t *leaf);
/* Margins of n rows of X: out[i * M + m]. */
void ml_forest_margins(const struct ml_forest *F, const double *X, size_t n, size_t ld,
		       double *out);
/* Leaf node index of each row in each tree: out[i * ntrees + t]. */
void ml_forest_leaves(const struct ml_forest *F, const double *X, size_t n, size_t ld,
		      int32_t *out);
/* TreeSHAP contributions to margins m0 .. m0 + K - 1: out[(i * K + k) * (p + 1) + j], the
 * expected value at j = p; a row's values for a margin sum to that margin. */
int ml_forest_contrib(const struct ml_forest *F, const double *X, size_t n, size_t ld, int m0,
		      int K, double *out, struct ml_err *e);

/* Per feature: the sums of split gain and cover, and the number of splits. */
void ml_forest_importance(const struct ml_forest *F, double *gain, double *cover, double *splits);

/* As model section name, and back (checked against p features). */
int ml_forest_save(const struct ml_forest *F, struct ml_model *m, const char *name,
		   struct ml_err *e);
int ml_forest_load(struct ml_forest *F, const struct ml_model *m, const char *name, int p,
		   struct ml_err *e);

/* The "tree" table: one row per node: tree, node, depth, feature, condition (the left
 * branch's: "x <= 2.5", "x in {0,3}" with level indices, "x is present"), left, right
 * (child nodes), missing (the side missing values take), gain, cover, the value (the
 * cover-weighted mean of the leaves below; "value_K" per class when nout > 1), and with
 * rules a "rule" column: for a leaf, the conditions of its path joined by "and". */
int ml_forest_table_tree(const struct ml_forest *F, const struct ml_data *shape, int rules,
			 struct ml_frame *out, struct ml_err *e);

/* Shared parameter parsing helpers. */
enum { ML_CRIT_GINI = 0, ML_CRIT_ENTROPY = 1, ML_CRIT_MSE = 2 };

/* CART growth (rf and tree). */
struct ml_cart_opts {
	int crit;	  /* ML_CRIT_* */
	int K;		  /* classes, 0 for regression */
	int max_depth;	  /* 0: unlimited */
	int min_split;	  /* rows a node needs to be split */
	int min_leaf;	  /* rows each child needs */
	int mtry;	  /* features tried per node (at most p) */
	double ccp_alpha; /* cost-complexity pruning (0: none) */
	/* Raw feature columns, or NULL. Given, a numeric feature with more distinct values
	 * than bins splits between its sorted values (as scikit-learn's) instead. */
	const double *const *raw;
};

struct ml_cart_ws; /* scratch space, one per worker */
struct ml_cart_ws *ml_cart_ws_new(const struct ml_bins *b, int K);
void ml_cart_ws_free(struct ml_cart_ws *ws);

/* Grow a tree on the m rows rows[] (of b's rows; b needs the column layout) with weights w (> 0
 * each; per row of b, NULL for 1) into t (cleared first). y: class index or value per row of b. rng
 * picks the mtry features (unused when mtry == p). Leaves hold the class proportions (nout = K) or
 * the mean (nout = 1). 0, or -1 when out of memory. */
int ml_cart_grow(struct ml_tree *t, const struct ml_bins *b, const double *y, const double *w,
		 const uint32_t *rows, size_t m, const struct ml_cart_opts *o, struct ml_rng *rng,
		 struct ml_cart_ws *ws);

/* A fitted rf or tree model: a forest whose leaves hold class proportions (nout =
 * nclass) or means, averaged over the trees. */
struct ml_cf {
	int nclass; /* 0 for regression */
	struct ml_forest F;
	double oob;   /* out-of-bag score (rf), NaN when none */
	double *perm; /* permutation importances (rf), or NULL */
};

void ml_cf_free(void *state);
/* The struct ml_algo members of rf and tree. For classification the margins are the
 * class probabilities themselves: raw output and TreeSHAP contributions are in
 * probability units (binary: of the second class). */
int ml_cf_predict(const void *state, const double *X, size_t n, size_t ld, double *out, int raw,
		  struct ml_err *e);
int ml_cf_ntrees(const void *state);
int ml_cf_leaves(const void *state, const double *X, size_t n, size_t ld, int32_t *out,
		 struct ml_err *e);
int ml_cf_contrib(const void *state, const double *X, size_t n, size_t ld, double *out,
		  struct ml_err *e);
/* Sections prefix.forest and prefix.info; the out-of-bag score also as metadata
 * "oob_score". */
int ml_cf_save(const struct ml_cf *c, struct ml_model *m, const char *prefix, struct ml_err *e);
int ml_cf_load(struct ml_cf **out, const struct ml_model *m, const char *prefix,
	       const struct ml_data *shape, struct ml_err *e);
/* Tables "importance" (feature, impurity: the mean decrease in impurity normalised as
 * scikit-learn's feature_importances_, and permutation when the model has them) and
 * "tree". */
int ml_cf_table(const struct ml_cf *c, const char *name, const struct ml_data *shape, int rules,
		struct ml_frame *out, struct ml_err *e);

#endif
