/* The objectives gbdt boosts: each row's gradient and hessian, its loss, the metric. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "gbdt.h"

const char *const ml_gbdt_obj_name[OBJ_COUNT] = {"auto",	  "logistic",	    "softmax",
						 "squared-error", "absolute-error", "huber",
						 "quantile",	  "poisson"};
const char *const ml_gbdt_metric_name[OBJ_COUNT] = {
    "", "logloss", "mlogloss", "rmse", "mae", "huber", "pinball", "poisson-deviance"};

/* Gradient and hessian of the loss of one row (weight 1) at margin f, for the single
 * margin objectives. */
void ml_gbdt_grad1(int obj, double f, double y, double delta, double alpha, double *g, double *h)
{
	double r = f - y;

	switch (obj) {
	case OBJ_LOGISTIC: {
		double p = ml_gbdt_sigmoid(f);
		*g = p - y;
		*h = fmax(p * (1 - p), 1e-16);
		break;
	}
	case OBJ_SQUARED:
		*g = r;
		*h = 1;
		break;
	case OBJ_ABSOLUTE:
		*g = r > 0 ? 1 : r < 0 ? -1 : 0;
		*h = 1;
		break;
	case OBJ_HUBER:
		*g = fabs(r) <= delta ? r : r > 0 ? delta : -delta;
		*h = 1;
		break;
	case OBJ_QUANTILE:
		*g = r >= 0 ? 1 - alpha : -alpha;
		*h = 1;
		break;
	case OBJ_POISSON: {
		double mu = exp(f);
		*g = mu - y;
		*h = mu;
		break;
	}
	default:
		*g = 0;
		*h = 1;
	}
}

/* The binary logistic gradient pass in single precision, as the booster stores (g, h):
 * with e = exp(-|f|) the class probabilities are 1 / (1 + e) and e / (1 + e), both
 * accurate. e^x (x <= 0) is Cephes' expf: x = n ln 2 + r, a degree-5 polynomial for e^r,
 * 2^n from the exponent bits; within 2 ulp, below e^-87 flushed to 0. Written once for
 * a vector of L lanes and instantiated for SSE (4) and, where the processor has it, AVX2
 * (8): the operations per lane are the same IEEE ones, so both give the same bits. */
#define LOGISTIC_PASS(NAME, L, ATTR)                                                               \
	typedef float NAME##_vf __attribute__((vector_size(4 * L)));                               \
	typedef int32_t NAME##_vi __attribute__((vector_size(4 * L)));                             \
	typedef double NAME##_vd __attribute__((vector_size(8 * L)));                              \
	ATTR static void NAME(const double *f, const double *y, const double *w, float *gh,        \
			      size_t n)                                                            \
	{                                                                                          \
		const NAME##_vf zero = {0}, lo = zero - 87.0f, l2e = zero + 1.44269504088896341f;  \
		const NAME##_vf c1 = zero + 0.693359375f, c2 = zero - 2.12194440e-4f;              \
		size_t i;                                                                          \
		int l;                                                                             \
		for (i = 0; i + L <= n; i += L) {                                                  \
			NAME##_vf vf, vy, vw, x, fx, z, e, big, q, p1, p0, g, h;                   \
			NAME##_vi pos, one, keep, tiny, k;                                         \
			NAME##_vd dd;                                                              \
			memcpy(&dd, f + i, sizeof(dd));                                            \
			vf = __builtin_convertvector(dd, NAME##_vf);                               \
			memcpy(&dd, y + i, sizeof(dd));                                            \
			vy = __builtin_convertvector(dd, NAME##_vf);                               \
			if (w) {                                                                   \
				memcpy(&dd, w + i, sizeof(dd));                                    \
				vw = __builtin_convertvector(dd, NAME##_vf);                       \
			} else {                                                                   \
				vw = zero + 1.0f;                                                  \
			}                                                                          \
			pos = vf >= 0;                                                             \
			x = (NAME##_vf)((NAME##_vi)vf | (INT32_MIN + (NAME##_vi){0}));             \
			keep = x > lo;                                                             \
			x = (NAME##_vf)(((NAME##_vi)x & keep) | ((NAME##_vi)lo & ~keep));          \
			fx = x * l2e - 0.5f;                                                       \
			k = __builtin_convertvector(fx, NAME##_vi);                                \
			k += (NAME##_vi)(__builtin_convertvector(k, NAME##_vf) < fx) & 1;          \
			fx = __builtin_convertvector(k, NAME##_vf);                                \
			x = x - fx * c1 - fx * c2;                                                 \
			z = x * x;                                                                 \
			e = zero + 1.9875691500e-4f;                                               \
			e = e * x + 1.3981999507e-3f;                                              \
			e = e * x + 8.3334519073e-3f;                                              \
			e = e * x + 4.1665795894e-2f;                                              \
			e = e * x + 1.6666665459e-1f;                                              \
			e = e * x + 5.0000001201e-1f;                                              \
			e = e * z + x + 1.0f;                                                      \
			e = (NAME##_vf)((NAME##_vi)e + (k << 23));                                 \
			e = (NAME##_vf)((NAME##_vi)e & keep);                                      \
			big = 1.0f / (1.0f + e);                                                   \
			q = e * big;                                                               \
			p1 = (NAME##_vf)(((NAME##_vi)big & pos) | ((NAME##_vi)q & ~pos));          \
			p0 = (NAME##_vf)(((NAME##_vi)q & pos) | ((NAME##_vi)big & ~pos));          \
			one = vy > 0.5f;                                                           \
			g = vw *                                                                   \
			    (NAME##_vf)(((NAME##_vi)(zero - p0) & one) | ((NAME##_vi)p1 & ~one));  \
			h = big * q;                                                               \
			tiny = h > 1e-16f;                                                         \
			h = vw * (NAME##_vf)(((NAME##_vi)h & tiny) |                               \
					     ((NAME##_vi)(zero + 1e-16f) & ~tiny));                \
			for (l = 0; l < L; l++) {                                                  \
				gh[2 * (i + l)] = g[l];                                            \
				gh[2 * (i + l) + 1] = h[l];                                        \
			}                                                                          \
		}                                                                                  \
	}

LOGISTIC_PASS(logistic_pass4, 4, )
#ifdef HAVE_PASS8
LOGISTIC_PASS(logistic_pass8, 8, __attribute__((target("avx2"))))
#endif

/* (g, h) of rows [0, n): n a multiple of 4 (of 8 when the processor has AVX2). */
void ml_gbdt_logistic_pass(const double *f, const double *y, const double *w, float *gh, size_t n,
			   int avx2)
{
#ifdef HAVE_PASS8
	if (avx2 && n % 8 == 0) {
		logistic_pass8(f, y, w, gh, n);
		return;
	}
#endif
	(void)avx2;
	logistic_pass4(f, y, w, gh, n);
}

/* One row's (g, h) by the same arithmetic. */
void ml_gbdt_logistic_gh(double f, double y, double w, float *gh)
{
	double f4[4] = {f, f, f, f}, y4[4] = {y, y, y, y}, w4[4] = {w, w, w, w};
	float out[8];

	logistic_pass4(f4, y4, w4, out, 4);
	gh[0] = out[0];
	gh[1] = out[1];
}

/* A softmax row's (g, h) pairs per class with weight w into gh[2k], gh[2k + 1]; the
 * hessian is the diagonal p (1 - p). Returns the row's loss (weight 1). */
double ml_gbdt_softmax_gh(const double *f, int K, int y, double w, float *gh)
{
	double zmax = f[0], s = 0, pr[256];
	int k;

	for (k = 1; k < K; k++)
		if (f[k] > zmax)
			zmax = f[k];
	for (k = 0; k < K; k++) {
		pr[k] = exp(f[k] - zmax);
		s += pr[k];
	}
	for (k = 0; k < K; k++) {
		double p = pr[k] / s;
		gh[2 * k] = (float)(w * (p - (k == y)));
		double h = p * (1 - p);
		gh[2 * k + 1] = (float)(w * (h > 1e-16 ? h : 1e-16));
	}
	return zmax + log(s) - f[y];
}

/* The loss of one row (weight 1); for softmax the margins are f[0..K). */
double ml_gbdt_loss1(int obj, const double *f, int K, double y, double delta, double alpha)
{
	double r;

	switch (obj) {
	case OBJ_LOGISTIC: {
		double z = f[0];
		return (z > 0 ? z : 0) + log1p(exp(-fabs(z))) - y * z;
	}
	case OBJ_SOFTMAX: {
		double zmax = f[0], s = 0;
		int k;
		for (k = 1; k < K; k++)
			if (f[k] > zmax)
				zmax = f[k];
		for (k = 0; k < K; k++)
			s += exp(f[k] - zmax);
		return zmax + log(s) - f[(int)y];
	}
	case OBJ_SQUARED:
		r = f[0] - y;
		return r * r;
	case OBJ_ABSOLUTE:
		return fabs(f[0] - y);
	case OBJ_HUBER:
		r = fabs(f[0] - y);
		return r <= delta ? 0.5 * r * r : delta * (r - 0.5 * delta);
	case OBJ_QUANTILE:
		r = y - f[0];
		return r >= 0 ? alpha * r : (alpha - 1) * r;
	case OBJ_POISSON: {
		double mu = exp(f[0]);
		return 2 * ((y > 0 ? y * log(y / mu) : 0) - (y - mu));
	}
	}
	return 0;
}

int ml_gbdt_objective(const char *objective, const double *f, int K, double y, double delta,
		      double alpha, double *loss, double *g, double *h)
{
	int obj, k;
	float gh[512];

	for (obj = OBJ_LOGISTIC; obj < OBJ_COUNT; obj++)
		if (strcmp(ml_gbdt_obj_name[obj], objective) == 0)
			break;
	if (obj == OBJ_COUNT || K < 1 || K > 256 || (obj == OBJ_SOFTMAX) != (K > 1))
		return -1;
	*loss = ml_gbdt_loss1(obj, f, K, y, delta, alpha);
	if (obj == OBJ_SQUARED || obj == OBJ_POISSON)
		*loss /= 2;
	if (obj == OBJ_SOFTMAX) {
		ml_gbdt_softmax_gh(f, K, (int)y, 1, gh);
		for (k = 0; k < K; k++) {
			g[k] = gh[2 * k];
			h[k] = gh[2 * k + 1];
		}
	} else if (obj == OBJ_LOGISTIC) {
		ml_gbdt_logistic_gh(f[0], y, 1, gh);
		g[0] = gh[0];
		h[0] = gh[1];
	} else {
		ml_gbdt_grad1(obj, f[0], y, delta, alpha, g, h);
		g[0] = (float)g[0];
		h[0] = (float)h[0];
	}
	return 0;
}

/* The metric from the summed losses: RMSE takes a root. */
double ml_gbdt_metric_of(int obj, double sum, double W)
{
	double m = W > 0 ? sum / W : 0;
	return obj == OBJ_SQUARED ? sqrt(m) : m;
}
