/* mlforecast: forecast one time series or many (long format, one per group) with
 * intervals, backtests and automatic model selection. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "ml/feat.h"
#include "ml/forecast.h"

const char cmd_name[] = "mlforecast";

static const char usage[] =
	"Usage: mlforecast --time=COL -y COL [OPTION]... [FILE]\n"
	"  or:  mlforecast --load=MODEL [--horizon=H] [OPTION]...\n"
	"Forecast the series in FILE (long format: a time column, a value column and, with\n"
	"--group, a column naming the series). Writes one row per series, model and future\n"
	"step: [GROUP,] TIME, model, mean and the interval bounds lo_L, hi_L for each level.\n"
	"With no FILE, or when FILE is -, read standard input.\n"
	"\n"
	"      --time=COL         the time column: dates, date-times or numbers\n"
	"  -y, --target=COL       the values to forecast\n"
	"      --group=COL        one series per value of COL, forecast independently\n"
	"      --model=LIST       methods, comma-separated (default auto); --list-models\n"
	"  -p, --param=NAME=VALUE a parameter of the method (repeatable)\n"
	"      --horizon=H        steps ahead (default: two seasons, or 10 without a season)\n"
	"      --level=LIST       interval levels in percent (default 80,95)\n"
	"      --season=M         a seasonal period in steps (repeatable; default from the\n"
	"                         frequency of the timestamps)\n"
	"      --xreg=COLS        exogenous regressors, comma-separated columns (arima,\n"
	"                         linear, prophet, gbm, auto, ensemble); needs --future\n"
	"      --future=FILE      the regressors' future values: the time column, the group\n"
	"                         column with --group, and the --xreg columns\n"
	"      --backtest=N       score each model at N rolling origins (with --report)\n"
	"      --report=FILE      write the backtest scores to FILE (CSV)\n"
	"      --save=MODEL       keep the fitted forecasters in MODEL\n"
	"      --load=MODEL       forecast from the forecasters in MODEL\n"
	"      --plot=FILE        draw the first series with its forecast as SVG\n"
	"      --list-models      list the methods and exit\n"
	"\n";

static const char usage_tail[] =
	"\n"
	"COL: a column name or 1-based index.\n"
	"Exit status: 0 success, 2 usage, 65 bad input data, 66 cannot open input, 70 internal\n"
	"error, 71 out of memory, 74 read/write error.\n"
	"Full documentation: man mlforecast\n";

enum {
	O_TARGET = 'y',
	O_PARAM = 'p',
	O_TIME = 1,
	O_GROUP,
	O_MODEL,
	O_HORIZON,
	O_LEVEL,
	O_SEASON,
	O_BACKTEST,
	O_REPORT,
	O_SAVE,
	O_LOAD,
	O_PLOT,
	O_LIST_MODELS,
	O_XREG,
	O_FUTURE
};

static const struct option own[] = {{"time", required_argument, NULL, O_TIME},
				    {"target", required_argument, NULL, O_TARGET},
				    {"group", required_argument, NULL, O_GROUP},
				    {"model", required_argument, NULL, O_MODEL},
				    {"param", required_argument, NULL, O_PARAM},
				    {"horizon", required_argument, NULL, O_HORIZON},
				    {"level", required_argument, NULL, O_LEVEL},
				    {"season", required_argument, NULL, O_SEASON},
				    {"backtest", required_argument, NULL, O_BACKTEST},
				    {"report", required_argument, NULL, O_REPORT},
				    {"save", required_argument, NULL, O_SAVE},
				    {"load", required_argument, NULL, O_LOAD},
				    {"plot", required_argument, NULL, O_PLOT},
				    {"list-models", no_argument, NULL, O_LIST_MODELS},
				    {"xreg", required_argument, NULL, O_XREG},
				    {"future", required_argument, NULL, O_FUTURE},
				    {NULL, 0, NULL, 0}};

static const struct cli_help help[] = {
	{CLI_QUIET, "no warnings"},
	{CLI_VERBOSE, "print the model chosen for each series on standard error"},
	{CLI_THREADS, "series forecast at once (default: all cores); the\noutput never depends on it"},
	{0, NULL}};

static const struct cli_cmd cmd = {"mlforecast", usage, usage_tail, own, "y:p:",
				   CLI_INPUT | CLI_OUTPUT | CLI_THREADS | CLI_MESSAGES,
				   help};

#define MAXMODEL 16
#define MAXPARAM 32

/* How the time index steps. */
enum tkind { T_NUM, T_MONTHS, T_SECONDS };

struct tinfo {
	enum tkind kind;
	double step;   /* numbers: the step; months: months; seconds: seconds */
	int decimals;  /* numbers: decimals written */
	char sep;      /* dates: '-' or '/' */
	char tsep;     /* date-times: 'T' or ' '; 0 for dates */
	int seconds;   /* date-times: with seconds */
	int zulu;      /* date-times: a trailing 'Z' */
};

/* One series: its values on the regular grid, the last time, and what became of it. */
struct series {
	const char *group; /* its group value (NULL without --group) */
	double *y;
	size_t n;
	double last;       /* the last time (seconds or number) */
	struct tinfo ti;   /* its time index */
	long h;            /* its horizon */
	struct ml_series s;
	/* results, per model */
	double *out;       /* per model: h means, then lo, hi for each level */
	const char *used[MAXMODEL]; /* the method each model fell back to, or NULL */
	struct ml_fc_score score[MAXMODEL];
	int scored[MAXMODEL];
	struct ml_forecaster *fc[MAXMODEL];
	double *x;         /* the regressors: history then future, n + h of each */
	double *xf;        /* their future, xf[j * h + t] */
	char msg[1024];    /* warnings for the series (printed in order) */
	char info[1024];   /* -v: the model each method fitted, a line each */
	char err[1600];    /* a failure */
	int rc;
};

struct fcast {
	struct cli cli;
	/* the outputs, written in turn and committed together at the end, or none of them */
	struct ml_output *out, *rep_out, *save_out, *plot_out;
	const char *time_col, *y_col, *group_col, *model_arg, *report, *save, *load, *plot;
	const char *params[MAXPARAM];
	int nparam;
	const struct ml_fc_method *models[MAXMODEL];
	int nmodel;
	double level[ML_FC_MAX_LEVELS];
	int nlevel;
	int season[ML_FC_MAX_SEASONS], nseason;
	long horizon;
	long backtest;
	const char *input, *name;
	struct tinfo ti;
	struct series *ser;
	size_t nser;
	char *time_name, *group_name; /* output column names */
	const char *xreg_arg, *future;
	char *xname[ML_FC_MAX_XREG]; /* the regressors' column names */
	int nx;
};

/* --level: comma-separated percentages. */
static int parse_levels(struct fcast *F, const char *arg)
{
	const char *p = arg;

	F->nlevel = 0;
	while (*p) {
		char buf[64];
		size_t len = strcspn(p, ",");
		double v;
		if (F->nlevel == ML_FC_MAX_LEVELS || len == 0 || len >= sizeof(buf))
			return cli_usage(&F->cli, "invalid --level '%s' (at most %d percentages "
						  "between 0 and 100, comma-separated)",
					 arg, ML_FC_MAX_LEVELS);
		memcpy(buf, p, len);
		buf[len] = 0;
		if (ml_parse_real(buf, 0, 100, &v) < 0 || !(v > 0 && v < 100))
			return cli_usage(&F->cli, "invalid --level '%s' (percentages between 0 and "
						  "100, e.g. 80,95)",
					 arg);
		F->level[F->nlevel++] = v;
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

static int parse_models(struct fcast *F, const char *arg)
{
	const char *p = arg;

	F->nmodel = 0;
	while (*p) {
		char buf[64];
		size_t len = strcspn(p, ",");
		const struct ml_fc_method *m;
		if (F->nmodel == MAXMODEL || len == 0 || len >= sizeof(buf))
			return cli_usage(&F->cli, "invalid --model '%s'", arg);
		memcpy(buf, p, len);
		buf[len] = 0;
		if (!(m = ml_fc_method_find(buf)))
			return cli_usage(&F->cli, "unknown --model '%s' (see --list-models)", buf);
		F->models[F->nmodel++] = m;
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

/* The parameters of method m from -p NAME=VALUE: those m has (others are for other
 * models of the list, and an error only when no model has them). */
static int method_params(struct fcast *F, const struct ml_fc_method *m, long h,
			 struct ml_params *p, struct ml_err *e)
{
	const struct ml_param *t = ml_fc_method_params(m);
	int i, k;

	ml_fc_params_init(p, m);
	for (i = 0; i < F->nparam; i++) {
		const char *eq = strchr(F->params[i], '=');
		size_t nl = (size_t)(eq - F->params[i]);
		for (k = 0; t[k].name; k++)
			if (strlen(t[k].name) == nl && strncmp(t[k].name, F->params[i], nl) == 0) {
				char name[64];
				memcpy(name, F->params[i], nl);
				name[nl] = 0;
				if (ml_params_set(p, name, eq + 1, e) < 0)
					return ML_E_USAGE;
			}
	}
	/* the backtest of auto and ensemble scores the horizon asked for */
	for (k = 0; t[k].name; k++)
		if (strcmp(t[k].name, "horizon") == 0 && !ml_param_given(p, "horizon") &&
		    h > 0) {
			char buf[32];
			snprintf(buf, sizeof(buf), "%ld", h);
			ml_params_set(p, "horizon", buf, e);
		}
	return 0;
}

static int check_params(struct fcast *F)
{
	int i, j, k;

	for (i = 0; i < F->nparam; i++) {
		const char *eq = strchr(F->params[i], '=');
		int found = 0;
		if (!eq || eq == F->params[i])
			return cli_usage(&F->cli, "invalid --param '%s' (NAME=VALUE)", F->params[i]);
		for (j = 0; j < F->nmodel && !found; j++) {
			const struct ml_param *t = ml_fc_method_params(F->models[j]);
			for (k = 0; t[k].name; k++)
				if (strlen(t[k].name) == (size_t)(eq - F->params[i]) &&
				    strncmp(t[k].name, F->params[i], (size_t)(eq - F->params[i])) == 0)
					found = 1;
		}
		if (!found)
			return cli_usage(&F->cli, "--param '%s': no model of --model has it",
					 F->params[i]);
	}
	for (j = 0; j < F->nmodel; j++) {
		struct ml_params p;
		struct ml_err e;
		ml_err_init(&e);
		if (method_params(F, F->models[j], F->horizon, &p, &e) < 0)
			return cli_usage(&F->cli, "%s", e.msg);
	}
	return 0;
}

/* --xreg and --future: the regressors' names, each model one that takes them. */
static int parse_xreg(struct fcast *F)
{
	const char *p = F->xreg_arg;
	int j, k;

	if (!F->xreg_arg && !F->future)
		return 0;
	if (!F->xreg_arg || !F->future)
		return cli_usage(&F->cli, "%s",
				 F->future ? "--future gives the future values of --xreg columns: "
					     "give --xreg=COLS" :
					     "--xreg needs --future=FILE with the regressors' future "
					     "values");
	while (*p) {
		size_t len = strcspn(p, ",");
		if (F->nx == ML_FC_MAX_XREG || len == 0)
			return cli_usage(&F->cli, "invalid --xreg '%s' (at most %d columns, "
						  "comma-separated)",
					 F->xreg_arg, ML_FC_MAX_XREG);
		if (!(F->xname[F->nx] = strndup(p, len)))
			return cli_error(&F->cli, EX_OSERR_, "out of memory");
		F->nx++;
		for (k = 0; k < F->nx - 1; k++)
			if (strcmp(F->xname[k], F->xname[F->nx - 1]) == 0)
				return cli_usage(&F->cli, "--xreg names '%s' twice", F->xname[k]);
		p += len;
		if (*p == ',')
			p++;
	}
	if (!F->nx)
		return cli_usage(&F->cli, "--xreg names no column");
	for (j = 0; j < F->nmodel; j++)
		if (!ml_fc_method_xreg(F->models[j]))
			return cli_usage(&F->cli,
					 "--model %s takes no regressors (--xreg); those that do: "
					 "arima, linear, prophet, gbm, auto, ensemble",
					 ml_fc_method_name(F->models[j]));
	return 0;
}

static int list_models(void)
{
	const struct ml_fc_method *const *m;

	for (m = ml_fc_methods(); *m; m++)
		printf("%-10s %s\n", ml_fc_method_name(*m), ml_fc_method_summary(*m));
	{
		static const char *const members[] = {"ets", "arima", "theta"};
		size_t i;
		int first = 1;
		printf("combo members here:");
		for (i = 0; i < 3; i++)
			if (ml_fc_method_find(members[i])) {
				printf("%s%s", first ? " " : ", ", members[i]);
				first = 0;
			}
		printf("\n");
	}
	return ferror(stdout) ? EX_IOERR_ : 0;
}

/* Time. */


/* Write time t (seconds since the epoch, or a number) as the input wrote its times. */
static void fmt_time(const struct tinfo *ti, double t, char *buf, size_t size)
{
	long long days, secs, y;
	int m, d;

	if (ti->kind == T_NUM) {
		size_t n = (size_t)snprintf(buf, size, "%.*f", ti->decimals, t);
		/* trailing zeros go, as the input wrote whole numbers without them */
		if (ti->decimals > 0 && n < size) {
			while (n > 0 && buf[n - 1] == '0')
				buf[--n] = 0;
			if (n > 0 && buf[n - 1] == '.')
				buf[--n] = 0;
			if (strcmp(buf, "-0") == 0)
				memcpy(buf, "0", 2);
		}
		return;
	}
	days = (long long)floor(t / 86400);
	secs = (long long)llround(t - (double)days * 86400);
	ml_civil_from_days(days, &y, &m, &d);
	if (!ti->tsep)
		snprintf(buf, size, "%04lld%c%02d%c%02d", y, ti->sep, m, ti->sep, d);
	else if (ti->seconds)
		snprintf(buf, size, "%04lld%c%02d%c%02d%c%02lld:%02lld:%02lld%s", y, ti->sep, m,
			 ti->sep, d, ti->tsep, secs / 3600, secs / 60 % 60, secs % 60,
			 ti->zulu ? "Z" : "");
	else
		snprintf(buf, size, "%04lld%c%02d%c%02d%c%02lld:%02lld%s", y, ti->sep, m, ti->sep,
			 d, ti->tsep, secs / 3600, secs / 60 % 60, ti->zulu ? "Z" : "");
}

/* The time k steps after t. */
static double time_add(const struct tinfo *ti, double t, long k)
{
	long long days, y, mm, secs;
	int m, d, dd;

	if (ti->kind != T_MONTHS)
		return t + (double)k * ti->step;
	days = (long long)floor(t / 86400);
	secs = (long long)llround(t - (double)days * 86400);
	ml_civil_from_days(days, &y, &m, &d);
	mm = y * 12 + (m - 1) + (long long)k * (long long)ti->step;
	y = mm >= 0 ? mm / 12 : -((-mm + 11) / 12);
	m = (int)(mm - y * 12) + 1;
	dd = d > ml_month_days(y, m) ? ml_month_days(y, m) : d;
	return (double)(ml_days_from_civil(y, m, dd) * 86400 + secs);
}

/* The grid position of t relative to t0, or NAN when t is off the grid. */
static double time_index(const struct tinfo *ti, double t0, double t)
{
	double k;

	if (ti->kind == T_MONTHS) {
		long long d0 = (long long)floor(t0 / 86400), d1 = (long long)floor(t / 86400), y0, y1;
		int m0, m1, dd0, dd1;
		ml_civil_from_days(d0, &y0, &m0, &dd0);
		ml_civil_from_days(d1, &y1, &m1, &dd1);
		k = (double)((y1 * 12 + m1) - (y0 * 12 + m0)) / ti->step;
		return fabs(k - round(k)) < 1e-9 ? round(k) : NAN;
	}
	k = (t - t0) / ti->step;
	return fabs(k - round(k)) < 1e-6 ? round(k) : NAN;
}

/* Layout of a date or date-time text. */
static void time_layout(struct tinfo *ti, const char *s)
{
	size_t n = strlen(s);
	ti->sep = s[4];
	ti->tsep = n > 10 ? s[10] : 0;
	ti->seconds = n > 16 && s[16] == ':';
	ti->zulu = n > 0 && (s[n - 1] == 'Z' || s[n - 1] == 'z');
}

/* The step and kind of the time index from the sorted distinct times of the series
 * (their smallest positive difference, pooled); seasons from the frequency. */
static void infer_step(struct tinfo *ti, double dmin, int *season, int *nseason)
{
	*nseason = 0;
	if (ti->kind == T_NUM) {
		/* decimal years as R writes them: the step is a whole fraction */
		ti->step = dmin;
		if (fabs(dmin - 1.0 / 12) < 1e-6) {
			ti->step = 1.0 / 12;
			season[(*nseason)++] = 12;
		} else if (fabs(dmin - 0.25) < 1e-6) {
			ti->step = 0.25;
			season[(*nseason)++] = 4;
		} else if (fabs(dmin - round(dmin)) < 1e-9 * fmax(1, dmin)) {
			ti->step = round(dmin);
		}
		return;
	}
	{
		double days = dmin / 86400;
		if (days >= 28 && days <= 31) {
			ti->kind = T_MONTHS;
			ti->step = 1;
			season[(*nseason)++] = 12;
		} else if (days >= 89 && days <= 92) {
			ti->kind = T_MONTHS;
			ti->step = 3;
			season[(*nseason)++] = 4;
		} else if (days >= 365 && days <= 366) {
			ti->kind = T_MONTHS;
			ti->step = 12;
		} else {
			ti->step = dmin;
			if (dmin == 604800)
				season[(*nseason)++] = 52;
			else if (dmin == 86400)
				season[(*nseason)++] = 7;
			else if (dmin == 3600) {
				season[(*nseason)++] = 24;
				season[(*nseason)++] = 168;
			} else if (dmin == 1800) {
				season[(*nseason)++] = 48;
				season[(*nseason)++] = 336;
			}
		}
	}
}

/* Text of categorical cell r of column c, or NULL when missing. */
static const char *cell(const struct ml_frame *f, int c, size_t r)
{
	int32_t code = f->rows.col[c].cat[r];
	return code < 0 ? NULL : f->schema.cols[c].dict.str[code];
}

/* The text of cell r of column c, a number written in its shortest form, or NULL. */
static const char *cell_text(const struct ml_frame *f, int c, size_t r, char *buf)
{
	double v;

	if (f->schema.cols[c].type == ML_CAT)
		return cell(f, c, r);
	v = f->rows.col[c].num[r];
	if (v != v)
		return NULL;
	ml_fmt_double(buf, v);
	return buf;
}

static int col_of_file(struct fcast *F, const char *file, const struct ml_schema *s,
		       const char *name, const char *opt)
{
	struct ml_err e;
	int c, *idx = NULL, n;

	ml_err_init(&e);
	if ((c = ml_schema_find(s, name)) >= 0)
		return c;
	n = ml_schema_find_or_suggest(s, name, opt, file, &idx, &e);
	if (n < 0) {
		cli_fail(&F->cli, &e);
		return -1;
	}
	c = n == 1 ? idx[0] : -1;
	free(idx);
	if (c < 0)
		cli_error(&F->cli, EX_DATA, "%s: %s names %d columns, not one", file, opt, n);
	return c;
}

static int col_of(struct fcast *F, const struct ml_schema *s, const char *name, const char *opt)
{
	return col_of_file(F, F->name, s, name, opt);
}

/* s in single quotes, its control characters replaced, cut to fit (n > 2). */
static const char *quote(char *buf, size_t n, const char *s)
{
	size_t len;

	buf[0] = '\'';
	ml_err_quote(buf + 1, n - 2, s, strlen(s));
	len = strlen(buf);
	buf[len] = '\'';
	buf[len + 1] = 0;
	return buf;
}

/* "series 'G': " for a group's messages, "" without groups (buf of 128 bytes). */
static const char *series_tag(char *buf, const char *g)
{
	char q[112];

	if (!g)
		return "";
	snprintf(buf, 128, "series %s: ", quote(q, sizeof(q), g));
	return buf;
}

/* Fill the inner missing values of v[0..len) (v[0] present) by linear interpolation;
 * returns how many. */
static size_t interpolate(double *v, size_t len)
{
	size_t j, nmiss = 0;

	for (j = 1; j < len; j++)
		if (v[j] != v[j]) {
			size_t k = j;
			while (k < len && v[k] != v[k])
				k++;
			if (k == len)
				break;
			for (; j < k; j++) {
				v[j] = v[j - 1] + (v[k] - v[j - 1]) / (double)(k - j + 1);
				nmiss++;
			}
		}
	return nmiss;
}

/* --xreg: the regressor columns of fr (numeric, named in F->xname when names is set),
 * each value present. Returns 0 or the exit status. */
static int xreg_columns(struct fcast *F, const struct ml_frame *fr, const char *file, int *xc,
			int names)
{
	char opt[64];
	size_t r;
	int j;

	for (j = 0; j < F->nx; j++) {
		snprintf(opt, sizeof(opt), names ? "--xreg" : "--future (a --xreg column)");
		if ((xc[j] = col_of_file(F, file, &fr->schema, F->xname[j], opt)) < 0)
			return EX_DATA;
		if (fr->schema.cols[xc[j]].type != ML_NUM)
			return cli_error(&F->cli, EX_DATA, "%s: column '%s' (--xreg) is not numeric",
					 file, fr->schema.cols[xc[j]].name);
		for (r = 0; r < fr->rows.nrow; r++)
			if (fr->rows.col[xc[j]].num[r] != fr->rows.col[xc[j]].num[r])
				return cli_error(&F->cli, EX_DATA,
						 "%s:%ld: missing value in column '%s' (--xreg): a "
						 "regressor needs a value at every time",
						 file, fr->rows.line ? fr->rows.line[r] : (long)r + 2,
						 fr->schema.cols[xc[j]].name);
		if (names) {
			char *nm = strdup(fr->schema.cols[xc[j]].name);
			if (!nm)
				return cli_error(&F->cli, EX_OSERR_, "out of memory");
			free(F->xname[j]);
			F->xname[j] = nm;
		}
	}
	return 0;
}

/* Read file into fr with the reader options of the command line, the columns time_col and
 * group_col (NULL: none) as text, so that their spelling is kept (when named; a column
 * given by its index may come as numbers). Returns 0 or the exit status. */
static int read_table(struct fcast *F, struct ml_frame *fr, const char *file,
		      const char *time_col, const char *group_col)
{
	struct ml_read_opts ro;
	struct ml_schema types;
	struct ml_err e;
	int rc;

	ml_err_init(&e);
	cli_read_opts(&F->cli, &ro);
	ml_schema_init(&types);
	if (ml_schema_add(&types, time_col, ML_CAT) < 0 ||
	    (group_col && ml_schema_add(&types, group_col, ML_CAT) < 0)) {
		ml_schema_release(&types);
		return cli_error(&F->cli, EX_OSERR_, "out of memory");
	}
	ro.types = &types;
	rc = ml_frame_read(fr, file, &ro, &e);
	ml_schema_release(&types);
	return rc < 0 ? cli_fail(&F->cli, &e) : 0;
}

/* Read the input and build the series. Returns 0 or the exit status. */
static int load_series(struct fcast *F)
{
	struct ml_frame fr;
	char q[128], tbuf[64];
	int tc, yc, gc = -1, rc = 0, numeric = 1, ngroup = 1, xc[ML_FC_MAX_XREG];
	size_t r, nrow, i, *order = NULL, *start = NULL;
	double *tval = NULL, *dmin = NULL;
	int32_t *gidx = NULL;

	ml_frame_init(&fr);
	if ((rc = read_table(F, &fr, F->input, F->time_col, F->group_col)) != 0)
		goto out;
	if ((tc = col_of(F, &fr.schema, F->time_col, "--time")) < 0 ||
	    (yc = col_of(F, &fr.schema, F->y_col, "-y")) < 0 ||
	    (F->group_col && (gc = col_of(F, &fr.schema, F->group_col, "--group")) < 0)) {
		rc = EX_DATA;
		goto out;
	}
	if (fr.schema.cols[yc].type != ML_NUM) {
		rc = cli_error(&F->cli, EX_DATA, "%s: column '%s' (-y) is not numeric", F->name,
			       fr.schema.cols[yc].name);
		goto out;
	}
	if ((rc = xreg_columns(F, &fr, F->name, xc, 1)) != 0)
		goto out;
	F->time_name = strdup(fr.schema.cols[tc].name);
	F->group_name = gc >= 0 ? strdup(fr.schema.cols[gc].name) : NULL;
	nrow = fr.rows.nrow;
	if (!F->time_name || (gc >= 0 && !F->group_name) ||
	    !(tval = malloc((nrow ? nrow : 1) * sizeof(double))) ||
	    !(order = malloc((nrow ? nrow : 1) * sizeof(size_t))) ||
	    !(gidx = malloc((nrow ? nrow : 1) * sizeof(int32_t)))) {
		rc = cli_error(&F->cli, EX_OSERR_, "out of memory");
		goto out;
	}
	if (nrow == 0) {
		rc = cli_error(&F->cli, EX_DATA, "%s: no rows to forecast", F->name);
		goto out;
	}
	/* times: all numbers, or all dates */
	for (r = 0; r < nrow; r++) {
		const char *s = cell_text(&fr, tc, r, tbuf);
		double v;
		if (!s) {
			rc = cli_error(&F->cli, EX_DATA, "%s:%ld: missing time in column '%s'",
				       F->name, fr.rows.line ? fr.rows.line[r] : (long)r + 2,
				       F->time_name);
			goto out;
		}
		if (numeric && ml_parse_double(s, strlen(s), &v) == 0 && isfinite(v)) {
			const char *dot = strchr(s, '.');
			int dec = dot ? (int)strspn(dot + 1, "0123456789") : 0;
			if (dec > F->ti.decimals)
				F->ti.decimals = dec > 15 ? 15 : dec;
			tval[r] = v;
			continue;
		}
		if (numeric && r > 0) {
			rc = cli_error(&F->cli, EX_DATA,
				       "%s:%ld: time %s in column '%s' is not a number like those "
				       "before it",
				       F->name, fr.rows.line ? fr.rows.line[r] : (long)r + 2,
				       quote(q, 100, s), F->time_name);
			goto out;
		}
		numeric = 0;
		if (ml_parse_time(s, strlen(s), &v) < 0 || (strlen(s) < 10)) {
			rc = cli_error(&F->cli, EX_DATA,
				       "%s:%ld: cannot read %s in column '%s' as a date or time "
				       "(YYYY-MM-DD, YYYY-MM-DD HH:MM[:SS], or a number)",
				       F->name, fr.rows.line ? fr.rows.line[r] : (long)r + 2,
				       quote(q, 100, s), F->time_name);
			goto out;
		}
		if (r == 0)
			time_layout(&F->ti, s);
		tval[r] = v;
	}
	F->ti.kind = numeric ? T_NUM : T_SECONDS;
	/* groups in order of first appearance */
	if (gc >= 0) {
		int32_t nd, *first;
		if (fr.schema.cols[gc].type == ML_NUM) {
			/* a group column given by its index, read as numbers: as text */
			int32_t *codes = malloc((nrow ? nrow : 1) * sizeof(int32_t));
			if (!codes) {
				rc = cli_error(&F->cli, EX_OSERR_, "out of memory");
				goto out;
			}
			for (r = 0; r < nrow; r++) {
				const char *t = cell_text(&fr, gc, r, tbuf);
				codes[r] = t ? ml_dict_intern(&fr.schema.cols[gc].dict, t, strlen(t)) : -1;
				if (t && codes[r] < 0) {
					free(codes);
					rc = cli_error(&F->cli, EX_OSERR_, "out of memory");
					goto out;
				}
			}
			free(fr.rows.col[gc].num);
			fr.rows.col[gc].cat = codes;
			fr.schema.cols[gc].type = ML_CAT;
		}
		nd = fr.schema.cols[gc].dict.n;
		first = malloc((size_t)(nd ? nd : 1) * sizeof(int32_t));
		if (!first) {
			rc = cli_error(&F->cli, EX_OSERR_, "out of memory");
			goto out;
		}
		for (i = 0; i < (size_t)nd; i++)
			first[i] = -1;
		ngroup = 0;
		for (r = 0; r < nrow; r++) {
			int32_t c = fr.rows.col[gc].cat[r];
			if (c < 0) {
				free(first);
				rc = cli_error(&F->cli, EX_DATA, "%s:%ld: missing value in --group column "
								 "'%s'",
					       F->name, fr.rows.line ? fr.rows.line[r] : (long)r + 2,
					       F->group_name);
				goto out;
			}
			if (first[c] < 0)
				first[c] = ngroup++;
			gidx[r] = first[c];
		}
		free(first);
	} else {
		for (r = 0; r < nrow; r++)
			gidx[r] = 0;
	}
	/* rows by group, then time */
	if (!(start = calloc((size_t)ngroup + 1, sizeof(size_t))) ||
	    !(dmin = malloc((size_t)ngroup * sizeof(double)))) {
		rc = cli_error(&F->cli, EX_OSERR_, "out of memory");
		goto out;
	}
	for (r = 0; r < nrow; r++)
		start[gidx[r] + 1]++;
	for (i = 0; i < (size_t)ngroup; i++)
		start[i + 1] += start[i];
	{
		size_t *pos = malloc(((size_t)ngroup + 1) * sizeof(size_t));
		if (!pos) {
			rc = cli_error(&F->cli, EX_OSERR_, "out of memory");
			goto out;
		}
		memcpy(pos, start, ((size_t)ngroup + 1) * sizeof(size_t));
		for (r = 0; r < nrow; r++)
			order[pos[gidx[r]]++] = r;
		free(pos);
	}
	for (i = 0; i < (size_t)ngroup; i++) {
		/* insertion sort by time, stable (series are usually sorted already) */
		size_t a = start[i], b = start[i + 1], j, k;
		dmin[i] = INFINITY;
		for (j = a + 1; j < b; j++) {
			size_t v = order[j];
			for (k = j; k > a && tval[order[k - 1]] > tval[v]; k--)
				order[k] = order[k - 1];
			order[k] = v;
		}
		for (j = a + 1; j < b; j++) {
			double d = tval[order[j]] - tval[order[j - 1]];
			if (d == 0) {
				const char *g = gc >= 0 ? cell(&fr, gc, order[j]) : NULL;
				char q2[128];
				rc = cli_error(&F->cli, EX_DATA,
					       "%s:%ld: duplicate time %s%s%s (also on line %ld)",
					       F->name,
					       fr.rows.line ? fr.rows.line[order[j]] : (long)order[j] + 2,
					       quote(q, 100, cell_text(&fr, tc, order[j], tbuf)),
					       g ? " in series " : "", g ? quote(q2, 100, g) : "",
					       fr.rows.line ? fr.rows.line[order[j - 1]] :
							      (long)order[j - 1] + 2);
				goto out;
			}
			if (d < dmin[i])
				dmin[i] = d;
		}
	}
	if (!(F->ser = calloc((size_t)ngroup, sizeof(*F->ser)))) {
		rc = cli_error(&F->cli, EX_OSERR_, "out of memory");
		goto out;
	}
	F->nser = (size_t)ngroup;
	for (i = 0; i < (size_t)ngroup; i++) {
		struct series *S = &F->ser[i];
		size_t a = start[i], b = start[i + 1], j, len, len0, nmiss = 0, gaps = 0, lead = 0;
		double t0 = tval[order[a]], kmax;
		const char *g = gc >= 0 ? cell(&fr, gc, order[a]) : NULL;
		int season[ML_FC_MAX_SEASONS], ns;

		/* each series its own step (a file may mix frequencies); one value alone
		 * has none to tell */
		S->ti = F->ti;
		infer_step(&S->ti, isfinite(dmin[i]) ? dmin[i] : F->ti.kind == T_NUM ? 1 : 86400,
			   season, &ns);
		if (F->nseason) {
			memcpy(season, F->season, sizeof(season));
			ns = F->nseason;
		}
		if (g && !(S->group = strdup(g))) {
			rc = cli_error(&F->cli, EX_OSERR_, "out of memory");
			goto out;
		}
		kmax = time_index(&S->ti, t0, tval[order[b - 1]]);
		for (j = a; j < b; j++)
			if (time_index(&S->ti, t0, tval[order[j]]) != time_index(&S->ti, t0, tval[order[j]])) {
				rc = cli_error(&F->cli, EX_DATA,
					       "%s:%ld: time %s is not on the series' regular grid "
					       "(irregular timestamps)",
					       F->name,
					       fr.rows.line ? fr.rows.line[order[j]] : (long)order[j] + 2,
					       quote(q, 100, cell_text(&fr, tc, order[j], tbuf)));
				goto out;
			}
		if (kmax > 1e8) {
			rc = cli_error(&F->cli, EX_DATA, "%s: the time index spans too many steps",
				       F->name);
			goto out;
		}
		len = (size_t)kmax + 1;
		if (!(S->y = malloc(len * sizeof(double)))) {
			rc = cli_error(&F->cli, EX_OSERR_, "out of memory");
			goto out;
		}
		for (j = 0; j < len; j++)
			S->y[j] = NAN;
		for (j = a; j < b; j++)
			S->y[(size_t)time_index(&S->ti, t0, tval[order[j]])] =
				fr.rows.col[yc].num[order[j]];
		len0 = len;
		if (F->nx) {
			int k;
			if (!(S->x = malloc((size_t)F->nx * len0 * sizeof(double)))) {
				rc = cli_error(&F->cli, EX_OSERR_, "out of memory");
				goto out;
			}
			for (j = 0; j < (size_t)F->nx * len0; j++)
				S->x[j] = NAN;
			for (k = 0; k < F->nx; k++)
				for (j = a; j < b; j++)
					S->x[(size_t)k * len0 +
					     (size_t)time_index(&S->ti, t0, tval[order[j]])] =
						fr.rows.col[xc[k]].num[order[j]];
		}
		gaps = len - (b - a);
		/* leading and trailing missing values are dropped, inner ones interpolated */
		while (lead < len && S->y[lead] != S->y[lead])
			lead++;
		while (len > lead && S->y[len - 1] != S->y[len - 1])
			len--;
		if (lead == len) {
			rc = cli_error(&F->cli, EX_DATA,
				       "%s: %s%s has no values (every %s is missing)", F->name,
				       g ? "series " : "the series",
				       g ? quote(q, 100, g) : "", F->y_col);
			goto out;
		}
		memmove(S->y, S->y + lead, (len - lead) * sizeof(double));
		len -= lead;
		S->last = time_add(&S->ti, t0, (long)(lead + len - 1));
		nmiss = interpolate(S->y, len);
		if (F->nx) {
			/* the regressors on the same steps (absent ones interpolated too) */
			int k;
			for (k = 0; k < F->nx; k++) {
				memmove(S->x + (size_t)k * len, S->x + (size_t)k * len0 + lead,
					len * sizeof(double));
				interpolate(S->x + (size_t)k * len, len);
			}
		}
		S->n = len;
		if (nmiss)
			cli_warn(&F->cli, "%s: %s%zu missing value%s (%zu step%s absent from the "
					  "time index) filled by linear interpolation",
				 F->name, series_tag(q, g), nmiss, nmiss == 1 ? "" : "s", gaps, gaps == 1 ? "" : "s");
		S->s.y = S->y;
		S->s.n = S->n;
		if (S->ti.kind != T_NUM) {
			S->s.cal.kind = S->ti.kind == T_MONTHS ? ML_CAL_MONTHS : ML_CAL_SECONDS;
			S->s.cal.t0 = time_add(&S->ti, t0, (long)lead);
			S->s.cal.step = S->ti.step;
		}
		memcpy(S->s.season, season, sizeof(season));
		S->s.nseason = ns;
		/* seasons as long as the series are dropped for it (with a warning when given
		 * by --season), before the default horizon of two seasons is taken */
		{
			int k, kept = 0;
			for (k = 0; k < S->s.nseason; k++)
				if ((size_t)S->s.season[k] < S->n)
					S->s.season[kept++] = S->s.season[k];
				else if (F->nseason)
					cli_warn(&F->cli,
						 "%s: %s--season %d is not shorter than the "
						 "series (%zu values): left out",
						 F->name, series_tag(q, g), S->s.season[k], S->n);
			S->s.nseason = kept;
		}
		S->h = F->horizon > 0 ? F->horizon : S->s.nseason ? 2 * S->s.season[0] : 10;
	}
out:
	free(tval);
	free(dmin);
	free(order);
	free(start);
	free(gidx);
	ml_frame_release(&fr);
	return rc;
}

/* The row of fr for the messages. */
static long line_of(const struct ml_frame *fr, size_t r)
{
	return fr->rows.line ? fr->rows.line[r] : (long)r + 2;
}

/* --future: the regressors' values after each series' last time, into S->xf (xf[j * h +
 * t]), the horizon of each series the steps given when --horizon is not; for a series
 * fitted here, S->x then holds its history and future together. Returns 0 or the exit
 * status. */
static int load_future(struct fcast *F)
{
	struct ml_frame fr;
	char q[128], q2[128], tbuf[64];
	int tc, gc = -1, rc = 0, xc[ML_FC_MAX_XREG], j, numeric = F->ser[0].ti.kind == T_NUM;
	size_t r, i, nrow;
	long *kk = NULL, *maxk = NULL;
	size_t *si = NULL;

	ml_frame_init(&fr);
	if ((rc = read_table(F, &fr, F->future, F->time_name, F->group_name)) != 0)
		goto out;
	if ((tc = col_of_file(F, F->future, &fr.schema, F->time_name,
			      "--future (the time column)")) < 0 ||
	    (F->group_name &&
	     (gc = col_of_file(F, F->future, &fr.schema, F->group_name,
			       "--future (the group column)")) < 0)) {
		rc = EX_DATA;
		goto out;
	}
	if ((rc = xreg_columns(F, &fr, F->future, xc, 0)) != 0)
		goto out;
	nrow = fr.rows.nrow;
	if (!(kk = malloc((nrow ? nrow : 1) * sizeof(long))) ||
	    !(si = malloc((nrow ? nrow : 1) * sizeof(size_t))) ||
	    !(maxk = calloc(F->nser, sizeof(long)))) {
		rc = cli_error(&F->cli, EX_OSERR_, "out of memory");
		goto out;
	}
	for (r = 0; r < nrow; r++) {
		const char *g = gc >= 0 ? cell_text(&fr, gc, r, tbuf) : NULL, *ts;
		struct series *S;
		double t, k;
		i = 0;
		if (gc >= 0) {
			if (!g) {
				rc = cli_error(&F->cli, EX_DATA,
					       "%s:%ld: missing value in the group column '%s'",
					       F->future, line_of(&fr, r), F->group_name);
				goto out;
			}
			for (i = 0; i < F->nser; i++)
				if (F->ser[i].group && strcmp(F->ser[i].group, g) == 0)
					break;
			if (i == F->nser) {
				rc = cli_error(&F->cli, EX_DATA,
					       "%s:%ld: unknown group %s in column '%s' (no series of "
					       "that name to forecast)",
					       F->future, line_of(&fr, r), quote(q, 100, g),
					       F->group_name);
				goto out;
			}
		}
		S = &F->ser[i];
		si[r] = i;
		if (!(ts = cell_text(&fr, tc, r, tbuf))) {
			rc = cli_error(&F->cli, EX_DATA, "%s:%ld: missing time in column '%s'",
				       F->future, line_of(&fr, r), F->time_name);
			goto out;
		}
		if (numeric ? ml_parse_double(ts, strlen(ts), &t) < 0 || !isfinite(t) :
			      ml_parse_time(ts, strlen(ts), &t) < 0 || strlen(ts) < 10) {
			rc = cli_error(&F->cli, EX_DATA,
				       "%s:%ld: cannot read %s in column '%s' as %s", F->future,
				       line_of(&fr, r), quote(q, 100, ts), F->time_name,
				       numeric ? "a number like the history's times" :
						 "a date or time like the history's");
			goto out;
		}
		k = time_index(&S->ti, S->last, t);
		if (k != k) {
			rc = cli_error(&F->cli, EX_DATA,
				       "%s:%ld: time %s is not on the regular grid of series%s%s "
				       "(it does not continue the history's steps)",
				       F->future, line_of(&fr, r), quote(q, 100, ts),
				       S->group ? " " : "", S->group ? quote(q2, 100, S->group) : "");
			goto out;
		}
		if (k < 1) {
			fmt_time(&S->ti, S->last, tbuf, sizeof(tbuf));
			rc = cli_error(&F->cli, EX_DATA,
				       "%s:%ld: time %s is not after the last time of the history "
				       "(%s%s%s)",
				       F->future, line_of(&fr, r), quote(q, 100, ts), tbuf,
				       S->group ? " in series " : "",
				       S->group ? quote(q2, 100, S->group) : "");
			goto out;
		}
		kk[r] = k > 100000 ? 100001 : (long)k;
		if (kk[r] <= 100000 && kk[r] > maxk[i])
			maxk[i] = kk[r];
	}
	for (i = 0; i < F->nser; i++) {
		struct series *S = &F->ser[i];
		long H = F->horizon > 0 ? F->horizon : maxk[i], t;
		if (!maxk[i]) {
			rc = cli_error(&F->cli, EX_DATA, "%s: no rows after the last time of %s%s",
				       F->future, S->group ? "series " : "the history",
				       S->group ? quote(q, 100, S->group) : "");
			goto out;
		}
		if (!(S->xf = malloc((size_t)F->nx * (size_t)H * sizeof(double)))) {
			rc = cli_error(&F->cli, EX_OSERR_, "out of memory");
			goto out;
		}
		for (t = 0; t < (long)F->nx * H; t++)
			S->xf[t] = NAN;
		S->h = H;
	}
	for (r = 0; r < nrow; r++) {
		struct series *S = &F->ser[si[r]];
		size_t t = (size_t)kk[r] - 1;
		if (kk[r] > S->h)
			continue; /* beyond the horizon */
		if (S->xf[t] == S->xf[t]) {
			rc = cli_error(&F->cli, EX_DATA, "%s:%ld: a second row for time %s%s%s",
				       F->future, line_of(&fr, r),
				       quote(q, 100, cell_text(&fr, tc, r, tbuf)),
				       S->group ? " in series " : "",
				       S->group ? quote(q2, 100, S->group) : "");
			goto out;
		}
		for (j = 0; j < F->nx; j++)
			S->xf[(size_t)j * (size_t)S->h + t] = fr.rows.col[xc[j]].num[r];
	}
	for (i = 0; i < F->nser; i++) {
		struct series *S = &F->ser[i];
		long t;
		for (t = 0; t < S->h; t++)
			if (S->xf[t] != S->xf[t]) {
				fmt_time(&S->ti, time_add(&S->ti, S->last, t + 1), tbuf, sizeof(tbuf));
				if (F->horizon > 0)
					rc = cli_error(&F->cli, EX_DATA,
						       "%s: no row for time %s%s%s: --horizon %ld needs "
						       "the regressors at every step up to it",
						       F->future, tbuf, S->group ? " of series " : "",
						       S->group ? quote(q, 100, S->group) : "", F->horizon);
				else
					rc = cli_error(&F->cli, EX_DATA,
						       "%s: no row for time %s%s%s: the future rows "
						       "continue the history step by step, with no gap",
						       F->future, tbuf, S->group ? " of series " : "",
						       S->group ? quote(q, 100, S->group) : "");
				goto out;
			}
		if (S->x) {
			/* history and future together, as the fit reads them */
			size_t len = S->n + (size_t)S->h;
			double *x = malloc((size_t)F->nx * len * sizeof(double));
			if (!x) {
				rc = cli_error(&F->cli, EX_OSERR_, "out of memory");
				goto out;
			}
			for (j = 0; j < F->nx; j++) {
				memcpy(x + (size_t)j * len, S->x + (size_t)j * S->n,
				       S->n * sizeof(double));
				memcpy(x + (size_t)j * len + S->n, S->xf + (size_t)j * (size_t)S->h,
				       (size_t)S->h * sizeof(double));
			}
			free(S->x);
			S->x = x;
			S->s.x = x;
			S->s.xlen = len;
			S->s.nx = F->nx;
		}
	}
out:
	free(kk);
	free(si);
	free(maxk);
	ml_frame_release(&fr);
	return rc;
}

/* -v: a line "[series 'G': ]MODEL: what it fitted" in S->info. */
static void describe(struct series *S, const char *model, const struct ml_forecaster *f)
{
	size_t len = strlen(S->info);
	char d[768], q[128];

	ml_fc_describe(f, d, sizeof(d));
	snprintf(S->info + len, sizeof(S->info) - len, "%s%s%s: %s", len ? "\n" : "",
		 series_tag(q, S->group), model, d);
}

/* Print the lines of text (warnings or -v's) through cli_warn or cli_info. */
static void print_lines(const struct cli *c, const char *w, int warn)
{
	while (*w) {
		size_t len = strcspn(w, "\n");
		if (warn)
			cli_warn(c, "%.*s", (int)len, w);
		else
			cli_info(c, "%.*s", (int)len, w);
		w += len + (w[len] == '\n');
	}
}

/* A simpler method for a series too short for m, or NULL; with regressors, one that
 * takes them. */
static const struct ml_fc_method *fallback(const struct ml_fc_method *m, const struct ml_series *s)
{
	static const char *const chain[] = {"theta", "naive", "mean", "linear", NULL};
	int i;

	for (i = 0; chain[i]; i++) {
		const struct ml_fc_method *f = ml_fc_method_find(chain[i]);
		if (f && f != m && s->n >= ml_fc_method_min_length(f, s) &&
		    (!s->nx || ml_fc_method_xreg(f)))
			return f;
	}
	return NULL;
}

struct job {
	struct fcast *F;
};

static void series_task(void *arg, size_t task, int worker)
{
	struct fcast *F = ((struct job *)arg)->F;
	struct series *S = &F->ser[task];
	size_t per = (size_t)S->h * (1 + 2 * (size_t)F->nlevel);
	int j;
	char q[128];

	(void)worker;
	if (!(S->out = malloc(per * (size_t)F->nmodel * sizeof(double)))) {
		S->rc = ML_E_NOMEM;
		return;
	}
	for (j = 0; j < F->nmodel; j++) {
		const struct ml_fc_method *m = F->models[j];
		struct ml_params p;
		struct ml_err e;
		double *o = S->out + per * (size_t)j;
		int h = (int)S->h;

		ml_err_init(&e);
		if (strcmp(ml_fc_method_name(m), "snaive") == 0 && !S->s.nseason &&
		    S->n >= 2) {
			size_t len = strlen(S->msg);
			snprintf(S->msg + len, sizeof(S->msg) - len,
				 "%s%sno seasonal period for --model snaive; forecast with naive",
				 len ? "\n" : "", series_tag(q, S->group));
			S->used[j] = "naive";
			m = ml_fc_method_find("naive");
		}
		if (S->n < ml_fc_method_min_length(m, &S->s)) {
			const struct ml_fc_method *fb = fallback(m, &S->s);
			size_t len = strlen(S->msg);
			if (!fb) {
				snprintf(S->err, sizeof(S->err),
					 "%s%s%s has %zu value%s: too few for --model %s or any "
					 "simpler one",
					 F->name, S->group ? ": series " : "",
					 S->group ? quote(q, 100, S->group) : "", S->n,
					 S->n == 1 ? "" : "s", ml_fc_method_name(m));
				S->rc = ML_E_DATA;
				return;
			}
			snprintf(S->msg + len, sizeof(S->msg) - len,
				 "%s%s%zu values are too few for --model %s (it needs %zu); "
				 "forecast with %s",
				 len ? "\n" : "", series_tag(q, S->group), S->n, ml_fc_method_name(m), ml_fc_method_min_length(m, &S->s),
				 ml_fc_method_name(fb));
			S->used[j] = ml_fc_method_name(fb);
			m = fb;
		}
		if (method_params(F, m, S->h, &p, &e) < 0 || ml_fc_fit(&S->fc[j], m, &S->s, &p, NULL, &e) < 0 ||
		    ml_fc_forecast(S->fc[j], h, F->level, F->nlevel, o, o + h,
				   o + h + (size_t)h * (size_t)F->nlevel, &e) < 0) {
			snprintf(S->err, sizeof(S->err), "%s%s%s: %s", F->name,
				 S->group ? ": series " : "", S->group ? quote(q, 100, S->group) : "",
				 e.msg);
			S->rc = e.code ? e.code : ML_E_DATA;
			return;
		}
		if (F->cli.verbose)
			describe(S, ml_fc_method_name(F->models[j]), S->fc[j]);
		if (F->backtest > 0) {
			ml_err_init(&e);
			if (ml_fc_backtest(m, &S->s, &p, h, (int)F->backtest, F->level, F->nlevel,
					   &S->score[j], NULL, &e) == 0)
				S->scored[j] = 1;
		}
		if (!F->save) {
			ml_fc_free(S->fc[j]);
			S->fc[j] = NULL;
		}
	}
}

/* The output schema: [group,] time, model, mean, lo_L, hi_L... */
static int out_schema(struct fcast *F, struct ml_schema *s)
{
	char name[64], num[40];
	int k;

	if ((F->group_name && ml_schema_add(s, F->group_name, ML_CAT) < 0) ||
	    ml_schema_add(s, F->time_name, ML_CAT) < 0 || ml_schema_add(s, "model", ML_CAT) < 0 ||
	    ml_schema_add(s, "mean", ML_NUM) < 0)
		return -1;
	for (k = 0; k < F->nlevel; k++) {
		ml_fmt_double(num, F->level[k]);
		snprintf(name, sizeof(name), "lo_%s", num);
		if (ml_schema_add(s, name, ML_NUM) < 0)
			return -1;
		snprintf(name, sizeof(name), "hi_%s", num);
		if (ml_schema_add(s, name, ML_NUM) < 0)
			return -1;
	}
	return 0;
}

static int write_forecasts(struct fcast *F)
{
	struct ml_schema s;
	struct ml_block b;
	struct ml_write_opts wo;
	struct ml_output *out = NULL;
	struct ml_writer *w = NULL;
	struct ml_err e;
	size_t i, row = 0, nrow = 0;
	int rc = 0, j, k, c0 = F->group_name ? 1 : 0;
	long t;

	ml_schema_init(&s);
	ml_err_init(&e);
	memset(&b, 0, sizeof(b));
	for (i = 0; i < F->nser; i++)
		nrow += (size_t)F->nmodel * (size_t)F->ser[i].h;
	if (out_schema(F, &s) < 0 || ml_block_init(&b, &s, nrow ? nrow : 1, &e) < 0) {
		rc = cli_error(&F->cli, EX_OSERR_, "out of memory");
		goto done;
	}
	for (i = 0; i < F->nser; i++) {
		struct series *S = &F->ser[i];
		size_t per = (size_t)S->h * (1 + 2 * (size_t)F->nlevel);
		for (j = 0; j < F->nmodel; j++) {
			const char *mname = S->used[j] ? S->used[j] : ml_fc_method_name(F->models[j]);
			const double *o = S->out + per * (size_t)j;
			int32_t gcode = -1, mcode;
			if (c0 && (gcode = ml_dict_intern(&s.cols[0].dict, S->group, strlen(S->group))) < 0)
				goto nomem;
			if ((mcode = ml_dict_intern(&s.cols[c0 + 1].dict, mname, strlen(mname))) < 0)
				goto nomem;
			for (t = 0; t < S->h; t++) {
				char tb[96];
				int32_t tcode;
				fmt_time(&S->ti, time_add(&S->ti, S->last, t + 1), tb, sizeof(tb));
				if ((tcode = ml_dict_intern(&s.cols[c0].dict, tb, strlen(tb))) < 0)
					goto nomem;
				if (c0)
					b.col[0].cat[row] = gcode;
				b.col[c0].cat[row] = tcode;
				b.col[c0 + 1].cat[row] = mcode;
				b.col[c0 + 2].num[row] = o[t];
				for (k = 0; k < F->nlevel; k++) {
					b.col[c0 + 3 + 2 * k].num[row] =
						o[S->h + (size_t)k * (size_t)S->h + (size_t)t];
					b.col[c0 + 4 + 2 * k].num[row] =
						o[S->h + (size_t)S->h * (size_t)F->nlevel +
						  (size_t)k * (size_t)S->h + (size_t)t];
				}
				row++;
			}
		}
	}
	b.nrow = row;
	if (!(out = cli_open_output(&F->cli, F->cli.output, &rc)))
		goto done;
	cli_write_opts(&F->cli, &wo);
	if (!(w = ml_writer_open(ml_output_file(out), ml_output_name(out), &s, &wo, &e)) ||
	    ml_writer_write(w, &b, 0, b.nrow, &e) < 0 || ml_writer_finish(w, &e) < 0) {
		rc = cli_fail(&F->cli, &e);
		goto done;
	}
	F->out = out;
	out = NULL;
	goto done;
nomem:
	rc = cli_error(&F->cli, EX_OSERR_, "out of memory");
done:
	if (out)
		ml_output_abort(out);
	ml_writer_free(w);
	ml_block_release(&b);
	ml_schema_release(&s);
	return rc;
}

/* A CSV field, quoted when it must be. */
static void csv_field(FILE *fp, const char *s)
{
	if (strpbrk(s, ",\"\r\n")) {
		fputc('"', fp);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', fp);
			fputc(*s, fp);
		}
		fputc('"', fp);
	} else {
		fputs(s, fp);
	}
}

static void csv_num(FILE *fp, double v)
{
	char buf[64];
	if (v != v) {
		fputs("", fp);
		return;
	}
	ml_fmt_double(buf, v);
	fputs(buf, fp);
}

static void report_row(FILE *fp, struct fcast *F, const char *group, const char *model,
		       const struct ml_fc_score *sc)
{
	int k;

	if (F->group_name) {
		csv_field(fp, group);
		fputc(',', fp);
	}
	csv_field(fp, model);
	fprintf(fp, ",%d,%zu,", sc->norigin, sc->npoint);
	csv_num(fp, sc->mae);
	fputc(',', fp);
	csv_num(fp, sc->rmse);
	fputc(',', fp);
	csv_num(fp, sc->mape);
	fputc(',', fp);
	csv_num(fp, sc->smape);
	fputc(',', fp);
	csv_num(fp, sc->mase);
	for (k = 0; k < F->nlevel; k++) {
		fputc(',', fp);
		csv_num(fp, sc->coverage[k]);
	}
	fputc('\n', fp);
}

/* --report: per series and model, then the means over the series of each model. */
static int write_report(struct fcast *F)
{
	struct ml_output *out;
	struct ml_err e;
	FILE *fp;
	size_t i;
	int j, k;

	ml_err_init(&e);
	if (!(out = ml_output_open(F->report, &e)))
		return cli_fail(&F->cli, &e);
	fp = ml_output_file(out);
	if (F->group_name) {
		csv_field(fp, F->group_name);
		fputc(',', fp);
	}
	fputs("model,origins,points,mae,rmse,mape,smape,mase", fp);
	for (k = 0; k < F->nlevel; k++) {
		char num[40];
		ml_fmt_double(num, F->level[k]);
		fprintf(fp, ",coverage_%s", num);
	}
	fputc('\n', fp);
	for (i = 0; i < F->nser; i++)
		for (j = 0; j < F->nmodel; j++)
			if (F->ser[i].scored[j])
				report_row(fp, F, F->ser[i].group,
					   F->ser[i].used[j] ? F->ser[i].used[j] :
							       ml_fc_method_name(F->models[j]),
					   &F->ser[i].score[j]);
	for (j = 0; j < F->nmodel; j++) {
		struct ml_fc_score m;
		size_t cnt = 0, cmape = 0, csmape = 0, cmase = 0;
		memset(&m, 0, sizeof(m));
		for (i = 0; i < F->nser; i++) {
			const struct ml_fc_score *sc = &F->ser[i].score[j];
			if (!F->ser[i].scored[j])
				continue;
			cnt++;
			m.norigin += sc->norigin;
			m.npoint += sc->npoint;
			m.mae += sc->mae;
			m.rmse += sc->rmse;
			if (sc->mape == sc->mape) {
				m.mape += sc->mape;
				cmape++;
			}
			if (sc->smape == sc->smape) {
				m.smape += sc->smape;
				csmape++;
			}
			if (sc->mase == sc->mase) {
				m.mase += sc->mase;
				cmase++;
			}
			for (k = 0; k < F->nlevel; k++)
				m.coverage[k] += sc->coverage[k] * (double)sc->npoint;
		}
		if (!cnt || !F->group_name)
			continue;
		m.mae /= (double)cnt;
		m.rmse /= (double)cnt;
		m.mape = cmape ? m.mape / (double)cmape : NAN;
		m.smape = csmape ? m.smape / (double)csmape : NAN;
		m.mase = cmase ? m.mase / (double)cmase : NAN;
		for (k = 0; k < F->nlevel; k++)
			m.coverage[k] /= (double)m.npoint;
		report_row(fp, F, "(mean)", ml_fc_method_name(F->models[j]), &m);
	}
	F->rep_out = out;
	return 0;
}

/* --save: a forecaster container per series and model, as members of one container
 * whose metadata says how to continue the time index. */
static int save_models(struct fcast *F)
{
	struct ml_model *top = ml_model_new("forecaster", "series");
	struct ml_err e;
	cJSON *meta, *ti, *arr;
	size_t i;
	int j, rc = 0, k, bad = 0;

	ml_err_init(&e);
	if (!top)
		return cli_error(&F->cli, EX_OSERR_, "out of memory");
	if (!(meta = cJSON_CreateObject())) {
		ml_model_free(top);
		return cli_error(&F->cli, EX_OSERR_, "out of memory");
	}
	/* every addition is checked: a key lost to a failed allocation would make a file that
	 * loads but continues the series wrongly */
	cli_json_item(&bad, meta, "time", ti = cJSON_CreateObject());
	if (!bad) {
		cli_json_str(&bad, ti, "column", F->time_name);
		if (F->group_name)
			cli_json_str(&bad, ti, "group", F->group_name);
		cli_json_num(&bad, ti, "decimals", F->ti.decimals);
		cli_json_num(&bad, ti, "sep", F->ti.sep);
		cli_json_num(&bad, ti, "tsep", F->ti.tsep);
		cli_json_num(&bad, ti, "seconds", F->ti.seconds);
		cli_json_num(&bad, ti, "zulu", F->ti.zulu);
	}
	cli_json_item(&bad, meta, "series", arr = cJSON_CreateArray());
	for (i = 0; i < F->nser && !bad; i++)
		for (j = 0; j < F->nmodel && !bad; j++) {
			struct ml_model *m;
			char name[32];
			cJSON *o = cJSON_CreateObject();
			cli_json_item(&bad, arr, NULL, o);
			if (bad)
				break;
			if (F->ser[i].group)
				cli_json_str(&bad, o, "group", F->ser[i].group);
			cli_json_num(&bad, o, "last", F->ser[i].last);
			cli_json_num(&bad, o, "kind", F->ser[i].ti.kind);
			cli_json_num(&bad, o, "step", F->ser[i].ti.step);
			if (F->ser[i].s.nseason)
				cli_json_num(&bad, o, "season", F->ser[i].s.season[0]);
			cli_json_str(&bad, o, "model", ml_fc_method_name(F->models[j]));
			snprintf(name, sizeof(name), "s%zu", i * (size_t)F->nmodel + (size_t)j);
			m = NULL;
			if ((rc = ml_fc_to_model(F->ser[i].fc[j], &m, &e)) < 0 ||
			    (rc = cli_stamp(m, &e)) < 0 ||
			    (rc = ml_model_add_member(top, name, m, &e)) < 0) {
				ml_model_free(m);
				cJSON_Delete(meta);
				ml_model_free(top);
				return cli_fail(&F->cli, &e);
			}
			ml_model_free(m);
		}
	if (!bad && F->nx) {
		/* the regressors by name: a forecast from the model reads them in --future */
		cli_json_item(&bad, meta, "xreg", arr = cJSON_CreateArray());
		for (k = 0; k < F->nx && !bad; k++)
			cli_json_item(&bad, arr, NULL, cJSON_CreateString(F->xname[k]));
	}
	if (!bad)
		cli_json_item(&bad, meta, "levels", arr = cJSON_CreateArray());
	for (k = 0; k < F->nlevel && !bad; k++)
		cli_json_item(&bad, arr, NULL, cJSON_CreateNumber(F->level[k]));
	if (bad) {
		cJSON_Delete(meta);
		ml_model_free(top);
		return cli_error(&F->cli, EX_OSERR_, "out of memory");
	}
	if ((rc = cli_meta_merge(top, meta, &e)) < 0 || (rc = cli_stamp(top, &e)) < 0 ||
	    !(F->save_out = ml_output_open(F->save, &e)) ||
	    (rc = cli_write_model(F->save_out, top, &e)) < 0) {
		ml_model_free(top);
		return cli_fail(&F->cli, &e);
	}
	ml_model_free(top);
	return 0;
}

static int load_models(struct fcast *F)
{
	struct ml_err e;
	struct ml_model *top;
	cJSON *meta;
	const cJSON *ti, *arr, *it, *xr;
	char *mj;
	size_t i = 0, nser;
	int rc = 0;

	ml_err_init(&e);
	if (!(top = ml_model_load_kind(F->load, "forecaster", &e)))
		return cli_fail(&F->cli, &e);
	mj = ml_model_meta_json(top);
	meta = mj ? cJSON_Parse(mj) : NULL;
	free(mj);
	ti = cJSON_GetObjectItemCaseSensitive(meta, "time");
	arr = cJSON_GetObjectItemCaseSensitive(meta, "series");
	if (strcmp(ml_model_algorithm(top), "series") != 0 || !cJSON_IsObject(ti) ||
	    !cJSON_IsArray(arr) || cJSON_GetArraySize(arr) < 1) {
		ml_model_free(top);
		cJSON_Delete(meta);
		return cli_error(&F->cli, EX_DATA, "%s: not a model written by mlforecast --save",
				 F->load);
	}
#define TNUM(k) cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(ti, k))
	F->ti.decimals = (int)TNUM("decimals");
	F->ti.sep = (char)(int)TNUM("sep");
	F->ti.tsep = (char)(int)TNUM("tsep");
	F->ti.seconds = (int)TNUM("seconds");
	F->ti.zulu = (int)TNUM("zulu");
#undef TNUM
	if (F->ti.decimals < 0 || F->ti.decimals > 15) {
		ml_model_free(top);
		cJSON_Delete(meta);
		return cli_error(&F->cli, EX_DATA, "%s: the time index of the model is damaged",
				 F->load);
	}
	F->time_name = strdup(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ti, "column")) ?
				      cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ti, "column")) :
				      "time");
	if (cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ti, "group")))
		F->group_name = strdup(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ti, "group")));
	xr = cJSON_GetObjectItemCaseSensitive(meta, "xreg");
	if (xr) {
		const cJSON *nm;
		int bad = !cJSON_IsArray(xr) || cJSON_GetArraySize(xr) > ML_FC_MAX_XREG;
		if (!bad)
			cJSON_ArrayForEach(nm, xr)
			{
				if (!cJSON_IsString(nm)) {
					bad = 1;
					break;
				}
				if (!(F->xname[F->nx++] = strdup(nm->valuestring))) {
					ml_model_free(top);
					cJSON_Delete(meta);
					return cli_error(&F->cli, EX_OSERR_, "out of memory");
				}
			}
		if (bad) {
			ml_model_free(top);
			cJSON_Delete(meta);
			return cli_error(&F->cli, EX_DATA, "%s: the model's regressor names are damaged",
					 F->load);
		}
	}
	if (F->nx && !F->future) {
		ml_model_free(top);
		cJSON_Delete(meta);
		return cli_usage(&F->cli,
				 "the model takes %d regressor%s (%s%s): give their future values "
				 "with --future=FILE",
				 F->nx, F->nx == 1 ? "" : "s", F->xname[0], F->nx > 1 ? ", ..." : "");
	}
	if (!F->nx && F->future) {
		ml_model_free(top);
		cJSON_Delete(meta);
		return cli_usage(&F->cli, "--future: the model takes no regressors");
	}
	nser = (size_t)cJSON_GetArraySize(arr);
	F->ser = calloc(nser, sizeof(*F->ser));
	F->nser = nser;
	F->nmodel = 1;
	if (!F->ser)
		return cli_error(&F->cli, EX_OSERR_, "out of memory");
	cJSON_ArrayForEach(it, arr)
	{
		struct series *S = &F->ser[i];
		const char *g = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "group"));
		const char *mn = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "model"));
		struct ml_model *mm;
		char name[32];
		snprintf(name, sizeof(name), "s%zu", i);
		if (!(mm = ml_model_get_member(top, name, &e)) ||
		    !(S->fc[0] = ml_fc_from_model(mm, &e))) {
			ml_model_free(mm);
			rc = cli_fail(&F->cli, &e);
			break;
		}
		ml_model_free(mm);
		S->group = g ? strdup(g) : NULL;
		S->used[0] = mn && ml_fc_method_find(mn) ? ml_fc_method_name(ml_fc_method_find(mn)) :
							    ml_fc_method_name(ml_fc_method_of(S->fc[0]));
		S->last = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(it, "last"));
		S->ti = F->ti;
		S->ti.kind = (enum tkind)(int)cJSON_GetNumberValue(
			cJSON_GetObjectItemCaseSensitive(it, "kind"));
		S->ti.step = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(it, "step"));
		if (!(S->ti.kind == T_NUM || S->ti.kind == T_MONTHS || S->ti.kind == T_SECONDS) ||
		    !(S->ti.step > 0) || !isfinite(S->last)) {
			rc = cli_error(&F->cli, EX_DATA, "%s: the time index of the model is damaged",
				       F->load);
			break;
		}
		{
			const cJSON *sea = cJSON_GetObjectItemCaseSensitive(it, "season");
			S->h = F->horizon > 0 ? F->horizon : cJSON_IsNumber(sea) ? 2 * (long)sea->valuedouble : 10;
			if (S->h < 1 || S->h > 100000)
				S->h = 10;
		}
		if (ml_fc_nx(S->fc[0]) != F->nx) {
			rc = cli_error(&F->cli, EX_DATA,
				       "%s: a forecaster takes %d regressors, the model names %d",
				       F->load, ml_fc_nx(S->fc[0]), F->nx);
			break;
		}
		if (F->cli.verbose) {
			describe(S, S->used[0], S->fc[0]);
			print_lines(&F->cli, S->info, 0);
		}
		i++;
	}
	if (rc == 0 && F->nx)
		rc = load_future(F);
	for (i = 0; rc == 0 && i < F->nser; i++) {
		struct series *S = &F->ser[i];
		size_t per = (size_t)S->h * (1 + 2 * (size_t)F->nlevel);
		if (!(S->out = malloc(per * sizeof(double)))) {
			rc = cli_error(&F->cli, EX_OSERR_, "out of memory");
			break;
		}
		if (ml_fc_forecast_x(S->fc[0], (int)S->h, S->xf, F->level, F->nlevel, S->out,
				     S->out + S->h, S->out + S->h + S->h * F->nlevel, &e) < 0) {
			rc = cli_fail(&F->cli, &e);
			break;
		}
	}
	if (!F->group_name || (F->nser == 1 && !F->ser[0].group)) {
		free(F->group_name);
		F->group_name = NULL;
	}
	if (F->ser[0].fc[0])
		F->models[0] = ml_fc_method_of(F->ser[0].fc[0]);
	cJSON_Delete(meta);
	ml_model_free(top);
	return rc;
}

/* --plot: the first series, its forecast (the first model) and its widest interval. */
static int plot_first(struct fcast *F)
{
	const struct series *S = &F->ser[0];
	size_t n = S->n, i, per = (size_t)S->h;
	double *x = malloc((n + per) * sizeof(double));
	struct ml_svg *p = NULL;
	struct ml_output *out = NULL;
	struct ml_err e;
	char title[256], q[128];
	int rc = 0, wide = 0, k;

	ml_err_init(&e);
	for (k = 1; k < F->nlevel; k++)
		if (F->level[k] > F->level[wide])
			wide = k;
	snprintf(title, sizeof(title), "%s%s%s", S->group ? quote(q, 100, S->group) : F->y_col,
		 " - ", S->used[0] ? S->used[0] : ml_fc_method_name(F->models[0]));
	if (!x || !(p = ml_svg_new(title, "step", F->y_col ? F->y_col : "value"))) {
		free(x);
		return cli_error(&F->cli, EX_OSERR_, "out of memory");
	}
	for (i = 0; i < n + per; i++)
		x[i] = (double)i - (double)n + 1;
	if ((F->nlevel && ml_svg_band(p, x + n, S->out + per + (size_t)wide * per,
				      S->out + per + per * (size_t)F->nlevel + (size_t)wide * per,
				      per, "interval", 0, &e) < 0) ||
	    ml_svg_line(p, x, S->y, n, "history", 0, &e) < 0 ||
	    ml_svg_line(p, x + n, S->out, per, "forecast", 0, &e) < 0 ||
	    !(out = ml_output_open(F->plot, &e)) || ml_svg_write(p, ml_output_file(out), &e) < 0) {
		if (out)
			ml_output_abort(out);
		rc = cli_fail(&F->cli, &e);
	} else {
		F->plot_out = out;
	}
	ml_svg_free(p);
	free(x);
	return rc;
}

int cmd_main(int argc, char **argv)
{
	struct fcast F;
	struct ml_ctx ctx;
	int ch, rc = 0, nfiles, ctx_ok = 0, list = 0;
	size_t i;
	long v;

	memset(&F, 0, sizeof(F));
	F.level[0] = 80;
	F.level[1] = 95;
	F.nlevel = 2;
	F.model_arg = "auto";
	if ((rc = cli_init(&F.cli, &cmd)) != 0)
		return rc;
	while ((ch = cli_next(&F.cli, argc, argv, &rc)) != -1) {
		switch (ch) {
		case CLI_DONE:
			goto done;
		case O_TIME:
			F.time_col = optarg;
			break;
		case O_TARGET:
			F.y_col = optarg;
			break;
		case O_GROUP:
			F.group_col = optarg;
			break;
		case O_MODEL:
			F.model_arg = optarg;
			break;
		case O_PARAM:
			if (F.nparam == MAXPARAM) {
				rc = cli_usage(&F.cli, "at most %d --param", MAXPARAM);
				goto done;
			}
			F.params[F.nparam++] = optarg;
			break;
		case O_HORIZON:
			if (cli_long(&F.cli, "--horizon", optarg, 1, 100000, &v) < 0) {
				rc = EX_USAGE_;
				goto done;
			}
			F.horizon = v;
			break;
		case O_LEVEL:
			if ((rc = parse_levels(&F, optarg)) != 0)
				goto done;
			break;
		case O_SEASON:
			if (cli_long(&F.cli, "--season", optarg, 2, 100000, &v) < 0) {
				rc = EX_USAGE_;
				goto done;
			}
			if (F.nseason == ML_FC_MAX_SEASONS) {
				rc = cli_usage(&F.cli, "at most %d --season", ML_FC_MAX_SEASONS);
				goto done;
			}
			F.season[F.nseason++] = (int)v;
			break;
		case O_BACKTEST:
			if (cli_long(&F.cli, "--backtest", optarg, 1, 1000, &v) < 0) {
				rc = EX_USAGE_;
				goto done;
			}
			F.backtest = v;
			break;
		case O_REPORT:
			F.report = optarg;
			break;
		case O_SAVE:
			F.save = optarg;
			break;
		case O_LOAD:
			F.load = optarg;
			break;
		case O_PLOT:
			F.plot = optarg;
			break;
		case O_LIST_MODELS:
			list = 1;
			break;
		case O_XREG:
			F.xreg_arg = optarg;
			break;
		case O_FUTURE:
			F.future = optarg;
			break;
		default:
			rc = cli_usage(&F.cli, "unrecognized option '%s'", argv[optind - 1]);
			goto done;
		}
	}
	if (list) {
		rc = list_models();
		goto done;
	}
	nfiles = argc - optind;
	if (nfiles > 1) {
		rc = cli_usage(&F.cli, "one input at most, not %d ('%s' and '%s' ...)", nfiles,
			       argv[optind], argv[optind + 1]);
		goto done;
	}
	F.input = nfiles ? argv[optind] : "-";
	F.name = strcmp(F.input, "-") == 0 ? "<stdin>" : F.input;
	if (F.load) {
		const char *bad = F.time_col ? "--time" : F.y_col ? "-y" : F.group_col ? "--group" :
			F.backtest ? "--backtest" :
			F.report ? "--report (it scores a backtest, which needs the history)" :
			F.save ? "--save" : F.nseason ? "--season" :
			F.xreg_arg ? "--xreg (the model names its regressors)" :
			F.plot ? "--plot (it draws the history, which a model does not keep)" :
			nfiles ? "FILE" : NULL;
		if (bad) {
			rc = cli_usage(&F.cli, "%s cannot be combined with --load", bad);
			goto done;
		}
		if ((rc = load_models(&F)) != 0)
			goto done;
		goto write;
	}
	if (!F.time_col || !F.y_col) {
		rc = cli_usage(&F.cli, "missing %s", !F.time_col ? "--time=COL" : "-y COL");
		goto done;
	}
	if ((F.report && !F.backtest) || (F.backtest && !F.report)) {
		rc = cli_usage(&F.cli, "%s needs %s", F.report ? "--report" : "--backtest",
			       F.report ? "--backtest=N" : "--report=FILE");
		goto done;
	}
	if ((rc = parse_models(&F, F.model_arg)) != 0 || (rc = check_params(&F)) != 0 ||
	    (rc = parse_xreg(&F)) != 0)
		goto done;
	if (F.save && F.nmodel > 1) {
		rc = cli_usage(&F.cli, "--save keeps one model: give --model one method");
		goto done;
	}
	if ((rc = load_series(&F)) != 0 || (F.nx && (rc = load_future(&F)) != 0))
		goto done;
	if ((rc = cli_ctx(&F.cli, &ctx)) != 0)
		goto done;
	ctx_ok = 1;
	{
		struct job J = {&F};
		ml_pool_run(ctx.pool, F.nser, series_task, &J);
	}
	for (i = 0; i < F.nser; i++) {
		print_lines(&F.cli, F.ser[i].msg, 1);
		print_lines(&F.cli, F.ser[i].info, 0);
		if (F.ser[i].rc == ML_E_NOMEM) {
			rc = cli_error(&F.cli, EX_OSERR_, "out of memory");
			goto done;
		}
		if (F.ser[i].rc < 0) {
			rc = cli_error(&F.cli, F.ser[i].rc == ML_E_USAGE ? EX_USAGE_ : EX_DATA, "%s",
				       F.ser[i].err);
			goto done;
		}
	}
	if (F.report && (rc = write_report(&F)) != 0)
		goto done;
	if (F.save && (rc = save_models(&F)) != 0)
		goto done;
	if (F.plot && (rc = plot_first(&F)) != 0)
		goto done;
write:
	if ((rc = write_forecasts(&F)) == 0) {
		struct ml_err e;
		ml_err_init(&e);
		if (cli_commit((struct ml_output **[]){&F.out, &F.rep_out, &F.save_out, &F.plot_out}, 4,
			       &e) < 0)
			rc = cli_fail(&F.cli, &e);
	}
done:
	if (F.out)
		ml_output_abort(F.out);
	if (F.rep_out)
		ml_output_abort(F.rep_out);
	if (F.save_out)
		ml_output_abort(F.save_out);
	if (F.plot_out)
		ml_output_abort(F.plot_out);
	for (i = 0; i < F.nser; i++) {
		int j;
		free(F.ser[i].y);
		free(F.ser[i].x);
		free(F.ser[i].xf);
		free(F.ser[i].out);
		free((char *)F.ser[i].group);
		for (j = 0; j < MAXMODEL; j++)
			ml_fc_free(F.ser[i].fc[j]);
	}
	free(F.ser);
	for (ch = 0; ch < F.nx; ch++)
		free(F.xname[ch]);
	free(F.time_name);
	free(F.group_name);
	if (ctx_ok)
		ml_ctx_release(&ctx);
	cli_release(&F.cli);
	return rc;
}
