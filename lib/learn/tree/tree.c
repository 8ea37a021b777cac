/* Decision trees shared by gbdt, rf and tree: growable trees and forests that score fast. */
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

int ml_tree_grow_array(void **p, int32_t *cap, int64_t need, size_t sz)
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
	if (ml_tree_grow_array((void **)&F->node, &cn, nn, sizeof(*F->node)) < 0)
		return ml_err_nomem(e);
	cn = F->capnode;
	if (ml_tree_grow_array((void **)&F->cover, &cn, nn, sizeof(double)) < 0)
		return ml_err_nomem(e);
	cn = F->capnode;
	if (ml_tree_grow_array((void **)&F->gain, &cn, nn, sizeof(double)) < 0)
		return ml_err_nomem(e);
	F->capnode = cn;
	if (ml_tree_grow_array((void **)&F->start, &ct, (int64_t)F->ntrees + 2, sizeof(int32_t)) <
	    0)
		return ml_err_nomem(e);
	F->captree = ct;
	if (t->nval && ml_tree_grow_array((void **)&F->val, &F->capval, (int64_t)F->nval + t->nval,
					  sizeof(double)) < 0)
		return ml_err_nomem(e);
	if (t->nbits && ml_tree_grow_array((void **)&F->bits, &F->capbits,
					   (int64_t)F->nbits + t->nbits, sizeof(uint32_t)) < 0)
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
