/* The one main(): standard descriptors held open, outputs' temporaries removed on fatal
 * signals, OpenBLAS's threads at rest, C locale for numbers, default SIGPIPE, checked
 * standard output. */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ml/ctx.h"

/* Signals that end a run while an output may be half written. SIGPIPE keeps its default
 * end, after the temporaries go. */
static const int fatal_signals[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGPIPE, SIGXCPU, SIGXFSZ};

static void on_fatal_signal(int sig)
{
	/* The handler was reset on entry (SA_RESETHAND) and does not block sig (SA_NODEFER):
	 * raising it again ends the process as the signal would have, so that the exit status
	 * says which it was. */
	ml_output_remove_temps();
	raise(sig);
}

/* Catch the fatal signals, except those the caller ignores (nohup, a background job). */
static void catch_fatal_signals(void)
{
	struct sigaction sa, old;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fatal_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESETHAND | SA_NODEFER;
	for (i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++) {
		int sig = fatal_signals[i];
		if (sig != SIGPIPE && sigaction(sig, NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			continue;
		sigaction(sig, &sa, NULL);
	}
}

/* Open /dev/null on each of descriptors 0, 1 and 2 that is closed, so that no file the
 * command opens lands there and is taken for its input or written as its output. Standard
 * input and output get it read-only: a write there fails. Returns the ML_STD*_CLOSED mask,
 * or -1 when /dev/null cannot be opened. */
static int hold_std_descriptors(void)
{
	int fd, mask = 0;

	for (fd = 0; fd <= 2; fd++) {
		int nfd;
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		nfd = open("/dev/null", fd == 2 ? O_WRONLY : O_RDONLY);
		if (nfd < 0)
			return -1;
		if (nfd != fd) { /* a lower one was free: cannot happen, going upwards */
			close(nfd);
			return -1;
		}
		if (fd == 0)
			mask |= ML_STDIN_CLOSED;
		else if (fd == 1)
			mask |= ML_STDOUT_CLOSED;
	}
	return mask;
}

int main(int argc, char **argv)
{
	int rc, closed;

	closed = hold_std_descriptors();
	if (closed < 0) {
		fprintf(stderr, "%s: cannot open /dev/null: %s\n", cmd_name, strerror(errno));
		return EX_OSERR_;
	}
	ml_io_std_closed((unsigned)closed);
	catch_fatal_signals();
	ml_blas_rest();
	setlocale(LC_NUMERIC, "C");
	rc = cmd_main(argc, argv);
	if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0) {
		if (rc == 0 || rc == 1) {
			if (closed & ML_STDOUT_CLOSED)
				fprintf(stderr, "%s: <stdout>: standard output is closed\n", cmd_name);
			else
				fprintf(stderr, "%s: write error: %s\n", cmd_name, strerror(errno));
			rc = EX_IOERR_;
		}
	}
	return rc;
}
