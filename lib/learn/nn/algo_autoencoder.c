/* Autoencoder (-a autoencoder): a dense network (the mlp's, mlp.h) trained to reconstruct
 * its standardised inputs through a narrow hidden layer, the bottleneck; a row's anomaly
 * score is its mean squared reconstruction error over the standardised features, and the
 * bottleneck's activations are features of their own (ml_autoencoder_embed). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "learn/anomaly/detect.h"
#include "mlp.h"

#define AE_VERSION 1

static const struct ml_param ae_params[] = {
    {"hidden", ML_P_INT_LIST, 0, 1, 65536, "",
     "hidden layer sizes, the narrowest the bottleneck (default H,K,H for p inputs: "
     "K = ceil(p/4), H = min(64, max(8, 2p)))"},
    MLP_TRAIN_PARAMS,
    ML_DETECT_PARAMS,
    {NULL, ML_P_REAL, 0, 0, 0, NULL, NULL}};

struct ae {
	struct mlp *m;
	int mid; /* the bottleneck: the hidden layer's index */
	struct ml_detect det;
};

static void ae_free(void *state)
{
	struct ae *a = state;

	if (!a)
		return;
	mlp_free(a->m);
	ml_detect_release(&a->det);
	free(a);
}

/* The first of the narrowest hidden layers. */
static int bottleneck(const struct nn *net)
{
	int l, mid = 0;

	for (l = 1; l < net->nlayer - 1; l++)
		if (net->size[l + 1] < net->size[mid + 1])
			mid = l;
	return mid;
}

/* The network over the rows of X, a chunk at a time. embed: the bottleneck's activations
 * into out[i * width + k]. Otherwise per row the squared reconstruction errors of its p
 * standardised features into out[i * ldo + j] (ldo > p leaves the rest alone), or with ldo
 * 0 their mean into out[i * ML_DETECT_NOUT]. */
static int ae_pass(const struct ae *a, const double *X, size_t n, size_t ld, double *out,
		   size_t ldo, int embed, struct ml_err *e)
{
	const struct mlp *m = a->m;
	struct nn_work w;
	size_t s, i, K = (size_t)m->net->size[a->mid + 1];
	int j, rc, p = m->nin;

	if ((rc = mlp_check_rows(m, X, n, ld, "autoencoder", e)) < 0)
		return rc;
	if (n == 0)
		return 0;
	if (nn_work_init(&w, m->net, MLP_CHUNK) < 0)
		return ml_err_nomem(e);
	ml_blas_hold(); /* as mlp's scoring */
	for (s = 0; s < n; s += MLP_CHUNK) {
		size_t b = n - s < MLP_CHUNK ? n - s : MLP_CHUNK;
		const float *z;
		mlp_encode(m, X, ld, s, b, &w, NULL);
		z = nn_infer(m->net, &w, b, NULL);
		if (embed) {
			for (i = 0; i < b * K; i++)
				out[s * K + i] = w.a[a->mid][i];
			continue;
		}
		for (i = 0; i < b; i++) {
			const float *zi = z + i * (size_t)p, *xi = w.in + i * (size_t)p;
			double q = 0;
			for (j = 0; j < p; j++) {
				double r = (double)zi[j] - (double)xi[j];
				if (ldo)
					out[(s + i) * ldo + (size_t)j] = r * r;
				q += r * r;
			}
			if (!ldo)
				out[(s + i) * ML_DETECT_NOUT] = q / p;
		}
	}
	ml_blas_release();
	nn_work_release(&w);
	return 0;
}

static int ae_nembed(const void *state)
{
	const struct ae *a = state;

	return a->m->net->size[a->mid + 1];
}

static int ae_predict(const void *state, const double *X, size_t n, size_t ld, double *out,
		      int what, struct ml_err *e)
{
	const struct ae *a = state;
	int rc;

	if (what == ML_OUT_EMBED)
		return ae_pass(a, X, n, ld, out, 0, 1, e);
	if ((rc = ae_pass(a, X, n, ld, out, 0, 0, e)) < 0)
		return rc;
	ml_detect_apply(&a->det, out, n);
	return 0;
}

/* Per feature: its squared error over the feature count, so that a row's terms sum to
 * its score. */
static int ae_contrib(const void *state, const double *X, size_t n, size_t ld, double *out,
		      struct ml_err *e)
{
	const struct ae *a = state;
	size_t i, wd = (size_t)a->m->p + 1;
	int j, rc;

	if ((rc = ae_pass(a, X, n, ld, out, wd, 0, e)) < 0)
		return rc;
	for (i = 0; i < n; i++) {
		for (j = 0; j < a->m->p; j++)
			out[i * wd + (size_t)j] /= a->m->p;
		out[i * wd + (size_t)a->m->p] = 0;
	}
	return 0;
}

static int ae_fit(void **state, const struct ml_data *d, const struct ml_data *valid,
		  const struct ml_params *hp, struct ml_ctx *ctx, struct ml_err *e)
{
	struct ae *a;
	double h[MLP_MAX_LAYERS + 1], *buf = NULL, *s = NULL;
	const double *X;
	int hidden[MLP_MAX_LAYERS + 1], nh, k, rc, nb = 0, p = d->p;

	*state = NULL;
	if ((rc = ml_detect_check(d, "autoencoder", 2, e)) < 0)
		return rc;
	nh = ml_param_list(hp, "hidden", h, MLP_MAX_LAYERS + 1);
	if (nh > MLP_MAX_LAYERS)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "--hidden takes at most %d layers",
				  MLP_MAX_LAYERS);
	for (k = 0; k < nh; k++)
		hidden[k] = (int)h[k];
	if (nh <= 0) {
		int wide = 2 * p < 8 ? 8 : 2 * p > 64 ? 64 : 2 * p;
		hidden[0] = hidden[2] = wide;
		hidden[1] = (p + 3) / 4;
		nh = 3;
	}
	for (k = 1; k < nh; k++)
		if (hidden[k] < hidden[nb])
			nb = k;
	if (hidden[nb] > p)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "--hidden: the bottleneck of %d units is wider than the %d "
				  "inputs, so the network could copy them",
				  hidden[nb], p);
	if (hidden[nb] == p)
		ml_log(ctx, ML_LOG_WARN,
		       "autoencoder: the bottleneck of %d units is as wide as the inputs; the "
		       "network may learn to copy them",
		       p);
	if (!(a = calloc(1, sizeof(*a))))
		return ml_err_nomem(e);
	if ((rc = ml_detect_init(&a->det, hp, "autoencoder", e)) < 0 ||
	    (rc = mlp_train(&a->m, d, valid, hp, hidden, nh, 1, ctx, e)) < 0)
		goto out;
	a->mid = bottleneck(a->m->net);
	X = ml_data_dense(d, &buf);
	s = malloc(d->n * ML_DETECT_NOUT * sizeof(double));
	if (!X || !s) {
		rc = ml_err_nomem(e);
		goto out;
	}
	if ((rc = ae_pass(a, X, d->n, d->n, s, 0, 0, e)) < 0)
		goto out;
	/* auto: a contamination of 0.1, PyOD's default */
	rc = ml_detect_calibrate(&a->det, d, X, s, NAN, e);
out:
	free(buf);
	free(s);
	if (rc < 0) {
		ae_free(a);
		return rc;
	}
	*state = a;
	return 0;
}

/* The network's sections (mlp.h), the kept sample, and "algo.autoencoder": u32 version,
 * u32 bottleneck layer, the calibration (detect.h). */
static int ae_save(const void *state, struct ml_model *mo, struct ml_err *e)
{
	const struct ae *a = state;
	struct ml_wbuf b;
	int rc;

	if ((rc = mlp_save_net(a->m, mo, e)) < 0 || (rc = ml_detect_save_sample(&a->det, mo, e)) < 0)
		return rc;
	ml_wbuf_init(&b);
	ml_wbuf_u32(&b, AE_VERSION);
	ml_wbuf_u32(&b, (uint32_t)a->mid);
	ml_detect_save(&a->det, &b);
	return ml_algo_put(mo, "algo.autoencoder", &b, e);
}

static int ae_load(void **state, const struct ml_model *mo, const struct ml_data *shape,
		   struct ml_err *e)
{
	struct ml_rbuf b;
	struct ae *a;
	int rc, j;

	*state = NULL;
	if ((rc = ml_algo_get(mo, "algo.autoencoder", AE_VERSION, &b, e)) < 0)
		return rc;
	if (!(a = calloc(1, sizeof(*a))))
		return ml_err_nomem(e);
	a->mid = (int)ml_rbuf_u32(&b);
	if ((rc = mlp_load_net(&a->m, mo, shape, 1, e)) < 0 ||
	    (rc = ml_detect_load(&a->det, &b, "algo.autoencoder", e)) < 0) {
		ae_free(a);
		return rc;
	}
	for (j = 0; j < a->m->p; j++)
		if (a->m->kind[j] != IN_NUM)
			break;
	if (b.err || b.off != b.n || a->m->nclass != 0 || j < a->m->p ||
	    a->mid != bottleneck(a->m->net) || a->m->net->nlayer < 2) {
		ae_free(a);
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				  "model section 'algo.autoencoder' is invalid");
	}
	*state = a;
	return 0;
}

static const char *const ae_tables[] = {ML_DETECT_TABLES, NULL};

static int ae_table(const void *state, const char *name, const struct ml_data *shape,
		    struct ml_frame *out, struct ml_err *e)
{
	(void)shape;
	return ml_detect_table(&((const struct ae *)state)->det, "autoencoder", name, out, e);
}

const struct ml_algo ml_algo_autoencoder = {
	.name = "autoencoder",
	.summary = "autoencoder: the mean squared error of a dense network reconstructing its "
		   "input",
	.flags = ML_ALGO_UNSUPERVISED | ML_ALGO_VALID | ML_ALGO_ROWWISE,
	.params = ae_params,
	.fit = ae_fit,
	.predict = ae_predict,
	.save = ae_save,
	.load = ae_load,
	.tables = ae_tables,
	.table = ae_table,
	.free = ae_free,
	.contrib = ae_contrib,
	.outputs = ml_detect_outputs,
	.output_levels = ml_detect_output_levels,
	.nembed = ae_nembed,
};
