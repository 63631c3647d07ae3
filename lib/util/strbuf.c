#include "mirrorgate/util/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirrorgate/util/err.h"

static int grow(mg_strbuf *sb, size_t extra)
{
	if (sb->failed)
		return MG_ENOMEM;
	if (sb->len + extra + 1 <= sb->cap)
		return 0;
	size_t cap = sb->cap ? sb->cap : 64;
	while (cap < sb->len + extra + 1) {
		if (cap > ((size_t)-1) / 2) {
			sb->failed = 1;
			return MG_ENOMEM;
		}
		cap *= 2;
	}
	char *p = realloc(sb->data, cap);
	if (!p) {
		sb->failed = 1;
		return MG_ENOMEM;
	}
	sb->data = p;
	sb->cap = cap;
	return 0;
}

int mg_strbuf_append(mg_strbuf *sb, const char *s, size_t n)
{
	int rc = grow(sb, n);
	if (rc)
		return rc;
	if (n)
		memcpy(sb->data + sb->len, s, n);
	sb->len += n;
	sb->data[sb->len] = '\0';
	return 0;
}

int mg_strbuf_puts(mg_strbuf *sb, const char *s)
{
	return mg_strbuf_append(sb, s, strlen(s));
}

int mg_strbuf_putc(mg_strbuf *sb, char c)
{
	return mg_strbuf_append(sb, &c, 1);
}

int mg_strbuf_vprintf(mg_strbuf *sb, const char *fmt, va_list ap)
{
	va_list copy;
	va_copy(copy, ap);
	int n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0)
		return MG_EINVAL;
	int rc = grow(sb, (size_t)n);
	if (rc)
		return rc;
	vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
	return 0;
}

int mg_strbuf_printf(mg_strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = mg_strbuf_vprintf(sb, fmt, ap);
	va_end(ap);
	return rc;
}

/* Bytes of a UTF-8 sequence starting at p (strict: no overlongs, no surrogates, nothing
 * above U+10FFFF), or 0 when it is not valid. */
size_t mg_utf8_seq_len(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0];
	size_t n;
	unsigned min, cp;
	if (c < 0x80)
		return 1;
	if ((c & 0xE0) == 0xC0)
		n = 2, min = 0x80, cp = c & 0x1F;
	else if ((c & 0xF0) == 0xE0)
		n = 3, min = 0x800, cp = c & 0x0F;
	else if ((c & 0xF8) == 0xF0)
		n = 4, min = 0x10000, cp = c & 0x07;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

int mg_strbuf_put_json_string(mg_strbuf *sb, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	int rc = mg_strbuf_putc(sb, '"');
	const unsigned char *end = (const unsigned char *)s + strlen(s);
	for (const unsigned char *p = (const unsigned char *)s; !rc && *p; p++) {
		switch (*p) {
		case '"': rc = mg_strbuf_append(sb, "\\\"", 2); break;
		case '\\': rc = mg_strbuf_append(sb, "\\\\", 2); break;
		case '\n': rc = mg_strbuf_append(sb, "\\n", 2); break;
		case '\r': rc = mg_strbuf_append(sb, "\\r", 2); break;
		case '\t': rc = mg_strbuf_append(sb, "\\t", 2); break;
		default:
			if (*p < 0x20) {
				char esc[6] = {'\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15]};
				rc = mg_strbuf_append(sb, esc, 6);
			} else if (*p >= 0x80) {
				/* Invalid UTF-8 becomes U+FFFD, as Go's encoder does: the output is
				 * always JSON, whatever the input held. */
				size_t n = mg_utf8_seq_len(p, end);
				if (n) {
					rc = mg_strbuf_append(sb, (const char *)p, n);
					p += n - 1;
				} else {
					rc = mg_strbuf_append(sb, "\\ufffd", 6);
				}
			} else {
				rc = mg_strbuf_putc(sb, (char)*p);
			}
		}
	}
	if (!rc)
		rc = mg_strbuf_putc(sb, '"');
	return rc;
}

int mg_strbuf_detach(mg_strbuf *sb, char **out)
{
	if (sb->failed) {
		mg_strbuf_free(sb);
		return MG_ENOMEM;
	}
	if (!sb->data && grow(sb, 0))
		return MG_ENOMEM;
	sb->data[sb->len] = '\0';
	*out = sb->data;
	sb->data = NULL;
	sb->len = sb->cap = 0;
	return 0;
}

void mg_strbuf_reset(mg_strbuf *sb)
{
	sb->len = 0;
	sb->failed = 0;
	if (sb->data)
		sb->data[0] = '\0';
}

void mg_strbuf_free(mg_strbuf *sb)
{
	if (!sb)
		return;
	free(sb->data);
	sb->data = NULL;
	sb->len = sb->cap = 0;
	sb->failed = 0;
}

char *mg_strdup(const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s) + 1;
	char *p = malloc(n);
	if (p)
		memcpy(p, s, n);
	return p;
}

char *mg_asprintf(const char *fmt, ...)
{
	mg_strbuf sb = MG_STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	int rc = mg_strbuf_vprintf(&sb, fmt, ap);
	va_end(ap);
	char *out = NULL;
	if (rc || mg_strbuf_detach(&sb, &out)) {
		mg_strbuf_free(&sb);
		return NULL;
	}
	return out;
}
