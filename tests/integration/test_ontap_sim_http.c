/* ontap-sim's HTTP surface over HTTPS: query conventions (filters, fields, paging), its
 * answers to malformed or oversized input, the control API's validation, start-up errors and
 * real-time mode. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/ontap/client.h"
#include "mirrorgate/ontap/cluster.h"
#include "mirrorgate/ontap/job.h"
#include "mirrorgate/ontap/volume.h"
#include "mirrorgate/util/strbuf.h"
#include "mirrorgate/util/tls.h"
#include "ontap_sim_proc.h"

static ontap_sim_proc P;

static void stop(void) { ontap_sim_stop(&P); }

TestSuite(sim_http, .fini = stop, .timeout = 60);

static const char *k_seed = "clusters:\n"
			    "  - name: cluster-a\n"
			    "    svms:\n"
			    "      - name: svm-a\n"
			    "        volumes:\n"
			    "          - {name: v1, type: rw, size: 1073741824}\n"
			    "          - {name: v2, type: rw, size: 2147483648}\n"
			    "          - {name: v3, type: dp, size: 1073741824}\n";

static int names(mg_ontap_client *c, const char *path, char *out, size_t cap, mg_ontap_error *err)
{
	int status = 0;
	cJSON *body = NULL;
	int rc = mg_ontap_request(c, "GET", path, NULL, &status, &body, err);
	out[0] = '\0';
	if (rc != 0)
		return rc;
	const cJSON *r;
	cJSON_ArrayForEach(r, cJSON_GetObjectItem(body, "records")) {
		size_t n = strlen(out);
		snprintf(out + n, cap - n, "%s%s", n ? "," : "", cJSON_GetObjectItem(r, "name")->valuestring);
	}
	cJSON_Delete(body);
	return 0;
}

Test(sim_http, filters_fields_and_paging)
{
	ontap_sim_start(&P, NULL, NULL);
	cr_assert_eq(ontap_sim_control(&P, "POST", "seed", k_seed, NULL), 200);
	mg_ontap_client *c = ontap_sim_client(&P, 0);
	mg_ontap_error err;
	char got[256];
	cr_assert_eq(names(c, "/api/storage/volumes?name=v1|v3", got, sizeof(got), &err), 0);
	cr_assert_str_eq(got, "v1,v3");
	cr_assert_eq(names(c, "/api/storage/volumes?type=!dp", got, sizeof(got), &err), 0);
	cr_assert_str_eq(got, "v1,v2");
	cr_assert_eq(names(c, "/api/storage/volumes?size=>1500000000", got, sizeof(got), &err), 0);
	cr_assert_str_eq(got, "v2");
	cr_assert_eq(names(c, "/api/storage/volumes?name=v*&svm.name=svm-a&size=<=1073741824", got,
			   sizeof(got), &err), 0);
	cr_assert_str_eq(got, "v1,v3");
	cr_assert_eq(names(c, "/api/storage/volumes?nas.path=null", got, sizeof(got), &err), 0);
	cr_assert_str_eq(got, "v3", "DP volumes are not mounted");

	int status = 0;
	cJSON *body = NULL;
	cr_assert_eq(mg_ontap_request(c, "GET", "/api/storage/volumes?max_records=2&fields=type",
				      NULL, &status, &body, &err), 0);
	cr_assert_eq(cJSON_GetObjectItem(body, "num_records")->valueint, 2);
	const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItem(body, "records"), 0);
	cr_assert_not_null(cJSON_GetObjectItem(first, "type"));
	cr_assert_not_null(cJSON_GetObjectItem(first, "uuid"), "key fields always come back");
	cr_assert_null(cJSON_GetObjectItem(first, "size"), "unrequested fields do not");
	const cJSON *next = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(body, "_links"), "next"), "href");
	cr_assert(cJSON_IsString(next));
	cr_assert(strstr(next->valuestring, "start.uuid="));
	cr_assert(strstr(next->valuestring, "fields=type"), "the next link keeps the query");
	char *href = mg_strdup(next->valuestring);
	cJSON_Delete(body);
	cr_assert_eq(mg_ontap_request(c, "GET", href, NULL, &status, &body, &err), 0);
	free(href);
	cr_assert_eq(cJSON_GetObjectItem(body, "num_records")->valueint, 1);
	cr_assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(body, "_links"), "next"));
	cJSON_Delete(body);

	cr_assert_eq(mg_ontap_request(c, "GET", "/api/storage/volumes?fields=**", NULL, &status, &body, &err), 0);
	cr_assert_not_null(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(body, "records"), 0), "size"));
	cJSON_Delete(body);
	cr_assert_eq(mg_ontap_request(c, "GET", "/api/storage/volumes?fields=name,bogus", NULL, &status, &body, &err),
		     MG_EREMOTE);
	cr_assert_str_eq(err.code, "262197");
	cr_assert(strstr(err.message, "bogus"));
	cr_assert_eq(mg_ontap_request(c, "GET", "/api/storage/volumes?colour=red", NULL, &status, &body, &err),
		     MG_EREMOTE);
	cr_assert_str_eq(err.code, "262179");
	cr_assert_eq(mg_ontap_request(c, "GET", "/api/storage/volumes?max_records=0", NULL, &status, &body, &err),
		     MG_EREMOTE);
	mg_ontap_client_free(c);
}

Test(sim_http, malformed_and_oversized_requests)
{
	ontap_sim_start(&P, NULL, NULL);
	mg_ontap_client *c = ontap_sim_client(&P, 0);
	mg_ontap_error err;
	int status = 0;
	cJSON *body = NULL;
	cr_assert_eq(mg_ontap_request(c, "DELETE", "/api/cluster", NULL, &status, &body, &err), MG_EREMOTE);
	cr_assert_eq(err.http_status, 405);
	cr_assert_eq(mg_ontap_request(c, "GET", "/api/no/such/thing", NULL, &status, &body, &err), MG_ENOTFOUND);
	cr_assert_eq(mg_ontap_request(c, "GET", "/api/snapmirror/relationships/nope", NULL, &status, &body, &err),
		     MG_ENOTFOUND);
	cr_assert_str_eq(err.code, "4");
	cr_assert_str_eq(err.target, "uuid");
	cJSON *big = cJSON_CreateObject();
	char *blob = malloc(1200 * 1024);
	memset(blob, 'x', 1200 * 1024 - 1);
	blob[1200 * 1024 - 1] = '\0';
	cJSON_AddStringToObject(big, "name", blob);
	free(blob);
	cr_assert_eq(mg_ontap_request(c, "POST", "/api/storage/volumes", big, &status, &body, &err), MG_EREMOTE);
	cr_assert_eq(err.http_status, 413);
	cJSON_Delete(big);
	cJSON *odd = cJSON_CreateArray();
	cr_assert_eq(mg_ontap_request(c, "POST", "/api/snapmirror/relationships", odd, &status, &body, &err),
		     MG_EREMOTE);
	cr_assert_eq(err.http_status, 400);
	cJSON_Delete(odd);
	cJSON *xfer = cJSON_Parse("{\"state\":\"paused\"}");
	cr_assert_eq(mg_ontap_request(c, "POST", "/api/storage/volumes", xfer, &status, &body, &err), MG_EREMOTE);
	cr_assert_str_eq(err.code, "2621707", "svm is required");
	cJSON_Delete(xfer);
	mg_ontap_client_free(c);
}

Test(sim_http, control_api_validates_its_input)
{
	ontap_sim_start(&P, NULL, NULL);
	struct {
		const char *method, *path, *body;
		int status;
	} cases[] = {
		{"POST", "clock/advance", "{\"ms\":-5}", 400},
		{"POST", "clock/advance", "not json", 400},
		{"POST", "faults", "{}", 400},
		{"POST", "faults", "{\"type\":\"request\",\"path\":\"*\"}", 400},
		{"POST", "faults", "{\"type\":\"request\",\"status\":200}", 400},
		{"POST", "faults", "{\"type\":\"job\",\"mode\":\"explode\"}", 400},
		{"POST", "faults", "{\"type\":\"transfer\",\"mode\":\"slow\"}", 400},
		{"POST", "faults", "{\"type\":\"peer\",\"cluster\":\"nope\"}", 400},
		{"POST", "faults", "{\"type\":\"meteor\"}", 400},
		{"POST", "volumes/write", "{\"cluster\":\"cluster-a\",\"path\":\"svm-a:none\"}", 404},
		{"POST", "snapshots/delete", "{\"cluster\":\"nope\"}", 404},
		{"POST", "clusters", "{\"cluster\":\"cluster-a\",\"version\":\"nine\"}", 400},
		{"POST", "clusters", "{\"cluster\":\"nope\"}", 400},
		{"POST", "clusters", "{\"cluster\":\"cluster-a\",\"password\":\"\"}", 400},
		{"POST", "clusters", "{\"cluster\":\"cluster-a\",\"password\":7}", 400},
		{"POST", "settings", "{\"warp\":9}", 400},
		{"POST", "settings", "{\"job_run_ms\":-1}", 400},
		{"POST", "seed", "clusters:\n  - name: brand-new\n    password: x\n", 400},
		{"POST", "seed", "clusters: [unclosed\n", 400},
		{"POST", "seed", "volumes: []\n", 400},
		{"GET", "nothing-here", NULL, 404},
		{"POST", "settings", "{\"transfer_ms\":100}", 200},
		{"GET", "state", NULL, 200},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *out = NULL;
		int st = ontap_sim_control(&P, cases[i].method, cases[i].path, cases[i].body, &out);
		cr_assert_eq(st, cases[i].status, "case %zu (%s %s): %d", i, cases[i].method,
			     cases[i].path, st);
		if (st >= 400)
			cr_assert_not_null(cJSON_GetObjectItem(cJSON_GetObjectItem(out, "error"), "message"),
					   "case %zu explains itself", i);
		cJSON_Delete(out);
	}
	/* A DP volume takes no client writes. */
	mg_ontap_client *c = ontap_sim_client(&P, 1);
	mg_ontap_error err;
	mg_ontap_volume_spec spec = {"svm-b", "ro", "dp", 1u << 30, NULL};
	cr_assert_eq(mg_ontap_volume_create(c, &spec, NULL, &err), 0);
	cr_assert_eq(ontap_sim_control(&P, "POST", "volumes/write",
				       "{\"cluster\":\"cluster-b\",\"path\":\"svm-b:ro\"}", NULL), 400);
	cJSON *state = NULL;
	cr_assert_eq(ontap_sim_control(&P, "GET", "state", NULL, &state), 200);
	const cJSON *v = cJSON_GetArrayItem(cJSON_GetObjectItem(state, "volumes"), 0);
	cr_assert_eq(cJSON_GetObjectItem(v, "afs_generation")->valueint, 0, "an empty DP volume");
	cJSON_Delete(state);
	mg_ontap_client_free(c);
}

static int run_sim(const char *const *args)
{
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		freopen("/dev/null", "w", stdout);
		freopen("/dev/null", "w", stderr);
		execv(args[0], (char *const *)args);
		_exit(127);
	}
	int status = 0;
	for (int i = 0; i < 200; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		struct timespec ts = {0, 50000000L};
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -2; /* still running: it should have refused to start */
}

Test(sim_http, bad_start_up_input_is_refused)
{
	const char *bin = MG_BIN_DIR "/ontap-sim";
	const char *missing[] = {bin, "--config", "/nonexistent/topology.yaml", NULL};
	cr_assert_eq(run_sim(missing), 2);
	const char *unknown[] = {bin, "--frobnicate", NULL};
	cr_assert_eq(run_sim(unknown), 2);
	const char *novalue[] = {bin, "--config", NULL};
	cr_assert_eq(run_sim(novalue), 2);
	char path[] = "/tmp/mg-ontap-bad-XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	close(fd);
	const char *bad[] = {"clusters: [{name: x}]\n", /* no password */
			     "clusters: [{name: x, password: p, version: ten}]\n",
			     "peers: [{cluster: a, svm: b, peer_cluster: c, peer_svm: d}]\n",
			     "clusters: [{name: x, password: p, svms: [{name: s, volumes: [{name: v, type: ls}]}]}]\n",
			     "{]\n", "settings: {}\n",
			     "clusters: [{name: x, password: p}, {name: x, password: q}]\n",
			     "clusters: [{name: x, password: p, svms: [{name: s}]}, {name: y, password: q, svms: [{name: s}]}]\n",
			     "clusters: {name: x}\n"};
	const char *args[] = {bin, "--config", path, NULL};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(mg_write_file_atomic(path, bad[i], strlen(bad[i]), 0600), 0);
		cr_assert_eq(run_sim(args), 2, "topology %zu is refused", i);
	}
	unlink(path);
}

Test(sim_http, realtime_mode_finishes_jobs_on_the_wall_clock)
{
	const char *extra[] = {"--realtime", NULL};
	ontap_sim_start(&P, NULL, extra);
	mg_ontap_config cfg;
	ontap_sim_client_config(&P, 0, &cfg);
	cfg.now_ms = NULL; /* real clock and real sleep */
	cfg.sleep_ms = NULL;
	cfg.clock_ctx = NULL;
	cfg.job_deadline_ms = 10000;
	mg_ontap_client *c = NULL;
	cr_assert_eq(mg_ontap_client_new(&c, &cfg), 0);
	mg_ontap_error err;
	mg_ontap_volume v;
	mg_ontap_volume_spec spec = {"svm-a", "rt", "rw", 1u << 30, NULL};
	cr_assert_eq(mg_ontap_volume_create(c, &spec, &v, &err), 0, "%s", err.message);
	cr_assert_str_eq(v.name, "rt");
	mg_ontap_client_free(c);
}

Test(sim_http, return_timeout_waits_for_the_job)
{
	ontap_sim_start(&P, NULL, NULL);
	mg_ontap_client *c = ontap_sim_client(&P, 0);
	mg_ontap_error err;
	int status = 0;
	cJSON *body = cJSON_Parse("{\"svm\":{\"name\":\"svm-a\"},\"name\":\"quick\",\"size\":1073741824}");
	cJSON *resp = NULL;
	cr_assert_eq(mg_ontap_request(c, "POST", "/api/storage/volumes?return_timeout=5", body, &status,
				      &resp, &err), 0, "%s", err.message);
	cr_assert_eq(status, 201, "done within the window");
	cr_assert_not_null(cJSON_GetObjectItem(resp, "job"), "the job is still named");
	cr_assert_eq(mg_ontap_job_wait_response(c, resp, &err), 0);
	cJSON_Delete(resp);
	mg_ontap_volume v;
	cr_assert_eq(mg_ontap_volume_get(c, "svm-a", "quick", &v, &err), 0);
	/* A failure inside the window comes back as the error itself. */
	cr_assert_eq(mg_ontap_request(c, "POST", "/api/storage/volumes?return_timeout=5", body, &status,
				      &resp, &err), MG_EREMOTE);
	cr_assert_str_eq(err.code, "917526");
	cr_assert_eq(err.http_status, 400);
	/* Longer than the window: the usual 202. */
	cr_assert_eq(ontap_sim_control(&P, "POST", "settings", "{\"job_run_ms\":60000}", NULL), 200);
	cJSON_ReplaceItemInObject(body, "name", cJSON_CreateString("slow"));
	cr_assert_eq(mg_ontap_request(c, "POST", "/api/storage/volumes?return_timeout=2", body, &status,
				      &resp, &err), 0);
	cr_assert_eq(status, 202);
	cJSON_Delete(resp);
	cr_assert_eq(mg_ontap_request(c, "POST", "/api/storage/volumes?return_timeout=500", body,
				      &status, &resp, &err), MG_EREMOTE);
	cr_assert_str_eq(err.target, "return_timeout");
	cJSON_Delete(body);
	mg_ontap_client_free(c);
}

Test(sim_http, slow_clients_are_disconnected)
{
	const char *extra[] = {"--idle-timeout", "1", NULL};
	ontap_sim_start(&P, NULL, extra);
	const char *colon = strrchr(P.clusters[0].url, ':');
	cr_assert_not_null(colon);
	int port = (int)strtol(colon + 1, NULL, 10);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(fd >= 0);
	struct sockaddr_in addr = {0};
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	/* Half a TLS record header, then silence. */
	cr_assert_eq(write(fd, "\x16\x03", 2), 2);
	struct timeval tv = {5, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	char buf[256];
	ssize_t n;
	size_t total = 0;
	/* At most a TLS alert, then end of stream. */
	while ((n = read(fd, buf, sizeof(buf))) > 0 && total < 4096)
		total += (size_t)n;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	close(fd);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	cr_assert_eq(n, 0, "the server closes the connection");
	cr_assert(total < 64, "nothing but an alert was sent (%zu bytes)", total);
	cr_assert(secs < 4.5, "closed after %.1f s, before the client's own 5 s timeout", secs);
	/* The listener still serves others. */
	mg_ontap_client *c = ontap_sim_client(&P, 0);
	mg_ontap_error err;
	mg_ontap_volume v;
	cr_assert_eq(mg_ontap_volume_get(c, "svm-a", "none", &v, &err), MG_ENOTFOUND);
	mg_ontap_client_free(c);
	const char *bad[] = {MG_BIN_DIR "/ontap-sim", "--idle-timeout", "0", NULL};
	cr_assert_eq(run_sim(bad), 2);
}

Test(sim_http, listeners_that_cannot_start_are_reported)
{
	const char *bin = MG_BIN_DIR "/ontap-sim";
	const char *badaddr[] = {bin, "--bind", "not-an-address", NULL};
	cr_assert_eq(run_sim(badaddr), 2);
	/* A port somebody else holds. */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(fd >= 0);
	struct sockaddr_in addr = {0};
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	cr_assert_eq(listen(fd, 1), 0);
	socklen_t len = sizeof(addr);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
	char yaml[256];
	snprintf(yaml, sizeof(yaml), "clusters: [{name: x, password: p, port: %d}]\n", ntohs(addr.sin_port));
	char path[] = "/tmp/mg-ontap-port-XXXXXX";
	int tmp = mkstemp(path);
	cr_assert(tmp >= 0);
	close(tmp);
	cr_assert_eq(mg_write_file_atomic(path, yaml, strlen(yaml), 0600), 0);
	const char *busy[] = {bin, "--config", path, NULL};
	cr_assert_eq(run_sim(busy), 2);
	unlink(path);
	close(fd);
}

/* A password changed through the control API: the old one gets 401 at once (the client
 * maps it to MG_EAUTH), the new one works; a refused change leaves the password alone. */
Test(sim_http, control_api_rotates_a_password)
{
	ontap_sim_start(&P, NULL, NULL);
	mg_ontap_client *old = ontap_sim_client(&P, 0);
	mg_ontap_error err;
	mg_ontap_cluster cl;
	cr_assert_eq(mg_ontap_cluster_get(old, &cl, &err), 0, "%s", err.message);
	cJSON *out = NULL;
	cr_assert_eq(ontap_sim_control(&P, "POST", "clusters",
				       "{\"cluster\":\"cluster-a\",\"password\":\"rotated-a\"}", &out),
		     200);
	char *text = cJSON_PrintUnformatted(out);
	cr_expect_null(strstr(text, "rotated-a"), "the answer does not echo the password: %s", text);
	free(text);
	cJSON_Delete(out);
	cr_expect_eq(mg_ontap_cluster_get(old, &cl, &err), MG_EAUTH);
	cr_expect_eq(err.http_status, 401);
	mg_ontap_config cfg;
	ontap_sim_client_config(&P, 0, &cfg);
	cfg.password = "rotated-a";
	mg_ontap_client *fresh = NULL;
	cr_assert_eq(mg_ontap_client_new(&fresh, &cfg), 0);
	cr_expect_eq(mg_ontap_cluster_get(fresh, &cl, &err), 0, "%s", err.message);
	/* a refused change (bad version) does not half-apply the password */
	cr_assert_eq(ontap_sim_control(&P, "POST", "clusters",
				       "{\"cluster\":\"cluster-a\",\"password\":\"other\","
				       "\"version\":\"nine\"}",
				       NULL),
		     400);
	cr_expect_eq(mg_ontap_cluster_get(fresh, &cl, &err), 0, "%s", err.message);
	/* cluster-b is untouched */
	mg_ontap_client *b = ontap_sim_client(&P, 1);
	cr_expect_eq(mg_ontap_cluster_get(b, &cl, &err), 0, "%s", err.message);
	mg_ontap_client_free(b);
	mg_ontap_client_free(fresh);
	mg_ontap_client_free(old);
}
