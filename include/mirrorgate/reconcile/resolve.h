/* Following references through Kubernetes objects, as Trident does (research trident.md 2.4
 * and 3.10): a TMR's PVC -> PV -> ONTAP volume, and a TridentSnapshotInfo's VolumeSnapshot ->
 * VolumeSnapshotContent -> snapshot handle. Pure functions over the objects the controller
 * fetched (NULL when absent); partial objects give a reason, never a crash (H6). */
#ifndef MIRRORGATE_RECONCILE_RESOLVE_H
#define MIRRORGATE_RECONCILE_RESOLVE_H

#include <stddef.h>

#include <cjson/cJSON.h>

enum mg_resolve {
	MG_RESOLVED = 0, /* found: the outputs are filled */
	MG_RESOLVE_DEFER, /* not there yet: retry later with backoff, no status write */
	MG_RESOLVE_ERROR, /* never going to work as it is: report it */
};

/* The PV name the PVC is bound to (spec.volumeName), or NULL. */
const char *mg_pvc_bound_pv(const cJSON *pvc);

/* PVC + PV -> internal volume name (PV spec.csi.volumeAttributes.internalName) and the
 * Trident volume handle (spec.csi.volumeHandle). pvc/pv NULL when not found. The outputs
 * point into pv. why receives Trident's message on DEFER. */
enum mg_resolve mg_tmr_resolve_volume(const cJSON *pvc, const cJSON *pv, const char **internal,
				      const char **volume_handle, const char **why);

/* The VolumeSnapshotContent a VolumeSnapshot is bound to, or NULL. */
const char *mg_vs_bound_content(const cJSON *vs);

/* VolumeSnapshot + VolumeSnapshotContent -> "<volume>/<snapshot>" handle (Trident's format,
 * from VSC status.snapshotHandle) copied into handle. On DEFER or ERROR `why` gets the
 * message. ns/snapshot_name name the VolumeSnapshot for messages. */
enum mg_resolve mg_tsi_resolve(const cJSON *vs, const cJSON *vsc, const char *ns,
			       const char *snapshot_name, char *handle, size_t handle_len,
			       char *why, size_t why_len);

#endif
