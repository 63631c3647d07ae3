/* The TMR reconciler's decisions as pure functions: what ONTAP's relationship means for the
 * TMR (research trident.md 3.4 and 4.2), what to do about it (3.5), which single ONTAP step
 * comes next inside an establish, reestablish or promote, and when a deleted TMR may lose its
 * finalizer (3.6). No I/O: the controller reads ONTAP, asks here, performs at most one step,
 * and reads again, so every destructive step is decided on a fresh read.
 *
 * Where this deliberately differs from Trident (hazards in research section 8):
 *  - a failed read is MG_MIRROR_UNKNOWN ("retry"), never "promoted" (H2);
 *  - REST state `paused` (quiesced, not yet broken) is promoting, not "" (H3);
 *  - a promoted snapshot that has not arrived is a wait, not a failure (H1);
 *  - the TMR's own policy type decides sync handling, not the backend's (H4);
 *  - desired "" only observes: it never finishes a promote or an establish;
 *  - desired established never breaks or resyncs: a broken-off relationship is reported
 *    (failed, with what to do) instead of being torn down and rebuilt. */
#ifndef MIRRORGATE_RECONCILE_H
#define MIRRORGATE_RECONCILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mirrorgate/core/model.h"
#include "mirrorgate/ontap/snapmirror.h"

/* What ONTAP says about the local volume's relationship (Trident's GetMirrorStatus). */
enum mg_mirror_status {
	MG_MIRROR_UNKNOWN = 0,   /* the read failed or the state is not understood: retry */
	MG_MIRROR_NONE,          /* no relationship with this destination */
	MG_MIRROR_ESTABLISHING,  /* baseline or resync running, or uninitialized */
	MG_MIRROR_ESTABLISHED,   /* snapmirrored / in_sync (an update may be running) */
	MG_MIRROR_QUIESCED,      /* paused: a promote's first step, or an admin's quiesce.
				  * Reported as promoting (H3); a resume loses nothing. */
	MG_MIRROR_PROMOTING,     /* broken_off, not yet deleted: the volume is writable */
};

const char *mg_mirror_status_name(enum mg_mirror_status s);

/* Maps a relationship read from the destination cluster (4.2, H3 fixed). */
enum mg_mirror_status mg_mirror_status_of(const mg_ontap_relationship *rel);

/* TMR state values, Trident's strings; MG_TMR_NONE is "". */
enum mg_tmr_state {
	MG_TMR_NONE = 0,
	MG_TMR_ESTABLISHED,
	MG_TMR_ESTABLISHING,
	MG_TMR_REESTABLISHED,
	MG_TMR_REESTABLISHING,
	MG_TMR_PROMOTED,
	MG_TMR_PROMOTING,
	MG_TMR_FAILED,
	MG_TMR_INVALID,
	MG_TMR_STATE_UNPARSED, /* a spec/status string that is none of the above */
};

const char *mg_tmr_state_str(enum mg_tmr_state s);
/* NULL and "" are MG_TMR_NONE; unknown strings are MG_TMR_STATE_UNPARSED. */
enum mg_tmr_state mg_tmr_state_parse(const char *s);
bool mg_tmr_state_is_transitioning(enum mg_tmr_state s);

/* Trident's TridentMirrorRelationship.IsValid(): NULL when valid, else the exact reason. */
const char *mg_tmr_invalid_reason(const mg_tmr *tmr);

/* The TMR state the observation means for a desired state (3.4 with H2 fixed). For
 * MG_MIRROR_UNKNOWN it returns false: there is no state to report, keep the last one. */
bool mg_tmr_current_state(enum mg_tmr_state desired, enum mg_mirror_status observed,
			  enum mg_tmr_state *out);

/* The state to report when ONTAP could not be read (H2: no guess from an error): the stored
 * one, except that a TMR whose spec asks for promoted never keeps reading established,
 * reestablished or their -ing forms: a promote may be half done (quiesced, broken) and the
 * user must not read "mirrored" then. Returns false when the stored state is to be kept. */
bool mg_tmr_state_while_unknown(enum mg_tmr_state desired, enum mg_tmr_state stored,
				enum mg_tmr_state *out);

/* What one reconcile pass does (3.5). */
enum mg_tmr_action {
	MG_ACT_NONE = 0,    /* desired state reached (or observe only): report, no ONTAP change */
	MG_ACT_RETRY_READ,  /* observation unknown: change nothing, requeue with backoff */
	MG_ACT_ESTABLISH,   /* create if missing, initialize, wait */
	MG_ACT_REESTABLISH, /* create if missing, resync or resume, wait */
	MG_ACT_PROMOTE,     /* wait for snapshot, quiesce, abort, break, delete destination_only */
	MG_ACT_REFUSE,      /* the observed relationship cannot reach the desired state without
			     * breaking or resyncing it: report failed, change nothing */
};

const char *mg_tmr_action_name(enum mg_tmr_action a);

typedef struct mg_tmr_decision {
	enum mg_tmr_action action;
	enum mg_tmr_state report; /* the state to report before acting (when known) */
	const char *message;      /* static; NULL when none */
} mg_tmr_decision;

/* desired must be NONE, ESTABLISHED, REESTABLISHED or PROMOTED (validated before);
 * has_remote: spec remoteVolumeHandle is non-empty. */
mg_tmr_decision mg_tmr_decide(enum mg_tmr_state desired, bool has_remote,
			      enum mg_mirror_status observed);

/* ---- one ONTAP step at a time, each decided on a fresh read ---- */

enum mg_step {
	MG_STEP_DONE = 0,       /* nothing left to do for this operation */
	MG_STEP_WAIT,           /* ONTAP is busy (transfer, job): requeue with backoff */
	MG_STEP_WAIT_SNAPSHOT,  /* promote: the promoted snapshot has not arrived (H1) */
	MG_STEP_CREATE,         /* POST relationship */
	MG_STEP_INITIALIZE,     /* POST transfers on an uninitialized relationship */
	MG_STEP_RESYNC,         /* PATCH snapmirrored on broken_off: may discard local writes */
	MG_STEP_RESUME,         /* PATCH snapmirrored on paused: loses nothing */
	MG_STEP_QUIESCE,        /* PATCH paused */
	MG_STEP_ABORT,          /* PATCH transfer aborted */
	MG_STEP_BREAK,          /* PATCH broken_off (restore_to_snapshot when asked) */
	MG_STEP_DELETE_DEST,    /* DELETE destination_only: keeps common snapshots */
	MG_STEP_FAIL,           /* unhealthy after a transfer: report, do not delete */
};

const char *mg_step_name(enum mg_step s);

/* True when a transfer is queued or running (the relationship is busy). */
bool mg_relationship_transfer_active(const mg_ontap_relationship *rel);

/* Establish (4.3): rel NULL when there is none. A baseline that ended unhealthy is FAIL. */
enum mg_step mg_establish_next(const mg_ontap_relationship *rel);
/* Reestablish (4.4): create if missing, resync broken_off, resume paused, initialize an
 * uninitialized one; done when snapmirrored/in_sync and healthy, FAIL when unhealthy and
 * idle (the relationship is kept: deleting it is not what the user asked for). */
enum mg_step mg_reestablish_next(const mg_ontap_relationship *rel);

typedef struct mg_promote_input {
	const mg_ontap_relationship *rel; /* NULL: no relationship on the destination */
	bool wait_for_snapshot;           /* promotedSnapshotHandle set and policy not sync */
	bool snapshot_present;            /* that snapshot exists on the local volume */
	bool quiesce_requested;           /* this pass already asked for paused: a transfer
					   * still running is now aborted, not waited for */
} mg_promote_input;

/* Promote (4.5): the snapshot wait comes first (a break would otherwise lose it), then
 * quiesce -> abort -> break -> delete destination_only, one step per call. */
enum mg_step mg_promote_next(const mg_promote_input *in);

/* Whether a failed step may be repeated with ?force=true: only a break, and only when ONTAP
 * refused it because the source's cluster cannot be contacted (262224, research ontap.md
 * 4.2). Any other refusal (busy, invalid transition, a missing restore snapshot, ...) is
 * never forced. A forced break leaves the source volume read-write and uninformed: the
 * caller must say so (split-brain once the source returns). */
bool mg_step_may_force(enum mg_step step, const mg_ontap_error *err);

/* The source-side view (list_destinations_only) of a relationship whose source is the local
 * volume: true when its destination has been broken off (promoted), so that the destination
 * is read-write as well as the local volume. */
bool mg_destination_promoted(const mg_ontap_relationship *source_view);

/* Whether a promote should wait for promotedSnapshotHandle: only when it is set and the
 * TMR's own policy (not the backend's, H4) is not synchronous. policy_type is ONTAP's
 * policy.type of the TMR's replicationPolicy ("" or NULL when unknown/none). */
bool mg_promote_waits_for_snapshot(const char *snapshot_handle, const char *policy_type);

/* H7: desired promoted, no relationship, and the local volume is a DP volume (an
 * annotation-only PVC, or a destination whose baseline never finished): Trident reports
 * promoted although the volume is read-only for good. Returns NULL when `promoted` may be
 * reported, else the static message for a `failed` status (nothing is changed on ONTAP).
 * volume_type is ONTAP's volume type ("rw", "dp", ...). */
const char *mg_tmr_promoted_refusal(enum mg_tmr_state desired, enum mg_mirror_status observed,
				    const char *volume_type);

/* ---- deletion (3.6) ---- */

enum mg_delete_action {
	MG_DEL_REMOVE_FINALIZER = 0, /* nothing (left) to do on ONTAP */
	MG_DEL_RELEASE,              /* source or promoted: release source-side metadata, then
				      * remove the finalizer */
	MG_DEL_PROMOTE,              /* destination: promote first (no snapshot wait) */
	MG_DEL_RETRY_READ,           /* observation unknown: keep the finalizer, retry */
};

const char *mg_delete_action_name(enum mg_delete_action a);

/* volume_resolved: the PVC, PV and internal name were found (otherwise there is nothing on
 * ONTAP this TMR can own: Trident removes the finalizer). status_state is the TMR's last
 * reported state; observed is the destination-side read. */
enum mg_delete_action mg_tmr_delete_decide(bool volume_resolved, enum mg_tmr_state status_state,
					   enum mg_mirror_status observed);

/* ---- helpers ---- */

/* Parses RFC 3339 / ISO 8601 date-times as Kubernetes and ONTAP write them
 * ("2026-11-25T10:00:00Z", "2024-05-01T10:05:00+00:00", "...T10:05:00.123-07:00") into
 * seconds since the epoch (fractions dropped). MG_EPARSE when malformed. */
int mg_time_parse(int64_t *out, const char *s);
/* The same in milliseconds, keeping the fraction (ONTAP's transfer end times have one). */
int mg_time_parse_ms(int64_t *out, const char *s);
/* Formats seconds since the epoch as "YYYY-MM-DDTHH:MM:SSZ" into buf (>= 21 bytes). */
void mg_time_format(char *buf, size_t len, int64_t t);
/* ISO-8601 duration "P1DT2H3M4S" / "PT8H35M42S" into seconds; MG_EPARSE when malformed. */
int mg_duration_parse(int64_t *out, const char *s);

#endif
