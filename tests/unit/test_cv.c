/* Unit tests for lib/table/fingerprint.c: the training-data fingerprint, byte for byte. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "ml/ctx.h"
#include "ml/cv.h"
#include "ml/frame.h"
#include "ml/model.h"
#include "unit.h"

/* A frame "x" (numbers with a NaN), "c" (categories with a missing one). */
static void frame_of(struct ml_frame *f, size_t n)
{
	size_t i;

	ml_frame_init(f);
	if (ml_schema_add(&f->schema, "x", ML_NUM) < 0 ||
	    ml_schema_add(&f->schema, "c", ML_CAT) < 0 ||
	    ml_dict_intern(&f->schema.cols[1].dict, "ab", 2) != 0 ||
	    ml_dict_intern(&f->schema.cols[1].dict, "", 0) != 1 ||
	    ml_block_init(&f->rows, &f->schema, n, NULL) < 0)
		abort();
	for (i = 0; i < n; i++) {
		f->rows.col[0].num[i] = i % 7 == 3 ? NAN : (double)i * 0.5 - 3;
		f->rows.col[1].cat[i] = i % 5 == 4 ? -1 : (int32_t)(i % 2);
	}
	f->rows.nrow = n;
}

/* The documented byte sequence, hashed in one pass. */
static uint32_t expected(const struct ml_frame *f)
{
	uLong crc = crc32(0L, Z_NULL, 0);
	unsigned char b[8];
	size_t i;
	int k;

	crc = crc32(crc, (const Bytef *)"x\0n", 3);
	for (i = 0; i < f->rows.nrow; i++) {
		double x = f->rows.col[0].num[i];
		uint64_t u;
		memcpy(&u, &x, 8);
		if (x != x)
			u = 0x7ff8000000000000ULL;
		for (k = 0; k < 8; k++)
			b[k] = (unsigned char)(u >> (8 * k));
		crc = crc32(crc, b, 8);
	}
	crc = crc32(crc, (const Bytef *)"c\0c", 3);
	for (i = 0; i < f->rows.nrow; i++) {
		int32_t c = f->rows.col[1].cat[i];
		uint32_t len = c < 0 ? 0xffffffffU : (uint32_t)f->schema.cols[1].dict.len[c];
		for (k = 0; k < 4; k++)
			b[k] = (unsigned char)(len >> (8 * k));
		crc = crc32(crc, b, 4);
		if (c >= 0)
			crc = crc32(crc, (const Bytef *)f->schema.cols[1].dict.str[c], len);
	}
	return (uint32_t)crc;
}

static void test_fingerprint(void)
{
	struct ml_frame f;
	struct ml_fingerprint a, b;
	struct ml_pool *pool = ml_pool_new(3);
	struct ml_err e;

	ml_err_init(&e);
	/* more rows than one 512-value buffer, so the numbers go in several pieces */
	frame_of(&f, 1300);
	CHECK(ml_fingerprint(&f, NULL, &a, &e) == 0);
	CHECK(ml_fingerprint(&f, pool, &b, &e) == 0);
	CHECK(a.rows == 1300 && a.columns == 2);
	CHECK(a.crc32 == expected(&f));
	CHECK(b.crc32 == a.crc32 && b.rows == a.rows && b.columns == a.columns);
	/* a NaN of another payload hashes as the quiet NaN; any change of value shows */
	{
		uint64_t u = 0xfff8000000000123ULL;
		memcpy(&f.rows.col[0].num[3], &u, 8);
		CHECK(ml_fingerprint(&f, NULL, &b, &e) == 0 && b.crc32 == a.crc32);
		f.rows.col[0].num[0] = -0.0;
		CHECK(ml_fingerprint(&f, NULL, &b, &e) == 0 && b.crc32 != a.crc32);
		CHECK(b.crc32 == expected(&f));
	}
	ml_frame_release(&f);
	/* no rows, no columns */
	ml_frame_init(&f);
	CHECK(ml_fingerprint(&f, pool, &a, &e) == 0 && a.rows == 0 && a.columns == 0);
	CHECK(a.crc32 == 0);
	ml_frame_release(&f);
	ml_pool_free(pool);
}

static void test_fingerprint_meta(void)
{
	struct ml_model *m = ml_model_new("features", NULL);
	struct ml_fingerprint fp;
	const cJSON *d;
	char *text;

	fp.rows = 344;
	fp.columns = 7;
	fp.crc32 = 0x0012abcdU;
	CHECK(m && ml_model_set_fingerprint(m, &fp, NULL) == 0);
	d = cJSON_GetObjectItemCaseSensitive(ml_model_meta_const(m), "data");
	text = d ? cJSON_PrintUnformatted(d) : NULL;
	CHECK(text && strcmp(text, "{\"rows\":344,\"columns\":7,\"crc32\":\"0012abcd\"}") == 0);
	cJSON_free(text);
	ml_model_free(m);
}

int main(void)
{
	RUN(test_fingerprint);
	RUN(test_fingerprint_meta);
	return UNIT_EXIT();
}
