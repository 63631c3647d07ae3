/* Whole-file reads and atomic writes, and the "read a config file, then parse its text" that
 * every loader of a file-based configuration does. */
#ifndef MIRRORGATE_UTIL_FILE_H
#define MIRRORGATE_UTIL_FILE_H

#include <stddef.h>

/* Reads a whole file (at most max_bytes) into a NUL-terminated buffer. */
int mg_read_file(const char *path, size_t max_bytes, char **out, size_t *out_len);
/* Writes a file atomically (temp file + rename) with the given mode, as a Secret volume
 * update does, so readers never see half a file. */
int mg_write_file_atomic(const char *path, const char *data, size_t len, unsigned mode);

/* Parses text into out; on failure why says what is wrong (never quoting secrets). */
typedef int (*mg_text_parse_fn)(void *out, const char *text, size_t len, char *why,
				size_t why_len);
/* Reads path (at most max_bytes) and parses it with parse. An unreadable file gives
 * "cannot read PATH: REASON" in why. The text is wiped before it is freed: config files may
 * hold credentials. */
int mg_parse_file(const char *path, size_t max_bytes, mg_text_parse_fn parse, void *out,
		  char *why, size_t why_len);

/* Defines `int name(type *out, const char *path, char *why, size_t why_len)`, a typed config
 * loader: mg_parse_file with parse (an `int parse(type *, const char *, size_t, char *,
 * size_t)`) and the file size limit max_bytes. Every file-based configuration loads this
 * way, so the read, its error message and the wipe exist once. */
#define MG_DEFINE_FILE_LOADER(name, type, parse, max_bytes)                                      \
	static int name##_text(void *out, const char *text, size_t len, char *why, size_t why_len) \
	{                                                                                        \
		return parse((type *)out, text, len, why, why_len);                              \
	}                                                                                        \
	int name(type *out, const char *path, char *why, size_t why_len)                         \
	{                                                                                        \
		return mg_parse_file(path, (max_bytes), name##_text, out, why, why_len);        \
	}

/* Overwrites a NUL-terminated secret before freeing it, so a password does not linger in a
 * freed heap block. NULL is a no-op. */
void mg_free_secret(char *s);

#endif
