/* Allocation failures on demand, linked into the fault build of the commands, whose
 * allocations reach it through -Wl,--wrap=malloc,... (libml, the commands, and libcsv and
 * zlib where they are linked in statically) and cJSON's hooks.
 *
 * ML_FAILMALLOC=N makes allocation number N (from 1) fail, once; ML_FAILMALLOC=N+ makes it
 * and every later one fail. When allocation N fails, the file named by ML_FAILMALLOC_HIT is
 * created, so that a sweep over N knows that the run reached N. ML_FAILMALLOC_COUNT=FILE
 * writes the number of allocations made into FILE at exit. Without ML_FAILMALLOC nothing
 * fails. Threads draw from one counter: sweep with one thread. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
void *__real_aligned_alloc(size_t a, size_t n);
int __real_posix_memalign(void **p, size_t a, size_t n);

void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
void *__wrap_aligned_alloc(size_t a, size_t n);
int __wrap_posix_memalign(void **p, size_t a, size_t n);

static atomic_ulong count;
static unsigned long fail_at;
static int fail_after;
static const char *hit;

__attribute__((constructor)) static void failmalloc_init(void)
{
	const char *v = getenv("ML_FAILMALLOC");
	cJSON_Hooks hooks = {__wrap_malloc, free};
	char *end;

	cJSON_InitHooks(&hooks);
	if (!v || !*v)
		return;
	fail_at = strtoul(v, &end, 10);
	fail_after = *end == '+';
	hit = getenv("ML_FAILMALLOC_HIT");
}

__attribute__((destructor)) static void failmalloc_count(void)
{
	const char *path = getenv("ML_FAILMALLOC_COUNT");
	FILE *f;

	if (!path || !(f = fopen(path, "w")))
		return;
	fprintf(f, "%lu\n", (unsigned long)atomic_load(&count));
	fclose(f);
}

static int fail_now(void)
{
	unsigned long n = atomic_fetch_add(&count, 1) + 1;

	if (!fail_at || n < fail_at || (n > fail_at && !fail_after))
		return 0;
	if (n == fail_at && hit) {
		int fd = open(hit, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd >= 0)
			close(fd);
	}
	errno = ENOMEM;
	return 1;
}

void *__wrap_malloc(size_t n)
{
	return fail_now() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t m)
{
	return fail_now() ? NULL : __real_calloc(n, m);
}

void *__wrap_realloc(void *p, size_t n)
{
	return fail_now() ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
	return fail_now() ? NULL : __real_strdup(s);
}

void *__wrap_aligned_alloc(size_t a, size_t n)
{
	return fail_now() ? NULL : __real_aligned_alloc(a, n);
}

int __wrap_posix_memalign(void **p, size_t a, size_t n)
{
	return fail_now() ? ENOMEM : __real_posix_memalign(p, a, n);
}
