/* ONTAP REST client: transport, authentication and the client object. One client talks to
 * one cluster (or SVM) management LIF over one reused HTTPS connection; calls are
 * serialised by a mutex, so a client may be shared between threads.
 *
 *   mg_ontap_config cfg = MG_ONTAP_CONFIG_INIT;
 *   cfg.base_url = "https://10.0.0.1"; cfg.ca_file = "/etc/ontap/ca.pem";
 *   cfg.username = "admin"; cfg.password = pw;
 *   mg_ontap_client *c; mg_ontap_error err;
 *   if (mg_ontap_client_new(&c, &cfg) == 0) { ... mg_ontap_client_free(c); }
 *
 * Resource operations live in ontap_cluster.h, ontap_volume.h and ontap_snapmirror.h; every
 * operation returns 0 or a negative mg_err and, on failure, fills an mg_ontap_error
 * (ontap_error.h). Asynchronous operations wait for their job (ontap_job.h). */
#ifndef MIRRORGATE_ONTAP_H
#define MIRRORGATE_ONTAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "mirrorgate/ontap/error.h"

#define MG_ONTAP_NAME_MAX 256
#define MG_ONTAP_UUID_MAX 64

/* Time source and sleeper for job polling; tests inject virtual ones. Milliseconds. */
typedef uint64_t (*mg_ontap_now_fn)(void *ctx);
typedef void (*mg_ontap_sleep_fn)(void *ctx, uint64_t ms);

typedef struct mg_ontap_config {
	const char *base_url;        /* "https://host[:port]", no trailing /api */
	const char *ca_file;         /* PEM bundle to verify the server with */
	const char *ca_pem;          /* or the bundle itself (used when ca_file is NULL) */
	bool insecure;               /* skip verification: labs only, logged as a warning */
	const char *username;        /* basic auth ... */
	const char *password;        /* ... never logged */
	const char *client_cert_file; /* or certificate auth (PEM files) */
	const char *client_key_file;
	long timeout_ms;             /* per HTTP request; default 30000 */
	long connect_timeout_ms;     /* default 10000 */
	size_t max_response_bytes;   /* default 16 MiB */
	unsigned page_size;          /* max_records for collection reads; default 500 */
	/* Job polling: capped exponential backoff under an overall deadline. */
	uint64_t job_deadline_ms;    /* default 120000 */
	uint64_t job_initial_interval_ms; /* default 250 */
	uint64_t job_max_interval_ms;     /* default 4000 */
	/* Writes that start a job ask ONTAP to wait for it up to this many seconds
	 * (return_timeout): a job that finishes in time needs no polling and no sleep in the
	 * caller (the reconciler's workers). 0 (the default): 202 at once, then polling. A job
	 * that fails in the window comes back as the write's error answer (source HTTP, no
	 * job uuid), not as a failed job. Capped at half of timeout_ms. */
	unsigned return_timeout_s;
	mg_ontap_now_fn now_ms;      /* default: CLOCK_MONOTONIC */
	mg_ontap_sleep_fn sleep_ms;  /* default: nanosleep */
	void *clock_ctx;
	const char *user_agent;      /* default "mirrorgate/<version>" */
	/* Fencing. Asked before every write (any method but GET), and again as the write's
	 * connection opens, with the request's whole timeout: false means this process is not
	 * sure to lead for that long, and the write does not leave (MG_ECONFLICT, source
	 * client, nothing sent). libcurl aborts a request past its timeout, also one that was
	 * paused (SIGSTOP) before sending, so a write either lands within the window or not at
	 * all. NULL: every write may leave. */
	bool (*may_write)(void *ctx, long needed_ms);
	void *may_write_ctx;
	/* Tests only: called as a write's connection opens, after the first check (a process
	 * paused with a write in flight). */
	void (*write_pause_hook)(void *ctx);
} mg_ontap_config;

#define MG_ONTAP_CONFIG_INIT {0}

typedef struct mg_ontap_version {
	int generation, major, minor; /* 9, 13, 1 */
	char full[MG_ONTAP_NAME_MAX];
} mg_ontap_version;

typedef struct mg_ontap_client mg_ontap_client;

/* Validates the configuration (URL scheme, exactly one auth method, readable files) and
 * prepares the connection; performs no I/O. */
int mg_ontap_client_new(mg_ontap_client **out, const mg_ontap_config *cfg);
void mg_ontap_client_free(mg_ontap_client *c);

/* ONTAP version, read once with GET /api/cluster and cached: it selects which fields= lists
 * the client sends (asking a 9.8 cluster for a newer field fails the whole request). */
int mg_ontap_client_version(mg_ontap_client *c, mg_ontap_version *out, mg_ontap_error *err);
/* version >= g.ma.mi */
bool mg_ontap_version_at_least(const mg_ontap_version *v, int g, int ma, int mi);

/* The raw call under every operation: `path_and_query` starts with "/api/"; `body` may be
 * NULL. On 2xx returns 0 with the status and the parsed body (NULL when empty; caller
 * frees). On an HTTP error returns the mapped mg_err with err filled from the error body.
 * GETs that lose their connection before any answer are retried once (ONTAP drops
 * keep-alive connections). */
int mg_ontap_request(mg_ontap_client *c, const char *method, const char *path_and_query,
		     const cJSON *body, int *status, cJSON **response, mg_ontap_error *err);

/* Percent-encodes a query value (for names used in filters). Caller frees. */
char *mg_ontap_escape(const char *value);

#endif
