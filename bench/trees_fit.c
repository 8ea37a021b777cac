/* Benchmark helper (built by bench/trees_lib.sh): times ml_learner_fit alone on a CSV read
 * beforehand and prints the seconds.
 *   trees_fit FILE ALGO THREADS TASK [NAME VALUE]...
 * TASK is auto, classify or regress; the target is the column "label"; NAME VALUE pairs set
 * the algorithm's hyperparameters. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ml/ml.h"
#include "ml/learn.h"
#include "ml/table.h"
static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}
int main(int argc, char **argv)
{
	struct ml_err e;
	struct ml_frame f;
	struct ml_read_opts o;
	struct ml_ctx ctx;
	struct ml_train_spec sp;
	struct ml_learner *l = NULL;
	double t0;
	int i;

	ml_err_init(&e);
	ml_read_opts_init(&o);
	ml_frame_init(&f);
	if (argc < 5 || ml_frame_read(&f, argv[1], &o, &e) < 0 ||
	    ml_ctx_init(&ctx, (int)strtol(argv[3], NULL, 10), 42, &e) < 0) {
		fprintf(stderr, "trees_fit: %s\n", argc < 5 ? "usage" : e.msg);
		return 1;
	}
	memset(&sp, 0, sizeof(sp));
	sp.target = "label";
	sp.task = strcmp(argv[4], "classify") == 0  ? ML_TASK_CLASSIFY
		  : strcmp(argv[4], "regress") == 0 ? ML_TASK_REGRESS
						    : ML_TASK_AUTO;
	ml_params_init(&sp.params, ml_algo_find(argv[2]));
	for (i = 5; i + 1 < argc; i += 2)
		if (ml_params_set(&sp.params, argv[i], argv[i + 1], &e) < 0) {
			fprintf(stderr, "trees_fit: %s\n", e.msg);
			return 1;
		}
	t0 = now();
	if (ml_learner_fit(&l, &f, NULL, 0, NULL, 0, &sp, &ctx, &e) < 0) {
		fprintf(stderr, "trees_fit: %s\n", e.msg);
		return 1;
	}
	printf("%.3f\n", now() - t0);
	ml_learner_free(l);
	ml_frame_release(&f);
	ml_ctx_release(&ctx);
	return 0;
}
