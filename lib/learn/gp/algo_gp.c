/* Gaussian process regression (-a gp): a stationary kernel (RBF or Matérn) times a signal
 * variance, plus noise, its hyperparameters fitted by maximising the log marginal
 * likelihood in log space; exact through a Cholesky factor up to --max-exact rows, a
 * deterministic training conditional (DTC) on --inducing points beyond. As scikit-learn's
 * GaussianProcessRegressor(normalize_y=True) with ConstantKernel * RBF|Matern
 * [+ WhiteKernel]. Classification by the Laplace approximation, as its
 * GaussianProcessClassifier: one binary model, or for more classes one per class against
 * the rest (each with its own hyperparameters), their probabilities normalised to sum to
 * one (multi_class="one_vs_rest"). */
#include <cblas.h>
#include <float.h>
#include <lapacke.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "learn/algo.h"
#include "lbfgs.h"

#define GP_VERSION 1
#define GP_CHUNK   256 /* test rows scored together */
#define GP_COLS	   32  /* kernel matrix columns per pool task */
#define GP_VEC	   256 /* kernel values whose exponentials are taken together */
#define GP_LOG_LO  (-11.512925464970229) /* log 1e-5: scikit-learn's default bounds */
#define GP_LOG_HI  11.512925464970229	 /* log 1e5 */

enum { K_RBF, K_MATERN32, K_MATERN52, K_RBF_WHITE };

static const struct ml_param gp_params[] = {
    {"kernel", ML_P_ENUM, K_RBF, 0, 0, "rbf,matern32,matern52,rbf+white",
     "covariance: squared exponential, Matérn 3/2 or 5/2, or RBF plus a fitted white noise"},
    {"ard", ML_P_INT, 0, 0, 1, NULL, "1: one length scale per feature; 0: one for all (default 0)"},
    {"length-scale", ML_P_REAL, 1, 1e-5, 1e5, NULL,
     "length scale, the start of the fit (default 1)"},
    {"signal-variance", ML_P_REAL, 1, 1e-5, 1e5, NULL,
     "signal variance, the start of the fit (default 1)"},
    {"noise", ML_P_REAL, 1, 1e-5, 1e5, NULL,
     "rbf+white: the white noise variance, the start of the fit (default 1)"},
    {"alpha", ML_P_REAL, 1e-10, 0, 1e10, NULL,
     "variance added to the diagonal, never fitted (default 1e-10)"},
    {"restarts", ML_P_INT, 2, 0, 1000, NULL,
     "further fits from seeded random starts (default 2)"},
    {"fixed", ML_P_INT, 0, 0, 1, NULL, "1: keep the given hyperparameters, no fit (default 0)"},
    {"tol", ML_P_REAL, 1e-8, 1e-12, 1, NULL,
     "stop the fit when the projected gradient's largest entry is below this (default 1e-8; "
     "SciPy's L-BFGS-B stops at 1e-5)"},
    {"max-exact", ML_P_INT, 4000, 2, 1000000, NULL,
     "most rows of an exact fit; more take the inducing-point approximation (default 4000)"},
    {"inducing", ML_P_INT, 500, 1, 100000, NULL,
     "inducing points beyond --max-exact rows (default 500)"},
    {NULL, ML_P_REAL, 0, 0, 0, NULL, NULL}};

/* The fitted model. Exact: the basis B is the n training rows, c = K^-1 y, L1 the
 * Cholesky factor of K + noise, no L2. DTC: B the m inducing points, c = A^-1 Kmn y with
 * A = s2 Kmm + Kmn Knm, L1 = chol(Kmm), L2 = chol(A), s2 the noise variance. A row's mean
 * is k*' c and its variance k** - |L1^-1 k*|^2 (+ s2 |L2^-1 k*|^2). */
struct gp {
	int p, kernel, ard, dtc;
	size_t nb;	 /* basis rows */
	double *B;	 /* nb x p, row-major */
	double *c;	 /* nb */
	double *L1, *L2; /* nb x nb, column-major, lower */
	double *ls;	 /* p length scales (equal unless ard) */
	double sig2, noise, jitter, ymean, ystd, lml;
	size_t ntrain;
	int cls;   /* binary classification: c = y - pi, L1 = chol(I + W^1/2 K W^1/2) */
	double *w; /* classification: W^1/2 at the mode, nb */
	int nsub;  /* more classes: one binary model per class against the rest, and */
	struct gp **sub; /* nothing else of this one but p is used */
};

static void gp_free(void *state)
{
	struct gp *g = state;
	int k;

	if (!g)
		return;
	free(g->B);
	free(g->c);
	free(g->L1);
	free(g->L2);
	free(g->ls);
	free(g->w);
	for (k = 0; k < g->nsub; k++)
		gp_free(g->sub[k]);
	free(g->sub);
	free(g);
}

/* The unit-variance kernel of scaled squared distance r2 is kval_e(r2, e) with e =
 * exp(karg(r2)), and the factor that gives its derivative by log length scale d as
 * fac * (a_d - b_d)^2 / l_d^2 is kfac_e(r2, e): the exponential apart, so that the kernel
 * matrix takes its exponentials in one vector loop and the gradient reuses them. */
static double karg(int kernel, double r2)
{
	switch (kernel) {
	case K_MATERN32:
		return -sqrt(3 * r2);
	case K_MATERN52:
		return -sqrt(5 * r2);
	default:
		return -0.5 * r2;
	}
}

static double kval_e(int kernel, double r2, double e)
{
	double r;

	switch (kernel) {
	case K_MATERN32:
		return (1 + sqrt(3 * r2)) * e;
	case K_MATERN52:
		r = sqrt(5 * r2);
		return (1 + r + r * r / 3) * e;
	default:
		return e;
	}
}

static double kfac_e(int kernel, double r2, double e)
{
	switch (kernel) {
	case K_MATERN32:
		return 3 * e;
	case K_MATERN52:
		return 5.0 / 3.0 * (1 + sqrt(5 * r2)) * e;
	default:
		return e;
	}
}

static double kval(int kernel, double r2)
{
	return kval_e(kernel, r2, exp(karg(kernel, r2)));
}

static double kfac(int kernel, double r2)
{
	return kfac_e(kernel, r2, exp(karg(kernel, r2)));
}

/* exp under another name, declared with vector variants (x86-64 glibc's libmvec,
 * _ZGVbN2v_exp: within 2 ulp of exp), so that a '#pragma omp simd' loop calls them;
 * elsewhere plain exp. */
#if defined(__x86_64__) && defined(__GLIBC__) && (defined(__GNUC__) || defined(__clang__))
#pragma omp declare simd notinbranch
double gp_vexp(double x) __asm__("exp");
#else
#define gp_vexp exp
#endif

/* v = exp(v) over n values. */
static void exp_n(double *restrict v, size_t n)
{
	size_t i;

#pragma omp simd
	for (i = 0; i < n; i++)
		v[i] = gp_vexp(v[i]);
}

static double scaled_r2(const double *a, const double *b, const double *ils, int p)
{
	double s = 0;
	int j;

	for (j = 0; j < p; j++) {
		double d = (a[j] - b[j]) * ils[j];
		s += d * d;
	}
	return s;
}

/* The fit: rows, normalised targets, and the parameters in log space:
 * [log sig2, log l (1 or p), log noise (rbf+white)]. */
struct fit {
	size_t n;
	int p, kernel, ard, white, ntheta;
	const double *X, *y;
	double *Xt; /* X by feature: Xt[d * n + i] */
	double jitter;
	double *K, *a, *grad; /* n x n, n, per task ntheta */
	struct ml_ctx *ctx;
	/* per evaluation */
	double *ils_buf; /* per evaluation: the inverse length scales */
	int evals;
	/* K holds the factor, and a the weights, of theta last[] (likelihood last_lml): a
	 * line search's trial that passes asks for its gradient next */
	int cached;
	double last[66], last_lml;
};

static void unpack(const struct fit *f, const double *theta, double *sig2, double *noise)
{
	int j;

	*sig2 = exp(theta[0]);
	for (j = 0; j < f->p; j++)
		f->ils_buf[j] = exp(-theta[1 + (f->ard ? j : 0)]);
	*noise = f->white ? exp(theta[f->ntheta - 1]) : 0;
}

struct kjob {
	struct fit *f;
	double sig2, diag;
	int grad; /* 0: fill K's lower triangle; 1: gradient terms from W in K */
};

/* The scaled squared distances of rows [i0, i0 + m) to row xj into r2, feature by
 * feature: each sum in the order of scaled_r2's, m of them at once. */
static void block_r2(const struct fit *f, const double *xj, size_t i0, size_t m, double *r2)
{
	size_t k;
	int d;

	for (k = 0; k < m; k++)
		r2[k] = 0;
	for (d = 0; d < f->p; d++) {
		const double *restrict xd = f->Xt + (size_t)d * f->n + i0;
		double *restrict r = r2;
		double c = xj[d], s = f->ils_buf[d];
#pragma omp simd
		for (k = 0; k < m; k++) {
			double t = (xd[k] - c) * s;
			r[k] += t * t;
		}
	}
}

/* Columns [t * GP_COLS, ...) of the lower triangle: the kernel, or the gradient sums. */
static void ktask(void *arg, size_t task, int worker)
{
	struct kjob *jb = arg;
	struct fit *f = jb->f;
	size_t n = f->n, j0 = task * GP_COLS, j1 = j0 + GP_COLS, i, j, i0, k, m;
	int p = f->p, d;
	double *g = f->grad + task * (size_t)f->ntheta, r2[GP_VEC], ex[GP_VEC];

	(void)worker;
	if (j1 > n)
		j1 = n;
	if (jb->grad)
		memset(g, 0, (size_t)f->ntheta * sizeof(double));
	for (j = j0; j < j1; j++) {
		const double *xj = f->X + j * (size_t)p;
		double *col = f->K + j * n;
		if (!jb->grad) {
			/* the lower triangle; the upper one (which LAPACK leaves alone) keeps the
			 * exponentials for the gradient: K[i * n + j] for i > j */
			col[j] = jb->sig2 + jb->diag;
			for (i0 = j + 1; i0 < n; i0 += m) {
				m = n - i0 < GP_VEC ? n - i0 : GP_VEC;
				block_r2(f, xj, i0, m, r2);
				for (k = 0; k < m; k++)
					ex[k] = karg(f->kernel, r2[k]);
				exp_n(ex, m);
				for (k = 0; k < m; k++) {
					col[i0 + k] = jb->sig2 * kval_e(f->kernel, r2[k], ex[k]);
					f->K[(i0 + k) * n + j] = ex[k];
				}
			}
			continue;
		}
		/* W = a a' - K^-1 (K holds K^-1 here): diagonal, then each pair twice */
		{
			double w = f->a[j] * f->a[j] - col[j];
			g[0] += w * jb->sig2;
			if (f->white)
				g[f->ntheta - 1] += w * jb->diag;
		}
		for (i0 = j + 1; i0 < n; i0 += m) {
			m = n - i0 < GP_VEC ? n - i0 : GP_VEC;
			block_r2(f, xj, i0, m, r2);
			for (k = 0; k < m; k++) {
				double w, fac, e_ij = f->K[(i0 + k) * n + j];
				i = i0 + k;
				w = 2 * (f->a[i] * f->a[j] - col[i]);
				g[0] += w * jb->sig2 * kval_e(f->kernel, r2[k], e_ij);
				fac = w * jb->sig2 * kfac_e(f->kernel, r2[k], e_ij);
				if (f->ard) {
					const double *xi = f->X + i * (size_t)p;
					for (d = 0; d < p; d++) {
						double t = (xi[d] - xj[d]) * f->ils_buf[d];
						g[1 + d] += fac * t * t;
					}
				} else {
					g[1] += fac * r2[k];
				}
			}
		}
	}
}

static void run_tasks(struct fit *f, struct kjob *jb)
{
	size_t nt = (f->n + GP_COLS - 1) / GP_COLS, t;

	if (f->ctx && f->ctx->pool)
		ml_pool_run(f->ctx->pool, nt, ktask, jb);
	else
		for (t = 0; t < nt; t++)
			ktask(jb, t, 0);
}

/* K (lower) of the fit's rows for theta, plus noise and jitter on the diagonal, and its
 * Cholesky factor in place: 0, or 1 when K is not positive definite. The likelihood's
 * LAPACK calls are the _work ones, which skip LAPACKE's scan of every input for NaN (3% of
 * a fit): the matrices are finite by construction (finite data, bounded theta), and a
 * factorisation still fails on a NaN pivot. */
static int chol_k(struct fit *f, const double *theta, struct kjob *jb)
{
	double sig2, noise;

	unpack(f, theta, &sig2, &noise);
	jb->f = f;
	jb->sig2 = sig2;
	jb->diag = noise + f->jitter;
	jb->grad = 0;
	run_tasks(f, jb);
	jb->diag = noise;
	return LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, 'L', (lapack_int)f->n, f->K, (lapack_int)f->n) != 0;
}

/* The log marginal likelihood at theta and its gradient (lml, dlml of ntheta); -inf when
 * the kernel matrix is not positive definite. */
static int lml_eval(struct fit *f, const double *theta, double *lml, double *dlml)
{
	struct kjob jb;
	size_t n = f->n, i, nt = (n + GP_COLS - 1) / GP_COLS, t;
	double s = 0, q = 0;
	int k;

	if (f->cached && memcmp(f->last, theta, (size_t)f->ntheta * sizeof(double)) == 0) {
		double sig2, noise;
		unpack(f, theta, &sig2, &noise);
		jb.f = f;
		jb.sig2 = sig2;
		jb.diag = noise;
		*lml = f->last_lml;
	} else {
		f->evals++;
		f->cached = 0;
		if (chol_k(f, theta, &jb)) {
			*lml = -INFINITY;
			if (dlml)
				memset(dlml, 0, (size_t)f->ntheta * sizeof(double));
			return 0;
		}
		memcpy(f->a, f->y, n * sizeof(double));
		LAPACKE_dpotrs_work(LAPACK_COL_MAJOR, 'L', (lapack_int)n, 1, f->K, (lapack_int)n,
				    f->a, (lapack_int)n);
		for (i = 0; i < n; i++) {
			s += log(f->K[i * n + i]);
			q += f->y[i] * f->a[i];
		}
		*lml = -0.5 * q - s - 0.5 * (double)n * log(2 * M_PI);
		memcpy(f->last, theta, (size_t)f->ntheta * sizeof(double));
		f->last_lml = *lml;
		f->cached = 1;
	}
	if (!dlml)
		return 0;
	f->cached = 0; /* the inverse takes the factor's place */
	if (LAPACKE_dpotri_work(LAPACK_COL_MAJOR, 'L', (lapack_int)n, f->K, (lapack_int)n) != 0) {
		*lml = -INFINITY;
		memset(dlml, 0, (size_t)f->ntheta * sizeof(double));
		return 0;
	}
	jb.grad = 1;
	run_tasks(f, &jb);
	for (k = 0; k < f->ntheta; k++) {
		double g = 0;
		for (t = 0; t < nt; t++)
			g += f->grad[t * (size_t)f->ntheta + (size_t)k];
		dlml[k] = 0.5 * g;
	}
	return 0;
}

static int neg_lml(void *ud, const double *x, double *fx, double *g)
{
	struct fit *f = ud;
	double lml;
	int k, rc = lml_eval(f, x, &lml, g);

	if (rc)
		return rc;
	*fx = -lml;
	for (k = 0; g && k < f->ntheta; k++)
		g[k] = -g[k];
	return 0;
}

/* Fit the ntheta hyperparameters by minimising fn (the negative log marginal likelihood
 * of ud): from the given start, then from --restarts starts drawn uniformly in the log
 * bounds; the best likelihood wins (the first on ties). theta holds 2 ntheta values. */
static int fit_theta(ml_lbfgs_fn fn, void *ud, int ntheta, struct ml_ctx *ctx, double *theta,
		     int restarts, double pgtol, double *best_lml)
{
	double lo[64 + 2], hi[64 + 2], x[64 + 2], fx;
	struct ml_lbfgs_opts o;
	struct ml_rng rng;
	int r, k, rc;

	ml_lbfgs_opts_init(&o);
	/* by default tighter than SciPy's 1e-5 and factr: the optimum should not be left
	 * early (--tol 1e-5 stops where scikit-learn's fit stops) */
	o.pgtol = pgtol;
	o.ftol = pgtol < 1e-5 ? 1e-13 : o.ftol;
	ml_rng_derive(&rng, ctx ? ctx->seed : 0, 0x6770);
	*best_lml = -INFINITY;
	for (k = 0; k < ntheta; k++) {
		lo[k] = GP_LOG_LO;
		hi[k] = GP_LOG_HI;
	}
	for (r = 0; r <= restarts; r++) {
		for (k = 0; k < ntheta; k++)
			x[k] = r == 0 ? theta[k] : lo[k] + (hi[k] - lo[k]) * ml_rng_uniform(&rng);
		rc = ml_lbfgs(fn, ud, ntheta, x, lo, hi, &o, &fx);
		if (rc < 0)
			return rc;
		if (ctx)
			ml_log(ctx, ML_LOG_PROGRESS, "gp: start %d/%d log marginal likelihood %.6g",
			       r + 1, restarts + 1, -fx);
		if (-fx > *best_lml) {
			*best_lml = -fx;
			memcpy(theta + ntheta, x, (size_t)ntheta * sizeof(double));
		}
	}
	if (*best_lml == -INFINITY)
		return 1;
	memcpy(theta, theta + ntheta, (size_t)ntheta * sizeof(double));
	return 0;
}

/* Kernel values of rows Q (q x p, row-major) against the basis into Ks (nb x q,
 * column-major). */
static void cross_k(const struct gp *g, const double *ils, const double *Q, size_t q, double *Ks)
{
	size_t i, j;

	for (j = 0; j < q; j++)
		for (i = 0; i < g->nb; i++)
			Ks[j * g->nb + i] =
			    g->sig2 * kval(g->kernel == K_RBF_WHITE ? K_RBF : g->kernel,
					   scaled_r2(g->B + i * (size_t)g->p, Q + j * (size_t)g->p,
						     ils, g->p));
}

/* The Cholesky factor of the basis rows' kernel matrix plus diag on the diagonal, into a
 * fresh L (lower, column-major); 1 when not positive definite. */
static int basis_chol(const struct gp *g, double diag, double **L)
{
	size_t n = g->nb, i, j;
	double *ils = malloc((size_t)g->p * sizeof(double) + 1);
	int kern = g->kernel == K_RBF_WHITE ? K_RBF : g->kernel, d;

	*L = malloc(n * n * sizeof(double));
	if (!ils || !*L) {
		free(ils);
		return ML_E_NOMEM;
	}
	for (d = 0; d < g->p; d++)
		ils[d] = 1 / g->ls[d];
	for (j = 0; j < n; j++) {
		(*L)[j * n + j] = g->sig2 + diag;
		for (i = j + 1; i < n; i++)
			(*L)[j * n + i] =
			    g->sig2 * kval(kern, scaled_r2(g->B + i * (size_t)g->p,
							   g->B + j * (size_t)g->p, ils, g->p));
	}
	free(ils);
	return LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, 'L', (lapack_int)n, *L, (lapack_int)n) != 0;
}

/* --- Binary classification: the Laplace approximation ------------------------------ */

/* Rasmussen and Williams, algorithms 3.1, 3.2 and 5.1, as scikit-learn's
 * GaussianProcessClassifier: the latent f has the GP prior, the likelihood is the
 * logistic of f; the posterior is approximated by a Gaussian at its mode, found by Newton
 * steps from f = 0. */
struct cfit {
	size_t n;
	int p, kernel, white, ard, ntheta;
	const double *X, *y; /* rows (row-major), classes 0 and 1 */
	double jitter, sig2, noise;
	double *ils;
	double *K, *L;			  /* n x n, column-major: K full, L lower */
	double *f, *pi, *wsr, *a, *b, *t; /* n each */
	double *R, *C, *bk;		  /* gradient: n x n, n x n, ntheta x n */
	int evals;
	int cached; /* the mode of theta last[] is in place (likelihood last_lml) */
	double last[66], last_lml;
};

/* The kernel matrix at theta (plus alpha on its diagonal), full. */
static void cfit_kernel(struct cfit *c, const double *theta)
{
	size_t n = c->n, p = (size_t)c->p, i, j;
	int d;

	c->sig2 = exp(theta[0]);
	for (d = 0; d < c->p; d++)
		c->ils[d] = exp(-theta[1 + (c->ard ? d : 0)]);
	c->noise = c->white ? exp(theta[c->ntheta - 1]) : 0;
	for (j = 0; j < n; j++) {
		c->K[j * n + j] = c->sig2 + c->noise + c->jitter;
		for (i = j + 1; i < n; i++)
			c->K[j * n + i] = c->K[i * n + j] =
			    c->sig2 *
			    kval(c->kernel, scaled_r2(c->X + i * p, c->X + j * p, c->ils, c->p));
	}
}

/* Newton steps for the mode (algorithm 3.1) until the approximate log marginal
 * likelihood gains less than 1e-10, at most 100, leaving pi, wsr, L and a of the last
 * step; returns the likelihood before that step (as scikit-learn's _posterior_mode),
 * -inf when I + W^1/2 K W^1/2 is not positive definite. */
static double cfit_mode(struct cfit *c)
{
	size_t n = c->n, i, j;
	double lml = -INFINITY;
	int it;

	memset(c->f, 0, n * sizeof(double));
	for (it = 0; it < 100; it++) {
		double z = 0;
		for (i = 0; i < n; i++) {
			double p = 1 / (1 + exp(-c->f[i]));
			c->pi[i] = p;
			c->wsr[i] = sqrt(p * (1 - p));
			c->b[i] = p * (1 - p) * c->f[i] + (c->y[i] - p);
		}
		for (j = 0; j < n; j++)
			for (i = j; i < n; i++)
				c->L[j * n + i] = (i == j) + c->wsr[i] * c->K[j * n + i] * c->wsr[j];
		if (LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, 'L', (lapack_int)n, c->L, (lapack_int)n) != 0)
			return -INFINITY;
		/* a = b - W^1/2 B^-1 W^1/2 K b, f = K a */
		cblas_dgemv(CblasColMajor, CblasNoTrans, (int)n, (int)n, 1.0, c->K, (int)n, c->b, 1,
			    0.0, c->t, 1);
		for (i = 0; i < n; i++)
			c->t[i] *= c->wsr[i];
		LAPACKE_dpotrs_work(LAPACK_COL_MAJOR, 'L', (lapack_int)n, 1, c->L, (lapack_int)n, c->t,
			       (lapack_int)n);
		for (i = 0; i < n; i++)
			c->a[i] = c->b[i] - c->wsr[i] * c->t[i];
		cblas_dgemv(CblasColMajor, CblasNoTrans, (int)n, (int)n, 1.0, c->K, (int)n, c->a, 1,
			    0.0, c->f, 1);
		for (i = 0; i < n; i++)
			z += -0.5 * c->a[i] * c->f[i] - log1p(exp(-(c->y[i] * 2 - 1) * c->f[i])) -
			     log(c->L[i * n + i]);
		if (z - lml < 1e-10)
			break;
		lml = z;
	}
	return lml;
}

/* The approximate log marginal likelihood at theta and its gradient (algorithm 5.1). */
static int cfit_lml(struct cfit *c, const double *theta, double *lml, double *dlml)
{
	size_t n = c->n, p = (size_t)c->p, i, j;
	double s1[64 + 2];
	int k, d, nt = c->ntheta;

	if (c->cached && memcmp(c->last, theta, (size_t)nt * sizeof(double)) == 0) {
		*lml = c->last_lml;
	} else {
		c->evals++;
		cfit_kernel(c, theta);
		*lml = cfit_mode(c);
		memcpy(c->last, theta, (size_t)nt * sizeof(double));
		c->last_lml = *lml;
		c->cached = 1;
	}
	if (!dlml)
		return 0;
	memset(dlml, 0, (size_t)nt * sizeof(double));
	if (*lml == -INFINITY)
		return 0;
	/* R = W^1/2 B^-1 W^1/2 (full), C = L^-1 W^1/2 K */
	memcpy(c->R, c->L, n * n * sizeof(double));
	if (LAPACKE_dpotri_work(LAPACK_COL_MAJOR, 'L', (lapack_int)n, c->R, (lapack_int)n) != 0) {
		*lml = -INFINITY;
		return 0;
	}
	for (j = 0; j < n; j++)
		for (i = j; i < n; i++)
			c->R[i * n + j] = c->R[j * n + i] *= c->wsr[i] * c->wsr[j];
	for (j = 0; j < n; j++)
		for (i = 0; i < n; i++)
			c->C[j * n + i] = c->wsr[i] * c->K[j * n + i];
	cblas_dtrsm(CblasColMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, (int)n,
		    (int)n, 1.0, c->L, (int)n, c->C, (int)n);
	/* s2 (the third derivative's term) into t */
	for (i = 0; i < n; i++) {
		double q = cblas_ddot((int)n, c->C + i * n, 1, c->C + i * n, 1), pi = c->pi[i];
		c->t[i] = -0.5 * (c->K[i * n + i] - c->jitter - q) * (pi * (1 - pi) * (1 - 2 * pi));
	}
	/* per hyperparameter k: s1 = a'dK a / 2 - tr(R dK) / 2 and b_k = dK (y - pi) */
	memset(s1, 0, sizeof(s1));
	memset(c->bk, 0, (size_t)nt * n * sizeof(double));
	for (j = 0; j < n; j++) {
		const double *xj = c->X + j * p;
		double rj = c->y[j] - c->pi[j];
		for (i = j; i < n; i++) {
			const double *xi = c->X + i * p;
			double r2 = 0, kv, fac, m = (i == j ? 1 : 2), u, ri = c->y[i] - c->pi[i];
			double dk[64 + 2];
			for (d = 0; d < c->p; d++) {
				double t = (xi[d] - xj[d]) * c->ils[d];
				r2 += t * t;
			}
			kv = kval(c->kernel, r2);
			fac = c->sig2 * kfac(c->kernel, r2);
			dk[0] = c->sig2 * kv;
			if (c->ard)
				for (d = 0; d < c->p; d++) {
					double t = (xi[d] - xj[d]) * c->ils[d];
					dk[1 + d] = fac * t * t;
				}
			else
				dk[1] = fac * r2;
			if (c->white)
				dk[nt - 1] = i == j ? c->noise : 0;
			u = 0.5 * c->a[i] * c->a[j] - 0.5 * c->R[j * n + i];
			for (k = 0; k < nt; k++) {
				s1[k] += m * dk[k] * u;
				c->bk[(size_t)k * n + i] += dk[k] * rj;
				if (i != j)
					c->bk[(size_t)k * n + j] += dk[k] * ri;
			}
		}
	}
	/* s3 = b_k - K R b_k; the gradient is s1 + s2's dot s3 */
	for (k = 0; k < nt; k++) {
		double *bk = c->bk + (size_t)k * n;
		cblas_dgemv(CblasColMajor, CblasNoTrans, (int)n, (int)n, 1.0, c->R, (int)n, bk, 1, 0.0,
			    c->f, 1);
		cblas_dgemv(CblasColMajor, CblasNoTrans, (int)n, (int)n, -1.0, c->K, (int)n, c->f, 1,
			    1.0, bk, 1);
		dlml[k] = s1[k] + cblas_ddot((int)n, c->t, 1, bk, 1);
	}
	return 0;
}

static int cfit_neg(void *ud, const double *x, double *fx, double *g)
{
	struct cfit *c = ud;
	double lml;
	int k, rc = cfit_lml(c, x, &lml, g);

	if (rc)
		return rc;
	*fx = -lml;
	for (k = 0; g && k < c->ntheta; k++)
		g[k] = -g[k];
	return 0;
}

/* Fit a binary classifier into g (p, kernel, ard and jitter set): the hyperparameters
 * in theta (fitted unless fixed), then the mode's y - pi, W^1/2 and factor. */
static int gpc_fit(struct gp *g, double *X, const double *y, size_t n, double *theta, int fixed,
		   int restarts, double tol, struct ml_ctx *ctx, struct ml_err *e)
{
	struct cfit c;
	size_t p = (size_t)g->p, i;
	int j, rc = 0;

	memset(&c, 0, sizeof(c));
	c.n = n;
	c.p = g->p;
	c.kernel = g->kernel == K_RBF_WHITE ? K_RBF : g->kernel;
	c.white = g->kernel == K_RBF_WHITE;
	c.ard = g->ard;
	c.ntheta = 1 + (g->ard ? g->p : 1) + c.white;
	c.X = X;
	c.y = y;
	c.jitter = g->jitter;
	c.ils = malloc(p * sizeof(double));
	c.K = malloc(n * n * sizeof(double));
	c.L = calloc(n * n, sizeof(double)); /* the upper triangle stays 0: it is saved */
	c.R = malloc(n * n * sizeof(double));
	c.C = malloc(n * n * sizeof(double));
	c.bk = malloc((size_t)c.ntheta * n * sizeof(double));
	c.f = malloc(6 * n * sizeof(double));
	if (!c.ils || !c.K || !c.L || !c.R || !c.C || !c.bk || !c.f) {
		rc = ml_err_nomem(e);
		goto out;
	}
	c.pi = c.f + n;
	c.wsr = c.f + 2 * n;
	c.a = c.f + 3 * n;
	c.b = c.f + 4 * n;
	c.t = c.f + 5 * n;
	if (fixed) {
		g->lml = -INFINITY;
	} else if (fit_theta(cfit_neg, &c, c.ntheta, ctx, theta, restarts, tol,
						  &g->lml) < 0) {
		rc = ml_err_nomem(e);
		goto out;
	}
	/* the model at the chosen hyperparameters */
	cfit_lml(&c, theta, &g->lml, NULL);
	if (g->lml == -INFINITY) {
		rc = ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				"-a gp: the Laplace approximation failed at every hyperparameter "
				"tried (a larger --alpha helps)");
		goto out;
	}
	g->sig2 = c.sig2;
	g->noise = c.noise;
	for (j = 0; j < g->p; j++)
		g->ls[j] = exp(theta[1 + (g->ard ? j : 0)]);
	g->c = malloc(n * sizeof(double));
	g->w = malloc(n * sizeof(double));
	if (!g->c || !g->w) {
		rc = ml_err_nomem(e);
		goto out;
	}
	for (i = 0; i < n; i++) {
		g->c[i] = y[i] - c.pi[i];
		g->w[i] = c.wsr[i];
	}
	g->L1 = c.L;
	c.L = NULL;
	g->nb = n;
	g->cls = 1;
	ml_log(ctx, ML_LOG_DEBUG, "gp: approximate log marginal likelihood %.10g", g->lml);
out:
	free(c.ils);
	free(c.K);
	free(c.L);
	free(c.R);
	free(c.C);
	free(c.bk);
	free(c.f);
	return rc;
}

/* Class probabilities of q rows whose kernel values against the basis are in Ks (nb x q):
 * the latent mean and variance (algorithm 3.2), then the logistic's expectation under
 * them by Williams and Barber's five error functions, as scikit-learn's. Ks is
 * overwritten. */
static void gpc_proba(const struct gp *g, double *Ks, size_t q, double *pstar)
{
	static const double lam[5] = {0.41, 0.4, 0.37, 0.44, 0.39};
	static const double coef[5] = {-1854.8214151, 3516.89893646, 221.29346712, 128.12323805,
				       -2010.49422654};
	size_t nb = g->nb, i, j;
	int k;

	for (i = 0; i < q; i++)
		pstar[i] = cblas_ddot((int)nb, Ks + i * nb, 1, g->c, 1);
	for (i = 0; i < q; i++)
		for (j = 0; j < nb; j++)
			Ks[i * nb + j] *= g->w[j];
	cblas_dtrsm(CblasColMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, (int)nb,
		    (int)q, 1.0, g->L1, (int)nb, Ks, (int)nb);
	for (i = 0; i < q; i++) {
		double var = g->sig2 + (g->kernel == K_RBF_WHITE ? g->noise : 0), f = pstar[i], s = 0,
		       al;
		for (j = 0; j < nb; j++)
			var -= Ks[i * nb + j] * Ks[i * nb + j];
		al = 1 / (2 * var);
		for (k = 0; k < 5; k++)
			s += coef[k] * sqrt(M_PI / al) * erf(lam[k] * f * sqrt(al / (al + lam[k] * lam[k]))) /
			     (2 * sqrt(var * 2 * M_PI));
		for (k = 0; k < 5; k++)
			s += 0.5 * coef[k];
		pstar[i] = s;
	}
}

static int gp_predict(const void *state, const double *X, size_t n, size_t ld, double *out,
		      int what, struct ml_err *e);

/* More classes: each class's probability against the rest, normalised over the classes
 * (the margins their logs). */
static int ovr_predict(const struct gp *g, const double *X, size_t n, size_t ld, double *out,
		       int what, struct ml_err *e)
{
	size_t K = (size_t)g->nsub, i, k;
	double *t = malloc(2 * n * sizeof(double) + 1);
	int rc = 0;

	if (!t)
		return ml_err_nomem(e);
	for (k = 0; k < K && rc == 0; k++)
		if ((rc = gp_predict(g->sub[k], X, n, ld, t, ML_OUT_VALUE, e)) == 0)
			for (i = 0; i < n; i++)
				out[i * K + k] = t[2 * i + 1];
	for (i = 0; i < n && rc == 0; i++) {
		double sum = 0;
		for (k = 0; k < K; k++)
			sum += out[i * K + k];
		for (k = 0; k < K; k++) {
			out[i * K + k] /= sum;
			if (what == ML_OUT_MARGIN)
				out[i * K + k] = log(out[i * K + k]);
		}
	}
	free(t);
	return rc;
}

static int gp_predict(const void *state, const double *X, size_t n, size_t ld, double *out,
		      int what, struct ml_err *e)
{
	const struct gp *g = state;
	size_t nb = g->nb, s, i, j, p = (size_t)g->p;
	double *Q, *Ks, *K2 = NULL, *ils;
	int d, rc = 0;

	if (g->nsub)
		return ovr_predict(g, X, n, ld, out, what, e);
	for (d = 0; d < g->p; d++)
		for (i = 0; i < n; i++)
			if (!isfinite(X[(size_t)d * ld + i]))
				return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
						  "-a gp cannot score a row with a missing or "
						  "infinite feature value");
	Q = malloc(GP_CHUNK * p * sizeof(double) + 1);
	Ks = malloc(GP_CHUNK * nb * sizeof(double));
	ils = malloc(p * sizeof(double) + 1);
	if (g->dtc && what == ML_OUT_DIST)
		K2 = malloc(GP_CHUNK * nb * sizeof(double));
	if (!Q || !Ks || !ils || (g->dtc && what == ML_OUT_DIST && !K2)) {
		rc = ml_err_nomem(e);
		goto out;
	}
	for (d = 0; d < g->p; d++)
		ils[d] = 1 / g->ls[d];
	for (s = 0; s < n; s += GP_CHUNK) {
		size_t q = n - s < GP_CHUNK ? n - s : GP_CHUNK;
		for (j = 0; j < p; j++)
			for (i = 0; i < q; i++)
				Q[i * p + j] = X[j * ld + s + i];
		cross_k(g, ils, Q, q, Ks);
		if (g->cls) {
			gpc_proba(g, Ks, q, Q);
			for (i = 0; i < q; i++) {
				double pr = Q[i];
				if (what == ML_OUT_MARGIN) {
					out[s + i] = log(pr / (1 - pr));
				} else {
					out[2 * (s + i)] = 1 - pr;
					out[2 * (s + i) + 1] = pr;
				}
			}
			continue;
		}
		for (i = 0; i < q; i++) {
			double m = cblas_ddot((int)nb, Ks + i * nb, 1, g->c, 1);
			m = m * g->ystd + g->ymean;
			if (what == ML_OUT_DIST)
				out[2 * (s + i)] = m;
			else
				out[s + i] = m;
		}
		if (what != ML_OUT_DIST)
			continue;
		if (K2)
			memcpy(K2, Ks, q * nb * sizeof(double));
		cblas_dtrsm(CblasColMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit,
			    (int)nb, (int)q, 1.0, g->L1, (int)nb, Ks, (int)nb);
		if (K2)
			cblas_dtrsm(CblasColMajor, CblasLeft, CblasLower, CblasNoTrans,
				    CblasNonUnit, (int)nb, (int)q, 1.0, g->L2, (int)nb, K2,
				    (int)nb);
		for (i = 0; i < q; i++) {
			double v = g->sig2 + (g->kernel == K_RBF_WHITE ? g->noise : 0), t = 0;
			for (j = 0; j < nb; j++)
				t += Ks[i * nb + j] * Ks[i * nb + j];
			v -= t;
			if (K2) {
				t = 0;
				for (j = 0; j < nb; j++)
					t += K2[i * nb + j] * K2[i * nb + j];
				v += (g->noise + g->jitter) * t;
			}
			out[2 * (s + i) + 1] = sqrt(v > 0 ? v : 0) * g->ystd;
		}
	}
out:
	free(Q);
	free(Ks);
	free(K2);
	free(ils);
	return rc;
}

/* DTC on m inducing points drawn from the rows: c = A^-1 Kmn y, A = s2 Kmm + Kmn Knm. */
static int fit_dtc(struct gp *g, const double *X, const double *y, size_t n, size_t m,
		   struct ml_rng *rng)
{
	size_t *idx = malloc(n * sizeof(size_t)), i, s, p = (size_t)g->p;
	double *A = NULL, *Kb = NULL, *ils = NULL, s2 = g->noise + g->jitter;
	int rc = ML_E_NOMEM, d;

	if (!idx)
		return rc;
	for (i = 0; i < n; i++)
		idx[i] = i;
	ml_rng_shuffle(rng, idx, n);
	/* inducing points in row order, so the model does not depend on the draw order */
	{
		size_t a, b;
		for (a = 1; a < m; a++)
			for (b = a; b > 0 && idx[b - 1] > idx[b]; b--) {
				size_t t = idx[b];
				idx[b] = idx[b - 1];
				idx[b - 1] = t;
			}
	}
	g->nb = m;
	g->B = malloc(m * p * sizeof(double) + 1);
	g->c = calloc(m, sizeof(double));
	A = calloc(m * m, sizeof(double));
	Kb = malloc(GP_CHUNK * m * sizeof(double));
	ils = malloc(p * sizeof(double) + 1);
	if (!g->B || !g->c || !A || !Kb || !ils)
		goto out;
	for (i = 0; i < m; i++)
		memcpy(g->B + i * p, X + idx[i] * p, p * sizeof(double));
	for (d = 0; d < g->p; d++)
		ils[d] = 1 / g->ls[d];
	if ((rc = basis_chol(g, 1e-8 * g->sig2, &g->L1)) != 0)
		goto out;
	for (s = 0; s < n; s += GP_CHUNK) {
		size_t q = n - s < GP_CHUNK ? n - s : GP_CHUNK;
		cross_k(g, ils, X + s * p, q, Kb);
		cblas_dsyrk(CblasColMajor, CblasLower, CblasNoTrans, (int)m, (int)q, 1.0, Kb,
			    (int)m, 1.0, A, (int)m);
		cblas_dgemv(CblasColMajor, CblasNoTrans, (int)m, (int)q, 1.0, Kb, (int)m, y + s, 1,
			    1.0, g->c, 1);
	}
	/* A += s2 Kmm */
	{
		double *Kmm = malloc(m * m * sizeof(double));
		size_t a, b;
		if (!Kmm) {
			rc = ML_E_NOMEM;
			goto out;
		}
		cross_k(g, ils, g->B, m, Kmm);
		for (b = 0; b < m; b++)
			for (a = b; a < m; a++)
				A[b * m + a] += s2 * Kmm[b * m + a];
		free(Kmm);
	}
	if (LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', (lapack_int)m, A, (lapack_int)m) != 0) {
		rc = 1;
		goto out;
	}
	LAPACKE_dpotrs(LAPACK_COL_MAJOR, 'L', (lapack_int)m, 1, A, (lapack_int)m, g->c,
		       (lapack_int)m);
	g->L2 = A;
	A = NULL;
	g->dtc = 1;
	rc = 0;
out:
	free(idx);
	free(A);
	free(Kb);
	free(ils);
	return rc;
}

/* The classification branch of gp_fit: the checks, the start, the fit of targets y (0
 * or 1) into g. */
static int gp_fit_cls(struct gp *g, const struct ml_data *dd, const double *y,
		      const struct ml_params *hp, struct ml_ctx *ctx, double *X, double *theta,
		      struct ml_err *e)
{
	int j;

	if (dd->n > (size_t)ml_param(hp, "max-exact"))
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "-a gp classifies exactly only: %zu rows are more than --max-exact "
				  "%d",
				  dd->n, (int)ml_param(hp, "max-exact"));
	g->p = dd->p;
	g->kernel = (int)ml_param(hp, "kernel");
	g->ard = (int)ml_param(hp, "ard");
	g->jitter = ml_param(hp, "alpha");
	g->ymean = 0;
	g->ystd = 1;
	g->ntrain = dd->n;
	theta[0] = log(ml_param(hp, "signal-variance"));
	for (j = 0; j < (g->ard ? dd->p : 1); j++)
		theta[1 + j] = log(ml_param(hp, "length-scale"));
	if (g->kernel == K_RBF_WHITE)
		theta[1 + (g->ard ? dd->p : 1)] = log(ml_param(hp, "noise"));
	return gpc_fit(g, X, y, dd->n, theta, ml_param(hp, "fixed") > 0,
		       (int)ml_param(hp, "restarts"), ml_param(hp, "tol"), ctx, e);
}

/* More classes: per class, a binary model of it against the rest on its own copy of the
 * rows X (n x p), each from the same start. */
static int gp_fit_ovr(struct gp *g, const struct ml_data *dd, const struct ml_params *hp,
		      struct ml_ctx *ctx, const double *X, double *y, double *theta,
		      struct ml_err *e)
{
	size_t n = dd->n, i, np = n * (size_t)dd->p;
	int k, rc;

	for (k = 0; k < dd->nclass; k++) {
		size_t cnt = 0;
		for (i = 0; i < n; i++)
			cnt += dd->y[i] == k;
		if (cnt < 2)
			return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
					  "class '%s' has %zu training rows: -a gp fits each class "
					  "against the rest and needs at least 2",
					  dd->classes ? dd->classes[k] : "?", cnt);
	}
	g->p = dd->p;
	g->ntrain = n;
	g->sub = calloc((size_t)dd->nclass, sizeof(*g->sub));
	if (!g->sub)
		return ml_err_nomem(e);
	for (k = 0; k < dd->nclass; k++) {
		struct gp *c = calloc(1, sizeof(*c));
		if (!c)
			return ml_err_nomem(e);
		g->sub[g->nsub++] = c;
		c->ls = malloc((size_t)dd->p * sizeof(double));
		c->B = malloc(np * sizeof(double));
		if (!c->ls || !c->B)
			return ml_err_nomem(e);
		memcpy(c->B, X, np * sizeof(double));
		for (i = 0; i < n; i++)
			y[i] = dd->y[i] == k;
		if ((rc = gp_fit_cls(c, dd, y, hp, ctx, c->B, theta, e)) < 0)
			return rc;
		ml_log(ctx, ML_LOG_DEBUG, "gp: class '%s' against the rest fitted",
		       dd->classes ? dd->classes[k] : "?");
	}
	return 0;
}

static int gp_fit(void **state, const struct ml_data *dd, const struct ml_data *valid,
		  const struct ml_params *hp, struct ml_ctx *ctx, struct ml_err *e)
{
	struct gp *g;
	struct fit f;
	struct ml_rng rng;
	size_t n = dd->n, i, nfit, p = (size_t)dd->p;
	double *X = NULL, *y = NULL, *theta = NULL, *Xs = NULL, *ys = NULL, mu = 0, sd = 0;
	int j, rc = 0, maxex = (int)ml_param(hp, "max-exact");

	(void)valid;
	*state = NULL;
	memset(&f, 0, sizeof(f));
	if (dd->p < 1)
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "-a gp needs at least one feature");
	if (dd->p > 64 && ml_param(hp, "ard") > 0)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "--ard 1 takes at most 64 features (this data has %d)", dd->p);
	if (n < 2)
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "-a gp needs at least 2 rows");
	if (dd->w)
		for (i = 0; i < n; i++)
			if (dd->w[i] != 1)
				return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
						  "-a gp takes no row weights (--weight)");
	if (p > 0 && n > SIZE_MAX / 8 / p)
		return ml_err_nomem(e);
	g = calloc(1, sizeof(*g));
	X = malloc(n * p * sizeof(double));
	y = malloc(n * sizeof(double));
	theta = malloc(2 * (size_t)(dd->p + 2) * sizeof(double));
	if (!g || !X || !y || !theta) {
		rc = ml_err_nomem(e);
		goto out;
	}
	g->ls = malloc(p * sizeof(double));
	if (!g->ls) {
		rc = ml_err_nomem(e);
		goto out;
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < dd->p; j++) {
			double v = dd->col[j][i];
			if (!isfinite(v)) {
				rc = ml_err_set(e, ML_E_DATA, NULL, 0, 0,
						"feature '%s' has a missing or infinite value "
						"(-a gp takes none)",
						dd->names ? dd->names[j] : "?");
				goto out;
			}
			X[i * p + (size_t)j] = v;
		}
		if (!isfinite(dd->y[i])) {
			rc = ml_err_set(e, ML_E_DATA, NULL, 0, 0,
					"the target has a value that is not finite");
			goto out;
		}
		mu += dd->y[i];
	}
	if (dd->nclass) {
		rc = dd->nclass > 2 ? gp_fit_ovr(g, dd, hp, ctx, X, y, theta, e)
				    : gp_fit_cls(g, dd, dd->y, hp, ctx, X, theta, e);
		if (rc == 0) {
			g->B = X;
			X = NULL;
			*state = g;
			g = NULL;
		}
		goto out;
	}
	/* targets normalised as scikit-learn's normalize_y: mean 0, population sd 1 */
	mu /= (double)n;
	for (i = 0; i < n; i++)
		sd += (dd->y[i] - mu) * (dd->y[i] - mu);
	sd = sqrt(sd / (double)n);
	if (sd == 0)
		sd = 1;
	for (i = 0; i < n; i++)
		y[i] = (dd->y[i] - mu) / sd;
	g->p = dd->p;
	g->kernel = (int)ml_param(hp, "kernel");
	g->ard = (int)ml_param(hp, "ard");
	g->ymean = mu;
	g->ystd = sd;
	g->jitter = ml_param(hp, "alpha");
	g->ntrain = n;
	ml_rng_derive(&rng, ctx ? ctx->seed : 0, 0x677031);
	/* the rows the hyperparameters are fitted on: all, or a seeded sample of --max-exact */
	nfit = n <= (size_t)maxex ? n : (size_t)maxex;
	if (nfit < n) {
		size_t *idx = malloc(n * sizeof(size_t)), a, b;
		Xs = malloc(nfit * p * sizeof(double));
		ys = malloc(nfit * sizeof(double));
		if (!idx || !Xs || !ys) {
			free(idx);
			rc = ml_err_nomem(e);
			goto out;
		}
		for (a = 0; a < n; a++)
			idx[a] = a;
		ml_rng_shuffle(&rng, idx, n);
		for (a = 0; a < nfit; a++) {
			memcpy(Xs + a * p, X + idx[a] * p, p * sizeof(double));
			ys[a] = y[idx[a]];
		}
		free(idx);
		(void)b;
	}
	f.n = nfit;
	f.p = dd->p;
	f.kernel = g->kernel == K_RBF_WHITE ? K_RBF : g->kernel;
	f.ard = g->ard;
	f.white = g->kernel == K_RBF_WHITE;
	f.ntheta = 1 + (g->ard ? dd->p : 1) + f.white;
	f.X = Xs ? Xs : X;
	f.y = ys ? ys : y;
	f.jitter = g->jitter;
	f.ctx = ctx;
	f.K = malloc(nfit * nfit * sizeof(double));
	f.a = malloc(nfit * sizeof(double));
	f.grad = malloc(((nfit + GP_COLS - 1) / GP_COLS) * (size_t)f.ntheta * sizeof(double));
	f.ils_buf = malloc(p * sizeof(double));
	f.Xt = malloc(nfit * p * sizeof(double) + 1);
	if (!f.K || !f.a || !f.grad || !f.ils_buf || !f.Xt) {
		rc = ml_err_nomem(e);
		goto out;
	}
	for (i = 0; i < nfit; i++)
		for (j = 0; j < dd->p; j++)
			f.Xt[(size_t)j * nfit + i] = f.X[i * p + (size_t)j];
	theta[0] = log(ml_param(hp, "signal-variance"));
	for (j = 0; j < (g->ard ? dd->p : 1); j++)
		theta[1 + j] = log(ml_param(hp, "length-scale"));
	if (f.white)
		theta[f.ntheta - 1] = log(ml_param(hp, "noise"));
	if (ml_param(hp, "fixed") > 0) {
		lml_eval(&f, theta, &g->lml, NULL);
	} else {
		int r = fit_theta(neg_lml, &f, f.ntheta, ctx, theta, (int)ml_param(hp, "restarts"),
				  ml_param(hp, "tol"), &g->lml);
		if (r < 0) {
			rc = ml_err_nomem(e);
			goto out;
		}
	}
	if (g->lml == -INFINITY) {
		rc = ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				"-a gp: the kernel matrix is not positive definite at any "
				"hyperparameters tried (a larger --alpha helps)");
		goto out;
	}
	g->sig2 = exp(theta[0]);
	for (j = 0; j < dd->p; j++)
		g->ls[j] = exp(theta[1 + (g->ard ? j : 0)]);
	g->noise = f.white ? exp(theta[f.ntheta - 1]) : 0;
	ml_log(ctx, ML_LOG_DEBUG, "gp: log marginal likelihood %.10g (normalised target)%s", g->lml,
	       nfit < n ? " on the sample" : "");
	if (nfit == n) {
		/* the exact model at the chosen hyperparameters: factor and weights, as the
		 * likelihood leaves them (kept when it was just valued there: --fixed) */
		double lml;
		lml_eval(&f, theta, &lml, NULL);
		if (lml == -INFINITY) {
			rc = ml_err_set(e, ML_E_DATA, NULL, 0, 0,
					"-a gp: the kernel matrix is not positive definite "
					"(a larger --alpha helps)");
			goto out;
		}
		g->nb = n;
		g->B = X;
		X = NULL;
		g->c = f.a;
		f.a = NULL;
		g->L1 = f.K;
		f.K = NULL;
	} else {
		free(f.K);
		f.K = NULL;
		rc = fit_dtc(g, X, y, n, (size_t)ml_param(hp, "inducing") < n
					     ? (size_t)ml_param(hp, "inducing")
					     : n,
			     &rng);
		if (rc) {
			rc = rc < 0 ? ml_err_nomem(e)
				    : ml_err_set(e, ML_E_DATA, NULL, 0, 0,
						 "-a gp: the inducing-point system is not positive "
						 "definite (a larger --alpha helps)");
			goto out;
		}
	}
	*state = g;
	g = NULL;
out:
	gp_free(g);
	free(X);
	free(y);
	free(Xs);
	free(ys);
	free(theta);
	free(f.K);
	free(f.a);
	free(f.grad);
	free(f.ils_buf);
	free(f.Xt);
	return rc;
}

/* Sections: "algo.gp" holds u32 version, u32 features, u8 kernel, ard, dtc, u64 training
 * rows, u64 basis rows, f64 signal variance, noise, alpha, target mean, target sd, log
 * marginal likelihood, then the p length scales; "algo.gp.B" the basis rows (row-major),
 * "algo.gp.c" their weights; with dtc, "algo.gp.L1" and "algo.gp.L2" the two factors
 * (an exact model's factor is recomputed on load). Version 2 (binary classification)
 * adds u8 1 after dtc, "algo.gp.w" and "algo.gp.L1". Version 3, more classes: "algo.gp"
 * holds u32 version, u32 features, u32 classes K, and class k (1..K) against the rest is
 * a version 2 model under the names "algo.gp.classk", "algo.gp.classk.B" and so on. */
static int put_f64(struct ml_model *mo, const char *pre, const char *name, const double *v,
		   size_t n, struct ml_err *e)
{
	struct ml_wbuf b;
	char sec[64];

	snprintf(sec, sizeof(sec), "%s%s", pre, name);
	ml_wbuf_init(&b);
	ml_wbuf_f64v(&b, v, n);
	return ml_algo_put(mo, sec, &b, e);
}

/* The sections of one model, named pre and pre.B, pre.c and so on. */
static int gp_save_one(const struct gp *g, struct ml_model *mo, const char *pre,
		       struct ml_err *e)
{
	struct ml_wbuf b;
	size_t nb = g->nb;
	int rc;

	ml_wbuf_init(&b);
	/* version 1 for regression (what older builds read), 2 with the class flag */
	ml_wbuf_u32(&b, g->cls ? 2 : GP_VERSION);
	ml_wbuf_u32(&b, (uint32_t)g->p);
	ml_wbuf_u8(&b, (uint8_t)g->kernel);
	ml_wbuf_u8(&b, (uint8_t)g->ard);
	ml_wbuf_u8(&b, (uint8_t)g->dtc);
	if (g->cls)
		ml_wbuf_u8(&b, 1);
	ml_wbuf_u64(&b, g->ntrain);
	ml_wbuf_u64(&b, nb);
	ml_wbuf_f64(&b, g->sig2);
	ml_wbuf_f64(&b, g->noise);
	ml_wbuf_f64(&b, g->jitter);
	ml_wbuf_f64(&b, g->ymean);
	ml_wbuf_f64(&b, g->ystd);
	ml_wbuf_f64(&b, g->lml);
	ml_wbuf_f64v(&b, g->ls, (size_t)g->p);
	if ((rc = ml_algo_put(mo, pre, &b, e)) < 0 ||
	    (rc = put_f64(mo, pre, ".B", g->B, nb * (size_t)g->p, e)) < 0 ||
	    (rc = put_f64(mo, pre, ".c", g->c, nb, e)) < 0)
		return rc;
	if (g->cls && ((rc = put_f64(mo, pre, ".w", g->w, nb, e)) < 0 ||
		       (rc = put_f64(mo, pre, ".L1", g->L1, nb * nb, e)) < 0))
		return rc;
	if (g->dtc && ((rc = put_f64(mo, pre, ".L1", g->L1, nb * nb, e)) < 0 ||
		       (rc = put_f64(mo, pre, ".L2", g->L2, nb * nb, e)) < 0))
		return rc;
	return 0;
}

static int gp_save(const void *state, struct ml_model *mo, struct ml_err *e)
{
	const struct gp *g = state;
	struct ml_wbuf b;
	char pre[32];
	int k, rc;

	if (!g->nsub)
		return gp_save_one(g, mo, "algo.gp", e);
	ml_wbuf_init(&b);
	ml_wbuf_u32(&b, 3);
	ml_wbuf_u32(&b, (uint32_t)g->p);
	ml_wbuf_u32(&b, (uint32_t)g->nsub);
	if ((rc = ml_algo_put(mo, "algo.gp", &b, e)) < 0)
		return rc;
	for (k = 0; k < g->nsub; k++) {
		snprintf(pre, sizeof(pre), "algo.gp.class%d", k + 1);
		if ((rc = gp_save_one(g->sub[k], mo, pre, e)) < 0)
			return rc;
	}
	return 0;
}

static int bad(struct gp *g, struct ml_err *e, const char *sec, const char *what)
{
	gp_free(g);
	return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "model section '%s' is invalid: %s", sec, what);
}

static int get_f64(const struct ml_model *mo, const char *pre, const char *suf, uint64_t count,
		   double **out, struct ml_err *e)
{
	const void *data;
	size_t len, c, k;
	struct ml_rbuf b;
	char name[64];
	int rc;

	snprintf(name, sizeof(name), "%s%s", pre, suf);
	*out = NULL;
	if ((rc = ml_model_get(mo, name, &data, &len, e)) < 0)
		return rc;
	ml_rbuf_init(&b, data, len);
	c = ml_rbuf_count(&b, count, 8);
	if (b.err || len != c * 8)
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				  "model section '%s' is invalid: its size does not match", name);
	*out = malloc(c * sizeof(double) + 1);
	if (!*out)
		return ml_err_nomem(e);
	ml_rbuf_f64v(&b, *out, c);
	for (k = 0; k < c; k++)
		if (!isfinite((*out)[k]))
			return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
					  "model section '%s' is invalid: a value is not finite",
					  name);
	return 0;
}

/* One model from the sections pre, pre.B and so on, of p features and nclass classes (0
 * regression, 2 binary). */
static int gp_load_one(struct gp **state, const struct ml_model *mo, const char *pre, int p,
		       int nclass, struct ml_err *e)
{
	const void *data;
	size_t len;
	struct ml_rbuf b;
	struct gp *g;
	uint64_t nb;
	uint32_t version;
	int rc, j;

	*state = NULL;
	if ((rc = ml_model_get(mo, pre, &data, &len, e)) < 0)
		return rc;
	ml_rbuf_init(&b, data, len);
	version = ml_rbuf_u32(&b);
	if (version != GP_VERSION && version != 2)
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				  "model section 'algo.gp' has an unknown version");
	g = calloc(1, sizeof(*g));
	if (!g)
		return ml_err_nomem(e);
	g->p = (int)ml_rbuf_u32(&b);
	g->kernel = ml_rbuf_u8(&b);
	g->ard = ml_rbuf_u8(&b);
	g->dtc = ml_rbuf_u8(&b);
	g->cls = version == 2 ? ml_rbuf_u8(&b) : 0;
	g->ntrain = (size_t)ml_rbuf_u64(&b);
	nb = ml_rbuf_u64(&b);
	g->sig2 = ml_rbuf_f64(&b);
	g->noise = ml_rbuf_f64(&b);
	g->jitter = ml_rbuf_f64(&b);
	g->ymean = ml_rbuf_f64(&b);
	g->ystd = ml_rbuf_f64(&b);
	g->lml = ml_rbuf_f64(&b);
	if (b.err || g->p != p || g->p < 1 || g->cls > 1 || (g->cls && g->dtc) ||
	    nclass != (g->cls ? 2 : 0))
		return bad(g, e, pre, "its shape does not match the model's features");
	g->ls = malloc((size_t)g->p * sizeof(double));
	if (!g->ls) {
		gp_free(g);
		return ml_err_nomem(e);
	}
	ml_rbuf_f64v(&b, g->ls, (size_t)g->p);
	if (b.err || b.off != b.n || g->kernel > K_RBF_WHITE || g->ard > 1 || g->dtc > 1 ||
	    nb < 1 || nb > 100000000 || !(g->sig2 > 0) || !(g->noise >= 0) ||
	    !(g->jitter >= 0) || !isfinite(g->ymean) || !(g->ystd > 0) || !isfinite(g->sig2) ||
	    !isfinite(g->noise) || !isfinite(g->jitter) || !isfinite(g->ystd))
		return bad(g, e, pre, "bad parameters");
	for (j = 0; j < g->p; j++)
		if (!(g->ls[j] > 0) || !isfinite(g->ls[j]))
			return bad(g, e, pre, "bad length scale");
	g->nb = (size_t)nb;
	if ((rc = get_f64(mo, pre, ".B", nb * (uint64_t)g->p, &g->B, e)) < 0 ||
	    (rc = get_f64(mo, pre, ".c", nb, &g->c, e)) < 0 ||
	    (g->dtc && ((rc = get_f64(mo, pre, ".L1", nb * nb, &g->L1, e)) < 0 ||
			(rc = get_f64(mo, pre, ".L2", nb * nb, &g->L2, e)) < 0))) {
		gp_free(g);
		return rc;
	}
	if (g->cls && ((rc = get_f64(mo, pre, ".w", nb, &g->w, e)) < 0 ||
		       (rc = get_f64(mo, pre, ".L1", nb * nb, &g->L1, e)) < 0)) {
		gp_free(g);
		return rc;
	}
	if (!g->dtc && !g->cls) {
		rc = basis_chol(g, (g->kernel == K_RBF_WHITE ? g->noise : 0) + g->jitter, &g->L1);
		if (rc < 0) {
			gp_free(g);
			return ml_err_nomem(e);
		}
		if (rc)
			return bad(g, e, pre, "its kernel matrix is not positive definite");
	}
	*state = g;
	return 0;
}

static int gp_load(void **state, const struct ml_model *mo, const struct ml_data *shape,
		   struct ml_err *e)
{
	const void *data;
	size_t len;
	struct ml_rbuf b;
	struct gp *g, *one;
	char pre[32];
	int rc, k;

	*state = NULL;
	if ((rc = ml_model_get(mo, "algo.gp", &data, &len, e)) < 0)
		return rc;
	ml_rbuf_init(&b, data, len);
	if (ml_rbuf_u32(&b) != 3) {
		rc = gp_load_one(&one, mo, "algo.gp", shape->p, shape->nclass, e);
		*state = one;
		return rc;
	}
	if (!(g = calloc(1, sizeof(*g))))
		return ml_err_nomem(e);
	g->p = (int)ml_rbuf_u32(&b);
	k = (int)ml_rbuf_u32(&b);
	if (b.err || b.off != b.n || g->p != shape->p || k != shape->nclass || k < 3)
		return bad(g, e, "algo.gp", "its shape does not match the model's classes");
	if (!(g->sub = calloc((size_t)k, sizeof(*g->sub)))) {
		gp_free(g);
		return ml_err_nomem(e);
	}
	for (g->nsub = 0; g->nsub < k; g->nsub++) {
		snprintf(pre, sizeof(pre), "algo.gp.class%d", g->nsub + 1);
		if ((rc = gp_load_one(&g->sub[g->nsub], mo, pre, g->p, 2, e)) < 0) {
			gp_free(g);
			return rc;
		}
	}
	g->ntrain = g->sub[0]->ntrain;
	*state = g;
	return 0;
}

static const char *const gp_tables[] = {"hyper", NULL};

/* Row j of g's "hyper" table (j < the count it returns for j = -1): the name, in buf or
 * static, and the value. */
static int hyper_row(const struct gp *g, const struct ml_data *shape, int j, char *buf,
		     size_t len, const char **name, double *val)
{
	const char *names[8];
	double vals[8];
	int nrow = 0;

	names[nrow] = "signal_variance";
	vals[nrow++] = g->sig2;
	if (g->kernel == K_RBF_WHITE) {
		names[nrow] = "noise";
		vals[nrow++] = g->noise;
	}
	names[nrow] = "alpha";
	vals[nrow++] = g->jitter;
	names[nrow] = "log_marginal_likelihood";
	vals[nrow++] = g->lml;
	names[nrow] = "target_mean";
	vals[nrow++] = g->ymean;
	names[nrow] = "target_sd";
	vals[nrow++] = g->ystd;
	if (j < 0)
		return nrow + (g->ard ? g->p : 1);
	*name = buf;
	if (j < nrow)
		*name = names[j];
	else if (g->ard)
		snprintf(buf, len, "length_scale_%s", shape->names ? shape->names[j - nrow] : "?");
	else
		*name = "length_scale";
	*val = j < nrow ? vals[j] : g->ls[j - nrow];
	return 0;
}

/* "hyper": the fitted hyperparameters by name, with the log marginal likelihood; with
 * more classes, each class's model against the rest (a first column names the class). */
static int gp_table(const void *state, const char *name, const struct ml_data *shape,
		    struct ml_frame *out, struct ml_err *e)
{
	const struct gp *g = state;
	int K = g->nsub ? g->nsub : 1, c0 = g->nsub ? 1 : 0, k, j, rc;
	size_t rows = 0, r = 0;
	char buf[300];

	(void)name;
	for (k = 0; k < K; k++)
		rows += (size_t)hyper_row(g->nsub ? g->sub[k] : g, shape, -1, NULL, 0, NULL, NULL);
	if ((c0 && ml_schema_add(&out->schema, "class", ML_CAT) < 0) ||
	    ml_schema_add(&out->schema, "name", ML_CAT) < 0 ||
	    ml_schema_add(&out->schema, "value", ML_NUM) < 0)
		goto nomem;
	if ((rc = ml_block_init(&out->rows, &out->schema, rows, e)) < 0) {
		ml_frame_release(out);
		return rc;
	}
	for (k = 0; k < K; k++) {
		const struct gp *one = g->nsub ? g->sub[k] : g;
		int nr = hyper_row(one, shape, -1, NULL, 0, NULL, NULL);
		for (j = 0; j < nr; j++, r++) {
			const char *s;
			double v;
			int32_t code;
			hyper_row(one, shape, j, buf, sizeof(buf), &s, &v);
			if (c0) {
				const char *cl = shape->classes ? shape->classes[k] : "?";
				code = ml_dict_intern(&out->schema.cols[0].dict, cl, strlen(cl));
				if (code < 0)
					goto nomem;
				out->rows.col[0].cat[r] = code;
			}
			code = ml_dict_intern(&out->schema.cols[c0].dict, s, strlen(s));
			if (code < 0)
				goto nomem;
			out->rows.col[c0].cat[r] = code;
			out->rows.col[c0 + 1].num[r] = v;
		}
	}
	out->rows.nrow = rows;
	return 0;
nomem:
	ml_frame_release(out);
	return ml_err_nomem(e);
}

const struct ml_algo ml_algo_gp = {
	.name = "gp",
	.summary = "Gaussian process: kernel regression with a predictive standard deviation, "
		   "classification by the Laplace approximation (one class against the rest "
		   "for more)",
	.flags = ML_ALGO_CLASSIFY | ML_ALGO_REGRESS | ML_ALGO_DIST,
	.params = gp_params,
	.fit = gp_fit,
	.predict = gp_predict,
	.save = gp_save,
	.load = gp_load,
	.tables = gp_tables,
	.table = gp_table,
	.free = gp_free,
};
