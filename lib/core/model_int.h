/* Private to libml: the model container's metadata as cJSON, for the kinds that write and
 * read it (learners, feature pipelines, artefacts), and schemas in JSON. */
#ifndef ML_MODEL_INT_H
#define ML_MODEL_INT_H

#include <cjson/cJSON.h>

#include "ml/model.h"

/* The metadata object, owned by the model. */
cJSON *ml_model_meta(struct ml_model *m);
const cJSON *ml_model_meta_const(const struct ml_model *m);

/* A schema as JSON ([{"name":..,"type":"num"|"cat","levels":[..]}]) and back. from_json
 * appends to s, which should be fresh from ml_schema_init; on failure s is left empty. */
cJSON *ml_schema_to_json(const struct ml_schema *s);
int ml_schema_from_json(struct ml_schema *s, const cJSON *j, struct ml_err *e);

#endif
