/* Unit tests for lib/feat*.c: date parsing, quantiles, replay in blocks of any size equal
 * to the fit, holding rows, binding by name, the target kept, and loading damaged pipeline
 * files. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "feat/feat_int.h"
#include "ml/ctx.h"
#include "ml/feat.h"
#include "ml/model.h"
#include "ml/table.h"
#include "unit.h"

static char tmpdir[] = "/tmp/test_feat.XXXXXX";

/* Write text to a file in the temporary directory and read it as a frame. */
static int frame_of(struct ml_frame *f, const char *name, const char *text)
{
	char path[256];
	FILE *fp;
	struct ml_err e;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	fp = fopen(path, "w");
	if (!fp)
		return -1;
	fputs(text, fp);
	fclose(fp);
	ml_frame_init(f);
	ml_err_init(&e);
	if (ml_frame_read(f, path, NULL, &e) < 0) {
		fprintf(stderr, "read %s: %s\n", path, e.msg);
		return -1;
	}
	return 0;
}

static void test_parse_time(void)
{
	double t;

	CHECK(ml_parse_time("1970-01-01", 10, &t) == 0 && t == 0);
	CHECK(ml_parse_time("1970-01-02T00:00:01Z", 20, &t) == 0 && t == 86401);
	CHECK(ml_parse_time("2000-03-01", 10, &t) == 0 && t == 951868800);
	CHECK(ml_parse_time("2000/03/01", 10, &t) == 0 && t == 951868800);
	CHECK(ml_parse_time("2000-03-01 12:30", 16, &t) == 0 && t == 951868800 + 45000);
	CHECK(ml_parse_time("2000-03-01T12:30:15.25", 22, &t) == 0 && t == 951868800 + 45015.25);
	CHECK(ml_parse_time("2000-03-01T12:30:00+01:00", 25, &t) == 0 && t == 951868800 + 41400);
	CHECK(ml_parse_time("2000-03-01T12:30:00-0130", 24, &t) == 0 && t == 951868800 + 50400);
	CHECK(ml_parse_time("2000-03-01T12:30:00+01", 22, &t) == 0 && t == 951868800 + 41400);
	CHECK(ml_parse_time("1969-12-31T23:59:59Z", 20, &t) == 0 && t == -1);
	CHECK(ml_parse_time("1700000000", 10, &t) == 0 && t == 1700000000);
	CHECK(ml_parse_time("-86400.5", 8, &t) == 0 && t == -86400.5);
	CHECK(ml_parse_time(" 2000-03-01 ", 12, &t) == 0 && t == 951868800);
	CHECK(ml_parse_time("2024-02-29", 10, &t) == 0);
	CHECK(ml_parse_time("2023-02-29", 10, &t) < 0);
	CHECK(ml_parse_time("2000-13-01", 10, &t) < 0);
	CHECK(ml_parse_time("2000-00-01", 10, &t) < 0);
	CHECK(ml_parse_time("2000-01-32", 10, &t) < 0);
	CHECK(ml_parse_time("2000-01-01T25:00", 16, &t) < 0);
	CHECK(ml_parse_time("2000-01-01T12:60", 16, &t) < 0);
	CHECK(ml_parse_time("2000-01-01X12:00", 16, &t) < 0);
	CHECK(ml_parse_time("2000-01-01T12:00junk", 20, &t) < 0);
	CHECK(ml_parse_time("2000-01/01", 10, &t) < 0);
	CHECK(ml_parse_time("yesterday", 9, &t) < 0);
	CHECK(ml_parse_time("", 0, &t) < 0);
	CHECK(ml_parse_time("inf", 3, &t) < 0);
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void test_quantiles(void)
{
	struct ml_rng r;
	int trial;

	ml_rng_seed(&r, 1);
	for (trial = 0; trial < 200; trial++) {
		size_t n = 1 + ml_rng_below(&r, 60), i;
		double *v = malloc(n * sizeof(double)), *s = malloc(n * sizeof(double));
		double ps[] = {0, 0.1, 0.25, 0.5, 0.75, 0.9, 1, 0.333};
		size_t k;
		for (i = 0; i < n; i++)
			s[i] = (double)ml_rng_below(&r, 8); /* many ties */
		memcpy(v, s, n * sizeof(double));
		qsort(s, n, sizeof(double), cmpd);
		for (k = 0; k < sizeof(ps) / sizeof(ps[0]); k++) {
			memcpy(v, s, n * sizeof(double));
			/* scramble, then select */
			for (i = n; i > 1; i--) {
				size_t j = ml_rng_below(&r, i);
				double t = v[i - 1];
				v[i - 1] = v[j];
				v[j] = t;
			}
			CHECK(ml_feat_qsel(v, n, ps[k]) == ml_feat_quantile(s, n, ps[k]));
		}
		free(v);
		free(s);
	}
	{
		double s[] = {1, 2, 3, 4};
		CHECK(ml_feat_quantile(s, 4, 0.5) == 2.5);
		CHECK(ml_feat_quantile(s, 4, 0.25) == 1.75);
	}
}

/* Fit spec on the frame, then replay the saved pipeline in blocks of size blk and check
 * every output byte for byte against the fit's rows. */
static int replay_equal(const struct ml_frame *fr, const struct ml_feat_spec *spec, size_t blk,
			int expect_hold)
{
	struct ml_features *f = NULL, *g = NULL;
	struct ml_model *m = NULL, *m2 = NULL;
	struct ml_ctx ctx;
	struct ml_err e;
	const struct ml_block *rows, *o;
	const struct ml_schema *os;
	unsigned char *buf = NULL;
	size_t len, at = 0, got = 0;
	int j, ok = 1, held = 0;

	ml_err_init(&e);
	if (ml_ctx_init(&ctx, 1, 42, &e) < 0)
		return 0;
	if (ml_features_fit(&f, fr, spec, &ctx, &rows, &e) < 0) {
		fprintf(stderr, "fit: %s\n", e.msg);
		ml_ctx_release(&ctx);
		return 0;
	}
	if (ml_features_to_model(f, &m, &e) < 0 || ml_model_to_mem(m, &buf, &len, &e) < 0 ||
	    !(m2 = ml_model_from_mem(buf, len, "mem", &e)) ||
	    !(g = ml_features_from_model(m2, &e)) ||
	    ml_features_bind(g, &fr->schema, &os, &e) < 0) {
		fprintf(stderr, "save/load/bind: %s\n", e.msg);
		ok = 0;
		goto out;
	}
	if (os->ncol != rows->schema->ncol) {
		ok = 0;
		goto out;
	}
	if (ml_features_holds_rows(g) != expect_hold)
		ok = 0;
	for (;;) {
		size_t to = at + blk < fr->rows.nrow ? at + blk : fr->rows.nrow, i;
		int fin = at >= fr->rows.nrow;
		if (fin) {
			if (ml_features_finish(g, &o, &e) < 0) {
				fprintf(stderr, "finish: %s\n", e.msg);
				ok = 0;
				break;
			}
		} else if (ml_features_apply(g, &fr->rows, at, to, &o, &e) < 0) {
			fprintf(stderr, "apply: %s\n", e.msg);
			ok = 0;
			break;
		}
		if (!fin && o->nrow < to - at)
			held = 1;
		for (i = 0; i < o->nrow && ok; i++, got++) {
			for (j = 0; j < os->ncol; j++) {
				if (os->cols[j].type == ML_NUM) {
					double a = o->col[j].num[i], b = rows->col[j].num[got];
					if (memcmp(&a, &b, sizeof(a)) != 0 && !(a != a && b != b)) {
						fprintf(stderr, "row %zu col %s: %.17g vs %.17g\n",
							got, os->cols[j].name, a, b);
						ok = 0;
					}
				} else {
					int32_t a = o->col[j].cat[i], b = rows->col[j].cat[got];
					const char *sa = a < 0 ? "" : os->cols[j].dict.str[a];
					const char *sb =
					    b < 0 ? "" : rows->schema->cols[j].dict.str[b];
					if ((a < 0) != (b < 0) || strcmp(sa, sb) != 0)
						ok = 0;
				}
			}
		}
		if (fin)
			break;
		at = to;
	}
	if (got != fr->rows.nrow)
		ok = 0;
	if (expect_hold && blk < 4 && !held)
		ok = 0;
out:
	free(buf);
	ml_features_free(f);
	ml_features_free(g);
	ml_model_free(m);
	ml_model_free(m2);
	ml_ctx_release(&ctx);
	return ok;
}

static const char series[] = "g,t,x,y,c\n"
			     "a,2020-01-01,1,,p\n"
			     "b,2020-01-01,,5,q\n"
			     "a,2020-01-02,,6,\n"
			     "a,2020-01-02,,7,p\n"
			     "b,2020-01-03,4,,q\n"
			     "a,2020-01-05,5,8,r\n"
			     "b,2020-01-06,,9,\n"
			     "b,2020-01-08,,,q\n"
			     "a,2020-01-09,2,1,p\n"
			     "a,2020-01-10,,2,r\n"
			     "b,2020-01-10,7,,p\n"
			     "a,2020-01-12,,,q\n";

static void test_replay_blocks(void)
{
	struct ml_frame fr;
	struct ml_feat_spec spec;
	struct ml_feat_step st[8];
	size_t blks[] = {1, 2, 3, 5, 7, 100};
	size_t k;

	if (frame_of(&fr, "series.csv", series) < 0) {
		CHECK(0);
		return;
	}
	ml_feat_spec_init(&spec);
	spec.group_col = "g";
	spec.time_col = "t";
	spec.missing_indicator = 1;
	st[0].step = "impute";
	st[0].arg = "interpolate:x";
	st[1].step = "impute";
	st[1].arg = "ffill:y,c";
	st[2].step = "lag";
	st[2].arg = "y:1,2";
	st[3].step = "rolling";
	st[3].arg = "x:2d:mean,std,min,max,sum,count,trend";
	st[4].step = "rolling";
	st[4].arg = "y:3:mean,trend";
	st[5].step = "onehot";
	st[5].arg = "c";
	st[6].step = "scale";
	st[6].arg = "standard:x,y";
	st[7].step = "datetime";
	st[7].arg = "t:doy,dow";
	spec.steps = st;
	spec.nsteps = 8;
	for (k = 0; k < sizeof(blks) / sizeof(blks[0]); k++)
		CHECK(replay_equal(&fr, &spec, blks[k], 1));
	/* without the interpolation nothing is held */
	spec.steps = st + 1;
	spec.nsteps = 7;
	for (k = 0; k < sizeof(blks) / sizeof(blks[0]); k++)
		CHECK(replay_equal(&fr, &spec, blks[k], 0));
	ml_frame_release(&fr);
}

static void test_interpolate_values(void)
{
	struct ml_frame fr;
	struct ml_feat_spec spec;
	struct ml_feat_step st[1];
	struct ml_features *f = NULL;
	struct ml_ctx ctx;
	struct ml_err e;
	const struct ml_block *rows;

	ml_err_init(&e);
	if (frame_of(&fr, "interp.csv", "t,x\n0,\n1,2\n2,\n4,\n5,8\n6,\n") < 0 ||
	    ml_ctx_init(&ctx, 1, 42, &e) < 0) {
		CHECK(0);
		return;
	}
	ml_feat_spec_init(&spec);
	st[0].step = "impute";
	st[0].arg = "interpolate:x";
	spec.steps = st;
	spec.nsteps = 1;
	spec.time_col = "t";
	CHECK(ml_features_fit(&f, &fr, &spec, &ctx, &rows, &e) == 0);
	if (f) {
		const double *x = rows->col[1].num;
		CHECK(rows->nrow == 6);
		CHECK(x[0] == 5); /* before the first value: the mean */
		CHECK(x[1] == 2);
		CHECK(x[2] == 3.5); /* by time: 2 + (8 - 2) * (2 - 1) / (5 - 1) */
		CHECK(x[3] == 6.5);
		CHECK(x[4] == 8);
		CHECK(x[5] == 8); /* after the last value: that value */
	}
	ml_features_free(f);
	ml_ctx_release(&ctx);
	ml_frame_release(&fr);
}

/* Every truncation of the pipeline section fails cleanly; flipped bytes either fail or
 * give a pipeline that binds and applies without harm. */
static void test_damaged(void)
{
	struct ml_frame fr;
	struct ml_feat_spec spec;
	struct ml_feat_step st[6];
	struct ml_features *f = NULL;
	struct ml_model *m = NULL;
	struct ml_ctx ctx;
	struct ml_err e;
	const struct ml_block *rows;
	const void *data;
	size_t len, cut, i;
	struct ml_rng r;

	ml_err_init(&e);
	if (frame_of(&fr, "dmg.csv", series) < 0 || ml_ctx_init(&ctx, 1, 42, &e) < 0) {
		CHECK(0);
		return;
	}
	ml_feat_spec_init(&spec);
	spec.target = "y";
	st[0].step = "impute";
	st[0].arg = "median:x";
	st[1].step = "onehot";
	st[1].arg = "g";
	st[2].step = "target-encode";
	st[2].arg = "c";
	st[3].step = "pca";
	st[3].arg = "1:x";
	st[4].step = "datetime";
	st[4].arg = "t";
	st[5].step = "power";
	st[5].arg = "yeo-johnson:pc1";
	spec.steps = st;
	spec.nsteps = 6;
	/* y has gaps: target encoding refuses them */
	CHECK(ml_features_fit(&f, &fr, &spec, &ctx, &rows, &e) == ML_E_DATA);
	spec.target = NULL;
	spec.nsteps = 2;
	CHECK(ml_features_fit(&f, &fr, &spec, &ctx, &rows, &e) == 0);
	st[2] = st[3];
	st[3] = st[4];
	st[4] = st[5];
	spec.nsteps = 5;
	ml_features_free(f);
	f = NULL;
	CHECK(ml_features_fit(&f, &fr, &spec, &ctx, &rows, &e) == 0);
	CHECK(f && ml_features_to_model(f, &m, &e) == 0);
	if (!m || ml_model_get(m, "feat.pipeline", &data, &len, &e) < 0) {
		CHECK(0);
		goto out;
	}
	for (cut = 0; cut < len; cut++) {
		struct ml_model *d = ml_model_new("features", "pipeline");
		struct ml_features *g;
		ml_model_add(d, "feat.pipeline", data, cut, &e);
		g = ml_features_from_model(d, &e);
		CHECK(g == NULL && e.code == ML_E_DATA);
		ml_features_free(g);
		ml_model_free(d);
	}
	ml_rng_seed(&r, 3);
	for (i = 0; i < 3000; i++) {
		unsigned char *b = malloc(len);
		struct ml_model *d = ml_model_new("features", "pipeline");
		struct ml_features *g;
		const struct ml_schema *os;
		const struct ml_block *o;
		memcpy(b, data, len);
		b[ml_rng_below(&r, len)] ^= (unsigned char)(1 + ml_rng_below(&r, 255));
		ml_model_add(d, "feat.pipeline", b, len, &e);
		g = ml_features_from_model(d, &e);
		if (g && ml_features_bind(g, &fr.schema, &os, &e) == 0)
			ml_features_apply(g, &fr.rows, 0, fr.rows.nrow, &o, &e);
		ml_features_free(g);
		ml_model_free(d);
		free(b);
	}
	{
		struct ml_model *d = ml_model_new("model", "linear");
		CHECK(ml_features_from_model(d, &e) == NULL && e.code == ML_E_DATA);
		CHECK(strcmp(e.msg, "is a 'model' artefact, not a feature pipeline") == 0);
		ml_model_free(d);
	}
out:
	ml_model_free(m);
	ml_features_free(f);
	ml_ctx_release(&ctx);
	ml_frame_release(&fr);
}

/* Binding: another column order gives the same rows; differences are listed. */
static void test_bind(void)
{
	struct ml_frame a, b, c;
	struct ml_feat_spec spec;
	struct ml_feat_step st[2];
	struct ml_features *f = NULL;
	struct ml_ctx ctx;
	struct ml_err e;
	const struct ml_block *rows, *o;
	const struct ml_schema *os;
	size_t i;

	ml_err_init(&e);
	if (frame_of(&a, "a.csv", "x,c,y\n1,p,2\n3,q,4\n5,p,\n") < 0 ||
	    frame_of(&b, "b.csv", "c,y,z,x\nq,4,0,3\np,,0,5\nr,1,0,1\n") < 0 ||
	    frame_of(&c, "c.csv", "c,x\np,1\n") < 0 || ml_ctx_init(&ctx, 1, 42, &e) < 0) {
		CHECK(0);
		return;
	}
	ml_feat_spec_init(&spec);
	st[0].step = "scale";
	st[0].arg = "minmax";
	st[1].step = "onehot";
	st[1].arg = "c";
	spec.steps = st;
	spec.nsteps = 2;
	spec.unseen = ML_UNSEEN_ERROR;
	CHECK(ml_features_fit(&f, &a, &spec, &ctx, &rows, &e) == 0);
	if (!f)
		goto out;
	CHECK(ml_features_bind(f, &b.schema, &os, &e) == 0);
	CHECK(os->ncol == 4 && strcmp(os->cols[0].name, "x") == 0 &&
	      strcmp(os->cols[1].name, "c=p") == 0 && strcmp(os->cols[3].name, "y") == 0);
	CHECK(ml_features_apply(f, &b.rows, 0, 2, &o, &e) == 0);
	if (o->nrow == 2) {
		CHECK(o->col[0].num[0] == 0.5 && o->col[1].num[0] == 0 && o->col[2].num[0] == 1);
		CHECK(o->col[0].num[1] == 1 && o->col[1].num[1] == 1);
		CHECK(o->col[3].num[1] != o->col[3].num[1]);
	}
	/* the third row of b has an unseen category */
	CHECK(ml_features_apply(f, &b.rows, 2, 3, &o, &e) == ML_E_DATA);
	CHECK(e.line == 4);
	CHECK(strstr(e.msg, "'r', which it was not fitted with") != NULL);
	ml_features_set_extra(f, 1);
	CHECK(ml_features_bind(f, &b.schema, &os, &e) == 0);
	CHECK(os->ncol == 5 && strcmp(os->cols[4].name, "z") == 0);
	CHECK(ml_features_bind(f, &c.schema, &os, &e) == ML_E_DATA);
	CHECK(strcmp(e.msg, "the input does not match the feature pipeline: no column 'y'") == 0);
	i = 0;
	(void)i;
out:
	ml_features_free(f);
	ml_ctx_release(&ctx);
	ml_frame_release(&a);
	ml_frame_release(&b);
	ml_frame_release(&c);
}

/* The target a pipeline was fitted with is kept, through a saved file too (none is NULL),
 * and the input schema names the columns it was fitted on. */
static void test_target(void)
{
	struct ml_frame a;
	struct ml_feat_spec spec;
	struct ml_feat_step st[1];
	struct ml_ctx ctx;
	struct ml_err e;
	const struct ml_block *rows;
	int k;

	ml_err_init(&e);
	if (frame_of(&a, "t.csv", "x,c,y\n1,p,2\n3,q,4\n5,p,6\n") < 0 ||
	    ml_ctx_init(&ctx, 1, 42, &e) < 0) {
		CHECK(0);
		return;
	}
	st[0].step = "scale";
	st[0].arg = "standard:x";
	for (k = 0; k < 2; k++) {
		struct ml_features *f = NULL, *g = NULL;
		struct ml_model *m = NULL, *m2 = NULL;
		unsigned char *buf = NULL;
		size_t len;
		ml_feat_spec_init(&spec);
		spec.steps = st;
		spec.nsteps = 1;
		spec.target = k ? "y" : NULL;
		CHECK(ml_features_fit(&f, &a, &spec, &ctx, &rows, &e) == 0);
		if (!f)
			continue;
		CHECK(k ? ml_features_target(f) && strcmp(ml_features_target(f), "y") == 0
			: ml_features_target(f) == NULL);
		/* the columns fitted on, by name and type, without levels */
		{
			struct ml_schema in;
			int x, c, y;
			ml_schema_init(&in);
			CHECK(ml_features_input_schema(f, &in, &e) == 0);
			x = ml_schema_find(&in, "x");
			c = ml_schema_find(&in, "c");
			y = ml_schema_find(&in, "y");
			CHECK(x >= 0 && in.cols[x].type == ML_NUM);
			CHECK(c >= 0 && in.cols[c].type == ML_CAT && in.cols[c].dict.n == 0);
			CHECK(y >= 0 && in.cols[y].type == ML_NUM && in.ncol == 3);
			ml_schema_release(&in);
		}
		CHECK(ml_features_to_model(f, &m, &e) == 0 && ml_model_to_mem(m, &buf, &len, &e) == 0);
		if (buf && (m2 = ml_model_from_mem(buf, len, "mem", &e)))
			g = ml_features_from_model(m2, &e);
		CHECK(g != NULL);
		if (g)
			CHECK(k ? ml_features_target(g) && strcmp(ml_features_target(g), "y") == 0
				: ml_features_target(g) == NULL);
		free(buf);
		ml_features_free(f);
		ml_features_free(g);
		ml_model_free(m);
		ml_model_free(m2);
	}
	ml_ctx_release(&ctx);
	ml_frame_release(&a);
}

static void test_check(void)
{
	struct ml_feat_spec spec;
	struct ml_feat_step st[1];
	struct ml_err e;
	struct {
		const char *step, *arg, *msg;
	} bad[] = {
	    {"scale", "zscore",
	     "--scale: unknown method 'zscore' (standard, minmax, robust or maxabs)"},
	    {"impute", "avg",
	     "--impute: unknown method 'avg' (mean, median, mode, constant=V, ffill or "
	     "interpolate)"},
	    {"clip", "0.9,0.1",
	     "--clip: '0.9,0.1' is not LOW,HIGH (quantiles, 0 <= LOW <= HIGH <= 1)"},
	    {"hash", "c", "--hash: 'c' is not COLS:BITS (BITS from 1 to 12)"},
	    {"hash", "c:13", "--hash: 'c:13' is not COLS:BITS (BITS from 1 to 12)"},
	    {"datetime", "d:hours",
	     "--datetime: unknown part 'hours' (hour, minute, dow, day, week, month, quarter, "
	     "year, doy or is_weekend)"},
	    {"lag", "y:0", "--lag: '0' is not a lag (a whole number from 1 to 100000)"},
	    {"rolling", "y:3", "--rolling: 'y:3' is not COL:WINDOW:FUNCS"},
	    {"rolling", "y:3:median",
	     "--rolling: unknown function 'median' (mean, std, min, max, sum, count or trend)"},
	    {"rolling", "y:3x:mean",
	     "--rolling: window '3x' is not a row count (12) or a duration (a number and s, m, h, "
	     "d or w: 5m, 1h, 1d)"},
	    {"select", "top:3",
	     "--select: unknown method 'top' (variance:T, kbest:K:f|chi2|mi, rfe:K or boruta)"},
	    {"select", "kbest:3:gini",
	     "--select kbest:K:SCORE: unknown score 'gini' (f, chi2 or mi)"},
	    {"pca", "2.5",
	     "--pca: '2.5' is neither a number of components (1, 2, ...) nor a fraction of the "
	     "variance (0 < F < 1)"},
	    {"power", "log", "--power: unknown method 'log' (yeo-johnson or box-cox)"},
	    {"text", "", "--text: name the text column"},
	    {"nope", "x", "unknown step '--nope'"},
	};
	size_t k;

	ml_feat_spec_init(&spec);
	spec.steps = st;
	spec.nsteps = 1;
	for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		ml_err_init(&e);
		st[0].step = bad[k].step;
		st[0].arg = bad[k].arg;
		CHECK(ml_features_check(&spec, &e) == ML_E_USAGE);
		if (strcmp(e.msg, bad[k].msg) != 0) {
			fprintf(stderr, "%s %s: %s\n", bad[k].step, bad[k].arg, e.msg);
			CHECK(0);
		}
	}
	st[0].step = "select";
	st[0].arg = "kbest:3:mi:a,b";
	CHECK(ml_features_check(&spec, &e) == 0);
}

/* The calendar: known day numbers, the round trip over four centuries, month lengths. */
static void test_calendar(void)
{
	long long z, y;
	int m, d;

	CHECK(ml_days_from_civil(1970, 1, 1) == 0);
	CHECK(ml_days_from_civil(2000, 3, 1) == 11017);
	CHECK(ml_days_from_civil(1969, 12, 31) == -1);
	for (z = -150000; z < 150000; z += 7) {
		ml_civil_from_days(z, &y, &m, &d);
		CHECK(m >= 1 && m <= 12 && d >= 1 && d <= ml_month_days(y, m));
		CHECK(ml_days_from_civil(y, m, d) == z);
	}
	CHECK(ml_month_days(2000, 2) == 29 && ml_month_days(1900, 2) == 28);
	CHECK(ml_month_days(2024, 2) == 29 && ml_month_days(2023, 4) == 30);
}

static void test_window(void)
{
	long rows;
	double sec, unit;

	CHECK(ml_parse_window("100", 1000, &rows, &sec, &unit) == 0);
	CHECK(rows == 100 && sec == 0 && unit == 0);
	CHECK(ml_parse_window("1.5h", 1000, &rows, &sec, &unit) == 0);
	CHECK(rows == 0 && sec == 5400 && unit == 3600);
	CHECK(ml_parse_window("2w", 1000, &rows, &sec, NULL) == 0 && sec == 1209600);
	CHECK(ml_parse_window("30s", 1000, &rows, &sec, NULL) == 0 && sec == 30);
	CHECK(ml_parse_window("1001", 1000, &rows, &sec, NULL) < 0);
	CHECK(ml_parse_window("0", 1000, &rows, &sec, NULL) < 0);
	CHECK(ml_parse_window("0d", 1000, &rows, &sec, NULL) < 0);
	CHECK(ml_parse_window("-1m", 1000, &rows, &sec, NULL) < 0);
	CHECK(ml_parse_window("5x", 1000, &rows, &sec, NULL) < 0);
	CHECK(ml_parse_window("h", 1000, &rows, &sec, NULL) < 0);
	CHECK(ml_parse_window("", 1000, &rows, &sec, NULL) < 0);
}

int main(void)
{
	RUN(test_calendar);
	RUN(test_window);
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_parse_time);
	RUN(test_quantiles);
	RUN(test_replay_blocks);
	RUN(test_interpolate_values);
	RUN(test_damaged);
	RUN(test_bind);
	RUN(test_target);
	RUN(test_check);
	{
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			return 1;
	}
	return UNIT_EXIT();
}
