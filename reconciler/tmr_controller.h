/* The TridentMirrorRelationship controller: one pass for one TMR, reading it fresh from the
 * API server, resolving PVC -> PV -> ONTAP volume, and driving ONTAP one re-read step at a
 * time toward spec.state (reconcile.h decides; mirror_ops.h acts). The status condition is
 * written whenever anything in it changes (H8), with Trident's fields and Events. */
#ifndef MG_RECONCILER_TMR_CONTROLLER_H
#define MG_RECONCILER_TMR_CONTROLLER_H

#include "rctx.h"

int mg_tmr_reconcile(const mg_rctx *c, const char *ns, const char *name, mg_rec_result *res);

#endif
