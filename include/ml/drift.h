/* Drift detection: reference profiles (mergeable per-column summaries of a table, an
 * artefact of kind "profile") and the two-sample tests that compare current data with a
 * reference, raw or profiled. mldrift(1) gives the formulas. */
#ifndef ML_DRIFT_H
#define ML_DRIFT_H

#include <stddef.h>
#include <stdint.h>
#include "ml/ctx.h"
#include "ml/err.h"
#include "ml/frame.h"
#include "ml/model.h"

/* Two-sample statistics on sorted samples. A weighted sample is values x[0..n) in
 * ascending order, each standing for w[i] copies (w NULL: every weight 1). */

/* The two-sided Kolmogorov-Smirnov statistic D = sup |F1 - F2| of the empirical CDFs. */
ML_API double ml_ks_stat(const double *x, const double *wx, size_t n, const double *y,
			 const double *wy, size_t m);
/* The p-value of D for samples of n1 and n2 values, as SciPy's ks_2samp(method='auto'):
 * exact (the lattice-path count of Hodges) when max(n1, n2) <= 10000, else the
 * distribution of the one-sample statistic for n = round(n1 n2 / (n1 + n2)) (kstwo.sf).
 * *exact (may be NULL) says which was used. NaN for an empty sample. */
ML_API double ml_ks_pvalue(double d, uint64_t n1, uint64_t n2, int *exact);
/* The survival function of the one-sample two-sided KS statistic for n values. */
ML_API double ml_kstwo_sf(double d, double n);
/* The first Wasserstein distance between two weighted samples (the area between the
 * CDFs), as SciPy's wasserstein_distance. */
ML_API double ml_wasserstein(const double *x, const double *wx, size_t n, const double *y,
			     const double *wy, size_t m);

/* Pearson's chi-squared test of homogeneity of the 2 x k table of counts a and b, without
 * continuity correction (SciPy's chi2_contingency(correction=False)); columns empty in
 * both rows are left out. *dof gets k' - 1 for the k' columns kept; the p-value is NaN
 * when fewer than two are kept or a row is empty. */
ML_API double ml_chi2_homog(const double *a, const double *b, int k, double *p, int *dof);
/* The chi-squared survival function with dof degrees of freedom. */
ML_API double ml_chi2_sf(double x, double dof);
/* The regularised upper incomplete gamma function Q(a, x). */
ML_API double ml_gamma_q(double a, double x);

/* Distances between two histograms of counts over the same k bins, each normalised to
 * proportions; empty proportions become ML_DRIFT_EPS in psi and kl (then renormalised). */
#define ML_DRIFT_EPS 1e-4
/* Population stability index: sum (c - r) ln(c / r), r the reference, c the current. */
ML_API double ml_psi(const double *ref, const double *cur, int k);
/* Kullback-Leibler divergence of the current from the reference: sum c ln(c / r). */
ML_API double ml_kl(const double *ref, const double *cur, int k);
/* Jensen-Shannon distance (natural logarithm, as SciPy's jensenshannon): the square root
 * of (KL(r || m) + KL(c || m)) / 2 with m = (r + c) / 2. */
ML_API double ml_js(const double *ref, const double *cur, int k);

/* Multiple testing across n p-values: whether each is rejected at level alpha, and the
 * threshold each was held to (a p-value is rejected iff p <= thr). NaN p-values are never
 * rejected and do not count in n. */
enum ml_correction { ML_CORR_NONE = 0, ML_CORR_BH, ML_CORR_BONFERRONI };
ML_API int ml_p_adjust(const double *p, size_t n, double alpha, enum ml_correction c,
		       double *thr, int *reject);

/* Profiles. A profile holds, per column of a table: the row count, the missing count; for
 * a numeric column the exact sum of its values and of their squares (so that merges are
 * exact in any order: the mean and the variance derive from them, rounded once), min,
 * max, a histogram on fixed bin edges (an underflow bin, the bins between edges, an
 * overflow bin) and a quantile sketch (ml_quantiles); for a categorical column the counts
 * of its max_categories most frequent categories (ties by bytes) and an 'other' count.
 * Edges come from the quantiles of a column's first ML_PROFILE_EDGE_ROWS present values
 * (all of them when fewer), or from another profile. */
#define ML_PROFILE_EDGE_ROWS 100000

struct ml_profile;

struct ml_profile_opts {
	int bins;           /* bins between the edges (default 10) */
	int max_categories; /* categories counted per column before 'other' (default 100) */
	uint64_t seed;      /* the sketches' seed */
	const struct ml_profile *edges; /* take bin edges from this one, or NULL */
	int no_moments;     /* with keep_values: leave the mean, m2 and var NaN, for a
			     * comparison whose tests use none (mean, std, wasserstein) */
	int keep_values;    /* keep every present numeric value (ml_profile_values) instead
			     * of a sketch: such a profile compares but is not saved */
	struct ml_pool *pool; /* ml_profile_finish: the columns on its threads (NULL: the
			       * calling thread's); the result does not depend on it */
};
ML_API void ml_profile_opts_init(struct ml_profile_opts *o);

/* A profile of the columns cols[0..ncol) of schema s (cols NULL: every column). s is
 * borrowed until ml_profile_finish. With o->edges, every profiled column must be in it
 * with the same type (ML_E_DATA naming the column otherwise). */
ML_API struct ml_profile *ml_profile_new(const struct ml_schema *s, const int *cols, int ncol,
					 const struct ml_profile_opts *o, struct ml_err *e);
ML_API int ml_profile_add(struct ml_profile *p, const struct ml_block *b, size_t from,
			  size_t to, struct ml_err *e);
/* Fix what is still open (edges of columns with fewer rows than ML_PROFILE_EDGE_ROWS). */
ML_API int ml_profile_finish(struct ml_profile *p, struct ml_err *e);
ML_API void ml_profile_free(struct ml_profile *p);
/* Whether two profiles can merge: the same columns, types, edges and categories kept;
 * ML_E_DATA naming the first difference. */
ML_API int ml_profile_compatible(const struct ml_profile *a, const struct ml_profile *b,
				 struct ml_err *e);
/* Add src into dst (finished, compatible). Counts, histograms and the sums behind the
 * moments add exactly: merges in any order or grouping give the moments of the profile
 * of all the rows, bit for bit. A profile read from a file of version 1 kept only its
 * moments: merges with it combine them by Chan's formulas (to rounding). */
ML_API int ml_profile_merge(struct ml_profile *dst, const struct ml_profile *src,
			    struct ml_err *e);

/* A profile as a container of kind "profile", and back (ML_E_DATA for a container that
 * is not a profile or does not check out). A model may keep a profile as its member
 * section ML_PROFILE_MEMBER. */
#define ML_PROFILE_MEMBER "profile"
ML_API struct ml_model *ml_profile_to_model(const struct ml_profile *p, struct ml_err *e);
ML_API struct ml_profile *ml_profile_from_model(const struct ml_model *m, const char *name,
						struct ml_err *e);

/* Reading a profile. */
ML_API int ml_profile_ncol(const struct ml_profile *p);
ML_API uint64_t ml_profile_rows(const struct ml_profile *p);
ML_API const char *ml_profile_col_name(const struct ml_profile *p, int j);
ML_API enum ml_type ml_profile_col_type(const struct ml_profile *p, int j);
ML_API int ml_profile_find(const struct ml_profile *p, const char *name);

/* One column's summary, borrowed from the profile. */
struct ml_profile_col {
	const char *name;
	enum ml_type type;
	uint64_t count, missing; /* present values, missing values */
	/* numeric: the mean, m2 the sum of squared deviations from it, var the sample
	 * variance m2 / (count - 1), each the correctly rounded value of the exact one (but
	 * from a profile of version 1); NaN where undefined (mean: no value, var: one) */
	double mean, m2, var, min, max;
	int nedge;                 /* numeric: edges; bins = nedge + 1 */
	const double *edge;
	int nbin;            /* numeric: nedge + 1; categorical: kept + 1 ('other' last) */
	const double *hist;  /* counts per bin */
	char *const *label;  /* categorical: names of the kept categories (nbin - 1) */
	const struct ml_quantiles *q; /* numeric: the sketch */
};
ML_API void ml_profile_col(const struct ml_profile *p, int j, struct ml_profile_col *c);

/* Column j's present values in ascending order, when the profile keeps them (NULL and 0
 * otherwise); borrowed. */
ML_API const double *ml_profile_values(const struct ml_profile *p, int j, size_t *n);

/* The sketch's retained values in order with their weights (malloc'd, free both). */
ML_API int ml_quantiles_items(const struct ml_quantiles *q, double **v, double **w, size_t *n,
			      struct ml_err *e);

/* Comparing a current profile (built with the reference's edges, keeping its values)
 * with a reference profile, column by column (matched by name). */
enum ml_drift_test {
	ML_DT_KS = 0, ML_DT_CHI2, ML_DT_PSI, ML_DT_KL, ML_DT_JS, ML_DT_WASSERSTEIN, ML_DT_MEAN,
	ML_DT_STD, ML_DT_MISSING, ML_DT_COUNT
};
/* "ks", "chi2", "psi", "kl", "js", "wasserstein", "mean", "std", "missing"; parse gives -1
 * for another name. */
ML_API const char *ml_drift_test_name(int t);
ML_API int ml_drift_test_parse(const char *s, size_t len);

enum ml_severity { ML_SEV_NONE = 0, ML_SEV_WARN, ML_SEV_ALERT };

struct ml_drift_opts {
	unsigned tests;      /* bits 1 << ML_DT_*; 0: ks + psi (numeric), chi2 + psi (categorical) */
	double alpha;        /* 0.05 */
	enum ml_correction correction; /* ML_CORR_BH */
	double thr[ML_DT_COUNT]; /* psi 0.25 (alert), kl, js, wasserstein, mean, std 0.1,
				  * missing 0.05; ks and chi2 unused (alpha) */
	double psi_warn;     /* 0.1 */
};
ML_API void ml_drift_opts_init(struct ml_drift_opts *o);

struct ml_drift_row {
	int col;     /* column of the current profile */
	int test;    /* ML_DT_* */
	double statistic, p_value, threshold; /* NaN where they do not apply */
	int drift;   /* 0/1 */
	int severity;
	int sketch;  /* the test used the reference's quantile sketch (not exact) */
};

/* Column j of cur counted on the bins of the reference's column of that name (numeric: its
 * histogram; categorical: the reference's kept categories, then 'other' holding the rest):
 * out must hold that column's nbin values. ML_E_DATA when the reference lacks the column or
 * types it otherwise. */
ML_API int ml_drift_align(const struct ml_profile *ref, const struct ml_profile *cur, int j,
			  double *out, struct ml_err *e);

/* The rows of the report, in column order then test order (malloc'd in *rows). Tests a
 * column's type has no meaning for (ks on categories) are left out. p-values are
 * corrected across every p-value row. */
ML_API int ml_drift_compare(const struct ml_profile *ref, const struct ml_profile *cur,
			    const struct ml_drift_opts *o, struct ml_drift_row **rows, size_t *n,
			    struct ml_err *e);

#endif
