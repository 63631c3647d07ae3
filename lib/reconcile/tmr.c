#include "mirrorgate/reconcile/reconcile.h"

#include <string.h>

#include "mirrorgate/ontap/error.h"

static bool eq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static bool empty(const char *s)
{
	return !s || !*s;
}

const char *mg_mirror_status_name(enum mg_mirror_status s)
{
	switch (s) {
	case MG_MIRROR_NONE: return "none";
	case MG_MIRROR_ESTABLISHING: return "establishing";
	case MG_MIRROR_ESTABLISHED: return "established";
	case MG_MIRROR_QUIESCED: return "quiesced";
	case MG_MIRROR_PROMOTING: return "promoting";
	case MG_MIRROR_UNKNOWN: break;
	}
	return "unknown";
}

bool mg_relationship_transfer_active(const mg_ontap_relationship *rel)
{
	if (!rel)
		return false;
	const char *t = rel->transfer_state;
	/* REST reports queued/transferring; the ZAPI-style names show up in older tooling. */
	return eq(t, "queued") || eq(t, "transferring") || eq(t, "preparing") ||
	       eq(t, "finalizing");
}

enum mg_mirror_status mg_mirror_status_of(const mg_ontap_relationship *rel)
{
	if (!rel)
		return MG_MIRROR_NONE;
	const char *t = rel->transfer_state;
	if (eq(t, "breaking") || eq(t, "quiescing") || eq(t, "aborting"))
		return MG_MIRROR_PROMOTING;
	const char *s = rel->state;
	bool active = mg_relationship_transfer_active(rel);
	if (eq(s, "paused"))
		return MG_MIRROR_QUIESCED;
	if (eq(s, "broken_off") || eq(s, "broken-off"))
		/* A resync runs with the relationship still broken off. */
		return active ? MG_MIRROR_ESTABLISHING : MG_MIRROR_PROMOTING;
	if (eq(s, "uninitialized") || eq(s, "synchronizing") || eq(s, "out_of_sync"))
		return MG_MIRROR_ESTABLISHING;
	/* An update running on a snapmirrored relationship does not make it less established
	 * (Trident says "establishing" here, which would flap the status on every update). */
	if (eq(s, "snapmirrored") || eq(s, "in_sync"))
		return MG_MIRROR_ESTABLISHED;
	return MG_MIRROR_UNKNOWN;
}

static const char *const k_state_names[] = {
	[MG_TMR_NONE] = "",
	[MG_TMR_ESTABLISHED] = MG_STATE_ESTABLISHED,
	[MG_TMR_ESTABLISHING] = MG_STATE_ESTABLISHING,
	[MG_TMR_REESTABLISHED] = MG_STATE_REESTABLISHED,
	[MG_TMR_REESTABLISHING] = MG_STATE_REESTABLISHING,
	[MG_TMR_PROMOTED] = MG_STATE_PROMOTED,
	[MG_TMR_PROMOTING] = MG_STATE_PROMOTING,
	[MG_TMR_FAILED] = MG_STATE_FAILED,
	[MG_TMR_INVALID] = MG_STATE_INVALID,
};

const char *mg_tmr_state_str(enum mg_tmr_state s)
{
	if ((size_t)s < sizeof(k_state_names) / sizeof(k_state_names[0]) && k_state_names[s])
		return k_state_names[s];
	return "";
}

enum mg_tmr_state mg_tmr_state_parse(const char *s)
{
	if (empty(s))
		return MG_TMR_NONE;
	for (size_t i = 1; i < sizeof(k_state_names) / sizeof(k_state_names[0]); i++)
		if (strcmp(s, k_state_names[i]) == 0)
			return (enum mg_tmr_state)i;
	return MG_TMR_STATE_UNPARSED;
}

bool mg_tmr_state_is_transitioning(enum mg_tmr_state s)
{
	return s == MG_TMR_ESTABLISHING || s == MG_TMR_REESTABLISHING || s == MG_TMR_PROMOTING;
}

const char *mg_tmr_invalid_reason(const mg_tmr *tmr)
{
	if (!tmr->has_mappings)
		return ".spec.volumeMappings must be set";
	if (tmr->nmappings != 1)
		return ".spec.volumeMappings must contain exactly one element in the list";
	const mg_tmr_mapping *m = &tmr->mappings[0];
	if (empty(m->local_pvc_name))
		return ".spec.volumeMappings must specify a localPVCName";
	enum mg_tmr_state st = mg_tmr_state_parse(tmr->state);
	if (st != MG_TMR_NONE && st != MG_TMR_ESTABLISHED && st != MG_TMR_REESTABLISHED &&
	    st != MG_TMR_PROMOTED)
		return ".spec.state must be one of established, reestablished, promoted";
	if (!empty(m->promoted_snapshot_handle) && st != MG_TMR_PROMOTED)
		return ".spec.state must be set to 'promoted' when providing a "
		       "'promotedSnapshotHandle'";
	if ((st == MG_TMR_ESTABLISHED || st == MG_TMR_REESTABLISHED) &&
	    empty(m->remote_volume_handle))
		return "A remoteVolumeHandle must be provided if .spec.state is established or "
		       "reestablished";
	return NULL;
}

bool mg_tmr_current_state(enum mg_tmr_state desired, enum mg_mirror_status observed,
			  enum mg_tmr_state *out)
{
	switch (observed) {
	case MG_MIRROR_UNKNOWN:
		return false; /* H2: an error is not a state */
	case MG_MIRROR_NONE:
		*out = desired == MG_TMR_PROMOTED ? MG_TMR_PROMOTED : MG_TMR_NONE;
		return true;
	case MG_MIRROR_ESTABLISHING:
		*out = desired == MG_TMR_REESTABLISHED ? MG_TMR_REESTABLISHING
		       : desired == MG_TMR_PROMOTED    ? MG_TMR_PROMOTING
						       : MG_TMR_ESTABLISHING;
		return true;
	case MG_MIRROR_ESTABLISHED:
		*out = desired == MG_TMR_REESTABLISHED ? MG_TMR_REESTABLISHED
		       : desired == MG_TMR_PROMOTED    ? MG_TMR_PROMOTING
						       : MG_TMR_ESTABLISHED;
		return true;
	case MG_MIRROR_QUIESCED: /* H3 */
	case MG_MIRROR_PROMOTING:
		*out = MG_TMR_PROMOTING;
		return true;
	}
	return false;
}

bool mg_tmr_state_while_unknown(enum mg_tmr_state desired, enum mg_tmr_state stored,
				enum mg_tmr_state *out)
{
	if (desired != MG_TMR_PROMOTED)
		return false;
	if (stored != MG_TMR_ESTABLISHED && stored != MG_TMR_REESTABLISHED &&
	    stored != MG_TMR_ESTABLISHING && stored != MG_TMR_REESTABLISHING)
		return false;
	*out = MG_TMR_PROMOTING;
	return true;
}

const char *mg_tmr_action_name(enum mg_tmr_action a)
{
	switch (a) {
	case MG_ACT_NONE: return "none";
	case MG_ACT_RETRY_READ: return "retry-read";
	case MG_ACT_ESTABLISH: return "establish";
	case MG_ACT_REESTABLISH: return "reestablish";
	case MG_ACT_PROMOTE: return "promote";
	case MG_ACT_REFUSE: return "refuse";
	}
	return "?";
}

static const char k_msg_unknown[] =
	"Could not read the SnapMirror relationship from ONTAP; retrying";
static const char k_msg_broken_established[] =
	"SnapMirror relationship is broken off and this volume may hold writes the source does "
	"not have; 'established' never resyncs: set spec.state to 'reestablished' to resync "
	"(discarding those writes) or to 'promoted' to finish the failover";

mg_tmr_decision mg_tmr_decide(enum mg_tmr_state desired, bool has_remote,
			      enum mg_mirror_status observed)
{
	mg_tmr_decision d = {MG_ACT_NONE, MG_TMR_NONE, NULL};
	if (!has_remote)
		observed = MG_MIRROR_NONE; /* no remote: no relationship to look for (source) */
	if (observed == MG_MIRROR_UNKNOWN) {
		d.action = MG_ACT_RETRY_READ;
		d.message = k_msg_unknown;
		return d;
	}
	enum mg_tmr_state cur = MG_TMR_NONE;
	mg_tmr_current_state(desired, observed, &cur);
	d.report = cur;
	switch (desired) {
	case MG_TMR_ESTABLISHED:
		if (observed == MG_MIRROR_ESTABLISHED)
			break;
		if (observed == MG_MIRROR_PROMOTING) {
			d.action = MG_ACT_REFUSE;
			d.report = MG_TMR_FAILED;
			d.message = k_msg_broken_established;
			break;
		}
		d.action = MG_ACT_ESTABLISH; /* none, establishing, or quiesced (resume) */
		d.report = MG_TMR_ESTABLISHING;
		break;
	case MG_TMR_REESTABLISHED:
		if (observed == MG_MIRROR_ESTABLISHED)
			break;
		d.action = MG_ACT_REESTABLISH;
		d.report = MG_TMR_REESTABLISHING;
		break;
	case MG_TMR_PROMOTED:
		if (observed == MG_MIRROR_NONE)
			break;
		d.action = MG_ACT_PROMOTE;
		d.report = MG_TMR_PROMOTING;
		break;
	default:
		/* "" observes: report what ONTAP shows, change nothing. */
		break;
	}
	return d;
}

const char *mg_step_name(enum mg_step s)
{
	switch (s) {
	case MG_STEP_DONE: return "done";
	case MG_STEP_WAIT: return "wait";
	case MG_STEP_WAIT_SNAPSHOT: return "wait-snapshot";
	case MG_STEP_CREATE: return "create";
	case MG_STEP_INITIALIZE: return "initialize";
	case MG_STEP_RESYNC: return "resync";
	case MG_STEP_RESUME: return "resume";
	case MG_STEP_QUIESCE: return "quiesce";
	case MG_STEP_ABORT: return "abort";
	case MG_STEP_BREAK: return "break";
	case MG_STEP_DELETE_DEST: return "delete-destination";
	case MG_STEP_FAIL: return "fail";
	}
	return "?";
}

static bool is_mirrored(const char *s)
{
	return eq(s, "snapmirrored") || eq(s, "in_sync");
}

enum mg_step mg_establish_next(const mg_ontap_relationship *rel)
{
	if (!rel)
		return MG_STEP_CREATE;
	bool active = mg_relationship_transfer_active(rel);
	const char *s = rel->state;
	if (is_mirrored(s))
		return MG_STEP_DONE;
	if (active)
		return MG_STEP_WAIT;
	if (eq(s, "uninitialized"))
		return MG_STEP_INITIALIZE; /* also retries a failed baseline, with backoff */
	if (eq(s, "paused"))
		return MG_STEP_RESUME;
	if (eq(s, "broken_off") || eq(s, "broken-off"))
		return MG_STEP_FAIL; /* resync is reestablish's job, never establish's */
	return MG_STEP_WAIT;
}

enum mg_step mg_reestablish_next(const mg_ontap_relationship *rel)
{
	if (!rel)
		return MG_STEP_CREATE;
	bool active = mg_relationship_transfer_active(rel);
	const char *s = rel->state;
	if (active)
		return MG_STEP_WAIT;
	if (is_mirrored(s))
		return MG_STEP_DONE;
	if (eq(s, "uninitialized"))
		return MG_STEP_INITIALIZE;
	if (eq(s, "paused"))
		return MG_STEP_RESUME;
	if (eq(s, "broken_off") || eq(s, "broken-off"))
		/* A resync that failed (no common snapshot) leaves it unhealthy; repeating it
		 * cannot help, and deleting the relationship (Trident) hides the reason. */
		return rel->healthy ? MG_STEP_RESYNC : MG_STEP_FAIL;
	return MG_STEP_WAIT;
}

bool mg_step_may_force(enum mg_step step, const mg_ontap_error *err)
{
	return step == MG_STEP_BREAK && err && mg_ontap_err_is_peer_unreachable(err);
}

bool mg_destination_promoted(const mg_ontap_relationship *source_view)
{
	return source_view &&
	       (eq(source_view->state, "broken_off") || eq(source_view->state, "broken-off"));
}

bool mg_promote_waits_for_snapshot(const char *snapshot_handle, const char *policy_type)
{
	return !empty(snapshot_handle) && !eq(policy_type, "sync");
}

enum mg_step mg_promote_next(const mg_promote_input *in)
{
	const mg_ontap_relationship *rel = in->rel;
	bool missing = in->wait_for_snapshot && !in->snapshot_present;
	if (!rel)
		/* Nothing to break; a snapshot that was asked for must still be there first. */
		return missing ? MG_STEP_WAIT_SNAPSHOT : MG_STEP_DONE;
	bool active = mg_relationship_transfer_active(rel);
	const char *s = rel->state;
	if (eq(s, "uninitialized"))
		return active ? MG_STEP_ABORT : MG_STEP_DELETE_DEST;
	if (is_mirrored(s) || eq(s, "synchronizing") || eq(s, "out_of_sync")) {
		/* H1: wait while transfers can still bring the snapshot. */
		if (missing)
			return MG_STEP_WAIT_SNAPSHOT;
		if (active && in->quiesce_requested)
			return MG_STEP_ABORT;
		return MG_STEP_QUIESCE;
	}
	if (eq(s, "paused")) {
		/* Quiesced without the snapshot: it can only arrive once transfers resume. */
		if (missing)
			return MG_STEP_RESUME;
		return active ? MG_STEP_ABORT : MG_STEP_BREAK;
	}
	if (eq(s, "broken_off") || eq(s, "broken-off"))
		return active ? MG_STEP_ABORT : MG_STEP_DELETE_DEST;
	return MG_STEP_WAIT;
}

static const char k_msg_dp_no_relationship[] =
	"The local volume is a read-only DP volume with no SnapMirror relationship, so it "
	"cannot be promoted (Trident would report promoted): establish the relationship "
	"(spec.state established with a remoteVolumeHandle) or recreate the PVC without the "
	"trident.netapp.io/mirrorRelationship annotation";

const char *mg_tmr_promoted_refusal(enum mg_tmr_state desired, enum mg_mirror_status observed,
				    const char *volume_type)
{
	if (desired != MG_TMR_PROMOTED || observed != MG_MIRROR_NONE)
		return NULL;
	return eq(volume_type, "dp") || eq(volume_type, "DP") ? k_msg_dp_no_relationship : NULL;
}

const char *mg_delete_action_name(enum mg_delete_action a)
{
	switch (a) {
	case MG_DEL_REMOVE_FINALIZER: return "remove-finalizer";
	case MG_DEL_RELEASE: return "release";
	case MG_DEL_PROMOTE: return "promote";
	case MG_DEL_RETRY_READ: return "retry-read";
	}
	return "?";
}

enum mg_delete_action mg_tmr_delete_decide(bool volume_resolved, enum mg_tmr_state status_state,
					   enum mg_mirror_status observed)
{
	if (!volume_resolved)
		return MG_DEL_REMOVE_FINALIZER;
	if (status_state == MG_TMR_NONE || status_state == MG_TMR_PROMOTED)
		return MG_DEL_RELEASE;
	switch (observed) {
	case MG_MIRROR_UNKNOWN:
		return MG_DEL_RETRY_READ;
	case MG_MIRROR_NONE:
		return MG_DEL_REMOVE_FINALIZER;
	default:
		return MG_DEL_PROMOTE;
	}
}
