/* Two-sample drift statistics: Kolmogorov-Smirnov with exact and asymptotic p-values,
 * Pearson's chi-squared, PSI, KL, Jensen-Shannon, Wasserstein, multiple-testing control. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ml/drift.h"

static double wt(const double *w, size_t i)
{
	return w ? w[i] : 1.0;
}

static double wsum(const double *w, size_t n)
{
	double s = 0;
	size_t i;

	if (!w)
		return (double)n;
	for (i = 0; i < n; i++)
		s += w[i];
	return s;
}

/* Both samples are walked in order, one distinct value at a time, with their CDFs taken
 * just after it. */
double ml_ks_stat(const double *x, const double *wx, size_t n, const double *y,
		  const double *wy, size_t m)
{
	double tx = wsum(wx, n), ty = wsum(wy, m), cx = 0, cy = 0, d = 0;
	size_t i = 0, j = 0;

	if (n == 0 || m == 0 || !(tx > 0) || !(ty > 0))
		return NAN;
	while (i < n || j < m) {
		double v = i < n && (j >= m || x[i] <= y[j]) ? x[i] : y[j], diff;
		while (i < n && x[i] == v)
			cx += wt(wx, i++);
		while (j < m && y[j] == v)
			cy += wt(wy, j++);
		diff = fabs(cx / tx - cy / ty);
		if (diff > d)
			d = diff;
	}
	return d;
}

double ml_wasserstein(const double *x, const double *wx, size_t n, const double *y,
		      const double *wy, size_t m)
{
	double tx = wsum(wx, n), ty = wsum(wy, m), cx = 0, cy = 0, area = 0, prev = 0;
	size_t i = 0, j = 0;
	int started = 0;

	if (n == 0 || m == 0 || !(tx > 0) || !(ty > 0))
		return NAN;
	while (i < n || j < m) {
		double v = i < n && (j >= m || x[i] <= y[j]) ? x[i] : y[j];
		if (started)
			area += fabs(cx / tx - cy / ty) * (v - prev);
		while (i < n && x[i] == v)
			cx += wt(wx, i++);
		while (j < m && y[j] == v)
			cy += wt(wy, j++);
		prev = v;
		started = 1;
	}
	return area;
}

static uint64_t gcd64(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/* P(D >= h/n) for two samples of n: Pr = 2 (A0 (1 - A1 (1 - A2 (...)))) with each A_k a
 * ratio of binomial coefficients, evaluated from the innermost term out. */
static double prob_outside_square(uint64_t n, uint64_t h)
{
	double p = 0;
	long k;

	for (k = (long)(n / h); k >= 0; k--) {
		double p1 = 1;
		uint64_t j;
		for (j = 0; j < h; j++)
			p1 = ((double)n - (double)k * (double)h - (double)j) * p1 /
			     ((double)n + (double)k * (double)h + (double)j + 1);
		p = p1 * (1 - p);
	}
	return 2 * p;
}

/* The share of lattice paths from (0,0) to (m,n) that leave the band |x/m - y/n| < h/lcm,
 * kept as probabilities (each column divided through) in a sliding window. */
static double prob_outside_band(uint64_t m, uint64_t n, uint64_t g, uint64_t h, int *ok)
{
	uint64_t mg, ng, i;
	long minj, maxj, curlen, lenA, lastminj, lastlen, jj;
	double *a, r;

	if (m < n) {
		uint64_t t = m;
		m = n;
		n = t;
	}
	mg = m / g;
	ng = n / g;
	minj = 0;
	maxj = (long)ceil((double)h / (double)mg);
	if (maxj > (long)n + 1)
		maxj = (long)n + 1;
	curlen = maxj - minj;
	lenA = 2 * maxj + 2 < (long)n + 1 ? 2 * maxj + 2 : (long)n + 1;
	a = malloc((size_t)(lenA > 0 ? lenA : 1) * sizeof(double));
	if (!a) {
		*ok = 0;
		return NAN;
	}
	for (jj = 0; jj < lenA; jj++)
		a[jj] = jj < maxj ? 0.0 : 1.0;
	for (i = 1; i <= m; i++) {
		double val;
		lastminj = minj;
		lastlen = curlen;
		minj = (long)floor(((double)ng * (double)i - (double)h) / (double)mg) + 1;
		if (minj < 0)
			minj = 0;
		if (minj > (long)n)
			minj = (long)n;
		maxj = (long)ceil(((double)ng * (double)i + (double)h) / (double)mg);
		if (maxj > (long)n + 1)
			maxj = (long)n + 1;
		if (maxj <= minj) {
			free(a);
			return 1.0;
		}
		val = minj == 0 ? 0.0 : 1.0;
		for (jj = 0; jj < maxj - minj; jj++) {
			long j = jj + minj;
			val = (a[jj + minj - lastminj] * (double)i + val * (double)j) /
			      ((double)i + (double)j);
			a[jj] = val;
		}
		curlen = maxj - minj;
		for (jj = curlen; jj < curlen + (lastlen - curlen) && lastlen > curlen; jj++)
			if (jj < lenA)
				a[jj] = 1;
	}
	r = a[maxj - minj - 1];
	free(a);
	return r;
}

/* One-sided exact Smirnov survival P(D+ >= x) by the Birnbaum-Tingey sum, in logs. */
static double smirnov_sf(double n, double x)
{
	double nn, p = 0, lgn1, v;

	if (!(x > 0))
		return 1;
	if (x >= 1)
		return 0;
	nn = floor(n * (1 - x));
	lgn1 = lgamma(n + 1);
	for (v = 0; v <= nn; v++) {
		double evn = x + v / n, om = 1 - evn, t;
		if (!(om > 0))
			continue;
		t = lgn1 - lgamma(v + 1) - lgamma(n - v + 1) + (v - 1) * log(evn) + (n - v) * log(om);
		p += exp(t);
	}
	p *= x;
	return p < 0 ? 0 : p > 1 ? 1 : p;
}

/* a = a b for m x m matrices, through the scratch t. */
static void matmul(double *a, const double *b, double *t, long m)
{
	long i, j, l;

	for (i = 0; i < m; i++)
		for (j = 0; j < m; j++) {
			double s = 0;
			for (l = 0; l < m; l++)
				s += a[i * m + l] * b[l * m + j];
			t[i * m + j] = s;
		}
	memcpy(a, t, (size_t)(m * m) * sizeof(double));
}

/* Durbin's matrix (Marsaglia, Tsang and Wang 2003): P(D_n < d) as the k-th diagonal
 * element of H^n times n!/n^n, with the powers kept in range by binary exponents. */
static double kolmog_cdf_durbin(double n, double d, int *ok)
{
	double nd = n * d, h, *H, *P, *T, fac, p;
	long k, m, i, j, l, nn, expnt = 0, hexp = 0;

	if (d >= 1)
		return 1;
	if (nd <= 0.5)
		return 0;
	k = (long)ceil(nd);
	h = (double)k - nd;
	m = 2 * k - 1;
	H = calloc((size_t)(m * m), sizeof(double));
	P = calloc((size_t)(m * m), sizeof(double));
	T = calloc((size_t)(m * m), sizeof(double));
	if (!H || !P || !T) {
		free(H), free(P), free(T);
		*ok = 0;
		return NAN;
	}
	{
		double *v = T, *w = T + m, f = 1;
		for (j = 1; j <= m; j++) {
			w[j - 1] = f;
			f /= (double)j;
			v[j - 1] = (1 - pow(h, (double)j)) * f;
		}
		v[m - 1] = (1 + pow(fmax(2 * h - 1, 0), (double)m) - 2 * pow(h, (double)m)) * f;
		for (i = 1; i < m; i++)
			for (l = i - 1; l < m; l++)
				H[l * m + i] = w[l - i + 1];
		for (l = 0; l < m; l++)
			H[l * m] = v[l];
		for (l = 0; l < m; l++)
			H[(m - 1) * m + l] = v[m - 1 - l];
	}
	for (i = 0; i < m; i++)
		P[i * m + i] = 1;
	for (nn = (long)n; nn > 0; nn /= 2) {
		if (nn % 2) {
			matmul(P, H, T, m);
			expnt += hexp;
		}
		matmul(H, H, T, m);
		hexp *= 2;
		if (fabs(H[(k - 1) * m + k - 1]) > ldexp(1, 128)) {
			for (i = 0; i < m * m; i++)
				H[i] = ldexp(H[i], -128);
			hexp += 128;
		}
	}
	p = P[(k - 1) * m + k - 1];
	for (fac = 1; fac <= n; fac++) {
		p = fac * p / n;
		if (fabs(p) < ldexp(1, -128)) {
			p = ldexp(p, 128);
			expnt -= 128;
		}
	}
	if (expnt)
		p = ldexp(p, (int)expnt);
	free(H), free(P), free(T);
	return p;
}

/* Pelz and Good's (1976) expansion of P(D_n <= x) in powers of 1/sqrt(n). */
static double kolmog_cdf_pelz_good(double n, double x)
{
	const double pi2 = M_PI * M_PI, pi4 = pi2 * pi2, pi6 = pi4 * pi2;
	const double sqrt2pi = sqrt(2 * M_PI);
	double z = sqrt(n) * x, z2 = z * z, z3 = z2 * z, z4 = z2 * z2, z6 = z4 * z2, q, ql;
	double k1a, k1b, k2a, k2b, k2c, k3a, k3b, k3c, k3d, K[4] = {0, 0, 0, 0}, q2, s2 = 0, s3 = 0;
	long maxk, k;
	int i;

	ql = -pi2 / 8 / z2;
	if (ql < -708.39641853226408)
		return 0;
	q = exp(ql);
	k1a = -z2;
	k1b = pi2 / 4;
	k2a = 6 * z6 + 2 * z4;
	k2b = (2 * z4 - 5 * z2) * pi2 / 4;
	k2c = pi4 * (1 - 2 * z2) / 16;
	k3d = pi6 * (5 - 30 * z2) / 64;
	k3c = pi4 * (-60 * z2 + 212 * z4) / 16;
	k3b = pi2 * (135 * z4 - 96 * z6) / 4;
	k3a = -30 * z6 - 90 * z4 * z4;
	maxk = (long)ceil(16 * z / M_PI);
	for (k = maxk; k > 0; k--) {
		double mm = (double)(2 * k - 1), m2 = mm * mm, m4 = m2 * m2, m6 = m4 * m2;
		double qp = pow(q, 8.0 * (double)k);
		K[0] = K[0] * qp + 1;
		K[1] = K[1] * qp + (k1a + k1b * m2);
		K[2] = K[2] * qp + (k2a + k2b * m2 + k2c * m4);
		K[3] = K[3] * qp + (k3a + k3b * m2 + k3c * m4 + k3d * m6);
	}
	for (i = 0; i < 4; i++)
		K[i] *= q * sqrt2pi;
	K[0] /= z;
	K[1] /= 6 * z4;
	K[2] /= 72 * z4 * z3;
	K[3] /= 6480 * z4 * z6;
	q2 = exp(-pi2 / 2 / z2);
	for (k = maxk; k > 0; k--) {
		double kk = (double)k, ks = kk * kk, qp = pow(q2, ks), s3z = sqrt(3.0) * z;
		s2 += ks * qp;
		s3 += (s3z + M_PI * kk) * (s3z - M_PI * kk) * ks * qp;
	}
	K[2] += s2 * pi2 * sqrt2pi / (-36 * z3);
	K[3] += s3 * pi2 * sqrt2pi / (216 * z6);
	return K[0] + K[1] / sqrt(n) + K[2] / n + K[3] / (n * sqrt(n));
}

static double clip01(double p)
{
	return p < 0 ? 0 : p > 1 ? 1 : p;
}

/* As SciPy's kstwo.sf, by Simard and L'Ecuyer's choice of method per region. */
double ml_kstwo_sf(double d, double n)
{
	double t, nx2;
	int ok = 1;

	if (!(n >= 1) || isnan(d))
		return NAN;
	if (d >= 1)
		return 0;
	if (d <= 0)
		return 1;
	t = n * d;
	if (t <= 1) {
		double p = 0;
		if (t <= 0.5)
			return 1;
		p = exp(lgamma(n + 1) - n * log(n) + n * log(2 * t - 1));
		return clip01(1 - p);
	}
	if (t >= n - 1)
		return clip01(2 * pow(1 - d, n));
	if (d >= 0.5)
		return clip01(2 * smirnov_sf(n, d));
	nx2 = t * d;
	if (n <= 140) {
		if (nx2 <= 4) {
			double c = kolmog_cdf_durbin(n, d, &ok);
			return ok ? clip01(1 - c) : NAN;
		}
		return clip01(2 * smirnov_sf(n, d));
	}
	if (nx2 >= 370)
		return 0;
	if (nx2 >= 2.2)
		return clip01(2 * smirnov_sf(n, d));
	if (n <= 100000 && n * pow(d, 1.5) <= 1.4) {
		double c = kolmog_cdf_durbin(n, d, &ok);
		return ok ? clip01(1 - c) : NAN;
	}
	return clip01(1 - kolmog_cdf_pelz_good(n, d));
}

double ml_ks_pvalue(double d, uint64_t n1, uint64_t n2, int *exact)
{
	uint64_t g, lcm, h;
	double p = NAN;
	int ok = 1;

	if (exact)
		*exact = 0;
	if (n1 == 0 || n2 == 0 || isnan(d))
		return NAN;
	if ((n1 > n2 ? n1 : n2) <= 10000) {
		g = gcd64(n1, n2);
		lcm = (n1 / g) * n2;
		h = (uint64_t)llround(d * (double)lcm);
		if (h == 0) {
			p = 1;
		} else if (n1 == n2) {
			p = prob_outside_square(n1, h);
		} else {
			p = prob_outside_band(n1, n2, g, h, &ok);
		}
		if (ok && p >= 0 && p <= 1) {
			if (exact)
				*exact = 1;
			return p;
		}
	}
	{
		double m = (double)(n1 > n2 ? n1 : n2), n = (double)(n1 > n2 ? n2 : n1);
		double en = m * n / (m + n);
		return ml_kstwo_sf(d, nearbyint(en));
	}
}

/* The regularised incomplete gamma functions: the series for x < a + 1, Lentz's
 * continued fraction otherwise. */
static double gamma_p_series(double a, double x)
{
	double sum = 1 / a, term = sum, ap = a;
	int i;

	for (i = 0; i < 100000; i++) {
		ap += 1;
		term *= x / ap;
		sum += term;
		if (fabs(term) < fabs(sum) * 1e-17)
			break;
	}
	return sum * exp(-x + a * log(x) - lgamma(a));
}

static double gamma_q_cf(double a, double x)
{
	const double tiny = 1e-300;
	double b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
	int i;

	for (i = 1; i < 100000; i++) {
		double an = -(double)i * ((double)i - a), del;
		b += 2;
		d = an * d + b;
		if (fabs(d) < tiny)
			d = tiny;
		c = b + an / c;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1 / d;
		del = d * c;
		h *= del;
		if (fabs(del - 1) < 1e-17)
			break;
	}
	return exp(-x + a * log(x) - lgamma(a)) * h;
}

double ml_gamma_q(double a, double x)
{
	if (!(a > 0) || !(x >= 0))
		return NAN;
	if (x == 0)
		return 1;
	if (isinf(x))
		return 0;
	if (x < a + 1)
		return 1 - gamma_p_series(a, x);
	return gamma_q_cf(a, x);
}

double ml_chi2_sf(double x, double dof)
{
	if (!(dof > 0) || isnan(x))
		return NAN;
	if (x <= 0)
		return 1;
	return ml_gamma_q(dof / 2, x / 2);
}

double ml_chi2_homog(const double *a, const double *b, int k, double *p, int *dof)
{
	double ta = 0, tb = 0, t, stat = 0;
	int i, kept = 0;

	for (i = 0; i < k; i++) {
		ta += a[i];
		tb += b[i];
		kept += a[i] + b[i] > 0;
	}
	t = ta + tb;
	if (dof)
		*dof = kept > 0 ? kept - 1 : 0;
	if (kept < 2 || !(ta > 0) || !(tb > 0)) {
		if (p)
			*p = NAN;
		return NAN;
	}
	for (i = 0; i < k; i++) {
		double col = a[i] + b[i], ea, eb;
		if (!(col > 0))
			continue;
		ea = col * ta / t;
		eb = col * tb / t;
		stat += (a[i] - ea) * (a[i] - ea) / ea + (b[i] - eb) * (b[i] - eb) / eb;
	}
	if (p)
		*p = ml_chi2_sf(stat, (double)(kept - 1));
	return stat;
}

/* Proportions of counts, with empty bins raised to ML_DRIFT_EPS and the rest renormalised
 * when eps is set, computed one at a time (no buffer, so no allocation to fail: a distance
 * is a number or NaN for want of counts, never NaN for want of memory). */
struct props {
	const double *c;
	double t, u; /* the counts' total; the raised proportions' total (eps) */
	int eps;
};

/* 0, or -1 when the counts add up to nothing. */
static int props_init(struct props *p, const double *c, int k, int eps)
{
	int i;

	p->c = c;
	p->eps = eps;
	p->t = 0;
	p->u = 0;
	for (i = 0; i < k; i++)
		p->t += c[i];
	if (!(p->t > 0))
		return -1;
	for (i = 0; eps && i < k; i++) {
		double v = c[i] / p->t;
		p->u += v < ML_DRIFT_EPS ? ML_DRIFT_EPS : v;
	}
	return 0;
}

static double prop(const struct props *p, int i)
{
	double v = p->c[i] / p->t;

	if (!p->eps)
		return v;
	return (v < ML_DRIFT_EPS ? ML_DRIFT_EPS : v) / p->u;
}

enum dist_kind { D_PSI, D_KL, D_JS };

static double distance(const double *ref, const double *cur, int k, enum dist_kind kind)
{
	struct props pr, pc;
	double s = 0;
	int i;

	if (k <= 0 || props_init(&pr, ref, k, kind != D_JS) < 0 ||
	    props_init(&pc, cur, k, kind != D_JS) < 0)
		return NAN;
	for (i = 0; i < k; i++) {
		double r = prop(&pr, i), c = prop(&pc, i);
		if (kind == D_PSI) {
			s += (c - r) * log(c / r);
		} else if (kind == D_KL) {
			s += c * log(c / r);
		} else {
			double m = (r + c) / 2;
			if (r > 0)
				s += r * log(r / m) / 2;
			if (c > 0)
				s += c * log(c / m) / 2;
		}
	}
	if (kind == D_JS)
		return sqrt(s > 0 ? s : 0);
	return s;
}

double ml_psi(const double *ref, const double *cur, int k)
{
	return distance(ref, cur, k, D_PSI);
}

double ml_kl(const double *ref, const double *cur, int k)
{
	return distance(ref, cur, k, D_KL);
}

double ml_js(const double *ref, const double *cur, int k)
{
	return distance(ref, cur, k, D_JS);
}

struct pidx {
	double p;
	size_t i;
};

static int cmp_pidx(const void *a, const void *b)
{
	const struct pidx *x = a, *y = b;

	if (x->p != y->p)
		return x->p < y->p ? -1 : 1;
	return (x->i > y->i) - (x->i < y->i);
}

int ml_p_adjust(const double *p, size_t n, double alpha, enum ml_correction c, double *thr,
		int *reject)
{
	struct pidx *s;
	size_t i, m = 0, star = 0;
	double cut;

	for (i = 0; i < n; i++)
		m += !isnan(p[i]);
	if (c == ML_CORR_NONE || m == 0) {
		cut = alpha;
	} else if (c == ML_CORR_BONFERRONI) {
		cut = alpha / (double)m;
	} else {
		s = malloc((m ? m : 1) * sizeof(*s));
		if (!s)
			return ML_E_NOMEM;
		m = 0;
		for (i = 0; i < n; i++)
			if (!isnan(p[i])) {
				s[m].p = p[i];
				s[m].i = i;
				m++;
			}
		qsort(s, m, sizeof(*s), cmp_pidx);
		/* Benjamini-Hochberg's step-up: the largest rank r with p_(r) <= r alpha / m;
		 * every p-value at or below r alpha / m is rejected. */
		for (i = m; i > 0; i--)
			if (s[i - 1].p <= (double)i * alpha / (double)m) {
				star = i;
				break;
			}
		free(s);
		cut = (double)(star ? star : 1) * alpha / (double)m;
	}
	for (i = 0; i < n; i++) {
		thr[i] = isnan(p[i]) ? NAN : cut;
		reject[i] = !isnan(p[i]) && p[i] <= cut;
	}
	return 0;
}
