/* Linear predictors, private to libml: the state the linear family and logistic regression
 * share (coefficient vectors with intercepts), its margins, model sections and tables. */
#ifndef ML_LIB_LINEAR_H
#define ML_LIB_LINEAR_H

#include <stddef.h>
#include "learn/algo.h"

/* k vectors of p coefficients and an intercept: vector c is coef[c * (p + 1) + j] for
 * j < p, its intercept coef[c * (p + 1) + p]. k is 1 for regression and binary
 * classification (the second class), nclass for multinomial models. */
struct ml_lin {
	int p, k;
	double coef[];
};

struct ml_lin *ml_lin_new(int p, int k);
void ml_lin_free(void *state);

/* Margins of n rows of X (X[j * ld + i]) into out[i * k + c]. */
void ml_lin_margins(const struct ml_lin *m, const double *X, size_t n, size_t ld, double *out);

/* Store as section name (u32 p, u32 k, then per vector p coefficients and the intercept)
 * and back. load wants p and k to match: ML_E_DATA otherwise, or for a damaged section. */
int ml_lin_save(const struct ml_lin *m, const char *name, struct ml_model *mod, struct ml_err *e);
int ml_lin_load(struct ml_lin **out, const struct ml_model *mod, const char *name, int p, int k,
		struct ml_err *e);

/* The "coef" table: column feature ("(intercept)" first, then shape->names), and one
 * column "coef", or "coef_<class>" per vector when k > 1. */
int ml_lin_table(const struct ml_lin *m, const struct ml_data *shape, struct ml_frame *out,
		 struct ml_err *e);

#endif
