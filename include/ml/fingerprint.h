/* The training-data fingerprint: what a fitted artefact records about the table it was
 * fitted on, so that a model, a feature pipeline or a drift profile can be matched with its
 * data later. */
#ifndef ML_FINGERPRINT_H
#define ML_FINGERPRINT_H

#include <stdint.h>
#include "ml/ctx.h"
#include "ml/err.h"
#include "ml/frame.h"
#include "ml/model.h"

/* What a fitted artefact records about the table it was fitted on. */
struct ml_fingerprint {
	uint64_t rows;
	int columns;
	uint32_t crc32;
};

/* The fingerprint of f as read: its rows, its columns, and the CRC-32 (zlib's crc32) of
 * this byte sequence, column by column in order: the column's name, a NUL byte, the type
 * byte 'n' or 'c', then every row's value: a number as the 8 bytes of its IEEE 754 double,
 * least significant first (every NaN as 7ff8000000000000), a category as its byte count
 * in 4 bytes, least significant first, followed by its bytes, or ffffffff alone when
 * missing. Columns are hashed on pool's threads (NULL: the calling thread) and their CRCs
 * joined in order with crc32_combine, so the value does not depend on the thread count
 * (nor on the file format, the order of the bytes on disk or the file's name). Returns 0
 * or ML_E_NOMEM. */
ML_API int ml_fingerprint(const struct ml_frame *f, struct ml_pool *pool,
			  struct ml_fingerprint *out, struct ml_err *e);
/* The same fingerprint of rows arriving in blocks (a streaming reader's): begin with the
 * table's schema once its columns are typed, add each block's rows [from, to) in order,
 * with the schema whose dictionaries name the block's categories, and end, which gives
 * the fingerprint (when out is not NULL) and frees the state. begin returns NULL with e
 * set when out of memory. */
struct ml_fingerprint_state;
ML_API struct ml_fingerprint_state *ml_fingerprint_begin(const struct ml_schema *s,
							 struct ml_err *e);
ML_API void ml_fingerprint_add(struct ml_fingerprint_state *st, const struct ml_schema *s,
			       const struct ml_block *b, size_t from, size_t to);
ML_API void ml_fingerprint_end(struct ml_fingerprint_state *st, struct ml_fingerprint *out);
/* Add fp to m's metadata as the key "data": {"rows": R, "columns": C, "crc32": "8 lowercase
 * hex digits"}, after the keys already there. Returns 0 or ML_E_NOMEM. */
ML_API int ml_model_set_fingerprint(struct ml_model *m, const struct ml_fingerprint *fp,
				    struct ml_err *e);

#endif
