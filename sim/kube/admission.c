/* Admission as the API server does it: find the webhooks whose rules, namespaceSelector
 * and objectSelector match; POST an AdmissionReview v1 to each over TLS verified against
 * its caBundle within timeoutSeconds; verify the answer; apply mutating JSON patches;
 * turn a denial into `admission webhook "<name>" denied the request: <message>` with the
 * webhook's status code; apply failurePolicy to calls that fail; collect warnings. */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "mirrorgate/core/jsonnum.h"
#include "ksim.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/core/jsonpatch.h"
#include "mirrorgate/util/log.h"
#include "mirrorgate/util/strbuf.h"

#define REVIEW_MAX (8u * 1024 * 1024)

void ksim_admission_result_free(ksim_admission_result *res)
{
	if (!res)
		return;
	free(res->message);
	free(res->reason);
	for (size_t i = 0; i < res->nwarnings; i++)
		free(res->warnings[i]);
	free(res->warnings);
	memset(res, 0, sizeof(*res));
}

static bool list_has(const cJSON *list, const char *value)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, list)
	{
		if (cJSON_IsString(e) && (strcmp(e->valuestring, "*") == 0 ||
					  strcmp(e->valuestring, value) == 0))
			return true;
	}
	return false;
}

/* resources: "pvcs", "pvcs/status", "*", "* /status", "pvcs/ *", "* / *" (no spaces). */
static bool resource_matches(const cJSON *resources, const char *res, const char *sub)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, resources)
	{
		if (!cJSON_IsString(e))
			continue;
		const char *v = e->valuestring, *slash = strchr(v, '/');
		if (!slash) {
			if (!sub && (strcmp(v, "*") == 0 || strcmp(v, res) == 0))
				return true;
			continue;
		}
		if (!sub)
			continue;
		size_t rl = (size_t)(slash - v);
		bool rok = (rl == 1 && v[0] == '*') || (strlen(res) == rl && strncmp(v, res, rl) == 0);
		bool sok = strcmp(slash + 1, "*") == 0 || strcmp(slash + 1, sub) == 0;
		if (rok && sok)
			return true;
	}
	return false;
}

static bool rules_match(const cJSON *hook, const ksim_admission_req *req)
{
	const cJSON *rule;
	cJSON_ArrayForEach(rule, cJSON_GetObjectItemCaseSensitive(hook, "rules"))
	{
		if (!list_has(cJSON_GetObjectItemCaseSensitive(rule, "operations"), req->operation) ||
		    !list_has(cJSON_GetObjectItemCaseSensitive(rule, "apiGroups"), req->res->group) ||
		    !list_has(cJSON_GetObjectItemCaseSensitive(rule, "apiVersions"), req->res->version) ||
		    !resource_matches(cJSON_GetObjectItemCaseSensitive(rule, "resources"),
				      req->res->resource, req->subresource))
			continue;
		const cJSON *scope = cJSON_GetObjectItemCaseSensitive(rule, "scope");
		if (cJSON_IsString(scope)) {
			if (strcmp(scope->valuestring, "Cluster") == 0 && req->res->namespaced)
				continue;
			if (strcmp(scope->valuestring, "Namespaced") == 0 && !req->res->namespaced)
				continue;
		}
		return true;
	}
	return false;
}

static const cJSON *labels_of(const cJSON *obj)
{
	return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(obj, "metadata"),
						"labels");
}

/* -1: selector invalid (treated as a call error), 0: no match, 1: match */
static int selector_match(const cJSON *sel_json, const cJSON *labels_a, const cJSON *labels_b,
			  bool have_b)
{
	mg_label_selector *sel = NULL;
	if (mg_label_selector_from_json(&sel, sel_json) != 0)
		return -1;
	int m = mg_label_selector_matches(sel, labels_a) ||
		(have_b && mg_label_selector_matches(sel, labels_b));
	mg_label_selector_free(sel);
	return m;
}

struct hook {
	cJSON *def; /* owned copy of the webhooks[] entry */
	bool mutating;
};

/* Copies the matching webhooks out of the store so that calls run without the lock. */
static int collect_hooks(ksim_server *srv, const ksim_admission_req *req, bool mutating,
			 struct hook **out, size_t *n, cJSON **ns_labels)
{
	ksim_store *s = &srv->store;
	const ksim_res *cfg_res = ksim_types_find(
		&srv->types, "admissionregistration.k8s.io", "v1",
		mutating ? "mutatingwebhookconfigurations" : "validatingwebhookconfigurations");
	const ksim_res *nsr = ksim_types_find(&srv->types, "", "v1", "namespaces");
	*out = NULL;
	*n = 0;
	*ns_labels = NULL;
	pthread_mutex_lock(&s->lock);
	if (req->ns) {
		ksim_obj *nso = ksim_store_find(s, nsr, "", req->ns);
		const cJSON *l = nso ? labels_of(nso->obj) : NULL;
		*ns_labels = l ? cJSON_Duplicate(l, 1) : cJSON_CreateObject();
	}
	/* The API server orders mutating webhooks by configuration name. */
	const ksim_obj **cfgs = calloc(s->nobjs + 1, sizeof(*cfgs));
	size_t ncfg = 0;
	for (size_t i = 0; cfgs && i < s->nobjs; i++)
		if (s->objs[i].res == cfg_res)
			cfgs[ncfg++] = &s->objs[i];
	for (size_t i = 1; i < ncfg; i++)
		for (size_t j = i; j > 0 && strcmp(cfgs[j - 1]->name, cfgs[j]->name) > 0; j--) {
			const ksim_obj *t = cfgs[j];
			cfgs[j] = cfgs[j - 1];
			cfgs[j - 1] = t;
		}
	int rc = cfgs ? 0 : MG_ENOMEM;
	for (size_t i = 0; rc == 0 && i < ncfg; i++) {
		const cJSON *h;
		cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(cfgs[i]->obj, "webhooks"))
		{
			if (!rules_match(h, req))
				continue;
			struct hook *nh = realloc(*out, (*n + 1) * sizeof(*nh));
			if (!nh) {
				rc = MG_ENOMEM;
				break;
			}
			*out = nh;
			nh[*n].def = cJSON_Duplicate(h, 1);
			nh[*n].mutating = mutating;
			if (!nh[*n].def) {
				rc = MG_ENOMEM;
				break;
			}
			(*n)++;
		}
	}
	free(cfgs);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int b64_decode(unsigned char **out, size_t *out_len, const char *in)
{
	size_t n = strlen(in);
	if (n % 4 != 0)
		return MG_EPARSE;
	unsigned char *buf = malloc(n / 4 * 3 + 1);
	if (!buf)
		return MG_ENOMEM;
	int len = EVP_DecodeBlock(buf, (const unsigned char *)in, (int)n);
	if (len < 0) {
		free(buf);
		return MG_EPARSE;
	}
	while (n > 0 && in[n - 1] == '=') {
		n--;
		len--;
	}
	buf[len] = '\0';
	*out = buf;
	*out_len = (size_t)len;
	return 0;
}

static size_t sink(char *data, size_t size, size_t n, void *userdata)
{
	mg_strbuf *sb = userdata;
	if (sb->len + size * n > REVIEW_MAX)
		return 0;
	return mg_strbuf_append(sb, data, size * n) == 0 ? size * n : 0;
}

static cJSON *gvk_obj(const char *a, const char *av, const char *b, const char *bv,
		      const char *c, const char *cv)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, a, av);
	cJSON_AddStringToObject(o, b, bv);
	cJSON_AddStringToObject(o, c, cv);
	return o;
}

static char *build_review(ksim_server *srv, const ksim_admission_req *req, const cJSON *obj,
			  char **uid_out)
{
	const ksim_res *r = req->res;
	cJSON *rev = cJSON_CreateObject();
	char *uid = ksim_new_uid(srv);
	cJSON_AddStringToObject(rev, "apiVersion", "admission.k8s.io/v1");
	cJSON_AddStringToObject(rev, "kind", "AdmissionReview");
	cJSON *rq = cJSON_AddObjectToObject(rev, "request");
	cJSON_AddStringToObject(rq, "uid", uid ? uid : "");
	cJSON_AddItemToObject(rq, "kind", gvk_obj("group", r->group, "version", r->version, "kind", r->kind));
	cJSON_AddItemToObject(rq, "resource", gvk_obj("group", r->group, "version", r->version, "resource", r->resource));
	cJSON_AddItemToObject(rq, "requestKind", gvk_obj("group", r->group, "version", r->version, "kind", r->kind));
	cJSON_AddItemToObject(rq, "requestResource", gvk_obj("group", r->group, "version", r->version, "resource", r->resource));
	if (req->subresource) {
		cJSON_AddStringToObject(rq, "subResource", req->subresource);
		cJSON_AddStringToObject(rq, "requestSubResource", req->subresource);
	}
	if (req->name && *req->name)
		cJSON_AddStringToObject(rq, "name", req->name);
	if (req->ns)
		cJSON_AddStringToObject(rq, "namespace", req->ns);
	cJSON_AddStringToObject(rq, "operation", req->operation);
	cJSON *ui = cJSON_AddObjectToObject(rq, "userInfo");
	cJSON_AddStringToObject(ui, "username", req->username ? req->username : "kube-sim-user");
	const char *groups[] = {"system:masters", "system:authenticated"};
	cJSON_AddItemToObject(ui, "groups", cJSON_CreateStringArray(groups, 2));
	cJSON_AddItemToObject(rq, "object", obj ? cJSON_Duplicate(obj, 1) : cJSON_CreateNull());
	cJSON_AddItemToObject(rq, "oldObject",
			      req->old_obj ? cJSON_Duplicate(req->old_obj, 1) : cJSON_CreateNull());
	cJSON_AddBoolToObject(rq, "dryRun", req->dry_run);
	cJSON *opts = cJSON_AddObjectToObject(rq, "options");
	cJSON_AddStringToObject(opts, "apiVersion", "meta.k8s.io/v1");
	cJSON_AddStringToObject(opts, "kind", strcmp(req->operation, "CREATE") == 0 ? "CreateOptions"
					      : strcmp(req->operation, "UPDATE") == 0 ? "UpdateOptions"
										      : "DeleteOptions");
	char *text = cJSON_PrintUnformatted(rev);
	cJSON_Delete(rev);
	*uid_out = uid;
	return text;
}

/* Calls one webhook. 0 with *resp set, or an error with `err` describing it. */
static int call_hook(const cJSON *hook, const char *body, long timeout_s, cJSON **resp,
		     char *err, size_t err_len)
{
	const cJSON *cc = cJSON_GetObjectItemCaseSensitive(hook, "clientConfig");
	const char *url = jstr(cc, "url");
	const char *ca_b64 = jstr(cc, "caBundle");
	unsigned char *ca = NULL;
	size_t ca_len = 0;
	mg_strbuf out = MG_STRBUF_INIT;
	struct curl_slist *hdr = NULL;
	CURL *h = NULL;
	char *full_url = NULL;
	int rc = MG_EREMOTE;
	*resp = NULL;
	if (!url) {
		snprintf(err, err_len,
			 "kube-sim cannot reach in-cluster services: clientConfig.url is required");
		goto out;
	}
	if (ca_b64 && b64_decode(&ca, &ca_len, ca_b64) != 0) {
		snprintf(err, err_len, "caBundle is not valid base64");
		goto out;
	}
	full_url = mg_asprintf("%s%stimeout=%lds", url, strchr(url, '?') ? "&" : "?", timeout_s);
	if (!(h = curl_easy_init()) || !full_url) {
		rc = MG_ENOMEM;
		goto out;
	}
	hdr = curl_slist_append(NULL, "Content-Type: application/json");
	if (hdr)
		hdr = curl_slist_append(hdr, "Accept: application/json");
	if (!hdr) {
		rc = MG_ENOMEM;
		goto out;
	}
	curl_easy_setopt(h, CURLOPT_URL, full_url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_s * 1000L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
	if (ca) {
		struct curl_blob blob = {ca, ca_len, CURL_BLOB_COPY};
		curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
	}
	CURLcode res = curl_easy_perform(h);
	if (res != CURLE_OK) {
		snprintf(err, err_len, "failed to call webhook: Post \"%s\": %s", full_url,
			 res == CURLE_OPERATION_TIMEDOUT ? "context deadline exceeded"
							 : curl_easy_strerror(res));
		rc = res == CURLE_OPERATION_TIMEDOUT ? MG_ETIMEOUT : MG_EIO;
		goto out;
	}
	long code = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	if (code < 200 || code >= 300) {
		snprintf(err, err_len, "received invalid webhook response: HTTP %ld", code);
		goto out;
	}
	if (!(*resp = out.data ? cJSON_ParseWithLength(out.data, out.len) : NULL)) {
		snprintf(err, err_len, "received invalid webhook response: not JSON");
		goto out;
	}
	rc = 0;
out:
	free(ca);
	free(full_url);
	mg_strbuf_free(&out);
	curl_slist_free_all(hdr);
	if (h)
		curl_easy_cleanup(h);
	return rc;
}

/* VerifyAdmissionResponse for v1. */
static const cJSON *verify(const cJSON *review, const char *uid, bool mutating, char *err,
			   size_t err_len)
{
	const char *av = jstr(review, "apiVersion"), *kind = jstr(review, "kind");
	const cJSON *resp = cJSON_GetObjectItemCaseSensitive(review, "response");
	if (!av || strcmp(av, "admission.k8s.io/v1") != 0 || !kind ||
	    strcmp(kind, "AdmissionReview") != 0) {
		snprintf(err, err_len,
			 "expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, "
			 "got %s, Kind=%s",
			 av ? av : "", kind ? kind : "");
		return NULL;
	}
	if (!cJSON_IsObject(resp)) {
		snprintf(err, err_len, "webhook response was absent");
		return NULL;
	}
	const char *ruid = jstr(resp, "uid");
	if (!ruid || strcmp(ruid, uid) != 0) {
		snprintf(err, err_len, "expected response.uid=\"%s\", got \"%s\"", uid,
			 ruid ? ruid : "");
		return NULL;
	}
	const cJSON *patch = cJSON_GetObjectItemCaseSensitive(resp, "patch");
	const cJSON *pt = cJSON_GetObjectItemCaseSensitive(resp, "patchType");
	if (!mutating && (patch || pt)) {
		snprintf(err, err_len, "validating webhook may not return a patch");
		return NULL;
	}
	if ((patch && !pt) || (!patch && pt) ||
	    (pt && (!cJSON_IsString(pt) || strcmp(pt->valuestring, "JSONPatch") != 0))) {
		snprintf(err, err_len, "webhook returned an invalid patch/patchType combination");
		return NULL;
	}
	return resp;
}

static int add_warning(ksim_admission_result *res, const char *w)
{
	char **nw = realloc(res->warnings, (res->nwarnings + 1) * sizeof(*nw));
	if (!nw)
		return MG_ENOMEM;
	res->warnings = nw;
	if (!(nw[res->nwarnings] = mg_strdup(w)))
		return MG_ENOMEM;
	res->nwarnings++;
	return 0;
}

static void refuse(ksim_admission_result *res, int code, const char *reason, char *message)
{
	res->code = code;
	free(res->reason);
	free(res->message);
	res->reason = mg_strdup(reason);
	res->message = message;
}

static int apply_patch(cJSON **obj, const cJSON *resp, char *err, size_t err_len)
{
	const char *p = jstr(resp, "patch");
	unsigned char *raw = NULL;
	size_t len;
	cJSON *ops = NULL;
	int rc;
	if (!p || (rc = b64_decode(&raw, &len, p)) != 0) {
		snprintf(err, err_len, "the webhook's patch is not base64");
		return MG_EPARSE;
	}
	ops = cJSON_ParseWithLength((const char *)raw, len);
	if (!cJSON_IsArray(ops)) {
		snprintf(err, err_len, "the webhook's patch is not a JSON array");
		rc = MG_EPARSE;
	} else if (*obj && (rc = mg_jsonpatch_apply(obj, ops)) != 0) {
		snprintf(err, err_len, "the webhook's JSON patch cannot be applied: %s",
			 mg_strerror(rc));
	}
	free(raw);
	cJSON_Delete(ops);
	return rc;
}

int ksim_admit(ksim_server *srv, const ksim_admission_req *req, cJSON **obj, bool mutating,
	       ksim_admission_result *res)
{
	struct hook *hooks = NULL;
	size_t nhooks = 0;
	cJSON *ns_labels = NULL;
	int rc = 0;
	/* Webhook configurations are never themselves subject to webhooks. */
	if (strcmp(req->res->group, "admissionregistration.k8s.io") == 0)
		return 0;
	if ((rc = collect_hooks(srv, req, mutating, &hooks, &nhooks, &ns_labels)) != 0) {
		refuse(res, 500, "InternalError", mg_strdup("Internal error occurred: out of memory"));
		goto out;
	}
	for (size_t i = 0; i < nhooks && res->code == 0; i++) {
		const cJSON *h = hooks[i].def;
		const char *name = jstr(h, "name");
		const char *fp = jstr(h, "failurePolicy");
		bool ignore = fp && strcmp(fp, "Ignore") == 0;
		const cJSON *to = cJSON_GetObjectItemCaseSensitive(h, "timeoutSeconds");
		long timeout = (long)mg_json_ll_or(to, 10);
		if (timeout < 1 || timeout > 30)
			timeout = 10;
		char err[1024] = "";
		/* namespaceSelector: the namespace's labels, or a Namespace's own labels;
		 * other cluster-scoped objects are never skipped. */
		const cJSON *nssel = cJSON_GetObjectItemCaseSensitive(h, "namespaceSelector");
		int m = 1;
		if (req->ns)
			m = selector_match(nssel, ns_labels, NULL, false);
		else if (strcmp(req->res->resource, "namespaces") == 0)
			m = selector_match(nssel, labels_of(*obj ? *obj : req->old_obj), NULL, false);
		if (m == 1)
			m = selector_match(cJSON_GetObjectItemCaseSensitive(h, "objectSelector"),
					   labels_of(*obj), labels_of(req->old_obj),
					   req->old_obj != NULL);
		if (m == 0)
			continue;
		cJSON *review = NULL;
		char *uid = NULL;
		char *body = m < 0 ? NULL : build_review(srv, req, *obj, &uid);
		const cJSON *resp = NULL;
		if (m < 0)
			snprintf(err, sizeof(err), "invalid label selector in the webhook configuration");
		else if (!body)
			snprintf(err, sizeof(err), "out of memory");
		else if (call_hook(h, body, timeout, &review, err, sizeof(err)) == 0)
			resp = verify(review, uid, hooks[i].mutating, err, sizeof(err));
		if (resp) {
			const cJSON *w;
			cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(resp, "warnings"))
			{
				if (cJSON_IsString(w) && add_warning(res, w->valuestring) != 0)
					rc = MG_ENOMEM;
			}
			if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(resp, "allowed"))) {
				const cJSON *st = cJSON_GetObjectItemCaseSensitive(resp, "status");
				const cJSON *code = cJSON_GetObjectItemCaseSensitive(st, "code");
				const char *msg = jstr(st, "message"), *reason = jstr(st, "reason");
				long long cv = 0; /* a webhook's code may be any number */
				int c = mg_json_int_in(code, 0, 999, &cv) ? (int)cv : 0;
				if (c < 400)
					c = 400;
				char *text =
					msg && *msg
						? mg_asprintf("admission webhook \"%s\" denied the request: %s", name, msg)
					: reason && *reason
						? mg_asprintf("admission webhook \"%s\" denied the request: %s", name, reason)
						: mg_asprintf("admission webhook \"%s\" denied the request without explanation", name);
				refuse(res, c, reason && *reason ? reason : ksim_reason_for(c), text);
			} else if (hooks[i].mutating && cJSON_GetObjectItemCaseSensitive(resp, "patch")) {
				if (apply_patch(obj, resp, err, sizeof(err)) != 0)
					resp = NULL; /* a patch that does not apply is a failed call */
			}
		}
		if (!resp && res->code == 0) {
			if (ignore) {
				mg_warn("kube-sim: webhook failed, failing open (failurePolicy Ignore)",
					"webhook", name, "error", err, NULL);
			} else {
				refuse(res, 500, "InternalError",
				       mg_asprintf("Internal error occurred: failed calling webhook \"%s\": %s",
						   name, err));
			}
		}
		cJSON_Delete(review);
		free(body);
		free(uid);
	}
out:
	for (size_t i = 0; i < nhooks; i++)
		cJSON_Delete(hooks[i].def);
	free(hooks);
	cJSON_Delete(ns_labels);
	return rc;
}
