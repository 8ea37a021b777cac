/* mlinfo: print an artefact's metadata as JSON, its tables as CSV, or check it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "ml/artefact.h"

const char cmd_name[] = "mlinfo";

static const char usage[] =
	"Usage: mlinfo [OPTION]... ARTEFACT\n"
	"Print the metadata of an ml-model file (a model, a feature pipeline, an ensemble,\n"
	"any kind) as JSON, one of a model's tables as CSV, or check the file.\n"
	"With ARTEFACT -, read standard input.\n"
	"\n"
	"      --table=NAME       print the model's table NAME as CSV (coef, importance, ...;\n"
	"                         the metadata lists a model's tables under \"tables\")\n"
	"      --check            check the file (digest, sections, the model's numbers):\n"
	"                         exit 0 when sound, 65 with the reason when not\n"
	"      --sections         print the file's sections and their sizes as CSV\n"
	"\n";

static const char usage_tail[] =
	"\n"
	"Exit status: 0 success, 2 usage, 65 a malformed or damaged file, 66 cannot open\n"
	"input, 70 internal error, 71 out of memory, 74 read/write error.\n"
	"Full documentation: man mlinfo\n";

enum { O_TABLE = 1, O_CHECK, O_SECTIONS };

static const struct option own[] = {{"table", required_argument, NULL, O_TABLE},
				    {"check", no_argument, NULL, O_CHECK},
				    {"sections", no_argument, NULL, O_SECTIONS},
				    {NULL, 0, NULL, 0}};

static const struct cli_help help[] = {
	{CLI_FORMAT, "format of --table and --sections: csv (default),\ntsv or stream"},
	{CLI_VERBOSE, "with --check: print 'FILE: ok' when the file is sound"},
	{0, NULL}};

/* mlinfo reads no tables, draws nothing at random and prints no warnings: it takes the
 * output options and -v alone. */
static const struct cli_cmd cmd = {"mlinfo", usage, usage_tail, own, "", CLI_OUTPUT | CLI_VERBOSE,
				   help};

/* JSON text, pretty-printed: two spaces per level, keys in stored order, arrays of
 * scalars on one line, numbers in the shortest form that reads back the same. */
static void put_string(FILE *fp, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', fp);
	for (; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", fp);
			break;
		case '\\':
			fputs("\\\\", fp);
			break;
		case '\n':
			fputs("\\n", fp);
			break;
		case '\t':
			fputs("\\t", fp);
			break;
		case '\r':
			fputs("\\r", fp);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(fp, "\\u%04x", *p);
			else
				fputc(*p, fp);
		}
	}
	fputc('"', fp);
}

static void put_number(FILE *fp, double v)
{
	char buf[ML_FMT_DOUBLE_MAX + 1];

	if (!isfinite(v)) {
		fputs("null", fp);
		return;
	}
	ml_fmt_double(buf, v);
	fputs(buf, fp);
}

static int is_scalar(const cJSON *j)
{
	return !cJSON_IsArray(j) && !cJSON_IsObject(j);
}

static void put_json(FILE *fp, const cJSON *j, int depth)
{
	const cJSON *c;
	int first = 1, flat = 1;

	if (cJSON_IsObject(j) || cJSON_IsArray(j)) {
		int obj = cJSON_IsObject(j);
		if (!j->child) {
			fputs(obj ? "{}" : "[]", fp);
			return;
		}
		if (!obj)
			for (c = j->child; c; c = c->next)
				flat &= is_scalar(c);
		if (!obj && flat) {
			fputc('[', fp);
			for (c = j->child; c; c = c->next) {
				if (!first)
					fputs(", ", fp);
				first = 0;
				put_json(fp, c, depth + 1);
			}
			fputc(']', fp);
			return;
		}
		fputs(obj ? "{\n" : "[\n", fp);
		for (c = j->child; c; c = c->next) {
			if (!first)
				fputs(",\n", fp);
			first = 0;
			fprintf(fp, "%*s", 2 * (depth + 1), "");
			if (obj) {
				put_string(fp, c->string ? c->string : "");
				fputs(": ", fp);
			}
			put_json(fp, c, depth + 1);
		}
		fprintf(fp, "\n%*s%c", 2 * depth, "", obj ? '}' : ']');
	} else if (cJSON_IsString(j)) {
		put_string(fp, j->valuestring);
	} else if (cJSON_IsNumber(j)) {
		put_number(fp, j->valuedouble);
	} else if (cJSON_IsTrue(j)) {
		fputs("true", fp);
	} else if (cJSON_IsFalse(j)) {
		fputs("false", fp);
	} else {
		fputs("null", fp);
	}
}

/* Write a frame as a table (CSV by default). */
static int put_frame(const struct cli *c, FILE *fp, const struct ml_frame *f, struct ml_err *e)
{
	struct ml_write_opts wo;
	struct ml_writer *w;
	int rc;

	cli_write_opts(c, &wo);
	w = ml_writer_open(fp, cli_output_name(c), &f->schema, &wo, e);
	if (!w)
		return e->code ? e->code : ML_E_NOMEM;
	rc = ml_writer_write(w, &f->rows, 0, f->rows.nrow, e);
	if (rc == 0)
		rc = ml_writer_finish(w, e);
	ml_writer_free(w);
	return rc;
}

static int print_sections(const struct cli *c, FILE *fp, const struct ml_model *m,
			  struct ml_err *e)
{
	struct ml_frame f;
	int i, n = ml_model_nsections(m), rc;

	ml_frame_init(&f);
	if (ml_schema_add(&f.schema, "section", ML_CAT) < 0 ||
	    ml_schema_add(&f.schema, "bytes", ML_NUM) < 0 ||
	    ml_block_init(&f.rows, &f.schema, (size_t)(n ? n : 1), e) < 0) {
		ml_frame_release(&f);
		return ml_err_nomem(e);
	}
	for (i = 0; i < n; i++) {
		const char *name = ml_model_section_name(m, i);
		const void *data;
		size_t len;
		int32_t code = ml_dict_intern(&f.schema.cols[0].dict, name, strlen(name));
		if (code < 0) {
			ml_frame_release(&f);
			return ml_err_nomem(e);
		}
		if ((rc = ml_model_get(m, name, &data, &len, e)) < 0) {
			ml_frame_release(&f);
			return rc;
		}
		f.rows.col[0].cat[i] = code;
		f.rows.col[1].num[i] = (double)len;
	}
	f.rows.nrow = (size_t)n;
	rc = put_frame(c, fp, &f, e);
	ml_frame_release(&f);
	return rc;
}

static int print_table(const struct cli *c, FILE *fp, const struct ml_artefact *a,
		       const char *table, struct ml_err *e)
{
	struct ml_frame f;
	int rc;

	ml_frame_init(&f);
	rc = ml_artefact_table(a, table, &f, e);
	if (rc == 0)
		rc = put_frame(c, fp, &f, e);
	ml_frame_release(&f);
	return rc;
}

static int print_meta(FILE *fp, const struct ml_artefact *a, struct ml_err *e)
{
	char *txt = ml_artefact_describe(a, e);
	cJSON *j = txt ? cJSON_Parse(txt) : NULL;

	free(txt);
	if (!j)
		return e->code ? e->code : ml_err_nomem(e);
	put_json(fp, j, 0);
	fputc('\n', fp);
	cJSON_Delete(j);
	return 0;
}

int cmd_main(int argc, char **argv)
{
	struct cli c;
	struct ml_output *out = NULL;
	struct ml_artefact *a = NULL;
	struct ml_err e;
	const char *table = NULL, *path;
	int ch, rc = 0, check = 0, sections = 0;

	ml_err_init(&e);
	if ((rc = cli_init(&c, &cmd)) != 0)
		return rc;
	while ((ch = cli_next(&c, argc, argv, &rc)) != -1) {
		switch (ch) {
		case CLI_DONE:
			goto done;
		case O_TABLE:
			table = optarg;
			break;
		case O_CHECK:
			check = 1;
			break;
		case O_SECTIONS:
			sections = 1;
			break;
		default:
			rc = cli_usage(&c, "unrecognized option '%s'", argv[optind - 1]);
			goto done;
		}
	}
	if (check + sections + (table != NULL) > 1) {
		rc = cli_usage(&c, "--table, --check and --sections cannot be combined");
		goto done;
	}
	if (check && c.output) {
		rc = cli_usage(&c, "--check writes nothing: -o cannot be combined with it");
		goto done;
	}
	if (argc - optind != 1) {
		rc = cli_usage(&c, argc - optind ? "one ARTEFACT at a time" : "no ARTEFACT given");
		goto done;
	}
	path = argv[optind];
	a = ml_artefact_load(path, &e);
	if (!a) {
		rc = cli_fail(&c, &e);
		goto done;
	}
	if (check) {
		/* Beyond the container: the content must load into a working scorer. */
		if (!(ml_artefact_flags(a) & ML_ARTEFACT_KNOWN)) {
			const char *k = ml_artefact_kind(a);
			cli_warn(&c,
				 "%s: a '%s' artefact, a kind this mlpipe does not know: only the "
				 "container was checked",
				 ml_artefact_name(a), k);
		} else if (ml_artefact_check(a, &e) < 0) {
			rc = cli_fail(&c, &e);
			goto done;
		}
		cli_info(&c, "%s: ok", ml_artefact_name(a));
		goto done;
	}
	if (table)
		out = cli_open_output(&c, c.output, &rc);
	else if (!(out = ml_output_open(c.output, &e)))
		rc = cli_fail(&c, &e);
	if (!out)
		goto done;
	if (table)
		rc = print_table(&c, ml_output_file(out), a, table, &e);
	else if (sections)
		rc = print_sections(&c, ml_output_file(out), ml_artefact_model(a), &e);
	else
		rc = print_meta(ml_output_file(out), a, &e);
	if (rc < 0) {
		rc = cli_fail(&c, &e);
		goto done;
	}
	rc = ml_output_commit(out, &e);
	out = NULL;
	if (rc < 0)
		rc = cli_fail(&c, &e);
done:
	if (out)
		ml_output_abort(out);
	ml_artefact_free(a);
	cli_release(&c);
	return rc;
}
