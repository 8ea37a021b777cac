/* Splitting rows: train/test assignment and k-fold assignment, random, stratified,
 * grouped, time-ordered or by a hash of a key column, reproducible from a seed.
 *
 * Every function here is single-threaded and depends only on its arguments, so the same
 * rows and seed give the same assignment whatever the thread count of the caller. The
 * caller owns every array; the functions fill arrays of one entry per row. */
#ifndef ML_SPLIT_H
#define ML_SPLIT_H

#include <stddef.h>
#include <stdint.h>
#include "ml/err.h"
#include "ml/frame.h"

/* What a train/test split makes of a row. */
enum ml_side { ML_SIDE_TRAIN = 0, ML_SIDE_TEST = 1, ML_SIDE_GAP = 2 };

enum ml_split_mode {
	ML_SPLIT_RANDOM = 0, /* a seeded shuffle */
	ML_SPLIT_STRATIFY,   /* classes of col keep their shares */
	ML_SPLIT_GROUP,      /* rows with the same value of col stay together */
	ML_SPLIT_TIME,       /* the latest rows by col are tested */
	ML_SPLIT_KEY         /* a hash of col's value and the seed decides, row by row */
};

struct ml_split_opts {
	enum ml_split_mode mode;
	int col;       /* the column of every mode but RANDOM */
	double test;   /* ml_split: a fraction in (0, 1), or a whole row count >= 1
			* (KEY: a fraction only) */
	size_t gap;    /* ml_split with TIME: rows just before the test rows dropped from train */
	uint64_t seed; /* default 42 */
};

/* RANDOM, col -1, test 0.25, gap 0, seed 42. */
ML_API void ml_split_opts_init(struct ml_split_opts *o);

/* What a split or fold assignment came to, for messages. */
struct ml_split_info {
	size_t n;                 /* rows */
	size_t ntrain, ntest, ngap; /* ml_split */
	size_t target;            /* ml_split: the test rows asked for (not KEY) */
	size_t nlabels;           /* STRATIFY: classes; GROUP: groups */
	size_t min_count;         /* STRATIFY, GROUP: rows of the smallest class or group */
	size_t fold_min, fold_max; /* ml_kfold: rows of the smallest and largest test fold */
};

/* The test rows for n rows, as scikit-learn's train_test_split counts them: a fraction t
 * in (0, 1) gives ceil(t * n) computed in double precision, a whole count c >= 1 gives
 * c. ML_E_USAGE when test is neither; ML_E_DATA when n is 0, the count is not below n,
 * or no row would be left to train on. */
ML_API int ml_split_test_rows(size_t n, double test, size_t *ntest, struct ml_err *e);

/* Train/test split of rows (every row of the block): side[i] becomes an ML_SIDE_*.
 *   RANDOM: a seeded shuffle of the rows; its first ntest rows are tested.
 *   STRATIFY: classes (the distinct values of col; missing is a class) get test rows in
 *     proportion, floor(count * ntest / n) each and the rows left over one each to the
 *     classes with the largest remainders (ties: the class seen first), then each class's
 *     rows are shuffled and its first ones tested. ML_E_DATA when a class has one row, or
 *     when there are fewer test or train rows than classes (as scikit-learn).
 *   GROUP: rows with the same value of col (missing is a group) never straddle; groups
 *     are taken in a seeded random order and each goes to test when it still fits in
 *     ntest; then, while it brings the test rows closer to ntest, the best single move is
 *     made: one group added, one removed, or a tested and an untested group exchanged
 *     (at most 64 moves); if the test set is still empty, its smallest group is tested.
 *     Both sides keep at least one group. ML_E_DATA when there is a single group.
 *   TIME: rows stably sorted by col (numbers by value, text by bytes, so ISO 8601 dates
 *     sort by time; ties keep the input order); the last ntest are tested, the gap rows
 *     before them are ML_SIDE_GAP. ML_E_DATA for a missing time value (naming the row's
 *     line) or when no training row is left.
 *   KEY: a row is tested when ml_split_hash_unit of its key is below test (a fraction);
 *     nothing depends on the other rows, so blocks can be split one by one.
 * info may be NULL. Returns 0 or a negative ML_E_*. */
ML_API int ml_split(const struct ml_block *rows, const struct ml_split_opts *o,
		    unsigned char *side, struct ml_split_info *info, struct ml_err *e);

/* K-fold assignment (k >= 2): fold[i] in 1..k, except TIME (0..k).
 *   RANDOM: a seeded shuffle cut in k runs, the first n % k of n / k + 1 rows, the others
 *     of n / k (scikit-learn's KFold).
 *   STRATIFY: rows ordered by class (classes in order of first appearance) are dealt to
 *     folds in turn, which fixes how many rows of each class each fold receives (within one of
 *     each other) and fold sizes within one; each class's fold labels are then shuffled
 *     over its rows (scikit-learn's StratifiedKFold). ML_E_DATA when k exceeds the rows
 *     of every class.
 *   GROUP: groups in a seeded random order, stably sorted largest first, each put in the
 *     fold with the fewest rows so far (the lowest-numbered on a tie), as GroupKFold.
 *     ML_E_DATA when there are fewer groups than folds.
 *   TIME: rows sorted as for ml_split are cut in k + 1 contiguous chunks numbered 0..k:
 *     chunks 1..k hold n / (k + 1) rows each and chunk 0 the rest (scikit-learn's
 *     TimeSeriesSplit). Fold j tests chunk j and trains on chunks 0..j-1; chunk 0 is
 *     never tested. ML_E_DATA when n < k + 1.
 *   KEY: fold = 1 + ml_split_hash_fold of the key, row by row.
 * ML_E_DATA when the block has fewer rows than k (not KEY) or none. info may be NULL. */
ML_API int ml_kfold(const struct ml_block *rows, const struct ml_split_opts *o, int k,
		    int32_t *fold, struct ml_split_info *info, struct ml_err *e);

/* The key hash: FNV-1a 64 (offset basis 0xcbf29ce484222325, prime 0x100000001b3) over
 * the 8 bytes of seed, least significant first, then the len bytes of text, finished with
 * MurmurHash3's fmix64. */
ML_API uint64_t ml_split_hash(const char *text, size_t len, uint64_t seed);
/* The hash as a number in [0, 1): (h >> 11) * 2^-53. */
ML_API double ml_split_hash_unit(uint64_t h);
/* The hash as a fold 0..k-1: floor(h * k / 2^64), exact. */
ML_API int ml_split_hash_fold(uint64_t h, int k);
/* The hash of row i's value of column col: a categorical value's text, a number's text as
 * ml_fmt_double writes it (so 1.50 and 1.5 are one key), the empty text when missing. */
ML_API uint64_t ml_split_key_hash(const struct ml_block *b, int col, size_t i, uint64_t seed);

/* Dense labels for the values of column col: lab[i] in 0..*nlab-1, numbered in order of
 * first appearance; missing values share one label. */
ML_API int ml_split_labels(const struct ml_block *b, int col, int32_t *lab, size_t *nlab,
			   struct ml_err *e);
/* The rows in time order (by column col, stable): order[0..n-1]. ML_E_DATA naming the
 * first row whose time is missing. */
ML_API int ml_split_time_order(const struct ml_block *b, int col, size_t *order,
			       struct ml_err *e);

#endif
