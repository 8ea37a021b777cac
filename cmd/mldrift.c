/* mldrift: reference profiles, their merges, and drift tests of current data against a
 * reference (raw or profiled), with an exit status for cron. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "ml/drift.h"
#include "ml/feat.h"
#include "ml/fingerprint.h"
#include "ml/metrics.h"

const char cmd_name[] = "mldrift";

static const char usage[] =
	"Usage: mldrift --ref REF [OPTION]... [FILE]\n"
	"  or:  mldrift --profile -o PROFILE [OPTION]... [FILE]\n"
	"  or:  mldrift --merge -o PROFILE PROFILE...\n"
	"Compare a table with a reference, column by column, and exit 1 when it drifted; or\n"
	"build a reference profile in one pass; or merge profiles. REF is a table (CSV, TSV,\n"
	"gzip or ml-stream), a profile, or a model that keeps one (mltrain --profile).\n"
	"With no FILE, or when FILE is -, read standard input.\n"
	"\n"
	"      --ref=REF          the reference to compare with\n"
	"      --profile          write the profile of FILE to -o\n"
	"      --merge            merge the profiles given as arguments into -o\n"
	"      --tests=LIST       ks,chi2,psi,kl,js,wasserstein,mean,std,missing (default: ks\n"
	"                         and psi for numeric columns, chi2 and psi for categorical)\n"
	"      --cols=COLS        only these columns\n"
	"      --alpha=A          level of the ks and chi2 tests (default 0.05)\n"
	"      --correction=C     bh, bonferroni or none across columns (default bh)\n"
	"      --threshold=NAME=V psi (0.25), psi_warn (0.1), kl, js, wasserstein, mean, std\n"
	"                         (0.1), missing (0.05); repeatable\n"
	"      --share=S          the dataset drifted when at least this share of the columns\n"
	"                         drifted (default 0.5)\n"
	"      --report-only      exit 0 even when drift is found\n"
	"      --window=N         compare each N rows of FILE in turn (a window column first);\n"
	"                         with --profile, a profile each, to -o with {} for its number\n"
	"      --time-col=COL     with --period: compare (or --profile) each period of COL's\n"
	"                         times in turn\n"
	"      --period=P         1h, 1d, 1w, or another count of hours, days or weeks\n"
	"      --estimate=LIST    accuracy,auc,f1 of a binary classifier's scored rows,\n"
	"                         estimated from its probabilities alone (CBPE)\n"
	"      --truth=COL        the reference's label column, for its realised metrics\n"
	"      --max-drop=D       an estimate more than D below the reference's realised\n"
	"                         value is a finding (default 0.05)\n"
	"      --json             print JSON instead of the CSV report\n"
	"      --plot=FILE        draw the histograms of the drifting columns as SVG\n"
	"      --bins=N           histogram bins between the edges (default 10)\n"
	"      --max-categories=N categories counted per column before 'other' (default 100)\n"
	"      --bins-from=PROFILE take the bin edges from this profile (for pieces to merge)\n"
	"\n";

static const char usage_tail[] =
	"\n"
	"COLS: names, 1-based indices, ranges (2-5) and !negation, comma-separated.\n"
	"Exit status: 0 no drift, 1 drift found, 2 usage, 65 bad input data or profile,\n"
	"66 cannot open input, 70 internal error, 71 out of memory, 74 read/write error.\n"
	"Full documentation: man mldrift\n";

enum {
	O_REF = 1,
	O_PROFILE,
	O_MERGE,
	O_TESTS,
	O_COLS,
	O_ALPHA,
	O_CORRECTION,
	O_THRESHOLD,
	O_SHARE,
	O_REPORT_ONLY,
	O_WINDOW,
	O_JSON,
	O_BINS,
	O_MAXCAT,
	O_BINS_FROM,
	O_TIME_COL,
	O_ESTIMATE,
	O_TRUTH,
	O_MAX_DROP,
	O_PLOT,
	O_PERIOD
};

static const struct option own[] = {{"ref", required_argument, NULL, O_REF},
				    {"profile", no_argument, NULL, O_PROFILE},
				    {"merge", no_argument, NULL, O_MERGE},
				    {"tests", required_argument, NULL, O_TESTS},
				    {"cols", required_argument, NULL, O_COLS},
				    {"alpha", required_argument, NULL, O_ALPHA},
				    {"correction", required_argument, NULL, O_CORRECTION},
				    {"threshold", required_argument, NULL, O_THRESHOLD},
				    {"share", required_argument, NULL, O_SHARE},
				    {"report-only", no_argument, NULL, O_REPORT_ONLY},
				    {"window", required_argument, NULL, O_WINDOW},
				    {"json", no_argument, NULL, O_JSON},
				    {"bins", required_argument, NULL, O_BINS},
				    {"max-categories", required_argument, NULL, O_MAXCAT},
				    {"bins-from", required_argument, NULL, O_BINS_FROM},
				    {"time-col", required_argument, NULL, O_TIME_COL},
				    {"estimate", required_argument, NULL, O_ESTIMATE},
				    {"truth", required_argument, NULL, O_TRUTH},
				    {"max-drop", required_argument, NULL, O_MAX_DROP},
				    {"plot", required_argument, NULL, O_PLOT},
				    {"period", required_argument, NULL, O_PERIOD},
				    {NULL, 0, NULL, 0}};

static const struct cli_help help[] = {
	{CLI_OUTPUT_FILE, "the profile (--profile, --merge), or the report (default stdout)"},
	{CLI_SEED, "seed of the profile's quantile sketches (default 42)"},
	{CLI_THREADS, "threads over the columns when profiles are finished (default: every core)"},
	{0, NULL}};

static const struct cli_cmd cmd = {"mldrift", usage, usage_tail, own, "",
				   CLI_INPUT | CLI_OUTPUT_FILE | CLI_FORMAT | CLI_PRECISION |
					   CLI_SEED | CLI_THREADS | CLI_MESSAGES,
				   help};

struct drift {
	struct cli cli;
	struct ml_output *plot_out; /* the last block's --plot, committed with the report */
	struct ml_profile *last;    /* --plot: the last block's profile and comparison */
	struct ml_drift_row *last_row;
	size_t last_n;
	const char *ref, *cols, *bins_from;
	int profile, merge, json, report_only;
	long window;
	const char *time_col;
	const char *plot;
	long period; /* seconds */
	int tcol;
	double share;
	struct ml_drift_opts dopt;
	struct ml_profile_opts popt;
	struct ml_profile *refp, *edges;
	const char *ref_name;
	int blocks;             /* report blocks written */
	int found;              /* the dataset drifted in some block */
	struct ml_writer *w;    /* the CSV report */
	struct ml_frame rep;    /* one block's report rows */
	int warned_sketch;
	struct est *est; /* --estimate */
	int *pidx;       /* the current data's probability columns */
};

static const unsigned char model_magic[4] = {0x89, 'M', 'L', 'M'};

/* Whether path starts as an ml-model(5) container does (after gzip). */
static int is_container(const char *path, struct ml_err *e)
{
	struct ml_input *in = ml_input_open(path, e);
	const unsigned char *p;
	long n;
	int r;

	if (!in)
		return e->code;
	n = ml_input_peek(in, &p, 4, e);
	r = n < 0 ? (int)n : n >= 4 && memcmp(p, model_magic, 4) == 0;
	ml_input_close(in);
	return r;
}

/* A profile from a file: a profile container, or a model container keeping one. */
static struct ml_profile *load_profile(const char *path, struct ml_err *e)
{
	struct ml_model *m = ml_model_load(path, e), *mem;
	struct ml_profile *p;

	if (!m)
		return NULL;
	if (strcmp(ml_model_kind(m), "profile") == 0) {
		p = ml_profile_from_model(m, path, e);
		ml_model_free(m);
		return p;
	}
	if (strcmp(ml_model_kind(m), "model") != 0) {
		ml_err_set(e, ML_E_DATA, path, 0, 0, "not a profile but a '%s' artefact",
			   ml_model_kind(m));
		ml_model_free(m);
		return NULL;
	}
	if (!(mem = ml_model_get_member(m, ML_PROFILE_MEMBER, NULL))) {
		ml_err_set(e, ML_E_DATA, path, 0, 0,
			   "the model keeps no profile (train it with 'mltrain --profile')");
		ml_model_free(m);
		return NULL;
	}
	p = ml_profile_from_model(mem, path, e);
	ml_model_free(mem);
	ml_model_free(m);
	return p;
}

/* Profile a whole table (the reference, or --profile's input). */
static struct ml_profile *profile_file(struct drift *d, const char *path, int keep,
				       const char **name_out, struct ml_fingerprint *fp,
				       struct ml_err *e)
{
	struct ml_fingerprint_state *fs = NULL;
	struct ml_read_opts ro;
	struct ml_reader *r;
	struct ml_profile *p = NULL;
	struct ml_profile_opts po = d->popt;
	const struct ml_block *b;
	int *idx = NULL, n = 0;
	long k;

	cli_read_opts(&d->cli, &ro);
	if (!(r = ml_reader_open(path, &ro, e)))
		return NULL;
	if (d->cols && d->profile) {
		n = ml_schema_find_or_suggest(ml_reader_schema(r), d->cols, "--cols", ml_reader_name(r),
					      &idx, e);
		if (n < 0)
			goto out;
	}
	po.keep_values = keep;
	if (!(p = ml_profile_new(ml_reader_schema(r), idx, n, &po, e)))
		goto out;
	if (fp && !(fs = ml_fingerprint_begin(ml_reader_schema(r), e))) {
		ml_profile_free(p);
		p = NULL;
		goto out;
	}
	while ((k = ml_reader_next(r, &b, e)) > 0) {
		if (ml_profile_add(p, b, 0, (size_t)k, e) < 0)
			break;
		if (fs)
			ml_fingerprint_add(fs, ml_reader_schema(r), b, 0, (size_t)k);
	}
	ml_fingerprint_end(fs, fp);
	if (k < 0 || e->code || ml_profile_finish(p, e) < 0) {
		ml_profile_free(p);
		p = NULL;
	}
	if (name_out)
		*name_out = path && strcmp(path, "-") != 0 ? path : "<stdin>";
out:
	free(idx);
	if (!p && !e->where[0])
		snprintf(e->where, sizeof(e->where), "%s", ml_reader_name(r));
	ml_reader_close(r);
	return p;
}

/* Save p to path, with the fingerprint of the rows it describes when fp is not NULL. */
static int save_profile(const struct ml_profile *p, const char *path,
			const struct ml_fingerprint *fp, struct ml_err *e)
{
	struct ml_model *m = ml_profile_to_model(p, e);
	int rc;

	if (!m)
		return e->code;
	if ((rc = cli_stamp(m, e)) == 0 && fp)
		rc = ml_model_set_fingerprint(m, fp, e);
	if (rc == 0)
		rc = ml_model_save(m, path, e);
	ml_model_free(m);
	return rc;
}

static int run_merge(struct drift *d, int argc, char **argv, struct ml_err *e)
{
	struct ml_profile *acc = NULL;
	int i, rc = 0;

	for (i = 0; i < argc; i++) {
		struct ml_profile *p = load_profile(argv[i], e);
		if (!p) {
			rc = e->code;
			break;
		}
		if (!acc) {
			acc = p;
			continue;
		}
		rc = ml_profile_merge(acc, p, e);
		ml_profile_free(p);
		if (rc < 0) {
			if (!e->where[0])
				snprintf(e->where, sizeof(e->where), "%s", argv[i]);
			break;
		}
	}
	if (rc == 0)
		rc = save_profile(acc, d->cli.output, NULL, e);
	ml_profile_free(acc);
	return rc;
}

/* The columns of the current input that the reference must match, by name and type;
 * every difference is reported at once. */
static int check_columns(struct drift *d, const struct ml_schema *s, const char *name,
			 int **idx, int *n, struct ml_err *e)
{
	char missing[512] = "", extra[512] = "", *m;
	int j, k;

	*idx = NULL;
	*n = 0;
	if (d->cols) {
		if ((*n = ml_schema_find_or_suggest(s, d->cols, "--cols", name, idx, e)) < 0)
			return *n;
	} else {
		if (!(*idx = malloc((size_t)(s->ncol ? s->ncol : 1) * sizeof(int))))
			return ml_err_nomem(e);
		for (j = 0; j < s->ncol; j++)
			if (!d->time_col || j != d->tcol)
				(*idx)[(*n)++] = j;
		for (j = 0; j < ml_profile_ncol(d->refp); j++)
			if (ml_schema_find(s, ml_profile_col_name(d->refp, j)) < 0 &&
			    (!d->time_col || strcmp(ml_profile_col_name(d->refp, j), s->cols[d->tcol].name) != 0)) {
				m = missing + strlen(missing);
				snprintf(m, sizeof(missing) - (size_t)(m - missing), "%s'%s'",
					 missing[0] ? ", " : "", ml_profile_col_name(d->refp, j));
			}
	}
	for (k = 0; k < *n; k++) {
		const struct ml_col *c = &s->cols[(*idx)[k]];
		int r = ml_profile_find(d->refp, c->name);
		if (r < 0) {
			m = extra + strlen(extra);
			snprintf(m, sizeof(extra) - (size_t)(m - extra), "%s'%s'", extra[0] ? ", " : "",
				 c->name);
		} else if (ml_profile_col_type(d->refp, r) != c->type) {
			return ml_err_set(e, ML_E_DATA, name, 0, 0,
					  "column '%s' is %s here but %s in the reference '%s'", c->name,
					  c->type == ML_NUM ? "numeric" : "categorical",
					  c->type == ML_NUM ? "categorical" : "numeric", d->ref_name);
		}
	}
	if (missing[0] || extra[0])
		return ml_err_set(e, ML_E_DATA, name, 0, 0,
				  "the columns differ from the reference '%s'%s%s%s%s (use --cols to compare some)",
				  d->ref_name, missing[0] ? "; missing here: " : "", missing,
				  extra[0] ? "; not in the reference: " : "", extra);
	return 0;
}

static const char *const sev_names[] = {"none", "warn", "alert"};

static void json_num(int *bad, cJSON *o, const char *k, double v)
{
	cli_json_item(bad, o, k, isnan(v) ? cJSON_CreateNull() : cJSON_CreateNumber(v));
}

/* A row of the report. */
struct line {
	const char *column, *type, *test;
	double statistic, p_value, threshold;
	int drift, severity, sketch; /* sketch: -1 where ks/wasserstein's method does not apply */
};

/* One block's report: the test rows, the estimates, then the dataset's verdict row. */
static int report(struct drift *d, FILE *fp, const struct ml_profile *cur, const char *window,
		  const struct ml_drift_row *row, size_t n, const struct line *est, int nest,
		  struct ml_err *e)
{
	int ncol = ml_profile_ncol(cur), drifted = 0, j, rc = 0, dataset;
	int *col_drift = calloc((size_t)(ncol ? ncol : 1), sizeof(int));
	struct line *ln = malloc((n + (size_t)nest + 1) * sizeof(*ln));
	size_t i, nl = 0;
	double share;

	if (!col_drift || !ln) {
		free(col_drift);
		free(ln);
		return ml_err_nomem(e);
	}
	for (i = 0; i < n; i++)
		if (row[i].drift)
			col_drift[row[i].col] = 1;
	for (j = 0; j < ncol; j++)
		drifted += col_drift[j];
	free(col_drift);
	share = ncol ? (double)drifted / ncol : 0;
	dataset = drifted > 0 && share >= d->share;
	if (dataset)
		d->found = 1;
	for (i = 0; i < n; i++) {
		struct line *l = &ln[nl++];
		l->column = ml_profile_col_name(cur, row[i].col);
		l->type = ml_profile_col_type(cur, row[i].col) == ML_NUM ? "num" : "cat";
		l->test = ml_drift_test_name(row[i].test);
		l->statistic = row[i].statistic;
		l->p_value = row[i].p_value;
		l->threshold = row[i].threshold;
		l->drift = row[i].drift;
		l->severity = row[i].severity;
		l->sketch = row[i].test == ML_DT_KS || row[i].test == ML_DT_WASSERSTEIN ? row[i].sketch : -1;
		if (l->sketch > 0 && !d->warned_sketch) {
			cli_warn(&d->cli, "ks and wasserstein use the reference's quantile sketch (rank error about 0.1%%), not its rows");
			d->warned_sketch = 1;
		}
	}
	for (j = 0; j < nest; j++) {
		ln[nl++] = est[j];
		if (est[j].drift)
			d->found = 1;
	}
	ln[nl].column = "*";
	ln[nl].type = "dataset";
	ln[nl].test = "share";
	ln[nl].statistic = share;
	ln[nl].p_value = NAN;
	ln[nl].threshold = d->share;
	ln[nl].drift = dataset;
	ln[nl].severity = dataset ? ML_SEV_ALERT : ML_SEV_NONE;
	ln[nl++].sketch = -1;
	if (d->json) {
		cJSON *o = cJSON_CreateObject(), *a;
		char *txt;
		int bad = 0;
		if (!o) {
			free(ln);
			return ml_err_nomem(e);
		}
		/* every addition checked: a report missing a key for want of memory is a wrong one */
		if (window && d->time_col)
			cli_json_str(&bad, o, "window", window);
		else if (window)
			cli_json_item(&bad, o, "window", cJSON_CreateRaw(window));
		cli_json_str(&bad, o, "reference", d->ref_name);
		cli_json_num(&bad, o, "rows", (double)ml_profile_rows(cur));
		cli_json_item(&bad, o, "tests", a = cJSON_CreateArray());
		for (i = 0; i + 1 < nl && !bad; i++) {
			cJSON *t = cJSON_CreateObject();
			cli_json_item(&bad, a, NULL, t);
			if (bad)
				break;
			cli_json_str(&bad, t, "column", ln[i].column);
			cli_json_str(&bad, t, "type", ln[i].type);
			cli_json_str(&bad, t, "test", ln[i].test);
			json_num(&bad, t, "statistic", ln[i].statistic);
			json_num(&bad, t, "p_value", ln[i].p_value);
			json_num(&bad, t, "threshold", ln[i].threshold);
			cli_json_item(&bad, t, "drift", cJSON_CreateBool(ln[i].drift));
			cli_json_str(&bad, t, "severity", sev_names[ln[i].severity]);
			if (ln[i].sketch >= 0)
				cli_json_str(&bad, t, "method", ln[i].sketch ? "sketch" : "exact");
		}
		cli_json_num(&bad, o, "columns", ncol);
		cli_json_num(&bad, o, "drifted_columns", drifted);
		cli_json_num(&bad, o, "share", share);
		cli_json_item(&bad, o, "dataset_drift", cJSON_CreateBool(dataset));
		txt = bad ? NULL : cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
		free(ln);
		if (!txt)
			return ml_err_nomem(e);
		fprintf(fp, "%s\n", txt);
		free(txt);
		return 0;
	}
	{
		struct ml_frame *f = &d->rep;
		struct ml_schema *s = &f->schema;
		int w0 = window != NULL, c = w0;
		size_t r;
		if (s->ncol == 0) {
			static const char *const names[] = {"column", "type", "test", "statistic", "p_value",
							    "threshold", "drift", "severity"};
			static const enum ml_type types[] = {ML_CAT, ML_CAT, ML_CAT, ML_NUM,
							     ML_NUM, ML_NUM, ML_NUM, ML_CAT};
			if (w0 && ml_schema_add(s, "window", ML_CAT) < 0)
				rc = ml_err_nomem(e);
			for (j = 0; j < 8 && rc == 0; j++)
				if (ml_schema_add(s, names[j], types[j]) < 0)
					rc = ml_err_nomem(e);
			if (rc == 0)
				rc = ml_block_init(&f->rows, s, nl, e);
		}
		if (rc == 0)
			rc = ml_block_reserve(&f->rows, nl, e);
		for (r = 0; r < nl && rc == 0; r++) {
			const char *str[5] = {window, ln[r].column, ln[r].type, ln[r].test,
					      sev_names[ln[r].severity]};
			int at[5] = {0, c, c + 1, c + 2, c + 7}, q;
			union ml_colv *v = f->rows.col;
			for (q = w0 ? 0 : 1; q < 5; q++) {
				int32_t code = ml_dict_intern(&s->cols[at[q]].dict, str[q], strlen(str[q]));
				if (code < 0) {
					rc = ml_err_nomem(e);
					break;
				}
				v[at[q]].cat[r] = code;
			}
			v[c + 3].num[r] = ln[r].statistic;
			v[c + 4].num[r] = ln[r].p_value;
			v[c + 5].num[r] = ln[r].threshold;
			v[c + 6].num[r] = ln[r].drift;
		}
		free(ln);
		if (rc < 0)
			return rc;
		f->rows.nrow = nl;
		if (!d->w) {
			struct ml_write_opts wo;
			cli_write_opts(&d->cli, &wo);
			if (!(d->w = ml_writer_open(fp, cli_output_name(&d->cli), s, &wo, e)))
				return e->code;
		}
		rc = ml_writer_write(d->w, &f->rows, 0, f->rows.nrow, e);
	}
	return rc;
}

/* --estimate: confidence-based performance estimation (CBPE) of a classifier's accuracy,
 * AUC and F1 from its calibrated probabilities alone: binary metrics for two classes,
 * macro averages over the classes (one against the rest) for more. */
enum { EST_ACCURACY, EST_AUC, EST_F1, EST_COUNT };
static const char *const est_names[EST_COUNT] = {"accuracy", "auc", "f1"};

struct est {
	unsigned metrics; /* bits 1 << EST_* */
	const char *truth;
	double max_drop;
	int k;           /* classes */
	char **pcol;     /* the probability columns p_LABEL, in sorted order */
	char **label;    /* their labels */
	double realised[EST_COUNT];
	/* the current window */
	double *p;       /* k probabilities per row */
	size_t n, cap;
};

/* The probability columns p_LABEL of s (at least two: a classifier's), in sorted order, as
 * *idx; the same as the reference's when those are known. */
static int find_probs(struct est *x, const struct ml_schema *s, const char *name, int **idx,
		      struct ml_err *e)
{
	int j, k = 0;

	free(*idx);
	if (!(*idx = malloc((size_t)(s->ncol ? s->ncol : 1) * sizeof(int))))
		return ml_err_nomem(e);
	for (j = 0; j < s->ncol; j++)
		if (strncmp(s->cols[j].name, "p_", 2) == 0 && s->cols[j].type == ML_NUM)
			(*idx)[k++] = j;
	if (k < 2)
		return ml_err_set(e, ML_E_DATA, name, 0, 0,
				  "--estimate needs the p_LABEL columns of a classifier (mlpredict's output)");
	for (j = 1; j < k; j++) { /* a few columns: insertion sort by name */
		int v = (*idx)[j], i = j;
		for (; i > 0 && strcmp(s->cols[(*idx)[i - 1]].name, s->cols[v].name) > 0; i--)
			(*idx)[i] = (*idx)[i - 1];
		(*idx)[i] = v;
	}
	if (!x->pcol) {
		if (!(x->pcol = calloc((size_t)k, sizeof(char *))) ||
		    !(x->label = calloc((size_t)k, sizeof(char *))))
			return ml_err_nomem(e);
		x->k = k;
		for (j = 0; j < k; j++)
			if (!(x->pcol[j] = strdup(s->cols[(*idx)[j]].name)) ||
			    !(x->label[j] = strdup(s->cols[(*idx)[j]].name + 2)))
				return ml_err_nomem(e);
		return 0;
	}
	for (j = 0; j < k && j < x->k; j++)
		if (strcmp(x->pcol[j], s->cols[(*idx)[j]].name) != 0)
			break;
	if (k != x->k || j < k)
		return ml_err_set(e, ML_E_DATA, name, 0, 0,
				  "the probability columns differ from the reference's ('%s' ... '%s', %d of them)",
				  x->pcol[0], x->pcol[x->k - 1], x->k);
	return 0;
}

/* The binary metrics of class c's scores: accuracy is not among them. Each row counts as a
 * positive of weight y (the truth, 1 or 0, or the probability itself when truth is NULL: the
 * expected counts) and a negative of weight 1 - y. */
static int class_metrics(const double *p, int k, int c, const int32_t *truth, const int *pred,
			 size_t n, double *auc, double *f1, struct ml_err *e)
{
	double tp = 0, fp = 0, fn = 0, *sc, *w;
	int32_t *t;
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		double y = truth ? truth[i] == c : p[i * (size_t)k + (size_t)c];
		int yes = pred[i] == c;
		tp += yes * y;
		fp += yes * (1 - y);
		fn += (1 - yes) * y;
	}
	*f1 = tp + fp + fn > 0 ? 2 * tp / (2 * tp + fp + fn) : NAN;
	sc = malloc(2 * (n ? n : 1) * sizeof(double));
	w = malloc(2 * (n ? n : 1) * sizeof(double));
	t = malloc(2 * (n ? n : 1) * sizeof(int32_t));
	if (!sc || !w || !t) {
		free(sc), free(w), free(t);
		return ml_err_nomem(e);
	}
	for (i = 0; i < n; i++) {
		double q = p[i * (size_t)k + (size_t)c];
		double y = truth ? truth[i] == c : q;
		sc[2 * i] = sc[2 * i + 1] = q;
		t[2 * i] = 1;
		t[2 * i + 1] = 0;
		w[2 * i] = y;
		w[2 * i + 1] = 1 - y;
	}
	rc = ml_auc(sc, 2 * n, t, 1, w, auc, e);
	free(sc), free(w), free(t);
	return rc;
}

/* The metrics of n rows of k probabilities p for a truth (class indices), or the expected
 * metrics when truth is NULL. The predicted class has the first largest probability, as
 * mlpredict's; with two classes AUC and F1 are the second (positive) class's, with more the
 * macro averages over the classes. */
static int metrics_of(const double *p, int k, const int32_t *truth, size_t n,
		      double out[EST_COUNT], struct ml_err *e)
{
	double ok = 0, auc, f1, sum_auc = 0, sum_f1 = 0;
	int *pred = malloc((n ? n : 1) * sizeof(int)), c, rc = 0;
	size_t i;

	if (!pred)
		return ml_err_nomem(e);
	for (i = 0; i < n; i++) {
		const double *r = p + i * (size_t)k;
		int b = 0;
		for (c = 1; c < k; c++)
			if (r[c] > r[b])
				b = c;
		pred[i] = b;
		ok += truth ? truth[i] == b : r[b];
	}
	out[EST_ACCURACY] = n ? ok / (double)n : NAN;
	if (k == 2) {
		rc = class_metrics(p, k, 1, truth, pred, n, &out[EST_AUC], &out[EST_F1], e);
		free(pred);
		return rc;
	}
	/* macro averages; a class never predicted nor true has F1 0, as scikit-learn's */
	for (c = 0; c < k && rc == 0; c++) {
		rc = class_metrics(p, k, c, truth, pred, n, &auc, &f1, e);
		sum_auc += auc;
		sum_f1 += isnan(f1) ? 0 : f1;
	}
	out[EST_AUC] = sum_auc / k;
	out[EST_F1] = sum_f1 / k;
	free(pred);
	return rc;
}

/* The profile of the rows of f, keeping their values, as profile_file makes of a file. */
static struct ml_profile *profile_frame(struct drift *d, const struct ml_frame *f,
					struct ml_err *e)
{
	struct ml_profile_opts po = d->popt;
	struct ml_profile *p;

	po.keep_values = 1;
	if (!(p = ml_profile_new(&f->schema, NULL, 0, &po, e)))
		return NULL;
	if (ml_profile_add(p, &f->rows, 0, f->rows.nrow, e) < 0 || ml_profile_finish(p, e) < 0) {
		ml_profile_free(p);
		return NULL;
	}
	return p;
}

/* The reference's profile and its realised metrics, from its scores and its truth: one
 * reading of the table for both. */
static struct ml_profile *est_reference(struct drift *d, struct est *x, struct ml_err *e)
{
	struct ml_frame f;
	struct ml_read_opts ro;
	struct ml_profile *prof = NULL;
	int *idx = NULL, tc, rc, c;
	int32_t *truth = NULL;
	double *p = NULL;
	size_t i, n;

	ml_frame_init(&f);
	cli_read_opts(&d->cli, &ro);
	if ((rc = ml_frame_read(&f, d->ref, &ro, e)) < 0)
		goto out;
	if (!(prof = profile_frame(d, &f, e))) {
		rc = e->code;
		goto out;
	}
	if ((rc = find_probs(x, &f.schema, d->ref, &idx, e)) < 0)
		goto out;
	if ((tc = ml_schema_find_or_suggest(&f.schema, x->truth, "--truth", d->ref, NULL, e)) < 0) {
		rc = tc;
		goto out;
	}
	n = f.rows.nrow;
	truth = malloc((n ? n : 1) * sizeof(int32_t));
	p = malloc((n ? n : 1) * (size_t)x->k * sizeof(double));
	if (!truth || !p) {
		rc = ml_err_nomem(e);
		goto out;
	}
	for (i = 0; i < n; i++) {
		char num[ML_FMT_DOUBLE_MAX + 1];
		const char *lab;
		if (f.schema.cols[tc].type == ML_NUM) {
			ml_fmt_double(num, f.rows.col[tc].num[i]);
			lab = isnan(f.rows.col[tc].num[i]) ? NULL : num;
		} else {
			int32_t code = f.rows.col[tc].cat[i];
			lab = code < 0 ? NULL : f.schema.cols[tc].dict.str[code];
		}
		for (c = 0; lab && c < x->k; c++)
			if (strcmp(lab, x->label[c]) == 0)
				break;
		if (!lab || c == x->k) {
			rc = ml_err_set(e, ML_E_DATA, d->ref, f.rows.line ? f.rows.line[i] : 0, tc + 1,
					"the truth '%s' is none of the classes of the p_LABEL columns ('%s' ... '%s')",
					lab ? lab : "", x->label[0], x->label[x->k - 1]);
			goto out;
		}
		truth[i] = c;
		for (c = 0; c < x->k; c++)
			p[i * (size_t)x->k + (size_t)c] = f.rows.col[idx[c]].num[i];
	}
	rc = metrics_of(p, x->k, truth, n, x->realised, e);
out:
	free(idx);
	free(truth);
	free(p);
	ml_frame_release(&f);
	if (rc < 0) {
		ml_profile_free(prof);
		return NULL;
	}
	return prof;
}

/* The current window's scores: the rows with every probability present. */
static int est_add(struct est *x, const struct ml_block *b, const int *idx, size_t from,
		   size_t to, struct ml_err *e)
{
	size_t i, k = (size_t)x->k;
	int c;

	if (x->n + (to - from) > x->cap) {
		size_t nc = (x->n + (to - from)) * 2;
		double *t = realloc(x->p, nc * k * sizeof(double));
		if (!t)
			return ml_err_nomem(e);
		x->p = t;
		x->cap = nc;
	}
	for (i = from; i < to; i++) {
		double *r = x->p + x->n * k;
		for (c = 0; c < x->k; c++)
			if (isnan(r[c] = b->col[idx[c]].num[i]))
				break;
		if (c == x->k)
			x->n++;
	}
	return 0;
}

/* The estimate rows of a window: per metric the estimate, then the reference's value. */
static int est_rows(const struct est *x, struct line *ln, int *nl, struct ml_err *e)
{
	double v[EST_COUNT];
	int m, rc;

	*nl = 0;
	if ((rc = metrics_of(x->p, x->k, NULL, x->n, v, e)) < 0)
		return rc;
	for (m = 0; m < EST_COUNT; m++) {
		struct line *l;
		if (!(x->metrics & (1u << m)))
			continue;
		l = &ln[(*nl)++];
		l->column = est_names[m];
		l->type = "estimate";
		l->test = "cbpe";
		l->statistic = v[m];
		l->p_value = NAN;
		l->threshold = x->realised[m] - x->max_drop;
		l->drift = v[m] < l->threshold;
		l->severity = l->drift ? ML_SEV_ALERT : ML_SEV_NONE;
		l->sketch = -1;
		l = &ln[(*nl)++];
		l->column = est_names[m];
		l->type = "reference";
		l->test = "realised";
		l->statistic = x->realised[m];
		l->p_value = l->threshold = NAN;
		l->drift = 0;
		l->severity = ML_SEV_NONE;
		l->sketch = -1;
	}
	return 0;
}

/* Text for SVG: the XML specials escaped. */
static void svg_text(FILE *fp, const char *t)
{
	for (; *t; t++) {
		if (*t == '<')
			fputs("&lt;", fp);
		else if (*t == '>')
			fputs("&gt;", fp);
		else if (*t == '&')
			fputs("&amp;", fp);
		else if ((unsigned char)*t >= 0x20)
			fputc(*t, fp);
	}
}

/* --plot: per drifting column a panel of the reference's and the current data's shares of
 * each bin, bars side by side. */
static int plot_block(struct drift *d, const struct ml_profile *cur, const struct ml_drift_row *row,
		      size_t n, struct ml_err *e)
{
	const int W = 640, H = 220, L = 50, T = 30, PW = 560, PH = 140;
	struct ml_output *o;
	FILE *fp;
	int ncol = ml_profile_ncol(cur), *drift = calloc((size_t)(ncol ? ncol : 1), sizeof(int));
	int j, k, np = 0, panel = 0;
	size_t i;

	if (!drift)
		return ml_err_nomem(e);
	for (i = 0; i < n; i++)
		if (row[i].drift && !drift[row[i].col]) {
			drift[row[i].col] = 1;
			np++;
		}
	if (!(o = ml_output_open(d->plot, e))) {
		free(drift);
		return e->code;
	}
	fp = ml_output_file(o);
	fprintf(fp, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		    "font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%%\" "
		    "height=\"100%%\" fill=\"white\"/>\n", W, np ? np * H : 40);
	if (!np)
		fputs("<text x=\"10\" y=\"24\">no column drifted</text>\n", fp);
	for (j = 0; j < ncol; j++) {
		struct ml_profile_col rc_, cc;
		double *h, tr = 0, tc = 0, top = 0;
		int y0 = panel * H, r = ml_profile_find(d->refp, ml_profile_col_name(cur, j));
		if (!drift[j])
			continue;
		ml_profile_col(d->refp, r, &rc_);
		ml_profile_col(cur, j, &cc);
		if (!(h = malloc((size_t)rc_.nbin * sizeof(double))) ||
		    ml_drift_align(d->refp, cur, j, h, e) < 0) {
			free(h);
			free(drift);
			ml_output_abort(o);
			return h ? e->code : ml_err_nomem(e);
		}
		for (k = 0; k < rc_.nbin; k++) {
			tr += rc_.hist[k];
			tc += h[k];
		}
		for (k = 0; k < rc_.nbin; k++) {
			double a = tr > 0 ? rc_.hist[k] / tr : 0, b = tc > 0 ? h[k] / tc : 0;
			top = fmax(top, fmax(a, b));
		}
		fprintf(fp, "<text x=\"%d\" y=\"%d\" font-size=\"13\">", L, y0 + 18);
		svg_text(fp, cc.name);
		fputs(": reference (blue) and current (orange) share of each bin</text>\n", fp);
		fprintf(fp, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#444\"/>\n", L,
			y0 + T + PH, L + PW, y0 + T + PH);
		fprintf(fp, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%.3g</text>\n", L - 4,
			y0 + T + 4, top);
		for (k = 0; k < rc_.nbin; k++) {
			double bw = (double)PW / rc_.nbin, a = tr > 0 ? rc_.hist[k] / tr : 0;
			double b = tc > 0 ? h[k] / tc : 0, x = L + k * bw;
			double ha = top > 0 ? a / top * PH : 0, hb = top > 0 ? b / top * PH : 0;
			fprintf(fp, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#4c78a8\"/>\n",
				x + bw * 0.1, y0 + T + PH - ha, bw * 0.4, ha);
			fprintf(fp, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#f58518\"/>\n",
				x + bw * 0.5, y0 + T + PH - hb, bw * 0.4, hb);
			fprintf(fp, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" font-size=\"9\">",
				x + bw / 2, y0 + T + PH + 12);
			if (rc_.type == ML_CAT)
				svg_text(fp, k < rc_.nbin - 1 ? rc_.label[k] : "other");
			else if (k == 0)
				fputs("below", fp);
			else if (k == rc_.nbin - 1)
				fputs("above", fp);
			else
				fprintf(fp, "%.4g", rc_.edge[k - 1]);
			fputs("</text>\n", fp);
		}
		free(h);
		panel++;
	}
	fputs("</svg>\n", fp);
	free(drift);
	d->plot_out = o;
	return 0;
}

/* Compare the block cur (taken: freed, or kept for --plot, which draws the last block's
 * once every block is read). */
static int compare_block(struct drift *d, FILE *fp, struct ml_profile *cur, const char *window,
			 const char *name, struct ml_err *e)
{
	struct ml_drift_row *row;
	size_t n;
	int rc;

	if ((rc = ml_profile_finish(cur, e)) < 0)
		goto out;
	if (ml_profile_rows(cur) == 0) {
		rc = ml_err_set(e, ML_E_DATA, name, 0, 0, "no rows to compare");
		goto out;
	}
	if ((rc = ml_drift_compare(d->refp, cur, &d->dopt, &row, &n, e)) < 0)
		goto out;
	if (d->est) {
		struct line ln[2 * EST_COUNT];
		int nl;
		if ((rc = est_rows(d->est, ln, &nl, e)) == 0)
			rc = report(d, fp, cur, window, row, n, ln, nl, e);
		d->est->n = 0;
	} else {
		rc = report(d, fp, cur, window, row, n, NULL, 0, e);
	}
	if (rc == 0 && d->plot) {
		ml_profile_free(d->last);
		free(d->last_row);
		d->last = cur;
		d->last_row = row;
		d->last_n = n;
		cur = NULL;
		row = NULL;
	}
	free(row);
	d->blocks++;
out:
	ml_profile_free(cur);
	return rc;
}

/* The period of a row's time: its number since the epoch (weeks from Monday), or -1 with
 * e set when the row has no time that parses. */
static int row_period(const struct drift *d, const struct ml_schema *s, const struct ml_block *b,
		      size_t i, long long *key, const char *name, struct ml_err *e)
{
	double t;
	int ok;

	if (s->cols[d->tcol].type == ML_NUM) {
		t = b->col[d->tcol].num[i];
		ok = !isnan(t);
	} else {
		int32_t c = b->col[d->tcol].cat[i];
		const struct ml_dict *dc = &s->cols[d->tcol].dict;
		ok = c >= 0 && ml_parse_time(dc->str[c], dc->len[c], &t) == 0;
	}
	if (!ok || !isfinite(t))
		return ml_err_set(e, ML_E_DATA, name, b->line ? b->line[i] : 0, d->tcol + 1,
				  "no time in column '%s' (--time-col)", s->cols[d->tcol].name);
	*key = (long long)floor((t + (d->period == 604800 ? 3 * 86400.0 : 0)) / d->period);
	return 0;
}

/* The window's name: its number, or the start of its period (UTC). */
static void period_label(const struct drift *d, long long key, long num, char *buf, size_t n)
{
	time_t t;
	struct tm tm;

	if (!d->time_col) {
		snprintf(buf, n, "%ld", num);
		return;
	}
	t = (time_t)(key * d->period - (d->period == 604800 ? 3 * 86400 : 0));
	gmtime_r(&t, &tm);
	if (d->period % 86400 == 0)
		strftime(buf, n, "%Y-%m-%d", &tm);
	else
		strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* --profile with windows: the window's profile to -o with its name in place of {}. The
 * first window's bins (or --bins-from's) serve every later window, so that they merge. */
static int profile_window(struct drift *d, struct ml_profile *cur,
			  struct ml_fingerprint_state **fs, const char *label, struct ml_err *e)
{
	struct ml_fingerprint fp;
	const char *out = d->cli.output, *at = strstr(out, "{}");
	size_t n = strlen(out) - 2 + strlen(label) + 1;
	char *path;
	int rc;

	if ((rc = ml_profile_finish(cur, e)) < 0)
		return rc;
	if (!(path = malloc(n)))
		return ml_err_nomem(e);
	snprintf(path, n, "%.*s%s%s", (int)(at - out), out, label, at + 2);
	ml_fingerprint_end(*fs, &fp);
	*fs = NULL;
	rc = save_profile(cur, path, &fp, e);
	free(path);
	d->blocks++;
	return rc;
}

static int run_compare(struct drift *d, const char *path, FILE *fp, struct ml_err *e)
{
	struct ml_read_opts ro;
	struct ml_reader *r;
	struct ml_profile *cur = NULL, *first = NULL;
	struct ml_fingerprint_state *fs = NULL;
	struct ml_profile_opts po;
	const struct ml_block *b;
	const char *name;
	int *idx = NULL, n, j, rc, windows = d->window > 0 || d->time_col;
	long k, num = 1;
	long long key = 0, k2;
	unsigned long long in_window = 0;
	char label[64];

	cli_read_opts(&d->cli, &ro);
	if (!(r = ml_reader_open(path, &ro, e)))
		return e->code;
	name = ml_reader_name(r);
	/* The first rows type the columns; without any there is nothing to compare. */
	if ((k = ml_reader_next(r, &b, e)) < 0) {
		rc = (int)k;
		goto out;
	}
	if (k == 0) {
		rc = ml_err_set(e, ML_E_DATA, name, 0, 0, "no rows to compare");
		goto out;
	}
	if (d->time_col &&
	    (d->tcol = ml_schema_find_or_suggest(ml_reader_schema(r), d->time_col, "--time-col", name,
						  NULL, e)) < 0) {
		rc = d->tcol;
		goto out;
	}
	po = d->popt;
	if (d->profile) {
		const struct ml_schema *s = ml_reader_schema(r);
		if (d->cols) {
			if ((n = ml_schema_find_or_suggest(s, d->cols, "--cols", name, &idx, e)) < 0) {
				rc = n;
				goto out;
			}
		} else {
			if (!(idx = malloc((size_t)(s->ncol ? s->ncol : 1) * sizeof(int)))) {
				rc = ml_err_nomem(e);
				goto out;
			}
			for (n = 0, j = 0; j < s->ncol; j++)
				if (!d->time_col || j != d->tcol)
					idx[n++] = j;
		}
		po.keep_values = 0;
	} else {
		if ((rc = check_columns(d, ml_reader_schema(r), name, &idx, &n, e)) < 0)
			goto out;
		if (d->est && (rc = find_probs(d->est, ml_reader_schema(r), name, &d->pidx, e)) < 0)
			goto out;
		po.edges = d->refp;
		po.keep_values = 1;
		po.max_categories = 0x7fffffff;
	}
	for (; k > 0; k = ml_reader_next(r, &b, e)) {
		size_t from = 0;
		while (from < (size_t)k) {
			size_t to = (size_t)k;
			int full = 0;
			if (d->time_col) {
				/* the rows of the current period */
				if ((rc = row_period(d, ml_reader_schema(r), b, from, &k2, name, e)) < 0)
					goto out;
				if (cur && k2 != key) {
					full = 1;
					to = from;
				} else {
					key = k2;
					for (to = from + 1; to < (size_t)k; to++) {
						if ((rc = row_period(d, ml_reader_schema(r), b, to, &k2, name, e)) < 0)
							goto out;
						if (k2 != key)
							break;
					}
					full = to < (size_t)k;
				}
			} else if (d->window > 0) {
				if (to - from >= (unsigned long long)d->window - in_window) {
					to = from + (size_t)((unsigned long long)d->window - in_window);
					full = 1;
				}
			}
			if (to > from) {
				if (!cur && !(cur = ml_profile_new(ml_reader_schema(r), idx, n, &po, e))) {
					rc = e->code;
					goto out;
				}
				if ((rc = ml_profile_add(cur, b, from, to, e)) < 0)
					goto out;
				if (d->profile && !fs &&
				    !(fs = ml_fingerprint_begin(ml_reader_schema(r), e))) {
					rc = e->code;
					goto out;
				}
				if (fs)
					ml_fingerprint_add(fs, ml_reader_schema(r), b, from, to);
				if (d->est && (rc = est_add(d->est, b, d->pidx, from, to, e)) < 0)
					goto out;
				in_window += to - from;
				from = to;
			}
			if (full && cur) {
				period_label(d, key, num++, label, sizeof(label));
				if (!d->profile) {
					rc = compare_block(d, fp, cur, label, name, e);
				} else if ((rc = profile_window(d, cur, &fs, label, e)) == 0 && !po.edges) {
					po.edges = first = cur;
				} else {
					ml_profile_free(cur);
				}
				cur = NULL;
				in_window = 0;
				if (rc < 0)
					goto out;
			}
		}
	}
	if (k < 0) {
		rc = (int)k;
		goto out;
	}
	if (cur) {
		period_label(d, key, num, label, sizeof(label));
		if (d->profile) {
			rc = profile_window(d, cur, &fs, label, e);
		} else {
			rc = compare_block(d, fp, cur, windows ? label : NULL, name, e);
			cur = NULL; /* taken */
		}
	}
	if (rc == 0 && d->w)
		rc = ml_writer_finish(d->w, e);
out:
	if (rc < 0 && !e->where[0])
		snprintf(e->where, sizeof(e->where), "%s", name);
	ml_profile_free(cur);
	ml_profile_free(first);
	ml_fingerprint_end(fs, NULL);
	free(idx);
	ml_reader_close(r);
	return rc;
}

static int parse_tests(struct drift *d, const char *s)
{
	unsigned bits = 0;

	while (*s) {
		size_t len = strcspn(s, ",");
		int t = ml_drift_test_parse(s, len);
		if (t < 0)
			return cli_usage(&d->cli, "unknown test '%.*s' in --tests (tests: ks, chi2, psi, kl, js, wasserstein, mean, std, missing)",
					 (int)len, s);
		bits |= 1u << t;
		s += len + (s[len] == ',');
	}
	if (!bits)
		return cli_usage(&d->cli, "--tests names no test");
	d->dopt.tests = bits;
	return 0;
}

static int parse_threshold(struct drift *d, const char *s)
{
	const char *eq = strchr(s, '=');
	size_t len = eq ? (size_t)(eq - s) : 0;
	double v;
	int t;

	if (!eq)
		return cli_usage(&d->cli, "--threshold takes NAME=V, not '%s'", s);
	if (cli_real(&d->cli, "--threshold", eq + 1, 0, 1e300, &v) < 0)
		return EX_USAGE_;
	if (len == 8 && memcmp(s, "psi_warn", 8) == 0) {
		d->dopt.psi_warn = v;
		return 0;
	}
	t = ml_drift_test_parse(s, len);
	if (t < 0 || t == ML_DT_KS || t == ML_DT_CHI2)
		return cli_usage(&d->cli,
				 "no threshold '%.*s' (thresholds: psi, psi_warn, kl, js, wasserstein, mean, std, missing; ks and chi2 use --alpha)",
				 (int)len, s);
	d->dopt.thr[t] = v;
	return 0;
}

int cmd_main(int argc, char **argv)
{
	struct drift d;
	struct est est;
	struct ml_output *out = NULL;
	struct ml_err e;
	int ch, rc = 0, nfiles;
	long v;

	memset(&d, 0, sizeof(d));
	memset(&est, 0, sizeof(est));
	est.max_drop = 0.05;
	d.share = 0.5;
	ml_drift_opts_init(&d.dopt);
	ml_profile_opts_init(&d.popt);
	ml_frame_init(&d.rep);
	ml_err_init(&e);
	if ((rc = cli_init(&d.cli, &cmd)) != 0)
		return rc;
	while ((ch = cli_next(&d.cli, argc, argv, &rc)) != -1) {
		switch (ch) {
		case CLI_DONE:
			goto done;
		case O_REF:
			d.ref = optarg;
			break;
		case O_PROFILE:
			d.profile = 1;
			break;
		case O_MERGE:
			d.merge = 1;
			break;
		case O_TESTS:
			if ((rc = parse_tests(&d, optarg)) != 0)
				goto done;
			break;
		case O_COLS:
			d.cols = optarg;
			break;
		case O_ALPHA:
			if (cli_real(&d.cli, "--alpha", optarg, 0, 1, &d.dopt.alpha) < 0) {
				rc = EX_USAGE_;
				goto done;
			}
			break;
		case O_CORRECTION:
			if (strcmp(optarg, "bh") == 0)
				d.dopt.correction = ML_CORR_BH;
			else if (strcmp(optarg, "bonferroni") == 0)
				d.dopt.correction = ML_CORR_BONFERRONI;
			else if (strcmp(optarg, "none") == 0)
				d.dopt.correction = ML_CORR_NONE;
			else {
				rc = cli_usage(&d.cli, "--correction is bh, bonferroni or none, not '%s'", optarg);
				goto done;
			}
			break;
		case O_THRESHOLD:
			if ((rc = parse_threshold(&d, optarg)) != 0)
				goto done;
			break;
		case O_SHARE:
			if (cli_real(&d.cli, "--share", optarg, 0, 1, &d.share) < 0) {
				rc = EX_USAGE_;
				goto done;
			}
			break;
		case O_REPORT_ONLY:
			d.report_only = 1;
			break;
		case O_WINDOW:
			if (cli_long(&d.cli, "--window", optarg, 1, 0x7fffffffL, &d.window) < 0) {
				rc = EX_USAGE_;
				goto done;
			}
			break;
		case O_JSON:
			d.json = 1;
			break;
		case O_BINS:
			if (cli_long(&d.cli, "--bins", optarg, 1, 10000, &v) < 0) {
				rc = EX_USAGE_;
				goto done;
			}
			d.popt.bins = (int)v;
			break;
		case O_MAXCAT:
			if (cli_long(&d.cli, "--max-categories", optarg, 1, 1000000, &v) < 0) {
				rc = EX_USAGE_;
				goto done;
			}
			d.popt.max_categories = (int)v;
			break;
		case O_BINS_FROM:
			d.bins_from = optarg;
			break;
		case O_TIME_COL:
			d.time_col = optarg;
			break;
		case O_ESTIMATE: {
			const char *q = optarg;
			est.metrics = 0;
			while (*q) {
				size_t len = strcspn(q, ",");
				int m;
				for (m = 0; m < EST_COUNT; m++)
					if (strlen(est_names[m]) == len && memcmp(est_names[m], q, len) == 0)
						break;
				if (m == EST_COUNT) {
					rc = cli_usage(&d.cli, "unknown metric '%.*s' in --estimate (accuracy, auc, f1)",
						       (int)len, q);
					goto done;
				}
				est.metrics |= 1u << m;
				q += len + (q[len] == ',');
			}
			d.est = &est;
			break;
		}
		case O_TRUTH:
			est.truth = optarg;
			break;
		case O_MAX_DROP:
			if (cli_real(&d.cli, "--max-drop", optarg, 0, 1, &est.max_drop) < 0) {
				rc = EX_USAGE_;
				goto done;
			}
			break;
		case O_PLOT:
			d.plot = optarg;
			break;
		case O_PERIOD: {
			char *end;
			unsigned long long cnt;
			size_t len = strlen(optarg);
			long unit = len ? (optarg[len - 1] == 'h' ? 3600 : optarg[len - 1] == 'd' ? 86400 :
					   optarg[len - 1] == 'w' ? 604800 : 0) : 0;
			errno = 0;
			cnt = len > 1 && optarg[0] >= '1' && optarg[0] <= '9' ? strtoull(optarg, &end, 10) : 0;
			if (!unit || !cnt || errno || end != optarg + len - 1 || cnt > 100000 ||
			    (unit == 604800 && cnt != 1)) {
				rc = cli_usage(&d.cli, "--period is a count of hours, days or one week (1h, 6h, 1d, 1w), not '%s'",
					       optarg);
				goto done;
			}
			d.period = (long)cnt * unit;
			break;
		}
		default:
			rc = cli_usage(&d.cli, "unrecognized option '%s'", argv[optind - 1]);
			goto done;
		}
	}
	if (d.cli.seed_set)
		d.popt.seed = d.cli.seed;
	/* the profiles a comparison keeps need their moments for these tests alone */
	d.popt.no_moments = !(d.dopt.tests & ((1u << ML_DT_MEAN) | (1u << ML_DT_STD) |
					      (1u << ML_DT_WASSERSTEIN)));
	if (!d.time_col != !d.period) {
		rc = cli_usage(&d.cli, "--time-col and --period go together");
		goto done;
	}
	if (d.time_col && d.window) {
		rc = cli_usage(&d.cli, "--window and --time-col cannot be combined");
		goto done;
	}
	if (d.est && (!d.ref || !est.truth || !est.metrics)) {
		rc = cli_usage(&d.cli, "--estimate goes with --ref, a table holding the truth named by --truth");
		goto done;
	}
	if (!d.est && est.truth) {
		rc = cli_usage(&d.cli, "--truth goes with --estimate");
		goto done;
	}
	if ((d.time_col || d.window) && !d.ref && !d.profile) {
		rc = cli_usage(&d.cli, "--window and --time-col go with --ref or --profile");
		goto done;
	}
	nfiles = argc - optind;
	if (d.profile + d.merge + (d.ref != NULL) != 1) {
		rc = cli_usage(&d.cli, "give one of --ref, --profile and --merge");
		goto done;
	}
	if (d.plot && !d.ref) {
		rc = cli_usage(&d.cli, "--plot draws a comparison: it goes with --ref, not %s",
			       d.profile ? "--profile" : "--merge");
		goto done;
	}
	if ((d.profile || d.merge) && (!d.cli.output || strcmp(d.cli.output, "-") == 0)) {
		rc = cli_usage(&d.cli, "%s writes a profile: give it -o FILE",
			       d.profile ? "--profile" : "--merge");
		goto done;
	}
	if (d.merge) {
		if (nfiles < 1) {
			rc = cli_usage(&d.cli, "--merge needs at least one profile");
			goto done;
		}
		if ((rc = run_merge(&d, nfiles, argv + optind, &e)) < 0)
			rc = cli_fail(&d.cli, &e);
		goto done;
	}
	if (nfiles > 1) {
		rc = cli_usage(&d.cli, "one input at a time (got %d)", nfiles);
		goto done;
	}
	/* one pool for every profile the run finishes (a window's too) */
	if (!(d.popt.pool = ml_pool_new(d.cli.threads))) {
		rc = cli_error(&d.cli, EX_OSERR_, "out of memory");
		goto done;
	}
	if (d.bins_from && !(d.popt.edges = d.edges = load_profile(d.bins_from, &e))) {
		rc = cli_fail(&d.cli, &e);
		goto done;
	}
	if (d.profile && (d.window || d.time_col)) {
		if (!strstr(d.cli.output, "{}")) {
			rc = cli_usage(&d.cli, "--profile with windows writes a profile per window: give -o a name with {} for the window's (e.g. -o 'day-{}.mlm')");
			goto done;
		}
		if ((rc = run_compare(&d, nfiles ? argv[optind] : "-", NULL, &e)) < 0)
			rc = cli_fail(&d.cli, &e);
		goto done;
	}
	if (d.profile) {
		struct ml_fingerprint fp;
		struct ml_profile *p = profile_file(&d, nfiles ? argv[optind] : "-", 0, NULL, &fp, &e);
		if (!p || (rc = save_profile(p, d.cli.output, &fp, &e)) < 0)
			rc = cli_fail(&d.cli, &e);
		ml_profile_free(p);
		goto done;
	}
	if (strcmp(d.ref, "-") == 0) {
		rc = cli_usage(&d.cli, "--ref cannot be standard input");
		goto done;
	}
	d.ref_name = d.ref;
	if ((rc = is_container(d.ref, &e)) < 0) {
		rc = cli_fail(&d.cli, &e);
		goto done;
	}
	if (rc && d.est) {
		rc = cli_error(&d.cli, EX_DATA, "%s: --estimate needs a reference table with its truth and scores, not a profile",
			       d.ref);
		goto done;
	}
	d.refp = rc ? load_profile(d.ref, &e) :
		 d.est ? est_reference(&d, &est, &e) : profile_file(&d, d.ref, 1, NULL, NULL, &e);
	rc = 0;
	if (!d.refp) {
		rc = cli_fail(&d.cli, &e);
		goto done;
	}
	if (!(out = ml_output_open(d.cli.output, &e))) {
		rc = cli_fail(&d.cli, &e);
		goto done;
	}
	if (run_compare(&d, nfiles ? argv[optind] : "-", ml_output_file(out), &e) < 0 ||
	    (d.last && plot_block(&d, d.last, d.last_row, d.last_n, &e) < 0)) {
		rc = cli_fail(&d.cli, &e);
		goto done;
	}
	/* the report and its plot go into place together, or neither */
	if (cli_commit((struct ml_output **[]){&out, &d.plot_out}, 2, &e) < 0) {
		rc = cli_fail(&d.cli, &e);
		goto done;
	}
	rc = d.found && !d.report_only ? EX_FINDING : 0;
done:
	if (out)
		ml_output_abort(out);
	if (d.plot_out)
		ml_output_abort(d.plot_out);
	ml_pool_free(d.popt.pool);
	ml_writer_free(d.w);
	ml_frame_release(&d.rep);
	ml_profile_free(d.refp);
	ml_profile_free(d.edges);
	ml_profile_free(d.last);
	free(d.last_row);
	free(est.p);
	for (ch = 0; ch < est.k; ch++) {
		free(est.pcol[ch]);
		free(est.label[ch]);
	}
	free(est.pcol);
	free(est.label);
	free(d.pidx);
	cli_release(&d.cli);
	return rc;
}
