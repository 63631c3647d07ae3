#include "pvc_protect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kobj.h"
#include "mirror_ops.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/core/history.h"
#include "mirrorgate/util/log.h"
#include "mirrorgate/core/model.h"
#include "volume_ref.h"

int mg_pvc_protect(const mg_rctx *c, const char *ns, const char *pvc, const char *remote,
		   const char *role, const char *tmr)
{
	cJSON *obj = NULL, *copy = NULL;
	char *value = NULL;
	mg_k8s_status st;
	int rc = mg_kobj_get(&obj, c, &mg_k8s_res_pvc, ns, pvc, &st);
	if (rc != 0)
		return rc;
	if (mg_kobj_deleting(obj)) {
		/* a Terminating claim is being released: no finalizer or history goes back on
		 * (the API server refuses new finalizers on it anyway) */
		rc = 0;
		goto out;
	}
	const cJSON *anns = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(obj, "metadata"), "annotations");
	const cJSON *cur = cJSON_GetObjectItemCaseSensitive(anns, MG_ANN_REPLICATION_HISTORY);
	const char *old = cJSON_IsString(cur) ? cur->valuestring : NULL;
	char problem[128];
	bool malformed = old && mg_history_check(old, problem, sizeof(problem)) != 0;
	bool need_history = false;
	if (malformed) {
		/* never overwrite what we cannot read: somebody else's data */
		mg_warn("PVC history annotation is malformed; leaving it", "pvc", pvc, "problem",
			problem, NULL);
	} else {
		char since[40];
		mg_rctx_now_rfc3339(c, since, sizeof(since));
		mg_history_entry e = {remote, role, tmr, since};
		rc = mg_history_append(old, &e, &value);
		if (rc != 0)
			goto out;
		need_history = !old || strcmp(old, value) != 0;
	}
	bool need_fin = !mg_kobj_has_finalizer(obj, MG_PVC_FINALIZER);
	if (!need_history && !need_fin)
		goto out;
	if (!mg_rctx_may_act(c)) {
		rc = MG_EAUTH;
		goto out;
	}
	rc = MG_ENOMEM;
	copy = cJSON_Duplicate(obj, true);
	cJSON *md = copy ? cJSON_GetObjectItemCaseSensitive(copy, "metadata") : NULL;
	if (!md)
		goto out;
	if (need_history) {
		cJSON *a = cJSON_GetObjectItemCaseSensitive(md, "annotations");
		if (!cJSON_IsObject(a)) {
			cJSON_DeleteItemFromObjectCaseSensitive(md, "annotations");
			a = cJSON_AddObjectToObject(md, "annotations");
		}
		if (!a)
			goto out;
		cJSON_DeleteItemFromObjectCaseSensitive(a, MG_ANN_REPLICATION_HISTORY);
		if (!cJSON_AddStringToObject(a, MG_ANN_REPLICATION_HISTORY, value))
			goto out;
	}
	if (need_fin) {
		cJSON *f = cJSON_GetObjectItemCaseSensitive(md, "finalizers");
		if (!cJSON_IsArray(f)) {
			cJSON_DeleteItemFromObjectCaseSensitive(md, "finalizers");
			f = cJSON_AddArrayToObject(md, "finalizers");
		}
		cJSON *s = cJSON_CreateString(MG_PVC_FINALIZER);
		if (!f || !s) {
			cJSON_Delete(s);
			goto out;
		}
		cJSON_AddItemToArray(f, s);
	}
	rc = mg_k8s_update(NULL, c->kube, &mg_k8s_res_pvc, ns, copy, &st);
	mg_kobj_wrote(c, &mg_k8s_res_pvc, obj);
	if (rc == 0)
		mg_info("PVC protected", "pvc", pvc, "namespace", ns, "remote", remote, NULL);
out:
	free(value);
	cJSON_Delete(copy);
	cJSON_Delete(obj);
	return rc;
}

int mg_pvc_reconcile(const mg_rctx *c, const char *ns, const char *name, mg_rec_result *res)
{
	memset(res, 0, sizeof(*res));
	cJSON *obj = NULL;
	int rc = 0;
	if (!mg_kobj_open(&obj, c, &mg_k8s_res_pvc, ns, name, "PVC", res))
		goto out;
	if (!mg_kobj_has_finalizer(obj, MG_PVC_FINALIZER) || !mg_kobj_deleting(obj)) {
		res->outcome = MG_REC_FORGET;
		goto out;
	}
	mg_mirror_target t;
	enum mg_resolve rs;
	char why[512], handle[256];
	rc = mg_volume_ref_resolve(c, ns, name, &t, &rs, why, sizeof(why), handle, sizeof(handle));
	if (rc != 0) {
		mg_rec_retry(res, "resolve: %.200s", why);
		rc = 0;
		goto out;
	}
	if (rs == MG_RESOLVED) {
		if (!mg_rctx_may_act(c)) {
			mg_rec_retry(res, "not the leader");
			goto out;
		}
		mg_ontap_error err;
		/* as the source: release the relationship's source-side metadata */
		if (mg_mirror_release(&t, &err) != 0) {
			mg_rec_retry(res, "release: %.200s", err.message);
			goto out;
		}
		/* as the destination: remove the destination-side record (no break) */
		mg_ontap_relationship rel;
		bool found;
		t.remote_path[0] = '\0';
		if (mg_mirror_read(&t, &rel, &found, &err) != 0 ||
		    (found && mg_mirror_step(&t, MG_STEP_DELETE_DEST, &rel, NULL, &err) != 0)) {
			mg_rec_retry(res, "destination: %.200s", err.message);
			goto out;
		}
		mg_info("PVC deleted: relationship released", "pvc", name, "namespace", ns, NULL);
	}
	rc = mg_kobj_set_finalizer(NULL, c, &mg_k8s_res_pvc, obj, MG_PVC_FINALIZER, false);
	if (rc != 0) {
		mg_rec_retry(res, "finalizer: %s", mg_strerror(rc));
		rc = 0;
		goto out;
	}
	res->outcome = MG_REC_FORGET;
out:
	cJSON_Delete(obj);
	return rc;
}
