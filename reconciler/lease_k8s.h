/* The leader election's Lease store over the Kubernetes API (coordination.k8s.io/v1). */
#ifndef MG_RECONCILER_LEASE_K8S_H
#define MG_RECONCILER_LEASE_K8S_H

#include "leader.h"
#include "mirrorgate/k8s/client.h"

typedef struct mg_lease_k8s {
	mg_k8s_client *kube; /* borrowed */
	char ns[254];
	char name[254];
} mg_lease_k8s;

/* Fills store with functions over ctx (which must outlive it). */
void mg_lease_k8s_store(mg_lease_store *store, mg_lease_k8s *ctx);

#endif
