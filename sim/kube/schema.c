/* Structural schema checks for custom resources: the part of the API server's CRD
 * validation that Trident's CRDs use (type, required, enum, minItems, maxItems, properties,
 * items, x-kubernetes-preserve-unknown-fields), with pruning of unknown fields. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirrorgate/core/jsonnum.h"
#include "ksim.h"
#include "mirrorgate/util/strbuf.h"

#define SCHEMA_MAX_DEPTH 64

static void add_err(cJSON *errs, const char *path, const char *fmt_tail)
{
	char *m = mg_asprintf("%s: %s", path[0] ? path : "<root>", fmt_tail);
	if (m)
		cJSON_AddItemToArray(errs, cJSON_CreateString(m));
	free(m);
}

static const char *type_of(const cJSON *n)
{
	if (cJSON_IsObject(n))
		return "object";
	if (cJSON_IsArray(n))
		return "array";
	if (cJSON_IsString(n))
		return "string";
	if (cJSON_IsBool(n))
		return "boolean";
	if (cJSON_IsNumber(n))
		return n->valuedouble == floor(n->valuedouble) ? "integer" : "number";
	return "null";
}

static bool type_ok(const char *want, const cJSON *n)
{
	const char *got = type_of(n);
	if (strcmp(want, "number") == 0)
		return cJSON_IsNumber(n);
	return strcmp(want, got) == 0;
}

static void walk(const cJSON *schema, cJSON *node, const char *path, cJSON *errs,
		 cJSON *unknown, int depth)
{
	if (!cJSON_IsObject(schema) || depth > SCHEMA_MAX_DEPTH)
		return;
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(schema, "type");
	if (cJSON_IsString(type) && !type_ok(type->valuestring, node)) {
		char *t = mg_asprintf("Invalid value: \"%s\": %s in body must be of type %s: \"%s\"",
				      type_of(node), path, type->valuestring, type_of(node));
		if (t)
			add_err(errs, path, t);
		free(t);
		return;
	}
	const cJSON *en = cJSON_GetObjectItemCaseSensitive(schema, "enum");
	if (cJSON_IsArray(en)) {
		bool ok = false;
		const cJSON *e;
		cJSON_ArrayForEach(e, en) if (cJSON_Compare(e, node, 1)) ok = true;
		if (!ok) {
			mg_strbuf sb = MG_STRBUF_INIT;
			char *v = cJSON_PrintUnformatted(node);
			mg_strbuf_printf(&sb, "Unsupported value: %s: supported values: ", v ? v : "");
			free(v);
			int i = 0;
			cJSON_ArrayForEach(e, en)
			{
				char *ev = cJSON_PrintUnformatted(e);
				mg_strbuf_printf(&sb, "%s%s", i++ ? ", " : "", ev ? ev : "");
				free(ev);
			}
			if (!sb.failed)
				add_err(errs, path, sb.data);
			mg_strbuf_free(&sb);
		}
	}
	if (cJSON_IsArray(node)) {
		int n = cJSON_GetArraySize(node);
		const cJSON *mn = cJSON_GetObjectItemCaseSensitive(schema, "minItems");
		const cJSON *mx = cJSON_GetObjectItemCaseSensitive(schema, "maxItems");
		char buf[256];
		long long lo = 0, hi = 0;
		if (mg_json_int_in(mn, 0, INT_MAX, &lo) && n < (int)lo) {
			snprintf(buf, sizeof(buf), "Invalid value: %d: %s in body should have at least %d items",
				 n, path, (int)lo);
			add_err(errs, path, buf);
		}
		if (mg_json_int_in(mx, 0, INT_MAX, &hi) && n > (int)hi) {
			snprintf(buf, sizeof(buf), "Too many: %d: must have at most %d items", n,
				 (int)hi);
			add_err(errs, path, buf);
		}
		const cJSON *items = cJSON_GetObjectItemCaseSensitive(schema, "items");
		int i = 0;
		cJSON *e;
		cJSON_ArrayForEach(e, node)
		{
			char *p = mg_asprintf("%s[%d]", path, i++);
			if (p)
				walk(items, e, p, errs, unknown, depth + 1);
			free(p);
		}
		return;
	}
	if (!cJSON_IsObject(node))
		return;
	const cJSON *req;
	cJSON_ArrayForEach(req, cJSON_GetObjectItemCaseSensitive(schema, "required"))
	{
		if (cJSON_IsString(req) && !cJSON_GetObjectItemCaseSensitive(node, req->valuestring)) {
			char *p = mg_asprintf("%s%s%s", path, path[0] ? "." : "", req->valuestring);
			if (p)
				add_err(errs, p, "Required value");
			free(p);
		}
	}
	const cJSON *props = cJSON_GetObjectItemCaseSensitive(schema, "properties");
	bool preserve = cJSON_IsTrue(
		cJSON_GetObjectItemCaseSensitive(schema, "x-kubernetes-preserve-unknown-fields"));
	/* additionalProperties (maps) are not checked member by member here. */
	if (depth > 0 && (preserve || cJSON_GetObjectItemCaseSensitive(schema, "additionalProperties")))
		return;
	cJSON *m = node->child;
	while (m) {
		cJSON *next = m->next;
		char *p = mg_asprintf("%s%s%s", path, path[0] ? "." : "", m->string);
		const cJSON *ps = cJSON_GetObjectItemCaseSensitive(props, m->string);
		bool root_meta = depth == 0 && (strcmp(m->string, "apiVersion") == 0 ||
						strcmp(m->string, "kind") == 0 ||
						strcmp(m->string, "metadata") == 0);
		if (root_meta) {
			/* metadata is validated by the API server's own rules, not the schema */
		} else if (ps) {
			if (p)
				walk(ps, m, p, errs, unknown, depth + 1);
		} else if (!preserve && p) {
			cJSON_AddItemToArray(unknown, cJSON_CreateString(p));
			cJSON_Delete(cJSON_DetachItemViaPointer(node, m));
		}
		free(p);
		m = next;
	}
}

void ksim_schema_validate(const cJSON *schema, cJSON *obj, cJSON *errs, cJSON *unknown)
{
	walk(schema, obj, "", errs, unknown, 0);
}
