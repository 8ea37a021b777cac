/* ml-model(5): the container for fitted artefacts, its checked loader and the byte buffers. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "ml/io.h"
#include "ml/model.h"
#include "ml/version.h"
#include "model_int.h"

/* The layout is documented byte for byte in man/ml-model.5. */
static const unsigned char model_magic[8] = { 0x89, 'M', 'L', 'M', '\r', '\n', 0x1a, '\n' };

#define HEADER_LEN 16       /* magic, version, flags */
#define TRAILER_LEN 16      /* CRC-32, Adler-32, total length */
#define SECTION_FIXED 22 /* name length, codec, raw length, stored length, CRC-32 */
#define MIN_FILE_LEN (HEADER_LEN + 4 + 4 + TRAILER_LEN)
#define MAX_SECTIONS 1048576
#define MAX_NAME 255
#define CODEC_RAW 0
#define CODEC_ZLIB 1
/* Fast deflate: big forests save several times sooner for a few per cent more bytes. */
#define ZLIB_LEVEL 1
/* Deflate cannot expand more than 1032 to 1 (a 258-byte match in two bits), so a larger
 * stated raw length is a lie, caught before anything is allocated. */
#define ZLIB_MAX_RATIO 1032

struct section {
	unsigned char *raw; /* raw_len bytes (never NULL) */
	size_t raw_len;
	unsigned char *z; /* zlib form when stored compressed, else NULL */
	size_t z_len;
	uint32_t crc; /* CRC-32 of raw */
};

struct ml_model {
	cJSON *meta;
	struct ml_dict names; /* section names: code i names sec[i] */
	struct section *sec;
	int nsec, cap;
	char *name; /* where it was loaded from, for messages; NULL for a new model */
	uint32_t digest[2]; /* the file's CRC-32 and Adler-32, when loaded */
	int loaded;
};

/* Byte buffers. */

static unsigned char *wbuf_room(struct ml_wbuf *b, size_t n)
{
	unsigned char *p;
	size_t cap;

	if (b->err)
		return NULL;
	if (n > SIZE_MAX - b->n) {
		b->err = ML_E_NOMEM;
		return NULL;
	}
	if (b->n + n > b->cap) {
		cap = b->cap ? b->cap : 256;
		while (cap < b->n + n)
			cap = cap > SIZE_MAX / 2 ? b->n + n : cap * 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->err = ML_E_NOMEM;
			return NULL;
		}
		b->p = p;
		b->cap = cap;
	}
	p = b->p + b->n;
	b->n += n;
	return p;
}

static void le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static void le64(unsigned char *p, uint64_t v)
{
	le32(p, (uint32_t)v);
	le32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static uint64_t f64_bits(double v)
{
	uint64_t u;

	memcpy(&u, &v, sizeof(u));
	return u;
}

static double bits_f64(uint64_t u)
{
	double v;

	memcpy(&v, &u, sizeof(v));
	return v;
}

/* Two's complement without implementation-defined conversions. */
static int32_t u32_to_i32(uint32_t v)
{
	if (v <= INT32_MAX)
		return (int32_t)v;
	return -(int32_t)(~v) - 1;
}

void ml_wbuf_init(struct ml_wbuf *b)
{
	b->p = NULL;
	b->n = b->cap = 0;
	b->err = 0;
}

void ml_wbuf_release(struct ml_wbuf *b)
{
	free(b->p);
	ml_wbuf_init(b);
}

void ml_wbuf_put(struct ml_wbuf *b, const void *p, size_t n)
{
	unsigned char *d = wbuf_room(b, n);

	if (d && n)
		memcpy(d, p, n);
}

void ml_wbuf_u8(struct ml_wbuf *b, uint8_t v)
{
	unsigned char *d = wbuf_room(b, 1);

	if (d)
		d[0] = v;
}

void ml_wbuf_u32(struct ml_wbuf *b, uint32_t v)
{
	unsigned char *d = wbuf_room(b, 4);

	if (d)
		le32(d, v);
}

void ml_wbuf_u64(struct ml_wbuf *b, uint64_t v)
{
	unsigned char *d = wbuf_room(b, 8);

	if (d)
		le64(d, v);
}

void ml_wbuf_i32(struct ml_wbuf *b, int32_t v)
{
	ml_wbuf_u32(b, (uint32_t)v);
}

void ml_wbuf_f64(struct ml_wbuf *b, double v)
{
	ml_wbuf_u64(b, f64_bits(v));
}

void ml_wbuf_f64v(struct ml_wbuf *b, const double *v, size_t n)
{
	unsigned char *d;
	size_t i;

	if (n > SIZE_MAX / 8) {
		if (!b->err)
			b->err = ML_E_NOMEM;
		return;
	}
	d = wbuf_room(b, n * 8);
	if (!d)
		return;
	for (i = 0; i < n; i++)
		le64(d + i * 8, f64_bits(v[i]));
}

void ml_wbuf_i32v(struct ml_wbuf *b, const int32_t *v, size_t n)
{
	unsigned char *d;
	size_t i;

	if (n > SIZE_MAX / 4) {
		if (!b->err)
			b->err = ML_E_NOMEM;
		return;
	}
	d = wbuf_room(b, n * 4);
	if (!d)
		return;
	for (i = 0; i < n; i++)
		le32(d + i * 4, (uint32_t)v[i]);
}

void ml_wbuf_str(struct ml_wbuf *b, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n > UINT32_MAX) {
		if (!b->err)
			b->err = ML_E_DATA;
		return;
	}
	ml_wbuf_u32(b, (uint32_t)n);
	ml_wbuf_put(b, s, n);
}

void ml_rbuf_init(struct ml_rbuf *b, const void *p, size_t n)
{
	b->p = p;
	b->n = p ? n : 0;
	b->off = 0;
	b->err = 0;
}

/* The next n bytes, or NULL (err set) when fewer are left or an overrun happened before. */
static const unsigned char *rbuf_take(struct ml_rbuf *b, size_t n)
{
	const unsigned char *p;

	if (b->err)
		return NULL;
	if (n > b->n - b->off) {
		b->err = ML_E_DATA;
		return NULL;
	}
	p = b->p + b->off;
	b->off += n;
	return p;
}

uint8_t ml_rbuf_u8(struct ml_rbuf *b)
{
	const unsigned char *p = rbuf_take(b, 1);

	return p ? p[0] : 0;
}

uint32_t ml_rbuf_u32(struct ml_rbuf *b)
{
	const unsigned char *p = rbuf_take(b, 4);

	return p ? get32(p) : 0;
}

uint64_t ml_rbuf_u64(struct ml_rbuf *b)
{
	const unsigned char *p = rbuf_take(b, 8);

	return p ? get64(p) : 0;
}

int32_t ml_rbuf_i32(struct ml_rbuf *b)
{
	return u32_to_i32(ml_rbuf_u32(b));
}

double ml_rbuf_f64(struct ml_rbuf *b)
{
	const unsigned char *p = rbuf_take(b, 8);

	return p ? bits_f64(get64(p)) : 0.0;
}

void ml_rbuf_f64v(struct ml_rbuf *b, double *v, size_t n)
{
	const unsigned char *p = NULL;
	size_t i;

	if (!b->err && n > (b->n - b->off) / 8)
		b->err = ML_E_DATA;
	else
		p = rbuf_take(b, n * 8);
	for (i = 0; i < n; i++)
		v[i] = p ? bits_f64(get64(p + i * 8)) : 0.0;
}

void ml_rbuf_i32v(struct ml_rbuf *b, int32_t *v, size_t n)
{
	const unsigned char *p = NULL;
	size_t i;

	if (!b->err && n > (b->n - b->off) / 4)
		b->err = ML_E_DATA;
	else
		p = rbuf_take(b, n * 4);
	for (i = 0; i < n; i++)
		v[i] = p ? u32_to_i32(get32(p + i * 4)) : 0;
}

char *ml_rbuf_str(struct ml_rbuf *b)
{
	uint32_t n = ml_rbuf_u32(b);
	const unsigned char *p;
	char *s;

	if (b->err)
		return NULL;
	p = rbuf_take(b, n);
	if (!p)
		return NULL;
	if (n && memchr(p, 0, n)) {
		b->err = ML_E_DATA;
		return NULL;
	}
	s = malloc((size_t)n + 1);
	if (!s) {
		b->err = ML_E_NOMEM;
		return NULL;
	}
	if (n)
		memcpy(s, p, n);
	s[n] = 0;
	return s;
}

size_t ml_rbuf_count(struct ml_rbuf *b, uint64_t n, size_t sz)
{
	if (b->err)
		return 0;
	if (sz == 0)
		sz = 1; /* zero-sized items still cost a loop turn each */
	if (n > (b->n - b->off) / sz) {
		b->err = ML_E_DATA;
		return 0;
	}
	return (size_t)n;
}

/* The model in memory. */

static const char *model_where(const struct ml_model *m)
{
	return m->name ? m->name : "";
}

/* A time as ISO 8601 UTC ("2026-12-06T01:11:56Z"); 0 when it has no such form. */
static int iso_time(time_t t, char *buf, size_t n)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 1970)
		return 0;
	snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return 1;
}

static struct ml_model *model_alloc(void)
{
	struct ml_model *m = calloc(1, sizeof(*m));

	if (m)
		ml_dict_init(&m->names);
	return m;
}

struct ml_model *ml_model_new(const char *kind, const char *algorithm)
{
	struct ml_model *m = model_alloc();
	char when[64];
	cJSON *j;

	if (!m)
		return NULL;
	m->meta = j = cJSON_CreateObject();
	if (!iso_time(time(NULL), when, sizeof(when)))
		snprintf(when, sizeof(when), "1970-01-01T00:00:00Z");
	if (!j || !cJSON_AddStringToObject(j, "format", "ml-model") ||
	    !cJSON_AddNumberToObject(j, "version", ML_MODEL_VERSION) ||
	    !cJSON_AddStringToObject(j, "kind", kind ? kind : "") ||
	    (algorithm && !cJSON_AddStringToObject(j, "algorithm", algorithm)) ||
	    !cJSON_AddStringToObject(j, "tool", "mlpipe " ML_VERSION) ||
	    !cJSON_AddStringToObject(j, "created", when)) {
		ml_model_free(m);
		return NULL;
	}
	return m;
}

void ml_model_free(struct ml_model *m)
{
	int i;

	if (!m)
		return;
	for (i = 0; i < m->nsec; i++) {
		free(m->sec[i].raw);
		free(m->sec[i].z);
	}
	free(m->sec);
	ml_dict_release(&m->names);
	cJSON_Delete(m->meta);
	free(m->name);
	free(m);
}

/* Parse s[0, n) as cJSON does. cJSON fails alike on bad text and on a failed allocation: a
 * failure is parsed again (an allocation that failed once may not fail twice), and when that
 * fails too, a small valid value parsed alone decides. Sets *nomem when memory ran out. */
static cJSON *json_parse(const char *s, size_t n, const char **end, int trailing, int *nomem)
{
	cJSON *v = cJSON_ParseWithLengthOpts(s, n, end, trailing);
	cJSON *probe;

	*nomem = 0;
	if (v || (v = cJSON_ParseWithLengthOpts(s, n, end, trailing)))
		return v;
	if (!(probe = cJSON_Parse("0")))
		*nomem = 1;
	cJSON_Delete(probe);
	return NULL;
}

static const char *meta_string(const cJSON *meta, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(meta, key);

	return cJSON_IsString(v) && v->valuestring ? v->valuestring : "";
}

const char *ml_model_kind(const struct ml_model *m)
{
	return meta_string(m->meta, "kind");
}

const char *ml_model_algorithm(const struct ml_model *m)
{
	return meta_string(m->meta, "algorithm");
}

cJSON *ml_model_meta(struct ml_model *m)
{
	return m->meta;
}

void ml_json_add(int *bad, cJSON *o, const char *key, cJSON *item)
{
	if (!o || !item || !(key ? cJSON_AddItemToObject(o, key, item) : cJSON_AddItemToArray(o, item))) {
		cJSON_Delete(item);
		*bad = 1;
	}
}

void ml_json_num(int *bad, cJSON *o, const char *key, double v)
{
	ml_json_add(bad, o, key, cJSON_CreateNumber(v));
}

void ml_json_str(int *bad, cJSON *o, const char *key, const char *v)
{
	ml_json_add(bad, o, key, cJSON_CreateString(v));
}

/* Put v under key in o, replacing the item there or adding it; v is o's or freed. Returns
 * 0, or -1 when out of memory (cJSON's replacement then leaves the item without its key,
 * in an object that must not be saved). */
static int meta_put(cJSON *o, const char *key, cJSON *v)
{
	if (cJSON_GetObjectItemCaseSensitive(o, key)) {
		if (!cJSON_ReplaceItemInObjectCaseSensitive(o, key, v)) {
			cJSON_Delete(v);
			return -1;
		}
		return v->string ? 0 : -1;
	}
	if (!cJSON_AddItemToObject(o, key, v)) {
		cJSON_Delete(v);
		return -1;
	}
	return 0;
}

int ml_model_set_created(struct ml_model *m, long long t, struct ml_err *e)
{
	char when[64];
	cJSON *v;

	if (t < 0 || (long long)(time_t)t != t || !iso_time((time_t)t, when, sizeof(when)))
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "creation time %lld is not between 1970 and 9999", t);
	if (!(v = cJSON_CreateString(when)) || meta_put(m->meta, "created", v) < 0)
		return ml_err_nomem(e);
	return 0;
}

int ml_model_meta_set(struct ml_model *m, const char *key, const char *json, struct ml_err *e)
{
	static const char *const own[] = {"format", "version", "kind", "algorithm", "tool",
					  "created", NULL};
	const char *end;
	cJSON *v;
	int i, nomem;

	for (i = 0; own[i]; i++)
		if (strcmp(key, own[i]) == 0)
			return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
					  "metadata key '%s' belongs to the container", key);
	v = json_parse(json, strlen(json) + 1, &end, 1, &nomem);
	if (!v) {
		if (nomem)
			return ml_err_nomem(e);
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "metadata value for '%s' is not one JSON value", key);
	}
	if (meta_put(m->meta, key, v) < 0)
		return ml_err_nomem(e);
	return 0;
}

int ml_model_meta_text(const struct ml_model *m, const char *key, char **out, struct ml_err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(m->meta, key);

	*out = v ? cJSON_PrintUnformatted(v) : NULL;
	return v && !*out ? ml_err_nomem(e) : 0;
}

char *ml_model_meta_get(const struct ml_model *m, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(m->meta, key);

	return v ? cJSON_PrintUnformatted(v) : NULL;
}

char *ml_model_meta_json(const struct ml_model *m)
{
	return cJSON_PrintUnformatted(m->meta);
}

int ml_model_digest(const struct ml_model *m, char out[ML_MODEL_DIGEST_HEX + 1],
		    struct ml_err *e)
{
	uint32_t crc = m->digest[0], adler = m->digest[1];

	if (!m->loaded) {
		unsigned char *buf;
		size_t len;
		int rc = ml_model_to_mem(m, &buf, &len, e);
		if (rc < 0)
			return rc;
		crc = get32(buf + len - 16);
		adler = get32(buf + len - 12);
		free(buf);
	}
	snprintf(out, ML_MODEL_DIGEST_HEX + 1, "%08lx%08lx", (unsigned long)crc,
		 (unsigned long)adler);
	return 0;
}

const cJSON *ml_model_meta_const(const struct ml_model *m)
{
	return m->meta;
}

int ml_model_nsections(const struct ml_model *m)
{
	return m->nsec;
}

const char *ml_model_section_name(const struct ml_model *m, int i)
{
	if (i < 0 || i >= m->nsec)
		return NULL;
	return m->names.str[i];
}

/* Append a section, taking ownership of raw and z (freed here on failure). name_len is
 * already checked; a duplicate name returns 1 (the caller words the error). */
static int push_section(struct ml_model *m, const char *name, size_t name_len,
			unsigned char *raw, size_t raw_len, unsigned char *z, size_t z_len,
			uint32_t crc)
{
	int32_t code;

	if (ml_dict_find(&m->names, name, name_len) >= 0) {
		free(raw);
		free(z);
		return 1;
	}
	if (m->nsec == m->cap) {
		int cap = m->cap ? m->cap * 2 : 8;
		struct section *s = realloc(m->sec, (size_t)cap * sizeof(*s));

		if (!s) {
			free(raw);
			free(z);
			return ML_E_NOMEM;
		}
		m->sec = s;
		m->cap = cap;
	}
	code = ml_dict_intern(&m->names, name, name_len);
	if (code != m->nsec) {
		free(raw);
		free(z);
		return code < 0 ? code : ML_E_INTERNAL;
	}
	m->sec[m->nsec].raw = raw;
	m->sec[m->nsec].raw_len = raw_len;
	m->sec[m->nsec].z = z;
	m->sec[m->nsec].z_len = z_len;
	m->sec[m->nsec].crc = crc;
	m->nsec++;
	return 0;
}

static uint32_t crc_of(const void *p, size_t n)
{
	return (uint32_t)crc32_z(crc32_z(0, Z_NULL, 0), p, n);
}

static uint32_t adler_of(const void *p, size_t n)
{
	return (uint32_t)adler32_z(adler32_z(0, Z_NULL, 0), p, n);
}

int ml_model_add(struct ml_model *m, const char *name, const void *data, size_t len,
		 struct ml_err *e)
{
	size_t nl = name ? strlen(name) : 0;
	unsigned char *raw, *z = NULL;
	size_t z_len = 0;
	char q[80];
	int rc, zr;

	if (nl < 1 || nl > MAX_NAME)
		return ml_err_set(e, ML_E_USAGE, model_where(m), 0, 0,
				  "section name must be 1 to %d bytes long (got %zu)", MAX_NAME,
				  nl);
	ml_err_quote(q, sizeof(q), name, nl);
	if (m->nsec >= MAX_SECTIONS)
		return ml_err_set(e, ML_E_USAGE, model_where(m), 0, 0,
				  "cannot add section '%s': a model holds at most %d sections", q,
				  MAX_SECTIONS);
	if (ml_dict_find(&m->names, name, nl) >= 0)
		return ml_err_set(e, ML_E_USAGE, model_where(m), 0, 0,
				  "the model already has a section named '%s'", q);
	raw = malloc(len ? len : 1);
	if (!raw)
		return ml_err_nomem(e);
	if (len)
		memcpy(raw, data, len);
	if (len) {
		uLong bound = compressBound((uLong)len);
		uLongf zl = bound;

		z = malloc(bound);
		if (!z) {
			free(raw);
			return ml_err_nomem(e);
		}
		zr = compress2(z, &zl, raw, (uLong)len, ZLIB_LEVEL);
		if (zr == Z_MEM_ERROR) {
			/* stored raw it would be another file: the same input always gives
			 * the same bytes */
			free(z);
			free(raw);
			return ml_err_nomem(e);
		}
		if (zr == Z_OK && zl < len) {
			unsigned char *t = realloc(z, zl);

			if (t)
				z = t;
			z_len = zl;
		} else {
			free(z);
			z = NULL;
		}
	}
	rc = push_section(m, name, nl, raw, len, z, z_len, crc_of(raw, len));
	if (rc == ML_E_NOMEM)
		return ml_err_nomem(e);
	if (rc)
		return ml_err_set(e, ML_E_INTERNAL, model_where(m), 0, 0,
				  "cannot add section '%s'", q);
	return 0;
}

int ml_model_get(const struct ml_model *m, const char *name, const void **data, size_t *len,
		 struct ml_err *e)
{
	size_t nl = name ? strlen(name) : 0;
	int32_t i = ml_dict_find(&m->names, name ? name : "", nl);
	char q[80];

	if (i < 0) {
		ml_err_quote(q, sizeof(q), name ? name : "", nl);
		return ml_err_set(e, ML_E_DATA, model_where(m), 0, 0,
				  "the model has no section named '%s'", q);
	}
	*data = m->sec[i].raw;
	*len = m->sec[i].raw_len;
	return 0;
}

int ml_model_add_member(struct ml_model *m, const char *name, const struct ml_model *child,
			struct ml_err *e)
{
	unsigned char *buf;
	size_t len;
	int rc = ml_model_to_mem(child, &buf, &len, e);

	if (rc)
		return rc;
	rc = ml_model_add(m, name, buf, len, e);
	free(buf);
	return rc;
}

struct ml_model *ml_model_get_member(const struct ml_model *m, const char *name,
				     struct ml_err *e)
{
	const void *data;
	size_t len;
	struct ml_err sub;
	struct ml_model *c;
	char *cname;
	size_t n1, n2;
	char q[80];

	if (ml_model_get(m, name, &data, &len, e))
		return NULL;
	/* The member is called PARENT/SECTION in its own messages. */
	n1 = m->name ? strlen(m->name) : 0;
	n2 = strlen(name);
	cname = malloc(n1 + n2 + 2);
	if (!cname) {
		ml_err_nomem(e);
		return NULL;
	}
	if (n1) {
		memcpy(cname, m->name, n1);
		cname[n1++] = '/';
	}
	memcpy(cname + n1, name, n2 + 1);
	ml_err_init(&sub);
	c = ml_model_from_mem(data, len, cname, &sub);
	free(cname);
	if (!c) {
		if (sub.code == ML_E_NOMEM)
			ml_err_nomem(e);
		else
			ml_err_set(e, sub.code, model_where(m), 0, 0, "member '%s': %s",
				   ml_err_quote(q, sizeof(q), name, n2), sub.msg);
	}
	return c;
}

/* Serialising. */

int ml_model_to_mem(const struct ml_model *m, unsigned char **buf, size_t *len,
		    struct ml_err *e)
{
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(m->meta, "kind");
	struct ml_wbuf b;
	char *js;
	size_t jl, total, i;

	*buf = NULL;
	*len = 0;
	if (!cJSON_IsObject(m->meta) || !cJSON_IsString(kind) || !kind->valuestring)
		return ml_err_set(e, ML_E_INTERNAL, model_where(m), 0, 0,
				  "model metadata must be an object with a string 'kind'");
	js = cJSON_PrintUnformatted(m->meta);
	if (!js)
		return ml_err_nomem(e);
	jl = strlen(js);
	if (jl > UINT32_MAX) {
		free(js);
		return ml_err_set(e, ML_E_INTERNAL, model_where(m), 0, 0,
				  "model metadata is larger than 4 GiB");
	}
	/* Size everything first so the buffer is allocated once. */
	total = HEADER_LEN + 4 + jl + 4 + TRAILER_LEN;
	for (i = 0; i < (size_t)m->nsec; i++) {
		const struct section *s = &m->sec[i];
		size_t add = SECTION_FIXED + m->names.len[i] + (s->z ? s->z_len : s->raw_len);

		if (add > SIZE_MAX - total) {
			free(js);
			return ml_err_nomem(e);
		}
		total += add;
	}
	ml_wbuf_init(&b);
	b.p = malloc(total);
	if (!b.p) {
		free(js);
		return ml_err_nomem(e);
	}
	b.cap = total;
	ml_wbuf_put(&b, model_magic, sizeof(model_magic));
	ml_wbuf_u32(&b, ML_MODEL_VERSION);
	ml_wbuf_u32(&b, 0);
	ml_wbuf_u32(&b, (uint32_t)jl);
	ml_wbuf_put(&b, js, jl);
	free(js);
	ml_wbuf_u32(&b, (uint32_t)m->nsec);
	for (i = 0; i < (size_t)m->nsec; i++) {
		const struct section *s = &m->sec[i];

		ml_wbuf_u8(&b, (uint8_t)m->names.len[i]);
		ml_wbuf_put(&b, m->names.str[i], m->names.len[i]);
		ml_wbuf_u8(&b, s->z ? CODEC_ZLIB : CODEC_RAW);
		ml_wbuf_u64(&b, s->raw_len);
		ml_wbuf_u64(&b, s->z ? s->z_len : s->raw_len);
		ml_wbuf_u32(&b, s->crc);
		if (s->z)
			ml_wbuf_put(&b, s->z, s->z_len);
		else
			ml_wbuf_put(&b, s->raw, s->raw_len);
	}
	if (!b.err && b.n == total - TRAILER_LEN) {
		uint32_t crc = crc_of(b.p, b.n), adler = adler_of(b.p, b.n);

		ml_wbuf_u32(&b, crc);
		ml_wbuf_u32(&b, adler);
		ml_wbuf_u64(&b, total);
	}
	if (b.err || b.n != total) {
		ml_wbuf_release(&b);
		return ml_err_set(e, ML_E_INTERNAL, model_where(m), 0, 0,
				  "model size miscounted");
	}
	*buf = b.p;
	*len = b.n;
	return 0;
}

int ml_model_save(const struct ml_model *m, const char *path, struct ml_err *e)
{
	unsigned char *buf;
	size_t len;
	int rc = ml_model_to_mem(m, &buf, &len, e);

	if (rc)
		return rc;
	rc = ml_write_atomic(path, buf, len, e);
	free(buf);
	return rc;
}

/* Loading. */

/* Say what the first bytes are, when they are not the magic. */
static int bad_magic(const unsigned char *p, size_t n, const char *name, struct ml_err *e)
{
	char q[128];
	size_t k;

	if (n == 0)
		return ml_err_set(e, ML_E_DATA, name, 0, 0, "not an ml-model file (it is empty)");
	/* ml-stream(5) starts "\x89MLS"; ml_stream_sniff is looser (any 0x89) on purpose. */
	if (n >= 4 && memcmp(p, "\x89MLS", 4) == 0)
		return ml_err_set(e, ML_E_DATA, name, 0, 0, "is an ml-stream, not a model");
	if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b)
		return ml_err_set(e, ML_E_DATA, name, 0, 0,
				  "not an ml-model file (gzip data; load it from a file)");
	if (n >= 4 && memcmp(p + 1, "MLM", 3) == 0)
		return ml_err_set(e, ML_E_DATA, name, 0, 0,
				  "damaged ml-model header: its first 8 bytes were altered "
				  "(was it transferred in text mode?)");
	if ((p[0] >= 0x20 && p[0] < 0x7f) || p[0] == '\t' || p[0] >= 0xc2) {
		for (k = 0; k < n && k < 40 && p[k] != '\n' && p[k] != '\r'; k++)
			;
		ml_err_quote(q, 64, (const char *)p, k);
		return ml_err_set(e, ML_E_DATA, name, 0, 0,
				  "not an ml-model file (starts with '%s')", q);
	}
	q[0] = 0;
	for (k = 0; k < n && k < 8; k++)
		snprintf(q + strlen(q), sizeof(q) - strlen(q), "%s%02x", k ? " " : "", p[k]);
	return ml_err_set(e, ML_E_DATA, name, 0, 0, "not an ml-model file (starts with bytes %s)",
			  q);
}

static int truncated(struct ml_err *e, const char *name, const char *what)
{
	return ml_err_set(e, ML_E_DATA, name, 0, 0, "truncated (in %s)", what);
}

/* Parse and check the metadata bytes. */
static int load_meta(struct ml_model *m, const unsigned char *p, size_t n, const char *name,
		     struct ml_err *e)
{
	char *s = malloc(n + 1);
	const char *end = NULL;
	const cJSON *kind;
	int nomem;

	if (!s)
		return ml_err_nomem(e);
	memcpy(s, p, n);
	s[n] = 0;
	m->meta = json_parse(s, n, &end, 0, &nomem);
	if (!m->meta) {
		size_t at = end && end >= s && end <= s + n ? (size_t)(end - s) : 0;

		if (nomem) {
			free(s);
			return ml_err_nomem(e);
		}
		free(s);
		return ml_err_set(e, ML_E_DATA, name, 0, 0,
				  "metadata is not valid JSON (error at byte %zu of %zu)", at, n);
	}
	while (end < s + n && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
		end++;
	if (end != s + n) {
		free(s);
		return ml_err_set(e, ML_E_DATA, name, 0, 0,
				  "metadata has trailing data after its JSON value");
	}
	free(s);
	if (!cJSON_IsObject(m->meta))
		return ml_err_set(e, ML_E_DATA, name, 0, 0, "metadata is not a JSON object");
	kind = cJSON_GetObjectItemCaseSensitive(m->meta, "kind");
	if (!cJSON_IsString(kind) || !kind->valuestring)
		return ml_err_set(e, ML_E_DATA, name, 0, 0, "metadata has no string 'kind'");
	return 0;
}

/* Read one section at b and append it to m. */
static int load_section(struct ml_model *m, struct ml_rbuf *b, uint32_t idx, const char *name,
			struct ml_err *e)
{
	unsigned nl = ml_rbuf_u8(b);
	const unsigned char *nm = NULL, *stored;
	unsigned codec;
	uint64_t raw_len, st_len;
	uint32_t crc;
	unsigned char *raw, *z = NULL;
	char q[80];
	int rc;

	if (!b->err && nl > 0 && nl <= b->n - b->off) {
		nm = b->p + b->off;
		b->off += nl;
	} else if (!b->err && nl > 0) {
		b->err = ML_E_DATA;
	}
	codec = ml_rbuf_u8(b);
	raw_len = ml_rbuf_u64(b);
	st_len = ml_rbuf_u64(b);
	crc = ml_rbuf_u32(b);
	if (b->err)
		return truncated(e, name, "a section header");
	if (nl == 0)
		return ml_err_set(e, ML_E_DATA, name, 0, 0, "section %u has an empty name",
				  (unsigned)idx + 1);
	if (memchr(nm, 0, nl))
		return ml_err_set(e, ML_E_DATA, name, 0, 0,
				  "section %u has a NUL byte in its name", (unsigned)idx + 1);
	ml_err_quote(q, sizeof(q), (const char *)nm, nl);
	if (st_len > b->n - b->off)
		return ml_err_set(e, ML_E_DATA, name, 0, 0, "truncated (in section '%s')", q);
	stored = b->p + b->off;
	b->off += (size_t)st_len;
	if (codec == CODEC_RAW) {
		if (raw_len != st_len)
			return ml_err_set(e, ML_E_DATA, name, 0, 0,
					  "section '%s' is corrupted (raw length %llu but %llu "
					  "bytes stored without compression)",
					  q, (unsigned long long)raw_len,
					  (unsigned long long)st_len);
	} else if (codec == CODEC_ZLIB) {
		if (raw_len / ZLIB_MAX_RATIO > st_len || raw_len > SIZE_MAX - 1 ||
		    (uLong)raw_len != raw_len || (uLong)st_len != st_len)
			return ml_err_set(e, ML_E_DATA, name, 0, 0,
					  "section '%s' is corrupted (%llu bytes cannot inflate "
					  "to %llu)",
					  q, (unsigned long long)st_len,
					  (unsigned long long)raw_len);
	} else {
		return ml_err_set(e, ML_E_DATA, name, 0, 0,
				  "section '%s' uses unknown codec %u (written by a newer mlpipe?)",
				  q, codec);
	}
	if (ml_dict_find(&m->names, (const char *)nm, nl) >= 0)
		return ml_err_set(e, ML_E_DATA, name, 0, 0, "duplicate section '%s'", q);
	raw = malloc(raw_len ? (size_t)raw_len : 1);
	if (!raw)
		return ml_err_nomem(e);
	if (codec == CODEC_RAW) {
		if (raw_len)
			memcpy(raw, stored, (size_t)raw_len);
	} else {
		uLongf dl = (uLongf)raw_len;
		uLong sl = (uLong)st_len;
		int zr = uncompress2(raw, &dl, stored, &sl);

		if (zr == Z_MEM_ERROR) {
			free(raw);
			return ml_err_nomem(e);
		}
		if (zr != Z_OK || sl != st_len || dl != raw_len) {
			free(raw);
			return ml_err_set(e, ML_E_DATA, name, 0, 0,
					  "section '%s' is corrupted (%s)", q,
					  zr != Z_OK ? "bad zlib data" :
					  sl != st_len ? "data after the zlib stream" :
							 "inflates to fewer bytes than stated");
		}
		z = malloc((size_t)st_len);
		if (!z) {
			free(raw);
			return ml_err_nomem(e);
		}
		memcpy(z, stored, (size_t)st_len);
	}
	if (crc_of(raw, (size_t)raw_len) != crc) {
		free(raw);
		free(z);
		return ml_err_set(e, ML_E_DATA, name, 0, 0,
				  "section '%s' is corrupted (CRC-32 mismatch)", q);
	}
	rc = push_section(m, (const char *)nm, nl, raw, (size_t)raw_len, z,
			  z ? (size_t)st_len : 0, crc);
	if (rc == ML_E_NOMEM)
		return ml_err_nomem(e);
	if (rc)
		return ml_err_set(e, ML_E_DATA, name, 0, 0, "duplicate section '%s'", q);
	return 0;
}

static int load_body(struct ml_model *m, const unsigned char *buf, size_t len,
		     const char *name, struct ml_err *e)
{
	struct ml_rbuf b;
	uint32_t version, flags, meta_len, nsec, i;
	uint64_t total;
	int digest_checked = 0, rc;

	if (len == 0 || memcmp(buf, model_magic, len < 8 ? len : 8) != 0)
		return bad_magic(buf, len, name, e);
	if (len < HEADER_LEN)
		return truncated(e, name, "the header");
	version = get32(buf + 8);
	if (version > ML_MODEL_VERSION)
		return ml_err_set(e, ML_E_DATA, name, 0, 0,
				  "written by a newer mlpipe (format version %lu; this reads up to "
				  "%d)",
				  (unsigned long)version, ML_MODEL_VERSION);
	if (version == 0)
		return ml_err_set(e, ML_E_DATA, name, 0, 0, "bad format version 0");
	/* When the trailer's length agrees with what we have, the digest settles whether
	 * the bytes are as written before any of them is interpreted. Otherwise parse:
	 * that tells a truncated file from a damaged trailer. */
	if (len >= MIN_FILE_LEN) {
		total = get64(buf + len - 8);
		if (total == len) {
			if (get32(buf + len - 16) != crc_of(buf, len - 16) ||
			    get32(buf + len - 12) != adler_of(buf, len - 16))
				return ml_err_set(e, ML_E_DATA, name, 0, 0,
						  "corrupted (checksum mismatch)");
			digest_checked = 1;
			m->digest[0] = get32(buf + len - 16);
			m->digest[1] = get32(buf + len - 12);
			m->loaded = 1;
		}
	}
	flags = get32(buf + 12);
	if (flags)
		return ml_err_set(e, ML_E_DATA, name, 0, 0,
				  "unknown flags 0x%08lx (written by a newer mlpipe?)",
				  (unsigned long)flags);
	ml_rbuf_init(&b, buf, len);
	b.off = HEADER_LEN;
	meta_len = ml_rbuf_u32(&b);
	if (b.err || meta_len > b.n - b.off)
		return truncated(e, name, "the metadata");
	rc = load_meta(m, b.p + b.off, meta_len, name, e);
	if (rc)
		return rc;
	b.off += meta_len;
	nsec = ml_rbuf_u32(&b);
	if (b.err)
		return truncated(e, name, "the section count");
	if (nsec > MAX_SECTIONS)
		return ml_err_set(e, ML_E_DATA, name, 0, 0,
				  "too many sections (%lu; the limit is %d)", (unsigned long)nsec,
				  MAX_SECTIONS);
	if (nsec > (b.n - b.off) / (SECTION_FIXED + 1))
		return truncated(e, name, "the sections");
	for (i = 0; i < nsec; i++) {
		rc = load_section(m, &b, i, name, e);
		if (rc)
			return rc;
	}
	if (b.n - b.off < TRAILER_LEN)
		return truncated(e, name, "the trailer");
	if (b.n - b.off > TRAILER_LEN)
		return ml_err_set(e, ML_E_DATA, name, 0, 0,
				  "corrupted (%zu unexpected bytes after the last section)",
				  b.n - b.off - TRAILER_LEN);
	if (!digest_checked)
		return ml_err_set(e, ML_E_DATA, name, 0, 0,
				  "corrupted (the trailer gives a length of %llu, the file has "
				  "%zu bytes)",
				  (unsigned long long)get64(buf + len - 8), len);
	return 0;
}

struct ml_model *ml_model_from_mem(const unsigned char *buf, size_t len, const char *name,
				   struct ml_err *e)
{
	struct ml_model *m;
	const char *where = name ? name : "";

	if (!buf)
		len = 0;
	m = model_alloc();
	if (!m) {
		ml_err_nomem(e);
		return NULL;
	}
	if (load_body(m, buf ? buf : (const unsigned char *)"", len, where, e)) {
		ml_model_free(m);
		return NULL;
	}
	if (name && !(m->name = strdup(name))) {
		ml_model_free(m);
		ml_err_nomem(e);
		return NULL;
	}
	return m;
}

struct ml_model *ml_model_load(const char *path, struct ml_err *e)
{
	unsigned char *buf;
	size_t len;
	struct ml_model *m;
	const char *name = !path || !strcmp(path, "-") ? "<stdin>" : path;

	if (ml_read_all(path, &buf, &len, e))
		return NULL;
	m = ml_model_from_mem(buf, len, name, e);
	free(buf);
	return m;
}

struct ml_model *ml_model_load_kind(const char *path, const char *kind, struct ml_err *e)
{
	struct ml_model *m = ml_model_load(path, e);
	char q1[80], q2[80];

	if (m && kind && strcmp(ml_model_kind(m), kind) != 0) {
		const char *k = ml_model_kind(m);

		ml_err_set(e, ML_E_DATA, model_where(m), 0, 0, "is a '%s' artefact, not a '%s'",
			   ml_err_quote(q1, sizeof(q1), k, strlen(k)),
			   ml_err_quote(q2, sizeof(q2), kind, strlen(kind)));
		ml_model_free(m);
		return NULL;
	}
	return m;
}

/* Schemas as JSON. */

cJSON *ml_schema_to_json(const struct ml_schema *s)
{
	cJSON *arr = cJSON_CreateArray();
	int j;
	int32_t k;

	if (!arr)
		return NULL;
	for (j = 0; j < s->ncol; j++) {
		const struct ml_col *c = &s->cols[j];
		cJSON *o = cJSON_CreateObject(), *lv;

		if (!o || !cJSON_AddItemToArray(arr, o) ||
		    !cJSON_AddStringToObject(o, "name", c->name) ||
		    !cJSON_AddStringToObject(o, "type", c->type == ML_CAT ? "cat" : "num"))
			goto fail;
		if (c->type != ML_CAT)
			continue;
		lv = cJSON_AddArrayToObject(o, "levels");
		if (!lv)
			goto fail;
		for (k = 0; k < c->dict.n; k++) {
			cJSON *str = cJSON_CreateString(c->dict.str[k]);

			if (!str || !cJSON_AddItemToArray(lv, str)) {
				cJSON_Delete(str);
				goto fail;
			}
		}
	}
	return arr;
fail:
	cJSON_Delete(arr);
	return NULL;
}

static int schema_col_from_json(struct ml_schema *s, struct ml_dict *seen, const cJSON *o,
				int j, struct ml_err *e)
{
	const cJSON *nm, *ty, *lv, *x;
	enum ml_type type;
	char q[80], q2[80];
	int32_t code, n;
	int col;

	if (!cJSON_IsObject(o))
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "schema column %d is not an object",
				  j + 1);
	nm = cJSON_GetObjectItemCaseSensitive(o, "name");
	if (!cJSON_IsString(nm) || !nm->valuestring || !*nm->valuestring)
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				  "schema column %d has no name (a non-empty string)", j + 1);
	ml_err_quote(q, sizeof(q), nm->valuestring, strlen(nm->valuestring));
	ty = cJSON_GetObjectItemCaseSensitive(o, "type");
	if (cJSON_IsString(ty) && ty->valuestring && !strcmp(ty->valuestring, "num"))
		type = ML_NUM;
	else if (cJSON_IsString(ty) && ty->valuestring && !strcmp(ty->valuestring, "cat"))
		type = ML_CAT;
	else
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				  "schema column '%s' has no type 'num' or 'cat'", q);
	code = ml_dict_intern(seen, nm->valuestring, strlen(nm->valuestring));
	if (code == ML_E_NOMEM)
		return ml_err_nomem(e);
	if (code < 0 || code != j)
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "schema has column '%s' twice", q);
	lv = cJSON_GetObjectItemCaseSensitive(o, "levels");
	if (type == ML_NUM && lv)
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				  "schema column '%s' is numeric but has levels", q);
	if (type == ML_CAT && !cJSON_IsArray(lv))
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				  "schema column '%s' has no 'levels' array", q);
	col = ml_schema_add(s, nm->valuestring, type);
	if (col < 0)
		return col == ML_E_NOMEM ? ml_err_nomem(e) :
					   ml_err_set(e, col, NULL, 0, 0,
						      "cannot add schema column '%s'", q);
	if (type != ML_CAT)
		return 0;
	n = 0;
	cJSON_ArrayForEach(x, lv)
	{
		struct ml_dict *d = &s->cols[col].dict;

		if (!cJSON_IsString(x) || !x->valuestring)
			return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
					  "schema column '%s': level %ld is not a string", q,
					  (long)n + 1);
		code = ml_dict_intern(d, x->valuestring, strlen(x->valuestring));
		if (code == ML_E_NOMEM)
			return ml_err_nomem(e);
		if (code < 0)
			return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
					  "schema column '%s' has too many levels", q);
		if (code != n)
			return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
					  "schema column '%s' has level '%s' twice", q,
					  ml_err_quote(q2, sizeof(q2), x->valuestring,
						       strlen(x->valuestring)));
		n++;
	}
	return 0;
}

int ml_schema_from_json(struct ml_schema *s, const cJSON *j, struct ml_err *e)
{
	struct ml_dict seen; /* names so far: checking duplicates stays linear */
	const cJSON *o;
	int rc = 0, i = 0;

	if (!cJSON_IsArray(j))
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "schema is not a JSON array");
	ml_dict_init(&seen);
	cJSON_ArrayForEach(o, j)
	{
		if (i == INT_MAX) {
			rc = ml_err_set(e, ML_E_DATA, NULL, 0, 0, "schema has too many columns");
			break;
		}
		rc = schema_col_from_json(s, &seen, o, i, e);
		if (rc)
			break;
		i++;
	}
	ml_dict_release(&seen);
	if (rc) {
		ml_schema_release(s);
		ml_schema_init(s);
	}
	return rc;
}
