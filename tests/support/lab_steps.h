/* The steps the two-site lab's scenarios share (tests/e2e/): each side's claim, TMR and
 * snapshot made through its API server, so that its mirrorgate-webhook sees every request,
 * and the checks every scenario makes: the TMR's condition and Event, and the data-loss
 * ledger. Namespace app, TMR "mirror", claim "data" unless a step says otherwise. */
#ifndef LAB_STEPS_H
#define LAB_STEPS_H

#include "cluster_env.h"

/* The lab every e2e suite runs on: lab_setup starts it (namespace app) before each test,
 * lab_teardown stops it after; `.init = lab_setup, .fini = lab_teardown`. */
extern cluster_env lab;
void lab_setup(void);
void lab_teardown(void);

/* A mirror from A (source, promoted) to B (destination, established) of claim "data", with
 * both TMRs at their state and Event; vol_a / vol_b get the FlexVol names, handle_a /
 * handle_b "svm:volume". */
typedef struct lab_mirror {
	char vol_a[256], vol_b[256];
	char handle_a[300], handle_b[300];
	char pv_a[128], pv_b[128];
} lab_mirror;
void lab_make_mirror(cluster_env *e, lab_mirror *m);

#define LAB_HISTORY "metadata.annotations.[mirrorgate.io/replication-history]"
/* Polls (10 s) until the claim's history annotation has an entry with this role naming
 * `remote`. */
bool lab_wait_history(cluster_side *s, const char *claim, const char *role, const char *remote);

/* The TMR reaches `state` (30 s) and has a Normal Event with that reason (the reconciler's
 * "Desired state reached"); on failure the message names state, message and the log. */
void lab_expect_tmr(cluster_side *s, const char *tmr, const char *state);
/* The FlexVol has this type (rw or dp). */
void lab_expect_type(cluster_env *e, int cluster, const char *svm, const char *volume,
		     const char *want);
/* The ledger has exactly `n` entries; with n == 1, `generation` (when > 0) is the one
 * lost. */
void lab_expect_ledger(cluster_env *e, int n, long generation);
/* kubectl patch of TMR "mirror" on the side: state, remote handle and (may be NULL) the
 * promoted snapshot handle. Returns kubectl's status; *out its output (warnings). */
int lab_move(cluster_side *s, char **out, const char *state, const char *remote,
	     const char *promoted_snapshot);
/* A VolumeSnapshot `name` of claim "data" on the side and a TSI `name`-info; returns (in
 * handle) the TSI's snapshotHandle once the reconciler reported it. */
void lab_snapshot(cluster_side *s, const char *name, char *handle, size_t len);
/* A TAMU `name` on the side for TMR "mirror" with this snapshot handle (NULL: none); waits
 * until it Succeeded. */
void lab_update(cluster_side *s, const char *name, const char *handle);
/* A string field of an object in namespace app (or cluster-scoped); static, 4 rotating. */
const char *lab_field(cluster_side *s, const mg_k8s_resource *r, const char *name,
		      const char *path);

#endif
