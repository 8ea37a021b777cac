/* The algorithm table: one line per algorithm, each defined in its own algo_*.c here or in
 * tree/. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml/learn.h"
#include "ml/num.h"
#include "learn_int.h"

const struct ml_algo *const *ml_algos(void)
{
	static const struct ml_algo *const all[] = {
		&ml_algo_linear, &ml_algo_ridge, &ml_algo_lasso, &ml_algo_elasticnet,
		&ml_algo_logistic, &ml_algo_nb, &ml_algo_knn, &ml_algo_gbdt, &ml_algo_rf,
		&ml_algo_tree, NULL};
	return all;
}

const struct ml_algo *ml_algo_find(const char *name)
{
	const struct ml_algo *const *a;

	for (a = ml_algos(); *a; a++)
		if (strcmp((*a)->name, name) == 0)
			return *a;
	return NULL;
}
