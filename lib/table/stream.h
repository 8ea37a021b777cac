/* ml-stream(5) encoding and decoding, private to libml: the table reader and writer use it. */
#ifndef ML_LIB_STREAM_H
#define ML_LIB_STREAM_H

#include <stdio.h>
#include "ml/frame.h"
#include "ml/io.h"

/* Bytes needed to recognise a stream, and whether p (n bytes) starts one. Any input whose
 * first byte is the magic's 0x89 (which no text starts with) counts, so that
 * ml_stream_in_open names what it found: a damaged magic, an ml-model file. */
#define ML_STREAM_SNIFF 8
int ml_stream_sniff(const unsigned char *p, size_t n);

struct ml_stream_in;

/* Read the header from in (positioned at its start) and fill s (fresh from
 * ml_schema_init) with the names, types and initial dictionaries. On failure (NULL, e
 * set) s is left empty. */
struct ml_stream_in *ml_stream_in_open(struct ml_input *in, struct ml_schema *s,
				       struct ml_err *e);
/* Read the next block of rows into b (allocated for s; grown as needed; b->nrow set),
 * applying any dictionary additions to s first. Returns the rows read, 0 after the end
 * marker (whose row count is checked, and after which the input must end), or a negative
 * ML_E_* (truncation, CRC mismatch, bad tag: ML_E_DATA naming the byte offset). */
long ml_stream_in_next(struct ml_stream_in *r, struct ml_schema *s, struct ml_block *b,
		       struct ml_err *e);
void ml_stream_in_free(struct ml_stream_in *r);

struct ml_stream_out;

/* Write the header for s (borrowed; its dictionaries may grow later) to fp. level: 0 no
 * compression, 1..9 zlib level per block. */
struct ml_stream_out *ml_stream_out_open(FILE *fp, const char *name, const struct ml_schema *s,
					 int level, struct ml_err *e);
/* Write rows [from, to) of b, preceded by a dictionary-addition record for every
 * categorical column whose dictionary grew since the last write. */
int ml_stream_out_write(struct ml_stream_out *w, const struct ml_block *b, size_t from,
			size_t to, struct ml_err *e);
/* Write the end marker with the total row count and flush. */
int ml_stream_out_finish(struct ml_stream_out *w, struct ml_err *e);
void ml_stream_out_free(struct ml_stream_out *w);

#endif
