/* Which TridentSnapshotInfos a VolumeSnapshot or VolumeSnapshotContent event concerns
 * (research trident.md 3.10): a TSI names a VolumeSnapshot in its own namespace
 * (spec.snapshotName); a content points back at its snapshot through
 * spec.volumeSnapshotRef. Lets the reconciler re-read a deferred TSI when the snapshot is
 * bound instead of at its next backoff retry. Pure; partial objects are "no match" (H6). */
#ifndef MIRRORGATE_RECONCILE_SNAPREF_H
#define MIRRORGATE_RECONCILE_SNAPREF_H

#include <stdbool.h>

#include <cjson/cJSON.h>

/* The VolumeSnapshot a content belongs to: spec.volumeSnapshotRef's namespace and name
 * (borrowed from vsc). False when either is missing. */
bool mg_vsc_snapshot_ref(const char **ns, const char **name, const cJSON *vsc);

/* True when the TSI is in namespace ns and its spec.snapshotName is vs_name. */
bool mg_tsi_refers_to(const cJSON *tsi, const char *ns, const char *vs_name);

#endif
