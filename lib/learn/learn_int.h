/* Private to the learner layer (lib/learn/): the learner's fields and the helpers that
 * fitting, scoring and model files share. */
#ifndef ML_LEARN_INT_H
#define ML_LEARN_INT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "algo.h"
#include "core/model_int.h"

struct feat {
	char *name;
	enum ml_type type;
	struct ml_dict levels; /* categorical: training levels, sorted */
	int first, width;      /* encoded columns [first, first + width) */
	int time;	       /* text the algorithm takes as times (its time_param names
				* it): one encoded column, the seconds ml_parse_time reads */
};

struct ml_learner {
	const struct ml_algo *algo;
	struct ml_params params;
	enum ml_task task;
	char *target;
	enum ml_type target_type;
	int nclass;
	char **classes;
	double *class_num; /* numeric target: the class values */
	int nfeat;
	struct feat *feat;
	int p;
	char **enc;
	int *ncat;
	const struct ml_dict **lev; /* per encoded feature: its levels when native categorical */
	void *state;
};

/* The learner's shape (features, classes) as a learner sees it, with no rows. */
struct ml_data ml_learn_shape(const struct ml_learner *l);
/* Whether feature f is the algorithm's time column given as text (struct feat's time),
 * for the parameters p. */
int ml_learn_is_time(const struct ml_algo *a, const struct ml_params *p, const struct feat *f);
/* Lay out the encoded columns of the features. */
int ml_learn_layout(struct ml_learner *l, struct ml_err *e);
/* A malloc'd copy of s, or NULL. */
char *ml_learn_dup(const char *s);
/* The input line of row i of a frame (0 when unknown). */
long ml_learn_row_line(const struct ml_frame *f, size_t i);
/* Encode feature j (its columns from x on, leading dimension ld) of rows of b, column c
 * of b, with level map map (categorical features). */
int ml_learn_encode_feat(const struct ml_learner *l, int j, const struct ml_block *b, int c,
			 const int32_t *map, const size_t *rows, size_t from, size_t n, double *x,
			 size_t ld, const char *where, struct ml_err *e);
/* Encode rows of b into the column-major matrix X (leading dimension ld): features through
 * columns col of b, categorical levels through map. */
int ml_learn_encode(const struct ml_learner *l, const struct ml_block *b, const int *col,
		    int32_t *const *map, const size_t *rows, size_t from, size_t n, double *X,
		    size_t ld, const char *where, struct ml_err *e);
/* Map every code of dict to a level index of f (or -1); NULL when out of memory. */
int32_t *ml_learn_level_map(const struct feat *f, const struct ml_dict *d);

/* Hyperparameters as JSON {"name": value, ...} (enums and strings as text, lists as
 * arrays) and back, for model metadata. */
cJSON *ml_params_to_json(const struct ml_params *p);
int ml_params_from_json(struct ml_params *p, const struct ml_algo *a, const cJSON *j,
			struct ml_err *e);
/* Values from JSON into p, made by ml_params_init*, for the names j holds. */
int ml_params_read_json(struct ml_params *p, const cJSON *j, struct ml_err *e);

#endif
