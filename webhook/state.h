/* The cluster state the webhook reviews against until the informer lands:
 * every .yaml, .yml and .json file under --state-dir (recursively, multi-document, List kinds
 * expanded) goes into an in-memory store, and the topology comes from --topology or from a
 * ConfigMap in the state carrying the "topology.yaml" key. */
#ifndef MIRRORGATE_WEBHOOK_STATE_H
#define MIRRORGATE_WEBHOOK_STATE_H

#include "mirrorgate/rules/lookup.h"

#define MG_STATE_MAX_FILE (16 * 1024 * 1024)
#define MG_STATE_MAX_DEPTH 16

/* Either argument may be NULL. On failure *error names the file and line (caller frees). */
int mg_wh_state_load(mg_store **out, const char *state_dir, const char *topology_file,
		     char **error);

#endif
