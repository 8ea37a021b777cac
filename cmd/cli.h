/* What only the commands share: common options, messages, exit codes, inputs and outputs. */
#ifndef ML_CLI_H
#define ML_CLI_H

#include <getopt.h>
#include <stdio.h>

#include "ml/ml.h"

/* Exit statuses (sysexits.h), the same in every man page. */
enum {
	EX_OK_ = 0,
	EX_FINDING = 1,
	EX_USAGE_ = 2,
	EX_DATA = 65,
	EX_NOINPUT_ = 66,
	EX_SOFTWARE_ = 70,
	EX_OSERR_ = 71,
	EX_IOERR_ = 74
};

/* Long-option codes of the common block start here; commands use values below it. */
#define CLI_OPT_BASE 1000

struct cli {
	const char *prog;
	const char *usage; /* the --help text */
	const char *output;
	int delim;
	int header;
	const char *na, *num, *cat;
	int format; /* ML_FMT_*; AUTO: csv, or ML_FORMAT */
	int threads;
	unsigned long long seed;
	int seed_set;
	int quiet, verbose, force;
	int precision;
	int compress;
	struct option *longopts; /* the merged table */
	char *shortopts;
};

/* Set up c for prog with its --help text and its own options (terminated by a zero
 * entry) and short options ("" when none). */
int cli_init(struct cli *c, const char *prog, const char *usage, const struct option *own,
	     const char *own_short);
void cli_release(struct cli *c);
/* getopt_long over the merged table. Handles the common options itself and returns the
 * next command-specific option; returns -1 at the end of options, or CLI_DONE with *rc set
 * to the exit status when the command must stop (--help, --version, misuse). */
#define CLI_DONE (-2)
int cli_next(struct cli *c, int argc, char **argv, int *rc);

/* Misuse: print "prog: MSG" and "Try 'prog --help' ..." to stderr; returns 2. */
int cli_usage(const struct cli *c, const char *fmt, ...) ML_PRINTF(2, 3);
/* A failed library call: print "prog: where:line: msg"; returns the exit status. */
int cli_fail(const struct cli *c, const struct ml_err *e);
/* "prog: MSG" to stderr (a warning; silent with -q). */
void cli_warn(const struct cli *c, const char *fmt, ...) ML_PRINTF(2, 3);
/* "prog: MSG" to stderr when -v was given. */
void cli_info(const struct cli *c, const char *fmt, ...) ML_PRINTF(2, 3);
/* An error that is not an ml_err: print "prog: MSG"; returns status. */
int cli_error(const struct cli *c, int status, const char *fmt, ...) ML_PRINTF(3, 4);

/* Reader and writer options from the common ones. */
void cli_read_opts(const struct cli *c, struct ml_read_opts *o);
void cli_write_opts(const struct cli *c, struct ml_write_opts *o);
/* Open the -o output (stdout by default); refuses binary output to a terminal without
 * --force. Returns NULL with the message printed and *rc set. */
struct ml_output *cli_open_output(const struct cli *c, const char *path, int *rc);
/* The name of the -o output for messages: the path, or "<stdout>". */
const char *cli_output_name(const struct cli *c);
/* Parse a checked number option; prints the usage error itself. */
int cli_long(const struct cli *c, const char *opt, const char *arg, long lo, long hi, long *out);
int cli_real(const struct cli *c, const char *opt, const char *arg, double lo, double hi,
	     double *out);
/* Metadata for an artefact the command writes: every key of obj (a cJSON object, taken
 * and freed here) set in m, in order; and the creation time from SOURCE_DATE_EPOCH when
 * it holds a count of seconds (reproducible-builds.org), else now. */
struct cJSON;
int cli_meta_merge(struct ml_model *m, struct cJSON *obj, struct ml_err *e);
int cli_stamp(struct ml_model *m, struct ml_err *e);
/* Context from -j and --seed, with warnings and -v detail going to stderr. */
int cli_ctx(struct cli *c, struct ml_ctx *ctx);

/* The command's entry point and its fixed name; main.c calls it. */
int cmd_main(int argc, char **argv);
extern const char cmd_name[];

#endif
