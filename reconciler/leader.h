/* Leader election on a coordination.k8s.io/v1 Lease, with client-go's algorithm and default
 * timings (lease 15 s, renew deadline 10 s, retry 2 s):
 *  - a candidate takes the lease when it is free, released, or when the holder's record has
 *    not changed for a whole lease duration as observed on the candidate's own clock (so
 *    clock skew between nodes does not matter);
 *  - the leader renews every retry period; when it has not renewed for the renew deadline it
 *    stops leading. The renew deadline is shorter than the lease duration, so a leader that
 *    is cut off has stopped acting before anyone else can take the lease over.
 * Workers ask mg_leader_is_leader() before every change to ONTAP or Kubernetes.
 * The lease store is an interface (the reconciler's is the Kubernetes API; tests use an
 * in-memory one with a virtual clock). */
#ifndef MG_RECONCILER_LEADER_H
#define MG_RECONCILER_LEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"

#define MG_LEASE_HOLDER_MAX 256
#define MG_LEASE_TIME_MAX 48

typedef struct mg_lease_record {
	char holder[MG_LEASE_HOLDER_MAX]; /* "" when released */
	long lease_duration_s;
	char acquire_time[MG_LEASE_TIME_MAX]; /* MicroTime, RFC 3339 with microseconds */
	char renew_time[MG_LEASE_TIME_MAX];
	long transitions;
} mg_lease_record;

typedef struct mg_lease_store {
	/* MG_ENOTFOUND when there is no lease; rv receives its resourceVersion. */
	int (*get)(void *ctx, mg_lease_record *out, char *rv, size_t rv_len);
	/* MG_EEXIST when somebody created it first. */
	int (*create)(void *ctx, const mg_lease_record *rec);
	/* MG_ECONFLICT when rv is stale (somebody else wrote). */
	int (*update)(void *ctx, const mg_lease_record *rec, const char *rv);
	void *ctx;
} mg_lease_store;

typedef struct mg_leader_callbacks {
	void (*started_leading)(void *ctx);
	void (*stopped_leading)(void *ctx);
	void *ctx;
} mg_leader_callbacks;

typedef struct mg_leader_opts {
	const char *identity;       /* unique per replica (pod name + random suffix) */
	uint64_t lease_duration_ms; /* default 15000 */
	uint64_t renew_deadline_ms; /* default 10000; must be < lease_duration_ms */
	uint64_t retry_period_ms;   /* default 2000; must be < renew_deadline_ms */
	mg_clock clock;             /* monotonic decisions; default CLOCK_MONOTONIC */
	/* Wall time in ms for the timestamps written into the lease; default CLOCK_REALTIME. */
	int64_t (*wall_ms)(void *ctx);
	void *wall_ctx;
	mg_leader_callbacks callbacks;
} mg_leader_opts;

typedef struct mg_leader mg_leader;

/* MG_EINVAL for an empty identity or timings out of order. */
int mg_leader_new(mg_leader **out, const mg_lease_store *store, const mg_leader_opts *opts);
/* Stops the loop (releasing the lease if held) and frees. */
void mg_leader_free(mg_leader *l);

/* One round of client-go's tryAcquireOrRenew plus the renew-deadline check; calls the
 * callbacks on changes. The loop thread calls it every retry period; tests call it
 * directly. Returns whether we lead after it. */
bool mg_leader_tick(mg_leader *l);
/* True only while we hold the lease and renewed it within the renew deadline. */
bool mg_leader_is_leader(mg_leader *l);
/* How long we are still sure to lead: the time left before the renew deadline counted from
 * our last renewal, 0 when not leading. The fence (fence.h) compares it with a write's
 * timeout. */
uint64_t mg_leader_time_left_ms(mg_leader *l);
/* Gives the lease up at once (holder "", duration 1 s), as client-go's ReleaseOnCancel. */
int mg_leader_release(mg_leader *l);
/* The holder we last saw ("" when none). Copies into buf. */
void mg_leader_observed_holder(mg_leader *l, char *buf, size_t len);

/* Runs tick every retry period in a thread until stop. stop releases the lease. */
int mg_leader_start(mg_leader *l);
void mg_leader_stop(mg_leader *l);

/* Formats wall-clock ms as a Kubernetes MicroTime ("2026-11-25T10:00:00.123456Z"). */
void mg_micro_time(char *buf, size_t len, int64_t wall_ms);

#endif
