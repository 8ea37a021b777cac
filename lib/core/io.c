/* Byte inputs with transparent gzip, and atomic outputs (temporary file + fsync + rename). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
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

/* Which standard descriptors were closed at start (ML_STDIN_CLOSED, ML_STDOUT_CLOSED). */
static unsigned std_closed;

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
		if (std_closed & ML_STDIN_CLOSED) {
			ml_err_set(e, ML_E_NOINPUT, name, 0, 0, "standard input is closed");
			goto fail;
		}
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

void ml_io_std_closed(unsigned mask)
{
	std_closed = mask;
}

/* The process umask (read back at once; outputs are opened from one thread). */
static mode_t current_umask(void)
{
	mode_t m = umask(022);
	umask(m);
	return m;
}

/* The temporaries of the open outputs, for ml_output_remove_temps. A signal handler reads
 * them at any moment and on any thread, so a slot is claimed and emptied atomically, a name
 * is registered before the file exists, and it is freed only when its slot is empty and no
 * handler has begun. More outputs than slots are written all the same, unregistered. */
#define TMP_SLOTS 64
static _Atomic(char *) tmp_slot[TMP_SLOTS];
static atomic_int tmp_dying;

static int tmp_register(char *name)
{
	int i;

	for (i = 0; i < TMP_SLOTS; i++) {
		char *none = NULL;
		if (atomic_compare_exchange_strong(&tmp_slot[i], &none, name))
			return i;
	}
	return -1;
}

static void tmp_unregister(int slot)
{
	if (slot < 0)
		return;
	atomic_store(&tmp_slot[slot], NULL);
	/* A handler that has begun may still be reading the name, and it ends the process:
	 * wait for that rather than free the name under it. */
	while (atomic_load(&tmp_dying))
		pause();
}

void ml_output_remove_temps(void)
{
	int i;

	atomic_store(&tmp_dying, 1);
	for (i = 0; i < TMP_SLOTS; i++) {
		char *p = atomic_load(&tmp_slot[i]);
		if (p)
			unlink(p);
	}
}

/* The file that writing path means: path with its symbolic links followed, so that the
 * link stays and its target is replaced (a dangling link names the file to create).
 * NULL with errno set on failure. */
static char *follow_links(const char *path)
{
	char *p = strdup(path);
	int hops;

	for (hops = 0; p; hops++) {
		struct stat st;
		char *link, *q;
		const char *slash;
		ssize_t n;
		size_t cap, dl;

		if (lstat(p, &st) != 0 || !S_ISLNK(st.st_mode))
			return p;
		if (hops == 40) {
			free(p);
			errno = ELOOP;
			return NULL;
		}
		cap = st.st_size > 0 ? (size_t)st.st_size + 1 : PATH_MAX;
		if (!(link = malloc(cap))) {
			free(p);
			errno = ENOMEM;
			return NULL;
		}
		n = readlink(p, link, cap);
		if (n < 0 || (size_t)n >= cap) {
			if (n >= 0)
				errno = ENAMETOOLONG; /* the link grew since lstat */
			free(link);
			free(p);
			return NULL;
		}
		link[n] = 0;
		slash = strrchr(p, '/');
		dl = link[0] == '/' || !slash ? 0 : (size_t)(slash - p + 1);
		if (!(q = malloc(dl + (size_t)n + 1))) {
			free(link);
			free(p);
			errno = ENOMEM;
			return NULL;
		}
		memcpy(q, p, dl);
		memcpy(q + dl, link, (size_t)n + 1);
		free(link);
		free(p);
		p = q;
	}
	errno = ENOMEM;
	return NULL;
}

/* The temporary file beside target: "DIR/.NAME.mlpipe-tmp.PID.XXXXXX", which says what it
 * is and whose it was if a killed run leaves it behind; NAME is cut to keep within
 * NAME_MAX. */
static char *tmp_name(const char *target)
{
	const char *slash = strrchr(target, '/');
	size_t dl = slash ? (size_t)(slash - target + 1) : 0, bl = strlen(target + dl), tl;
	char tail[48], *t;

	tl = (size_t)snprintf(tail, sizeof(tail), ".mlpipe-tmp.%ld.XXXXXX", (long)getpid());
	if (1 + bl + tl > NAME_MAX) {
		bl = NAME_MAX - 1 - tl;
		while (bl > 0 && ((unsigned char)target[dl + bl] & 0xc0) == 0x80)
			bl--; /* not inside a UTF-8 sequence */
	}
	if (!(t = malloc(dl + 1 + bl + tl + 1)))
		return NULL;
	memcpy(t, target, dl);
	t[dl] = '.';
	memcpy(t + dl + 1, target + dl, bl);
	memcpy(t + dl + 1 + bl, tail, tl + 1);
	return t;
}

struct ml_output {
	FILE *fp;
	char *path;   /* as given, for messages */
	char *target; /* path with its links followed: what the temporary is renamed onto */
	char *tmp;
	int slot;   /* tmp's place among the registered temporaries, or -1 */
	int direct; /* not a regular file: written in place, closed at the end */
	int failed; /* ml_output_sync's error, for the commit that follows it */
};

static void output_free(struct ml_output *o)
{
	tmp_unregister(o->slot);
	free(o->path);
	free(o->target);
	free(o->tmp);
	free(o);
}

struct ml_output *ml_output_open(const char *path, struct ml_err *e)
{
	struct ml_output *o = calloc(1, sizeof(*o));
	struct stat st;
	int fd, have;

	if (!o) {
		ml_err_nomem(e);
		return NULL;
	}
	o->slot = -1;
	if (!path || strcmp(path, "-") == 0) {
		if (std_closed & ML_STDOUT_CLOSED) {
			ml_err_set(e, ML_E_IO, "<stdout>", 0, 0, "standard output is closed");
			free(o);
			return NULL;
		}
		o->fp = stdout;
		return o;
	}
	if (!(o->path = strdup(path)))
		goto nomem;
	if (!(o->target = follow_links(path))) {
		if (errno == ENOMEM)
			goto nomem;
		ml_err_set(e, ML_E_IO, path, 0, 0, "cannot open: %s", strerror(errno));
		goto fail;
	}
	have = stat(o->target, &st) == 0;
	if (have && !S_ISREG(st.st_mode)) {
		/* A device or a FIFO (/dev/null, /dev/stdout, a named pipe) is written as it is:
		 * renaming a file over it would replace it. */
		if (S_ISDIR(st.st_mode)) {
			ml_err_set(e, ML_E_IO, path, 0, 0, "cannot write: Is a directory");
			goto fail;
		}
		if (!(o->fp = fopen(path, "wb"))) {
			ml_err_set(e, ML_E_IO, path, 0, 0, "cannot open: %s", strerror(errno));
			goto fail;
		}
		o->direct = 1;
		return o;
	}
	if (!(o->tmp = tmp_name(o->target)))
		goto nomem;
	o->slot = tmp_register(o->tmp);
	fd = mkostemp(o->tmp, O_CLOEXEC);
	if (fd < 0) {
		ml_err_set(e, ML_E_IO, path, 0, 0, "cannot create: %s", strerror(errno));
		goto fail;
	}
	/* An existing file keeps its owner (where permitted, else its group where permitted)
	 * and its mode; a new one gets the umask's. */
	if (have) {
		if (fchown(fd, st.st_uid, st.st_gid) != 0 && fchown(fd, (uid_t)-1, st.st_gid) != 0)
			errno = 0;
		fchmod(fd, st.st_mode & 07777);
	} else {
		fchmod(fd, 0666 & ~current_umask());
	}
	if (!(o->fp = fdopen(fd, "wb"))) {
		int err = errno;
		close(fd);
		unlink(o->tmp);
		if (err == ENOMEM)
			goto nomem;
		ml_err_set(e, ML_E_IO, path, 0, 0, "cannot create: %s", strerror(err));
		goto fail;
	}
	return o;
nomem:
	ml_err_nomem(e);
fail:
	output_free(o);
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

int ml_output_sync(struct ml_output *o, struct ml_err *e)
{
	int err, no;

	if (!o->fp)
		return o->failed;
	errno = 0;
	err = fflush(o->fp) != 0 || ferror(o->fp);
	no = errno;
	if (!err && o->path && !o->direct && fsync(fileno(o->fp)) != 0 && errno != EINVAL) {
		err = 1;
		no = errno;
	}
	if (o->path && fclose(o->fp) != 0 && !err) {
		err = 1;
		no = errno;
	}
	if (o->path)
		o->fp = NULL;
	if (!err)
		return 0;
	/* a stream's error flag from an earlier write that was not checked: errno is gone */
	o->failed = ml_err_set(e, ML_E_IO, ml_output_name(o), 0, 0, "write error: %s",
			       strerror(no ? no : EIO));
	return o->failed;
}

int ml_output_commit(struct ml_output *o, struct ml_err *e)
{
	int rc = ml_output_sync(o, e);

	if (rc == 0 && o->tmp && rename(o->tmp, o->target) != 0)
		rc = ml_err_set(e, ML_E_IO, o->path, 0, 0, "cannot rename into place: %s",
				strerror(errno));
	if (rc < 0 && o->tmp)
		unlink(o->tmp);
	output_free(o);
	return rc;
}

void ml_output_abort(struct ml_output *o)
{
	if (!o)
		return;
	if (!o->path) {
		fflush(o->fp);
	} else {
		if (o->fp)
			fclose(o->fp);
		if (o->tmp)
			unlink(o->tmp);
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
