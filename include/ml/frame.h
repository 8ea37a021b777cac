/* Tables in memory: dictionaries, schemas, blocks of rows and whole frames, and the
 * column-list syntax (COLS) every option shares.
 *
 * Ownership: a schema owns its columns' names and dictionaries; a block owns its column
 * arrays but only borrows its schema, which must outlive it. Numeric cells are float64
 * (NaN = missing); categorical cells are int32 codes into the column's dictionary
 * (-1 = missing). Dictionaries only grow: a code, once given, keeps its string. */
#ifndef ML_FRAME_H
#define ML_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include "ml/err.h"

enum ml_type { ML_NUM = 0, ML_CAT = 1 };

#define ML_MISSING_CAT (-1)

/* A string dictionary: code -> string and string -> code (hashed). Strings may hold any
 * bytes but NUL. */
struct ml_dict {
	char **str;      /* str[code], NUL-terminated */
	uint32_t *len;   /* len[code] */
	int32_t n, cap;  /* entries, capacity */
	int32_t *slots;  /* open-addressing hash table of codes, -1 empty */
	uint32_t nslots; /* power of two */
};

ML_API void ml_dict_init(struct ml_dict *d);
ML_API void ml_dict_release(struct ml_dict *d);
/* Code of s (length len), or -1 when absent. */
ML_API int32_t ml_dict_find(const struct ml_dict *d, const char *s, size_t len);
/* Code of s, adding it when absent. Returns the code (>= 0) or ML_E_NOMEM, or ML_E_DATA
 * when the dictionary is full (INT32_MAX entries). */
ML_API int32_t ml_dict_intern(struct ml_dict *d, const char *s, size_t len);
ML_API int ml_dict_copy(struct ml_dict *dst, const struct ml_dict *src);

struct ml_col {
	char *name;
	enum ml_type type;
	struct ml_dict dict; /* categorical columns only (empty for numeric ones) */
};

struct ml_schema {
	int ncol;
	struct ml_col *cols;
};

ML_API void ml_schema_init(struct ml_schema *s);
ML_API void ml_schema_release(struct ml_schema *s);
/* Append a column (name copied). Returns its index or a negative ML_E_*. */
ML_API int ml_schema_add(struct ml_schema *s, const char *name, enum ml_type type);
/* Index of the column named name, or -1. */
ML_API int ml_schema_find(const struct ml_schema *s, const char *name);
ML_API int ml_schema_copy(struct ml_schema *dst, const struct ml_schema *src);

/* Rows in column-major arrays. */
union ml_colv {
	double *num;
	int32_t *cat;
};

struct ml_block {
	const struct ml_schema *schema; /* borrowed */
	int ncol;                       /* == schema->ncol when allocated */
	size_t nrow, cap;
	union ml_colv *col; /* col[j].num or col[j].cat per schema->cols[j].type */
	long *line;         /* source line of each row when known (text input), else NULL */
};

/* Allocate a block for schema with room for cap rows (nrow = 0). */
ML_API int ml_block_init(struct ml_block *b, const struct ml_schema *s, size_t cap,
			 struct ml_err *e);
ML_API void ml_block_release(struct ml_block *b);
/* Make room for at least cap rows, keeping the content. */
ML_API int ml_block_reserve(struct ml_block *b, size_t cap, struct ml_err *e);
/* Take a block whose schema gained columns at the end: allocate the new columns. */
ML_API int ml_block_sync(struct ml_block *b, struct ml_err *e);

/* A whole table in memory: a schema it owns and one block with every row. */
struct ml_frame {
	struct ml_schema schema;
	struct ml_block rows;
};

ML_API void ml_frame_init(struct ml_frame *f);
ML_API void ml_frame_release(struct ml_frame *f);
/* Column lists: comma-separated items, each a name, a 1-based index, a range 'A-B' of
 * indices or names, or '!' before an item to remove it. A list of only negations starts
 * from every column. A name that is also a number is taken as a name when a column has
 * that name. Backslash escapes a comma, '-' or '!' in a name. The result is in schema
 * order when sorted is set, otherwise in the order given, without duplicates.
 * Returns the count (>= 0) with *idx malloc'd (free it), or ML_E_USAGE with e naming
 * the unknown column. */
ML_API int ml_cols_parse(const char *spec, const struct ml_schema *s, int sorted, int **idx,
			 struct ml_err *e);
/* The columns a command-line option names, looked up for a message a person can act on.
 * With idx NULL, name is one column name, matched exactly, and the result is its index.
 * With idx set, name is a column list (COLS, read as ml_cols_parse reads it, in the order
 * given) and the result is the count, with *idx malloc'd (free it).
 * A column that s lacks (for a list, its first item that names none) is ML_E_DATA, with
 * e->where set to input (empty when NULL) and the message
 *	no column 'NAME' (OPT); did you mean 'NEAR'?
 * NEAR is the first column whose name is NAME but for the case of ASCII letters, else the
 * first of those the fewest edits away (bytes inserted, deleted or replaced, case aside),
 * when that is at most a third of NAME's length (at least 1) and fewer than its length,
 * so a one-letter name is only matched by case. Without a column that near, the message
 * ends before "; did you"; without opt, " (OPT)" is left out; names are quoted as by
 * ml_err_quote. Other faults of a list (an empty item) are ML_E_USAGE, as from
 * ml_cols_parse; ML_E_NOMEM. */
ML_API int ml_schema_find_or_suggest(const struct ml_schema *s, const char *name,
				     const char *opt, const char *input, int **idx,
				     struct ml_err *e);

#endif
