#include "mirrorgate/reconcile/tamu.h"

#include <stdio.h>
#include <string.h>

#include "mirrorgate/core/names.h"
#include "mirrorgate/reconcile/reconcile.h"

static const char *nz(const char *s)
{
	return s ? s : "";
}

static bool eq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static bool empty(const char *s)
{
	return !s || !*s;
}

const char *mg_tamu_action_name(enum mg_tamu_action a)
{
	switch (a) {
	case MG_TAMU_IGNORE: return "ignore";
	case MG_TAMU_FAIL: return "fail";
	case MG_TAMU_START: return "start";
	case MG_TAMU_POLL: return "poll";
	case MG_TAMU_WAIT: return "wait";
	case MG_TAMU_SUCCEED: return "succeed";
	case MG_TAMU_SEND: return "send";
	}
	return "?";
}

bool mg_tamu_snapshot_name(const char *handle, const char **out)
{
	*out = NULL;
	if (!handle || !*handle)
		return true;
	if (!mg_is_snapshot_handle(handle))
		return false;
	*out = strchr(handle, '/') + 1;
	return true;
}

enum mg_tamu_action mg_tamu_check(const mg_tamu_view *v, char *msg, size_t msg_len)
{
	const mg_tamu *t = v->tamu;
	const char *name = nz(t->meta.name);
	const char *state = nz(t->state);
	msg[0] = '\0';
	if (v->completed || eq(state, MG_TAMU_SUCCEEDED) || eq(state, MG_TAMU_FAILED))
		return MG_TAMU_IGNORE;
	if (t->meta.deletion_timestamp && !eq(state, MG_TAMU_IN_PROGRESS))
		return MG_TAMU_IGNORE;
	bool in_progress = eq(state, MG_TAMU_IN_PROGRESS);
	if (*state && !in_progress)
		/* Trident leaves such a CR unmodified; so do we. */
		return MG_TAMU_IGNORE;
	if (in_progress) {
		if (v->has_finalizer)
			return MG_TAMU_POLL;
		snprintf(msg, msg_len, "in-progress TAMU %s detected at startup, marking as Failed",
			 name);
		return MG_TAMU_FAIL;
	}
	const char *tmr_name = nz(t->tmr_name);
	if (!v->tmr) {
		snprintf(msg, msg_len,
			 "TridentMirrorRelationship '%s' for TridentActionMirrorUpdate '%s' does not "
			 "yet exist.",
			 tmr_name, name);
		return MG_TAMU_FAIL;
	}
	/* H6: a TMR without a condition is in state "", not a crash. */
	const char *tmr_state = v->tmr->has_condition ? nz(v->tmr->condition.state) : "";
	if (!eq(tmr_state, "established") && !eq(tmr_state, "reestablished")) {
		snprintf(msg, msg_len,
			 "mirror update failed: TAMU %s cannot be executed for TMR %s in %s state",
			 name, tmr_name, tmr_state);
		return MG_TAMU_FAIL;
	}
	if (v->tmr_policy_sync || eq(v->tmr->condition.replication_policy, "Sync")) {
		snprintf(msg, msg_len,
			 "mirror update failed: TAMU %s cannot be executed for TMR %s is a "
			 "synchronous relationship",
			 name, tmr_name);
		return MG_TAMU_FAIL;
	}
	const char *snap;
	if (!mg_tamu_snapshot_name(t->snapshot_handle, &snap)) {
		snprintf(msg, msg_len, "invalid snapshot handle %s", t->snapshot_handle);
		return MG_TAMU_FAIL;
	}
	return MG_TAMU_START;
}

enum mg_tamu_action mg_tamu_transfer_result(const mg_ontap_relationship *rel,
					    const char *previous_transfer_time, char *msg,
					    size_t msg_len, char *end_time_out, size_t end_len)
{
	msg[0] = '\0';
	if (end_len)
		end_time_out[0] = '\0';
	if (!rel) {
		snprintf(msg, msg_len, "mirror update failed, the SnapMirror relationship is gone");
		return MG_TAMU_FAIL;
	}
	const char *ts = rel->transfer_state;
	if (mg_relationship_transfer_active(rel))
		return MG_TAMU_WAIT;
	if (eq(ts, "failed") || eq(ts, "aborted") || eq(ts, "hard_aborted")) {
		snprintf(msg, msg_len, "mirror update failed, %s",
			 rel->unhealthy_reason[0] ? rel->unhealthy_reason : ts);
		return MG_TAMU_FAIL;
	}
	if (!rel->healthy) {
		snprintf(msg, msg_len, "mirror update failed, %s", rel->unhealthy_reason);
		return MG_TAMU_FAIL;
	}
	if (!rel->transfer_end_time[0]) {
		snprintf(msg, msg_len, "mirror does not have a transfer time");
		return MG_TAMU_FAIL;
	}
	int64_t end, prev;
	if (mg_time_parse_ms(&end, rel->transfer_end_time) != 0) {
		snprintf(msg, msg_len, "mirror update failed, unreadable transfer end time %s",
			 rel->transfer_end_time);
		return MG_TAMU_FAIL;
	}
	if (previous_transfer_time && *previous_transfer_time) {
		if (mg_time_parse_ms(&prev, previous_transfer_time) != 0) {
			snprintf(msg, msg_len, "unreadable previousTransferTime %s",
				 previous_transfer_time);
			return MG_TAMU_FAIL;
		}
		if (end <= prev)
			return MG_TAMU_WAIT; /* Trident's "mirror update retry" */
	}
	snprintf(end_time_out, end_len, "%s", rel->transfer_end_time);
	return MG_TAMU_SUCCEED;
}

/* A transfer ended, successfully and healthy, after previousTransferTime. */
static bool ended_after(const mg_ontap_relationship *rel, const char *prev)
{
	char msg[8], end[8];
	return mg_tamu_transfer_result(rel, prev, msg, sizeof(msg), end, sizeof(end)) ==
	       MG_TAMU_SUCCEED;
}

enum mg_tamu_action mg_tamu_progress_next(const mg_tamu_progress *p, char *msg, size_t msg_len,
					  char *end_time_out, size_t end_len)
{
	msg[0] = '\0';
	if (end_len)
		end_time_out[0] = '\0';
	const mg_ontap_relationship *rel = p->rel;
	if (!rel)
		return mg_tamu_transfer_result(NULL, NULL, msg, msg_len, end_time_out, end_len);
	bool active = mg_relationship_transfer_active(rel);
	/* The named snapshot arrived with some transfer that ended after the update began:
	 * whichever transfer brought it, the update's purpose is met. */
	if (p->snapshot && p->snapshot_present && !active &&
	    ended_after(rel, p->previous_transfer_time))
		return mg_tamu_transfer_result(rel, p->previous_transfer_time, msg, msg_len,
					       end_time_out, end_len);
	if (!p->requested)
		/* a running transfer is not ours, whatever it ends with: send ours after it */
		return active ? MG_TAMU_WAIT : MG_TAMU_SEND;
	if (active)
		return MG_TAMU_WAIT;
	/* Ours not visible yet: the relationship still shows the transfer from before. */
	if (!empty(p->prior_transfer_uuid) && eq(rel->transfer_uuid, p->prior_transfer_uuid))
		return MG_TAMU_WAIT;
	/* A transfer other than the one recorded when ONTAP accepted our request started after
	 * it (nothing ran then: ONTAP refuses an update while a transfer runs). That identity
	 * decides, not end times: transfer.end_time has whole seconds, so ours may end in the
	 * very second the previous one did. Without a uuid to compare, fall back to times. */
	bool identified = empty(p->prior_transfer_uuid) || !empty(rel->transfer_uuid);
	return mg_tamu_transfer_result(rel, identified ? NULL : p->previous_transfer_time, msg,
				       msg_len, end_time_out, end_len);
}
