/* PVC name -> PV -> the ONTAP volume and the backend that holds it (research 2.4). */
#ifndef MG_RECONCILER_VOLUME_REF_H
#define MG_RECONCILER_VOLUME_REF_H

#include <stdbool.h>
#include <stddef.h>

#include "mirror_ops.h"
#include "mirrorgate/reconcile/resolve.h"

/* *state: MG_RESOLVED (t filled), MG_RESOLVE_DEFER (why: Trident's message; PVC/PV not
 * there yet) or MG_RESOLVE_ERROR (why: the volume is on none of our backends; handle gets
 * the PV's volume handle). Returns non-zero only for API/ONTAP failures worth a retry. */
int mg_volume_ref_resolve(const mg_rctx *c, const char *ns, const char *pvc_name,
			  mg_mirror_target *t, enum mg_resolve *state, char *why, size_t why_len,
			  char *handle, size_t handle_len);
/* The same, also telling whether the PVC has a deletionTimestamp (Terminating): a TMR must
 * not mirror onto a claim that is going away. */
int mg_volume_ref_resolve_ex(const mg_rctx *c, const char *ns, const char *pvc_name,
			     mg_mirror_target *t, enum mg_resolve *state, char *why,
			     size_t why_len, char *handle, size_t handle_len, bool *pvc_deleting);

#endif
