/* Per-row latency of a line-buffered scorer: feeds CSV rows one at a time through a pipe and
 * times each until its output line arrives. Usage: latency CSV ROWS WARMUP OUT -- CMD [ARG]... */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct outbuf {
	int fd;
	char buf[1 << 16];
	size_t len;
};

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void die(const char *what)
{
	fprintf(stderr, "latency: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			die("write to the scorer");
		}
		p += w;
		n -= (size_t)w;
	}
}

/* Read one line from the scorer's output into line (without its newline); 0 at end. */
static int read_line(struct outbuf *o, char *line, size_t cap)
{
	for (;;) {
		char *nl = memchr(o->buf, '\n', o->len);
		if (nl) {
			size_t n = (size_t)(nl - o->buf);
			if (n >= cap)
				n = cap - 1;
			memcpy(line, o->buf, n);
			line[n] = 0;
			o->len -= (size_t)(nl - o->buf) + 1;
			memmove(o->buf, nl + 1, o->len);
			return 1;
		}
		if (o->len == sizeof(o->buf)) {
			fprintf(stderr, "latency: output line too long\n");
			exit(1);
		}
		ssize_t r = read(o->fd, o->buf + o->len, sizeof(o->buf) - o->len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			die("read from the scorer");
		}
		if (r == 0)
			return 0;
		o->len += (size_t)r;
	}
}

static double pct(const double *v, long n, double p)
{
	long i = (long)(p * (double)(n - 1) + 0.5);
	return v[i];
}

int main(int argc, char **argv)
{
	static struct outbuf o;
	char line[1 << 12], *text = NULL, **rows = NULL;
	long nrows, warm, total, have = 0, i;
	size_t cap = 0;
	ssize_t len;
	int in[2], out[2], status, header_seen = 0;
	double *lat, sum = 0;
	FILE *f, *save;
	pid_t pid;

	if (argc < 7 || strcmp(argv[5], "--") != 0) {
		fprintf(stderr, "usage: latency CSV ROWS WARMUP OUT -- CMD [ARG]...\n");
		return 2;
	}
	nrows = strtol(argv[2], NULL, 10);
	warm = strtol(argv[3], NULL, 10);
	total = nrows + warm;
	if (nrows < 1 || warm < 0)
		return 2;
	f = fopen(argv[1], "r");
	if (!f)
		die(argv[1]);
	rows = calloc((size_t)total + 1, sizeof(*rows));
	lat = calloc((size_t)nrows, sizeof(*lat));
	if (!rows || !lat)
		die("memory");
	/* rows[0] is the header */
	while (have <= total && (len = getline(&text, &cap, f)) > 0) {
		rows[have] = malloc((size_t)len + 1);
		if (!rows[have])
			die("memory");
		memcpy(rows[have], text, (size_t)len + 1);
		have++;
	}
	fclose(f);
	free(text);
	if (have < total + 1) {
		fprintf(stderr, "latency: %s has fewer than %ld rows\n", argv[1], total);
		return 1;
	}
	save = fopen(argv[4], "w");
	if (!save)
		die(argv[4]);

	if (pipe(in) < 0 || pipe(out) < 0)
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		execvp(argv[6], argv + 6);
		fprintf(stderr, "latency: cannot run '%s': %s\n", argv[6], strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	signal(SIGPIPE, SIG_IGN);
	o.fd = out[0];

	write_all(in[1], rows[0], strlen(rows[0]));
	for (i = 1; i <= total; i++) {
		double t0 = now(), t1;
		write_all(in[1], rows[i], strlen(rows[i]));
		/* the first line out is the output header; then one line per row */
		for (;;) {
			if (!read_line(&o, line, sizeof(line))) {
				fprintf(stderr, "latency: scorer ended after %ld of %ld rows\n", i - 1,
					total);
				return 1;
			}
			fprintf(save, "%s\n", line);
			if (header_seen)
				break;
			header_seen = 1;
		}
		t1 = now();
		if (i > warm)
			lat[i - warm - 1] = t1 - t0;
	}
	close(in[1]);
	while (read_line(&o, line, sizeof(line)))
		fprintf(save, "%s\n", line);
	if (waitpid(pid, &status, 0) < 0)
		die("waitpid");
	if (fclose(save) != 0)
		die(argv[4]);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "latency: scorer failed (status %d)\n", status);
		return 1;
	}
	for (i = 0; i < nrows; i++)
		sum += lat[i];
	qsort(lat, (size_t)nrows, sizeof(*lat), cmp_double);
	printf("rows %ld warmup %ld mean_us %.1f p50_us %.1f p90_us %.1f p99_us %.1f p999_us %.1f "
	       "max_us %.1f\n",
	       nrows, warm, sum / nrows * 1e6, pct(lat, nrows, 0.5) * 1e6, pct(lat, nrows, 0.9) * 1e6,
	       pct(lat, nrows, 0.99) * 1e6, pct(lat, nrows, 0.999) * 1e6, lat[nrows - 1] * 1e6);
	for (i = 0; i <= total; i++)
		free(rows[i]);
	free(rows);
	free(lat);
	return 0;
}
