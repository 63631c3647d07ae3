/* The Kubernetes client and informer against canned byte streams: exact server answers
 * (409, 429 + Retry-After, 410, garbage, slow servers, split watch lines) replayed by a
 * loopback HTTP server. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kube_support.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/k8s/informer.h"
#include "mirrorgate/k8s/client.h"
#include "mirrorgate/util/log.h"
#include "mirrorgate/util/strbuf.h"
#include "mirrorgate/util/tls.h"

#define HDR_JSON "Content-Type: application/json\r\nConnection: close\r\n"

static kube_canned *srv;
static mg_k8s_client *client;
static mg_informer *inf; /* freed by teardown even when an assertion fails */

static void start(const kube_canned_resp *resps, size_t n)
{
	cr_assert_eq(kube_canned_start(&srv, resps, n), 0);
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", kube_canned_port(srv));
	mg_k8s_config cfg = {0};
	cfg.server = url;
	cfg.token = (char *)"canned-token";
	cfg.namespace = (char *)"default";
	cr_assert_eq(mg_k8s_client_new(&client, &cfg), 0);
}

static void teardown(void)
{
	mg_informer_free(inf);
	inf = NULL;
	mg_k8s_client_free(client);
	client = NULL;
	kube_canned_stop(srv);
	srv = NULL;
}

static void quiet(void)
{
	mg_log_set_level(MG_LOG_ERROR);
}

TestSuite(k8s_canned, .init = quiet, .fini = teardown, .timeout = 30);

Test(k8s_canned, conflict_is_typed_and_request_is_well_formed)
{
	static const kube_canned_resp r[] = {
		{"HTTP/1.1 409 Conflict\r\n" HDR_JSON "\r\n"
		 "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"reason\":\"Conflict\","
		 "\"message\":\"Operation cannot be fulfilled on configmaps \\\"x\\\": the object has been modified\",\"code\":409}",
		 0, 0}};
	start(r, 1);
	cJSON *obj = cJSON_Parse("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\",\"resourceVersion\":\"3\"}}");
	mg_k8s_status st;
	cr_assert_eq(mg_k8s_update(NULL, client, &mg_k8s_res_configmap, "ns1", obj, &st), MG_ECONFLICT);
	cr_assert_eq(st.code, 409);
	cr_assert_str_eq(st.reason, "Conflict");
	const char *req = kube_canned_request(srv, 0);
	cr_assert(strncmp(req, "PUT /api/v1/namespaces/ns1/configmaps/x HTTP/1.1", 48) == 0, "%s", req);
	cr_assert(strstr(req, "Authorization: Bearer canned-token"));
	cr_assert(strstr(req, "Content-Type: application/json"));
	cJSON_Delete(obj);
}

Test(k8s_canned, throttling_carries_retry_after)
{
	static const kube_canned_resp r[] = {
		{"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\n" HDR_JSON "\r\n"
		 "{\"kind\":\"Status\",\"reason\":\"TooManyRequests\",\"message\":\"slow down\",\"code\":429}",
		 0, 0}};
	start(r, 1);
	cJSON *out = NULL;
	mg_k8s_status st;
	cr_assert_eq(mg_k8s_get(&out, client, &mg_k8s_res_tmr, "ns1", "m", &st), MG_ETHROTTLED);
	cr_assert_eq(st.retry_after, 7);
	cr_assert_str_eq(st.message, "slow down");
	cr_assert(strncmp(kube_canned_request(srv, 0),
			  "GET /apis/trident.netapp.io/v1/namespaces/ns1/tridentmirrorrelationships/m ", 75) == 0);
}

Test(k8s_canned, garbage_and_server_errors_are_reported_not_crashed_on)
{
	static const kube_canned_resp r[] = {
		{"HTTP/1.1 200 OK\r\n" HDR_JSON "\r\n{not json", 0, 0},
		{"HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\n\r\n<html>oops</html>", 0, 0},
		{"HTTP/1.1 404 Not Found\r\n" HDR_JSON "\r\n{\"kind\":\"Status\",\"reason\":\"NotFound\",\"code\":404}", 0, 0},
		{"garbage that is not HTTP\r\n\r\n", 0, 0},
	};
	start(r, 4);
	cJSON *out = NULL;
	mg_k8s_status st;
	cr_assert_eq(mg_k8s_get(&out, client, &mg_k8s_res_pvc, "ns1", "a", &st), MG_EPARSE);
	cr_assert_eq(mg_k8s_get(&out, client, &mg_k8s_res_pvc, "ns1", "a", &st), MG_EREMOTE);
	cr_assert_eq(st.code, 500);
	cr_assert_eq(mg_k8s_get(&out, client, &mg_k8s_res_pvc, "ns1", "a", &st), MG_ENOTFOUND);
	cr_assert_neq(mg_k8s_get(&out, client, &mg_k8s_res_pvc, "ns1", "a", &st), 0);
	cr_assert_null(out);
}

Test(k8s_canned, slow_server_times_out)
{
	static const kube_canned_resp r[] = {{"HTTP/1.1 200 OK\r\n" HDR_JSON "\r\n{}", 3000, 0}};
	start(r, 1);
	mg_k8s_client_set_timeout_ms(client, 300);
	cJSON *out = NULL;
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	cr_assert_eq(mg_k8s_get(&out, client, &mg_k8s_res_pvc, "ns1", "a", NULL), MG_ETIMEOUT);
	clock_gettime(CLOCK_MONOTONIC, &b);
	cr_assert_lt(b.tv_sec - a.tv_sec, 3);
}

Test(k8s_canned, nobody_listening_is_an_io_error)
{
	mg_k8s_config cfg = {0};
	cfg.server = (char *)"http://127.0.0.1:1";
	cr_assert_eq(mg_k8s_client_new(&client, &cfg), 0);
	cJSON *out = NULL;
	mg_k8s_status st;
	cr_assert_eq(mg_k8s_get(&out, client, &mg_k8s_res_pvc, "ns1", "a", &st), MG_EIO);
	cr_assert_eq(st.code, 0);
	cr_assert_eq(mg_k8s_client_new(&client, &(mg_k8s_config){.server = (char *)"ftp://x"}), MG_EINVAL);
}

struct evs {
	int n, bookmarks;
	char names[16][16];
};

static int on_ev(void *ctx, const char *type, const cJSON *obj)
{
	struct evs *e = ctx;
	if (strcmp(type, "BOOKMARK") == 0) {
		e->bookmarks++;
		return 0;
	}
	const cJSON *n = cJSON_GetObjectItem(cJSON_GetObjectItem(obj, "metadata"), "name");
	if (e->n < 16)
		snprintf(e->names[e->n++], 16, "%s", n ? n->valuestring : "?");
	return 0;
}

/* A watch whose lines arrive split across writes, with a bookmark and then a 410 ERROR. */
Test(k8s_canned, watch_stream_lines_bookmarks_and_expiry)
{
	static const kube_canned_resp r[] = {
		{"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"
		 "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"11\"}}}\n"
		 "{\"type\":\"MODIFIED\",\"obj\f"
		 "ect\":{\"metadata\":{\"name\":\"b\",\"resourceVersion\":\"12\"}}}\n"
		 "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"20\"}}}\n\f"
		 "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,\"reason\":\"Expired\","
		 "\"message\":\"too old resource version: 20 (40)\"}}\n",
		 0, 50},
		{"HTTP/1.1 410 Gone\r\n" HDR_JSON "\r\n{\"kind\":\"Status\",\"code\":410,\"reason\":\"Expired\"}", 0, 0},
		{"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{\"type\":\"ADDED\",\"object\":[1]}\n", 0, 0},
	};
	start(r, 3);
	struct evs e = {0};
	char *last = NULL;
	mg_k8s_status st;
	mg_k8s_watch_opts wo = {.resource_version = "10", .allow_bookmarks = true};
	cr_assert_eq(mg_k8s_watch(client, &mg_k8s_res_pvc, "ns1", &wo, on_ev, &e, &last, &st), MG_EGONE);
	cr_assert_eq(e.n, 2);
	cr_assert_str_eq(e.names[1], "b");
	cr_assert_eq(e.bookmarks, 1);
	cr_assert_str_eq(last, "20", "the bookmark's version is the resume point");
	cr_assert_eq(st.code, 410);
	const char *req = kube_canned_request(srv, 0);
	cr_assert(strstr(req, "watch=1"));
	cr_assert(strstr(req, "resourceVersion=10"));
	cr_assert(strstr(req, "allowWatchBookmarks=true"));
	/* an HTTP 410 answer is the same condition */
	cr_assert_eq(mg_k8s_watch(client, &mg_k8s_res_pvc, "ns1", &wo, on_ev, &e, &last, &st), MG_EGONE);
	/* a malformed event ends the watch with a parse error */
	cr_assert_eq(mg_k8s_watch(client, &mg_k8s_res_pvc, "ns1", &wo, on_ev, &e, &last, &st), MG_EPARSE);
	free(last);
}

#define LIST(rv, items) \
	"HTTP/1.1 200 OK\r\n" HDR_JSON "\r\n{\"kind\":\"PersistentVolumeClaimList\",\"metadata\":{\"resourceVersion\":\"" rv "\"},\"items\":[" items "]}"
#define PVC(name, rv) \
	"{\"metadata\":{\"name\":\"" name "\",\"namespace\":\"ns1\",\"resourceVersion\":\"" rv "\"}}"

struct counts {
	int add, upd, del;
};
static void c_add(void *ctx, const cJSON *o)
{
	(void)o;
	((struct counts *)ctx)->add++;
}
static void c_upd(void *ctx, const cJSON *a, const cJSON *b)
{
	(void)a;
	(void)b;
	((struct counts *)ctx)->upd++;
}
static void c_del(void *ctx, const cJSON *o)
{
	(void)o;
	((struct counts *)ctx)->del++;
}

static int wait_requests(size_t n, long ms)
{
	for (long t = 0; t < ms; t += 20) {
		if (kube_canned_count(srv) >= n)
			return 0;
		usleep(20000);
	}
	return -1;
}

/* list -> watch ends with 410 -> relist (one object gone) -> 429 on the watch -> watch. */
Test(k8s_canned, informer_relists_on_410_and_backs_off_on_429)
{
	static const kube_canned_resp r[] = {
		{LIST("100", PVC("a", "90") "," PVC("b", "95")), 0, 0},
		{"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"
		 "{\"type\":\"MODIFIED\",\"object\":" PVC("a", "101") "}\n"
		 "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,\"reason\":\"Expired\"}}\n",
		 0, 0},
		{LIST("200", PVC("a", "150")), 0, 0},
		{"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\n" HDR_JSON "\r\n{\"kind\":\"Status\",\"code\":429}", 0, 0},
		{"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"
		 "{\"type\":\"ADDED\",\"object\":" PVC("c", "201") "}\n",
		 0, 0},
	};
	start(r, 5);
	struct counts c = {0};
	mg_informer_handlers h = {c_add, c_upd, c_del, &c};
	mg_informer_opts o = {.handlers = &h, .backoff_base_ms = 10, .backoff_cap_ms = 50};
	cr_assert_eq(mg_informer_new(&inf, client, &mg_k8s_res_pvc, &o), 0);
	cr_assert_not(mg_informer_synced(inf));
	cr_assert_eq(mg_informer_start(inf), 0);
	cr_assert_eq(mg_informer_wait_synced(inf, 30000), 0);
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	cr_assert_eq(wait_requests(5, 30000), 0, "the informer did not get through the script");
	clock_gettime(CLOCK_MONOTONIC, &b);
	usleep(200000);
	mg_informer_stop(inf);
	cr_assert_eq(mg_informer_list_count(inf), 2, "410 must trigger exactly one relist");
	/* Retry-After: 1 is honoured even though the backoff cap is 50 ms */
	cr_assert_geq((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000, 900);
	cr_assert_eq(mg_informer_count(inf), 2);
	cJSON *bb = mg_informer_get_copy(inf, "ns1", "b");
	cr_assert_null(bb, "b vanished between the lists");
	cJSON *cc = mg_informer_get_copy(inf, "ns1", "c");
	cr_assert_not_null(cc);
	cJSON_Delete(cc);
	cJSON *aa = mg_informer_get_copy(inf, "ns1", "a");
	cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(aa, "metadata"), "resourceVersion")->valuestring, "150");
	cJSON_Delete(aa);
	cr_assert_eq(c.add, 3);
	cr_assert_eq(c.del, 1);
	cr_assert_geq(c.upd, 2);
	/* the second watch resumed from the relist's version */
	const char *w2 = kube_canned_request(srv, 3);
	cr_assert(strstr(w2, "resourceVersion=200"), "%s", w2);
	cr_assert(strstr(w2, "allowWatchBookmarks=true"));
}

Test(k8s_canned, backoff_is_capped_and_jittered)
{
	cr_assert_eq(mg_k8s_backoff_ms(0, 100, 10000, 0.0), 50);
	cr_assert_eq(mg_k8s_backoff_ms(0, 100, 10000, 0.999999), 99);
	cr_assert_eq(mg_k8s_backoff_ms(3, 100, 10000, 0.0), 400);
	cr_assert_leq(mg_k8s_backoff_ms(30, 100, 10000, 0.999999), 10000);
	cr_assert_geq(mg_k8s_backoff_ms(30, 100, 10000, 0.0), 5000);
	cr_assert_leq(mg_k8s_backoff_ms(1000, 100, 10000, 0.5), 10000);
}

#define KEEP_JSON "Content-Type: application/json\r\n"
#define OK_CM(rv)                                                                              \
	KUBE_CANNED_KEEP "HTTP/1.1 200 OK\r\n" KEEP_JSON "Content-Length: 58\r\n\r\n"                           \
	"{\"kind\":\"ConfigMap\",\"metadata\":{\"resourceVersion\":\"" rv "\"}}"

static const char *rv_of(const cJSON *o)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(o, "metadata"), "resourceVersion");
	return cJSON_IsString(v) ? v->valuestring : "";
}

Test(k8s_canned, sequential_requests_reuse_one_connection)
{
	static const kube_canned_resp r[] = {{OK_CM("1001"), 0, 0},
					     {OK_CM("1002"), 0, 0},
					     {OK_CM("1003"), 0, 0}};
	start(r, 3);
	for (int i = 0; i < 3; i++) {
		cJSON *o = NULL;
		cr_assert_eq(mg_k8s_get(&o, client, &mg_k8s_res_configmap, "ns1", "x", NULL), 0);
		char want[8];
		snprintf(want, sizeof(want), "100%d", i + 1);
		cr_assert_str_eq(rv_of(o), want);
		cJSON_Delete(o);
	}
	cr_assert_eq(kube_canned_count(srv), 3);
	cr_assert_eq(kube_canned_connections(srv), 1, "a new connection per request");
	unsigned long reqs = 0, conns = 0;
	mg_k8s_client_stats(client, &reqs, &conns);
	cr_assert_eq(reqs, 3);
	cr_assert_eq(conns, 1);
}

Test(k8s_canned, a_read_on_a_connection_dropped_mid_request_is_retried_fresh)
{
	/* The server reads the second GET and closes without an answer: a GET is safe to
	 * repeat, so the client does so on a new connection and the caller sees no error. */
	static const kube_canned_resp r[] = {{OK_CM("1001"), 0, 0},
					     {NULL, 0, 0},
					     {OK_CM("1002"), 0, 0}};
	start(r, 3);
	cJSON *o = NULL;
	cr_assert_eq(mg_k8s_get(&o, client, &mg_k8s_res_configmap, "ns1", "x", NULL), 0);
	cJSON_Delete(o);
	o = NULL;
	cr_assert_eq(mg_k8s_get(&o, client, &mg_k8s_res_configmap, "ns1", "x", NULL), 0);
	cr_assert_str_eq(rv_of(o), "1002");
	cJSON_Delete(o);
	cr_assert_eq(kube_canned_count(srv), 3);
	cr_assert_eq(kube_canned_connections(srv), 2);
}

Test(k8s_canned, a_write_on_a_connection_dropped_mid_request_is_never_resent)
{
	/* The server reads the PATCH and closes without answering: it may have applied it.
	 * The client must not send it again on its own; the caller gets MG_EIO and re-reads. */
	static const kube_canned_resp r[] = {{OK_CM("1001"), 0, 0},
					     {NULL, 0, 0},
					     {OK_CM("1002"), 0, 0}};
	start(r, 3);
	cJSON *o = NULL;
	cr_assert_eq(mg_k8s_get(&o, client, &mg_k8s_res_configmap, "ns1", "x", NULL), 0);
	cJSON_Delete(o);
	cJSON *patch = cJSON_Parse("{\"data\":{\"k\":\"v2\"}}");
	mg_k8s_status st;
	o = NULL;
	cr_assert_eq(mg_k8s_patch(&o, client, &mg_k8s_res_configmap, "ns1", "x", NULL,
				  MG_K8S_PATCH_MERGE, patch, &st),
		     MG_EIO);
	cr_assert_null(o);
	cr_assert(strstr(st.message, "not resent"), "%s", st.message);
	cr_assert_eq(kube_canned_count(srv), 2, "the PATCH was sent %zu times",
		     kube_canned_count(srv) - 1);
	const char *req = kube_canned_request(srv, 1);
	cr_assert(strncmp(req, "PATCH /api/v1/namespaces/ns1/configmaps/x HTTP/1.1", 50) == 0,
		  "%s", req);
	cr_assert(strstr(req, "{\"data\":{\"k\":\"v2\"}}"), "the body went out: %s", req);
	/* The next request works, on a fresh connection. */
	cr_assert_eq(mg_k8s_get(&o, client, &mg_k8s_res_configmap, "ns1", "x", NULL), 0);
	cr_assert_str_eq(rv_of(o), "1002");
	cJSON_Delete(o);
	cJSON_Delete(patch);
}

Test(k8s_canned, a_write_after_a_clean_close_goes_out_once_on_a_new_connection)
{
	/* The server answered and closed (Connection: close): curl knows before it sends, so
	 * the write goes out once on a new connection and succeeds. */
	static const kube_canned_resp r[] = {{"HTTP/1.1 200 OK\r\n" HDR_JSON "Content-Length: 2\r\n\r\n{}", 0, 0},
					     {OK_CM("1002"), 0, 0}};
	start(r, 2);
	cJSON *o = NULL;
	cr_assert_eq(mg_k8s_get(&o, client, &mg_k8s_res_configmap, "ns1", "x", NULL), 0);
	cJSON_Delete(o);
	cJSON *patch = cJSON_Parse("{\"data\":{\"k\":\"v2\"}}");
	o = NULL;
	cr_assert_eq(mg_k8s_patch(&o, client, &mg_k8s_res_configmap, "ns1", "x", NULL,
				  MG_K8S_PATCH_MERGE, patch, NULL),
		     0);
	cr_assert_str_eq(rv_of(o), "1002");
	cr_assert_eq(kube_canned_count(srv), 2);
	cr_assert_eq(kube_canned_connections(srv), 2);
	cJSON_Delete(o);
	cJSON_Delete(patch);
}
