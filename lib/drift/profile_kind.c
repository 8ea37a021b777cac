/* The "profile" kind of artefact: a drift reference profile, shown by mlinfo (metadata, a
 * per-column summary table and the histograms); it scores no rows. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "artefact/kind.h"
#include "drift/drift_int.h"

int ml_drift_meta_columns(struct ml_model *m, const struct ml_profile *p, struct ml_err *e)
{
	cJSON *a = cJSON_CreateArray();
	char *txt;
	int j, rc;

	if (!a)
		return ml_err_nomem(e);
	for (j = 0; j < p->ncol; j++) {
		cJSON *o = cJSON_CreateObject();
		if (!o || !cJSON_AddItemToArray(a, o) ||
		    !cJSON_AddStringToObject(o, "name", p->col[j].name) ||
		    !cJSON_AddStringToObject(o, "type", p->col[j].type == ML_NUM ? "num" : "cat")) {
			cJSON_Delete(a);
			return ml_err_nomem(e);
		}
	}
	txt = cJSON_PrintUnformatted(a);
	cJSON_Delete(a);
	if (!txt)
		return ml_err_nomem(e);
	rc = ml_model_meta_set(m, "columns", txt, e);
	free(txt);
	return rc;
}

struct witem {
	double v, w;
};

static int cmp_witem(const void *a, const void *b)
{
	const struct witem *x = a, *y = b;

	return (x->v > y->v) - (x->v < y->v);
}

/* Reads the layout ml_quantiles_save documents in stats.c: magic, version, mode, k, count,
 * min, max, generator state; exact: the values; sketch: levels of weight 2^level, then the
 * distinct counts when they were kept (exact, so preferred). */
int ml_drift_sketch_items(const struct ml_quantiles *q, double **v, double **w, size_t *n,
			  struct ml_err *e)
{
	struct ml_wbuf b;
	struct ml_rbuf r;
	struct witem *it = NULL;
	size_t m = 0, cap = 0, i;
	uint8_t mode;
	int rc = 0;

	*v = *w = NULL;
	*n = 0;
	ml_wbuf_init(&b);
	ml_quantiles_save(q, &b);
	if (b.err) {
		ml_wbuf_release(&b);
		return ml_err_nomem(e);
	}
	ml_rbuf_init(&r, b.p, b.n);
	ml_rbuf_u32(&r);
	ml_rbuf_u32(&r);
	mode = ml_rbuf_u8(&r);
	ml_rbuf_u32(&r);
	ml_rbuf_u64(&r);
	ml_rbuf_f64(&r);
	ml_rbuf_f64(&r);
	for (i = 0; i < 4; i++)
		ml_rbuf_u64(&r);
	if (!mode) {
		/* every value, of weight 1: a radix sort of the values alone */
		uint64_t nx = ml_rbuf_u64(&r);
		m = ml_rbuf_count(&r, nx, sizeof(double));
		*v = malloc((m ? m : 1) * sizeof(double));
		*w = malloc((m ? m : 1) * sizeof(double));
		if (!*v || !*w)
			goto nomem;
		ml_rbuf_f64v(&r, *v, m);
		if (!r.err) {
			if (ml_drift_sort(*v, m) < 0)
				goto nomem;
			for (i = 0; i < m; i++)
				(*w)[i] = 1;
			*n = m;
			goto out;
		}
	} else {
		uint32_t nlev = ml_rbuf_u32(&r), l, nd;
		size_t start = r.off;
		for (l = 0; l < nlev && !r.err; l++) {
			uint64_t k = ml_rbuf_u64(&r);
			cap += ml_rbuf_count(&r, k, sizeof(double));
			r.off += (size_t)k * sizeof(double);
		}
		nd = ml_rbuf_u32(&r);
		if (nd != 0xffffffffU) {
			cap = nd;
			if (!(it = malloc((cap ? cap : 1) * sizeof(*it))))
				goto nomem;
			for (i = 0; i < nd && !r.err; i++) {
				it[m].v = ml_rbuf_f64(&r);
				it[m++].w = (double)ml_rbuf_u64(&r);
			}
		} else {
			if (!(it = malloc((cap ? cap : 1) * sizeof(*it))))
				goto nomem;
			r.off = start;
			for (l = 0; l < nlev && !r.err; l++) {
				uint64_t k = ml_rbuf_u64(&r), j;
				for (j = 0; j < k && m < cap; j++) {
					it[m].v = ml_rbuf_f64(&r);
					it[m++].w = ldexp(1, (int)l);
				}
			}
		}
	}
	if (r.err) {
		free(*v);
		free(*w);
		*v = *w = NULL;
		rc = ml_err_set(e, ML_E_INTERNAL, NULL, 0, 0, "unexpected quantile sketch layout");
		goto out;
	}
	qsort(it, m, sizeof(*it), cmp_witem);
	*v = malloc((m ? m : 1) * sizeof(double));
	*w = malloc((m ? m : 1) * sizeof(double));
	if (!*v || !*w)
		goto nomem;
	for (i = 0; i < m; i++) {
		(*v)[i] = it[i].v;
		(*w)[i] = it[i].w;
	}
	*n = m;
	goto out;
nomem:
	free(*v);
	free(*w);
	*v = *w = NULL;
	rc = ml_err_nomem(e);
out:
	free(it);
	ml_wbuf_release(&b);
	return rc;
}

static int pk_open(void **state, const struct ml_model *m, const char *name, struct ml_err *e)
{
	*state = ml_profile_from_model(m, name, e);
	return *state ? 0 : e ? e->code : ML_E_DATA;
}

static void pk_close(void *state)
{
	ml_profile_free(state);
}

static int pk_input_schema(const void *state, struct ml_schema *s, struct ml_err *e)
{
	const struct ml_profile *p = state;
	int j;

	for (j = 0; j < p->ncol; j++)
		if (ml_schema_add(s, p->col[j].name, p->col[j].type) < 0)
			return ml_err_nomem(e);
	return 0;
}

static const char *const *pk_tables(const void *state)
{
	static const char *const t[] = {"columns", "histograms", NULL};
	(void)state;
	return t;
}

static int put_str(struct ml_schema *s, int col, const char *v, int32_t *out, struct ml_err *e)
{
	int32_t c = ml_dict_intern(&s->cols[col].dict, v, strlen(v));

	if (c < 0)
		return ml_err_nomem(e);
	*out = c;
	return 0;
}

static int table_columns(const struct ml_profile *p, struct ml_frame *out, struct ml_err *e)
{
	static const char *const num[] = {"count", "missing", "mean", "std", "min", "max", "bins"};
	int j, k, rc;

	if (ml_schema_add(&out->schema, "column", ML_CAT) < 0 ||
	    ml_schema_add(&out->schema, "type", ML_CAT) < 0)
		return ml_err_nomem(e);
	for (k = 0; k < 7; k++)
		if (ml_schema_add(&out->schema, num[k], ML_NUM) < 0)
			return ml_err_nomem(e);
	if ((rc = ml_block_init(&out->rows, &out->schema, (size_t)(p->ncol ? p->ncol : 1), e)) < 0)
		return rc;
	for (j = 0; j < p->ncol; j++) {
		const struct pcol *c = &p->col[j];
		union ml_colv *v = out->rows.col;
		int isnum = c->type == ML_NUM;
		if (put_str(&out->schema, 0, c->name, &v[0].cat[j], e) < 0 ||
		    put_str(&out->schema, 1, isnum ? "num" : "cat", &v[1].cat[j], e) < 0)
			return ML_E_NOMEM;
		v[2].num[j] = (double)c->count;
		v[3].num[j] = (double)c->missing;
		v[4].num[j] = isnum && c->count ? c->mean : NAN;
		v[5].num[j] = isnum && c->count > 1 ? sqrt(c->var) : NAN;
		v[6].num[j] = isnum && c->count ? c->min : NAN;
		v[7].num[j] = isnum && c->count ? c->max : NAN;
		v[8].num[j] = (double)c->nbin;
	}
	out->rows.nrow = (size_t)p->ncol;
	return 0;
}

static int table_histograms(const struct ml_profile *p, struct ml_frame *out, struct ml_err *e)
{
	size_t n = 0, r = 0;
	int j, k, rc;

	for (j = 0; j < p->ncol; j++)
		n += (size_t)p->col[j].nbin;
	if (ml_schema_add(&out->schema, "column", ML_CAT) < 0 ||
	    ml_schema_add(&out->schema, "bin", ML_NUM) < 0 ||
	    ml_schema_add(&out->schema, "lo", ML_NUM) < 0 ||
	    ml_schema_add(&out->schema, "hi", ML_NUM) < 0 ||
	    ml_schema_add(&out->schema, "category", ML_CAT) < 0 ||
	    ml_schema_add(&out->schema, "count", ML_NUM) < 0)
		return ml_err_nomem(e);
	if ((rc = ml_block_init(&out->rows, &out->schema, n ? n : 1, e)) < 0)
		return rc;
	for (j = 0; j < p->ncol; j++) {
		const struct pcol *c = &p->col[j];
		for (k = 0; k < c->nbin; k++, r++) {
			union ml_colv *v = out->rows.col;
			if (put_str(&out->schema, 0, c->name, &v[0].cat[r], e) < 0)
				return ML_E_NOMEM;
			v[1].num[r] = k;
			v[2].num[r] = v[3].num[r] = NAN;
			v[4].cat[r] = ML_MISSING_CAT;
			if (c->type == ML_NUM && c->nedge) {
				v[2].num[r] = k == 0 ? -INFINITY : c->edge[k - 1];
				v[3].num[r] = k == c->nedge ? INFINITY : c->edge[k];
			} else if (c->type == ML_CAT &&
				   put_str(&out->schema, 4, k < c->nkept ? c->label[k] : "other",
					   &v[4].cat[r], e) < 0) {
				return ML_E_NOMEM;
			}
			v[5].num[r] = c->hist[k];
		}
	}
	out->rows.nrow = r;
	return 0;
}

static int pk_table(const void *state, const char *name, struct ml_frame *out, struct ml_err *e)
{
	if (strcmp(name, "columns") == 0)
		return table_columns(state, out, e);
	if (strcmp(name, "histograms") == 0)
		return table_histograms(state, out, e);
	return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
			  "profiles have no table '%s' (tables: columns, histograms)", name);
}

static int pk_describe(const void *state, cJSON *meta, struct ml_err *e)
{
	const struct ml_profile *p = state;
	cJSON *cols = cJSON_GetObjectItemCaseSensitive(meta, "columns");
	int j;

	if (!cJSON_IsArray(cols) || cJSON_GetArraySize(cols) != p->ncol)
		return 0;
	for (j = 0; j < p->ncol; j++) {
		cJSON *o = cJSON_GetArrayItem(cols, j);
		const struct pcol *c = &p->col[j];
		if (!cJSON_AddNumberToObject(o, "count", (double)c->count) ||
		    !cJSON_AddNumberToObject(o, "missing", (double)c->missing) ||
		    !cJSON_AddNumberToObject(o, "bins", c->nbin))
			return ml_err_nomem(e);
	}
	return 0;
}

const struct ml_kind ml_kind_profile = {
	.name = "profile",
	.flags = 0,
	.open = pk_open,
	.close = pk_close,
	.input_schema = pk_input_schema,
	.tables = pk_tables,
	.table = pk_table,
	.describe = pk_describe,
};
