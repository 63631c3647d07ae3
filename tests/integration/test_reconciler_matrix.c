/* The cells of research 3.5 (desired x observed) that test_reconciler_tmr_states.c and
 * test_reconciler_tmr.c do not show, end to end over kube-sim and ontap-sim. Each test
 * asserts the data-loss ledger: only a user-requested reestablish may discard data, and its
 * entry is asserted exactly. docs/operations.md ("Test map") lists every cell's test. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/k8s/client.h"
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

TestSuite(reconciler_matrix, .init = setup, .fini = teardown, .timeout = 120);

#define TMR(state)                                                                     \
	"apiVersion: trident.netapp.io/v1\nkind: TridentMirrorRelationship\n"          \
	"metadata: {name: mirror, namespace: app}\n"                                   \
	"spec:\n  state: " state "\n  replicationPolicy: MirrorAllSnapshots\n"          \
	"  volumeMappings:\n  - localPVCName: data\n"                                   \
	"    remoteVolumeHandle: svm-a:vol_src\n"
#define DST "svm-b:vol_dst"

static void assert_no_loss(void)
{
	char *text = NULL;
	cr_expect_eq(rec_env_ledger(&E, &text), 0, "data-loss ledger: %s", text);
	free(text);
}

static const char *cond(const char *field)
{
	return rec_env_cond(&E, "app", "mirror", field);
}

static const char *ontap_state(void)
{
	static char st[32];
	if (!rec_env_relationship(&E, DST, st, sizeof(st)))
		snprintf(st, sizeof(st), "(none)");
	return st;
}

static void volumes(void)
{
	rec_env_mirror_pair(&E);
}

static void establish(void)
{
	volumes();
	rec_env_create(&E, &mg_k8s_res_tmr, "app", TMR("established"));
	cr_assert_gt(rec_env_tmr_until(&E, &E.ctx_b, "app", "mirror", "established", 30, 1000), 0,
		     "never established: %s", cond("message"));
}

/* A TMR whose baseline hangs: the relationship stays uninitialized with a transfer running
 * until the faults are cleared. */
static void establishing(void)
{
	volumes();
	rec_env_fault(&E, "{\"type\":\"transfer\",\"mode\":\"hang\"}");
	rec_env_create(&E, &mg_k8s_res_tmr, "app", TMR("established"));
	cr_expect_eq(rec_env_pass(&E, &E.ctx_b, "app", "mirror"), MG_REC_RETRY);
	ontap_sim_advance(&E.ontap, 2000);
	cr_assert_str_eq(cond("state"), "establishing");
	cr_assert_str_eq(ontap_state(), "uninitialized");
}

static void set_desired(const char *state)
{
	char patch[96];
	snprintf(patch, sizeof(patch), "{\"spec\":{\"state\":\"%s\"}}", state);
	rec_env_patch_spec(&E, "app", "mirror", patch);
}

/* Passes (advancing the clock) with no ONTAP change allowed. */
static void passes_change_nothing(int n)
{
	int before = rec_env_mutations(&E);
	for (int i = 0; i < n; i++) {
		rec_env_pass(&E, &E.ctx_b, "app", "mirror");
		ontap_sim_advance(&E.ontap, 1000);
	}
	cr_expect_eq(rec_env_mutations(&E), before, "no ONTAP change");
}

/* reestablished x establishing: the running baseline is waited for (no resync, no second
 * initialize), then the TMR reports reestablished. */
Test(reconciler_matrix, reestablished_x_establishing_waits_for_the_baseline)
{
	establishing();
	set_desired("reestablished");
	passes_change_nothing(3);
	cr_expect_str_eq(cond("state"), "reestablishing");
	rec_env_clear_faults(&E); /* the baseline finishes */
	cr_assert_gt(rec_env_tmr_until(&E, &E.ctx_b, "app", "mirror", "reestablished", 10, 1000),
		     0, "%s", cond("message"));
	cr_expect_str_eq(ontap_state(), "snapmirrored");
	cr_expect_eq(rec_env_requests_with_body(&E, "PATCH", "/api/snapmirror", "snapmirrored"), 0,
		     "no resync of a relationship that was never broken");
	assert_no_loss();
}

/* reestablished x established: nothing to do on ONTAP; the state string follows the spec. */
Test(reconciler_matrix, reestablished_x_established_changes_nothing)
{
	establish();
	set_desired("reestablished");
	int before = rec_env_mutations(&E);
	cr_expect_eq(rec_env_pass(&E, &E.ctx_b, "app", "mirror"), MG_REC_DONE);
	cr_expect_str_eq(cond("state"), "reestablished");
	cr_expect_str_eq(cond("message"), "");
	cr_expect_eq(rec_env_mutations(&E), before, "no resync");
	cr_expect_str_eq(ontap_state(), "snapmirrored");
	assert_no_loss();
}

/* reestablished x promoting (broken off by an admin, the app wrote to the destination): the
 * user asked for a resync, which discards those writes; that is the ledger's only entry. */
Test(reconciler_matrix, reestablished_x_broken_off_resyncs_with_user_requested_loss)
{
	establish();
	rec_env_set_state(&E, DST, "paused");
	rec_env_set_state(&E, DST, "broken_off");
	rec_env_write(&E, 1, DST);
	assert_no_loss();
	set_desired("reestablished");
	cr_assert_gt(rec_env_tmr_until(&E, &E.ctx_b, "app", "mirror", "reestablished", 20, 1000),
		     0, "%s", cond("message"));
	cr_expect_str_eq(ontap_state(), "snapmirrored");
	cr_expect_eq(rec_env_requests_with_body(&E, "PATCH", "/api/snapmirror", "snapmirrored"), 1,
		     "one resync");
	char *text = NULL;
	cr_expect_eq(rec_env_ledger(&E, &text), 1, "exactly the resync's discard: %s", text);
	cJSON *l = cJSON_Parse(text);
	const cJSON *it = cJSON_GetArrayItem(cJSON_GetObjectItem(l, "entries"), 0);
	cr_expect_str_eq(cJSON_GetObjectItem(it, "operation")->valuestring, "resync");
	cr_expect_str_eq(cJSON_GetObjectItem(it, "volume")->valuestring, DST);
	cJSON_Delete(l);
	free(text);
}

/* reestablished x quiesced: a resume, which loses nothing. */
Test(reconciler_matrix, reestablished_x_quiesced_resumes)
{
	establish();
	rec_env_set_state(&E, DST, "paused");
	set_desired("reestablished");
	cr_assert_gt(rec_env_tmr_until(&E, &E.ctx_b, "app", "mirror", "reestablished", 10, 1000),
		     0, "%s", cond("message"));
	cr_expect_str_eq(ontap_state(), "snapmirrored");
	assert_no_loss();
}

/* promoted x promoting (broken off, record not yet deleted): only the destination record is
 * deleted; no second break; what the app wrote on the destination stays. */
Test(reconciler_matrix, promoted_x_broken_off_deletes_the_destination_record_only)
{
	establish();
	rec_env_set_state(&E, DST, "paused");
	rec_env_set_state(&E, DST, "broken_off");
	rec_env_write(&E, 1, DST);
	int breaks = rec_env_requests_with_body(&E, "PATCH", "/api/snapmirror", "broken_off");
	set_desired("promoted");
	cr_assert_gt(rec_env_tmr_until(&E, &E.ctx_b, "app", "mirror", "promoted", 10, 1000), 0,
		     "%s", cond("message"));
	cr_expect_eq(rec_env_requests_with_body(&E, "PATCH", "/api/snapmirror", "broken_off"),
		     breaks, "not broken again");
	cr_expect_eq(ontap_sim_count_requests(&E.ontap, NULL, "DELETE", "destination_only=true"), 1);
	cr_expect_str_eq(ontap_state(), "(none)");
	cr_expect_str_eq(rec_env_volume_type(&E, 1, "vol_dst"), "rw");
	assert_no_loss();
}

/* "" x none: observe only; the status says "" (with the local handle), ONTAP untouched. */
Test(reconciler_matrix, observe_only_x_none_reports_empty)
{
	volumes();
	rec_env_create(&E, &mg_k8s_res_tmr, "app", TMR("\"\""));
	passes_change_nothing(2);
	cr_expect_str_eq(cond("state"), "");
	cr_expect_str_eq(cond("localVolumeHandle"), DST, "a status was written");
	cr_expect_str_eq(ontap_state(), "(none)");
	assert_no_loss();
}

/* "" x establishing: reported, never initialized or finished by this TMR (Trident finishes
 * it); when the baseline ends by itself the TMR says established. */
Test(reconciler_matrix, observe_only_x_establishing_never_initializes)
{
	establishing();
	set_desired("");
	passes_change_nothing(3);
	cr_expect_str_eq(cond("state"), "establishing");
	rec_env_clear_faults(&E);
	ontap_sim_advance(&E.ontap, 5000);
	passes_change_nothing(1);
	cr_expect_str_eq(cond("state"), "established");
	assert_no_loss();
}

/* "" x promoting (broken off): reported as promoting; not deleted, not resynced (Trident
 * finishes the promote here). */
Test(reconciler_matrix, observe_only_x_broken_off_changes_nothing)
{
	establish();
	set_desired("");
	rec_env_set_state(&E, DST, "paused");
	rec_env_set_state(&E, DST, "broken_off");
	rec_env_write(&E, 1, DST);
	passes_change_nothing(3);
	cr_expect_str_eq(cond("state"), "promoting");
	cr_expect_str_eq(ontap_state(), "broken_off");
	assert_no_loss();
}

/* H6: partial objects (Trident indexes them unguarded and panics): a TAMU naming a TMR that
 * has no status yet is Failed with the state shown as empty; nothing crashes, ONTAP is not
 * touched. (A TMR without volumeMappings cannot pass the CRD schema; the pure checks for it
 * are in unit test reconcile_tmr::is_valid_and_h6_partial_objects.) */
Test(reconciler_matrix, h6_partial_objects_never_crash)
{
	rec_env_pvc(&E, "app", "data", "vol_dst");
	/* a TMR nobody reconciled yet: no status at all */
	rec_env_create(&E, &mg_k8s_res_tmr, "app", TMR("established"));
	rec_env_create(&E, &mg_k8s_res_tamu, "app",
		       "apiVersion: trident.netapp.io/v1\nkind: TridentActionMirrorUpdate\n"
		       "metadata: {name: early, namespace: app}\n"
		       "spec: {tridentMirrorRelationshipName: mirror}\n");
	mg_rec_result res;
	cr_assert_eq(mg_tamu_reconcile(&E.ctx_b, "app", "early", &res), 0);
	cr_expect_eq(res.outcome, MG_REC_FORGET);
	cJSON *o = rec_env_get(&E, &mg_k8s_res_tamu, "app", "early");
	const cJSON *st = cJSON_GetObjectItem(o, "status");
	cr_expect_str_eq(cJSON_GetObjectItem(st, "state")->valuestring, "Failed");
	cr_expect_str_eq(cJSON_GetObjectItem(st, "message")->valuestring,
			 "mirror update failed: TAMU early cannot be executed for TMR mirror in  "
			 "state");
	cJSON_Delete(o);
	cr_expect_eq(rec_env_mutations(&E), 0);
	assert_no_loss();
}
