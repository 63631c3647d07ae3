/* Disaster recovery semantics of the TMR controller (issue 11), on a real kube-sim and a real
 * ontap-sim: cluster-a/svm-a holds the source vol_src behind PVC app/src (site A's TMR
 * "source", promoted, no remote), cluster-b/svm-b the destination vol_dst behind PVC app/data
 * (site B's TMR "mirror"). ctx_a is site A's reconciler, ctx_b site B's.
 *  - an unplanned failover while cluster-a cannot be contacted breaks with ?force=true, and
 *    only then;
 *  - the source side records its destinations (history role "source") and protects its PVC;
 *  - a source whose destination was promoted reports the split-brain;
 *  - status never reads established in the middle of a promote.
 * Every test ends by asserting the ontap-sim data-loss ledger. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/core/history.h"
#include "mirrorgate/k8s/client.h"
#include "mirrorgate/ontap/snapmirror.h"
#include "mirrorgate/reconcile/status.h"
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

TestSuite(reconciler_dr, .init = setup, .fini = teardown, .timeout = 120);

#define MIRROR(state)                                                                   \
	"apiVersion: trident.netapp.io/v1\nkind: TridentMirrorRelationship\n"           \
	"metadata: {name: mirror, namespace: app}\n"                                    \
	"spec:\n  state: " state "\n  replicationPolicy: MirrorAllSnapshots\n"           \
	"  volumeMappings:\n  - localPVCName: data\n    remoteVolumeHandle: svm-a:vol_src\n"

#define SOURCE                                                                          \
	"apiVersion: trident.netapp.io/v1\nkind: TridentMirrorRelationship\n"           \
	"metadata: {name: source, namespace: app}\n"                                    \
	"spec:\n  state: promoted\n  replicationPolicy: MirrorAllSnapshots\n"            \
	"  volumeMappings:\n  - localPVCName: src\n"

static const char *cond(const char *tmr, const char *field)
{
	return rec_env_cond(&E, "app", tmr, field);
}

static void assert_no_loss(void)
{
	char *text = NULL;
	cr_expect_eq(rec_env_ledger(&E, &text), 0, "data-loss ledger: %s", text);
	free(text);
}

/* Both sites: the source PVC and its TMR on A, the mirror established on B. */
static void establish(void)
{
	rec_env_mirror_pair(&E);
	rec_env_pvc(&E, "app", "src", "vol_src");
	rec_env_create(&E, &mg_k8s_res_tmr, "app", SOURCE);
	cr_assert_gt(rec_env_tmr_until(&E, &E.ctx_a, "app", "source", "promoted", 5, 1000), 0,
		     "source never promoted: %s", cond("source", "message"));
	rec_env_create(&E, &mg_k8s_res_tmr, "app", MIRROR("established"));
	cr_assert_gt(rec_env_tmr_until(&E, &E.ctx_b, "app", "mirror", "established", 30, 1000), 0,
		     "never established: %s", cond("mirror", "message"));
}

static void promote_spec(void)
{
	rec_env_patch_spec(&E, "app", "mirror", "{\"spec\":{\"state\":\"promoted\"}}");
}

static void cut_off_site_a(void)
{
	rec_env_fault(&E, "{\"type\":\"peer\",\"cluster\":\"cluster-a\",\"reachable\":false}");
}

static int forced_breaks(void)
{
	return rec_env_requests_with_body(&E, "PATCH", "force=true", "broken_off");
}

/* Site A's storage is cut off: ONTAP refuses the break (262224) and the reconciler repeats
 * it with ?force=true, deletes destination_only, reports promoted, and says in an Event and
 * in the status what to do when the source returns. Nothing is lost. */
Test(reconciler_dr, unplanned_failover_with_the_source_unreachable_forces_the_break)
{
	establish();
	long before = rec_env_write(&E, 0, "svm-a:vol_src");
	(void)before;
	cut_off_site_a();
	promote_spec();
	mg_rmetrics *metrics = NULL;
	cr_assert_eq(mg_rmetrics_new(&metrics), 0);
	E.ctx_b.metrics = metrics;
	cr_assert_gt(rec_env_tmr_until(&E, &E.ctx_b, "app", "mirror", "promoted", 10, 1000), 0,
		     "never promoted: %s", cond("mirror", "message"));
	E.ctx_b.metrics = NULL;
	char *text = NULL;
	cr_assert_eq(mg_rmetrics_render(metrics, &text), 0);
	cr_expect(strstr(text, "mirrorgate_ontap_calls_total{operation=\"break\",outcome=\"error\"} "
			       "1") &&
			  strstr(text, "mirrorgate_ontap_calls_total{operation=\"break-forced\","
				       "outcome=\"success\"} 1"),
		  "%s", text);
	free(text);
	mg_rmetrics_free(metrics);
	cr_expect_eq(forced_breaks(), 1, "exactly one forced break");
	/* the unforced attempt came first and was refused with 262224 */
	cr_expect_geq(rec_env_requests_with_body(&E, "PATCH", "relationships/", "broken_off"), 2);
	cr_expect_not(rec_env_relationship(&E, "svm-b:vol_dst", NULL, 0),
		      "destination-side record deleted");
	cr_expect_str_eq(rec_env_volume_type(&E, 1, "vol_dst"), "rw");
	rec_env_write(&E, 1, "svm-b:vol_dst"); /* really writable */
	const char *msg = cond("mirror", "message");
	cr_expect(strncmp(msg, MG_MSG_FORCED_PROMOTE, strlen(MG_MSG_FORCED_PROMOTE)) == 0, "%s",
		  msg);
	cr_expect(strstr(msg, "svm-a:vol_src") && strstr(msg, "reestablished") &&
			  strstr(msg, "svm-b:vol_dst"),
		  "%s", msg);
	cr_expect_eq(rec_env_events(&E, "app", "mirror", MG_EVENT_REASON_SOURCE_UNREACHABLE), 1);
	const char *ev =
		rec_env_event_message(&E, "app", "mirror", MG_EVENT_REASON_SOURCE_UNREACHABLE);
	cr_expect(strstr(ev, "svm-a:vol_src") && strstr(ev, "Failed to contact peer cluster") &&
			  strstr(ev, "When it returns") && strstr(ev, "reestablished"),
		  "%s", ev);
	/* later passes keep saying it while the TMR stays promoted, and force nothing more */
	cr_expect_eq(rec_env_pass(&E, &E.ctx_b, "app", "mirror"), MG_REC_DONE);
	cr_expect(strstr(cond("mirror", "message"), MG_MSG_FORCED_PROMOTE), "%s",
		  cond("mirror", "message"));
	cr_expect_str_eq(cond("mirror", "state"), "promoted");
	cr_expect_eq(forced_breaks(), 1);
	assert_no_loss();
}

/* A break refused for any other reason is never forced: the TMR reports the failure. */
Test(reconciler_dr, other_break_refusals_are_never_forced)
{
	establish();
	rec_env_set_state(&E, "svm-b:vol_dst", "paused"); /* the quiesce is done: next, break */
	rec_env_fault(&E, "{\"type\":\"job\",\"match\":\"PATCH /api/snapmirror/relationships/*\","
			  "\"mode\":\"fail\",\"code\":13303818,\"message\":\"Invalid state "
			  "transition requested.\"}");
	promote_spec();
	cr_expect_eq(rec_env_pass(&E, &E.ctx_b, "app", "mirror"), MG_REC_RETRY);
	cr_expect_str_eq(cond("mirror", "state"), "failed");
	cr_expect(strstr(cond("mirror", "message"), "Could not promote mirror"), "%s",
		  cond("mirror", "message"));
	cr_expect_eq(forced_breaks(), 0);
	cr_expect_eq(rec_env_events(&E, "app", "mirror", MG_EVENT_REASON_SOURCE_UNREACHABLE), 0);
	char st[32];
	cr_assert(rec_env_relationship(&E, "svm-b:vol_dst", st, sizeof(st)));
	cr_expect_str_eq(st, "paused");
	/* busy (13303808) is retried, never forced either */
	rec_env_clear_faults(&E);
	rec_env_fault(&E, "{\"type\":\"job\",\"match\":\"PATCH /api/snapmirror/relationships/*\","
			  "\"mode\":\"fail\",\"code\":13303808,\"message\":\"Transition to "
			  "broken_off state failed. Reason:Another transfer is in progress.\"}");
	cr_expect_eq(rec_env_pass(&E, &E.ctx_b, "app", "mirror"), MG_REC_RETRY);
	cr_expect_eq(forced_breaks(), 0);
	cr_assert_gt(rec_env_tmr_until(&E, &E.ctx_b, "app", "mirror", "promoted", 10, 1000), 0);
	cr_expect_eq(forced_breaks(), 0);
	cr_expect_str_eq(cond("mirror", "message"), "");
	assert_no_loss();
}

static char *pvc_history(const char *pvc, bool *has_finalizer)
{
	cJSON *o = rec_env_get(&E, &mg_k8s_res_pvc, "app", pvc);
	cr_assert_not_null(o);
	const cJSON *md = cJSON_GetObjectItem(o, "metadata");
	const cJSON *h = cJSON_GetObjectItem(cJSON_GetObjectItem(md, "annotations"),
					     "mirrorgate.io/replication-history");
	char *out = cJSON_IsString(h) ? strdup(h->valuestring) : NULL;
	*has_finalizer = false;
	const cJSON *f;
	cJSON_ArrayForEach(f, cJSON_GetObjectItem(md, "finalizers"))
	if (cJSON_IsString(f) && strcmp(f->valuestring, MG_PVC_FINALIZER) == 0)
		*has_finalizer = true;
	cJSON_Delete(o);
	return out;
}

/* The source side learns its destination from ONTAP and records it: history role "source"
 * on the source PVC (what the webhook's failback rule reads), and the PVC is protected. */
Test(reconciler_dr, source_records_its_destinations_and_protects_its_pvc)
{
	rec_env_mirror_pair(&E);
	rec_env_pvc(&E, "app", "src", "vol_src");
	rec_env_create(&E, &mg_k8s_res_tmr, "app", SOURCE);
	cr_assert_gt(rec_env_tmr_until(&E, &E.ctx_a, "app", "source", "promoted", 5, 1000), 0);
	bool fin = true;
	char *h = pvc_history("src", &fin);
	cr_expect_null(h, "no destination yet, nothing recorded: %s", h ? h : "");
	cr_expect_not(fin, "not a source yet: no finalizer");
	free(h);
	rec_env_create(&E, &mg_k8s_res_tmr, "app", MIRROR("established"));
	cr_assert_gt(rec_env_tmr_until(&E, &E.ctx_b, "app", "mirror", "established", 30, 1000), 0);
	cr_expect_eq(rec_env_pass(&E, &E.ctx_a, "app", "source"), MG_REC_DONE);
	h = pvc_history("src", &fin);
	cr_assert_not_null(h);
	bool listed = false;
	cr_expect_eq(mg_history_contains(h, "svm-b:vol_dst", &listed), 0);
	cr_expect(listed, "%s", h);
	cr_expect(strstr(h, "\"role\":\"source\"") && strstr(h, "\"tmr\":\"source\""), "%s", h);
	cr_expect(fin, "source PVC protected");
	free(h);
	/* a second pass changes nothing (no duplicate entry) */
	int before = rec_env_mutations(&E);
	cr_expect_eq(rec_env_pass(&E, &E.ctx_a, "app", "source"), MG_REC_DONE);
	h = pvc_history("src", &fin);
	cr_expect_eq(strstr(strstr(h, "svm-b:vol_dst") + 1, "svm-b:vol_dst"), NULL, "%s", h);
	free(h);
	cr_expect_eq(rec_env_mutations(&E), before, "no ONTAP change from the source side");
	cr_expect_str_eq(cond("source", "message"), "");
	cr_expect_eq(rec_env_events(&E, "app", "source", MG_EVENT_REASON_SPLIT_BRAIN), 0);
	assert_no_loss();
}

/* Site A comes back after the unplanned failover: its volume and B's are both read-write.
 * A's TMR stays promoted and says so plainly (status and a SplitBrain Warning), naming the
 * fix; nothing on ONTAP changes and nothing is lost until a user asks for reestablished. */
Test(reconciler_dr, returning_source_reports_the_split_brain)
{
	establish();
	cut_off_site_a();
	promote_spec();
	cr_assert_gt(rec_env_tmr_until(&E, &E.ctx_b, "app", "mirror", "promoted", 10, 1000), 0);
	rec_env_write(&E, 0, "svm-a:vol_src"); /* both sides take writes */
	rec_env_write(&E, 1, "svm-b:vol_dst");
	rec_env_clear_faults(&E); /* site A is back */
	int before = rec_env_mutations(&E);
	cr_expect_eq(rec_env_pass(&E, &E.ctx_a, "app", "source"), MG_REC_DONE);
	cr_expect_str_eq(cond("source", "state"), "promoted");
	const char *msg = cond("source", "message");
	cr_expect(strncmp(msg, MG_MSG_SPLIT_BRAIN, strlen(MG_MSG_SPLIT_BRAIN)) == 0, "%s", msg);
	cr_expect(strstr(msg, "svm-a:vol_src") && strstr(msg, "svm-b:vol_dst") &&
			  strstr(msg, "reestablished") && strstr(msg, "loses its writes"),
		  "%s", msg);
	cr_expect_eq(rec_env_events(&E, "app", "source", MG_EVENT_REASON_SPLIT_BRAIN), 1);
	cr_expect_str_eq(rec_env_event_message(&E, "app", "source", MG_EVENT_REASON_SPLIT_BRAIN),
			 msg);
	/* said once: another pass writes no status and emits no second Event */
	cr_expect_eq(rec_env_pass(&E, &E.ctx_a, "app", "source"), MG_REC_DONE);
	cr_expect_eq(rec_env_events(&E, "app", "source", MG_EVENT_REASON_SPLIT_BRAIN), 1);
	/* a failed source-side read does not make it look resolved */
	rec_env_fault(&E, "{\"type\":\"request\",\"cluster\":\"cluster-a\",\"method\":\"GET\","
			  "\"path\":\"/api/snapmirror/relationships*\",\"count\":1,\"status\":500,"
			  "\"code\":\"8\",\"message\":\"internal error\"}");
	rec_env_pass(&E, &E.ctx_a, "app", "source");
	cr_expect(strstr(cond("source", "message"), MG_MSG_SPLIT_BRAIN), "%s",
		  cond("source", "message"));
	cr_expect_eq(rec_env_pass(&E, &E.ctx_a, "app", "source"), MG_REC_DONE);
	cr_expect_eq(rec_env_events(&E, "app", "source", MG_EVENT_REASON_SPLIT_BRAIN), 1);
	cr_expect_eq(rec_env_mutations(&E), before, "reporting changes nothing on ONTAP");
	/* the history that admits A's failback (reestablished from B) is there */
	bool fin = false;
	char *h = pvc_history("src", &fin);
	bool listed = false;
	cr_expect_eq(mg_history_contains(h, "svm-b:vol_dst", &listed), 0);
	cr_expect(listed, "%s", h ? h : "(none)");
	free(h);
	assert_no_loss();
}

static void expect_not_mirrored_state(const char *when)
{
	const char *st = cond("mirror", "state");
	cr_expect(strcmp(st, "established") != 0 && strcmp(st, "reestablished") != 0 &&
			  strcmp(st, "establishing") != 0,
		  "%s: state %s while promoting", when, st);
}

/* Status never reads established while a promote is under way: with a transfer running (so
 * the promote takes quiesce, abort, break, delete over several passes), and when ONTAP
 * cannot be read half-way (relationship read or volume look-up failing). */
Test(reconciler_dr, status_never_reads_established_in_the_middle_of_a_promote)
{
	rec_env_mirror_pair(&E);
	rec_env_create(&E, &mg_k8s_res_tmr, "app", MIRROR("established"));
	cr_assert_gt(rec_env_tmr_until(&E, &E.ctx_b, "app", "mirror", "established", 30, 1000), 0);
	/* two ONTAP steps per pass (quiesce+abort, break+delete): the intermediate states are
	 * written and seen */
	E.ctx_b.max_steps = 2;
	rec_env_fault(&E, "{\"type\":\"transfer\",\"mode\":\"hang\"}");
	rec_env_transfer(&E, "svm-b:vol_dst"); /* an update is running */
	promote_spec();
	cr_expect_eq(rec_env_pass(&E, &E.ctx_b, "app", "mirror"), MG_REC_RETRY);
	expect_not_mirrored_state("after quiesce and abort");
	char st[32];
	cr_assert(rec_env_relationship(&E, "svm-b:vol_dst", st, sizeof(st)));
	/* ONTAP cannot be read now: the relationship, then the volume look-up */
	rec_env_fault(&E, "{\"type\":\"request\",\"cluster\":\"cluster-b\",\"method\":\"GET\","
			  "\"path\":\"/api/snapmirror/relationships*\",\"count\":2,\"status\":500,"
			  "\"code\":\"8\",\"message\":\"internal error\"}");
	for (int i = 0; i < 2; i++) {
		cr_expect_eq(rec_env_pass(&E, &E.ctx_b, "app", "mirror"), MG_REC_RETRY);
		cr_expect_str_eq(cond("mirror", "state"), "promoting");
	}
	rec_env_fault(&E, "{\"type\":\"request\",\"cluster\":\"cluster-b\",\"method\":\"GET\","
			  "\"path\":\"/api/storage/volumes*\",\"count\":1,\"status\":500,"
			  "\"code\":\"8\",\"message\":\"internal error\"}");
	cr_expect_eq(rec_env_pass(&E, &E.ctx_b, "app", "mirror"), MG_REC_RETRY);
	cr_expect_str_eq(cond("mirror", "state"), "promoting");
	/* then the rest of the promote, one step a pass, never reading established */
	int passes = 0;
	while (strcmp(cond("mirror", "state"), "promoted") != 0 && passes++ < 12) {
		rec_env_pass(&E, &E.ctx_b, "app", "mirror");
		expect_not_mirrored_state("during the promote");
	}
	cr_expect_str_eq(cond("mirror", "state"), "promoted", "%s", cond("mirror", "message"));
	cr_expect_not(rec_env_relationship(&E, "svm-b:vol_dst", NULL, 0));
	assert_no_loss();
}

static void patch_tmr(const char *tmr, const char *json)
{
	rec_env_patch_spec(&E, "app", tmr, json);
}

static int destinations_of(mg_ontap_client *c, const char *source)
{
	mg_ontap_relationship_list l = {0};
	mg_ontap_error err;
	int rc = mg_ontap_relationship_list_destinations(c, source, &l, &err);
	cr_assert(rc == 0 || rc == MG_ENOTFOUND, "%s", err.message);
	int n = (int)l.len;
	mg_ontap_relationship_list_free(&l);
	return n;
}

/* The whole cycle after an unplanned failover: A comes back (split-brain), A gives up its
 * writes (reestablished from B: the ledger holds exactly A's unreplicated write), then a
 * planned failback makes A the source again and B its destination. The reversed
 * relationships' stale source-side records are removed (info only), so A, promoted again,
 * reports no split-brain; every step's history admits the next. */
Test(reconciler_dr, failback_both_ways_after_a_split_brain_leaves_no_stale_record)
{
	establish();
	cut_off_site_a();
	promote_spec();
	cr_assert_gt(rec_env_tmr_until(&E, &E.ctx_b, "app", "mirror", "promoted", 10, 1000), 0);
	long lost = rec_env_write(&E, 0, "svm-a:vol_src"); /* A kept writing, unreplicated */
	rec_env_write(&E, 1, "svm-b:vol_dst");
	rec_env_clear_faults(&E);
	cr_expect_eq(rec_env_pass(&E, &E.ctx_a, "app", "source"), MG_REC_DONE);
	cr_expect(strstr(cond("source", "message"), MG_MSG_SPLIT_BRAIN), "%s",
		  cond("source", "message"));
	/* A gives up its writes: reestablished from B */
	patch_tmr("source", "{\"spec\":{\"state\":\"reestablished\",\"volumeMappings\":[{"
			    "\"localPVCName\":\"src\",\"remoteVolumeHandle\":\"svm-b:vol_dst\"}]}}");
	cr_assert_gt(rec_env_tmr_until(&E, &E.ctx_a, "app", "source", "reestablished", 30, 1000),
		     0, "A never reestablished: %s", cond("source", "message"));
	cr_expect_str_eq(rec_env_volume_type(&E, 0, "vol_src"), "dp");
	cr_expect_eq(destinations_of(E.ca, "svm-a:vol_src"), 0,
		     "the old A -> B source record was removed");
	char *text = NULL;
	cr_expect_eq(rec_env_ledger(&E, &text), 1, "exactly A's unreplicated write: %s", text);
	char want[64];
	snprintf(want, sizeof(want), "\"generation\":%ld", lost);
	cr_expect(text && strstr(text, want) && strstr(text, "svm-a:vol_src"), "%s", text);
	free(text);
	/* B, still promoted, now feeds A: it records A as its destination, no split-brain */
	cr_expect_eq(rec_env_pass(&E, &E.ctx_b, "app", "mirror"), MG_REC_DONE);
	cr_expect_str_eq(cond("mirror", "state"), "promoted");
	cr_expect_str_eq(cond("mirror", "message"), "",
			 "the forced-break note is resolved once the old source is B's mirror");
	cr_expect_eq(rec_env_events(&E, "app", "mirror", MG_EVENT_REASON_SPLIT_BRAIN), 0);
	bool fin = false;
	char *h = pvc_history("data", &fin);
	cr_expect(h && strstr(h, "\"role\":\"source\""), "%s", h ? h : "(none)");
	free(h);
	/* planned failback: A promoted, then B reestablished from A */
	patch_tmr("source", "{\"spec\":{\"state\":\"promoted\"}}");
	cr_assert_gt(rec_env_tmr_until(&E, &E.ctx_a, "app", "source", "promoted", 20, 1000), 0);
	patch_tmr("mirror", "{\"spec\":{\"state\":\"reestablished\"}}");
	cr_assert_gt(rec_env_tmr_until(&E, &E.ctx_b, "app", "mirror", "reestablished", 30, 1000),
		     0, "B never reestablished: %s", cond("mirror", "message"));
	cr_expect_eq(destinations_of(E.cb, "svm-b:vol_dst"), 0,
		     "the B -> A source record was removed");
	cr_expect_eq(rec_env_pass(&E, &E.ctx_a, "app", "source"), MG_REC_DONE);
	cr_expect_str_eq(cond("source", "state"), "promoted");
	cr_expect_str_eq(cond("source", "message"), "", "no split-brain from a stale record");
	cr_expect_eq(destinations_of(E.ca, "svm-a:vol_src"), 1);
	/* the ledger: still only A's write (B's resync discarded nothing unreplicated) */
	cr_expect_eq(rec_env_ledger(&E, &text), 1, "%s", text);
	free(text);
}

/* Deleting the protected source PVC: the finalizer keeps it until the PVC controller has
 * released the source-side metadata on ONTAP (source_only); only then does it go (and with
 * it, through the provisioner, the volume). B's copy and relationship are untouched. */
Test(reconciler_dr, deleting_the_source_pvc_releases_the_source_side_first)
{
	establish();
	cr_expect_eq(rec_env_pass(&E, &E.ctx_a, "app", "source"), MG_REC_DONE);
	bool fin = false;
	free(pvc_history("src", &fin));
	cr_assert(fin, "source PVC not protected");
	cr_assert_eq(destinations_of(E.ca, "svm-a:vol_src"), 1);
	rec_env_delete(&E, &mg_k8s_res_pvc, "app", "src");
	cJSON *o = rec_env_get(&E, &mg_k8s_res_pvc, "app", "src");
	cr_expect_not_null(o, "the finalizer holds the PVC until the release");
	cJSON_Delete(o);
	mg_rec_result res;
	cr_assert_eq(mg_pvc_reconcile(&E.ctx_a, "app", "src", &res), 0);
	cr_expect_eq(res.outcome, MG_REC_FORGET, "%s", res.reason);
	cr_expect_eq(destinations_of(E.ca, "svm-a:vol_src"), 0, "source side released");
	o = rec_env_get(&E, &mg_k8s_res_pvc, "app", "src");
	cr_expect_null(o, "the PVC went after the release");
	cJSON_Delete(o);
	char st[32];
	cr_expect(rec_env_relationship(&E, "svm-b:vol_dst", st, sizeof(st)));
	assert_no_loss();
}

/* Replication removed on purpose (B's TMR deleted: promoted first): A's TMR reports the
 * split-brain, and the way out its message names (delete and recreate A's TMR, which
 * releases the source side) ends it. Nothing is lost. */
Test(reconciler_dr, removed_replication_is_released_by_recreating_the_source_tmr)
{
	establish();
	rec_env_delete(&E, &mg_k8s_res_tmr, "app", "mirror");
	cr_assert_gt(rec_env_tmr_until_gone(&E, &E.ctx_b, "app", "mirror", 20, 1000), 0);
	cr_expect_str_eq(rec_env_volume_type(&E, 1, "vol_dst"), "rw");
	cr_expect_eq(rec_env_pass(&E, &E.ctx_a, "app", "source"), MG_REC_DONE);
	const char *msg = cond("source", "message");
	cr_expect(strstr(msg, MG_MSG_SPLIT_BRAIN) && strstr(msg, "delete this TMR"), "%s", msg);
	rec_env_delete(&E, &mg_k8s_res_tmr, "app", "source");
	cr_assert_gt(rec_env_tmr_until_gone(&E, &E.ctx_a, "app", "source", 10, 1000), 0);
	cr_expect_eq(destinations_of(E.ca, "svm-a:vol_src"), 0, "source side released");
	rec_env_create(&E, &mg_k8s_res_tmr, "app", SOURCE);
	cr_assert_gt(rec_env_tmr_until(&E, &E.ctx_a, "app", "source", "promoted", 5, 1000), 0);
	cr_expect_str_eq(cond("source", "message"), "");
	assert_no_loss();
}
