/* The kernels that sum gbdt's gradient pairs into each feature's bins over a node's rows. */
#include <stdint.h>
#include <string.h>

#include "gbdt.h"

#define PREFETCH 64

/* Histograms of rows idx[a..z) into hist; B's rows are ps bytes apart. Rows go in blocks:
 * a block's bins are gathered (or, for consecutive rows, read in place), then the
 * histograms of four features at a time, 16 KB, small enough to stay in the first-level
 * cache, take the whole block. While a block's histograms are summed, the rows of the next
 * block are prefetched into the second-level cache, a few per pass over the block (one
 * prefetch for a row within a cache line, as the padded stride keeps it), so that memory
 * and arithmetic overlap instead of taking turns. */
static void hist_rows2(double *restrict hist, const uint8_t *restrict B, int p, size_t ps,
		       const int *restrict off, const float *restrict gh,
		       const uint32_t *restrict idx, size_t a, size_t z, struct kbuf *kb)
{
	v2d *H = (v2d *)hist;
	size_t k0, r, p8 = ((size_t)p + 7) / 8 * 8, ng = (size_t)p / 4;
	int f, j;

	for (k0 = a; k0 < z; k0 += BLOCK_ROWS) {
		size_t m = z - k0 < BLOCK_ROWS ? z - k0 : BLOCK_ROWS, stride;
		size_t n1 = z - (k0 + m) < BLOCK_ROWS ? z - (k0 + m) : BLOCK_ROWS;
		/* Prefetch one of the next block's rows (or, when they are consecutive, one of
		 * its cache lines) every `every` rows, `per` of them a pass. */
		size_t every = 0, per = 0, nlines = 0;
		const uint32_t *next = idx + k0 + m;
		const char *nextb = NULL;
		const uint8_t *rows;
		v2d *gb = kb->gh;
		if (idx[k0 + m - 1] - idx[k0] == m - 1) {
			/* Consecutive rows: their bins in place. */
			const float *g = gh + 2 * (size_t)idx[k0];
			rows = B + (size_t)idx[k0] * ps;
			stride = ps;
			for (r = 0; r < m; r++)
				gb[r] = (v2d){g[2 * r], g[2 * r + 1]};
		} else {
			uint8_t *dst = kb->rows;
			for (r = 0; r < m; r++, dst += p8) {
				uint32_t i = idx[k0 + r];
				const uint8_t *src = B + (size_t)i * ps;
				size_t w;
				if (r + PREFETCH < m) {
					uint32_t q = idx[k0 + r + PREFETCH];
					__builtin_prefetch(B + (size_t)q * ps);
					__builtin_prefetch(gh + 2 * (size_t)q);
				}
				for (w = 0; w < p8; w += 8) {
					uint64_t x;
					memcpy(&x, src + w, 8);
					memcpy(dst + w, &x, 8);
				}
				gb[r] = (v2d){gh[2 * (size_t)i], gh[2 * (size_t)i + 1]};
			}
			rows = kb->rows;
			stride = p8;
		}
		if (n1 > 0 && ng > 0) {
			if (next[n1 - 1] - next[0] == n1 - 1) {
				nextb = (const char *)(B + (size_t)next[0] * ps);
				nlines = (n1 * ps + 63) / 64;
				per = (nlines + ng - 1) / ng;
			} else {
				per = (n1 + ng - 1) / ng;
			}
			every = m / per > 0 ? m / per : 1;
		}
		for (f = 0; f + 4 <= p; f += 4) {
			/* Byte addresses from each feature's base: a shift and one addressing
			 * mode per update. */
			char *h0 = (char *)(H + off[f]), *h1 = (char *)(H + off[f + 1]);
			char *h2 = (char *)(H + off[f + 2]), *h3 = (char *)(H + off[f + 3]);
			const uint8_t *row = rows + f;
			size_t g0 = (size_t)(f / 4) * per, npf = 0, lim = nextb ? nlines : n1;
			const uint32_t *pf = next + g0;
			if (g0 < lim)
				npf = lim - g0 < per ? lim - g0 : per;
#if defined(__GNUC__)
			/* Keep the four bases in registers rather than re-deriving them. */
			__asm__("" : "+r"(h0), "+r"(h1), "+r"(h2), "+r"(h3));
#endif
#define HIST4_ROW                                                                                  \
	do {                                                                                       \
		v2d v = gb[r];                                                                     \
		*(v2d *)(h0 + ((size_t)row[0] << 4)) += v;                                         \
		*(v2d *)(h1 + ((size_t)row[1] << 4)) += v;                                         \
		*(v2d *)(h2 + ((size_t)row[2] << 4)) += v;                                         \
		*(v2d *)(h3 + ((size_t)row[3] << 4)) += v;                                         \
	} while (0)
			r = 0;
			if (nextb) {
				/* the next block's lines, and the lines of its (g, h) alongside */
				const char *gq = (const char *)(gh + 2 * (size_t)next[0]);
				size_t l, ghl = (n1 * 2 * sizeof(float) + 63) / 64, last = SIZE_MAX;
				for (l = g0; l < g0 + npf; l++) {
					size_t stop = r + every < m ? r + every : m, gl = l * ghl / nlines;
					__builtin_prefetch(nextb + 64 * l, 0, 2);
					if (gl != last)
						__builtin_prefetch(gq + 64 * gl, 0, 2);
					last = gl;
					for (; r < stop; r++, row += stride)
						HIST4_ROW;
				}
				npf = 0;
			}
			for (; npf > 0; npf--, pf++) {
				const uint8_t *q = B + (size_t)*pf * ps;
				size_t stop = r + every < m ? r + every : m;
				__builtin_prefetch(q, 0, 2);
				if (((uintptr_t)q & 63) + (size_t)p > 64)
					__builtin_prefetch(q + p - 1, 0, 2);
				__builtin_prefetch(gh + 2 * (size_t)*pf, 0, 2);
				for (; r < stop; r++, row += stride)
					HIST4_ROW;
			}
			for (; r < m; r++, row += stride)
				HIST4_ROW;
#undef HIST4_ROW
		}
		if (f < p) {
			const uint8_t *row = rows;
			for (r = 0; r < m; r++, row += stride)
				for (j = f; j < p; j++)
					H[off[j] + row[j]] += gb[r];
		}
	}
}

/* The same with a row count in each entry (g, h, count, 0). */
static void hist_rows4(double *restrict hist, const uint8_t *restrict B, int p, size_t ps,
		       const int *restrict off, const float *restrict gh,
		       const uint32_t *restrict idx, size_t a, size_t z)
{
	v2d *H = (v2d *)hist, one = {1, 0};
	size_t k;
	int j;

	for (k = a; k < z; k++) {
		uint32_t i = idx[k];
		const uint8_t *r = B + (size_t)i * ps;
		v2d v = {gh[2 * (size_t)i], gh[2 * (size_t)i + 1]};
		if (k + PREFETCH < z) {
			uint32_t f = idx[k + PREFETCH];
			__builtin_prefetch(B + (size_t)f * ps);
			__builtin_prefetch(gh + 2 * (size_t)f);
		}
		for (j = 0; j < p; j++) {
			v2d *e = H + 2 * (size_t)(off[j] + r[j]);
			e[0] += v;
			e[1] += one;
		}
	}
}

void ml_gbdt_build_task(void *arg, size_t t, int worker)
{
	struct gb *g = arg;
	const struct btask *b = &g->bt[g->border[t]];

	memset(b->dst, 0, g->hlen * sizeof(double));
	if (g->ES == 2)
		hist_rows2(b->dst, g->bins->B, g->p, g->bins->stride, g->bins->off, g->ghk, g->idx,
			   b->a, b->z, &g->kb[worker]);
	else
		hist_rows4(b->dst, g->bins->B, g->p, g->bins->stride, g->bins->off, g->ghk, g->idx,
			   b->a, b->z);
}
