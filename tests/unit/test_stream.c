/* Unit tests of ml-stream(5): round trips, dictionary additions, and rejection of damage. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "ml/err.h"
#include "ml/frame.h"
#include "ml/io.h"
#include "table/stream.h"
#include "unit.h"

/* A stream in memory. */
struct bytes {
	unsigned char *p;
	size_t n;
};

static uint32_t rd32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const unsigned char *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static void wr32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static void wr64(unsigned char *p, uint64_t v)
{
	wr32(p, (uint32_t)v);
	wr32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t next_rand(uint64_t *st)
{
	*st = *st * 6364136223846793005ULL + 1442695040888963407ULL;
	return *st >> 11;
}

static double bits_double(uint64_t u)
{
	double d;
	memcpy(&d, &u, sizeof(d));
	return d;
}

/* Write rows [from, to) of each block in turn (NULL ends the list of blocks). */
struct piece {
	const struct ml_block *b;
	size_t from, to;
	const char *grow_col; /* intern grow_val into this column before writing */
	const char *grow_val;
};

static int write_stream(struct ml_schema *s, int level, const struct piece *pc, size_t npc,
			struct bytes *out)
{
	char *buf = NULL;
	size_t len = 0, i;
	FILE *fp = open_memstream(&buf, &len);
	struct ml_stream_out *w;
	struct ml_err e;
	int rc = 0;

	out->p = NULL;
	out->n = 0;
	if (!fp)
		return ML_E_IO;
	ml_err_init(&e);
	w = ml_stream_out_open(fp, "mem", s, level, &e);
	if (!w) {
		fclose(fp);
		free(buf);
		return e.code;
	}
	for (i = 0; i < npc && rc == 0; i++) {
		if (pc[i].grow_col) {
			int j = ml_schema_find(s, pc[i].grow_col);
			ml_dict_intern(&s->cols[j].dict, pc[i].grow_val, strlen(pc[i].grow_val));
		}
		if (pc[i].b)
			rc = ml_stream_out_write(w, pc[i].b, pc[i].from, pc[i].to, &e);
	}
	if (rc == 0)
		rc = ml_stream_out_finish(w, &e);
	ml_stream_out_free(w);
	fclose(fp);
	out->p = (unsigned char *)buf;
	out->n = len;
	return rc;
}

/* Put bytes in a temporary file for ml_input_open; returns its path (free it, unlink it). */
static char *temp_file(const unsigned char *p, size_t n)
{
	const char *dir = getenv("TMPDIR");
	size_t dl;
	char *path;
	int fd;

	if (!dir || !*dir)
		dir = "/tmp";
	dl = strlen(dir);
	path = malloc(dl + 32);
	if (!path)
		return NULL;
	memcpy(path, dir, dl);
	memcpy(path + dl, "/test_stream.XXXXXX", sizeof("/test_stream.XXXXXX"));
	fd = mkstemp(path);
	if (fd < 0) {
		free(path);
		return NULL;
	}
	if (n && write(fd, p, n) != (ssize_t)n) {
		close(fd);
		unlink(path);
		free(path);
		return NULL;
	}
	close(fd);
	return path;
}

/* Append rows [0, src->nrow) of src to dst. */
static void append_rows(struct ml_block *dst, const struct ml_block *src)
{
	int j;

	if (ml_block_reserve(dst, dst->nrow + src->nrow, NULL) < 0)
		return;
	for (j = 0; j < src->ncol; j++) {
		size_t sz = src->schema->cols[j].type == ML_NUM ? 8 : 4;
		memcpy((unsigned char *)dst->col[j].num + dst->nrow * sz, src->col[j].num,
		       src->nrow * sz);
	}
	dst->nrow += src->nrow;
}

/* Read a whole stream. s gets the schema; all (when not NULL) every row, allocated for s.
 * dict_after[k] (when not NULL) gets the size of column 1's dictionary after block k.
 * Returns 0 or the error code with e set. */
static int read_stream(const struct bytes *bs, struct ml_schema *s, struct ml_block *all,
		       int32_t *dict_after, size_t ndict, struct ml_err *e)
{
	char *path = temp_file(bs->p, bs->n);
	struct ml_input *in;
	struct ml_stream_in *r;
	struct ml_block b;
	size_t k = 0;
	long n;

	ml_schema_init(s);
	ml_err_init(e);
	if (all)
		memset(all, 0, sizeof(*all));
	if (!path)
		return ML_E_IO;
	in = ml_input_open(path, e);
	unlink(path);
	free(path);
	if (!in)
		return e->code;
	r = ml_stream_in_open(in, s, e);
	if (!r) {
		ml_input_close(in);
		return e->code;
	}
	ml_block_init(&b, s, 0, NULL);
	if (all)
		ml_block_init(all, s, 0, NULL);
	while ((n = ml_stream_in_next(r, s, &b, e)) > 0) {
		if ((size_t)n != b.nrow)
			e->code = ML_E_INTERNAL;
		if (all)
			append_rows(all, &b);
		if (dict_after && k < ndict && s->ncol > 1)
			dict_after[k] = s->cols[1].dict.n;
		k++;
	}
	if (n == 0 && ml_stream_in_next(r, s, &b, e) != 0)
		n = ML_E_INTERNAL;
	ml_block_release(&b);
	ml_stream_in_free(r);
	ml_input_close(in);
	return n < 0 ? (int)n : 0;
}

/* Three columns: x (num), c (cat: "a", "b"), y (num). */
static void small_schema(struct ml_schema *s)
{
	ml_schema_init(s);
	ml_schema_add(s, "x", ML_NUM);
	ml_schema_add(s, "c", ML_CAT);
	ml_schema_add(s, "y", ML_NUM);
	ml_dict_intern(&s->cols[1].dict, "a", 1);
	ml_dict_intern(&s->cols[1].dict, "b", 1);
}

/* Fill rows of the small schema: codes cycle through -1 .. ncode-1, NaN every 5th x. */
static void small_rows(struct ml_block *b, const struct ml_schema *s, size_t n, int ncode)
{
	size_t i;

	ml_block_init(b, s, n, NULL);
	for (i = 0; i < n; i++) {
		b->col[0].num[i] = i % 5 == 4 ? NAN : (double)i * 0.5;
		b->col[1].cat[i] = (int32_t)(i % (size_t)(ncode + 1)) - 1;
		b->col[2].num[i] = 1.0;
	}
	b->nrow = n;
}

/* A small stream: a block, a dictionary addition, a block using the new code. */
static int small_stream(int level, size_t rows, struct bytes *out)
{
	struct ml_schema s;
	struct ml_block b1, b2;
	struct piece pc[2];
	int rc;

	small_schema(&s);
	small_rows(&b1, &s, rows, 2);
	small_rows(&b2, &s, rows, 3);
	pc[0] = (struct piece){&b1, 0, rows, NULL, NULL};
	pc[1] = (struct piece){&b2, 0, rows, "c", "new"};
	rc = write_stream(&s, level, pc, 2, out);
	ml_block_release(&b1);
	ml_block_release(&b2);
	ml_schema_release(&s);
	return rc;
}

/* Offset of the first record (after magic, version, length, body and CRC). */
static size_t first_record(const struct bytes *bs)
{
	return 16 + rd32(bs->p + 12) + 4;
}

/* Offset of the record after the one at off. */
static size_t next_record(const struct bytes *bs, size_t off)
{
	const unsigned char *p = bs->p + off;
	uint32_t i, count;
	size_t q;

	switch (p[0]) {
	case 'B':
		return off + 22 + (size_t)rd64(p + 14) + 4;
	case 'D':
		count = rd32(p + 9);
		q = off + 13;
		for (i = 0; i < count; i++)
			q += 4 + rd32(bs->p + q);
		return q + 4;
	default:
		return off + 13;
	}
}

/* Offset of the n-th record with the given tag, or 0. */
static size_t find_record(const struct bytes *bs, int tag, int nth)
{
	size_t off = first_record(bs);

	while (off < bs->n) {
		if (bs->p[off] == tag && nth-- == 0)
			return off;
		off = next_record(bs, off);
	}
	return 0;
}

/* Recompute the CRC of the record at off (so that only semantic checks can fail). */
static void fix_crc(struct bytes *bs, size_t off)
{
	size_t end = next_record(bs, off) - 4;
	wr32(bs->p + end, (uint32_t)crc32(0, bs->p + off, (uInt)(end - off)));
}

static int msg_has(const struct ml_err *e, const char *s)
{
	if (!strstr(e->msg, s)) {
		fprintf(stderr, "message '%s' lacks '%s'\n", e->msg, s);
		return 0;
	}
	return 1;
}

static int same_bits(const void *a, const void *b, size_t n)
{
	return memcmp(a, b, n) == 0;
}

static void test_roundtrip_mixed(void)
{
	struct ml_schema s, got;
	struct ml_block b, all;
	struct bytes bs;
	struct ml_err e;
	struct piece pc;
	uint64_t st = 7;
	size_t i, n = 5000;
	static const char *names[] = {"id", "city", "temp", "plan", "score", "été"};
	int j;

	ml_schema_init(&s);
	for (j = 0; j < 6; j++)
		ml_schema_add(&s, names[j], j == 1 || j == 3 ? ML_CAT : ML_NUM);
	ml_dict_intern(&s.cols[1].dict, "Paris", 5);
	ml_dict_intern(&s.cols[1].dict, "Zürich", 7);
	ml_dict_intern(&s.cols[1].dict, "", 0);
	ml_dict_intern(&s.cols[3].dict, "basic", 5);
	ml_block_init(&b, &s, n, NULL);
	for (i = 0; i < n; i++) {
		b.col[0].num[i] = (double)i;
		b.col[1].cat[i] = (int32_t)(next_rand(&st) % 4) - 1;
		b.col[2].num[i] = bits_double(next_rand(&st) << 11 ^ next_rand(&st));
		b.col[3].cat[i] = i % 7 == 0 ? -1 : 0;
		b.col[4].num[i] = i % 3 ? -0.0 : 1e-310;
		b.col[5].num[i] = i % 11 ? 1.0 / 3 : -INFINITY;
	}
	b.nrow = n;
	pc = (struct piece){&b, 0, n, NULL, NULL};
	CHECK(write_stream(&s, 0, &pc, 1, &bs) == 0);
	CHECK(memcmp(bs.p, "\x89MLS\r\n\x1a\n", 8) == 0);
	CHECK(rd32(bs.p + 8) == 1);
	CHECK(read_stream(&bs, &got, &all, NULL, 0, &e) == 0);
	CHECK(got.ncol == 6);
	for (j = 0; j < got.ncol && j < 6; j++) {
		CHECK(strcmp(got.cols[j].name, names[j]) == 0);
		CHECK(got.cols[j].type == s.cols[j].type);
		CHECK(got.cols[j].dict.n == s.cols[j].dict.n);
	}
	CHECK(got.cols[1].dict.n == 3 && strcmp(got.cols[1].dict.str[1], "Zürich") == 0 &&
	      got.cols[1].dict.len[2] == 0);
	CHECK(all.nrow == n);
	for (j = 0; j < 6 && all.nrow == n; j++)
		CHECK(same_bits(all.col[j].num, b.col[j].num, n * (j == 1 || j == 3 ? 4 : 8)));
	ml_block_release(&all);
	ml_schema_release(&got);
	free(bs.p);
	ml_block_release(&b);
	ml_schema_release(&s);
}

static void test_missing_bit_exact(void)
{
	struct ml_schema s, got;
	struct ml_block b, all;
	struct bytes bs;
	struct ml_err e;
	struct piece pc;
	static const uint64_t nans[] = {0x7ff8000000000000ULL, 0xfff8000000000000ULL,
					0x7ff0000000000001ULL, 0x7ffdeadbeef00001ULL,
					0xffffffffffffffffULL};
	int level;
	size_t i;

	ml_schema_init(&s);
	ml_schema_add(&s, "v", ML_NUM);
	ml_schema_add(&s, "k", ML_CAT);
	ml_dict_intern(&s.cols[1].dict, "only", 4);
	ml_block_init(&b, &s, 5, NULL);
	for (i = 0; i < 5; i++) {
		b.col[0].num[i] = bits_double(nans[i]);
		b.col[1].cat[i] = i % 2 ? 0 : ML_MISSING_CAT;
	}
	b.nrow = 5;
	for (level = 0; level <= 9; level += 9) {
		pc = (struct piece){&b, 0, 5, NULL, NULL};
		CHECK(write_stream(&s, level, &pc, 1, &bs) == 0);
		CHECK(read_stream(&bs, &got, &all, NULL, 0, &e) == 0);
		CHECK(all.nrow == 5);
		if (all.nrow == 5) {
			CHECK(same_bits(all.col[0].num, nans, sizeof(nans)));
			CHECK(all.col[1].cat[0] == -1 && all.col[1].cat[1] == 0);
		}
		ml_block_release(&all);
		ml_schema_release(&got);
		free(bs.p);
	}
	ml_block_release(&b);
	ml_schema_release(&s);
}

static void test_empty_table(void)
{
	struct ml_schema s, got;
	struct ml_block all;
	struct bytes bs;
	struct ml_err e;

	/* Columns and dictionaries but no rows. */
	small_schema(&s);
	CHECK(write_stream(&s, 0, NULL, 0, &bs) == 0);
	CHECK(read_stream(&bs, &got, &all, NULL, 0, &e) == 0);
	CHECK(got.ncol == 3 && all.nrow == 0);
	CHECK(got.ncol == 3 && got.cols[1].dict.n == 2 &&
	      strcmp(got.cols[1].dict.str[1], "b") == 0);
	/* The end marker counts 0 rows. */
	CHECK(bs.n >= 13 && bs.p[bs.n - 13] == 'E' && rd64(bs.p + bs.n - 12) == 0);
	ml_block_release(&all);
	ml_schema_release(&got);
	ml_schema_release(&s);
	free(bs.p);

	/* No columns at all. */
	ml_schema_init(&s);
	CHECK(write_stream(&s, 6, NULL, 0, &bs) == 0);
	CHECK(read_stream(&bs, &got, &all, NULL, 0, &e) == 0);
	CHECK(got.ncol == 0 && all.nrow == 0);
	ml_block_release(&all);
	ml_schema_release(&got);
	free(bs.p);
}

static void test_many_blocks(void)
{
	struct ml_schema s, got;
	struct ml_block b, all;
	struct piece pc[200];
	struct bytes bs;
	struct ml_err e;
	size_t i, k, total = 0, nonempty = 0;
	int level;

	small_schema(&s);
	small_rows(&b, &s, 1000, 2);
	for (k = 0; k < 200; k++) {
		size_t from = (k * 37) % 900, to = from + (k * 13) % 100;
		pc[k] = (struct piece){&b, from, to, NULL, NULL};
		total += to - from;
		nonempty += to > from;
	}
	for (level = 0; level <= 1; level++) {
		CHECK(write_stream(&s, level, pc, 200, &bs) == 0);
		CHECK(read_stream(&bs, &got, &all, NULL, 0, &e) == 0);
		CHECK(all.nrow == total);
		for (k = 0, i = 0; k < 200 && all.nrow == total; k++) {
			size_t m = pc[k].to - pc[k].from;
			CHECK(same_bits(all.col[0].num + i, b.col[0].num + pc[k].from, m * 8));
			CHECK(same_bits(all.col[1].cat + i, b.col[1].cat + pc[k].from, m * 4));
			i += m;
		}
		/* Empty writes give no block records. */
		for (k = 0, i = first_record(&bs); i < bs.n; i = next_record(&bs, i))
			k += bs.p[i] == 'B';
		CHECK(k == nonempty && nonempty == 198);
		ml_block_release(&all);
		ml_schema_release(&got);
		free(bs.p);
	}
	ml_block_release(&b);
	ml_schema_release(&s);
}

static void test_big_write_is_split(void)
{
	struct ml_schema s, got;
	struct ml_block b, all;
	struct bytes bs;
	struct ml_err e;
	struct piece pc;
	size_t i, k, n = 300000;

	ml_schema_init(&s);
	ml_schema_add(&s, "a", ML_NUM);
	ml_schema_add(&s, "b", ML_NUM);
	ml_schema_add(&s, "c", ML_NUM);
	ml_schema_add(&s, "d", ML_NUM);
	ml_block_init(&b, &s, n, NULL);
	for (i = 0; i < n; i++)
		for (k = 0; k < 4; k++)
			b.col[k].num[i] = (double)(i * 4 + k);
	b.nrow = n;
	pc = (struct piece){&b, 0, n, NULL, NULL};
	CHECK(write_stream(&s, 0, &pc, 1, &bs) == 0);
	for (k = 0, i = first_record(&bs); i < bs.n; i = next_record(&bs, i))
		k += bs.p[i] == 'B';
	CHECK(k >= 2);
	CHECK(read_stream(&bs, &got, &all, NULL, 0, &e) == 0);
	CHECK(all.nrow == n);
	for (k = 0; k < 4 && all.nrow == n; k++)
		CHECK(same_bits(all.col[k].num, b.col[k].num, n * 8));
	ml_block_release(&all);
	ml_schema_release(&got);
	free(bs.p);
	ml_block_release(&b);
	ml_schema_release(&s);
}

static void test_dict_additions(void)
{
	struct ml_schema s, got;
	struct ml_block b1, b2, b3, all;
	struct piece pc[4];
	struct bytes bs;
	struct ml_err e;
	int32_t after[3] = {0, 0, 0};
	size_t d;

	small_schema(&s);
	small_rows(&b1, &s, 10, 2);
	small_rows(&b2, &s, 10, 3);
	small_rows(&b3, &s, 10, 5);
	pc[0] = (struct piece){&b1, 0, 10, NULL, NULL};
	pc[1] = (struct piece){&b2, 0, 10, "c", "third"};
	pc[2] = (struct piece){NULL, 0, 0, "c", "fourth"};
	pc[3] = (struct piece){&b3, 0, 10, "c", "fifth"};
	CHECK(write_stream(&s, 0, pc, 4, &bs) == 0);
	/* The header holds what the dictionary had at open, records hold the rest. */
	d = find_record(&bs, 'D', 0);
	CHECK(d > 0 && rd32(bs.p + d + 1) == 1 && rd32(bs.p + d + 5) == 2 &&
	      rd32(bs.p + d + 9) == 1);
	d = find_record(&bs, 'D', 1);
	CHECK(d > 0 && rd32(bs.p + d + 5) == 3 && rd32(bs.p + d + 9) == 2);
	CHECK(find_record(&bs, 'D', 2) == 0);
	CHECK(read_stream(&bs, &got, &all, after, 3, &e) == 0);
	CHECK(after[0] == 2 && after[1] == 3 && after[2] == 5);
	CHECK(got.ncol == 3 && got.cols[1].dict.n == 5);
	if (got.ncol == 3 && got.cols[1].dict.n == 5) {
		CHECK(strcmp(got.cols[1].dict.str[2], "third") == 0);
		CHECK(strcmp(got.cols[1].dict.str[4], "fifth") == 0);
		CHECK(ml_dict_find(&got.cols[1].dict, "fourth", 6) == 3);
	}
	CHECK(all.nrow == 30);
	if (all.nrow == 30) {
		CHECK(same_bits(all.col[1].cat + 20, b3.col[1].cat, 40));
		CHECK(all.col[1].cat[25] == 4);
	}
	ml_block_release(&all);
	ml_schema_release(&got);
	free(bs.p);

	/* Additions with no rows after them still reach the reader. */
	pc[0] = (struct piece){NULL, 0, 0, "c", "sixth"};
	CHECK(write_stream(&s, 0, pc, 1, &bs) == 0);
	CHECK(read_stream(&bs, &got, NULL, NULL, 0, &e) == 0);
	CHECK(got.ncol == 3 && got.cols[1].dict.n == 6);
	ml_schema_release(&got);
	free(bs.p);
	ml_block_release(&b1);
	ml_block_release(&b2);
	ml_block_release(&b3);
	ml_schema_release(&s);
}

static void test_big_dictionary(void)
{
	struct ml_schema s, got;
	struct ml_block b, all;
	struct bytes bs;
	struct ml_err e;
	struct piece pc;
	char word[200];
	int32_t i, n = 120000;

	/* 120000 entries of ~150 bytes: more than the header takes, so records follow. */
	ml_schema_init(&s);
	ml_schema_add(&s, "x", ML_NUM);
	ml_schema_add(&s, "k", ML_CAT);
	memset(word, 'w', sizeof(word));
	for (i = 0; i < n; i++) {
		int len = snprintf(word, sizeof(word), "%d", i);
		word[len] = 'w';
		ml_dict_intern(&s.cols[1].dict, word, 150);
	}
	ml_block_init(&b, &s, 3, NULL);
	b.col[0].num[0] = b.col[0].num[1] = b.col[0].num[2] = 2;
	b.col[1].cat[0] = 0;
	b.col[1].cat[1] = n - 1;
	b.col[1].cat[2] = -1;
	b.nrow = 3;
	pc = (struct piece){&b, 0, 3, NULL, NULL};
	CHECK(write_stream(&s, 0, &pc, 1, &bs) == 0);
	CHECK(find_record(&bs, 'D', 0) > 0);
	CHECK(read_stream(&bs, &got, &all, NULL, 0, &e) == 0);
	CHECK(got.ncol == 2 && got.cols[1].dict.n == n);
	if (got.ncol == 2 && got.cols[1].dict.n == n)
		CHECK(memcmp(got.cols[1].dict.str[n - 1], s.cols[1].dict.str[n - 1], 151) == 0);
	CHECK(all.nrow == 3 && all.col[1].cat[1] == n - 1);
	ml_block_release(&all);
	ml_schema_release(&got);
	free(bs.p);
	ml_block_release(&b);
	ml_schema_release(&s);
}

static void test_zlib_and_raw(void)
{
	struct ml_schema s, got;
	struct ml_block b, all;
	struct bytes bs, raw;
	struct ml_err e;
	struct piece pc[2];
	uint64_t st = 99;
	size_t i, off, n = 20000;

	small_schema(&s);
	small_rows(&b, &s, 2 * n, 2);
	/* The first half compresses; the second half is noise, which zlib would enlarge. */
	for (i = n; i < 2 * n; i++) {
		b.col[0].num[i] = bits_double(next_rand(&st) << 11 ^ next_rand(&st));
		b.col[2].num[i] = bits_double(next_rand(&st) << 11 ^ next_rand(&st));
		b.col[1].cat[i] = (int32_t)(next_rand(&st) % 3) - 1;
	}
	pc[0] = (struct piece){&b, 0, n, NULL, NULL};
	pc[1] = (struct piece){&b, n, 2 * n, NULL, NULL};
	CHECK(write_stream(&s, 6, pc, 2, &bs) == 0);
	CHECK(write_stream(&s, 0, pc, 2, &raw) == 0);
	CHECK(bs.n < raw.n);
	off = find_record(&bs, 'B', 0);
	CHECK(off > 0 && bs.p[off + 5] == 1 && rd64(bs.p + off + 14) < rd64(bs.p + off + 6));
	off = find_record(&raw, 'B', 0);
	CHECK(off > 0 && raw.p[off + 5] == 0);
	CHECK(read_stream(&bs, &got, &all, NULL, 0, &e) == 0);
	CHECK(all.nrow == 2 * n);
	if (all.nrow == 2 * n) {
		CHECK(same_bits(all.col[0].num, b.col[0].num, 2 * n * 8));
		CHECK(same_bits(all.col[1].cat, b.col[1].cat, 2 * n * 4));
		CHECK(same_bits(all.col[2].num, b.col[2].num, 2 * n * 8));
	}
	ml_block_release(&all);
	ml_schema_release(&got);
	free(bs.p);
	free(raw.p);
	ml_block_release(&b);
	ml_schema_release(&s);

	/* Noise alone: zlib would not save space, so the block is stored raw. */
	ml_schema_init(&s);
	ml_schema_add(&s, "noise", ML_NUM);
	ml_block_init(&b, &s, n, NULL);
	for (i = 0; i < n; i++)
		b.col[0].num[i] = bits_double(next_rand(&st) << 11 ^ next_rand(&st));
	b.nrow = n;
	pc[0] = (struct piece){&b, 0, n, NULL, NULL};
	CHECK(write_stream(&s, 9, pc, 1, &bs) == 0);
	off = find_record(&bs, 'B', 0);
	CHECK(off > 0 && bs.p[off + 5] == 0 && rd64(bs.p + off + 14) == rd64(bs.p + off + 6));
	CHECK(read_stream(&bs, &got, &all, NULL, 0, &e) == 0);
	CHECK(all.nrow == n && same_bits(all.col[0].num, b.col[0].num, n * 8));
	ml_block_release(&all);
	ml_schema_release(&got);
	free(bs.p);
	ml_block_release(&b);
	ml_schema_release(&s);
}

static void test_gzipped_stream(void)
{
	struct ml_schema got;
	struct ml_block all;
	struct bytes bs, gz;
	struct ml_err e;
	z_stream zs;

	CHECK(small_stream(0, 8, &bs) == 0);
	memset(&zs, 0, sizeof(zs));
	CHECK(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
	gz.n = deflateBound(&zs, bs.n);
	gz.p = malloc(gz.n);
	zs.next_in = bs.p;
	zs.avail_in = (uInt)bs.n;
	zs.next_out = gz.p;
	zs.avail_out = (uInt)gz.n;
	CHECK(deflate(&zs, Z_FINISH) == Z_STREAM_END);
	gz.n = zs.total_out;
	deflateEnd(&zs);
	CHECK(read_stream(&gz, &got, &all, NULL, 0, &e) == 0);
	CHECK(all.nrow == 16 && got.ncol == 3 && got.cols[1].dict.n == 3);
	ml_block_release(&all);
	ml_schema_release(&got);
	free(gz.p);
	free(bs.p);
}

static void test_truncation(void)
{
	struct ml_schema got;
	struct ml_err e;
	struct bytes bs, cut;
	int level, bad = 0;
	size_t n;

	for (level = 0; level <= 9; level += 9) {
		CHECK(small_stream(level, 24, &bs) == 0);
		if (level)
			CHECK(bs.p[find_record(&bs, 'B', 0) + 5] == 1);
		for (n = 0; n < bs.n; n++) {
			int rc;
			cut.p = bs.p;
			cut.n = n;
			rc = read_stream(&cut, &got, NULL, NULL, 0, &e);
			ml_schema_release(&got);
			if (rc != ML_E_DATA) {
				fprintf(stderr, "level %d: %zu of %zu bytes: rc %d\n", level, n,
					bs.n, rc);
				bad++;
				continue;
			}
			if (n == 0 ? !msg_has(&e, "empty input")
				   : !msg_has(&e, "truncated stream at byte "))
				bad++;
		}
		/* The whole stream reads. */
		CHECK(read_stream(&bs, &got, NULL, NULL, 0, &e) == 0);
		ml_schema_release(&got);
		free(bs.p);
	}
	CHECK(bad == 0);
	/* A stream that stops between records says so. */
	CHECK(small_stream(0, 3, &bs) == 0);
	cut.p = bs.p;
	cut.n = find_record(&bs, 'E', 0);
	CHECK(read_stream(&cut, &got, NULL, NULL, 0, &e) == ML_E_DATA);
	ml_schema_release(&got);
	{
		char want[64];
		snprintf(want, sizeof(want), "truncated stream at byte %zu: no end marker", cut.n);
		CHECK(strcmp(e.msg, want) == 0);
	}
	free(bs.p);
}

static void test_every_bit_flip(void)
{
	struct ml_schema got;
	struct ml_err e;
	struct bytes bs;
	int level, bad = 0;
	size_t bit;

	for (level = 0; level <= 9; level += 9) {
		CHECK(small_stream(level, 24, &bs) == 0);
		for (bit = 0; bit < bs.n * 8; bit++) {
			int rc;
			bs.p[bit / 8] ^= (unsigned char)(1u << bit % 8);
			rc = read_stream(&bs, &got, NULL, NULL, 0, &e);
			ml_schema_release(&got);
			bs.p[bit / 8] ^= (unsigned char)(1u << bit % 8);
			if (rc != ML_E_DATA) {
				fprintf(stderr, "level %d: flip of bit %zu (byte %zu): rc %d\n",
					level, bit % 8, bit / 8, rc);
				bad++;
			}
		}
		free(bs.p);
	}
	CHECK(bad == 0);
}

static void test_crc_messages(void)
{
	struct ml_schema got;
	struct ml_err e;
	struct bytes bs;
	char want[96];
	size_t off;

	CHECK(small_stream(0, 4, &bs) == 0);
	/* A value in the second block. */
	off = find_record(&bs, 'B', 1);
	bs.p[off + 22 + 3] ^= 0x10;
	CHECK(read_stream(&bs, &got, NULL, NULL, 0, &e) == ML_E_DATA);
	ml_schema_release(&got);
	snprintf(want, sizeof(want), "corrupt block at byte %zu: CRC mismatch", off);
	CHECK(strcmp(e.msg, want) == 0);
	CHECK(e.line == 0 && strstr(e.where, "test_stream.") != NULL);
	bs.p[off + 22 + 3] ^= 0x10;
	/* The header body. */
	bs.p[20] ^= 1;
	CHECK(read_stream(&bs, &got, NULL, NULL, 0, &e) == ML_E_DATA);
	ml_schema_release(&got);
	CHECK(strcmp(e.msg, "corrupt header: CRC mismatch") == 0);
	bs.p[20] ^= 1;
	/* The dictionary record. */
	off = find_record(&bs, 'D', 0);
	bs.p[off + 18] ^= 4;
	CHECK(read_stream(&bs, &got, NULL, NULL, 0, &e) == ML_E_DATA);
	ml_schema_release(&got);
	snprintf(want, sizeof(want), "corrupt dictionary record at byte %zu: CRC mismatch", off);
	CHECK(strcmp(e.msg, want) == 0);
	bs.p[off + 18] ^= 4;
	CHECK(read_stream(&bs, &got, NULL, NULL, 0, &e) == 0);
	ml_schema_release(&got);
	free(bs.p);
}

static void test_semantic_checks(void)
{
	struct ml_schema got;
	struct ml_err e;
	struct bytes bs;
	size_t off;

	/* Codes outside the dictionary, with a valid CRC. */
	CHECK(small_stream(0, 4, &bs) == 0);
	off = find_record(&bs, 'B', 0);
	wr32(bs.p + off + 22 + 4 * 8 + 4, 2); /* c[1]: "b" is 1, 2 comes later */
	fix_crc(&bs, off);
	CHECK(read_stream(&bs, &got, NULL, NULL, 0, &e) == ML_E_DATA);
	ml_schema_release(&got);
	CHECK(msg_has(&e, "code 2 in column 'c' is outside its dictionary of 2 entries"));
	wr32(bs.p + off + 22 + 4 * 8 + 4, (uint32_t)-2);
	fix_crc(&bs, off);
	CHECK(read_stream(&bs, &got, NULL, NULL, 0, &e) == ML_E_DATA);
	ml_schema_release(&got);
	CHECK(msg_has(&e, "code -2 in column 'c'"));
	free(bs.p);

	/* The end marker's row count. */
	CHECK(small_stream(0, 4, &bs) == 0);
	off = find_record(&bs, 'E', 0);
	CHECK(rd64(bs.p + off + 1) == 8);
	wr64(bs.p + off + 1, 7);
	fix_crc(&bs, off);
	CHECK(read_stream(&bs, &got, NULL, NULL, 0, &e) == ML_E_DATA);
	ml_schema_release(&got);
	CHECK(msg_has(&e, "counts 7 rows but the stream held 8"));
	free(bs.p);

	/* A dictionary record that does not continue the dictionary. */
	CHECK(small_stream(0, 4, &bs) == 0);
	off = find_record(&bs, 'D', 0);
	wr32(bs.p + off + 5, 1);
	fix_crc(&bs, off);
	CHECK(read_stream(&bs, &got, NULL, NULL, 0, &e) == ML_E_DATA);
	ml_schema_release(&got);
	CHECK(msg_has(&e, "starts at code 1 but column 'c' has 2 entries"));
	/* ... or names a numeric column, or repeats an entry. */
	wr32(bs.p + off + 5, 2);
	wr32(bs.p + off + 1, 0);
	fix_crc(&bs, off);
	CHECK(read_stream(&bs, &got, NULL, NULL, 0, &e) == ML_E_DATA);
	ml_schema_release(&got);
	CHECK(msg_has(&e, "column 1 is not categorical"));
	wr32(bs.p + off + 1, 1);
	CHECK(rd32(bs.p + off + 13) == 3);
	memcpy(bs.p + off + 17, "b\0\0", 3);
	wr32(bs.p + off + 13, 1);
	/* Shorten the entry to "b": move the CRC and the rest up by 2 bytes. */
	memmove(bs.p + off + 18, bs.p + off + 20, bs.n - off - 20);
	bs.n -= 2;
	fix_crc(&bs, off);
	CHECK(read_stream(&bs, &got, NULL, NULL, 0, &e) == ML_E_DATA);
	ml_schema_release(&got);
	CHECK(msg_has(&e, "repeats 'b'"));
	free(bs.p);

	/* A block whose lengths disagree with its rows. */
	CHECK(small_stream(0, 4, &bs) == 0);
	off = find_record(&bs, 'B', 0);
	wr32(bs.p + off + 1, 5);
	CHECK(read_stream(&bs, &got, NULL, NULL, 0, &e) == ML_E_DATA);
	ml_schema_release(&got);
	CHECK(msg_has(&e, "5 rows need 100 bytes, not 80"));
	wr32(bs.p + off + 1, 4);
	bs.p[off + 5] = 7;
	CHECK(read_stream(&bs, &got, NULL, NULL, 0, &e) == ML_E_DATA);
	ml_schema_release(&got);
	CHECK(msg_has(&e, "unknown codec 7"));
	bs.p[off + 5] = 0;
	bs.p[off] = 'X';
	CHECK(read_stream(&bs, &got, NULL, NULL, 0, &e) == ML_E_DATA);
	ml_schema_release(&got);
	CHECK(msg_has(&e, "unknown record type 0x58"));
	free(bs.p);
}

static void test_bad_zlib_payload(void)
{
	struct ml_schema got;
	struct ml_err e;
	struct bytes bs;
	size_t off;

	/* Compressed data that expand to the wrong size, behind a valid CRC. */
	CHECK(small_stream(9, 24, &bs) == 0);
	off = find_record(&bs, 'B', 0);
	CHECK(bs.p[off + 5] == 1);
	wr64(bs.p + off + 6, rd64(bs.p + off + 6) + 20);
	wr32(bs.p + off + 1, rd32(bs.p + off + 1) + 1);
	fix_crc(&bs, off);
	CHECK(read_stream(&bs, &got, NULL, NULL, 0, &e) == ML_E_DATA);
	ml_schema_release(&got);
	CHECK(msg_has(&e, "expand to fewer bytes than recorded"));
	wr64(bs.p + off + 6, rd64(bs.p + off + 6) - 40);
	wr32(bs.p + off + 1, rd32(bs.p + off + 1) - 2);
	fix_crc(&bs, off);
	CHECK(read_stream(&bs, &got, NULL, NULL, 0, &e) == ML_E_DATA);
	ml_schema_release(&got);
	CHECK(msg_has(&e, "expand to more bytes than recorded"));
	wr64(bs.p + off + 6, rd64(bs.p + off + 6) + 20);
	wr32(bs.p + off + 1, rd32(bs.p + off + 1) + 1);
	bs.p[off + 22 + 2] ^= 0xff;
	fix_crc(&bs, off);
	CHECK(read_stream(&bs, &got, NULL, NULL, 0, &e) == ML_E_DATA);
	ml_schema_release(&got);
	CHECK(msg_has(&e, "corrupt block at byte"));
	free(bs.p);
}

static void test_wrong_magic(void)
{
	static const struct {
		const char *data;
		size_t n;
		const char *msg;
	} cases[] = {
	    {"id,name\n1,x\n", 12, "not a table stream: found text 'id,name' (CSV or TSV?)"},
	    {"\x89MLM\r\n\x1a\n\1\0\0\0", 12, "is an ml-model file, not a table stream"},
	    {"\x89MLS\n\x1a\n\1\0\0\0\0", 11, "line endings converted"},
	    {"\x89MLS\r\r\n\x1a\r\n\1\0\0", 12, "line endings converted"},
	    {"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16,
	     "not a table stream: unknown magic '89 50 4e 47 "
	     "0d 0a 1a 0a'"},
	    {"\x89MLS\r\n\x1a\r\n\1", 10, "line endings converted"},
	    {"\x89MLS1234", 8, "not a table stream: damaged magic"},
	    {"\x89MLS\r", 5, "truncated stream at byte 5: incomplete magic"},
	    {"", 0, "empty input, not a table stream"},
	};
	struct ml_schema got;
	struct ml_err e;
	struct bytes bs;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bs.p = (unsigned char *)(uintptr_t)cases[i].data;
		bs.n = cases[i].n;
		CHECK(read_stream(&bs, &got, NULL, NULL, 0, &e) == ML_E_DATA);
		CHECK(got.ncol == 0);
		CHECK(msg_has(&e, cases[i].msg));
	}
	CHECK(ml_stream_sniff((const unsigned char *)"\x89MLS\r\n\x1a\n", 8));
	CHECK(ml_stream_sniff((const unsigned char *)"\x89MLS", 4));
	CHECK(!ml_stream_sniff((const unsigned char *)"a,b\n1,2\n", 8));
	CHECK(!ml_stream_sniff((const unsigned char *)"", 0));
}

static void test_versions(void)
{
	struct ml_schema got;
	struct ml_err e;
	struct bytes bs;

	CHECK(small_stream(0, 2, &bs) == 0);
	wr32(bs.p + 8, 2);
	CHECK(read_stream(&bs, &got, NULL, NULL, 0, &e) == ML_E_DATA);
	ml_schema_release(&got);
	CHECK(strcmp(e.msg, "written by a newer mlpipe (ml-stream version 2; this reads "
			    "version 1)") == 0);
	wr32(bs.p + 8, 0);
	CHECK(read_stream(&bs, &got, NULL, NULL, 0, &e) == ML_E_DATA);
	ml_schema_release(&got);
	CHECK(msg_has(&e, "version 0"));
	free(bs.p);
}

static void test_trailing_bytes(void)
{
	struct ml_schema got;
	struct ml_err e;
	struct bytes bs, two;
	char want[80];

	CHECK(small_stream(0, 2, &bs) == 0);
	two.n = bs.n + 1;
	two.p = malloc(two.n);
	memcpy(two.p, bs.p, bs.n);
	two.p[bs.n] = '\n';
	CHECK(read_stream(&two, &got, NULL, NULL, 0, &e) == ML_E_DATA);
	ml_schema_release(&got);
	snprintf(want, sizeof(want), "unexpected data at byte %zu after the end marker", bs.n);
	CHECK(strcmp(e.msg, want) == 0);
	free(two.p);
	/* Two streams back to back are not one stream. */
	two.n = 2 * bs.n;
	two.p = malloc(two.n);
	memcpy(two.p, bs.p, bs.n);
	memcpy(two.p + bs.n, bs.p, bs.n);
	CHECK(read_stream(&two, &got, NULL, NULL, 0, &e) == ML_E_DATA);
	ml_schema_release(&got);
	CHECK(msg_has(&e, "after the end marker"));
	free(two.p);
	free(bs.p);
}

static void test_errors_are_sticky(void)
{
	struct ml_schema s;
	struct ml_block b;
	struct bytes bs;
	struct ml_err e;
	struct ml_input *in;
	struct ml_stream_in *r;
	char *path;
	size_t off;

	CHECK(small_stream(0, 4, &bs) == 0);
	off = find_record(&bs, 'B', 1);
	bs.p[off + 30] ^= 1;
	path = temp_file(bs.p, bs.n);
	in = ml_input_open(path, &e);
	unlink(path);
	free(path);
	ml_schema_init(&s);
	r = in ? ml_stream_in_open(in, &s, &e) : NULL;
	CHECK(r != NULL);
	if (r) {
		ml_block_init(&b, &s, 0, NULL);
		CHECK(ml_stream_in_next(r, &s, &b, &e) == 4 && b.nrow == 4);
		CHECK(ml_stream_in_next(r, &s, &b, &e) == ML_E_DATA);
		CHECK(msg_has(&e, "CRC mismatch"));
		CHECK(ml_stream_in_next(r, &s, &b, &e) == ML_E_DATA);
		ml_block_release(&b);
	}
	ml_stream_in_free(r);
	ml_input_close(in);
	ml_schema_release(&s);
	free(bs.p);
}

static void test_writer_checks(void)
{
	struct ml_schema s;
	struct ml_block b;
	struct ml_err e;
	struct ml_stream_out *w;
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	small_schema(&s);
	small_rows(&b, &s, 4, 2);
	CHECK(ml_stream_out_open(fp, "out", &s, 10, &e) == NULL && e.code == ML_E_USAGE);
	w = ml_stream_out_open(fp, "out", &s, 0, &e);
	CHECK(w != NULL);
	if (w) {
		b.col[1].cat[2] = 2;
		CHECK(ml_stream_out_write(w, &b, 0, 4, &e) == ML_E_INTERNAL);
		CHECK(msg_has(&e, "code 2 in column 'c' is outside its dictionary of 2 entries"));
		CHECK(ml_stream_out_write(w, &b, 0, 5, &e) == ML_E_INTERNAL);
		b.col[1].cat[2] = 1;
		CHECK(ml_stream_out_write(w, &b, 0, 4, &e) == 0);
		CHECK(ml_stream_out_finish(w, &e) == 0);
		CHECK(ml_stream_out_write(w, &b, 0, 4, &e) == ML_E_INTERNAL);
	}
	ml_stream_out_free(w);
	ml_stream_out_free(NULL);
	ml_stream_in_free(NULL);
	fclose(fp);
	free(buf);
	ml_block_release(&b);
	ml_schema_release(&s);
}

int main(void)
{
	RUN(test_roundtrip_mixed);
	RUN(test_missing_bit_exact);
	RUN(test_empty_table);
	RUN(test_many_blocks);
	RUN(test_big_write_is_split);
	RUN(test_dict_additions);
	RUN(test_big_dictionary);
	RUN(test_zlib_and_raw);
	RUN(test_gzipped_stream);
	RUN(test_truncation);
	RUN(test_every_bit_flip);
	RUN(test_crc_messages);
	RUN(test_semantic_checks);
	RUN(test_bad_zlib_payload);
	RUN(test_wrong_magic);
	RUN(test_versions);
	RUN(test_trailing_bytes);
	RUN(test_errors_are_sticky);
	RUN(test_writer_checks);
	return UNIT_EXIT();
}
