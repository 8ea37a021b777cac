/* Adaptive weighting: an ensemble's member weights that follow each member's loss over a
 * sliding window of past rows, the state that carries them from one run to the next, and
 * the "adaptive" kind of artefact that holds that state. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "artefact/kind.h"
#include "ml/ensemble.h"
#include "ml/feat.h"
#include "ml/num.h"
#include "ml/pred.h"

#define LOSS_EPS 1e-9	   /* in 1 / (L + eps): a member with no loss is not infinite */
#define PROB_FLOOR 1e-15   /* log loss of a probability of zero: -log(1e-15) */
#define RESUM_EVERY 1024   /* updates between sums recomputed from the window */
#define STATE_VERSION 1
#define HCOLS(a) (3 + (size_t)(a)->n) /* a history entry: update, row, time, weights */

static const char *const metric_names[] = {"logloss", "accuracy", "mae"};

int ml_ada_metric_find(const char *name)
{
	int i;

	for (i = 0; i < 3; i++)
		if (strcmp(metric_names[i], name) == 0)
			return i;
	return -1;
}

const char *ml_ada_metric_name(int metric)
{
	return metric >= 0 && metric < 3 ? metric_names[metric] : "?";
}

void ml_ada_opts_init(struct ml_ada_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->metric = -1;
	o->smoothing = NAN;
}

struct ml_adaptive {
	/* what the state was started with */
	int n;
	char **member;
	int metric;
	char *target, *time_col;
	long window;
	double seconds, smoothing;
	int K;	    /* classes; 0 for a regression, or before the first bind */
	char **cls;
	/* where it stands */
	unsigned long long rows, updates;
	double last_time; /* NaN: none yet */
	double *w, *sum;
	unsigned long long *cnt;
	size_t wcap, whead, wlen; /* the window: a ring of (time, n losses) */
	double *wtime, *wloss;
	size_t hhead, hlen; /* the history: a ring of ML_ADA_HISTORY entries */
	double *hist;
	/* bound to an input */
	const struct ml_schema *in;
	const char *name;
	int tcol, timecol, *mcol, *keep, nkeep;
	int32_t *tmap, ntmap; /* the truth's codes -> classes (-1: none) */
	int *hard;	      /* per member: 1 when it gives a label alone (P_pred) */
	int32_t **hmap, *nhmap; /* per such member: its label's codes -> classes */
	struct ml_schema out;
	union ml_colv *vcol;
	struct ml_block view;
	double *cols, *p, *loss;
	int32_t *lab;
	size_t cap;
};

static int classify(const struct ml_adaptive *a)
{
	return a->metric != ML_ADA_MAE;
}

/* Values per member and row: the classes' probabilities, or the prediction. */
static int per_member(const struct ml_adaptive *a)
{
	return classify(a) ? a->K : 1;
}

void ml_adaptive_free(struct ml_adaptive *a)
{
	int k;

	if (!a)
		return;
	for (k = 0; k < a->n && a->member; k++)
		free(a->member[k]);
	for (k = 0; k < a->K && a->cls; k++)
		free(a->cls[k]);
	free(a->member);
	free(a->cls);
	free(a->target);
	free(a->time_col);
	free(a->w);
	free(a->sum);
	free(a->cnt);
	free(a->wtime);
	free(a->wloss);
	free(a->hist);
	free(a->mcol);
	free(a->keep);
	free(a->tmap);
	for (k = 0; k < a->n && a->hmap; k++)
		free(a->hmap[k]);
	free(a->hmap);
	free(a->nhmap);
	free(a->hard);
	ml_schema_release(&a->out);
	free(a->vcol);
	free(a->cols);
	free(a->p);
	free(a->loss);
	free(a->lab);
	free(a);
}

static char *dup_or_null(const char *s, int *bad)
{
	char *d;

	if (!s)
		return NULL;
	if (!(d = strdup(s)))
		*bad = 1;
	return d;
}

/* The parts every state has, from the settings in o (members, target, time column). */
static struct ml_adaptive *alloc_state(const struct ml_ada_opts *o, struct ml_err *e)
{
	struct ml_adaptive *a = calloc(1, sizeof(*a));
	int k, bad = 0;

	if (!a) {
		ml_err_nomem(e);
		return NULL;
	}
	ml_schema_init(&a->out);
	a->n = o->nmember;
	a->metric = o->metric;
	a->window = o->window;
	a->seconds = o->seconds;
	a->smoothing = o->smoothing;
	a->last_time = NAN;
	a->member = calloc((size_t)a->n, sizeof(*a->member));
	a->w = calloc((size_t)a->n, sizeof(double));
	a->sum = calloc((size_t)a->n, sizeof(double));
	a->cnt = calloc((size_t)a->n, sizeof(*a->cnt));
	a->hist = calloc(ML_ADA_HISTORY * HCOLS(a), sizeof(double));
	a->target = dup_or_null(o->target, &bad);
	a->time_col = dup_or_null(o->time_col, &bad);
	for (k = 0; a->member && k < a->n; k++)
		a->member[k] = dup_or_null(o->members[k], &bad);
	if (bad || !a->member || !a->w || !a->sum || !a->cnt || !a->hist) {
		ml_adaptive_free(a);
		ml_err_nomem(e);
		return NULL;
	}
	for (k = 0; k < a->n; k++)
		a->w[k] = 1.0 / a->n;
	return a;
}

int ml_adaptive_new(struct ml_adaptive **out, const struct ml_ada_opts *o, struct ml_err *e)
{
	*out = NULL;
	if (o->nmember < 2 || !o->members || o->metric < 0 || o->metric > ML_ADA_MAE || !o->target ||
	    (o->window > 0) == (o->seconds > 0) || (o->seconds > 0 && !o->time_col) ||
	    !(o->smoothing > 0 && o->smoothing <= 1))
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "an adaptive ensemble needs two members, a metric, a target, a "
				  "window and a smoothing in (0, 1]");
	if (!(*out = alloc_state(o, e)))
		return e ? e->code : ML_E_NOMEM;
	return 0;
}

/* --- The window, the weights and the history --------------------------------------------- */

static double *entry(const struct ml_adaptive *a, size_t i)
{
	return a->wloss + ((a->whead + i) % a->wcap) * (size_t)a->n;
}

static double entry_time(const struct ml_adaptive *a, size_t i)
{
	return a->wtime[(a->whead + i) % a->wcap];
}

/* Room for one more entry: the ring grown, its entries moved to the front in order. */
static int grow_window(struct ml_adaptive *a, struct ml_err *e)
{
	size_t cap = a->wcap ? 2 * a->wcap : 64, i, n = (size_t)a->n;
	double *t, *l;

	if (a->window > 0 && cap > (size_t)a->window)
		cap = (size_t)a->window;
	if (!(t = malloc(cap * sizeof(double))) || !(l = malloc(cap * n * sizeof(double)))) {
		free(t);
		return ml_err_nomem(e);
	}
	for (i = 0; i < a->wlen; i++) {
		t[i] = entry_time(a, i);
		memcpy(l + i * n, entry(a, i), n * sizeof(double));
	}
	free(a->wtime);
	free(a->wloss);
	a->wtime = t;
	a->wloss = l;
	a->wcap = cap;
	a->whead = 0;
	return 0;
}

static void pop_oldest(struct ml_adaptive *a)
{
	const double *l = entry(a, 0);
	int k;

	for (k = 0; k < a->n; k++)
		if (!isnan(l[k])) {
			a->sum[k] -= l[k];
			a->cnt[k]--;
		}
	a->whead = (a->whead + 1) % a->wcap;
	a->wlen--;
}

/* The sums again from the entries, oldest first, so that subtractions leave no drift. */
static void resum(struct ml_adaptive *a)
{
	size_t i;
	int k;

	for (k = 0; k < a->n; k++) {
		a->sum[k] = 0;
		a->cnt[k] = 0;
	}
	for (i = 0; i < a->wlen; i++) {
		const double *l = entry(a, i);
		for (k = 0; k < a->n; k++)
			if (!isnan(l[k])) {
				a->sum[k] += l[k];
				a->cnt[k]++;
			}
	}
}

/* A row's losses (NaN for a member without answers) at time t: into the window, out of it
 * what falls outside, and the weights moved towards the inverse mean losses. */
static int learn(struct ml_adaptive *a, double t, const double *loss, struct ml_err *e)
{
	double have = 0, rsum = 0, tot = 0, *h;
	int k, rc;

	if (a->window > 0 && a->wlen == (size_t)a->window)
		pop_oldest(a);
	if (a->wlen == a->wcap && (rc = grow_window(a, e)) < 0)
		return rc;
	a->wtime[(a->whead + a->wlen) % a->wcap] = t;
	memcpy(a->wloss + ((a->whead + a->wlen) % a->wcap) * (size_t)a->n, loss,
	       (size_t)a->n * sizeof(double));
	a->wlen++;
	for (k = 0; k < a->n; k++)
		if (!isnan(loss[k])) {
			a->sum[k] += loss[k];
			a->cnt[k]++;
		}
	while (a->seconds > 0 && a->wlen > 0 && entry_time(a, 0) <= t - a->seconds)
		pop_oldest(a);
	a->updates++;
	if (a->updates % RESUM_EVERY == 0)
		resum(a);
	/* Members with losses in the window share the weight they hold now, in proportion to
	 * 1 / (L + eps); the others keep theirs. */
	for (k = 0; k < a->n; k++)
		if (a->cnt[k] > 0) {
			have += a->w[k];
			rsum += 1 / (fmax(a->sum[k] / (double)a->cnt[k], 0) + LOSS_EPS);
		}
	for (k = 0; k < a->n; k++) {
		double target = a->w[k];
		if (a->cnt[k] > 0 && rsum > 0)
			target = have * (1 / (fmax(a->sum[k] / (double)a->cnt[k], 0) + LOSS_EPS)) / rsum;
		a->w[k] = (1 - a->smoothing) * a->w[k] + a->smoothing * target;
		tot += a->w[k];
	}
	for (k = 0; tot > 0 && k < a->n; k++)
		a->w[k] /= tot;
	h = a->hist + ((a->hhead + a->hlen) % ML_ADA_HISTORY) * HCOLS(a);
	if (a->hlen == ML_ADA_HISTORY)
		a->hhead = (a->hhead + 1) % ML_ADA_HISTORY;
	else
		a->hlen++;
	h[0] = (double)a->updates;
	h[1] = (double)a->rows;
	h[2] = t;
	memcpy(h + 3, a->w, (size_t)a->n * sizeof(double));
	return 0;
}

/* --- Binding and applying ------------------------------------------------------------------ */

static int member_col(char *buf, size_t size, const char *member, const char *label)
{
	int r = label ? snprintf(buf, size, "%s_%s%s", member, ML_PRED_PROB_PREFIX, label) :
			snprintf(buf, size, "%s_%s", member, ML_PRED_LABEL);
	return r >= 0 && (size_t)r < size ? 0 : -1;
}

/* A fresh state's classes: the labels of the P_p_LABEL columns of the first member that
 * has them (members that give a label alone take these classes). */
static int find_classes(struct ml_adaptive *a, const struct ml_schema *in, const char *name,
			struct ml_err *e)
{
	char prefix[1100];
	size_t np;
	int j, k, found = -1;

	if (!(a->cls = calloc((size_t)in->ncol, sizeof(*a->cls))))
		return ml_err_nomem(e);
	for (k = 0; k < a->n && found < 0; k++) {
		if (member_col(prefix, sizeof(prefix), a->member[k], "") < 0)
			return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "--members: a name too long");
		np = strlen(prefix);
		for (j = 0; j < in->ncol && found < 0; j++)
			if (strncmp(in->cols[j].name, prefix, np) == 0 && in->cols[j].name[np])
				found = k;
	}
	k = found < 0 ? 0 : found;
	if (member_col(prefix, sizeof(prefix), a->member[k], "") < 0)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "--members: a name too long");
	np = strlen(prefix);
	for (j = 0; j < in->ncol; j++)
		if (strncmp(in->cols[j].name, prefix, np) == 0 && in->cols[j].name[np] &&
		    !(a->cls[a->K++] = strdup(in->cols[j].name + np)))
			return ml_err_nomem(e);
	if (a->K < 2)
		return ml_err_set(e, ML_E_DATA, name, 0, 0,
				  "no columns '%sLABEL' of two classes at least (member '%s' of "
				  "--members): %s takes the classes from the first member that "
				  "gives its class probabilities",
				  prefix, a->member[k], metric_names[a->metric]);
	return 0;
}

static int find_col(const struct ml_schema *in, const char *col, const char *opt, const char *name,
		    struct ml_err *e)
{
	return ml_schema_find_or_suggest(in, col, opt, name, NULL, e);
}

static int bind_members(struct ml_adaptive *a, const struct ml_schema *in, const char *name,
			struct ml_err *e)
{
	int KK = per_member(a), k, c, j;
	char col[1100];

	free(a->mcol);
	for (k = 0; k < a->n && a->hmap; k++)
		free(a->hmap[k]);
	free(a->hmap);
	free(a->nhmap);
	free(a->hard);
	a->mcol = malloc((size_t)a->n * (size_t)KK * sizeof(int));
	a->hmap = calloc((size_t)a->n, sizeof(*a->hmap));
	a->nhmap = calloc((size_t)a->n, sizeof(*a->nhmap));
	a->hard = calloc((size_t)a->n, sizeof(*a->hard));
	if (!a->mcol || !a->hmap || !a->nhmap || !a->hard)
		return ml_err_nomem(e);
	for (k = 0; k < a->n; k++) {
		char lab[1100];
		int jl;
		if (member_col(lab, sizeof(lab), a->member[k], NULL) < 0)
			return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "--members: a name too long");
		jl = ml_schema_find(in, lab);
		for (c = 0; c < KK; c++) {
			if (member_col(col, sizeof(col), a->member[k], classify(a) ? a->cls[c] : NULL) < 0)
				return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "--members: a name too long");
			j = ml_schema_find(in, col);
			/* A classifier that gives no probabilities: its label alone, P_pred, read
			 * as a probability of 1 for that class. */
			if (j < 0 && c == 0 && classify(a) && jl >= 0) {
				a->hard[k] = 1;
				for (; c < KK; c++)
					a->mcol[k * KK + c] = jl;
				break;
			}
			if (j < 0 || in->cols[j].type != ML_NUM)
				return ml_err_set(e, ML_E_DATA, name, 0, 0,
						  "no numeric column '%s' (member '%s' of --members%s%s%s%s%s)",
						  col, a->member[k], classify(a) ? ": its probability of class '" : "",
						  classify(a) ? a->cls[c] : "", classify(a) ? "'" : "",
						  classify(a) && c == 0 ? ", or its label alone in " : "",
						  classify(a) && c == 0 ? lab : "");
			a->mcol[k * KK + c] = j;
		}
	}
	return 0;
}

/* The output: the input's columns but the members', then pred and p_LABEL. */
static int bind_output(struct ml_adaptive *a, const struct ml_schema *in, const char *name,
		       struct ml_err *e)
{
	int KK = per_member(a), j, m, c, at;
	char col[1100];

	ml_schema_release(&a->out);
	ml_schema_init(&a->out);
	free(a->keep);
	a->nkeep = 0;
	if (!(a->keep = malloc((size_t)(in->ncol ? in->ncol : 1) * sizeof(int))))
		return ml_err_nomem(e);
	for (j = 0; j < in->ncol; j++) {
		int mine = 0;
		for (m = 0; m < a->n * KK; m++)
			mine |= a->mcol[m] == j;
		if (mine)
			continue;
		if ((at = ml_schema_add(&a->out, in->cols[j].name, in->cols[j].type)) < 0 ||
		    ml_dict_copy(&a->out.cols[at].dict, &in->cols[j].dict) < 0)
			return ml_err_nomem(e);
		a->keep[a->nkeep++] = j;
	}
	for (c = -1; c < (classify(a) ? a->K : 0); c++) {
		if (c < 0)
			snprintf(col, sizeof(col), "%s", ML_PRED_LABEL);
		else
			ml_pred_name(col, sizeof(col), ML_PRED_PROB_PREFIX, a->cls[c]);
		if (ml_schema_find(&a->out, col) >= 0)
			return ml_err_set(e, ML_E_DATA, name, 0, 0,
					  "the input has a column '%s', which the combined answers "
					  "would repeat",
					  col);
		if (ml_schema_add(&a->out, col, c < 0 && classify(a) ? ML_CAT : ML_NUM) < 0)
			return ml_err_nomem(e);
	}
	for (c = 0; classify(a) && c < a->K; c++) {
		int32_t got = ml_dict_intern(&a->out.cols[a->nkeep].dict, a->cls[c],
					     strlen(a->cls[c]));
		if (got == ML_E_NOMEM)
			return ml_err_nomem(e);
		if (got != c)
			return ml_err_set(e, ML_E_DATA, name, 0, 0, "the classes repeat");
	}
	free(a->vcol);
	if (!(a->vcol = calloc((size_t)a->out.ncol, sizeof(*a->vcol))))
		return ml_err_nomem(e);
	a->view.schema = &a->out;
	a->view.ncol = a->out.ncol;
	a->view.col = a->vcol;
	a->view.line = NULL;
	return 0;
}

int ml_adaptive_bind(struct ml_adaptive *a, const struct ml_schema *in, const char *name,
		     const struct ml_schema **out, struct ml_err *e)
{
	int rc;

	if (!name)
		name = "<stdin>";
	a->in = in;
	a->name = name;
	a->timecol = -1;
	if ((a->tcol = find_col(in, a->target, "-t", name, e)) < 0)
		return a->tcol;
	if (!classify(a) && in->cols[a->tcol].type != ML_NUM)
		return ml_err_set(e, ML_E_DATA, name, 0, 0,
				  "the truth column '%s' is not numeric (mae compares numbers)",
				  a->target);
	if (a->time_col && (a->timecol = find_col(in, a->time_col, "--time-col", name, e)) < 0)
		return a->timecol;
	if (classify(a) && a->K == 0 && (rc = find_classes(a, in, name, e)) < 0)
		return rc;
	if ((rc = bind_members(a, in, name, e)) < 0 || (rc = bind_output(a, in, name, e)) < 0)
		return rc;
	free(a->tmap);
	a->tmap = NULL;
	a->ntmap = 0;
	free(a->p);
	free(a->loss);
	a->p = malloc(((size_t)a->n + 1) * (size_t)per_member(a) * sizeof(double));
	a->loss = malloc((size_t)a->n * sizeof(double));
	if (!a->p || !a->loss)
		return ml_err_nomem(e);
	*out = &a->out;
	return 0;
}

/* The class of a text label, or -1. */
static int class_of(const struct ml_adaptive *a, const char *s)
{
	int c;

	for (c = 0; c < a->K; c++)
		if (strcmp(a->cls[c], s) == 0)
			return c;
	return -1;
}

/* The class of row i's label in input column j into *c (-1: missing; -2: no class, *s
 * then its text, in buf when it is a number): a categorical column through the codes map
 * *map of *nmap entries, grown as the column's dictionary grows; a numeric one formatted
 * as mlpredict writes numbers. */
static int label_class(struct ml_adaptive *a, int j, int32_t **map, int32_t *nmap,
		       const struct ml_block *in, size_t i, char *buf, const char **s, int *c,
		       struct ml_err *e)
{
	const struct ml_col *tc = &a->in->cols[j];

	*c = -1;
	if (tc->type == ML_CAT) {
		int32_t code = in->col[j].cat[i];
		if (code < 0)
			return 0;
		if (code >= *nmap) {
			int32_t n = tc->dict.n, q;
			int32_t *m = realloc(*map, (size_t)n * sizeof(*m));
			if (!m)
				return ml_err_nomem(e);
			for (q = *nmap; q < n; q++)
				m[q] = class_of(a, tc->dict.str[q]);
			*map = m;
			*nmap = n;
		}
		*c = (*map)[code];
		*s = tc->dict.str[code];
	} else {
		double v = in->col[j].num[i];
		if (isnan(v))
			return 0;
		ml_fmt_double(buf, v);
		*s = buf;
		*c = class_of(a, buf);
	}
	if (*c < 0)
		*c = -2;
	return 0;
}

/* Row i's truth: the class (classification; -1 missing) or the value (NaN missing). A
 * label that is no class is ML_E_DATA. */
static int truth_of(struct ml_adaptive *a, const struct ml_block *in, size_t i, long line,
		    double *y, struct ml_err *e)
{
	char buf[ML_FMT_DOUBLE_MAX + 1], q[80];
	const char *s = "";
	int c, rc;

	if (!classify(a)) {
		*y = in->col[a->tcol].num[i];
		return 0;
	}
	*y = -1;
	if ((rc = label_class(a, a->tcol, &a->tmap, &a->ntmap, in, i, buf, &s, &c, e)) < 0)
		return rc;
	if (c == -2)
		return ml_err_set(e, ML_E_DATA, a->name, line, a->tcol + 1,
				  "the truth '%s' in column '%s' is none of the members' classes",
				  ml_err_quote(q, sizeof(q), s, strlen(s)), a->target);
	*y = c;
	return 0;
}

/* Member k's answers on row i into p[0..KK): its probabilities, or for a member that
 * gives a label alone 1 for that class and 0 for the others (NaN for a missing label). A
 * label that is no class is ML_E_DATA. */
static int member_answers(struct ml_adaptive *a, int k, const struct ml_block *in, size_t i,
			  long line, double *p, struct ml_err *e)
{
	char buf[ML_FMT_DOUBLE_MAX + 1], q[80];
	int KK = per_member(a), j = a->mcol[k * KK], c, cl, rc;
	const char *s = "";

	if (!a->hard[k]) {
		for (c = 0; c < KK; c++)
			p[c] = in->col[a->mcol[k * KK + c]].num[i];
		return 0;
	}
	if ((rc = label_class(a, j, &a->hmap[k], &a->nhmap[k], in, i, buf, &s, &cl, e)) < 0)
		return rc;
	if (cl == -2)
		return ml_err_set(e, ML_E_DATA, a->name, line, j + 1,
				  "member '%s' answers '%s' in column '%s', none of the classes",
				  a->member[k], ml_err_quote(q, sizeof(q), s, strlen(s)),
				  a->in->cols[j].name);
	for (c = 0; c < KK; c++)
		p[c] = cl < 0 ? NAN : c == cl;
	return 0;
}

static int time_of(struct ml_adaptive *a, const struct ml_block *in, size_t i, long line,
		   double *t, struct ml_err *e)
{
	const struct ml_col *tc;
	char q[80];

	*t = NAN;
	if (a->timecol < 0)
		return 0;
	tc = &a->in->cols[a->timecol];
	if (tc->type == ML_NUM) {
		*t = in->col[a->timecol].num[i];
	} else if (in->col[a->timecol].cat[i] >= 0) {
		int32_t code = in->col[a->timecol].cat[i];
		if (ml_parse_time(tc->dict.str[code], tc->dict.len[code], t) < 0)
			return ml_err_set(e, ML_E_DATA, a->name, line, a->timecol + 1,
					  "cannot parse '%s' as a time in column '%s'",
					  ml_err_quote(q, sizeof(q), tc->dict.str[code], tc->dict.len[code]),
					  a->time_col);
	}
	if (a->seconds > 0 && isnan(*t))
		return ml_err_set(e, ML_E_DATA, a->name, line, a->timecol + 1,
				  "no time in column '%s' (a window of a duration needs one on every row)",
				  a->time_col);
	if (a->seconds > 0 && *t < a->last_time) {
		char x[ML_FMT_DOUBLE_MAX + 1], y[ML_FMT_DOUBLE_MAX + 1];
		ml_fmt_double(x, *t);
		ml_fmt_double(y, a->last_time);
		return ml_err_set(e, ML_E_DATA, a->name, line, a->timecol + 1,
				  "time %s in column '%s' is before the last row's (%s): rows must come "
				  "in time order",
				  x, a->time_col, y);
	}
	if (!isnan(*t))
		a->last_time = *t;
	return 0;
}

/* Combine row i's answers with the current weights into out (KK values): the members with
 * every answer present, their weights scaled to sum to one. Returns the class (-1: none),
 * or 0 for a regression. */
static int combine(const struct ml_adaptive *a, const double *p, double *out)
{
	int KK = per_member(a), k, c, best = -1, m;
	double tot = 0;

	for (k = 0, m = 0; k < a->n; k++) {
		int ok = 1;
		for (c = 0; c < KK; c++)
			ok &= !isnan(p[k * KK + c]);
		if (ok) {
			tot += a->w[k];
			m++;
		}
	}
	for (c = 0; c < KK; c++) {
		double s = 0;
		for (k = 0; k < a->n; k++) {
			int ok = 1, d;
			for (d = 0; d < KK; d++)
				ok &= !isnan(p[k * KK + d]);
			if (ok)
				s += (tot > 0 ? a->w[k] / tot : 1.0 / m) * p[k * KK + c];
		}
		out[c] = m ? s : NAN;
	}
	if (!classify(a))
		return 0;
	for (c = 0; c < KK; c++)
		if (!isnan(out[c]) && (best < 0 || out[c] > out[best]))
			best = c;
	return best;
}

/* Member k's loss on a row of truth y (NaN when its answers are missing). */
static double member_loss(const struct ml_adaptive *a, const double *p, int k, double y)
{
	int KK = per_member(a), c, best = 0;
	const double *q = p + k * KK;

	for (c = 0; c < KK; c++)
		if (isnan(q[c]))
			return NAN;
	switch (a->metric) {
	case ML_ADA_LOGLOSS:
		return -log(fmax(q[(int)y], PROB_FLOOR));
	case ML_ADA_ACCURACY:
		for (c = 1; c < KK; c++)
			if (q[c] > q[best])
				best = c;
		return best == (int)y ? 0 : 1;
	default:
		return fabs(q[0] - y);
	}
}

static int sync_dicts(struct ml_adaptive *a, struct ml_err *e)
{
	int j;

	for (j = 0; j < a->nkeep; j++) {
		const struct ml_dict *d = &a->in->cols[a->keep[j]].dict;
		struct ml_dict *o = &a->out.cols[j].dict;
		if (a->out.cols[j].type != ML_CAT)
			continue;
		while (o->n < d->n)
			if (ml_dict_intern(o, d->str[o->n], d->len[o->n]) < 0)
				return ml_err_nomem(e);
	}
	return 0;
}

int ml_adaptive_apply(struct ml_adaptive *a, const struct ml_block *in,
		      const struct ml_block **out, struct ml_err *e)
{
	size_t n = in->nrow, i;
	int KK = per_member(a), k, c, j, rc;
	double *comb = a->p + (size_t)a->n * (size_t)KK;

	if ((rc = sync_dicts(a, e)) < 0)
		return rc;
	if (n > a->cap) {
		free(a->cols);
		free(a->lab);
		a->cols = malloc(n * (size_t)KK * sizeof(double));
		a->lab = malloc(n * sizeof(int32_t));
		a->cap = a->cols && a->lab ? n : 0;
		if (!a->cap)
			return ml_err_nomem(e);
	}
	for (i = 0; i < n; i++) {
		long line = in->line ? in->line[i] : 0;
		double t, y;
		int best, learnt = 0;
		a->rows++;
		if ((rc = time_of(a, in, i, line, &t, e)) < 0 ||
		    (rc = truth_of(a, in, i, line, &y, e)) < 0)
			return rc;
		for (k = 0; k < a->n; k++)
			if ((rc = member_answers(a, k, in, i, line, a->p + k * KK, e)) < 0)
				return rc;
		/* The answer first, with the weights of the rows before; then the truth. */
		best = combine(a, a->p, comb);
		for (c = 0; c < KK; c++)
			a->cols[(size_t)c * n + i] = comb[c];
		a->lab[i] = best;
		if (classify(a) ? y >= 0 : !isnan(y)) {
			for (k = 0; k < a->n; k++) {
				a->loss[k] = member_loss(a, a->p, k, y);
				learnt |= !isnan(a->loss[k]);
			}
			if (learnt && (rc = learn(a, t, a->loss, e)) < 0)
				return rc;
		}
	}
	for (j = 0; j < a->nkeep; j++)
		a->vcol[j] = in->col[a->keep[j]];
	if (classify(a)) {
		a->vcol[a->nkeep].cat = a->lab;
		for (c = 0; c < a->K; c++)
			a->vcol[a->nkeep + 1 + c].num = a->cols + (size_t)c * n;
	} else {
		a->vcol[a->nkeep].num = a->cols;
	}
	a->view.nrow = a->view.cap = n;
	a->view.line = in->line;
	*out = &a->view;
	return 0;
}

/* --- The state as an artefact ---------------------------------------------------------------- */

static cJSON *string_array(char *const *v, int n)
{
	cJSON *arr = cJSON_CreateArray();
	int k;

	for (k = 0; arr && k < n; k++) {
		cJSON *s = cJSON_CreateString(v[k]);
		if (!s || !cJSON_AddItemToArray(arr, s)) {
			cJSON_Delete(s);
			cJSON_Delete(arr);
			return NULL;
		}
	}
	return arr;
}

/* The metadata: what the state was started with, then where it stands. */
static cJSON *state_json(const struct ml_adaptive *a)
{
	cJSON *o = cJSON_CreateObject(), *win = cJSON_CreateObject(), *w = cJSON_CreateObject();
	int k, bad = !o || !win || !w;

	if (bad) {
		cJSON_Delete(o);
		cJSON_Delete(win);
		cJSON_Delete(w);
		return NULL;
	}
	bad |= !cJSON_AddStringToObject(o, "method", "adaptive");
	bad |= !cJSON_AddItemToObject(o, "members", string_array(a->member, a->n));
	bad |= !cJSON_AddStringToObject(o, "metric", metric_names[a->metric]);
	bad |= !cJSON_AddStringToObject(o, "target", a->target);
	if (a->time_col)
		bad |= !cJSON_AddStringToObject(o, "time_col", a->time_col);
	if (a->window > 0)
		bad |= !cJSON_AddNumberToObject(win, "rows", (double)a->window);
	else
		bad |= !cJSON_AddNumberToObject(win, "seconds", a->seconds);
	bad |= !cJSON_AddItemToObject(o, "window", win);
	bad |= !cJSON_AddNumberToObject(o, "smoothing", a->smoothing);
	if (classify(a))
		bad |= !cJSON_AddItemToObject(o, "classes", string_array(a->cls, a->K));
	bad |= !cJSON_AddNumberToObject(o, "rows", (double)a->rows);
	bad |= !cJSON_AddNumberToObject(o, "updates", (double)a->updates);
	if (!isnan(a->last_time))
		bad |= !cJSON_AddNumberToObject(o, "last_time", a->last_time);
	for (k = 0; k < a->n; k++)
		bad |= !cJSON_AddNumberToObject(w, a->member[k], a->w[k]);
	bad |= !cJSON_AddItemToObject(o, "weights", w);
	if (bad) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

int ml_adaptive_to_model(const struct ml_adaptive *a, struct ml_model **out, struct ml_err *e)
{
	struct ml_model *m = ml_model_new("adaptive", "inverse-loss");
	struct ml_wbuf b;
	cJSON *meta = state_json(a), *it;
	size_t i;
	int k, rc = 0;

	*out = NULL;
	ml_wbuf_init(&b);
	if (!m || !meta) {
		rc = ml_err_nomem(e);
		goto done;
	}
	for (it = meta->child; it && rc == 0; it = it->next) {
		char *txt = cJSON_PrintUnformatted(it);
		rc = txt ? ml_model_meta_set(m, it->string, txt, e) : ml_err_nomem(e);
		free(txt);
	}
	if (rc < 0)
		goto done;
	ml_wbuf_u32(&b, STATE_VERSION);
	ml_wbuf_u32(&b, (uint32_t)a->n);
	ml_wbuf_u64(&b, a->rows);
	ml_wbuf_u64(&b, a->updates);
	ml_wbuf_f64(&b, a->last_time);
	ml_wbuf_f64v(&b, a->w, (size_t)a->n);
	ml_wbuf_f64v(&b, a->sum, (size_t)a->n);
	for (k = 0; k < a->n; k++)
		ml_wbuf_u64(&b, a->cnt[k]);
	ml_wbuf_u64(&b, a->wlen);
	for (i = 0; i < a->wlen; i++) {
		ml_wbuf_f64(&b, entry_time(a, i));
		ml_wbuf_f64v(&b, entry(a, i), (size_t)a->n);
	}
	ml_wbuf_u32(&b, (uint32_t)a->hlen);
	for (i = 0; i < a->hlen; i++)
		ml_wbuf_f64v(&b, a->hist + ((a->hhead + i) % ML_ADA_HISTORY) * HCOLS(a), HCOLS(a));
	if (b.err)
		rc = ml_err_nomem(e);
	else
		rc = ml_model_add(m, "state", b.p, b.n, e);
done:
	cJSON_Delete(meta);
	ml_wbuf_release(&b);
	if (rc < 0)
		ml_model_free(m);
	else
		*out = m;
	return rc;
}

static int damaged(struct ml_err *e, const char *name, const char *what)
{
	return ml_err_set(e, ML_E_DATA, name, 0, 0, "a damaged adaptive ensemble state: %s", what);
}

/* An array of n strings (n read from it when *n < 0), or NULL. */
static char **strings_of(const cJSON *arr, int *n)
{
	char **v;
	int k;

	if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) < 1 || cJSON_GetArraySize(arr) > 4096)
		return NULL;
	*n = cJSON_GetArraySize(arr);
	if (!(v = calloc((size_t)*n, sizeof(*v))))
		return NULL;
	for (k = 0; k < *n; k++) {
		const cJSON *s = cJSON_GetArrayItem(arr, k);
		if (!cJSON_IsString(s) || !(v[k] = strdup(s->valuestring))) {
			while (k-- > 0)
				free(v[k]);
			free(v);
			return NULL;
		}
	}
	return v;
}

static const char *json_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double json_num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* Whether the settings of o (those it sets) are the state's; else ML_E_DATA saying which. */
static int same_ensemble(const struct ml_adaptive *a, const struct ml_ada_opts *o,
			 const char *name, struct ml_err *e)
{
	const char *what = NULL;
	int k;

	if (o->members) {
		int same = o->nmember == a->n;
		for (k = 0; same && k < a->n; k++)
			same = strcmp(o->members[k], a->member[k]) == 0;
		if (!same)
			what = "its members (--members)";
	}
	if (!what && o->metric >= 0 && o->metric != a->metric)
		what = "its metric (--metric)";
	else if (!what && o->target && strcmp(o->target, a->target) != 0)
		what = "its target (-t)";
	else if (!what && o->time_col && (!a->time_col || strcmp(o->time_col, a->time_col) != 0))
		what = "its time column (--time-col)";
	else if (!what && (o->window > 0 || o->seconds > 0) &&
		 (o->window != a->window || o->seconds != a->seconds))
		what = "its window (--window)";
	else if (!what && !isnan(o->smoothing) && o->smoothing != a->smoothing)
		what = "its smoothing (--smoothing)";
	if (!what)
		return 0;
	return ml_err_set(e, ML_E_DATA, name, 0, 0,
			  "the state of another ensemble: %s differ%s from what the state was "
			  "started with (--init starts afresh)",
			  what, strncmp(what, "its members", 11) == 0 ? "" : "s");
}

static int read_state(struct ml_adaptive *a, const struct ml_model *m, const char *name,
		      struct ml_err *e)
{
	const void *data;
	size_t len, i, nw;
	struct ml_rbuf r;
	double tot = 0;
	int k, rc;

	if ((rc = ml_model_get(m, "state", &data, &len, e)) < 0)
		return rc;
	ml_rbuf_init(&r, data, len);
	if (ml_rbuf_u32(&r) != STATE_VERSION || ml_rbuf_u32(&r) != (uint32_t)a->n)
		return damaged(e, name, "an unknown version, or another member count");
	a->rows = ml_rbuf_u64(&r);
	a->updates = ml_rbuf_u64(&r);
	a->last_time = ml_rbuf_f64(&r);
	ml_rbuf_f64v(&r, a->w, (size_t)a->n);
	ml_rbuf_f64v(&r, a->sum, (size_t)a->n);
	for (k = 0; k < a->n; k++)
		a->cnt[k] = ml_rbuf_u64(&r);
	nw = ml_rbuf_count(&r, ml_rbuf_u64(&r), (1 + (size_t)a->n) * sizeof(double));
	if (r.err || (a->window > 0 && nw > (size_t)a->window))
		return damaged(e, name, "a window longer than its length");
	if (nw) {
		a->wcap = nw;
		a->wtime = malloc(nw * sizeof(double));
		a->wloss = malloc(nw * (size_t)a->n * sizeof(double));
		if (!a->wtime || !a->wloss)
			return ml_err_nomem(e);
		for (i = 0; i < nw; i++) {
			a->wtime[i] = ml_rbuf_f64(&r);
			ml_rbuf_f64v(&r, a->wloss + i * (size_t)a->n, (size_t)a->n);
		}
		a->wlen = nw;
	}
	a->hlen = ml_rbuf_u32(&r);
	if (a->hlen > ML_ADA_HISTORY || a->hlen > a->updates)
		return damaged(e, name, "a history longer than its length");
	for (i = 0; i < a->hlen; i++)
		ml_rbuf_f64v(&r, a->hist + i * HCOLS(a), HCOLS(a));
	if (r.err || r.off != r.n)
		return damaged(e, name, "a state section of the wrong length");
	for (k = 0; k < a->n; k++) {
		if (!(a->w[k] >= 0 && a->w[k] <= 1) || !isfinite(a->sum[k]) || a->cnt[k] > nw)
			return damaged(e, name, "a weight or a window sum out of range");
		tot += a->w[k];
	}
	if (!(fabs(tot - 1) < 1e-6))
		return damaged(e, name, "weights that do not sum to one");
	return 0;
}

int ml_adaptive_from_model(struct ml_adaptive **out, const struct ml_model *m,
			   const char *name, const struct ml_ada_opts *o, struct ml_err *e)
{
	struct ml_adaptive *a = NULL;
	struct ml_ada_opts s;
	cJSON *meta = NULL;
	const cJSON *win;
	char *txt = ml_model_meta_json(m), **member = NULL, **cls = NULL;
	int nmember = 0, ncls = 0, rc = 0, k;

	*out = NULL;
	if (!name)
		name = "";
	if (!txt || !(meta = cJSON_Parse(txt))) {
		free(txt);
		return ml_err_nomem(e);
	}
	free(txt);
	if (strcmp(ml_model_kind(m), "adaptive") != 0) {
		rc = ml_err_set(e, ML_E_DATA, name, 0, 0,
				"a '%s' artefact, not the state of an adaptive ensemble",
				ml_model_kind(m));
		goto done;
	}
	ml_ada_opts_init(&s);
	member = strings_of(cJSON_GetObjectItemCaseSensitive(meta, "members"), &nmember);
	win = cJSON_GetObjectItemCaseSensitive(meta, "window");
	s.members = (const char *const *)member;
	s.nmember = nmember;
	s.metric = json_str(meta, "metric") ? ml_ada_metric_find(json_str(meta, "metric")) : -1;
	s.target = json_str(meta, "target");
	s.time_col = json_str(meta, "time_col");
	s.smoothing = json_num(meta, "smoothing");
	if (cJSON_GetObjectItemCaseSensitive(win, "rows")) {
		double v = json_num(win, "rows");
		s.window = v >= 1 && v <= 1e9 && v == floor(v) ? (long)v : -1;
	} else {
		s.seconds = json_num(win, "seconds");
	}
	if (!member || nmember < 2 || s.metric < 0 || !s.target || s.window < 0 ||
	    !((s.window > 0) != (s.seconds > 0 && isfinite(s.seconds))) ||
	    (s.seconds > 0 && !s.time_col) || !(s.smoothing > 0 && s.smoothing <= 1)) {
		rc = damaged(e, name, "its settings (members, metric, target, window, smoothing)");
		goto done;
	}
	if (!(a = alloc_state(&s, e))) {
		rc = e ? e->code : ML_E_NOMEM;
		goto done;
	}
	if (s.metric != ML_ADA_MAE) {
		if (!(cls = strings_of(cJSON_GetObjectItemCaseSensitive(meta, "classes"), &ncls)) ||
		    ncls < 2) {
			rc = damaged(e, name, "no classes");
			goto done;
		}
		a->cls = cls;
		a->K = ncls;
		cls = NULL;
	}
	if ((rc = read_state(a, m, name, e)) < 0)
		goto done;
	if (o && (rc = same_ensemble(a, o, name, e)) < 0)
		goto done;
	*out = a;
	a = NULL;
done:
	for (k = 0; member && k < nmember; k++)
		free(member[k]);
	free(member);
	for (k = 0; cls && k < ncls; k++)
		free(cls[k]);
	free(cls);
	ml_adaptive_free(a);
	cJSON_Delete(meta);
	return rc;
}

/* --- The kind ---------------------------------------------------------------------------- */

static int ak_open(void **state, const struct ml_model *m, const char *name, struct ml_err *e)
{
	struct ml_adaptive *a;
	int rc = ml_adaptive_from_model(&a, m, name, NULL, e);

	*state = rc < 0 ? NULL : a;
	return rc;
}

static void ak_close(void *state)
{
	ml_adaptive_free(state);
}

static const char *const *ak_tables(const void *state)
{
	static const char *const t[] = {"weights", "history", NULL};
	(void)state;
	return t;
}

/* weights: member, weight, window_loss (the mean), window_rows; history: update, row,
 * time, then each member's weight after that update (w_NAME), oldest first. */
static int ak_table(const void *state, const char *name, struct ml_frame *out, struct ml_err *e)
{
	const struct ml_adaptive *a = state;
	static const char *const wcols[] = {"member", "weight", "window_loss", "window_rows"};
	static const char *const hcols[] = {"update", "row", "time"};
	char col[1100];
	size_t i;
	int k, rc;

	if (strcmp(name, "weights") == 0) {
		for (k = 0; k < 4; k++)
			if (ml_schema_add(&out->schema, wcols[k], k ? ML_NUM : ML_CAT) < 0)
				return ml_err_nomem(e);
		if ((rc = ml_block_init(&out->rows, &out->schema, (size_t)a->n, e)) < 0)
			return rc;
		for (k = 0; k < a->n; k++) {
			int32_t c = ml_dict_intern(&out->schema.cols[0].dict, a->member[k],
						   strlen(a->member[k]));
			if (c < 0)
				return ml_err_nomem(e);
			out->rows.col[0].cat[k] = c;
			out->rows.col[1].num[k] = a->w[k];
			out->rows.col[2].num[k] = a->cnt[k] ? a->sum[k] / (double)a->cnt[k] : NAN;
			out->rows.col[3].num[k] = (double)a->cnt[k];
		}
		out->rows.nrow = (size_t)a->n;
		return 0;
	}
	if (strcmp(name, "history") != 0)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "an adaptive ensemble state has no table '%s' (tables: weights, "
				  "history)",
				  name);
	for (k = 0; k < 3 + a->n; k++) {
		if (k < 3)
			snprintf(col, sizeof(col), "%s", hcols[k]);
		else
			snprintf(col, sizeof(col), "w_%s", a->member[k - 3]);
		if (ml_schema_add(&out->schema, col, ML_NUM) < 0)
			return ml_err_nomem(e);
	}
	if ((rc = ml_block_init(&out->rows, &out->schema, a->hlen ? a->hlen : 1, e)) < 0)
		return rc;
	for (i = 0; i < a->hlen; i++) {
		const double *h = a->hist + ((a->hhead + i) % ML_ADA_HISTORY) * HCOLS(a);
		for (k = 0; k < 3 + a->n; k++)
			out->rows.col[k].num[i] = h[k];
	}
	out->rows.nrow = a->hlen;
	return 0;
}

const struct ml_kind ml_kind_adaptive = {
	.name = "adaptive",
	.flags = 0,
	.open = ak_open,
	.close = ak_close,
	.tables = ak_tables,
	.table = ak_table,
};
