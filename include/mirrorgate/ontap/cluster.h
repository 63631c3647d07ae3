/* Cluster-level ONTAP reads: the cluster itself, SVMs, SVM and cluster peers, SnapMirror
 * policies and job schedules. Collections are read with an explicit fields= list and paged
 * through _links.next; lists are owned by the caller (free with the matching *_free). */
#ifndef MIRRORGATE_ONTAP_CLUSTER_H
#define MIRRORGATE_ONTAP_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>

#include "mirrorgate/ontap/client.h"

typedef struct mg_ontap_cluster {
	char name[MG_ONTAP_NAME_MAX];
	char uuid[MG_ONTAP_UUID_MAX];
	mg_ontap_version version;
} mg_ontap_cluster;

typedef struct mg_ontap_svm {
	char name[MG_ONTAP_NAME_MAX];
	char uuid[MG_ONTAP_UUID_MAX];
	char state[32];   /* running, stopped, ... */
	char subtype[32]; /* default, dp_destination, ... */
} mg_ontap_svm;

typedef struct mg_ontap_svm_list {
	mg_ontap_svm *items;
	size_t len;
} mg_ontap_svm_list;

typedef struct mg_ontap_svm_peer {
	char uuid[MG_ONTAP_UUID_MAX];
	char svm_name[MG_ONTAP_NAME_MAX];      /* local SVM */
	char peer_svm_name[MG_ONTAP_NAME_MAX]; /* remote SVM's real name */
	char peer_cluster_name[MG_ONTAP_NAME_MAX];
	char name[MG_ONTAP_NAME_MAX];          /* local alias of the peer SVM: used in paths */
	char state[32];                        /* peered, suspended, ... */
	bool snapmirror;                       /* "snapmirror" in applications[] */
} mg_ontap_svm_peer;

typedef struct mg_ontap_svm_peer_list {
	mg_ontap_svm_peer *items;
	size_t len;
} mg_ontap_svm_peer_list;

typedef struct mg_ontap_cluster_peer {
	char uuid[MG_ONTAP_UUID_MAX];
	char name[MG_ONTAP_NAME_MAX];
	char state[32]; /* available, unavailable, partial, ... */
} mg_ontap_cluster_peer;

typedef struct mg_ontap_cluster_peer_list {
	mg_ontap_cluster_peer *items;
	size_t len;
} mg_ontap_cluster_peer_list;

typedef struct mg_ontap_policy {
	char name[MG_ONTAP_NAME_MAX];
	char uuid[MG_ONTAP_UUID_MAX];
	char type[32];       /* async, sync, continuous */
	char sync_type[32];  /* for sync policies */
	bool copy_all_source_snapshots;
	bool copy_latest_source_snapshot;
} mg_ontap_policy;

typedef struct mg_ontap_schedule {
	char name[MG_ONTAP_NAME_MAX];
	char uuid[MG_ONTAP_UUID_MAX];
	char type[32]; /* cron, interval */
} mg_ontap_schedule;

int mg_ontap_cluster_get(mg_ontap_client *c, mg_ontap_cluster *out, mg_ontap_error *err);

/* All SVMs, or only the one named `name` (NULL for all). */
int mg_ontap_svms(mg_ontap_client *c, const char *name, mg_ontap_svm_list *out,
		      mg_ontap_error *err);
/* One SVM by name; MG_ENOTFOUND when absent. */
int mg_ontap_svm_get(mg_ontap_client *c, const char *name, mg_ontap_svm *out, mg_ontap_error *err);
void mg_ontap_svm_list_free(mg_ontap_svm_list *list);

/* SVM peers of local SVM `svm_name` (NULL for all local SVMs). */
int mg_ontap_svm_peers(mg_ontap_client *c, const char *svm_name, mg_ontap_svm_peer_list *out,
			   mg_ontap_error *err);
void mg_ontap_svm_peer_list_free(mg_ontap_svm_peer_list *list);

int mg_ontap_cluster_peers(mg_ontap_client *c, mg_ontap_cluster_peer_list *out,
			       mg_ontap_error *err);
void mg_ontap_cluster_peer_list_free(mg_ontap_cluster_peer_list *list);

/* A SnapMirror policy by name; MG_ENOTFOUND when absent. */
int mg_ontap_policy_get(mg_ontap_client *c, const char *name, mg_ontap_policy *out,
			mg_ontap_error *err);
/* A job schedule by name (/api/cluster/schedules); MG_ENOTFOUND when absent. */
int mg_ontap_schedule_get(mg_ontap_client *c, const char *name, mg_ontap_schedule *out,
			  mg_ontap_error *err);

#endif
