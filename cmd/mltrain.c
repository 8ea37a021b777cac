/* mltrain: fit a model on a table, optionally cross-validated, and save it. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "ml/cv.h"
#include "ml/drift.h"
#include "ml/learn.h"
#include "ml/metrics.h"
#include "ml/pred.h"
#include "ml/split.h"

const char cmd_name[] = "mltrain";

static const char usage_head[] =
	"Usage: mltrain -t TARGET -a ALGO [OPTION]... -o MODEL [FILE]\n"
	"  or:  mltrain -a ALGO [OPTION]... -o MODEL [FILE]\n"
	"Fit a model of TARGET on the other columns of FILE (CSV, TSV, gzip or ml-stream;\n"
	"standard input when there is none, or for -) and save it to MODEL. Reads all rows.\n"
	"An algorithm that fits without a target (anomaly detectors) takes no -t and learns\n"
	"from every column. Categorical features are one-hot encoded inside the model when\n"
	"the algorithm needs numbers, so raw tables work as they are.\n"
	"\n"
	"  -t, --target=COL       the column to predict (none for an algorithm that fits\n"
	"                         without a target)\n"
	"  -a, --algorithm=ALGO   the model family (below)\n"
	"      --task=TASK        auto (default), classify or regress; auto classifies a\n"
	"                         categorical target or a numeric one with exactly two\n"
	"                         distinct values, and regresses any other numeric target\n"
	"      --ignore=COLS      columns not to use as features\n"
	"      --allow-ids        learn from categorical columns with nearly as many values\n"
	"                         as rows (refused by default as identifiers)\n"
	"      --profile          keep a drift profile of the training data in the model\n"
	"                         (mldrift --ref model.mlm compares new data with it)\n"
	"      --weight=COL       a column of row weights (numbers >= 0)\n"
	"      --class-weight=balanced  weigh classes by n / (classes * class count)\n"
	"      --cv=K             K-fold cross-validation (stratified when classifying);\n"
	"                         prints the metrics per fold and their mean and sd\n"
	"      --cv-time=COL      with --cv: expanding-window folds in the order of COL\n"
	"      --cv-group=COL     with --cv: rows with the same COL stay in one fold\n"
	"      --report=FILE      write the metrics as CSV (fold,metric,value) to FILE\n"
	"      --oof=FILE         with --cv: write the out-of-fold predictions to FILE\n"
	"      --feat='OPTIONS'   a feature pipeline (mlfeat's steps and options) fitted\n"
	"                         before the model, inside each --cv fold on its training\n"
	"                         rows only: honest scores for the whole pipeline\n"
	"      --feat-out=FILE    with --feat: write the pipeline fitted on every row,\n"
	"                         which the model's input is (required with --feat)\n"
	"      --valid=FILE       report metrics on the rows of FILE; iterative learners\n"
	"                         use them to stop early\n"
	"      --valid-frac=F     hold out a random fraction F of the rows (stratified when\n"
	"                         classifying) as validation rows, trained on by nothing\n"
	"      --early-stop=N     iterative learners: stop after N rounds without\n"
	"                         improvement on the validation rows\n"
	"      --list-algorithms  print the algorithm names, one a line, and exit\n"
	"\n";

static const char usage_tail[] =
	"\n"
	"COLS: names, 1-based indices, ranges (2-5) and !negation, comma-separated.\n"
	"Exit status: 0 success, 2 usage, 65 bad input data, 66 cannot open input,\n"
	"70 internal error, 71 out of memory, 74 read/write error.\n"
	"Full documentation: man mltrain\n";

enum {
	O_TASK = 1,
	O_IGNORE,
	O_WEIGHT,
	O_CLASS_WEIGHT,
	O_CV,
	O_CV_TIME,
	O_CV_GROUP,
	O_REPORT,
	O_OOF,
	O_VALID,
	O_VALID_FRAC,
	O_EARLY_STOP,
	O_LIST_ALGOS,
	O_ALLOW_IDS,
	O_PROFILE,
	O_FEAT,
	O_FEAT_OUT,
	O_PARAM = 300 /* + index into the union of the algorithms' parameters (below 1000) */
};

static const struct option own_fixed[] = {{"target", required_argument, NULL, 't'},
					  {"algorithm", required_argument, NULL, 'a'},
					  {"task", required_argument, NULL, O_TASK},
					  {"ignore", required_argument, NULL, O_IGNORE},
					  {"weight", required_argument, NULL, O_WEIGHT},
					  {"class-weight", required_argument, NULL, O_CLASS_WEIGHT},
					  {"cv", required_argument, NULL, O_CV},
					  {"cv-time", required_argument, NULL, O_CV_TIME},
					  {"cv-group", required_argument, NULL, O_CV_GROUP},
					  {"report", required_argument, NULL, O_REPORT},
					  {"oof", required_argument, NULL, O_OOF},
					  {"valid", required_argument, NULL, O_VALID},
					  {"valid-frac", required_argument, NULL, O_VALID_FRAC},
					  {"early-stop", required_argument, NULL, O_EARLY_STOP},
					  {"list-algorithms", no_argument, NULL, O_LIST_ALGOS},
					  {"allow-ids", no_argument, NULL, O_ALLOW_IDS},
					  {"profile", no_argument, NULL, O_PROFILE},
					  {"feat", required_argument, NULL, O_FEAT},
					  {"feat-out", required_argument, NULL, O_FEAT_OUT},
					  {NULL, 0, NULL, 0}};

/* Every common option has an effect here: the data is read, the model is written (or
 * --report and --oof), folds and learners draw at random on threads, and fits warn. */
#define COMMON (CLI_INPUT | CLI_OUTPUT | CLI_RUN | CLI_MESSAGES)

static const struct cli_help help[] = {
	{CLI_OUTPUT_FILE, "the model file to write (atomically); required"},
	{CLI_FORMAT, "format of --report and --oof: csv (default), tsv\nor stream"},
	{CLI_PRECISION, "write numbers in --report and --oof with N\nsignificant digits"},
	{CLI_COMPRESS, "zlib level 1-9 for stream blocks of --report and --oof\n(default 0: none)"},
	{CLI_FORCE, "write the model to standard output even on a terminal"},
	{CLI_QUIET, "no progress, summary or warnings"},
	{0, NULL}};

/* A parameter given on the command line, applied once the algorithm is known. */
struct given {
	const char *name, *value;
};

struct train {
	struct cli cli;
	struct ml_train_spec spec;
	const char *algo_name, *input, *report, *oof, *valid, *cv_time, *cv_group;
	long cv;
	double valid_frac;
	struct given *given;
	int ngiven;
	const char **pnames; /* the union of parameter names, for the option table */
	int npnames;
	struct option *opts;
	char *usage;	     /* what --help prints after the common options */
	struct cli_cmd cmd;

	struct ml_ctx ctx;
	int ctx_ok;
	double t0;           /* start */
	double t_read, t_fit, t_score; /* when each step ended */
	double t_folds;      /* when cross-validation began */
	struct ml_frame f;
	const char *name; /* the training input's name */
	size_t nin;       /* rows of the training input (the rest of f: --valid rows) */
	struct ml_fingerprint fp; /* of the training input */
	size_t *tr, ntr;  /* training rows */
	size_t *va, nva;  /* validation rows */
	enum ml_task task;
	struct ml_learner *l;
	int nclass, nout;
	int profile; /* --profile */
	/* metrics */
	int has[ML_M_COUNT];
	double mtrain[ML_M_COUNT], mvalid[ML_M_COUNT];
	struct ml_cv_result cvr; /* --cv: per fold, mean, sd, out-of-fold predictions */
	int nfold;
	struct ml_output *out, *rep_out, *oof_out; /* the model, --report, --oof */
	/* --feat: the pipeline, fitted on every training row; its rows, which the model is
	 * fitted on (f stays the input: the folds fit their own pipelines on it) */
	const char *feat, *feat_out_path;
	struct ml_feat_spec fspec;
	void *fstore;
	struct ml_features *fp_all;
	struct ml_frame g;
	struct ml_output *feat_out;
};

/* --- Text ------------------------------------------------------------------------- */

struct sbuf {
	char *p;
	size_t n, cap;
	int err;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) ML_PRINTF(2, 3);
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (b->err)
		return;
	for (;;) {
		va_start(ap, fmt);
		k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
		va_end(ap);
		if (k < 0) {
			b->err = 1;
			return;
		}
		if (b->p && (size_t)k < b->cap - b->n) {
			b->n += (size_t)k;
			return;
		}
		{
			size_t nc = (b->cap ? b->cap * 2 : 4096) + (size_t)k;
			char *q = realloc(b->p, nc);
			if (!q) {
				b->err = 1;
				return;
			}
			b->p = q;
			b->cap = nc;
		}
	}
}

/* A parameter's default as text. */
static const char *param_default(const struct ml_param *d, char *buf, size_t n)
{
	if (d->type == ML_P_ENUM) {
		const char *s = d->choices;
		int k = (int)d->def;
		while (k-- > 0 && s && (s = strchr(s, ',')) != NULL)
			s++;
		snprintf(buf, n, "%.*s", s ? (int)strcspn(s, ",") : 0, s ? s : "");
	} else {
		ml_fmt_double(buf, d->def);
	}
	return buf;
}

/* Words of text from column col (the cursor is there), wrapped at 79 columns with
 * continuation lines indented to ind. */
static void wrap(struct sbuf *b, const char *s, int col, int ind)
{
	int first = 1;

	while (*s) {
		size_t w = strcspn(s, " ");
		if (!first && col + 1 + (int)w > 79) {
			sb_printf(b, "\n%*s", ind, "");
			col = ind;
			first = 1;
		}
		if (!first) {
			sb_printf(b, " ");
			col++;
		}
		sb_printf(b, "%.*s", (int)w, s);
		col += (int)w;
		first = 0;
		s += w;
		while (*s == ' ')
			s++;
	}
	sb_printf(b, "\n");
}

/* A parameter's help with its choices and default. */
static void param_help(const struct ml_param *d, char *text, size_t n)
{
	char def[64], choices[512];
	const char *c;
	size_t k = 0;
	int has_def = d->help && strstr(d->help, "(default") != NULL;

	choices[0] = 0;
	for (c = d->type == ML_P_ENUM ? d->choices : NULL; c && *c && k + 3 < sizeof(choices); c++) {
		if (*c == ',') {
			choices[k++] = ',';
			choices[k++] = ' ';
		} else {
			choices[k++] = *c;
		}
	}
	choices[k] = 0;
	param_default(d, def, sizeof(def));
	if (d->type == ML_P_ENUM)
		snprintf(text, n, "%s (one of %s%s%s)", d->help ? d->help : "", choices,
			 has_def ? "" : "; default ", has_def ? "" : def);
	else if (!has_def)
		snprintf(text, n, "%s (default %s)", d->help ? d->help : "", def);
	else
		snprintf(text, n, "%s", d->help);
}

/* The algorithms and their hyperparameters, for --help and messages. */
static void describe_algos(struct sbuf *b)
{
	const struct ml_algo *const *a;
	const struct ml_param *d;
	char text[2048], opt[96];

	sb_printf(b, "Algorithms (-a):\n");
	if (!ml_algos()[0])
		sb_printf(b, "  (none in this build)\n");
	for (a = ml_algos(); *a; a++) {
		unsigned fl = ml_algo_flags(*a);
		snprintf(text, sizeof(text), "%s (%s%s%s%s%s)", ml_algo_summary(*a),
			 fl & ML_ALGO_CLASSIFY ? "classify" : "",
			 (fl & ML_ALGO_CLASSIFY) && (fl & ML_ALGO_REGRESS) ? ", " : "",
			 fl & ML_ALGO_REGRESS ? "regress" : "",
			 (fl & (ML_ALGO_CLASSIFY | ML_ALGO_REGRESS)) && (fl & ML_ALGO_UNSUPERVISED) ?
				 ", " :
				 "",
			 fl & ML_ALGO_UNSUPERVISED ? "no target" : "");
		sb_printf(b, "  %-12s ", ml_algo_name(*a));
		wrap(b, text, 15, 15);
	}
	sb_printf(b, "\nHyperparameters, per algorithm (an option that does not apply to the\n"
		     "chosen algorithm is an error):\n");
	for (a = ml_algos(); *a; a++) {
		sb_printf(b, "  -a %s:%s\n", ml_algo_name(*a),
			  ml_algo_params(*a)[0].name ? "" : " none");
		for (d = ml_algo_params(*a); d->name; d++) {
			snprintf(opt, sizeof(opt), "--%s=%s", d->name,
				 d->type == ML_P_ENUM	   ? "WORD" :
				 d->type == ML_P_INT	   ? "N" :
				 d->type == ML_P_STRING	   ? "TEXT" :
				 d->type == ML_P_INT_LIST ? "N,N.." :
				 d->type == ML_P_LIST	   ? "X,X.." :
							     "X");
			if (strlen(opt) > 20)
				sb_printf(b, "      %s\n%27s", opt, "");
			else
				sb_printf(b, "      %-21s", opt);
			param_help(d, text, sizeof(text));
			wrap(b, text, 27, 27);
		}
	}
}

static char *algo_list(void)
{
	struct sbuf b = {0};
	const struct ml_algo *const *a;

	for (a = ml_algos(); *a; a++)
		sb_printf(&b, "%s%s", a == ml_algos() ? "" : ", ", ml_algo_name(*a));
	if (!b.p)
		sb_printf(&b, "none in this build");
	return b.err ? NULL : b.p;
}

/* The option table: the fixed options, then every parameter name of every algorithm
 * once (those that clash with another option are left out; --early-stop is fixed). */
static int build_options(struct train *t)
{
	const struct ml_algo *const *a;
	const struct ml_param *d;
	size_t nfixed = sizeof(own_fixed) / sizeof(own_fixed[0]) - 1, cap = 0, i;
	struct sbuf b = {0};
	int k;

	for (a = ml_algos(); *a; a++)
		for (d = ml_algo_params(*a); d->name; d++)
			cap++;
	t->pnames = calloc(cap + 1, sizeof(*t->pnames));
	t->opts = calloc(nfixed + cap + 1, sizeof(*t->opts));
	if (!t->pnames || !t->opts)
		return -1;
	memcpy(t->opts, own_fixed, nfixed * sizeof(*t->opts));
	for (a = ml_algos(); *a; a++)
		for (d = ml_algo_params(*a); d->name; d++) {
			int clash = 0;
			for (i = 0; i < nfixed && !clash; i++)
				clash = strcmp(own_fixed[i].name, d->name) == 0;
			clash = clash || cli_is_common(d->name, COMMON);
			for (k = 0; k < t->npnames && !clash; k++)
				clash = strcmp(t->pnames[k], d->name) == 0;
			if (clash || O_PARAM + t->npnames >= CLI_OPT_BASE)
				continue;
			t->opts[nfixed + (size_t)t->npnames].name = d->name;
			t->opts[nfixed + (size_t)t->npnames].has_arg = required_argument;
			t->opts[nfixed + (size_t)t->npnames].val = O_PARAM + t->npnames;
			t->pnames[t->npnames++] = d->name;
		}
	sb_printf(&b, "\n");
	describe_algos(&b);
	sb_printf(&b, "%s", usage_tail);
	if (b.err) {
		free(b.p);
		return -1;
	}
	t->usage = b.p;
	return 0;
}

/* --- Messages and progress ---------------------------------------------------------------- */

static double now(void)
{
	return cli_now();
}

/* Progress on a terminal only, as one line rewritten in place; other messages end it. */
static void log_cb(void *ud, int level, const char *msg)
{
	struct train *t = ud;

	if (t->cli.quiet)
		return;
	if (level == ML_LOG_PROGRESS) {
		cli_progress_text(&t->cli, msg);
		return;
	}
	if (level == ML_LOG_DEBUG && !t->cli.verbose)
		return;
	cli_progress_clear(&t->cli);
	fprintf(stderr, "%s: %s%s\n", t->cli.prog, level == ML_LOG_WARN ? "warning: " : "", msg);
}

static void progress_cb(void *ud, double done, double total, const char *unit, const char *msg)
{
	struct train *t = ud;

	cli_progress(&t->cli, done, total, unit, msg);
}

static void say(struct train *t, const char *fmt, ...) ML_PRINTF(2, 3);
static void say(struct train *t, const char *fmt, ...)
{
	va_list ap;

	if (t->cli.quiet)
		return;
	cli_progress_clear(&t->cli);
	fprintf(stderr, "%s: ", t->cli.prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* --- Data ------------------------------------------------------------------------------ */

/* Append the rows of v (the --valid input) to f by column name; a column of f that v
 * lacks is left missing, which is an error for the target and the features. */
static int append_valid(struct train *t, struct ml_frame *v, const char *vname,
			struct ml_err *e)
{
	struct ml_frame *f = &t->f;
	size_t n0 = f->rows.nrow, n = v->rows.nrow, i;
	char *skip = calloc((size_t)(f->schema.ncol ? f->schema.ncol : 1), 1);
	int j, rc = 0;

	if (!skip)
		return ml_err_nomem(e);
	if (t->spec.ignore) {
		int *idx, cnt = ml_cols_parse(t->spec.ignore, &f->schema, 1, &idx, e);
		if (cnt < 0) {
			char msg[sizeof(e->msg)];
			snprintf(msg, sizeof(msg), "--ignore: %.1000s", e->msg);
			memcpy(e->msg, msg, sizeof(msg));
			free(skip);
			return cnt;
		}
		for (j = 0; j < cnt; j++)
			skip[idx[j]] = 1;
		free(idx);
	}
	if (t->spec.weight && (j = ml_schema_find(&f->schema, t->spec.weight)) >= 0)
		skip[j] = 1;
	if ((rc = ml_block_reserve(&f->rows, n0 + n, e)) < 0)
		goto out;
	if (f->rows.line) {
		long *ln = realloc(f->rows.line, (n0 + n ? n0 + n : 1) * sizeof(long));
		if (!ln) {
			rc = ml_err_nomem(e);
			goto out;
		}
		f->rows.line = ln;
		for (i = 0; i < n; i++)
			ln[n0 + i] = v->rows.line ? v->rows.line[i] : 0;
	}
	for (j = 0; j < f->schema.ncol; j++) {
		struct ml_col *c = &f->schema.cols[j];
		int k = ml_schema_find(&v->schema, c->name);
		if (k < 0) {
			if (!skip[j]) {
				rc = ml_err_set(e, ML_E_DATA, vname, 0, 0, "no column '%s' (%s)", c->name,
						strcmp(c->name, t->spec.target) == 0 ? "the target" :
										      "a feature");
				goto out;
			}
			for (i = 0; i < n; i++)
				if (c->type == ML_NUM)
					f->rows.col[j].num[n0 + i] = NAN;
				else
					f->rows.col[j].cat[n0 + i] = ML_MISSING_CAT;
			continue;
		}
		if (v->schema.cols[k].type != c->type) {
			rc = ml_err_set(e, ML_E_DATA, vname, 0, k + 1,
					"column '%s' is %s here but %s in the training rows", c->name,
					c->type == ML_NUM ? "categorical" : "numeric",
					c->type == ML_NUM ? "numeric" : "categorical");
			goto out;
		}
		if (c->type == ML_NUM) {
			memcpy(f->rows.col[j].num + n0, v->rows.col[k].num, n * sizeof(double));
			continue;
		}
		{
			const struct ml_dict *d = &v->schema.cols[k].dict;
			int32_t *map = malloc((size_t)(d->n ? d->n : 1) * sizeof(*map)), q;
			if (!map) {
				rc = ml_err_nomem(e);
				goto out;
			}
			for (q = 0; q < d->n; q++)
				if ((map[q] = ml_dict_intern(&c->dict, d->str[q], d->len[q])) < 0) {
					free(map);
					rc = ml_err_nomem(e);
					goto out;
				}
			for (i = 0; i < n; i++) {
				int32_t code = v->rows.col[k].cat[i];
				f->rows.col[j].cat[n0 + i] = code < 0 ? ML_MISSING_CAT : map[code];
			}
			free(map);
		}
	}
	f->rows.nrow = n0 + n;
out:
	free(skip);
	return rc;
}

/* --- Metrics ---------------------------------------------------------------------------- */

/* The metrics shown on standard error. */
static void key_metrics(const struct train *t, int *m, int *nm)
{
	*nm = 0;
	if (t->task == ML_TASK_UNSUPERVISED)
		return;
	if (t->task == ML_TASK_REGRESS) {
		m[(*nm)++] = ML_M_RMSE;
		m[(*nm)++] = ML_M_MAE;
		m[(*nm)++] = ML_M_R2;
	} else {
		m[(*nm)++] = ML_M_ACCURACY;
		m[(*nm)++] = t->nclass == 2 ? ML_M_AUC : ML_M_F1_MACRO;
		m[(*nm)++] = ML_M_LOGLOSS;
	}
}

static void fmt_metrics(const struct train *t, const double *v, const double *sd, char *buf,
			size_t n)
{
	int m[8], nm, i;
	size_t at = 0;

	key_metrics(t, m, &nm);
	buf[0] = 0;
	for (i = 0; i < nm && at < n; i++) {
		if (sd)
			at += (size_t)snprintf(buf + at, n - at, "%s%s %.4g \302\261 %.2g",
					       i ? ", " : "", ml_metric_name(m[i]), v[m[i]], sd[m[i]]);
		else
			at += (size_t)snprintf(buf + at, n - at, "%s%s %.4g", i ? ", " : "",
					       ml_metric_name(m[i]), v[m[i]]);
	}
}

/* --- Cross-validation ---------------------------------------------------------------------- */

static int find_col(struct train *t, const char *opt, const char *spec, int *col,
		    struct ml_err *e)
{
	int *idx, n = ml_schema_find_or_suggest(&t->f.schema, spec, opt, t->name, &idx, e);

	if (n < 0)
		return n;
	if (n != 1) {
		free(idx);
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "%s takes one column, not %d", opt, n);
	}
	*col = idx[0];
	free(idx);
	return 0;
}

/* Each fold on the progress line while it is fitted, then its metrics on a line. */
static void cv_progress(void *ud, const struct ml_cv_fold *p)
{
	struct train *t = ud;
	char line[512];

	if (!p->done) {
		/* the time left for the folds, once one has taken its time */
		double spent = now() - t->t_folds, left = 0;
		char eta[48] = "";
		if (p->fold > 1) {
			left = spent / (p->fold - 1) * (p->k - p->fold + 1);
			snprintf(eta, sizeof(eta), left < 60 ? " (folds: ETA %.0f s)" :
							       " (folds: ETA %.0f min)",
				 left < 60 ? left : left / 60);
		}
		cli_progress_stage(&t->cli, "fold %d/%d%s", p->fold, p->k, eta);
		cli_progress_text(&t->cli, "fitting");
		return;
	}
	cli_progress_stage(&t->cli, NULL);
	fmt_metrics(t, p->metrics, NULL, line, sizeof(line));
	say(t, "fold %d/%d (%zu rows): %s", p->fold, p->k, p->ntest, line);
}

static int cross_validate(struct train *t, struct ml_err *e)
{
	struct ml_cv_opts o;
	char line[512];
	int m, rc;

	ml_cv_opts_init(&o);
	o.k = (int)t->cv;
	o.seed = t->ctx.seed;
	o.valid = t->va;
	o.nvalid = t->nva;
	o.progress = cv_progress;
	o.feat = t->feat ? &t->fspec : NULL;
	t->t_folds = now();
	o.ud = t;
	if (t->cv_time) {
		if ((rc = find_col(t, "--cv-time", t->cv_time, &o.col, e)) < 0)
			return rc;
		o.split = ML_CV_TIME;
	} else if (t->cv_group) {
		if ((rc = find_col(t, "--cv-group", t->cv_group, &o.col, e)) < 0)
			return rc;
		o.split = ML_CV_GROUP;
	}
	rc = ml_cv_run(&t->cvr, &t->f, t->tr, t->ntr, NULL, &t->spec, t->l, &o, &t->ctx, e);
	if (rc < 0)
		return rc;
	for (m = 0; m < ML_M_COUNT; m++)
		t->has[m] |= t->cvr.has[m];
	t->nfold = t->cvr.k;
	fmt_metrics(t, t->cvr.mean, t->cvr.sd, line, sizeof(line));
	say(t, "cross-validation (%d folds, %s): %s", t->cvr.k, ml_cv_split_name(t->cvr.split),
	    line);
	return 0;
}

/* --- Outputs ------------------------------------------------------------------------------ */

/* Write f to o (opened at the start, so that a bad path fails before the work); the
 * outputs are committed together at the end. */
static int write_frame(struct train *t, struct ml_output **o, const struct ml_frame *f,
		       struct ml_err *e)
{
	struct ml_write_opts wo;
	struct ml_writer *w;
	int rc;

	cli_write_opts(&t->cli, &wo);
	w = ml_writer_open(ml_output_file(*o), ml_output_name(*o), &f->schema, &wo, e);
	rc = w ? ml_writer_write(w, &f->rows, 0, f->rows.nrow, e) : e->code;
	if (rc == 0)
		rc = ml_writer_finish(w, e);
	ml_writer_free(w);
	return rc;
}

static int put_row(struct ml_frame *f, const char *fold, const char *metric, double v,
		   struct ml_err *e)
{
	size_t i = f->rows.nrow;
	int32_t a, b;

	if (ml_block_reserve(&f->rows, i + 1, e) < 0)
		return ML_E_NOMEM;
	a = ml_dict_intern(&f->schema.cols[0].dict, fold, strlen(fold));
	b = ml_dict_intern(&f->schema.cols[1].dict, metric, strlen(metric));
	if (a < 0 || b < 0)
		return ml_err_nomem(e);
	f->rows.col[0].cat[i] = a;
	f->rows.col[1].cat[i] = b;
	f->rows.col[2].num[i] = v;
	f->rows.nrow = i + 1;
	return 0;
}

/* fold,metric,value: the folds, their mean and sd, then train and valid. */
static int write_report(struct train *t, struct ml_err *e)
{
	struct ml_frame f;
	int m, k, rc = 0;
	char fold[24];

	ml_frame_init(&f);
	if (ml_schema_add(&f.schema, "fold", ML_CAT) < 0 ||
	    ml_schema_add(&f.schema, "metric", ML_CAT) < 0 ||
	    ml_schema_add(&f.schema, "value", ML_NUM) < 0 ||
	    ml_block_init(&f.rows, &f.schema, 64, e) < 0) {
		ml_frame_release(&f);
		return ml_err_nomem(e);
	}
	for (k = 0; k < t->nfold && rc == 0; k++)
		for (m = 0; m < ML_M_COUNT && rc == 0; m++)
			if (t->has[m]) {
				snprintf(fold, sizeof(fold), "%d", k + 1);
				rc = put_row(&f, fold, ml_metric_name(m), t->cvr.metrics[k][m], e);
			}
	for (k = 0; k < 4 && rc == 0; k++) {
		const double *v = k == 0   ? t->cvr.mean
				  : k == 1 ? t->cvr.sd
				  : k == 2 ? t->mtrain
					   : t->mvalid;
		if ((k < 2 && !t->nfold) || (k == 3 && !t->nva))
			continue;
		for (m = 0; m < ML_M_COUNT && rc == 0; m++)
			if (t->has[m])
				rc = put_row(&f, k == 0 ? "mean" : k == 1 ? "sd" : k == 2 ? "train" : "valid",
					     ml_metric_name(m), v[m], e);
	}
	if (rc == 0)
		rc = write_frame(t, &t->rep_out, &f, e);
	ml_frame_release(&f);
	return rc;
}

static int oof_col(struct ml_frame *f, const char *name, enum ml_type type, struct ml_err *e)
{
	if (ml_schema_find(&f->schema, name) >= 0)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "--oof: the target's name clashes with the column '%s'", name);
	return ml_schema_add(&f->schema, name, type) < 0 ? ML_E_NOMEM : 0;
}

/* The out-of-fold predictions: the target, pred, p_LABEL per class, fold. */
static int write_oof(struct train *t, struct ml_err *e)
{
	struct ml_frame f;
	int tcol = ml_schema_find(&t->f.schema, t->spec.target), k, c, rc = 0;
	const struct ml_col *tc = &t->f.schema.cols[tcol];
	size_t i, n = 0;
	char name[1024];

	ml_frame_init(&f);
	c = ml_schema_add(&f.schema, tc->name, tc->type);
	if (c < 0 || ml_dict_copy(&f.schema.cols[0].dict, &tc->dict) < 0)
		rc = ML_E_NOMEM;
	if (rc == 0)
		rc = oof_col(&f, ML_PRED_LABEL, t->task == ML_TASK_REGRESS ? ML_NUM : ML_CAT, e);
	for (k = 0; rc == 0 && t->task == ML_TASK_CLASSIFY && k < t->nclass; k++) {
		const char *lab = ml_learner_class(t->l, k);
		ml_pred_name(name, sizeof(name), ML_PRED_PROB_PREFIX, lab);
		if (ml_dict_intern(&f.schema.cols[1].dict, lab, strlen(lab)) < 0)
			rc = ML_E_NOMEM;
		else
			rc = oof_col(&f, name, ML_NUM, e);
	}
	if (rc == 0)
		rc = oof_col(&f, "fold", ML_NUM, e);
	if (rc == 0 && ml_block_init(&f.rows, &f.schema, t->ntr ? t->ntr : 1, e) < 0)
		rc = ML_E_NOMEM;
	if (rc == ML_E_NOMEM)
		ml_err_nomem(e);
	for (i = 0; rc == 0 && i < t->ntr; i++) {
		size_t r = t->tr[i];
		const double *s = t->cvr.oof + i * (size_t)t->nout;
		if (!t->cvr.fold[i])
			continue;
		if (tc->type == ML_NUM)
			f.rows.col[0].num[n] = t->f.rows.col[tcol].num[r];
		else
			f.rows.col[0].cat[n] = t->f.rows.col[tcol].cat[r];
		if (t->task == ML_TASK_REGRESS) {
			f.rows.col[1].num[n] = s[0];
		} else {
			int best = 0;
			for (k = 1; k < t->nclass; k++)
				if (s[k] > s[best])
					best = k;
			f.rows.col[1].cat[n] = best;
			for (k = 0; k < t->nclass; k++)
				f.rows.col[2 + k].num[n] = s[k];
		}
		f.rows.col[f.schema.ncol - 1].num[n] = t->cvr.fold[i];
		n++;
	}
	f.rows.nrow = n;
	if (rc == 0)
		rc = write_frame(t, &t->oof_out, &f, e);
	ml_frame_release(&f);
	return rc;
}

/* The metrics in v that the task has, or NULL when out of memory. */
static cJSON *metrics_json(const struct train *t, const double *v)
{
	cJSON *o = cJSON_CreateObject();
	int m, bad = 0;

	for (m = 0; o && m < ML_M_COUNT; m++)
		if (t->has[m] && v[m] == v[m])
			cli_json_num(&bad, o, ml_metric_name(m), v[m]);
	if (bad) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* What the model records beyond the learner's own metadata. */
static int add_meta(struct train *t, struct ml_model *m, struct ml_err *e)
{
	cJSON *meta = cJSON_CreateObject(), *o, *mt, *cv, *arr;
	const char *const *tb;
	int k, bad = 0;

	if (!meta)
		return ml_err_nomem(e);
	/* A seed beyond 2^53 would not survive as a JSON number: it is then text. */
	if (t->ctx.seed <= (1ULL << 53)) {
		cli_json_num(&bad, meta, "seed", (double)t->ctx.seed);
	} else {
		char seed[24];
		snprintf(seed, sizeof(seed), "%llu", (unsigned long long)t->ctx.seed);
		cli_json_str(&bad, meta, "seed", seed);
	}
	if (bad) {
		cJSON_Delete(meta);
		return ml_err_nomem(e);
	}
	/* The keys in their order: seed, data (the fingerprint), training, metrics, tables. */
	if ((k = cli_meta_merge(m, meta, e)) < 0 || (k = ml_model_set_fingerprint(m, &t->fp, e)) < 0)
		return k;
	if (!(meta = cJSON_CreateObject()))
		return ml_err_nomem(e);
	o = cJSON_AddObjectToObject(meta, "training");
	cli_json_num(&bad, o, "rows", (double)t->ntr);
	cli_json_num(&bad, o, "encoded_features", ml_learner_nfeatures(t->l));
	if (t->spec.ignore)
		cli_json_str(&bad, o, "ignore", t->spec.ignore);
	if (t->spec.weight)
		cli_json_str(&bad, o, "weight", t->spec.weight);
	if (t->spec.balanced)
		cli_json_str(&bad, o, "class_weight", "balanced");
	if (t->nva) {
		cli_json_num(&bad, o, "valid_rows", (double)t->nva);
		if (t->valid)
			cli_json_str(&bad, o, "valid", "file");
		else
			cli_json_num(&bad, o, "valid_frac", t->valid_frac);
	}
	mt = cJSON_AddObjectToObject(meta, "metrics");
	cli_json_item(&bad, mt, "train", metrics_json(t, t->mtrain));
	if (t->nva)
		cli_json_item(&bad, mt, "valid", metrics_json(t, t->mvalid));
	if (t->nfold) {
		cv = cJSON_AddObjectToObject(mt, "cv");
		cli_json_num(&bad, cv, "folds", t->nfold);
		cli_json_str(&bad, cv, "split", ml_cv_split_name(t->cvr.split));
		if (t->cv_time)
			cli_json_str(&bad, cv, "column", t->cv_time);
		else if (t->cv_group)
			cli_json_str(&bad, cv, "column", t->cv_group);
		cli_json_item(&bad, cv, "mean", metrics_json(t, t->cvr.mean));
		cli_json_item(&bad, cv, "sd", metrics_json(t, t->cvr.sd));
		arr = cJSON_AddArrayToObject(cv, "per_fold");
		for (k = 0; k < t->nfold; k++)
			cli_json_item(&bad, arr, NULL, metrics_json(t, t->cvr.metrics[k]));
	}
	arr = cJSON_AddArrayToObject(meta, "tables");
	for (tb = ml_algo_tables(ml_learner_algo(t->l)); *tb; tb++)
		cli_json_str(&bad, arr, NULL, *tb);
	if (bad) {
		cJSON_Delete(meta);
		return ml_err_nomem(e);
	}
	return cli_meta_merge(m, meta, e);
}

/* --profile: the training input's drift profile, with its fingerprint, as a member. */
static int add_profile(struct train *t, struct ml_model *m, struct ml_err *e)
{
	struct ml_profile_opts o;
	struct ml_profile *p;
	struct ml_model *pm = NULL;
	int rc;

	ml_profile_opts_init(&o);
	if (t->cli.seed_set)
		o.seed = t->cli.seed;
	if (!(p = ml_profile_new(&t->f.schema, NULL, 0, &o, e)))
		return e->code;
	if ((rc = ml_profile_add(p, &t->f.rows, 0, t->nin, e)) == 0 &&
	    (rc = ml_profile_finish(p, e)) == 0 && !(pm = ml_profile_to_model(p, e)))
		rc = e->code;
	if (rc == 0 && (rc = ml_model_set_fingerprint(pm, &t->fp, e)) == 0 &&
	    (rc = cli_stamp(pm, e)) == 0)
		rc = ml_model_add_member(m, ML_PROFILE_MEMBER, pm, e);
	ml_model_free(pm);
	ml_profile_free(p);
	return rc;
}

static int save_model(struct train *t, struct ml_err *e)
{
	struct ml_model *m = NULL;
	int rc = ml_learner_to_model(t->l, &m, e);

	if (rc == 0)
		rc = add_meta(t, m, e);
	if (rc == 0 && t->profile)
		rc = add_profile(t, m, e);
	if (rc == 0)
		rc = cli_stamp(m, e);
	if (rc == 0)
		rc = cli_write_model(t->out, m, e);
	ml_model_free(m);
	return rc;
}

/* --feat: the pipeline fitted on every row, written beside the model. */
static int save_features(struct train *t, struct ml_err *e)
{
	struct ml_model *m = NULL;
	int rc = ml_features_to_model(t->fp_all, &m, e);

	if (rc == 0)
		rc = cli_stamp(m, e);
	if (rc == 0)
		rc = cli_write_model(t->feat_out, m, e);
	ml_model_free(m);
	return rc;
}

/* --- Main ------------------------------------------------------------------------------- */

static int parse_args(struct train *t, int argc, char **argv, int *rc)
{
	int ch;
	long v;

	while ((ch = cli_next(&t->cli, argc, argv, rc)) != -1) {
		switch (ch) {
		case CLI_DONE:
			return -1;
		case 't':
			t->spec.target = optarg;
			break;
		case 'a':
			t->algo_name = optarg;
			break;
		case O_TASK:
			if (strcmp(optarg, "auto") == 0)
				t->spec.task = ML_TASK_AUTO;
			else if (strcmp(optarg, "classify") == 0)
				t->spec.task = ML_TASK_CLASSIFY;
			else if (strcmp(optarg, "regress") == 0)
				t->spec.task = ML_TASK_REGRESS;
			else {
				*rc = cli_usage(&t->cli,
						"invalid value '%s' for --task (auto, classify or regress)",
						optarg);
				return -1;
			}
			break;
		case O_IGNORE:
			t->spec.ignore = optarg;
			break;
		case O_WEIGHT:
			t->spec.weight = optarg;
			break;
		case O_ALLOW_IDS:
			t->spec.allow_ids = 1;
			break;
		case O_PROFILE:
			t->profile = 1;
			break;
		case O_FEAT:
			t->feat = optarg;
			break;
		case O_FEAT_OUT:
			t->feat_out_path = optarg;
			break;
		case O_CLASS_WEIGHT:
			if ((*rc = cli_class_weight(&t->cli, optarg, &t->spec)) != 0)
				return -1;
			break;
		case O_CV:
			if (cli_long(&t->cli, "--cv", optarg, 2, 1000000, &v) < 0) {
				*rc = EX_USAGE_;
				return -1;
			}
			t->cv = v;
			break;
		case O_CV_TIME:
			t->cv_time = optarg;
			break;
		case O_CV_GROUP:
			t->cv_group = optarg;
			break;
		case O_REPORT:
			t->report = optarg;
			break;
		case O_OOF:
			t->oof = optarg;
			break;
		case O_VALID:
			t->valid = optarg;
			break;
		case O_VALID_FRAC:
			if (ml_parse_real(optarg, 0, 1, &t->valid_frac) != 0 || !(t->valid_frac > 0) ||
			    !(t->valid_frac < 1)) {
				*rc = cli_usage(&t->cli,
						"invalid value '%s' for --valid-frac (a fraction between "
						"0 and 1)",
						optarg);
				return -1;
			}
			break;
		case O_EARLY_STOP:
			t->given[t->ngiven].name = "early-stop";
			t->given[t->ngiven++].value = optarg;
			break;
		case O_LIST_ALGOS: {
			const struct ml_algo *const *a;
			for (a = ml_algos(); *a; a++)
				puts(ml_algo_name(*a));
			*rc = 0;
			return -1;
		}
		default:
			if (ch >= O_PARAM && ch < O_PARAM + t->npnames) {
				t->given[t->ngiven].name = t->pnames[ch - O_PARAM];
				t->given[t->ngiven++].value = optarg;
				break;
			}
			*rc = cli_usage(&t->cli, "unrecognized option '%s'", argv[optind - 1]);
			return -1;
		}
	}
	return 0;
}

/* A target for an algorithm that learns from one, none for one that fits without; the
 * options that need a target (metrics, class weights) are refused without one. */
static int check_target(struct train *t, const struct ml_algo *a)
{
	unsigned fl = ml_algo_flags(a);
	const char *opt;

	if (t->spec.target && !(fl & (ML_ALGO_CLASSIFY | ML_ALGO_REGRESS)))
		return cli_usage(&t->cli, "-a %s takes no target (drop -t %s)", ml_algo_name(a),
				 t->spec.target);
	if (t->spec.target)
		return 0;
	if (!(fl & ML_ALGO_UNSUPERVISED))
		return cli_usage(&t->cli, "no target given (-t COLUMN)");
	opt = t->cv			 ? "--cv" :
	      t->valid && !(fl & ML_ALGO_VALID) ? "--valid" :
	      t->valid_frac > 0 && !(fl & ML_ALGO_VALID) ? "--valid-frac" :
	      t->report			 ? "--report" :
	      t->spec.balanced		 ? "--class-weight" :
	      t->spec.task != ML_TASK_AUTO ? "--task" :
					   NULL;
	if (opt)
		return cli_usage(&t->cli, "%s does not apply to -a %s, which fits without a target",
				 opt, ml_algo_name(a));
	return 0;
}

/* --feat: its pipeline parsed as mlfeat's options, with the target; the pipeline written
 * beside the model, and no validation rows (each fold's pipeline would have to score
 * them). */
static int check_feat(struct train *t)
{
	int rc;

	if (t->feat_out_path && !t->feat)
		return cli_usage(&t->cli, "--feat-out needs --feat");
	if (!t->feat)
		return 0;
	if (!t->feat_out_path)
		return cli_usage(&t->cli, "--feat needs --feat-out FILE: the model reads what the "
				 "pipeline writes");
	if (t->valid || t->valid_frac > 0)
		return cli_usage(&t->cli, "--feat takes no validation rows (--valid, --valid-frac)");
	if (!t->spec.target)
		return cli_usage(&t->cli, "--feat needs a target (-t)");
	ml_feat_spec_init(&t->fspec);
	if ((rc = cli_feat_spec(&t->cli, "--feat", t->feat, &t->fspec, &t->fstore)) != 0)
		return rc;
	t->fspec.target = t->spec.target;
	return 0;
}

/* Combinations that cannot work, and the algorithm with its parameters. */
static int check_args(struct train *t, int argc, char **argv)
{
	const struct ml_algo *a;
	struct ml_err e;
	int i;

	ml_err_init(&e);
	if (!t->spec.target && !t->algo_name)
		return cli_usage(&t->cli, "no target given (-t COLUMN)");
	if (!t->algo_name) {
		char *list = algo_list();
		i = cli_usage(&t->cli, "no algorithm given (-a ALGO: %s)", list ? list : "?");
		free(list);
		return i;
	}
	if (!(a = cli_algo(&t->cli, NULL, t->algo_name, &i)))
		return i;
	if ((i = check_target(t, a)) != 0)
		return i;
	if (!t->cli.output)
		return cli_usage(&t->cli, "no model file given (-o MODEL)");
	if (argc - optind > 1)
		return cli_usage(&t->cli, "one input FILE at a time");
	if ((t->cv_time || t->cv_group || t->oof) && !t->cv)
		return cli_usage(&t->cli, "%s needs --cv",
				 t->cv_time ? "--cv-time" : t->cv_group ? "--cv-group" : "--oof");
	if (t->cv_time && t->cv_group)
		return cli_usage(&t->cli, "--cv-time and --cv-group cannot be combined");
	if (t->valid && t->valid_frac > 0)
		return cli_usage(&t->cli, "--valid and --valid-frac cannot be combined");
	if ((i = check_feat(t)) != 0)
		return i;
	ml_params_init(&t->spec.params, a);
	for (i = 0; i < t->ngiven; i++)
		if (ml_params_set(&t->spec.params, t->given[i].name, t->given[i].value, &e) < 0)
			return cli_fail(&t->cli, &e);
	if (argc - optind == 1 && strcmp(argv[optind], "-") != 0)
		t->input = argv[optind];
	if ((t->input == NULL && t->valid && strcmp(t->valid, "-") == 0))
		return cli_usage(&t->cli, "the training rows and --valid cannot both be standard input");
	if (strcmp(t->cli.output, "-") == 0 && !t->cli.force && isatty(STDOUT_FILENO))
		return cli_usage(&t->cli, "refusing to write a model to a terminal (use --force, "
					  "-o FILE or a pipe)");
	return 0;
}

/* The columns the options name must be in the training rows, before any work. Another
 * fault of the --ignore list is left to the fit, which names it. */
static int check_cols(struct train *t, struct ml_err *e)
{
	const struct ml_schema *s = &t->f.schema;
	int *idx = NULL, col, rc;

	if (t->spec.target &&
	    (rc = ml_schema_find_or_suggest(s, t->spec.target, "-t", t->name, NULL, e)) < 0)
		return rc;
	if (t->spec.weight &&
	    (rc = ml_schema_find_or_suggest(s, t->spec.weight, "--weight", t->name, NULL, e)) < 0)
		return rc;
	if (t->spec.ignore) {
		rc = ml_schema_find_or_suggest(s, t->spec.ignore, "--ignore", t->name, &idx, e);
		free(idx);
		if (rc < 0 && rc != ML_E_USAGE)
			return rc;
	}
	if (t->cv_time && (rc = find_col(t, "--cv-time", t->cv_time, &col, e)) < 0)
		return rc;
	if (t->cv_group && (rc = find_col(t, "--cv-group", t->cv_group, &col, e)) < 0)
		return rc;
	return 0;
}

/* Read the rows; split off validation rows. */
static int load_data(struct train *t, struct ml_err *e)
{
	struct ml_read_opts ro;
	size_t i;
	int rc;

	cli_read_opts(&t->cli, &ro);
	if ((rc = ml_frame_read(&t->f, t->input, &ro, e)) < 0)
		return rc;
	t->name = t->input ? t->input : "<stdin>";
	t->spec.name = t->name;
	if ((rc = check_cols(t, e)) < 0)
		return rc;
	t->nin = t->f.rows.nrow;
	if ((rc = ml_fingerprint(&t->f, t->ctx.pool, &t->fp, e)) < 0)
		return rc;
	t->task = ML_TASK_UNSUPERVISED;
	if (t->spec.target &&
	    (rc = ml_task_resolve(&t->f, NULL, 0, t->spec.target, t->spec.task, &t->task, e)) < 0) {
		if (!e->where[0])
			snprintf(e->where, sizeof(e->where), "%s", t->name);
		return rc;
	}
	if (t->valid) {
		struct ml_frame v;
		ml_frame_init(&v);
		ro.types = &t->f.schema;
		rc = ml_frame_read(&v, t->valid, &ro, e);
		if (rc == 0)
			rc = append_valid(t, &v, strcmp(t->valid, "-") ? t->valid : "<stdin>", e);
		ml_frame_release(&v);
		if (rc < 0)
			return rc;
		t->spec.valid_name = strcmp(t->valid, "-") ? t->valid : "<stdin>";
	}
	t->tr = malloc((t->nin ? t->nin : 1) * sizeof(size_t));
	t->va = malloc((t->f.rows.nrow ? t->f.rows.nrow : 1) * sizeof(size_t));
	if (!t->tr || !t->va)
		return ml_err_nomem(e);
	if (t->valid_frac > 0 && t->nin > 0) {
		struct ml_split_opts so;
		unsigned char *side = malloc(t->nin);
		if (!side)
			return ml_err_nomem(e);
		ml_split_opts_init(&so);
		so.seed = t->ctx.seed;
		so.test = t->valid_frac;
		if (t->task == ML_TASK_CLASSIFY) {
			so.mode = ML_SPLIT_STRATIFY;
			so.col = ml_schema_find(&t->f.schema, t->spec.target);
		}
		rc = ml_split(&t->f.rows, &so, side, NULL, e);
		if (rc < 0) {
			free(side);
			if (!e->where[0])
				snprintf(e->where, sizeof(e->where), "%s", t->name);
			return rc;
		}
		for (i = 0; i < t->nin; i++)
			if (side[i] == ML_SIDE_TEST)
				t->va[t->nva++] = i;
			else
				t->tr[t->ntr++] = i;
		free(side);
	} else {
		for (i = 0; i < t->nin; i++)
			t->tr[t->ntr++] = i;
		for (i = t->nin; i < t->f.rows.nrow; i++)
			t->va[t->nva++] = i;
	}
	t->t_read = now();
	return 0;
}

/* --feat: the pipeline fitted on every training row (there are no others), and a frame
 * of the rows it gives, in the same order, for the model. */
static int fit_features(struct train *t, struct ml_err *e)
{
	const struct ml_block *rows;
	int rc;

	t->fspec.name = t->name;
	if ((rc = ml_features_fit(&t->fp_all, &t->f, &t->fspec, &t->ctx, &rows, e)) < 0)
		return rc;
	if (ml_schema_copy(&t->g.schema, rows->schema) < 0)
		return ml_err_nomem(e);
	if ((rc = ml_block_init(&t->g.rows, &t->g.schema, rows->nrow ? rows->nrow : 1, e)) < 0)
		return rc;
	for (rc = 0; rc < t->g.schema.ncol; rc++)
		memcpy(t->g.rows.col[rc].num, rows->col[rc].num,
		       rows->nrow * (t->g.schema.cols[rc].type == ML_NUM ? sizeof(double) : sizeof(int32_t)));
	t->g.rows.nrow = rows->nrow;
	return 0;
}

static int fit_all(struct train *t, struct ml_err *e)
{
	double *score = NULL;
	size_t n = t->ntr > t->nva ? t->ntr : t->nva;
	const struct ml_frame *f = t->feat ? &t->g : &t->f;
	int rc;

	if (t->feat && (rc = fit_features(t, e)) < 0)
		return rc;
	rc = ml_learner_fit(&t->l, f, t->tr, t->ntr, t->va, t->nva, &t->spec, &t->ctx, e);
	if (rc < 0)
		return rc;
	t->t_fit = now();
	t->nclass = ml_learner_nclass(t->l);
	t->nout = ml_learner_nout(t->l, ML_OUT_VALUE);
	if (t->task == ML_TASK_UNSUPERVISED) {
		/* No truth to measure against. */
		t->t_score = now();
		return 0;
	}
	score = malloc((n ? n : 1) * (size_t)t->nout * sizeof(double));
	if (!score)
		return ml_err_nomem(e);
	/* The fit's own scores of its rows when it kept them (the same bytes), else a pass. */
	rc = ml_learner_fitted(t->l, score, ML_OUT_VALUE)
		 ? 0
		 : ml_score_rows(t->l, t->l, f, t->tr, t->ntr, t->ctx.pool, score, e);
	if (rc == 0)
		rc = ml_score_metrics(t->l, f, t->tr, t->ntr, score, t->spec.weight, t->mtrain,
				      t->has, e);
	if (rc == 0 && t->nva && t->spec.target &&
	    (rc = ml_score_rows(t->l, t->l, &t->f, t->va, t->nva, t->ctx.pool, score, e)) == 0)
		rc = ml_score_metrics(t->l, &t->f, t->va, t->nva, score, t->spec.weight, t->mvalid,
				      t->has, e);
	free(score);
	t->t_score = now();
	return rc;
}

int cmd_main(int argc, char **argv)
{
	struct train t;
	struct ml_err e;
	int rc = 0;
	char line[512], vline[512];

	memset(&t, 0, sizeof(t));
	t.t0 = now();
	ml_err_init(&e);
	ml_frame_init(&t.f);
	ml_frame_init(&t.g);
	t.given = calloc((size_t)argc + 1, sizeof(*t.given));
	if (!t.given || build_options(&t) < 0) {
		fprintf(stderr, "mltrain: out of memory\n");
		rc = EX_OSERR_;
		goto done;
	}
	t.cmd.prog = "mltrain";
	t.cmd.usage = usage_head;
	t.cmd.usage_tail = t.usage;
	t.cmd.own = t.opts;
	t.cmd.own_short = "t:a:";
	t.cmd.common = COMMON;
	t.cmd.help = help;
	if ((rc = cli_init(&t.cli, &t.cmd)) != 0)
		goto done;
	if (parse_args(&t, argc, argv, &rc) < 0 || (rc = check_args(&t, argc, argv)) != 0)
		goto done;
	if (!(t.out = ml_output_open(t.cli.output, &e)) ||
	    (t.report && !(t.rep_out = ml_output_open(t.report, &e))) ||
	    (t.oof && !(t.oof_out = ml_output_open(t.oof, &e))) ||
	    (t.feat_out_path && !(t.feat_out = ml_output_open(t.feat_out_path, &e)))) {
		rc = cli_fail(&t.cli, &e);
		goto done;
	}
	if ((rc = cli_ctx(&t.cli, &t.ctx)) != 0)
		goto done;
	t.ctx_ok = 1;
	t.ctx.log = log_cb;
	t.ctx.on_progress = progress_cb;
	t.ctx.log_ud = &t;
	if ((rc = load_data(&t, &e)) < 0 || (rc = fit_all(&t, &e)) < 0 ||
	    (t.cv && (rc = cross_validate(&t, &e)) < 0) ||
	    (t.report && (rc = write_report(&t, &e)) < 0) || (t.oof && (rc = write_oof(&t, &e)) < 0) ||
	    (rc = save_model(&t, &e)) < 0 || (t.feat && (rc = save_features(&t, &e)) < 0) ||
	    (rc = cli_commit((struct ml_output **[]){&t.out, &t.rep_out, &t.oof_out, &t.feat_out}, 4,
			     &e)) < 0) {
		cli_progress_clear(&t.cli);
		rc = cli_fail(&t.cli, &e);
		goto done;
	}
	fmt_metrics(&t, t.mtrain, NULL, line, sizeof(line));
	vline[0] = 0;
	if (t.nva && t.spec.target) {
		char v[400];
		fmt_metrics(&t, t.mvalid, NULL, v, sizeof(v));
		snprintf(vline, sizeof(vline), "; valid (%zu rows): %s", t.nva, v);
	}
	if (t.cli.verbose)
		say(&t, "times: read %.2f s, fit %.2f s, training metrics %.2f s, %s %.2f s",
		    t.t_read - t.t0, t.t_fit - t.t_read, t.t_score - t.t_fit,
		    t.cv ? "cross-validation and save" : "save", now() - t.t_score);
	say(&t, "%zu rows, %d feature%s, %.2f s%s%s%s", t.ntr, ml_learner_nfeatures(t.l),
	    ml_learner_nfeatures(t.l) == 1 ? "" : "s", now() - t.t0, line[0] ? "; train: " : "",
	    line, vline);
	rc = 0;
done:
	cli_progress_clear(&t.cli);
	if (t.out)
		ml_output_abort(t.out);
	if (t.rep_out)
		ml_output_abort(t.rep_out);
	if (t.oof_out)
		ml_output_abort(t.oof_out);
	if (t.feat_out)
		ml_output_abort(t.feat_out);
	ml_features_free(t.fp_all);
	ml_frame_release(&t.g);
	free(t.fstore);
	ml_learner_free(t.l);
	ml_frame_release(&t.f);
	if (t.ctx_ok)
		ml_ctx_release(&t.ctx);
	free(t.tr);
	free(t.va);
	ml_cv_result_release(&t.cvr);
	free(t.given);
	free(t.pnames);
	free(t.opts);
	free(t.usage);
	cli_release(&t.cli);
	return rc;
}
