/* Private to libml: the exact nearest-neighbour search of -a knn (KD-tree or brute force,
 * ties to the earlier training row), for other learners that need neighbours. */
#ifndef ML_LEARN_KNN_H
#define ML_LEARN_KNN_H

#include <stddef.h>

struct knn;

/* Index the n rows of X (row-major, p features, finite; copied) for searches by metric (0
 * euclidean, 1 manhattan) with search (0 auto: a KD-tree up to 15 features, 1 KD-tree,
 * 2 brute force). ML_E_NOMEM or 0. */
int ml_knn_index_new(struct knn **out, const double *X, size_t n, int p, int metric,
		     int search);
/* The k (<= n) rows nearest to q: their distances in rising order into dist and their
 * row numbers into idx. Threads may search one index at once. */
void ml_knn_nearest(const struct knn *m, const double *q, int k, double *dist, size_t *idx);
void ml_knn_index_free(struct knn *m);

#endif
