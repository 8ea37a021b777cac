/* Forests' model sections and tables, and the sections and tables of rf and tree models. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml/num.h"
#include "tree.h"

void ml_forest_importance(const struct ml_forest *F, double *gain, double *cover, double *splits)
{
	int32_t k;

	memset(gain, 0, (size_t)F->p * sizeof(double));
	memset(cover, 0, (size_t)F->p * sizeof(double));
	memset(splits, 0, (size_t)F->p * sizeof(double));
	for (k = 0; k < F->nnode; k++) {
		int f = F->node[k].feat;
		if (f < 0)
			continue;
		gain[f] += F->gain[k];
		cover[f] += F->cover[k];
		splits[f] += 1;
	}
}

/* --- Model sections -------------------------------------------------------------------- */

#define FOREST_VERSION 1

int ml_forest_save(const struct ml_forest *F, struct ml_model *m, const char *name,
		   struct ml_err *e)
{
	struct ml_wbuf b;
	int32_t k;
	int rc, M = ml_forest_nmargin(F);

	ml_wbuf_init(&b);
	ml_wbuf_u32(&b, FOREST_VERSION);
	ml_wbuf_u32(&b, (uint32_t)F->p);
	ml_wbuf_u32(&b, (uint32_t)F->nout);
	ml_wbuf_u32(&b, (uint32_t)F->ngroup);
	ml_wbuf_u32(&b, (uint32_t)F->average);
	ml_wbuf_u32(&b, (uint32_t)F->ntrees);
	ml_wbuf_f64v(&b, F->base, (size_t)M);
	ml_wbuf_i32v(&b, F->start, (size_t)F->ntrees + 1);
	for (k = 0; k < F->nnode; k++) {
		const struct ml_tnode *q = &F->node[k];
		ml_wbuf_i32(&b, q->feat);
		ml_wbuf_i32(&b, q->left);
		ml_wbuf_i32(&b, q->cat);
		ml_wbuf_u8(&b, (uint8_t)q->dleft);
		ml_wbuf_f64(&b, q->thr);
		ml_wbuf_f64(&b, F->cover[k]);
		ml_wbuf_f64(&b, F->gain[k]);
	}
	ml_wbuf_u32(&b, (uint32_t)F->nval);
	ml_wbuf_f64v(&b, F->val, (size_t)F->nval);
	ml_wbuf_u32(&b, (uint32_t)F->nbits);
	ml_wbuf_i32v(&b, (const int32_t *)F->bits, (size_t)F->nbits);
	if (b.err) {
		ml_wbuf_release(&b);
		return ml_err_nomem(e);
	}
	rc = ml_model_add(m, name, b.p, b.n, e);
	ml_wbuf_release(&b);
	return rc;
}

static int bad(struct ml_err *e, const char *name, const char *what)
{
	return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "model section '%s': %s", name, what);
}

/* Whether the forest F just read is well formed (p features, nout outputs, M margins, nval
 * leaf values, nbits words of level sets): finite values, and every node's children after it
 * within its tree, its feature and level set in range. */
static int forest_ok(const struct ml_forest *F, int p, size_t M, uint32_t nout, uint32_t nval,
		     uint32_t nbits)
{
	int32_t k, t;

	for (k = 0; k < (int32_t)M; k++)
		if (!isfinite(F->base[k]))
			return 0;
	for (k = 0; k < (int32_t)nval; k++)
		if (!isfinite(F->val[k]))
			return 0;
	/* Every node: children after it within its tree, features and sets in range. */
	for (t = 0; t < F->ntrees; t++) {
		int32_t s = F->start[t], n = F->start[t + 1] - s;
		for (k = 0; k < n; k++) {
			const struct ml_tnode *q = &F->node[s + k];
			if (!(F->cover[s + k] > 0) || !isfinite(F->cover[s + k]) ||
			    !isfinite(F->gain[s + k]) || q->dleft > 1)
				return 0;
			if (q->feat < 0) {
				if (q->feat != -1 || q->cat != -1)
					return 0;
				if (nout == 1 ? !isfinite(q->thr)
					      : (q->left < 0 || (int64_t)q->left + nout > nval))
					return 0;
				continue;
			}
			if (q->feat >= p || q->left <= k || q->left >= n - 1 || q->thr != q->thr)
				return 0;
			if (q->cat != -1) {
				if (q->cat < 0 || !(q->thr >= 1 && q->thr <= 1 << 24) ||
				    q->thr != floor(q->thr) ||
				    (int64_t)q->cat + ((int64_t)q->thr + 31) / 32 > (int64_t)nbits)
					return 0;
			}
		}
	}
	return 1;
}

int ml_forest_load(struct ml_forest *F, const struct ml_model *m, const char *name, int p,
		   struct ml_err *e)
{
	const void *data;
	size_t len, nn, M;
	struct ml_rbuf b;
	uint32_t ver, fp, nout, ngroup, avg, ntrees, nval, nbits;
	int32_t k, t;
	int rc;

	memset(F, 0, sizeof(*F));
	if ((rc = ml_model_get(m, name, &data, &len, e)) < 0)
		return rc;
	ml_rbuf_init(&b, data, len);
	ver = ml_rbuf_u32(&b);
	fp = ml_rbuf_u32(&b);
	nout = ml_rbuf_u32(&b);
	ngroup = ml_rbuf_u32(&b);
	avg = ml_rbuf_u32(&b);
	ntrees = ml_rbuf_u32(&b);
	if (b.err)
		return bad(e, name, "truncated");
	if (ver != FOREST_VERSION)
		return bad(e, name, "unknown version");
	if ((int)fp != p || nout < 1 || nout > 1000000 || ngroup < 1 || ngroup > 1000000 ||
	    (nout > 1 && ngroup > 1) || avg > 1 || ntrees > (uint32_t)INT32_MAX - 1)
		return bad(e, name, "bad shape");
	if ((rc = ml_forest_init(F, p, (int)nout, (int)ngroup, (int)avg, e)) < 0)
		return rc;
	M = (size_t)nout * ngroup;
	ml_rbuf_f64v(&b, F->base, M);
	if (!ml_rbuf_count(&b, (uint64_t)ntrees + 1, 4))
		goto trunc;
	free(F->start);
	F->start = malloc(((size_t)ntrees + 1) * sizeof(int32_t));
	if (!F->start) {
		ml_forest_release(F);
		return ml_err_nomem(e);
	}
	F->captree = (int32_t)ntrees + 1;
	ml_rbuf_i32v(&b, F->start, (size_t)ntrees + 1);
	if (b.err)
		goto trunc;
	F->ntrees = (int)ntrees;
	if (F->start[0] != 0)
		goto shape;
	for (t = 0; t < F->ntrees; t++)
		if (F->start[t + 1] <= F->start[t])
			goto shape;
	nn = (size_t)F->start[ntrees];
	if (nn && !ml_rbuf_count(&b, nn, 29))
		goto trunc;
	F->node = malloc((nn ? nn : 1) * sizeof(*F->node));
	F->cover = malloc((nn ? nn : 1) * sizeof(double));
	F->gain = malloc((nn ? nn : 1) * sizeof(double));
	if (!F->node || !F->cover || !F->gain) {
		ml_forest_release(F);
		return ml_err_nomem(e);
	}
	F->nnode = F->capnode = (int32_t)nn;
	for (k = 0; k < F->nnode; k++) {
		struct ml_tnode *q = &F->node[k];
		q->feat = ml_rbuf_i32(&b);
		q->left = ml_rbuf_i32(&b);
		q->cat = ml_rbuf_i32(&b);
		q->dleft = ml_rbuf_u8(&b);
		q->thr = ml_rbuf_f64(&b);
		F->cover[k] = ml_rbuf_f64(&b);
		F->gain[k] = ml_rbuf_f64(&b);
	}
	nval = ml_rbuf_u32(&b);
	if (b.err || (nval && !ml_rbuf_count(&b, nval, 8)))
		goto trunc;
	F->val = malloc((nval ? nval : 1) * sizeof(double));
	if (!F->val) {
		ml_forest_release(F);
		return ml_err_nomem(e);
	}
	F->nval = F->capval = (int32_t)nval;
	ml_rbuf_f64v(&b, F->val, nval);
	nbits = ml_rbuf_u32(&b);
	if (b.err || (nbits && !ml_rbuf_count(&b, nbits, 4)))
		goto trunc;
	F->bits = malloc((nbits ? nbits : 1) * sizeof(uint32_t));
	if (!F->bits) {
		ml_forest_release(F);
		return ml_err_nomem(e);
	}
	F->nbits = F->capbits = (int32_t)nbits;
	ml_rbuf_i32v(&b, (int32_t *)F->bits, nbits);
	if (b.err)
		goto trunc;
	if (b.off != b.n || !forest_ok(F, p, M, nout, nval, nbits))
		goto shape;
	return ml_forest_finish(F, e);
trunc:
	ml_forest_release(F);
	return bad(e, name, "truncated");
shape:
	ml_forest_release(F);
	return bad(e, name, "malformed trees");
}

/* --- The "tree" table -------------------------------------------------------------------- */

/* Append s (len bytes) to a growing string buffer. */
struct sbuf {
	char *p;
	size_t n, cap;
	int err;
};

static void sb_put(struct sbuf *b, const char *s, size_t len)
{
	if (b->err)
		return;
	if (b->n + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 128;
		char *q;
		while (cap < b->n + len + 1)
			cap *= 2;
		q = realloc(b->p, cap);
		if (!q) {
			b->err = 1;
			return;
		}
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, len);
	b->n += len;
	b->p[b->n] = 0;
}

static void sb_str(struct sbuf *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

static int32_t intern(struct ml_frame *f, int col, const char *s)
{
	return ml_dict_intern(&f->schema.cols[col].dict, s, strlen(s));
}

/* The text of node q's condition for the branch side (0 left, 1 right), e.g.
 * "age <= 30.5", "island in {0,2}", or with missing set and missing values going this
 * way "(age > 30.5 or missing)". */
static void cond_text(struct sbuf *sb, const struct ml_forest *F, const struct ml_tnode *q,
		      const char *fname, const struct ml_dict *lev, int side, int missing)
{
	char num[ML_FMT_DOUBLE_MAX + 1];

	missing = missing && q->dleft == !side && !(isinf(q->thr) && q->thr > 0 && q->cat < 0);
	if (missing)
		sb_str(sb, "(");
	sb_str(sb, fname);
	if (q->cat >= 0) {
		int lv, first = 1;
		sb_str(sb, side ? " not in {" : " in {");
		for (lv = 0; lv < (int)q->thr; lv++)
			if ((F->bits[q->cat + (lv >> 5)] >> (lv & 31)) & 1) {
				if (!first)
					sb_str(sb, ",");
				if (lev && lv < lev->n) {
					sb_str(sb, lev->str[lv]);
				} else {
					snprintf(num, sizeof(num), "%d", lv);
					sb_str(sb, num);
				}
				first = 0;
			}
		sb_str(sb, "}");
	} else if (isinf(q->thr) && q->thr > 0) {
		sb_str(sb, side ? " is missing" : " is present");
	} else {
		sb_str(sb, side ? " > " : " <= ");
		ml_fmt_double(num, q->thr);
		sb_str(sb, num);
	}
	if (missing)
		sb_str(sb, " or missing)");
}

/* The columns of the "tree" table: ten of every node, a value per output (no of them), and
 * with rules the rule. 0, or -1 when out of memory. */
static int tree_columns(struct ml_frame *out, int no, int rules)
{
	static const char *const head[] = {"tree", "node",  "depth",   "feature", "condition",
					   "left", "right", "missing", "gain",	  "cover"};
	char name[32];
	int c, o;

	for (c = 0; c < 10; c++)
		if (ml_schema_add(&out->schema, head[c],
				  c == 3 || c == 4 || c == 7 ? ML_CAT : ML_NUM) < 0)
			return -1;
	for (o = 0; o < no; o++) {
		if (no == 1)
			snprintf(name, sizeof(name), "value");
		else
			snprintf(name, sizeof(name), "value_%d", o);
		if (ml_schema_add(&out->schema, name, ML_NUM) < 0)
			return -1;
	}
	if (rules && ml_schema_add(&out->schema, "rule", ML_CAT) < 0)
		return -1;
	return 0;
}

/* Row r of the "tree" table: node k of tree t, whose nodes start at the forest's node s, at
 * depth d (the rule left missing); sb holds the condition's text. 0, or -1 when out of
 * memory. */
static int tree_row(struct ml_frame *out, const struct ml_forest *F, const struct ml_data *shape,
		    int rules, int t, int32_t s, int32_t k, int d, size_t r, struct sbuf *sb)
{
	const struct ml_tnode *q = &F->node[s + k];
	union ml_colv *col = out->rows.col;
	int o, no = F->nout, rcol = 10 + no;
	int32_t code;

	col[0].num[r] = t;
	col[1].num[r] = k;
	col[2].num[r] = d;
	if (rules)
		col[rcol].cat[r] = -1;
	if (q->feat < 0) {
		col[3].cat[r] = -1;
		col[4].cat[r] = -1;
		col[5].num[r] = NAN;
		col[6].num[r] = NAN;
		col[7].cat[r] = -1;
	} else {
		const char *fname = shape->names ? shape->names[q->feat] : "?";
		if ((code = intern(out, 3, fname)) < 0)
			return -1;
		col[3].cat[r] = code;
		sb->n = 0;
		cond_text(sb, F, q, fname, shape->levels ? shape->levels[q->feat] : NULL, 0, 0);
		if (sb->err || (code = intern(out, 4, sb->p)) < 0)
			return -1;
		col[4].cat[r] = code;
		col[5].num[r] = q->left;
		col[6].num[r] = q->left + 1;
		if ((code = intern(out, 7, q->dleft ? "left" : "right")) < 0)
			return -1;
		col[7].cat[r] = code;
	}
	col[8].num[r] = F->gain[s + k];
	col[9].num[r] = F->cover[s + k];
	for (o = 0; o < no; o++)
		col[10 + o].num[r] = F->mean		      ? F->mean[(size_t)(s + k) * no + o]
				     : no == 1 && q->feat < 0 ? q->thr
							      : NAN;
	return 0;
}

/* The rules of a tree's leaves (its n nodes at nd, its table rows from base): each leaf's
 * path of conditions joined by "and". *plen is room for the nodes' path lengths (grown
 * here), path the text. 0, or -1 when out of memory. */
static int tree_rules(struct ml_frame *out, const struct ml_forest *F, const struct ml_data *shape,
		      const struct ml_tnode *nd, int32_t n, size_t base, size_t **plen,
		      struct sbuf *path)
{
	/* Each leaf's path, depth first: a stack of (node, parent's text length), a child's
	 * condition appended to its parent's text when it is popped. */
	int32_t *stk = malloc((size_t)(2 * n + 2) * sizeof(int32_t)), top = 0;
	int rcol = 10 + F->nout;
	size_t *pl;

	*plen = realloc(*plen, (size_t)(n ? n : 1) * sizeof(size_t));
	pl = *plen;
	if (!stk || !pl) {
		free(stk);
		return -1;
	}
	stk[top++] = 0;
	stk[top++] = -1;
	while (top) {
		int32_t par = stk[--top], q = stk[--top];
		const struct ml_tnode *x = &nd[q];
		path->n = 0;
		if (par >= 0) {
			const struct ml_tnode *y = &nd[par];
			path->n = pl[par];
			if (path->n)
				sb_str(path, " and ");
			cond_text(path, F, y, shape->names ? shape->names[y->feat] : "?",
				  shape->levels ? shape->levels[y->feat] : NULL, q != y->left, 1);
		}
		sb_put(path, "", 0);
		if (path->err) {
			free(stk);
			return -1;
		}
		pl[q] = path->n;
		if (x->feat < 0) {
			int32_t code = intern(out, rcol, path->n ? path->p : "(all rows)");
			if (code < 0) {
				free(stk);
				return -1;
			}
			out->rows.col[rcol].cat[base + (size_t)q] = code;
			continue;
		}
		/* The texts of later nodes overwrite this one's tail; children only need its
		 * length. */
		stk[top++] = x->left + 1;
		stk[top++] = q;
		stk[top++] = x->left;
		stk[top++] = q;
	}
	free(stk);
	return 0;
}

int ml_forest_table_tree(const struct ml_forest *F, const struct ml_data *shape, int rules,
			 struct ml_frame *out, struct ml_err *e)
{
	int t;
	int32_t k;
	size_t r = 0;
	int *depth = NULL;
	size_t *plen = NULL; /* per node: length of its path's rule text */
	struct sbuf sb = {0}, path = {0};
	int rc;

	if (tree_columns(out, F->nout, rules) < 0)
		goto nomem;
	if ((rc = ml_block_init(&out->rows, &out->schema, (size_t)(F->nnode ? F->nnode : 1), e)) <
	    0)
		goto fail;
	depth = malloc((size_t)(F->nnode ? F->nnode : 1) * sizeof(int));
	if (!depth)
		goto nomem;
	for (t = 0; t < F->ntrees; t++) {
		int32_t s = F->start[t], n = F->start[t + 1] - s;
		const struct ml_tnode *nd = F->node + s;
		depth[s] = 0;
		for (k = 0; k < n; k++, r++) {
			const struct ml_tnode *q = &nd[k];
			if (q->feat >= 0) {
				depth[s + q->left] = depth[s + k] + 1;
				depth[s + q->left + 1] = depth[s + k] + 1;
			}
			if (tree_row(out, F, shape, rules, t, s, k, depth[s + k], r, &sb) < 0)
				goto nomem;
		}
		if (rules && tree_rules(out, F, shape, nd, n, r - (size_t)n, &plen, &path) < 0)
			goto nomem;
	}
	out->rows.nrow = r;
	free(depth);
	free(plen);
	free(sb.p);
	free(path.p);
	return 0;
nomem:
	rc = ml_err_nomem(e);
fail:
	free(depth);
	free(plen);
	free(sb.p);
	free(path.p);
	ml_frame_release(out);
	return rc;
}

/* --- rf and tree models: sections and tables ---------------------------------------- */

int ml_cf_save(const struct ml_cf *c, struct ml_model *m, const char *prefix, struct ml_err *e)
{
	struct ml_wbuf b;
	char name[64];
	cJSON *meta = ml_model_meta(m);
	int rc;

	ml_wbuf_init(&b);
	ml_wbuf_u32(&b, 1);
	ml_wbuf_u32(&b, (uint32_t)c->nclass);
	ml_wbuf_f64(&b, c->oob);
	ml_wbuf_u32(&b, c->perm != NULL);
	if (c->perm)
		ml_wbuf_f64v(&b, c->perm, (size_t)c->F.p);
	if (b.err) {
		ml_wbuf_release(&b);
		return ml_err_nomem(e);
	}
	snprintf(name, sizeof(name), "%s.info", prefix);
	rc = ml_model_add(m, name, b.p, b.n, e);
	ml_wbuf_release(&b);
	if (rc < 0)
		return rc;
	if (meta && c->oob == c->oob && !cJSON_AddNumberToObject(meta, "oob_score", c->oob))
		return ml_err_nomem(e);
	snprintf(name, sizeof(name), "%s.forest", prefix);
	return ml_forest_save(&c->F, m, name, e);
}

int ml_cf_load(struct ml_cf **out, const struct ml_model *m, const char *prefix,
	       const struct ml_data *shape, struct ml_err *e)
{
	struct ml_cf *c = calloc(1, sizeof(*c));
	const void *data;
	size_t len;
	struct ml_rbuf b;
	char name[64];
	uint32_t ver, hasperm;
	int rc, K;

	*out = NULL;
	if (!c)
		return ml_err_nomem(e);
	snprintf(name, sizeof(name), "%s.info", prefix);
	if ((rc = ml_model_get(m, name, &data, &len, e)) < 0) {
		free(c);
		return rc;
	}
	ml_rbuf_init(&b, data, len);
	ver = ml_rbuf_u32(&b);
	c->nclass = (int)ml_rbuf_u32(&b);
	c->oob = ml_rbuf_f64(&b);
	hasperm = ml_rbuf_u32(&b);
	if (!b.err && ver == 1 && hasperm == 1) {
		ml_rbuf_count(&b, (uint64_t)shape->p, 8);
		if (!b.err) {
			c->perm = malloc((size_t)(shape->p ? shape->p : 1) * sizeof(double));
			if (!c->perm) {
				free(c);
				return ml_err_nomem(e);
			}
			ml_rbuf_f64v(&b, c->perm, (size_t)shape->p);
		}
	}
	if (b.err || ver != 1 || hasperm > 1 || b.off != b.n || c->nclass != shape->nclass) {
		ml_cf_free(c);
		return bad(e, name, "malformed");
	}
	snprintf(name, sizeof(name), "%s.forest", prefix);
	if ((rc = ml_forest_load(&c->F, m, name, shape->p, e)) < 0) {
		free(c->perm);
		free(c);
		return rc;
	}
	K = c->nclass ? c->nclass : 1;
	if (c->F.nout != K || c->F.ngroup != 1 || !c->F.average) {
		ml_cf_free(c);
		return bad(e, name, "does not fit the model");
	}
	*out = c;
	return 0;
}

int ml_cf_table(const struct ml_cf *c, const char *name, const struct ml_data *shape, int rules,
		struct ml_frame *out, struct ml_err *e)
{
	const struct ml_forest *F = &c->F;
	double *imp, *tr;
	int p = F->p, j, t, rc;
	int32_t k;

	if (strcmp(name, "tree") == 0)
		return ml_forest_table_tree(F, shape, rules, out, e);
	imp = calloc((size_t)(p ? p : 1) * 2, sizeof(double));
	if (!imp)
		return ml_err_nomem(e);
	tr = imp + p;
	/* Per tree: the decrease of weighted impurity per feature over the root's weight,
	 * normalised to sum to one; then their mean, normalised (single-node trees left
	 * out), as scikit-learn's feature_importances_. */
	for (t = 0; t < F->ntrees; t++) {
		int32_t s = F->start[t], n = F->start[t + 1] - s;
		double tot = 0;
		if (n < 2)
			continue;
		memset(tr, 0, (size_t)p * sizeof(double));
		for (k = 0; k < n; k++)
			if (F->node[s + k].feat >= 0)
				tr[F->node[s + k].feat] += F->gain[s + k] / F->cover[s];
		for (j = 0; j < p; j++)
			tot += tr[j];
		if (tot > 0)
			for (j = 0; j < p; j++)
				imp[j] += tr[j] / tot;
	}
	{
		double tot = 0;
		for (j = 0; j < p; j++)
			tot += imp[j];
		if (tot > 0)
			for (j = 0; j < p; j++)
				imp[j] /= tot;
	}
	if (ml_schema_add(&out->schema, "feature", ML_CAT) < 0 ||
	    ml_schema_add(&out->schema, "impurity", ML_NUM) < 0 ||
	    (c->perm && ml_schema_add(&out->schema, "permutation", ML_NUM) < 0))
		goto nomem;
	if ((rc = ml_block_init(&out->rows, &out->schema, (size_t)(p ? p : 1), e)) < 0)
		goto fail;
	for (j = 0; j < p; j++) {
		const char *nm = shape->names ? shape->names[j] : "?";
		int32_t code = intern(out, 0, nm);
		if (code < 0)
			goto nomem;
		out->rows.col[0].cat[j] = code;
		out->rows.col[1].num[j] = imp[j];
		if (c->perm)
			out->rows.col[2].num[j] = c->perm[j];
	}
	out->rows.nrow = (size_t)p;
	free(imp);
	return 0;
nomem:
	rc = ml_err_nomem(e);
fail:
	free(imp);
	ml_frame_release(out);
	return rc;
}
