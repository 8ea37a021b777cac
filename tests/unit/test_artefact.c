/* Unit tests of the artefact layer: loading any kind, flags, checks that reach a working
 * scorer, metadata and tables through the artefact, the digest, scorers used alone (with a
 * pool, holding rows back), scorers shared by threads, and chains with kept columns over a
 * transform that holds rows back. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml.h"
#include "unit.h"

static struct ml_frame penguins;

/* A gbdt model of species on the penguins, as an artefact. */
static struct ml_artefact *gbdt_artefact(void)
{
	struct ml_train_spec spec;
	struct ml_learner *l = NULL;
	struct ml_model *m = NULL;
	struct ml_ctx ctx;
	struct ml_err e;

	ml_err_init(&e);
	if (ml_ctx_init(&ctx, 1, 3, &e) < 0)
		return NULL;
	memset(&spec, 0, sizeof(spec));
	spec.target = "species";
	ml_params_init(&spec.params, ml_algo_find("gbdt"));
	ml_params_set(&spec.params, "rounds", "10", &e);
	if (ml_learner_fit(&l, &penguins, NULL, 0, NULL, 0, &spec, &ctx, &e) == 0)
		ml_learner_to_model(l, &m, &e);
	ml_learner_free(l);
	ml_ctx_release(&ctx);
	return m ? ml_artefact_from_model(m, "pg.mlm", &e) : NULL;
}

static void test_model_kind(void)
{
	struct ml_artefact *a = gbdt_artefact();
	struct ml_schema s;
	struct ml_frame t;
	struct ml_err e;
	char d1[ML_MODEL_DIGEST_HEX + 1], d2[ML_MODEL_DIGEST_HEX + 1], *js, *meta;
	const char *const *tb;

	ml_err_init(&e);
	CHECK(a != NULL);
	if (!a)
		return;
	CHECK(!strcmp(ml_artefact_kind(a), "model") && !strcmp(ml_artefact_name(a), "pg.mlm"));
	CHECK(ml_artefact_flags(a) == (ML_ARTEFACT_FINAL | ML_ARTEFACT_KNOWN));
	CHECK(ml_artefact_check(a, &e) == 0);
	ml_schema_init(&s);
	CHECK(ml_artefact_input_schema(a, &s, &e) == 0);
	CHECK(s.ncol == 6 && ml_schema_find(&s, "island") >= 0 && ml_schema_find(&s, "species") < 0);
	ml_schema_release(&s);
	tb = ml_artefact_tables(a);
	CHECK(tb[0] && !strcmp(tb[0], "importance"));
	ml_frame_init(&t);
	CHECK(ml_artefact_table(a, "importance", &t, &e) == 0 && t.rows.nrow > 0);
	ml_frame_release(&t);
	ml_frame_init(&t);
	CHECK(ml_artefact_table(a, "nope", &t, &e) == ML_E_USAGE);
	ml_frame_release(&t);
	js = ml_artefact_describe(a, &e);
	meta = ml_model_meta_json(ml_artefact_model(a));
	CHECK(js && meta && !strcmp(js, meta));
	free(js);
	free(meta);
	CHECK(ml_artefact_digest(a, d1, &e) == 0 &&
	      ml_model_digest(ml_artefact_model(a), d2, &e) == 0 && !strcmp(d1, d2));
	ml_artefact_free(a);
	ml_artefact_free(NULL);
}

/* A kind this libml does not know, and a known kind whose content does not check out,
 * both load for their metadata and refuse everything else. */
static void test_unknown_and_damaged(void)
{
	struct ml_model *m = ml_model_new("future-kind", NULL);
	struct ml_artefact *a;
	struct ml_schema s;
	struct ml_frame t;
	struct ml_err e;
	char *js;

	ml_err_init(&e);
	a = ml_artefact_from_model(m, "p.mlm", &e);
	CHECK(a && ml_artefact_flags(a) == 0);
	if (a) {
		CHECK(ml_artefact_check(a, &e) < 0);
		CHECK(!strcmp(e.msg, "a 'future-kind' artefact, a kind this mlpipe does not know "
				     "(written by a newer one?)"));
		CHECK(ml_scorer_new(a, NULL, &e) == NULL);
		CHECK((js = ml_artefact_describe(a, &e)) != NULL);
		free(js);
		CHECK(ml_artefact_tables(a)[0] == NULL);
		ml_frame_init(&t);
		CHECK(ml_artefact_table(a, "x", &t, &e) == ML_E_USAGE);
		CHECK(!strcmp(e.msg, "p.mlm: a 'future-kind' artefact has no tables"));
		ml_frame_release(&t);
		ml_artefact_free(a);
	}
	/* A model of an algorithm this libml lacks: metadata yes, scoring no. */
	m = ml_model_new("model", "nosuch");
	ml_model_meta_set(m, "task", "\"regress\"", &e);
	a = ml_artefact_from_model(m, "n.mlm", &e);
	CHECK(a && ml_artefact_flags(a) == (ML_ARTEFACT_FINAL | ML_ARTEFACT_KNOWN));
	if (a) {
		ml_err_init(&e);
		CHECK(ml_artefact_check(a, &e) == ML_E_DATA);
		CHECK(!strcmp(e.msg, "unknown algorithm 'nosuch'") && !strcmp(e.where, "n.mlm"));
		ml_schema_init(&s);
		CHECK(ml_artefact_input_schema(a, &s, &e) == ML_E_DATA);
		ml_schema_release(&s);
		CHECK(ml_scorer_new(a, NULL, &e) == NULL && e.code == ML_E_DATA);
		CHECK((js = ml_artefact_describe(a, &e)) && strstr(js, "\"nosuch\""));
		free(js);
		ml_artefact_free(a);
	}
}

/* Options the model cannot honour are refused when the scorer is made. */
static void test_scorer_options(void)
{
	struct ml_artefact *a = gbdt_artefact();
	struct ml_apply_opts o;
	struct ml_scorer *s;
	struct ml_err e;

	ml_err_init(&e);
	if (!a) {
		CHECK(a != NULL);
		return;
	}
	ml_apply_opts_init(&o);
	CHECK(o.proba == 1 && o.margin == 0);
	o.std = 1;
	CHECK(ml_scorer_new(a, &o, &e) == NULL && e.code == ML_E_USAGE);
	CHECK(!strcmp(e.msg, "-a gbdt models give no predictive standard deviation (it is for "
			     "regression)"));
	ml_apply_opts_init(&o);
	o.leaf = o.contrib = 1;
	s = ml_scorer_new(a, &o, &e);
	CHECK(s != NULL);
	ml_scorer_free(s);
	ml_artefact_free(a);
}

/* Scorers of one artefact on two threads give the bytes one scorer gives. */
struct job {
	const struct ml_artefact *a;
	char *csv;
	size_t len;
	int rc;
};

static void *score_all(void *arg)
{
	struct job *j = arg;
	struct ml_apply_opts o;
	struct ml_scorer *s;
	const struct ml_schema *out;
	const struct ml_block *b;
	struct ml_write_opts wo;
	struct ml_writer *w;
	struct ml_err e;
	FILE *fp = open_memstream(&j->csv, &j->len);

	ml_err_init(&e);
	ml_apply_opts_init(&o);
	o.contrib = 1;
	j->rc = -1;
	s = ml_scorer_new(j->a, &o, &e);
	ml_write_opts_init(&wo);
	if (s && fp && ml_scorer_bind(s, &penguins.schema, &out, &e) == 0 &&
	    ml_scorer_apply(s, &penguins.rows, 0, penguins.rows.nrow, &b, &e) == 0 &&
	    (w = ml_writer_open(fp, "out", out, &wo, &e))) {
		j->rc = ml_writer_write(w, b, 0, b->nrow, &e);
		if (j->rc == 0)
			j->rc = ml_writer_finish(w, &e);
		ml_writer_free(w);
	}
	if (fp)
		fclose(fp);
	ml_scorer_free(s);
	return NULL;
}

static void test_shared_artefact(void)
{
	struct ml_artefact *a = gbdt_artefact();
	struct job J[3];
	pthread_t th[2];
	int k;

	if (!a) {
		CHECK(a != NULL);
		return;
	}
	memset(J, 0, sizeof(J));
	for (k = 0; k < 3; k++)
		J[k].a = a;
	score_all(&J[0]);
	for (k = 0; k < 2; k++)
		CHECK(pthread_create(&th[k], NULL, score_all, &J[k + 1]) == 0);
	for (k = 0; k < 2; k++)
		pthread_join(th[k], NULL);
	CHECK(J[0].rc == 0 && J[1].rc == 0 && J[2].rc == 0);
	CHECK(J[0].len > 1000 && !strncmp(J[0].csv, "pred,p_Adelie,p_Chinstrap,p_Gentoo,contrib_", 43));
	for (k = 1; k < 3; k++)
		CHECK(J[k].len == J[0].len && J[k].csv && !memcmp(J[k].csv, J[0].csv, J[0].len));
	for (k = 0; k < 3; k++)
		free(J[k].csv);
	ml_artefact_free(a);
}

/* A chain whose transform holds rows back (interpolation) keeps the kept columns with their
 * own rows, in blocks of any size, and a final finish gives the rest. */
static char *run_chain(struct ml_chain *c, const struct ml_frame *f, size_t step, int *rc)
{
	const struct ml_schema *out;
	const struct ml_block *b;
	struct ml_write_opts wo;
	struct ml_writer *w = NULL;
	struct ml_err e;
	char *buf = NULL;
	size_t len = 0, at;
	FILE *fp = open_memstream(&buf, &len);

	ml_err_init(&e);
	ml_write_opts_init(&wo);
	*rc = -1;
	if (!fp || ml_chain_bind(c, &f->schema, "date,temp_max", &out, &e) < 0 ||
	    !(w = ml_writer_open(fp, "out", out, &wo, &e)))
		goto out;
	for (at = 0; at < f->rows.nrow; at += step) {
		size_t to = at + step < f->rows.nrow ? at + step : f->rows.nrow;
		if ((*rc = ml_chain_apply(c, &f->rows, at, to, &b, &e)) < 0 ||
		    (*rc = ml_writer_write(w, b, 0, b->nrow, &e)) < 0)
			goto out;
	}
	while ((*rc = ml_chain_finish(c, &b, &e)) > 0)
		if ((*rc = ml_writer_write(w, b, 0, b->nrow, &e)) < 0)
			goto out;
	if (*rc == 0)
		*rc = ml_writer_finish(w, &e);
out:
	if (*rc < 0)
		fprintf(stderr, "chain: %s: %s\n", e.where, e.msg);
	ml_writer_free(w);
	if (fp)
		fclose(fp);
	return buf;
}

static void test_chain_holds(void)
{
	struct ml_frame f;
	struct ml_feat_spec spec;
	struct ml_feat_step step = {"impute", "interpolate:temp_max"};
	struct ml_features *fp = NULL;
	struct ml_model *m = NULL, *lm = NULL;
	struct ml_artefact *a[2] = {NULL, NULL};
	struct ml_train_spec ts;
	struct ml_learner *l = NULL;
	struct ml_chain *c = NULL;
	const struct ml_block *rows;
	struct ml_ctx ctx;
	struct ml_err e;
	char *one = NULL, *many = NULL;
	struct ml_schema types;
	int rc1 = -1, rc2 = -1;
	size_t i;

	ml_schema_init(&types);
	ml_err_init(&e);
	CHECK(unit_read_frame(&f, NULL, "samples/seattle_weather.csv", NULL) == 0);
	CHECK(ml_ctx_init(&ctx, 1, 1, &e) == 0);
	/* Some temperatures missing, so that rows are held. */
	for (i = 3; i < f.rows.nrow; i += 7)
		f.rows.col[ml_schema_find(&f.schema, "temp_max")].num[i] = NAN;
	ml_feat_spec_init(&spec);
	spec.time_col = "date";
	spec.nsteps = 1;
	spec.steps = &step;
	CHECK(ml_features_fit(&fp, &f, &spec, &ctx, &rows, &e) == 0);
	if (fp && ml_features_to_model(fp, &m, &e) == 0)
		a[0] = ml_artefact_from_model(m, "interp.mlm", &e);
	CHECK(a[0] && ml_artefact_flags(a[0]) == (ML_ARTEFACT_TRANSFORM | ML_ARTEFACT_KNOWN));
	/* A model after it, on columns the pipeline passes on. */
	memset(&ts, 0, sizeof(ts));
	ts.target = "temp_min";
	ts.ignore = "date,weather,temp_max";
	ml_params_init(&ts.params, ml_algo_find("linear"));
	CHECK(ml_learner_fit(&l, &f, NULL, 0, NULL, 0, &ts, &ctx, &e) == 0);
	if (l && ml_learner_to_model(l, &lm, &e) == 0)
		a[1] = ml_artefact_from_model(lm, "lin.mlm", &e);
	if (a[0] && a[1] && (c = ml_chain_new((const struct ml_artefact *const *)a, 2, NULL, &e))) {
		CHECK(ml_chain_input_types(c, &types, &e) == 0 && types.ncol == 6);
		one = run_chain(c, &f, f.rows.nrow, &rc1);
		many = run_chain(c, &f, 5, &rc2);
	}
	CHECK(c != NULL && rc1 == 0 && rc2 == 0);
	CHECK(one && many && !strcmp(one, many));
	/* Every row, the kept temperature as read (missing where it was made so). */
	CHECK(one && !strncmp(one, "date,temp_max,pred\n2012/01/01,12.8,", 35));
	CHECK(one && !strncmp(strchr(strchr(strchr(strchr(one, '\n') + 1, '\n') + 1, '\n') + 1,
				       '\n') + 1, "2012/01/04,,", 12));
	for (i = 0, rc1 = 0; one && one[i]; i++)
		rc1 += one[i] == '\n';
	CHECK(rc1 == (int)f.rows.nrow + 1);
	free(one);
	free(many);
	ml_chain_free(c);
	ml_artefact_free(a[0]);
	ml_artefact_free(a[1]);
	ml_learner_free(l);
	ml_schema_release(&types);
	ml_features_free(fp);
	ml_ctx_release(&ctx);
	ml_frame_release(&f);
}

/* A final artefact must come last; a kept column may not take an output's name. */
static void test_chain_rules(void)
{
	struct ml_artefact *a = gbdt_artefact(), *two[2];
	struct ml_chain *c;
	const struct ml_schema *out;
	struct ml_err e;

	ml_err_init(&e);
	if (!a) {
		CHECK(a != NULL);
		return;
	}
	two[0] = two[1] = a;
	CHECK(ml_chain_new((const struct ml_artefact *const *)two, 2, NULL, &e) == NULL);
	CHECK(e.code == ML_E_USAGE && !strcmp(e.msg, "-m pg.mlm: a model must be the last artefact"));
	CHECK(ml_chain_new((const struct ml_artefact *const *)two, 0, NULL, &e) == NULL);
	c = ml_chain_new((const struct ml_artefact *const *)&a, 1, NULL, &e);
	CHECK(c != NULL);
	if (c) {
		CHECK(ml_chain_bind(c, &penguins.schema, "species", &out, &e) == 0);
		CHECK(out->ncol == 5 && !strcmp(out->cols[0].name, "species") &&
		      !strcmp(out->cols[1].name, "pred"));
		ml_chain_free(c);
	}
	ml_artefact_free(a);
}

/* A scorer used alone: a model holds no rows and a pool changes no byte of its scores; a
 * transform that holds rows back gives every row, in order, by the end of its finish. */
static void test_scorer_direct(void)
{
	struct ml_artefact *g = gbdt_artefact(), *t = NULL;
	struct ml_scorer *s1 = NULL, *s2 = NULL, *s3 = NULL;
	struct ml_pool *pool = ml_pool_new(3);
	const struct ml_schema *o1 = NULL, *o2 = NULL, *o3 = NULL;
	const struct ml_block *b1, *b2;
	struct ml_feat_spec spec;
	struct ml_feat_step step = {"impute", "interpolate:temp_max"};
	struct ml_features *fp = NULL;
	struct ml_model *m = NULL;
	const struct ml_block *rows;
	struct ml_frame w;
	struct ml_ctx ctx;
	struct ml_err e;
	size_t n = penguins.rows.nrow, at, got = 0;
	int j, ok = 1, held = 0, date = -1, odate;

	ml_err_init(&e);
	ml_frame_init(&w);
	CHECK(g && pool);
	if (g) {
		s1 = ml_scorer_new(g, NULL, &e);
		s2 = ml_scorer_new(g, NULL, &e);
	}
	CHECK(s1 && s2);
	if (s1 && s2) {
		CHECK(ml_scorer_holds_rows(s1) == 0);
		ml_scorer_set_pool(s2, pool);
		CHECK(ml_scorer_bind(s1, &penguins.schema, &o1, &e) == 0);
		CHECK(ml_scorer_bind(s2, &penguins.schema, &o2, &e) == 0);
		CHECK(ml_scorer_apply(s1, &penguins.rows, 0, n, &b1, &e) == 0);
		CHECK(ml_scorer_apply(s2, &penguins.rows, 0, n, &b2, &e) == 0);
		CHECK(o1 && o2 && o1->ncol == 4 && o2->ncol == 4 && b1->nrow == n && b2->nrow == n);
		for (j = 0; o1 && o2 && j < o1->ncol && b1->nrow == n && b2->nrow == n; j++)
			ok &= o1->cols[j].type == ML_NUM
				  ? !memcmp(b1->col[j].num, b2->col[j].num, n * sizeof(double))
				  : !memcmp(b1->col[j].cat, b2->col[j].cat, n * sizeof(int32_t));
		CHECK(ok);
		CHECK(ml_scorer_finish(s1, &b1, &e) == 0 && b1->nrow == 0);
	}
	/* interpolation holds rows until it sees the next present value */
	if (unit_read_frame(&w, NULL, "samples/seattle_weather.csv", NULL) < 0)
		goto out;
	for (at = 3; at < w.rows.nrow; at += 7)
		w.rows.col[ml_schema_find(&w.schema, "temp_max")].num[at] = NAN;
	CHECK(ml_ctx_init(&ctx, 1, 1, &e) == 0);
	ml_feat_spec_init(&spec);
	spec.time_col = "date";
	spec.nsteps = 1;
	spec.steps = &step;
	CHECK(ml_features_fit(&fp, &w, &spec, &ctx, &rows, &e) == 0);
	if (fp && ml_features_to_model(fp, &m, &e) == 0)
		t = ml_artefact_from_model(m, "interp.mlm", &e);
	ml_features_free(fp);
	ml_ctx_release(&ctx);
	s3 = t ? ml_scorer_new(t, NULL, &e) : NULL;
	CHECK(s3 && ml_scorer_holds_rows(s3) == 1);
	if (!s3 || ml_scorer_bind(s3, &w.schema, &o3, &e) < 0) {
		CHECK(0);
		goto out;
	}
	date = ml_schema_find(&w.schema, "date");
	odate = ml_schema_find(o3, "date");
	CHECK(date >= 0 && odate >= 0);
	for (at = 0, ok = 1; at <= w.rows.nrow && date >= 0 && odate >= 0; at += 5) {
		size_t to = at + 5 < w.rows.nrow ? at + 5 : w.rows.nrow, i;
		int rc = at < w.rows.nrow ? ml_scorer_apply(s3, &w.rows, at, to, &b1, &e)
					  : ml_scorer_finish(s3, &b1, &e);
		CHECK(rc >= 0);
		if (rc < 0)
			break;
		if (at < w.rows.nrow && b1->nrow < to - at)
			held = 1;
		for (i = 0; i < b1->nrow && got + i < w.rows.nrow; i++)
			ok &= !strcmp(o3->cols[odate].dict.str[b1->col[odate].cat[i]],
				      w.schema.cols[date].dict.str[w.rows.col[date].cat[got + i]]);
		got += b1->nrow;
	}
	CHECK(ok && held && got == w.rows.nrow);
out:
	ml_scorer_free(s1);
	ml_scorer_free(s2);
	ml_scorer_free(s3);
	ml_artefact_free(g);
	ml_artefact_free(t);
	ml_pool_free(pool);
	ml_frame_release(&w);
}

int main(void)
{
	if (unit_read_frame(&penguins, NULL, "samples/penguins.csv", NULL) < 0) {
		printf("not ok read_penguins\n");
		return 1;
	}
	RUN(test_model_kind);
	RUN(test_unknown_and_damaged);
	RUN(test_scorer_options);
	RUN(test_scorer_direct);
	RUN(test_shared_artefact);
	RUN(test_chain_holds);
	RUN(test_chain_rules);
	ml_frame_release(&penguins);
	return UNIT_EXIT();
}
