/* ONTAP's JSON shapes for every simulated object, as seen from one cluster and version, and
 * the field schemas that decide which fields= values a version accepts. */
#ifndef ONTAP_SIM_JSON_H
#define ONTAP_SIM_JSON_H

#include "engine.h"

bool sim_version_at_least(const sim_cluster *c, int g, int ma, int mi);

cJSON *sim_json_cluster(const sim_cluster *c);
cJSON *sim_json_cluster_peer(const sim_cluster *self, const sim_cluster *peer);
cJSON *sim_json_svm(const sim_svm *s);
cJSON *sim_json_svm_peer(const sim_svm_peer *p);
cJSON *sim_json_volume(const sim_volume *v);
cJSON *sim_json_snapshot(const sim_volume *v, const sim_snapshot *s);
cJSON *sim_json_policy(const sim_policy *p);
cJSON *sim_json_schedule(const sim_schedule *s);
cJSON *sim_json_relationship(const sim_fabric *f, const sim_cluster *view, const sim_relationship *r);
cJSON *sim_json_transfer(const sim_cluster *view, const sim_transfer *t);
cJSON *sim_json_job(const sim_cluster *view, const sim_job *j);

/* Every field a resource has on this cluster's version (values are placeholders). */
cJSON *sim_schema(const char *resource, const sim_cluster *c);

#endif
