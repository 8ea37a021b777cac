/* Train/test and k-fold assignment of rows: random, stratified, grouped, time-ordered and
 * hashed-key splits. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ctx.h"
#include "ml/num.h"
#include "ml/split.h"

void ml_split_opts_init(struct ml_split_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->mode = ML_SPLIT_RANDOM;
	o->col = -1;
	o->test = 0.25;
	o->seed = 42;
}

/* Hashing. */

uint64_t ml_split_hash(const char *text, size_t len, uint64_t seed)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;
	int b;

	for (b = 0; b < 8; b++) {
		h ^= (seed >> (8 * b)) & 0xff;
		h *= 0x100000001b3ULL;
	}
	for (i = 0; i < len; i++) {
		h ^= (unsigned char)text[i];
		h *= 0x100000001b3ULL;
	}
	/* FNV alone mixes its last bytes poorly into the high bits the side is read from. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

double ml_split_hash_unit(uint64_t h)
{
	return (double)(h >> 11) * 0x1.0p-53;
}

int ml_split_hash_fold(uint64_t h, int k)
{
	return (int)(((unsigned __int128)h * (uint64_t)k) >> 64);
}

uint64_t ml_split_key_hash(const struct ml_block *b, int col, size_t i, uint64_t seed)
{
	const struct ml_col *c = &b->schema->cols[col];

	if (c->type == ML_NUM) {
		char buf[ML_FMT_DOUBLE_MAX + 1];
		double v = b->col[col].num[i];
		if (v != v)
			return ml_split_hash("", 0, seed);
		return ml_split_hash(buf, ml_fmt_double(buf, v), seed);
	} else {
		int32_t code = b->col[col].cat[i];
		if (code < 0 || code >= c->dict.n)
			return ml_split_hash("", 0, seed);
		return ml_split_hash(c->dict.str[code], c->dict.len[code], seed);
	}
}

/* Messages. */

static const char *col_name(const struct ml_block *b, int col, char *buf, size_t n)
{
	const char *s = b->schema->cols[col].name;
	return ml_err_quote(buf, n, s, strlen(s));
}

/* The class of row i's value of col for a message: "class 'text'", or the missing class. */
static const char *class_text(const struct ml_block *b, int col, size_t i, char *buf, size_t n)
{
	const struct ml_col *c = &b->schema->cols[col];
	const char *s = NULL;
	size_t len = 0;
	char num[ML_FMT_DOUBLE_MAX + 1];

	if (c->type == ML_NUM) {
		double v = b->col[col].num[i];
		if (v == v) {
			len = ml_fmt_double(num, v);
			s = num;
		}
	} else {
		int32_t code = b->col[col].cat[i];
		if (code >= 0 && code < c->dict.n) {
			s = c->dict.str[code];
			len = c->dict.len[code];
		}
	}
	if (!s || n < 16)
		return "the class of missing values";
	memcpy(buf, "class '", 7);
	ml_err_quote(buf + 7, n - 8, s, len);
	len = strlen(buf);
	buf[len] = '\'';
	buf[len + 1] = 0;
	return buf;
}

static long row_line(const struct ml_block *b, size_t i)
{
	return b->line ? b->line[i] : 0;
}

/* Labels. */

struct numkey {
	double v;
	size_t i;
};

static int cmp_numkey(const void *pa, const void *pb)
{
	const struct numkey *a = pa, *b = pb;
	int an = a->v != a->v, bn = b->v != b->v;

	if (an != bn)
		return an - bn; /* missing last */
	if (!an && a->v != b->v)
		return a->v < b->v ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i;
}

static int check_col(const struct ml_block *b, int col, struct ml_err *e)
{
	if (!b || !b->schema || col < 0 || col >= b->schema->ncol || col >= b->ncol)
		return ml_err_set(e, ML_E_INTERNAL, NULL, 0, 0, "split column %d out of range", col);
	return 0;
}

int ml_split_labels(const struct ml_block *b, int col, int32_t *lab, size_t *nlab,
		    struct ml_err *e)
{
	const struct ml_col *c;
	size_t n, i, next = 0;
	int32_t *map;
	int rc;

	if ((rc = check_col(b, col, e)) < 0)
		return rc;
	c = &b->schema->cols[col];
	n = b->nrow;
	*nlab = 0;
	if (c->type == ML_CAT) {
		size_t dn = (size_t)c->dict.n;
		map = malloc((dn + 1) * sizeof(*map));
		if (!map)
			return ml_err_nomem(e);
		for (i = 0; i <= dn; i++)
			map[i] = -1;
		for (i = 0; i < n; i++) {
			int32_t code = b->col[col].cat[i];
			size_t slot = code < 0 ? dn : (size_t)code;
			if (code >= 0 && (size_t)code >= dn) {
				free(map);
				return ml_err_set(e, ML_E_INTERNAL, NULL, row_line(b, i), 0,
						  "code %d outside the dictionary of column '%s'", code,
						  c->name);
			}
			if (map[slot] < 0)
				map[slot] = (int32_t)next++;
			lab[i] = map[slot];
		}
		free(map);
	} else {
		struct numkey *k = malloc((n ? n : 1) * sizeof(*k));
		size_t ng = 0;
		if (!k)
			return ml_err_nomem(e);
		for (i = 0; i < n; i++) {
			k[i].v = b->col[col].num[i];
			k[i].i = i;
		}
		qsort(k, n, sizeof(*k), cmp_numkey);
		/* Provisional labels in value order, then renumbered by first appearance. */
		for (i = 0; i < n; i++) {
			if (i > 0) {
				double u = k[i - 1].v, v = k[i].v;
				if (!(u == v || (u != u && v != v)))
					ng++;
			}
			lab[k[i].i] = (int32_t)ng;
		}
		free(k);
		map = malloc((n ? n : 1) * sizeof(*map));
		if (!map)
			return ml_err_nomem(e);
		for (i = 0; i < n; i++)
			map[i] = -1;
		for (i = 0; i < n; i++) {
			if (map[lab[i]] < 0)
				map[lab[i]] = (int32_t)next++;
			lab[i] = map[lab[i]];
		}
		free(map);
	}
	*nlab = next;
	return 0;
}

/* Time order. */

struct strkey {
	const char *s;
	uint32_t len;
	int32_t code;
};

static int cmp_strkey(const void *pa, const void *pb)
{
	const struct strkey *a = pa, *b = pb;
	size_t m = a->len < b->len ? a->len : b->len;
	int c = memcmp(a->s, b->s, m);

	if (c)
		return c;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return a->code < b->code ? -1 : a->code > b->code;
}

int ml_split_time_order(const struct ml_block *b, int col, size_t *order, struct ml_err *e)
{
	const struct ml_col *c;
	struct numkey *k;
	size_t n, i;
	int rc;
	char qn[128];

	if ((rc = check_col(b, col, e)) < 0)
		return rc;
	c = &b->schema->cols[col];
	n = b->nrow;
	k = malloc((n ? n : 1) * sizeof(*k));
	if (!k)
		return ml_err_nomem(e);
	if (c->type == ML_NUM) {
		for (i = 0; i < n; i++) {
			k[i].v = b->col[col].num[i];
			k[i].i = i;
		}
	} else {
		/* Rank the dictionary by bytes, then sort the rows by rank. */
		size_t dn = (size_t)c->dict.n;
		struct strkey *sk = malloc((dn ? dn : 1) * sizeof(*sk));
		double *rank = malloc((dn ? dn : 1) * sizeof(*rank));
		if (!sk || !rank) {
			free(sk);
			free(rank);
			free(k);
			return ml_err_nomem(e);
		}
		for (i = 0; i < dn; i++) {
			sk[i].s = c->dict.str[i];
			sk[i].len = c->dict.len[i];
			sk[i].code = (int32_t)i;
		}
		qsort(sk, dn, sizeof(*sk), cmp_strkey);
		for (i = 0; i < dn; i++)
			rank[sk[i].code] = (double)i;
		for (i = 0; i < n; i++) {
			int32_t code = b->col[col].cat[i];
			k[i].v = code >= 0 && (size_t)code < dn ? rank[code] : NAN;
			k[i].i = i;
		}
		free(sk);
		free(rank);
	}
	for (i = 0; i < n; i++)
		if (k[i].v != k[i].v) {
			free(k);
			return ml_err_set(e, ML_E_DATA, NULL, row_line(b, i), 0,
					  "missing value in time column '%s'", col_name(b, col, qn, 100));
		}
	qsort(k, n, sizeof(*k), cmp_numkey);
	for (i = 0; i < n; i++)
		order[i] = k[i].i;
	free(k);
	return 0;
}

/* Test sizes. */

int ml_split_test_rows(size_t n, double test, size_t *ntest, struct ml_err *e)
{
	size_t t;

	*ntest = 0;
	if (test > 0 && test < 1) {
		if (n == 0)
			return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "no rows to split");
		/* As scikit-learn: ceil of the product in double precision. */
		t = (size_t)ceil(test * (double)n);
		if (t >= n)
			return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
					  "the train set would be empty: a test fraction of %g "
					  "takes %zu of the %zu rows",
					  test, t, n);
	} else if (test >= 1 && test == floor(test) && test < 0x1p63) {
		if (n == 0)
			return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "no rows to split");
		if (test >= (double)n)
			return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
					  "a test count of %.0f is not smaller than the %zu rows", test,
					  n);
		t = (size_t)test;
	} else {
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "test size %g is neither a fraction in (0, 1) nor a whole count >= 1",
				  test);
	}
	if (t == 0)
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "the test set would be empty");
	*ntest = t;
	return 0;
}

/* Rows grouped by label, in input order within a label: rows[start[l] .. start[l+1]). */
static int by_label(const int32_t *lab, size_t n, size_t nlab, size_t **rows, size_t **start,
		    struct ml_err *e)
{
	size_t *r = malloc((n ? n : 1) * sizeof(*r));
	size_t *s = calloc(nlab + 1, sizeof(*s));
	size_t *at = malloc((nlab ? nlab : 1) * sizeof(*at));
	size_t i, l;

	if (!r || !s || !at) {
		free(r);
		free(s);
		free(at);
		return ml_err_nomem(e);
	}
	for (i = 0; i < n; i++)
		s[lab[i] + 1]++;
	for (l = 0; l < nlab; l++)
		s[l + 1] += s[l];
	for (l = 0; l < nlab; l++)
		at[l] = s[l];
	for (i = 0; i < n; i++)
		r[at[lab[i]]++] = i;
	free(at);
	*rows = r;
	*start = s;
	return 0;
}

/* The first row with label l, for messages. */
static size_t first_with(const int32_t *lab, size_t n, int32_t l)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (lab[i] == l)
			return i;
	return 0;
}

static int split_random(size_t n, size_t ntest, uint64_t seed, unsigned char *side,
			struct ml_err *e)
{
	size_t *perm = malloc((n ? n : 1) * sizeof(*perm)), i;
	struct ml_rng r;

	if (!perm)
		return ml_err_nomem(e);
	for (i = 0; i < n; i++)
		perm[i] = i;
	ml_rng_seed(&r, seed);
	ml_rng_shuffle(&r, perm, n);
	for (i = 0; i < ntest; i++)
		side[perm[i]] = ML_SIDE_TEST;
	free(perm);
	return 0;
}

/* A count to sort by, largest first, ties by position. */
struct gsize {
	size_t cnt, pos, g;
};

static int cmp_gsize(const void *pa, const void *pb)
{
	const struct gsize *a = pa, *b = pb;

	if (a->cnt != b->cnt)
		return a->cnt > b->cnt ? -1 : 1;
	return a->pos < b->pos ? -1 : a->pos > b->pos;
}

static int split_stratified(const struct ml_block *b, int col, size_t ntest, uint64_t seed,
			    unsigned char *side, struct ml_split_info *info, struct ml_err *e)
{
	size_t n = b->nrow, nlab = 0, l, i, min = SIZE_MAX, minl = 0, given = 0;
	int32_t *lab = malloc((n ? n : 1) * sizeof(*lab));
	size_t *rows = NULL, *start = NULL, *t = NULL, *rem = NULL;
	struct gsize *rk = NULL;
	struct ml_rng r;
	char qn[128], qv[128];
	int rc;

	if (!lab)
		return ml_err_nomem(e);
	if ((rc = ml_split_labels(b, col, lab, &nlab, e)) < 0)
		goto out;
	if ((rc = by_label(lab, n, nlab, &rows, &start, e)) < 0)
		goto out;
	for (l = 0; l < nlab; l++)
		if (start[l + 1] - start[l] < min) {
			min = start[l + 1] - start[l];
			minl = l;
		}
	info->nlabels = nlab;
	info->min_count = min;
	if (min < 2) {
		rc = ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				"%s of column '%s' has only 1 row; stratifying needs at least 2 "
				"rows in every class",
				class_text(b, col, first_with(lab, n, (int32_t)minl), qv, 100),
				col_name(b, col, qn, 100));
		goto out;
	}
	if (ntest < nlab || n - ntest < nlab) {
		rc = ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				"%zu %s rows cannot hold one row of each of the %zu classes of '%s'",
				ntest < nlab ? ntest : n - ntest, ntest < nlab ? "test" : "train", nlab,
				col_name(b, col, qn, 100));
		goto out;
	}
	t = malloc(nlab * sizeof(*t));
	rem = malloc(nlab * sizeof(*rem));
	rk = malloc(nlab * sizeof(*rk));
	if (!t || !rem || !rk) {
		rc = ml_err_nomem(e);
		goto out;
	}
	/* Largest remainders: floor shares, then one more row each to the classes with the
	 * largest fractional parts until the total is exact. */
	for (l = 0; l < nlab; l++) {
		unsigned __int128 p = (unsigned __int128)(start[l + 1] - start[l]) * ntest;
		t[l] = (size_t)(p / n);
		rem[l] = (size_t)(p % n);
		given += t[l];
	}
	for (l = 0; l < nlab; l++) {
		rk[l].cnt = rem[l];
		rk[l].pos = l;
		rk[l].g = l;
	}
	qsort(rk, nlab, sizeof(*rk), cmp_gsize);
	for (l = 0; given < ntest; l++, given++)
		t[rk[l].g]++;
	ml_rng_seed(&r, seed);
	for (l = 0; l < nlab; l++) {
		size_t *cls = rows + start[l], cnt = start[l + 1] - start[l];
		ml_rng_shuffle(&r, cls, cnt);
		for (i = 0; i < t[l]; i++)
			side[cls[i]] = ML_SIDE_TEST;
	}
	rc = 0;
out:
	free(lab);
	free(rows);
	free(start);
	free(t);
	free(rem);
	free(rk);
	return rc;
}

/* Sizes ascending, ties by position. */
static int cmp_gsize_asc(const void *pa, const void *pb)
{
	const struct gsize *a = pa, *b = pb;

	if (a->cnt != b->cnt)
		return a->cnt < b->cnt ? -1 : 1;
	return a->pos < b->pos ? -1 : a->pos > b->pos;
}

/* Rounds of improvement a grouped split tries at most. */
#define GROUP_ROUNDS 64

/* Bring a grouped test set closer to its target by the best of: adding one group,
 * removing one, or exchanging a tested group for an untested one; as long as a move
 * helps. Both sides keep at least one row. */
static int group_improve(const size_t *cnt, const size_t *ord, unsigned char *take,
			 size_t nlab, size_t n, size_t target, size_t *testp, struct ml_err *e)
{
	struct gsize *u = malloc(nlab * sizeof(*u));
	long long test = (long long)*testp, tgt = (long long)target, top = (long long)n - 1;
	size_t round, g, nu;

	if (!u)
		return ml_err_nomem(e);
	for (round = 0; round < GROUP_ROUNDS && test != tgt; round++) {
		long long d = tgt - test, bestd = d < 0 ? -d : d;
		size_t add = SIZE_MAX, del = SIZE_MAX;

		nu = 0;
		for (g = 0; g < nlab; g++)
			if (!take[ord[g]]) {
				u[nu].cnt = cnt[ord[g]];
				u[nu].pos = g;
				u[nu].g = ord[g];
				nu++;
			}
		qsort(u, nu, sizeof(*u), cmp_gsize_asc);
		/* g = 0: add only; g > 0: the tested group ord[g - 1] leaves, and an
		 * untested one of about its size plus d may come in. */
		for (g = 0; g <= nlab; g++) {
			size_t t = SIZE_MAX, lo = 0, hi = nu, k;
			long long tc = 0, want, nt, dd;
			if (g > 0) {
				t = ord[g - 1];
				if (!take[t])
					continue;
				tc = (long long)cnt[t];
				nt = test - tc;
				dd = tgt > nt ? tgt - nt : nt - tgt;
				if (nt >= 1 && dd < bestd) {
					bestd = dd;
					add = SIZE_MAX;
					del = t;
				}
			}
			want = tc + d;
			while (lo < hi) {
				size_t mid = lo + (hi - lo) / 2;
				if ((long long)u[mid].cnt < want)
					lo = mid + 1;
				else
					hi = mid;
			}
			for (k = lo ? lo - 1 : lo; k <= lo && k < nu; k++) {
				nt = test - tc + (long long)u[k].cnt;
				dd = tgt > nt ? tgt - nt : nt - tgt;
				if (nt >= 1 && nt <= top && dd < bestd) {
					bestd = dd;
					add = u[k].g;
					del = t;
				}
			}
		}
		if (add == SIZE_MAX && del == SIZE_MAX)
			break;
		if (del != SIZE_MAX) {
			take[del] = 0;
			test -= (long long)cnt[del];
		}
		if (add != SIZE_MAX) {
			take[add] = 1;
			test += (long long)cnt[add];
		}
	}
	free(u);
	*testp = (size_t)test;
	return 0;
}

static int split_group(const struct ml_block *b, int col, size_t ntest, uint64_t seed,
		       unsigned char *side, struct ml_split_info *info, struct ml_err *e)
{
	size_t n = b->nrow, nlab = 0, g, i, test = 0, *cnt = NULL, *ord = NULL;
	int32_t *lab = malloc((n ? n : 1) * sizeof(*lab));
	unsigned char *take = NULL;
	struct ml_rng r;
	char qn[128];
	int rc;

	if (!lab)
		return ml_err_nomem(e);
	if ((rc = ml_split_labels(b, col, lab, &nlab, e)) < 0)
		goto out;
	info->nlabels = nlab;
	if (nlab < 2) {
		rc = ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				"column '%s' has a single group: it cannot be split",
				col_name(b, col, qn, 100));
		goto out;
	}
	cnt = calloc(nlab, sizeof(*cnt));
	ord = malloc(nlab * sizeof(*ord));
	take = calloc(nlab, 1);
	if (!cnt || !ord || !take) {
		rc = ml_err_nomem(e);
		goto out;
	}
	for (i = 0; i < n; i++)
		cnt[lab[i]]++;
	info->min_count = SIZE_MAX;
	for (g = 0; g < nlab; g++) {
		ord[g] = g;
		if (cnt[g] < info->min_count)
			info->min_count = cnt[g];
	}
	ml_rng_seed(&r, seed);
	ml_rng_shuffle(&r, ord, nlab);
	for (g = 0; g < nlab; g++)
		if (test + cnt[ord[g]] <= ntest) {
			take[ord[g]] = 1;
			test += cnt[ord[g]];
		}
	if ((rc = group_improve(cnt, ord, take, nlab, n, ntest, &test, e)) < 0)
		goto out;
	if (test == 0) {
		/* Every group is larger than the target: the smallest one is tested. */
		size_t best = ord[0];
		for (g = 1; g < nlab; g++)
			if (cnt[ord[g]] < cnt[best])
				best = ord[g];
		take[best] = 1;
		test = cnt[best];
	}
	for (i = 0; i < n; i++)
		if (take[lab[i]])
			side[i] = ML_SIDE_TEST;
	rc = 0;
out:
	free(lab);
	free(cnt);
	free(ord);
	free(take);
	return rc;
}

static int split_time(const struct ml_block *b, int col, size_t ntest, size_t gap,
		      unsigned char *side, struct ml_err *e)
{
	size_t n = b->nrow, i, *order;
	int rc;

	if (gap >= n - ntest)
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				  "no rows left to train on: %zu rows, %zu tested and a gap of %zu",
				  n, ntest, gap);
	order = malloc((n ? n : 1) * sizeof(*order));
	if (!order)
		return ml_err_nomem(e);
	if ((rc = ml_split_time_order(b, col, order, e)) < 0) {
		free(order);
		return rc;
	}
	for (i = n - ntest; i < n; i++)
		side[order[i]] = ML_SIDE_TEST;
	for (i = n - ntest - gap; i < n - ntest; i++)
		side[order[i]] = ML_SIDE_GAP;
	free(order);
	return 0;
}

int ml_split(const struct ml_block *rows, const struct ml_split_opts *o, unsigned char *side,
	     struct ml_split_info *info, struct ml_err *e)
{
	struct ml_split_info dummy;
	size_t n, i, ntest = 0;
	int rc = 0;

	if (!info)
		info = &dummy;
	memset(info, 0, sizeof(*info));
	n = rows->nrow;
	info->n = n;
	if (o->mode != ML_SPLIT_RANDOM && (rc = check_col(rows, o->col, e)) < 0)
		return rc;
	if (o->gap && o->mode != ML_SPLIT_TIME)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "a gap needs a time split");
	memset(side, ML_SIDE_TRAIN, n);
	if (o->mode == ML_SPLIT_KEY) {
		if (!(o->test > 0 && o->test < 1))
			return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
					  "a key split needs a test fraction in (0, 1), not %g",
					  o->test);
		for (i = 0; i < n; i++)
			if (ml_split_hash_unit(ml_split_key_hash(rows, o->col, i, o->seed)) < o->test)
				side[i] = ML_SIDE_TEST;
	} else {
		if ((rc = ml_split_test_rows(n, o->test, &ntest, e)) < 0)
			return rc;
		info->target = ntest;
		switch (o->mode) {
		case ML_SPLIT_RANDOM:
			rc = split_random(n, ntest, o->seed, side, e);
			break;
		case ML_SPLIT_STRATIFY:
			rc = split_stratified(rows, o->col, ntest, o->seed, side, info, e);
			break;
		case ML_SPLIT_GROUP:
			rc = split_group(rows, o->col, ntest, o->seed, side, info, e);
			break;
		case ML_SPLIT_TIME:
			rc = split_time(rows, o->col, ntest, o->gap, side, e);
			break;
		default:
			rc = ml_err_set(e, ML_E_INTERNAL, NULL, 0, 0, "unknown split mode %d",
					(int)o->mode);
		}
		if (rc < 0)
			return rc;
	}
	for (i = 0; i < n; i++) {
		if (side[i] == ML_SIDE_TEST)
			info->ntest++;
		else if (side[i] == ML_SIDE_GAP)
			info->ngap++;
		else
			info->ntrain++;
	}
	return 0;
}

/* K-fold. */

static int kfold_random(size_t n, int k, uint64_t seed, int32_t *fold, struct ml_err *e)
{
	size_t *perm = malloc((n ? n : 1) * sizeof(*perm)), i, p = 0;
	struct ml_rng r;
	int f;

	if (!perm)
		return ml_err_nomem(e);
	for (i = 0; i < n; i++)
		perm[i] = i;
	ml_rng_seed(&r, seed);
	ml_rng_shuffle(&r, perm, n);
	for (f = 0; f < k; f++) {
		size_t size = n / (size_t)k + ((size_t)f < n % (size_t)k);
		for (i = 0; i < size; i++)
			fold[perm[p++]] = f + 1;
	}
	free(perm);
	return 0;
}

/* Positions p in [0, m) with p % k == f. */
static size_t dealt(size_t m, size_t k, size_t f)
{
	return m / k + (f < m % k);
}

static int kfold_stratified(const struct ml_block *b, int col, int k, uint64_t seed,
			    int32_t *fold, struct ml_split_info *info, struct ml_err *e)
{
	size_t n = b->nrow, nlab = 0, l, i, max = 0, *rows = NULL, *start = NULL, *list = NULL;
	int32_t *lab = malloc((n ? n : 1) * sizeof(*lab));
	size_t uk = (size_t)k;
	struct ml_rng r;
	char qn[128];
	int rc;

	if (!lab)
		return ml_err_nomem(e);
	if ((rc = ml_split_labels(b, col, lab, &nlab, e)) < 0)
		goto out;
	if ((rc = by_label(lab, n, nlab, &rows, &start, e)) < 0)
		goto out;
	info->nlabels = nlab;
	info->min_count = SIZE_MAX;
	for (l = 0; l < nlab; l++) {
		size_t c = start[l + 1] - start[l];
		if (c > max)
			max = c;
		if (c < info->min_count)
			info->min_count = c;
	}
	if (max < uk) {
		rc = ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				"%d folds are more than the rows of any class of '%s' (at most %zu)", k,
				col_name(b, col, qn, 100), max);
		goto out;
	}
	list = malloc(max * sizeof(*list));
	if (!list) {
		rc = ml_err_nomem(e);
		goto out;
	}
	ml_rng_seed(&r, seed);
	for (l = 0; l < nlab; l++) {
		/* The rows sorted by class are dealt to the folds in turn: this class holds
		 * positions start[l] .. start[l+1] of that order. */
		size_t c = start[l + 1] - start[l], at = 0, f, j;
		for (f = 0; f < uk; f++) {
			size_t m = dealt(start[l + 1], uk, f) - dealt(start[l], uk, f);
			for (j = 0; j < m; j++)
				list[at++] = f + 1;
		}
		ml_rng_shuffle(&r, list, c);
		for (i = 0; i < c; i++)
			fold[rows[start[l] + i]] = (int32_t)list[i];
	}
	rc = 0;
out:
	free(lab);
	free(rows);
	free(start);
	free(list);
	return rc;
}

static int kfold_group(const struct ml_block *b, int col, int k, uint64_t seed, int32_t *fold,
		       struct ml_split_info *info, struct ml_err *e)
{
	size_t n = b->nrow, nlab = 0, g, i, *ord = NULL, *load = NULL;
	int32_t *lab = malloc((n ? n : 1) * sizeof(*lab)), *gfold = NULL;
	struct gsize *gs = NULL;
	struct ml_rng r;
	char qn[128];
	int rc, f;

	if (!lab)
		return ml_err_nomem(e);
	if ((rc = ml_split_labels(b, col, lab, &nlab, e)) < 0)
		goto out;
	info->nlabels = nlab;
	if (nlab < (size_t)k) {
		rc = ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				"cannot make %d folds from the %zu groups of '%s'", k, nlab,
				col_name(b, col, qn, 100));
		goto out;
	}
	ord = malloc(nlab * sizeof(*ord));
	gs = calloc(nlab, sizeof(*gs));
	gfold = malloc(nlab * sizeof(*gfold));
	load = calloc((size_t)k, sizeof(*load));
	if (!ord || !gs || !gfold || !load) {
		rc = ml_err_nomem(e);
		goto out;
	}
	for (i = 0; i < n; i++)
		gs[lab[i]].cnt++;
	info->min_count = SIZE_MAX;
	for (g = 0; g < nlab; g++) {
		ord[g] = g;
		if (gs[g].cnt < info->min_count)
			info->min_count = gs[g].cnt;
	}
	/* Equal sizes are ordered by the seed. */
	ml_rng_seed(&r, seed);
	ml_rng_shuffle(&r, ord, nlab);
	for (g = 0; g < nlab; g++) {
		gs[ord[g]].pos = g;
		gs[g].g = g;
	}
	qsort(gs, nlab, sizeof(*gs), cmp_gsize);
	for (g = 0; g < nlab; g++) {
		int best = 0;
		for (f = 1; f < k; f++)
			if (load[f] < load[best])
				best = f;
		gfold[gs[g].g] = best + 1;
		load[best] += gs[g].cnt;
	}
	for (i = 0; i < n; i++)
		fold[i] = gfold[lab[i]];
	rc = 0;
out:
	free(lab);
	free(ord);
	free(gs);
	free(gfold);
	free(load);
	return rc;
}

static int kfold_time(const struct ml_block *b, int col, int k, int32_t *fold,
		      struct ml_err *e)
{
	size_t n = b->nrow, chunk = n / ((size_t)k + 1), first, p, *order;
	int rc;

	if (chunk == 0)
		return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
				  "cannot cut %zu rows into %d time chunks (%d folds)", n, k + 1, k);
	first = n - (size_t)k * chunk;
	order = malloc(n * sizeof(*order));
	if (!order)
		return ml_err_nomem(e);
	if ((rc = ml_split_time_order(b, col, order, e)) < 0) {
		free(order);
		return rc;
	}
	for (p = 0; p < n; p++)
		fold[order[p]] = p < first ? 0 : (int32_t)(1 + (p - first) / chunk);
	free(order);
	return 0;
}

int ml_kfold(const struct ml_block *rows, const struct ml_split_opts *o, int k, int32_t *fold,
	     struct ml_split_info *info, struct ml_err *e)
{
	struct ml_split_info dummy;
	size_t n, i, *cnt;
	int rc = 0;

	if (!info)
		info = &dummy;
	memset(info, 0, sizeof(*info));
	n = rows->nrow;
	info->n = n;
	if (k < 2)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "k-fold needs at least 2 folds, not %d",
				  k);
	if (o->mode != ML_SPLIT_RANDOM && (rc = check_col(rows, o->col, e)) < 0)
		return rc;
	if (o->gap)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0, "a gap applies to a train/test split only");
	if (o->mode == ML_SPLIT_KEY) {
		for (i = 0; i < n; i++)
			fold[i] = 1 + ml_split_hash_fold(ml_split_key_hash(rows, o->col, i, o->seed), k);
	} else {
		if (n == 0)
			return ml_err_set(e, ML_E_DATA, NULL, 0, 0, "no rows to split");
		if (n < (size_t)k)
			return ml_err_set(e, ML_E_DATA, NULL, 0, 0,
					  "cannot make %d folds from %zu rows", k, n);
		switch (o->mode) {
		case ML_SPLIT_RANDOM:
			rc = kfold_random(n, k, o->seed, fold, e);
			break;
		case ML_SPLIT_STRATIFY:
			rc = kfold_stratified(rows, o->col, k, o->seed, fold, info, e);
			break;
		case ML_SPLIT_GROUP:
			rc = kfold_group(rows, o->col, k, o->seed, fold, info, e);
			break;
		case ML_SPLIT_TIME:
			rc = kfold_time(rows, o->col, k, fold, e);
			break;
		default:
			rc = ml_err_set(e, ML_E_INTERNAL, NULL, 0, 0, "unknown split mode %d",
					(int)o->mode);
		}
		if (rc < 0)
			return rc;
	}
	cnt = calloc((size_t)k + 1, sizeof(*cnt));
	if (!cnt)
		return ml_err_nomem(e);
	for (i = 0; i < n; i++)
		if (fold[i] >= 0 && fold[i] <= k)
			cnt[fold[i]]++;
	info->fold_min = SIZE_MAX;
	for (i = 1; i <= (size_t)k; i++) {
		if (cnt[i] < info->fold_min)
			info->fold_min = cnt[i];
		if (cnt[i] > info->fold_max)
			info->fold_max = cnt[i];
	}
	free(cnt);
	return 0;
}
