/* Runs the real mirrorgate-reconciler binary for integration tests: a config file for
 * cluster-b of an ontap-sim (credentials file, CA), the kube-sim kubeconfig, short leader
 * election timings, port 0 for /metrics; start, SIGTERM or SIGKILL, and HTTP GETs of its
 * endpoints. */
#ifndef RECONCILER_PROC_H
#define RECONCILER_PROC_H

#include <stdbool.h>
#include <sys/types.h>

typedef struct rec_proc {
	pid_t pid;
	int port;            /* /healthz /readyz /metrics */
	char dir[128];       /* temp dir: config, credentials, logs */
	char config[256];
	char log[256];
} rec_proc;

/* Writes <dir>/config.yaml for backend cluster `url` (svm, CA file, user, password). */
void rec_proc_config(rec_proc *p, const char *url, const char *svm, const char *ca_file,
		     const char *user, const char *password);
/* Starts `binary` with --config (when one was written), --kubeconfig and `identity`, plus
 * extra args
 * (NULL-terminated, may be NULL); waits (bounded) for the metrics port line. */
void rec_proc_start(rec_proc *p, const char *binary, const char *kubeconfig,
		    const char *identity, const char *const *extra);
/* The same under a wrapper command (e.g. valgrind ...), waiting up to 60 s. */
void rec_proc_start_wrapped(rec_proc *p, const char *const *wrapper, const char *binary,
			    const char *kubeconfig, const char *identity, const char *const *extra);
/* SIGKILL (hard) or SIGTERM, then reaps; returns the exit status (-1 when killed). */
int rec_proc_stop(rec_proc *p, bool hard);
/* HTTP GET of a path on the metrics port; returns the status, *body (may be NULL) gets it. */
int rec_proc_get(rec_proc *p, const char *path, char **body);
/* Removes the temp dir (and what is inside it, Secret-volume directories included); with
 * MG_KEEP_TEST_DIRS set in the environment it is kept (and named on stderr) instead. */
void rec_proc_cleanup(rec_proc *p);

/* Rewrites <dir>/credentials (the file rec_proc_config names) with `text`, atomically
 * (a temp file renamed over it), as an editor or a config tool would. */
void rec_proc_write_credentials(rec_proc *p, const char *text);
/* Like rec_proc_config, with the credentials laid out as a Kubernetes Secret volume does:
 * <dir>/secret/credentials -> ..data/credentials, ..data -> ..<timestamped dir>. */
void rec_proc_config_secret(rec_proc *p, const char *url, const char *svm, const char *ca_file,
			    const char *user, const char *password);
/* A Secret update as the kubelet makes it: a new timestamped dir holding `text`, a new
 * ..data symlink renamed over the old one, then the old dir removed. */
void rec_proc_swap_secret(rec_proc *p, const char *text);

#endif
