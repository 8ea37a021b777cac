/* mleval: metrics from truth and predictions, with groups, bootstrap intervals, gates,
 * confusion and reliability tables, and SVG plots. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ml/eval.h"
#include "ml/metrics.h"
#include "ml/pred.h"
#include "ml/svg.h"

const char cmd_name[] = "mleval";

static const char usage[] =
    "Usage: mleval -t TRUTH [OPTION]... [FILE]\n"
    "Print evaluation metrics (CSV rows metric,value) from a table holding the truth and\n"
    "the predictions: a 'pred' column (or -p) and/or class probabilities 'p_<label>'.\n"
    "With no FILE, or when FILE is -, read standard input.\n"
    "\n"
    "  -t, --truth=COL        the column holding the truth (required)\n"
    "  -p, --pred=COL         the predicted label or value (default: pred)\n"
    "  -w, --weight=COL       sample weights (non-negative)\n"
    "      --task=TASK        classify or regress (default: classify when the truth is\n"
    "                         categorical or p_<label> columns exist)\n"
    "      --pos=LABEL        the positive class (default: the second label in sorted order)\n"
    "      --json             print a JSON object instead of CSV\n"
    "      --confusion        print the confusion matrix instead of the metrics\n"
    "      --calibration=N    print the reliability table of N equal-width bins instead\n"
    "      --by=COL           metrics per group of COL too (columns group,metric,value)\n"
    "      --ci               add 95% bootstrap percentile intervals (lower, upper)\n"
    "      --bootstrap=N      resamples for --ci (default 1000); implies --ci\n"
    "      --min=NAME=V       gate: exit 1 when metric NAME is below V (repeatable)\n"
    "      --max=NAME=V       gate: exit 1 when metric NAME is above V (repeatable)\n"
    "      --plot=KIND[:FILE] draw roc, pr or calibration as SVG into FILE, or into\n"
    "                         --plot-file; repeatable, each plot into its own file\n"
    "      --plot-file=FILE   where a --plot without a FILE of its own writes\n"
    "      --rows=N           the input must hold N rows: fewer (a command before this\n"
    "                         one in a pipeline failed) is an error, not a gate passed\n"
    "\n";

static const char usage_tail[] =
    "\n"
    "Metrics: accuracy balanced_accuracy precision recall f1 precision_macro recall_macro\n"
    "f1_macro precision_weighted recall_weighted f1_weighted auc average_precision logloss\n"
    "brier mcc (classification); rmse mae mape smape r2 medae (regression).\n"
    "Exit status: 0 success, 1 a gate failed, 2 usage, 65 bad input data, 66 cannot open\n"
    "input, 70 internal error, 71 out of memory, 74 read/write error.\n"
    "Full documentation: man mleval\n";

enum {
	O_TASK = 1,
	O_POS,
	O_JSON,
	O_CONFUSION,
	O_CALIBRATION,
	O_BY,
	O_CI,
	O_BOOTSTRAP,
	O_MIN,
	O_MAX,
	O_PLOT,
	O_PLOT_FILE,
	O_ROWS
};

static const struct option own[] = {{"truth", required_argument, NULL, 't'},
				    {"pred", required_argument, NULL, 'p'},
				    {"weight", required_argument, NULL, 'w'},
				    {"task", required_argument, NULL, O_TASK},
				    {"pos", required_argument, NULL, O_POS},
				    {"json", no_argument, NULL, O_JSON},
				    {"confusion", no_argument, NULL, O_CONFUSION},
				    {"calibration", required_argument, NULL, O_CALIBRATION},
				    {"by", required_argument, NULL, O_BY},
				    {"ci", no_argument, NULL, O_CI},
				    {"bootstrap", required_argument, NULL, O_BOOTSTRAP},
				    {"min", required_argument, NULL, O_MIN},
				    {"max", required_argument, NULL, O_MAX},
				    {"plot", required_argument, NULL, O_PLOT},
				    {"plot-file", required_argument, NULL, O_PLOT_FILE},
				    {"rows", required_argument, NULL, O_ROWS},
				    {NULL, 0, NULL, 0}};

static const struct cli_help help[] = {
	{CLI_THREADS, "worker threads for --ci (default: all cores);\nresults never depend on it"},
	{CLI_SEED, "seed of the --ci resamples (default 42)"},
	{CLI_VERBOSE, "print the task and the labels on standard error"},
	{0, NULL}};

/* mleval prints no warnings (a failed gate is its finding, not one): no -q. */
static const struct cli_cmd cmd = {"mleval", usage, usage_tail, own, "t:p:w:",
				   CLI_INPUT | CLI_OUTPUT | CLI_RUN | CLI_VERBOSE, help};

enum { TASK_AUTO, TASK_CLASSIFY, TASK_REGRESS };
enum { PLOT_NONE, PLOT_ROC, PLOT_PR, PLOT_CALIBRATION };

#define LEVEL	     0.95
#define DEFAULT_BINS 10

struct gate {
	int metric;
	int max; /* 1: --max, 0: --min */
	double v;
	const char *text; /* the bound as given */
};

/* An input column kept row by row, as numbers or as codes of the reader's dictionary. */
struct src {
	const char *name;
	const char *role; /* for messages: "truth", "prediction", ... */
	int idx;	  /* -1: absent */
	int cat;
	double *num;
	int32_t *code;
};

/* One data set to evaluate: everything, or one group. */
struct set {
	const char *group;    /* NULL: all rows */
	struct ml_subset sub; /* a group's rows */
	struct ml_eval *ev;
	double val[ML_M_COUNT], lo[ML_M_COUNT], hi[ML_M_COUNT];
};

struct eval {
	struct cli cli;
	const char *truth_name, *pred_name, *weight_name, *by_name, *pos_label, *plot_file;
	int task, json, confusion, ci, plot; /* plot: the one being drawn */
	struct plot {
		int kind;
		const char *file;
	} plots[8];
	int nplots;
	long long want_rows; /* --rows, or -1 */
	long calib, nboot;
	struct gate *gates;
	int ngates;

	struct ml_reader *r;
	const struct ml_schema *s;
	const char *iname;
	struct src truth, pred, weight, group;
	struct src *prob;
	int nprob;
	size_t n, cap;
	int classify;

	struct ml_classes cls;
	struct ml_cls_data cd; /* every row, classified */
	struct ml_reg_data rd; /* every row, regressed */
	struct set all;
	struct ml_groups grp;
	struct set *groups;
	int ngroups;
	struct ml_ctx ctx;
	int have_ctx;
};

/* --- Reading ------------------------------------------------------------------------------- */

static int grow(struct eval *v, struct ml_err *e)
{
	size_t cap = v->cap ? 2 * v->cap : 8192;
	struct src *all[4] = {&v->truth, &v->pred, &v->weight, &v->group};
	int j;

#define RE(p, t)                                                                                   \
	do {                                                                                       \
		t *q_ = realloc((p), cap * sizeof(t));                                             \
		if (!q_)                                                                           \
			return ml_err_nomem(e);                                                    \
		(p) = q_;                                                                          \
	} while (0)
	for (j = 0; j < 4; j++) {
		if (all[j]->idx < 0)
			continue;
		if (all[j]->cat)
			RE(all[j]->code, int32_t);
		else
			RE(all[j]->num, double);
	}
	for (j = 0; j < v->nprob; j++)
		RE(v->prob[j].num, double);
#undef RE
	v->cap = cap;
	return 0;
}

static long line_of(const struct eval *v, const struct ml_block *b, size_t i)
{
	if (b->line)
		return b->line[i];
	return (long)(v->n + 1 + (v->cli.header ? 1 : 0));
}

/* The number in a categorical cell, for columns that must be numeric. */
static int cat_number(const struct eval *v, const struct src *c, int32_t code, long line,
		      double *out, struct ml_err *e)
{
	const struct ml_dict *d = &v->s->cols[c->idx].dict;
	char q[128];

	if (ml_parse_double(d->str[code], d->len[code], out) == 0 && isfinite(*out))
		return 0;
	ml_err_quote(q, sizeof(q), d->str[code], d->len[code]);
	return ml_err_set(e, ML_E_DATA, v->iname, line, c->idx + 1,
			  "cannot parse '%s' as a number in %s column '%s'", q, c->role, c->name);
}

/* A probability in a categorical cell: the number (NaN when missing), or -1 with e set
 * when the text is not a number. */
static double cat_prob(const struct eval *v, const struct src *c, int32_t code, long line,
		       struct ml_err *e)
{
	const struct ml_dict *d = &v->s->cols[c->idx].dict;
	double x;
	char q[128];

	if (code < 0)
		return NAN;
	if (ml_parse_double(d->str[code], d->len[code], &x) == 0)
		return x;
	ml_err_quote(q, sizeof(q), d->str[code], d->len[code]);
	ml_err_set(e, ML_E_DATA, v->iname, line, c->idx + 1,
		   "cannot parse '%s' as a number in probability column '%s'", q, c->name);
	return -1;
}

/* Take one cell of a column that is kept as numbers. */
static int take_num(const struct eval *v, const struct src *c, const struct ml_block *b, size_t i,
		    long line, double *out, struct ml_err *e)
{
	if (v->s->cols[c->idx].type == ML_CAT) {
		int32_t code = b->col[c->idx].cat[i];
		if (code < 0)
			return ml_err_set(e, ML_E_DATA, v->iname, line, c->idx + 1,
					  "missing %s in column '%s'", c->role, c->name);
		return cat_number(v, c, code, line, out, e);
	}
	*out = b->col[c->idx].num[i];
	if (*out != *out)
		return ml_err_set(e, ML_E_DATA, v->iname, line, c->idx + 1,
				  "missing %s in column '%s'", c->role, c->name);
	if (!isfinite(*out))
		return ml_err_set(e, ML_E_DATA, v->iname, line, c->idx + 1,
				  "%s '%g' in column '%s' is not a finite number", c->role, *out,
				  c->name);
	return 0;
}

/* Keep one cell of a column as it was read (a label or group). */
static int take_any(struct eval *v, struct src *c, const struct ml_block *b, size_t i, long line,
		    struct ml_err *e)
{
	if (c->cat) {
		int32_t code = b->col[c->idx].cat[i];
		if (code < 0)
			return ml_err_set(e, ML_E_DATA, v->iname, line, c->idx + 1,
					  "missing %s in column '%s'", c->role, c->name);
		c->code[v->n] = code;
		return 0;
	}
	return take_num(v, c, b, i, line, &c->num[v->n], e);
}

static int take_block(struct eval *v, const struct ml_block *b, struct ml_err *e)
{
	size_t i;
	int j;

	for (i = 0; i < b->nrow; i++) {
		long line = line_of(v, b, i);
		double x;
		if (v->n == v->cap && grow(v, e) < 0)
			return ML_E_NOMEM;
		if (take_any(v, &v->truth, b, i, line, e) < 0)
			return ML_E_DATA;
		if (v->pred.idx >= 0 && take_any(v, &v->pred, b, i, line, e) < 0)
			return ML_E_DATA;
		for (j = 0; j < v->nprob; j++) {
			struct src *c = &v->prob[j];
			if (v->s->cols[c->idx].type == ML_NUM)
				x = b->col[c->idx].num[i];
			else if ((x = cat_prob(v, c, b->col[c->idx].cat[i], line, e)) == -1)
				return ML_E_DATA;
			if (x != x)
				return ml_err_set(e, ML_E_DATA, v->iname, line, c->idx + 1,
						  "missing or NaN probability in column '%s'",
						  c->name);
			if (!(x >= 0 && x <= 1)) {
				char t[ML_FMT_DOUBLE_MAX + 1];
				ml_fmt_double(t, x);
				return ml_err_set(e, ML_E_DATA, v->iname, line, c->idx + 1,
						  "probability %s in column '%s' is outside [0, 1]",
						  t, c->name);
			}
			c->num[v->n] = x;
		}
		if (v->weight.idx >= 0) {
			if (take_num(v, &v->weight, b, i, line, &x, e) < 0)
				return ML_E_DATA;
			if (x < 0) {
				char t[ML_FMT_DOUBLE_MAX + 1];
				ml_fmt_double(t, x);
				return ml_err_set(e, ML_E_DATA, v->iname, line, v->weight.idx + 1,
						  "negative weight %s in column '%s'", t,
						  v->weight.name);
			}
			v->weight.num[v->n] = x;
		}
		if (v->group.idx >= 0 && take_any(v, &v->group, b, i, line, e) < 0)
			return ML_E_DATA;
		v->n++;
	}
	return 0;
}

/* The column of name for role; opt: the option that named it (a column it names must be
 * there), or NULL for a default name that may be absent. */
static int find_col(struct eval *v, struct src *c, const char *name, const char *role,
		    struct ml_err *e, const char *opt)
{
	c->name = name;
	c->role = role;
	c->idx = name ? ml_schema_find(v->s, name) : -1;
	if (name && c->idx < 0 && opt)
		return ml_schema_find_or_suggest(v->s, name, opt, v->iname, NULL, e);
	if (c->idx >= 0)
		c->cat = v->s->cols[c->idx].type == ML_CAT;
	return 0;
}

/* Find the columns; decide the task. */
static int bind_columns(struct eval *v, struct ml_err *e)
{
	struct ml_pred_opts po;
	struct ml_pred_cols pc;
	int excl[2], j;

	if (find_col(v, &v->truth, v->truth_name, "truth", e, "-t") < 0)
		return ML_E_DATA;
	if (find_col(v, &v->weight, v->weight_name, "weight", e, "-w") < 0)
		return ML_E_DATA;
	if (find_col(v, &v->group, v->by_name, "group", e, "--by") < 0)
		return ML_E_DATA;
	/* A prediction column named by -p must exist; "pred" may be absent. */
	if (v->pred_name && find_col(v, &v->pred, v->pred_name, "prediction", e, "-p") < 0)
		return ML_E_DATA;
	ml_pred_opts_init(&po);
	po.name = v->iname;
	po.pred = v->pred_name;
	po.truth = v->truth.idx;
	excl[0] = v->weight.idx;
	excl[1] = v->group.idx;
	po.exclude = excl;
	po.nexclude = 2;
	po.classes = v->task != TASK_REGRESS;
	if (ml_pred_find(v->s, &po, &pc, e) < 0)
		return e->code;
	v->pred.name = v->pred_name ? v->pred_name : ML_PRED_LABEL;
	v->pred.role = "prediction";
	v->pred.idx = pc.pred;
	if (v->pred.idx >= 0)
		v->pred.cat = v->s->cols[v->pred.idx].type == ML_CAT;
	for (j = 0; j < pc.nskipped; j++)
		cli_info(&v->cli, "column '%s' is not a class probability (the truth is numeric)",
			 v->s->cols[pc.skipped[j]].name);
	v->prob = calloc((size_t)(pc.nprob ? pc.nprob : 1), sizeof(*v->prob));
	if (!v->prob) {
		ml_pred_cols_release(&pc);
		return ml_err_nomem(e);
	}
	for (j = 0; j < pc.nprob; j++) {
		v->prob[j].name = v->s->cols[pc.prob[j].col].name;
		v->prob[j].role = "probability";
		v->prob[j].idx = pc.prob[j].col;
	}
	v->nprob = pc.nprob;
	ml_pred_cols_release(&pc);
	if (v->task == TASK_AUTO)
		v->classify = v->s->cols[v->truth.idx].type == ML_CAT || v->nprob > 0;
	else
		v->classify = v->task == TASK_CLASSIFY;
	if (!v->classify) {
		v->truth.cat = 0;
		v->pred.cat = 0;
		if (v->pred.idx < 0 && v->task == TASK_REGRESS)
			return ml_err_set(e, ML_E_DATA, v->iname, 0, 0, "no prediction column '%s'",
					  v->pred.name);
		if (v->pred.idx < 0)
			return ml_err_set(
			    e, ML_E_DATA, v->iname, 0, 0,
			    "no prediction columns: looked for 'pred' and 'p_<label>'");
	} else if (v->pred.idx < 0 && v->nprob == 0)
		return ml_err_set(e, ML_E_DATA, v->iname, 0, 0,
				  "no prediction columns: looked for 'pred' and 'p_<label>'");
	if (v->weight.idx >= 0)
		v->weight.cat = 0;
	cli_info(&v->cli, "task: %s; %d probability column%s%s",
		 v->classify ? "classify" : "regress", v->nprob, v->nprob == 1 ? "" : "s",
		 v->pred.idx >= 0 ? "; predictions in a column" : "; predictions by argmax");
	return 0;
}

static int read_input(struct eval *v, const char *path, struct ml_err *e)
{
	struct ml_read_opts ro;
	const struct ml_block *b;
	long got;

	cli_read_opts(&v->cli, &ro);
	v->r = ml_reader_open(path, &ro, e);
	if (!v->r)
		return e->code;
	v->s = ml_reader_schema(v->r);
	v->iname = ml_reader_name(v->r);
	if (bind_columns(v, e) < 0)
		return e->code;
	while ((got = ml_reader_next(v->r, &b, e)) > 0)
		if (take_block(v, b, e) < 0)
			return e->code;
	if (got < 0)
		return (int)got;
	if (v->n == 0)
		return ml_err_set(e, ML_E_DATA, v->iname, 0, 0, "empty input: no rows");
	return 0;
}

/* --- Classes and groups ------------------------------------------------------------------- */

static struct ml_labcol labcol(const struct eval *v, const struct src *c)
{
	struct ml_labcol l;

	l.dict = c->cat ? &v->s->cols[c->idx].dict : NULL;
	l.code = c->cat ? c->code : NULL;
	l.num = c->cat ? NULL : c->num;
	return l;
}

static const char *lab_str(const struct eval *v, int code)
{
	return ml_labels_str(v->cls.labels, code);
}

static int lab_flag(const struct eval *v, int code)
{
	return ml_labels_flags(v->cls.labels, code);
}

/* Build the labels, codes, probability columns, the predictions when there is no pred
 * column, and the positive class. */
static int prepare_classes(struct eval *v, struct ml_err *e)
{
	struct ml_class_input in;
	const char **plab = malloc((size_t)(v->nprob ? v->nprob : 1) * sizeof(*plab));
	const char **pname = malloc((size_t)(v->nprob ? v->nprob : 1) * sizeof(*pname));
	const double **pcol = malloc((size_t)(v->nprob ? v->nprob : 1) * sizeof(*pcol));
	int j, rc = 0;

	if (!plab || !pname || !pcol)
		rc = ml_err_nomem(e);
	memset(&in, 0, sizeof(in));
	in.name = v->iname;
	in.n = v->n;
	in.numeric = !v->truth.cat;
	in.truth = labcol(v, &v->truth);
	if (v->pred.idx >= 0)
		in.pred = labcol(v, &v->pred);
	in.nprob = v->nprob;
	for (j = 0; rc == 0 && j < v->nprob; j++) {
		plab[j] = v->prob[j].name + strlen(ML_PRED_PROB_PREFIX);
		pname[j] = v->prob[j].name;
		pcol[j] = v->prob[j].num;
	}
	in.prob_label = plab;
	in.prob_name = pname;
	in.prob = pcol;
	if (rc == 0)
		rc = ml_classes_build(&v->cls, &in, e);
	free(plab);
	free(pname);
	free(pcol);
	if (rc < 0)
		return rc;
	if (v->pos_label && ml_classes_set_pos(&v->cls, v->pos_label) < 0) {
		char q[128];
		ml_err_quote(q, sizeof(q), v->pos_label, strlen(v->pos_label));
		return ml_err_set(
		    e, ML_E_DATA, v->iname, 0, 0,
		    "the label '%s' given to --pos is not in the truth or the predictions", q);
	}
	if ((rc = ml_classes_check_prob(&v->cls, v->iname, e)) < 0)
		return rc;
	cli_info(&v->cli, "%s classification, %d labels; positive label '%s'",
		 v->cls.binary ? "binary" : "multiclass", v->cls.present, lab_str(v, v->cls.pos));
	return 0;
}

/* The data set of every row. */
static void whole_set(struct eval *v)
{
	if (v->classify) {
		v->cd.n = v->n;
		v->cd.k = v->cls.k;
		v->cd.truth = v->cls.truth;
		v->cd.pred = v->cls.pred;
		v->cd.prob = v->nprob ? v->cls.prob : NULL;
		v->cd.w = v->weight.idx >= 0 ? v->weight.num : NULL;
		v->cd.pos = v->cls.binary ? v->cls.pos : -1;
	} else {
		v->rd.n = v->n;
		v->rd.y = v->truth.num;
		v->rd.p = v->pred.num;
		v->rd.w = v->weight.idx >= 0 ? v->weight.num : NULL;
	}
}

static int make_eval(struct eval *v, struct set *s, const struct ml_cls_data *cd,
		     const struct ml_reg_data *rd, struct ml_err *e)
{
	s->ev = v->classify ? ml_eval_classify(cd, e) : ml_eval_regress(rd, e);
	if (!s->ev)
		return e->code;
	if (ml_eval_run(s->ev, NULL, s->val, e) < 0)
		return e->code;
	return 0;
}

/* Split the rows by the --by column and evaluate each group, in sorted order. */
static int make_groups(struct eval *v, struct ml_err *e)
{
	struct ml_labcol gc = labcol(v, &v->group);
	int g, rc;

	if ((rc = ml_groups_build(&v->grp, &gc, v->n, e)) < 0)
		return rc;
	v->groups = calloc((size_t)(v->grp.n ? v->grp.n : 1), sizeof(*v->groups));
	if (!v->groups)
		return ml_err_nomem(e);
	v->ngroups = v->grp.n;
	for (g = 0; g < v->ngroups; g++) {
		struct set *s = &v->groups[g];
		const size_t *rows = v->grp.rows + v->grp.start[g];
		size_t m = v->grp.start[g + 1] - v->grp.start[g];
		s->group = v->grp.name[g];
		ml_subset_init(&s->sub);
		rc = v->classify ? ml_subset_classify(&s->sub, &v->cd, rows, m, e)
				 : ml_subset_regress(&s->sub, &v->rd, rows, m, e);
		if (rc == 0)
			rc = make_eval(v, s, &s->sub.cls, &s->sub.reg, e);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int weights_ok(struct eval *v, struct ml_err *e)
{
	double s = 0;
	size_t i;

	if (v->weight.idx < 0)
		return 0;
	for (i = 0; i < v->n; i++)
		s += v->weight.num[i];
	if (!(s > 0))
		return ml_err_set(e, ML_E_DATA, v->iname, 0, 0,
				  "the weights in column '%s' sum to zero", v->weight.name);
	return 0;
}

/* --- Output ------------------------------------------------------------------------------------
 */

static void json_str(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(fp, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", fp);
		else if (c == '\t')
			fputs("\\t", fp);
		else if (c == '\r')
			fputs("\\r", fp);
		else if (c < 0x20)
			fprintf(fp, "\\u%04x", c);
		else
			fputc(c, fp);
	}
	fputc('"', fp);
}

static void json_num(const struct eval *v, FILE *fp, double x)
{
	char buf[ML_FMT_DOUBLE_MAX + 1];

	if (!isfinite(x)) {
		fputs("null", fp);
		return;
	}
	if (v->cli.precision)
		ml_fmt_double_prec(buf, x, v->cli.precision);
	else
		ml_fmt_double(buf, x);
	fputs(buf, fp);
}

static int write_frame(struct eval *v, struct ml_frame *f, FILE *fp, struct ml_err *e)
{
	struct ml_write_opts wo;
	struct ml_writer *w;
	int rc;

	cli_write_opts(&v->cli, &wo);
	w = ml_writer_open(fp, cli_output_name(&v->cli), &f->schema, &wo, e);
	if (!w)
		return e->code;
	if ((rc = ml_writer_write(w, &f->rows, 0, f->rows.nrow, e)) == 0)
		rc = ml_writer_finish(w, e);
	ml_writer_free(w);
	return rc;
}

static int put_cat(struct ml_frame *f, int col, size_t row, const char *s, struct ml_err *e)
{
	int32_t c;

	if (!s) {
		f->rows.col[col].cat[row] = ML_MISSING_CAT;
		return 0;
	}
	c = ml_dict_intern(&f->schema.cols[col].dict, s, strlen(s));
	if (c < 0)
		return ml_err_nomem(e);
	f->rows.col[col].cat[row] = c;
	return 0;
}

static int print_metrics(struct eval *v, FILE *fp, struct ml_err *e)
{
	struct ml_frame f;
	int by = v->by_name != NULL, g, m, rc = 0, first;
	int nsets = 1 + (by ? v->ngroups : 0);
	size_t row = 0;

	if (v->json) {
		for (g = -1; g < (by ? v->ngroups : 0); g++) {
			const struct set *s = g < 0 ? &v->all : &v->groups[g];
			if (by && g < 0)
				fputs("{\"overall\": ", fp);
			else if (by) {
				fputs(g == 0 ? ",\n \"groups\": {" : ",\n  ", fp);
				json_str(fp, s->group);
				fputs(": ", fp);
			}
			fputc('{', fp);
			first = 1;
			for (m = 0; m < ML_M_COUNT; m++) {
				if (!ml_eval_has(s->ev, m))
					continue;
				fputs(first ? "" : ", ", fp);
				first = 0;
				json_str(fp, ml_metric_name(m));
				fputs(": ", fp);
				if (v->ci) {
					fputs("{\"value\": ", fp);
					json_num(v, fp, s->val[m]);
					fputs(", \"lower\": ", fp);
					json_num(v, fp, s->lo[m]);
					fputs(", \"upper\": ", fp);
					json_num(v, fp, s->hi[m]);
					fputc('}', fp);
				} else
					json_num(v, fp, s->val[m]);
			}
			fputc('}', fp);
		}
		if (by)
			fputs(v->ngroups ? "}}" : ", \"groups\": {}}", fp);
		fputc('\n', fp);
		return ferror(fp) ? ml_err_set(e, ML_E_IO, NULL, 0, 0, "write error") : 0;
	}
	ml_frame_init(&f);
	if ((by && ml_schema_add(&f.schema, "group", ML_CAT) < 0) ||
	    ml_schema_add(&f.schema, "metric", ML_CAT) < 0 ||
	    ml_schema_add(&f.schema, "value", ML_NUM) < 0 ||
	    (v->ci && (ml_schema_add(&f.schema, "lower", ML_NUM) < 0 ||
		       ml_schema_add(&f.schema, "upper", ML_NUM) < 0)) ||
	    ml_block_init(&f.rows, &f.schema, (size_t)nsets * ML_M_COUNT, e) < 0) {
		ml_frame_release(&f);
		return ml_err_nomem(e);
	}
	for (g = -1; g < nsets - 1; g++) {
		const struct set *s = g < 0 ? &v->all : &v->groups[g];
		for (m = 0; m < ML_M_COUNT; m++) {
			int j = 0;
			if (!ml_eval_has(s->ev, m))
				continue;
			if (by && (rc = put_cat(&f, j++, row, s->group, e)) < 0)
				goto out;
			if ((rc = put_cat(&f, j++, row, ml_metric_name(m), e)) < 0)
				goto out;
			f.rows.col[j++].num[row] = s->val[m];
			if (v->ci) {
				f.rows.col[j++].num[row] = s->lo[m];
				f.rows.col[j++].num[row] = s->hi[m];
			}
			row++;
		}
	}
	f.rows.nrow = row;
	rc = write_frame(v, &f, fp, e);
out:
	ml_frame_release(&f);
	return rc;
}

static int print_confusion(struct eval *v, FILE *fp, struct ml_err *e)
{
	double *cm = malloc((size_t)v->cls.k * (size_t)v->cls.k * sizeof(double));
	int *keep = malloc((size_t)v->cls.k * sizeof(int)), nk = 0, a, b, rc = 0;
	struct ml_frame f;

	if (!cm || !keep) {
		free(cm);
		free(keep);
		return ml_err_nomem(e);
	}
	ml_confusion(v->cd.truth, v->cd.pred, v->cd.w, v->n, v->cls.k, cm);
	for (a = 0; a < v->cls.k; a++)
		if (lab_flag(v, a) & (ML_LABEL_TRUTH | ML_LABEL_PRED))
			keep[nk++] = a;
	if (v->json) {
		fputs("{\"labels\": [", fp);
		for (a = 0; a < nk; a++) {
			fputs(a ? ", " : "", fp);
			json_str(fp, lab_str(v, keep[a]));
		}
		fputs("],\n \"matrix\": [", fp);
		for (a = 0; a < nk; a++) {
			fputs(a ? ",\n  [" : "[", fp);
			for (b = 0; b < nk; b++) {
				fputs(b ? ", " : "", fp);
				json_num(v, fp,
					 cm[(size_t)keep[a] * (size_t)v->cls.k + (size_t)keep[b]]);
			}
			fputc(']', fp);
		}
		fputs("]}\n", fp);
		free(cm);
		free(keep);
		return ferror(fp) ? ml_err_set(e, ML_E_IO, NULL, 0, 0, "write error") : 0;
	}
	ml_frame_init(&f);
	if (ml_schema_add(&f.schema, "truth", ML_CAT) < 0)
		rc = ml_err_nomem(e);
	for (b = 0; rc == 0 && b < nk; b++)
		if (ml_schema_add(&f.schema, lab_str(v, keep[b]), ML_NUM) < 0)
			rc = ml_err_nomem(e);
	if (rc == 0 && ml_block_init(&f.rows, &f.schema, (size_t)(nk ? nk : 1), e) < 0)
		rc = ml_err_nomem(e);
	for (a = 0; rc == 0 && a < nk; a++) {
		if ((rc = put_cat(&f, 0, (size_t)a, lab_str(v, keep[a]), e)) < 0)
			break;
		for (b = 0; b < nk; b++)
			f.rows.col[b + 1].num[a] =
			    cm[(size_t)keep[a] * (size_t)v->cls.k + (size_t)keep[b]];
	}
	if (rc == 0) {
		f.rows.nrow = (size_t)nk;
		rc = write_frame(v, &f, fp, e);
	}
	ml_frame_release(&f);
	free(cm);
	free(keep);
	return rc;
}

/* The class a calibration table or plot is about. */
static int calib_class(struct eval *v, struct ml_err *e, const char *what)
{
	if (!v->classify)
		return ml_err_set(e, ML_E_DATA, v->iname, 0, 0, "%s needs a classification task",
				  what);
	if (!v->nprob)
		return ml_err_set(e, ML_E_DATA, v->iname, 0, 0,
				  "%s needs class probabilities (columns 'p_<label>')", what);
	if (!v->cls.binary && !v->pos_label)
		return ml_err_set(e, ML_E_DATA, v->iname, 0, 0,
				  "%s needs a binary task, or --pos to name the class", what);
	if (!v->cls.prob[v->cls.pos])
		return ml_err_set(e, ML_E_DATA, v->iname, 0, 0,
				  "no probability column 'p_%s' for the label given to --pos",
				  lab_str(v, v->cls.pos));
	return v->cls.pos;
}

static int print_calibration(struct eval *v, FILE *fp, struct ml_err *e)
{
	struct ml_calib_bin *bins = malloc((size_t)v->calib * sizeof(*bins));
	struct ml_frame f;
	static const char *const names[] = {"bin",   "lower",	       "upper",
					    "count", "mean_predicted", "fraction_positive"};
	int pos = calib_class(v, e, "--calibration"), b, j, rc = 0, first = 1;
	size_t row = 0;

	if (!bins) {
		return ml_err_nomem(e);
	}
	if (pos < 0) {
		free(bins);
		return e->code;
	}
	ml_calibration(v->cls.prob[pos], v->cd.truth, pos, v->cd.w, v->n, (int)v->calib, bins);
	if (v->json) {
		fputc('[', fp);
		for (b = 0; b < v->calib; b++) {
			if (!bins[b].count)
				continue;
			fputs(first ? "{" : ",\n {", fp);
			first = 0;
			fprintf(fp, "\"bin\": %d, \"lower\": ", b + 1);
			json_num(v, fp, bins[b].lower);
			fputs(", \"upper\": ", fp);
			json_num(v, fp, bins[b].upper);
			fprintf(fp, ", \"count\": %zu, \"mean_predicted\": ", bins[b].count);
			json_num(v, fp, bins[b].mean_pred);
			fputs(", \"fraction_positive\": ", fp);
			json_num(v, fp, bins[b].frac_pos);
			fputc('}', fp);
		}
		fputs("]\n", fp);
		free(bins);
		return ferror(fp) ? ml_err_set(e, ML_E_IO, NULL, 0, 0, "write error") : 0;
	}
	ml_frame_init(&f);
	for (j = 0; j < 6; j++)
		if (ml_schema_add(&f.schema, names[j], ML_NUM) < 0)
			rc = ml_err_nomem(e);
	if (rc == 0 && ml_block_init(&f.rows, &f.schema, (size_t)v->calib, e) < 0)
		rc = ml_err_nomem(e);
	for (b = 0; rc == 0 && b < v->calib; b++) {
		if (!bins[b].count)
			continue;
		f.rows.col[0].num[row] = b + 1;
		f.rows.col[1].num[row] = bins[b].lower;
		f.rows.col[2].num[row] = bins[b].upper;
		f.rows.col[3].num[row] = (double)bins[b].count;
		f.rows.col[4].num[row] = bins[b].mean_pred;
		f.rows.col[5].num[row] = bins[b].frac_pos;
		row++;
	}
	if (rc == 0) {
		f.rows.nrow = row;
		rc = write_frame(v, &f, fp, e);
	}
	ml_frame_release(&f);
	free(bins);
	return rc;
}

/* --- Plots --------------------------------------------------------------------------------------
 */

static int plot_curves(struct eval *v, struct ml_svg *p, int pr, struct ml_err *e)
{
	const struct ml_cls_data *s = &v->cd;
	char label[300];
	int c, rc = 0;

	for (c = 0; c < v->cls.k && rc == 0; c++) {
		struct ml_curve cv;
		double val;
		if (v->cls.binary ? c != v->cls.pos : !(lab_flag(v, c) & ML_LABEL_TRUTH))
			continue;
		memset(&cv, 0, sizeof(cv));
		rc = pr ? ml_pr_curve(v->cls.prob[c], s->n, s->truth, c, s->w, &cv, e)
			: ml_roc_curve(v->cls.prob[c], s->n, s->truth, c, s->w, &cv, e);
		if (rc < 0)
			break;
		if (v->cls.binary) {
			val = v->all.val[pr ? ML_M_AVERAGE_PRECISION : ML_M_AUC];
			snprintf(label, sizeof(label), "%s (%s = %.4f)",
				 pr ? "PR curve" : "ROC curve", pr ? "AP" : "AUC", val);
		} else {
			rc = pr ? ml_average_precision(v->cls.prob[c], s->n, s->truth, c, s->w,
						       &val, e)
				: ml_auc(v->cls.prob[c], s->n, s->truth, c, s->w, &val, e);
			snprintf(label, sizeof(label), "%s (%s = %.4f)", lab_str(v, c),
				 pr ? "AP" : "AUC", val);
		}
		if (rc == 0)
			rc = ml_svg_line(p, cv.x, cv.y, cv.n, label, pr ? ML_SVG_STEP : 0, e);
		ml_curve_release(&cv);
	}
	return rc;
}

static int draw_plot(struct eval *v, FILE *fp, struct ml_err *e)
{
	struct ml_svg *p = NULL;
	double dx[2] = {0, 1}, dy[2] = {0, 1};
	int rc = 0;

	if (!v->classify || !v->nprob)
		return ml_err_set(e, ML_E_DATA, v->iname, 0, 0,
				  "--plot needs class probabilities (columns 'p_<label>')");
	if (v->plot == PLOT_ROC) {
		p = ml_svg_new("ROC curve", "False positive rate", "True positive rate");
		if (!p)
			return ml_err_nomem(e);
		ml_svg_legend(p, ML_SVG_BOTTOM_RIGHT);
		rc = plot_curves(v, p, 0, e);
		if (rc == 0)
			rc = ml_svg_line(p, dx, dy, 2, "chance", ML_SVG_REF | ML_SVG_DASHED, e);
	} else if (v->plot == PLOT_PR) {
		p = ml_svg_new("Precision-recall curve", "Recall", "Precision");
		if (!p)
			return ml_err_nomem(e);
		ml_svg_legend(p, ML_SVG_BOTTOM_LEFT);
		rc = plot_curves(v, p, 1, e);
		if (rc == 0 && v->cls.binary) {
			/* The precision of a random ranking: the weighted share of positives. */
			double pw = 0, tw = 0;
			size_t i;
			for (i = 0; i < v->n; i++) {
				double w = v->cd.w ? v->cd.w[i] : 1;
				tw += w;
				if (v->cd.truth[i] == v->cls.pos)
					pw += w;
			}
			dy[0] = dy[1] = tw > 0 ? pw / tw : 0;
			rc = ml_svg_line(p, dx, dy, 2, "chance", ML_SVG_REF | ML_SVG_DASHED, e);
		}
	} else {
		int nb = v->calib > 0 ? (int)v->calib : DEFAULT_BINS, b, m = 0;
		int pos = calib_class(v, e, "--plot calibration");
		struct ml_calib_bin *bins;
		double *x, *y;
		if (pos < 0)
			return e->code;
		bins = malloc((size_t)nb * sizeof(*bins));
		x = malloc((size_t)nb * sizeof(double));
		y = malloc((size_t)nb * sizeof(double));
		p = ml_svg_new("Reliability diagram", "Mean predicted probability",
			       "Fraction of positives");
		if (!bins || !x || !y || !p) {
			free(bins);
			free(x);
			free(y);
			ml_svg_free(p);
			return ml_err_nomem(e);
		}
		ml_svg_legend(p, ML_SVG_TOP_LEFT);
		ml_calibration(v->cls.prob[pos], v->cd.truth, pos, v->cd.w, v->n, nb, bins);
		for (b = 0; b < nb; b++)
			if (bins[b].count && bins[b].weight > 0) {
				x[m] = bins[b].mean_pred;
				y[m] = bins[b].frac_pos;
				m++;
			}
		{
			char label[300];
			snprintf(label, sizeof(label), "p_%s (%d bins)", lab_str(v, pos), nb);
			rc = ml_svg_line(p, x, y, (size_t)m, label, ML_SVG_MARKERS, e);
		}
		if (rc == 0)
			rc = ml_svg_line(p, dx, dy, 2, "perfectly calibrated",
					 ML_SVG_REF | ML_SVG_DASHED, e);
		free(bins);
		free(x);
		free(y);
	}
	ml_svg_xlim(p, 0, 1);
	ml_svg_ylim(p, 0, 1.0001);
	if (rc == 0)
		rc = ml_svg_write(p, fp, e);
	ml_svg_free(p);
	return rc;
}

/* --- Gates
 * ---------------------------------------------------------------------------------------- */

static int parse_gate(struct eval *v, const char *arg, int max)
{
	const char *eq = strchr(arg, '=');
	char name[64];
	struct gate *g;
	int m;
	double x;

	if (!eq || (size_t)(eq - arg) >= sizeof(name))
		return cli_usage(&v->cli, "invalid gate '%s' for %s (NAME=VALUE)", arg,
				 max ? "--max" : "--min");
	memcpy(name, arg, (size_t)(eq - arg));
	name[eq - arg] = 0;
	if ((m = ml_metric_find(name)) < 0)
		return cli_usage(&v->cli, "unknown metric '%s' in %s", name,
				 max ? "--max" : "--min");
	if (ml_parse_real(eq + 1, -INFINITY, INFINITY, &x) != 0 || !isfinite(x))
		return cli_usage(&v->cli, "invalid value '%s' for %s %s (a number)", eq + 1,
				 max ? "--max" : "--min", name);
	g = realloc(v->gates, (size_t)(v->ngates + 1) * sizeof(*g));
	if (!g)
		return cli_error(&v->cli, EX_OSERR_, "out of memory");
	v->gates = g;
	g[v->ngates].metric = m;
	g[v->ngates].max = max;
	g[v->ngates].v = x;
	g[v->ngates].text = eq + 1;
	v->ngates++;
	return 0;
}

/* Report every failed gate on every set; returns 1 when one failed. */
static int check_gates(struct eval *v)
{
	int i, gi, failed = 0;

	for (i = 0; i < v->ngates; i++) {
		const struct gate *g = &v->gates[i];
		for (gi = -1; gi < (v->by_name ? v->ngroups : 0); gi++) {
			const struct set *s = gi < 0 ? &v->all : &v->groups[gi];
			double x = s->val[g->metric];
			char t[ML_FMT_DOUBLE_MAX + 1];
			int bad = g->max ? !(x <= g->v) : !(x >= g->v);
			if (!bad)
				continue;
			failed = 1;
			ml_fmt_double(t, x);
			if (s->group) {
				char q[128];
				ml_err_quote(q, sizeof(q), s->group, strlen(s->group));
				fprintf(stderr, "%s: gate failed: %s = %s %c %s in group '%s'\n",
					v->cli.prog, ml_metric_name(g->metric), t,
					g->max ? '>' : '<', g->text, q);
			} else
				fprintf(stderr, "%s: gate failed: %s = %s %c %s\n", v->cli.prog,
					ml_metric_name(g->metric), t, g->max ? '>' : '<', g->text);
		}
	}
	return failed;
}

/* --- Main
 * ------------------------------------------------------------------------------------------- */

/* Read the rows; build the classes and the data set of every row. */
static int load(struct eval *v, const char *path, struct ml_err *e)
{
	int rc;

	if ((rc = read_input(v, path, e)) < 0)
		return rc;
	if (v->want_rows >= 0 && (unsigned long long)v->n != (unsigned long long)v->want_rows)
		return ml_err_set(e, ML_E_DATA, v->iname, 0, 0,
				  "%zu rows where --rows expects %lld (did a command before this one "
				  "fail? see set -o pipefail)",
				  v->n, v->want_rows);
	if ((rc = weights_ok(v, e)) < 0)
		return rc;
	if (v->classify && (rc = prepare_classes(v, e)) < 0)
		return rc;
	whole_set(v);
	return 0;
}

/* The metrics of every row and of each group, with their intervals. Returns 0, a negative
 * ML_E_* with e set, or 1 with *status set. */
static int run(struct eval *v, int *status, struct ml_err *e)
{
	int rc, g, i;

	if ((rc = make_eval(v, &v->all, &v->cd, &v->rd, e)) < 0)
		return rc;
	for (i = 0; i < v->ngates; i++)
		if (!ml_eval_has(v->all.ev, v->gates[i].metric)) {
			*status =
			    cli_usage(&v->cli, "cannot gate on '%s': not computed for this input",
				      ml_metric_name(v->gates[i].metric));
			return 1;
		}
	if (v->by_name && (rc = make_groups(v, e)) < 0)
		return rc;
	if (v->ci) {
		if ((*status = cli_ctx(&v->cli, &v->ctx)) != 0)
			return 1;
		v->have_ctx = 1;
		if ((rc = ml_eval_bootstrap(v->all.ev, &v->ctx, v->ctx.seed, v->nboot, LEVEL,
					    v->all.lo, v->all.hi, e)) < 0)
			return rc;
		for (g = 0; g < v->ngroups; g++) {
			struct ml_rng r;
			ml_rng_derive(&r, v->ctx.seed, (uint64_t)g + 1);
			if ((rc = ml_eval_bootstrap(v->groups[g].ev, &v->ctx, ml_rng_next(&r),
						    v->nboot, LEVEL, v->groups[g].lo,
						    v->groups[g].hi, e)) < 0)
				return rc;
		}
	}
	return 0;
}

static int output(struct eval *v, int *status, struct ml_err *e)
{
	struct ml_output *out = NULL, *pout[8] = {NULL};
	int rc = 0, i;

	/* Everything that can be checked is, before any output: the plots' task, and their
	 * files, opened (each a temporary beside its target) before the metrics are written. */
	for (i = 0; i < v->nplots && rc == 0; i++)
		if (!v->classify || !v->nprob)
			rc = ml_err_set(e, ML_E_DATA, v->iname, 0, 0,
					"--plot %s needs class probabilities (columns 'p_<label>')",
					v->plots[i].kind == PLOT_ROC ? "roc" :
					v->plots[i].kind == PLOT_PR  ? "pr" :
								       "calibration");
		else if (v->plots[i].kind == PLOT_CALIBRATION &&
			 calib_class(v, e, "--plot calibration") < 0)
			rc = e->code;
		else if (!(pout[i] = ml_output_open(v->plots[i].file, e)))
			rc = e->code;
	if (rc == 0) {
		if (v->json) {
			/* JSON is text, whatever --format says. */
			if (!(out = ml_output_open(v->cli.output, e)))
				rc = e->code;
		} else if (!(out = cli_open_output(&v->cli, v->cli.output, status))) {
			for (i = 0; i < v->nplots; i++)
				ml_output_abort(pout[i]);
			return 1;
		}
	}
	if (rc == 0) {
		if (v->confusion)
			rc = v->classify ? print_confusion(v, ml_output_file(out), e)
					 : ml_err_set(e, ML_E_DATA, v->iname, 0, 0,
						      "--confusion needs a classification task");
		else if (v->calib > 0)
			rc = print_calibration(v, ml_output_file(out), e);
		else
			rc = print_metrics(v, ml_output_file(out), e);
	}
	for (i = 0; i < v->nplots && rc == 0; i++) {
		v->plot = v->plots[i].kind;
		rc = draw_plot(v, ml_output_file(pout[i]), e);
	}
	for (i = 0; i < v->nplots && rc == 0; i++) {
		rc = ml_output_commit(pout[i], e);
		pout[i] = NULL;
	}
	if (rc == 0) {
		rc = ml_output_commit(out, e);
		out = NULL;
	}
	for (i = 0; i < v->nplots; i++)
		if (pout[i])
			ml_output_abort(pout[i]);
	if (out)
		ml_output_abort(out);
	if (rc < 0) {
		*status = cli_fail(&v->cli, e);
		return 1;
	}
	return 0;
}

static int parse_args(struct eval *v, int argc, char **argv, int *rc)
{
	int ch;
	long x;

	while ((ch = cli_next(&v->cli, argc, argv, rc)) != -1) {
		switch (ch) {
		case CLI_DONE:
			return -1;
		case 't':
			v->truth_name = optarg;
			break;
		case 'p':
			v->pred_name = optarg;
			break;
		case 'w':
			v->weight_name = optarg;
			break;
		case O_TASK:
			if (strcmp(optarg, "classify") == 0)
				v->task = TASK_CLASSIFY;
			else if (strcmp(optarg, "regress") == 0)
				v->task = TASK_REGRESS;
			else {
				*rc = cli_usage(&v->cli, "unknown task '%s' (classify or regress)",
						optarg);
				return -1;
			}
			break;
		case O_POS:
			v->pos_label = optarg;
			break;
		case O_JSON:
			v->json = 1;
			break;
		case O_CONFUSION:
			v->confusion = 1;
			break;
		case O_CALIBRATION:
			if (cli_long(&v->cli, "--calibration", optarg, 1, 10000, &x) < 0) {
				*rc = EX_USAGE_;
				return -1;
			}
			v->calib = x;
			break;
		case O_BY:
			v->by_name = optarg;
			break;
		case O_CI:
			v->ci = 1;
			break;
		case O_BOOTSTRAP:
			if (cli_long(&v->cli, "--bootstrap", optarg, 1, 10000000, &x) < 0) {
				*rc = EX_USAGE_;
				return -1;
			}
			v->nboot = x;
			v->ci = 1;
			break;
		case O_MIN:
		case O_MAX:
			if ((*rc = parse_gate(v, optarg, ch == O_MAX)) != 0)
				return -1;
			break;
		case O_PLOT: {
			const char *colon = strchr(optarg, ':');
			size_t n = colon ? (size_t)(colon - optarg) : strlen(optarg);
			int kind = n == 3 && !strncmp(optarg, "roc", 3)		 ? PLOT_ROC :
				   n == 2 && !strncmp(optarg, "pr", 2)		 ? PLOT_PR :
				   n == 11 && !strncmp(optarg, "calibration", 11) ? PLOT_CALIBRATION :
										    PLOT_NONE;
			if (kind == PLOT_NONE) {
				*rc = cli_usage(&v->cli, "unknown plot '%.*s' (roc, pr or calibration)",
						(int)n, optarg);
				return -1;
			}
			if (colon && !colon[1]) {
				*rc = cli_usage(&v->cli, "--plot %s: no file after ':'", optarg);
				return -1;
			}
			if (v->nplots == (int)(sizeof(v->plots) / sizeof(v->plots[0]))) {
				*rc = cli_usage(&v->cli, "at most %d plots",
						(int)(sizeof(v->plots) / sizeof(v->plots[0])));
				return -1;
			}
			v->plots[v->nplots].kind = kind;
			v->plots[v->nplots++].file = colon ? colon + 1 : NULL;
			break;
		}
		case O_ROWS:
			if (cli_long(&v->cli, "--rows", optarg, 0, LONG_MAX, &x) < 0) {
				*rc = EX_USAGE_;
				return -1;
			}
			v->want_rows = x;
			break;
		case O_PLOT_FILE:
			v->plot_file = optarg;
			break;
		default:
			*rc = cli_usage(&v->cli, "unrecognized option '%s'", argv[optind - 1]);
			return -1;
		}
	}
	return 0;
}

/* Each plot's file: its own, or --plot-file for one plot without; no two the same, none
 * the output. */
static int check_plots(struct eval *v)
{
	int i, k, without = 0;

	for (i = 0; i < v->nplots; i++)
		if (!v->plots[i].file) {
			if (++without > 1)
				return cli_usage(&v->cli, "several plots need a file each (--plot "
							  "roc:roc.svg --plot pr:pr.svg)");
			if (!v->plot_file)
				return cli_usage(&v->cli, "--plot needs a file (--plot %s:FILE, or "
							  "--plot-file FILE)",
						 v->plots[i].kind == PLOT_ROC ? "roc" :
						 v->plots[i].kind == PLOT_PR ? "pr" :
									      "calibration");
			v->plots[i].file = v->plot_file;
		} else if (v->plot_file && !without && i == v->nplots - 1) {
			/* --plot-file given, yet every plot names its own */
			for (k = 0; k < v->nplots && v->plots[k].file != v->plot_file; k++)
				;
			if (k == v->nplots)
				return cli_usage(&v->cli, "--plot-file is for a --plot without a file of "
							  "its own");
		}
	if (v->plot_file && v->nplots == 0)
		return cli_usage(&v->cli, "--plot-file needs --plot roc, pr or calibration");
	for (i = 0; i < v->nplots; i++) {
		if (v->cli.output && strcmp(v->plots[i].file, v->cli.output) == 0)
			return cli_usage(&v->cli, "--plot's file and --output name the same file");
		for (k = 0; k < i; k++)
			if (strcmp(v->plots[i].file, v->plots[k].file) == 0)
				return cli_usage(&v->cli, "two plots into the same file '%s'",
						 v->plots[i].file);
	}
	return 0;
}

/* Combinations that cannot work; the input. */
static int check_args(struct eval *v, int argc, char **argv, const char **path)
{
	int rc;

	if (!v->truth_name)
		return cli_usage(&v->cli, "the truth column is required (-t COL)");
	if (v->confusion && v->calib > 0)
		return cli_usage(&v->cli, "--confusion and --calibration cannot be combined");
	if ((v->confusion || v->calib > 0) && (v->by_name || v->ci))
		return cli_usage(&v->cli, "%s cannot be combined with %s",
				 v->confusion ? "--confusion" : "--calibration",
				 v->by_name ? "--by" : "--ci");
	if ((rc = check_plots(v)) != 0)
		return rc;
	if (argc - optind > 1)
		return cli_usage(&v->cli, "one input at most (got %d)", argc - optind);
	if (argc - optind == 1)
		*path = argv[optind];
	return 0;
}

/* Everything v holds (its ml_err and the outputs are the caller's). */
static void release(struct eval *v)
{
	int g, c;

	ml_eval_free(v->all.ev);
	for (g = 0; g < v->ngroups; g++) {
		ml_eval_free(v->groups[g].ev);
		ml_subset_release(&v->groups[g].sub);
	}
	free(v->groups);
	ml_groups_release(&v->grp);
	if (v->have_ctx)
		ml_ctx_release(&v->ctx);
	if (v->r)
		ml_reader_close(v->r);
	free(v->truth.num);
	free(v->truth.code);
	free(v->pred.num);
	free(v->pred.code);
	free(v->weight.num);
	free(v->group.num);
	free(v->group.code);
	for (c = 0; c < v->nprob; c++)
		free(v->prob[c].num);
	free(v->prob);
	ml_classes_release(&v->cls);
	free(v->gates);
	cli_release(&v->cli);
}

int cmd_main(int argc, char **argv)
{
	struct eval v;
	struct ml_err e;
	int rc = 0;
	const char *path = NULL;

	memset(&v, 0, sizeof(v));
	v.nboot = 1000;
	v.want_rows = -1;
	v.truth.idx = v.pred.idx = v.weight.idx = v.group.idx = -1;
	ml_err_init(&e);
	if ((rc = cli_init(&v.cli, &cmd)) != 0)
		return rc;
	if (parse_args(&v, argc, argv, &rc) < 0 || (rc = check_args(&v, argc, argv, &path)) != 0)
		goto done;
	if (load(&v, path, &e) < 0 || run(&v, &rc, &e) != 0) {
		if (e.code < 0 && rc == 0)
			rc = cli_fail(&v.cli, &e);
		goto done;
	}
	if (output(&v, &rc, &e) != 0)
		goto done;
	rc = check_gates(&v) ? EX_FINDING : 0;
done:
	release(&v);
	return rc;
}
