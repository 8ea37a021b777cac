/* Byte inputs (files or standard input, gzip undone transparently) and atomic outputs. */
#ifndef ML_IO_H
#define ML_IO_H

#include <stddef.h>
#include <stdio.h>
#include "ml/err.h"

struct ml_input;

/* Open path for reading; NULL or "-" is standard input, named "<stdin>". Input that starts
 * with the gzip magic is inflated as it is read (concatenated members too). Returns NULL
 * with e set (ML_E_NOINPUT) on failure; standard input closed at start (ml_io_std_closed)
 * is ML_E_NOINPUT "standard input is closed". */
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
 * which ml_output_commit flushes, fsyncs and renames over it. A symbolic link is followed:
 * the link stays and the file it names is replaced (the temporary sits beside that file).
 * A file replaced keeps its mode and, where the user may give it, its owner and group; a
 * new file gets 0666 less the umask. The temporary is named ".NAME.mlpipe-tmp.PID.XXXXXX"
 * (NAME the target's name, cut to fit, PID the writing process). A device or a FIFO is
 * written in place. NULL or "-" is standard output, written directly (commit flushes and
 * checks it); when it was closed at start (ml_io_std_closed) opening it fails with
 * ML_E_IO "standard output is closed". */
struct ml_output;

ML_API struct ml_output *ml_output_open(const char *path, struct ml_err *e);
ML_API FILE *ml_output_file(struct ml_output *o);
ML_API const char *ml_output_name(const struct ml_output *o);
/* Finish: returns 0 or ML_E_IO with e set; o is freed either way. */
ML_API int ml_output_commit(struct ml_output *o, struct ml_err *e);
/* The first half of a commit: flush, check and fsync the data (the file is closed and
 * ml_output_file gives NULL from then on), leaving the rename to ml_output_commit. A
 * command with several outputs syncs them all before it commits any, so that a full disk
 * or a write error leaves every target as it was. Returns 0 or ML_E_IO with e set; o
 * stays open for ml_output_commit or ml_output_abort either way. */
ML_API int ml_output_sync(struct ml_output *o, struct ml_err *e);
/* Give up: the temporary file is removed and the target left as it was; o is freed. */
ML_API void ml_output_abort(struct ml_output *o);
/* Remove the temporary file of every output now open, for a handler of a signal that
 * ends the process (SIGINT, SIGTERM, SIGHUP): async-signal-safe, callable on any thread.
 * Once it has run, committing or aborting an output waits for the end of the process
 * rather than free a name that the handler may still be reading. */
ML_API void ml_output_remove_temps(void);

/* Standard descriptors that were closed when the process started. main() opens /dev/null
 * on each closed one of 0, 1 and 2, so that no file opened later takes its number, and
 * passes the mask here: from then on ml_input_open of standard input fails with
 * ML_E_NOINPUT "standard input is closed", and ml_output_open of standard output with
 * ML_E_IO "standard output is closed". This and the open outputs' temporaries are the
 * library's only process-wide state. */
enum { ML_STDIN_CLOSED = 1, ML_STDOUT_CLOSED = 2 };
ML_API void ml_io_std_closed(unsigned mask);

/* Read a whole input (decompressed) into memory. Returns 0 with *buf malloc'd. */
ML_API int ml_read_all(const char *path, unsigned char **buf, size_t *len, struct ml_err *e);
/* Write len bytes to path atomically (temporary file, fsync, rename). */
ML_API int ml_write_atomic(const char *path, const void *buf, size_t len, struct ml_err *e);

#endif
