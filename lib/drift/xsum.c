/* Exact sums of doubles and of their squares (xsum.h): carries, merges, the canonical
 * saved form, and the moments derived from the sums with one rounding each. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "drift/xsum.h"
#include "ml/err.h"

/* Magnitudes: little-endian arrays of 32-bit limbs. A sum's magnitude has one limb more
 * than its chunks (the last chunk, carried, holds up to 62 bits). */
#define L1 (ML_XSUM_N1 + 1)
#define L2 (ML_XSUM_N2 + 1)

void ml_xsum_init(struct ml_xsum *x)
{
	memset(x, 0, sizeof(*x));
}

static void carry(int64_t *c, int n)
{
	int i;

	for (i = 0; i + 1 < n; i++) {
		int64_t k = c[i] >> 32; /* floor(c / 2^32): the arithmetic shift gcc defines */
		c[i] &= 0xffffffff;
		c[i + 1] += k;
	}
}

void ml_xsum_carry(struct ml_xsum *x)
{
	carry(x->s1, ML_XSUM_N1);
	carry(x->s2, ML_XSUM_N2);
	x->pending = 0;
}

void ml_xsum_merge(struct ml_xsum *dst, const struct ml_xsum *src)
{
	struct ml_xsum s = *src;
	int i;

	ml_xsum_carry(dst);
	ml_xsum_carry(&s);
	for (i = 0; i < ML_XSUM_N1; i++)
		dst->s1[i] += s.s1[i];
	for (i = 0; i < ML_XSUM_N2; i++)
		dst->s2[i] += s.s2[i];
	dst->pinf += s.pinf;
	dst->ninf += s.ninf;
	ml_xsum_carry(dst);
}

/* The magnitude of carried chunks c[0..n) into m[0..n] (n + 1 limbs); 1 when negative. */
static int magnitude(const int64_t *c, int n, uint32_t *m)
{
	int64_t t[L2];
	int i, neg = c[n - 1] < 0;

	memcpy(t, c, (size_t)n * sizeof(*t));
	if (neg) {
		for (i = 0; i < n; i++)
			t[i] = -t[i];
		carry(t, n);
	}
	for (i = 0; i < n; i++)
		m[i] = (uint32_t)t[i];
	m[n] = (uint32_t)((uint64_t)t[n - 1] >> 32);
	return neg;
}

/* out[0..la+lb) = a b */
static void mag_mul(const uint32_t *a, int la, const uint32_t *b, int lb, uint32_t *out)
{
	int i, j;

	memset(out, 0, (size_t)(la + lb) * sizeof(*out));
	for (i = 0; i < la; i++) {
		uint64_t k = 0;
		if (!a[i])
			continue;
		for (j = 0; j < lb; j++) {
			uint64_t t = (uint64_t)a[i] * b[j] + out[i + j] + k;
			out[i + j] = (uint32_t)t;
			k = t >> 32;
		}
		out[i + lb] = (uint32_t)k;
	}
}

/* a -= b over n limbs; the borrow out (nonzero when b > a). */
static uint32_t mag_sub(uint32_t *a, const uint32_t *b, int n)
{
	uint64_t borrow = 0;
	int i;

	for (i = 0; i < n; i++) {
		uint64_t t = (uint64_t)a[i] - b[i] - borrow;
		a[i] = (uint32_t)t;
		borrow = t >> 63;
	}
	return (uint32_t)borrow;
}

/* a /= d in place (d > 0); the remainder. */
static uint64_t mag_div(uint32_t *a, int n, uint64_t d)
{
	uint64_t r = 0;
	int i;

	for (i = n - 1; i >= 0; i--) {
		unsigned __int128 t = ((unsigned __int128)r << 32) | a[i];
		a[i] = (uint32_t)(t / d);
		r = (uint64_t)(t % d);
	}
	return r;
}

/* Bits [pos, pos + k) of a (k <= 64), zero past its end. */
static uint64_t mag_bits(const uint32_t *a, int n, int pos, int k)
{
	unsigned __int128 t = 0;
	int i, w = pos >> 5;

	for (i = 2; i >= 0; i--)
		t = (t << 32) | (w + i < n ? a[w + i] : 0);
	t >>= pos & 31;
	return k >= 64 ? (uint64_t)t : (uint64_t)t & ((UINT64_C(1) << k) - 1);
}

/* Whether a bit below pos is set. */
static int mag_any_below(const uint32_t *a, int pos)
{
	int i;

	for (i = 0; i < pos >> 5; i++)
		if (a[i])
			return 1;
	return (pos & 31) && (a[pos >> 5] & ((UINT32_C(1) << (pos & 31)) - 1));
}

/* The double nearest (ties to even) to (a + f) 2^scale, f a fraction in [0, 1) that is
 * nonzero iff sticky; the unit of the result must be at least 2 units of a, which the
 * callers ensure by scales below -1074 - 63. */
static double mag_to_double(const uint32_t *a, int n, int scale, int sticky)
{
	int top = n - 1, t, lowpos;
	uint64_t mant, round;

	while (top >= 0 && !a[top])
		top--;
	if (top < 0)
		return 0;
	t = top * 32 + 31 - __builtin_clz(a[top]);
	lowpos = t - 52;
	if (lowpos < -1074 - scale)
		lowpos = -1074 - scale; /* subnormal: the unit is 2^-1074 */
	if (lowpos > t + 1)
		return 0; /* below half the least subnormal */
	mant = mag_bits(a, n, lowpos, 53);
	round = mag_bits(a, n, lowpos - 1, 1);
	sticky = sticky || mag_any_below(a, lowpos - 1);
	if (round && (sticky || (mant & 1)))
		mant++;
	return ldexp((double)mant, lowpos + scale);
}

int ml_xsum_moments(const struct ml_xsum *x0, uint64_t n, double *mean, double *m2,
			double *var)
{
	struct ml_xsum x = *x0;
	uint32_t a[L1], q1[L1 + 2], sq[2 * L1], s2[L2], ns2[L2 + 2], d[2 * L1 + 4];
	uint32_t nn[2] = {(uint32_t)n, (uint32_t)(n >> 32)};
	uint64_t r1, r2;
	int neg;

	*mean = *var = NAN;
	*m2 = 0;
	if (n == 0)
		return 0;
	ml_xsum_carry(&x);
	if (x.pinf || x.ninf) {
		*mean = x.pinf && x.ninf ? NAN : x.pinf ? INFINITY : -INFINITY;
		*m2 = NAN;
		return 0;
	}
	/* mean: the sum, 64 bits more of fraction, over n */
	neg = magnitude(x.s1, ML_XSUM_N1, a);
	memset(q1, 0, 2 * sizeof(*q1));
	memcpy(q1 + 2, a, sizeof(a));
	r1 = mag_div(q1, L1 + 2, n);
	*mean = mag_to_double(q1, L1 + 2, -1074 - 64, r1 != 0);
	if (neg)
		*mean = -*mean;
	/* n sum2 - sum^2, in units of 2^-2148, at least 0 (Cauchy-Schwarz) */
	mag_mul(a, L1, a, L1, sq);
	if (magnitude(x.s2, ML_XSUM_N2, s2))
		return -1;
	mag_mul(s2, L2, nn, 2, ns2);
	/* both of 2 L1 = L2 + 2 limbs */
	memset(d, 0, 4 * sizeof(*d));
	memcpy(d + 4, ns2, sizeof(ns2));
	if (mag_sub(d + 4, sq, 2 * L1))
		return -1;
	/* with 128 bits more of fraction: m2 = D / n, var = D / n / (n - 1) */
	r1 = mag_div(d, 2 * L1 + 4, n);
	*m2 = mag_to_double(d, 2 * L1 + 4, -2148 - 128, r1 != 0);
	if (n > 1) {
		r2 = mag_div(d, 2 * L1 + 4, n - 1);
		*var = mag_to_double(d, 2 * L1 + 4, -2148 - 128, r1 != 0 || r2 != 0);
	}
	return 0;
}

_Static_assert(L2 + 2 == 2 * L1, "n sum2 and sum^2 have as many limbs");

/* One sum as u8 sign, u32 first limb, u32 limbs, the limbs of its magnitude from the
 * first nonzero one to the last (none for 0). */
static void save_sum(const int64_t *c, int n, struct ml_wbuf *b)
{
	uint32_t m[L2];
	int neg = magnitude(c, n, m), lo = 0, hi = n + 1, i;

	while (lo < hi && !m[lo])
		lo++;
	while (hi > lo && !m[hi - 1])
		hi--;
	ml_wbuf_u8(b, (uint8_t)(lo < hi && neg));
	ml_wbuf_u32(b, (uint32_t)(lo < hi ? lo : 0));
	ml_wbuf_u32(b, (uint32_t)(hi - lo));
	for (i = lo; i < hi; i++)
		ml_wbuf_u32(b, m[i]);
}

void ml_xsum_save(const struct ml_xsum *x, struct ml_wbuf *b)
{
	struct ml_xsum c = *x;

	ml_xsum_carry(&c);
	save_sum(c.s1, ML_XSUM_N1, b);
	save_sum(c.s2, ML_XSUM_N2, b);
	ml_wbuf_u64(b, c.pinf);
	ml_wbuf_u64(b, c.ninf);
}

/* The canonical chunks of a saved sum below 2^maxbit; -1 for another form. */
static int load_sum(int64_t *c, int n, int maxbit, int may_neg, struct ml_rbuf *b)
{
	uint32_t m[L2];
	uint8_t neg = ml_rbuf_u8(b);
	uint32_t lo = ml_rbuf_u32(b), len = ml_rbuf_u32(b), i;

	if (b->err || neg > 1 || (neg && !may_neg) || (uint64_t)lo + len > (uint64_t)n + 1 ||
	    (len == 0 && (neg || lo)) || ml_rbuf_count(b, len, sizeof(uint32_t)) != len)
		return -1;
	memset(m, 0, sizeof(m));
	for (i = 0; i < len; i++)
		m[lo + i] = ml_rbuf_u32(b);
	if (len && (!m[lo] || !m[lo + len - 1] ||
		    32 * (int)(lo + len - 1) + 32 - __builtin_clz(m[lo + len - 1]) > maxbit))
		return -1;
	for (i = 0; i + 1 < (uint32_t)n; i++)
		c[i] = m[i];
	c[n - 1] = (int64_t)(((uint64_t)m[n] << 32) | m[n - 1]);
	if (neg) {
		for (i = 0; i < (uint32_t)n; i++)
			c[i] = -c[i];
		carry(c, n);
	}
	return 0;
}

int ml_xsum_load(struct ml_xsum *x, struct ml_rbuf *b)
{
	ml_xsum_init(x);
	/* a sum of at most 2^64 values of at most 2^1024, of their squares */
	if (load_sum(x->s1, ML_XSUM_N1, 64 + 1024 + 1074, 1, b) < 0 ||
	    load_sum(x->s2, ML_XSUM_N2, 64 + 2048 + 2148, 0, b) < 0)
		return -1;
	x->pinf = ml_rbuf_u64(b);
	x->ninf = ml_rbuf_u64(b);
	return b->err ? -1 : 0;
}
