/* The TridentSnapshotInfo controller (research 3.10): VolumeSnapshot -> bound
 * VolumeSnapshotContent -> status.snapshotHandle, which users copy into a destination TMR's
 * promotedSnapshotHandle or a TAMU's snapshotHandle. */
#ifndef MG_RECONCILER_TSI_CONTROLLER_H
#define MG_RECONCILER_TSI_CONTROLLER_H

#include "rctx.h"

int mg_tsi_reconcile(const mg_rctx *c, const char *ns, const char *name, mg_rec_result *res);

#endif
