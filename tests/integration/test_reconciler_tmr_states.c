/* Research 3.5 end to end: each desired state against each thing ONTAP can show, plus the
 * deletion paths of 3.6. Every test asserts the data-loss ledger: only a user-requested
 * reestablish may discard data. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/k8s/client.h"
#include "mirrorgate/ontap/snapmirror.h"
#include "reconciler_env.h"
#include "pvc_protect.h"
#include "rmetrics.h"
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

TestSuite(reconciler_states, .init = setup, .fini = teardown, .timeout = 120);

#define TMR(name, state, extra)                                                        \
	"apiVersion: trident.netapp.io/v1\nkind: TridentMirrorRelationship\n"          \
	"metadata: {name: " name ", namespace: app}\n"                                 \
	"spec:\n  state: " state "\n  replicationPolicy: MirrorAllSnapshots\n"          \
	"  volumeMappings:\n  - localPVCName: data\n" extra
#define REMOTE "    remoteVolumeHandle: svm-a:vol_src\n"

static int ledger(char **text)
{
	return rec_env_ledger(&E, text);
}

static void assert_no_loss(void)
{
	char *text = NULL;
	cr_expect_eq(ledger(&text), 0, "data-loss ledger: %s", text);
	free(text);
}

static const char *cond(const char *field)
{
	return rec_env_cond(&E, "app", "mirror", field);
}

static void volumes(void)
{
	rec_env_mirror_pair(&E);
}

static void establish(void)
{
	volumes();
	rec_env_create(&E, &mg_k8s_res_tmr, "app", TMR("mirror", "established", REMOTE));
	cr_assert_gt(rec_env_tmr_until(&E, &E.ctx_b, "app", "mirror", "established", 30, 1000), 0,
		     "never established: %s", cond("message"));
}

/* An admin's quiesce + break on ONTAP, behind the TMR's back. */
static void break_on_ontap(void)
{
	mg_ontap_relationship_filter f = {NULL, "svm-b:vol_dst", false};
	mg_ontap_relationship rel;
	mg_ontap_error err;
	cr_assert_eq(mg_ontap_relationship_get(E.cb, &f, &rel, &err), 0, "%s", err.message);
	mg_ontap_state_change q = {"paused", NULL, false, false};
	cr_assert_eq(mg_ontap_relationship_set_state(E.cb, rel.uuid, &q, &err), 0, "%s",
		     err.message);
	mg_ontap_state_change b = {"broken_off", NULL, false, false};
	cr_assert_eq(mg_ontap_relationship_set_state(E.cb, rel.uuid, &b, &err), 0, "%s",
		     err.message);
}

static void quiesce_on_ontap(void)
{
	mg_ontap_relationship_filter f = {NULL, "svm-b:vol_dst", false};
	mg_ontap_relationship rel;
	mg_ontap_error err;
	cr_assert_eq(mg_ontap_relationship_get(E.cb, &f, &rel, &err), 0, "%s", err.message);
	mg_ontap_state_change q = {"paused", NULL, false, false};
	cr_assert_eq(mg_ontap_relationship_set_state(E.cb, rel.uuid, &q, &err), 0, "%s",
		     err.message);
}

static int mutations(void)
{
	return ontap_sim_count_requests(&E.ontap, NULL, "PATCH", "/api/snapmirror") +
	       ontap_sim_count_requests(&E.ontap, NULL, "DELETE", "/api/snapmirror") +
	       ontap_sim_count_requests(&E.ontap, NULL, "POST", "/api/snapmirror");
}

/* established x establishing: a pass while the baseline runs keeps waiting, then finishes. */
Test(reconciler_states, established_x_establishing_finishes_the_baseline)
{
	volumes();
	rec_env_create(&E, &mg_k8s_res_tmr, "app", TMR("mirror", "established", REMOTE));
	cr_expect_eq(rec_env_pass(&E, &E.ctx_b, "app", "mirror"), MG_REC_RETRY);
	cr_expect_str_eq(cond("state"), "establishing");
	char st[32];
	cr_assert(rec_env_relationship(&E, "svm-b:vol_dst", st, sizeof(st)));
	cr_expect_str_eq(st, "uninitialized", "baseline still running");
	int before = ontap_sim_count_requests(&E.ontap, NULL, "POST", "/transfers");
	cr_expect_eq(rec_env_pass(&E, &E.ctx_b, "app", "mirror"), MG_REC_RETRY);
	cr_expect_eq(ontap_sim_count_requests(&E.ontap, NULL, "POST", "/transfers"), before,
		     "no second initialize while one runs");
	cr_assert_gt(rec_env_tmr_until(&E, &E.ctx_b, "app", "mirror", "established", 30, 1000), 0);
	assert_no_loss();
}

/* established x promoting (broken off on ONTAP): Trident finishes the break, deletes the
 * relationship and then fails on the RW volume. Here nothing is touched: failed, with what to
 * do. */
Test(reconciler_states, established_x_broken_off_is_refused_not_torn_down)
{
	establish();
	break_on_ontap();
	rec_env_write(&E, 1, "svm-b:vol_dst"); /* the app writes to the now-RW volume */
	int before = mutations();
	cr_expect_eq(rec_env_pass(&E, &E.ctx_b, "app", "mirror"), MG_REC_RETRY);
	cr_expect_str_eq(cond("state"), "failed");
	cr_expect(strstr(cond("message"), "set spec.state to 'reestablished'"), "%s",
		  cond("message"));
	cr_expect_eq(mutations(), before, "no resync, no delete");
	char st[32];
	cr_assert(rec_env_relationship(&E, "svm-b:vol_dst", st, sizeof(st)));
	cr_expect_str_eq(st, "broken_off");
	assert_no_loss();
}

/* established x quiesced: resuming loses nothing. */
Test(reconciler_states, established_x_quiesced_resumes)
{
	establish();
	quiesce_on_ontap();
	cr_assert_gt(rec_env_tmr_until(&E, &E.ctx_b, "app", "mirror", "established", 10, 1000), 0);
	char st[32];
	cr_assert(rec_env_relationship(&E, "svm-b:vol_dst", st, sizeof(st)));
	cr_expect_str_eq(st, "snapmirrored");
	assert_no_loss();
}

/* reestablished x promoting: the user asked for a resync; the writes made on the promoted
 * volume after the common snapshot are discarded, and that is the only loss the ledger
 * may show. */
Test(reconciler_states, reestablished_x_promoted_resyncs_with_user_requested_loss)
{
	establish();
	rec_env_patch_spec(&E, "app", "mirror", "{\"spec\":{\"state\":\"promoted\"}}");
	cr_assert_gt(rec_env_tmr_until(&E, &E.ctx_b, "app", "mirror", "promoted", 20, 1000), 0);
	rec_env_write(&E, 1, "svm-b:vol_dst");
	assert_no_loss();
	rec_env_patch_spec(&E, "app", "mirror", "{\"spec\":{\"state\":\"reestablished\"}}");
	cr_assert_gt(rec_env_tmr_until(&E, &E.ctx_b, "app", "mirror", "reestablished", 30, 1000),
		     0, "never reestablished: %s", cond("message"));
	char *text = NULL;
	int n = ledger(&text);
	cr_expect_eq(n, 1, "exactly the resync of the promoted volume's writes: %s", text);
	cJSON *l = cJSON_Parse(text);
	const cJSON *it;
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(l, "entries"))
	{
		cr_expect_str_eq(cJSON_GetObjectItem(it, "operation")->valuestring, "resync");
		cr_expect_str_eq(cJSON_GetObjectItem(it, "volume")->valuestring, "svm-b:vol_dst");
	}
	cJSON_Delete(l);
	free(text);
}

/* reestablished x none: create + resync of a volume that never had a common snapshot with
 * the source fails; the relationship is kept and the reason reported (H10: Trident deletes
 * it and loses the reason). */
Test(reconciler_states, reestablished_without_common_snapshot_fails_and_keeps_the_reason)
{
	rec_env_volume(&E, 0, "vol_src", "rw");
	rec_env_volume(&E, 1, "vol_dst", "rw");
	rec_env_write(&E, 1, "svm-b:vol_dst");
	rec_env_pvc(&E, "app", "data", "vol_dst");
	rec_env_create(&E, &mg_k8s_res_tmr, "app", TMR("mirror", "reestablished", REMOTE));
	for (int i = 0; i < 6 && strcmp(cond("state"), "failed") != 0; i++) {
		rec_env_pass(&E, &E.ctx_b, "app", "mirror");
		ontap_sim_advance(&E.ontap, 1000);
	}
	cr_expect_str_eq(cond("state"), "failed");
	cr_expect(strstr(cond("message"), "Could not reestablish mirror"), "%s", cond("message"));
	cr_expect(strstr(cond("message"), "common"), "the ONTAP reason: %s", cond("message"));
	cr_expect(rec_env_relationship(&E, "svm-b:vol_dst", NULL, 0), "relationship kept");
	cr_expect_eq(ontap_sim_count_requests(&E.ontap, NULL, "DELETE", "/api/snapmirror"), 0);
	int patches = ontap_sim_count_requests(&E.ontap, NULL, "PATCH", "/api/snapmirror");
	rec_env_pass(&E, &E.ctx_b, "app", "mirror");
	cr_expect_eq(ontap_sim_count_requests(&E.ontap, NULL, "PATCH", "/api/snapmirror"), patches,
		     "a failed resync is not repeated blindly");
	assert_no_loss();
}

/* promoted x establishing: a baseline still running is aborted, never broken (ONTAP refuses
 * to break an uninitialized relationship), and the destination record deleted. The volume
 * is then a DP volume that never got its data and can no longer be made writable: failed
 * with what to do (H7), not promoted. */
Test(reconciler_states, promoted_x_establishing_aborts_the_baseline)
{
	volumes();
	rec_env_fault(&E, "{\"type\":\"transfer\",\"mode\":\"hang\"}");
	rec_env_create(&E, &mg_k8s_res_tmr, "app", TMR("mirror", "established", REMOTE));
	cr_expect_eq(rec_env_pass(&E, &E.ctx_b, "app", "mirror"), MG_REC_RETRY);
	cr_expect_str_eq(cond("state"), "establishing");
	rec_env_patch_spec(&E, "app", "mirror", "{\"spec\":{\"state\":\"promoted\"}}");
	for (int i = 0; i < 10 && strcmp(cond("state"), "failed") != 0; i++) {
		rec_env_pass(&E, &E.ctx_b, "app", "mirror");
		ontap_sim_advance(&E.ontap, 1000);
	}
	cr_expect_str_eq(cond("state"), "failed", "%s", cond("message"));
	cr_expect(strstr(cond("message"), "read-only DP volume with no SnapMirror relationship"),
		  "%s", cond("message"));
	cr_expect_geq(ontap_sim_count_requests(&E.ontap, NULL, "PATCH", "/transfers/"), 1,
		      "the baseline was aborted");
	cr_expect_eq(rec_env_requests_with_body(&E, "PATCH", "/api/snapmirror", "broken_off"), 0,
		     "an uninitialized relationship is never broken");
	cr_expect_not(rec_env_relationship(&E, "svm-b:vol_dst", NULL, 0));
	cr_expect_str_eq(rec_env_volume_type(&E, 1, "vol_dst"), "dp");
	assert_no_loss();
}

/* H7: desired promoted, no relationship, local volume DP (Trident's annotation-only PVC):
 * Trident reports promoted for a volume that stays read-only. Here: failed, with what to
 * do, and no ONTAP change. Doing what the message says (establish, then promote) works, and
 * that ordinary promote reports promoted: its break made the volume RW. */
Test(reconciler_states, h7_promoted_dp_volume_without_relationship_is_failed)
{
	volumes();
	rec_env_create(&E, &mg_k8s_res_tmr, "app", TMR("mirror", "promoted", ""));
	int before = mutations();
	for (int i = 0; i < 3; i++)
		rec_env_pass(&E, &E.ctx_b, "app", "mirror");
	cr_expect_str_eq(cond("state"), "failed");
	cr_expect(strstr(cond("message"), "read-only DP volume with no SnapMirror relationship"),
		  "%s", cond("message"));
	cr_expect(strstr(cond("message"), "recreate the PVC without"), "%s", cond("message"));
	cr_expect(strstr(cond("message"), "svm-b:vol_dst"), "%s", cond("message"));
	cr_expect_eq(mutations(), before, "no ONTAP change");
	cr_expect_str_eq(rec_env_volume_type(&E, 1, "vol_dst"), "dp");
	/* with a remote handle but no relationship: the same */
	rec_env_patch_spec(&E, "app", "mirror",
			   "{\"spec\":{\"volumeMappings\":[{\"localPVCName\":\"data\","
			   "\"remoteVolumeHandle\":\"svm-a:vol_src\"}]}}");
	rec_env_pass(&E, &E.ctx_b, "app", "mirror");
	cr_expect_str_eq(cond("state"), "failed");
	cr_expect_eq(mutations(), before, "no ONTAP change");
	/* the fix the message names: establish, then promote */
	rec_env_patch_spec(&E, "app", "mirror", "{\"spec\":{\"state\":\"established\"}}");
	cr_assert_gt(rec_env_tmr_until(&E, &E.ctx_b, "app", "mirror", "established", 30, 1000), 0,
		     "%s", cond("message"));
	rec_env_patch_spec(&E, "app", "mirror", "{\"spec\":{\"state\":\"promoted\"}}");
	cr_assert_gt(rec_env_tmr_until(&E, &E.ctx_b, "app", "mirror", "promoted", 20, 1000), 0,
		     "%s", cond("message"));
	cr_expect_str_eq(cond("message"), "");
	cr_expect_str_eq(rec_env_volume_type(&E, 1, "vol_dst"), "rw", "the break made it RW");
	assert_no_loss();
}

/* promoted x none: a source-side TMR (no remote handle) is promoted without any ONTAP call. */
Test(reconciler_states, promoted_without_remote_is_the_source_side)
{
	rec_env_volume(&E, 0, "vol_src", "rw");
	rec_env_pvc(&E, "app", "data", "vol_src");
	rec_env_create(&E, &mg_k8s_res_tmr, "app", TMR("mirror", "promoted", ""));
	int before = mutations();
	cr_assert_gt(rec_env_tmr_until(&E, &E.ctx_a, "app", "mirror", "promoted", 3, 0), 0);
	cr_expect_eq(mutations(), before);
	cr_expect_str_eq(cond("localVolumeHandle"), "svm-a:vol_src");
	assert_no_loss();
}

/* "" observes only: it reports what ONTAP shows and never finishes anything (Trident
 * finishes a half-done promote here). */
Test(reconciler_states, observe_only_never_acts)
{
	establish();
	rec_env_patch_spec(&E, "app", "mirror", "{\"spec\":{\"state\":\"\"}}");
	cr_expect_eq(rec_env_pass(&E, &E.ctx_b, "app", "mirror"), MG_REC_DONE);
	cr_expect_str_eq(cond("state"), "established");
	quiesce_on_ontap();
	int before = mutations();
	for (int i = 0; i < 3; i++) {
		rec_env_pass(&E, &E.ctx_b, "app", "mirror");
		ontap_sim_advance(&E.ontap, 1000);
	}
	cr_expect_str_eq(cond("state"), "promoting", "paused is reported as promoting (H3)");
	cr_expect_eq(mutations(), before, "nothing resumed or broken");
	char st[32];
	cr_assert(rec_env_relationship(&E, "svm-b:vol_dst", st, sizeof(st)));
	cr_expect_str_eq(st, "paused");
	assert_no_loss();
}

/* H6 / IsValid: a TMR without volumeMappings is invalid with Trident's message, no crash,
 * no ONTAP call. */
Test(reconciler_states, invalid_spec_is_reported)
{
	rec_env_pvc(&E, "app", "data", "vol_dst");
	rec_env_create(&E, &mg_k8s_res_tmr, "app",
		       "apiVersion: trident.netapp.io/v1\nkind: TridentMirrorRelationship\n"
		       "metadata: {name: mirror, namespace: app}\n"
		       "spec: {state: established, volumeMappings: [{localPVCName: data}]}\n");
	cr_expect_eq(rec_env_pass(&E, &E.ctx_b, "app", "mirror"), MG_REC_DONE);
	cr_expect_str_eq(cond("state"), "invalid");
	cr_expect_str_eq(cond("message"), "A remoteVolumeHandle must be provided if .spec.state is "
					  "established or reestablished");
	cr_expect_eq(rec_env_events(&E, "app", "mirror", "invalid"), 1);
	cr_expect_eq(mutations(), 0);
	/* a second pass writes nothing new: no second event */
	rec_env_pass(&E, &E.ctx_b, "app", "mirror");
	cr_expect_eq(rec_env_events(&E, "app", "mirror", "invalid"), 1);
	assert_no_loss();
}

/* A PVC that does not exist yet defers without a status write (Trident), then works. */
Test(reconciler_states, missing_pvc_defers)
{
	rec_env_volume(&E, 0, "vol_src", "rw");
	rec_env_volume(&E, 1, "vol_dst", "dp");
	rec_env_create(&E, &mg_k8s_res_namespace, NULL,
		       "{apiVersion: v1, kind: Namespace, metadata: {name: app}}");
	rec_env_create(&E, &mg_k8s_res_tmr, "app", TMR("mirror", "established", REMOTE));
	cr_expect_eq(rec_env_pass(&E, &E.ctx_b, "app", "mirror"), MG_REC_RETRY);
	cr_expect_str_eq(cond("state"), "", "no status written");
	rec_env_pvc(&E, "app", "data", "vol_dst");
	cr_assert_gt(rec_env_tmr_until(&E, &E.ctx_b, "app", "mirror", "established", 30, 1000), 0);
	assert_no_loss();
}

/* ---- deletion (research 3.6) ---- */

Test(reconciler_states, deleting_a_destination_promotes_before_the_finalizer_goes)
{
	establish();
	rec_env_delete(&E, &mg_k8s_res_tmr, "app", "mirror");
	cJSON *o = rec_env_get(&E, &mg_k8s_res_tmr, "app", "mirror");
	cr_assert_not_null(o, "held by the finalizer");
	cJSON_Delete(o);
	cr_assert_gt(rec_env_tmr_until_gone(&E, &E.ctx_b, "app", "mirror", 20, 1000), 0);
	cr_expect_not(rec_env_relationship(&E, "svm-b:vol_dst", NULL, 0), "promoted: no relationship");
	cr_expect_eq(ontap_sim_count_requests(&E.ontap, NULL, "DELETE", "destination_only=true"), 1);
	/* the volume is writable and still there: never deleted */
	rec_env_write(&E, 1, "svm-b:vol_dst");
	assert_no_loss();
}

Test(reconciler_states, deleting_a_source_tmr_releases_the_source_metadata)
{
	establish();
	/* the source side's TMR, reconciled by cluster A's reconciler */
	rec_env_pvc(&E, "src", "data", "vol_src");
	rec_env_create(&E, &mg_k8s_res_tmr, "src",
		       "apiVersion: trident.netapp.io/v1\nkind: TridentMirrorRelationship\n"
		       "metadata: {name: mirror, namespace: src}\n"
		       "spec: {state: promoted, volumeMappings: [{localPVCName: data}]}\n");
	cr_assert_gt(rec_env_tmr_until(&E, &E.ctx_a, "src", "mirror", "promoted", 3, 0), 0);
	rec_env_delete(&E, &mg_k8s_res_tmr, "src", "mirror");
	cr_assert_gt(rec_env_tmr_until_gone(&E, &E.ctx_a, "src", "mirror", 5, 1000), 0);
	cr_expect_eq(ontap_sim_count_requests(&E.ontap, "cluster-a", "DELETE", "source_only=true"),
		     1);
	cr_expect_eq(ontap_sim_count_requests(&E.ontap, NULL, "PATCH", "/api/snapmirror"), 0,
		     "nothing broken");
	assert_no_loss();
}

/* A PVC in a relationship is protected: deleting it releases the relationship on ONTAP
 * (destination record removed, nothing broken) before the PVC goes; the TMR deleted after
 * that has nothing left on ONTAP and lets go without a call. */
Test(reconciler_states, deleting_the_pvc_releases_then_the_tmr_touches_nothing)
{
	establish();
	rec_env_delete(&E, &mg_k8s_res_pvc, "app", "data");
	cJSON *o = rec_env_get(&E, &mg_k8s_res_pvc, "app", "data");
	cr_assert_not_null(o, "held by mirrorgate's finalizer");
	cJSON_Delete(o);
	mg_rec_result res;
	cr_assert_eq(mg_pvc_reconcile(&E.ctx_b, "app", "data", &res), 0);
	cr_expect_eq(res.outcome, MG_REC_FORGET, "%s", res.reason);
	o = rec_env_get(&E, &mg_k8s_res_pvc, "app", "data");
	cr_expect_null(o, "the PVC is gone once the relationship is released");
	cJSON_Delete(o);
	cr_expect_not(rec_env_relationship(&E, "svm-b:vol_dst", NULL, 0));
	cr_expect_eq(ontap_sim_count_requests(&E.ontap, NULL, "DELETE", "destination_only=true"), 1);
	cr_expect_eq(ontap_sim_count_requests(&E.ontap, NULL, "PATCH", "/api/snapmirror"), 0,
		     "no quiesce, no break");
	rec_env_delete(&E, &mg_k8s_res_tmr, "app", "mirror");
	int before = mutations();
	cr_assert_gt(rec_env_tmr_until_gone(&E, &E.ctx_b, "app", "mirror", 3, 0), 0);
	cr_expect_eq(mutations(), before);
	assert_no_loss();
}

/* A deleted TMR's per-TMR series (state, healthy, lag) leave /metrics: after its finalizer
 * is removed, when it is already gone, and when it is deleted without our finalizer. */
static bool metrics_mention(mg_rmetrics *m, const char *needle)
{
	char *text = NULL;
	cr_assert_eq(mg_rmetrics_render(m, &text), 0);
	bool yes = strstr(text, needle) != NULL;
	free(text);
	return yes;
}

Test(reconciler_states, deleted_tmr_series_leave_the_metrics)
{
	mg_rmetrics *m = NULL;
	cr_assert_eq(mg_rmetrics_new(&m), 0);
	E.ctx_b.metrics = m;
	establish();
	cr_expect(metrics_mention(m, "mirrorgate_tmr_state{tmr=\"app/mirror\",state=\"established\"} 1"));
	cr_expect(metrics_mention(m, "mirrorgate_tmr_healthy{tmr=\"app/mirror\"} 1"));
	cr_expect(metrics_mention(m, "mirrorgate_tmr_lag_seconds{tmr=\"app/mirror\"}"));
	/* a second TMR whose name starts with the first's: its series must stay */
	rec_env_pvc(&E, "app", "data2", "vol_dst2");
	rec_env_create(&E, &mg_k8s_res_tmr, "app",
		       "apiVersion: trident.netapp.io/v1\nkind: TridentMirrorRelationship\n"
		       "metadata: {name: mirror2, namespace: app}\n"
		       "spec: {state: promoted, volumeMappings: [{localPVCName: data2}]}\n");
	rec_env_volume(&E, 1, "vol_dst2", "rw");
	cr_assert_gt(rec_env_tmr_until(&E, &E.ctx_b, "app", "mirror2", "promoted", 3, 0), 0);
	rec_env_delete(&E, &mg_k8s_res_tmr, "app", "mirror");
	cr_assert_gt(rec_env_tmr_until_gone(&E, &E.ctx_b, "app", "mirror", 20, 1000), 0);
	cr_expect_not(metrics_mention(m, "tmr=\"app/mirror\""), "series of the deleted TMR");
	cr_expect(metrics_mention(m, "tmr=\"app/mirror2\""), "the other TMR's series stay");
	/* deleted while another finalizer holds it and ours is gone: forgotten too */
	cJSON *p = cJSON_Parse("{\"metadata\":{\"finalizers\":[\"example.com/hold\"]}}");
	mg_k8s_status st;
	cr_assert_eq(mg_k8s_patch(NULL, E.k8s, &mg_k8s_res_tmr, "app", "mirror2", NULL,
				  MG_K8S_PATCH_MERGE, p, &st),
		     0, "%s", st.message);
	cJSON_Delete(p);
	rec_env_delete(&E, &mg_k8s_res_tmr, "app", "mirror2");
	cr_expect_eq(rec_env_pass(&E, &E.ctx_b, "app", "mirror2"), MG_REC_FORGET);
	cr_expect_not(metrics_mention(m, "tmr=\"app/mirror2\""));
	E.ctx_b.metrics = NULL;
	mg_rmetrics_free(m);
	assert_no_loss();
}
