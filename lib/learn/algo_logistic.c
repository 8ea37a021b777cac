/* Logistic regression, binary and multinomial (softmax), with an L2 or an L1 penalty,
 * fitted by Newton's method: exact Newton steps from the Hessian while the coefficients
 * are few, truncated Newton (preconditioned conjugate gradients on Hessian-vector
 * products) when they are many, and proximal Newton (coordinate descent on the local
 * quadratic model) for L1 and for coefficients bounded below by 0 (--positive: projected
 * Newton, the model minimised over the bound by the same coordinate descent). Sums over rows are made per task of rows fixed by the row
 * count alone and combined in task order, so results do not depend on the thread count. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include <lapacke.h>

#include "linear.h"

/* Rows per task (at least; fewer tasks than MAX_TASKS), and rows per sub-block inside a
 * task: a sub-block's columns stay in cache from the margins to the gradient and the
 * Hessian. The products on a sub-block stay under OpenBLAS's threading threshold
 * (BLAS_SMALL multiply-adds) so that the pool's workers do not contend for its threads. */
#define TASK_ROWS  16384
#define MAX_TASKS  64
#define SUB_MAX	   256
#define SUB_MIN	   16
#define BLAS_SMALL ((size_t)1 << 18)
/* The Hessian is formed while m * (vectors + 1) stays below this, else Hessian-vector
 * products are used. */
#define EXPLICIT_MAX 256
/* --penalty l1 forms the Hessian: at most this many coefficients. */
#define L1_MAX 2048
/* Memory for the per-task Hessians. */
#define TASK_HESS_BYTES ((size_t)64 << 20)

enum { PENALTY_L2 = 0, PENALTY_L1 = 1 };

struct lr {
	size_t n;
	int p, m, K, nk, M; /* features, p + 1, classes, vectors (1 or K), nk * m */
	const double *X, *y, *w;
	double C;
	const unsigned char *pos; /* per feature: its coefficients >= 0 (NULL: none) */
	int explicit_h;
	size_t ntask, trows, sub;
	double *tf, *tg, *th; /* per task: loss, gradient (or Hv), Hessian or its diagonal */
	double *rs;	      /* Hessian-free: per row C w p (1 - p), or the K probabilities */
	double *ws;	      /* per worker scratch */
	size_t wsz;
	struct ml_pool *pool;
	/* the job */
	const double *beta, *v;
	long cgit; /* conjugate gradient steps so far */
};

/* Small kernels written in blocks of 8 so that the compiler vectorises them. */
static double sum(const double *x, size_t n)
{
	double a[8] = {0, 0, 0, 0, 0, 0, 0, 0}, r = 0;
	size_t i = 0, k;

	for (; i + 8 <= n; i += 8)
		for (k = 0; k < 8; k++)
			a[k] += x[i + k];
	for (; i < n; i++)
		r += x[i];
	for (k = 0; k < 8; k++)
		r += a[k];
	return r;
}

/* sum of w_i x_i^2 */
static double wsumsq(const double *restrict x, const double *restrict w, size_t n)
{
	double a[8] = {0, 0, 0, 0, 0, 0, 0, 0}, r = 0;
	size_t i = 0, k;

	for (; i + 8 <= n; i += 8)
		for (k = 0; k < 8; k++)
			a[k] += w[i + k] * x[i + k] * x[i + k];
	for (; i < n; i++)
		r += w[i] * x[i] * x[i];
	for (k = 0; k < 8; k++)
		r += a[k];
	return r;
}

/* o = x * w elementwise */
static void scale(double *restrict o, const double *restrict x, const double *restrict w, size_t n)
{
	size_t i = 0, k;

	for (; i + 8 <= n; i += 8)
		for (k = 0; k < 8; k++)
			o[i + k] = x[i + k] * w[i + k];
	for (; i < n; i++)
		o[i] = x[i] * w[i];
}

/* Margins of sub-block rows [s, s + r) for coefficients b into Z[c * sub + i]. */
static void sub_margins(const struct lr *L, size_t s, size_t r, const double *b, double *Z)
{
	int c;
	size_t i;

	for (c = 0; c < L->nk; c++) {
		double *z = Z + (size_t)c * L->sub, b0 = b[(size_t)c * L->m + (size_t)L->p];
		for (i = 0; i < r; i++)
			z[i] = b0;
	}
	cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)r, L->nk, L->p, 1.0, L->X + s,
		    (int)L->n, b, L->m, 1.0, Z, (int)L->sub);
}

/* out[c * m + j] += sum_i x_ij R[c * sub + i], the intercept's entry the sum of R. */
static void sub_xtr(const struct lr *L, size_t s, size_t r, const double *R, double *out)
{
	int c;

	cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, L->p, L->nk, (int)r, 1.0, L->X + s,
		    (int)L->n, R, (int)L->sub, 1.0, out, L->m);
	for (c = 0; c < L->nk; c++)
		out[(size_t)c * L->m + (size_t)L->p] += sum(R + (size_t)c * L->sub, r);
}

/* The Hessian's share of sub-block rows [s, s + r) given the probabilities (binary: the
 * weights C w p (1 - p)) in Z: explicit, blocks (k, l) for k >= l but for their last
 * row, which is the transpose of their last column (see evaluate); else the diagonal
 * and the row state for Hessian-vector products. */
static void sub_hessian(struct lr *L, size_t s, size_t r, const double *Z, const double *cw,
			double *hw, double *E, double *H)
{
	size_t sub = L->sub, M = (size_t)L->M, m = (size_t)L->m, p = (size_t)L->p, i, j;
	int nk = L->nk, k, c;

	for (k = 0; k < nk; k++)
		for (c = L->explicit_h ? 0 : k; c <= k; c++) {
			/* The weights of block (k, c): C w p_k (delta_kc - p_c). */
			const double *pk = Z + (size_t)k * sub, *pc = Z + (size_t)c * sub;
			double *hb = H + (size_t)c * m * M + (size_t)k * m;
			if (nk == 1)
				memcpy(hw, Z, r * sizeof(double));
			else
				for (i = 0; i < r; i++)
					hw[i] = cw[i] * pk[i] * ((c == k) - pc[i]);
			if (!L->explicit_h) {
				for (j = 0; j < p; j++)
					H[(size_t)k * m + j] += wsumsq(L->X + j * L->n + s, hw, r);
				H[(size_t)k * m + p] += sum(hw, r);
				if (nk == 1)
					memcpy(L->rs + s, hw, r * sizeof(double));
				else
					memcpy(L->rs + (size_t)k * L->n + s, pk,
					       r * sizeof(double));
				continue;
			}
			for (j = 0; j < p; j++)
				scale(E + j * sub, L->X + j * L->n + s, hw, r);
			memcpy(E + p * sub, hw, r * sizeof(double));
			cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, L->p, L->m, (int)r,
				    1.0, L->X + s, (int)L->n, E, (int)sub, 1.0, hb, (int)M);
			hb[p * M + p] += sum(hw, r);
		}
}

/* Loss, gradient and Hessian (or its diagonal and the row state) of task t's rows at
 * L->beta, without the penalty. */
static void eval_task(void *arg, size_t t, int worker)
{
	struct lr *L = arg;
	size_t a = t * L->trows, b = a + L->trows < L->n ? a + L->trows : L->n, s, i;
	size_t sub = L->sub, M = (size_t)L->M;
	int nk = L->nk, c;
	double *Z = L->ws + (size_t)worker * L->wsz, *R = Z + sub * nk, *E = R + sub * nk;
	double *cw = E + sub * (size_t)L->m, *hw = cw + sub;
	double f = 0, *g = L->tg + t * M, *H = L->th + t * (L->explicit_h ? M * M : M);

	memset(g, 0, M * sizeof(double));
	memset(H, 0, (L->explicit_h ? M * M : M) * sizeof(double));
	for (s = a; s < b; s += sub) {
		size_t r = b - s < sub ? b - s : sub;
		sub_margins(L, s, r, L->beta, Z);
		for (i = 0; i < r; i++)
			cw[i] = L->C * (L->w ? L->w[s + i] : 1);
		if (nk == 1) {
			/* Z becomes the Hessian weight C w p (1 - p). */
			for (i = 0; i < r; i++) {
				double z = Z[i], ex = exp(-fabs(z)), lp = log1p(ex), pr, yi;
				yi = L->y[s + i] == 1 ? 1 : 0;
				pr = z >= 0 ? 1 / (1 + ex) : ex / (1 + ex);
				f += cw[i] * ((z > 0 ? z + lp : lp) - yi * z);
				R[i] = cw[i] * (pr - yi);
				Z[i] = cw[i] * pr * (1 - pr);
			}
		} else {
			/* Z becomes the probabilities. */
			for (i = 0; i < r; i++) {
				double zmax = Z[i], tot = 0, zy;
				int yi = (int)L->y[s + i];
				for (c = 1; c < nk; c++)
					if (Z[c * sub + i] > zmax)
						zmax = Z[c * sub + i];
				zy = Z[(size_t)yi * sub + i];
				for (c = 0; c < nk; c++) {
					double ez = exp(Z[c * sub + i] - zmax);
					Z[c * sub + i] = ez;
					tot += ez;
				}
				f += cw[i] * (zmax + log(tot) - zy);
				for (c = 0; c < nk; c++) {
					double pr = Z[c * sub + i] / tot;
					Z[c * sub + i] = pr;
					R[c * sub + i] = cw[i] * (pr - (c == yi));
				}
			}
		}
		sub_xtr(L, s, r, R, g);
		sub_hessian(L, s, r, Z, cw, hw, E, H);
	}
	L->tf[t] = f;
}

/* Hessian-vector product of task t's rows with L->v (without the penalty) into tg. */
static void hv_task(void *arg, size_t t, int worker)
{
	struct lr *L = arg;
	size_t a = t * L->trows, b = a + L->trows < L->n ? a + L->trows : L->n, s, i;
	size_t sub = L->sub, M = (size_t)L->M;
	int nk = L->nk, c;
	double *U = L->ws + (size_t)worker * L->wsz, *R = U + sub * nk, *g = L->tg + t * M;

	memset(g, 0, M * sizeof(double));
	for (s = a; s < b; s += sub) {
		size_t r = b - s < sub ? b - s : sub;
		sub_margins(L, s, r, L->v, U);
		if (nk == 1) {
			for (i = 0; i < r; i++)
				R[i] = L->rs[s + i] * U[i];
		} else {
			for (i = 0; i < r; i++) {
				double su = 0, cw = L->C * (L->w ? L->w[s + i] : 1);
				for (c = 0; c < nk; c++)
					su += L->rs[(size_t)c * L->n + s + i] * U[c * sub + i];
				for (c = 0; c < nk; c++) {
					double pr = L->rs[(size_t)c * L->n + s + i];
					R[c * sub + i] = cw * pr * (U[c * sub + i] - su);
				}
			}
		}
		sub_xtr(L, s, r, R, g);
	}
}

static void run(struct lr *L, ml_task_fn fn)
{
	ml_pool_run(L->pool, L->ntask, fn, L);
}

/* Is coefficient j (of M) a feature's, not an intercept? */
static int is_coef(const struct lr *L, int j)
{
	return j % L->m != L->p;
}

/* Is coefficient j bounded below by 0? */
static int is_pos(const struct lr *L, int j)
{
	return L->pos && is_coef(L, j) && L->pos[j % L->m];
}

/* How far coefficient j at value u, with gradient q of the smooth part, is from optimal:
 * the smallest magnitude of q plus a subgradient of the L1 term (when l1), projected on
 * the directions the bound at 0 leaves open (when j is bounded). */
static double kkt(const struct lr *L, int j, double u, double q, int l1)
{
	int pen = l1 && is_coef(L, j);

	if (is_pos(L, j) && u <= 0) /* at the bound: only an increase is allowed */
		return q + pen < 0 ? -(q + pen) : 0;
	if (!pen)
		return fabs(q);
	if (u != 0)
		return fabs(q + (u > 0 ? 1 : -1));
	return fabs(q) > 1 ? fabs(q) - 1 : 0;
}

/* Evaluate at beta: f (with the L2 penalty when l2), g, and H (explicit: full M x M with
 * the penalty; Hessian-free: its diagonal). */
static double evaluate(struct lr *L, const double *beta, int l2, double *g, double *H)
{
	size_t M = (size_t)L->M, hs = L->explicit_h ? M * M : M, t, k;
	double f = 0;
	int j, c, bk, bl;

	L->beta = beta;
	run(L, eval_task);
	memset(g, 0, M * sizeof(double));
	memset(H, 0, hs * sizeof(double));
	for (t = 0; t < L->ntask; t++) {
		const double *tg = L->tg + t * M, *th = L->th + t * hs;
		f += L->tf[t];
		for (k = 0; k < M; k++)
			g[k] += tg[k];
		for (k = 0; k < hs; k++)
			H[k] += th[k];
	}
	if (L->explicit_h) {
		/* Blocks (k, l) with k >= l were made but for their last rows; each block is
		 * symmetric: complete them, then mirror the blocks above the diagonal. */
		size_t m = (size_t)L->m, p = (size_t)L->p;
		for (bk = 0; bk < L->nk; bk++)
			for (bl = 0; bl <= bk; bl++)
				for (j = 0; j < L->p; j++)
					H[(bl * m + (size_t)j) * M + bk * m + p] =
					    H[(bl * m + p) * M + bk * m + (size_t)j];
		for (bk = 0; bk < L->nk; bk++)
			for (bl = 0; bl < bk; bl++)
				for (c = 0; c < (int)m; c++)
					for (j = 0; j < (int)m; j++)
						H[(bk * m + (size_t)c) * M + bl * m + (size_t)j] =
						    H[(bl * m + (size_t)j) * M + bk * m +
						      (size_t)c];
	}
	if (l2)
		for (j = 0; j < L->M; j++)
			if (is_coef(L, j)) {
				f += 0.5 * beta[j] * beta[j];
				g[j] += beta[j];
				H[L->explicit_h ? (size_t)j * M + (size_t)j : (size_t)j] += 1;
			}
	return f;
}

/* Hessian-vector product with the L2 penalty. */
static void hessvec(struct lr *L, const double *v, double *out)
{
	size_t M = (size_t)L->M, t, k;
	int j;

	L->v = v;
	run(L, hv_task);
	memset(out, 0, M * sizeof(double));
	for (t = 0; t < L->ntask; t++)
		for (k = 0; k < M; k++)
			out[k] += L->tg[t * M + k];
	for (j = 0; j < L->M; j++)
		if (is_coef(L, j))
			out[j] += v[j];
}

/* Multinomial intercepts are defined up to a common shift: keep them summing to zero. */
static void center_intercepts(const struct lr *L, double *v)
{
	double s = 0;
	int c;

	if (L->nk == 1)
		return;
	for (c = 0; c < L->nk; c++)
		s += v[c * L->m + L->p];
	s /= L->nk;
	for (c = 0; c < L->nk; c++)
		v[c * L->m + L->p] -= s;
}

static double norm_inf(const double *v, int n)
{
	double r = 0;
	int j;

	for (j = 0; j < n; j++)
		if (fabs(v[j]) > r)
			r = fabs(v[j]);
	return r;
}

static double dot(const double *a, const double *b, int n)
{
	double r = 0;
	int j;

	for (j = 0; j < n; j++)
		r += a[j] * b[j];
	return r;
}

/* The Newton direction d = -H^-1 g from the explicit Hessian (Cholesky). The multinomial
 * Hessian is singular along the common shift of the intercepts, which g has no part in:
 * a multiple of that direction's projector is added so that the factorisation exists
 * without changing the answer. */
static int solve_explicit(const struct lr *L, const double *H, const double *g, double *d,
			  double *work)
{
	int M = L->M, j, c, l, tries;
	double dmax = 0, tau = 0;

	for (j = 0; j < M; j++)
		if (H[(size_t)j * M + j] > dmax)
			dmax = H[(size_t)j * M + j];
	for (tries = 0; tries < 8; tries++) {
		lapack_int info;
		memcpy(work, H, (size_t)M * M * sizeof(double));
		if (L->nk > 1) {
			double mu = 0;
			for (c = 0; c < L->nk; c++)
				mu += H[(size_t)(c * L->m + L->p) * M + c * L->m + L->p];
			mu /= (double)L->nk * L->nk;
			for (c = 0; c < L->nk; c++)
				for (l = 0; l < L->nk; l++)
					work[(size_t)(c * L->m + L->p) * M + l * L->m + L->p] += mu;
		}
		for (j = 0; j < M; j++) {
			work[(size_t)j * M + j] += tau;
			d[j] = -g[j];
		}
		info = LAPACKE_dposv(LAPACK_COL_MAJOR, 'L', M, 1, work, M, d, M);
		if (info == 0) {
			center_intercepts(L, d);
			return 0;
		}
		/* Not positive definite in floating point: damp. */
		tau = tau == 0 ? 1e-12 * (dmax > 0 ? dmax : 1) : tau * 100;
	}
	return -1;
}

/* Truncated Newton: preconditioned conjugate gradients on H d = -g to relative residual
 * eta, the preconditioner the Hessian's diagonal. */
static void solve_cg(struct lr *L, const double *diag, const double *g, double eta, double *d,
		     double *work)
{
	int M = L->M, j, it, maxit = M < 250 ? M + 5 : 250;
	double *r = work, *z = r + M, *pd = z + M, *Hp = pd + M, rz, gn = sqrt(dot(g, g, M));

	for (j = 0; j < M; j++) {
		d[j] = 0;
		r[j] = -g[j];
		z[j] = r[j] / (diag[j] > 0 ? diag[j] : 1);
	}
	center_intercepts(L, z);
	memcpy(pd, z, (size_t)M * sizeof(double));
	rz = dot(r, z, M);
	for (it = 0; it < maxit; it++) {
		double pHp, alpha, rz2;
		if (sqrt(dot(r, r, M)) <= eta * gn)
			break;
		hessvec(L, pd, Hp);
		pHp = dot(pd, Hp, M);
		if (!(pHp > 0))
			break;
		alpha = rz / pHp;
		for (j = 0; j < M; j++) {
			d[j] += alpha * pd[j];
			r[j] -= alpha * Hp[j];
			z[j] = r[j] / (diag[j] > 0 ? diag[j] : 1);
		}
		center_intercepts(L, z);
		rz2 = dot(r, z, M);
		for (j = 0; j < M; j++)
			pd[j] = z[j] + rz2 / rz * pd[j];
		rz = rz2;
	}
	L->cgit += it;
	if (it == 0)
		for (j = 0; j < M; j++)
			d[j] = -g[j] / (diag[j] > 0 ? diag[j] : 1);
	center_intercepts(L, d);
}

/* The minimum-norm subgradient of f + ||coefficients||_1 (only the gradient for L2),
 * projected where a bound holds a coefficient at 0. */
static double opt_norm(const struct lr *L, const double *beta, const double *g, int l1)
{
	double r = 0, v;
	int j;

	for (j = 0; j < L->M; j++)
		if ((v = kkt(L, j, beta[j], g[j], l1)) > r)
			r = v;
	return r;
}

static double l1_norm(const struct lr *L, const double *beta)
{
	double r = 0;
	int j;

	for (j = 0; j < L->M; j++)
		if (is_coef(L, j))
			r += fabs(beta[j]);
	return r;
}

/* Proximal Newton direction for L1 (l1 set) or projected Newton for bounds: coordinate
 * descent on g'd + d'(H + nu I)d / 2 [+ ||coefficients of beta + d||_1], with beta + d at
 * or above 0 where bounded, until the model's own optimality measure is at most eta. */
static void solve_prox(const struct lr *L, const double *H, const double *g, const double *beta,
		       int l1, double eta, double *d, double *Hd)
{
	int M = L->M, j, k, sweep;
	double nu = 0;

	for (j = 0; j < M; j++)
		if (H[(size_t)j * M + j] > nu)
			nu = H[(size_t)j * M + j];
	nu = 1e-12 * (nu > 0 ? nu : 1);
	memset(d, 0, (size_t)M * sizeof(double));
	memset(Hd, 0, (size_t)M * sizeof(double));
	for (sweep = 0; sweep < 10000; sweep++) {
		double sub = 0;
		for (j = 0; j < M; j++) {
			const double *hj = H + (size_t)j * M;
			double aj = hj[j] + nu, q = g[j] + Hd[j] + nu * d[j], u = beta[j] + d[j];
			double z = u - q / aj, un, dl;
			if (l1 && is_coef(L, j))
				un = z > 1 / aj ? z - 1 / aj : z < -1 / aj ? z + 1 / aj : 0;
			else
				un = z;
			if (un < 0 && is_pos(L, j))
				un = 0;
			dl = un - u;
			if (dl != 0) {
				d[j] += dl;
				for (k = 0; k < M; k++)
					Hd[k] += dl * hj[k];
			}
		}
		for (j = 0; j < M; j++) {
			double v = kkt(L, j, beta[j] + d[j], g[j] + Hd[j] + nu * d[j], l1);
			if (v > sub)
				sub = v;
		}
		if (sub <= eta)
			break;
	}
}

#define ARMIJO 1e-4

static int newton(struct lr *L, double *beta, int l1, double tol, int max_iter, struct ml_ctx *ctx,
		  struct ml_err *e)
{
	size_t M = (size_t)L->M, hs = L->explicit_h ? M * M : M;
	double *g = malloc(M * sizeof(double)), *g2 = malloc(M * sizeof(double));
	double *H = malloc(hs * sizeof(double)), *H2 = malloc(hs * sizeof(double));
	double *d = malloc(M * sizeof(double)), *bt = malloc(M * sizeof(double));
	double *work = malloc((L->explicit_h ? M * M : 4 * M) * sizeof(double));
	double f, g0, gn, F, change = INFINITY;
	int it = 0, rc = 0, converged = 0, stuck = 0;
	size_t j;

	if (!g || !g2 || !H || !H2 || !d || !bt || !work) {
		rc = ml_err_nomem(e);
		goto out;
	}
	f = evaluate(L, beta, !l1, g, H);
	F = l1 ? f + l1_norm(L, beta) : f;
	g0 = norm_inf(g, L->M);
	gn = opt_norm(L, beta, g, l1);
	for (;;) {
		double gd, t, rel = gn / (g0 > 0 ? g0 : 1), eta;
		int ls;
		/* A small gradient, and a last step that moved no coefficient by more than
		 * sqrt(tol) of their scale: on ill-conditioned data a gradient can be tiny in the
		 * flat directions while the coefficients are still far off, and the steps
		 * converge superlinearly, so after such a step the distance left is about tol. */
		if ((gn <= tol * g0 && change <= sqrt(tol) * fmax(1, norm_inf(beta, L->M))) ||
		    !(gn > 0)) {
			converged = 1;
			break;
		}
		if (it == max_iter)
			break;
		if (l1 || L->pos) {
			/* Inner sweeps are cheap: solve the model to a relative gn / g0. */
			eta = rel < 0.1 ? rel : 0.1;
			solve_prox(L, H, g, beta, l1, eta * gn, d, work);
			gd = dot(g, d, L->M);
			for (j = 0; j < M; j++)
				bt[j] = beta[j] + d[j];
			if (l1)
				gd += l1_norm(L, bt) - l1_norm(L, beta);
		} else {
			/* Conjugate gradients to the forcing term sqrt(gn / g0): superlinear. */
			eta = sqrt(rel) < 0.1 ? sqrt(rel) : 0.1;
			if (!L->explicit_h)
				solve_cg(L, H, g, eta, d, work);
			else if (solve_explicit(L, H, g, d, work) < 0)
				for (j = 0; j < M; j++)
					d[j] = -g[j];
			gd = dot(g, d, L->M);
		}
		if (!(gd < 0)) {
			stuck = 1;
			break;
		}
		for (ls = 0, t = 1; ls < 40; ls++, t *= 0.5) {
			double f2, F2, gn2;
			for (j = 0; j < M; j++)
				bt[j] = beta[j] + t * d[j];
			f2 = evaluate(L, bt, !l1, g2, H2);
			F2 = l1 ? f2 + l1_norm(L, bt) : f2;
			gn2 = opt_norm(L, bt, g2, l1);
			/* Sufficient decrease; or, at rounding level, a smaller gradient. */
			if (F2 <= F + ARMIJO * t * gd || (F2 - F <= 1e-12 * fabs(F) && gn2 < gn)) {
				double *sw;
				memcpy(beta, bt, M * sizeof(double));
				sw = g, g = g2, g2 = sw;
				sw = H, H = H2, H2 = sw;
				f = f2;
				F = F2;
				gn = gn2;
				break;
			}
		}
		if (ls == 40) {
			stuck = 1;
			break;
		}
		it++;
		change = t * norm_inf(d, L->M);
		ml_progress(ctx, it, 0, "iterations", "loss %.6g", F);
		ml_log(ctx, ML_LOG_DEBUG,
		       "logistic: iter %d loss %.10g relative gradient %.3g step %g (largest "
		       "change %.3g)",
		       it, F, gn / g0, t, change);
	}
	if (!converged) {
		if (stuck)
			ml_log(
			    ctx, ML_LOG_INFO,
			    "logistic stopped after %d iterations: no further decrease in floating "
			    "point (gradient %.3g, tolerance %.3g)",
			    it, gn, tol * g0);
		else
			ml_log(ctx, ML_LOG_INFO,
			       "logistic did not converge in %d iterations; raise --max-iter", it);
	} else {
		ml_log(ctx, ML_LOG_DEBUG,
		       "logistic converged in %d iterations (loss %.10g, %ld conjugate gradient "
		       "steps)",
		       it, F, L->cgit);
	}
out:
	free(g);
	free(g2);
	free(H);
	free(H2);
	free(d);
	free(bt);
	free(work);
	return rc;
}

/* --positive: the features the list names (as the coef table names them), in *pos (NULL
 * for an empty list). */
static int positive_of(const struct ml_data *d, const char *spec, unsigned char **pos,
		       struct ml_err *e)
{
	struct ml_schema s;
	struct ml_err e2;
	int *idx = NULL, n = 0, j, rc = 0;

	*pos = NULL;
	if (!spec || !spec[0])
		return 0;
	ml_schema_init(&s);
	for (j = 0; j < d->p && rc == 0; j++)
		if (ml_schema_add(&s, d->names[j], ML_NUM) < 0)
			rc = ml_err_nomem(e);
	if (rc == 0 && (n = ml_cols_parse(spec, &s, 1, &idx, &e2)) < 0)
		rc = n == ML_E_NOMEM ? ml_err_nomem(e) :
		     ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "--positive: %s (the features are the "
				"rows of the coef table)", e2.msg);
	if (rc == 0 && !(*pos = calloc((size_t)d->p + 1, 1)))
		rc = ml_err_nomem(e);
	for (j = 0; rc == 0 && j < n; j++)
		(*pos)[idx[j]] = 1;
	free(idx);
	ml_schema_release(&s);
	return rc;
}

static int logistic_fit(void **state, const struct ml_data *d, const struct ml_data *valid,
			const struct ml_params *hp, struct ml_ctx *ctx, struct ml_err *e)
{
	struct lr L;
	int l1 = (int)ml_param(hp, "penalty") == PENALTY_L1, rc, nworker, j;
	double *beta = NULL, *Xbuf = NULL;
	unsigned char *pos = NULL;
	size_t hs, maxtask;
	struct ml_lin *mod;

	(void)valid;
	memset(&L, 0, sizeof(L));
	if (d->nclass < 2)
		return ml_err_set(e, ML_E_INTERNAL, NULL, 0, 0, "logistic: not a classification");
	if ((rc = positive_of(d, ml_param_text(hp, "positive"), &pos, e)) < 0)
		return rc;
	L.n = d->n;
	L.p = d->p;
	L.m = d->p + 1;
	L.K = d->nclass;
	L.nk = d->nclass == 2 ? 1 : d->nclass;
	if ((size_t)L.m * (size_t)L.nk > (size_t)INT32_MAX / 2)
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "logistic: too many coefficients");
	if (L.n > (size_t)INT32_MAX)
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "too many rows for BLAS (%zu)", L.n);
	L.M = L.m * L.nk;
	L.y = d->y;
	L.w = d->w;
	L.C = ml_param(hp, "c");
	L.pos = pos;
	L.explicit_h = l1 || pos || (size_t)L.m * ((size_t)L.nk + 1) <= EXPLICIT_MAX;
	if ((l1 || pos) && L.M > L1_MAX) {
		free(pos);
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "%s takes at most %d coefficients (this model has %d); "
				  "use fewer features%s",
				  l1 ? "--penalty l1" : "--positive", L1_MAX, L.M,
				  l1 ? " or --penalty l2" : "");
	}
	/* Sub-blocks: the products stay under OpenBLAS's threading threshold. */
	L.sub = SUB_MAX;
	if (L.sub * (size_t)L.p * (size_t)L.nk > BLAS_SMALL)
		L.sub = BLAS_SMALL / ((size_t)L.p * (size_t)L.nk);
	if (L.explicit_h && L.sub * (size_t)L.p * (size_t)L.m > BLAS_SMALL)
		L.sub = BLAS_SMALL / ((size_t)L.p * (size_t)L.m);
	L.sub = L.sub < SUB_MIN ? SUB_MIN : L.sub / 8 * 8;
	hs = L.explicit_h ? (size_t)L.M * (size_t)L.M : (size_t)L.M;
	maxtask = TASK_HESS_BYTES / (hs * sizeof(double) + 1);
	maxtask = maxtask < 1 ? 1 : maxtask > MAX_TASKS ? MAX_TASKS : maxtask;
	L.trows = (L.n + maxtask - 1) / maxtask;
	if (L.trows < TASK_ROWS)
		L.trows = TASK_ROWS;
	L.ntask = (L.n + L.trows - 1) / L.trows;
	L.pool = ctx ? ctx->pool : NULL;
	nworker = ml_pool_size(L.pool);
	/* Every worker's scratch equally aligned: BLAS kernels may take another path on
	 * another alignment, and results must not depend on the worker. */
	L.wsz = L.sub * (2 * (size_t)L.nk + (size_t)L.m + 2);
	L.X = ml_data_dense(d, &Xbuf);
	L.tf = malloc(L.ntask * sizeof(double));
	L.tg = malloc(L.ntask * (size_t)L.M * sizeof(double));
	L.th = malloc(L.ntask * hs * sizeof(double));
	L.ws = aligned_alloc(64, (size_t)nworker * L.wsz * sizeof(double));
	L.rs = L.explicit_h ? NULL : malloc(L.n * (size_t)L.nk * sizeof(double));
	beta = calloc((size_t)L.M, sizeof(double));
	if (!L.tf || !L.tg || !L.th || !L.ws || (!L.explicit_h && !L.rs) || !beta ||
	    !L.X) {
		rc = ml_err_nomem(e);
		goto out;
	}
	rc = newton(&L, beta, l1, ml_param(hp, "tol"), (int)ml_param(hp, "max-iter"), ctx, e);
	if (rc < 0)
		goto out;
	center_intercepts(&L, beta);
	for (j = 0; j < L.M; j++)
		if (!isfinite(beta[j])) {
			rc = ml_err_set(e, ML_E_DATA, NULL, 0, 0,
					"logistic: the fit gave coefficients that are not finite");
			goto out;
		}
	if (!(mod = ml_lin_new(L.p, L.nk))) {
		rc = ml_err_nomem(e);
		goto out;
	}
	memcpy(mod->coef, beta, (size_t)L.M * sizeof(double));
	*state = mod;
out:
	free(L.tf);
	free(L.tg);
	free(L.th);
	free(L.ws);
	free(L.rs);
	free(beta);
	free(Xbuf);
	free(pos);
	return rc;
}

static int logistic_predict(const void *state, const double *X, size_t n, size_t ld, double *out,
			    int raw, struct ml_err *e)
{
	const struct ml_lin *m = state;
	size_t i;
	int c, k = m->k;

	(void)e;
	ml_lin_margins(m, X, n, ld, out);
	if (raw)
		return 0;
	if (k == 1) {
		/* Backwards: row i's two values overwrite margins i and later only. */
		for (i = n; i-- > 0;) {
			double pr = 1 / (1 + exp(-out[i]));
			out[2 * i + 1] = pr;
			out[2 * i] = 1 - pr;
		}
		return 0;
	}
	for (i = 0; i < n; i++) {
		double *o = out + i * (size_t)k, zmax = o[0], s = 0;
		for (c = 1; c < k; c++)
			if (o[c] > zmax)
				zmax = o[c];
		for (c = 0; c < k; c++) {
			o[c] = exp(o[c] - zmax);
			s += o[c];
		}
		for (c = 0; c < k; c++)
			o[c] /= s;
	}
	return 0;
}

static int logistic_save(const void *state, struct ml_model *m, struct ml_err *e)
{
	return ml_lin_save(state, "logistic.coef", m, e);
}

static int logistic_load(void **state, const struct ml_model *m, const struct ml_data *shape,
			 struct ml_err *e)
{
	struct ml_lin *l;
	int rc;

	if (shape->nclass < 2)
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "a logistic model without classes");
	rc = ml_lin_load(&l, m, "logistic.coef", shape->p, shape->nclass == 2 ? 1 : shape->nclass,
			 e);
	*state = l;
	return rc;
}

static const char *const logistic_tables[] = {"coef", NULL};

static int logistic_table(const void *state, const char *name, const struct ml_data *shape,
			  struct ml_frame *out, struct ml_err *e)
{
	(void)name;
	return ml_lin_table(state, shape, out, e);
}

static const struct ml_param logistic_params[] = {
    {"c", ML_P_REAL, 1.0, 1e-12, 1e12, NULL,
     "inverse penalty strength C: minimise C * sum of w * log-loss + penalty (default 1)"},
    {"penalty", ML_P_ENUM, PENALTY_L2, 0, 0, "l2,l1",
     "l2: ||W||^2 / 2, l1: ||W||_1; the intercepts are not penalised (default l2)"},
    {"tol", ML_P_REAL, 1e-8, 0, 1, NULL,
     "stop when the largest gradient entry is below tol times its start value (default 1e-8)"},
    {"max-iter", ML_P_INT, 100, 1, 100000000, NULL, "most Newton iterations (default 100)"},
    {"positive", ML_P_STRING, 0, 0, 0, "",
     "features (COLS, as the coef table names them) whose coefficients are kept >= 0 in "
     "every class (default none)"},
    {0}};

const struct ml_algo ml_algo_logistic = {
    .name = "logistic",
    .summary = "logistic regression: binary, or multinomial (softmax) for more classes",
    .flags = ML_ALGO_CLASSIFY,
    .params = logistic_params,
    .fit = logistic_fit,
    .predict = logistic_predict,
    .save = logistic_save,
    .load = logistic_load,
    .tables = logistic_tables,
    .table = logistic_table,
    .free = ml_lin_free,
};
