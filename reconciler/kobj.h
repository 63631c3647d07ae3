/* Small Kubernetes object chores shared by the controllers: finalizers, status writes and
 * Events, each behind the leader fence. */
#ifndef MG_RECONCILER_KOBJ_H
#define MG_RECONCILER_KOBJ_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "rctx.h"

/* A string at obj.a.b (b may be NULL), or NULL. */
const char *mg_kobj_str(const cJSON *obj, const char *a, const char *b);
long long mg_kobj_generation(const cJSON *obj);
bool mg_kobj_has_finalizer(const cJSON *obj, const char *finalizer);
bool mg_kobj_deleting(const cJSON *obj);

/* A copy of an object (caller frees) from the informer cache when it can be trusted, from
 * the API server otherwise (kcache.h). */
int mg_kobj_get(cJSON **out, const mg_rctx *c, const mg_k8s_resource *r, const char *ns,
		const char *name, mg_k8s_status *st);
/* Records that obj was just written (or a write was attempted) from its resourceVersion:
 * the next read of it goes to the API server unless the cache has moved on. */
void mg_kobj_wrote(const mg_rctx *c, const mg_k8s_resource *r, const cJSON *obj);

/* The opening of every controller's pass: reads the object to reconcile. true with *obj set
 * (caller frees) when there is one to work on; false when the pass is already over, with
 * res filled: the object is gone (FORGET) or could not be read (RETRY, with `what` in the
 * reason). */
bool mg_kobj_open(cJSON **obj, const mg_rctx *c, const mg_k8s_resource *r, const char *ns,
		  const char *name, const char *what, mg_rec_result *res);

/* Adds (present) or removes the finalizer with a PUT of obj; *updated (may be NULL) gets
 * the stored object. MG_ECONFLICT when obj is stale; MG_EAUTH when not leader... (the fence
 * refuses with MG_EAUTH). A no-op change returns 0 without a write. */
int mg_kobj_set_finalizer(cJSON **updated, const mg_rctx *c, const mg_k8s_resource *res,
			  const cJSON *obj, const char *finalizer, bool present);

/* Replaces obj's status with `status` (taken over) through the status subresource
 * (status_subresource false: a plain PUT, for kinds without one such as TAMU). */
int mg_kobj_write_status(cJSON **updated, const mg_rctx *c, const mg_k8s_resource *res,
			 const cJSON *obj, cJSON *status, bool status_subresource);

/* Emits an Event about obj; failures are logged, never fatal (Events are best effort). */
void mg_kobj_event(const mg_rctx *c, const cJSON *obj, const char *type, const char *reason,
		   const char *message);

#endif
