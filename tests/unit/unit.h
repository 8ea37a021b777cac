/* A minimal unit-test harness: TEST functions, CHECK assertions, TAP-like output. */
#ifndef ML_UNIT_H
#define ML_UNIT_H

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ml/table.h"

static int unit_checks_failed;
static int unit_tests_passed, unit_tests_failed;

#define CHECK(c)                                                                   \
	do {                                                                           \
		if (!(c)) {                                                                \
			unit_checks_failed++;                                                  \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
		}                                                                          \
	} while (0)

#define CHECK_NEAR(a, b, tol)                                                               \
	do {                                                                                    \
		double ua_ = (a), ub_ = (b);                                                        \
		if (!(fabs(ua_ - ub_) <= (tol) * (1 + fabs(ub_)))) {                                \
			unit_checks_failed++;                                                           \
			fprintf(stderr, "%s:%d: %s = %.17g, want %.17g\n", __FILE__, __LINE__, #a, ua_, \
				ub_);                                                                       \
		}                                                                                   \
	} while (0)

/* A reference fixture that cannot be read fails the test that needs it, naming the file:
 * a test must never pass on a fixture that is not there. The helpers that read fixtures
 * call this on any failure, whatever their caller does with the result. */
static inline void unit_fixture_failed(const char *path, const char *why)
{
	unit_checks_failed++;
	fprintf(stderr, "fixture '%s' is missing or unreadable: %s\n", path, why);
}

/* The table at dir followed by name (dir NULL: name alone) read into f with the reader
 * options o (NULL: the defaults). Returns 0, or a negative ML_E_* with f left empty and
 * the test failed naming the file. */
static inline int unit_read_frame(struct ml_frame *f, const char *dir, const char *name,
				  const struct ml_read_opts *o)
{
	char path[512];
	struct ml_err e;
	int rc;

	snprintf(path, sizeof(path), "%s%s", dir ? dir : "", name);
	ml_frame_init(f);
	ml_err_init(&e);
	if ((rc = ml_frame_read(f, path, o, &e)) < 0) {
		unit_fixture_failed(path, e.msg);
		ml_frame_release(f);
	}
	return rc;
}

/* Run one test function and print "ok NAME" or "not ok NAME". */
#define RUN(fn)                                                    \
	do {                                                           \
		int before_ = unit_checks_failed;                          \
		fn();                                                      \
		if (unit_checks_failed == before_) {                       \
			unit_tests_passed++;                                   \
			printf("ok %s\n", #fn);                                \
		} else {                                                   \
			unit_tests_failed++;                                   \
			printf("not ok %s\n", #fn);                            \
		}                                                          \
	} while (0)

#define UNIT_EXIT() (unit_tests_failed ? 1 : 0)

#endif
