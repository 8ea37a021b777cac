/* Byte inputs with transparent gzip, and atomic outputs (temporary file + fsync + rename). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "ml/io.h"

#define IN_CHUNK (256 * 1024)
/* Reads at least this large of plain input skip the buffer. */
#define DIRECT_READ (16 * 1024)

struct ml_input {
	int fd, own_fd;
	char *name;
	int gz, gz_done, eof;
	z_stream zs;
	unsigned char *zbuf; /* compressed bytes */
	size_t zlen;
	unsigned char *buf; /* data bytes: [pos, end) are unread */
	size_t pos, end, cap;
	unsigned long long off;
};

static int set_io_err(struct ml_input *in, struct ml_err *e)
{
	return ml_err_set(e, ML_E_IO, in->name, 0, 0, "read error: %s", strerror(errno));
}

/* read(2) that retries on EINTR. */
static long raw_read(struct ml_input *in, void *p, size_t n, struct ml_err *e)
{
	for (;;) {
		ssize_t r = read(in->fd, p, n);
		if (r >= 0)
			return (long)r;
		if (errno != EINTR)
			return set_io_err(in, e);
	}
}

static int grow(struct ml_input *in, size_t need, struct ml_err *e)
{
	unsigned char *p;
	size_t cap;

	if (in->pos > 0 && in->pos == in->end)
		in->pos = in->end = 0;
	if (in->cap - in->pos >= need)
		return 0;
	if (in->pos > 0) {
		memmove(in->buf, in->buf + in->pos, in->end - in->pos);
		in->end -= in->pos;
		in->pos = 0;
		if (in->cap >= need)
			return 0;
	}
	cap = in->cap ? in->cap : IN_CHUNK;
	while (cap < need)
		cap *= 2;
	p = realloc(in->buf, cap);
	if (!p)
		return ml_err_nomem(e);
	in->buf = p;
	in->cap = cap;
	return 0;
}

static int gz_begin(struct ml_input *in, struct ml_err *e)
{
	memset(&in->zs, 0, sizeof(in->zs));
	if (inflateInit2(&in->zs, 15 + 16) != Z_OK)
		return ml_err_nomem(e);
	in->zbuf = malloc(IN_CHUNK);
	if (!in->zbuf)
		return ml_err_nomem(e);
	in->gz = 1;
	return 0;
}

/* Append more data bytes to buf; returns bytes added, 0 at the end. */
static long fill(struct ml_input *in, struct ml_err *e)
{
	long r;

	if (in->eof)
		return 0;
	if (grow(in, in->end - in->pos + IN_CHUNK, e) < 0)
		return ML_E_NOMEM;
	if (!in->gz) {
		r = raw_read(in, in->buf + in->end, in->cap - in->end, e);
		if (r < 0)
			return r;
		if (r == 0)
			in->eof = 1;
		in->end += (size_t)r;
		return r;
	}
	for (;;) {
		int zr;
		size_t before = in->end;

		if (in->zs.avail_in == 0) {
			r = raw_read(in, in->zbuf, IN_CHUNK, e);
			if (r < 0)
				return r;
			if (r == 0) {
				if (in->gz_done) {
					in->eof = 1;
					return 0;
				}
				return ml_err_set(e, ML_E_DATA, in->name, 0, 0,
						  "truncated gzip data");
			}
			in->zs.next_in = in->zbuf;
			in->zs.avail_in = (uInt)r;
		}
		if (in->gz_done) {
			/* Another member must follow; anything else is garbage. */
			if (in->zs.next_in[0] != 0x1f) {
				return ml_err_set(e, ML_E_DATA, in->name, 0, 0,
						  "trailing garbage after gzip data");
			}
			if (inflateReset(&in->zs) != Z_OK)
				return ml_err_set(e, ML_E_INTERNAL, in->name, 0, 0, "inflate reset");
			in->gz_done = 0;
		}
		in->zs.next_out = in->buf + in->end;
		in->zs.avail_out = (uInt)(in->cap - in->end);
		zr = inflate(&in->zs, Z_NO_FLUSH);
		in->end = in->cap - in->zs.avail_out;
		if (zr == Z_STREAM_END)
			in->gz_done = 1;
		else if (zr == Z_MEM_ERROR)
			return ml_err_nomem(e);
		else if (zr != Z_OK && zr != Z_BUF_ERROR)
			return ml_err_set(e, ML_E_DATA, in->name, 0, 0, "corrupt gzip data: %s",
					  in->zs.msg ? in->zs.msg : "inflate failed");
		if (in->end > before)
			return (long)(in->end - before);
	}
}

struct ml_input *ml_input_open(const char *path, struct ml_err *e)
{
	struct ml_input *in = calloc(1, sizeof(*in));
	const char *name = (!path || strcmp(path, "-") == 0) ? "<stdin>" : path;
	long r;

	if (!in || !(in->name = strdup(name))) {
		free(in);
		ml_err_nomem(e);
		return NULL;
	}
	if (!path || strcmp(path, "-") == 0) {
		in->fd = 0;
	} else {
		struct stat st;
		in->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (in->fd < 0) {
			ml_err_set(e, ML_E_NOINPUT, name, 0, 0, "cannot open: %s", strerror(errno));
			goto fail;
		}
		in->own_fd = 1;
		if (fstat(in->fd, &st) == 0 && S_ISDIR(st.st_mode)) {
			ml_err_set(e, ML_E_NOINPUT, name, 0, 0, "cannot open: Is a directory");
			goto fail;
		}
	}
	/* Sniff the gzip magic from the raw bytes. */
	if (grow(in, IN_CHUNK, e) < 0)
		goto fail;
	while (in->end < 2) {
		r = raw_read(in, in->buf + in->end, in->cap - in->end, e);
		if (r < 0)
			goto fail;
		if (r == 0)
			break;
		in->end += (size_t)r;
	}
	if (in->end >= 2 && in->buf[0] == 0x1f && in->buf[1] == 0x8b) {
		if (gz_begin(in, e) < 0)
			goto fail;
		memcpy(in->zbuf, in->buf, in->end);
		in->zs.next_in = in->zbuf;
		in->zs.avail_in = (uInt)in->end;
		in->end = 0;
	} else if (in->end < 2) {
		/* Nothing more can come from a source that ended early. */
		r = raw_read(in, in->buf + in->end, in->cap - in->end, e);
		if (r < 0)
			goto fail;
		in->end += (size_t)r;
		if (r == 0)
			in->eof = 1;
	}
	return in;
fail:
	ml_input_close(in);
	return NULL;
}

const char *ml_input_name(const struct ml_input *in)
{
	return in->name;
}

int ml_input_is_gzip(const struct ml_input *in)
{
	return in->gz;
}

unsigned long long ml_input_size(const struct ml_input *in)
{
	struct stat st;

	if (in->gz || fstat(in->fd, &st) != 0 || !S_ISREG(st.st_mode))
		return 0;
	return (unsigned long long)st.st_size;
}

unsigned long long ml_input_offset(const struct ml_input *in)
{
	return in->off;
}

long ml_input_peek(struct ml_input *in, const unsigned char **p, size_t n, struct ml_err *e)
{
	while (in->end - in->pos < n) {
		long r = fill(in, e);
		if (r < 0)
			return r;
		if (r == 0)
			break;
	}
	*p = in->buf + in->pos;
	return (long)(in->end - in->pos);
}

long ml_input_read(struct ml_input *in, void *buf, size_t n, struct ml_err *e)
{
	size_t have = in->end - in->pos;
	long r;

	if (have == 0) {
		if (!in->gz && n >= DIRECT_READ && !in->eof) {
			/* Large reads of plain input skip the copy. */
			r = raw_read(in, buf, n, e);
			if (r == 0)
				in->eof = 1;
			if (r > 0)
				in->off += (unsigned long long)r;
			return r;
		}
		r = fill(in, e);
		if (r <= 0)
			return r;
		have = in->end - in->pos;
	}
	if (have > n)
		have = n;
	memcpy(buf, in->buf + in->pos, have);
	in->pos += have;
	in->off += have;
	return (long)have;
}

int ml_input_read_full(struct ml_input *in, void *buf, size_t n, const char *what,
		       struct ml_err *e)
{
	unsigned char *p = buf;

	while (n > 0) {
		long r = ml_input_read(in, p, n, e);
		if (r < 0)
			return (int)r;
		if (r == 0)
			return ml_err_set(e, ML_E_DATA, in->name, 0, 0, "truncated %s", what);
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

void ml_input_close(struct ml_input *in)
{
	if (!in)
		return;
	if (in->gz)
		inflateEnd(&in->zs);
	if (in->own_fd)
		close(in->fd);
	free(in->zbuf);
	free(in->buf);
	free(in->name);
	free(in);
}

int ml_read_all(const char *path, unsigned char **buf, size_t *len, struct ml_err *e)
{
	struct ml_input *in = ml_input_open(path, e);
	unsigned char *p = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	*buf = NULL;
	*len = 0;
	if (!in)
		return e ? e->code : ML_E_NOINPUT;
	for (;;) {
		long r;
		if (cap - n < IN_CHUNK) {
			size_t nc = cap ? cap * 2 : IN_CHUNK * 2;
			unsigned char *q = realloc(p, nc);
			if (!q) {
				rc = ml_err_nomem(e);
				break;
			}
			p = q;
			cap = nc;
		}
		r = ml_input_read(in, p + n, cap - n, e);
		if (r < 0) {
			rc = (int)r;
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	ml_input_close(in);
	if (rc < 0) {
		free(p);
		return rc;
	}
	*buf = p;
	*len = n;
	return 0;
}

/* The process umask (read back at once; outputs are opened from one thread). */
static mode_t current_umask(void)
{
	mode_t m = umask(022);
	umask(m);
	return m;
}

struct ml_output {
	FILE *fp;
	char *path, *tmp;
	int direct; /* not a regular file: written in place, closed at the end */
};

struct ml_output *ml_output_open(const char *path, struct ml_err *e)
{
	struct ml_output *o = calloc(1, sizeof(*o));
	int fd;

	if (!o) {
		ml_err_nomem(e);
		return NULL;
	}
	if (!path || strcmp(path, "-") == 0) {
		o->fp = stdout;
		return o;
	}
	{
		/* A device or a FIFO (/dev/null, /dev/stdout, a named pipe) is written as it is:
		 * renaming a file over it would replace it. */
		struct stat st;
		if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
			if (S_ISDIR(st.st_mode)) {
				ml_err_set(e, ML_E_IO, path, 0, 0, "cannot write: Is a directory");
				free(o);
				return NULL;
			}
			o->fp = fopen(path, "wb");
			if (!o->fp) {
				ml_err_set(e, ML_E_IO, path, 0, 0, "cannot open: %s", strerror(errno));
				free(o);
				return NULL;
			}
			o->direct = 1;
			o->path = strdup(path);
			if (!o->path) {
				fclose(o->fp);
				free(o);
				ml_err_nomem(e);
				return NULL;
			}
			return o;
		}
	}
	o->path = strdup(path);
	o->tmp = malloc(strlen(path) + 16);
	if (!o->path || !o->tmp) {
		ml_err_nomem(e);
		goto fail;
	}
	{
		/* The temporary file sits beside the target: "DIR/.NAME.XXXXXX". */
		const char *slash = strrchr(path, '/');
		size_t dl = slash ? (size_t)(slash - path + 1) : 0;
		memcpy(o->tmp, path, dl);
		o->tmp[dl] = '.';
		memcpy(o->tmp + dl + 1, path + dl, strlen(path) - dl);
		memcpy(o->tmp + strlen(path) + 1, ".XXXXXX", 8);
	}
	fd = mkstemp(o->tmp);
	if (fd < 0) {
		ml_err_set(e, ML_E_IO, path, 0, 0, "cannot create: %s", strerror(errno));
		goto fail;
	}
	fchmod(fd, 0666 & ~current_umask());
	o->fp = fdopen(fd, "wb");
	if (!o->fp) {
		close(fd);
		unlink(o->tmp);
		ml_err_set(e, ML_E_IO, path, 0, 0, "cannot create: %s", strerror(errno));
		goto fail;
	}
	return o;
fail:
	free(o->path);
	free(o->tmp);
	free(o);
	return NULL;
}

FILE *ml_output_file(struct ml_output *o)
{
	return o->fp;
}

const char *ml_output_name(const struct ml_output *o)
{
	return o->path ? o->path : "<stdout>";
}

static void output_free(struct ml_output *o)
{
	free(o->path);
	free(o->tmp);
	free(o);
}

int ml_output_commit(struct ml_output *o, struct ml_err *e)
{
	int rc = 0, err;

	if (o->direct) {
		err = fflush(o->fp) != 0 || ferror(o->fp);
		if (fclose(o->fp) != 0)
			err = 1;
		if (err)
			rc = ml_err_set(e, ML_E_IO, o->path, 0, 0, "write error: %s", strerror(errno));
		output_free(o);
		return rc;
	}
	if (!o->path) {
		if (fflush(o->fp) != 0 || ferror(o->fp))
			rc = ml_err_set(e, ML_E_IO, "<stdout>", 0, 0, "write error: %s",
					strerror(errno));
		output_free(o);
		return rc;
	}
	err = fflush(o->fp) != 0 || ferror(o->fp);
	if (!err && fsync(fileno(o->fp)) != 0 && errno != EINVAL)
		err = 1;
	if (fclose(o->fp) != 0)
		err = 1;
	if (err) {
		rc = ml_err_set(e, ML_E_IO, o->path, 0, 0, "write error: %s", strerror(errno));
		unlink(o->tmp);
	} else if (rename(o->tmp, o->path) != 0) {
		rc = ml_err_set(e, ML_E_IO, o->path, 0, 0, "cannot rename into place: %s",
				strerror(errno));
		unlink(o->tmp);
	}
	output_free(o);
	return rc;
}

void ml_output_abort(struct ml_output *o)
{
	if (!o)
		return;
	if (o->direct) {
		fclose(o->fp);
	} else if (o->path) {
		fclose(o->fp);
		unlink(o->tmp);
	} else {
		fflush(o->fp);
	}
	output_free(o);
}

int ml_write_atomic(const char *path, const void *buf, size_t len, struct ml_err *e)
{
	struct ml_output *o = ml_output_open(path, e);

	if (!o)
		return e ? e->code : ML_E_IO;
	if (len && fwrite(buf, 1, len, o->fp) != len) {
		int rc = ml_err_set(e, ML_E_IO, ml_output_name(o), 0, 0, "write error: %s",
				    strerror(errno));
		ml_output_abort(o);
		return rc;
	}
	return ml_output_commit(o, e);
}
