#include "mirrorgate/reconcile/resolve.h"

#include <stdio.h>
#include <string.h>

#include "mirrorgate/core/model.h"
#include "mirrorgate/core/names.h"
#include "mirrorgate/reconcile/status.h"

static const cJSON *child(const cJSON *obj, const char *key)
{
	return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
}

static const char *str_at(const cJSON *obj, const char *a, const char *b, const char *c)
{
	const cJSON *n = child(obj, a);
	if (b)
		n = child(n, b);
	if (c)
		n = child(n, c);
	return cJSON_IsString(n) && n->valuestring[0] ? n->valuestring : NULL;
}

const char *mg_pvc_bound_pv(const cJSON *pvc)
{
	return str_at(pvc, "spec", "volumeName", NULL);
}

enum mg_resolve mg_tmr_resolve_volume(const cJSON *pvc, const cJSON *pv, const char **internal,
				      const char **volume_handle, const char **why)
{
	*internal = *volume_handle = NULL;
	if (!cJSON_IsObject(pvc)) {
		*why = MG_MSG_PVC_MISSING;
		return MG_RESOLVE_DEFER;
	}
	const cJSON *csi = child(child(pv, "spec"), "csi");
	const cJSON *attrs = child(csi, "volumeAttributes");
	if (!mg_pvc_bound_pv(pvc) || !cJSON_IsObject(pv) || !cJSON_IsObject(csi) ||
	    !cJSON_IsObject(attrs)) {
		*why = MG_MSG_PV_MISSING;
		return MG_RESOLVE_DEFER;
	}
	const char *name = str_at(attrs, "internalName", NULL, NULL);
	if (!name) {
		*why = MG_MSG_PV_NO_INTERNAL_NAME;
		return MG_RESOLVE_DEFER;
	}
	*internal = name;
	*volume_handle = str_at(csi, "volumeHandle", NULL, NULL);
	*why = NULL;
	return MG_RESOLVED;
}

const char *mg_vs_bound_content(const cJSON *vs)
{
	return str_at(vs, "status", "boundVolumeSnapshotContentName", NULL);
}

enum mg_resolve mg_tsi_resolve(const cJSON *vs, const cJSON *vsc, const char *ns,
			       const char *snapshot_name, char *handle, size_t handle_len,
			       char *why, size_t why_len)
{
	if (handle_len)
		handle[0] = '\0';
	if (!cJSON_IsObject(vs)) {
		snprintf(why, why_len, "VolumeSnapshot '%s' does not exist in namespace '%s'",
			 snapshot_name ? snapshot_name : "", ns ? ns : "");
		return MG_RESOLVE_DEFER;
	}
	const char *content = mg_vs_bound_content(vs);
	if (!content) {
		snprintf(why, why_len, "VolumeSnapshot '%s' is not bound to a VolumeSnapshotContent",
			 snapshot_name ? snapshot_name : "");
		return MG_RESOLVE_DEFER;
	}
	if (!cJSON_IsObject(vsc)) {
		snprintf(why, why_len, "VolumeSnapshotContent '%s' does not exist", content);
		return MG_RESOLVE_DEFER;
	}
	const char *driver = str_at(vsc, "spec", "driver", NULL);
	if (!driver || strcmp(driver, MG_TRIDENT_PROVISIONER) != 0) {
		snprintf(why, why_len, "snapshot '%s' is not a Trident snapshot",
			 snapshot_name ? snapshot_name : "");
		return MG_RESOLVE_ERROR;
	}
	const char *h = str_at(vsc, "status", "snapshotHandle", NULL);
	if (!h) {
		snprintf(why, why_len, "VolumeSnapshotContent '%s' does not yet have a snapshot handle",
			 content);
		return MG_RESOLVE_DEFER;
	}
	if (!mg_is_snapshot_handle(h) || strlen(h) >= handle_len) {
		snprintf(why, why_len, "unrecognized snapshot handle '%s'", h);
		return MG_RESOLVE_ERROR;
	}
	snprintf(handle, handle_len, "%s", h);
	return MG_RESOLVED;
}
