/* ONTAP backends from Trident's TridentBackendConfigs, so that ONTAP is configured once.
 * For each TBC of an ONTAP driver (storageDriverName ontap-*) in Trident's namespace:
 * spec.managementLIF, spec.svm, spec.trustedCACertificate (base64 PEM, as Trident takes it)
 * and the Secret named by spec.credentials.name in the same namespace, holding `username`
 * and `password`, or `clientPrivateKey` (base64 PEM) with spec.clientCertificate (base64
 * PEM): Trident's keys, matched without regard to case as Trident does.
 *
 * Each sync re-reads them: a changed TBC or Secret (resourceVersion) rebuilds that client
 * (credential rotation without a restart); one that became unusable keeps its last good
 * client; a TBC that cannot be used is reported, never fatal: a warn log line and an Event
 * on the TBC once per change (Trident owns the TBC's status, so mirrorgate does not write
 * it) and the gauge mirrorgate_backend_ready{backend,source="TridentBackendConfig"} 0. */
#ifndef MG_RECONCILER_TBC_BACKENDS_H
#define MG_RECONCILER_TBC_BACKENDS_H

#include "config.h"
#include "rmetrics.h"

typedef struct mg_tbc_entry {
	char name[128];        /* the TBC's name: the backend's */
	mg_backend item;       /* item.ontap NULL while it has never been usable */
	char fingerprint[96];  /* TBC and Secret resourceVersions of the client in use */
	char problem[384];     /* "" when usable; what was last reported */
} mg_tbc_entry;

/* Brings b's TBC-sourced backends in line with the TBCs of `ns`. Returns how many clients
 * were (re)built; a failed list keeps what there is. */
int mg_backends_sync_tbc(mg_backends *b, mg_k8s_client *kube, const char *ns,
			 mg_rmetrics *metrics, const mg_rctx *event_ctx);

#endif
