/* mlpredict: score rows with fitted artefacts applied in order, streaming. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ml/feat.h"
#include "ml/learn.h"

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
	"      --line-buffered    write each row's prediction as soon as its line is read\n"
	"                         (the default when standard input is a terminal)\n"
	"\n"
	"Output: the --keep columns, then pred (regression: the value; classification: the\n"
	"label) and p_LABEL for every class in the model's order.\n"
	"\n";

static const char usage_tail[] =
	"\n"
	"COLS: names, 1-based indices, ranges (2-5) and !negation, comma-separated.\n"
	"Exit status: 0 success, 2 usage, 65 bad input data or artefact, 66 cannot open\n"
	"input, 70 internal error, 71 out of memory, 74 read/write error.\n"
	"Full documentation: man mlpredict\n";

enum { O_KEEP = 1, O_NOPROBA, O_RAW, O_LINEBUF, O_LEAF, O_CONTRIB };

static const struct option own[] = {{"model", required_argument, NULL, 'm'},
				    {"keep", required_argument, NULL, O_KEEP},
				    {"no-proba", no_argument, NULL, O_NOPROBA},
				    {"raw", no_argument, NULL, O_RAW},
				    {"line-buffered", no_argument, NULL, O_LINEBUF},
				    {"leaf", no_argument, NULL, O_LEAF},
				    {"contrib", no_argument, NULL, O_CONTRIB},
				    {NULL, 0, NULL, 0}};

static const struct cli_help help[] = {
	{CLI_THREADS, "scoring threads (default: one per core); the output\nnever depends on it"},
	{0, NULL}};

/* Scoring draws nothing at random and prints no warnings: no --seed, -q or -v. */
static const struct cli_cmd cmd = {"mlpredict", usage, usage_tail, own, "m:",
				   CLI_INPUT | CLI_OUTPUT | CLI_THREADS, help};

/* One artefact applied to the rows: a feature pipeline ("features", from mlfeat), which
 * binds to the schema before it and turns each block into the next stage's input, or a
 * model, which ends the chain. */
struct stage {
	const char *path;
	struct ml_model *m;
	struct ml_features *f;
	struct ml_learner *l;
};

struct pred {
	struct cli cli;
	const char *keep;
	int noproba, raw, linebuf, leaf, contrib;
	int ntrees, ncontrib; /* columns of --leaf and --contrib */
	int32_t *leaves;
	double *contribs;
	struct stage *st;
	int nst;
	struct ml_learner *l; /* the model: the last stage */
	struct ml_pool *pool; /* scoring threads, or NULL */
	int nout, nclass, regress;
	int holds;            /* a pipeline may return rows later than it takes them */
	/* kept columns waiting for their rows to come out of the pipelines */
	struct ml_schema kschema;
	struct ml_block kq;
	/* output */
	struct ml_schema out;
	int *keep_src; /* input column of each kept column */
	int nkeep;
	union ml_colv *vcol; /* the columns of the output block */
	double *score;       /* nout per row, row-major, from the model */
	int32_t *label;      /* classification: the predicted class */
	double *cols;        /* the score columns, column-major */
	size_t cap;
	struct ml_writer *w;
};

static int load_stage(struct pred *p, struct stage *s, int last, struct ml_err *e)
{
	const char *kind;

	s->m = ml_model_load(s->path, e);
	if (!s->m)
		return e->code;
	kind = ml_model_kind(s->m);
	if (strcmp(kind, "features") == 0) {
		if (last)
			return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
					  "-m %s: a feature pipeline needs a model after it", s->path);
		s->f = ml_features_from_model(s->m, e);
		if (!s->f) {
			if (!e->where[0])
				snprintf(e->where, sizeof(e->where), "%s", s->path);
			return e->code;
		}
		p->holds |= ml_features_holds_rows(s->f);
		return 0;
	}
	if (strcmp(kind, "model") != 0) {
		char q[80];
		return ml_err_set(e, ML_E_DATA, s->path, 0, 0,
				  "cannot apply a '%s' artefact (mlpredict applies feature "
				  "pipelines and models)",
				  ml_err_quote(q, sizeof(q), kind, strlen(kind)));
	}
	if (!last)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "-m %s: a model must be the last artefact", s->path);
	s->l = ml_learner_from_model(s->m, e);
	if (!s->l) {
		if (!e->where[0])
			snprintf(e->where, sizeof(e->where), "%s", s->path);
		return e->code;
	}
	p->l = s->l;
	return 0;
}

static int add_col(struct pred *p, const char *name, enum ml_type t, struct ml_err *e)
{
	int rc;

	if (ml_schema_find(&p->out, name) >= 0)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "--keep column '%s' has the name of an output column", name);
	rc = ml_schema_add(&p->out, name, t);
	return rc < 0 ? ml_err_nomem(e) : rc;
}

/* The output schema: the kept columns, then the scores. */
static int setup_output(struct pred *p, const struct ml_schema *in, const char *iname,
			struct ml_err *e)
{
	int j, k, rc, *idx = NULL;
	char name[1024];

	if (p->keep) {
		rc = ml_schema_find_or_suggest(in, p->keep, "--keep", iname, &idx, e);
		if (rc < 0)
			return rc;
		p->nkeep = rc;
		p->keep_src = idx;
		for (j = 0; j < p->nkeep; j++) {
			const struct ml_col *c = &in->cols[idx[j]];
			if ((rc = add_col(p, c->name, c->type, e)) < 0)
				return rc;
		}
	}
	p->nclass = ml_learner_nclass(p->l);
	p->regress = ml_learner_task(p->l) == ML_TASK_REGRESS;
	p->nout = ml_learner_nout(p->l, p->raw);
	if (p->regress) {
		if ((rc = add_col(p, p->raw ? "margin" : "pred", ML_NUM, e)) < 0)
			return rc;
	} else {
		int c = add_col(p, "pred", ML_CAT, e);
		if (c < 0)
			return c;
		for (k = 0; k < p->nclass; k++) {
			const char *lab = ml_learner_class(p->l, k);
			if (ml_dict_intern(&p->out.cols[c].dict, lab, strlen(lab)) != k)
				return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "the model's classes repeat");
		}
		if (!p->noproba) {
			if (p->raw && p->nout == 1) {
				if ((rc = add_col(p, "margin", ML_NUM, e)) < 0)
					return rc;
			} else {
				for (k = 0; k < p->nclass; k++) {
					snprintf(name, sizeof(name), "%s_%s", p->raw ? "margin" : "p",
						 ml_learner_class(p->l, k));
					if ((rc = add_col(p, name, ML_NUM, e)) < 0)
						return rc;
				}
			}
		}
	}
	if (p->leaf) {
		p->ntrees = ml_learner_ntrees(p->l);
		if (p->ntrees <= 0)
			return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "--leaf: -a %s models have no trees",
					  ml_learner_algo(p->l)->name);
		for (k = 0; k < p->ntrees; k++) {
			snprintf(name, sizeof(name), "leaf_%d", k + 1);
			if ((rc = add_col(p, name, ML_NUM, e)) < 0)
				return rc;
		}
	}
	if (p->contrib) {
		int K = ml_learner_nout(p->l, 1), nf = ml_learner_nfeatures(p->l), f;
		if (!ml_learner_algo(p->l)->contrib)
			return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
					  "--contrib: -a %s models give no per-feature contributions",
					  ml_learner_algo(p->l)->name);
		p->ncontrib = K * (nf + 1);
		for (k = 0; k < K; k++)
			for (f = 0; f <= nf; f++) {
				const char *fn = f < nf ? ml_learner_feature(p->l, f) : "bias";
				if (K > 1)
					snprintf(name, sizeof(name), "contrib_%s_%s",
						 ml_learner_class(p->l, k), fn);
				else
					snprintf(name, sizeof(name), "contrib_%s", fn);
				if ((rc = add_col(p, name, ML_NUM, e)) < 0)
					return rc;
			}
	}
	p->vcol = calloc((size_t)p->out.ncol, sizeof(*p->vcol));
	if (!p->vcol)
		return ml_err_nomem(e);
	return 0;
}

/* Room for n rows of scores. */
static int reserve(struct pred *p, size_t n, struct ml_err *e)
{
	size_t ncols = (size_t)(p->out.ncol - p->nkeep);

	if (n <= p->cap)
		return 0;
	free(p->score);
	free(p->label);
	free(p->cols);
	p->score = malloc(n * (size_t)p->nout * sizeof(double));
	p->label = malloc(n * sizeof(int32_t));
	p->cols = malloc(n * (ncols ? ncols : 1) * sizeof(double));
	free(p->leaves);
	free(p->contribs);
	p->leaves = p->ntrees ? malloc(n * (size_t)p->ntrees * sizeof(int32_t)) : NULL;
	p->contribs = p->ncontrib ? malloc(n * (size_t)p->ncontrib * sizeof(double)) : NULL;
	if (!p->score || !p->label || !p->cols || (p->ntrees && !p->leaves) ||
	    (p->ncontrib && !p->contribs)) {
		p->cap = 0;
		return ml_err_nomem(e);
	}
	p->cap = n;
	return 0;
}

/* Keep the kept categorical columns' output dictionaries equal to the input's (codes
 * are then copied as they are). */
static int sync_dicts(struct pred *p, const struct ml_schema *in, struct ml_err *e)
{
	int j;

	for (j = 0; j < p->nkeep; j++) {
		const struct ml_dict *d = &in->cols[p->keep_src[j]].dict;
		struct ml_dict *o = &p->out.cols[j].dict;
		if (p->out.cols[j].type != ML_CAT)
			continue;
		while (o->n < d->n) {
			int32_t c = ml_dict_intern(o, d->str[o->n], d->len[o->n]);
			if (c < 0)
				return ml_err_nomem(e);
		}
	}
	return 0;
}

/* Score n rows of mb (the model's input), writing them after the kept columns of rows
 * [kfrom, kfrom + n) of kb. */
static int score_block(struct pred *p, const struct ml_schema *in, const struct ml_block *mb,
		       size_t n, const struct ml_block *kb, const int *ksrc, size_t kfrom,
		       struct ml_err *e)
{
	struct ml_block view;
	size_t i;
	int j, k, rc, at;

	if (n == 0)
		return 0;
	if ((rc = reserve(p, n, e)) < 0 || (rc = sync_dicts(p, in, e)) < 0)
		return rc;
	if ((rc = ml_learner_predict(p->l, mb, 0, n, p->score, p->raw, e)) < 0)
		return rc;
	for (j = 0; j < p->nkeep; j++) {
		int c = ksrc ? ksrc[j] : j;
		if (p->out.cols[j].type == ML_NUM)
			p->vcol[j].num = kb->col[c].num + kfrom;
		else
			p->vcol[j].cat = kb->col[c].cat + kfrom;
	}
	at = p->nkeep;
	if (p->regress) {
		p->vcol[at++].num = p->score;
	} else {
		/* The label: the first class with the largest probability (or margin); for one
		 * binary margin, the second class when it is positive. */
		const double *s = p->score;
		int m = p->nout;
		for (i = 0; i < n; i++, s += m) {
			int best = -1;
			if (m == 1) {
				best = s[0] > 0 ? 1 : s[0] == s[0] ? 0 : -1;
			} else {
				for (k = 0; k < m; k++)
					if (s[k] == s[k] && (best < 0 || s[k] > s[best]))
						best = k;
			}
			p->label[i] = best;
		}
		p->vcol[at++].cat = p->label;
		if (!p->noproba)
			for (k = 0; k < m; k++) {
				double *c = p->cols + (size_t)k * n;
				for (i = 0; i < n; i++)
					c[i] = p->score[i * (size_t)m + (size_t)k];
				p->vcol[at++].num = c;
			}
	}
	if (p->leaf) {
		/* the extra columns follow the score columns in p->cols */
		double *c = p->cols + (size_t)(at - p->nkeep) * n;
		if ((rc = ml_learner_leaves(p->l, mb, 0, n, p->leaves, e)) < 0)
			return rc;
		for (k = 0; k < p->ntrees; k++, c += n) {
			for (i = 0; i < n; i++)
				c[i] = p->leaves[i * (size_t)p->ntrees + (size_t)k];
			p->vcol[at++].num = c;
		}
	}
	if (p->contrib) {
		double *c = p->cols + (size_t)(at - p->nkeep) * n;
		if ((rc = ml_learner_contrib(p->l, mb, 0, n, p->contribs, e)) < 0)
			return rc;
		for (k = 0; k < p->ncontrib; k++, c += n) {
			for (i = 0; i < n; i++)
				c[i] = p->contribs[i * (size_t)p->ncontrib + (size_t)k];
			p->vcol[at++].num = c;
		}
	}
	memset(&view, 0, sizeof(view));
	view.schema = &p->out;
	view.ncol = p->out.ncol;
	view.nrow = view.cap = n;
	view.col = p->vcol;
	rc = ml_writer_write(p->w, &view, 0, n, e);
	if (rc == 0 && p->linebuf)
		rc = ml_writer_flush(p->w, e);
	return rc;
}

/* Queue the kept columns of n input rows. */
static int keep_push(struct pred *p, const struct ml_block *b, size_t n, struct ml_err *e)
{
	size_t at = p->kq.nrow;
	int j, rc;

	if (!p->nkeep || n == 0)
		return 0;
	if ((rc = ml_block_reserve(&p->kq, at + n, e)) < 0)
		return rc;
	for (j = 0; j < p->nkeep; j++) {
		size_t sz = p->kschema.cols[j].type == ML_NUM ? sizeof(double) : sizeof(int32_t);
		memcpy((char *)p->kq.col[j].num + at * sz, (char *)b->col[p->keep_src[j]].num, n * sz);
	}
	p->kq.nrow = at + n;
	return 0;
}

/* Drop the first n queued rows. */
static void keep_pop(struct pred *p, size_t n)
{
	size_t left = p->kq.nrow - n;
	int j;

	for (j = 0; j < p->nkeep && left; j++) {
		size_t sz = p->kschema.cols[j].type == ML_NUM ? sizeof(double) : sizeof(int32_t);
		memmove(p->kq.col[j].num, (char *)p->kq.col[j].num + n * sz, left * sz);
	}
	p->kq.nrow = left;
}

/* Pass rows [0, n) of b through the pipelines from stage k on, then score what comes
 * out. in is the reader's schema; b0 the input block when nothing holds rows back. */
static int chain(struct pred *p, int k, const struct ml_schema *in, const struct ml_block *b,
		 size_t n, const struct ml_block *b0, struct ml_err *e)
{
	int rc;

	for (; k < p->nst && p->st[k].f && n; k++) {
		if ((rc = ml_features_apply(p->st[k].f, b, 0, n, &b, e)) < 0) {
			if (!e->where[0] && e->line <= 0)
				snprintf(e->where, sizeof(e->where), "%s", p->st[k].path);
			return rc;
		}
		n = b->nrow;
	}
	if (n == 0)
		return 0;
	if (!p->holds)
		return b0 ? score_block(p, in, b, n, b0, p->keep_src, 0, e) :
			    ml_err_set(e, ML_E_INTERNAL, NULL, 0, 0,
				       "a pipeline gave rows it did not say it holds");
	if (n > p->kq.nrow)
		return ml_err_set(e, ML_E_INTERNAL, NULL, 0, 0, "a pipeline gave more rows than it took");
	rc = score_block(p, in, b, n, &p->kq, NULL, 0, e);
	if (rc == 0)
		keep_pop(p, n);
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
		if (n > 0 && !A->stop)
			rc = copy_block(&A->slot[s], b, &A->e);
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
		if ((p->holds && (rc = keep_push(p, b, b->nrow, e)) < 0) ||
		    (rc = chain(p, 0, in, b, b->nrow, b, e)) < 0) {
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
	const struct ml_schema *in, *cur;
	long n;
	int rc, k, j;

	cli_read_opts(&p->cli, &ro);
	/* The first artefact's columns take the types they had when it was fitted, whatever
	 * a few rows suggest. */
	ml_schema_init(&types);
	rc = p->st[0].f ? ml_features_input_schema(p->st[0].f, &types, e) :
			  ml_learner_input_schema(p->l, &types, e);
	if (rc < 0)
		return rc;
	ro.types = &types;
	/* The model types its own columns; the others (--keep) are typed from a short look
	 * ahead, so the first answers come out without waiting for many rows. */
	ro.infer_rows = 1000;
	if (p->linebuf) {
		ro.block_rows = 1;
		ro.infer_rows = 1;
	}
	r = ml_reader_open(path, &ro, e);
	ml_schema_release(&types);
	if (!r)
		return e->code;
	in = cur = ml_reader_schema(r);
	for (k = 0; k < p->nst && p->st[k].f; k++)
		if ((rc = ml_features_bind(p->st[k].f, cur, &cur, e)) < 0)
			goto bindfail;
	if ((rc = ml_learner_bind(p->l, cur, e)) < 0)
		goto bindfail;
	if ((rc = setup_output(p, in, ml_reader_name(r), e)) < 0)
		goto out;
	if (p->holds && p->nkeep) {
		for (j = 0; j < p->nkeep; j++)
			if (ml_schema_add(&p->kschema, p->out.cols[j].name, p->out.cols[j].type) < 0) {
				rc = ml_err_nomem(e);
				goto out;
			}
		if ((rc = ml_block_init(&p->kq, &p->kschema, ML_BLOCK_ROWS, e)) < 0)
			goto out;
	}
	if ((rc = sync_dicts(p, in, e)) < 0)
		goto out;
	cli_write_opts(&p->cli, &wo);
	p->w = ml_writer_open(fp, cli_output_name(&p->cli), &p->out, &wo, e);
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
		if ((p->holds && (rc = keep_push(p, b, (size_t)n, e)) < 0) ||
		    (rc = chain(p, 0, in, b, (size_t)n, b, e)) < 0) {
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
	/* Rows the pipelines held back, each through the stages after it. */
	for (k = 0; k < p->nst && p->st[k].f; k++) {
		if ((rc = ml_features_finish(p->st[k].f, &b, e)) < 0 ||
		    (rc = chain(p, k + 1, in, b, b->nrow, NULL, e)) < 0) {
			if (!e->where[0] && e->line > 0)
				snprintf(e->where, sizeof(e->where), "%s", ml_reader_name(r));
			goto out;
		}
	}
	rc = ml_writer_finish(p->w, e);
	goto out;
bindfail:
	if (!e->where[0])
		snprintf(e->where, sizeof(e->where), "%s", ml_reader_name(r));
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
	ml_schema_init(&p.out);
	ml_schema_init(&p.kschema);
	if ((rc = cli_init(&p.cli, &cmd)) != 0)
		return rc;
	p.st = calloc((size_t)argc, sizeof(*p.st));
	if (!p.st) {
		rc = cli_error(&p.cli, EX_OSERR_, "out of memory");
		goto done;
	}
	while ((ch = cli_next(&p.cli, argc, argv, &rc)) != -1) {
		switch (ch) {
		case CLI_DONE:
			goto done;
		case 'm':
			p.st[p.nst++].path = optarg;
			break;
		case O_KEEP:
			p.keep = optarg;
			break;
		case O_NOPROBA:
			p.noproba = 1;
			break;
		case O_RAW:
			p.raw = 1;
			break;
		case O_LINEBUF:
			p.linebuf = 1;
			break;
		case O_LEAF:
			p.leaf = 1;
			break;
		case O_CONTRIB:
			p.contrib = 1;
			break;
		default:
			rc = cli_usage(&p.cli, "unrecognized option '%s'", argv[optind - 1]);
			goto done;
		}
	}
	if (p.nst == 0) {
		rc = cli_usage(&p.cli, "no artefact given (-m MODEL)");
		goto done;
	}
	if (argc - optind > 1) {
		rc = cli_usage(&p.cli, "one input FILE at a time");
		goto done;
	}
	if (argc - optind == 1)
		input = argv[optind];
	for (i = 0; i < p.nst; i++)
		if (strcmp(p.st[i].path, "-") == 0 && (!input || strcmp(input, "-") == 0)) {
			rc = cli_usage(&p.cli, "-m - and the rows cannot both come from standard input");
			goto done;
		}
	/* A person typing rows wants each answer at once. */
	if ((!input || strcmp(input, "-") == 0) && isatty(STDIN_FILENO))
		p.linebuf = 1;
	for (i = 0; i < p.nst; i++)
		if (load_stage(&p, &p.st[i], i == p.nst - 1, &e) < 0) {
			rc = cli_fail(&p.cli, &e);
			goto done;
		}
	/* Threads score a block's rows together; answering each row as it comes is one
	 * thread's work. */
	if (!p.linebuf && p.cli.threads != 1 && (p.pool = ml_pool_new(p.cli.threads)))
		ml_learner_set_pool(p.l, p.pool);
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
done:
	if (out)
		ml_output_abort(out);
	ml_writer_free(p.w);
	for (i = 0; i < p.nst; i++) {
		ml_features_free(p.st[i].f);
		ml_learner_free(p.st[i].l);
		ml_model_free(p.st[i].m);
	}
	ml_pool_free(p.pool);
	free(p.st);
	free(p.keep_src);
	free(p.vcol);
	free(p.leaves);
	free(p.contribs);
	free(p.score);
	free(p.label);
	free(p.cols);
	ml_block_release(&p.kq);
	ml_schema_release(&p.kschema);
	ml_schema_release(&p.out);
	cli_release(&p.cli);
	return rc;
}
