/* A main() for a fuzzing harness built without libFuzzer (by the ordinary compiler, with or
 * without the sanitizers): each file named runs through LLVMFuzzerTestOneInput once, so
 * that make test replays the committed corpus and every past finding. A harness reports
 * a disagreement by aborting; a sanitizer by its own exit; the file being run is printed
 * first so that either names it.
 * Usage: replay_NAME FILE... */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static unsigned char *slurp(const char *path, size_t *n)
{
	FILE *fp = fopen(path, "rb");
	unsigned char *p = NULL, *q;
	size_t cap = 0, got;

	*n = 0;
	if (!fp)
		return NULL;
	for (;;) {
		if (*n == cap) {
			cap = cap ? 2 * cap : 4096;
			if (!(q = realloc(p, cap))) {
				free(p);
				fclose(fp);
				return NULL;
			}
			p = q;
		}
		got = fread(p + *n, 1, cap - *n, fp);
		*n += got;
		if (got == 0)
			break;
	}
	if (ferror(fp)) {
		free(p);
		p = NULL;
	}
	fclose(fp);
	return p;
}

int main(int argc, char **argv)
{
	unsigned char **d = calloc((size_t)argc, sizeof(*d));
	size_t *n = calloc((size_t)argc, sizeof(*n));
	int i;

	if (!d || !n)
		return 71;
	for (i = 1; i < argc; i++)
		if (!(d[i] = slurp(argv[i], &n[i]))) {
			fprintf(stderr, "replay: cannot read %s\n", argv[i]);
			return 66;
		}
	LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		fprintf(stderr, "replay: %s\n", argv[i]);
		LLVMFuzzerTestOneInput(d[i], n[i]);
		free(d[i]);
	}
	free(d);
	free(n);
	printf("replay: %d inputs\n", argc - 1);
	return 0;
}
