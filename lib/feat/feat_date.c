/* Dates and times: the parser every time column shares, and the datetime step (calendar
 * parts, with sin/cos pairs for the periodic ones). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feat_int.h"
#include "ml/num.h"

static int leap(long long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int ml_month_days(long long y, int m)
{
	static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && leap(y) ? 29 : d[m - 1];
}

/* Days since 1970-01-01 of a civil date, and back (H. Hinnant's algorithms). */
long long ml_days_from_civil(long long y, int m, int d)
{
	long long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void ml_civil_from_days(long long z, long long *y, int *m, int *d)
{
	long long era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	*y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y += *m <= 2;
}

static int digits(const char *s, size_t n, size_t at, int cnt, long *v)
{
	int i;

	*v = 0;
	if (at + (size_t)cnt > n)
		return -1;
	for (i = 0; i < cnt; i++) {
		char c = s[at + (size_t)i];
		if (c < '0' || c > '9')
			return -1;
		*v = *v * 10 + (c - '0');
	}
	return 0;
}

int ml_parse_time(const char *s, size_t n, double *t)
{
	long y, mo, d, h = 0, mi = 0, sec = 0, zh = 0, zm = 0;
	double frac = 0;
	size_t i = 0;
	char sep;
	int zsign = 0;

	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	if (n == 0)
		return -1;
	/* A plain number: seconds since the epoch. */
	if (!(n >= 10 && (s[4] == '-' || s[4] == '/'))) {
		double v;
		if (ml_parse_double(s, n, &v) == 0 && isfinite(v)) {
			*t = v;
			return 0;
		}
		return -1;
	}
	if (digits(s, n, 0, 4, &y) < 0)
		return -1;
	sep = s[4];
	if (digits(s, n, 5, 2, &mo) < 0 || n < 8 || s[7] != sep || digits(s, n, 8, 2, &d) < 0)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > ml_month_days(y, (int)mo))
		return -1;
	i = 10;
	if (i < n) {
		if (s[i] != 'T' && s[i] != ' ' && s[i] != 't')
			return -1;
		i++;
		if (digits(s, n, i, 2, &h) < 0 || i + 2 >= n || s[i + 2] != ':' ||
		    digits(s, n, i + 3, 2, &mi) < 0)
			return -1;
		i += 5;
		if (i < n && s[i] == ':') {
			if (digits(s, n, i + 1, 2, &sec) < 0)
				return -1;
			i += 3;
			if (i < n && (s[i] == '.' || s[i] == ',')) {
				double scale = 0.1;
				i++;
				if (i >= n || s[i] < '0' || s[i] > '9')
					return -1;
				while (i < n && s[i] >= '0' && s[i] <= '9') {
					frac += (s[i] - '0') * scale;
					scale /= 10;
					i++;
				}
			}
		}
		if (h > 24 || mi > 59 || sec > 60 || (h == 24 && (mi || sec || frac > 0)))
			return -1;
		if (i < n) {
			if (s[i] == 'Z' || s[i] == 'z') {
				i++;
			} else if (s[i] == '+' || s[i] == '-') {
				zsign = s[i] == '-' ? -1 : 1;
				if (digits(s, n, i + 1, 2, &zh) < 0)
					return -1;
				i += 3;
				if (i < n && s[i] == ':')
					i++;
				if (i < n) {
					if (digits(s, n, i, 2, &zm) < 0)
						return -1;
					i += 2;
				}
				if (zh > 23 || zm > 59)
					return -1;
			}
		}
		if (i != n)
			return -1;
	}
	*t = (double)ml_days_from_civil(y, (int)mo, (int)d) * 86400.0 +
	     (double)(h * 3600 + mi * 60 + sec) + frac -
	     (double)zsign * (double)(zh * 3600 + zm * 60);
	return 0;
}

/* ---------------------------------------------------------------- datetime */

enum {
	DP_HOUR,
	DP_MINUTE,
	DP_DOW,
	DP_DAY,
	DP_WEEK,
	DP_MONTH,
	DP_QUARTER,
	DP_YEAR,
	DP_DOY,
	DP_WEEKEND,
	DP_N
};

static const char *const dp_names[DP_N] = {"hour",  "minute",  "dow",  "day", "week",
					   "month", "quarter", "year", "doy", "is_weekend"};

/* The parts taken when none are named: time of day only when the training values have
 * one. */
static const int dp_default[] = {DP_YEAR, DP_QUARTER, DP_MONTH,	  DP_WEEK, DP_DAY,
				 DP_DOY,  DP_DOW,     DP_WEEKEND, DP_HOUR, DP_MINUTE};

struct dt {
	int nparts;
	int part[DP_N];
	int given; /* parts named on the command line */
	int cyclical;
};

static int dt_parse(struct fstep *s, const struct ml_feat_spec *spec, struct ml_err *e)
{
	struct dt *p = calloc(1, sizeof(*p));
	char *parts, *tok;
	int k;

	if (!p)
		return ml_err_nomem(e);
	s->p = p;
	p->cyclical = spec->cyclical;
	parts = ml_feat_cut(s->args);
	s->colspec = s->args[0] ? s->args : NULL;
	if (!s->colspec)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "--datetime: name the date column");
	if (!parts)
		return 0;
	p->given = 1;
	for (tok = parts; tok && *tok;) {
		char *comma = strchr(tok, ',');
		if (comma)
			*comma = 0;
		for (k = 0; k < DP_N; k++)
			if (strcmp(tok, dp_names[k]) == 0)
				break;
		if (k == DP_N)
			return ml_err_set(
			    e, ML_E_USAGE, NULL, 0, 0,
			    "--datetime: unknown part '%s' (hour, minute, dow, day, week, "
			    "month, quarter, year, doy or is_weekend)",
			    tok);
		{
			int q, dup = 0;
			for (q = 0; q < p->nparts; q++)
				dup |= p->part[q] == k;
			if (!dup)
				p->part[p->nparts++] = k;
		}
		tok = comma ? comma + 1 : NULL;
	}
	if (!p->nparts)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "--datetime: no parts after ':'");
	return 0;
}

static int cat_time(const struct ml_schema *sc, int j, union ml_colv v, const long *line, size_t i,
		    double *t, const char *name, struct ml_err *e)
{
	int rc = ml_feat_time(sc, j, v, line, i, t, e);

	if (rc < 0 && e && name && !e->where[0])
		snprintf(e->where, sizeof(e->where), "%s", name);
	return rc;
}

static int dt_fit(struct fstep *s, const struct fdata *d, struct ml_err *e)
{
	struct dt *p = s->p;
	int k, rc, withtime = 0;
	size_t i, np = 0;

	for (k = 0; k < s->ncol; k++) {
		int j = s->ci[k];
		for (i = 0; i < d->n; i++) {
			double t;
			if ((rc = cat_time(d->s, j, d->v[j], d->line, i, &t, d->name, e)) < 0)
				return rc;
			if (t != t)
				continue;
			np++;
			if (fmod(t, 86400.0) != 0)
				withtime = 1;
		}
		if ((rc = ml_feat_need_values(s, d, k, np, e)) < 0)
			return rc;
	}
	if (!p->given) {
		p->nparts = 0;
		for (k = 0; k < (int)(sizeof(dp_default) / sizeof(dp_default[0])); k++)
			if (withtime || (dp_default[k] != DP_HOUR && dp_default[k] != DP_MINUTE))
				p->part[p->nparts++] = dp_default[k];
	}
	return 0;
}

static int periodic(int part)
{
	return part != DP_YEAR && part != DP_WEEKEND;
}

static int dt_add(struct fstep *s, const char *col, const char *a, const char *b, struct ml_err *e)
{
	size_t n = strlen(col) + strlen(a) + (b ? strlen(b) : 0) + 3;
	char *name = malloc(n);
	int rc;

	if (!name)
		return ml_err_nomem(e);
	snprintf(name, n, "%s_%s%s%s", col, a, b ? "_" : "", b ? b : "");
	rc = ml_fout_add(s, name, ML_NUM, -1, 1, e);
	free(name);
	return rc;
}

static int dt_layout(struct fstep *s, const struct ml_schema *in, struct ml_err *e)
{
	struct dt *p = s->p;
	int j, q, rc;

	for (j = 0; j < in->ncol; j++) {
		if (ml_fstep_pos(s, j) < 0) {
			if ((rc = ml_fout_pass(s, in, j, e)) < 0)
				return rc;
			continue;
		}
		for (q = 0; q < p->nparts; q++) {
			const char *nm = dp_names[p->part[q]];
			if ((rc = dt_add(s, in->cols[j].name, nm, NULL, e)) < 0)
				return rc;
			if (p->cyclical && periodic(p->part[q]) &&
			    ((rc = dt_add(s, in->cols[j].name, nm, "sin", e)) < 0 ||
			     (rc = dt_add(s, in->cols[j].name, nm, "cos", e)) < 0))
				return rc;
		}
	}
	return 0;
}

/* ISO 8601 week number and the number of weeks of its ISO year. */
static void iso_week(long days, long y, int doy, int dow, int *week, int *nweeks)
{
	int w = (doy - dow + 9) / 7; /* doy 1-based, dow 0 = Monday */
	long yy = y;
	long jan1;
	int d1, weeks;

	(void)days;
	if (w < 1) {
		yy = y - 1;
	} else {
		jan1 = ml_days_from_civil(y, 1, 1);
		d1 = (int)(((jan1 + 3) % 7 + 7) % 7);
		weeks = 52 + (d1 == 3 || (d1 == 2 && leap(y)));
		if (w > weeks) {
			*week = 1;
			yy = y + 1;
			jan1 = ml_days_from_civil(yy, 1, 1);
			d1 = (int)(((jan1 + 3) % 7 + 7) % 7);
			*nweeks = 52 + (d1 == 3 || (d1 == 2 && leap(yy)));
			return;
		}
		*week = w;
		*nweeks = weeks;
		return;
	}
	jan1 = ml_days_from_civil(yy, 1, 1);
	d1 = (int)(((jan1 + 3) % 7 + 7) % 7);
	*nweeks = 52 + (d1 == 3 || (d1 == 2 && leap(yy)));
	*week = *nweeks;
}

struct parts {
	double v[DP_N];
	double frac[DP_N]; /* position in the period, 0..1 */
};

static void calendar(double t, struct parts *o)
{
	double fd = floor(t / 86400.0), sod = t - fd * 86400.0;
	long days = (long)fd;
	long long y;
	int m, d, dow, doy, week, nweeks, hour, minute;

	ml_civil_from_days(days, &y, &m, &d);
	dow = (int)(((days + 3) % 7 + 7) % 7);
	doy = (int)(days - ml_days_from_civil(y, 1, 1)) + 1;
	iso_week(days, y, doy, dow, &week, &nweeks);
	hour = (int)(sod / 3600);
	minute = (int)((sod - hour * 3600.0) / 60);
	o->v[DP_HOUR] = hour;
	o->v[DP_MINUTE] = minute;
	o->v[DP_DOW] = dow;
	o->v[DP_DAY] = d;
	o->v[DP_WEEK] = week;
	o->v[DP_MONTH] = m;
	o->v[DP_QUARTER] = (m - 1) / 3 + 1;
	o->v[DP_YEAR] = (double)y;
	o->v[DP_DOY] = doy;
	o->v[DP_WEEKEND] = dow >= 5;
	o->frac[DP_HOUR] = hour / 24.0;
	o->frac[DP_MINUTE] = minute / 60.0;
	o->frac[DP_DOW] = dow / 7.0;
	o->frac[DP_DAY] = (d - 1) / (double)ml_month_days(y, m);
	o->frac[DP_WEEK] = (week - 1) / (double)nweeks;
	o->frac[DP_MONTH] = (m - 1) / 12.0;
	o->frac[DP_QUARTER] = ((m - 1) / 3) / 4.0;
	o->frac[DP_DOY] = (doy - 1) / (leap(y) ? 366.0 : 365.0);
}

static int dt_apply(struct fstep *s, struct fio *io, struct ml_err *e)
{
	struct dt *p = s->p;
	size_t i;
	int k, q, rc, at = 0, per = 0;
	const double twopi = 6.283185307179586;

	for (q = 0; q < p->nparts; q++)
		per += 1 + 2 * (p->cyclical && periodic(p->part[q]));
	for (k = 0; k < s->ncol; k++) {
		int j = s->ci[k], first;
		/* the first output of column j: outputs are laid out in input order */
		first = 0;
		for (at = 0; at < j; at++)
			first += ml_fstep_pos(s, at) >= 0 ? per : 1;
		for (i = 0; i < io->n; i++) {
			double t;
			struct parts pt;
			int o = first;
			if ((rc = ml_feat_time(io->in, j, io->v[j], io->line, i, &t, e)) < 0)
				return rc;
			if (t == t)
				calendar(t, &pt);
			for (q = 0; q < p->nparts; q++) {
				int part = p->part[q];
				io->o[o++].num[i] = t == t ? pt.v[part] : NAN;
				if (p->cyclical && periodic(part)) {
					double a = twopi * pt.frac[part];
					io->o[o++].num[i] = t == t ? sin(a) : NAN;
					io->o[o++].num[i] = t == t ? cos(a) : NAN;
				}
			}
		}
	}
	return 0;
}

static void dt_save(const struct fstep *s, struct ml_wbuf *b)
{
	const struct dt *p = s->p;
	int q;

	ml_wbuf_u8(b, (uint8_t)p->cyclical);
	ml_wbuf_u32(b, (uint32_t)p->nparts);
	for (q = 0; q < p->nparts; q++)
		ml_wbuf_u8(b, (uint8_t)p->part[q]);
}

static int dt_load(struct fstep *s, struct ml_rbuf *b, struct ml_err *e)
{
	struct dt *p = calloc(1, sizeof(*p));
	uint32_t n, q;

	if (!p)
		return ml_err_nomem(e);
	s->p = p;
	p->cyclical = ml_rbuf_u8(b);
	n = ml_rbuf_u32(b);
	if (b->err || n < 1 || n > DP_N)
		return ml_feat_bad(e, "the --datetime parts");
	p->nparts = (int)n;
	for (q = 0; q < n; q++) {
		p->part[q] = ml_rbuf_u8(b);
		if (p->part[q] >= DP_N)
			return ml_feat_bad(e, "the --datetime parts");
	}
	return 0;
}

static void dt_free(struct fstep *s)
{
	free(s->p);
	s->p = NULL;
}

const struct fops ml_fops_datetime = {"datetime", FK_DATETIME, FS_ANY, 0,	 dt_parse,
				      dt_fit,	  dt_layout,   NULL,   dt_apply, NULL,
				      dt_save,	  dt_load,     NULL,   dt_free};

int ml_parse_window(const char *s, long max_rows, long *rows, double *seconds, double *unit_out)
{
	size_t len = strlen(s);
	char u = len ? s[len - 1] : 0;
	double unit = u == 's'	 ? 1
		      : u == 'm' ? 60
		      : u == 'h' ? 3600
		      : u == 'd' ? 86400
		      : u == 'w' ? 604800
				 : 0,
	       v;

	*rows = 0;
	*seconds = 0;
	if (unit_out)
		*unit_out = unit;
	if (!unit)
		return ml_parse_long(s, 1, max_rows, rows) == 0 ? 0 : -1;
	if (ml_parse_double(s, len - 1, &v) != 0 || !(v > 0) || !isfinite(v))
		return -1;
	*seconds = v * unit;
	return 0;
}
