/* The one main(): OpenBLAS's threads at rest, C locale for numbers, default SIGPIPE,
 * checked standard output. */
#include <errno.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "ml/ctx.h"

int main(int argc, char **argv)
{
	int rc;

	ml_blas_rest();
	setlocale(LC_NUMERIC, "C");
	signal(SIGPIPE, SIG_DFL);
	rc = cmd_main(argc, argv);
	if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0) {
		if (rc == 0 || rc == 1) {
			fprintf(stderr, "%s: write error: %s\n", cmd_name, strerror(errno));
			rc = EX_IOERR_;
		}
	}
	return rc;
}
