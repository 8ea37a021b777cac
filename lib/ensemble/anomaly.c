/* Anomaly ensembles (--method anomaly): detectors' scores standardised on their own
 * training scores and summed with weights from the members' agreement; the "ensemble"
 * kind's share for them (ml_ens_kind_anomaly), and the kind itself, which hands each
 * container to the anomaly method's calls or to the others' by its method. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ens_int.h"
#include "learn/anomaly/detect.h"
#include "ml/ensemble.h"
#include "ml/pred.h"

#define AN_VERSION 1
#define AN_SECTION "ensemble.anomaly"
#define AN_FAR 3.5 /* the robust |z| that makes a flagged row statistical */
#define AN_TEMPORAL 2 /* the kind of a row flagged mostly by a moving baseline */

static const char *const severity_levels[5] = {"none", "low", "medium", "high", "critical"};
static const char *const kind_levels[3] = {"statistical", "multivariate", "temporal"};

void ml_ens_anomaly_opts_init(struct ml_ens_anomaly_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->contamination = -1;
	o->band[0] = 0.9;
	o->band[1] = 0.95;
	o->band[2] = 0.99;
	o->band[3] = 0.999;
}

/* --- Agreement ---------------------------------------------------------------------------- */

struct iv {
	double v;
	size_t i;
};

static int cmp_iv(const void *a, const void *b)
{
	const struct iv *x = a, *y = b;

	if (x->v != y->v)
		return (x->v > y->v) - (x->v < y->v);
	return (x->i > y->i) - (x->i < y->i);
}

/* v[0..r) replaced by its ranks 1..r, ties sharing their mean rank; t has room for r. */
static void ranks(double *v, size_t r, struct iv *t)
{
	size_t i, j, k;

	for (i = 0; i < r; i++) {
		t[i].v = v[i];
		t[i].i = i;
	}
	qsort(t, r, sizeof(*t), cmp_iv);
	for (i = 0; i < r; i = j) {
		for (j = i + 1; j < r && t[j].v == t[i].v; j++)
			;
		for (k = i; k < j; k++)
			v[t[k].i] = (double)(i + j + 1) / 2;
	}
}

static double pearson(const double *x, const double *y, size_t r)
{
	double mx = 0, my = 0, sxy = 0, sxx = 0, syy = 0;
	size_t i;

	for (i = 0; i < r; i++) {
		mx += x[i];
		my += y[i];
	}
	mx /= (double)r;
	my /= (double)r;
	for (i = 0; i < r; i++) {
		sxy += (x[i] - mx) * (y[i] - my);
		sxx += (x[i] - mx) * (x[i] - mx);
		syy += (y[i] - my) * (y[i] - my);
	}
	return sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : 0;
}

int ml_ens_agreement(const double *S, size_t r, int n, double *w, struct ml_err *e)
{
	double *R = malloc((r ? r : 1) * (size_t)n * sizeof(double));
	double *cons = malloc((r ? r : 1) * sizeof(double)), *nw = malloc((size_t)n * sizeof(double));
	struct iv *t = malloc((r ? r : 1) * sizeof(*t));
	int k, j, it;
	size_t i;

	if (!R || !cons || !nw || !t) {
		free(R);
		free(cons);
		free(nw);
		free(t);
		return ml_err_nomem(e);
	}
	memcpy(R, S, r * (size_t)n * sizeof(double));
	for (k = 0; k < n; k++) {
		ranks(R + (size_t)k * r, r, t);
		w[k] = 1.0 / n;
	}
	for (it = 0; it < 100; it++) {
		double tot = 0, moved = 0;
		for (k = 0; k < n; k++) {
			double rho;
			for (i = 0; i < r; i++) {
				double s = 0;
				for (j = 0; j < n; j++)
					if (j != k)
						s += w[j] * R[(size_t)j * r + i];
				cons[i] = s;
			}
			rho = pearson(R + (size_t)k * r, cons, r);
			nw[k] = rho > 0 ? rho * rho : 0;
			tot += nw[k];
		}
		for (k = 0; k < n; k++) {
			double x = tot > 0 ? nw[k] / tot : 1.0 / n;
			if (fabs(x - w[k]) > moved)
				moved = fabs(x - w[k]);
			w[k] = x;
		}
		if (moved <= 1e-12)
			break;
	}
	free(R);
	free(cons);
	free(nw);
	free(t);
	return 0;
}

/* --- Building ----------------------------------------------------------------------------- */

/* What the build learns of each member. */
struct amem {
	double mean, sd; /* of its training scores, from its calibration grid */
	double *s;	 /* its raw scores on the agreement rows */
	const struct ml_model *md; /* its detector's container */
};

static const char *stage_name(const struct ml_ens_member *m)
{
	return m->name ? m->name : ml_artefact_name(m->stage[m->nstage - 1]);
}

/* Member k must be a chain ending in a detector. */
static int check_detector(const struct ml_ens_member *m, int k, struct amem *a, struct ml_err *e)
{
	const struct ml_artefact *last;
	const char *const *tab;
	char *task;
	int s, ok = 0;

	if (m->nstage < 1)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "member %d has no artefact", k + 1);
	for (s = 0; s < m->nstage; s++) {
		unsigned bit = s < m->nstage - 1 ? ML_ARTEFACT_TRANSFORM : ML_ARTEFACT_FINAL;
		if (!(ml_artefact_flags(m->stage[s]) & bit))
			return ml_err_set(e, ML_E_DATA, ml_artefact_name(m->stage[s]), 0, 0,
					  "member %d: a '%s' artefact where %s should be", k + 1,
					  ml_artefact_kind(m->stage[s]),
					  s < m->nstage - 1 ? "a feature pipeline" : "a detector");
		if (ml_artefact_check(m->stage[s], e) < 0)
			return e ? e->code : ML_E_DATA;
	}
	last = m->stage[m->nstage - 1];
	if (strcmp(ml_artefact_kind(last), "model") != 0)
		return ml_err_set(e, ML_E_DATA, ml_artefact_name(last), 0, 0,
				  "member %d: a '%s' artefact cannot join an anomaly ensemble "
				  "(detectors can)",
				  k + 1, ml_artefact_kind(last));
	a->md = ml_artefact_model(last);
	if (ml_model_meta_text(a->md, "task", &task, e) < 0)
		return ML_E_NOMEM;
	if (!task || strcmp(task, "\"unsupervised\"") != 0) {
		int rc = ml_err_set(e, ML_E_DATA, ml_artefact_name(last), 0, 0,
				    "member %d: a model of task %s cannot join an anomaly ensemble "
				    "(detectors, fitted without a target, can)",
				    k + 1, task ? task : "(none)");
		free(task);
		return rc;
	}
	free(task);
	for (tab = ml_artefact_tables(last); *tab; tab++)
		ok |= strcmp(*tab, "calibration") == 0;
	if (!ok)
		return ml_err_set(e, ML_E_DATA, ml_artefact_name(last), 0, 0,
				  "member %d: -a %s is not an anomaly detector (it has no "
				  "calibration)",
				  k + 1, ml_model_algorithm(a->md));
	return 0;
}

/* Member k reads the same input columns as member 1, of the same types. */
static int same_inputs(const struct ml_schema *s0, const struct ml_schema *s, const char *who,
		       int k, struct ml_err *e)
{
	int j, at;

	for (j = 0; j < s->ncol; j++) {
		if ((at = ml_schema_find(s0, s->cols[j].name)) < 0)
			return ml_err_set(e, ML_E_DATA, who, 0, 0,
					  "member %d reads column '%s', which member 1 does not: "
					  "the members of an anomaly ensemble read the same columns",
					  k + 1, s->cols[j].name);
		if (s0->cols[at].type != s->cols[j].type)
			return ml_err_set(e, ML_E_DATA, who, 0, 0,
					  "member %d reads column '%s' as %s, member 1 as %s", k + 1,
					  s->cols[j].name,
					  s->cols[j].type == ML_NUM ? "numeric" : "categorical",
					  s0->cols[at].type == ML_NUM ? "numeric" : "categorical");
	}
	for (j = 0; j < s0->ncol; j++)
		if (ml_schema_find(s, s0->cols[j].name) < 0)
			return ml_err_set(e, ML_E_DATA, who, 0, 0,
					  "member %d does not read column '%s', which member 1 reads: "
					  "the members of an anomaly ensemble read the same columns",
					  k + 1, s0->cols[j].name);
	return 0;
}

/* The mean and standard deviation of the member's calibration grid. */
static int grid_moments(const struct ml_ens_member *m, struct amem *a, struct ml_err *e)
{
	struct ml_frame f;
	double s = 0, ss = 0;
	size_t i, n;
	int rc;

	ml_frame_init(&f);
	if ((rc = ml_artefact_table(m->stage[m->nstage - 1], "calibration", &f, e)) < 0) {
		ml_frame_release(&f);
		return rc;
	}
	n = f.rows.nrow;
	for (i = 0; i < n; i++)
		s += f.rows.col[1].num[i];
	a->mean = n ? s / (double)n : 0;
	for (i = 0; i < n; i++)
		ss += (f.rows.col[1].num[i] - a->mean) * (f.rows.col[1].num[i] - a->mean);
	a->sd = n ? sqrt(ss / (double)n) : 0;
	if (!(a->sd > 0) || !isfinite(a->sd))
		a->sd = 1;
	ml_frame_release(&f);
	return 0;
}

/* Member k's raw scores on the rows of f, through its chain. */
static int score_rows(const struct ml_ens_member *m, int k, const struct ml_frame *f,
		      const char *fname, struct amem *a, struct ml_err *e)
{
	struct ml_apply_opts ao;
	struct ml_chain *c;
	const struct ml_schema *os;
	const struct ml_block *o;
	size_t n = f->rows.nrow;
	int rc, col;

	ml_apply_opts_init(&ao);
	if (!(c = ml_chain_new(m->stage, m->nstage, &ao, e)))
		return e ? e->code : ML_E_DATA;
	if ((rc = ml_chain_bind(c, &f->schema, NULL, &os, e)) < 0 ||
	    (rc = ml_chain_apply(c, &f->rows, 0, n, &o, e)) < 0) {
		ml_chain_free(c);
		if (e && !e->where[0])
			snprintf(e->where, sizeof(e->where), "%s", fname);
		return rc;
	}
	col = ml_schema_find(os, "score");
	if (col < 0 || os->cols[col].type != ML_NUM || o->nrow != n) {
		ml_chain_free(c);
		return ml_err_set(e, ML_E_DATA, fname, 0, 0,
				  "member %d gives no score for every row", k + 1);
	}
	memcpy(a->s, o->col[col].num, n * sizeof(double));
	ml_chain_free(c);
	return 0;
}

/* A detector's kept sample (detect.h), read as far as the scores. */
struct sample {
	uint64_t n;
	uint32_t m, p;
	uint64_t *idx;
	double *score;
	struct ml_rbuf rest; /* at the features */
};

static int read_sample(const struct ml_model *md, struct sample *sp, const char *who, int k,
		       struct ml_err *e)
{
	const void *data;
	size_t len, i;
	struct ml_rbuf b;

	memset(sp, 0, sizeof(*sp));
	if (ml_model_get(md, ML_DETECT_SAMPLE_SECTION, &data, &len, NULL) < 0)
		return ml_err_set(e, ML_E_DATA, who, 0, 0,
				  "member %d keeps no sample of its training rows (fitted by an "
				  "older mltrain): give a FILE of unlabelled rows to measure the "
				  "members' agreement on",
				  k + 1);
	ml_rbuf_init(&b, data, len);
	if (ml_rbuf_u32(&b) != 1)
		return ml_err_set(e, ML_E_DATA, who, 0, 0,
				  "member %d: section '%s' has an unknown version", k + 1,
				  ML_DETECT_SAMPLE_SECTION);
	sp->n = ml_rbuf_u64(&b);
	sp->m = ml_rbuf_u32(&b);
	if (ml_rbuf_count(&b, sp->m, 16) != sp->m || sp->m < 2)
		return ml_err_set(e, ML_E_DATA, who, 0, 0, "member %d: a damaged '%s' section",
				  k + 1, ML_DETECT_SAMPLE_SECTION);
	sp->idx = malloc(sp->m * sizeof(uint64_t));
	sp->score = malloc(sp->m * sizeof(double));
	if (!sp->idx || !sp->score)
		return ml_err_nomem(e);
	for (i = 0; i < sp->m; i++)
		sp->idx[i] = ml_rbuf_u64(&b);
	ml_rbuf_f64v(&b, sp->score, sp->m);
	sp->p = ml_rbuf_u32(&b);
	sp->rest = b;
	if (b.err)
		return ml_err_set(e, ML_E_DATA, who, 0, 0, "member %d: a damaged '%s' section",
				  k + 1, ML_DETECT_SAMPLE_SECTION);
	return 0;
}

static void free_sample(struct sample *sp)
{
	free(sp->idx);
	free(sp->score);
}

/* The members' raw scores on their kept samples, which must be the same rows. */
static int sample_scores(const struct ml_ens_member *m, int n, struct amem *a, size_t *r,
			 struct sample *first, struct ml_err *e)
{
	char *fp0;
	int k, rc = ml_model_meta_text(a[0].md, "data", &fp0, e);

	for (k = 0; k < n && rc == 0; k++) {
		struct sample sp;
		char *fp = NULL;
		const char *who = stage_name(&m[k]);
		memset(&sp, 0, sizeof(sp));
		if ((k && (rc = ml_model_meta_text(a[k].md, "data", &fp, e)) < 0) ||
		    (rc = read_sample(a[k].md, &sp, who, k, e)) < 0) {
			free_sample(&sp);
			free(fp);
			break;
		}
		if (k > 0 && (sp.n != first->n || sp.m != first->m ||
			      memcmp(sp.idx, first->idx, sp.m * sizeof(uint64_t)) != 0 ||
			      (fp0 && fp && strcmp(fp0, fp) != 0)))
			rc = ml_err_set(e, ML_E_DATA, who, 0, 0,
					"member %d was fitted on other rows than member 1 (%s, "
					"where member 1 has %s): the samples they keep cannot be "
					"matched; give a FILE of unlabelled rows",
					k + 1, fp ? fp : "?", fp0 ? fp0 : "?");
		if (rc == 0 && !(a[k].s = malloc(sp.m * sizeof(double))))
			rc = ml_err_nomem(e);
		if (rc == 0)
			memcpy(a[k].s, sp.score, sp.m * sizeof(double));
		if (k == 0 && rc == 0)
			*first = sp;
		else
			free_sample(&sp);
		free(fp);
	}
	free(fp0);
	*r = first->m;
	return rc;
}

/* The columns the kind looks at: name, centre and scale. */
struct kfeat {
	int q;
	char **name;
	double *c, *s;
};

static void kfeat_release(struct kfeat *kf)
{
	int j;

	for (j = 0; kf->name && j < kf->q; j++)
		free(kf->name[j]);
	free(kf->name);
	free(kf->c);
	free(kf->s);
	memset(kf, 0, sizeof(*kf));
}

static int kfeat_alloc(struct kfeat *kf, int q, struct ml_err *e)
{
	kf->name = calloc((size_t)(q ? q : 1), sizeof(char *));
	kf->c = malloc((size_t)(q ? q : 1) * sizeof(double));
	kf->s = malloc((size_t)(q ? q : 1) * sizeof(double));
	if (!kf->name || !kf->c || !kf->s)
		return ml_err_nomem(e);
	return 0;
}

static int kfeat_add(struct kfeat *kf, const char *name, double c, double s, struct ml_err *e)
{
	if (!(kf->name[kf->q] = strdup(name)))
		return ml_err_nomem(e);
	kf->c[kf->q] = c;
	kf->s[kf->q++] = s;
	return 0;
}

/* From the rows: every numeric input column's median and scaled MAD there. */
static int kfeat_rows(struct kfeat *kf, const struct ml_schema *in, const struct ml_frame *f,
		      struct ml_err *e)
{
	size_t n = f->rows.nrow, i, nv;
	double *v = malloc((n ? n : 1) * sizeof(double)), c, s;
	int j, at, rc = 0;

	if (!v)
		return ml_err_nomem(e);
	if ((rc = kfeat_alloc(kf, in->ncol, e)) < 0) {
		free(v);
		return rc;
	}
	for (j = 0; j < in->ncol && rc == 0; j++) {
		if (in->cols[j].type != ML_NUM ||
		    (at = ml_schema_find(&f->schema, in->cols[j].name)) < 0 ||
		    f->schema.cols[at].type != ML_NUM)
			continue;
		for (i = nv = 0; i < n; i++)
			if (!isnan(f->rows.col[at].num[i]))
				v[nv++] = f->rows.col[at].num[i];
		if (nv < 2)
			continue;
		ml_detect_robust(v, nv, &c, &s);
		rc = kfeat_add(kf, in->cols[j].name, c, s, e);
	}
	free(v);
	return rc;
}

/* From member 1's kept sample: its features that are numeric input columns. */
static int kfeat_sample(struct kfeat *kf, const struct ml_schema *in, struct sample *sp,
			struct ml_err *e)
{
	uint32_t j;
	int rc;

	if ((rc = kfeat_alloc(kf, (int)sp->p, e)) < 0)
		return rc;
	for (j = 0; j < sp->p && rc == 0; j++) {
		char *name = ml_rbuf_str(&sp->rest);
		double c = ml_rbuf_f64(&sp->rest), s = ml_rbuf_f64(&sp->rest);
		int at = name ? ml_schema_find(in, name) : -1;
		if (!name && sp->rest.err == ML_E_NOMEM) {
			rc = ml_err_nomem(e);
			break;
		}
		if (at >= 0 && in->cols[at].type == ML_NUM && s > 0 && isfinite(c) && isfinite(s))
			rc = kfeat_add(kf, name, c, s, e);
		free(name);
	}
	return rc;
}

static int meta_put(struct ml_model *md, const char *key, cJSON *v, struct ml_err *e)
{
	char *txt = v ? cJSON_PrintUnformatted(v) : NULL;
	int rc;

	cJSON_Delete(v);
	if (!txt)
		return ml_err_nomem(e);
	rc = ml_model_meta_set(md, key, txt, e);
	free(txt);
	return rc;
}

static int write_container(struct ml_model **out, const struct ml_ens_member *m, int n,
			   const struct amem *a, const double *w, const struct ml_detect *det,
			   const struct kfeat *kf, size_t r, int from_file, int given,
			   struct ml_err *e)
{
	struct ml_model *md = ml_model_new("ensemble", "anomaly");
	cJSON *mem = cJSON_CreateArray(), *ag = cJSON_CreateObject();
	struct ml_wbuf b;
	char sec[64];
	int k, s, rc = 0, bad = 0;

	if (!md || !mem || !ag) {
		rc = ml_err_nomem(e);
		goto fail;
	}
	for (k = 0; k < n; k++) {
		struct ml_ens_member x = m[k];
		cJSON *j;
		x.weight = w[k];
		if (!(j = ml_ens_member_json(&x))) {
			rc = ml_err_nomem(e);
			goto fail;
		}
		ml_json_num(&bad, j, "mean", a[k].mean);
		ml_json_num(&bad, j, "sd", a[k].sd);
		ml_json_add(&bad, mem, NULL, j);
	}
	ml_json_str(&bad, ag, "weights", given ? "given" : "agreement");
	ml_json_str(&bad, ag, "rows", from_file ? "file" : "kept sample");
	ml_json_num(&bad, ag, "nrow", (double)r);
	if (bad) {
		rc = ml_err_nomem(e);
		goto fail;
	}
	if ((rc = meta_put(md, "method", cJSON_CreateString("anomaly"), e)) < 0 ||
	    (rc = meta_put(md, "task", cJSON_CreateString("unsupervised"), e)) < 0)
		goto fail;
	rc = meta_put(md, "members", mem, e);
	mem = NULL;
	if (rc < 0)
		goto fail;
	rc = meta_put(md, "agreement", ag, e);
	ag = NULL;
	if (rc < 0)
		goto fail;
	ml_wbuf_init(&b);
	ml_wbuf_u32(&b, AN_VERSION);
	ml_wbuf_u32(&b, (uint32_t)n);
	for (k = 0; k < n; k++) {
		ml_wbuf_f64(&b, w[k]);
		ml_wbuf_f64(&b, a[k].mean);
		ml_wbuf_f64(&b, a[k].sd);
	}
	ml_detect_save(det, &b);
	ml_wbuf_u32(&b, (uint32_t)kf->q);
	for (k = 0; k < kf->q; k++) {
		ml_wbuf_str(&b, kf->name[k]);
		ml_wbuf_f64(&b, kf->c[k]);
		ml_wbuf_f64(&b, kf->s[k]);
	}
	rc = b.err ? ml_err_nomem(e) : ml_model_add(md, AN_SECTION, b.p, b.n, e);
	ml_wbuf_release(&b);
	for (k = 0; k < n && rc == 0; k++)
		for (s = 0; s < m[k].nstage && rc == 0; s++) {
			snprintf(sec, sizeof(sec), "member.%d.%d", k + 1, s + 1);
			rc = ml_model_add_member(md, sec, ml_artefact_model(m[k].stage[s]), e);
		}
	if (rc < 0)
		goto fail;
	*out = md;
	return 0;
fail:
	cJSON_Delete(mem);
	cJSON_Delete(ag);
	ml_model_free(md);
	return rc;
}

int ml_ensemble_anomaly(struct ml_model **out, const struct ml_ens_member *m, int n,
			const struct ml_ens_anomaly_opts *o, struct ml_err *e)
{
	struct amem *a = NULL;
	struct ml_schema s0, s;
	struct sample first;
	struct ml_detect det;
	struct kfeat kf;
	double *w = NULL, *S = NULL, *c = NULL, tot = 0;
	size_t r = 0, i;
	int k, rc = 0;

	*out = NULL;
	memset(&first, 0, sizeof(first));
	memset(&det, 0, sizeof(det));
	memset(&kf, 0, sizeof(kf));
	ml_schema_init(&s0);
	if (n < 2)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "an ensemble needs two members at least");
	a = calloc((size_t)n, sizeof(*a));
	w = malloc((size_t)n * sizeof(double));
	if (!a || !w) {
		rc = ml_err_nomem(e);
		goto done;
	}
	for (k = 0; k < n && rc == 0; k++) {
		if ((rc = check_detector(&m[k], k, &a[k], e)) < 0 ||
		    (rc = grid_moments(&m[k], &a[k], e)) < 0)
			break;
		ml_schema_init(&s);
		rc = ml_artefact_input_schema(m[k].stage[0], k ? &s : &s0, e);
		if (rc == 0 && k > 0)
			rc = same_inputs(&s0, &s, stage_name(&m[k]), k, e);
		ml_schema_release(&s);
	}
	if (rc < 0)
		goto done;
	/* the members' raw scores on the agreement rows */
	if (o->rows) {
		r = o->rows->rows.nrow;
		if (r < 2) {
			rc = ml_err_set(e, ML_E_DATA, o->rows_name, 0, 0,
					"%zu rows: the members' agreement needs two at least", r);
			goto done;
		}
		for (k = 0; k < n && rc == 0; k++)
			if (!(a[k].s = malloc(r * sizeof(double))))
				rc = ml_err_nomem(e);
			else
				rc = score_rows(&m[k], k, o->rows, o->rows_name, &a[k], e);
	} else {
		rc = sample_scores(m, n, a, &r, &first, e);
	}
	if (rc < 0)
		goto done;
	S = malloc(r * (size_t)n * sizeof(double));
	c = malloc(r * sizeof(double));
	if (!S || !c) {
		rc = ml_err_nomem(e);
		goto done;
	}
	for (k = 0; k < n; k++)
		for (i = 0; i < r; i++) {
			double x = a[k].s[i];
			if (!isfinite(x)) {
				rc = ml_err_set(e, ML_E_DATA, o->rows ? o->rows_name : stage_name(&m[k]), 0, 0,
						"member %d's score of row %zu is not a number (a "
						"missing value?)",
						k + 1, i + 1);
				goto done;
			}
			S[(size_t)k * r + i] = (x - a[k].mean) / a[k].sd;
		}
	/* the weights: given (scaled to sum to one) or from agreement */
	if (o->weighted) {
		for (k = 0; k < n; k++)
			tot += m[k].weight;
		for (k = 0; k < n; k++)
			w[k] = m[k].weight / tot;
	} else if ((rc = ml_ens_agreement(S, r, n, w, e)) < 0) {
		goto done;
	}
	for (i = 0; i < r; i++) {
		double x = 0;
		for (k = 0; k < n; k++)
			x += w[k] * S[(size_t)k * r + i];
		c[i] = x;
	}
	det.contamination = o->contamination > 0 ? o->contamination : -1;
	memcpy(det.band, o->band, sizeof(det.band));
	if ((rc = ml_detect_fit(&det, c, r, NAN, e)) < 0)
		goto done;
	rc = o->rows ? kfeat_rows(&kf, &s0, o->rows, e) : kfeat_sample(&kf, &s0, &first, e);
	if (rc == 0)
		rc = write_container(out, m, n, a, w, &det, &kf, r, o->rows != NULL, o->weighted, e);
done:
	for (k = 0; a && k < n; k++)
		free(a[k].s);
	free(a);
	free(w);
	free(S);
	free(c);
	free_sample(&first);
	kfeat_release(&kf);
	ml_schema_release(&s0);
	return rc;
}

/* --- The kind ----------------------------------------------------------------------------- */

struct an {
	int n;
	struct ml_artefact ***stage;
	int *nstage;
	double *w, *mean, *sd;
	struct ml_detect det;
	struct kfeat kf;
	int ntemporal; /* members that are moving baselines (-a baseline) */
};

static void an_close(void *state)
{
	struct an *A = state;

	if (!A)
		return;
	ml_ens_free_stages(A->stage, A->nstage, A->n);
	free(A->nstage);
	free(A->w);
	free(A->mean);
	free(A->sd);
	kfeat_release(&A->kf);
	free(A);
}

static int an_damaged(struct ml_err *e, const char *name, const char *what)
{
	return ml_err_set(e, ML_E_DATA, name, 0, 0, "a damaged anomaly ensemble: %s", what);
}

/* Member k's stages: sections member.K.1, member.K.2, ... as far as they go. */
static int an_load_member(struct an *A, const struct ml_model *m, int k, const char *name,
			  struct ml_err *e)
{
	const void *data;
	size_t len;
	char sec[64];
	int ns = 0;

	for (;;) {
		snprintf(sec, sizeof(sec), "member.%d.%d", k + 1, ns + 1);
		if (ml_model_get(m, sec, &data, &len, NULL) < 0)
			break;
		ns++;
	}
	if (ns < 1 || ns > 64)
		return an_damaged(e, name, "a member without stages");
	A->nstage[k] = ns;
	return ml_ens_load_stages(m, k, ns, name, &A->stage[k], e);
}

/* Whether member k is a moving baseline, whose flags are temporal. */
static int an_temporal(const struct an *A, int k)
{
	const struct ml_model *m = ml_artefact_model(A->stage[k][A->nstage[k] - 1]);

	return strcmp(ml_model_algorithm(m), "baseline") == 0;
}

static int an_read(struct an *A, struct ml_rbuf *b, const char *name, struct ml_err *e)
{
	uint32_t q;
	int k, rc;

	for (k = 0; k < A->n; k++) {
		A->w[k] = ml_rbuf_f64(b);
		A->mean[k] = ml_rbuf_f64(b);
		A->sd[k] = ml_rbuf_f64(b);
		if (!(A->w[k] >= 0) || !isfinite(A->mean[k]) || !(A->sd[k] > 0) ||
		    !isfinite(A->sd[k]))
			return an_damaged(e, name, "a member's weight or calibration");
	}
	if ((rc = ml_detect_load(&A->det, b, AN_SECTION, e)) < 0)
		return rc;
	q = ml_rbuf_u32(b);
	if (ml_rbuf_count(b, q, 20) != q)
		return an_damaged(e, name, "the columns of the kind");
	if ((rc = kfeat_alloc(&A->kf, (int)q, e)) < 0)
		return rc;
	for (k = 0; k < (int)q; k++) {
		char *nm = ml_rbuf_str(b);
		double c = ml_rbuf_f64(b), s = ml_rbuf_f64(b);
		if (nm && isfinite(c) && s > 0 && isfinite(s))
			rc = kfeat_add(&A->kf, nm, c, s, e);
		else if (!nm && b->err == ML_E_NOMEM)
			rc = ml_err_nomem(e);
		else
			rc = an_damaged(e, name, "a column of the kind");
		free(nm);
		if (rc < 0)
			return rc;
	}
	if (b->err || b->off != b->n)
		return an_damaged(e, name, "the section's length");
	return 0;
}

static int an_open(void **state, const struct ml_model *m, const char *name, struct ml_err *e)
{
	struct an *A = calloc(1, sizeof(*A));
	const void *data;
	size_t len;
	struct ml_rbuf b;
	int k, rc;

	*state = NULL;
	if (!A)
		return ml_err_nomem(e);
	if ((rc = ml_model_get(m, AN_SECTION, &data, &len, e)) < 0) {
		free(A);
		return rc;
	}
	ml_rbuf_init(&b, data, len);
	if (ml_rbuf_u32(&b) != AN_VERSION) {
		free(A);
		return an_damaged(e, name, "an unknown version");
	}
	A->n = (int)ml_rbuf_u32(&b);
	if (A->n < 2 || A->n > 4096) {
		free(A);
		return an_damaged(e, name, "no members");
	}
	A->stage = calloc((size_t)A->n, sizeof(*A->stage));
	A->nstage = calloc((size_t)A->n, sizeof(*A->nstage));
	A->w = malloc((size_t)A->n * sizeof(double));
	A->mean = malloc((size_t)A->n * sizeof(double));
	A->sd = malloc((size_t)A->n * sizeof(double));
	rc = !A->stage || !A->nstage || !A->w || !A->mean || !A->sd ? ml_err_nomem(e)
								      : an_read(A, &b, name, e);
	for (k = 0; k < A->n && rc == 0; k++)
		rc = an_load_member(A, m, k, name, e);
	for (k = 0; k < A->n && rc == 0; k++)
		A->ntemporal += an_temporal(A, k);
	if (rc < 0) {
		an_close(A);
		return rc;
	}
	*state = A;
	return 0;
}

static int an_input_schema(const void *state, struct ml_schema *s, struct ml_err *e)
{
	const struct an *A = state;

	return ml_artefact_input_schema(A->stage[0][0], s, e);
}

static const char *const an_table_names[] = {"members", "calibration", "severity", NULL};

static const char *const *an_tables(const void *state)
{
	(void)state;
	return an_table_names;
}

static int an_table(const void *state, const char *name, struct ml_frame *out,
		    struct ml_err *e)
{
	const struct an *A = state;
	const char *cols[] = {"member", "weight", "algorithm", "stages", "mean", "sd"};
	int k, j;

	if (strcmp(name, "members") != 0)
		return ml_detect_table(&A->det, "anomaly ensemble", name, out, e);
	for (j = 0; j < 6; j++)
		if (ml_schema_add(&out->schema, cols[j], j == 2 ? ML_CAT : ML_NUM) < 0)
			return ml_err_nomem(e);
	if (ml_block_init(&out->rows, &out->schema, (size_t)A->n, e) < 0)
		return e ? e->code : ML_E_NOMEM;
	for (k = 0; k < A->n; k++) {
		const char *alg =
			ml_model_algorithm(ml_artefact_model(A->stage[k][A->nstage[k] - 1]));
		int rc = ml_detect_frame_cat(out, 2, (size_t)k, alg, e);
		if (rc < 0)
			return rc;
		out->rows.col[0].num[k] = k + 1;
		out->rows.col[1].num[k] = A->w[k];
		out->rows.col[3].num[k] = A->nstage[k];
		out->rows.col[4].num[k] = A->mean[k];
		out->rows.col[5].num[k] = A->sd[k];
	}
	out->rows.nrow = (size_t)A->n;
	return 0;
}

struct ansc {
	const struct an *A;
	struct ml_chain **ch;
	int *scol;		/* member k's score column */
	const struct ml_block **mo;
	int *kcol;		/* the input column of each kind column, or -1 */
	struct ml_schema out;
	union ml_colv vcol[5];
	struct ml_block view;
	double *val;		/* per row: score, anomaly, severity */
	double *score, *flag;
	int32_t *sev, *kind;
	size_t cap;
	/* --explain: the features the members' share columns name, in their first member's
	 * order, and per member its share columns and the feature of each */
	int explain;
	int nf;
	char **fname;
	int *nsh, **shcol, **shf;
	double *fw; /* nf: a row's feature weights */
	int32_t *expl;
};

static void explain_release(struct ansc *s)
{
	int k;

	for (k = 0; k < s->nf; k++)
		free(s->fname[k]);
	for (k = 0; s->shcol && k < s->A->n; k++) {
		free(s->shcol[k]);
		free(s->shf[k]);
	}
	free(s->fname);
	free(s->nsh);
	free(s->shcol);
	free(s->shf);
	free(s->fw);
	s->fname = NULL;
	s->nsh = NULL;
	s->shcol = s->shf = NULL;
	s->fw = NULL;
	s->nf = 0;
}

static void an_scorer_free(void *sc)
{
	struct ansc *s = sc;

	if (!s)
		return;
	ml_ens_chains_free(s->ch, s->A->n);
	free(s->scol);
	free(s->mo);
	free(s->kcol);
	free(s->val);
	free(s->score);
	free(s->flag);
	free(s->sev);
	free(s->kind);
	free(s->expl);
	explain_release(s);
	ml_schema_release(&s->out);
	free(s);
}

static int an_scorer_new(void **sc, const void *state, const struct ml_apply_opts *o,
			 struct ml_err *e)
{
	const struct an *A = state;
	struct ansc *s;

	struct ml_apply_opts mo;

	if (o->margin || o->leaf || o->contrib || o->std || o->nlevel)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "an anomaly ensemble gives score, anomaly, severity, kind and "
				  "explain only (no margins, leaves, contributions or intervals)");
	if (!(s = calloc(1, sizeof(*s))))
		return ml_err_nomem(e);
	s->A = A;
	s->explain = o->explain;
	ml_schema_init(&s->out);
	/* the members' feature shares, which the explanation combines */
	ml_apply_opts_init(&mo);
	mo.shares = o->explain;
	if (!(s->ch = ml_ens_chains_new(A->stage, A->nstage, A->n, &mo, e))) {
		an_scorer_free(s);
		return e ? e->code : ML_E_DATA;
	}
	s->scol = calloc((size_t)A->n, sizeof(int));
	s->mo = calloc((size_t)A->n, sizeof(*s->mo));
	s->kcol = calloc((size_t)(A->kf.q ? A->kf.q : 1), sizeof(int));
	if (!s->scol || !s->mo || !s->kcol) {
		an_scorer_free(s);
		return ml_err_nomem(e);
	}
	*sc = s;
	return 0;
}

static void an_set_pool(void *sc, struct ml_pool *pool)
{
	struct ansc *s = sc;

	ml_ens_chains_set_pool(s->ch, s->A->n, pool);
}

/* The feature of name among the explanation's, added when new; -1 out of memory. */
static int feature_of(struct ansc *s, const char *name)
{
	char **nf;
	int j;

	for (j = 0; j < s->nf; j++)
		if (strcmp(s->fname[j], name) == 0)
			return j;
	if (!(nf = realloc(s->fname, (size_t)(s->nf + 1) * sizeof(*nf))))
		return -1;
	s->fname = nf;
	if (!(nf[s->nf] = strdup(name)))
		return -1;
	return s->nf++;
}

/* Member k's share columns (ML_PRED_SHARE_PREFIX) in its output mo, and their features;
 * for the first member, the arrays of every member too. */
static int bind_shares(struct ansc *s, int k, const struct ml_schema *mo, struct ml_err *e)
{
	const struct an *A = s->A;
	size_t pl = strlen(ML_PRED_SHARE_PREFIX);
	int c;

	if (k == 0) {
		explain_release(s);
		s->nsh = calloc((size_t)A->n, sizeof(int));
		s->shcol = calloc((size_t)A->n, sizeof(int *));
		s->shf = calloc((size_t)A->n, sizeof(int *));
		if (!s->nsh || !s->shcol || !s->shf)
			return ml_err_nomem(e);
	}
	s->shcol[k] = malloc((size_t)(mo->ncol ? mo->ncol : 1) * sizeof(int));
	s->shf[k] = malloc((size_t)(mo->ncol ? mo->ncol : 1) * sizeof(int));
	if (!s->shcol[k] || !s->shf[k])
		return ml_err_nomem(e);
	for (c = 0; c < mo->ncol; c++) {
		int f;
		if (strncmp(mo->cols[c].name, ML_PRED_SHARE_PREFIX, pl) != 0 ||
		    mo->cols[c].type != ML_NUM)
			continue;
		if ((f = feature_of(s, mo->cols[c].name + pl)) < 0)
			return ml_err_nomem(e);
		s->shcol[k][s->nsh[k]] = c;
		s->shf[k][s->nsh[k]++] = f;
	}
	if (k == A->n - 1) {
		free(s->fw);
		if (!(s->fw = malloc((size_t)(s->nf ? s->nf : 1) * sizeof(double))))
			return ml_err_nomem(e);
	}
	return 0;
}

static int an_bind(void *sc, const struct ml_schema *in, const struct ml_schema **out,
		   struct ml_err *e)
{
	struct ansc *s = sc;
	const struct an *A = s->A;
	const char *names[5] = {"score", "anomaly", "severity", "kind", "explain"};
	int k, j, rc;

	for (k = 0; k < A->n; k++) {
		const struct ml_schema *mo;
		if ((rc = ml_chain_bind(s->ch[k], in, NULL, &mo, e)) < 0)
			return rc;
		s->scol[k] = ml_schema_find(mo, "score");
		if (s->scol[k] < 0 || mo->cols[s->scol[k]].type != ML_NUM)
			return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "member %d gives no score",
					  k + 1);
		if (s->explain && (rc = bind_shares(s, k, mo, e)) < 0)
			return rc;
	}
	for (j = 0; j < A->kf.q; j++) {
		s->kcol[j] = ml_schema_find(in, A->kf.name[j]);
		if (s->kcol[j] >= 0 && in->cols[s->kcol[j]].type != ML_NUM)
			s->kcol[j] = -1;
	}
	ml_schema_release(&s->out);
	ml_schema_init(&s->out);
	for (j = 0; j < (s->explain ? 5 : 4); j++)
		if (ml_schema_add(&s->out, names[j], j < 2 ? ML_NUM : ML_CAT) < 0)
			return ml_err_nomem(e);
	for (j = 0; j < 5; j++)
		if (ml_dict_intern(&s->out.cols[2].dict, severity_levels[j],
				   strlen(severity_levels[j])) < 0)
			return ml_err_nomem(e);
	/* temporal only where a member can give it: the others' outputs stay as they were */
	for (j = 0; j < (A->ntemporal ? 3 : 2); j++)
		if (ml_dict_intern(&s->out.cols[3].dict, kind_levels[j], strlen(kind_levels[j])) < 0)
			return ml_err_nomem(e);
	s->view.schema = &s->out;
	s->view.ncol = s->explain ? 5 : 4;
	s->view.col = s->vcol;
	*out = &s->out;
	return 0;
}

static int an_reserve(struct ansc *s, size_t n, struct ml_err *e)
{
	if (n <= s->cap)
		return 0;
	free(s->val);
	free(s->score);
	free(s->flag);
	free(s->sev);
	free(s->kind);
	s->val = malloc(n * ML_DETECT_NOUT * sizeof(double));
	s->score = malloc(n * sizeof(double));
	s->flag = malloc(n * sizeof(double));
	s->sev = malloc(n * sizeof(int32_t));
	s->kind = malloc(n * sizeof(int32_t));
	free(s->expl);
	s->expl = malloc(n * sizeof(int32_t));
	if (!s->val || !s->score || !s->flag || !s->sev || !s->kind || !s->expl) {
		s->cap = 0;
		return ml_err_nomem(e);
	}
	s->cap = n;
	return 0;
}

/* Statistical (0) when a kind column's robust |z| reaches AN_FAR, else multivariate (1). */
static int32_t row_kind(const struct ansc *s, const struct ml_block *in, size_t i)
{
	const struct kfeat *kf = &s->A->kf;
	int j;

	for (j = 0; j < kf->q; j++) {
		double x;
		if (s->kcol[j] < 0)
			continue;
		x = in->col[s->kcol[j]].num[i];
		if (fabs(x - kf->c[j]) / kf->s[j] >= AN_FAR)
			return 0;
	}
	return 1;
}

/* Member k's score of row i standardised as the ensemble combines it. */
static double member_z(const struct ansc *s, int k, size_t i)
{
	const struct an *A = s->A;

	return (s->mo[k]->col[s->scol[k]].num[i] - A->mean[k]) / A->sd[k];
}

/* Whether row i's largest weighted contribution to the score is a moving baseline's. */
static int an_top_temporal(const struct ansc *s, size_t i)
{
	const struct an *A = s->A;
	double best = -INFINITY;
	int k, top = 0;

	if (!A->ntemporal)
		return 0;
	for (k = 0; k < A->n; k++) {
		double c = A->w[k] * member_z(s, k, i);
		if (c > best) {
			best = c;
			top = k;
		}
	}
	return an_temporal(A, top);
}

/* The explain column: for each flagged row, the features with the largest combined
 * weights (ml_detect_explain), feature j weighing sum over members k of a(k) share(k, j),
 * a(k) = w(k) max(z(k), 0) being member k's part of the ensemble score (z(k) its score
 * standardised as combined), or w(k) for every member when no part is positive. */
static int explain_rows(struct ansc *s, size_t n, struct ml_err *e)
{
	const struct an *A = s->A;
	size_t i;
	int k, j, rc, pos;

	for (i = 0; i < n; i++) {
		s->expl[i] = ML_MISSING_CAT;
		if (!(s->flag[i] > 0))
			continue;
		for (k = 0, pos = 0; k < A->n; k++)
			pos |= member_z(s, k, i) > 0 && A->w[k] > 0;
		memset(s->fw, 0, (size_t)(s->nf ? s->nf : 1) * sizeof(double));
		for (k = 0; k < A->n; k++) {
			double z = member_z(s, k, i), a = pos ? A->w[k] * (z > 0 ? z : 0) : A->w[k];
			for (j = 0; j < s->nsh[k]; j++)
				s->fw[s->shf[k][j]] += a * s->mo[k]->col[s->shcol[k][j]].num[i];
		}
		if ((rc = ml_detect_explain(s->fw, s->nf, (const char *const *)s->fname,
					    &s->out.cols[4].dict, &s->expl[i], e)) < 0)
			return rc;
	}
	return 0;
}

static int an_apply(void *sc, const struct ml_block *in, size_t from, size_t to,
		    const struct ml_block **out, struct ml_err *e)
{
	struct ansc *s = sc;
	const struct an *A = s->A;
	size_t n = to > from ? to - from : 0, i;
	int k, rc;

	if ((rc = an_reserve(s, n ? n : 1, e)) < 0 ||
	    (rc = ml_ens_chains_apply(s->ch, A->n, in, from, to, s->mo, e)) < 0)
		return rc;
	for (i = 0; i < n; i++) {
		double x = 0;
		for (k = 0; k < A->n; k++)
			x += A->w[k] * member_z(s, k, i);
		s->val[i * ML_DETECT_NOUT] = x;
	}
	ml_detect_apply(&A->det, s->val, n);
	for (i = 0; i < n; i++) {
		const double *v = s->val + i * ML_DETECT_NOUT;
		s->score[i] = v[0];
		s->flag[i] = v[1];
		s->sev[i] = (int32_t)v[2];
		s->kind[i] = v[1] <= 0		  ? -1 :
			     an_top_temporal(s, i) ? AN_TEMPORAL :
						     row_kind(s, in, from + i);
	}
	if (s->explain && (rc = explain_rows(s, n, e)) < 0)
		return rc;
	s->vcol[0].num = s->score;
	s->vcol[1].num = s->flag;
	s->vcol[2].cat = s->sev;
	s->vcol[3].cat = s->kind;
	s->vcol[4].cat = s->expl;
	s->view.nrow = s->view.cap = n;
	*out = &s->view;
	return 0;
}

const struct ml_kind ml_ens_kind_anomaly = {
	.name = "ensemble",
	.flags = ML_ARTEFACT_FINAL,
	.open = an_open,
	.close = an_close,
	.input_schema = an_input_schema,
	.tables = an_tables,
	.table = an_table,
	.scorer_new = an_scorer_new,
	.scorer_free = an_scorer_free,
	.set_pool = an_set_pool,
	.bind = an_bind,
	.apply = an_apply,
};

/* --- The "ensemble" kind: the method's share ------------------------------------------------ */

struct disp {
	const struct ml_kind *k;
	void *st;
};

static int disp_open(void **state, const struct ml_model *m, const char *name, struct ml_err *e)
{
	struct disp *d = calloc(1, sizeof(*d));
	int rc;

	*state = NULL;
	if (!d)
		return ml_err_nomem(e);
	d->k = strcmp(ml_model_algorithm(m), "anomaly") == 0 ? &ml_ens_kind_anomaly
							     : &ml_ens_kind_models;
	if ((rc = d->k->open(&d->st, m, name, e)) < 0) {
		free(d);
		return rc;
	}
	*state = d;
	return 0;
}

static void disp_close(void *state)
{
	struct disp *d = state;

	if (d)
		d->k->close(d->st);
	free(d);
}

static int disp_input_schema(const void *state, struct ml_schema *s, struct ml_err *e)
{
	const struct disp *d = state;

	return d->k->input_schema(d->st, s, e);
}

static const char *const *disp_tables(const void *state)
{
	const struct disp *d = state;

	return d->k->tables(d->st);
}

static int disp_table(const void *state, const char *name, struct ml_frame *out,
		      struct ml_err *e)
{
	const struct disp *d = state;

	return d->k->table(d->st, name, out, e);
}

static int disp_describe(const void *state, cJSON *meta, struct ml_err *e)
{
	const struct disp *d = state;

	return d->k->describe ? d->k->describe(d->st, meta, e) : 0;
}

static int disp_scorer_new(void **sc, const void *state, const struct ml_apply_opts *o,
			   struct ml_err *e)
{
	const struct disp *d = state;
	struct disp *s = calloc(1, sizeof(*s));
	int rc;

	*sc = NULL;
	if (!s)
		return ml_err_nomem(e);
	s->k = d->k;
	if ((rc = d->k->scorer_new(&s->st, d->st, o, e)) < 0) {
		free(s);
		return rc;
	}
	*sc = s;
	return 0;
}

static void disp_scorer_free(void *sc)
{
	struct disp *s = sc;

	if (s)
		s->k->scorer_free(s->st);
	free(s);
}

static void disp_set_pool(void *sc, struct ml_pool *pool)
{
	struct disp *s = sc;

	if (s->k->set_pool)
		s->k->set_pool(s->st, pool);
}

static int disp_bind(void *sc, const struct ml_schema *in, const struct ml_schema **out,
		     struct ml_err *e)
{
	struct disp *s = sc;

	return s->k->bind(s->st, in, out, e);
}

static int disp_apply(void *sc, const struct ml_block *in, size_t from, size_t to,
		      const struct ml_block **out, struct ml_err *e)
{
	struct disp *s = sc;

	return s->k->apply(s->st, in, from, to, out, e);
}

const struct ml_kind ml_kind_ensemble = {
	.name = "ensemble",
	.flags = ML_ARTEFACT_FINAL,
	.open = disp_open,
	.close = disp_close,
	.input_schema = disp_input_schema,
	.tables = disp_tables,
	.table = disp_table,
	.describe = disp_describe,
	.scorer_new = disp_scorer_new,
	.scorer_free = disp_scorer_free,
	.set_pool = disp_set_pool,
	.bind = disp_bind,
	.apply = disp_apply,
};
