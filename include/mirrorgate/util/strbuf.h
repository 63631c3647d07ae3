/* A growable, always NUL-terminated byte buffer. The one place where formatted string
 * building happens, so that no caller needs sprintf or manual length arithmetic. */
#ifndef MIRRORGATE_STRBUF_H
#define MIRRORGATE_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct mg_strbuf {
	char *data; /* NUL-terminated; NULL until the first append */
	size_t len;
	size_t cap;
	int failed; /* sticky: an allocation failed, contents are incomplete */
} mg_strbuf;

#define MG_STRBUF_INIT {NULL, 0, 0, 0}

int mg_strbuf_append(mg_strbuf *sb, const char *s, size_t n);
int mg_strbuf_puts(mg_strbuf *sb, const char *s);
int mg_strbuf_putc(mg_strbuf *sb, char c);
int mg_strbuf_printf(mg_strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int mg_strbuf_vprintf(mg_strbuf *sb, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Appends s as a JSON string literal, quotes included (also Go's %q for printable text).
 * Invalid UTF-8 is written as U+FFFD (escaped), so the result is always valid JSON. */
int mg_strbuf_put_json_string(mg_strbuf *sb, const char *s);
/* Hands the buffer to the caller (never NULL on success: "" when empty) and resets sb. */
int mg_strbuf_detach(mg_strbuf *sb, char **out);
void mg_strbuf_reset(mg_strbuf *sb);
void mg_strbuf_free(mg_strbuf *sb);

/* strdup that tolerates NULL (returns NULL). */
char *mg_strdup(const char *s);
/* Bytes of the valid UTF-8 sequence starting at p, before end (strict: no overlongs, no
 * surrogates, nothing above U+10FFFF), or 0 when it is not valid. 1 for ASCII. */
size_t mg_utf8_seq_len(const unsigned char *p, const unsigned char *end);
/* A newly allocated formatted string, or NULL when out of memory. */
char *mg_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
