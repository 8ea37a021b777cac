/* Benchmark helper (built by bench/arima.sh): fits a forecasting method on the column "y"
 * of each CSV named, prints one line per series with the seconds the fit took and the
 * forecaster's metadata (orders, criteria, coefficients), and with -h H the forecasts.
 * With -r R each fit is repeated R times and the least time printed.
 *   fc_fit [-r R] [-h H] METHOD SEASON FILE... [-- NAME VALUE...] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ml/ml.h"

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	const struct ml_fc_method *m;
	struct ml_params p;
	struct ml_err e;
	int a = 1, h = 0, reps = 1, season, nfile = 0, i;
	char **files;

	ml_err_init(&e);
	if (argc > a + 1 && strcmp(argv[a], "-r") == 0) {
		reps = (int)strtol(argv[a + 1], NULL, 10);
		a += 2;
	}
	if (argc > a + 1 && strcmp(argv[a], "-h") == 0) {
		h = (int)strtol(argv[a + 1], NULL, 10);
		a += 2;
	}
	if (argc - a < 3 || !(m = ml_fc_method_find(argv[a]))) {
		fprintf(stderr, "usage: fc_fit [-h H] METHOD SEASON FILE... [-- NAME VALUE...]\n");
		return 2;
	}
	season = (int)strtol(argv[a + 1], NULL, 10);
	files = argv + a + 2;
	while (a + 2 + nfile < argc && strcmp(files[nfile], "--") != 0)
		nfile++;
	ml_fc_params_init(&p, m);
	for (i = a + 3 + nfile; i + 1 < argc; i += 2)
		if (ml_params_set(&p, argv[i], argv[i + 1], &e) < 0) {
			fprintf(stderr, "fc_fit: %s\n", e.msg);
			return 2;
		}
	for (i = 0; i < nfile; i++) {
		struct ml_frame f;
		struct ml_read_opts o;
		struct ml_series s;
		struct ml_forecaster *fc = NULL;
		struct ml_model *mod = NULL;
		double t0, t1;
		int c;

		ml_frame_init(&f);
		ml_read_opts_init(&o);
		if (ml_frame_read(&f, files[i], &o, &e) < 0 ||
		    (c = ml_schema_find(&f.schema, "y")) < 0) {
			fprintf(stderr, "fc_fit: %s: %s\n", files[i], e.msg);
			return 1;
		}
		memset(&s, 0, sizeof(s));
		s.y = f.rows.col[c].num;
		s.n = f.rows.nrow;
		if (season > 1) {
			s.season[0] = season;
			s.nseason = 1;
		}
		t1 = 1e300;
		for (int r = 0; r < reps; r++) {
			ml_fc_free(fc);
			fc = NULL;
			t0 = now();
			if (ml_fc_fit(&fc, m, &s, &p, NULL, &e) < 0)
				break;
			if (now() - t0 < t1)
				t1 = now() - t0;
		}
		if (!fc) {
			printf("%s\terror\t%s\n", files[i], e.msg);
			ml_frame_release(&f);
			continue;
		}
		t0 = 0;
		if (ml_fc_to_model(fc, &mod, &e) == 0) {
			char *js = ml_model_meta_json(mod);
			printf("%s\t%.6f\t%s\n", files[i], t1 - t0, js ? js : "");
			free(js);
			ml_model_free(mod);
		}
		if (h > 0) {
			static const double lv[2] = {80, 95};
			double *mean = malloc((size_t)h * 5 * sizeof(double)), *lo = mean + h,
			       *hi = lo + 2 * h;
			int t;
			if (mean && ml_fc_forecast(fc, h, lv, 2, mean, lo, hi, &e) == 0)
				for (t = 0; t < h; t++)
					printf("%d,%.10g,%.10g,%.10g,%.10g,%.10g\n", t + 1, mean[t], lo[t],
					       hi[t], lo[h + t], hi[h + t]);
			free(mean);
		}
		ml_fc_free(fc);
		ml_frame_release(&f);
	}
	return 0;
}
