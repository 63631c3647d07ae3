/* Starts the real mirrorgate-webhook binary on a loopback port with generated
 * certificates and drives it over HTTPS with libcurl (issue 3, "Done when"). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "mirrorgate/core/jsonpatch.h"
#include "mirrorgate/util/strbuf.h"
#include "webhook_harness.h"

static mg_wht g_w;

static void setup(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	mg_wht_init(&g_w, MG_BIN_DIR, MG_SOURCE_DIR);
}

static void teardown(void)
{
	mg_wht_cleanup(&g_w);
	curl_global_cleanup();
}

TestSuite(webhook_server, .init = setup, .fini = teardown, .timeout = 60);

static void start(const char *const *extra)
{
	char state[600];
	snprintf(state, sizeof(state), "--state-dir=%s/tests/data/webhook/state", MG_SOURCE_DIR);
	const char *args[16] = {state, "--log-level=debug"};
	size_t n = 2;
	for (size_t i = 0; extra && extra[i] && n < 15; i++)
		args[n++] = extra[i];
	args[n] = NULL;
	mg_wht_start(&g_w, args, false);
}

static cJSON *post_review(const char *path, const char *body, size_t len, long want_status)
{
	mg_wht_resp r;
	mg_wht_request(&g_w, NULL, "POST", path, "application/json", body, len, &r);
	cr_assert_eq(r.curl, CURLE_OK, "%s", curl_easy_strerror(r.curl));
	cr_assert_eq(r.status, want_status, "status %ld: %s", r.status, r.body);
	cJSON *j = cJSON_Parse(r.body);
	cr_assert_not_null(j, "JSON body: %s", r.body);
	mg_wht_resp_free(&r);
	return j;
}

static cJSON *post_fixture(const char *path, const char *fixture)
{
	size_t len;
	char *body = mg_wht_fixture(&g_w, fixture, &len);
	cJSON *j = post_review(path, body, len, 200);
	free(body);
	return j;
}

static const cJSON *response_of(const cJSON *review)
{
	const cJSON *api = cJSON_GetObjectItemCaseSensitive(review, "apiVersion");
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(review, "kind");
	cr_assert_str_eq(api->valuestring, "admission.k8s.io/v1");
	cr_assert_str_eq(kind->valuestring, "AdmissionReview");
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(review, "response");
	cr_assert(cJSON_IsObject(r));
	return r;
}

static const char *str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool allowed(const cJSON *resp)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(resp, "allowed"));
}

Test(webhook_server, allowed_request_echoes_uid)
{
	start(NULL);
	cJSON *j = post_fixture("/validate", "tmr-create-valid.json");
	const cJSON *r = response_of(j);
	cr_assert_str_eq(str(r, "uid"), "b0d3c1a2-0000-4000-8000-000000000001");
	cr_assert(allowed(r));
	cr_assert_null(cJSON_GetObjectItemCaseSensitive(r, "status"));
	cr_assert_null(cJSON_GetObjectItemCaseSensitive(r, "patch"), "validate never patches");
	cr_assert_null(cJSON_GetObjectItemCaseSensitive(r, "patchType"));
	cJSON_Delete(j);
}

Test(webhook_server, denied_request_has_the_api_server_message)
{
	start(NULL);
	cJSON *j = post_fixture("/validate", "tmr-create-bad-state.json");
	const cJSON *r = response_of(j);
	cr_assert_str_eq(str(r, "uid"), "b0d3c1a2-0000-4000-8000-000000000002");
	cr_assert_not(allowed(r));
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(r, "status");
	cr_assert_eq(cJSON_GetObjectItemCaseSensitive(st, "code")->valueint, 403);
	cr_assert_str_eq(str(st, "reason"), "Forbidden");
	cr_assert_str_eq(str(st, "message"),
			 "TridentMirrorRelationship.trident.netapp.io \"db-mirror\" is invalid: "
			 "spec.state: Unsupported value: \"mirrored\": supported values: "
			 "\"\", \"promoted\", \"established\", \"reestablished\"");
	const cJSON *aa = cJSON_GetObjectItemCaseSensitive(r, "auditAnnotations");
	cr_assert_str_eq(str(aa, "rules"), "TMR-STATE");
	cJSON_Delete(j);
	cr_assert_eq(mg_wht_metric(&g_w, "mirrorgate_webhook_rejections_total{rule=\"TMR-STATE\"}"),
		     1.0);
	cr_assert_eq(mg_wht_metric(&g_w, "mirrorgate_webhook_requests_total{webhook=\"validate\","
					 "kind=\"TridentMirrorRelationship\",operation=\"CREATE\","
					 "verdict=\"denied\",dry_run=\"false\"}"),
		     1.0);
	/* One info line per denial, naming the rule, without object contents. */
	char *log = NULL;
	cr_assert_eq(mg_read_file(g_w.err_path, 1 << 20, &log, NULL), 0);
	const char *line = strstr(log, "\"level\":\"info\",\"msg\":\"admission denied\"");
	cr_assert_not_null(line, "%s", log);
	const char *eol = strchr(line, '\n');
	char *one = strndup(line, eol ? (size_t)(eol - line) : strlen(line));
	cr_assert(strstr(one, "\"rules\":\"TMR-STATE\""), "%s", one);
	cr_assert(strstr(one, "\"uid\":\"b0d3c1a2-0000-4000-8000-000000000002\""), "%s", one);
	cr_assert(strstr(one, "\"latency_ms\":"), "%s", one);
	cr_assert_null(strstr(one, "mirrored"), "no object contents at info: %s", one);
	free(one);
	free(log);
}

Test(webhook_server, warnings_are_returned)
{
	start(NULL);
	cJSON *j = post_fixture("/validate", "tmr-create-warning.json");
	const cJSON *r = response_of(j);
	cr_assert(allowed(r));
	cr_assert_null(cJSON_GetObjectItemCaseSensitive(r, "status"));
	/* The state has no topology: the SVM rule cannot decide, and says so. */
	const cJSON *w = cJSON_GetObjectItemCaseSensitive(r, "warnings");
	cr_assert_eq(cJSON_GetArraySize(w), 1);
	const char *text = cJSON_GetArrayItem(w, 0)->valuestring;
	cr_assert_str_eq(text, "cannot check that SVM \"svm_a\" is unique and peered: the local "
			       "topology is unknown");
	cr_assert(strlen(text) < 120, "warnings stay under 120 characters");
	const cJSON *aa = cJSON_GetObjectItemCaseSensitive(r, "auditAnnotations");
	cr_assert_str_eq(str(aa, "rules"), "TMR-SVM-UNIQUE");
	cJSON_Delete(j);
}

static unsigned char *b64decode(const char *in, size_t *out_len)
{
	size_t n = strlen(in);
	unsigned char *out = malloc(n + 1);
	cr_assert_not_null(out);
	int len = EVP_DecodeBlock(out, (const unsigned char *)in, (int)n);
	cr_assert(len >= 0, "valid base64");
	while (n && in[n - 1] == '=') {
		len--;
		n--;
	}
	out[len] = '\0';
	*out_len = (size_t)len;
	return out;
}

Test(webhook_server, mutation_patch_applies_to_the_object)
{
	start(NULL);
	size_t len;
	char *body = mg_wht_fixture(&g_w, "tmr-create-valid.json", &len);
	cJSON *j = post_review("/mutate", body, len, 200);
	const cJSON *r = response_of(j);
	cr_assert(allowed(r));
	cr_assert_str_eq(str(r, "patchType"), "JSONPatch");
	size_t plen;
	unsigned char *ptext = b64decode(str(r, "patch"), &plen);
	cJSON *patch = cJSON_ParseWithLength((const char *)ptext, plen);
	cr_assert(cJSON_IsArray(patch), "%s", ptext);
	cJSON *review = cJSON_Parse(body);
	cJSON *object = cJSON_DetachItemFromObjectCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(review, "request"), "object");
	cr_assert_eq(mg_jsonpatch_apply(&object, patch), 0);
	const cJSON *fin = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(object, "metadata"), "finalizers");
	cr_assert_eq(cJSON_GetArraySize(fin), 1);
	cr_assert_str_eq(cJSON_GetArrayItem(fin, 0)->valuestring, "trident.netapp.io");
	/* Everything else is untouched. */
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(object, "spec");
	cr_assert_str_eq(str(spec, "state"), "promoted");
	const cJSON *aa = cJSON_GetObjectItemCaseSensitive(r, "auditAnnotations");
	cr_assert_str_eq(str(aa, "rules"), "TMR-FINALIZER");
	cJSON_Delete(object);
	cJSON_Delete(review);
	cJSON_Delete(patch);
	free(ptext);
	cJSON_Delete(j);
	free(body);
}

Test(webhook_server, dry_run_is_answered_identically)
{
	start(NULL);
	const char *fixtures[] = {"tmr-create-bad-state.json", "tmr-create-valid.json"};
	for (size_t f = 0; f < 2; f++) {
		size_t len;
		char *body = mg_wht_fixture(&g_w, fixtures[f], &len);
		char *dry = NULL;
		const char *at = strstr(body, "\"dryRun\": false");
		cr_assert_not_null(at, "fixture has dryRun false");
		mg_strbuf sb = MG_STRBUF_INIT;
		mg_strbuf_append(&sb, body, (size_t)(at - body));
		mg_strbuf_puts(&sb, "\"dryRun\": true");
		mg_strbuf_puts(&sb, at + strlen("\"dryRun\": false"));
		cr_assert_eq(mg_strbuf_detach(&sb, &dry), 0);
		const char *paths[] = {"/validate", "/mutate"};
		for (size_t p = 0; p < 2; p++) {
			mg_wht_resp a, b;
			mg_wht_request(&g_w, NULL, "POST", paths[p], "application/json", body, len, &a);
			mg_wht_request(&g_w, NULL, "POST", paths[p], "application/json", dry,
				       strlen(dry), &b);
			cr_assert_eq(a.status, 200);
			cr_assert_str_eq(a.body, b.body, "%s %s", fixtures[f], paths[p]);
			mg_wht_resp_free(&a);
			mg_wht_resp_free(&b);
		}
		free(dry);
		free(body);
	}
	cr_assert_eq(mg_wht_metric(&g_w, "mirrorgate_webhook_requests_total{webhook=\"validate\","
					 "kind=\"TridentMirrorRelationship\",operation=\"CREATE\","
					 "verdict=\"denied\",dry_run=\"true\"}"),
		     1.0, "dry runs are counted apart");
}

Test(webhook_server, delete_and_unknown_kinds_and_status_writes)
{
	start(NULL);
	cJSON *j = post_fixture("/validate", "tmr-delete.json");
	const cJSON *r = response_of(j);
	cr_assert_str_eq(str(r, "uid"), "b0d3c1a2-0000-4000-8000-000000000004");
	cr_assert(allowed(r), "deleting a TMR is allowed");
	cJSON_Delete(j);
	j = post_fixture("/validate", "pod-create.json");
	r = response_of(j);
	cr_assert(allowed(r));
	cr_assert_eq(cJSON_GetArraySize((cJSON *)r), 2, "unknown kinds: uid and allowed only");
	cJSON_Delete(j);
	j = post_fixture("/validate", "tmr-status-update.json");
	r = response_of(j);
	cr_assert(allowed(r), "status subresource writes are the reconciler's");
	cr_assert_null(cJSON_GetObjectItemCaseSensitive(r, "warnings"));
	cJSON_Delete(j);
}

struct bad_case {
	const char *method, *path, *ctype, *body;
	long status;
	const char *reason, *message;
};

static void check_status_body(const mg_wht_resp *r, const struct bad_case *c)
{
	cJSON *j = cJSON_Parse(r->body);
	cr_assert_not_null(j, "%s %s: JSON body: %s", c->method, c->path, r->body);
	cr_assert_str_eq(str(j, "kind"), "Status");
	cr_assert_str_eq(str(j, "reason"), c->reason, "%s %s", c->method, c->path);
	if (c->message)
		cr_assert_str_eq(str(j, "message"), c->message, "%s %s", c->method, c->path);
	cr_assert_eq(cJSON_GetObjectItemCaseSensitive(j, "code")->valueint, (int)c->status);
	cJSON_Delete(j);
}

Test(webhook_server, bad_requests_get_http_errors_and_the_server_keeps_serving)
{
	start(NULL);
	static const struct bad_case cases[] = {
		{"POST", "/validate", "application/json", "{not json", 400, "BadRequest",
		 "the request body is not valid JSON"},
		{"POST", "/validate", "application/json", "", 400, "BadRequest",
		 "the request body is empty"},
		{"POST", "/mutate", "application/json",
		 "{\"apiVersion\":\"admission.k8s.io/v1beta1\",\"kind\":\"AdmissionReview\","
		 "\"request\":{}}",
		 400, "BadRequest", "apiVersion must be \"admission.k8s.io/v1\""},
		{"POST", "/validate", "application/json",
		 "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"ConversionReview\"}", 400,
		 "BadRequest", "kind must be \"AdmissionReview\""},
		{"POST", "/validate", "application/json",
		 "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\"}", 400,
		 "BadRequest", "request is missing or not an object"},
		{"POST", "/validate", "application/json",
		 "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":"
		 "{\"kind\":{\"kind\":\"Pod\",\"version\":\"v1\"},\"operation\":\"CREATE\"}}",
		 400, "BadRequest", "request.uid is missing or not a string"},
		{"GET", "/validate", NULL, NULL, 405, "MethodNotAllowed", "this path only accepts POST"},
		{"PUT", "/mutate", "application/json", "{}", 405, "MethodNotAllowed",
		 "this path only accepts POST"},
		{"DELETE", "/healthz", NULL, NULL, 405, "MethodNotAllowed", "this path only accepts GET"},
		{"POST", "/validate", "text/plain", "{}", 415, "UnsupportedMediaType",
		 "Content-Type must be application/json"},
		{"POST", "/validate", NULL, "{}", 415, "UnsupportedMediaType",
		 "Content-Type must be application/json"},
		{"POST", "/validate", "application/jsonp", "{}", 415, "UnsupportedMediaType", NULL},
		{"GET", "/", NULL, NULL, 404, "NotFound", NULL},
		{"POST", "/validate/extra", "application/json", "{}", 404, "NotFound", NULL},
	};
	CURL *keep = mg_wht_curl(&g_w);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bad_case *c = &cases[i];
		mg_wht_resp r;
		mg_wht_request(&g_w, keep, c->method, c->path, c->ctype, c->body,
			       c->body ? strlen(c->body) : 0, &r);
		cr_assert_eq(r.curl, CURLE_OK, "case %zu: %s", i, curl_easy_strerror(r.curl));
		cr_assert_eq(r.status, c->status, "case %zu: %ld %s", i, r.status, r.body);
		check_status_body(&r, c);
		mg_wht_resp_free(&r);
	}
	curl_easy_cleanup(keep);
	/* The charset parameter is fine. */
	size_t len;
	char *body = mg_wht_fixture(&g_w, "tmr-create-valid.json", &len);
	mg_wht_resp r;
	mg_wht_request(&g_w, NULL, "POST", "/validate", "application/json; charset=utf-8", body,
		       len, &r);
	cr_assert_eq(r.status, 200);
	mg_wht_resp_free(&r);
	free(body);
	cr_assert_eq(mg_wht_metric(&g_w, "mirrorgate_webhook_http_errors_total{code=\"400\"}"), 6.0);
	cr_assert_eq(mg_wht_metric(&g_w, "mirrorgate_webhook_http_errors_total{code=\"415\"}"), 3.0);
}

/* Over 3 MiB: refused from Content-Length before the body is read, and refused after
 * reading when the body is chunked (no length up front). Oversized headers get 431. */
Test(webhook_server, oversized_bodies_get_413)
{
	start(NULL);
	size_t big = 3u * 1024u * 1024u + 1;
	char *body = malloc(big + 1);
	cr_assert_not_null(body);
	memset(body, ' ', big);
	body[0] = '{';
	body[big - 1] = '}';
	body[big] = '\0';
	static const struct bad_case c = {"POST", "/validate", "application/json", NULL, 413,
					  "RequestEntityTooLarge", "the request body is over 3 MiB"};
	mg_wht_resp r;
	mg_wht_request(&g_w, NULL, "POST", "/validate", "application/json", body, big, &r);
	cr_assert_eq(r.status, 413, "%d %s", r.curl, r.body ? r.body : "");
	check_status_body(&r, &c);
	mg_wht_resp_free(&r);

	/* Declared far over the limit with Expect: 100-continue: refused before any body. */
	{
		CURL *e = mg_wht_curl(&g_w);
		struct curl_slist *eh = curl_slist_append(NULL, "Content-Type: application/json");
		eh = curl_slist_append(eh, "Expect: 100-continue");
		FILE *zero = fopen("/dev/zero", "r");
		FILE *out = fopen("/dev/null", "w");
		char eurl[128];
		snprintf(eurl, sizeof(eurl), "https://127.0.0.1:%d/validate", g_w.port);
		curl_easy_setopt(e, CURLOPT_URL, eurl);
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(64 * 1024 * 1024));
		curl_easy_setopt(e, CURLOPT_READDATA, zero);
		curl_easy_setopt(e, CURLOPT_WRITEDATA, out);
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, eh);
		cr_assert_eq(curl_easy_perform(e), CURLE_OK);
		long code = 0;
		curl_off_t sent = 0;
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
		curl_easy_getinfo(e, CURLINFO_SIZE_UPLOAD_T, &sent);
		cr_assert_eq(code, 413);
		cr_assert_lt(sent, (curl_off_t)(1024 * 1024), "the body was not read (%ld)",
			     (long)sent);
		fclose(zero);
		fclose(out);
		curl_slist_free_all(eh);
		curl_easy_cleanup(e);
	}

	/* Chunked upload. */
	CURL *curl = mg_wht_curl(&g_w);
	struct curl_slist *h = curl_slist_append(NULL, "Transfer-Encoding: chunked");
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "Expect:");
	FILE *f = fmemopen(body, big, "r");
	mg_strbuf sb = MG_STRBUF_INIT;
	char url[128];
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/validate", g_w.port);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_POST, 1L);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(curl, CURLOPT_READDATA, f);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sb);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, NULL);
	FILE *sink = open_memstream(&sb.data, &sb.len);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, sink);
	cr_assert_eq(curl_easy_perform(curl), CURLE_OK);
	long status = 0;
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	fclose(sink);
	cr_assert_eq(status, 413);
	cr_assert(strstr(sb.data, "RequestEntityTooLarge"), "%s", sb.data);
	free(sb.data);
	fclose(f);
	curl_slist_free_all(h);
	curl_easy_cleanup(curl);
	free(body);

	/* Headers beyond the per-connection memory: 431 from libmicrohttpd. */
	char *big_header = malloc(12 * 1024);
	cr_assert_not_null(big_header);
	memcpy(big_header, "X-Big: ", 7);
	memset(big_header + 7, 'a', 12 * 1024 - 8);
	big_header[12 * 1024 - 1] = '\0';
	curl = mg_wht_curl(&g_w);
	h = curl_slist_append(NULL, big_header);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/healthz", g_w.port);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	FILE *devnull = fopen("/dev/null", "w");
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, devnull);
	cr_assert_eq(curl_easy_perform(curl), CURLE_OK);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	cr_assert_eq(status, 431);
	fclose(devnull);
	curl_slist_free_all(h);
	curl_easy_cleanup(curl);
	free(big_header);

	/* Still serving. */
	mg_wht_request(&g_w, NULL, "GET", "/healthz", NULL, NULL, 0, &r);
	cr_assert_eq(r.status, 200);
	mg_wht_resp_free(&r);
}

Test(webhook_server, health_readiness_and_metrics)
{
	start(NULL);
	mg_wht_resp r;
	mg_wht_request(&g_w, NULL, "GET", "/healthz", NULL, NULL, 0, &r);
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, "{\"status\":\"ok\"}");
	mg_wht_resp_free(&r);
	mg_wht_request(&g_w, NULL, "GET", "/readyz", NULL, NULL, 0, &r);
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, "{\"status\":\"ready\"}");
	mg_wht_resp_free(&r);
	cJSON_Delete(post_fixture("/validate", "tmr-create-valid.json"));
	mg_wht_request(&g_w, NULL, "GET", "/metrics", NULL, NULL, 0, &r);
	cr_assert_eq(r.status, 200);
	cr_assert(strstr(r.body, "# TYPE mirrorgate_webhook_request_duration_seconds histogram"));
	cr_assert(strstr(r.body, "mirrorgate_webhook_request_duration_seconds_count{webhook="
				 "\"validate\"} 1\n"),
		  "%s", r.body);
	cr_assert(strstr(r.body, "# TYPE mirrorgate_webhook_tls_handshake_errors_total counter"));
	cr_assert(strstr(r.body, "mirrorgate_build_info{version=\"" MG_VERSION "\"} 1\n"), "%s",
		  r.body);
	mg_wht_resp_free(&r);
	double expiry = mg_wht_metric(&g_w, "mirrorgate_webhook_certificate_expiry_timestamp_seconds");
	time_t not_after;
	cr_assert_eq(mg_tls_cert_not_after(g_w.ca.cert_pem, &not_after), 0);
	/* The leaf and its CA are made together with lifetimes of 1 and 2 days. */
	cr_assert(expiry > (double)time(NULL) + 86000 && expiry < (double)not_after,
		  "expiry %.0f", expiry);
}

static int connect_raw(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(fd >= 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Whether the server closes `fd` within timeout_ms (read returns 0 or an error). */
static bool closed_within(int fd, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char buf[256];
	for (int waited = 0; waited < timeout_ms; waited += 50) {
		if (poll(&p, 1, 50) > 0) {
			ssize_t n = read(fd, buf, sizeof(buf));
			if (n <= 0)
				return true;
		}
	}
	return false;
}

Test(webhook_server, idle_clients_time_out_and_plain_http_is_a_handshake_error)
{
	const char *args[] = {"--connection-timeout=1", NULL};
	start(args);
	int idle = connect_raw(g_w.port);
	cr_assert(closed_within(idle, 4000), "an idle connection is closed after the timeout");
	close(idle);
	/* A slow client that never finishes its headers is cut the same way. */
	int slow = connect_raw(g_w.port);
	cr_assert_eq(write(slow, "\x16\x03\x01", 3), 3);
	cr_assert(closed_within(slow, 4000));
	close(slow);
	int plain = connect_raw(g_w.port);
	const char *req = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
	cr_assert_eq(write(plain, req, strlen(req)), (ssize_t)strlen(req));
	cr_assert(closed_within(plain, 4000));
	close(plain);
	mg_wht_resp r;
	mg_wht_request(&g_w, NULL, "GET", "/healthz", NULL, NULL, 0, &r);
	cr_assert_eq(r.status, 200, "still serving");
	mg_wht_resp_free(&r);
	cr_assert_geq(mg_wht_metric(&g_w, "mirrorgate_webhook_tls_handshake_errors_total"), 3.0);
}

struct trickle {
	int calls;
};

static size_t trickle_read(char *buf, size_t size, size_t nitems, void *user)
{
	struct trickle *t = user;
	(void)size, (void)nitems;
	struct timespec ts = {0, 300 * 1000 * 1000};
	nanosleep(&ts, NULL);
	buf[0] = t->calls++ ? ' ' : '{';
	return 1;
}

Test(webhook_server, a_trickling_body_is_cut_at_the_timeout)
{
	const char *args[] = {"--connection-timeout=1", NULL};
	start(args);
	struct trickle t = {0};
	CURL *c = mg_wht_curl(&g_w);
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	h = curl_slist_append(h, "Expect:");
	char url[128];
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/validate", g_w.port);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)40);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, trickle_read);
	curl_easy_setopt(c, CURLOPT_READDATA, &t);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	CURLcode rc = curl_easy_perform(c);
	cr_assert_neq(rc, CURLE_OK, "the server closed the connection");
	cr_assert(t.calls < 20, "well before the 40-byte body was sent (%d bytes)", t.calls);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	mg_wht_resp r;
	mg_wht_request(&g_w, NULL, "GET", "/healthz", NULL, NULL, 0, &r);
	cr_assert_eq(r.status, 200, "still serving");
	mg_wht_resp_free(&r);
}

/* At the limit, the oldest connection that is not in a request makes room for the new one
 * (it was left in the listen backlog before, where a legitimate client waited behind idle
 * ones). */
Test(webhook_server, connection_limit_makes_room_for_a_new_client)
{
	const char *args[] = {"--max-connections=2", "--threads=1", NULL};
	start(args);
	int a = connect_raw(g_w.port);
	struct timespec ts = {0, 200 * 1000 * 1000};
	nanosleep(&ts, NULL);
	int b = connect_raw(g_w.port);
	nanosleep(&ts, NULL);
	CURL *c = mg_wht_curl(&g_w);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 3000L);
	mg_wht_resp r;
	mg_wht_request(&g_w, c, "GET", "/healthz", NULL, NULL, 0, &r);
	cr_assert_eq(r.status, 200, "served at the limit: %s", curl_easy_strerror(r.curl));
	mg_wht_resp_free(&r);
	curl_easy_cleanup(c);
	cr_assert(closed_within(a, 2000), "the oldest idle connection was closed");
	close(a);
	close(b);
	mg_wht_request(&g_w, NULL, "GET", "/metrics", NULL, NULL, 0, &r);
	/* At least the one; the /metrics connection itself may have made room too, when the
	 * server had not yet seen the closed ones go. */
	cr_assert_not_null(strstr(r.body, "closed_total{reason=\"evicted\"}"), "%s", r.body);
	cr_assert_null(strstr(r.body, "closed_total{reason=\"evicted\"} 0"), "%s", r.body);
	mg_wht_resp_free(&r);
}

/* A client that starts a TLS handshake and stalls (or trickles header bytes) is closed at
 * --header-timeout, however active it looks; before, only bodies had a total deadline. */
Test(webhook_server, a_stalled_handshake_is_closed_at_the_header_timeout)
{
	const char *args[] = {"--header-timeout=1", NULL};
	start(args);
	int fd = connect_raw(g_w.port);
	static const unsigned char partial[] = {0x16, 3, 1, 2, 0, 1, 0, 1, 252, 3, 3};
	cr_assert_eq(write(fd, partial, sizeof(partial)), (ssize_t)sizeof(partial));
	cr_assert_not(closed_within(fd, 500), "not before the deadline");
	cr_assert(closed_within(fd, 3000), "closed at the header timeout");
	close(fd);
	mg_wht_resp r;
	mg_wht_request(&g_w, NULL, "GET", "/metrics", NULL, NULL, 0, &r);
	cr_assert_not_null(strstr(r.body, "mirrorgate_webhook_connections_closed_total{reason="
					  "\"header_timeout\"} 1"),
			   "%s", r.body);
	mg_wht_resp_free(&r);
}

/* One client address may hold --max-connections-per-client connections; past it, its own
 * oldest waiting connection goes, never another client's. */
Test(webhook_server, per_client_limit_evicts_the_clients_own_oldest)
{
	const char *args[] = {"--max-connections-per-client=2", NULL};
	start(args);
	int a = connect_raw(g_w.port);
	struct timespec ts = {0, 100 * 1000 * 1000};
	nanosleep(&ts, NULL);
	int b = connect_raw(g_w.port);
	nanosleep(&ts, NULL);
	int c3 = connect_raw(g_w.port);
	cr_assert(closed_within(a, 2000), "the client's oldest connection made room");
	cr_assert_not(closed_within(b, 300));
	close(a);
	close(b);
	close(c3);
}

Test(webhook_server, keep_alive_and_tls_versions)
{
	start(NULL);
	CURL *c = mg_wht_curl(&g_w);
	mg_wht_resp r;
	mg_wht_request(&g_w, c, "GET", "/healthz", NULL, NULL, 0, &r);
	cr_assert_eq(r.connects, 1);
	mg_wht_resp_free(&r);
	for (int i = 0; i < 5; i++) {
		mg_wht_request(&g_w, c, "GET", "/healthz", NULL, NULL, 0, &r);
		cr_assert_eq(r.status, 200);
		cr_assert_eq(r.connects, 0, "request %d reuses the connection", i);
		mg_wht_resp_free(&r);
	}
	curl_easy_cleanup(c);

	c = mg_wht_curl(&g_w);
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)(CURL_SSLVERSION_TLSv1_2 |
						       CURL_SSLVERSION_MAX_TLSv1_2));
	mg_wht_request(&g_w, c, "GET", "/healthz", NULL, NULL, 0, &r);
	cr_assert_eq(r.curl, CURLE_OK, "TLS 1.2 is accepted: %s", curl_easy_strerror(r.curl));
	mg_wht_resp_free(&r);
	curl_easy_cleanup(c);

	c = mg_wht_curl(&g_w);
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)(CURL_SSLVERSION_TLSv1_0 |
						       CURL_SSLVERSION_MAX_TLSv1_1));
	curl_easy_setopt(c, CURLOPT_SSL_CIPHER_LIST, "DEFAULT:@SECLEVEL=0");
	mg_wht_request(&g_w, c, "GET", "/healthz", NULL, NULL, 0, &r);
	cr_assert_neq(r.curl, CURLE_OK, "TLS 1.0/1.1 are refused");
	mg_wht_resp_free(&r);
	curl_easy_cleanup(c);

	c = mg_wht_curl(&g_w);
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)(CURL_SSLVERSION_TLSv1_2 |
						       CURL_SSLVERSION_MAX_TLSv1_2));
	curl_easy_setopt(c, CURLOPT_SSL_CIPHER_LIST, "AES128-SHA256:AES256-SHA");
	mg_wht_request(&g_w, c, "GET", "/healthz", NULL, NULL, 0, &r);
	cr_assert_neq(r.curl, CURLE_OK, "no forward secrecy, no CBC: refused");
	mg_wht_resp_free(&r);
	curl_easy_cleanup(c);
}

/* The subject CN the server presents on a new connection, verified against w->ca_path. */
static bool presents(const char *cn)
{
	CURL *c = mg_wht_curl(&g_w);
	struct curl_certinfo *ci = NULL;
	mg_wht_resp r;
	curl_easy_setopt(c, CURLOPT_CERTINFO, 1L);
	mg_wht_request(&g_w, c, "GET", "/healthz", NULL, NULL, 0, &r);
	bool match = false;
	if (r.curl == CURLE_OK && curl_easy_getinfo(c, CURLINFO_CERTINFO, &ci) == CURLE_OK && ci &&
	    ci->num_of_certs > 0) {
		char want[128];
		snprintf(want, sizeof(want), "CN = %s", cn);
		char want2[128];
		snprintf(want2, sizeof(want2), "CN=%s", cn);
		for (struct curl_slist *s = ci->certinfo[0]; s; s = s->next) {
			if (strncmp(s->data, "Subject:", 8) == 0)
				match = strstr(s->data, want) || strstr(s->data, want2);
		}
	}
	mg_wht_resp_free(&r);
	curl_easy_cleanup(c);
	return match;
}

Test(webhook_server, certificate_reload_while_serving)
{
	const char *args[] = {"--cert-reload-interval=1", NULL};
	start(args);
	cr_assert(presents("mirrorgate-test-1"));
	CURL *kept = mg_wht_curl(&g_w);
	mg_wht_resp r;
	mg_wht_request(&g_w, kept, "GET", "/healthz", NULL, NULL, 0, &r);
	mg_wht_resp_free(&r);

	/* A broken update (a key that is not the certificate's) is refused: the old pair
	 * keeps serving. */
	mg_pem_pair other_ca = {0};
	cr_assert_eq(mg_tls_make_ca(&other_ca, "other", 1), 0);
	char *old_cert = NULL;
	cr_assert_eq(mg_read_file(g_w.cert_path, 1 << 16, &old_cert, NULL), 0);
	cr_assert_eq(mg_write_file_atomic(g_w.key_path, other_ca.key_pem, strlen(other_ca.key_pem),
					  0600),
		     0);
	const char *errors = "mirrorgate_webhook_certificate_reloads_total{result=\"error\"}";
	for (int i = 0; i < 100 && mg_wht_metric(&g_w, errors) < 1.0; i++) {
		struct timespec ts = {0, 100 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	cr_assert_geq(mg_wht_metric(&g_w, errors), 1.0, "the mismatched pair was seen");
	cr_assert(presents("mirrorgate-test-1"), "and not loaded");
	mg_pem_pair_free(&other_ca);
	free(old_cert);

	mg_wht_rotate(&g_w, "mirrorgate-test-2");
	bool rotated = false;
	for (int i = 0; i < 100 && !rotated; i++) {
		struct timespec step = {0, 100 * 1000 * 1000};
		nanosleep(&step, NULL);
		rotated = presents("mirrorgate-test-2");
	}
	cr_assert(rotated, "the next connection gets the new certificate");
	/* The kept-alive connection goes on working. */
	mg_wht_request(&g_w, kept, "GET", "/healthz", NULL, NULL, 0, &r);
	cr_assert_eq(r.status, 200);
	cr_assert_eq(r.connects, 0);
	mg_wht_resp_free(&r);
	curl_easy_cleanup(kept);
	cr_assert_eq(mg_wht_metric(&g_w, "mirrorgate_webhook_certificate_reloads_total{result="
					 "\"success\"}"),
		     1.0);
	cr_assert_geq(mg_wht_metric(&g_w, "mirrorgate_webhook_certificate_reloads_total{result="
					  "\"error\"}"),
		      1.0);
}

struct slow_body {
	const char *data;
	size_t len, pos;
	int calls;
	bool refused;     /* a new connection during the drain was refused */
	bool in_progress; /* the server counted the request in flight before the SIGTERM */
	CURL *kept;       /* a keep-alive connection opened before the SIGTERM */
	long readyz;      /* what /readyz answered on it during the drain */
};

/* Sends half the body, then SIGTERMs the server, checks that it accepts no new
 * connection, and sends the rest. */
static size_t slow_read(char *buf, size_t size, size_t nitems, void *user)
{
	struct slow_body *s = user;
	size_t room = size * nitems;
	size_t want = s->calls++ == 0 ? s->len / 2 : s->len - s->pos;
	if (s->calls == 2) {
		/* Wait until the server has the request in progress (the scrape counts itself,
		 * hence 2), so that the SIGTERM really lands mid-request. */
		struct timespec ts = {0, 50 * 1000 * 1000};
		for (int i = 0; i < 100; i++) {
			if (mg_wht_metric(&g_w, "mirrorgate_webhook_requests_in_flight") >= 2.0)
				break;
			nanosleep(&ts, NULL);
		}
		s->in_progress = mg_wht_metric(&g_w, "mirrorgate_webhook_requests_in_flight") >= 2.0;
		kill(g_w.pid, SIGTERM);
		ts.tv_nsec = 300 * 1000 * 1000;
		nanosleep(&ts, NULL);
		CURL *c = mg_wht_curl(&g_w);
		char url[128];
		snprintf(url, sizeof(url), "https://127.0.0.1:%d/healthz", g_w.port);
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 1000L);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, NULL);
		FILE *devnull = fopen("/dev/null", "w");
		curl_easy_setopt(c, CURLOPT_WRITEDATA, devnull);
		s->refused = curl_easy_perform(c) != CURLE_OK;
		fclose(devnull);
		curl_easy_cleanup(c);
		/* An open keep-alive connection still gets answers: not ready any more. */
		mg_wht_resp r;
		mg_wht_request(&g_w, s->kept, "GET", "/readyz", NULL, NULL, 0, &r);
		s->readyz = r.status;
		mg_wht_resp_free(&r);
	}
	if (want > room)
		want = room;
	memcpy(buf, s->data + s->pos, want);
	s->pos += want;
	return want;
}

Test(webhook_server, sigterm_finishes_the_request_in_flight)
{
	start(NULL);
	size_t len;
	char *body = mg_wht_fixture(&g_w, "tmr-create-bad-state.json", &len);
	struct slow_body s = {body, len, 0, 0, false, false, mg_wht_curl(&g_w), 0};
	mg_wht_resp warm;
	mg_wht_request(&g_w, s.kept, "GET", "/readyz", NULL, NULL, 0, &warm);
	cr_assert_eq(warm.status, 200);
	mg_wht_resp_free(&warm);
	CURL *c = mg_wht_curl(&g_w);
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	h = curl_slist_append(h, "Expect:");
	char url[128];
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/validate", g_w.port);
	char *resp = NULL;
	size_t resp_len = 0;
	FILE *sink = open_memstream(&resp, &resp_len);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, slow_read);
	curl_easy_setopt(c, CURLOPT_READDATA, &s);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, sink);
	CURLcode rc = curl_easy_perform(c);
	fclose(sink);
	long status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	cr_assert_eq(rc, CURLE_OK, "%s", curl_easy_strerror(rc));
	cr_assert_eq(status, 200);
	cr_assert(s.calls >= 2, "the body was sent in two parts");
	cr_assert(s.in_progress, "the SIGTERM came while the request was in progress");
	cr_assert(s.refused, "no new connections while draining");
	cr_assert_eq(s.readyz, 503, "not ready while draining");
	curl_easy_cleanup(s.kept);
	cJSON *j = cJSON_Parse(resp);
	cr_assert_str_eq(str(response_of(j), "uid"), "b0d3c1a2-0000-4000-8000-000000000002");
	cJSON_Delete(j);
	cr_assert_eq(mg_wht_stop(&g_w, 0, 5000), 0, "exit 0 after the drain");
	free(resp);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	free(body);
}

Test(webhook_server, self_signed_mode_prints_the_ca_bundle)
{
	char ca_out[200];
	snprintf(ca_out, sizeof(ca_out), "--ca-out=%s", g_w.ca_path);
	const char *args[] = {"--self-signed", ca_out, NULL};
	start(args);
	/* g_w.ca_path now holds the generated CA: verification succeeds with it. */
	mg_wht_resp r;
	mg_wht_request(&g_w, NULL, "GET", "/healthz", NULL, NULL, 0, &r);
	cr_assert_eq(r.curl, CURLE_OK, "%s", curl_easy_strerror(r.curl));
	mg_wht_resp_free(&r);
	char *out = NULL, *ca = NULL;
	cr_assert_eq(mg_read_file(g_w.out_path, 1 << 16, &out, NULL), 0);
	cr_assert_eq(mg_read_file(g_w.ca_path, 1 << 16, &ca, NULL), 0);
	cr_assert_eq(strncmp(out, "caBundle: ", 10), 0, "%s", out);
	size_t n;
	char *line_end = strchr(out, '\n');
	cr_assert_not_null(line_end);
	*line_end = '\0';
	unsigned char *pem = b64decode(out + 10, &n);
	cr_assert_str_eq((char *)pem, ca, "caBundle is the base64 of the CA PEM");
	free(pem);
	free(out);
	free(ca);
	cr_assert_eq(mg_wht_stop(&g_w, SIGTERM, 5000), 0);
}

Test(webhook_server, bad_configuration_fails_fast_with_a_message)
{
	/* Missing certificate files: exit code 1 with the reason in the log. */
	char bin[512], cmd[1200];
	snprintf(bin, sizeof(bin), "%s/mirrorgate-webhook", MG_BIN_DIR);
	snprintf(cmd, sizeof(cmd),
		 "%s --port=0 --tls-cert-file=/nonexistent/c --tls-key-file=/nonexistent/k "
		 ">/dev/null 2>%s/bad.log",
		 bin, g_w.dir);
	int rc = system(cmd);
	cr_assert(WIFEXITED(rc) && WEXITSTATUS(rc) == 1, "rc %d", rc);
	char path[200], *log = NULL;
	snprintf(path, sizeof(path), "%s/bad.log", g_w.dir);
	cr_assert_eq(mg_read_file(path, 1 << 16, &log, NULL), 0);
	cr_assert(strstr(log, "the certificate file does not exist"), "%s", log);
	free(log);
	snprintf(cmd, sizeof(cmd), "%s --self-signed --kubeconfig=/k >/dev/null 2>%s/bad.log", bin,
		 g_w.dir);
	rc = system(cmd);
	cr_assert(WIFEXITED(rc) && WEXITSTATUS(rc) != 0, "rc %d", rc);
	cr_assert_eq(mg_read_file(path, 1 << 16, &log, NULL), 0);
	cr_assert(strstr(log, "cannot watch the cluster") && strstr(log, "/k"), "%s", log);
	free(log);
	snprintf(cmd, sizeof(cmd), "%s --help >%s/bad.log 2>&1", bin, g_w.dir);
	rc = system(cmd);
	cr_assert(WIFEXITED(rc) && WEXITSTATUS(rc) == 0);
	cr_assert_eq(mg_read_file(path, 1 << 16, &log, NULL), 0);
	cr_assert(strstr(log, "--state-dir"), "%s", log);
	free(log);
	unlink(path);
}

/* What `make run` serves: manifests/examples as the state, and the example
 * AdmissionReviews under manifests/examples/admission answer as docs/webhook.md says. */
Test(webhook_server, make_run_examples_answer_as_documented)
{
	char state[600];
	snprintf(state, sizeof(state), "--state-dir=%s/manifests/examples", MG_SOURCE_DIR);
	const char *args[] = {state, NULL};
	mg_wht_start(&g_w, args, false);
	char path[600];
	char *body = NULL;
	size_t len = 0;
	snprintf(path, sizeof(path), "%s/manifests/examples/admission/tmr-create.json",
		 MG_SOURCE_DIR);
	cr_assert_eq(mg_read_file(path, 1 << 20, &body, &len), 0);
	cJSON *j = post_review("/validate", body, len, 200);
	cr_assert(allowed(response_of(j)));
	cJSON_Delete(j);
	j = post_review("/mutate", body, len, 200);
	cr_assert_str_eq(str(response_of(j), "patch"),
			 "W3sib3AiOiJhZGQiLCJwYXRoIjoiL21ldGFkYXRhL2ZpbmFsaXplcnMiLCJ2YWx1ZSI6WyJ0cmlk"
			 "ZW50Lm5ldGFwcC5pbyJdfV0=");
	cJSON_Delete(j);
	free(body);
	snprintf(path, sizeof(path), "%s/manifests/examples/admission/tmr-create-denied.json",
		 MG_SOURCE_DIR);
	cr_assert_eq(mg_read_file(path, 1 << 20, &body, &len), 0);
	j = post_review("/validate", body, len, 200);
	const cJSON *r = response_of(j);
	cr_assert_not(allowed(r));
	cr_assert_str_eq(str(cJSON_GetObjectItemCaseSensitive(r, "status"), "message"),
			 "TridentMirrorRelationship.trident.netapp.io \"demo-mirror\" is invalid: "
			 "spec.state: Unsupported value: \"mirrored\": supported values: \"\", "
			 "\"promoted\", \"established\", \"reestablished\"");
	cJSON_Delete(j);
	free(body);
}

/* A rotation to an expired pair is refused (the API server would refuse the handshake): the
 * previous certificate keeps serving, and /readyz, the metric and the log say why. */
Test(webhook_server, an_expired_certificate_is_refused_and_the_old_one_serves)
{
	const char *args[] = {"--cert-reload-interval=1", NULL};
	start(args);
	mg_wht_resp r;
	mg_wht_request(&g_w, NULL, "GET", "/readyz", NULL, NULL, 0, &r);
	cr_assert_eq(r.status, 200);
	mg_wht_resp_free(&r);
	char old_ca[160], *pem = NULL;
	snprintf(old_ca, sizeof(old_ca), "%s/old-ca.pem", g_w.dir);
	cr_assert_eq(mg_read_file(g_w.ca_path, 1 << 20, &pem, NULL), 0);
	cr_assert_eq(mg_write_file_atomic(old_ca, pem, strlen(pem), 0600), 0);
	free(pem);
	mg_wht_rotate_expired(&g_w, "mirrorgate-expired");
	bool said = false;
	for (int i = 0; i < 100 && !said; i++) {
		struct timespec ts = {0, 100 * 1000 * 1000};
		nanosleep(&ts, NULL);
		CURL *c = mg_wht_curl(&g_w);
		/* Still the old certificate: verified against the old CA. */
		curl_easy_setopt(c, CURLOPT_CAINFO, old_ca);
		mg_wht_request(&g_w, c, "GET", "/readyz", NULL, NULL, 0, &r);
		cr_assert_eq(r.curl, CURLE_OK, "the old certificate keeps serving");
		said = r.status == 200 && r.body && strstr(r.body, "\"check\":\"expired\"") &&
		       strstr(r.body, "the new certificate has expired");
		mg_wht_resp_free(&r);
		curl_easy_cleanup(c);
	}
	cr_assert(said, "readyz says why the rotation did not happen");
	CURL *c = mg_wht_curl(&g_w);
	curl_easy_setopt(c, CURLOPT_CAINFO, old_ca);
	mg_wht_request(&g_w, c, "GET", "/metrics", NULL, NULL, 0, &r);
	cr_assert_not_null(strstr(r.body,
				  "mirrorgate_webhook_certificate_rejected{reason=\"expired\"} 1"),
			   "%s", r.body);
	mg_wht_resp_free(&r);
	curl_easy_cleanup(c);
	char *log = NULL;
	cr_assert_eq(mg_read_file(g_w.err_path, 1 << 22, &log, NULL), 0);
	cr_assert_not_null(strstr(log, "\"check\":\"expired\""), "the log line names the check");
	free(log);
}

struct worker {
	const char *body;
	size_t len;
	int ok;
};

static void *hammer(void *arg)
{
	struct worker *w = arg;
	CURL *c = mg_wht_curl(&g_w);
	for (int i = 0; i < 100; i++) {
		mg_wht_resp r;
		mg_wht_request(&g_w, c, "POST", (i & 1) ? "/mutate" : "/validate",
			       "application/json", w->body, w->len, &r);
		if (r.status == 200 && r.body &&
		    strstr(r.body, "\"uid\":\"b0d3c1a2-0000-4000-8000-000000000002\""))
			w->ok++;
		mg_wht_resp_free(&r);
	}
	curl_easy_cleanup(c);
	return NULL;
}

Test(webhook_server, concurrent_clients_all_get_their_answers)
{
	const char *args[] = {"--threads=2", NULL};
	start(args);
	size_t len;
	char *body = mg_wht_fixture(&g_w, "tmr-create-bad-state.json", &len);
	pthread_t th[8];
	struct worker w[8];
	for (int i = 0; i < 8; i++) {
		w[i] = (struct worker){body, len, 0};
		cr_assert_eq(pthread_create(&th[i], NULL, hammer, &w[i]), 0);
	}
	int ok = 0;
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		ok += w[i].ok;
	}
	cr_assert_eq(ok, 800);
	cr_assert_eq(mg_wht_metric(&g_w, "mirrorgate_webhook_rejections_total{rule=\"TMR-STATE\"}"),
		     400.0, "every validate call counted once");
	free(body);
}

/* Counts the ServerHello messages the client receives: a HelloRetryRequest is a second. */
static void count_server_hellos(int write_p, int version, int content_type, const void *buf,
				size_t len, SSL *ssl, void *arg)
{
	(void)version;
	(void)ssl;
	if (!write_p && content_type == SSL3_RT_HANDSHAKE && len > 0 &&
	    ((const unsigned char *)buf)[0] == SSL3_MT_SERVER_HELLO)
		(*(int *)arg)++;
}

static int g_hellos;

static CURLcode hello_counter(CURL *curl, void *sslctx, void *parm)
{
	(void)curl;
	SSL_CTX_set_msg_callback(sslctx, count_server_hellos);
	SSL_CTX_set_msg_callback_arg(sslctx, parm);
	return CURLE_OK;
}

static int server_hellos_for(const char *groups)
{
	CURL *c = mg_wht_curl(&g_w);
	g_hellos = 0;
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)(CURL_SSLVERSION_TLSv1_3));
	curl_easy_setopt(c, CURLOPT_SSL_EC_CURVES, groups);
	curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, hello_counter);
	curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, &g_hellos);
	mg_wht_resp r;
	mg_wht_request(&g_w, c, "GET", "/healthz", NULL, NULL, 0, &r);
	cr_assert_eq(r.curl, CURLE_OK, "%s", curl_easy_strerror(r.curl));
	mg_wht_resp_free(&r);
	curl_easy_cleanup(c);
	return g_hellos;
}

Test(webhook_server, an_x25519_first_client_gets_no_hello_retry)
{
	start(NULL);
	/* as `openssl s_client -groups X25519:P-256`, and as Go's client sends its key share */
	cr_assert_eq(server_hellos_for("X25519:P-256"), 1, "a HelloRetryRequest was sent");
	/* a P-256-only client still connects (after a retry, or directly) */
	cr_assert_geq(server_hellos_for("P-256"), 1);
}
