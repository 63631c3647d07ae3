/* kube-sim's admission chain against a scripted TLS webhook: matching (rules,
 * namespaceSelector, objectSelector, subresources), the AdmissionReview it sends, denials
 * shown as the API server shows them, mutating patches before validation, failurePolicy,
 * timeoutSeconds, caBundle verification, and warnings through kubectl. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kube_support.h"
#include "kube_webhook_stub.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/k8s/client.h"
#include "mirrorgate/util/log.h"
#include "mirrorgate/util/strbuf.h"
#include "mirrorgate/util/tls.h"

static kube_sim_proc sim;
static kube_webhook_stub *stub;
static mg_k8s_client *client;

static const mg_k8s_resource vwc = {"admissionregistration.k8s.io", "v1",
				    "validatingwebhookconfigurations", false};
static const mg_k8s_resource mwc = {"admissionregistration.k8s.io", "v1",
				    "mutatingwebhookconfigurations", false};

static void setup(void)
{
	mg_log_set_level(MG_LOG_ERROR);
	cr_assert_eq(kube_sim_start(&sim, NULL), 0);
	cr_assert_eq(kube_webhook_stub_start(&stub), 0);
	mg_k8s_config *cfg = NULL;
	cr_assert_eq(mg_k8s_config_from_kubeconfig(&cfg, sim.kubeconfig, NULL, NULL, 0), 0);
	cr_assert_eq(mg_k8s_client_new(&client, cfg), 0);
	mg_k8s_config_free(cfg);
}

static void teardown(void)
{
	mg_k8s_client_free(client);
	kube_webhook_stub_stop(stub);
	kube_sim_stop(&sim);
}

TestSuite(kube_admission, .init = setup, .fini = teardown, .timeout = 60);

/* One webhook: `extra` is spliced into its definition (rules, selectors, policies). */
static void hook(bool mutating, const char *name, const char *path, const char *extra)
{
	char *json = mg_asprintf(
		"{\"apiVersion\":\"admissionregistration.k8s.io/v1\",\"kind\":\"%s\","
		"\"metadata\":{\"name\":\"%s\"},\"webhooks\":[{\"name\":\"%s\","
		"\"clientConfig\":{\"url\":\"https://127.0.0.1:%d%s\",\"caBundle\":\"%s\"},"
		"\"sideEffects\":\"None\",\"admissionReviewVersions\":[\"v1\"]%s%s}]}",
		mutating ? "MutatingWebhookConfiguration" : "ValidatingWebhookConfiguration", name,
		name, kube_webhook_stub_port(stub), path, kube_webhook_stub_ca_b64(stub),
		extra ? "," : "", extra ? extra : "");
	cJSON *o = cJSON_Parse(json);
	cr_assert_not_null(o, "%s", json);
	mg_k8s_status st;
	cr_assert_eq(mg_k8s_create(NULL, client, mutating ? &mwc : &vwc, NULL, o, &st), 0, "%s", st.message);
	cJSON_Delete(o);
	free(json);
}

#define CM_RULES "\"rules\":[{\"operations\":[\"CREATE\",\"UPDATE\",\"DELETE\"],\"apiGroups\":[\"\"],\"apiVersions\":[\"v1\"],\"resources\":[\"configmaps\"]}]"

static int create_cm(const char *ns, const char *name, const char *labels, mg_k8s_status *st,
		     cJSON **out)
{
	char *json = mg_asprintf("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":"
				 "{\"name\":\"%s\",\"labels\":%s},\"data\":{\"a\":\"b\"}}",
				 name, labels ? labels : "{}");
	cJSON *o = cJSON_Parse(json);
	int rc = mg_k8s_create(out, client, &mg_k8s_res_configmap, ns, o, st);
	cJSON_Delete(o);
	free(json);
	return rc;
}

Test(kube_admission, denial_carries_the_webhook_code_and_message)
{
	hook(false, "deny.test.io", "/deny403", CM_RULES);
	mg_k8s_status st;
	cr_assert_eq(create_cm("default", "c1", NULL, &st, NULL), MG_EAUTH);
	cr_assert_eq(st.code, 403);
	cr_assert_str_eq(st.message, "admission webhook \"deny.test.io\" denied the request: no way");
	cr_assert_eq(kube_webhook_stub_calls(stub, "/deny403"), 1);
	/* the denied object was not stored */
	cJSON *g = NULL;
	cr_assert_eq(mg_k8s_get(&g, client, &mg_k8s_res_configmap, "default", "c1", NULL), MG_ENOTFOUND);
}

Test(kube_admission, denial_without_code_is_400_and_reason_stands_in_for_message)
{
	hook(false, "nocode.test.io", "/deny-nocode", CM_RULES);
	mg_k8s_status st;
	cr_assert_eq(create_cm("default", "c1", NULL, &st, NULL), MG_EREMOTE);
	cr_assert_eq(st.code, 400);
	cr_assert_str_eq(st.message, "admission webhook \"nocode.test.io\" denied the request: bad request");
	cJSON *d = cJSON_Parse("{}");
	cr_assert_eq(mg_k8s_delete(client, &vwc, NULL, "nocode.test.io", NULL, NULL, NULL), 0,
		     "webhook configurations are never themselves subject to webhooks");
	cJSON_Delete(d);
	hook(false, "reason.test.io", "/deny-reason", CM_RULES);
	cr_assert_eq(create_cm("default", "c1", NULL, &st, NULL), MG_EREMOTE);
	cr_assert_str_eq(st.message, "admission webhook \"reason.test.io\" denied the request: NotAcceptable");
}

Test(kube_admission, mutating_patch_applies_before_validation_and_review_is_complete)
{
	hook(true, "mutate.test.io", "/patch", CM_RULES);
	hook(false, "allow.test.io", "/allow", CM_RULES);
	cJSON *out = NULL;
	mg_k8s_status st;
	cr_assert_eq(create_cm("default", "c1", NULL, &st, &out), 0, "%s", st.message);
	const cJSON *l = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(out, "metadata"), "labels"), "mutated");
	cr_assert(cJSON_IsString(l) && strcmp(l->valuestring, "yes") == 0, "the mutating patch was applied");
	cJSON_Delete(out);
	char *last = kube_webhook_stub_last(stub, "/allow");
	cJSON *rev = cJSON_Parse(last);
	const cJSON *rq = cJSON_GetObjectItem(rev, "request");
	cr_assert_str_eq(cJSON_GetObjectItem(rev, "apiVersion")->valuestring, "admission.k8s.io/v1");
	cr_assert_str_eq(cJSON_GetObjectItem(rq, "operation")->valuestring, "CREATE");
	cr_assert_str_eq(cJSON_GetObjectItem(rq, "namespace")->valuestring, "default");
	cr_assert_str_eq(cJSON_GetObjectItem(rq, "name")->valuestring, "c1");
	cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(rq, "kind"), "kind")->valuestring, "ConfigMap");
	cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(rq, "resource"), "resource")->valuestring, "configmaps");
	cr_assert(cJSON_IsNull(cJSON_GetObjectItem(rq, "oldObject")));
	cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(rq, "dryRun")));
	cr_assert(strlen(cJSON_GetObjectItem(rq, "uid")->valuestring) > 10);
	cr_assert(strstr(last, "\"mutated\":\"yes\""), "validation saw the mutated object");
	cJSON_Delete(rev);
	free(last);
	/* an UPDATE carries the old object; a DELETE has object null */
	cJSON *p = cJSON_Parse("{\"data\":{\"a\":\"c\"}}");
	cr_assert_eq(mg_k8s_patch(NULL, client, &mg_k8s_res_configmap, "default", "c1", NULL,
				  MG_K8S_PATCH_MERGE, p, NULL), 0);
	cJSON_Delete(p);
	last = kube_webhook_stub_last(stub, "/allow");
	rev = cJSON_Parse(last);
	rq = cJSON_GetObjectItem(rev, "request");
	cr_assert_str_eq(cJSON_GetObjectItem(rq, "operation")->valuestring, "UPDATE");
	cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(rq, "oldObject"), "data"), "a")->valuestring, "b");
	cJSON_Delete(rev);
	free(last);
	cr_assert_eq(mg_k8s_delete(client, &mg_k8s_res_configmap, "default", "c1", NULL, NULL, NULL), 0);
	last = kube_webhook_stub_last(stub, "/allow");
	rev = cJSON_Parse(last);
	rq = cJSON_GetObjectItem(rev, "request");
	cr_assert_str_eq(cJSON_GetObjectItem(rq, "operation")->valuestring, "DELETE");
	cr_assert(cJSON_IsNull(cJSON_GetObjectItem(rq, "object")));
	cr_assert(cJSON_IsObject(cJSON_GetObjectItem(rq, "oldObject")));
	cJSON_Delete(rev);
	free(last);
}

Test(kube_admission, failure_policy_decides_on_failed_calls)
{
	mg_k8s_status st;
	hook(false, "fail.test.io", "/http500", CM_RULES ",\"failurePolicy\":\"Fail\"");
	cr_assert_eq(create_cm("default", "c1", NULL, &st, NULL), MG_EREMOTE);
	cr_assert_eq(st.code, 500);
	cr_assert(strstr(st.message, "failed calling webhook \"fail.test.io\""), "%s", st.message);
	cr_assert_eq(mg_k8s_delete(client, &vwc, NULL, "fail.test.io", NULL, NULL, NULL), 0);
	hook(false, "ignore.test.io", "/http500", CM_RULES ",\"failurePolicy\":\"Ignore\"");
	cr_assert_eq(create_cm("default", "c1", NULL, &st, NULL), 0, "Ignore fails open");
	cr_assert_eq(kube_webhook_stub_calls(stub, "/http500"), 2);
	cr_assert_eq(mg_k8s_delete(client, &vwc, NULL, "ignore.test.io", NULL, NULL, NULL), 0);
	/* failurePolicy defaults to Fail; answers the API server would reject count as failures */
	hook(false, "uid.test.io", "/baduid", CM_RULES);
	cr_assert_eq(create_cm("default", "c2", NULL, &st, NULL), MG_EREMOTE);
	cr_assert(strstr(st.message, "expected response.uid="), "%s", st.message);
	cr_assert_eq(mg_k8s_delete(client, &vwc, NULL, "uid.test.io", NULL, NULL, NULL), 0);
	hook(false, "vpatch.test.io", "/badpatch", CM_RULES);
	cr_assert_eq(create_cm("default", "c2", NULL, &st, NULL), MG_EREMOTE);
	cr_assert(strstr(st.message, "validating webhook may not return a patch"), "%s", st.message);
}

Test(kube_admission, timeout_seconds_bounds_the_call)
{
	mg_k8s_status st;
	hook(false, "slow.test.io", "/slow", CM_RULES ",\"timeoutSeconds\":1");
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	cr_assert_eq(create_cm("default", "c1", NULL, &st, NULL), MG_EREMOTE);
	clock_gettime(CLOCK_MONOTONIC, &b);
	cr_assert_lt(b.tv_sec - a.tv_sec, 3, "the 1 s timeout was not honoured");
	cr_assert(strstr(st.message, "context deadline exceeded"), "%s", st.message);
}

Test(kube_admission, ca_bundle_is_verified)
{
	/* a caBundle that is not the webhook's CA: the handshake must fail */
	char *json = mg_asprintf("{\"apiVersion\":\"admissionregistration.k8s.io/v1\","
				 "\"kind\":\"ValidatingWebhookConfiguration\",\"metadata\":{\"name\":\"ca\"},"
				 "\"webhooks\":[{\"name\":\"ca.test.io\",\"clientConfig\":{\"url\":"
				 "\"https://127.0.0.1:%d/allow\",\"caBundle\":\"%s\"}," CM_RULES "}]}",
				 kube_webhook_stub_port(stub), "bm90IGEgY2VydGlmaWNhdGU=");
	cJSON *o = cJSON_Parse(json);
	cr_assert_eq(mg_k8s_create(NULL, client, &vwc, NULL, o, NULL), 0);
	mg_k8s_status st;
	cr_assert_eq(create_cm("default", "c1", NULL, &st, NULL), MG_EREMOTE);
	cr_assert_eq(st.code, 500);
	cr_assert_eq(kube_webhook_stub_calls(stub, "/allow"), 0, "no request may pass an unverified TLS handshake");
	cJSON_Delete(o);
	free(json);
}

Test(kube_admission, rules_and_selectors_choose_which_requests_are_sent)
{
	mg_k8s_status st;
	hook(false, "upd.test.io", "/deny403",
	     "\"rules\":[{\"operations\":[\"UPDATE\"],\"apiGroups\":[\"\"],\"apiVersions\":[\"v1\"],\"resources\":[\"configmaps\"]}]");
	hook(false, "nssel.test.io", "/deny-nocode",
	     CM_RULES ",\"namespaceSelector\":{\"matchExpressions\":[{\"key\":\"kubernetes.io/metadata.name\","
		      "\"operator\":\"In\",\"values\":[\"kube-system\"]}]}");
	hook(false, "objsel.test.io", "/deny-reason", CM_RULES ",\"objectSelector\":{\"matchLabels\":{\"guard\":\"on\"}}");
	cr_assert_eq(create_cm("default", "plain", NULL, &st, NULL), 0, "%s", st.message);
	cr_assert_eq(kube_webhook_stub_calls(stub, "/deny403"), 0);
	cr_assert_eq(create_cm("kube-system", "sys", NULL, &st, NULL), MG_EREMOTE);
	cr_assert(strstr(st.message, "nssel.test.io"));
	cr_assert_eq(create_cm("default", "guarded", "{\"guard\":\"on\"}", &st, NULL), MG_EREMOTE);
	cr_assert(strstr(st.message, "objsel.test.io"));
	cJSON *p = cJSON_Parse("{\"data\":{\"x\":\"y\"}}");
	cr_assert_eq(mg_k8s_patch(NULL, client, &mg_k8s_res_configmap, "default", "plain", NULL,
				  MG_K8S_PATCH_MERGE, p, &st), MG_EAUTH);
	cr_assert(strstr(st.message, "upd.test.io"));
	cJSON_Delete(p);
	/* a TMR rule does not see status writes; a tmr/status rule does */
	hook(false, "tmr.test.io", "/deny403",
	     "\"rules\":[{\"operations\":[\"UPDATE\"],\"apiGroups\":[\"trident.netapp.io\"],\"apiVersions\":[\"v1\"],"
	     "\"resources\":[\"tridentmirrorrelationships\"]}]");
	cJSON *t = cJSON_Parse("{\"apiVersion\":\"trident.netapp.io/v1\",\"kind\":\"TridentMirrorRelationship\","
			       "\"metadata\":{\"name\":\"m\"},\"spec\":{\"volumeMappings\":[{\"localPVCName\":\"p\"}]}}");
	cr_assert_eq(mg_k8s_create(NULL, client, &mg_k8s_res_tmr, "default", t, &st), 0, "%s", st.message);
	cJSON *sp = cJSON_Parse("{\"status\":{\"conditions\":[{\"state\":\"promoted\"}]}}");
	int before = kube_webhook_stub_calls(stub, "/deny403");
	cr_assert_eq(mg_k8s_patch(NULL, client, &mg_k8s_res_tmr, "default", "m", "status",
				  MG_K8S_PATCH_MERGE, sp, &st), 0, "%s", st.message);
	cr_assert_eq(kube_webhook_stub_calls(stub, "/deny403"), before);
	hook(false, "tmrstatus.test.io", "/deny-nocode",
	     "\"rules\":[{\"operations\":[\"UPDATE\"],\"apiGroups\":[\"trident.netapp.io\"],\"apiVersions\":[\"v1\"],"
	     "\"resources\":[\"tridentmirrorrelationships/status\"]}]");
	cr_assert_eq(mg_k8s_patch(NULL, client, &mg_k8s_res_tmr, "default", "m", "status",
				  MG_K8S_PATCH_MERGE, sp, &st), MG_EREMOTE);
	cr_assert(strstr(st.message, "tmrstatus.test.io"));
	char *last = kube_webhook_stub_last(stub, "/deny-nocode");
	cr_assert(strstr(last, "\"subResource\":\"status\""), "%s", last);
	free(last);
	cJSON_Delete(t);
	cJSON_Delete(sp);
}

Test(kube_admission, kubectl_shows_denials_and_warnings_like_the_api_server)
{
	hook(false, "warn.test.io", "/warn", CM_RULES);
	hook(false, "deny.test.io", "/deny403",
	     "\"rules\":[{\"operations\":[\"CREATE\"],\"apiGroups\":[\"\"],\"apiVersions\":[\"v1\"],\"resources\":[\"secrets\"]}]");
	char cm_path[400], sec_path[400], cache[400], kenv[400];
	snprintf(cm_path, sizeof(cm_path), "%s/cm.yaml", sim.dir);
	snprintf(sec_path, sizeof(sec_path), "%s/secret.yaml", sim.dir);
	snprintf(cache, sizeof(cache), "%s/cache", sim.dir);
	snprintf(kenv, sizeof(kenv), "KUBECONFIG=%s", sim.kubeconfig);
	const char *cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: warned}\ndata: {a: b}\n";
	const char *sec = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {a: b}\n";
	cr_assert_eq(mg_write_file_atomic(cm_path, cm, strlen(cm), 0600), 0);
	cr_assert_eq(mg_write_file_atomic(sec_path, sec, strlen(sec), 0600), 0);
	const char *env[] = {kenv, NULL};
	char *out = NULL;
	const char *apply_cm[] = {"kubectl", "--cache-dir", cache, "apply", "-f", cm_path, NULL};
	cr_assert_eq(kube_run(&out, 20000, apply_cm, env), 0, "%s", out);
	cr_assert(strstr(out, "Warning: careful: this is a test warning"), "%s", out);
	cr_assert(strstr(out, "configmap/warned created"), "%s", out);
	free(out);
	const char *apply_sec[] = {"kubectl", "--cache-dir", cache, "apply", "-f", sec_path, NULL};
	cr_assert_eq(kube_run(&out, 20000, apply_sec, env), 1, "%s", out);
	cr_assert(strstr(out, "Error from server (Forbidden): error when creating"), "%s", out);
	cr_assert(strstr(out, "admission webhook \"deny.test.io\" denied the request: no way"), "%s", out);
	cr_assert(strstr(out, "Warning: denied with a warning too"), "%s", out);
	free(out);
}
