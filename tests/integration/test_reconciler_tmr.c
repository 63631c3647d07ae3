/* The TMR controller end to end: a real kube-sim and a real ontap-sim (cluster-a/svm-a is the
 * source, cluster-b/svm-b the destination, where this reconciler runs). Every test ends by
 * asserting the ontap-sim data-loss ledger. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/core/history.h"
#include "mirrorgate/k8s/client.h"
#include "mirrorgate/ontap/snapmirror.h"
#include "reconciler_env.h"
#include "pvc_protect.h"
#include "tmr_controller.h"

static rec_env E;

static void setup(void)
{
	rec_env_start(&E);
}

static void teardown(void)
{
	rec_env_stop(&E);
}

TestSuite(reconciler_tmr, .init = setup, .fini = teardown, .timeout = 120);

#define TMR(name, state, extra)                                                        \
	"apiVersion: trident.netapp.io/v1\nkind: TridentMirrorRelationship\n"          \
	"metadata: {name: " name ", namespace: app}\n"                                 \
	"spec:\n  state: " state "\n  replicationPolicy: MirrorAllSnapshots\n"          \
	"  volumeMappings:\n  - localPVCName: data\n" extra

static void assert_no_loss(void)
{
	char *ledger = NULL;
	int n = rec_env_ledger(&E, &ledger);
	cr_expect_eq(n, 0, "data-loss ledger: %s", ledger);
	free(ledger);
}

/* Source volume with data on A; DP volume on B behind PVC app/data; TMR established. */
static void establish(void)
{
	rec_env_mirror_pair(&E);
	rec_env_create(&E, &mg_k8s_res_tmr, "app",
		       TMR("mirror", "established", "    remoteVolumeHandle: svm-a:vol_src\n"));
	int n = rec_env_tmr_until(&E, &E.ctx_b, "app", "mirror", "established", 30, 1000);
	cr_assert_gt(n, 0, "never established; state '%s' message '%s'",
		     rec_env_cond(&E, "app", "mirror", "state"),
		     rec_env_cond(&E, "app", "mirror", "message"));
}

Test(reconciler_tmr, establish_creates_initializes_and_reports)
{
	establish();
	cr_expect_str_eq(rec_env_cond(&E, "app", "mirror", "localVolumeHandle"), "svm-b:vol_dst");
	cr_expect_str_eq(rec_env_cond(&E, "app", "mirror", "remoteVolumeHandle"), "svm-a:vol_src");
	cr_expect_str_eq(rec_env_cond(&E, "app", "mirror", "localPVCName"), "data");
	cr_expect_str_eq(rec_env_cond(&E, "app", "mirror", "replicationPolicy"),
			 "MirrorAllSnapshots");
	cr_expect_str_eq(rec_env_cond(&E, "app", "mirror", "message"), "");
	cr_expect_str_eq(rec_env_cond(&E, "app", "mirror", "observedGeneration"), "1");
	cJSON *o = rec_env_get(&E, &mg_k8s_res_tmr, "app", "mirror");
	const cJSON *fin = cJSON_GetObjectItem(cJSON_GetObjectItem(o, "metadata"), "finalizers");
	cr_expect_str_eq(cJSON_GetArrayItem(fin, 0)->valuestring, "trident.netapp.io");
	cJSON_Delete(o);
	/* the PVC records the relationship for the webhook and is protected */
	cJSON *pvc = rec_env_get(&E, &mg_k8s_res_pvc, "app", "data");
	const cJSON *md = cJSON_GetObjectItem(pvc, "metadata");
	const cJSON *hist = cJSON_GetObjectItem(cJSON_GetObjectItem(md, "annotations"),
						"mirrorgate.io/replication-history");
	cr_assert(cJSON_IsString(hist), "history annotation");
	bool listed = false;
	cr_expect_eq(mg_history_contains(hist->valuestring, "svm-a:vol_src", &listed), 0);
	cr_expect(listed, "%s", hist->valuestring);
	cr_expect(strstr(hist->valuestring, "\"role\":\"destination\""), "%s", hist->valuestring);
	cr_expect_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(md, "finalizers"), 0)->valuestring,
			 "mirrorgate.io/replication");
	cJSON_Delete(pvc);
	cr_expect_geq(rec_env_events(&E, "app", "mirror", "established"), 1,
		      "Normal 'Desired state reached'");
	/* exactly one relationship was created, and re-running changes nothing on ONTAP */
	cr_expect_eq(ontap_sim_count_requests(&E.ontap, NULL, "POST", "/api/snapmirror/relationships"),
		     1 + ontap_sim_count_requests(&E.ontap, NULL, "POST", "/transfers"));
	int patches = ontap_sim_count_requests(&E.ontap, NULL, "PATCH", "/api/snapmirror");
	mg_rec_result res;
	cr_assert_eq(mg_tmr_reconcile(&E.ctx_b, "app", "mirror", &res), 0);
	cr_expect_eq(res.outcome, MG_REC_DONE);
	cr_expect_eq(ontap_sim_count_requests(&E.ontap, NULL, "PATCH", "/api/snapmirror"), patches);
	assert_no_loss();
}

Test(reconciler_tmr, establish_refuses_a_rw_destination)
{
	rec_env_volume(&E, 0, "vol_src", "rw");
	rec_env_volume(&E, 1, "vol_dst", "rw");
	rec_env_write(&E, 1, "svm-b:vol_dst");
	rec_env_pvc(&E, "app", "data", "vol_dst");
	rec_env_create(&E, &mg_k8s_res_tmr, "app",
		       TMR("mirror", "established", "    remoteVolumeHandle: svm-a:vol_src\n"));
	mg_rec_result res;
	cr_assert_eq(mg_tmr_reconcile(&E.ctx_b, "app", "mirror", &res), 0);
	cr_expect_eq(res.outcome, MG_REC_RETRY);
	cr_expect_str_eq(rec_env_cond(&E, "app", "mirror", "state"), "failed");
	cr_expect_str_eq(rec_env_cond(&E, "app", "mirror", "message"),
			 "Could not establish mirror: mirrors can only be established with empty "
			 "DP volumes as the destination");
	cr_expect_eq(ontap_sim_count_requests(&E.ontap, NULL, "POST", "/api/snapmirror/relationships"), 0);
	cr_expect_geq(rec_env_events(&E, "app", "mirror", "failed"), 1);
	assert_no_loss();
}

Test(reconciler_tmr, promote_quiesces_aborts_breaks_and_deletes_destination_only)
{
	establish();
	rec_env_patch_spec(&E, "app", "mirror", "{\"spec\":{\"state\":\"promoted\"}}");
	int n = rec_env_tmr_until(&E, &E.ctx_b, "app", "mirror", "promoted", 20, 1000);
	cr_assert_gt(n, 0, "never promoted; '%s'", rec_env_cond(&E, "app", "mirror", "message"));
	cr_expect_geq(ontap_sim_count_requests(&E.ontap, NULL, "PATCH", "/api/snapmirror/relationships/"),
		      2, "quiesce and break");
	cr_expect_eq(ontap_sim_count_requests(&E.ontap, NULL, "DELETE", "destination_only=true"), 1);
	cr_expect_eq(ontap_sim_count_requests(&E.ontap, NULL, "DELETE", "source_only=true"), 0,
		     "no release on promote");
	/* the destination is writable now */
	rec_env_write(&E, 1, "svm-b:vol_dst");
	cr_expect_str_eq(rec_env_cond(&E, "app", "mirror", "observedGeneration"), "2");
	assert_no_loss();
}

/* H1: the promoted snapshot has not reached the destination. Trident fails the TMR for good;
 * here it waits (promoting, "Waiting for snapshot ...") and completes once it arrives, and
 * the break restores to that snapshot. */
Test(reconciler_tmr, h1_promote_waits_for_the_snapshot_then_restores_to_it)
{
	establish();
	rec_env_write(&E, 0, "svm-a:vol_src");
	rec_env_snapshot(&E, 0, "vol_src", "snap-1");
	rec_env_patch_spec(&E, "app", "mirror",
			   "{\"spec\":{\"state\":\"promoted\",\"volumeMappings\":[{\"localPVCName\":"
			   "\"data\",\"remoteVolumeHandle\":\"svm-a:vol_src\","
			   "\"promotedSnapshotHandle\":\"vol_src/snap-1\"}]}}");
	for (int i = 0; i < 3; i++) {
		mg_rec_result res;
		cr_assert_eq(mg_tmr_reconcile(&E.ctx_b, "app", "mirror", &res), 0);
		cr_expect_eq(res.outcome, MG_REC_RETRY);
		cr_expect_str_eq(rec_env_cond(&E, "app", "mirror", "state"), "promoting");
		cr_expect_str_eq(rec_env_cond(&E, "app", "mirror", "message"),
				 "Waiting for snapshot vol_src/snap-1");
	}
	cr_expect_eq(ontap_sim_count_requests(&E.ontap, NULL, "PATCH", "/api/snapmirror/relationships/"),
		     0, "nothing quiesced or broken while waiting");
	/* a scheduled update brings the snapshot over */
	rec_env_transfer(&E, "svm-b:vol_dst");
	int n = rec_env_tmr_until(&E, &E.ctx_b, "app", "mirror", "promoted", 20, 1000);
	cr_assert_gt(n, 0, "never promoted; '%s'", rec_env_cond(&E, "app", "mirror", "message"));
	cr_expect(rec_env_has_snapshot(&E, 1, "vol_dst", "snap-1"));
	assert_no_loss();
}

/* ---- H4: the TMR's policy decides sync handling, not the backend's ---- */

/* Establishes app/mirror with the TMR's own replicationPolicy, on a backend whose default
 * policy is `backend_policy`; returns the relationship's state on ONTAP. */
static void establish_with(const char *backend_policy, const char *tmr_policy,
			   const char *settled_state)
{
	snprintf(E.backend_b.policy, sizeof(E.backend_b.policy), "%s", backend_policy);
	rec_env_mirror_pair(&E);
	char yaml[1024];
	snprintf(yaml, sizeof(yaml),
		 "apiVersion: trident.netapp.io/v1\nkind: TridentMirrorRelationship\n"
		 "metadata: {name: mirror, namespace: app}\n"
		 "spec:\n  state: established\n  replicationPolicy: %s\n"
		 "  volumeMappings:\n  - localPVCName: data\n"
		 "    remoteVolumeHandle: svm-a:vol_src\n",
		 tmr_policy);
	rec_env_create(&E, &mg_k8s_res_tmr, "app", yaml);
	cr_assert_gt(rec_env_tmr_until(&E, &E.ctx_b, "app", "mirror", "established", 30, 1000), 0,
		     "%s", rec_env_cond(&E, "app", "mirror", "message"));
	char st[32];
	cr_assert(rec_env_relationship(&E, "svm-b:vol_dst", st, sizeof(st)));
	cr_expect_str_eq(st, settled_state);
	cr_expect_str_eq(rec_env_cond(&E, "app", "mirror", "replicationPolicy"), tmr_policy);
	/* a snapshot made after the baseline: not on the destination */
	rec_env_write(&E, 0, "svm-a:vol_src");
	rec_env_snapshot(&E, 0, "vol_src", "snap-late");
	cr_assert_not(rec_env_has_snapshot(&E, 1, "vol_dst", "snap-late"));
	rec_env_patch_spec(&E, "app", "mirror",
			   "{\"spec\":{\"state\":\"promoted\",\"volumeMappings\":[{\"localPVCName\":"
			   "\"data\",\"remoteVolumeHandle\":\"svm-a:vol_src\","
			   "\"promotedSnapshotHandle\":\"vol_src/snap-late\"}]}}");
}

/* Backend default async, TMR Sync (in_sync on ONTAP): a synchronous mirror has every write,
 * so the snapshot handle is not waited for and the promote goes straight through. Trident
 * reads the backend's (async) policy here and would wait for snap-late forever. */
Test(reconciler_tmr, h4_sync_tmr_on_async_backend_promotes_without_waiting)
{
	establish_with("MirrorAllSnapshots", "Sync", "in_sync");
	mg_rec_result res;
	cr_assert_eq(mg_tmr_reconcile(&E.ctx_b, "app", "mirror", &res), 0);
	cr_expect_str_neq(rec_env_cond(&E, "app", "mirror", "message"),
			  "Waiting for snapshot vol_src/snap-late", "the backend's policy was used");
	int n = rec_env_tmr_until(&E, &E.ctx_b, "app", "mirror", "promoted", 10, 1000);
	cr_assert_gt(n, 0, "never promoted: '%s'", rec_env_cond(&E, "app", "mirror", "message"));
	cr_expect_eq(rec_env_requests_with_body(&E, "PATCH", "/api/snapmirror", "restore_to_snapshot"),
		     0, "no restore for a synchronous mirror");
	cr_expect_eq(rec_env_requests_with_body(&E, "PATCH", "/api/snapmirror", "broken_off"), 1);
	cr_expect_not(rec_env_relationship(&E, "svm-b:vol_dst", NULL, 0));
	rec_env_write(&E, 1, "svm-b:vol_dst"); /* writable */
	assert_no_loss();
}

/* The converse: backend default Sync, TMR async. The promote waits for the snapshot (H1
 * path) and restores to it once a transfer brought it. Trident, reading the backend's Sync,
 * would ignore the handle and break at once, without the snapshot. */
Test(reconciler_tmr, h4_async_tmr_on_sync_backend_waits_for_the_snapshot)
{
	establish_with("Sync", "MirrorAllSnapshots", "snapmirrored");
	for (int i = 0; i < 3; i++) {
		mg_rec_result res;
		cr_assert_eq(mg_tmr_reconcile(&E.ctx_b, "app", "mirror", &res), 0);
		cr_expect_eq(res.outcome, MG_REC_RETRY);
		cr_expect_str_eq(rec_env_cond(&E, "app", "mirror", "state"), "promoting");
		cr_expect_str_eq(rec_env_cond(&E, "app", "mirror", "message"),
				 "Waiting for snapshot vol_src/snap-late");
		ontap_sim_advance(&E.ontap, 1000);
	}
	cr_expect_eq(rec_env_requests_with_body(&E, "PATCH", "/api/snapmirror", "state"), 0,
		     "nothing quiesced or broken while waiting");
	rec_env_transfer(&E, "svm-b:vol_dst");
	int n = rec_env_tmr_until(&E, &E.ctx_b, "app", "mirror", "promoted", 20, 1000);
	cr_assert_gt(n, 0, "never promoted: '%s'", rec_env_cond(&E, "app", "mirror", "message"));
	cr_expect_eq(rec_env_requests_with_body(&E, "PATCH", "/api/snapmirror",
						"\"restore_to_snapshot\":\"snap-late\""),
		     1, "the break restored to the promoted snapshot");
	cr_expect(rec_env_has_snapshot(&E, 1, "vol_dst", "snap-late"));
	assert_no_loss();
}

static bool pvc_has_finalizer(const char *fin)
{
	cJSON *o = rec_env_get(&E, &mg_k8s_res_pvc, "app", "data");
	const cJSON *f = cJSON_GetObjectItem(cJSON_GetObjectItem(o, "metadata"), "finalizers");
	bool has = false;
	const cJSON *it;
	cJSON_ArrayForEach(it, f)
		has = has || (cJSON_IsString(it) && strcmp(it->valuestring, fin) == 0);
	cJSON_Delete(o);
	return has;
}

/* A Terminating PVC (a pod's kubernetes.io/pvc-protection keeps it, its PV bound): its
 * release runs once and our finalizer goes; TMR passes meanwhile neither create a new
 * relationship onto the volume nor put the finalizer back, and say why on the TMR. Before
 * the fix every pass re-established it and the PVC controller deleted it again. */
Test(reconciler_tmr, terminating_pvc_is_released_once_and_not_mirrored_again)
{
	establish();
	cr_assert(pvc_has_finalizer(MG_PVC_FINALIZER));
	cJSON *p = cJSON_Parse("{\"metadata\":{\"finalizers\":[\"kubernetes.io/pvc-protection\",\""
			       MG_PVC_FINALIZER "\"]}}");
	mg_k8s_status st;
	cr_assert_eq(mg_k8s_patch(NULL, E.k8s, &mg_k8s_res_pvc, "app", "data", NULL,
				  MG_K8S_PATCH_MERGE, p, &st),
		     0, "%s", st.message);
	cJSON_Delete(p);
	rec_env_delete(&E, &mg_k8s_res_pvc, "app", "data");
	mg_rec_result res;
	cr_assert_eq(mg_pvc_reconcile(&E.ctx_b, "app", "data", &res), 0);
	cr_expect_eq(res.outcome, MG_REC_FORGET, "%s", res.reason);
	cr_expect_not(pvc_has_finalizer(MG_PVC_FINALIZER));
	cr_expect_not(rec_env_relationship(&E, "svm-b:vol_dst", NULL, 0), "released");
	int creates = ontap_sim_count_requests(&E.ontap, NULL, "POST",
					       "/api/snapmirror/relationships");
	int deletes = ontap_sim_count_requests(&E.ontap, NULL, "DELETE", "/api/snapmirror/");
	for (int i = 0; i < 3; i++)
		cr_expect_eq(rec_env_pass(&E, &E.ctx_b, "app", "mirror"), MG_REC_DONE);
	cr_expect_eq(ontap_sim_count_requests(&E.ontap, NULL, "POST",
					      "/api/snapmirror/relationships"),
		     creates, "a relationship was created for a Terminating PVC");
	cr_expect_not(rec_env_relationship(&E, "svm-b:vol_dst", NULL, 0));
	cr_expect_not(pvc_has_finalizer(MG_PVC_FINALIZER), "our finalizer went back on");
	cr_expect(pvc_has_finalizer("kubernetes.io/pvc-protection"), "still Terminating");
	cr_expect_str_eq(rec_env_cond(&E, "app", "mirror", "state"), "established");
	cr_expect(strstr(rec_env_cond(&E, "app", "mirror", "message"), "is being deleted"), "%s",
		  rec_env_cond(&E, "app", "mirror", "message"));
	/* the PVC controller, called again, has nothing left to release */
	cr_assert_eq(mg_pvc_reconcile(&E.ctx_b, "app", "data", &res), 0);
	cr_expect_eq(res.outcome, MG_REC_FORGET);
	cr_expect_eq(ontap_sim_count_requests(&E.ontap, NULL, "DELETE", "/api/snapmirror/"),
		     deletes, "released once");
	assert_no_loss();
}
