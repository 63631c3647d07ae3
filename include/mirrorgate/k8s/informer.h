/* An informer: list+watch of one resource into an in-memory cache keyed by
 * "<namespace>/<name>" (cluster-scoped: "<name>"), with secondary indexes computed by
 * mg_index_keys() (lookup.h), a synced flag, and add/update/delete callbacks. One watch
 * thread writes; readers take the read lock (a writer-preferring rwlock) and may hold
 * borrowed pointers until they release it.
 *
 * The watch loop follows client-go's reflector: list (paged), watch from the list's
 * resourceVersion with bookmarks, resume from the last version seen when a watch ends,
 * relist on 410 Gone, and back off (capped exponential with jitter, or Retry-After) on
 * errors. */
#ifndef MIRRORGATE_INFORMER_H
#define MIRRORGATE_INFORMER_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "mirrorgate/k8s/client.h"

typedef struct mg_informer mg_informer;

/* Called from the watch thread, without the lock held; objects are borrowed. */
typedef struct mg_informer_handlers {
	void (*on_add)(void *ctx, const cJSON *obj);
	void (*on_update)(void *ctx, const cJSON *old_obj, const cJSON *new_obj);
	void (*on_delete)(void *ctx, const cJSON *obj);
	void *ctx;
} mg_informer_handlers;

typedef struct mg_informer_opts {
	const char *ns;             /* NULL: all namespaces */
	const char *label_selector; /* may be NULL */
	const char *field_selector; /* may be NULL */
	long page_size;             /* list page size; default 500 */
	long backoff_base_ms;       /* default 200 */
	long backoff_cap_ms;        /* default 30000 */
	long watch_timeout_s;       /* server-side watch timeout; default 300 */
	const char *const *indexes; /* MG_INDEX_* names to maintain */
	size_t nindexes;
	const mg_informer_handlers *handlers; /* may be NULL */
	/* The cache never keeps metadata.managedFields. A cache nobody PUTs copies of back
	 * (the webhook's) may also drop the kubectl last-applied-configuration annotation, a
	 * second copy of the whole object. */
	bool strip_last_applied;
} mg_informer_opts;

/* The client must outlive the informer. */
int mg_informer_new(mg_informer **out, mg_k8s_client *client, const mg_k8s_resource *res,
		    const mg_informer_opts *opts);
/* Starts the watch thread. */
int mg_informer_start(mg_informer *inf);
/* Asks the watch thread to stop without waiting (stop several informers in parallel). */
void mg_informer_request_stop(mg_informer *inf);
/* Stops and joins the watch thread (promptly: within about a second). */
void mg_informer_stop(mg_informer *inf);
/* Stops and frees. */
void mg_informer_free(mg_informer *inf);

/* True once the first list is in the cache. */
bool mg_informer_synced(mg_informer *inf);
/* 0 once synced, MG_ETIMEOUT after timeout_ms. */
int mg_informer_wait_synced(mg_informer *inf, long timeout_ms);

void mg_informer_read_lock(mg_informer *inf);
void mg_informer_read_unlock(mg_informer *inf);

/* The following three need the read lock held; pointers stay valid until it is released. */
const cJSON *mg_informer_get(mg_informer *inf, const char *ns, const char *name);
/* fn returns non-zero to stop (that value is returned). ns NULL: every namespace. */
int mg_informer_each(mg_informer *inf, const char *ns, int (*fn)(void *ctx, const cJSON *obj),
		     void *ctx);
/* MG_EINVAL for an index the informer does not maintain. */
int mg_informer_each_indexed(mg_informer *inf, const char *index, const char *key,
			     int (*fn)(void *ctx, const cJSON *obj), void *ctx);

/* These take the lock themselves. */
size_t mg_informer_count(mg_informer *inf);
/* A copy the caller frees, or NULL. */
cJSON *mg_informer_get_copy(mg_informer *inf, const char *ns, const char *name);
/* How many times it listed (1 after the first sync; more after 410s). */
unsigned long mg_informer_list_count(mg_informer *inf);
/* The resourceVersion the next watch starts from (a copy the caller frees). */
char *mg_informer_resource_version(mg_informer *inf);



/* ---- the rules' lookup over informers (lib/lookup_informer.c) ---- */
#include "mirrorgate/rules/lookup.h"

#define MG_TOPOLOGY_CONFIGMAP_NAME "mirrorgate-topology"

typedef struct mg_lookup_informer mg_lookup_informer;

typedef struct mg_lookup_informer_opts {
	const char *topology_ns;   /* default: the client's namespace */
	const char *topology_name; /* default: MG_TOPOLOGY_CONFIGMAP_NAME */
	long backoff_cap_ms;       /* 0: the informer default */
} mg_lookup_informer_opts;

/* Informers for TMRs (indexed by PVC and by remote handle), PVCs (indexed by mirror
 * annotation), StorageClasses and the topology ConfigMap; started at once. The client must
 * outlive it. */
int mg_lookup_informer_new(mg_lookup_informer **out, mg_k8s_client *client,
			   const mg_lookup_informer_opts *opts);
/* The same from a kubeconfig (path NULL: in-cluster config); it owns its client. This is
 * what the webhook's --kubeconfig flag calls. `why` explains a failure. */
int mg_lookup_informer_from_kubeconfig(mg_lookup_informer **out, const char *kubeconfig,
				       const char *context, const mg_lookup_informer_opts *opts,
				       char *why, size_t why_len);
/* The mg_lookup view; begin() takes every cache's read lock, end() releases them; synced()
 * is true once every informer has listed. */
mg_lookup mg_lookup_informer_lookup(mg_lookup_informer *li);
int mg_lookup_informer_wait_synced(mg_lookup_informer *li, long timeout_ms);
/* The informer behind a kind (MG_KIND_TMR, MG_KIND_PVC, MG_KIND_SC, or "ConfigMap"). */
mg_informer *mg_lookup_informer_get(mg_lookup_informer *li, const char *kind);
void mg_lookup_informer_free(mg_lookup_informer *li);
#endif
