/* A disk that fills up, preloaded (LD_PRELOAD) into a command: files it opens for writing
 * through fdopen (every output's temporary) take ML_FAILWRITE=K bytes in all, then each
 * write fails with ML_FAILWRITE_ERRNO (ENOSPC, the default, or EIO); the first K bytes are
 * written, as a disk that filled would have them. ML_FAILWRITE_SYNC=1 lets every write
 * through and fails fsync instead, as a delayed error of a network file system does.
 * Standard output is not touched: /dev/full fails it. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_FILES 64

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long long budget = -1; /* bytes left; -1: no limit */
static int fail_errno = ENOSPC, fail_sync;
static struct {
	FILE *fp;
	int fd;
} files[MAX_FILES];

__attribute__((constructor)) static void failwrite_init(void)
{
	const char *k = getenv("ML_FAILWRITE"), *en = getenv("ML_FAILWRITE_ERRNO");

	if (k && *k)
		budget = strtoll(k, NULL, 10);
	if (en && strcmp(en, "EIO") == 0)
		fail_errno = EIO;
	fail_sync = getenv("ML_FAILWRITE_SYNC") && *getenv("ML_FAILWRITE_SYNC") == '1';
}

/* All of buf to fd, or -1. */
static int put(int fd, const char *buf, size_t n)
{
	while (n) {
		ssize_t w = write(fd, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

static ssize_t cookie_write(void *c, const char *buf, size_t n)
{
	int fd = (int)(long)c;
	size_t take = n;
	int full = 0;

	pthread_mutex_lock(&lock);
	if (budget >= 0 && (long long)n > budget) {
		take = (size_t)budget;
		full = 1;
	}
	if (budget >= 0)
		budget -= (long long)take;
	pthread_mutex_unlock(&lock);
	if (put(fd, buf, take) < 0)
		return -1;
	if (full) {
		errno = fail_errno;
		return -1;
	}
	return (ssize_t)n;
}

static int cookie_close(void *c)
{
	return close((int)(long)c);
}

static FILE *(*real_fdopen(void))(int, const char *)
{
	return (FILE * (*)(int, const char *)) dlsym(RTLD_NEXT, "fdopen");
}

FILE *fdopen(int fd, const char *mode)
{
	cookie_io_functions_t io = {NULL, cookie_write, NULL, cookie_close};
	FILE *fp;
	int i;

	if (mode[0] != 'w' && mode[0] != 'a')
		return real_fdopen()(fd, mode);
	if (!(fp = fopencookie((void *)(long)fd, mode, io)))
		return NULL;
	pthread_mutex_lock(&lock);
	for (i = 0; i < MAX_FILES && files[i].fp; i++)
		;
	if (i < MAX_FILES) {
		files[i].fp = fp;
		files[i].fd = fd;
	}
	pthread_mutex_unlock(&lock);
	return fp;
}

/* A cookie stream has no descriptor of its own: give the one behind it. */
int fileno(FILE *fp)
{
	static int (*real)(FILE *);
	int i, fd = -2;

	pthread_mutex_lock(&lock);
	for (i = 0; i < MAX_FILES; i++)
		if (files[i].fp == fp)
			fd = files[i].fd;
	pthread_mutex_unlock(&lock);
	if (fd != -2)
		return fd;
	if (!real)
		real = (int (*)(FILE *))dlsym(RTLD_NEXT, "fileno");
	return real(fp);
}

int fclose(FILE *fp)
{
	static int (*real)(FILE *);
	int i;

	pthread_mutex_lock(&lock);
	for (i = 0; i < MAX_FILES; i++)
		if (files[i].fp == fp)
			files[i].fp = NULL;
	pthread_mutex_unlock(&lock);
	if (!real)
		real = (int (*)(FILE *))dlsym(RTLD_NEXT, "fclose");
	return real(fp);
}

int fsync(int fd)
{
	static int (*real)(int);

	if (fail_sync) {
		errno = fail_errno;
		return -1;
	}
	if (!real)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	return real(fd);
}
