/* Table reader and writer: CSV/TSV through libcsv with type inference, and ml-stream. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <csv.h>

#include "ml/num.h"
#include "ml/table.h"
#include "stream.h"
#include "table_int.h"

#define TEXT_CHUNK (64 * 1024)

enum phase { PH_HEADER, PH_INFER, PH_TYPED, PH_DONE };

/* A column's rows while types are being decided: parsed values and the text. */
/* The rows read ahead are held as their text, row by row in one arena, each field as
 * its length + 1 in a base-128 varint (0: missing) and its bytes: about the size of the
 * text itself, filled in the order it is read; their numbers are parsed again once the
 * types are known. */
struct rawcol {
	struct ml_typecount tc; /* numbers and other values of the rows read ahead */
	int force;     /* 0 infer, 1 numeric, 2 categorical */
	int forced_by; /* why numeric: 'n' --num, 't' the fitted types, 0 inferred */
};

struct ml_reader {
	struct ml_input *in;
	const char *name;
	enum ml_format fmt;
	struct ml_schema schema;
	struct ml_block blk;
	struct ml_stream_in *sin;

	/* text */
	struct csv_parser csv;
	int csv_ok;
	int header;
	char *na_buf; /* the NA tokens, NUL-separated */
	const char **na;
	size_t *na_len;
	int nna;
	size_t na_max;
	char *num_cols, *cat_cols;
	const struct ml_schema *types; /* during ml_reader_open only */
	size_t infer_rows, block_rows;
	enum phase phase;
	int fld;       /* fields seen in the current record */
	long nl;       /* newlines consumed */
	long rec_line; /* line the current record starts on */
	int at_start;  /* no byte seen yet (for the BOM) */
	int eof;
	/* header names while reading the first record */
	char **names;
	int nnames, cap_names;
	/* rows held while inferring: the first infer_rows and the rest of the text read with
	 * them, given out block by block once typed (hold_i the next, at its field's offset,
	 * hold_part the fields of a record begun after them) */
	struct rawcol *raw;
	size_t nraw, rawcap;
	long *rawline;
	char *arena;
	size_t alen, acap;
	size_t hold_i, hold_at;
	int hold_part;

	ml_log_fn log; /* warnings, or NULL */
	void *log_ud;
	int unnamed;   /* header columns without a name */
	int scan_nl; /* the current chunk may hold line breaks inside fields */
	int held; /* blk holds the rows read while inferring, not yet returned */
	int rc;   /* first error seen inside a callback */
	struct ml_err err;
	unsigned long long rows;
};

void ml_read_opts_init(struct ml_read_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->header = 1;
}

void ml_write_opts_init(struct ml_write_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->format = ML_FMT_CSV;
	o->header = 1;
}

int ml_format_parse(const char *s)
{
	if (strcmp(s, "csv") == 0)
		return ML_FMT_CSV;
	if (strcmp(s, "tsv") == 0)
		return ML_FMT_TSV;
	if (strcmp(s, "stream") == 0)
		return ML_FMT_STREAM;
	return -1;
}

static inline int is_na(const struct ml_reader *r, const char *s, size_t len)
{
	int i;

	if (len == 0)
		return 1;
	if (len > r->na_max)
		return 0;
	/* the first byte first: a number never starts as a default token does */
	for (i = 0; i < r->nna; i++)
		if (r->na_len[i] == len && r->na[i][0] == s[0] &&
		    memcmp(r->na[i], s, len) == 0)
			return 1;
	return 0;
}

static int set_na(struct ml_reader *r, const char *spec, struct ml_err *e)
{
	size_t n = strlen(spec), i;
	int k = 1;
	char *p;

	for (i = 0; i < n; i++)
		k += spec[i] == ',';
	r->na_buf = malloc(n + 1);
	r->na = malloc((size_t)k * sizeof(*r->na));
	r->na_len = malloc((size_t)k * sizeof(*r->na_len));
	if (!r->na_buf || !r->na || !r->na_len)
		return ml_err_nomem(e);
	memcpy(r->na_buf, spec, n + 1);
	r->nna = 0;
	for (p = r->na_buf;;) {
		char *c = strchr(p, ',');
		if (c)
			*c = 0;
		r->na[r->nna] = p;
		r->na_len[r->nna] = strlen(p);
		if (r->na_len[r->nna] > r->na_max)
			r->na_max = r->na_len[r->nna];
		r->nna++;
		if (!c)
			break;
		p = c + 1;
	}
	return 0;
}

static void cb_fail(struct ml_reader *r, int code, long col, const char *fmt, ...)
	ML_PRINTF(4, 5);

/* Record the first error met inside a libcsv callback. */
static void cb_fail(struct ml_reader *r, int code, long col, const char *fmt, ...)
{
	va_list ap;

	if (r->rc)
		return;
	if (code == ML_E_NOMEM) { /* whatever the message would have said */
		r->rc = ml_err_nomem(&r->err);
		return;
	}
	r->rc = code;
	r->err.code = code;
	snprintf(r->err.where, sizeof(r->err.where), "%s", r->name);
	r->err.line = r->rec_line;
	r->err.col = col;
	va_start(ap, fmt);
	vsnprintf(r->err.msg, sizeof(r->err.msg), fmt, ap);
	va_end(ap);
}

static int raw_reserve(struct ml_reader *r)
{
	size_t cap;
	long *ln;

	if (r->nraw < r->rawcap)
		return 0;
	cap = r->rawcap ? r->rawcap * 2 : 1024;
	ln = realloc(r->rawline, cap * sizeof(*ln));
	if (!ln)
		return ML_E_NOMEM;
	r->rawline = ln;
	r->rawcap = cap;
	return 0;
}

#define HOLD_TILE 64 /* held rows moved into the block together */

/* A held field: s (len bytes), or missing when s is NULL. */
static int arena_put(struct ml_reader *r, const char *s, size_t len)
{
	size_t need = len + 10; /* the bytes and the longest varint */
	uint64_t v = s ? (uint64_t)len + 1 : 0;
	unsigned char *q;

	if (r->acap - r->alen < need) {
		size_t cap = r->acap ? r->acap : 1 << 16;
		char *p;
		while (cap - r->alen < need)
			cap *= 2;
		p = realloc(r->arena, cap);
		if (!p)
			return ML_E_NOMEM;
		r->arena = p;
		r->acap = cap;
	}
	q = (unsigned char *)r->arena + r->alen;
	while (v >= 0x80) {
		*q++ = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	*q++ = (unsigned char)v;
	if (s)
		memcpy(q, s, len);
	r->alen = (size_t)((char *)q - r->arena) + (s ? len : 0);
	return 0;
}

/* The held field at *at, whose end it moves *at to: its text in *s and *len, or *s NULL
 * when it is missing. */
static void arena_get(const struct ml_reader *r, size_t *at, const char **s, size_t *len)
{
	const unsigned char *q = (const unsigned char *)r->arena + *at;
	uint64_t v = 0;
	int sh = 0;

	do {
		v |= (uint64_t)(*q & 0x7f) << sh;
		sh += 7;
	} while (*q++ & 0x80);
	*s = v ? (const char *)q : NULL;
	*len = v ? (size_t)(v - 1) : 0;
	*at = (size_t)((const char *)q - r->arena) + *len;
}

/* Held row i's field j (from the start: only for messages). */
static void arena_field(const struct ml_reader *r, size_t i, int j, const char **s,
			size_t *len)
{
	size_t at = 0, k, n = i * (size_t)r->schema.ncol + (size_t)j;

	for (k = 0; k <= n; k++)
		arena_get(r, &at, s, len);
}

static void field_header(struct ml_reader *r, const char *s, size_t len)
{
	char *name;

	if (r->nnames == r->cap_names) {
		int cap = r->cap_names ? r->cap_names * 2 : 64;
		char **p = realloc(r->names, (size_t)cap * sizeof(*p));
		if (!p) {
			r->rc = ml_err_nomem(&r->err);
			return;
		}
		r->names = p;
		r->cap_names = cap;
	}
	if (memchr(s, 0, len)) {
		/* A name cut at its NUL would be another name. */
		cb_fail(r, ML_E_DATA, r->nnames + 1, "NUL byte in the name of column %d",
			r->nnames + 1);
		return;
	}
	name = malloc(len + 1);
	if (!name) {
		r->rc = ml_err_nomem(&r->err);
		return;
	}
	memcpy(name, s, len);
	name[len] = 0;
	r->names[r->nnames++] = name;
}

/* The message for a value s that is no number in column col: with the way out (--na, --cat)
 * for a column typed from its values, after a run of numbers (tc NULL: the rows read ahead
 * were numbers) or among numbers (tc: its counts); as it is for one --num or a fitted
 * artefact typed. */
static void not_number(char *buf, size_t n, const char *s, size_t len, const char *col,
		       int forced_by, const struct ml_typecount *tc, size_t ahead)
{
	char q[80], qc[80], why[96];
	double v;
	int big = ml_parse_double(s, len, &v) == 0; /* a number, but not a finite one */

	ml_err_quote(q, sizeof(q), s, len);
	ml_err_quote(qc, sizeof(qc), col, strlen(col));
	if (forced_by) {
		snprintf(buf, n, "cannot parse '%s' as a %snumber in column '%s'%s", q,
			 big ? "finite " : "", qc, forced_by == 'n' ? " (--num)" : "");
		return;
	}
	if (tc && tc->ntxt > 1)
		snprintf(why, sizeof(why), "%zu of its %zu values are numbers", tc->nnum,
			 tc->nnum + tc->ntxt);
	else if (tc)
		snprintf(why, sizeof(why), "its other %zu values are numbers", tc->nnum);
	else
		snprintf(why, sizeof(why), "numbers in its first %zu rows", ahead);
	snprintf(buf, n,
		 "cannot parse '%s' as a %snumber in column '%s' (%s): give --na '%s' if it "
		 "marks a missing value, or --cat '%s' to read the column as text",
		 q, big ? "finite " : "", qc, why, q, qc);
}

/* A value that is no number in a numeric column. */
static void bad_number(struct ml_reader *r, int j, const char *s, size_t len)
{
	char msg[sizeof(r->err.msg)];

	if (memchr(s, 0, len)) {
		cb_fail(r, ML_E_DATA, j + 1, "NUL byte in column '%s'", r->schema.cols[j].name);
		return;
	}
	not_number(msg, sizeof(msg), s, len, r->schema.cols[j].name, r->raw[j].forced_by, NULL,
		   r->infer_rows);
	cb_fail(r, ML_E_DATA, j + 1, "%s", msg);
}

static const char *delim_hint(const struct ml_reader *r, char *buf, size_t n);

static void too_many_fields(struct ml_reader *r)
{
	char hint[128];

	cb_fail(r, ML_E_DATA, r->fld + 1, "expected %d field%s, found at least %d%s",
		r->schema.ncol, r->schema.ncol == 1 ? "" : "s", r->fld + 1,
		delim_hint(r, hint, sizeof(hint)));
}

static void field_infer(struct ml_reader *r, const char *s, size_t len)
{
	int j = r->fld;
	struct rawcol *c;
	size_t i = r->nraw;

	if (j >= r->schema.ncol) {
		too_many_fields(r);
		return;
	}
	if (j == 0 && raw_reserve(r) < 0) {
		r->rc = ml_err_nomem(&r->err);
		return;
	}
	c = &r->raw[j];
	if (is_na(r, s, len)) {
		if (arena_put(r, NULL, 0) < 0)
			r->rc = ml_err_nomem(&r->err);
		return;
	}
	if (memchr(s, 0, len)) {
		cb_fail(r, ML_E_DATA, j + 1, "NUL byte in column '%s'", r->schema.cols[j].name);
		return;
	}
	if (len >= UINT32_MAX) {
		cb_fail(r, ML_E_DATA, j + 1, "field in column '%s' is too long",
			r->schema.cols[j].name);
		return;
	}
	if (arena_put(r, s, len) < 0) {
		r->rc = ml_err_nomem(&r->err);
		return;
	}
	/* a row read with the typing rows, past them: typed when given out */
	if (c->force != 2 && i < r->infer_rows) {
		double v;
		int num = ml_text_number(s, len, c->force == 1, &v);
		if (!num && c->force == 1)
			bad_number(r, j, s, len);
		ml_typecount_add(&c->tc, num, i, r->rec_line);
	}
}

static void field_typed(struct ml_reader *r, const char *s, size_t len)
{
	int j = r->fld;
	size_t i = r->blk.nrow;

	if (j >= r->schema.ncol) {
		too_many_fields(r);
		return;
	}
	if (r->schema.cols[j].type == ML_NUM) {
		double v;
		if (is_na(r, s, len)) {
			r->blk.col[j].num[i] = NAN;
		} else if (ml_parse_double(s, len, &v) == 0 && isfinite(v)) {
			r->blk.col[j].num[i] = v;
		} else {
			bad_number(r, j, s, len);
		}
	} else {
		int32_t code;
		if (is_na(r, s, len)) {
			r->blk.col[j].cat[i] = ML_MISSING_CAT;
			return;
		}
		if (memchr(s, 0, len)) {
			cb_fail(r, ML_E_DATA, j + 1, "NUL byte in column '%s'",
				r->schema.cols[j].name);
			return;
		}
		code = ml_dict_intern(&r->schema.cols[j].dict, s, len);
		if (code < 0) {
			cb_fail(r, code == ML_E_NOMEM ? ML_E_NOMEM : ML_E_DATA, j + 1,
				"too many categories in column '%s'", r->schema.cols[j].name);
			return;
		}
		r->blk.col[j].cat[i] = code;
	}
}

static void cb_field(void *data, size_t len, void *ud)
{
	struct ml_reader *r = ud;
	const char *s = data ? data : "";
	const char *p;

	if (r->rc)
		return;
	if (r->fld == 0)
		r->rec_line = r->nl + 1;
	switch (r->phase) {
	case PH_HEADER:
		field_header(r, s, len);
		break;
	case PH_INFER:
		field_infer(r, s, len);
		break;
	case PH_TYPED:
		field_typed(r, s, len);
		break;
	default:
		break;
	}
	r->fld++;
	/* Newlines inside a quoted field move the line count on. */
	if (r->scan_nl)
		for (p = s; len && (p = memchr(p, '\n', len - (size_t)(p - s))) != NULL; p++)
			r->nl++;
}

/* The same for the rows after typing: the hot path. */
static void cb_field_typed(void *data, size_t len, void *ud)
{
	struct ml_reader *r = ud;
	const char *s = data ? data : "";
	const char *p;

	if (r->rc)
		return;
	if (r->fld == 0)
		r->rec_line = r->nl + 1;
	field_typed(r, s, len);
	r->fld++;
	if (r->scan_nl)
		for (p = s; len && (p = memchr(p, '\n', len - (size_t)(p - s))) != NULL; p++)
			r->nl++;
}

static int finish_header(struct ml_reader *r);

/* A hint at -d when the header came out as one field holding another likely separator. */
static const char *delim_hint(const struct ml_reader *r, char *buf, size_t n)
{
	const char *name = r->schema.ncol == 1 ? r->schema.cols[0].name :
			   r->nnames == 1 ? r->names[0] : NULL;
	const char *c = "";

	buf[0] = 0;
	if (!name)
		return buf;
	c = strchr(name, ';') ? ";" : strchr(name, '|') ? "|" : strchr(name, ':') ? ":" : "";
	if (*c)
		snprintf(buf, n, " (the header is one field with '%s' in it: give -d '%s' if the file is separated by '%s')", c, c, c);
	return buf;
}

static void ragged(struct ml_reader *r)
{
	char hint[128];

	cb_fail(r, ML_E_DATA, 0, "expected %d field%s, found %d%s", r->schema.ncol,
		r->schema.ncol == 1 ? "" : "s", r->fld, delim_hint(r, hint, sizeof(hint)));
}

static int finish_infer(struct ml_reader *r);

static void cb_row(int c, void *ud)
{
	struct ml_reader *r = ud;

	if (c == '\n')
		r->nl++;
	if (r->rc || r->fld == 0) {
		r->fld = 0;
		return;
	}
	switch (r->phase) {
	case PH_HEADER:
		finish_header(r);
		break;
	case PH_INFER:
		if (r->fld != r->schema.ncol) {
			ragged(r);
			break;
		}
		/* Types come from exactly the first infer_rows rows, however the input arrives;
		 * the rows after them in the same piece of text are held too, and typed as they
		 * are given out. */
		r->rawline[r->nraw++] = r->rec_line;
		break;
	case PH_TYPED:
		if (r->fld != r->schema.ncol) {
			ragged(r);
			break;
		}
		if (r->blk.line)
			r->blk.line[r->blk.nrow] = r->rec_line;
		r->blk.nrow++;
		if (r->blk.nrow == r->blk.cap && ml_block_reserve(&r->blk, r->blk.cap * 2, &r->err))
			r->rc = ML_E_NOMEM;
		break;
	default:
		break;
	}
	r->fld = 0;
}

/* Check the UTF-8 of a column name. */
static int valid_utf8(const char *s)
{
	char q[8];
	size_t n = strlen(s), i;

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch >= 0x80 || ch < 0x20) {
			/* ml_err_quote replaces what is not printable UTF-8 with '?' */
			size_t k = 1;
			while (i + k < n && ((unsigned char)s[i + k] & 0xc0) == 0x80 && k < 4)
				k++;
			ml_err_quote(q, sizeof(q), s + i, k);
			if (q[0] == '?' && ch >= 0x80)
				return 0;
			i += k - 1;
		}
	}
	return 1;
}

static int finish_header(struct ml_reader *r)
{
	int j, k, n = r->nnames;

	if (!r->header) {
		/* The first record is data: name the columns c1..cN and keep its fields. */
		for (j = 0; j < n; j++) {
			char nm[24];
			snprintf(nm, sizeof(nm), "c%d", j + 1);
			if (ml_schema_add(&r->schema, nm, ML_NUM) < 0)
				return r->rc = ml_err_nomem(&r->err);
		}
	} else {
		for (j = 0; j < n; j++) {
			char q[80];
			if (!valid_utf8(r->names[j])) {
				ml_err_quote(q, sizeof(q), r->names[j], strlen(r->names[j]));
				return r->rc = ml_err_set(&r->err, ML_E_DATA, r->name, r->rec_line, j + 1,
							  "invalid UTF-8 in the name of column %d ('%s')",
							  j + 1, q);
			}
			if (!r->names[j][0]) {
				/* A column without a name is called cN, N its position; a
				 * warning says so. */
				char nm[24];
				snprintf(nm, sizeof(nm), "c%d", j + 1);
				free(r->names[j]);
				r->names[j] = strdup(nm);
				if (!r->names[j])
					return r->rc = ml_err_nomem(&r->err);
				r->unnamed++;
				if (r->log) {
					char msg[sizeof(r->err.where) + 96];
					snprintf(msg, sizeof(msg),
						 "%s:%ld: column %d has no name: it is called c%d", r->name,
						 r->rec_line, j + 1, j + 1);
					r->log(r->log_ud, ML_LOG_WARN, msg);
				}
			}
			for (k = 0; k < j; k++)
				if (strcmp(r->names[k], r->names[j]) == 0) {
					ml_err_quote(q, sizeof(q), r->names[j], strlen(r->names[j]));
					return r->rc = ml_err_set(&r->err, ML_E_DATA, r->name, r->rec_line,
								  j + 1,
								  "duplicate column name '%s' (columns %d and %d)",
								  q, k + 1, j + 1);
				}
			if (ml_schema_add(&r->schema, r->names[j], ML_NUM) < 0)
				return r->rc = ml_err_nomem(&r->err);
		}
	}
	if (r->header && n == 1 && r->log) {
		char hint[128], msg[sizeof(r->err.where) + 160];
		if (*delim_hint(r, hint, sizeof(hint))) {
			snprintf(msg, sizeof(msg), "%s:%ld: one column%s", r->name, r->rec_line, hint);
			r->log(r->log_ud, ML_LOG_WARN, msg);
		}
	}
	r->raw = calloc((size_t)(n ? n : 1), sizeof(*r->raw));
	if (!r->raw)
		return r->rc = ml_err_nomem(&r->err);
	for (j = 0; j < n; j++)
		ml_typecount_init(&r->raw[j].tc);
	/* Types given by name (a model's input schema), then --num and --cat. */
	for (j = 0; r->types && j < n; j++) {
		int t = ml_schema_find(r->types, r->schema.cols[j].name);
		if (t >= 0) {
			r->raw[j].force = r->types->cols[t].type == ML_NUM ? 1 : 2;
			r->raw[j].forced_by = 't';
		}
	}
	/* --num and --cat bind by name now that there are names. */
	for (k = 0; k < 2; k++) {
		const char *spec = k == 0 ? r->num_cols : r->cat_cols;
		int *idx, cnt, i;
		if (!spec)
			continue;
		cnt = ml_cols_parse(spec, &r->schema, 1, &idx, &r->err);
		if (cnt < 0)
			return r->rc = cnt;
		for (i = 0; i < cnt; i++) {
			r->raw[idx[i]].force = k + 1;
			r->raw[idx[i]].forced_by = k == 0 ? 'n' : 0;
		}
		free(idx);
	}
	r->phase = PH_INFER;
	if (!r->header) {
		/* Replay the first record as data. */
		for (j = 0; j < n && !r->rc; j++) {
			r->fld = j;
			field_infer(r, r->names[j], strlen(r->names[j]));
		}
		if (!r->rc)
			r->rawline[r->nraw++] = r->rec_line;
		r->fld = 0;
	}
	return r->rc;
}

/* Decide the types from the first infer_rows held rows; the held rows are then given
 * out by hold_give. */
static int finish_infer(struct ml_reader *r)
{
	int j, ncol = r->schema.ncol;

	for (j = 0; j < ncol; j++) {
		struct rawcol *c = &r->raw[j];
		int t = c->force == 1 ? ML_NUM : c->force == 2 ? ML_CAT : ml_typecount_type(&c->tc);
		if (t < 0) {
			/* Numbers but for a few values: a stray token, not a text column. */
			char msg[sizeof(r->err.msg)];
			const char *fs;
			size_t flen;
			arena_field(r, c->tc.first_row, j, &fs, &flen);
			not_number(msg, sizeof(msg), fs ? fs : "", flen, r->schema.cols[j].name, 0,
				   &c->tc, r->infer_rows);
			r->rec_line = c->tc.first_line;
			cb_fail(r, ML_E_DATA, j + 1, "%s", msg);
			return r->rc;
		}
		r->schema.cols[j].type = (enum ml_type)t;
	}
	if (ml_block_init(&r->blk, &r->schema, r->block_rows + 1, &r->err))
		return r->rc = ML_E_NOMEM;
	r->blk.line = malloc(r->blk.cap * sizeof(*r->blk.line));
	if (!r->blk.line)
		return r->rc = ml_err_nomem(&r->err);
	r->hold_i = r->hold_at = 0;
	r->hold_part = r->fld; /* a record begun: its first fields follow the held rows */
	r->phase = PH_TYPED;
	r->held = 1;
	return 0;
}

/* Up to max held rows into the block from row 0, in their order, and after the last of
 * them the first fields of a record begun into the next row (where carry_partial finds
 * them). Rows of the first infer_rows are typed as the types were inferred; the rest as
 * every later row is (field_typed, with its messages). Numbers go through a tile of rows,
 * then a column at a time into the block. Returns the rows given; on an error r->rc. */
static size_t hold_give(struct ml_reader *r, size_t max)
{
	int j, ncol = r->schema.ncol, fld = r->fld;
	long line = r->rec_line;
	size_t i0 = r->hold_i, n = r->nraw - i0 < max ? r->nraw - i0 : max, b, b0 = 0;
	size_t rows = n + (i0 + n == r->nraw && r->hold_part > 0 ? 1 : 0), at = r->hold_at;
	double *tile;

	/* the block size may have changed since the block was made */
	if (ml_block_reserve(&r->blk, rows + 1, &r->err) < 0 ||
	    !(tile = malloc(HOLD_TILE * (size_t)ncol * sizeof(double) + 1))) {
		r->rc = ml_err_nomem(&r->err);
		return 0;
	}
	for (b = 0; b < rows && !r->rc; b++) {
		size_t i = i0 + b;
		int nf = b < n ? ncol : r->hold_part, typed = i >= r->infer_rows;
		if (b < n)
			r->blk.line[b] = r->rawline[i];
		for (j = 0; j < nf && !r->rc; j++) {
			const char *fs;
			size_t flen;
			arena_get(r, &at, &fs, &flen);
			if (typed) {
				r->fld = j;
				r->rec_line = b < n ? r->rawline[i] : line;
				r->blk.nrow = b;
				field_typed(r, fs ? fs : "", fs ? flen : 0);
			} else if (r->schema.cols[j].type == ML_NUM) {
				double v = NAN;
				if (fs && !ml_text_number(fs, flen, r->raw[j].force == 1, &v))
					v = NAN;
				tile[(b - b0) * (size_t)ncol + (size_t)j] = v;
			} else {
				struct ml_dict *d = &r->schema.cols[j].dict;
				int32_t code = ML_MISSING_CAT;
				if (fs && (code = ml_dict_intern(d, fs, flen)) < 0) {
					r->rec_line = r->rawline[i];
					cb_fail(r, code == ML_E_NOMEM ? ML_E_NOMEM : ML_E_DATA,
						j + 1, "too many categories in column '%s'",
						r->schema.cols[j].name);
				}
				r->blk.col[j].cat[b] = code;
			}
		}
		if (b - b0 == HOLD_TILE - 1 || b + 1 == rows) {
			/* the tile's rows of the first infer_rows (the others: typed in place) */
			size_t k, e = r->infer_rows <= i0		  ? 0
				      : i0 + b + 1 < r->infer_rows ? b + 1
								    : r->infer_rows - i0;
			for (j = 0; j < ncol && !r->rc; j++)
				for (k = b0; k < e && r->schema.cols[j].type == ML_NUM; k++)
					r->blk.col[j].num[k] =
					    tile[(k - b0) * (size_t)ncol + (size_t)j];
			b0 = b + 1;
		}
	}
	free(tile);
	r->fld = fld;
	if (!r->rc)
		r->rec_line = line;
	r->blk.nrow = n;
	r->hold_i += n;
	r->hold_at = at;
	if (r->hold_i == r->nraw) {
		free(r->arena);
		r->arena = NULL;
		r->alen = r->acap = 0;
		r->held = 0;
	}
	return n;
}

/* Feed more text to libcsv. Returns 1 while there is more, 0 at the end, or an error. */
static int feed(struct ml_reader *r, struct ml_err *e)
{
	unsigned char buf[TEXT_CHUNK];
	const unsigned char *p = buf;
	long n = ml_input_read(r->in, buf, sizeof(buf), e);
	size_t len;

	if (n < 0)
		return (int)n;
	if (n == 0) {
		r->scan_nl = 1;
		if (csv_fini(&r->csv, cb_field, cb_row, r) != 0 && !r->rc)
			r->rc = ml_err_set(&r->err, ML_E_DATA, r->name,
					   r->fld ? r->rec_line : r->nl + 1, r->fld + 1,
					   "unterminated quoted field %d", r->fld + 1);
		r->eof = 1;
		return r->rc ? r->rc : 0;
	}
	len = (size_t)n;
	if (r->at_start) {
		r->at_start = 0;
		if (len >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf) {
			p += 3;
			len -= 3;
		}
	}
	/* Only a quoted field holds a line break: without a quote in sight, skip looking. */
	r->scan_nl = r->csv.quoted || memchr(p, '"', len) != NULL;
	if (csv_parse(&r->csv, p, len, r->phase == PH_TYPED ? cb_field_typed : cb_field, cb_row,
		      r) != len &&
	    !r->rc) {
		int st = csv_error(&r->csv);
		if (st == CSV_EPARSE)
			r->rc = ml_err_set(&r->err, ML_E_DATA, r->name, r->nl + 1, r->fld + 1,
					   "malformed quoting in field %d (a quote inside an unquoted "
					   "field, or text after a closing quote)",
					   r->fld + 1);
		else
			r->rc = ml_err_nomem(&r->err);
	}
	return r->rc ? r->rc : 1;
}

static int fail_with(struct ml_reader *r, struct ml_err *e)
{
	if (e)
		*e = r->err;
	return r->rc;
}

static int text_open(struct ml_reader *r, const struct ml_read_opts *o, struct ml_err *e)
{
	int rc;

	if (!o->delim) {
		/* TSV when the first line has a tab and no comma. Look no further than the
		 * first line's end, so a pipe that sends one line at a time is not waited on. */
		const unsigned char *p;
		long n = 0, got;
		size_t i = 0;
		int tab = 0, comma = 0;
		for (;;) {
			got = ml_input_peek(r->in, &p, (size_t)n + 1, e);
			if (got < 0)
				return (int)got;
			for (; i < (size_t)got && p[i] != '\n'; i++) {
				tab |= p[i] == '\t';
				comma |= p[i] == ',';
			}
			if (i < (size_t)got || got <= n || got >= 1 << 16)
				break;
			n = got;
		}
		r->fmt = tab && !comma ? ML_FMT_TSV : ML_FMT_CSV;
	} else {
		r->fmt = o->delim == '\t' ? ML_FMT_TSV : ML_FMT_CSV;
	}
	if (csv_init(&r->csv, CSV_STRICT | CSV_STRICT_FINI | CSV_REPALL_NL) != 0)
		return ml_err_nomem(e);
	r->csv_ok = 1;
	csv_set_delim(&r->csv, (unsigned char)(o->delim ? o->delim : r->fmt == ML_FMT_TSV ? '\t' : ','));
	csv_set_blk_size(&r->csv, 1 << 16);
	r->header = o->header;
	r->at_start = 1;
	r->phase = PH_HEADER;
	if ((rc = set_na(r, o->na ? o->na : "NA,N/A,NaN,nan,null,NULL,?", e)) < 0)
		return rc;
	if ((o->num_cols && !(r->num_cols = strdup(o->num_cols))) ||
	    (o->cat_cols && !(r->cat_cols = strdup(o->cat_cols))))
		return ml_err_nomem(e);
	r->infer_rows = o->infer_rows ? o->infer_rows : ML_INFER_ROWS;
	r->types = o->types;
	r->log = o->log;
	r->log_ud = o->log_ud;
	r->block_rows = o->block_rows ? o->block_rows : ML_BLOCK_ROWS;
	while (r->phase == PH_HEADER) {
		rc = feed(r, e);
		if (rc < 0)
			return r->rc ? fail_with(r, e) : rc;
		if (rc == 0 && r->phase == PH_HEADER)
			return ml_err_set(e, ML_E_DATA, r->name, 0, 0, "empty input: no header");
	}
	while (r->phase == PH_INFER && r->nraw < r->infer_rows) {
		rc = feed(r, e);
		if (rc < 0)
			return r->rc ? fail_with(r, e) : rc;
		if (rc == 0)
			break;
	}
	r->types = NULL;
	if (r->phase == PH_INFER && finish_infer(r) < 0)
		return fail_with(r, e);
	return r->rc ? fail_with(r, e) : 0;
}

struct ml_reader *ml_reader_open(const char *path, const struct ml_read_opts *opts,
				 struct ml_err *e)
{
	struct ml_read_opts def;
	struct ml_reader *r;
	const unsigned char *p;
	long n;

	if (!opts) {
		ml_read_opts_init(&def);
		opts = &def;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		ml_err_nomem(e);
		return NULL;
	}
	ml_schema_init(&r->schema);
	ml_err_init(&r->err);
	r->in = ml_input_open(path, e);
	if (!r->in)
		goto fail;
	r->name = ml_input_name(r->in);
	/* One byte tells text from binary; a pipe sending a short header line is not
	 * waited on for more. */
	n = ml_input_peek(r->in, &p, 1, e);
	if (n > 0 && (p[0] == 0x89 || p[0] == 0x1f))
		n = ml_input_peek(r->in, &p, ML_STREAM_SNIFF, e);
	if (n < 0)
		goto fail;
	if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b) {
		/* gzip is inflated once: what is still gzip was compressed twice */
		ml_err_set(e, ML_E_DATA, r->name, 0, 0,
			   "gzip data compressed twice (decompress it once with gunzip)");
		goto fail;
	}
	if (n >= 4 && memcmp(p, "\x89MLM", 4) == 0) {
		ml_err_set(e, ML_E_DATA, r->name, 0, 0, "is an ml-model file, not a table");
		goto fail;
	}
	if (ml_stream_sniff(p, (size_t)n)) {
		r->fmt = ML_FMT_STREAM;
		r->sin = ml_stream_in_open(r->in, &r->schema, e);
		if (!r->sin)
			goto fail;
		if (ml_block_init(&r->blk, &r->schema, 0, e) < 0)
			goto fail;
		r->phase = PH_TYPED;
		return r;
	}
	if (n == 0) {
		ml_err_set(e, ML_E_DATA, r->name, 0, 0, "empty input: no header");
		goto fail;
	}
	if (text_open(r, opts, e) < 0)
		goto fail;
	return r;
fail:
	ml_reader_close(r);
	return NULL;
}

const struct ml_schema *ml_reader_schema(const struct ml_reader *r)
{
	return &r->schema;
}

enum ml_format ml_reader_format(const struct ml_reader *r)
{
	return r->fmt;
}

const char *ml_reader_name(const struct ml_reader *r)
{
	return r->name;
}

unsigned long long ml_reader_rows(const struct ml_reader *r)
{
	return r->rows;
}

unsigned long long ml_reader_offset(const struct ml_reader *r)
{
	return ml_input_offset(r->in);
}

unsigned long long ml_reader_size(const struct ml_reader *r)
{
	return ml_input_size(r->in);
}

void ml_reader_set_block_rows(struct ml_reader *r, size_t n)
{
	r->block_rows = n ? n : 1;
}

/* Start a new block. The parser may be inside a record whose first fields went into row
 * nrow of the old block: move them to row 0. */
static void carry_partial(struct ml_reader *r)
{
	size_t at = r->blk.nrow;
	int j;

	r->blk.nrow = 0;
	if (at == 0)
		return;
	for (j = 0; j < r->fld && j < r->schema.ncol; j++) {
		if (r->schema.cols[j].type == ML_NUM)
			r->blk.col[j].num[0] = r->blk.col[j].num[at];
		else
			r->blk.col[j].cat[0] = r->blk.col[j].cat[at];
	}
}

long ml_reader_next(struct ml_reader *r, const struct ml_block **b, struct ml_err *e)
{
	*b = &r->blk;
	if (r->phase == PH_DONE)
		return 0;
	if (r->sin) {
		long n = ml_stream_in_next(r->sin, &r->schema, &r->blk, e);
		if (n <= 0) {
			r->phase = PH_DONE;
			return n;
		}
		r->rows += (unsigned long long)n;
		return n;
	}
	if (r->rc)
		return fail_with(r, e);
	/* The rows held from inference come out first, a block at a time. */
	if (r->held) {
		size_t n = hold_give(r, r->block_rows);
		if (r->rc) {
			r->phase = PH_DONE;
			return fail_with(r, e);
		}
		if (n) {
			r->rows += n;
			return (long)n;
		}
	}
	carry_partial(r);
	while (!r->eof && r->blk.nrow < r->block_rows) {
		int rc = feed(r, e);
		if (rc < 0) {
			r->phase = PH_DONE;
			return r->rc ? fail_with(r, e) : rc;
		}
	}
	if (r->blk.nrow == 0) {
		r->phase = PH_DONE;
		return 0;
	}
	r->rows += r->blk.nrow;
	return (long)r->blk.nrow;
}

void ml_reader_close(struct ml_reader *r)
{
	int j;

	if (!r)
		return;
	if (r->sin)
		ml_stream_in_free(r->sin);
	if (r->csv_ok)
		csv_free(&r->csv);
	free(r->raw);
	for (j = 0; j < r->nnames; j++)
		free(r->names[j]);
	free(r->names);
	free(r->rawline);
	free(r->arena);
	free(r->na_buf);
	free(r->na);
	free(r->na_len);
	free(r->num_cols);
	free(r->cat_cols);
	ml_block_release(&r->blk);
	ml_schema_release(&r->schema);
	ml_input_close(r->in);
	free(r);
}

int ml_frame_read(struct ml_frame *f, const char *path, const struct ml_read_opts *opts,
		  struct ml_err *e)
{
	struct ml_read_opts o;
	struct ml_reader *r;
	const struct ml_block *b;
	long n;
	int rc = 0, j, warned = 0;

	if (opts)
		o = *opts;
	else
		ml_read_opts_init(&o);
	/* Types come from the first rows, as the streaming reader decides them, so that every
	 * command types a file the same way. */
	if (!o.infer_rows)
		o.infer_rows = ML_INFER_ROWS;
	/* A plain file is read in parallel windows; anything else, or any error (to report it
	 * exactly as the streaming reader does), takes the serial path below. */
	rc = ml_frame_read_parallel(f, path, &o, e, &warned);
	if (rc <= 0)
		return rc;
	rc = 0;
	if (warned)
		o.log = NULL;
	r = ml_reader_open(path, &o, e);
	if (!r)
		return e ? e->code : ML_E_DATA;
	if (!r->sin && r->eof && r->held) {
		/* Text read to its end while typing: every row into the reader's block, which is
		 * taken over. */
		if (ml_block_reserve(&r->blk, r->nraw + 1, e) < 0)
			rc = ML_E_NOMEM;
		else if (hold_give(r, r->nraw), r->rc)
			rc = fail_with(r, e);
		if (rc < 0) {
			ml_reader_close(r);
			return rc;
		}
		f->schema = r->schema;
		ml_schema_init(&r->schema);
		f->rows = r->blk;
		f->rows.schema = &f->schema;
		memset(&r->blk, 0, sizeof(r->blk));
		ml_reader_close(r);
		return 0;
	}
	if (ml_schema_copy(&f->schema, &r->schema) < 0) {
		rc = ml_err_nomem(e);
		goto out;
	}
	if ((rc = ml_block_init(&f->rows, &f->schema, 0, e)) < 0)
		goto out;
	while ((n = ml_reader_next(r, &b, e)) > 0) {
		size_t at = f->rows.nrow;
		if ((rc = ml_block_reserve(&f->rows, at + (size_t)n, e)) < 0)
			goto out;
		for (j = 0; j < f->schema.ncol; j++) {
			size_t sz = f->schema.cols[j].type == ML_NUM ? sizeof(double) : sizeof(int32_t);
			memcpy((char *)f->rows.col[j].num + at * sz, b->col[j].num, (size_t)n * sz);
		}
		if (b->line) {
			/* Text input: the rows' lines, for messages about them (the block grows
			 * them from here on). */
			if (!f->rows.line && !(f->rows.line = malloc(f->rows.cap * sizeof(long)))) {
				rc = ml_err_nomem(e);
				goto out;
			}
			memcpy(f->rows.line + at, b->line, (size_t)n * sizeof(long));
		}
		f->rows.nrow += (size_t)n;
		if (o.progress)
			o.progress(o.log_ud, (double)f->rows.nrow, 0, "rows", "read");
	}
	if (n < 0) {
		rc = (int)n;
		goto out;
	}
	/* Dictionaries grew while reading: take the final ones. */
	for (j = 0; j < f->schema.ncol; j++) {
		ml_dict_release(&f->schema.cols[j].dict);
		if ((rc = ml_dict_copy(&f->schema.cols[j].dict, &r->schema.cols[j].dict)) < 0) {
			ml_err_nomem(e);
			goto out;
		}
	}
out:
	ml_reader_close(r);
	if (rc < 0)
		ml_frame_release(f);
	return rc;
}

/* Writer. */

#define WBUF (1 << 20)

struct ml_writer {
	FILE *fp;
	const char *name;
	const struct ml_schema *s;
	struct ml_write_opts o;
	char delim;
	struct ml_stream_out *sout;
	char *buf;
	size_t n;
	int header_done;
};

static int wflush(struct ml_writer *w, struct ml_err *e)
{
	if (w->n && fwrite(w->buf, 1, w->n, w->fp) != w->n)
		return ml_err_set(e, ML_E_IO, w->name, 0, 0, "write error: %s", strerror(errno));
	w->n = 0;
	return 0;
}

/* Text that must be quoted to read back as itself. */
static int needs_quote(const char *s, size_t len, char delim)
{
	size_t i;

	if (len == 0)
		return 1;
	if (s[0] == ' ' || s[0] == '\t' || s[len - 1] == ' ' || s[len - 1] == '\t')
		return 1;
	for (i = 0; i < len; i++) {
		char c = s[i];
		if (c == delim || c == '"' || c == '\n' || c == '\r')
			return 1;
	}
	/* A value that reads back as a missing token keeps its quotes off: it is missing
	 * text either way; see ml-stream(5) for lossless transport. */
	return 0;
}

static int put_text(struct ml_writer *w, const char *s, size_t len, struct ml_err *e)
{
	size_t i, worst = 2 * len + 3;

	if (WBUF - w->n < worst) {
		if (wflush(w, e) < 0)
			return ML_E_IO;
		if (worst > WBUF) {
			/* A huge field: write it straight through. */
			if (!needs_quote(s, len, w->delim))
				return fwrite(s, 1, len, w->fp) == len ? 0 :
					ml_err_set(e, ML_E_IO, w->name, 0, 0, "write error: %s",
						   strerror(errno));
			if (fputc('"', w->fp) == EOF)
				goto ioerr;
			for (i = 0; i < len; i++)
				if ((s[i] == '"' && fputc('"', w->fp) == EOF) || fputc(s[i], w->fp) == EOF)
					goto ioerr;
			if (fputc('"', w->fp) == EOF)
				goto ioerr;
			return 0;
		}
	}
	if (!needs_quote(s, len, w->delim)) {
		memcpy(w->buf + w->n, s, len);
		w->n += len;
		return 0;
	}
	w->buf[w->n++] = '"';
	for (i = 0; i < len; i++) {
		if (s[i] == '"')
			w->buf[w->n++] = '"';
		w->buf[w->n++] = s[i];
	}
	w->buf[w->n++] = '"';
	return 0;
ioerr:
	return ml_err_set(e, ML_E_IO, w->name, 0, 0, "write error: %s", strerror(errno));
}

struct ml_writer *ml_writer_open(FILE *fp, const char *name, const struct ml_schema *s,
				 const struct ml_write_opts *opts, struct ml_err *e)
{
	struct ml_writer *w = calloc(1, sizeof(*w));
	int j;

	if (!w) {
		ml_err_nomem(e);
		return NULL;
	}
	w->fp = fp;
	w->name = name ? name : "<stdout>";
	w->s = s;
	if (opts)
		w->o = *opts;
	else
		ml_write_opts_init(&w->o);
	if (w->o.format == ML_FMT_AUTO)
		w->o.format = ML_FMT_CSV;
	if (w->o.format == ML_FMT_STREAM) {
		w->sout = ml_stream_out_open(fp, w->name, s, w->o.compress, e);
		if (!w->sout) {
			free(w);
			return NULL;
		}
		return w;
	}
	w->delim = w->o.format == ML_FMT_TSV ? '\t' : ',';
	w->buf = malloc(WBUF);
	if (!w->buf) {
		free(w);
		ml_err_nomem(e);
		return NULL;
	}
	if (w->o.header) {
		for (j = 0; j < s->ncol; j++) {
			if (j)
				w->buf[w->n++] = w->delim;
			if (put_text(w, s->cols[j].name, strlen(s->cols[j].name), e) < 0)
				goto fail;
			if (WBUF - w->n < 2 && wflush(w, e) < 0)
				goto fail;
		}
		w->buf[w->n++] = '\n';
	}
	return w;
fail:
	ml_writer_free(w);
	return NULL;
}

int ml_writer_write(struct ml_writer *w, const struct ml_block *b, size_t from, size_t to,
		    struct ml_err *e)
{
	const struct ml_schema *s = w->s;
	size_t i;
	int j;

	if (w->sout)
		return ml_stream_out_write(w->sout, b, from, to, e);
	for (i = from; i < to; i++) {
		for (j = 0; j < s->ncol; j++) {
			if (WBUF - w->n < ML_FMT_DOUBLE_MAX + 2 && wflush(w, e) < 0)
				return ML_E_IO;
			if (j)
				w->buf[w->n++] = w->delim;
			if (s->cols[j].type == ML_NUM) {
				double v = b->col[j].num[i];
				if (v == v)
					w->n += w->o.precision ?
						ml_fmt_double_prec(w->buf + w->n, v, w->o.precision) :
						ml_fmt_double(w->buf + w->n, v);
			} else {
				int32_t c = b->col[j].cat[i];
				if (c >= 0 && c < s->cols[j].dict.n &&
				    put_text(w, s->cols[j].dict.str[c], s->cols[j].dict.len[c], e) < 0)
					return ML_E_IO;
			}
		}
		if (WBUF - w->n < 1 && wflush(w, e) < 0)
			return ML_E_IO;
		w->buf[w->n++] = '\n';
	}
	return 0;
}

int ml_writer_flush(struct ml_writer *w, struct ml_err *e)
{
	if (!w->sout && wflush(w, e) < 0)
		return ML_E_IO;
	if (fflush(w->fp) != 0)
		return ml_err_set(e, ML_E_IO, w->name, 0, 0, "write error: %s", strerror(errno));
	return 0;
}

int ml_writer_finish(struct ml_writer *w, struct ml_err *e)
{
	if (w->sout)
		return ml_stream_out_finish(w->sout, e);
	if (wflush(w, e) < 0)
		return ML_E_IO;
	if (fflush(w->fp) != 0)
		return ml_err_set(e, ML_E_IO, w->name, 0, 0, "write error: %s", strerror(errno));
	return 0;
}

void ml_writer_free(struct ml_writer *w)
{
	if (!w)
		return;
	if (w->sout)
		ml_stream_out_free(w->sout);
	free(w->buf);
	free(w);
}
