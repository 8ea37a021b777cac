/* The prediction contract: column names, and finding a table's prediction columns. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml/num.h"
#include "ml/pred.h"

size_t ml_pred_name(char *buf, size_t n, const char *prefix, const char *label)
{
	int k = snprintf(buf, n, "%s%s", prefix, label);

	return k < 0 ? 0 : (size_t)k;
}

size_t ml_pred_interval_name(char *buf, size_t n, double level, int upper)
{
	char pct[ML_FMT_DOUBLE_MAX + 1];

	ml_fmt_double_prec(pct, level, 15);
	return ml_pred_name(buf, n, upper ? ML_PRED_HI_PREFIX : ML_PRED_LO_PREFIX, pct);
}

/* --- Reading ------------------------------------------------------------------------------ */

void ml_pred_opts_init(struct ml_pred_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->truth = -1;
	o->classes = 1;
}

void ml_pred_cols_init(struct ml_pred_cols *c)
{
	memset(c, 0, sizeof(*c));
	c->pred = c->margin = c->score = c->std = -1;
}

void ml_pred_cols_release(struct ml_pred_cols *c)
{
	free(c->prob);
	free(c->margins);
	free(c->skipped);
	ml_pred_cols_init(c);
}

/* Whether the text after a class prefix can be a label: for a numeric truth, only
 * numbers. */
static int label_ok(const struct ml_schema *s, int truth, const char *label)
{
	double x;

	if (!*label)
		return 0;
	if (truth < 0 || s->cols[truth].type == ML_CAT)
		return 1;
	return ml_parse_double(label, strlen(label), &x) == 0 && isfinite(x);
}

/* A column that is neither the truth, the pred column nor one the caller excluded. */
static int free_col(const struct ml_pred_opts *o, const struct ml_pred_cols *c, int j)
{
	int i;

	if (j == o->truth || j == c->pred)
		return 0;
	for (i = 0; i < o->nexclude; i++)
		if (o->exclude[i] == j)
			return 0;
	return 1;
}

/* The column named name unless it is the truth, else -1. */
static int find_named(const struct ml_schema *s, const struct ml_pred_opts *o, const char *name)
{
	int j = ml_schema_find(s, name);

	return j == o->truth ? -1 : j;
}

static int find_classes(const struct ml_schema *s, const struct ml_pred_opts *o,
			struct ml_pred_cols *c, struct ml_err *e)
{
	size_t np = strlen(ML_PRED_PROB_PREFIX), nm = strlen(ML_PRED_MARGIN_PREFIX);
	size_t n = (size_t)(s->ncol ? s->ncol : 1);
	int j;

	c->prob = malloc(n * sizeof(*c->prob));
	c->margins = malloc(n * sizeof(*c->margins));
	c->skipped = malloc(n * sizeof(*c->skipped));
	if (!c->prob || !c->margins || !c->skipped)
		return ml_err_nomem(e);
	for (j = 0; j < s->ncol; j++) {
		const char *name = s->cols[j].name;
		if (!free_col(o, c, j))
			continue;
		if (strncmp(name, ML_PRED_PROB_PREFIX, np) == 0) {
			if (!label_ok(s, o->truth, name + np)) {
				c->skipped[c->nskipped++] = j;
				continue;
			}
			c->prob[c->nprob].col = j;
			c->prob[c->nprob++].label = name + np;
		} else if (strncmp(name, ML_PRED_MARGIN_PREFIX, nm) == 0 &&
			   label_ok(s, o->truth, name + nm)) {
			c->margins[c->nmargin].col = j;
			c->margins[c->nmargin++].label = name + nm;
		}
	}
	return 0;
}

int ml_pred_find(const struct ml_schema *s, const struct ml_pred_opts *o, struct ml_pred_cols *c,
		 struct ml_err *e)
{
	const char *pred = o->pred ? o->pred : ML_PRED_LABEL;
	int rc;

	ml_pred_cols_init(c);
	c->pred = ml_schema_find(s, pred);
	if (o->pred && c->pred < 0)
		return ml_err_set(e, ML_E_DATA, o->name, 0, 0, "no prediction column '%s'", pred);
	if (c->pred == o->truth)
		c->pred = -1;
	c->margin = find_named(s, o, ML_PRED_MARGIN);
	c->score = find_named(s, o, ML_PRED_SCORE);
	c->std = find_named(s, o, ML_PRED_STD);
	if (o->classes && (rc = find_classes(s, o, c, e)) < 0) {
		ml_pred_cols_release(c);
		return rc;
	}
	return 0;
}

/* --- Writing ------------------------------------------------------------------------------ */

/* (Reserved: the output schema of a model's predictions.) */
