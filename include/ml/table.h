/* Reading and writing tables: CSV, TSV and the ml-stream(5) binary column stream, with
 * the format of an input found from its first bytes. */
#ifndef ML_TABLE_H
#define ML_TABLE_H

#include <stdio.h>
#include "ml/ctx.h"
#include "ml/err.h"
#include "ml/frame.h"

enum ml_format { ML_FMT_AUTO = 0, ML_FMT_CSV, ML_FMT_TSV, ML_FMT_STREAM };

/* Rows read ahead to decide column types when reading text. */
#define ML_INFER_ROWS 100000
#define ML_BLOCK_ROWS 8192

struct ml_read_opts {
	int delim;            /* 0: ',' unless the header line has a tab and no comma */
	int header;           /* 1 (default): the first record names the columns */
	const char *na;       /* missing tokens besides the empty field (always missing),
			       * comma-separated; NULL: "NA,N/A,NaN,nan,null,NULL,?" */
	const char *num_cols; /* COLS forced numeric (a non-number is then an error) */
	const char *cat_cols; /* COLS forced categorical */
	size_t infer_rows;    /* 0: ML_INFER_ROWS; SIZE_MAX: every row */
	size_t block_rows;    /* 0: ML_BLOCK_ROWS; 1: each row as soon as its line is read
			       * (with infer_rows 1, nothing waits for more input) */
	int threads;          /* ml_frame_read: threads parsing text (0: every core) */
	size_t chunk_bytes;   /* ml_frame_read: bytes of text per parsing task (0: 512 KiB) */
	size_t parallel_bytes; /* ml_frame_read: a plain file of at least this many bytes
				* is parsed in windows (0: 1 MiB; SIZE_MAX: never); tests
				* give 1 so that small inputs take that path too */
	const struct ml_schema *types; /* text: a column named here takes this type, unless
					* num_cols or cat_cols say otherwise (a model's input
					* schema); borrowed during ml_reader_open; NULL: none */
	ml_log_fn log;  /* warnings (ML_LOG_WARN: a header column without a name), or NULL */
	void *log_ud;
	/* ml_frame_read: how far it is (MB of a plain file's size, or rows read from
	 * anything else), with log_ud; NULL: nothing. Called from the reading thread. */
	ml_progress_fn progress;
};

ML_API void ml_read_opts_init(struct ml_read_opts *o);

/* Text typing, the same for every reader (streaming, whole, serial or parallel): the first
 * infer_rows rows decide. After the NA tokens, a column is numeric when every present value
 * there is a finite decimal number, an integer with a leading zero ("007") counting as
 * text; categorical when at least half of its present values are text; and ML_E_DATA when
 * its values are numbers but for a few (a stray "n/a", "inf" or "1e309"), naming input,
 * line, column and the first such value, with the way out (--na, --cat). A numeric column
 * that meets a non-number after those rows is the same error. A column forced by num_cols
 * or by types is numeric whatever its values. */
struct ml_reader;

ML_API struct ml_reader *ml_reader_open(const char *path, const struct ml_read_opts *o,
					struct ml_err *e);
ML_API const struct ml_schema *ml_reader_schema(const struct ml_reader *r);
ML_API enum ml_format ml_reader_format(const struct ml_reader *r);
ML_API const char *ml_reader_name(const struct ml_reader *r);
/* Next rows: returns how many (0 at the end) and sets *b to a block owned by the reader,
 * valid until the next call. Categorical dictionaries in the schema may grow between
 * calls. Returns a negative ML_E_* on error. */
ML_API long ml_reader_next(struct ml_reader *r, const struct ml_block **b, struct ml_err *e);
/* Rows returned so far. */
ML_API unsigned long long ml_reader_rows(const struct ml_reader *r);
/* Bytes of the input consumed so far (decompressed ones for gzip), a little ahead of the
 * rows returned; with ml_reader_size, how far a reading is. */
ML_API unsigned long long ml_reader_offset(const struct ml_reader *r);
/* The size of the input when it is a plain file (not compressed, not a pipe), else 0. */
ML_API unsigned long long ml_reader_size(const struct ml_reader *r);
/* Rows a text block holds from the next call of ml_reader_next on (at least 1); a wide
 * input's blocks can so be kept to a size. */
ML_API void ml_reader_set_block_rows(struct ml_reader *r, size_t n);
ML_API void ml_reader_close(struct ml_reader *r);

/* Read every row of path into f (which must be fresh from ml_frame_init), typed as the
 * streaming reader types it (the first infer_rows rows decide). */
ML_API int ml_frame_read(struct ml_frame *f, const char *path, const struct ml_read_opts *o,
			 struct ml_err *e);

struct ml_write_opts {
	enum ml_format format; /* CSV (default), TSV or STREAM */
	int header;            /* 1 (default) */
	int precision;         /* 0: shortest round-trip; 1..17 significant digits */
	int compress;          /* stream: zlib level 1..9 per block, 0 (default) none */
};

ML_API void ml_write_opts_init(struct ml_write_opts *o);

/* Writes rows of schema s (borrowed; its dictionaries may grow between writes, the stream
 * then carries the additions) to fp, which stays the caller's. */
struct ml_writer;

ML_API struct ml_writer *ml_writer_open(FILE *fp, const char *name, const struct ml_schema *s,
					const struct ml_write_opts *o, struct ml_err *e);
/* Write rows [from, to) of b, whose schema must be s. */
ML_API int ml_writer_write(struct ml_writer *w, const struct ml_block *b, size_t from,
			   size_t to, struct ml_err *e);
/* Pass the rows written so far on to fp and fflush it, for output that must not wait
 * (a prediction as soon as its line is read). */
ML_API int ml_writer_flush(struct ml_writer *w, struct ml_err *e);
/* End the table (the stream's end marker) and flush; does not close fp. */
ML_API int ml_writer_finish(struct ml_writer *w, struct ml_err *e);
ML_API void ml_writer_free(struct ml_writer *w);

/* Parse "csv", "tsv" or "stream". Returns ML_FMT_* or -1. */
ML_API int ml_format_parse(const char *s);

#endif
