/* Private to lib/learn/nn: the multilayer perceptron's fitted model (algo_mlp.c), which
 * an autoencoder (algo_autoencoder.c) also is, with its standardised inputs as its
 * outputs: one input layout, one training loop, one model section for both. */
#ifndef ML_LEARN_MLP_H
#define ML_LEARN_MLP_H

#include <stddef.h>
#include <stdint.h>

#include "learn/algo.h"
#include "nn.h"

#define MLP_MAX_LAYERS 16
#define MLP_CHUNK 256 /* rows scored together */

enum { OPT_ADAM, OPT_SGD, OPT_ADAMW };
enum { SCHED_CONSTANT, SCHED_COSINE, SCHED_STEP };
enum { IN_NUM, IN_ONEHOT, IN_EMBED };
enum { ARCH_MLP, ARCH_TF };

/* The training parameters both take, after their own --hidden. */
#define MLP_TRAIN_PARAMS                                                                     \
	{"activation", ML_P_ENUM, NN_RELU, 0, 0, "relu,tanh,gelu", "hidden activation"},     \
	    {"dropout", ML_P_REAL, 0, 0, 0.95, NULL,                                         \
	     "fraction of hidden units dropped (default 0)"},                                \
	    {"batch-norm", ML_P_INT, 0, 0, 1, NULL,                                          \
	     "1: normalise each hidden layer's batch (default 0)"},                          \
	    {"optimizer", ML_P_ENUM, OPT_ADAM, 0, 0, "adam,sgd,adamw", "weight updates"},    \
	    {"learning-rate", ML_P_REAL, 0.001, 1e-9, 10, NULL, "step size (default 0.001)"}, \
	    {"momentum", ML_P_REAL, 0.9, 0, 0.9999, NULL, "sgd: momentum (default 0.9)"},    \
	    {"weight-decay", ML_P_REAL, 0, 0, 10, NULL,                                      \
	     "L2 penalty on the weights; adamw: their decay (default 0)"},                  \
	    {"batch-size", ML_P_INT, 200, 1, 1000000, NULL, "rows per update (default 200)"}, \
	    {"epochs", ML_P_INT, 50, 1, 1000000, NULL, "passes over the rows (default 50)"},  \
	    {"schedule", ML_P_ENUM, SCHED_CONSTANT, 0, 0, "constant,cosine,step",             \
	     "learning rate over the epochs"},                                               \
	    {"early-stop", ML_P_INT, 0, 0, 1000000, NULL,                                     \
	     "stop after N epochs without a better validation loss (default 0: never)"}

struct mlp {
	int p, nclass, nin;
	int ae;			  /* an autoencoder: nin outputs reconstruct the inputs */
	int *kind, *first, *ncat; /* per feature: IN_*, first input column, levels */
	int *emb;		  /* per feature: its embedding index, or -1 */
	double *mean, *sd;	  /* per feature (numeric) */
	double ymean, ysd;	  /* regression target */
	struct nn *net;
	int epochs_run;
};

void mlp_free(void *state);
/* Fit a network with hidden layers of the nh sizes hidden on d (ae: no target, the
 * outputs reconstruct the standardised inputs under the squared error), valid as the
 * rows of --early-stop, the training parameters (MLP_TRAIN_PARAMS) from hp. */
int mlp_train(struct mlp **out, const struct ml_data *d, const struct ml_data *valid,
	      const struct ml_params *hp, const int *hidden, int nh, int ae, struct ml_ctx *ctx,
	      struct ml_err *e);
/* Rows [from, from + b) of X (column-major, leading dimension ld) as network inputs in
 * w->in and embedding levels in lev. */
void mlp_encode(const struct mlp *m, const double *X, size_t ld, size_t from, size_t b,
		struct nn_work *w, int32_t *lev);
/* ML_E_DATA naming algo when a numeric feature of the n rows is missing or infinite. */
int mlp_check_rows(const struct mlp *m, const double *X, size_t n, size_t ld,
		   const char *algo, struct ml_err *e);
/* The sections "algo.mlp", "algo.mlp.theta", "algo.mlp.bn" (algo_mlp.c says what they
 * hold), and back, checked against shape and ae. */
int mlp_save_net(const struct mlp *m, struct ml_model *mo, struct ml_err *e);
int mlp_load_net(struct mlp **out, const struct ml_model *mo, const struct ml_data *shape,
		 int ae, struct ml_err *e);

#endif
