/* The two patch formats kubectl and controllers send besides RFC 6902 JSON Patch (which is
 * jsonpatch.h): RFC 7386 JSON merge patch, and Kubernetes' strategic merge patch as far as
 * client-side `kubectl apply` and `kubectl patch` produce it for built-in kinds.
 *
 * Strategic merge patch differs from merge patch in lists: a list whose field has a merge key
 * (containers by name, webhooks by name, ownerReferences by uid, ...) is merged element by
 * element; metadata.finalizers is merged as a set; any other list is replaced. The directives
 * $patch (replace/delete/merge), $retainKeys, $setElementOrder/<f> and
 * $deleteFromPrimitiveList/<f> are honoured. The merge-key table is a fixed subset of the
 * Go struct tags (docs/k8s-client.md lists it). */
#ifndef MIRRORGATE_K8S_MERGEPATCH_H
#define MIRRORGATE_K8S_MERGEPATCH_H

#include <cjson/cJSON.h>

/* *out is a new tree (the caller frees it); target and patch are not modified. target may be
 * NULL (patching nothing). MG_EINVAL when patch is NULL. */
int mg_merge_patch_apply(cJSON **out, const cJSON *target, const cJSON *patch);
/* MG_EINVAL for a patch that is not an object or has a malformed directive. */
int mg_strategic_merge_patch_apply(cJSON **out, const cJSON *target, const cJSON *patch);

#endif
