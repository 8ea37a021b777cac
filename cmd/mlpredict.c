/* mlpredict: score rows with fitted artefacts applied in order, streaming. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ml/artefact.h"

const char cmd_name[] = "mlpredict";

static const char usage[] =
	"Usage: mlpredict -m ARTEFACT [-m ARTEFACT]... [OPTION]... [FILE]\n"
	"Score the rows of FILE (CSV, TSV, gzip or ml-stream; standard input when there is\n"
	"none, or for -) with the artefacts given, applied in order: feature pipelines, then\n"
	"a model. Columns bind by name; extra columns are ignored. Streams in constant memory.\n"
	"\n"
	"  -m, --model=ARTEFACT   an ml-model file to apply: feature pipelines (from\n"
	"                         mlfeat), then the model, last\n"
	"      --keep=COLS        copy these input columns to the output, first\n"
	"      --no-proba         classification: only the predicted label, no p_LABEL\n"
	"      --raw              margins (margin, or margin_LABEL per class) instead of\n"
	"                         probabilities; for regression the raw score as margin\n"
	"      --leaf             tree models: add leaf_1..leaf_T, the leaf each row reaches\n"
	"                         in each tree\n"
	"      --contrib          tree models: add contrib_FEATURE per feature and\n"
	"                         contrib_bias (TreeSHAP), summing to the margin\n"
	"      --std              regression with uncertainty: add pred_std, the predictive\n"
	"                         standard deviation\n"
	"      --level=L[,L..]    regression with uncertainty: add lo_L and hi_L, the bounds\n"
	"                         of the central L% prediction interval (Gaussian)\n"
	"      --alert-at=LEVEL   anomaly detectors: exit 1 when a row's severity reaches\n"
	"                         LEVEL (low, medium, high or critical), after writing\n"
	"                         every row\n"
	"      --explain          anomaly detectors and ensembles: add explain, the\n"
	"                         features that weigh most in each flagged row's score\n"
	"                         ('a;b;c')\n"
	"      --line-buffered    write each row's prediction as soon as its line is read\n"
	"                         (the default when standard input is a terminal)\n"
	"\n"
	"Output: the --keep columns, then pred (regression: the value; classification: the\n"
	"label) and p_LABEL for every class in the model's order; a model fitted without a\n"
	"target writes its own columns (an anomaly detector: score, anomaly, severity).\n"
	"\n";

static const char usage_tail[] =
	"\n"
	"COLS: names, 1-based indices, ranges (2-5) and !negation, comma-separated.\n"
	"Exit status: 0 success, 1 a row reached the --alert-at severity, 2 usage, 65 bad\n"
	"input data or artefact, 66 cannot open\n"
	"input, 70 internal error, 71 out of memory, 74 read/write error.\n"
	"Full documentation: man mlpredict\n";

enum {
	O_KEEP = 1,
	O_NOPROBA,
	O_RAW,
	O_LINEBUF,
	O_LEAF,
	O_CONTRIB,
	O_STD,
	O_LEVEL,
	O_ALERT_AT,
	O_EXPLAIN
};

static const struct option own[] = {{"model", required_argument, NULL, 'm'},
				    {"keep", required_argument, NULL, O_KEEP},
				    {"no-proba", no_argument, NULL, O_NOPROBA},
				    {"raw", no_argument, NULL, O_RAW},
				    {"line-buffered", no_argument, NULL, O_LINEBUF},
				    {"leaf", no_argument, NULL, O_LEAF},
				    {"contrib", no_argument, NULL, O_CONTRIB},
				    {"std", no_argument, NULL, O_STD},
				    {"level", required_argument, NULL, O_LEVEL},
				    {"alert-at", required_argument, NULL, O_ALERT_AT},
				    {"explain", no_argument, NULL, O_EXPLAIN},
				    {NULL, 0, NULL, 0}};

static const struct cli_help help[] = {
	{CLI_THREADS, "scoring threads (default: one per core); the output\nnever depends on it"},
	{CLI_QUIET, "no progress line (drawn on a terminal only)"},
	{0, NULL}};

/* Scoring draws nothing at random: no --seed; its one message besides errors is the
 * progress line, which -q silences. */
static const struct cli_cmd cmd = {"mlpredict", usage, usage_tail, own, "m:",
				   CLI_INPUT | CLI_OUTPUT | CLI_THREADS | CLI_QUIET, help};

struct pred {
	struct cli cli;
	const char *keep;
	struct ml_apply_opts opts;
	int linebuf;
	const char **path;	 /* the -m artefacts, in order */
	struct ml_artefact **art;
	int nart;
	struct ml_chain *chain;
	struct ml_pool *pool; /* scoring threads, or NULL */
	struct ml_writer *w;
	unsigned long long size, rows; /* the input's size (0: not known) and rows scored */
	const char *alert_at; /* --alert-at: the severity that makes a finding */
	int alert_col;	      /* its output column, and the level's code there */
	int32_t alert_code;
	int alerted;	      /* a row reached it */
};

/* The severities --alert-at takes, lowest first. */
static const char *const severities[] = {"low", "medium", "high", "critical", NULL};

/* --alert-at: the severity column of the output and the level's code in it. */
static int bind_alert(struct pred *p, const struct ml_schema *out, struct ml_err *e)
{
	int c = ml_schema_find(out, "severity");

	if (c < 0 || out->cols[c].type != ML_CAT)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "--alert-at: the model gives no severity (an anomaly "
				  "detector's does)");
	p->alert_col = c;
	p->alert_code = ml_dict_find(&out->cols[c].dict, p->alert_at, strlen(p->alert_at));
	if (p->alert_code < 0)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "--alert-at: the model has no severity '%s'", p->alert_at);
	return 0;
}

/* Whether a row of o reaches the --alert-at severity: the levels are in rising order. */
static void check_alert(struct pred *p, const struct ml_block *o)
{
	size_t i;

	if (!p->alert_at || p->alerted)
		return;
	for (i = 0; i < o->nrow; i++)
		if (o->col[p->alert_col].cat[i] >= p->alert_code) {
			p->alerted = 1;
			return;
		}
}

/* --level L,L,..: percentages strictly between 0 and 100, at most eight. */
static int parse_levels(struct pred *p, const char *arg)
{
	const char *s = arg;

	p->opts.nlevel = 0;
	for (;;) {
		const char *c = strchr(s, ',');
		size_t n = c ? (size_t)(c - s) : strlen(s);
		char buf[64];
		double v;
		if (n == 0 || n >= sizeof(buf) || p->opts.nlevel == 8)
			return cli_usage(&p->cli,
					 "invalid value '%s' for --level (up to 8 percentages, "
					 "comma-separated)",
					 arg);
		memcpy(buf, s, n);
		buf[n] = 0;
		if (ml_parse_real(buf, 0, 100, &v) != 0 || !(v > 0 && v < 100))
			return cli_usage(&p->cli,
					 "invalid value '%s' for --level (percentages between 0 "
					 "and 100)",
					 arg);
		p->opts.level[p->opts.nlevel++] = v;
		if (!c)
			return 0;
		s = c + 1;
	}
}

/* Load an artefact and check that mlpredict can apply it where it stands. */
static int load_artefact(struct pred *p, int i, struct ml_err *e)
{
	const char *path = p->path[i];
	struct ml_artefact *a = ml_artefact_load(path, e);
	unsigned f;

	if (!a)
		return e->code;
	p->art[i] = a;
	f = ml_artefact_flags(a);
	if (!(f & (ML_ARTEFACT_TRANSFORM | ML_ARTEFACT_FINAL))) {
		const char *kind = ml_artefact_kind(a);
		char q[80];
		return ml_err_set(e, ML_E_DATA, ml_artefact_name(a), 0, 0,
				  "cannot apply a '%s' artefact (mlpredict applies feature "
				  "pipelines and models)",
				  ml_err_quote(q, sizeof(q), kind, strlen(kind)));
	}
	if (ml_artefact_check(a, e) < 0)
		return e->code;
	if ((f & ML_ARTEFACT_FINAL) && i < p->nart - 1)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "-m %s: a model must be the last artefact",
				  path);
	if (!(f & ML_ARTEFACT_FINAL) && i == p->nart - 1)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "-m %s: a feature pipeline needs a model after it", path);
	return 0;
}

/* Apply the chain to rows [0, n) of b and write what comes out; off is how far into the
 * input b ends, for the progress line. */
static int score(struct pred *p, const struct ml_block *b, size_t n, unsigned long long off,
		 struct ml_err *e)
{
	const struct ml_block *o;
	int rc = ml_chain_apply(p->chain, b, 0, n, &o, e);
	char msg[64];

	if (rc == 0 && o->nrow) {
		check_alert(p, o);
		rc = ml_writer_write(p->w, o, 0, o->nrow, e);
	}
	if (rc == 0 && p->linebuf && o->nrow)
		rc = ml_writer_flush(p->w, e);
	p->rows += n;
	if (p->cli.pg.tty) {
		snprintf(msg, sizeof(msg), "scored, %llu rows", p->rows);
		if (p->size)
			cli_progress(&p->cli, (double)off / 1e6, (double)p->size / 1e6, "MB", msg);
		else
			cli_progress(&p->cli, (double)p->rows, 0, "rows", "scored");
	}
	return rc;
}

/* Reading and scoring side by side, for inputs of numbers only: a thread reads blocks
 * into two slots in turn while the caller scores the other slot, in the same order, so
 * the output is the same bytes. The reader's dictionaries, which a text column would
 * grow while the scorer reads them, are why text columns keep the plain loop. A block
 * holds at most AHEAD_CELLS values (ML_BLOCK_ROWS rows of up to 128 columns): wider
 * inputs are read in fewer rows a block, so that the two slots stay small. */
#define AHEAD_CELLS ((size_t)128 * ML_BLOCK_ROWS)

static size_t ahead_rows(const struct ml_schema *in)
{
	size_t n = AHEAD_CELLS / (size_t)(in->ncol > 0 ? in->ncol : 1);
	return n < 64 ? 64 : n > ML_BLOCK_ROWS ? ML_BLOCK_ROWS : n;
}

struct ahead {
	struct ml_reader *r;
	struct ml_block slot[2];
	unsigned long long off[2]; /* how far into the input each slot ends */
	int full[2];
	int done; /* the reader has stopped: rc 0 at the end of the input, < 0 on error */
	int stop; /* the scorer has failed: the reader stops */
	long rc;
	struct ml_err e;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

static int copy_block(struct ml_block *dst, const struct ml_block *src, struct ml_err *e)
{
	int j, rc;

	dst->nrow = 0;
	if ((rc = ml_block_reserve(dst, src->nrow ? src->nrow : 1, e)) < 0)
		return rc;
	for (j = 0; j < src->ncol; j++)
		memcpy(dst->col[j].num, src->col[j].num, src->nrow * sizeof(double));
	if (!src->line) {
		free(dst->line);
		dst->line = NULL;
	} else {
		if (!dst->line && !(dst->line = malloc(dst->cap * sizeof(long))))
			return ml_err_nomem(e);
		memcpy(dst->line, src->line, src->nrow * sizeof(long));
	}
	dst->nrow = src->nrow;
	return 0;
}

static void *read_ahead(void *arg)
{
	struct ahead *A = arg;
	int s = 0;

	for (;;) {
		const struct ml_block *b;
		long n = ml_reader_next(A->r, &b, &A->e), rc = n;
		pthread_mutex_lock(&A->mu);
		while (n > 0 && A->full[s] && !A->stop)
			pthread_cond_wait(&A->cv, &A->mu);
		pthread_mutex_unlock(&A->mu);
		if (n > 0 && !A->stop) {
			rc = copy_block(&A->slot[s], b, &A->e);
			A->off[s] = ml_reader_offset(A->r);
		}
		pthread_mutex_lock(&A->mu);
		if (n <= 0 || rc < 0 || A->stop) {
			A->rc = n <= 0 ? n : rc < 0 ? rc : 0;
			A->done = 1;
			pthread_cond_broadcast(&A->cv);
			pthread_mutex_unlock(&A->mu);
			return NULL;
		}
		A->full[s] = 1;
		pthread_cond_broadcast(&A->cv);
		pthread_mutex_unlock(&A->mu);
		s ^= 1;
	}
}

/* The scoring loop of run() with the reading ahead; 1 when it cannot start. */
static int run_ahead(struct pred *p, struct ml_reader *r, const struct ml_schema *in,
		     struct ml_err *e)
{
	struct ahead A;
	pthread_t th;
	int s = 0, rc = 0, k;
	size_t rows = ahead_rows(in);

	memset(&A, 0, sizeof(A));
	A.r = r;
	ml_err_init(&A.e);
	ml_reader_set_block_rows(r, rows);
	for (k = 0; k < 2; k++)
		if (ml_block_init(&A.slot[k], in, rows, &A.e) < 0) {
			ml_block_release(&A.slot[0]);
			return 1;
		}
	pthread_mutex_init(&A.mu, NULL);
	pthread_cond_init(&A.cv, NULL);
	if (pthread_create(&th, NULL, read_ahead, &A) != 0) {
		rc = 1;
		goto out;
	}
	for (;;) {
		struct ml_block *b = &A.slot[s];
		pthread_mutex_lock(&A.mu);
		while (!A.full[s] && !A.done)
			pthread_cond_wait(&A.cv, &A.mu);
		pthread_mutex_unlock(&A.mu);
		if (!A.full[s])
			break;
		if ((rc = score(p, b, b->nrow, A.off[s], e)) < 0) {
			if (!e->where[0] && e->line > 0)
				snprintf(e->where, sizeof(e->where), "%s", ml_reader_name(r));
			pthread_mutex_lock(&A.mu);
			A.stop = 1;
			pthread_cond_broadcast(&A.cv);
			pthread_mutex_unlock(&A.mu);
			break;
		}
		pthread_mutex_lock(&A.mu);
		A.full[s] = 0;
		pthread_cond_broadcast(&A.cv);
		pthread_mutex_unlock(&A.mu);
		s ^= 1;
	}
	pthread_join(th, NULL);
	if (rc == 0 && A.rc < 0) {
		*e = A.e;
		rc = (int)A.rc;
	}
out:
	pthread_mutex_destroy(&A.mu);
	pthread_cond_destroy(&A.cv);
	for (k = 0; k < 2; k++)
		ml_block_release(&A.slot[k]);
	return rc;
}

static int numbers_only(const struct ml_schema *s)
{
	int j;

	for (j = 0; j < s->ncol; j++)
		if (s->cols[j].type != ML_NUM)
			return 0;
	return 1;
}

static int run(struct pred *p, const char *path, FILE *fp, struct ml_err *e)
{
	struct ml_read_opts ro;
	struct ml_reader *r;
	struct ml_write_opts wo;
	struct ml_schema types;
	const struct ml_block *b;
	const struct ml_schema *in, *out;
	long n;
	int rc;

	cli_read_opts(&p->cli, &ro);
	/* The first artefact's columns take the types they had when it was fitted, whatever
	 * a few rows suggest. */
	ml_schema_init(&types);
	if ((rc = ml_chain_input_types(p->chain, &types, e)) < 0) {
		ml_schema_release(&types); /* the columns added before the failure */
		return rc;
	}
	ro.types = &types;
	/* The model types its own columns; the others (--keep) are typed as every command
	 * types them, from the first rows; line by line, from the first row. */
	if (p->linebuf) {
		ro.block_rows = 1;
		ro.infer_rows = 1;
	}
	r = ml_reader_open(path, &ro, e);
	ml_schema_release(&types);
	if (!r)
		return e->code;
	in = ml_reader_schema(r);
	p->size = ml_reader_size(r);
	p->cli.pg.tty = !p->cli.quiet && !p->linebuf && isatty(STDERR_FILENO);
	if ((rc = ml_chain_bind(p->chain, in, p->keep, &out, e)) < 0) {
		if (!e->where[0] && rc != ML_E_USAGE)
			snprintf(e->where, sizeof(e->where), "%s", ml_reader_name(r));
		goto out;
	}
	if (p->alert_at && (rc = bind_alert(p, out, e)) < 0)
		goto out;
	cli_write_opts(&p->cli, &wo);
	p->w = ml_writer_open(fp, cli_output_name(&p->cli), out, &wo, e);
	if (!p->w) {
		rc = e->code;
		goto out;
	}
	if (p->linebuf && (rc = ml_writer_flush(p->w, e)) < 0)
		goto out;
	n = 0;
	if (p->pool && !p->linebuf && numbers_only(in)) {
		rc = run_ahead(p, r, in, e);
		if (rc < 0)
			goto out;
		if (rc == 0)
			goto finish;
	}
	while ((n = ml_reader_next(r, &b, e)) > 0) {
		if ((rc = score(p, b, (size_t)n, ml_reader_offset(r), e)) < 0) {
			if (!e->where[0] && e->line > 0)
				snprintf(e->where, sizeof(e->where), "%s", ml_reader_name(r));
			goto out;
		}
	}
	if (n < 0) {
		rc = (int)n;
		goto out;
	}
finish:
	/* Rows the pipelines held back. */
	while ((rc = ml_chain_finish(p->chain, &b, e)) > 0) {
		check_alert(p, b);
		if (b->nrow && (rc = ml_writer_write(p->w, b, 0, b->nrow, e)) < 0)
			break;
	}
	if (rc < 0) {
		if (!e->where[0] && e->line > 0)
			snprintf(e->where, sizeof(e->where), "%s", ml_reader_name(r));
		goto out;
	}
	rc = ml_writer_finish(p->w, e);
	cli_progress_clear(&p->cli);
out:
	ml_reader_close(r);
	return rc;
}

int cmd_main(int argc, char **argv)
{
	struct pred p;
	struct ml_output *out = NULL;
	struct ml_err e;
	const char *input = NULL;
	int ch, rc = 0, i;

	memset(&p, 0, sizeof(p));
	ml_err_init(&e);
	ml_apply_opts_init(&p.opts);
	if ((rc = cli_init(&p.cli, &cmd)) != 0)
		return rc;
	p.path = calloc((size_t)argc, sizeof(*p.path));
	p.art = calloc((size_t)argc, sizeof(*p.art));
	if (!p.path || !p.art) {
		rc = cli_error(&p.cli, EX_OSERR_, "out of memory");
		goto done;
	}
	while ((ch = cli_next(&p.cli, argc, argv, &rc)) != -1) {
		switch (ch) {
		case CLI_DONE:
			goto done;
		case 'm':
			p.path[p.nart++] = optarg;
			break;
		case O_KEEP:
			p.keep = optarg;
			break;
		case O_NOPROBA:
			p.opts.proba = 0;
			break;
		case O_RAW:
			p.opts.margin = 1;
			break;
		case O_LINEBUF:
			p.linebuf = 1;
			break;
		case O_LEAF:
			p.opts.leaf = 1;
			break;
		case O_CONTRIB:
			p.opts.contrib = 1;
			break;
		case O_STD:
			p.opts.std = 1;
			break;
		case O_LEVEL:
			if ((rc = parse_levels(&p, optarg)) != 0)
				goto done;
			break;
		case O_EXPLAIN:
			p.opts.explain = 1;
			break;
		case O_ALERT_AT:
			for (i = 0; severities[i] && strcmp(severities[i], optarg) != 0; i++)
				;
			if (!severities[i]) {
				rc = cli_usage(&p.cli,
					       "invalid value '%s' for --alert-at (low, medium, high "
					       "or critical)",
					       optarg);
				goto done;
			}
			p.alert_at = severities[i];
			break;
		default:
			rc = cli_usage(&p.cli, "unrecognized option '%s'", argv[optind - 1]);
			goto done;
		}
	}
	if (p.nart == 0) {
		rc = cli_usage(&p.cli, "no artefact given (-m MODEL)");
		goto done;
	}
	if (argc - optind > 1) {
		rc = cli_usage(&p.cli, "one input FILE at a time");
		goto done;
	}
	if (argc - optind == 1)
		input = argv[optind];
	for (i = 0; i < p.nart; i++)
		if (strcmp(p.path[i], "-") == 0 && (!input || strcmp(input, "-") == 0)) {
			rc = cli_usage(&p.cli, "-m - and the rows cannot both come from standard input");
			goto done;
		}
	/* A person typing rows wants each answer at once. */
	if ((!input || strcmp(input, "-") == 0) && isatty(STDIN_FILENO))
		p.linebuf = 1;
	for (i = 0; i < p.nart; i++)
		if (load_artefact(&p, i, &e) < 0) {
			rc = cli_fail(&p.cli, &e);
			goto done;
		}
	if (!(p.chain = ml_chain_new((const struct ml_artefact *const *)p.art, p.nart, &p.opts,
				     &e))) {
		rc = cli_fail(&p.cli, &e);
		goto done;
	}
	/* Threads score a block's rows together; answering each row as it comes is one
	 * thread's work. */
	if (!p.linebuf && p.cli.threads != 1 && (p.pool = ml_pool_new(p.cli.threads)))
		ml_chain_set_pool(p.chain, p.pool);
	out = cli_open_output(&p.cli, p.cli.output, &rc);
	if (!out)
		goto done;
	if (run(&p, input, ml_output_file(out), &e) < 0) {
		rc = cli_fail(&p.cli, &e);
		goto done;
	}
	rc = ml_output_commit(out, &e);
	out = NULL;
	if (rc < 0)
		rc = cli_fail(&p.cli, &e);
	else if (p.alerted)
		rc = EX_FINDING;
done:
	if (out)
		ml_output_abort(out);
	ml_writer_free(p.w);
	ml_chain_free(p.chain);
	for (i = 0; i < p.nart; i++)
		ml_artefact_free(p.art[i]);
	ml_pool_free(p.pool);
	free(p.path);
	free(p.art);
	cli_release(&p.cli);
	return rc;
}
