/* ONTAP SnapMirror relationships and transfers.
 *
 * Run relationship reads, creates, state changes and destination_only deletes on the
 * DESTINATION cluster; release (source_only / source_info_only) on the SOURCE cluster, where
 * the relationship is visible with list_destinations_only. Lookups always use server-side
 * filters on source.path/destination.path and page through _links.next (never "list
 * everything and filter locally").
 *
 * A successful state change only means ONTAP accepted it: the outcome (a baseline, a
 * resync, a break) shows up later in state, transfer.state, healthy and unhealthy_reason,
 * which the caller re-reads with mg_ontap_relationship_get. */
#ifndef MIRRORGATE_ONTAP_SNAPMIRROR_H
#define MIRRORGATE_ONTAP_SNAPMIRROR_H

#include <stdbool.h>
#include <stddef.h>

#include "mirrorgate/ontap/client.h"

typedef struct mg_ontap_relationship {
	char uuid[MG_ONTAP_UUID_MAX];
	char source_path[MG_ONTAP_NAME_MAX];      /* "svm:volume" */
	char source_svm[MG_ONTAP_NAME_MAX];
	char source_cluster[MG_ONTAP_NAME_MAX];   /* "" when local */
	char destination_path[MG_ONTAP_NAME_MAX];
	char destination_svm[MG_ONTAP_NAME_MAX];
	char policy_name[MG_ONTAP_NAME_MAX];
	char policy_type[16];                     /* async, sync, continuous */
	char state[32];       /* uninitialized, snapmirrored, paused, broken_off, in_sync, ... */
	bool healthy;
	char unhealthy_code[24];                  /* first unhealthy_reason, "" when healthy */
	char unhealthy_reason[MG_ONTAP_ERR_MESSAGE_MAX];
	char exported_snapshot[MG_ONTAP_NAME_MAX];
	char lag_time[64];                        /* ISO-8601 duration */
	char transfer_uuid[MG_ONTAP_UUID_MAX];    /* current or last transfer; "" if none */
	char transfer_state[32];  /* queued, transferring, success, failed, aborted, ... */
	long long transfer_bytes;
	/* Not available on ONTAP 9.8 (the client does not ask for them there): "" then. */
	char transfer_end_time[64];
	char last_transfer_type[32];              /* initialize, update, resync, restore */
	char transfer_schedule[MG_ONTAP_NAME_MAX];
} mg_ontap_relationship;

typedef struct mg_ontap_relationship_list {
	mg_ontap_relationship *items;
	size_t len;
} mg_ontap_relationship_list;

/* Server-side filters; NULL fields are not filtered on. ONTAP wildcards ("svm:*") pass
 * through. */
typedef struct mg_ontap_relationship_filter {
	const char *source_path;
	const char *destination_path;
	/* Source-cluster view (relationships whose source is here), for release. */
	bool list_destinations_only;
} mg_ontap_relationship_filter;

typedef struct mg_ontap_relationship_spec {
	const char *source_path;      /* "remote_svm_alias:volume" */
	const char *destination_path; /* "local_svm:volume" (must be a DP volume) */
	const char *policy;           /* NULL: ONTAP's default */
	const char *schedule;         /* NULL: none (ONTAP 9.11+ only) */
} mg_ontap_relationship_spec;

enum mg_ontap_delete_mode {
	MG_ONTAP_DELETE_BOTH = 0,        /* no flag: both sides; common snapshots deleted */
	MG_ONTAP_DELETE_DESTINATION_ONLY, /* destination side only, no release */
	MG_ONTAP_DELETE_SOURCE_ONLY,      /* release on the source: info + snapmirror snapshots */
	MG_ONTAP_DELETE_SOURCE_INFO_ONLY, /* source info only; keeps common snapshots */
};

/* Exactly one relationship matching the filter. MG_ENOTFOUND (err is "not found") when none,
 * MG_ECONFLICT when the filter matches several. */
int mg_ontap_relationship_get(mg_ontap_client *c, const mg_ontap_relationship_filter *filter,
			      mg_ontap_relationship *out, mg_ontap_error *err);
/* One relationship by uuid. */
int mg_ontap_relationship_get_uuid(mg_ontap_client *c, const char *uuid,
				   mg_ontap_relationship *out, mg_ontap_error *err);
/* Every relationship matching the filter (all pages). */
int mg_ontap_relationships(mg_ontap_client *c, const mg_ontap_relationship_filter *filter,
			       mg_ontap_relationship_list *out, mg_ontap_error *err);
/* Source-cluster view: relationships whose source is `source_path` (NULL: all). */
int mg_ontap_relationship_list_destinations(mg_ontap_client *c, const char *source_path,
					    mg_ontap_relationship_list *out, mg_ontap_error *err);
void mg_ontap_relationship_list_free(mg_ontap_relationship_list *list);

/* Creates (waits for the job). An existing relationship for the destination is
 * MG_EEXIST with mg_ontap_err_is_relationship_exists. `out_uuid` (may be NULL) receives the
 * new relationship's uuid, read back by destination path (a few tries, since ONTAP can be
 * slow to show it; still invisible after that: MG_EUNKNOWN). */
int mg_ontap_relationship_create(mg_ontap_client *c, const mg_ontap_relationship_spec *spec,
				 char out_uuid[MG_ONTAP_UUID_MAX], mg_ontap_error *err);

/* PATCH {"state": ...}: "snapmirrored" initializes/resumes/resyncs, "paused" quiesces,
 * "broken_off" breaks (restore_to_snapshot: revert the destination to that snapshot first;
 * force: break although the source cluster is unreachable). Waits for the job. */
typedef struct mg_ontap_state_change {
	const char *state;
	const char *restore_to_snapshot; /* broken_off only */
	bool preserve;                   /* snapmirrored (resync) only */
	bool force;                      /* broken_off only */
} mg_ontap_state_change;

int mg_ontap_relationship_set_state(mg_ontap_client *c, const char *uuid,
				    const mg_ontap_state_change *change, mg_ontap_error *err);
int mg_ontap_relationship_delete(mg_ontap_client *c, const char *uuid,
				 enum mg_ontap_delete_mode mode, mg_ontap_error *err);

/* POST .../transfers: initialize (uninitialized) or update. Synchronous in ONTAP: no job.
 * `source_snapshot` (may be NULL) transfers that existing source snapshot. `out_uuid` (may
 * be NULL) receives the transfer's uuid when ONTAP returns it. Busy is
 * mg_ontap_err_is_transfer_in_progress. */
int mg_ontap_transfer_start(mg_ontap_client *c, const char *relationship_uuid,
			    const char *source_snapshot, char out_uuid[MG_ONTAP_UUID_MAX],
			    mg_ontap_error *err);
/* PATCH the transfer to "aborted" (hard: "hard_aborted", discarding the checkpoint).
 * MG_ENOTFOUND when the transfer is gone (nothing to abort). */
int mg_ontap_transfer_abort(mg_ontap_client *c, const char *relationship_uuid,
			    const char *transfer_uuid, bool hard, mg_ontap_error *err);

#endif
