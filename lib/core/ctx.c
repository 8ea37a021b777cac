/* Run context: seeded random numbers, the thread pool and the log callback. */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#include <cblas.h>

#include "ml/ctx.h"

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void ml_rng_seed(struct ml_rng *r, uint64_t seed)
{
	uint64_t x = seed;
	int i;

	for (i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

void ml_rng_derive(struct ml_rng *out, uint64_t seed, uint64_t k)
{
	uint64_t x = seed;
	uint64_t mixed = splitmix64(&x) ^ (k * 0xd1342543de82ef95ULL + 0x2545f4914f6cdd1dULL);
	ml_rng_seed(out, mixed);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t ml_rng_next(struct ml_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

double ml_rng_uniform(struct ml_rng *r)
{
	return (double)(ml_rng_next(r) >> 11) * 0x1.0p-53;
}

uint64_t ml_rng_below(struct ml_rng *r, uint64_t n)
{
	/* Lemire's nearly divisionless method. */
	unsigned __int128 m = (unsigned __int128)ml_rng_next(r) * n;
	uint64_t l = (uint64_t)m;

	if (l < n) {
		uint64_t t = -n % n;
		while (l < t) {
			m = (unsigned __int128)ml_rng_next(r) * n;
			l = (uint64_t)m;
		}
	}
	return (uint64_t)(m >> 64);
}

double ml_rng_normal(struct ml_rng *r)
{
	/* Marsaglia's polar method; the second value is dropped to keep no state. */
	double u, v, s;

	do {
		u = 2 * ml_rng_uniform(r) - 1;
		v = 2 * ml_rng_uniform(r) - 1;
		s = u * u + v * v;
	} while (s >= 1 || s == 0);
	return u * sqrt(-2 * log(s) / s);
}

void ml_rng_shuffle(struct ml_rng *r, size_t *v, size_t n)
{
	size_t i;

	for (i = n; i > 1; i--) {
		size_t j = (size_t)ml_rng_below(r, i);
		size_t t = v[i - 1];
		v[i - 1] = v[j];
		v[j] = t;
	}
}

int ml_ncores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

struct ml_pool {
	int n;
	pthread_t *th;
	pthread_mutex_t mu;
	pthread_cond_t go, done;
	/* the job in progress */
	ml_task_fn fn;
	void *arg;
	size_t ntask, next;
	unsigned long running; /* workers still inside the job */
	unsigned long gen;
	int quit;
};

struct worker_arg {
	struct ml_pool *p;
	int id;
};

/* Tasks are handed out by an atomic counter (a lock per task cost a few per cent of a
 * boosting round); it runs past ntask by one per thread at the end of a job. */
static void run_tasks(struct ml_pool *p, int id)
{
	for (;;) {
		size_t t = __atomic_fetch_add(&p->next, 1, __ATOMIC_RELAXED);
		if (t >= p->ntask)
			return;
		p->fn(p->arg, t, id);
	}
}

/* How long an idle worker watches for the next job, and the caller for the workers to
 * finish, before sleeping on the condition variable: the jobs of a boosting round (dozens,
 * some of a few microseconds) then follow one another without waking a thread each time,
 * which costs tens of microseconds; bounded, so that an idle pool soon takes no CPU. The
 * counters watched are changed (under the mutex) and read by atomic read-modify-writes,
 * which race detectors also see as synchronisation. */
#define SPIN_NS 30000

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

/* Spin while *w == v, for SPIN_NS at most. */
static void spin_while(unsigned long *w, unsigned long v)
{
	struct timespec t;
	long long until = 0, now;
	unsigned k;

	for (k = 0; __atomic_fetch_add(w, 0, __ATOMIC_ACQUIRE) == v; k++) {
		if ((k & 63) == 0) {
			clock_gettime(CLOCK_MONOTONIC, &t);
			now = (long long)t.tv_sec * 1000000000 + t.tv_nsec;
			if (until == 0)
				until = now + SPIN_NS;
			else if (now > until)
				return;
		}
		cpu_relax();
	}
}

static void *worker(void *v)
{
	struct worker_arg *wa = v;
	struct ml_pool *p = wa->p;
	int id = wa->id;
	unsigned long seen = 0;

	free(wa);
	for (;;) {
		spin_while(&p->gen, seen);
		pthread_mutex_lock(&p->mu);
		while (!p->quit && p->gen == seen)
			pthread_cond_wait(&p->go, &p->mu);
		if (p->quit) {
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		seen = p->gen;
		pthread_mutex_unlock(&p->mu);
		run_tasks(p, id);
		pthread_mutex_lock(&p->mu);
		if (__atomic_sub_fetch(&p->running, 1, __ATOMIC_RELEASE) == 0)
			pthread_cond_signal(&p->done);
		pthread_mutex_unlock(&p->mu);
	}
}

struct ml_pool *ml_pool_new(int nthreads)
{
	struct ml_pool *p = calloc(1, sizeof(*p));
	int i;

	if (!p)
		return NULL;
	p->n = nthreads > 0 ? nthreads : ml_ncores();
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->go, NULL);
	pthread_cond_init(&p->done, NULL);
	/* Worker 0 is the caller; threads are started for the others. */
	if (p->n > 1) {
		p->th = calloc((size_t)p->n - 1, sizeof(*p->th));
		if (!p->th) {
			ml_pool_free(p);
			return NULL;
		}
		for (i = 1; i < p->n; i++) {
			struct worker_arg *wa = malloc(sizeof(*wa));
			if (wa) {
				wa->p = p;
				wa->id = i;
			}
			if (!wa || pthread_create(&p->th[i - 1], NULL, worker, wa) != 0) {
				free(wa);
				p->n = i; /* the threads started so far are the pool */
				break;
			}
		}
	}
	return p;
}

int ml_pool_size(const struct ml_pool *p)
{
	return p ? p->n : 1;
}

void ml_pool_run(struct ml_pool *p, size_t ntask, ml_task_fn fn, void *arg)
{
	size_t t;

	if (!p || p->n == 1 || ntask <= 1) {
		for (t = 0; t < ntask; t++)
			fn(arg, t, 0);
		return;
	}
	pthread_mutex_lock(&p->mu);
	p->fn = fn;
	p->arg = arg;
	p->ntask = ntask;
	__atomic_exchange_n(&p->next, 0, __ATOMIC_RELAXED);
	__atomic_exchange_n(&p->running, (unsigned long)p->n - 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&p->gen, 1, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&p->go);
	pthread_mutex_unlock(&p->mu);
	run_tasks(p, 0);
	/* running only falls, so spinning while it is the same keeps watching */
	for (;;) {
		unsigned long r = __atomic_fetch_add(&p->running, 0, __ATOMIC_ACQUIRE);
		if (r == 0)
			break;
		spin_while(&p->running, r);
		if (__atomic_fetch_add(&p->running, 0, __ATOMIC_ACQUIRE) == r)
			break; /* the time is up: sleep */
	}
	pthread_mutex_lock(&p->mu);
	while (p->running > 0)
		pthread_cond_wait(&p->done, &p->mu);
	pthread_mutex_unlock(&p->mu);
}

void ml_pool_free(struct ml_pool *p)
{
	int i;

	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->quit = 1;
	pthread_cond_broadcast(&p->go);
	pthread_mutex_unlock(&p->mu);
	for (i = 1; i < p->n && p->th; i++)
		pthread_join(p->th[i - 1], NULL);
	free(p->th);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->go);
	pthread_cond_destroy(&p->done);
	free(p);
}

int ml_ctx_init(struct ml_ctx *c, int threads, uint64_t seed, struct ml_err *e)
{
	memset(c, 0, sizeof(*c));
	c->threads = threads > 0 ? threads : ml_ncores();
	c->seed = seed;
	c->progress = 1;
	c->pool = ml_pool_new(c->threads);
	if (!c->pool)
		return ml_err_nomem(e);
	c->threads = ml_pool_size(c->pool);
	return 0;
}

void ml_ctx_release(struct ml_ctx *c)
{
	if (!c)
		return;
	ml_pool_free(c->pool);
	c->pool = NULL;
}

void ml_log(const struct ml_ctx *c, int level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!c || !c->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->log(c->log_ud, level, msg);
}

static pthread_mutex_t progress_lock = PTHREAD_MUTEX_INITIALIZER;

void ml_progress(const struct ml_ctx *c, double done, double total, const char *unit,
		 const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!c || !c->progress || (!c->on_progress && !c->log))
		return;
	/* the last report of a step waits its turn: it is the one a reader must see */
	if (total > 0 && done >= total)
		pthread_mutex_lock(&progress_lock);
	else if (pthread_mutex_trylock(&progress_lock) != 0)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->on_progress)
		c->on_progress(c->log_ud, done, total, unit, msg);
	else if (total > 0)
		ml_log(c, ML_LOG_PROGRESS, "%s %.0f/%.0f%s%s", unit, done, total, *msg ? " " : "", msg);
	else
		ml_log(c, ML_LOG_PROGRESS, "%s %.0f%s%s", unit, done, *msg ? " " : "", msg);
	pthread_mutex_unlock(&progress_lock);
}

#define BIG_ALIGN ((size_t)2 << 20)

void *ml_alloc_big(size_t n)
{
	void *p = NULL;

	if (n < 2 * BIG_ALIGN)
		return malloc(n ? n : 1);
	if (posix_memalign(&p, BIG_ALIGN, n) != 0)
		return NULL;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
	(void)madvise(p, n / BIG_ALIGN * BIG_ALIGN, MADV_HUGEPAGE);
#endif
	return p;
}

/* Exported by OpenBLAS's threaded builds (the first for its fork handler, not in its
 * headers); both looked up weakly, so that another BLAS links too. */
extern int blas_thread_shutdown_(void) __attribute__((weak));
extern int openblas_get_parallel(void) __attribute__((weak));
extern int openblas_get_num_threads(void) __attribute__((weak));
extern void openblas_set_num_threads(int n) __attribute__((weak));

static pthread_mutex_t blas_mu = PTHREAD_MUTEX_INITIALIZER;
static int blas_holds, blas_saved;

void ml_blas_hold(void)
{
	pthread_mutex_lock(&blas_mu);
	if (blas_holds++ == 0 && openblas_get_num_threads && openblas_set_num_threads) {
		blas_saved = openblas_get_num_threads();
		if (blas_saved > 1)
			openblas_set_num_threads(1);
	}
	pthread_mutex_unlock(&blas_mu);
}

void ml_blas_release(void)
{
	pthread_mutex_lock(&blas_mu);
	if (blas_holds > 0 && --blas_holds == 0 && blas_saved > 1 && openblas_set_num_threads)
		openblas_set_num_threads(blas_saved);
	pthread_mutex_unlock(&blas_mu);
}

void ml_blas_rest(void)
{
	/* 1: the pthreads build, whose servers spin; OpenMP's start with the first call. */
	if (blas_thread_shutdown_ && openblas_get_parallel && openblas_get_parallel() == 1)
		(void)blas_thread_shutdown_();
}
