/* Unit tests for lib/core/num.c: parsing against strtod, shortest formatting, checked parsers. */
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml/num.h"
#include "unit.h"

/* ---- helpers ---- */

static uint64_t rng_state = UINT64_C(0x9e3779b97f4a7c15);

/* splitmix64: fixed seed, so a failure reproduces */
static uint64_t rnd(void)
{
	uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* Loop counts, multiplied by $ML_NUM_TEST_SCALE for a longer soak (the default runs in
 * about 2 s at -O2); $ML_NUM_TEST_SEED changes the random sequence. */
static long scale(long n)
{
	static long mult;

	if (mult == 0) {
		const char *m = getenv("ML_NUM_TEST_SCALE"), *seed = getenv("ML_NUM_TEST_SEED");

		mult = m ? strtol(m, NULL, 10) : 1;
		if (mult < 1)
			mult = 1;
		if (seed)
			rng_state ^= strtoull(seed, NULL, 10) * UINT64_C(0x2545f4914f6cdd1d);
	}
	return n * mult;
}

static unsigned rndn(unsigned n)
{
	return (unsigned)(rnd() % n);
}

static uint64_t bits_of(double d)
{
	uint64_t b;

	memcpy(&b, &d, sizeof b);
	return b;
}

static double double_of(uint64_t b)
{
	double d;

	memcpy(&d, &b, sizeof d);
	return d;
}

/* ml_parse_double on an exact-size heap copy, so that reading past n trips ASan. */
static int parse(const char *s, size_t n, double *out)
{
	char *copy = malloc(n ? n : 1);
	int r;

	if (copy == NULL)
		abort();
	memcpy(copy, s, n);
	r = ml_parse_double(copy, n, out);
	free(copy);
	return r;
}

/* What ml_parse_double must do: strtod on the whole text, minus white space, hexadecimal
 * and nan(...), which it rejects. */
static int oracle(const char *s, size_t n, double *out)
{
	char small[256], *buf = n < sizeof small ? small : malloc(n + 1), *end;
	int r = -1;

	if (buf == NULL)
		abort();
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (n > 0 && !isspace((unsigned char)s[0]) && !memchr(s, 'x', n) && !memchr(s, 'X', n) &&
	    !memchr(s, '(', n)) {
		double d = strtod(buf, &end);

		if (end == buf + n) {
			*out = d;
			r = 0;
		}
	}
	if (buf != small)
		free(buf);
	return r;
}

static int same_as_strtod_n(const char *s, size_t n)
{
	double got = 0, want = 0;
	int rg = parse(s, n, &got), rw = oracle(s, n, &want);

	if (rg != rw || (rg == 0 && bits_of(got) != bits_of(want))) {
		fprintf(stderr, "parse '%.*s' (%zu bytes): got %d %a, strtod %d %a\n",
			n > 200 ? 200 : (int)n, s, n, rg, got, rw, want);
		return 0;
	}
	return 1;
}

static int same_as_strtod(const char *s)
{
	return same_as_strtod_n(s, strlen(s));
}

/* The significant digits of a number text (no leading or trailing zeros) and the decimal
 * exponent of the first one; digits is "0" for zero. */
static void canon(const char *s, char *digits, int *x)
{
	int intlen = 0, seen_point = 0, first = -1, k = 0, i = 0;
	long e = 0;
	const char *p = s;

	if (*p == '-' || *p == '+')
		p++;
	for (; *p && *p != 'e' && *p != 'E'; p++) {
		if (*p == '.') {
			seen_point = 1;
			continue;
		}
		if (!seen_point)
			intlen++;
		if (first < 0 && *p != '0')
			first = i;
		if (first >= 0)
			digits[k++] = *p;
		i++;
	}
	if (*p)
		e = strtol(p + 1, NULL, 10);
	while (k > 1 && digits[k - 1] == '0')
		k--;
	if (first < 0) {
		digits[k++] = '0';
		first = 0;
	}
	digits[k] = '\0';
	*x = intlen - 1 - first + (int)e;
}

static double str_to_d(const char *s)
{
	return strtod(s, NULL);
}

/* ---- parsing ---- */

static void test_parse_cases(void)
{
	static const char *const ok[] = {
		"0", "-0", "+0", "0.0", "-0.0", "00000", "000.000e-5", "1", "-1", "+1", "123.456",
		"-0.00123e-5", "9007199254740993", "9007199254740992", "9007199254740995",
		"2.2250738585072011e-308", "2.2250738585072012e-308", "2.2250738585072014e-308",
		"4.9406564584124654e-324", "2.4703282292062327e-324", "2.4703282292062328e-324",
		"1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308",
		"1e308", "1e309", "-1e309", "1e-324", "1e-400", "-1e-400", "1e23", "8.98846567431158e307",
		"+.5", "5.", "-.5e1", "1.e5", "0.1", "0.2", "0.3", "3.14159265358979323846264338327950",
		"123456789012345678901234567890", "0.000000000000000000000000000001",
		"1.00000000000000011102230246251565404236316680908203125",
		"1.00000000000000011102230246251565404236316680908203124",
		"1.00000000000000011102230246251565404236316680908203126", "7.2057594037927933e16",
		"1e22", "1e23", "9999999999999999e22", "123456789e30", "1E5", "1e+5", "1e-5",
		"1e0000000000000000000000000000000000005", "1e-99999999999999999999999",
		"1e99999999999999999999999", "0e99999999999999999999999", "inf", "INF", "-inf",
		"+Inf", "infinity", "-Infinity", "INFINITY", "nan", "NaN", "-nan", "+NAN",
		"179769313486231580793728971405303415079934132710037826936173778980444968292764750946"
		"649017977587207096330286416692887910946555547851940402630657488671505820681908902000"
		"708383676273854845817711531764475730270069855571366959622842914819860834936475292719"
		"074168444365510704342711559699508093042880177904174497791.9999999999999999999999999",
		"179769313486231580793728971405303415079934132710037826936173778980444968292764750946"
		"649017977587207096330286416692887910946555547851940402630657488671505820681908902000"
		"708383676273854845817711531764475730270069855571366959622842914819860834936475292719"
		"074168444365510704342711559699508093042880177904174497792",
	};
	static const char *const bad[] = {
		"", "+", "-", ".", "+.", "-.", "e5", ".e5", "1e", "1e+", "1e-", "1E", "0x10", "0X1p3",
		"-0x1", " 1", "1 ", "\t1", "1\n", "1.2.3", "--1", "+-1", "1e5e5", "1,5", "1d", "1f",
		"inff", "infin", "infinit", "infinityy", "in", "nan(1)", "nan()", "nana", "-", "1..2",
		"..", "1e1.5", "e", "E", "+e", "0e", "1_000", "١",
	};

	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		double d;

		CHECK(parse(ok[i], strlen(ok[i]), &d) == 0);
		CHECK(same_as_strtod(ok[i]));
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		double d = 42;

		CHECK(parse(bad[i], strlen(bad[i]), &d) == -1);
		CHECK(d == 42);
	}
	/* NUL bytes are garbage too */
	{
		double d;

		CHECK(parse("1\0", 2, &d) == -1);
		CHECK(parse("\0", 1, &d) == -1);
	}
}

static void test_parse_values(void)
{
	double d;

	CHECK(parse("-0", 2, &d) == 0 && d == 0 && signbit(d));
	CHECK(parse("0", 1, &d) == 0 && d == 0 && !signbit(d));
	CHECK(parse("1e-400", 6, &d) == 0 && d == 0 && !signbit(d));
	CHECK(parse("-1e-400", 7, &d) == 0 && d == 0 && signbit(d));
	CHECK(parse("1e400", 5, &d) == 0 && isinf(d) && d > 0);
	CHECK(parse("-Infinity", 9, &d) == 0 && isinf(d) && d < 0);
	CHECK(parse("nan", 3, &d) == 0 && isnan(d) && !signbit(d));
	CHECK(parse("-nan", 4, &d) == 0 && isnan(d) && signbit(d));
	CHECK(parse("9007199254740993", 16, &d) == 0 && d == 9007199254740992.0);
	CHECK(parse("1.7976931348623158e308", 22, &d) == 0 && d == DBL_MAX);
	CHECK(parse("4.9406564584124654e-324", 23, &d) == 0 && d == 0x1p-1074);
	CHECK(parse("2.4703282292062327e-324", 23, &d) == 0 && d == 0);
	CHECK(parse("2.4703282292062328e-324", 23, &d) == 0 && d == 0x1p-1074);
	CHECK(parse("123.456", 7, &d) == 0 && d == 123.456);
}

/* s is not a C string: only the first n bytes count, and nothing after them is read. */
static void test_parse_not_terminated(void)
{
	double d;

	CHECK(ml_parse_double("12345", 3, &d) == 0 && d == 123);
	CHECK(ml_parse_double("1e5", 2, &d) == -1);
	CHECK(ml_parse_double("1e5", 1, &d) == 0 && d == 1);
	CHECK(ml_parse_double("-1.5,2", 4, &d) == 0 && d == -1.5);
	CHECK(ml_parse_double("infinity", 3, &d) == 0 && isinf(d));
	CHECK(ml_parse_double("infinity", 5, &d) == -1);
	CHECK(ml_parse_double("1", 0, &d) == -1);
	CHECK(parse("0.5", 3, &d) == 0 && d == 0.5);
	CHECK(parse("1e+7", 4, &d) == 0 && d == 1e7);
}

static size_t gen_digits(char *o, unsigned n)
{
	unsigned style = rndn(6);

	for (unsigned i = 0; i < n; i++) {
		switch (style) {
		case 0:
			o[i] = (char)('0' + (i < n / 2 ? 0 : rndn(10)));
			break;
		case 1:
			o[i] = rndn(4) ? '9' : (char)('0' + rndn(10));
			break;
		case 2:
			o[i] = rndn(4) ? '0' : (char)('0' + rndn(10));
			break;
		default:
			o[i] = (char)('0' + rndn(10));
		}
	}
	return n;
}

static long gen_exponent(void)
{
	switch (rndn(7)) {
	case 0:
		return (long)rndn(61) - 30;
	case 1:
		return -(long)rndn(60) - 290; /* subnormal and underflow */
	case 2:
		return (long)rndn(50) + 280; /* near overflow */
	case 3:
		return (long)rndn(700) - 350;
	case 4:
		return -(long)rndn(40) - 330; /* what 25 digits need to reach the subnormals */
	case 5:
		return (long)rndn(100000) - 50000;
	default:
		return (long)rndn(45) - 22;
	}
}

/* A random number text, sometimes broken on purpose. */
static size_t gen_number(char *b)
{
	static const char junk[] = "0123456789.eE+-xXiInN a\0";
	size_t n = 0;
	unsigned ni = rndn(26), nf = rndn(26);

	switch (rndn(8)) {
	case 0:
		b[n++] = '-';
		break;
	case 1:
		b[n++] = '+';
		break;
	default:
		break;
	}
	if (rndn(5) == 0)
		ni = 0;
	n += gen_digits(b + n, ni);
	if (rndn(3) != 0) {
		b[n++] = '.';
		n += gen_digits(b + n, nf);
	}
	if (rndn(3) != 0)
		n += (size_t)snprintf(b + n, 32, "%c%s%ld", rndn(2) ? 'e' : 'E',
				      rndn(3) == 0 ? "+" : "", gen_exponent());
	switch (rndn(40)) {
	case 0:
		if (n > 0)
			b[rndn((unsigned)n)] = junk[rndn(sizeof junk - 1)];
		break;
	case 1:
		if (n > 0)
			n = rndn((unsigned)n);
		break;
	case 2:
		b[n++] = junk[rndn(sizeof junk - 1)];
		break;
	default:
		break;
	}
	return n;
}

/* Text as a program would write it: printf of a random double at a random precision. */
static size_t gen_printed(char *b)
{
	double v;
	int prec = 1 + (int)rndn(17);

	if (rndn(2))
		v = double_of(rnd() & ~(UINT64_C(0x7ff) << 52)) * ldexp(1, (int)rndn(200) - 100);
	else
		v = double_of(rnd());
	if (!isfinite(v))
		v = 1.5;
	switch (rndn(3)) {
	case 0:
		return (size_t)snprintf(b, 64, "%.*g", prec, v);
	case 1:
		return (size_t)snprintf(b, 64, "%.*e", prec, v);
	default:
		return (size_t)snprintf(b, 64, "%.*f", prec % 8, fmod(v, 1e12));
	}
}

static void test_parse_random(void)
{
	char b[128];
	long bad = 0;

	for (long i = 0; i < scale(700000); i++) {
		size_t n = gen_number(b);

		if (!same_as_strtod_n(b, n) && ++bad > 10)
			break;
	}
	for (long i = 0; i < scale(300000); i++) {
		size_t n = gen_printed(b);

		if (!same_as_strtod_n(b, n) && ++bad > 10)
			break;
	}
	CHECK(bad == 0);
}

/* Append the digits of an integer text to b, with exponent e, as "DIGITSeE". */
static size_t put_exp(char *b, size_t n, long e)
{
	return n + (size_t)snprintf(b + n, 32, "e%ld", e);
}

/*
 * Exact halfway points between neighbouring doubles, and texts just above and below them:
 * the cases that need every digit. x87 long double holds a halfway point exactly and glibc
 * prints it exactly.
 */
static void test_parse_halfway(void)
{
#if LDBL_MANT_DIG >= 64 && LDBL_MAX_EXP > 1024
	char txt[1200], b[1600];
	long bad = 0;

	for (int i = 0; i < scale(6000) && bad < 10; i++) {
		uint64_t u = rnd() & ~(UINT64_C(1) << 63);
		double d, up;
		char *e;
		size_t m, k;
		long x;

		if (i < 200)
			u = (uint64_t)i; /* subnormals */
		else if (i < 300)
			u = (UINT64_C(1) << 52) + (uint64_t)i - 250; /* around DBL_MIN */
		else if (i < 400)
			u = (UINT64_C(0x7fe) << 52) + (UINT64_C(1) << 52) - 1 - (uint64_t)(i - 300);
		else if (i % 2)
			u = (u & ((UINT64_C(1) << 52) - 1)) | ((uint64_t)(1023 + rndn(120) - 60) << 52);
		d = double_of(u);
		up = nextafter(d, INFINITY);
		if (!isfinite(d) || !isfinite(up))
			continue;
		snprintf(txt, sizeof txt, "%.1000Le", ((long double)d + (long double)up) / 2);
		e = strchr(txt, 'e');
		x = strtol(e + 1, NULL, 10);
		/* digits without the point and without trailing zeros */
		m = 0;
		for (char *p = txt; p < e; p++)
			if (*p != '.')
				b[m++] = *p;
		while (m > 1 && b[m - 1] == '0')
			m--;
		/* value = b[0].b[1..] * 10^x = b * 10^(x - m + 1) */
		{
			char s[1600];
			size_t n;

			memcpy(s, b, m);
			n = put_exp(s, m, x - (long)m + 1);
			bad += !same_as_strtod_n(s, n); /* exactly halfway */
			memcpy(s, b, m);
			memset(s + m, '0', 300);
			s[m + 300] = '1';
			n = put_exp(s, m + 301, x - (long)m - 300);
			bad += !same_as_strtod_n(s, n); /* far above */
			memcpy(s, b, m);
			memset(s + m, '0', 300);
			n = put_exp(s, m + 300, x - (long)m + 1 - 300);
			bad += !same_as_strtod_n(s, n); /* halfway with zeros beyond 800 digits */
			for (k = 1; k < m; k += 1 + k / 2) {
				/* truncated: just below */
				memcpy(s, b, k);
				n = put_exp(s, k, x - (long)k + 1);
				bad += !same_as_strtod_n(s, n);
				/* truncated and padded with nines: closer below */
				memcpy(s, b, k);
				memset(s + k, '9', 40);
				n = put_exp(s, k + 40, x - (long)k + 1 - 40);
				bad += !same_as_strtod_n(s, n);
			}
			/* as a plain decimal with a point and leading zeros */
			if (x < 0 && x > -330) {
				n = 0;
				s[n++] = '0';
				s[n++] = '.';
				for (long j = -1; j > x; j--)
					s[n++] = '0';
				memcpy(s + n, b, m);
				bad += !same_as_strtod_n(s, n + m);
			}
		}
	}
	CHECK(bad == 0);
#endif
}

/* Long texts: far more digits than a double holds, and long runs of zeros. */
static void test_parse_long(void)
{
	size_t cap = 200000, n;
	char *s = malloc(cap);
	long bad = 0;

	if (s == NULL)
		abort();
	for (int i = 0; i < 300; i++) {
		n = 0;
		if (rndn(2))
			s[n++] = '-';
		n += gen_digits(s + n, 1 + rndn(900));
		if (rndn(2)) {
			s[n++] = '.';
			n += gen_digits(s + n, rndn(900));
		}
		n = put_exp(s, n, gen_exponent());
		bad += !same_as_strtod_n(s, n);
	}
	/* 0.000...0001e+K for many zeros */
	for (int z = 1; z < 100000; z *= 3) {
		n = 0;
		s[n++] = '0';
		s[n++] = '.';
		memset(s + n, '0', (size_t)z);
		n += (size_t)z;
		s[n++] = '1';
		bad += !same_as_strtod_n(s, n);
		bad += !same_as_strtod_n(s, put_exp(s, n, z - 5));
		bad += !same_as_strtod_n(s, put_exp(s, n, z + 300));
		/* 1000...000e-K */
		n = 0;
		s[n++] = '1';
		memset(s + n, '0', (size_t)z);
		n += (size_t)z;
		bad += !same_as_strtod_n(s, n);
		bad += !same_as_strtod_n(s, put_exp(s, n, -z));
		bad += !same_as_strtod_n(s, put_exp(s, n, -z - 320));
		/* 999...999 */
		memset(s, '9', (size_t)z);
		bad += !same_as_strtod_n(s, put_exp(s, (size_t)z, -z));
	}
	/* a whole 150000-byte text of digits */
	n = 0;
	s[n++] = '.';
	n += gen_digits(s + n, 150000);
	bad += !same_as_strtod_n(s, n);
	bad += !same_as_strtod_n(s, put_exp(s, n, 150000));
	free(s);
	CHECK(bad == 0);
}

/* ---- formatting ---- */

static void check_fmt(double v, const char *want)
{
	char buf[ML_FMT_DOUBLE_MAX + 1];
	size_t n = ml_fmt_double(buf, v);

	if (strcmp(buf, want) != 0 || n != strlen(want)) {
		fprintf(stderr, "ml_fmt_double(%a) = '%s', want '%s'\n", v, buf, want);
		unit_checks_failed++;
	}
}

static void test_fmt_layout(void)
{
	check_fmt(0.0, "0");
	check_fmt(-0.0, "-0");
	check_fmt(1.5, "1.5");
	check_fmt(-1.5, "-1.5");
	check_fmt(3, "3");
	check_fmt(100, "100");
	check_fmt(123.25, "123.25");
	check_fmt(1e16, "10000000000000000");
	check_fmt(1e17, "1e+17");
	check_fmt(-1e17, "-1e+17");
	check_fmt(12345678901234567.0, "12345678901234568");
	check_fmt(0.0001, "0.0001");
	check_fmt(0.00001, "0.00001");
	check_fmt(0.000012345, "0.000012345");
	check_fmt(0.000001, "1e-06");
	check_fmt(1.5e-6, "1.5e-06");
	check_fmt(123456789012345680.0, "1.2345678901234568e+17");
	check_fmt(5e-324, "5e-324");
	check_fmt(-5e-324, "-5e-324");
	check_fmt(1e-323, "1e-323");
	check_fmt(1.5e-323, "1.5e-323");
	check_fmt(2.2250738585072014e-308, "2.2250738585072014e-308");
	check_fmt(DBL_MAX, "1.7976931348623157e+308");
	check_fmt(0.1, "0.1");
	check_fmt(0.3, "0.3");
	check_fmt(0.1 + 0.2, "0.30000000000000004");
	check_fmt(1.0 / 3, "0.3333333333333333");
	check_fmt(2.0 / 3, "0.6666666666666666");
	check_fmt(1e23, "1e+23");
	check_fmt(9007199254740993.0, "9007199254740992");
	check_fmt(2251799813685248.5, "2251799813685248.5");
	check_fmt(1e100, "1e+100");
	check_fmt(1.25e-100, "1.25e-100");
	check_fmt(NAN, "nan");
	check_fmt(-NAN, "nan");
	check_fmt(INFINITY, "inf");
	check_fmt(-INFINITY, "-inf");
}

/* Check ml_fmt_double(v): reads back to v, no shorter text does, and of the texts that
 * short it is the one closest to v (which printf %.{k-1}e finds when it reads back). */
static int fmt_ok(double v)
{
	char out[ML_FMT_DOUBLE_MAX + 8], s[64], dg[32], pd[32];
	int x, px, k;
	size_t n = ml_fmt_double(out, v);

	if (n != strlen(out) || n > ML_FMT_DOUBLE_MAX || bits_of(str_to_d(out)) != bits_of(v))
		goto fail;
	canon(out, dg, &x);
	k = (int)strlen(dg);
	if (k > 17)
		goto fail;
	if (k > 1) {
		/* the (k-1)-digit decimals on either side of the output */
		unsigned long long a;

		memcpy(s, dg, (size_t)k - 1);
		s[k - 1] = '\0';
		a = strtoull(s, NULL, 10);
		snprintf(s, sizeof s, "%llue%d", a, x - (k - 2));
		if (fabs(str_to_d(s)) == fabs(v))
			goto fail;
		snprintf(s, sizeof s, "%llue%d", a + 1, x - (k - 2));
		if (fabs(str_to_d(s)) == fabs(v))
			goto fail;
	}
	snprintf(s, sizeof s, "%.*e", k - 1, v);
	if (bits_of(str_to_d(s)) == bits_of(v)) {
		canon(s, pd, &px);
		if (strcmp(pd, dg) != 0 || px != x)
			goto fail;
	}
	return 1;
fail:
	fprintf(stderr, "ml_fmt_double(%a) = '%s'\n", v, out);
	return 0;
}

static void test_fmt_random(void)
{
	long bad = 0;

	for (long i = 0; i < scale(350000) && bad < 10; i++) {
		uint64_t u = rnd();
		double v;

		switch (i % 4) {
		case 0: /* any finite double */
			break;
		case 1: /* around 1 */
			u = (u & ~(UINT64_C(0x7ff) << 52)) | ((uint64_t)(1023 + rndn(160) - 80) << 52);
			break;
		case 2: /* subnormal */
			u &= (UINT64_C(1) << 52) - 1;
			break;
		default: /* few significant bits: short decimals, integers, powers of two */
			u &= ~((UINT64_C(1) << rndn(53)) - 1);
			break;
		}
		v = double_of(u);
		if (!isfinite(v))
			continue;
		bad += !fmt_ok(v);
	}
	/* values printed with few digits, read back */
	for (long i = 0; i < scale(80000) && bad < 10; i++) {
		char s[64];
		double v = double_of(rnd());

		if (!isfinite(v))
			continue;
		snprintf(s, sizeof s, "%.*e", (int)rndn(17), v * ldexp(1, -(int)rndn(1000)));
		bad += !fmt_ok(strtod(s, NULL));
	}
	/* powers of two and of ten, the smallest subnormals, the binade edges */
	for (int e = -1074; e <= 1023 && bad < 10; e++) {
		double p = ldexp(1, e);

		bad += !fmt_ok(p) + !fmt_ok(nextafter(p, 0)) + !fmt_ok(nextafter(p, INFINITY));
	}
	for (int e = -323; e <= 308 && bad < 10; e++) {
		char s[16];
		double p;

		snprintf(s, sizeof s, "1e%d", e);
		p = strtod(s, NULL);
		bad += !fmt_ok(p) + !fmt_ok(nextafter(p, 0)) + !fmt_ok(nextafter(p, INFINITY));
	}
	for (uint64_t t = 1; t < 20000 && bad < 10; t++)
		bad += !fmt_ok(double_of(t));
	CHECK(bad == 0);
}

/* The shortest, closest digits by brute force: for each length p, the p-digit decimals
 * just below and just above v; the first length where one reads back wins. */
static void brute_shortest(double v, char *digits, int *x)
{
	char s[64];
	double a = fabs(v);

	for (int p = 1; p <= 17; p++) {
		unsigned long long i;
		int e, pe;
		double r;

		snprintf(s, sizeof s, "%.*e", p - 1, a);
		r = strtod(s, NULL);
		if (r == a) {
			canon(s, digits, x);
			return;
		}
		canon(s, digits, &pe);
		i = strtoull(digits, NULL, 10);
		for (size_t j = strlen(digits); j < (size_t)p; j++)
			i *= 10;
		e = pe - (p - 1); /* s = i * 10^e */
		if (r < a) {
			i++;
		} else {
			unsigned long long low = 1;

			for (int j = 1; j < p; j++)
				low *= 10;
			if (i == low) {
				i = i * 10 - 1;
				e--;
			} else {
				i--;
			}
		}
		snprintf(s, sizeof s, "%llue%d", i, e);
		if (strtod(s, NULL) == a) {
			canon(s, digits, x);
			return;
		}
	}
	digits[0] = '\0';
	*x = 0;
}

static void test_fmt_brute(void)
{
	long bad = 0;

	for (long i = 0; i < scale(20000) && bad < 10; i++) {
		char out[ML_FMT_DOUBLE_MAX + 1], dg[32], want[32];
		int x, wx;
		uint64_t u = rnd();
		double v;

		if (i < 3000)
			u = (uint64_t)i + 1;
		else if (i % 2)
			u &= ~((UINT64_C(1) << rndn(53)) - 1);
		v = double_of(u);
		if (!isfinite(v) || v == 0)
			continue;
		ml_fmt_double(out, v);
		canon(out, dg, &x);
		brute_shortest(v, want, &wx);
		if (strcmp(dg, want) != 0 || x != wx) {
			fprintf(stderr, "ml_fmt_double(%a) = '%s', want %se%d\n", v, out, want,
				wx - (int)strlen(want) + 1);
			bad++;
		}
	}
	CHECK(bad == 0);
}

static void test_fmt_parse_identity(void)
{
	long bad = 0;

	for (long i = 0; i < scale(300000) && bad < 10; i++) {
		char out[ML_FMT_DOUBLE_MAX + 1];
		double v = double_of(rnd()), r;
		size_t n;

		if (i % 2)
			v = double_of((rnd() & ~(UINT64_C(0x7ff) << 52)) |
				      ((uint64_t)(1023 + rndn(100) - 50) << 52));
		n = ml_fmt_double(out, v);
		if (ml_parse_double(out, n, &r) != 0 ||
		    (isnan(v) ? !isnan(r) : bits_of(r) != bits_of(v))) {
			fprintf(stderr, "'%s' does not read back as %a\n", out, v);
			bad++;
		}
	}
	CHECK(bad == 0);
}

static void check_prec(double v, int prec, const char *want)
{
	char buf[ML_FMT_DOUBLE_MAX + 1];
	size_t n = ml_fmt_double_prec(buf, v, prec);

	if (strcmp(buf, want) != 0 || n != strlen(want)) {
		fprintf(stderr, "ml_fmt_double_prec(%a, %d) = '%s', want '%s'\n", v, prec, buf, want);
		unit_checks_failed++;
	}
}

static void test_fmt_prec(void)
{
	long bad = 0;

	check_prec(0.1, 17, "0.10000000000000001");
	check_prec(1.0 / 3, 6, "0.333333");
	check_prec(1234567, 6, "1.23457e+06");
	check_prec(123456, 6, "123456");
	check_prec(0.0001, 3, "0.0001");
	check_prec(0.00001, 3, "1e-05");
	check_prec(2.5, 1, "2");
	check_prec(3.5, 1, "4");
	check_prec(-0.0, 5, "-0");
	check_prec(0.0, 5, "0");
	check_prec(1.5, 0, "2");
	check_prec(1.5, 99, "1.5");
	check_prec(NAN, 6, "nan");
	check_prec(-NAN, 6, "nan");
	check_prec(-INFINITY, 6, "-inf");
	check_prec(5e-324, 17, "4.9406564584124654e-324");
	for (long i = 0; i < scale(200000) && bad < 10; i++) {
		char want[64], got[ML_FMT_DOUBLE_MAX + 1];
		int prec = 1 + (int)rndn(17);
		double v = double_of(rnd());

		if (i % 2)
			v = double_of((rnd() & ~(UINT64_C(0x7ff) << 52)) |
				      ((uint64_t)(1023 + rndn(100) - 50) << 52));
		if (isnan(v))
			continue;
		snprintf(want, sizeof want, "%.*g", prec, v);
		ml_fmt_double_prec(got, v, prec);
		if (strcmp(got, want) != 0) {
			fprintf(stderr, "ml_fmt_double_prec(%a, %d) = '%s', want '%s'\n", v, prec,
				got, want);
			bad++;
		}
	}
	CHECK(bad == 0);
}

/* ---- checked parsers ---- */

static void test_parse_checked(void)
{
	long l = 7;
	unsigned long long u = 7;
	double d = 7;
	char buf[64];

	CHECK(ml_parse_long("42", 0, 100, &l) == 0 && l == 42);
	CHECK(ml_parse_long("-5", -10, 10, &l) == 0 && l == -5);
	CHECK(ml_parse_long("+7", 0, 10, &l) == 0 && l == 7);
	CHECK(ml_parse_long("0", 0, 0, &l) == 0 && l == 0);
	snprintf(buf, sizeof buf, "%ld", LONG_MIN);
	CHECK(ml_parse_long(buf, LONG_MIN, LONG_MAX, &l) == 0 && l == LONG_MIN);
	snprintf(buf, sizeof buf, "%ld", LONG_MAX);
	CHECK(ml_parse_long(buf, LONG_MIN, LONG_MAX, &l) == 0 && l == LONG_MAX);
	l = 7;
	CHECK(ml_parse_long("", 0, 100, &l) == -1);
	CHECK(ml_parse_long(" 5", 0, 100, &l) == -1);
	CHECK(ml_parse_long("5 ", 0, 100, &l) == -1);
	CHECK(ml_parse_long("\n5", 0, 100, &l) == -1);
	CHECK(ml_parse_long("5x", 0, 100, &l) == -1);
	CHECK(ml_parse_long("0x10", 0, 100, &l) == -1);
	CHECK(ml_parse_long("1.5", 0, 100, &l) == -1);
	CHECK(ml_parse_long("-", 0, 100, &l) == -1);
	CHECK(ml_parse_long("101", 0, 100, &l) == -1);
	CHECK(ml_parse_long("-1", 0, 100, &l) == -1);
	CHECK(ml_parse_long("99999999999999999999999", LONG_MIN, LONG_MAX, &l) == -1);
	CHECK(ml_parse_long("-99999999999999999999999", LONG_MIN, LONG_MAX, &l) == -1);
	CHECK(ml_parse_long(NULL, 0, 100, &l) == -1);
	CHECK(l == 7);

	CHECK(ml_parse_u64("0", &u) == 0 && u == 0);
	CHECK(ml_parse_u64("+3", &u) == 0 && u == 3);
	CHECK(ml_parse_u64("18446744073709551615", &u) == 0 && u == UINT64_MAX);
	u = 7;
	CHECK(ml_parse_u64("18446744073709551616", &u) == -1);
	CHECK(ml_parse_u64("-1", &u) == -1);
	CHECK(ml_parse_u64("-0", &u) == -1);
	CHECK(ml_parse_u64(" 1", &u) == -1);
	CHECK(ml_parse_u64("1 ", &u) == -1);
	CHECK(ml_parse_u64("", &u) == -1);
	CHECK(ml_parse_u64("1e3", &u) == -1);
	CHECK(u == 7);

	CHECK(ml_parse_real("0.5", 0, 1, &d) == 0 && d == 0.5);
	CHECK(ml_parse_real("1", 0, 1, &d) == 0 && d == 1);
	CHECK(ml_parse_real("-1e-3", -1, 1, &d) == 0 && d == -1e-3);
	CHECK(ml_parse_real("inf", 0, INFINITY, &d) == 0 && isinf(d));
	CHECK(ml_parse_real("1e-400", 0, 1, &d) == 0 && d == 0);
	d = 7;
	CHECK(ml_parse_real("nan", -INFINITY, INFINITY, &d) == -1);
	CHECK(ml_parse_real("1.5", 0, 1, &d) == -1);
	CHECK(ml_parse_real("-0.1", 0, 1, &d) == -1);
	CHECK(ml_parse_real("1e999", 0, 1e300, &d) == -1);
	CHECK(ml_parse_real("inf", 0, 1e300, &d) == -1);
	CHECK(ml_parse_real(" 1", 0, 2, &d) == -1);
	CHECK(ml_parse_real("1 ", 0, 2, &d) == -1);
	CHECK(ml_parse_real("", 0, 2, &d) == -1);
	CHECK(ml_parse_real("0x1", 0, 2, &d) == -1);
	CHECK(ml_parse_real("1,5", 0, 2, &d) == -1);
	CHECK(d == 7);

	/* errno is left alone */
	errno = 0;
	CHECK(ml_parse_long("99999999999999999999999", 0, 1, &l) == -1 && errno == 0);
	CHECK(ml_parse_real("1e999", 0, INFINITY, &d) == 0 && errno == 0);
	CHECK(ml_parse_double("1e-320", 6, &d) == 0 && errno == 0);
}

int main(void)
{
	RUN(test_parse_cases);
	RUN(test_parse_values);
	RUN(test_parse_not_terminated);
	RUN(test_parse_random);
	RUN(test_parse_halfway);
	RUN(test_parse_long);
	RUN(test_fmt_layout);
	RUN(test_fmt_random);
	RUN(test_fmt_brute);
	RUN(test_fmt_parse_identity);
	RUN(test_fmt_prec);
	RUN(test_parse_checked);
	return UNIT_EXIT();
}
