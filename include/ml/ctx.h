/* Run context: thread count, seeded random numbers, a thread pool whose results never
 * depend on the thread count, and the log/progress callback (silent by default). */
#ifndef ML_CTX_H
#define ML_CTX_H

#include <stddef.h>
#include <stdint.h>
#include "ml/err.h"

/* xoshiro256** seeded through splitmix64. */
struct ml_rng {
	uint64_t s[4];
};

ML_API void ml_rng_seed(struct ml_rng *r, uint64_t seed);
/* An independent generator for sub-task k of a seed: the same (seed, k) always gives the
 * same stream, so work split into tasks is reproducible whatever the thread count. */
ML_API void ml_rng_derive(struct ml_rng *out, uint64_t seed, uint64_t k);
ML_API uint64_t ml_rng_next(struct ml_rng *r);
ML_API double ml_rng_uniform(struct ml_rng *r);          /* [0, 1), 53 bits */
ML_API uint64_t ml_rng_below(struct ml_rng *r, uint64_t n); /* [0, n), unbiased; n > 0 */
ML_API double ml_rng_normal(struct ml_rng *r);           /* standard normal */
/* Fisher-Yates shuffle of n ints. */
ML_API void ml_rng_shuffle(struct ml_rng *r, size_t *v, size_t n);

/* Thread pool. ml_pool_run calls fn(arg, task, worker) for task = 0..ntask-1 across the
 * workers (worker < ml_pool_size) and returns when all are done. Determinism is the
 * caller's: split work into tasks that do not depend on the worker count, and combine
 * per-task results in task order. */
struct ml_pool;
typedef void (*ml_task_fn)(void *arg, size_t task, int worker);

ML_API struct ml_pool *ml_pool_new(int nthreads); /* <= 0: number of online cores */
ML_API int ml_pool_size(const struct ml_pool *p);
ML_API void ml_pool_run(struct ml_pool *p, size_t ntask, ml_task_fn fn, void *arg);
ML_API void ml_pool_free(struct ml_pool *p);
/* Online cores, at least 1. */
ML_API int ml_ncores(void);
/* malloc for a large array read at random: from 4 MB on, aligned to 2 MB, with its whole
 * 2 MB pages marked for transparent huge pages where the system has them, so that
 * scattered reads miss the TLB less. The tail keeps small pages: nothing beyond n is
 * touched. Released with free. */
ML_API void *ml_alloc_big(size_t n);
/* Puts OpenBLAS's own threads to rest. Its threaded build starts them when it is loaded,
 * and each waits for work by spinning for about 2^28 cycles (a tenth of a second): on a
 * small machine, a core taken from whatever the program began with. Stopped here, they are
 * started again by the first BLAS call that wants them. Other builds and BLAS libraries:
 * nothing to do. */
ML_API void ml_blas_rest(void);
/* OpenBLAS on one thread, for code that runs its own threads, each calling BLAS on its
 * share, until the matching release. Holds nest and may overlap from several threads:
 * OpenBLAS's thread count (process-wide) is 1 from the first hold to the last release,
 * then what it was. Other BLAS libraries: nothing to do. */
ML_API void ml_blas_hold(void);
ML_API void ml_blas_release(void);

enum ml_log_level { ML_LOG_WARN = 0, ML_LOG_INFO = 1, ML_LOG_DEBUG = 2, ML_LOG_PROGRESS = 3 };
typedef void (*ml_log_fn)(void *ud, int level, const char *msg);
/* Progress of a long step: done of total units (total <= 0 when the end is not known
 * ahead, as for iterations until convergence), unit naming them in the plural ("trees",
 * "rounds", "rows", "MB"), and a message with the step's figures (may be empty). The
 * receiver draws a rate and the time left from them. */
typedef void (*ml_progress_fn)(void *ud, double done, double total, const char *unit,
			       const char *msg);

struct ml_ctx {
	int threads;         /* resolved count, >= 1 */
	uint64_t seed;
	struct ml_pool *pool; /* created by ml_ctx_init */
	ml_log_fn log;       /* NULL: silent */
	void *log_ud;
	int progress;        /* progress lines are shown (the default): 0 spares the work
			      * of figures only they report */
	ml_progress_fn on_progress; /* NULL: progress goes to log as ML_LOG_PROGRESS text */
};

/* threads <= 0: every core. */
ML_API int ml_ctx_init(struct ml_ctx *c, int threads, uint64_t seed, struct ml_err *e);
ML_API void ml_ctx_release(struct ml_ctx *c);
ML_API void ml_log(const struct ml_ctx *c, int level, const char *fmt, ...) ML_PRINTF(3, 4);
/* Report progress (see ml_progress_fn) to on_progress, or as a line "UNIT DONE/TOTAL MSG"
 * to log; nothing when c->progress is 0. Any thread may call it: reports are serialised,
 * and one that finds another being drawn is dropped (the next one says more), except the
 * last of a step (done >= total > 0), which waits. */
ML_API void ml_progress(const struct ml_ctx *c, double done, double total, const char *unit,
			const char *fmt, ...) ML_PRINTF(5, 6);

#endif
