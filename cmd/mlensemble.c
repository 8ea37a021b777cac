/* mlensemble: nest fitted models in one ensemble artefact, or combine prediction files. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ml/artefact.h"
#include "ml/ensemble.h"

const char cmd_name[] = "mlensemble";

static const char usage[] =
	"Usage: mlensemble --method METHOD -m ARTEFACT -m ARTEFACT... [-w W,W..] -o FILE\n"
	"  or:  mlensemble --method anomaly -m DETECTOR -m DETECTOR... -o FILE [FILE]\n"
	"  or:  mlensemble --combine METHOD [--key COL] FILE FILE...\n"
	"  or:  mlensemble --adaptive --state FILE [--init] --members P,P.. [OPTION].. [FILE]\n"
	"Nest fitted models in one ensemble artefact, which mlpredict scores and mlinfo\n"
	"describes; or combine prediction files that mlpredict wrote, row by row.\n"
	"\n"
	"  -m, --model=ARTEFACT   a member: a model, or feature pipelines and a model\n"
	"                         joined by '+' (feat.mlm+model.mlm), applied in order\n"
	"      --method=METHOD    mean (soft voting: probabilities or predictions\n"
	"                         averaged), median, vote (hard voting), weighted,\n"
	"                         anomaly (detectors: below)\n"
	"  -w, --weights=W,W..    one non-negative weight per member (weighted, vote,\n"
	"                         anomaly)\n"
	"      --combine=METHOD   combine the prediction FILEs: mean, median, vote, rank\n"
	"      --key=COL          --combine: join the files on COL instead of by row\n"
	"\n"
	"Stacking (--method stack or blend; rows from FILE or standard input):\n"
	"  -t, --target=COL       the target column\n"
	"      --base=SPEC        a base learner: 'ALGO --PARAM VALUE..', its\n"
	"                         hyperparameters as mltrain's options; repeat it\n"
	"      --cv=K             folds for the out-of-fold predictions (default 5)\n"
	"      --cv-time=COL      time-ordered folds, in the order of COL\n"
	"      --cv-group=COL     rows with the same COL value stay in one fold\n"
	"      --holdout=F        blend: the fraction of rows the meta-learner is fitted\n"
	"                         on (default 0.2)\n"
	"      --meta=ALGO        the meta-learner: logistic (default when classifying),\n"
	"                         linear (default for a regression) or gbdt\n"
	"      --passthrough      the meta-learner also sees the input's features\n"
	"      --nonneg           the meta-learner's weights of the members' answers are\n"
	"                         non-negative (linear or logistic meta-learner)\n"
	"      --oof=FILE         write every row's fold and out-of-fold meta-features\n"
	"      --feat='OPTIONS'   a feature pipeline (mlfeat's steps and options) fitted\n"
	"                         with each base learner inside each fold, on its training\n"
	"                         rows only, and on all rows for the members\n"
	"      --report=FILE      write each member's out-of-fold metrics, the ensemble's,\n"
	"                         the members' correlation and disagreement, the weights\n"
	"      --optimize         --method weighted from --base specs: weights that\n"
	"                         minimise the out-of-fold log loss (or RMSE)\n"
	"\n"
	"Adaptive weighting (--adaptive; rows from FILE or standard input):\n"
	"      --adaptive         combine the members' prediction columns row by row,\n"
	"                         each row with the weights learned before it\n"
	"      --state=FILE       the weights and window, read and then rewritten\n"
	"      --init             start afresh instead of reading --state\n"
	"      --members=P,P..    the members' column prefixes (P_pred, P_p_LABEL)\n"
	"      --metric=METRIC    logloss, accuracy or mae\n"
	"      --window=N|DUR     the last N rows with a truth (default 100), or those\n"
	"                         of the last DUR (30s, 15m, 12h, 7d, 2w) of --time-col\n"
	"      --time-col=COL     the rows' times (seconds, or dates)\n"
	"      --smoothing=A      how far the weights move each row, in (0, 1]\n"
	"                         (default 0.1)\n"
	"Anomaly detectors (--method anomaly -m DET -m DET.. [FILE]): standardised scores\n"
	"weighted by the members' agreement on FILE's unlabelled rows (default: the\n"
	"sample of training rows each detector keeps), or by -w:\n"
	"      --contamination=F  the fraction of those rows the ensemble flags (auto:\n"
	"                         0.1)\n"
	"      --bands=Q,Q,Q,Q    the severity quantiles (default 0.9,0.95,0.99,0.999)\n"
	"\n";

static const char usage_tail[] =
	"\n"
	"Exit status: 0 success, 2 usage, 65 bad input data or artefact, 66 cannot open\n"
	"input, 70 internal error, 71 out of memory, 74 read/write error.\n"
	"Full documentation: man mlensemble\n";

enum {
	O_METHOD = 1,
	O_COMBINE,
	O_KEY,
	O_BASE,
	O_CV,
	O_CV_TIME,
	O_CV_GROUP,
	O_HOLDOUT,
	O_META,
	O_PASSTHROUGH,
	O_OOF,
	O_OPTIMIZE,
	O_REPORT,
	O_FEAT,
	O_ADAPTIVE,
	O_STATE,
	O_INIT,
	O_MEMBERS,
	O_METRIC,
	O_WINDOW,
	O_TIME_COL,
	O_SMOOTHING,
	O_NONNEG,
	O_CONTAMINATION,
	O_BANDS
};

static const struct option own[] = {{"model", required_argument, NULL, 'm'},
				    {"method", required_argument, NULL, O_METHOD},
				    {"weights", required_argument, NULL, 'w'},
				    {"combine", required_argument, NULL, O_COMBINE},
				    {"key", required_argument, NULL, O_KEY},
				    {"target", required_argument, NULL, 't'},
				    {"base", required_argument, NULL, O_BASE},
				    {"cv", required_argument, NULL, O_CV},
				    {"cv-time", required_argument, NULL, O_CV_TIME},
				    {"cv-group", required_argument, NULL, O_CV_GROUP},
				    {"holdout", required_argument, NULL, O_HOLDOUT},
				    {"meta", required_argument, NULL, O_META},
				    {"passthrough", no_argument, NULL, O_PASSTHROUGH},
				    {"oof", required_argument, NULL, O_OOF},
				    {"optimize", no_argument, NULL, O_OPTIMIZE},
				    {"report", required_argument, NULL, O_REPORT},
				    {"feat", required_argument, NULL, O_FEAT},
				    {"adaptive", no_argument, NULL, O_ADAPTIVE},
				    {"state", required_argument, NULL, O_STATE},
				    {"init", no_argument, NULL, O_INIT},
				    {"members", required_argument, NULL, O_MEMBERS},
				    {"metric", required_argument, NULL, O_METRIC},
				    {"window", required_argument, NULL, O_WINDOW},
				    {"time-col", required_argument, NULL, O_TIME_COL},
				    {"smoothing", required_argument, NULL, O_SMOOTHING},
				    {"nonneg", no_argument, NULL, O_NONNEG},
				    {"contamination", required_argument, NULL, O_CONTAMINATION},
				    {"bands", required_argument, NULL, O_BANDS},
				    {NULL, 0, NULL, 0}};

static const struct cli_help help[] = {
	{CLI_OUTPUT_FILE, "write the ensemble (or the combined predictions) to FILE,\n"
			  "atomically"},
	{CLI_THREADS, "threads for stacking's fits (default: all cores); the\nensemble never depends on it"},
	{CLI_SEED, "stacking: the seed of the folds and of the learners\n(default 42)"},
	{0, NULL}};

static const struct cli_cmd cmd = {"mlensemble", usage, usage_tail, own, "m:w:t:",
				   CLI_INPUT | CLI_OUTPUT | CLI_RUN | CLI_QUIET | CLI_VERBOSE, help};

struct ens {
	struct cli cli;
	int method;	 /* --method, or -1 */
	int combine;	 /* --combine, or -1 */
	const char *key; /* --key */
	const char *weights;
	const char **spec; /* the -m members */
	int nspec;
	struct ml_artefact **art; /* every member's stages, in order */
	int nart;
	struct ml_ens_member *mem;
	double *w;
	/* stacking */
	int blend;
	const char *target, *cv_time, *cv_group, *meta, *oof, *report, *feat;
	struct ml_feat_spec fspec;
	void *fstore;
	const char **base;
	int nbase;
	long cv;
	double holdout;
	int passthrough;
	int optimize;
	/* adaptive weighting */
	int adaptive, init;
	const char *state, *members, *metric, *window, *time_col, *smoothing;
	int nonneg;
	/* anomaly */
	const char *contamination, *bands;
};

/* -w W,W,..: as many non-negative weights as members, not all zero. */
static int parse_weights(struct ens *s, int n)
{
	const char *p = s->weights;
	double tot = 0;
	int k;

	for (k = 0; k < n; k++) {
		const char *c = strchr(p, ',');
		size_t len = c ? (size_t)(c - p) : strlen(p);
		char buf[64];
		if (len == 0 || len >= sizeof(buf) || (k == n - 1) != (c == NULL))
			return cli_usage(&s->cli, "-w '%s': give %d comma-separated weights, one per "
					 "member", s->weights, n);
		memcpy(buf, p, len);
		buf[len] = 0;
		if (ml_parse_real(buf, 0, 1e300, &s->w[k]) != 0)
			return cli_usage(&s->cli, "-w '%s': '%s' is not a non-negative number",
					 s->weights, buf);
		tot += s->w[k];
		p = c ? c + 1 : p;
	}
	if (!(tot > 0))
		return cli_usage(&s->cli, "-w '%s': the weights sum to zero", s->weights);
	return 0;
}

/* Load every -m member: paths joined by '+' are one member's stages. */
static int load_members(struct ens *s, struct ml_err *e)
{
	int k, total = 0;

	for (k = 0; k < s->nspec; k++) {
		const char *p;
		total++;
		for (p = s->spec[k]; *p; p++)
			total += *p == '+';
	}
	s->art = calloc((size_t)total, sizeof(*s->art));
	s->mem = calloc((size_t)s->nspec, sizeof(*s->mem));
	if (!s->art || !s->mem)
		return ml_err_nomem(e);
	for (k = 0; k < s->nspec; k++) {
		const char *p = s->spec[k];
		s->mem[k].stage = (const struct ml_artefact *const *)&s->art[s->nart];
		s->mem[k].name = NULL;
		s->mem[k].weight = 1;
		for (;;) {
			const char *c = strchr(p, '+');
			size_t len = c ? (size_t)(c - p) : strlen(p);
			char *path = malloc(len + 1);
			if (!path)
				return ml_err_nomem(e);
			memcpy(path, p, len);
			path[len] = 0;
			if (len == 0) {
				free(path);
				return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "-m '%s': an empty file name",
						  s->spec[k]);
			}
			s->art[s->nart] = ml_artefact_load(path, e);
			free(path);
			if (!s->art[s->nart])
				return e->code;
			s->nart++;
			s->mem[k].nstage++;
			if (!c)
				break;
			p = c + 1;
		}
	}
	return 0;
}

static int build(struct ens *s, struct ml_err *e)
{
	struct ml_model *m = NULL;
	int k, rc;

	if ((rc = load_members(s, e)) < 0)
		return rc;
	for (k = 0; s->weights && k < s->nspec; k++)
		s->mem[k].weight = s->w[k];
	if ((rc = ml_ensemble_build(&m, s->method, s->mem, s->nspec, NULL, 0, e)) < 0)
		return rc;
	if ((rc = cli_stamp(m, e)) == 0)
		rc = ml_model_save(m, s->cli.output, e);
	ml_model_free(m);
	return rc;
}

/* --- Combining prediction files ----------------------------------------------------------- */

struct pfile {
	struct ml_frame f;
	const char *name;
	int pred;  /* the pred column, or -1 */
	int *pcol; /* its column of each class of the first file */
	size_t *row; /* with --key: the row matching each of the first file's rows */
};

/* Cell j of row i as text (numbers in their shortest form). */
static const char *cell_text(const struct ml_frame *f, int j, size_t i, char *buf)
{
	if (f->schema.cols[j].type == ML_CAT) {
		int32_t c = f->rows.col[j].cat[i];
		return c < 0 ? "" : f->schema.cols[j].dict.str[c];
	}
	if (isnan(f->rows.col[j].num[i]))
		return "";
	buf[ml_fmt_double(buf, f->rows.col[j].num[i])] = 0;
	return buf;
}

struct keyrow {
	char *key;
	size_t row;
};

static int cmp_key(const void *a, const void *b)
{
	return strcmp(((const struct keyrow *)a)->key, ((const struct keyrow *)b)->key);
}

static void free_keys(struct keyrow *k, size_t n)
{
	size_t i;

	for (i = 0; k && i < n; i++)
		free(k[i].key);
	free(k);
}

/* The rows of file q (sorted by key) in the order of the first file's keys. */
static int join_keys(struct pfile *P, int nf, const char *key, struct ml_err *e)
{
	size_t n = P[0].f.rows.nrow, i;
	int q, rc = 0;
	char buf[40];

	for (q = 0; q < nf; q++) {
		int kj = ml_schema_find_or_suggest(&P[q].f.schema, key, "--key", P[q].name, NULL, e);
		struct keyrow *kr;
		size_t m = P[q].f.rows.nrow;
		if (kj < 0)
			return kj;
		if (m != n)
			return ml_err_set(e, ML_E_DATA, P[q].name, 0, 0,
					  "%zu rows, where %s has %zu", m, P[0].name, n);
		if (!(kr = calloc(m ? m : 1, sizeof(*kr))) || !(P[q].row = malloc((n ? n : 1) * sizeof(size_t)))) {
			free(kr);
			return ml_err_nomem(e);
		}
		for (i = 0; i < m; i++) {
			kr[i].key = strdup(cell_text(&P[q].f, kj, i, buf));
			kr[i].row = i;
			if (!kr[i].key) {
				free_keys(kr, m);
				return ml_err_nomem(e);
			}
		}
		qsort(kr, m, sizeof(*kr), cmp_key);
		for (i = 1; i < m && rc == 0; i++)
			if (strcmp(kr[i - 1].key, kr[i].key) == 0)
				rc = ml_err_set(e, ML_E_DATA, P[q].name, 0, 0,
						"--key '%s': the value '%s' is on two rows", key, kr[i].key);
		if (rc == 0) {
			int k0 = ml_schema_find(&P[0].f.schema, key);
			for (i = 0; i < n && rc == 0; i++) {
				struct keyrow want = {(char *)(uintptr_t)cell_text(&P[0].f, k0, i, buf), 0};
				struct keyrow *hit = bsearch(&want, kr, m, sizeof(*kr), cmp_key);
				if (!hit)
					rc = ml_err_set(e, ML_E_DATA, P[q].name, 0, 0,
							"--key '%s': no row for '%s' of %s", key, want.key,
							P[0].name);
				else
					P[q].row[i] = hit->row;
			}
		}
		free_keys(kr, m);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Prediction columns of every file: the first file's classes (p_LABEL) found by label. */
static int find_columns(struct pfile *P, int nf, int *K, const char ***labels, int method,
			struct ml_err *e)
{
	struct ml_pred_opts po;
	struct ml_pred_cols pc;
	int q, c, rc;

	ml_pred_opts_init(&po);
	ml_pred_cols_init(&pc);
	po.name = P[0].name;
	if ((rc = ml_pred_find(&P[0].f.schema, &po, &pc, e)) < 0)
		return rc;
	*K = pc.nprob;
	if (!(*labels = calloc((size_t)(pc.nprob ? pc.nprob : 1), sizeof(**labels)))) {
		ml_pred_cols_release(&pc);
		return ml_err_nomem(e);
	}
	for (c = 0; c < pc.nprob; c++)
		(*labels)[c] = pc.prob[c].label;
	ml_pred_cols_release(&pc);
	for (q = 0; q < nf; q++) {
		P[q].pred = ml_schema_find(&P[q].f.schema, ML_PRED_LABEL);
		if (!(P[q].pcol = malloc((size_t)(*K ? *K : 1) * sizeof(int))))
			return ml_err_nomem(e);
		for (c = 0; c < *K; c++) {
			char name[1100];
			ml_pred_name(name, sizeof(name), ML_PRED_PROB_PREFIX, (*labels)[c]);
			P[q].pcol[c] = ml_schema_find(&P[q].f.schema, name);
			if (P[q].pcol[c] < 0 || P[q].f.schema.cols[P[q].pcol[c]].type != ML_NUM)
				return ml_err_set(e, ML_E_DATA, P[q].name, 0, 0,
						  "no numeric column '%s' (%s has it)", name, P[0].name);
		}
		if (*K == 0 && (P[q].pred < 0 || P[q].f.schema.cols[P[q].pred].type != ML_NUM))
			return ml_err_set(e, ML_E_DATA, P[q].name, 0, 0,
					  "no numeric column '%s' and no p_LABEL columns: not "
					  "predictions of mlpredict",
					  ML_PRED_LABEL);
		if (*K > 0 && method == ML_ENS_VOTE && P[q].pred < 0)
			return ml_err_set(e, ML_E_DATA, P[q].name, 0, 0,
					  "no column '%s' to vote with", ML_PRED_LABEL);
		if (q > 0 && P[q].f.rows.nrow != P[0].f.rows.nrow)
			return ml_err_set(e, ML_E_DATA, P[q].name, 0, 0,
					  "%zu rows, where %s has %zu", P[q].f.rows.nrow, P[0].name,
					  P[0].f.rows.nrow);
	}
	return 0;
}

struct iv {
	double v;
	size_t i;
};

/* Values in increasing order, missing ones last. */
static int cmp_iv(const void *a, const void *b)
{
	double x = ((const struct iv *)a)->v, y = ((const struct iv *)b)->v;

	if (isnan(x) || isnan(y))
		return isnan(x) - isnan(y);
	return (x > y) - (x < y);
}

/* Each value of v replaced by its rank among them (ties: their mean rank) over n; a
 * missing value stays missing. */
static int to_ranks(double *v, size_t n, struct ml_err *e)
{
	struct iv *t = malloc((n ? n : 1) * sizeof(*t));
	size_t i, j, k;

	if (!t)
		return ml_err_nomem(e);
	for (i = 0; i < n; i++) {
		t[i].v = v[i];
		t[i].i = i;
	}
	qsort(t, n, sizeof(*t), cmp_iv);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && t[j].v == t[i].v; j++)
			;
		for (k = i; k < j; k++)
			v[t[k].i] = isnan(t[k].v) ? NAN : ((double)(i + j + 1) / 2) / (double)n;
	}
	free(t);
	return 0;
}

/* Whether column j of file 0 is one of the prediction columns (not copied through). */
static int is_pred_col(const struct pfile *P, int K, int j)
{
	int c;

	if (j == P->pred)
		return 1;
	for (c = 0; c < K; c++)
		if (P->pcol[c] == j)
			return 1;
	return 0;
}

/* The class index of member q's pred at row i, by label (-1: none). */
static int pred_label(const struct pfile *P, const char *const *labels, int K, size_t i)
{
	char buf[40];
	const char *t;
	int c;

	if (P->pred < 0)
		return -1;
	t = cell_text(&P->f, P->pred, i, buf);
	for (c = 0; c < K; c++)
		if (strcmp(t, labels[c]) == 0)
			return c;
	return -1;
}

static int combine_rows(struct ens *s, struct pfile *P, int nf, int K, const char **labels,
			struct ml_frame *o, struct ml_err *e)
{
	size_t n = P[0].f.rows.nrow, i;
	int KK = K ? K : 1, q, c, j, nkeep = 0, rc;
	double **val = calloc((size_t)nf, sizeof(*val)), *p, *scratch, *out;
	int *lab;
	char name[1100];

	p = malloc((size_t)nf * (size_t)KK * sizeof(double));
	scratch = malloc((size_t)nf * sizeof(double));
	out = malloc((size_t)KK * sizeof(double));
	lab = malloc((size_t)nf * sizeof(int));
	if (!val || !p || !scratch || !out || !lab) {
		rc = ml_err_nomem(e);
		goto done;
	}
	/* Each file's values in the first file's row order, ranked for rank. */
	for (q = 0; q < nf; q++) {
		if (!(val[q] = malloc((n ? n : 1) * (size_t)KK * sizeof(double)))) {
			rc = ml_err_nomem(e);
			goto done;
		}
		for (c = 0; c < KK; c++) {
			int col = K ? P[q].pcol[c] : P[q].pred;
			double *v = val[q] + (size_t)c * n;
			for (i = 0; i < n; i++)
				v[i] = P[q].f.rows.col[col].num[P[q].row ? P[q].row[i] : i];
			if (s->combine == ML_ENS_RANK && (rc = to_ranks(v, n, e)) < 0)
				goto done;
		}
	}
	for (j = 0; j < P[0].f.schema.ncol; j++) {
		const struct ml_col *col = &P[0].f.schema.cols[j];
		int at;
		if (is_pred_col(&P[0], K, j))
			continue;
		if ((at = ml_schema_add(&o->schema, col->name, col->type)) < 0 ||
		    ml_dict_copy(&o->schema.cols[at].dict, &col->dict) < 0) {
			rc = ml_err_nomem(e);
			goto done;
		}
		nkeep++;
	}
	if (ml_schema_find(&o->schema, ML_PRED_LABEL) >= 0 ||
	    ml_schema_add(&o->schema, ML_PRED_LABEL, K ? ML_CAT : ML_NUM) < 0) {
		rc = ml_err_nomem(e);
		goto done;
	}
	for (c = 0; c < K; c++) {
		ml_pred_name(name, sizeof(name), ML_PRED_PROB_PREFIX, labels[c]);
		if (ml_dict_intern(&o->schema.cols[nkeep].dict, labels[c], strlen(labels[c])) != c ||
		    ml_schema_add(&o->schema, name, ML_NUM) < 0) {
			rc = ml_err_set(e, ML_E_DATA, P[0].name, 0, 0, "classes repeat");
			goto done;
		}
	}
	if ((rc = ml_block_init(&o->rows, &o->schema, n ? n : 1, e)) < 0)
		goto done;
	for (j = 0, c = 0; j < P[0].f.schema.ncol; j++) {
		if (is_pred_col(&P[0], K, j))
			continue;
		memcpy(o->rows.col[c].num, P[0].f.rows.col[j].num,
		       n * (P[0].f.schema.cols[j].type == ML_CAT ? sizeof(int32_t) : sizeof(double)));
		c++;
	}
	for (i = 0; i < n; i++) {
		int best;
		for (q = 0; q < nf; q++) {
			for (c = 0; c < KK; c++)
				p[(size_t)q * (size_t)KK + (size_t)c] = val[q][(size_t)c * n + i];
			lab[q] = K ? pred_label(&P[q], labels, K, P[q].row ? P[q].row[i] : i) : -1;
		}
		best = ml_ens_combine_row(s->combine == ML_ENS_RANK ? ML_ENS_MEAN : s->combine, nf, KK,
					  p, K ? lab : NULL, NULL, scratch, out);
		if (K) {
			o->rows.col[nkeep].cat[i] = best;
			for (c = 0; c < K; c++)
				o->rows.col[nkeep + 1 + c].num[i] = out[c];
		} else {
			o->rows.col[nkeep].num[i] = out[0];
		}
	}
	o->rows.nrow = n;
	rc = 0;
done:
	for (q = 0; val && q < nf; q++)
		free(val[q]);
	free(val);
	free(p);
	free(scratch);
	free(out);
	free(lab);
	return rc;
}

static int combine(struct ens *s, char **files, int nf, struct ml_err *e)
{
	struct pfile *P = calloc((size_t)nf, sizeof(*P));
	struct ml_read_opts ro;
	struct ml_frame o;
	struct ml_output *out = NULL;
	struct ml_writer *w = NULL;
	struct ml_write_opts wo;
	const char **labels = NULL;
	int q, K = 0, rc = 0, st;

	ml_frame_init(&o);
	if (!P)
		return ml_err_nomem(e);
	cli_read_opts(&s->cli, &ro);
	for (q = 0; q < nf && rc == 0; q++) {
		ml_frame_init(&P[q].f);
		P[q].name = strcmp(files[q], "-") == 0 ? "<stdin>" : files[q];
		rc = ml_frame_read(&P[q].f, files[q], &ro, e);
	}
	if (rc == 0)
		rc = find_columns(P, nf, &K, &labels, s->combine, e);
	if (rc == 0 && s->key)
		rc = join_keys(P, nf, s->key, e);
	if (rc == 0)
		rc = combine_rows(s, P, nf, K, labels, &o, e);
	if (rc == 0 && !(out = cli_open_output(&s->cli, s->cli.output, &st)))
		rc = st == EX_USAGE_ ? ML_E_USAGE : ML_E_IO;
	if (rc == 0) {
		cli_write_opts(&s->cli, &wo);
		if (!(w = ml_writer_open(ml_output_file(out), cli_output_name(&s->cli), &o.schema, &wo, e)) ||
		    ml_writer_write(w, &o.rows, 0, o.rows.nrow, e) < 0 || ml_writer_finish(w, e) < 0)
			rc = e->code ? e->code : ML_E_IO;
	}
	if (rc == 0) {
		rc = ml_output_commit(out, e);
		out = NULL;
	}
	if (out)
		ml_output_abort(out);
	ml_writer_free(w);
	for (q = 0; q < nf; q++) {
		ml_frame_release(&P[q].f);
		free(P[q].pcol);
		free(P[q].row);
	}
	free(P);
	free(labels);
	ml_frame_release(&o);
	return rc;
}

/* --- Stacking ------------------------------------------------------------------------------ */

/* A column of the frame for --cv-time or --cv-group. */
static int cv_column(const struct ml_frame *f, const char *name, const char *opt,
		     const char *input, struct ml_err *e)
{
	return ml_schema_find_or_suggest(&f->schema, name, opt, input, NULL, e);
}

/* Write a frame to path, leaving the output in *out for a commit together with the rest. */
static int write_frame(struct ens *s, const char *path, const struct ml_frame *oof,
		       struct ml_output **out, struct ml_err *e)
{
	struct ml_output *o = ml_output_open(path, e);
	struct ml_write_opts wo;
	struct ml_writer *w;

	if (!o)
		return e->code;
	cli_write_opts(&s->cli, &wo);
	if (!(w = ml_writer_open(ml_output_file(o), ml_output_name(o), &oof->schema, &wo, e)) ||
	    ml_writer_write(w, &oof->rows, 0, oof->rows.nrow, e) < 0 || ml_writer_finish(w, e) < 0) {
		ml_writer_free(w);
		ml_output_abort(o);
		return e->code ? e->code : ML_E_IO;
	}
	ml_writer_free(w);
	*out = o;
	return 0;
}

/* The model to the output file, leaving it in *out for a commit together with the rest. */
static int write_model(struct ens *s, const struct ml_model *m, struct ml_output **out,
		       struct ml_err *e)
{
	if (!(*out = ml_output_open(s->cli.output, e)))
		return e->code;
	return cli_write_model(*out, m, e);
}

static int stack(struct ens *s, struct ml_train_spec *base, struct ml_train_spec *meta,
		 const char *input, struct ml_err *e)
{
	struct ml_stack_opts so;
	struct ml_read_opts ro;
	struct ml_frame f, oof, rep;
	struct ml_model *m = NULL;
	struct ml_output *out = NULL, *rep_out = NULL, *oof_out = NULL;
	struct ml_ctx ctx;
	int rc, col;

	ml_frame_init(&f);
	ml_frame_init(&oof);
	ml_frame_init(&rep);
	cli_read_opts(&s->cli, &ro);
	if ((rc = ml_frame_read(&f, input, &ro, e)) < 0) {
		ml_frame_release(&f);
		return rc;
	}
	if ((rc = cli_ctx(&s->cli, &ctx)) != 0) {
		/* reported: the status passes through */
		ml_frame_release(&f);
		return rc;
	}
	ml_stack_opts_init(&so);
	so.base = base;
	so.nbase = s->nbase;
	so.names = s->base;
	so.meta = meta;
	so.passthrough = s->passthrough;
	so.optimize = s->optimize;
	so.nonneg = s->nonneg;
	so.report = s->report ? &rep : NULL;
	so.feat = s->feat ? &s->fspec : NULL;
	so.created = cli_epoch();
	so.holdout = s->blend ? s->holdout : 0;
	so.cv.k = (int)s->cv;
	so.cv.seed = s->cli.seed_set ? s->cli.seed : 42;
	rc = 0;
	if (s->cv_time || s->cv_group) {
		const char *name = s->cv_time ? s->cv_time : s->cv_group;
		if ((col = cv_column(&f, name, s->cv_time ? "--cv-time" : "--cv-group",
				     input ? input : "<stdin>", e)) < 0)
			rc = col;
		so.cv.col = col;
		so.cv.split = s->cv_time ? ML_CV_TIME : ML_CV_GROUP;
	}
	if (rc == 0)
		rc = ml_ensemble_stack(&m, &f, &so, &ctx, s->oof ? &oof : NULL, e);
	/* the out-of-fold rows, the report and the model go into place together, or none */
	if (rc == 0 && s->oof)
		rc = write_frame(s, s->oof, &oof, &oof_out, e);
	if (rc == 0 && s->report)
		rc = write_frame(s, s->report, &rep, &rep_out, e);
	if (rc == 0)
		rc = cli_stamp(m, e);
	if (rc == 0)
		rc = write_model(s, m, &out, e);
	if (rc == 0)
		rc = cli_commit((struct ml_output **[]){&out, &rep_out, &oof_out}, 3, e);
	if (out)
		ml_output_abort(out);
	if (rep_out)
		ml_output_abort(rep_out);
	if (oof_out)
		ml_output_abort(oof_out);
	ml_model_free(m);
	ml_ctx_release(&ctx);
	ml_frame_release(&oof);
	ml_frame_release(&rep);
	ml_frame_release(&f);
	return rc;
}

/* The base learners and the meta-learner from their specs; 0 or the usage status. */
static int stack_specs(struct ens *s, struct ml_train_spec *base, struct ml_train_spec *meta)
{
	const char *mname = s->meta;
	int b, rc;

	for (b = 0; b < s->nbase; b++) {
		memset(&base[b], 0, sizeof(base[b]));
		if ((rc = cli_learner_spec(&s->cli, "--base", s->base[b], &base[b])) != 0)
			return rc;
		base[b].target = s->target;
		base[b].ignore = s->cv_time ? s->cv_time : s->cv_group;
		base[b].task = ML_TASK_AUTO;
	}
	memset(meta, 0, sizeof(*meta));
	if (!mname)
		return 0; /* logistic or linear, by the task */
	if (strcmp(mname, "logistic") != 0 && strcmp(mname, "linear") != 0 &&
	    strcmp(mname, "gbdt") != 0)
		return cli_usage(&s->cli, "invalid value '%s' for --meta (logistic, linear or gbdt)",
				 mname);
	return cli_learner_spec(&s->cli, "--meta", mname, meta);
}

static int run_stack(struct ens *s, int argc, char **argv, struct ml_err *e)
{
	struct ml_train_spec *base, meta;
	const char *input = NULL;
	int rc;

	if (s->nspec || s->weights)
		return cli_usage(&s->cli, "--method %s fits its members from --base specs, not -m or -w",
				 s->optimize ? "weighted --optimize" : s->blend ? "blend" : "stack");
	if (s->optimize && (s->meta || s->passthrough || s->nonneg))
		return cli_usage(&s->cli, "--optimize learns weights, not a meta-learner (--meta, --passthrough, --nonneg)");
	if (s->nonneg && s->meta && strcmp(s->meta, "gbdt") == 0)
		return cli_usage(&s->cli, "--nonneg is for a linear or logistic meta-learner, not --meta gbdt");
	if (!s->target)
		return cli_usage(&s->cli, "no target given (-t COLUMN)");
	if (s->nbase < 1)
		return cli_usage(&s->cli, "no base learner given (--base 'ALGO [OPTIONS]')");
	if (s->cv_time && s->cv_group)
		return cli_usage(&s->cli, "--cv-time and --cv-group cannot be combined");
	if (s->blend && (s->cv_time || s->cv_group))
		return cli_usage(&s->cli, "--method blend takes --holdout, not --cv-time or --cv-group");
	if (!s->cli.output)
		return cli_usage(&s->cli, "no output file (-o FILE) for the ensemble");
	if (argc - optind > 1)
		return cli_usage(&s->cli, "one input FILE at a time");
	if (argc - optind == 1 && strcmp(argv[optind], "-") != 0)
		input = argv[optind];
	if (!(base = calloc((size_t)s->nbase, sizeof(*base))))
		return cli_error(&s->cli, EX_OSERR_, "out of memory");
	if (s->feat) {
		ml_feat_spec_init(&s->fspec);
		if ((rc = cli_feat_spec(&s->cli, "--feat", s->feat, &s->fspec, &s->fstore)) != 0) {
			free(base);
			return rc;
		}
		s->fspec.target = s->target;
		s->fspec.name = input ? input : "<stdin>";
	}
	if ((rc = stack_specs(s, base, &meta)) == 0 && (rc = stack(s, base, &meta, input, e)) < 0)
		rc = cli_fail(&s->cli, e);
	free(base);
	return rc;
}

/* --- Adaptive weighting --------------------------------------------------------------------- */

static const char **adaptive_opt(struct ens *s, int ch)
{
	switch (ch) {
	case O_STATE:
		return &s->state;
	case O_MEMBERS:
		return &s->members;
	case O_METRIC:
		return &s->metric;
	case O_WINDOW:
		return &s->window;
	case O_TIME_COL:
		return &s->time_col;
	default:
		return &s->smoothing;
	}
}

/* --window: N rows, or a number and a unit (s, m, h, d, w) of --time-col. */
static int parse_window(struct ens *s, struct ml_ada_opts *o)
{
	if (ml_parse_window(s->window, 1000000000, &o->window, &o->seconds, NULL) == 0)
		return 0;
	return cli_usage(&s->cli, "invalid value '%s' for --window (a count of rows, or a duration "
			 "such as 30s, 15m, 12h, 7d, 2w)", s->window);
}

/* --members a,b,c: two names at least, none empty, none twice. */
static int parse_members(struct ens *s, struct ml_ada_opts *o, char **store)
{
	char *p, **v;
	int n = 1, k, j;

	for (p = (char *)s->members; *p; p++)
		n += *p == ',';
	if (!(*store = strdup(s->members)) || !(v = calloc((size_t)n, sizeof(*v))))
		return cli_error(&s->cli, EX_OSERR_, "out of memory");
	o->members = (const char *const *)v;
	o->nmember = n;
	for (k = 0, p = *store; k < n; k++) {
		char *c = strchr(p, ',');
		if (c)
			*c = 0;
		v[k] = p;
		if (!*p)
			return cli_usage(&s->cli, "--members '%s': an empty name", s->members);
		for (j = 0; j < k; j++)
			if (strcmp(v[j], p) == 0)
				return cli_usage(&s->cli, "--members '%s': '%s' twice", s->members, p);
		p = c ? c + 1 : p;
	}
	if (n < 2)
		return cli_usage(&s->cli, "--members '%s': give two members at least", s->members);
	return 0;
}

/* The settings given on the command line; 0 or the usage status. */
static int adaptive_opts(struct ens *s, struct ml_ada_opts *o, char **store)
{
	int rc;

	ml_ada_opts_init(o);
	o->target = s->target;
	o->time_col = s->time_col;
	if (s->members && (rc = parse_members(s, o, store)) != 0)
		return rc;
	if (s->metric && (o->metric = ml_ada_metric_find(s->metric)) < 0)
		return cli_usage(&s->cli, "invalid value '%s' for --metric (logloss, accuracy, mae)",
				 s->metric);
	if (s->window && (rc = parse_window(s, o)) != 0)
		return rc;
	if (o->seconds > 0 && !s->time_col)
		return cli_usage(&s->cli, "--window '%s' is a duration: give the rows' times (--time-col)",
				 s->window);
	if (s->smoothing && (ml_parse_real(s->smoothing, 0, 1, &o->smoothing) != 0 || !(o->smoothing > 0)))
		return cli_usage(&s->cli, "invalid value '%s' for --smoothing (a number in (0, 1])",
				 s->smoothing);
	if (!s->init)
		return 0;
	if (!s->members || !s->metric || !s->target)
		return cli_usage(&s->cli, "--init needs --members, --metric and -t");
	if (!s->window)
		o->window = 100;
	if (!s->smoothing)
		o->smoothing = 0.1;
	return 0;
}

/* The state: fresh, or read from --state and checked against the options. */
static int adaptive_state(struct ens *s, const struct ml_ada_opts *o, struct ml_adaptive **a,
			  struct ml_err *e)
{
	struct ml_model *m;
	int rc;

	if (s->init)
		return ml_adaptive_new(a, o, e);
	if (!(m = ml_model_load(s->state, e))) {
		size_t n = strlen(e->msg);
		snprintf(e->msg + n, sizeof(e->msg) - n, " (--init starts afresh)");
		return e->code;
	}
	rc = ml_adaptive_from_model(a, m, s->state, o, e);
	ml_model_free(m);
	return rc;
}

/* Read the rows, write each with its combined answer, then the state: the two outputs
 * committed together. */
static int adaptive(struct ens *s, const char *input, const struct ml_ada_opts *o,
		    struct ml_err *e)
{
	struct ml_adaptive *a = NULL;
	struct ml_reader *r = NULL;
	struct ml_writer *w = NULL;
	struct ml_output *out = NULL, *sout = NULL;
	struct ml_model *m = NULL;
	struct ml_read_opts ro;
	struct ml_write_opts wo;
	const struct ml_schema *os;
	const struct ml_block *b, *ob;
	long n;
	int rc, st;

	cli_read_opts(&s->cli, &ro);
	cli_write_opts(&s->cli, &wo);
	if ((rc = adaptive_state(s, o, &a, e)) < 0 || !(r = ml_reader_open(input, &ro, e)) ||
	    (rc = ml_adaptive_bind(a, ml_reader_schema(r), ml_reader_name(r), &os, e)) < 0)
		goto done;
	if (!(out = cli_open_output(&s->cli, s->cli.output, &st))) {
		rc = st == EX_USAGE_ ? ML_E_USAGE : ML_E_IO;
		goto done;
	}
	if (!(w = ml_writer_open(ml_output_file(out), cli_output_name(&s->cli), os, &wo, e)))
		goto done;
	while ((n = ml_reader_next(r, &b, e)) > 0)
		if ((rc = ml_adaptive_apply(a, b, &ob, e)) < 0 ||
		    (rc = ml_writer_write(w, ob, 0, ob->nrow, e)) < 0)
			goto done;
	if ((rc = (int)n) < 0 || (rc = ml_writer_finish(w, e)) < 0 ||
	    (rc = ml_adaptive_to_model(a, &m, e)) < 0 || (rc = cli_stamp(m, e)) < 0)
		goto done;
	if (!(sout = ml_output_open(s->state, e)) || (rc = cli_write_model(sout, m, e)) < 0)
		goto done;
	rc = cli_commit((struct ml_output **[]){&out, &sout}, 2, e);
done:
	if (rc == 0 && e->code < 0)
		rc = e->code;
	ml_writer_free(w);
	if (out)
		ml_output_abort(out);
	if (sout)
		ml_output_abort(sout);
	ml_reader_close(r);
	ml_model_free(m);
	ml_adaptive_free(a);
	return rc;
}

static int run_adaptive(struct ens *s, int argc, char **argv, struct ml_err *e)
{
	struct ml_ada_opts o;
	char *store = NULL;
	const char *input = NULL;
	int rc;

	if (!s->adaptive)
		return cli_usage(&s->cli, "--state, --init, --members, --metric, --window, --time-col "
				 "and --smoothing are for --adaptive");
	if (s->method >= 0 || s->combine >= 0 || s->nspec || s->weights || s->nbase || s->meta ||
	    s->oof || s->report || s->feat || s->key || s->nonneg)
		return cli_usage(&s->cli, "--adaptive combines prediction columns: no --method, "
				 "--combine, -m, -w or stacking options");
	if (!s->state)
		return cli_usage(&s->cli, "--adaptive needs a state file (--state FILE; --init for "
				 "the first run)");
	if (argc - optind > 1)
		return cli_usage(&s->cli, "one input FILE at a time");
	if (argc - optind == 1 && strcmp(argv[optind], "-") != 0)
		input = argv[optind];
	if ((rc = adaptive_opts(s, &o, &store)) == 0 && (rc = adaptive(s, input, &o, e)) < 0)
		rc = cli_fail(&s->cli, e);
	free((void *)o.members);
	free(store);
	return rc;
}

/* --- Anomaly detectors ------------------------------------------------------------------- */

/* --contamination and --bands into o; 0 or the usage status. */
static int anomaly_opts(struct ens *s, struct ml_ens_anomaly_opts *o)
{
	const char *p = s->bands;
	int k;

	if (s->contamination && strcmp(s->contamination, "auto") != 0 &&
	    (ml_parse_real(s->contamination, 0, 0.5, &o->contamination) != 0 ||
	     !(o->contamination > 0)))
		return cli_usage(&s->cli, "invalid value '%s' for --contamination (auto, or a "
				 "fraction above 0 and at most 0.5)", s->contamination);
	for (k = 0; p && k < 4; k++) {
		const char *c = strchr(p, ',');
		size_t len = c ? (size_t)(c - p) : strlen(p);
		char buf[64];
		if (len == 0 || len >= sizeof(buf) || (k == 3) != (c == NULL))
			return cli_usage(&s->cli, "--bands '%s': give four comma-separated quantiles "
					 "(low, medium, high, critical)", s->bands);
		memcpy(buf, p, len);
		buf[len] = 0;
		if (ml_parse_real(buf, 0, 1, &o->band[k]) != 0 || !(o->band[k] > 0 && o->band[k] < 1) ||
		    (k && !(o->band[k] > o->band[k - 1])))
			return cli_usage(&s->cli, "--bands '%s': the quantiles must rise strictly "
					 "between 0 and 1", s->bands);
		p = c ? c + 1 : p;
	}
	return 0;
}

static int run_anomaly(struct ens *s, int argc, char **argv, struct ml_err *e)
{
	struct ml_ens_anomaly_opts o;
	struct ml_read_opts ro;
	struct ml_schema types;
	struct ml_frame f;
	struct ml_model *m = NULL;
	const char *input = NULL;
	int rc, k;

	if (s->nbase || s->target || s->meta || s->passthrough || s->oof || s->report ||
	    s->cv_time || s->cv_group || s->feat)
		return cli_usage(&s->cli, "-t, --base, --meta, --passthrough, --oof, --report, --feat "
				 "and --cv-* are for fitted ensembles (stack, blend, weighted "
				 "--optimize)");
	if (s->nspec < 2)
		return cli_usage(&s->cli, "--method anomaly needs two members at least (-m)");
	if (!s->cli.output)
		return cli_usage(&s->cli, "no output file (-o FILE) for the ensemble");
	if (argc - optind > 1)
		return cli_usage(&s->cli, "one FILE of unlabelled rows at a time");
	if (argc - optind == 1)
		input = argv[optind];
	ml_ens_anomaly_opts_init(&o);
	if ((rc = anomaly_opts(s, &o)) != 0 || (s->weights && (rc = parse_weights(s, s->nspec)) != 0))
		return rc;
	if ((rc = load_members(s, e)) < 0)
		return cli_fail(&s->cli, e);
	for (k = 0; s->weights && k < s->nspec; k++)
		s->mem[k].weight = s->w[k];
	o.weighted = s->weights != NULL;
	ml_frame_init(&f);
	ml_schema_init(&types);
	if (input) {
		cli_read_opts(&s->cli, &ro);
		if ((rc = ml_artefact_input_schema(s->mem[0].stage[0], &types, e)) == 0) {
			ro.types = &types;
			rc = ml_frame_read(&f, input, &ro, e);
		}
		o.rows = &f;
		o.rows_name = strcmp(input, "-") == 0 ? "<stdin>" : input;
	}
	if (rc == 0)
		rc = ml_ensemble_anomaly(&m, s->mem, s->nspec, &o, e);
	if (rc == 0)
		rc = cli_stamp(m, e);
	if (rc == 0)
		rc = ml_model_save(m, s->cli.output, e);
	ml_model_free(m);
	ml_frame_release(&f);
	ml_schema_release(&types);
	return rc < 0 ? cli_fail(&s->cli, e) : 0;
}

/* The options of the fitted ensembles (stack, blend, weighted --optimize), refused by the
 * methods that fit nothing rather than ignored (--oof and --report name outputs); 0 when
 * none is given, else the usage status. */
static int refuse_fit_opts(struct ens *s)
{
	if (!s->nbase && !s->target && !s->meta && !s->passthrough && !s->oof && !s->report &&
	    !s->cv_time && !s->cv_group && !s->feat && !s->nonneg)
		return 0;
	return cli_usage(&s->cli, "-t, --base, --meta, --passthrough, --nonneg, --oof, --report, "
				  "--feat and --cv-* are for fitted ensembles (stack, blend, "
				  "weighted --optimize)");
}

int cmd_main(int argc, char **argv)
{
	struct ens s;
	struct ml_err e;
	int ch, rc = 0, k;

	memset(&s, 0, sizeof(s));
	s.method = s.combine = -1;
	ml_err_init(&e);
	if ((rc = cli_init(&s.cli, &cmd)) != 0)
		return rc;
	s.cv = 5;
	s.holdout = 0.2;
	if (!(s.spec = calloc((size_t)argc, sizeof(*s.spec))) ||
	    !(s.base = calloc((size_t)argc, sizeof(*s.base))) ||
	    !(s.w = calloc((size_t)argc, sizeof(*s.w)))) {
		rc = cli_error(&s.cli, EX_OSERR_, "out of memory");
		goto done;
	}
	while ((ch = cli_next(&s.cli, argc, argv, &rc)) != -1) {
		switch (ch) {
		case CLI_DONE:
			goto done;
		case 'm':
			s.spec[s.nspec++] = optarg;
			break;
		case 'w':
			s.weights = optarg;
			break;
		case O_METHOD:
		case O_COMBINE:
			k = ml_ens_method_find(optarg);
			if (ch == O_METHOD && strcmp(optarg, "blend") == 0) {
				k = ML_ENS_STACK;
				s.blend = 1;
			}
			if (ch == O_METHOD && (k < 0 || k == ML_ENS_RANK)) {
				rc = cli_usage(&s.cli, "invalid value '%s' for --method (mean, median, "
						       "vote, weighted, stack, blend, anomaly)", optarg);
				goto done;
			}
			if (ch == O_COMBINE && (k < 0 || k == ML_ENS_WEIGHTED || k == ML_ENS_STACK ||
						   k == ML_ENS_ANOMALY)) {
				rc = cli_usage(&s.cli, "invalid value '%s' for --combine (mean, median, "
						       "vote, rank)", optarg);
				goto done;
			}
			*(ch == O_METHOD ? &s.method : &s.combine) = k;
			break;
		case O_KEY:
			s.key = optarg;
			break;
		case 't':
			s.target = optarg;
			break;
		case O_BASE:
			s.base[s.nbase++] = optarg;
			break;
		case O_CV:
			if (cli_long(&s.cli, "--cv", optarg, 2, 1000000, &s.cv) < 0) {
				rc = EX_USAGE_;
				goto done;
			}
			break;
		case O_CV_TIME:
			s.cv_time = optarg;
			break;
		case O_CV_GROUP:
			s.cv_group = optarg;
			break;
		case O_HOLDOUT:
			if (ml_parse_real(optarg, 0, 1, &s.holdout) != 0 || !(s.holdout > 0) ||
			    !(s.holdout < 1)) {
				rc = cli_usage(&s.cli, "invalid value '%s' for --holdout (a fraction "
						       "between 0 and 1)", optarg);
				goto done;
			}
			break;
		case O_META:
			s.meta = optarg;
			break;
		case O_PASSTHROUGH:
			s.passthrough = 1;
			break;
		case O_OOF:
			s.oof = optarg;
			break;
		case O_OPTIMIZE:
			s.optimize = 1;
			break;
		case O_REPORT:
			s.report = optarg;
			break;
		case O_FEAT:
			s.feat = optarg;
			break;
		case O_NONNEG:
			s.nonneg = 1;
			break;
		case O_ADAPTIVE:
		case O_INIT:
			*(ch == O_ADAPTIVE ? &s.adaptive : &s.init) = 1;
			break;
		case O_STATE:
		case O_MEMBERS:
		case O_METRIC:
		case O_WINDOW:
		case O_TIME_COL:
		case O_SMOOTHING:
			*adaptive_opt(&s, ch) = optarg;
			break;
		case O_CONTAMINATION:
			s.contamination = optarg;
			break;
		case O_BANDS:
			s.bands = optarg;
			break;
		default:
			rc = cli_usage(&s.cli, "unrecognized option '%s'", argv[optind - 1]);
			goto done;
		}
	}
	if (s.adaptive || s.state || s.init || s.members || s.metric || s.window || s.time_col ||
	    s.smoothing) {
		rc = run_adaptive(&s, argc, argv, &e);
		goto done;
	}
	if (s.combine >= 0) {
		if (s.method >= 0 || s.nspec || s.weights) {
			rc = cli_usage(&s.cli, "--combine takes prediction files, not --method, -m or -w");
			goto done;
		}
		if ((rc = refuse_fit_opts(&s)) != 0)
			goto done;
		if (argc - optind < 2) {
			rc = cli_usage(&s.cli, "--combine needs two prediction files at least");
			goto done;
		}
		if ((rc = combine(&s, argv + optind, argc - optind, &e)) < 0)
			rc = cli_fail(&s.cli, &e);
		goto done;
	}
	if (s.key) {
		rc = cli_usage(&s.cli, "--key is for --combine");
		goto done;
	}
	if (s.method < 0) {
		rc = cli_usage(&s.cli, "no method given (--method or --combine)");
		goto done;
	}
	if (s.optimize && s.method != ML_ENS_WEIGHTED) {
		rc = cli_usage(&s.cli, "--optimize is for --method weighted");
		goto done;
	}
	if (s.method == ML_ENS_ANOMALY) {
		rc = run_anomaly(&s, argc, argv, &e);
		goto done;
	}
	if (s.contamination || s.bands) {
		rc = cli_usage(&s.cli, "--contamination and --bands are for --method anomaly");
		goto done;
	}
	if (s.method == ML_ENS_STACK || s.optimize) {
		rc = run_stack(&s, argc, argv, &e);
		goto done;
	}
	if ((rc = refuse_fit_opts(&s)) != 0)
		goto done;
	if (optind < argc) {
		rc = cli_usage(&s.cli, "unexpected argument '%s' (members are given with -m)",
			       argv[optind]);
		goto done;
	}
	if (s.nspec < 2) {
		rc = cli_usage(&s.cli, "--method %s needs two members at least (-m)",
			       ml_ens_method_name(s.method));
		goto done;
	}
	if (s.weights && s.method != ML_ENS_WEIGHTED && s.method != ML_ENS_VOTE) {
		rc = cli_usage(&s.cli, "-w is for --method weighted and vote");
		goto done;
	}
	if (s.method == ML_ENS_WEIGHTED && !s.weights) {
		rc = cli_usage(&s.cli, "--method weighted needs -w (one weight per member)");
		goto done;
	}
	if (!s.cli.output) {
		rc = cli_usage(&s.cli, "no output file (-o FILE) for the ensemble");
		goto done;
	}
	if (s.weights && (rc = parse_weights(&s, s.nspec)) != 0)
		goto done;
	if ((rc = build(&s, &e)) < 0)
		rc = cli_fail(&s.cli, &e);
done:
	for (k = 0; k < s.nart; k++)
		ml_artefact_free(s.art[k]);
	free(s.art);
	free(s.mem);
	free(s.w);
	free(s.spec);
	free(s.base);
	free(s.fstore);
	cli_release(&s.cli);
	return rc;
}
