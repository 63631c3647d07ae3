/* The TridentActionMirrorUpdate state machine (research trident.md 3.9, 4.7): Trident's state
 * strings ("In progress" with a lowercase p, "Succeeded", "Failed"), its checks and messages,
 * and when a transfer counts as done: only when a transfer that ended after
 * previousTransferTime is there (a stale success from before the update is not). Pure. */
#ifndef MIRRORGATE_RECONCILE_TAMU_H
#define MIRRORGATE_RECONCILE_TAMU_H

#include <stdbool.h>
#include <stddef.h>

#include "mirrorgate/core/model.h"
#include "mirrorgate/ontap/snapmirror.h"

#define MG_TAMU_IN_PROGRESS "In progress"
#define MG_TAMU_SUCCEEDED "Succeeded"
#define MG_TAMU_FAILED "Failed"
/* The reconciler's finalizer on a TAMU while its transfer runs (Trident's name). */
#define MG_TAMU_FINALIZER MG_TRIDENT_FINALIZER

enum mg_tamu_action {
	MG_TAMU_IGNORE = 0, /* complete (or not ours to touch): leave it alone */
	MG_TAMU_FAIL,       /* write Failed with the message */
	MG_TAMU_START,      /* record previousTransferTime, In progress, start the transfer */
	MG_TAMU_POLL,       /* a transfer we started: check it */
	MG_TAMU_WAIT,       /* still transferring: requeue with backoff */
	MG_TAMU_SUCCEED,    /* write Succeeded */
	MG_TAMU_SEND,       /* no transfer running and ours not yet accepted: send the update */
};

const char *mg_tamu_action_name(enum mg_tamu_action a);

typedef struct mg_tamu_view {
	const mg_tamu *tamu;
	bool has_finalizer;            /* ours: set together with In progress */
	bool completed;                /* status.completionTime set */
	const mg_tmr *tmr;             /* NULL when the TMR does not exist */
	bool tmr_policy_sync;          /* the TMR's policy is synchronous (ONTAP policy.type) */
} mg_tamu_view;

/* Before any ONTAP call: IGNORE, FAIL (msg written), START or POLL. An "In progress" TAMU
 * carrying our finalizer is resumed (POLL) after a restart or a leader change; one without
 * it was not started by us and is Failed as Trident does at startup. */
enum mg_tamu_action mg_tamu_check(const mg_tamu_view *v, char *msg, size_t msg_len);

/* After START's transfer or on POLL: the relationship as read now, and the status's
 * previousTransferTime (NULL when the relationship had no transfer before). SUCCEED (end_time
 * copied to end_time_out), WAIT, or FAIL with msg. */
enum mg_tamu_action mg_tamu_transfer_result(const mg_ontap_relationship *rel,
					    const char *previous_transfer_time, char *msg,
					    size_t msg_len, char *end_time_out, size_t end_len);

/* Where an In-progress TAMU stands, each field read fresh on this pass. */
typedef struct mg_tamu_progress {
	const mg_ontap_relationship *rel; /* NULL: the relationship is gone */
	const char *previous_transfer_time; /* status.previousTransferTime ("" / NULL: none) */
	bool requested;       /* ONTAP accepted our update (POST transfers answered 201) */
	const char *prior_transfer_uuid; /* the relationship's transfer.uuid just before our
					  * accepted request ("" / NULL: none) */
	const char *snapshot; /* the snapshot the TAMU names, NULL when none */
	bool snapshot_present; /* that snapshot is on the destination volume now */
} mg_tamu_progress;

/* The next step of an In-progress TAMU. A transfer that was already running when the TAMU
 * came counts for nothing: success needs a transfer that started after our accepted request
 * to have ended, known by its identity (a transfer.uuid other than prior_transfer_uuid), not
 * by its whole-second end time, which may equal previousTransferTime (or, when the TAMU names a snapshot, that snapshot on the destination and a
 * transfer ended after previousTransferTime). SEND when nothing runs and ours was not
 * accepted yet; WAIT while any transfer runs; SUCCEED (end time in end_time_out) or FAIL
 * (msg). */
enum mg_tamu_action mg_tamu_progress_next(const mg_tamu_progress *p, char *msg, size_t msg_len,
					  char *end_time_out, size_t end_len);

/* The snapshot name to transfer: NULL handle -> *out NULL; "<vol>/<snap>" -> pointer to
 * <snap> inside handle; otherwise false (Trident: "invalid snapshot handle <h>"). */
bool mg_tamu_snapshot_name(const char *handle, const char **out);

#endif
