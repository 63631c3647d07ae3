/* Runs the fuzz target over every file given (directories are walked), so the corpus is a
 * regression test in every build, sanitizers included, without libFuzzer. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mirrorgate/util/tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay(const char *path, int *count)
{
	struct stat st;
	if (stat(path, &st)) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		return 1;
	}
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		if (!d)
			return 1;
		struct dirent *e;
		int rc = 0;
		while (!rc && (e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			char child[4096];
			snprintf(child, sizeof(child), "%s/%s", path, e->d_name);
			rc = replay(child, count);
		}
		closedir(d);
		return rc;
	}
	char *data = NULL;
	size_t len = 0;
	if (mg_read_file(path, 16u << 20, &data, &len)) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		return 1;
	}
	LLVMFuzzerTestOneInput((const uint8_t *)data, len);
	free(data);
	(*count)++;
	return 0;
}

int main(int argc, char **argv)
{
	int count = 0;
	for (int i = 1; i < argc; i++)
		if (replay(argv[i], &count))
			return 1;
	printf("replay: %d inputs, no crash\n", count);
	return count ? 0 : 1;
}
