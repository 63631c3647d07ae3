#include "mirrorgate/core/doc.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "linemap.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/util/strbuf.h"

#define TAG_PREFIX "tag:yaml.org,2002:"

struct anchor {
	char *name;
	cJSON *node; /* owned copy of the anchored node */
};

struct builder {
	yaml_parser_t parser;
	const char *input;
	size_t input_len;
	mg_parse_error *err;
	struct mg_linemap *lines;
	struct anchor *anchors;
	size_t nanchors;
	size_t nodes; /* nodes built, including alias expansions */
	int rc;
};

static int fail(struct builder *b, int rc, int line, int column, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int fail(struct builder *b, int rc, int line, int column, const char *fmt, ...)
{
	if (b->rc)
		return b->rc;
	b->rc = rc;
	if (b->err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(b->err->message, sizeof(b->err->message), fmt, ap);
		va_end(ap);
		b->err->line = line;
		b->err->column = column;
	}
	return rc;
}

static int line_of_offset(const struct builder *b, size_t offset)
{
	int line = 1;
	for (size_t i = 0; i < offset && i < b->input_len; i++)
		if (b->input[i] == '\n')
			line++;
	return line;
}

static int parser_failure(struct builder *b)
{
	yaml_parser_t *p = &b->parser;
	const char *problem = p->problem ? p->problem : "syntax error";
	if (p->error == YAML_MEMORY_ERROR)
		return fail(b, MG_ENOMEM, 0, 0, "out of memory");
	if (p->error == YAML_READER_ERROR) {
		/* Encoding problems (invalid UTF-8, control characters) are reported by offset. */
		return fail(b, MG_EPARSE, line_of_offset(b, p->problem_offset), 0,
			    "invalid input: %s at byte %zu", problem, p->problem_offset);
	}
	int line = (int)p->problem_mark.line + 1, column = (int)p->problem_mark.column + 1;
	if (p->context)
		return fail(b, MG_EPARSE, line, column, "YAML syntax error: %s %s", p->context,
			    problem);
	return fail(b, MG_EPARSE, line, column, "YAML syntax error: %s", problem);
}

static int next_event(struct builder *b, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&b->parser, ev))
		return parser_failure(b);
	return 0;
}

static int mark_line(const yaml_event_t *ev)
{
	return (int)ev->start_mark.line + 1;
}

static int record(struct builder *b, cJSON *node, int line)
{
	if (++b->nodes > MG_DOC_MAX_NODES)
		return fail(b, MG_ETOOBIG, line, 0,
			    "document too large: more than %d nodes (alias expansion included)",
			    MG_DOC_MAX_NODES);
	if (mg_linemap_put(b->lines, node, line))
		return fail(b, MG_ENOMEM, line, 0, "out of memory");
	return 0;
}

/* Records a copy made by alias expansion: every node of the copy maps to the alias line. */
static int record_tree(struct builder *b, cJSON *node, int line)
{
	int rc = record(b, node, line);
	for (cJSON *c = node->child; !rc && c; c = c->next)
		rc = record_tree(b, c, line);
	return rc;
}

static bool in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

static const char *const k_true[] = {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE",
				     "on", "On", "ON", NULL};
static const char *const k_false[] = {"n", "N", "no", "No", "NO", "false", "False", "FALSE",
				      "off", "Off", "OFF", NULL};
static const char *const k_null[] = {"", "~", "null", "Null", "NULL", NULL};

/* YAML 1.1 integers as go-yaml reads them (underscores allowed): decimal, 0x, 0o/0 octal, 0b. */
static bool parse_int(const char *s, double *out)
{
	char digits[80];
	size_t n = 0;
	for (const char *p = s; *p; p++) {
		if (*p == '_')
			continue;
		if (n + 1 >= sizeof(digits))
			return false;
		digits[n++] = *p;
	}
	digits[n] = '\0';
	const char *d = digits;
	bool neg = false;
	if (*d == '-' || *d == '+')
		neg = *d++ == '-';
	if (!*d)
		return false;
	int base = 10;
	if (d[0] == '0' && (d[1] == 'x' || d[1] == 'X'))
		base = 16, d += 2;
	else if (d[0] == '0' && (d[1] == 'b' || d[1] == 'B'))
		base = 2, d += 2;
	else if (d[0] == '0' && (d[1] == 'o' || d[1] == 'O'))
		base = 8, d += 2;
	else if (d[0] == '0' && d[1])
		base = 8, d += 1;
	if (!*d)
		return false;
	for (const char *p = d; *p; p++) {
		int v = (*p >= '0' && *p <= '9') ? *p - '0'
			: (*p >= 'a' && *p <= 'f') ? *p - 'a' + 10
			: (*p >= 'A' && *p <= 'F') ? *p - 'A' + 10 : 99;
		if (v >= base)
			return false;
	}
	errno = 0;
	char *end;
	unsigned long long v = strtoull(d, &end, base);
	if (errno || *end)
		return false;
	*out = neg ? -(double)v : (double)v;
	return true;
}

static bool parse_float(const char *s, double *out)
{
	/* A float needs a digit, and a '.' or an exponent; hex floats and inf/nan are not JSON. */
	bool digit = false, dot_or_exp = false;
	for (const char *p = s; *p; p++) {
		if (*p >= '0' && *p <= '9')
			digit = true;
		else if (*p == '.' || *p == 'e' || *p == 'E')
			dot_or_exp = true;
		else if (*p != '-' && *p != '+' && *p != '_')
			return false;
	}
	if (!digit || !dot_or_exp)
		return false;
	char buf[80];
	size_t n = 0;
	for (const char *p = s; *p; p++) {
		if (*p == '_')
			continue;
		if (n + 1 >= sizeof(buf))
			return false;
		buf[n++] = *p;
	}
	buf[n] = '\0';
	errno = 0;
	char *end;
	double v = strtod(buf, &end);
	if (errno || *end || !isfinite(v))
		return false;
	*out = v;
	return true;
}

static cJSON *make_scalar(struct builder *b, const yaml_event_t *ev)
{
	const char *value = (const char *)ev->data.scalar.value;
	const char *tag = (const char *)ev->data.scalar.tag;
	int line = mark_line(ev);
	if (ev->data.scalar.length > MG_DOC_MAX_SCALAR) {
		fail(b, MG_ETOOBIG, line, (int)ev->start_mark.column + 1,
		     "scalar of %zu bytes is over the limit of %d bytes", ev->data.scalar.length,
		     MG_DOC_MAX_SCALAR);
		return NULL;
	}
	if (memchr(value, '\0', ev->data.scalar.length)) {
		fail(b, MG_EPARSE, line, 0, "scalar contains a NUL character");
		return NULL;
	}
	bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	double num;
	if (tag && strcmp(tag, "!") != 0) {
		if (strncmp(tag, TAG_PREFIX, strlen(TAG_PREFIX)) != 0) {
			fail(b, MG_EPARSE, line, 0, "unsupported YAML tag %s", tag);
			return NULL;
		}
		const char *t = tag + strlen(TAG_PREFIX);
		if (strcmp(t, "str") == 0)
			return cJSON_CreateString(value);
		if (strcmp(t, "null") == 0 && in_list(value, k_null))
			return cJSON_CreateNull();
		if (strcmp(t, "bool") == 0 && in_list(value, k_true))
			return cJSON_CreateTrue();
		if (strcmp(t, "bool") == 0 && in_list(value, k_false))
			return cJSON_CreateFalse();
		if (strcmp(t, "int") == 0 && parse_int(value, &num))
			return cJSON_CreateNumber(num);
		if (strcmp(t, "float") == 0 && (parse_float(value, &num) || parse_int(value, &num)))
			return cJSON_CreateNumber(num);
		if (strcmp(t, "binary") == 0 || strcmp(t, "timestamp") == 0)
			return cJSON_CreateString(value);
		fail(b, MG_EPARSE, line, 0, "value %.40s%s cannot be read as !!%s", value,
		     strlen(value) > 40 ? "..." : "", t);
		return NULL;
	}
	if (!plain || tag)
		return cJSON_CreateString(value);
	if (in_list(value, k_null))
		return cJSON_CreateNull();
	if (in_list(value, k_true))
		return cJSON_CreateTrue();
	if (in_list(value, k_false))
		return cJSON_CreateFalse();
	if (parse_int(value, &num) || parse_float(value, &num))
		return cJSON_CreateNumber(num);
	return cJSON_CreateString(value);
}

static int check_collection_tag(struct builder *b, const yaml_char_t *tag, const char *want,
				int line)
{
	if (!tag || strcmp((const char *)tag, "!") == 0)
		return 0;
	char expected[64];
	snprintf(expected, sizeof(expected), TAG_PREFIX "%s", want);
	if (strcmp((const char *)tag, expected) == 0)
		return 0;
	return fail(b, MG_EPARSE, line, 0, "unsupported YAML tag %s", (const char *)tag);
}

static int remember_anchor(struct builder *b, const yaml_char_t *name, const cJSON *node)
{
	if (!name)
		return 0;
	cJSON *copy = cJSON_Duplicate(node, 1);
	char *dup = mg_strdup((const char *)name);
	struct anchor *grown = realloc(b->anchors, (b->nanchors + 1) * sizeof(*grown));
	if (!copy || !dup || !grown) {
		cJSON_Delete(copy);
		free(dup);
		if (grown)
			b->anchors = grown;
		return fail(b, MG_ENOMEM, 0, 0, "out of memory");
	}
	b->anchors = grown;
	/* A redefined anchor shadows the earlier one (YAML semantics): newest first on lookup. */
	b->anchors[b->nanchors].name = dup;
	b->anchors[b->nanchors].node = copy;
	b->nanchors++;
	return 0;
}

static const cJSON *find_anchor(const struct builder *b, const char *name)
{
	for (size_t i = b->nanchors; i > 0; i--)
		if (strcmp(b->anchors[i - 1].name, name) == 0)
			return b->anchors[i - 1].node;
	return NULL;
}

static cJSON *parse_node(struct builder *b, yaml_event_t *ev, int depth);

/* Merges the members of `src` (a mapping, or a sequence of mappings) into `dst` where dst has
 * no such key: explicit keys win over merged ones, as in YAML's merge-key type. */
static int merge_into(struct builder *b, cJSON *dst, const cJSON *src, int line)
{
	if (cJSON_IsArray(src)) {
		for (const cJSON *item = src->child; item; item = item->next)
			if (merge_into(b, dst, item, line))
				return b->rc;
		return 0;
	}
	if (!cJSON_IsObject(src))
		return fail(b, MG_EPARSE, line, 0,
			    "merge key (<<) needs a mapping or a sequence of mappings");
	for (const cJSON *m = src->child; m; m = m->next) {
		if (cJSON_GetObjectItemCaseSensitive(dst, m->string))
			continue;
		cJSON *copy = cJSON_Duplicate(m, 1);
		if (!copy || !cJSON_AddItemToObject(dst, m->string, copy)) {
			cJSON_Delete(copy);
			return fail(b, MG_ENOMEM, line, 0, "out of memory");
		}
		if (record_tree(b, copy, line))
			return b->rc;
	}
	return 0;
}

static cJSON *parse_mapping(struct builder *b, const yaml_event_t *start, int depth)
{
	int line = mark_line(start);
	cJSON *obj = cJSON_CreateObject();
	cJSON *merges = cJSON_CreateArray(); /* merge sources, applied at the end */
	if (!obj || !merges) {
		fail(b, MG_ENOMEM, line, 0, "out of memory");
		goto bad;
	}
	for (;;) {
		yaml_event_t kev;
		if (next_event(b, &kev))
			goto bad;
		if (kev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&kev);
			break;
		}
		if (kev.type != YAML_SCALAR_EVENT) {
			fail(b, MG_EPARSE, mark_line(&kev), (int)kev.start_mark.column + 1,
			     "mapping keys must be strings, not %s",
			     kev.type == YAML_ALIAS_EVENT ? "aliases" : "collections");
			yaml_event_delete(&kev);
			goto bad;
		}
		char *key = mg_strdup((const char *)kev.data.scalar.value);
		int kline = mark_line(&kev), kcol = (int)kev.start_mark.column + 1;
		bool is_merge = kev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
				!kev.data.scalar.tag && strcmp(key ? key : "", "<<") == 0;
		yaml_event_delete(&kev);
		if (!key) {
			fail(b, MG_ENOMEM, kline, 0, "out of memory");
			goto bad;
		}
		yaml_event_t vev;
		if (next_event(b, &vev)) {
			free(key);
			goto bad;
		}
		cJSON *value = parse_node(b, &vev, depth + 1);
		yaml_event_delete(&vev);
		if (!value) {
			free(key);
			goto bad;
		}
		if (is_merge) {
			cJSON_AddItemToArray(merges, value);
			free(key);
			continue;
		}
		if (cJSON_GetObjectItemCaseSensitive(obj, key)) {
			int first = mg_linemap_get(b->lines, cJSON_GetObjectItemCaseSensitive(obj, key));
			fail(b, MG_EPARSE, kline, kcol,
			     "duplicate key \"%.100s\" (first defined on line %d)", key, first);
			free(key);
			cJSON_Delete(value);
			goto bad;
		}
		/* A member's line is its key's line: that is where a user looks for the field. */
		if (!cJSON_AddItemToObject(obj, key, value)) {
			free(key);
			cJSON_Delete(value);
			fail(b, MG_ENOMEM, kline, 0, "out of memory");
			goto bad;
		}
		free(key);
		if (mg_linemap_put(b->lines, value, kline)) {
			fail(b, MG_ENOMEM, kline, 0, "out of memory");
			goto bad;
		}
	}
	for (const cJSON *m = merges->child; m; m = m->next)
		if (merge_into(b, obj, m, line))
			goto bad;
	cJSON_Delete(merges);
	return obj;
bad:
	cJSON_Delete(obj);
	cJSON_Delete(merges);
	return NULL;
}

static cJSON *parse_sequence(struct builder *b, int line, int depth)
{
	cJSON *arr = cJSON_CreateArray();
	if (!arr) {
		fail(b, MG_ENOMEM, line, 0, "out of memory");
		return NULL;
	}
	for (;;) {
		yaml_event_t ev;
		if (next_event(b, &ev))
			goto bad;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return arr;
		}
		cJSON *item = parse_node(b, &ev, depth + 1);
		yaml_event_delete(&ev);
		if (!item)
			goto bad;
		cJSON_AddItemToArray(arr, item);
	}
bad:
	cJSON_Delete(arr);
	return NULL;
}

static cJSON *parse_node(struct builder *b, yaml_event_t *ev, int depth)
{
	int line = mark_line(ev);
	cJSON *node = NULL;
	if (depth > MG_DOC_MAX_DEPTH) {
		fail(b, MG_ETOOBIG, line, 0, "nesting deeper than %d levels", MG_DOC_MAX_DEPTH);
		return NULL;
	}
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		node = make_scalar(b, ev);
		if (!node && !b->rc)
			fail(b, MG_ENOMEM, line, 0, "out of memory");
		if (node && remember_anchor(b, ev->data.scalar.anchor, node))
			goto bad;
		break;
	case YAML_SEQUENCE_START_EVENT:
		if (check_collection_tag(b, ev->data.sequence_start.tag, "seq", line))
			return NULL;
		node = parse_sequence(b, line, depth);
		if (node && remember_anchor(b, ev->data.sequence_start.anchor, node))
			goto bad;
		break;
	case YAML_MAPPING_START_EVENT:
		if (check_collection_tag(b, ev->data.mapping_start.tag, "map", line))
			return NULL;
		node = parse_mapping(b, ev, depth);
		if (node && remember_anchor(b, ev->data.mapping_start.anchor, node))
			goto bad;
		break;
	case YAML_ALIAS_EVENT: {
		const cJSON *target = find_anchor(b, (const char *)ev->data.alias.anchor);
		if (!target) {
			fail(b, MG_EPARSE, line, (int)ev->start_mark.column + 1,
			     "unknown anchor \"%.100s\" (aliases must follow their anchor)",
			     (const char *)ev->data.alias.anchor);
			return NULL;
		}
		node = cJSON_Duplicate(target, 1);
		if (!node) {
			fail(b, MG_ENOMEM, line, 0, "out of memory");
			return NULL;
		}
		if (record_tree(b, node, line))
			goto bad;
		return node;
	}
	default:
		fail(b, MG_EPARSE, line, 0, "unexpected YAML event");
		return NULL;
	}
	if (!node)
		return NULL;
	if (record(b, node, line))
		goto bad;
	return node;
bad:
	cJSON_Delete(node);
	return NULL;
}

static void reset_anchors(struct builder *b)
{
	for (size_t i = 0; i < b->nanchors; i++) {
		free(b->anchors[i].name);
		cJSON_Delete(b->anchors[i].node);
	}
	free(b->anchors);
	b->anchors = NULL;
	b->nanchors = 0;
}

static int push_doc(mg_doc_list *list, mg_doc *doc)
{
	mg_doc *items = realloc(list->items, (list->len + 1) * sizeof(*items));
	if (!items)
		return MG_ENOMEM;
	list->items = items;
	list->items[list->len++] = *doc;
	return 0;
}

/* One document between DOCUMENT-START and DOCUMENT-END. */
static int parse_document(struct builder *b, int start_line, mg_doc *doc)
{
	memset(doc, 0, sizeof(*doc));
	doc->line = start_line;
	if (mg_linemap_new(&b->lines))
		return fail(b, MG_ENOMEM, start_line, 0, "out of memory");
	b->nodes = 0;
	yaml_event_t ev;
	if (next_event(b, &ev))
		goto bad;
	if (ev.type != YAML_DOCUMENT_END_EVENT) {
		doc->line = mark_line(&ev);
		doc->root = parse_node(b, &ev, 0);
		yaml_event_delete(&ev);
		if (!doc->root)
			goto bad;
		if (next_event(b, &ev))
			goto bad;
	}
	yaml_event_delete(&ev);
	if (doc->root && cJSON_IsNull(doc->root)) {
		/* "---" followed by nothing: an empty document, as kubectl treats it. */
		cJSON_Delete(doc->root);
		doc->root = NULL;
	}
	doc->lines = b->lines;
	b->lines = NULL;
	reset_anchors(b);
	return 0;
bad:
	cJSON_Delete(doc->root);
	doc->root = NULL;
	mg_linemap_free(b->lines);
	b->lines = NULL;
	reset_anchors(b);
	return b->rc ? b->rc : MG_EPARSE;
}

/* JSON allows tabs as whitespace where YAML does not; in valid JSON a raw tab can only be
 * whitespace (tabs inside strings must be escaped), so replacing them is lossless. */
static char *json_tabs_to_spaces(const char *data, size_t len)
{
	size_t i = 0;
	while (i < len && (data[i] == ' ' || data[i] == '\n' || data[i] == '\r' || data[i] == '\t'))
		i++;
	if (i >= len || (data[i] != '{' && data[i] != '[') || !memchr(data, '\t', len))
		return NULL;
	char *copy = malloc(len ? len : 1);
	if (!copy)
		return NULL;
	for (size_t j = 0; j < len; j++)
		copy[j] = data[j] == '\t' ? ' ' : data[j];
	return copy;
}

int mg_doc_parse_yaml(mg_doc_list *out, const char *data, size_t len, mg_parse_error *err)
{
	struct builder b;
	memset(&b, 0, sizeof(b));
	memset(out, 0, sizeof(*out));
	if (err)
		memset(err, 0, sizeof(*err));
	char *untabbed = json_tabs_to_spaces(data, len);
	b.input = untabbed ? untabbed : data;
	b.input_len = len;
	b.err = err;
	if (!yaml_parser_initialize(&b.parser)) {
		free(untabbed);
		return fail(&b, MG_ENOMEM, 0, 0, "out of memory");
	}
	yaml_parser_set_input_string(&b.parser, (const unsigned char *)b.input, len);
	yaml_parser_set_encoding(&b.parser, YAML_UTF8_ENCODING);
	for (;;) {
		yaml_event_t ev;
		if (next_event(&b, &ev))
			break;
		yaml_event_type_t type = ev.type;
		int line = mark_line(&ev);
		yaml_event_delete(&ev);
		if (type == YAML_STREAM_END_EVENT)
			break;
		if (type != YAML_DOCUMENT_START_EVENT)
			continue; /* STREAM-START */
		mg_doc doc;
		if (parse_document(&b, line, &doc))
			break;
		if (push_doc(out, &doc)) {
			mg_doc_free(&doc);
			fail(&b, MG_ENOMEM, line, 0, "out of memory");
			break;
		}
	}
	yaml_parser_delete(&b.parser);
	free(untabbed);
	reset_anchors(&b);
	if (b.rc) {
		mg_doc_list_free(out);
		return b.rc;
	}
	return 0;
}

int mg_doc_line_of(const mg_doc *doc, const cJSON *node)
{
	int line = node ? mg_linemap_get(doc->lines, node) : 0;
	return line ? line : doc->line;
}

int mg_doc_line_of_path(const mg_doc *doc, const char *path)
{
	const cJSON *node = doc->root, *deepest = doc->root;
	const char *p = path;
	char seg[256];
	while (node && *p) {
		size_t n = 0;
		if (*p == '[') {
			p++;
			while (*p && *p != ']' && n + 1 < sizeof(seg))
				seg[n++] = *p++;
			if (*p == ']')
				p++;
		} else {
			while (*p && *p != '.' && *p != '[' && n + 1 < sizeof(seg))
				seg[n++] = *p++;
		}
		if (*p == '.')
			p++;
		seg[n] = '\0';
		if (cJSON_IsArray(node)) {
			char *end;
			long idx = strtol(seg, &end, 10);
			node = (*end || idx < 0) ? NULL : cJSON_GetArrayItem(node, (int)idx);
		} else if (cJSON_IsObject(node)) {
			node = cJSON_GetObjectItemCaseSensitive(node, seg);
		} else {
			node = NULL;
		}
		if (node)
			deepest = node;
	}
	return mg_doc_line_of(doc, deepest);
}

void mg_doc_free(mg_doc *doc)
{
	if (!doc)
		return;
	cJSON_Delete(doc->root);
	mg_linemap_free(doc->lines);
	doc->root = NULL;
	doc->lines = NULL;
}

void mg_doc_list_free(mg_doc_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->len; i++)
		mg_doc_free(&list->items[i]);
	free(list->items);
	list->items = NULL;
	list->len = 0;
}
