/* Exponential smoothing state space models (ETS), as R's forecast::ets (8.x) fits and
 * selects them: the Hyndman-Khandakar framework, with additive or multiplicative errors,
 * none, additive or damped additive trend, none, additive or multiplicative season; initial
 * states from a classical decomposition, parameters and initial states fitted together by
 * Nelder-Mead on the likelihood within the "both" bounds (the usual region intersected with
 * the admissible one), the model chosen by AICc, and the analytic forecast variances of the
 * three classes R has them for. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ets.h"
#include "method.h"
#include "ml/stats.h"
#include "ts_alloc.h"

#define TOL 1e-10
#define HUGEN 1e10
#define NM_BIG 1.0e35

/* The forecast from state x, one to h steps ahead (f[0..h)). */
static void ets_path(const double *x, int m, int trend, int season, double phi, double *f,
		     int h)
{
	double l = x[0], b = trend ? x[1] : 0, phistar = phi;
	const double *s = x + 1 + (trend != ETS_N);
	int i, j;

	for (i = 0; i < h; i++) {
		f[i] = trend == ETS_N ? l : l + phistar * b;
		j = m - 1 - i;
		while (j < 0)
			j += m;
		if (season == ETS_A)
			f[i] += s[j];
		else if (season == ETS_M)
			f[i] *= s[j];
		if (i < h - 1)
			phistar += fabs(phi - 1.0) < TOL ? 1.0 : pow(phi, (double)(i + 1));
	}
}

/* One step of the level and trend (x[0], x[1]) with observation y, given the seasonal
 * state of m steps ago; returns the new seasonal state (0 without a season). */
static inline double ets_step(double *x, int trend, int season, double alpha, double beta,
			      double gamma, double phi, double y, double olds_last)
{
	double oldl = x[0], oldb = trend ? x[1] : 0, q, phib, p, l, t;

	if (trend == ETS_N) {
		q = oldl;
		phib = 0;
	} else {
		phib = phi * oldb;
		q = oldl + phib;
	}
	if (season == ETS_N)
		p = y;
	else if (season == ETS_A)
		p = y - olds_last;
	else
		p = fabs(olds_last) < TOL ? HUGEN : y / olds_last;
	l = q + alpha * (p - q);
	x[0] = l;
	if (trend != ETS_N)
		x[1] = phib + (beta / alpha) * ((l - oldl) - phib);
	if (season == ETS_N)
		return 0;
	if (season == ETS_A)
		t = y - q;
	else
		t = fabs(q) < TOL ? HUGEN : y / q;
	return olds_last + gamma * (t - olds_last);
}

/* One step of the state update with observation y; x becomes the new state. */
static void ets_update(double *x, int m, int trend, int season, double alpha, double beta,
		       double gamma, double phi, double y)
{
	double *s = x + 1 + (trend != ETS_N), olds_last = season ? s[m - 1] : 0,
	       snew = ets_step(x, trend, season, alpha, beta, gamma, phi, y, olds_last);
	int j;

	if (season != ETS_N) {
		for (j = m - 1; j > 0; j--)
			s[j] = s[j - 1];
		s[0] = snew;
	}
}

/* Run the filter over y from state x (changed to the final state): -2 log likelihood up
 * to a constant as R's etscalc computes it, the one-step mean square error and, when e is
 * not NULL, the residuals. Returns NAN when the filter breaks down. */
static inline __attribute__((always_inline)) double
ets_filter_k(const double *y, size_t n, double *x, int m, int error, int trend, int season,
	     double alpha, double beta, double gamma, double phi, double *e, double *mse)
{
	double sse = 0, lik2 = 0, se = 0, f, prod = 1; /* prod: the |f| since the last log */
	/* the seasonal states as a ring, the oldest at o: each step replaces the oldest by the
	 * newest instead of shifting all (the same values as ets_update's) */
	double buf[32], *ring = buf, *s = x + 1 + (trend != ETS_N);
	int o = m - 1, j;
	size_t i;

	if (season != ETS_N) {
		if (m > 32 && !(ring = ts_malloc((size_t)m * sizeof(double))))
			return NAN;
		memcpy(ring, s, (size_t)m * sizeof(double));
	}
	for (i = 0; i < n; i++) {
		double r, so = season != ETS_N ? ring[o] : 0;
		f = trend == ETS_N ? x[0] : x[0] + phi * x[1];
		if (season == ETS_A)
			f += so;
		else if (season == ETS_M)
			f *= so;
		r = error == ETS_A ? y[i] - f : (y[i] - f) / f;
		if (e)
			e[i] = r;
		se += (y[i] - f) * (y[i] - f);
		sse += r * r;
		if (error == ETS_M) {
			/* a log when the product leaves [1e-100, 1e100], not at every step */
			double af = fabs(f);
			if (af > 1e-100 && af < 1e100) {
				prod *= af;
				if (!(prod < 1e100 && prod > 1e-100)) {
					lik2 += log(prod);
					prod = 1;
				}
			} else
				lik2 += log(af);
		}
		so = ets_step(x, trend, season, alpha, beta, gamma, phi, y[i], so);
		if (season != ETS_N) {
			ring[o] = so;
			o = o == 0 ? m - 1 : o - 1;
		}
	}
	for (j = 0; season != ETS_N && j < m; j++)
		s[j] = ring[(o + 1 + j) % m];
	if (ring != buf)
		free(ring);
	*mse = se / (double)n;
	f = (double)n * log(sse);
	if (error == ETS_M)
		f += 2 * (lik2 + log(prod));
	return f;
}

/* ets_filter_k compiled for each model's components: the loop then holds no test of
 * them (the same operations). */
static double ets_filter(const double *y, size_t n, double *x, int m, int error, int trend,
			 int season, double alpha, double beta, double gamma, double phi,
			 double *e, double *mse)
{
#define K(E, T, S)                                                                          \
	case (E) * 9 + (T) * 3 + (S):                                                         \
		return ets_filter_k(y, n, x, m, E, T, S, alpha, beta, gamma, phi, e, mse)
#define K3(E, T)                                                                            \
	K(E, T, ETS_N);                                                                     \
	K(E, T, ETS_A);                                                                     \
	K(E, T, ETS_M)
	switch (error * 9 + trend * 3 + season) {
		K3(ETS_A, ETS_N);
		K3(ETS_A, ETS_A);
		K3(ETS_M, ETS_N);
		K3(ETS_M, ETS_A);
	default:
		return ets_filter_k(y, n, x, m, error, trend, season, alpha, beta, gamma, phi, e,
				    mse);
	}
#undef K3
#undef K
}

/* Whether all roots of the polynomial c[0] + c[1] z + ... + c[d] z^d lie in the closed unit
 * disc (with R's slack of 1e-10), by the Schur-Cohn step-down. */
static int roots_inside(const double *c0, int d)
{
	double a[ETS_MAX_STATE + 2], b[ETS_MAX_STATE + 2];
	int k, j;

	memcpy(a, c0, (size_t)(d + 1) * sizeof(double));
	for (k = d; k >= 1; k--) {
		double an = a[k], a0 = a[0];
		if (!(fabs(a0) <= fabs(an) * (1 + 1e-9)))
			return 0;
		for (j = 1; j <= k; j++)
			b[j - 1] = an * a[j] - a0 * a[k - j];
		memcpy(a, b, (size_t)k * sizeof(double));
		if (a[k - 1] == 0)
			return 1; /* on the circle: R's tolerance takes it */
	}
	return 1;
}

/* R's admissible() for the parameters that are present. */
static int admissible(double alpha, double beta, int has_beta, double gamma, int has_gamma,
		      double phi, int m)
{
	if (phi < 0 || phi > 1 + 1e-8)
		return 0;
	if (!has_gamma) {
		if (alpha < 1 - 1 / phi || alpha > 1 + 1 / phi)
			return 0;
		if (has_beta && (beta < alpha * (phi - 1) || beta > (1 + phi) * (2 - alpha)))
			return 0;
	} else if (m > 1) {
		double P[ETS_MAX_STATE + 2];
		int j;
		if (!has_beta)
			beta = 0;
		if (gamma < fmax(1 - 1 / phi - alpha, 0) || gamma > 1 + 1 / phi - alpha)
			return 0;
		if (alpha < 1 - 1 / phi - gamma * (1 - m + phi + phi * m) / (2 * phi * m))
			return 0;
		if (beta < -(1 - phi) * (gamma / m + alpha))
			return 0;
		P[0] = phi * (1 - alpha - gamma);
		P[1] = alpha + beta - alpha * phi + gamma - 1;
		for (j = 2; j < m; j++)
			P[j] = alpha + beta - alpha * phi;
		P[m] = alpha + beta - phi;
		P[m + 1] = 1;
		if (!roots_inside(P, m + 1))
			return 0;
	}
	return 1;
}

static const double LOWER[4] = {1e-4, 1e-4, 1e-4, 0.8}, UPPER[4] = {0.9999, 0.9999, 0.9999, 0.98};

/* What the objective needs. */
struct ets_job {
	const double *y;
	size_t n;
	int m, error, trend, season, damped, opt;
	int npar; /* smoothing parameters first, then nstate - (season != N) initial states */
	int nstate;
	double *work;
};

/* Unpack p into the parameters and the full initial state; 0 when out of bounds. */
static int unpack(const struct ets_job *j, const double *p, double *alpha, double *beta,
		  double *gamma, double *phi, double *x)
{
	int k = 0, i, first;
	double sum = 0;

	*alpha = p[k++];
	*beta = j->trend ? p[k++] : 0;
	*gamma = j->season ? p[k++] : 0;
	*phi = j->damped ? p[k++] : 1;
	/* the usual bounds */
	if (*alpha < LOWER[0] || *alpha > UPPER[0])
		return 0;
	if (j->trend && (*beta < LOWER[1] || *beta > *alpha || *beta > UPPER[1]))
		return 0;
	if (j->damped && (*phi < LOWER[3] || *phi > UPPER[3]))
		return 0;
	if (j->season && (*gamma < LOWER[2] || *gamma > 1 - *alpha || *gamma > UPPER[2]))
		return 0;
	if (!admissible(*alpha, *beta, j->trend != ETS_N, *gamma, j->season != ETS_N,
			j->damped ? *phi : 1, j->season ? j->m : 1))
		return 0;
	for (i = 0; i < j->nstate - (j->season != ETS_N); i++)
		x[i] = p[k + i];
	if (j->season) {
		first = 1 + (j->trend != ETS_N);
		for (i = first; i < j->nstate - 1; i++)
			sum += x[i];
		x[j->nstate - 1] = (j->season == ETS_M ? j->m : 0) - sum;
		if (j->season == ETS_M)
			for (i = first; i < j->nstate; i++)
				if (x[i] < 0)
					return 0;
	}
	return 1;
}

static double objective(const struct ets_job *j, const double *p)
{
	double alpha, beta, gamma, phi, x[ETS_MAX_STATE], lik, mse;

	if (!unpack(j, p, &alpha, &beta, &gamma, &phi, x))
		return INFINITY;
	lik = ets_filter(j->y, j->n, x, j->season ? j->m : 1, j->error, j->trend, j->season,
			 alpha, beta, gamma, phi, NULL, &mse);
	if (isnan(lik))
		return INFINITY;
	if (lik < -1e10)
		lik = -1e10;
	return j->opt == ETS_OPT_MSE ? mse : lik;
}

/* R's Nelder-Mead (optim's nmmin, as forecast's etsNelderMead calls it: abstol -Inf,
 * reltol sqrt(eps), reflection 1, contraction 0.5, expansion 2). b is the start and the
 * result. */
static void nelder_mead(const struct ets_job *j, double *b, int n, int maxit)
{
	double P[ETS_MAX_STATE + 5][ETS_MAX_STATE + 7]; /* P[i][vertex], row n the values */
	double f, convtol, size, oldsize, step, trystep, temp, VH, VL, VR;
	const double alpha = 1, bet = 0.5, gamm = 2, intol = sqrt(DBL_EPSILON);
	int funcount, H, i, k, L = 1, n1 = n + 1, C = n + 2, calcvert = 1;

	f = objective(j, b);
	if (!isfinite(f))
		return;
	funcount = 1;
	convtol = intol * (fabs(f) + intol);
	P[n1 - 1][0] = f;
	for (i = 0; i < n; i++)
		P[i][0] = b[i];
	size = 0;
	step = 0;
	for (i = 0; i < n; i++)
		if (0.1 * fabs(b[i]) > step)
			step = 0.1 * fabs(b[i]);
	if (step == 0)
		step = 0.1;
	for (k = 2; k <= n1; k++) {
		for (i = 0; i < n; i++)
			P[i][k - 1] = b[i];
		trystep = step;
		while (P[k - 2][k - 1] == b[k - 2]) {
			P[k - 2][k - 1] = b[k - 2] + trystep;
			trystep *= 10;
		}
		size += trystep;
	}
	oldsize = size;
	do {
		if (calcvert) {
			for (k = 0; k < n1; k++) {
				if (k + 1 != L) {
					for (i = 0; i < n; i++)
						b[i] = P[i][k];
					f = objective(j, b);
					if (!isfinite(f))
						f = NM_BIG;
					funcount++;
					P[n1 - 1][k] = f;
				}
			}
			calcvert = 0;
		}
		VL = P[n1 - 1][L - 1];
		VH = VL;
		H = L;
		for (k = 1; k <= n1; k++) {
			if (k != L) {
				f = P[n1 - 1][k - 1];
				if (f < VL) {
					L = k;
					VL = f;
				}
				if (f > VH) {
					H = k;
					VH = f;
				}
			}
		}
		if (VH <= VL + convtol)
			break;
		for (i = 0; i < n; i++) {
			temp = -P[i][H - 1];
			for (k = 0; k < n1; k++)
				temp += P[i][k];
			P[i][C - 1] = temp / n;
		}
		for (i = 0; i < n; i++)
			b[i] = (1.0 + alpha) * P[i][C - 1] - alpha * P[i][H - 1];
		f = objective(j, b);
		if (!isfinite(f))
			f = NM_BIG;
		funcount++;
		VR = f;
		if (VR < VL) {
			P[n1 - 1][C - 1] = f;
			for (i = 0; i < n; i++) {
				f = gamm * b[i] + (1 - gamm) * P[i][C - 1];
				P[i][C - 1] = b[i];
				b[i] = f;
			}
			f = objective(j, b);
			if (!isfinite(f))
				f = NM_BIG;
			funcount++;
			if (f < VR) {
				for (i = 0; i < n; i++)
					P[i][H - 1] = b[i];
				P[n1 - 1][H - 1] = f;
			} else {
				for (i = 0; i < n; i++)
					P[i][H - 1] = P[i][C - 1];
				P[n1 - 1][H - 1] = VR;
			}
		} else {
			if (VR < VH) {
				for (i = 0; i < n; i++)
					P[i][H - 1] = b[i];
				P[n1 - 1][H - 1] = VR;
			}
			for (i = 0; i < n; i++)
				b[i] = (1 - bet) * P[i][H - 1] + bet * P[i][C - 1];
			f = objective(j, b);
			if (!isfinite(f))
				f = NM_BIG;
			funcount++;
			if (f < P[n1 - 1][H - 1]) {
				for (i = 0; i < n; i++)
					P[i][H - 1] = b[i];
				P[n1 - 1][H - 1] = f;
			} else if (VR >= VH) {
				calcvert = 1;
				size = 0;
				for (k = 0; k < n1; k++) {
					if (k + 1 != L) {
						for (i = 0; i < n; i++) {
							P[i][k] = bet * (P[i][k] - P[i][L - 1]) +
								  P[i][L - 1];
							size += fabs(P[i][k] - P[i][L - 1]);
						}
					}
				}
				if (size < oldsize)
					oldsize = size;
				else
					break;
			}
		}
	} while (funcount <= maxit);
	for (i = 0; i < n; i++)
		b[i] = P[i][L - 1];
}

/* Least squares of y on the k columns of X (row-major n x k, k <= 4) by the normal
 * equations with partial pivoting; 0, or -1 when singular. */
static int small_ls(const double *X, const double *y, size_t n, int k, double *coef)
{
	double A[4][5];
	size_t t;
	int i, c, r;

	memset(A, 0, sizeof(A));
	for (t = 0; t < n; t++)
		for (i = 0; i < k; i++) {
			for (c = 0; c < k; c++)
				A[i][c] += X[t * (size_t)k + (size_t)i] * X[t * (size_t)k + (size_t)c];
			A[i][k] += X[t * (size_t)k + (size_t)i] * y[t];
		}
	for (c = 0; c < k; c++) {
		int piv = c;
		for (r = c + 1; r < k; r++)
			if (fabs(A[r][c]) > fabs(A[piv][c]))
				piv = r;
		if (fabs(A[piv][c]) < 1e-300)
			return -1;
		if (piv != c)
			for (i = 0; i <= k; i++) {
				double tmp = A[c][i];
				A[c][i] = A[piv][i];
				A[piv][i] = tmp;
			}
		for (r = 0; r < k; r++) {
			double fct;
			if (r == c)
				continue;
			fct = A[r][c] / A[c][c];
			for (i = c; i <= k; i++)
				A[r][i] -= fct * A[c][i];
		}
	}
	for (i = 0; i < k; i++)
		coef[i] = A[i][k] / A[i][i];
	return 0;
}

void ml_ts_decompose(const double *y, size_t n, int m, int mult, double *fig)
{
	size_t t, half = (size_t)m / 2;
	double mean = 0;
	int i;

	for (i = 0; i < m; i++) {
		double sum = 0;
		int cnt = 0;
		for (t = (size_t)i; t < n; t += (size_t)m) {
			double tr = 0, v;
			size_t k;
			if (t < half || t + half >= n)
				continue;
			if (m % 2 == 0) {
				tr = 0.5 * (y[t - half] + y[t + half]);
				for (k = t - half + 1; k < t + half; k++)
					tr += y[k];
			} else {
				for (k = t - half; k <= t + half; k++)
					tr += y[k];
			}
			tr /= m;
			v = mult ? y[t] / tr : y[t] - tr;
			sum += v;
			cnt++;
		}
		fig[i] = cnt ? sum / cnt : (mult ? 1 : 0);
		mean += fig[i];
	}
	mean /= m;
	for (i = 0; i < m; i++)
		fig[i] = mult ? fig[i] / mean : fig[i] - mean;
}

/* R's initstate(): x (l, b, s_0..s_{m-2}); returns the count, -1 when n is too short, or
 * ML_E_NOMEM. */
static int init_state(const double *y, size_t n, int m, int trend, int season, double *x)
{
	double *ysa = malloc(n * sizeof(double)), *seas = NULL, coef[4];
	size_t t, maxn;
	int k = 0, i;

	if (!ysa)
		return ML_E_NOMEM;
	if (season != ETS_N) {
		if (n < 4 || !(seas = malloc(n * sizeof(double)))) {
			free(ysa);
			return n < 4 ? -1 : ML_E_NOMEM;
		}
		if (n < 3 * (size_t)m) {
			/* a linear trend and one Fourier pair */
			int kk = m == 2 ? 3 : 4;
			double *X = malloc(n * 4 * sizeof(double));
			if (!X) {
				free(ysa);
				free(seas);
				return ML_E_NOMEM;
			}
			for (t = 0; t < n; t++) {
				double a = 2 * M_PI * (double)(t + 1) / m;
				X[t * (size_t)kk] = 1;
				X[t * (size_t)kk + 1] = (double)(t + 1);
				if (m == 2) {
					X[t * (size_t)kk + 2] = cos(a);
				} else {
					X[t * (size_t)kk + 2] = sin(a);
					X[t * (size_t)kk + 3] = cos(a);
				}
			}
			if (small_ls(X, y, n, kk, coef) < 0) {
				free(X);
				free(ysa);
				free(seas);
				return -1;
			}
			free(X);
			for (t = 0; t < n; t++) {
				double tr = coef[0] + coef[1] * (double)(t + 1);
				seas[t] = season == ETS_A ? y[t] - tr : y[t] / tr;
			}
		} else {
			double fig[24];
			ml_ts_decompose(y, n, m, season == ETS_M, fig);
			for (t = 0; t < n; t++)
				seas[t] = fig[t % (size_t)m];
		}
		/* init.seas = rev(seasonal[2:m]) */
		for (i = 0; i < m - 1; i++)
			x[(trend != ETS_N) + 1 + i] = seas[m - 1 - i];
		if (season == ETS_A) {
			for (t = 0; t < n; t++)
				ysa[t] = y[t] - seas[t];
		} else {
			double sum = 0;
			for (i = 0; i < m - 1; i++) {
				double *v = &x[(trend != ETS_N) + 1 + i];
				*v = fmax(*v, 0.01);
				sum += *v;
			}
			if (sum > m)
				for (i = 0; i < m - 1; i++)
					x[(trend != ETS_N) + 1 + i] /= sum + 0.01 * (m - 1);
			for (t = 0; t < n; t++)
				ysa[t] = y[t] / fmax(seas[t], 0.01);
		}
		free(seas);
	} else {
		m = 1;
		memcpy(ysa, y, n * sizeof(double));
	}
	maxn = (size_t)(2 * m > 10 ? 2 * m : 10);
	if (maxn > n)
		maxn = n;
	if (trend == ETS_N) {
		double s = 0;
		for (t = 0; t < maxn; t++)
			s += ysa[t];
		x[k++] = s / (double)maxn;
	} else {
		double sx = 0, sy = 0, sxx = 0, sxy = 0, l0, b0, N = (double)maxn;
		for (t = 0; t < maxn; t++) {
			double xv = (double)(t + 1);
			sx += xv;
			sy += ysa[t];
			sxx += xv * xv;
			sxy += xv * ysa[t];
		}
		b0 = (sxy - sx * sy / N) / (sxx - sx * sx / N);
		l0 = sy / N - b0 * sx / N;
		if (fabs(l0 + b0) < 1e-8) {
			l0 *= 1 + 1e-3;
			b0 *= 1 - 1e-3;
		}
		x[k++] = l0;
		x[k++] = b0;
	}
	free(ysa);
	return (trend != ETS_N) + 1 + (season != ETS_N ? m - 1 : 0);
}

int ml_ets_fit1(const double *y, size_t n, int m, int error, int trend, int season, int damped,
		int opt, struct ets_fit *out)
{
	struct ets_job j;
	double p[ETS_MAX_STATE + 4], alpha, beta, gamma, phi, x[ETS_MAX_STATE];
	double lo[4], up[4], mse;
	int k = 0, ns, npar, i;
	size_t t;

	if (season == ETS_N)
		m = 1;
	if (m > 24 || (trend == ETS_N && damped) || trend == ETS_M)
		return -1;
	if (error == ETS_M || season == ETS_M)
		for (t = 0; t < n; t++)
			if (!(y[t] > 0))
				return -1;
	memcpy(lo, LOWER, sizeof(lo));
	memcpy(up, UPPER, sizeof(up));
	/* R's initparam() */
	alpha = lo[0] + 0.2 * (up[0] - lo[0]) / m;
	if (alpha > 1 || alpha < 0)
		alpha = lo[0] + 2e-3;
	p[k++] = alpha;
	if (trend != ETS_N) {
		double ub = fmin(up[1], alpha);
		beta = lo[1] + 0.1 * (ub - lo[1]);
		if (beta < 0 || beta > alpha)
			beta = alpha - 1e-3;
		p[k++] = beta;
	}
	if (season != ETS_N) {
		double ug = fmin(up[2], 1 - alpha);
		gamma = lo[2] + 0.05 * (ug - lo[2]);
		if (gamma < 0 || gamma > 1 - alpha)
			gamma = 1 - alpha - 1e-3;
		p[k++] = gamma;
	}
	if (damped) {
		phi = lo[3] + 0.99 * (up[3] - lo[3]);
		if (phi < 0 || phi > 1)
			phi = up[3] - 1e-3;
		p[k++] = phi;
	}
	ns = init_state(y, n, m, trend, season, p + k);
	if (ns < 0)
		return ns;
	npar = k + ns;
	if ((size_t)npar + 1 >= n)
		return -1; /* R: np >= length(y) - 1 */
	memset(&j, 0, sizeof(j));
	j.y = y;
	j.n = n;
	j.m = m;
	j.error = error;
	j.trend = trend;
	j.season = season;
	j.damped = damped;
	j.opt = opt;
	j.npar = npar;
	j.nstate = ns + (season != ETS_N);
	nelder_mead(&j, p, npar, 2000);
	memset(out, 0, sizeof(*out));
	if (!unpack(&j, p, &alpha, &beta, &gamma, &phi, x))
		return -1;
	out->error = error;
	out->trend = trend;
	out->season = season;
	out->damped = damped;
	out->m = m;
	out->alpha = alpha;
	out->beta = beta;
	out->gamma = gamma;
	out->phi = damped ? phi : 1;
	out->nstate = j.nstate;
	memcpy(out->x0, x, (size_t)j.nstate * sizeof(double));
	memcpy(out->last, x, (size_t)j.nstate * sizeof(double));
	{
		double *e = malloc(n * sizeof(double)), ss = 0;
		if (!e)
			return ML_E_NOMEM;
		out->lik = ets_filter(y, n, out->last, m, error, trend, season, alpha, beta, gamma,
				      out->phi, e, &mse);
		/* a perfect fit (a constant series): the objective's floor, as R's */
		if (out->lik < -1e10)
			out->lik = -1e10;
		for (t = 0; t < n; t++)
			ss += e[t] * e[t];
		free(e);
		out->sigma2 = ss / (double)(n - (size_t)npar);
	}
	if (!isfinite(out->lik))
		return -1;
	out->mse = mse;
	out->np = npar;
	i = npar + 1;
	out->loglik = -0.5 * out->lik;
	out->aic = out->lik + 2 * i;
	out->bic = out->lik + log((double)n) * i;
	out->aicc = (double)n - i - 1 > 0 ? out->aic + 2.0 * i * (i + 1) / ((double)n - i - 1) :
					  INFINITY;
	return 0;
}

void ml_ets_fitted(const struct ets_fit *f, const double *y, size_t n, double *out)
{
	double x[ETS_MAX_STATE], fc;
	size_t t;

	memcpy(x, f->x0, (size_t)f->nstate * sizeof(double));
	for (t = 0; t < n; t++) {
		ets_path(x, f->m, f->trend, f->season, f->phi, &fc, 1);
		out[t] = fc;
		ets_update(x, f->m, f->trend, f->season, f->alpha, f->beta, f->gamma, f->phi,
			   y[t]);
	}
}

/* Dense helpers for the variance recursions (row-major, small). */
static void matmul(const double *A, const double *B, double *C, int r, int k, int c)
{
	int i, j, l;
	for (i = 0; i < r; i++)
		for (j = 0; j < c; j++) {
			double s = 0;
			for (l = 0; l < k; l++)
				s += A[i * k + l] * B[l * c + j];
			C[i * c + j] = s;
		}
}

static void transpose(const double *A, double *T, int r, int c)
{
	int i, j;
	for (i = 0; i < r; i++)
		for (j = 0; j < c; j++)
			T[j * r + i] = A[i * c + j];
}

static void kron(const double *A, int ar, int ac, const double *B, int br, int bc, double *K)
{
	int i, j, k, l, kc = ac * bc;
	for (i = 0; i < ar; i++)
		for (j = 0; j < ac; j++)
			for (k = 0; k < br; k++)
				for (l = 0; l < bc; l++)
					K[(i * br + k) * kc + j * bc + l] = A[i * ac + j] * B[k * bc + l];
}

/* Class 1 (and the means and c_j for class 2): the linear models' forecast means and
 * variance multipliers, as R's class1(). */
static void class1(const struct ets_fit *f, int h, double *mu, double *cj)
{
	int p = f->nstate, m = f->m, i, j;
	double F[ETS_MAX_STATE * ETS_MAX_STATE], H[ETS_MAX_STATE], G[ETS_MAX_STATE];
	double v[ETS_MAX_STATE], g[ETS_MAX_STATE], tmp[ETS_MAX_STATE];

	memset(F, 0, sizeof(F));
	memset(H, 0, sizeof(H));
	memset(G, 0, sizeof(G));
	H[0] = 1;
	if (f->season == ETS_A)
		H[p - 1] = 1;
	if (f->trend == ETS_A)
		H[1] = f->phi;
	F[0] = 1;
	if (f->trend == ETS_A)
		F[1] = F[p + 1] = f->phi;
	if (f->season == ETS_A) {
		F[(p - m) * p + p - 1] = 1;
		for (i = 0; i < m - 1; i++)
			F[(p - m + 1 + i) * p + p - m + i] = 1;
	}
	G[0] = f->alpha;
	if (f->trend == ETS_A)
		G[1] = f->beta;
	if (f->season == ETS_A)
		G[1 + (f->trend == ETS_A)] = f->gamma;
	memcpy(v, f->last, (size_t)p * sizeof(double));
	memcpy(g, G, (size_t)p * sizeof(double));
	for (i = 0; i < h; i++) {
		double s = 0, c = 0;
		for (j = 0; j < p; j++) {
			s += H[j] * v[j];
			c += H[j] * g[j];
		}
		mu[i] = s;
		if (cj)
			cj[i] = c;
		matmul(F, v, tmp, p, p, 1);
		memcpy(v, tmp, (size_t)p * sizeof(double));
		matmul(F, g, tmp, p, p, 1);
		memcpy(g, tmp, (size_t)p * sizeof(double));
	}
}

static int class3(const struct ets_fit *f, int h, double *mu, double *var)
{
	int m = f->m, q = 1 + (f->trend != ETS_N), d = q * m, i, j;
	double s2 = f->sigma2, H1[2] = {1, 1}, F1[4], G1[4];
	double *F2 = calloc((size_t)(m * m), sizeof(double)), *G2 = calloc((size_t)(m * m), sizeof(double));
	double *Mh = malloc((size_t)d * sizeof(double)), *Vh = calloc((size_t)(d * d), sizeof(double));
	double *F21 = malloc((size_t)(d * d) * sizeof(double)), *G21 = malloc((size_t)(d * d) * sizeof(double));
	double *K = malloc((size_t)(d * d) * sizeof(double)), *T1 = malloc((size_t)(d * d) * sizeof(double));
	double *T2 = malloc((size_t)(d * d) * sizeof(double)), *T3 = malloc((size_t)(d * d) * sizeof(double));
	double *Acc = malloc((size_t)(d * d) * sizeof(double)), *Wt = malloc((size_t)(d * d) * sizeof(double));
	double *H21 = malloc((size_t)d * sizeof(double)), H2[ETS_MAX_STATE];
	double *Mn = malloc((size_t)d * sizeof(double)), *Mt = malloc((size_t)d * sizeof(double));
	int rc = -1;

	if (!F2 || !G2 || !Mh || !Vh || !F21 || !G21 || !K || !T1 || !T2 || !T3 || !Acc || !Wt ||
	    !H21 || !Mn || !Mt)
		goto out;
	if (q == 1) {
		F1[0] = 1;
		G1[0] = f->alpha;
	} else {
		F1[0] = 1;
		F1[1] = 1;
		F1[2] = 0;
		F1[3] = f->damped ? f->phi : 1;
		G1[0] = G1[1] = f->alpha;
		G1[2] = G1[3] = f->beta;
	}
	for (i = 0; i < m; i++)
		H2[i] = i == m - 1;
	F2[m - 1] = 1;
	for (i = 1; i < m; i++)
		F2[i * m + i - 1] = 1;
	G2[m - 1] = f->gamma;
	/* Mh = level/trend (q x 1) times the seasons (1 x m) */
	for (i = 0; i < q; i++)
		for (j = 0; j < m; j++)
			Mh[i * m + j] = f->last[i] * f->last[q + j];
	kron(H2, 1, m, H1, 1, q, H21);
	kron(F2, m, m, F1, q, q, F21);
	kron(G2, m, m, G1, q, q, G21);
	kron(G2, m, m, F1, q, q, T1);
	kron(F2, m, m, G1, q, q, T2);
	for (i = 0; i < d * d; i++)
		K[i] = T1[i] + T2[i];
	for (i = 0; i < h; i++) {
		double s = 0, hv = 0;
		int a, b;
		/* mu = H1 Mh H2' : Mh is q x m stored row-major */
		for (a = 0; a < q; a++)
			s += H1[a] * Mh[a * m + m - 1];
		mu[i] = s;
		for (a = 0; a < d; a++)
			for (b = 0; b < d; b++)
				hv += H21[a] * Vh[a * d + b] * H21[b];
		var[i] = (1 + s2) * hv + s2 * s * s;
		/* vec(Mh) in R is column-major over the q x m matrix */
		for (a = 0; a < q; a++)
			for (b = 0; b < m; b++)
				Mt[b * q + a] = Mh[a * m + b];
		/* Vh' = F21 Vh F21' + s2 (F21 Vh G21' + G21 Vh F21' + K (Vh + vv') K' +
		 * s2 G21 (3 Vh + 2 vv') G21') */
		transpose(F21, Wt, d, d);
		matmul(F21, Vh, T1, d, d, d);
		matmul(T1, Wt, Acc, d, d, d); /* F21 Vh F21' */
		transpose(G21, Wt, d, d);
		matmul(T1, Wt, T2, d, d, d); /* F21 Vh G21' */
		for (a = 0; a < d * d; a++)
			Acc[a] += s2 * T2[a];
		transpose(T2, T3, d, d); /* G21 Vh F21' */
		for (a = 0; a < d * d; a++)
			Acc[a] += s2 * T3[a];
		for (a = 0; a < d; a++)
			for (b = 0; b < d; b++)
				T1[a * d + b] = Vh[a * d + b] + Mt[a] * Mt[b];
		matmul(K, T1, T2, d, d, d);
		transpose(K, Wt, d, d);
		matmul(T2, Wt, T3, d, d, d);
		for (a = 0; a < d * d; a++)
			Acc[a] += s2 * T3[a];
		for (a = 0; a < d; a++)
			for (b = 0; b < d; b++)
				T1[a * d + b] = 3 * Vh[a * d + b] + 2 * Mt[a] * Mt[b];
		matmul(G21, T1, T2, d, d, d);
		transpose(G21, Wt, d, d);
		matmul(T2, Wt, T3, d, d, d);
		for (a = 0; a < d * d; a++)
			Acc[a] += s2 * s2 * T3[a];
		memcpy(Vh, Acc, (size_t)(d * d) * sizeof(double));
		/* Mh' = F1 Mh F2' + G1 Mh G2' s2 */
		{
			double A1[2 * ETS_MAX_STATE], A2[2 * ETS_MAX_STATE], B[ETS_MAX_STATE * ETS_MAX_STATE];
			transpose(F2, B, m, m);
			matmul(F1, Mh, A1, q, q, m);
			matmul(A1, B, Mn, q, m, m);
			transpose(G2, B, m, m);
			matmul(G1, Mh, A2, q, q, m);
			matmul(A2, B, A1, q, m, m);
			for (a = 0; a < d; a++)
				Mh[a] = Mn[a] + A1[a] * s2;
		}
	}
	rc = 0;
out:
	free(F2);
	free(G2);
	free(Mh);
	free(Vh);
	free(F21);
	free(G21);
	free(K);
	free(T1);
	free(T2);
	free(T3);
	free(Acc);
	free(Wt);
	free(H21);
	free(Mn);
	free(Mt);
	return rc;
}

int ml_ets_forecast(const struct ets_fit *f, int h, double *mean, double *var)
{
	double *cj = malloc((size_t)h * sizeof(double));
	int i, j;

	if (!cj)
		return -1;
	if (f->season == ETS_M) {
		free(cj);
		return class3(f, h, mean, var);
	}
	class1(f, h, mean, cj);
	if (f->error == ETS_A) {
		double acc = 0;
		for (i = 0; i < h; i++) {
			var[i] = f->sigma2 * (1 + acc);
			acc += cj[i] * cj[i];
		}
	} else {
		double *theta = malloc((size_t)h * sizeof(double));
		if (!theta) {
			free(cj);
			return -1;
		}
		for (i = 0; i < h; i++) {
			double s = 0;
			for (j = 0; j < i; j++)
				s += cj[j] * cj[j] * theta[i - 1 - j];
			theta[i] = mean[i] * mean[i] + f->sigma2 * s;
			var[i] = (1 + f->sigma2) * theta[i] - mean[i] * mean[i];
		}
		free(theta);
	}
	free(cj);
	return 0;
}

/* The method: --model ets. */

static const struct ml_param ets_params[] = {
	{"spec", ML_P_STRING, 0, 0, 0, "ZZZ",
	 "error, trend, season: each A, M, N or Z (chosen); a 'd' after the trend damps it"},
	{"ic", ML_P_ENUM, 0, 0, 0, "aicc,aic,bic", "the criterion that selects the model"},
	{NULL, ML_P_REAL, 0, 0, 0, NULL, NULL}};

struct ets_state {
	struct ets_fit f;
	/* with the trend free (spec "ZZZ"), the best damped candidate: the damped method's
	 * choice on the same series, which combinations take instead of fitting again */
	struct ets_fit alt;
	int has_alt;
	int fallback; /* too short for any model: the level of SES at alpha 0.5 */
	/* a season longer than the models take (over 24): the classical decomposition's
	 * figure, divided out (mult) or subtracted before the fit, put back after */
	int lm, lmult;
	double fig[ML_TS_MAX_SEASON];
};

/* y with the long season's figure taken out (a copy), or NULL. */
static double *long_adjust(const struct ets_state *st, const double *y, size_t n)
{
	double *x = malloc((n ? n : 1) * sizeof(double));
	size_t t;

	if (!x)
		return NULL;
	for (t = 0; t < n; t++)
		x[t] = st->lmult ? y[t] / st->fig[t % (size_t)st->lm] :
				   y[t] - st->fig[t % (size_t)st->lm];
	return x;
}

static int season_of(const struct ml_series *s)
{
	return s->nseason ? s->season[0] : 1;
}

static size_t ets_min(const struct ml_series *s)
{
	(void)s;
	return 3;
}

/* Parse a spec "ZZZ", "AAdN", "MAM"; -1 when malformed. */
static int parse_spec(const char *spec, char *e, char *t, char *se, int *damped)
{
	size_t n = strlen(spec);
	if (n != 3 && !(n == 4 && spec[2] == 'd'))
		return -1;
	*e = spec[0];
	*t = spec[1];
	/* damped: 1 asked for, 0 not (a trend given without 'd'), -1 either (trend Z) */
	*damped = n == 4 ? 1 : spec[1] == 'Z' ? -1 : 0;
	*se = spec[n - 1];
	if (!strchr("AMZ", *e) || !strchr("ANMZ", *t) || !strchr("ANMZ", *se))
		return -1;
	if (*damped == 1 && *t == 'N')
		return -1;
	return 0;
}

int ml_ets_auto(const double *y, size_t n, int m, const char *spec, int ic, struct ets_fit *best,
		struct ets_fit *dbest, int *ndamped)
{
	char ce, ct, cs;
	int damped, ei, ti, si, di, pos = 1, found = 0;
	double best_ic = INFINITY, dbest_ic = INFINITY;
	size_t t;
	static const int codes[3] = {ETS_N, ETS_A, ETS_M};

	if (ndamped)
		*ndamped = 0;
	if (parse_spec(spec, &ce, &ct, &cs, &damped) < 0)
		return -2;
	for (t = 0; t < n; t++)
		if (!(y[t] > 0))
			pos = 0;
	if (m < 2 || n <= (size_t)m || m > 24) {
		if (cs == 'A' || cs == 'M')
			if (m < 2)
				return -1;
		if (cs == 'Z' || m > 24 || n <= (size_t)m)
			cs = 'N';
	}
	for (ei = 1; ei <= 2; ei++) {
		if ((ce != 'Z' && codes[ei] != (ce == 'A' ? ETS_A : ETS_M)) ||
		    (codes[ei] == ETS_M && !pos))
			continue;
		for (ti = 0; ti <= 1; ti++) {
			if (ct != 'Z' && codes[ti] != (ct == 'N' ? ETS_N : ct == 'A' ? ETS_A : ETS_M))
				continue;
			for (si = 0; si <= 2; si++) {
				if (cs != 'Z' &&
				    codes[si] != (cs == 'N' ? ETS_N : cs == 'A' ? ETS_A : ETS_M))
					continue;
				if (codes[si] == ETS_M && !pos)
					continue;
				for (di = 1; di >= 0; di--) {
					struct ets_fit f;
					double v;
					if (damped >= 0 && di != damped)
						continue;
					if (codes[ti] == ETS_N && di)
						continue;
					/* R's restrictions */
					if (codes[ei] == ETS_A && codes[si] == ETS_M)
						continue;
					int rc = ml_ets_fit1(y, n, m, codes[ei], codes[ti],
							     codes[si], di, ETS_OPT_LIK, &f);
					if (rc == ML_E_NOMEM)
						return ML_E_NOMEM;
					if (rc < 0)
						continue;
					v = ic == 1 ? f.aic : ic == 2 ? f.bic : f.aicc;
					if (isfinite(v) && v < best_ic) {
						best_ic = v;
						*best = f;
						found = 1;
					}
					if (dbest && di && isfinite(v) && v < dbest_ic) {
						dbest_ic = v;
						*dbest = f;
						*ndamped = 1;
					}
				}
			}
		}
	}
	return found ? 0 : -1;
}

void ml_ets_spec(const void *state, char *buf)
{
	const struct ets_state *st = state;
	static const char c[] = "NAM";
	int k = 0;

	if (st->fallback) {
		memcpy(buf, "ZZZ", 4);
		return;
	}
	buf[k++] = c[st->f.error];
	buf[k++] = c[st->f.trend];
	if (st->f.damped)
		buf[k++] = 'd';
	buf[k++] = c[st->f.season];
	buf[k] = 0;
}

static int ets_fit_method(void **state, const struct ml_series *s, const struct ml_params *p,
			  struct ml_ctx *ctx, struct ml_err *e)
{
	struct ets_state *st = calloc(1, sizeof(*st));
	const char *spec = ml_param_text(p, "spec");
	char sp[8];
	/* every model is a candidate at the damped method's criterion: its choice comes too */
	int rc, free_all = (!spec || !strcmp(spec, "ZZZ")) && ml_param(p, "ic") == 0;

	(void)ctx;
	if (!st)
		return ml_err_nomem(e);
	if (spec && strlen(spec) >= 3 && (spec[0] == 'M' || spec[strlen(spec) - 1] == 'M')) {
		size_t t;
		for (t = 0; t < s->n; t++)
			if (!(s->y[t] > 0)) {
				free(st);
				return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
						  "--model ets with spec '%s' (multiplicative) needs "
						  "positive values; value %zu is %g",
						  spec, t + 1, s->y[t]);
			}
	}
	{
		int m = season_of(s), lm = ml_ts_long_season(s);
		const double *y = s->y;
		double *adj = NULL;
		if (lm > 24) {
			size_t t;
			m = lm;
			st->lm = m;
			st->lmult = 1;
			for (t = 0; t < s->n; t++)
				if (!(s->y[t] > 0))
					st->lmult = 0;
			ml_ts_decompose(s->y, s->n, m, st->lmult, st->fig);
			for (t = 0; t < (size_t)m; t++)
				if (st->lmult && !(st->fig[t] > 1e-4))
					st->lm = 0;
			if (st->lm && !(adj = long_adjust(st, s->y, s->n))) {
				free(st);
				return ml_err_nomem(e);
			}
			if (st->lm) {
				y = adj;
				/* the season is the decomposition's: the models take none */
				snprintf(sp, sizeof(sp), "%s", spec ? spec : "ZZZ");
				if (sp[0] && sp[strlen(sp) - 1] != 'N')
					sp[strlen(sp) - 1] = 'N';
				spec = sp;
			}
		}
		rc = ml_ets_auto(y, s->n, st->lm ? 1 : m, spec ? spec : "ZZZ",
				 (int)ml_param(p, "ic"), &st->f,
				 free_all ? &st->alt : NULL, &st->has_alt);
		free(adj);
	}
	if (rc == ML_E_NOMEM) {
		free(st);
		return ml_err_nomem(e);
	}
	if (rc == -2) {
		free(st);
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "--model ets: invalid spec '%s' (three letters of error A/M/Z, "
				  "trend N/A/Z with an optional d, season N/A/M/Z, e.g. AAdN)",
				  spec);
	}
	if (rc < 0) {
		/* Too short for any model with its initial states: simple exponential
		 * smoothing at alpha 0.5 from the first value, as a last resort. */
		size_t t;
		double l;
		struct ets_fit *f = &st->f;
		memset(f, 0, sizeof(*f));
		f->error = ETS_A;
		f->m = 1;
		f->alpha = 0.5;
		f->phi = 1;
		f->nstate = 1;
		f->x0[0] = l = s->y[0];
		for (t = 0; t < s->n; t++) {
			double r = s->y[t] - l;
			f->sigma2 += r * r;
			l += 0.5 * r;
		}
		f->sigma2 /= (double)(s->n > 1 ? s->n - 1 : 1);
		f->last[0] = l;
		f->lik = f->aic = f->aicc = f->bic = NAN;
		st->fallback = 1;
	}
	*state = st;
	return 0;
}

static int ets_forecast_method(const void *state, const struct ml_series *s, int h,
			       const double *level, int nlevel, double *mean, double *lo,
			       double *hi, struct ml_err *e)
{
	const struct ets_state *st = state;
	double *var = malloc((size_t)h * sizeof(double));
	int t, k;

	(void)s;
	if (!var || ml_ets_forecast(&st->f, h, mean, var) < 0) {
		free(var);
		return ml_err_nomem(e);
	}
	if (st->lm)
		for (t = 0; t < h; t++) {
			double f = st->fig[(s->n + (size_t)t) % (size_t)st->lm];
			if (st->lmult) {
				mean[t] *= f;
				var[t] *= f * f;
			} else {
				mean[t] += f;
			}
		}
	for (k = 0; k < nlevel; k++) {
		double z = ml_norm_ppf(0.5 + level[k] / 200);
		for (t = 0; t < h; t++) {
			double w = z * sqrt(fmax(var[t], 0));
			lo[(size_t)k * (size_t)h + (size_t)t] = mean[t] - w;
			hi[(size_t)k * (size_t)h + (size_t)t] = mean[t] + w;
		}
	}
	free(var);
	return 0;
}

static int ets_fitted_method(const void *state, const struct ml_series *s, double *out)
{
	const struct ets_state *st = state;
	double *x;
	size_t t;

	if (!st->lm) {
		ml_ets_fitted(&st->f, s->y, s->n, out);
		return 0;
	}
	if (!(x = long_adjust(st, s->y, s->n)))
		return ML_E_NOMEM;
	ml_ets_fitted(&st->f, x, s->n, out);
	for (t = 0; t < s->n; t++)
		out[t] = st->lmult ? out[t] * st->fig[t % (size_t)st->lm] :
				     out[t] + st->fig[t % (size_t)st->lm];
	free(x);
	return 0;
}

static double ets_sigma2(const void *state)
{
	return ((const struct ets_state *)state)->f.sigma2;
}

/* The name R prints: ETS(M,Ad,N). */
static void ets_name(const struct ets_fit *f, char *buf, size_t n)
{
	static const char c[] = "NAM";
	snprintf(buf, n, "ETS(%c,%c%s,%c)", c[f->error], c[f->trend], f->damped ? "d" : "",
		 c[f->season]);
}

static int ets_save(const void *state, struct ml_model *m, struct ml_err *e)
{
	const struct ets_fit *f = &((const struct ets_state *)state)->f;
	cJSON *meta = ml_model_meta(m), *o = cJSON_AddObjectToObject(meta, "ets"), *x;
	char name[32];
	int i, bad = 0;

	if (!o)
		return ml_err_nomem(e);
	ets_name(f, name, sizeof(name));
	ml_json_str(&bad, o, "model", name);
	ml_json_num(&bad, o, "error", f->error);
	ml_json_num(&bad, o, "trend", f->trend);
	ml_json_num(&bad, o, "season", f->season);
	ml_json_num(&bad, o, "damped", f->damped);
	ml_json_num(&bad, o, "m", f->m);
	ml_json_num(&bad, o, "alpha", f->alpha);
	ml_json_num(&bad, o, "beta", f->beta);
	ml_json_num(&bad, o, "gamma", f->gamma);
	ml_json_num(&bad, o, "phi", f->phi);
	if (isfinite(f->loglik)) {
		ml_json_num(&bad, o, "loglik", f->loglik);
		ml_json_num(&bad, o, "aicc", f->aicc);
	}
	ml_json_add(&bad, o, "x0", x = cJSON_CreateArray());
	for (i = 0; !bad && i < f->nstate; i++)
		ml_json_add(&bad, x, NULL, cJSON_CreateNumber(f->x0[i]));
	if (((const struct ets_state *)state)->lm)
		ml_json_num(&bad, o, "decomposed_season", ((const struct ets_state *)state)->lm);
	return bad ? ml_err_nomem(e) : 0;
}

static int ets_fit_method(void **state, const struct ml_series *s, const struct ml_params *p,
			  struct ml_ctx *ctx, struct ml_err *e);

static int ets_load(void **state, const struct ml_model *m, const struct ml_series *s,
		    const struct ml_params *p, struct ml_err *e)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(ml_model_meta_const(m), "ets"), *it;
	struct ets_state *st;
	struct ets_fit *f;
	double mse;
	int i = 0;

	if (!cJSON_IsObject(o))
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "the forecaster lacks its ETS model");
	/* a decomposed long season: the fit is deterministic, fit the stored series again */
	if (cJSON_GetObjectItemCaseSensitive(o, "decomposed_season"))
		return ets_fit_method(state, s, p, NULL, e);
	if (!(st = calloc(1, sizeof(*st))))
		return ml_err_nomem(e);
	f = &st->f;
#define GETN(name, dst)                                                                        \
	do {                                                                                   \
		const cJSON *v_ = cJSON_GetObjectItemCaseSensitive(o, name);                   \
		if (!cJSON_IsNumber(v_))                                                       \
			goto bad;                                                              \
		dst = v_->valuedouble;                                                         \
	} while (0)
	{
		double er, tr, se, dm, mm;
		GETN("error", er);
		GETN("trend", tr);
		GETN("season", se);
		GETN("damped", dm);
		GETN("m", mm);
		GETN("alpha", f->alpha);
		GETN("beta", f->beta);
		GETN("gamma", f->gamma);
		GETN("phi", f->phi);
		if ((er != ETS_A && er != ETS_M) || (tr != ETS_N && tr != ETS_A) ||
		    (se != ETS_N && se != ETS_A && se != ETS_M) || (dm != 0 && dm != 1) ||
		    !(mm >= 1 && mm <= 24) || (se != ETS_N) != (mm > 1))
			goto bad;
		f->error = (int)er;
		f->trend = (int)tr;
		f->season = (int)se;
		f->damped = (int)dm;
		f->m = (int)mm;
	}
#undef GETN
	f->nstate = 1 + (f->trend != ETS_N) + (f->season != ETS_N ? f->m : 0);
	it = cJSON_GetObjectItemCaseSensitive(o, "x0");
	if (!cJSON_IsArray(it) || cJSON_GetArraySize(it) != f->nstate)
		goto bad;
	cJSON_ArrayForEach(o, it)
	{
		if (!cJSON_IsNumber(o))
			goto bad;
		f->x0[i++] = o->valuedouble;
	}
	memcpy(f->last, f->x0, sizeof(f->x0));
	{
		double *r = malloc((s->n ? s->n : 1) * sizeof(double)), ss = 0;
		size_t t, np = (size_t)(f->nstate - (f->season != ETS_N)) + 1 + (f->trend != ETS_N) +
			       (f->season != ETS_N) + (size_t)f->damped;
		if (!r) {
			free(st);
			return ml_err_nomem(e);
		}
		f->lik = ets_filter(s->y, s->n, f->last, f->m, f->error, f->trend, f->season,
				    f->alpha, f->beta, f->gamma, f->phi, r, &mse);
		for (t = 0; t < s->n; t++)
			ss += r[t] * r[t];
		free(r);
		f->sigma2 = s->n > np ? ss / (double)(s->n - np) : ss;
		f->mse = mse;
	}
	*state = st;
	return 0;
bad:
	free(st);
	return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "the forecaster's ETS model is damaged");
}

/* As R prints the model, ETS(M,Ad,N), with the long season taken out before it. */
static void ets_describe(const void *state, char *buf, size_t size)
{
	const struct ets_state *st = state;
	char name[32];

	if (st->fallback) {
		snprintf(buf, size, "the level of simple exponential smoothing at alpha 0.5 "
				    "(too short to fit)");
		return;
	}
	ets_name(&st->f, name, sizeof(name));
	if (st->lm)
		snprintf(buf, size, "%s, season %d by %s classical decomposition", name, st->lm,
			 st->lmult ? "multiplicative" : "additive");
	else
		snprintf(buf, size, "%s", name);
}

/* ets and damped: the same fit, forecasts and files; only the default spec differs */
#define ETS_FUNCS                                                                            \
	.min_length = ets_min, .fit = ets_fit_method, .forecast = ets_forecast_method,       \
	.fitted = ets_fitted_method, .sigma2 = ets_sigma2, .save = ets_save, .load = ets_load, \
	.free = free, .describe = ets_describe

const struct ml_fc_method ml_fc_ets = {
	.name = "ets",
	.summary = "exponential smoothing state space models selected by AICc (R's ets)",
	.params = ets_params,
	ETS_FUNCS,
};

void *ml_ets_damped_state(const void *state)
{
	const struct ets_state *st = state;
	struct ets_state *d;

	if (!st->has_alt || st->fallback || !(d = malloc(sizeof(*d))))
		return NULL;
	*d = *st;
	d->f = st->alt;
	d->has_alt = 0;
	return d;
}

int ml_ets_method(const struct ml_fc_method *m)
{
	return m && m->fit == ets_fit_method;
}

/* ets with its trend always damped: R's ets(y, damped = TRUE), the error and season
 * still chosen by AICc. A damped trend is the single model most often hard to beat on
 * short business series, and auto's fourth member. */
static const struct ml_param damped_params[] = {
	{"spec", ML_P_STRING, 0, 0, 0, "ZAdZ",
	 "error, trend, season as for ets (default ZAdZ: the trend additive and damped)"},
	{"ic", ML_P_ENUM, 0, 0, 0, "aicc,aic,bic", "the criterion that selects the model"},
	{NULL, ML_P_REAL, 0, 0, 0, NULL, NULL}};

const struct ml_fc_method ml_fc_damped = {
	.name = "damped",
	.summary = "exponential smoothing with a damped trend, error and season by AICc "
		   "(R's ets(damped = TRUE))",
	.params = damped_params,
	ETS_FUNCS,
};
