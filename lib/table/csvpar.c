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
/* Smaller files are read serially: threads would not pay for themselves. */
#define PARALLEL_BYTES ((size_t)1 << 20)
#define NO_FLIP SIZE_MAX

struct par {
	int ncol;
	unsigned char delim;
	unsigned char *cat;   /* per column: categorical (forced or already seen so) */
	unsigned char *force; /* per column: 0 infer, 1 numeric, 2 categorical */
	int prefix;	      /* the rows parsed are among those that decide the types: each
			       * value's class is kept (cls) */
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
	unsigned char **cls;   /* while typing, per column and row: 0 missing, 1 a number,
				* 2 text (the counts of ml_typecount) */
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
	/* the first byte first: a number never starts as a default token does */
	for (i = 0; i < p->nna; i++)
		if (p->na_len[i] == len && p->na[i][0] == s[0] &&
		    memcmp(p->na[i], s, len) == 0)
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
		if (c->par->prefix && !c->par->force[j]) {
			unsigned char *k = realloc(c->cls[j], cap);
			if (!k)
				return -1;
			c->cls[j] = k;
		}
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
	int j = c->fld++, num = -1;
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
		if (p->prefix && !p->force[j])
			c->cls[j][i] = 0;
		return;
	}
	if (p->prefix && !p->force[j]) {
		num = ml_text_number(s, len, 0, &v);
		c->cls[j][i] = num ? 1 : 2;
	}
	if (!p->cat[j] && c->flip[j] == NO_FLIP) {
		if (num < 0)
			num = ml_text_number(s, len, p->force[j] == 1, &v);
		if (num) {
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
		if (c->cls)
			free(c->cls[j]);
		if (c->dict)
			ml_dict_release(&c->dict[j]);
	}
	free(c->v);
	free(c->cls);
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

/* Everything one parallel read holds. */
struct pread {
	struct ml_reader *hr; /* the header, as the streaming reader reads it */
	struct par par;
	struct chunk *ch;
	int nchunk;
	struct ml_pool *pool;
	unsigned char *buf, *nxt; /* this window and, with threads, the next */
	size_t cap, data_off, *start, *start2;
	int32_t **cmap;
	long lines_before;
	int fd;
	struct stat st;
	ml_progress_fn progress; /* and its argument: see ml_read_opts */
	void *progress_ud;
	/* typing: the rows still to count, and each column's counts so far */
	size_t infer_rows, left;
	struct ml_typecount *tc;
};

static void pread_release(struct pread *P)
{
	int j;

	for (j = 0; P->ch && j < P->nchunk; j++)
		chunk_free(&P->ch[j], P->par.ncol);
	free(P->ch);
	if (P->cmap)
		for (j = 0; j < P->par.ncol; j++)
			free(P->cmap[j]);
	free(P->cmap);
	free(P->start);
	free(P->start2);
	free(P->buf);
	free(P->nxt);
	ml_pool_free(P->pool);
	free(P->tc);
	free(P->par.cat);
	free(P->par.force);
	free(P->par.na_buf);
	free(P->par.na);
	free(P->par.na_len);
	ml_reader_close(P->hr);
	if (P->fd >= 0)
		close(P->fd);
}

/* Up to n bytes of fd from off, fewer only at the end of the file (pread may return less
 * than asked, or fail with EINTR, before then); -1 on an error. */
static ssize_t pread_all(int fd, unsigned char *buf, size_t n, off_t off)
{
	size_t have = 0;

	while (have < n) {
		ssize_t r = pread(fd, buf + have, n - have, off + (off_t)have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		have += (size_t)r;
	}
	return (ssize_t)have;
}

/* Open path and read its header: 0 when the parallel reader can take it, 1 when the
 * serial reader must (standard input, a small or gzip'd file, the stream format, no
 * header), or ML_E_NOMEM. */
static int pread_open(struct pread *P, const char *path, const struct ml_read_opts *o,
		      struct ml_err *e)
{
	struct ml_read_opts ho = *o;
	unsigned char magic[2];
	int j;

	P->progress = o->progress;
	P->progress_ud = o->log_ud;
	if (!path || strcmp(path, "-") == 0)
		return 1;
	P->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (P->fd < 0 || fstat(P->fd, &P->st) != 0 || !S_ISREG(P->st.st_mode) ||
	    (uintmax_t)P->st.st_size < (o->parallel_bytes ? o->parallel_bytes : PARALLEL_BYTES))
		return 1;
	/* The streaming reader checks the header and finds the format and delimiter. */
	ho.infer_rows = 1;
	ho.block_rows = 0;
	P->hr = ml_reader_open(path, &ho, NULL);
	if (!P->hr || ml_reader_format(P->hr) == ML_FMT_STREAM || !o->header)
		return 1;
	/* gzip input is inflated by the serial path */
	if (pread_all(P->fd, magic, 2, 0) != 2 || (magic[0] == 0x1f && magic[1] == 0x8b))
		return 1;
	P->par.ncol = ml_reader_schema(P->hr)->ncol;
	P->infer_rows = o->infer_rows ? o->infer_rows : ML_INFER_ROWS;
	P->par.delim = (unsigned char)(o->delim ? o->delim :
				       ml_reader_format(P->hr) == ML_FMT_TSV ? '\t' : ',');
	P->par.cat = calloc((size_t)P->par.ncol + 1, 1);
	P->par.force = calloc((size_t)P->par.ncol + 1, 1);
	P->tc = calloc((size_t)P->par.ncol + 1, sizeof(*P->tc));
	if (!P->par.cat || !P->par.force || !P->tc ||
	    set_na(&P->par, o->na ? o->na : "NA,N/A,NaN,nan,null,NULL,?"))
		return ml_err_nomem(e);
	/* Forced types, as the serial reader applies them. */
	for (j = 0; o->types && j < P->par.ncol; j++) {
		int t = ml_schema_find(o->types, ml_reader_schema(P->hr)->cols[j].name);
		if (t >= 0)
			P->par.force[j] = o->types->cols[t].type == ML_NUM ? 1 : 2;
	}
	for (j = 0; j < 2; j++) {
		const char *spec = j == 0 ? o->num_cols : o->cat_cols;
		int *idx, cnt, i;
		if (!spec)
			continue;
		cnt = ml_cols_parse(spec, ml_reader_schema(P->hr), 1, &idx, NULL);
		if (cnt < 0)
			return 1;
		for (i = 0; i < cnt; i++)
			P->par.force[idx[i]] = (unsigned char)(j + 1);
		free(idx);
	}
	return 0;
}

/* The threads, windows and chunks; then where the data starts: 0, 1 for the serial
 * reader, or ML_E_NOMEM. */
static int pread_alloc(struct pread *P, const struct ml_read_opts *o, struct ml_err *e)
{
	int nthreads = o->threads > 0 ? o->threads : ml_ncores(), j;
	ssize_t n;

	P->nchunk = nthreads > 1 ? nthreads * CHUNKS_PER_THREAD : 1;
	P->pool = nthreads > 1 ? ml_pool_new(nthreads) : NULL;
	P->cap = (o->chunk_bytes ? o->chunk_bytes : CHUNK_BYTES) * (size_t)P->nchunk;
	P->buf = malloc(P->cap);
	P->nxt = P->pool ? malloc(P->cap) : NULL;
	P->start = malloc(((size_t)P->nchunk + 1) * sizeof(*P->start));
	P->start2 = malloc(((size_t)P->nchunk + 1) * sizeof(*P->start2));
	P->ch = aligned_alloc(CHUNK_ALIGN, (size_t)P->nchunk * sizeof(*P->ch));
	if (P->ch)
		memset(P->ch, 0, (size_t)P->nchunk * sizeof(*P->ch));
	P->cmap = calloc((size_t)P->par.ncol + 1, sizeof(*P->cmap));
	if (!P->buf || !P->start || !P->start2 || !P->ch || !P->cmap ||
	    (nthreads > 1 && (!P->pool || !P->nxt)))
		return ml_err_nomem(e);
	for (j = 0; j < P->nchunk; j++) {
		P->ch[j].par = &P->par;
		P->ch[j].v = calloc((size_t)P->par.ncol + 1, sizeof(double *));
		P->ch[j].dict = calloc((size_t)P->par.ncol + 1, sizeof(struct ml_dict));
		P->ch[j].flip = calloc((size_t)P->par.ncol + 1, sizeof(size_t));
		P->ch[j].cls = calloc((size_t)P->par.ncol + 1, sizeof(unsigned char *));
		if (!P->ch[j].v || !P->ch[j].dict || !P->ch[j].flip || !P->ch[j].cls)
			return ml_err_nomem(e);
	}
	n = pread_all(P->fd, P->buf, P->cap, 0);
	if (n <= 0)
		return 1;
	P->data_off = header_end(P->buf, (size_t)n, P->par.delim);
	if (P->data_off == 0)
		return 1;
	P->lines_before = (long)count_nl(P->buf, P->data_off);
	return 0;
}

/* An empty frame with the header's columns, typed as the pass starts. */
static int pread_frame(struct pread *P, struct ml_frame *f, struct ml_err *e)
{
	int j;

	for (j = 0; j < P->par.ncol; j++) {
		P->par.cat[j] = P->par.force[j] == 2;
		if (P->par.prefix)
			ml_typecount_init(&P->tc[j]);
	}
	P->left = P->par.prefix ? P->infer_rows : 0;
	ml_frame_release(f);
	ml_frame_init(f);
	for (j = 0; j < P->par.ncol; j++)
		if (ml_schema_add(&f->schema, ml_reader_schema(P->hr)->cols[j].name,
				  P->par.cat[j] ? ML_CAT : ML_NUM) < 0)
			return ml_err_nomem(e);
	if (ml_block_init(&f->rows, &f->schema, 0, e) < 0)
		return ml_err_nomem(e);
	f->rows.line = malloc(sizeof(long));
	return f->rows.line ? 0 : ml_err_nomem(e);
}

/* While types are open, a window's chunks: a number column that met text keeps it as text
 * (codes) from here on when every row it had so far was text, which changes nothing that
 * was stored; otherwise what was stored can no longer be appended (returns 1), though the
 * rows are still counted for the types. */
static int settle_window(struct pread *P, struct ml_frame *f, size_t m, struct ml_err *e)
{
	struct chunk *ch = P->ch;
	size_t k;
	int j;

	for (j = 0; j < P->par.ncol; j++) {
		int any = 0, lossless = f->rows.nrow == 0;
		if (P->par.cat[j])
			continue;
		for (k = 0; k < m; k++) {
			if (ch[k].flip[j] != NO_FLIP) {
				any = 1;
				if (ch[k].flip[j] != 0)
					lossless = 0;
			} else if (ch[k].nrow > 0) {
				lossless = 0;
			}
		}
		if (!any)
			continue;
		if (!lossless)
			return 1;
		P->par.cat[j] = 1;
		f->schema.cols[j].type = ML_CAT;
		/* the column's arrays are empty: retype them */
		free(f->rows.col[j].num);
		f->rows.col[j].cat = malloc(sizeof(int32_t));
		if (!f->rows.col[j].cat)
			return ml_err_nomem(e);
	}
	return 0;
}

/* Count the classes of the window's rows that are among the first infer_rows, in order, as
 * the serial reader counts them. */
static void count_prefix(struct pread *P, size_t m)
{
	size_t k, i;
	int j;

	for (k = 0; k < m && P->left; k++) {
		const struct chunk *c = &P->ch[k];
		size_t take = c->nrow < P->left ? c->nrow : P->left;
		for (j = 0; j < P->par.ncol; j++) {
			struct ml_typecount *t = &P->tc[j];
			if (P->par.force[j])
				continue;
			for (i = 0; i < take; i++)
				if (c->cls[j][i])
					ml_typecount_add(t, c->cls[j][i] == 1, 0, 0);
		}
		P->left -= take;
	}
}

/* The counts are complete: the types they give, checked against how the rows so far were
 * stored. 0 when parsing goes on as it was, 2 when it must start again with the types
 * fixed (a text column whose first rows were numbers), 1 when the serial reader must report
 * a column of numbers with a few other values, or text after the counted rows in a column
 * of numbers. */
static int decide_types(struct pread *P, size_t m, int dirty)
{
	size_t k;
	int j, again = dirty;

	for (j = 0; j < P->par.ncol; j++) {
		int t;
		if (P->par.force[j])
			continue;
		t = ml_typecount_type(&P->tc[j]);
		if (t < 0)
			return 1;
		if (t == ML_NUM) {
			/* no text among the counted rows: any in this window came after them */
			for (k = 0; k < m; k++)
				if (!P->par.cat[j] && P->ch[k].flip[j] != NO_FLIP)
					return 1;
			if (P->par.cat[j])
				again = 1;
		} else if (!P->par.cat[j]) {
			again = 1;
		}
		P->par.force[j] = t == ML_NUM ? 1 : 2;
	}
	P->par.prefix = 0;
	return again ? 2 : 0;
}

/* Append a window's m parsed chunks to the frame: 0, 1 when the serial reader must take
 * over, or ML_E_NOMEM. end is the window's bytes, for the first window's estimate of the
 * rows the whole file holds. */
static int append_window(struct pread *P, struct ml_frame *f, size_t m, size_t end,
			 int first_window, int eof, struct ml_err *e)
{
	struct append A;
	size_t rows = 0, want, k;
	long *l;
	int j;

	for (k = 0; k < m; k++)
		rows += P->ch[k].nrow;
	want = f->rows.nrow + rows + 1;
	if (first_window && !eof && end > 0) {
		/* Room for the whole file at the first window's bytes per row, so the columns
		 * are not copied as they grow. */
		double est = (double)rows * (double)(P->st.st_size - (off_t)P->data_off) /
			     (double)end * 1.02;
		if (est > (double)want && est < (double)SIZE_MAX / 16)
			want = (size_t)est + 1;
	}
	if (ml_block_reserve(&f->rows, want, e) < 0)
		return ml_err_nomem(e);
	if (!(l = realloc(f->rows.line, (f->rows.cap + 1) * sizeof(long))))
		return ml_err_nomem(e);
	f->rows.line = l;
	A.f = f;
	A.ch = P->ch;
	A.m = m;
	A.cmap = P->cmap;
	A.ncol = P->par.ncol;
	A.failed = 0;
	if (P->pool)
		ml_pool_run(P->pool, (size_t)P->par.ncol + 1, append_task, &A);
	else
		for (j = 0; j <= P->par.ncol; j++)
			append_task(&A, (size_t)j, 0);
	if (A.failed)
		return 1;
	f->rows.nrow += rows;
	return 0;
}

/* One pass over the file, window by window: 0 when read, 2 when it must start again with
 * a column retyped, 1 when the serial reader must take over, or ML_E_NOMEM. */
static int pread_pass(struct pread *P, struct ml_frame *f, struct ml_err *e)
{
	struct chunk *ch = P->ch;
	struct window W;
	long line0 = P->lines_before + 1;
	int first_window = 1, eof, rc, dirty = 0;
	size_t have;

	if ((rc = pread_frame(P, f, e)) < 0)
		return rc;
	/* W: where the file is read up to, and whether to its end */
	memset(&W, 0, sizeof(W));
	W.ch = ch;
	W.fd = P->fd;
	W.cap = P->cap;
	W.dst = P->buf;
	W.off = (off_t)P->data_off;
	W.nchunk = (size_t)P->nchunk;
	W.start = P->start;
	fill(&W);
	plan(&W);
	have = W.have;
	eof = W.eof;
	while (have > 0 && !W.err) {
		size_t end = W.end, k, m = W.m, *cuts = W.start;
		if (end == 0) /* one record larger than the window: the serial reader's */
			return 1;
		for (k = 0; k < m; k++) {
			ch[k].p = P->buf + cuts[k];
			ch[k].len = cuts[k + 1] - cuts[k];
		}
		/* The next window begins with this one's tail; with threads, it is read
		 * while this one is parsed. */
		W.dst = P->nxt ? P->nxt : P->buf;
		W.have = have - end;
		W.read = P->nxt && !eof;
		W.start = cuts == P->start ? P->start2 : P->start;
		if (P->nxt)
			memcpy(P->nxt, P->buf + end, have - end);
		if (P->pool)
			ml_pool_run(P->pool, m + (size_t)W.read, window_task, &W);
		else
			for (k = 0; k < m; k++)
				parse_chunk(ch, k, 0);
		for (k = 0; k < m; k++)
			if (ch[k].bad)
				return 1;
		/* Each chunk counted its newlines, quoted ones too. */
		for (k = 0; k < m; k++)
			ch[k].line0 = k == 0 ? line0 : ch[k - 1].line0 + ch[k - 1].nl;
		if (P->par.prefix) {
			/* Types still open: count, then decide once the rows that decide are in. */
			count_prefix(P, m);
			if (!dirty && (rc = settle_window(P, f, m, e)) != 0) {
				if (rc < 0)
					return rc;
				dirty = 1;
			}
			if ((P->left == 0 || (eof && W.have == 0)) &&
			    (rc = decide_types(P, m, dirty)) != 0)
				return rc;
		}
		if (!dirty && (rc = append_window(P, f, m, end, first_window, eof, e)) != 0)
			return rc;
		line0 = ch[m - 1].line0 + ch[m - 1].nl;
		first_window = 0;
		if (P->progress)
			P->progress(P->progress_ud, (double)W.off / 1e6, (double)P->st.st_size / 1e6,
				    "MB", "read");
		if (P->nxt) {
			W.dst = P->buf;
			P->buf = P->nxt;
			P->nxt = W.dst;
		} else {
			memmove(P->buf, P->buf + end, have - end);
			fill(&W);
			if (!W.err)
				plan(&W);
		}
		have = W.have;
		eof = W.eof;
	}
	if (W.err)
		return 1;
	/* A file shorter than the rows that decide: they are all in. */
	if (P->par.prefix && (rc = decide_types(P, 0, dirty)) != 0)
		return rc;
	return 0;
}

/* Give back what the growing columns reserved beyond the rows. */
static void shrink(struct ml_frame *f)
{
	size_t n = f->rows.nrow ? f->rows.nrow : 1;
	long *l;
	int j;

	if (f->rows.cap <= f->rows.nrow + 1)
		return;
	for (j = 0; j < f->schema.ncol; j++) {
		size_t sz = f->schema.cols[j].type == ML_NUM ? sizeof(double) : sizeof(int32_t);
		void *q = realloc(f->rows.col[j].num, n * sz);
		if (q)
			f->rows.col[j].num = q;
	}
	if ((l = realloc(f->rows.line, n * sizeof(long))))
		f->rows.line = l;
	f->rows.cap = n;
}

int ml_frame_read_parallel(struct ml_frame *f, const char *path, const struct ml_read_opts *o,
			   struct ml_err *e, int *warned)
{
	struct pread P;
	int rc;

	memset(&P, 0, sizeof(P));
	P.fd = -1;
	rc = pread_open(&P, path, o, e);
	*warned = P.hr != NULL;
	if (rc == 0)
		rc = pread_alloc(&P, o, e);
	P.par.prefix = 1;
	while (rc == 0 && (rc = pread_pass(&P, f, e)) == 2)
		rc = 0;
	if (rc == 0)
		shrink(f);
	else {
		ml_frame_release(f);
		ml_frame_init(f);
	}
	pread_release(&P);
	return rc;
}
