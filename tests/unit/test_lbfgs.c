/* Unit tests for the bounded L-BFGS behind -a gp: it finds the minimum of Rosenbrock's
 * function with and without an active bound, asks for the gradient only at points its
 * line search accepts (the trials before are values alone), and stops on the projected
 * gradient. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "learn/gp/lbfgs.h"
#include "unit.h"

struct calls {
	int values, grads, bad;
	double last[2];
	int have_last;
};

/* Rosenbrock: (1 - x)^2 + 100 (y - x^2)^2, minimum 0 at (1, 1). */
static int rosen(void *ud, const double *x, double *f, double *g)
{
	struct calls *c = ud;
	double a = 1 - x[0], b = x[1] - x[0] * x[0];

	*f = a * a + 100 * b * b;
	if (!g) {
		c->values++;
		memcpy(c->last, x, sizeof(c->last));
		c->have_last = 1;
		return 0;
	}
	/* a gradient after the start is asked at the trial just valued */
	if (c->grads > 0 && (!c->have_last || memcmp(c->last, x, sizeof(c->last)) != 0))
		c->bad++;
	c->grads++;
	c->have_last = 0;
	g[0] = -2 * a - 400 * x[0] * b;
	g[1] = 200 * b;
	return 0;
}

static void test_rosenbrock(void)
{
	struct ml_lbfgs_opts o;
	struct calls c;
	double x[2] = {-1.2, 1}, f;
	int it;

	memset(&c, 0, sizeof(c));
	ml_lbfgs_opts_init(&o);
	o.ftol = 0;
	o.pgtol = 1e-8;
	it = ml_lbfgs(rosen, &c, 2, x, NULL, NULL, &o, &f);
	CHECK(it > 0);
	CHECK_NEAR(x[0], 1, 1e-6);
	CHECK_NEAR(x[1], 1, 1e-6);
	CHECK(f < 1e-12);
	CHECK(c.bad == 0);
	/* one gradient per accepted step and the start; at least as many values */
	CHECK(c.grads == it + 1);
	CHECK(c.values >= it);
}

/* x <= 0.5: the minimum on the bound is at (0.5, 0.25). */
static void test_bound(void)
{
	struct ml_lbfgs_opts o;
	struct calls c;
	double x[2] = {-1.2, 1}, hi[2] = {0.5, 10}, lo[2] = {-10, -10}, f;

	memset(&c, 0, sizeof(c));
	ml_lbfgs_opts_init(&o);
	o.ftol = 0;
	o.pgtol = 1e-9;
	CHECK(ml_lbfgs(rosen, &c, 2, x, lo, hi, &o, &f) > 0);
	CHECK_NEAR(x[0], 0.5, 1e-9);
	CHECK_NEAR(x[1], 0.25, 1e-6);
	CHECK_NEAR(f, 0.25, 1e-9);
	CHECK(c.bad == 0);
}

int main(void)
{
	RUN(test_rosenbrock);
	RUN(test_bound);
	printf("%d passed, %d failed\n", unit_tests_passed, unit_tests_failed);
	return UNIT_EXIT();
}
