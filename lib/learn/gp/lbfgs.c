/* L-BFGS with simple bounds: the quasi-Newton direction restricted to the variables not
 * held at a bound, a projected backtracking search (each trial step at the minimum of
 * the quadratic through the value and slope at the start and the value at the last
 * trial, kept within a tenth to a half of that trial), and curvature pairs kept only
 * when they keep the inverse Hessian estimate positive definite. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ml/err.h"
#include "lbfgs.h"

void ml_lbfgs_opts_init(struct ml_lbfgs_opts *o)
{
	o->m = 10;
	o->max_iter = 15000;
	o->pgtol = 1e-5;
	o->ftol = 1e7 * DBL_EPSILON;
}

static double clampd(double v, const double *lo, const double *hi, int i)
{
	if (lo && v < lo[i])
		v = lo[i];
	if (hi && v > hi[i])
		v = hi[i];
	return v;
}

/* Whether variable i sits at a bound that gradient g pushes it against. */
static int held(const double *x, const double *g, const double *lo, const double *hi, int i)
{
	return (lo && x[i] <= lo[i] && g[i] > 0) || (hi && x[i] >= hi[i] && g[i] < 0);
}

static double proj_grad_norm(const double *x, const double *g, const double *lo,
			     const double *hi, int n)
{
	double m = 0;
	int i;

	for (i = 0; i < n; i++) {
		double v = x[i] - g[i];
		v = clampd(v, lo, hi, i) - x[i];
		if (fabs(v) > m)
			m = fabs(v);
	}
	return m;
}

int ml_lbfgs(ml_lbfgs_fn fn, void *ud, int n, double *x, const double *lo, const double *hi,
	     const struct ml_lbfgs_opts *o, double *fx)
{
	int m = o->m, k = 0, used = 0, head = 0, it, i, j, rc;
	size_t nn = (size_t)n;
	double *S, *Y, *rho, *al, *g, *d, *xn, *gn, f = NAN, fn_;

	S = malloc((size_t)m * nn * sizeof(double));
	Y = malloc((size_t)m * nn * sizeof(double));
	rho = malloc((size_t)m * sizeof(double));
	al = malloc((size_t)m * sizeof(double));
	g = malloc(nn * sizeof(double));
	d = malloc(nn * sizeof(double));
	xn = malloc(nn * sizeof(double));
	gn = malloc(nn * sizeof(double));
	if (!S || !Y || !rho || !al || !g || !d || !xn || !gn) {
		rc = ML_E_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++)
		x[i] = clampd(x[i], lo, hi, i);
	if ((rc = fn(ud, x, &f, g)) != 0)
		goto out;
	for (it = 0; it < o->max_iter; it++) {
		double gd = 0, t, step0, fbest;
		int ok = 0;
		if (!(proj_grad_norm(x, g, lo, hi, n) > o->pgtol))
			break;
		/* two-loop recursion on the free variables */
		for (i = 0; i < n; i++)
			d[i] = held(x, g, lo, hi, i) ? 0 : -g[i];
		for (j = 0; j < used; j++) {
			int c = (head - 1 - j + m) % m;
			double s = 0;
			for (i = 0; i < n; i++)
				s += S[(size_t)c * nn + (size_t)i] * d[i];
			al[c] = rho[c] * s;
			for (i = 0; i < n; i++)
				d[i] -= al[c] * Y[(size_t)c * nn + (size_t)i];
		}
		if (used) {
			int c = (head - 1 + m) % m;
			double sy = 0, yy = 0;
			for (i = 0; i < n; i++) {
				sy += S[(size_t)c * nn + (size_t)i] * Y[(size_t)c * nn + (size_t)i];
				yy += Y[(size_t)c * nn + (size_t)i] * Y[(size_t)c * nn + (size_t)i];
			}
			for (i = 0; i < n; i++)
				d[i] *= sy / yy;
		}
		for (j = used - 1; j >= 0; j--) {
			int c = (head - 1 - j + m) % m;
			double s = 0;
			for (i = 0; i < n; i++)
				s += Y[(size_t)c * nn + (size_t)i] * d[i];
			s *= rho[c];
			for (i = 0; i < n; i++)
				d[i] += S[(size_t)c * nn + (size_t)i] * (al[c] - s);
		}
		for (i = 0; i < n; i++) {
			if (held(x, g, lo, hi, i))
				d[i] = 0;
			gd += g[i] * d[i];
		}
		if (!(gd < 0)) {
			/* not a descent direction: forget the curvature, go down the gradient */
			used = 0;
			gd = 0;
			for (i = 0; i < n; i++) {
				d[i] = held(x, g, lo, hi, i) ? 0 : -g[i];
				gd += g[i] * d[i];
			}
			if (!(gd < 0))
				break;
		}
		step0 = 1;
		if (k == 0) {
			double dn = 0;
			for (i = 0; i < n; i++)
				dn += d[i] * d[i];
			step0 = fmin(1.0, 1.0 / sqrt(dn));
		}
		fbest = f;
		for (t = step0; t > 1e-20;) {
			double dec = 0, tq;
			for (i = 0; i < n; i++) {
				xn[i] = clampd(x[i] + t * d[i], lo, hi, i);
				dec += g[i] * (xn[i] - x[i]);
			}
			/* the value alone; the gradient only where the trial passes */
			if ((rc = fn(ud, xn, &fn_, NULL)) != 0)
				goto out;
			if (isfinite(fn_) && fn_ <= f + 1e-4 * dec) {
				if ((rc = fn(ud, xn, &fn_, gn)) != 0)
					goto out;
				ok = 1;
				break;
			}
			/* the next trial at the minimum of the quadratic through f, its slope gd
			 * and the value at t, kept within [t/10, t/2] */
			tq = isfinite(fn_) ? -gd * t * t / (2 * (fn_ - f - gd * t)) : 0;
			t = tq > 0.5 * t || !(tq == tq) ? 0.5 * t : tq < 0.1 * t ? 0.1 * t : tq;
		}
		if (!ok)
			break;
		{
			double sy = 0, yy = 0;
			for (i = 0; i < n; i++) {
				double s = xn[i] - x[i], y = gn[i] - g[i];
				S[(size_t)head * nn + (size_t)i] = s;
				Y[(size_t)head * nn + (size_t)i] = y;
				sy += s * y;
				yy += y * y;
			}
			if (sy > DBL_EPSILON * yy) {
				rho[head] = 1 / sy;
				head = (head + 1) % m;
				if (used < m)
					used++;
			}
		}
		memcpy(x, xn, nn * sizeof(double));
		memcpy(g, gn, nn * sizeof(double));
		f = fn_;
		k++;
		if ((fbest - f) <= o->ftol * fmax(fmax(fabs(fbest), fabs(f)), 1))
			break;
	}
	rc = k;
out:
	*fx = f;
	free(S);
	free(Y);
	free(rho);
	free(al);
	free(g);
	free(d);
	free(xn);
	free(gn);
	return rc;
}
