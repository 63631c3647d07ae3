/* PVCs in a relationship: once a TMR has established its relationship, the PVC gets the
 * replication-history annotation (history.h; the webhook's reestablish rules read it) and a
 * finalizer. When such a PVC is deleted, the relationship is released on ONTAP (source-side
 * metadata released; a destination's relationship deleted destination_only, which keeps
 * common snapshots and breaks nothing) before the finalizer goes. */
#ifndef MG_RECONCILER_PVC_PROTECT_H
#define MG_RECONCILER_PVC_PROTECT_H

#include "rctx.h"

#define MG_PVC_FINALIZER "mirrorgate.io/replication"

/* Adds the finalizer and the history entry (remote, role, tmr) to the PVC if missing. */
int mg_pvc_protect(const mg_rctx *c, const char *ns, const char *pvc, const char *remote,
		   const char *role, const char *tmr);

/* The PVC controller's pass. */
int mg_pvc_reconcile(const mg_rctx *c, const char *ns, const char *name, mg_rec_result *res);

#endif
