/* Test helper: runs the real ontap-sim binary on loopback (ephemeral ports), talks to its
 * control API, and builds ONTAP clients whose job-polling sleep advances the simulator's
 * virtual clock (so waiting for a job costs no wall time). */
#ifndef MG_TEST_ONTAP_SIM_PROC_H
#define MG_TEST_ONTAP_SIM_PROC_H

#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "mirrorgate/ontap/client.h"

#define ONTAP_SIM_MAX_CLUSTERS 4

typedef struct ontap_sim_proc {
	pid_t pid;
	char dir[64];       /* temp dir with ports.json and ca.pem */
	char ca_file[128];
	size_t nclusters;
	struct {
		char name[64];
		char url[128];
	} clusters[ONTAP_SIM_MAX_CLUSTERS];
	uint64_t client_now_ms; /* the clients' virtual clock */
} ontap_sim_proc;

/* Starts ontap-sim. `config_yaml` (may be NULL: default topology) is written to a file and
 * passed with --config; `extra` are more arguments (NULL-terminated, may be NULL). Asserts
 * (Criterion) that it comes up within 30 s. */
void ontap_sim_start_bin(ontap_sim_proc *p, const char *binary, const char *config_yaml,
			 const char *const *extra);
/* The binary lives in MG_BIN_DIR, which only test executables (not this library) define. */
#define ontap_sim_start(p, yaml, extra) ontap_sim_start_bin((p), MG_BIN_DIR "/ontap-sim", (yaml), (extra))
/* Like ontap_sim_start_bin, with the binary run under a wrapper command (e.g. valgrind and
 * its options; NULL-terminated) and a longer start-up allowance. */
void ontap_sim_start_wrapped(ontap_sim_proc *p, const char *const *wrapper, const char *binary,
			     const char *config_yaml, const char *const *extra);
void ontap_sim_stop(ontap_sim_proc *p);
/* SIGTERM, then waits up to `wait_ms` for a clean exit; returns the exit status (or -1 when
 * killed). */
int ontap_sim_stop_status(ontap_sim_proc *p, int wait_ms);

/* A control-API call to /__sim/...; returns the HTTP status; *out (may be NULL) gets the body. */
int ontap_sim_control(ontap_sim_proc *p, const char *method, const char *path, const char *body,
		      cJSON **out);
void ontap_sim_advance(ontap_sim_proc *p, int64_t ms);
/* Number of logged API requests to `cluster` (NULL: any) whose method matches (NULL: any)
 * and whose path contains `needle`. */
int ontap_sim_count_requests(ontap_sim_proc *p, const char *cluster, const char *method,
			     const char *needle);

/* Config for cluster i (0 = cluster-a, 1 = cluster-b) with the default passwords, the sim's
 * CA and the virtual-clock job polling. */
void ontap_sim_client_config(ontap_sim_proc *p, size_t i, mg_ontap_config *cfg);
mg_ontap_client *ontap_sim_client(ontap_sim_proc *p, size_t i);

#endif
