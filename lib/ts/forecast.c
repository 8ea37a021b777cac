/* Forecasting: the method table, fitting and forecasting with checked arguments, the
 * "forecaster" container and its kind of artefact. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "artefact/kind.h"
#include "ml/feat.h"
#include "learn/learn_int.h"
#include "method.h"
#include "ts_alloc.h"

#define ML_FC(n) extern const struct ml_fc_method ml_fc_##n;
#include "methods.h"
#undef ML_FC

const struct ml_fc_method *const *ml_fc_methods(void)
{
#define ML_FC(n) &ml_fc_##n,
	static const struct ml_fc_method *const all[] = {
#include "methods.h"
		NULL};
#undef ML_FC
	return all;
}

const struct ml_fc_method *ml_fc_method_find(const char *name)
{
	const struct ml_fc_method *const *m;

	for (m = ml_fc_methods(); *m; m++)
		if (strcmp((*m)->name, name) == 0)
			return *m;
	return NULL;
}

double ml_fc_step_day(const struct ml_series *s, long i)
{
	double t0 = s->cal.t0;

	if (s->cal.kind == ML_CAL_SECONDS)
		return (t0 + (double)i * s->cal.step) / 86400;
	if (s->cal.kind == ML_CAL_MONTHS) {
		long long days = (long long)floor(t0 / 86400), y, mm;
		double secs = t0 - (double)days * 86400;
		int m, d;
		ml_civil_from_days(days, &y, &m, &d);
		mm = y * 12 + (m - 1) + (long long)i * (long long)s->cal.step;
		y = mm >= 0 ? mm / 12 : -((-mm + 11) / 12);
		m = (int)(mm - y * 12) + 1;
		if (d > ml_month_days(y, m))
			d = ml_month_days(y, m);
		return (double)ml_days_from_civil(y, m, d) + secs / 86400;
	}
	return NAN;
}

const char *ml_fc_method_name(const struct ml_fc_method *m)
{
	return m->name;
}

const char *ml_fc_method_summary(const struct ml_fc_method *m)
{
	return m->summary;
}

const struct ml_param *ml_fc_method_params(const struct ml_fc_method *m)
{
	static const struct ml_param none = {NULL, ML_P_REAL, 0, 0, 0, NULL, NULL};
	return m->params ? m->params : &none;
}

int ml_fc_method_xreg(const struct ml_fc_method *m)
{
	return m->xreg;
}

size_t ml_fc_method_min_length(const struct ml_fc_method *m, const struct ml_series *s)
{
	return m->min_length ? m->min_length(s) : 1;
}

void ml_fc_params_init(struct ml_params *p, const struct ml_fc_method *m)
{
	ml_params_init_table(p, m->params, "--model", m->name);
}

struct ml_forecaster {
	const struct ml_fc_method *m;
	struct ml_params p;
	struct ml_series s; /* y and x owned */
	void *state;
};

void ml_fc_free(struct ml_forecaster *f)
{
	if (!f)
		return;
	if (f->state)
		f->m->free(f->state);
	free((double *)f->s.y);
	free((double *)f->s.x);
	free(f);
}

const struct ml_fc_method *ml_fc_method_of(const struct ml_forecaster *f)
{
	return f->m;
}

void *ml_fc_state(const struct ml_forecaster *f)
{
	return f->state;
}

int ml_fc_nx(const struct ml_forecaster *f)
{
	return f->s.nx;
}

size_t ml_fc_nobs(const struct ml_forecaster *f)
{
	return f->s.n;
}

void ml_fc_appendf(char *buf, size_t size, const char *fmt, ...)
{
	size_t k = strnlen(buf, size);
	va_list ap;

	if (k + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + k, size - k, fmt, ap);
	va_end(ap);
}

void ml_fc_describe(const struct ml_forecaster *f, char *buf, size_t size)
{
	if (!size)
		return;
	if (f->m->describe)
		f->m->describe(f->state, buf, size);
	else
		snprintf(buf, size, "%s", f->m->name);
}

double ml_fc_sigma2(const struct ml_forecaster *f)
{
	return f->m->sigma2 ? f->m->sigma2(f->state) : NAN;
}

/* A forecaster holding a copy of s, with no state yet. */
static struct ml_forecaster *holder(const struct ml_fc_method *m, const struct ml_series *s,
				    const struct ml_params *p, struct ml_err *e)
{
	struct ml_forecaster *f = calloc(1, sizeof(*f));
	double *y = malloc((s->n ? s->n : 1) * sizeof(double)), *x = NULL;
	size_t nxv = s->nx > 0 ? (size_t)s->nx * s->xlen : 0;

	if (!f || !y || (nxv && !(x = malloc(nxv * sizeof(double))))) {
		free(f);
		free(y);
		ml_err_nomem(e);
		return NULL;
	}
	memcpy(y, s->y, s->n * sizeof(double));
	if (nxv)
		memcpy(x, s->x, nxv * sizeof(double));
	f->m = m;
	f->p = *p;
	f->s = *s;
	f->s.y = y;
	f->s.x = x;
	if (!nxv) {
		f->s.nx = 0;
		f->s.xlen = 0;
	}
	return f;
}

/* ML_E_DATA unless s suits m. */
static int check_series(const struct ml_fc_method *m, const struct ml_series *s,
			struct ml_err *e)
{
	size_t i, need = ml_fc_method_min_length(m, s);
	int k;

	if (s->nseason < 0 || s->nseason > ML_FC_MAX_SEASONS)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "at most %d seasonal periods",
				  ML_FC_MAX_SEASONS);
	for (k = 0; k < s->nseason; k++)
		if (s->season[k] < 2)
			return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
					  "a seasonal period is a whole number >= 2 (not %d)",
					  s->season[k]);
	for (i = 0; i < s->n; i++)
		if (!isfinite(s->y[i]))
			return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
					  "value %zu of the series is %s (fill gaps before fitting "
					  "--model %s)",
					  i + 1, s->y[i] != s->y[i] ? "missing" : "not finite",
					  m->name);
	if (s->nx < 0 || s->nx > ML_FC_MAX_XREG)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "at most %d regressors",
				  ML_FC_MAX_XREG);
	if (s->nx > 0) {
		if (!m->xreg)
			return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
					  "--model %s takes no regressors (--xreg: arima, linear, "
					  "prophet, gbm, auto, ensemble)",
					  m->name);
		if (!s->x || s->xlen < s->n)
			return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
					  "the regressors cover %zu of the series' %zu values",
					  s->x ? s->xlen : 0, s->n);
		for (k = 0; k < s->nx; k++)
			for (i = 0; i < s->xlen; i++)
				if (!isfinite(s->x[(size_t)k * s->xlen + i]))
					return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
							  "value %zu of regressor %d is %s", i + 1,
							  k + 1,
							  s->x[(size_t)k * s->xlen + i] !=
									  s->x[(size_t)k * s->xlen + i] ?
								  "missing" :
								  "not finite");
	}
	if (s->n < need)
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				  "--model %s needs at least %zu values; the series has %zu",
				  m->name, need, s->n);
	return 0;
}

_Thread_local int ml_ts_nomem;

int ml_fc_fit(struct ml_forecaster **out, const struct ml_fc_method *m,
	      const struct ml_series *s, const struct ml_params *p, struct ml_ctx *ctx,
	      struct ml_err *e)
{
	struct ml_forecaster *f;
	int rc, outer = ml_ts_nomem;

	*out = NULL;
	if ((rc = check_series(m, s, e)) < 0)
		return rc;
	if (!(f = holder(m, s, p, e)))
		return ML_E_NOMEM;
	ml_ts_nomem = 0;
	rc = m->fit(&f->state, &f->s, &f->p, ctx, e);
	if (ml_ts_nomem && rc >= 0) {
		/* the fit went on without what it could not allocate: its choice is not
		 * the one it would have made */
		m->free(f->state);
		rc = ml_err_nomem(e);
	} else if (ml_ts_nomem && rc != ML_E_NOMEM) {
		rc = ml_err_nomem(e);
	}
	ml_ts_nomem |= outer;
	if (rc < 0) {
		f->state = NULL;
		ml_fc_free(f);
		return rc;
	}
	*out = f;
	return 0;
}

int ml_fc_adopt(struct ml_forecaster **out, const struct ml_fc_method *m,
		const struct ml_series *s, const struct ml_params *p, void *state,
		struct ml_err *e)
{
	struct ml_forecaster *f;

	*out = NULL;
	if (!(f = holder(m, s, p, e))) {
		m->free(state);
		return ML_E_NOMEM;
	}
	f->state = state;
	*out = f;
	return 0;
}

int ml_fc_forecast_on(const struct ml_forecaster *f, const struct ml_series *s, int h,
		      const double *level, int nlevel, double *mean, double *lo, double *hi,
		      struct ml_err *e)
{
	int k;

	if (h < 1)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "the horizon is at least one step (not %d)",
				  h);
	if (nlevel < 0 || (nlevel && (!level || !lo || !hi)))
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "no room for the interval bounds");
	for (k = 0; k < nlevel; k++)
		if (!(level[k] > 0 && level[k] < 100))
			return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
					  "an interval level is a percentage between 0 and 100 (not "
					  "%g)",
					  level[k]);
	if (s->nx > 0 && s->xlen < s->n + (size_t)h)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "forecasting %d step%s needs the future values of the %d "
				  "regressor%s; %zu given",
				  h, h == 1 ? "" : "s", s->nx, s->nx == 1 ? "" : "s",
				  s->xlen - s->n);
	return f->m->forecast(f->state, s, h, level, nlevel, mean, lo, hi, e);
}

int ml_fc_forecast(const struct ml_forecaster *f, int h, const double *level, int nlevel,
		   double *mean, double *lo, double *hi, struct ml_err *e)
{
	return ml_fc_forecast_on(f, &f->s, h, level, nlevel, mean, lo, hi, e);
}

int ml_fc_forecast_x(const struct ml_forecaster *f, int h, const double *xf,
		     const double *level, int nlevel, double *mean, double *lo, double *hi,
		     struct ml_err *e)
{
	struct ml_series s = f->s;
	size_t len, i, n = f->s.n;
	double *x;
	int j, rc;

	if (!f->s.nx || h < 1)
		return ml_fc_forecast(f, h, level, nlevel, mean, lo, hi, e);
	len = n + (size_t)h;
	if (!(x = malloc((size_t)f->s.nx * len * sizeof(double))))
		return ml_err_nomem(e);
	for (j = 0; j < f->s.nx; j++) {
		memcpy(x + (size_t)j * len, f->s.x + (size_t)j * f->s.xlen, n * sizeof(double));
		for (i = 0; i < (size_t)h; i++) {
			double v = xf[(size_t)j * (size_t)h + i];
			if (!isfinite(v)) {
				free(x);
				return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
						  "future value %zu of regressor %d is %s", i + 1,
						  j + 1, v != v ? "missing" : "not finite");
			}
			x[(size_t)j * len + n + i] = v;
		}
	}
	s.x = x;
	s.xlen = len;
	rc = ml_fc_forecast_on(f, &s, h, level, nlevel, mean, lo, hi, e);
	free(x);
	return rc;
}

int ml_fc_fitted(const struct ml_forecaster *f, double *out, struct ml_err *e)
{
	(void)e;
	return f->m->fitted(f->state, &f->s, out);
}

/* The container. */

/* The regressors' history, n values of each. */
static int save_xreg(const struct ml_forecaster *f, struct ml_model *m, struct ml_err *e)
{
	size_t n = f->s.n, len = (size_t)f->s.nx * n;
	double *x = malloc((len ? len : 1) * sizeof(double));
	int j, rc;

	if (!x)
		return ml_err_nomem(e);
	for (j = 0; j < f->s.nx; j++)
		memcpy(x + (size_t)j * n, f->s.x + (size_t)j * f->s.xlen, n * sizeof(double));
	rc = ml_model_add(m, "xreg", x, len * sizeof(double), e);
	free(x);
	return rc;
}

int ml_fc_to_model(const struct ml_forecaster *f, struct ml_model **out, struct ml_err *e)
{
	struct ml_model *m = ml_model_new("forecaster", f->m->name);
	cJSON *meta, *arr;
	int k, rc, bad = 0;

	*out = NULL;
	if (!m)
		return ml_err_nomem(e);
	meta = ml_model_meta(m);
	ml_json_num(&bad, meta, "n", (double)f->s.n);
	ml_json_add(&bad, meta, "seasons", arr = cJSON_CreateArray());
	for (k = 0; !bad && k < f->s.nseason; k++)
		ml_json_add(&bad, arr, NULL, cJSON_CreateNumber(f->s.season[k]));
	ml_json_add(&bad, meta, "params", ml_params_to_json(&f->p));
	if (f->s.nx)
		ml_json_num(&bad, meta, "nx", f->s.nx);
	if (f->s.cal.kind) {
		cJSON *c = cJSON_CreateObject();
		ml_json_add(&bad, meta, "calendar", c);
		ml_json_num(&bad, c, "kind", f->s.cal.kind);
		ml_json_num(&bad, c, "t0", f->s.cal.t0);
		ml_json_num(&bad, c, "step", f->s.cal.step);
	}
	if (f->m->sigma2)
		ml_json_num(&bad, meta, "sigma2", f->m->sigma2(f->state));
	if (bad) {
		ml_model_free(m);
		return ml_err_nomem(e);
	}
	if ((rc = ml_model_add(m, "series", f->s.y, f->s.n * sizeof(double), e)) < 0 ||
	    (f->s.nx && (rc = save_xreg(f, m, e)) < 0) ||
	    (f->m->save && (rc = f->m->save(f->state, m, e)) < 0)) {
		ml_model_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

/* The series and seasons of a forecaster's container, checked. */
static int read_series(const struct ml_model *m, struct ml_series *s, double **y, double **x,
		       struct ml_err *e)
{
	const cJSON *meta = ml_model_meta_const(m), *n = cJSON_GetObjectItemCaseSensitive(meta, "n"),
		    *seasons = cJSON_GetObjectItemCaseSensitive(meta, "seasons"), *it,
		    *nx = cJSON_GetObjectItemCaseSensitive(meta, "nx"),
		    *cal = cJSON_GetObjectItemCaseSensitive(meta, "calendar");
	const void *data;
	size_t len;
	int rc;

	memset(s, 0, sizeof(*s));
	*y = NULL;
	*x = NULL;
	if (!cJSON_IsNumber(n) || !cJSON_IsArray(seasons) ||
	    cJSON_GetArraySize(seasons) > ML_FC_MAX_SEASONS)
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				  "forecaster metadata lacks the series length or its seasons");
	cJSON_ArrayForEach(it, seasons)
	{
		if (!cJSON_IsNumber(it) || !(it->valuedouble >= 2 && it->valuedouble <= 1e9) ||
		    it->valuedouble != floor(it->valuedouble))
			return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "forecaster has a bad season");
		s->season[s->nseason++] = (int)it->valuedouble;
	}
	if ((rc = ml_model_get(m, "series", &data, &len, e)) < 0)
		return rc;
	if (len % sizeof(double) || n->valuedouble != (double)(len / sizeof(double)))
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				  "the forecaster's series section does not hold %g values",
				  n->valuedouble);
	s->n = len / sizeof(double);
	if (!(*y = malloc(len ? len : 1)))
		return ml_err_nomem(e);
	memcpy(*y, data, len);
	s->y = *y;
	if (cal) {
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(cal, "kind"),
			    *t0 = cJSON_GetObjectItemCaseSensitive(cal, "t0"),
			    *st = cJSON_GetObjectItemCaseSensitive(cal, "step");
		if (!cJSON_IsNumber(k) || !cJSON_IsNumber(t0) || !cJSON_IsNumber(st) ||
		    !(k->valuedouble == ML_CAL_MONTHS || k->valuedouble == ML_CAL_SECONDS) ||
		    !(fabs(t0->valuedouble) < 1e13) ||
		    !(st->valuedouble > 0 && st->valuedouble < 1e9) ||
		    (k->valuedouble == ML_CAL_MONTHS && st->valuedouble != floor(st->valuedouble)))
			return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "forecaster has a bad calendar");
		s->cal.kind = (int)k->valuedouble;
		s->cal.t0 = t0->valuedouble;
		s->cal.step = st->valuedouble;
	}
	if (!nx)
		return 0;
	if (!cJSON_IsNumber(nx) || !(nx->valuedouble >= 1 && nx->valuedouble <= ML_FC_MAX_XREG) ||
	    nx->valuedouble != floor(nx->valuedouble))
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				  "forecaster has a bad count of regressors");
	s->nx = (int)nx->valuedouble;
	if ((rc = ml_model_get(m, "xreg", &data, &len, e)) < 0)
		return rc;
	if (len != (size_t)s->nx * s->n * sizeof(double))
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				  "the forecaster's xreg section does not hold %d x %zu values",
				  s->nx, s->n);
	if (!(*x = malloc(len ? len : 1)))
		return ml_err_nomem(e);
	memcpy(*x, data, len);
	s->x = *x;
	s->xlen = s->n;
	return 0;
}

struct ml_forecaster *ml_fc_from_model(const struct ml_model *m, struct ml_err *e)
{
	const struct ml_fc_method *fm;
	struct ml_forecaster *f = NULL;
	struct ml_params p;
	struct ml_series s;
	double *y = NULL, *x = NULL;

	if (strcmp(ml_model_kind(m), "forecaster") != 0) {
		ml_err_set(e, ML_E_DATA, NULL, 0, 0, "is a '%s' artefact, not a forecaster",
			   ml_model_kind(m));
		return NULL;
	}
	if (!(fm = ml_fc_method_find(ml_model_algorithm(m)))) {
		ml_err_set(e, ML_E_DATA, NULL, 0, 0, "unknown forecasting method '%s'",
			   ml_model_algorithm(m));
		return NULL;
	}
	ml_fc_params_init(&p, fm);
	if (ml_params_read_json(&p, cJSON_GetObjectItemCaseSensitive(ml_model_meta_const(m),
								      "params"),
				e) < 0 ||
	    read_series(m, &s, &y, &x, e) < 0 || check_series(fm, &s, e) < 0)
		goto fail;
	if (!(f = holder(fm, &s, &p, e)))
		goto fail;
	if (fm->load(&f->state, m, &f->s, &f->p, e) < 0) {
		f->state = NULL;
		goto fail;
	}
	free(y);
	free(x);
	return f;
fail:
	free(y);
	free(x);
	ml_fc_free(f);
	return NULL;
}

/* The "forecaster" kind: metadata and the fitted table; forecasts come from mlforecast, not
 * from rows. */

static int fk_open(void **state, const struct ml_model *m, const char *name, struct ml_err *e)
{
	(void)name;
	*state = ml_fc_from_model(m, e);
	return *state ? 0 : e ? e->code : ML_E_DATA;
}

static void fk_close(void *state)
{
	ml_fc_free(state);
}

static const char *const *fk_tables(const void *state)
{
	static const char *const t[] = {"fitted", NULL};
	(void)state;
	return t;
}

static int fk_table(const void *state, const char *name, struct ml_frame *out, struct ml_err *e)
{
	const struct ml_forecaster *f = state;
	size_t i, n = f->s.n;
	int rc;

	if (strcmp(name, "fitted") != 0)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "forecasters have no table '%s' (tables: fitted)", name);
	if (ml_schema_add(&out->schema, "t", ML_NUM) < 0 ||
	    ml_schema_add(&out->schema, "y", ML_NUM) < 0 ||
	    ml_schema_add(&out->schema, "fitted", ML_NUM) < 0 ||
	    ml_schema_add(&out->schema, "residual", ML_NUM) < 0)
		return ml_err_nomem(e);
	if ((rc = ml_block_init(&out->rows, &out->schema, n ? n : 1, e)) < 0)
		return rc;
	if ((rc = ml_fc_fitted(f, out->rows.col[2].num, e)) < 0)
		return rc;
	for (i = 0; i < n; i++) {
		out->rows.col[0].num[i] = (double)(i + 1);
		out->rows.col[1].num[i] = f->s.y[i];
		out->rows.col[3].num[i] = f->s.y[i] - out->rows.col[2].num[i];
	}
	out->rows.nrow = n;
	return 0;
}

const struct ml_kind ml_kind_forecaster = {
	.name = "forecaster",
	.flags = 0,
	.open = fk_open,
	.close = fk_close,
	.tables = fk_tables,
	.table = fk_table,
};
