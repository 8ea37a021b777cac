/* mlfeat: fit a feature pipeline and write the transformed rows, or replay a saved one. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "ml/artefact.h"
#include "ml/fingerprint.h"
#include "ml/feat.h"

const char cmd_name[] = "mlfeat";

static const char usage[] =
    "Usage: mlfeat [--save FILE] [-t COL] [--keep COLS] STEP... [OPTION]... [FILE]\n"
    "  or:  mlfeat --load FILE [OPTION]... [FILE]\n"
    "Fit feature steps on the rows of FILE (CSV, TSV, gzip or ml-stream; standard input\n"
    "when there is none, or for -) and write the transformed rows; --save stores what was\n"
    "learnt, and --load replays it on new rows, binding columns by name.\n"
    "\n"
    "Steps run in the order given. COLS left out: every numeric column for a numeric step,\n"
    "every categorical one for an encoder, but not the --keep columns or the target.\n"
    "      --impute=METHOD[:COLS]  mean, median, mode, constant=V, ffill or interpolate\n"
    "      --scale=METHOD[:COLS]   standard, minmax, robust or maxabs\n"
    "      --log=COLS              log1p (values <= -1 become missing)\n"
    "      --power=METHOD[:COLS]   yeo-johnson or box-cox, then standardised\n"
    "      --clip=LOW,HIGH[:COLS]  clip to the LOW and HIGH quantiles\n"
    "      --onehot=COLS           a col=value column per value\n"
    "      --ordinal=COLS          the value's rank in byte order\n"
    "      --frequency=COLS        the value's share of the rows\n"
    "      --target-encode=COLS    the smoothed mean of the target (cross-fitted)\n"
    "      --hash=COLS:BITS        2^BITS hashed indicator columns\n"
    "      --datetime=COL[:PARTS]  hour, minute, dow, day, week, month, quarter, year,\n"
    "                              doy, is_weekend\n"
    "      --interactions=COLS     pairwise products\n"
    "      --rolling=COL:WINDOW:FUNCS  mean, std, min, max, sum, count, trend over the\n"
    "                              previous WINDOW rows (12) or time (5m, 1h, 1d)\n"
    "      --lag=COL:K[,K...]      the value K rows before, in the group\n"
    "      --select=METHOD[:COLS]  variance:T, kbest:K:f|chi2|mi, rfe:K or boruta\n"
    "      --pca=N|FRACTION[:COLS] principal component scores pc1..pcN\n"
    "      --text=COL[:BITS]       hashed word and bigram TF-IDF (BITS 1-12, default 8)\n"
    "      --embed=MODEL           an autoencoder's bottleneck as emb_1..emb_K\n"
    "COLS may be 'all' for the default columns.\n"
    "\n"
    "Fitting and replaying:\n"
    "      --save=FILE            write the fitted pipeline to FILE (ml-model)\n"
    "      --load=FILE            replay the pipeline in FILE\n"
    "  -t, --target=COL           the label: passed through; supervised steps learn it\n"
    "      --keep=COLS            pass these columns through untouched\n"
    "      --extra=pass|drop      --load: columns the pipeline was not fitted on are\n"
    "                             dropped (default) or passed through at the end\n"
    "      --unseen=RULE          an encoder meets a new category: ignore (default),\n"
    "                             error or other\n"
    "      --max-categories=N     --onehot: at most N columns per column, the rarest\n"
    "                             values folded into col=other\n"
    "      --smoothing=auto|M     --target-encode: empirical Bayes (default) or m\n"
    "      --folds=K              --target-encode: cross-fitting folds (default 5)\n"
    "      --missing-indicator    --impute: add COL_missing for columns with gaps\n"
    "      --time-col=COL         row time for --rolling, --lag and interpolation\n"
    "      --group-col=COL        --rolling, --lag, ffill and interpolation per group\n"
    "      --cyclical             --datetime: sin and cos of the periodic parts\n"
    "      --squares              --interactions: squares too\n"
    "      --whiten               --pca: scores of unit variance\n"
    "  -a, --algorithm=ALGO       --select rfe, boruta: the learner (default logistic or\n"
    "                             linear for rfe, rf for boruta)\n"
    "\n";

static const char usage_tail[] =
    "\n"
    "COLS: names, 1-based indices, ranges (2-5) and !negation, comma-separated.\n"
    "Exit status: 0 success, 2 usage, 65 bad input data or pipeline file, 66 cannot open\n"
    "input, 70 internal error, 71 out of memory, 74 read/write error.\n"
    "Full documentation: man mlfeat\n";

enum {
	O_SAVE = 1,
	O_LOAD,
	O_KEEP,
	O_EXTRA,
	O_UNSEEN,
	O_MAXCAT,
	O_SMOOTH,
	O_FOLDS,
	O_MISSIND,
	O_TIMECOL,
	O_GROUPCOL,
	O_CYCLICAL,
	O_SQUARES,
	O_WHITEN,
	O_STEP = 300 /* + the index in ml_feat_step_names(); above every short option */
};

#define NSTEPS 18

static struct option own[] = {{"save", required_argument, NULL, O_SAVE},
			      {"load", required_argument, NULL, O_LOAD},
			      {"target", required_argument, NULL, 't'},
			      {"keep", required_argument, NULL, O_KEEP},
			      {"extra", required_argument, NULL, O_EXTRA},
			      {"unseen", required_argument, NULL, O_UNSEEN},
			      {"max-categories", required_argument, NULL, O_MAXCAT},
			      {"smoothing", required_argument, NULL, O_SMOOTH},
			      {"folds", required_argument, NULL, O_FOLDS},
			      {"missing-indicator", no_argument, NULL, O_MISSIND},
			      {"time-col", required_argument, NULL, O_TIMECOL},
			      {"group-col", required_argument, NULL, O_GROUPCOL},
			      {"cyclical", no_argument, NULL, O_CYCLICAL},
			      {"squares", no_argument, NULL, O_SQUARES},
			      {"whiten", no_argument, NULL, O_WHITEN},
			      {"algorithm", required_argument, NULL, 'a'},
			      /* the steps, filled from ml_feat_step_names() */
			      {NULL, 0, NULL, 0},
			      {NULL, 0, NULL, 0},
			      {NULL, 0, NULL, 0},
			      {NULL, 0, NULL, 0},
			      {NULL, 0, NULL, 0},
			      {NULL, 0, NULL, 0},
			      {NULL, 0, NULL, 0},
			      {NULL, 0, NULL, 0},
			      {NULL, 0, NULL, 0},
			      {NULL, 0, NULL, 0},
			      {NULL, 0, NULL, 0},
			      {NULL, 0, NULL, 0},
			      {NULL, 0, NULL, 0},
			      {NULL, 0, NULL, 0},
			      {NULL, 0, NULL, 0},
			      {NULL, 0, NULL, 0},
			      {NULL, 0, NULL, 0},
			      {NULL, 0, NULL, 0},
			      {NULL, 0, NULL, 0}};

#define NFIXED 16

static const struct cli_help help[] = {
	{CLI_SEED, "seed of folds, noise, shuffles and learners\n(default 42)"},
	{CLI_QUIET, "no warnings"},
	{0, NULL}};

static const struct cli_cmd cmd = {"mlfeat", usage, usage_tail, own, "t:a:",
				   CLI_INPUT | CLI_OUTPUT | CLI_RUN | CLI_MESSAGES, help};

struct feat {
	struct cli cli;
	const char *save, *load;
	int extra, extra_set;
	struct ml_feat_spec spec;
	struct ml_feat_step *steps;
	int fitopts; /* options that only a fit takes */
	const char *fitopt;
};

/* Write rows [0, n) of b in blocks, so a large fit does not build one huge buffer. */
static int write_rows(struct ml_writer *w, const struct ml_block *b, struct ml_err *e)
{
	size_t at = 0, step = ML_BLOCK_ROWS * 8;
	int rc;

	while (at < b->nrow) {
		size_t to = b->nrow - at > step ? at + step : b->nrow;
		if ((rc = ml_writer_write(w, b, at, to, e)) < 0)
			return rc;
		at = to;
	}
	return 0;
}

/* The columns of the input that -t, --keep, --time-col and --group-col name must be
 * there. Another fault of the --keep list is left to the fit, which names it. */
static int check_cols(const struct ml_feat_spec *p, const struct ml_schema *s, struct ml_err *e)
{
	int *idx = NULL, rc;

	if (p->target && (rc = ml_schema_find_or_suggest(s, p->target, "-t", p->name, NULL, e)) < 0)
		return rc;
	if (p->keep) {
		rc = ml_schema_find_or_suggest(s, p->keep, "--keep", p->name, &idx, e);
		free(idx);
		if (rc < 0 && rc != ML_E_USAGE)
			return rc;
	}
	if (p->time_col &&
	    (rc = ml_schema_find_or_suggest(s, p->time_col, "--time-col", p->name, NULL, e)) < 0)
		return rc;
	if (p->group_col &&
	    (rc = ml_schema_find_or_suggest(s, p->group_col, "--group-col", p->name, NULL, e)) < 0)
		return rc;
	return 0;
}

/* Save the pipeline: at once when the rows go to a pipe or a terminal; into *sout, to be
 * committed with the rows, when they go to a file, so that a failure leaves both files as
 * they were. */
static int save_pipeline(const struct feat *F, const struct ml_model *m, struct ml_output *out,
			 struct ml_output **sout, struct ml_err *e)
{
	struct stat st;

	if (fstat(fileno(ml_output_file(out)), &st) != 0 || !S_ISREG(st.st_mode))
		return ml_model_save(m, F->save, e);
	if (!(*sout = ml_output_open(F->save, e)))
		return e->code;
	return cli_write_model(*sout, m, e);
}

static int fit(struct feat *F, const char *input, struct ml_output **outp, struct ml_err *e)
{
	struct ml_output *out = *outp, *sout = NULL;
	struct ml_read_opts ro;
	struct ml_write_opts wo;
	struct ml_frame fr;
	struct ml_features *f = NULL;
	struct ml_model *m = NULL;
	struct ml_writer *w = NULL;
	struct ml_ctx ctx;
	struct ml_fingerprint fp = {0, 0, 0};
	const struct ml_block *rows;
	int rc;

	ml_frame_init(&fr);
	if ((rc = cli_ctx(&F->cli, &ctx)) != 0)
		return rc; /* reported */
	cli_read_opts(&F->cli, &ro);
	if ((rc = ml_frame_read(&fr, input, &ro, e)) < 0 ||
	    (F->save && (rc = ml_fingerprint(&fr, ctx.pool, &fp, e)) < 0))
		goto out;
	F->spec.name = input && strcmp(input, "-") != 0 ? input : "<stdin>";
	if ((rc = check_cols(&F->spec, &fr.schema, e)) < 0)
		goto out;
	if ((rc = ml_features_fit(&f, &fr, &F->spec, &ctx, &rows, e)) < 0)
		goto out;
	/* The pipeline is saved before the rows go out: a reader that closes the pipe early
	 * ('mlfeat --save f.mlm ... | head') ends the run by SIGPIPE, and still has its file
	 * (rows that go to a file are committed with it). */
	if (F->save) {
		cJSON *meta = cJSON_CreateObject();
		if ((rc = ml_features_to_model(f, &m, e)) < 0) {
			cJSON_Delete(meta);
			goto out;
		}
		if (meta && (!cJSON_AddNumberToObject(meta, "rows", (double)fr.rows.nrow) ||
			     !cJSON_AddNumberToObject(meta, "seed", (double)ctx.seed))) {
			cJSON_Delete(meta);
			meta = NULL;
		}
		if ((rc = cli_meta_merge(m, meta, e)) < 0 ||
		    (rc = ml_model_set_fingerprint(m, &fp, e)) < 0 || (rc = cli_stamp(m, e)) < 0 ||
		    (rc = save_pipeline(F, m, out, &sout, e)) < 0)
			goto out;
	}
	cli_write_opts(&F->cli, &wo);
	w = ml_writer_open(ml_output_file(out), NULL, rows->schema, &wo, e);
	if (!w) {
		rc = e->code;
		goto out;
	}
	if ((rc = write_rows(w, rows, e)) < 0 || (rc = ml_writer_finish(w, e)) < 0)
		goto out;
	if (sout && (rc = cli_commit((struct ml_output **[]){&sout, outp}, 2, e)) < 0)
		goto out;
	cli_info(&F->cli, "fitted %d step%s on %zu rows; %d columns out", F->spec.nsteps,
		 F->spec.nsteps == 1 ? "" : "s", fr.rows.nrow, rows->schema->ncol);
out:
	ml_output_abort(sout);
	ml_writer_free(w);
	ml_model_free(m);
	ml_features_free(f);
	ml_frame_release(&fr);
	ml_ctx_release(&ctx);
	return rc;
}

static int replay(struct feat *F, const char *input, struct ml_output *out, struct ml_err *e)
{
	struct ml_read_opts ro;
	struct ml_write_opts wo;
	struct ml_schema types;
	struct ml_apply_opts ao;
	struct ml_artefact *a;
	struct ml_chain *c = NULL;
	struct ml_reader *r = NULL;
	struct ml_writer *w = NULL;
	const struct ml_schema *os;
	const struct ml_block *b, *o;
	long n;
	int rc;

	a = ml_artefact_load(F->load, e);
	if (!a)
		return e->code;
	ml_schema_init(&types);
	if (!(ml_artefact_flags(a) & ML_ARTEFACT_TRANSFORM)) {
		const char *k = ml_artefact_kind(a);
		char q[80];
		rc = ml_err_set(e, ML_E_DATA, ml_artefact_name(a), 0, 0,
				"is a '%s' artefact, not a 'features'",
				ml_err_quote(q, sizeof(q), k, strlen(k)));
		goto out;
	}
	ml_apply_opts_init(&ao);
	ao.extra = F->extra;
	if (!(c = ml_chain_new((const struct ml_artefact *const *)&a, 1, &ao, e)) ||
	    (rc = ml_chain_input_types(c, &types, e)) < 0) {
		rc = e->code;
		goto out;
	}
	cli_read_opts(&F->cli, &ro);
	ro.types = &types;
	r = ml_reader_open(input, &ro, e);
	if (!r) {
		rc = e->code;
		goto out;
	}
	if ((rc = ml_chain_bind(c, ml_reader_schema(r), NULL, &os, e)) < 0) {
		if (!e->where[0])
			snprintf(e->where, sizeof(e->where), "%s", ml_reader_name(r));
		goto out;
	}
	cli_write_opts(&F->cli, &wo);
	w = ml_writer_open(ml_output_file(out), NULL, os, &wo, e);
	if (!w) {
		rc = e->code;
		goto out;
	}
	while ((n = ml_reader_next(r, &b, e)) > 0) {
		if ((rc = ml_chain_apply(c, b, 0, (size_t)n, &o, e)) < 0 ||
		    (rc = ml_writer_write(w, o, 0, o->nrow, e)) < 0) {
			if (!e->where[0] && e->line > 0)
				snprintf(e->where, sizeof(e->where), "%s", ml_reader_name(r));
			goto out;
		}
	}
	if (n < 0) {
		rc = (int)n;
		goto out;
	}
	while ((rc = ml_chain_finish(c, &o, e)) > 0)
		if ((rc = ml_writer_write(w, o, 0, o->nrow, e)) < 0)
			break;
	if (rc == 0)
		rc = ml_writer_finish(w, e);
	if (rc < 0 && !e->where[0] && e->line > 0)
		snprintf(e->where, sizeof(e->where), "%s", ml_reader_name(r));
out:
	ml_writer_free(w);
	ml_reader_close(r);
	ml_schema_release(&types);
	ml_chain_free(c);
	ml_artefact_free(a);
	return rc;
}

static void fitonly(struct feat *F, const char *opt)
{
	F->fitopts++;
	if (!F->fitopt)
		F->fitopt = opt;
}

/* The options into F; -1 when the command must stop, with *rc its status. */
static int parse_args(struct feat *F, int argc, char **argv, int *rc)
{
	const char *const *names = ml_feat_step_names();
	int ch;
	long v;

	while ((ch = cli_next(&F->cli, argc, argv, rc)) != -1) {
		switch (ch) {
		case CLI_DONE:
			return -1;
		case O_SAVE:
			F->save = optarg;
			break;
		case O_LOAD:
			F->load = optarg;
			break;
		case 't':
			F->spec.target = optarg;
			fitonly(F, "--target");
			break;
		case O_KEEP:
			F->spec.keep = optarg;
			fitonly(F, "--keep");
			break;
		case O_EXTRA:
			if (strcmp(optarg, "pass") && strcmp(optarg, "drop")) {
				*rc = cli_usage(&F->cli,
					       "invalid value '%s' for --extra (pass or drop)",
					       optarg);
				return -1;
			}
			F->extra = strcmp(optarg, "pass") == 0;
			F->extra_set = 1;
			break;
		case O_UNSEEN:
			if (!strcmp(optarg, "ignore"))
				F->spec.unseen = ML_UNSEEN_IGNORE;
			else if (!strcmp(optarg, "error"))
				F->spec.unseen = ML_UNSEEN_ERROR;
			else if (!strcmp(optarg, "other"))
				F->spec.unseen = ML_UNSEEN_OTHER;
			else {
				*rc = cli_usage(
				    &F->cli,
				    "invalid value '%s' for --unseen (ignore, error or other)",
				    optarg);
				return -1;
			}
			fitonly(F, "--unseen");
			break;
		case O_MAXCAT:
			if (cli_long(&F->cli, "--max-categories", optarg, 2, 100000, &v) < 0) {
				*rc = EX_USAGE_;
				return -1;
			}
			F->spec.max_categories = (int)v;
			fitonly(F, "--max-categories");
			break;
		case O_SMOOTH:
			if (strcmp(optarg, "auto") == 0)
				F->spec.smoothing = -1;
			else if (cli_real(&F->cli, "--smoothing", optarg, 0, 1e300,
					  &F->spec.smoothing) < 0) {
				*rc = EX_USAGE_;
				return -1;
			}
			fitonly(F, "--smoothing");
			break;
		case O_FOLDS:
			if (cli_long(&F->cli, "--folds", optarg, 2, 1000, &v) < 0) {
				*rc = EX_USAGE_;
				return -1;
			}
			F->spec.folds = (int)v;
			fitonly(F, "--folds");
			break;
		case O_MISSIND:
			F->spec.missing_indicator = 1;
			fitonly(F, "--missing-indicator");
			break;
		case O_TIMECOL:
			F->spec.time_col = optarg;
			fitonly(F, "--time-col");
			break;
		case O_GROUPCOL:
			F->spec.group_col = optarg;
			fitonly(F, "--group-col");
			break;
		case O_CYCLICAL:
			F->spec.cyclical = 1;
			fitonly(F, "--cyclical");
			break;
		case O_SQUARES:
			F->spec.squares = 1;
			fitonly(F, "--squares");
			break;
		case O_WHITEN:
			F->spec.whiten = 1;
			fitonly(F, "--whiten");
			break;
		case 'a':
			F->spec.algorithm = optarg;
			fitonly(F, "--algorithm");
			break;
		default:
			if (ch >= O_STEP && ch < O_STEP + NSTEPS) {
				F->steps[F->spec.nsteps].step = names[ch - O_STEP];
				F->steps[F->spec.nsteps].arg = optarg;
				F->spec.nsteps++;
				fitonly(F, "a step");
				break;
			}
			*rc = cli_usage(&F->cli, "unrecognized option '%s'", argv[optind - 1]);
			return -1;
		}
	}
	F->spec.steps = F->steps;
	return 0;
}

/* Combinations the options cannot make; the status, 0 when none. */
static int check_args(struct feat *F, int argc, const char *argv_input, const char **input)
{
	if (F->save && F->load)
		return cli_usage(&F->cli, "--save and --load cannot be combined");
	if (F->load && F->fitopts)
		return cli_usage(&F->cli,
				 "--load replays a saved pipeline; %s cannot be given with it",
				 F->fitopt);
	if (!F->load && F->extra_set)
		return cli_usage(&F->cli, "--extra applies to --load only");
	if (!F->load && F->spec.nsteps == 0)
		return cli_usage(&F->cli,
				 "no steps (give steps such as --scale standard, or --load FILE)");
	if (argc - optind > 1)
		return cli_usage(&F->cli, "one input FILE at a time");
	*input = argc - optind == 1 ? argv_input : NULL;
	return 0;
}

int cmd_main(int argc, char **argv)
{
	struct feat F;
	struct ml_output *out = NULL;
	struct ml_err e;
	const char *const *names = ml_feat_step_names();
	const char *input = NULL;
	int rc = 0, i;

	memset(&F, 0, sizeof(F));
	ml_err_init(&e);
	ml_feat_spec_init(&F.spec);
	for (i = 0; names[i] && i < NSTEPS; i++) {
		own[NFIXED + i].name = names[i];
		own[NFIXED + i].has_arg = required_argument;
		own[NFIXED + i].val = O_STEP + i;
	}
	if ((rc = cli_init(&F.cli, &cmd)) != 0)
		return rc;
	F.steps = calloc((size_t)argc + 1, sizeof(*F.steps));
	if (!F.steps) {
		rc = cli_error(&F.cli, EX_OSERR_, "out of memory");
		goto done;
	}
	if (parse_args(&F, argc, argv, &rc) < 0 ||
	    (rc = check_args(&F, argc, argc - optind == 1 ? argv[optind] : NULL, &input)) != 0)
		goto done;
	if (!F.load && ml_features_check(&F.spec, &e) < 0) {
		rc = cli_fail(&F.cli, &e);
		goto done;
	}
	out = cli_open_output(&F.cli, F.cli.output, &rc);
	if (!out)
		goto done;
	rc = F.load ? replay(&F, input, out, &e) : fit(&F, input, &out, &e);
	if (rc > 0) {
		/* a status already reported */
		goto done;
	}
	if (rc < 0) {
		rc = cli_fail(&F.cli, &e);
		goto done;
	}
	rc = out ? ml_output_commit(out, &e) : 0; /* fit commits it with a saved pipeline */
	out = NULL;
	if (rc < 0)
		rc = cli_fail(&F.cli, &e);
done:
	if (out)
		ml_output_abort(out);
	free(F.steps);
	cli_release(&F.cli);
	return rc;
}
