/* ml-model(5): the container for every fitted artefact. A model holds JSON metadata (an
 * object whose top-level keys the kind defines, read and written here as JSON text) and
 * named binary sections; a section can hold a whole nested container (an ensemble's
 * members). Loading trusts nothing: lengths, CRCs and the whole-file digest are checked
 * before anything is returned. A model is not safe to change from two threads; a loaded
 * one may be read by any number. */
#ifndef ML_MODEL_H
#define ML_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include "ml/err.h"
#include "ml/frame.h"

#define ML_MODEL_VERSION 1

struct ml_model;

/* A new empty model of the given kind ("features", "model", "ensemble", "forecaster",
 * "profile", ...) and algorithm (may be NULL). Metadata starts with format, kind,
 * algorithm, tool version and creation time (UTC, ISO 8601: now, until
 * ml_model_set_created gives another). NULL when out of memory. */
ML_API struct ml_model *ml_model_new(const char *kind, const char *algorithm);
ML_API void ml_model_free(struct ml_model *m);

ML_API const char *ml_model_kind(const struct ml_model *m);
ML_API const char *ml_model_algorithm(const struct ml_model *m); /* "" when none */
/* The creation time recorded in the metadata, in seconds since 1970-01-01 UTC (commands
 * pass SOURCE_DATE_EPOCH here for reproducible files). ML_E_USAGE for a time before 1970
 * or after 9999. */
ML_API int ml_model_set_created(struct ml_model *m, long long t, struct ml_err *e);
/* Set top-level metadata key to a JSON value given as text ("0.97", "\"text\"", "[1,2]",
 * "{...}"): an existing key keeps its place, a new one goes last. ML_E_USAGE for text
 * that is not one JSON value, or a key of the container's own (format, version, kind,
 * algorithm, tool, created). */
ML_API int ml_model_meta_set(struct ml_model *m, const char *key, const char *json,
			     struct ml_err *e);
/* The compact JSON text of key's value (malloc'd), or NULL when there is no such key or
 * memory ran out. */
ML_API char *ml_model_meta_get(const struct ml_model *m, const char *key);
/* The same, telling the two apart: 0 with *out the text (malloc'd) or NULL when there is
 * no such key, or ML_E_NOMEM with e set. */
ML_API int ml_model_meta_text(const struct ml_model *m, const char *key, char **out,
			      struct ml_err *e);
/* The whole metadata object as compact JSON text, keys in stored order (malloc'd); NULL
 * when out of memory. */
ML_API char *ml_model_meta_json(const struct ml_model *m);
/* The whole-file digest the loader checks (ml-model(5): the CRC-32 and the Adler-32 of
 * everything before the trailer) as 16 lowercase hex digits and a NUL, the CRC's first:
 * the artefact's identity, the same for the same bytes. For a model loaded from a file,
 * that file's; for one made in memory, that of the bytes a save would write. An
 * integrity check, not a signature. ML_E_NOMEM or ML_E_INTERNAL on failure. */
#define ML_MODEL_DIGEST_HEX 16
ML_API int ml_model_digest(const struct ml_model *m, char out[ML_MODEL_DIGEST_HEX + 1],
			   struct ml_err *e);

/* Add a section (data copied; stored zlib-compressed when that saves space). A name is
 * 1..255 bytes; names are unique. */
ML_API int ml_model_add(struct ml_model *m, const char *name, const void *data, size_t len,
			struct ml_err *e);
/* Find a section: 0 with *data (owned by the model) and *len, or ML_E_DATA with e saying
 * the model has no section called name. */
ML_API int ml_model_get(const struct ml_model *m, const char *name, const void **data,
			size_t *len, struct ml_err *e);
ML_API int ml_model_nsections(const struct ml_model *m);
ML_API const char *ml_model_section_name(const struct ml_model *m, int i);

/* Nesting: store child (serialised) as section name, or load it back. */
ML_API int ml_model_add_member(struct ml_model *m, const char *name,
			       const struct ml_model *child, struct ml_err *e);
ML_API struct ml_model *ml_model_get_member(const struct ml_model *m, const char *name,
					    struct ml_err *e);

/* Serialise to memory (malloc'd) or to a file, atomically. */
ML_API int ml_model_to_mem(const struct ml_model *m, unsigned char **buf, size_t *len,
			   struct ml_err *e);
ML_API int ml_model_save(const struct ml_model *m, const char *path, struct ml_err *e);
/* Load from a file (or "-" for stdin; gzip allowed) or from memory; name is used in
 * messages. NULL with e set: ML_E_NOINPUT when it cannot be opened, ML_E_DATA for
 * anything malformed (wrong magic, a newer version, bad lengths, CRC or digest). */
ML_API struct ml_model *ml_model_load(const char *path, struct ml_err *e);
ML_API struct ml_model *ml_model_from_mem(const unsigned char *buf, size_t len,
					  const char *name, struct ml_err *e);
/* The same load, also requiring the kind (NULL: any). */
ML_API struct ml_model *ml_model_load_kind(const char *path, const char *kind,
					   struct ml_err *e);


/* Little-endian section builders and checked readers. A wbuf records the first
 * allocation failure in err; an rbuf never reads past its end and records the first
 * overrun in err (then every read returns zeros). */
struct ml_wbuf {
	unsigned char *p;
	size_t n, cap;
	int err;
};
ML_API void ml_wbuf_init(struct ml_wbuf *b);
ML_API void ml_wbuf_release(struct ml_wbuf *b);
ML_API void ml_wbuf_put(struct ml_wbuf *b, const void *p, size_t n);
ML_API void ml_wbuf_u8(struct ml_wbuf *b, uint8_t v);
ML_API void ml_wbuf_u32(struct ml_wbuf *b, uint32_t v);
ML_API void ml_wbuf_u64(struct ml_wbuf *b, uint64_t v);
ML_API void ml_wbuf_i32(struct ml_wbuf *b, int32_t v);
ML_API void ml_wbuf_f64(struct ml_wbuf *b, double v);
ML_API void ml_wbuf_f64v(struct ml_wbuf *b, const double *v, size_t n);
ML_API void ml_wbuf_i32v(struct ml_wbuf *b, const int32_t *v, size_t n);
ML_API void ml_wbuf_str(struct ml_wbuf *b, const char *s); /* u32 length + bytes */

struct ml_rbuf {
	const unsigned char *p;
	size_t n, off;
	int err;
};
ML_API void ml_rbuf_init(struct ml_rbuf *b, const void *p, size_t n);
ML_API uint8_t ml_rbuf_u8(struct ml_rbuf *b);
ML_API uint32_t ml_rbuf_u32(struct ml_rbuf *b);
ML_API uint64_t ml_rbuf_u64(struct ml_rbuf *b);
ML_API int32_t ml_rbuf_i32(struct ml_rbuf *b);
ML_API double ml_rbuf_f64(struct ml_rbuf *b);
/* Read n values into v; n is checked against what is left before anything is copied. */
ML_API void ml_rbuf_f64v(struct ml_rbuf *b, double *v, size_t n);
ML_API void ml_rbuf_i32v(struct ml_rbuf *b, int32_t *v, size_t n);
/* A malloc'd NUL-terminated copy of a u32-length string, NULL on error (err set). */
ML_API char *ml_rbuf_str(struct ml_rbuf *b);
/* Count of items of size sz the caller may allocate for: n when n * sz fits in what is
 * left, else 0 with err set. Use before allocating from a count read from a file. */
ML_API size_t ml_rbuf_count(struct ml_rbuf *b, uint64_t n, size_t sz);

#endif
