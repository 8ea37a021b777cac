/* Fuzzing the ml-stream(5) reader: the input as it is, and again with its CRCs and the end
 * marker's row count made right (so that mutations get past the checks to the parsing).
 * Whatever is read is a valid table: codes within their dictionaries, the rows counted;
 * ml_frame_read gives the same table as the block reader; and writing it as a stream again
 * (plain or compressed) reads back the same.
 *
 * Input: an ml-stream, as mlcat -f stream writes it. */
#include <zlib.h>

#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t crc(uint32_t c, const uint8_t *p, size_t n)
{
	return (uint32_t)crc32(c, p, (uInt)n);
}

/* Walk the records of ml-stream(5) and set every CRC, and the end marker's count, to what
 * the reader checks; stop at anything that does not fit. */
static void fix(uint8_t *p, size_t n)
{
	size_t at, len, k, end;
	uint64_t rows = 0;

	if (n < 16 || memcmp(p, "\x89MLS\r\n\x1a\n", 8) != 0)
		return;
	len = get32(p + 12);
	if (len > n - 16 || n - 16 - len < 4)
		return;
	put32(p + 16 + len, crc(crc(0, p + 8, 8), p + 16, len));
	for (at = 16 + len + 4; at < n;) {
		if (p[at] == 'B') {
			uint64_t stored;
			if (n - at < 22)
				return;
			stored = get64(p + at + 14);
			if (stored > n - at - 22 || n - at - 22 - stored < 4)
				return;
			end = at + 22 + (size_t)stored;
			put32(p + end, crc(crc(0, p + at, 22), p + at + 22, (size_t)stored));
			rows += get32(p + at + 1);
			at = end + 4;
		} else if (p[at] == 'D') {
			uint32_t count, i;
			if (n - at < 13)
				return;
			count = get32(p + at + 9);
			for (i = 0, k = at + 13; i < count; i++) {
				if (n - k < 4 || get32(p + k) > n - k - 4)
					return;
				k += 4 + get32(p + k);
			}
			if (n - k < 4)
				return;
			put32(p + k, crc(crc(0, p + at, 13), p + at + 13, k - at - 13));
			at = k + 4;
		} else if (p[at] == 'E') {
			if (n - at < 13)
				return;
			put32(p + at + 1, (uint32_t)rows);
			put32(p + at + 5, (uint32_t)(rows >> 32));
			put32(p + at + 9, crc(0, p + at, 9));
			return;
		} else {
			return;
		}
	}
}

/* Write f as a stream into memory and return it (malloc'd). */
static char *write_stream(const struct ml_frame *f, int level, size_t *len)
{
	struct ml_write_opts wo;
	struct ml_writer *w;
	struct ml_err e;
	char *buf = NULL;
	FILE *fp = open_memstream(&buf, len);
	size_t i;

	if (!fp)
		fz_fail("open_memstream failed");
	ml_write_opts_init(&wo);
	wo.format = ML_FMT_STREAM;
	wo.compress = level;
	w = ml_writer_open(fp, "out", &f->schema, &wo, &e);
	if (!w)
		fz_fail("ml_writer_open: %s", e.msg);
	/* in blocks of three rows, to write several records */
	for (i = 0; i < f->rows.nrow; i += 3)
		if (ml_writer_write(w, &f->rows, i, i + 3 < f->rows.nrow ? i + 3 : f->rows.nrow, &e))
			fz_fail("ml_writer_write: %s", e.msg);
	if (ml_writer_finish(w, &e))
		fz_fail("ml_writer_finish: %s", e.msg);
	ml_writer_free(w);
	if (fclose(fp) != 0)
		fz_fail("fclose failed");
	return buf;
}

static void read_stream(const uint8_t *d, size_t n, int level)
{
	struct ml_frame fb, ff, fr;
	struct ml_reader *r;
	struct ml_err eb, ef;
	const char *path = fz_file(d, n);
	int rb, rf;
	char *out;
	size_t len;

	ml_frame_init(&fb);
	ml_err_init(&eb);
	r = ml_reader_open(path, NULL, &eb);
	rb = r ? fz_read_all(r, &fb, &eb) : eb.code;
	if (rb >= 0 && !r)
		fz_fail("ml_reader_open failed without an error code");
	if (rb == 0) {
		fz_check_codes(&fb.rows, "ml_reader_next");
		if (ml_reader_rows(r) != fb.rows.nrow)
			fz_fail("ml_reader_rows says %llu, the blocks held %zu", ml_reader_rows(r),
				fb.rows.nrow);
	}
	ml_reader_close(r);

	ml_frame_init(&ff);
	ml_err_init(&ef);
	rf = ml_frame_read(&ff, path, NULL, &ef);
	if ((rb == 0) != (rf == 0))
		fz_fail("ml_reader_next %s, ml_frame_read %s (%s)", rb ? "fails" : "reads",
			rf ? "fails" : "reads", rb ? eb.msg : ef.msg);
	if (rb == 0) {
		fz_same_frame(&fb, &ff, "ml_reader_next and ml_frame_read");
		/* and back: the same table through the writer */
		out = write_stream(&fb, level, &len);
		ml_frame_init(&fr);
		if (ml_frame_read(&fr, fz_file((const uint8_t *)out, len), NULL, &ef) != 0)
			fz_fail("a stream written from what was read does not read back: %s",
				ef.msg);
		fz_same_frame(&fb, &fr, "a stream and its copy");
		ml_frame_release(&fr);
		free(out);
	} else if (rb != rf || strcmp(eb.msg, ef.msg) != 0) {
		fz_fail("ml_reader_next and ml_frame_read fail otherwise: '%s', '%s'", eb.msg,
			ef.msg);
	}
	ml_frame_release(&fb);
	ml_frame_release(&ff);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	read_stream(data, size, 0);
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	fix(copy, size);
	if (memcmp(copy, data, size) != 0)
		read_stream(copy, size, 1 + (int)(size % 9));
	free(copy);
	return 0;
}
