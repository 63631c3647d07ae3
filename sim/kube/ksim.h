/* kube-sim's engine: a Kubernetes API subset over HTTPS for tests and demos. Internal to
 * sim/kube (the tests link it as the library kubesim_engine). */
#ifndef KSIM_H
#define KSIM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "mirrorgate/k8s/labels.h"

/* ---- resource types ---- */
typedef struct ksim_res {
	char *group; /* "" for core */
	char *version;
	char *resource; /* plural */
	char *singular;
	char *kind;
	bool namespaced;
	bool has_status; /* status subresource */
	bool crd;
	char **short_names;
	size_t nshort;
	char **categories;
	size_t ncat;
	cJSON *schema; /* openAPIV3Schema of a CRD, owned; NULL for built-ins */
} ksim_res;

typedef struct ksim_types {
	ksim_res **items;
	size_t len;
} ksim_types;

int ksim_types_init(ksim_types *t);
/* Adds the served version of a CustomResourceDefinition object. */
int ksim_types_add_crd(ksim_types *t, const cJSON *crd, char *why, size_t why_len);
/* Loads every *.yaml / *.yml / *.json CRD in dir. */
int ksim_types_load_dir(ksim_types *t, const char *dir, char *why, size_t why_len);
const ksim_res *ksim_types_find(const ksim_types *t, const char *group, const char *version,
				const char *resource);
/* Stops serving the built-in kind spec ("GROUP/RESOURCE", or "RESOURCE" for the core
 * group), as on a cluster where its CRD is not installed. Called before any object is
 * stored. MG_ENOTFOUND (with why) when no built-in matches; namespaces cannot go. */
int ksim_types_remove(ksim_types *t, const char *spec, char *why, size_t why_len);
void ksim_types_free(ksim_types *t);
/* "apps/v1" or "v1" */
char *ksim_res_api_version(const ksim_res *r);

/* ---- object store ---- */
typedef struct ksim_obj {
	const ksim_res *res;
	char *ns; /* "" for cluster-scoped */
	char *name;
	cJSON *obj;
} ksim_obj;

typedef struct ksim_event {
	unsigned long long rv;
	const ksim_res *res;
	char *ns;
	char type[12];
	cJSON *obj;
} ksim_event;

typedef struct ksim_store {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	unsigned long long rv;
	ksim_obj *objs;
	size_t nobjs, capobjs;
	ksim_event *ring; /* history for watches */
	size_t ring_cap, ring_start, ring_len;
	unsigned long long compacted_rv; /* watches from below this get 410 */
	atomic_int stopping;
} ksim_store;

int ksim_store_init(ksim_store *s, size_t history);
void ksim_store_free(ksim_store *s);
/* Caller holds s->lock for the functions below. */
ksim_obj *ksim_store_find(ksim_store *s, const ksim_res *r, const char *ns, const char *name);
/* Stores obj (ownership taken), stamping a new resourceVersion; records an event. */
int ksim_store_put(ksim_store *s, const ksim_res *r, const char *ns, const char *name,
		   cJSON *obj, const char *type);
int ksim_store_remove(ksim_store *s, const ksim_res *r, const char *ns, const char *name);
/* Drops the whole watch history (test hook: every older version becomes 410). */
void ksim_store_compact(ksim_store *s);

/* ---- webhooks ---- */
typedef struct ksim_admission_result {
	int code;        /* 0 allowed; else HTTP status for the client */
	char *message;   /* owned: client-facing message when refused */
	char *reason;    /* owned: metav1 reason when refused */
	char **warnings; /* owned */
	size_t nwarnings;
} ksim_admission_result;

/* The request being admitted. */
typedef struct ksim_admission_req {
	const ksim_res *res;
	const char *subresource; /* NULL or "status" */
	const char *operation;   /* CREATE, UPDATE, DELETE */
	const char *ns;
	const char *name;
	const cJSON *old_obj;
	bool dry_run;
	const char *username;
} ksim_admission_req;

struct ksim_server;
/* Runs the mutating webhooks (serially; each may patch *obj) or the validating ones, as
 * the API server does: mutating first, then schema validation, then validating. */
int ksim_admit(struct ksim_server *srv, const ksim_admission_req *req, cJSON **obj,
	       bool mutating, ksim_admission_result *res);
void ksim_admission_result_free(ksim_admission_result *res);

/* ---- CRD schema ---- */
/* Structural validation of a custom resource against its openAPIV3Schema: types, required,
 * enum, minItems/maxItems. Unknown fields are pruned, as the API server does, and their
 * paths appended to `unknown` (strict field validation refuses them). Problems are
 * appended to errs as "<path>: <problem>" strings. */
void ksim_schema_validate(const cJSON *schema, cJSON *obj, cJSON *errs, cJSON *unknown);

/* ---- the server ---- */
typedef struct ksim_options {
	const char *address; /* 127.0.0.1 */
	int port;            /* 0: any */
	const char *crd_dir;
	const char *token;      /* accepted bearer token */
	const char *token_file; /* accepted tokens, one per line, re-read per request */
	size_t history;         /* watch events kept */
	long bookmark_ms;       /* bookmark interval on watches that allow them */
	const char *snapshot;   /* file written with the whole state on change, or NULL */
	const char *cert_pem, *key_pem; /* serving pair */
	/* the built-in provisioner's backends (prov.h), or NULL for none; kept alive by the
	 * caller while the server runs */
	const struct ksim_prov_config *provisioner;
	/* built-in kinds not served ("GROUP/RESOURCE"); --crds may serve them again */
	const char *const *without;
	size_t nwithout;
} ksim_options;

typedef struct ksim_server {
	ksim_options opt;
	ksim_types types;
	ksim_store store;
	struct MHD_Daemon *mhd;
	int port;
	atomic_ullong uid_counter;
	struct ksim_prov *prov; /* the controller thread, when configured */
} ksim_server;

int ksim_server_start(ksim_server **out, const ksim_options *opt, char *why, size_t why_len);
void ksim_server_stop(ksim_server *srv);

/* ---- HTTP plumbing shared by the handlers ---- */
struct MHD_Connection;
struct MHD_Response;

typedef struct ksim_req {
	ksim_server *srv;
	struct MHD_Connection *conn;
	const char *method;
	const char *path;
	const char *body;
	size_t body_len;
	const char *content_type;
	const char *username;
} ksim_req;

typedef struct ksim_resp {
	int code;
	char *body;        /* owned JSON */
	const char *ctype; /* static; default application/json */
	char **warnings;   /* owned */
	size_t nwarnings;
	struct MHD_Response *stream; /* a ready response (watch) instead of body */
} ksim_resp;

/* resp.c: the answers every handler writes. */
const char *ksim_query(const ksim_req *rq, const char *key);
/* A metav1.Status body. */
void ksim_resp_status(ksim_resp *rs, int code, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* What the API server answers for a path no handler claims (an unserved group: a CRD
 * not installed): Go's http.NotFound, plain text "404 page not found", not a Status. */
void ksim_resp_page_not_found(ksim_resp *rs);
/* Takes ownership of j. */
void ksim_resp_json(ksim_resp *rs, int code, cJSON *j);
/* Adds a Warning header; under memory exhaustion it is dropped (and logged). */
void ksim_resp_warn(ksim_resp *rs, const char *text);
const char *ksim_reason_for(int code);

void ksim_discovery(ksim_req *rq, ksim_resp *rs, bool *handled);
void ksim_openapi(ksim_req *rq, ksim_resp *rs, bool *handled);
void ksim_api(ksim_req *rq, ksim_resp *rs);
/* Starts a watch stream response. */
void ksim_watch(ksim_req *rq, ksim_resp *rs, const ksim_res *r, const char *ns);
/* Writes the snapshot file when configured (caller holds the store lock). */
void ksim_snapshot(ksim_server *srv);
/* meta.c: what the API server stamps on a new object. */
char *ksim_new_uid(ksim_server *srv);
void ksim_now(char *buf, size_t len);

#endif
