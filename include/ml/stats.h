/* Streaming statistics in bounded memory: a mergeable quantile sketch, and the per-column
 * summary behind 'mlcat --describe'. */
#ifndef ML_STATS_H
#define ML_STATS_H

#include <stdint.h>
#include "ml/err.h"
#include "ml/frame.h"
#include "ml/model.h"

/* Quantiles of a stream of doubles (NaN ignored). Exact while it has seen at most
 * ML_QUANTILES_EXACT values: quantiles then interpolate linearly between order statistics
 * (as numpy.quantile's default and pandas describe). Past that, a KLL sketch with
 * parameter k (0: ML_QUANTILES_K) whose rank error is stated in mlcat(1). Compaction
 * choices come from a generator seeded with seed, so the same input and seed give the same
 * answers. */
#define ML_QUANTILES_EXACT 100000
#define ML_QUANTILES_K 2048

struct ml_quantiles;

/* NULL when out of memory or k is outside 8..65535. */
ML_API struct ml_quantiles *ml_quantiles_new(int k, uint64_t seed);
ML_API void ml_quantiles_free(struct ml_quantiles *q);
ML_API int ml_quantiles_add(struct ml_quantiles *q, double v);
/* Merge src into dst (src unchanged). */
ML_API int ml_quantiles_merge(struct ml_quantiles *dst, const struct ml_quantiles *src);
ML_API uint64_t ml_quantiles_count(const struct ml_quantiles *q);
ML_API int ml_quantiles_exact(const struct ml_quantiles *q);
/* The p-quantile (0 <= p <= 1); NaN when empty, for p outside [0, 1], or when out of
 * memory for the scratch copy a query sorts. */
ML_API double ml_quantiles_get(const struct ml_quantiles *q, double p);
/* Serialise into a model section and back. Loading returns NULL with e set: ML_E_DATA for
 * anything truncated or inconsistent, ML_E_NOMEM. */
ML_API void ml_quantiles_save(const struct ml_quantiles *q, struct ml_wbuf *b);
ML_API struct ml_quantiles *ml_quantiles_load(struct ml_rbuf *b, struct ml_err *e);

/* Per-column summary of a table. Numeric columns: count (present values), missing, mean,
 * std (sample, n - 1, as pandas), min, p25, p50, p75, max. Categorical: count, missing,
 * distinct, top (the most frequent value; ties go to the smaller code, i.e. the first
 * seen), freq. */
struct ml_describe;

/* s is borrowed: its dictionaries may grow while rows are added. */
ML_API struct ml_describe *ml_describe_new(const struct ml_schema *s, uint64_t seed,
					   struct ml_err *e);
ML_API int ml_describe_add(struct ml_describe *d, const struct ml_block *b, size_t from,
			   size_t to, struct ml_err *e);
/* The summary as a table (out fresh from ml_frame_init), one row per column, with
 * columns: column, type, count, missing, mean, std, min, p25, p50, p75, max, distinct,
 * top, freq (empty where they do not apply). */
ML_API int ml_describe_result(const struct ml_describe *d, struct ml_frame *out,
			      struct ml_err *e);
ML_API void ml_describe_free(struct ml_describe *d);

/* The standard normal distribution: its CDF, and its quantile function (the inverse CDF,
 * by Wichura's AS 241, relative error about 1e-16): -inf at 0, +inf at 1, NaN outside
 * [0, 1]. Interval bounds of predictions and forecasts use it. */
ML_API double ml_norm_cdf(double x);
ML_API double ml_norm_ppf(double p);
/* Student's t distribution with df > 0 degrees of freedom (not necessarily whole): its CDF
 * and quantile function (relative error about 1e-14 against R's qt); NaN for bad
 * arguments. */
ML_API double ml_t_cdf(double t, double df);
ML_API double ml_t_ppf(double p, double df);
/* The regularised incomplete beta function I_x(a, b), a, b > 0, 0 <= x <= 1 (NaN
 * otherwise), by its continued fraction. */
ML_API double ml_beta_inc(double a, double b, double x);

#endif
