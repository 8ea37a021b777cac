/* What every anomaly detector shares: threshold, severity bands and the calibration of
 * its scores against the training rows' scores. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ctx.h"
#include "ml/frame.h"
#include "ml/num.h"
#include "detect.h"
#include "core/sort.h"

static const char *const out_names[ML_DETECT_NOUT] = {"score", "anomaly", "severity"};
static const char *const severity_names[5] = {"none", "low", "medium", "high", "critical"};

int ml_detect_init(struct ml_detect *d, const struct ml_params *hp, const char *algo,
		   struct ml_err *e)
{
	const char *c = ml_param_text(hp, "contamination");
	int k, nb;

	memset(d, 0, sizeof(*d));
	d->contamination = -1;
	if (c && strcmp(c, "auto") != 0 &&
	    (ml_parse_real(c, 0, 0.5, &d->contamination) != 0 || !(d->contamination > 0)))
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "invalid value '%s' for --contamination of -a %s (auto, or a "
				  "fraction above 0 and at most 0.5)",
				  c, algo);
	nb = ml_param_list(hp, "bands", d->band, 4);
	if (nb != 4)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "--bands takes four quantiles (low, medium, high, critical), "
				  "not %d",
				  nb);
	for (k = 0; k < 4; k++)
		if (!(d->band[k] > 0 && d->band[k] < 1) || (k && !(d->band[k] > d->band[k - 1])))
			return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
					  "--bands: the quantiles must rise strictly between 0 "
					  "and 1");
	return 0;
}

double ml_detect_quantile(const double *s, size_t n, double q)
{
	double h = q * (double)(n - 1), f = floor(h);
	size_t i = (size_t)f;

	if (n == 0)
		return NAN;
	if (i + 1 >= n)
		return s[n - 1];
	return s[i] + (h - f) * (s[i + 1] - s[i]);
}

int ml_detect_fit(struct ml_detect *d, double *s, size_t n, double auto_thr, struct ml_err *e)
{
	size_t i;
	int k;

	for (i = 0; i < n; i++)
		if (!isfinite(s[i]))
			return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
					  "a training row's score is not finite (a feature with "
					  "huge values?)");
	qsort(s, n, sizeof(double), ml_cmp_double);
	d->n = n;
	d->thr = d->contamination > 0 ? ml_detect_quantile(s, n, 1 - d->contamination) :
		 isnan(auto_thr)       ? ml_detect_quantile(s, n, 0.9) :
					 auto_thr;
	for (k = 0; k < 4; k++)
		d->bscore[k] = ml_detect_quantile(s, n, d->band[k]);
	for (k = 0; k < ML_DETECT_GRID; k++)
		d->grid[k] = ml_detect_quantile(s, n, (double)k / (ML_DETECT_GRID - 1));
	return 0;
}

void ml_detect_apply(const struct ml_detect *d, double *out, size_t n)
{
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		double *o = out + i * ML_DETECT_NOUT, s = o[0];
		int sev = s > d->thr;
		for (k = 0; k < 4; k++)
			if (s >= d->bscore[k])
				sev = k + 1;
		o[1] = s > d->thr;
		o[2] = sev;
	}
}

double ml_detect_calibrated(const struct ml_detect *d, double s)
{
	const double *g = d->grid;
	size_t lo = 0, hi = ML_DETECT_GRID - 1;

	if (!(s >= g[0]))
		return s == s ? 0 : NAN;
	if (s >= g[hi])
		return 1;
	/* the last grid point at or below s, then linear to the next */
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		if (g[mid] <= s)
			lo = mid;
		else
			hi = mid;
	}
	return ((double)lo + (g[hi] > g[lo] ? (s - g[lo]) / (g[hi] - g[lo]) : 1)) /
	       (ML_DETECT_GRID - 1);
}

void ml_detect_save(const struct ml_detect *d, struct ml_wbuf *b)
{
	ml_wbuf_f64(b, d->contamination);
	ml_wbuf_f64(b, d->thr);
	ml_wbuf_f64v(b, d->band, 4);
	ml_wbuf_f64v(b, d->bscore, 4);
	ml_wbuf_u64(b, d->n);
	ml_wbuf_u32(b, ML_DETECT_GRID);
	ml_wbuf_f64v(b, d->grid, ML_DETECT_GRID);
}

int ml_detect_load(struct ml_detect *d, struct ml_rbuf *b, const char *sec, struct ml_err *e)
{
	int k, ok;

	d->contamination = ml_rbuf_f64(b);
	d->thr = ml_rbuf_f64(b);
	ml_rbuf_f64v(b, d->band, 4);
	ml_rbuf_f64v(b, d->bscore, 4);
	d->n = (size_t)ml_rbuf_u64(b);
	ok = ml_rbuf_u32(b) == ML_DETECT_GRID;
	if (ok)
		ml_rbuf_f64v(b, d->grid, ML_DETECT_GRID);
	ok = ok && !b->err && !isnan(d->thr) &&
	     (d->contamination == -1 || (d->contamination > 0 && d->contamination <= 0.5));
	for (k = 0; ok && k < 4; k++)
		ok = d->band[k] > 0 && d->band[k] < 1 && (k == 0 || d->band[k] > d->band[k - 1]) &&
		     isfinite(d->bscore[k]);
	for (k = 0; ok && k < ML_DETECT_GRID; k++)
		ok = isfinite(d->grid[k]) && (k == 0 || d->grid[k] >= d->grid[k - 1]);
	if (!ok)
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				  "model section '%s' is invalid: bad calibration", sec);
	return 0;
}

int ml_detect_outputs(const void *state, const char **names, int max)
{
	int k;

	(void)state;
	for (k = 0; names && k < max && k < ML_DETECT_NOUT; k++)
		names[k] = out_names[k];
	return ML_DETECT_NOUT;
}

const char *ml_detect_output_levels(const void *state, int k)
{
	(void)state;
	return k == 2 ? "none,low,medium,high,critical" : NULL;
}

int ml_detect_frame_cat(struct ml_frame *f, int col, size_t row, const char *s,
			struct ml_err *e)
{
	int32_t code = ml_dict_intern(&f->schema.cols[col].dict, s, strlen(s));

	if (code < 0)
		return ml_err_nomem(e);
	f->rows.col[col].cat[row] = code;
	return 0;
}

int ml_detect_table(const struct ml_detect *d, const char *algo, const char *name,
		    struct ml_frame *out, struct ml_err *e)
{
	int k, rc;

	if (strcmp(name, "calibration") == 0) {
		if (ml_schema_add(&out->schema, "quantile", ML_NUM) < 0 ||
		    ml_schema_add(&out->schema, "score", ML_NUM) < 0)
			return ml_err_nomem(e);
		if ((rc = ml_block_init(&out->rows, &out->schema, ML_DETECT_GRID, e)) < 0)
			return rc;
		for (k = 0; k < ML_DETECT_GRID; k++) {
			out->rows.col[0].num[k] = (double)k / (ML_DETECT_GRID - 1);
			out->rows.col[1].num[k] = d->grid[k];
		}
		out->rows.nrow = ML_DETECT_GRID;
		return 0;
	}
	if (strcmp(name, "severity") != 0)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "-a %s models have no table '%s'", algo,
				  name);
	if (ml_schema_add(&out->schema, "level", ML_CAT) < 0 ||
	    ml_schema_add(&out->schema, "quantile", ML_NUM) < 0 ||
	    ml_schema_add(&out->schema, "score", ML_NUM) < 0)
		return ml_err_nomem(e);
	if ((rc = ml_block_init(&out->rows, &out->schema, 5, e)) < 0)
		return rc;
	/* the threshold first: its quantile is where it falls among the training scores */
	if ((rc = ml_detect_frame_cat(out, 0, 0, "anomaly", e)) < 0)
		return rc;
	out->rows.col[1].num[0] =
	    d->contamination > 0 ? 1 - d->contamination : ml_detect_calibrated(d, d->thr);
	out->rows.col[2].num[0] = d->thr;
	for (k = 0; k < 4; k++) {
		if ((rc = ml_detect_frame_cat(out, 0, (size_t)k + 1, severity_names[k + 1], e)) < 0)
			return rc;
		out->rows.col[1].num[k + 1] = d->band[k];
		out->rows.col[2].num[k + 1] = d->bscore[k];
	}
	out->rows.nrow = 5;
	return 0;
}

void ml_detect_robust(double *v, size_t n, double *center, double *scale)
{
	double c, s = 0;
	size_t i;

	qsort(v, n, sizeof(double), ml_cmp_double);
	c = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	for (i = 0; i < n; i++)
		v[i] = fabs(v[i] - c);
	qsort(v, n, sizeof(double), ml_cmp_double);
	s = 1.482602218505602 * (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2);
	if (!(s > 0)) {
		s = 0;
		for (i = 0; i < n; i++)
			s += v[i];
		s = 1.2533141373155001 * s / (double)n;
	}
	*center = c;
	*scale = s > 0 ? s : 1;
}

void ml_detect_release(struct ml_detect *d)
{
	int j;

	for (j = 0; d->names && j < d->p; j++)
		free(d->names[j]);
	free(d->names);
	free(d->sidx);
	free(d->sscore);
	free(d->center);
	free(d->scale);
	d->names = NULL;
	d->sidx = NULL;
	d->sscore = d->center = d->scale = NULL;
	d->ns = 0;
}

int ml_detect_keep(struct ml_detect *d, const double *X, size_t n, int p, size_t ri,
		   size_t rj, const char *const *names, const double *s, struct ml_err *e)
{
	size_t m = n < ML_DETECT_SAMPLE ? n : ML_DETECT_SAMPLE, i, k = 0;
	struct ml_rng r;
	double *v;
	int j;

	ml_detect_release(d);
	d->sidx = malloc((m ? m : 1) * sizeof(uint64_t));
	d->sscore = malloc((m ? m : 1) * sizeof(double));
	d->center = malloc((size_t)p * sizeof(double));
	d->scale = malloc((size_t)p * sizeof(double));
	d->names = calloc((size_t)p, sizeof(char *));
	v = malloc((m ? m : 1) * sizeof(double));
	d->p = p;
	if (!d->sidx || !d->sscore || !d->center || !d->scale || !d->names || !v) {
		free(v);
		ml_detect_release(d);
		return ml_err_nomem(e);
	}
	/* selection sampling (Knuth's algorithm S): m of n rows, in order */
	ml_rng_seed(&r, ML_DETECT_SAMPLE_SEED ^ (uint64_t)n);
	for (i = 0; i < n && k < m; i++)
		if ((double)(n - i) * ml_rng_uniform(&r) < (double)(m - k))
			d->sidx[k++] = i;
	d->ns = k;
	for (k = 0; k < d->ns; k++)
		d->sscore[k] = s[d->sidx[k]];
	for (j = 0; j < p; j++) {
		char buf[32];
		for (k = 0; k < d->ns; k++)
			v[k] = X[d->sidx[k] * ri + (size_t)j * rj];
		ml_detect_robust(v, d->ns, &d->center[j], &d->scale[j]);
		snprintf(buf, sizeof(buf), "x%d", j + 1);
		if (!(d->names[j] = strdup(names && names[j] ? names[j] : buf))) {
			free(v);
			ml_detect_release(d);
			return ml_err_nomem(e);
		}
	}
	free(v);
	return 0;
}

int ml_detect_save_sample(const struct ml_detect *d, struct ml_model *mo, struct ml_err *e)
{
	struct ml_wbuf b;
	size_t k;
	int j;

	if (!d->sidx)
		return 0;
	ml_wbuf_init(&b);
	ml_wbuf_u32(&b, 1);
	ml_wbuf_u64(&b, d->n);
	ml_wbuf_u32(&b, (uint32_t)d->ns);
	for (k = 0; k < d->ns; k++)
		ml_wbuf_u64(&b, d->sidx[k]);
	ml_wbuf_f64v(&b, d->sscore, d->ns);
	ml_wbuf_u32(&b, (uint32_t)d->p);
	for (j = 0; j < d->p; j++) {
		ml_wbuf_str(&b, d->names[j]);
		ml_wbuf_f64(&b, d->center[j]);
		ml_wbuf_f64(&b, d->scale[j]);
	}
	return ml_algo_put(mo, ML_DETECT_SAMPLE_SECTION, &b, e);
}

int ml_detect_check(const struct ml_data *d, const char *algo, size_t min_rows,
		    struct ml_err *e)
{
	size_t i;
	int j;

	if (d->p < 1)
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "-a %s needs at least one feature", algo);
	if (d->n < min_rows)
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				  "-a %s needs at least %zu training rows, not %zu", algo, min_rows,
				  d->n);
	for (j = 0; j < d->p; j++)
		for (i = 0; i < d->n; i++)
			if (!isfinite(d->col[j][i]))
				return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
						  "feature '%s' has a value that is not finite",
						  d->names ? d->names[j] : "?");
	return 0;
}

int ml_detect_calibrate(struct ml_detect *det, const struct ml_data *d, const double *X,
			double *s, double auto_thr, struct ml_err *e)
{
	size_t i;
	int rc;

	for (i = 0; i < d->n; i++)
		s[i] = s[i * ML_DETECT_NOUT];
	if ((rc = ml_detect_keep(det, X, d->n, d->p, 1, d->n, d->names, s, e)) < 0)
		return rc;
	return ml_detect_fit(det, s, d->n, auto_thr, e);
}

int ml_detect_explain(const double *w, int p, const char *const *names, struct ml_dict *d,
		      int32_t *code, struct ml_err *e)
{
	int top[ML_DETECT_TOP], ntop = 0, j, t;
	char text[1024];
	size_t len = 0;

	*code = ML_MISSING_CAT;
	for (j = 0; j < p; j++) {
		if (!(w[j] > 0))
			continue;
		if (ntop < ML_DETECT_TOP)
			ntop++;
		else if (!(w[j] > w[top[ML_DETECT_TOP - 1]]))
			continue;
		/* into place: ties keep the earlier feature first */
		for (t = ntop - 1; t > 0 && w[top[t - 1]] < w[j]; t--)
			top[t] = top[t - 1];
		top[t] = j;
	}
	for (t = 0; t < ntop && len < sizeof(text); t++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s%s", t ? ";" : "",
					names[top[t]]);
	if (len >= sizeof(text))
		len = sizeof(text) - 1;
	if (ntop && (*code = ml_dict_intern(d, text, len)) < 0)
		return ml_err_nomem(e);
	return 0;
}
