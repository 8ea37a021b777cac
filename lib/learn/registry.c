/* The algorithm table (from algos.h) and what library users may know of an algorithm. */
#include <string.h>

#include "algo.h"

#define ML_ALGO(n) extern const struct ml_algo ml_algo_##n;
#include "algos.h"
#undef ML_ALGO

const struct ml_algo *const *ml_algos(void)
{
#define ML_ALGO(n) &ml_algo_##n,
	static const struct ml_algo *const all[] = {
#include "algos.h"
		NULL};
#undef ML_ALGO
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

const char *ml_algo_name(const struct ml_algo *a)
{
	return a->name;
}

const char *ml_algo_summary(const struct ml_algo *a)
{
	return a->summary;
}

unsigned ml_algo_flags(const struct ml_algo *a)
{
	return a->flags | (a->leaves && a->ntrees ? ML_ALGO_TREES : 0u) |
	       (a->contrib ? ML_ALGO_CONTRIB : 0u);
}

const struct ml_param *ml_algo_params(const struct ml_algo *a)
{
	static const struct ml_param none = {NULL, ML_P_REAL, 0, 0, 0, NULL, NULL};
	return a->params ? a->params : &none;
}

const char *const *ml_algo_tables(const struct ml_algo *a)
{
	static const char *const none[] = {NULL};
	return a->tables ? a->tables : none;
}
