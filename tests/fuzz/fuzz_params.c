/* Fuzzing the hyperparameter values of mltrain's options (--k 5, --l1 0.1, --weights
 * distance, --hidden 128,64, ...) and of the forecasting methods: ml_params_set on every
 * algorithm's and method's table. A value is taken whole or refused with ML_E_USAGE and a
 * message; a taken number is within its range (whole for an integer), a taken choice one of
 * the choices, a taken list has its items in range and reads back through ml_param_list,
 * a taken text reads back the same; a refused value changes nothing.
 *
 * Input: one byte picking the table (an algorithm's, or a forecasting method's), then
 * pairs of NUL-terminated strings: a parameter name (or, when it starts with '#', the
 * table's parameter of that index byte) and its value. */
#include "fuzz.h"

static const struct ml_param *table_of(unsigned pick, struct ml_params *p)
{
	const struct ml_algo *const *a = ml_algos();
	const struct ml_fc_method *const *m = ml_fc_methods();
	unsigned na = 0, nm = 0;

	while (a[na])
		na++;
	while (m[nm])
		nm++;
	pick %= na + nm;
	if (pick < na) {
		ml_params_init(p, a[pick]);
		return ml_algo_params(a[pick]);
	}
	ml_fc_params_init(p, m[pick - na]);
	return ml_fc_method_params(m[pick - na]);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/* What a taken value must read back as. */
static void check_taken(const struct ml_params *p, const struct ml_param *t, const char *text)
{
	double v = ml_param(p, t->name), items[64];
	const char *s;
	int n, i;

	if (!ml_param_given(p, t->name))
		fz_fail("--%s %s taken but not given", t->name, text);
	switch (t->type) {
	case ML_P_REAL:
	case ML_P_INT:
		if (!(v >= t->lo && v <= t->hi))
			fz_fail("--%s %s taken as %.17g outside [%g, %g]", t->name, text, v, t->lo, t->hi);
		if (t->type == ML_P_INT && v != floor(v))
			fz_fail("--%s %s taken as %.17g, not whole", t->name, text, v);
		break;
	case ML_P_ENUM: {
		const char *c = t->choices, *comma;
		int k = 0, found = 0;
		for (;; k++) {
			comma = strchr(c, ',');
			size_t len = comma ? (size_t)(comma - c) : strlen(c);
			if (k == (int)v && strlen(text) == len && !memcmp(text, c, len))
				found = 1;
			if (!comma)
				break;
			c = comma + 1;
		}
		if (!found)
			fz_fail("--%s %s taken as choice %g", t->name, text, v);
		break;
	}
	case ML_P_STRING:
		s = ml_param_text(p, t->name);
		if (!s || strcmp(s, text) != 0)
			fz_fail("--%s '%s' reads back as '%s'", t->name, text, s ? s : "(null)");
		break;
	case ML_P_LIST:
	case ML_P_INT_LIST:
		n = ml_param_list(p, t->name, items, 64);
		if (n < 0)
			fz_fail("--%s %s taken, but not a list", t->name, text);
		for (i = 0; i < n && i < 64; i++) {
			if (!(items[i] >= t->lo && items[i] <= t->hi))
				fz_fail("--%s %s: item %d is %.17g outside [%g, %g]", t->name, text,
					i + 1, items[i], t->lo, t->hi);
			if (t->type == ML_P_INT_LIST && items[i] != floor(items[i]))
				fz_fail("--%s %s: item %d is %.17g, not whole", t->name, text, i + 1,
					items[i]);
		}
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = {data, size};
	struct ml_params p, before;
	const struct ml_param *table = table_of(fz_byte(&in), &p), *t;
	char name[257], text[1025];
	struct ml_err e;
	int ntab = 0, rc, k;

	while (table[ntab].name)
		ntab++;
	while (in.n) {
		fz_str(&in, name, 256);
		fz_str(&in, text, 1024);
		if (name[0] == '#' && ntab)
			snprintf(name, sizeof(name), "%s", table[(unsigned char)name[1] % ntab].name);
		before = p;
		ml_err_init(&e);
		rc = ml_params_set(&p, name, text, &e);
		if (rc < 0) {
			if (rc != ML_E_USAGE || e.code != rc || !e.msg[0])
				fz_fail("ml_params_set(%s, '%s') failed with %d, code %d, '%s'", name,
					text, rc, e.code, e.msg);
			if (memcmp(p.v, before.v, sizeof(p.v)) != 0 ||
			    memcmp(p.set, before.set, sizeof(p.set)) != 0 ||
			    memcmp(p.off, before.off, sizeof(p.off)) != 0)
				fz_fail("ml_params_set(%s, '%s') refused the value but changed the set",
					name, text);
			continue;
		}
		if (rc != 0)
			fz_fail("ml_params_set(%s, '%s') returned %d", name, text, rc);
		for (k = 0, t = NULL; k < ntab && !t; k++)
			if (!strcmp(table[k].name, name))
				t = &table[k];
		if (!t)
			fz_fail("ml_params_set took '%s', which its table lacks", name);
		check_taken(&p, t, text);
	}
	return 0;
}
