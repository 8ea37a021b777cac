/* ARIMA by exact Gaussian likelihood, as R's stats::arima (method "CSS-ML", "ML" or "CSS"):
 * the same parameterisation (partial autocorrelations through tanh for the AR parts),
 * the state-space form of makeARIMA with differencing in the state and a diffuse prior of
 * variance 1e6 on it, Gardner et al.'s stationary initial covariance, the Kalman filter of
 * ARIMA_Like, conditional sums of squares as starting values, and optim's BFGS with its
 * numerical gradient, step rules and Hessian, so that fits agree with R's to its
 * tolerance. */
#include <cblas.h>
#include <complex.h>
#include <float.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "arima.h"

#define KAPPA 1e6

/* The polynomial's roots: c[0] + c[1] z + ... + c[k] z^k with c[k] != 0. */
static int poly_roots(const double *c, int k, double complex *roots)
{
	double *A, *wr, *wi;
	int i, rc;

	if (k < 1)
		return 0;
	if (!(A = ts_calloc((size_t)k * (size_t)k + 2 * (size_t)k, sizeof(double))))
		return -1;
	wr = A + (size_t)k * (size_t)k;
	wi = wr + k;
	for (i = 0; i < k; i++)
		A[(size_t)i * (size_t)k] = -c[k - 1 - i] / c[k];
	for (i = 1; i < k; i++)
		A[i + (size_t)(i - 1) * (size_t)k] = 1;
	rc = LAPACKE_dhseqr(LAPACK_COL_MAJOR, 'E', 'N', k, 1, k, A, k, wr, wi, NULL, 1);
	for (i = 0; i < k && rc == 0; i++)
		roots[i] = wr[i] + I * wi[i];
	free(A);
	return rc == 0 ? 0 : -1;
}

double arima_minroot(const double *c, int k, int sign)
{
	double poly[1 + 400], best = 2;
	double complex roots[400];
	int i, last = 0;

	for (i = 0; i < k && i < 399; i++)
		if (fabs(c[i]) > 1e-8)
			last = i + 1;
	if (!last)
		return best;
	poly[0] = 1;
	for (i = 0; i < last; i++)
		poly[i + 1] = sign * c[i];
	if (poly_roots(poly, last, roots) < 0)
		return -1;
	for (i = 0; i < last; i++)
		if (cabs(roots[i]) < best)
			best = cabs(roots[i]);
	return best;
}

/* R's arCheck: every root of 1 - ar(z) outside the unit circle. */
static int ar_check(const double *ar, int p)
{
	double poly[401];
	double complex roots[400];
	int i, last = 0;

	for (i = 0; i < p; i++)
		if (ar[i] != 0)
			last = i + 1;
	if (!last)
		return 1;
	poly[0] = 1;
	for (i = 0; i < last; i++)
		poly[i + 1] = -ar[i];
	if (poly_roots(poly, last, roots) < 0)
		return 0;
	for (i = 0; i < last; i++)
		if (!(cabs(roots[i]) > 1))
			return 0;
	return 1;
}

/* R's maInvert: roots of 1 + ma(z) inside the unit circle are reflected outside. */
static void ma_invert(double *ma, int q)
{
	double poly[401];
	double complex roots[400], x[401];
	int i, j, q0 = 0, any = 0;

	for (i = 0; i < q; i++)
		if (ma[i] != 0)
			q0 = i + 1;
	if (!q0)
		return;
	poly[0] = 1;
	for (i = 0; i < q0; i++)
		poly[i + 1] = ma[i];
	if (poly_roots(poly, q0, roots) < 0)
		return;
	for (i = 0; i < q0; i++)
		if (cabs(roots[i]) < 1)
			any = 1;
	if (!any)
		return;
	if (q0 == 1) {
		ma[0] = 1 / ma[0];
		for (i = 1; i < q; i++)
			ma[i] = 0;
		return;
	}
	for (i = 0; i < q0; i++)
		if (cabs(roots[i]) < 1)
			roots[i] = 1 / roots[i];
	x[0] = 1;
	for (i = 0; i < q0; i++) {
		x[i + 1] = 0;
		for (j = i + 1; j >= 1; j--)
			x[j] = x[j] - x[j - 1] / roots[i];
	}
	for (i = 0; i < q0; i++)
		ma[i] = creal(x[i + 1]);
	for (i = q0; i < q; i++)
		ma[i] = 0;
}

/* tanh then Durbin-Levinson: unconstrained values to a stationary AR polynomial. */
static void partrans(int p, const double *raw, double *out)
{
	double work[400];
	int j, k;

	for (j = 0; j < p; j++)
		work[j] = out[j] = tanh(raw[j]);
	for (j = 1; j < p; j++) {
		double a = out[j];
		for (k = 0; k < j; k++)
			work[k] -= a * out[j - k - 1];
		for (k = 0; k < j; k++)
			out[k] = work[k];
	}
}

/* The partial autocorrelations of an AR polynomial of order p <= 400 into out: the
 * Durbin-Levinson recursion backwards (the inverse of partrans's). 0 when every one lies
 * in (-1, 1), that is when the AR part is stationary; -1 otherwise. */
static int ar_pacf(int p, const double *phi, double *out)
{
	double work[400];
	int j, k, rc = 0;

	for (j = 0; j < p; j++)
		work[j] = out[j] = phi[j];
	for (j = p - 1; j >= 0; j--) {
		double a = out[j];
		if (!(fabs(a) < 1))
			rc = -1;
		for (k = 0; k < j; k++)
			work[k] = (out[k] + a * out[j - k - 1]) / (1 - a * a);
		for (k = 0; k < j; k++)
			out[k] = work[k];
	}
	return rc;
}

static void invpartrans(int p, const double *phi, double *out)
{
	int j;

	ar_pacf(p, phi, out);
	for (j = 0; j < p; j++)
		out[j] = atanh(out[j]);
}

/* arma: p, q, P, Q, m, d, D (R's order). */
static void undo_pars(const int *arma, const double *in, double *out, int n)
{
	memcpy(out, in, (size_t)n * sizeof(double));
	if (arma[0] > 0)
		partrans(arma[0], in, out);
	if (arma[2] > 0)
		partrans(arma[2], in + arma[0] + arma[1], out + arma[0] + arma[1]);
}

static void inv_trans(const int *arma, const double *in, double *out, int n)
{
	memcpy(out, in, (size_t)n * sizeof(double));
	if (arma[0] > 0)
		invpartrans(arma[0], in, out);
	if (arma[2] > 0)
		invpartrans(arma[2], in + arma[0] + arma[1], out + arma[0] + arma[1]);
}

/* The expanded phi (mp + ns msp) and theta (mq + ns msq) of the parameters. */
static void trans_pars(const int *arma, const double *in, int trans, double *phi,
		       double *theta)
{
	int mp = arma[0], mq = arma[1], msp = arma[2], msq = arma[3], ns = arma[4];
	int p = mp + ns * msp, q = mq + ns * msq, i, j;
	double params[800];
	int n = mp + mq + msp + msq;

	memcpy(params, in, (size_t)n * sizeof(double));
	if (trans)
		undo_pars(arma, in, params, n);
	for (i = 0; i < mp; i++)
		phi[i] = params[i];
	for (i = 0; i < mq; i++)
		theta[i] = params[i + mp];
	for (i = mp; i < p; i++)
		phi[i] = 0;
	for (i = mq; i < q; i++)
		theta[i] = 0;
	for (j = 0; j < msp; j++) {
		phi[(j + 1) * ns - 1] += params[j + mp + mq];
		for (i = 0; i < mp; i++)
			phi[(j + 1) * ns + i] -= params[i] * params[j + mp + mq];
	}
	for (j = 0; j < msq; j++) {
		theta[(j + 1) * ns - 1] += params[j + mp + mq + msp];
		for (i = 0; i < mq; i++)
			theta[(j + 1) * ns + i] += params[i + mp] * params[j + mp + mq + msp];
	}
}

/* Givens-style inclusion of one row (Gardner, Harvey and Phillips 1980, AS 154). */
static void inclu2(long np, const double *xnext, double *xrow, double ynext, double *d,
		   double *rbar, double *thetab)
{
	long i, k, ithisr = 0;

	for (i = 0; i < np; i++)
		xrow[i] = xnext[i];
	for (i = 0; i < np; i++) {
		if (xrow[i] != 0.0) {
			double xi = xrow[i], di = d[i], dpi = di + xi * xi, cbar, sbar, xk;
			d[i] = dpi;
			cbar = di / dpi;
			sbar = xi / dpi;
			for (k = i + 1; k < np; k++) {
				double rbthis = rbar[ithisr];
				xk = xrow[k];
				xrow[k] = xk - xi * rbthis;
				rbar[ithisr++] = cbar * rbthis + sbar * xk;
			}
			xk = ynext;
			ynext = xk - xi * thetab[i];
			thetab[i] = cbar * thetab[i] + sbar * xk;
			if (di == 0.0)
				return;
		} else
			ithisr = ithisr + np - i - 1;
	}
}

/* The stationary covariance of the ARMA part's state (r x r, column-major), as R's getQ0. */
static int get_q0(const double *phi, int p, const double *theta, int q, double *P)
{
	int r = p > q + 1 ? p : q + 1;
	long np = (long)r * (r + 1) / 2, nrbar = np * (np - 1) / 2, npr, npr1;
	long indi, indj, indn, i, j, ithisr, ind, ind1, ind2, im, jm;
	double *xnext, *xrow, *rbar, *thetab, *V;

	if (r == 1) {
		P[0] = p == 0 ? 1.0 : 1.0 / (1.0 - phi[0] * phi[0]);
		return 0;
	}
	xnext = ts_calloc((size_t)(4 * np + nrbar), sizeof(double));
	if (!xnext)
		return -1;
	xrow = xnext + np;
	thetab = xrow + np;
	V = thetab + np;
	rbar = V + np;
	for (ind = 0, j = 0; j < r; j++) {
		double vj = j == 0 ? 1.0 : j - 1 < q ? theta[j - 1] : 0.0;
		for (i = j; i < r; i++) {
			double vi = i == 0 ? 1.0 : i - 1 < q ? theta[i - 1] : 0.0;
			V[ind++] = vi * vj;
		}
	}
	if (p > 0) {
		for (i = 0; i < np; i++)
			P[i] = 0.0;
		ind = 0;
		ind1 = -1;
		npr = np - r;
		npr1 = npr + 1;
		indj = npr;
		ind2 = npr - 1;
		for (j = 0; j < r; j++) {
			double phij = j < p ? phi[j] : 0.0;
			xnext[indj++] = 0.0;
			indi = npr1 + j;
			for (i = j; i < r; i++) {
				double ynext = V[ind++];
				double phii = i < p ? phi[i] : 0.0;
				if (j != r - 1) {
					xnext[indj] = -phii;
					if (i != r - 1) {
						xnext[indi] -= phij;
						xnext[++ind1] = -1.0;
					}
				}
				xnext[npr] = -phii * phij;
				if (++ind2 >= np)
					ind2 = 0;
				xnext[ind2] += 1.0;
				inclu2(np, xnext, xrow, ynext, P, rbar, thetab);
				xnext[ind2] = 0.0;
				if (i != r - 1) {
					xnext[indi++] = 0.0;
					xnext[ind1] = 0.0;
				}
			}
		}
		ithisr = nrbar - 1;
		im = np - 1;
		for (i = 0; i < np; i++) {
			double bi = thetab[im];
			for (jm = np - 1, j = 0; j < i; j++)
				bi -= rbar[ithisr--] * P[jm--];
			P[im--] = bi;
		}
		/* re-order */
		ind = npr;
		for (i = 0; i < r; i++)
			xnext[i] = P[ind++];
		ind = np - 1;
		ind1 = npr - 1;
		for (i = 0; i < npr; i++)
			P[ind--] = P[ind1--];
		for (i = 0; i < r; i++)
			P[i] = xnext[i];
	} else {
		indn = np;
		ind = np;
		for (i = 0; i < r; i++)
			for (j = 0; j <= i; j++) {
				--ind;
				P[ind] = V[ind];
				if (j != 0)
					P[ind] += P[--indn];
			}
	}
	/* unpack to a full matrix */
	for (i = r - 1, ind = np; i > 0; i--)
		for (j = r - 1; j >= i; j--)
			P[r * i + j] = P[--ind];
	for (i = 0; i < r - 1; i++)
		for (j = i + 1; j < r; j++)
			P[i + r * j] = P[j + r * i];
	free(xnext);
	return 0;
}

/* The same covariance for an AR part by doubling, P = sum_k T^k V T'^k in log2 steps:
 * exact to rounding for a stationary AR part and much cheaper than the O(r^6) system of
 * get_q0 for seasonal orders. -1 when it does not converge (not stationary). */
/* C = A B (bt 0) or A B' (bt 1), r x r, column-major. Small matrices by plain loops:
 * OpenBLAS's dgemm spends more on its set-up (buffers, locks) than on the products of the
 * few states of most models. */
#define SMALL_GEMM 8
static void gemm_r(int r, int bt, const double *A, const double *B, double *C)
{
	int i, j, k;

	if (r > SMALL_GEMM) {
		cblas_dgemm(CblasColMajor, CblasNoTrans, bt ? CblasTrans : CblasNoTrans, r, r, r, 1.0,
			    A, r, B, r, 0.0, C, r);
		return;
	}
	for (j = 0; j < r; j++) {
		double *c = C + (size_t)r * j;
		for (i = 0; i < r; i++)
			c[i] = 0;
		for (k = 0; k < r; k++) {
			double b = bt ? B[j + (size_t)r * k] : B[k + (size_t)r * j];
			const double *a = A + (size_t)r * k;
			for (i = 0; i < r; i++)
				c[i] += a[i] * b;
		}
	}
}

static int q0_doubling(const double *phi, int p, const double *theta, int q, double *P)
{
	int r = p > q + 1 ? p : q + 1, i, j, k, it;
	size_t r2 = (size_t)r * (size_t)r;
	double *A = ts_calloc(3 * r2, sizeof(double)), *B, *C;

	if (!A)
		return -1;
	B = A + r2;
	C = B + r2;
	for (i = 0; i < p; i++)
		A[i] = phi[i];
	for (i = 0; i + 1 < r; i++)
		A[i + (size_t)r * (i + 1)] = 1;
	for (i = 0; i < r; i++) {
		double vi = i == 0 ? 1.0 : i - 1 < q ? theta[i - 1] : 0.0;
		for (j = 0; j < r; j++)
			P[i + (size_t)r * j] = vi * (j == 0 ? 1.0 : j - 1 < q ? theta[j - 1] : 0.0);
	}
	for (it = 0; it < 100; it++) {
		double big = 0, inc = 0;
		/* C = A P A', P += C */
		gemm_r(r, 0, A, P, B);
		gemm_r(r, 1, B, A, C);
		for (k = 0; k < r * r; k++) {
			P[k] += C[k];
			if (fabs(C[k]) > inc)
				inc = fabs(C[k]);
			if (fabs(P[k]) > big)
				big = fabs(P[k]);
		}
		if (!isfinite(big))
			break;
		if (inc <= 1e-16 * big) {
			/* symmetric to the last bit, as the filter expects */
			for (j = 0; j < r; j++)
				for (i = 0; i < j; i++)
					P[j + (size_t)r * i] = P[i + (size_t)r * j] =
					    0.5 * (P[i + (size_t)r * j] + P[j + (size_t)r * i]);
			free(A);
			return 0;
		}
		/* A = A A */
		gemm_r(r, 0, A, A, C);
		memcpy(A, C, r2 * sizeof(double));
	}
	free(A);
	return -1;
}

/* Solve A x = b in place (A n x n column-major, overwritten; b becomes x) by Gaussian
 * elimination with partial pivoting: the autocovariance system below has at most a few
 * dozen equations and is solved at every likelihood evaluation, where OpenBLAS's dgesv
 * hands each factorisation to its threads (their wake-ups cost more system time than the
 * arithmetic). -1 when A is singular. */
static int solve_small(double *A, double *b, int n)
{
	int i, j, k;

	for (k = 0; k < n; k++) {
		int piv = k;
		for (i = k + 1; i < n; i++)
			if (fabs(A[i + (size_t)n * k]) > fabs(A[piv + (size_t)n * k]))
				piv = i;
		if (!(A[piv + (size_t)n * k] != 0))
			return -1;
		if (piv != k) {
			double t;
			for (j = k; j < n; j++) {
				t = A[k + (size_t)n * j];
				A[k + (size_t)n * j] = A[piv + (size_t)n * j];
				A[piv + (size_t)n * j] = t;
			}
			t = b[k];
			b[k] = b[piv];
			b[piv] = t;
		}
		for (i = k + 1; i < n; i++) {
			double l = A[i + (size_t)n * k] / A[k + (size_t)n * k];
			if (l == 0)
				continue;
			for (j = k + 1; j < n; j++)
				A[i + (size_t)n * j] -= l * A[k + (size_t)n * j];
			b[i] -= l * b[k];
		}
	}
	for (k = n - 1; k >= 0; k--) {
		double v = b[k];
		for (j = k + 1; j < n; j++)
			v -= A[k + (size_t)n * j] * b[j];
		b[k] = v / A[k + (size_t)n * k];
	}
	return 0;
}

/* The same covariance from the process's autocovariances, for a stationary AR part: the
 * state is a_t[i] = sum_{k>=i} phi_{k+1} y_{t-1-(k-i)} + theta_k e_{t-(k-i)} (theta_0 = 1),
 * so each entry is a sum over the nonzero coefficients of autocovariances gamma of y
 * (from the (p+1)-equation system of the ARMA recursion) and psi weights (the covariance
 * of y with a later shock). O(r^2) times the square of the nonzero coefficients, against
 * the doubling's O(r^3) per step: seasonal orders, with their few nonzero coefficients
 * among many states, are where the doubling was most of a fit. Unit shock variance, as
 * the doubling's. -1 when the AR part is not stationary (its partial autocorrelations by
 * the step-down recursion) or the system cannot be solved. */
static int q0_acov(const double *phi, int p, const double *theta, int q, double *P)
{
	int r = p > q + 1 ? p : q + 1, i, j, k, l, a, b, nf = 0, nt = 0,
	    ng = r > p + 1 ? r : p + 1;
	size_t np1 = (size_t)p + 1;
	double *buf = ts_calloc((size_t)ng * 2 + (size_t)r * 2 + np1 * np1 + 2 * (size_t)r,
				sizeof(double));
	double *g, *psi, *f, *t, *A, *c;
	int *kf, *kt, *sf, *st, rc = -1;

	if (!buf)
		return -1;
	g = buf;
	c = g + ng;
	psi = c + ng;
	f = psi + r;
	A = f + r;
	t = A + np1 * np1;
	kf = ts_malloc((size_t)(4 * r + 2) * sizeof(int));
	if (!kf) {
		free(buf);
		return -1;
	}
	kt = kf + r;
	sf = kt + r;
	st = sf + r + 1;
	/* stationary: every partial autocorrelation inside (-1, 1) */
	if (p > 400 || ar_pacf(p, phi, f) < 0)
		goto out;
	for (i = 0; i < r; i++) {
		f[i] = i < p ? phi[i] : 0.0;
		t[i] = i == 0 ? 1.0 : i - 1 < q ? theta[i - 1] : 0.0;
		if (f[i] != 0)
			kf[nf++] = i;
		if (t[i] != 0)
			kt[nt++] = i;
	}
	/* psi_j = theta_j + sum_i phi_i psi_{j-i} */
	for (j = 0; j < r; j++) {
		double v = t[j];
		for (k = 0; k < nf && kf[k] < j; k++)
			v += f[kf[k]] * psi[j - 1 - kf[k]];
		psi[j] = v;
	}
	/* c_k = sum_{j>=k} theta_j psi_{j-k}; gamma_k - sum_i phi_i gamma_|k-i| = c_k */
	for (k = 0; k < ng; k++) {
		double v = 0;
		for (j = k; j <= q && j < r; j++)
			v += t[j] * psi[j - k];
		c[k] = v;
	}
	for (k = 0; k <= p; k++) {
		A[(size_t)k + np1 * (size_t)k] += 1;
		for (l = 0; l < nf; l++) {
			int lag = kf[l] + 1, m = k - lag < 0 ? lag - k : k - lag;
			A[(size_t)k + np1 * (size_t)m] -= f[kf[l]];
		}
		g[k] = c[k];
	}
	if (solve_small(A, g, p + 1) < 0 || !(g[0] > 0) || !isfinite(g[0]))
		goto out;
	for (k = p + 1; k < ng; k++) {
		double v = c[k];
		for (l = 0; l < nf; l++)
			v += f[kf[l]] * g[k - 1 - kf[l]];
		g[k] = v;
	}
	/* sf[i], st[i]: the first nonzero phi, theta at a lag index of at least i */
	for (i = r, a = nf, b = nt; i >= 0; i--) {
		while (a > 0 && kf[a - 1] >= i)
			a--;
		while (b > 0 && kt[b - 1] >= i)
			b--;
		sf[i] = a;
		st[i] = b;
	}
	for (j = 0; j < r; j++)
		for (i = j; i < r; i++) {
			double v = 0;
			for (a = sf[i]; a < nf; a++) {
				int di = kf[a] - i;
				double fa = f[kf[a]], u = 0;
				/* phi phi: gamma at the lags' difference */
				for (b = sf[j]; b < nf; b++) {
					int dd = di - (kf[b] - j);
					u += f[kf[b]] * g[dd < 0 ? -dd : dd];
				}
				/* phi theta: y before a later shock */
				for (b = di + j + 1 < r ? st[di + j + 1] : nt; b < nt; b++)
					u += t[kt[b]] * psi[kt[b] - j - di - 1];
				v += fa * u;
			}
			for (a = st[i]; a < nt; a++) {
				int di = kt[a] - i;
				double ta = t[kt[a]], u = 0;
				for (b = sf[j]; b < nf && kf[b] - j < di; b++)
					u += f[kf[b]] * psi[di - (kf[b] - j) - 1];
				/* theta theta: the same shock */
				if (di + j < r)
					u += t[di + j];
				v += ta * u;
			}
			P[i + (size_t)r * j] = P[j + (size_t)r * i] = v;
		}
	rc = 0;
	for (i = 0; i < r; i++)
		if (!(P[i + (size_t)r * i] >= 0) || !isfinite(P[i + (size_t)r * i]))
			rc = -1;
out:
	free(kf);
	free(buf);
	return rc;
}

/* Everything an objective needs. */
struct work {
	const double *y;
	size_t n;
	const double *X; /* n x ncx */
	int ncx, narma, arma[7];
	int ncond, trans;
	const double *fixed; /* NULL: every parameter free */
	double *w;	     /* y - X beta */
	double *wd;	     /* w differenced with its observed lags */
	double *F, *R;	     /* phi and (1, theta) padded to r */
	double *phi, *theta, *delta;
	int np, nq, r, dl, rd;
	double *a, *P, *Pn, *anew, *M, *mm;
	double *resid;
	double *cw;	     /* css: the differenced w, then the residuals (2 n) */
	int cw_ready;	     /* cw holds the differenced w already (no regressors) */
	int cw_finite;	     /* every value of the differenced w is finite */
};

static void set_xb(struct work *wk, const double *par)
{
	size_t t;
	int j;

	for (t = 0; t < wk->n; t++) {
		double v = wk->y[t];
		for (j = 0; j < wk->ncx; j++)
			v -= wk->X[t + (size_t)j * wk->n] * par[wk->narma + j];
		wk->w[t] = v;
	}
}

/* The state's initial covariance for the current phi, theta. */
static int init_state(struct work *wk)
{
	int i, j, r = wk->r, rd = wk->rd;
	double *q0;

	memset(wk->Pn, 0, (size_t)rd * (size_t)rd * sizeof(double));
	memset(wk->a, 0, (size_t)rd * sizeof(double));
	if (!(q0 = ts_malloc((size_t)r * (size_t)r * sizeof(double) + sizeof(double) * (size_t)r * (r + 1))))
		return -1;
	if ((wk->np > 0 && r > 1 ? q0_acov(wk->phi, wk->np, wk->theta, wk->nq, q0) < 0 &&
					   q0_doubling(wk->phi, wk->np, wk->theta, wk->nq, q0) < 0 &&
					   get_q0(wk->phi, wk->np, wk->theta, wk->nq, q0) < 0
				 : get_q0(wk->phi, wk->np, wk->theta, wk->nq, q0) < 0)) {
		free(q0);
		return -1;
	}
	for (i = 0; i < r; i++)
		for (j = 0; j < r; j++)
			wk->Pn[i + (size_t)rd * j] = q0[i + (size_t)r * j];
	for (i = r; i < rd; i++)
		wk->Pn[i + (size_t)rd * i] = KAPPA;
	free(q0);
	return 0;
}

/* R's ARIMA_Like on wk->w from the initial state: the sum of squares, the log gains and
 * how many entered them. Leaves the filtered state in a, P. Once an update after the
 * first leaves P unchanged to the last bit, the covariances, gain and M of every later
 * step are the same, and only the state is updated. */
static void kalman_like(struct work *wk, double *ssq_out, double *sumlog_out, int *nu_out)
{
	int p = wk->np, q = wk->nq, r = wk->r, d = wk->dl, rd = wk->rd;
	const double *phi = wk->phi, *theta = wk->theta, *delta = wk->delta;
	double *a = wk->a, *P = wk->P, *Pnew = wk->Pn, *anew = wk->anew, *M = wk->M,
	       *mm = wk->mm;
	double ssq = 0, sumlog = 0, gain = 0;
	int nu = 0, i, j, k, steady = 0;
	size_t l;

	for (l = 0; l < wk->n; l++) {
		double resid0;
		for (i = 0; i < r; i++) {
			double tmp = i < r - 1 ? a[i + 1] : 0.0;
			if (i < p)
				tmp += phi[i] * a[0];
			anew[i] = tmp;
		}
		if (d > 0) {
			double tmp = a[0];
			for (i = r + 1; i < rd; i++)
				anew[i] = a[i - 1];
			for (i = 0; i < d; i++)
				tmp += delta[i] * a[r + i];
			anew[r] = tmp;
		}
		if (l > 0 && !steady) {
			if (d == 0) {
				for (i = 0; i < r; i++) {
					double vi = i == 0 ? 1.0 : i - 1 < q ? theta[i - 1] : 0.0;
					for (j = 0; j < r; j++) {
						double tmp = j == 0 ? vi : j - 1 < q ? vi * theta[j - 1] : 0.0;
						if (i < p && j < p)
							tmp += phi[i] * phi[j] * P[0];
						if (i < r - 1 && j < r - 1)
							tmp += P[i + 1 + r * (j + 1)];
						if (i < p && j < r - 1)
							tmp += phi[i] * P[j + 1];
						if (j < p && i < r - 1)
							tmp += phi[j] * P[i + 1];
						Pnew[i + r * j] = tmp;
					}
				}
			} else {
				/* mm = TP */
				for (i = 0; i < r; i++)
					for (j = 0; j < rd; j++) {
						double tmp = 0.0;
						if (i < p)
							tmp += phi[i] * P[rd * j];
						if (i < r - 1)
							tmp += P[i + 1 + rd * j];
						mm[i + rd * j] = tmp;
					}
				for (j = 0; j < rd; j++) {
					double tmp = P[rd * j];
					for (k = 0; k < d; k++)
						tmp += delta[k] * P[r + k + rd * j];
					mm[r + rd * j] = tmp;
				}
				for (i = 1; i < d; i++)
					for (j = 0; j < rd; j++)
						mm[r + i + rd * j] = P[r + i - 1 + rd * j];
				/* Pnew = mm T' */
				for (i = 0; i < r; i++)
					for (j = 0; j < rd; j++) {
						double tmp = 0.0;
						if (i < p)
							tmp += phi[i] * mm[j];
						if (i < r - 1)
							tmp += mm[rd * (i + 1) + j];
						Pnew[j + rd * i] = tmp;
					}
				for (j = 0; j < rd; j++) {
					double tmp = mm[j];
					for (k = 0; k < d; k++)
						tmp += delta[k] * mm[rd * (r + k) + j];
					Pnew[j + rd * r] = tmp;
				}
				for (i = 1; i < d; i++)
					for (j = 0; j < rd; j++)
						Pnew[j + rd * (r + i)] = mm[rd * (r + i - 1) + j];
				for (i = 0; i <= q; i++) {
					double vi = i == 0 ? 1. : theta[i - 1];
					for (j = 0; j <= q; j++)
						Pnew[i + rd * j] += vi * (j == 0 ? 1. : theta[j - 1]);
				}
			}
		}
		resid0 = wk->w[l] - anew[0];
		for (i = 0; i < d; i++)
			resid0 -= delta[i] * anew[r + i];
		if (!steady) {
			gain = Pnew[0];
			for (i = 0; i < d; i++)
				gain += 2 * delta[i] * Pnew[r + i];
			for (i = 0; i < d; i++)
				for (j = 0; j < d; j++)
					gain += delta[i] * delta[j] * Pnew[r + i + rd * (r + j)];
			for (i = 0; i < rd; i++) {
				double tmp = Pnew[i];
				for (k = 0; k < d; k++)
					tmp += Pnew[i + rd * (r + k)] * delta[k];
				M[i] = tmp;
			}
		}
		if (gain < 1e4) {
			nu++;
			ssq += resid0 * resid0 / gain;
			sumlog += log(gain);
		}
		if (wk->resid)
			wk->resid[l] = resid0 / sqrt(gain);
		for (i = 0; i < rd; i++)
			a[i] = anew[i] + M[i] * resid0 / gain;
		if (!steady) {
			int same = l > 0;
			for (i = 0; i < rd; i++)
				for (j = 0; j < rd; j++) {
					double v = Pnew[i + rd * j] - M[i] * M[j] / gain;
					same &= v == P[i + rd * j];
					P[i + rd * j] = v;
				}
			steady = same;
		}
	}
	*ssq_out = ssq;
	*sumlog_out = sumlog;
	*nu_out = nu;
}

/* The innovations of kalman_like, to rounding, at a fraction of its cost: the series is
 * differenced with its observed lags, and what the differences owe to values before the
 * start (a diffuse prior of variance KAPPA, as makeARIMA's) is carried by a static state
 * for the first dl steps only; from then on the filter has the ARMA part's r dimensions.
 * The covariance recursion does not depend on the data: once an update past the
 * pre-sample steps leaves the filtered covariance unchanged to the last bit, every later
 * step repeats the same gain, so only the state is updated from then on (the same
 * operations on the same values: the same result to the bit). */
static void kalman_like_fast(struct work *wk, double *ssq_out, double *sumlog_out, int *nu_out)
{
	int p = wk->np, q = wk->nq, r = wk->r, dl = wk->dl, rd = wk->rd, i, j, nu = 0;
	const double *delta = wk->delta;
	double *a = wk->a, *P = wk->P, *Pnew = wk->Pn, *anew = wk->anew, *M = wk->M;
	double *w = wk->wd, *F = wk->F, *R = wk->R, ssq = 0, sumlog = 0, gain0 = NAN;
	double prod = 1; /* the gains since the last log: a log every 32 steps, not each */
	size_t n = wk->n, l;
	int steady = 0, fz[64], nfz = 0, k, nprod = 0;

	/* only the lower triangles of P and Pnew are kept */
	for (i = 0; i < r; i++) {
		F[i] = i < p ? wk->phi[i] : 0.0;
		R[i] = i == 0 ? 1.0 : i - 1 < q ? wk->theta[i - 1] : 0.0;
	}
	/* the AR terms that are not zero, below the last row (seasonal orders have few) */
	for (i = 0; i < r - 1 && nfz >= 0; i++)
		if (F[i] != 0) {
			if (nfz == (int)(sizeof(fz) / sizeof(fz[0])))
				nfz = -1;
			else
				fz[nfz++] = i;
		}
	for (l = 0; l < n; l++) {
		double v = wk->w[l];
		for (i = 1; i <= dl && (size_t)i <= l; i++)
			v -= delta[i - 1] * wk->w[l - (size_t)i];
		w[l] = v;
	}
	for (l = 0; l < n; l++) {
		int S = l < (size_t)dl ? rd : r, same;
		double resid0, gain, rg;
		if (steady) {
			/* M and gain as the step before */
			double lg;
			gain = M[0];
			lg = log(gain);
			for (; l < n; l++) {
#pragma omp simd
				for (i = 0; i < r - 1; i++)
					anew[i] = a[i + 1] + F[i] * a[0];
				anew[r - 1] = F[r - 1] * a[0];
				resid0 = w[l] - anew[0];
				if (gain < 1e4) {
					nu++;
					ssq += resid0 * resid0 / gain;
					sumlog += lg;
				}
				rg = resid0 / gain;
#pragma omp simd
				for (i = 0; i < r; i++)
					a[i] = anew[i] + M[i] * rg;
			}
			break;
		}
		if (l > 0) {
			double P00 = P[0];
#pragma omp simd
			for (i = 0; i < r - 1; i++)
				anew[i] = a[i + 1] + F[i] * a[0];
			anew[r - 1] = F[r - 1] * a[0];
			for (i = r; i < S; i++)
				anew[i] = a[i];
			for (j = 0; j < r; j++) {
				double Rj = R[j], fj = F[j], pj1 = j < r - 1 ? P[j + 1] : 0.0;
				double *col = Pnew + (size_t)rd * j;
				const double *pc = P + (size_t)rd * (j + 1);
				if (Rj == 0 && fj == 0 && nfz >= 0) {
					/* the terms in Rj and fj are zeros: the shifted column plus
					 * the AR terms, the same sums without their zero terms */
					double cj = fj * P00 + pj1;
					if (j < r - 1)
						memcpy(col + j, pc + j + 1, (size_t)(r - 1 - j) * sizeof(double));
					for (k = 0; k < nfz; k++)
						if (fz[k] >= j)
							col[fz[k]] = F[fz[k]] * cj + pc[fz[k] + 1];
					col[r - 1] = R[r - 1] * Rj + F[r - 1] * cj;
					continue;
				}
#pragma omp simd
				for (i = j; i < r - 1; i++)
					col[i] = R[i] * Rj + F[i] * (fj * P00 + pj1) + pc[i + 1] + fj * P[i + 1];
				col[r - 1] = R[r - 1] * Rj + F[r - 1] * (fj * P00 + pj1);
			}
			/* the pre-sample block (rows r.., columns < r) and its own, static */
			for (j = 0; j < r && S > r; j++)
				for (i = r; i < S; i++)
					Pnew[i + (size_t)rd * j] =
					    F[j] * P[i] + (j < r - 1 ? P[i + (size_t)rd * (j + 1)] : 0.0);
			for (j = r; j < S; j++)
				for (i = j; i < S; i++)
					Pnew[i + (size_t)rd * j] = P[i + (size_t)rd * j];
		} else
			for (i = 0; i < S; i++)
				anew[i] = 0;
		/* observation: w_t = u_t + sum_j delta[l + j] xi_j for l + j < dl */
		resid0 = w[l] - anew[0];
		for (i = 0; i < S; i++)
			M[i] = Pnew[i];
		for (j = 0; l + (size_t)j < (size_t)dl; j++) {
			double c = delta[l + (size_t)j];
			int cj = r + j;
			if (c == 0)
				continue;
			resid0 -= c * anew[cj];
			for (i = 0; i < S; i++)
				M[i] += c * (i >= cj ? Pnew[i + (size_t)rd * cj] : Pnew[cj + (size_t)rd * i]);
		}
		gain = M[0];
		for (j = 0; l + (size_t)j < (size_t)dl; j++)
			gain += delta[l + (size_t)j] * M[r + j];
		if (gain < 1e4) {
			nu++;
			ssq += resid0 * resid0 / gain;
			prod *= gain;
			if (++nprod == 32 || !(prod < 1e200 && prod > 1e-200)) {
				sumlog += log(prod);
				prod = 1;
				nprod = 0;
			}
		}
		rg = resid0 / gain;
#pragma omp simd
		for (i = 0; i < S; i++)
			a[i] = anew[i] + M[i] * rg;
		/* an unchanged P gives the next step the same gain: look for one only then */
		same = l > (size_t)dl && gain == gain0;
		gain0 = gain;
		for (j = 0; j < S; j++) {
			double mj = M[j] / gain;
			double *pc = P + (size_t)rd * j;
			const double *nc = Pnew + (size_t)rd * j;
			if (!same) {
#pragma omp simd
				for (i = j; i < S; i++)
					pc[i] = nc[i] - M[i] * mj;
			} else
#pragma omp simd reduction(& : same)
				for (i = j; i < S; i++) {
					double v = nc[i] - M[i] * mj;
					same &= v == pc[i];
					pc[i] = v;
				}
		}
		steady = same;
	}
	*ssq_out = ssq;
	*sumlog_out = sumlog + log(prod);
	*nu_out = nu;
}

#define CSS_SPARSE 32 /* the most nonzero coefficients css takes lag by lag */

/* R's ARIMA_CSS on wk->w: the mean square of the conditional residuals. */
static double css(struct work *wk)
{
	size_t n = wk->n, l;
	double ssq = 0, *w = wk->cw, *res = wk->cw + n;
	int i, j, nu = 0, ns = wk->arma[4], pz[CSS_SPARSE], qz[CSS_SPARSE], npz = 0, nqz = 0;

	/* the differenced series, once for all evaluations when no regressor moves it */
	if (!wk->cw_ready) {
		memcpy(w, wk->w, n * sizeof(double));
		for (i = 0; i < wk->arma[5]; i++)
			for (l = n - 1; l > 0; l--)
				w[l] -= w[l - 1];
		for (i = 0; i < wk->arma[6]; i++)
			for (l = n - 1; l >= (size_t)ns; l--)
				w[l] -= w[l - (size_t)ns];
		wk->cw_finite = 1;
		for (l = 0; l < n; l++)
			if (!isfinite(w[l]))
				wk->cw_finite = 0;
		wk->cw_ready = wk->ncx == 0;
	}
	for (l = 0; l < (size_t)wk->ncond && l < n; l++)
		res[l] = 0;
	/* Seasonal orders leave most lags' coefficients zero. Where every value is finite
	 * a zero term leaves a sum as it was, so the lags with a coefficient are enough;
	 * when something overflows, the full sums again (a zero times infinity is NaN there) */
	for (j = 0; j < wk->np && npz >= 0; j++)
		if (wk->phi[j] != 0) {
			if (npz == CSS_SPARSE)
				npz = -1;
			else
				pz[npz++] = j;
		}
	for (j = 0; j < wk->nq && nqz >= 0; j++)
		if (wk->theta[j] != 0) {
			if (nqz == CSS_SPARSE)
				nqz = -1;
			else
				qz[nqz++] = j;
		}
	if (!wk->cw_finite)
		npz = -1;
	if (npz >= 0 && nqz >= 0) {
		for (l = (size_t)wk->ncond; l < n; l++) {
			double tmp = w[l];
			int lim = (int)(l - (size_t)wk->ncond) < wk->nq ? (int)(l - (size_t)wk->ncond)
									 : wk->nq;
			for (j = 0; j < npz; j++)
				tmp -= wk->phi[pz[j]] * w[l - (size_t)pz[j] - 1];
			for (j = 0; j < nqz && qz[j] < lim; j++)
				tmp -= wk->theta[qz[j]] * res[l - (size_t)qz[j] - 1];
			res[l] = tmp;
			if (!isfinite(tmp))
				break;
			nu++;
			ssq += tmp * tmp;
		}
		if (l == n)
			goto out;
		nu = 0;
		ssq = 0;
	}
	for (l = (size_t)wk->ncond; l < n; l++) {
		double tmp = w[l];
		int lim = (int)(l - (size_t)wk->ncond) < wk->nq ? (int)(l - (size_t)wk->ncond) : wk->nq;
		for (j = 0; j < wk->np; j++)
			tmp -= wk->phi[j] * w[l - (size_t)j - 1];
		for (j = 0; j < lim; j++)
			tmp -= wk->theta[j] * res[l - (size_t)j - 1];
		res[l] = tmp;
		if (!isnan(tmp)) {
			nu++;
			ssq += tmp * tmp;
		}
	}
out:
	if (wk->resid)
		memcpy(wk->resid, res, n * sizeof(double));
	return ssq / (double)nu;
}

/* The full parameter vector from the free ones. */
static void full_par(const struct work *wk, const double *free_par, double *par)
{
	int k = wk->narma + wk->ncx;
	memcpy(par, wk->fixed ? wk->fixed : free_par, (size_t)k * sizeof(double));
}

static double obj_css(const double *fp, struct work *wk)
{
	double par[800];

	full_par(wk, fp, par);
	trans_pars(wk->arma, par, 0, wk->phi, wk->theta);
	set_xb(wk, par);
	return 0.5 * log(css(wk));
}

static double obj_ml(const double *fp, struct work *wk)
{
	double par[800], ssq, sumlog, s2;
	int nu;

	full_par(wk, fp, par);
	trans_pars(wk->arma, par, wk->trans, wk->phi, wk->theta);
	if (init_state(wk) < 0)
		return DBL_MAX;
	set_xb(wk, par);
	kalman_like_fast(wk, &ssq, &sumlog, &nu);
	s2 = ssq / nu;
	return 0.5 * (log(s2) + sumlog / nu);
}

/* optim(method = "BFGS"): R's vmmin on par / parscale with central differences of step
 * 1e-3, maxit 100, reltol 1e-8. */
struct optim {
	struct work *wk;
	int css, n;
	const double *parscale;
	double *x; /* scratch: unscaled parameters */
};

static double fminfn(struct optim *o, const double *b)
{
	int i;
	for (i = 0; i < o->n; i++)
		o->x[i] = b[i] * o->parscale[i];
	return o->css ? obj_css(o->x, o->wk) : obj_ml(o->x, o->wk);
}

static int fmingr(struct optim *o, double *b, double *df)
{
	int i;
	for (i = 0; i < o->n; i++) {
		double keep = b[i], v1, v2;
		b[i] = keep + 1e-3;
		v1 = fminfn(o, b);
		b[i] = keep - 1e-3;
		v2 = fminfn(o, b);
		b[i] = keep;
		df[i] = (v1 - v2) / (2e-3);
		if (!isfinite(df[i]))
			return -1;
	}
	return 0;
}

#define STEPREDN 0.2
#define ACCTOL 0.0001
#define RELTEST 10.0

static int vmmin(struct optim *o, double *b, double *fmin, int maxit, int *fail)
{
	int n = o->n, i, j, count, funcount, gradcount, ilast, iter = 0, accpoint, enough;
	double *g, *t, *X, *c, *B, f, gradproj, s, steplength, D1, D2;
	/* optim's defaults: reltol sqrt(DBL_EPSILON), no absolute tolerance */
	const double reltol = 1.4901161193847656e-08, abstol = -INFINITY;

	if (maxit <= 0) {
		*fail = 0;
		*fmin = fminfn(o, b);
		return 0;
	}
	if (!(g = ts_malloc((size_t)(4 * n + n * n + 1) * sizeof(double))))
		return -1;
	t = g + n;
	X = t + n;
	c = X + n;
	B = c + n;
	f = fminfn(o, b);
	if (!isfinite(f)) {
		free(g);
		return -1;
	}
	*fmin = f;
	funcount = gradcount = 1;
	if (fmingr(o, b, g) < 0) {
		free(g);
		return -1;
	}
	iter++;
	ilast = gradcount;
	do {
		if (ilast == gradcount)
			for (i = 0; i < n; i++) {
				for (j = 0; j < i; j++)
					B[i * n + j] = 0.0;
				B[i * n + i] = 1.0;
			}
		for (i = 0; i < n; i++) {
			X[i] = b[i];
			c[i] = g[i];
		}
		gradproj = 0.0;
		for (i = 0; i < n; i++) {
			s = 0.0;
			for (j = 0; j <= i; j++)
				s -= B[i * n + j] * g[j];
			for (j = i + 1; j < n; j++)
				s -= B[j * n + i] * g[j];
			t[i] = s;
			gradproj += s * g[i];
		}
		if (gradproj < 0.0) {
			steplength = 1.0;
			accpoint = 0;
			do {
				count = 0;
				for (i = 0; i < n; i++) {
					b[i] = X[i] + steplength * t[i];
					if (RELTEST + X[i] == RELTEST + b[i])
						count++;
				}
				if (count < n) {
					f = fminfn(o, b);
					funcount++;
					accpoint = isfinite(f) && (f <= *fmin + gradproj * steplength * ACCTOL);
					if (!accpoint)
						steplength *= STEPREDN;
				}
			} while (!(count == n || accpoint));
			enough = (f > abstol) && fabs(f - *fmin) > reltol * (fabs(*fmin) + reltol);
			if (!enough) {
				count = n;
				*fmin = f;
			}
			if (count < n) {
				*fmin = f;
				if (fmingr(o, b, g) < 0) {
					free(g);
					return -1;
				}
				gradcount++;
				iter++;
				D1 = 0.0;
				for (i = 0; i < n; i++) {
					t[i] = steplength * t[i];
					c[i] = g[i] - c[i];
					D1 += t[i] * c[i];
				}
				if (D1 > 0) {
					D2 = 0.0;
					for (i = 0; i < n; i++) {
						s = 0.0;
						for (j = 0; j <= i; j++)
							s += B[i * n + j] * c[j];
						for (j = i + 1; j < n; j++)
							s += B[j * n + i] * c[j];
						X[i] = s;
						D2 += s * c[i];
					}
					D2 = 1.0 + D2 / D1;
					for (i = 0; i < n; i++)
						for (j = 0; j <= i; j++)
							B[i * n + j] +=
							    (D2 * t[i] * t[j] - X[i] * t[j] - t[i] * X[j]) / D1;
				} else
					ilast = gradcount;
			} else if (ilast < gradcount) {
				count = 0;
				ilast = gradcount;
			}
		} else {
			count = 0;
			if (ilast == gradcount)
				count = n;
			else
				ilast = gradcount;
		}
		if (iter >= maxit)
			break;
		if (gradcount - ilast > 2 * n)
			ilast = gradcount;
	} while (count != n || ilast != gradcount);
	(void)funcount;
	*fail = iter < maxit ? 0 : 1;
	free(g);
	return 0;
}

/* optim's Hessian (optimhess) at par (unscaled), n x n. */
static int optimhess(struct optim *o, const double *par, double *H)
{
	int n = o->n, i, j, rc = 0;
	double *dpar = ts_malloc((size_t)(3 * n) * sizeof(double)), *df1, *df2;

	if (!dpar)
		return -1;
	df1 = dpar + n;
	df2 = df1 + n;
	for (i = 0; i < n; i++)
		dpar[i] = par[i] / o->parscale[i];
	for (i = 0; i < n && rc == 0; i++) {
		double eps = 1e-3 / o->parscale[i], keep = dpar[i];
		dpar[i] = keep + eps;
		rc = fmingr(o, dpar, df1);
		dpar[i] = keep - eps;
		if (rc == 0)
			rc = fmingr(o, dpar, df2);
		for (j = 0; j < n && rc == 0; j++)
			H[i * n + j] = (df1[j] - df2[j]) / (2 * eps * o->parscale[i] * o->parscale[j]);
		dpar[i] = keep;
	}
	for (i = 0; i < n && rc == 0; i++)
		for (j = 0; j < i; j++) {
			double tmp = 0.5 * (H[i * n + j] + H[j * n + i]);
			H[i * n + j] = H[j * n + i] = tmp;
		}
	free(dpar);
	return rc;
}

/* The inverse of H * nused into Hi (R's solve: an error below reciprocal condition
 * DBL_EPSILON). */
static int solve_inverse(const double *H, int n, double nused, double *Hi)
{
	lapack_int *ipiv = ts_malloc((size_t)n * sizeof(lapack_int));
	double anorm = 0, rcond = 0;
	int i, j, rc;

	if (!ipiv)
		return -1;
	for (i = 0; i < n * n; i++)
		Hi[i] = H[i] * nused;
	for (j = 0; j < n; j++) {
		double s = 0;
		for (i = 0; i < n; i++)
			s += fabs(Hi[i + j * n]);
		if (s > anorm)
			anorm = s;
	}
	rc = LAPACKE_dgetrf(LAPACK_COL_MAJOR, n, n, Hi, n, ipiv);
	if (rc == 0)
		rc = LAPACKE_dgecon(LAPACK_COL_MAJOR, '1', n, Hi, n, anorm, &rcond);
	if (rc == 0 && !(rcond >= DBL_EPSILON))
		rc = 1;
	if (rc == 0)
		rc = LAPACKE_dgetri(LAPACK_COL_MAJOR, n, Hi, n, ipiv);
	free(ipiv);
	return rc == 0 ? 0 : -1;
}

/* R's ARIMA_Gradtrans: the Jacobian of the transformation at raw (n x n, A[i + j n]). */
static void grad_trans(const int *arma, const double *raw, int n, double *A)
{
	double w1[400], w2[400], w3[400], eps = 1e-3;
	int i, j, part;

	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++)
			A[i + j * n] = i == j;
	for (part = 0; part < 2; part++) {
		int mp = part ? arma[2] : arma[0], v = part ? arma[0] + arma[1] : 0;
		if (mp <= 0)
			continue;
		for (i = 0; i < mp; i++)
			w1[i] = raw[i + v];
		partrans(mp, w1, w2);
		for (i = 0; i < mp; i++) {
			w1[i] += eps;
			partrans(mp, w1, w3);
			for (j = 0; j < mp; j++)
				A[i + v + (j + v) * n] = (w3[j] - w2[j]) / eps;
			w1[i] -= eps;
		}
	}
}

int arima_ncx(const struct arima_spec *s)
{
	int j, k = (s->mean && s->d + s->D == 0) + (s->drift != 0) + s->next;

	for (j = 0; j < s->nfourier; j++)
		k += 2 * s->fourier_k[j];
	return k;
}

double arima_xreg(const struct arima_spec *s, int j, double t)
{
	int k;

	if (s->mean && s->d + s->D == 0) {
		if (j == 0)
			return 1;
		j--;
	}
	if (s->drift) {
		if (j == 0)
			return t;
		j--;
	}
	if (j < s->next)
		return s->xext[(size_t)s->xidx[j] * s->xld + (size_t)t - 1];
	j -= s->next;
	for (k = 0; k < s->nfourier; k++) {
		if (j < 2 * s->fourier_k[k]) {
			double w = 2 * M_PI * (double)(j / 2 + 1) * t / s->fourier_period[k];
			return j % 2 ? cos(w) : sin(w);
		}
		j -= 2 * s->fourier_k[k];
	}
	return 0;
}

/* Least squares of y on the columns of X (n x k): coefficients and their standard errors
 * as lm's summary; -1 when X'X is singular. */
static int ols(const double *y, const double *X, size_t n, int k, double *beta, double *se)
{
	double *G = ts_calloc((size_t)k * (size_t)k + (size_t)k, sizeof(double)), *b, rss = 0;
	size_t t;
	int i, j, rc;

	if (!G)
		return -1;
	b = G + (size_t)k * (size_t)k;
	for (i = 0; i < k; i++) {
		for (j = 0; j <= i; j++) {
			double s = 0;
			for (t = 0; t < n; t++)
				s += X[t + (size_t)i * n] * X[t + (size_t)j * n];
			G[i + j * k] = G[j + i * k] = s;
		}
		for (t = 0; t < n; t++)
			b[i] += X[t + (size_t)i * n] * y[t];
	}
	rc = LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', k, G, k);
	if (rc == 0)
		rc = LAPACKE_dpotrs(LAPACK_COL_MAJOR, 'L', k, 1, G, k, b, k);
	if (rc == 0)
		rc = LAPACKE_dpotri(LAPACK_COL_MAJOR, 'L', k, G, k);
	if (rc != 0) {
		free(G);
		return -1;
	}
	for (t = 0; t < n; t++) {
		double r = y[t];
		for (j = 0; j < k; j++)
			r -= X[t + (size_t)j * n] * b[j];
		rss += r * r;
	}
	for (i = 0; i < k; i++) {
		beta[i] = b[i];
		se[i] = sqrt(G[i + i * k] * rss / (double)((long)n - k));
	}
	free(G);
	return 0;
}

/* Difference x (n values, k columns) in place: lag-1 d times then lag-m D times; the
 * new length. */
static size_t difference(double *x, size_t n, int k, size_t stride, int d, int m, int D)
{
	size_t len = n, t;
	int c, i;

	for (i = 0; i < d + D; i++) {
		size_t lag = i < d ? 1 : (size_t)m;
		if (len <= lag)
			return 0;
		for (c = 0; c < k; c++) {
			double *v = x + (size_t)c * stride;
			for (t = 0; t + lag < len; t++)
				v[t] = v[t + lag] - v[t];
		}
		len -= lag;
	}
	return len;
}

void arima_fit_release(struct arima_fit *f)
{
	free(f->tcoef);
	free(f->coef);
	free(f->resid);
	free(f->phi);
	memset(f, 0, sizeof(*f));
}

static int work_alloc(struct work *wk, const struct arima_spec *s)
{
	int i, j, dl = s->d + s->D * s->m;
	double *delta;
	size_t rd2;

	wk->np = s->p + s->m * s->P;
	wk->nq = s->q + s->m * s->Q;
	wk->r = wk->np > wk->nq + 1 ? wk->np : wk->nq + 1;
	wk->dl = dl;
	wk->rd = wk->r + dl;
	rd2 = (size_t)wk->rd * (size_t)wk->rd;
	wk->phi = ts_calloc((size_t)(wk->np + wk->nq + dl + 1 + 3 * wk->rd) + 3 * rd2 +
				    4 * wk->n + 2 * (size_t)wk->r,
			    sizeof(double));
	if (!wk->phi)
		return -1;
	wk->theta = wk->phi + wk->np;
	wk->delta = wk->theta + wk->nq;
	wk->a = wk->delta + dl + 1;
	wk->anew = wk->a + wk->rd;
	wk->M = wk->anew + wk->rd;
	wk->P = wk->M + wk->rd;
	wk->Pn = wk->P + rd2;
	wk->mm = wk->Pn + rd2;
	wk->w = wk->mm + rd2;
	wk->wd = wk->w + wk->n;
	wk->F = wk->wd + wk->n;
	wk->R = wk->F + wk->r;
	wk->cw = wk->R + wk->r;
	/* Delta: the coefficients of (1 - B)^d (1 - B^m)^D after the leading 1, negated. */
	delta = ts_calloc((size_t)dl + 1, sizeof(double));
	if (!delta)
		return -1;
	delta[0] = 1;
	for (i = 0; i < s->d + s->D; i++) {
		int lag = i < s->d ? 1 : s->m;
		for (j = dl; j >= lag; j--)
			delta[j] -= delta[j - lag];
	}
	for (i = 0; i < dl; i++)
		wk->delta[i] = -delta[i + 1];
	free(delta);
	return 0;
}

/* The objective's work for spec s on y[0..n) and the scratch of a fit: X (n x ncx, the
 * regressors) followed by 5 (k + 1) + 3 k^2 + n + 1 values. -1 when out of memory. */
static int work_setup(struct work *wk, const double *y, size_t n, const struct arima_spec *s,
		      double **X)
{
	int narma = s->p + s->q + s->P + s->Q, ncx = arima_ncx(s), k = narma + ncx, i;
	size_t t;

	memset(wk, 0, sizeof(*wk));
	*X = NULL;
	wk->y = y;
	wk->n = n;
	wk->ncx = ncx;
	wk->narma = narma;
	wk->arma[0] = s->p;
	wk->arma[1] = s->q;
	wk->arma[2] = s->P;
	wk->arma[3] = s->Q;
	wk->arma[4] = s->m;
	wk->arma[5] = s->d;
	wk->arma[6] = s->D;
	if (work_alloc(wk, s) < 0)
		return -1;
	*X = ts_calloc((size_t)ncx * n + 5 * (size_t)(k + 1) + 3 * (size_t)k * (size_t)k + n + 1,
		    sizeof(double));
	if (!*X)
		return -1;
	for (i = 0; i < ncx; i++)
		for (t = 0; t < n; t++)
			(*X)[t + (size_t)i * n] = arima_xreg(s, i, (double)(t + 1));
	wk->X = *X;
	return 0;
}

/* What R's arima computes after a maximum-likelihood fit at coef (transformed): the
 * Hessian, its inverse and the coefficients' variance A' Hi A. 1 when its diagonal is
 * finite and nonnegative, 0 when not, -1 when the Hessian cannot be inverted (R stops). */
static int ml_var_ok(struct optim *o, const double *coef, int k, double nused, double *H,
		     double *Hi, double *A)
{
	int i, ok = 1;

	if (optimhess(o, coef, H) < 0 || solve_inverse(H, k, nused, Hi) < 0)
		return -1;
	grad_trans(o->wk->arma, coef, k, A);
	for (i = 0; i < k; i++) {
		double v = 0;
		int a2, b2;
		for (a2 = 0; a2 < k; a2++)
			for (b2 = 0; b2 < k; b2++)
				v += A[a2 + i * k] * Hi[a2 + b2 * k] * A[b2 + i * k];
		if (!(v >= 0))
			ok = 0;
	}
	return ok;
}

/* R's arima fits several regressors (external ones with an intercept, a drift or each
 * other) in the coordinates of their singular vectors: X becomes X V (X = U S V'), which
 * changes the optimiser's path, not the optimum. VT (ncx x ncx, V') receives the rotation.
 * Only where external regressors are (the other terms keep their own coordinates here).
 * 0, 1 when rotated, -1 when out of memory or the SVD fails. */
static int xreg_rotate(const struct arima_spec *s, double *X, size_t n, int ncx, double *VT)
{
	double *A, *sv, *row;
	size_t t;
	int i, j, rc;

	if (s->next < 1 || ncx < 2 || n < (size_t)ncx)
		return 0;
	A = ts_malloc(((size_t)ncx * n + 3 * (size_t)ncx) * sizeof(double));
	if (!A)
		return -1;
	sv = A + (size_t)ncx * n;
	row = sv + ncx;
	memcpy(A, X, (size_t)ncx * n * sizeof(double));
	rc = LAPACKE_dgesvd(LAPACK_COL_MAJOR, 'N', 'A', (lapack_int)n, ncx, A, (lapack_int)n, sv,
			    NULL, 1, VT, ncx, row + ncx);
	if (rc != 0) {
		free(A);
		return -1;
	}
	for (t = 0; t < n; t++) {
		for (j = 0; j < ncx; j++) {
			double v = 0;
			for (i = 0; i < ncx; i++)
				v += X[t + (size_t)i * n] * VT[j + (size_t)i * ncx];
			row[j] = v;
		}
		for (j = 0; j < ncx; j++)
			X[t + (size_t)j * n] = row[j];
	}
	free(A);
	return 1;
}

int arima_fit_var(struct arima_fit *f, const double *y)
{
	struct work wk;
	struct optim o;
	int k = f->narma + f->ncx, rc = -1;
	double *X = NULL, *H, *Hi, *A;

	if (f->var_ok >= 0)
		return 0;
	if (work_setup(&wk, y, f->n, &f->s, &X) < 0)
		goto done;
	if (wk.ncx > 1 && f->s.next > 0) {
		/* the rotation the fit made (tcoef are in its coordinates) */
		double *VT = ts_malloc((size_t)wk.ncx * (size_t)wk.ncx * sizeof(double));
		int r = VT ? xreg_rotate(&f->s, X, f->n, wk.ncx, VT) : -1;
		free(VT);
		if (r < 0)
			goto done;
	}
	H = X + (size_t)wk.ncx * f->n;
	Hi = H + (size_t)k * (size_t)k;
	A = Hi + (size_t)k * (size_t)k;
	wk.trans = 1;
	o.wk = &wk;
	o.css = 0;
	o.n = k;
	o.parscale = f->tcoef + k;
	o.x = A + (size_t)k * (size_t)k;
	rc = ml_var_ok(&o, f->tcoef, k, (double)f->n - wk.dl, H, Hi, A);
	if (rc >= 0) {
		f->var_ok = rc;
		rc = 0;
	}
done:
	free(wk.phi);
	free(X);
	return rc;
}

int arima_fit(struct arima_fit *out, const double *y, size_t n, const struct arima_spec *s,
	      enum arima_method method, const double *fixed)
{
	return arima_fit_defer(out, y, n, s, method, fixed, 0);
}

static int fit_spec(struct arima_fit *out, const double *y, size_t n,
		    const struct arima_spec *s, enum arima_method method, const double *fixed,
		    const double *start, int defer_var)
{
	struct work wk;
	struct optim o;
	int narma = s->p + s->q + s->P + s->Q, ncx = arima_ncx(s), k = narma + ncx, i, fail = 0,
	    rc = -1, trans = 1;
	double *VT = NULL;
	int rot = 0;
	double *X = NULL, *init = NULL, *parscale, *coef, *H = NULL, *Hi = NULL, *A = NULL,
	       *tmp, value = 0, nused;

	memset(out, 0, sizeof(*out));
	memset(&wk, 0, sizeof(wk));
	if (k > 300 || n < 2)
		return -1;
	if (work_setup(&wk, y, n, s, &X) < 0)
		goto done;
	if (!fixed && ncx > 1 && s->next > 0) {
		if (!(VT = ts_malloc((size_t)ncx * (size_t)ncx * sizeof(double))) ||
		    (rot = xreg_rotate(s, X, n, ncx, VT)) < 0)
			goto done;
	}
	nused = (double)n - wk.dl;
	if (nused <= 0)
		goto done;
	init = X + (size_t)ncx * n;
	parscale = init + k + 1;
	coef = parscale + k + 1;
	tmp = coef + k + 1;
	H = tmp + k + 1;
	Hi = H + (size_t)k * (size_t)k;
	A = Hi + (size_t)k * (size_t)k;
	for (i = 0; i < narma; i++)
		parscale[i] = 1;
	if (fixed) {
		/* nothing to estimate: the likelihood at the given values */
		memcpy(coef, fixed, (size_t)k * sizeof(double));
		wk.fixed = coef;
		value = obj_ml(coef, &wk);
		wk.fixed = NULL;
		out->var_ok = 1;
		method = ARIMA_ML;
		goto final;
	}
	if (ncx) {
		double *dx = ts_malloc((size_t)(ncx + 1) * n * sizeof(double));
		size_t len;
		if (!dx)
			goto done;
		memcpy(dx, y, n * sizeof(double));
		memcpy(dx + n, X, (size_t)ncx * n * sizeof(double));
		len = difference(dx, n, ncx + 1, n, s->d, s->m, s->D);
		/* the differenced columns are packed with stride n; move them together */
		for (i = 1; i <= ncx && len; i++)
			memmove(dx + (size_t)i * len, dx + (size_t)i * n, len * sizeof(double));
		if (len <= (size_t)ncx || ols(dx, dx + len, len, ncx, init + narma, parscale + narma) < 0) {
			if (ols(y, X, n, ncx, init + narma, parscale + narma) < 0) {
				free(dx);
				goto done;
			}
		}
		free(dx);
		for (i = 0; i < ncx; i++) {
			parscale[narma + i] *= 10;
			if (!(parscale[narma + i] > 0) || !isfinite(parscale[narma + i]))
				goto done;
		}
	}
	wk.ncond = 0;
	o.wk = &wk;
	o.n = k;
	o.parscale = parscale;
	o.x = tmp;
	if (start && !rot && method == ARIMA_CSS_ML) {
		/* maximum likelihood from the given coefficients, without the CSS step */
		memcpy(init, start, (size_t)k * sizeof(double));
		method = ARIMA_ML;
	}
	if (method != ARIMA_ML) {
		wk.ncond = s->d + s->D * s->m + s->p + s->m * s->P;
		if ((size_t)wk.ncond >= n)
			goto done;
		o.css = 1;
		for (i = 0; i < k; i++)
			init[i] /= parscale[i];
		if (k && vmmin(&o, init, &value, 100, &fail) < 0)
			goto done;
		for (i = 0; i < k; i++)
			init[i] *= parscale[i];
		if (!k)
			value = obj_css(init, &wk);
		if (method == ARIMA_CSS) {
			if (k && (optimhess(&o, init, H) < 0 || solve_inverse(H, k, nused, Hi) < 0))
				goto done;
			out->var_ok = 1;
			for (i = 0; i < k; i++)
				if (!(Hi[i + i * k] >= 0))
					out->var_ok = 0;
			memcpy(coef, init, (size_t)k * sizeof(double));
			trans = 0;
			goto final;
		}
		if (s->p && !ar_check(init, s->p))
			goto done;
		if (s->P && !ar_check(init + s->p + s->q, s->P))
			goto done;
		wk.ncond = 0;
	}
	/* ML */
	o.css = 0;
	wk.trans = trans = k > 0;
	if (trans) {
		inv_trans(wk.arma, init, coef, k);
		memcpy(init, coef, (size_t)k * sizeof(double));
		if (s->q)
			ma_invert(init + s->p, s->q);
		if (s->Q)
			ma_invert(init + s->p + s->q + s->P, s->Q);
	}
	for (i = 0; i < k; i++)
		init[i] /= parscale[i];
	if (k) {
		if (vmmin(&o, init, &value, 100, &fail) < 0)
			goto done;
	} else
		value = obj_ml(init, &wk);
	for (i = 0; i < k; i++)
		coef[i] = init[i] * parscale[i];
	if (trans) {
		int changed = 0;
		memcpy(tmp, coef, (size_t)k * sizeof(double));
		if (s->q)
			ma_invert(coef + s->p, s->q);
		if (s->Q)
			ma_invert(coef + s->p + s->q + s->P, s->Q);
		for (i = 0; i < k; i++)
			if (coef[i] != tmp[i])
				changed = 1;
		if (changed) {
			for (i = 0; i < k; i++)
				init[i] = coef[i] / parscale[i];
			value = fminfn(&o, init);
		}
		if (defer_var & ARIMA_DEFER_VAR) {
			/* arima_fit_var computes it later, from the same values */
			if (!(out->tcoef = ts_malloc(2 * (size_t)k * sizeof(double))))
				goto done;
			memcpy(out->tcoef, coef, (size_t)k * sizeof(double));
			memcpy(out->tcoef + k, parscale, (size_t)k * sizeof(double));
			out->var_ok = -1;
		} else if ((out->var_ok = ml_var_ok(&o, coef, k, nused, H, Hi, A)) < 0)
			goto done;
		memcpy(tmp, coef, (size_t)k * sizeof(double));
		undo_pars(wk.arma, tmp, coef, k);
	} else
		out->var_ok = 1;
final:
	out->s = *s;
	out->method = method;
	out->narma = narma;
	out->ncx = ncx;
	out->n = n;
	if (!(out->coef = ts_malloc((size_t)(k + 1) * sizeof(double))) ||
	    !(out->resid = ts_malloc(n * sizeof(double))))
		goto done;
	memcpy(out->coef, coef, (size_t)k * sizeof(double));
	trans_pars(wk.arma, coef, 0, wk.phi, wk.theta);
	set_xb(&wk, coef);
	wk.resid = out->resid;
	if (method == ARIMA_CSS) {
		wk.ncond = s->d + s->D * s->m + s->p + s->m * s->P;
		out->sigma2 = css(&wk);
		out->loglik = NAN;
		out->aic = NAN;
		wk.resid = NULL;
		if (init_state(&wk) < 0)
			goto done;
		if (!(defer_var & ARIMA_NO_STATE)) {
			double ssq, sumlog;
			int nu;
			double *keep = ts_malloc(n * sizeof(double));
			if (!keep)
				goto done;
			wk.resid = keep;
			kalman_like(&wk, &ssq, &sumlog, &nu);
			free(keep);
			out->filtered = 1;
		}
	} else {
		double ssq, sumlog, v;
		int nu;
		if (init_state(&wk) < 0)
			goto done;
		kalman_like(&wk, &ssq, &sumlog, &nu);
		out->filtered = 1;
		out->sigma2 = ssq / nused;
		v = 2 * nused * value + nused + nused * log(2 * M_PI);
		out->loglik = -0.5 * v;
		out->aic = v + 2 * k + 2;
	}
	(void)fail;
	/* keep the filtered state */
	out->np = wk.np;
	out->nq = wk.nq;
	out->r = wk.r;
	out->dl = wk.dl;
	out->rd = wk.rd;
	out->phi = wk.phi;
	out->theta = wk.theta;
	out->delta = wk.delta;
	out->a = wk.a;
	out->P = wk.P;
	wk.phi = NULL;
	if (rot == 1) {
		/* back to the regressors' own coordinates: beta = V c */
		double *c = out->coef + narma, *b = tmp;
		for (i = 0; i < ncx; i++) {
			int j;
			b[i] = 0;
			for (j = 0; j < ncx; j++)
				b[i] += VT[j + (size_t)i * (size_t)ncx] * c[j];
		}
		memcpy(c, b, (size_t)ncx * sizeof(double));
	}
	rc = 0;
done:
	free(VT);
	free(wk.phi);
	free(X);
	if (rc < 0)
		arima_fit_release(out);
	return rc;
}

int arima_fit_defer(struct arima_fit *out, const double *y, size_t n,
		    const struct arima_spec *s, enum arima_method method, const double *fixed,
		    int defer_var)
{
	return fit_spec(out, y, n, s, method, fixed, NULL, defer_var);
}

int arima_fit_from(struct arima_fit *out, const double *y, size_t n, const struct arima_spec *s,
		   const double *start)
{
	return fit_spec(out, y, n, s, ARIMA_CSS_ML, NULL, start, 1);
}

/* R's KalmanForecast from the filtered state: T, Z, V built as makeARIMA. */
int arima_forecast(const struct arima_fit *f, int h, double *mean, double *se2)
{
	int m = f->rd, r = f->r, i, j, k, l;
	size_t m2 = (size_t)m * (size_t)m;
	double *T = ts_calloc(5 * m2 + 3 * (size_t)m, sizeof(double)), *V, *P, *Pnew, *mm, *a,
	       *anew, *Z;

	if (!T)
		return -1;
	V = T + m2;
	P = V + m2;
	Pnew = P + m2;
	mm = Pnew + m2;
	a = mm + m2;
	anew = a + m;
	Z = anew + m;
	for (i = 0; i < f->np; i++)
		T[i] = f->phi[i];
	for (i = 1; i < r; i++)
		T[(i - 1) + (size_t)m * i] = 1;
	Z[0] = 1;
	for (i = 0; i < f->dl; i++)
		Z[r + i] = f->delta[i];
	if (f->dl > 0) {
		for (j = 0; j < m; j++)
			T[r + (size_t)m * j] = Z[j];
		for (i = 1; i < f->dl; i++)
			T[r + i + (size_t)m * (r + i - 1)] = 1;
	}
	for (i = 0; i < r; i++)
		for (j = 0; j < r; j++) {
			double ri = i == 0 ? 1 : i - 1 < f->nq ? f->theta[i - 1] : 0;
			double rj = j == 0 ? 1 : j - 1 < f->nq ? f->theta[j - 1] : 0;
			V[i + (size_t)m * j] = ri * rj;
		}
	memcpy(a, f->a, (size_t)m * sizeof(double));
	memcpy(P, f->P, m2 * sizeof(double));
	for (l = 0; l < h; l++) {
		double fc = 0, tmp = 0;
		for (i = 0; i < m; i++) {
			double s = 0;
			for (k = 0; k < m; k++)
				s += T[i + (size_t)m * k] * a[k];
			anew[i] = s;
			fc += s * Z[i];
		}
		memcpy(a, anew, (size_t)m * sizeof(double));
		mean[l] = fc;
		for (i = 0; i < m; i++)
			for (j = 0; j < m; j++) {
				double s = 0;
				for (k = 0; k < m; k++)
					s += T[i + (size_t)m * k] * P[k + (size_t)m * j];
				mm[i + (size_t)m * j] = s;
			}
		for (i = 0; i < m; i++)
			for (j = 0; j < m; j++) {
				double s = V[i + (size_t)m * j];
				for (k = 0; k < m; k++)
					s += mm[i + (size_t)m * k] * T[j + (size_t)m * k];
				Pnew[i + (size_t)m * j] = s;
			}
		for (i = 0; i < m; i++)
			for (j = 0; j < m; j++) {
				P[i + (size_t)m * j] = Pnew[i + (size_t)m * j];
				tmp += Z[i] * Z[j] * P[i + (size_t)m * j];
			}
		se2[l] = tmp;
	}
	for (l = 0; l < h; l++) {
		double xm = 0;
		for (j = 0; j < f->ncx; j++)
			xm += arima_xreg(&f->s, j, (double)(f->n + (size_t)l + 1)) * f->coef[f->narma + j];
		mean[l] += xm;
	}
	free(T);
	return 0;
}
