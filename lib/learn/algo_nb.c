/* Naive Bayes (-a nb): Gaussian terms for numeric features, categorical terms for native
 * categorical features, as scikit-learn's GaussianNB and CategoricalNB. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "algo.h"

#define NB_VERSION 1
/* CategoricalNB (force_alpha=False) raises a smaller alpha to this. */
#define NB_ALPHA_MIN 1e-10
#define NB_PI	     3.14159265358979323846

static const struct ml_param nb_params[] = {
	{"var-smoothing", ML_P_REAL, 1e-9, 0, 1, NULL,
	 "add this times the largest numeric feature variance to every variance"},
	{"alpha", ML_P_REAL, 1.0, 0, 1e6, NULL,
	 "additive (Laplace/Lidstone) smoothing of categorical level counts"},
	{NULL, ML_P_REAL, 0, 0, 0, NULL, NULL}};

struct nb {
	int p, nclass;
	double alpha, var_smoothing, epsilon;
	int *ncat;     /* per feature: 0 numeric, else levels */
	double *count; /* per class: weighted rows */
	double *logprior;
	double *theta;	  /* numeric feature j, class c: theta[j * nclass + c] */
	double *var;	  /* smoothed variance, same layout */
	double *lognorm;  /* -0.5 log(2 pi var), same layout */
	double **ccount;  /* categorical feature j: weighted counts [c * ncat[j] + v] */
	double **logprob; /* log P(level v | class c), same layout */
};

static void nb_free(void *state)
{
	struct nb *m = state;
	int j;

	if (!m)
		return;
	for (j = 0; j < m->p; j++) {
		if (m->ccount)
			free(m->ccount[j]);
		if (m->logprob)
			free(m->logprob[j]);
	}
	free(m->ccount);
	free(m->logprob);
	free(m->ncat);
	free(m->count);
	free(m->logprior);
	free(m->theta);
	free(m->var);
	free(m->lognorm);
	free(m);
}

/* Allocate the per-feature arrays once p, nclass and ncat are known. */
static int nb_alloc(struct nb *m)
{
	size_t pc = (size_t)m->p * (size_t)m->nclass;
	int j;

	m->count = calloc((size_t)m->nclass, sizeof(double));
	m->logprior = calloc((size_t)m->nclass, sizeof(double));
	m->theta = calloc(pc ? pc : 1, sizeof(double));
	m->var = calloc(pc ? pc : 1, sizeof(double));
	m->lognorm = calloc(pc ? pc : 1, sizeof(double));
	m->ccount = calloc((size_t)(m->p ? m->p : 1), sizeof(double *));
	m->logprob = calloc((size_t)(m->p ? m->p : 1), sizeof(double *));
	if (!m->count || !m->logprior || !m->theta || !m->var || !m->lognorm || !m->ccount ||
	    !m->logprob)
		return ML_E_NOMEM;
	for (j = 0; j < m->p; j++) {
		size_t sz;
		if (!m->ncat[j])
			continue;
		sz = (size_t)m->ncat[j] * (size_t)m->nclass;
		m->ccount[j] = calloc(sz, sizeof(double));
		m->logprob[j] = calloc(sz, sizeof(double));
		if (!m->ccount[j] || !m->logprob[j])
			return ML_E_NOMEM;
	}
	return 0;
}

/* The derived quantities, from counts, theta and var: computed the same way after fit and
 * after load, so a loaded model scores bit-identically. */
static void nb_derive(struct nb *m)
{
	double total = 0, alpha = m->alpha < NB_ALPHA_MIN ? NB_ALPHA_MIN : m->alpha;
	int c, j, v;

	for (c = 0; c < m->nclass; c++)
		total += m->count[c];
	for (c = 0; c < m->nclass; c++)
		m->logprior[c] = log(m->count[c]) - log(total);
	for (j = 0; j < m->p; j++) {
		if (!m->ncat[j]) {
			for (c = 0; c < m->nclass; c++) {
				size_t t = (size_t)j * (size_t)m->nclass + (size_t)c;
				m->lognorm[t] = -0.5 * log(2.0 * NB_PI * m->var[t]);
			}
			continue;
		}
		for (c = 0; c < m->nclass; c++) {
			const double *cnt = m->ccount[j] + (size_t)c * (size_t)m->ncat[j];
			double *lp = m->logprob[j] + (size_t)c * (size_t)m->ncat[j];
			double sum = 0;
			for (v = 0; v < m->ncat[j]; v++)
				sum += cnt[v] + alpha;
			for (v = 0; v < m->ncat[j]; v++)
				lp[v] = log(cnt[v] + alpha) - log(sum);
		}
	}
}

/* Per class (y NULL: one class of every row), the summed weight sw, mean and population
 * variance of the present values of x, weighted by w (NULL: 1); two passes. */
static void moments(const double *x, const double *y, const double *w, size_t n, int nclass,
		    double *sw, double *mean, double *var)
{
	size_t i;
	int c;

	for (c = 0; c < nclass; c++)
		sw[c] = mean[c] = var[c] = 0;
	for (i = 0; i < n; i++) {
		double wi = w ? w[i] : 1;
		if (x[i] != x[i])
			continue;
		c = y ? (int)y[i] : 0;
		sw[c] += wi;
		mean[c] += wi * x[i];
	}
	for (c = 0; c < nclass; c++)
		if (sw[c] > 0)
			mean[c] /= sw[c];
	for (i = 0; i < n; i++) {
		double wi = w ? w[i] : 1, dv;
		if (x[i] != x[i])
			continue;
		c = y ? (int)y[i] : 0;
		dv = x[i] - mean[c];
		var[c] += wi * dv * dv;
	}
	for (c = 0; c < nclass; c++)
		if (sw[c] > 0)
			var[c] /= sw[c];
}

static int nb_fit(void **state, const struct ml_data *d, const struct ml_data *valid,
		  const struct ml_params *hp, struct ml_ctx *ctx, struct ml_err *e)
{
	struct nb *m;
	double total = 0, maxvar = 0, *sw = NULL, *mean = NULL, *var = NULL;
	size_t i;
	int c, j, rc;

	(void)valid;
	*state = NULL;
	if (d->nclass < 2)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "-a nb only classifies");
	m = calloc(1, sizeof(*m));
	if (!m)
		return ml_err_nomem(e);
	m->p = d->p;
	m->nclass = d->nclass;
	m->alpha = ml_param(hp, "alpha");
	m->var_smoothing = ml_param(hp, "var-smoothing");
	m->ncat = calloc((size_t)(d->p ? d->p : 1), sizeof(int));
	if (!m->ncat) {
		rc = ml_err_nomem(e);
		goto fail;
	}
	for (j = 0; j < d->p; j++)
		m->ncat[j] = d->ncat ? d->ncat[j] : 0;
	if (nb_alloc(m) < 0) {
		rc = ml_err_nomem(e);
		goto fail;
	}
	for (i = 0; i < d->n; i++) {
		double wi = d->w ? d->w[i] : 1;
		if (!(d->y[i] >= 0 && d->y[i] < m->nclass)) {
			rc = ml_err_set(e, ML_E_INTERNAL, NULL, 0, 0, "class index out of range");
			goto fail;
		}
		m->count[(int)d->y[i]] += wi;
		total += wi;
	}
	if (!(total > 0)) {
		rc = ml_err_set(e, ML_E_DATA, NULL, 0, 0, "the row weights sum to zero");
		goto fail;
	}
	sw = malloc((size_t)m->nclass * sizeof(double));
	mean = malloc((size_t)m->nclass * sizeof(double));
	var = malloc((size_t)m->nclass * sizeof(double));
	if (!sw || !mean || !var) {
		rc = ml_err_nomem(e);
		goto fail;
	}
	/* GaussianNB: epsilon from the unweighted variance of each feature. */
	for (j = 0; j < d->p; j++) {
		if (m->ncat[j])
			continue;
		moments(d->col[j], NULL, NULL, d->n, 1, sw, mean, var);
		if (var[0] > maxvar)
			maxvar = var[0];
	}
	m->epsilon = m->var_smoothing * maxvar;
	for (j = 0; j < d->p; j++) {
		const double *x = d->col[j];
		double gsw, gmean, gvar;
		if (m->ncat[j]) {
			for (i = 0; i < d->n; i++) {
				double v = x[i];
				if (v != v)
					continue;
				if (!(v >= 0 && v < m->ncat[j]) || v != floor(v)) {
					rc = ml_err_set(e, ML_E_INTERNAL, NULL, 0, 0,
							"feature '%s' holds %g, not a level index",
							d->names ? d->names[j] : "?", v);
					goto fail;
				}
				m->ccount[j][(size_t)d->y[i] * (size_t)m->ncat[j] + (size_t)v] +=
					d->w ? d->w[i] : 1;
			}
			continue;
		}
		/* a class with no present value takes the feature's overall moments */
		moments(x, NULL, d->w, d->n, 1, &gsw, &gmean, &gvar);
		moments(x, d->y, d->w, d->n, m->nclass, sw, mean, var);
		for (c = 0; c < m->nclass; c++) {
			size_t t = (size_t)j * (size_t)m->nclass + (size_t)c;
			m->theta[t] = sw[c] > 0 ? mean[c] : gmean;
			m->var[t] = (sw[c] > 0 ? var[c] : gvar) + m->epsilon;
			if (!isfinite(m->theta[t]) || !isfinite(m->var[t])) {
				rc = ml_err_set(e, ML_E_DATA, NULL, 0, 0,
						"feature '%s' has values too large for -a nb",
						d->names ? d->names[j] : "?");
				goto fail;
			}
			if (!(m->var[t] > 0)) {
				rc = ml_err_set(e, ML_E_DATA, NULL, 0, 0,
						"feature '%s' has zero variance within a class and "
						"--var-smoothing adds none (it scales the largest "
						"numeric feature variance, here %g)",
						d->names ? d->names[j] : "?", maxvar);
				goto fail;
			}
		}
	}
	free(sw);
	free(mean);
	free(var);
	nb_derive(m);
	ml_log(ctx, ML_LOG_DEBUG, "nb: %zu rows, %d features, epsilon %g", d->n, d->p, m->epsilon);
	*state = m;
	return 0;
fail:
	free(sw);
	free(mean);
	free(var);
	nb_free(m);
	return rc;
}

/* Joint log-likelihood of one row (x[j * ld]) for every class; a missing feature, or a
 * level index the model does not have, adds no term. */
static void nb_jll(const struct nb *m, const double *x, size_t ld, double *jll)
{
	int c, j;

	for (c = 0; c < m->nclass; c++)
		jll[c] = m->logprior[c];
	for (j = 0; j < m->p; j++) {
		double v = x[(size_t)j * ld];
		if (v != v)
			continue;
		if (m->ncat[j]) {
			const double *lp = m->logprob[j];
			size_t lev;
			if (!(v >= 0 && v < m->ncat[j]) || v != floor(v))
				continue;
			lev = (size_t)v;
			for (c = 0; c < m->nclass; c++)
				jll[c] += lp[(size_t)c * (size_t)m->ncat[j] + lev];
		} else {
			const double *th = m->theta + (size_t)j * (size_t)m->nclass;
			const double *va = m->var + (size_t)j * (size_t)m->nclass;
			const double *ln = m->lognorm + (size_t)j * (size_t)m->nclass;
			for (c = 0; c < m->nclass; c++) {
				double dv = v - th[c];
				jll[c] += ln[c] - 0.5 * (dv * dv / va[c]);
			}
		}
	}
}

static int nb_predict(const void *state, const double *X, size_t n, size_t ld, double *out, int raw,
		      struct ml_err *e)
{
	const struct nb *m = state;
	double *jll = malloc((size_t)m->nclass * sizeof(double));
	size_t i;
	int c;

	if (!jll)
		return ml_err_nomem(e);
	for (i = 0; i < n; i++) {
		nb_jll(m, X + i, ld, jll);
		if (raw && m->nclass == 2) {
			out[i] = jll[1] - jll[0];
		} else if (raw) {
			memcpy(out + i * (size_t)m->nclass, jll,
			       (size_t)m->nclass * sizeof(double));
		} else {
			/* exp(jll - logsumexp(jll)), as scipy's logsumexp. */
			double mx = -INFINITY, s = 0, lse;
			double *o = out + i * (size_t)m->nclass;
			for (c = 0; c < m->nclass; c++)
				if (jll[c] > mx)
					mx = jll[c];
			if (!isfinite(mx))
				mx = 0;
			for (c = 0; c < m->nclass; c++)
				s += exp(jll[c] - mx);
			lse = log(s) + mx;
			for (c = 0; c < m->nclass; c++)
				o[c] = exp(jll[c] - lse);
		}
	}
	free(jll);
	return 0;
}

/* Section "algo.nb": u32 version, u32 p, u32 nclass, f64 alpha, var_smoothing, epsilon,
 * f64 count[nclass], then per feature u32 ncat and either f64 theta[nclass],
 * var[nclass] (numeric) or f64 counts[nclass * ncat] (categorical, class-major). */
static int nb_save(const void *state, struct ml_model *mo, struct ml_err *e)
{
	const struct nb *m = state;
	struct ml_wbuf b;
	int j, rc;

	ml_wbuf_init(&b);
	ml_wbuf_u32(&b, NB_VERSION);
	ml_wbuf_u32(&b, (uint32_t)m->p);
	ml_wbuf_u32(&b, (uint32_t)m->nclass);
	ml_wbuf_f64(&b, m->alpha);
	ml_wbuf_f64(&b, m->var_smoothing);
	ml_wbuf_f64(&b, m->epsilon);
	ml_wbuf_f64v(&b, m->count, (size_t)m->nclass);
	for (j = 0; j < m->p; j++) {
		ml_wbuf_u32(&b, (uint32_t)m->ncat[j]);
		if (m->ncat[j]) {
			ml_wbuf_f64v(&b, m->ccount[j], (size_t)m->nclass * (size_t)m->ncat[j]);
		} else {
			ml_wbuf_f64v(&b, m->theta + (size_t)j * (size_t)m->nclass,
				     (size_t)m->nclass);
			ml_wbuf_f64v(&b, m->var + (size_t)j * (size_t)m->nclass, (size_t)m->nclass);
		}
	}
	if (b.err) {
		ml_wbuf_release(&b);
		return ml_err_nomem(e);
	}
	rc = ml_model_add(mo, "algo.nb", b.p, b.n, e);
	ml_wbuf_release(&b);
	return rc;
}

static int nb_bad(struct nb *m, struct ml_err *e, const char *what)
{
	nb_free(m);
	return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "model section 'algo.nb' is invalid: %s", what);
}

static int nb_load(void **state, const struct ml_model *mo, const struct ml_data *shape,
		   struct ml_err *e)
{
	size_t k;
	struct ml_rbuf b;
	struct nb *m;
	double total = 0;
	uint32_t p, nclass;
	int j, c, rc;

	*state = NULL;
	if ((rc = ml_algo_get(mo, "algo.nb", NB_VERSION, &b, e)) < 0)
		return rc;
	m = calloc(1, sizeof(*m));
	if (!m)
		return ml_err_nomem(e);
	p = ml_rbuf_u32(&b);
	nclass = ml_rbuf_u32(&b);
	/* Checked before m takes them: nb_free walks m->p features, so a count from the file
	 * must not reach it unchecked (2^31 - 1 of them took seconds to walk). */
	if (b.err || p != (uint32_t)shape->p || nclass != (uint32_t)shape->nclass || nclass < 2)
		return nb_bad(m, e, "its shape does not match the model's features and classes");
	m->p = (int)p;
	m->nclass = (int)nclass;
	m->alpha = ml_rbuf_f64(&b);
	m->var_smoothing = ml_rbuf_f64(&b);
	m->epsilon = ml_rbuf_f64(&b);
	if (!(m->alpha >= 0) || !isfinite(m->alpha) || !(m->var_smoothing >= 0) ||
	    !isfinite(m->var_smoothing) || !(m->epsilon >= 0) || !isfinite(m->epsilon))
		return nb_bad(m, e, "bad smoothing values");
	m->ncat = calloc((size_t)(m->p ? m->p : 1), sizeof(int));
	if (!m->ncat) {
		nb_free(m);
		return ml_err_nomem(e);
	}
	for (j = 0; j < m->p; j++)
		m->ncat[j] = shape->ncat ? shape->ncat[j] : 0;
	if (nb_alloc(m) < 0) {
		nb_free(m);
		return ml_err_nomem(e);
	}
	ml_rbuf_f64v(&b, m->count, (size_t)m->nclass);
	for (c = 0; c < m->nclass; c++) {
		if (!(m->count[c] >= 0) || !isfinite(m->count[c]))
			return nb_bad(m, e, "bad class count");
		total += m->count[c];
	}
	if (!(total > 0) || !isfinite(total))
		return nb_bad(m, e, "bad class count");
	for (j = 0; j < m->p; j++) {
		uint32_t nc = ml_rbuf_u32(&b);
		if (b.err || nc != (uint32_t)m->ncat[j])
			return nb_bad(m, e, "a feature's level count does not match the model's");
		if (nc) {
			size_t sz = (size_t)m->nclass * nc;
			if (ml_rbuf_count(&b, sz, 8) != sz)
				return nb_bad(m, e, "truncated");
			ml_rbuf_f64v(&b, m->ccount[j], sz);
			for (k = 0; k < sz; k++)
				if (!(m->ccount[j][k] >= 0) || !isfinite(m->ccount[j][k]))
					return nb_bad(m, e, "bad level count");
		} else {
			double *th = m->theta + (size_t)j * (size_t)m->nclass;
			double *va = m->var + (size_t)j * (size_t)m->nclass;
			ml_rbuf_f64v(&b, th, (size_t)m->nclass);
			ml_rbuf_f64v(&b, va, (size_t)m->nclass);
			for (c = 0; c < m->nclass; c++)
				if (!isfinite(th[c]) || !(va[c] > 0) || !isfinite(va[c]))
					return nb_bad(m, e, "bad mean or variance");
		}
	}
	if (b.err)
		return nb_bad(m, e, "truncated");
	if (b.off != b.n)
		return nb_bad(m, e, "trailing bytes");
	nb_derive(m);
	*state = m;
	return 0;
}

/* Tables. */

static const char *const nb_tables[] = {"classes", "theta", "var", NULL};

/* Name of class k in tables: the class index, since the shape carries no labels. */
static void class_label(int k, char *buf, size_t n)
{
	snprintf(buf, n, "%d", k);
}

static int frame_cat(struct ml_frame *f, int col, size_t row, const char *s, struct ml_err *e)
{
	int32_t code = ml_dict_intern(&f->schema.cols[col].dict, s, strlen(s));
	if (code < 0)
		return code == ML_E_NOMEM ? ml_err_nomem(e)
					  : ml_err_set(e, code, NULL, 0, 0, "too many levels");
	f->rows.col[col].cat[row] = code;
	return 0;
}

static int nb_table(const void *state, const char *name, const struct ml_data *shape,
		    struct ml_frame *out, struct ml_err *e)
{
	const struct nb *m = state;
	char buf[32];
	size_t row = 0, nrow = 0;
	double total = 0;
	int c, j, rc;

	if (strcmp(name, "classes") == 0) {
		if (ml_schema_add(&out->schema, "class", ML_CAT) < 0 ||
		    ml_schema_add(&out->schema, "prior", ML_NUM) < 0 ||
		    ml_schema_add(&out->schema, "count", ML_NUM) < 0)
			return ml_err_nomem(e);
		if ((rc = ml_block_init(&out->rows, &out->schema, (size_t)m->nclass, e)) < 0)
			return rc;
		for (c = 0; c < m->nclass; c++)
			total += m->count[c];
		for (c = 0; c < m->nclass; c++) {
			class_label(c, buf, sizeof(buf));
			if ((rc = frame_cat(out, 0, (size_t)c, buf, e)) < 0)
				return rc;
			out->rows.col[1].num[c] = m->count[c] / total;
			out->rows.col[2].num[c] = m->count[c];
		}
		out->rows.nrow = (size_t)m->nclass;
		return 0;
	}
	if (strcmp(name, "theta") != 0 && strcmp(name, "var") != 0)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "-a nb models have no table '%s'",
				  name);
	if (ml_schema_add(&out->schema, "feature", ML_CAT) < 0)
		return ml_err_nomem(e);
	for (c = 0; c < m->nclass; c++) {
		class_label(c, buf, sizeof(buf));
		if (ml_schema_add(&out->schema, buf, ML_NUM) < 0)
			return ml_err_nomem(e);
	}
	for (j = 0; j < m->p; j++)
		nrow += m->ncat[j] == 0;
	if ((rc = ml_block_init(&out->rows, &out->schema, nrow, e)) < 0)
		return rc;
	for (j = 0; j < m->p; j++) {
		const double *v =
		    (name[0] == 't' ? m->theta : m->var) + (size_t)j * (size_t)m->nclass;
		if (m->ncat[j])
			continue;
		if (shape->names)
			rc = frame_cat(out, 0, row, shape->names[j], e);
		else {
			snprintf(buf, sizeof(buf), "%d", j + 1);
			rc = frame_cat(out, 0, row, buf, e);
		}
		if (rc < 0)
			return rc;
		for (c = 0; c < m->nclass; c++)
			out->rows.col[c + 1].num[row] = v[c];
		row++;
	}
	out->rows.nrow = row;
	return 0;
}

const struct ml_algo ml_algo_nb = {
	.name = "nb",
	.summary = "naive Bayes: Gaussian numeric and categorical features",
	.flags = ML_ALGO_CLASSIFY | ML_ALGO_NATIVE_CAT | ML_ALGO_MISSING | ML_ALGO_ROWWISE,
	.params = nb_params,
	.fit = nb_fit,
	.predict = nb_predict,
	.save = nb_save,
	.load = nb_load,
	.tables = nb_tables,
	.table = nb_table,
	.free = nb_free,
};
