/* Fuzzing the column lists (COLS) and the lookup that suggests a near name: ml_cols_parse
 * gives valid distinct indices, sorted when asked, the same set either way; every column
 * is found by its own name escaped, and left out by its negation; ml_schema_find_or_suggest
 * agrees with ml_cols_parse and ml_schema_find and words what it cannot find as promised.
 *
 * Input: the column names, one a line, up to a NUL; the list, up to the next NUL; the rest
 * is the name looked up with a suggestion. */
#include "fuzz.h"

#define MAX_COLS 40

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/* Parse spec both ways and check what comes back; returns the count or the error, with
 * the sorted indices in *out (freed by the caller) on success. */
static int parse(const char *spec, const struct ml_schema *s, int **out)
{
	int *a = NULL, *b = NULL, ra, rb, i, k;
	struct ml_err e;

	ml_err_init(&e);
	ra = ml_cols_parse(spec, s, 1, &a, &e);
	if (ra < 0) {
		if (ra != ML_E_USAGE || e.code != ra || !e.msg[0] || a)
			fz_fail("ml_cols_parse('%s') failed with %d, code %d, '%s'", spec, ra, e.code,
				e.msg);
	}
	rb = ml_cols_parse(spec, s, 0, &b, NULL);
	if ((ra < 0) != (rb < 0) || (ra >= 0 && ra != rb))
		fz_fail("ml_cols_parse('%s'): %d sorted, %d in order", spec, ra, rb);
	for (i = 0; i < ra; i++) {
		if (a[i] < 0 || a[i] >= s->ncol)
			fz_fail("ml_cols_parse('%s') gave index %d of %d columns", spec, a[i], s->ncol);
		if (i && a[i] <= a[i - 1])
			fz_fail("ml_cols_parse('%s', sorted) gave %d after %d", spec, a[i], a[i - 1]);
		for (k = 0; k < rb && b[k] != a[i]; k++)
			;
		if (k == rb)
			fz_fail("ml_cols_parse('%s'): %d only when sorted", spec, a[i]);
	}
	free(b);
	*out = a;
	return ra;
}

/* name with '\' before ',', '-', '!' and '\'. */
static void escape(const char *name, char *out)
{
	for (; *name; name++) {
		if (*name == ',' || *name == '-' || *name == '!' || *name == '\\')
			*out++ = '\\';
		*out++ = *name;
	}
	*out = 0;
}

static void own_names(const struct ml_schema *s)
{
	char spec[2 * 256 + 2];
	int j, n, *idx;

	for (j = 0; j < s->ncol; j++) {
		spec[0] = '!';
		escape(s->cols[j].name, spec + 1);
		n = parse(spec + 1, s, &idx);
		if (n != 1 || idx[0] != j)
			fz_fail("column %d '%s' is not found by '%s' (%d)", j + 1, s->cols[j].name,
				spec + 1, n);
		free(idx);
		n = parse(spec, s, &idx);
		if (n != s->ncol - 1)
			fz_fail("'%s' leaves %d of %d columns", spec, n, s->ncol);
		for (n = 0; n < s->ncol - 1; n++)
			if (idx[n] != n + (n >= j))
				fz_fail("'%s' keeps column %d", spec, idx[n] + 1);
		free(idx);
	}
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Levenshtein distance without ASCII case, in full. */
static size_t distance(const char *a, const char *b)
{
	static size_t d[257][257];
	size_t la = strlen(a), lb = strlen(b), i, j;

	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++)
		for (j = 1; j <= lb; j++) {
			size_t v = d[i - 1][j - 1] +
				   (lower((unsigned char)a[i - 1]) != lower((unsigned char)b[j - 1]));
			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			d[i][j] = v;
		}
	return d[la][lb];
}

/* The message frame.h promises for a name s lacks. */
static void expected(const struct ml_schema *s, const char *name, char *msg, size_t size)
{
	size_t len = strlen(name), limit = len / 3 ? len / 3 : 1, best = SIZE_MAX, d;
	char q[256], qn[256];
	int j, k = -1, exact;

	for (j = 0; j < s->ncol && k < 0; j++) {
		const char *a = s->cols[j].name, *b = name;
		while (*a && lower((unsigned char)*a) == lower((unsigned char)*b))
			a++, b++;
		if (!*a && !*b)
			k = j;
	}
	exact = k;
	for (j = 0; j < s->ncol && exact < 0; j++)
		if ((d = distance(name, s->cols[j].name)) < best && d <= limit && d < len) {
			best = d;
			k = j;
		}
	ml_err_quote(q, sizeof(q), name, len);
	if (k < 0) {
		snprintf(msg, size, "no column '%s' (--opt)", q);
		return;
	}
	ml_err_quote(qn, sizeof(qn), s->cols[k].name, strlen(s->cols[k].name));
	snprintf(msg, size, "no column '%s' (--opt); did you mean '%s'?", q, qn);
}

static void suggest(const struct ml_schema *s, const char *name, const char *spec)
{
	struct ml_err e;
	char msg[sizeof(e.msg)];
	int rc, j = ml_schema_find(s, name), n, *idx = NULL, *ref;

	ml_err_init(&e);
	rc = ml_schema_find_or_suggest(s, name, "--opt", "in.csv", NULL, &e);
	if (j >= 0 ? rc != j : rc != ML_E_DATA || e.code != ML_E_DATA)
		fz_fail("ml_schema_find_or_suggest('%s') gave %d, ml_schema_find %d", name, rc, j);
	if (rc < 0) {
		expected(s, name, msg, sizeof(msg));
		if (strcmp(e.msg, msg) != 0 || strcmp(e.where, "in.csv") != 0)
			fz_fail("ml_schema_find_or_suggest('%s'): message '%s' from '%s', not '%s'",
				name, e.msg, e.where, msg);
	}
	/* a list: what ml_cols_parse gives in order, or an error of its own kind */
	ml_err_init(&e);
	rc = ml_schema_find_or_suggest(s, spec, NULL, NULL, &idx, &e);
	n = ml_cols_parse(spec, s, 0, &ref, NULL);
	if (n >= 0) {
		if (rc != n || (n && memcmp(idx, ref, (size_t)n * sizeof(int)) != 0))
			fz_fail("ml_schema_find_or_suggest('%s') gave %d, ml_cols_parse %d", spec, rc,
				n);
		free(ref);
	} else if ((rc != ML_E_USAGE && rc != ML_E_DATA) || e.code != rc || idx) {
		fz_fail("ml_schema_find_or_suggest('%s') failed with %d, code %d", spec, rc, e.code);
	} else if (rc == ML_E_DATA && (strncmp(e.msg, "no column '", 11) != 0 || e.where[0])) {
		fz_fail("ml_schema_find_or_suggest('%s'): message '%s'", spec, e.msg);
	}
	free(idx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = {data, size};
	struct ml_schema s;
	char names[1025], spec[257], name[257], *p, *nl;
	int *idx;

	fz_str(&in, names, 1024);
	fz_str(&in, spec, 256);
	fz_str(&in, name, 256);
	ml_schema_init(&s);
	for (p = names; s.ncol < MAX_COLS; p = nl + 1) {
		nl = strchr(p, '\n');
		if (nl)
			*nl = 0;
		/* column names are unique, non-empty and at most 255 bytes */
		if (*p && strlen(p) < 256 && ml_schema_find(&s, p) < 0 &&
		    ml_schema_add(&s, p, ML_NUM) < 0)
			fz_fail("out of memory");
		if (!nl)
			break;
	}
	if (parse(spec, &s, &idx) >= 0)
		free(idx);
	own_names(&s);
	suggest(&s, name, spec);
	ml_schema_release(&s);
	return 0;
}
