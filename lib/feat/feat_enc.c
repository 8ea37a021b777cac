/* Feature steps on categories: one-hot, ordinal, frequency and target encoding, feature
 * hashing, and hashed TF-IDF text features. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feat_int.h"
#include "ml/num.h"

struct enccol {
	struct ml_dict lv; /* the fitted levels, sorted by bytes */
	double *val;	   /* per level (and per output): frequency, target encoding */
	int32_t *slot;	   /* one-hot: level -> output slot */
	int nslot, has_other;
	double *prior;	 /* target encoding: per output; then the encoding of missing */
	struct fmap map; /* runtime: input code -> level, -1 unseen */
	int first;	 /* layout: output index of the first made column */
};

struct enc {
	int ncol;
	struct enccol *c;
	int nk;		/* target encoding: outputs per column */
	char **classes; /* multi-class target encoding: the class per output */
	int autosmooth;
	double m;
	int folds;
	double *oof; /* fit only: the cross-fitted encodings of the training rows */
	int maxcat;
	int bits;    /* hash, text */
	double *idf; /* text */
};

static struct enc *enc_new(struct fstep *s)
{
	struct enc *p = calloc(1, sizeof(*p));

	s->p = p;
	return p;
}

static int enc_cols(struct enc *p, int n)
{
	int k;

	p->ncol = n;
	p->c = calloc((size_t)(n ? n : 1), sizeof(*p->c));
	if (!p->c)
		return -1;
	for (k = 0; k < n; k++)
		ml_dict_init(&p->c[k].lv);
	return 0;
}

static void enc_free(struct fstep *s)
{
	struct enc *p = s->p;
	int k;

	if (!p)
		return;
	for (k = 0; p->c && k < p->ncol; k++) {
		ml_dict_release(&p->c[k].lv);
		free(p->c[k].val);
		free(p->c[k].slot);
		free(p->c[k].prior);
		ml_fmap_release(&p->c[k].map);
	}
	free(p->c);
	for (k = 0; p->classes && k < p->nk; k++)
		free(p->classes[k]);
	free(p->classes);
	free(p->oof);
	free(p->idf);
	free(p);
	s->p = NULL;
}

static void enc_reset(struct fstep *s)
{
	struct enc *p = s->p;
	int k;

	for (k = 0; p && k < p->ncol; k++)
		ml_fmap_release(&p->c[k].map);
}

static int32_t find_level(void *arg, const char *s, size_t len)
{
	return ml_dict_find(arg, s, len);
}

static int enc_sync(struct enccol *c, const struct ml_dict *in, struct ml_err *e)
{
	return ml_fmap_sync(&c->map, in, find_level, &c->lv, e);
}

static int cols_parse(struct fstep *s, const struct ml_feat_spec *spec, struct ml_err *e)
{
	struct enc *p = enc_new(s);

	if (!p)
		return ml_err_nomem(e);
	s->colspec = s->args[0] ? s->args : NULL;
	p->maxcat = spec->max_categories;
	return 0;
}

/* An unseen category under --unseen error. */
static int unseen_error(const struct fstep *s, const struct fio *io, int j, size_t i,
			struct ml_err *e)
{
	const struct ml_dict *d = &io->in->cols[j].dict;
	int32_t code = io->v[j].cat[i];
	char q[160], qv[160];

	ml_feat_quote_col(q, sizeof(q), io->in->cols[j].name);
	ml_err_quote(qv, sizeof(qv), d->str[code], d->len[code]);
	return ml_err_set(e, ML_E_DATA, NULL, ml_feat_line(io->line, i), 0,
			  "--%s: column '%s' has the value '%s', which it was not fitted with "
			  "(--unseen error)",
			  s->ops->name, q, qv);
}

/* Save and load the levels of every column. */
static void levels_save(const struct enc *p, struct ml_wbuf *b)
{
	int k;

	ml_wbuf_u32(b, (uint32_t)p->ncol);
	for (k = 0; k < p->ncol; k++)
		ml_feat_save_dict(b, &p->c[k].lv);
}

static int levels_load(struct fstep *s, struct enc *p, struct ml_rbuf *b, struct ml_err *e)
{
	uint32_t n = ml_rbuf_u32(b), k;
	int rc;

	if (b->err || n != (uint32_t)s->ncol)
		return ml_feat_bad(e, "an encoder's column count");
	if (enc_cols(p, (int)n) < 0)
		return ml_err_nomem(e);
	for (k = 0; k < n; k++)
		if ((rc = ml_feat_load_dict(b, &p->c[k].lv, e)) < 0)
			return rc;
	return 0;
}

/* Replace each step column by the columns cb names, pass the others on. */
static int replace_layout(struct fstep *s, const struct ml_schema *in,
			  int (*cb)(struct fstep *s, int k, const char *col, struct ml_err *e),
			  struct ml_err *e)
{
	struct enc *p = s->p;
	int j, k, rc;

	for (j = 0; j < in->ncol; j++) {
		k = ml_fstep_pos(s, j);
		if (k < 0) {
			if ((rc = ml_fout_pass(s, in, j, e)) < 0)
				return rc;
			continue;
		}
		if (in->cols[j].type != ML_CAT)
			return ml_feat_bad(e, "an encoded column is not categorical");
		p->c[k].first = s->nout;
		if ((rc = cb(s, k, in->cols[j].name, e)) < 0)
			return rc;
	}
	return 0;
}

static int add_named(struct fstep *s, const char *col, const char *sep, const char *what,
		     struct ml_err *e)
{
	size_t n = strlen(col) + strlen(sep) + strlen(what) + 1;
	char *name = malloc(n);
	int rc;

	if (!name)
		return ml_err_nomem(e);
	snprintf(name, n, "%s%s%s", col, sep, what);
	rc = ml_fout_add(s, name, ML_NUM, -1, 1, e);
	free(name);
	return rc;
}

/* ---------------------------------------------------------------- one-hot */

static int onehot_fit(struct fstep *s, const struct fdata *d, struct ml_err *e)
{
	struct enc *p = s->p;
	int k, rc;
	char q[160];

	if (enc_cols(p, s->ncol) < 0)
		return ml_err_nomem(e);
	for (k = 0; k < s->ncol; k++) {
		struct enccol *c = &p->c[k];
		const int32_t *codes = d->v[s->ci[k]].cat;
		double *cnt;
		size_t i, np = 0;
		int32_t l, limit = p->maxcat ? p->maxcat : ML_ONEHOT_LIMIT;
		for (i = 0; i < d->n; i++)
			np += codes[i] >= 0;
		if ((rc = ml_feat_need_values(s, d, k, np, e)) < 0)
			return rc;
		if ((rc = ml_feat_levels(&d->s->cols[s->ci[k]].dict, codes, d->n, &c->lv, &cnt,
					 e)) < 0)
			return rc;
		ml_feat_quote_col(q, sizeof(q), s->cols[k]);
		if (c->lv.n > limit && (size_t)c->lv.n == np) {
			free(cnt);
			return ml_err_set(
			    e, ML_E_DATA, d->name, 0, 0,
			    "--onehot: column '%s' looks like an identifier (each of its "
			    "%d values is different); one-hot would make a column per row",
			    q, (int)c->lv.n);
		}
		if (c->lv.n > limit && !p->maxcat) {
			free(cnt);
			return ml_err_set(
			    e, ML_E_DATA, d->name, 0, 0,
			    "--onehot: column '%s' has %d distinct values, more than %d "
			    "(fold the rare ones with --max-categories N, or use "
			    "--frequency, --target-encode or --hash)",
			    q, (int)c->lv.n, ML_ONEHOT_LIMIT);
		}
		c->slot = malloc((size_t)(c->lv.n ? c->lv.n : 1) * sizeof(*c->slot));
		if (!c->slot) {
			free(cnt);
			return ml_err_nomem(e);
		}
		for (l = 0; l < c->lv.n; l++)
			c->slot[l] = 0;
		if (p->maxcat && c->lv.n >= p->maxcat) {
			/* As scikit-learn's max_categories, which counts a column for the
			 * infrequent values even before any is found: from max_categories levels
			 * on, the levels with the smallest counts (a stable sort, so of equal
			 * counts the first in byte order) fold into 'other' until
			 * max_categories - 1 remain. */
			int32_t *ord = malloc((size_t)c->lv.n * sizeof(*ord)), a, b, nrare;
			if (!ord) {
				free(cnt);
				return ml_err_nomem(e);
			}
			for (l = 0; l < c->lv.n; l++)
				ord[l] = l;
			for (a = 1; a < c->lv.n; a++) {
				int32_t x = ord[a];
				for (b = a; b > 0 && cnt[ord[b - 1]] > cnt[x]; b--)
					ord[b] = ord[b - 1];
				ord[b] = x;
			}
			nrare = c->lv.n - (p->maxcat - 1);
			for (l = 0; l < nrare; l++)
				c->slot[ord[l]] = -1;
			free(ord);
			c->has_other = 1;
		}
		free(cnt);
		/* With max_categories, 'other' is where rare values fold and exists only when
		 * some did, new values going there or nowhere (scikit-learn's
		 * handle_unknown='infrequent_if_exist'): never more than max_categories
		 * columns. */
		if (s->unseen == ML_UNSEEN_OTHER && !p->maxcat)
			c->has_other = 1;
		c->nslot = 0;
		for (l = 0; l < c->lv.n; l++)
			if (c->slot[l] >= 0)
				c->slot[l] = c->nslot++;
		for (l = 0; l < c->lv.n; l++)
			if (c->slot[l] < 0)
				c->slot[l] = c->nslot;
		c->nslot += c->has_other;
	}
	return 0;
}

static int onehot_names(struct fstep *s, int k, const char *col, struct ml_err *e)
{
	struct enc *p = s->p;
	struct enccol *c = &p->c[k];
	int32_t l;
	int rc;

	for (l = 0; l < c->lv.n; l++) {
		if (c->has_other && c->slot[l] == c->nslot - 1)
			continue; /* folded into 'other' */
		if ((rc = add_named(s, col, "=", c->lv.str[l], e)) < 0)
			return rc;
	}
	if (c->has_other && (rc = add_named(s, col, "=", "other", e)) < 0)
		return rc;
	return 0;
}

static int onehot_layout(struct fstep *s, const struct ml_schema *in, struct ml_err *e)
{
	return replace_layout(s, in, onehot_names, e);
}

static int onehot_apply(struct fstep *s, struct fio *io, struct ml_err *e)
{
	struct enc *p = s->p;
	size_t i;
	int k, t, rc;

	for (k = 0; k < s->ncol; k++) {
		struct enccol *c = &p->c[k];
		int j = s->ci[k];
		const int32_t *x = io->v[j].cat;
		if ((rc = enc_sync(c, &io->in->cols[j].dict, e)) < 0)
			return rc;
		for (t = 0; t < c->nslot; t++)
			memset(io->o[c->first + t].num, 0, io->n * sizeof(double));
		for (i = 0; i < io->n; i++) {
			int32_t l;
			if (x[i] < 0)
				continue;
			l = c->map.v[x[i]];
			if (l >= 0) {
				io->o[c->first + c->slot[l]].num[i] = 1;
			} else if (s->unseen == ML_UNSEEN_ERROR) {
				return unseen_error(s, io, j, i, e);
			} else if (s->unseen == ML_UNSEEN_OTHER && c->has_other) {
				io->o[c->first + c->nslot - 1].num[i] = 1;
			}
		}
	}
	return 0;
}

static void onehot_save(const struct fstep *s, struct ml_wbuf *b)
{
	const struct enc *p = s->p;
	int k;

	levels_save(p, b);
	for (k = 0; k < p->ncol; k++) {
		ml_wbuf_u8(b, (uint8_t)p->c[k].has_other);
		ml_wbuf_u32(b, (uint32_t)p->c[k].nslot);
		ml_wbuf_i32v(b, p->c[k].slot, (size_t)p->c[k].lv.n);
	}
}

static int onehot_load(struct fstep *s, struct ml_rbuf *b, struct ml_err *e)
{
	struct enc *p = enc_new(s);
	int k, rc;
	int32_t l;

	if (!p)
		return ml_err_nomem(e);
	if ((rc = levels_load(s, p, b, e)) < 0)
		return rc;
	for (k = 0; k < p->ncol; k++) {
		struct enccol *c = &p->c[k];
		int32_t kept, want = 0;
		c->has_other = ml_rbuf_u8(b) != 0;
		c->nslot = (int)ml_rbuf_u32(b);
		if (b->err || c->nslot < 0 || c->nslot > c->lv.n + 1 ||
		    !ml_feat_count(b, (uint64_t)c->lv.n, 4))
			return ml_feat_bad(e, "the --onehot slots");
		c->slot = malloc((size_t)(c->lv.n ? c->lv.n : 1) * sizeof(*c->slot));
		if (!c->slot)
			return ml_err_nomem(e);
		ml_rbuf_i32v(b, c->slot, (size_t)c->lv.n);
		/* kept levels have slots 0, 1, ... in level order; folded ones 'other', last */
		kept = c->nslot - c->has_other;
		for (l = 0; l < c->lv.n; l++) {
			if (c->has_other && c->slot[l] == kept)
				continue;
			if (c->slot[l] != want++)
				return ml_feat_bad(e, "the --onehot slots");
		}
		if (want != kept)
			return ml_feat_bad(e, "the --onehot slots");
	}
	return 0;
}

const struct fops ml_fops_onehot = {
    "onehot",  FK_ONEHOT,    FS_CAT, 0,		  cols_parse,  onehot_fit, onehot_layout,
    enc_reset, onehot_apply, NULL,   onehot_save, onehot_load, NULL,	   enc_free};

/* ---------------------------------------------------------------- ordinal */

static int levels_fit(struct fstep *s, const struct fdata *d, int withfreq, struct ml_err *e)
{
	struct enc *p = s->p;
	int k, rc;

	if (enc_cols(p, s->ncol) < 0)
		return ml_err_nomem(e);
	for (k = 0; k < s->ncol; k++) {
		struct enccol *c = &p->c[k];
		const int32_t *codes = d->v[s->ci[k]].cat;
		size_t i, np = 0;
		double *cnt;
		int32_t l;
		for (i = 0; i < d->n; i++)
			np += codes[i] >= 0;
		if ((rc = ml_feat_need_values(s, d, k, np, e)) < 0)
			return rc;
		if ((rc = ml_feat_levels(&d->s->cols[s->ci[k]].dict, codes, d->n, &c->lv, &cnt,
					 e)) < 0)
			return rc;
		if (withfreq) {
			for (l = 0; l < c->lv.n; l++)
				cnt[l] /= (double)np;
			c->val = cnt;
		} else {
			free(cnt);
		}
	}
	return 0;
}

static int ordinal_fit(struct fstep *s, const struct fdata *d, struct ml_err *e)
{
	return levels_fit(s, d, 0, e);
}

static int map_apply(struct fstep *s, struct fio *io, struct ml_err *e)
{
	struct enc *p = s->p;
	size_t i;
	int k, rc;

	for (k = 0; k < s->ncol; k++) {
		struct enccol *c = &p->c[k];
		int j = s->ci[k];
		const int32_t *x = io->v[j].cat;
		double *o = io->o[j].num, unseen;
		if ((rc = enc_sync(c, &io->in->cols[j].dict, e)) < 0)
			return rc;
		if (s->ops->kind == FK_ORDINAL)
			unseen = s->unseen == ML_UNSEEN_OTHER ? (double)c->lv.n : NAN;
		else
			unseen = 0;
		for (i = 0; i < io->n; i++) {
			int32_t l;
			if (x[i] < 0) {
				o[i] = NAN;
				continue;
			}
			l = c->map.v[x[i]];
			if (l >= 0)
				o[i] = c->val ? c->val[l] : (double)l;
			else if (s->unseen == ML_UNSEEN_ERROR)
				return unseen_error(s, io, j, i, e);
			else
				o[i] = unseen;
		}
	}
	return 0;
}

static int enc_inplace_layout(struct fstep *s, const struct ml_schema *in, struct ml_err *e)
{
	int j, k, rc;

	for (j = 0; j < in->ncol; j++) {
		k = ml_fstep_pos(s, j);
		if (k >= 0 && in->cols[j].type != ML_CAT)
			return ml_feat_bad(e, "an encoded column is not categorical");
		rc = ml_fout_add(s, in->cols[j].name, k >= 0 ? ML_NUM : in->cols[j].type, j, k >= 0,
				 e);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static void ordinal_save(const struct fstep *s, struct ml_wbuf *b)
{
	levels_save(s->p, b);
}

static int ordinal_load(struct fstep *s, struct ml_rbuf *b, struct ml_err *e)
{
	struct enc *p = enc_new(s);

	if (!p)
		return ml_err_nomem(e);
	return levels_load(s, p, b, e);
}

static int levels_json(const struct fstep *s, cJSON *o)
{
	const struct enc *p = s->p;
	cJSON *a = cJSON_AddArrayToObject(o, "levels"), *x, *y;
	int k;
	int32_t l;

	if (!a)
		return -1;
	for (k = 0; k < p->ncol; k++) {
		if (!(x = cJSON_CreateArray()) || !cJSON_AddItemToArray(a, x))
			return -1;
		for (l = 0; l < p->c[k].lv.n; l++)
			if (!(y = cJSON_CreateString(p->c[k].lv.str[l])) ||
			    !cJSON_AddItemToArray(x, y))
				return -1;
	}
	return 0;
}

const struct fops ml_fops_ordinal = {
    "ordinal",	  FK_ORDINAL,	      FS_CAT,	   0,	      cols_parse,
    ordinal_fit,  enc_inplace_layout, enc_reset,   map_apply, NULL,
    ordinal_save, ordinal_load,	      levels_json, enc_free};

/* ---------------------------------------------------------------- frequency */

static int freq_fit(struct fstep *s, const struct fdata *d, struct ml_err *e)
{
	return levels_fit(s, d, 1, e);
}

static void freq_save(const struct fstep *s, struct ml_wbuf *b)
{
	const struct enc *p = s->p;
	int k;

	levels_save(p, b);
	for (k = 0; k < p->ncol; k++)
		ml_wbuf_f64v(b, p->c[k].val, (size_t)p->c[k].lv.n);
}

static int freq_load(struct fstep *s, struct ml_rbuf *b, struct ml_err *e)
{
	struct enc *p = enc_new(s);
	int k, rc;

	if (!p)
		return ml_err_nomem(e);
	if ((rc = levels_load(s, p, b, e)) < 0)
		return rc;
	for (k = 0; k < p->ncol; k++) {
		struct enccol *c = &p->c[k];
		if (!ml_feat_count(b, (uint64_t)c->lv.n, 8))
			return ml_feat_bad(e, "the --frequency values");
		c->val = malloc((size_t)(c->lv.n ? c->lv.n : 1) * sizeof(double));
		if (!c->val)
			return ml_err_nomem(e);
		ml_rbuf_f64v(b, c->val, (size_t)c->lv.n);
	}
	return 0;
}

const struct fops ml_fops_freq = {
    "frequency", FK_FREQ,   FS_CAT, 0,	       cols_parse, freq_fit,	enc_inplace_layout,
    enc_reset,	 map_apply, NULL,   freq_save, freq_load,  levels_json, enc_free};

/* ---------------------------------------------------------------- target encoding */

static int target_parse(struct fstep *s, const struct ml_feat_spec *spec, struct ml_err *e)
{
	struct enc *p;
	int rc = cols_parse(s, spec, e);

	if (rc < 0)
		return rc;
	p = s->p;
	p->autosmooth = spec->smoothing < 0;
	p->m = spec->smoothing < 0 ? 0 : spec->smoothing;
	p->folds = spec->folds;
	return 0;
}

/* Encodings of levels 0..nlev (nlev: missing) from the rows where use[i] (NULL: all), for
 * the target t: out[l], and the prior (the mean of t) in *prior. As scikit-learn's
 * TargetEncoder: "auto" smoothing shrinks a level's mean m_l towards the prior by
 * lambda = v n_l / (v n_l + s_l / n_l), v the variance of t and s_l the sum of squared
 * deviations from m_l within the level; a fixed m gives (sum_l + m prior) / (n_l + m).
 * A level without rows gets the prior. */
static void te_encode(const struct enc *p, const int32_t *lvl, const double *t, size_t n,
		      const unsigned char *skip, int32_t nlev, double *sums, double *cnts,
		      double *ssd, double *out, double *prior)
{
	size_t i, cnt = 0;
	double mean = 0, var = 0;
	int32_t l;

	for (l = 0; l <= nlev; l++)
		sums[l] = cnts[l] = ssd[l] = 0;
	for (i = 0; i < n; i++) {
		if (skip && skip[i])
			continue;
		sums[lvl[i]] += t[i];
		cnts[lvl[i]] += 1;
		mean += t[i];
		cnt++;
	}
	mean = cnt ? mean / (double)cnt : 0;
	if (p->autosmooth) {
		for (i = 0; i < n; i++)
			if (!(skip && skip[i]))
				var += (t[i] - mean) * (t[i] - mean);
		var = cnt ? var / (double)cnt : 0;
		for (i = 0; i < n; i++) {
			double dl;
			if (skip && skip[i])
				continue;
			dl = t[i] - sums[lvl[i]] / cnts[lvl[i]];
			ssd[lvl[i]] += dl * dl;
		}
		for (l = 0; l <= nlev; l++) {
			double lam = var * cnts[l] / (var * cnts[l] + ssd[l] / cnts[l]);
			double m = sums[l] / cnts[l];
			out[l] = lam != lam ? mean : lam * m + (1 - lam) * mean;
		}
	} else {
		for (l = 0; l <= nlev; l++) {
			double v = (sums[l] + p->m * mean) / (cnts[l] + p->m);
			out[l] = cnts[l] == 0 || v != v ? mean : v;
		}
	}
	*prior = mean;
}

/* The fold of every row: the rows shuffled by the seed's generator, then cut into folds
 * as KFold does (the first n mod K folds one row larger). */
static int te_folds(size_t n, int k, uint64_t seed, int *fold, struct ml_err *e)
{
	size_t *perm = malloc((n ? n : 1) * sizeof(*perm)), i, at = 0;
	struct ml_rng r;
	int f;

	if (!perm)
		return ml_err_nomem(e);
	for (i = 0; i < n; i++)
		perm[i] = i;
	ml_rng_seed(&r, seed);
	ml_rng_shuffle(&r, perm, n);
	for (f = 0; f < k; f++) {
		size_t size = n / (size_t)k + ((size_t)f < n % (size_t)k);
		for (i = 0; i < size; i++)
			fold[perm[at++]] = f;
	}
	free(perm);
	return 0;
}

static int target_fit(struct fstep *s, const struct fdata *d, struct ml_err *e)
{
	struct enc *p = s->p;
	int k, c, f, rc = 0, nk = d->nclass > 2 ? d->nclass : 1;
	size_t i, n = d->n;
	int32_t *lvl = malloc((n ? n : 1) * sizeof(*lvl));
	double *t = malloc((n ? n : 1) * sizeof(*t));
	int *fold = malloc((n ? n : 1) * sizeof(*fold));
	unsigned char *skip = malloc(n ? n : 1);
	double *sums = NULL, *cnts = NULL, *ssd = NULL, *enc = NULL;

	if (!lvl || !t || !fold || !skip || enc_cols(p, s->ncol) < 0) {
		rc = ml_err_nomem(e);
		goto out;
	}
	if ((size_t)p->folds > n) {
		rc = ml_err_set(e, ML_E_DATA, d->name, 0, 0,
				"--target-encode: %zu rows are too few for %d folds", n, p->folds);
		goto out;
	}
	p->nk = nk;
	if (nk > 1) {
		p->classes = calloc((size_t)nk, sizeof(char *));
		if (!p->classes) {
			rc = ml_err_nomem(e);
			goto out;
		}
		for (c = 0; c < nk; c++)
			if (!(p->classes[c] = ml_feat_strdup(d->classes[c]))) {
				rc = ml_err_nomem(e);
				goto out;
			}
	}
	p->oof = malloc((n ? n : 1) * (size_t)s->ncol * (size_t)nk * sizeof(double));
	if (!p->oof) {
		rc = ml_err_nomem(e);
		goto out;
	}
	if ((rc = te_folds(n, p->folds, d->ctx ? d->ctx->seed : 42, fold, e)) < 0)
		goto out;
	for (k = 0; k < s->ncol; k++) {
		struct enccol *cc = &p->c[k];
		const struct ml_dict *dict = &d->s->cols[s->ci[k]].dict;
		const int32_t *codes = d->v[s->ci[k]].cat;
		int32_t nlev, *idx;
		if ((rc = ml_feat_levels(dict, codes, n, &cc->lv, NULL, e)) < 0)
			goto out;
		nlev = cc->lv.n;
		idx = malloc((size_t)(dict->n ? dict->n : 1) * sizeof(*idx));
		free(sums);
		free(cnts);
		free(ssd);
		free(enc);
		sums = malloc((size_t)(nlev + 1) * sizeof(double));
		cnts = malloc((size_t)(nlev + 1) * sizeof(double));
		ssd = malloc((size_t)(nlev + 1) * sizeof(double));
		enc = malloc((size_t)(nlev + 1) * sizeof(double));
		cc->val = malloc((size_t)(nlev + 1) * (size_t)nk * sizeof(double));
		cc->prior = malloc((size_t)nk * sizeof(double));
		if (!idx || !sums || !cnts || !ssd || !enc || !cc->val || !cc->prior) {
			free(idx);
			rc = ml_err_nomem(e);
			goto out;
		}
		for (c = 0; c < dict->n; c++)
			idx[c] = ml_dict_find(&cc->lv, dict->str[c], dict->len[c]);
		for (i = 0; i < n; i++)
			lvl[i] = codes[i] < 0 ? nlev : idx[codes[i]];
		free(idx);
		for (c = 0; c < nk; c++) {
			int32_t l;
			double prior;
			for (i = 0; i < n; i++)
				t[i] = nk > 1 ? (d->y[i] == (double)c) : d->y[i];
			te_encode(p, lvl, t, n, NULL, nlev, sums, cnts, ssd, enc, &prior);
			/* the missing slot learns only when missing values were there */
			if (cnts[nlev] == 0)
				enc[nlev] = prior;
			for (l = 0; l <= nlev; l++)
				cc->val[(size_t)l * (size_t)nk + (size_t)c] = enc[l];
			cc->prior[c] = prior;
			for (f = 0; f < p->folds; f++) {
				for (i = 0; i < n; i++)
					skip[i] = fold[i] == f;
				te_encode(p, lvl, t, n, skip, nlev, sums, cnts, ssd, enc, &prior);
				for (i = 0; i < n; i++)
					if (fold[i] == f)
						p->oof[((size_t)k * (size_t)nk + (size_t)c) * n +
						       i] = enc[lvl[i]];
			}
		}
	}
out:
	free(lvl);
	free(t);
	free(fold);
	free(skip);
	free(sums);
	free(cnts);
	free(ssd);
	free(enc);
	return rc;
}

static int target_names(struct fstep *s, int k, const char *col, struct ml_err *e)
{
	struct enc *p = s->p;
	int c, rc;

	(void)k;
	if (p->nk == 1)
		return ml_fout_add(s, col, ML_NUM, -1, 1, e);
	for (c = 0; c < p->nk; c++)
		if ((rc = add_named(s, col, "_", p->classes[c], e)) < 0)
			return rc;
	return 0;
}

static int target_layout(struct fstep *s, const struct ml_schema *in, struct ml_err *e)
{
	return replace_layout(s, in, target_names, e);
}

static int target_apply(struct fstep *s, struct fio *io, struct ml_err *e)
{
	struct enc *p = s->p;
	size_t i, nk = (size_t)p->nk;
	int k, c, rc;

	for (k = 0; k < s->ncol; k++) {
		struct enccol *cc = &p->c[k];
		int j = s->ci[k];
		const int32_t *x = io->v[j].cat;
		int32_t nlev = cc->lv.n;
		if (io->fitting && p->oof) {
			for (c = 0; c < p->nk; c++)
				memcpy(io->o[cc->first + c].num,
				       p->oof + ((size_t)k * nk + (size_t)c) * io->n,
				       io->n * sizeof(double));
			continue;
		}
		if ((rc = enc_sync(cc, &io->in->cols[j].dict, e)) < 0)
			return rc;
		for (i = 0; i < io->n; i++) {
			int32_t l = x[i] < 0 ? nlev : cc->map.v[x[i]];
			const double *v;
			if (l < 0 && s->unseen == ML_UNSEEN_ERROR)
				return unseen_error(s, io, j, i, e);
			v = l < 0 ? cc->prior : cc->val + (size_t)l * nk;
			for (c = 0; c < p->nk; c++)
				io->o[cc->first + c].num[i] = v[c];
		}
	}
	if (io->fitting) {
		free(p->oof);
		p->oof = NULL;
	}
	return 0;
}

static void target_save(const struct fstep *s, struct ml_wbuf *b)
{
	const struct enc *p = s->p;
	int k, c;

	ml_wbuf_u8(b, (uint8_t)p->autosmooth);
	ml_wbuf_f64(b, p->m);
	ml_wbuf_u32(b, (uint32_t)p->folds);
	ml_wbuf_u32(b, (uint32_t)p->nk);
	for (c = 0; p->nk > 1 && c < p->nk; c++)
		ml_wbuf_str(b, p->classes[c]);
	levels_save(p, b);
	for (k = 0; k < p->ncol; k++) {
		ml_wbuf_f64v(b, p->c[k].val, (size_t)(p->c[k].lv.n + 1) * (size_t)p->nk);
		ml_wbuf_f64v(b, p->c[k].prior, (size_t)p->nk);
	}
}

static int target_load(struct fstep *s, struct ml_rbuf *b, struct ml_err *e)
{
	struct enc *p = enc_new(s);
	uint32_t nk;
	int k, c, rc;

	if (!p)
		return ml_err_nomem(e);
	p->autosmooth = ml_rbuf_u8(b);
	p->m = ml_rbuf_f64(b);
	p->folds = (int)ml_rbuf_u32(b);
	nk = ml_rbuf_u32(b);
	if (b->err || nk < 1 || nk == 2 || !ml_feat_count(b, nk, 4))
		return ml_feat_bad(e, "the --target-encode outputs");
	p->nk = (int)nk;
	if (nk > 1) {
		p->classes = calloc(nk, sizeof(char *));
		if (!p->classes)
			return ml_err_nomem(e);
		for (c = 0; c < (int)nk; c++)
			if (!(p->classes[c] = ml_rbuf_str(b)))
				return ml_feat_bad_at(b, e, "a --target-encode class");
	}
	if ((rc = levels_load(s, p, b, e)) < 0)
		return rc;
	for (k = 0; k < p->ncol; k++) {
		struct enccol *cc = &p->c[k];
		uint64_t nv = (uint64_t)(cc->lv.n + 1) * nk;
		if (!ml_feat_count(b, nv + nk, 8))
			return ml_feat_bad(e, "the --target-encode values");
		cc->val = malloc((size_t)nv * sizeof(double));
		cc->prior = malloc(nk * sizeof(double));
		if (!cc->val || !cc->prior)
			return ml_err_nomem(e);
		ml_rbuf_f64v(b, cc->val, (size_t)nv);
		ml_rbuf_f64v(b, cc->prior, nk);
	}
	return 0;
}

static int target_json(const struct fstep *s, cJSON *o)
{
	const struct enc *p = s->p;
	cJSON *a = cJSON_AddArrayToObject(o, "prior"), *x;
	int k, c;

	if (!a || !cJSON_AddItemToObject(o, "smoothing",
					 p->autosmooth ? cJSON_CreateString("auto")
						       : cJSON_CreateNumber(p->m)))
		return -1;
	if (!cJSON_AddNumberToObject(o, "folds", p->folds))
		return -1;
	for (k = 0; k < p->ncol; k++)
		for (c = 0; c < p->nk; c++)
			if (!(x = cJSON_CreateNumber(p->c[k].prior[c])) ||
			    !cJSON_AddItemToArray(a, x))
				return -1;
	return 0;
}

const struct fops ml_fops_target = {
    "target-encode", FK_TARGET,	   FS_CAT, 1,		target_parse, target_fit,  target_layout,
    enc_reset,	     target_apply, NULL,   target_save, target_load,  target_json, enc_free};

/* ---------------------------------------------------------------- hashing */

/* 2^12 columns of a block of rows already take 256 MB. */
#define FEAT_MAX_BITS 12

static uint64_t fnv1a(const char *s, size_t n)
{
	uint64_t h = 14695981039346656037ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/* The last unescaped ':' of s: cut there, return what follows (or NULL). */
static char *cut_last(char *s)
{
	char *last = NULL, *q;

	for (q = s; *q; q++) {
		if (*q == '\\' && q[1]) {
			q++;
			continue;
		}
		if (*q == ':')
			last = q;
	}
	if (!last)
		return NULL;
	*last = 0;
	return last + 1;
}

static int hash_parse(struct fstep *s, const struct ml_feat_spec *spec, struct ml_err *e)
{
	struct enc *p = enc_new(s);
	char *bits;
	long b;

	(void)spec;
	if (!p)
		return ml_err_nomem(e);
	bits = cut_last(s->args);
	if (!bits || ml_parse_long(bits, 1, FEAT_MAX_BITS, &b) != 0)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "--hash: '%s' is not COLS:BITS (BITS from 1 to %d)", s->arg,
				  FEAT_MAX_BITS);
	p->bits = (int)b;
	s->colspec = s->args[0] ? s->args : NULL;
	return 0;
}

static int hash_fit(struct fstep *s, const struct fdata *d, struct ml_err *e)
{
	(void)d;
	if (enc_cols(s->p, s->ncol) < 0)
		return ml_err_nomem(e);
	return 0;
}

static int hash_names(struct fstep *s, int k, const char *col, struct ml_err *e)
{
	struct enc *p = s->p;
	int b, rc;
	char num[32];

	(void)k;
	for (b = 0; b < (1 << p->bits); b++) {
		snprintf(num, sizeof(num), "%d", b);
		if ((rc = add_named(s, col, "_hash", num, e)) < 0)
			return rc;
	}
	return 0;
}

static int hash_layout(struct fstep *s, const struct ml_schema *in, struct ml_err *e)
{
	return replace_layout(s, in, hash_names, e);
}

static int32_t hash_bucket(void *arg, const char *str, size_t len)
{
	int bits = *(const int *)arg;

	return (int32_t)(fnv1a(str, len) & ((1ULL << bits) - 1));
}

static int hash_apply(struct fstep *s, struct fio *io, struct ml_err *e)
{
	struct enc *p = s->p;
	size_t i;
	int k, b, rc, nb = 1 << p->bits;

	for (k = 0; k < s->ncol; k++) {
		struct enccol *c = &p->c[k];
		int j = s->ci[k];
		const int32_t *x = io->v[j].cat;
		if ((rc = ml_fmap_sync(&c->map, &io->in->cols[j].dict, hash_bucket, &p->bits, e)) <
		    0)
			return rc;
		for (b = 0; b < nb; b++)
			memset(io->o[c->first + b].num, 0, io->n * sizeof(double));
		for (i = 0; i < io->n; i++)
			if (x[i] >= 0)
				io->o[c->first + c->map.v[x[i]]].num[i] = 1;
	}
	return 0;
}

static void hash_save(const struct fstep *s, struct ml_wbuf *b)
{
	const struct enc *p = s->p;

	ml_wbuf_u32(b, (uint32_t)p->bits);
}

static int hash_load(struct fstep *s, struct ml_rbuf *b, struct ml_err *e)
{
	struct enc *p = enc_new(s);

	if (!p)
		return ml_err_nomem(e);
	p->bits = (int)ml_rbuf_u32(b);
	if (b->err || p->bits < 1 || p->bits > FEAT_MAX_BITS)
		return ml_feat_bad(e, "the --hash bits");
	if (enc_cols(p, s->ncol) < 0)
		return ml_err_nomem(e);
	return 0;
}

const struct fops ml_fops_hash = {"hash",    FK_HASH,	  FS_CAT,    0,		 hash_parse,
				  hash_fit,  hash_layout, enc_reset, hash_apply, NULL,
				  hash_save, hash_load,	  NULL,	     enc_free};

/* ---------------------------------------------------------------- text */

/* Terms of a text: words of two or more word bytes (ASCII letters, digits and '_',
 * lower-cased, and every byte of a multi-byte UTF-8 character), and each pair of
 * consecutive words joined by a space. cb gets each term's bucket. */
static int is_word(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c >= 0x80;
}

static int text_terms(const char *s, size_t n, int bits, int32_t *out, int cap)
{
	uint64_t mask = (1ULL << bits) - 1, prev = 0;
	char word[256];
	size_t i = 0;
	int cnt = 0, have = 0;

	while (i < n && cnt + 2 <= cap) {
		size_t st, len, w;
		uint64_t h;
		while (i < n && !is_word((unsigned char)s[i]))
			i++;
		st = i;
		while (i < n && is_word((unsigned char)s[i]))
			i++;
		len = i - st;
		if (len < 2)
			continue;
		w = len < sizeof(word) ? len : sizeof(word);
		for (size_t q = 0; q < w; q++) {
			unsigned char c = (unsigned char)s[st + q];
			word[q] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
		}
		h = fnv1a(word, w);
		out[cnt++] = (int32_t)(h & mask);
		if (have) {
			/* the bigram's hash: FNV-1a of 'previous word, space, word', continued
			 * from the previous word's state */
			uint64_t b = prev;
			size_t q;
			b ^= (unsigned char)' ';
			b *= 1099511628211ULL;
			for (q = 0; q < w; q++) {
				b ^= (unsigned char)word[q];
				b *= 1099511628211ULL;
			}
			out[cnt++] = (int32_t)(b & mask);
		}
		prev = h;
		have = 1;
	}
	return cnt;
}

#define TEXT_MAX_TERMS 65536

static int text_parse(struct fstep *s, const struct ml_feat_spec *spec, struct ml_err *e)
{
	struct enc *p = enc_new(s);
	char *bits;
	long b = 8;

	(void)spec;
	if (!p)
		return ml_err_nomem(e);
	bits = ml_feat_cut(s->args);
	if (bits && ml_parse_long(bits, 1, FEAT_MAX_BITS, &b) != 0)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "--text: '%s' is not COL[:BITS] (BITS from 1 to %d)", s->arg,
				  FEAT_MAX_BITS);
	p->bits = (int)b;
	s->colspec = s->args[0] ? s->args : NULL;
	if (!s->colspec)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "--text: name the text column");
	return 0;
}

static int text_fit(struct fstep *s, const struct fdata *d, struct ml_err *e)
{
	struct enc *p = s->p;
	size_t nb = (size_t)1 << p->bits, i;
	double *df = calloc(nb, sizeof(*df));
	int32_t *terms = malloc(TEXT_MAX_TERMS * sizeof(*terms));
	unsigned char *seen = calloc(nb, 1);
	int k, t, nt;

	if (!df || !terms || !seen || enc_cols(p, s->ncol) < 0 ||
	    !(p->idf = malloc(nb * (size_t)s->ncol * sizeof(double)))) {
		free(df);
		free(terms);
		free(seen);
		return ml_err_nomem(e);
	}
	for (k = 0; k < s->ncol; k++) {
		const struct ml_dict *dict = &d->s->cols[s->ci[k]].dict;
		const int32_t *x = d->v[s->ci[k]].cat;
		memset(df, 0, nb * sizeof(*df));
		for (i = 0; i < d->n; i++) {
			if (x[i] < 0)
				continue;
			nt = text_terms(dict->str[x[i]], dict->len[x[i]], p->bits, terms,
					TEXT_MAX_TERMS);
			for (t = 0; t < nt; t++)
				if (!seen[terms[t]]) {
					seen[terms[t]] = 1;
					df[terms[t]] += 1;
				}
			for (t = 0; t < nt; t++)
				seen[terms[t]] = 0;
		}
		/* scikit-learn's smooth idf */
		for (i = 0; i < nb; i++)
			p->idf[(size_t)k * nb + i] = log((1 + (double)d->n) / (1 + df[i])) + 1;
	}
	free(df);
	free(terms);
	free(seen);
	return 0;
}

static int text_names(struct fstep *s, int k, const char *col, struct ml_err *e)
{
	struct enc *p = s->p;
	int b, rc;
	char num[32];

	(void)k;
	for (b = 0; b < (1 << p->bits); b++) {
		snprintf(num, sizeof(num), "%d", b);
		if ((rc = add_named(s, col, "_t", num, e)) < 0)
			return rc;
	}
	return 0;
}

static int text_layout(struct fstep *s, const struct ml_schema *in, struct ml_err *e)
{
	return replace_layout(s, in, text_names, e);
}

static int text_apply(struct fstep *s, struct fio *io, struct ml_err *e)
{
	struct enc *p = s->p;
	size_t nb = (size_t)1 << p->bits, i, b;
	int32_t *terms = malloc(TEXT_MAX_TERMS * sizeof(*terms));
	double *row = calloc(nb, sizeof(*row));
	int k, t, nt;

	if (!terms || !row) {
		free(terms);
		free(row);
		return ml_err_nomem(e);
	}
	for (k = 0; k < s->ncol; k++) {
		struct enccol *c = &p->c[k];
		int j = s->ci[k];
		const struct ml_dict *dict = &io->in->cols[j].dict;
		const int32_t *x = io->v[j].cat;
		const double *idf = p->idf + (size_t)k * nb;
		for (b = 0; b < nb; b++)
			memset(io->o[c->first + (int)b].num, 0, io->n * sizeof(double));
		for (i = 0; i < io->n; i++) {
			double norm = 0;
			if (x[i] < 0)
				continue;
			nt = text_terms(dict->str[x[i]], dict->len[x[i]], p->bits, terms,
					TEXT_MAX_TERMS);
			for (t = 0; t < nt; t++)
				row[terms[t]] += 1;
			for (t = 0; t < nt; t++) {
				int32_t q = terms[t];
				if (row[q] > 0) {
					row[q] *= -idf[q]; /* negative: done */
					norm += row[q] * row[q];
				}
			}
			norm = sqrt(norm);
			for (t = 0; t < nt; t++) {
				int32_t q = terms[t];
				if (row[q] < 0) {
					io->o[c->first + q].num[i] = -row[q] / norm;
					row[q] = 0;
				}
			}
		}
	}
	free(terms);
	free(row);
	return 0;
}

static void text_save(const struct fstep *s, struct ml_wbuf *b)
{
	const struct enc *p = s->p;

	ml_wbuf_u32(b, (uint32_t)p->bits);
	ml_wbuf_f64v(b, p->idf, ((size_t)1 << p->bits) * (size_t)p->ncol);
}

static int text_load(struct fstep *s, struct ml_rbuf *b, struct ml_err *e)
{
	struct enc *p = enc_new(s);
	size_t n;

	if (!p)
		return ml_err_nomem(e);
	p->bits = (int)ml_rbuf_u32(b);
	if (b->err || p->bits < 1 || p->bits > FEAT_MAX_BITS)
		return ml_feat_bad(e, "the --text bits");
	if (enc_cols(p, s->ncol) < 0)
		return ml_err_nomem(e);
	n = ((size_t)1 << p->bits) * (size_t)s->ncol;
	if (!ml_feat_count(b, n, 8))
		return ml_feat_bad(e, "the --text weights");
	if (!(p->idf = malloc((n ? n : 1) * sizeof(double))))
		return ml_err_nomem(e);
	ml_rbuf_f64v(b, p->idf, n);
	return 0;
}

const struct fops ml_fops_text = {"text",    FK_TEXT,	  FS_CAT,    0,		 text_parse,
				  text_fit,  text_layout, enc_reset, text_apply, NULL,
				  text_save, text_load,	  NULL,	     enc_free};
