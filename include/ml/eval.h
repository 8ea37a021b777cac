/* Evaluation data from tables: the one class list that the truth, the predicted labels
 * and the probability columns of a classification share, groups of rows for metrics per
 * group, and subsets of a data set's rows (see metrics.h for the metrics themselves).
 *
 * Ownership: inputs are borrowed for the length of a call unless a struct says it keeps
 * a pointer; whatever a function allocates into a struct is released by that struct's
 * release function, which also accepts a struct fresh from its init. */
#ifndef ML_EVAL_H
#define ML_EVAL_H

#include <stddef.h>
#include <stdint.h>
#include "ml/err.h"
#include "ml/frame.h"
#include "ml/metrics.h"

/* --- Labels ------------------------------------------------------------------------------- */

/* A column of labels or group values: n codes into a dictionary (each >= 0: missing values
 * are the caller's to reject), or, when dict is NULL, n finite numbers. */
struct ml_labcol {
	const struct ml_dict *dict;
	const int32_t *code;
	const double *num;
};

/* Where a label was seen (flags, or'ed). */
#define ML_LABEL_TRUTH 1
#define ML_LABEL_PRED  2
#define ML_LABEL_PROB  4

/* A set of labels. With numeric set, a label that reads as a finite number is kept in the
 * shortest form that reads back to it ("1.0" and "1" are one label, "-0" is "0"). Labels
 * get ids 0, 1, ... in the order they are first added; ml_labels_sort then gives them
 * codes 0..n-1 in sorted order: numbers (numeric sets only) by value before any text,
 * text by bytes. */
struct ml_labels;

/* NULL when out of memory. */
ML_API struct ml_labels *ml_labels_new(int numeric);
ML_API void ml_labels_free(struct ml_labels *L);
/* Add the label of len bytes at s (or the number x) with flags. Returns its id (>= 0),
 * ML_E_NOMEM, or ML_E_DATA "too many labels" when the set is full (INT32_MAX). */
ML_API int32_t ml_labels_add(struct ml_labels *L, const char *s, size_t len, int flags,
			     struct ml_err *e);
ML_API int32_t ml_labels_add_num(struct ml_labels *L, double x, int flags, struct ml_err *e);
/* Add the labels of n rows of c with flags, writing each row's id to out. Returns 0 or an
 * error of ml_labels_add. */
ML_API int ml_labels_map(struct ml_labels *L, const struct ml_labcol *c, size_t n, int flags,
			 int32_t *out, struct ml_err *e);
/* The id of label s (NUL-terminated, made canonical as ml_labels_add does), or -1. */
ML_API int32_t ml_labels_find(const struct ml_labels *L, const char *s);
/* Labels so far. */
ML_API int32_t ml_labels_count(const struct ml_labels *L);
/* Give the labels their sorted codes. Returns 0 or ML_E_NOMEM. Labels added later have no
 * code until the next sort. */
ML_API int ml_labels_sort(struct ml_labels *L, struct ml_err *e);
/* After ml_labels_sort: the code of an id, and the text and flags of a code. */
ML_API int32_t ml_labels_code(const struct ml_labels *L, int32_t id);
ML_API const char *ml_labels_str(const struct ml_labels *L, int32_t code);
ML_API int ml_labels_flags(const struct ml_labels *L, int32_t code);
ML_API void ml_labels_mark(struct ml_labels *L, int32_t code, int flags);

/* --- Classes of a classification ------------------------------------------------------- */

/* The most labels a classification may have: its confusion matrix is dense (k * k
 * doubles, once per bootstrap resample too). */
#define ML_CLASSES_MAX 1000

/* Truth, predictions and probability columns of n rows, as read. */
struct ml_class_input {
	const char *name; /* the input, for messages (may be NULL) */
	size_t n;
	int numeric; /* the truth is numeric: labels are numbers where they can be */
	struct ml_labcol truth;
	struct ml_labcol pred;	       /* the predicted labels; code and num NULL: none, the
					* predictions are then the argmax of the probabilities */
	int nprob;		       /* probability columns */
	const char *const *prob_label; /* each column's label */
	const char *const *prob_name;  /* each column's name, for messages */
	const double *const *prob;     /* each column's n values */
};

/* One class list for truth, predictions and probabilities. */
struct ml_classes {
	struct ml_labels *labels; /* every label of the truth, the predictions and the
				   * probability columns, sorted: the codes below index it */
	int k;			  /* labels */
	int present;		  /* labels of the truth or the predictions */
	int binary;		  /* present <= 2 */
	int pos;		  /* the positive class */
	int nprob;		  /* probability columns given */
	int32_t *truth, *pred;	  /* n codes each */
	const double **prob;	  /* k entries: the column of each code (borrowed from the
				   * input, or the complement below), or NULL */
	double *complement;	  /* with two labels and one column: 1 - that column, for the
				   * other label */
};

ML_API void ml_classes_init(struct ml_classes *c);
ML_API void ml_classes_release(struct ml_classes *c);
/* Build c (fresh from ml_classes_init) from in: every label gets a code in sorted order;
 * without predicted labels, each row is predicted the first code whose column holds its
 * largest probability (codes without a column never are); two labels with one column
 * give the other label the complement. The positive class is the second label present in
 * the truth or the predictions, in code order (code 1, or 0, when there is no second).
 * Returns 0; ML_E_DATA naming in->name for two probability columns of one label or more
 * than ML_CLASSES_MAX labels; errors of ml_labels_add. On failure c holds what must be
 * released. */
ML_API int ml_classes_build(struct ml_classes *c, const struct ml_class_input *in,
			    struct ml_err *e);
/* Make the label s (as ml_labels_find takes it) the positive class. Returns 0, or -1
 * (c unchanged) when s is no label, or when two labels are present in the truth and the
 * predictions and s is neither of them. */
ML_API int ml_classes_set_pos(struct ml_classes *c, const char *s);
/* With probability columns: ML_E_DATA naming name when a label of the truth, or in a
 * binary task the positive one, has none (probability metrics need them); else 0. */
ML_API int ml_classes_check_prob(const struct ml_classes *c, const char *name, struct ml_err *e);

/* --- Groups -------------------------------------------------------------------------------- */

/* Rows grouped by the value of a column. */
struct ml_groups {
	int n;	       /* groups, sorted: text by bytes, numbers by value */
	char **name;   /* each group's value as text (a number in its shortest form, the
			* zeros of both signs as one group "0") */
	size_t *start; /* n + 1 offsets into rows */
	size_t *rows;  /* group g's rows: rows[start[g] .. start[g + 1]), in input order */
};

ML_API void ml_groups_init(struct ml_groups *g);
ML_API void ml_groups_release(struct ml_groups *g);
/* Group n rows by their values in c (codes >= 0, or numbers that are not NaN) into g
 * (fresh from ml_groups_init). Returns 0 or ML_E_NOMEM (g then holds what must be
 * released). */
ML_API int ml_groups_build(struct ml_groups *g, const struct ml_labcol *c, size_t n,
			   struct ml_err *e);

/* --- Subsets ------------------------------------------------------------------------------- */

/* Rows of a data set gathered into arrays of their own: cls or reg describes them. */
struct ml_subset {
	struct ml_cls_data cls;
	struct ml_reg_data reg;
	int k;
	int32_t *truth, *pred;
	double **prob; /* k columns, NULL where d has none; NULL when d has no probabilities */
	double *y, *p, *w;
};

ML_API void ml_subset_init(struct ml_subset *s);
ML_API void ml_subset_release(struct ml_subset *s);
/* Gather rows[0..n) of d, in that order, into s (fresh from ml_subset_init): truth,
 * predictions, the probability columns d has and the weights, or the values, predictions
 * and weights; k and pos are d's. Returns 0 or ML_E_NOMEM (s then holds what must be
 * released). */
ML_API int ml_subset_classify(struct ml_subset *s, const struct ml_cls_data *d, const size_t *rows,
			      size_t n, struct ml_err *e);
ML_API int ml_subset_regress(struct ml_subset *s, const struct ml_reg_data *d, const size_t *rows,
			     size_t n, struct ml_err *e);

#endif
