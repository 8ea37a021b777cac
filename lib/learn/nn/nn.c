/* The network of nn.h: dense layers through cblas_sgemm, batch normalisation, ReLU, tanh
 * and GELU, inverted dropout, embeddings, and the three losses (the squared error on any number of
 * identity outputs). */
#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"

#define BN_EPS 1e-5f
#define BN_MOMENTUM 0.1f

void nn_free(struct nn *net)
{
	if (!net)
		return;
	free(net->size);
	free(net->theta);
	free(net->woff);
	free(net->boff);
	free(net->goff);
	free(net->rmean);
	free(net->rvar);
	free(net->roff);
	free(net->embed);
	free(net->wr);
	free(net->tf.first);
	free(net->tf.width);
	free(net);
}

struct nn *nn_new(int nlayer, const int *size, int act, int bn, int loss, float dropout,
		  int nembed, const struct nn_embed *embed)
{
	struct nn *net = calloc(1, sizeof(*net));
	size_t t = 0, r = 0;
	int l, k;

	if (!net)
		return NULL;
	net->nlayer = nlayer;
	net->act = act;
	net->bn = bn;
	net->loss = loss;
	net->dropout = dropout;
	net->size = malloc((size_t)(nlayer + 1) * sizeof(int));
	net->woff = malloc((size_t)nlayer * sizeof(size_t));
	net->boff = malloc((size_t)nlayer * sizeof(size_t));
	net->goff = malloc((size_t)nlayer * sizeof(size_t));
	net->roff = malloc((size_t)nlayer * sizeof(size_t));
	net->embed = malloc((size_t)(nembed + 1) * sizeof(*embed));
	net->nwr = nlayer;
	net->wr = malloc(2 * (size_t)nlayer * sizeof(size_t));
	if (!net->size || !net->woff || !net->boff || !net->goff || !net->roff || !net->embed ||
	    !net->wr) {
		nn_free(net);
		return NULL;
	}
	memcpy(net->size, size, (size_t)(nlayer + 1) * sizeof(int));
	for (l = 0; l < nlayer; l++) {
		net->woff[l] = net->wr[2 * l] = t;
		t += (size_t)size[l] * (size_t)size[l + 1];
		net->wr[2 * l + 1] = t;
		net->boff[l] = t;
		t += (size_t)size[l + 1];
		net->goff[l] = t;
		net->roff[l] = r;
		if (bn && l < nlayer - 1) {
			t += 2 * (size_t)size[l + 1];
			r += (size_t)size[l + 1];
		}
	}
	net->nembed = nembed;
	for (k = 0; k < nembed; k++) {
		net->embed[k] = embed[k];
		net->embed[k].off = t;
		t += (size_t)embed[k].nlev * (size_t)embed[k].dim;
	}
	net->ntheta = t;
	net->theta = calloc(t + 1, sizeof(float));
	net->rmean = calloc(r + 1, sizeof(float));
	net->rvar = malloc((r + 1) * sizeof(float));
	if (!net->theta || !net->rmean || !net->rvar) {
		nn_free(net);
		return NULL;
	}
	for (l = 0; l < (int)r; l++)
		net->rvar[l] = 1;
	return net;
}

void nn_init(struct nn *net, struct ml_rng *rng)
{
	int l, k;
	size_t i;

	if (net->tf.on) {
		nn_tf_init(net, rng);
		return;
	}
	for (l = 0; l < net->nlayer; l++) {
		size_t fi = (size_t)net->size[l], fo = (size_t)net->size[l + 1];
		float *W = net->theta + net->woff[l];
		int he = l < net->nlayer - 1 && net->act != NN_TANH;
		double s = he ? sqrt(2.0 / (double)fi) : sqrt(6.0 / (double)(fi + fo));
		for (i = 0; i < fi * fo; i++)
			W[i] = (float)(he ? s * ml_rng_normal(rng)
					  : s * (2 * ml_rng_uniform(rng) - 1));
		if (net->bn && l < net->nlayer - 1)
			for (i = 0; i < fo; i++)
				net->theta[net->goff[l] + i] = 1;
	}
	for (k = 0; k < net->nembed; k++) {
		const struct nn_embed *em = &net->embed[k];
		for (i = 0; i < (size_t)em->nlev * (size_t)em->dim; i++)
			net->theta[em->off + i] = (float)ml_rng_normal(rng);
	}
}

void nn_work_release(struct nn_work *w)
{
	int l;

	nn_tf_work_release(w);
	if (w->h)
		for (l = 0; w->h[l]; l++) {
			free(w->h[l]);
			free(w->u[l]);
			free(w->a[l]);
			free(w->mask[l]);
			free(w->mu[l]);
			free(w->istd[l]);
		}
	free(w->h);
	free(w->u);
	free(w->a);
	free(w->mask);
	free(w->mu);
	free(w->istd);
	free(w->in);
	free(w->d1);
	free(w->d2);
	free(w->grad);
	memset(w, 0, sizeof(*w));
}

int nn_work_init(struct nn_work *w, const struct nn *net, size_t cap)
{
	int l, L = net->nlayer, wide = 0;

	memset(w, 0, sizeof(*w));
	w->cap = cap;
	if (net->tf.on) {
		w->in = malloc(cap * (size_t)net->size[0] * sizeof(float) + 4);
		w->grad = malloc(net->ntheta * sizeof(float) + 4);
		if (!w->in || !w->grad || nn_tf_work_init(w, net) < 0) {
			nn_work_release(w);
			return -1;
		}
		return 0;
	}
	for (l = 0; l <= L; l++)
		if (net->size[l] > wide)
			wide = net->size[l];
	w->h = calloc((size_t)L + 1, sizeof(float *));
	w->u = calloc((size_t)L + 1, sizeof(float *));
	w->a = calloc((size_t)L + 1, sizeof(float *));
	w->mask = calloc((size_t)L + 1, sizeof(float *));
	w->mu = calloc((size_t)L + 1, sizeof(float *));
	w->istd = calloc((size_t)L + 1, sizeof(float *));
	w->in = malloc(cap * (size_t)net->size[0] * sizeof(float) + 4);
	w->d1 = malloc(cap * (size_t)wide * sizeof(float));
	w->d2 = malloc(cap * (size_t)wide * sizeof(float));
	w->grad = malloc(net->ntheta * sizeof(float) + 4);
	if (!w->h || !w->u || !w->a || !w->mask || !w->mu || !w->istd || !w->in || !w->d1 ||
	    !w->d2 || !w->grad) {
		nn_work_release(w);
		return -1;
	}
	for (l = 0; l < L; l++) {
		size_t o = (size_t)net->size[l + 1];
		w->h[l] = malloc(cap * o * sizeof(float));
		w->u[l] = malloc(cap * o * sizeof(float));
		w->a[l] = malloc(cap * o * sizeof(float));
		w->mask[l] = malloc(cap * o * sizeof(float));
		w->mu[l] = malloc(o * sizeof(float));
		w->istd[l] = malloc(o * sizeof(float));
		if (!w->h[l] || !w->u[l] || !w->a[l] || !w->mask[l] || !w->mu[l] || !w->istd[l]) {
			nn_work_release(w);
			return -1;
		}
	}
	return 0;
}

static float act_f(int act, float x)
{
	switch (act) {
	case NN_TANH:
		return tanhf(x);
	case NN_GELU:
		return 0.5f * x * (1 + erff(x * (float)M_SQRT1_2));
	default:
		return x > 0 ? x : 0;
	}
}

/* Derivative at pre-activation x (value y = act(x)). */
static float act_d(int act, float x, float y)
{
	switch (act) {
	case NN_TANH:
		return 1 - y * y;
	case NN_GELU:
		return 0.5f * (1 + erff(x * (float)M_SQRT1_2)) +
		       x * expf(-0.5f * x * x) * (float)(0.5 * M_2_SQRTPI * M_SQRT1_2);
	default:
		return x > 0 ? 1.0f : 0.0f;
	}
}

void nn_add_bias(float *restrict y, const float *restrict b, size_t n, size_t m)
{
	size_t i, j;

	for (i = 0; i < n; i++)
#pragma omp simd
		for (j = 0; j < m; j++)
			y[i * m + j] += b[j];
}

void nn_col_sums(float *restrict g, const float *restrict x, size_t n, size_t m)
{
	size_t i, j;

	for (i = 0; i < n; i++)
#pragma omp simd
		for (j = 0; j < m; j++)
			g[j] += x[i * m + j];
}

/* a = act(u) over n values. */
void nn_activate(int act, float *restrict a, const float *restrict u, size_t n)
{
	size_t i;

	if (act == NN_RELU) {
#pragma omp simd
		for (i = 0; i < n; i++)
			a[i] = u[i] > 0 ? u[i] : 0;
		return;
	}
	for (i = 0; i < n; i++)
		a[i] = act_f(act, u[i]);
}

/* The gradient d by the n outputs a = m act(u) of a hidden layer (m the dropout scale,
 * NULL for 1) into the gradient by u, in place. */
void nn_activate_back(int act, float *restrict d, const float *restrict u,
		      const float *restrict a, const float *restrict mask, size_t n)
{
	size_t i;

	if (act == NN_RELU && !mask) {
		/* the derivative as a value, 1 or 0 (a select would not vectorise) */
#pragma omp simd
		for (i = 0; i < n; i++) {
			float r = (float)(u[i] > 0);
			d[i] = d[i] * r;
		}
		return;
	}
	for (i = 0; i < n; i++) {
		float m = mask ? mask[i] : 1;
		if (m == 0) {
			d[i] = 0;
			continue;
		}
		d[i] *= m * act_d(act, u[i], a[i] / m);
	}
}

static void fill_embed(const struct nn *net, float *in, size_t b, const int32_t *lev)
{
	size_t i, n0 = (size_t)net->size[0];
	int k, j;

	for (i = 0; i < b; i++)
		for (k = 0; k < net->nembed; k++) {
			const struct nn_embed *em = &net->embed[k];
			int32_t v = lev[i * (size_t)net->nembed + (size_t)k];
			float *x = in + i * n0 + em->col;
			for (j = 0; j < em->dim; j++)
				x[j] = v >= 0 && v < em->nlev
					   ? net->theta[em->off + (size_t)v * (size_t)em->dim +
							(size_t)j]
					   : 0;
		}
}

static const float *forward(const struct nn *net, struct nn_work *w, size_t b,
			    const int32_t *lev, int train, struct ml_rng *rng, float *rmean,
			    float *rvar)
{
	int l, L = net->nlayer;
	size_t i, j;

	if (net->nembed && lev)
		fill_embed(net, w->in, b, lev);
	for (l = 0; l < L; l++) {
		size_t fi = (size_t)net->size[l], fo = (size_t)net->size[l + 1];
		const float *in = l == 0 ? w->in : w->a[l - 1], *bias = net->theta + net->boff[l];
		float *h = w->h[l];
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)b, (int)fo, (int)fi,
			    1.0f, in, (int)fi, net->theta + net->woff[l], (int)fo, 0.0f, h, (int)fo);
		nn_add_bias(h, bias, b, fo);
		if (l == L - 1)
			return h;
		if (net->bn) {
			const float *gam = net->theta + net->goff[l], *bet = gam + fo;
			float *mu = w->mu[l], *is = w->istd[l];
			for (j = 0; j < fo; j++) {
				if (train) {
					double s = 0, q = 0;
					for (i = 0; i < b; i++)
						s += h[i * fo + j];
					s /= (double)b;
					for (i = 0; i < b; i++)
						q += (h[i * fo + j] - s) * (h[i * fo + j] - s);
					q /= (double)b;
					mu[j] = (float)s;
					is[j] = (float)(1 / sqrt(q + BN_EPS));
					if (rmean) {
						rmean[net->roff[l] + j] =
						    (1 - BN_MOMENTUM) * rmean[net->roff[l] + j] +
						    BN_MOMENTUM * (float)s;
						rvar[net->roff[l] + j] =
						    (1 - BN_MOMENTUM) * rvar[net->roff[l] + j] +
						    BN_MOMENTUM * (float)q;
					}
				} else {
					mu[j] = net->rmean[net->roff[l] + j];
					is[j] = 1 / sqrtf(net->rvar[net->roff[l] + j] + BN_EPS);
				}
			}
			for (i = 0; i < b; i++)
				for (j = 0; j < fo; j++) {
					float xh = (h[i * fo + j] - mu[j]) * is[j];
					h[i * fo + j] = xh;
					w->u[l][i * fo + j] = gam[j] * xh + bet[j];
				}
		}
		/* without batch norm the pre-activation is h itself */
		nn_activate(net->act, w->a[l], net->bn ? w->u[l] : h, b * fo);
		if (train && net->dropout > 0) {
			float keep = 1 - net->dropout, sc = 1 / keep;
			for (i = 0; i < b * fo && rng; i++)
				w->mask[l][i] = ml_rng_uniform(rng) < keep ? sc : 0;
			for (i = 0; i < b * fo; i++)
				w->a[l][i] *= w->mask[l][i];
		}
	}
	return NULL;
}

const float *nn_forward(struct nn *net, struct nn_work *w, size_t b, const int32_t *lev,
			int train, struct ml_rng *rng)
{
	if (net->tf.on)
		return nn_tf_forward(net, w, b, train, rng);
	return forward(net, w, b, lev, train, rng, train ? net->rmean : NULL, net->rvar);
}

const float *nn_infer(const struct nn *net, struct nn_work *w, size_t b, const int32_t *lev)
{
	if (net->tf.on)
		return nn_tf_forward(net, w, b, 0, NULL);
	return forward(net, w, b, lev, 0, NULL, NULL, NULL);
}

void nn_dropout_masks(const struct nn *net, struct nn_work *w, const size_t *rows, int nw,
		      struct ml_rng *rng)
{
	float keep = 1 - net->dropout, sc = 1 / keep;
	int l, k;
	size_t i;

	if (net->tf.on) {
		nn_tf_masks(net, w, rows, nw, rng);
		return;
	}
	for (l = 0; l < net->nlayer - 1 && net->dropout > 0; l++)
		for (k = 0; k < nw; k++)
			for (i = 0; i < rows[k] * (size_t)net->size[l + 1]; i++)
				w[k].mask[l][i] = ml_rng_uniform(rng) < keep ? sc : 0;
}

double nn_loss(int loss, const float *z, size_t b, int k, const double *y, const double *wt,
	       double W, float *dz)
{
	double L = 0;
	size_t i;
	int c;

	if (!(W > 0)) {
		W = 0;
		for (i = 0; i < b; i++)
			W += wt ? wt[i] : 1;
	}
	if (!(W > 0))
		W = 1;
	for (i = 0; i < b; i++) {
		double wi = (wt ? wt[i] : 1) / W;
		const float *zi = z + i * (size_t)k;
		float *di = dz + i * (size_t)k;
		if (loss == NN_MSE) {
			/* half the squared error averaged over the k outputs, as
			 * scikit-learn's squared_loss */
			const double *yi = y + i * (size_t)k;
			double q = 0, wk = wi / k;
			for (c = 0; c < k; c++) {
				double r = (double)zi[c] - yi[c];
				q += r * r;
				di[c] = (float)(wk * r);
			}
			L += wk * 0.5 * q;
		} else if (loss == NN_SIGMOID) {
			double v = zi[0], p = 1 / (1 + exp(-v));
			/* log(1 + e^v) - y v, stably */
			L += wi * ((v > 0 ? v + log1p(exp(-v)) : log1p(exp(v))) - y[i] * v);
			di[0] = (float)(wi * (p - y[i]));
		} else {
			double m = zi[0], s = 0;
			for (c = 1; c < k; c++)
				if (zi[c] > m)
					m = zi[c];
			for (c = 0; c < k; c++)
				s += exp(zi[c] - m);
			L += wi * (m + log(s) - zi[(int)y[i]]);
			for (c = 0; c < k; c++)
				di[c] = (float)(wi * (exp(zi[c] - m) / s - (c == (int)y[i])));
		}
	}
	return L;
}

void nn_backward(const struct nn *net, struct nn_work *w, size_t b, const int32_t *lev,
		 const float *dz)
{
	int l, L = net->nlayer, k, j2;
	size_t i, j;
	float *dh = w->d1, *dn = w->d2, *g = w->grad;

	if (net->tf.on) {
		nn_tf_backward(net, w, b, dz);
		return;
	}
	/* every weight gradient and batch norm one is set below, the biases' and embeddings'
	 * accumulate */
	if (net->nembed)
		memset(g + net->embed[0].off, 0,
		       (net->ntheta - net->embed[0].off) * sizeof(float));
	memcpy(dh, dz, b * (size_t)net->size[L] * sizeof(float));
	for (l = L - 1; l >= 0; l--) {
		size_t fi = (size_t)net->size[l], fo = (size_t)net->size[l + 1];
		const float *in = l == 0 ? w->in : w->a[l - 1];
		float *gb = g + net->boff[l], *tmp;
		cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)fi, (int)fo, (int)b, 1.0f,
			    in, (int)fi, dh, (int)fo, 0.0f, g + net->woff[l], (int)fo);
		memset(gb, 0, fo * sizeof(float));
		nn_col_sums(gb, dh, b, fo);
		if (l == 0 && !(net->nembed && lev))
			break;
		/* the gradient by this layer's input */
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)b, (int)fi, (int)fo, 1.0f,
			    dh, (int)fo, net->theta + net->woff[l], (int)fo, 0.0f, dn, (int)fi);
		if (l == 0) {
			for (i = 0; i < b; i++)
				for (k = 0; k < net->nembed; k++) {
					const struct nn_embed *em = &net->embed[k];
					int32_t v = lev[i * (size_t)net->nembed + (size_t)k];
					if (v < 0 || v >= em->nlev)
						continue;
					for (j2 = 0; j2 < em->dim; j2++)
						g[em->off + (size_t)v * (size_t)em->dim +
						  (size_t)j2] += dn[i * fi + (size_t)em->col + (size_t)j2];
				}
			break;
		}
		/* back through hidden layer l - 1: dropout, activation, batch norm */
		{
			size_t h = fi;
			nn_activate_back(net->act, dn, net->bn ? w->u[l - 1] : w->h[l - 1],
				      w->a[l - 1], net->dropout > 0 ? w->mask[l - 1] : NULL, b * h);
			if (net->bn) {
				const float *gam = net->theta + net->goff[l - 1], *xh = w->h[l - 1];
				float *gg = g + net->goff[l - 1], *gbeta = gg + h;
				for (j = 0; j < h; j++) {
					double sd = 0, sdx = 0;
					for (i = 0; i < b; i++) {
						sd += dn[i * h + j];
						sdx += dn[i * h + j] * xh[i * h + j];
					}
					gg[j] = (float)sdx;
					gbeta[j] = (float)sd;
					sd /= (double)b;
					sdx /= (double)b;
					for (i = 0; i < b; i++)
						dn[i * h + j] =
						    gam[j] * w->istd[l - 1][j] *
						    (float)(dn[i * h + j] - sd - xh[i * h + j] * sdx);
				}
			}
		}
		tmp = dh;
		dh = dn;
		dn = tmp;
	}
}
