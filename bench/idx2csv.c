/* Converts a pair of gzip IDX files (the MNIST format: an idx3 ubyte image file and an
 * idx1 ubyte label file, as in Debian's dataset-fashion-mnist) to CSV on standard output:
 *   idx2csv IMAGES.gz LABELS.gz [--no-header] >out.csv
 * Columns label,p1..pN (N = rows x columns of an image, 784 for 28 x 28), label first,
 * pixels as integers 0-255 in row-major order. Exit status: 0 success, 2 usage, 65 bad
 * input (magic number, sizes, short or overlong data), 66 cannot open, 71 out of memory,
 * 74 read/write error. Uncompressed IDX files are read as well (gzread passes them through).
 * Build: cc -O2 -std=c11 -Wall -Wextra -o idx2csv bench/idx2csv.c -lz */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define EX_USAGE 2
#define EX_DATA 65
#define EX_NOINPUT 66
#define EX_NOMEM 71
#define EX_IOERR 74

static const char *prog = "idx2csv";

static _Noreturn void die(int code, const char *file, const char *msg)
{
	if (file)
		fprintf(stderr, "%s: %s: %s\n", prog, file, msg);
	else
		fprintf(stderr, "%s: %s\n", prog, msg);
	exit(code);
}

static gzFile open_gz(const char *path)
{
	gzFile g;

	errno = 0;
	g = gzopen(path, "rb");

	if (!g)
		die(EX_NOINPUT, path, errno ? strerror(errno) : "cannot open");
	gzbuffer(g, 1 << 17);
	return g;
}

/* Reads exactly n bytes; a short read is bad input, a zlib failure too (corrupt data). */
static void read_exact(gzFile g, const char *path, void *buf, size_t n, const char *what)
{
	unsigned char *p = buf;

	while (n > 0) {
		unsigned chunk = n > (1u << 30) ? 1u << 30 : (unsigned)n;
		int r = gzread(g, p, chunk);
		if (r < 0) {
			int zerr;
			const char *m = gzerror(g, &zerr);
			die(zerr == Z_ERRNO ? EX_IOERR : EX_DATA, path, m);
		}
		if (r == 0) {
			char msg[128];
			snprintf(msg, sizeof(msg), "truncated: the file ends inside the %s", what);
			die(EX_DATA, path, msg);
		}
		p += r;
		n -= (size_t)r;
	}
}

static unsigned long be32(const unsigned char *b)
{
	return (unsigned long)b[0] << 24 | (unsigned long)b[1] << 16 | (unsigned long)b[2] << 8 |
	       (unsigned long)b[3];
}

/* Reads the magic number and the dimensions of an IDX header: the magic must be
 * 0x000008NN, unsigned bytes (0x08) in NN = `dims` dimensions. */
static void read_header(gzFile g, const char *path, int dims, unsigned long *size)
{
	unsigned char b[4];
	int i;

	read_exact(g, path, b, 4, "header");
	if (b[0] != 0 || b[1] != 0 || b[2] != 0x08 || b[3] != dims) {
		char msg[200];
		snprintf(msg, sizeof(msg),
			 "magic number 0x%02x%02x%02x%02x; expected 0x000008%02x (an idx%d file of "
			 "unsigned bytes)%s",
			 b[0], b[1], b[2], b[3], dims, dims,
			 b[0] != 0 || b[1] != 0 ? ", this is not an IDX file" : "");
		die(EX_DATA, path, msg);
	}
	for (i = 0; i < dims; i++) {
		read_exact(g, path, b, 4, "header");
		size[i] = be32(b);
	}
}

/* Checks that nothing follows the data. */
static void expect_end(gzFile g, const char *path)
{
	unsigned char c;
	int r = gzread(g, &c, 1);

	if (r < 0) {
		int zerr;
		const char *m = gzerror(g, &zerr);
		die(zerr == Z_ERRNO ? EX_IOERR : EX_DATA, path, m);
	}
	if (r > 0)
		die(EX_DATA, path, "more data than the header's sizes announce");
}

/* Appends the decimal digits of v (0-255) to p; returns the new end. */
static char *put_u8(char *p, unsigned v)
{
	if (v >= 100) {
		*p++ = (char)('0' + v / 100);
		v %= 100;
		*p++ = (char)('0' + v / 10);
		*p++ = (char)('0' + v % 10);
	} else if (v >= 10) {
		*p++ = (char)('0' + v / 10);
		*p++ = (char)('0' + v % 10);
	} else {
		*p++ = (char)('0' + v);
	}
	return p;
}

int main(int argc, char **argv)
{
	const char *ipath = NULL, *lpath = NULL;
	int header = 1, i;
	unsigned long isz[3], lsz[1], n, r, npix, j;
	gzFile gi, gl;
	unsigned char *pix, lab;
	char *line, *p;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--no-header") == 0)
			header = 0;
		else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			printf("Usage: %s IMAGES.gz LABELS.gz [--no-header] >out.csv\n", prog);
			return 0;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "%s: unknown option %s\n", prog, argv[i]);
			return EX_USAGE;
		} else if (!ipath)
			ipath = argv[i];
		else if (!lpath)
			lpath = argv[i];
		else {
			fprintf(stderr, "%s: too many arguments\n", prog);
			return EX_USAGE;
		}
	}
	if (!ipath || !lpath) {
		fprintf(stderr, "Usage: %s IMAGES.gz LABELS.gz [--no-header] >out.csv\n", prog);
		return EX_USAGE;
	}

	gi = open_gz(ipath);
	gl = open_gz(lpath);
	read_header(gi, ipath, 3, isz);
	read_header(gl, lpath, 1, lsz);
	if (isz[1] == 0 || isz[2] == 0 || isz[1] > 4096 || isz[2] > 4096) {
		char msg[128];
		snprintf(msg, sizeof(msg), "implausible image size %lu x %lu", isz[1], isz[2]);
		die(EX_DATA, ipath, msg);
	}
	if (isz[0] != lsz[0]) {
		char msg[160];
		snprintf(msg, sizeof(msg), "%lu images but %lu labels in %s", isz[0], lsz[0],
			 lpath);
		die(EX_DATA, ipath, msg);
	}
	n = isz[0];
	npix = isz[1] * isz[2];
	pix = malloc(npix);
	line = malloc(4 * (npix + 1) + 2);
	if (!pix || !line)
		die(EX_NOMEM, NULL, "out of memory");

	if (header) {
		printf("label");
		for (j = 1; j <= npix; j++)
			printf(",p%lu", j);
		putchar('\n');
	}
	for (r = 0; r < n; r++) {
		read_exact(gi, ipath, pix, npix, "pixels");
		read_exact(gl, lpath, &lab, 1, "labels");
		p = put_u8(line, lab);
		for (j = 0; j < npix; j++) {
			*p++ = ',';
			p = put_u8(p, pix[j]);
		}
		*p++ = '\n';
		if (fwrite(line, 1, (size_t)(p - line), stdout) != (size_t)(p - line))
			die(EX_IOERR, NULL, strerror(errno));
	}
	expect_end(gi, ipath);
	expect_end(gl, lpath);
	gzclose(gi);
	gzclose(gl);
	free(pix);
	free(line);
	if (fflush(stdout) != 0 || ferror(stdout))
		die(EX_IOERR, NULL, strerror(errno));
	return 0;
}
