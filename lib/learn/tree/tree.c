/* Decision trees shared by gbdt, rf and tree: growable trees, forests with fast scoring,
 * leaf indices, and CART growth with cost-complexity pruning. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tree.h"

/* --- Trees ------------------------------------------------------------------------------ */

void ml_tree_init(struct ml_tree *t)
{
	memset(t, 0, sizeof(*t));
}

void ml_tree_release(struct ml_tree *t)
{
	if (!t)
		return;
	free(t->node);
	free(t->cover);
	free(t->gain);
	free(t->val);
	free(t->bits);
	memset(t, 0, sizeof(*t));
}

void ml_tree_clear(struct ml_tree *t)
{
	t->n = 0;
	t->nval = 0;
	t->nbits = 0;
}

static int tree_reserve(struct ml_tree *t, int32_t need)
{
	if (need > t->cap) {
		int32_t cap = t->cap ? t->cap : 16;
		struct ml_tnode *nd;
		double *c, *g;
		while (cap < need) {
			if (cap > INT32_MAX / 2)
				return -1;
			cap *= 2;
		}
		nd = realloc(t->node, (size_t)cap * sizeof(*nd));
		if (!nd)
			return -1;
		t->node = nd;
		c = realloc(t->cover, (size_t)cap * sizeof(*c));
		if (!c)
			return -1;
		t->cover = c;
		g = realloc(t->gain, (size_t)cap * sizeof(*g));
		if (!g)
			return -1;
		t->gain = g;
		t->cap = cap;
	}
	return 0;
}

static void leaf_init(struct ml_tnode *q)
{
	q->thr = 0;
	q->feat = -1;
	q->left = 0;
	q->cat = -1;
	q->dleft = 0;
}

int ml_tree_root(struct ml_tree *t, double cover)
{
	ml_tree_clear(t);
	if (tree_reserve(t, 1) < 0)
		return -1;
	leaf_init(&t->node[0]);
	t->cover[0] = cover;
	t->gain[0] = 0;
	t->n = 1;
	return 0;
}

int32_t ml_tree_split(struct ml_tree *t, int32_t k, int32_t feat, double thr, int dleft,
		      const uint32_t *set, int ncat, double gain, double cover_left,
		      double cover_right)
{
	int32_t l = t->n;
	struct ml_tnode *q;

	if (t->n > INT32_MAX - 2 || tree_reserve(t, t->n + 2) < 0)
		return -1;
	q = &t->node[k];
	q->feat = feat;
	q->left = l;
	q->dleft = dleft != 0;
	q->cat = -1;
	q->thr = thr;
	t->gain[k] = gain;
	if (set) {
		int32_t nw = (ncat + 31) / 32;
		if (t->nbits + nw > t->capbits) {
			int32_t cap = t->capbits ? t->capbits : 16;
			uint32_t *b;
			while (cap < t->nbits + nw)
				cap *= 2;
			b = realloc(t->bits, (size_t)cap * sizeof(*b));
			if (!b)
				return -1;
			t->bits = b;
			t->capbits = cap;
		}
		memcpy(t->bits + t->nbits, set, (size_t)nw * sizeof(uint32_t));
		q->cat = t->nbits;
		q->thr = ncat;
		t->nbits += nw;
	}
	leaf_init(&t->node[l]);
	leaf_init(&t->node[l + 1]);
	t->cover[l] = cover_left;
	t->cover[l + 1] = cover_right;
	t->gain[l] = 0;
	t->gain[l + 1] = 0;
	t->n += 2;
	return l;
}

int ml_tree_leafv(struct ml_tree *t, int32_t k, const double *v, int nout)
{
	if (t->nval + nout > t->capval) {
		int32_t cap = t->capval ? t->capval : 64;
		double *b;
		while (cap < t->nval + nout)
			cap *= 2;
		b = realloc(t->val, (size_t)cap * sizeof(*b));
		if (!b)
			return -1;
		t->val = b;
		t->capval = cap;
	}
	memcpy(t->val + t->nval, v, (size_t)nout * sizeof(double));
	t->node[k].left = t->nval;
	t->node[k].thr = 0;
	t->nval += nout;
	return 0;
}

int ml_tree_depth(const struct ml_tnode *node, int32_t n)
{
	int *d = malloc((size_t)(n ? n : 1) * sizeof(int)), best = 0;
	int32_t k;

	if (!d) {
		/* A safe upper bound. */
		return n;
	}
	d[0] = 0;
	for (k = 0; k < n; k++) {
		if (node[k].feat >= 0) {
			d[node[k].left] = d[k] + 1;
			d[node[k].left + 1] = d[k] + 1;
		} else if (d[k] > best) {
			best = d[k];
		}
	}
	free(d);
	return best;
}

/* --- Forests ---------------------------------------------------------------------------- */

int ml_forest_init(struct ml_forest *F, int p, int nout, int ngroup, int average, struct ml_err *e)
{
	memset(F, 0, sizeof(*F));
	F->p = p;
	F->nout = nout;
	F->ngroup = ngroup;
	F->average = average;
	F->base = calloc((size_t)nout * (size_t)ngroup, sizeof(double));
	F->start = calloc(1, sizeof(int32_t));
	if (!F->base || !F->start) {
		ml_forest_release(F);
		return ml_err_nomem(e);
	}
	F->captree = 0;
	return 0;
}

void ml_forest_release(struct ml_forest *F)
{
	if (!F)
		return;
	free(F->base);
	free(F->start);
	free(F->node);
	free(F->cover);
	free(F->gain);
	free(F->mean);
	free(F->snode);
	free(F->depth);
	free(F->val);
	free(F->bits);
	memset(F, 0, sizeof(*F));
}

static int grow(void **p, int32_t *cap, int64_t need, size_t sz)
{
	int64_t c = *cap ? *cap : 64;
	void *q;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	if (c > INT32_MAX)
		c = INT32_MAX;
	if (c < need)
		return -1;
	q = realloc(*p, (size_t)c * sz);
	if (!q)
		return -1;
	*p = q;
	*cap = (int32_t)c;
	return 0;
}

int ml_forest_add(struct ml_forest *F, const struct ml_tree *t, struct ml_err *e)
{
	int64_t nn = (int64_t)F->nnode + t->n;
	int32_t k, cn = F->capnode, ct = F->captree;
	struct ml_tnode *q;

	if (nn > INT32_MAX || F->ntrees == INT32_MAX - 1)
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "too many tree nodes");
	if (grow((void **)&F->node, &cn, nn, sizeof(*F->node)) < 0)
		return ml_err_nomem(e);
	cn = F->capnode;
	if (grow((void **)&F->cover, &cn, nn, sizeof(double)) < 0)
		return ml_err_nomem(e);
	cn = F->capnode;
	if (grow((void **)&F->gain, &cn, nn, sizeof(double)) < 0)
		return ml_err_nomem(e);
	F->capnode = cn;
	if (grow((void **)&F->start, &ct, (int64_t)F->ntrees + 2, sizeof(int32_t)) < 0)
		return ml_err_nomem(e);
	F->captree = ct;
	if (t->nval &&
	    grow((void **)&F->val, &F->capval, (int64_t)F->nval + t->nval, sizeof(double)) < 0)
		return ml_err_nomem(e);
	if (t->nbits && grow((void **)&F->bits, &F->capbits, (int64_t)F->nbits + t->nbits,
			     sizeof(uint32_t)) < 0)
		return ml_err_nomem(e);
	q = F->node + F->nnode;
	memcpy(q, t->node, (size_t)t->n * sizeof(*q));
	memcpy(F->cover + F->nnode, t->cover, (size_t)t->n * sizeof(double));
	memcpy(F->gain + F->nnode, t->gain, (size_t)t->n * sizeof(double));
	for (k = 0; k < t->n; k++) {
		if (q[k].cat >= 0)
			q[k].cat += F->nbits;
		if (q[k].feat < 0 && F->nout > 1)
			q[k].left += F->nval;
	}
	if (t->nval)
		memcpy(F->val + F->nval, t->val, (size_t)t->nval * sizeof(double));
	if (t->nbits)
		memcpy(F->bits + F->nbits, t->bits, (size_t)t->nbits * sizeof(uint32_t));
	F->nval += t->nval;
	F->nbits += t->nbits;
	F->nnode = (int32_t)nn;
	F->ntrees++;
	F->start[F->ntrees] = F->nnode;
	return 0;
}

void ml_forest_truncate(struct ml_forest *F, int ntrees)
{
	int32_t k, lo;

	if (ntrees >= F->ntrees)
		return;
	F->ntrees = ntrees;
	F->nnode = F->start[ntrees];
	/* Values and sets of the kept trees come first; find where they end. */
	lo = 0;
	for (k = 0; k < F->nnode; k++) {
		if (F->node[k].cat >= 0 &&
		    F->node[k].cat + ((int32_t)F->node[k].thr + 31) / 32 > lo)
			lo = F->node[k].cat + ((int32_t)F->node[k].thr + 31) / 32;
	}
	F->nbits = lo;
	lo = 0;
	if (F->nout > 1)
		for (k = 0; k < F->nnode; k++)
			if (F->node[k].feat < 0 && F->node[k].left + F->nout > lo)
				lo = F->node[k].left + F->nout;
	F->nval = lo;
}

int ml_forest_finish(struct ml_forest *F, struct ml_err *e)
{
	int t, o, no = F->nout;
	int32_t k;

	free(F->mean);
	free(F->snode);
	free(F->depth);
	F->mean = malloc((size_t)(F->nnode ? F->nnode : 1) * (size_t)no * sizeof(double));
	F->snode = malloc((size_t)(F->nnode ? F->nnode : 1) * sizeof(*F->snode));
	F->depth = malloc((size_t)(F->ntrees ? F->ntrees : 1) * sizeof(int));
	if (!F->mean || !F->snode || !F->depth)
		return ml_err_nomem(e);
	for (t = 0; t < F->ntrees; t++) {
		int32_t s = F->start[t], n = F->start[t + 1] - s;
		const struct ml_tnode *nd = F->node + s;
		struct ml_snode *sn = F->snode + s;
		double *mn = F->mean + (size_t)s * no;
		F->depth[t] = ml_tree_depth(nd, n);
		for (k = 0; k < n; k++) {
			if (nd[k].feat < 0) {
				sn[k].thr = INFINITY;
				sn[k].feat = 0x80000000u;
				sn[k].left = k;
			} else {
				sn[k].thr = nd[k].thr;
				sn[k].feat = (uint32_t)nd[k].feat | (nd[k].dleft ? 0x80000000u : 0);
				sn[k].left = nd[k].left;
				if (nd[k].cat >= 0)
					F->depth[t] = -1;
			}
		}
		for (k = n - 1; k >= 0; k--) {
			if (nd[k].feat < 0) {
				for (o = 0; o < no; o++)
					mn[(size_t)k * no + o] =
					    no == 1 ? nd[k].thr : F->val[nd[k].left + o];
			} else {
				int32_t l = nd[k].left;
				double fl = ml_forest_frac(F, s + k, s + l),
				       fr = ml_forest_frac(F, s + k, s + l + 1);
				for (o = 0; o < no; o++)
					mn[(size_t)k * no + o] = fl * mn[(size_t)l * no + o] +
								 fr * mn[(size_t)(l + 1) * no + o];
			}
		}
	}
	return 0;
}

/* Rows scored together: the block's columns stay in cache across the trees. */
#define SCORE_ROWS 256
/* Rows scored together when the trees are big (more nodes per tree than BIG_TREE): each
 * tree is then walked by many rows while its nodes are in cache. */
#define BIG_ROWS 4096
#define BIG_TREE 4096

static size_t block_rows(const struct ml_forest *F)
{
	return F->ntrees && F->nnode / F->ntrees > BIG_TREE ? BIG_ROWS : SCORE_ROWS;
}

/* Trees up to this deep are walked in fixed steps; deeper ones (whose leaves are mostly
 * far shallower than the deepest) node by node. */
#define FIXED_DEPTH 12

/* One step of a walk (struct ml_snode) for the row at offset r of the block whose columns
 * start at col[j]: the left child, or the one after it. Missing values compare false
 * with x > thr, so they go left unless the node sends them right. */
static inline int32_t sstep(const struct ml_snode *sn, int32_t k, const double *const *col,
			    size_t r)
{
	const struct ml_snode *q = &sn[k];
	uint32_t f = q->feat;
	double x = col[f & 0x7fffffffu][r];

	return q->left + ((x > q->thr) | ((x != x) & !(f >> 31)));
}

/* The leaves of m rows in a tree without categorical splits, eight rows walking together
 * so that their memory waits overlap: D steps each (D >= 0, the tree's depth: leaves point
 * to themselves), or, for trees too deep for that (D < 0), until all eight stand on
 * leaves, four steps between looks. Row x reads col[j][R * stride], R being rows[x], or x
 * when rows is NULL. Scalar variables: the compiler's vectorised gathers would be slower. */
static inline __attribute__((always_inline)) void walk8(const struct ml_snode *sn, int D,
							const double *const *col,
							const uint32_t *rows, size_t stride,
							size_t m, int32_t *leaf)
{
	size_t x = 0, o[8];
	int d, j, steps = D >= 0 ? D : 4;

	for (; x + 8 <= m; x += 8) {
		int32_t k0 = 0, k1 = 0, k2 = 0, k3 = 0, k4 = 0, k5 = 0, k6 = 0, k7 = 0;
		for (j = 0; j < 8; j++)
			o[j] = (rows ? rows[x + (size_t)j] : x + (size_t)j) * stride;
		for (;;) {
			for (d = 0; d < steps; d++) {
				k0 = sstep(sn, k0, col, o[0]);
				k1 = sstep(sn, k1, col, o[1]);
				k2 = sstep(sn, k2, col, o[2]);
				k3 = sstep(sn, k3, col, o[3]);
				k4 = sstep(sn, k4, col, o[4]);
				k5 = sstep(sn, k5, col, o[5]);
				k6 = sstep(sn, k6, col, o[6]);
				k7 = sstep(sn, k7, col, o[7]);
			}
			if (D >= 0 ||
			    !((sn[k0].left != k0) | (sn[k1].left != k1) | (sn[k2].left != k2) |
			      (sn[k3].left != k3) | (sn[k4].left != k4) | (sn[k5].left != k5) |
			      (sn[k6].left != k6) | (sn[k7].left != k7)))
				break;
		}
		leaf[x] = k0;
		leaf[x + 1] = k1;
		leaf[x + 2] = k2;
		leaf[x + 3] = k3;
		leaf[x + 4] = k4;
		leaf[x + 5] = k5;
		leaf[x + 6] = k6;
		leaf[x + 7] = k7;
	}
	for (; x < m; x++) {
		size_t r = (rows ? rows[x] : x) * stride;
		int32_t k = 0;
		for (d = 0; D >= 0 ? d < D : sn[k].left != k; d++)
			k = sstep(sn, k, col, r);
		leaf[x] = k;
	}
}

/* The leaves of rows [a, z) in tree t into leaf[i - a]; col[j] is X + j * ld + a. */
static void walk(const struct ml_forest *F, int t, const double *X, size_t ld, size_t a, size_t z,
		 const double *const *col, int32_t *leaf)
{
	const struct ml_tnode *nd = F->node + F->start[t];
	size_t i = a;
	int D = F->depth ? F->depth[t] : -1;

	if (D >= 0) {
		walk8(F->snode + F->start[t], D <= FIXED_DEPTH ? D : -1, col, NULL, 1, z - a, leaf);
		return;
	}
	for (; i < z; i++)
		leaf[i - a] = ml_tree_leaf(nd, F->bits, X, ld, i);
}

/* The leaves of rows [a, z) of tree t: through the row-major copy of the block (rc[j] =
 * its column j, rows p apart) when there is one and the tree is deep, else through the
 * columns. */
static void walk_block(const struct ml_forest *F, int t, const double *X, size_t ld, size_t a,
		       size_t z, const double *const *col, const double *const *rc, int32_t *leaf)
{
	size_t i;

	if (rc && F->depth[t] > FIXED_DEPTH)
		walk8(F->snode + F->start[t], -1, rc, NULL, (size_t)F->p, z - a, leaf);
	else if (col)
		walk(F, t, X, ld, a, z, col, leaf);
	else
		for (i = a; i < z; i++)
			leaf[i - a] = ml_tree_leaf(F->node + F->start[t], F->bits, X, ld, i);
}

/* For big trees, a row-major buffer for a block of BIG_ROWS rows, with *rc its columns
 * (NULL otherwise, or when out of memory: the columns serve then). */
static double *rows_buf(const struct ml_forest *F, size_t rb, const double ***rc)
{
	double *Xr;
	int j;

	*rc = NULL;
	if (rb != BIG_ROWS || !F->depth || F->p <= 0)
		return NULL;
	Xr = malloc(BIG_ROWS * (size_t)F->p * sizeof(double));
	*rc = malloc((size_t)F->p * sizeof(**rc));
	if (!Xr || !*rc) {
		free(Xr);
		free((void *)*rc);
		*rc = NULL;
		return NULL;
	}
	for (j = 0; j < F->p; j++)
		(*rc)[j] = Xr + j;
	return Xr;
}

static void to_rows(double *Xr, const double *X, size_t ld, size_t a, size_t z, int p)
{
	size_t i;
	int j;

	for (j = 0; j < p; j++) {
		const double *x = X + (size_t)j * ld + a;
		for (i = 0; i < z - a; i++)
			Xr[i * (size_t)p + (size_t)j] = x[i];
	}
}

void ml_forest_leaves_of(const struct ml_forest *F, int t, const double *const *col,
			 const uint32_t *rows, size_t m, int32_t *leaf)
{
	const struct ml_tnode *nd = F->node + F->start[t];
	size_t x;

	if (F->depth && F->depth[t] >= 0) {
		walk8(F->snode + F->start[t], -1, col, rows, 1, m, leaf);
		return;
	}
	for (x = 0; x < m; x++)
		leaf[x] = ml_tree_leafc(nd, F->bits, col, rows[x]);
}

/* Column pointers of a block: col[j] = X + j * ld + a. A small forest's fit on the stack. */
#define COLS_STACK 256

void ml_forest_margins(const struct ml_forest *F, const double *X, size_t n, size_t ld, double *out)
{
	int M = ml_forest_nmargin(F), no = F->nout, t, m, o, j;
	size_t a, i;
	double sc = F->average && F->ntrees ? 1.0 / F->ntrees : 1.0;
	int32_t leaf[BIG_ROWS];
	size_t rb = block_rows(F);
	const double *cs[COLS_STACK], **col = cs;
	const double **rc;
	double *Xr = rows_buf(F, rb, &rc);

	if (F->p > COLS_STACK && !(col = malloc((size_t)F->p * sizeof(*col)))) {
		/* Out of memory: walk node by node, which needs no columns. */
		col = NULL;
	}
	for (a = 0; a < n; a += rb) {
		size_t z = a + rb < n ? a + rb : n;
		double *ob = out + a * (size_t)M;
		for (j = 0; col && j < F->p; j++)
			col[j] = X + (size_t)j * ld + a;
		/* A sum of trees starts from the base and adds them in order, as boosting
		 * built its margins; an average is taken of the trees alone. */
		for (i = a; i < z; i++)
			for (m = 0; m < M; m++)
				ob[(i - a) * (size_t)M + (size_t)m] = F->average ? 0 : F->base[m];
		if (Xr)
			to_rows(Xr, X, ld, a, z, F->p);
		for (t = 0; t < F->ntrees; t++) {
			const struct ml_tnode *nd = F->node + F->start[t];
			int g = (t % F->ngroup) * no;
			walk_block(F, t, X, ld, a, z, col, rc, leaf);
			if (no == 1) {
				for (i = a; i < z; i++)
					ob[(i - a) * (size_t)M + (size_t)g] += nd[leaf[i - a]].thr;
			} else {
				for (i = a; i < z; i++) {
					const double *v = F->val + nd[leaf[i - a]].left;
					double *r = ob + (i - a) * (size_t)M + (size_t)g;
					for (o = 0; o < no; o++)
						r[o] += v[o];
				}
			}
		}
		for (i = a; F->average && i < z; i++)
			for (m = 0; m < M; m++)
				ob[(i - a) * (size_t)M + (size_t)m] =
				    F->base[m] + sc * ob[(i - a) * (size_t)M + (size_t)m];
	}
	if (col != cs)
		free(col);
	free(Xr);
	free((void *)rc);
}

void ml_forest_leaves(const struct ml_forest *F, const double *X, size_t n, size_t ld, int32_t *out)
{
	size_t a, i;
	int t, j;
	int32_t leaf[BIG_ROWS];
	size_t rb = block_rows(F);
	const double *cs[COLS_STACK], **col = cs;
	const double **rc;
	double *Xr = rows_buf(F, rb, &rc);

	if (F->p > COLS_STACK && !(col = malloc((size_t)F->p * sizeof(*col))))
		col = NULL;
	for (a = 0; a < n; a += rb) {
		size_t z = a + rb < n ? a + rb : n;
		for (j = 0; col && j < F->p; j++)
			col[j] = X + (size_t)j * ld + a;
		if (Xr)
			to_rows(Xr, X, ld, a, z, F->p);
		for (t = 0; t < F->ntrees; t++) {
			walk_block(F, t, X, ld, a, z, col, rc, leaf);
			for (i = a; i < z; i++)
				out[i * (size_t)F->ntrees + (size_t)t] = leaf[i - a];
		}
	}
	if (col != cs)
		free(col);
	free(Xr);
	free((void *)rc);
}

/* --- CART growth ------------------------------------------------------------------------ */

/* A node of the tree as grown, before pruning and renumbering (preorder). */
struct cnode {
	int32_t l, r; /* children (raw indices), -1 for a leaf */
	int feat, dleft, ncat;
	int32_t set; /* offset of the level set in ws->sets, or -1 */
	double thr;
	double W, cnt, imp, gain;
	int32_t v; /* offset of the value vector in ws->vals */
};

struct cand {
	double score; /* proxy: larger is better */
	int feat, lo, hi, dleft, ncat;
	double WL, WR;
	int exact; /* split at thr on the raw values (else between bins lo and hi) */
	double thr;
};

/* A node's present value of an exactly split feature, and the row's position. */
struct xval {
	double x;
	uint32_t k;
};

struct ml_cart_ws {
	int p, K, S; /* stats per bin: K class weights and a count, or w, wy and a count */
	double *h;   /* 256 bins x S */
	int *touched;
	int *order; /* levels by key */
	double *key;
	uint32_t set[8], bset[8]; /* working and best category sets */
	int *feats;
	uint32_t *idx, *tmp;
	double *yw, *ywt;		      /* per position of idx: the row's target and weight */
	double *tot, *lft, *rgt, *alt, *zero; /* S each */
	struct cnode *nodes;
	int32_t nnodes, capnodes;
	double *vals;
	int32_t nvals, capvals;
	uint32_t *sets;
	int32_t nsets, capsets;
	int32_t *stack;
	int32_t capstack;
	struct xval *xv, *xvt; /* exact splits: a node's values and a merge buffer (made by
				* the first tree that splits so) */
};

struct ml_cart_ws *ml_cart_ws_new(const struct ml_bins *b, int K)
{
	struct ml_cart_ws *ws = calloc(1, sizeof(*ws));
	int S = K > 0 ? K + 1 : 3;

	if (!ws)
		return NULL;
	ws->p = b->p;
	ws->K = K;
	ws->S = S;
	ws->h = calloc(256 * (size_t)S, sizeof(double));
	ws->touched = malloc(256 * sizeof(int));
	ws->order = malloc(256 * sizeof(int));
	ws->key = malloc(256 * sizeof(double));
	ws->feats = malloc((size_t)(b->p ? b->p : 1) * sizeof(int));
	ws->tot = calloc(5 * (size_t)S, sizeof(double));
	ws->idx = malloc((b->n ? b->n : 1) * sizeof(uint32_t));
	ws->tmp = malloc((b->n ? b->n : 1) * sizeof(uint32_t));
	ws->yw = malloc((b->n ? b->n : 1) * 2 * sizeof(double));
	ws->ywt = malloc((b->n ? b->n : 1) * 2 * sizeof(double));
	if (!ws->h || !ws->touched || !ws->order || !ws->key || !ws->feats || !ws->tot ||
	    !ws->idx || !ws->tmp || !ws->yw || !ws->ywt) {
		ml_cart_ws_free(ws);
		return NULL;
	}
	ws->lft = ws->tot + S;
	ws->rgt = ws->lft + S;
	ws->alt = ws->rgt + S;
	ws->zero = ws->alt + S;
	return ws;
}

void ml_cart_ws_free(struct ml_cart_ws *ws)
{
	if (!ws)
		return;
	free(ws->h);
	free(ws->touched);
	free(ws->order);
	free(ws->key);
	free(ws->feats);
	free(ws->idx);
	free(ws->tmp);
	free(ws->yw);
	free(ws->ywt);
	free(ws->xv);
	free(ws->xvt);
	free(ws->tot);
	free(ws->nodes);
	free(ws->vals);
	free(ws->sets);
	free(ws->stack);
	free(ws);
}

/* Impurity of node stats s of weight W (Q: the sum of w y^2 for regression): Gini,
 * entropy in bits, or the variance, as scikit-learn's criteria. */
static double impurity(const struct ml_cart_ws *ws, int crit, const double *s, double W, double Q)
{
	int k;
	double r = 0;

	if (!(W > 0))
		return 0;
	if (crit == ML_CRIT_MSE) {
		double m = s[1] / W, v = Q / W - m * m;
		return v > 0 ? v : 0;
	}
	for (k = 0; k < ws->K; k++) {
		double q = s[k] / W;
		if (crit == ML_CRIT_GINI)
			r += q * q;
		else if (q > 0)
			r -= q * log2(q);
	}
	return crit == ML_CRIT_GINI ? 1 - r : r;
}

/* The split proxy, larger is better: minus the children's weighted impurity up to terms
 * of the node alone (for the squared error: the children's S^2 / W). */
static double proxy(const struct ml_cart_ws *ws, int crit, const double *l, double WL,
		    const double *r, double WR)
{
	int k;
	double a = 0, b = 0;

	if (crit == ML_CRIT_MSE)
		return l[1] * l[1] / WL + r[1] * r[1] / WR;
	if (crit == ML_CRIT_GINI) {
		for (k = 0; k < ws->K; k++) {
			a += l[k] * l[k];
			b += r[k] * r[k];
		}
		return a / WL + b / WR;
	}
	for (k = 0; k < ws->K; k++) {
		if (l[k] > 0)
			a += l[k] * log2(l[k] / WL);
		if (r[k] > 0)
			b += r[k] * log2(r[k] / WR);
	}
	return a + b;
}

/* Insertion sort of n (at most 256) ints by key, ties by value. */
static void sort_by_key(int *v, int n, const double *key)
{
	int i, j;

	for (i = 1; i < n; i++) {
		int x = v[i];
		for (j = i;
		     j > 0 && (key[v[j - 1]] > key[x] || (key[v[j - 1]] == key[x] && v[j - 1] > x));
		     j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

/* Try ws->lft (plus the missing stats mis, or not) as the left side, the rest of tot as
 * the right; keep it in best when better. */
static void try_split(struct ml_cart_ws *ws, const struct ml_cart_opts *o, const double *tot,
		      const double *mis, struct cand *best, int feat, int lo, int hi, int ncat)
{
	int S = ws->S, nw = o->K > 0 ? o->K : 1, s, dl;
	double *R = ws->rgt;

	for (dl = 0; dl < 2; dl++) {
		const double *L = ws->lft;
		double WL = 0, WR = 0, sc;
		if (dl) {
			if (mis[S - 1] == 0)
				break;
			for (s = 0; s < S; s++)
				ws->alt[s] = L[s] + mis[s];
			L = ws->alt;
		}
		for (s = 0; s < S; s++)
			R[s] = tot[s] - L[s];
		if (L[S - 1] < o->min_leaf || R[S - 1] < o->min_leaf)
			continue;
		for (s = 0; s < nw; s++) {
			WL += L[s];
			WR += R[s];
		}
		if (!(WL > 0) || !(WR > 0))
			continue;
		sc = proxy(ws, o->crit, L, WL, R, WR);
		if (sc > best->score) {
			best->score = sc;
			best->exact = 0;
			best->feat = feat;
			best->lo = lo;
			best->hi = hi;
			best->dleft = dl;
			best->ncat = ncat;
			best->WL = WL;
			best->WR = WR;
			if (ncat)
				memcpy(ws->bset, ws->set, sizeof(ws->set));
		}
	}
}

/* Add the stats of the row at position k of idx to e: its class weight (or its weight and
 * weighted target) and a count. */
static inline void add_row(const struct ml_cart_ws *ws, int K, double *e, size_t k)
{
	double yr = ws->yw[2 * k], wr = ws->yw[2 * k + 1];

	if (K > 0) {
		e[(int)yr] += wr;
	} else {
		e[0] += wr;
		e[1] += wr * yr;
	}
	e[ws->S - 1] += 1;
}

/* The best split of rows idx[lo..hi) on feature f into best. Returns 1 when the feature
 * is not constant in the node (missing counting as a value). */
static int eval_feature(struct ml_cart_ws *ws, const struct ml_bins *b, size_t lo, size_t hi, int f,
			const struct ml_cart_opts *o, const double *tot, struct cand *best)
{
	int S = ws->S, miss = b->nb[f], i, s, nz, ret = 0, w;
	double *h = ws->h, *L = ws->lft;
	const uint8_t *C = b->C + (size_t)f * b->n;
	size_t k;
	const double *mis = h + (size_t)miss * S;
	int *tc = ws->touched;
	uint64_t used[4] = {0, 0, 0, 0};

	/* The histogram of the node's rows, touching only the bins they use. */
	for (k = lo; k < hi; k++) {
		int bin = C[ws->idx[k]];
		used[bin >> 6] |= (uint64_t)1 << (bin & 63);
		add_row(ws, o->K, h + (size_t)bin * S, k);
	}
	/* The present bins in order, the missing one apart. */
	used[miss >> 6] &= ~((uint64_t)1 << (miss & 63));
	nz = 0;
	for (w = 0; w < 4; w++)
		for (; used[w]; used[w] &= used[w] - 1)
			tc[nz++] = w * 64 + __builtin_ctzll(used[w]);
	if (nz + (mis[S - 1] > 0) < 2)
		goto clear;
	ret = 1;
	memset(L, 0, (size_t)S * sizeof(double));
	if (!b->cat[f]) {
		for (i = 0; i + 1 < nz; i++) {
			const double *e = h + (size_t)tc[i] * S;
			for (s = 0; s < S; s++)
				L[s] += e[s];
			try_split(ws, o, tot, mis, best, f, tc[i], tc[i + 1], 0);
		}
		if (mis[S - 1] > 0) {
			/* Present values left, missing ones right. */
			const double *e = h + (size_t)tc[nz - 1] * S;
			for (s = 0; s < S; s++)
				L[s] += e[s];
			try_split(ws, o, tot, ws->zero, best, f, tc[nz - 1], miss, 0);
		}
	} else {
		/* Levels sorted by the mean target (by each class's share in turn for more
		 * than two classes), every prefix the left set. */
		int nord = o->K > 2 ? o->K : 1, ord, j;
		for (ord = 0; ord < nord; ord++) {
			for (i = 0; i < nz; i++) {
				const double *e = h + (size_t)tc[i] * S;
				double W = 0;
				int kk;
				if (o->K > 0) {
					for (kk = 0; kk < o->K; kk++)
						W += e[kk];
					ws->key[tc[i]] = e[o->K > 2 ? ord : 1] / W;
				} else {
					ws->key[tc[i]] = e[1] / e[0];
				}
				ws->order[i] = tc[i];
			}
			sort_by_key(ws->order, nz, ws->key);
			memset(L, 0, (size_t)S * sizeof(double));
			memset(ws->set, 0, sizeof(ws->set));
			for (j = 0; j < nz; j++) {
				const double *e = h + (size_t)ws->order[j] * S;
				int lv = ws->order[j];
				for (s = 0; s < S; s++)
					L[s] += e[s];
				ws->set[lv >> 5] |= 1u << (lv & 31);
				if (j + 1 < nz)
					try_split(ws, o, tot, mis, best, f, 0, 0, b->ncat[f]);
				else if (mis[S - 1] > 0)
					try_split(ws, o, tot, ws->zero, best, f, 0, miss,
						  b->ncat[f]);
			}
		}
	}
clear:
	for (i = 0; i < nz; i++)
		memset(h + (size_t)tc[i] * S, 0, (size_t)S * sizeof(double));
	memset(h + (size_t)miss * S, 0, (size_t)S * sizeof(double));
	return ret;
}

/* Merge sort of n values by x, then position: stable and O(n log n) at worst. */
static void sort_xv(struct xval *a, struct xval *t, size_t n)
{
	size_t w, i;

	for (i = 1; i < n; i += 2)
		if (a[i].x < a[i - 1].x) {
			struct xval x = a[i];
			a[i] = a[i - 1];
			a[i - 1] = x;
		}
	for (w = 2; w < n; w *= 2) {
		for (i = 0; i < n; i += 2 * w) {
			size_t m = i + w < n ? i + w : n, z = i + 2 * w < n ? i + 2 * w : n;
			size_t l = i, r = m, o = i;
			while (l < m && r < z)
				t[o++] = a[r].x < a[l].x ? a[r++] : a[l++];
			while (l < m)
				t[o++] = a[l++];
			while (r < z)
				t[o++] = a[r++];
		}
		memcpy(a, t, n * sizeof(*a));
	}
}

/* Values closer than this do not split (scikit-learn's FEATURE_THRESHOLD). */
#define XSPLIT_TOL 1e-7

/* The best split of rows idx[lo..hi) on the raw values x of numeric feature f, between
 * neighbouring sorted values (midway, as scikit-learn), missing values tried on either
 * side. Returns 1 when the feature is not constant in the node. */
static int eval_exact(struct ml_cart_ws *ws, const double *x, size_t lo, size_t hi, int f,
		      const struct ml_cart_opts *o, const double *tot, struct cand *best)
{
	int S = ws->S, s;
	double *L = ws->lft, *mis = ws->h; /* bins are not used here: h is free */
	size_t k, nv = 0, i;

	memset(mis, 0, (size_t)S * sizeof(double));
	for (k = lo; k < hi; k++) {
		double v = x[ws->idx[k]];
		if (v == v) {
			ws->xv[nv].x = v;
			ws->xv[nv].k = (uint32_t)k;
			nv++;
		} else {
			add_row(ws, o->K, mis, k);
		}
	}
	sort_xv(ws->xv, ws->xvt, nv);
	if (nv == 0 || (ws->xv[nv - 1].x <= ws->xv[0].x + XSPLIT_TOL && mis[S - 1] == 0)) {
		/* one value (or none): constant */
		memset(mis, 0, (size_t)S * sizeof(double));
		return 0;
	}
	memset(L, 0, (size_t)S * sizeof(double));
	for (i = 0; i < nv; i++) {
		double before = best->score;
		add_row(ws, o->K, L, ws->xv[i].k);
		if (i + 1 < nv && ws->xv[i + 1].x <= ws->xv[i].x + XSPLIT_TOL)
			continue;
		/* the last present value: present left, missing right */
		if (i + 1 == nv && !(mis[S - 1] > 0))
			break;
		try_split(ws, o, tot, i + 1 < nv ? mis : ws->zero, best, f, 0, 0, 0);
		if (best->score != before) {
			best->exact = 1;
			best->thr =
			    i + 1 < nv ? ml_midpoint(ws->xv[i].x, ws->xv[i + 1].x) : INFINITY;
		}
	}
	for (s = 0; s < S; s++)
		mis[s] = 0;
	return 1;
}

static int32_t new_cnode(struct ml_cart_ws *ws)
{
	if (ws->nnodes == ws->capnodes) {
		int32_t cap = ws->capnodes ? ws->capnodes * 2 : 256;
		struct cnode *q = realloc(ws->nodes, (size_t)cap * sizeof(*q));
		if (!q)
			return -1;
		ws->nodes = q;
		ws->capnodes = cap;
	}
	return ws->nnodes++;
}

static int32_t new_vals(struct ml_cart_ws *ws, int n)
{
	int32_t at = ws->nvals;
	if (grow((void **)&ws->vals, &ws->capvals, (int64_t)ws->nvals + n, sizeof(double)) < 0)
		return -1;
	ws->nvals += n;
	return at;
}

/* Cost-complexity pruning as scikit-learn's: repeatedly collapse the internal node of
 * least effective alpha (R(t) - R(branch)) / (leaves - 1), first in preorder on ties,
 * while that alpha is at most ccp_alpha. R(t) is the node's share of the root weight
 * times its impurity. */
static int prune(struct ml_cart_ws *ws, double alpha)
{
	int32_t n = ws->nnodes, k, *par = malloc((size_t)n * sizeof(int32_t));
	double *rn = malloc((size_t)n * sizeof(double)), *rb = malloc((size_t)n * sizeof(double));
	double *nl = malloc((size_t)n * sizeof(double)), W0 = ws->nodes[0].W;
	struct cnode *N = ws->nodes;

	if (!par || !rn || !rb || !nl) {
		free(par);
		free(rn);
		free(rb);
		free(nl);
		return -1;
	}
	par[0] = -1;
	for (k = 0; k < n; k++) {
		rn[k] = N[k].W / W0 * N[k].imp;
		if (N[k].l >= 0) {
			par[N[k].l] = k;
			par[N[k].r] = k;
		}
	}
	/* Preorder numbering: children after their parent, so a reverse sweep sums up. */
	for (k = n - 1; k >= 0; k--) {
		if (N[k].l < 0) {
			rb[k] = rn[k];
			nl[k] = 1;
		} else {
			rb[k] = rb[N[k].l] + rb[N[k].r];
			nl[k] = nl[N[k].l] + nl[N[k].r];
		}
	}
	for (;;) {
		double best = INFINITY, rdiff, pl;
		int32_t bk = -1, a;
		for (k = 0; k < n; k++) {
			double ea;
			if (N[k].l < 0 || par[k] == -2)
				continue;
			ea = (rn[k] - rb[k]) / (nl[k] - 1);
			if (ea < best) {
				best = ea;
				bk = k;
			}
		}
		if (bk < 0 || best > alpha)
			break;
		/* Descendants leave the tree. */
		{
			int32_t top = 0, *st = ws->stack;
			if (grow((void **)&ws->stack, &ws->capstack, n, sizeof(int32_t)) < 0) {
				free(par);
				free(rn);
				free(rb);
				free(nl);
				return -1;
			}
			st = ws->stack;
			st[top++] = N[bk].l;
			st[top++] = N[bk].r;
			while (top) {
				int32_t q = st[--top];
				par[q] = -2;
				if (N[q].l >= 0) {
					st[top++] = N[q].l;
					st[top++] = N[q].r;
				}
			}
		}
		pl = nl[bk] - 1;
		rdiff = rn[bk] - rb[bk];
		N[bk].l = N[bk].r = -1;
		nl[bk] = 1;
		rb[bk] = rn[bk];
		for (a = par[bk]; a >= 0; a = par[a]) {
			nl[a] -= pl;
			rb[a] += rdiff;
		}
	}
	free(par);
	free(rn);
	free(rb);
	free(nl);
	return 0;
}

int ml_cart_grow(struct ml_tree *t, const struct ml_bins *b, const double *y, const double *w,
		 const uint32_t *rows, size_t m, const struct ml_cart_opts *o, struct ml_rng *rng,
		 struct ml_cart_ws *ws)
{
	int S = ws->S, K = o->K, p = b->p, nout = K > 0 ? K : 1, f, s;
	int32_t k, *q2;
	size_t i;
	struct frame {
		size_t lo, hi;
		int depth;
		int32_t slot; /* parent * 2 + side, or -1 for the root */
	} *st = NULL;
	int32_t nst = 0, capst = 0;
	double *tot = ws->tot;
	int rc = -1;
	uint8_t lut[256];

	ws->nnodes = 0;
	ws->nvals = 0;
	ws->nsets = 0;
	if (o->raw && !ws->xv) {
		ws->xv = malloc((b->n ? b->n : 1) * sizeof(*ws->xv));
		ws->xvt = malloc((b->n ? b->n : 1) * sizeof(*ws->xvt));
		if (!ws->xv || !ws->xvt)
			return -1;
	}
	memcpy(ws->idx, rows, m * sizeof(uint32_t));
	for (i = 0; i < m; i++) {
		ws->yw[2 * i] = y[rows[i]];
		ws->yw[2 * i + 1] = w ? w[rows[i]] : 1;
	}
	/* Depth first, left first: nodes are numbered in preorder, as scikit-learn's. */
	if (grow((void **)&st, &capst, 64, sizeof(*st)) < 0)
		return -1;
	st[0].lo = 0;
	st[0].hi = m;
	st[0].depth = 0;
	st[0].slot = -1;
	nst = 1;
	while (nst) {
		struct frame fr = st[--nst];
		size_t nl;
		int nf, visited;
		int32_t q = new_cnode(ws);
		struct cnode *N;
		struct cand best;
		double Q = 0, W = 0;
		if (q < 0)
			goto out;
		if (fr.slot >= 0) {
			struct cnode *P = &ws->nodes[fr.slot >> 1];
			if (fr.slot & 1)
				P->r = q;
			else
				P->l = q;
		}
		memset(tot, 0, (size_t)S * sizeof(double));
		for (i = fr.lo; i < fr.hi; i++) {
			add_row(ws, K, tot, i);
			if (K == 0)
				Q += ws->yw[2 * i + 1] * ws->yw[2 * i] * ws->yw[2 * i];
		}
		for (s = 0; s < (K > 0 ? K : 1); s++)
			W += tot[s];
		N = &ws->nodes[q];
		N->l = N->r = -1;
		N->feat = -1;
		N->set = -1;
		N->ncat = 0;
		N->dleft = 0;
		N->thr = 0;
		N->W = W;
		N->cnt = (double)(fr.hi - fr.lo);
		N->imp = impurity(ws, o->crit, tot, W, Q);
		N->gain = 0;
		N->v = new_vals(ws, nout);
		if (N->v < 0)
			goto out;
		for (s = 0; s < nout; s++)
			ws->vals[N->v + s] = K > 0 ? tot[s] / W : tot[1] / W;
		if ((o->max_depth > 0 && fr.depth >= o->max_depth) || N->cnt < o->min_split ||
		    N->cnt < 2.0 * o->min_leaf || N->imp <= DBL_EPSILON)
			continue;
		/* The features to try: all in order, or mtry drawn without replacement, those
		 * constant in the node not counting (as in scikit-learn). */
		for (f = 0; f < p; f++)
			ws->feats[f] = f;
		memset(&best, 0, sizeof(best));
		best.score = -INFINITY;
		best.feat = -1;
		visited = 0;
		for (nf = 0; nf < p && visited < o->mtry; nf++) {
			if (o->mtry < p) {
				int r = nf + (int)ml_rng_below(rng, (uint64_t)(p - nf)), x;
				x = ws->feats[nf];
				ws->feats[nf] = ws->feats[r];
				ws->feats[r] = x;
			}
			f = ws->feats[nf];
			if (o->raw && !b->cat[f] && b->ub && b->ub[f] && !b->val[f])
				visited +=
				    eval_exact(ws, o->raw[f], fr.lo, fr.hi, f, o, tot, &best);
			else
				visited += eval_feature(ws, b, fr.lo, fr.hi, f, o, tot, &best);
		}
		if (best.feat < 0)
			continue;
		N = &ws->nodes[q];
		N->feat = best.feat;
		N->dleft = best.dleft;
		if (best.ncat) {
			int32_t nw = (best.ncat + 31) / 32;
			if (grow((void **)&ws->sets, &ws->capsets, (int64_t)ws->nsets + nw,
				 sizeof(uint32_t)) < 0)
				goto out;
			memcpy(ws->sets + ws->nsets, ws->bset, (size_t)nw * sizeof(uint32_t));
			N->set = ws->nsets;
			N->ncat = best.ncat;
			N->thr = best.ncat;
			ws->nsets += nw;
		} else if (best.exact) {
			N->thr = best.thr;
		} else {
			N->thr = ml_bins_threshold(b, best.feat, best.lo, best.hi);
		}
		/* Which bins go left; then the node's rows, stably. */
		for (s = 0; s < 256; s++) {
			if (s == b->nb[best.feat])
				lut[s] = (uint8_t)best.dleft;
			else if (best.ncat)
				lut[s] = s < best.ncat && ((ws->bset[s >> 5] >> (s & 31)) & 1);
			else
				lut[s] = s <= best.lo;
		}
		{
			/* Stable, without branches: left rows compact in place, right ones
			 * gather in tmp and follow. */
			const uint8_t *C = b->C + (size_t)best.feat * b->n;
			const double *X = best.exact ? o->raw[best.feat] : NULL;
			size_t nr = 0;
			nl = fr.lo;
			for (i = fr.lo; i < fr.hi; i++) {
				uint32_t r = ws->idx[i];
				double yr = ws->yw[2 * i], wr = ws->yw[2 * i + 1];
				size_t go =
				    X ? (X[r] == X[r] ? X[r] <= best.thr : (size_t)best.dleft)
				      : lut[C[r]];
				ws->idx[nl] = r;
				ws->yw[2 * nl] = yr;
				ws->yw[2 * nl + 1] = wr;
				ws->tmp[nr] = r;
				ws->ywt[2 * nr] = yr;
				ws->ywt[2 * nr + 1] = wr;
				nl += go;
				nr += 1 - go;
			}
			memcpy(ws->idx + nl, ws->tmp, nr * sizeof(uint32_t));
			memcpy(ws->yw + 2 * nl, ws->ywt, 2 * nr * sizeof(double));
		}
		if (grow((void **)&st, &capst, (int64_t)nst + 2, sizeof(*st)) < 0)
			goto out;
		st[nst].lo = nl;
		st[nst].hi = fr.hi;
		st[nst].depth = fr.depth + 1;
		st[nst].slot = q * 2 + 1;
		nst++;
		st[nst].lo = fr.lo;
		st[nst].hi = nl;
		st[nst].depth = fr.depth + 1;
		st[nst].slot = q * 2;
		nst++;
	}
	/* Gains: the decrease of W * impurity. */
	for (k = 0; k < ws->nnodes; k++) {
		struct cnode *N = &ws->nodes[k];
		if (N->l >= 0)
			N->gain = N->W * N->imp - ws->nodes[N->l].W * ws->nodes[N->l].imp -
				  ws->nodes[N->r].W * ws->nodes[N->r].imp;
	}
	if (o->ccp_alpha > 0 && prune(ws, o->ccp_alpha) < 0)
		goto out;
	/* Renumber breadth first into t, children in pairs: a queue of (raw, new) pairs. */
	if (ml_tree_root(t, ws->nodes[0].W) < 0)
		goto out;
	if (grow((void **)&ws->stack, &ws->capstack, (int64_t)ws->nnodes * 2 + 2, sizeof(int32_t)) <
	    0)
		goto out;
	q2 = ws->stack;
	{
		int32_t head = 0, tail = 0;
		q2[tail++] = 0;
		q2[tail++] = 0;
		while (head < tail) {
			int32_t rq = q2[head++], tq = q2[head++], l;
			const struct cnode *N = &ws->nodes[rq];
			if (N->l < 0) {
				if (nout > 1) {
					if (ml_tree_leafv(t, tq, ws->vals + N->v, nout) < 0)
						goto out;
				} else {
					t->node[tq].thr = ws->vals[N->v];
				}
				continue;
			}
			l = ml_tree_split(t, tq, N->feat, N->thr, N->dleft,
					  N->set >= 0 ? ws->sets + N->set : NULL, N->ncat, N->gain,
					  ws->nodes[N->l].W, ws->nodes[N->r].W);
			if (l < 0)
				goto out;
			q2[tail++] = N->l;
			q2[tail++] = l;
			q2[tail++] = N->r;
			q2[tail++] = l + 1;
		}
	}
	rc = 0;
out:
	free(st);
	return rc;
}

/* --- rf and tree models -------------------------------------------------------------- */

void ml_cf_free(void *state)
{
	struct ml_cf *c = state;

	if (!c)
		return;
	ml_forest_release(&c->F);
	free(c->perm);
	free(c);
}

int ml_cf_predict(const void *state, const double *X, size_t n, size_t ld, double *out, int raw,
		  struct ml_err *e)
{
	const struct ml_cf *c = state;
	double *m;
	size_t i;

	if (!(raw && c->nclass == 2)) {
		ml_forest_margins(&c->F, X, n, ld, out);
		return 0;
	}
	/* Binary raw output: the second class's probability alone. */
	m = malloc((n ? n : 1) * 2 * sizeof(double));
	if (!m)
		return ml_err_nomem(e);
	ml_forest_margins(&c->F, X, n, ld, m);
	for (i = 0; i < n; i++)
		out[i] = m[2 * i + 1];
	free(m);
	return 0;
}

int ml_cf_ntrees(const void *state)
{
	return ((const struct ml_cf *)state)->F.ntrees;
}

int ml_cf_leaves(const void *state, const double *X, size_t n, size_t ld, int32_t *out,
		 struct ml_err *e)
{
	(void)e;
	ml_forest_leaves(&((const struct ml_cf *)state)->F, X, n, ld, out);
	return 0;
}

int ml_cf_contrib(const void *state, const double *X, size_t n, size_t ld, double *out,
		  struct ml_err *e)
{
	const struct ml_cf *c = state;

	if (c->nclass == 2)
		return ml_forest_contrib(&c->F, X, n, ld, 1, 1, out, e);
	return ml_forest_contrib(&c->F, X, n, ld, 0, c->nclass ? c->nclass : 1, out, e);
}
