/* mlcat: convert and concatenate tables; print their schema or summary statistics. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const char cmd_name[] = "mlcat";

static const char usage[] =
	"Usage: mlcat [OPTION]... [FILE]...\n"
	"Concatenate tables (CSV, TSV, gzip or ml-stream; columns matched by name) and write\n"
	"them as CSV, TSV or ml-stream. With no FILE, or when FILE is -, read standard input.\n"
	"\n"
	"      --schema           print each column's name, type and category count\n"
	"      --describe         print summary statistics per column\n"
	"      --select=COLS      keep only these columns, in this order\n"
	"      --head=N           stop after N rows\n"
	"\n";

static const char usage_tail[] =
	"\n"
	"COLS: names, 1-based indices, ranges (2-5) and !negation, comma-separated.\n"
	"Exit status: 0 success, 2 usage, 65 bad input data, 66 cannot open input,\n"
	"70 internal error, 71 out of memory, 74 read/write error.\n"
	"Full documentation: man mlcat\n";

enum { O_SCHEMA = 1, O_DESCRIBE, O_SELECT, O_HEAD };

static const struct option own[] = {{"schema", no_argument, NULL, O_SCHEMA},
				    {"describe", no_argument, NULL, O_DESCRIBE},
				    {"select", required_argument, NULL, O_SELECT},
				    {"head", required_argument, NULL, O_HEAD},
				    {NULL, 0, NULL, 0}};

static const struct cli_help help[] = {
	{CLI_SEED, "seed of --describe's quantile sketches (default 42)"}, {0, NULL}};

static const struct cli_cmd cmd = {"mlcat", usage, usage_tail, own, "",
				   CLI_INPUT | CLI_OUTPUT | CLI_SEED, help};

/* Where each output column comes from in the current input, and how its codes map. */
struct binding {
	int src;           /* column in the input */
	int32_t *map;      /* input code -> output code, for categorical columns */
	int32_t nmap, cap; /* entries mapped so far */
};

struct cat {
	struct cli cli;
	int schema_mode, describe_mode;
	const char *select;
	long long head;
	struct ml_schema out;  /* the output schema; dictionaries grow as rows come */
	struct ml_block blk;   /* rows mapped to the output schema */
	struct binding *bind;
	int *sel;              /* output column -> column of the first input */
	int nsel;
	struct ml_writer *w;
	struct ml_describe *desc;
	unsigned long long rows;
};

/* Bind the output columns to the columns of an input by name. */
static int bind_input(struct cat *c, const struct ml_schema *in, const char *name,
		      struct ml_err *e)
{
	int j;

	for (j = 0; j < c->out.ncol; j++) {
		int k = ml_schema_find(in, c->out.cols[j].name);
		if (k < 0)
			return ml_err_set(e, ML_E_DATA, name, 0, 0, "no column '%s' (the first input has it)",
					  c->out.cols[j].name);
		if (in->cols[k].type != c->out.cols[j].type)
			return ml_err_set(e, ML_E_DATA, name, 0, 0,
					  "column '%s' is %s here but %s in the first input",
					  c->out.cols[j].name,
					  in->cols[k].type == ML_NUM ? "numeric" : "categorical",
					  c->out.cols[j].type == ML_NUM ? "numeric" : "categorical");
		c->bind[j].src = k;
		c->bind[j].nmap = 0;
	}
	if (!c->select)
		for (j = 0; j < in->ncol; j++)
			if (ml_schema_find(&c->out, in->cols[j].name) < 0)
				return ml_err_set(e, ML_E_DATA, name, 0, 0,
						  "column '%s' is not in the first input",
						  in->cols[j].name);
	return 0;
}

/* Map a block of the input to the output schema. */
static int map_block(struct cat *c, const struct ml_schema *in, const struct ml_block *b,
		     size_t n, struct ml_err *e)
{
	int j;
	size_t i;

	if (ml_block_reserve(&c->blk, n, e) < 0)
		return ML_E_NOMEM;
	for (j = 0; j < c->out.ncol; j++) {
		struct binding *bd = &c->bind[j];
		if (c->out.cols[j].type == ML_NUM) {
			memcpy(c->blk.col[j].num, b->col[bd->src].num, n * sizeof(double));
			continue;
		}
		/* Extend the code map to the input dictionary's current size. */
		{
			const struct ml_dict *d = &in->cols[bd->src].dict;
			if (d->n > bd->cap) {
				int32_t *m = realloc(bd->map, (size_t)d->n * sizeof(*m));
				if (!m)
					return ml_err_nomem(e);
				bd->map = m;
				bd->cap = d->n;
			}
			while (bd->nmap < d->n) {
				int32_t code = ml_dict_intern(&c->out.cols[j].dict, d->str[bd->nmap],
							      d->len[bd->nmap]);
				if (code < 0)
					return code == ML_E_NOMEM ? ml_err_nomem(e) :
						ml_err_set(e, ML_E_DATA, NULL, 0, 0,
							   "too many categories in column '%s'",
							   c->out.cols[j].name);
				bd->map[bd->nmap++] = code;
			}
			for (i = 0; i < n; i++) {
				int32_t v = b->col[bd->src].cat[i];
				c->blk.col[j].cat[i] = v < 0 ? ML_MISSING_CAT : bd->map[v];
			}
		}
	}
	c->blk.nrow = n;
	return 0;
}

static int setup_output(struct cat *c, const struct ml_schema *first, const char *name,
			struct ml_err *e)
{
	int j, rc;

	ml_schema_init(&c->out);
	if (c->select) {
		int *idx;
		rc = ml_schema_find_or_suggest(first, c->select, "--select", name, &idx, e);
		if (rc < 0)
			return rc;
		for (j = 0; j < rc; j++)
			if (ml_schema_add(&c->out, first->cols[idx[j]].name, first->cols[idx[j]].type) < 0) {
				free(idx);
				return ml_err_nomem(e);
			}
		free(idx);
	} else {
		for (j = 0; j < first->ncol; j++)
			if (ml_schema_add(&c->out, first->cols[j].name, first->cols[j].type) < 0)
				return ml_err_nomem(e);
	}
	c->bind = calloc((size_t)(c->out.ncol ? c->out.ncol : 1), sizeof(*c->bind));
	if (!c->bind)
		return ml_err_nomem(e);
	return ml_block_init(&c->blk, &c->out, ML_BLOCK_ROWS, e);
}

/* Write a small report table in the output format asked for. */
static int write_frame(const struct cat *c, FILE *fp, const struct ml_frame *f, struct ml_err *e)
{
	struct ml_write_opts wo;
	struct ml_writer *w;
	int rc;

	cli_write_opts(&c->cli, &wo);
	w = ml_writer_open(fp, cli_output_name(&c->cli), &f->schema, &wo, e);
	if (!w)
		return e->code;
	if ((rc = ml_writer_write(w, &f->rows, 0, f->rows.nrow, e)) == 0)
		rc = ml_writer_finish(w, e);
	ml_writer_free(w);
	return rc;
}

static int print_schema(struct cat *c, FILE *fp, struct ml_err *e)
{
	struct ml_frame f;
	int j, rc = 0;

	ml_frame_init(&f);
	if (ml_schema_add(&f.schema, "column", ML_CAT) < 0 ||
	    ml_schema_add(&f.schema, "type", ML_CAT) < 0 ||
	    ml_schema_add(&f.schema, "categories", ML_NUM) < 0 ||
	    ml_block_init(&f.rows, &f.schema, (size_t)c->out.ncol, e) < 0) {
		ml_frame_release(&f);
		return ml_err_nomem(e);
	}
	for (j = 0; j < c->out.ncol; j++) {
		const struct ml_col *col = &c->out.cols[j];
		int32_t k = ml_dict_intern(&f.schema.cols[0].dict, col->name, strlen(col->name));
		int32_t t = ml_dict_intern(&f.schema.cols[1].dict, col->type == ML_NUM ? "num" : "cat",
					   3);
		if (k < 0 || t < 0) {
			ml_frame_release(&f);
			return ml_err_nomem(e);
		}
		f.rows.col[0].cat[j] = k;
		f.rows.col[1].cat[j] = t;
		f.rows.col[2].num[j] = col->type == ML_CAT ? (double)col->dict.n : NAN;
	}
	f.rows.nrow = (size_t)c->out.ncol;
	rc = write_frame(c, fp, &f, e);
	ml_frame_release(&f);
	return rc;
}

static int print_describe(struct cat *c, FILE *fp, struct ml_err *e)
{
	struct ml_frame f;
	int rc;

	ml_frame_init(&f);
	if ((rc = ml_describe_result(c->desc, &f, e)) < 0)
		return rc;
	rc = write_frame(c, fp, &f, e);
	ml_frame_release(&f);
	return rc;
}

/* Read one input and pass its rows on. Returns 1 when --head is reached. */
static int cat_one(struct cat *c, const char *path, int first, FILE *fp, struct ml_err *e)
{
	struct ml_read_opts ro;
	struct ml_reader *r;
	const struct ml_block *b;
	long n;
	int rc = 0;

	cli_read_opts(&c->cli, &ro);
	r = ml_reader_open(path, &ro, e);
	if (!r)
		return e->code;
	if (first) {
		if ((rc = setup_output(c, ml_reader_schema(r), ml_reader_name(r), e)) < 0)
			goto out;
		if (c->describe_mode) {
			c->desc = ml_describe_new(&c->out, c->cli.seed_set ? c->cli.seed : 42, e);
			if (!c->desc) {
				rc = e->code;
				goto out;
			}
		} else if (!c->schema_mode) {
			struct ml_write_opts wo;
			cli_write_opts(&c->cli, &wo);
			c->w = ml_writer_open(fp, cli_output_name(&c->cli), &c->out, &wo, e);
			if (!c->w) {
				rc = e->code;
				goto out;
			}
		}
	}
	if ((rc = bind_input(c, ml_reader_schema(r), ml_reader_name(r), e)) < 0)
		goto out;
	while ((n = ml_reader_next(r, &b, e)) > 0) {
		size_t take = (size_t)n;
		if (c->head >= 0 && c->rows + take > (unsigned long long)c->head)
			take = (size_t)((unsigned long long)c->head - c->rows);
		if ((rc = map_block(c, ml_reader_schema(r), b, take, e)) < 0)
			goto out;
		if (c->w && (rc = ml_writer_write(c->w, &c->blk, 0, take, e)) < 0)
			goto out;
		if (c->desc && (rc = ml_describe_add(c->desc, &c->blk, 0, take, e)) < 0)
			goto out;
		c->rows += take;
		if (c->head >= 0 && c->rows >= (unsigned long long)c->head) {
			rc = 1;
			goto out;
		}
	}
	if (n < 0)
		rc = (int)n;
out:
	ml_reader_close(r);
	return rc;
}

int cmd_main(int argc, char **argv)
{
	struct cat c;
	struct ml_output *out = NULL;
	struct ml_err e;
	int ch, rc = 0, i, nfiles;
	long long v;
	char *stdin_only[] = {"-"};
	char **files;

	memset(&c, 0, sizeof(c));
	c.head = -1;
	ml_err_init(&e);
	if ((rc = cli_init(&c.cli, &cmd)) != 0)
		return rc;
	while ((ch = cli_next(&c.cli, argc, argv, &rc)) != -1) {
		switch (ch) {
		case CLI_DONE:
			goto done;
		case O_SCHEMA:
			c.schema_mode = 1;
			break;
		case O_DESCRIBE:
			c.describe_mode = 1;
			break;
		case O_SELECT:
			c.select = optarg;
			break;
		case O_HEAD: {
			long h;
			if (cli_long(&c.cli, "--head", optarg, 0, 0x7fffffffffffffffL, &h) < 0) {
				rc = EX_USAGE_;
				goto done;
			}
			v = h;
			c.head = v;
			break;
		}
		default:
			rc = cli_usage(&c.cli, "unrecognized option '%s'", argv[optind - 1]);
			goto done;
		}
	}
	if (c.schema_mode && c.describe_mode) {
		rc = cli_usage(&c.cli, "--schema and --describe cannot be combined");
		goto done;
	}
	nfiles = argc - optind;
	files = nfiles ? argv + optind : stdin_only;
	if (!nfiles)
		nfiles = 1;
	if (!c.schema_mode && !c.describe_mode) {
		out = cli_open_output(&c.cli, c.cli.output, &rc);
	} else {
		/* The reports are text, whatever the terminal. */
		out = ml_output_open(c.cli.output, &e);
		if (!out)
			rc = cli_fail(&c.cli, &e);
	}
	if (!out)
		goto done;
	for (i = 0; i < nfiles; i++) {
		int r1 = cat_one(&c, files[i], i == 0, ml_output_file(out), &e);
		if (r1 < 0) {
			rc = cli_fail(&c.cli, &e);
			goto done;
		}
		if (r1 == 1)
			break;
	}
	if (c.w)
		rc = ml_writer_finish(c.w, &e);
	else if (c.schema_mode)
		rc = print_schema(&c, ml_output_file(out), &e);
	else if (c.describe_mode)
		rc = print_describe(&c, ml_output_file(out), &e);
	if (rc < 0) {
		rc = cli_fail(&c.cli, &e);
		goto done;
	}
	rc = ml_output_commit(out, &e);
	out = NULL;
	if (rc < 0)
		rc = cli_fail(&c.cli, &e);
done:
	if (out)
		ml_output_abort(out);
	ml_writer_free(c.w);
	ml_describe_free(c.desc);
	if (c.bind)
		for (i = 0; i < c.out.ncol; i++)
			free(c.bind[i].map);
	free(c.bind);
	ml_block_release(&c.blk);
	ml_schema_release(&c.out);
	cli_release(&c.cli);
	return rc;
}
