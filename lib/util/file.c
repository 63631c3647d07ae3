#include "mirrorgate/util/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/util/strbuf.h"

int mg_read_file(const char *path, size_t max_bytes, char **out, size_t *out_len)
{
	int rc = MG_EIO;
	FILE *f = fopen(path, "rb");
	if (!f)
		return errno == ENOENT ? MG_ENOTFOUND : MG_EIO;
	mg_strbuf sb = MG_STRBUF_INIT;
	char chunk[8192];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (sb.len + n > max_bytes) {
			rc = MG_ETOOBIG;
			goto out;
		}
		if (mg_strbuf_append(&sb, chunk, n)) {
			rc = MG_ENOMEM;
			goto out;
		}
	}
	if (ferror(f))
		goto out;
	size_t len = sb.len;
	if ((rc = mg_strbuf_detach(&sb, out)))
		goto out;
	if (out_len)
		*out_len = len;
out:
	mg_strbuf_free(&sb);
	fclose(f);
	return rc;
}

int mg_write_file_atomic(const char *path, const char *data, size_t len, unsigned mode)
{
	char *tmp = mg_asprintf("%s.tmp.%ld", path, (long)getpid());
	if (!tmp)
		return MG_ENOMEM;
	int rc = MG_EIO;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, (mode_t)mode);
	if (fd < 0)
		goto out;
	size_t done = 0;
	while (done < len) {
		ssize_t w = write(fd, data + done, len - done);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			unlink(tmp);
			goto out;
		}
		done += (size_t)w;
	}
	if (fchmod(fd, (mode_t)mode) || close(fd) || rename(tmp, path)) {
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	free(tmp);
	return rc;
}

void mg_free_secret(char *s)
{
	if (!s)
		return;
	volatile char *p = s;
	while (*p)
		*p++ = '\0';
	free(s);
}

int mg_parse_file(const char *path, size_t max_bytes, mg_text_parse_fn parse, void *out,
		  char *why, size_t why_len)
{
	char *text = NULL;
	size_t len = 0;
	int rc = mg_read_file(path, max_bytes, &text, &len);
	if (rc != 0) {
		snprintf(why, why_len, "cannot read %s: %s", path, mg_strerror(rc));
		return rc;
	}
	rc = parse(out, text, len, why, why_len);
	mg_free_secret(text);
	return rc;
}
