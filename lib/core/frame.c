/* Dictionaries, schemas, blocks, frames and column lists. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ml/frame.h"
#include "ml/num.h"

static uint32_t hash_bytes(const char *s, size_t len)
{
	/* FNV-1a, folded: dictionaries hold short strings. */
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return (uint32_t)(h ^ (h >> 32));
}

void ml_dict_init(struct ml_dict *d)
{
	memset(d, 0, sizeof(*d));
}

void ml_dict_release(struct ml_dict *d)
{
	int32_t i;

	if (!d)
		return;
	for (i = 0; i < d->n; i++)
		free(d->str[i]);
	free(d->str);
	free(d->len);
	free(d->slots);
	memset(d, 0, sizeof(*d));
}

int32_t ml_dict_find(const struct ml_dict *d, const char *s, size_t len)
{
	uint32_t mask, h;

	if (!d->nslots)
		return -1;
	mask = d->nslots - 1;
	for (h = hash_bytes(s, len) & mask;; h = (h + 1) & mask) {
		int32_t c = d->slots[h];
		if (c < 0)
			return -1;
		if (d->len[c] == len && memcmp(d->str[c], s, len) == 0)
			return c;
	}
}

static int dict_rehash(struct ml_dict *d, uint32_t nslots)
{
	int32_t *slots = malloc((size_t)nslots * sizeof(*slots));
	uint32_t mask = nslots - 1;
	int32_t i;

	if (!slots)
		return ML_E_NOMEM;
	memset(slots, 0xff, (size_t)nslots * sizeof(*slots));
	for (i = 0; i < d->n; i++) {
		uint32_t h = hash_bytes(d->str[i], d->len[i]) & mask;
		while (slots[h] >= 0)
			h = (h + 1) & mask;
		slots[h] = i;
	}
	free(d->slots);
	d->slots = slots;
	d->nslots = nslots;
	return 0;
}

int32_t ml_dict_intern(struct ml_dict *d, const char *s, size_t len)
{
	int32_t c = ml_dict_find(d, s, len);
	char *copy;

	if (c >= 0)
		return c;
	if (d->n == INT32_MAX - 1 || len > UINT32_MAX)
		return ML_E_DATA;
	if (d->n == d->cap) {
		int32_t cap = d->cap ? (d->cap > INT32_MAX / 2 ? INT32_MAX - 1 : d->cap * 2) : 8;
		char **str = realloc(d->str, (size_t)cap * sizeof(*str));
		uint32_t *l;
		if (!str)
			return ML_E_NOMEM;
		d->str = str;
		l = realloc(d->len, (size_t)cap * sizeof(*l));
		if (!l)
			return ML_E_NOMEM;
		d->len = l;
		d->cap = cap;
	}
	if ((uint64_t)(d->n + 1) * 2 > d->nslots) {
		uint32_t ns = d->nslots ? d->nslots * 2 : 16;
		if (dict_rehash(d, ns) < 0)
			return ML_E_NOMEM;
	}
	copy = malloc(len + 1);
	if (!copy)
		return ML_E_NOMEM;
	memcpy(copy, s, len);
	copy[len] = 0;
	c = d->n++;
	d->str[c] = copy;
	d->len[c] = (uint32_t)len;
	{
		uint32_t mask = d->nslots - 1, h = hash_bytes(s, len) & mask;
		while (d->slots[h] >= 0)
			h = (h + 1) & mask;
		d->slots[h] = c;
	}
	return c;
}

int ml_dict_copy(struct ml_dict *dst, const struct ml_dict *src)
{
	int32_t i;

	ml_dict_init(dst);
	for (i = 0; i < src->n; i++) {
		int32_t c = ml_dict_intern(dst, src->str[i], src->len[i]);
		if (c < 0) {
			ml_dict_release(dst);
			return c;
		}
	}
	return 0;
}

void ml_schema_init(struct ml_schema *s)
{
	s->ncol = 0;
	s->cols = NULL;
}

void ml_schema_release(struct ml_schema *s)
{
	int j;

	if (!s)
		return;
	for (j = 0; j < s->ncol; j++) {
		free(s->cols[j].name);
		ml_dict_release(&s->cols[j].dict);
	}
	free(s->cols);
	ml_schema_init(s);
}

int ml_schema_add(struct ml_schema *s, const char *name, enum ml_type type)
{
	struct ml_col *cols;
	size_t len = strlen(name);
	char *copy;

	if (s->ncol >= (1 << 24))
		return ML_E_DATA;
	/* The room doubles as ncol reaches each power of two (schemas grow only here, from
	 * ml_schema_init), so n columns cost O(n) copying whatever realloc does: growing by
	 * one column, a realloc that never grows in place made wide schemas quadratic. */
	if ((s->ncol & (s->ncol - 1)) == 0) {
		cols = realloc(s->cols, (size_t)(s->ncol ? 2 * s->ncol : 1) * sizeof(*cols));
		if (!cols)
			return ML_E_NOMEM;
		s->cols = cols;
	}
	cols = s->cols;
	copy = malloc(len + 1);
	if (!copy)
		return ML_E_NOMEM;
	memcpy(copy, name, len + 1);
	cols[s->ncol].name = copy;
	cols[s->ncol].type = type;
	ml_dict_init(&cols[s->ncol].dict);
	return s->ncol++;
}

int ml_schema_find(const struct ml_schema *s, const char *name)
{
	int j;

	for (j = 0; j < s->ncol; j++)
		if (strcmp(s->cols[j].name, name) == 0)
			return j;
	return -1;
}

int ml_schema_copy(struct ml_schema *dst, const struct ml_schema *src)
{
	int j, rc;

	ml_schema_init(dst);
	for (j = 0; j < src->ncol; j++) {
		rc = ml_schema_add(dst, src->cols[j].name, src->cols[j].type);
		if (rc < 0)
			goto fail;
		ml_dict_release(&dst->cols[j].dict);
		rc = ml_dict_copy(&dst->cols[j].dict, &src->cols[j].dict);
		if (rc < 0)
			goto fail;
	}
	return 0;
fail:
	ml_schema_release(dst);
	return rc;
}

static int alloc_col(struct ml_block *b, int j, size_t cap)
{
	size_t sz = b->schema->cols[j].type == ML_NUM ? sizeof(double) : sizeof(int32_t);
	void *p = realloc(b->col[j].num, (cap ? cap : 1) * sz);

	if (!p)
		return ML_E_NOMEM;
	b->col[j].num = p;
	return 0;
}

int ml_block_init(struct ml_block *b, const struct ml_schema *s, size_t cap, struct ml_err *e)
{
	int j;

	memset(b, 0, sizeof(*b));
	b->schema = s;
	b->col = calloc(s->ncol ? (size_t)s->ncol : 1, sizeof(*b->col));
	if (!b->col)
		return ml_err_nomem(e);
	b->ncol = s->ncol;
	for (j = 0; j < s->ncol; j++)
		if (alloc_col(b, j, cap) < 0) {
			ml_block_release(b);
			return ml_err_nomem(e);
		}
	b->cap = cap;
	return 0;
}

void ml_block_release(struct ml_block *b)
{
	int j;

	if (!b)
		return;
	if (b->col)
		for (j = 0; j < b->ncol; j++)
			free(b->col[j].num);
	free(b->col);
	free(b->line);
	memset(b, 0, sizeof(*b));
}

int ml_block_reserve(struct ml_block *b, size_t cap, struct ml_err *e)
{
	int j;

	if (cap <= b->cap)
		return 0;
	if (b->cap && cap < b->cap + b->cap / 2)
		cap = b->cap + b->cap / 2;
	if (cap > SIZE_MAX / 16)
		return ml_err_nomem(e);
	for (j = 0; j < b->ncol; j++)
		if (alloc_col(b, j, cap) < 0)
			return ml_err_nomem(e);
	if (b->line) {
		long *l = realloc(b->line, cap * sizeof(*l));
		if (!l)
			return ml_err_nomem(e);
		b->line = l;
	}
	b->cap = cap;
	return 0;
}

int ml_block_sync(struct ml_block *b, struct ml_err *e)
{
	int j, n = b->schema->ncol;
	union ml_colv *col;

	if (n <= b->ncol)
		return 0;
	col = realloc(b->col, (size_t)n * sizeof(*col));
	if (!col)
		return ml_err_nomem(e);
	b->col = col;
	for (j = b->ncol; j < n; j++)
		col[j].num = NULL;
	for (j = b->ncol; j < n; j++) {
		b->ncol = j + 1;
		if (alloc_col(b, j, b->cap) < 0)
			return ml_err_nomem(e);
	}
	return 0;
}

void ml_frame_init(struct ml_frame *f)
{
	ml_schema_init(&f->schema);
	memset(&f->rows, 0, sizeof(f->rows));
	f->rows.schema = &f->schema;
}

void ml_frame_release(struct ml_frame *f)
{
	if (!f)
		return;
	ml_block_release(&f->rows);
	ml_schema_release(&f->schema);
	ml_frame_init(f);
}

/* Column lists. */

struct colset {
	int *idx;
	int n, cap;
};

static int colset_add(struct colset *c, int j)
{
	int i;

	for (i = 0; i < c->n; i++)
		if (c->idx[i] == j)
			return 0;
	if (c->n == c->cap) {
		int cap = c->cap ? c->cap * 2 : 16;
		int *p = realloc(c->idx, (size_t)cap * sizeof(*p));
		if (!p)
			return ML_E_NOMEM;
		c->idx = p;
		c->cap = cap;
	}
	c->idx[c->n++] = j;
	return 0;
}

static void colset_del(struct colset *c, int j)
{
	int i, o = 0;

	for (i = 0; i < c->n; i++)
		if (c->idx[i] != j)
			c->idx[o++] = c->idx[i];
	c->n = o;
}

/* Resolve one name or index to a column; -1 when none. */
static int resolve(const struct ml_schema *s, const char *tok)
{
	long k;
	int j = ml_schema_find(s, tok);

	if (j >= 0)
		return j;
	if (ml_parse_long(tok, 1, s->ncol, &k) == 0)
		return (int)k - 1;
	return -1;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

/* Split an item at an unescaped '-' into A and B (unescaped in place); returns 1 when
 * the item is a range. */
static int unescape_item(char *item, char **dash)
{
	char *r = item, *w = item;

	*dash = NULL;
	while (*r) {
		if (*r == '\\' && r[1]) {
			*w++ = r[1];
			r += 2;
			continue;
		}
		if (*r == '-' && !*dash && w != item && r[1]) {
			*w++ = 0;
			*dash = w;
			r++;
			continue;
		}
		*w++ = *r++;
	}
	*w = 0;
	return *dash != NULL;
}

/* Resolve one item (escapes still in it) to the columns a..b: a whole name first, then
 * an 'A-B' range of names or indices, then a single index. */
static int item_range(const struct ml_schema *s, char *item, int *a, int *b, struct ml_err *e)
{
	char *copy = strdup(item), *dash;
	int whole;

	if (!copy)
		return ml_err_nomem(e);
	if (unescape_item(copy, &dash))
		dash[-1] = '-';
	whole = ml_schema_find(s, copy);
	free(copy);
	if (whole >= 0) {
		*a = *b = whole;
		return 0;
	}
	if (unescape_item(item, &dash)) {
		*a = resolve(s, item);
		*b = resolve(s, dash);
		if (*a < 0 || *b < 0)
			return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "no column '%s'",
					  *a < 0 ? item : dash);
		return 0;
	}
	*a = *b = resolve(s, item);
	if (*a < 0)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "no column '%s'", item);
	return 0;
}

int ml_cols_parse(const char *spec, const struct ml_schema *s, int sorted, int **idx,
		  struct ml_err *e)
{
	struct colset set = {0};
	size_t len = strlen(spec), i = 0;
	char *buf = malloc(len + 1);
	int rc = 0, first = 1;

	*idx = NULL;
	if (!buf)
		return ml_err_nomem(e);
	while (i <= len) {
		size_t k = 0;
		int neg = 0, j, a = 0, b2 = 0;
		char *item = buf;

		/* Copy one item, keeping escapes for unescape_item. */
		while (i < len && spec[i] != ',') {
			if (spec[i] == '\\' && i + 1 < len)
				buf[k++] = spec[i++];
			buf[k++] = spec[i++];
		}
		buf[k] = 0;
		i++;
		if (item[0] == '!') {
			neg = 1;
			item++;
		}
		if (!item[0]) {
			if (len == 0)
				break;
			rc = ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "empty item in column list '%s'",
					spec);
			goto out;
		}
		if (first && neg)
			for (j = 0; j < s->ncol; j++)
				if ((rc = colset_add(&set, j)) < 0)
					goto out;
		first = 0;
		if ((rc = item_range(s, item, &a, &b2, e)) < 0)
			goto out;
		if (a > b2) {
			int t = a;
			a = b2;
			b2 = t;
		}
		for (j = a; j <= b2; j++) {
			if (neg)
				colset_del(&set, j);
			else if ((rc = colset_add(&set, j)) < 0)
				goto out;
		}
	}
	if (sorted && set.n > 1)
		qsort(set.idx, (size_t)set.n, sizeof(int), cmp_int);
	*idx = set.idx;
	set.idx = NULL;
	rc = set.n;
out:
	free(set.idx);
	free(buf);
	if (rc == ML_E_NOMEM && e && e->code != ML_E_NOMEM)
		ml_err_nomem(e);
	return rc;
}

/* Looking up what an option names, with a suggestion. */

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Edits between a and b, bytes compared without ASCII case; at most limit + 1 (the
 * computation stops once every path costs more). */
static size_t edits(const char *a, const char *b, size_t limit)
{
	size_t la = strlen(a), lb = strlen(b), i, j, best;
	size_t *row;

	if ((la > lb ? la - lb : lb - la) > limit)
		return limit + 1;
	row = malloc((lb + 1) * sizeof(*row));
	if (!row)
		return limit + 1; /* no suggestion rather than no message */
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		best = row[0];
		for (j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t v = diag + (lower((unsigned char)a[i - 1]) !=
					   lower((unsigned char)b[j - 1]));
			if (up + 1 < v)
				v = up + 1;
			if (row[j - 1] + 1 < v)
				v = row[j - 1] + 1;
			diag = up;
			row[j] = v;
			if (v < best)
				best = v;
		}
		if (best > limit) {
			free(row);
			return limit + 1;
		}
	}
	best = row[lb];
	free(row);
	return best;
}

/* The column to suggest for name, or -1. */
static int nearest(const struct ml_schema *s, const char *name)
{
	size_t len = strlen(name), limit = len / 3 ? len / 3 : 1, d, dmin;
	int j, k = -1;

	if (limit >= len)
		limit = len ? len - 1 : 0;
	for (j = 0; j < s->ncol; j++) {
		const char *a = s->cols[j].name, *b = name;
		while (*a && lower((unsigned char)*a) == lower((unsigned char)*b)) {
			a++;
			b++;
		}
		if (!*a && !*b)
			return j;
	}
	if (limit == 0)
		return -1;
	dmin = limit + 1;
	for (j = 0; j < s->ncol; j++) {
		d = edits(name, s->cols[j].name, dmin - 1);
		if (d < dmin) {
			dmin = d;
			k = j;
		}
	}
	return k;
}

static int col_missing(const struct ml_schema *s, const char *name, const char *opt,
		       const char *input, struct ml_err *e)
{
	char q[256], qn[256];
	int k = nearest(s, name);

	ml_err_quote(q, sizeof(q), name, strlen(name));
	if (k >= 0)
		ml_err_quote(qn, sizeof(qn), s->cols[k].name, strlen(s->cols[k].name));
	return ml_err_set(e, ML_E_DATA, input, 0, 0, "no column '%s'%s%s%s%s%s%s", q,
			  opt ? " (" : "", opt ? opt : "", opt ? ")" : "",
			  k >= 0 ? "; did you mean '" : "", k >= 0 ? qn : "", k >= 0 ? "'?" : "");
}

/* The first item of a column list that names no column of s, unescaped into *out (which
 * the caller frees); 0 when every item resolves, or ML_E_NOMEM. */
static int unknown_item(const char *spec, const struct ml_schema *s, char **out)
{
	size_t len = strlen(spec), i = 0;
	char *buf = malloc(len + 1), *whole = malloc(len + 1);
	int rc = 0;

	*out = NULL;
	if (!buf || !whole) {
		free(buf);
		free(whole);
		return ML_E_NOMEM;
	}
	while (i <= len) {
		size_t k = 0;
		char *item = buf, *dash, *bad;

		/* One item with its escapes, as ml_cols_parse copies it. */
		while (i < len && spec[i] != ',') {
			if (spec[i] == '\\' && i + 1 < len)
				buf[k++] = spec[i++];
			buf[k++] = spec[i++];
		}
		buf[k] = 0;
		i++;
		if (item[0] == '!')
			item++;
		if (!item[0])
			continue;
		memcpy(whole, item, strlen(item) + 1);
		if (unescape_item(whole, &dash))
			dash[-1] = '-';
		if (ml_schema_find(s, whole) >= 0)
			continue;
		if (unescape_item(item, &dash))
			bad = resolve(s, item) < 0 ? item : resolve(s, dash) < 0 ? dash : NULL;
		else
			bad = resolve(s, item) < 0 ? item : NULL;
		if (bad) {
			if (!(*out = strdup(bad)))
				rc = ML_E_NOMEM;
			break;
		}
	}
	free(buf);
	free(whole);
	return rc;
}

int ml_schema_find_or_suggest(const struct ml_schema *s, const char *name, const char *opt,
			      const char *input, int **idx, struct ml_err *e)
{
	char *bad;
	int rc, j;

	if (!idx) {
		if ((j = ml_schema_find(s, name)) >= 0)
			return j;
		return col_missing(s, name, opt, input, e);
	}
	rc = ml_cols_parse(name, s, 0, idx, e);
	if (rc != ML_E_USAGE)
		return rc;
	j = unknown_item(name, s, &bad);
	if (j < 0)
		return ml_err_nomem(e);
	if (!bad)
		return rc; /* not a missing column: ml_cols_parse's message stands */
	rc = col_missing(s, bad, opt, input, e);
	free(bad);
	return rc;
}
