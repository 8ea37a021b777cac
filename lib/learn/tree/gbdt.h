/* Declarations that the files of gradient boosting (-a gbdt) share: its objectives. */
#ifndef ML_GBDT_H
#define ML_GBDT_H

#include <math.h>
#include <stddef.h>

/* --objective, in the order of its choices (stored in model files: never renumbered). */
enum {
	OBJ_AUTO = 0,
	OBJ_LOGISTIC,
	OBJ_SOFTMAX,
	OBJ_SQUARED,
	OBJ_ABSOLUTE,
	OBJ_HUBER,
	OBJ_QUANTILE,
	OBJ_POISSON,
	OBJ_COUNT
};

/* Per objective: its --objective name, and the metric its progress lines report. */
extern const char *const ml_gbdt_obj_name[OBJ_COUNT];
extern const char *const ml_gbdt_metric_name[OBJ_COUNT];

/* Inline: predictions take it row by row. */
static inline double ml_gbdt_sigmoid(double z)
{
	if (z >= 0)
		return 1 / (1 + exp(-z));
	else {
		double ez = exp(z);
		return ez / (1 + ez);
	}
}

/* Gradient and hessian of the loss of one row (weight 1) at margin f, for the single
 * margin objectives. */
void ml_gbdt_grad1(int obj, double f, double y, double delta, double alpha, double *g, double *h);

/* The binary logistic pass has an AVX2 version, taken when the processor has it. */
#if defined(__GNUC__) && defined(__x86_64__)
#define HAVE_PASS8 1
#endif

/* The weighted (g, h) pairs of logistic rows [0, n) into gh, in single precision: n a
 * multiple of 4 (of 8 when avx2 is set). */
void ml_gbdt_logistic_pass(const double *f, const double *y, const double *w, float *gh, size_t n,
			   int avx2);
/* One row's (g, h) by the same arithmetic. */
void ml_gbdt_logistic_gh(double f, double y, double w, float *gh);
/* A softmax row's (g, h) pairs per class with weight w into gh[2k], gh[2k + 1]; the
 * hessian is the diagonal p (1 - p). Returns the row's loss (weight 1). */
double ml_gbdt_softmax_gh(const double *f, int K, int y, double w, float *gh);
/* The loss of one row (weight 1); for softmax the margins are f[0..K). */
double ml_gbdt_loss1(int obj, const double *f, int K, double y, double delta, double alpha);
/* The metric from the summed losses of rows of weight W. */
double ml_gbdt_metric_of(int obj, double sum, double W);

/* For tests: the loss of one row of weight 1 at margins f[0..K) (K > 1 for softmax
 * only), and the gradient and hessian (diagonal) that gbdt boosts with, rounded to single
 * precision as it stores them. objective: a --objective name other than auto. Returns
 * 0, or -1 for an unknown objective or a bad K. The loss is the one the gradient
 * belongs to: half the squared error, half the Poisson deviance. */
int ml_gbdt_objective(const char *objective, const double *f, int K, double y, double delta,
		      double alpha, double *loss, double *g, double *h);

#endif
