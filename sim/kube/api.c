/* The resource API: routing of /api and /apis paths and the verbs get, list, create,
 * update, patch and delete with the API server's semantics (resourceVersion, generation,
 * status subresource, finalizers, admission, dry run). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksim.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/core/jsonpatch.h"
#include "mirrorgate/k8s/labels.h"
#include "mirrorgate/k8s/mergepatch.h"
#include "mirrorgate/util/log.h"
#include "mirrorgate/util/strbuf.h"
#include "mirrorgate/util/tls.h"

#define SEG_MAX 8
#define SEG_LEN 254

struct route {
	const ksim_res *res;
	char ns[SEG_LEN];
	char name[SEG_LEN];
	char sub[32];
	bool has_ns, has_name, has_sub;
};

/* "persistentvolumeclaims" for core, "tridentmirrorrelationships.trident.netapp.io" else:
 * how the API server names a resource in its messages. */
static void qualified(char *buf, size_t len, const ksim_res *r)
{
	if (r->group[0])
		snprintf(buf, len, "%s.%s", r->resource, r->group);
	else
		snprintf(buf, len, "%s", r->resource);
}

static void kind_qualified(char *buf, size_t len, const ksim_res *r)
{
	if (r->group[0])
		snprintf(buf, len, "%s.%s", r->kind, r->group);
	else
		snprintf(buf, len, "%s", r->kind);
}

static int split(const char *path, char segs[SEG_MAX][SEG_LEN], int *n)
{
	*n = 0;
	while (*path == '/')
		path++;
	while (*path) {
		const char *e = strchr(path, '/');
		size_t len = e ? (size_t)(e - path) : strlen(path);
		if (*n == SEG_MAX || len >= SEG_LEN || len == 0)
			return -1;
		memcpy(segs[*n], path, len);
		segs[*n][len] = '\0';
		(*n)++;
		path += len;
		while (*path == '/')
			path++;
	}
	return 0;
}

static bool gv_served(const ksim_types *t, const char *group, const char *version)
{
	for (size_t k = 0; k < t->len; k++)
		if (strcmp(t->items[k]->group, group) == 0 &&
		    strcmp(t->items[k]->version, version) == 0)
			return true;
	return false;
}

/* -1: not a resource path kube-sim serves; -2: its group/version is not served at all. */
static int parse_route(const ksim_types *t, const char *path, struct route *rt)
{
	char segs[SEG_MAX][SEG_LEN];
	int n, i;
	const char *group, *version;
	memset(rt, 0, sizeof(*rt));
	if (split(path, segs, &n) != 0 || n < 3)
		return -1;
	if (strcmp(segs[0], "api") == 0) {
		group = "";
		version = segs[1];
		i = 2;
	} else if (strcmp(segs[0], "apis") == 0 && n >= 4) {
		group = segs[1];
		version = segs[2];
		i = 3;
	} else {
		return -1;
	}
	if (!gv_served(t, group, version))
		return -2;
	if (n - i >= 3 && strcmp(segs[i], "namespaces") == 0 &&
	    !(n - i == 3 && (strcmp(segs[i + 2], "status") == 0 ||
			     strcmp(segs[i + 2], "finalize") == 0) &&
	      group[0] == '\0')) {
		snprintf(rt->ns, sizeof(rt->ns), "%s", segs[i + 1]);
		rt->has_ns = true;
		i += 2;
	}
	if (i >= n || n - i > 3)
		return -1;
	rt->res = ksim_types_find(t, group, version, segs[i]);
	if (!rt->res)
		return -1;
	if (n - i >= 2) {
		snprintf(rt->name, sizeof(rt->name), "%s", segs[i + 1]);
		rt->has_name = true;
	}
	if (n - i == 3) {
		snprintf(rt->sub, sizeof(rt->sub), "%s", segs[i + 2]);
		rt->has_sub = true;
	}
	if (rt->has_ns && !rt->res->namespaced)
		return -1;
	if (rt->has_name && rt->res->namespaced && !rt->has_ns)
		return -1;
	if (rt->has_sub && !(strcmp(rt->sub, "status") == 0 && rt->res->has_status))
		return -1;
	return 0;
}

static const char *md_str(const cJSON *obj, const char *field)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(obj, "metadata"), field);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void set_str(cJSON *obj, const char *field, const char *value)
{
	cJSON *v = cJSON_CreateString(value);
	if (!v)
		return;
	if (cJSON_GetObjectItemCaseSensitive(obj, field))
		cJSON_ReplaceItemInObjectCaseSensitive(obj, field, v);
	else
		cJSON_AddItemToObject(obj, field, v);
}

static void set_item(cJSON *obj, const char *field, cJSON *v)
{
	if (!v)
		return;
	if (cJSON_GetObjectItemCaseSensitive(obj, field))
		cJSON_ReplaceItemInObjectCaseSensitive(obj, field, v);
	else
		cJSON_AddItemToObject(obj, field, v);
}

static void not_found(ksim_resp *rs, const ksim_res *r, const char *name)
{
	char q[300];
	qualified(q, sizeof(q), r);
	ksim_resp_status(rs, 404, "NotFound", "%s \"%s\" not found", q, name);
}

/* ---- list ---- */

struct field_sel {
	char name[SEG_LEN];
	char ns[SEG_LEN];
	bool name_set, ns_set, name_neg, ns_neg;
	/* one more field, as the API server offers for Events: involvedObject.kind|name|
	 * namespace|uid, reason, type, source (source.component) */
	char path[32];
	char val[SEG_LEN];
	bool path_set, path_neg;
};

static const char *const k_event_fields[][2] = {
	{"involvedObject.kind", "involvedObject.kind"}, {"involvedObject.name", "involvedObject.name"},
	{"involvedObject.namespace", "involvedObject.namespace"},
	{"involvedObject.uid", "involvedObject.uid"}, {"reason", "reason"}, {"type", "type"},
	{"source", "source.component"}};

static int parse_field_selector(const char *text, struct field_sel *fs)
{
	memset(fs, 0, sizeof(*fs));
	if (!text || !*text)
		return 0;
	char *copy = mg_strdup(text), *save = NULL;
	int rc = 0;
	if (!copy)
		return MG_ENOMEM;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strstr(tok, "=");
		if (!eq) {
			rc = MG_EPARSE;
			break;
		}
		bool neg = eq > tok && eq[-1] == '!';
		char *keyend = neg ? eq - 1 : eq;
		const char *val = eq[1] == '=' ? eq + 2 : eq + 1;
		*keyend = '\0';
		if (strcmp(tok, "metadata.name") == 0) {
			snprintf(fs->name, sizeof(fs->name), "%s", val);
			fs->name_set = true;
			fs->name_neg = neg;
		} else if (strcmp(tok, "metadata.namespace") == 0) {
			snprintf(fs->ns, sizeof(fs->ns), "%s", val);
			fs->ns_set = true;
			fs->ns_neg = neg;
		} else {
			const char *path = NULL;
			for (size_t i = 0; i < sizeof(k_event_fields) / sizeof(k_event_fields[0]); i++)
				if (strcmp(tok, k_event_fields[i][0]) == 0)
					path = k_event_fields[i][1];
			if (!path || fs->path_set) {
				rc = MG_EINVAL;
				break;
			}
			snprintf(fs->path, sizeof(fs->path), "%s", path);
			snprintf(fs->val, sizeof(fs->val), "%s", val);
			fs->path_set = true;
			fs->path_neg = neg;
		}
	}
	free(copy);
	return rc;
}

static bool field_match(const struct field_sel *fs, const ksim_obj *o)
{
	if (fs->name_set && (strcmp(fs->name, o->name) == 0) == fs->name_neg)
		return false;
	if (fs->ns_set && (strcmp(fs->ns, o->ns) == 0) == fs->ns_neg)
		return false;
	if (fs->path_set) {
		char first[32];
		const char *dot = strchr(fs->path, '.');
		snprintf(first, sizeof(first), "%.*s", dot ? (int)(dot - fs->path) : 31, fs->path);
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(o->obj, first);
		if (dot)
			n = cJSON_IsObject(n) ? cJSON_GetObjectItemCaseSensitive(n, dot + 1) : NULL;
		const char *v = cJSON_IsString(n) ? n->valuestring : "";
		if ((strcmp(fs->val, v) == 0) == fs->path_neg)
			return false;
	}
	return true;
}

static int cmp_key(const void *a, const void *b)
{
	const ksim_obj *x = *(const ksim_obj *const *)a, *y = *(const ksim_obj *const *)b;
	int c = strcmp(x->ns, y->ns);
	return c ? c : strcmp(x->name, y->name);
}

static void do_list(ksim_req *rq, ksim_resp *rs, const struct route *rt)
{
	const ksim_res *r = rt->res;
	ksim_store *s = &rq->srv->store;
	mg_label_selector *sel = NULL;
	struct field_sel fs;
	const ksim_obj **matches = NULL;
	cJSON *list = NULL;
	char *api_version = NULL, *list_kind = NULL;
	if (mg_label_selector_parse(&sel, ksim_query(rq, "labelSelector")) != 0) {
		ksim_resp_status(rs, 400, NULL, "unable to parse requirement: invalid label selector \"%s\"",
				 ksim_query(rq, "labelSelector"));
		return;
	}
	int frc = parse_field_selector(ksim_query(rq, "fieldSelector"), &fs);
	if (frc != 0) {
		ksim_resp_status(rs, 400, NULL,
				 "field label not supported: kube-sim implements metadata.name, "
				 "metadata.namespace and (one of) the Event fields involvedObject.*, "
				 "reason, type, source");
		mg_label_selector_free(sel);
		return;
	}
	long limit = 0;
	const char *lim = ksim_query(rq, "limit");
	if (lim) {
		char *end;
		limit = strtol(lim, &end, 10);
		if (*end || limit < 0) {
			ksim_resp_status(rs, 400, NULL, "invalid limit \"%s\"", lim);
			mg_label_selector_free(sel);
			return;
		}
	}
	const char *cont = ksim_query(rq, "continue");
	unsigned long long cont_rv = 0;
	const char *cont_key = NULL;
	if (cont && *cont) {
		char *end;
		cont_rv = strtoull(cont, &end, 10);
		if (*end != '|' || cont_rv == 0) {
			ksim_resp_status(rs, 400, NULL, "continue key is not valid");
			mg_label_selector_free(sel);
			return;
		}
		cont_key = end + 1;
	}
	pthread_mutex_lock(&s->lock);
	if (cont_key && cont_rv < s->compacted_rv) {
		pthread_mutex_unlock(&s->lock);
		ksim_resp_status(rs, 410, "Expired",
				 "The provided continue parameter is too old to display a consistent "
				 "list result. You can start a new list without the continue "
				 "parameter.");
		mg_label_selector_free(sel);
		return;
	}
	size_t nm = 0;
	matches = calloc(s->nobjs + 1, sizeof(*matches));
	if (!matches)
		goto oom_locked;
	for (size_t i = 0; i < s->nobjs; i++) {
		const ksim_obj *o = &s->objs[i];
		if (o->res != r || (rt->has_ns && strcmp(o->ns, rt->ns) != 0))
			continue;
		const cJSON *labels = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(o->obj, "metadata"), "labels");
		if (!mg_label_selector_matches(sel, labels) || !field_match(&fs, o))
			continue;
		matches[nm++] = o;
	}
	qsort(matches, nm, sizeof(*matches), cmp_key);
	list = cJSON_CreateObject();
	api_version = ksim_res_api_version(r);
	list_kind = mg_asprintf("%sList", r->kind);
	if (!list || !api_version || !list_kind)
		goto oom_locked;
	cJSON_AddStringToObject(list, "kind", list_kind);
	cJSON_AddStringToObject(list, "apiVersion", api_version);
	cJSON *md = cJSON_AddObjectToObject(list, "metadata");
	char rvbuf[32];
	snprintf(rvbuf, sizeof(rvbuf), "%llu", cont_key ? cont_rv : s->rv);
	cJSON_AddStringToObject(md, "resourceVersion", rvbuf);
	cJSON *items = cJSON_AddArrayToObject(list, "items");
	long emitted = 0;
	size_t i = 0;
	if (cont_key) {
		for (; i < nm; i++) {
			char key[2 * SEG_LEN + 2];
			snprintf(key, sizeof(key), "%s/%s", matches[i]->ns, matches[i]->name);
			if (strcmp(key, cont_key) > 0)
				break;
		}
	}
	for (; i < nm && (limit == 0 || emitted < limit); i++, emitted++) {
		cJSON *d = cJSON_Duplicate(matches[i]->obj, 1);
		if (!d)
			goto oom_locked;
		cJSON_AddItemToArray(items, d);
	}
	if (i < nm) {
		char *tok = mg_asprintf("%s|%s/%s", rvbuf, matches[i - 1]->ns, matches[i - 1]->name);
		if (!tok)
			goto oom_locked;
		cJSON_AddStringToObject(md, "continue", tok);
		cJSON_AddNumberToObject(md, "remainingItemCount", (double)(nm - i));
		free(tok);
	}
	pthread_mutex_unlock(&s->lock);
	ksim_resp_json(rs, 200, list);
	list = NULL;
	goto out;
oom_locked:
	pthread_mutex_unlock(&s->lock);
	ksim_resp_status(rs, 500, NULL, "out of memory");
out:
	cJSON_Delete(list);
	free(matches);
	free(api_version);
	free(list_kind);
	mg_label_selector_free(sel);
}

static void do_get(ksim_req *rq, ksim_resp *rs, const struct route *rt)
{
	ksim_store *s = &rq->srv->store;
	pthread_mutex_lock(&s->lock);
	ksim_obj *o = ksim_store_find(s, rt->res, rt->ns, rt->name);
	cJSON *copy = o ? cJSON_Duplicate(o->obj, 1) : NULL;
	pthread_mutex_unlock(&s->lock);
	if (!o)
		not_found(rs, rt->res, rt->name);
	else
		ksim_resp_json(rs, 200, copy);
}

/* ---- writes ---- */

static bool dry_run(ksim_req *rq)
{
	const char *d = ksim_query(rq, "dryRun");
	return d && strcmp(d, "All") == 0;
}

static cJSON *parse_body(ksim_req *rq, ksim_resp *rs)
{
	const char *ct = rq->content_type;
	if (ct && strstr(ct, "protobuf")) {
		/* kubectl's typed generators (create namespace/configmap/secret) send protobuf. */
		ksim_resp_status(rs, 415, NULL,
				 "kube-sim accepts JSON bodies only, not %s: use kubectl apply -f "
				 "or kubectl create -f with a manifest",
				 ct);
		return NULL;
	}
	cJSON *j = rq->body_len ? cJSON_ParseWithLength(rq->body, rq->body_len) : NULL;
	if (!j) {
		ksim_resp_status(rs, 400, NULL,
				 "the body of the request could not be decoded as JSON");
		return NULL;
	}
	return j;
}

/* Runs one admission phase; true when the request is refused (rs is then filled). */
static bool admit(ksim_server *srv, const ksim_admission_req *areq, cJSON **obj, bool mutating,
		  ksim_admission_result *ar, ksim_resp *rs);

/* Admission failure → the client-facing answer, as the API server shows it. */
static bool admission_refused(ksim_resp *rs, ksim_admission_result *ar)
{
	for (size_t i = 0; i < ar->nwarnings; i++)
		ksim_resp_warn(rs, ar->warnings[i]);
	if (ar->code == 0)
		return false;
	ksim_resp_status(rs, ar->code, ar->reason, "%s", ar->message ? ar->message : "denied");
	return true;
}

static bool admit(ksim_server *srv, const ksim_admission_req *areq, cJSON **obj, bool mutating,
		  ksim_admission_result *ar, ksim_resp *rs)
{
	int rc = ksim_admit(srv, areq, obj, mutating, ar);
	if (admission_refused(rs, ar))
		return true;
	if (rc != 0) {
		ksim_resp_status(rs, 500, NULL, "Internal error occurred: admission: %s",
				 mg_strerror(rc));
		return true;
	}
	return false;
}

/* Schema validation for custom resources; fills rs with 422 when invalid, or 400 for
 * unknown fields under fieldValidation=Strict (a warning under Warn, the default). */
static bool schema_invalid(ksim_req *rq, ksim_resp *rs, const ksim_res *r, cJSON *obj,
			   const char *name)
{
	if (!r->crd || !r->schema)
		return false;
	const char *fv = ksim_query(rq, "fieldValidation");
	cJSON *errs = cJSON_CreateArray(), *unknown = cJSON_CreateArray();
	bool refused = true;
	mg_strbuf sb = MG_STRBUF_INIT;
	if (!errs || !unknown) {
		ksim_resp_status(rs, 500, NULL, "out of memory");
		goto out;
	}
	ksim_schema_validate(r->schema, obj, errs, unknown);
	int n = cJSON_GetArraySize(errs);
	const cJSON *e;
	if (n == 0 && cJSON_GetArraySize(unknown) > 0 && fv && strcmp(fv, "Strict") == 0) {
		mg_strbuf_printf(&sb, "%s in version \"%s\" cannot be handled as a %s: strict "
				      "decoding error: ", r->kind, r->version, r->kind);
		int i = 0;
		cJSON_ArrayForEach(e, unknown)
		{
			mg_strbuf_printf(&sb, "%sunknown field \"%s\"", i++ ? ", " : "", e->valuestring);
		}
		ksim_resp_status(rs, 400, "BadRequest", "%s", sb.data ? sb.data : "unknown field");
		goto out;
	}
	if (n == 0) {
		if (!fv || strcmp(fv, "Ignore") != 0) {
			cJSON_ArrayForEach(e, unknown)
			{
				char *w = mg_asprintf("unknown field \"%s\"", e->valuestring);
				if (w)
					ksim_resp_warn(rs, w);
				free(w);
			}
		}
		refused = false;
		goto out;
	}
	char kq[300];
	kind_qualified(kq, sizeof(kq), r);
	mg_strbuf_printf(&sb, "%s \"%s\" is invalid: ", kq, name);
	if (n > 1)
		mg_strbuf_putc(&sb, '[');
	int i = 0;
	cJSON_ArrayForEach(e, errs)
	{
		mg_strbuf_printf(&sb, "%s%s", i++ ? ", " : "", e->valuestring);
	}
	if (n > 1)
		mg_strbuf_putc(&sb, ']');
	ksim_resp_status(rs, 422, "Invalid", "%s", sb.data ? sb.data : "invalid");
out:
	mg_strbuf_free(&sb);
	cJSON_Delete(errs);
	cJSON_Delete(unknown);
	return refused;
}

/* Status and metadata are not part of a custom resource's generation. */
static bool spec_changed(const ksim_res *r, const cJSON *a, const cJSON *b)
{
	cJSON *x = cJSON_Duplicate(a, 1), *y = cJSON_Duplicate(b, 1);
	bool changed = true;
	if (x && y) {
		cJSON_DeleteItemFromObjectCaseSensitive(x, "metadata");
		cJSON_DeleteItemFromObjectCaseSensitive(y, "metadata");
		if (r->has_status) {
			cJSON_DeleteItemFromObjectCaseSensitive(x, "status");
			cJSON_DeleteItemFromObjectCaseSensitive(y, "status");
		}
		changed = !cJSON_Compare(x, y, 1);
	}
	cJSON_Delete(x);
	cJSON_Delete(y);
	return changed;
}

static int check_type(ksim_resp *rs, const ksim_res *r, const cJSON *obj)
{
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(obj, "kind");
	const cJSON *av = cJSON_GetObjectItemCaseSensitive(obj, "apiVersion");
	char *want = ksim_res_api_version(r);
	int rc = 0;
	if (!cJSON_IsObject(obj) || !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(obj, "metadata"))) {
		ksim_resp_status(rs, 400, NULL, "Object 'metadata' is missing or not an object");
		rc = -1;
	} else if ((cJSON_IsString(kind) && strcmp(kind->valuestring, r->kind) != 0) ||
		   (cJSON_IsString(av) && want && strcmp(av->valuestring, want) != 0)) {
		ksim_resp_status(rs, 400, NULL,
				 "the API version in the data (%s) does not match the expected API "
				 "version (%s) or kind %s",
				 cJSON_IsString(av) ? av->valuestring : "", want ? want : "", r->kind);
		rc = -1;
	}
	free(want);
	return rc;
}

static void stamp_type(const ksim_res *r, cJSON *obj)
{
	char *av = ksim_res_api_version(r);
	if (av)
		set_str(obj, "apiVersion", av);
	free(av);
	set_str(obj, "kind", r->kind);
}

static bool ns_exists(ksim_server *srv, const char *ns)
{
	const ksim_res *nsr = ksim_types_find(&srv->types, "", "v1", "namespaces");
	pthread_mutex_lock(&srv->store.lock);
	bool ok = ksim_store_find(&srv->store, nsr, "", ns) != NULL;
	pthread_mutex_unlock(&srv->store.lock);
	return ok;
}

static void add_defaults(const ksim_res *r, cJSON *obj, const char *name)
{
	if (strcmp(r->resource, "namespaces") == 0) {
		cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
		cJSON *labels = cJSON_GetObjectItemCaseSensitive(md, "labels");
		if (!cJSON_IsObject(labels)) {
			cJSON_DeleteItemFromObjectCaseSensitive(md, "labels");
			labels = cJSON_AddObjectToObject(md, "labels");
		}
		set_str(labels, "kubernetes.io/metadata.name", name);
		cJSON *st = cJSON_CreateObject();
		cJSON_AddStringToObject(st, "phase", "Active");
		set_item(obj, "status", st);
	} else if (strcmp(r->resource, "persistentvolumeclaims") == 0 ||
		   strcmp(r->resource, "persistentvolumes") == 0) {
		cJSON *st = cJSON_CreateObject();
		cJSON_AddStringToObject(st, "phase",
					strcmp(r->resource, "persistentvolumeclaims") == 0 ? "Pending"
											   : "Available");
		set_item(obj, "status", st);
	}
}

static void do_create(ksim_req *rq, ksim_resp *rs, const struct route *rt)
{
	ksim_server *srv = rq->srv;
	const ksim_res *r = rt->res;
	ksim_admission_result ar = {0};
	cJSON *obj = parse_body(rq, rs);
	char *uid = NULL, *gen_name = NULL;
	if (!obj || check_type(rs, r, obj) != 0)
		goto out;
	cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	const char *name = md_str(obj, "name"), *gen = md_str(obj, "generateName");
	const char *body_ns = md_str(obj, "namespace");
	if (r->namespaced) {
		if (body_ns && *body_ns && strcmp(body_ns, rt->ns) != 0) {
			ksim_resp_status(rs, 400, NULL,
					 "the namespace of the provided object does not match the "
					 "namespace sent on the request");
			goto out;
		}
		set_str(md, "namespace", rt->ns);
		if (!ns_exists(srv, rt->ns)) {
			ksim_resp_status(rs, 404, "NotFound", "namespaces \"%s\" not found", rt->ns);
			goto out;
		}
	} else {
		cJSON_DeleteItemFromObjectCaseSensitive(md, "namespace");
	}
	if ((!name || !*name) && gen && *gen) {
		unsigned long long n = atomic_fetch_add(&srv->uid_counter, 1) + 1;
		gen_name = mg_asprintf("%s%05llx", gen, n * 7919 % 0xfffff);
		if (!gen_name)
			goto oom;
		set_str(md, "name", gen_name);
		name = md_str(obj, "name");
	}
	if (!name || !*name) {
		char kq[300];
		kind_qualified(kq, sizeof(kq), r);
		ksim_resp_status(rs, 422, "Invalid",
				 "%s \"\" is invalid: metadata.name: Required value: name or "
				 "generateName is required",
				 kq);
		goto out;
	}
	char ts[32];
	ksim_now(ts, sizeof(ts));
	if (!(uid = ksim_new_uid(srv)))
		goto oom;
	set_str(md, "uid", uid);
	set_str(md, "creationTimestamp", ts);
	cJSON_DeleteItemFromObjectCaseSensitive(md, "resourceVersion");
	cJSON_DeleteItemFromObjectCaseSensitive(md, "deletionTimestamp");
	cJSON_DeleteItemFromObjectCaseSensitive(md, "deletionGracePeriodSeconds");
	if (r->crd)
		set_item(md, "generation", cJSON_CreateNumber(1));
	if (r->has_status)
		cJSON_DeleteItemFromObjectCaseSensitive(obj, "status");
	stamp_type(r, obj);
	add_defaults(r, obj, name);
	char nm[SEG_LEN];
	snprintf(nm, sizeof(nm), "%s", name);
	ksim_admission_req areq = {r, NULL, "CREATE", r->namespaced ? rt->ns : NULL, nm, NULL,
				   dry_run(rq), rq->username};
	if (admit(srv, &areq, &obj, true, &ar, rs) || schema_invalid(rq, rs, r, obj, nm) ||
	    admit(srv, &areq, &obj, false, &ar, rs))
		goto out;
	if (areq.dry_run) {
		ksim_resp_json(rs, 201, obj);
		obj = NULL;
		goto out;
	}
	pthread_mutex_lock(&srv->store.lock);
	if (ksim_store_find(&srv->store, r, rt->ns, nm)) {
		pthread_mutex_unlock(&srv->store.lock);
		char q[300];
		qualified(q, sizeof(q), r);
		ksim_resp_status(rs, 409, "AlreadyExists", "%s \"%s\" already exists", q, nm);
		goto out;
	}
	cJSON *copy = cJSON_Duplicate(obj, 1);
	if (!copy || ksim_store_put(&srv->store, r, rt->ns, nm, copy, "ADDED") != 0) {
		pthread_mutex_unlock(&srv->store.lock);
		goto oom;
	}
	cJSON *answer = cJSON_Duplicate(copy, 1);
	ksim_snapshot(srv);
	pthread_mutex_unlock(&srv->store.lock);
	ksim_resp_json(rs, 201, answer);
	goto out;
oom:
	ksim_resp_status(rs, 500, NULL, "out of memory");
out:
	ksim_admission_result_free(&ar);
	cJSON_Delete(obj);
	free(uid);
	free(gen_name);
}

static bool has_finalizers(const cJSON *obj)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(obj, "metadata"), "finalizers");
	return cJSON_IsArray(f) && cJSON_GetArraySize(f) > 0;
}

/* The first finalizer of `next` that `old` does not have, or NULL. */
static const char *new_finalizer(const cJSON *old, const cJSON *next)
{
	const cJSON *of = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(old, "metadata"), "finalizers");
	const cJSON *nf = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(next, "metadata"), "finalizers");
	const cJSON *f;
	cJSON_ArrayForEach(f, nf) {
		if (!cJSON_IsString(f))
			continue;
		bool known = false;
		const cJSON *o;
		cJSON_ArrayForEach(o, of) {
			if (cJSON_IsString(o) && strcmp(o->valuestring, f->valuestring) == 0)
				known = true;
		}
		if (!known)
			return f->valuestring;
	}
	return NULL;
}

/* Everything an update must keep from the stored object. */
static int carry_over(const ksim_res *r, const cJSON *old, cJSON **incoming, bool status_only)
{
	cJSON *n;
	if (status_only) {
		/* PUT/PATCH .../status changes status only. */
		n = cJSON_Duplicate(old, 1);
		if (!n)
			return MG_ENOMEM;
		cJSON *st = cJSON_DetachItemFromObjectCaseSensitive(*incoming, "status");
		cJSON_DeleteItemFromObjectCaseSensitive(n, "status");
		if (st)
			cJSON_AddItemToObject(n, "status", st);
		cJSON *inmd = cJSON_GetObjectItemCaseSensitive(*incoming, "metadata");
		const cJSON *rv = cJSON_GetObjectItemCaseSensitive(inmd, "resourceVersion");
		if (cJSON_IsString(rv))
			set_str(cJSON_GetObjectItemCaseSensitive(n, "metadata"), "resourceVersion",
				rv->valuestring);
		cJSON_Delete(*incoming);
		*incoming = n;
		return 0;
	}
	n = *incoming;
	cJSON *md = cJSON_GetObjectItemCaseSensitive(n, "metadata");
	const cJSON *omd = cJSON_GetObjectItemCaseSensitive(old, "metadata");
	static const char *const keep[] = {"uid", "creationTimestamp", "deletionTimestamp",
					   "deletionGracePeriodSeconds", "generation", "namespace",
					   "name"};
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(omd, keep[i]);
		cJSON_DeleteItemFromObjectCaseSensitive(md, keep[i]);
		if (v)
			cJSON_AddItemToObject(md, keep[i], cJSON_Duplicate(v, 1));
	}
	if (r->has_status) {
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(old, "status");
		cJSON_DeleteItemFromObjectCaseSensitive(n, "status");
		if (st)
			cJSON_AddItemToObject(n, "status", cJSON_Duplicate(st, 1));
	}
	stamp_type(r, n);
	return 0;
}

static void conflict(ksim_resp *rs, const ksim_res *r, const char *name)
{
	char q[300];
	qualified(q, sizeof(q), r);
	ksim_resp_status(rs, 409, "Conflict",
			 "Operation cannot be fulfilled on %s \"%s\": the object has been "
			 "modified; please apply your changes to the latest version and try again",
			 q, name);
}

/* The common tail of PUT and PATCH: *next is the proposed object. */
static void commit_update(ksim_req *rq, ksim_resp *rs, const struct route *rt, cJSON *old,
			  cJSON **next, bool require_rv)
{
	ksim_server *srv = rq->srv;
	const ksim_res *r = rt->res;
	ksim_admission_result ar = {0};
	bool status_only = rt->has_sub;
	const char *old_rv = md_str(old, "resourceVersion");
	const char *new_rv = md_str(*next, "resourceVersion");
	if (check_type(rs, r, *next) != 0)
		goto out;
	const char *nname = md_str(*next, "name");
	if (nname && strcmp(nname, rt->name) != 0) {
		ksim_resp_status(rs, 400, NULL,
				 "the name of the object (%s) does not match the name on the URL (%s)",
				 nname, rt->name);
		goto out;
	}
	if (require_rv && (!new_rv || !*new_rv)) {
		char kq[300];
		kind_qualified(kq, sizeof(kq), r);
		ksim_resp_status(rs, 422, "Invalid",
				 "%s \"%s\" is invalid: metadata.resourceVersion: Invalid value: "
				 "0x0: must be specified for an update",
				 kq, rt->name);
		goto out;
	}
	if (new_rv && *new_rv && strcmp(new_rv, old_rv) != 0) {
		conflict(rs, r, rt->name);
		goto out;
	}
	if (carry_over(r, old, next, status_only) != 0)
		goto oom;
	/* The API server's ValidateObjectMetaUpdate: an object being deleted may lose
	 * finalizers, never gain one (a controller must not resurrect what is going away). */
	const char *added = md_str(old, "deletionTimestamp") ? new_finalizer(old, *next) : NULL;
	if (added) {
		char kq[300];
		kind_qualified(kq, sizeof(kq), r);
		ksim_resp_status(rs, 422, "Invalid",
				 "%s \"%s\" is invalid: metadata.finalizers: Forbidden: no new "
				 "finalizers can be added if the object is being deleted, found new "
				 "finalizers []string{\"%s\"}",
				 kq, rt->name, added);
		goto out;
	}
	cJSON *md = cJSON_GetObjectItemCaseSensitive(*next, "metadata");
	if (r->crd && spec_changed(r, old, *next)) {
		const cJSON *g = cJSON_GetObjectItemCaseSensitive(md, "generation");
		double gen = cJSON_IsNumber(g) ? g->valuedouble : 1;
		set_item(md, "generation", cJSON_CreateNumber(gen + 1));
	}
	char ns[SEG_LEN];
	snprintf(ns, sizeof(ns), "%s", rt->ns);
	ksim_admission_req areq = {r, status_only ? "status" : NULL, "UPDATE",
				   r->namespaced ? ns : NULL, rt->name, old, dry_run(rq), rq->username};
	if (admit(srv, &areq, next, true, &ar, rs) || schema_invalid(rq, rs, r, *next, rt->name) ||
	    admit(srv, &areq, next, false, &ar, rs))
		goto out;
	bool finalize = md_str(old, "deletionTimestamp") && !has_finalizers(*next);
	if (areq.dry_run) {
		ksim_resp_json(rs, 200, *next);
		*next = NULL;
		goto out;
	}
	pthread_mutex_lock(&srv->store.lock);
	ksim_obj *cur = ksim_store_find(&srv->store, r, rt->ns, rt->name);
	if (!cur || strcmp(md_str(cur->obj, "resourceVersion"), old_rv) != 0) {
		pthread_mutex_unlock(&srv->store.lock);
		if (!cur)
			not_found(rs, r, rt->name);
		else
			conflict(rs, r, rt->name);
		goto out;
	}
	int rc;
	cJSON *answer = NULL;
	if (finalize) {
		/* The last finalizer is gone from an object being deleted: it goes now. */
		answer = cJSON_Duplicate(*next, 1);
		rc = ksim_store_remove(&srv->store, r, rt->ns, rt->name);
	} else {
		cJSON *copy = cJSON_Duplicate(*next, 1);
		rc = copy ? ksim_store_put(&srv->store, r, rt->ns, rt->name, copy, "MODIFIED")
			  : MG_ENOMEM;
		if (rc == 0)
			answer = cJSON_Duplicate(copy, 1);
	}
	ksim_snapshot(srv);
	pthread_mutex_unlock(&srv->store.lock);
	if (rc != 0 || !answer) {
		cJSON_Delete(answer);
		goto oom;
	}
	ksim_resp_json(rs, 200, answer);
	goto out;
oom:
	ksim_resp_status(rs, 500, NULL, "out of memory");
out:
	ksim_admission_result_free(&ar);
}

static cJSON *current_copy(ksim_server *srv, const struct route *rt)
{
	pthread_mutex_lock(&srv->store.lock);
	ksim_obj *o = ksim_store_find(&srv->store, rt->res, rt->ns, rt->name);
	cJSON *c = o ? cJSON_Duplicate(o->obj, 1) : NULL;
	pthread_mutex_unlock(&srv->store.lock);
	return c;
}

static void do_update(ksim_req *rq, ksim_resp *rs, const struct route *rt)
{
	cJSON *next = parse_body(rq, rs);
	if (!next)
		return;
	cJSON *old = current_copy(rq->srv, rt);
	if (!old)
		not_found(rs, rt->res, rt->name);
	else if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(next, "metadata")))
		ksim_resp_status(rs, 400, NULL, "Object 'metadata' is missing or not an object");
	else
		commit_update(rq, rs, rt, old, &next, true);
	cJSON_Delete(old);
	cJSON_Delete(next);
}

static bool ctype_is(const char *ct, const char *want)
{
	return ct && strncmp(ct, want, strlen(want)) == 0 &&
	       (ct[strlen(want)] == '\0' || ct[strlen(want)] == ';');
}

static void do_patch(ksim_req *rq, ksim_resp *rs, const struct route *rt)
{
	const char *ct = rq->content_type;
	const ksim_res *r = rt->res;
	cJSON *patch = NULL, *next = NULL, *old = NULL;
	int kind;
	if (ctype_is(ct, "application/json-patch+json"))
		kind = 0;
	else if (ctype_is(ct, "application/merge-patch+json"))
		kind = 1;
	else if (ctype_is(ct, "application/strategic-merge-patch+json") && !r->crd)
		kind = 2;
	else {
		ksim_resp_status(rs, 415, NULL,
				 "the body of the request was in an unknown format - accepted media "
				 "types include: application/json-patch+json, "
				 "application/merge-patch+json%s",
				 r->crd ? "" : ", application/strategic-merge-patch+json");
		return;
	}
	if (!(patch = parse_body(rq, rs)))
		return;
	if (!(old = current_copy(rq->srv, rt))) {
		not_found(rs, r, rt->name);
		goto out;
	}
	int rc;
	if (kind == 0) {
		next = cJSON_Duplicate(old, 1);
		rc = next ? mg_jsonpatch_apply(&next, patch) : MG_ENOMEM;
		if (rc == MG_ECONFLICT) {
			ksim_resp_status(rs, 422, "Invalid", "the server rejected our request due to an "
							     "error in our request: a test operation failed");
			goto out;
		}
	} else if (kind == 1) {
		rc = mg_merge_patch_apply(&next, old, patch);
	} else {
		rc = mg_strategic_merge_patch_apply(&next, old, patch);
	}
	if (rc == MG_ENOMEM) {
		ksim_resp_status(rs, 500, NULL, "out of memory");
		goto out;
	}
	if (rc != 0 || !cJSON_IsObject(next)) {
		ksim_resp_status(rs, 422, "Invalid", "the server rejected our request due to an "
						     "error in our request: the patch cannot be applied");
		goto out;
	}
	commit_update(rq, rs, rt, old, &next, false);
out:
	cJSON_Delete(patch);
	cJSON_Delete(next);
	cJSON_Delete(old);
}

/* Deleting a namespace removes what is in it (at once: kube-sim has no controllers). */
static void delete_contents(ksim_store *s, const char *ns)
{
	for (size_t i = s->nobjs; i-- > 0;) {
		ksim_obj *o = &s->objs[i];
		if (o->res->namespaced && strcmp(o->ns, ns) == 0) {
			const ksim_res *r = o->res;
			char *name = mg_strdup(o->name);
			if (name)
				ksim_store_remove(s, r, ns, name);
			free(name);
		}
	}
}

static void do_delete(ksim_req *rq, ksim_resp *rs, const struct route *rt)
{
	ksim_server *srv = rq->srv;
	const ksim_res *r = rt->res;
	ksim_admission_result ar = {0};
	cJSON *opts = NULL, *old = NULL, *answer = NULL;
	if (rq->body_len > 0 && !(opts = parse_body(rq, rs)))
		return;
	if (!(old = current_copy(srv, rt))) {
		not_found(rs, r, rt->name);
		goto out;
	}
	const cJSON *pre = cJSON_GetObjectItemCaseSensitive(opts, "preconditions");
	const cJSON *puid = cJSON_GetObjectItemCaseSensitive(pre, "uid");
	const cJSON *prv = cJSON_GetObjectItemCaseSensitive(pre, "resourceVersion");
	const char *ouid = md_str(old, "uid"), *orv = md_str(old, "resourceVersion");
	if (cJSON_IsString(puid) && strcmp(puid->valuestring, ouid ? ouid : "") != 0) {
		ksim_resp_status(rs, 409, "Conflict",
				 "Precondition failed: UID in precondition: %s, UID in object meta: %s",
				 puid->valuestring, ouid ? ouid : "");
		goto out;
	}
	if (cJSON_IsString(prv) && strcmp(prv->valuestring, orv ? orv : "") != 0) {
		ksim_resp_status(rs, 409, "Conflict",
				 "Precondition failed: ResourceVersion in precondition: %s, "
				 "ResourceVersion in object meta: %s",
				 prv->valuestring, orv ? orv : "");
		goto out;
	}
	char ns[SEG_LEN];
	snprintf(ns, sizeof(ns), "%s", rt->ns);
	ksim_admission_req areq = {r, NULL, "DELETE", r->namespaced ? ns : NULL, rt->name, old,
				   dry_run(rq), rq->username};
	cJSON *none = NULL;
	bool refused = admit(srv, &areq, &none, false, &ar, rs);
	cJSON_Delete(none);
	if (refused)
		goto out;
	if (areq.dry_run) {
		ksim_resp_json(rs, 200, old);
		old = NULL;
		goto out;
	}
	pthread_mutex_lock(&srv->store.lock);
	ksim_obj *cur = ksim_store_find(&srv->store, r, rt->ns, rt->name);
	int rc = 0;
	if (!cur) {
		pthread_mutex_unlock(&srv->store.lock);
		not_found(rs, r, rt->name);
		goto out;
	}
	if (has_finalizers(cur->obj)) {
		/* Finalizers hold the object: mark it; the last finalizer removal deletes it. */
		cJSON *next = cJSON_Duplicate(cur->obj, 1);
		if (next && !md_str(next, "deletionTimestamp")) {
			char ts[32];
			ksim_now(ts, sizeof(ts));
			cJSON *md = cJSON_GetObjectItemCaseSensitive(next, "metadata");
			set_str(md, "deletionTimestamp", ts);
			set_item(md, "deletionGracePeriodSeconds", cJSON_CreateNumber(0));
			rc = ksim_store_put(&srv->store, r, rt->ns, rt->name, next, "MODIFIED");
			next = NULL;
		}
		cJSON_Delete(next);
		cur = ksim_store_find(&srv->store, r, rt->ns, rt->name);
		answer = cur ? cJSON_Duplicate(cur->obj, 1) : NULL;
	} else {
		answer = cJSON_Duplicate(cur->obj, 1);
		if (strcmp(r->resource, "namespaces") == 0)
			delete_contents(&srv->store, rt->name);
		rc = ksim_store_remove(&srv->store, r, rt->ns, rt->name);
	}
	ksim_snapshot(srv);
	pthread_mutex_unlock(&srv->store.lock);
	if (rc != 0 || !answer)
		ksim_resp_status(rs, 500, NULL, "out of memory");
	else {
		ksim_resp_json(rs, 200, answer);
		answer = NULL;
	}
out:
	ksim_admission_result_free(&ar);
	cJSON_Delete(answer);
	cJSON_Delete(opts);
	cJSON_Delete(old);
}

void ksim_api(ksim_req *rq, ksim_resp *rs)
{
	struct route rt;
	int prc = parse_route(&rq->srv->types, rq->path, &rt);
	if (prc == -2) {
		/* An unserved group (a CRD not installed) falls through the API server's whole
		 * delegation chain to Go's http.NotFound: plain text, not a Status. Clients
		 * must cope with both. */
		ksim_resp_page_not_found(rs);
		return;
	}
	if (prc != 0) {
		ksim_resp_status(rs, 404, "NotFound", "the server could not find the requested resource");
		return;
	}
	const char *m = rq->method;
	if (!rt.has_name) {
		const char *w = ksim_query(rq, "watch");
		if (strcmp(m, "GET") == 0 && w && (strcmp(w, "true") == 0 || strcmp(w, "1") == 0))
			ksim_watch(rq, rs, rt.res, rt.has_ns ? rt.ns : NULL);
		else if (strcmp(m, "GET") == 0)
			do_list(rq, rs, &rt);
		else if (strcmp(m, "POST") == 0 && (rt.has_ns || !rt.res->namespaced))
			do_create(rq, rs, &rt);
		else
			ksim_resp_status(rs, 405, NULL, "the server does not allow this method on the "
							"requested resource");
		return;
	}
	if (strcmp(m, "GET") == 0)
		do_get(rq, rs, &rt);
	else if (strcmp(m, "PUT") == 0)
		do_update(rq, rs, &rt);
	else if (strcmp(m, "PATCH") == 0)
		do_patch(rq, rs, &rt);
	else if (strcmp(m, "DELETE") == 0 && !rt.has_sub)
		do_delete(rq, rs, &rt);
	else
		ksim_resp_status(rs, 405, NULL,
				 "the server does not allow this method on the requested resource");
}

void ksim_snapshot(ksim_server *srv)
{
	if (!srv->opt.snapshot)
		return;
	cJSON *list = cJSON_CreateObject();
	cJSON *items = list ? cJSON_AddArrayToObject(list, "items") : NULL;
	if (!items) {
		cJSON_Delete(list);
		return;
	}
	cJSON_AddStringToObject(list, "kind", "List");
	cJSON_AddStringToObject(list, "apiVersion", "v1");
	for (size_t i = 0; i < srv->store.nobjs; i++)
		cJSON_AddItemToArray(items, cJSON_Duplicate(srv->store.objs[i].obj, 1));
	char *text = cJSON_Print(list);
	int rc = text ? mg_write_file_atomic(srv->opt.snapshot, text, strlen(text), 0600)
		      : MG_ENOMEM;
	if (rc != 0)
		mg_warn("kube-sim: cannot write the state snapshot", "path", srv->opt.snapshot,
			"error", mg_strerror(rc), NULL);
	free(text);
	cJSON_Delete(list);
}
