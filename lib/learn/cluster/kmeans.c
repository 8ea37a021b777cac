/* k-means clustering (-a kmeans): k-means++ seeding (the greedy variant: 2 + log k
 * candidates per centre, the one that lowers the potential most kept), Lloyd iterations
 * whose distances come from dgemm on chunks of rows or Elkan's, which skip the distances
 * the triangle inequality rules out, the best of --n-init runs by inertia. As
 * scikit-learn's KMeans: the same tolerance (relative to the mean feature variance), the
 * same stopping rules and the same final assignment, so that from the same initial
 * centres the centres, labels and inertia agree. */
#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "learn/algo.h"

#define KM_VERSION 2 /* 1: without the silhouette */
#define KM_SIL_ROWS 2000 /* the most rows the silhouette is computed on */
#define KM_CHUNK   256 /* rows per dgemm */
#define KM_TASKS   64  /* most tasks of an assignment: their number and rows depend on the
			* rows alone, so that sums do not depend on -j */

enum { KM_PLUSPLUS, KM_FIRST, KM_RANDOM };
enum { KM_LLOYD, KM_ELKAN };

static const struct ml_param km_params[] = {
    {"k", ML_P_INT, 8, 1, 100000, NULL, "clusters (default 8)"},
    {"init", ML_P_ENUM, KM_PLUSPLUS, 0, 0, "k-means++,first,random",
     "initial centres: seeded greedy k-means++, the first k training rows, or k distinct "
     "rows drawn at random"},
    {"n-init", ML_P_INT, 1, 1, 10000, NULL,
     "seeded runs, the one of lowest inertia kept (default 1; first takes 1)"},
    {"max-iter", ML_P_INT, 300, 1, 1000000, NULL, "most iterations of a run (default 300)"},
    {"method", ML_P_ENUM, KM_LLOYD, 0, 0, "lloyd,elkan",
     "iterations: Lloyd's (every distance, through dgemm) or Elkan's (distances the "
     "triangle inequality cannot rule out; the same clusters)"},
    {"tol", ML_P_REAL, 1e-4, 0, 1e10, NULL,
     "a run stops when the centres move less than this times the mean feature variance "
     "(summed squared shifts; default 1e-4)"},
    {NULL, ML_P_REAL, 0, 0, 0, NULL, NULL}};

/* The fitted model: k centres of p features (row-major), the training weight of each
 * cluster, the inertia (weighted sum of squared distances to the nearest centre), the
 * iterations of the run kept, and the mean silhouette of a sample of the training rows
 * (NaN where it is not defined: fewer than two clusters in the sample). */
struct kmeans {
	int p, k, iters;
	double *C, *size;
	double inertia, tol, silhouette;
	size_t ntrain, sil_rows;
};

static void km_free(void *state)
{
	struct kmeans *m = state;

	if (!m)
		return;
	free(m->C);
	free(m->size);
	free(m);
}

/* One fit: the rows (the training columns, centred on the feature means as they are
 * read: no centred copy of every row is kept), their weights, and per-chunk scratch. */
struct run {
	size_t n;
	int p, k;
	const double *const *col; /* feature j of row i: col[j][i] */
	const double *mean;	  /* per feature */
	const double *w;
	const double *C; /* current centres */
	double *cn;	 /* |c_j|^2 */
	int32_t *lab;
	double *dmin;	 /* squared distance of each row to its centre */
	double *sums;	 /* per task: k x p weighted sums and k weights (update) */
	double *inert;	 /* per task: the inertia */
	double *scratch; /* per worker: KM_CHUNK x (k + p + 1) */
	int update;	 /* tasks also accumulate sums */
	int changed;
	int32_t *old;
	/* Elkan's iterations */
	double *upper; /* per row: a bound on the distance to its centre */
	double *lower; /* per row, k: bounds on the distance to each centre */
	double *hc;    /* k x k: half the distances between centres */
	double *sn;    /* per centre: half the distance to its nearest other */
	double *shift; /* per centre: how far it moved */
	int dmin_stale; /* dmin is not filled by the iterations */
	int exact;	/* Elkan: measure every distance, the bounds start exact */
};

static size_t nchunks(size_t n)
{
	return (n + KM_CHUNK - 1) / KM_CHUNK;
}

/* A worker's scratch: a chunk's distances, its rows and one value per row. */
static size_t scratch_size(int p, int k)
{
	return KM_CHUNK * ((size_t)k + (size_t)p + 1);
}

/* Row i, centred, into x (p values). */
static void get_row(const struct run *r, size_t i, double *x)
{
	int d;

	for (d = 0; d < r->p; d++)
		x[d] = r->col[d][i] - r->mean[d];
}

/* Rows i0 .. i0 + q - 1, centred, into X: row-major (X[i * p + d]) with rowmajor, else
 * column-major (X[d * q + i]). The next chunk's values are asked for on the way: read
 * one column at a time, a chunk is too short for the processor to see the streams. */
static void get_rows(const struct run *r, size_t i0, size_t q, int rowmajor, double *X)
{
	size_t i, p = (size_t)r->p, d, ahead = i0 + 2 * q <= r->n ? q : 0;

	for (d = 0; d < p; d++) {
		const double *c = r->col[d] + i0;
		double m = r->mean[d];
		for (i = 0; i < ahead; i += 8)
			__builtin_prefetch(c + q + i);
		if (rowmajor) {
			for (i = 0; i < q; i++)
				X[i * p + d] = c[i] - m;
			continue;
		}
		for (i = 0; i < q; i++)
			X[d * q + i] = c[i] - m;
	}
}

/* Rows per task of an assignment: whole chunks, at most KM_TASKS tasks, so that the
 * per-task sums stay small whatever n is. */
static size_t task_rows(size_t n)
{
	return (nchunks(n) + KM_TASKS - 1) / KM_TASKS * KM_CHUNK;
}

static size_t ntasks(size_t n)
{
	return n ? (n + task_rows(n) - 1) / task_rows(n) : 0;
}

/* The squared distance between x and c, p values, summed in feature order. */
static double sqdist(const double *x, const double *c, size_t p)
{
	double s = 0;
	size_t d;

	for (d = 0; d < p; d++)
		s += (x[d] - c[d]) * (x[d] - c[d]);
	return s;
}

/* A task's rows: the nearest centre by |c|^2 - 2 x.c through dgemm on chunks (ties to the
 * lower index, as an argmin), the exact squared distance to it, and the task's sums. */
static void assign_task(void *arg, size_t task, int worker)
{
	struct run *r = arg;
	size_t tr = task_rows(r->n), i0 = task * tr, i1 = i0 + tr > r->n ? r->n : i0 + tr;
	size_t p = (size_t)r->p, k = (size_t)r->k, i, j, d, c0;
	double *D = r->scratch + (size_t)worker * scratch_size(r->p, r->k), *X = D + KM_CHUNK * k;
	double *S = r->sums + task * k * (p + 1), in = 0;

	if (r->update)
		memset(S, 0, k * (p + 1) * sizeof(double));
	for (c0 = i0; c0 < i1; c0 += KM_CHUNK) {
		size_t q = i1 - c0 < KM_CHUNK ? i1 - c0 : KM_CHUNK;
		get_rows(r, c0, q, 1, X);
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)q, (int)k, (int)p, 1.0,
			    X, (int)p, r->C, (int)p, 0.0, D, (int)k);
		for (i = 0; i < q; i++) {
			const double *x = X + i * p;
			double best = r->cn[0] - 2 * D[i * k], s = 0, wi = r->w ? r->w[c0 + i] : 1;
			size_t b = 0;
			for (j = 1; j < k; j++) {
				double v = r->cn[j] - 2 * D[i * k + j];
				if (v < best) {
					best = v;
					b = j;
				}
			}
			s = sqdist(x, r->C + b * p, p);
			r->lab[c0 + i] = (int32_t)b;
			r->dmin[c0 + i] = s;
			in += wi * s;
			if (r->update) {
				double *sb = S + b * (p + 1);
				for (d = 0; d < p; d++)
					sb[d] += wi * x[d];
				sb[p] += wi;
			}
		}
	}
	r->inert[task] = in;
}

static void new_centres(struct run *r, size_t nt, const double *C, double *Cn, size_t *far);

/* fn on tasks 0 .. ntask - 1 over ctx's pool (in this thread without one). */
static void run_tasks(struct ml_ctx *ctx, size_t ntask, ml_task_fn fn, void *arg)
{
	ml_pool_run(ctx ? ctx->pool : NULL, ntask, fn, arg);
}

/* Assign every row to its nearest centre of C; with update, the new centres into Cn (the
 * weighted means; an empty cluster takes the row farthest from its centre, as
 * scikit-learn relocates them). Returns the inertia. */
static double assign(struct run *r, struct ml_ctx *ctx, const double *C, double *Cn,
		     size_t *far)
{
	size_t nt = ntasks(r->n), t, p = (size_t)r->p, k = (size_t)r->k, j;
	double in = 0;

	r->C = C;
	for (j = 0; j < k; j++)
		r->cn[j] = cblas_ddot((int)p, C + j * p, 1, C + j * p, 1);
	r->update = Cn != NULL;
	run_tasks(ctx, nt, assign_task, r);
	for (t = 0; t < nt; t++)
		in += r->inert[t];
	if (Cn)
		new_centres(r, nt, C, Cn, far);
	return in;
}

/* The squared distance of each row to its centre of C, into r->dmin. */
static void fill_dmin(struct run *r, const double *C)
{
	size_t i, p = (size_t)r->p;
	double *x = r->scratch;

	for (i = 0; i < r->n; i++) {
		get_row(r, i, x);
		r->dmin[i] = sqdist(x, C + (size_t)r->lab[i] * p, p);
	}
}

/* The new centres into Cn from the nt tasks' sums: the weighted means; an empty cluster
 * takes the row farthest from its centre of C, as scikit-learn relocates them. */
static void new_centres(struct run *r, size_t nt, const double *C, double *Cn, size_t *far)
{
	size_t t, p = (size_t)r->p, k = (size_t)r->k, j, d;

	/* the sums in task order, into the first task's slot */
	for (t = 1; t < nt; t++)
		for (j = 0; j < k * (p + 1); j++)
			r->sums[j] += r->sums[t * k * (p + 1) + j];
	{
		size_t nempty = 0, e;
		for (j = 0; j < k; j++)
			nempty += !(r->sums[j * (p + 1) + p] > 0);
		if (nempty) {
			/* the rows by decreasing distance to their centre (index order on ties) */
			size_t nf = 0, i, a;
			if (r->dmin_stale)
				fill_dmin(r, C);
			for (i = 0; i < r->n; i++) {
				if (r->w && !(r->w[i] > 0))
					continue;
				for (a = nf < nempty ? nf++ : nempty;
				     a > 0 && (r->dmin[far[a - 1]] < r->dmin[i]); a--)
					if (a < nempty)
						far[a] = far[a - 1];
				if (a < nempty)
					far[a] = i;
			}
			for (j = 0, e = 0; j < k && e < nf; j++) {
				double *sj = r->sums + j * (p + 1), *so, wi, *x = r->scratch;
				if (sj[p] > 0)
					continue;
				i = far[e++];
				get_row(r, i, x);
				wi = r->w ? r->w[i] : 1;
				so = r->sums + (size_t)r->lab[i] * (p + 1);
				for (d = 0; d < p; d++) {
					so[d] -= wi * x[d];
					sj[d] = wi * x[d];
				}
				so[p] -= wi;
				sj[p] = wi;
			}
		}
	}
	for (j = 0; j < k; j++) {
		const double *sj = r->sums + j * (p + 1);
		for (d = 0; d < p; d++)
			Cn[j * p + d] = sj[p] > 0 ? sj[d] / sj[p] : C[j * p + d];
	}
}

/* The first i with cum[i] > u (the last when none): a draw in proportion to the
 * increments of the running sum cum, which never picks an increment of 0. */
static size_t pick(const double *cum, size_t n, double u)
{
	size_t lo = 0, hi = n - 1;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cum[mid] > u)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* One k-means++ step over chunks of rows: for each candidate (row t of cc), every row's
 * squared distance to the nearest centre if the candidate joined them (computed directly,
 * so that a row equal to a centre is at 0 exactly) and each chunk's weighted sum. */
struct pp {
	const struct run *r;
	const double *closest;
	const double *cc; /* ncand x p: the candidates */
	int ncand;
	double *dist; /* ncand x n */
	double *pot;  /* ncand x chunks */
};

static void pp_task(void *arg, size_t task, int worker)
{
	struct pp *q = arg;
	const struct run *r = q->r;
	size_t n = r->n, p = (size_t)r->p, i0 = task * KM_CHUNK, m, i, d;
	double *X = r->scratch + (size_t)worker * scratch_size(r->p, r->k), *s = X + KM_CHUNK * p;
	int t;

	m = n - i0 < KM_CHUNK ? n - i0 : KM_CHUNK;
	get_rows(r, i0, m, 0, X);
	for (t = 0; t < q->ncand; t++) {
		const double *c = q->cc + (size_t)t * p;
		double *out = q->dist + (size_t)t * n + i0, pot = 0;
		/* feature by feature over the chunk's rows: each row's sum in feature order,
		 * as a row at a time would add it, in a loop the compiler vectorises */
		for (i = 0; i < m; i++)
			s[i] = 0;
		for (d = 0; d < p; d++) {
			const double *x = X + d * m, cd = c[d];
#pragma omp simd
			for (i = 0; i < m; i++)
				s[i] += (x[i] - cd) * (x[i] - cd);
		}
		for (i = 0; i < m; i++) {
			double v = s[i];
			if (q->closest && q->closest[i0 + i] < v)
				v = q->closest[i0 + i];
			out[i] = v;
			pot += (r->w ? r->w[i0 + i] : 1) * v;
		}
		q->pot[(size_t)t * nchunks(n) + task] = pot;
	}
}

/* The values buf of plusplus holds for n rows, p features and k clusters. */
static size_t pp_size(size_t n, size_t p, int k)
{
	size_t trials = (size_t)(2 + log((double)k));

	return (2 + trials) * n + trials * (nchunks(n) + p);
}

/* Greedy k-means++ into C: the first centre drawn by weight, each next one the best of
 * 2 + log k candidates drawn in proportion to their weighted squared distance to the
 * nearest centre so far (the one leaving the lowest potential). buf holds pp_size
 * values. 1 when the rows have fewer than k distinct points. */
static int plusplus(const struct run *r, struct ml_ctx *ctx, struct ml_rng *rng, double *C,
		    double *buf)
{
	size_t n = r->n, p = (size_t)r->p, nc = nchunks(n), i, c, ch;
	int trials = 2 + (int)log((double)r->k), t;
	double *closest = buf, *cum = buf + n, *cc, pot = 0;
	struct pp q;

	q.r = r;
	q.dist = buf + 2 * n;
	q.pot = q.dist + (size_t)trials * n;
	q.cc = cc = q.pot + (size_t)trials * nc;
	for (i = 0; i < n; i++)
		cum[i] = (i ? cum[i - 1] : 0) + (r->w ? r->w[i] : 1);
	get_row(r, pick(cum, n, ml_rng_uniform(rng) * cum[n - 1]), cc);
	for (c = 0; c < (size_t)r->k; c++) {
		double bestpot = INFINITY;
		int bt = 0;
		q.closest = c ? closest : NULL;
		q.ncand = c ? trials : 1;
		if (c) {
			if (!(pot > 0))
				return 1;
			for (i = 0; i < n; i++)
				cum[i] = (i ? cum[i - 1] : 0) + (r->w ? r->w[i] : 1) * closest[i];
			for (t = 0; t < trials; t++)
				get_row(r, pick(cum, n, ml_rng_uniform(rng) * cum[n - 1]),
					cc + (size_t)t * p);
		}
		run_tasks(ctx, nc, pp_task, &q);
		for (t = 0; t < q.ncand; t++) {
			double cp = 0;
			for (ch = 0; ch < nc; ch++)
				cp += q.pot[(size_t)t * nc + ch];
			if (cp < bestpot) {
				bestpot = cp;
				bt = t;
			}
		}
		memcpy(C + c * p, cc + (size_t)bt * p, p * sizeof(double));
		memcpy(closest, q.dist + (size_t)bt * n, n * sizeof(double));
		pot = bestpot;
	}
	return 0;
}

/* The Euclidean distance between x and c, p values. */
static double dist(const double *x, const double *c, size_t p)
{
	return sqrt(sqdist(x, c, p));
}

/* Elkan's step for a task's rows (Elkan, "Using the triangle inequality to accelerate
 * k-means", ICML 2003, as scikit-learn's elkan runs it): a row whose bound on the distance
 * to its centre is within half the distance from that centre to any other keeps it;
 * otherwise only the centres its bounds cannot rule out are measured, the bound made exact
 * first. With r->exact, every distance is measured and the bounds start exact. The task's
 * sums as assign_task's. */
static void elkan_task(void *arg, size_t task, int worker)
{
	struct run *r = arg;
	size_t tr = task_rows(r->n), i0 = task * tr, i1 = i0 + tr > r->n ? r->n : i0 + tr;
	size_t p = (size_t)r->p, k = (size_t)r->k, i, j, d, c0;
	double *X = r->scratch + (size_t)worker * scratch_size(r->p, r->k);
	double *S = r->sums + task * k * (p + 1);

	memset(S, 0, k * (p + 1) * sizeof(double));
	for (c0 = i0; c0 < i1; c0 += KM_CHUNK) {
		size_t q = i1 - c0 < KM_CHUNK ? i1 - c0 : KM_CHUNK;
		get_rows(r, c0, q, 1, X);
		for (i = 0; i < q; i++) {
			const double *x = X + i * p;
			double *L = r->lower + (c0 + i) * k, u, wi = r->w ? r->w[c0 + i] : 1, *sb;
			size_t a;
			if (r->exact) {
				/* the first step: every distance */
				a = 0;
				u = L[0] = dist(x, r->C, p);
				for (j = 1; j < k; j++) {
					L[j] = dist(x, r->C + j * p, p);
					if (L[j] < u) {
						u = L[j];
						a = j;
					}
				}
			} else {
				int tight = 0;
				a = (size_t)r->lab[c0 + i];
				u = r->upper[c0 + i];
				for (j = 0; j < k && r->sn[a] < u; j++) {
					double h = r->hc[a * k + j];
					if (j == a || !(u > L[j] && u > h))
						continue;
					if (!tight) {
						u = L[a] = dist(x, r->C + a * p, p);
						tight = 1;
						if (!(u > L[j] && u > h))
							continue;
					}
					L[j] = dist(x, r->C + j * p, p);
					if (L[j] < u || (L[j] == u && j < a)) {
						u = L[j];
						a = j;
					}
				}
			}
			r->lab[c0 + i] = (int32_t)a;
			r->upper[c0 + i] = u;
			sb = S + a * (p + 1);
			for (d = 0; d < p; d++)
				sb[d] += wi * x[d];
			sb[p] += wi;
		}
	}
}

/* After the centres moved by r->shift: the bounds widened by as much. */
static void bounds_task(void *arg, size_t task, int worker)
{
	struct run *r = arg;
	size_t tr = task_rows(r->n), i0 = task * tr, i1 = i0 + tr > r->n ? r->n : i0 + tr;
	size_t k = (size_t)r->k, i, j;

	(void)worker;
	for (i = i0; i < i1; i++) {
		double *L = r->lower + i * k;
		r->upper[i] += r->shift[r->lab[i]];
		for (j = 0; j < k; j++)
			L[j] = L[j] > r->shift[j] ? L[j] - r->shift[j] : 0;
	}
}

/* Elkan's step from the centres C into Cn: the half distances between centres, the
 * rows' bounds and labels, the new centres. first: the bounds start exact. */
static void elkan_step(struct run *r, struct ml_ctx *ctx, const double *C, double *Cn,
		       size_t *far, int first)
{
	size_t k = (size_t)r->k, p = (size_t)r->p, nt = ntasks(r->n), j, l;

	for (j = 0; j < k; j++) {
		r->sn[j] = INFINITY;
		for (l = 0; l < k; l++) {
			double h = 0.5 * dist(C + j * p, C + l * p, p);
			r->hc[j * k + l] = h;
			if (l != j && h < r->sn[j])
				r->sn[j] = h;
		}
	}
	r->C = C;
	r->exact = first;
	run_tasks(ctx, nt, elkan_task, r);
	new_centres(r, nt, C, Cn, far);
	/* the bounds widened by how far each centre moved */
	for (j = 0; j < k; j++)
		r->shift[j] = dist(Cn + j * p, C + j * p, p);
	run_tasks(ctx, nt, bounds_task, r);
}

/* Iterations from the centres in C (replaced by the final ones), Lloyd's or with elkan
 * Elkan's, as scikit-learn's: stop when the labels repeat or the centres' summed squared
 * shift is at most tol, then assign the rows to the final centres. Returns the inertia;
 * *iters the iterations run. */
static double iterate(struct run *r, struct ml_ctx *ctx, double *C, double *Cn, size_t *far,
		      int maxit, double tol, int elkan, int *iters)
{
	size_t kp = (size_t)r->k * (size_t)r->p, j;
	int it;

	for (j = 0; j < r->n; j++)
		r->old[j] = -1;
	r->dmin_stale = elkan;
	for (it = 0; it < maxit; it++) {
		double shift = 0;
		if (elkan)
			elkan_step(r, ctx, C, Cn, far, it == 0);
		else
			assign(r, ctx, C, Cn, far);
		for (j = 0; j < kp; j++)
			shift += (Cn[j] - C[j]) * (Cn[j] - C[j]);
		memcpy(C, Cn, kp * sizeof(double));
		if (memcmp(r->lab, r->old, r->n * sizeof(int32_t)) == 0 || shift <= tol) {
			it++;
			break;
		}
		memcpy(r->old, r->lab, r->n * sizeof(int32_t));
	}
	*iters = it;
	r->dmin_stale = 0;
	return assign(r, ctx, C, NULL, NULL);
}

/* The silhouette's rows, labelled, and each row's value. */
struct sil {
	const double *X; /* column-major, X[d * ns + i] */
	size_t p, ns;
	const int32_t *lab;
	const size_t *cnt;
	int k;
	double *sums; /* per task: k sums of distances */
	double *s;    /* per row */
	double *dist; /* per worker: ns distances */
};

#define SIL_TASKS 32

/* Rows [task ns / SIL_TASKS, (task + 1) ns / SIL_TASKS): a the mean distance to the other
 * rows of the row's cluster, b the least mean distance to the rows of another cluster,
 * s = (b - a) / max(a, b), 0 for a row alone in its cluster. The distances are taken as
 * needed (each pair twice), not kept: a row's to every other a feature at a time, in a
 * loop the compiler vectorises (each distance's sum in feature order all the same). */
static void sil_task(void *arg, size_t task, int worker)
{
	const struct sil *q = arg;
	size_t i, j, d, p = q->p, ns = q->ns;
	double *sum = q->sums + task * (size_t)q->k, *t = q->dist + (size_t)worker * ns;
	int c;

	for (i = task * ns / SIL_TASKS; i < (task + 1) * ns / SIL_TASKS; i++) {
		double a, b = INFINITY;
		int li = q->lab[i];
		for (c = 0; c < q->k; c++)
			sum[c] = 0;
		for (j = 0; j < ns; j++)
			t[j] = 0;
		for (d = 0; d < p; d++) {
			const double *y = q->X + d * ns, x = y[i];
#pragma omp simd
			for (j = 0; j < ns; j++)
				t[j] += (x - y[j]) * (x - y[j]);
		}
#pragma omp simd
		for (j = 0; j < ns; j++)
			t[j] = sqrt(t[j]);
		for (j = 0; j < ns; j++)
			sum[q->lab[j]] += t[j];
		q->s[i] = 0;
		if (q->cnt[li] < 2)
			continue;
		a = sum[li] / (double)(q->cnt[li] - 1);
		for (c = 0; c < q->k; c++)
			if (c != li && q->cnt[c] && sum[c] / (double)q->cnt[c] < b)
				b = sum[c] / (double)q->cnt[c];
		if (fmax(a, b) > 0)
			q->s[i] = (b - a) / fmax(a, b);
	}
}

/* The mean silhouette (as scikit-learn's silhouette_score, Euclidean) of ns rows of X
 * (column-major, X[d * ns + i]) labelled by their nearest centre of C, on ctx's pool
 * (the same sum whatever -j). NaN with fewer than two clusters among the rows or as many
 * clusters as rows. lab (ns), cnt (k), sums (SIL_TASKS k), s (ns) and dist (ns per
 * worker of the pool) are scratch. */
static double silhouette(const double *X, size_t p, size_t ns, const double *C, int k,
			 int32_t *lab, size_t *cnt, double *sums, double *s, double *dist,
			 struct ml_ctx *ctx)
{
	struct sil q;
	size_t i, d;
	double tot = 0;
	int c, used = 0;

	for (c = 0; c < k; c++)
		cnt[c] = 0;
	for (i = 0; i < ns; i++) {
		double best = INFINITY;
		int b = 0;
		for (c = 0; c < k; c++) {
			double v = 0;
			for (d = 0; d < p; d++)
				v += (X[d * ns + i] - C[(size_t)c * p + d]) *
				     (X[d * ns + i] - C[(size_t)c * p + d]);
			if (v < best) {
				best = v;
				b = c;
			}
		}
		lab[i] = b;
		used += cnt[b]++ == 0;
	}
	if (used < 2 || (size_t)used == ns)
		return NAN;
	q.X = X;
	q.p = p;
	q.ns = ns;
	q.lab = lab;
	q.cnt = cnt;
	q.k = k;
	q.sums = sums;
	q.s = s;
	q.dist = dist;
	run_tasks(ctx, SIL_TASKS, sil_task, &q);
	for (i = 0; i < ns; i++)
		tot += s[i];
	return tot / (double)ns;
}

/* The silhouette of min(n, KM_SIL_ROWS) training rows of r (all of them, or a seeded
 * draw without replacement in their order), labelled by the centres C (centred as r). */
static int fit_silhouette(struct kmeans *m, const struct run *r, const double *C,
			  struct ml_ctx *ctx, struct ml_err *e)
{
	size_t n = r->n, p = (size_t)r->p, ns = n < KM_SIL_ROWS ? n : KM_SIL_ROWS, i, d, k = 0;
	size_t workers = (size_t)(ctx ? ml_pool_size(ctx->pool) : 1);
	size_t *cnt = malloc((size_t)m->k * sizeof(size_t));
	double *sums = malloc(SIL_TASKS * (size_t)m->k * sizeof(double)),
	       *sv = malloc(ns * sizeof(double)), *X = malloc(ns * p * sizeof(double)),
	       *dist = malloc(workers * ns * sizeof(double));
	int32_t *lab = malloc(ns * sizeof(int32_t));
	struct ml_rng rng;
	int rc = 0;

	if (!cnt || !sums || !sv || !X || !dist || !lab) {
		rc = ml_err_nomem(e);
		goto out;
	}
	/* selection sampling: row i is taken with probability (ns - k) / (n - i), which
	 * draws ns rows without replacement, in their order (all of them when ns = n) */
	ml_rng_derive(&rng, ctx ? ctx->seed : 0, 0x6b6d5f);
	for (i = 0; i < n && k < ns; i++)
		if (ns == n || ml_rng_below(&rng, n - i) < ns - k) {
			for (d = 0; d < p; d++)
				X[d * ns + k] = r->col[d][i] - r->mean[d];
			k++;
		}
	m->silhouette = silhouette(X, p, ns, C, m->k, lab, cnt, sums, sv, dist, ctx);
	m->sil_rows = ns;
out:
	free(X);
	free(dist);
	free(cnt);
	free(sums);
	free(sv);
	free(lab);
	return rc;
}

/* Feature means and spreads, one feature a task. */
struct colstat {
	const struct ml_data *d;
	double *mean; /* p means, then per feature the sum of squared deviations from it,
		       * NaN for a feature with a value that is not finite */
};

static void colstat_task(void *arg, size_t j, int worker)
{
	const struct colstat *q = arg;
	const double *c = q->d->col[j];
	size_t n = q->d->n, i;
	double m = 0, v = 0;

	(void)worker;
	for (i = 0; i < n; i++) {
		if (!isfinite(c[i])) {
			q->mean[(size_t)q->d->p + j] = NAN;
			return;
		}
		m += c[i];
	}
	m /= (double)n;
	for (i = 0; i < n; i++)
		v += (c[i] - m) * (c[i] - m);
	q->mean[j] = m;
	q->mean[(size_t)q->d->p + j] = v;
}

static int km_fit(void **state, const struct ml_data *d, const struct ml_data *valid,
		  const struct ml_params *hp, struct ml_ctx *ctx, struct ml_err *e)
{
	struct kmeans *m = NULL;
	struct run r;
	size_t n = d->n, p = (size_t)d->p, i, j, kp;
	int k = (int)ml_param(hp, "k"), init = (int)ml_param(hp, "init");
	int ninit = init == KM_FIRST ? 1 : (int)ml_param(hp, "n-init"), s, rc = 0;
	int method = (int)ml_param(hp, "method");
	int workers = ctx && ctx->pool ? ml_pool_size(ctx->pool) : 1;
	double *mean = NULL, *C = NULL, *Cn = NULL, *best = NULL, *buf = NULL;
	double var = 0, tol, bestin = INFINITY;
	size_t *far = NULL;

	(void)valid;
	*state = NULL;
	memset(&r, 0, sizeof(r));
	if (d->p < 1)
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "-a kmeans needs at least one feature");
	if ((size_t)k > n)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "--k %d is more clusters than the %zu training rows", k, n);
	if (p > 0 && n > SIZE_MAX / 8 / p / 2)
		return ml_err_nomem(e);
	kp = (size_t)k * p;
	mean = calloc(2 * p, sizeof(double));
	C = malloc(kp * sizeof(double));
	Cn = malloc(kp * sizeof(double));
	best = malloc(kp * sizeof(double));
	buf = malloc(pp_size(n, p, k) * sizeof(double));
	far = malloc((size_t)k * sizeof(size_t));
	r.n = n;
	r.p = d->p;
	r.k = k;
	r.w = d->w;
	r.cn = malloc((size_t)k * sizeof(double));
	r.lab = malloc(n * sizeof(int32_t));
	r.old = malloc(n * sizeof(int32_t));
	r.dmin = malloc(n * sizeof(double));
	r.sums = malloc(ntasks(n) * (size_t)k * (p + 1) * sizeof(double));
	r.inert = malloc(ntasks(n) * sizeof(double));
	r.scratch = malloc((size_t)workers * scratch_size(d->p, k) * sizeof(double));
	if (method == KM_ELKAN) {
		r.upper = malloc(n * sizeof(double));
		r.lower = n > SIZE_MAX / 8 / (size_t)k ? NULL : malloc(n * (size_t)k * sizeof(double));
		r.hc = malloc((size_t)k * (size_t)k * sizeof(double));
		r.sn = malloc((size_t)k * sizeof(double));
		r.shift = malloc((size_t)k * sizeof(double));
	}
	if (!mean || !C || !Cn || !best || !buf || !far || !r.cn || !r.lab || !r.old ||
	    !r.dmin || !r.sums || !r.inert || !r.scratch ||
	    (method == KM_ELKAN && (!r.upper || !r.lower || !r.hc || !r.sn || !r.shift))) {
		rc = ml_err_nomem(e);
		goto out;
	}
	/* rows centred on the feature means, as scikit-learn does for precision */
	{
		struct colstat q;
		q.d = d;
		q.mean = mean;
		run_tasks(ctx, p, colstat_task, &q);
	}
	for (j = 0; j < p; j++) {
		if (isnan(mean[p + j])) {
			rc = ml_err_set(e, ML_E_DATA, NULL, 0, 0,
					"feature '%s' has a value that is not finite",
					d->names ? d->names[j] : "?");
			goto out;
		}
		var += mean[p + j] / (double)n;
	}
	var /= (double)p;
	if (!(var > 0) && k > 1) {
		rc = ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				"-a kmeans: every feature is constant, so there is nothing to "
				"cluster into %d", k);
		goto out;
	}
	r.col = d->col;
	r.mean = mean;
	tol = ml_param(hp, "tol") * var;
	for (s = 0; s < ninit; s++) {
		struct ml_rng rng;
		double in;
		int iters;
		ml_rng_derive(&rng, ctx ? ctx->seed : 0, 0x6b6d00 + (uint64_t)s);
		if (init == KM_FIRST) {
			for (j = 0; j < (size_t)k; j++)
				get_row(&r, j, C + j * p);
		} else if (init == KM_RANDOM) {
			size_t *idx = malloc(n * sizeof(size_t));
			if (!idx) {
				rc = ml_err_nomem(e);
				goto out;
			}
			for (i = 0; i < n; i++)
				idx[i] = i;
			ml_rng_shuffle(&rng, idx, n);
			for (j = 0; j < (size_t)k; j++)
				get_row(&r, idx[j], C + j * p);
			free(idx);
		} else if (plusplus(&r, ctx, &rng, C, buf)) {
			rc = ml_err_set(e, ML_E_DATA, NULL, 0, 0,
					"-a kmeans: the training rows hold fewer than --k %d distinct "
					"points",
					k);
			goto out;
		}
		in = iterate(&r, ctx, C, Cn, far, (int)ml_param(hp, "max-iter"), tol,
			     method == KM_ELKAN, &iters);
		ml_log(ctx, ML_LOG_PROGRESS, "kmeans: run %d/%d, %d iterations, inertia %.6g",
		       s + 1, ninit, iters, in);
		if (in < bestin) {
			bestin = in;
			memcpy(best, C, kp * sizeof(double));
			if (!(m = m ? m : calloc(1, sizeof(*m)))) {
				rc = ml_err_nomem(e);
				goto out;
			}
			m->iters = iters;
			free(m->size);
			if (!(m->size = calloc((size_t)k, sizeof(double)))) {
				rc = ml_err_nomem(e);
				goto out;
			}
			for (i = 0; i < n; i++)
				m->size[r.lab[i]] += d->w ? d->w[i] : 1;
		}
	}
	if (!m) {
		/* every run's inertia was NaN: values too large to square */
		rc = ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				"-a kmeans: the distances overflow (scale the features)");
		goto out;
	}
	m->k = k;
	if ((rc = fit_silhouette(m, &r, best, ctx, e)) < 0)
		goto out;
	for (j = 0; j < (size_t)k; j++)
		for (i = 0; i < p; i++)
			best[j * p + i] += mean[i];
	m->p = d->p;
	m->k = k;
	m->C = best;
	best = NULL;
	m->inertia = bestin;
	m->tol = tol;
	m->ntrain = n;
	ml_log(ctx, ML_LOG_INFO, "kmeans: inertia %.10g after %d iterations, silhouette %.6g on %zu rows",
	       bestin, m->iters, m->silhouette, m->sil_rows);
	*state = m;
	m = NULL;
out:
	km_free(m);
	free(mean);
	free(C);
	free(Cn);
	free(best);
	free(buf);
	free(far);
	free(r.cn);
	free(r.lab);
	free(r.old);
	free(r.dmin);
	free(r.sums);
	free(r.inert);
	free(r.scratch);
	free(r.upper);
	free(r.lower);
	free(r.hc);
	free(r.sn);
	free(r.shift);
	return rc;
}

/* Per row: the nearest centre (the lower index on ties) and the distance to it. */
static int km_predict(const void *state, const double *X, size_t n, size_t ld, double *out,
		      int what, struct ml_err *e)
{
	const struct kmeans *m = state;
	size_t i, p = (size_t)m->p;
	int j, d;

	(void)what;
	(void)e;
	for (i = 0; i < n; i++) {
		double best = INFINITY;
		int b = 0;
		for (j = 0; j < m->k; j++) {
			const double *c = m->C + (size_t)j * p;
			double s = 0;
			for (d = 0; d < m->p; d++) {
				double t = X[(size_t)d * ld + i] - c[d];
				s += t * t;
			}
			if (s < best) {
				best = s;
				b = j;
			}
		}
		out[2 * i] = b;
		out[2 * i + 1] = sqrt(best);
	}
	return 0;
}

/* "algo.kmeans": u32 version, u32 features, u32 clusters, u32 iterations, u64 training
 * rows, f64 inertia, f64 tolerance, then the k x p centres (row-major), the k cluster
 * weights, and (version 2) f64 silhouette and u64 rows it was computed on. */
static int km_save(const void *state, struct ml_model *mo, struct ml_err *e)
{
	const struct kmeans *m = state;
	struct ml_wbuf b;

	ml_wbuf_init(&b);
	ml_wbuf_u32(&b, KM_VERSION);
	ml_wbuf_u32(&b, (uint32_t)m->p);
	ml_wbuf_u32(&b, (uint32_t)m->k);
	ml_wbuf_u32(&b, (uint32_t)m->iters);
	ml_wbuf_u64(&b, m->ntrain);
	ml_wbuf_f64(&b, m->inertia);
	ml_wbuf_f64(&b, m->tol);
	ml_wbuf_f64v(&b, m->C, (size_t)m->k * (size_t)m->p);
	ml_wbuf_f64v(&b, m->size, (size_t)m->k);
	ml_wbuf_f64(&b, m->silhouette);
	ml_wbuf_u64(&b, m->sil_rows);
	return ml_algo_put(mo, "algo.kmeans", &b, e);
}

static int km_load(void **state, const struct ml_model *mo, const struct ml_data *shape,
		   struct ml_err *e)
{
	size_t kp, j;
	struct ml_rbuf b;
	struct kmeans *m;
	uint32_t ver;
	int rc, ok;

	*state = NULL;
	if ((rc = ml_algo_get_versions(mo, "algo.kmeans", 1, KM_VERSION, &ver, &b, e)) < 0)
		return rc;
	if (!(m = calloc(1, sizeof(*m))))
		return ml_err_nomem(e);
	m->p = (int)ml_rbuf_u32(&b);
	m->k = (int)ml_rbuf_u32(&b);
	m->iters = (int)ml_rbuf_u32(&b);
	m->ntrain = (size_t)ml_rbuf_u64(&b);
	m->inertia = ml_rbuf_f64(&b);
	m->tol = ml_rbuf_f64(&b);
	ok = !b.err && m->p == shape->p && m->p >= 1 && m->k >= 1 && m->k <= 100000 &&
	     m->iters >= 0 && (size_t)m->k <= m->ntrain && m->inertia >= 0 && m->tol >= 0;
	kp = ok ? (size_t)m->k * (size_t)m->p : 0;
	if (ok && b.n - b.off != (kp + (size_t)m->k + (ver > 1 ? 2 : 0)) * 8)
		ok = 0;
	if (ok) {
		m->C = malloc(kp * sizeof(double));
		m->size = malloc((size_t)m->k * sizeof(double));
		if (!m->C || !m->size) {
			km_free(m);
			return ml_err_nomem(e);
		}
		ml_rbuf_f64v(&b, m->C, kp);
		ml_rbuf_f64v(&b, m->size, (size_t)m->k);
		for (j = 0; ok && j < kp; j++)
			ok = isfinite(m->C[j]);
		for (j = 0; ok && j < (size_t)m->k; j++)
			ok = m->size[j] >= 0 && isfinite(m->size[j]);
		m->silhouette = NAN;
		if (ver > 1) {
			m->silhouette = ml_rbuf_f64(&b);
			m->sil_rows = (size_t)ml_rbuf_u64(&b);
			ok = ok && (isnan(m->silhouette) || fabs(m->silhouette) <= 1) &&
			     m->sil_rows <= m->ntrain;
		}
	}
	if (!ok || b.err) {
		km_free(m);
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				  "model section 'algo.kmeans' is invalid: bad shape or centres");
	}
	*state = m;
	return 0;
}

static const char *const km_tables[] = {"centers", "fit", NULL};

/* "centers": per cluster its index, training weight (rows) and centre; "fit": the
 * inertia, iterations, tolerance, training rows, silhouette and the rows it was computed
 * on, by name. */
static int km_table(const void *state, const char *name, const struct ml_data *shape,
		    struct ml_frame *out, struct ml_err *e)
{
	const struct kmeans *m = state;
	size_t j, nrow;
	int d, rc;

	if (strcmp(name, "fit") == 0) {
		static const char *const names[] = {"inertia",	 "iterations", "tolerance",
						    "rows",	 "silhouette", "silhouette_rows"};
		double v[6];
		v[0] = m->inertia;
		v[1] = m->iters;
		v[2] = m->tol;
		v[3] = (double)m->ntrain;
		v[4] = m->silhouette;
		v[5] = (double)m->sil_rows;
		if (ml_schema_add(&out->schema, "name", ML_CAT) < 0 ||
		    ml_schema_add(&out->schema, "value", ML_NUM) < 0)
			return ml_err_nomem(e);
		if ((rc = ml_block_init(&out->rows, &out->schema, 6, e)) < 0)
			return rc;
		for (j = 0; j < 6; j++) {
			int32_t code = ml_dict_intern(&out->schema.cols[0].dict, names[j],
						      strlen(names[j]));
			if (code < 0)
				return ml_err_nomem(e);
			out->rows.col[0].cat[j] = code;
			out->rows.col[1].num[j] = v[j];
		}
		out->rows.nrow = 6;
		return 0;
	}
	if (ml_schema_add(&out->schema, "cluster", ML_NUM) < 0 ||
	    ml_schema_add(&out->schema, "size", ML_NUM) < 0)
		return ml_err_nomem(e);
	for (d = 0; d < m->p; d++)
		if (ml_schema_add(&out->schema, shape->names ? shape->names[d] : "?", ML_NUM) < 0)
			return ml_err_nomem(e);
	nrow = (size_t)m->k;
	if ((rc = ml_block_init(&out->rows, &out->schema, nrow, e)) < 0)
		return rc;
	for (j = 0; j < nrow; j++) {
		out->rows.col[0].num[j] = (double)j;
		out->rows.col[1].num[j] = m->size[j];
		for (d = 0; d < m->p; d++)
			out->rows.col[2 + d].num[j] = m->C[j * (size_t)m->p + (size_t)d];
	}
	out->rows.nrow = nrow;
	return 0;
}

static int km_outputs(const void *state, const char **names, int max)
{
	static const char *const out_names[] = {"cluster", "distance"};
	int k;

	(void)state;
	for (k = 0; names && k < max && k < 2; k++)
		names[k] = out_names[k];
	return 2;
}

const struct ml_algo ml_algo_kmeans = {
	.name = "kmeans",
	.summary = "k-means clustering: k-means++ seeding, Lloyd or Elkan iterations; a row's "
		   "cluster and its distance to the centre",
	.flags = ML_ALGO_UNSUPERVISED | ML_ALGO_ROWWISE,
	.params = km_params,
	.fit = km_fit,
	.predict = km_predict,
	.save = km_save,
	.load = km_load,
	.tables = km_tables,
	.table = km_table,
	.free = km_free,
	.outputs = km_outputs,
};
