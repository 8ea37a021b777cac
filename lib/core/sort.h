/* Private to the library: the qsort comparison of doubles, ascending (NaNs compare equal
 * to everything: callers sort finite values). */
#ifndef ML_CORE_SORT_H
#define ML_CORE_SORT_H

static inline int ml_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

#endif
