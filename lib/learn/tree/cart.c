/* CART growth for rf and tree as scikit-learn's trees grow, and cost-complexity pruning. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tree.h"

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
	if (ml_tree_grow_array((void **)&ws->vals, &ws->capvals, (int64_t)ws->nvals + n,
			       sizeof(double)) < 0)
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
			if (ml_tree_grow_array((void **)&ws->stack, &ws->capstack, n,
					       sizeof(int32_t)) < 0) {
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

/* A node waiting to grow: its rows idx[lo..hi), its depth, and where its index goes. */
struct cframe {
	size_t lo, hi;
	int depth;
	int32_t slot; /* parent * 2 + side, or -1 for the root */
};

/* A new tree's start: no nodes, and the m rows rows[] with their targets and weights in the
 * order the nodes partition. 0, or -1 when out of memory. */
static int cart_begin(struct ml_cart_ws *ws, const struct ml_bins *b, const double *y,
		      const double *w, const uint32_t *rows, size_t m, const struct ml_cart_opts *o)
{
	size_t i;

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
	return 0;
}

/* The node of frame fr, a leaf for now: linked to its parent, with its stats (in ws->tot),
 * impurity and value. Its index, or -1 when out of memory. */
static int32_t open_node(struct ml_cart_ws *ws, const struct ml_cart_opts *o,
			 const struct cframe *fr)
{
	int S = ws->S, K = o->K, nout = K > 0 ? K : 1, s;
	int32_t q = new_cnode(ws);
	struct cnode *N;
	double *tot = ws->tot, Q = 0, W = 0;
	size_t i;

	if (q < 0)
		return -1;
	if (fr->slot >= 0) {
		struct cnode *P = &ws->nodes[fr->slot >> 1];
		if (fr->slot & 1)
			P->r = q;
		else
			P->l = q;
	}
	memset(tot, 0, (size_t)S * sizeof(double));
	for (i = fr->lo; i < fr->hi; i++) {
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
	N->cnt = (double)(fr->hi - fr->lo);
	N->imp = impurity(ws, o->crit, tot, W, Q);
	N->gain = 0;
	N->v = new_vals(ws, nout);
	if (N->v < 0)
		return -1;
	for (s = 0; s < nout; s++)
		ws->vals[N->v + s] = K > 0 ? tot[s] / W : tot[1] / W;
	return q;
}

/* The best split of rows idx[lo..hi) (their stats in ws->tot) into best; best->feat < 0 when
 * there is none. */
static void find_split(struct ml_cart_ws *ws, const struct ml_bins *b, const struct ml_cart_opts *o,
		       struct ml_rng *rng, size_t lo, size_t hi, struct cand *best)
{
	int p = b->p, f, nf, visited;

	/* The features to try: all in order, or mtry drawn without replacement, those
	 * constant in the node not counting (as in scikit-learn). */
	for (f = 0; f < p; f++)
		ws->feats[f] = f;
	memset(best, 0, sizeof(*best));
	best->score = -INFINITY;
	best->feat = -1;
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
			visited += eval_exact(ws, o->raw[f], lo, hi, f, o, ws->tot, best);
		else
			visited += eval_feature(ws, b, lo, hi, f, o, ws->tot, best);
	}
}

/* Node q splits as best says: its feature, missing side, and threshold or level set. 0, or
 * -1 when out of memory. */
static int set_split(struct ml_cart_ws *ws, const struct ml_bins *b, int32_t q,
		     const struct cand *best)
{
	struct cnode *N = &ws->nodes[q];

	N->feat = best->feat;
	N->dleft = best->dleft;
	if (best->ncat) {
		int32_t nw = (best->ncat + 31) / 32;
		if (ml_tree_grow_array((void **)&ws->sets, &ws->capsets, (int64_t)ws->nsets + nw,
				       sizeof(uint32_t)) < 0)
			return -1;
		memcpy(ws->sets + ws->nsets, ws->bset, (size_t)nw * sizeof(uint32_t));
		N->set = ws->nsets;
		N->ncat = best->ncat;
		N->thr = best->ncat;
		ws->nsets += nw;
	} else if (best->exact) {
		N->thr = best->thr;
	} else {
		N->thr = ml_bins_threshold(b, best->feat, best->lo, best->hi);
	}
	return 0;
}

/* Rows idx[lo..hi) (with their targets and weights), the left side of split best first,
 * stably. Returns where the right side starts. */
static size_t partition(struct ml_cart_ws *ws, const struct ml_bins *b,
			const struct ml_cart_opts *o, const struct cand *best, size_t lo, size_t hi)
{
	uint8_t lut[256];
	int s;

	/* Which bins go left; then the node's rows, stably. */
	for (s = 0; s < 256; s++) {
		if (s == b->nb[best->feat])
			lut[s] = (uint8_t)best->dleft;
		else if (best->ncat)
			lut[s] = s < best->ncat && ((ws->bset[s >> 5] >> (s & 31)) & 1);
		else
			lut[s] = s <= best->lo;
	}
	{
		/* Stable, without branches: left rows compact in place, right ones
		 * gather in tmp and follow. */
		const uint8_t *C = b->C + (size_t)best->feat * b->n;
		const double *X = best->exact ? o->raw[best->feat] : NULL;
		size_t nr = 0, nl = lo, i;
		for (i = lo; i < hi; i++) {
			uint32_t r = ws->idx[i];
			double yr = ws->yw[2 * i], wr = ws->yw[2 * i + 1];
			size_t go = X ? (X[r] == X[r] ? X[r] <= best->thr : (size_t)best->dleft)
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
		return nl;
	}
}

/* The grown nodes (pruned) renumbered breadth first into t, children in pairs. 0, or -1
 * when out of memory. */
static int renumber(struct ml_cart_ws *ws, struct ml_tree *t, int nout)
{
	int32_t *q2, head = 0, tail = 0;

	if (ml_tree_root(t, ws->nodes[0].W) < 0)
		return -1;
	if (ml_tree_grow_array((void **)&ws->stack, &ws->capstack, (int64_t)ws->nnodes * 2 + 2,
			       sizeof(int32_t)) < 0)
		return -1;
	/* A queue of (raw, new) pairs. */
	q2 = ws->stack;
	q2[tail++] = 0;
	q2[tail++] = 0;
	while (head < tail) {
		int32_t rq = q2[head++], tq = q2[head++], l;
		const struct cnode *N = &ws->nodes[rq];
		if (N->l < 0) {
			if (nout > 1) {
				if (ml_tree_leafv(t, tq, ws->vals + N->v, nout) < 0)
					return -1;
			} else {
				t->node[tq].thr = ws->vals[N->v];
			}
			continue;
		}
		l = ml_tree_split(t, tq, N->feat, N->thr, N->dleft,
				  N->set >= 0 ? ws->sets + N->set : NULL, N->ncat, N->gain,
				  ws->nodes[N->l].W, ws->nodes[N->r].W);
		if (l < 0)
			return -1;
		q2[tail++] = N->l;
		q2[tail++] = l;
		q2[tail++] = N->r;
		q2[tail++] = l + 1;
	}
	return 0;
}

int ml_cart_grow(struct ml_tree *t, const struct ml_bins *b, const double *y, const double *w,
		 const uint32_t *rows, size_t m, const struct ml_cart_opts *o, struct ml_rng *rng,
		 struct ml_cart_ws *ws)
{
	int nout = o->K > 0 ? o->K : 1;
	int32_t k, nst = 0, capst = 0;
	struct cframe *st = NULL;
	int rc = -1;

	if (cart_begin(ws, b, y, w, rows, m, o) < 0)
		return -1;
	/* Depth first, left first: nodes are numbered in preorder, as scikit-learn's. */
	if (ml_tree_grow_array((void **)&st, &capst, 64, sizeof(*st)) < 0)
		return -1;
	st[0].lo = 0;
	st[0].hi = m;
	st[0].depth = 0;
	st[0].slot = -1;
	nst = 1;
	while (nst) {
		struct cframe fr = st[--nst];
		const struct cnode *N;
		struct cand best;
		size_t nl;
		int32_t q = open_node(ws, o, &fr);
		if (q < 0)
			goto out;
		N = &ws->nodes[q];
		if ((o->max_depth > 0 && fr.depth >= o->max_depth) || N->cnt < o->min_split ||
		    N->cnt < 2.0 * o->min_leaf || N->imp <= DBL_EPSILON)
			continue;
		find_split(ws, b, o, rng, fr.lo, fr.hi, &best);
		if (best.feat < 0)
			continue;
		if (set_split(ws, b, q, &best) < 0)
			goto out;
		nl = partition(ws, b, o, &best, fr.lo, fr.hi);
		if (ml_tree_grow_array((void **)&st, &capst, (int64_t)nst + 2, sizeof(*st)) < 0)
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
	if (renumber(ws, t, nout) < 0)
		goto out;
	rc = 0;
out:
	free(st);
	return rc;
}
