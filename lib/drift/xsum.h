/* Exact sums of doubles and of their squares, for moments that merge associatively: a
 * profile built in one pass, by pieces merged in any order or grouping, gives the same
 * bits. Private to libml.
 *
 * Every finite double is m 2^(b - 1074) with m < 2^53 and b in [0, 2045] (b = 0 for the
 * subnormals), so the sum of n of them is an integer times 2^-1074 below 2^(n_bits + 2098)
 * and the sum of their squares an integer times 2^-2148. Each is held in signed 64-bit
 * chunks of 32 bits each (chunk i weighs 2^(32 i)), added to without carrying: a value
 * adds its pieces (each below 2^52) to two chunks of the sum and four of the squares with
 * no branch on its magnitude, and the carries are propagated once every ML_XSUM_CARRY
 * values, before a chunk could overflow. Once carried, the chunks are canonical (every chunk but the last
 * in [0, 2^32)): equal sums have equal chunks. Infinities are counted apart. */
#ifndef ML_DRIFT_XSUM_H
#define ML_DRIFT_XSUM_H

#include <stdint.h>
#include <string.h>

#include "ml/model.h"

#define ML_XSUM_N1    67 /* chunks of the sum: bits up to 2098 + 64 of count */
#define ML_XSUM_N2    133 /* chunks of the sum of squares: bits up to 4196 + 64 */
#define ML_XSUM_CARRY 1024 /* a chunk takes at most 2^52 a value */

struct ml_xsum {
	int64_t s1[ML_XSUM_N1]; /* the sum, in units of 2^-1074 */
	int64_t s2[ML_XSUM_N2]; /* the sum of squares, in units of 2^-2148 */
	uint64_t pinf, ninf;    /* +inf and -inf values, outside the sums */
	uint32_t pending;       /* values added since the carries were propagated */
};

void ml_xsum_init(struct ml_xsum *x);
/* Propagate the carries: the chunks become canonical. */
void ml_xsum_carry(struct ml_xsum *x);
/* Add src into dst. */
void ml_xsum_merge(struct ml_xsum *dst, const struct ml_xsum *src);
/* From the sums of n values: the mean sum / n, the sum of squared deviations from it
 * (n sum2 - sum^2) / n and the sample variance (n sum2 - sum^2) / (n (n - 1)), each
 * correctly rounded from the exact sums (to nearest, ties to even); NaN where undefined
 * (no value, one value for the variance, infinities as IEEE arithmetic has them).
 * -1 when the sums cannot be those of any values (n sum2 < sum^2), else 0. */
int ml_xsum_moments(const struct ml_xsum *x, uint64_t n, double *mean, double *m2,
		    double *var);
/* The canonical form (the same bytes for the same sums), and back: -1 when b does not
 * hold one, else 0. */
void ml_xsum_save(const struct ml_xsum *x, struct ml_wbuf *b);
int ml_xsum_load(struct ml_xsum *x, struct ml_rbuf *b);

/* Add a value that is not NaN: about forty instructions without a branch but for the
 * carries and infinities. */
static inline __attribute__((always_inline)) void ml_xsum_add(struct ml_xsum *x, double v)
{
	const uint64_t low = 0xffffffffu;
	uint64_t u, m, lo, hi, t;
	unsigned ex, b, s;
	unsigned __int128 p;
	int64_t neg, *c;

	memcpy(&u, &v, sizeof(u));
	ex = (unsigned)(u >> 52) & 0x7ff;
	if (__builtin_expect(ex == 0x7ff, 0)) {
		if (u >> 63)
			x->ninf++;
		else
			x->pinf++;
		return;
	}
	b = ex - (ex != 0);
	m = (u & ((UINT64_C(1) << 52) - 1)) | ((uint64_t)(ex != 0) << 52);
	neg = -(int64_t)(u >> 63);
	/* the sum: m at bit b, as its bits below the next chunk and the rest (< 2^52) */
	s = b & 31;
	c = x->s1 + (b >> 5);
	c[0] += ((int64_t)((m << s) & low) ^ neg) - neg;
	c[1] += ((int64_t)(m >> (32 - s)) ^ neg) - neg;
	/* the square: m^2 (106 bits) at bit 2b, in pieces of 32, 32, 32 and 40 bits */
	s = (b & 15) << 1;
	p = (unsigned __int128)m * m;
	lo = (uint64_t)p;
	hi = (uint64_t)(p >> 64);
	t = lo << s;
	c = x->s2 + (b >> 4);
	c[0] += (int64_t)(t & low);
	c[1] += (int64_t)(t >> 32);
	c[2] += (int64_t)(((hi << s) | (lo >> 1 >> (63 - s))) & low);
	c[3] += (int64_t)(hi >> (32 - s));
	if (__builtin_expect(++x->pending == ML_XSUM_CARRY, 0))
		ml_xsum_carry(x);
}

#endif
