/* TAMU and TSI through the mirrorgate-reconciler binary's watch/queue/worker path: a mirror
 * update goes "In progress" then "Succeeded" and its snapshot reaches the destination; one
 * for a TMR that is not established fails with Trident's message; one deleted while its
 * transfer runs goes away without aborting anything; a TSI gets its snapshot handle and
 * an Event, also when its VolumeSnapshotContent appears later. /metrics counts the update
 * and the tamu/tsi passes. The ledger is asserted in each. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirrorgate/k8s/client.h"
#include "reconciler_e2e.h"

#define BIN MG_BIN_DIR "/mirrorgate-reconciler"

static rec_env E;
static rec_proc R;

static void setup(void)
{
	rec_e2e_start_with_config(&E, &R, NULL);
}

static void teardown(void)
{
	rec_e2e_stop_with_proc(&E, &R);
}

TestSuite(reconciler_e2e_actions, .init = setup, .fini = teardown, .timeout = 120);

static const char *const k_extra[] = {"--resync-period", "2s", "--leader-elect", "false", NULL};

#define TAMU(name, tmr, extra)                                                            \
	"apiVersion: trident.netapp.io/v1\nkind: TridentActionMirrorUpdate\n"             \
	"metadata: {name: " name ", namespace: app}\n"                                      \
	"spec: {tridentMirrorRelationshipName: " tmr extra "}\n"

static const char *tamu(const char *name, const char *field)
{
	return rec_e2e_status(&E, &mg_k8s_res_tamu, "app", name, field);
}

static bool has_finalizer(const mg_k8s_resource *r, const char *name)
{
	cJSON *o = rec_env_get(&E, r, "app", name);
	const cJSON *f = cJSON_GetObjectItem(cJSON_GetObjectItem(o, "metadata"), "finalizers");
	bool yes = cJSON_GetArraySize(f) > 0;
	cJSON_Delete(o);
	return yes;
}

static void start_and_establish(void)
{
	rec_env_mirror_pair(&E);
	rec_proc_start(&R, BIN, E.kube.kubeconfig, "r1", k_extra);
	rec_env_create(&E, &mg_k8s_res_tmr, "app", REC_E2E_TMR);
	cr_assert(rec_e2e_wait_state(&E, "app", "mirror", "established", 20000),
		  "state '%s' message '%s'; see %s", rec_env_cond(&E, "app", "mirror", "state"),
		  rec_env_cond(&E, "app", "mirror", "message"), R.log);
}

/* PATCHes of the destination's relationships and transfers (quiesce, abort, break, ...). */
static int destination_patches(void)
{
	return ontap_sim_count_requests(&E.ontap, "cluster-b", "PATCH", "/api/snapmirror/");
}

Test(reconciler_e2e_actions, tamu_in_progress_then_succeeded_with_the_snapshot)
{
	start_and_establish();
	rec_env_write(&E, 0, "svm-a:vol_src");
	rec_env_snapshot(&E, 0, "vol_src", "snap-2");
	cr_expect_not(rec_env_has_snapshot(&E, 1, "vol_dst", "snap-2"));
	/* the update's transfer hangs until the fault is cleared: "In progress" is observable */
	rec_env_fault(&E, "{\"type\":\"transfer\",\"mode\":\"hang\"}");
	rec_env_create(&E, &mg_k8s_res_tamu, "app",
		       TAMU("update1", "mirror", ", snapshotHandle: vol_src/snap-2"));
	cr_assert(rec_e2e_wait_status(&E, &mg_k8s_res_tamu, "app", "update1", "state", "In progress",
				      10000),
		  "state '%s' message '%s'; see %s", tamu("update1", "state"),
		  tamu("update1", "message"), R.log);
	cr_expect(has_finalizer(&mg_k8s_res_tamu, "update1"));
	cr_expect_neq(tamu("update1", "previousTransferTime")[0], '\0', "the baseline's end");
	cr_expect_str_eq(tamu("update1", "localVolumeHandle"), "svm-b:vol_dst");
	cr_expect_str_eq(tamu("update1", "remoteVolumeHandle"), "svm-a:vol_src");
	cr_expect_str_eq(tamu("update1", "snapshotHandle"), "vol_src/snap-2");
	cr_expect_str_eq(tamu("update1", "completionTime"), "");
	rec_e2e_nap(1500); /* several polls: a running transfer is not success */
	cr_expect_str_eq(tamu("update1", "state"), "In progress");
	rec_env_clear_faults(&E);
	cr_assert(rec_e2e_wait_status(&E, &mg_k8s_res_tamu, "app", "update1", "state", "Succeeded",
				      10000),
		  "state '%s' message '%s'; see %s", tamu("update1", "state"),
		  tamu("update1", "message"), R.log);
	cr_expect_str_eq(tamu("update1", "message"), "");
	cr_expect_neq(tamu("update1", "completionTime")[0], '\0');
	/* both RFC 3339 UTC with seconds: the update may end within the baseline's second */
	char prev[64];
	snprintf(prev, sizeof(prev), "%s", tamu("update1", "previousTransferTime"));
	cr_expect_geq(strcmp(tamu("update1", "completionTime"), prev),
		     0, "completed (%s) not before the previous transfer (%s)", tamu("update1", "completionTime"),
		     prev);
	cr_expect(rec_e2e_wait_gone(&E, &mg_k8s_res_tamu, "app", "update1", 0) ||
			  !has_finalizer(&mg_k8s_res_tamu, "update1"),
		  "the finalizer goes with completion");
	cr_expect(rec_env_has_snapshot(&E, 1, "vol_dst", "snap-2"), "the snapshot arrived");
	cr_expect_str_eq(rec_env_cond(&E, "app", "mirror", "state"), "established");

	char *m = NULL;
	cr_expect(rec_e2e_wait_metric(&R, "mirrorgate_ontap_calls_total{operation=\"update\","
					  "outcome=\"success\"} 1",
				      true, 3000, &m),
		  "%s", m);
	free(m);
	cr_expect_geq(rec_e2e_metric(&R, "mirrorgate_reconcile_total{controller=\"tamu\","
					 "outcome=\"forget\"}"),
		      1);
	cr_expect_geq(rec_e2e_metric(&R, "mirrorgate_reconcile_total{controller=\"tamu\","
					 "outcome=\"retry\"}"),
		      1, "In progress is polled with backoff");
	rec_e2e_assert_no_loss(&E);
}

/* Deleting a TAMU aborts nothing (docs/operations.md): the finalizer goes, the transfer
 * it started runs on and delivers its snapshot. */
Test(reconciler_e2e_actions, tamu_deleted_while_in_progress_goes_away_without_abort)
{
	start_and_establish();
	rec_env_write(&E, 0, "svm-a:vol_src");
	rec_env_snapshot(&E, 0, "vol_src", "snap-3");
	rec_env_fault(&E, "{\"type\":\"transfer\",\"mode\":\"hang\"}");
	rec_env_create(&E, &mg_k8s_res_tamu, "app",
		       TAMU("update2", "mirror", ", snapshotHandle: vol_src/snap-3"));
	cr_assert(rec_e2e_wait_status(&E, &mg_k8s_res_tamu, "app", "update2", "state", "In progress",
				      10000),
		  "see %s", R.log);
	int patches = destination_patches();
	rec_env_delete(&E, &mg_k8s_res_tamu, "app", "update2");
	cr_assert(rec_e2e_wait_gone(&E, &mg_k8s_res_tamu, "app", "update2", 10000),
		  "the TAMU kept its finalizer; see %s", R.log);
	rec_e2e_nap(1000);
	cr_expect_eq(destination_patches(), patches, "no abort, quiesce or break");
	char state[64];
	cr_expect(rec_env_relationship(&E, "svm-b:vol_dst", state, sizeof(state)));
	cr_expect_str_eq(state, "snapmirrored");
	cr_expect_not(rec_env_has_snapshot(&E, 1, "vol_dst", "snap-3"), "still transferring");
	rec_env_clear_faults(&E); /* the transfer was never aborted: it finishes */
	bool arrived = false;
	for (int i = 0; i < 50 && !arrived; i++) {
		arrived = rec_env_has_snapshot(&E, 1, "vol_dst", "snap-3");
		if (!arrived)
			rec_e2e_nap(100);
	}
	cr_expect(arrived, "the update's snapshot arrived after all");
	cr_expect_str_eq(rec_env_cond(&E, "app", "mirror", "state"), "established");
	rec_e2e_assert_no_loss(&E);
}

Test(reconciler_e2e_actions, tamu_for_a_tmr_not_established_fails_with_tridents_message)
{
	rec_env_mirror_pair(&E);
	/* the baseline hangs: the TMR stays "establishing" */
	rec_env_fault(&E, "{\"type\":\"transfer\",\"mode\":\"hang\"}");
	rec_proc_start(&R, BIN, E.kube.kubeconfig, "r1", k_extra);
	rec_env_create(&E, &mg_k8s_res_tmr, "app", REC_E2E_TMR);
	cr_assert(rec_e2e_wait_state(&E, "app", "mirror", "establishing", 10000), "see %s", R.log);
	int patches = destination_patches();
	int transfers = ontap_sim_count_requests(&E.ontap, "cluster-b", "POST", "/transfers");
	rec_env_create(&E, &mg_k8s_res_tamu, "app", TAMU("early", "mirror", ""));
	cr_assert(rec_e2e_wait_status(&E, &mg_k8s_res_tamu, "app", "early", "state", "Failed",
				      10000),
		  "state '%s'; see %s", tamu("early", "state"), R.log);
	cr_expect_str_eq(tamu("early", "message"),
			 "mirror update failed: TAMU early cannot be executed for TMR mirror in "
			 "establishing state");
	cr_expect_neq(tamu("early", "completionTime")[0], '\0');
	cr_expect_not(has_finalizer(&mg_k8s_res_tamu, "early"));
	rec_env_create(&E, &mg_k8s_res_tamu, "app", TAMU("orphan", "nope", ""));
	cr_assert(rec_e2e_wait_status(&E, &mg_k8s_res_tamu, "app", "orphan", "state", "Failed",
				      10000),
		  "see %s", R.log);
	cr_expect_str_eq(tamu("orphan", "message"),
			 "TridentMirrorRelationship 'nope' for TridentActionMirrorUpdate 'orphan' "
			 "does not yet exist.");
	cr_expect_eq(destination_patches(), patches, "a refused update touches nothing");
	cr_expect_eq(ontap_sim_count_requests(&E.ontap, "cluster-b", "POST", "/transfers"),
		     transfers, "no transfer was started for them");
	rec_env_clear_faults(&E);
	cr_assert(rec_e2e_wait_state(&E, "app", "mirror", "established", 20000), "see %s", R.log);
	rec_e2e_assert_no_loss(&E);
}

/* ---- TSI ---- */

#define TSI                                                                         \
	"apiVersion: trident.netapp.io/v1\nkind: TridentSnapshotInfo\n"             \
	"metadata: {name: info, namespace: app}\nspec: {snapshotName: snap1}\n"
#define HANDLE "pv-app-data/snapshot-5e1f"

static void patch_status(const mg_k8s_resource *r, const char *ns, const char *name,
			 const char *json)
{
	cJSON *p = cJSON_Parse(json);
	cr_assert_not_null(p);
	mg_k8s_status st;
	cr_assert_eq(mg_k8s_patch(NULL, E.k8s, r, ns, name, "status", MG_K8S_PATCH_MERGE, p, &st), 0,
		     "%s", st.message);
	cJSON_Delete(p);
}

/* A VolumeSnapshot of PVC app/data, not bound yet (the snapshot controller has not run). */
static void volume_snapshot(void)
{
	rec_env_create(&E, &mg_k8s_res_vs, "app",
		       "apiVersion: snapshot.storage.k8s.io/v1\nkind: VolumeSnapshot\n"
		       "metadata: {name: snap1, namespace: app}\n"
		       "spec: {source: {persistentVolumeClaimName: data}}\n");
}

/* Trident's VolumeSnapshotContent, and both bound as the snapshot controller does it. */
static void bound_content(void)
{
	rec_env_create(&E, &mg_k8s_res_vsc, NULL,
		       "apiVersion: snapshot.storage.k8s.io/v1\nkind: VolumeSnapshotContent\n"
		       "metadata: {name: snapcontent-1}\n"
		       "spec: {driver: csi.trident.netapp.io, deletionPolicy: Delete,"
		       " source: {volumeHandle: pv-app-data},"
		       " volumeSnapshotRef: {name: snap1, namespace: app}}\n");
	patch_status(&mg_k8s_res_vsc, NULL, "snapcontent-1",
		     "{\"status\":{\"snapshotHandle\":\"" HANDLE "\",\"readyToUse\":true}}");
	patch_status(&mg_k8s_res_vs, "app", "snap1",
		     "{\"status\":{\"boundVolumeSnapshotContentName\":\"snapcontent-1\","
		     "\"readyToUse\":true}}");
}

static const char *tsi_handle(void)
{
	return rec_e2e_status(&E, &mg_k8s_res_tsi, "app", "info", "snapshotHandle");
}

Test(reconciler_e2e_actions, tsi_gets_the_snapshot_handle_and_an_event)
{
	rec_env_mirror_pair(&E); /* the handle's volume: PV pv-app-data, vol_dst on svm-b */
	volume_snapshot();
	bound_content();
	rec_proc_start(&R, BIN, E.kube.kubeconfig, "r1", k_extra);
	rec_env_create(&E, &mg_k8s_res_tsi, "app", TSI);
	cr_assert(rec_e2e_wait_status(&E, &mg_k8s_res_tsi, "app", "info", "snapshotHandle", HANDLE,
				      10000),
		  "handle '%s'; see %s", tsi_handle(), R.log);
	cr_expect(has_finalizer(&mg_k8s_res_tsi, "info"));
	for (int i = 0; i < 20 && rec_env_events(&E, "app", "info", "updated") == 0; i++)
		rec_e2e_nap(100);
	cr_expect_eq(rec_env_events(&E, "app", "info", "updated"), 1);
	/* resyncs (2 s) rewrite nothing: still one Event */
	rec_e2e_nap(2500);
	cr_expect_eq(rec_env_events(&E, "app", "info", "updated"), 1);
	cr_expect_geq(rec_e2e_metric(&R, "mirrorgate_reconcile_total{controller=\"tsi\","
					 "outcome=\"done\"}"),
		      2);
	rec_env_delete(&E, &mg_k8s_res_tsi, "app", "info");
	cr_expect(rec_e2e_wait_gone(&E, &mg_k8s_res_tsi, "app", "info", 10000),
		  "the finalizer goes on deletion; see %s", R.log);
	rec_e2e_assert_no_loss(&E);
}

/* The VolumeSnapshotContent appears after the TSI: the TSI is deferred without a status,
 * then resolved (through the watch, or with the tests' 1 s backoff cap at the next retry;
 * tsi_notices_the_bound_content_through_a_watch shows the watch alone). */
Test(reconciler_e2e_actions, tsi_deferred_until_the_content_is_bound)
{
	rec_env_mirror_pair(&E); /* the handle's volume: PV pv-app-data, vol_dst on svm-b */
	rec_proc_start(&R, BIN, E.kube.kubeconfig, "r1", k_extra);
	rec_env_create(&E, &mg_k8s_res_tsi, "app", TSI);
	volume_snapshot();
	rec_e2e_nap(1500);
	cr_expect_str_eq(tsi_handle(), "", "deferred: no handle yet");
	cr_expect_eq(rec_env_events(&E, "app", "info", "updated"), 0);
	cr_expect_eq(rec_env_events(&E, "app", "info", "updateFailed"), 0,
		     "an unbound snapshot is not a failure");
	cr_expect_geq(rec_e2e_metric(&R, "mirrorgate_reconcile_total{controller=\"tsi\","
					 "outcome=\"retry\"}"),
		      1);
	bound_content();
	cr_assert(rec_e2e_wait_status(&E, &mg_k8s_res_tsi, "app", "info", "snapshotHandle", HANDLE,
				      5000),
		  "handle '%s'; see %s", tsi_handle(), R.log);
	for (int i = 0; i < 20 && rec_env_events(&E, "app", "info", "updated") == 0; i++)
		rec_e2e_nap(100);
	cr_expect_eq(rec_env_events(&E, "app", "info", "updated"), 1);
	rec_e2e_assert_no_loss(&E);
}

/* The binary watches VolumeSnapshots and VolumeSnapshotContents: a TSI deferred because
 * its VolumeSnapshot is not bound yet is re-read when the snapshot controller binds it, not
 * at its next backoff retry (up to --backoff-cap, 5m by default). Here the backoff is 40 s:
 * the handle arrives within 5 s of the binding only through the watch. */
Test(reconciler_e2e_actions, tsi_notices_the_bound_content_through_a_watch)
{
	static const char *const slow[] = {"--leader-elect", "false", "--backoff-base", "40s",
					   "--backoff-cap", "40s", NULL};
	rec_env_mirror_pair(&E); /* the handle's volume: PV pv-app-data, vol_dst on svm-b */
	rec_proc_start(&R, BIN, E.kube.kubeconfig, "r1", slow);
	volume_snapshot();
	rec_env_create(&E, &mg_k8s_res_tsi, "app", TSI);
	cr_assert(rec_e2e_wait_metric(&R, "mirrorgate_reconcile_total{controller=\"tsi\","
					  "outcome=\"retry\"}",
				      true, 5000, NULL),
		  "the TSI was not deferred; see %s", R.log);
	bound_content();
	cr_expect(rec_e2e_wait_status(&E, &mg_k8s_res_tsi, "app", "info", "snapshotHandle", HANDLE,
				      5000),
		  "handle '%s' 5 s after the binding; see %s", tsi_handle(), R.log);
	rec_e2e_assert_no_loss(&E);
}
