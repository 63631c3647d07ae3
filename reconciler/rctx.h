/* What every controller of the reconciler works with: the Kubernetes client, the ONTAP
 * backends, the leader fence, and the result a reconcile pass returns to the work queue. */
#ifndef MG_RECONCILER_RCTX_H
#define MG_RECONCILER_RCTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mirrorgate/k8s/client.h"
#include "mirrorgate/ontap/client.h"

#define MG_RECONCILER_COMPONENT "mirrorgate-reconciler"

/* One ONTAP SVM the reconciler manages volumes on. */
typedef struct mg_backend {
	char name[128];
	char svm[MG_ONTAP_NAME_MAX];
	mg_ontap_client *ontap; /* owned by whoever built the list (backends.c or a test) */
	char policy[MG_ONTAP_NAME_MAX];   /* default replication policy, "" for ONTAP's */
	char schedule[MG_ONTAP_NAME_MAX]; /* default schedule, "" for none */
} mg_backend;

typedef struct mg_rctx {
	mg_k8s_client *kube;
	mg_backend *backends;
	size_t nbackends;
	/* The leader fence: asked before every change to ONTAP or Kubernetes. NULL: always. */
	bool (*may_act)(void *ctx);
	void *may_act_ctx;
	/* Wall clock (ms since the epoch) for timestamps; NULL: the system clock. */
	int64_t (*wall_ms)(void *ctx);
	void *wall_ctx;
	struct mg_rmetrics *metrics; /* may be NULL */
	/* Reads of Kubernetes objects from the informers (kcache.h); NULL: every read is a
	 * GET from the API server. */
	struct mg_kcache *cache;
	unsigned max_steps;      /* ONTAP steps per pass; default 8 */
	uint64_t refresh_ms;     /* re-check of settled objects; default 300000 */
} mg_rctx;

enum mg_rec_outcome {
	MG_REC_DONE = 0,  /* settled: forget the backoff; re-check after refresh_ms */
	MG_REC_RETRY,     /* not there yet (waiting on ONTAP, or an error): capped backoff */
	MG_REC_FORGET,    /* nothing left to watch (object gone) */
};

typedef struct mg_rec_result {
	enum mg_rec_outcome outcome;
	char reason[256]; /* for logs: why RETRY */
} mg_rec_result;

/* Marks a pass as "not there yet": capped backoff, with the reason for the logs. */
void mg_rec_retry(mg_rec_result *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

bool mg_rctx_may_act(const mg_rctx *c);
int64_t mg_rctx_wall_ms(const mg_rctx *c);
/* "2026-11-25T10:00:00Z" now. */
void mg_rctx_now_rfc3339(const mg_rctx *c, char *buf, size_t len);

#endif
