/* The parallel text reader behind ml_frame_read: a plain file is read in windows cut at
 * record boundaries, the chunks of a window parsed by libcsv on separate threads, and the
 * chunks appended in order, so that the frame is the serial reader's whatever the threads;
 * the next window is read while one is parsed. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csv.h>

#include "ml/ctx.h"
#include "ml/num.h"
#include "table_int.h"

/* A window is CHUNKS_PER_THREAD chunks a thread. Smaller chunks would end a window more
 * evenly, but each holds a page per column at least: on wide tables that is memory. */
#define CHUNK_BYTES	  ((size_t)512 << 10)
#define CHUNKS_PER_THREAD 8
#define NO_FLIP SIZE_MAX

struct par {
	int ncol;
	unsigned char delim;
	unsigned char *cat;   /* per column: categorical (forced or already seen so) */
	unsigned char *force; /* per column: 0 infer, 1 numeric, 2 categorical */
	char *na_buf;
	const char **na;
	size_t *na_len, na_max;
	int nna;
};

/* A chunk's state is written field by field while a neighbour is parsed on another thread:
 * each chunk has cache lines of its own (sharing them cost about 15% of the reading time). */
#define CHUNK_ALIGN 128

struct chunk {
	const struct par *par;
	const unsigned char *p;
	size_t len;
	long line0; /* line of the chunk's first byte, known once the chunks before are parsed */
	size_t nrow, cap;
	double **v;            /* per column: values, or local codes of categorical columns */
	struct ml_dict *dict;  /* per column: local dictionaries */
	size_t *flip;          /* per column: row where a number column met text */
	long *line;
	struct csv_parser csv;
	int fld, bad, scan_nl;
	long nl, rec_line;
} __attribute__((aligned(CHUNK_ALIGN)));

static int is_na(const struct par *p, const char *s, size_t len)
{
	int i;

	if (len == 0)
		return 1;
	if (len > p->na_max)
		return 0;
	for (i = 0; i < p->nna; i++)
		if (p->na_len[i] == len && memcmp(p->na[i], s, len) == 0)
			return 1;
	return 0;
}

static int grow_chunk(struct chunk *c)
{
	size_t cap = c->cap ? c->cap * 2 : 4096;
	int j;
	long *l;

	for (j = 0; j < c->par->ncol; j++) {
		double *v = realloc(c->v[j], cap * sizeof(double));
		if (!v)
			return -1;
		c->v[j] = v;
	}
	l = realloc(c->line, cap * sizeof(long));
	if (!l)
		return -1;
	c->line = l;
	c->cap = cap;
	return 0;
}

static void cb_field(void *data, size_t len, void *ud)
{
	struct chunk *c = ud;
	const struct par *p = c->par;
	const char *s = data ? data : "";
	int j = c->fld++;
	size_t i = c->nrow;
	double v;

	if (c->bad)
		return;
	if (j == 0)
		c->rec_line = c->nl;
	if (c->scan_nl) {
		const char *q;
		for (q = s; len && (q = memchr(q, '\n', len - (size_t)(q - s))) != NULL; q++)
			c->nl++;
	}
	if (j >= p->ncol) {
		c->bad = 1;
		return;
	}
	if (is_na(p, s, len)) {
		c->v[j][i] = p->cat[j] || c->flip[j] != NO_FLIP ? -1 : NAN;
		return;
	}
	if (!p->cat[j] && c->flip[j] == NO_FLIP) {
		if (ml_parse_double(s, len, &v) == 0 && isfinite(v) &&
		    (p->force[j] == 1 || !ml_text_leading_zero(s, len))) {
			c->v[j][i] = v;
			return;
		}
		if (p->force[j] == 1) {
			c->bad = 1;
			return;
		}
		c->flip[j] = i;
	}
	{
		int32_t code;
		if (memchr(s, 0, len)) {
			c->bad = 1;
			return;
		}
		code = ml_dict_intern(&c->dict[j], s, len);
		if (code < 0) {
			c->bad = 1;
			return;
		}
		c->v[j][i] = code;
	}
}

static void cb_row(int ch, void *ud)
{
	struct chunk *c = ud;

	if (ch == '\n')
		c->nl++;
	if (c->bad || c->fld == 0) {
		c->fld = 0;
		return;
	}
	if (c->fld != c->par->ncol) {
		c->bad = 1;
		return;
	}
	c->line[c->nrow] = c->rec_line; /* from the chunk's first line, until appended */
	c->fld = 0;
	if (++c->nrow == c->cap && grow_chunk(c) < 0)
		c->bad = 1;
}

/* Parse one chunk: a pool task. */
static void parse_chunk(void *arg, size_t t, int worker)
{
	struct chunk *c = (struct chunk *)arg + t;
	int j;

	(void)worker;
	c->nrow = 0;
	c->fld = 0;
	c->nl = 0;
	c->bad = 0;
	for (j = 0; j < c->par->ncol; j++) {
		c->flip[j] = NO_FLIP;
		ml_dict_release(&c->dict[j]);
	}
	if (c->cap == 0 && grow_chunk(c) < 0) {
		c->bad = 1;
		return;
	}
	if (csv_init(&c->csv, CSV_STRICT | CSV_STRICT_FINI | CSV_REPALL_NL) != 0) {
		c->bad = 1;
		return;
	}
	csv_set_delim(&c->csv, c->par->delim);
	csv_set_blk_size(&c->csv, 1 << 16);
	c->scan_nl = memchr(c->p, '"', c->len) != NULL;
	if (csv_parse(&c->csv, c->p, c->len, cb_field, cb_row, c) != c->len ||
	    csv_fini(&c->csv, cb_field, cb_row, c) != 0)
		c->bad = 1;
	csv_free(&c->csv);
}

static void chunk_free(struct chunk *c, int ncol)
{
	int j;

	for (j = 0; j < ncol; j++) {
		if (c->v)
			free(c->v[j]);
		if (c->dict)
			ml_dict_release(&c->dict[j]);
	}
	free(c->v);
	free(c->dict);
	free(c->flip);
	free(c->line);
}

static int set_na(struct par *p, const char *spec)
{
	size_t n = strlen(spec), i;
	int k = 1;
	char *s;

	for (i = 0; i < n; i++)
		k += spec[i] == ',';
	p->na_buf = malloc(n + 1);
	p->na = malloc((size_t)k * sizeof(*p->na));
	p->na_len = malloc((size_t)k * sizeof(*p->na_len));
	if (!p->na_buf || !p->na || !p->na_len)
		return -1;
	memcpy(p->na_buf, spec, n + 1);
	for (s = p->na_buf;;) {
		char *comma = strchr(s, ',');
		if (comma)
			*comma = 0;
		p->na[p->nna] = s;
		p->na_len[p->nna] = strlen(s);
		if (p->na_len[p->nna] > p->na_max)
			p->na_max = p->na_len[p->nna];
		p->nna++;
		if (!comma)
			break;
		s = comma + 1;
	}
	return 0;
}

/* Header state: where the first data record starts. */
struct hdr {
	int fld, done;
};

static void hdr_field(void *data, size_t len, void *ud)
{
	(void)data;
	(void)len;
	((struct hdr *)ud)->fld++;
}

static void hdr_row(int ch, void *ud)
{
	struct hdr *h = ud;
	(void)ch;
	if (h->fld > 0)
		h->done = 1;
}

/* Offset just past the first record of buf (after a BOM), or 0 when not found. */
static size_t header_end(const unsigned char *buf, size_t n, unsigned char delim)
{
	struct csv_parser p;
	struct hdr h = {0, 0};
	size_t i = 0;

	if (n >= 3 && buf[0] == 0xef && buf[1] == 0xbb && buf[2] == 0xbf)
		i = 3;
	if (csv_init(&p, CSV_STRICT | CSV_REPALL_NL) != 0)
		return 0;
	csv_set_delim(&p, delim);
	for (; i < n && !h.done; i++)
		if (csv_parse(&p, buf + i, 1, hdr_field, hdr_row, &h) != 1)
			break;
	csv_free(&p);
	return h.done ? i : 0;
}

/* Cut [0, n) into k chunks at newlines outside quotes; the text starts outside quotes. */
static size_t cut(const unsigned char *p, size_t n, size_t *start, size_t k)
{
	size_t i = 0, c, m = 0;
	int inq = 0;

	start[m++] = 0;
	for (c = 1; c < k; c++) {
		size_t target = n * c / k;
		if (target <= i)
			continue;
		/* quote parity up to target */
		while (i < target) {
			const unsigned char *q = memchr(p + i, '"', target - i);
			if (!q) {
				i = target;
				break;
			}
			inq ^= 1;
			i = (size_t)(q - p) + 1;
		}
		/* then forward to a newline outside quotes */
		while (i < n) {
			if (p[i] == '"')
				inq ^= 1;
			else if (p[i] == '\n' && !inq)
				break;
			i++;
		}
		if (i >= n)
			break;
		start[m++] = ++i;
	}
	start[m] = n;
	return m;
}

/* End of the last complete record of [0, n): just past its newline, outside quotes. */
static size_t last_record_end(const unsigned char *p, size_t n)
{
	size_t i, end = 0;
	int inq = 0;

	for (i = 0; i < n; i++) {
		const unsigned char *q = memchr(p + i, '"', n - i);
		const unsigned char *nl;
		size_t stop = q ? (size_t)(q - p) : n;
		if (!inq) {
			/* the last newline before the next quote */
			nl = memrchr(p + i, '\n', stop - i);
			if (nl)
				end = (size_t)(nl - p) + 1;
		}
		if (!q)
			break;
		inq ^= 1;
		i = stop;
	}
	return end;
}

static size_t count_nl(const unsigned char *p, size_t n)
{
	size_t k = 0;
	const unsigned char *q = p, *e = p + n;

	while (q < e && (q = memchr(q, '\n', (size_t)(e - q))) != NULL) {
		k++;
		q++;
	}
	return k;
}

/* The parsed chunks of a window appended to the frame in order: a pool task per column,
 * and one for the line numbers (task ncol). */
struct append {
	struct ml_frame *f;
	struct chunk *ch;
	size_t m;
	int32_t **cmap;
	int ncol;
	int failed; /* a column's codes could not be mapped: the serial reader takes over */
};

static void append_task(void *arg, size_t t, int worker)
{
	struct append *A = arg;
	struct ml_frame *f = A->f;
	size_t at = f->rows.nrow, k, i;
	int j = (int)t;

	(void)worker;
	for (k = 0; k < A->m; k++) {
		const struct chunk *c = &A->ch[k];
		if (j == A->ncol) {
			for (i = 0; i < c->nrow; i++)
				f->rows.line[at + i] = c->line0 + c->line[i];
		} else if (f->schema.cols[j].type == ML_NUM) {
			memcpy(f->rows.col[j].num + at, c->v[j], c->nrow * sizeof(double));
		} else {
			/* local codes to global ones, in first-seen order */
			int32_t *mp = A->cmap[j];
			if (c->dict[j].n) {
				int32_t q;
				mp = realloc(A->cmap[j], (size_t)c->dict[j].n * sizeof(int32_t));
				if (!mp) {
					__atomic_store_n(&A->failed, 1, __ATOMIC_RELAXED);
					return;
				}
				A->cmap[j] = mp;
				for (q = 0; q < c->dict[j].n; q++) {
					mp[q] = ml_dict_intern(&f->schema.cols[j].dict, c->dict[j].str[q],
							       c->dict[j].len[q]);
					if (mp[q] < 0) {
						__atomic_store_n(&A->failed, 1, __ATOMIC_RELAXED);
						return;
					}
				}
			}
			for (i = 0; i < c->nrow; i++) {
				double v = c->v[j][i];
				f->rows.col[j].cat[at + i] = v < 0 ? ML_MISSING_CAT : mp[(int32_t)v];
			}
		}
		at += c->nrow;
	}
}

/* A window of the file: its chunks, parsed by the pool, and the reading of the next window
 * (the bytes after this one's last record, then the file) with the finding of its last
 * record and its cuts, which task 0 does meanwhile. */
struct window {
	struct chunk *ch;
	int fd;
	unsigned char *dst;
	size_t have, cap;
	off_t off;
	int eof, err, read;
	/* the window in dst: its records end at end (0: one is larger than the window),
	 * chunk k at start[k] */
	size_t end, m, nchunk, *start;
};

/* Fill dst up to cap from the file at off, or to its end. */
static void fill(struct window *w)
{
	while (!w->eof && w->have < w->cap) {
		ssize_t n = pread(w->fd, w->dst + w->have, w->cap - w->have, w->off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			w->err = 1;
			return;
		}
		if (n == 0)
			w->eof = 1;
		w->have += (size_t)n;
		w->off += n;
	}
}

/* The window's end and chunks, once filled. */
static void plan(struct window *w)
{
	w->end = w->eof ? w->have : last_record_end(w->dst, w->have);
	w->m = w->end ? cut(w->dst, w->end, w->start, w->nchunk) : 0;
}

static void window_task(void *arg, size_t t, int worker)
{
	struct window *w = arg;

	if (w->read && t-- == 0) {
		fill(w);
		if (!w->err)
			plan(w);
	} else
		parse_chunk(w->ch, t, worker);
}

int ml_frame_read_parallel(struct ml_frame *f, const char *path, const struct ml_read_opts *o,
			   struct ml_err *e)
{
	struct ml_read_opts ho = *o;
	struct ml_reader *hr = NULL;
	struct par par;
	struct chunk *ch = NULL;
	struct ml_pool *pool = NULL;
	unsigned char *buf = NULL, *nxt = NULL;
	struct window W;
	int fd = -1, rc = 1, j, nthreads, nchunk = 0, restart;
	size_t cap, have, data_off, *start = NULL, *start2 = NULL;
	int32_t **cmap = NULL;
	long lines_before;
	struct stat st;

	memset(&par, 0, sizeof(par));
	if (!path || strcmp(path, "-") == 0)
		return 1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < (1 << 20))
		goto out;
	/* The streaming reader checks the header and finds the format and delimiter. */
	ho.infer_rows = 1;
	ho.block_rows = 0;
	hr = ml_reader_open(path, &ho, NULL);
	if (!hr || ml_reader_format(hr) == ML_FMT_STREAM || !o->header)
		goto out;
	{
		/* gzip input is inflated by the serial path */
		unsigned char magic[2];
		if (pread(fd, magic, 2, 0) != 2 || (magic[0] == 0x1f && magic[1] == 0x8b))
			goto out;
	}
	par.ncol = ml_reader_schema(hr)->ncol;
	par.delim = (unsigned char)(o->delim ? o->delim :
						 ml_reader_format(hr) == ML_FMT_TSV ? '\t' : ',');
	par.cat = calloc((size_t)par.ncol + 1, 1);
	par.force = calloc((size_t)par.ncol + 1, 1);
	if (!par.cat || !par.force || set_na(&par, o->na ? o->na : "NA,N/A,NaN,nan,null,NULL,?"))
		goto nomem;
	/* Forced types, as the serial reader applies them. */
	for (j = 0; o->types && j < par.ncol; j++) {
		int t = ml_schema_find(o->types, ml_reader_schema(hr)->cols[j].name);
		if (t >= 0)
			par.force[j] = o->types->cols[t].type == ML_NUM ? 1 : 2;
	}
	for (j = 0; j < 2; j++) {
		const char *spec = j == 0 ? o->num_cols : o->cat_cols;
		int *idx, cnt, i;
		if (!spec)
			continue;
		cnt = ml_cols_parse(spec, ml_reader_schema(hr), 1, &idx, NULL);
		if (cnt < 0)
			goto out;
		for (i = 0; i < cnt; i++)
			par.force[idx[i]] = (unsigned char)(j + 1);
		free(idx);
	}
	nthreads = o->threads > 0 ? o->threads : ml_ncores();
	nchunk = nthreads > 1 ? nthreads * CHUNKS_PER_THREAD : 1;
	pool = nthreads > 1 ? ml_pool_new(nthreads) : NULL;
	cap = (o->chunk_bytes ? o->chunk_bytes : CHUNK_BYTES) * (size_t)nchunk;
	buf = malloc(cap);
	nxt = pool ? malloc(cap) : NULL;
	start = malloc(((size_t)nchunk + 1) * sizeof(*start));
	start2 = malloc(((size_t)nchunk + 1) * sizeof(*start2));
	ch = aligned_alloc(CHUNK_ALIGN, (size_t)nchunk * sizeof(*ch));
	if (ch)
		memset(ch, 0, (size_t)nchunk * sizeof(*ch));
	cmap = calloc((size_t)par.ncol + 1, sizeof(*cmap));
	if (!buf || !start || !start2 || !ch || !cmap || (nthreads > 1 && (!pool || !nxt)))
		goto nomem;
	for (j = 0; j < nchunk; j++) {
		ch[j].par = &par;
		ch[j].v = calloc((size_t)par.ncol + 1, sizeof(double *));
		ch[j].dict = calloc((size_t)par.ncol + 1, sizeof(struct ml_dict));
		ch[j].flip = calloc((size_t)par.ncol + 1, sizeof(size_t));
		if (!ch[j].v || !ch[j].dict || !ch[j].flip)
			goto nomem;
	}
	{
		ssize_t n = pread(fd, buf, cap, 0);
		if (n <= 0)
			goto out;
		data_off = header_end(buf, (size_t)n, par.delim);
		if (data_off == 0)
			goto out;
		lines_before = (long)count_nl(buf, data_off);
	}
again:
	restart = 0;
	for (j = 0; j < par.ncol; j++)
		par.cat[j] = par.force[j] == 2;
	ml_frame_release(f);
	ml_frame_init(f);
	for (j = 0; j < par.ncol; j++)
		if (ml_schema_add(&f->schema, ml_reader_schema(hr)->cols[j].name,
				  par.cat[j] ? ML_CAT : ML_NUM) < 0)
			goto nomem;
	if (ml_block_init(&f->rows, &f->schema, 0, e) < 0)
		goto nomem;
	f->rows.line = malloc(sizeof(long));
	if (!f->rows.line)
		goto nomem;
	{
		long line0 = lines_before + 1;
		int first_window = 1, eof;
		/* W: where the file is read up to, and whether to its end */
		memset(&W, 0, sizeof(W));
		W.ch = ch;
		W.fd = fd;
		W.cap = cap;
		W.dst = buf;
		W.off = (off_t)data_off;
		W.nchunk = (size_t)nchunk;
		W.start = start;
		fill(&W);
		plan(&W);
		have = W.have;
		eof = W.eof;
		while (have > 0 && !W.err) {
			size_t end = W.end, k, m = W.m, rows, want, *cuts = W.start;
			if (end == 0) {
				/* one record larger than the window: the serial reader's */
				goto out;
			}
			for (k = 0; k < m; k++) {
				ch[k].p = buf + cuts[k];
				ch[k].len = cuts[k + 1] - cuts[k];
			}
			/* The next window begins with this one's tail; with threads, it is
			 * read while this one is parsed. */
			W.dst = nxt ? nxt : buf;
			W.have = have - end;
			W.read = nxt && !eof;
			W.start = cuts == start ? start2 : start;
			if (nxt)
				memcpy(nxt, buf + end, have - end);
			if (pool)
				ml_pool_run(pool, m + (size_t)W.read, window_task, &W);
			else
				for (k = 0; k < m; k++)
					parse_chunk(ch, k, 0);
			for (k = 0; k < m; k++)
				if (ch[k].bad)
					goto out;
			/* Each chunk counted its newlines, quoted ones too. */
			for (k = 0; k < m; k++)
				ch[k].line0 = k == 0 ? line0 : ch[k - 1].line0 + ch[k - 1].nl;
			/* A number column that met text: fine only when it did so from the very
			 * first row it ever had, else start again with it categorical. */
			for (j = 0; j < par.ncol; j++) {
				int any = 0, lossless = 1;
				for (k = 0; k < m; k++) {
					if (ch[k].flip[j] != NO_FLIP) {
						any = 1;
						if (ch[k].flip[j] != 0)
							lossless = 0;
					} else if (ch[k].nrow > 0 && !par.cat[j]) {
						lossless = 0;
					}
				}
				if (!any)
					continue;
				if (!first_window || f->rows.nrow > 0)
					lossless = 0;
				if (!lossless) {
					par.force[j] = 2;
					restart = 1;
				}
			}
			if (restart)
				break;
			for (j = 0; j < par.ncol; j++)
				for (k = 0; k < m; k++)
					if (ch[k].flip[j] != NO_FLIP && !par.cat[j]) {
						par.cat[j] = 1;
						f->schema.cols[j].type = ML_CAT;
						/* the column's arrays are empty: retype them */
						free(f->rows.col[j].num);
						f->rows.col[j].cat = malloc(sizeof(int32_t));
						if (!f->rows.col[j].cat)
							goto nomem;
					}
			/* Append the chunks in order. */
			rows = 0;
			for (k = 0; k < m; k++)
				rows += ch[k].nrow;
			want = f->rows.nrow + rows + 1;
			if (first_window && !eof && end > 0) {
				/* Room for the whole file at the first window's bytes per row, so
				 * the columns are not copied as they grow. */
				double est = (double)rows * (double)(st.st_size - (off_t)data_off) /
					     (double)end * 1.02;
				if (est > (double)want && est < (double)SIZE_MAX / 16)
					want = (size_t)est + 1;
			}
			if (ml_block_reserve(&f->rows, want, e) < 0)
				goto nomem;
			{
				long *l = realloc(f->rows.line, (f->rows.cap + 1) * sizeof(long));
				if (!l)
					goto nomem;
				f->rows.line = l;
			}
			{
				struct append A;
				A.f = f;
				A.ch = ch;
				A.m = m;
				A.cmap = cmap;
				A.ncol = par.ncol;
				A.failed = 0;
				if (pool)
					ml_pool_run(pool, (size_t)par.ncol + 1, append_task, &A);
				else
					for (j = 0; j <= par.ncol; j++)
						append_task(&A, (size_t)j, 0);
				if (A.failed)
					goto out;
				f->rows.nrow += rows;
			}
			line0 = ch[m - 1].line0 + ch[m - 1].nl;
			first_window = 0;
			if (nxt) {
				W.dst = buf;
				buf = nxt;
				nxt = W.dst;
			} else {
				memmove(buf, buf + end, have - end);
				fill(&W);
				if (!W.err)
					plan(&W);
			}
			have = W.have;
			eof = W.eof;
		}
		if (W.err)
			goto out;
	}
	if (restart)
		goto again;
	/* Give back what the growing columns reserved beyond the rows. */
	if (f->rows.cap > f->rows.nrow + 1) {
		size_t n = f->rows.nrow ? f->rows.nrow : 1;
		for (j = 0; j < par.ncol; j++) {
			size_t sz = f->schema.cols[j].type == ML_NUM ? sizeof(double) : sizeof(int32_t);
			void *q = realloc(f->rows.col[j].num, n * sz);
			if (q)
				f->rows.col[j].num = q;
		}
		{
			long *l = realloc(f->rows.line, n * sizeof(long));
			if (l)
				f->rows.line = l;
		}
		f->rows.cap = n;
	}
	rc = 0;
	goto out;
nomem:
	rc = ml_err_nomem(e);
out:
	if (rc != 0) {
		ml_frame_release(f);
		ml_frame_init(f);
	}
	for (j = 0; ch && j < nchunk; j++)
		chunk_free(&ch[j], par.ncol);
	free(ch);
	if (cmap)
		for (j = 0; j < par.ncol; j++)
			free(cmap[j]);
	free(cmap);
	free(start);
	free(start2);
	free(buf);
	free(nxt);
	ml_pool_free(pool);
	free(par.cat);
	free(par.force);
	free(par.na_buf);
	free(par.na);
	free(par.na_len);
	ml_reader_close(hr);
	if (fd >= 0)
		close(fd);
	return rc;
}
