/* Error reporting: every fallible libml function returns 0 or a negative ML_E_* code
 * and, when given a non-NULL struct ml_err, fills it with what went wrong and where.
 * The library never prints and never exits. */
#ifndef ML_ERR_H
#define ML_ERR_H

#include <stddef.h>

#if defined(__GNUC__)
#define ML_API __attribute__((visibility("default")))
#define ML_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define ML_API
#define ML_PRINTF(f, a)
#endif

/* The codes are the negated exit status a command uses for them (sysexits.h). */
enum ml_errcode {
	ML_OK = 0,
	ML_E_FINDING = -1,  /* not an error: a predicate found something */
	ML_E_USAGE = -2,    /* bad arguments, bad column list, unknown option value */
	ML_E_DATA = -65,    /* the input data or artefact is malformed */
	ML_E_NOINPUT = -66, /* an input cannot be opened */
	ML_E_INTERNAL = -70,
	ML_E_NOMEM = -71, /* out of memory or another OS error */
	ML_E_IO = -74     /* read or write error */
};

struct ml_err {
	int code;        /* ML_E_*, 0 when nothing happened */
	char where[256]; /* input name ("<stdin>" for standard input), or empty */
	long line;       /* 1-based line counting the header, 0 if unknown */
	long col;        /* 1-based field number, 0 if unknown */
	char msg[1024];  /* lowercase, no full stop; truncated, never overflowed */
};

/* Clear e (NULL is fine). */
ML_API void ml_err_init(struct ml_err *e);
/* Fill e (NULL is fine) and return code, so a caller can write
 * 'return ml_err_set(e, ML_E_DATA, name, line, col, "bad %s", x);'. */
ML_API int ml_err_set(struct ml_err *e, int code, const char *where, long line, long col,
		      const char *fmt, ...) ML_PRINTF(6, 7);
/* Out of memory, with no allocation. */
ML_API int ml_err_nomem(struct ml_err *e);
/* Copy s into dst (size n) for quoting in a message: control characters and invalid UTF-8
 * become '?', long values are cut with "...". Returns dst. */
ML_API char *ml_err_quote(char *dst, size_t n, const char *s, size_t len);
/* Exit status for a code: 0, 1, 2, 65, 66, 70, 71, 74. */
ML_API int ml_err_exit_status(int code);

#endif
