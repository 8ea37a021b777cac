/* Private to libml: a limited-memory quasi-Newton minimiser with simple bounds (L-BFGS-B
 * in the projected form: the two-loop direction on the free variables, a backtracking
 * Armijo search along the projected path). Deterministic: it uses no threads itself. */
#ifndef ML_LEARN_LBFGS_H
#define ML_LEARN_LBFGS_H

/* The function and its gradient at x (n values) into *f and g (g NULL: the value alone,
 * the line search's trials; the gradient is then asked at the same x when the trial
 * passes); a non-zero return stops the minimisation with that code. */
typedef int (*ml_lbfgs_fn)(void *ud, const double *x, double *f, double *g);

struct ml_lbfgs_opts {
	int m;	      /* corrections kept (default 10, as SciPy) */
	int max_iter; /* iterations (default 15000) */
	double pgtol; /* stop when the projected gradient's largest entry is below this
		       * (default 1e-5, as SciPy) */
	double ftol;  /* stop when the relative decrease of f is below this (default
		       * 1e7 * DBL_EPSILON, SciPy's factr) */
};

void ml_lbfgs_opts_init(struct ml_lbfgs_opts *o);

/* Minimise fn over the box lo <= x <= hi (lo or hi NULL: unbounded) from x (projected
 * into the box first), leaving the best point found in x and its value in *fx. Returns
 * the iterations made, or the callback's non-zero code, or ML_E_NOMEM. */
int ml_lbfgs(ml_lbfgs_fn fn, void *ud, int n, double *x, const double *lo, const double *hi,
	     const struct ml_lbfgs_opts *o, double *fx);

#endif
