/* The training-data fingerprint: a CRC-32 of a table as read, and its record in a model's
 * metadata. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "core/model_int.h"
#include "ml/fingerprint.h"

/* CRC-32 of the training table, as the model's data fingerprint: per column in order, its
 * name, a NUL, the type byte 'n' or 'c', then its values row by row: a number as the 8
 * bytes of its IEEE 754 double, least significant first (every NaN as 7ff8000000000000),
 * a category as a u32 byte count, least significant first, and the bytes (a missing one
 * as the count ffffffff alone). */
/* One column's running CRC and the bytes it covers. */
struct fp_col {
	uLong crc;
	z_off_t len;
};

/* Start a column: its name, a NUL and its type byte. */
static void fp_col_begin(struct fp_col *o, const struct ml_col *c)
{
	unsigned char t = c->type == ML_NUM ? 'n' : 'c';

	o->crc = crc32(crc32(0L, Z_NULL, 0), (const Bytef *)c->name, (uInt)strlen(c->name) + 1);
	o->crc = crc32(o->crc, &t, 1);
	o->len = (z_off_t)strlen(c->name) + 2;
}

/* Add rows [from, to) of column j of b, whose description is c. */
static void fp_col_add(struct fp_col *o, const struct ml_col *c, const struct ml_block *b, int j,
		       size_t from, size_t to)
{
	unsigned char buf[8 * 512];
	uLong crc = o->crc;
	z_off_t len = o->len;
	size_t i, k;
	int by;

	if (c->type == ML_NUM) {
		const double *v = b->col[j].num;
		for (i = from; i < to; i += k) {
			for (k = 0; k < 512 && i + k < to; k++) {
				double x = v[i + k];
				uint64_t u;
				if (x != x)
					u = 0x7ff8000000000000ULL;
				else
					memcpy(&u, &x, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
				memcpy(buf + k * 8, &u, 8); /* already least significant first */
#else
				for (by = 0; by < 8; by++)
					buf[k * 8 + (size_t)by] = (unsigned char)(u >> (8 * by));
#endif
			}
			crc = crc32(crc, buf, (uInt)(k * 8));
			len += (z_off_t)(k * 8);
		}
	} else {
		const int32_t *v = b->col[j].cat;
		for (i = from; i < to; i++) {
			uint32_t n = v[i] < 0 ? 0xffffffffU : c->dict.len[v[i]];
			for (by = 0; by < 4; by++)
				buf[by] = (unsigned char)(n >> (8 * by));
			crc = crc32(crc, buf, 4);
			len += 4;
			if (v[i] >= 0) {
				crc = crc32(crc, (const Bytef *)c->dict.str[v[i]], (uInt)n);
				len += (z_off_t)n;
			}
		}
	}
	o->crc = crc;
	o->len = len;
}

/* The columns' CRCs joined in order. */
static uint32_t fp_join(const struct fp_col *c, size_t nc)
{
	uLong crc = crc32(0L, Z_NULL, 0);
	size_t j;

	for (j = 0; j < nc; j++)
		crc = crc32_combine(crc, c[j].crc, c[j].len);
	return (uint32_t)crc;
}

struct fp_job {
	const struct ml_frame *f;
	struct fp_col *col;
};

static void fp_task(void *arg, size_t task, int worker)
{
	const struct fp_job *J = arg;
	int j = (int)task;

	(void)worker;
	fp_col_begin(&J->col[j], &J->f->schema.cols[j]);
	fp_col_add(&J->col[j], &J->f->schema.cols[j], &J->f->rows, j, 0, J->f->rows.nrow);
}

/* The columns on the pool's threads, their CRCs then joined in order. */
int ml_fingerprint(const struct ml_frame *f, struct ml_pool *pool, struct ml_fingerprint *out,
		   struct ml_err *e)
{
	struct fp_job J;
	size_t nc = (size_t)f->schema.ncol;

	J.f = f;
	if (!(J.col = malloc((nc ? nc : 1) * sizeof(*J.col))))
		return ml_err_nomem(e);
	ml_pool_run(pool, nc, fp_task, &J);
	out->rows = f->rows.nrow;
	out->columns = f->schema.ncol;
	out->crc32 = fp_join(J.col, nc);
	free(J.col);
	return 0;
}

struct ml_fingerprint_state {
	int ncol;
	uint64_t rows;
	struct fp_col col[];
};

struct ml_fingerprint_state *ml_fingerprint_begin(const struct ml_schema *s, struct ml_err *e)
{
	struct ml_fingerprint_state *st =
		malloc(sizeof(*st) + (size_t)(s->ncol ? s->ncol : 1) * sizeof(struct fp_col));
	int j;

	if (!st) {
		ml_err_nomem(e);
		return NULL;
	}
	st->ncol = s->ncol;
	st->rows = 0;
	for (j = 0; j < s->ncol; j++)
		fp_col_begin(&st->col[j], &s->cols[j]);
	return st;
}

void ml_fingerprint_add(struct ml_fingerprint_state *st, const struct ml_schema *s,
			const struct ml_block *b, size_t from, size_t to)
{
	int j;

	for (j = 0; j < st->ncol; j++)
		fp_col_add(&st->col[j], &s->cols[j], b, j, from, to);
	st->rows += to - from;
}

void ml_fingerprint_end(struct ml_fingerprint_state *st, struct ml_fingerprint *out)
{
	if (!st)
		return;
	if (out) {
		out->rows = st->rows;
		out->columns = st->ncol;
		out->crc32 = fp_join(st->col, (size_t)st->ncol);
	}
	free(st);
}

int ml_model_set_fingerprint(struct ml_model *m, const struct ml_fingerprint *fp, struct ml_err *e)
{
	cJSON *o = cJSON_AddObjectToObject(ml_model_meta(m), "data");
	char hex[16];

	snprintf(hex, sizeof(hex), "%08x", (unsigned)fp->crc32);
	if (!o || !cJSON_AddNumberToObject(o, "rows", (double)fp->rows) ||
	    !cJSON_AddNumberToObject(o, "columns", fp->columns) ||
	    !cJSON_AddStringToObject(o, "crc32", hex))
		return ml_err_nomem(e);
	return 0;
}
