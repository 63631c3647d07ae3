/* TAMU state machine (research 3.9 / 4.7 / 6.3), TSI resolution (3.10 / 6.4) and the TMR's
 * PVC -> PV resolution (2.4): Trident's messages, partial objects never crash (H6). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "mirrorgate/reconcile/resolve.h"
#include "mirrorgate/reconcile/status.h"
#include "mirrorgate/reconcile/tamu.h"

static cJSON *J(const char *text)
{
	cJSON *j = cJSON_Parse(text);
	cr_assert_not_null(j, "bad fixture %s", text);
	return j;
}

struct fixture {
	cJSON *tamu_obj, *tmr_obj;
	mg_tamu tamu;
	mg_tmr tmr;
};

static void load(struct fixture *f, const char *tamu, const char *tmr)
{
	mg_field_errors errs = {0};
	f->tamu_obj = J(tamu);
	cr_assert_eq(mg_tamu_decode(&f->tamu, f->tamu_obj, &errs), 0);
	f->tmr_obj = tmr ? J(tmr) : NULL;
	memset(&f->tmr, 0, sizeof(f->tmr));
	if (tmr)
		cr_assert_eq(mg_tmr_decode(&f->tmr, f->tmr_obj, &errs), 0);
	mg_fe_clear(&errs);
}

static void unload(struct fixture *f)
{
	mg_tmr_free(&f->tmr);
	cJSON_Delete(f->tamu_obj);
	cJSON_Delete(f->tmr_obj);
}

#define TMR_EST                                                                          \
	"{\"metadata\":{\"name\":\"tmr1\"},\"spec\":{\"state\":\"established\"},"          \
	"\"status\":{\"conditions\":[{\"state\":\"established\",\"localPVCName\":\"pvc1\"," \
	"\"localVolumeHandle\":\"vs2:vs2_pvc_456\",\"remoteVolumeHandle\":\"vs1:vs1_pvc_123\"," \
	"\"replicationPolicy\":\"MirrorAllSnapshots\"}]}}"
#define TAMU(extra)                                                                       \
	"{\"metadata\":{\"name\":\"update1\"},\"spec\":{\"tridentMirrorRelationshipName\":" \
	"\"tmr1\"" extra "}}"

static enum mg_tamu_action check(const char *tamu, const char *tmr, bool fin, bool sync,
				 char *msg, size_t len)
{
	struct fixture f;
	load(&f, tamu, tmr);
	mg_tamu_view v = {.tamu = &f.tamu, .has_finalizer = fin, .tmr = tmr ? &f.tmr : NULL,
			  .tmr_policy_sync = sync};
	cJSON *st = cJSON_GetObjectItem(f.tamu_obj, "status");
	v.completed = cJSON_GetObjectItem(st, "completionTime") != NULL;
	enum mg_tamu_action a = mg_tamu_check(&v, msg, len);
	unload(&f);
	return a;
}

Test(reconcile_tamu, new_tamu_on_established_tmr_starts)
{
	char msg[512];
	cr_expect_eq(check(TAMU(""), TMR_EST, false, false, msg, sizeof(msg)), MG_TAMU_START);
	cr_expect_eq(check(TAMU(",\"snapshotHandle\":\"pvc-1/snapshot-123\""), TMR_EST, false,
			   false, msg, sizeof(msg)),
		     MG_TAMU_START);
	const char *snap;
	cr_assert(mg_tamu_snapshot_name("pvc-1/snapshot-123", &snap));
	cr_expect_str_eq(snap, "snapshot-123");
	cr_assert(mg_tamu_snapshot_name(NULL, &snap));
	cr_expect_null(snap);
}

Test(reconcile_tamu, trident_failure_messages)
{
	char msg[512];
	cr_expect_eq(check(TAMU(""), NULL, false, false, msg, sizeof(msg)), MG_TAMU_FAIL);
	cr_expect_str_eq(msg, "TridentMirrorRelationship 'tmr1' for TridentActionMirrorUpdate "
			      "'update1' does not yet exist.");
	const char *promoted =
		"{\"metadata\":{\"name\":\"tmr1\"},\"status\":{\"conditions\":[{\"state\":"
		"\"promoted\"}]}}";
	cr_expect_eq(check(TAMU(""), promoted, false, false, msg, sizeof(msg)), MG_TAMU_FAIL);
	cr_expect_str_eq(msg, "mirror update failed: TAMU update1 cannot be executed for TMR tmr1 "
			      "in promoted state");
	const char *sync =
		"{\"metadata\":{\"name\":\"tmr1\"},\"status\":{\"conditions\":[{\"state\":"
		"\"established\",\"replicationPolicy\":\"Sync\"}]}}";
	cr_expect_eq(check(TAMU(""), sync, false, false, msg, sizeof(msg)), MG_TAMU_FAIL);
	cr_expect_str_eq(msg, "mirror update failed: TAMU update1 cannot be executed for TMR tmr1 "
			      "is a synchronous relationship");
	/* a sync policy under another name is caught by its ONTAP type */
	cr_expect_eq(check(TAMU(""), TMR_EST, false, true, msg, sizeof(msg)), MG_TAMU_FAIL);
	cr_expect(strstr(msg, "is a synchronous relationship"));
	cr_expect_eq(check(TAMU(",\"snapshotHandle\":\"no-slash\""), TMR_EST, false, false, msg,
			   sizeof(msg)),
		     MG_TAMU_FAIL);
	cr_expect_str_eq(msg, "invalid snapshot handle no-slash");
}

/* H6: Trident indexes the TMR's conditions[0] unguarded. */
Test(reconcile_tamu, h6_tmr_without_status_does_not_crash)
{
	char msg[512];
	cr_expect_eq(check(TAMU(""), "{\"metadata\":{\"name\":\"tmr1\"}}", false, false, msg,
			   sizeof(msg)),
		     MG_TAMU_FAIL);
	cr_expect_str_eq(msg,
			 "mirror update failed: TAMU update1 cannot be executed for TMR tmr1 in  state");
	cr_expect_eq(check("{\"metadata\":{\"name\":\"u\"}}", NULL, false, false, msg, sizeof(msg)),
		     MG_TAMU_FAIL, "no spec at all");
	cr_expect_str_eq(msg, "TridentMirrorRelationship '' for TridentActionMirrorUpdate 'u' does "
			      "not yet exist.");
}

Test(reconcile_tamu, complete_or_foreign_states_are_left_alone)
{
	char msg[512];
	cr_expect_eq(check(TAMU("},\"status\":{\"state\":\"Succeeded\",\"completionTime\":"
				"\"2026-01-01T00:00:00Z\""),
			   TMR_EST, false, false, msg, sizeof(msg)),
		     MG_TAMU_IGNORE);
	cr_expect_eq(check(TAMU("},\"status\":{\"state\":\"Failed\""), TMR_EST, false, false, msg,
			   sizeof(msg)),
		     MG_TAMU_IGNORE);
	cr_expect_eq(check(TAMU("},\"status\":{\"state\":\"In Progress\""), TMR_EST, false, false,
			   msg, sizeof(msg)),
		     MG_TAMU_IGNORE, "the docs' capital P is not Trident's state");
}

/* Trident fails an "In progress" TAMU found at startup. One carrying our finalizer was
 * started by a reconciler (this one before a restart, or the previous leader): resume. */
Test(reconcile_tamu, in_progress_resumes_only_when_ours)
{
	char msg[512];
	const char *ip = TAMU("},\"status\":{\"state\":\"In progress\"");
	cr_expect_eq(check(ip, TMR_EST, true, false, msg, sizeof(msg)), MG_TAMU_POLL);
	cr_expect_eq(check(ip, TMR_EST, false, false, msg, sizeof(msg)), MG_TAMU_FAIL);
	cr_expect_str_eq(msg, "in-progress TAMU update1 detected at startup, marking as Failed");
}

static mg_ontap_relationship rel(const char *transfer, bool healthy, const char *end)
{
	mg_ontap_relationship r;
	memset(&r, 0, sizeof(r));
	snprintf(r.state, sizeof(r.state), "snapmirrored");
	snprintf(r.transfer_state, sizeof(r.transfer_state), "%s", transfer);
	snprintf(r.transfer_end_time, sizeof(r.transfer_end_time), "%s", end);
	r.healthy = healthy;
	if (!healthy)
		snprintf(r.unhealthy_reason, sizeof(r.unhealthy_reason), "source volume offline");
	return r;
}

Test(reconcile_tamu, success_only_when_a_newer_transfer_ended)
{
	char msg[256], end[64];
	const char *prev = "2026-11-25T10:00:00.500+00:00";
	mg_ontap_relationship r = rel("transferring", true, prev);
	cr_expect_eq(mg_tamu_transfer_result(&r, prev, msg, sizeof(msg), end, sizeof(end)),
		     MG_TAMU_WAIT);
	r = rel("queued", true, prev);
	cr_expect_eq(mg_tamu_transfer_result(&r, prev, msg, sizeof(msg), end, sizeof(end)),
		     MG_TAMU_WAIT);
	/* the old transfer's success is not this update's */
	r = rel("success", true, prev);
	cr_expect_eq(mg_tamu_transfer_result(&r, prev, msg, sizeof(msg), end, sizeof(end)),
		     MG_TAMU_WAIT);
	/* sub-second precision matters: same second, later fraction */
	r = rel("success", true, "2026-11-25T10:00:00.900+00:00");
	cr_expect_eq(mg_tamu_transfer_result(&r, prev, msg, sizeof(msg), end, sizeof(end)),
		     MG_TAMU_SUCCEED);
	cr_expect_str_eq(end, "2026-11-25T10:00:00.900+00:00");
	r = rel("success", true, "2026-11-25T10:01:00Z");
	cr_expect_eq(mg_tamu_transfer_result(&r, NULL, msg, sizeof(msg), end, sizeof(end)),
		     MG_TAMU_SUCCEED, "no previous transfer: any ended transfer counts");
}

Test(reconcile_tamu, transfer_failures)
{
	char msg[256], end[64];
	mg_ontap_relationship r = rel("failed", false, "");
	cr_expect_eq(mg_tamu_transfer_result(&r, NULL, msg, sizeof(msg), end, sizeof(end)),
		     MG_TAMU_FAIL);
	cr_expect_str_eq(msg, "mirror update failed, source volume offline");
	r = rel("success", false, "2026-11-25T10:01:00Z");
	cr_expect_eq(mg_tamu_transfer_result(&r, NULL, msg, sizeof(msg), end, sizeof(end)),
		     MG_TAMU_FAIL);
	cr_expect_str_eq(msg, "mirror update failed, source volume offline");
	r = rel("success", true, "");
	cr_expect_eq(mg_tamu_transfer_result(&r, NULL, msg, sizeof(msg), end, sizeof(end)),
		     MG_TAMU_FAIL);
	cr_expect_str_eq(msg, "mirror does not have a transfer time");
	r = rel("aborted", true, "2026-11-25T10:01:00Z");
	cr_expect_eq(mg_tamu_transfer_result(&r, NULL, msg, sizeof(msg), end, sizeof(end)),
		     MG_TAMU_FAIL);
	cr_expect_str_eq(msg, "mirror update failed, aborted");
	r = rel("success", true, "yesterday");
	cr_expect_eq(mg_tamu_transfer_result(&r, NULL, msg, sizeof(msg), end, sizeof(end)),
		     MG_TAMU_FAIL);
	cr_expect_eq(mg_tamu_transfer_result(NULL, NULL, msg, sizeof(msg), end, sizeof(end)),
		     MG_TAMU_FAIL);
}

static mg_ontap_relationship relu(const char *transfer, const char *uuid, const char *end)
{
	mg_ontap_relationship r = rel(transfer, true, end);
	snprintf(r.transfer_uuid, sizeof(r.transfer_uuid), "%s", uuid);
	return r;
}

static enum mg_tamu_action progress(const mg_ontap_relationship *r, const char *prev,
				    bool requested, const char *prior, const char *snap,
				    bool present)
{
	char msg[256], end[64];
	mg_tamu_progress p = {.rel = r, .previous_transfer_time = prev, .requested = requested,
			      .prior_transfer_uuid = prior, .snapshot = snap,
			      .snapshot_present = present};
	return mg_tamu_progress_next(&p, msg, sizeof(msg), end, sizeof(end));
}

/* The race: a transfer running when the TAMU came (previousTransferTime therefore empty)
 * ends; that is never the TAMU's success. */
Test(reconcile_tamu, a_transfer_running_before_the_request_never_counts)
{
	mg_ontap_relationship r = relu("transferring", "x1", "");
	cr_expect_eq(progress(&r, "", false, NULL, NULL, false), MG_TAMU_WAIT,
		     "nothing is sent while another transfer runs");
	r = relu("success", "x1", "2026-11-25T10:05:00Z");
	cr_expect_eq(progress(&r, "", false, NULL, NULL, false), MG_TAMU_SEND,
		     "it ended: now send ours, do not succeed");
	cr_expect_eq(progress(&r, "", false, NULL, "snap-new", false), MG_TAMU_SEND,
		     "the named snapshot did not come with it");
	/* accepted; the relationship still shows the earlier transfer */
	cr_expect_eq(progress(&r, "2026-11-25T10:05:00Z", true, "x1", NULL, false), MG_TAMU_WAIT);
	r = relu("transferring", "x2", "");
	cr_expect_eq(progress(&r, "2026-11-25T10:05:00Z", true, "x1", NULL, false), MG_TAMU_WAIT);
	r = relu("success", "x2", "2026-11-25T10:06:00Z");
	cr_expect_eq(progress(&r, "2026-11-25T10:05:00Z", true, "x1", NULL, false),
		     MG_TAMU_SUCCEED, "ours (started after the request) ended");
	r = relu("failed", "x2", "2026-11-25T10:06:00Z");
	r.healthy = false;
	cr_expect_eq(progress(&r, "2026-11-25T10:05:00Z", true, "x1", NULL, false), MG_TAMU_FAIL);
	/* no transfer before at all ("none" is stored as ""): any transfer is ours */
	r = relu("success", "x1", "2026-11-25T10:06:00Z");
	cr_expect_eq(progress(&r, "", true, "", NULL, false), MG_TAMU_SUCCEED);
	cr_expect_eq(progress(NULL, "", true, "", NULL, false), MG_TAMU_FAIL, "relationship gone");
}

/* ONTAP's transfer.end_time has whole seconds: ours may end in the second the previous
 * transfer ended. Its uuid, not its end time, says it is ours. */
Test(reconcile_tamu, a_new_transfer_ending_in_the_same_second_succeeds)
{
	const char *prev = "2026-11-25T10:05:00Z";
	mg_ontap_relationship r = relu("success", "x2", prev);
	cr_expect_eq(progress(&r, prev, true, "x1", NULL, false), MG_TAMU_SUCCEED,
		     "another transfer, same end second: ours");
	cr_expect_eq(progress(&r, prev, true, "x1", "snap-2", true), MG_TAMU_SUCCEED);
	r = relu("success", "x1", prev);
	cr_expect_eq(progress(&r, prev, true, "x1", NULL, false), MG_TAMU_WAIT,
		     "the prior transfer itself is never ours");
	/* the race fix stays: before our request was accepted nothing counts */
	r = relu("success", "x2", prev);
	cr_expect_eq(progress(&r, prev, false, NULL, NULL, false), MG_TAMU_SEND);
	/* without a uuid to tell them apart, end times still decide */
	r = relu("success", "", prev);
	cr_expect_eq(progress(&r, prev, true, "x1", NULL, false), MG_TAMU_WAIT);
	r = relu("success", "", "2026-11-25T10:05:01Z");
	cr_expect_eq(progress(&r, prev, true, "x1", NULL, false), MG_TAMU_SUCCEED);
	/* a new transfer that failed is a failure, whatever its end time */
	r = relu("failed", "x2", prev);
	r.healthy = false;
	cr_expect_eq(progress(&r, prev, true, "x1", NULL, false), MG_TAMU_FAIL);
}

/* With a snapshot named: its presence on the destination plus a transfer ended after
 * previousTransferTime is enough, whichever transfer brought it. */
Test(reconcile_tamu, named_snapshot_present_after_a_newer_transfer_succeeds)
{
	const char *prev = "2026-11-25T10:00:00Z";
	mg_ontap_relationship r = relu("success", "x1", "2026-11-25T10:05:00Z");
	cr_expect_eq(progress(&r, prev, false, NULL, "snap-2", true), MG_TAMU_SUCCEED);
	cr_expect_eq(progress(&r, prev, false, NULL, "snap-2", false), MG_TAMU_SEND);
	r = relu("success", "x1", prev);
	cr_expect_eq(progress(&r, prev, false, NULL, "snap-2", true), MG_TAMU_SEND,
		     "present, but no transfer ended since the update began");
	r = relu("transferring", "x1", "");
	cr_expect_eq(progress(&r, prev, false, NULL, "snap-2", true), MG_TAMU_WAIT);
}

/* ---- TSI (research 6.4) ---- */

static enum mg_resolve tsi(const char *vs, const char *vsc, char *handle, char *why)
{
	cJSON *a = vs ? J(vs) : NULL, *b = vsc ? J(vsc) : NULL;
	enum mg_resolve r = mg_tsi_resolve(a, b, "app", "snap1", handle, 128, why, 256);
	cJSON_Delete(a);
	cJSON_Delete(b);
	return r;
}

#define VS_BOUND "{\"status\":{\"boundVolumeSnapshotContentName\":\"snapcontent-1\"}}"

Test(reconcile_tsi, resolves_volume_snapshot_to_handle)
{
	char handle[128], why[256];
	cr_expect_eq(tsi(NULL, NULL, handle, why), MG_RESOLVE_DEFER);
	cr_expect_str_eq(why, "VolumeSnapshot 'snap1' does not exist in namespace 'app'");
	cr_expect_eq(tsi("{\"status\":{}}", NULL, handle, why), MG_RESOLVE_DEFER);
	cr_expect_str_eq(why, "VolumeSnapshot 'snap1' is not bound to a VolumeSnapshotContent");
	cr_expect_eq(tsi("{}", NULL, handle, why), MG_RESOLVE_DEFER, "H6: no status at all");
	cr_expect_eq(tsi(VS_BOUND, NULL, handle, why), MG_RESOLVE_DEFER);
	cr_expect_str_eq(why, "VolumeSnapshotContent 'snapcontent-1' does not exist");
	cr_expect_eq(tsi(VS_BOUND, "{\"spec\":{\"driver\":\"wrong.driver.io\"}}", handle, why),
		     MG_RESOLVE_ERROR);
	cr_expect_str_eq(why, "snapshot 'snap1' is not a Trident snapshot");
	cr_expect_eq(tsi(VS_BOUND, "{\"spec\":{\"driver\":\"csi.trident.netapp.io\"}}", handle,
			 why),
		     MG_RESOLVE_DEFER);
	cr_expect_eq(tsi(VS_BOUND,
			 "{\"spec\":{\"driver\":\"csi.trident.netapp.io\"},\"status\":"
			 "{\"snapshotHandle\":\"bad handle\"}}",
			 handle, why),
		     MG_RESOLVE_ERROR);
	cr_expect_str_eq(why, "unrecognized snapshot handle 'bad handle'");
	cr_expect_eq(tsi(VS_BOUND,
			 "{\"spec\":{\"driver\":\"csi.trident.netapp.io\"},\"status\":"
			 "{\"snapshotHandle\":\"test-volume/test-snapshot\"}}",
			 handle, why),
		     MG_RESOLVED);
	cr_expect_str_eq(handle, "test-volume/test-snapshot");
}

/* ---- TMR PVC -> PV (research 2.4 / 6.2) ---- */

static enum mg_resolve vol(const char *pvc, const char *pv, const char **internal,
			   const char **why, cJSON **keep)
{
	cJSON *a = pvc ? J(pvc) : NULL;
	*keep = pv ? J(pv) : NULL;
	const char *handle;
	enum mg_resolve r = mg_tmr_resolve_volume(a, *keep, internal, &handle, why);
	cJSON_Delete(a);
	return r;
}

Test(reconcile_resolve, pvc_to_internal_volume_name)
{
	const char *internal, *why;
	cJSON *pv;
	const char *pvc = "{\"spec\":{\"volumeName\":\"pvc-456\"}}";
	cr_expect_eq(vol(NULL, NULL, &internal, &why, &pv), MG_RESOLVE_DEFER);
	cr_expect_str_eq(why, "Local PVC for TridentMirrorRelationship does not yet exist.");
	cr_expect_eq(vol("{\"spec\":{}}", NULL, &internal, &why, &pv), MG_RESOLVE_DEFER);
	cr_expect_str_eq(why, "PV for local PVC for TridentMirrorRelationship does not yet exist.");
	cr_expect_eq(vol(pvc, NULL, &internal, &why, &pv), MG_RESOLVE_DEFER);
	cr_expect_str_eq(why, "PV for local PVC for TridentMirrorRelationship does not yet exist.");
	cr_expect_eq(vol(pvc, "{\"spec\":{\"nfs\":{}}}", &internal, &why, &pv), MG_RESOLVE_DEFER,
		     "a PV without spec.csi");
	cJSON_Delete(pv);
	cr_expect_eq(vol(pvc, "{\"spec\":{\"csi\":{\"volumeAttributes\":{}}}}", &internal, &why, &pv),
		     MG_RESOLVE_DEFER);
	cr_expect_str_eq(why, "PV for local PVC for TridentMirrorRelationship does not yet have an "
			      "internal volume name set.");
	cJSON_Delete(pv);
	cr_expect_eq(vol(pvc,
			 "{\"spec\":{\"csi\":{\"volumeHandle\":\"pvc-456\",\"volumeAttributes\":"
			 "{\"internalName\":\"vs2_pvc_456\"}}}}",
			 &internal, &why, &pv),
		     MG_RESOLVED);
	cr_expect_str_eq(internal, "vs2_pvc_456");
	cJSON_Delete(pv);
}
