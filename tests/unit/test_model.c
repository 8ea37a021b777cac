/* Unit tests for the ml-model(5) container: round trips, nesting, schemas, reproducible
 * bytes, and a loader that rejects every truncation and every single-bit flip. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "ml/ml.h"
#include "core/model_int.h"
#include "unit.h"

/* Byte offsets in the layout man/ml-model.5 documents. */
#define OFF_VERSION 8
#define OFF_FLAGS 12
#define OFF_META_LEN 16

static uint64_t rng_state = 88172645463325252ULL;

static uint64_t xorshift(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

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

/* Rewrite the trailer so that only the structural checks can object. */
static void fix_digest(unsigned char *buf, size_t len)
{
	put32(buf + len - 16, (uint32_t)crc32_z(crc32(0, Z_NULL, 0), buf, len - 16));
	put32(buf + len - 12, (uint32_t)adler32_z(adler32(0, Z_NULL, 0), buf, len - 16));
	put64(buf + len - 8, len);
}

/* Load from an exact-size heap copy, so ASan sees any read past the end. */
static struct ml_model *load_copy(const unsigned char *buf, size_t len, struct ml_err *e)
{
	unsigned char *c = malloc(len ? len : 1);
	struct ml_model *m;

	if (len)
		memcpy(c, buf, len);
	ml_err_init(e);
	m = ml_model_from_mem(c, len, "t.mlm", e);
	free(c);
	return m;
}

static int loads_with(const unsigned char *buf, size_t len, const char *msg)
{
	struct ml_err e;
	struct ml_model *m = load_copy(buf, len, &e);

	if (m) {
		ml_model_free(m);
		fprintf(stderr, "loaded, expected '%s'\n", msg);
		return 0;
	}
	if (e.code != ML_E_DATA || strcmp(e.where, "t.mlm") != 0 || strcmp(e.msg, msg) != 0) {
		fprintf(stderr, "got %d '%s: %s', expected '%s'\n", e.code, e.where, e.msg, msg);
		return 0;
	}
	return 1;
}

static struct ml_model *small_model(void)
{
	struct ml_model *m = ml_model_new("model", "linear");
	double coef[3] = { 1.5, -2.25, 0.0 };

	if (!m)
		return NULL;
	cJSON_AddNumberToObject(ml_model_meta(m), "seed", 7);
	if (ml_model_add(m, "coef", coef, sizeof(coef), NULL) ||
	    ml_model_add(m, "note", "hello, world", 12, NULL) ||
	    ml_model_add(m, "zeros", "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 24,
			 NULL)) {
		ml_model_free(m);
		return NULL;
	}
	return m;
}

static void test_roundtrip(void)
{
	struct ml_model *m = ml_model_new("model", "gbdt"), *r;
	size_t big_n = 1 << 20, i, len, len2;
	unsigned char *big = malloc(big_n), *rnd = malloc(big_n), *buf, *buf2;
	const void *d;
	size_t n;
	struct ml_err e;
	const cJSON *meta;

	CHECK(m && big && rnd);
	for (i = 0; i < big_n; i++) {
		big[i] = (unsigned char)("abcdefgh"[i % 8] + (i / 4096) % 3);
		rnd[i] = (unsigned char)xorshift();
	}
	cJSON_AddNumberToObject(ml_model_meta(m), "rounds", 300);
	ml_err_init(&e);
	CHECK(ml_model_add(m, "empty", "", 0, &e) == 0);
	CHECK(ml_model_add(m, "small", "hello", 5, &e) == 0);
	CHECK(ml_model_add(m, "compressible", big, big_n, &e) == 0);
	CHECK(ml_model_add(m, "random", rnd, big_n, &e) == 0);
	CHECK(ml_model_add(m, "small", "again", 5, &e) == ML_E_USAGE);
	CHECK(strstr(e.msg, "already has a section named 'small'") != NULL);
	CHECK(ml_model_add(m, "", "x", 1, &e) == ML_E_USAGE);
	CHECK(ml_model_nsections(m) == 4);
	CHECK(ml_model_to_mem(m, &buf, &len, &e) == 0);
	/* The compressible megabyte is stored compressed, the random one as it is. */
	CHECK(len > big_n && len < big_n + 64 * 1024);

	r = ml_model_from_mem(buf, len, "x.mlm", &e);
	CHECK(r != NULL);
	if (r) {
		CHECK(!strcmp(ml_model_kind(r), "model"));
		CHECK(!strcmp(ml_model_algorithm(r), "gbdt"));
		meta = ml_model_meta_const(r);
		CHECK(!strcmp(cJSON_GetObjectItem(meta, "format")->valuestring, "ml-model"));
		CHECK(cJSON_GetObjectItem(meta, "version")->valuedouble == 1);
		CHECK(!strcmp(cJSON_GetObjectItem(meta, "tool")->valuestring,
			      "mlpipe " ML_VERSION));
		CHECK(cJSON_GetObjectItem(meta, "rounds")->valuedouble == 300);
		CHECK(ml_model_nsections(r) == 4);
		CHECK(!strcmp(ml_model_section_name(r, 0), "empty"));
		CHECK(!strcmp(ml_model_section_name(r, 3), "random"));
		CHECK(ml_model_section_name(r, 4) == NULL);
		CHECK(ml_model_section_name(r, -1) == NULL);
		CHECK(ml_model_get(r, "empty", &d, &n, &e) == 0 && n == 0 && d != NULL);
		CHECK(ml_model_get(r, "small", &d, &n, &e) == 0 && n == 5 && !memcmp(d, "hello", 5));
		CHECK(ml_model_get(r, "compressible", &d, &n, &e) == 0 && n == big_n &&
		      !memcmp(d, big, big_n));
		CHECK(ml_model_get(r, "random", &d, &n, &e) == 0 && n == big_n &&
		      !memcmp(d, rnd, big_n));
		CHECK(ml_model_get(r, "coef", &d, &n, &e) == ML_E_DATA);
		CHECK(!strcmp(e.where, "x.mlm"));
		CHECK(!strcmp(e.msg, "the model has no section named 'coef'"));
		/* Loading and writing again gives the same bytes. */
		CHECK(ml_model_to_mem(r, &buf2, &len2, &e) == 0);
		CHECK(len2 == len && !memcmp(buf, buf2, len));
		free(buf2);
	}
	ml_model_free(r);
	ml_model_free(m);
	free(buf);
	free(big);
	free(rnd);
}

static void test_new_defaults(void)
{
	struct ml_model *m = ml_model_new("profile", NULL);
	const cJSON *c;

	CHECK(m != NULL);
	CHECK(!strcmp(ml_model_kind(m), "profile"));
	CHECK(!strcmp(ml_model_algorithm(m), ""));
	CHECK(cJSON_GetObjectItem(ml_model_meta_const(m), "algorithm") == NULL);
	c = cJSON_GetObjectItem(ml_model_meta_const(m), "created");
	CHECK(cJSON_IsString(c) && strlen(c->valuestring) == 20 && c->valuestring[19] == 'Z');
	CHECK(ml_model_nsections(m) == 0);
	ml_model_free(m);
	ml_model_free(NULL);
}

static void test_file_and_gzip(void)
{
	char dir[] = "/tmp/test_model.XXXXXX", path[256], gzpath[256], bad[256];
	struct ml_model *m = small_model(), *r;
	unsigned char *buf;
	size_t len;
	struct ml_err e;
	gzFile gz;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/m.mlm", dir);
	snprintf(gzpath, sizeof(gzpath), "%s/m.mlm.gz", dir);
	snprintf(bad, sizeof(bad), "%s/missing.mlm", dir);
	ml_err_init(&e);
	CHECK(ml_model_save(m, path, &e) == 0);
	r = ml_model_load(path, &e);
	CHECK(r != NULL && ml_model_nsections(r) == 3);
	ml_model_free(r);

	CHECK(ml_model_to_mem(m, &buf, &len, &e) == 0);
	gz = gzopen(gzpath, "wb");
	CHECK(gz != NULL);
	CHECK(gzwrite(gz, buf, (unsigned)len) == (int)len);
	CHECK(gzclose(gz) == Z_OK);
	r = ml_model_load(gzpath, &e);
	CHECK(r != NULL && !strcmp(ml_model_algorithm(r), "linear"));
	ml_model_free(r);

	r = ml_model_load_kind(path, "model", &e);
	CHECK(r != NULL);
	ml_model_free(r);
	r = ml_model_load_kind(path, "features", &e);
	CHECK(r == NULL && e.code == ML_E_DATA);
	CHECK(!strcmp(e.where, path));
	CHECK(!strcmp(e.msg, "is a 'model' artefact, not a 'features'"));

	r = ml_model_load(bad, &e);
	CHECK(r == NULL && e.code == ML_E_NOINPUT);

	unlink(path);
	unlink(gzpath);
	rmdir(dir);
	free(buf);
	ml_model_free(m);
}

static void test_members(void)
{
	struct ml_model *ens = ml_model_new("ensemble", "average"), *a = small_model(),
			*b = ml_model_new("model", "knn"), *inner = small_model(), *r, *ra, *rb,
			*rin;
	unsigned char *buf;
	size_t len, n;
	const void *d;
	struct ml_err e;

	ml_err_init(&e);
	CHECK(ml_model_add(b, "points", "0123456789", 10, &e) == 0);
	CHECK(ml_model_add_member(b, "inner", inner, &e) == 0);
	CHECK(ml_model_add_member(ens, "member0", a, &e) == 0);
	CHECK(ml_model_add_member(ens, "member1", b, &e) == 0);
	CHECK(ml_model_add(ens, "weights", "ww", 2, &e) == 0);
	CHECK(ml_model_to_mem(ens, &buf, &len, &e) == 0);
	r = ml_model_from_mem(buf, len, "ens.mlm", &e);
	CHECK(r != NULL);
	if (r) {
		ra = ml_model_get_member(r, "member0", &e);
		rb = ml_model_get_member(r, "member1", &e);
		CHECK(ra && rb);
		if (ra && rb) {
			CHECK(!strcmp(ml_model_algorithm(ra), "linear"));
			CHECK(ml_model_get(ra, "coef", &d, &n, &e) == 0 && n == 24);
			CHECK(!strcmp(ml_model_algorithm(rb), "knn"));
			CHECK(ml_model_get(rb, "points", &d, &n, &e) == 0 && n == 10 &&
			      !memcmp(d, "0123456789", 10));
			rin = ml_model_get_member(rb, "inner", &e);
			CHECK(rin != NULL && ml_model_nsections(rin) == 3);
			ml_model_free(rin);
			/* A section that is not a model, named in the message. */
			CHECK(ml_model_get_member(rb, "points", &e) == NULL);
			CHECK(e.code == ML_E_DATA);
			CHECK(!strcmp(e.where, "ens.mlm/member1"));
			CHECK(!strcmp(e.msg,
				      "member 'points': not an ml-model file (starts with "
				      "'0123456789')"));
		}
		CHECK(ml_model_get_member(r, "weights", &e) == NULL && e.code == ML_E_DATA);
		CHECK(!strcmp(e.where, "ens.mlm"));
		CHECK(!strcmp(e.msg, "member 'weights': not an ml-model file (starts with 'ww')"));
		CHECK(ml_model_get_member(r, "nope", &e) == NULL && e.code == ML_E_DATA);
		CHECK(!strcmp(e.msg, "the model has no section named 'nope'"));
		ml_model_free(ra);
		ml_model_free(rb);
	}
	ml_model_free(r);
	free(buf);
	ml_model_free(ens);
	ml_model_free(a);
	ml_model_free(b);
	ml_model_free(inner);
}

static void test_reproducible(void)
{
	struct ml_model *m1, *m2;
	unsigned char *b1, *b2;
	size_t l1, l2;
	const cJSON *c;
	struct ml_err e;
	const char *want = "{\"format\":\"ml-model\",\"version\":1,\"kind\":\"model\","
			   "\"algorithm\":\"linear\",\"tool\":\"mlpipe " ML_VERSION "\","
			   "\"created\":\"2023-11-14T22:13:20Z\",\"seed\":7}";

	/* The library reads no environment: the creation time is the caller's to give. */
	ml_err_init(&e);
	setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
	m1 = small_model();
	unsetenv("SOURCE_DATE_EPOCH");
	CHECK(m1 != NULL);
	if (!m1)
		return;
	c = cJSON_GetObjectItem(ml_model_meta_const(m1), "created");
	CHECK(cJSON_IsString(c) && strcmp(c->valuestring, "2023-11-14T22:13:20Z") != 0);
	CHECK(ml_model_set_created(m1, 1700000000, &e) == 0);
	sleep(1);
	m2 = small_model();
	CHECK(m2 && ml_model_set_created(m2, 1700000000, &e) == 0);
	c = cJSON_GetObjectItem(ml_model_meta_const(m1), "created");
	CHECK(cJSON_IsString(c) && !strcmp(c->valuestring, "2023-11-14T22:13:20Z"));
	CHECK(ml_model_to_mem(m1, &b1, &l1, NULL) == 0);
	CHECK(ml_model_to_mem(m2, &b2, &l2, NULL) == 0);
	CHECK(l1 == l2 && !memcmp(b1, b2, l1));
	/* Metadata keys keep their order: format, version, kind, algorithm, tool, created. */
	CHECK(l1 > 20 + strlen(want) && !memcmp(b1 + 20, want, strlen(want)));
	CHECK(ml_model_set_created(m1, -1, &e) == ML_E_USAGE);
	CHECK(ml_model_set_created(m1, 253402300800LL, &e) == ML_E_USAGE);
	CHECK(ml_model_set_created(m1, 0, &e) == 0);
	free(b1);
	free(b2);
	ml_model_free(m1);
	ml_model_free(m2);
}

/* Metadata through JSON text: set, replace in place, get, the whole object, refusals. */
static void test_meta_text(void)
{
	struct ml_model *m = ml_model_new("model", "linear");
	struct ml_err e;
	char *t;

	ml_err_init(&e);
	CHECK(m != NULL);
	if (!m)
		return;
	CHECK(ml_model_set_created(m, 0, &e) == 0);
	CHECK(ml_model_meta_set(m, "a", "{\"x\":[1,2.5,\"y\"]}", &e) == 0);
	CHECK(ml_model_meta_set(m, "b", "0.1", &e) == 0);
	CHECK(ml_model_meta_set(m, "a", "true", &e) == 0);
	CHECK((t = ml_model_meta_get(m, "a")) && !strcmp(t, "true"));
	free(t);
	CHECK((t = ml_model_meta_get(m, "b")) && !strcmp(t, "0.1"));
	free(t);
	CHECK(ml_model_meta_get(m, "nope") == NULL);
	CHECK(ml_model_meta_set(m, "c", "{oops", &e) == ML_E_USAGE);
	CHECK(!strcmp(e.msg, "metadata value for 'c' is not one JSON value"));
	CHECK(ml_model_meta_set(m, "c", "1 2", &e) == ML_E_USAGE);
	CHECK(ml_model_meta_set(m, "kind", "\"x\"", &e) == ML_E_USAGE);
	CHECK(!strcmp(e.msg, "metadata key 'kind' belongs to the container"));
	t = ml_model_meta_json(m);
	CHECK(t && !strcmp(t, "{\"format\":\"ml-model\",\"version\":1,\"kind\":\"model\","
			      "\"algorithm\":\"linear\",\"tool\":\"mlpipe " ML_VERSION "\","
			      "\"created\":\"1970-01-01T00:00:00Z\",\"a\":true,\"b\":0.1}"));
	free(t);
	ml_model_free(m);
}

/* The digest is the file's trailer words, and a model in memory has the digest its bytes
 * would have. */
static void test_digest(void)
{
	struct ml_model *m = small_model(), *back;
	unsigned char *buf;
	size_t len;
	struct ml_err e;
	char d1[ML_MODEL_DIGEST_HEX + 1], d2[ML_MODEL_DIGEST_HEX + 1], want[32];

	ml_err_init(&e);
	CHECK(m != NULL);
	if (!m)
		return;
	CHECK(ml_model_digest(m, d1, &e) == 0 && strlen(d1) == 16);
	CHECK(ml_model_to_mem(m, &buf, &len, &e) == 0);
	snprintf(want, sizeof(want), "%08lx%08lx",
		 (unsigned long)(buf[len - 16] | buf[len - 15] << 8 | buf[len - 14] << 16 |
				 (uint32_t)buf[len - 13] << 24),
		 (unsigned long)(buf[len - 12] | buf[len - 11] << 8 | buf[len - 10] << 16 |
				 (uint32_t)buf[len - 9] << 24));
	CHECK(!strcmp(d1, want));
	back = ml_model_from_mem(buf, len, "m", &e);
	CHECK(back && ml_model_digest(back, d2, &e) == 0 && !strcmp(d1, d2));
	/* Another model, another digest. */
	CHECK(ml_model_meta_set(m, "x", "1", &e) == 0);
	CHECK(ml_model_digest(m, d2, &e) == 0 && strcmp(d1, d2) != 0);
	free(buf);
	ml_model_free(back);
	ml_model_free(m);
}

static void test_layout(void)
{
	struct ml_model *m = ml_model_new("model", NULL);
	unsigned char *buf;
	size_t len, ml;

	CHECK(ml_model_add(m, "s", "abc", 3, NULL) == 0);
	CHECK(ml_model_to_mem(m, &buf, &len, NULL) == 0);
	CHECK(!memcmp(buf, "\x89MLM\r\n\x1a\n\1\0\0\0\0\0\0\0", 16));
	ml = get32(buf + OFF_META_LEN);
	CHECK(buf[20] == '{' && buf[20 + ml - 1] == '}');
	CHECK(!memcmp(buf + 20 + ml,
		      "\1\0\0\0"                 /* one section */
		      "\1s\0"                    /* name 's', raw */
		      "\3\0\0\0\0\0\0\0"         /* raw length */
		      "\3\0\0\0\0\0\0\0",        /* stored length */
		      23));
	CHECK(get32(buf + 20 + ml + 23) == (uint32_t)crc32(0, (const Bytef *)"abc", 3));
	CHECK(!memcmp(buf + 20 + ml + 27, "abc", 3));
	CHECK(len == 20 + ml + 30 + 16);
	CHECK(get32(buf + len - 16) == (uint32_t)crc32(0, buf, (uInt)len - 16));
	CHECK(get32(buf + len - 12) == (uint32_t)adler32(1, buf, (uInt)len - 16));
	CHECK(get32(buf + len - 8) == len && get32(buf + len - 4) == 0);
	free(buf);
	ml_model_free(m);
}

static void test_truncation(void)
{
	struct ml_model *m = small_model();
	unsigned char *buf;
	size_t len, cut;
	struct ml_err e;
	int all = 1;

	CHECK(ml_model_to_mem(m, &buf, &len, NULL) == 0);
	CHECK(len > 100);
	for (cut = 0; cut < len; cut++) {
		struct ml_model *r = load_copy(buf, cut, &e);

		if (r || e.code != ML_E_DATA ||
		    (cut > 0 && strncmp(e.msg, "truncated", 9) != 0)) {
			fprintf(stderr, "cut at %zu: %s\n", cut, e.msg);
			all = 0;
		}
		ml_model_free(r);
	}
	CHECK(all);
	CHECK(loads_with(buf, 0, "not an ml-model file (it is empty)"));
	CHECK(loads_with(buf, 5, "truncated (in the header)"));
	CHECK(loads_with(buf, 30, "truncated (in the metadata)"));
	CHECK(loads_with(buf, len - 1, "truncated (in the trailer)"));
	free(buf);
	ml_model_free(m);
}

static void test_bitflips(void)
{
	struct ml_model *m = small_model();
	unsigned char *buf;
	size_t len, bit;
	struct ml_err e;
	int all = 1;
	char want[128];

	CHECK(ml_model_to_mem(m, &buf, &len, NULL) == 0);
	/* Both codecs are covered: "note" is stored raw, "zeros" compressed. */
	CHECK(memmem(buf, len, "\4note\0", 6) != NULL && memmem(buf, len, "\5zeros\1", 7) != NULL);
	for (bit = 0; bit < len * 8; bit++) {
		struct ml_model *r;

		buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
		r = load_copy(buf, len, &e);
		buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
		if (r || e.code != ML_E_DATA || !e.msg[0]) {
			fprintf(stderr, "bit %zu: %s\n", bit, e.msg);
			all = 0;
		}
		ml_model_free(r);
	}
	CHECK(all);
	/* The original still loads. */
	m = (ml_model_free(m), load_copy(buf, len, &e));
	CHECK(m != NULL);
	buf[len / 2] ^= 0x10;
	CHECK(loads_with(buf, len, "corrupted (checksum mismatch)"));
	buf[len / 2] ^= 0x10;
	buf[len - 5] ^= 0x01; /* the trailer's length */
	snprintf(want, sizeof(want),
		 "corrupted (the trailer gives a length of %zu, the file has %zu bytes)",
		 len ^ 0x1000000, len);
	CHECK(loads_with(buf, len, want));
	buf[len - 5] ^= 0x01;
	free(buf);
	ml_model_free(m);
}

/* With the digest made valid again after each change, the structural checks alone must
 * catch what matters: the load either succeeds or fails with ML_E_DATA, never crashes. */
static void test_structure_fuzz(void)
{
	struct ml_model *m = small_model(), *child = small_model(), *r;
	unsigned char *buf, *t;
	size_t len, bit, i, k;
	struct ml_err e;
	int all = 1;

	CHECK(ml_model_add_member(m, "child", child, NULL) == 0);
	CHECK(ml_model_to_mem(m, &buf, &len, NULL) == 0);
	t = malloc(len + 16);
	for (bit = 0; bit < (len - 16) * 8; bit++) {
		memcpy(t, buf, len);
		t[bit / 8] ^= (unsigned char)(1u << (bit % 8));
		fix_digest(t, len);
		r = load_copy(t, len, &e);
		if (!r && e.code != ML_E_DATA)
			all = 0;
		ml_model_free(r);
	}
	/* Every prefix of the body with a valid trailer after it. */
	for (k = 0; k < len - 16; k++) {
		memcpy(t, buf, k);
		fix_digest(t, k + 16);
		r = load_copy(t, k + 16, &e);
		if (r || e.code != ML_E_DATA)
			all = 0;
		ml_model_free(r);
	}
	/* Random damage to a few bytes at once. */
	for (i = 0; i < 20000; i++) {
		memcpy(t, buf, len);
		for (k = 0; k < 1 + xorshift() % 4; k++)
			t[xorshift() % (len - 16)] = (unsigned char)xorshift();
		fix_digest(t, len);
		r = load_copy(t, len, &e);
		if (!r && e.code != ML_E_DATA)
			all = 0;
		ml_model_free(r);
	}
	CHECK(all);
	free(t);
	free(buf);
	ml_model_free(m);
	ml_model_free(child);
}

static void test_magic(void)
{
	struct ml_model *m = small_model();
	unsigned char *buf, *t;
	size_t len, i, o;

	CHECK(loads_with((const unsigned char *)"a,b,c\n1,2,3\n", 12,
			 "not an ml-model file (starts with 'a,b,c')"));
	CHECK(loads_with((const unsigned char *)"\x7f" "ELF\2\1\1\0\0\0", 10,
			 "not an ml-model file (starts with bytes 7f 45 4c 46 02 01 01 00)"));
	CHECK(loads_with((const unsigned char *)"\x89MLS\r\n\x1a\n\1\0\0\0", 12,
			 "is an ml-stream, not a model"));
	CHECK(loads_with((const unsigned char *)"\x89PNG\r\n\x1a\n", 8,
			 "not an ml-model file (starts with bytes 89 50 4e 47 0d 0a 1a 0a)"));
	CHECK(loads_with((const unsigned char *)"\x1f\x8b\x08\0\0\0\0\0", 8,
			 "not an ml-model file (gzip data; load it from a file)"));
	CHECK(ml_model_to_mem(m, &buf, &len, NULL) == 0);
	/* CRLF to LF, as a text-mode transfer does. */
	t = malloc(len);
	for (i = o = 0; i < len; i++)
		if (!(buf[i] == '\r' && i + 1 < len && buf[i + 1] == '\n'))
			t[o++] = buf[i];
	CHECK(loads_with(t, o,
			 "damaged ml-model header: its first 8 bytes were altered (was it "
			 "transferred in text mode?)"));
	free(t);
	free(buf);
	ml_model_free(m);
}

static void test_version_and_flags(void)
{
	struct ml_model *m = small_model();
	unsigned char *buf;
	size_t len;

	CHECK(ml_model_to_mem(m, &buf, &len, NULL) == 0);
	put32(buf + OFF_VERSION, 7);
	CHECK(loads_with(buf, len, "written by a newer mlpipe (format version 7; this reads up to 1)"));
	fix_digest(buf, len);
	CHECK(loads_with(buf, len, "written by a newer mlpipe (format version 7; this reads up to 1)"));
	put32(buf + OFF_VERSION, 0);
	fix_digest(buf, len);
	CHECK(loads_with(buf, len, "bad format version 0"));
	put32(buf + OFF_VERSION, 1);
	put32(buf + OFF_FLAGS, 4);
	fix_digest(buf, len);
	CHECK(loads_with(buf, len, "unknown flags 0x00000004 (written by a newer mlpipe?)"));
	free(buf);
	ml_model_free(m);
}

/* A model file built by hand: header, metadata, then the caller's section bytes. */
static void craft(struct ml_wbuf *b, const char *meta, uint32_t nsec)
{
	ml_wbuf_init(b);
	ml_wbuf_put(b, "\x89MLM\r\n\x1a\n", 8);
	ml_wbuf_u32(b, 1);
	ml_wbuf_u32(b, 0);
	ml_wbuf_str(b, meta);
	ml_wbuf_u32(b, nsec);
}

static void craft_end(struct ml_wbuf *b)
{
	unsigned char z[16] = { 0 };

	ml_wbuf_put(b, z, 16);
	fix_digest(b->p, b->n);
}

static void craft_section(struct ml_wbuf *b, const char *name, int codec, uint64_t raw,
			  uint64_t stored, uint32_t crc, const void *data, size_t n)
{
	ml_wbuf_u8(b, (uint8_t)strlen(name));
	ml_wbuf_put(b, name, strlen(name));
	ml_wbuf_u8(b, (uint8_t)codec);
	ml_wbuf_u64(b, raw);
	ml_wbuf_u64(b, stored);
	ml_wbuf_u32(b, crc);
	ml_wbuf_put(b, data, n);
}

static void test_crafted(void)
{
	const char *meta = "{\"kind\":\"model\"}";
	struct ml_wbuf b;
	unsigned char z[64];
	uLongf zl = sizeof(z);
	uint32_t crc5 = (uint32_t)crc32(0, (const Bytef *)"hello", 5);
	struct ml_model *r;
	struct ml_err e;

	/* The minimal valid file. */
	craft(&b, meta, 0);
	craft_end(&b);
	r = load_copy(b.p, b.n, &e);
	CHECK(r != NULL && !strcmp(ml_model_kind(r), "model") && ml_model_nsections(r) == 0);
	ml_model_free(r);
	ml_wbuf_release(&b);

	/* Huge declared lengths and counts, with a valid digest. */
	craft(&b, meta, 0);
	put32(b.p + OFF_META_LEN, 0xffffffffu);
	craft_end(&b);
	CHECK(loads_with(b.p, b.n, "truncated (in the metadata)"));
	ml_wbuf_release(&b);

	craft(&b, meta, 0xffffffffu);
	craft_end(&b);
	CHECK(loads_with(b.p, b.n, "too many sections (4294967295; the limit is 1048576)"));
	ml_wbuf_release(&b);

	craft(&b, meta, 1000);
	craft_end(&b);
	CHECK(loads_with(b.p, b.n, "truncated (in the sections)"));
	ml_wbuf_release(&b);

	craft(&b, meta, 1);
	craft_section(&b, "s", 0, 5, UINT64_MAX, crc5, "hello", 5);
	craft_end(&b);
	CHECK(loads_with(b.p, b.n, "truncated (in section 's')"));
	ml_wbuf_release(&b);

	CHECK(compress2(z, &zl, (const Bytef *)"hello", 5, 6) == Z_OK);
	craft(&b, meta, 1);
	craft_section(&b, "s", 1, UINT64_MAX, zl, crc5, z, zl);
	craft_end(&b);
	CHECK(loads_with(b.p, b.n, "section 's' is corrupted (13 bytes cannot inflate to "
				   "18446744073709551615)"));
	ml_wbuf_release(&b);

	craft(&b, meta, 1);
	craft_section(&b, "s", 1, 6, zl, crc5, z, zl);
	craft_end(&b);
	CHECK(loads_with(b.p, b.n, "section 's' is corrupted (inflates to fewer bytes than stated)"));
	ml_wbuf_release(&b);

	craft(&b, meta, 1);
	craft_section(&b, "s", 1, 4, zl, crc5, z, zl);
	craft_end(&b);
	CHECK(loads_with(b.p, b.n, "section 's' is corrupted (bad zlib data)"));
	ml_wbuf_release(&b);

	craft(&b, meta, 1);
	craft_section(&b, "s", 1, 5, zl, crc5 ^ 1, z, zl);
	craft_end(&b);
	CHECK(loads_with(b.p, b.n, "section 's' is corrupted (CRC-32 mismatch)"));
	ml_wbuf_release(&b);

	craft(&b, meta, 1);
	craft_section(&b, "s", 0, 4, 5, crc5, "hello", 5);
	craft_end(&b);
	CHECK(loads_with(b.p, b.n, "section 's' is corrupted (raw length 4 but 5 bytes stored "
				   "without compression)"));
	ml_wbuf_release(&b);

	craft(&b, meta, 1);
	craft_section(&b, "s", 2, 5, 5, crc5, "hello", 5);
	craft_end(&b);
	CHECK(loads_with(b.p, b.n, "section 's' uses unknown codec 2 (written by a newer mlpipe?)"));
	ml_wbuf_release(&b);

	craft(&b, meta, 2);
	craft_section(&b, "s", 0, 5, 5, crc5, "hello", 5);
	craft_section(&b, "s", 0, 5, 5, crc5, "hello", 5);
	craft_end(&b);
	CHECK(loads_with(b.p, b.n, "duplicate section 's'"));
	ml_wbuf_release(&b);

	craft(&b, meta, 1);
	craft_section(&b, "", 0, 5, 5, crc5, "hello", 5);
	craft_end(&b);
	CHECK(loads_with(b.p, b.n, "section 1 has an empty name"));
	ml_wbuf_release(&b);

	craft(&b, meta, 0);
	ml_wbuf_put(&b, "xyz", 3);
	craft_end(&b);
	CHECK(loads_with(b.p, b.n, "corrupted (3 unexpected bytes after the last section)"));
	ml_wbuf_release(&b);

	/* Metadata that is not what it must be. */
	craft(&b, "{\"kind\":\"model\"", 0);
	craft_end(&b);
	CHECK(loads_with(b.p, b.n, "metadata is not valid JSON (error at byte 14 of 15)"));
	ml_wbuf_release(&b);
	craft(&b, "{\"kind\":\"model\"} \n x", 0);
	craft_end(&b);
	CHECK(loads_with(b.p, b.n, "metadata has trailing data after its JSON value"));
	ml_wbuf_release(&b);
	craft(&b, "[1,2]", 0);
	craft_end(&b);
	CHECK(loads_with(b.p, b.n, "metadata is not a JSON object"));
	ml_wbuf_release(&b);
	craft(&b, "{\"kind\":3}", 0);
	craft_end(&b);
	CHECK(loads_with(b.p, b.n, "metadata has no string 'kind'"));
	ml_wbuf_release(&b);
	craft(&b, "", 0);
	craft_end(&b);
	CHECK(loads_with(b.p, b.n, "metadata is not valid JSON (error at byte 0 of 0)"));
	ml_wbuf_release(&b);
}

static void test_schema_json(void)
{
	struct ml_schema s, t;
	cJSON *j, *k;
	char *txt, *txt2;
	struct ml_err e;
	int i;
	static const struct {
		const char *json, *msg;
	} bad[] = {
		{ "{}", "schema is not a JSON array" },
		{ "[1]", "schema column 1 is not an object" },
		{ "[{\"type\":\"num\"}]", "schema column 1 has no name (a non-empty string)" },
		{ "[{\"name\":\"\",\"type\":\"num\"}]",
		  "schema column 1 has no name (a non-empty string)" },
		{ "[{\"name\":\"a\",\"type\":\"int\"}]",
		  "schema column 'a' has no type 'num' or 'cat'" },
		{ "[{\"name\":\"a\",\"type\":\"num\"},{\"name\":\"a\",\"type\":\"num\"}]",
		  "schema has column 'a' twice" },
		{ "[{\"name\":\"a\",\"type\":\"num\",\"levels\":[]}]",
		  "schema column 'a' is numeric but has levels" },
		{ "[{\"name\":\"a\",\"type\":\"cat\"}]", "schema column 'a' has no 'levels' array" },
		{ "[{\"name\":\"a\",\"type\":\"cat\",\"levels\":[\"x\",2]}]",
		  "schema column 'a': level 2 is not a string" },
		{ "[{\"name\":\"a\",\"type\":\"cat\",\"levels\":[\"x\",\"y\",\"x\"]}]",
		  "schema column 'a' has level 'x' twice" },
	};

	ml_schema_init(&s);
	CHECK(ml_schema_add(&s, "age", ML_NUM) == 0);
	CHECK(ml_schema_add(&s, "plan", ML_CAT) == 1);
	CHECK(ml_schema_add(&s, "empty", ML_CAT) == 2);
	CHECK(ml_dict_intern(&s.cols[1].dict, "a", 1) == 0);
	CHECK(ml_dict_intern(&s.cols[1].dict, "b", 1) == 1);
	j = ml_schema_to_json(&s);
	txt = cJSON_PrintUnformatted(j);
	CHECK(txt && !strcmp(txt, "[{\"name\":\"age\",\"type\":\"num\"},{\"name\":\"plan\",\"type\":"
				  "\"cat\",\"levels\":[\"a\",\"b\"]},{\"name\":\"empty\",\"type\":"
				  "\"cat\",\"levels\":[]}]"));
	ml_schema_init(&t);
	ml_err_init(&e);
	CHECK(ml_schema_from_json(&t, j, &e) == 0);
	CHECK(t.ncol == 3 && !strcmp(t.cols[1].name, "plan") && t.cols[1].type == ML_CAT);
	CHECK(t.cols[0].type == ML_NUM && t.cols[2].dict.n == 0);
	CHECK(t.cols[1].dict.n == 2 && !strcmp(t.cols[1].dict.str[1], "b"));
	k = ml_schema_to_json(&t);
	txt2 = cJSON_PrintUnformatted(k);
	CHECK(txt2 && !strcmp(txt, txt2));
	free(txt);
	free(txt2);
	cJSON_Delete(j);
	cJSON_Delete(k);
	ml_schema_release(&t);
	ml_schema_release(&s);

	for (i = 0; i < (int)(sizeof(bad) / sizeof(bad[0])); i++) {
		j = cJSON_Parse(bad[i].json);
		ml_schema_init(&t);
		ml_err_init(&e);
		CHECK(ml_schema_from_json(&t, j, &e) == ML_E_DATA);
		CHECK(t.ncol == 0);
		if (strcmp(e.msg, bad[i].msg)) {
			fprintf(stderr, "schema %s: got '%s'\n", bad[i].json, e.msg);
			CHECK(0);
		}
		ml_schema_release(&t);
		cJSON_Delete(j);
	}
}

static void test_bufs(void)
{
	struct ml_wbuf w;
	struct ml_rbuf r;
	double v[3] = { -0.0, 1e300, NAN }, out[3];
	int32_t iv[3] = { INT32_MIN, -1, INT32_MAX }, iout[3];
	char *s;
	size_t i;

	ml_wbuf_init(&w);
	ml_wbuf_u8(&w, 0xab);
	ml_wbuf_u32(&w, 0x01020304);
	ml_wbuf_u64(&w, 0x0102030405060708ULL);
	ml_wbuf_i32(&w, -2);
	ml_wbuf_f64(&w, 0.1);
	ml_wbuf_f64v(&w, v, 3);
	ml_wbuf_i32v(&w, iv, 3);
	ml_wbuf_str(&w, "naïve");
	ml_wbuf_str(&w, "");
	CHECK(w.err == 0);
	CHECK(w.n == 1 + 4 + 8 + 4 + 8 + 24 + 12 + 4 + 6 + 4);
	CHECK(!memcmp(w.p + 1, "\4\3\2\1\10\7\6\5\4\3\2\1\376\377\377\377", 16));
	ml_rbuf_init(&r, w.p, w.n);
	CHECK(ml_rbuf_u8(&r) == 0xab);
	CHECK(ml_rbuf_u32(&r) == 0x01020304);
	CHECK(ml_rbuf_u64(&r) == 0x0102030405060708ULL);
	CHECK(ml_rbuf_i32(&r) == -2);
	CHECK(ml_rbuf_f64(&r) == 0.1);
	CHECK(ml_rbuf_count(&r, 3, sizeof(double)) == 3);
	ml_rbuf_f64v(&r, out, 3);
	CHECK(out[0] == 0 && signbit(out[0]) && out[1] == 1e300 && isnan(out[2]));
	ml_rbuf_i32v(&r, iout, 3);
	CHECK(iout[0] == INT32_MIN && iout[1] == -1 && iout[2] == INT32_MAX);
	s = ml_rbuf_str(&r);
	CHECK(s && !strcmp(s, "naïve"));
	free(s);
	s = ml_rbuf_str(&r);
	CHECK(s && !strcmp(s, ""));
	free(s);
	CHECK(r.err == 0 && r.off == r.n);
	/* Past the end: zeros, err set, and it stays set. */
	CHECK(ml_rbuf_u8(&r) == 0 && r.err != 0);
	ml_wbuf_release(&w);
	CHECK(w.p == NULL && w.n == 0);

	ml_rbuf_init(&r, "\1\2\3\4\5", 5);
	CHECK(ml_rbuf_u32(&r) == 0x04030201);
	CHECK(ml_rbuf_u32(&r) == 0 && r.err != 0);
	CHECK(ml_rbuf_u8(&r) == 0); /* one byte is left, but the buffer has failed */
	CHECK(r.off == 4);

	ml_rbuf_init(&r, "\1\2\3\4\5\6\7\10\11", 9);
	out[0] = out[1] = 5;
	ml_rbuf_f64v(&r, out, 2);
	CHECK(r.err != 0 && out[0] == 0 && out[1] == 0 && r.off == 0);

	ml_rbuf_init(&r, "\1\2\3\4\5\6\7\10\11", 9);
	CHECK(ml_rbuf_count(&r, 2, 4) == 2 && r.err == 0);
	CHECK(ml_rbuf_count(&r, 9, 1) == 9 && r.err == 0);
	CHECK(ml_rbuf_count(&r, 0, 8) == 0 && r.err == 0);
	CHECK(ml_rbuf_count(&r, UINT64_MAX, 8) == 0 && r.err != 0);
	ml_rbuf_init(&r, "\1\2\3\4\5\6\7\10\11", 9);
	CHECK(ml_rbuf_count(&r, (uint64_t)1 << 62, 8) == 0 && r.err != 0);
	ml_rbuf_init(&r, "\1\2\3\4\5\6\7\10\11", 9);
	CHECK(ml_rbuf_count(&r, 3, 4) == 0 && r.err != 0);

	/* A string whose length runs past the end, and one with a NUL inside. */
	ml_rbuf_init(&r, "\377\377\377\377abc", 7);
	CHECK(ml_rbuf_str(&r) == NULL && r.err != 0);
	ml_rbuf_init(&r, "\3\0\0\0a\0c", 7);
	CHECK(ml_rbuf_str(&r) == NULL && r.err != 0);
	ml_rbuf_init(&r, "\3\0\0", 3);
	CHECK(ml_rbuf_str(&r) == NULL && r.err != 0);

	/* Many small writes grow the buffer. */
	ml_wbuf_init(&w);
	for (i = 0; i < 100000; i++)
		ml_wbuf_u32(&w, (uint32_t)i);
	CHECK(w.err == 0 && w.n == 400000 && get32(w.p + 4 * 99999) == 99999);
	ml_wbuf_release(&w);
}

int main(void)
{
	RUN(test_roundtrip);
	RUN(test_new_defaults);
	RUN(test_file_and_gzip);
	RUN(test_members);
	RUN(test_reproducible);
	RUN(test_meta_text);
	RUN(test_digest);
	RUN(test_layout);
	RUN(test_truncation);
	RUN(test_bitflips);
	RUN(test_structure_fuzz);
	RUN(test_magic);
	RUN(test_version_and_flags);
	RUN(test_crafted);
	RUN(test_schema_json);
	RUN(test_bufs);
	return UNIT_EXIT();
}
