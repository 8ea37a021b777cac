/* Private to lib/ensemble/: what the anomaly method (anomaly.c) shares with the others
 * (ensemble.c). */
#ifndef ML_ENS_INT_H
#define ML_ENS_INT_H

#include <cjson/cJSON.h>

#include "artefact/kind.h"
#include "ml/ensemble.h"

/* A member as the "members" metadata lists it: name, weight, stages (kind, algorithm,
 * digest). NULL when out of memory. */
cJSON *ml_ens_member_json(const struct ml_ens_member *m);
/* The kind of the combining methods (ensemble.c) and of the anomaly method (anomaly.c);
 * ml_kind_ensemble hands each container to the one its method names. */
extern const struct ml_kind ml_ens_kind_models, ml_ens_kind_anomaly;

#endif
