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

/* Checked additions: item goes under key in object o (or at the end of array o when key is
 * NULL); when item is NULL or cannot be added it is freed and *bad set, so that a run of
 * additions is checked once at its end. A key lost to a failed allocation would otherwise
 * save a model that says less than it should. */
void ml_json_add(int *bad, cJSON *o, const char *key, cJSON *item);
void ml_json_num(int *bad, cJSON *o, const char *key, double v);
void ml_json_str(int *bad, cJSON *o, const char *key, const char *v);

#endif
