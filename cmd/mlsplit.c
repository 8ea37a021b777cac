/* mlsplit: split a table into train and test sets, or assign its rows to k folds. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ml/split.h"

const char cmd_name[] = "mlsplit";

static const char usage[] =
	"Usage: mlsplit [OPTION]... --train-out=FILE --test-out=FILE [FILE]\n"
	"  or:  mlsplit --kfold=K [OPTION]... [FILE]\n"
	"Split a table (CSV, TSV, gzip or ml-stream) into a train and a test table, or append\n"
	"a 'fold' column assigning each row to one of K folds. Rows are written unchanged, in\n"
	"input order. With no FILE, or when FILE is -, read standard input.\n"
	"\n"
	"      --test=T           test rows: a fraction in (0,1), ceil(T*rows), or a whole\n"
	"                         number of rows >= 1 (default 0.25)\n"
	"      --train-out=FILE   write the train rows to FILE (atomically)\n"
	"      --test-out=FILE    write the test rows to FILE (atomically)\n"
	"      --stratify=COL     keep the share of each class of COL on both sides\n"
	"      --group=COL        never split rows with the same value of COL\n"
	"      --time=COL         test the latest rows by COL (a number or ISO 8601 text)\n"
	"      --gap=N            with --time: drop the N rows before the test rows from train\n"
	"      --by-key=COL       decide each row by a hash of COL and the seed (streaming;\n"
	"                         the test fraction then holds on average only)\n"
	"      --kfold=K          append a 'fold' column (1..K; 0..K with --time) instead\n"
	"\n";

static const char usage_tail[] =
	"\n"
	"COL: a column name or 1-based index.\n"
	"Exit status: 0 success, 2 usage, 65 bad input data (including a split that cannot be\n"
	"made), 66 cannot open input, 70 internal error, 71 out of memory, 74 read/write error.\n"
	"Full documentation: man mlsplit\n";

enum {
	O_TEST = 1,
	O_TRAIN_OUT,
	O_TEST_OUT,
	O_STRATIFY,
	O_GROUP,
	O_TIME,
	O_GAP,
	O_BY_KEY,
	O_KFOLD
};

static const struct option own[] = {{"test", required_argument, NULL, O_TEST},
				    {"train-out", required_argument, NULL, O_TRAIN_OUT},
				    {"test-out", required_argument, NULL, O_TEST_OUT},
				    {"stratify", required_argument, NULL, O_STRATIFY},
				    {"group", required_argument, NULL, O_GROUP},
				    {"time", required_argument, NULL, O_TIME},
				    {"gap", required_argument, NULL, O_GAP},
				    {"by-key", required_argument, NULL, O_BY_KEY},
				    {"kfold", required_argument, NULL, O_KFOLD},
				    {NULL, 0, NULL, 0}};

static const struct cli_help help[] = {
	{CLI_OUTPUT_FILE, "with --kfold: write to FILE (atomically) instead\nof standard output"},
	{CLI_QUIET, "no warnings"},
	{CLI_VERBOSE, "print the sizes on standard error"},
	{0, NULL}};

static const struct cli_cmd cmd = {"mlsplit", usage, usage_tail, own, "",
				   CLI_INPUT | CLI_OUTPUT | CLI_RUN | CLI_MESSAGES, help};

/* One output table: its file, writer and a block of rows waiting to be written. */
struct sink {
	struct ml_output *out;
	struct ml_writer *w;
	struct ml_block stage;
	int staged; /* stage allocated */
	unsigned long long rows;
};

struct split {
	struct cli cli;
	struct ml_split_opts so;
	const char *test_arg;
	const char *mode_opt; /* the option that chose the mode */
	const char *col_arg;
	long gap;
	int gap_set;
	long k; /* 0: train/test */
	const char *train_out, *test_out;
	const char *input, *name;
	struct ml_schema out; /* the output schema: the input's, plus 'fold' with --kfold */
	struct sink sk[2];    /* train, test; with --kfold only sk[0] */
};

/* --test: a whole number of rows, or a fraction. */
static int parse_test(struct split *s, const char *arg)
{
	long n;
	double f;

	if (ml_parse_long(arg, 1, LONG_MAX, &n) == 0) {
		s->so.test = (double)n;
		return 0;
	}
	if (ml_parse_real(arg, 0, 1, &f) == 0 && f > 0 && f < 1) {
		s->so.test = f;
		return 0;
	}
	cli_usage(&s->cli,
		  "invalid value '%s' for --test (a fraction between 0 and 1, or a whole number "
		  "of rows >= 1)",
		  arg);
	return -1;
}

static int set_mode(struct split *s, const char *opt, enum ml_split_mode m, const char *arg)
{
	if (s->mode_opt) {
		cli_usage(&s->cli, "%s and %s cannot be combined", s->mode_opt, opt);
		return -1;
	}
	s->mode_opt = opt;
	s->so.mode = m;
	s->col_arg = arg;
	return 0;
}

/* The column the mode option names. Prints the message itself. */
static int find_col(struct split *s, const struct ml_schema *sc)
{
	struct ml_err e;
	int *idx = NULL, n;
	char q[128];

	ml_err_init(&e);
	n = ml_schema_find_or_suggest(sc, s->col_arg, s->mode_opt, s->name, &idx, &e);
	if (n < 0) {
		if (n == ML_E_USAGE)
			return cli_usage(&s->cli, "%s: %s", s->mode_opt, e.msg);
		return cli_fail(&s->cli, &e);
	}
	if (n != 1) {
		free(idx);
		return cli_usage(&s->cli, "%s takes one column, not '%s'", s->mode_opt,
				 ml_err_quote(q, 100, s->col_arg, strlen(s->col_arg)));
	}
	s->so.col = idx[0];
	free(idx);
	return 0;
}

/* Library errors about the data name the input. */
static int fail(struct split *s, struct ml_err *e)
{
	if (!e->where[0] && e->code != ML_E_USAGE && e->code != ML_E_NOMEM)
		ml_err_quote(e->where, sizeof(e->where), s->name, strlen(s->name));
	return cli_fail(&s->cli, e);
}

/* The output schema: a copy of the input's, plus the fold column. */
static int make_schema(struct split *s, const struct ml_schema *in, struct ml_err *e)
{
	int rc;

	if ((rc = ml_schema_copy(&s->out, in)) < 0)
		return ml_err_nomem(e);
	if (s->k) {
		if (ml_schema_find(in, "fold") >= 0)
			return ml_err_set(e, ML_E_DATA, s->name, 0, 0,
					  "the input already has a column named 'fold'");
		if (ml_schema_add(&s->out, "fold", ML_NUM) < 0)
			return ml_err_nomem(e);
	}
	return 0;
}

/* Dictionaries of a streamed input grow: give the output the new entries, same codes. */
static int sync_dicts(struct split *s, const struct ml_schema *in, struct ml_err *e)
{
	int j;

	for (j = 0; j < in->ncol; j++) {
		struct ml_dict *d = &s->out.cols[j].dict;
		const struct ml_dict *src = &in->cols[j].dict;
		if (in->cols[j].type != ML_CAT)
			continue;
		while (d->n < src->n) {
			int32_t c = ml_dict_intern(d, src->str[d->n], src->len[d->n]);
			if (c < 0)
				return c == ML_E_NOMEM ? ml_err_nomem(e) :
					ml_err_set(e, ML_E_DATA, s->name, 0, 0,
						   "too many categories in column '%s'", in->cols[j].name);
		}
	}
	return 0;
}

static int sink_open(struct split *s, struct sink *k, const char *path, int *rc,
		     struct ml_err *e)
{
	struct ml_write_opts wo;

	k->out = cli_open_output(&s->cli, path, rc);
	if (!k->out)
		return -1;
	cli_write_opts(&s->cli, &wo);
	k->w = ml_writer_open(ml_output_file(k->out), ml_output_name(k->out), &s->out, &wo, e);
	if (!k->w || ml_block_init(&k->stage, &s->out, ML_BLOCK_ROWS, e) < 0) {
		*rc = cli_fail(&s->cli, e);
		return -1;
	}
	k->staged = 1;
	return 0;
}

static int sink_flush(struct sink *k, struct ml_err *e)
{
	int rc = 0;

	if (k->stage.nrow)
		rc = ml_writer_write(k->w, &k->stage, 0, k->stage.nrow, e);
	k->stage.nrow = 0;
	return rc;
}

/* Append row i of b (and the fold, with --kfold) to the sink. */
static int sink_put(struct sink *k, const struct ml_block *b, size_t i, double fold,
		    struct ml_err *e)
{
	struct ml_block *st = &k->stage;
	size_t at;
	int j, rc;

	if (st->nrow == st->cap && (rc = sink_flush(k, e)) < 0)
		return rc;
	at = st->nrow;
	for (j = 0; j < b->ncol; j++) {
		if (b->schema->cols[j].type == ML_NUM)
			st->col[j].num[at] = b->col[j].num[i];
		else
			st->col[j].cat[at] = b->col[j].cat[i];
	}
	if (st->ncol > b->ncol)
		st->col[b->ncol].num[at] = fold;
	st->nrow++;
	k->rows++;
	return 0;
}

static int sink_finish(struct sink *k, struct ml_err *e)
{
	int rc;

	if ((rc = sink_flush(k, e)) < 0)
		return rc;
	return ml_writer_finish(k->w, e);
}

/* Commit the open outputs together; any failure aborts the rest. */
static int commit_all(struct split *s, struct ml_err *e)
{
	int i, rc = cli_commit((struct ml_output **[]){&s->sk[0].out, &s->sk[1].out}, 2, e);

	for (i = 0; i < 2; i++) {
		ml_output_abort(s->sk[i].out);
		s->sk[i].out = NULL;
	}
	return rc;
}

/* Write the rows of b to their sides (side) or with their folds (fold). */
static int write_rows(struct split *s, const struct ml_block *b, const unsigned char *side,
		      const int32_t *fold, struct ml_err *e)
{
	size_t i;
	int rc;

	for (i = 0; i < b->nrow; i++) {
		if (fold)
			rc = sink_put(&s->sk[0], b, i, (double)fold[i], e);
		else if (side[i] == ML_SIDE_GAP)
			continue;
		else
			rc = sink_put(&s->sk[side[i] == ML_SIDE_TEST], b, i, NAN, e);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int open_outputs(struct split *s, int *rc, struct ml_err *e)
{
	if (s->k)
		return sink_open(s, &s->sk[0], s->cli.output, rc, e);
	if (sink_open(s, &s->sk[0], s->train_out, rc, e) < 0)
		return -1;
	return sink_open(s, &s->sk[1], s->test_out, rc, e);
}

static void report(struct split *s, const struct ml_split_info *in)
{
	if (s->k) {
		cli_info(&s->cli, "%zu rows in %ld folds of %zu to %zu rows", in->n, s->k,
			 in->fold_min, in->fold_max);
		return;
	}
	cli_info(&s->cli, "%zu rows: %zu train, %zu test (%zu asked for)", in->n, in->ntrain,
		 in->ntest, in->target);
	if (in->ngap)
		cli_info(&s->cli, "%zu rows dropped by the gap", in->ngap);
}

/* Every mode but --by-key: all rows in memory. */
static int run_frame(struct split *s)
{
	struct ml_frame f;
	struct ml_read_opts ro;
	struct ml_split_info info;
	struct ml_err e;
	unsigned char *side = NULL;
	int32_t *fold = NULL;
	int rc = 0, r;
	char q[128];

	ml_err_init(&e);
	ml_frame_init(&f);
	cli_read_opts(&s->cli, &ro);
	if (ml_frame_read(&f, s->input, &ro, &e) < 0) {
		rc = cli_fail(&s->cli, &e);
		goto out;
	}
	if (s->so.mode != ML_SPLIT_RANDOM && (rc = find_col(s, &f.schema)) != 0)
		goto out;
	if (s->k) {
		fold = malloc((f.rows.nrow ? f.rows.nrow : 1) * sizeof(*fold));
		if (!fold) {
			ml_err_nomem(&e);
			rc = cli_fail(&s->cli, &e);
			goto out;
		}
		r = ml_kfold(&f.rows, &s->so, (int)s->k, fold, &info, &e);
	} else {
		side = malloc(f.rows.nrow ? f.rows.nrow : 1);
		if (!side) {
			ml_err_nomem(&e);
			rc = cli_fail(&s->cli, &e);
			goto out;
		}
		r = ml_split(&f.rows, &s->so, side, &info, &e);
	}
	if (r < 0) {
		rc = fail(s, &e);
		goto out;
	}
	if (s->k && s->so.mode == ML_SPLIT_STRATIFY && info.min_count < (size_t)s->k) {
		const char *cn = f.schema.cols[s->so.col].name;
		cli_warn(&s->cli,
			 "the least populated class of '%s' has only %zu row%s, fewer than the %ld "
			 "folds",
			 ml_err_quote(q, 100, cn, strlen(cn)), info.min_count,
			 info.min_count == 1 ? "" : "s", s->k);
	}
	report(s, &info);
	if (make_schema(s, &f.schema, &e) < 0) {
		rc = cli_fail(&s->cli, &e);
		goto out;
	}
	if (open_outputs(s, &rc, &e) < 0)
		goto out;
	if (write_rows(s, &f.rows, side, fold, &e) < 0 || sink_finish(&s->sk[0], &e) < 0 ||
	    (!s->k && sink_finish(&s->sk[1], &e) < 0) || commit_all(s, &e) < 0) {
		rc = cli_fail(&s->cli, &e);
		goto out;
	}
out:
	free(side);
	free(fold);
	ml_frame_release(&f);
	return rc;
}

/* --by-key: block by block in constant memory. */
static int run_stream(struct split *s)
{
	struct ml_read_opts ro;
	struct ml_reader *rd;
	const struct ml_block *b;
	struct ml_err e;
	unsigned char *side = NULL;
	int32_t *fold = NULL;
	unsigned long long *cnt = NULL, total = 0;
	size_t cap = 0;
	long n;
	int rc = 0, j;

	ml_err_init(&e);
	cli_read_opts(&s->cli, &ro);
	rd = ml_reader_open(s->input, &ro, &e);
	if (!rd)
		return cli_fail(&s->cli, &e);
	if ((rc = find_col(s, ml_reader_schema(rd))) != 0)
		goto out;
	cnt = calloc((size_t)(s->k ? s->k : 1) + 1, sizeof(*cnt));
	if (!cnt)
		goto nomem;
	if (make_schema(s, ml_reader_schema(rd), &e) < 0) {
		rc = cli_fail(&s->cli, &e);
		goto out;
	}
	if (open_outputs(s, &rc, &e) < 0)
		goto out;
	while ((n = ml_reader_next(rd, &b, &e)) > 0) {
		size_t i;
		if ((size_t)n > cap) {
			unsigned char *ns = realloc(side, (size_t)n);
			int32_t *nf;
			if (ns)
				side = ns;
			nf = realloc(fold, (size_t)n * sizeof(*fold));
			if (nf)
				fold = nf;
			if (!ns || !nf)
				goto nomem;
			cap = (size_t)n;
		}
		if (sync_dicts(s, ml_reader_schema(rd), &e) < 0)
			goto data;
		if (s->k ? ml_kfold(b, &s->so, (int)s->k, fold, NULL, &e) < 0 :
			   ml_split(b, &s->so, side, NULL, &e) < 0)
			goto data;
		for (i = 0; i < (size_t)n; i++)
			cnt[s->k ? (size_t)fold[i] : side[i]]++;
		if (write_rows(s, b, side, s->k ? fold : NULL, &e) < 0)
			goto data;
		total += (unsigned long long)n;
	}
	if (n < 0)
		goto data;
	if (total == 0) {
		ml_err_set(&e, ML_E_DATA, NULL, 0, 0, "no rows to split");
		goto data;
	}
	for (j = s->k ? 1 : 0; j <= (s->k ? (int)s->k : 1); j++)
		if (cnt[j] == 0) {
			if (s->k)
				ml_err_set(&e, ML_E_DATA, NULL, 0, 0,
					   "fold %d has no rows: with --by-key fold sizes are equal "
					   "only on average",
					   j);
			else
				ml_err_set(&e, ML_E_DATA, NULL, 0, 0,
					   "the %s set would be empty: with --by-key the test fraction "
					   "holds only on average (%llu rows)",
					   j ? "test" : "train", total);
			goto data;
		}
	if (s->k)
		cli_info(&s->cli, "%llu rows in %ld folds", total, s->k);
	else
		cli_info(&s->cli, "%llu rows: %llu train, %llu test", total, cnt[0], cnt[1]);
	if (sink_finish(&s->sk[0], &e) < 0 || (!s->k && sink_finish(&s->sk[1], &e) < 0) ||
	    commit_all(s, &e) < 0) {
		rc = cli_fail(&s->cli, &e);
		goto out;
	}
	goto out;
nomem:
	ml_err_nomem(&e);
data:
	rc = fail(s, &e);
out:
	free(side);
	free(fold);
	free(cnt);
	ml_reader_close(rd);
	return rc;
}

int cmd_main(int argc, char **argv)
{
	struct split s;
	int ch, rc = 0, i, nfiles;
	long v;

	memset(&s, 0, sizeof(s));
	ml_split_opts_init(&s.so);
	if ((rc = cli_init(&s.cli, &cmd)) != 0)
		return rc;
	while ((ch = cli_next(&s.cli, argc, argv, &rc)) != -1) {
		switch (ch) {
		case CLI_DONE:
			goto done;
		case O_TEST:
			if (parse_test(&s, optarg) < 0) {
				rc = EX_USAGE_;
				goto done;
			}
			s.test_arg = optarg;
			break;
		case O_TRAIN_OUT:
			s.train_out = optarg;
			break;
		case O_TEST_OUT:
			s.test_out = optarg;
			break;
		case O_STRATIFY:
		case O_GROUP:
		case O_TIME:
		case O_BY_KEY: {
			static const char *const names[] = {"", "", "", "", "--stratify", "--group",
							    "--time", "", "--by-key"};
			static const enum ml_split_mode modes[] = {0, 0, 0, 0, ML_SPLIT_STRATIFY,
								   ML_SPLIT_GROUP, ML_SPLIT_TIME, 0,
								   ML_SPLIT_KEY};
			if (set_mode(&s, names[ch], modes[ch], optarg) < 0) {
				rc = EX_USAGE_;
				goto done;
			}
			break;
		}
		case O_GAP:
			if (cli_long(&s.cli, "--gap", optarg, 0, LONG_MAX, &v) < 0) {
				rc = EX_USAGE_;
				goto done;
			}
			s.gap = v;
			s.gap_set = 1;
			break;
		case O_KFOLD:
			if (cli_long(&s.cli, "--kfold", optarg, 2, INT32_MAX, &v) < 0) {
				rc = EX_USAGE_;
				goto done;
			}
			s.k = v;
			break;
		default:
			rc = cli_usage(&s.cli, "unrecognized option '%s'", argv[optind - 1]);
			goto done;
		}
	}
	nfiles = argc - optind;
	if (nfiles > 1) {
		rc = cli_usage(&s.cli, "one input at most, not %d ('%s' and '%s' ...)", nfiles,
			       argv[optind], argv[optind + 1]);
		goto done;
	}
	s.input = nfiles ? argv[optind] : "-";
	s.name = strcmp(s.input, "-") == 0 ? "<stdin>" : s.input;
	if (s.gap_set && s.so.mode != ML_SPLIT_TIME) {
		rc = cli_usage(&s.cli, "--gap needs --time");
		goto done;
	}
	if (s.k) {
		const char *bad = s.train_out ? "--train-out" : s.test_out ? "--test-out" :
			s.test_arg ? "--test" : s.gap_set ? "--gap" : NULL;
		if (bad) {
			rc = cli_usage(&s.cli, "%s cannot be combined with --kfold", bad);
			goto done;
		}
	} else {
		if (!s.train_out || !s.test_out) {
			rc = cli_usage(&s.cli, "missing %s (or use --kfold)",
				       !s.train_out ? "--train-out=FILE" : "--test-out=FILE");
			goto done;
		}
		if (s.cli.output) {
			rc = cli_usage(&s.cli, "--output applies to --kfold; use --train-out and "
					       "--test-out");
			goto done;
		}
		if (strcmp(s.train_out, s.test_out) == 0) {
			rc = cli_usage(&s.cli, "--train-out and --test-out are the same file '%s'",
				       s.train_out);
			goto done;
		}
		if (s.so.mode == ML_SPLIT_KEY && s.so.test >= 1) {
			rc = cli_usage(&s.cli, "--by-key needs --test as a fraction: a row count "
					       "cannot be met while streaming");
			goto done;
		}
	}
	s.so.gap = (size_t)s.gap;
	s.so.seed = s.cli.seed_set ? s.cli.seed : 42;
	rc = s.so.mode == ML_SPLIT_KEY ? run_stream(&s) : run_frame(&s);
done:
	for (i = 0; i < 2; i++) {
		if (s.sk[i].out)
			ml_output_abort(s.sk[i].out);
		ml_writer_free(s.sk[i].w);
		if (s.sk[i].staged)
			ml_block_release(&s.sk[i].stage);
	}
	ml_schema_release(&s.out);
	cli_release(&s.cli);
	return rc;
}
