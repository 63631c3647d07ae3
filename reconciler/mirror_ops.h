/* The ONTAP side of a TMR: finding the backend that holds a volume, reading its
 * relationship, and performing one step (reconcile.h decides which). Errors are classified
 * so that the controller can tell "wait and retry" from "report failed". */
#ifndef MG_RECONCILER_MIRROR_OPS_H
#define MG_RECONCILER_MIRROR_OPS_H

#include <stdbool.h>

#include "mirrorgate/ontap/snapmirror.h"
#include "mirrorgate/reconcile/reconcile.h"
#include "rctx.h"

/* Where a TMR's local volume lives. */
typedef struct mg_mirror_target {
	mg_backend *backend;
	char volume[MG_ONTAP_NAME_MAX];          /* internal name */
	char local_path[2 * MG_ONTAP_NAME_MAX];  /* "svm:volume" */
	char remote_path[2 * MG_ONTAP_NAME_MAX]; /* spec remoteVolumeHandle, "" if none */
} mg_mirror_target;

/* The backend whose SVM holds `volume` (probing each); MG_ENOTFOUND when none does. err
 * describes the last failure. */
int mg_mirror_find_backend(const mg_rctx *c, const char *volume, mg_mirror_target *out,
			   mg_ontap_error *err);

/* The relationship with this destination (and source, when remote is set): *found false
 * when there is none. A failed read returns its error (the status is UNKNOWN). */
int mg_mirror_read(const mg_mirror_target *t, mg_ontap_relationship *rel, bool *found,
		   mg_ontap_error *err);

/* Whether `snapshot` exists on the local volume now. */
int mg_mirror_snapshot_present(const mg_mirror_target *t, const char *snapshot, bool *present,
			       mg_ontap_error *err);

/* ONTAP's policy.type of a policy name ("" when name is empty or unknown to ONTAP). */
int mg_mirror_policy_type(const mg_mirror_target *t, const char *policy, char *type,
			  size_t len, mg_ontap_error *err);

typedef struct mg_step_args {
	const char *policy;              /* create */
	const char *schedule;            /* create */
	const char *restore_to_snapshot; /* break */
	bool force;                      /* break although the source cluster is unreachable
					  * (?force=true): only after ONTAP said so (262224) */
} mg_step_args;

/* Performs one step on the relationship rel (NULL for CREATE). 0 on success. */
int mg_mirror_step(const mg_mirror_target *t, enum mg_step step, const mg_ontap_relationship *rel,
		   const mg_step_args *args, mg_ontap_error *err);

/* Steps that lose data or a relationship when taken on a stale view: break, delete,
 * resync (discards local writes) and abort. */
bool mg_step_destructive(enum mg_step step);
/* Re-reads the relationship just before a destructive step: MG_ECONFLICT (source client)
 * when it is gone or its state or transfer changed since `rel` was read (another replica, or
 * ONTAP, moved it: decide again); a failed read returns its error. */
int mg_mirror_recheck(const mg_mirror_target *t, const mg_ontap_relationship *rel,
		      mg_ontap_error *err);

/* Errors worth a quiet retry: ONTAP busy or temporarily refusing, no answer, an outcome
 * that has to be re-read (purged or timed-out jobs, H11), 5xx. */
bool mg_mirror_err_transient(const mg_ontap_error *err);

/* Release on the source side: every relationship whose source is the local volume loses its
 * source-side metadata (DELETE source_only); none is not an error. */
int mg_mirror_release(const mg_mirror_target *t, mg_ontap_error *err);

/* After this volume was reestablished as the destination of `remote` (the reverse of an
 * earlier remote <- local relationship), the old relationship's source-side record on this
 * volume is stale: its destination was broken off and deleted when `remote` was promoted,
 * and a relationship local -> remote cannot be live while remote -> local is mirrored. It is
 * removed with source_info_only, which keeps the common snapshots (research ontap.md 3.7.5),
 * so that the source side never reports a split-brain from it later. *released counts the
 * records removed. */
int mg_mirror_release_stale_reverse(const mg_mirror_target *t, const char *remote,
				    int *released, mg_ontap_error *err);

#endif
