/* The learner and feature specifications of the commands that fit (an algorithm by name,
 * --class-weight, --base and --feat texts), apart from cli.c so that a command which fits
 * nothing does not link every learner and, through them, BLAS and LAPACK. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const struct ml_algo *cli_algo(const struct cli *c, const char *opt, const char *name, int *rc)
{
	const struct ml_algo *a = ml_algo_find(name);
	const struct ml_algo *const *i;
	char list[1024], q[80];
	size_t n = 0;

	if (a)
		return a;
	list[0] = 0;
	for (i = ml_algos(); *i && n < sizeof(list); i++) {
		int k = snprintf(list + n, sizeof(list) - n, "%s%s", i == ml_algos() ? "" : ", ",
				 ml_algo_name(*i));
		n += k > 0 ? (size_t)k : 0;
	}
	*rc = cli_usage(c, "%s%sunknown algorithm '%s' (one of %s)", opt ? opt : "", opt ? ": " : "",
			ml_err_quote(q, sizeof(q), name, strlen(name)), list);
	return NULL;
}

int cli_class_weight(const struct cli *c, const char *arg, struct ml_train_spec *spec)
{
	if (strcmp(arg, "balanced") == 0)
		spec->balanced = 1;
	else if (strcmp(arg, "none") == 0)
		spec->balanced = 0;
	else
		return cli_usage(c, "invalid value '%s' for --class-weight (balanced or none)", arg);
	return 0;
}

/* The next blank-separated word of *p (copied into w, size n), or 0 at the end. */
static size_t next_word(const char **p, char *w, size_t n)
{
	const char *s = *p;
	size_t k = 0;

	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	while (*s && *s != ' ' && *s != '\t' && *s != '\n') {
		if (k + 1 < n)
			w[k] = *s;
		k++;
		s++;
	}
	*p = s;
	if (n)
		w[k < n ? k : n - 1] = 0;
	return k;
}

int cli_learner_spec(const struct cli *c, const char *opt, const char *text,
		     struct ml_train_spec *spec)
{
	const struct ml_algo *a;
	const char *p = text;
	char w[512], v[512];
	struct ml_err e;
	int rc = 0;

	ml_err_init(&e);
	if (!next_word(&p, w, sizeof(w)))
		return cli_usage(c, "%s: no algorithm in '%s'", opt, text);
	snprintf(v, sizeof(v), "%s '%s'", opt, text);
	if (!(a = cli_algo(c, v, w, &rc)))
		return rc;
	ml_params_init(&spec->params, a);
	while (next_word(&p, w, sizeof(w))) {
		char *eq = strchr(w, '=');
		if (strncmp(w, "--", 2) != 0 || w[2] == 0)
			return cli_usage(c, "%s '%s': '%s' is not an option", opt, text, w);
		if (eq) {
			*eq = 0;
			snprintf(v, sizeof(v), "%s", eq + 1);
		} else if (!next_word(&p, v, sizeof(v))) {
			return cli_usage(c, "%s '%s': %s needs a value", opt, text, w);
		}
		if (strcmp(w + 2, "class-weight") == 0) {
			if ((rc = cli_class_weight(c, v, spec)) != 0)
				return rc;
		} else if (ml_params_set(&spec->params, w + 2, v, &e) < 0) {
			return cli_usage(c, "%s '%s': %s", opt, text, e.msg);
		}
	}
	return 0;
}

/* The options of a feature pipeline text that take no value. */
static int *feat_flag(struct ml_feat_spec *spec, const char *name)
{
	if (strcmp(name, "missing-indicator") == 0)
		return &spec->missing_indicator;
	if (strcmp(name, "cyclical") == 0)
		return &spec->cyclical;
	if (strcmp(name, "squares") == 0)
		return &spec->squares;
	if (strcmp(name, "whiten") == 0)
		return &spec->whiten;
	return NULL;
}

/* A valued option of a feature pipeline text other than a step; 0, 1 when name is none
 * of them, or the usage status. */
static int feat_option(const struct cli *c, const char *where, struct ml_feat_spec *spec,
		       const char *name, const char *v)
{
	long n;
	double d;

	if (strcmp(name, "unseen") == 0) {
		if (strcmp(v, "ignore") == 0)
			spec->unseen = ML_UNSEEN_IGNORE;
		else if (strcmp(v, "error") == 0)
			spec->unseen = ML_UNSEEN_ERROR;
		else if (strcmp(v, "other") == 0)
			spec->unseen = ML_UNSEEN_OTHER;
		else
			return cli_usage(c, "%s: invalid value '%s' for --unseen", where, v);
	} else if (strcmp(name, "max-categories") == 0) {
		if (ml_parse_long(v, 2, 100000, &n) != 0)
			return cli_usage(c, "%s: invalid value '%s' for --max-categories", where, v);
		spec->max_categories = (int)n;
	} else if (strcmp(name, "smoothing") == 0) {
		if (strcmp(v, "auto") == 0)
			spec->smoothing = -1;
		else if (ml_parse_real(v, 0, 1e300, &d) != 0)
			return cli_usage(c, "%s: invalid value '%s' for --smoothing", where, v);
		else
			spec->smoothing = d;
	} else if (strcmp(name, "folds") == 0) {
		if (ml_parse_long(v, 2, 1000, &n) != 0)
			return cli_usage(c, "%s: invalid value '%s' for --folds", where, v);
		spec->folds = (int)n;
	} else if (strcmp(name, "time-col") == 0) {
		spec->time_col = v;
	} else if (strcmp(name, "group-col") == 0) {
		spec->group_col = v;
	} else {
		return 1;
	}
	return 0;
}

int cli_feat_spec(const struct cli *c, const char *opt, const char *text,
		  struct ml_feat_spec *spec, void **store)
{
	const char *const *names = ml_feat_step_names();
	size_t len = strlen(text), nw = 0, i;
	char *buf, **w, where[300], *p;
	struct ml_feat_step *steps;
	struct ml_err e;
	int rc;

	*store = NULL;
	snprintf(where, sizeof(where), "%s '%s'", opt, text);
	/* One block: the words' pointers, the steps, then the words themselves. */
	if (!(buf = malloc(len + 1 + (len / 2 + 2) * (sizeof(char *) + sizeof(*steps)))))
		return cli_error(c, EX_OSERR_, "out of memory");
	*store = buf;
	w = (char **)(void *)buf;
	steps = (struct ml_feat_step *)(void *)(w + len / 2 + 2);
	p = (char *)(steps + len / 2 + 2);
	memcpy(p, text, len + 1);
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			*p++ = 0;
		if (!*p)
			break;
		w[nw++] = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\n')
			p++;
	}
	spec->steps = steps;
	spec->nsteps = 0;
	for (i = 0; i < nw; i++) {
		char *name = w[i] + 2, *eq, *v = NULL;
		int k, *flag;
		if (strncmp(w[i], "--", 2) != 0 || !*name)
			return cli_usage(c, "%s: '%s' is not an option", where, w[i]);
		if ((eq = strchr(name, '='))) {
			*eq = 0;
			v = eq + 1;
		}
		if ((flag = feat_flag(spec, name))) {
			if (v)
				return cli_usage(c, "%s: --%s takes no value", where, name);
			*flag = 1;
			continue;
		}
		if (!v && i + 1 >= nw)
			return cli_usage(c, "%s: --%s needs a value", where, name);
		if (!v)
			v = w[++i];
		for (k = 0; names[k] && strcmp(names[k], name) != 0; k++)
			;
		if (names[k]) {
			steps[spec->nsteps].step = names[k];
			steps[spec->nsteps++].arg = v;
			continue;
		}
		if ((rc = feat_option(c, where, spec, name, v)) == 1)
			return cli_usage(c, "%s: --%s is not an option of a feature pipeline", where, name);
		if (rc)
			return rc;
	}
	if (spec->nsteps == 0)
		return cli_usage(c, "%s: no step", where);
	ml_err_init(&e);
	if (ml_features_check(spec, &e) < 0)
		return cli_usage(c, "%s: %s", where, e.msg);
	return 0;
}
