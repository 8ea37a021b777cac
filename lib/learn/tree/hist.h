/* Quantile binning for the tree learners (gbdt, rf, tree): every feature quantized once
 * into at most 255 bins of present values plus one bin for missing values, one byte per
 * cell, row-major (a row's bytes share a cache line, which histograms of every feature
 * over a node's scattered rows want) and/or column-major (one feature's bytes of a
 * node's rows lie close, which partitions and histograms of a few features want).
 *
 * A numeric feature with at most max_bin distinct values gets one bin per value (the
 * binning is exact); with more, the bin edges are quantiles of the training values (of a
 * seeded sample of at most ML_HIST_SAMPLE rows), a value heavy enough to fill a bin
 * getting its own. Bin b holds the values x with ub[b - 1] < x <= ub[b]; the edges are
 * midpoints between neighbouring distinct values, so "bin <= b" and "x <= ub[b]" agree
 * for every value, seen or not. A native categorical feature (ncat > 0 and at most
 * max_cat levels) has one bin per level index; with more levels its index is binned as
 * a number (ordinal). Missing values (NaN, or a level index out of range) take bin nb. */
#ifndef ML_HIST_H
#define ML_HIST_H

#include <stddef.h>
#include <stdint.h>

#include "ml/ctx.h"
#include "ml/err.h"
#include "learn/algo.h"

#define ML_HIST_MAX_BIN 255
#define ML_HIST_SAMPLE	200000

/* Which layouts ml_bins_build makes. */
enum { ML_BINS_ROWS = 1, ML_BINS_COLS = 2 };

struct ml_bins {
	size_t n;	    /* rows */
	int p;		    /* features */
	uint8_t *B;	    /* row-major: B[i * stride + j] is the bin of row i, feature j
			     * (readable 64 bytes past the last row; padding bytes are 0) */
	size_t stride;	    /* bytes from one row of B to the next: p, or p rounded up to
			     * a power of two (or a multiple of 64) when that costs at most a
			     * quarter more, so that rows do not straddle cache lines */
	uint8_t *C;	    /* column-major: C[j * n + i], the same bins */
	int *nb;	    /* per feature: bins of present values (>= 1); bin nb[j] is missing */
	int *off;	    /* per feature: its first entry in a histogram of every feature */
	int total;	    /* entries in such a histogram: the sum of nb[j] + 1 */
	double **ub;	    /* per numeric feature: nb[j] - 1 upper edges */
	double **val;	    /* per exact feature: the distinct value of each bin, else NULL */
	unsigned char *cat; /* per feature: 1 when the bins are category levels */
	int *ncat;	    /* per categorical feature: its level count */
};

/* Quantize d's features. max_bin: 2..255 bins of present values per feature; max_cat:
 * native categorical features with more levels are binned as numbers (0: all are).
 * layouts: ML_BINS_ROWS and/or ML_BINS_COLS (B and C; the other is NULL). seed picks
 * the sample rows for the quantiles when there are more than ML_HIST_SAMPLE.
 * Work is split by rows and features in fixed tasks, so the result never depends on
 * the pool's size. */
int ml_bins_build(struct ml_bins *b, const struct ml_data *d, int max_bin, int max_cat, int layouts,
		  uint64_t seed, struct ml_pool *pool, struct ml_err *e);
void ml_bins_release(struct ml_bins *b);

/* The value to split feature j at so that the bins up to lo go left and those from hi
 * (> lo) go right: x <= threshold goes left. For an exact feature the midpoint of the two
 * bins' values, else the upper edge of bin lo; +inf when hi is the missing bin (a split
 * of present from missing values). */
double ml_bins_threshold(const struct ml_bins *b, int j, int lo, int hi);

/* The midpoint of a < b as scikit-learn's trees compute it: a / 2 + b / 2, or a when
 * that rounds to b or overflows. */
double ml_midpoint(double a, double b);

#endif
