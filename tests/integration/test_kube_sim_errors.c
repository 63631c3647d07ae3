/* kube-sim's answers to bad requests: each is a metav1.Status with the API server's code and
 * reason, and the server keeps serving. */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube_support.h"
#include "mirrorgate/k8s/client.h"
#include "mirrorgate/util/strbuf.h"

static kube_sim_proc sim;
static mg_k8s_config *cfg;

static void setup(void)
{
	cr_assert_eq(kube_sim_start(&sim, NULL), 0);
	cr_assert_eq(mg_k8s_config_from_kubeconfig(&cfg, sim.kubeconfig, NULL, NULL, 0), 0);
}

static void teardown(void)
{
	mg_k8s_config_free(cfg);
	kube_sim_stop(&sim);
}

TestSuite(kube_sim_errors, .init = setup, .fini = teardown, .timeout = 60);

static size_t sink(char *p, size_t s, size_t n, void *u)
{
	return mg_strbuf_append(u, p, s * n) == 0 ? s * n : 0;
}

/* One request; returns the HTTP code and fills *reason from the Status body. */
static long call(const char *method, const char *path, const char *ctype, const char *body,
		 size_t body_len, bool auth, char *reason, size_t rlen)
{
	CURL *h = curl_easy_init();
	mg_strbuf out = MG_STRBUF_INIT;
	struct curl_slist *hdr = NULL;
	char *url = mg_asprintf("%s%s", cfg->server, path);
	char *authz = mg_asprintf("Authorization: Bearer %s", cfg->token);
	char ct[128];
	if (auth)
		hdr = curl_slist_append(hdr, authz);
	if (ctype) {
		snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
		hdr = curl_slist_append(hdr, ct);
	}
	struct curl_blob blob = {cfg->ca_pem, strlen(cfg->ca_pem), CURL_BLOB_COPY};
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
	if (body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)body_len);
	}
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
	long code = 0;
	cr_assert_eq(curl_easy_perform(h), CURLE_OK, "%s %s", method, path);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	cJSON *j = out.data ? cJSON_Parse(out.data) : NULL;
	const cJSON *r = cJSON_GetObjectItem(j, "reason");
	snprintf(reason, rlen, "%s", cJSON_IsString(r) ? r->valuestring : "");
	cJSON_Delete(j);
	mg_strbuf_free(&out);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(h);
	free(url);
	free(authz);
	return code;
}

#define CM_PATH "/api/v1/namespaces/default/configmaps"
#define CM(name) "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"" name "\"}}"

Test(kube_sim_errors, bad_requests_get_status_answers)
{
	struct {
		const char *method, *path, *ctype, *body;
		long code;
		const char *reason;
	} cases[] = {
		{"GET", CM_PATH, NULL, NULL, 200, ""},
		{"POST", CM_PATH, "application/json", "{not json", 400, "BadRequest"},
		{"POST", CM_PATH, "application/json", "[1,2]", 400, "BadRequest"},
		{"POST", CM_PATH, "application/vnd.kubernetes.protobuf", "k8s\\0", 415, "UnsupportedMediaType"},
		{"POST", CM_PATH, "application/json", "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"x\"}}", 400, "BadRequest"},
		{"POST", CM_PATH, "application/json", "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{}}", 422, "Invalid"},
		{"POST", CM_PATH, "application/json", "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\",\"namespace\":\"other\"}}", 400, "BadRequest"},
		{"POST", "/api/v1/namespaces/nope/configmaps", "application/json", CM("x"), 404, "NotFound"},
		{"POST", CM_PATH, "application/json", CM("exists"), 201, ""},
		{"PUT", CM_PATH "/exists", "application/json", CM("exists"), 422, "Invalid"},
		{"PUT", CM_PATH "/exists", "application/json", "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"other\",\"resourceVersion\":\"1\"}}", 400, "BadRequest"},
		{"PUT", CM_PATH "/missing", "application/json", CM("missing"), 404, "NotFound"},
		{"PATCH", CM_PATH "/exists", "application/apply-patch+yaml", "{}", 415, "UnsupportedMediaType"},
		{"PATCH", CM_PATH "/exists", "application/json-patch+json", "[{\"op\":\"test\",\"path\":\"/kind\",\"value\":\"Pod\"}]", 422, "Invalid"},
		{"PATCH", CM_PATH "/exists", "application/json-patch+json", "[{\"op\":\"remove\",\"path\":\"/nope\"}]", 422, "Invalid"},
		{"PATCH", CM_PATH "/exists", "application/json-patch+json", "{\"op\":1}", 422, "Invalid"},
		{"PATCH", CM_PATH "/exists", "application/merge-patch+json", "{\"metadata\":{\"resourceVersion\":\"1\"}}", 409, "Conflict"},
		{"PATCH", CM_PATH "/exists", "application/strategic-merge-patch+json", "{\"$patch\":\"explode\"}", 422, "Invalid"},
		{"DELETE", CM_PATH "/missing", NULL, NULL, 404, "NotFound"},
		{"DELETE", CM_PATH "/exists", "application/json", "{\"preconditions\":{\"uid\":\"nope\"}}", 409, "Conflict"},
		{"DELETE", CM_PATH "/exists", "application/json", "{bad", 400, "BadRequest"},
		{"POST", CM_PATH "/exists", "application/json", "{}", 405, "MethodNotAllowed"},
		{"DELETE", CM_PATH, NULL, NULL, 405, "MethodNotAllowed"},
		{"GET", "/api/v1/widgets", NULL, NULL, 404, "NotFound"},
		{"GET", "/apis/trident.netapp.io/v1/tridentmirrorrelationships/x", NULL, NULL, 404, "NotFound"},
		{"GET", "/api/v1/namespaces/default/persistentvolumes", NULL, NULL, 404, "NotFound"},
		{"GET", CM_PATH "/exists/status", NULL, NULL, 404, "NotFound"},
		{"GET", CM_PATH "?limit=abc", NULL, NULL, 400, "BadRequest"},
		{"GET", CM_PATH "?continue=garbage", NULL, NULL, 400, "BadRequest"},
		{"GET", CM_PATH "?fieldSelector=spec.x%3Dy", NULL, NULL, 400, "BadRequest"},
		/* Events' fields: one at a time, and only those the API server offers */
		{"GET", "/api/v1/events?fieldSelector=reason%3Dx,type%3DNormal", NULL, NULL, 400, "BadRequest"},
		{"GET", "/api/v1/events?fieldSelector=involvedObject.foo%3Dx", NULL, NULL, 400, "BadRequest"},
		{"GET", CM_PATH "?watch=1&resourceVersion=abc", NULL, NULL, 400, "BadRequest"},
		{"GET", CM_PATH "?watch=1&timeoutSeconds=-4", NULL, NULL, 400, "BadRequest"},
		{"GET", CM_PATH "?watch=1&fieldSelector=spec.x%3Dy", NULL, NULL, 400, "BadRequest"},
		{"GET", CM_PATH "?watch=1&labelSelector=a%20in", NULL, NULL, 400, "BadRequest"},
		{"GET", "/openapi/v3/apis/nope/v1", NULL, NULL, 404, "NotFound"},
		{"GET", "/openapi/v2", NULL, NULL, 404, "NotFound"},
		{"PATCH", "/apis/trident.netapp.io/v1/namespaces/default/tridentmirrorrelationships/x",
		 "application/strategic-merge-patch+json", "{}", 415, "UnsupportedMediaType"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char reason[64];
		const char *b = cases[i].body;
		long code = call(cases[i].method, cases[i].path, cases[i].ctype, b, b ? strlen(b) : 0,
				 true, reason, sizeof(reason));
		cr_assert_eq(code, cases[i].code, "case %zu: %s %s: got %ld (%s)", i, cases[i].method,
			     cases[i].path, code, reason);
		cr_assert_str_eq(reason, cases[i].reason, "case %zu: %s %s", i, cases[i].method, cases[i].path);
	}
}

Test(kube_sim_errors, authentication_and_size_limits)
{
	char reason[64];
	cr_assert_eq(call("GET", "/api/v1/namespaces", NULL, NULL, 0, false, reason, sizeof(reason)), 401);
	cr_assert_str_eq(reason, "Unauthorized");
	cr_assert_eq(call("GET", "/version", NULL, NULL, 0, false, reason, sizeof(reason)), 401);
	/* health needs no token, as a probe would not have one */
	cr_assert_eq(call("GET", "/readyz", NULL, NULL, 0, false, reason, sizeof(reason)), 200);
	size_t big = 4u * 1024 * 1024;
	char *body = malloc(big);
	memset(body, ' ', big);
	body[0] = '{';
	body[big - 1] = '}';
	cr_assert_eq(call("POST", CM_PATH, "application/json", body, big, true, reason, sizeof(reason)), 413);
	cr_assert_str_eq(reason, "RequestEntityTooLarge");
	free(body);
	/* still serving */
	cr_assert_eq(call("GET", CM_PATH, NULL, NULL, 0, true, reason, sizeof(reason)), 200);
}

Test(kube_sim_errors, dry_run_changes_nothing)
{
	char reason[64];
	cr_assert_eq(call("POST", CM_PATH "?dryRun=All", "application/json", CM("dry"), strlen(CM("dry")),
			  true, reason, sizeof(reason)), 201);
	cr_assert_eq(call("GET", CM_PATH "/dry", NULL, NULL, 0, true, reason, sizeof(reason)), 404);
}
