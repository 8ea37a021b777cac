/* The kinds of artefact, one line each: a file that defines ML_KIND(name) and includes this
 * one sees every kind once. Each is defined as const struct ml_kind ml_kind_NAME beside the
 * code it wraps (features in lib/feat/, model in lib/learn/, forecaster in lib/ts/,
 * profile in lib/drift/). */
ML_KIND(features)
ML_KIND(model)
ML_KIND(forecaster)
ML_KIND(profile)
ML_KIND(ensemble)
ML_KIND(adaptive)
