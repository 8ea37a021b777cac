/* Makes the seeds that the commands cannot: tests/fuzz/seeds.sh runs it.
 *	mkseed pieces OPT IN.mlm OUT      a model as fuzz_model's pieces, option byte OPT
 *	mkseed forecaster METHOD M OUT    a forecaster of a short monthly series, season M
 *	mkseed nest OUT A.mlm B.mlm       a container (kind "ensemble") with A and B as members
 *	mkseed stream OUT                 a stream whose dictionaries grow between blocks */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml.h"

static int die(const char *what, const struct ml_err *e)
{
	fprintf(stderr, "mkseed: %s: %s\n", what, e ? e->msg : "failed");
	return 1;
}

/* The pieces of m at level (see fuzz_model.c). */
static void pieces(FILE *fp, const struct ml_model *m, int level)
{
	static const char sep[2][5] = {"\xff\xfeS0", "\xff\xfeS1"};
	char *meta = ml_model_meta_json(m);
	int i;

	fputs(meta, fp);
	free(meta);
	for (i = 0; i < ml_model_nsections(m); i++) {
		const char *name = ml_model_section_name(m, i);
		struct ml_model *c = level == 0 ? ml_model_get_member(m, name, NULL) : NULL;
		const void *d;
		size_t n;

		fprintf(fp, "%s%s\n", sep[level], name);
		if (c) {
			fputs("\xff\xfeN", fp);
			pieces(fp, c, 1);
			ml_model_free(c);
		} else if (ml_model_get(m, name, &d, &n, NULL) == 0) {
			fwrite(d, 1, n, fp);
		}
	}
}

static int cmd_pieces(int opt, const char *in, const char *out)
{
	struct ml_err e;
	struct ml_model *m = ml_model_load(in, &e);
	FILE *fp;

	if (!m)
		return die(in, &e);
	if (!(fp = fopen(out, "wb")))
		return die(out, NULL);
	fputc(opt, fp);
	pieces(fp, m, 0);
	ml_model_free(m);
	return fclose(fp) != 0;
}

static int cmd_forecaster(const char *method, int season, const char *out)
{
	static const double y[30] = {112, 118, 132, 129, 121, 135, 148, 148, 136, 119,
				     104, 118, 115, 126, 141, 135, 125, 149, 170, 170,
				     158, 133, 114, 140, 145, 150, 178, 163, 172, 178};
	const struct ml_fc_method *fm = ml_fc_method_find(method);
	struct ml_forecaster *f = NULL;
	struct ml_model *m = NULL;
	struct ml_series s;
	struct ml_params p;
	struct ml_err e;

	if (!fm)
		return die(method, NULL);
	memset(&s, 0, sizeof(s));
	s.y = y;
	s.n = 30;
	if (season) {
		s.season[0] = season;
		s.nseason = 1;
	}
	ml_fc_params_init(&p, fm);
	if (ml_fc_fit(&f, fm, &s, &p, NULL, &e) != 0 || ml_fc_to_model(f, &m, &e) != 0 ||
	    ml_model_set_created(m, 0, &e) != 0 || ml_model_save(m, out, &e) != 0)
		return die(method, &e);
	ml_model_free(m);
	ml_fc_free(f);
	return 0;
}

static int cmd_nest(const char *out, const char *a, const char *b)
{
	struct ml_model *m = ml_model_new("ensemble", "vote"), *ma, *mb;
	struct ml_err e;

	if (!m || !(ma = ml_model_load(a, &e)) || !(mb = ml_model_load(b, &e)))
		return die("nest", NULL);
	if (ml_model_set_created(m, 0, &e) != 0 || ml_model_meta_set(m, "members", "[\"a\",\"b\"]", &e) ||
	    ml_model_add_member(m, "member.a", ma, &e) != 0 ||
	    ml_model_add_member(m, "member.b", mb, &e) != 0 || ml_model_save(m, out, &e) != 0)
		return die("nest", &e);
	ml_model_free(m);
	ml_model_free(ma);
	ml_model_free(mb);
	return 0;
}

static int cmd_stream(const char *out)
{
	static const char *const words[] = {"red", "green", "blue", "", "red", "cyan", "magenta"};
	struct ml_write_opts wo;
	struct ml_writer *w;
	struct ml_schema s;
	struct ml_block b;
	struct ml_err e;
	FILE *fp = fopen(out, "wb");
	int i;

	if (!fp)
		return die(out, NULL);
	ml_schema_init(&s);
	if (ml_schema_add(&s, "x", ML_NUM) < 0 || ml_schema_add(&s, "colour", ML_CAT) < 0 ||
	    ml_block_init(&b, &s, 2, &e) < 0)
		return die("schema", NULL);
	ml_write_opts_init(&wo);
	wo.format = ML_FMT_STREAM;
	if (!(w = ml_writer_open(fp, out, &s, &wo, &e)))
		return die(out, &e);
	/* two rows a block, a new colour in most */
	for (i = 0; i < 7; i++) {
		size_t r = (size_t)i % 2;
		b.col[0].num[r] = i == 3 ? 0.0 / 0.0 : i * 1.5;
		b.col[1].cat[r] = words[i][0] ? ml_dict_intern(&s.cols[1].dict, words[i],
							       strlen(words[i])) :
						ML_MISSING_CAT;
		b.nrow = r + 1;
		if ((r == 1 || i == 6) && ml_writer_write(w, &b, 0, b.nrow, &e) != 0)
			return die(out, &e);
	}
	if (ml_writer_finish(w, &e) != 0)
		return die(out, &e);
	ml_writer_free(w);
	ml_block_release(&b);
	ml_schema_release(&s);
	return fclose(fp) != 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "pieces"))
		return cmd_pieces((int)strtol(argv[2], NULL, 0), argv[3], argv[4]);
	if (argc == 5 && !strcmp(argv[1], "forecaster"))
		return cmd_forecaster(argv[2], (int)strtol(argv[3], NULL, 10), argv[4]);
	if (argc == 5 && !strcmp(argv[1], "nest"))
		return cmd_nest(argv[2], argv[3], argv[4]);
	if (argc == 3 && !strcmp(argv[1], "stream"))
		return cmd_stream(argv[2]);
	fputs("usage: mkseed pieces OPT IN OUT | forecaster METHOD M OUT | nest OUT A B | "
	      "stream OUT\n",
	      stderr);
	return 2;
}
