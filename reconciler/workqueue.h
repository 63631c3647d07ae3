/* The reconciler's work queue, with client-go's workqueue semantics:
 *  - a key is queued at most once (adding a queued key is a no-op: deduplication);
 *  - a key being processed is never handed to a second worker: adding it marks it dirty and
 *    it is queued again when the worker calls done (per-key serialisation);
 *  - add_after delays a key (the earliest pending time wins);
 *  - add_rate_limited delays it by a capped exponential backoff with jitter that grows with
 *    each failure of that key until forget() (so errors and waiting on ONTAP never spin).
 * Thread-safe. Keys are strings ("kind/namespace/name"), copied. */
#ifndef MG_RECONCILER_WORKQUEUE_H
#define MG_RECONCILER_WORKQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"

typedef struct mg_workqueue mg_workqueue;

typedef struct mg_workqueue_opts {
	uint64_t backoff_base_ms; /* first retry delay; default 500 */
	uint64_t backoff_cap_ms;  /* ceiling; default 300000 (5 min) */
	double (*rand01)(void *ctx); /* uniform [0,1) for jitter; default rand_r-based */
	void *rand_ctx;
	mg_clock clock;           /* default monotonic */
	/* Longest a blocked get() sleeps before looking at the clock again; with a virtual
	 * clock this is how often it notices time moved. Default 1000. */
	uint64_t poll_ms;
} mg_workqueue_opts;

int mg_workqueue_new(mg_workqueue **out, const mg_workqueue_opts *opts);
/* Shuts down and frees; no worker may be inside get() any more. */
void mg_workqueue_free(mg_workqueue *q);

/* Queue now (deduplicated). MG_EINVAL after shutdown is ignored silently (returns 0). */
int mg_workqueue_add(mg_workqueue *q, const char *key);
/* Queue after delay_ms; an earlier pending time for the same key wins. */
int mg_workqueue_add_after(mg_workqueue *q, const char *key, uint64_t delay_ms);
/* Queue after the key's next backoff delay; *delay_out (may be NULL) receives it. */
int mg_workqueue_add_rate_limited(mg_workqueue *q, const char *key, uint64_t *delay_out);
/* Resets the key's failure count (after a success). */
void mg_workqueue_forget(mg_workqueue *q, const char *key);
/* How many times the key has been rate-limited since the last forget. */
unsigned mg_workqueue_failures(mg_workqueue *q, const char *key);

/* The backoff for the n-th failure (0-based): base * 2^n capped, then a point in [d/2, d]
 * chosen by rnd in [0,1). Exposed for tests and documentation. */
uint64_t mg_workqueue_backoff_ms(unsigned n, uint64_t base_ms, uint64_t cap_ms, double rnd);

/* Takes the next ready key, blocking up to timeout_ms (0: do not block). Returns 0 and a
 * key the caller frees with done(); MG_ETIMEOUT when none became ready; MG_EGONE after
 * shutdown. */
int mg_workqueue_get(mg_workqueue *q, char **key, uint64_t timeout_ms);
/* The worker is finished with key (frees it); a key added meanwhile is queued again. */
void mg_workqueue_done(mg_workqueue *q, char *key);

/* Ready keys (the queue depth metric) and delayed keys. */
size_t mg_workqueue_len(mg_workqueue *q);
size_t mg_workqueue_delayed(mg_workqueue *q);
/* Wakes every blocked get() and makes further gets return MG_EGONE. */
void mg_workqueue_shutdown(mg_workqueue *q);

#endif
