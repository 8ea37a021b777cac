/* ml-stream(5): the binary column stream, written and read one record at a time. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define ZLIB_CONST
#include <zlib.h>

#include "stream.h"

/* Values are little-endian on disk: big-endian hosts swap each column, others copy. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define STREAM_SWAP 1
#else
#define STREAM_SWAP 0
#endif

static const unsigned char stream_magic[8] = {0x89, 'M', 'L', 'S', '\r', '\n', 0x1a, '\n'};
static const unsigned char model_magic[8] = {0x89, 'M', 'L', 'M', '\r', '\n', 0x1a, '\n'};

#define STREAM_VERSION 1u

/* Limits a reader enforces before allocating anything (see ml-stream(5), LIMITS). */
#define MAX_COLS (1u << 24) /* columns */
#define MAX_LEN	 (1u << 30) /* header body, one string, one dictionary record's entries */
#define MAX_ROWS (1u << 20) /* rows in one block record */
#define MAX_RAW	 (1u << 28) /* raw payload bytes of one block record */
/* What the writer aims for: big enough that per-record costs vanish, small enough that a
 * reader's block stays modest. */
#define WRITE_RAW  (8u << 20)  /* raw payload bytes per block record */
#define WRITE_DICT (16u << 20) /* dictionary bytes in the header and per dictionary record */
#define READ_CHUNK (1u << 20)  /* scratch grows by what actually arrived, at most this */

#define TAG_BLOCK  'B'
#define TAG_DICT   'D'
#define TAG_END	   'E'
#define CODEC_RAW  0
#define CODEC_ZLIB 1

#define BLOCK_FIXED 22 /* tag, u32 nrow, u8 codec, u64 raw length, u64 stored length */
#define DICT_FIXED  13 /* tag, u32 column, u32 first code, u32 count */
#define END_FIXED   9  /* tag, u64 rows */

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static void put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* CRC-32 of n bytes continuing crc; lengths above 4 GiB never occur, but stay correct. */
static uint32_t crc_more(uint32_t crc, const void *p, size_t n)
{
	const unsigned char *q = p;

	while (n > 0) {
		uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
		crc = (uint32_t)crc32(crc, q, k);
		q += k;
		n -= k;
	}
	return crc;
}

/* Reverse the bytes of each of the n values of size sz (4 or 8) at p. */
static void swap_values(void *p, size_t n, size_t sz)
{
	size_t i;

	if (sz == 8) {
		uint64_t *v = p;
		for (i = 0; i < n; i++)
			v[i] = __builtin_bswap64(v[i]);
	} else {
		uint32_t *v = p;
		for (i = 0; i < n; i++)
			v[i] = __builtin_bswap32(v[i]);
	}
}

static size_t type_size(enum ml_type t)
{
	return t == ML_NUM ? sizeof(double) : sizeof(int32_t);
}

static const char *quote(char *buf, size_t n, const char *s)
{
	return ml_err_quote(buf, n, s, strlen(s));
}

/* Index of the first code outside [-1, n) in c[0..count), or count when all are valid.
 * The first pass has no branch so that it vectorises. */
static size_t bad_code(const int32_t *c, size_t count, int32_t n)
{
	uint32_t lim = (uint32_t)n, any = 0;
	size_t i;

	for (i = 0; i < count; i++)
		any |= (uint32_t)c[i] + 1u > lim;
	if (!any)
		return count;
	for (i = 0; i < count; i++)
		if ((uint32_t)c[i] + 1u > lim)
			break;
	return i;
}

int ml_stream_sniff(const unsigned char *p, size_t n)
{
	/* No text starts with 0x89 (a UTF-8 continuation byte), so anything that does goes
	 * to the stream reader, which names what it found: a damaged magic, an ml-model file,
	 * another binary format. */
	return n > 0 && p[0] == stream_magic[0];
}

/* Reading. */

struct ml_stream_in {
	struct ml_input *in;
	int ncol;
	enum ml_type *type;
	size_t width; /* bytes per row */
	unsigned long long rows;
	int ended;
	int failed;	    /* the first error's code: later calls repeat it */
	unsigned char *buf; /* header body, dictionary entries, compressed payloads */
	size_t cap;
	z_stream zs;
	int zinit;
};

static int fmt_err(struct ml_stream_in *r, struct ml_err *e, const char *fmt, ...) ML_PRINTF(3, 4);

static int fmt_err(struct ml_stream_in *r, struct ml_err *e, const char *fmt, ...)
{
	char msg[900];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ml_err_set(e, ML_E_DATA, ml_input_name(r->in), 0, 0, "%s", msg);
}

/* Read exactly n bytes; an early end is "truncated stream at byte N: incomplete WHAT". */
static int read_exact(struct ml_stream_in *r, void *buf, size_t n, const char *what,
		      unsigned long long at, struct ml_err *e)
{
	unsigned char *p = buf;

	while (n > 0) {
		long got = ml_input_read(r->in, p, n, e);
		if (got < 0)
			return (int)got;
		if (got == 0) {
			if (at == ~0ULL)
				return fmt_err(r, e, "truncated stream at byte %llu: incomplete %s",
					       ml_input_offset(r->in), what);
			return fmt_err(r, e,
				       "truncated stream at byte %llu: incomplete %s at byte %llu",
				       ml_input_offset(r->in), what, at);
		}
		p += got;
		n -= (size_t)got;
	}
	return 0;
}

static int reserve_in(struct ml_stream_in *r, size_t need, struct ml_err *e)
{
	unsigned char *p;
	size_t cap;

	if (need <= r->cap)
		return 0;
	cap = r->cap * 2 > need ? r->cap * 2 : need;
	p = realloc(r->buf, cap);
	if (!p)
		return ml_err_nomem(e);
	r->buf = p;
	r->cap = cap;
	return 0;
}

/* Read n bytes into the scratch buffer at offset at, growing it only as data arrive, so a
 * length field that lies costs no more memory than the bytes really there. */
static int read_scratch(struct ml_stream_in *r, size_t at, size_t n, const char *what,
			unsigned long long rec, struct ml_err *e)
{
	while (n > 0) {
		size_t k = n < READ_CHUNK ? n : READ_CHUNK;
		int rc = reserve_in(r, at + k, e);
		if (rc < 0)
			return rc;
		rc = read_exact(r, r->buf + at, k, what, rec, e);
		if (rc < 0)
			return rc;
		at += k;
		n -= k;
	}
	return 0;
}

/* Say what the first bytes are when they are not the magic. */
static int bad_magic(struct ml_stream_in *r, struct ml_err *e)
{
	const unsigned char *p;
	long n = ml_input_peek(r->in, &p, 64, e);
	size_t i, k;
	char q[96], hex[40];

	if (n < 0)
		return (int)n;
	if (n == 0)
		return fmt_err(r, e, "empty input, not a table stream");
	k = (size_t)n < sizeof(stream_magic) ? (size_t)n : sizeof(stream_magic);
	if (memcmp(p, stream_magic, k) == 0)
		return fmt_err(r, e, "truncated stream at byte %ld: incomplete magic", n);
	if (n >= 4 && memcmp(p, model_magic, 4) == 0)
		return fmt_err(r, e, "is an ml-model file, not a table stream");
	if (n >= 4 && memcmp(p, stream_magic, 4) == 0) {
		/* "\r\n" became "\n" or "\n" became "\r\n": a text-mode transfer. */
		if ((n >= 7 && memcmp(p + 4, "\n\x1a\n", 3) == 0) ||
		    (n >= 9 && memcmp(p + 4, "\r\r\n\x1a\r\n", 5) == 0) ||
		    (n >= 8 && memcmp(p + 4, "\r\n\x1a\r", 4) == 0) ||
		    (n >= 6 && memcmp(p + 4, "\r\r", 2) == 0))
			return fmt_err(r, e,
				       "not a table stream: its magic has had line endings "
				       "converted (copied in text mode?)");
		return fmt_err(r, e, "not a table stream: damaged magic");
	}
	for (i = 0, k = 0; i < sizeof(stream_magic) && i < (size_t)n; i++)
		k += p[i] == stream_magic[i];
	if (k >= 6)
		return fmt_err(r, e, "not a table stream: damaged magic");
	if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b)
		return fmt_err(r, e, "not a table stream: gzip data compressed twice");
	/* Text: no NUL or control characters but tab, CR and LF in what we have. */
	for (i = 0; i < (size_t)n; i++)
		if ((p[i] < 0x20 && p[i] != '\t' && p[i] != '\r' && p[i] != '\n') || p[i] == 0x7f)
			break;
	if (i == (size_t)n) {
		for (k = 0; k < (size_t)n && p[k] != '\n' && p[k] != '\r'; k++)
			;
		ml_err_quote(q, 48, (const char *)p, k);
		return fmt_err(r, e, "not a table stream: found text '%s' (CSV or TSV?)", q);
	}
	k = (size_t)n < 8 ? (size_t)n : 8;
	for (i = 0; i < k; i++)
		snprintf(hex + 3 * i, sizeof(hex) - 3 * i, "%02x ", p[i]);
	hex[3 * k - 1] = 0;
	return fmt_err(r, e, "not a table stream: unknown magic '%s'", hex);
}

/* A cursor over the header body: take() fails instead of running off the end. */
struct cursor {
	const unsigned char *p;
	size_t n;
};

static const unsigned char *take(struct cursor *c, size_t k)
{
	const unsigned char *p = c->p;

	if (k > c->n)
		return NULL;
	c->p += k;
	c->n -= k;
	return p;
}

/* Add count entries (u32 length + bytes each, from c) to dictionary d, which must get the
 * next codes in order: a repeated entry is an error, not a new code. what names the
 * record in messages. */
static int add_entries(struct ml_stream_in *r, struct cursor *c, struct ml_dict *d, uint32_t count,
		       const char *colname, const char *what, struct ml_err *e)
{
	char qn[96], qs[96];
	uint32_t i;

	for (i = 0; i < count; i++) {
		const unsigned char *lp = take(c, 4), *s = NULL;
		uint32_t len = lp ? get32(lp) : 0;
		int32_t code, want;

		if (!lp || !(s = take(c, len)))
			return fmt_err(r, e, "corrupt %s: dictionary of column '%s' ends early",
				       what, quote(qn, 64, colname));
		if (memchr(s, 0, len))
			return fmt_err(r, e,
				       "corrupt %s: dictionary entry %d of column '%s' holds a "
				       "NUL byte",
				       what, d->n, quote(qn, 64, colname));
		want = d->n;
		code = ml_dict_intern(d, (const char *)s, len);
		if (code == ML_E_NOMEM)
			return ml_err_nomem(e);
		if (code < 0)
			return fmt_err(r, e, "corrupt %s: dictionary of column '%s' is too large",
				       what, quote(qn, 64, colname));
		if (code != want)
			return fmt_err(r, e, "corrupt %s: dictionary of column '%s' repeats '%s'",
				       what, quote(qn, 64, colname),
				       ml_err_quote(qs, 64, (const char *)s, len));
	}
	return 0;
}

static int parse_header(struct ml_stream_in *r, struct ml_schema *s, size_t len, struct ml_err *e)
{
	struct cursor c = {r->buf, len};
	const unsigned char *p = take(&c, 4);
	uint32_t ncol, j;
	char qn[96];
	int rc;

	if (!p)
		return fmt_err(r, e, "corrupt header: too short");
	ncol = get32(p);
	if (ncol > MAX_COLS || ncol > c.n / 5)
		return fmt_err(r, e, "corrupt header: %u columns do not fit in it", ncol);
	r->type = malloc((ncol ? ncol : 1) * sizeof(*r->type));
	if (!r->type)
		return ml_err_nomem(e);
	for (j = 0; j < ncol; j++) {
		const unsigned char *name, *tp, *cp;
		uint32_t nlen;
		char *copy;

		p = take(&c, 4);
		nlen = p ? get32(p) : 0;
		if (!p || !(name = take(&c, nlen)) || !(tp = take(&c, 1)))
			return fmt_err(r, e, "corrupt header: ends inside column %u", j + 1);
		if (memchr(name, 0, nlen))
			return fmt_err(r, e, "corrupt header: name of column %u holds a NUL byte",
				       j + 1);
		if (*tp != ML_NUM && *tp != ML_CAT)
			return fmt_err(r, e, "corrupt header: column %u has unknown type %u", j + 1,
				       *tp);
		copy = malloc((size_t)nlen + 1);
		if (!copy)
			return ml_err_nomem(e);
		memcpy(copy, name, nlen);
		copy[nlen] = 0;
		rc = ml_schema_add(s, copy, (enum ml_type) * tp);
		free(copy);
		if (rc < 0)
			return rc == ML_E_NOMEM ? ml_err_nomem(e)
						: fmt_err(r, e, "corrupt header: too many columns");
		r->type[j] = (enum ml_type) * tp;
		r->width += type_size(r->type[j]);
		r->ncol = (int)j + 1;
		if (*tp != ML_CAT)
			continue;
		if (!(cp = take(&c, 4)))
			return fmt_err(r, e, "corrupt header: ends inside column %u", j + 1);
		if (get32(cp) > c.n / 4)
			return fmt_err(r, e,
				       "corrupt header: dictionary of column '%s' does not fit",
				       quote(qn, 64, s->cols[j].name));
		rc = add_entries(r, &c, &s->cols[j].dict, get32(cp), s->cols[j].name, "header", e);
		if (rc < 0)
			return rc;
	}
	if (c.n)
		return fmt_err(r, e, "corrupt header: %zu bytes after the last column", c.n);
	return 0;
}

struct ml_stream_in *ml_stream_in_open(struct ml_input *in, struct ml_schema *s, struct ml_err *e)
{
	struct ml_stream_in *r = calloc(1, sizeof(*r));
	unsigned char h[16], t[4];
	uint32_t version, len, crc;
	int rc;

	if (!r) {
		ml_err_nomem(e);
		return NULL;
	}
	r->in = in;
	{
		const unsigned char *p;
		long n = ml_input_peek(in, &p, sizeof(stream_magic), e);
		if (n < 0)
			goto fail;
		if ((size_t)n < sizeof(stream_magic) || memcmp(p, stream_magic, 8) != 0) {
			bad_magic(r, e);
			goto fail;
		}
	}
	if (read_exact(r, h, sizeof(h), "header", ~0ULL, e) < 0)
		goto fail;
	version = get32(h + 8);
	len = get32(h + 12);
	if (version > STREAM_VERSION) {
		fmt_err(r, e,
			"written by a newer mlpipe (ml-stream version %u; this reads "
			"version %u)",
			version, STREAM_VERSION);
		goto fail;
	}
	if (version == 0) {
		fmt_err(r, e, "corrupt header: version 0");
		goto fail;
	}
	if (len < 4 || len > MAX_LEN) {
		fmt_err(r, e, "corrupt header: length %u out of range", len);
		goto fail;
	}
	if (read_scratch(r, 0, len, "header", ~0ULL, e) < 0 ||
	    read_exact(r, t, 4, "header", ~0ULL, e) < 0)
		goto fail;
	crc = crc_more(crc_more(0, h + 8, 8), r->buf, len);
	if (crc != get32(t)) {
		fmt_err(r, e, "corrupt header: CRC mismatch");
		goto fail;
	}
	rc = parse_header(r, s, len, e);
	if (rc < 0)
		goto fail;
	return r;
fail:
	ml_schema_release(s);
	ml_stream_in_free(r);
	return NULL;
}

/* Decompress the stored payload in r->buf into the columns of b: exactly raw bytes. */
static int inflate_block(struct ml_stream_in *r, struct ml_block *b, size_t nrow, size_t stored,
			 unsigned long long at, struct ml_err *e)
{
	z_stream *zs = &r->zs;
	unsigned char extra;
	int j, zr = Z_OK;

	if (!r->zinit) {
		memset(zs, 0, sizeof(*zs));
		if (inflateInit(zs) != Z_OK)
			return ml_err_nomem(e);
		r->zinit = 1;
	} else if (inflateReset(zs) != Z_OK) {
		return ml_err_set(e, ML_E_INTERNAL, ml_input_name(r->in), 0, 0, "inflate reset");
	}
	zs->next_in = r->buf;
	zs->avail_in = (uInt)stored;
	for (j = 0; j < r->ncol; j++) {
		zs->next_out = (unsigned char *)b->col[j].num;
		zs->avail_out = (uInt)(nrow * type_size(r->type[j]));
		while (zs->avail_out > 0) {
			if (zr == Z_STREAM_END)
				return fmt_err(r, e,
					       "corrupt block at byte %llu: compressed data "
					       "expand to fewer bytes than recorded",
					       at);
			zr = inflate(zs, Z_NO_FLUSH);
			if (zr == Z_MEM_ERROR)
				return ml_err_nomem(e);
			if (zr != Z_OK && zr != Z_STREAM_END)
				return fmt_err(
				    r, e, "corrupt block at byte %llu: bad compressed data (%s)",
				    at, zs->msg ? zs->msg : "cannot inflate");
		}
	}
	/* Every raw byte is in place: the data must end here, with nothing left over. */
	while (zr != Z_STREAM_END) {
		zs->next_out = &extra;
		zs->avail_out = 1;
		zr = inflate(zs, Z_NO_FLUSH);
		if (zr == Z_MEM_ERROR)
			return ml_err_nomem(e);
		if (zs->avail_out == 0)
			return fmt_err(r, e,
				       "corrupt block at byte %llu: compressed data expand to "
				       "more bytes than recorded",
				       at);
		if (zr != Z_OK && zr != Z_STREAM_END)
			return fmt_err(r, e, "corrupt block at byte %llu: bad compressed data (%s)",
				       at, zs->msg ? zs->msg : "cannot inflate");
	}
	if (zs->avail_in)
		return fmt_err(r, e,
			       "corrupt block at byte %llu: %u bytes after the compressed data", at,
			       zs->avail_in);
	return 0;
}

/* The block record at byte at (tag read). Returns its rows or a negative ML_E_*. */
static long read_block(struct ml_stream_in *r, struct ml_schema *s, struct ml_block *b,
		       unsigned long long at, struct ml_err *e)
{
	unsigned char h[BLOCK_FIXED], t[4];
	uint32_t nrow, crc;
	uint64_t raw, stored;
	int codec, j, rc;
	char qn[96];

	h[0] = TAG_BLOCK;
	rc = read_exact(r, h + 1, sizeof(h) - 1, "block", at, e);
	if (rc < 0)
		return rc;
	nrow = get32(h + 1);
	codec = h[5];
	raw = get64(h + 6);
	stored = get64(h + 14);
	if (nrow > MAX_ROWS)
		return fmt_err(r, e, "corrupt block at byte %llu: %u rows (at most %u)", at, nrow,
			       MAX_ROWS);
	if (raw != (uint64_t)nrow * r->width)
		return fmt_err(r, e,
			       "corrupt block at byte %llu: %u rows need %llu bytes, not %llu", at,
			       nrow, (unsigned long long)nrow * r->width, (unsigned long long)raw);
	if (raw > MAX_RAW)
		return fmt_err(r, e, "corrupt block at byte %llu: %llu bytes (at most %u)", at,
			       (unsigned long long)raw, MAX_RAW);
	if (codec == CODEC_RAW && stored != raw)
		return fmt_err(r, e,
			       "corrupt block at byte %llu: stored length %llu is not the raw "
			       "length %llu",
			       at, (unsigned long long)stored, (unsigned long long)raw);
	if (codec == CODEC_ZLIB && stored > compressBound((uLong)raw))
		return fmt_err(r, e, "corrupt block at byte %llu: stored length %llu is too large",
			       at, (unsigned long long)stored);
	if (codec != CODEC_RAW && codec != CODEC_ZLIB)
		return fmt_err(r, e, "corrupt block at byte %llu: unknown codec %d", at, codec);
	if (ml_block_reserve(b, nrow, e) < 0)
		return ML_E_NOMEM;
	crc = crc_more(0, h, sizeof(h));
	if (codec == CODEC_RAW) {
		/* Straight into the columns: big reads skip ml_input's buffer. */
		for (j = 0; j < r->ncol; j++) {
			size_t n = nrow * type_size(r->type[j]);
			rc = read_exact(r, b->col[j].num, n, "block", at, e);
			if (rc < 0)
				return rc;
			crc = crc_more(crc, b->col[j].num, n);
		}
	} else {
		rc = read_scratch(r, 0, (size_t)stored, "block", at, e);
		if (rc < 0)
			return rc;
		crc = crc_more(crc, r->buf, (size_t)stored);
	}
	rc = read_exact(r, t, 4, "block", at, e);
	if (rc < 0)
		return rc;
	if (crc != get32(t))
		return fmt_err(r, e, "corrupt block at byte %llu: CRC mismatch", at);
	if (codec == CODEC_ZLIB) {
		rc = inflate_block(r, b, nrow, (size_t)stored, at, e);
		if (rc < 0)
			return rc;
	}
	for (j = 0; j < r->ncol; j++) {
		size_t i;
		if (STREAM_SWAP)
			swap_values(b->col[j].num, nrow, type_size(r->type[j]));
		if (r->type[j] != ML_CAT)
			continue;
		i = bad_code(b->col[j].cat, nrow, s->cols[j].dict.n);
		if (i < nrow)
			return fmt_err(r, e,
				       "bad block at byte %llu: code %d in column '%s' is "
				       "outside its dictionary of %d entries",
				       at, b->col[j].cat[i], quote(qn, 64, s->cols[j].name),
				       s->cols[j].dict.n);
	}
	free(b->line);
	b->line = NULL;
	b->nrow = nrow;
	r->rows += nrow;
	return (long)nrow;
}

/* The dictionary record at byte at (tag read): new entries for one column. */
static int read_dict(struct ml_stream_in *r, struct ml_schema *s, unsigned long long at,
		     struct ml_err *e)
{
	unsigned char h[DICT_FIXED], t[4];
	uint32_t col, first, count, i, crc;
	size_t len = 0;
	struct cursor c;
	char qn[96], what[64];
	int rc;

	h[0] = TAG_DICT;
	rc = read_exact(r, h + 1, sizeof(h) - 1, "dictionary record", at, e);
	if (rc < 0)
		return rc;
	col = get32(h + 1);
	first = get32(h + 5);
	count = get32(h + 9);
	if (count > MAX_LEN / 4)
		return fmt_err(r, e,
			       "corrupt dictionary record at byte %llu: %u entries (at most %u)",
			       at, count, MAX_LEN / 4);
	for (i = 0; i < count; i++) {
		uint32_t n;
		rc = read_scratch(r, len, 4, "dictionary record", at, e);
		if (rc < 0)
			return rc;
		n = get32(r->buf + len);
		len += 4;
		if (n > MAX_LEN - len)
			return fmt_err(r, e,
				       "corrupt dictionary record at byte %llu: longer than %u "
				       "bytes",
				       at, MAX_LEN);
		rc = read_scratch(r, len, n, "dictionary record", at, e);
		if (rc < 0)
			return rc;
		len += n;
	}
	rc = read_exact(r, t, 4, "dictionary record", at, e);
	if (rc < 0)
		return rc;
	crc = crc_more(crc_more(0, h, sizeof(h)), r->buf, len);
	if (crc != get32(t))
		return fmt_err(r, e, "corrupt dictionary record at byte %llu: CRC mismatch", at);
	if (col >= (uint32_t)r->ncol || r->type[col] != ML_CAT)
		return fmt_err(r, e,
			       "corrupt dictionary record at byte %llu: column %u is not "
			       "categorical",
			       at, col + 1);
	if (first != (uint32_t)s->cols[col].dict.n)
		return fmt_err(r, e,
			       "corrupt dictionary record at byte %llu: starts at code %u but "
			       "column '%s' has %d entries",
			       at, first, quote(qn, 64, s->cols[col].name), s->cols[col].dict.n);
	c.p = r->buf;
	c.n = len;
	snprintf(what, sizeof(what), "dictionary record at byte %llu", at);
	return add_entries(r, &c, &s->cols[col].dict, count, s->cols[col].name, what, e);
}

/* The end marker at byte at (tag read): the row count, then nothing more. */
static int read_end(struct ml_stream_in *r, unsigned long long at, struct ml_err *e)
{
	unsigned char h[END_FIXED + 4];
	const unsigned char *p;
	uint64_t rows;
	long n;
	int rc;

	h[0] = TAG_END;
	rc = read_exact(r, h + 1, sizeof(h) - 1, "end marker", at, e);
	if (rc < 0)
		return rc;
	if (crc_more(0, h, END_FIXED) != get32(h + END_FIXED))
		return fmt_err(r, e, "corrupt end marker at byte %llu: CRC mismatch", at);
	rows = get64(h + 1);
	if (rows != r->rows)
		return fmt_err(r, e,
			       "end marker at byte %llu counts %llu rows but the stream held "
			       "%llu",
			       at, (unsigned long long)rows, r->rows);
	n = ml_input_peek(r->in, &p, 1, e);
	if (n < 0)
		return (int)n;
	if (n > 0)
		return fmt_err(r, e, "unexpected data at byte %llu after the end marker",
			       ml_input_offset(r->in));
	return 0;
}

long ml_stream_in_next(struct ml_stream_in *r, struct ml_schema *s, struct ml_block *b,
		       struct ml_err *e)
{
	long rc = 0;

	if (r->failed)
		return ml_err_set(e, r->failed, ml_input_name(r->in), 0, 0,
				  "cannot read on after an error");
	if (r->ended)
		return 0;
	if (s->ncol != r->ncol || b->ncol != r->ncol)
		return ml_err_set(e, ML_E_INTERNAL, ml_input_name(r->in), 0, 0,
				  "block has %d columns, the stream %d", b->ncol, r->ncol);
	for (;;) {
		unsigned long long at = ml_input_offset(r->in);
		unsigned char tag;
		long n = ml_input_read(r->in, &tag, 1, e);

		if (n < 0) {
			rc = n;
			break;
		}
		if (n == 0) {
			rc = fmt_err(r, e, "truncated stream at byte %llu: no end marker", at);
			break;
		}
		if (tag == TAG_BLOCK) {
			rc = read_block(r, s, b, at, e);
			if (rc != 0)
				break;
		} else if (tag == TAG_DICT) {
			rc = read_dict(r, s, at, e);
			if (rc < 0)
				break;
		} else if (tag == TAG_END) {
			rc = read_end(r, at, e);
			if (rc == 0) {
				r->ended = 1;
				b->nrow = 0;
			}
			break;
		} else {
			rc =
			    fmt_err(r, e, "corrupt stream at byte %llu: unknown record type 0x%02x",
				    at, tag);
			break;
		}
	}
	if (rc < 0)
		r->failed = (int)rc;
	return rc;
}

void ml_stream_in_free(struct ml_stream_in *r)
{
	if (!r)
		return;
	if (r->zinit)
		inflateEnd(&r->zs);
	free(r->type);
	free(r->buf);
	free(r);
}

/* Writing. */

struct ml_stream_out {
	FILE *fp;
	char *name;
	const struct ml_schema *s;
	int ncol, level, done, failed;
	size_t width;
	int32_t *written; /* dictionary entries already in the stream, per column */
	unsigned long long rows;
	unsigned char *buf; /* header, dictionary records, compressed payloads */
	size_t len, cap;
	unsigned char *swap; /* big-endian hosts: one column in disk order */
	size_t swap_cap;
	z_stream zs;
	int zinit;
};

static int out_err(struct ml_stream_out *w, struct ml_err *e, int code, const char *fmt, ...)
    ML_PRINTF(4, 5);

static int out_err(struct ml_stream_out *w, struct ml_err *e, int code, const char *fmt, ...)
{
	char msg[900];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ml_err_set(e, code, w->name, 0, 0, "%s", msg);
}

static int write_bytes(struct ml_stream_out *w, const void *p, size_t n, struct ml_err *e)
{
	if (n && fwrite(p, 1, n, w->fp) != n)
		return out_err(w, e, ML_E_IO, "write error: %s", strerror(errno));
	return 0;
}

static int reserve_out(struct ml_stream_out *w, size_t need, struct ml_err *e)
{
	unsigned char *p;
	size_t cap;

	if (need <= w->cap)
		return 0;
	cap = w->cap * 2 > need ? w->cap * 2 : need;
	p = realloc(w->buf, cap);
	if (!p)
		return ml_err_nomem(e);
	w->buf = p;
	w->cap = cap;
	return 0;
}

/* Append to w->buf (room reserved by the caller). */
static void add_bytes(struct ml_stream_out *w, const void *p, size_t n)
{
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

static void add32(struct ml_stream_out *w, uint32_t v)
{
	put32(w->buf + w->len, v);
	w->len += 4;
}

/* Append entries [from, to) of d (each u32 length + bytes). */
static int add_dict(struct ml_stream_out *w, const struct ml_dict *d, int32_t from, int32_t to,
		    struct ml_err *e)
{
	int32_t i;

	for (i = from; i < to; i++) {
		if (reserve_out(w, w->len + 4 + d->len[i], e) < 0)
			return ML_E_NOMEM;
		add32(w, d->len[i]);
		add_bytes(w, d->str[i], d->len[i]);
	}
	return 0;
}

/* How many entries of d from code from fit in budget bytes; at least one when least is
 * set, so that a huge entry still goes out in a record of its own. */
static int32_t dict_fit(const struct ml_dict *d, int32_t from, size_t budget, int least)
{
	size_t used = 0;
	int32_t i;

	for (i = from; i < d->n; i++) {
		if ((i > from || !least) && used + 4 + d->len[i] > budget)
			break;
		used += 4 + (size_t)d->len[i];
	}
	return i - from;
}

static int check_dict(struct ml_stream_out *w, int j, struct ml_err *e)
{
	const struct ml_dict *d = &w->s->cols[j].dict;
	char qn[96];
	int32_t i;

	for (i = w->written[j]; i < d->n; i++)
		if (d->len[i] > MAX_LEN - 4)
			return out_err(w, e, ML_E_DATA,
				       "category %d of column '%s' is longer than %u "
				       "bytes",
				       i, quote(qn, 64, w->s->cols[j].name), MAX_LEN - 4);
	return 0;
}

static int write_header(struct ml_stream_out *w, struct ml_err *e)
{
	const struct ml_schema *s = w->s;
	size_t budget = WRITE_DICT;
	int j;

	if (reserve_out(w, 20, e) < 0)
		return ML_E_NOMEM;
	w->len = 0;
	add_bytes(w, stream_magic, sizeof(stream_magic));
	add32(w, STREAM_VERSION);
	add32(w, 0); /* body length, filled in below */
	add32(w, (uint32_t)s->ncol);
	for (j = 0; j < s->ncol; j++) {
		const struct ml_col *c = &s->cols[j];
		size_t nlen = strlen(c->name);
		unsigned char t = (unsigned char)c->type;

		if (nlen > MAX_LEN - (w->len - 16))
			return out_err(w, e, ML_E_DATA,
				       "column names too long for a stream header");
		if (reserve_out(w, w->len + 4 + nlen + 5, e) < 0)
			return ML_E_NOMEM;
		add32(w, (uint32_t)nlen);
		add_bytes(w, c->name, nlen);
		add_bytes(w, &t, 1);
		if (c->type != ML_CAT)
			continue;
		if (check_dict(w, j, e) < 0)
			return ML_E_DATA;
		/* Dictionaries fill the header up to a budget; the rest follows in dictionary
		 * records before the first block. */
		{
			size_t body = w->len - 16;
			int32_t k = body < budget ? dict_fit(&c->dict, 0, budget - body, 0) : 0;

			add32(w, (uint32_t)k);
			if (add_dict(w, &c->dict, 0, k, e) < 0)
				return ML_E_NOMEM;
			w->written[j] = k;
		}
	}
	if (w->len - 16 > MAX_LEN)
		return out_err(w, e, ML_E_DATA, "schema too large for a stream header");
	put32(w->buf + 12, (uint32_t)(w->len - 16));
	if (reserve_out(w, w->len + 4, e) < 0)
		return ML_E_NOMEM;
	add32(w, crc_more(0, w->buf + 8, w->len - 8));
	return write_bytes(w, w->buf, w->len, e);
}

/* Dictionary records for every categorical column that grew since the last write. */
static int write_dicts(struct ml_stream_out *w, struct ml_err *e)
{
	int j;

	for (j = 0; j < w->ncol; j++) {
		const struct ml_dict *d = &w->s->cols[j].dict;

		if (w->s->cols[j].type != ML_CAT || w->written[j] >= d->n)
			continue;
		if (check_dict(w, j, e) < 0)
			return ML_E_DATA;
		while (w->written[j] < d->n) {
			int32_t first = w->written[j], k = dict_fit(d, first, WRITE_DICT, 1);

			if (reserve_out(w, DICT_FIXED, e) < 0)
				return ML_E_NOMEM;
			w->len = 0;
			w->buf[w->len++] = TAG_DICT;
			add32(w, (uint32_t)j);
			add32(w, (uint32_t)first);
			add32(w, (uint32_t)k);
			if (add_dict(w, d, first, first + k, e) < 0 ||
			    reserve_out(w, w->len + 4, e) < 0)
				return ML_E_NOMEM;
			add32(w, crc_more(0, w->buf, w->len));
			if (write_bytes(w, w->buf, w->len, e) < 0)
				return ML_E_IO;
			w->written[j] = first + k;
		}
	}
	return 0;
}

/* Column j's rows [from, from + n) as disk bytes: the array itself on little-endian hosts,
 * a swapped copy on big-endian ones. */
static const void *col_bytes(struct ml_stream_out *w, const struct ml_block *b, int j, size_t from,
			     size_t n, struct ml_err *e)
{
	size_t sz = type_size(w->s->cols[j].type);
	const unsigned char *p = (const unsigned char *)b->col[j].num + from * sz;

	if (!STREAM_SWAP)
		return p;
	if (w->swap_cap < n * sz) {
		unsigned char *q = realloc(w->swap, n * sz);
		if (!q) {
			ml_err_nomem(e);
			return NULL;
		}
		w->swap = q;
		w->swap_cap = n * sz;
	}
	memcpy(w->swap, p, n * sz);
	swap_values(w->swap, n, sz);
	return w->swap;
}

/* Deflate rows [from, from + n) of every column into w->buf. Returns the stored length,
 * or 0 when compression would not make the block smaller. */
static long deflate_block(struct ml_stream_out *w, const struct ml_block *b, size_t from, size_t n,
			  size_t raw, struct ml_err *e)
{
	z_stream *zs = &w->zs;
	int j, zr;

	if (reserve_out(w, raw, e) < 0)
		return ML_E_NOMEM;
	if (!w->zinit) {
		memset(zs, 0, sizeof(*zs));
		if (deflateInit(zs, w->level) != Z_OK)
			return ml_err_nomem(e);
		w->zinit = 1;
	} else if (deflateReset(zs) != Z_OK) {
		return out_err(w, e, ML_E_INTERNAL, "deflate reset");
	}
	zs->next_out = w->buf;
	zs->avail_out = (uInt)raw;
	for (j = 0; j < w->ncol; j++) {
		const void *p = col_bytes(w, b, j, from, n, e);
		if (!p)
			return ML_E_NOMEM;
		zs->next_in = p;
		zs->avail_in = (uInt)(n * type_size(w->s->cols[j].type));
		while (zs->avail_in > 0) {
			if (zs->avail_out == 0)
				return 0;
			zr = deflate(zs, Z_NO_FLUSH);
			if (zr != Z_OK && zr != Z_BUF_ERROR)
				return out_err(w, e, ML_E_INTERNAL, "deflate failed");
		}
	}
	for (;;) {
		zr = deflate(zs, Z_FINISH);
		if (zr == Z_STREAM_END)
			break;
		if (zs->avail_out == 0)
			return 0;
		if (zr != Z_OK && zr != Z_BUF_ERROR)
			return out_err(w, e, ML_E_INTERNAL, "deflate failed");
	}
	if (zs->avail_out == 0)
		return 0;
	return (long)(raw - zs->avail_out);
}

/* One block record of rows [from, from + n). */
static int write_block(struct ml_stream_out *w, const struct ml_block *b, size_t from, size_t n,
		       struct ml_err *e)
{
	unsigned char h[BLOCK_FIXED], t[4];
	size_t raw = n * w->width;
	long stored = 0;
	uint32_t crc;
	int j;

	if (w->level > 0 && raw > 0) {
		stored = deflate_block(w, b, from, n, raw, e);
		if (stored < 0)
			return (int)stored;
	}
	h[0] = TAG_BLOCK;
	put32(h + 1, (uint32_t)n);
	h[5] = stored > 0 ? CODEC_ZLIB : CODEC_RAW;
	put64(h + 6, raw);
	put64(h + 14, stored > 0 ? (uint64_t)stored : raw);
	crc = crc_more(0, h, sizeof(h));
	if (write_bytes(w, h, sizeof(h), e) < 0)
		return ML_E_IO;
	if (stored > 0) {
		crc = crc_more(crc, w->buf, (size_t)stored);
		if (write_bytes(w, w->buf, (size_t)stored, e) < 0)
			return ML_E_IO;
	} else {
		for (j = 0; j < w->ncol; j++) {
			size_t k = n * type_size(w->s->cols[j].type);
			const void *p = col_bytes(w, b, j, from, n, e);
			if (!p)
				return ML_E_NOMEM;
			crc = crc_more(crc, p, k);
			if (write_bytes(w, p, k, e) < 0)
				return ML_E_IO;
		}
	}
	put32(t, crc);
	return write_bytes(w, t, 4, e);
}

struct ml_stream_out *ml_stream_out_open(FILE *fp, const char *name, const struct ml_schema *s,
					 int level, struct ml_err *e)
{
	struct ml_stream_out *w = calloc(1, sizeof(*w));
	int j;

	if (!w || !(w->name = strdup(name ? name : "<stdout>")) ||
	    !(w->written = calloc(s->ncol ? (size_t)s->ncol : 1, sizeof(*w->written)))) {
		ml_err_nomem(e);
		goto fail;
	}
	w->fp = fp;
	w->s = s;
	w->ncol = s->ncol;
	w->level = level;
	if (level < 0 || level > 9) {
		out_err(w, e, ML_E_USAGE, "compression level %d is not 0 to 9", level);
		goto fail;
	}
	if ((unsigned)s->ncol > MAX_COLS) {
		out_err(w, e, ML_E_DATA, "%d columns are too many for a stream", s->ncol);
		goto fail;
	}
	for (j = 0; j < s->ncol; j++)
		w->width += type_size(s->cols[j].type);
	if (write_header(w, e) < 0)
		goto fail;
	return w;
fail:
	ml_stream_out_free(w);
	return NULL;
}

int ml_stream_out_write(struct ml_stream_out *w, const struct ml_block *b, size_t from, size_t to,
			struct ml_err *e)
{
	size_t per, i;
	char qn[96];
	int j, rc;

	if (w->failed)
		return out_err(w, e, w->failed, "cannot write on after an error");
	if (w->done || b->ncol != w->ncol || w->s->ncol != w->ncol || from > to || to > b->nrow)
		return out_err(w, e, ML_E_INTERNAL, "bad stream write of rows %zu to %zu", from,
			       to);
	/* A code the dictionary lacks would make the stream unreadable: refuse it here. */
	for (j = 0; j < w->ncol; j++) {
		const struct ml_col *c = &w->s->cols[j];
		if (c->type == ML_CAT &&
		    (i = bad_code(b->col[j].cat + from, to - from, c->dict.n)) < to - from)
			return out_err(w, e, ML_E_INTERNAL,
				       "code %d in column '%s' is outside its "
				       "dictionary of %d entries",
				       b->col[j].cat[from + i], quote(qn, 64, c->name), c->dict.n);
	}
	rc = write_dicts(w, e);
	/* Records of about WRITE_RAW bytes, at least one row each. */
	per = w->width ? WRITE_RAW / w->width : MAX_ROWS;
	if (per == 0)
		per = 1;
	if (per > MAX_ROWS)
		per = MAX_ROWS;
	for (i = from; rc == 0 && i < to; i += per) {
		size_t n = to - i < per ? to - i : per;
		rc = write_block(w, b, i, n, e);
		if (rc == 0)
			w->rows += n;
	}
	if (rc < 0)
		w->failed = rc;
	return rc;
}

int ml_stream_out_finish(struct ml_stream_out *w, struct ml_err *e)
{
	unsigned char h[END_FIXED + 4];
	int rc;

	if (w->failed)
		return out_err(w, e, w->failed, "cannot write on after an error");
	if (w->done)
		return out_err(w, e, ML_E_INTERNAL, "stream already finished");
	rc = write_dicts(w, e);
	if (rc == 0) {
		h[0] = TAG_END;
		put64(h + 1, w->rows);
		put32(h + END_FIXED, crc_more(0, h, END_FIXED));
		rc = write_bytes(w, h, sizeof(h), e);
	}
	if (rc == 0 && (fflush(w->fp) != 0 || ferror(w->fp)))
		rc = out_err(w, e, ML_E_IO, "write error: %s", strerror(errno));
	if (rc < 0)
		w->failed = rc;
	else
		w->done = 1;
	return rc;
}

void ml_stream_out_free(struct ml_stream_out *w)
{
	if (!w)
		return;
	if (w->zinit)
		deflateEnd(&w->zs);
	free(w->name);
	free(w->written);
	free(w->buf);
	free(w->swap);
	free(w);
}
