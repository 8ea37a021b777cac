/* Private to libml: the profile's insides, shared by the profile, its kind and the tests. */
#ifndef ML_DRIFT_INT_H
#define ML_DRIFT_INT_H

#include "drift/xsum.h"
#include "ml/drift.h"
#include "ml/stats.h"

struct pcol {
	char *name;
	enum ml_type type;
	int src; /* column in the schema being profiled */
	uint64_t count, missing;
	/* numeric: the exact sums the moments derive from (NULL in a profile of version 1,
	 * which kept only the moments, and in what merges with one) */
	struct ml_xsum *xs;
	double mean, m2, var, min, max;
	/* numeric: edges, and the values held until they are fixed */
	int fixed, nedge, nbin;
	double *edge, *hist;
	double *buf;
	size_t nbuf, capbuf;
	double *vals; /* every present value, when the profile keeps them */
	size_t nvals, capvals;
	struct ml_quantiles *q;
	/* categorical: counts per dictionary code while building; then kept labels */
	double *code_count;
	size_t ncode;
	int nkept;
	char **label;
};

struct ml_profile {
	int ncol;
	struct pcol *col;
	uint64_t rows;
	int bins, max_categories, keep, no_moments, finished;
	struct ml_pool *pool; /* borrowed */
	uint64_t seed;
	const struct ml_schema *schema; /* while building */
};

/* The bin of x: 0 below the first edge, nedge above the last, else the bin between edges
 * (the last one closed). */
int ml_profile_bin(const double *edge, int nedge, double x);
/* Sort n doubles (no NaN) ascending, by radix on their bits: -0 before +0. Returns 0 or
 * ML_E_NOMEM (v unchanged). */
int ml_drift_sort(double *v, size_t n);
/* The "columns" metadata of a profile container: [{"name": ..., "type": ...}, ...]. */
int ml_drift_meta_columns(struct ml_model *m, const struct ml_profile *p, struct ml_err *e);
/* A sketch's retained values, sorted, with their weights, read from its saved form. */
int ml_drift_sketch_items(const struct ml_quantiles *q, double **v, double **w, size_t *n,
			  struct ml_err *e);

#endif
