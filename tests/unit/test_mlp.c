/* Unit tests for -a mlp: numeric gradient checks of every layer kind (dense, batch
 * normalisation, each activation, dropout, embeddings, the tabular transformer's tokens,
 * layer norms and attention) and every loss, initialisation
 * and reproducibility, and fits through the library. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "learn/nn/nn.h"
#include "ml/ml.h"
#include "unit.h"

#define B 6

/* Outputs of the squared-error networks gradcheck builds: 1 as a regression, more as an
 * autoencoder's reconstruction. */
static int mse_out = 1;

/* The loss of the fixed batch with theta as it is: the same dropout draws each time. */
static double batch_loss(struct nn *net, struct nn_work *w, const float *x, const int32_t *lev,
			 const double *y, const double *wt, float *dz)
{
	struct ml_rng r;

	ml_rng_seed(&r, 99);
	memcpy(w->in, x, B * (size_t)net->size[0] * sizeof(float));
	return nn_loss(net->loss, nn_forward(net, w, B, lev, 1, &r), B, net->size[net->nlayer], y,
		       wt, 0, dz);
}

/* Every parameter's central differences of the loss in steps h0 and h0 / 2 against the
 * backward pass's gradient, after a forward and backward pass of the batch. A parameter
 * whose two steps disagree sits at a ReLU kink or a dropout edge and is skipped; at most
 * a tenth may. */
static void check_numeric(struct nn *net, struct nn_work *w, const float *x, const int32_t *lev,
			  const double *y, const double *wt, double h0, const char *what)
{
	float dz[B * 3], *ana = malloc(net->ntheta * sizeof(float));
	size_t k, skipped = 0, bad = 0;

	batch_loss(net, w, x, lev, y, wt, dz);
	nn_backward(net, w, B, lev, dz);
	memcpy(ana, w->grad, net->ntheta * sizeof(float));
	for (k = 0; k < net->ntheta; k++) {
		float t = net->theta[k];
		double h = h0, num[2];
		int s;
		for (s = 0; s < 2; s++, h /= 2) {
			double fp, fm;
			net->theta[k] = (float)(t + h);
			fp = batch_loss(net, w, x, lev, y, wt, dz);
			net->theta[k] = (float)(t - h);
			fm = batch_loss(net, w, x, lev, y, wt, dz);
			net->theta[k] = t;
			num[s] = (fp - fm) / ((double)(float)(t + h) - (double)(float)(t - h));
		}
		if (fabs(num[0] - num[1]) > 2e-3 * (1 + fabs(num[1]))) {
			skipped++;
			continue;
		}
		if (fabs(num[1] - ana[k]) > 2e-3 * (1 + fabs(num[1])) && bad++ < 3)
			fprintf(stderr, "%s: parameter %zu: numeric %.6g, backward %.6g\n", what, k,
				num[1], (double)ana[k]);
	}
	CHECK(bad == 0);
	CHECK(skipped * 10 <= net->ntheta);
	free(ana);
}

/* Central differences against the backward pass for every parameter. A parameter whose
 * two step sizes disagree sits at a ReLU kink or a dropout edge and is skipped; few may. */
static void gradcheck(int act, int bn, int loss, float dropout, int embed)
{
	int size[4] = {embed ? 5 : 3, 5, 4, loss == NN_SOFTMAX ? 3 : loss == NN_MSE ? mse_out : 1};
	struct nn_embed em = {3, 2, 4, 0};
	struct nn *net = nn_new(3, size, act, bn, loss, dropout, embed, &em);
	struct nn_work w;
	struct ml_rng r;
	float x[B * 5];
	char what[128];
	double y[B * 3], wt[B];
	int32_t lev[B];
	size_t i, k;

	CHECK(net != NULL);
	if (!net)
		return;
	CHECK(nn_work_init(&w, net, B) == 0);
	ml_rng_seed(&r, (uint64_t)(act * 100 + bn * 10 + loss + embed * 1000));
	nn_init(net, &r);
	/* move the batch norm parameters and biases off their starting values */
	for (k = 0; k < net->ntheta; k++)
		net->theta[k] += (float)(0.1 * ml_rng_normal(&r));
	for (i = 0; i < B * (size_t)size[0]; i++)
		x[i] = (float)ml_rng_normal(&r);
	for (i = 0; i < B; i++) {
		y[i] = loss == NN_MSE ? ml_rng_normal(&r) : (double)(i % (loss == NN_SOFTMAX ? 3 : 2));
		y[B + i] = ml_rng_normal(&r);
		y[2 * B + i] = ml_rng_normal(&r);
		wt[i] = 0.5 + ml_rng_uniform(&r);
		lev[i] = (int32_t)(i % 5) - 1; /* one row without a level */
	}
	snprintf(what, sizeof(what), "act %d bn %d loss %d dropout %g embed %d", act, bn, loss,
		 dropout, embed);
	check_numeric(net, &w, x, embed ? lev : NULL, y, wt, 1e-2, what);
	nn_work_release(&w);
	nn_free(net);
}

static void test_gradients(void)
{
	int act, bn, loss;

	for (act = NN_RELU; act <= NN_GELU; act++)
		for (bn = 0; bn <= 1; bn++)
			for (loss = NN_MSE; loss <= NN_SOFTMAX; loss++)
				gradcheck(act, bn, loss, 0, 0);
}

/* The autoencoder's output: three identity outputs under the squared error averaged
 * over them, through every activation, batch norm and dropout. */
static void test_gradients_multi_output(void)
{
	int act, bn;

	mse_out = 3;
	for (act = NN_RELU; act <= NN_GELU; act++)
		for (bn = 0; bn <= 1; bn++)
			gradcheck(act, bn, NN_MSE, 0, 0);
	gradcheck(NN_TANH, 1, NN_MSE, 0.2f, 0);
	mse_out = 1;
}

static void test_gradients_dropout_embedding(void)
{
	gradcheck(NN_TANH, 0, NN_SOFTMAX, 0.3f, 0);
	gradcheck(NN_GELU, 1, NN_SIGMOID, 0.2f, 0);
	gradcheck(NN_TANH, 0, NN_MSE, 0, 1);
	gradcheck(NN_GELU, 1, NN_SOFTMAX, 0.25f, 1);
}

/* The losses at known points: softmax of equal margins, the sigmoid at 0, half the
 * squared error. */
static void test_losses(void)
{
	float z[6] = {0, 0, 0, 1, 2, 3}, dz[6];
	double y[2] = {1, 2}, v;

	v = nn_loss(NN_SOFTMAX, z, 2, 3, y, NULL, 0, dz);
	CHECK_NEAR(v, 0.5 * (log(3.0) + (3 + log(exp(-2.0) + exp(-1.0) + 1) - 3)), 1e-6);
	CHECK_NEAR(dz[1], 0.5 * (1.0 / 3 - 1), 1e-6);
	y[0] = 0;
	v = nn_loss(NN_SIGMOID, z, 1, 1, y, NULL, 0, dz);
	CHECK_NEAR(v, log(2.0), 1e-12);
	CHECK_NEAR(dz[0], 0.5, 1e-7);
	y[0] = 3;
	v = nn_loss(NN_MSE, z + 4, 1, 1, y, NULL, 0, dz);
	CHECK_NEAR(v, 0.5, 1e-12);
	CHECK_NEAR(dz[0], -1, 1e-7);
	/* three outputs: the squared error averaged over them, as scikit-learn's */
	v = nn_loss(NN_MSE, z + 3, 1, 3, (const double[]){0, 0, 0}, NULL, 0, dz);
	CHECK_NEAR(v, 0.5 * (1 + 4 + 9) / 3.0, 1e-12);
	CHECK_NEAR(dz[2], 3 / 3.0, 1e-7);
}

/* A batch of NB rows x (nin inputs each, lev their levels or NULL) through net whole and
 * cut into NS shards of rows[k], as training cuts it: the dropout masks drawn ahead for
 * the shards are those the whole batch draws, the shards' losses against the batch's
 * total weight add up to the batch's loss, and their gradients to the batch's. */
enum { NB = 12, NS = 3 };
static void shards_match(struct nn *net, const float *x, size_t nin, const int32_t *lev,
			 const double *y, const double *wt, uint64_t seed)
{
	struct nn_work whole, part[NS];
	struct ml_rng r;
	float dz[NB * 3], *g;
	double W = 0, L, Ls = 0;
	size_t rows[NS] = {5, 4, 3}, i, k, at = 0, ne = lev ? 1 : 0;

	for (i = 0; i < NB; i++)
		W += wt[i];
	CHECK(nn_work_init(&whole, net, NB) == 0);
	memcpy(whole.in, x, NB * nin * sizeof(float));
	ml_rng_seed(&r, seed);
	L = nn_loss(net->loss, nn_forward(net, &whole, NB, lev, 1, &r), NB, 3, y, wt, 0, dz);
	nn_backward(net, &whole, NB, lev, dz);
	g = calloc(net->ntheta, sizeof(float));
	for (k = 0; k < NS; k++)
		CHECK(nn_work_init(&part[k], net, 5) == 0);
	ml_rng_seed(&r, seed);
	nn_dropout_masks(net, part, rows, NS, &r);
	for (k = 0; k < NS; k++) {
		if (!net->tf.on) {
			size_t nm = rows[k] * (size_t)net->size[1] * sizeof(float);
			CHECK(memcmp(part[k].mask[0], whole.mask[0] + at * (size_t)net->size[1], nm) ==
			      0);
		}
		memcpy(part[k].in, x + at * nin, rows[k] * nin * sizeof(float));
		Ls += nn_loss(net->loss,
			      nn_forward(net, &part[k], rows[k], lev ? lev + at * ne : NULL, 1, NULL),
			      rows[k], 3, y + at, wt + at, W, dz);
		nn_backward(net, &part[k], rows[k], lev ? lev + at * ne : NULL, dz);
		for (i = 0; i < net->ntheta; i++)
			g[i] += part[k].grad[i];
		at += rows[k];
	}
	CHECK_NEAR(Ls, L, 1e-12);
	for (i = 0; i < net->ntheta; i++)
		CHECK_NEAR(g[i], whole.grad[i], 1e-6);
	free(g);
	for (k = 0; k < NS; k++)
		nn_work_release(&part[k]);
	nn_work_release(&whole);
}

static void test_shards(void)
{
	int size[3] = {5, 7, 3};
	struct nn_embed em = {3, 2, 4, 0};
	struct nn *net = nn_new(2, size, NN_TANH, 0, NN_SOFTMAX, 0.3f, 1, &em);
	struct ml_rng r;
	float x[NB * 5];
	double y[NB], wt[NB];
	int32_t lev[NB];
	size_t i;

	CHECK(net != NULL);
	if (!net)
		return;
	ml_rng_seed(&r, 17);
	nn_init(net, &r);
	for (i = 0; i < NB * 5; i++)
		x[i] = (float)ml_rng_normal(&r);
	for (i = 0; i < NB; i++) {
		y[i] = (double)(i % 3);
		wt[i] = 0.5 + ml_rng_uniform(&r);
		lev[i] = (int32_t)(i % 5) - 1;
	}
	shards_match(net, x, 5, lev, y, wt, 23);
	nn_free(net);
}

/* The tabular transformer: a numeric feature, a categorical one of three levels (one-hot
 * columns, a row with none set) and another numeric one as tokens, two blocks of two
 * heads; central differences against its backward pass, in smaller steps than above: the
 * layer norms make the loss curve sharply within 1e-2 of a parameter. */
static void tf_gradcheck(int act, int loss, float dropout, float adrop, int nout)
{
	enum { NIN = 5, P = 3 };
	int size[2] = {NIN, nout}, first[P] = {0, 1, 4}, width[P] = {1, 3, 1};
	struct nn *net = nn_new(1, size, act, 0, loss, dropout, 0, NULL);
	struct nn_work w;
	struct ml_rng r;
	float x[B * NIN];
	char what[128];
	double y[B * 3], wt[B];
	size_t i, k;

	CHECK(net != NULL && nn_tf_setup(net, P, first, width, 2, 2, 4, 6) == 0);
	net->tf.adrop = adrop;
	CHECK(nn_work_init(&w, net, B) == 0);
	ml_rng_seed(&r, (uint64_t)(act * 100 + loss + 7));
	nn_init(net, &r);
	for (k = 0; k < net->ntheta; k++)
		net->theta[k] += (float)(0.1 * ml_rng_normal(&r));
	memset(x, 0, sizeof(x));
	for (i = 0; i < B; i++) {
		x[i * NIN] = (float)ml_rng_normal(&r);
		if (i % 4 != 3)
			x[i * NIN + 1 + i % 4] = 1;
		x[i * NIN + 4] = (float)ml_rng_normal(&r);
		y[i] = loss == NN_MSE ? ml_rng_normal(&r) : (double)(i % (loss == NN_SOFTMAX ? 3 : 2));
		y[B + i] = ml_rng_normal(&r);
		y[2 * B + i] = ml_rng_normal(&r);
		wt[i] = 0.5 + ml_rng_uniform(&r);
	}
	snprintf(what, sizeof(what), "transformer act %d loss %d dropout %g attention %g", act,
		 loss, dropout, adrop);
	check_numeric(net, &w, x, NULL, y, wt, 2e-3, what);
	nn_work_release(&w);
	nn_free(net);
}

static void test_gradients_transformer(void)
{
	int act, loss;

	for (act = NN_RELU; act <= NN_GELU; act++)
		for (loss = NN_MSE; loss <= NN_SOFTMAX; loss++)
			tf_gradcheck(act, loss, 0, 0, loss == NN_SOFTMAX ? 3 : 1);
	tf_gradcheck(NN_GELU, NN_MSE, 0, 0, 3);
	tf_gradcheck(NN_TANH, NN_SOFTMAX, 0.3f, 0, 3);
	tf_gradcheck(NN_GELU, NN_SIGMOID, 0, 0.3f, 1);
	tf_gradcheck(NN_TANH, NN_SOFTMAX, 0.2f, 0.25f, 3);
}

/* The transformer's batch cut into shards: with its attention's and feed-forward layers'
 * dropout drawn ahead, the losses and gradients add up to the whole batch's. */
static void test_shards_transformer(void)
{
	enum { NIN = 5 };
	int size[2] = {NIN, 3}, first[3] = {0, 1, 4}, width[3] = {1, 3, 1};
	struct nn *net = nn_new(1, size, NN_RELU, 0, NN_SOFTMAX, 0.3f, 0, NULL);
	struct ml_rng r;
	float x[NB * NIN];
	double y[NB], wt[NB];
	size_t i;

	CHECK(net != NULL && nn_tf_setup(net, 3, first, width, 2, 2, 4, 8) == 0);
	net->tf.adrop = 0.2f;
	ml_rng_seed(&r, 19);
	nn_init(net, &r);
	memset(x, 0, sizeof(x));
	for (i = 0; i < NB; i++) {
		x[i * NIN] = (float)ml_rng_normal(&r);
		x[i * NIN + 1 + i % 3] = 1;
		x[i * NIN + 4] = (float)ml_rng_normal(&r);
		y[i] = (double)(i % 3);
		wt[i] = 0.5 + ml_rng_uniform(&r);
	}
	shards_match(net, x, NIN, NULL, y, wt, 29);
	nn_free(net);
}

/* He initialisation has the variance 2 / fan-in; the same seed gives the same network. */
static void test_init(void)
{
	int size[3] = {400, 300, 2};
	struct nn *a = nn_new(2, size, NN_RELU, 0, NN_SOFTMAX, 0, 0, NULL);
	struct nn *b = nn_new(2, size, NN_RELU, 0, NN_SOFTMAX, 0, 0, NULL);
	struct ml_rng r;
	double s = 0;
	size_t i;

	ml_rng_seed(&r, 5);
	nn_init(a, &r);
	ml_rng_seed(&r, 5);
	nn_init(b, &r);
	CHECK(memcmp(a->theta, b->theta, a->ntheta * sizeof(float)) == 0);
	for (i = 0; i < 400 * 300; i++)
		s += (double)a->theta[i] * a->theta[i];
	CHECK_NEAR(s / (400 * 300), 2.0 / 400, 0.02);
	/* the output layer is Glorot uniform: bounded by sqrt(6 / (300 + 2)) */
	for (i = 0; i < 300 * 2; i++)
		CHECK(fabsf(a->theta[a->woff[1] + i]) <= (float)sqrt(6.0 / 302));
	nn_free(a);
	nn_free(b);
}

int main(void)
{
	RUN(test_losses);
	RUN(test_gradients);
	RUN(test_gradients_dropout_embedding);
	RUN(test_gradients_multi_output);
	RUN(test_init);
	RUN(test_shards);
	RUN(test_gradients_transformer);
	RUN(test_shards_transformer);
	printf("%d passed, %d failed\n", unit_tests_passed, unit_tests_failed);
	return UNIT_EXIT();
}
