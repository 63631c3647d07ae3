#include "mirrorgate/core/jsonpatch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/util/strbuf.h"

int mg_jsonpatch_append(cJSON *patch, const char *op, const char *path, cJSON *value)
{
	cJSON *item = cJSON_CreateObject();
	if (!item || !cJSON_AddStringToObject(item, "op", op) ||
	    !cJSON_AddStringToObject(item, "path", path))
		goto nomem;
	if (value) {
		if (!cJSON_AddItemToObject(item, "value", value))
			goto nomem;
		value = NULL;
	}
	if (!cJSON_AddItemToArray(patch, item))
		goto nomem;
	return 0;
nomem:
	cJSON_Delete(value);
	cJSON_Delete(item);
	return MG_ENOMEM;
}

char *mg_json_pointer_escape(const char *token)
{
	mg_strbuf sb = MG_STRBUF_INIT;
	for (const char *p = token; *p; p++) {
		if (*p == '~')
			mg_strbuf_puts(&sb, "~0");
		else if (*p == '/')
			mg_strbuf_puts(&sb, "~1");
		else
			mg_strbuf_putc(&sb, *p);
	}
	char *out = NULL;
	if (mg_strbuf_detach(&sb, &out))
		return NULL;
	return out;
}

/* Decodes the next reference token of *p into an owned string; advances *p. */
static int next_token(const char **p, char **out)
{
	if (**p != '/')
		return MG_EINVAL;
	(*p)++;
	mg_strbuf sb = MG_STRBUF_INIT;
	while (**p && **p != '/') {
		if (**p == '~') {
			char c = (*p)[1];
			if (c != '0' && c != '1') {
				mg_strbuf_free(&sb);
				return MG_EINVAL;
			}
			mg_strbuf_putc(&sb, c == '0' ? '~' : '/');
			*p += 2;
		} else {
			mg_strbuf_putc(&sb, **p);
			(*p)++;
		}
	}
	return mg_strbuf_detach(&sb, out);
}

/* An array index token: decimal without leading zeros, or "-" (end) when allowed. */
static int array_index(const char *tok, int size, int allow_end, int *out)
{
	if (allow_end && strcmp(tok, "-") == 0) {
		*out = size;
		return 0;
	}
	if (!*tok || (tok[0] == '0' && tok[1]) || tok[0] == '-' || tok[0] == '+')
		return MG_EINVAL;
	errno = 0;
	char *end;
	long v = strtol(tok, &end, 10);
	if (errno || *end)
		return MG_EINVAL;
	if (v > size || (!allow_end && v >= size) || v > 0x7fffffff)
		return MG_ENOTFOUND;
	*out = (int)v;
	return 0;
}

/* Finds the parent container of the pointer's target and the last token. */
static int resolve_parent(cJSON *doc, const char *pointer, cJSON **parent, char **last)
{
	*parent = NULL;
	*last = NULL;
	if (*pointer == '\0')
		return 0; /* the whole document */
	const char *p = pointer;
	cJSON *node = doc;
	char *tok = NULL;
	int rc;
	for (;;) {
		if ((rc = next_token(&p, &tok)))
			return rc;
		if (!*p)
			break;
		cJSON *child = NULL;
		if (cJSON_IsObject(node)) {
			child = cJSON_GetObjectItemCaseSensitive(node, tok);
		} else if (cJSON_IsArray(node)) {
			int idx;
			if ((rc = array_index(tok, cJSON_GetArraySize(node), 0, &idx))) {
				free(tok);
				return rc == MG_EINVAL ? MG_ENOTFOUND : rc;
			}
			child = cJSON_GetArrayItem(node, idx);
		}
		free(tok);
		tok = NULL;
		if (!child)
			return MG_ENOTFOUND;
		node = child;
	}
	*parent = node;
	*last = tok;
	return 0;
}

cJSON *mg_json_pointer_get(cJSON *doc, const char *pointer)
{
	cJSON *parent;
	char *last;
	if (resolve_parent(doc, pointer, &parent, &last))
		return NULL;
	if (!last)
		return doc;
	cJSON *out = NULL;
	if (cJSON_IsObject(parent)) {
		out = cJSON_GetObjectItemCaseSensitive(parent, last);
	} else if (cJSON_IsArray(parent)) {
		int idx;
		if (!array_index(last, cJSON_GetArraySize(parent), 0, &idx))
			out = cJSON_GetArrayItem(parent, idx);
	}
	free(last);
	return out;
}

/* Detaches and returns the value at pointer (for remove and move). */
static int take(cJSON **doc, const char *pointer, cJSON **out)
{
	cJSON *parent;
	char *last;
	int rc = resolve_parent(*doc, pointer, &parent, &last);
	if (rc)
		return rc;
	if (!last) {
		*out = *doc;
		*doc = NULL;
		return 0;
	}
	*out = NULL;
	if (cJSON_IsObject(parent)) {
		*out = cJSON_DetachItemFromObjectCaseSensitive(parent, last);
	} else if (cJSON_IsArray(parent)) {
		int idx;
		if (array_index(last, cJSON_GetArraySize(parent), 0, &idx) == 0)
			*out = cJSON_DetachItemFromArray(parent, idx);
	}
	free(last);
	return *out ? 0 : MG_ENOTFOUND;
}

/* Debian's cJSON_InsertItemInArray refuses valid arrays: append, then rotate the items that
 * must follow the new one behind it. */
static int insert_at(cJSON *array, int idx, int size, cJSON *value)
{
	if (!cJSON_AddItemToArray(array, value))
		return MG_ENOMEM;
	for (int k = idx; k < size; k++)
		cJSON_AddItemToArray(array, cJSON_DetachItemFromArray(array, idx));
	return 0;
}

/* Inserts value at pointer (add semantics); takes ownership of value on success. */
static int put(cJSON **doc, const char *pointer, cJSON *value, int replace)
{
	cJSON *parent;
	char *last;
	int rc = resolve_parent(*doc, pointer, &parent, &last);
	if (rc)
		return rc;
	if (!last) {
		cJSON_Delete(*doc);
		*doc = value;
		return 0;
	}
	rc = MG_ENOTFOUND;
	if (cJSON_IsObject(parent)) {
		if (cJSON_GetObjectItemCaseSensitive(parent, last)) {
			rc = cJSON_ReplaceItemInObjectCaseSensitive(parent, last, value) ? 0 : MG_ENOMEM;
		} else if (!replace) {
			rc = cJSON_AddItemToObject(parent, last, value) ? 0 : MG_ENOMEM;
		}
	} else if (cJSON_IsArray(parent)) {
		int size = cJSON_GetArraySize(parent), idx;
		if ((rc = array_index(last, size, !replace, &idx)) == 0) {
			if (replace)
				rc = cJSON_ReplaceItemInArray(parent, idx, value) ? 0 : MG_ENOMEM;
			else if (idx == size)
				rc = cJSON_AddItemToArray(parent, value) ? 0 : MG_ENOMEM;
			else
				rc = insert_at(parent, idx, size, value);
		}
	}
	free(last);
	return rc;
}

static int apply_op(cJSON **doc, const cJSON *op)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(op, "op");
	const cJSON *path = cJSON_GetObjectItemCaseSensitive(op, "path");
	const cJSON *value = cJSON_GetObjectItemCaseSensitive(op, "value");
	const cJSON *from = cJSON_GetObjectItemCaseSensitive(op, "from");
	if (!cJSON_IsString(name) || !cJSON_IsString(path))
		return MG_EINVAL;
	const char *o = name->valuestring, *p = path->valuestring;
	int rc;
	if (strcmp(o, "add") == 0 || strcmp(o, "replace") == 0) {
		if (!value)
			return MG_EINVAL;
		cJSON *copy = cJSON_Duplicate(value, 1);
		if (!copy)
			return MG_ENOMEM;
		if ((rc = put(doc, p, copy, o[0] == 'r')))
			cJSON_Delete(copy);
		return rc;
	}
	if (strcmp(o, "remove") == 0) {
		cJSON *gone;
		if ((rc = take(doc, p, &gone)))
			return rc;
		cJSON_Delete(gone);
		return 0;
	}
	if (strcmp(o, "test") == 0) {
		if (!value)
			return MG_EINVAL;
		cJSON *at = mg_json_pointer_get(*doc, p);
		if (!at)
			return MG_ENOTFOUND;
		return cJSON_Compare(at, value, 1) ? 0 : MG_ECONFLICT;
	}
	if (strcmp(o, "move") == 0 || strcmp(o, "copy") == 0) {
		if (!cJSON_IsString(from))
			return MG_EINVAL;
		const char *f = from->valuestring;
		size_t flen = strlen(f);
		if (o[0] == 'm' && strncmp(p, f, flen) == 0 && p[flen] == '/')
			return MG_EINVAL; /* moving a value into its own child */
		cJSON *moved;
		if (o[0] == 'm') {
			if ((rc = take(doc, f, &moved)))
				return rc;
		} else {
			cJSON *src = mg_json_pointer_get(*doc, f);
			if (!src)
				return MG_ENOTFOUND;
			if (!(moved = cJSON_Duplicate(src, 1)))
				return MG_ENOMEM;
		}
		if ((rc = put(doc, p, moved, 0)))
			cJSON_Delete(moved);
		return rc;
	}
	return MG_EINVAL;
}

int mg_jsonpatch_apply(cJSON **doc, const cJSON *patch)
{
	if (!cJSON_IsArray(patch))
		return MG_EINVAL;
	/* Work on a copy so that a failing operation leaves the document untouched. */
	cJSON *work = cJSON_Duplicate(*doc, 1);
	if (!work && *doc)
		return MG_ENOMEM;
	for (const cJSON *op = patch->child; op; op = op->next) {
		int rc = cJSON_IsObject(op) ? apply_op(&work, op) : MG_EINVAL;
		if (rc) {
			cJSON_Delete(work);
			return rc;
		}
	}
	cJSON_Delete(*doc);
	*doc = work;
	return 0;
}
