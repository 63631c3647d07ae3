/* Wires the reconciler together: informers that enqueue keys, the work queue, worker threads
 * that run the controllers, leader election that gates them, and the periodic chores
 * (credentials re-read, refresh of settled objects, queue-depth gauge). */
#ifndef MG_RECONCILER_MANAGER_H
#define MG_RECONCILER_MANAGER_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "leader.h"
#include "rmetrics.h"
#include "workqueue.h"

typedef struct mg_manager mg_manager;

typedef struct mg_manager_opts {
	mg_k8s_client *kube;    /* borrowed */
	mg_backends *backends;  /* borrowed */
	mg_rmetrics *metrics;    /* borrowed, may be NULL */
	const char *ns;         /* namespace scope; NULL: all */
	unsigned workers;       /* default 2 */
	uint64_t refresh_ms;    /* re-check of settled TMRs (lag, health); default 300000 */
	mg_workqueue_opts queue;
	bool leader_elect;      /* false: act at once (single replica, tests) */
	mg_leader_opts leader;  /* identity and timings */
	struct mg_fence *fence; /* told the leader as soon as it exists (fence.h); may be NULL */
	const char *lease_ns;   /* default: the client's namespace */
	const char *lease_name; /* default "mirrorgate-reconciler" */
	uint64_t topology_ms;   /* topology ConfigMap refresh; default 60000 */
	long watch_timeout_s;   /* server-side watch timeout; default 300 */
	const char *topology_ns;   /* default: the lease namespace */
	const char *topology_name; /* default "mirrorgate-topology" */
	/* Every read a GET from the API server, as Trident's controller does (the benchmark's
	 * baseline); normally false: reads come from the informers' caches. */
	bool no_cache;
} mg_manager_opts;

int mg_manager_start(mg_manager **out, const mg_manager_opts *opts);
/* Informers synced (for /readyz). */
bool mg_manager_ready(void *manager);
bool mg_manager_leading(mg_manager *m);
/* Stops workers, informers and the election (releasing the lease). */
void mg_manager_stop(mg_manager *m);

#endif
