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

/* Long-option codes of the common options start here; commands use values below it. */
#define CLI_OPT_BASE 1000

/* The common options, one bit each, in four groups. A command takes the groups, or the
 * single options, that have an effect for it; the others are unknown options to it. */
enum {
	/* input: how tables are read */
	CLI_DELIMITER = 1u << 0, /* -d, --delimiter */
	CLI_NO_HEADER = 1u << 1, /* -H, --no-header */
	CLI_NA = 1u << 2,	 /* --na */
	CLI_NUM = 1u << 3,	 /* --num */
	CLI_CAT = 1u << 4,	 /* --cat */
	/* output: where and how results are written */
	CLI_OUTPUT_FILE = 1u << 5, /* -o, --output */
	CLI_FORMAT = 1u << 6,	   /* -f, --format (and ML_FORMAT) */
	CLI_PRECISION = 1u << 7,   /* --precision */
	CLI_COMPRESS = 1u << 8,	   /* --compress */
	CLI_FORCE = 1u << 9,	   /* --force */
	/* run */
	CLI_THREADS = 1u << 10, /* -j, --threads */
	CLI_SEED = 1u << 11,	/* --seed */
	/* messages; every command takes -h, -V and --list-options */
	CLI_QUIET = 1u << 12,	/* -q, --quiet */
	CLI_VERBOSE = 1u << 13, /* -v, --verbose */
	CLI_HELP = 1u << 14,	/* -h, --help */
	CLI_VERSION = 1u << 15, /* -V, --version */
	CLI_LIST = 1u << 16	/* --list-options */
};
#define CLI_INPUT    (CLI_DELIMITER | CLI_NO_HEADER | CLI_NA | CLI_NUM | CLI_CAT)
#define CLI_OUTPUT   (CLI_OUTPUT_FILE | CLI_FORMAT | CLI_PRECISION | CLI_COMPRESS | CLI_FORCE)
#define CLI_RUN	     (CLI_THREADS | CLI_SEED)
#define CLI_MESSAGES (CLI_QUIET | CLI_VERBOSE | CLI_HELP | CLI_VERSION | CLI_LIST)

/* A command's own help line for a common option whose generic one would not say what
 * it does there. */
struct cli_help {
	unsigned opt;	  /* one CLI_* bit */
	const char *text; /* the help; a newline starts an indented continuation line */
};

/* What cli_init needs to know of a command. --help prints usage, then "Common options:"
 * with a line for each common option taken, then usage_tail. */
struct cli_cmd {
	const char *prog;
	const char *usage;	     /* from "Usage:" to the command's own options */
	const char *usage_tail;	     /* notes, exit status, the manual */
	const struct option *own;    /* its own long options, ended by a zero entry, or NULL */
	const char *own_short;	     /* its own short options ("" when none) */
	unsigned common;	     /* the CLI_* options it takes */
	const struct cli_help *help; /* ended by a zero entry, or NULL */
};

/* The progress line: one line on a terminal's stderr, redrawn in place at most ten times
 * a second, with the rate and the time left of the step being reported. */
struct cli_progress {
	int tty;           /* stderr is a terminal and -q was not given: lines are drawn */
	int showing;       /* a line is on the screen */
	double t0;         /* the command's start */
	double shown_at;   /* when the line was last drawn */
	double step_at;    /* the step's first report: when, at which count, and its total */
	double step_done, total;
	char unit[32];
	char stage[96];    /* what the step belongs to ("fold 2/5"), or "" */
};

struct cli {
	const char *prog;
	const struct cli_cmd *cmd;
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
	struct cli_progress pg;
};

/* Set up c for cmd (which must outlive c). Returns 0, or the exit status after printing
 * why: 71 out of memory, 2 a bad ML_FORMAT. */
int cli_init(struct cli *c, const struct cli_cmd *cmd);
void cli_release(struct cli *c);
/* Whether name is the long name of one of the common options in set. */
int cli_is_common(const char *name, unsigned set);
/* getopt_long over the merged table. Handles the common options itself and returns the
 * next command-specific option; returns -1 at the end of options, or CLI_DONE with *rc set
 * to the exit status when the command must stop (--help, --version, misuse). */
#define CLI_DONE (-2)
int cli_next(struct cli *c, int argc, char **argv, int *rc);

/* Seconds on a monotonic clock. */
double cli_now(void);
/* Progress (see struct cli_progress): the report of an ml_ctx (an ml_progress_fn whose ud
 * is the struct cli), a line of text as it is, the stage that later reports belong to
 * (NULL or "" for none; a new stage starts a new step), and the line taken off the screen
 * before other output. Nothing is drawn unless c->pg.tty. */
void cli_progress(void *ud, double done, double total, const char *unit, const char *msg);
void cli_progress_text(struct cli *c, const char *msg);
void cli_progress_stage(struct cli *c, const char *fmt, ...) ML_PRINTF(2, 3);
void cli_progress_clear(struct cli *c);

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
/* Add to a JSON object (key NULL: append to an array) and set *bad when that fails (out of
 * memory, or a NULL parent), so that a run of additions is checked once: a key lost to a
 * failed allocation would leave an artefact that says less than it should. cli_json_item
 * takes item (NULL sets *bad), and frees it when it cannot be added. */
void cli_json_num(int *bad, struct cJSON *o, const char *key, double v);
void cli_json_str(int *bad, struct cJSON *o, const char *key, const char *v);
void cli_json_item(int *bad, struct cJSON *o, const char *key, struct cJSON *item);
int cli_stamp(struct ml_model *m, struct ml_err *e);
/* Commit outputs that are written together: all are synced before any is renamed into
 * place, so that a write error leaves every target as it was. Each committed one is set
 * to NULL; NULL entries are skipped; on failure the rest stay open for their abort. */
struct ml_output;
int cli_commit(struct ml_output **const *o, int n, struct ml_err *e);
/* Write model m into the open output o (its bytes, as ml_model_save would); 0, or ML_E_IO
 * or ML_E_NOMEM with e set. For an artefact committed with the other outputs of a run. */
int cli_write_model(struct ml_output *o, const struct ml_model *m, struct ml_err *e);
/* SOURCE_DATE_EPOCH's seconds, or -1 when it holds none. */
long long cli_epoch(void);
/* Context from -j and --seed, with warnings and -v detail going to stderr. */
int cli_ctx(struct cli *c, struct ml_ctx *ctx);

/* The learner options mltrain and mlensemble --base share. cli_algo: the algorithm name
 * to a learner, or a usage error listing the names (opt: what to name first, or NULL).
 * cli_class_weight: --class-weight's value (balanced or none) into spec. cli_learner_spec:
 * a learner given as one text, "ALGO [--NAME VALUE | --NAME=VALUE]...", where NAME is one
 * of the algorithm's hyperparameters (as mltrain's options name them) or class-weight,
 * into spec (fresh from memset 0: params set, the rest left); opt names the option in
 * messages. Each returns 0, or prints the usage error and returns 2. */
const struct ml_algo *cli_algo(const struct cli *c, const char *opt, const char *name, int *rc);
int cli_class_weight(const struct cli *c, const char *arg, struct ml_train_spec *spec);
int cli_learner_spec(const struct cli *c, const char *opt, const char *text,
		     struct ml_train_spec *spec);

/* A feature pipeline given as one text, "--STEP ARG ... [--OPTION [VALUE]]...", with
 * mlfeat's step names and its fitting options (--unseen, --max-categories, --smoothing,
 * --folds, --missing-indicator, --time-col, --group-col, --cyclical, --squares,
 * --whiten), into spec (fresh from ml_feat_spec_init; its target is left to the caller).
 * *store gets what spec points into (free it, also on failure). Returns 0, or prints the
 * usage error and returns 2. */
struct ml_feat_spec;
int cli_feat_spec(const struct cli *c, const char *opt, const char *text,
		  struct ml_feat_spec *spec, void **store);

/* The command's entry point and its fixed name; main.c calls it. */
int cmd_main(int argc, char **argv);
extern const char cmd_name[];

#endif
