/* Number text: a correctly rounded decimal parser and a shortest round-trip formatter. */
#ifndef ML_NUM_H
#define ML_NUM_H

#include <stddef.h>
#include "ml/err.h"

/* Longest text ml_fmt_double writes, without the terminating NUL. */
#define ML_FMT_DOUBLE_MAX 32

/* Parse exactly the n bytes at s as a double, bit-identical to strtod in the C locale
 * (round to nearest even), but with a fast path for ordinary decimals. Accepts what strtod
 * accepts for decimal input: optional sign, digits with optional '.', optional exponent,
 * and "inf", "infinity", "nan" in any case. Hexadecimal floats are rejected. No leading or
 * trailing white space is allowed. Returns 0 and sets *out, or -1 when the text is not a
 * number (empty, trailing garbage). Overflow gives +-inf as strtod does; the caller decides
 * whether a non-finite value is acceptable. s need not be NUL-terminated. */
ML_API int ml_parse_double(const char *s, size_t n, double *out);

/* Write v into buf (size >= ML_FMT_DOUBLE_MAX + 1) with the fewest significant digits
 * that strtod reads back to the same bits (ties: the digits closest to v). With X the
 * decimal exponent of the first digit (v = d.ddd * 10^X): plain notation when
 * -5 <= X < 17 ("3", "-0", "0.1", "123.25", "0.00001"), otherwise scientific as printf
 * %g writes it ("1e+17", "1.5e-06", "2.2250738585072014e-308"). NaN is "nan",
 * infinities "inf" and "-inf". Returns the length written; buf is NUL-terminated. */
ML_API size_t ml_fmt_double(char *buf, double v);

/* Like ml_fmt_double rounded to prec significant digits (1..17), as printf %.{prec}g. */
ML_API size_t ml_fmt_double_prec(char *buf, double v, int prec);

/* Checked parsers for command-line numbers: whole text, no garbage, in range.
 * Return 0 or -1. */
ML_API int ml_parse_long(const char *s, long lo, long hi, long *out);
ML_API int ml_parse_u64(const char *s, unsigned long long *out);
ML_API int ml_parse_real(const char *s, double lo, double hi, double *out);

#endif
