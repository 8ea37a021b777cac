/* Reads as a pipe or a slow device gives them, preloaded (LD_PRELOAD) into a command: each
 * read and pread returns fewer bytes than asked (often one) or fails with EINTR before
 * reading, at random from ML_SHORTREAD_SEED (a number; the same seed, the same sequence on
 * one thread). A reader must give the same results as with whole reads. */
#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

static uint64_t seed;
static int on;
static atomic_ulong threads;
static _Thread_local uint64_t state;

__attribute__((constructor)) static void shortread_init(void)
{
	const char *s = getenv("ML_SHORTREAD_SEED");

	if (s && *s) {
		seed = strtoull(s, NULL, 10) * 0x9e3779b97f4a7c15ULL + 1;
		on = 1;
	}
}

/* splitmix64, one stream per thread, in the order the threads first read */
static uint64_t next(void)
{
	uint64_t z;

	if (!state)
		state = seed + (atomic_fetch_add(&threads, 1) + 1) * 0xda942042e4dd58b5ULL;
	z = (state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* How much of n to ask for, or 0 to fail with EINTR. */
static size_t cut(size_t n)
{
	uint64_t r = next();

	if (!on || n <= 1)
		return n;
	switch (r % 8) {
	case 0:
		return 0;
	case 1:
	case 2:
		return 1;
	case 3:
		return n;
	default:
		return 1 + (size_t)((r >> 8) % n);
	}
}

ssize_t read(int fd, void *buf, size_t n)
{
	static ssize_t (*real)(int, void *, size_t);
	size_t m = cut(n);

	if (!real)
		real = (ssize_t(*)(int, void *, size_t))dlsym(RTLD_NEXT, "read");
	if (!m) {
		errno = EINTR;
		return -1;
	}
	return real(fd, buf, m);
}

static ssize_t short_pread(const char *name, int fd, void *buf, size_t n, off_t off)
{
	static ssize_t (*real)(int, void *, size_t, off_t);
	size_t m = cut(n);

	if (!real)
		real = (ssize_t(*)(int, void *, size_t, off_t))dlsym(RTLD_NEXT, name);
	if (!m) {
		errno = EINTR;
		return -1;
	}
	return real(fd, buf, m, off);
}

ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	return short_pread("pread", fd, buf, n, off);
}

ssize_t pread64(int fd, void *buf, size_t n, off_t off)
{
	return short_pread("pread64", fd, buf, n, off);
}
