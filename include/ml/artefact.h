/* Artefacts: every fitted thing in an ml-model(5) container (a feature pipeline, a model,
 * and the kinds to come: ensembles, drift profiles, forecasters, anomaly scorers) behind one
 * interface, so that commands never compare kind strings and a new kind needs no command
 * edit. Each kind registers itself in libml (lib/artefact/kinds.h).
 *
 * An artefact is loaded once and is then immutable: any number of threads may share it.
 * Applying it to rows goes through a scorer, one per thread: bind the scorer to an input
 * schema (giving the output schema), apply it to blocks of rows, finish. Transforms
 * (feature pipelines) give rows for the next artefact; a final artefact (a model) gives
 * the prediction columns of ml-model(5)'s contract (mlpredict(1) lists them). A chain
 * applies several in order and copies chosen input columns beside the result: it is what
 * mlpredict and mlfeat --load run.
 *
 *	a = ml_artefact_load(path, &e);
 *	c = ml_chain_new(&a, 1, &opts, &e);
 *	ml_schema_init(&types);
 *	ml_chain_input_types(c, &types, &e);         (ml_read_opts.types)
 *	r = ml_reader_open(input, &ro, &e);
 *	ml_chain_bind(c, ml_reader_schema(r), keep, &out, &e);
 *	while ((n = ml_reader_next(r, &b, &e)) > 0) {
 *		ml_chain_apply(c, b, 0, n, &o, &e);      (o->nrow rows, schema out)
 *		... write o ...
 *	}
 *	while (ml_chain_finish(c, &o, &e) > 0)       (rows held back, if any)
 *		... write o ...
 *
 * Ownership: output schemas and blocks belong to the scorer or chain that made them; a
 * schema stays valid until the next bind or free (its dictionaries may grow as blocks are
 * applied), a block until the next apply, finish or free. */
#ifndef ML_ARTEFACT_H
#define ML_ARTEFACT_H

#include <stddef.h>
#include "ml/ctx.h"
#include "ml/err.h"
#include "ml/frame.h"
#include "ml/model.h"

struct ml_artefact;

/* Load an artefact from a file ("-" for standard input; gzip allowed). The container is
 * checked as ml_model_load does (NULL with e set on failure); the kind's own content is
 * read too, and if it does not check out (an unknown algorithm, a damaged section) the
 * artefact is still returned, for its metadata, but everything that needs the content
 * fails with that error (ml_artefact_check reports it). A kind this libml does not know
 * loads the same way: metadata only. */
ML_API struct ml_artefact *ml_artefact_load(const char *path, struct ml_err *e);
/* The same from a loaded container, which the artefact takes over (freed on failure too);
 * name is for messages (NULL: the container's). */
ML_API struct ml_artefact *ml_artefact_from_model(struct ml_model *m, const char *name,
						  struct ml_err *e);
ML_API void ml_artefact_free(struct ml_artefact *a);

/* The kind ("features", "model", ...), the name in messages (the path, or "<stdin>"), the
 * container, and its whole-file digest (ml_model_digest). */
ML_API const char *ml_artefact_kind(const struct ml_artefact *a);
ML_API const char *ml_artefact_name(const struct ml_artefact *a);
ML_API const struct ml_model *ml_artefact_model(const struct ml_artefact *a);
ML_API int ml_artefact_digest(const struct ml_artefact *a, char out[ML_MODEL_DIGEST_HEX + 1],
			      struct ml_err *e);

/* What the artefact is for (bits). */
enum {
	ML_ARTEFACT_TRANSFORM = 1 << 0, /* applied to rows, gives rows for the next artefact */
	ML_ARTEFACT_FINAL = 1 << 1,     /* applied to rows, gives predictions: ends a chain */
	ML_ARTEFACT_KNOWN = 1 << 2      /* a kind this libml knows */
};
ML_API unsigned ml_artefact_flags(const struct ml_artefact *a);

/* Whether the kind's content checks out, loaded into a working scorer: 0, or the error
 * (ML_E_DATA naming what is wrong, ML_E_USAGE for a kind this libml does not know). */
ML_API int ml_artefact_check(const struct ml_artefact *a, struct ml_err *e);
/* The columns the artefact was fitted on, appended to s (fresh from ml_schema_init):
 * names and types, with the training levels where the kind keeps them. */
ML_API int ml_artefact_input_schema(const struct ml_artefact *a, struct ml_schema *s,
				    struct ml_err *e);
/* The metadata as JSON text (malloc'd): the container's metadata, with what the kind
 * adds (members of an ensemble, ...). NULL when out of memory. */
ML_API char *ml_artefact_describe(const struct ml_artefact *a, struct ml_err *e);
/* The names of the tables the artefact can print, NULL-terminated (never NULL), and one
 * of them as a frame (out fresh from ml_frame_init). ML_E_USAGE for a name it lacks. */
ML_API const char *const *ml_artefact_tables(const struct ml_artefact *a);
ML_API int ml_artefact_table(const struct ml_artefact *a, const char *name,
			     struct ml_frame *out, struct ml_err *e);

/* How a final artefact's answers are written (transforms ignore what is not theirs). */
struct ml_apply_opts {
	int margin;  /* raw margins (margin, margin_LABEL) instead of probabilities */
	int proba;   /* classification: p_LABEL columns after pred (default 1) */
	int leaf;    /* tree ensembles: leaf_1..leaf_T */
	int contrib; /* per-feature contributions: contrib_FEATURE.., contrib_bias */
	int std;     /* regression with uncertainty: pred_std */
	int nlevel;  /* prediction intervals: lo_L and hi_L for each level (percent) */
	double level[8];
	int extra;   /* transforms: pass through input columns they were not fitted on */
	int explain; /* anomaly detectors: explain, naming the features that weigh most in
		      * each flagged row's score */
	int shares;  /* anomaly detectors: share_FEATURE per encoded feature, its part of the
		      * row's positive contributions to the score (what an anomaly ensemble's
		      * explanation combines) */
};
ML_API void ml_apply_opts_init(struct ml_apply_opts *o);

/* One thread's scorer of an artefact (which must outlive it). NULL with e set when the
 * artefact cannot be applied (not a transform or final kind, content that did not check
 * out, an option the artefact cannot honour). */
struct ml_scorer;
ML_API struct ml_scorer *ml_scorer_new(const struct ml_artefact *a,
				       const struct ml_apply_opts *o, struct ml_err *e);
ML_API void ml_scorer_free(struct ml_scorer *s);
/* Score with pool's threads where the kind can (same bytes either way; not owned). */
ML_API void ml_scorer_set_pool(struct ml_scorer *s, struct ml_pool *pool);
/* Bind to an input schema by column name and set *out to the output schema. A column the
 * artefact needs that the input lacks, or of another type, is ML_E_DATA naming it. */
ML_API int ml_scorer_bind(struct ml_scorer *s, const struct ml_schema *in,
			  const struct ml_schema **out, struct ml_err *e);
/* Apply to rows [from, to) of in (schema as bound): *out gets the rows ready. A transform
 * that holds rows (ml_scorer_holds_rows) may give fewer than it took, the rest later and
 * from ml_scorer_finish; otherwise the output rows are the input rows, in order. */
ML_API int ml_scorer_apply(struct ml_scorer *s, const struct ml_block *in, size_t from,
			   size_t to, const struct ml_block **out, struct ml_err *e);
ML_API int ml_scorer_finish(struct ml_scorer *s, const struct ml_block **out, struct ml_err *e);
ML_API int ml_scorer_holds_rows(const struct ml_scorer *s);

/* Chains: transforms in order, then at most one final artefact. */
struct ml_chain;
/* A chain of n artefacts (borrowed: they must outlive it). ML_E_USAGE when a final
 * artefact is not last, or one cannot be applied; with the artefact's name in e->where. */
ML_API struct ml_chain *ml_chain_new(const struct ml_artefact *const *a, int n,
				     const struct ml_apply_opts *o, struct ml_err *e);
ML_API void ml_chain_free(struct ml_chain *c);
ML_API void ml_chain_set_pool(struct ml_chain *c, struct ml_pool *pool);
/* The first artefact's input columns with their fitted types, appended to s (fresh from
 * ml_schema_init): give it to ml_read_opts.types so text input is typed as when fitted. */
ML_API int ml_chain_input_types(const struct ml_chain *c, struct ml_schema *s,
				struct ml_err *e);
/* Bind to the input schema. keep (COLS, or NULL) names input columns copied to the output
 * first, row for row, whatever the transforms hold back; *out is the kept columns then
 * the last artefact's output. A kept column named like an output column is ML_E_USAGE. */
ML_API int ml_chain_bind(struct ml_chain *c, const struct ml_schema *in, const char *keep,
			 const struct ml_schema **out, struct ml_err *e);
/* Apply to rows [from, to) of in; *out gets the rows that are ready. Errors name the
 * artefact in e->where when they have no input line. */
ML_API int ml_chain_apply(struct ml_chain *c, const struct ml_block *in, size_t from, size_t to,
			  const struct ml_block **out, struct ml_err *e);
/* At the end of the input: the rows still held, each through the artefacts after the one
 * that held it, one artefact's at a time: 1 with *out set (it may be empty) while there
 * may be more, 0 when every artefact is done. */
ML_API int ml_chain_finish(struct ml_chain *c, const struct ml_block **out, struct ml_err *e);

#endif
