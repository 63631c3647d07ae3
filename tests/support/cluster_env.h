/* "kube-sim as a cluster" test harness: one ontap-sim (cluster-a/svm-a and cluster-b/svm-b,
 * peered, on its real-time clock with fast jobs and transfers) and up to two kube-sims, each
 * running the built-in Trident-like provisioner against one cluster (A on svm-a, B on
 * svm-b) with a StorageClass `trident` and a VolumeSnapshotClass `trident-snapclass`, plus a
 * way to run a mirrorgate-reconciler binary per cluster. Every wait is bounded. */
#ifndef CLUSTER_ENV_H
#define CLUSTER_ENV_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "kube_support.h"
#include "mirrorgate/k8s/client.h"
#include "mirrorgate/ontap/client.h"
#include "ontap_sim_proc.h"
#include "reconciler_proc.h"
#include "webhook_harness.h"

extern const mg_k8s_resource cluster_res_vsclass;

typedef struct cluster_side {
	int ontap_index;       /* 0 = cluster-a, 1 = cluster-b */
	char svm[64];
	kube_sim_proc kube;
	mg_k8s_client *k8s;
	char prov_file[400];   /* the --provisioner file */
	rec_proc rec;          /* its reconciler, when started */
	mg_wht wh;             /* its mirrorgate-webhook, when started (the lab) */
	bool wh_up;
	bool up;
} cluster_side;

typedef struct cluster_env {
	char bin_dir[512], source_dir[512];
	char dir[64]; /* temp dir: password and provisioner files */
	ontap_sim_proc ontap;
	mg_ontap_client *ontap_client[2]; /* real-clock clients of cluster-a, cluster-b */
	cluster_side a, b;
} cluster_env;

/* ontap-sim only (config_yaml NULL: the default peered topology). */
void cluster_env_start_ontap_at(cluster_env *e, const char *bin_dir, const char *source_dir,
				const char *config_yaml);
#define cluster_env_start_ontap(e, yaml) \
	cluster_env_start_ontap_at((e), MG_BIN_DIR, MG_SOURCE_DIR, (yaml))
/* A kube-sim whose provisioner file holds `backends_yaml` (a YAML list of backends; NULL:
 * the one backend for cluster `ontap_index`/`svm`), plus the default classes. */
void cluster_env_start_side(cluster_env *e, cluster_side *s, int ontap_index, const char *svm,
			    const char *backends_yaml);
/* The same with kube-sim under a wrapper command (valgrind ...; NULL-terminated). */
void cluster_env_start_side_wrapped(cluster_env *e, cluster_side *s, const char *const *wrapper,
				    int ontap_index, const char *svm, const char *backends_yaml);
/* Both clusters, both sides: A on cluster-a/svm-a, B on cluster-b/svm-b. */
void cluster_env_start_at(cluster_env *e, const char *bin_dir, const char *source_dir);
#define cluster_env_start(e) cluster_env_start_at((e), MG_BIN_DIR, MG_SOURCE_DIR)
void cluster_env_stop(cluster_env *e);

/* The backend YAML list item for cluster i / svm with the sim's CA and a password file. */
void cluster_env_backend_yaml(cluster_env *e, int ontap_index, const char *svm, const char *name,
			      char *out, size_t len);

/* Creates the object written as YAML (namespace for namespaced ones); asserts success. */
void cluster_env_create(cluster_side *s, const mg_k8s_resource *r, const char *ns,
			const char *yaml);
/* Same, returning the rc (0, MG_EEXIST, ...) instead of asserting. */
int cluster_env_try_create(cluster_side *s, const mg_k8s_resource *r, const char *ns,
			   const char *yaml);
void cluster_env_namespace(cluster_side *s, const char *ns);
/* Current object or NULL. Caller frees. */
cJSON *cluster_env_get(cluster_side *s, const mg_k8s_resource *r, const char *ns,
		       const char *name);
void cluster_env_delete(cluster_side *s, const mg_k8s_resource *r, const char *ns,
			const char *name);
void cluster_env_patch(cluster_side *s, const mg_k8s_resource *r, const char *ns,
		       const char *name, const char *merge_json);
/* A string at a dotted path ("status.phase", "spec.csi.volumeAttributes.internalName";
 * a segment in [] is a literal key: "metadata.annotations.[pv.kubernetes.io/bind-completed]")
 * copied into buf ("" when absent); returns buf. */
const char *cluster_env_str(const cJSON *obj, const char *path, char *buf, size_t len);
/* Polls (bounded, 50 ms steps) until the object's field equals want; false on timeout. */
bool cluster_env_wait_field(cluster_side *s, const mg_k8s_resource *r, const char *ns,
			    const char *name, const char *path, const char *want, long timeout_ms);
/* Polls until the object is gone. */
bool cluster_env_wait_gone(cluster_side *s, const mg_k8s_resource *r, const char *ns,
			   const char *name, long timeout_ms);
/* Occurrences (the sum of `count`) of events with this reason about the named object (any
 * namespace when ns is NULL). */
int cluster_env_events(cluster_side *s, const char *ns, const char *name, const char *reason);
/* Polls until at least `min` such events exist. */
bool cluster_env_wait_event(cluster_side *s, const char *ns, const char *name,
			    const char *reason, int min, long timeout_ms);
/* The message of the newest event with this reason about the object ("" when none). */
const char *cluster_env_event_message(cluster_side *s, const char *ns, const char *name,
				      const char *reason, char *buf, size_t len);

/* ONTAP side: a volume by SVM/name through the API (real clock); false when absent. */
bool cluster_env_volume(cluster_env *e, int ontap_index, const char *svm, const char *name,
			char *type, size_t type_len);
/* Number of volumes on cluster i whose name starts with prefix. */
int cluster_env_count_volumes(cluster_env *e, int ontap_index, const char *prefix);
bool cluster_env_has_snapshot(cluster_env *e, int ontap_index, const char *svm,
			      const char *volume, const char *snapshot);
/* Ledger entries; *text (may be NULL) gets the ledger JSON. */
int cluster_env_ledger(cluster_env *e, char **text);

/* status.conditions[0].<field> of a TMR in namespace app ("" when absent); static buffer. */
const char *cluster_env_cond(cluster_side *s, const char *tmr, const char *field);
/* Polls until the TMR's condition state equals `state`. */
bool cluster_env_wait_tmr(cluster_side *s, const char *tmr, const char *state, long timeout_ms);
/* The seed scenario's first steps, in namespace app with reconcilers running on both
 * sides: claim `claim` on A (RW), TMR `mirror` on A (promoted), TMR `mirror` on B
 * (established, remote = A's volume) and B's annotated claim (DP); waits until B's TMR is
 * established. vol_a / vol_b receive the FlexVol names. */
void cluster_env_mirror(cluster_env *e, const char *claim, char *vol_a, size_t vol_a_len,
			char *vol_b, size_t vol_b_len);

/* A mirrorgate-reconciler for this side's kube-sim and ONTAP cluster. */
void cluster_env_start_reconciler(cluster_env *e, cluster_side *s, const char *identity);
/* The same with extra reconciler arguments (NULL-terminated, may be NULL). */
void cluster_env_start_reconciler_with(cluster_env *e, cluster_side *s, const char *identity,
				       const char *const *extra);
/* The lab's reconciler arguments (a short --resync-period). */
extern const char *const cluster_env_lab_reconciler_args[];
/* Both clusters with namespace `ns` and a reconciler each ("rec-a", "rec-b"): the usual
 * start of a two-cluster test. */
void cluster_env_start_with_reconcilers_at(cluster_env *e, const char *bin_dir,
					    const char *source_dir, const char *ns);
#define cluster_env_start_with_reconcilers(e, ns)                                              \
	cluster_env_start_with_reconcilers_at((e), MG_BIN_DIR, MG_SOURCE_DIR, (ns))

/* The two-site lab (docs/disaster-recovery.md): each kube-sim calls its OWN
 * mirrorgate-webhook, registered from manifests/base/webhook/webhooks.yaml with clientConfig.url
 * and the webhook's CA as caBundle (kube-sim has no cluster DNS), the webhook watching its
 * kube-sim through the side's kubeconfig. Waits until /readyz says the informers synced. */
void cluster_env_start_webhook(cluster_env *e, cluster_side *s);
/* Both sites: ontap-sim, kube-sims with provisioners, namespace `ns`, a webhook per site
 * registered in its kube-sim, and a reconciler per site. */
void cluster_env_start_lab_at(cluster_env *e, const char *bin_dir, const char *source_dir,
			      const char *ns);
#define cluster_env_start_lab(e, ns) cluster_env_start_lab_at((e), MG_BIN_DIR, MG_SOURCE_DIR, (ns))
/* Runs the real kubectl against this side's kube-sim (argv after "kubectl", NULL-terminated,
 * at most 16). Returns the exit status; *out (may be NULL) gets stdout followed by stderr
 * (where kubectl prints admission warnings and errors). Caller frees *out. */
int cluster_env_kubectl(cluster_side *s, char **out, const char *const *args);
/* kubectl patch <kind> <name> -n app --type=merge -p <json>: the user's edit, webhook in the
 * loop. Returns the exit status; *out as above. */
int cluster_env_kpatch(cluster_side *s, char **out, const char *kind, const char *name,
		       const char *merge_json);
/* Cuts cluster `ontap_index` off from its peers (ontap-sim peer fault) or heals it. */
void cluster_env_reachable(cluster_env *e, int ontap_index, bool reachable);
/* A client write on the volume (RW only); returns the new generation. */
long cluster_env_write(cluster_env *e, int ontap_index, const char *svm, const char *volume);

#endif
