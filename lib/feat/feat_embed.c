/* The --embed step: a fitted model that learns a representation of a row (an autoencoder's
 * bottleneck), carried inside the pipeline, appends that representation as the columns
 * emb_1..emb_K; every input column passes through. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feat_int.h"
#include "ml/learn.h"

struct embed {
	unsigned char *bytes; /* the model as its file holds it, saved with the step */
	size_t len;
	struct ml_learner *l;
	struct ml_predictor *pr;
	const struct ml_schema *bound; /* the schema pr is bound to */
	int width, first;
	double *buf;
	size_t cap;
};

/* The learner of the model in m, refused unless it embeds rows; what names the model. */
static int embed_learner(struct embed *p, const struct ml_model *m, const char *what,
			 struct ml_err *e)
{
	if (!(p->l = ml_learner_from_model(m, e)))
		return e ? e->code : ML_E_DATA;
	p->width = ml_learner_nout(p->l, ML_OUT_EMBED);
	if (p->width < 1)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "--embed: '%s' is an -a %s model, which embeds no rows (an -a "
				  "autoencoder model does)",
				  what, ml_algo_name(ml_learner_algo(p->l)));
	if (!(p->pr = ml_predictor_new(p->l)))
		return ml_err_nomem(e);
	return 0;
}

static int embed_parse(struct fstep *s, const struct ml_feat_spec *spec, struct ml_err *e)
{
	struct embed *p = calloc(1, sizeof(*p));
	struct ml_model *m;
	int rc;

	(void)spec;
	if (!p)
		return ml_err_nomem(e);
	s->p = p;
	s->colspec = NULL;
	if (!s->args[0])
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "--embed needs a model file");
	if (!(m = ml_model_load_kind(s->args, "model", e)))
		return e ? e->code : ML_E_DATA;
	rc = embed_learner(p, m, s->args, e);
	if (rc == 0)
		rc = ml_model_to_mem(m, &p->bytes, &p->len, e);
	ml_model_free(m);
	return rc;
}

/* Nothing to learn: the model was fitted before; the bind in layout checks its columns. */
static int embed_fit(struct fstep *s, const struct fdata *d, struct ml_err *e)
{
	(void)s;
	(void)d;
	(void)e;
	return 0;
}

static int embed_layout(struct fstep *s, const struct ml_schema *in, struct ml_err *e)
{
	struct embed *p = s->p;
	char name[32];
	int j, k, rc;

	for (j = 0; j < in->ncol; j++)
		if ((rc = ml_fout_pass(s, in, j, e)) < 0)
			return rc;
	p->first = s->nout;
	for (k = 0; k < p->width; k++) {
		snprintf(name, sizeof(name), "emb_%d", k + 1);
		if ((rc = ml_fout_add(s, name, ML_NUM, -1, 1, e)) < 0)
			return rc;
	}
	if ((rc = ml_predictor_bind(p->pr, in, e)) < 0) {
		char msg[sizeof(e->msg)];
		if (!e)
			return rc;
		snprintf(msg, sizeof(msg), "%s", e->msg);
		return ml_err_set(e, rc, NULL, 0, 0, "--embed: %s", msg);
	}
	p->bound = in;
	return 0;
}

static int embed_apply(struct fstep *s, struct fio *io, struct ml_err *e)
{
	struct embed *p = s->p;
	struct ml_block b;
	size_t i, K = (size_t)p->width;
	int k, rc;

	if (io->in != p->bound) {
		if ((rc = ml_predictor_bind(p->pr, io->in, e)) < 0)
			return rc;
		p->bound = io->in;
	}
	if (io->n > p->cap) {
		double *nb = realloc(p->buf, io->n * K * sizeof(double));
		if (!nb)
			return ml_err_nomem(e);
		p->buf = nb;
		p->cap = io->n;
	}
	memset(&b, 0, sizeof(b));
	b.schema = io->in;
	b.ncol = io->in->ncol;
	b.nrow = b.cap = io->n;
	b.col = (union ml_colv *)io->v;
	b.line = (long *)io->line;
	if ((rc = ml_predictor_predict(p->pr, &b, 0, io->n, p->buf, ML_OUT_EMBED, e)) < 0)
		return rc;
	for (k = 0; k < p->width; k++)
		for (i = 0; i < io->n; i++)
			io->o[p->first + k].num[i] = p->buf[i * K + (size_t)k];
	return 0;
}

/* u64 length, then the model's bytes. */
static void embed_save(const struct fstep *s, struct ml_wbuf *b)
{
	const struct embed *p = s->p;

	ml_wbuf_u64(b, p->len);
	ml_wbuf_put(b, p->bytes, p->len);
}

static int embed_load(struct fstep *s, struct ml_rbuf *b, struct ml_err *e)
{
	struct embed *p = calloc(1, sizeof(*p));
	struct ml_model *m;
	uint64_t len;
	int rc;

	if (!p)
		return ml_err_nomem(e);
	s->p = p;
	len = ml_rbuf_u64(b);
	if (b->err || !ml_feat_count(b, len, 1) || len == 0)
		return ml_feat_bad(e, "the --embed model");
	if (!(m = ml_model_from_mem(b->p + b->off, (size_t)len, "--embed model", e)))
		return e ? e->code : ML_E_DATA;
	b->off += (size_t)len;
	rc = embed_learner(p, m, "--embed model", e);
	if (rc == 0)
		rc = ml_model_to_mem(m, &p->bytes, &p->len, e);
	ml_model_free(m);
	return rc;
}

static int embed_json(const struct fstep *s, cJSON *o)
{
	const struct embed *p = s->p;

	return cJSON_AddNumberToObject(o, "width", p->width) ? 0 : -1;
}

static void embed_free(struct fstep *s)
{
	struct embed *p = s->p;

	if (!p)
		return;
	ml_predictor_free(p->pr);
	ml_learner_free(p->l);
	free(p->bytes);
	free(p->buf);
	free(p);
	s->p = NULL;
}

const struct fops ml_fops_embed = {"embed",	 FK_EMBED,     FS_ANY,	  0,	       embed_parse,
				   embed_fit,	 embed_layout, NULL,	  embed_apply, NULL,
				   embed_save,	 embed_load,   embed_json, embed_free};
