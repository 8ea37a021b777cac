/* libml's side of the I/O benchmark: CSV to parsed columns, stream write, stream read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ml/ml.h"

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

/* Read every block of path; returns bytes of column data seen. */
static double drain(const char *path, unsigned long long *rows)
{
	struct ml_err e;
	struct ml_read_opts o;
	struct ml_reader *r;
	const char *inf = getenv("BENCH_INFER_ROWS");

	ml_read_opts_init(&o);
	if (inf)
		o.infer_rows = strtoul(inf, NULL, 10);
	r = ml_reader_open(path, &o, &e);
	const struct ml_block *b;
	long n;
	double check = 0;

	if (!r) {
		fprintf(stderr, "parse: %s: %s\n", e.where, e.msg);
		exit(1);
	}
	while ((n = ml_reader_next(r, &b, &e)) > 0)
		check += b->col[1].num[0];
	if (n < 0) {
		fprintf(stderr, "parse: %s:%ld: %s\n", e.where, e.line, e.msg);
		exit(1);
	}
	*rows = ml_reader_rows(r);
	ml_reader_close(r);
	return check;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "csv";
	const char *path = argc > 2 ? argv[2] : "-";
	unsigned long long rows = 0;
	double t0 = now(), t, chk;

	if (strcmp(mode, "csv") == 0 || strcmp(mode, "stream") == 0) {
		chk = drain(path, &rows);
		t = now() - t0;
		printf("%s read: %llu rows %.3f s (checksum %g)\n", mode, rows, t, chk);
		return 0;
	}
	if (strcmp(mode, "frame") == 0) {
		/* All rows into a frame, with the parallel text reader (argv[3] threads). */
		struct ml_frame f;
		struct ml_err e;
		struct ml_read_opts o;
		ml_read_opts_init(&o);
		o.threads = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 0;
		ml_frame_init(&f);
		if (ml_frame_read(&f, path, &o, &e) < 0) {
			fprintf(stderr, "parse: %s\n", e.msg);
			return 1;
		}
		t = now() - t0;
		printf("frame read (%d threads): %zu rows %.3f s\n", o.threads, f.rows.nrow, t);
		ml_frame_release(&f);
		return 0;
	}
	if (strcmp(mode, "write") == 0 && argc > 3) {
		/* Parse CSV into a frame, then time writing it as a stream. */
		struct ml_frame f;
		struct ml_err e;
		struct ml_write_opts wo;
		struct ml_writer *w;
		FILE *out;
		ml_frame_init(&f);
		if (ml_frame_read(&f, path, NULL, &e) < 0) {
			fprintf(stderr, "parse: %s\n", e.msg);
			return 1;
		}
		out = fopen(argv[3], "wb");
		ml_write_opts_init(&wo);
		wo.format = ML_FMT_STREAM;
		t0 = now();
		w = ml_writer_open(out, argv[3], &f.schema, &wo, &e);
		for (size_t i = 0; i < f.rows.nrow; i += ML_BLOCK_ROWS) {
			size_t to = i + ML_BLOCK_ROWS < f.rows.nrow ? i + ML_BLOCK_ROWS : f.rows.nrow;
			ml_writer_write(w, &f.rows, i, to, &e);
		}
		ml_writer_finish(w, &e);
		fclose(out);
		t = now() - t0;
		printf("stream write: %zu rows %.3f s\n", f.rows.nrow, t);
		ml_writer_free(w);
		ml_frame_release(&f);
		return 0;
	}
	fprintf(stderr, "usage: parse csv|stream FILE | parse write CSV OUT\n");
	return 2;
}
