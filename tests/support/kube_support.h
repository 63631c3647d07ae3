/* Test helpers for the Kubernetes client, informer and kube-sim tests. */
#ifndef KUBE_SUPPORT_H
#define KUBE_SUPPORT_H

#include <stddef.h>
#include <sys/types.h>

/* ---- a kube-sim process ---- */
typedef struct kube_sim_proc {
	pid_t pid;
	int port;
	char dir[256];        /* temp dir holding kubeconfig, port file, tokens */
	char kubeconfig[300]; /* kubeconfig written by kube-sim */
	char token_file[300]; /* --token-file, editable by tests */
} kube_sim_proc;

/* Starts <bin_dir>/kube-sim with <source_dir>/manifests/crds and extra arguments
 * (NULL-terminated), waiting (bounded) for it to serve. Returns 0 or -1. */
int kube_sim_start_at(kube_sim_proc *p, const char *bin_dir, const char *source_dir,
		      const char *const *extra_args);
/* Tests are compiled with MG_BIN_DIR and MG_SOURCE_DIR. */
#define kube_sim_start(p, extra) kube_sim_start_at((p), MG_BIN_DIR, MG_SOURCE_DIR, (extra))
void kube_sim_stop(kube_sim_proc *p);
/* Like kube_sim_start_at, under a wrapper command (e.g. valgrind and its options;
 * NULL-terminated, may be NULL) with a longer start-up allowance. */
int kube_sim_start_wrapped_at(kube_sim_proc *p, const char *const *wrapper, const char *bin_dir,
			      const char *source_dir, const char *const *extra_args);
/* SIGTERM, then waits up to wait_ms for the exit; returns the exit status (-1 when it had
 * to be killed or died of a signal), then cleans up as kube_sim_stop does. */
int kube_sim_stop_status(kube_sim_proc *p, long wait_ms);

/* ---- a canned HTTP server ---- */
/* Each response is raw HTTP bytes sent once a request has been read; the connection is
 * then closed, unless raw starts with KUBE_CANNED_KEEP ("\v", not sent): then the next
 * request is read from the same connection, as a keep-alive server does. raw NULL reads the request and closes without answering (a
 * server that dropped an idle kept-alive connection at the wrong moment). delay_ms is
 * waited before answering (for timeouts). A response may be streamed in chunks separated
 * by "\f" with pause_ms between them (for watches). */
typedef struct kube_canned_resp {
	const char *raw;
	long delay_ms;
	long pause_ms;
} kube_canned_resp;
#define KUBE_CANNED_KEEP "\v"

typedef struct kube_canned kube_canned;

int kube_canned_start(kube_canned **out, const kube_canned_resp *resps, size_t n);
int kube_canned_port(const kube_canned *c);
/* The i-th request's first line and headers ("GET /path HTTP/1.1\r\nHost: ..."), or NULL. */
const char *kube_canned_request(kube_canned *c, size_t i);
size_t kube_canned_count(kube_canned *c);
/* Connections accepted so far. */
size_t kube_canned_connections(kube_canned *c);
void kube_canned_stop(kube_canned *c);

/* Writes a kubeconfig for an http:// server (canned) with a token or a token file. */
int kube_write_kubeconfig(const char *path, const char *server, const char *token,
			  const char *token_file);

/* Runs a command with a timeout, capturing stdout+stderr into *out (caller frees). Returns
 * the exit status, or -1 on timeout/failure. */
int kube_run(char **out, long timeout_ms, const char *const *argv, const char *const *env);

#endif
