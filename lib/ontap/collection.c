/* Reading ONTAP records: dotted-path field readers and the paged collection reader. */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirrorgate/core/jsonnum.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/util/strbuf.h"

const cJSON *mg_ontap_json_at(const cJSON *obj, const char *path)
{
	char seg[128];
	const char *p = path;
	while (obj && p && *p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		if (n >= sizeof(seg))
			return NULL;
		memcpy(seg, p, n);
		seg[n] = '\0';
		obj = cJSON_GetObjectItemCaseSensitive(obj, seg);
		p = dot ? dot + 1 : NULL;
	}
	return obj;
}

int mg_ontap_json_str(char *dst, size_t cap, const cJSON *obj, const char *path)
{
	const cJSON *v = mg_ontap_json_at(obj, path);
	dst[0] = '\0';
	if (!cJSON_IsString(v))
		return 0;
	size_t n = strlen(v->valuestring);
	if (n >= cap)
		return MG_EPARSE;
	memcpy(dst, v->valuestring, n + 1);
	return 0;
}

bool mg_ontap_json_bool(const cJSON *obj, const char *path, bool dflt)
{
	const cJSON *v = mg_ontap_json_at(obj, path);
	return cJSON_IsBool(v) ? cJSON_IsTrue(v) : dflt;
}

long long mg_ontap_json_ll(const cJSON *obj, const char *path, long long dflt)
{
	const cJSON *v = mg_ontap_json_at(obj, path);
	return mg_json_ll_or(v, dflt);
}

int mg_ontap_query_add(mg_strbuf *sb, const char *key, const char *value)
{
	char *esc = mg_ontap_escape(value);
	if (!esc)
		return MG_ENOMEM;
	int rc = mg_strbuf_printf(sb, "%c%s=%s", sb->len ? '&' : '?', key, esc);
	free(esc);
	return rc ? MG_ENOMEM : 0;
}

int mg_ontap_query_build(mg_strbuf *sb, const mg_ontap_param *params, size_t nparams)
{
	int rc = 0;
	for (size_t i = 0; !rc && i < nparams; i++)
		if (params[i].value)
			rc = mg_ontap_query_add(sb, params[i].key, params[i].value);
	return rc;
}

int mg_ontap_bad_args(mg_ontap_error *err, const char *function)
{
	mg_ontap_error_set(err, MG_EINVAL, MG_ONTAP_SRC_CLIENT, "%s: missing or invalid arguments",
			   function);
	return MG_EINVAL;
}

void mg_ontap_array_free(void **items, size_t *len)
{
	free(*items);
	*items = NULL;
	*len = 0;
}

void *mg_ontap_array_push(void **items, size_t *len, size_t elem_size)
{
	char *grown = realloc(*items, (*len + 1) * elem_size);
	if (!grown)
		return NULL;
	*items = grown;
	char *slot = grown + *len * elem_size;
	memset(slot, 0, elem_size);
	(*len)++;
	return slot;
}

/* Guards against a server that keeps handing out next links (or the same one). */
#define MAX_PAGES 100000

int mg_ontap_collect(mg_ontap_client *c, const char *path, const char *query,
		     mg_ontap_record_fn each, void *ctx, mg_ontap_error *err)
{
	int rc = MG_ENOMEM;
	cJSON *page = NULL;
	char *next = NULL, *prev = NULL;
	mg_strbuf sb = MG_STRBUF_INIT;
	mg_strbuf_printf(&sb, "%s%s%smax_records=%u", path, query && *query ? query : "?",
			 query && *query ? "&" : "", c->page_size);
	if (sb.failed || mg_strbuf_detach(&sb, &next) != 0)
		goto out;
	for (int pages = 0; next; pages++) {
		if (pages >= MAX_PAGES || (prev && strcmp(prev, next) == 0)) {
			rc = MG_EPARSE;
			mg_ontap_error_set(err, rc, MG_ONTAP_SRC_CLIENT,
					   "GET %s: paging does not terminate", path);
			goto out;
		}
		int status = 0;
		rc = mg_ontap_request(c, "GET", next, NULL, &status, &page, err);
		if (rc != 0)
			goto out;
		const cJSON *records = cJSON_GetObjectItemCaseSensitive(page, "records");
		if (!cJSON_IsArray(records)) {
			rc = MG_EPARSE;
			mg_ontap_error_set(err, rc, MG_ONTAP_SRC_CLIENT,
					   "GET %s: answer has no records array", path);
			goto out;
		}
		const cJSON *rec;
		cJSON_ArrayForEach(rec, records) {
			if ((rc = each(rec, ctx)) != 0) {
				mg_ontap_error_set(err, rc, MG_ONTAP_SRC_CLIENT,
						   "GET %s: unusable record (%s)", path, mg_strerror(rc));
				goto out;
			}
		}
		free(prev);
		prev = next;
		next = NULL;
		/* Follow _links.next verbatim: it carries the cursor and the original query. */
		const cJSON *href = mg_ontap_json_at(page, "_links.next.href");
		if (cJSON_IsString(href)) {
			if (strncmp(href->valuestring, "/api/", 5) != 0) {
				rc = MG_EPARSE;
				mg_ontap_error_set(err, rc, MG_ONTAP_SRC_CLIENT,
						   "GET %s: next link outside /api", path);
				goto out;
			}
			if (!(next = mg_strdup(href->valuestring))) {
				rc = MG_ENOMEM;
				goto out;
			}
		}
		cJSON_Delete(page);
		page = NULL;
	}
	rc = 0;
out:
	mg_strbuf_free(&sb);
	cJSON_Delete(page);
	free(next);
	free(prev);
	return rc;
}

int mg_ontap_collect_list(mg_ontap_client *c, const char *path, const mg_ontap_param *params,
			  size_t nparams, mg_ontap_record_fn each, void *list, void **items,
			  size_t *len, mg_ontap_error *err)
{
	mg_strbuf q = MG_STRBUF_INIT;
	*items = NULL;
	*len = 0;
	int rc = mg_ontap_query_build(&q, params, nparams);
	if (!rc)
		rc = mg_ontap_collect(c, path, q.data, each, list, err);
	if (rc)
		mg_ontap_array_free(items, len);
	mg_strbuf_free(&q);
	return rc;
}

int mg_ontap_not_found(mg_ontap_error *err, const char *fmt, ...)
{
	char what[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	mg_ontap_error_set(err, MG_ENOTFOUND, MG_ONTAP_SRC_CLIENT, "%s not found", what);
	if (err)
		snprintf(err->code, sizeof(err->code), "%s", MG_ONTAP_CODE_ENTRY_DOESNT_EXIST);
	return MG_ENOTFOUND;
}
