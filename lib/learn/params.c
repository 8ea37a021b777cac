/* Hyperparameters: defaults, checked parsing from text, and their JSON form in model files. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml/learn.h"
#include "ml/num.h"
#include "learn_int.h"

/* Hyperparameters. */

static int param_index(const struct ml_algo *a, const char *name)
{
	int i;

	for (i = 0; a->params && a->params[i].name; i++)
		if (strcmp(a->params[i].name, name) == 0)
			return i;
	return -1;
}

void ml_params_init(struct ml_params *p, const struct ml_algo *a)
{
	int i;

	memset(p, 0, sizeof(*p));
	p->algo = a;
	for (i = 0; a && a->params && a->params[i].name && i < ML_MAX_PARAMS; i++)
		p->v[i] = a->params[i].def;
	p->n = i;
}

/* Index of word in a comma-separated list, or -1. */
static int choice_index(const char *choices, const char *word)
{
	size_t wl = strlen(word);
	int k = 0;
	const char *s = choices;

	while (s && *s) {
		const char *c = strchr(s, ',');
		size_t l = c ? (size_t)(c - s) : strlen(s);
		if (l == wl && memcmp(s, word, l) == 0)
			return k;
		k++;
		s = c ? c + 1 : NULL;
	}
	return -1;
}

/* Copy choice k of a list into buf. */
static const char *choice_name(const char *choices, int k, char *buf, size_t n)
{
	const char *s = choices;

	while (s && *s) {
		const char *c = strchr(s, ',');
		size_t l = c ? (size_t)(c - s) : strlen(s);
		if (k-- == 0) {
			if (l >= n)
				l = n - 1;
			memcpy(buf, s, l);
			buf[l] = 0;
			return buf;
		}
		s = c ? c + 1 : NULL;
	}
	buf[0] = 0;
	return buf;
}

/* An integer parameter's bound as a long (an infinite or huge bound saturates). */
static long bound_long(double v)
{
	if (!(v < 9.2e18))
		return v != v ? 0 : LONG_MAX;
	if (!(v > -9.2e18))
		return LONG_MIN;
	return (long)v;
}

int ml_params_set(struct ml_params *p, const char *name, const char *text, struct ml_err *e)
{
	const struct ml_algo *a = p->algo;
	int i = param_index(a, name);
	const struct ml_param *d;

	if (i < 0)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "--%s does not apply to -a %s", name,
				  a->name);
	d = &a->params[i];
	if (d->type == ML_P_ENUM) {
		int k = choice_index(d->choices, text);
		if (k < 0)
			return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
					  "invalid value '%s' for --%s (one of %s)", text, name,
					  d->choices);
		p->v[i] = k;
	} else if (d->type == ML_P_INT) {
		long v, lo = bound_long(d->lo), hi = bound_long(d->hi);
		if (ml_parse_long(text, lo, hi, &v) != 0) {
			if (hi == LONG_MAX)
				return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
						  "invalid value '%s' for --%s (a whole number >= %ld)",
						  text, name, lo);
			return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
					  "invalid value '%s' for --%s (a whole number from %ld to %ld)",
					  text, name, lo, hi);
		}
		p->v[i] = (double)v;
	} else {
		double v;
		if (ml_parse_real(text, d->lo, d->hi, &v) != 0 || !isfinite(v)) {
			if (d->hi == INFINITY)
				return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
						  "invalid value '%s' for --%s (a number >= %g)", text,
						  name, d->lo);
			return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
					  "invalid value '%s' for --%s (a number from %g to %g)", text,
					  name, d->lo, d->hi);
		}
		p->v[i] = v;
	}
	p->set[i] = 1;
	return 0;
}

double ml_param(const struct ml_params *p, const char *name)
{
	int i = param_index(p->algo, name);
	return i < 0 ? NAN : p->v[i];
}

int ml_param_given(const struct ml_params *p, const char *name)
{
	int i = param_index(p->algo, name);
	return i < 0 ? 0 : p->set[i];
}

cJSON *ml_params_to_json(const struct ml_params *p)
{
	cJSON *j = cJSON_CreateObject();
	int i;

	if (!j)
		return NULL;
	for (i = 0; i < p->n; i++) {
		const struct ml_param *d = &p->algo->params[i];
		if (d->type == ML_P_ENUM) {
			char buf[64];
			cJSON_AddStringToObject(j, d->name,
						choice_name(d->choices, (int)p->v[i], buf, sizeof(buf)));
		} else {
			cJSON_AddNumberToObject(j, d->name, p->v[i]);
		}
	}
	return j;
}

int ml_params_from_json(struct ml_params *p, const struct ml_algo *a, const cJSON *j,
			struct ml_err *e)
{
	int i;

	ml_params_init(p, a);
	if (!cJSON_IsObject(j))
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "model parameters are not an object");
	for (i = 0; i < p->n; i++) {
		const struct ml_param *d = &a->params[i];
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, d->name);
		if (!v)
			continue;
		if (d->type == ML_P_ENUM) {
			int k = cJSON_IsString(v) ? choice_index(d->choices, v->valuestring) : -1;
			if (k < 0)
				return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "bad value for parameter '%s'",
						  d->name);
			p->v[i] = k;
		} else {
			if (!cJSON_IsNumber(v) || !(v->valuedouble >= d->lo && v->valuedouble <= d->hi))
				return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "bad value for parameter '%s'",
						  d->name);
			p->v[i] = v->valuedouble;
		}
		p->set[i] = 1;
	}
	return 0;
}
