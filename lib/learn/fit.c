/* Fitting from frames: the task, the target classes, the feature columns and their design,
 * and the true class codes of rows for metrics. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml/num.h"
#include "learn_int.h"
#include "core/sort.h"

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The task for target column tcol of rows of fr (see ml_task_resolve), or a negative
 * ML_E_*. */
static int task_of(const struct ml_frame *fr, int tcol, const size_t *rows, size_t n,
		   enum ml_task task, const char *where, struct ml_err *e)
{
	const struct ml_col *tc = &fr->schema.cols[tcol];
	double a = NAN, b = NAN;
	int other = 0;
	size_t i;

	if (tc->type == ML_CAT) {
		if (task == ML_TASK_REGRESS)
			return ml_err_set(e, ML_E_DATA, where, 0, tcol + 1,
					  "target column '%s' is categorical: it cannot be regressed "
					  "(use --task classify, or --num %s if it holds numbers)",
					  tc->name, tc->name);
		return ML_TASK_CLASSIFY;
	}
	if (task != ML_TASK_AUTO)
		return task;
	/* Exactly two distinct values classify; missing values do not count. The first two
	 * found, the other rows are compared with them without a branch on the data (labels in
	 * random order would mispredict half the time). */
	for (i = 0; i < n; i++) {
		double v = fr->rows.col[tcol].num[rows ? rows[i] : i];
		if (v != v)
			continue;
		if (a != a)
			a = v;
		else if (v != a) {
			b = v;
			break;
		}
	}
	if (b != b)
		return ML_TASK_REGRESS;
	for (i++; i < n; i++) {
		double v = fr->rows.col[tcol].num[rows ? rows[i] : i];
		other |= (v == v) & (v != a) & (v != b);
	}
	return other ? ML_TASK_REGRESS : ML_TASK_CLASSIFY;
}

int ml_task_resolve(const struct ml_frame *f, const size_t *rows, size_t n, const char *target,
		    enum ml_task task, enum ml_task *out, struct ml_err *e)
{
	int tcol = ml_schema_find(&f->schema, target), rc;

	if (tcol < 0)
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "no target column '%s'", target);
	rc = task_of(f, tcol, rows, rows ? n : f->rows.nrow, task, NULL, e);
	if (rc < 0)
		return rc;
	*out = (enum ml_task)rc;
	return 0;
}

/* Choose the target's task and classes and fill y (class indices or values). */
static int setup_target(struct ml_learner *l, const struct ml_frame *fr, int tcol,
			const size_t *rows, size_t n, enum ml_task task, double *y,
			const char *where, struct ml_err *e)
{
	const struct ml_col *tc = &fr->schema.cols[tcol];
	size_t i;
	int k;

	l->target_type = tc->type;
	for (i = 0; i < n; i++) {
		size_t r = rows ? rows[i] : i;
		int miss = tc->type == ML_NUM ? fr->rows.col[tcol].num[r] != fr->rows.col[tcol].num[r] :
			fr->rows.col[tcol].cat[r] < 0;
		if (miss)
			return ml_err_set(e, ML_E_DATA, where, ml_learn_row_line(fr, r), tcol + 1,
					  "missing value in target column '%s'", tc->name);
	}
	if ((k = task_of(fr, tcol, rows, n, task, where, e)) < 0)
		return k;
	task = (enum ml_task)k;
	l->task = task;
	if (task == ML_TASK_REGRESS) {
		for (i = 0; i < n; i++)
			y[i] = fr->rows.col[tcol].num[rows ? rows[i] : i];
		l->nclass = 0;
		return 0;
	}
	if (tc->type == ML_CAT) {
		/* Labels present in the rows, sorted by bytes. */
		const struct ml_dict *d = &tc->dict;
		char *seen = calloc((size_t)(d->n ? d->n : 1), 1);
		int32_t *idx;
		if (!seen)
			return ml_err_nomem(e);
		for (i = 0; i < n; i++)
			seen[fr->rows.col[tcol].cat[rows ? rows[i] : i]] = 1;
		for (k = 0; k < d->n; k++)
			l->nclass += seen[k];
		l->classes = calloc((size_t)(l->nclass ? l->nclass : 1), sizeof(char *));
		idx = malloc((size_t)(d->n ? d->n : 1) * sizeof(*idx));
		if (!l->classes || !idx) {
			l->nclass = 0; /* ml_learner_free walks classes */
			free(seen);
			free(idx);
			return ml_err_nomem(e);
		}
		l->nclass = 0;
		for (k = 0; k < d->n; k++)
			if (seen[k] && !(l->classes[l->nclass++] = ml_learn_dup(d->str[k]))) {
				free(seen);
				free(idx);
				return ml_err_nomem(e);
			}
		qsort(l->classes, (size_t)l->nclass, sizeof(char *), cmp_str);
		for (k = 0; k < d->n; k++)
			idx[k] = -1;
		for (k = 0; k < l->nclass; k++)
			idx[ml_dict_find(d, l->classes[k], strlen(l->classes[k]))] = k;
		for (i = 0; i < n; i++)
			y[i] = idx[fr->rows.col[tcol].cat[rows ? rows[i] : i]];
		free(seen);
		free(idx);
	} else {
		double *v = malloc((n ? n : 1) * sizeof(double));
		size_t m = 0;
		if (!v)
			return ml_err_nomem(e);
		/* Distinct values, found without sorting every row: classes are few. */
		for (i = 0; i < n && m <= 1000; i++) {
			double t = fr->rows.col[tcol].num[rows ? rows[i] : i];
			size_t q;
			int seen = 0;
			if (m <= 8) {
				/* the usual few classes: compared with each, without branching */
				for (q = 0; q < m; q++)
					seen |= v[q] == t;
			} else if (t == v[m - 1]) {
				seen = 1;
			} else {
				for (q = 0; q < m && v[q] != t; q++)
					;
				seen = q < m;
			}
			if (!seen)
				v[m++] = t;
		}
		qsort(v, m, sizeof(double), ml_cmp_double);
		if (m > 1000) {
			free(v);
			return ml_err_set(e, ML_E_DATA, where, 0, tcol + 1,
					  "target column '%s' has %zu distinct numbers: too many classes "
					  "(use --task regress)",
					  tc->name, m);
		}
		l->nclass = (int)m;
		l->class_num = v;
		l->classes = calloc(m ? m : 1, sizeof(char *));
		if (!l->classes)
			return ml_err_nomem(e);
		for (k = 0; k < (int)m; k++) {
			char buf[ML_FMT_DOUBLE_MAX + 1];
			ml_fmt_double(buf, v[k]);
			if (!(l->classes[k] = ml_learn_dup(buf)))
				return ml_err_nomem(e);
		}
		for (i = 0; i < n; i++) {
			double t = fr->rows.col[tcol].num[rows ? rows[i] : i];
			size_t lo = 0, hi = m - 1, q;
			if (m <= 8) {
				/* the class's index: how many are below it, counted without
				 * branching */
				for (q = 0; q < m; q++)
					lo += v[q] < t;
				hi = lo;
			}
			while (lo < hi) {
				size_t mid = (lo + hi) / 2;
				if (v[mid] < t)
					lo = mid + 1;
				else
					hi = mid;
			}
			y[i] = (double)lo;
		}
	}
	if (l->nclass < 2)
		return ml_err_set(e, ML_E_DATA, where, 0, tcol + 1,
				  "target column '%s' has only one class ('%s'): nothing to learn",
				  tc->name, l->nclass ? l->classes[0] : "");
	return 0;
}

/* Feature columns: all but the target, the weight and the ignored ones. */
static int choose_features(struct ml_learner *l, const struct ml_frame *fr, int tcol, int wcol,
			   const struct ml_train_spec *spec, const size_t *rows, size_t n,
			   struct ml_err *e)
{
	const struct ml_schema *s = &fr->schema;
	char *skip = calloc((size_t)(s->ncol ? s->ncol : 1), 1);
	int j, rc = 0;
	size_t i;

	if (!skip)
		return ml_err_nomem(e);
	if (tcol >= 0)
		skip[tcol] = 1;
	if (wcol >= 0)
		skip[wcol] = 1;
	if (spec->ignore) {
		int *idx, cnt = ml_cols_parse(spec->ignore, s, 1, &idx, e);
		if (cnt < 0) {
			if (e) {
				char msg[sizeof(e->msg)];
				snprintf(msg, sizeof(msg), "--ignore: %.1000s", e->msg);
				memcpy(e->msg, msg, sizeof(msg));
			}
			free(skip);
			return cnt;
		}
		for (j = 0; j < cnt; j++)
			skip[idx[j]] = 1;
		free(idx);
	}
	l->feat = calloc((size_t)(s->ncol ? s->ncol : 1), sizeof(*l->feat));
	if (!l->feat) {
		free(skip);
		return ml_err_nomem(e);
	}
	for (j = 0; j < s->ncol; j++) {
		struct feat *f;
		if (skip[j])
			continue;
		f = &l->feat[l->nfeat++];
		f->name = ml_learn_dup(s->cols[j].name);
		f->type = s->cols[j].type;
		ml_dict_init(&f->levels);
		if (!f->name) {
			rc = ml_err_nomem(e);
			break;
		}
		if (f->type == ML_CAT && !ml_learn_is_time(l->algo, &l->params, f)) {
			/* Levels seen in the training rows, sorted by bytes (a time column's text
			 * is parsed instead: ml_learn_encode_feat). */
			const struct ml_dict *d = &s->cols[j].dict;
			char *seen = calloc((size_t)(d->n ? d->n : 1), 1);
			char **names = malloc((size_t)(d->n ? d->n : 1) * sizeof(char *));
			int32_t k, m = 0;
			if (!seen || !names) {
				free(seen);
				free(names);
				rc = ml_err_nomem(e);
				break;
			}
			size_t np = 0;
			for (i = 0; i < n; i++) {
				int32_t c = fr->rows.col[j].cat[rows ? rows[i] : i];
				if (c >= 0) {
					seen[c] = 1;
					np++;
				}
			}
			for (k = 0; k < d->n; k++)
				if (seen[k])
					names[m++] = d->str[k];
			if (!spec->allow_ids && m > ML_ID_LEVELS && (size_t)m * 10 >= np * 9) {
				/* An identifier (or free text): a feature per row learns nothing
				 * and costs a column per level. */
				char q[160];
				free(seen);
				free(names);
				ml_err_quote(q, sizeof(q), s->cols[j].name, strlen(s->cols[j].name));
				rc = ml_err_set(e, ML_E_DATA, spec->name, 0, j + 1,
						"column '%s' looks like an identifier (%d distinct values "
						"in %zu rows): leave it out with --ignore '%s', or give "
						"--allow-ids to learn from it",
						q, (int)m, np, q);
				break;
			}
			qsort(names, (size_t)m, sizeof(char *), cmp_str);
			for (k = 0; k < m && rc == 0; k++)
				if (ml_dict_intern(&f->levels, names[k], strlen(names[k])) < 0)
					rc = ml_err_nomem(e);
			free(seen);
			free(names);
			if (rc)
				break;
		}
	}
	free(skip);
	if (rc == 0 && l->nfeat == 0)
		rc = ml_err_set(e, ML_E_DATA, NULL, 0, 0, "no feature columns left to learn from");
	return rc;
}

/* The design of rows of a frame: columns of the frame itself where a numeric feature's
 * values can be used as they are (every row in order, no missing value the algorithm
 * refuses), the others encoded into buf. */
struct design {
	double *buf;
	const double **col; /* per encoded column */
	const double *X;    /* buf when it holds every column in order, else NULL */
};

static void design_release(struct design *ds)
{
	free(ds->buf);
	free(ds->col);
	memset(ds, 0, sizeof(*ds));
}

/* May feature j (column c of fr) be used as it is, for rows that are the frame's first n
 * in order? */
static int as_is(const struct ml_learner *l, const struct ml_frame *fr, int j, int c, size_t n)
{
	const double *v = fr->rows.col[c].num;
	size_t i;

	if (l->feat[j].type != ML_NUM)
		return 0;
	if (l->algo->flags & ML_ALGO_MISSING)
		return 1;
	for (i = 0; i < n; i++)
		if (v[i] != v[i])
			return 0;
	return 1;
}

static int design_frame(const struct ml_learner *l, const struct ml_frame *fr, const size_t *rows,
			size_t n, const char *where, struct design *ds, struct ml_err *e)
{
	int *col = malloc((size_t)l->nfeat * sizeof(int));
	int32_t **map = calloc((size_t)l->nfeat, sizeof(*map));
	char *keep = calloc((size_t)l->nfeat + 1, 1);
	size_t width = 0, at = 0, i;
	int j, w, rc = 0, in_order = 1;

	memset(ds, 0, sizeof(*ds));
	ds->col = malloc((size_t)(l->p ? l->p : 1) * sizeof(*ds->col));
	if (!col || !map || !keep || !ds->col) {
		rc = ml_err_nomem(e);
		goto out;
	}
	for (i = 0; rows && i < n && in_order; i++)
		in_order = rows[i] == i;
	for (j = 0; j < l->nfeat; j++) {
		col[j] = ml_schema_find(&fr->schema, l->feat[j].name);
		keep[j] = (char)(in_order && as_is(l, fr, j, col[j], n));
		if (!keep[j])
			width += (size_t)l->feat[j].width;
		if (l->feat[j].type == ML_CAT &&
		    !(map[j] = ml_learn_level_map(&l->feat[j], &fr->schema.cols[col[j]].dict))) {
			rc = ml_err_nomem(e);
			goto out;
		}
	}
	if (width && !(ds->buf = malloc(n * width * sizeof(double)))) {
		rc = ml_err_nomem(e);
		goto out;
	}
	for (j = 0; j < l->nfeat && rc == 0; j++) {
		const struct feat *f = &l->feat[j];
		if (keep[j]) {
			ds->col[f->first] = fr->rows.col[col[j]].num;
			continue;
		}
		rc = ml_learn_encode_feat(l, j, &fr->rows, col[j], map[j], rows, 0, n, ds->buf + at * n, n,
				 where, e);
		for (w = 0; w < f->width; w++)
			ds->col[f->first + w] = ds->buf + (at + (size_t)w) * n;
		at += (size_t)f->width;
	}
	ds->X = width == (size_t)l->p ? ds->buf : NULL;
out:
	if (map)
		for (j = 0; j < l->nfeat; j++)
			free(map[j]);
	free(map);
	free(col);
	free(keep);
	if (rc < 0)
		design_release(ds);
	return rc;
}

const double *ml_data_dense(const struct ml_data *d, double **buf)
{
	int j;

	*buf = NULL;
	if (d->X)
		return d->X;
	if (!(*buf = malloc((d->n ? d->n : 1) * (size_t)(d->p ? d->p : 1) * sizeof(double))))
		return NULL;
	for (j = 0; j < d->p; j++)
		memcpy(*buf + (size_t)j * d->n, d->col[j], d->n * sizeof(double));
	return *buf;
}

/* What a fit works on: the rows' design, targets and weights, for the training rows and
 * for the validation rows. */
struct fitset {
	struct design dX, dV;
	double *y, *w, *vy, *vw;
};

static void fitset_release(struct fitset *fs)
{
	design_release(&fs->dX);
	design_release(&fs->dV);
	free(fs->y);
	free(fs->w);
	free(fs->vy);
	free(fs->vw);
}

/* The target column (-1 for an unsupervised fit) and the weight column (-1 for none),
 * checked against what the algorithm does. */
static int find_columns(const struct ml_algo *a, const struct ml_frame *fr,
			const struct ml_train_spec *spec, int *tcol, int *wcol, struct ml_err *e)
{
	*tcol = *wcol = -1;
	if (!spec->target) {
		if (!(a->flags & ML_ALGO_UNSUPERVISED))
			return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
					  "-a %s learns from a target: name its column with -t",
					  a->name);
	} else {
		if (!(a->flags & (ML_ALGO_CLASSIFY | ML_ALGO_REGRESS)))
			return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
					  "-a %s fits without a target (no -t)", a->name);
		*tcol = ml_schema_find(&fr->schema, spec->target);
		if (*tcol < 0)
			return ml_err_set(e, ML_E_DATA, spec->name, 0, 0, "no target column '%s'",
					  spec->target);
	}
	if (spec->weight) {
		*wcol = ml_schema_find(&fr->schema, spec->weight);
		if (*wcol < 0 || fr->schema.cols[*wcol].type != ML_NUM)
			return ml_err_set(e, ML_E_DATA, spec->name, 0, 0,
					  *wcol < 0 ? "no weight column '%s'" :
						      "weight column '%s' is not numeric",
					  spec->weight);
	}
	return 0;
}

/* A regressor given a text target: the first value that is not a number, with its line,
 * says why the column was read as text. */
static int text_target(const struct ml_algo *a, const struct ml_frame *fr, int tcol,
		       const size_t *rows, size_t n, const char *where, struct ml_err *e)
{
	const struct ml_col *tc = &fr->schema.cols[tcol];
	size_t i;

	for (i = 0; i < n; i++) {
		size_t r = rows ? rows[i] : i;
		int32_t c = fr->rows.col[tcol].cat[r];
		const char *s = tc->dict.str[c];
		double v;

		if (ml_parse_double(s, tc->dict.len[c], &v) != 0)
			return ml_err_set(e, ML_E_DATA, where, ml_learn_row_line(fr, r), tcol + 1,
					  "-a %s does not classify, and target '%s' is text ('%s'; %d "
					  "distinct values): choose a classifier, give --na '%s' if it "
					  "marks a missing value, or fix the value",
					  a->name, tc->name, s, (int)tc->dict.n, s);
	}
	return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
			  "-a %s does not classify, and target '%s' was read as text (--cat?)",
			  a->name, tc->name);
}

/* The task the target gives, checked against the algorithm and the spec. */
static int check_task(const struct ml_learner *l, const struct ml_train_spec *spec,
		      const struct ml_frame *fr, int tcol, const size_t *rows, size_t n,
		      struct ml_err *e)
{
	const struct ml_algo *a = l->algo;

	if (l->task == ML_TASK_CLASSIFY && !(a->flags & ML_ALGO_CLASSIFY)) {
		if (l->target_type == ML_NUM)
			return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
					  "-a %s does not classify (target '%s'; --task regress "
					  "fits its values)", a->name, l->target);
		return text_target(a, fr, tcol, rows, n, spec->name, e);
	}
	if (l->task == ML_TASK_REGRESS && !(a->flags & ML_ALGO_REGRESS))
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "-a %s does not regress (target '%s')",
				  a->name, l->target);
	if (spec->balanced && l->task != ML_TASK_CLASSIFY)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  l->task == ML_TASK_UNSUPERVISED ?
					  "--class-weight balanced needs a classification target" :
					  "--class-weight balanced needs a classification target ('%s' "
					  "is regressed)",
				  l->target);
	return 0;
}

/* Row weights from column wcol (or 1), times the balanced class weights when asked; rows
 * rows[0..n) (NULL: the first n), naming input where in errors. */
static int make_weights(const struct ml_learner *l, const struct ml_frame *fr, int wcol,
			const size_t *rows, size_t n, const double *y, int balanced,
			const char *wname, const char *where, double **out, struct ml_err *e)
{
	double *w = malloc((n ? n : 1) * sizeof(double));
	size_t i;

	if (!(*out = w))
		return ml_err_nomem(e);
	for (i = 0; i < n; i++) {
		size_t r = rows ? rows[i] : i;
		w[i] = wcol >= 0 ? fr->rows.col[wcol].num[r] : 1;
		if (!(w[i] >= 0) || !isfinite(w[i]))
			return ml_err_set(e, ML_E_DATA, where, ml_learn_row_line(fr, r), wcol + 1,
					  "weight in column '%s' must be a finite number >= 0", wname);
	}
	if (balanced && l->task == ML_TASK_CLASSIFY) {
		double *cnt = calloc((size_t)l->nclass, sizeof(double));
		if (!cnt)
			return ml_err_nomem(e);
		for (i = 0; i < n; i++)
			cnt[(int)y[i]] += 1;
		for (i = 0; i < n; i++)
			w[i] *= (double)n / (l->nclass * cnt[(int)y[i]]);
		free(cnt);
	}
	return 0;
}

/* The validation rows' targets: present, and of classes the training rows have. */
static int valid_targets(const struct ml_learner *l, const struct ml_frame *fr, int tcol,
			 const size_t *vrows, size_t nvalid, const char *vname, double *vy,
			 struct ml_err *e)
{
	const struct ml_col *tc = &fr->schema.cols[tcol];
	size_t i;
	int rc;

	if ((rc = ml_learner_target_codes(l, fr, vrows, nvalid, vy, e)) < 0)
		return rc;
	for (i = 0; i < nvalid; i++) {
		size_t r = vrows[i];
		int miss = tc->type == ML_NUM ? fr->rows.col[tcol].num[r] != fr->rows.col[tcol].num[r] :
			fr->rows.col[tcol].cat[r] < 0;
		if (miss)
			return ml_err_set(e, ML_E_DATA, vname, ml_learn_row_line(fr, r), tcol + 1,
					  "missing value in target column '%s'", tc->name);
		if (l->task == ML_TASK_CLASSIFY && vy[i] < 0) {
			char q[80], buf[ML_FMT_DOUBLE_MAX + 1];
			const char *lab = buf;
			if (tc->type == ML_CAT)
				lab = tc->dict.str[fr->rows.col[tcol].cat[r]];
			else
				ml_fmt_double(buf, fr->rows.col[tcol].num[r]);
			return ml_err_set(e, ML_E_DATA, vname, ml_learn_row_line(fr, r), tcol + 1,
					  "validation row of class '%s', which the training rows lack",
					  ml_err_quote(q, sizeof(q), lab, strlen(lab)));
		}
	}
	return 0;
}

/* The validation rows as data v: targets, weights, design. */
static int valid_data(const struct ml_learner *l, const struct ml_frame *fr, int tcol, int wcol,
		      const size_t *vrows, size_t nvalid, const struct ml_train_spec *spec,
		      struct fitset *fs, struct ml_data *v, struct ml_err *e)
{
	const char *vname = spec->valid_name ? spec->valid_name : spec->name;
	int rc;

	*v = ml_learn_shape(l);
	v->n = nvalid;
	if (tcol >= 0) {
		if (!(fs->vy = malloc(nvalid * sizeof(double))))
			return ml_err_nomem(e);
		if ((rc = valid_targets(l, fr, tcol, vrows, nvalid, vname, fs->vy, e)) < 0)
			return rc;
	}
	if (wcol >= 0 && (rc = make_weights(l, fr, wcol, vrows, nvalid, NULL, 0, spec->weight,
					    vname, &fs->vw, e)) < 0)
		return rc;
	if ((rc = design_frame(l, fr, vrows, nvalid, vname, &fs->dV, e)) < 0)
		return rc;
	v->col = fs->dV.col;
	v->X = fs->dV.X;
	v->y = fs->vy;
	v->w = fs->vw;
	return 0;
}

int ml_learner_fit(struct ml_learner **out, const struct ml_frame *fr, const size_t *rows,
		   size_t nrows, const size_t *vrows, size_t nvalid,
		   const struct ml_train_spec *spec, struct ml_ctx *ctx, struct ml_err *e)
{
	struct ml_learner *l = calloc(1, sizeof(*l));
	const struct ml_algo *a = spec->params.algo;
	int tcol, wcol, rc;
	size_t n = rows ? nrows : fr->rows.nrow;
	struct fitset fs;
	struct ml_data d, v;

	*out = NULL;
	memset(&fs, 0, sizeof(fs));
	if (!l)
		return ml_err_nomem(e);
	l->algo = a;
	l->params = spec->params;
	l->task = ML_TASK_UNSUPERVISED;
	if ((rc = find_columns(a, fr, spec, &tcol, &wcol, e)) < 0)
		goto fail;
	if (tcol >= 0 && !(l->target = ml_learn_dup(spec->target))) {
		rc = ml_err_nomem(e);
		goto fail;
	}
	if (n == 0) {
		rc = ml_err_set(e, ML_E_DATA, spec->name, 0, 0, "no rows to train on");
		goto fail;
	}
	if (tcol >= 0) {
		if (!(fs.y = malloc(n * sizeof(double)))) {
			rc = ml_err_nomem(e);
			goto fail;
		}
		if ((rc = setup_target(l, fr, tcol, rows, n, spec->task, fs.y, spec->name, e)) < 0)
			goto fail;
	}
	if ((rc = check_task(l, spec, fr, tcol, rows, n, e)) < 0 ||
	    (rc = choose_features(l, fr, tcol, wcol, spec, rows, n, e)) < 0 ||
	    (rc = ml_learn_layout(l, e)) < 0)
		goto fail;
	if ((wcol >= 0 || spec->balanced) &&
	    (rc = make_weights(l, fr, wcol, rows, n, fs.y, spec->balanced, spec->weight,
			       spec->name, &fs.w, e)) < 0)
		goto fail;
	if ((rc = design_frame(l, fr, rows, n, spec->name, &fs.dX, e)) < 0)
		goto fail;
	d = ml_learn_shape(l);
	d.n = n;
	d.col = fs.dX.col;
	d.X = fs.dX.X;
	d.y = fs.y;
	d.w = fs.w;
	if (vrows && nvalid &&
	    (rc = valid_data(l, fr, tcol, wcol, vrows, nvalid, spec, &fs, &v, e)) < 0)
		goto fail;
	rc = a->fit(&l->state, &d, vrows && nvalid ? &v : NULL, &l->params, ctx, e);
	if (rc < 0 && e && e->line < 0 && (size_t)(-e->line - 1) < n) {
		/* the algorithm named a row of d (ML_ALGO_ROW) */
		size_t i = (size_t)(-e->line - 1);
		e->line = ml_learn_row_line(fr, rows ? rows[i] : i);
		if (!e->where[0] && spec->name)
			snprintf(e->where, sizeof(e->where), "%s", spec->name);
	}
	if (rc < 0)
		goto fail;
	fitset_release(&fs);
	*out = l;
	return 0;
fail:
	fitset_release(&fs);
	ml_learner_free(l);
	return rc;
}

int ml_learner_target_codes(const struct ml_learner *l, const struct ml_frame *fr,
			    const size_t *rows, size_t n, double *y, struct ml_err *e)
{
	int tcol = l->target ? ml_schema_find(&fr->schema, l->target) : -1, k;
	const struct ml_col *tc;
	double *cv = NULL;
	int32_t *map = NULL;
	size_t i;

	if (l->task == ML_TASK_UNSUPERVISED)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "an unsupervised model has no target");
	if (tcol < 0)
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "no target column '%s'", l->target);
	tc = &fr->schema.cols[tcol];
	if (l->task == ML_TASK_REGRESS) {
		if (tc->type != ML_NUM)
			return ml_err_set(e, ML_E_DATA, NULL, 0, tcol + 1,
					  "target column '%s' is not numeric", l->target);
		for (i = 0; i < n; i++)
			y[i] = fr->rows.col[tcol].num[rows ? rows[i] : i];
		return 0;
	}
	if (tc->type == ML_CAT) {
		/* Input code -> class index. */
		map = malloc((size_t)(tc->dict.n ? tc->dict.n : 1) * sizeof(*map));
		if (!map)
			return ml_err_nomem(e);
		for (k = 0; k < tc->dict.n; k++)
			map[k] = -1;
		for (k = 0; k < l->nclass; k++) {
			int32_t c = ml_dict_find(&tc->dict, l->classes[k], strlen(l->classes[k]));
			if (c >= 0)
				map[c] = k;
		}
		for (i = 0; i < n; i++) {
			int32_t c = fr->rows.col[tcol].cat[rows ? rows[i] : i];
			y[i] = c < 0 ? -1 : map[c];
		}
		free(map);
		return 0;
	}
	/* A numeric truth against the classes as numbers (a class that is not a number
	 * matches nothing). */
	cv = malloc((size_t)l->nclass * sizeof(double));
	if (!cv)
		return ml_err_nomem(e);
	for (k = 0; k < l->nclass; k++)
		if (l->class_num)
			cv[k] = l->class_num[k];
		else if (ml_parse_double(l->classes[k], strlen(l->classes[k]), &cv[k]) != 0)
			cv[k] = NAN;
	for (i = 0; i < n; i++) {
		double t = fr->rows.col[tcol].num[rows ? rows[i] : i];
		y[i] = -1;
		for (k = 0; k < l->nclass; k++)
			if (cv[k] == t) {
				y[i] = k;
				break;
			}
	}
	free(cv);
	return 0;
}
