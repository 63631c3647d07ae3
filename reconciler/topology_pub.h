/* Publishes what the webhook needs to know of ONTAP (topology.h's format): the local SVMs
 * (the configured backends' SVMs), their SnapMirror peers, and the SnapMirror policies and
 * job schedules, to the ConfigMap mirrorgate-topology (key topology.yaml). A part that
 * cannot be read is left out, so the webhook treats it as unknown rather than empty. */
#ifndef MG_RECONCILER_TOPOLOGY_PUB_H
#define MG_RECONCILER_TOPOLOGY_PUB_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "rctx.h"

/* The topology document read from the backends (caller frees). */
int mg_topology_collect(const mg_rctx *c, cJSON **out);
/* Creates or updates the ConfigMap when its content changed; *written tells which. */
int mg_topology_publish(const mg_rctx *c, const char *ns, const char *name, const cJSON *topo,
			bool *written);

#endif
