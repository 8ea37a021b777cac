/* Fuzzing number text: ml_parse_double against strtod in the C locale on what both read as
 * decimal, the checked command-line parsers against strtol and strtoull, and the formatters:
 * ml_fmt_double gives the fewest digits that read back to the same bits (those printf
 * rounds to), and ml_fmt_double_prec what printf %.Ng gives.
 *
 * Input: the text itself; its first eight bytes are also taken as a double to format. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>

#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static int same_bits(double a, double b)
{
	return memcmp(&a, &b, sizeof(a)) == 0;
}

/* Text that strtod reads other than as a decimal (hexadecimal, "nan(...)"), or with the
 * white space it skips first: no comparison there. */
static int strtod_only(const char *s)
{
	const char *p = s;

	if (isspace((unsigned char)*p))
		return 1;
	if (*p == '+' || *p == '-')
		p++;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		return 1;
	return strchr(s, '(') != NULL;
}

static void parse_double(const char *s, size_t n)
{
	double v = 0, w;
	char *end;
	int rc = ml_parse_double(s, n, &v), saved = errno;

	if (rc != 0 && rc != -1)
		fz_fail("ml_parse_double returned %d", rc);
	if (memchr(s, 0, n) || strtod_only(s))
		return;
	w = strtod(s, &end);
	errno = saved;
	if (rc == 0 && (n == 0 || end != s + n))
		fz_fail("ml_parse_double reads '%s' whole, strtod stops at byte %zu", s,
			(size_t)(end - s));
	if (rc != 0 && n > 0 && end == s + n)
		fz_fail("strtod reads '%s' whole, ml_parse_double refuses it", s);
	if (rc == 0 && !(isnan(v) && isnan(w)) && !same_bits(v, w))
		fz_fail("'%s': ml_parse_double gives %a, strtod %a", s, v, w);
	if (rc == 0 && isnan(v) && !isnan(w))
		fz_fail("'%s': ml_parse_double gives NaN, strtod %a", s, w);
}

static void parse_checked(const char *s)
{
	long l = 0, ref;
	unsigned long long u = 0, uref;
	double d = 0, dref = 0;
	char *end;
	int ok, saved = errno;

	/* ml_parse_long over its widest range and a narrow one */
	errno = 0;
	ref = strtol(s, &end, 10);
	ok = *s && !isspace((unsigned char)*s) && end != s && *end == 0 && errno != ERANGE;
	if ((ml_parse_long(s, LONG_MIN, LONG_MAX, &l) == 0) != ok || (ok && l != ref))
		fz_fail("ml_parse_long('%s') against strtol: %ld, %ld", s, l, ref);
	if ((ml_parse_long(s, -5, 5, &l) == 0) != (ok && ref >= -5 && ref <= 5))
		fz_fail("ml_parse_long('%s', -5, 5) against strtol", s);
	errno = 0;
	uref = strtoull(s, &end, 10);
	ok = *s && !isspace((unsigned char)*s) && *s != '-' && end != s && *end == 0 &&
	     errno != ERANGE;
	if ((ml_parse_u64(s, &u) == 0) != ok || (ok && u != uref))
		fz_fail("ml_parse_u64('%s') against strtoull: %llu, %llu", s, u, uref);
	errno = saved;
	/* ml_parse_real is ml_parse_double on the whole string, NaN and the range refused */
	ok = ml_parse_double(s, strlen(s), &dref) == 0 && !isnan(dref) && dref >= -1 && dref <= 1;
	if ((ml_parse_real(s, -1, 1, &d) == 0) != ok || (ok && !same_bits(d, dref)))
		fz_fail("ml_parse_real('%s', -1, 1) against ml_parse_double", s);
}

/* Significant digits and the decimal exponent of the first one, from printf-like text. */
static void digits_of(const char *s, char *dig, int *x)
{
	const char *p = s, *e = strchr(s, 'e');
	char all[40];
	int k = 0, point = -1, lead = 0, exp10 = e ? (int)strtol(e + 1, NULL, 10) : 0;

	for (; *p && p != e; p++) {
		if (*p == '.')
			point = k;
		else if (*p >= '0' && *p <= '9' && k < 39)
			all[k++] = *p;
	}
	if (point < 0)
		point = k;
	while (lead < k && all[lead] == '0')
		lead++;
	*x = point - lead - 1 + exp10;
	while (k > lead && all[k - 1] == '0')
		k--;
	memcpy(dig, all + lead, (size_t)(k - lead));
	dig[k - lead] = 0;
}

static void format(double v)
{
	char buf[ML_FMT_DOUBLE_MAX + 8], ref[64], d1[40], d2[40];
	size_t n = ml_fmt_double(buf, v);
	double back;
	int k, x1, x2, prec;

	if (n > ML_FMT_DOUBLE_MAX || strlen(buf) != n)
		fz_fail("ml_fmt_double wrote %zu bytes, strlen %zu", n, strlen(buf));
	if (isnan(v)) {
		if (strcmp(buf, "nan") != 0)
			fz_fail("ml_fmt_double(NaN) is '%s'", buf);
		return;
	}
	if (ml_parse_double(buf, n, &back) != 0 || !same_bits(back, v) ||
	    strtod(buf, NULL) != v)
		fz_fail("ml_fmt_double(%a) is '%s', which reads back otherwise", v, buf);
	if (isinf(v))
		return;
	/* The fewest digits that read back, closest to v: printf's k digits, rounded to
	 * nearest, or else (the interval that reads back to v is lopsided at a power of two)
	 * the k digits one unit further on the other side of v. */
	for (k = 1; k <= 17; k++) {
		unsigned long long m;
		int i;
		snprintf(ref, sizeof(ref), "%.*e", k - 1, v);
		back = strtod(ref, NULL);
		if (same_bits(back, v))
			break;
		digits_of(ref, d1, &x1);
		m = strtoull(d1, NULL, 10);
		for (i = (int)strlen(d1); i < k; i++)
			m *= 10;
		m = fabs(back) < fabs(v) ? m + 1 : m - 1;
		snprintf(ref, sizeof(ref), "%s%llue%d", v < 0 ? "-" : "", m, x1 - (k - 1));
		if (m > 0 && same_bits(strtod(ref, NULL), v))
			break;
	}
	digits_of(buf, d1, &x1);
	digits_of(ref, d2, &x2);
	if (strcmp(d1, d2) != 0 || (v != 0 && x1 != x2))
		fz_fail("ml_fmt_double(%a) is '%s', the shortest is '%s'", v, buf, ref);
	if ((x1 >= -5 && x1 < 17) == (strchr(buf, 'e') != NULL))
		fz_fail("ml_fmt_double(%a) is '%s': the notation is not the one for exponent %d",
			v, buf, x1);
	for (prec = 1; prec <= 17; prec++) {
		n = ml_fmt_double_prec(buf, v, prec);
		snprintf(ref, sizeof(ref), "%.*g", prec, v);
		if (n != strlen(buf) || strcmp(buf, ref) != 0)
			fz_fail("ml_fmt_double_prec(%a, %d) is '%s', printf gives '%s'", v, prec, buf,
				ref);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	double v;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	parse_double(s, size);
	if (!memchr(data, 0, size))
		parse_checked(s);
	if (size >= 8) {
		memcpy(&v, data, 8);
		format(v);
	}
	if (ml_parse_double(s, size, &v) == 0)
		format(v);
	free(s);
	return 0;
}
