/* The TridentActionMirrorUpdate controller (research 3.9): checks, then records
 * previousTransferTime and "In progress" with a finalizer, starts a transfer on the
 * destination relationship (optionally of spec.snapshotHandle's snapshot), and completes
 * with Succeeded only when a transfer that ended after previousTransferTime is there.
 * TAMU has no status subresource: status and finalizer go in one plain update. */
#ifndef MG_RECONCILER_TAMU_CONTROLLER_H
#define MG_RECONCILER_TAMU_CONTROLLER_H

#include "rctx.h"

int mg_tamu_reconcile(const mg_rctx *c, const char *ns, const char *name, mg_rec_result *res);

#endif
