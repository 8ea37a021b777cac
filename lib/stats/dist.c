/* The standard normal distribution's CDF and quantile function. */
#include <math.h>

#include "ml/stats.h"

double ml_norm_cdf(double x)
{
	return 0.5 * erfc(-x / sqrt(2.0));
}

/* Wichura, M. J. (1988), Algorithm AS 241: The percentage points of the normal
 * distribution, Applied Statistics 37, 477-484 (PPND16). */
static double poly(const double *c, int n, double x)
{
	double v = c[n - 1];
	int i;

	for (i = n - 2; i >= 0; i--)
		v = v * x + c[i];
	return v;
}

double ml_norm_ppf(double p)
{
	static const double a[] = {3.3871328727963666080e0, 1.3314166789178437745e+2,
				   1.9715909503065514427e+3, 1.3731693765509461125e+4,
				   4.5921953931549871457e+4, 6.7265770927008700853e+4,
				   3.3430575583588128105e+4, 2.5090809287301226727e+3};
	static const double b[] = {1.0,
				   4.2313330701600911252e+1, 6.8718700749205790830e+2,
				   5.3941960214247511077e+3, 2.1213794301586595867e+4,
				   3.9307895800092710610e+4, 2.8729085735721942674e+4,
				   5.2264952788528545610e+3};
	static const double c[] = {1.42343711074968357734e0, 4.63033784615654529590e0,
				   5.76949722146069140550e0, 3.64784832476320460504e0,
				   1.27045825245236838258e0, 2.41780725177450611770e-1,
				   2.27238449892691845833e-2, 7.74545014278341407640e-4};
	static const double d[] = {1.0,
				   2.05319162663775882187e0, 1.67638483018380384940e0,
				   6.89767334985100004550e-1, 1.48103976427480074590e-1,
				   1.51986665636164571966e-2, 5.47593808499534494600e-4,
				   1.05075007164441684324e-9};
	static const double ee[] = {6.65790464350110377720e0, 5.46378491116411436990e0,
				    1.78482653991729133580e0, 2.96560571828504891230e-1,
				    2.65321895265761230930e-2, 1.24266094738807843860e-3,
				    2.71155556874348757815e-5, 2.01033439929228813265e-7};
	static const double f[] = {1.0,
				   5.99832206555887937690e-1, 1.36929880922735805310e-1,
				   1.48753612908506148525e-2, 7.86869131145613259100e-4,
				   1.84631831751005468180e-5, 1.42151175831644588870e-7,
				   2.04426310338993978564e-15};
	double q = p - 0.5, r, v;

	if (!(p >= 0 && p <= 1))
		return NAN;
	if (p == 0)
		return -INFINITY;
	if (p == 1)
		return INFINITY;
	if (fabs(q) <= 0.425) {
		r = 0.180625 - q * q;
		return q * poly(a, 8, r) / poly(b, 8, r);
	}
	r = q < 0 ? p : 1 - p;
	r = sqrt(-log(r));
	if (r <= 5) {
		r -= 1.6;
		v = poly(c, 8, r) / poly(d, 8, r);
	} else {
		r -= 5;
		v = poly(ee, 8, r) / poly(f, 8, r);
	}
	return q < 0 ? -v : v;
}

/* The continued fraction of the incomplete beta function, by the modified Lentz method. */
static double beta_cf(double a, double b, double x)
{
	const double tiny = 1e-300, eps = 1e-16;
	double c = 1, d = 1 - (a + b) * x / (a + 1), h;
	int m;

	if (fabs(d) < tiny)
		d = tiny;
	d = 1 / d;
	h = d;
	for (m = 1; m <= 10000; m++) {
		double m2 = 2.0 * m, aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2)), del;
		d = 1 + aa * d;
		if (fabs(d) < tiny)
			d = tiny;
		c = 1 + aa / c;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1 / d;
		h *= d * c;
		aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
		d = 1 + aa * d;
		if (fabs(d) < tiny)
			d = tiny;
		c = 1 + aa / c;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1 / d;
		del = d * c;
		h *= del;
		if (fabs(del - 1) < eps)
			break;
	}
	return h;
}

/* lgamma(a + b) - lgamma(a) without the cancellation of two large logarithms when a is
 * large (Stirling's series of the difference). */
static double lgamma_ratio(double a, double b)
{
	double c;

	if (a < 1e4)
		return lgamma(a + b) - lgamma(a);
	c = a + b;
	return (a - 0.5) * log1p(b / a) + b * log(c) - b + (1 / (12 * c) - 1 / (12 * a)) -
	       (1 / (360 * c * c * c) - 1 / (360 * a * a * a));
}

/* log B(a, b). */
static double lbeta(double a, double b)
{
	if (a >= b)
		return lgamma(b) - lgamma_ratio(a, b);
	return lgamma(a) - lgamma_ratio(b, a);
}

double ml_beta_inc(double a, double b, double x)
{
	double front;

	if (!(a > 0 && b > 0 && x >= 0 && x <= 1))
		return NAN;
	if (x == 0 || x == 1)
		return x;
	front = exp(a * log(x) + b * log1p(-x) - lbeta(a, b));
	if (x < (a + 1) / (a + b + 2))
		return front * beta_cf(a, b, x) / a;
	return 1 - front * beta_cf(b, a, 1 - x) / b;
}

/* P(T > t) for t >= 0, from the incomplete beta function without cancellation. */
static double t_sf(double t, double df)
{
	double t2 = t * t;

	if (t2 < df)
		return 0.5 - 0.5 * ml_beta_inc(0.5, df / 2, t2 / (df + t2));
	return 0.5 * ml_beta_inc(df / 2, 0.5, df / (df + t2));
}

double ml_t_cdf(double t, double df)
{
	if (!(df > 0) || t != t)
		return NAN;
	if (isinf(t))
		return t > 0;
	return t >= 0 ? 1 - t_sf(t, df) : t_sf(-t, df);
}

/* The upper tail's quantile: the t > 0 with P(T > t) = q (0 < q < 0.5), by Newton's
 * method on log P(T > t) kept inside a bracket. */
static double t_upper(double q, double df)
{
	double lo = 0, hi = 1, x, lq = log(q);
	int i;

	while (t_sf(hi, df) > q && hi < 1e300)
		hi *= 2;
	x = ml_norm_ppf(1 - q);
	if (!(x > lo && x < hi))
		x = (lo + hi) / 2;
	for (i = 0; i < 200; i++) {
		double s = t_sf(x, df), pdf, nx;
		if (s > q)
			lo = x;
		else
			hi = x;
		pdf = exp(-lbeta(0.5, df / 2) - 0.5 * log(df) - (df + 1) / 2 * log1p(x * x / df));
		nx = x + (log(s) - lq) * s / pdf;
		if (!(nx > lo && nx < hi))
			nx = (lo + hi) / 2;
		if (fabs(nx - x) <= 1e-15 * x || hi - lo <= 1e-15 * hi) {
			x = nx;
			break;
		}
		x = nx;
	}
	return x;
}

double ml_t_ppf(double p, double df)
{
	if (!(p >= 0 && p <= 1) || !(df > 0))
		return NAN;
	if (p == 0)
		return -INFINITY;
	if (p == 1)
		return INFINITY;
	if (p == 0.5)
		return 0;
	return p > 0.5 ? t_upper(1 - p, df) : -t_upper(p, df);
}
