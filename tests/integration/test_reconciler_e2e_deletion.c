/* Deletion through the mirrorgate-reconciler binary: a PVC in an established relationship
 * carries the mirrorgate.io/replication finalizer and the history annotation; deleting it
 * removes the destination's relationship record (destination_only, nothing broken) before
 * the finalizer goes, and the destination volume keeps its data. A deleted TMR is promoted,
 * lets go, and its /metrics series disappear. The ledger is asserted in each. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirrorgate/k8s/client.h"
#include "mirrorgate/core/model.h"
#include "mirrorgate/reconcile/status.h"
#include "reconciler_e2e.h"

#define BIN MG_BIN_DIR "/mirrorgate-reconciler"
#define PVC_FINALIZER "mirrorgate.io/replication"

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

TestSuite(reconciler_e2e_deletion, .init = setup, .fini = teardown, .timeout = 120);

/* A slow resync for the deletion windows; terminating_pvc_is_not_mirrored_again resyncs
 * every second to show a Terminating PVC is not mirrored again. */
static const char *const k_extra[] = {"--resync-period", "5m", "--leader-elect", "false", NULL};
static const char *const k_resync[] = {"--resync-period", "1s", "--leader-elect", "false",
				       NULL};

static void start_and_establish_with(const char *const *extra)
{
	rec_env_mirror_pair(&E);
	rec_proc_start(&R, BIN, E.kube.kubeconfig, "r1", extra);
	rec_env_create(&E, &mg_k8s_res_tmr, "app", REC_E2E_TMR);
	cr_assert(rec_e2e_wait_state(&E, "app", "mirror", "established", 20000),
		  "state '%s' message '%s'; see %s", rec_env_cond(&E, "app", "mirror", "state"),
		  rec_env_cond(&E, "app", "mirror", "message"), R.log);
}

static void start_and_establish(void)
{
	start_and_establish_with(k_extra);
}

static bool pvc_has_finalizer(const char *fin)
{
	cJSON *o = rec_env_get(&E, &mg_k8s_res_pvc, "app", "data");
	const cJSON *it;
	bool yes = false;
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(cJSON_GetObjectItem(o, "metadata"), "finalizers"))
		yes = yes || (cJSON_IsString(it) && strcmp(it->valuestring, fin) == 0);
	cJSON_Delete(o);
	return yes;
}

static const char *pvc_history(void)
{
	static char buf[1024];
	buf[0] = '\0';
	cJSON *o = rec_env_get(&E, &mg_k8s_res_pvc, "app", "data");
	const cJSON *a = cJSON_GetObjectItem(
		cJSON_GetObjectItem(cJSON_GetObjectItem(o, "metadata"), "annotations"),
		MG_ANN_REPLICATION_HISTORY);
	if (cJSON_IsString(a))
		snprintf(buf, sizeof(buf), "%s", a->valuestring);
	cJSON_Delete(o);
	return buf;
}

static void wait_protected(void)
{
	for (int i = 0; i < 50 && !(pvc_has_finalizer(PVC_FINALIZER) && pvc_history()[0]); i++)
		rec_e2e_nap(100);
	cr_assert(pvc_has_finalizer(PVC_FINALIZER), "no PVC finalizer; see %s", R.log);
	cr_expect(strstr(pvc_history(), "svm-a:vol_src"), "history '%s'", pvc_history());
	cr_expect(strstr(pvc_history(), "mirror"), "history '%s'", pvc_history());
}

/* vol_dst in ontap-sim's state: its active generation and snapshot count. */
static void dst_volume(long *gen, int *snaps)
{
	cJSON *st = NULL;
	cr_assert_eq(ontap_sim_control(&E.ontap, "GET", "state", NULL, &st), 200);
	*gen = -1;
	*snaps = -1;
	const cJSON *v;
	cJSON_ArrayForEach(v, cJSON_GetObjectItem(st, "volumes"))
	{
		const cJSON *n = cJSON_GetObjectItem(v, "name");
		const cJSON *c = cJSON_GetObjectItem(v, "cluster");
		if (cJSON_IsString(n) && strcmp(n->valuestring, "vol_dst") == 0 &&
		    cJSON_IsString(c) && strcmp(c->valuestring, "cluster-b") == 0) {
			*gen = (long)cJSON_GetObjectItem(v, "afs_generation")->valuedouble;
			*snaps = cJSON_GetArraySize(cJSON_GetObjectItem(v, "snapshots"));
		}
	}
	cJSON_Delete(st);
}

Test(reconciler_e2e_deletion, pvc_deletion_releases_before_the_finalizer_goes)
{
	start_and_establish();
	wait_protected();
	long gen0;
	int snaps0;
	dst_volume(&gen0, &snaps0);
	cr_assert_gt(gen0, 0, "the baseline brought data");
	cr_assert_gt(snaps0, 0);
	int patches = ontap_sim_count_requests(&E.ontap, "cluster-b", "PATCH", "/api/snapmirror/");
	/* the first two destination-only deletes fail: the finalizer must outlast them */
	rec_env_fault(&E, "{\"type\":\"request\",\"cluster\":\"cluster-b\",\"method\":\"DELETE\","
			  "\"path\":\"/api/snapmirror/relationships/*\",\"count\":2,\"status\":500,"
			  "\"code\":\"13303812\",\"message\":\"injected\"}");
	rec_env_delete(&E, &mg_k8s_res_pvc, "app", "data");
	for (int i = 0; i < 50 &&
			ontap_sim_count_requests(&E.ontap, "cluster-b", "DELETE", "destination_only") <
				2;
	     i++)
		rec_e2e_nap(100);
	cr_assert_geq(ontap_sim_count_requests(&E.ontap, "cluster-b", "DELETE", "destination_only"),
		      2, "see %s", R.log);
	bool held = pvc_has_finalizer(PVC_FINALIZER);
	bool related = rec_env_relationship(&E, "svm-b:vol_dst", NULL, 0);
	cr_expect(!related || held, "the finalizer went while the relationship was still there");
	cr_assert(rec_e2e_wait_gone(&E, &mg_k8s_res_pvc, "app", "data", 10000),
		  "the PVC is still there; see %s", R.log);
	/* the TMR stops reading as a live mirror: the claim's deletion woke it (the resync is
	 * 5 minutes away) */
	for (int i = 0; i < 100 && strcmp(rec_env_cond(&E, "app", "mirror", "message"),
					  MG_MSG_LOCAL_PVC_GONE) != 0;
	     i++)
		rec_e2e_nap(50);
	cr_expect_str_eq(rec_env_cond(&E, "app", "mirror", "message"), MG_MSG_LOCAL_PVC_GONE,
			 "see %s", R.log);
	cr_expect_not(rec_env_relationship(&E, "svm-b:vol_dst", NULL, 0),
		      "the destination's record is removed");
	cr_expect_eq(ontap_sim_count_requests(&E.ontap, "cluster-b", "PATCH", "/api/snapmirror/"),
		     patches, "nothing quiesced or broken");
	cr_expect_eq(ontap_sim_count_requests(&E.ontap, NULL, "DELETE", "/api/storage/volumes"), 0,
		     "no volume deleted");
	long gen1;
	int snaps1;
	dst_volume(&gen1, &snaps1);
	cr_expect_eq(gen1, gen0, "the destination volume keeps its data");
	cr_expect_eq(snaps1, snaps0, "and its snapshots");
	cr_expect_geq(rec_e2e_metric(&R, "mirrorgate_reconcile_total{controller=\"pvc\","
					 "outcome=\"retry\"}"),
		      2, "the failed deletes were retried");
	cr_expect_geq(rec_e2e_metric(&R, "mirrorgate_reconcile_total{controller=\"pvc\","
					 "outcome=\"forget\"}"),
		      1);
	rec_e2e_assert_no_loss(&E);
}

Test(reconciler_e2e_deletion, deleted_tmr_is_promoted_and_its_series_disappear)
{
	start_and_establish();
	wait_protected();
	char *m = NULL;
	cr_assert(rec_e2e_wait_metric(&R, "mirrorgate_tmr_healthy{tmr=\"app/mirror\"} 1", true, 5000,
				      &m),
		  "%s", m);
	cr_expect(strstr(m, "mirrorgate_tmr_state{tmr=\"app/mirror\",state=\"established\"} 1"), "%s",
		  m);
	cr_expect(strstr(m, "mirrorgate_tmr_lag_seconds{tmr=\"app/mirror\"}"), "%s", m);
	free(m);
	m = NULL;
	rec_env_delete(&E, &mg_k8s_res_tmr, "app", "mirror");
	cr_assert(rec_e2e_wait_gone(&E, &mg_k8s_res_tmr, "app", "mirror", 15000),
		  "the TMR kept its finalizer; see %s", R.log);
	cr_expect_not(rec_env_relationship(&E, "svm-b:vol_dst", NULL, 0), "promoted first");
	rec_env_write(&E, 1, "svm-b:vol_dst"); /* writable now */
	cr_expect(rec_e2e_wait_metric(&R, "tmr=\"app/mirror\"", false, 3000, &m),
		  "series of a deleted TMR remain:\n%s", m);
	free(m);
	/* the PVC outlives its TMR and still holds our finalizer: deleting it now touches no
	 * relationship (there is none) and lets go */
	cr_expect(pvc_has_finalizer(PVC_FINALIZER));
	int deletes = ontap_sim_count_requests(&E.ontap, NULL, "DELETE", "/api/snapmirror/");
	rec_env_delete(&E, &mg_k8s_res_pvc, "app", "data");
	cr_assert(rec_e2e_wait_gone(&E, &mg_k8s_res_pvc, "app", "data", 10000), "see %s", R.log);
	cr_expect_eq(ontap_sim_count_requests(&E.ontap, NULL, "DELETE", "/api/snapmirror/"), deletes);
	rec_e2e_assert_no_loss(&E);
}

/* A PVC in use by a pod keeps kubernetes.io/pvc-protection after our finalizer is gone, so
 * it stays Terminating, with its PV bound, for as long as the pod runs. The TMR (still
 * "established" in spec) is resynced meanwhile: it must not create and initialize a new
 * relationship onto the volume, put our finalizer back on the Terminating PVC (the API
 * server refuses new finalizers on an object being deleted) or re-annotate it; the PVC's
 * release ran once. Before the fix this looped create/initialize/delete once per resync. */
Test(reconciler_e2e_deletion, terminating_pvc_is_not_mirrored_again)
{
	start_and_establish_with(k_resync);
	wait_protected();
	cJSON *p = cJSON_Parse("{\"metadata\":{\"finalizers\":[\"kubernetes.io/pvc-protection\",\""
			       PVC_FINALIZER "\"]}}");
	mg_k8s_status st;
	cr_assert_eq(mg_k8s_patch(NULL, E.k8s, &mg_k8s_res_pvc, "app", "data", NULL,
				  MG_K8S_PATCH_MERGE, p, &st),
		     0, "%s", st.message);
	cJSON_Delete(p);
	rec_env_delete(&E, &mg_k8s_res_pvc, "app", "data");
	for (int i = 0; i < 100 && pvc_has_finalizer(PVC_FINALIZER); i++)
		rec_e2e_nap(100);
	cr_assert_not(pvc_has_finalizer(PVC_FINALIZER), "see %s", R.log);
	int creates = ontap_sim_count_requests(&E.ontap, "cluster-b", "POST",
					       "/api/snapmirror/relationships");
	rec_e2e_nap(3000); /* three resync periods */
	cr_expect_eq(ontap_sim_count_requests(&E.ontap, "cluster-b", "POST",
					      "/api/snapmirror/relationships"),
		     creates, "a relationship was created for a Terminating PVC; see %s", R.log);
	cr_expect_not(rec_env_relationship(&E, "svm-b:vol_dst", NULL, 0));
	cr_expect_not(pvc_has_finalizer(PVC_FINALIZER), "our finalizer went back on; see %s",
		      R.log);
	cr_expect(strstr(rec_env_cond(&E, "app", "mirror", "message"), "is being deleted"),
		  "the TMR says why it does nothing: '%s'",
		  rec_env_cond(&E, "app", "mirror", "message"));
	cr_expect_str_eq(rec_env_cond(&E, "app", "mirror", "state"), "established",
			 "the state is kept");
	rec_e2e_assert_no_loss(&E);
}
