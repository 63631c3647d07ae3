/* The reconciler's reads of Kubernetes objects, served from its informers' caches.
 *
 * A pass reads the object it reconciles, and the PVC, PV, VolumeSnapshot(Content) or TMR it
 * depends on, from the informer that already holds them; the API server sees a GET only
 * when the cache cannot be trusted for that object:
 *  - no informer holds the resource (then every read is a GET, as before);
 *  - the object is not in the cache (it may have just been created: a negative answer from
 *    a lagging watch is not trusted);
 *  - the reconciler itself wrote the object (or tried to) and the cache still shows the
 *    version that write was sent from: the watch has not caught up with our own write (or
 *    the write got a 409 because the cache was behind), so acting on it would repeat work
 *    or send a stale resourceVersion. mg_kcache_wrote records that version.
 * Every write still carries the resourceVersion it was computed from, so the API server
 * refuses a stale one with 409, and the pass that gets it re-reads through here, which then
 * goes to the API server. */
#ifndef MG_RECONCILER_KCACHE_H
#define MG_RECONCILER_KCACHE_H

#include <cjson/cJSON.h>

#include "mirrorgate/k8s/client.h"
#include "mirrorgate/k8s/informer.h"

typedef struct mg_kcache mg_kcache;

typedef struct mg_kcache_stats {
	unsigned long hits;        /* served from an informer */
	unsigned long gets;        /* went to the API server */
	unsigned long stale_gets;  /* of those, because the cache had not seen our write */
} mg_kcache_stats;

int mg_kcache_new(mg_kcache **out, mg_k8s_client *kube);
void mg_kcache_free(mg_kcache *kc);
/* The informer (borrowed, must outlive the cache) that holds resource r. */
int mg_kcache_add(mg_kcache *kc, const mg_k8s_resource *r, mg_informer *inf);
/* A copy of the object (caller frees): from the cache when it is trustworthy, else a GET.
 * kc NULL: always a GET with kube. Errors as mg_k8s_get. */
int mg_kcache_get(cJSON **out, mg_kcache *kc, mg_k8s_client *kube, const mg_k8s_resource *r,
		  const char *ns, const char *name, mg_k8s_status *st);
/* After a write (successful or not) of an object that was sent with resourceVersion
 * rv_sent: reads of it go to the API server until the cache shows another version. */
void mg_kcache_wrote(mg_kcache *kc, const mg_k8s_resource *r, const char *ns, const char *name,
		     const char *rv_sent);
void mg_kcache_get_stats(mg_kcache *kc, mg_kcache_stats *out);

#endif
