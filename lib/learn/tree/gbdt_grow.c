/* Growing one gbdt tree from gradient histograms: split search, partitions, expansion. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gbdt.h"

/* Histogram chunks: at least CHUNK_MIN rows, at most MAX_CHUNKS per node. */
#define CHUNK_MIN  16384
#define MAX_CHUNKS 32
/* Categorical features with at most this many levels present split one level against
 * the rest; with more, by prefixes of the levels sorted by G / (H + lambda). */
#define ONEHOT_MAX 4

/* --- Histogram buffers ---------------------------------------------------------------- */

static double *hist_get(struct gb *g)
{
	double *h;

	if (g->nhfree)
		return g->hfree[--g->nhfree];
	if (g->nhall == g->caphall) {
		int cap = g->caphall ? g->caphall * 2 : 64;
		double **a = realloc(g->hall, (size_t)cap * sizeof(*a));
		double **f = realloc(g->hfree, (size_t)cap * sizeof(*f));
		if (a)
			g->hall = a;
		if (f)
			g->hfree = f;
		if (!a || !f)
			return NULL;
		g->caphall = g->caphfree = cap;
	}
	h = aligned_alloc(64, (g->hlen * sizeof(double) + 64) / 64 * 64);
	if (!h)
		return NULL;
	g->hall[g->nhall++] = h;
	return h;
}

static void hist_put(struct gb *g, double *h)
{
	if (h)
		g->hfree[g->nhfree++] = h;
}

static size_t nchunks(size_t m)
{
	size_t c = m / CHUNK_MIN;
	return c < 1 ? 1 : c > MAX_CHUNKS ? MAX_CHUNKS : c;
}

/* --- Split search ------------------------------------------------------------------------ */

static inline double thresh_l1(double G, double l1)
{
	return G > l1 ? G - l1 : G < -l1 ? G + l1 : 0;
}

static double score(const struct gb *g, double G, double H)
{
	double t = thresh_l1(G, g->l1);
	return t * t / (H + g->lambda);
}

/* Leaf weight -T(G) / (H + lambda), 0 without enough hessian. */
double ml_gbdt_weight(const struct gb *g, double G, double H)
{
	if (!(H >= g->mcw) || !(H > 0))
		return 0;
	return -thresh_l1(G, g->l1) / (H + g->lambda);
}

/* Consider left sums (GL, HL, CL) of node nd; keep the split in sp when better. */
static inline __attribute__((always_inline)) void
consider(const struct gb *g, const struct gnode *nd, double pscore, double GL, double HL, double CL,
	 int feat, int lo, int hi, int dleft, int ncat, const uint32_t *set, struct split *sp)
{
	double GR = nd->G - GL, HR = nd->H - HL, sl, sr, gain;

	if (!(HL >= g->mcw) || !(HR >= g->mcw) || !(HL > 0) || !(HR > 0))
		return;
	if (g->ES == 4) {
		double CR = (double)(nd->hi - nd->lo) - CL;
		if (CL < g->min_leaf || CR < g->min_leaf)
			return;
	}
	{
		/* Both sides' scores with one paired division. */
		double tl = thresh_l1(GL, g->l1), tr = thresh_l1(GR, g->l1);
		v2d q = (v2d){tl * tl, tr * tr} / (v2d){HL + g->lambda, HR + g->lambda};
		sl = q[0];
		sr = q[1];
	}
	gain = sl + sr - pscore;
	/* More than rounding noise, and at least --min-gain. */
	if (!(gain > 1e-10 * (sl + sr)) || !(gain > 0) || gain < g->gamma)
		return;
	if (gain > sp->gain) {
		sp->gain = gain;
		sp->GL = GL;
		sp->HL = HL;
		sp->CL = CL;
		sp->feat = feat;
		sp->lo = lo;
		sp->hi = hi;
		sp->dleft = dleft;
		sp->ncat = ncat;
		if (ncat)
			memcpy(sp->set, set, sizeof(sp->set));
	}
}

/* Left sums at a threshold: without and with the missing rows. */
static inline __attribute__((always_inline)) void
consider2(const struct gb *g, const struct gnode *nd, double pscore, double GL, double HL,
	  double CL, const double *mis, int feat, int lo, int hi, int ncat, const uint32_t *set,
	  struct split *sp)
{
	if (mis[1] > 0 || (g->ES == 4 && mis[2] > 0)) {
		consider(g, nd, pscore, GL, HL, CL, feat, lo, hi, 0, ncat, set, sp);
		consider(g, nd, pscore, GL + mis[0], HL + mis[1], CL + (g->ES == 4 ? mis[2] : 0),
			 feat, lo, hi, 1, ncat, set, sp);
	} else {
		/* No missing rows here: send future ones to the heavier side. */
		consider(g, nd, pscore, GL, HL, CL, feat, lo, hi, HL >= nd->H - HL, ncat, set, sp);
	}
}

static int cmp_lvl(const double *key, int a, int b)
{
	if (key[a] < key[b])
		return -1;
	if (key[a] > key[b])
		return 1;
	return (a > b) - (a < b);
}

/* Best split of node nd over features [f0, f1) into sp. */
static void eval_node(const struct gb *g, const struct gnode *nd, int f0, int f1, struct split *sp)
{
	const struct ml_bins *b = g->bins;
	const double *h = nd->hist;
	double pscore = score(g, nd->G, nd->H);
	int ES = g->ES, f;

	for (f = f0; f < f1; f++) {
		const double *e = h + (size_t)b->off[f] * ES, *mis;
		int nb = b->nb[f], bin, last = -1;
		double GL = 0, HL = 0, CL = 0;
		if (!g->fon[f])
			continue;
		mis = e + (size_t)nb * ES;
		if (!b->cat[f]) {
			for (bin = 0; bin < nb; bin++) {
				const double *x = e + (size_t)bin * ES;
				if (x[1] == 0 && (ES == 2 || x[2] == 0))
					continue;
				if (last >= 0)
					consider2(g, nd, pscore, GL, HL, CL, mis, f, last, bin, 0,
						  NULL, sp);
				GL += x[0];
				HL += x[1];
				if (ES == 4)
					CL += x[2];
				last = bin;
			}
			if (last >= 0 && (mis[1] > 0 || (ES == 4 && mis[2] > 0)))
				consider(g, nd, pscore, GL, HL, CL, f, last, nb, 0, 0, NULL, sp);
		} else {
			int lv[256], m = 0, i, j;
			double key[256];
			uint32_t set[8];
			for (bin = 0; bin < nb; bin++) {
				const double *x = e + (size_t)bin * ES;
				if (x[1] == 0 && (ES == 2 || x[2] == 0))
					continue;
				lv[m++] = bin;
				key[bin] = x[0] / (x[1] + g->lambda);
			}
			if (m + (mis[1] > 0) < 2)
				continue;
			if (m <= ONEHOT_MAX) {
				for (i = 0; i < m; i++) {
					const double *x = e + (size_t)lv[i] * ES;
					memset(set, 0, sizeof(set));
					set[lv[i] >> 5] |= 1u << (lv[i] & 31);
					consider2(g, nd, pscore, x[0], x[1], ES == 4 ? x[2] : 0,
						  mis, f, 0, 0, nb, set, sp);
				}
			} else {
				for (i = 1; i < m; i++) {
					int x = lv[i];
					for (j = i; j > 0 && cmp_lvl(key, lv[j - 1], x) > 0; j--)
						lv[j] = lv[j - 1];
					lv[j] = x;
				}
				memset(set, 0, sizeof(set));
				for (i = 0; i < m; i++) {
					const double *x = e + (size_t)lv[i] * ES;
					GL += x[0];
					HL += x[1];
					if (ES == 4)
						CL += x[2];
					set[lv[i] >> 5] |= 1u << (lv[i] & 31);
					if (i + 1 < m)
						consider2(g, nd, pscore, GL, HL, CL, mis, f, 0, 0,
							  nb, set, sp);
				}
			}
			/* Every present level left, missing values right. */
			if (mis[1] > 0 || (ES == 4 && mis[2] > 0)) {
				memset(set, 0, sizeof(set));
				GL = HL = CL = 0;
				for (i = 0; i < m; i++) {
					const double *x = e + (size_t)lv[i] * ES;
					GL += x[0];
					HL += x[1];
					if (ES == 4)
						CL += x[2];
					set[lv[i] >> 5] |= 1u << (lv[i] & 31);
				}
				consider(g, nd, pscore, GL, HL, CL, f, 0, 0, 0, nb, set, sp);
			}
		}
	}
}

static void split_none(struct split *sp)
{
	sp->gain = 0;
	sp->feat = -1;
}

/* Reduce, subtract and search: task = pair * nfb + feature block. */
static void eval_task(void *arg, size_t t, int worker)
{
	struct gb *g = arg;
	struct pair *pr = &g->pairs[t / (size_t)g->nfb];
	int fb = (int)(t % (size_t)g->nfb), p = g->p;
	int f0 = fb * p / g->nfb, f1 = (fb + 1) * p / g->nfb, c;
	size_t a = (size_t)g->bins->off[f0] * g->ES, z = (size_t)g->bins->off[f1] * g->ES, i;
	double *hs = pr->small->hist;
	struct split *res = g->bres + (t / (size_t)g->nfb) * 2 * (size_t)g->nfb + 2 * (size_t)fb;

	(void)worker;
	if (pr->nt > 1) {
		/* The other chunks in order into the node's histogram, which holds the first. */
		for (c = 1; c < pr->nt; c++) {
			const double *q = g->bt[pr->t0 + c].dst;
			for (i = a; i < z; i++)
				hs[i] += q[i];
		}
	}
	if (pr->big) {
		double *hb = pr->big->hist;
		for (i = a; i < z; i++)
			hb[i] -= hs[i];
	}
	split_none(&res[0]);
	split_none(&res[1]);
	if (pr->small->want)
		eval_node(g, pr->small, f0, f1, &res[0]);
	if (pr->big && pr->big->want)
		eval_node(g, pr->big, f0, f1, &res[1]);
}

/* --- Partitions ---------------------------------------------------------------------- */

static void part1_task(void *arg, size_t t, int worker)
{
	struct gb *g = arg;
	struct ptask *q = &g->pt[t];
	const uint8_t *C = g->bins->C + (size_t)q->nd->sp.feat * g->n, *lut = q->nd->lut;
	size_t k, l = q->a, r = q->z;

	(void)worker;
	/* Without branches: the row is written to both ends, one of which keeps it. */
	for (k = q->a; k < q->z; k++) {
		uint32_t i = g->idx[k];
		size_t go = lut[C[i]];
		if (k + UPD_AHEAD < q->z)
			__builtin_prefetch(C + g->idx[k + UPD_AHEAD]);
		g->tmp[l] = i;
		g->tmp[r - 1] = i;
		l += go;
		r -= 1 - go;
	}
	q->nl = l - q->a;
}

static void part2_task(void *arg, size_t t, int worker)
{
	struct gb *g = arg;
	const struct ptask *q = &g->pt[t];
	size_t lo = q->nd->lo, k, nr = q->z - q->a - q->nl;
	uint32_t *dl = g->idx + lo + q->pl, *dr = g->idx + lo + q->nd->nl + q->pr;
	const uint32_t *src = g->tmp + q->a;

	(void)worker;
	memcpy(dl, src, q->nl * sizeof(uint32_t));
	for (k = 0; k < nr; k++)
		dr[k] = g->tmp[q->z - 1 - k];
}

/* --- Growing one tree ------------------------------------------------------------------ */

static int add_bt(struct gb *g, const struct gnode *nd, size_t a, size_t z, double *dst)
{
	if (g->nbt == g->capbt) {
		int cap = g->capbt ? g->capbt * 2 : 64;
		struct btask *q = realloc(g->bt, (size_t)cap * sizeof(*q));
		if (!q)
			return -1;
		g->bt = q;
		g->capbt = cap;
	}
	g->bt[g->nbt].nd = nd;
	g->bt[g->nbt].a = a;
	g->bt[g->nbt].z = z;
	g->bt[g->nbt].dst = dst;
	g->nbt++;
	return 0;
}

static double *partial(struct gb *g, struct partials *P, int k)
{
	if (k >= P->cap) {
		int cap = P->cap ? P->cap * 2 : 64, i;
		double **q;
		while (cap <= k)
			cap *= 2;
		q = realloc(P->buf, (size_t)cap * sizeof(*q));
		if (!q)
			return NULL;
		for (i = P->cap; i < cap; i++)
			q[i] = NULL;
		P->buf = q;
		P->cap = cap;
	}
	if (!P->buf[k]) {
		P->buf[k] = aligned_alloc(64, (g->hlen * sizeof(double) + 64) / 64 * 64);
		if (!P->buf[k])
			return NULL;
	}
	return P->buf[k];
}

static int add_pair(struct gb *g, struct gnode *small, struct gnode *big)
{
	if (g->npairs == g->cappairs) {
		int cap = g->cappairs ? g->cappairs * 2 : 32;
		struct pair *q = realloc(g->pairs, (size_t)cap * sizeof(*q));
		if (!q)
			return -1;
		g->pairs = q;
		g->cappairs = cap;
	}
	g->pairs[g->npairs].small = small;
	g->pairs[g->npairs].big = big;
	g->npairs++;
	return 0;
}

/* Build the small nodes' histograms of the pairs, derive the big ones and search their
 * splits. Node pointers must stay valid (g->nodes is not reallocated meanwhile). */
static int run_pairs(struct gb *g, struct partials *P)
{
	int i, np = 0, k;
	size_t t;

	g->nbt = 0;
	for (i = 0; i < g->npairs; i++) {
		struct pair *pr = &g->pairs[i];
		struct gnode *s = pr->small;
		size_t m = s->hi - s->lo, nc = nchunks(m), c;
		pr->t0 = g->nbt;
		pr->nt = (int)nc;
		for (c = 0; c < nc; c++) {
			/* The first chunk straight into the node's own buffer. */
			double *dst = c == 0 ? s->hist : partial(g, P, np++);
			if (!dst ||
			    add_bt(g, s, s->lo + c * m / nc, s->lo + (c + 1) * m / nc, dst) < 0)
				return -1;
		}
	}
	/* Largest first, so that the workers finish together (the order of the work does
	 * not change the sums: each task has its own histogram). */
	{
		int *o = realloc(g->border, (size_t)(g->nbt ? g->nbt : 1) * sizeof(int)), j;
		if (!o)
			return -1;
		g->border = o;
		for (i = 0; i < g->nbt; i++) {
			size_t sz = g->bt[i].z - g->bt[i].a;
			for (j = i; j > 0 && g->bt[o[j - 1]].z - g->bt[o[j - 1]].a < sz; j--)
				o[j] = o[j - 1];
			o[j] = i;
		}
	}
	ml_pool_run(g->pool, (size_t)g->nbt, ml_gbdt_build_task, g);
	k = g->npairs * 2 * g->nfb;
	{
		struct split *r = realloc(g->bres, (size_t)(k ? k : 1) * sizeof(*r));
		if (!r)
			return -1;
		g->bres = r;
	}
	ml_pool_run(g->pool, (size_t)g->npairs * (size_t)g->nfb, eval_task, g);
	/* The best per node over the blocks in order: the first feature wins ties. */
	for (i = 0; i < g->npairs; i++) {
		struct pair *pr = &g->pairs[i];
		int side;
		for (side = 0; side < 2; side++) {
			struct gnode *nd = side ? pr->big : pr->small;
			if (!nd)
				continue;
			split_none(&nd->sp);
			if (!nd->want)
				continue;
			for (t = 0; t < (size_t)g->nfb; t++) {
				const struct split *r =
				    &g->bres[((size_t)i * g->nfb + t) * 2 + (size_t)side];
				if (r->feat >= 0 && r->gain > nd->sp.gain)
					nd->sp = *r;
			}
		}
	}
	return 0;
}

static int new_node(struct gb *g)
{
	if (g->nnodes == g->capnodes) {
		int cap = g->capnodes ? g->capnodes * 2 : 256;
		struct gnode *q = realloc(g->nodes, (size_t)cap * sizeof(*q));
		if (!q)
			return -1;
		g->nodes = q;
		g->capnodes = cap;
	}
	memset(&g->nodes[g->nnodes], 0, sizeof(g->nodes[0]));
	split_none(&g->nodes[g->nnodes].sp);
	return g->nnodes++;
}

/* May a node at this depth with these sums be split further? */
static int splittable(const struct gb *g, const struct gnode *nd)
{
	if (g->p == 0)
		return 0;
	if (g->max_depth > 0 && nd->depth >= g->max_depth)
		return 0;
	if (nd->hi - nd->lo < 2 || nd->hi - nd->lo < 2 * (size_t)g->min_leaf)
		return 0;
	return nd->H >= 2 * g->mcw && nd->H > 0;
}

/* The partition tasks of the nodes sel[0..ns) (each with a split): which bins go left
 * (nd->lut), and chunks of the node's rows unless its split is deferred. 0, or -1 when out
 * of memory. */
static int plan_partition(struct gb *g, const int *sel, int ns)
{
	int i;
	size_t t;

	g->npt = 0;
	for (i = 0; i < ns; i++) {
		struct gnode *nd = &g->nodes[sel[i]];
		const struct ml_bins *b = g->bins;
		int f = nd->sp.feat, s;
		size_t m = nd->hi - nd->lo, nc = nchunks(m);
		for (s = 0; s < 256; s++) {
			if (s == b->nb[f])
				nd->lut[s] = (uint8_t)nd->sp.dleft;
			else if (nd->sp.ncat)
				nd->lut[s] = s < b->nb[f] && ((nd->sp.set[s >> 5] >> (s & 31)) & 1);
			else
				nd->lut[s] = s <= nd->sp.lo;
		}
		/* Children at the depth limit are leaves for sure: their rows need not move,
		 * the margin update applies the split itself (unless leaves are refitted from
		 * their rows). */
		nd->defer = g->max_depth > 0 && nd->depth + 1 >= g->max_depth && !g->refit;
		if (nd->defer)
			continue;
		for (t = 0; t < nc; t++) {
			struct ptask *q;
			if (g->npt == g->cappt) {
				int cap = g->cappt ? g->cappt * 2 : 64;
				struct ptask *r = realloc(g->pt, (size_t)cap * sizeof(*r));
				if (!r)
					return -1;
				g->pt = r;
				g->cappt = cap;
			}
			q = &g->pt[g->npt++];
			q->nd = nd;
			q->a = nd->lo + t * m / nc;
			q->z = nd->lo + (t + 1) * m / nc;
		}
	}
	return 0;
}

/* Room in g->nodes for the children of ns nodes. g->nodes must not move while tasks point
 * into it: the children are reserved before the partition runs. 0, or -1 when out of
 * memory. */
static int reserve_kids(struct gb *g, int ns)
{
	if (g->nnodes + 2 * ns > g->capnodes) {
		int cap = g->capnodes ? g->capnodes : 256;
		struct gnode *q;
		ptrdiff_t k;
		while (cap < g->nnodes + 2 * ns)
			cap *= 2;
		q = realloc(g->nodes, (size_t)cap * sizeof(*q));
		if (!q)
			return -1;
		for (k = 0; k < g->npt; k++)
			g->pt[k].nd = q + (g->pt[k].nd - g->nodes);
		g->nodes = q;
		g->capnodes = cap;
	}
	return 0;
}

/* After the first partition pass: each node's left count, then where each chunk's left and
 * right rows go within its node. */
static void chunk_offsets(struct gb *g)
{
	struct gnode *cur = NULL;
	size_t pl = 0, pr = 0;
	int k;

	/* Left counts per node first, then the offsets of each chunk. */
	for (k = 0; k < g->npt; k++) {
		if (g->pt[k].nd != cur) {
			cur = g->pt[k].nd;
			cur->nl = 0;
		}
		cur->nl += g->pt[k].nl;
	}
	cur = NULL;
	for (k = 0; k < g->npt; k++) {
		struct ptask *q = &g->pt[k];
		if (q->nd != cur) {
			cur = q->nd;
			pl = pr = 0;
		}
		q->pl = pl;
		q->pr = pr;
		pl += q->nl;
		pr += q->z - q->a - q->nl;
	}
}

/* The children of split node j (its rows partitioned, their room reserved): in the tree and
 * in g->nodes, their indices in kids[0] and kids[1], with their rows and sums; when either
 * will be split, a pair whose histograms run_pairs makes. 0, or -1 when out of memory. */
static int add_kids(struct gb *g, int j, int *kids)
{
	struct gnode *nd = &g->nodes[j], *L, *R, *sm, *bg;
	const struct split *sp = &nd->sp;
	int32_t l;
	double thr;
	int li = new_node(g), ri = new_node(g);

	nd = &g->nodes[j];
	L = &g->nodes[li];
	R = &g->nodes[ri];
	if (sp->ncat)
		thr = 0;
	else
		thr = ml_bins_threshold(g->bins, sp->feat, sp->lo, sp->hi);
	l = ml_tree_split(&g->tree, nd->tn, sp->feat, thr, sp->dleft, sp->ncat ? sp->set : NULL,
			  sp->ncat, sp->gain, sp->HL, nd->H - sp->HL);
	if (l < 0)
		return -1;
	if (nd->defer) {
		L->lo = R->lo = nd->lo;
		L->hi = R->hi = nd->hi;
		L->shared = R->shared = 1;
	} else {
		L->lo = nd->lo;
		L->hi = nd->lo + nd->nl;
		R->lo = L->hi;
		R->hi = nd->hi;
	}
	L->G = sp->GL;
	L->H = sp->HL;
	R->G = nd->G - sp->GL;
	R->H = nd->H - sp->HL;
	L->depth = R->depth = nd->depth + 1;
	L->tn = l;
	R->tn = l + 1;
	L->want = !nd->defer && splittable(g, L);
	R->want = !nd->defer && splittable(g, R);
	kids[0] = li;
	kids[1] = ri;
	nd->kid = li;
	if (!L->want && !R->want) {
		hist_put(g, nd->hist);
		nd->hist = NULL;
		return 0;
	}
	if (L->hi - L->lo <= R->hi - R->lo) {
		sm = L;
		bg = R;
	} else {
		sm = R;
		bg = L;
	}
	sm->hist = hist_get(g);
	if (!sm->hist)
		return -1;
	if (bg->want) {
		bg->hist = nd->hist;
	} else {
		hist_put(g, nd->hist);
		bg = NULL;
	}
	nd->hist = NULL;
	return add_pair(g, sm, bg);
}

/* Split the nodes sel[0..ns) (indices into g->nodes, each with a split): partition their
 * rows, add their children to the tree and to g->nodes, and evaluate the children. The
 * indices of the children are appended to kids. */
static int expand(struct gb *g, const int *sel, int ns, int *kids, struct partials *P)
{
	int i, c;

	/* Partition, in chunks. */
	if (plan_partition(g, sel, ns) < 0 || reserve_kids(g, ns) < 0)
		return -1;
	ml_pool_run(g->pool, (size_t)g->npt, part1_task, g);
	chunk_offsets(g);
	ml_pool_run(g->pool, (size_t)g->npt, part2_task, g);
	/* Children. */
	g->npairs = 0;
	for (i = 0; i < ns; i++)
		if (add_kids(g, sel[i], kids + 2 * i) < 0)
			return -1;
	if (g->npairs && run_pairs(g, P) < 0)
		return -1;
	/* A built small node that will not be split gives its buffer back. */
	for (c = 0; c < g->npairs; c++)
		if (!g->pairs[c].small->want) {
			hist_put(g, g->pairs[c].small->hist);
			g->pairs[c].small->hist = NULL;
		}
	return 0;
}

static int cmp_leaf(const struct gnode *a, const struct gnode *b)
{
	if (a->sp.gain > b->sp.gain)
		return 1;
	if (a->sp.gain < b->sp.gain)
		return -1;
	return a->tn < b->tn ? 1 : -1;
}

/* Grow a tree on rows idx[0..nidx) with gradients g->ghk. The leaves are the nodes of
 * g->nodes with no children: their rows and sums stay there for the caller. */
int ml_gbdt_grow_tree(struct gb *g, struct partials *P, double G, double H)
{
	int *sel = NULL, *kids = NULL, ns, i, rc = -1, nleaves = 1, capsel;
	struct gnode *root;

	g->nnodes = 0;
	g->nhfree = g->nhall; /* every buffer is free again */
	for (i = 0; i < g->nhall; i++)
		g->hfree[i] = g->hall[i];
	if (ml_tree_root(&g->tree, H) < 0 || new_node(g) < 0)
		return -1;
	root = &g->nodes[0];
	root->lo = 0;
	root->hi = g->nidx;
	root->G = G;
	root->H = H;
	root->tn = 0;
	root->want = splittable(g, root);
	if (!root->want)
		return 0;
	root->hist = hist_get(g);
	if (!root->hist)
		return -1;
	g->npairs = 0;
	if (add_pair(g, root, NULL) < 0 || run_pairs(g, P) < 0)
		return -1;
	capsel = 64;
	sel = malloc((size_t)capsel * sizeof(int));
	kids = malloc((size_t)capsel * 2 * sizeof(int));
	if (!sel || !kids)
		goto out;
	if (g->max_leaves == 0) {
		/* Level-wise: split every node of a level that has a split. */
		int lo = 0, hi = 1;
		for (;;) {
			ns = 0;
			for (i = lo; i < hi; i++) {
				if (g->nodes[i].sp.feat < 0) {
					hist_put(g, g->nodes[i].hist);
					g->nodes[i].hist = NULL;
					continue;
				}
				if (ns == capsel) {
					int *q = realloc(sel, (size_t)capsel * 2 * sizeof(int)), *r;
					if (!q)
						goto out;
					sel = q;
					r = realloc(kids, (size_t)capsel * 4 * sizeof(int));
					if (!r)
						goto out;
					kids = r;
					capsel *= 2;
				}
				sel[ns++] = i;
			}
			if (!ns)
				break;
			lo = g->nnodes;
			if (expand(g, sel, ns, kids, P) < 0)
				goto out;
			hi = g->nnodes;
		}
	} else {
		/* Leaf-wise: split the leaf of largest gain while leaves are allowed. */
		int *open = NULL, nopen = 0, capopen = 64;
		open = malloc((size_t)capopen * sizeof(int));
		if (!open)
			goto out;
		open[nopen++] = 0;
		while (nleaves < g->max_leaves) {
			int bi = -1;
			for (i = 0; i < nopen; i++)
				if (g->nodes[open[i]].sp.feat >= 0 &&
				    (bi < 0 ||
				     cmp_leaf(&g->nodes[open[i]], &g->nodes[open[bi]]) > 0))
					bi = i;
			if (bi < 0)
				break;
			sel[0] = open[bi];
			open[bi] = open[--nopen];
			if (expand(g, sel, 1, kids, P) < 0) {
				free(open);
				goto out;
			}
			nleaves++;
			if (nopen + 2 > capopen) {
				int *q = realloc(open, (size_t)capopen * 2 * sizeof(int));
				if (!q) {
					free(open);
					goto out;
				}
				open = q;
				capopen *= 2;
			}
			open[nopen++] = kids[0];
			open[nopen++] = kids[1];
		}
		free(open);
	}
	rc = 0;
out:
	free(sel);
	free(kids);
	return rc;
}
