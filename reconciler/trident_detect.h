/* Reads Trident's own objects (TridentVersion, TridentOrchestrator, Trident's Events and
 * finalizers on TMRs) and judges whether its mirror controller is active
 * (mirrorgate/reconcile/trident.h). A kind that is not served (404: Trident's CRDs are not
 * installed) counts as absent; any other failed read makes the verdict unknown. */
#ifndef MG_RECONCILER_TRIDENT_DETECT_H
#define MG_RECONCILER_TRIDENT_DETECT_H

#include <cjson/cJSON.h>

#include "mirrorgate/k8s/client.h"
#include "mirrorgate/reconcile/trident.h"

extern const mg_k8s_resource mg_k8s_res_tridentversion, mg_k8s_res_tridentorchestrator,
	mg_k8s_res_tbc;

/* ns: Trident's namespace (NULL: TridentVersions of every namespace). *evidence (may be
 * NULL; caller frees) gets a copy of the object that proves Trident is there, the one the
 * refusal Event is about. */
void mg_trident_detect(mg_k8s_client *kube, const char *ns, mg_trident_verdict *out,
		       cJSON **evidence);

#endif
