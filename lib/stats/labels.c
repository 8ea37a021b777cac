/* Labels of a classification: one sorted class list for the truth, the predicted labels
 * and the probability columns, the codes of each row, and the positive class. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ml/eval.h"
#include "ml/num.h"
#include "ml/pred.h"

/* Canonical strings (numbers written in the shortest form when the set is numeric),
 * with where each was seen. */
struct ml_labels {
	struct ml_dict d;
	int numeric;
	unsigned char *flag;
	int cap;
	int32_t *rank;	 /* id -> sorted code */
	int32_t *byrank; /* sorted code -> id */
};

struct ml_labels *ml_labels_new(int numeric)
{
	struct ml_labels *L = calloc(1, sizeof(*L));

	if (!L)
		return NULL;
	ml_dict_init(&L->d);
	L->numeric = numeric;
	return L;
}

void ml_labels_free(struct ml_labels *L)
{
	if (!L)
		return;
	free(L->flag);
	free(L->rank);
	free(L->byrank);
	ml_dict_release(&L->d);
	free(L);
}

int32_t ml_labels_add(struct ml_labels *L, const char *s, size_t len, int flag, struct ml_err *e)
{
	char buf[ML_FMT_DOUBLE_MAX + 1];
	double x;
	int32_t id;

	if (L->numeric && ml_parse_double(s, len, &x) == 0 && isfinite(x)) {
		len = ml_fmt_double(buf, x + 0.0);
		s = buf;
	}
	id = ml_dict_intern(&L->d, s, len);
	if (id < 0)
		return id == ML_E_NOMEM ? ml_err_nomem(e)
					: ml_err_set(e, ML_E_DATA, NULL, 0, 0, "too many labels");
	if (id >= L->cap) {
		int cap = L->cap ? 2 * L->cap : 64;
		unsigned char *f;
		while (cap <= id)
			cap *= 2;
		f = realloc(L->flag, (size_t)cap);
		if (!f)
			return ml_err_nomem(e);
		memset(f + L->cap, 0, (size_t)(cap - L->cap));
		L->flag = f;
		L->cap = cap;
	}
	L->flag[id] |= (unsigned char)flag;
	return id;
}

int32_t ml_labels_add_num(struct ml_labels *L, double x, int flag, struct ml_err *e)
{
	char buf[ML_FMT_DOUBLE_MAX + 1];
	size_t len = ml_fmt_double(buf, x + 0.0);

	return ml_labels_add(L, buf, len, flag, e);
}

/* Label ids of a column's rows, written into out. */
int ml_labels_map(struct ml_labels *L, const struct ml_labcol *c, size_t n, int flag, int32_t *out,
		  struct ml_err *e)
{
	size_t i;

	if (c->dict) {
		const struct ml_dict *d = c->dict;
		int32_t *m = malloc((size_t)(d->n ? d->n : 1) * sizeof(*m)), j;
		if (!m)
			return ml_err_nomem(e);
		for (j = 0; j < d->n; j++)
			m[j] = -1;
		for (i = 0; i < n; i++) {
			int32_t code = c->code[i];
			if (m[code] < 0 &&
			    (m[code] = ml_labels_add(L, d->str[code], d->len[code], flag, e)) < 0) {
				int rc = (int)m[code];
				free(m);
				return rc;
			}
			out[i] = m[code];
		}
		free(m);
	} else {
		int32_t small[256];
		int j;
		for (j = 0; j < 256; j++)
			small[j] = -1;
		for (i = 0; i < n; i++) {
			double x = c->num[i];
			int32_t id;
			if (x >= 0 && x < 256 && x == floor(x)) {
				int s = (int)x;
				if (small[s] < 0 &&
				    (small[s] = ml_labels_add_num(L, x, flag, e)) < 0)
					return small[s];
				id = small[s];
			} else if ((id = ml_labels_add_num(L, x, flag, e)) < 0)
				return id;
			out[i] = id;
		}
	}
	return 0;
}

int32_t ml_labels_find(const struct ml_labels *L, const char *s)
{
	char buf[ML_FMT_DOUBLE_MAX + 1];
	double x;

	if (L->numeric && ml_parse_double(s, strlen(s), &x) == 0 && isfinite(x)) {
		ml_fmt_double(buf, x + 0.0);
		s = buf;
	}
	return ml_dict_find(&L->d, s, strlen(s));
}

int32_t ml_labels_count(const struct ml_labels *L)
{
	return L->d.n;
}

struct lab_key {
	int32_t id;
	int isnum;
	double x;
	const char *s;
};

static int lab_cmp(const void *a, const void *b)
{
	const struct lab_key *p = a, *q = b;

	if (p->isnum != q->isnum)
		return p->isnum ? -1 : 1;
	if (p->isnum && p->x != q->x)
		return p->x < q->x ? -1 : 1;
	return strcmp(p->s, q->s);
}

int ml_labels_sort(struct ml_labels *L, struct ml_err *e)
{
	int32_t n = L->d.n, i;
	struct lab_key *k = malloc((size_t)(n ? n : 1) * sizeof(*k));

	free(L->rank);
	free(L->byrank);
	L->rank = malloc((size_t)(n ? n : 1) * sizeof(*L->rank));
	L->byrank = malloc((size_t)(n ? n : 1) * sizeof(*L->byrank));
	if (!k || !L->rank || !L->byrank) {
		free(k);
		return ml_err_nomem(e);
	}
	for (i = 0; i < n; i++) {
		k[i].id = i;
		k[i].s = L->d.str[i];
		k[i].isnum = L->numeric && ml_parse_double(k[i].s, L->d.len[i], &k[i].x) == 0;
	}
	qsort(k, (size_t)n, sizeof(*k), lab_cmp);
	for (i = 0; i < n; i++) {
		L->rank[k[i].id] = i;
		L->byrank[i] = k[i].id;
	}
	free(k);
	return 0;
}

int32_t ml_labels_code(const struct ml_labels *L, int32_t id)
{
	return L->rank[id];
}

const char *ml_labels_str(const struct ml_labels *L, int32_t code)
{
	return L->d.str[L->byrank[code]];
}

int ml_labels_flags(const struct ml_labels *L, int32_t code)
{
	return L->flag[L->byrank[code]];
}

void ml_labels_mark(struct ml_labels *L, int32_t code, int flags)
{
	L->flag[L->byrank[code]] |= (unsigned char)flags;
}

/* --- Classes ---------------------------------------------------------------------------- */

void ml_classes_init(struct ml_classes *c)
{
	memset(c, 0, sizeof(*c));
}

void ml_classes_release(struct ml_classes *c)
{
	ml_labels_free(c->labels);
	free(c->truth);
	free(c->pred);
	free(c->prob);
	free(c->complement);
	ml_classes_init(c);
}

/* The ids of the probability columns' labels into pcol, refusing two columns of one
 * label. */
static int prob_labels(struct ml_classes *c, const struct ml_class_input *in, int32_t *pcol,
		       struct ml_err *e)
{
	int j;

	for (j = 0; j < in->nprob; j++) {
		const char *sfx = in->prob_label[j];
		int32_t id = ml_labels_add(c->labels, sfx, strlen(sfx), ML_LABEL_PROB, e);
		int k2;
		if (id < 0)
			return id;
		for (k2 = 0; k2 < j; k2++)
			if (pcol[k2] == id)
				return ml_err_set(e, ML_E_DATA, in->name, 0, 0,
						  "columns '%s' and '%s' are for the same label",
						  in->prob_name[k2], in->prob_name[j]);
		pcol[j] = id;
	}
	return 0;
}

/* Every label with its code, and the column of each code. */
static int label_codes(struct ml_classes *c, const struct ml_class_input *in, struct ml_err *e)
{
	int32_t *pcol = malloc((size_t)(in->nprob ? in->nprob : 1) * sizeof(*pcol));
	size_t i;
	int j, rc;

	if (!pcol)
		return ml_err_nomem(e);
	if ((rc = prob_labels(c, in, pcol, e)) < 0 || (rc = ml_labels_sort(c->labels, e)) < 0) {
		free(pcol);
		return rc;
	}
	c->k = ml_labels_count(c->labels);
	if (c->k > ML_CLASSES_MAX) {
		free(pcol);
		return ml_err_set(e, ML_E_DATA, in->name, 0, 0,
				  "%d labels are too many for a classification (at most %d)", c->k,
				  ML_CLASSES_MAX);
	}
	c->prob = calloc((size_t)c->k, sizeof(*c->prob));
	if (!c->prob) {
		free(pcol);
		return ml_err_nomem(e);
	}
	for (j = 0; j < in->nprob; j++)
		c->prob[ml_labels_code(c->labels, pcol[j])] = in->prob[j];
	free(pcol);
	for (i = 0; i < in->n; i++) {
		c->truth[i] = ml_labels_code(c->labels, c->truth[i]);
		if (in->pred.code || in->pred.num)
			c->pred[i] = ml_labels_code(c->labels, c->pred[i]);
	}
	return 0;
}

/* Two labels in all and one column: the other is its complement. */
static int complement(struct ml_classes *c, const struct ml_class_input *in, struct ml_err *e)
{
	int have, other;
	size_t i;

	if (c->k != 2 || in->nprob != 1)
		return 0;
	have = c->prob[0] ? 0 : 1;
	other = 1 - have;
	c->complement = malloc((in->n ? in->n : 1) * sizeof(double));
	if (!c->complement)
		return ml_err_nomem(e);
	for (i = 0; i < in->n; i++)
		c->complement[i] = 1 - c->prob[have][i];
	c->prob[other] = c->complement;
	return 0;
}

/* Predictions by argmax over the columns in label order; the first wins a tie. */
static void argmax(struct ml_classes *c, size_t n)
{
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		int best = -1;
		double bp = -1;
		for (k = 0; k < c->k; k++)
			if (c->prob[k] && c->prob[k][i] > bp) {
				bp = c->prob[k][i];
				best = k;
			}
		c->pred[i] = best;
	}
	for (k = 0; k < c->k; k++)
		for (i = 0; i < n; i++)
			if (c->pred[i] == k) {
				ml_labels_mark(c->labels, k, ML_LABEL_PRED);
				break;
			}
}

int ml_classes_build(struct ml_classes *c, const struct ml_class_input *in, struct ml_err *e)
{
	size_t n = in->n ? in->n : 1;
	int has_pred = in->pred.code || in->pred.num, k, seen = 0, rc;

	c->nprob = in->nprob;
	c->labels = ml_labels_new(in->numeric);
	c->truth = malloc(n * sizeof(int32_t));
	c->pred = malloc(n * sizeof(int32_t));
	if (!c->labels || !c->truth || !c->pred)
		return ml_err_nomem(e);
	if ((rc = ml_labels_map(c->labels, &in->truth, in->n, ML_LABEL_TRUTH, c->truth, e)) < 0)
		return rc;
	if (has_pred &&
	    (rc = ml_labels_map(c->labels, &in->pred, in->n, ML_LABEL_PRED, c->pred, e)) < 0)
		return rc;
	if ((rc = label_codes(c, in, e)) < 0 || (rc = complement(c, in, e)) < 0)
		return rc;
	if (!has_pred)
		argmax(c, in->n);
	for (k = 0; k < c->k; k++)
		if (ml_labels_flags(c->labels, k) & (ML_LABEL_TRUTH | ML_LABEL_PRED))
			c->present++;
	c->binary = c->present <= 2;
	c->pos = -1;
	for (k = 0; k < c->k && c->pos < 0; k++)
		if ((ml_labels_flags(c->labels, k) & (ML_LABEL_TRUTH | ML_LABEL_PRED)) &&
		    seen++ == 1)
			c->pos = k;
	if (c->pos < 0)
		c->pos = c->k >= 2 ? 1 : 0;
	return 0;
}

int ml_classes_set_pos(struct ml_classes *c, const char *s)
{
	int32_t id = ml_labels_find(c->labels, s);

	if (id < 0)
		return -1;
	if (c->binary && c->present == 2 &&
	    !(ml_labels_flags(c->labels, ml_labels_code(c->labels, id)) &
	      (ML_LABEL_TRUTH | ML_LABEL_PRED)))
		return -1;
	c->pos = ml_labels_code(c->labels, id);
	return 0;
}

/* Probability metrics need a column for every truth label (and the positive one). */
int ml_classes_check_prob(const struct ml_classes *c, const char *name, struct ml_err *e)
{
	int k;

	if (c->nprob == 0)
		return 0;
	for (k = 0; k < c->k; k++)
		if ((ml_labels_flags(c->labels, k) & ML_LABEL_TRUTH) && !c->prob[k]) {
			char q[128];
			const char *s = ml_labels_str(c->labels, k);
			ml_err_quote(q, sizeof(q), s, strlen(s));
			return ml_err_set(e, ML_E_DATA, name, 0, 0,
					  "no probability column '" ML_PRED_PROB_PREFIX
					  "%s' for the truth label '%s'",
					  q, q);
		}
	if (c->binary && !c->prob[c->pos]) {
		char q[128];
		const char *s = ml_labels_str(c->labels, c->pos);
		ml_err_quote(q, sizeof(q), s, strlen(s));
		return ml_err_set(e, ML_E_DATA, name, 0, 0,
				  "no probability column '" ML_PRED_PROB_PREFIX
				  "%s' for the positive label '%s'",
				  q, q);
	}
	return 0;
}
