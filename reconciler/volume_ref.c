#include "volume_ref.h"

#include <stdio.h>
#include <string.h>

#include "kobj.h"
#include "mirrorgate/util/err.h"

int mg_volume_ref_resolve(const mg_rctx *c, const char *ns, const char *pvc_name,
			  mg_mirror_target *t, enum mg_resolve *state, char *why, size_t why_len,
			  char *handle, size_t handle_len)
{
	bool deleting;
	return mg_volume_ref_resolve_ex(c, ns, pvc_name, t, state, why, why_len, handle,
					handle_len, &deleting);
}

int mg_volume_ref_resolve_ex(const mg_rctx *c, const char *ns, const char *pvc_name,
			     mg_mirror_target *t, enum mg_resolve *state, char *why,
			     size_t why_len, char *handle, size_t handle_len, bool *pvc_deleting)
{
	mg_k8s_status st;
	cJSON *pvc = NULL, *pv = NULL;
	*state = MG_RESOLVE_DEFER;
	*pvc_deleting = false;
	why[0] = '\0';
	if (handle_len)
		handle[0] = '\0';
	int rc = 0;
	if (pvc_name && *pvc_name) {
		rc = mg_kobj_get(&pvc, c, &mg_k8s_res_pvc, ns, pvc_name, &st);
		if (rc != 0 && rc != MG_ENOTFOUND)
			goto out;
	}
	*pvc_deleting = pvc && mg_kobj_deleting(pvc);
	const char *pv_name = pvc ? mg_pvc_bound_pv(pvc) : NULL;
	if (pv_name) {
		rc = mg_kobj_get(&pv, c, &mg_k8s_res_pv, NULL, pv_name, &st);
		if (rc != 0 && rc != MG_ENOTFOUND)
			goto out;
	}
	rc = 0;
	const char *internal = NULL, *vh = NULL, *msg = NULL;
	if (mg_tmr_resolve_volume(pvc, pv, &internal, &vh, &msg) != MG_RESOLVED) {
		snprintf(why, why_len, "%s", msg);
		goto out;
	}
	snprintf(handle, handle_len, "%s", vh ? vh : "");
	mg_ontap_error err;
	rc = mg_mirror_find_backend(c, internal, t, &err);
	if (rc == MG_ENOTFOUND) {
		*state = MG_RESOLVE_ERROR;
		snprintf(why, why_len, "%s", err.message);
		rc = 0;
		goto out;
	}
	if (rc != 0) {
		snprintf(why, why_len, "%s", err.message);
		goto out;
	}
	*state = MG_RESOLVED;
out:
	cJSON_Delete(pvc);
	cJSON_Delete(pv);
	return rc;
}
