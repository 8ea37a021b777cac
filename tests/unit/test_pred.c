/* Unit tests for lib/stats/pred.c: the prediction column names and finding them. */
#include <stdlib.h>
#include <string.h>

#include "ml/frame.h"
#include "ml/pred.h"
#include "unit.h"

static void schema_of(struct ml_schema *s, const char *const *names, const int *cat, int n)
{
	int j;

	ml_schema_init(s);
	for (j = 0; j < n; j++)
		if (ml_schema_add(s, names[j], cat[j] ? ML_CAT : ML_NUM) < 0)
			abort();
}

static void test_names(void)
{
	char buf[ML_PRED_INTERVAL_MAX + 1], small[4];

	CHECK(ml_pred_name(buf, sizeof(buf), ML_PRED_PROB_PREFIX, "yes") == 5);
	CHECK(strcmp(buf, "p_yes") == 0);
	CHECK(ml_pred_name(buf, sizeof(buf), ML_PRED_MARGIN_PREFIX, "2") == 8);
	CHECK(strcmp(buf, "margin_2") == 0);
	CHECK(ml_pred_name(small, sizeof(small), ML_PRED_LEAF_PREFIX, "12") == 7);
	CHECK(strcmp(small, "lea") == 0);
	CHECK(ml_pred_interval_name(buf, sizeof(buf), 95, 0) == 5 && strcmp(buf, "lo_95") == 0);
	CHECK(ml_pred_interval_name(buf, sizeof(buf), 97.5, 1) == 7 &&
	      strcmp(buf, "hi_97.5") == 0);
	ml_pred_interval_name(buf, sizeof(buf), 80, 1);
	CHECK(strcmp(buf, "hi_80") == 0);
	ml_pred_interval_name(buf, sizeof(buf), 99.9, 0);
	CHECK(strcmp(buf, "lo_99.9") == 0);
	CHECK(strcmp(ML_PRED_LABEL, "pred") == 0 && strcmp(ML_PRED_SCORE, "score") == 0 &&
	      strcmp(ML_PRED_STD, "pred_std") == 0 &&
	      strcmp(ML_PRED_CONTRIB_PREFIX, "contrib_") == 0);
}

/* Classes of a categorical truth; margins, score and pred_std; exclusions. */
static void test_find_cat(void)
{
	static const char *const names[] = {"id",    "y",	 "pred",   "p_a",      "p_b",
					    "w",     "p_w",	 "margin", "margin_a", "p_",
					    "score", "pred_std", "g"};
	static const int cat[] = {1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	struct ml_schema s;
	struct ml_pred_opts o;
	struct ml_pred_cols c;
	struct ml_err e;
	int excl[] = {5, 12};

	schema_of(&s, names, cat, 13);
	ml_err_init(&e);
	/* fresh: no columns found, nothing to free */
	ml_pred_cols_init(&c);
	CHECK(c.pred == -1 && c.margin == -1 && c.score == -1 && c.std == -1);
	CHECK(c.nprob == 0 && !c.prob && c.nmargin == 0 && !c.margins && c.nskipped == 0 &&
	      !c.skipped);
	ml_pred_cols_release(&c);
	ml_pred_opts_init(&o);
	CHECK(o.truth == -1 && o.classes == 1 && o.pred == NULL);
	o.truth = 1;
	o.exclude = excl;
	o.nexclude = 2;
	CHECK(ml_pred_find(&s, &o, &c, &e) == 0);
	CHECK(c.pred == 2);
	CHECK(c.nprob == 3);
	CHECK(c.prob[0].col == 3 && strcmp(c.prob[0].label, "a") == 0);
	CHECK(c.prob[1].col == 4 && strcmp(c.prob[1].label, "b") == 0);
	CHECK(c.prob[2].col == 6 && strcmp(c.prob[2].label, "w") == 0);
	CHECK(c.nskipped == 1 && c.skipped[0] == 9);
	CHECK(c.margin == 7 && c.nmargin == 1 && c.margins[0].col == 8);
	CHECK(c.score == 10 && c.std == 11);
	ml_pred_cols_release(&c);
	CHECK(c.prob == NULL && c.nprob == 0 && c.pred == -1);

	/* p_w excluded as the weight column, the truth as pred column */
	excl[0] = 6;
	o.pred = "y";
	CHECK(ml_pred_find(&s, &o, &c, &e) == 0);
	CHECK(c.pred == -1 && c.nprob == 2);
	ml_pred_cols_release(&c);

	/* a regression looks for no classes */
	o.pred = NULL;
	o.classes = 0;
	CHECK(ml_pred_find(&s, &o, &c, &e) == 0);
	CHECK(c.pred == 2 && c.nprob == 0 && c.nmargin == 0 && c.nskipped == 0);
	ml_pred_cols_release(&c);

	/* a named pred column must be there */
	o.name = "in.csv";
	o.pred = "forecast";
	CHECK(ml_pred_find(&s, &o, &c, &e) == ML_E_DATA);
	CHECK(strcmp(e.msg, "no prediction column 'forecast'") == 0);
	CHECK(strcmp(e.where, "in.csv") == 0);
	CHECK(c.prob == NULL && c.pred == -1);
	ml_schema_release(&s);
}

/* A numeric truth: class labels must be numbers; no pred column is fine. */
static void test_find_num(void)
{
	static const char *const names[] = {"y", "p_0", "p_1.5", "p_x", "p_inf", "margin_1"};
	static const int cat[] = {0, 0, 0, 0, 0, 0};
	struct ml_schema s;
	struct ml_pred_opts o;
	struct ml_pred_cols c;

	schema_of(&s, names, cat, 6);
	ml_pred_opts_init(&o);
	o.truth = 0;
	CHECK(ml_pred_find(&s, &o, &c, NULL) == 0);
	CHECK(c.pred == -1 && c.margin == -1 && c.score == -1 && c.std == -1);
	CHECK(c.nprob == 2 && strcmp(c.prob[1].label, "1.5") == 0);
	CHECK(c.nskipped == 2 && c.skipped[0] == 3 && c.skipped[1] == 4);
	CHECK(c.nmargin == 1 && strcmp(c.margins[0].label, "1") == 0);
	ml_pred_cols_release(&c);
	/* without a truth any label goes */
	o.truth = -1;
	CHECK(ml_pred_find(&s, &o, &c, NULL) == 0);
	CHECK(c.nprob == 4 && c.nskipped == 0);
	ml_pred_cols_release(&c);
	ml_schema_release(&s);
}

int main(void)
{
	RUN(test_names);
	RUN(test_find_cat);
	RUN(test_find_num);
	return UNIT_EXIT();
}
