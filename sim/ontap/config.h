/* ontap-sim topology: the default (two peered clusters) and YAML/JSON seed files. */
#ifndef ONTAP_SIM_CONFIG_H
#define ONTAP_SIM_CONFIG_H

#include "engine.h"

/* cluster-a (svm-a, admin/password-a) and cluster-b (svm-b, admin/password-b), ONTAP
 * 9.13.1, SVMs peered for SnapMirror. */
int sim_config_default(sim_fabric *f);

/* Applies a topology document (see docs/ontap-sim.md). With allow_new_clusters false (at
 * run time, when listeners exist) only objects inside existing clusters may be added. On
 * error `msg` says which entry is wrong. */
int sim_config_apply(sim_fabric *f, const cJSON *doc, bool allow_new_clusters, char *msg,
		     size_t cap);

/* Parses YAML (or JSON) text and applies it. */
int sim_config_apply_text(sim_fabric *f, const char *text, size_t len, bool allow_new_clusters,
			  char *msg, size_t cap);

#endif
