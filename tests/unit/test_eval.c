/* Unit tests for lib/stats/labels.c and groups.c: label sets, class lists, groups of rows
 * and subsets of a data set. */
#include <stdlib.h>
#include <string.h>

#include "ml/eval.h"
#include "ml/frame.h"
#include "unit.h"

static void dict_of(struct ml_dict *d, const char *const *s, int n)
{
	int i;

	ml_dict_init(d);
	for (i = 0; i < n; i++)
		if (ml_dict_intern(d, s[i], strlen(s[i])) != i)
			abort();
}

static void test_labels(void)
{
	struct ml_labels *L = ml_labels_new(1);
	struct ml_err e;
	int32_t a, b, c, d;

	ml_err_init(&e);
	CHECK(L != NULL);
	a = ml_labels_add(L, "10", 2, ML_LABEL_TRUTH, &e);
	b = ml_labels_add(L, "2.50", 4, ML_LABEL_PRED, &e);
	c = ml_labels_add(L, "abc", 3, ML_LABEL_PROB, &e);
	d = ml_labels_add_num(L, -0.0, ML_LABEL_TRUTH, &e);
	CHECK(a == 0 && b == 1 && c == 2 && d == 3);
	CHECK(ml_labels_add(L, "1e1", 3, ML_LABEL_PRED, &e) == a);
	CHECK(ml_labels_add_num(L, 2.5, 0, &e) == b);
	CHECK(ml_labels_find(L, "0") == d && ml_labels_find(L, "-0.0") == d);
	CHECK(ml_labels_find(L, "10.0") == a && ml_labels_find(L, "x") == -1);
	CHECK(ml_labels_count(L) == 4);
	CHECK(ml_labels_sort(L, &e) == 0);
	/* numbers by value first, then text */
	CHECK(strcmp(ml_labels_str(L, 0), "0") == 0);
	CHECK(strcmp(ml_labels_str(L, 1), "2.5") == 0);
	CHECK(strcmp(ml_labels_str(L, 2), "10") == 0);
	CHECK(strcmp(ml_labels_str(L, 3), "abc") == 0);
	CHECK(ml_labels_code(L, a) == 2 && ml_labels_code(L, c) == 3);
	CHECK(ml_labels_flags(L, 2) == (ML_LABEL_TRUTH | ML_LABEL_PRED));
	CHECK(ml_labels_flags(L, 3) == ML_LABEL_PROB);
	ml_labels_mark(L, 3, ML_LABEL_PRED);
	CHECK(ml_labels_flags(L, 3) == (ML_LABEL_PROB | ML_LABEL_PRED));
	ml_labels_free(L);
	ml_labels_free(NULL);

	/* a text set keeps "1.0" and "1" apart and sorts by bytes */
	L = ml_labels_new(0);
	CHECK(ml_labels_add(L, "1.0", 3, 0, &e) == 0 && ml_labels_add(L, "1", 1, 0, &e) == 1);
	CHECK(ml_labels_add(L, "10", 2, 0, &e) == 2 && ml_labels_add(L, "9", 1, 0, &e) == 3);
	CHECK(ml_labels_sort(L, &e) == 0);
	CHECK(strcmp(ml_labels_str(L, 0), "1") == 0 && strcmp(ml_labels_str(L, 1), "1.0") == 0);
	CHECK(strcmp(ml_labels_str(L, 2), "10") == 0 && strcmp(ml_labels_str(L, 3), "9") == 0);
	ml_labels_free(L);
}

static void test_labels_map(void)
{
	static const char *const s[] = {"b", "a", "c"};
	struct ml_dict d;
	struct ml_labels *L = ml_labels_new(1);
	int32_t code[] = {0, 1, 0, 2}, out[4];
	double num[] = {3, 300.5, 3, -1};
	struct ml_labcol c;

	dict_of(&d, s, 3);
	memset(&c, 0, sizeof(c));
	c.num = num;
	CHECK(ml_labels_map(L, &c, 4, ML_LABEL_TRUTH, out, NULL) == 0);
	CHECK(out[0] == 0 && out[1] == 1 && out[2] == 0 && out[3] == 2);
	c.num = NULL;
	c.dict = &d;
	c.code = code;
	CHECK(ml_labels_map(L, &c, 4, ML_LABEL_PRED, out, NULL) == 0);
	CHECK(out[0] == 3 && out[1] == 4 && out[2] == 3 && out[3] == 5);
	CHECK(ml_labels_count(L) == 6);
	ml_labels_free(L);
	ml_dict_release(&d);
}

/* Text labels with a pred column and probabilities for two of three labels. */
static void test_classes_pred(void)
{
	static const char *const ts[] = {"yes", "no"}, *const ps[] = {"no", "yes", "maybe"};
	static const char *const plab[] = {"yes", "no"}, *const pname[] = {"p_yes", "p_no"};
	struct ml_dict td, pd;
	int32_t tc[] = {0, 1, 1, 0}, pc[] = {1, 0, 1, 2};
	double py[] = {0.9, 0.2, 0.4, 0.5}, pn[] = {0.1, 0.8, 0.6, 0.5};
	const double *prob[] = {py, pn};
	struct ml_class_input in;
	struct ml_classes c;
	struct ml_err e;

	dict_of(&td, ts, 2);
	dict_of(&pd, ps, 3);
	memset(&in, 0, sizeof(in));
	in.name = "in.csv";
	in.n = 4;
	in.truth.dict = &td;
	in.truth.code = tc;
	in.pred.dict = &pd;
	in.pred.code = pc;
	in.nprob = 2;
	in.prob_label = plab;
	in.prob_name = pname;
	in.prob = prob;
	ml_classes_init(&c);
	ml_err_init(&e);
	CHECK(ml_classes_build(&c, &in, &e) == 0);
	/* maybe, no, yes */
	CHECK(c.k == 3 && c.present == 3 && !c.binary && c.pos == 1);
	CHECK(strcmp(ml_labels_str(c.labels, 0), "maybe") == 0);
	CHECK(c.truth[0] == 2 && c.truth[1] == 1 && c.pred[0] == 2 && c.pred[3] == 0);
	CHECK(c.prob[0] == NULL && c.prob[1] == pn && c.prob[2] == py && c.complement == NULL);
	CHECK(ml_classes_check_prob(&c, "in.csv", &e) == 0);
	CHECK(ml_classes_set_pos(&c, "yes") == 0 && c.pos == 2);
	CHECK(ml_classes_set_pos(&c, "perhaps") == -1 && c.pos == 2);
	ml_classes_release(&c);
	CHECK(c.labels == NULL && c.truth == NULL);

	/* a truth label without its column */
	in.nprob = 1;
	CHECK(ml_classes_build(&c, &in, &e) == 0);
	CHECK(ml_classes_check_prob(&c, "in.csv", &e) == ML_E_DATA);
	CHECK(strcmp(e.msg, "no probability column 'p_no' for the truth label 'no'") == 0);
	CHECK(strcmp(e.where, "in.csv") == 0);
	ml_classes_release(&c);

	/* two columns of one label */
	in.nprob = 2;
	in.prob_label = (const char *const[]){"yes", "yes"};
	CHECK(ml_classes_build(&c, &in, &e) == ML_E_DATA);
	CHECK(strcmp(e.msg, "columns 'p_yes' and 'p_no' are for the same label") == 0);
	ml_classes_release(&c);
	ml_dict_release(&td);
	ml_dict_release(&pd);
}

/* Numeric truth without a pred column: argmax, the complement, the positive class. */
static void test_classes_argmax(void)
{
	double y[] = {0, 1, 1, 0, 1}, p1[] = {0.2, 0.7, 0.5, 0.6, 0.9};
	static const char *const plab[] = {"1.0"}, *const pname[] = {"p_1.0"};
	const double *prob[] = {p1};
	struct ml_class_input in;
	struct ml_classes c;
	struct ml_err e;

	memset(&in, 0, sizeof(in));
	in.n = 5;
	in.numeric = 1;
	in.truth.num = y;
	in.nprob = 1;
	in.prob_label = plab;
	in.prob_name = pname;
	in.prob = prob;
	ml_classes_init(&c);
	ml_err_init(&e);
	CHECK(ml_classes_build(&c, &in, &e) == 0);
	CHECK(c.k == 2 && c.binary && c.present == 2 && c.pos == 1);
	CHECK(c.prob[1] == p1 && c.prob[0] == c.complement);
	CHECK(c.complement[0] == 0.8 && c.complement[4] == 1 - 0.9);
	/* ties go to the first class: row 2 (0.5 and 0.5) is predicted 0 */
	CHECK(c.pred[0] == 0 && c.pred[1] == 1 && c.pred[2] == 0 && c.pred[3] == 1);
	CHECK(ml_labels_flags(c.labels, 0) == (ML_LABEL_TRUTH | ML_LABEL_PRED));
	CHECK(ml_classes_set_pos(&c, "0.0") == 0 && c.pos == 0);
	CHECK(ml_classes_check_prob(&c, NULL, &e) == 0);
	ml_classes_release(&c);

	/* one label only: the positive class is 0 */
	y[1] = y[2] = y[4] = 0;
	in.nprob = 0;
	CHECK(ml_classes_build(&c, &in, &e) == 0);
	CHECK(c.k == 1 && c.pos == 0 && c.binary && c.pred[0] == -1);
	ml_classes_release(&c);
}

static void test_too_many(void)
{
	double *y = malloc(1001 * sizeof(double));
	struct ml_class_input in;
	struct ml_classes c;
	struct ml_err e;
	int i;

	for (i = 0; i < 1001; i++)
		y[i] = i;
	memset(&in, 0, sizeof(in));
	in.n = 1001;
	in.numeric = 1;
	in.truth.num = y;
	in.pred.num = y;
	ml_classes_init(&c);
	CHECK(ml_classes_build(&c, &in, &e) == ML_E_DATA);
	CHECK(strcmp(e.msg, "1001 labels are too many for a classification (at most 1000)") == 0);
	ml_classes_release(&c);
	free(y);
}

static void test_groups(void)
{
	static const char *const s[] = {"b", "unused", "a", "B"};
	struct ml_dict d;
	int32_t code[] = {0, 2, 0, 3, 2};
	double num[] = {10, -0.0, 9, 10, 0, 1e300};
	struct ml_labcol c;
	struct ml_groups g;
	struct ml_err e;

	dict_of(&d, s, 4);
	memset(&c, 0, sizeof(c));
	c.dict = &d;
	c.code = code;
	ml_groups_init(&g);
	CHECK(ml_groups_build(&g, &c, 5, &e) == 0);
	CHECK(g.n == 3);
	CHECK(strcmp(g.name[0], "B") == 0 && strcmp(g.name[1], "a") == 0);
	CHECK(strcmp(g.name[2], "b") == 0);
	CHECK(g.start[0] == 0 && g.start[1] == 1 && g.start[2] == 3 && g.start[3] == 5);
	CHECK(g.rows[0] == 3 && g.rows[1] == 1 && g.rows[2] == 4 && g.rows[3] == 0 &&
	      g.rows[4] == 2);
	ml_groups_release(&g);
	CHECK(g.n == 0 && g.name == NULL);

	c.dict = NULL;
	c.num = num;
	CHECK(ml_groups_build(&g, &c, 6, &e) == 0);
	CHECK(g.n == 4);
	CHECK(strcmp(g.name[0], "0") == 0 && strcmp(g.name[1], "9") == 0);
	CHECK(strcmp(g.name[2], "10") == 0 && strcmp(g.name[3], "1e+300") == 0);
	CHECK(g.start[1] == 2 && g.rows[0] == 1 && g.rows[1] == 4);
	CHECK(g.rows[3] == 0 && g.rows[4] == 3 && g.rows[5] == 5);
	ml_groups_release(&g);
	ml_dict_release(&d);
}

static void test_subsets(void)
{
	int32_t truth[] = {0, 1, 2, 1}, pred[] = {0, 2, 2, 1};
	double p0[] = {0.5, 0.1, 0.2, 0.3}, p2[] = {0.1, 0.6, 0.7, 0.2}, w[] = {1, 2, 3, 4};
	double y[] = {1, 2, 3, 4}, p[] = {1.5, 2, 2.5, 5};
	const double *prob[] = {p0, NULL, p2};
	size_t rows[] = {3, 1};
	struct ml_cls_data d;
	struct ml_reg_data r;
	struct ml_subset s;
	struct ml_err e;

	memset(&d, 0, sizeof(d));
	d.n = 4;
	d.k = 3;
	d.truth = truth;
	d.pred = pred;
	d.prob = prob;
	d.w = w;
	d.pos = -1;
	ml_subset_init(&s);
	CHECK(ml_subset_classify(&s, &d, rows, 2, &e) == 0);
	CHECK(s.cls.n == 2 && s.cls.k == 3 && s.cls.pos == -1);
	CHECK(s.cls.truth[0] == 1 && s.cls.truth[1] == 1 && s.cls.pred[1] == 2);
	CHECK(s.cls.prob[0][0] == 0.3 && s.cls.prob[1] == NULL && s.cls.prob[2][1] == 0.6);
	CHECK(s.cls.w[0] == 4 && s.cls.w[1] == 2);
	ml_subset_release(&s);
	d.prob = NULL;
	d.w = NULL;
	CHECK(ml_subset_classify(&s, &d, rows, 2, &e) == 0);
	CHECK(s.cls.prob == NULL && s.cls.w == NULL && s.prob == NULL);
	ml_subset_release(&s);

	r.n = 4;
	r.y = y;
	r.p = p;
	r.w = w;
	CHECK(ml_subset_regress(&s, &r, rows, 2, &e) == 0);
	CHECK(s.reg.n == 2 && s.reg.y[0] == 4 && s.reg.p[0] == 5 && s.reg.p[1] == 2);
	CHECK(s.reg.w[1] == 2);
	ml_subset_release(&s);
}

int main(void)
{
	RUN(test_labels);
	RUN(test_labels_map);
	RUN(test_classes_pred);
	RUN(test_classes_argmax);
	RUN(test_too_many);
	RUN(test_groups);
	RUN(test_subsets);
	return UNIT_EXIT();
}
