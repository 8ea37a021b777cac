/* Fuzzing mlfeat's step specifications: ml_features_check on a spec made from the input,
 * then, when it passes, ml_features_fit on a small fixed frame. A fitted pipeline is then
 * held to what feat.h promises: replayed on the training rows it gives the rows the fit
 * gave (target encoding aside, which is cross-fitted in the fit); saved and loaded again
 * it gives the same rows; and the rows come out the same whether they go in all at once
 * or in small blocks.
 *
 * Input: mlfeat's options, one a line, as on its command line without the dashes' escaping:
 * "--STEP=ARG" or "--STEP" for a step (impute, scale, ... as ml_feat_step_names lists
 * them), and --target, --keep, --unseen, --max-categories, --smoothing, --folds,
 * --missing-indicator, --time-col, --group-col, --cyclical, --squares, --whiten and
 * --algorithm with their arguments. The frame has the columns date (ISO dates, text), ts
 * (seconds), g (a group), x (with gaps), y (positive), z, c (categories with a gap), txt
 * (phrases), label (two classes) and target (numbers).
 *
 * --embed reads a model file: the harness never lets the input name a path (a fuzzed name
 * could be a directory, a pipe or /dev/zero). A non-empty argument names instead a small
 * autoencoder fitted on y, z and target here and saved in a temporary file (removed at exit);
 * loaders of fuzzed models are fuzz_model's. */
#include <unistd.h>

#include "fuzz.h"

#define NROW 24
#define MAX_STEPS 8

static struct ml_frame fr;
static struct ml_ctx ctx;
static char embed_path[4096];

static void embed_remove(void)
{
	if (embed_path[0])
		unlink(embed_path);
}

/* An autoencoder on y, z and target of fr, saved where embed_path says. */
static void embed_model(void)
{
	struct ml_train_spec spec = {0};
	struct ml_learner *l;
	struct ml_model *m;
	struct ml_err e;
	const char *dir = getenv("TMPDIR");
	int fd;

	snprintf(embed_path, sizeof(embed_path), "%s/fuzz_feat_embed.XXXXXX",
		 dir && *dir ? dir : "/tmp");
	if ((fd = mkstemp(embed_path)) < 0)
		fz_fail("cannot make a temporary file in %s", dir && *dir ? dir : "/tmp");
	close(fd);
	atexit(embed_remove);
	spec.ignore = "date,ts,g,x,c,txt,label";
	spec.name = "fuzz.csv";
	ml_params_init(&spec.params, ml_algo_find("autoencoder"));
	if (ml_params_set(&spec.params, "hidden", "3", &e) < 0 ||
	    ml_params_set(&spec.params, "epochs", "5", &e) < 0)
		fz_fail("autoencoder parameters: %s", e.msg);
	if (ml_learner_fit(&l, &fr, NULL, 0, NULL, 0, &spec, &ctx, &e) < 0)
		fz_fail("autoencoder: %s", e.msg);
	if (ml_learner_to_model(l, &m, &e) < 0 || ml_model_save(m, embed_path, &e) < 0)
		fz_fail("autoencoder not saved: %s", e.msg);
	ml_model_free(m);
	ml_learner_free(l);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const txt[] = {"red fox", "lazy dog", "the red dog", "a fox", ""};
	static const char *const cs[] = {"p", "q", "r", "s", "p", "q"};
	struct ml_err e;
	char d[32];
	size_t i;
	int j;

	(void)argc;
	(void)argv;
	ml_blas_rest();
	if (ml_ctx_init(&ctx, 1, 42, &e) != 0)
		fz_fail("ml_ctx_init: %s", e.msg);
	ml_frame_init(&fr);
	if (ml_schema_add(&fr.schema, "date", ML_CAT) < 0 || ml_schema_add(&fr.schema, "ts", ML_NUM) < 0 ||
	    ml_schema_add(&fr.schema, "g", ML_CAT) < 0 || ml_schema_add(&fr.schema, "x", ML_NUM) < 0 ||
	    ml_schema_add(&fr.schema, "y", ML_NUM) < 0 || ml_schema_add(&fr.schema, "z", ML_NUM) < 0 ||
	    ml_schema_add(&fr.schema, "c", ML_CAT) < 0 || ml_schema_add(&fr.schema, "txt", ML_CAT) < 0 ||
	    ml_schema_add(&fr.schema, "label", ML_CAT) < 0 ||
	    ml_schema_add(&fr.schema, "target", ML_NUM) < 0 ||
	    ml_block_init(&fr.rows, &fr.schema, NROW, &e) < 0)
		fz_fail("out of memory");
	for (i = 0; i < NROW; i++) {
		snprintf(d, sizeof(d), "2024-01-%02zuT%02zu:30:00", 1 + i / 3, (i % 3) * 7);
		fr.rows.col[0].cat[i] = ml_dict_intern(&fr.schema.cols[0].dict, d, strlen(d));
		fr.rows.col[1].num[i] = 1.7e9 + 3600.0 * (double)i;
		fr.rows.col[2].cat[i] = ml_dict_intern(&fr.schema.cols[2].dict, i % 3 ? "a" : "b", 1);
		fr.rows.col[3].num[i] = i % 7 == 3 ? NAN : (double)(i * i % 11) - 2.5;
		fr.rows.col[4].num[i] = 0.5 + (double)(i * 7 % 13);
		fr.rows.col[5].num[i] = (double)((int)i - 12) * 0.75 + (i % 2);
		fr.rows.col[6].cat[i] = i == 5 ? ML_MISSING_CAT :
			ml_dict_intern(&fr.schema.cols[6].dict, cs[i % 6], 1);
		fr.rows.col[7].cat[i] = ml_dict_intern(&fr.schema.cols[7].dict, txt[i % 5],
						      strlen(txt[i % 5]));
		/* the label follows y, but for two rows */
		fr.rows.col[8].cat[i] = ml_dict_intern(&fr.schema.cols[8].dict,
						      (i * 7 % 13 > 6) != (i % 11 == 4) ? "yes" : "no",
						      (i * 7 % 13 > 6) != (i % 11 == 4) ? 3 : 2);
		fr.rows.col[9].num[i] = 3.0 * fr.rows.col[4].num[i] - (double)(i % 4);
	}
	fr.rows.nrow = NROW;
	for (j = 0; j < fr.schema.ncol; j++)
		if (fr.schema.cols[j].type == ML_CAT)
			for (i = 0; i < NROW; i++)
				if (fr.rows.col[j].cat[i] < ML_MISSING_CAT)
					fz_fail("out of memory");
	embed_model();
	return 0;
}

/* The spec from the input's lines; the strings point into buf. */
static int spec_of(char *buf, struct ml_feat_spec *sp, struct ml_feat_step *steps)
{
	char *line, *next, *arg;
	long v;
	double dv;

	ml_feat_spec_init(sp);
	sp->name = "fuzz.csv";
	sp->steps = steps;
	for (line = buf; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		if (strncmp(line, "--", 2) != 0)
			continue;
		line += 2;
		arg = strchr(line, '=');
		if (arg)
			*arg++ = 0;
		if (!strcmp(line, "target") || !strcmp(line, "t"))
			sp->target = arg;
		else if (!strcmp(line, "keep"))
			sp->keep = arg;
		else if (!strcmp(line, "time-col"))
			sp->time_col = arg;
		else if (!strcmp(line, "group-col"))
			sp->group_col = arg;
		else if (!strcmp(line, "algorithm"))
			sp->algorithm = arg;
		else if (!strcmp(line, "missing-indicator"))
			sp->missing_indicator = 1;
		else if (!strcmp(line, "cyclical"))
			sp->cyclical = 1;
		else if (!strcmp(line, "squares"))
			sp->squares = 1;
		else if (!strcmp(line, "whiten"))
			sp->whiten = 1;
		else if (!strcmp(line, "unseen") && arg)
			sp->unseen = !strcmp(arg, "error") ? ML_UNSEEN_ERROR :
				     !strcmp(arg, "other") ? ML_UNSEEN_OTHER : ML_UNSEEN_IGNORE;
		else if (!strcmp(line, "max-categories") && arg && ml_parse_long(arg, 0, 1000, &v) == 0)
			sp->max_categories = (int)v;
		else if (!strcmp(line, "folds") && arg && ml_parse_long(arg, -5, 50, &v) == 0)
			sp->folds = (int)v;
		else if (!strcmp(line, "smoothing") && arg && ml_parse_real(arg, -1, 1e9, &dv) == 0)
			sp->smoothing = dv;
		else if (sp->nsteps < MAX_STEPS) {
			steps[sp->nsteps].step = line;
			steps[sp->nsteps].arg = arg;
			if (!strcmp(line, "embed") && arg && *arg)
				steps[sp->nsteps].arg = embed_path;
			sp->nsteps++;
		}
	}
	for (v = 0; v < sp->nsteps; v++)
		if (!strcmp(steps[v].step, "target-encode"))
			return 1;
	return 0;
}

/* Append a block of the output to out. */
static void append(struct ml_frame *out, const struct ml_schema *os, const struct ml_block *ob)
{
	int j;

	if (ob->nrow == 0)
		return;
	if (ob->schema != os || ob->ncol != os->ncol)
		fz_fail("an applied block is not of the bound output schema");
	fz_check_codes(ob, "ml_features_apply");
	if (ml_block_reserve(&out->rows, out->rows.nrow + ob->nrow, NULL) < 0)
		fz_fail("out of memory");
	for (j = 0; j < os->ncol; j++) {
		size_t sz = os->cols[j].type == ML_NUM ? sizeof(double) : sizeof(int32_t);
		memcpy((char *)out->rows.col[j].num + out->rows.nrow * sz, ob->col[j].num,
		       ob->nrow * sz);
	}
	out->rows.nrow += ob->nrow;
}

/* Bind f to fr's schema, apply it to fr's rows in blocks of step rows, and collect what
 * comes out in out (fresh from ml_frame_init): 0, or the first error. */
static int replay(struct ml_features *f, size_t step, struct ml_frame *out, struct ml_err *e)
{
	const struct ml_schema *os;
	const struct ml_block *ob;
	size_t i;
	int rc, j;

	if ((rc = ml_features_bind(f, &fr.schema, &os, e)) < 0)
		return rc;
	if (ml_schema_copy(&out->schema, os) < 0 || ml_block_init(&out->rows, &out->schema, 0, e) < 0)
		fz_fail("out of memory");
	for (i = 0; i < NROW; i += step) {
		if ((rc = ml_features_apply(f, &fr.rows, i, i + step < NROW ? i + step : NROW, &ob,
					    e)) < 0)
			return rc;
		append(out, os, ob);
	}
	if ((rc = ml_features_finish(f, &ob, e)) < 0)
		return rc;
	append(out, os, ob);
	/* the final dictionaries */
	for (j = 0; j < os->ncol; j++) {
		ml_dict_release(&out->schema.cols[j].dict);
		if (ml_dict_copy(&out->schema.cols[j].dict, &os->cols[j].dict) < 0)
			fz_fail("out of memory");
	}
	if (out->rows.nrow != NROW)
		fz_fail("a pipeline gave %zu rows for %d", out->rows.nrow, NROW);
	return 0;
}

/* The pipeline saved and loaded again. */
static struct ml_features *reload(const struct ml_features *f)
{
	struct ml_model *m, *m2;
	struct ml_features *g;
	unsigned char *buf;
	size_t len;
	struct ml_err e;

	if (ml_features_to_model(f, &m, &e) != 0)
		fz_fail("a fitted pipeline does not save: %s", e.msg);
	if (ml_model_to_mem(m, &buf, &len, &e) != 0 || !(m2 = ml_model_from_mem(buf, len, "f", &e)))
		fz_fail("a saved pipeline does not load: %s", e.msg);
	if (!(g = ml_features_from_model(m2, &e)))
		fz_fail("a saved pipeline does not read back: %s", e.msg);
	free(buf);
	ml_model_free(m);
	ml_model_free(m2);
	return g;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ml_feat_step steps[MAX_STEPS];
	struct ml_feat_spec sp;
	struct ml_features *f = NULL, *g;
	const struct ml_block *rows;
	struct ml_frame fit, a, b, c;
	struct ml_err e;
	char *buf;
	int te, rc, ra;

	if (size > 4096 || !(buf = malloc(size + 1)))
		return 0;
	memcpy(buf, data, size);
	buf[size] = 0;
	te = spec_of(buf, &sp, steps);
	rc = ml_features_check(&sp, &e);
	if (rc != 0 && (rc != ML_E_USAGE || e.code != rc))
		fz_fail("ml_features_check returned %d with code %d: %s", rc, e.code, e.msg);
	if (rc == 0)
		rc = ml_features_fit(&f, &fr, &sp, &ctx, &rows, &e);
	if (rc < 0 && f)
		fz_fail("ml_features_fit failed but gave a pipeline");
	if (rc < 0 && (e.code != rc || (rc != ML_E_USAGE && rc != ML_E_DATA)))
		fz_fail("ml_features_fit returned %d with code %d: %s", rc, e.code, e.msg);
	if (rc < 0) {
		if (getenv("FUZZ_VERBOSE"))
			fprintf(stderr, "refused: %s\n", e.msg);
		free(buf);
		return 0;
	}
	if (rows->nrow != NROW)
		fz_fail("the fit gave %zu rows for %d", rows->nrow, NROW);
	fz_check_codes(rows, "ml_features_fit");
	/* kept: the next bind ends the fit's rows */
	ml_frame_init(&fit);
	if (ml_schema_copy(&fit.schema, rows->schema) < 0 ||
	    ml_block_init(&fit.rows, &fit.schema, 0, NULL) < 0)
		fz_fail("out of memory");
	append(&fit, rows->schema, rows);
	fit.rows.schema = &fit.schema;
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "fit: %d columns\n", fit.schema.ncol);

	/* the fitted pipeline on the training rows, at once and row by row */
	ml_frame_init(&a);
	ra = replay(f, NROW, &a, &e);
	if (ra == 0 && !te)
		fz_same_frame(&fit, &a, "the fit and its replay");
	ml_frame_release(&fit);
	ml_frame_init(&b);
	rc = replay(f, 1 + size % 5, &b, &e);
	if ((ra == 0) != (rc == 0))
		fz_fail("replaying at once %s, in blocks %s", ra ? "fails" : "works",
			rc ? "fails" : "works");
	if (ra == 0)
		fz_same_frame(&a, &b, "a replay at once and in blocks");

	/* saved and loaded */
	g = reload(f);
	ml_frame_init(&c);
	rc = replay(g, NROW, &c, &e);
	if ((ra == 0) != (rc == 0))
		fz_fail("a pipeline %s, its saved copy %s", ra ? "fails" : "works",
			rc ? "fails" : "works");
	if (ra == 0)
		fz_same_frame(&a, &c, "a pipeline and its saved copy");
	ml_frame_release(&a);
	ml_frame_release(&b);
	ml_frame_release(&c);
	ml_features_free(g);
	ml_features_free(f);
	free(buf);
	return 0;
}
