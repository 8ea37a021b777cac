/* Private to lib/ts: allocations inside a fit whose callers take any failure for "this
 * model does not fit" (an optimiser's objective, a candidate of an order search, a unit-root
 * test). A failure there also raises ml_ts_nomem, which ml_fc_fit turns into ML_E_NOMEM:
 * a search never settles on another model, or a test on another answer, for want of
 * memory. */
#ifndef ML_TS_ALLOC_H
#define ML_TS_ALLOC_H

#include <stdlib.h>

/* Per thread: each series is fitted on one thread of the pool. */
extern _Thread_local int ml_ts_nomem;

static inline void *ts_malloc(size_t n)
{
	void *p = malloc(n);
	if (!p)
		ml_ts_nomem = 1;
	return p;
}

static inline void *ts_calloc(size_t n, size_t size)
{
	void *p = calloc(n, size);
	if (!p)
		ml_ts_nomem = 1;
	return p;
}

#endif
