/* Shared start-up and waits for tests of the real mirrorgate-reconciler binary: ontap-sim
 * on its real-time clock with fast jobs and transfers (the binary waits on the wall clock),
 * kube-sim, test-side clients on the real clock, the cluster-b configuration of a rec_proc,
 * and bounded polls of Kubernetes objects, /metrics and log files. */
#ifndef RECONCILER_E2E_H
#define RECONCILER_E2E_H

#include <stdbool.h>

#include "reconciler_env.h"
#include "reconciler_proc.h"

/* An established-state TMR app/mirror for PVC app/data, source svm-a:vol_src. */
#define REC_E2E_TMR                                                                      \
	"apiVersion: trident.netapp.io/v1\nkind: TridentMirrorRelationship\n"           \
	"metadata: {name: mirror, namespace: app}\n"                                     \
	"spec:\n  state: established\n  replicationPolicy: MirrorAllSnapshots\n"          \
	"  volumeMappings:\n  - localPVCName: data\n    remoteVolumeHandle: svm-a:vol_src\n"

/* Starts ontap-sim (real time, fast settings) and kube-sim (with kube_extra, NULL-terminated,
 * may be NULL) and the clients; asserts (Criterion) that all come up. */
void rec_e2e_start_at(rec_env *e, const char *bin_dir, const char *source_dir,
		      const char *const *kube_extra);
#define rec_e2e_start(e, kube_extra) rec_e2e_start_at((e), MG_BIN_DIR, MG_SOURCE_DIR, (kube_extra))
/* Replaces the kube-sim process (and the Kubernetes client) by one started with `extra`. */
void rec_e2e_restart_kube_at(rec_env *e, const char *bin_dir, const char *source_dir,
			     const char *const *extra);
#define rec_e2e_restart_kube(e, extra) \
	rec_e2e_restart_kube_at((e), MG_BIN_DIR, MG_SOURCE_DIR, (extra))
/* rec_proc_config for the destination backend (cluster-b, svm-b, admin / password-b). */
void rec_e2e_config(rec_env *e, rec_proc *p);
/* The usual suite start: rec_e2e_start, then a configured (not started) reconciler p. */
void rec_e2e_start_with_config_at(rec_env *e, rec_proc *p, const char *bin_dir,
				  const char *source_dir, const char *const *kube_extra);
#define rec_e2e_start_with_config(e, p, kube_extra)                                            \
	rec_e2e_start_with_config_at((e), (p), MG_BIN_DIR, MG_SOURCE_DIR, (kube_extra))
/* The usual suite end: kills the reconciler p (if running), removes its files, stops e. */
void rec_e2e_stop_with_proc(rec_env *e, rec_proc *p);

void rec_e2e_nap(long ms);
/* Polls (every 100 ms, at most timeout_ms) until the TMR's condition state is `state`. */
bool rec_e2e_wait_state(rec_env *e, const char *ns, const char *name, const char *state,
			long timeout_ms);
/* Polls until status.<field> of the object equals `value` ("" for absent). */
bool rec_e2e_wait_status(rec_env *e, const mg_k8s_resource *r, const char *ns, const char *name,
			 const char *field, const char *value, long timeout_ms);
/* status.<field> of an object as a string ("" when absent or gone); static buffer. */
const char *rec_e2e_status(rec_env *e, const mg_k8s_resource *r, const char *ns,
			   const char *name, const char *field);
/* Polls until the object is gone (NotFound). */
bool rec_e2e_wait_gone(rec_env *e, const mg_k8s_resource *r, const char *ns, const char *name,
		       long timeout_ms);
/* Polls GET /metrics until the body contains (want) or lacks (!want) `needle`; *body (may
 * be NULL) gets the last body, caller frees. */
bool rec_e2e_wait_metric(rec_proc *p, const char *needle, bool want, long timeout_ms,
			 char **body);
/* The value of one series of /metrics (`name{labels}` exactly as exposed), or -1 when the
 * series is absent. */
double rec_e2e_metric(rec_proc *p, const char *series);
/* Polls until the file contains `needle`. */
bool rec_e2e_wait_file(const char *path, const char *needle, long timeout_ms);
/* Whether the file contains `needle` (false when it cannot be read). */
bool rec_e2e_file_contains(const char *path, const char *needle);
/* The JSON text of a list of `r` in `ns` (NULL: all); caller frees. */
char *rec_e2e_list_text(rec_env *e, const mg_k8s_resource *r, const char *ns);

/* Expects (Criterion) an empty data-loss ledger, printing it when not. */
void rec_e2e_assert_no_loss(rec_env *e);

#endif
