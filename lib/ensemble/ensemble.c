/* Ensembles: the combining rules, the nesting of fitted members in one container and the
 * "ensemble" kind of artefact whose scorer runs every member's chain over the same rows
 * and combines their answers (or feeds them to a meta-model). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "artefact/kind.h"
#include "core/sort.h"
#include "ens_int.h"
#include "ml/ensemble.h"
#include "ml/pred.h"

static const struct method {
	int id;
	const char *name;
	int fitted, files;
} methods[] = {
#define ML_ENS(id, name, fitted, files) {id, name, fitted, files},
#include "methods.h"
#undef ML_ENS
};
#define NMETHOD ((int)(sizeof(methods) / sizeof(methods[0])))

int ml_ens_method_find(const char *name)
{
	int i;

	for (i = 0; i < NMETHOD; i++)
		if (strcmp(methods[i].name, name) == 0)
			return methods[i].id;
	return -1;
}

const char *ml_ens_method_name(int method)
{
	int i;

	for (i = 0; i < NMETHOD; i++)
		if (methods[i].id == method)
			return methods[i].name;
	return "?";
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), ml_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int ml_ens_combine_row(int method, int n, int K, const double *p, const int *label,
		       const double *w, double *scratch, double *out)
{
	int m, k, best = -1;
	double tot = 0;

	if (method == ML_ENS_VOTE && label) {
		for (k = 0; k < K; k++)
			out[k] = 0;
		for (m = 0; m < n; m++) {
			double wm = w ? w[m] : 1;
			if (label[m] >= 0 && label[m] < K) {
				out[label[m]] += wm;
				tot += wm;
			}
		}
		for (k = 0; k < K; k++)
			out[k] = tot > 0 ? out[k] / tot : NAN;
	} else {
		for (k = 0; k < K; k++) {
			double s = 0;
			if (method == ML_ENS_MEDIAN) {
				for (m = 0; m < n; m++)
					scratch[m] = p[(size_t)m * (size_t)K + (size_t)k];
				out[k] = median(scratch, n);
				continue;
			}
			tot = 0;
			for (m = 0; m < n; m++) {
				double wm = w && method == ML_ENS_WEIGHTED ? w[m] : 1;
				s += wm * p[(size_t)m * (size_t)K + (size_t)k];
				tot += wm;
			}
			out[k] = w && method == ML_ENS_WEIGHTED ? s / tot : s / n;
		}
		if (method == ML_ENS_MEDIAN && K > 2) {
			/* Medians of class probabilities need not sum to one. */
			double s = 0;
			for (k = 0; k < K; k++)
				s += out[k];
			if (s > 0)
				for (k = 0; k < K; k++)
					out[k] /= s;
		}
	}
	if (K == 1 && !label)
		return 0;
	for (k = 0; k < K; k++)
		if (out[k] == out[k] && (best < 0 || out[k] > out[best]))
			best = k;
	return best;
}

size_t ml_ens_meta_feature(char *buf, size_t size, int k, const char *label)
{
	int r = label ? snprintf(buf, size, "m%d:%s%s", k + 1, ML_PRED_PROB_PREFIX, label) :
			snprintf(buf, size, "m%d:%s", k + 1, ML_PRED_LABEL);
	return r < 0 ? 0 : (size_t)r;
}

/* --- Building ----------------------------------------------------------------------------- */

/* What a member's model says of itself, from its metadata. */
struct minfo {
	char *task, *target, *classes; /* JSON texts */
	cJSON *cls;
};

static void minfo_release(struct minfo *i)
{
	free(i->task);
	free(i->target);
	free(i->classes);
	cJSON_Delete(i->cls);
}

static const char *member_name(const struct ml_ens_member *m)
{
	return m->name ? m->name : ml_artefact_name(m->stage[m->nstage - 1]);
}

static int member_info(const struct ml_ens_member *m, int k, struct minfo *i, struct ml_err *e)
{
	const struct ml_artefact *last;
	const struct ml_model *md;
	int s;

	memset(i, 0, sizeof(*i));
	if (m->nstage < 1)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "member %d has no artefact", k + 1);
	for (s = 0; s < m->nstage; s++) {
		unsigned f = ml_artefact_flags(m->stage[s]);
		const char *want = s < m->nstage - 1 ? "a feature pipeline" : "a model";
		unsigned bit = s < m->nstage - 1 ? ML_ARTEFACT_TRANSFORM : ML_ARTEFACT_FINAL;
		if (!(f & bit))
			return ml_err_set(e, ML_E_DATA, ml_artefact_name(m->stage[s]), 0, 0,
					  "member %d: a '%s' artefact where %s should be", k + 1,
					  ml_artefact_kind(m->stage[s]), want);
		if (ml_artefact_check(m->stage[s], e) < 0)
			return e ? e->code : ML_E_DATA;
	}
	last = m->stage[m->nstage - 1];
	md = ml_artefact_model(last);
	if (strcmp(ml_artefact_kind(last), "model") != 0)
		return ml_err_set(e, ML_E_DATA, ml_artefact_name(last), 0, 0,
				  "member %d: a '%s' artefact cannot be combined (models can)", k + 1,
				  ml_artefact_kind(last));
	if (ml_model_meta_text(md, "task", &i->task, e) < 0 ||
	    ml_model_meta_text(md, "target", &i->target, e) < 0 ||
	    ml_model_meta_text(md, "classes", &i->classes, e) < 0)
		return ML_E_NOMEM;
	if (!i->task)
		return ml_err_set(e, ML_E_DATA, ml_artefact_name(last), 0, 0,
				  "member %d: the model names no task", k + 1);
	if (strcmp(i->task, "\"classify\"") != 0 && strcmp(i->task, "\"regress\"") != 0)
		return ml_err_set(e, ML_E_DATA, ml_artefact_name(last), 0, 0,
				  "member %d: a model of task %s cannot be combined (classification "
				  "and regression can; detectors, with --method anomaly)",
				  k + 1, i->task);
	if (i->classes && !(i->cls = cJSON_Parse(i->classes)))
		return ml_err_nomem(e);
	return 0;
}

/* Whether two class lists hold the same labels, in any order. */
static int same_classes(const cJSON *a, const cJSON *b)
{
	const cJSON *x;

	if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b))
		return 0;
	cJSON_ArrayForEach(x, a)
	{
		const cJSON *y;
		int found = 0;
		cJSON_ArrayForEach(y, b) if (cJSON_IsString(x) && cJSON_IsString(y) &&
					     strcmp(x->valuestring, y->valuestring) == 0) found = 1;
		if (!found)
			return 0;
	}
	return 1;
}

/* Input columns of every member, merged by name; a name of two types is an error. */
static int merge_schema(struct ml_schema *all, const struct ml_schema *s, const char *who,
			int k, struct ml_err *e)
{
	int j;

	for (j = 0; j < s->ncol; j++) {
		int at = ml_schema_find(all, s->cols[j].name);
		if (at >= 0) {
			if (all->cols[at].type != s->cols[j].type)
				return ml_err_set(e, ML_E_DATA, who, 0, 0,
						  "member %d: column '%s' is %s, another member "
						  "reads it as %s",
						  k + 1, s->cols[j].name,
						  s->cols[j].type == ML_NUM ? "numeric" : "categorical",
						  all->cols[at].type == ML_NUM ? "numeric" : "categorical");
			continue;
		}
		if (ml_schema_add(all, s->cols[j].name, s->cols[j].type) < 0)
			return ml_err_nomem(e);
		if (s->cols[j].type == ML_CAT && ml_dict_copy(&all->cols[all->ncol - 1].dict, &s->cols[j].dict) < 0)
			return ml_err_nomem(e);
	}
	return 0;
}

static int check_members(const struct ml_ens_member *m, int n, struct minfo *info,
			 struct ml_err *e)
{
	struct ml_schema all, s;
	int k, rc = 0;

	ml_schema_init(&all);
	for (k = 0; k < n && rc == 0; k++) {
		const char *who = member_name(&m[k]);
		if ((rc = member_info(&m[k], k, &info[k], e)) < 0)
			break;
		if (k > 0 && strcmp(info[k].task, info[0].task) != 0)
			rc = ml_err_set(e, ML_E_DATA, who, 0, 0,
					"member %d: task %s differs from member 1's %s", k + 1,
					info[k].task, info[0].task);
		else if (k > 0 && info[0].target && info[k].target &&
			 strcmp(info[k].target, info[0].target) != 0)
			rc = ml_err_set(e, ML_E_DATA, who, 0, 0,
					"member %d: target %s differs from member 1's %s", k + 1,
					info[k].target, info[0].target);
		else if (k > 0 && info[0].cls &&
			 (!info[k].cls || !same_classes(info[0].cls, info[k].cls)))
			rc = ml_err_set(e, ML_E_DATA, who, 0, 0,
					"member %d: classes %s differ from member 1's %s", k + 1,
					info[k].classes ? info[k].classes : "(none)", info[0].classes);
		if (rc < 0)
			break;
		ml_schema_init(&s);
		if ((rc = ml_artefact_input_schema(m[k].stage[0], &s, e)) == 0)
			rc = merge_schema(&all, &s, who, k, e);
		ml_schema_release(&s);
	}
	ml_schema_release(&all);
	return rc;
}

static int meta_set(struct ml_model *md, const char *key, cJSON *v, struct ml_err *e)
{
	char *txt = v ? cJSON_PrintUnformatted(v) : NULL;
	int rc;

	if (!txt) {
		cJSON_Delete(v);
		return ml_err_nomem(e);
	}
	rc = ml_model_meta_set(md, key, txt, e);
	free(txt);
	cJSON_Delete(v);
	return rc;
}

cJSON *ml_ens_member_json(const struct ml_ens_member *m)
{
	cJSON *o = cJSON_CreateObject(), *st = cJSON_CreateArray();
	const char *name = member_name(m), *slash = strrchr(name, '/');
	int s, bad = 0;

	if (!o) {
		cJSON_Delete(st);
		return NULL;
	}
	ml_json_str(&bad, o, "name", slash ? slash + 1 : name);
	ml_json_num(&bad, o, "weight", m->weight);
	ml_json_add(&bad, o, "stages", st);
	for (s = 0; s < m->nstage && !bad; s++) {
		const struct ml_artefact *a = m->stage[s];
		cJSON *x = cJSON_CreateObject();
		const char *alg = ml_model_algorithm(ml_artefact_model(a));
		char dig[ML_MODEL_DIGEST_HEX + 1];
		ml_json_add(&bad, st, NULL, x);
		if (bad)
			break;
		ml_json_str(&bad, x, "kind", ml_artefact_kind(a));
		if (alg[0])
			ml_json_str(&bad, x, "algorithm", alg);
		/* the digest of a model made in this run is computed from its bytes in memory */
		if (ml_artefact_digest(a, dig, NULL) < 0)
			bad = 1;
		else
			ml_json_str(&bad, x, "digest", dig);
	}
	if (bad) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

int ml_ensemble_build(struct ml_model **out, int method, const struct ml_ens_member *m, int n,
		      const struct ml_model *meta, int passthrough, struct ml_err *e)
{
	struct minfo *info;
	struct ml_model *md = NULL;
	cJSON *mem;
	char sec[64];
	int k, s, rc;

	*out = NULL;
	if (n < 1 || (n < 2 && method != ML_ENS_STACK))
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "an ensemble needs two members at least");
	if (ml_ens_method_find(ml_ens_method_name(method)) < 0 || method == ML_ENS_RANK)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "no such ensemble method for models");
	if ((method == ML_ENS_STACK) != (meta != NULL))
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "a meta-model is what the stack method needs, and only it");
	if (!(info = calloc((size_t)n, sizeof(*info))))
		return ml_err_nomem(e);
	if ((rc = check_members(m, n, info, e)) < 0)
		goto done;
	if (!(md = ml_model_new("ensemble", ml_ens_method_name(method)))) {
		rc = ml_err_nomem(e);
		goto done;
	}
	if ((rc = meta_set(md, "method", cJSON_CreateString(ml_ens_method_name(method)), e)) < 0)
		goto done;
	if ((rc = ml_model_meta_set(md, "task", info[0].task, e)) < 0 ||
	    (info[0].target && (rc = ml_model_meta_set(md, "target", info[0].target, e)) < 0) ||
	    (info[0].classes && (rc = ml_model_meta_set(md, "classes", info[0].classes, e)) < 0))
		goto done;
	if (!(mem = cJSON_CreateArray())) {
		rc = ml_err_nomem(e);
		goto done;
	}
	for (k = 0; k < n; k++) {
		cJSON *x = ml_ens_member_json(&m[k]);
		if (!x) {
			cJSON_Delete(mem);
			rc = ml_err_nomem(e);
			goto done;
		}
		if (!cJSON_AddItemToArray(mem, x)) {
			cJSON_Delete(x);
			cJSON_Delete(mem);
			rc = ml_err_nomem(e);
			goto done;
		}
	}
	if ((rc = meta_set(md, "members", mem, e)) < 0)
		goto done;
	if (meta) {
		cJSON *o = cJSON_CreateObject();
		int bad = 0;
		ml_json_str(&bad, o, "algorithm", ml_model_algorithm(meta));
		ml_json_add(&bad, o, "passthrough", cJSON_CreateBool(passthrough));
		if (bad) {
			cJSON_Delete(o);
			o = NULL;
		}
		if ((rc = meta_set(md, "meta", o, e)) < 0)
			goto done;
		if ((rc = ml_model_add_member(md, "meta", meta, e)) < 0)
			goto done;
	}
	for (k = 0; k < n; k++)
		for (s = 0; s < m[k].nstage; s++) {
			snprintf(sec, sizeof(sec), "member.%d.%d", k + 1, s + 1);
			if ((rc = ml_model_add_member(md, sec, ml_artefact_model(m[k].stage[s]), e)) < 0)
				goto done;
		}
	*out = md;
	md = NULL;
done:
	for (k = 0; k < n; k++)
		minfo_release(&info[k]);
	free(info);
	ml_model_free(md);
	return rc;
}

/* --- The kind ----------------------------------------------------------------------------- */

struct ens {
	int method;
	int n;
	struct ml_artefact ***stage; /* stage[k][s] */
	int *nstage;
	double *w;    /* n weights as given (weighted, vote), or NULL */
	int classify; /* else regression */
	int K;	      /* classes (1 for a regression) */
	char **cls;   /* class labels, the ensemble's order */
	struct ml_artefact *meta;
	int passthrough;
};

static void ens_close(void *state)
{
	struct ens *E = state;
	int k;

	if (!E)
		return;
	ml_ens_free_stages(E->stage, E->nstage, E->n);
	for (k = 0; E->cls && k < E->K; k++)
		free(E->cls[k]);
	free(E->cls);
	free(E->nstage);
	free(E->w);
	ml_artefact_free(E->meta);
	free(E);
}

static int bad(struct ml_err *e, const char *name, const char *what)
{
	return ml_err_set(e, ML_E_DATA, name, 0, 0, "a damaged ensemble: %s", what);
}

int ml_ens_load_stages(const struct ml_model *m, int k, int ns, const char *name,
		       struct ml_artefact ***stage, struct ml_err *e)
{
	char sec[64];
	int s;

	if (!(*stage = calloc((size_t)ns, sizeof(**stage))))
		return ml_err_nomem(e);
	for (s = 0; s < ns; s++) {
		struct ml_model *c;
		snprintf(sec, sizeof(sec), "member.%d.%d", k + 1, s + 1);
		if (!(c = ml_model_get_member(m, sec, e)) ||
		    !((*stage)[s] = ml_artefact_from_model(c, name, e)) ||
		    ml_artefact_check((*stage)[s], e) < 0)
			return e ? e->code : ML_E_DATA;
	}
	return 0;
}

void ml_ens_free_stages(struct ml_artefact ***stage, const int *nstage, int n)
{
	int k, s;

	for (k = 0; stage && k < n; k++) {
		for (s = 0; stage[k] && s < nstage[k]; s++)
			ml_artefact_free(stage[k][s]);
		free(stage[k]);
	}
	free(stage);
}

struct ml_chain **ml_ens_chains_new(struct ml_artefact **const *stage, const int *nstage, int n,
				    const struct ml_apply_opts *o, struct ml_err *e)
{
	struct ml_chain **ch = calloc((size_t)n, sizeof(*ch));
	struct ml_apply_opts mo;
	int k;

	if (!ch) {
		ml_err_nomem(e);
		return NULL;
	}
	ml_apply_opts_init(&mo);
	if (o)
		mo = *o;
	for (k = 0; k < n; k++)
		if (!(ch[k] = ml_chain_new((const struct ml_artefact *const *)stage[k], nstage[k],
					   &mo, e))) {
			ml_ens_chains_free(ch, n);
			return NULL;
		}
	return ch;
}

void ml_ens_chains_free(struct ml_chain **ch, int n)
{
	int k;

	for (k = 0; ch && k < n; k++)
		ml_chain_free(ch[k]);
	free(ch);
}

void ml_ens_chains_set_pool(struct ml_chain **ch, int n, struct ml_pool *pool)
{
	int k;

	for (k = 0; k < n; k++)
		ml_chain_set_pool(ch[k], pool);
}

int ml_ens_chains_apply(struct ml_chain **ch, int n, const struct ml_block *in, size_t from,
			size_t to, const struct ml_block **mo, struct ml_err *e)
{
	int k, rc;

	for (k = 0; k < n; k++) {
		if ((rc = ml_chain_apply(ch[k], in, from, to, &mo[k], e)) < 0)
			return rc;
		if (mo[k]->nrow != (to > from ? to - from : 0))
			return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
					  "member %d holds rows back (a pipeline that interpolates): "
					  "it cannot be combined row by row",
					  k + 1);
	}
	return 0;
}

static int ens_load_member(struct ens *E, const struct ml_model *m, const cJSON *mem, int k,
			   const char *name, struct ml_err *e)
{
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(mem, "stages");
	const cJSON *w = cJSON_GetObjectItemCaseSensitive(mem, "weight");
	int ns = cJSON_GetArraySize(st);

	if (!cJSON_IsArray(st) || ns < 1 || ns > 64)
		return bad(e, name, "a member without stages");
	E->w[k] = cJSON_IsNumber(w) ? w->valuedouble : 1;
	E->nstage[k] = ns;
	return ml_ens_load_stages(m, k, ns, name, &E->stage[k], e);
}

static int ens_open(void **state, const struct ml_model *m, const char *name, struct ml_err *e)
{
	struct ens *E = calloc(1, sizeof(*E));
	cJSON *meta = NULL;
	const cJSON *mem, *cls, *x, *mt;
	char *txt;
	int k, rc = 0;

	if (!E)
		return ml_err_nomem(e);
	*state = NULL;
	if (!(txt = ml_model_meta_json(m)) || !(meta = cJSON_Parse(txt))) {
		free(txt);
		free(E);
		return ml_err_nomem(e);
	}
	free(txt);
	mt = cJSON_GetObjectItemCaseSensitive(meta, "method");
	E->method = cJSON_IsString(mt) ? ml_ens_method_find(mt->valuestring) : -1;
	mem = cJSON_GetObjectItemCaseSensitive(meta, "members");
	cls = cJSON_GetObjectItemCaseSensitive(meta, "classes");
	x = cJSON_GetObjectItemCaseSensitive(meta, "task");
	E->n = cJSON_GetArraySize(mem);
	if (E->method < 0 || E->method == ML_ENS_RANK) {
		rc = bad(e, name, "an unknown method");
		goto out;
	}
	if (!cJSON_IsArray(mem) || E->n < 1 || E->n > 4096) {
		rc = bad(e, name, "no members");
		goto out;
	}
	E->classify = cJSON_IsString(x) && strcmp(x->valuestring, "classify") == 0;
	E->K = E->classify ? cJSON_GetArraySize(cls) : 1;
	if (E->classify && (!cJSON_IsArray(cls) || E->K < 1)) {
		rc = bad(e, name, "no classes");
		goto out;
	}
	E->stage = calloc((size_t)E->n, sizeof(*E->stage));
	E->nstage = calloc((size_t)E->n, sizeof(*E->nstage));
	E->w = calloc((size_t)E->n, sizeof(*E->w));
	E->cls = calloc((size_t)E->K, sizeof(*E->cls));
	if (!E->stage || !E->nstage || !E->w || !E->cls) {
		rc = ml_err_nomem(e);
		goto out;
	}
	for (k = 0; E->classify && k < E->K; k++) {
		const cJSON *c = cJSON_GetArrayItem(cls, k);
		if (!cJSON_IsString(c)) {
			rc = bad(e, name, "a class that is not text");
			goto out;
		}
		if (!(E->cls[k] = strdup(c->valuestring))) {
			rc = ml_err_nomem(e);
			goto out;
		}
	}
	for (k = 0; k < E->n; k++)
		if ((rc = ens_load_member(E, m, cJSON_GetArrayItem(mem, k), k, name, e)) < 0)
			goto out;
	if (E->method == ML_ENS_STACK) {
		const cJSON *mo = cJSON_GetObjectItemCaseSensitive(meta, "meta");
		struct ml_model *c = ml_model_get_member(m, "meta", e);
		if (!c) {
			rc = e ? e->code : ML_E_DATA;
			goto out;
		}
		if (!(E->meta = ml_artefact_from_model(c, name, e)) || ml_artefact_check(E->meta, e) < 0) {
			rc = e ? e->code : ML_E_DATA;
			goto out;
		}
		E->passthrough = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(mo, "passthrough"));
	}
out:
	cJSON_Delete(meta);
	if (rc < 0) {
		ens_close(E);
		return rc;
	}
	*state = E;
	return 0;
}

/* Whether a meta-model column is one of the members' answers (not passed through). */
static int is_meta_feature(const char *name)
{
	const char *p = name;

	if (*p++ != 'm' || *p < '1' || *p > '9')
		return 0;
	while (*p >= '0' && *p <= '9')
		p++;
	return *p == ':';
}

static int ens_input_schema(const void *state, struct ml_schema *s, struct ml_err *e)
{
	const struct ens *E = state;
	struct ml_schema one;
	int k, j, rc = 0;

	for (k = 0; k < E->n + (E->meta != NULL) && rc == 0; k++) {
		const struct ml_artefact *a = k < E->n ? E->stage[k][0] : E->meta;
		ml_schema_init(&one);
		if ((rc = ml_artefact_input_schema(a, &one, e)) == 0) {
			struct ml_schema keep;
			ml_schema_init(&keep);
			for (j = 0; j < one.ncol && rc == 0; j++) {
				int at;
				if (k == E->n && is_meta_feature(one.cols[j].name))
					continue;
				if ((at = ml_schema_add(&keep, one.cols[j].name, one.cols[j].type)) < 0 ||
				    ml_dict_copy(&keep.cols[at].dict, &one.cols[j].dict) < 0)
					rc = ml_err_nomem(e);
			}
			if (rc == 0)
				rc = merge_schema(s, &keep, "", k, e);
			ml_schema_release(&keep);
		}
		ml_schema_release(&one);
	}
	return rc;
}

static const char *const ens_table_names[] = {"members", "meta", NULL};
static const char *const ens_members_only[] = {"members", NULL};

/* "meta" (a stack's meta-model's first table: its coefficients) when there is one. */
static const char *const *ens_tables(const void *state)
{
	const struct ens *E = state;

	if (E->meta && ml_artefact_tables(E->meta)[0])
		return ens_table_names;
	return ens_members_only;
}

static int ens_table(const void *state, const char *name, struct ml_frame *out,
		     struct ml_err *e)
{
	const struct ens *E = state;
	const char *cols[] = {"member", "weight", "algorithm", "stages"};
	int k, j;

	if (strcmp(name, "meta") == 0 && E->meta && ml_artefact_tables(E->meta)[0])
		return ml_artefact_table(E->meta, ml_artefact_tables(E->meta)[0], out, e);
	if (strcmp(name, "members") != 0)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "no table '%s' (an ensemble has: %s)",
				  name, ens_tables(E)[1] ? "members, meta" : "members");
	for (j = 0; j < 4; j++)
		if (ml_schema_add(&out->schema, cols[j], j == 2 ? ML_CAT : ML_NUM) < 0)
			return ml_err_nomem(e);
	if (ml_block_init(&out->rows, &out->schema, (size_t)E->n, e) < 0)
		return e ? e->code : ML_E_NOMEM;
	for (k = 0; k < E->n; k++) {
		const char *alg =
			ml_model_algorithm(ml_artefact_model(E->stage[k][E->nstage[k] - 1]));
		int32_t c = ml_dict_intern(&out->schema.cols[2].dict, alg, strlen(alg));
		if (c < 0)
			return ml_err_nomem(e);
		out->rows.col[0].num[k] = k + 1;
		out->rows.col[1].num[k] = E->w[k];
		out->rows.col[2].cat[k] = c;
		out->rows.col[3].num[k] = E->nstage[k];
	}
	out->rows.nrow = (size_t)E->n;
	return 0;
}

/* A scorer: a chain per member, and where each member's answers are in its output. */
struct escorer {
	const struct ens *E;
	struct ml_apply_opts o;
	struct ml_chain **ch;
	int **pcol;	/* pcol[k][c]: member k's column for the ensemble's class c */
	int *predcol;	/* member k's pred column */
	int **codemap;	/* member k's pred code -> the ensemble's class */
	int *ncode;
	const struct ml_block **mo;
	double *p, *w, *scratch, *comb;
	int *label;
	struct ml_schema out;
	union ml_colv *vcol;
	struct ml_block view;
	double *cols;
	int32_t *lab;
	size_t cap;
	/* stack */
	struct ml_scorer *meta;
	struct ml_schema min; /* the meta-model's input: passed-through columns, then answers */
	struct ml_block mblk;
	union ml_colv *mvcol;
	const struct ml_schema *in;
	int nfeat_in; /* input columns at the front of min */
};

static void ens_scorer_free(void *sc)
{
	struct escorer *s = sc;
	int k;

	if (!s)
		return;
	ml_ens_chains_free(s->ch, s->E->n);
	for (k = 0; k < s->E->n; k++) {
		if (s->pcol)
			free(s->pcol[k]);
		if (s->codemap)
			free(s->codemap[k]);
	}
	free(s->pcol);
	free(s->predcol);
	free(s->codemap);
	free(s->ncode);
	free(s->mo);
	free(s->p);
	free(s->w);
	free(s->scratch);
	free(s->comb);
	free(s->label);
	free(s->vcol);
	free(s->cols);
	free(s->lab);
	ml_scorer_free(s->meta);
	ml_schema_release(&s->out);
	ml_schema_release(&s->min);
	free(s->mvcol);
	free(s);
}

static int ens_scorer_new(void **sc, const void *state, const struct ml_apply_opts *o,
			  struct ml_err *e)
{
	const struct ens *E = state;
	struct escorer *s;
	int rc;

	if (o->margin || o->leaf || o->contrib || o->std || o->nlevel)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "an ensemble gives pred and p_LABEL only (no margins, leaves, "
				  "contributions or intervals)");
	if (!(s = calloc(1, sizeof(*s))))
		return ml_err_nomem(e);
	s->E = E;
	s->o = *o;
	ml_schema_init(&s->out);
	ml_schema_init(&s->min);
	s->ch = ml_ens_chains_new(E->stage, E->nstage, E->n, NULL, e);
	s->pcol = calloc((size_t)E->n, sizeof(*s->pcol));
	s->predcol = calloc((size_t)E->n, sizeof(*s->predcol));
	s->codemap = calloc((size_t)E->n, sizeof(*s->codemap));
	s->ncode = calloc((size_t)E->n, sizeof(*s->ncode));
	s->mo = calloc((size_t)E->n, sizeof(*s->mo));
	s->p = malloc((size_t)E->n * (size_t)E->K * sizeof(double));
	s->w = malloc((size_t)E->n * sizeof(double));
	s->scratch = malloc((size_t)E->n * sizeof(double));
	s->comb = malloc((size_t)E->K * sizeof(double));
	s->label = malloc((size_t)E->n * sizeof(int));
	if (!s->ch) {
		rc = e ? e->code : ML_E_DATA;
		goto fail;
	}
	if (!s->pcol || !s->predcol || !s->codemap || !s->ncode || !s->mo || !s->p || !s->w ||
	    !s->scratch || !s->comb || !s->label) {
		rc = ml_err_nomem(e);
		goto fail;
	}
	memcpy(s->w, E->w, (size_t)E->n * sizeof(double));
	if (E->meta && !(s->meta = ml_scorer_new(E->meta, o, e))) {
		rc = e ? e->code : ML_E_DATA;
		goto fail;
	}
	*sc = s;
	return 0;
fail:
	ens_scorer_free(s);
	return rc;
}

static void ens_set_pool(void *sc, struct ml_pool *pool)
{
	struct escorer *s = sc;

	ml_ens_chains_set_pool(s->ch, s->E->n, pool);
	if (s->meta)
		ml_scorer_set_pool(s->meta, pool);
}

/* Find member k's answers in its output schema: pred and, classifying, p_LABEL for every
 * class of the ensemble, by label. */
static int find_answers(struct escorer *s, int k, const struct ml_schema *mo, struct ml_err *e)
{
	const struct ens *E = s->E;
	struct ml_pred_opts po;
	struct ml_pred_cols pc;
	int c, j, rc;

	ml_pred_opts_init(&po);
	po.classes = E->classify;
	ml_pred_cols_init(&pc);
	if ((rc = ml_pred_find(mo, &po, &pc, e)) < 0)
		return rc;
	s->predcol[k] = pc.pred;
	if (!(s->pcol[k] = malloc((size_t)E->K * sizeof(int)))) {
		ml_pred_cols_release(&pc);
		return ml_err_nomem(e);
	}
	for (c = 0; c < E->K; c++) {
		s->pcol[k][c] = -1;
		for (j = 0; E->classify && j < pc.nprob; j++)
			if (strcmp(pc.prob[j].label, E->cls[c]) == 0)
				s->pcol[k][c] = pc.prob[j].col;
		if (E->classify && s->pcol[k][c] < 0) {
			ml_pred_cols_release(&pc);
			return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
					  "member %d gives no probability of class '%s'", k + 1,
					  E->cls[c]);
		}
	}
	ml_pred_cols_release(&pc);
	if (s->predcol[k] < 0)
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "member %d gives no prediction", k + 1);
	if (!E->classify)
		s->pcol[k][0] = s->predcol[k];
	if (E->classify && mo->cols[s->predcol[k]].type == ML_CAT) {
		const struct ml_dict *d = &mo->cols[s->predcol[k]].dict;
		s->ncode[k] = d->n;
		if (!(s->codemap[k] = malloc((size_t)(d->n ? d->n : 1) * sizeof(int))))
			return ml_err_nomem(e);
		for (j = 0; j < d->n; j++) {
			s->codemap[k][j] = -1;
			for (c = 0; c < E->K; c++)
				if (strcmp(d->str[j], E->cls[c]) == 0)
					s->codemap[k][j] = c;
		}
	}
	return 0;
}

static int sync_input_dicts(struct escorer *s, struct ml_err *e)
{
	int j;

	for (j = 0; j < s->nfeat_in; j++) {
		const struct ml_dict *d = &s->in->cols[j].dict;
		struct ml_dict *o = &s->min.cols[j].dict;
		if (s->min.cols[j].type != ML_CAT)
			continue;
		while (o->n < d->n)
			if (ml_dict_intern(o, d->str[o->n], d->len[o->n]) < 0)
				return ml_err_nomem(e);
	}
	return 0;
}

/* The meta-model's input: the input's columns, then each member's answers. */
static int bind_meta(struct escorer *s, const struct ml_schema *in, const struct ml_schema **out,
		     struct ml_err *e)
{
	const struct ens *E = s->E;
	char name[1100];
	int j, k, c, rc;

	ml_schema_release(&s->min);
	ml_schema_init(&s->min);
	for (j = 0; j < in->ncol; j++)
		if (!is_meta_feature(in->cols[j].name) &&
		    ml_schema_add(&s->min, in->cols[j].name, in->cols[j].type) < 0)
			return ml_err_nomem(e);
	s->nfeat_in = s->min.ncol;
	s->in = in;
	for (k = 0; k < E->n; k++)
		for (c = E->classify && E->K == 2 ? 1 : 0; c < E->K; c++) {
			ml_ens_meta_feature(name, sizeof(name), k, E->classify ? E->cls[c] : NULL);
			if (ml_schema_add(&s->min, name, ML_NUM) < 0)
				return ml_err_nomem(e);
		}
	if ((rc = sync_input_dicts(s, e)) < 0)
		return rc;
	free(s->mvcol);
	if (!(s->mvcol = calloc((size_t)s->min.ncol, sizeof(*s->mvcol))))
		return ml_err_nomem(e);
	s->mblk.schema = &s->min;
	s->mblk.ncol = s->min.ncol;
	s->mblk.col = s->mvcol;
	return ml_scorer_bind(s->meta, &s->min, out, e);
}

static int ens_bind(void *sc, const struct ml_schema *in, const struct ml_schema **out,
		    struct ml_err *e)
{
	struct escorer *s = sc;
	const struct ens *E = s->E;
	char name[1100];
	int k, c, rc;

	for (k = 0; k < E->n; k++) {
		const struct ml_schema *mo;
		free(s->pcol[k]);
		free(s->codemap[k]);
		s->pcol[k] = NULL;
		s->codemap[k] = NULL;
		if ((rc = ml_chain_bind(s->ch[k], in, NULL, &mo, e)) < 0 ||
		    (rc = find_answers(s, k, mo, e)) < 0)
			return rc;
	}
	if (s->meta)
		return bind_meta(s, in, out, e);
	ml_schema_release(&s->out);
	ml_schema_init(&s->out);
	if ((rc = ml_schema_add(&s->out, ML_PRED_LABEL, E->classify ? ML_CAT : ML_NUM)) < 0)
		return ml_err_nomem(e);
	for (c = 0; E->classify && c < E->K; c++) {
		int32_t got = ml_dict_intern(&s->out.cols[0].dict, E->cls[c], strlen(E->cls[c]));
		if (got == ML_E_NOMEM)
			return ml_err_nomem(e);
		if (got != c)
			return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "the ensemble's classes repeat");
	}
	for (c = 0; E->classify && s->o.proba && c < E->K; c++) {
		ml_pred_name(name, sizeof(name), ML_PRED_PROB_PREFIX, E->cls[c]);
		if (ml_schema_add(&s->out, name, ML_NUM) < 0)
			return ml_err_nomem(e);
	}
	free(s->vcol);
	if (!(s->vcol = calloc((size_t)s->out.ncol, sizeof(*s->vcol))))
		return ml_err_nomem(e);
	s->view.schema = &s->out;
	s->view.ncol = s->out.ncol;
	s->view.col = s->vcol;
	*out = &s->out;
	return 0;
}

static int reserve(struct escorer *s, size_t n, struct ml_err *e)
{
	size_t nc = (size_t)s->E->K + 1 + (size_t)s->E->n * (size_t)s->E->K;

	if (n <= s->cap)
		return 0;
	free(s->cols);
	free(s->lab);
	s->cols = malloc(n * nc * sizeof(double));
	s->lab = malloc(n * sizeof(int32_t));
	if (!s->cols || !s->lab) {
		s->cap = 0;
		return ml_err_nomem(e);
	}
	s->cap = n;
	return 0;
}

/* Member k's answer for class c (or the prediction) at row i of its output. */
static double answer(const struct escorer *s, int k, int c, size_t i)
{
	return s->mo[k]->col[s->pcol[k][c]].num[i];
}

static int member_label(const struct escorer *s, int k, size_t i)
{
	int32_t code;

	if (!s->codemap[k])
		return -1;
	code = s->mo[k]->col[s->predcol[k]].cat[i];
	return code >= 0 && code < s->ncode[k] ? s->codemap[k][code] : -1;
}

static int apply_meta(struct escorer *s, const struct ml_block *in, size_t from, size_t n,
		      const struct ml_block **out, struct ml_err *e)
{
	const struct ens *E = s->E;
	int j, k, c, at, rc;
	size_t i;

	if ((rc = sync_input_dicts(s, e)) < 0)
		return rc;
	for (j = 0; j < s->nfeat_in; j++) {
		int src = ml_schema_find(in->schema, s->min.cols[j].name);
		if (s->min.cols[j].type == ML_NUM)
			s->mvcol[j].num = in->col[src].num + from;
		else
			s->mvcol[j].cat = in->col[src].cat + from;
	}
	at = s->nfeat_in;
	for (k = 0; k < E->n; k++)
		for (c = E->classify && E->K == 2 ? 1 : 0; c < E->K; c++, at++) {
			double *col = s->cols + (size_t)(at - s->nfeat_in) * n;
			for (i = 0; i < n; i++)
				col[i] = answer(s, k, c, i);
			s->mvcol[at].num = col;
		}
	s->mblk.nrow = s->mblk.cap = n;
	s->mblk.line = NULL;
	return ml_scorer_apply(s->meta, &s->mblk, 0, n, out, e);
}

static int ens_apply(void *sc, const struct ml_block *in, size_t from, size_t to,
		     const struct ml_block **out, struct ml_err *e)
{
	struct escorer *s = sc;
	const struct ens *E = s->E;
	size_t n = to > from ? to - from : 0, i;
	int k, c, rc;

	if ((rc = reserve(s, n ? n : 1, e)) < 0 ||
	    (rc = ml_ens_chains_apply(s->ch, E->n, in, from, to, s->mo, e)) < 0)
		return rc;
	if (s->meta)
		return apply_meta(s, in, from, n, out, e);
	s->view.nrow = s->view.cap = n;
	*out = &s->view;
	for (i = 0; i < n; i++) {
		int best;
		for (k = 0; k < E->n; k++) {
			for (c = 0; c < E->K; c++)
				s->p[(size_t)k * (size_t)E->K + (size_t)c] = answer(s, k, c, i);
			s->label[k] = member_label(s, k, i);
		}
		best = ml_ens_combine_row(E->method, E->n, E->K, s->p,
					  E->classify ? s->label : NULL, s->w, s->scratch, s->comb);
		if (E->classify) {
			s->lab[i] = best;
			for (c = 0; c < E->K; c++)
				s->cols[(size_t)c * n + i] = s->comb[c];
		} else {
			s->cols[i] = s->comb[0];
		}
	}
	if (E->classify) {
		s->vcol[0].cat = s->lab;
		for (c = 0; s->o.proba && c < E->K; c++)
			s->vcol[c + 1].num = s->cols + (size_t)c * n;
	} else {
		s->vcol[0].num = s->cols;
	}
	return 0;
}

const struct ml_kind ml_ens_kind_models = {
	.name = "ensemble",
	.flags = ML_ARTEFACT_FINAL,
	.open = ens_open,
	.close = ens_close,
	.input_schema = ens_input_schema,
	.tables = ens_tables,
	.table = ens_table,
	.scorer_new = ens_scorer_new,
	.scorer_free = ens_scorer_free,
	.set_pool = ens_set_pool,
	.bind = ens_bind,
	.apply = ens_apply,
};
