/* The replication-history annotation (mirrorgate.io/replication-history) on a PVC: the record
 * of every SnapMirror relationship the volume has been in, written by mirrorgate-reconciler
 * when a relationship is established, and read by the webhook's re-establish rules.
 *
 * Value: a JSON list, newest last, e.g.
 *   [{"remoteVolumeHandle":"svm_a:trident_pvc_1","role":"destination",
 *     "tmr":"app-data-mirror","since":"2026-11-25T10:00:00Z"}]
 * role is "destination" (this volume received from the remote) or "source" (it sent to it).
 * Only remoteVolumeHandle is required; the other members are informational. */
#ifndef MIRRORGATE_HISTORY_H
#define MIRRORGATE_HISTORY_H

#include <stdbool.h>
#include <stddef.h>

typedef struct mg_history_entry {
	const char *remote_volume_handle;
	const char *role;
	const char *tmr;
	const char *since;
} mg_history_entry;

/* Validates an annotation value; on MG_EPARSE, problem (if given) says what is wrong. */
int mg_history_check(const char *value, char *problem, size_t problem_len);
/* Whether a valid annotation value lists `remote`. A malformed value is MG_EPARSE. */
int mg_history_contains(const char *value, const char *remote, bool *out);
/* Returns a new annotation value: `value` (NULL or valid) plus `entry`, unless an entry for
 * the same remote and role is already there (then an unchanged copy). Caller frees. */
int mg_history_append(const char *value, const mg_history_entry *entry, char **out);

#endif
