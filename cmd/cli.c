/* Common options, messages and exit codes for every command. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#include <cjson/cJSON.h>
#include <csv.h>
#include <zlib.h>

#ifndef ML_OPENBLAS_VERSION
#define ML_OPENBLAS_VERSION "unknown"
#endif

enum {
	O_HELP = CLI_OPT_BASE,
	O_VERSION,
	O_LIST,
	O_NA,
	O_NUM,
	O_CAT,
	O_SEED,
	O_FORCE,
	O_PRECISION,
	O_COMPRESS,
	O_OUTPUT,
	O_DELIM,
	O_NOHEADER,
	O_FORMAT,
	O_THREADS,
	O_QUIET,
	O_VERBOSE
};

/* The common options in --help order, grouped as in cli.h, each with its help line. */
static const struct common {
	unsigned bit;
	struct option opt;
	const char *arg; /* what the argument is, for --help */
	const char *help;
} common[] = {
	{CLI_DELIMITER, {"delimiter", required_argument, NULL, 'd'}, "C",
	 "input field delimiter (default: ',' or tab, detected)"},
	{CLI_NO_HEADER, {"no-header", no_argument, NULL, 'H'}, NULL,
	 "input has no header; columns are named c1..cN"},
	{CLI_NA, {"na", required_argument, NULL, O_NA}, "LIST",
	 "tokens read as missing\n(default: NA,N/A,NaN,nan,null,NULL,?)"},
	{CLI_NUM, {"num", required_argument, NULL, O_NUM}, "COLS", "read these columns as numbers"},
	{CLI_CAT, {"cat", required_argument, NULL, O_CAT}, "COLS", "read these columns as categories"},
	{CLI_OUTPUT_FILE, {"output", required_argument, NULL, 'o'}, "FILE",
	 "write to FILE (atomically) instead of standard output"},
	{CLI_FORMAT, {"format", required_argument, NULL, 'f'}, "FMT",
	 "output format: csv (default), tsv or stream"},
	{CLI_PRECISION, {"precision", required_argument, NULL, O_PRECISION}, "N",
	 "write numbers with N significant digits"},
	{CLI_COMPRESS, {"compress", required_argument, NULL, O_COMPRESS}, "N",
	 "zlib level 1-9 for stream blocks (default 0: none)"},
	{CLI_FORCE, {"force", no_argument, NULL, O_FORCE}, NULL,
	 "write a binary stream even to a terminal"},
	{CLI_THREADS, {"threads", required_argument, NULL, 'j'}, "N",
	 "worker threads (default: all cores); results never\ndepend on it"},
	{CLI_SEED, {"seed", required_argument, NULL, O_SEED}, "N", "random seed (default 42)"},
	{CLI_QUIET, {"quiet", no_argument, NULL, 'q'}, NULL, "no warnings or progress"},
	{CLI_VERBOSE, {"verbose", no_argument, NULL, 'v'}, NULL, "more detail on standard error"},
	{CLI_HELP, {"help", no_argument, NULL, 'h'}, NULL, "show this help and exit"},
	{CLI_VERSION, {"version", no_argument, NULL, 'V'}, NULL, "show the version and exit"},
	{CLI_LIST, {"list-options", no_argument, NULL, O_LIST}, NULL,
	 "list the long options, one a line, and exit"}};

#define NCOMMON (sizeof(common) / sizeof(common[0]))

/* What every command takes. */
#define CLI_ALWAYS (CLI_HELP | CLI_VERSION | CLI_LIST)

int cli_is_common(const char *name, unsigned set)
{
	size_t i;

	for (i = 0; i < NCOMMON; i++)
		if ((common[i].bit & (set | CLI_ALWAYS)) && strcmp(common[i].opt.name, name) == 0)
			return 1;
	return 0;
}

int cli_init(struct cli *c, const struct cli_cmd *cmd)
{
	size_t n = 0, m = 0, i, k;
	unsigned set = cmd->common | CLI_ALWAYS;
	const char *env;
	char *p;

	memset(c, 0, sizeof(*c));
	c->pg.t0 = cli_now();
	c->prog = cmd->prog;
	c->cmd = cmd;
	c->header = 1;
	c->threads = 0;
	c->format = ML_FMT_AUTO;
	env = (set & CLI_FORMAT) ? getenv("ML_FORMAT") : NULL;
	if (env && *env) {
		int f = ml_format_parse(env);
		if (f < 0)
			return cli_error(c, EX_USAGE_,
					 "ML_FORMAT: unknown format '%s' (csv, tsv or stream)", env);
		c->format = f;
	}
	while (cmd->own && cmd->own[n].name)
		n++;
	for (i = 0; i < NCOMMON; i++)
		m += (common[i].bit & set) != 0;
	c->longopts = calloc(n + m + 1, sizeof(*c->longopts));
	/* ':' first (a missing argument is reported as ':'), then two bytes a common option */
	c->shortopts = malloc(1 + strlen(cmd->own_short) + 2 * NCOMMON + 1);
	if (!c->longopts || !c->shortopts) {
		cli_release(c);
		return cli_error(c, EX_OSERR_, "out of memory");
	}
	for (i = 0; i < n; i++)
		c->longopts[i] = cmd->own[i];
	p = c->shortopts;
	*p++ = ':';
	memcpy(p, cmd->own_short, strlen(cmd->own_short));
	p += strlen(cmd->own_short);
	for (i = 0, k = n; i < NCOMMON; i++) {
		if (!(common[i].bit & set))
			continue;
		c->longopts[k++] = common[i].opt;
		if (common[i].opt.val < 256) {
			*p++ = (char)common[i].opt.val;
			if (common[i].opt.has_arg == required_argument)
				*p++ = ':';
		}
	}
	*p = 0;
	opterr = 0;
	return 0;
}

/* --help: the command's text around the lines of the common options it takes. */
static void print_help(const struct cli *c)
{
	const struct cli_cmd *cmd = c->cmd;
	unsigned set = cmd->common | CLI_ALWAYS;
	size_t i;

	fputs(cmd->usage, stdout);
	fputs("Common options:\n", stdout);
	for (i = 0; i < NCOMMON; i++) {
		const struct common *o = &common[i];
		const struct cli_help *h;
		const char *text = o->help;
		char head[64];
		int w;

		if (!(o->bit & set))
			continue;
		for (h = cmd->help; h && h->opt; h++)
			if (h->opt == o->bit)
				text = h->text;
		if (o->opt.val < 256)
			w = snprintf(head, sizeof(head), "  -%c, --%s%s%s", o->opt.val, o->opt.name,
				     o->arg ? "=" : "", o->arg ? o->arg : "");
		else
			w = snprintf(head, sizeof(head), "      --%s%s%s", o->opt.name,
				     o->arg ? "=" : "", o->arg ? o->arg : "");
		if (w > 24)
			printf("%s\n%25s", head, "");
		else
			printf("%-25s", head);
		for (; *text; text++) {
			putchar(*text);
			if (*text == '\n')
				printf("%25s", "");
		}
		putchar('\n');
	}
	fputs(cmd->usage_tail, stdout);
}

void cli_release(struct cli *c)
{
	free(c->longopts);
	free(c->shortopts);
	c->longopts = NULL;
	c->shortopts = NULL;
}

int cli_usage(const struct cli *c, const char *fmt, ...)
{
	va_list ap;

	cli_progress_clear((struct cli *)c);
	fprintf(stderr, "%s: ", c->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help' for more information.\n", c->prog);
	return EX_USAGE_;
}

int cli_error(const struct cli *c, int status, const char *fmt, ...)
{
	va_list ap;

	cli_progress_clear((struct cli *)c);
	fprintf(stderr, "%s: ", c->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return status;
}

void cli_warn(const struct cli *c, const char *fmt, ...)
{
	va_list ap;

	if (c->quiet)
		return;
	cli_progress_clear((struct cli *)c);
	fprintf(stderr, "%s: warning: ", c->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void cli_info(const struct cli *c, const char *fmt, ...)
{
	va_list ap;

	if (!c->verbose || c->quiet)
		return;
	cli_progress_clear((struct cli *)c);
	fprintf(stderr, "%s: ", c->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_fail(const struct cli *c, const struct ml_err *e)
{
	int status = ml_err_exit_status(e->code);

	if (status == EX_USAGE_)
		return cli_usage(c, "%s", e->msg);
	cli_progress_clear((struct cli *)c);
	fprintf(stderr, "%s: ", c->prog);
	if (e->where[0]) {
		fputs(e->where, stderr);
		if (e->line > 0)
			fprintf(stderr, ":%ld", e->line);
		fputs(": ", stderr);
	}
	fprintf(stderr, "%s\n", e->msg[0] ? e->msg : "failed");
	return status ? status : EX_SOFTWARE_;
}

static void print_version(const struct cli *c)
{
	printf("%s %s (libml %s; OpenBLAS %s; zlib %s; cJSON %d.%d.%d; libcsv %d.%d.%d)\n",
	       c->prog, ML_VERSION, ML_VERSION, ML_OPENBLAS_VERSION, zlibVersion(),
	       CJSON_VERSION_MAJOR, CJSON_VERSION_MINOR, CJSON_VERSION_PATCH, CSV_MAJOR,
	       CSV_MINOR, CSV_RELEASE);
}

static void list_options(const struct cli *c)
{
	const struct option *o;

	for (o = c->longopts; o->name; o++)
		printf("--%s%s\n", o->name, o->has_arg == required_argument ? "=" : "");
}

int cli_long(const struct cli *c, const char *opt, const char *arg, long lo, long hi, long *out)
{
	if (ml_parse_long(arg, lo, hi, out) != 0) {
		cli_usage(c, "invalid value '%s' for %s (a whole number from %ld to %ld)", arg, opt,
			  lo, hi);
		return -1;
	}
	return 0;
}

int cli_real(const struct cli *c, const char *opt, const char *arg, double lo, double hi,
	     double *out)
{
	if (ml_parse_real(arg, lo, hi, out) != 0) {
		cli_usage(c, "invalid value '%s' for %s (a number from %g to %g)", arg, opt, lo, hi);
		return -1;
	}
	return 0;
}

/* The option as the user wrote it, for messages. */
static const char *opt_text(int argc, char **argv)
{
	int i = optind - 1;
	if (i >= 0 && i < argc)
		return argv[i];
	return "?";
}

int cli_next(struct cli *c, int argc, char **argv, int *rc)
{
	for (;;) {
		int ch = getopt_long(argc, argv, c->shortopts, c->longopts, NULL);
		long v;

		switch (ch) {
		case -1:
			return -1;
		case '?':
			if (optopt && optopt < 256 && (unsigned char)optopt >= 32 &&
			    strncmp(opt_text(argc, argv), "--", 2) != 0)
				*rc = cli_usage(c, "invalid option -- '%c'", optopt);
			else
				*rc = cli_usage(c, "unrecognized option '%s'", opt_text(argc, argv));
			return CLI_DONE;
		case ':':
			if (optopt && optopt < 256 && strncmp(opt_text(argc, argv), "--", 2) != 0)
				*rc = cli_usage(c, "option requires an argument -- '%c'", optopt);
			else
				*rc = cli_usage(c, "option '%s' requires an argument",
						opt_text(argc, argv));
			return CLI_DONE;
		case 'h':
			print_help(c);
			*rc = 0;
			return CLI_DONE;
		case 'V':
			print_version(c);
			*rc = 0;
			return CLI_DONE;
		case O_LIST:
			list_options(c);
			*rc = 0;
			return CLI_DONE;
		case 'o':
			c->output = optarg;
			break;
		case 'd':
			if (strcmp(optarg, "\\t") == 0 || strcmp(optarg, "tab") == 0)
				c->delim = '\t';
			else if (strlen(optarg) == 1 && optarg[0] != '"' && optarg[0] != '\n' &&
				 optarg[0] != '\r')
				c->delim = (unsigned char)optarg[0];
			else {
				*rc = cli_usage(c, "invalid delimiter '%s' (one character, or 'tab')",
						optarg);
				return CLI_DONE;
			}
			break;
		case 'H':
			c->header = 0;
			break;
		case O_NA:
			c->na = optarg;
			break;
		case O_NUM:
			c->num = optarg;
			break;
		case O_CAT:
			c->cat = optarg;
			break;
		case 'f': {
			int f = ml_format_parse(optarg);
			if (f < 0) {
				*rc = cli_usage(c, "unknown format '%s' (csv, tsv or stream)", optarg);
				return CLI_DONE;
			}
			c->format = f;
			break;
		}
		case 'j':
			if (cli_long(c, "--threads", optarg, 0, 1024, &v) < 0) {
				*rc = EX_USAGE_;
				return CLI_DONE;
			}
			c->threads = (int)v;
			break;
		case O_SEED:
			if (ml_parse_u64(optarg, &c->seed) != 0) {
				*rc = cli_usage(c, "invalid value '%s' for --seed (a whole number >= 0)",
						optarg);
				return CLI_DONE;
			}
			c->seed_set = 1;
			break;
		case O_PRECISION:
			if (cli_long(c, "--precision", optarg, 1, 17, &v) < 0) {
				*rc = EX_USAGE_;
				return CLI_DONE;
			}
			c->precision = (int)v;
			break;
		case O_COMPRESS:
			if (cli_long(c, "--compress", optarg, 0, 9, &v) < 0) {
				*rc = EX_USAGE_;
				return CLI_DONE;
			}
			c->compress = (int)v;
			break;
		case O_FORCE:
			c->force = 1;
			break;
		case 'q':
			c->quiet = 1;
			break;
		case 'v':
			c->verbose = 1;
			break;
		default:
			return ch;
		}
	}
}

/* The readers' warnings, as the command's. */
static void read_warn(void *ud, int level, const char *msg)
{
	const struct cli *c = ud;

	if (level == ML_LOG_WARN)
		cli_warn(c, "%s", msg);
}

void cli_read_opts(const struct cli *c, struct ml_read_opts *o)
{
	ml_read_opts_init(o);
	o->log = read_warn;
	o->progress = cli_progress;
	o->log_ud = (void *)c;
	o->delim = c->delim;
	o->header = c->header;
	o->na = c->na;
	o->num_cols = c->num;
	o->cat_cols = c->cat;
	o->threads = c->threads;
}

void cli_write_opts(const struct cli *c, struct ml_write_opts *o)
{
	ml_write_opts_init(o);
	o->format = c->format == ML_FMT_AUTO ? ML_FMT_CSV : (enum ml_format)c->format;
	o->header = 1; /* -H is about the input: the output always names its columns */
	o->precision = c->precision;
	o->compress = c->compress;
}

const char *cli_output_name(const struct cli *c)
{
	return c->output && strcmp(c->output, "-") != 0 ? c->output : "<stdout>";
}

struct ml_output *cli_open_output(const struct cli *c, const char *path, int *rc)
{
	struct ml_err e;
	struct ml_output *o;

	ml_err_init(&e);
	if ((!path || strcmp(path, "-") == 0) && c->format == ML_FMT_STREAM && !c->force &&
	    isatty(STDOUT_FILENO)) {
		*rc = cli_usage(c, "refusing to write a binary stream to a terminal (use --force, "
				   "-o FILE or a pipe)");
		return NULL;
	}
	o = ml_output_open(path, &e);
	if (!o)
		*rc = cli_fail(c, &e);
	return o;
}

double cli_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void cli_progress_clear(struct cli *c)
{
	if (c->pg.showing) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		c->pg.showing = 0;
	}
}

/* "PROG: STAGE: BODY [ELAPSED]", unless one was drawn less than 0.1 s ago (final forces). */
static void progress_draw(struct cli *c, const char *body, int final)
{
	double at = cli_now();

	if (!c->pg.tty || (!final && c->pg.showing && at - c->pg.shown_at < 0.1))
		return;
	fprintf(stderr, "\r%s: %s%s%s [%.1f s]\033[K", c->prog, c->pg.stage,
		c->pg.stage[0] ? ": " : "", body, at - c->pg.t0);
	fflush(stderr);
	c->pg.showing = 1;
	c->pg.shown_at = at;
}

void cli_progress_text(struct cli *c, const char *msg)
{
	progress_draw(c, msg, 0);
}

void cli_progress_stage(struct cli *c, const char *fmt, ...)
{
	va_list ap;

	c->pg.stage[0] = 0;
	c->pg.unit[0] = 0;
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(c->pg.stage, sizeof(c->pg.stage), fmt, ap);
		va_end(ap);
	}
}

/* A duration as "42 s", "3 min 05 s" or "2 h 07 min". */
static void fmt_duration(char *buf, size_t n, double s)
{
	long t = (long)(s + 0.5);

	if (t < 60)
		snprintf(buf, n, "%ld s", t);
	else if (t < 3600)
		snprintf(buf, n, "%ld min %02ld s", t / 60, t % 60);
	else
		snprintf(buf, n, "%ld h %02ld min", t / 3600, t / 60 % 60);
}

static void fmt_count(char *buf, size_t n, double v)
{
	snprintf(buf, n, v == (double)(long long)v && v < 1e15 ? "%.0f" : "%.1f", v);
}

/* The rate is measured from the step's first report: a step is the run of reports with the
 * same unit and total and a count that does not go back. */
void cli_progress(void *ud, double done, double total, const char *unit, const char *msg)
{
	struct cli *c = ud;
	char body[640], d[32], tt[32], left[32];
	double at = cli_now(), r;
	size_t len;

	if (!c->pg.tty)
		return;
	if (strcmp(unit, c->pg.unit) != 0 || total != c->pg.total || done < c->pg.step_done) {
		snprintf(c->pg.unit, sizeof(c->pg.unit), "%s", unit);
		c->pg.total = total;
		c->pg.step_at = at;
		c->pg.step_done = done;
	}
	r = at - c->pg.step_at > 0.2 ? (done - c->pg.step_done) / (at - c->pg.step_at) : 0;
	fmt_count(d, sizeof(d), done);
	fmt_count(tt, sizeof(tt), total);
	snprintf(body, sizeof(body), "%s%s%s %s%s%s", d, total > 0 ? "/" : "", total > 0 ? tt : "",
		 unit, *msg ? " " : "", msg);
	if (r > 0) {
		len = strlen(body);
		snprintf(body + len, sizeof(body) - len, " (%.*f %s/s", r < 10 ? 2 : r < 100 ? 1 : 0,
			 r, unit);
		if (total > done) {
			fmt_duration(left, sizeof(left), (total - done) / r);
			len = strlen(body);
			snprintf(body + len, sizeof(body) - len, ", ETA %s", left);
		}
		len = strlen(body);
		snprintf(body + len, sizeof(body) - len, ")");
	}
	progress_draw(c, body, total > 0 && done >= total);
}

static void log_stderr(void *ud, int level, const char *msg)
{
	struct cli *c = ud;

	if (c->quiet)
		return;
	if (level == ML_LOG_PROGRESS) {
		cli_progress_text(c, msg);
		return;
	}
	if (level != ML_LOG_WARN && level != ML_LOG_INFO && !c->verbose)
		return;
	cli_progress_clear(c);
	fprintf(stderr, "%s: %s%s\n", c->prog, level == ML_LOG_WARN ? "warning: " : "", msg);
}

int cli_meta_merge(struct ml_model *m, struct cJSON *obj, struct ml_err *e)
{
	cJSON *it;
	int rc = 0;

	if (!obj)
		return ml_err_nomem(e);
	for (it = obj->child; it && rc == 0; it = it->next) {
		char *txt = cJSON_PrintUnformatted(it);
		rc = txt ? ml_model_meta_set(m, it->string, txt, e) : ml_err_nomem(e);
		free(txt);
	}
	cJSON_Delete(obj);
	return rc;
}

void cli_json_item(int *bad, cJSON *o, const char *key, cJSON *item)
{
	if (!item || !(key ? cJSON_AddItemToObject(o, key, item) : cJSON_AddItemToArray(o, item))) {
		cJSON_Delete(item);
		*bad = 1;
	}
}

void cli_json_num(int *bad, cJSON *o, const char *key, double v)
{
	cli_json_item(bad, o, key, cJSON_CreateNumber(v));
}

void cli_json_str(int *bad, cJSON *o, const char *key, const char *v)
{
	cli_json_item(bad, o, key, cJSON_CreateString(v));
}

int cli_commit(struct ml_output **const *o, int n, struct ml_err *e)
{
	int i, rc;

	for (i = 0; i < n; i++)
		if (*o[i] && (rc = ml_output_sync(*o[i], e)) < 0)
			return rc;
	for (i = 0; i < n; i++) {
		if (!*o[i])
			continue;
		rc = ml_output_commit(*o[i], e);
		*o[i] = NULL;
		if (rc < 0)
			return rc;
	}
	return 0;
}

int cli_write_model(struct ml_output *o, const struct ml_model *m, struct ml_err *e)
{
	unsigned char *buf;
	size_t len;
	int rc = ml_model_to_mem(m, &buf, &len, e);

	if (rc < 0)
		return rc;
	if (fwrite(buf, 1, len, ml_output_file(o)) != len)
		rc = ml_err_set(e, ML_E_IO, ml_output_name(o), 0, 0, "write error: %s",
				strerror(errno));
	free(buf);
	return rc;
}

long long cli_epoch(void)
{
	const char *env = getenv("SOURCE_DATE_EPOCH");
	char *end;
	unsigned long long v;

	if (!env || *env < '0' || *env > '9')
		return -1;
	errno = 0;
	v = strtoull(env, &end, 10);
	if (errno || *end || v > 253402300799ULL) /* 9999-12-31T23:59:59Z */
		return -1;
	return (long long)v;
}

int cli_stamp(struct ml_model *m, struct ml_err *e)
{
	long long t = cli_epoch();

	return t < 0 ? 0 : ml_model_set_created(m, t, e);
}

int cli_ctx(struct cli *c, struct ml_ctx *ctx)
{
	struct ml_err e;

	ml_err_init(&e);
	if (ml_ctx_init(ctx, c->threads, c->seed_set ? c->seed : 42, &e) < 0)
		return cli_fail(c, &e);
	ctx->log = log_stderr;
	ctx->on_progress = cli_progress;
	ctx->log_ud = c;
	c->pg.tty = !c->quiet && isatty(STDERR_FILENO);
	ctx->progress = c->pg.tty;
	return 0;
}
