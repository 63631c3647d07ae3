/* The ONTAP client against the real ontap-sim binary over HTTPS: one test per operation
 * group, following the reconciler's flows (establish, update, failover, release). */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/ontap/client.h"
#include "mirrorgate/ontap/cluster.h"
#include "mirrorgate/ontap/job.h"
#include "mirrorgate/ontap/snapmirror.h"
#include "mirrorgate/ontap/volume.h"
#include "ontap_sim_proc.h"

static ontap_sim_proc P;
static mg_ontap_client *CA, *CB; /* cluster-a (source), cluster-b (destination) */

static void setup(void)
{
	ontap_sim_start(&P, NULL, NULL);
	CA = ontap_sim_client(&P, 0);
	CB = ontap_sim_client(&P, 1);
}

static void teardown(void)
{
	mg_ontap_client_free(CA);
	mg_ontap_client_free(CB);
	ontap_sim_stop(&P);
}

TestSuite(ontap_ops, .init = setup, .fini = teardown, .timeout = 60);

static void make_volume(mg_ontap_client *c, const char *svm, const char *name, const char *type,
			mg_ontap_volume *out)
{
	mg_ontap_error err;
	mg_ontap_volume_spec spec = {svm, name, type, 1u << 30, NULL};
	int rc = mg_ontap_volume_create(c, &spec, out, &err);
	cr_assert_eq(rc, 0, "create %s: %s", name, err.message);
}

/* Source rw volume on A, DP destination on B, relationship created and initialized. */
static void establish(const char *name, mg_ontap_relationship *rel)
{
	mg_ontap_volume src, dst;
	mg_ontap_error err;
	char dpname[64], spath[96], dpath[96], uuid[MG_ONTAP_UUID_MAX];
	snprintf(dpname, sizeof(dpname), "%s_dp", name);
	snprintf(spath, sizeof(spath), "svm-a:%s", name);
	snprintf(dpath, sizeof(dpath), "svm-b:%s", dpname);
	make_volume(CA, "svm-a", name, "rw", &src);
	make_volume(CB, "svm-b", dpname, "dp", &dst);
	mg_ontap_relationship_spec spec = {spath, dpath, "MirrorAllSnapshots", NULL};
	cr_assert_eq(mg_ontap_relationship_create(CB, &spec, uuid, &err), 0, "%s", err.message);
	cr_assert_eq(mg_ontap_transfer_start(CB, uuid, NULL, NULL, &err), 0, "%s", err.message);
	ontap_sim_advance(&P, 5000);
	mg_ontap_relationship_filter f = {NULL, dpath, false};
	cr_assert_eq(mg_ontap_relationship_get(CB, &f, rel, &err), 0, "%s", err.message);
	cr_assert_str_eq(rel->state, "snapmirrored");
}

Test(ontap_ops, cluster_svms_peers_policies_schedules)
{
	mg_ontap_error err;
	mg_ontap_cluster cl;
	cr_assert_eq(mg_ontap_cluster_get(CA, &cl, &err), 0, "%s", err.message);
	cr_assert_str_eq(cl.name, "cluster-a");
	cr_assert_eq(cl.version.generation, 9);
	cr_assert_eq(cl.version.major, 13);
	cr_assert_eq(cl.version.minor, 1);
	cr_assert(cl.uuid[0]);

	mg_ontap_svm_list svms;
	cr_assert_eq(mg_ontap_svms(CB, NULL, &svms, &err), 0);
	cr_assert_eq(svms.len, 1);
	cr_assert_str_eq(svms.items[0].name, "svm-b");
	cr_assert_str_eq(svms.items[0].state, "running");
	mg_ontap_svm_list_free(&svms);
	mg_ontap_svm svm;
	cr_assert_eq(mg_ontap_svm_get(CA, "svm-a", &svm, &err), 0);
	cr_assert_eq(mg_ontap_svm_get(CA, "svm-b", &svm, &err), MG_ENOTFOUND, "svm-b is remote");
	cr_assert(mg_ontap_err_is_not_found(&err));

	mg_ontap_svm_peer_list peers;
	cr_assert_eq(mg_ontap_svm_peers(CA, "svm-a", &peers, &err), 0);
	cr_assert_eq(peers.len, 1);
	cr_assert_str_eq(peers.items[0].peer_svm_name, "svm-b");
	cr_assert_str_eq(peers.items[0].peer_cluster_name, "cluster-b");
	cr_assert_str_eq(peers.items[0].state, "peered");
	cr_assert(peers.items[0].snapmirror);
	mg_ontap_svm_peer_list_free(&peers);

	mg_ontap_cluster_peer_list cps;
	cr_assert_eq(mg_ontap_cluster_peers(CA, &cps, &err), 0);
	cr_assert_eq(cps.len, 1);
	cr_assert_str_eq(cps.items[0].name, "cluster-b");
	cr_assert_str_eq(cps.items[0].state, "available");
	mg_ontap_cluster_peer_list_free(&cps);
	cr_assert_eq(ontap_sim_control(&P, "POST", "faults",
				       "{\"type\":\"peer\",\"cluster\":\"cluster-b\",\"reachable\":false}", NULL), 200);
	cr_assert_eq(mg_ontap_cluster_peers(CA, &cps, &err), 0);
	cr_assert_str_eq(cps.items[0].state, "unavailable");
	mg_ontap_cluster_peer_list_free(&cps);

	mg_ontap_policy pol;
	cr_assert_eq(mg_ontap_policy_get(CB, "MirrorAllSnapshots", &pol, &err), 0);
	cr_assert_str_eq(pol.type, "async");
	cr_assert(pol.copy_all_source_snapshots);
	cr_assert_eq(mg_ontap_policy_get(CB, "MirrorLatest", &pol, &err), 0);
	cr_assert(!pol.copy_all_source_snapshots);
	cr_assert_eq(mg_ontap_policy_get(CB, "NoSuchPolicy", &pol, &err), MG_ENOTFOUND);
	mg_ontap_schedule sch;
	cr_assert_eq(mg_ontap_schedule_get(CB, "hourly", &sch, &err), 0);
	cr_assert_str_eq(sch.name, "hourly");
	cr_assert_eq(mg_ontap_schedule_get(CB, "never", &sch, &err), MG_ENOTFOUND);
	/* Lookups filter on the server: the policy name travels in the query. */
	cr_assert_geq(ontap_sim_count_requests(&P, NULL, "GET", "/api/snapmirror/policies?name=NoSuchPolicy"), 1);
}

Test(ontap_ops, volumes_and_snapshots)
{
	mg_ontap_error err;
	mg_ontap_volume v, dp;
	make_volume(CA, "svm-a", "data1", "rw", &v);
	cr_assert_str_eq(v.type, "rw");
	cr_assert_str_eq(v.svm_name, "svm-a");
	cr_assert_eq(v.size, 1u << 30);
	cr_assert_str_eq(v.nas_path, "/data1");
	make_volume(CB, "svm-b", "data1_dp", "dp", &dp);
	cr_assert_str_eq(dp.type, "dp");
	cr_assert_str_eq(dp.nas_path, "", "DP volumes are not mounted");
	mg_ontap_volume again;
	cr_assert_eq(mg_ontap_volume_get(CA, "svm-a", "data1", &again, &err), 0);
	cr_assert_str_eq(again.uuid, v.uuid);
	cr_assert_eq(mg_ontap_volume_get(CA, "svm-a", "nope", &again, &err), MG_ENOTFOUND);

	cr_assert_eq(mg_ontap_snapshot_create(CA, v.uuid, "snap1", "daily", &err), 0, "%s", err.message);
	cr_assert_eq(mg_ontap_snapshot_create(CA, v.uuid, "snap2", NULL, &err), 0);
	mg_ontap_snapshot_list snaps;
	cr_assert_eq(mg_ontap_snapshots(CA, v.uuid, &snaps, &err), 0);
	cr_assert_eq(snaps.len, 2);
	cr_assert_str_eq(snaps.items[0].name, "snap1");
	cr_assert_str_eq(snaps.items[0].snapmirror_label, "daily");
	cr_assert(snaps.items[0].create_time[0]);
	mg_ontap_snapshot_list_free(&snaps);
	mg_ontap_snapshot s;
	cr_assert_eq(mg_ontap_snapshot_get(CA, v.uuid, "snap2", &s, &err), 0);
	cr_assert_str_eq(s.name, "snap2");
	/* Not arrived yet is a not-found the caller can wait on (Trident's hazard H1). */
	cr_assert_eq(mg_ontap_snapshot_get(CA, v.uuid, "later", &s, &err), MG_ENOTFOUND);
	cr_assert(mg_ontap_err_is_not_found(&err));
}

Test(ontap_ops, establish_update_and_inspect)
{
	mg_ontap_error err;
	mg_ontap_relationship rel;
	establish("app", &rel);
	cr_assert_str_eq(rel.source_path, "svm-a:app");
	cr_assert_str_eq(rel.destination_path, "svm-b:app_dp");
	cr_assert_str_eq(rel.source_cluster, "cluster-a");
	cr_assert_str_eq(rel.policy_name, "MirrorAllSnapshots");
	cr_assert_str_eq(rel.policy_type, "async");
	cr_assert(rel.healthy);
	cr_assert_str_eq(rel.transfer_state, "success");
	cr_assert_str_eq(rel.last_transfer_type, "initialize");
	cr_assert(rel.transfer_end_time[0]);
	cr_assert(strncmp(rel.exported_snapshot, "snapmirror.", 11) == 0);

	/* An update carrying a named snapshot, which then arrives on the destination. */
	mg_ontap_volume src, dst;
	cr_assert_eq(mg_ontap_volume_get(CA, "svm-a", "app", &src, &err), 0);
	cr_assert_eq(mg_ontap_volume_get(CB, "svm-b", "app_dp", &dst, &err), 0);
	cr_assert_eq(mg_ontap_snapshot_create(CA, src.uuid, "csi-snap-1", NULL, &err), 0);
	char xfer[MG_ONTAP_UUID_MAX];
	cr_assert_eq(mg_ontap_transfer_start(CB, rel.uuid, "csi-snap-1", xfer, &err), 0, "%s", err.message);
	cr_assert(xfer[0], "the 201 answer names the transfer");
	mg_ontap_relationship now;
	cr_assert_eq(mg_ontap_relationship_get_uuid(CB, rel.uuid, &now, &err), 0);
	cr_assert_str_eq(now.transfer_uuid, xfer);
	cr_assert_str_eq(now.transfer_state, "queued");
	/* Busy: a second update is refused with the code Trident treats as "in progress". */
	cr_assert_neq(mg_ontap_transfer_start(CB, rel.uuid, NULL, NULL, &err), 0);
	cr_assert(mg_ontap_err_is_transfer_in_progress(&err), "%s %s", err.code, err.message);
	cr_assert_eq(err.http_status, 400);
	ontap_sim_advance(&P, 5000);
	mg_ontap_snapshot s;
	cr_assert_eq(mg_ontap_snapshot_get(CB, dst.uuid, "csi-snap-1", &s, &err), 0);
	cr_assert_eq(mg_ontap_relationship_get_uuid(CB, rel.uuid, &now, &err), 0);
	cr_assert_str_eq(now.exported_snapshot, "csi-snap-1");
	cr_assert_str_eq(now.last_transfer_type, "update");

	/* Source-side view, found by server-side filter. */
	mg_ontap_relationship_list dests;
	cr_assert_eq(mg_ontap_relationship_list_destinations(CA, "svm-a:app", &dests, &err), 0);
	cr_assert_eq(dests.len, 1);
	cr_assert_str_eq(dests.items[0].uuid, rel.uuid);
	mg_ontap_relationship_list_free(&dests);
	cr_assert_geq(ontap_sim_count_requests(&P, NULL, "GET", "list_destinations_only=true"), 1);
	cr_assert_geq(ontap_sim_count_requests(&P, NULL, "GET", "destination.path=svm-b:app_dp"), 1);

	/* Creating it again is "already exists", which the reconciler treats as done. */
	mg_ontap_relationship_spec spec = {"svm-a:app", "svm-b:app_dp", NULL, NULL};
	cr_assert_eq(mg_ontap_relationship_create(CB, &spec, NULL, &err), MG_EEXIST);
	cr_assert(mg_ontap_err_is_relationship_exists(&err));
	cr_assert_eq(err.http_status, 409);
}

Test(ontap_ops, failover_with_restore_then_resync)
{
	mg_ontap_error err;
	mg_ontap_relationship rel;
	establish("db", &rel);
	mg_ontap_volume src, dst;
	cr_assert_eq(mg_ontap_volume_get(CA, "svm-a", "db", &src, &err), 0);
	cr_assert_eq(mg_ontap_snapshot_create(CA, src.uuid, "promote-here", NULL, &err), 0);
	cr_assert_eq(mg_ontap_transfer_start(CB, rel.uuid, "promote-here", NULL, &err), 0);
	ontap_sim_advance(&P, 5000);
	cr_assert_eq(ontap_sim_control(&P, "POST", "volumes/write",
				       "{\"cluster\":\"cluster-a\",\"path\":\"svm-a:db\"}", NULL), 200);
	cr_assert_eq(mg_ontap_transfer_start(CB, rel.uuid, NULL, NULL, &err), 0);
	ontap_sim_advance(&P, 5000);

	mg_ontap_state_change quiesce = {"paused", NULL, false, false};
	cr_assert_eq(mg_ontap_relationship_set_state(CB, rel.uuid, &quiesce, &err), 0, "%s", err.message);
	mg_ontap_relationship now;
	cr_assert_eq(mg_ontap_relationship_get_uuid(CB, rel.uuid, &now, &err), 0);
	cr_assert_str_eq(now.state, "paused");
	mg_ontap_state_change brk = {"broken_off", "promote-here", false, false};
	cr_assert_eq(mg_ontap_relationship_set_state(CB, rel.uuid, &brk, &err), 0, "%s", err.message);
	cr_assert_eq(mg_ontap_relationship_get_uuid(CB, rel.uuid, &now, &err), 0);
	cr_assert_str_eq(now.state, "broken_off");
	cr_assert_eq(mg_ontap_volume_get(CB, "svm-b", "db_dp", &dst, &err), 0);
	cr_assert_str_eq(dst.type, "rw");

	cJSON *ledger = NULL;
	cr_assert_eq(ontap_sim_control(&P, "GET", "ledger", NULL, &ledger), 200);
	cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(ledger, "entries")), 0,
		     "restore_to_snapshot lost nothing the source does not still hold");
	cJSON_Delete(ledger);

	/* Writes on the promoted volume, then resync: the ledger shows the loss. */
	cr_assert_eq(ontap_sim_control(&P, "POST", "volumes/write",
				       "{\"cluster\":\"cluster-b\",\"path\":\"svm-b:db_dp\"}", NULL), 200);
	mg_ontap_state_change resync = {"snapmirrored", NULL, false, false};
	cr_assert_eq(mg_ontap_relationship_set_state(CB, rel.uuid, &resync, &err), 0, "%s", err.message);
	ontap_sim_advance(&P, 5000);
	cr_assert_eq(mg_ontap_relationship_get_uuid(CB, rel.uuid, &now, &err), 0);
	cr_assert_str_eq(now.state, "snapmirrored");
	cr_assert_str_eq(now.last_transfer_type, "resync");
	cr_assert_eq(ontap_sim_control(&P, "GET", "ledger", NULL, &ledger), 200);
	cJSON *entries = cJSON_GetObjectItem(ledger, "entries");
	cr_assert_eq(cJSON_GetArraySize(entries), 1);
	cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(entries, 0), "operation")->valuestring,
			 "resync");
	cJSON_Delete(ledger);
}

Test(ontap_ops, abort_a_running_transfer)
{
	mg_ontap_error err;
	mg_ontap_relationship rel;
	establish("logs", &rel);
	cr_assert_eq(ontap_sim_control(&P, "POST", "faults",
				       "{\"type\":\"transfer\",\"mode\":\"hang\"}", NULL), 200);
	char xfer[MG_ONTAP_UUID_MAX];
	cr_assert_eq(mg_ontap_transfer_start(CB, rel.uuid, NULL, xfer, &err), 0);
	ontap_sim_advance(&P, 10000);
	mg_ontap_relationship now;
	cr_assert_eq(mg_ontap_relationship_get_uuid(CB, rel.uuid, &now, &err), 0);
	cr_assert_str_eq(now.transfer_state, "transferring");
	cr_assert_eq(mg_ontap_transfer_abort(CB, rel.uuid, now.transfer_uuid, false, &err), 0,
		     "%s", err.message);
	cr_assert_eq(mg_ontap_relationship_get_uuid(CB, rel.uuid, &now, &err), 0);
	cr_assert_str_eq(now.transfer_state, "aborted");
	/* Nothing left to abort: not-found, which Trident treats as done. */
	cr_assert_eq(mg_ontap_transfer_abort(CB, rel.uuid, xfer, true, &err), MG_ENOTFOUND);
	cr_assert(mg_ontap_err_is_not_found(&err));
}

Test(ontap_ops, teardown_with_each_delete_flag)
{
	mg_ontap_error err;
	mg_ontap_relationship rel;
	establish("t1", &rel);
	/* Release is a source-side operation: on the destination it is not found. */
	cr_assert_eq(mg_ontap_relationship_delete(CB, rel.uuid, MG_ONTAP_DELETE_SOURCE_ONLY, &err),
		     MG_ENOTFOUND);
	cr_assert_eq(mg_ontap_relationship_delete(CB, rel.uuid, MG_ONTAP_DELETE_DESTINATION_ONLY, &err), 0,
		     "%s", err.message);
	mg_ontap_relationship_filter f = {NULL, "svm-b:t1_dp", false};
	mg_ontap_relationship gone;
	cr_assert_eq(mg_ontap_relationship_get(CB, &f, &gone, &err), MG_ENOTFOUND);
	cr_assert(mg_ontap_err_is_not_found(&err));
	mg_ontap_relationship_list dests;
	cr_assert_eq(mg_ontap_relationship_list_destinations(CA, "svm-a:t1", &dests, &err), 0);
	cr_assert_eq(dests.len, 1, "the source still has its record until released");
	mg_ontap_relationship_list_free(&dests);
	cr_assert_eq(mg_ontap_relationship_delete(CA, rel.uuid, MG_ONTAP_DELETE_SOURCE_INFO_ONLY, &err), 0,
		     "%s", err.message);
	cr_assert_eq(mg_ontap_relationship_list_destinations(CA, "svm-a:t1", &dests, &err), 0);
	cr_assert_eq(dests.len, 0);
	mg_ontap_relationship_list_free(&dests);
	/* Deleting again: code 4, not found. */
	cr_assert_eq(mg_ontap_relationship_delete(CA, rel.uuid, MG_ONTAP_DELETE_SOURCE_ONLY, &err),
		     MG_ENOTFOUND);

	mg_ontap_relationship rel2;
	establish("t2", &rel2);
	cr_assert_eq(mg_ontap_relationship_delete(CA, rel2.uuid, MG_ONTAP_DELETE_SOURCE_ONLY, &err), 0,
		     "%s", err.message);
	mg_ontap_volume src;
	cr_assert_eq(mg_ontap_volume_get(CA, "svm-a", "t2", &src, &err), 0);
	mg_ontap_snapshot_list snaps;
	cr_assert_eq(mg_ontap_snapshots(CA, src.uuid, &snaps, &err), 0);
	cr_assert_eq(snaps.len, 0, "release deleted the SnapMirror snapshots on the source");
	mg_ontap_snapshot_list_free(&snaps);
	cr_assert_eq(mg_ontap_relationship_delete(CB, rel2.uuid, MG_ONTAP_DELETE_BOTH, &err), 0,
		     "%s", err.message);
	mg_ontap_relationship_filter f2 = {"svm-a:t2", NULL, false};
	cr_assert_eq(mg_ontap_relationship_get(CB, &f2, &gone, &err), MG_ENOTFOUND);
}

Test(ontap_ops, relationship_get_filters_and_wildcards)
{
	mg_ontap_error err;
	mg_ontap_relationship r1, r2;
	establish("w1", &r1);
	establish("w2", &r2);
	mg_ontap_relationship_filter all = {"svm-a:*", NULL, false};
	mg_ontap_relationship one;
	cr_assert_eq(mg_ontap_relationship_get(CB, &all, &one, &err), MG_ECONFLICT,
		     "a filter matching two is ambiguous");
	mg_ontap_relationship_list l;
	cr_assert_eq(mg_ontap_relationships(CB, &all, &l, &err), 0);
	cr_assert_eq(l.len, 2);
	mg_ontap_relationship_list_free(&l);
	mg_ontap_relationship_filter exact = {"svm-a:w2", "svm-b:w2_dp", false};
	cr_assert_eq(mg_ontap_relationship_get(CB, &exact, &one, &err), 0);
	cr_assert_str_eq(one.uuid, r2.uuid);
}

typedef struct reader {
	mg_ontap_client *c;
	int failures;
} reader;

static void *read_loop(void *arg)
{
	reader *r = arg;
	for (int i = 0; i < 20; i++) {
		mg_ontap_error err;
		mg_ontap_svm_list l;
		if (mg_ontap_svms(r->c, NULL, &l, &err) != 0 || l.len != 1)
			r->failures++;
		mg_ontap_svm_list_free(&l);
	}
	return NULL;
}

Test(ontap_ops, one_client_is_shared_between_threads)
{
	reader r[4];
	pthread_t t[4];
	for (int i = 0; i < 4; i++) {
		r[i].c = CB;
		r[i].failures = 0;
		cr_assert_eq(pthread_create(&t[i], NULL, read_loop, &r[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		cr_assert_eq(r[i].failures, 0, "thread %d", i);
	}
	cr_assert_eq(ontap_sim_count_requests(&P, "cluster-b", "GET", "/api/svm/svms"), 80);
}

static mg_ontap_client *client_with_return_timeout(size_t i, unsigned secs)
{
	mg_ontap_config cfg;
	ontap_sim_client_config(&P, i, &cfg);
	cfg.return_timeout_s = secs;
	mg_ontap_client *c = NULL;
	cr_assert_eq(mg_ontap_client_new(&c, &cfg), 0);
	return c;
}

Test(ontap_ops, with_return_timeout_ontap_waits_for_the_job_and_nothing_is_polled)
{
	mg_ontap_client *c = client_with_return_timeout(0, 5);
	int polls = ontap_sim_count_requests(&P, "cluster-a", "GET", "/api/cluster/jobs/");
	mg_ontap_error err;
	mg_ontap_volume_spec s = {"svm-a", "waited", "rw", 1u << 30, NULL};
	cr_assert_eq(mg_ontap_volume_create(c, &s, NULL, &err), 0, "%s", err.message);
	cr_assert_geq(ontap_sim_count_requests(&P, "cluster-a", "POST", "return_timeout=5"), 1);
	cr_assert_eq(ontap_sim_count_requests(&P, "cluster-a", "GET", "/api/cluster/jobs/"), polls,
		     "a job ONTAP already waited for was polled");
	mg_ontap_volume v;
	cr_assert_eq(mg_ontap_volume_get(c, "svm-a", "waited", &v, &err), 0, "%s", err.message);
	/* a job that fails inside the window is the write's error */
	cr_assert_neq(mg_ontap_volume_create(c, &s, NULL, &err), 0, "a duplicate name must fail");
	mg_ontap_client_free(c);
}

Test(ontap_ops, without_return_timeout_the_job_is_polled)
{
	int polls = ontap_sim_count_requests(&P, "cluster-a", "GET", "/api/cluster/jobs/");
	mg_ontap_error err;
	mg_ontap_volume_spec s = {"svm-a", "polled", "rw", 1u << 30, NULL};
	cr_assert_eq(mg_ontap_volume_create(CA, &s, NULL, &err), 0, "%s", err.message);
	cr_assert_eq(ontap_sim_count_requests(&P, "cluster-a", "POST", "return_timeout"), 0);
	cr_assert_gt(ontap_sim_count_requests(&P, "cluster-a", "GET", "/api/cluster/jobs/"), polls);
}
