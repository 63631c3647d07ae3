/* Companion mode's guarantees, in-process on kube-sim and ontap-sim (virtual clock): the two
 * choke points every write goes through refuse what Trident owns, whichever controller code
 * asks (so the controllers' paths, present and future, are covered, not only the companion
 * pass): a read-only ONTAP client sends no write at all, and TMR/TAMU/TSI status and
 * finalizer writes are refused while the PVC's history stays writable. The companion pass
 * records the source role too. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "companion.h"
#include "kobj.h"
#include "mirror_ops.h"
#include "mirrorgate/k8s/client.h"
#include "mirrorgate/ontap/snapmirror.h"
#include "mirrorgate/util/err.h"
#include "pvc_protect.h"
#include "reconciler_env.h"
#include "tamu_controller.h"
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

TestSuite(reconciler_companion, .init = setup, .fini = teardown, .timeout = 120);

#define TMR_EST                                                                          \
	"apiVersion: trident.netapp.io/v1\nkind: TridentMirrorRelationship\n"           \
	"metadata: {name: mirror, namespace: app}\n"                                     \
	"spec:\n  state: established\n  replicationPolicy: MirrorAllSnapshots\n"          \
	"  volumeMappings:\n  - localPVCName: data\n    remoteVolumeHandle: svm-a:vol_src\n"

static int writes_to(const char *cluster)
{
	return ontap_sim_count_requests(&E.ontap, cluster, "POST", "/api/") +
	       ontap_sim_count_requests(&E.ontap, cluster, "PATCH", "/api/") +
	       ontap_sim_count_requests(&E.ontap, cluster, "DELETE", "/api/");
}

static bool has_finalizer(const mg_k8s_resource *r, const char *ns, const char *name,
			  const char *fin)
{
	cJSON *o = rec_env_get(&E, r, ns, name);
	bool yes = mg_kobj_has_finalizer(o, fin);
	cJSON_Delete(o);
	return yes;
}

Test(reconciler_companion, read_only_client_sends_no_write)
{
	mg_ontap_client_set_read_only(E.cb, true);
	int before = writes_to("cluster-b");
	cJSON *body = cJSON_Parse("{\"name\":\"vol_x\",\"svm\":{\"name\":\"svm-b\"}}");
	int status = -1;
	cJSON *resp = NULL;
	mg_ontap_error err;
	int rc = mg_ontap_request(E.cb, "POST", "/api/storage/volumes", body, &status, &resp, &err);
	cr_assert_eq(rc, MG_EAUTH);
	cr_assert_eq(err.source, MG_ONTAP_SRC_CLIENT);
	cr_assert(strstr(err.message, "read-only"), "%s", err.message);
	cr_assert_null(resp);
	cr_assert_eq(writes_to("cluster-b"), before, "nothing reached ONTAP");
	/* reads still work */
	cr_assert_eq(mg_ontap_request(E.cb, "GET", "/api/cluster", NULL, &status, &resp, &err), 0);
	cr_assert_eq(status, 200);
	cJSON_Delete(resp);
	/* and the switch goes back (a mode change to controller) */
	mg_ontap_client_set_read_only(E.cb, false);
	rec_env_volume(&E, 1, "vol_y", "dp");
	cr_assert_gt(writes_to("cluster-b"), before);
	cJSON_Delete(body);
	mg_ontap_client_set_read_only(NULL, true); /* no-op */
}

static bool g_live_companion;
static bool live_companion(void *ctx)
{
	(void)ctx;
	return g_live_companion;
}

/* A pass that began as controller stops writing the moment the live mode turns companion. */
Test(reconciler_companion, live_mode_closes_the_choke_points_mid_pass)
{
	rec_env_mirror_pair(&E);
	rec_env_create(&E, &mg_k8s_res_tmr, "app", TMR_EST);
	mg_rctx c = E.ctx_b;
	c.companion = false;
	c.companion_now = live_companion;
	g_live_companion = false;
	cr_assert_not(mg_rctx_companion(&c));
	cr_assert(mg_rctx_may_write_ontap(&c));
	g_live_companion = true;
	cr_assert(mg_rctx_companion(&c));
	cr_assert_not(mg_rctx_may_write_ontap(&c));
	cr_assert_not(mg_rctx_may_write_trident(&c, "trident.netapp.io"));
	cr_assert(mg_rctx_may_write_trident(&c, ""), "core kinds (PVC history, Events) stay");
	cJSON *tmr = rec_env_get(&E, &mg_k8s_res_tmr, "app", "mirror");
	cr_assert_eq(mg_kobj_set_finalizer(NULL, &c, &mg_k8s_res_tmr, tmr, "trident.netapp.io",
					   true),
		     MG_EAUTH);
	cJSON_Delete(tmr);
	g_live_companion = false;
	mg_rec_result res;
	cr_assert_eq(mg_tmr_reconcile(&c, "app", "mirror", &res), 0);
	cr_assert(has_finalizer(&mg_k8s_res_tmr, "app", "mirror", "trident.netapp.io"),
		  "controller again: it writes");
}

Test(reconciler_companion, controller_code_under_companion_writes_nothing_trident_owns)
{
	rec_env_mirror_pair(&E);
	rec_env_create(&E, &mg_k8s_res_tmr, "app", TMR_EST);
	rec_env_create(&E, &mg_k8s_res_tamu, "app",
		       "apiVersion: trident.netapp.io/v1\nkind: TridentActionMirrorUpdate\n"
		       "metadata: {name: update-1, namespace: app}\n"
		       "spec: {tridentMirrorRelationshipName: mirror}\n");
	mg_ontap_client_set_read_only(E.cb, true);
	E.ctx_b.companion = true;
	int before = writes_to(NULL);
	for (int i = 0; i < 4; i++) {
		mg_rec_result res;
		cr_assert_eq(mg_tmr_reconcile(&E.ctx_b, "app", "mirror", &res), 0);
		cr_assert_eq(res.outcome, MG_REC_RETRY, "refused writes are retried, not done");
		cr_assert_eq(mg_tamu_reconcile(&E.ctx_b, "app", "update-1", &res), 0);
	}
	cr_assert_not(has_finalizer(&mg_k8s_res_tmr, "app", "mirror", "trident.netapp.io"));
	cr_assert_str_eq(rec_env_cond(&E, "app", "mirror", "state"), "");
	cJSON *tamu = rec_env_get(&E, &mg_k8s_res_tamu, "app", "update-1");
	cr_assert_null(cJSON_GetObjectItem(tamu, "status"), "the TAMU is Trident's");
	cr_assert_not(mg_kobj_has_finalizer(tamu, "trident.netapp.io"));
	cJSON_Delete(tamu);
	cr_assert_eq(writes_to(NULL), before, "no ONTAP write");

	/* the choke points themselves: Trident's kinds refused, a PVC (history) not */
	cJSON *tmr = rec_env_get(&E, &mg_k8s_res_tmr, "app", "mirror");
	cr_assert_eq(mg_kobj_set_finalizer(NULL, &E.ctx_b, &mg_k8s_res_tmr, tmr,
					   "trident.netapp.io", true),
		     MG_EAUTH);
	cr_assert_eq(mg_kobj_write_status(NULL, &E.ctx_b, &mg_k8s_res_tmr, tmr,
					  cJSON_CreateObject(), true),
		     MG_EAUTH);
	cJSON_Delete(tmr);
	mg_mirror_target t = {.backend = &E.backend_b};
	snprintf(t.volume, sizeof(t.volume), "vol_dst");
	snprintf(t.local_path, sizeof(t.local_path), "svm-b:vol_dst");
	snprintf(t.remote_path, sizeof(t.remote_path), "svm-a:vol_src");
	mg_step_args args = {.policy = "MirrorAllSnapshots"};
	mg_ontap_error err;
	cr_assert_neq(mg_mirror_step(&t, MG_STEP_CREATE, NULL, &args, &err), 0);
	cr_assert_eq(writes_to(NULL), before, "no ONTAP write");
	cr_assert_eq(mg_pvc_protect(&E.ctx_b, "app", "data", "svm-a:vol_src", "destination",
				    "mirror"),
		     0, "history stays writable");
	cr_assert_not(has_finalizer(&mg_k8s_res_pvc, "app", "data", MG_PVC_FINALIZER),
		      "no PVC finalizer in companion mode");
}

Test(reconciler_companion, promoted_source_gets_source_history)
{
	/* the relationship, established by this side's controller (cluster-b) */
	rec_env_mirror_pair(&E);
	rec_env_create(&E, &mg_k8s_res_tmr, "app", TMR_EST);
	cr_assert_gt(rec_env_tmr_until(&E, &E.ctx_b, "app", "mirror", "established", 30, 1000), 0);
	/* the source cluster runs Trident, with mirrorgate as its companion */
	rec_env_pvc(&E, "src", "data", "vol_src");
	rec_env_create(&E, &mg_k8s_res_tmr, "src",
		       "apiVersion: trident.netapp.io/v1\nkind: TridentMirrorRelationship\n"
		       "metadata: {name: mirror, namespace: src}\n"
		       "spec:\n  state: promoted\n  replicationPolicy: MirrorAllSnapshots\n"
		       "  volumeMappings:\n  - localPVCName: data\n");
	mg_ontap_client_set_read_only(E.ca, true);
	E.ctx_a.companion = true;
	int before = writes_to("cluster-a");
	mg_event_memo *memo = NULL;
	cr_assert_eq(mg_event_memo_new(&memo), 0);
	mg_rec_result res;
	cr_assert_eq(mg_companion_tmr_reconcile(&E.ctx_a, memo, "src", "mirror", &res), 0);
	cr_assert_eq(res.outcome, MG_REC_DONE, "%s", res.reason);
	cJSON *pvc = rec_env_get(&E, &mg_k8s_res_pvc, "src", "data");
	const cJSON *h = cJSON_GetObjectItem(
		cJSON_GetObjectItem(cJSON_GetObjectItem(pvc, "metadata"), "annotations"),
		"mirrorgate.io/replication-history");
	cr_assert(cJSON_IsString(h));
	cr_assert(strstr(h->valuestring, "\"remoteVolumeHandle\":\"svm-b:vol_dst\""), "%s",
		  h->valuestring);
	cr_assert(strstr(h->valuestring, "\"role\":\"source\""), "%s", h->valuestring);
	cr_assert_not(mg_kobj_has_finalizer(pvc, MG_PVC_FINALIZER));
	cJSON_Delete(pvc);
	/* a second pass changes nothing, and nothing was written to ONTAP */
	cr_assert_eq(mg_companion_tmr_reconcile(&E.ctx_a, memo, "src", "mirror", &res), 0);
	cr_assert_eq(writes_to("cluster-a"), before);
	cr_assert_not(has_finalizer(&mg_k8s_res_tmr, "src", "mirror", "trident.netapp.io"));
	/* a TMR that is gone: forgotten */
	mg_k8s_status st;
	cr_assert_eq(mg_k8s_delete(E.k8s, &mg_k8s_res_tmr, "src", "mirror", NULL, NULL, &st), 0);
	cr_assert_eq(mg_companion_tmr_reconcile(&E.ctx_a, memo, "src", "mirror", &res), 0);
	cr_assert_eq(res.outcome, MG_REC_FORGET);
	mg_event_memo_free(memo);
}

Test(reconciler_companion, tamu_that_trident_leaves_alone_is_explained_once)
{
	rec_env_pvc(&E, "app", "data", "vol_dst");
	rec_env_create(&E, &mg_k8s_res_tamu, "app",
		       "apiVersion: trident.netapp.io/v1\nkind: TridentActionMirrorUpdate\n"
		       "metadata: {name: update-1, namespace: app}\n"
		       "spec: {tridentMirrorRelationshipName: mirror}\n");
	E.ctx_b.companion = true;
	mg_event_memo *memo = NULL;
	cr_assert_eq(mg_event_memo_new(&memo), 0);
	mg_rec_result res;
	/* a Trident that runs TAMUs: nothing to say */
	cr_assert_eq(mg_companion_tamu_reconcile(&E.ctx_b, memo, true, "25.06.0", "app",
						 "update-1", &res),
		     0);
	cr_assert_eq(rec_env_events(&E, "app", "update-1", "TridentDoesNotRunTAMUs"), 0);
	/* 24.02 without ACP: said once, however often the TAMU comes by */
	for (int i = 0; i < 3; i++)
		cr_assert_eq(mg_companion_tamu_reconcile(&E.ctx_b, memo, false, "24.02.0", "app",
							 "update-1", &res),
			     0);
	cr_assert_eq(res.outcome, MG_REC_FORGET);
	cr_assert_eq(rec_env_events(&E, "app", "update-1", "TridentDoesNotRunTAMUs"), 1);
	cr_assert(strstr(rec_env_event_message(&E, "app", "update-1", "TridentDoesNotRunTAMUs"),
			 "Trident 24.02.0 does not run"));
	cJSON *tamu = rec_env_get(&E, &mg_k8s_res_tamu, "app", "update-1");
	cr_assert_null(cJSON_GetObjectItem(tamu, "status"), "nothing written to the TAMU");
	cJSON_Delete(tamu);
	/* gone: forgotten without a word */
	cr_assert_eq(mg_companion_tamu_reconcile(&E.ctx_b, memo, false, "24.02.0", "app", "nope",
						 &res),
		     0);
	cr_assert_eq(res.outcome, MG_REC_FORGET);
	mg_event_memo_free(memo);
}
