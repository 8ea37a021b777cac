/* One decision tree (-a tree): CART as scikit-learn's DecisionTree, Gini, entropy or
 * squared error, grown depth first to its limits, then pruned by cost complexity
 * (--ccp-alpha, weakest link first). Splits are exact on up to TREE_EXACT_ROWS rows
 * (unless --max-bin is given), and for features with at most --max-bin distinct values;
 * otherwise they fall between quantile bins. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hist.h"
#include "ml/learn.h"
#include "tree.h"

/* Training rows up to which every numeric feature splits between its sorted values. */
#define TREE_EXACT_ROWS 100000

static int tree_fit(void **state, const struct ml_data *d, const struct ml_data *valid,
		    const struct ml_params *hp, struct ml_ctx *ctx, struct ml_err *e)
{
	struct ml_bins bins;
	struct ml_cart_opts o;
	struct ml_cart_ws *ws = NULL;
	struct ml_tree t;
	struct ml_cf *mod = NULL;
	uint32_t *rows = NULL;
	size_t i, m = 0;
	int K = d->nclass, crit = (int)ml_param(hp, "criterion") - 1, rc;

	(void)valid;
	if (crit < 0)
		crit = K ? ML_CRIT_GINI : ML_CRIT_MSE;
	if (K && crit == ML_CRIT_MSE)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "--criterion squared-error needs a numeric target to regress");
	if (!K && crit != ML_CRIT_MSE)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "--criterion %s needs a classification target",
				  crit == ML_CRIT_GINI ? "gini" : "entropy");
	if (K > 64)
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "tree: at most 64 classes (%d here)",
				  K);
	if (d->n > UINT32_MAX)
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "tree: at most %u rows", UINT32_MAX);
	memset(&o, 0, sizeof(o));
	o.crit = crit;
	o.K = K;
	o.max_depth = (int)ml_param(hp, "max-depth");
	o.min_split = (int)ml_param(hp, "min-samples-split");
	o.min_leaf = (int)ml_param(hp, "min-samples-leaf");
	o.mtry = d->p;
	o.ccp_alpha = ml_param(hp, "ccp-alpha");
	/* A --max-bin of one's own asks for the bins. */
	o.raw = d->n <= TREE_EXACT_ROWS && !ml_param_given(hp, "max-bin") ? d->col : NULL;
	rc = ml_bins_build(&bins, d, (int)ml_param(hp, "max-bin"), (int)ml_param(hp, "max-cat"),
			   ML_BINS_COLS, ctx ? ctx->seed : 0, ctx ? ctx->pool : NULL, e);
	if (rc < 0)
		return rc;
	ml_tree_init(&t);
	ws = ml_cart_ws_new(&bins, K);
	rows = malloc((d->n ? d->n : 1) * sizeof(uint32_t));
	mod = calloc(1, sizeof(*mod));
	if (!ws || !rows || !mod)
		goto nomem;
	mod->nclass = K;
	mod->oob = NAN;
	/* Rows of weight zero take no part, as in scikit-learn. */
	for (i = 0; i < d->n; i++)
		if (!d->w || d->w[i] > 0)
			rows[m++] = (uint32_t)i;
	if (m == 0) {
		rc = ml_err_set(e, ML_E_DATA, NULL, 0, 0, "tree: every row has weight zero");
		goto out;
	}
	if (ml_cart_grow(&t, &bins, d->y, d->w, rows, m, &o, NULL, ws) < 0)
		goto nomem;
	if ((rc = ml_forest_init(&mod->F, d->p, K ? K : 1, 1, 1, e)) < 0 ||
	    (rc = ml_forest_add(&mod->F, &t, e)) < 0 || (rc = ml_forest_finish(&mod->F, e)) < 0)
		goto out;
	*state = mod;
	mod = NULL;
	goto out;
nomem:
	rc = ml_err_nomem(e);
out:
	ml_cf_free(mod);
	ml_tree_release(&t);
	ml_cart_ws_free(ws);
	free(rows);
	ml_bins_release(&bins);
	return rc;
}

static int tree_save(const void *state, struct ml_model *m, struct ml_err *e)
{
	return ml_cf_save(state, m, "tree", e);
}

static int tree_load(void **state, const struct ml_model *m, const struct ml_data *shape,
		     struct ml_err *e)
{
	struct ml_cf *c;
	int rc = ml_cf_load(&c, m, "tree", shape, e);

	*state = c;
	return rc;
}

static const char *const tree_tables[] = {"tree", "importance", NULL};

static int tree_table(const void *state, const char *name, const struct ml_data *shape,
		      struct ml_frame *out, struct ml_err *e)
{
	return ml_cf_table(state, name, shape, 1, out, e);
}

static const struct ml_param tree_params[] = {
    {"criterion", ML_P_ENUM, 0, 0, 0, "auto,gini,entropy,squared-error",
     "split quality: auto is gini to classify, squared-error to regress"},
    {"max-depth", ML_P_INT, 0, 0, 100000, NULL, "depth limit (default 0: none)"},
    {"min-samples-split", ML_P_INT, 2, 2, 1000000000, NULL,
     "least rows in a node to split it (default 2)"},
    {"min-samples-leaf", ML_P_INT, 1, 1, 1000000000, NULL, "least rows in each child (default 1)"},
    {"ccp-alpha", ML_P_REAL, 0, 0, INFINITY, NULL,
     "cost-complexity pruning: collapse subtrees whose impurity gain per extra leaf is "
     "at most this (default 0: none)"},
    {"max-bin", ML_P_INT, 255, 2, 255, NULL,
     "bins per feature: a feature with more distinct values splits between bins on more "
     "than 100000 rows or when this is given, else between its sorted values (default "
     "255)"},
    {"max-cat", ML_P_INT, 64, 0, 255, NULL,
     "categorical features with more levels split as ordinal numbers (default 64)"},
    {0}};

const struct ml_algo ml_algo_tree = {
    .name = "tree",
    .summary = "one CART decision tree, optionally pruned by cost complexity",
    .flags = ML_ALGO_CLASSIFY | ML_ALGO_REGRESS | ML_ALGO_NATIVE_CAT | ML_ALGO_MISSING |
	     ML_ALGO_ROWWISE,
    .params = tree_params,
    .fit = tree_fit,
    .predict = ml_cf_predict,
    .save = tree_save,
    .load = tree_load,
    .tables = tree_tables,
    .table = tree_table,
    .free = ml_cf_free,
    .ntrees = ml_cf_ntrees,
    .leaves = ml_cf_leaves,
    .contrib = ml_cf_contrib,
};
