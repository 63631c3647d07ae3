/* Companion mode: beside an active Trident, which executes every transition, a TMR pass
 * only observes and explains. It reads the TMR (Trident's status), the local volume and its
 * SnapMirror relationship (ONTAP GETs only), and then:
 * - exports the per-relationship gauges (state as Trident reports it, health, lag);
 * - records the relationship in the PVC's replication-history annotation, as destination
 *   (an established relationship into the local volume) or as source (relationships out of
 *   the local volume of a promoted TMR), for the webhook's re-establish rules;
 * - emits Events of its own (component mirrorgate-reconciler) where Trident says nothing or
 *   says something misleading: lag beyond the schedule, a TMR Trident marked failed only
 *   because the promoted snapshot has not arrived (Trident's H1), and an unplanned failover
 *   that needs a forced break because the source cluster is unreachable, with the command.
 * It never writes ONTAP, nor a TMR/TAMU/TSI status or finalizer. */
#ifndef MG_RECONCILER_COMPANION_H
#define MG_RECONCILER_COMPANION_H

#include <stdint.h>

#include "rctx.h"

/* Which explanation each TMR got last, so that one condition gives one Event, not one per
 * pass. Thread-safe. */
typedef struct mg_event_memo mg_event_memo;
int mg_event_memo_new(mg_event_memo **out);
void mg_event_memo_free(mg_event_memo *m);
/* true (and remembered) when `reason` is not what `key` got last; reason NULL forgets. */
bool mg_event_memo_changed(mg_event_memo *m, const char *key, const char *reason);

/* Event reasons of companion mode. */
#define MG_EVENT_LAG_BEYOND_SCHEDULE "LagBeyondSchedule"
#define MG_EVENT_PROMOTED_SNAPSHOT_PENDING "PromotedSnapshotNotArrived"
#define MG_EVENT_FORCED_BREAK_NEEDED "ForcedBreakNeeded"
#define MG_EVENT_TAMU_NOT_RUN "TridentDoesNotRunTAMUs"

/* The interval of an ONTAP schedule name ("5min", "hourly", "8hour", "daily", "weekly");
 * 0 when the name does not say (a custom cron schedule). */
int64_t mg_schedule_interval_s(const char *schedule);

/* A TAMU in companion mode: nothing is written to it. When the detected Trident does not run
 * TAMUs (before 23.10, or 23.10-24.06 without ACP) and the TAMU has no status yet, one
 * Warning Event says so and what to do, instead of a TAMU that waits for ever in silence. */
int mg_companion_tamu_reconcile(const mg_rctx *c, mg_event_memo *memo, bool trident_runs_tamus,
				const char *trident_version, const char *ns, const char *name,
				mg_rec_result *res);

int mg_companion_tmr_reconcile(const mg_rctx *c, mg_event_memo *memo, const char *ns,
			       const char *name, mg_rec_result *res);

#endif
