/* Unit tests of frames, dictionaries, column lists, inputs and the table reader/writer, and
 * of the pool, core count and large allocations the readers use. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "ml/ml.h"
#include "unit.h"

static char tmpdir[] = "/tmp/mltest.XXXXXX";

static const char *tmp_path(const char *name)
{
	static char buf[256];
	snprintf(buf, sizeof(buf), "%s/%s", tmpdir, name);
	return buf;
}

static void write_file(const char *path, const char *data, size_t n)
{
	FILE *f = fopen(path, "wb");
	fwrite(data, 1, n, f);
	fclose(f);
}

static void test_dict(void)
{
	struct ml_dict d;
	int i;
	char buf[32];

	ml_dict_init(&d);
	CHECK(ml_dict_find(&d, "a", 1) == -1);
	CHECK(ml_dict_intern(&d, "a", 1) == 0);
	CHECK(ml_dict_intern(&d, "b", 1) == 1);
	CHECK(ml_dict_intern(&d, "a", 1) == 0);
	CHECK(ml_dict_intern(&d, "", 0) == 2);
	for (i = 0; i < 100000; i++) {
		snprintf(buf, sizeof(buf), "v%d", i);
		if (ml_dict_intern(&d, buf, strlen(buf)) != i + 3)
			break;
	}
	CHECK(i == 100000);
	CHECK(ml_dict_find(&d, "v99999", 6) == 100002);
	CHECK(strcmp(d.str[50003], "v50000") == 0);
	ml_dict_release(&d);
}

static void test_cols(void)
{
	struct ml_schema s;
	struct ml_err e;
	int *idx, n;

	ml_schema_init(&s);
	ml_schema_add(&s, "id", ML_CAT);
	ml_schema_add(&s, "age", ML_NUM);
	ml_schema_add(&s, "a-b", ML_NUM);
	ml_schema_add(&s, "3", ML_NUM);
	ml_schema_add(&s, "x,y", ML_NUM);
	n = ml_cols_parse("age,1", &s, 0, &idx, &e);
	CHECK(n == 2 && idx[0] == 1 && idx[1] == 0);
	free(idx);
	n = ml_cols_parse("age,1", &s, 1, &idx, &e);
	CHECK(n == 2 && idx[0] == 0 && idx[1] == 1);
	free(idx);
	n = ml_cols_parse("2-4", &s, 0, &idx, &e);
	CHECK(n == 3 && idx[0] == 1 && idx[2] == 3);
	free(idx);
	n = ml_cols_parse("a-b", &s, 0, &idx, &e); /* a name that looks like a range */
	CHECK(n == 1 && idx[0] == 2);
	free(idx);
	n = ml_cols_parse("3", &s, 0, &idx, &e); /* a name that looks like an index */
	CHECK(n == 1 && idx[0] == 3);
	free(idx);
	n = ml_cols_parse("x\\,y", &s, 0, &idx, &e);
	CHECK(n == 1 && idx[0] == 4);
	free(idx);
	n = ml_cols_parse("!id,!age", &s, 0, &idx, &e);
	CHECK(n == 3 && idx[0] == 2);
	free(idx);
	n = ml_cols_parse("id-age,!id", &s, 0, &idx, &e);
	CHECK(n == 1 && idx[0] == 1);
	free(idx);
	n = ml_cols_parse("nope", &s, 0, &idx, &e);
	CHECK(n == ML_E_USAGE && strcmp(e.msg, "no column 'nope'") == 0);
	n = ml_cols_parse("9", &s, 0, &idx, &e);
	CHECK(n == ML_E_USAGE);
	n = ml_cols_parse("id,,age", &s, 0, &idx, &e);
	CHECK(n == ML_E_USAGE);
	ml_schema_release(&s);
}

/* The lookup behind every option that names a column: exact, then the suggestion. */
static void test_find_or_suggest(void)
{
	struct ml_schema s;
	struct ml_err e;
	int *idx = NULL, n;

	ml_schema_init(&s);
	ml_schema_add(&s, "species", ML_CAT);
	ml_schema_add(&s, "island", ML_CAT);
	ml_schema_add(&s, "bill_length_mm", ML_NUM);
	ml_schema_add(&s, "y", ML_NUM);
	ml_schema_add(&s, "Y2", ML_NUM);
	ml_schema_add(&s, "a-b", ML_NUM);
	ml_schema_add(&s, "x,z", ML_NUM);
	ml_err_init(&e);
	CHECK(ml_schema_find_or_suggest(&s, "island", "-t", "in.csv", NULL, &e) == 1);
	CHECK(e.code == 0);
	/* case first, even where another name is as few edits away */
	n = ml_schema_find_or_suggest(&s, "Y", "-t", "data.csv", NULL, &e);
	CHECK(n == ML_E_DATA && e.code == ML_E_DATA && strcmp(e.where, "data.csv") == 0);
	CHECK(strcmp(e.msg, "no column 'Y' (-t); did you mean 'y'?") == 0);
	n = ml_schema_find_or_suggest(&s, "y2", "-t", "data.csv", NULL, &e);
	CHECK(strcmp(e.msg, "no column 'y2' (-t); did you mean 'Y2'?") == 0);
	/* edits: up to a third of the name's length */
	ml_schema_find_or_suggest(&s, "specie", "--stratify", NULL, NULL, &e);
	CHECK(strcmp(e.msg, "no column 'specie' (--stratify); did you mean 'species'?") == 0);
	CHECK(e.where[0] == 0);
	ml_schema_find_or_suggest(&s, "ISLND", "--by", "t", NULL, &e);
	CHECK(strcmp(e.msg, "no column 'ISLND' (--by); did you mean 'island'?") == 0);
	ml_schema_find_or_suggest(&s, "bill_lenght", "--by", "t", NULL, &e);
	CHECK(strcmp(e.msg, "no column 'bill_lenght' (--by)") == 0); /* 5 edits: too far */
	ml_schema_find_or_suggest(&s, "bill_lenght_mm", "--by", "t", NULL, &e);
	CHECK(strcmp(e.msg, "no column 'bill_lenght_mm' (--by); did you mean 'bill_length_mm'?") ==
	      0);
	/* nothing near; a one-letter name is only matched without case; no option */
	ml_schema_find_or_suggest(&s, "weight", "--weight", "t", NULL, &e);
	CHECK(strcmp(e.msg, "no column 'weight' (--weight)") == 0);
	ml_schema_find_or_suggest(&s, "z", "-t", "t", NULL, &e);
	CHECK(strcmp(e.msg, "no column 'z' (-t)") == 0);
	ml_schema_find_or_suggest(&s, "isl\tand", NULL, "t", NULL, &e);
	CHECK(strcmp(e.msg, "no column 'isl?and'; did you mean 'island'?") == 0);
	ml_schema_find_or_suggest(&s, "isl\001nd", NULL, "t", NULL, &e);
	CHECK(strcmp(e.msg, "no column 'isl?nd'; did you mean 'island'?") == 0);
	/* one name is a name, not a list or an index */
	CHECK(ml_schema_find_or_suggest(&s, "2", "-t", "t", NULL, &e) == ML_E_DATA);
	CHECK(ml_schema_find_or_suggest(&s, "x,z", "-t", "t", NULL, &e) == 6);
	/* lists, in the order given; the first unknown item is the one named */
	n = ml_schema_find_or_suggest(&s, "y,1,a-b", "--keep", "t", &idx, &e);
	CHECK(n == 3 && idx[0] == 3 && idx[1] == 0 && idx[2] == 5);
	free(idx);
	n = ml_schema_find_or_suggest(&s, "x\\,z,!y", "--keep", "t", &idx, &e);
	CHECK(n == 1 && idx[0] == 6);
	free(idx);
	idx = NULL;
	n = ml_schema_find_or_suggest(&s, "species,islands,nope", "--keep", "t.csv", &idx, &e);
	CHECK(n == ML_E_DATA && idx == NULL && strcmp(e.where, "t.csv") == 0);
	CHECK(strcmp(e.msg, "no column 'islands' (--keep); did you mean 'island'?") == 0);
	n = ml_schema_find_or_suggest(&s, "!Species", "--ignore", "t", &idx, &e);
	CHECK(strcmp(e.msg, "no column 'Species' (--ignore); did you mean 'species'?") == 0);
	n = ml_schema_find_or_suggest(&s, "1-islnd", "--select", "t", &idx, &e);
	CHECK(strcmp(e.msg, "no column 'islnd' (--select); did you mean 'island'?") == 0);
	n = ml_schema_find_or_suggest(&s, "9", "--select", "t", &idx, &e);
	CHECK(n == ML_E_DATA && strcmp(e.msg, "no column '9' (--select)") == 0);
	/* other faults of a list stay usage errors */
	n = ml_schema_find_or_suggest(&s, "y,,island", "--select", "t", &idx, &e);
	CHECK(n == ML_E_USAGE && e.code == ML_E_USAGE);
	ml_schema_release(&s);
}

static void test_quote(void)
{
	char q[16];

	CHECK(strcmp(ml_err_quote(q, sizeof(q), "a\tb\x01", 4), "a?b?") == 0);
	CHECK(strcmp(ml_err_quote(q, sizeof(q), "\xc3\xa9t\xc3", 4), "\xc3\xa9t?") == 0);
	ml_err_quote(q, sizeof(q), "abcdefghijklmnopqrstuvwxyz", 26);
	CHECK(strlen(q) < 16 && strstr(q, "...") != NULL);
	CHECK(ml_err_exit_status(ML_E_DATA) == 65 && ml_err_exit_status(ML_E_USAGE) == 2);
}

/* Reading in small inference windows and blocks gives what reading it all at once gives. */
static void test_windows(void)
{
	const char *p = tmp_path("w.csv");
	FILE *f = fopen(p, "w");
	struct ml_frame all;
	struct ml_read_opts o;
	struct ml_err e;
	size_t i, row = 0;
	int ok = 1;
	size_t windows[] = {1, 7, 1000, 50000};
	size_t k;

	fprintf(f, "a,b,c\n");
	for (i = 0; i < 60000; i++)
		fprintf(f, "%zu.%zu,\"k%zu\",%s\n", i, i % 7, i % 13, i % 5 != 4 ? "x" : "");
	fclose(f);
	ml_frame_init(&all);
	CHECK(ml_frame_read(&all, p, NULL, &e) == 0);
	CHECK(all.rows.nrow == 60000);
	CHECK(all.schema.cols[0].type == ML_NUM && all.schema.cols[1].type == ML_CAT);
	for (k = 0; k < sizeof(windows) / sizeof(windows[0]); k++) {
		struct ml_reader *r;
		const struct ml_block *b;
		long n;
		ml_read_opts_init(&o);
		o.infer_rows = windows[k];
		o.block_rows = 333;
		r = ml_reader_open(p, &o, &e);
		CHECK(r != NULL);
		if (!r)
			continue;
		row = 0;
		while ((n = ml_reader_next(r, &b, &e)) > 0) {
			for (i = 0; i < (size_t)n; i++, row++) {
				const struct ml_schema *s = ml_reader_schema(r);
				int32_t c1 = b->col[1].cat[i], c2 = b->col[2].cat[i];
				int32_t a1 = all.rows.col[1].cat[row], a2 = all.rows.col[2].cat[row];
				if (b->col[0].num[i] != all.rows.col[0].num[row] ||
				    strcmp(s->cols[1].dict.str[c1], all.schema.cols[1].dict.str[a1]) ||
				    (c2 < 0) != (a2 < 0) || b->line[i] != (long)row + 2)
					ok = 0;
			}
		}
		CHECK(n == 0);
		CHECK(row == 60000);
		ml_reader_close(r);
	}
	CHECK(ok);
	ml_frame_release(&all);
}

/* A hash of everything a frame holds: types, values, codes, dictionaries and lines. */
static unsigned long long frame_hash(const struct ml_frame *f)
{
	unsigned long long h = 1469598103934665603ULL;
	size_t i;
	int j, k;

	for (j = 0; j < f->schema.ncol; j++) {
		const struct ml_col *c = &f->schema.cols[j];
		h = (h ^ (unsigned)c->type) * 1099511628211ULL;
		for (i = 0; i < f->rows.nrow; i++) {
			unsigned long long x;
			if (c->type == ML_NUM)
				memcpy(&x, &f->rows.col[j].num[i], 8);
			else
				x = (unsigned long long)(long long)f->rows.col[j].cat[i];
			h = (h ^ x) * 1099511628211ULL;
		}
		for (k = 0; k < c->dict.n; k++) {
			const char *s;
			for (s = c->dict.str[k]; *s; s++)
				h = (h ^ (unsigned char)*s) * 1099511628211ULL;
		}
	}
	for (i = 0; i < f->rows.nrow; i++)
		h = (h ^ (unsigned long long)(f->rows.line ? f->rows.line[i] : 0)) * 1099511628211ULL;
	return h;
}

/* Write the test file of test_parallel: stray, when set, replaces row row's num value.
 * Returns the line row starts on. */
static long parallel_file(const char *p, const char *gz, int row, const char *stray)
{
	const char *txt[] = {"plain", "\"with, comma\"", "\"multi\nline\"", "\"q \"\"x\"\"\"", "NA", ""};
	const char *z[] = {"007", "012", "x5", ""};
	FILE *f = fopen(p, "wb");
	struct ml_rng r;
	struct ml_err e;
	gzFile g;
	int i;
	long line = 2, at = 0;

	ml_rng_seed(&r, 3);
	fprintf(f, "id,num,cat,late,txt,z\r\n");
	for (i = 0; i < 120000; i++) {
		char num[32];
		int c, k;
		snprintf(num, sizeof(num), "%.6g", ml_rng_uniform(&r));
		c = "abc?"[ml_rng_below(&r, 4)];
		k = (int)ml_rng_below(&r, 6);
		if (i == row)
			at = line;
		/* late: numbers for its first 20000 rows, then text, which is most of the rows
		 * that decide the types: a text column */
		fprintf(f, "%d,%s,%c,%s%d,%s,%s\r\n", i, stray && i == row ? stray : num, c,
			i >= 20000 ? "x" : "", i, txt[k], z[ml_rng_below(&r, 4)]);
		line += 1 + (k == 2);
	}
	fclose(f);
	{
		unsigned char *buf;
		size_t n;
		CHECK(ml_read_all(p, &buf, &n, &e) == 0);
		g = gzopen(gz, "wb1");
		gzwrite(g, buf, (unsigned)n);
		gzclose(g);
		free(buf);
	}
	return at;
}

/* Read the test file with reader setup t (0: gzip, which takes the serial path; then
 * threads and window sizes); the frame's hash, or 0 with e set. */
static unsigned long long parallel_read(int t, const char *p, const char *gz, struct ml_err *e,
					int check)
{
	struct ml_frame fr;
	struct ml_read_opts o;
	unsigned long long h = 0;

	ml_read_opts_init(&o);
	o.threads = t == 6 ? 2 : t > 3 ? t - 3 : t;
	/* small windows: records and quoted fields cut across them; the smallest, dozens of
	 * windows each read while the one before is parsed */
	o.chunk_bytes = t == 6 ? 2048 : t > 3 ? 65536 : 0;
	ml_frame_init(&fr);
	ml_err_init(e);
	if (ml_frame_read(&fr, t == 0 ? gz : p, &o, e) == 0) {
		if (check) {
			CHECK(fr.rows.nrow == 120000);
			CHECK(fr.schema.cols[1].type == ML_NUM && fr.schema.cols[3].type == ML_CAT &&
			      fr.schema.cols[5].type == ML_CAT);
			CHECK(fr.rows.line && fr.rows.line[1] == 3);
		}
		h = frame_hash(&fr);
	}
	ml_frame_release(&fr);
	return h;
}

/* The parallel reader of plain files gives exactly what the serial one gives (gzip input
 * takes the serial path), whatever the threads, with quotes, CRLF, missing values and a
 * column that turns categorical late among the rows that decide the types; and a stray
 * token in a column of numbers is the same error in every reader, before or after those
 * rows. */
static void test_parallel(void)
{
	const char *p = tmp_path("par.csv"), *gz = tmp_path("par.csv.gz");
	unsigned long long want = 0, got;
	struct ml_err e;
	char msg[2][sizeof(e.msg)];
	int t, k;
	long line;

	parallel_file(p, gz, 0, NULL);
	for (t = 0; t <= 6; t++) {
		got = parallel_read(t, p, gz, &e, 1);
		CHECK(got != 0);
		if (t == 0)
			want = got;
		CHECK(got == want);
	}
	/* n/a among the first rows (row 50000), then 'oops' after them (row 110000). */
	snprintf(msg[0], sizeof(msg[0]),
		 "cannot parse 'n/a' as a number in column 'num' (its other 99999 values are "
		 "numbers): give --na 'n/a' if it marks a missing value, or --cat 'num' to read "
		 "the column as text");
	snprintf(msg[1], sizeof(msg[1]),
		 "cannot parse 'oops' as a number in column 'num' (numbers in its first 100000 "
		 "rows): give --na 'oops' if it marks a missing value, or --cat 'num' to read the "
		 "column as text");
	for (k = 0; k < 2; k++) {
		line = parallel_file(p, gz, k ? 110000 : 50000, k ? "oops" : "n/a");
		CHECK(line > (k ? 110001 : 50001));
		for (t = 0; t <= 6; t++) {
			got = parallel_read(t, p, gz, &e, 0);
			CHECK(got == 0 && e.code == ML_E_DATA && e.col == 2);
			CHECK(e.line == line);
			CHECK(!strcmp(e.msg, msg[k]));
			if (strcmp(e.msg, msg[k]))
				fprintf(stderr, "reader %d: %s\n", t, e.msg);
		}
	}
}

/* Write with every format and read back. */
static void test_roundtrip(void)
{
	const char *csv = "n,c\n1.5,x\n,y\n-0,\n1e300,\"q,\"\"z\"\n";
	const char *p = tmp_path("r.csv"), *q = tmp_path("r.out");
	enum ml_format fmts[] = {ML_FMT_CSV, ML_FMT_TSV, ML_FMT_STREAM};
	size_t k;

	write_file(p, csv, strlen(csv));
	for (k = 0; k < 3; k++) {
		struct ml_frame f, g;
		struct ml_write_opts wo;
		struct ml_writer *w;
		struct ml_err e;
		FILE *out;
		ml_frame_init(&f);
		ml_frame_init(&g);
		CHECK(ml_frame_read(&f, p, NULL, &e) == 0);
		out = fopen(q, "wb");
		ml_write_opts_init(&wo);
		wo.format = fmts[k];
		w = ml_writer_open(out, q, &f.schema, &wo, &e);
		CHECK(w && ml_writer_write(w, &f.rows, 0, f.rows.nrow, &e) == 0);
		CHECK(ml_writer_finish(w, &e) == 0);
		ml_writer_free(w);
		fclose(out);
		CHECK(ml_frame_read(&g, q, NULL, &e) == 0);
		CHECK(g.rows.nrow == 4 && g.schema.ncol == 2);
		CHECK(g.rows.col[0].num[0] == 1.5 && g.rows.col[0].num[1] != g.rows.col[0].num[1]);
		CHECK(g.rows.col[0].num[3] == 1e300);
		CHECK(g.rows.col[1].cat[2] == -1);
		CHECK(strcmp(g.schema.cols[1].dict.str[g.rows.col[1].cat[3]], "q,\"z") == 0);
		ml_frame_release(&f);
		ml_frame_release(&g);
	}
}

static void test_atomic(void)
{
	const char *p = tmp_path("atomic.txt");
	struct ml_err e;
	struct ml_output *o;
	unsigned char *buf;
	size_t n;

	write_file(p, "old", 3);
	o = ml_output_open(p, &e);
	CHECK(o != NULL);
	fputs("new", ml_output_file(o));
	ml_output_abort(o);
	CHECK(ml_read_all(p, &buf, &n, &e) == 0 && n == 3 && memcmp(buf, "old", 3) == 0);
	free(buf);
	CHECK(ml_write_atomic(p, "newer", 5, &e) == 0);
	CHECK(ml_read_all(p, &buf, &n, &e) == 0 && n == 5 && memcmp(buf, "newer", 5) == 0);
	free(buf);
	CHECK(ml_read_all(tmp_path("missing"), &buf, &n, &e) == ML_E_NOINPUT);
	CHECK(ml_write_atomic(tmp_path("no/such/dir"), "x", 1, &e) == ML_E_IO);
}

/* A block follows its schema when columns are added at the end, keeping its rows. */
static void test_block_sync(void)
{
	struct ml_schema s;
	struct ml_block b;
	struct ml_err e;
	size_t i;
	int ok = 1;

	ml_schema_init(&s);
	ml_err_init(&e);
	CHECK(ml_schema_add(&s, "x", ML_NUM) == 0);
	CHECK(ml_block_init(&b, &s, 4, &e) == 0);
	for (i = 0; i < 4; i++)
		b.col[0].num[i] = (double)i + 0.5;
	b.nrow = 4;
	/* nothing new: nothing to do */
	CHECK(ml_block_sync(&b, &e) == 0 && b.ncol == 1);
	CHECK(ml_schema_add(&s, "c", ML_CAT) == 1 && ml_schema_add(&s, "y", ML_NUM) == 2);
	CHECK(ml_block_sync(&b, &e) == 0);
	CHECK(b.ncol == 3 && b.nrow == 4 && b.cap >= 4);
	if (b.ncol != 3 || !b.col[1].cat || !b.col[2].num) {
		CHECK(0);
		goto out;
	}
	for (i = 0; i < b.cap; i++) {
		b.col[1].cat[i] = ML_MISSING_CAT;
		b.col[2].num[i] = -(double)i;
	}
	for (i = 0; i < 4; i++)
		ok &= b.col[0].num[i] == (double)i + 0.5;
	CHECK(ok);
	/* the new columns grow with the block, their content kept */
	CHECK(ml_block_reserve(&b, 1000, &e) == 0 && b.cap >= 1000);
	b.col[1].cat[999] = 0;
	b.col[2].num[999] = 999;
	CHECK(b.col[2].num[3] == -3 && b.col[1].cat[3] == ML_MISSING_CAT);
	CHECK(b.col[0].num[3] == 3.5);
out:
	ml_block_release(&b);
	ml_schema_release(&s);
}

/* The reader says which format it found and how many rows it has given so far. */
static void test_reader_format_rows(void)
{
	enum { N = 50000 };
	const char *paths[3];
	enum ml_format want[] = {ML_FMT_CSV, ML_FMT_TSV, ML_FMT_STREAM};
	struct ml_frame f;
	struct ml_write_opts wo;
	struct ml_writer *w = NULL;
	struct ml_read_opts ro;
	struct ml_err e;
	FILE *out;
	int k, i;

	ml_err_init(&e);
	paths[0] = strdup(tmp_path("fr.csv"));
	paths[1] = strdup(tmp_path("fr.tsv"));
	paths[2] = strdup(tmp_path("fr.mls"));
	if (!paths[0] || !paths[1] || !paths[2]) {
		CHECK(0);
		goto out;
	}
	for (k = 0; k < 2; k++) {
		out = fopen(paths[k], "w");
		CHECK(out != NULL);
		if (!out)
			goto out;
		fprintf(out, k ? "i\tc\n" : "i,c\n");
		for (i = 0; i < N; i++)
			fprintf(out, k ? "%d\tv%d\n" : "%d,v%d\n", i, i % 7);
		fclose(out);
	}
	/* the stream in blocks of 1000, 20000 and 29000 rows */
	ml_frame_init(&f);
	CHECK(ml_frame_read(&f, paths[0], NULL, &e) == 0 && f.rows.nrow == N);
	out = fopen(paths[2], "wb");
	ml_write_opts_init(&wo);
	wo.format = ML_FMT_STREAM;
	if (out && f.rows.nrow == N)
		w = ml_writer_open(out, paths[2], &f.schema, &wo, &e);
	CHECK(w != NULL);
	CHECK(w && ml_writer_write(w, &f.rows, 0, 1000, &e) == 0 && ml_writer_flush(w, &e) == 0);
	CHECK(w && ml_writer_write(w, &f.rows, 1000, 21000, &e) == 0 &&
	      ml_writer_flush(w, &e) == 0);
	CHECK(w && ml_writer_write(w, &f.rows, 21000, N, &e) == 0 &&
	      ml_writer_finish(w, &e) == 0);
	ml_writer_free(w);
	if (out)
		fclose(out);
	ml_frame_release(&f);
	for (k = 0; k < 3; k++) {
		struct ml_reader *r;
		const struct ml_block *b;
		unsigned long long seen = 0;
		long n;
		int calls = 0;
		ml_read_opts_init(&ro);
		ro.infer_rows = 100;
		ro.block_rows = 4096;
		r = ml_reader_open(paths[k], &ro, &e);
		CHECK(r != NULL);
		if (!r)
			continue;
		CHECK(ml_reader_format(r) == want[k]);
		CHECK(ml_reader_rows(r) == 0);
		while ((n = ml_reader_next(r, &b, &e)) > 0) {
			seen += (unsigned long long)n;
			calls++;
			CHECK(ml_reader_rows(r) == seen);
		}
		CHECK(n == 0 && seen == N && ml_reader_rows(r) == N && calls >= 3);
		CHECK(ml_reader_next(r, &b, &e) == 0 && ml_reader_rows(r) == N);
		ml_reader_close(r);
	}
out:
	for (k = 0; k < 3; k++)
		free((char *)paths[k]);
}

/* Byte inputs: peeking does not consume, reads and exact reads, the offset counts the
 * decompressed bytes, gzip is seen and undone, and standard input is named. */
static void test_input(void)
{
	const char *text = "hello, input\n";
	char p[256], gz[256];
	const unsigned char *pk;
	unsigned char buf[64];
	struct ml_input *in;
	struct ml_err e;
	int k;

	ml_err_init(&e);
	snprintf(p, sizeof(p), "%s", tmp_path("in.txt"));
	snprintf(gz, sizeof(gz), "%s", tmp_path("in.txt.gz"));
	write_file(p, text, strlen(text));
	{
		gzFile g = gzopen(gz, "wb");
		CHECK(g != NULL);
		if (g) {
			gzwrite(g, text, (unsigned)strlen(text));
			gzclose(g);
		}
	}
	for (k = 0; k < 2; k++) {
		const char *path = k ? gz : p;
		in = ml_input_open(path, &e);
		CHECK(in != NULL);
		if (!in)
			continue;
		CHECK(strcmp(ml_input_name(in), path) == 0);
		CHECK(ml_input_is_gzip(in) == k);
		CHECK(ml_input_offset(in) == 0);
		/* a peek beyond the end gives what there is, and consumes nothing */
		CHECK(ml_input_peek(in, &pk, 5, &e) >= 5 && memcmp(pk, "hello", 5) == 0);
		CHECK(ml_input_peek(in, &pk, 1000, &e) == 13 && ml_input_offset(in) == 0);
		CHECK(ml_input_read(in, buf, 5, &e) == 5 && memcmp(buf, "hello", 5) == 0);
		CHECK(ml_input_offset(in) == 5);
		CHECK(ml_input_peek(in, &pk, 2, &e) == 8 && memcmp(pk, ", ", 2) == 0);
		CHECK(ml_input_read_full(in, buf, 7, "greeting", &e) == 0);
		CHECK(memcmp(buf, ", input", 7) == 0 && ml_input_offset(in) == 12);
		/* one byte is left: an exact read of two is truncated, naming what it wanted */
		CHECK(ml_input_read_full(in, buf, 2, "greeting", &e) == ML_E_DATA);
		CHECK(strcmp(e.msg, "truncated greeting") == 0 && strcmp(e.where, path) == 0);
		CHECK(ml_input_offset(in) == 13);
		CHECK(ml_input_read(in, buf, sizeof(buf), &e) == 0);
		CHECK(ml_input_peek(in, &pk, 1, &e) == 0);
		ml_input_close(in);
	}
	/* standard input, here the gzip'd file, for "-" and NULL */
	for (k = 0; k < 2; k++) {
		int fd = open(gz, O_RDONLY), saved = dup(0);
		CHECK(fd >= 0 && saved >= 0 && dup2(fd, 0) == 0);
		in = ml_input_open(k ? NULL : "-", &e);
		CHECK(in && strcmp(ml_input_name(in), "<stdin>") == 0 && ml_input_is_gzip(in));
		CHECK(in && ml_input_read_full(in, buf, 13, "text", &e) == 0);
		CHECK(memcmp(buf, text, 13) == 0);
		ml_input_close(in);
		if (saved >= 0) {
			dup2(saved, 0);
			close(saved);
		}
		if (fd >= 0)
			close(fd);
	}
	CHECK(ml_input_open(tmp_path("none"), &e) == NULL && e.code == ML_E_NOINPUT);
}

static void task_sum(void *arg, size_t t, int w)
{
	double *out = arg;
	(void)w;
	out[t] = (double)t * t;
}

static void test_pool_rng(void)
{
	struct ml_pool *p = ml_pool_new(3);
	double out[1000];
	struct ml_rng r, r2;
	size_t i, v[10];
	int ok = 1;

	ml_pool_run(p, 1000, task_sum, out);
	for (i = 0; i < 1000; i++)
		ok &= out[i] == (double)i * i;
	CHECK(ok);
	ml_pool_run(p, 0, task_sum, out);
	ml_pool_free(p);
	ml_rng_seed(&r, 7);
	ml_rng_seed(&r2, 7);
	CHECK(ml_rng_next(&r) == ml_rng_next(&r2));
	for (i = 0; i < 10000; i++) {
		uint64_t b = ml_rng_below(&r, 10);
		double u = ml_rng_uniform(&r);
		ok &= b < 10 && u >= 0 && u < 1;
	}
	CHECK(ok);
	for (i = 0; i < 10; i++)
		v[i] = i;
	ml_rng_shuffle(&r, v, 10);
	{
		size_t sum = 0;
		for (i = 0; i < 10; i++)
			sum += v[i];
		CHECK(sum == 45);
	}
	ml_rng_derive(&r, 1, 0);
	ml_rng_derive(&r2, 1, 1);
	CHECK(ml_rng_next(&r) != ml_rng_next(&r2));
}

static void task_worker(void *arg, size_t t, int w)
{
	int *who = arg;
	who[t] = w;
}

/* A pool has the threads asked for (every core for 0), and tasks run on workers below its
 * size; large allocations are aligned for huge pages and usable to their last byte. */
static void test_pool_cores_alloc(void)
{
	int who[200], ok = 1, n = ml_ncores();
	struct ml_pool *p;
	unsigned char *big;
	size_t i, len = (size_t)5 << 20;

	CHECK(n >= 1);
	p = ml_pool_new(3);
	CHECK(p && ml_pool_size(p) == 3);
	if (p) {
		ml_pool_run(p, 200, task_worker, who);
		for (i = 0; i < 200; i++)
			ok &= who[i] >= 0 && who[i] < 3;
		CHECK(ok);
	}
	ml_pool_free(p);
	p = ml_pool_new(0);
	CHECK(p && ml_pool_size(p) == n);
	ml_pool_free(p);
	p = ml_pool_new(1);
	CHECK(p && ml_pool_size(p) == 1);
	if (p) {
		ml_pool_run(p, 200, task_worker, who);
		for (i = 0; i < 200; i++)
			ok &= who[i] == 0;
		CHECK(ok);
	}
	ml_pool_free(p);
	/* from 4 MB on, aligned to 2 MB; smaller ones and 0 bytes are plain allocations */
	big = ml_alloc_big(len);
	CHECK(big != NULL && (uintptr_t)big % ((uintptr_t)2 << 20) == 0);
	if (big) {
		memset(big, 0xab, len);
		CHECK(big[0] == 0xab && big[len - 1] == 0xab);
	}
	free(big);
	big = ml_alloc_big(100);
	CHECK(big != NULL);
	if (big)
		memset(big, 1, 100);
	free(big);
	big = ml_alloc_big(0);
	CHECK(big != NULL);
	free(big);
}

int main(void)
{
	if (!mkdtemp(tmpdir))
		return 1;
	RUN(test_dict);
	RUN(test_cols);
	RUN(test_find_or_suggest);
	RUN(test_quote);
	RUN(test_windows);
	RUN(test_parallel);
	RUN(test_roundtrip);
	RUN(test_atomic);
	RUN(test_pool_rng);
	RUN(test_block_sync);
	RUN(test_reader_format_rows);
	RUN(test_input);
	RUN(test_pool_cores_alloc);
	{
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			return 1;
	}
	return UNIT_EXIT();
}
