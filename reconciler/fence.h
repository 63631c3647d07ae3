/* Fencing of ONTAP writes by the leader lease. A write may leave only while this replica
 * holds the lease with enough time left before its renew deadline to cover the request's
 * whole timeout; the timeout itself is capped below the renew deadline, so that a write
 * that leaves right after a renewal can always finish (or be aborted by libcurl) before
 * another replica could take the lease over. A write paused in flight (SIGSTOP, a stalled
 * VM) is aborted by its timeout when the process resumes, instead of landing after the new
 * leader's steps. */
#ifndef MG_RECONCILER_FENCE_H
#define MG_RECONCILER_FENCE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "leader.h"

typedef struct mg_fence {
	_Atomic(mg_leader *) leader; /* NULL: no election (one replica), writes always leave */
} mg_fence;

void mg_fence_set_leader(mg_fence *f, mg_leader *l);
/* mg_ontap_config.may_write: ctx is the mg_fence. */
bool mg_fence_may_write(void *ctx, long needed_ms);
/* The ONTAP request timeout to use: `configured`, capped at renew deadline - retry period
 * - a tenth of the renew deadline (the least time left right after an on-time renewal, less
 * a margin): 7 s with the defaults; never below 1 s. */
long mg_fence_write_timeout_ms(long configured, uint64_t renew_deadline_ms,
			       uint64_t retry_period_ms);

#endif
