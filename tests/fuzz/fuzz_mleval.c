/* Fuzzing mleval's command line (built with cmd/mleval.c and cmd/cli.c): its gates (--min,
 * --max NAME=VALUE), its plots (--plot KIND[:FILE], --plot-file), its numbers (--bootstrap,
 * --calibration, --rows, --threads, --seed, --precision) and every other option run on a
 * small file of classes and one of values. Whatever the arguments, the command returns one
 * of its documented statuses but 70 (an internal error), never crashes, leaks or reads
 * out of bounds, and a usage error (2) leaves no file behind.
 *
 * Input: one byte of options, then the arguments, each ending with a NUL.
 *	bits 0-1: the input named last: c.csv (truth y of classes a, b and c, pred, p_a, p_b,
 *		  p_c, weight w, group g), r.csv (y, pred, w, g, values), both, or none
 *		  (standard input, which is empty).
 * Arguments holding '/' (so that every file written stays in the harness's own folder)
 * or a number of more than three digits (so that a run takes bounded time: --bootstrap
 * and --threads reach ten million and 1024) are skipped. */
#include <dirent.h>
#include <getopt.h>
#include <sys/stat.h>

#include "../../cmd/cli.h"
#include "fuzz.h"

#define MAX_ARGS 24

static const char classes[] = "y,pred,p_a,p_b,p_c,w,g\n"
			      "a,a,0.7,0.2,0.1,1,x\n"
			      "b,a,0.5,0.4,0.1,2,x\n"
			      "c,c,0.1,0.1,0.8,1,y\n"
			      "a,b,0.3,0.6,0.1,0.5,y\n"
			      "b,b,0.2,0.7,0.1,1,x\n"
			      "c,b,0.2,0.5,0.3,1,y\n"
			      "a,a,0.9,0.05,0.05,3,x\n"
			      "b,c,0.1,0.3,0.6,1,\n"
			      ",a,0.6,0.3,0.1,1,y\n";
static const char values[] = "y,pred,w,g\n"
			     "1.5,1.25,1,x\n"
			     "2,2.5,2,x\n"
			     "-1,-0.5,1,y\n"
			     "0,0.25,0.5,y\n"
			     "10,9,1,x\n"
			     "3,,1,y\n"
			     "4.5,4,3,x\n";

static FILE *quiet;
static char dir[4096];
static int home = -1, work = -1; /* the folders: the caller's and the one runs write in */

static void put_file(const char *name, const char *text)
{
	FILE *fp = fopen(name, "w");

	if (!fp || fputs(text, fp) == EOF || fclose(fp) != 0)
		fz_fail("cannot write %s", name);
}

static int clean(void);

/* The work folder goes at exit. */
static void leave(void)
{
	if (fchdir(work) != 0)
		return;
	clean();
	remove("c.csv");
	remove("r.csv");
	if (fchdir(home) == 0)
		rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");

	(void)argc;
	(void)argv;
	ml_blas_rest();
	snprintf(dir, sizeof(dir), "%s/fuzz-mleval-XXXXXX", tmp && *tmp ? tmp : P_tmpdir);
	home = open(".", O_RDONLY | O_DIRECTORY);
	if (home < 0 || !mkdtemp(dir) || (work = open(dir, O_RDONLY | O_DIRECTORY)) < 0 ||
	    fchdir(work) != 0)
		fz_fail("cannot make a folder to work in");
	put_file("c.csv", classes);
	put_file("r.csv", values);
	if (fchdir(home) != 0)
		fz_fail("cannot go back to the starting folder");
	atexit(leave);
	/* the command's output and messages go nowhere; the harness's own go to the file
	 * descriptor 2 that libFuzzer and the sanitizers write to */
	quiet = fopen("/dev/null", "w");
	if (!quiet || !freopen("/dev/null", "r", stdin))
		fz_fail("cannot open /dev/null");
	return 0;
}

/* Removes what the run wrote (every file but the two inputs); returns how many. */
static int clean(void)
{
	DIR *d = opendir(".");
	struct dirent *de;
	int n = 0;

	if (!d)
		fz_fail("cannot list the work folder");
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    !strcmp(de->d_name, "c.csv") || !strcmp(de->d_name, "r.csv"))
			continue;
		if (remove(de->d_name) != 0)
			fz_fail("cannot remove %s", de->d_name);
		n++;
	}
	closedir(d);
	return n;
}

static int acceptable(const char *s)
{
	int digits = 0;

	if (strchr(s, '/'))
		return 0;
	for (; *s; s++) {
		digits = *s >= '0' && *s <= '9' ? digits + 1 : 0;
		if (digits > 3)
			return 0;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int statuses[] = {EX_OK_,	    EX_FINDING, EX_USAGE_,
				       EX_DATA,	    EX_NOINPUT_, EX_OSERR_, EX_IOERR_};
	struct fz_in in = {data, size};
	char store[MAX_ARGS][257], *argv[MAX_ARGS + 4];
	unsigned opts = fz_byte(&in);
	FILE *out = stdout, *err = stderr;
	int argc = 0, rc, k, written;
	size_t i;

	argv[argc++] = "mleval";
	while (in.n && argc <= MAX_ARGS) {
		char *a = fz_str(&in, store[argc - 1], 256);
		if (!acceptable(a))
			return 0;
		argv[argc++] = a;
	}
	if ((opts & 3) == 0 || (opts & 3) == 2)
		argv[argc++] = "c.csv";
	if ((opts & 3) == 1 || (opts & 3) == 2)
		argv[argc++] = "r.csv";
	argv[argc] = NULL;

	/* the command runs in the work folder (libFuzzer reads and writes its own files in
	 * the caller's: artifact prefixes must be absolute) */
	if (fchdir(work) != 0)
		fz_fail("cannot enter the work folder");
	optind = 0; /* glibc: getopt starts afresh */
	stdout = quiet;
	stderr = quiet;
	rc = cmd_main(argc, argv);
	fflush(quiet);
	stdout = out;
	stderr = err;
	written = clean();
	if (fchdir(home) != 0)
		fz_fail("cannot go back to the starting folder");
	for (i = 0, k = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		k |= rc == statuses[i];
	if (!k)
		fz_fail("mleval returned %d", rc);
	if (rc == EX_USAGE_ && written)
		fz_fail("mleval left %d files behind after a usage error", written);
	return 0;
}
