/* TAMU and TSI controllers against real kube-sim and ontap-sim processes: Trident's state
 * strings and messages, success only after a newer transfer, the snapshot handle chain;
 * the ledger is asserted in each. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/k8s/client.h"
#include "mirrorgate/ontap/snapmirror.h"
#include "mirrorgate/reconcile/reconcile.h"
#include "reconciler_env.h"
#include "tamu_controller.h"
#include "tmr_controller.h"
#include "tsi_controller.h"

static rec_env E;

static void setup(void)
{
	rec_env_start(&E);
}

static void teardown(void)
{
	rec_env_stop(&E);
}

TestSuite(reconciler_actions, .init = setup, .fini = teardown, .timeout = 120);

static void assert_no_loss(void)
{
	char *text = NULL;
	cr_expect_eq(rec_env_ledger(&E, &text), 0, "data-loss ledger: %s", text);
	free(text);
}

static void establish(void)
{
	rec_env_mirror_pair(&E);
	rec_env_create(&E, &mg_k8s_res_tmr, "app",
		       "apiVersion: trident.netapp.io/v1\nkind: TridentMirrorRelationship\n"
		       "metadata: {name: mirror, namespace: app}\n"
		       "spec:\n  state: established\n  replicationPolicy: MirrorAllSnapshots\n"
		       "  volumeMappings:\n  - localPVCName: data\n"
		       "    remoteVolumeHandle: svm-a:vol_src\n");
	cr_assert_gt(rec_env_tmr_until(&E, &E.ctx_b, "app", "mirror", "established", 30, 1000), 0);
}

/* Runs TAMU passes until the controller lets go; returns the passes or -1. */
static int tamu_until_done_ctx(mg_rctx *ctx, const char *name, int max)
{
	for (int i = 1; i <= max; i++) {
		mg_rec_result res;
		cr_assert_eq(mg_tamu_reconcile(ctx, "app", name, &res), 0);
		if (res.outcome == MG_REC_FORGET)
			return i;
		ontap_sim_advance(&E.ontap, 1000);
	}
	return -1;
}

static int tamu_until_done(const char *name, int max)
{
	return tamu_until_done_ctx(&E.ctx_b, name, max);
}

static const char *tamu_status(const char *name, const char *field)
{
	static char buf[1024];
	buf[0] = '\0';
	cJSON *o = rec_env_get(&E, &mg_k8s_res_tamu, "app", name);
	const cJSON *f = cJSON_GetObjectItem(cJSON_GetObjectItem(o, "status"), field);
	if (cJSON_IsString(f))
		snprintf(buf, sizeof(buf), "%s", f->valuestring);
	cJSON_Delete(o);
	return buf;
}

static bool tamu_has_finalizer(const char *name)
{
	cJSON *o = rec_env_get(&E, &mg_k8s_res_tamu, "app", name);
	const cJSON *f = cJSON_GetObjectItem(cJSON_GetObjectItem(o, "metadata"), "finalizers");
	bool yes = cJSON_GetArraySize(f) > 0;
	cJSON_Delete(o);
	return yes;
}

#define TAMU(name, extra)                                                                 \
	"apiVersion: trident.netapp.io/v1\nkind: TridentActionMirrorUpdate\n"             \
	"metadata: {name: " name ", namespace: app}\n"                                      \
	"spec: {tridentMirrorRelationshipName: mirror" extra "}\n"

Test(reconciler_actions, tamu_transfers_the_snapshot_and_succeeds)
{
	establish();
	rec_env_write(&E, 0, "svm-a:vol_src");
	rec_env_snapshot(&E, 0, "vol_src", "snap-2");
	cr_expect_not(rec_env_has_snapshot(&E, 1, "vol_dst", "snap-2"));
	rec_env_create(&E, &mg_k8s_res_tamu, "app", TAMU("update1", ", snapshotHandle: vol_src/snap-2"));
	mg_rec_result res;
	cr_assert_eq(mg_tamu_reconcile(&E.ctx_b, "app", "update1", &res), 0);
	cr_expect_eq(res.outcome, MG_REC_RETRY);
	cr_expect_str_eq(tamu_status("update1", "state"), "In progress");
	cr_expect(tamu_has_finalizer("update1"));
	cr_expect_str_eq(tamu_status("update1", "localVolumeHandle"), "svm-b:vol_dst");
	cr_expect_str_eq(tamu_status("update1", "remoteVolumeHandle"), "svm-a:vol_src");
	cr_expect_str_eq(tamu_status("update1", "snapshotHandle"), "vol_src/snap-2");
	cr_expect_neq(tamu_status("update1", "previousTransferTime")[0], '\0',
		      "the baseline's end time");
	cr_assert_gt(tamu_until_done("update1", 20), 0);
	cr_expect_str_eq(tamu_status("update1", "state"), "Succeeded");
	cr_expect_str_eq(tamu_status("update1", "message"), "");
	cr_expect_neq(tamu_status("update1", "completionTime")[0], '\0');
	cr_expect_not(tamu_has_finalizer("update1"));
	cr_expect(rec_env_has_snapshot(&E, 1, "vol_dst", "snap-2"));
	/* complete: further passes leave it alone */
	cr_assert_eq(mg_tamu_reconcile(&E.ctx_b, "app", "update1", &res), 0);
	cr_expect_eq(res.outcome, MG_REC_FORGET);
	assert_no_loss();
}

Test(reconciler_actions, tamu_failures_use_tridents_messages)
{
	establish();
	rec_env_create(&E, &mg_k8s_res_tamu, "app",
		       "apiVersion: trident.netapp.io/v1\nkind: TridentActionMirrorUpdate\n"
		       "metadata: {name: orphan, namespace: app}\n"
		       "spec: {tridentMirrorRelationshipName: nope}\n");
	cr_assert_gt(tamu_until_done("orphan", 3), 0);
	cr_expect_str_eq(tamu_status("orphan", "state"), "Failed");
	cr_expect_str_eq(tamu_status("orphan", "message"),
			 "TridentMirrorRelationship 'nope' for TridentActionMirrorUpdate 'orphan' "
			 "does not yet exist.");
	rec_env_create(&E, &mg_k8s_res_tamu, "app", TAMU("badsnap", ", snapshotHandle: nosep"));
	cr_assert_gt(tamu_until_done("badsnap", 3), 0);
	cr_expect_str_eq(tamu_status("badsnap", "message"), "invalid snapshot handle nosep");
	/* a TAMU someone created "In progress": not ours, failed as Trident does */
	rec_env_create(&E, &mg_k8s_res_tamu, "app",
		       TAMU("foreign", "}\nstatus: {state: In progress"));
	cr_assert_gt(tamu_until_done("foreign", 3), 0);
	cr_expect_str_eq(tamu_status("foreign", "message"),
			 "in-progress TAMU foreign detected at startup, marking as Failed");
	/* a transfer that fails: Failed with ONTAP's reason */
	rec_env_fault(&E, "{\"type\":\"transfer\",\"mode\":\"fail\",\"code\":\"13303812\","
			  "\"message\":\"source volume offline\"}");
	rec_env_create(&E, &mg_k8s_res_tamu, "app", TAMU("doomed", ""));
	cr_assert_gt(tamu_until_done("doomed", 20), 0);
	cr_expect_str_eq(tamu_status("doomed", "state"), "Failed");
	cr_expect(strstr(tamu_status("doomed", "message"), "mirror update failed"), "%s",
		  tamu_status("doomed", "message"));
	/* on a promoted TMR */
	rec_env_clear_faults(&E);
	rec_env_patch_spec(&E, "app", "mirror", "{\"spec\":{\"state\":\"promoted\"}}");
	cr_assert_gt(rec_env_tmr_until(&E, &E.ctx_b, "app", "mirror", "promoted", 20, 1000), 0);
	rec_env_create(&E, &mg_k8s_res_tamu, "app", TAMU("late", ""));
	cr_assert_gt(tamu_until_done("late", 3), 0);
	cr_expect_str_eq(tamu_status("late", "message"),
			 "mirror update failed: TAMU late cannot be executed for TMR mirror in "
			 "promoted state");
	assert_no_loss();
}

/* A transfer started on ONTAP behind the reconciler's back (an admin's update, or the
 * schedule's), made slow so that a TAMU arrives while it runs. */
static void start_slow_transfer(int64_t transfer_ms)
{
	char body[128];
	snprintf(body, sizeof(body), "{\"transfer_ms\":%lld}", (long long)transfer_ms);
	cr_assert_eq(ontap_sim_control(&E.ontap, "POST", "settings", body, NULL), 200);
	rec_env_transfer(&E, "svm-b:vol_dst");
}

static bool transfer_active(void)
{
	mg_ontap_relationship_filter f = {NULL, "svm-b:vol_dst", false};
	mg_ontap_relationship rel;
	mg_ontap_error err;
	cr_assert_eq(mg_ontap_relationship_get(E.cb, &f, &rel, &err), 0, "%s", err.message);
	return mg_relationship_transfer_active(&rel);
}

/* The race Trident has: a transfer already running when the TAMU comes ends after
 * previousTransferTime, but it cannot carry a snapshot made after it started. The TAMU is
 * not Succeeded when that transfer ends; its own update is sent then, and only its end
 * makes the TAMU Succeeded, with the snapshot on the destination. */
Test(reconciler_actions, tamu_does_not_count_a_transfer_that_was_already_running)
{
	establish();
	start_slow_transfer(20000);
	ontap_sim_advance(&E.ontap, 1000); /* queued -> transferring */
	cr_assert(transfer_active());
	rec_env_write(&E, 0, "svm-a:vol_src");
	rec_env_snapshot(&E, 0, "vol_src", "snap-new");
	rec_env_create(&E, &mg_k8s_res_tamu, "app",
		       TAMU("racer", ", snapshotHandle: vol_src/snap-new"));
	int posts = ontap_sim_count_requests(&E.ontap, NULL, "POST", "/transfers");
	mg_rec_result res;
	cr_assert_eq(mg_tamu_reconcile(&E.ctx_b, "app", "racer", &res), 0);
	cr_expect_eq(res.outcome, MG_REC_RETRY);
	cr_expect_str_eq(tamu_status("racer", "state"), "In progress");
	cr_expect_eq(ontap_sim_count_requests(&E.ontap, NULL, "POST", "/transfers"), posts,
		     "no update sent while another transfer runs");
	/* let the first transfer end, with passes on the way */
	for (int i = 0; i < 40 && transfer_active(); i++) {
		cr_assert_eq(mg_tamu_reconcile(&E.ctx_b, "app", "racer", &res), 0);
		cr_expect_eq(res.outcome, MG_REC_RETRY);
		ontap_sim_advance(&E.ontap, 1000);
	}
	cr_assert_not(transfer_active(), "the first transfer never ended");
	cr_expect_not(rec_env_has_snapshot(&E, 1, "vol_dst", "snap-new"),
		      "the first transfer could not carry the newer snapshot");
	cr_assert_eq(mg_tamu_reconcile(&E.ctx_b, "app", "racer", &res), 0);
	cr_expect_eq(res.outcome, MG_REC_RETRY);
	cr_expect_str_eq(tamu_status("racer", "state"), "In progress",
			 "the earlier transfer's end is not this update's success");
	cr_expect_eq(ontap_sim_count_requests(&E.ontap, NULL, "POST", "/transfers"), posts + 1,
		     "the update is sent once the earlier transfer has ended");
	cr_assert_gt(tamu_until_done("racer", 40), 0);
	cr_expect_str_eq(tamu_status("racer", "state"), "Succeeded");
	cr_expect(rec_env_has_snapshot(&E, 1, "vol_dst", "snap-new"));
	cr_expect_not(tamu_has_finalizer("racer"));
	cr_expect_eq(ontap_sim_count_requests(&E.ontap, NULL, "POST", "/transfers"), posts + 1);
	assert_no_loss();
}

/* ONTAP answers the update "Another transfer is in progress" (a transfer that started
 * between our read and our request): wait, then send again; the busy answer is neither a
 * failure nor a success. */
Test(reconciler_actions, tamu_busy_answer_waits_and_sends_again)
{
	establish();
	rec_env_fault(&E, "{\"type\":\"request\",\"method\":\"POST\","
			  "\"path\":\"/api/snapmirror/relationships/*/transfers\",\"status\":400,"
			  "\"code\":\"13303844\",\"message\":\"Update operation failed. "
			  "Reason:Another transfer is in progress.\"}");
	rec_env_create(&E, &mg_k8s_res_tamu, "app", TAMU("busy", ""));
	int posts = ontap_sim_count_requests(&E.ontap, NULL, "POST", "/transfers");
	mg_rec_result res;
	cr_assert_eq(mg_tamu_reconcile(&E.ctx_b, "app", "busy", &res), 0);
	cr_expect_eq(res.outcome, MG_REC_RETRY);
	cr_expect_str_eq(tamu_status("busy", "state"), "In progress");
	cr_expect(strstr(res.reason, "Another transfer is in progress"), "%s", res.reason);
	cr_expect_eq(ontap_sim_count_requests(&E.ontap, NULL, "POST", "/transfers"), posts + 1);
	cr_assert_gt(tamu_until_done("busy", 20), 0);
	cr_expect_str_eq(tamu_status("busy", "state"), "Succeeded");
	cr_expect_eq(ontap_sim_count_requests(&E.ontap, NULL, "POST", "/transfers"), posts + 2,
		     "sent again after the busy answer");
	assert_no_loss();
}

/* A reconciler restart (or a new leader) finds its own In-progress TAMU and finishes it. */
Test(reconciler_actions, tamu_in_progress_is_resumed_after_restart)
{
	establish();
	rec_env_create(&E, &mg_k8s_res_tamu, "app", TAMU("update2", ""));
	mg_rec_result res;
	cr_assert_eq(mg_tamu_reconcile(&E.ctx_b, "app", "update2", &res), 0);
	cr_expect_str_eq(tamu_status("update2", "state"), "In progress");
	/* "restart": a fresh context, same objects */
	mg_rctx fresh = E.ctx_b;
	cr_assert_gt(tamu_until_done_ctx(&fresh, "update2", 20), 0);
	cr_expect_str_eq(tamu_status("update2", "state"), "Succeeded");
	assert_no_loss();
}

/* ---- TSI ---- */

static void snapshot_objects(const char *driver, const char *handle)
{
	char buf[1024];
	rec_env_create(&E, &mg_k8s_res_vs, "app",
		       "apiVersion: snapshot.storage.k8s.io/v1\nkind: VolumeSnapshot\n"
		       "metadata: {name: snap1, namespace: app}\n"
		       "spec: {source: {persistentVolumeClaimName: data}}\n");
	snprintf(buf, sizeof(buf),
		 "apiVersion: snapshot.storage.k8s.io/v1\nkind: VolumeSnapshotContent\n"
		 "metadata: {name: snapcontent-1}\n"
		 "spec: {driver: %s, deletionPolicy: Delete, source: {snapshotHandle: %s},"
		 " volumeSnapshotRef: {name: snap1, namespace: app}}\n",
		 driver, handle);
	rec_env_create(&E, &mg_k8s_res_vsc, NULL, buf);
	/* bind them as the snapshot controller would */
	mg_k8s_status st;
	cJSON *p = cJSON_Parse("{\"status\":{\"boundVolumeSnapshotContentName\":\"snapcontent-1\","
			       "\"readyToUse\":true}}");
	cr_assert_eq(mg_k8s_patch(NULL, E.k8s, &mg_k8s_res_vs, "app", "snap1", "status",
				  MG_K8S_PATCH_MERGE, p, &st),
		     0, "%s", st.message);
	cJSON_Delete(p);
	snprintf(buf, sizeof(buf), "{\"status\":{\"snapshotHandle\":\"%s\",\"readyToUse\":true}}",
		 handle);
	p = cJSON_Parse(buf);
	cr_assert_eq(mg_k8s_patch(NULL, E.k8s, &mg_k8s_res_vsc, NULL, "snapcontent-1", "status",
				  MG_K8S_PATCH_MERGE, p, &st),
		     0, "%s", st.message);
	cJSON_Delete(p);
}

static const char *tsi_handle(void)
{
	static char buf[256];
	buf[0] = '\0';
	cJSON *o = rec_env_get(&E, &mg_k8s_res_tsi, "app", "info");
	const cJSON *f = cJSON_GetObjectItem(cJSON_GetObjectItem(o, "status"), "snapshotHandle");
	if (cJSON_IsString(f))
		snprintf(buf, sizeof(buf), "%s", f->valuestring);
	cJSON_Delete(o);
	return buf;
}

#define TSI                                                                         \
	"apiVersion: trident.netapp.io/v1\nkind: TridentSnapshotInfo\n"             \
	"metadata: {name: info, namespace: app}\nspec: {snapshotName: snap1}\n"

Test(reconciler_actions, tsi_reports_the_trident_snapshot_handle)
{
	rec_env_volume(&E, 0, "vol_src", "rw");
	rec_env_pvc(&E, "app", "data", "vol_src");
	rec_env_create(&E, &mg_k8s_res_tsi, "app", TSI);
	mg_rec_result res;
	cr_assert_eq(mg_tsi_reconcile(&E.ctx_a, "app", "info", &res), 0);
	cr_expect_eq(res.outcome, MG_REC_RETRY, "no VolumeSnapshot yet: deferred");
	cr_expect_str_eq(tsi_handle(), "");
	snapshot_objects("csi.trident.netapp.io", "pv-app-data/snapshot-1234");
	cr_assert_eq(mg_tsi_reconcile(&E.ctx_a, "app", "info", &res), 0);
	cr_expect_eq(res.outcome, MG_REC_DONE);
	cr_expect_str_eq(tsi_handle(), "pv-app-data/snapshot-1234");
	cr_expect_eq(rec_env_events(&E, "app", "info", "updated"), 1);
	cr_assert_eq(mg_tsi_reconcile(&E.ctx_a, "app", "info", &res), 0);
	cr_expect_eq(rec_env_events(&E, "app", "info", "updated"), 1, "no rewrite, no event");
	cJSON *o = rec_env_get(&E, &mg_k8s_res_tsi, "app", "info");
	const cJSON *fin = cJSON_GetObjectItem(cJSON_GetObjectItem(o, "metadata"), "finalizers");
	cr_expect_str_eq(cJSON_GetArrayItem(fin, 0)->valuestring, "trident.netapp.io");
	cJSON_Delete(o);
	/* deletion lets go */
	rec_env_delete(&E, &mg_k8s_res_tsi, "app", "info");
	cr_assert_eq(mg_tsi_reconcile(&E.ctx_a, "app", "info", &res), 0);
	cr_expect_eq(res.outcome, MG_REC_FORGET);
	o = rec_env_get(&E, &mg_k8s_res_tsi, "app", "info");
	cr_expect_null(o, "gone once the finalizer is removed");
	cJSON_Delete(o);
	assert_no_loss();
}

Test(reconciler_actions, tsi_refuses_a_foreign_snapshot)
{
	rec_env_pvc(&E, "app", "data", "vol_src");
	snapshot_objects("wrong.driver.io", "x/y");
	rec_env_create(&E, &mg_k8s_res_tsi, "app", TSI);
	mg_rec_result res;
	cr_assert_eq(mg_tsi_reconcile(&E.ctx_a, "app", "info", &res), 0);
	cr_expect_str_eq(tsi_handle(), "");
	cr_expect_eq(rec_env_events(&E, "app", "info", "updateFailed"), 1);
	cr_expect_str_eq(rec_env_event_message(&E, "app", "info", "updateFailed"),
			 "snapshot 'snap1' is not a Trident snapshot");
	assert_no_loss();
}

/* research 3.10: the handle's volume must be on a configured backend. */
Test(reconciler_actions, tsi_volume_on_no_backend_is_reported)
{
	/* PV pv-app-data names vol_src, which no configured backend (svm-a) holds */
	rec_env_pvc(&E, "app", "data", "vol_src");
	snapshot_objects("csi.trident.netapp.io", "pv-app-data/snapshot-1234");
	rec_env_create(&E, &mg_k8s_res_tsi, "app", TSI);
	mg_rec_result res;
	cr_assert_eq(mg_tsi_reconcile(&E.ctx_a, "app", "info", &res), 0);
	cr_expect_eq(res.outcome, MG_REC_DONE);
	cr_expect_str_eq(tsi_handle(), "", "no handle for a volume mirrorgate cannot find");
	cr_expect_eq(rec_env_events_saying(&E, "app", "info", "updateFailed",
					   "could not find volume 'pv-app-data'"),
		     1, "%s", rec_env_event_message(&E, "app", "info", "updateFailed"));
	/* a handle whose volume has no PV at all */
	cJSON *p = cJSON_Parse("{\"status\":{\"snapshotHandle\":\"pv-gone/snapshot-1\"}}");
	mg_k8s_status st;
	cr_assert_eq(mg_k8s_patch(NULL, E.k8s, &mg_k8s_res_vsc, NULL, "snapcontent-1", "status",
				  MG_K8S_PATCH_MERGE, p, &st),
		     0, "%s", st.message);
	cJSON_Delete(p);
	cr_assert_eq(mg_tsi_reconcile(&E.ctx_a, "app", "info", &res), 0);
	cr_expect_eq(rec_env_events_saying(&E, "app", "info", "updateFailed",
					   "could not find volume 'pv-gone'"),
		     1);
	cr_expect_str_eq(tsi_handle(), "");
	assert_no_loss();
}

/* research 3.10 / 5.4: a backend whose SVM has no SVM peer cannot mirror (Trident's
 * CanBackendMirror false). */
Test(reconciler_actions, tsi_backend_that_cannot_mirror_is_reported)
{
	cr_assert_eq(ontap_sim_control(&E.ontap, "POST", "seed",
				       "clusters:\n  - name: cluster-a\n    svms:\n"
				       "      - name: svm-lonely\n        volumes:\n"
				       "          - {name: vol_lonely, type: rw, size: 1073741824}\n",
				       NULL),
		     200);
	mg_backend lonely = E.backend_a;
	snprintf(lonely.name, sizeof(lonely.name), "ontap-lonely");
	snprintf(lonely.svm, sizeof(lonely.svm), "svm-lonely");
	mg_rctx ctx = E.ctx_a;
	ctx.backends = &lonely;
	rec_env_pvc(&E, "app", "data", "vol_lonely");
	snapshot_objects("csi.trident.netapp.io", "pv-app-data/snapshot-1234");
	rec_env_create(&E, &mg_k8s_res_tsi, "app", TSI);
	mg_rec_result res;
	cr_assert_eq(mg_tsi_reconcile(&ctx, "app", "info", &res), 0);
	cr_expect_eq(res.outcome, MG_REC_DONE);
	cr_expect_str_eq(tsi_handle(), "");
	const char *m = rec_env_event_message(&E, "app", "info", "updateFailed");
	cr_expect(strncmp(m, "backend does not support TridentSnapshotInfo", 44) == 0, "%s", m);
	cr_expect(strstr(m, "svm-lonely"), "%s", m);
	/* the same TSI on a backend that can mirror is answered */
	rec_env_volume(&E, 0, "vol_lonely", "rw"); /* now also on svm-a, which is peered */
	cr_assert_eq(mg_tsi_reconcile(&E.ctx_a, "app", "info", &res), 0);
	cr_expect_str_eq(tsi_handle(), "pv-app-data/snapshot-1234");
	assert_no_loss();
}
