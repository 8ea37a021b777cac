/* Error records: filling struct ml_err and mapping codes to exit statuses. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ml/err.h"

void ml_err_init(struct ml_err *e)
{
	if (!e)
		return;
	e->code = 0;
	e->where[0] = 0;
	e->line = 0;
	e->col = 0;
	e->msg[0] = 0;
}

int ml_err_set(struct ml_err *e, int code, const char *where, long line, long col,
	       const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return code;
	e->code = code;
	snprintf(e->where, sizeof(e->where), "%s", where ? where : "");
	e->line = line;
	e->col = col;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return code;
}

int ml_err_nomem(struct ml_err *e)
{
	if (!e)
		return ML_E_NOMEM;
	e->code = ML_E_NOMEM;
	e->where[0] = 0;
	e->line = 0;
	e->col = 0;
	memcpy(e->msg, "out of memory", sizeof("out of memory"));
	return ML_E_NOMEM;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 when invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t need, i;
	unsigned c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		need = 2;
	else if (c >= 0xe0 && c <= 0xef)
		need = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		need = 4;
	else
		return 0;
	if (need > n)
		return 0;
	for (i = 1; i < need; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if (need == 3 && c == 0xe0 && s[1] < 0xa0)
		return 0;
	if (need == 3 && c == 0xed && s[1] >= 0xa0)
		return 0;
	if (need == 4 && c == 0xf0 && s[1] < 0x90)
		return 0;
	if (need == 4 && c == 0xf4 && s[1] >= 0x90)
		return 0;
	return need;
}

char *ml_err_quote(char *dst, size_t n, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, o = 0;

	if (!n)
		return dst;
	while (i < len) {
		size_t k = utf8_len(p + i, len - i);
		if (o + (k ? k : 1) + 4 > n) {
			if (o + 4 <= n)
				memcpy(dst + o, "...", 3), o += 3;
			break;
		}
		if (k == 0 || (k == 1 && (p[i] < 0x20 || p[i] == 0x7f))) {
			dst[o++] = '?';
			i++;
		} else {
			memcpy(dst + o, p + i, k);
			o += k;
			i += k;
		}
	}
	dst[o] = 0;
	return dst;
}

int ml_err_exit_status(int code)
{
	switch (code) {
	case 0:
		return 0;
	case ML_E_FINDING:
		return 1;
	case ML_E_USAGE:
		return 2;
	case ML_E_DATA:
	case ML_E_NOINPUT:
	case ML_E_INTERNAL:
	case ML_E_NOMEM:
	case ML_E_IO:
		return -code;
	default:
		return 70;
	}
}
