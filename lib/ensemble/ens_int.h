/* Private to lib/ensemble/: what the anomaly method (anomaly.c) shares with the others
 * (ensemble.c). */
#ifndef ML_ENS_INT_H
#define ML_ENS_INT_H

#include <cjson/cJSON.h>

#include "artefact/kind.h"
#include "core/model_int.h"
#include "ml/ensemble.h"

/* A member as the "members" metadata lists it: name, weight, stages (kind, algorithm,
 * digest). NULL when out of memory. */
cJSON *ml_ens_member_json(const struct ml_ens_member *m);
/* Member k's ns stages, the container's sections member.K.1 .. member.K.ns, loaded and
 * checked into *stage (allocated). name is for messages. */
int ml_ens_load_stages(const struct ml_model *m, int k, int ns, const char *name,
		       struct ml_artefact ***stage, struct ml_err *e);
/* Free n members' stages (stage[k] holding nstage[k]; NULL entries allowed) and stage. */
void ml_ens_free_stages(struct ml_artefact ***stage, const int *nstage, int n);
/* A scorer's chains, one per member, applying with o (NULL: the defaults): NULL with e
 * set on failure. */
struct ml_chain **ml_ens_chains_new(struct ml_artefact **const *stage, const int *nstage, int n,
				    const struct ml_apply_opts *o, struct ml_err *e);
void ml_ens_chains_free(struct ml_chain **ch, int n);
void ml_ens_chains_set_pool(struct ml_chain **ch, int n, struct ml_pool *pool);
/* Every member's chain on rows [from, to) of in, into mo[k]; a member that gives another
 * row count (a pipeline holding rows back) is ML_E_DATA. */
int ml_ens_chains_apply(struct ml_chain **ch, int n, const struct ml_block *in, size_t from,
			size_t to, const struct ml_block **mo, struct ml_err *e);
/* The kind of the combining methods (ensemble.c) and of the anomaly method (anomaly.c);
 * ml_kind_ensemble hands each container to the one its method names. */
extern const struct ml_kind ml_ens_kind_models, ml_ens_kind_anomaly;

#endif
