/* Discovery (/version, /api, /apis, group-version resource lists) and the OpenAPI v3
 * documents kubectl reads before apply: enough for kubectl to know each resource's verbs,
 * short names and categories, and that the server validates fields itself
 * (fieldValidation), so kubectl skips client-side schema validation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksim.h"
#include "mirrorgate/util/strbuf.h"

static bool gv_seen(cJSON *groups, const char *group, const char *version)
{
	const cJSON *g;
	cJSON_ArrayForEach(g, groups)
	{
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(g, "name");
		if (strcmp(n->valuestring, group) != 0)
			continue;
		const cJSON *v;
		cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(g, "versions"))
		{
			if (strcmp(cJSON_GetObjectItemCaseSensitive(v, "version")->valuestring,
				   version) == 0)
				return true;
		}
	}
	return false;
}

static cJSON *group_entry(const char *group, const char *version)
{
	cJSON *g = cJSON_CreateObject();
	char *gv = mg_asprintf("%s/%s", group, version);
	cJSON_AddStringToObject(g, "name", group);
	cJSON *vs = cJSON_AddArrayToObject(g, "versions");
	cJSON *v = cJSON_CreateObject();
	cJSON_AddStringToObject(v, "groupVersion", gv);
	cJSON_AddStringToObject(v, "version", version);
	cJSON_AddItemToArray(vs, v);
	cJSON *pv = cJSON_AddObjectToObject(g, "preferredVersion");
	cJSON_AddStringToObject(pv, "groupVersion", gv);
	cJSON_AddStringToObject(pv, "version", version);
	free(gv);
	return g;
}

static cJSON *str_array(char **items, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(items[i]));
	return a;
}

static cJSON *resource_list(const ksim_types *t, const char *group, const char *version)
{
	cJSON *list = NULL, *resources;
	char *gv = group[0] ? mg_asprintf("%s/%s", group, version) : mg_strdup(version);
	static const char *const verbs[] = {"create", "delete", "get", "list",
					    "patch",  "update", "watch"};
	static const char *const sub_verbs[] = {"get", "patch", "update"};
	for (size_t i = 0; i < t->len; i++) {
		const ksim_res *r = t->items[i];
		if (strcmp(r->group, group) != 0 || strcmp(r->version, version) != 0)
			continue;
		if (!list) {
			list = cJSON_CreateObject();
			cJSON_AddStringToObject(list, "kind", "APIResourceList");
			cJSON_AddStringToObject(list, "apiVersion", "v1");
			cJSON_AddStringToObject(list, "groupVersion", gv);
			resources = cJSON_AddArrayToObject(list, "resources");
		}
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "name", r->resource);
		cJSON_AddStringToObject(e, "singularName", r->singular);
		cJSON_AddBoolToObject(e, "namespaced", r->namespaced);
		cJSON_AddStringToObject(e, "kind", r->kind);
		cJSON_AddItemToObject(e, "verbs", cJSON_CreateStringArray(verbs, 7));
		if (r->nshort)
			cJSON_AddItemToObject(e, "shortNames", str_array(r->short_names, r->nshort));
		if (r->ncat)
			cJSON_AddItemToObject(e, "categories", str_array(r->categories, r->ncat));
		cJSON_AddItemToArray(resources, e);
		if (r->has_status) {
			char *sub = mg_asprintf("%s/status", r->resource);
			cJSON *s = cJSON_CreateObject();
			cJSON_AddStringToObject(s, "name", sub);
			cJSON_AddStringToObject(s, "singularName", "");
			cJSON_AddBoolToObject(s, "namespaced", r->namespaced);
			cJSON_AddStringToObject(s, "kind", r->kind);
			cJSON_AddItemToObject(s, "verbs", cJSON_CreateStringArray(sub_verbs, 3));
			cJSON_AddItemToArray(resources, s);
			free(sub);
		}
	}
	free(gv);
	return list;
}

void ksim_discovery(ksim_req *rq, ksim_resp *rs, bool *handled)
{
	const char *p = rq->path;
	const ksim_types *t = &rq->srv->types;
	if (strcmp(rq->method, "GET") != 0)
		return;
	*handled = true;
	if (strcmp(p, "/version") == 0 || strcmp(p, "/version/") == 0) {
		cJSON *v = cJSON_CreateObject();
		cJSON_AddStringToObject(v, "major", "1");
		cJSON_AddStringToObject(v, "minor", "32");
		cJSON_AddStringToObject(v, "gitVersion", "v1.32.0-kube-sim");
		cJSON_AddStringToObject(v, "gitCommit", "0000000000000000000000000000000000000000");
		cJSON_AddStringToObject(v, "gitTreeState", "clean");
		cJSON_AddStringToObject(v, "buildDate", "2026-01-01T00:00:00Z");
		cJSON_AddStringToObject(v, "goVersion", "go1.23");
		cJSON_AddStringToObject(v, "compiler", "gc");
		cJSON_AddStringToObject(v, "platform", "linux/amd64");
		ksim_resp_json(rs, 200, v);
		return;
	}
	if (strcmp(p, "/api") == 0 || strcmp(p, "/api/") == 0) {
		cJSON *v = cJSON_CreateObject();
		cJSON_AddStringToObject(v, "kind", "APIVersions");
		const char *vs[] = {"v1"};
		cJSON_AddItemToObject(v, "versions", cJSON_CreateStringArray(vs, 1));
		cJSON *a = cJSON_AddArrayToObject(v, "serverAddressByClientCIDRs");
		cJSON *e = cJSON_CreateObject();
		char addr[64];
		snprintf(addr, sizeof(addr), "127.0.0.1:%d", rq->srv->port);
		cJSON_AddStringToObject(e, "clientCIDR", "0.0.0.0/0");
		cJSON_AddStringToObject(e, "serverAddress", addr);
		cJSON_AddItemToArray(a, e);
		ksim_resp_json(rs, 200, v);
		return;
	}
	if (strcmp(p, "/apis") == 0 || strcmp(p, "/apis/") == 0) {
		cJSON *v = cJSON_CreateObject();
		cJSON_AddStringToObject(v, "kind", "APIGroupList");
		cJSON_AddStringToObject(v, "apiVersion", "v1");
		cJSON *groups = cJSON_AddArrayToObject(v, "groups");
		for (size_t i = 0; i < t->len; i++) {
			const ksim_res *r = t->items[i];
			if (!r->group[0] || gv_seen(groups, r->group, r->version))
				continue;
			cJSON_AddItemToArray(groups, group_entry(r->group, r->version));
		}
		ksim_resp_json(rs, 200, v);
		return;
	}
	if (strcmp(p, "/api/v1") == 0) {
		ksim_resp_json(rs, 200, resource_list(t, "", "v1"));
		return;
	}
	if (strncmp(p, "/apis/", 6) == 0) {
		char g[128], ver[64];
		const char *rest = p + 6, *slash = strchr(rest, '/');
		if (!slash) {
			/* /apis/<group> */
			for (size_t i = 0; i < t->len; i++)
				if (strcmp(t->items[i]->group, rest) == 0) {
					cJSON *e = group_entry(rest, t->items[i]->version);
					cJSON_AddStringToObject(e, "kind", "APIGroup");
					cJSON_AddStringToObject(e, "apiVersion", "v1");
					ksim_resp_json(rs, 200, e);
					return;
				}
			ksim_resp_page_not_found(rs);
			return;
		}
		if (strchr(slash + 1, '/') || (size_t)(slash - rest) >= sizeof(g) ||
		    strlen(slash + 1) >= sizeof(ver)) {
			*handled = false;
			return;
		}
		memcpy(g, rest, (size_t)(slash - rest));
		g[slash - rest] = '\0';
		snprintf(ver, sizeof(ver), "%s", slash + 1);
		cJSON *list = resource_list(t, g, ver);
		if (list) {
			ksim_resp_json(rs, 200, list);
			return;
		}
		ksim_resp_page_not_found(rs);
		return;
	}
	*handled = false;
}

/* ---- OpenAPI v3 ---- */

static cJSON *gvk(const ksim_res *r)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "group", r->group);
	cJSON_AddStringToObject(o, "version", r->version);
	cJSON_AddStringToObject(o, "kind", r->kind);
	return o;
}

static cJSON *gv_doc(const ksim_types *t, const char *group, const char *version)
{
	cJSON *doc = NULL, *paths = NULL;
	for (size_t i = 0; i < t->len; i++) {
		const ksim_res *r = t->items[i];
		if (strcmp(r->group, group) != 0 || strcmp(r->version, version) != 0)
			continue;
		if (!doc) {
			doc = cJSON_CreateObject();
			cJSON_AddStringToObject(doc, "openapi", "3.0.0");
			cJSON *info = cJSON_AddObjectToObject(doc, "info");
			cJSON_AddStringToObject(info, "title", "Kubernetes (kube-sim)");
			cJSON_AddStringToObject(info, "version", "v1.32.0");
			paths = cJSON_AddObjectToObject(doc, "paths");
			cJSON *comp = cJSON_AddObjectToObject(doc, "components");
			cJSON_AddObjectToObject(comp, "schemas");
		}
		char *base = group[0] ? mg_asprintf("/apis/%s/%s", group, version)
				      : mg_asprintf("/api/%s", version);
		char *path = r->namespaced
				     ? mg_asprintf("%s/namespaces/{namespace}/%s/{name}", base, r->resource)
				     : mg_asprintf("%s/%s/{name}", base, r->resource);
		cJSON *item = cJSON_CreateObject();
		cJSON *patch = cJSON_AddObjectToObject(item, "patch");
		cJSON_AddItemToObject(patch, "x-kubernetes-group-version-kind", gvk(r));
		cJSON_AddStringToObject(patch, "x-kubernetes-action", "patch");
		cJSON *params = cJSON_AddArrayToObject(patch, "parameters");
		static const char *const qp[] = {"dryRun", "fieldManager", "fieldValidation"};
		for (size_t k = 0; k < 3; k++) {
			cJSON *pp = cJSON_CreateObject();
			cJSON_AddStringToObject(pp, "name", qp[k]);
			cJSON_AddStringToObject(pp, "in", "query");
			cJSON *sch = cJSON_AddObjectToObject(pp, "schema");
			cJSON_AddStringToObject(sch, "type", "string");
			cJSON_AddItemToArray(params, pp);
		}
		cJSON *resp = cJSON_AddObjectToObject(patch, "responses");
		cJSON *ok = cJSON_AddObjectToObject(resp, "200");
		cJSON_AddStringToObject(ok, "description", "OK");
		cJSON_AddItemToObject(paths, path, item);
		free(base);
		free(path);
	}
	return doc;
}

void ksim_openapi(ksim_req *rq, ksim_resp *rs, bool *handled)
{
	const char *p = rq->path;
	const ksim_types *t = &rq->srv->types;
	if (strcmp(rq->method, "GET") != 0 || strncmp(p, "/openapi/", 9) != 0)
		return;
	*handled = true;
	if (strcmp(p, "/openapi/v3") == 0 || strcmp(p, "/openapi/v3/") == 0) {
		cJSON *root = cJSON_CreateObject();
		cJSON *paths = cJSON_AddObjectToObject(root, "paths");
		for (size_t i = 0; i < t->len; i++) {
			const ksim_res *r = t->items[i];
			char *key = r->group[0] ? mg_asprintf("apis/%s/%s", r->group, r->version)
						: mg_asprintf("api/%s", r->version);
			if (key && !cJSON_GetObjectItemCaseSensitive(paths, key)) {
				cJSON *e = cJSON_CreateObject();
				char *url = mg_asprintf("/openapi/v3/%s", key);
				cJSON_AddStringToObject(e, "serverRelativeURL", url);
				cJSON_AddItemToObject(paths, key, e);
				free(url);
			}
			free(key);
		}
		ksim_resp_json(rs, 200, root);
		return;
	}
	cJSON *doc = NULL;
	if (strncmp(p, "/openapi/v3/api/", 16) == 0) {
		doc = gv_doc(t, "", p + 16);
	} else if (strncmp(p, "/openapi/v3/apis/", 17) == 0) {
		char g[128];
		const char *rest = p + 17, *slash = strchr(rest, '/');
		if (slash && (size_t)(slash - rest) < sizeof(g)) {
			memcpy(g, rest, (size_t)(slash - rest));
			g[slash - rest] = '\0';
			doc = gv_doc(t, g, slash + 1);
		}
	}
	if (doc)
		ksim_resp_json(rs, 200, doc);
	else
		ksim_resp_status(rs, 404, NULL, "the server could not find the requested resource");
}
