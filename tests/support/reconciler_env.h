/* Test environment for the reconciler's integration tests: a real kube-sim and a real
 * ontap-sim (two clusters: cluster-a/svm-a, the source; cluster-b/svm-b, the destination),
 * a Kubernetes client, ONTAP clients whose job polling advances the simulator's virtual
 * clock, and a reconciler context whose backend is cluster-b. */
#ifndef RECONCILER_ENV_H
#define RECONCILER_ENV_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "kube_support.h"
#include "mirrorgate/k8s/client.h"
#include "mirrorgate/ontap/client.h"
#include "ontap_sim_proc.h"
/* tests/support is built before it knows the reconciler component: reach it by path */
#include "../../reconciler/rctx.h"

typedef struct rec_env {
	kube_sim_proc kube;
	ontap_sim_proc ontap;
	mg_k8s_client *k8s;
	mg_ontap_client *ca, *cb; /* cluster-a, cluster-b */
	mg_backend backend_a, backend_b;
	mg_rctx ctx_b; /* the destination cluster's reconciler */
	mg_rctx ctx_a; /* the source cluster's reconciler */
} rec_env;

void rec_env_start_at(rec_env *e, const char *bin_dir, const char *source_dir);
#define rec_env_start(e) rec_env_start_at((e), MG_BIN_DIR, MG_SOURCE_DIR)
void rec_env_stop(rec_env *e);

/* ONTAP volume through the API: cluster 0 = a, 1 = b; type "rw" or "dp". */
void rec_env_volume(rec_env *e, int cluster, const char *name, const char *type);
/* The usual pair: vol_src (RW, one client write) on cluster-a, an empty DP vol_dst on
 * cluster-b, and the bound PVC app/data whose PV names vol_dst. */
void rec_env_mirror_pair(rec_env *e);
/* A client write on a RW volume (bumps its generation); returns the generation. */
long rec_env_write(rec_env *e, int cluster, const char *path);
/* Starts a transfer (a SnapMirror update) on the relationship whose destination is
 * `dest_path`, as the destination cluster's schedule would. */
void rec_env_transfer(rec_env *e, const char *dest_path);
/* Snapshot on a RW volume through the API. */
void rec_env_snapshot(rec_env *e, int cluster, const char *volume, const char *name);
/* The ONTAP volume's type ("rw", "dp"); copies into a static buffer. */
const char *rec_env_volume_type(rec_env *e, int cluster, const char *volume);
/* Whether the ONTAP volume has the snapshot. */
bool rec_env_has_snapshot(rec_env *e, int cluster, const char *volume, const char *name);

/* Namespace, then a bound PVC + PV whose volumeAttributes.internalName is `volume` (as
 * Trident's CSI controller makes them). */
void rec_env_pvc(rec_env *e, const char *ns, const char *pvc, const char *volume);
/* Applies a YAML/JSON object (create). */
void rec_env_create(rec_env *e, const mg_k8s_resource *r, const char *ns, const char *yaml);
/* A merge patch on the TMR's spec. */
void rec_env_patch_spec(rec_env *e, const char *ns, const char *name, const char *json);
/* Current object, or NULL when gone. Caller frees. */
cJSON *rec_env_get(rec_env *e, const mg_k8s_resource *r, const char *ns, const char *name);
/* status.conditions[0].<field> of a TMR ("" when absent); copies into a static buffer. */
const char *rec_env_cond(rec_env *e, const char *ns, const char *name, const char *field);

/* Runs TMR passes (advancing the ONTAP clock by step_ms between them) until the TMR's
 * condition state equals `state` and the pass settled, at most max_passes. Returns the
 * number of passes, or -1. ctx selects the reconciler (ctx_a / ctx_b). */
int rec_env_tmr_until(rec_env *e, mg_rctx *ctx, const char *ns, const char *name,
		      const char *state, int max_passes, int64_t step_ms);
/* Runs TMR passes until the TMR is gone (finalizer removed), at most max_passes. */
int rec_env_tmr_until_gone(rec_env *e, mg_rctx *ctx, const char *ns, const char *name,
			   int max_passes, int64_t step_ms);

/* Number of entries in the ontap-sim data-loss ledger; *ops (may be NULL) gets the ledger
 * as JSON text (caller frees). */
int rec_env_ledger(rec_env *e, char **text);
/* Count of Events with this reason about the named object. */
int rec_env_events(rec_env *e, const char *ns, const char *name, const char *reason);

/* The message of an Event with this reason about the named object ("" when none; the
 * listing's last when several); copies into a static buffer. */
const char *rec_env_event_message(rec_env *e, const char *ns, const char *name,
				  const char *reason);
/* Count of Events with this reason about the named object whose message starts with
 * prefix. */
int rec_env_events_saying(rec_env *e, const char *ns, const char *name, const char *reason,
			  const char *prefix);

/* POST /__sim/faults with this JSON; DELETE clears them all. */
void rec_env_fault(rec_env *e, const char *json);
void rec_env_clear_faults(rec_env *e);
/* ONTAP relationship with this destination path as the destination cluster sees it; false
 * when there is none. */
bool rec_env_relationship(rec_env *e, const char *dest_path, char *state, size_t len);
/* Count of logged ONTAP requests with this method (NULL: any) whose path contains
 * path_needle and whose body contains body_needle. */
int rec_env_requests_with_body(rec_env *e, const char *method, const char *path_needle,
			       const char *body_needle);
/* PATCHes the state of the relationship with this destination path on the destination
 * cluster, as an admin would behind the TMR's back ("paused", "broken_off", ...). */
void rec_env_set_state(rec_env *e, const char *dest_path, const char *state);
/* ONTAP SnapMirror requests that change something (POST, PATCH, DELETE) so far. */
int rec_env_mutations(rec_env *e);
/* Runs one pass and returns its outcome. */
int rec_env_pass(rec_env *e, mg_rctx *ctx, const char *ns, const char *name);
/* Deletes an object (the API server keeps it while finalizers remain). */
void rec_env_delete(rec_env *e, const mg_k8s_resource *r, const char *ns, const char *name);
#endif
