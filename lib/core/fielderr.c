#include "mirrorgate/core/fielderr.h"

#include <stdarg.h>
#include <stdlib.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/util/strbuf.h"

static const char *type_name(enum mg_fe_type type)
{
	switch (type) {
	case MG_FE_REQUIRED: return "Required value";
	case MG_FE_INVALID: return "Invalid value";
	case MG_FE_NOT_SUPPORTED: return "Unsupported value";
	case MG_FE_FORBIDDEN: return "Forbidden";
	case MG_FE_DUPLICATE: return "Duplicate value";
	case MG_FE_TOO_MANY: return "Too many";
	case MG_FE_NOT_FOUND: return "Not found";
	}
	return "Invalid value";
}

/* Types whose message carries no value, as in apimachinery's ErrorBody(). */
static int prints_value(enum mg_fe_type type)
{
	return type != MG_FE_REQUIRED && type != MG_FE_FORBIDDEN;
}

static int add(mg_field_errors *list, const char *rule, enum mg_fe_type type, const char *path,
	       char *value, const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));

static int add(mg_field_errors *list, const char *rule, enum mg_fe_type type, const char *path,
	       char *value, const char *fmt, va_list ap)
{
	char *detail = NULL;
	char *path_copy = mg_strdup(path);
	if (fmt) {
		mg_strbuf sb = MG_STRBUF_INIT;
		if (mg_strbuf_vprintf(&sb, fmt, ap) || mg_strbuf_detach(&sb, &detail))
			mg_strbuf_free(&sb);
	}
	if (!path_copy || (fmt && !detail))
		goto nomem;
	if (list->len == list->cap) {
		size_t cap = list->cap ? list->cap * 2 : 4;
		mg_field_error *items = realloc(list->items, cap * sizeof(*items));
		if (!items)
			goto nomem;
		list->items = items;
		list->cap = cap;
	}
	list->items[list->len++] = (mg_field_error){rule, type, path_copy, value, detail};
	return 0;
nomem:
	free(detail);
	free(path_copy);
	free(value);
	return MG_ENOMEM;
}

int mg_fe_add(mg_field_errors *list, const char *rule, enum mg_fe_type type, const char *path,
	      const char *value, const char *detail_fmt, ...)
{
	char *rendered = NULL;
	if (value) {
		mg_strbuf sb = MG_STRBUF_INIT;
		if (mg_strbuf_put_json_string(&sb, value) || mg_strbuf_detach(&sb, &rendered)) {
			mg_strbuf_free(&sb);
			return MG_ENOMEM;
		}
	}
	va_list ap;
	va_start(ap, detail_fmt);
	int rc = add(list, rule, type, path, rendered, detail_fmt, ap);
	va_end(ap);
	return rc;
}

int mg_fe_add_raw(mg_field_errors *list, const char *rule, enum mg_fe_type type,
		  const char *path, const char *raw_value, const char *detail_fmt, ...)
{
	char *rendered = NULL;
	if (raw_value && !(rendered = mg_strdup(raw_value)))
		return MG_ENOMEM;
	va_list ap;
	va_start(ap, detail_fmt);
	int rc = add(list, rule, type, path, rendered, detail_fmt, ap);
	va_end(ap);
	return rc;
}

static void format_into(mg_strbuf *sb, const mg_field_error *fe)
{
	mg_strbuf_printf(sb, "%s: %s", fe->path, type_name(fe->type));
	if (prints_value(fe->type))
		mg_strbuf_printf(sb, ": %s", fe->value ? fe->value : "null");
	if (fe->detail && *fe->detail)
		mg_strbuf_printf(sb, ": %s", fe->detail);
}

int mg_fe_format_one(const mg_field_error *fe, char **out)
{
	mg_strbuf sb = MG_STRBUF_INIT;
	format_into(&sb, fe);
	return mg_strbuf_detach(&sb, out);
}

int mg_fe_format_invalid(const mg_field_errors *list, const char *qualified_kind,
			 const char *name, char **out)
{
	mg_strbuf sb = MG_STRBUF_INIT;
	mg_strbuf_printf(&sb, "%s ", qualified_kind);
	mg_strbuf_put_json_string(&sb, name ? name : "");
	mg_strbuf_puts(&sb, " is invalid: ");
	if (list->len > 1)
		mg_strbuf_putc(&sb, '[');
	for (size_t i = 0; i < list->len; i++) {
		if (i)
			mg_strbuf_puts(&sb, ", ");
		format_into(&sb, &list->items[i]);
	}
	if (list->len > 1)
		mg_strbuf_putc(&sb, ']');
	return mg_strbuf_detach(&sb, out);
}

void mg_fe_clear(mg_field_errors *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->len; i++) {
		free(list->items[i].path);
		free(list->items[i].value);
		free(list->items[i].detail);
	}
	free(list->items);
	list->items = NULL;
	list->len = list->cap = 0;
}
