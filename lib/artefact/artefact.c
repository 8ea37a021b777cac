/* Artefacts: the kind registry, loading a container into its kind's shared state, and the
 * per-thread scorers that apply it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "artefact/kind.h"
#include "core/model_int.h"

#define ML_KIND(n) extern const struct ml_kind ml_kind_##n;
#include "kinds.h"
#undef ML_KIND

static const struct ml_kind *const kinds[] = {
#define ML_KIND(n) &ml_kind_##n,
#include "kinds.h"
#undef ML_KIND
	NULL};

struct ml_artefact {
	struct ml_model *m;
	char *name;
	const struct ml_kind *kind; /* NULL: a kind this libml does not know */
	void *state;
	int rc;           /* the state's: 0, or why it could not be read */
	struct ml_err err;
};

struct ml_scorer {
	const struct ml_artefact *a;
	void *sc;
};

static const struct ml_kind *find_kind(const char *name)
{
	int i;

	for (i = 0; kinds[i]; i++)
		if (strcmp(kinds[i]->name, name) == 0)
			return kinds[i];
	return NULL;
}

struct ml_artefact *ml_artefact_from_model(struct ml_model *m, const char *name,
					   struct ml_err *e)
{
	struct ml_artefact *a;
	const char *where = name;
	size_t n;

	if (!m)
		return NULL;
	a = calloc(1, sizeof(*a));
	if (!where)
		where = "";
	n = strlen(where) + 1;
	if (!a || !(a->name = malloc(n))) {
		free(a);
		ml_model_free(m);
		ml_err_nomem(e);
		return NULL;
	}
	memcpy(a->name, where, n);
	a->m = m;
	ml_err_init(&a->err);
	a->kind = find_kind(ml_model_kind(m));
	if (!a->kind) {
		char q[80];
		const char *k = ml_model_kind(m);
		a->rc = ml_err_set(&a->err, ML_E_USAGE, a->name, 0, 0,
				   "a '%s' artefact, a kind this mlpipe does not know (written by "
				   "a newer one?)",
				   ml_err_quote(q, sizeof(q), k, strlen(k)));
		return a;
	}
	a->rc = a->kind->open(&a->state, m, a->name, &a->err);
	if (a->rc < 0) {
		a->state = NULL;
		if (!a->err.where[0])
			snprintf(a->err.where, sizeof(a->err.where), "%s", a->name);
	}
	return a;
}

struct ml_artefact *ml_artefact_load(const char *path, struct ml_err *e)
{
	struct ml_model *m = ml_model_load(path, e);

	if (!m)
		return NULL;
	return ml_artefact_from_model(m, !path || strcmp(path, "-") == 0 ? "<stdin>" : path, e);
}

void ml_artefact_free(struct ml_artefact *a)
{
	if (!a)
		return;
	if (a->state && a->kind->close)
		a->kind->close(a->state);
	ml_model_free(a->m);
	free(a->name);
	free(a);
}

const char *ml_artefact_kind(const struct ml_artefact *a)
{
	return ml_model_kind(a->m);
}

const char *ml_artefact_name(const struct ml_artefact *a)
{
	return a->name;
}

const struct ml_model *ml_artefact_model(const struct ml_artefact *a)
{
	return a->m;
}

int ml_artefact_digest(const struct ml_artefact *a, char out[ML_MODEL_DIGEST_HEX + 1],
		       struct ml_err *e)
{
	return ml_model_digest(a->m, out, e);
}

unsigned ml_artefact_flags(const struct ml_artefact *a)
{
	return a->kind ? a->kind->flags | ML_ARTEFACT_KNOWN : 0u;
}

/* The state's error, when it could not be read. */
static int state_failed(const struct ml_artefact *a, struct ml_err *e)
{
	if (a->rc >= 0)
		return 0;
	if (e)
		*e = a->err;
	return a->rc;
}

int ml_artefact_check(const struct ml_artefact *a, struct ml_err *e)
{
	struct ml_apply_opts o;
	struct ml_scorer *s;

	if (state_failed(a, e) < 0)
		return a->rc;
	if (!(a->kind->flags & (ML_ARTEFACT_TRANSFORM | ML_ARTEFACT_FINAL)))
		return 0;
	/* Applicable kinds: a scorer must come of it too. */
	ml_apply_opts_init(&o);
	if (!(s = ml_scorer_new(a, &o, e)))
		return e ? e->code : ML_E_DATA;
	ml_scorer_free(s);
	return 0;
}

int ml_artefact_input_schema(const struct ml_artefact *a, struct ml_schema *s, struct ml_err *e)
{
	if (state_failed(a, e) < 0)
		return a->rc;
	return a->kind->input_schema ? a->kind->input_schema(a->state, s, e) : 0;
}

char *ml_artefact_describe(const struct ml_artefact *a, struct ml_err *e)
{
	cJSON *meta;
	char *txt;

	if (!a->kind || !a->kind->describe || a->rc < 0) {
		if (!(txt = ml_model_meta_json(a->m)))
			ml_err_nomem(e);
		return txt;
	}
	if (!(meta = cJSON_Duplicate(ml_model_meta_const(a->m), 1))) {
		ml_err_nomem(e);
		return NULL;
	}
	if (a->kind->describe(a->state, meta, e) < 0) {
		cJSON_Delete(meta);
		return NULL;
	}
	if (!(txt = cJSON_PrintUnformatted(meta)))
		ml_err_nomem(e);
	cJSON_Delete(meta);
	return txt;
}

const char *const *ml_artefact_tables(const struct ml_artefact *a)
{
	static const char *const none[] = {NULL};
	const char *const *t = NULL;

	if (a->kind && a->kind->tables && a->rc >= 0)
		t = a->kind->tables(a->state);
	return t ? t : none;
}

int ml_artefact_table(const struct ml_artefact *a, const char *name, struct ml_frame *out,
		      struct ml_err *e)
{
	if (!a->kind || !a->kind->table) {
		const char *k = ml_artefact_kind(a);
		char q[80];
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "%s: a '%s' artefact has no tables",
				  a->name, ml_err_quote(q, sizeof(q), k, strlen(k)));
	}
	if (state_failed(a, e) < 0)
		return a->rc;
	return a->kind->table(a->state, name, out, e);
}

void ml_apply_opts_init(struct ml_apply_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->proba = 1;
}

struct ml_scorer *ml_scorer_new(const struct ml_artefact *a, const struct ml_apply_opts *o,
				struct ml_err *e)
{
	struct ml_scorer *s;
	struct ml_apply_opts dflt;

	if (state_failed(a, e) < 0)
		return NULL;
	if (!(a->kind->flags & (ML_ARTEFACT_TRANSFORM | ML_ARTEFACT_FINAL)) || !a->kind->scorer_new) {
		const char *k = ml_artefact_kind(a);
		char q[80];
		ml_err_set(e, ML_E_DATA, a->name, 0, 0, "a '%s' artefact is not applied to rows",
			   ml_err_quote(q, sizeof(q), k, strlen(k)));
		return NULL;
	}
	if (!o) {
		ml_apply_opts_init(&dflt);
		o = &dflt;
	}
	if (!(s = calloc(1, sizeof(*s)))) {
		ml_err_nomem(e);
		return NULL;
	}
	s->a = a;
	if (a->kind->scorer_new(&s->sc, a->state, o, e) < 0) {
		free(s);
		return NULL;
	}
	return s;
}

void ml_scorer_free(struct ml_scorer *s)
{
	if (!s)
		return;
	s->a->kind->scorer_free(s->sc);
	free(s);
}

void ml_scorer_set_pool(struct ml_scorer *s, struct ml_pool *pool)
{
	if (s->a->kind->set_pool)
		s->a->kind->set_pool(s->sc, pool);
}

int ml_scorer_bind(struct ml_scorer *s, const struct ml_schema *in, const struct ml_schema **out,
		   struct ml_err *e)
{
	return s->a->kind->bind(s->sc, in, out, e);
}

int ml_scorer_apply(struct ml_scorer *s, const struct ml_block *in, size_t from, size_t to,
		    const struct ml_block **out, struct ml_err *e)
{
	return s->a->kind->apply(s->sc, in, from, to, out, e);
}

int ml_scorer_finish(struct ml_scorer *s, const struct ml_block **out, struct ml_err *e)
{
	static const struct ml_block none;

	if (s->a->kind->finish)
		return s->a->kind->finish(s->sc, out, e);
	*out = &none;
	return 0;
}

int ml_scorer_holds_rows(const struct ml_scorer *s)
{
	return s->a->kind->holds_rows ? s->a->kind->holds_rows(s->sc) : 0;
}
