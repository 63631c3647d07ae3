/* The TMR status condition and Events, with Trident's exact field names, state strings and
 * event reasons (research trident.md 1.1 and 3.8), and the rule for when to write: whenever
 * anything in the condition except lastTransitionTime changes, messages included (H8;
 * Trident writes only on a state change). Pure: the controller does the I/O. */
#ifndef MIRRORGATE_RECONCILE_STATUS_H
#define MIRRORGATE_RECONCILE_STATUS_H

#include <stdbool.h>

#include <cjson/cJSON.h>

/* Event reasons (Trident's): a TMR also gets reason = its state for "Desired state reached"
 * and for "Could not update TridentMirrorRelationship". */
#define MG_EVENT_REASON_INVALID "invalid"
#define MG_EVENT_REASON_FAILED "failed"
#define MG_EVENT_DESIRED_REACHED "Desired state reached"
#define MG_EVENT_COULD_NOT_UPDATE "Could not update TridentMirrorRelationship"

/* Trident's condition messages. */
#define MG_MSG_COULD_NOT_ESTABLISH "Could not establish mirror"
#define MG_MSG_COULD_NOT_REESTABLISH "Could not reestablish mirror"
#define MG_MSG_COULD_NOT_PROMOTE "Could not promote mirror"
#define MG_MSG_WAITING_FOR_SNAPSHOT "Waiting for snapshot " /* + the handle */
#define MG_MSG_RELEASING "Releasing snapmirror metadata"
#define MG_MSG_PVC_MISSING "Local PVC for TridentMirrorRelationship does not yet exist."
#define MG_MSG_PV_MISSING "PV for local PVC for TridentMirrorRelationship does not yet exist."
/* ours, not Trident's: Trident mirrors onto a Terminating claim again */
#define MG_MSG_LOCAL_PVC_DELETING \
	"Local PVC for TridentMirrorRelationship is being deleted; its relationship was " \
	"released and is not mirrored again"
/* ours, not Trident's: Trident keeps the last status of a TMR whose claim is gone */
#define MG_MSG_LOCAL_PVC_GONE \
	"Local PVC for TridentMirrorRelationship no longer exists; its relationship was " \
	"released and nothing is mirrored until a claim of that name exists again"
/* ours: disaster recovery (docs/disaster-recovery.md). The prefixes are stable; what follows
 * names the volumes and the way out. */
#define MG_EVENT_REASON_SOURCE_UNREACHABLE "SourceUnreachable"
#define MG_EVENT_REASON_SPLIT_BRAIN "SplitBrain"
#define MG_MSG_FORCED_PROMOTE "Promoted with a forced break"
#define MG_MSG_SPLIT_BRAIN "Split-brain"
#define MG_MSG_PV_NO_INTERNAL_NAME \
	"PV for local PVC for TridentMirrorRelationship does not yet have an internal volume " \
	"name set."

typedef struct mg_tmr_condition_values {
	const char *state;   /* Trident's string; "" allowed */
	const char *message; /* NULL or "" for none */
	const char *local_pvc_name;
	const char *remote_volume_handle;
	const char *local_volume_handle;
	const char *replication_policy;
	const char *replication_schedule;
	long long observed_generation;
	const char *last_transition_time; /* RFC 3339 */
} mg_tmr_condition_values;

/* {"conditions":[{state, message, lastTransitionTime, observedGeneration, localPVCName,
 * remoteVolumeHandle, localVolumeHandle, replicationPolicy, replicationSchedule}]}; the
 * string fields are always present (Trident writes them without omitempty). */
int mg_tmr_status_build(cJSON **out, const mg_tmr_condition_values *v);

/* Whether the stored object's status.conditions[0] differs from v in anything but
 * lastTransitionTime. A missing or malformed status counts as changed. */
bool mg_tmr_status_changed(const cJSON *tmr_obj, const mg_tmr_condition_values *v);

/* The Event for a status write: type "Normal"/"Warning", reason and message (static or
 * pointing into v). Returns false when the write warrants no event. desired is spec.state. */
typedef struct mg_tmr_event {
	const char *type;
	const char *reason;
	const char *message;
} mg_tmr_event;

bool mg_tmr_event_for(const char *desired, const mg_tmr_condition_values *v,
		      mg_tmr_event *out);

#endif
