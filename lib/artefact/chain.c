/* Chains of artefacts: transforms in order, then a final artefact, applied to blocks of
 * rows, with chosen input columns kept beside the answers. A transform may hold rows back
 * (interpolation waits for the next present value): the kept columns then wait in a queue
 * until their rows come out of the last artefact. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml/artefact.h"
#include "ml/table.h"

struct stage {
	const struct ml_artefact *a;
	struct ml_scorer *s;
};

struct ml_chain {
	struct stage *st;
	int nst;
	int holds;		 /* some transform may give rows later than it takes them */
	const struct ml_schema *in; /* as bound */
	const struct ml_schema *last; /* the last artefact's output schema */
	int *keep_src;		 /* input column of each kept column */
	int nkeep;
	struct ml_schema kschema; /* the queue of kept columns, when rows are held */
	struct ml_block kq;
	size_t popped;		 /* rows of kq handed out, dropped at the next call */
	struct ml_schema out;	 /* kept columns, then the last artefact's (when kept) */
	union ml_colv *vcol;
	struct ml_block view;
	int fin;		 /* the next artefact ml_chain_finish finishes */
};

struct ml_chain *ml_chain_new(const struct ml_artefact *const *a, int n,
			      const struct ml_apply_opts *o, struct ml_err *e)
{
	struct ml_chain *c;
	int k;

	if (n < 1) {
		ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "no artefact to apply");
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c || !(c->st = calloc((size_t)(n > 0 ? n : 1), sizeof(*c->st)))) {
		free(c);
		ml_err_nomem(e);
		return NULL;
	}
	ml_schema_init(&c->kschema);
	ml_schema_init(&c->out);
	for (k = 0; k < n; k++) {
		unsigned f = ml_artefact_flags(a[k]);
		c->st[k].a = a[k];
		if ((f & ML_ARTEFACT_FINAL) && k < n - 1) {
			ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "-m %s: a model must be the last artefact",
				   ml_artefact_name(a[k]));
			goto fail;
		}
		if (!(c->st[k].s = ml_scorer_new(a[k], o, e))) {
			if (e && !e->where[0])
				snprintf(e->where, sizeof(e->where), "%s", ml_artefact_name(a[k]));
			goto fail;
		}
		c->nst = k + 1;
		c->holds |= ml_scorer_holds_rows(c->st[k].s);
	}
	return c;
fail:
	c->nst = n;
	ml_chain_free(c);
	return NULL;
}

void ml_chain_free(struct ml_chain *c)
{
	int k;

	if (!c)
		return;
	for (k = 0; k < c->nst; k++)
		ml_scorer_free(c->st[k].s);
	free(c->st);
	free(c->keep_src);
	free(c->vcol);
	ml_block_release(&c->kq);
	ml_schema_release(&c->kschema);
	ml_schema_release(&c->out);
	free(c);
}

void ml_chain_set_pool(struct ml_chain *c, struct ml_pool *pool)
{
	int k;

	for (k = 0; k < c->nst; k++)
		ml_scorer_set_pool(c->st[k].s, pool);
}

int ml_chain_input_types(const struct ml_chain *c, struct ml_schema *s, struct ml_err *e)
{
	return c->nst ? ml_artefact_input_schema(c->st[0].a, s, e) : 0;
}

static int add_col(struct ml_chain *c, const char *name, enum ml_type t, struct ml_err *e)
{
	int rc;

	if (ml_schema_find(&c->out, name) >= 0)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "--keep column '%s' has the name of an output column", name);
	rc = ml_schema_add(&c->out, name, t);
	return rc < 0 ? ml_err_nomem(e) : rc;
}

/* Keep the output's categorical dictionaries equal to their sources' (the input's for
 * kept columns, the last artefact's for the others), which grow as rows are read: codes
 * are then copied as they are. */
static int sync_dicts(struct ml_chain *c, struct ml_err *e)
{
	int j;

	for (j = 0; j < c->out.ncol; j++) {
		const struct ml_dict *d = j < c->nkeep ? &c->in->cols[c->keep_src[j]].dict :
							 &c->last->cols[j - c->nkeep].dict;
		struct ml_dict *o = &c->out.cols[j].dict;
		if (c->out.cols[j].type != ML_CAT)
			continue;
		while (o->n < d->n)
			if (ml_dict_intern(o, d->str[o->n], d->len[o->n]) < 0)
				return ml_err_nomem(e);
	}
	return 0;
}

/* The output schema: the kept columns, then the last artefact's (which is the output
 * schema itself when nothing is kept). */
static int setup_output(struct ml_chain *c, const char *keep, struct ml_err *e)
{
	int j, rc;

	c->view.schema = c->last;
	c->view.ncol = c->last->ncol;
	if (!keep)
		return 0;
	rc = ml_schema_find_or_suggest(c->in, keep, "--keep", NULL, &c->keep_src, e);
	if (rc < 0)
		return rc;
	c->nkeep = rc;
	for (j = 0; j < c->nkeep; j++) {
		const struct ml_col *col = &c->in->cols[c->keep_src[j]];
		if ((rc = add_col(c, col->name, col->type, e)) < 0)
			return rc;
	}
	for (j = 0; j < c->last->ncol; j++)
		if ((rc = add_col(c, c->last->cols[j].name, c->last->cols[j].type, e)) < 0)
			return rc;
	if (c->holds && c->nkeep) {
		for (j = 0; j < c->nkeep; j++)
			if (ml_schema_add(&c->kschema, c->out.cols[j].name, c->out.cols[j].type) < 0)
				return ml_err_nomem(e);
		if ((rc = ml_block_init(&c->kq, &c->kschema, ML_BLOCK_ROWS, e)) < 0)
			return rc;
	}
	if (!(c->vcol = calloc((size_t)(c->out.ncol ? c->out.ncol : 1), sizeof(*c->vcol))))
		return ml_err_nomem(e);
	c->view.schema = &c->out;
	c->view.ncol = c->out.ncol;
	c->view.col = c->vcol;
	return sync_dicts(c, e);
}

int ml_chain_bind(struct ml_chain *c, const struct ml_schema *in, const char *keep,
		  const struct ml_schema **out, struct ml_err *e)
{
	const struct ml_schema *cur = in;
	int k, rc;

	free(c->keep_src);
	free(c->vcol);
	c->keep_src = NULL;
	c->vcol = NULL;
	c->nkeep = 0;
	c->popped = 0;
	c->fin = 0;
	ml_block_release(&c->kq);
	memset(&c->kq, 0, sizeof(c->kq));
	ml_schema_release(&c->kschema);
	ml_schema_init(&c->kschema);
	ml_schema_release(&c->out);
	ml_schema_init(&c->out);
	for (k = 0; k < c->nst; k++)
		if ((rc = ml_scorer_bind(c->st[k].s, cur, &cur, e)) < 0)
			return rc;
	c->in = in;
	c->last = cur;
	if ((rc = setup_output(c, keep, e)) < 0)
		return rc;
	*out = c->view.schema;
	return 0;
}

/* Drop the kept rows handed out by the last call. */
static void keep_pop(struct ml_chain *c)
{
	size_t n = c->popped, left = c->kq.nrow - n;
	int j;

	c->popped = 0;
	if (n == 0)
		return;
	for (j = 0; j < c->nkeep && left; j++) {
		size_t sz = c->kschema.cols[j].type == ML_NUM ? sizeof(double) : sizeof(int32_t);
		memmove(c->kq.col[j].num, (char *)c->kq.col[j].num + n * sz, left * sz);
	}
	c->kq.nrow = left;
}

/* Queue the kept columns of rows [from, to) of b. */
static int keep_push(struct ml_chain *c, const struct ml_block *b, size_t from, size_t to,
		     struct ml_err *e)
{
	size_t at = c->kq.nrow, n = to - from;
	int j, rc;

	if (!c->nkeep || n == 0)
		return 0;
	if ((rc = ml_block_reserve(&c->kq, at + n, e)) < 0)
		return rc;
	for (j = 0; j < c->nkeep; j++) {
		size_t sz = c->kschema.cols[j].type == ML_NUM ? sizeof(double) : sizeof(int32_t);
		memcpy((char *)c->kq.col[j].num + at * sz,
		       (char *)b->col[c->keep_src[j]].num + from * sz, n * sz);
	}
	c->kq.nrow = at + n;
	return 0;
}

/* Rows [from, to) of b through the artefacts from k on; then the output view of what
 * comes out, with the kept columns of rows of kb from kfrom (kb NULL: from the queue). */
static int run(struct ml_chain *c, int k, const struct ml_block *b, size_t from, size_t to,
	       const struct ml_block *kb, size_t kfrom, const struct ml_block **out,
	       struct ml_err *e)
{
	size_t n;
	int j, rc;

	for (; k < c->nst && to > from; k++) {
		if ((rc = ml_scorer_apply(c->st[k].s, b, from, to, &b, e)) < 0) {
			if (e && !e->where[0] && e->line <= 0 &&
			    !(ml_artefact_flags(c->st[k].a) & ML_ARTEFACT_FINAL))
				snprintf(e->where, sizeof(e->where), "%s",
					 ml_artefact_name(c->st[k].a));
			return rc;
		}
		from = 0;
		to = b->nrow;
	}
	n = to > from ? to - from : 0;
	if (c->nkeep == 0 && n && from == 0) {
		*out = b;
		return 0;
	}
	c->view.nrow = c->view.cap = n;
	*out = &c->view;
	if (n == 0)
		return 0;
	if (c->holds) {
		if (n > c->kq.nrow)
			return ml_err_set(e, ML_E_INTERNAL, NULL, 0, 0,
					  "a transform gave more rows than it took");
		kb = &c->kq;
		kfrom = 0;
		c->popped = n;
	} else if (!kb) {
		return ml_err_set(e, ML_E_INTERNAL, NULL, 0, 0,
				  "a transform gave rows it did not say it holds");
	}
	if (c->nkeep && (rc = sync_dicts(c, e)) < 0)
		return rc;
	for (j = 0; j < c->nkeep; j++) {
		int src = kb == &c->kq ? j : c->keep_src[j];
		if (c->out.cols[j].type == ML_NUM)
			c->vcol[j].num = kb->col[src].num + kfrom;
		else
			c->vcol[j].cat = kb->col[src].cat + kfrom;
	}
	for (j = 0; j < c->last->ncol; j++)
		c->vcol[c->nkeep + j] = b->col[j];
	if (from)
		for (j = 0; j < c->last->ncol; j++) {
			if (c->last->cols[j].type == ML_NUM)
				c->vcol[c->nkeep + j].num += from;
			else
				c->vcol[c->nkeep + j].cat += from;
		}
	return 0;
}

int ml_chain_apply(struct ml_chain *c, const struct ml_block *in, size_t from, size_t to,
		   const struct ml_block **out, struct ml_err *e)
{
	int rc;

	keep_pop(c);
	if (to < from)
		to = from;
	if (c->holds && (rc = keep_push(c, in, from, to, e)) < 0)
		return rc;
	return run(c, 0, in, from, to, in, from, out, e);
}

int ml_chain_finish(struct ml_chain *c, const struct ml_block **out, struct ml_err *e)
{
	const struct ml_block *b;
	int k, rc;

	keep_pop(c);
	c->view.nrow = 0;
	*out = &c->view;
	while (c->fin < c->nst && !ml_scorer_holds_rows(c->st[c->fin].s))
		c->fin++;
	if (c->fin >= c->nst)
		return 0;
	k = c->fin++;
	if ((rc = ml_scorer_finish(c->st[k].s, &b, e)) < 0) {
		if (e && !e->where[0] && e->line <= 0)
			snprintf(e->where, sizeof(e->where), "%s", ml_artefact_name(c->st[k].a));
		return rc;
	}
	if ((rc = run(c, k + 1, b, 0, b->nrow, NULL, 0, out, e)) < 0)
		return rc;
	return 1;
}
