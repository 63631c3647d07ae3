/* The whole admission path with the real pieces: kubectl → kube-sim → mirrorgate-webhook,
 * the webhook seeing the cluster through its informers (--kubeconfig). Every example in
 * manifests/examples/invalid/ that kubectl can create is refused with the webhook's message
 * (rule SCHEMA: by the CRD schema, as a real API server refuses it before any webhook);
 * the primary and secondary walkthroughs are accepted, and the planned failover once the
 * TMR's status (the reconciler's) says established; a secondary PVC applied before its
 * TMR is refused, then accepted once the TMR exists. */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "kube_support.h"
#include "mirrorgate/core/doc.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/k8s/client.h"
#include "mirrorgate/k8s/mergepatch.h"
#include "mirrorgate/util/log.h"
#include "mirrorgate/util/strbuf.h"
#include "mirrorgate/util/tls.h"

#define WEBHOOK_BIN MG_BIN_DIR "/mirrorgate-webhook"
#define EXAMPLES MG_SOURCE_DIR "/manifests/examples"
#define HOOK_V "validate.mirrorgate.test"
#define HOOK_M "mutate.mirrorgate.test"
/* Time for the webhook's informers to see what kubectl just wrote (loopback: milliseconds). */
#define SETTLE_US 250000

static kube_sim_proc sim;
static mg_k8s_client *client;
static pid_t wh_pid;
static int wh_port;
static char *ca_pem, *ca_b64;
static char kenv[400], cache[400];

static const mg_k8s_resource vwc = {"admissionregistration.k8s.io", "v1",
				    "validatingwebhookconfigurations", false};
static const mg_k8s_resource mwc = {"admissionregistration.k8s.io", "v1",
				    "mutatingwebhookconfigurations", false};

static long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static size_t discard(char *p, size_t s, size_t n, void *u)
{
	(void)p;
	(void)u;
	return s * n;
}

static long readyz(void)
{
	CURL *h = curl_easy_init();
	char url[64];
	long code = 0;
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/readyz", wh_port);
	struct curl_blob blob = {ca_pem, strlen(ca_pem), CURL_BLOB_COPY};
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 2000L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(h);
	return code;
}

static void create_ns(const char *name)
{
	char *j = mg_asprintf("{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"%s\"}}", name);
	cJSON *o = cJSON_Parse(j);
	int rc = mg_k8s_create(NULL, client, &mg_k8s_res_namespace, NULL, o, NULL);
	cr_assert(rc == 0 || rc == MG_EEXIST);
	cJSON_Delete(o);
	free(j);
}

static void register_hooks(void)
{
	static const char *rules =
		"\"rules\":[{\"operations\":[\"CREATE\",\"UPDATE\",\"DELETE\"],\"apiGroups\":[\"trident.netapp.io\"],"
		"\"apiVersions\":[\"v1\"],\"resources\":[\"tridentmirrorrelationships\",\"tridentactionmirrorupdates\","
		"\"tridentsnapshotinfos\"]},{\"operations\":[\"CREATE\",\"UPDATE\",\"DELETE\"],\"apiGroups\":[\"\"],"
		"\"apiVersions\":[\"v1\"],\"resources\":[\"persistentvolumeclaims\"]},{\"operations\":[\"CREATE\","
		"\"UPDATE\",\"DELETE\"],\"apiGroups\":[\"storage.k8s.io\"],\"apiVersions\":[\"v1\"],"
		"\"resources\":[\"storageclasses\"]}]";
	for (int m = 0; m < 2; m++) {
		char *j = mg_asprintf(
			"{\"apiVersion\":\"admissionregistration.k8s.io/v1\",\"kind\":\"%s\","
			"\"metadata\":{\"name\":\"mirrorgate\"},\"webhooks\":[{\"name\":\"%s\","
			"\"clientConfig\":{\"url\":\"https://127.0.0.1:%d/%s\",\"caBundle\":\"%s\"},"
			"\"failurePolicy\":\"Fail\",\"timeoutSeconds\":5,\"sideEffects\":\"None\","
			"\"admissionReviewVersions\":[\"v1\"],%s}]}",
			m ? "MutatingWebhookConfiguration" : "ValidatingWebhookConfiguration",
			m ? HOOK_M : HOOK_V, wh_port, m ? "mutate" : "validate", ca_b64, rules);
		cJSON *o = cJSON_Parse(j);
		mg_k8s_status st;
		cr_assert_eq(mg_k8s_create(NULL, client, m ? &mwc : &vwc, NULL, o, &st), 0, "%s", st.message);
		cJSON_Delete(o);
		free(j);
	}
}

static void teardown(void);

/* A failed set-up does not run .fini: stop what was started before failing. */
#define SETUP_CHECK(cond, ...)                                                                 \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			teardown();                                                            \
			cr_assert_fail(__VA_ARGS__);                                           \
		}                                                                              \
	} while (0)

static void setup(void)
{
	mg_log_set_level(MG_LOG_ERROR);
	if (access(WEBHOOK_BIN, X_OK) != 0)
		return;
	cr_assert_eq(kube_sim_start(&sim, NULL), 0);
	mg_k8s_config *cfg = NULL;
	cr_assert_eq(mg_k8s_config_from_kubeconfig(&cfg, sim.kubeconfig, NULL, NULL, 0), 0);
	cr_assert_eq(mg_k8s_client_new(&client, cfg), 0);
	mg_k8s_config_free(cfg);
	create_ns("mirrorgate");
	create_ns("app");
	snprintf(kenv, sizeof(kenv), "KUBECONFIG=%s", sim.kubeconfig);
	snprintf(cache, sizeof(cache), "%s/cache", sim.dir);
	/* The webhook runs "in" namespace mirrorgate, where the topology ConfigMap lives. */
	char *kc = NULL, *wh_kc = NULL, *ready = NULL, *ca_out = NULL;
	size_t len;
	cr_assert_eq(mg_read_file(sim.kubeconfig, 65536, &kc, &len), 0);
	char *at = strstr(kc, "namespace: default");
	cr_assert_not_null(at);
	*at = '\0';
	char *text = mg_asprintf("%snamespace: mirrorgate%s", kc, at + strlen("namespace: default"));
	wh_kc = mg_asprintf("%s/webhook-kubeconfig", sim.dir);
	ready = mg_asprintf("%s/webhook-ready", sim.dir);
	ca_out = mg_asprintf("%s/webhook-ca.pem", sim.dir);
	cr_assert_eq(mg_write_file_atomic(wh_kc, text, strlen(text), 0600), 0);
	free(text);
	free(kc);
	char *wh_err = mg_asprintf("%s/webhook-stderr", sim.dir);
	wh_pid = fork();
	cr_assert_geq(wh_pid, 0);
	if (wh_pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0)
			dup2(null, STDOUT_FILENO);
		int errfd = open(wh_err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (errfd >= 0)
			dup2(errfd, STDERR_FILENO);
		execl(WEBHOOK_BIN, WEBHOOK_BIN, "--self-signed", "--address", "127.0.0.1", "--port", "0",
		      "--ready-file", ready, "--ca-out", ca_out, "--kubeconfig", wh_kc, "--log-level",
		      "warn", "--shutdown-timeout", "1", (char *)NULL);
		_exit(127);
	}
	long deadline = now_ms() + 15000;
	char *port = NULL;
	while (now_ms() < deadline && mg_read_file(ready, 64, &port, &len) != 0) {
		int status;
		if (waitpid(wh_pid, &status, WNOHANG) == wh_pid) {
			wh_pid = 0;
			char *err = NULL;
			size_t elen;
			cr_assert_eq(mg_read_file(wh_err, 65536, &err, &elen), 0);
			SETUP_CHECK(false, "mirrorgate-webhook exited at start-up: %s", err);
		}
		usleep(20000);
	}
	SETUP_CHECK(port != NULL, "mirrorgate-webhook did not write its ready file");
	wh_port = (int)strtol(port, NULL, 10);
	free(port);
	cr_assert_eq(mg_read_file(ca_out, 65536, &ca_pem, &len), 0);
	ca_b64 = malloc(4 * ((len + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)ca_b64, (unsigned char *)ca_pem, (int)len);
	while (now_ms() < deadline && readyz() != 200)
		usleep(50000);
	SETUP_CHECK(readyz() == 200, "the webhook's informers did not sync");
	register_hooks();
	free(wh_kc);
	free(ready);
	free(ca_out);
	free(wh_err);
}

/* Stops the webhook and checks it exits cleanly: status 0 after SIGTERM, and no sanitizer
 * report in its stderr (under ASan a leak makes the exit status non-zero too). */
static void stop_webhook_checked(void)
{
	cr_assert_gt(wh_pid, 0);
	kill(wh_pid, SIGTERM);
	int status = 0;
	long deadline = now_ms() + 15000;
	pid_t r;
	while ((r = waitpid(wh_pid, &status, WNOHANG)) == 0 && now_ms() < deadline)
		usleep(10000);
	if (r == 0) {
		kill(wh_pid, SIGKILL);
		waitpid(wh_pid, &status, 0);
	}
	wh_pid = 0;
	char *path = mg_asprintf("%s/webhook-stderr", sim.dir), *err = NULL;
	size_t len;
	cr_assert_eq(mg_read_file(path, 1 << 22, &err, &len), 0);
	free(path);
	cr_assert_neq(r, 0, "mirrorgate-webhook did not stop within 15 s of SIGTERM");
	cr_assert(!strstr(err, "Sanitizer") && !strstr(err, "runtime error:"), "%s", err);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "mirrorgate-webhook exited with status %d: %s", status, err);
	free(err);
}

static void teardown(void)
{
	if (wh_pid > 0) {
		kill(wh_pid, SIGTERM);
		long deadline = now_ms() + 10000;
		int status;
		while (waitpid(wh_pid, &status, WNOHANG) == 0) {
			if (now_ms() > deadline) {
				kill(wh_pid, SIGKILL);
				waitpid(wh_pid, &status, 0);
				break;
			}
			usleep(10000);
		}
		wh_pid = 0;
	}
	mg_k8s_client_free(client);
	client = NULL;
	if (sim.pid)
		kube_sim_stop(&sim);
	free(ca_pem);
	free(ca_b64);
	ca_pem = ca_b64 = NULL;
}

TestSuite(kube_webhook, .init = setup, .fini = teardown, .timeout = 240);

#define NEED_WEBHOOK()                                                                         \
	do {                                                                                   \
		if (access(WEBHOOK_BIN, X_OK) != 0)                                            \
			cr_skip_test("mirrorgate-webhook is not built in this tree yet");       \
	} while (0)

static int kubectl_apply(char **out, const char *path)
{
	const char *argv[] = {"kubectl", "--cache-dir", cache, "apply", "-f", path, NULL};
	const char *env[] = {kenv, NULL};
	return kube_run(out, 30000, argv, env);
}

/* Splits a multi-document YAML file on "---" lines. */
static size_t split_docs(const char *text, char docs[][8192], size_t max)
{
	size_t n = 0, len = 0;
	docs[0][0] = '\0';
	const char *p = text;
	while (*p && n < max) {
		const char *eol = strchr(p, '\n');
		size_t l = eol ? (size_t)(eol - p + 1) : strlen(p);
		if (strncmp(p, "---", 3) == 0 && (l == 4 || l == 3)) {
			if (len > 0 && ++n < max) {
				docs[n][0] = '\0';
				len = 0;
			}
		} else if (len + l < 8192) {
			memcpy(docs[n] + len, p, l);
			len += l;
			docs[n][len] = '\0';
		}
		p += l;
	}
	return len > 0 ? n + 1 : n;
}

static char *write_tmp(const char *name, const char *text)
{
	char *p = mg_asprintf("%s/%s", sim.dir, name);
	cr_assert_eq(mg_write_file_atomic(p, text, strlen(text), 0600), 0);
	return p;
}

/* Deletes everything the examples create, with the webhooks out of the way. */
static void wipe(void)
{
	cr_assert_eq(mg_k8s_delete(client, &vwc, NULL, "mirrorgate", NULL, NULL, NULL), 0);
	cr_assert_eq(mg_k8s_delete(client, &mwc, NULL, "mirrorgate", NULL, NULL, NULL), 0);
	const mg_k8s_resource *kinds[] = {&mg_k8s_res_tmr, &mg_k8s_res_tamu, &mg_k8s_res_tsi,
					  &mg_k8s_res_pvc, &mg_k8s_res_sc, &mg_k8s_res_pv,
					  &mg_k8s_res_vs, &mg_k8s_res_vsc, &mg_k8s_res_configmap};
	cJSON *nofin = cJSON_Parse("{\"metadata\":{\"finalizers\":null}}");
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		cJSON *items = NULL;
		cr_assert_eq(mg_k8s_list_all(&items, NULL, client, kinds[k], NULL, NULL, NULL), 0);
		const cJSON *it;
		cJSON_ArrayForEach(it, items)
		{
			const cJSON *md = cJSON_GetObjectItem(it, "metadata");
			const char *name = cJSON_GetObjectItem(md, "name")->valuestring;
			const cJSON *ns = cJSON_GetObjectItem(md, "namespace");
			const char *nss = cJSON_IsString(ns) ? ns->valuestring : NULL;
			mg_k8s_patch(NULL, client, kinds[k], nss, name, NULL, MG_K8S_PATCH_MERGE, nofin, NULL);
			int rc = mg_k8s_delete(client, kinds[k], nss, name, NULL, NULL, NULL);
			cr_assert(rc == 0 || rc == MG_ENOTFOUND);
		}
		cJSON_Delete(items);
	}
	cJSON_Delete(nofin);
	usleep(SETTLE_US);
	register_hooks();
}

static size_t collect_body(char *p, size_t s, size_t n, void *u)
{
	return mg_strbuf_append(u, p, s * n) == 0 ? s * n : 0;
}

/* Posts a CREATE AdmissionReview for `doc` straight to the webhook's /validate, as the API
 * server would if its schema let the object through; returns the response object. */
static cJSON *direct_review(const char *doc)
{
	mg_doc_list docs = {0};
	mg_parse_error perr;
	cr_assert_eq(mg_doc_parse_yaml(&docs, doc, strlen(doc), &perr), 0);
	cr_assert_eq(docs.len, 1);
	const cJSON *obj = docs.items[0].root;
	const cJSON *md = cJSON_GetObjectItem(obj, "metadata");
	const char *av = cJSON_GetObjectItem(obj, "apiVersion")->valuestring;
	const char *kind = cJSON_GetObjectItem(obj, "kind")->valuestring;
	const char *slash = strchr(av, '/');
	char group[128] = "";
	if (slash)
		snprintf(group, sizeof(group), "%.*s", (int)(slash - av), av);
	cJSON *rev = cJSON_CreateObject();
	cJSON_AddStringToObject(rev, "apiVersion", "admission.k8s.io/v1");
	cJSON_AddStringToObject(rev, "kind", "AdmissionReview");
	cJSON *rq = cJSON_AddObjectToObject(rev, "request");
	cJSON_AddStringToObject(rq, "uid", "0b5c6b2e-direct-review");
	cJSON *k = cJSON_AddObjectToObject(rq, "kind");
	cJSON_AddStringToObject(k, "group", group);
	cJSON_AddStringToObject(k, "version", slash ? slash + 1 : av);
	cJSON_AddStringToObject(k, "kind", kind);
	cJSON *r = cJSON_AddObjectToObject(rq, "resource");
	cJSON_AddStringToObject(r, "group", group);
	cJSON_AddStringToObject(r, "version", slash ? slash + 1 : av);
	char plural[128];
	snprintf(plural, sizeof(plural), "%ss", kind);
	for (char *c = plural; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	cJSON_AddStringToObject(r, "resource", plural);
	cJSON_AddStringToObject(rq, "name", cJSON_GetObjectItem(md, "name")->valuestring);
	const cJSON *ns = cJSON_GetObjectItem(md, "namespace");
	cJSON_AddStringToObject(rq, "namespace", cJSON_IsString(ns) ? ns->valuestring : "default");
	cJSON_AddStringToObject(rq, "operation", "CREATE");
	cJSON *ui = cJSON_AddObjectToObject(rq, "userInfo");
	cJSON_AddStringToObject(ui, "username", "test");
	cJSON_AddItemToObject(rq, "object", cJSON_Duplicate(obj, 1));
	cJSON_AddNullToObject(rq, "oldObject");
	cJSON_AddFalseToObject(rq, "dryRun");
	char *body = cJSON_PrintUnformatted(rev);
	cJSON_Delete(rev);
	mg_doc_list_free(&docs);
	CURL *h = curl_easy_init();
	char url[64];
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/validate", wh_port);
	struct curl_blob blob = {ca_pem, strlen(ca_pem), CURL_BLOB_COPY};
	struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
	mg_strbuf resp = MG_STRBUF_INIT;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 5000L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp);
	cr_assert_eq(curl_easy_perform(h), CURLE_OK);
	curl_easy_cleanup(h);
	curl_slist_free_all(hdr);
	free(body);
	cJSON *answer = cJSON_Parse(resp.data);
	mg_strbuf_free(&resp);
	cr_assert_not_null(answer);
	cJSON *response = cJSON_DetachItemFromObject(answer, "response");
	cJSON_Delete(answer);
	cr_assert_not_null(response);
	return response;
}

static bool is_offline_only(const char *text)
{
	return strstr(text, "# offline-only") != NULL;
}

static void rule_of(const char *text, char *rule, size_t len)
{
	const char *r = strstr(text, "# rule: ");
	rule[0] = '\0';
	if (r) {
		r += 8;
		size_t n = strcspn(r, "\n");
		snprintf(rule, len, "%.*s", (int)(n < len - 1 ? n : len - 1), r);
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t list_yaml(const char *dir, char **names, size_t max)
{
	DIR *d = opendir(dir);
	cr_assert_not_null(d, "%s", dir);
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) && n < max) {
		size_t l = strlen(de->d_name);
		if (l > 5 && strcmp(de->d_name + l - 5, ".yaml") == 0)
			names[n++] = mg_strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	return n;
}

Test(kube_webhook, every_invalid_example_is_refused_with_the_webhooks_message)
{
	NEED_WEBHOOK();
	static char docs[16][8192];
	char *names[64];
	size_t n = list_yaml(EXAMPLES "/invalid", names, 64);
	cr_assert_gt(n, 0);
	int checked = 0, schema_first = 0;
	for (size_t i = 0; i < n; i++) {
		char *path = mg_asprintf("%s/invalid/%s", EXAMPLES, names[i]), *text = NULL;
		size_t len;
		cr_assert_eq(mg_read_file(path, 1 << 20, &text, &len), 0);
		if (is_offline_only(text)) {
			free(text);
			free(path);
			free(names[i]);
			continue;
		}
		char rule[64];
		rule_of(text, rule, sizeof(rule));
		size_t nd = split_docs(text, docs, 16);
		cr_assert_gt(nd, 0);
		char *out = NULL;
		if (nd > 1) {
			/* the objects the refused one depends on go in first, and must be accepted */
			mg_strbuf setup = MG_STRBUF_INIT;
			for (size_t d = 0; d + 1 < nd; d++)
				mg_strbuf_printf(&setup, "%s\n---\n", docs[d]);
			char *sp = write_tmp("setup.yaml", setup.data);
			cr_assert_eq(kubectl_apply(&out, sp), 0, "%s: the setup documents were refused:\n%s",
				     names[i], out);
			free(out);
			free(sp);
			mg_strbuf_free(&setup);
			usleep(SETTLE_US);
		}
		char *lp = write_tmp("last.yaml", docs[nd - 1]);
		int rc = kubectl_apply(&out, lp);
		cr_assert_neq(rc, 0, "%s (rule %s) was accepted:\n%s", names[i], rule, out);
		bool by_webhook = strstr(out, "admission webhook \"") != NULL;
		if (strcmp(rule, "SCHEMA") == 0) {
			/* the API server's structural schema refuses it before any webhook */
			cr_assert(strstr(out, "is invalid") && !by_webhook, "%s: %s", names[i], out);
		} else if (!by_webhook && (strstr(out, "is invalid") || strstr(out, "strict decoding error"))) {
			/* Trident's CRD schema also forbids this (maxItems, enum, required, unknown
			 * fields under kubectl's strict field validation), and the API server checks
			 * the schema before validating webhooks, exactly as kube-sim does; the
			 * webhook must still refuse it on its own. */
			cJSON *resp = direct_review(docs[nd - 1]);
			cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(resp, "allowed")),
				  "%s (rule %s): the webhook allows what only the schema refused", names[i], rule);
			const cJSON *msg = cJSON_GetObjectItem(cJSON_GetObjectItem(resp, "status"), "message");
			cr_assert(cJSON_IsString(msg) && msg->valuestring[0]);
			cJSON_Delete(resp);
			cr_log_info("%s (rule %s): refused by the CRD schema first; the webhook refuses "
				    "it too when asked directly", names[i], rule);
			schema_first++;
		} else {
			cr_assert(strstr(out, "admission webhook \"" HOOK_V "\" denied the request: ") ||
					  strstr(out, "admission webhook \"" HOOK_M "\" denied the request: "),
				  "%s (rule %s) was refused, but not by the webhook:\n%s", names[i], rule, out);
		}
		free(out);
		free(lp);
		checked++;
		wipe();
		free(text);
		free(path);
		free(names[i]);
	}
	cr_assert_geq(checked, 20, "too few invalid examples were exercised (%d)", checked);
	cr_assert_lt(schema_first, checked / 2, "most refusals must come from the webhook itself");
	stop_webhook_checked();
}

/* Applies a walkthrough directory in order. */
static void apply_walkthrough(const char *dir)
{
	char *names[32];
	size_t n = list_yaml(dir, names, 32);
	cr_assert_gt(n, 0);
	for (size_t i = 0; i < n; i++) {
		char *path = mg_asprintf("%s/%s", dir, names[i]), *out = NULL;
		cr_assert_eq(kubectl_apply(&out, path), 0, "%s was refused:\n%s", names[i], out);
		free(out);
		free(path);
		free(names[i]);
		usleep(SETTLE_US);
	}
}

Test(kube_webhook, the_primary_walkthrough_is_accepted)
{
	NEED_WEBHOOK();
	apply_walkthrough(EXAMPLES "/primary");
	stop_webhook_checked();
}

/* What mirrorgate-reconciler writes once it has established the secondary's mirror (there is
 * no reconciler in this test; examples never carry status, the status subresource drops it). */
static void reconciler_reports_established(void)
{
	cJSON *p = cJSON_Parse(
		"{\"status\":{\"conditions\":[{\"state\":\"established\",\"message\":\"\","
		"\"localPVCName\":\"app-data\",\"localVolumeHandle\":"
		"\"svm_secondary:trident_pvc_9e8d7c6b_5a49_4382_9170_f1e2d3c4b5a6\","
		"\"remoteVolumeHandle\":\"svm_primary:trident_pvc_3f1a2b4c_5d6e_4f70_8192_a3b4c5d6e7f8\","
		"\"replicationPolicy\":\"MirrorAllSnapshots\",\"replicationSchedule\":\"5min\","
		"\"lastTransitionTime\":\"2026-11-25T10:00:00Z\",\"observedGeneration\":1}]}}");
	cr_assert_not_null(p);
	mg_k8s_status st;
	cr_assert_eq(mg_k8s_patch(NULL, client, &mg_k8s_res_tmr, "app", "app-data-mirror", "status",
				  MG_K8S_PATCH_MERGE, p, &st),
		     0, "%s", st.message);
	cJSON_Delete(p);
	usleep(SETTLE_US);
}

Test(kube_webhook, the_secondary_walkthrough_and_planned_failover_are_accepted)
{
	NEED_WEBHOOK();
	apply_walkthrough(EXAMPLES "/secondary");
	/* a mirror update before the reconciler reported the mirror is refused */
	char *out = NULL;
	cr_assert_neq(kubectl_apply(&out, EXAMPLES "/planned-failover/01-tamu.yaml"), 0, "%s", out);
	cr_assert(strstr(out, "has no status yet"), "%s", out);
	free(out);
	reconciler_reports_established();
	apply_walkthrough(EXAMPLES "/planned-failover");
	stop_webhook_checked();
}

Test(kube_webhook, secondary_pvc_waits_for_its_tmr)
{
	NEED_WEBHOOK();
	char *out = NULL;
	cr_assert_eq(kubectl_apply(&out, EXAMPLES "/secondary/00-topology.yaml"), 0, "%s", out);
	free(out);
	cr_assert_eq(kubectl_apply(&out, EXAMPLES "/secondary/01-storageclass.yaml"), 0, "%s", out);
	free(out);
	usleep(SETTLE_US);
	cr_assert_neq(kubectl_apply(&out, EXAMPLES "/secondary/03-pvc-destination.yaml"), 0,
		      "a destination PVC without its TMR was accepted:\n%s", out);
	cr_assert(strstr(out, "admission webhook \"" HOOK_V "\" denied the request: ") ||
			  strstr(out, "admission webhook \"" HOOK_M "\" denied the request: "),
		  "%s", out);
	free(out);
	cr_assert_eq(kubectl_apply(&out, EXAMPLES "/secondary/02-tmr-established.yaml"), 0, "%s", out);
	free(out);
	/* the webhook learns of the TMR through its informer: accepted within a bounded wait */
	int rc = -1;
	long deadline = now_ms() + 10000;
	while (rc != 0 && now_ms() < deadline) {
		rc = kubectl_apply(&out, EXAMPLES "/secondary/03-pvc-destination.yaml");
		if (rc != 0) {
			free(out);
			out = NULL;
			usleep(100000);
		}
	}
	cr_assert_eq(rc, 0, "the PVC stayed refused after its TMR was created");
	cr_assert(strstr(out, "persistentvolumeclaim/app-data created"), "%s", out);
	free(out);
	stop_webhook_checked();
}
