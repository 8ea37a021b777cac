/* The peer for CSV parsing: libcsv tokenising plus strtod per field into columns. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <csv.h>

struct st {
	double *col[64];
	size_t cap, row;
	int fld, ncol, header;
	char buf[128];
};

static void cb1(void *s, size_t len, void *data)
{
	struct st *t = data;
	if (t->header) {
		t->ncol++;
		return;
	}
	if (len >= sizeof(t->buf))
		len = sizeof(t->buf) - 1;
	memcpy(t->buf, s, len);
	t->buf[len] = 0;
	if (t->fld < 64)
		t->col[t->fld][t->row] = strtod(t->buf, NULL);
	t->fld++;
}

static void cb2(int c, void *data)
{
	struct st *t = data;
	int j;
	(void)c;
	if (t->header) {
		t->header = 0;
		for (j = 0; j < t->ncol && j < 64; j++)
			t->col[j] = malloc(t->cap * sizeof(double));
		return;
	}
	t->fld = 0;
	if (++t->row == t->cap) {
		t->cap *= 2;
		for (j = 0; j < t->ncol && j < 64; j++)
			t->col[j] = realloc(t->col[j], t->cap * sizeof(double));
	}
}

int main(int argc, char **argv)
{
	struct csv_parser p;
	struct st t = {.cap = 1 << 16, .header = 1};
	static char buf[1 << 16];
	size_t n, bytes = 0;
	struct timespec a, b;
	double sum = 0;
	FILE *f = argc > 1 ? fopen(argv[1], "rb") : stdin;

	if (!f)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &a);
	csv_init(&p, 0);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		csv_parse(&p, buf, n, cb1, cb2, &t);
		bytes += n;
	}
	csv_fini(&p, cb1, cb2, &t);
	clock_gettime(CLOCK_MONOTONIC, &b);
	for (size_t i = 0; i < t.row; i++)
		sum += t.col[1][i];
	printf("%zu rows %.3f s %.1f MB/s (checksum %g)\n", t.row,
	       (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) * 1e-9,
	       bytes / 1e6 / ((b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) * 1e-9), sum);
	return 0;
}
