#include "inputs.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/util/strbuf.h"
#include "mirrorgate/util/tls.h"

static int push(mg_inputs *in, const char *path, char *data, size_t len, char *error)
{
	mg_input *grown = realloc(in->items, (in->len + 1) * sizeof(*grown));
	char *p = mg_strdup(path);
	if (!grown || !p) {
		if (grown)
			in->items = grown;
		free(p);
		free(data);
		free(error);
		return MG_ENOMEM;
	}
	in->items = grown;
	in->items[in->len++] = (mg_input){p, data, len, error};
	return 0;
}

static int read_stream(FILE *f, char **out, size_t *len)
{
	mg_strbuf sb = MG_STRBUF_INIT;
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (sb.len + n > MG_CLI_MAX_INPUT) {
			mg_strbuf_free(&sb);
			return MG_ETOOBIG;
		}
		if (mg_strbuf_append(&sb, chunk, n)) {
			mg_strbuf_free(&sb);
			return MG_ENOMEM;
		}
	}
	if (ferror(f)) {
		mg_strbuf_free(&sb);
		return MG_EIO;
	}
	*len = sb.len;
	return mg_strbuf_detach(&sb, out);
}

static int add_file(mg_inputs *in, const char *path)
{
	char *data = NULL;
	size_t len = 0;
	int rc = mg_read_file(path, MG_CLI_MAX_INPUT, &data, &len);
	if (rc == MG_ENOMEM)
		return rc;
	if (rc) {
		char *why = rc == MG_ETOOBIG ? mg_asprintf("larger than %u bytes", MG_CLI_MAX_INPUT)
					     : mg_asprintf("cannot read: %s", mg_strerror(rc));
		return push(in, path, NULL, 0, why);
	}
	return push(in, path, data, len, NULL);
}

static bool manifest_name(const char *name)
{
	size_t n = strlen(name);
	static const char *const ext[] = {".yaml", ".yml", ".json"};
	for (size_t i = 0; i < 3; i++) {
		size_t e = strlen(ext[i]);
		if (n > e && strcmp(name + n - e, ext[i]) == 0)
			return true;
	}
	return false;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_path(mg_inputs *in, const char *path, int depth);

static int add_dir(mg_inputs *in, const char *path, int depth)
{
	DIR *d = opendir(path);
	if (!d)
		return push(in, path, NULL, 0, mg_asprintf("cannot open directory: %s", strerror(errno)));
	char **names = NULL;
	size_t n = 0;
	int rc = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char *full = mg_asprintf("%s/%s", path, e->d_name);
		char **grown = full ? realloc(names, (n + 1) * sizeof(*grown)) : NULL;
		if (!grown) {
			free(full);
			rc = MG_ENOMEM;
			break;
		}
		names = grown;
		names[n++] = full;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (!rc && stat(names[i], &st) == 0) {
			if (S_ISDIR(st.st_mode))
				rc = add_path(in, names[i], depth + 1);
			else if (manifest_name(names[i]))
				rc = add_file(in, names[i]);
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

static int add_path(mg_inputs *in, const char *path, int depth)
{
	if (depth > 32)
		return push(in, path, NULL, 0, mg_strdup("directory nesting too deep"));
	struct stat st;
	if (stat(path, &st) != 0)
		return push(in, path, NULL, 0, mg_asprintf("cannot read: %s", strerror(errno)));
	return S_ISDIR(st.st_mode) ? add_dir(in, path, depth) : add_file(in, path);
}

int mg_inputs_read(mg_inputs *out, char *const *args, size_t nargs)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < nargs; i++) {
		int rc;
		if (strcmp(args[i], "-") == 0) {
			char *data = NULL;
			size_t len = 0;
			rc = read_stream(stdin, &data, &len);
			if (rc == MG_ENOMEM)
				return rc;
			rc = rc ? push(out, "<stdin>", NULL, 0, mg_strdup(mg_strerror(rc)))
				: push(out, "<stdin>", data, len, NULL);
		} else {
			rc = add_path(out, args[i], 0);
		}
		if (rc)
			return rc;
	}
	return 0;
}

void mg_inputs_free(mg_inputs *in)
{
	if (!in)
		return;
	for (size_t i = 0; i < in->len; i++) {
		free(in->items[i].path);
		free(in->items[i].data);
		free(in->items[i].error);
	}
	free(in->items);
	in->items = NULL;
	in->len = 0;
}
