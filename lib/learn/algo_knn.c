/* k-nearest neighbours (-a knn): exact search with a KD-tree or blocked BLAS brute force;
 * classes by (weighted) vote shares, values by (weighted) mean, as scikit-learn. */
#include <cblas.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "algo.h"
#include "knn.h"

#define KNN_VERSION 1
#define KNN_LEAF    32	 /* most rows in a KD-tree leaf */
#define KNN_KD_MAXP 15	 /* auto search: KD-tree up to this many features */
#define KNN_CHUNK   256	 /* query rows scored together */
#define KNN_TB	    2048 /* training rows per dgemm block */

enum { KNN_UNIFORM, KNN_DISTANCE };
enum { KNN_EUCLIDEAN, KNN_MANHATTAN };
enum { KNN_AUTO, KNN_KDTREE, KNN_BRUTE };

static const struct ml_param knn_params[] = {
	{"k", ML_P_INT, 5, 1, 1000000, NULL, "neighbours that vote"},
	{"weights", ML_P_ENUM, 0, 0, 0, "uniform,distance",
	 "neighbour weights: equal, or 1/distance (an exact match takes all the weight)"},
	{"metric", ML_P_ENUM, 0, 0, 0, "euclidean,manhattan", "distance between rows"},
	{"search", ML_P_ENUM, 0, 0, 0, "auto,kdtree,brute",
	 "neighbour search: KD-tree, brute force, or auto (KD-tree up to 15 features)"},
	{NULL, ML_P_REAL, 0, 0, 0, NULL, NULL}};

struct knn {
	size_t n;
	int p, nclass, k, weights, metric, search; /* search: KNN_KDTREE or KNN_BRUTE */
	double *y, *w; /* per training row; w NULL when every weight is 1 */
	/* brute force: the rows (row-major, training order), the rows centred on their
	 * mean with squared norms (euclidean only) */
	double *X, *mu, *C, *cn, cmax;
	/* KD-tree: rows in tree order, their training row numbers, per node the range of
	 * tree positions, bounding box and smallest row number */
	double *T, *lo, *hi;
	size_t *tidx, *nstart, *nend, *nmin;
	size_t nnodes, first_leaf;
};

static void knn_free(void *state)
{
	struct knn *m = state;

	if (!m)
		return;
	free(m->y);
	free(m->w);
	free(m->X);
	free(m->mu);
	free(m->C);
	free(m->cn);
	free(m->T);
	free(m->lo);
	free(m->hi);
	free(m->tidx);
	free(m->nstart);
	free(m->nend);
	free(m->nmin);
	free(m);
}

/* Distance of rows a and b as the search compares it: the squared euclidean distance or
 * the manhattan distance, summed in feature order. */
static double dist_full(const double *a, const double *b, int p, int metric)
{
	double s = 0;
	int j;

	if (metric == KNN_EUCLIDEAN)
		for (j = 0; j < p; j++) {
			double d = a[j] - b[j];
			s += d * d;
		}
	else
		for (j = 0; j < p; j++)
			s += fabs(a[j] - b[j]);
	return s;
}

/* The k best (distance, row) pairs seen: a max-heap ordered by distance, then row, so a
 * tie goes to the earlier training row whatever the visiting order. */
struct heap {
	double *d;
	size_t *i;
	int k;
};

static void heap_reset(struct heap *h)
{
	int t;

	for (t = 0; t < h->k; t++) {
		h->d[t] = INFINITY;
		h->i[t] = SIZE_MAX;
	}
}

static int worse(double da, size_t ia, double db, size_t ib)
{
	return da > db || (da == db && ia > ib);
}

static void heap_push(struct heap *h, double d, size_t i)
{
	int t = 0;

	if (!worse(h->d[0], h->i[0], d, i))
		return;
	for (;;) {
		int l = 2 * t + 1, r = l + 1, b = t;
		double bd = d;
		size_t bi = i;
		if (l < h->k && worse(h->d[l], h->i[l], bd, bi)) {
			b = l;
			bd = h->d[l];
			bi = h->i[l];
		}
		if (r < h->k && worse(h->d[r], h->i[r], bd, bi))
			b = r;
		if (b == t)
			break;
		h->d[t] = h->d[b];
		h->i[t] = h->i[b];
		t = b;
	}
	h->d[t] = d;
	h->i[t] = i;
}

/* Every row in training order (exact brute force). */
static void scan_all(const struct knn *m, const double *q, struct heap *h)
{
	size_t r;

	for (r = 0; r < m->n; r++)
		heap_push(h, dist_full(q, m->X + r * (size_t)m->p, m->p, m->metric), r);
}

/* KD-tree. */

/* Order idx[lo..hi) so that position nth holds the row of that rank by (x[dim], row),
 * smaller before it and larger after. */
static void select_rows(const double *X, int p, int dim, size_t *idx, size_t lo, size_t hi,
			size_t nth)
{
#define KEY_LESS(a, b)                                                                             \
	(X[(a) * (size_t)p + dim] < X[(b) * (size_t)p + dim] ||                                    \
	 (X[(a) * (size_t)p + dim] == X[(b) * (size_t)p + dim] && (a) < (b)))
	while (hi - lo > 2) {
		size_t mid = lo + (hi - lo) / 2, a = idx[lo], b = idx[mid], c = idx[hi - 1], pv, i,
		       j, t;
		/* median of three as the pivot, moved to the end */
		if (KEY_LESS(b, a)) {
			t = a;
			a = b;
			b = t;
		}
		if (KEY_LESS(c, b)) {
			t = b;
			b = c;
			c = t;
			if (KEY_LESS(b, a)) {
				t = a;
				a = b;
				b = t;
			}
		}
		idx[lo] = a;
		idx[mid] = c;
		idx[hi - 1] = b;
		pv = b;
		for (i = j = lo; i < hi - 1; i++)
			if (KEY_LESS(idx[i], pv)) {
				t = idx[i];
				idx[i] = idx[j];
				idx[j++] = t;
			}
		idx[hi - 1] = idx[j];
		idx[j] = pv;
		if (j == nth)
			return;
		if (nth < j)
			hi = j;
		else
			lo = j + 1;
	}
	if (hi - lo == 2 && KEY_LESS(idx[lo + 1], idx[lo])) {
		size_t t = idx[lo];
		idx[lo] = idx[lo + 1];
		idx[lo + 1] = t;
	}
#undef KEY_LESS
}

/* Build the tree over X (row-major, training order): a balanced binary tree, node t with
 * children 2t+1 and 2t+2, split at the middle position along the widest feature. */
static int kd_build(struct knn *m, const double *X)
{
	size_t n = m->n, q = (n - 1) / KNN_LEAF, t, r, p = (size_t)m->p;
	int levels = 1, j;

	while (q >= 2) {
		q >>= 1;
		levels++;
	}
	m->nnodes = ((size_t)1 << levels) - 1;
	m->first_leaf = ((size_t)1 << (levels - 1)) - 1;
	m->tidx = malloc(n * sizeof(size_t));
	m->nstart = malloc(m->nnodes * sizeof(size_t));
	m->nend = malloc(m->nnodes * sizeof(size_t));
	m->nmin = malloc(m->nnodes * sizeof(size_t));
	m->lo = malloc(m->nnodes * p * sizeof(double) + 1);
	m->hi = malloc(m->nnodes * p * sizeof(double) + 1);
	m->T = malloc(n * p * sizeof(double) + 1);
	if (!m->tidx || !m->nstart || !m->nend || !m->nmin || !m->lo || !m->hi || !m->T)
		return ML_E_NOMEM;
	for (r = 0; r < n; r++)
		m->tidx[r] = r;
	m->nstart[0] = 0;
	m->nend[0] = n;
	for (t = 0; t < m->first_leaf; t++) {
		size_t s = m->nstart[t], e = m->nend[t], mid = s + (e - s) / 2;
		double best = -1;
		int dim = 0;
		for (j = 0; j < m->p; j++) {
			double a = INFINITY, b = -INFINITY;
			for (r = s; r < e; r++) {
				double v = X[m->tidx[r] * p + (size_t)j];
				if (v < a)
					a = v;
				if (v > b)
					b = v;
			}
			if (b - a > best) {
				best = b - a;
				dim = j;
			}
		}
		select_rows(X, m->p, dim, m->tidx, s, e, mid);
		m->nstart[2 * t + 1] = s;
		m->nend[2 * t + 1] = mid;
		m->nstart[2 * t + 2] = mid;
		m->nend[2 * t + 2] = e;
	}
	for (r = 0; r < n; r++)
		memcpy(m->T + r * p, X + m->tidx[r] * p, p * sizeof(double));
	for (t = m->nnodes; t-- > 0;) {
		double *lo = m->lo + t * p, *hi = m->hi + t * p;
		if (t >= m->first_leaf) {
			m->nmin[t] = SIZE_MAX;
			for (j = 0; j < m->p; j++) {
				lo[j] = INFINITY;
				hi[j] = -INFINITY;
			}
			for (r = m->nstart[t]; r < m->nend[t]; r++) {
				const double *x = m->T + r * p;
				if (m->tidx[r] < m->nmin[t])
					m->nmin[t] = m->tidx[r];
				for (j = 0; j < m->p; j++) {
					if (x[j] < lo[j])
						lo[j] = x[j];
					if (x[j] > hi[j])
						hi[j] = x[j];
				}
			}
		} else {
			size_t a = 2 * t + 1, b = a + 1;
			m->nmin[t] = m->nmin[a] < m->nmin[b] ? m->nmin[a] : m->nmin[b];
			for (j = 0; j < m->p; j++) {
				lo[j] = fmin(m->lo[a * p + (size_t)j], m->lo[b * p + (size_t)j]);
				hi[j] = fmax(m->hi[a * p + (size_t)j], m->hi[b * p + (size_t)j]);
			}
		}
	}
	return 0;
}

/* Smallest distance from q to node t's box. Rounding is monotone, so this never exceeds
 * the distance dist_full computes for a row inside the box. */
static double box_dist(const struct knn *m, size_t t, const double *q)
{
	const double *lo = m->lo + t * (size_t)m->p, *hi = m->hi + t * (size_t)m->p;
	double s = 0;
	int j;

	for (j = 0; j < m->p; j++) {
		double g = 0;
		if (q[j] < lo[j])
			g = lo[j] - q[j];
		else if (q[j] > hi[j])
			g = q[j] - hi[j];
		s += m->metric == KNN_EUCLIDEAN ? g * g : g;
	}
	return s;
}

/* A node can hold nothing better than the heap's worst when its bound is larger, or
 * equal with every row number larger. */
static int kd_prune(const struct knn *m, size_t t, double bound, const struct heap *h)
{
	return bound > h->d[0] || (bound == h->d[0] && m->nmin[t] > h->i[0]);
}

static void kd_visit(const struct knn *m, size_t t, const double *q, struct heap *h)
{
	if (t >= m->first_leaf) {
		size_t r, p = (size_t)m->p;
		for (r = m->nstart[t]; r < m->nend[t]; r++) {
			const double *x = m->T + r * p;
			double s = 0, top = h->d[0];
			size_t j;
			/* partial sums only grow: stop once past the worst kept */
			if (m->metric == KNN_EUCLIDEAN) {
				for (j = 0; j < p && s <= top; j++) {
					double d = q[j] - x[j];
					s += d * d;
				}
			} else {
				for (j = 0; j < p && s <= top; j++)
					s += fabs(q[j] - x[j]);
			}
			if (j == p)
				heap_push(h, s, m->tidx[r]);
		}
		return;
	}
	/* the nearer child first, then the other unless it can no longer help */
	{
		size_t a = 2 * t + 1, b = a + 1;
		double da = box_dist(m, a, q), db = box_dist(m, b, q);
		if (db < da) {
			size_t ts = a;
			double tds = da;
			a = b;
			b = ts;
			da = db;
			db = tds;
		}
		if (!kd_prune(m, a, da, h))
			kd_visit(m, a, q, h);
		if (!kd_prune(m, b, db, h))
			kd_visit(m, b, q, h);
	}
}

/* Brute force with BLAS: approximate squared distances |a|^2 - 2ab + |b|^2 of centred
 * rows select candidates, then the exact distances of the candidates decide. */

struct cand {
	double a;
	size_t r;
};

struct cbuf {
	struct cand *c;
	size_t n, cap;
	double thr, margin;
};

/* Move the entry of rank nth (by approximate distance) to position nth. */
static void select_cand(struct cand *c, size_t lo, size_t hi, size_t nth)
{
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2, i, j;
		struct cand pv = c[mid], t;
		c[mid] = c[hi - 1];
		c[hi - 1] = pv;
		for (i = j = lo; i < hi - 1; i++)
			if (c[i].a < pv.a) {
				t = c[i];
				c[i] = c[j];
				c[j++] = t;
			}
		c[hi - 1] = c[j];
		c[j] = pv;
		if (j == nth)
			return;
		if (nth < j)
			hi = j;
		else
			lo = j + 1;
	}
}

/* Lower the threshold to the k-th smallest approximate distance plus twice the error
 * bound and drop what is above it: whatever is dropped is farther than k other rows. */
static int cbuf_prune(struct cbuf *b, int k)
{
	size_t i, j;

	if (b->n >= (size_t)k) {
		double t;
		select_cand(b->c, 0, b->n, (size_t)k - 1);
		t = b->c[k - 1].a + 2 * b->margin;
		if (t < b->thr)
			b->thr = t;
		for (i = j = 0; i < b->n; i++)
			if (b->c[i].a <= b->thr)
				b->c[j++] = b->c[i];
		b->n = j;
	}
	if (b->n + b->n >= b->cap) {
		struct cand *c = realloc(b->c, 2 * b->cap * sizeof(*c));
		if (!c)
			return ML_E_NOMEM;
		b->c = c;
		b->cap *= 2;
	}
	return 0;
}

/* Work space for one chunk of queries. */
struct work {
	double *Q;  /* KNN_CHUNK x p, row-major */
	double *Qc; /* centred */
	double *qn;
	double *G; /* KNN_CHUNK x KNN_TB */
	struct cbuf *cb;
	double *hd, *votes;
	size_t *hi;
	int *direct; /* query scanned exactly (norms too large for the approximation) */
	struct cand *nb;
};

static void work_free(struct work *w)
{
	int i;

	if (w->cb)
		for (i = 0; i < KNN_CHUNK; i++)
			free(w->cb[i].c);
	free(w->cb);
	free(w->Q);
	free(w->Qc);
	free(w->qn);
	free(w->G);
	free(w->hd);
	free(w->hi);
	free(w->votes);
	free(w->direct);
	free(w->nb);
}

static int work_init(struct work *w, const struct knn *m)
{
	size_t p = (size_t)m->p, k = (size_t)m->k;
	int i;

	memset(w, 0, sizeof(*w));
	w->Q = malloc(KNN_CHUNK * p * sizeof(double) + 1);
	w->hd = malloc(k * sizeof(double));
	w->hi = malloc(k * sizeof(size_t));
	w->nb = malloc(k * sizeof(struct cand));
	w->votes = malloc((size_t)(m->nclass ? m->nclass : 1) * sizeof(double));
	if (!w->Q || !w->hd || !w->hi || !w->nb || !w->votes)
		return ML_E_NOMEM;
	if (m->search == KNN_BRUTE && m->metric == KNN_EUCLIDEAN) {
		w->Qc = malloc(KNN_CHUNK * p * sizeof(double) + 1);
		w->qn = malloc(KNN_CHUNK * sizeof(double));
		w->G = malloc((size_t)KNN_CHUNK * KNN_TB * sizeof(double));
		w->direct = malloc(KNN_CHUNK * sizeof(int));
		w->cb = calloc(KNN_CHUNK, sizeof(*w->cb));
		if (!w->Qc || !w->qn || !w->G || !w->direct || !w->cb)
			return ML_E_NOMEM;
		for (i = 0; i < KNN_CHUNK; i++) {
			w->cb[i].cap = 4 * k + 64;
			w->cb[i].c = malloc(w->cb[i].cap * sizeof(struct cand));
			if (!w->cb[i].c)
				return ML_E_NOMEM;
		}
	}
	return 0;
}

static int cmp_nb(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	if (x->a != y->a)
		return x->a < y->a ? -1 : 1;
	return (x->r > y->r) - (x->r < y->r);
}

/* Score one query from its neighbours in the heap. */
static void finish(const struct knn *m, struct work *w, const struct heap *h, double *out, int raw)
{
	int t, k = m->k, exact = 0, c;
	double num = 0, den = 0;

	for (t = 0; t < k; t++) {
		w->nb[t].a = h->d[t];
		w->nb[t].r = h->i[t];
	}
	qsort(w->nb, (size_t)k, sizeof(*w->nb), cmp_nb);
	if (m->weights == KNN_DISTANCE) {
		for (t = 0; t < k; t++) {
			double d = m->metric == KNN_EUCLIDEAN ? sqrt(w->nb[t].a) : w->nb[t].a;
			w->nb[t].a = 1.0 / d;
			if (isinf(w->nb[t].a))
				exact = 1;
		}
		/* exact matches take all the weight */
		if (exact)
			for (t = 0; t < k; t++)
				w->nb[t].a = isinf(w->nb[t].a) ? 1 : 0;
	} else {
		for (t = 0; t < k; t++)
			w->nb[t].a = 1;
	}
	if (m->w)
		for (t = 0; t < k; t++)
			w->nb[t].a *= m->w[w->nb[t].r];
	if (m->nclass == 0) {
		for (t = 0; t < k; t++) {
			num += m->weights == KNN_UNIFORM && !m->w ? m->y[w->nb[t].r]
								  : m->y[w->nb[t].r] * w->nb[t].a;
			den += w->nb[t].a;
		}
		out[0] = num / den;
		return;
	}
	for (c = 0; c < m->nclass; c++)
		w->votes[c] = 0;
	for (t = 0; t < k; t++)
		w->votes[(int)m->y[w->nb[t].r]] += w->nb[t].a;
	for (c = 0; c < m->nclass; c++)
		den += w->votes[c];
	if (den == 0)
		den = 1;
	if (raw && m->nclass == 2) {
		out[0] = w->votes[1] / den;
		return;
	}
	for (c = 0; c < m->nclass; c++)
		out[c] = w->votes[c] / den;
}

/* Neighbours of the nq queries in w->Q by BLAS brute force, each scored into out. */
static int brute_chunk(const struct knn *m, struct work *w, size_t nq, struct heap *h, double *out,
		       size_t nout, int raw)
{
	size_t p = (size_t)m->p, i, j, tb;
	double coef = (8.0 * (double)p + 64.0) * DBL_EPSILON;
	int rc;

	for (i = 0; i < nq; i++) {
		double s = 0;
		for (j = 0; j < p; j++) {
			double v = w->Q[i * p + j] - m->mu[j];
			w->Qc[i * p + j] = v;
			s += v * v;
		}
		w->qn[i] = s;
		w->direct[i] = !(s + m->cmax < DBL_MAX / 16);
		w->cb[i].n = 0;
		w->cb[i].thr = INFINITY;
		w->cb[i].margin = coef * (s + m->cmax) + 64.0 * (double)p * DBL_MIN;
	}
	for (tb = 0; tb < m->n; tb += KNN_TB) {
		size_t nt = m->n - tb < KNN_TB ? m->n - tb : KNN_TB;
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nq, (int)nt, (int)p, 1.0,
			    w->Qc, (int)p, m->C + tb * p, (int)p, 0.0, w->G, (int)nt);
		for (i = 0; i < nq; i++) {
			struct cbuf *b = &w->cb[i];
			const double *g = w->G + i * nt, *cn = m->cn + tb;
			double qn = w->qn[i];
			if (w->direct[i])
				continue;
			for (j = 0; j < nt; j++) {
				double a = qn + cn[j] - 2 * g[j];
				if (a <= b->thr) {
					b->c[b->n].a = a;
					b->c[b->n].r = tb + j;
					if (++b->n == b->cap && (rc = cbuf_prune(b, m->k)) < 0)
						return rc;
				}
			}
		}
	}
	for (i = 0; i < nq; i++) {
		struct cbuf *b = &w->cb[i];
		const double *q = w->Q + i * p;
		heap_reset(h);
		if (w->direct[i]) {
			scan_all(m, q, h);
		} else {
			if ((rc = cbuf_prune(b, m->k)) < 0)
				return rc;
			for (j = 0; j < b->n; j++)
				heap_push(h, dist_full(q, m->X + b->c[j].r * p, m->p, m->metric),
					  b->c[j].r);
		}
		finish(m, w, h, out + i * nout, raw);
	}
	return 0;
}

/* Scoring is split into tasks of KNN_CHUNK query rows, each scored on its own with a
 * worker's work space, so the answers do not depend on how tasks are spread over
 * threads. (The predict call has no thread pool: the tasks run in order for now.) */
struct job {
	const struct knn *m;
	const double *X;
	size_t n, ld, nout;
	double *out;
	int raw;
	struct work *w; /* one per worker */
	int *rc;	/* one per task */
};

static void score_task(void *arg, size_t task, int worker)
{
	struct job *jb = arg;
	const struct knn *m = jb->m;
	struct work *w = &jb->w[worker];
	size_t p = (size_t)m->p, s = task * KNN_CHUNK, i, j;
	size_t nq = jb->n - s < KNN_CHUNK ? jb->n - s : KNN_CHUNK;
	struct heap h;

	h.d = w->hd;
	h.i = w->hi;
	h.k = m->k;
	for (j = 0; j < p; j++)
		for (i = 0; i < nq; i++)
			w->Q[i * p + j] = jb->X[j * jb->ld + s + i];
	if (m->search == KNN_BRUTE && m->metric == KNN_EUCLIDEAN) {
		jb->rc[task] = brute_chunk(m, w, nq, &h, jb->out + s * jb->nout, jb->nout, jb->raw);
		return;
	}
	for (i = 0; i < nq; i++) {
		const double *q = w->Q + i * p;
		heap_reset(&h);
		if (m->search == KNN_KDTREE)
			kd_visit(m, 0, q, &h);
		else
			scan_all(m, q, &h);
		finish(m, w, &h, jb->out + (s + i) * jb->nout, jb->raw);
	}
	jb->rc[task] = 0;
}

static int knn_predict(const void *state, const double *X, size_t n, size_t ld, double *out,
		       int raw, struct ml_err *e)
{
	const struct knn *m = state;
	size_t ntask = (n + KNN_CHUNK - 1) / KNN_CHUNK, i, j, t;
	struct job jb;
	struct work w;
	int rc = 0;

	for (j = 0; j < (size_t)m->p; j++)
		for (i = 0; i < n; i++)
			if (!isfinite(X[j * ld + i]))
				return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
						  "-a knn cannot score a row with a missing or "
						  "infinite feature value");
	if (n == 0)
		return 0;
	memset(&jb, 0, sizeof(jb));
	jb.m = m;
	jb.X = X;
	jb.n = n;
	jb.ld = ld;
	jb.out = out;
	jb.raw = raw;
	jb.nout = m->nclass == 0 || (raw && m->nclass == 2) ? 1 : (size_t)m->nclass;
	jb.w = &w;
	jb.rc = malloc(ntask * sizeof(int));
	if (!jb.rc || work_init(&w, m) < 0) {
		if (jb.rc)
			work_free(&w);
		free(jb.rc);
		return ml_err_nomem(e);
	}
	for (t = 0; t < ntask; t++)
		score_task(&jb, t, 0);
	for (t = 0; t < ntask && rc == 0; t++)
		rc = jb.rc[t];
	work_free(&w);
	free(jb.rc);
	return rc < 0 ? ml_err_nomem(e) : 0;
}

/* Build the search structure for the rows in m->X (training order). */
static int knn_index(struct knn *m)
{
	size_t p = (size_t)m->p, r, j;

	if (m->search == KNN_KDTREE) {
		int rc = kd_build(m, m->X);
		free(m->X);
		m->X = NULL;
		return rc;
	}
	if (m->metric != KNN_EUCLIDEAN)
		return 0;
	m->mu = calloc(p ? p : 1, sizeof(double));
	m->C = malloc(m->n * p * sizeof(double) + 1);
	m->cn = malloc(m->n * sizeof(double));
	if (!m->mu || !m->C || !m->cn)
		return ML_E_NOMEM;
	for (j = 0; j < p; j++) {
		double s = 0;
		for (r = 0; r < m->n; r++)
			s += m->X[r * p + j];
		m->mu[j] = s / (double)m->n;
	}
	m->cmax = 0;
	for (r = 0; r < m->n; r++) {
		double s = 0;
		for (j = 0; j < p; j++) {
			double v = m->X[r * p + j] - m->mu[j];
			m->C[r * p + j] = v;
			s += v * v;
		}
		m->cn[r] = s;
		if (!(s <= m->cmax))
			m->cmax = s;
	}
	return 0;
}

static int knn_fit(void **state, const struct ml_data *d, const struct ml_data *valid,
		   const struct ml_params *hp, struct ml_ctx *ctx, struct ml_err *e)
{
	struct knn *m;
	size_t i, r, n = 0, p = (size_t)d->p;
	int j, ones = 1, search;

	(void)valid;
	*state = NULL;
	if (d->p < 1)
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "-a knn needs at least one feature");
	for (i = 0; i < d->n; i++) {
		if (d->nclass && !(d->y[i] >= 0 && d->y[i] < d->nclass))
			return ml_err_set(e, ML_E_INTERNAL, NULL, 0, 0, "class index out of range");
		if (!d->nclass && !isfinite(d->y[i]))
			return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
					  "the target has a value that is not finite");
	}
	for (i = 0; i < d->n; i++)
		if (!d->w || d->w[i] > 0) {
			n++;
			if (d->w && d->w[i] != 1)
				ones = 0;
		}
	if (n < (size_t)ml_param(hp, "k"))
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				  "--k %.0f is more than the %zu training rows%s",
				  ml_param(hp, "k"), n, d->w ? " with a weight above 0" : "");
	if (p > 0 && n > SIZE_MAX / 8 / p)
		return ml_err_nomem(e);
	m = calloc(1, sizeof(*m));
	if (!m)
		return ml_err_nomem(e);
	m->n = n;
	m->p = d->p;
	m->nclass = d->nclass;
	m->k = (int)ml_param(hp, "k");
	m->weights = (int)ml_param(hp, "weights");
	m->metric = (int)ml_param(hp, "metric");
	search = (int)ml_param(hp, "search");
	m->search = search == KNN_AUTO ? (d->p <= KNN_KD_MAXP ? KNN_KDTREE : KNN_BRUTE) : search;
	m->X = malloc(n * p * sizeof(double) + 1);
	m->y = malloc(n * sizeof(double));
	if (!ones)
		m->w = malloc(n * sizeof(double));
	if (!m->X || !m->y || (!ones && !m->w)) {
		knn_free(m);
		return ml_err_nomem(e);
	}
	for (i = r = 0; i < d->n; i++) {
		if (d->w && !(d->w[i] > 0))
			continue;
		for (j = 0; j < d->p; j++) {
			double v = d->col[j][i];
			if (!isfinite(v)) {
				knn_free(m);
				return ml_err_set(
				    e, ML_E_DATA, NULL, 0, 0,
				    "feature '%s' has a missing or infinite value (-a knn "
				    "takes none)",
				    d->names ? d->names[j] : "?");
			}
			m->X[r * p + (size_t)j] = v;
		}
		m->y[r] = d->y[i];
		if (m->w)
			m->w[r] = d->w[i];
		r++;
	}
	if (knn_index(m) < 0) {
		knn_free(m);
		return ml_err_nomem(e);
	}
	ml_log(ctx, ML_LOG_DEBUG, "knn: %zu rows, %d features, %s search", n, d->p,
	       m->search == KNN_KDTREE ? "kd-tree" : "brute-force");
	*state = m;
	return 0;
}

/* Sections: "algo.knn" holds u32 version, u64 rows, u32 features, u32 classes, u32 k,
 * u8 weights, metric, search (resolved), has_weights; "algo.knn.X" the rows (row-major,
 * training order), "algo.knn.y" the targets (class indices or values), "algo.knn.w" the
 * row weights when not all 1. */
static int knn_save(const void *state, struct ml_model *mo, struct ml_err *e)
{
	const struct knn *m = state;
	struct ml_wbuf b;
	size_t p = (size_t)m->p, r;
	int rc;

	ml_wbuf_init(&b);
	ml_wbuf_u32(&b, KNN_VERSION);
	ml_wbuf_u64(&b, m->n);
	ml_wbuf_u32(&b, (uint32_t)m->p);
	ml_wbuf_u32(&b, (uint32_t)m->nclass);
	ml_wbuf_u32(&b, (uint32_t)m->k);
	ml_wbuf_u8(&b, (uint8_t)m->weights);
	ml_wbuf_u8(&b, (uint8_t)m->metric);
	ml_wbuf_u8(&b, (uint8_t)m->search);
	ml_wbuf_u8(&b, m->w != NULL);
	if ((rc = ml_algo_put(mo, "algo.knn", &b, e)) < 0)
		return rc;
	ml_wbuf_init(&b);
	if (m->X) {
		ml_wbuf_f64v(&b, m->X, m->n * p);
	} else {
		/* the tree holds the rows in its own order: write them back in training order */
		size_t *inv = malloc(m->n * sizeof(size_t));
		if (!inv)
			return ml_err_nomem(e);
		for (r = 0; r < m->n; r++)
			inv[m->tidx[r]] = r;
		for (r = 0; r < m->n; r++)
			ml_wbuf_f64v(&b, m->T + inv[r] * p, p);
		free(inv);
	}
	if ((rc = ml_algo_put(mo, "algo.knn.X", &b, e)) < 0)
		return rc;
	ml_wbuf_init(&b);
	ml_wbuf_f64v(&b, m->y, m->n);
	if ((rc = ml_algo_put(mo, "algo.knn.y", &b, e)) < 0)
		return rc;
	if (m->w) {
		ml_wbuf_init(&b);
		ml_wbuf_f64v(&b, m->w, m->n);
		if ((rc = ml_algo_put(mo, "algo.knn.w", &b, e)) < 0)
			return rc;
	}
	return 0;
}

static int knn_bad(struct knn *m, struct ml_err *e, const char *sec, const char *what)
{
	knn_free(m);
	return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "model section '%s' is invalid: %s", sec, what);
}

/* Read count doubles (the section's whole content) into a fresh array. */
static int get_f64(const struct ml_model *mo, const char *name, uint64_t count, double **out,
		   struct ml_err *e)
{
	const void *data;
	size_t len, c;
	struct ml_rbuf b;
	int rc;

	*out = NULL;
	if ((rc = ml_model_get(mo, name, &data, &len, e)) < 0)
		return rc;
	ml_rbuf_init(&b, data, len);
	c = ml_rbuf_count(&b, count, 8);
	if (b.err || len != c * 8)
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				  "model section '%s' is invalid: its size does not match the rows",
				  name);
	*out = malloc(c * sizeof(double) + 1);
	if (!*out)
		return ml_err_nomem(e);
	ml_rbuf_f64v(&b, *out, c);
	return 0;
}

static int knn_load(void **state, const struct ml_model *mo, const struct ml_data *shape,
		    struct ml_err *e)
{
	size_t r;
	struct ml_rbuf b;
	struct knn *m;
	uint64_t n, np;
	int rc, hasw;

	*state = NULL;
	if ((rc = ml_algo_get(mo, "algo.knn", KNN_VERSION, &b, e)) < 0)
		return rc;
	m = calloc(1, sizeof(*m));
	if (!m)
		return ml_err_nomem(e);
	n = ml_rbuf_u64(&b);
	m->p = (int)ml_rbuf_u32(&b);
	m->nclass = (int)ml_rbuf_u32(&b);
	m->k = (int)ml_rbuf_u32(&b);
	m->weights = ml_rbuf_u8(&b);
	m->metric = ml_rbuf_u8(&b);
	m->search = ml_rbuf_u8(&b);
	hasw = ml_rbuf_u8(&b);
	if (b.err || b.off != b.n)
		return knn_bad(m, e, "algo.knn", "wrong size");
	if (m->p != shape->p || m->p < 1 || m->nclass != shape->nclass)
		return knn_bad(m, e, "algo.knn",
			       "its shape does not match the model's features "
			       "and classes");
	if (m->k < 1 || n < (uint64_t)m->k || m->weights > KNN_DISTANCE ||
	    m->metric > KNN_MANHATTAN || (m->search != KNN_KDTREE && m->search != KNN_BRUTE) ||
	    hasw > 1)
		return knn_bad(m, e, "algo.knn", "bad parameters");
	if (m->p > 0 && n > SIZE_MAX / 8 / (uint64_t)m->p)
		return knn_bad(m, e, "algo.knn", "too many rows");
	np = n * (uint64_t)m->p;
	m->n = (size_t)n;
	if ((rc = get_f64(mo, "algo.knn.X", np, &m->X, e)) < 0 ||
	    (rc = get_f64(mo, "algo.knn.y", n, &m->y, e)) < 0 ||
	    (hasw && (rc = get_f64(mo, "algo.knn.w", n, &m->w, e)) < 0)) {
		knn_free(m);
		return rc;
	}
	for (r = 0; r < (size_t)np; r++)
		if (!isfinite(m->X[r]))
			return knn_bad(m, e, "algo.knn.X", "a value is not finite");
	for (r = 0; r < m->n; r++) {
		double y = m->y[r];
		if (m->nclass ? !(y >= 0 && y < m->nclass && y == floor(y)) : !isfinite(y))
			return knn_bad(m, e, "algo.knn.y", "bad target");
		if (m->w && !(m->w[r] > 0 && isfinite(m->w[r])))
			return knn_bad(m, e, "algo.knn.w", "bad weight");
	}
	if (knn_index(m) < 0) {
		knn_free(m);
		return ml_err_nomem(e);
	}
	*state = m;
	return 0;
}

const struct ml_algo ml_algo_knn = {
	.name = "knn",
	.summary = "k-nearest neighbours: vote shares or mean of the closest training rows",
	.flags = ML_ALGO_CLASSIFY | ML_ALGO_REGRESS,
	.params = knn_params,
	.fit = knn_fit,
	.predict = knn_predict,
	.save = knn_save,
	.load = knn_load,
	.tables = NULL,
	.table = NULL,
	.free = knn_free,
};

/* The search alone, for other learners (knn.h). */

int ml_knn_index_new(struct knn **out, const double *X, size_t n, int p, int metric,
		     int search)
{
	struct knn *m = calloc(1, sizeof(*m));

	*out = NULL;
	if (!m)
		return ML_E_NOMEM;
	m->n = n;
	m->p = p;
	m->k = 1;
	m->metric = metric;
	m->search = search == KNN_AUTO ? (p <= KNN_KD_MAXP ? KNN_KDTREE : KNN_BRUTE) : search;
	m->X = malloc(n * (size_t)p * sizeof(double) + 1);
	if (!m->X) {
		knn_free(m);
		return ML_E_NOMEM;
	}
	memcpy(m->X, X, n * (size_t)p * sizeof(double));
	if (knn_index(m) < 0) {
		knn_free(m);
		return ML_E_NOMEM;
	}
	*out = m;
	return 0;
}

void ml_knn_nearest(const struct knn *m, const double *q, int k, double *dist, size_t *idx)
{
	struct heap h;
	int a, b;

	h.d = dist;
	h.i = idx;
	h.k = k;
	heap_reset(&h);
	if (m->search == KNN_KDTREE)
		kd_visit(m, 0, q, &h);
	else
		scan_all(m, q, &h);
	/* the heap in rising order (k is small) */
	for (a = 1; a < k; a++)
		for (b = a; b > 0 && worse(dist[b - 1], idx[b - 1], dist[b], idx[b]); b--) {
			double td = dist[b];
			size_t ti = idx[b];
			dist[b] = dist[b - 1];
			idx[b] = idx[b - 1];
			dist[b - 1] = td;
			idx[b - 1] = ti;
		}
	if (m->metric == KNN_EUCLIDEAN)
		for (a = 0; a < k; a++)
			dist[a] = sqrt(dist[a]);
}

void ml_knn_index_free(struct knn *m)
{
	knn_free(m);
}
