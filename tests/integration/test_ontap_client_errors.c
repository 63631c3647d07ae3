/* The ONTAP client's error paths against the real ontap-sim: typed errors, authentication,
 * TLS, job polling (failure, stuck past the deadline, purged), paging, version-gated fields,
 * transport faults, and what the debug log may contain. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/util/log.h"
#include "mirrorgate/ontap/client.h"
#include "mirrorgate/ontap/cluster.h"
#include "mirrorgate/ontap/job.h"
#include "mirrorgate/ontap/snapmirror.h"
#include "mirrorgate/ontap/volume.h"
#include "mirrorgate/util/tls.h"
#include "ontap_sim_proc.h"

static ontap_sim_proc P;

static void stop(void) { ontap_sim_stop(&P); }

TestSuite(ontap_err, .fini = stop, .timeout = 60);

static void fault(const char *json)
{
	cJSON *out = NULL;
	int st = ontap_sim_control(&P, "POST", "faults", json, &out);
	cr_assert_eq(st, 200, "fault %s refused: %s", json, out ? cJSON_PrintUnformatted(out) : "");
	cJSON_Delete(out);
}

static void establish(mg_ontap_client *ca, mg_ontap_client *cb, const char *name, char uuid[64])
{
	mg_ontap_error err;
	char dp[64], sp[96], dpp[96];
	snprintf(dp, sizeof(dp), "%s_dp", name);
	snprintf(sp, sizeof(sp), "svm-a:%s", name);
	snprintf(dpp, sizeof(dpp), "svm-b:%s", dp);
	mg_ontap_volume_spec s1 = {"svm-a", name, "rw", 1u << 30, NULL};
	mg_ontap_volume_spec s2 = {"svm-b", dp, "dp", 1u << 30, NULL};
	cr_assert_eq(mg_ontap_volume_create(ca, &s1, NULL, &err), 0, "%s", err.message);
	cr_assert_eq(mg_ontap_volume_create(cb, &s2, NULL, &err), 0, "%s", err.message);
	mg_ontap_relationship_spec rs = {sp, dpp, "MirrorAllSnapshots", NULL};
	cr_assert_eq(mg_ontap_relationship_create(cb, &rs, uuid, &err), 0, "%s", err.message);
	cr_assert_eq(mg_ontap_transfer_start(cb, uuid, NULL, NULL, &err), 0, "%s", err.message);
	ontap_sim_advance(&P, 5000);
}

Test(ontap_err, configuration_is_validated)
{
	mg_ontap_client *c = NULL;
	mg_ontap_config cfg = {0};
	cfg.base_url = "http://127.0.0.1:1";
	cfg.username = "u";
	cfg.password = "p";
	cfg.ca_file = "/nonexistent";
	cr_assert_eq(mg_ontap_client_new(&c, &cfg), MG_EINVAL, "plain http is refused");
	cfg.base_url = "https://127.0.0.1:1";
	cfg.client_cert_file = "c.pem";
	cfg.client_key_file = "k.pem";
	cr_assert_eq(mg_ontap_client_new(&c, &cfg), MG_EINVAL, "two auth methods");
	cfg.client_cert_file = cfg.client_key_file = NULL;
	cfg.ca_file = NULL;
	cr_assert_eq(mg_ontap_client_new(&c, &cfg), MG_EINVAL, "no CA without insecure");
	cfg.password = NULL;
	cfg.insecure = true;
	cr_assert_eq(mg_ontap_client_new(&c, &cfg), MG_EINVAL, "user without password");
	cr_assert_null(c);
	mg_ontap_client_free(NULL);
}

Test(ontap_err, wrong_password_is_an_auth_error)
{
	ontap_sim_start(&P, NULL, NULL);
	mg_ontap_config cfg;
	ontap_sim_client_config(&P, 0, &cfg);
	cfg.password = "not-the-password";
	mg_ontap_client *c = NULL;
	cr_assert_eq(mg_ontap_client_new(&c, &cfg), 0);
	mg_ontap_error err;
	mg_ontap_cluster cl;
	cr_assert_eq(mg_ontap_cluster_get(c, &cl, &err), MG_EAUTH);
	cr_assert(mg_ontap_err_is_auth(&err));
	cr_assert_eq(err.http_status, 401);
	cr_assert_eq(err.source, MG_ONTAP_SRC_HTTP);
	mg_ontap_client_free(c);
	/* The other cluster has its own credentials. */
	ontap_sim_client_config(&P, 1, &cfg);
	cfg.password = "password-a";
	cr_assert_eq(mg_ontap_client_new(&c, &cfg), 0);
	cr_assert_eq(mg_ontap_cluster_get(c, &cl, &err), MG_EAUTH);
	mg_ontap_client_free(c);
}

static const char *k_topology =
	"clusters:\n"
	"  - name: east\n"
	"    version: 9.8.0\n"
	"    password: password-a\n"
	"    readonly_username: viewer\n"
	"    readonly_password: viewer-pw\n"
	"    svms:\n"
	"      - name: svm-a\n"
	"        volumes:\n"
	"          - {name: seeded, type: rw, size: 2147483648}\n"
	"  - name: west\n"
	"    version: 9.8.0\n"
	"    password: password-b\n"
	"    svms:\n"
	"      - name: svm-b\n"
	"peers:\n"
	"  - {cluster: east, svm: svm-a, peer_cluster: west, peer_svm: svm-b}\n";

Test(ontap_err, readonly_user_may_read_but_not_write)
{
	ontap_sim_start(&P, k_topology, NULL);
	mg_ontap_config cfg;
	ontap_sim_client_config(&P, 0, &cfg);
	cfg.username = "viewer";
	cfg.password = "viewer-pw";
	mg_ontap_client *c = NULL;
	cr_assert_eq(mg_ontap_client_new(&c, &cfg), 0);
	mg_ontap_error err;
	mg_ontap_volume v;
	cr_assert_eq(mg_ontap_volume_get(c, "svm-a", "seeded", &v, &err), 0, "%s", err.message);
	cr_assert_eq(v.size, 2147483648u, "the YAML topology seeded it");
	mg_ontap_volume_spec spec = {"svm-a", "new", "rw", 1u << 30, NULL};
	cr_assert_eq(mg_ontap_volume_create(c, &spec, NULL, &err), MG_EAUTH);
	cr_assert_eq(err.http_status, 403);
	cr_assert(mg_ontap_err_is_auth(&err));
	mg_ontap_client_free(c);
}

Test(ontap_err, wrong_ca_is_a_tls_error_and_insecure_skips_it)
{
	ontap_sim_start(&P, NULL, NULL);
	mg_pem_pair other = {0};
	cr_assert_eq(mg_tls_make_ca(&other, "someone else", 1), 0);
	mg_ontap_config cfg;
	ontap_sim_client_config(&P, 0, &cfg);
	cfg.ca_file = NULL;
	cfg.ca_pem = other.cert_pem;
	mg_ontap_client *c = NULL;
	cr_assert_eq(mg_ontap_client_new(&c, &cfg), 0);
	mg_ontap_error err;
	mg_ontap_cluster cl;
	cr_assert_eq(mg_ontap_cluster_get(c, &cl, &err), MG_ETLS);
	cr_assert(mg_ontap_err_is_tls(&err));
	cr_assert(mg_ontap_err_is_transport(&err));
	cr_assert_eq(err.http_status, 0);
	mg_ontap_client_free(c);
	cfg.ca_pem = NULL;
	cfg.insecure = true;
	cr_assert_eq(mg_ontap_client_new(&c, &cfg), 0);
	cr_assert_eq(mg_ontap_cluster_get(c, &cl, &err), 0, "insecure (labs only) connects");
	mg_ontap_client_free(c);
	mg_pem_pair_free(&other);
}

Test(ontap_err, client_certificate_login)
{
	mg_pem_pair ca = {0}, good = {0}, bad = {0};
	cr_assert_eq(mg_tls_make_ca(&ca, "client-ca", 1), 0);
	cr_assert_eq(mg_tls_make_leaf(&good, &ca, "admin", NULL, 0, 1, true), 0);
	cr_assert_eq(mg_tls_make_leaf(&bad, &ca, "intruder", NULL, 0, 1, true), 0);
	char dir[] = "/tmp/mg-ontap-cert-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char ca_path[64], cert[64], key[64], bcert[64], bkey[64];
	snprintf(ca_path, sizeof(ca_path), "%s/ca.pem", dir);
	snprintf(cert, sizeof(cert), "%s/c.pem", dir);
	snprintf(key, sizeof(key), "%s/k.pem", dir);
	snprintf(bcert, sizeof(bcert), "%s/bc.pem", dir);
	snprintf(bkey, sizeof(bkey), "%s/bk.pem", dir);
	cr_assert_eq(mg_write_file_atomic(ca_path, ca.cert_pem, strlen(ca.cert_pem), 0600), 0);
	cr_assert_eq(mg_write_file_atomic(cert, good.cert_pem, strlen(good.cert_pem), 0600), 0);
	cr_assert_eq(mg_write_file_atomic(key, good.key_pem, strlen(good.key_pem), 0600), 0);
	cr_assert_eq(mg_write_file_atomic(bcert, bad.cert_pem, strlen(bad.cert_pem), 0600), 0);
	cr_assert_eq(mg_write_file_atomic(bkey, bad.key_pem, strlen(bad.key_pem), 0600), 0);
	const char *extra[] = {"--client-ca", ca_path, NULL};
	ontap_sim_start(&P, NULL, extra);
	mg_ontap_config cfg;
	ontap_sim_client_config(&P, 0, &cfg);
	cfg.username = cfg.password = NULL;
	cfg.client_cert_file = cert;
	cfg.client_key_file = key;
	mg_ontap_client *c = NULL;
	cr_assert_eq(mg_ontap_client_new(&c, &cfg), 0);
	mg_ontap_error err;
	mg_ontap_cluster cl;
	cr_assert_eq(mg_ontap_cluster_get(c, &cl, &err), 0, "%s", err.message);
	cr_assert_str_eq(cl.name, "cluster-a");
	mg_ontap_client_free(c);
	cfg.client_cert_file = bcert;
	cfg.client_key_file = bkey;
	cr_assert_eq(mg_ontap_client_new(&c, &cfg), 0);
	cr_assert_eq(mg_ontap_cluster_get(c, &cl, &err), MG_EAUTH, "CN is not a user");
	mg_ontap_client_free(c);
	/* the same pair as PEM text (a Kubernetes Secret's, no files) */
	cfg.client_cert_file = cfg.client_key_file = NULL;
	cfg.client_cert_pem = good.cert_pem;
	cfg.client_key_pem = good.key_pem;
	cr_assert_eq(mg_ontap_client_new(&c, &cfg), 0);
	cr_assert_eq(mg_ontap_cluster_get(c, &cl, &err), 0, "%s", err.message);
	mg_ontap_client_free(c);
	/* one source for the pair: not files and text, not half of either */
	cfg.client_cert_file = cert;
	cr_assert_neq(mg_ontap_client_new(&c, &cfg), 0);
	cfg.client_cert_file = NULL;
	cfg.client_key_pem = NULL;
	cr_assert_neq(mg_ontap_client_new(&c, &cfg), 0);
	const char *files[] = {ca_path, cert, key, bcert, bkey};
	for (size_t i = 0; i < 5; i++)
		unlink(files[i]);
	rmdir(dir);
	mg_pem_pair_free(&ca);
	mg_pem_pair_free(&good);
	mg_pem_pair_free(&bad);
}

Test(ontap_err, failed_job_carries_its_code)
{
	ontap_sim_start(&P, NULL, NULL);
	mg_ontap_client *ca = ontap_sim_client(&P, 0), *cb = ontap_sim_client(&P, 1);
	char uuid[64];
	establish(ca, cb, "j1", uuid);
	fault("{\"type\":\"job\",\"mode\":\"fail\",\"match\":\"PATCH *\",\"code\":13303808,"
	      "\"message\":\"Transition to broken_off state failed. Reason:Another transfer is in progress.\"}");
	mg_ontap_error err;
	mg_ontap_state_change brk = {"broken_off", NULL, false, false};
	cr_assert_eq(mg_ontap_relationship_set_state(cb, uuid, &brk, &err), MG_EREMOTE);
	cr_assert_eq(err.source, MG_ONTAP_SRC_JOB);
	cr_assert_str_eq(err.code, "13303808");
	cr_assert(mg_ontap_err_is_transfer_in_progress(&err));
	cr_assert(err.job_uuid[0]);
	cr_assert(strstr(err.message, "Another transfer"));
	/* A real refusal from the state machine surfaces the same way. */
	mg_ontap_volume_spec dup = {"svm-a", "j1", "rw", 1u << 30, NULL};
	cr_assert_eq(mg_ontap_volume_create(ca, &dup, NULL, &err), MG_EREMOTE);
	cr_assert_str_eq(err.code, "917526");
	cr_assert_eq(err.source, MG_ONTAP_SRC_JOB);
	mg_ontap_volume_spec nosvm = {"svm-x", "v", "rw", 1u << 30, NULL};
	cr_assert_eq(mg_ontap_volume_create(ca, &nosvm, NULL, &err), MG_EREMOTE);
	cr_assert_str_eq(err.code, "2621462");
	cr_assert_eq(err.http_status, 400);
	mg_ontap_client_free(ca);
	mg_ontap_client_free(cb);
}

Test(ontap_err, stuck_job_is_an_unknown_outcome_at_the_deadline)
{
	ontap_sim_start(&P, NULL, NULL);
	mg_ontap_config cfg;
	ontap_sim_client_config(&P, 0, &cfg);
	cfg.job_deadline_ms = 20000;
	mg_ontap_client *c = NULL;
	cr_assert_eq(mg_ontap_client_new(&c, &cfg), 0);
	fault("{\"type\":\"job\",\"mode\":\"stuck\",\"match\":\"POST /api/storage/volumes\"}");
	uint64_t before = P.client_now_ms;
	mg_ontap_error err;
	mg_ontap_volume_spec spec = {"svm-a", "slow", "rw", 1u << 30, NULL};
	cr_assert_eq(mg_ontap_volume_create(c, &spec, NULL, &err), MG_EUNKNOWN);
	cr_assert(mg_ontap_err_is_unknown_outcome(&err));
	cr_assert(err.job_uuid[0]);
	uint64_t waited = P.client_now_ms - before;
	cr_assert(waited >= 20000 && waited <= 20000 + 4000, "waited %llu ms of virtual time",
		  (unsigned long long)waited);
	/* Capped backoff: 250, 500, 1000, 2000, 4000, 4000 ... -> about 9 polls in 20 s. */
	int polls = ontap_sim_count_requests(&P, NULL, "GET", "/api/cluster/jobs/");
	cr_assert(polls >= 6 && polls <= 12, "%d polls", polls);
	mg_ontap_client_free(c);
}

Test(ontap_err, purged_job_is_an_unknown_outcome_and_the_object_tells_the_truth)
{
	ontap_sim_start(&P, NULL, NULL);
	mg_ontap_client *c = ontap_sim_client(&P, 0);
	fault("{\"type\":\"job\",\"mode\":\"purge\",\"match\":\"POST /api/storage/volumes\"}");
	mg_ontap_error err;
	mg_ontap_volume_spec spec = {"svm-a", "ghost", "rw", 1u << 30, NULL};
	cr_assert_eq(mg_ontap_volume_create(c, &spec, NULL, &err), MG_EUNKNOWN);
	cr_assert(mg_ontap_err_is_unknown_outcome(&err));
	cr_assert(!mg_ontap_err_is_not_found(&err), "unknown is not not-found");
	mg_ontap_volume v;
	cr_assert_eq(mg_ontap_volume_get(c, "svm-a", "ghost", &v, &err), 0,
		     "re-reading shows the create did happen");
	mg_ontap_job job;
	cr_assert_eq(mg_ontap_job_get(c, "00000000-0000-0000-0000-000000000000", &job, &err), MG_ENOTFOUND);
	mg_ontap_client_free(c);
}

Test(ontap_err, paging_follows_next_links)
{
	ontap_sim_start(&P, NULL, NULL);
	mg_ontap_config cfg;
	ontap_sim_client_config(&P, 0, &cfg);
	cfg.page_size = 2;
	mg_ontap_client *c = NULL;
	cr_assert_eq(mg_ontap_client_new(&c, &cfg), 0);
	mg_ontap_error err;
	mg_ontap_volume v;
	mg_ontap_volume_spec spec = {"svm-a", "paged", "rw", 1u << 30, NULL};
	cr_assert_eq(mg_ontap_volume_create(c, &spec, &v, &err), 0);
	for (int i = 0; i < 5; i++) {
		char name[16];
		snprintf(name, sizeof(name), "s%d", i);
		cr_assert_eq(mg_ontap_snapshot_create(c, v.uuid, name, NULL, &err), 0);
	}
	mg_ontap_snapshot_list l;
	cr_assert_eq(mg_ontap_snapshots(c, v.uuid, &l, &err), 0);
	cr_assert_eq(l.len, 5);
	for (size_t i = 0; i < 5; i++) {
		char name[16];
		snprintf(name, sizeof(name), "s%zu", i);
		cr_assert_str_eq(l.items[i].name, name, "order kept across pages");
	}
	mg_ontap_snapshot_list_free(&l);
	cr_assert_eq(ontap_sim_count_requests(&P, NULL, "GET", "start.uuid="), 2, "pages 2 and 3");
	mg_ontap_client_free(c);
}

Test(ontap_err, version_gated_fields_on_ontap_9_8)
{
	ontap_sim_start(&P, NULL, NULL);
	cr_assert_eq(ontap_sim_control(&P, "POST", "clusters",
				       "{\"cluster\":\"cluster-b\",\"version\":\"9.8.0\"}", NULL), 200);
	mg_ontap_client *ca = ontap_sim_client(&P, 0), *cb = ontap_sim_client(&P, 1);
	char uuid[64];
	establish(ca, cb, "v98", uuid);
	mg_ontap_error err;
	mg_ontap_relationship r;
	cr_assert_eq(mg_ontap_relationship_get_uuid(cb, uuid, &r, &err), 0, "%s", err.message);
	cr_assert_str_eq(r.state, "snapmirrored");
	cr_assert_str_eq(r.last_transfer_type, "", "9.8 has no last_transfer_type");
	cr_assert_eq(ontap_sim_count_requests(&P, "cluster-b", "GET", "last_transfer_type"), 0,
		     "the client never asks 9.8 for it");
	cr_assert_eq(ontap_sim_count_requests(&P, "cluster-b", "GET", "end_time,error"), 0,
		     "nor for job.error");
	cr_assert_geq(ontap_sim_count_requests(&P, "cluster-b", "GET", "/api/cluster/jobs/"), 1);
	/* Asking anyway fails the whole request, as ONTAP does. */
	int status = 0;
	cJSON *body = NULL;
	cr_assert_eq(mg_ontap_request(cb, "GET", "/api/snapmirror/relationships?fields=last_transfer_type",
				      NULL, &status, &body, &err), MG_EREMOTE);
	cr_assert(mg_ontap_err_is_invalid_fields(&err));
	cr_assert_str_eq(err.target, "fields");
	cr_assert_eq(err.http_status, 400);
	/* The 9.13 cluster is asked for (and answers) the longer list. */
	mg_ontap_relationship_list l;
	cr_assert_eq(mg_ontap_relationship_list_destinations(ca, NULL, &l, &err), 0);
	cr_assert_eq(l.len, 1);
	mg_ontap_relationship_list_free(&l);
	cr_assert_geq(ontap_sim_count_requests(&P, "cluster-a", "GET", "last_transfer_type"), 1);
	/* A failed job on 9.8 has only the integer code: still typed. */
	fault("{\"type\":\"job\",\"mode\":\"fail\",\"match\":\"PATCH *\",\"code\":6619715,"
	      "\"message\":\"Modification of relationship is in progress.\"}");
	mg_ontap_state_change q = {"paused", NULL, false, false};
	cr_assert_eq(mg_ontap_relationship_set_state(cb, uuid, &q, &err), MG_EREMOTE);
	cr_assert_str_eq(err.code, "6619715");
	cr_assert(mg_ontap_err_is_modification_in_progress(&err));
	mg_ontap_client_free(ca);
	mg_ontap_client_free(cb);
}

Test(ontap_err, injected_http_errors_are_typed)
{
	ontap_sim_start(&P, NULL, NULL);
	mg_ontap_client *c = ontap_sim_client(&P, 0);
	mg_ontap_error err;
	mg_ontap_cluster cl;
	fault("{\"type\":\"request\",\"path\":\"/api/cluster\",\"status\":409,\"code\":\"6619720\","
	      "\"message\":\"Relationship information is being updated; retry.\",\"target\":\"uuid\"}");
	cr_assert_eq(mg_ontap_cluster_get(c, &cl, &err), MG_ECONFLICT);
	cr_assert(mg_ontap_err_is_modification_in_progress(&err));
	cr_assert_str_eq(err.target, "uuid");
	cr_assert_eq(mg_ontap_cluster_get(c, &cl, &err), 0, "count 1: the next call succeeds");
	fault("{\"type\":\"request\",\"path\":\"/api/cluster\",\"status\":500}");
	cr_assert_eq(mg_ontap_cluster_get(c, &cl, &err), MG_EREMOTE);
	cr_assert_eq(err.http_status, 500);
	fault("{\"type\":\"request\",\"path\":\"/api/cluster\",\"status\":404,\"code\":\"4\"}");
	cr_assert_eq(mg_ontap_cluster_get(c, &cl, &err), MG_ENOTFOUND);
	mg_ontap_client_free(c);
}

Test(ontap_err, dropped_connections_and_timeouts)
{
	ontap_sim_start(&P, NULL, NULL);
	mg_ontap_config cfg;
	mg_ontap_client *c = ontap_sim_client(&P, 0);
	mg_ontap_error err;
	mg_ontap_cluster cl;
	fault("{\"type\":\"request\",\"method\":\"GET\",\"path\":\"/api/cluster\",\"drop\":true}");
	cr_assert_eq(mg_ontap_cluster_get(c, &cl, &err), 0, "one dropped GET is retried: %s", err.message);
	/* libcurl itself reconnects once when a reused connection dies, then the client retries
	 * once more: four drops in a row get through as a transport error. */
	fault("{\"type\":\"request\",\"method\":\"GET\",\"path\":\"/api/cluster\",\"drop\":true,\"count\":4}");
	cr_assert_eq(mg_ontap_cluster_get(c, &cl, &err), MG_EIO);
	cr_assert(mg_ontap_err_is_transport(&err));
	cr_assert_eq(mg_ontap_cluster_get(c, &cl, &err), 0, "a live, reused connection again");
	fault("{\"type\":\"request\",\"method\":\"POST\",\"path\":\"/api/storage/volumes\",\"drop\":true}");
	mg_ontap_volume_spec spec = {"svm-a", "once", "rw", 1u << 30, NULL};
	cr_assert_eq(mg_ontap_volume_create(c, &spec, NULL, &err), MG_EIO, "a POST is never replayed");
	cr_assert_eq(ontap_sim_count_requests(&P, NULL, "POST", "/api/storage/volumes"), 1);
	mg_ontap_client_free(c);
	/* A server slower than the per-request timeout. */
	ontap_sim_client_config(&P, 0, &cfg);
	cfg.timeout_ms = 1000;
	cr_assert_eq(mg_ontap_client_new(&c, &cfg), 0);
	fault("{\"type\":\"request\",\"path\":\"/api/cluster\",\"latency_ms\":5000}");
	cr_assert_eq(mg_ontap_cluster_get(c, &cl, &err), MG_ETIMEOUT);
	cr_assert(mg_ontap_err_is_transport(&err));
	mg_ontap_client_free(c);
	/* An answer larger than allowed is refused, not buffered without bound. */
	ontap_sim_client_config(&P, 0, &cfg);
	cfg.max_response_bytes = 64;
	cr_assert_eq(mg_ontap_client_new(&c, &cfg), 0);
	cr_assert_eq(mg_ontap_cluster_get(c, &cl, &err), MG_ETOOBIG);
	mg_ontap_client_free(c);
}

Test(ontap_err, peer_unreachable_and_delayed_visibility)
{
	ontap_sim_start(&P, NULL, NULL);
	mg_ontap_client *ca = ontap_sim_client(&P, 0), *cb = ontap_sim_client(&P, 1);
	char uuid[64];
	establish(ca, cb, "p1", uuid);
	fault("{\"type\":\"peer\",\"cluster\":\"cluster-a\",\"reachable\":false}");
	mg_ontap_error err;
	cr_assert_neq(mg_ontap_transfer_start(cb, uuid, NULL, NULL, &err), 0);
	cr_assert(mg_ontap_err_is_peer_unreachable(&err));
	mg_ontap_state_change brk = {"broken_off", NULL, false, false};
	cr_assert_eq(mg_ontap_relationship_set_state(cb, uuid, &brk, &err), MG_EREMOTE);
	cr_assert(mg_ontap_err_is_peer_unreachable(&err), "%s", err.message);
	brk.force = true;
	cr_assert_eq(mg_ontap_relationship_set_state(cb, uuid, &brk, &err), 0, "%s", err.message);
	cr_assert_eq(ontap_sim_control(&P, "DELETE", "faults", NULL, NULL), 200);

	/* A freshly created relationship can be invisible to the first read. */
	mg_ontap_volume_spec s2 = {"svm-b", "late_dp", "dp", 1u << 30, NULL};
	cr_assert_eq(mg_ontap_volume_create(cb, &s2, NULL, &err), 0);
	fault("{\"type\":\"visibility\",\"count\":1}");
	mg_ontap_relationship_spec rs = {"svm-a:p1", "svm-b:late_dp", NULL, NULL};
	cr_assert_eq(mg_ontap_relationship_create(cb, &rs, NULL, &err), 0);
	mg_ontap_relationship_filter f = {NULL, "svm-b:late_dp", false};
	mg_ontap_relationship r;
	cr_assert_eq(mg_ontap_relationship_get(cb, &f, &r, &err), MG_ENOTFOUND);
	cr_assert_eq(mg_ontap_relationship_get(cb, &f, &r, &err), 0);
	cr_assert_str_eq(r.policy_name, "Asynchronous", "ONTAP's default policy");
	mg_ontap_client_free(ca);
	mg_ontap_client_free(cb);
}

Test(ontap_err, debug_log_has_method_path_status_and_no_credentials)
{
	ontap_sim_start(&P, NULL, NULL);
	mg_ontap_client *c = ontap_sim_client(&P, 0);
	FILE *log = tmpfile();
	cr_assert_not_null(log);
	mg_log_set_stream(log);
	mg_log_set_level(MG_LOG_DEBUG);
	mg_ontap_error err;
	mg_ontap_cluster cl;
	cr_assert_eq(mg_ontap_cluster_get(c, &cl, &err), 0);
	mg_log_set_level(MG_LOG_INFO);
	mg_log_set_stream(NULL);
	fflush(log);
	rewind(log);
	char buf[8192];
	size_t n = fread(buf, 1, sizeof(buf) - 1, log);
	buf[n] = '\0';
	fclose(log);
	cr_assert(strstr(buf, "\"ontap request\""), "%s", buf);
	cr_assert(strstr(buf, "\"method\":\"GET\""));
	cr_assert(strstr(buf, "/api/cluster"));
	cr_assert(strstr(buf, "\"status\":\"200\""));
	cr_assert(strstr(buf, "\"ms\":"));
	cr_assert_null(strstr(buf, "password-a"));
	cr_assert_null(strstr(buf, "Authorization"));
	cr_assert_null(strstr(buf, "YWRtaW46"), "no base64 of admin:...");
	mg_ontap_client_free(c);
}

Test(ontap_err, failed_job_polls_are_retried_then_unknown)
{
	ontap_sim_start(&P, NULL, NULL);
	mg_ontap_client *c = ontap_sim_client(&P, 0);
	mg_ontap_error err;
	fault("{\"type\":\"request\",\"method\":\"GET\",\"path\":\"/api/cluster/jobs/*\",\"status\":503,\"count\":2}");
	mg_ontap_volume_spec a = {"svm-a", "polled", "rw", 1u << 30, NULL};
	cr_assert_eq(mg_ontap_volume_create(c, &a, NULL, &err), 0, "two failed polls are tolerated: %s",
		     err.message);
	fault("{\"type\":\"request\",\"method\":\"GET\",\"path\":\"/api/cluster/jobs/*\",\"status\":503,\"count\":100}");
	mg_ontap_volume_spec b = {"svm-a", "unpolled", "rw", 1u << 30, NULL};
	cr_assert_eq(mg_ontap_volume_create(c, &b, NULL, &err), MG_EUNKNOWN);
	cr_assert(mg_ontap_err_is_unknown_outcome(&err));
	cr_assert(strstr(err.message, "HTTP 503"), "%s", err.message);
	cr_assert(err.job_uuid[0]);
	cr_assert_eq(ontap_sim_control(&P, "DELETE", "faults", NULL, NULL), 200);
	ontap_sim_advance(&P, 5000);
	mg_ontap_volume v;
	cr_assert_eq(mg_ontap_volume_get(c, "svm-a", "unpolled", &v, &err), 0,
		     "the job ran although nobody could watch it");
	mg_ontap_client_free(c);
}

Test(ontap_err, create_reads_back_a_slow_to_appear_relationship)
{
	ontap_sim_start(&P, NULL, NULL);
	mg_ontap_client *ca = ontap_sim_client(&P, 0), *cb = ontap_sim_client(&P, 1);
	mg_ontap_error err;
	mg_ontap_volume_spec s = {"svm-a", "slow", "rw", 1u << 30, NULL};
	mg_ontap_volume_spec d1 = {"svm-b", "slow_dp1", "dp", 1u << 30, NULL};
	mg_ontap_volume_spec d2 = {"svm-b", "slow_dp2", "dp", 1u << 30, NULL};
	cr_assert_eq(mg_ontap_volume_create(ca, &s, NULL, &err), 0);
	cr_assert_eq(mg_ontap_volume_create(cb, &d1, NULL, &err), 0);
	cr_assert_eq(mg_ontap_volume_create(cb, &d2, NULL, &err), 0);
	fault("{\"type\":\"visibility\",\"count\":2}");
	char uuid[MG_ONTAP_UUID_MAX];
	mg_ontap_relationship_spec rs = {"svm-a:slow", "svm-b:slow_dp1", NULL, NULL};
	cr_assert_eq(mg_ontap_relationship_create(cb, &rs, uuid, &err), 0, "%s", err.message);
	cr_assert(uuid[0]);
	fault("{\"type\":\"visibility\",\"count\":50}");
	mg_ontap_relationship_spec rs2 = {"svm-a:slow", "svm-b:slow_dp2", NULL, NULL};
	cr_assert_eq(mg_ontap_relationship_create(cb, &rs2, uuid, &err), MG_EUNKNOWN);
	cr_assert(mg_ontap_err_is_unknown_outcome(&err));
	mg_ontap_client_free(ca);
	mg_ontap_client_free(cb);
}

Test(ontap_err, malformed_answers_are_refused_cleanly)
{
	ontap_sim_start(&P, NULL, NULL);
	mg_ontap_client *c = ontap_sim_client(&P, 0);
	mg_ontap_error err;
	mg_ontap_cluster cl;
	fault("{\"type\":\"request\",\"path\":\"/api/cluster\",\"status\":200,\"body\":\"<html>not json\"}");
	cr_assert_eq(mg_ontap_cluster_get(c, &cl, &err), MG_EPARSE);
	cr_assert_eq(err.http_status, 200);
	fault("{\"type\":\"request\",\"path\":\"/api/cluster\",\"status\":200,\"body\":\"{\\\"name\\\":7}\"}");
	cr_assert_eq(mg_ontap_cluster_get(c, &cl, &err), MG_EPARSE, "a record without version");
	fault("{\"type\":\"request\",\"path\":\"/api/cluster\",\"status\":502,\"body\":\"<html>bad gateway</html>\"}");
	cr_assert_eq(mg_ontap_cluster_get(c, &cl, &err), MG_EREMOTE);
	cr_assert_eq(err.http_status, 502);
	cr_assert(strstr(err.message, "without an ONTAP error body"));
	fault("{\"type\":\"request\",\"path\":\"/api/svm/svms\",\"status\":200,\"body\":\"{\\\"num_records\\\":1}\"}");
	mg_ontap_svm_list svms;
	cr_assert_eq(mg_ontap_svms(c, NULL, &svms, &err), MG_EPARSE, "no records array");
	cr_assert_null(svms.items);
	fault("{\"type\":\"request\",\"path\":\"/api/svm/svms\",\"status\":200,"
	      "\"body\":\"{\\\"records\\\":[],\\\"_links\\\":{\\\"next\\\":{\\\"href\\\":\\\"https://evil/\\\"}}}\"}");
	cr_assert_eq(mg_ontap_svms(c, NULL, &svms, &err), MG_EPARSE, "next link outside /api");
	fault("{\"type\":\"request\",\"path\":\"/api/svm/svms\",\"status\":200,\"count\":2,"
	      "\"body\":\"{\\\"records\\\":[],\\\"_links\\\":{\\\"next\\\":{\\\"href\\\":\\\"/api/svm/svms?x=1\\\"}}}\"}");
	cr_assert_eq(mg_ontap_svms(c, NULL, &svms, &err), MG_EPARSE, "a next link that repeats");
	cr_assert(strstr(err.message, "paging"));
	char longname[400];
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	char json[600];
	snprintf(json, sizeof(json),
		 "{\"type\":\"request\",\"path\":\"/api/svm/svms\",\"status\":200,\"body\":"
		 "\"{\\\"records\\\":[{\\\"name\\\":\\\"%s\\\"}]}\"}", longname);
	fault(json);
	cr_assert_eq(mg_ontap_svms(c, NULL, &svms, &err), MG_EPARSE, "names are never truncated");
	cr_assert(strstr(err.message, "unusable record"), "%s", err.message);
	cr_assert_eq(mg_ontap_svms(c, NULL, &svms, &err), 0, "every fault is used up");
	mg_ontap_svm_list_free(&svms);
	mg_ontap_client_free(c);
}
