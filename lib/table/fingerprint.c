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
struct fp_job {
	const struct ml_frame *f;
	uLong *crc;   /* per column, from 0 */
	z_off_t *len; /* per column: bytes it covers */
};

static void fp_task(void *arg, size_t task, int worker)
{
	const struct fp_job *J = arg;
	const struct ml_frame *f = J->f;
	int j = (int)task, b;
	const struct ml_col *c = &f->schema.cols[j];
	unsigned char t = c->type == ML_NUM ? 'n' : 'c', buf[8 * 512];
	uLong crc = crc32(0L, Z_NULL, 0);
	z_off_t len = (z_off_t)strlen(c->name) + 2;
	size_t i, k;

	(void)worker;
	crc = crc32(crc, (const Bytef *)c->name, (uInt)strlen(c->name) + 1);
	crc = crc32(crc, &t, 1);
	if (c->type == ML_NUM) {
		const double *v = f->rows.col[j].num;
		for (i = 0; i < f->rows.nrow; i += k) {
			for (k = 0; k < 512 && i + k < f->rows.nrow; k++) {
				double x = v[i + k];
				uint64_t u;
				if (x != x)
					u = 0x7ff8000000000000ULL;
				else
					memcpy(&u, &x, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
				memcpy(buf + k * 8, &u, 8); /* already least significant first */
#else
				for (b = 0; b < 8; b++)
					buf[k * 8 + (size_t)b] = (unsigned char)(u >> (8 * b));
#endif
			}
			crc = crc32(crc, buf, (uInt)(k * 8));
			len += (z_off_t)(k * 8);
		}
	} else {
		const int32_t *v = f->rows.col[j].cat;
		for (i = 0; i < f->rows.nrow; i++) {
			uint32_t n = v[i] < 0 ? 0xffffffffU : c->dict.len[v[i]];
			for (b = 0; b < 4; b++)
				buf[b] = (unsigned char)(n >> (8 * b));
			crc = crc32(crc, buf, 4);
			len += 4;
			if (v[i] >= 0) {
				crc = crc32(crc, (const Bytef *)c->dict.str[v[i]], (uInt)n);
				len += (z_off_t)n;
			}
		}
	}
	J->crc[j] = crc;
	J->len[j] = len;
}

/* The columns on the pool's threads, their CRCs then joined in order. */
int ml_fingerprint(const struct ml_frame *f, struct ml_pool *pool, struct ml_fingerprint *out,
		   struct ml_err *e)
{
	struct fp_job J;
	size_t nc = (size_t)f->schema.ncol;
	uLong crc = crc32(0L, Z_NULL, 0);
	size_t j;

	J.f = f;
	J.crc = malloc((nc ? nc : 1) * sizeof(*J.crc));
	J.len = malloc((nc ? nc : 1) * sizeof(*J.len));
	if (!J.crc || !J.len) {
		free(J.crc);
		free(J.len);
		return ml_err_nomem(e);
	}
	ml_pool_run(pool, nc, fp_task, &J);
	for (j = 0; j < nc; j++)
		crc = crc32_combine(crc, J.crc[j], J.len[j]);
	free(J.crc);
	free(J.len);
	out->rows = f->rows.nrow;
	out->columns = f->schema.ncol;
	out->crc32 = (uint32_t)crc;
	return 0;
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
