/* Private to libml: what a kind of artefact provides. A kind's file defines
 * const struct ml_kind ml_kind_NAME beside the code it wraps, and one line in kinds.h
 * registers it. */
#ifndef ML_KIND_H
#define ML_KIND_H

#include <cjson/cJSON.h>

#include "ml/artefact.h"

struct ml_kind {
	const char *name;    /* the container's "kind" */
	unsigned flags;      /* ML_ARTEFACT_TRANSFORM or ML_ARTEFACT_FINAL, or neither */
	/* Read the content of m (which outlives the state) into an immutable state that
	 * threads share. name is for messages. */
	int (*open)(void **state, const struct ml_model *m, const char *name, struct ml_err *e);
	void (*close)(void *state);
	/* The fitted input columns (see ml_artefact_input_schema); NULL: none. */
	int (*input_schema)(const void *state, struct ml_schema *s, struct ml_err *e);
	/* Table names (NULL-terminated; NULL: none) and one table. */
	const char *const *(*tables)(const void *state);
	int (*table)(const void *state, const char *name, struct ml_frame *out,
		     struct ml_err *e);
	/* Optional: what ml_artefact_describe adds to a copy of the metadata. */
	int (*describe)(const void *state, cJSON *meta, struct ml_err *e);
	/* A scorer for one thread: binding and scratch over the shared state. */
	int (*scorer_new)(void **sc, const void *state, const struct ml_apply_opts *o,
			  struct ml_err *e);
	void (*scorer_free)(void *sc);
	void (*set_pool)(void *sc, struct ml_pool *pool); /* optional */
	int (*bind)(void *sc, const struct ml_schema *in, const struct ml_schema **out,
		    struct ml_err *e);
	int (*apply)(void *sc, const struct ml_block *in, size_t from, size_t to,
		     const struct ml_block **out, struct ml_err *e);
	/* Optional, for transforms that hold rows back. */
	int (*finish)(void *sc, const struct ml_block **out, struct ml_err *e);
	int (*holds_rows)(const void *sc);
};

#endif
