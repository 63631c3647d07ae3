/* A Kubernetes API client over libcurl, shaped after client-go: configuration from the
 * in-cluster service account or a kubeconfig, the verbs mirrorgate needs, and watch streams.
 *
 * Errors map to mg_err codes a caller can act on: 404 MG_ENOTFOUND, 409 Conflict
 * MG_ECONFLICT (re-read and retry), 409 AlreadyExists MG_EEXIST, 410 MG_EGONE (relist),
 * 429 MG_ETHROTTLED (wait mg_k8s_status.retry_after), 401/403 MG_EAUTH, other answers
 * MG_EREMOTE, no answer MG_EIO/MG_ETIMEOUT/MG_ETLS. The optional mg_k8s_status out-parameter
 * carries the server's metav1.Status details. Tokens are never logged. */
#ifndef MIRRORGATE_K8S_H
#define MIRRORGATE_K8S_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#define MG_K8S_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"
#define MG_K8S_MAX_BODY (64u * 1024 * 1024)

typedef struct mg_k8s_config {
	char *server;          /* "https://host:port" (http:// allowed for tests) */
	char *token;           /* static bearer token, or NULL */
	char *token_file;      /* re-read whenever it changes (rotation), or NULL */
	char *ca_pem;          /* CA bundle (PEM) that verifies the server, or NULL: system */
	char *client_cert_pem; /* client certificate authentication, or NULL */
	char *client_key_pem;
	bool insecure_skip_tls_verify; /* only from a kubeconfig that asks for it */
	char *namespace;       /* the context's (or service account's) namespace; "default" */
} mg_k8s_config;

/* Reads a kubeconfig (YAML or JSON). context NULL means current-context. Relative file
 * paths in it are relative to the kubeconfig's directory, as kubectl resolves them.
 * MG_EPARSE with a message in `why` (may be NULL) when it is unusable. */
int mg_k8s_config_from_kubeconfig(mg_k8s_config **out, const char *path, const char *context,
				  char *why, size_t why_len);
/* In-cluster: KUBERNETES_SERVICE_HOST/PORT and the service-account directory (sa_dir NULL
 * means MG_K8S_SA_DIR). MG_ENOTFOUND when not running in a cluster. */
int mg_k8s_config_in_cluster(mg_k8s_config **out, const char *sa_dir);
void mg_k8s_config_free(mg_k8s_config *cfg);

typedef struct mg_k8s_status {
	long code;         /* HTTP status; 0 when there was no answer */
	char reason[64];   /* metav1.Status reason: "Conflict", "AlreadyExists", "Expired"... */
	char message[512];
	long retry_after;  /* seconds from Retry-After; -1 when absent */
} mg_k8s_status;

typedef struct mg_k8s_client mg_k8s_client;

/* Copies what it needs from cfg. Thread-safe: each call takes a curl handle from the
 * client's pool, so concurrent calls run on separate kept-alive connections and sequential
 * calls reuse them (HTTP/2 where the server offers it). A write (a request with a body) is
 * never resent by the transport: if its connection dies after the body went out the call
 * fails with MG_EIO and the caller re-reads. */
int mg_k8s_client_new(mg_k8s_client **out, const mg_k8s_config *cfg);
void mg_k8s_client_free(mg_k8s_client *c);
/* false: every request on a new connection (a benchmark's baseline); default true. */
void mg_k8s_client_set_reuse(mg_k8s_client *c, bool reuse);
/* Requests made (watches excluded) and new connections they opened, since creation. */
void mg_k8s_client_stats(const mg_k8s_client *c, unsigned long *requests,
			 unsigned long *new_connections);
/* Per-request timeout for non-watch calls (default 30 s). */
void mg_k8s_client_set_timeout_ms(mg_k8s_client *c, long ms);
const char *mg_k8s_client_namespace(const mg_k8s_client *c);

/* A resource: group "" for core/v1. */
typedef struct mg_k8s_resource {
	const char *group;
	const char *version;
	const char *resource; /* plural, e.g. "persistentvolumeclaims" */
	bool namespaced;
} mg_k8s_resource;

extern const mg_k8s_resource mg_k8s_res_tmr, mg_k8s_res_tamu, mg_k8s_res_tsi, mg_k8s_res_pvc,
	mg_k8s_res_pv, mg_k8s_res_sc, mg_k8s_res_configmap, mg_k8s_res_event, mg_k8s_res_lease,
	mg_k8s_res_namespace, mg_k8s_res_secret, mg_k8s_res_vs, mg_k8s_res_vsc;

/* "/api/v1/namespaces/ns/pods/name/status" style path. ns ignored for cluster-scoped
 * resources; name and subresource may be NULL. */
int mg_k8s_path(char **out, const mg_k8s_resource *r, const char *ns, const char *name,
		const char *subresource);

typedef struct mg_k8s_list_opts {
	const char *label_selector;
	const char *field_selector;
	long limit;              /* 0: no paging */
	const char *continue_token;
	const char *resource_version;
} mg_k8s_list_opts;

int mg_k8s_get(cJSON **out, mg_k8s_client *c, const mg_k8s_resource *r, const char *ns,
	       const char *name, mg_k8s_status *st);
/* One page: the List object, with metadata.continue when more remain. */
int mg_k8s_list(cJSON **out, mg_k8s_client *c, const mg_k8s_resource *r, const char *ns,
		const mg_k8s_list_opts *opts, mg_k8s_status *st);
/* Every page (opts->limit is the page size): *items is an array of objects, *rv the
 * resourceVersion of the first page, which is the version to watch from. A 410 for an
 * expired continue token restarts the listing once, as client-go's pager does. */
int mg_k8s_list_all(cJSON **items, char **rv, mg_k8s_client *c, const mg_k8s_resource *r,
		    const char *ns, const mg_k8s_list_opts *opts, mg_k8s_status *st);
int mg_k8s_create(cJSON **out, mg_k8s_client *c, const mg_k8s_resource *r, const char *ns,
		  const cJSON *obj, mg_k8s_status *st);
/* PUT of obj (name and resourceVersion from obj.metadata); MG_ECONFLICT when stale. */
int mg_k8s_update(cJSON **out, mg_k8s_client *c, const mg_k8s_resource *r, const char *ns,
		  const cJSON *obj, mg_k8s_status *st);
int mg_k8s_update_status(cJSON **out, mg_k8s_client *c, const mg_k8s_resource *r,
			 const char *ns, const cJSON *obj, mg_k8s_status *st);

enum mg_k8s_patch_type { MG_K8S_PATCH_MERGE, MG_K8S_PATCH_JSON, MG_K8S_PATCH_STRATEGIC };
/* subresource NULL or "status". out may be NULL. */
int mg_k8s_patch(cJSON **out, mg_k8s_client *c, const mg_k8s_resource *r, const char *ns,
		 const char *name, const char *subresource, enum mg_k8s_patch_type type,
		 const cJSON *patch, mg_k8s_status *st);
/* Preconditions uid / resource_version may be NULL. */
int mg_k8s_delete(mg_k8s_client *c, const mg_k8s_resource *r, const char *ns, const char *name,
		  const char *uid, const char *resource_version, mg_k8s_status *st);
/* A core/v1 Event about `about` (an object with apiVersion, kind, metadata). type is
 * "Normal" or "Warning"; component is the reporting controller. */
int mg_k8s_event(mg_k8s_client *c, const cJSON *about, const char *type, const char *reason,
		 const char *message, const char *component, mg_k8s_status *st);

/* ---- watch ---- */

/* type is "ADDED", "MODIFIED", "DELETED" or "BOOKMARK"; obj is borrowed for the call.
 * Return non-zero to end the watch (the watch then returns 0). */
typedef int (*mg_k8s_watch_fn)(void *ctx, const char *type, const cJSON *obj);

typedef struct mg_k8s_watch_opts {
	const char *resource_version; /* from a list; NULL/"" watches from "now" */
	const char *label_selector;
	const char *field_selector;
	bool allow_bookmarks;
	long timeout_seconds;         /* server-side timeoutSeconds; 0 none */
	atomic_int *stop;             /* when it becomes non-zero the watch ends promptly */
} mg_k8s_watch_opts;

/* Streams newline-delimited watch events into fn until the server ends the stream (0),
 * fn stops it (0), *stop is set (0), or an error: MG_EGONE when the version expired
 * (HTTP 410 or an ERROR event with code 410), others as above. *last_rv (may be NULL)
 * receives the last resourceVersion seen (object or bookmark), to resume from. */
int mg_k8s_watch(mg_k8s_client *c, const mg_k8s_resource *r, const char *ns,
		 const mg_k8s_watch_opts *opts, mg_k8s_watch_fn fn, void *ctx, char **last_rv,
		 mg_k8s_status *st);

/* Capped exponential backoff with jitter for reconnects: base * 2^attempt, capped, then
 * a random point in [d/2, d]. rnd is a value in [0,1). */
long mg_k8s_backoff_ms(unsigned attempt, long base_ms, long cap_ms, double rnd);

#endif
