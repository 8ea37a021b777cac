/* How many differences a series needs, as R's forecast::ndiffs (repeated KPSS tests at
 * 5%) and nsdiffs (test "seas": the seasonal strength of an STL decomposition above 0.64),
 * with STL written after Cleveland et al. (1990) as R's stats::stl runs it (no robustness
 * iterations). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "arima.h"

/* R's all.equal(x, rep(x[1], n)) at tolerance 1.5e-8, as forecast's is.constant. */
int ts_is_constant(const double *x, size_t n)
{
	double diff = 0, abs_sum = 0;
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (x[i] != x[0]) {
			diff += fabs(x[i] - x[0]);
			abs_sum += fabs(x[i]);
			k++;
		}
	if (!k)
		return 1;
	diff /= (double)k;
	abs_sum /= (double)k;
	if (isfinite(abs_sum) && abs_sum > 1.5e-8)
		diff /= abs_sum;
	return diff <= 1.5e-8;
}

double kpss_stat(const double *x, size_t n)
{
	size_t i, lag, lmax = (size_t)trunc(3 * sqrt((double)n) / 13);
	double mean = 0, S = 0, num = 0, s2 = 0, den;

	for (i = 0; i < n; i++)
		mean += x[i];
	mean /= (double)n;
	for (i = 0; i < n; i++) {
		double r = x[i] - mean;
		S += r;
		num += S * S;
		s2 += r * r;
	}
	num /= (double)n * (double)n;
	s2 /= (double)n;
	den = s2;
	for (lag = 1; lag <= lmax && lag < n; lag++) {
		double c = 0;
		for (i = lag; i < n; i++)
			c += (x[i] - mean) * (x[i - lag] - mean);
		den += 2.0 / (double)n * (1 - (double)lag / (double)(lmax + 1)) * c;
	}
	return num / den;
}

int arima_ndiffs(const double *x0, size_t n, int max_d)
{
	double *x = ts_malloc((n ? n : 1) * sizeof(double)), stat;
	int d = 0;
	size_t i;

	if (!x)
		return 0;
	memcpy(x, x0, n * sizeof(double));
	if (n < 2 || ts_is_constant(x, n))
		goto done;
	/* the p-value interpolated in urca's table is below 5% past the 5% critical value */
	stat = kpss_stat(x, n);
	while (stat > 0.463 && d < max_d) {
		d++;
		for (i = 0; i + 1 < n; i++)
			x[i] = x[i + 1] - x[i];
		n--;
		if (n < 2 || ts_is_constant(x, n))
			break;
		stat = kpss_stat(x, n);
		if (isnan(stat)) {
			d--;
			break;
		}
	}
done:
	free(x);
	return d;
}

/* Loess fit at xs over y[nleft..nright] (1-based as the original). */
static int stlest(const double *y, int n, int len, int ideg, double xs, double *ys, int nleft,
		  int nright, double *w, int userw, const double *rw)
{
	double range = (double)n - 1, h, h9, h1, a = 0;
	int j;

	h = fmax(xs - nleft, nright - xs);
	if (len > n)
		h += (double)((len - n) / 2);
	h9 = 0.999 * h;
	h1 = 0.001 * h;
	for (j = nleft; j <= nright; j++) {
		double r = fabs(j - xs);
		w[j - 1] = 0;
		if (r <= h9) {
			if (r <= h1)
				w[j - 1] = 1;
			else
				w[j - 1] = pow(1 - pow(r / h, 3), 3);
			if (userw)
				w[j - 1] *= rw[j - 1];
			a += w[j - 1];
		}
	}
	if (a <= 0)
		return 0;
	for (j = nleft; j <= nright; j++)
		w[j - 1] /= a;
	if (h > 0 && ideg > 0) {
		double b, c = 0;
		a = 0;
		for (j = nleft; j <= nright; j++)
			a += w[j - 1] * j;
		b = xs - a;
		for (j = nleft; j <= nright; j++)
			c += w[j - 1] * (j - a) * (j - a);
		if (sqrt(c) > 0.001 * range) {
			b /= c;
			for (j = nleft; j <= nright; j++)
				w[j - 1] *= b * (j - a) + 1.0;
		}
	}
	*ys = 0;
	for (j = nleft; j <= nright; j++)
		*ys += w[j - 1] * y[j - 1];
	return 1;
}

static void stless(const double *y, int n, int len, int ideg, int njump, int userw,
		   const double *rw, double *ys, double *res)
{
	int newnj, nleft = 1, nright = n, nsh, i, j, k;

	if (n < 2) {
		ys[0] = y[0];
		return;
	}
	newnj = njump < n - 1 ? njump : n - 1;
	if (len >= n) {
		nleft = 1;
		nright = n;
		for (i = 1; i <= n; i += newnj)
			if (!stlest(y, n, len, ideg, i, &ys[i - 1], nleft, nright, res, userw, rw))
				ys[i - 1] = y[i - 1];
	} else if (newnj == 1) {
		nsh = (len + 1) / 2;
		nleft = 1;
		nright = len;
		for (i = 1; i <= n; i++) {
			if (i > nsh && nright != n) {
				nleft++;
				nright++;
			}
			if (!stlest(y, n, len, ideg, i, &ys[i - 1], nleft, nright, res, userw, rw))
				ys[i - 1] = y[i - 1];
		}
	} else {
		nsh = (len + 1) / 2;
		for (i = 1; i <= n; i += newnj) {
			if (i < nsh) {
				nleft = 1;
				nright = len;
			} else if (i >= n - nsh + 1) {
				nleft = n - len + 1;
				nright = n;
			} else {
				nleft = i - nsh + 1;
				nright = len + i - nsh;
			}
			if (!stlest(y, n, len, ideg, i, &ys[i - 1], nleft, nright, res, userw, rw))
				ys[i - 1] = y[i - 1];
		}
	}
	if (newnj != 1) {
		for (i = 1; i <= n - newnj; i += newnj) {
			double delta = (ys[i + newnj - 1] - ys[i - 1]) / newnj;
			for (j = i + 1; j <= i + newnj - 1; j++)
				ys[j - 1] = ys[i - 1] + delta * (j - i);
		}
		k = ((n - 1) / newnj) * newnj + 1;
		if (k != n) {
			if (!stlest(y, n, len, ideg, n, &ys[n - 1], nleft, nright, res, userw, rw))
				ys[n - 1] = y[n - 1];
			if (k != n - 1) {
				double delta = (ys[n - 1] - ys[k - 1]) / (n - k);
				for (j = k + 1; j <= n - 1; j++)
					ys[j - 1] = ys[k - 1] + delta * (j - k);
			}
		}
	}
}

static void stlma(const double *x, int n, int len, double *ave)
{
	int newn = n - len + 1, i, j;
	double v = 0, flen = len;

	for (i = 0; i < len; i++)
		v += x[i];
	ave[0] = v / flen;
	for (j = 1; j < newn; j++) {
		v = v - x[j - 1] + x[len + j - 1];
		ave[j] = v / flen;
	}
}

static void stlfts(const double *x, int n, int np, double *trend, double *work)
{
	stlma(x, n, np, trend);
	stlma(trend, n - np + 1, np, work);
	stlma(work, n - 2 * np + 2, 3, trend);
}

static void stlss(const double *y, int n, int np, int ns, int isdeg, int nsjump, int userw,
		  const double *rw, double *season, double *work1, double *work2, double *work3,
		  double *work4)
{
	int j, i, k, m;

	for (j = 1; j <= np; j++) {
		int nright, nleft;
		k = (n - j) / np + 1;
		for (i = 1; i <= k; i++)
			work1[i - 1] = y[(i - 1) * np + j - 1];
		if (userw)
			for (i = 1; i <= k; i++)
				work3[i - 1] = rw[(i - 1) * np + j - 1];
		stless(work1, k, ns, isdeg, nsjump, userw, work3, work2 + 1, work4);
		nright = ns < k ? ns : k;
		if (!stlest(work1, k, ns, isdeg, 0, &work2[0], 1, nright, work4, userw, work3))
			work2[0] = work2[1];
		nleft = k - ns + 1 > 1 ? k - ns + 1 : 1;
		if (!stlest(work1, k, ns, isdeg, k + 1, &work2[k + 1], nleft, k, work4, userw, work3))
			work2[k + 1] = work2[k];
		for (m = 1; m <= k + 2; m++)
			season[(m - 1) * np + j - 1] = work2[m - 1];
	}
}

static int next_odd(double x)
{
	int v = (int)nearbyint(x);
	return v % 2 == 0 ? v + 1 : v;
}

int stl_decompose(const double *y, size_t n_, int np, int swindow, double *season,
		  double *trend)
{
	int n = (int)n_, ns, nt, nl, isdeg = 0, itdeg = 1, ildeg = 1, nsjump, ntjump, nljump, i, j;
	size_t wn = (size_t)n + 2 * (size_t)np;
	double *work = ts_calloc(5 * wn, sizeof(double)), *w1, *w2, *w3, *w4, *w5;

	if (!work)
		return -1;
	w1 = work;
	w2 = w1 + wn;
	w3 = w2 + wn;
	w4 = w3 + wn;
	w5 = w4 + wn;
	nt = next_odd(ceil(1.5 * np / (1 - 1.5 / swindow)));
	nl = next_odd(np);
	nsjump = (int)ceil(swindow / 10.0);
	ntjump = (int)ceil(nt / 10.0);
	nljump = (int)ceil(nl / 10.0);
	ns = swindow < 3 ? 3 : swindow;
	if (nt < 3)
		nt = 3;
	if (nl < 3)
		nl = 3;
	if (np < 2)
		np = 2;
	if (ns % 2 == 0)
		ns++;
	if (nt % 2 == 0)
		nt++;
	if (nl % 2 == 0)
		nl++;
	for (i = 0; i < n; i++)
		trend[i] = 0;
	for (j = 0; j < 2; j++) { /* two inner iterations */
		for (i = 0; i < n; i++)
			w1[i] = y[i] - trend[i];
		stlss(w1, n, np, ns, isdeg, nsjump, 0, NULL, w2, w3, w4, w5, season);
		stlfts(w2, n + 2 * np, np, w3, w1);
		stless(w3, n, nl, ildeg, nljump, 0, NULL, w1, w4);
		for (i = 0; i < n; i++)
			season[i] = w2[np + i] - w1[i];
		for (i = 0; i < n; i++)
			w1[i] = y[i] - season[i];
		stless(w1, n, nt, itdeg, ntjump, 0, NULL, trend, w3);
	}
	free(work);
	return 0;
}

static double variance(const double *x, size_t n)
{
	double m = 0, s = 0;
	size_t i;

	for (i = 0; i < n; i++)
		m += x[i];
	m /= (double)n;
	for (i = 0; i < n; i++)
		s += (x[i] - m) * (x[i] - m);
	return s / (double)(n - 1);
}

/* forecast's seas.heuristic on mstl(x) for one season: stl(x, s.window = 11). */
double seasonal_strength(const double *x, size_t n, int m)
{
	double *season = ts_malloc(3 * n * sizeof(double)), *trend, *rem, v1, v2, s;
	size_t i;

	if (!season)
		return NAN;
	trend = season + n;
	rem = trend + n;
	if (stl_decompose(x, n, m, 11, season, trend) < 0) {
		free(season);
		return NAN;
	}
	for (i = 0; i < n; i++)
		rem[i] = x[i] - season[i] - trend[i];
	v1 = variance(rem, n);
	for (i = 0; i < n; i++)
		rem[i] += season[i];
	v2 = variance(rem, n);
	free(season);
	s = 1 - v1 / v2;
	return s < 0 ? 0 : s > 1 ? 1 : s;
}

int arima_nsdiffs(const double *x, size_t n, int m)
{
	double s;

	if (ts_is_constant(x, n) || (size_t)m >= n || n <= 2 * (size_t)m)
		return 0;
	s = seasonal_strength(x, n, m);
	return s > 0.64;
}
