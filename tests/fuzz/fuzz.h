/* What the fuzzing harnesses share: an input given to the readers as a file, options taken
 * from the input's first bytes, tables compared cell by cell, and a disagreement turned
 * into an abort so that libFuzzer reports it with the input that caused it. */
#ifndef ML_FUZZ_H
#define ML_FUZZ_H

#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ml/ml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static inline void fz_fail(const char *fmt, ...) ML_PRINTF(1, 2) __attribute__((noreturn));

/* A disagreement or a broken promise of the API: libFuzzer saves the input. */
static inline void fz_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("fuzz: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/* The input as a plain file that the readers open by name: an in-memory file, so that
 * nothing touches the disk and the parallel reader sees a regular file it can pread. */
static inline const char *fz_file(const uint8_t *d, size_t n)
{
	static int fd = -1;
	static char path[64];

	if (fd < 0) {
		fd = memfd_create("fuzz-input", 0);
		if (fd < 0)
			fz_fail("memfd_create failed");
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) != 0 || (n && pwrite(fd, d, n, 0) != (ssize_t)n))
		fz_fail("cannot write the input file");
	return path;
}

/* Taking options and strings from the front of the input. */
struct fz_in {
	const uint8_t *p;
	size_t n;
};

static inline unsigned fz_byte(struct fz_in *in)
{
	unsigned v;

	if (!in->n)
		return 0;
	v = in->p[0];
	in->p++;
	in->n--;
	return v;
}

/* A string up to the next NUL (or max bytes), copied into buf (size max + 1). */
static inline char *fz_str(struct fz_in *in, char *buf, size_t max)
{
	size_t k = 0;

	while (in->n && in->p[0] && k < max) {
		buf[k++] = (char)in->p[0];
		in->p++;
		in->n--;
	}
	if (in->n && in->p[0] == 0) {
		in->p++;
		in->n--;
	}
	buf[k] = 0;
	return buf;
}

static inline int fz_same_double(double a, double b)
{
	return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof(a)) == 0;
}

static inline void fz_same_schema(const struct ml_schema *a, const struct ml_schema *b, const char *what)
{
	int j;
	int32_t k;

	if (a->ncol != b->ncol)
		fz_fail("%s: %d columns against %d", what, a->ncol, b->ncol);
	for (j = 0; j < a->ncol; j++) {
		const struct ml_col *x = &a->cols[j], *y = &b->cols[j];
		if (strcmp(x->name, y->name) != 0)
			fz_fail("%s: column %d is '%s' against '%s'", what, j + 1, x->name, y->name);
		if (x->type != y->type)
			fz_fail("%s: column '%s' is %s against %s", what, x->name,
				x->type == ML_NUM ? "numeric" : "categorical",
				y->type == ML_NUM ? "numeric" : "categorical");
		if (x->dict.n != y->dict.n)
			fz_fail("%s: column '%s' has %d levels against %d", what, x->name, x->dict.n,
				y->dict.n);
		for (k = 0; k < x->dict.n; k++)
			if (x->dict.len[k] != y->dict.len[k] ||
			    memcmp(x->dict.str[k], y->dict.str[k], x->dict.len[k]) != 0)
				fz_fail("%s: column '%s' level %d differs", what, x->name, (int)k);
	}
}

/* Rows [0, n) of two blocks whose schemas agree; lines too when both have them. */
static inline void fz_same_rows(const struct ml_block *a, const struct ml_block *b, const char *what)
{
	size_t i;
	int j;

	if (a->nrow != b->nrow)
		fz_fail("%s: %zu rows against %zu", what, a->nrow, b->nrow);
	for (j = 0; j < a->schema->ncol; j++)
		for (i = 0; i < a->nrow; i++) {
			if (a->schema->cols[j].type == ML_NUM) {
				if (!fz_same_double(a->col[j].num[i], b->col[j].num[i]))
					fz_fail("%s: row %zu column '%s': %.17g against %.17g", what,
						i + 1, a->schema->cols[j].name, a->col[j].num[i],
						b->col[j].num[i]);
			} else if (a->col[j].cat[i] != b->col[j].cat[i]) {
				fz_fail("%s: row %zu column '%s': code %d against %d", what, i + 1,
					a->schema->cols[j].name, (int)a->col[j].cat[i],
					(int)b->col[j].cat[i]);
			}
		}
	if (a->line && b->line)
		for (i = 0; i < a->nrow; i++)
			if (a->line[i] != b->line[i])
				fz_fail("%s: row %zu is on line %ld against %ld", what, i + 1,
					a->line[i], b->line[i]);
}

static inline void fz_same_frame(const struct ml_frame *a, const struct ml_frame *b, const char *what)
{
	fz_same_schema(&a->schema, &b->schema, what);
	fz_same_rows(&a->rows, &b->rows, what);
}

/* Every code of a categorical column is missing or within its dictionary. */
static inline void fz_check_codes(const struct ml_block *b, const char *what)
{
	size_t i;
	int j;

	for (j = 0; j < b->schema->ncol; j++) {
		if (b->schema->cols[j].type != ML_CAT)
			continue;
		for (i = 0; i < b->nrow; i++) {
			int32_t c = b->col[j].cat[i];
			if (c < ML_MISSING_CAT || c >= b->schema->cols[j].dict.n)
				fz_fail("%s: row %zu column '%s': code %d outside %d levels", what,
					i + 1, b->schema->cols[j].name, (int)c,
					b->schema->cols[j].dict.n);
		}
	}
}

/* Every block of r appended to f (fresh from ml_frame_init), with the reader's final
 * dictionaries. Returns 0 or the reader's error. */
static inline int fz_read_all(struct ml_reader *r, struct ml_frame *f, struct ml_err *e)
{
	const struct ml_block *b;
	long n;
	int j;

	if (ml_schema_copy(&f->schema, ml_reader_schema(r)) < 0 ||
	    ml_block_init(&f->rows, &f->schema, 0, e) < 0)
		fz_fail("out of memory");
	while ((n = ml_reader_next(r, &b, e)) > 0) {
		size_t at = f->rows.nrow;
		if ((size_t)n != b->nrow)
			fz_fail("ml_reader_next returned %ld for a block of %zu rows", n, b->nrow);
		if (ml_block_reserve(&f->rows, at + (size_t)n, e) < 0)
			fz_fail("out of memory");
		if (b->line) {
			long *l = realloc(f->rows.line, f->rows.cap * sizeof(long));
			if (!l)
				fz_fail("out of memory");
			if (!f->rows.line)
				memset(l, 0, f->rows.cap * sizeof(long));
			f->rows.line = l;
			memcpy(f->rows.line + at, b->line, (size_t)n * sizeof(long));
		}
		for (j = 0; j < f->schema.ncol; j++) {
			size_t sz = f->schema.cols[j].type == ML_NUM ? sizeof(double) : sizeof(int32_t);
			memcpy((char *)f->rows.col[j].num + at * sz, b->col[j].num, (size_t)n * sz);
		}
		f->rows.nrow += (size_t)n;
	}
	if (n < 0)
		return (int)n;
	for (j = 0; j < f->schema.ncol; j++) {
		ml_dict_release(&f->schema.cols[j].dict);
		if (ml_dict_copy(&f->schema.cols[j].dict, &ml_reader_schema(r)->cols[j].dict) < 0)
			fz_fail("out of memory");
	}
	return 0;
}

/* A frame with the columns of s (names, types and levels) and a few rows of values that
 * exercise what scorers meet: ordinary numbers, zero, negatives, missing values, every
 * level and a missing code. */
static inline void fz_frame_like(struct ml_frame *f, const struct ml_schema *s, size_t nrow)
{
	static const double vals[] = {0.5, -1, 0, NAN, 3, 1e6, -2.25, 7, 1, 0.125};
	size_t i;
	int j;

	ml_frame_init(f);
	if (ml_schema_copy(&f->schema, s) < 0 || ml_block_init(&f->rows, &f->schema, nrow, NULL) < 0)
		fz_fail("out of memory");
	/* a categorical column without levels gets two, so that scorers meet a value */
	for (j = 0; j < s->ncol; j++)
		if (s->cols[j].type == ML_CAT && f->schema.cols[j].dict.n == 0 &&
		    (ml_dict_intern(&f->schema.cols[j].dict, "x", 1) < 0 ||
		     ml_dict_intern(&f->schema.cols[j].dict, "y", 1) < 0))
			fz_fail("out of memory");
	for (j = 0; j < s->ncol; j++)
		for (i = 0; i < nrow; i++) {
			if (s->cols[j].type == ML_NUM) {
				f->rows.col[j].num[i] = vals[(i + (size_t)j) % 10];
			} else {
				int32_t n = f->schema.cols[j].dict.n;
				f->rows.col[j].cat[i] = n ? (int32_t)((i + (size_t)j) % ((size_t)n + 1)) - 1 :
							    ML_MISSING_CAT;
			}
		}
	f->rows.nrow = nrow;
}

#endif
