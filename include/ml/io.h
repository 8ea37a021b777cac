/* Byte inputs (files or standard input, gzip undone transparently) and atomic outputs. */
#ifndef ML_IO_H
#define ML_IO_H

#include <stddef.h>
#include <stdio.h>
#include "ml/err.h"

struct ml_input;

/* Open path for reading; NULL or "-" is standard input, named "<stdin>". Input that starts
 * with the gzip magic is inflated as it is read (concatenated members too). Returns NULL
 * with e set (ML_E_NOINPUT) on failure. */
ML_API struct ml_input *ml_input_open(const char *path, struct ml_err *e);
/* Name for messages: the path, or "<stdin>". */
ML_API const char *ml_input_name(const struct ml_input *in);
/* Make at least n bytes available without consuming them (fewer at end of input).
 * Sets *p to them and returns how many there are, or a negative ML_E_* (gzip garbage is
 * ML_E_DATA). n may be large; the buffer grows. */
ML_API long ml_input_peek(struct ml_input *in, const unsigned char **p, size_t n,
			  struct ml_err *e);
/* Read up to n bytes into buf. Returns the count (0 at end) or a negative ML_E_*. */
ML_API long ml_input_read(struct ml_input *in, void *buf, size_t n, struct ml_err *e);
/* Read exactly n bytes: returns 0, or ML_E_DATA "truncated" when the input ends first
 * (message names what, see ML_E_DATA), or another negative ML_E_*. */
ML_API int ml_input_read_full(struct ml_input *in, void *buf, size_t n, const char *what,
			      struct ml_err *e);
/* Bytes consumed so far (of the decompressed data). */
ML_API unsigned long long ml_input_offset(const struct ml_input *in);
ML_API int ml_input_is_gzip(const struct ml_input *in);
/* The size of a plain file read as it is (not gzip), else 0: a pipe, a device. */
ML_API unsigned long long ml_input_size(const struct ml_input *in);
ML_API void ml_input_close(struct ml_input *in);

/* An output file written atomically: data go to a temporary file beside the target,
 * which ml_output_commit flushes, fsyncs and renames over it. NULL or "-" is standard
 * output, written directly (commit flushes and checks it). */
struct ml_output;

ML_API struct ml_output *ml_output_open(const char *path, struct ml_err *e);
ML_API FILE *ml_output_file(struct ml_output *o);
ML_API const char *ml_output_name(const struct ml_output *o);
/* Finish: returns 0 or ML_E_IO with e set; o is freed either way. */
ML_API int ml_output_commit(struct ml_output *o, struct ml_err *e);
/* Give up: the temporary file is removed and the target left as it was; o is freed. */
ML_API void ml_output_abort(struct ml_output *o);

/* Read a whole input (decompressed) into memory. Returns 0 with *buf malloc'd. */
ML_API int ml_read_all(const char *path, unsigned char **buf, size_t *len, struct ml_err *e);
/* Write len bytes to path atomically (temporary file, fsync, rename). */
ML_API int ml_write_atomic(const char *path, const void *buf, size_t len, struct ml_err *e);

#endif
