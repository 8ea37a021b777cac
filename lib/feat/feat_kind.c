/* The "features" kind of artefact: a fitted feature pipeline, a transform. Its streaming
 * state (lags, windows, held rows) is per scorer, so each scorer reads its own pipeline
 * from the shared container. */
#include <stdlib.h>

#include "artefact/kind.h"
#include "ml/feat.h"

struct fstate {
	const struct ml_model *m;
	struct ml_features *f; /* read once, for the input schema */
};

static int fk_open(void **state, const struct ml_model *m, const char *name, struct ml_err *e)
{
	struct fstate *s = calloc(1, sizeof(*s));

	(void)name;
	if (!s)
		return ml_err_nomem(e);
	s->m = m;
	if (!(s->f = ml_features_from_model(m, e))) {
		free(s);
		return e ? e->code : ML_E_DATA;
	}
	*state = s;
	return 0;
}

static void fk_close(void *state)
{
	struct fstate *s = state;

	ml_features_free(s->f);
	free(s);
}

static int fk_input_schema(const void *state, struct ml_schema *sc, struct ml_err *e)
{
	const struct fstate *s = state;

	return ml_features_input_schema(s->f, sc, e);
}

static int fk_scorer_new(void **sc, const void *state, const struct ml_apply_opts *o,
			 struct ml_err *e)
{
	const struct fstate *s = state;
	struct ml_features *f = ml_features_from_model(s->m, e);

	if (!f)
		return e ? e->code : ML_E_DATA;
	ml_features_set_extra(f, o->extra);
	*sc = f;
	return 0;
}

static void fk_scorer_free(void *sc)
{
	ml_features_free(sc);
}

static int fk_bind(void *sc, const struct ml_schema *in, const struct ml_schema **out,
		   struct ml_err *e)
{
	return ml_features_bind(sc, in, out, e);
}

static int fk_apply(void *sc, const struct ml_block *in, size_t from, size_t to,
		    const struct ml_block **out, struct ml_err *e)
{
	return ml_features_apply(sc, in, from, to, out, e);
}

static int fk_finish(void *sc, const struct ml_block **out, struct ml_err *e)
{
	return ml_features_finish(sc, out, e);
}

static int fk_holds_rows(const void *sc)
{
	return ml_features_holds_rows(sc);
}

const struct ml_kind ml_kind_features = {
	.name = "features",
	.flags = ML_ARTEFACT_TRANSFORM,
	.open = fk_open,
	.close = fk_close,
	.input_schema = fk_input_schema,
	.scorer_new = fk_scorer_new,
	.scorer_free = fk_scorer_free,
	.bind = fk_bind,
	.apply = fk_apply,
	.finish = fk_finish,
	.holds_rows = fk_holds_rows,
};
