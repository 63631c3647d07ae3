/* kube-sim --without-resource: a built-in kind it does not serve looks like a cluster without
 * that CRD: gone from discovery, and every verb on it gets the API server's plain-text 404
 * (Go's http.NotFound, not a Status) while everything else keeps working. Bad flag values are
 * a usage error (exit 2). */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube_support.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/k8s/client.h"
#include "mirrorgate/util/strbuf.h"

static kube_sim_proc sim;
static mg_k8s_config *cfg;

static void start(const char *const *extra)
{
	cr_assert_eq(kube_sim_start(&sim, extra), 0);
	cr_assert_eq(mg_k8s_config_from_kubeconfig(&cfg, sim.kubeconfig, NULL, NULL, 0), 0);
}

static void teardown(void)
{
	mg_k8s_config_free(cfg);
	cfg = NULL;
	kube_sim_stop(&sim);
}

TestSuite(kube_sim_without, .fini = teardown, .timeout = 60);

static size_t sink(char *p, size_t s, size_t n, void *u)
{
	return mg_strbuf_append(u, p, s * n) == 0 ? s * n : 0;
}

struct answer {
	long code;
	char ctype[128];
	char *body; /* owned */
};

static void call(struct answer *a, const char *method, const char *path, const char *body)
{
	CURL *h = curl_easy_init();
	mg_strbuf out = MG_STRBUF_INIT;
	struct curl_slist *hdr = NULL;
	char *url = mg_asprintf("%s%s", cfg->server, path);
	char *authz = mg_asprintf("Authorization: Bearer %s", cfg->token);
	hdr = curl_slist_append(hdr, authz);
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	struct curl_blob blob = {cfg->ca_pem, strlen(cfg->ca_pem), CURL_BLOB_COPY};
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
	if (body)
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
	cr_assert_eq(curl_easy_perform(h), CURLE_OK, "%s %s", method, path);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a->code);
	char *ct = NULL;
	curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
	snprintf(a->ctype, sizeof(a->ctype), "%s", ct ? ct : "");
	a->body = out.data ? mg_strdup(out.data) : mg_strdup("");
	mg_strbuf_free(&out);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(h);
	free(url);
	free(authz);
}

/* The real API server's answer for an unserved group. */
static void expect_page_not_found(const char *method, const char *path, const char *body)
{
	struct answer a = {0};
	call(&a, method, path, body);
	cr_expect_eq(a.code, 404, "%s %s: %ld", method, path, a.code);
	cr_expect_str_eq(a.body, "404 page not found\n", "%s %s", method, path);
	cr_expect(strncmp(a.ctype, "text/plain", 10) == 0, "%s %s: %s", method, path, a.ctype);
	free(a.body);
}

#define SNAP "/apis/snapshot.storage.k8s.io/v1"
#define VS_BODY                                                                           \
	"{\"apiVersion\":\"snapshot.storage.k8s.io/v1\",\"kind\":\"VolumeSnapshot\","      \
	"\"metadata\":{\"name\":\"s1\"},\"spec\":{\"source\":{\"persistentVolumeClaimName\":\"d\"}}}"

Test(kube_sim_without, snapshot_group_gone_like_a_cluster_without_the_crds)
{
	const char *extra[] = {"--without-resource", "snapshot.storage.k8s.io/volumesnapshots",
			       "--without-resource", "snapshot.storage.k8s.io/volumesnapshotcontents",
			       "--without-resource", "snapshot.storage.k8s.io/volumesnapshotclasses",
			       NULL};
	start(extra);
	struct answer a = {0};
	call(&a, "GET", "/apis", NULL);
	cr_assert_eq(a.code, 200);
	cr_expect_null(strstr(a.body, "snapshot.storage.k8s.io"), "%s", a.body);
	cr_expect_not_null(strstr(a.body, "storage.k8s.io"), "other groups stay: %s", a.body);
	free(a.body);
	expect_page_not_found("GET", "/apis/snapshot.storage.k8s.io", NULL);
	expect_page_not_found("GET", SNAP, NULL);
	expect_page_not_found("GET", SNAP "/volumesnapshots", NULL);
	expect_page_not_found("GET", SNAP "/namespaces/default/volumesnapshots", NULL);
	expect_page_not_found("GET", SNAP "/namespaces/default/volumesnapshots?watch=true", NULL);
	expect_page_not_found("GET", SNAP "/namespaces/default/volumesnapshots/s1", NULL);
	expect_page_not_found("POST", SNAP "/namespaces/default/volumesnapshots", VS_BODY);
	expect_page_not_found("DELETE", SNAP "/namespaces/default/volumesnapshots/s1", NULL);
	expect_page_not_found("GET", SNAP "/volumesnapshotcontents", NULL);

	/* The client maps it to not-found (no Status to read), for lists and watches alike. */
	mg_k8s_client *c = NULL;
	cr_assert_eq(mg_k8s_client_new(&c, cfg), 0);
	cJSON *items = NULL;
	char *rv = NULL;
	mg_k8s_status st;
	cr_expect_eq(mg_k8s_list_all(&items, &rv, c, &mg_k8s_res_vs, "default", NULL, &st),
		     MG_ENOTFOUND);
	cr_expect_eq(st.code, 404);
	cr_expect_str_eq(st.message, "the API server does not serve this resource (is its CRD "
				     "installed?)",
			 "the client says what a bare 404 means");
	cJSON_Delete(items);
	free(rv);
	items = NULL;
	rv = NULL;
	/* the rest of the API is untouched */
	cr_expect_eq(mg_k8s_list_all(&items, &rv, c, &mg_k8s_res_pvc, "default", NULL, &st), 0);
	cJSON_Delete(items);
	free(rv);
	mg_k8s_client_free(c);
	call(&a, "POST", "/api/v1/namespaces/default/configmaps",
	     "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cm\"}}");
	cr_expect_eq(a.code, 201, "%s", a.body);
	free(a.body);
}

Test(kube_sim_without, one_kind_leaves_the_rest_of_its_group)
{
	const char *extra[] = {"--without-resource", "snapshot.storage.k8s.io/volumesnapshots",
			       NULL};
	start(extra);
	struct answer a = {0};
	call(&a, "GET", SNAP, NULL);
	cr_assert_eq(a.code, 200);
	cr_expect_null(strstr(a.body, "\"volumesnapshots"), "%s", a.body);
	cr_expect_not_null(strstr(a.body, "\"volumesnapshotcontents\""), "%s", a.body);
	free(a.body);
	call(&a, "GET", SNAP "/namespaces/default/volumesnapshots", NULL);
	cr_expect_eq(a.code, 404, "%s", a.body);
	free(a.body);
	call(&a, "GET", SNAP "/volumesnapshotcontents", NULL);
	cr_expect_eq(a.code, 200, "%s", a.body);
	free(a.body);
}

Test(kube_sim_without, bad_values_are_usage_errors)
{
	static const char *const bad[] = {"snapshot.storage.k8s.io/nosuchthings", "namespaces",
					  "apps/deployments", "", "/"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *out = NULL;
		const char *argv[] = {MG_BIN_DIR "/kube-sim", "--without-resource", bad[i], NULL};
		int st = kube_run(&out, 10000, argv, NULL);
		cr_expect_eq(st, 2, "\"%s\": exit %d: %s", bad[i], st, out ? out : "");
		cr_expect_not_null(out ? strstr(out, "--without-resource") : NULL, "\"%s\": %s",
				   bad[i], out ? out : "");
		free(out);
	}
}

Test(kube_sim_without, core_kind_named_without_a_group)
{
	const char *extra[] = {"--without-resource", "configmaps", NULL};
	start(extra);
	struct answer a = {0};
	call(&a, "GET", "/api/v1", NULL);
	cr_assert_eq(a.code, 200);
	cr_expect_null(strstr(a.body, "\"configmaps\""), "%s", a.body);
	cr_expect_not_null(strstr(a.body, "\"secrets\""), "%s", a.body);
	free(a.body);
	/* the core group is still served: its unknown resources get the Status answer */
	call(&a, "GET", "/api/v1/namespaces/default/configmaps", NULL);
	cr_expect_eq(a.code, 404, "%s", a.body);
	cr_expect_not_null(strstr(a.body, "\"reason\":\"NotFound\""), "%s", a.body);
	free(a.body);
}
