/* The interface through which rules see the cluster: other TMRs, PVCs, StorageClasses and
 * the ONTAP topology. Implemented by an in-memory store (CLI, tests, the webhook's
 * --state-dir) and by the informer cache (webhook with a kubeconfig).
 *
 * Objects are full Kubernetes objects as cJSON trees, borrowed: valid between
 * mg_lookup_begin() and mg_lookup_end(), which bracket one review (an implementation with
 * concurrent writers holds a read lock in between). */
#ifndef MIRRORGATE_LOOKUP_H
#define MIRRORGATE_LOOKUP_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "mirrorgate/core/topology.h"

/* Kinds the lookup serves. */
#define MG_KIND_TMR "TridentMirrorRelationship"
#define MG_KIND_TAMU "TridentActionMirrorUpdate"
#define MG_KIND_TSI "TridentSnapshotInfo"
#define MG_KIND_PVC "PersistentVolumeClaim"
#define MG_KIND_PV "PersistentVolume"
#define MG_KIND_SC "StorageClass"

/* Secondary indexes an implementation may serve directly (else: a scan through each()). */
#define MG_INDEX_TMR_BY_PVC "tmr-by-pvc"       /* key "<namespace>/<localPVCName>" */
#define MG_INDEX_TMR_BY_REMOTE "tmr-by-remote" /* key "<svm>:<volume>" */
#define MG_INDEX_PVC_BY_MIRROR "pvc-by-mirror" /* key "<namespace>/<TMR name>" */

/* Returns 0 to go on, non-zero to stop the iteration (that value is returned by each()). */
typedef int (*mg_lookup_fn)(void *ctx, const cJSON *object);

typedef struct mg_lookup_ops {
	void (*begin)(void *self); /* may be NULL */
	void (*end)(void *self);   /* may be NULL */
	/* namespace NULL for cluster-scoped kinds. NULL when absent. */
	const cJSON *(*get)(void *self, const char *kind, const char *ns, const char *name);
	/* Every object of a kind; ns NULL means all namespaces. */
	int (*each)(void *self, const char *kind, const char *ns, mg_lookup_fn fn, void *ctx);
	/* Objects under an index key; NULL op means "not indexed, scan". */
	int (*each_indexed)(void *self, const char *index, const char *key, mg_lookup_fn fn,
			    void *ctx);
	/* NULL when nothing is known of the topology. */
	const mg_topology *(*topology)(void *self);
	/* True once the caches reflect the cluster (readiness). NULL means always. */
	int (*synced)(void *self);
} mg_lookup_ops;

typedef struct mg_lookup {
	const mg_lookup_ops *ops;
	void *self;
} mg_lookup;

void mg_lookup_begin(const mg_lookup *lk);
void mg_lookup_end(const mg_lookup *lk);
const cJSON *mg_lookup_get(const mg_lookup *lk, const char *kind, const char *ns,
			   const char *name);
int mg_lookup_each(const mg_lookup *lk, const char *kind, const char *ns, mg_lookup_fn fn,
		   void *ctx);
/* Uses the implementation's index when it has one, otherwise scans. */
int mg_lookup_each_indexed(const mg_lookup *lk, const char *index, const char *key,
			   mg_lookup_fn fn, void *ctx);
const mg_topology *mg_lookup_topology(const mg_lookup *lk);
int mg_lookup_synced(const mg_lookup *lk);

/* The index keys an object belongs to under `index` (used by both implementations so that
 * they agree). Calls fn(ctx, key) for each. */
int mg_index_keys(const char *index, const cJSON *object, int (*fn)(void *ctx, const char *key),
		  void *ctx);

/* ---- In-memory store ---- */
typedef struct mg_store mg_store;

int mg_store_new(mg_store **out);
/* Adds (or replaces, by kind/namespace/name) an object; takes ownership of `object` on
 * success. Objects without kind or metadata.name are refused with MG_EINVAL. */
int mg_store_put(mg_store *store, cJSON *object);
/* Replaces the topology; takes ownership of its contents (t is zeroed). */
void mg_store_set_topology(mg_store *store, mg_topology *t);
size_t mg_store_count(const mg_store *store);
mg_lookup mg_store_lookup(mg_store *store);
void mg_store_free(mg_store *store);

#endif
