/* Fuzzing ml_parse_time: on the raw bytes (it never reads outside them and gives a finite
 * time or -1; a plain number is read as ml_parse_double reads it), and on a date-time
 * written from fields the input picks, valid or not, against timegm and the rules of
 * mlfeat(1): months 1-12, the days of the month in the proleptic Gregorian calendar,
 * hours to 24:00, seconds to 60, zones to +-23:59.
 *
 * Input: the first 16 bytes choose the fields of the written date-time; the whole input is
 * also parsed as it is. */
#include <time.h>

#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static void raw(const uint8_t *data, size_t size)
{
	/* a copy of exactly size bytes, so that ASan sees any read past them */
	char *s = malloc(size ? size : 1);
	double t = 0, v;
	size_t a = 0, b = size;
	int rc;

	if (!s)
		return;
	if (size)
		memcpy(s, data, size);
	rc = ml_parse_time(s, size, &t);
	if (rc != 0 && rc != -1)
		fz_fail("ml_parse_time returned %d", rc);
	if (rc == 0 && !isfinite(t))
		fz_fail("ml_parse_time gave a time that is not finite");
	/* Text that is not a date (no '-' or '/' fifth of ten or more bytes, blanks aside) is
	 * a number of seconds. */
	while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t'))
		b--;
	while (a < b && (s[a] == ' ' || s[a] == '\t'))
		a++;
	if (b > a && !(b - a >= 10 && (s[a + 4] == '-' || s[a + 4] == '/'))) {
		int ok = ml_parse_double(s + a, b - a, &v) == 0 && isfinite(v);
		if (ok != (rc == 0) || (ok && t != v))
			fz_fail("ml_parse_time and ml_parse_double disagree on a number");
	}
	free(s);
}

static int leap(long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static void fields(const uint8_t *p)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	static const char tsep[3] = {'T', ' ', 't'};
	char s[96], frac[8], fs[12];
	long y = (p[0] | p[1] << 8) % 10000;
	int mo = p[2] % 14, d = p[3] % 33, h = p[4] % 26, mi = p[5] % 61, sec = p[6] % 62;
	int has_time = p[7] & 1, has_sec = p[7] & 2, nfrac = (p[7] >> 2) % 5;
	int zone = p[8] % 7, zh = p[9] % 25, zm = p[10] % 61, pad = p[11] & 3;
	int n, valid, k;
	double t = 0, want;
	struct tm tm;

	for (k = 0; k < nfrac; k++)
		frac[k] = (char)('0' + p[12 + k % 4] % 10);
	frac[nfrac] = 0;
	n = snprintf(s, sizeof(s), "%s%04ld%c%02d%c%02d", pad & 1 ? " " : "", y,
		     p[11] & 4 ? '/' : '-', mo, p[11] & 4 ? '/' : '-', d);
	if (has_time) {
		n += snprintf(s + n, sizeof(s) - (size_t)n, "%c%02d:%02d", tsep[(p[11] >> 3 & 3) % 3],
			      h, mi);
		if (has_sec)
			n += snprintf(s + n, sizeof(s) - (size_t)n, ":%02d%s%s", sec,
				      nfrac ? (p[11] & 32 ? "," : ".") : "", frac);
		switch (zone) {
		case 1:
			n += snprintf(s + n, sizeof(s) - (size_t)n, "Z");
			break;
		case 2:
			n += snprintf(s + n, sizeof(s) - (size_t)n, "z");
			break;
		case 3:
		case 4:
			n += snprintf(s + n, sizeof(s) - (size_t)n, "%c%02d:%02d",
				      zone == 3 ? '+' : '-', zh, zm);
			break;
		case 5:
			n += snprintf(s + n, sizeof(s) - (size_t)n, "%c%02d%02d",
				      p[11] & 64 ? '+' : '-', zh, zm);
			break;
		case 6:
			n += snprintf(s + n, sizeof(s) - (size_t)n, "%c%02d", p[11] & 64 ? '+' : '-',
				      zh);
			zm = 0;
			break;
		default:
			break;
		}
	}
	if (pad & 2)
		n += snprintf(s + n, sizeof(s) - (size_t)n, "\t");
	if (!has_time) {
		h = mi = sec = nfrac = 0;
		zone = 0;
	}
	if (!has_sec) {
		sec = 0;
		nfrac = 0;
	}
	if (zone < 3)
		zh = zm = 0;
	frac[nfrac] = 0;
	valid = mo >= 1 && mo <= 12 && d >= 1 &&
		d <= mdays[mo - 1] + (mo == 2 && leap(y)) && h <= 24 && mi <= 59 && sec <= 60 &&
		zh <= 23 && zm <= 59;
	if (h == 24 && (mi || sec || (nfrac && strspn(frac, "0") != (size_t)nfrac)))
		valid = 0;
	if ((ml_parse_time(s, (size_t)n, &t) == 0) != valid)
		fz_fail("ml_parse_time('%s') %s", s, valid ? "refuses a valid time" :
							 "accepts an invalid time");
	if (!valid)
		return;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = (int)y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	snprintf(fs, sizeof(fs), "0.%s", frac);
	want = (double)timegm(&tm) + h * 3600.0 + mi * 60.0 + sec + strtod(fs, NULL);
	if (zone >= 3)
		want -= (zone == 4 || (zone >= 5 && !(p[11] & 64)) ? -1.0 : 1.0) *
			(zh * 3600.0 + zm * 60.0);
	if (fabs(t - want) > 1e-3)
		fz_fail("ml_parse_time('%s') is %.17g, timegm gives %.17g", s, t, want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	raw(data, size);
	if (size >= 16)
		fields(data);
	return 0;
}
