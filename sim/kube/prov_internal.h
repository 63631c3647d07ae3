/* Shared by the provisioner's files: the controller state, the store access it uses (copies
 * taken under the store lock; writes checked against the resourceVersion read, like a
 * client's update), and the per-object handlers. Internal to sim/kube. */
#ifndef KSIM_PROV_INTERNAL_H
#define KSIM_PROV_INTERNAL_H

#include <pthread.h>

#include "prov.h"

typedef struct prov_backend {
	const ksim_prov_backend_cfg *cfg;
	mg_ontap_client *client;
	char uuid[40]; /* Trident's backendUUID */
} prov_backend;

typedef struct prov_retry {
	char key[320];
	unsigned fails;
	long long due_ms;
} prov_retry;

struct ksim_prov {
	ksim_server *srv;
	ksim_prov_config cfg; /* borrowed strings: the caller keeps the config alive */
	prov_backend *backends;
	size_t nbackends;
	pthread_t thread;
	bool started;
	prov_retry *retries;
	size_t nretries, capretries;
	/* resource types (NULL when not served, e.g. no CRDs loaded) */
	const ksim_res *pvc, *pv, *sc, *event, *vs, *vsc, *vsclass, *tmr;
};

/* The objects one pass looks at: copies, owned (cJSON arrays). */
typedef struct prov_view {
	cJSON *pvcs, *pvs, *scs, *tmrs, *vss, *vscs, *vsclasses;
} prov_view;

long long prov_now_ms(void);

/* ---- store access (prov_store.c) ---- */
int prov_view_take(ksim_prov *p, prov_view *v);
void prov_view_free(prov_view *v);
/* The object named (ns may be NULL for cluster-scoped) in a view list, borrowed. */
const cJSON *prov_find(const cJSON *list, const char *ns, const char *name);
/* A copy of the current object, or NULL. */
cJSON *prov_get(ksim_prov *p, const ksim_res *r, const char *ns, const char *name);
/* Creates obj (taken) with uid, creationTimestamp, apiVersion/kind: MG_EEXIST if present. */
int prov_create(ksim_prov *p, const ksim_res *r, const char *ns, cJSON *obj);
/* Replaces the object (obj taken) when its resourceVersion is still `rv`: MG_ECONFLICT
 * otherwise, MG_ENOTFOUND when gone. */
int prov_replace(ksim_prov *p, const ksim_res *r, const char *ns, const char *name, cJSON *obj,
		 const char *rv);
/* Deletes (or, with finalizers, marks for deletion) when the resourceVersion is `rv`. */
int prov_delete(ksim_prov *p, const ksim_res *r, const char *ns, const char *name,
		const char *rv);
/* An Event about `about` (an object of type r), as client-go's recorder writes it. */
void prov_event(ksim_prov *p, const ksim_res *r, const cJSON *about, const char *type,
		const char *reason, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* ---- small JSON helpers ---- */
const char *prov_str(const cJSON *o, const char *a, const char *b, const char *c);
const char *prov_md(const cJSON *o, const char *field);
const char *prov_ann(const cJSON *o, const char *key);
int prov_set_str(cJSON *o, const char *key, const char *value);
/* o[key] as an object, created when absent. */
cJSON *prov_obj(cJSON *o, const char *key);

/* Trident's default volume naming: <storagePrefix><PV name>, '-' and '.' as '_'. */
void prov_internal_name(char *out, size_t len, const char *prefix, const char *pv_name);

/* ---- backends ---- */
prov_backend *prov_backend_by_uuid(ksim_prov *p, const char *uuid);

/* ---- handlers: 0 done (or nothing to do), negative to retry with backoff ---- */
int prov_claim(ksim_prov *p, const prov_view *v, const cJSON *pvc);
int prov_release(ksim_prov *p, const prov_view *v, const cJSON *pv);
int prov_snapshot(ksim_prov *p, const prov_view *v, const cJSON *vs);
int prov_snapshot_release(ksim_prov *p, const prov_view *v, const cJSON *vsc);

#endif
