/* The reconciler's HTTP endpoint (plain HTTP, for the kubelet and Prometheus):
 * /healthz (200 while the process serves), /readyz (200 once the caches are synced, else
 * 503), /metrics (Prometheus text). */
#ifndef MG_RECONCILER_HEALTH_H
#define MG_RECONCILER_HEALTH_H

#include <stdbool.h>

#include "rmetrics.h"

typedef struct mg_health mg_health;

typedef struct mg_health_opts {
	const char *address; /* "127.0.0.1:8080", ":8080" (all interfaces), or port 0 */
	mg_rmetrics *metrics;
	bool (*ready)(void *ctx);
	void *ready_ctx;
} mg_health_opts;

int mg_health_start(mg_health **out, const mg_health_opts *opts);
/* The bound port (useful with port 0). */
int mg_health_port(const mg_health *h);
void mg_health_stop(mg_health *h);

#endif
