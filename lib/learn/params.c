/* Hyperparameters: defaults, checked parsing from text, and their JSON form in model files. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml/num.h"
#include "learn_int.h"

static int param_index(const struct ml_params *p, const char *name)
{
	int i;

	for (i = 0; i < p->n; i++)
		if (strcmp(p->table[i].name, name) == 0)
			return i;
	return -1;
}

void ml_params_init_table(struct ml_params *p, const struct ml_param *table, const char *opt,
			  const char *owner)
{
	int i;

	memset(p, 0, sizeof(*p));
	p->table = table;
	p->opt = opt;
	p->owner = owner;
	for (i = 0; table && table[i].name && i < ML_MAX_PARAMS; i++)
		p->v[i] = table[i].def;
	p->n = i;
}

void ml_params_init(struct ml_params *p, const struct ml_algo *a)
{
	ml_params_init_table(p, a ? a->params : NULL, "-a", a ? a->name : "");
	p->algo = a;
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

static int is_text(enum ml_ptype t)
{
	return t == ML_P_STRING || t == ML_P_LIST || t == ML_P_INT_LIST;
}

/* Check a list's items (numbers, or whole numbers, in [lo, hi]); the count, or -1. Items
 * go to out[0..max). */
static int parse_list(const struct ml_param *d, const char *text, double *out, int max)
{
	const char *s = text;
	int n = 0;

	if (!*s)
		return 0;
	for (;;) {
		const char *c = strchr(s, ',');
		size_t l = c ? (size_t)(c - s) : strlen(s);
		double v;
		if (d->type == ML_P_INT_LIST) {
			long x;
			char buf[32];
			if (l == 0 || l >= sizeof(buf))
				return -1;
			memcpy(buf, s, l);
			buf[l] = 0;
			if (ml_parse_long(buf, bound_long(d->lo), bound_long(d->hi), &x) != 0)
				return -1;
			v = (double)x;
		} else {
			char buf[64];
			if (l == 0 || l >= sizeof(buf))
				return -1;
			memcpy(buf, s, l);
			buf[l] = 0;
			if (ml_parse_real(buf, d->lo, d->hi, &v) != 0 || !isfinite(v))
				return -1;
		}
		if (n < max)
			out[n] = v;
		n++;
		if (!c)
			return n;
		s = c + 1;
	}
}

/* Store text as the value of parameter i; ML_E_USAGE when the set's text space is full. */
static int set_text(struct ml_params *p, int i, const char *text, struct ml_err *e)
{
	size_t l = strlen(text);

	if (l > ML_PARAM_TEXT_MAX || p->used + l + 1 > sizeof(p->text))
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "value of --%s is too long",
				  p->table[i].name);
	memcpy(p->text + p->used, text, l + 1);
	p->off[i] = (unsigned short)(p->used + 1);
	p->used = (unsigned short)(p->used + l + 1);
	return 0;
}

int ml_params_set(struct ml_params *p, const char *name, const char *text, struct ml_err *e)
{
	int i = param_index(p, name);
	const struct ml_param *d;

	if (i < 0)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "--%s does not apply to %s %s", name,
				  p->opt, p->owner);
	d = &p->table[i];
	if (is_text(d->type)) {
		int rc;
		if (d->type != ML_P_STRING && parse_list(d, text, NULL, 0) < 0) {
			if (d->type == ML_P_INT_LIST)
				return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
						  "invalid value '%s' for --%s (comma-separated whole "
						  "numbers from %ld to %ld)",
						  text, name, bound_long(d->lo), bound_long(d->hi));
			return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
					  "invalid value '%s' for --%s (comma-separated numbers "
					  "from %g to %g)",
					  text, name, d->lo, d->hi);
		}
		if ((rc = set_text(p, i, text, e)) < 0)
			return rc;
	} else if (d->type == ML_P_ENUM) {
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
	int i = param_index(p, name);
	return i < 0 || is_text(p->table[i].type) ? NAN : p->v[i];
}

const char *ml_param_text(const struct ml_params *p, const char *name)
{
	int i = param_index(p, name);

	if (i < 0 || !is_text(p->table[i].type))
		return NULL;
	if (p->off[i])
		return p->text + p->off[i] - 1;
	return p->table[i].choices ? p->table[i].choices : "";
}

int ml_param_list(const struct ml_params *p, const char *name, double *out, int max)
{
	int i = param_index(p, name);
	const char *t = ml_param_text(p, name);

	if (!t || p->table[i].type == ML_P_STRING)
		return -1;
	return parse_list(&p->table[i], t, out, max);
}

int ml_param_given(const struct ml_params *p, const char *name)
{
	int i = param_index(p, name);
	return i < 0 ? 0 : p->set[i];
}

cJSON *ml_params_to_json(const struct ml_params *p)
{
	cJSON *j = cJSON_CreateObject();
	int i;

	if (!j)
		return NULL;
	for (i = 0; i < p->n; i++) {
		const struct ml_param *d = &p->table[i];
		const void *ok;
		if (d->type == ML_P_ENUM) {
			char buf[64];
			ok = cJSON_AddStringToObject(j, d->name,
						     choice_name(d->choices, (int)p->v[i], buf,
								 sizeof(buf)));
		} else if (d->type == ML_P_STRING) {
			ok = cJSON_AddStringToObject(j, d->name, ml_param_text(p, d->name));
		} else if (is_text(d->type)) {
			double v[ML_PARAM_TEXT_MAX / 2 + 1];
			int k, n = ml_param_list(p, d->name, v, (int)(sizeof(v) / sizeof(v[0])));
			cJSON *arr = cJSON_AddArrayToObject(j, d->name);
			for (k = 0; arr && k < n; k++) {
				cJSON *x = cJSON_CreateNumber(v[k]);
				if (!cJSON_AddItemToArray(arr, x)) {
					cJSON_Delete(x);
					arr = NULL;
				}
			}
			ok = arr;
		} else {
			ok = cJSON_AddNumberToObject(j, d->name, p->v[i]);
		}
		if (!ok) { /* out of memory: no parameter may go missing */
			cJSON_Delete(j);
			return NULL;
		}
	}
	return j;
}

int ml_params_from_json(struct ml_params *p, const struct ml_algo *a, const cJSON *j,
			struct ml_err *e)
{
	ml_params_init(p, a);
	return ml_params_read_json(p, j, e);
}

int ml_params_read_json(struct ml_params *p, const cJSON *j, struct ml_err *e)
{
	int i;

	if (!cJSON_IsObject(j))
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "model parameters are not an object");
	for (i = 0; i < p->n; i++) {
		const struct ml_param *d = &p->table[i];
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, d->name);
		if (!v)
			continue;
		if (d->type == ML_P_STRING) {
			if (!cJSON_IsString(v) || set_text(p, i, v->valuestring, e) < 0)
				return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "bad value for parameter '%s'",
						  d->name);
		} else if (is_text(d->type)) {
			/* An array of numbers, stored as the list's text again. */
			char buf[ML_PARAM_TEXT_MAX + 1];
			size_t at = 0;
			const cJSON *it;
			if (!cJSON_IsArray(v))
				return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "bad value for parameter '%s'",
						  d->name);
			buf[0] = 0;
			cJSON_ArrayForEach(it, v)
			{
				char num[ML_FMT_DOUBLE_MAX + 1];
				size_t l;
				if (!cJSON_IsNumber(it))
					return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
							  "bad value for parameter '%s'", d->name);
				ml_fmt_double(num, it->valuedouble);
				l = strlen(num);
				if (at + l + 2 > sizeof(buf))
					return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
							  "bad value for parameter '%s'", d->name);
				if (at)
					buf[at++] = ',';
				memcpy(buf + at, num, l + 1);
				at += l;
			}
			if (parse_list(d, buf, NULL, 0) < 0 || set_text(p, i, buf, e) < 0)
				return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "bad value for parameter '%s'",
						  d->name);
		} else if (d->type == ML_P_ENUM) {
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
