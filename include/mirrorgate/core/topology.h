/* What the webhook knows of ONTAP without talking to it: the local cluster's SVMs, their
 * SnapMirror peers, and the SnapMirror policies and schedules. The reconciler publishes it
 * to a ConfigMap; the CLI and tests read it from a file. Each part may be unknown, and
 * rules that need an unknown part warn instead of passing silently.
 *
 * File / ConfigMap format (YAML or JSON; ConfigMap key "topology.yaml"):
 *   localSVMs: [svm_b]
 *   peers: {svm_b: [svm_a]}          # local SVM -> peered remote SVM names
 *   policies:
 *   - {name: MirrorAllSnapshots, type: async, copyAllSourceSnapshots: true}
 *   - {name: Sync, type: sync, syncType: sync}
 *   schedules: [5min, hourly]
 */
#ifndef MIRRORGATE_TOPOLOGY_H
#define MIRRORGATE_TOPOLOGY_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "mirrorgate/core/fielderr.h"

#define MG_TOPOLOGY_CONFIGMAP_KEY "topology.yaml"

typedef struct mg_svm_peers {
	char *svm;
	char **peers;
	size_t npeers;
} mg_svm_peers;

typedef struct mg_policy {
	char *name;
	char *type;      /* "async" or "sync" (ONTAP REST policy.type) */
	char *sync_type; /* for type sync: "sync", "strict_sync", "automated_failover" */
	bool copy_all_source_snapshots;
} mg_policy;

typedef struct mg_topology {
	bool svms_known;
	char **local_svms;
	size_t nlocal_svms;
	bool peers_known;
	mg_svm_peers *peers;
	size_t npeers;
	bool policies_known;
	mg_policy *policies;
	size_t npolicies;
	bool schedules_known;
	char **schedules;
	size_t nschedules;
} mg_topology;

/* Decodes a topology tree. A part that is absent stays unknown. Wrong types are field
 * errors (rule TOPOLOGY) and make the call fail with MG_EPARSE. */
int mg_topology_from_json(mg_topology *out, const cJSON *tree, mg_field_errors *errs);
bool mg_topology_is_local_svm(const mg_topology *t, const char *svm);
/* Peers of a local SVM, or NULL when that SVM has no entry. */
const mg_svm_peers *mg_topology_peers_of(const mg_topology *t, const char *svm);
const mg_policy *mg_topology_policy(const mg_topology *t, const char *name);
bool mg_topology_has_schedule(const mg_topology *t, const char *name);
void mg_topology_free(mg_topology *t);

#endif
