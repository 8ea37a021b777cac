/* Model files and tables: a learner to an ml-model container of kind "model" and back. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml/num.h"
#include "learn_int.h"

int ml_learner_table(const struct ml_learner *l, const char *name, struct ml_frame *out,
		     struct ml_err *e)
{
	struct ml_data d = ml_learn_shape(l);
	const char *const *t;

	char list[512];
	size_t at = 0;

	for (t = l->algo->tables; t && *t; t++)
		if (strcmp(*t, name) == 0)
			return l->algo->table(l->state, name, &d, out, e);
	list[0] = 0;
	for (t = l->algo->tables; t && *t; t++)
		at += (size_t)snprintf(list + at, at < sizeof(list) ? sizeof(list) - at : 0, "%s%s",
				       at ? ", " : "", *t);
	return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "-a %s models have no table '%s' (%s%s)",
			  l->algo->name, name, list[0] ? "tables: " : "none has",
			  list[0] ? list : " tables");
}

int ml_learner_to_model(const struct ml_learner *l, struct ml_model **out, struct ml_err *e)
{
	struct ml_model *m = ml_model_new("model", l->algo->name);
	struct ml_schema s;
	cJSON *meta, *arr, *fj, *pj;
	int j, rc;

	*out = NULL;
	if (!m)
		return ml_err_nomem(e);
	meta = ml_model_meta(m);
	/* Every addition is checked: a value lost to a failed allocation would be a model
	 * that loads as another one. */
	if (!cJSON_AddStringToObject(meta, "task", l->task == ML_TASK_REGRESS ? "regress" :
						   l->task == ML_TASK_CLASSIFY ? "classify" :
										   "unsupervised"))
		goto nomem;
	if (l->task != ML_TASK_UNSUPERVISED &&
	    (!cJSON_AddStringToObject(meta, "target", l->target) ||
	     !cJSON_AddStringToObject(meta, "target_type",
				      l->target_type == ML_NUM ? "num" : "cat")))
		goto nomem;
	if (l->task == ML_TASK_UNSUPERVISED) {
		/* The columns mlpredict writes, for readers of the metadata alone. */
		int nout = ml_learner_nout(l, ML_OUT_VALUE);
		if (!(arr = cJSON_AddArrayToObject(meta, "outputs")))
			goto nomem;
		for (j = 0; j < nout; j++) {
			cJSON *c = cJSON_CreateString(ml_learner_output_name(l, j));
			if (!cJSON_AddItemToArray(arr, c)) {
				cJSON_Delete(c);
				goto nomem;
			}
		}
	}
	if (l->task == ML_TASK_CLASSIFY) {
		if (!(arr = cJSON_AddArrayToObject(meta, "classes")))
			goto nomem;
		for (j = 0; j < l->nclass; j++) {
			cJSON *c = cJSON_CreateString(l->classes[j]);
			if (!cJSON_AddItemToArray(arr, c)) {
				cJSON_Delete(c);
				goto nomem;
			}
		}
	}
	/* The feature columns as an input schema with their training levels. */
	ml_schema_init(&s);
	if ((rc = ml_learner_input_schema(l, &s, e)) < 0) {
		ml_model_free(m);
		return rc;
	}
	fj = ml_schema_to_json(&s);
	ml_schema_release(&s);
	pj = ml_params_to_json(&l->params);
	if (!fj || !pj || !cJSON_AddItemToObject(meta, "features", fj)) {
		cJSON_Delete(fj);
		cJSON_Delete(pj);
		goto nomem;
	}
	if (!cJSON_AddItemToObject(meta, "params", pj)) {
		cJSON_Delete(pj);
		goto nomem;
	}
	rc = l->algo->save(l->state, m, e);
	if (rc < 0) {
		ml_model_free(m);
		return rc;
	}
	*out = m;
	return 0;
nomem:
	ml_model_free(m);
	return ml_err_nomem(e);
}

struct ml_learner *ml_learner_from_model(const struct ml_model *m, struct ml_err *e)
{
	const cJSON *meta = ml_model_meta_const(m), *t, *c, *f, *p;
	struct ml_learner *l;
	struct ml_schema s;
	struct ml_data d;
	int j;

	if (strcmp(ml_model_kind(m), "model") != 0) {
		ml_err_set(e, ML_E_DATA, NULL, 0, 0, "is a '%s' artefact, not a model",
			   ml_model_kind(m));
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		ml_err_nomem(e);
		return NULL;
	}
	ml_schema_init(&s);
	l->algo = ml_algo_find(ml_model_algorithm(m));
	if (!l->algo) {
		ml_err_set(e, ML_E_DATA, NULL, 0, 0, "unknown algorithm '%s'", ml_model_algorithm(m));
		goto fail;
	}
	t = cJSON_GetObjectItemCaseSensitive(meta, "task");
	c = cJSON_GetObjectItemCaseSensitive(meta, "target");
	f = cJSON_GetObjectItemCaseSensitive(meta, "features");
	p = cJSON_GetObjectItemCaseSensitive(meta, "params");
	if (!cJSON_IsString(t) || !f || !p) {
		ml_err_set(e, ML_E_DATA, NULL, 0, 0, "model metadata lacks task, target or features");
		goto fail;
	}
	if (strcmp(t->valuestring, "regress") == 0) {
		l->task = ML_TASK_REGRESS;
	} else if (strcmp(t->valuestring, "classify") == 0) {
		l->task = ML_TASK_CLASSIFY;
	} else if (strcmp(t->valuestring, "unsupervised") == 0 &&
		   (l->algo->flags & ML_ALGO_UNSUPERVISED)) {
		l->task = ML_TASK_UNSUPERVISED;
	} else {
		ml_err_set(e, ML_E_DATA, NULL, 0, 0, "model metadata has an unknown task");
		goto fail;
	}
	if (l->task != ML_TASK_UNSUPERVISED && !cJSON_IsString(c)) {
		ml_err_set(e, ML_E_DATA, NULL, 0, 0, "model metadata lacks task, target or features");
		goto fail;
	}
	if (l->task != ML_TASK_UNSUPERVISED && !(l->target = ml_learn_dup(c->valuestring))) {
		ml_err_nomem(e);
		goto fail;
	}
	t = cJSON_GetObjectItemCaseSensitive(meta, "target_type");
	l->target_type = cJSON_IsString(t) && strcmp(t->valuestring, "cat") == 0 ? ML_CAT : ML_NUM;
	if (l->task == ML_TASK_CLASSIFY) {
		const cJSON *arr = cJSON_GetObjectItemCaseSensitive(meta, "classes"), *it;
		int n = cJSON_GetArraySize(arr);
		if (!cJSON_IsArray(arr) || n < 2 || n > 1000000) {
			ml_err_set(e, ML_E_DATA, NULL, 0, 0, "model metadata has no valid classes");
			goto fail;
		}
		l->classes = calloc((size_t)n, sizeof(char *));
		if (!l->classes) {
			ml_err_nomem(e);
			goto fail;
		}
		cJSON_ArrayForEach(it, arr)
		{
			if (!cJSON_IsString(it)) {
				ml_err_set(e, ML_E_DATA, NULL, 0, 0, "model class is not a string");
				goto fail;
			}
			if (!(l->classes[l->nclass++] = ml_learn_dup(it->valuestring))) {
				ml_err_nomem(e);
				goto fail;
			}
		}
	}
	if (ml_params_from_json(&l->params, l->algo, p, e) < 0)
		goto fail;
	if (ml_schema_from_json(&s, f, e) < 0)
		goto fail;
	l->feat = calloc((size_t)(s.ncol ? s.ncol : 1), sizeof(*l->feat));
	if (!l->feat) {
		ml_err_nomem(e);
		goto fail;
	}
	for (j = 0; j < s.ncol; j++) {
		struct feat *ft = &l->feat[l->nfeat++];
		ft->name = ml_learn_dup(s.cols[j].name);
		ft->type = s.cols[j].type;
		if (!ft->name || ml_dict_copy(&ft->levels, &s.cols[j].dict) < 0) {
			ml_err_nomem(e);
			goto fail;
		}
	}
	ml_schema_release(&s);
	if (ml_learn_layout(l, e) < 0)
		goto fail;
	d = ml_learn_shape(l);
	if (l->algo->load(&l->state, m, &d, e) < 0)
		goto fail;
	return l;
fail:
	ml_schema_release(&s);
	ml_learner_free(l);
	return NULL;
}

int ml_algo_put(struct ml_model *m, const char *name, struct ml_wbuf *b, struct ml_err *e)
{
	int rc;

	if (b->err) {
		ml_wbuf_release(b);
		return ml_err_nomem(e);
	}
	rc = ml_model_add(m, name, b->p, b->n, e);
	ml_wbuf_release(b);
	return rc;
}

int ml_algo_get_versions(const struct ml_model *m, const char *name, uint32_t oldest,
			 uint32_t newest, uint32_t *version, struct ml_rbuf *b, struct ml_err *e)
{
	const void *data;
	size_t len;
	uint32_t v;
	int rc;

	if ((rc = ml_model_get(m, name, &data, &len, e)) < 0)
		return rc;
	ml_rbuf_init(b, data, len);
	v = ml_rbuf_u32(b);
	if (b->err || v < oldest || v > newest)
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "model section '%s' has an unknown version",
				  name);
	if (version)
		*version = v;
	return 0;
}

int ml_algo_get(const struct ml_model *m, const char *name, uint32_t version, struct ml_rbuf *b,
		struct ml_err *e)
{
	return ml_algo_get_versions(m, name, version, version, NULL, b, e);
}
