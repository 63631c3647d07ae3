#include "tsi_controller.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kobj.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/util/log.h"
#include "mirrorgate/core/model.h"
#include "mirrorgate/ontap/cluster.h"
#include "mirrorgate/reconcile/resolve.h"
#include "mirror_ops.h"

static bool blank(const char *s)
{
	for (; s && *s; s++)
		if (!isspace((unsigned char)*s))
			return false;
	return true;
}

/* Writes {snapshotHandle, observedGeneration, lastTransitionTime} when the handle changed. */
static int write_handle(const mg_rctx *c, const cJSON *obj, const char *handle, bool *written)
{
	*written = false;
	const char *cur = mg_kobj_str(obj, "status", "snapshotHandle");
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(obj, "status");
	if (cJSON_IsObject(st) && strcmp(cur ? cur : "", handle) == 0)
		return 0;
	char now[40];
	mg_rctx_now_rfc3339(c, now, sizeof(now));
	cJSON *status = cJSON_CreateObject();
	if (!status || !cJSON_AddStringToObject(status, "snapshotHandle", handle) ||
	    !cJSON_AddNumberToObject(status, "observedGeneration",
				     (double)mg_kobj_generation(obj)) ||
	    !cJSON_AddStringToObject(status, "lastTransitionTime", now)) {
		cJSON_Delete(status);
		return MG_ENOMEM;
	}
	int rc = mg_kobj_write_status(NULL, c, &mg_k8s_res_tsi, obj, status, true);
	*written = rc == 0;
	return rc;
}

/* Trident's CanBackendMirror for a TSI (research 3.10): the handle's volume ("<Trident volume,
 * the PV name>/<snapshot>") must be on a configured backend, and that backend must be able
 * to mirror: its SVM has at least one SVM peer (5.4). RESOLVED, ERROR with Trident's message
 * in why, or DEFER (ONTAP or the API server did not answer). */
static enum mg_resolve backend_check(const mg_rctx *c, const char *handle, char *why,
				     size_t why_len)
{
	char volume[160];
	const char *slash = strchr(handle, '/');
	snprintf(volume, sizeof(volume), "%.*s", slash ? (int)(slash - handle) : 0, handle);
	cJSON *pv = NULL;
	mg_k8s_status kst;
	enum mg_resolve r = MG_RESOLVE_DEFER;
	int rc = mg_kobj_get(&pv, c, &mg_k8s_res_pv, NULL, volume, &kst);
	if (rc != 0 && rc != MG_ENOTFOUND) {
		snprintf(why, why_len, "read PersistentVolume %s: %s", volume, mg_strerror(rc));
		goto out;
	}
	const cJSON *csi = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(pv, "spec"), "csi");
	const char *internal = mg_kobj_str(csi, "volumeAttributes", "internalName");
	if (!internal) {
		r = MG_RESOLVE_ERROR;
		snprintf(why, why_len,
			 "could not find volume '%s'; no PersistentVolume of that name with an "
			 "internal volume name",
			 volume);
		goto out;
	}
	mg_mirror_target t;
	mg_ontap_error err;
	rc = mg_mirror_find_backend(c, internal, &t, &err);
	if (rc == MG_ENOTFOUND) {
		r = MG_RESOLVE_ERROR;
		snprintf(why, why_len, "could not find volume '%s'; %.200s", volume, err.message);
		goto out;
	}
	if (rc != 0) {
		snprintf(why, why_len, "find volume %.200s: %.200s", internal, err.message);
		goto out;
	}
	mg_ontap_svm_peer_list peers = {0};
	rc = mg_ontap_svm_peers(t.backend->ontap, t.backend->svm, &peers, &err);
	size_t n = peers.len;
	mg_ontap_svm_peer_list_free(&peers);
	if (rc != 0 && rc != MG_ENOTFOUND) {
		snprintf(why, why_len, "read SVM peers of %.100s: %.200s", t.backend->svm, err.message);
		goto out;
	}
	if (n == 0) {
		r = MG_RESOLVE_ERROR;
		snprintf(why, why_len,
			 "backend does not support TridentSnapshotInfo: SVM %s of backend %s has "
			 "no SVM peer, so it cannot mirror",
			 t.backend->svm, t.backend->name);
		goto out;
	}
	r = MG_RESOLVED;
out:
	cJSON_Delete(pv);
	return r;
}

int mg_tsi_reconcile(const mg_rctx *c, const char *ns, const char *name, mg_rec_result *res)
{
	memset(res, 0, sizeof(*res));
	cJSON *obj = NULL, *vs = NULL, *vsc = NULL;
	mg_k8s_status kst;
	int rc = 0;
	if (!mg_kobj_open(&obj, c, &mg_k8s_res_tsi, ns, name, "TSI", res))
		goto out;
	bool deleting = mg_kobj_deleting(obj);
	if (deleting || !mg_kobj_has_finalizer(obj, MG_TRIDENT_FINALIZER)) {
		cJSON *updated = NULL;
		rc = mg_kobj_set_finalizer(&updated, c, &mg_k8s_res_tsi, obj, MG_TRIDENT_FINALIZER,
					   !deleting);
		if (rc != 0 || deleting || !updated) {
			cJSON_Delete(updated);
			if (rc != 0)
				mg_rec_retry(res, "finalizer: %s", mg_strerror(rc));
			else
				res->outcome = MG_REC_FORGET;
			rc = 0;
			goto out;
		}
		cJSON_Delete(obj);
		obj = updated;
	}
	const char *snap = mg_kobj_str(obj, "spec", "snapshotName");
	bool written;
	if (blank(snap)) {
		rc = write_handle(c, obj, "", &written);
		if (rc == 0 && written)
			mg_kobj_event(c, obj, "Warning", "invalid", "snapshotName must be set");
		if (rc != 0)
			mg_rec_retry(res, "status: %s", mg_strerror(rc));
		else
			res->outcome = MG_REC_DONE;
		rc = 0;
		goto out;
	}
	rc = mg_kobj_get(&vs, c, &mg_k8s_res_vs, ns, snap, &kst);
	if (rc != 0 && rc != MG_ENOTFOUND) {
		mg_rec_retry(res, "read VolumeSnapshot: %s", mg_strerror(rc));
		rc = 0;
		goto out;
	}
	const char *content = vs ? mg_vs_bound_content(vs) : NULL;
	if (content) {
		rc = mg_kobj_get(&vsc, c, &mg_k8s_res_vsc, NULL, content, &kst);
		if (rc != 0 && rc != MG_ENOTFOUND) {
			mg_rec_retry(res, "read VolumeSnapshotContent: %s", mg_strerror(rc));
			rc = 0;
			goto out;
		}
	}
	rc = 0;
	char handle[512], why[512];
	enum mg_resolve r = mg_tsi_resolve(vs, vsc, ns, snap, handle, sizeof(handle), why,
					   sizeof(why));
	if (r == MG_RESOLVED)
		r = backend_check(c, handle, why, sizeof(why));
	if (r == MG_RESOLVE_DEFER) {
		mg_rec_retry(res, "%s", why);
		goto out;
	}
	if (r == MG_RESOLVE_ERROR) {
		/* Trident writes no status here; the Event says why */
		mg_kobj_event(c, obj, "Warning", "updateFailed", why);
		mg_warn("TSI cannot be resolved", "tsi", name, "why", why, NULL);
		res->outcome = MG_REC_DONE;
		goto out;
	}
	int wrc = write_handle(c, obj, handle, &written);
	if (wrc != 0) {
		mg_kobj_event(c, obj, "Warning", "updateFailed", "Snapshot info could not be updated");
		mg_rec_retry(res, "status: %s", mg_strerror(wrc));
		goto out;
	}
	if (written)
		mg_kobj_event(c, obj, "Normal", "updated", "Snapshot info updated");
	res->outcome = MG_REC_DONE;
out:
	cJSON_Delete(vsc);
	cJSON_Delete(vs);
	cJSON_Delete(obj);
	return rc;
}
