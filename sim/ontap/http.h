/* ontap-sim's HTTP side: one HTTPS listener per cluster, the request/response values the
 * route handlers work on, and ONTAP's query conventions (fields, filters, paging). */
#ifndef ONTAP_SIM_HTTP_H
#define ONTAP_SIM_HTTP_H

#include "json.h"

#define SIM_MAX_ARGS 64
#define SIM_MAX_SEGS 16
#define SIM_MAX_BODY (1024 * 1024)

typedef struct sim_arg {
	const char *key;
	const char *value;
} sim_arg;

typedef struct sim_req {
	sim_fabric *f;
	sim_cluster *cl;
	const char *method;
	const char *path; /* without the query */
	sim_arg args[SIM_MAX_ARGS];
	size_t nargs;
	const char *body_text;
	cJSON *body;      /* parsed JSON body or NULL */
	bool readonly;    /* authenticated as the read-only user */
	char *segs[SIM_MAX_SEGS];
	size_t nseg;
	char *path_copy;  /* owned storage behind segs */
} sim_req;

typedef struct sim_resp {
	int status;
	cJSON *body;
	char *raw;      /* owned; sent instead of body (malformed-answer faults) */
	char location[SIM_MSG];
} sim_resp;

const char *sim_qarg(const sim_req *rq, const char *key);
bool sim_arg_true(const sim_req *rq, const char *key);

void sim_resp_error(sim_resp *rs, int status, const char *code, const char *message,
		    const char *target);
void sim_resp_err(sim_resp *rs, const sim_err *e);
/* 202 {"job":{"uuid","_links"}}. */
void sim_resp_job(sim_resp *rs, const sim_job *j);
/* Honours ?return_timeout=S (0-120): waits for the job and answers `done_status` (200 or
 * 201, job included) when it succeeded in time, its error when it failed, else 202. */
void sim_resp_job_wait(sim_req *rq, sim_resp *rs, sim_job *j, int done_status);

/* Answers a collection: filters on non-reserved query arguments, pages with max_records and
 * start.uuid (next link), projects to fields=. `records` (array of full objects) is taken. */
void sim_respond_collection(const sim_req *rq, sim_resp *rs, const char *resource, cJSON *records);
/* The same over the model's own items, rendered only when they pass the cheap filters:
 * `field` gives a filterable field's text straight from the item (NULL: not known without
 * rendering). With 10,000 relationships a filtered GET then renders the one that matches,
 * not all of them (rendering everything cost 7.7 ms a request at 1,000). */
typedef struct sim_coll_src {
	size_t n;
	/* the i-th item, or NULL when this view does not see it; called once per i, in order */
	const void *(*item)(void *ctx, size_t i);
	cJSON *(*render)(void *ctx, const void *item); /* the full record; caller frees */
	const char *(*field)(void *ctx, const void *item, const char *key);
	void *ctx;
} sim_coll_src;
void sim_respond_collection_src(const sim_req *rq, sim_resp *rs, const char *resource,
				const sim_coll_src *src);
/* Answers one record (projected to fields=; everything by default). `full` is taken. */
void sim_respond_record(const sim_req *rq, sim_resp *rs, const char *resource, cJSON *full);

/* Route groups: each returns true when it handled the path. */
bool sim_route_cluster(sim_req *rq, sim_resp *rs);
bool sim_route_svm(sim_req *rq, sim_resp *rs);
bool sim_route_volume(sim_req *rq, sim_resp *rs);
bool sim_route_snapmirror(sim_req *rq, sim_resp *rs);
/* /__sim/... (control API). */
void sim_route_control(sim_req *rq, sim_resp *rs);

/* Starts the listener of every cluster of the fabric (port 0 = any; the actual port is
 * written back into the cluster). cert/key are PEM; client_ca (may be NULL) enables
 * certificate login: a client certificate signed by it whose CN is a cluster's user name.
 * A connection idle (or trickling) for idle_timeout_s seconds is closed. */
int sim_http_start(sim_fabric *f, const char *bind_addr, const char *cert_pem,
		   const char *key_pem, const char *client_ca_pem, unsigned idle_timeout_s);
void sim_http_stop(sim_fabric *f);

#endif
