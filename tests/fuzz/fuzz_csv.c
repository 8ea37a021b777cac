/* Fuzzing the CSV/TSV readers: the serial whole-file reader, the parallel one (in windows of
 * a few bytes, so that small inputs take its path), the same windows on one thread, and the
 * streaming block reader must accept the same inputs and give the same frames, whether the
 * columns are typed from every row or from the first few.
 *
 * Input: two bytes of options, then a NUL-terminated string for each of --na, --num and
 * --cat that the options ask for, then the text.
 *	byte 0: bits 0-2 the delimiter (automatic, ',', tab, ';', '|', ' ', ':', automatic),
 *		bit 3 no header, bit 4 --na, bit 5 --num, bit 6 --cat, bit 7 a model's input
 *		types (ml_read_opts.types)
 *	byte 1: bits 0-2 the parallel reader's chunk of 2^k bytes, bits 3-4 the streaming
 *		reader's block rows (1, 2, 3 or the default), bits 5-7 the rows that type
 *		the columns in the last comparisons (1, 2, 3, 5, 8, 13, 50 or 1000) */
#include "fuzz.h"

static const int delims[8] = {0, ',', '\t', ';', '|', ' ', ':', 0};
static const size_t block_rows[4] = {1, 2, 3, 0};
static const size_t infer_rows[8] = {1, 2, 3, 5, 8, 13, 50, 1000};

static struct ml_schema types;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	ml_schema_init(&types);
	if (ml_schema_add(&types, "a", ML_NUM) < 0 || ml_schema_add(&types, "b", ML_CAT) < 0 ||
	    ml_schema_add(&types, "c2", ML_NUM) < 0 || ml_schema_add(&types, "1", ML_CAT) < 0)
		fz_fail("out of memory");
	return 0;
}

/* Read with ml_frame_read; returns its code, f filled on success. */
static int frame(struct ml_frame *f, const char *path, const struct ml_read_opts *o,
		 struct ml_err *e)
{
	int rc;

	ml_frame_init(f);
	ml_err_init(e);
	rc = ml_frame_read(f, path, o, e);
	if (rc > 0)
		fz_fail("ml_frame_read returned %d", rc);
	if (rc < 0 && e->code != rc)
		fz_fail("ml_frame_read returned %d but set code %d", rc, e->code);
	if (rc == 0)
		fz_check_codes(&f->rows, "ml_frame_read");
	return rc;
}

/* Read with the streaming reader, every block appended to f. */
static int stream(struct ml_frame *f, const char *path, const struct ml_read_opts *o,
		  struct ml_err *e)
{
	struct ml_reader *r;
	int rc;

	ml_frame_init(f);
	ml_err_init(e);
	r = ml_reader_open(path, o, e);
	if (!r) {
		if (e->code >= 0)
			fz_fail("ml_reader_open failed without an error code");
		return e->code;
	}
	rc = fz_read_all(r, f, e);
	if (rc < 0 && e->code != rc)
		fz_fail("ml_reader_next returned %d but set code %d", rc, e->code);
	if (rc == 0) {
		fz_check_codes(&f->rows, "ml_reader_next");
		if (ml_reader_rows(r) != f->rows.nrow)
			fz_fail("ml_reader_rows says %llu, the blocks held %zu", ml_reader_rows(r),
				f->rows.nrow);
	}
	ml_reader_close(r);
	return rc;
}

/* Two reads that must agree: both fail the same way, or give the same frame. */
static void agree(int ra, const struct ml_err *ea, const struct ml_frame *a, int rb,
		  const struct ml_err *eb, const struct ml_frame *b, const char *what)
{
	if ((ra == 0) != (rb == 0))
		fz_fail("%s: %s (%s:%ld:%ld: %s) against %s (%s:%ld:%ld: %s)", what,
			ra ? "fails" : "reads", ea->where, ea->line, ea->col, ea->msg,
			rb ? "fails" : "reads", eb->where, eb->line, eb->col, eb->msg);
	if (ra) {
		if (ra != rb || ea->line != eb->line || ea->col != eb->col ||
		    strcmp(ea->msg, eb->msg) != 0)
			fz_fail("%s: errors differ: %d %ld:%ld: %s against %d %ld:%ld: %s", what, ra,
				ea->line, ea->col, ea->msg, rb, eb->line, eb->col, eb->msg);
		return;
	}
	fz_same_frame(a, b, what);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = {data, size};
	struct ml_read_opts o, op;
	struct ml_frame fs, fp, f1, fb, fe, f2, f3;
	struct ml_err es, ep, e1, eb, ee;
	char na[65], num[65], cat[65];
	unsigned b0 = fz_byte(&in), b1 = fz_byte(&in);
	const char *path;
	int rs, rp, r1, rb, re;

	ml_read_opts_init(&o);
	o.delim = delims[b0 & 7];
	o.header = !(b0 & 8);
	if (b0 & 16)
		o.na = fz_str(&in, na, 64);
	if (b0 & 32)
		o.num_cols = fz_str(&in, num, 64);
	if (b0 & 64)
		o.cat_cols = fz_str(&in, cat, 64);
	if (b0 & 128)
		o.types = &types;
	path = fz_file(in.p, in.n);

	/* The serial reader: one thread, never in windows. */
	o.threads = 1;
	o.parallel_bytes = SIZE_MAX;
	rs = frame(&fs, path, &o, &es);

	/* The parallel reader on two threads, in windows of 16 chunks of 2^k bytes. */
	op = o;
	op.threads = 2;
	op.chunk_bytes = (size_t)1 << (b1 & 7);
	op.parallel_bytes = 1;
	rp = frame(&fp, path, &op, &ep);
	agree(rs, &es, &fs, rp, &ep, &fp, "serial and parallel readers");

	/* The same windows on one thread: one chunk each, no pool. */
	op.threads = 1;
	r1 = frame(&f1, path, &op, &e1);
	agree(rs, &es, &fs, r1, &e1, &f1, "serial reader and one-thread windows");

	/* The streaming reader, typing from every row as ml_frame_read does. */
	op = o;
	op.infer_rows = SIZE_MAX;
	op.block_rows = block_rows[(b1 >> 3) & 3];
	rb = stream(&fb, path, &op, &eb);
	agree(rs, &es, &fs, rb, &eb, &fb, "ml_frame_read and ml_reader_next");

	/* Typing from the first rows alone (table.h: the same for every reader): the whole-file
	 * readers, serial and in windows, and the streaming reader agree again. */
	op.infer_rows = infer_rows[b1 >> 5];
	re = stream(&fe, path, &op, &ee);
	op.threads = 1;
	op.parallel_bytes = SIZE_MAX;
	r1 = frame(&f2, path, &op, &e1);
	agree(r1, &e1, &f2, re, &ee, &fe, "ml_frame_read and ml_reader_next typing from the first rows");
	op.threads = 2;
	op.chunk_bytes = (size_t)1 << (b1 & 7);
	op.parallel_bytes = 1;
	rp = frame(&f3, path, &op, &ep);
	agree(r1, &e1, &f2, rp, &ep, &f3, "serial and parallel readers typing from the first rows");

	ml_frame_release(&fs);
	ml_frame_release(&fp);
	ml_frame_release(&f1);
	ml_frame_release(&fb);
	ml_frame_release(&fe);
	ml_frame_release(&f2);
	ml_frame_release(&f3);
	return 0;
}
