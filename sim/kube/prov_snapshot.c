/* VolumeSnapshot → ONTAP snapshot → VolumeSnapshotContent, as the snapshot-controller, the
 * external-snapshotter sidecar and Trident's CreateSnapshot make them: content
 * `snapcontent-<VS uid>`, ONTAP snapshot `snapshot-<VS uid>` on the claim's volume, handle
 * `<PV name>/<snapshot name>` (research trident.md 1.3, 3.10). Deleting the VolumeSnapshot
 * deletes the content and, with deletionPolicy Delete, the ONTAP snapshot. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/util/log.h"
#include "mirrorgate/ontap/job.h"
#include "mirrorgate/ontap/volume.h"
#include "mirrorgate/util/strbuf.h"
#include "prov_internal.h"

static const cJSON *attrs_of(const cJSON *pv)
{
	return cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(pv, "spec"), "csi"),
		"volumeAttributes");
}

/* The ONTAP volume behind a Trident PV: its backend and uuid. */
static int pv_volume(ksim_prov *p, const cJSON *pv, prov_backend **b, mg_ontap_volume *vol,
		     mg_ontap_error *err)
{
	const cJSON *attrs = attrs_of(pv);
	const char *internal = prov_str(attrs, "internalName", NULL, NULL);
	*b = prov_backend_by_uuid(p, prov_str(attrs, "backendUUID", NULL, NULL));
	if (!*b || !internal) {
		mg_ontap_error_set(err, MG_ENOTFOUND, MG_ONTAP_SRC_CLIENT,
				   "PV %s has no volume on a backend of this provisioner",
				   prov_md(pv, "name"));
		return MG_ENOTFOUND;
	}
	return mg_ontap_volume_get((*b)->client, (*b)->cfg->svm, internal, vol, err);
}

static const cJSON *snapshot_class(const prov_view *v, const cJSON *vs)
{
	const char *cls = prov_str(vs, "spec", "volumeSnapshotClassName", NULL);
	if (cls)
		return prov_find(v->vsclasses, NULL, cls);
	const cJSON *c;
	cJSON_ArrayForEach(c, v->vsclasses)
	{
		const char *def = prov_ann(c, "snapshot.storage.kubernetes.io/is-default-class");
		const char *drv = prov_str(c, "driver", NULL, NULL);
		if (def && strcmp(def, "true") == 0 && drv && strcmp(drv, KSIM_TRIDENT_DRIVER) == 0)
			return c;
	}
	return NULL;
}

static int ensure_snapshot(prov_backend *b, const char *vol_uuid, const char *name,
			   mg_ontap_snapshot *snap, mg_ontap_error *err)
{
	int rc = mg_ontap_snapshot_get(b->client, vol_uuid, name, snap, err);
	if (rc != MG_ENOTFOUND)
		return rc;
	rc = mg_ontap_snapshot_create(b->client, vol_uuid, name, NULL, err);
	if (rc != 0 && !mg_ontap_err_is_unknown_outcome(err) && !mg_ontap_err_is_transport(err))
		return rc;
	/* Made now, or perhaps made by a create whose answer we lost: look. */
	return mg_ontap_snapshot_get(b->client, vol_uuid, name, snap, err);
}

static cJSON *make_content(const cJSON *vs, const cJSON *cls, const char *name,
			   const char *pv_name, const char *handle, uint64_t size)
{
	const char *policy = prov_str(cls, "deletionPolicy", NULL, NULL);
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	cJSON *c = cJSON_CreateObject();
	cJSON *md = cJSON_AddObjectToObject(c, "metadata");
	cJSON *spec = cJSON_AddObjectToObject(c, "spec");
	cJSON *src = cJSON_AddObjectToObject(spec, "source");
	cJSON *ref = cJSON_AddObjectToObject(spec, "volumeSnapshotRef");
	cJSON *st = cJSON_AddObjectToObject(c, "status");
	if (!cJSON_AddStringToObject(md, "name", name) ||
	    !cJSON_AddStringToObject(spec, "deletionPolicy", policy ? policy : "Delete") ||
	    !cJSON_AddStringToObject(spec, "driver", KSIM_TRIDENT_DRIVER) ||
	    !cJSON_AddStringToObject(src, "volumeHandle", pv_name) ||
	    !cJSON_AddStringToObject(spec, "volumeSnapshotClassName", prov_md(cls, "name")) ||
	    !cJSON_AddStringToObject(ref, "apiVersion", "snapshot.storage.k8s.io/v1") ||
	    !cJSON_AddStringToObject(ref, "kind", "VolumeSnapshot") ||
	    !cJSON_AddStringToObject(ref, "name", prov_md(vs, "name")) ||
	    !cJSON_AddStringToObject(ref, "namespace", prov_md(vs, "namespace")) ||
	    !cJSON_AddStringToObject(ref, "uid", prov_md(vs, "uid")) ||
	    !cJSON_AddStringToObject(st, "snapshotHandle", handle) ||
	    !cJSON_AddBoolToObject(st, "readyToUse", 1) ||
	    /* VolumeSnapshotContent's creationTime is int64 nanoseconds since the epoch */
	    !cJSON_AddNumberToObject(st, "creationTime",
				     (double)now.tv_sec * 1e9 + (double)now.tv_nsec) ||
	    !cJSON_AddNumberToObject(st, "restoreSize", (double)size)) {
		cJSON_Delete(c);
		return NULL;
	}
	return c;
}

static int mark_ready(ksim_prov *p, const cJSON *vs, const char *content, const char *size)
{
	const char *ns = prov_md(vs, "namespace"), *name = prov_md(vs, "name");
	cJSON *cur = prov_get(p, p->vs, ns, name);
	if (!cur || !prov_md(cur, "uid") || strcmp(prov_md(cur, "uid"), prov_md(vs, "uid")) != 0) {
		cJSON_Delete(cur);
		return 0;
	}
	char ts[32], rv[32];
	ksim_now(ts, sizeof(ts));
	snprintf(rv, sizeof(rv), "%s", prov_md(cur, "resourceVersion"));
	cJSON_DeleteItemFromObjectCaseSensitive(cur, "status");
	cJSON *st = cJSON_AddObjectToObject(cur, "status");
	if (!st || !cJSON_AddStringToObject(st, "boundVolumeSnapshotContentName", content) ||
	    !cJSON_AddBoolToObject(st, "readyToUse", 1) ||
	    !cJSON_AddStringToObject(st, "creationTime", ts) ||
	    (size && !cJSON_AddStringToObject(st, "restoreSize", size))) {
		cJSON_Delete(cur);
		return MG_ENOMEM;
	}
	int rc = prov_replace(p, p->vs, ns, name, cur, rv);
	if (rc == 0)
		prov_event(p, p->vs, vs, "Normal", "SnapshotReady", "Snapshot %s/%s is ready to use.",
			   ns, name);
	return rc;
}

int prov_snapshot(ksim_prov *p, const prov_view *v, const cJSON *vs)
{
	const cJSON *ready = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(vs, "status"), "readyToUse");
	const char *uid = prov_md(vs, "uid"), *ns = prov_md(vs, "namespace");
	if (prov_md(vs, "deletionTimestamp") || !uid || cJSON_IsTrue(ready) ||
	    prov_str(vs, "spec", "source", "volumeSnapshotContentName"))
		return 0; /* going, done, or pre-provisioned (not modelled) */
	const cJSON *cls = snapshot_class(v, vs);
	const char *cls_name = prov_str(vs, "spec", "volumeSnapshotClassName", NULL);
	if (!cls) {
		if (cls_name)
			prov_event(p, p->vs, vs, "Warning", "GetSnapshotClassFailed",
				   "Failed to get snapshot class with error "
				   "volumesnapshotclass.snapshot.storage.k8s.io \"%s\" not found",
				   cls_name);
		return cls_name ? MG_ENOTFOUND : 0;
	}
	const char *drv = prov_str(cls, "driver", NULL, NULL);
	if (!drv || strcmp(drv, KSIM_TRIDENT_DRIVER) != 0)
		return 0;
	const char *pvc_name = prov_str(vs, "spec", "source", "persistentVolumeClaimName");
	const cJSON *pvc = pvc_name ? prov_find(v->pvcs, ns, pvc_name) : NULL;
	const char *pv_name = prov_str(pvc, "spec", "volumeName", NULL);
	const cJSON *pv = pv_name ? prov_find(v->pvs, NULL, pv_name) : NULL;
	if (!pv) {
		prov_event(p, p->vs, vs, "Warning", "SnapshotCreationFailed",
			   "Failed to create snapshot: the source PVC %s is not bound to a volume",
			   pvc_name ? pvc_name : "(none)");
		return MG_ENOTFOUND;
	}
	char snap_name[300], content[300], handle[700];
	snprintf(snap_name, sizeof(snap_name), "snapshot-%s", uid);
	snprintf(content, sizeof(content), "snapcontent-%s", uid);
	snprintf(handle, sizeof(handle), "%s/%s", pv_name, snap_name);
	const char *size = prov_str(pv, "spec", "capacity", "storage");
	if (!prov_find(v->vscs, NULL, content)) {
		prov_backend *b;
		mg_ontap_volume vol;
		mg_ontap_snapshot snap;
		mg_ontap_error err;
		int rc = pv_volume(p, pv, &b, &vol, &err);
		if (rc == 0)
			rc = ensure_snapshot(b, vol.uuid, snap_name, &snap, &err);
		if (rc != 0) {
			prov_event(p, p->vs, vs, "Warning", "SnapshotCreationFailed",
				   "Failed to create snapshot: rpc error: code = Internal desc = %s",
				   err.message);
			return rc;
		}
		prov_event(p, p->vs, vs, "Normal", "SnapshotCreated",
			   "Snapshot %s/%s was successfully created by the CSI driver.", ns,
			   prov_md(vs, "name"));
		cJSON *c = make_content(vs, cls, content, pv_name, handle, vol.size);
		rc = c ? prov_create(p, p->vsc, NULL, c) : MG_ENOMEM;
		if (rc != 0 && rc != MG_EEXIST)
			return rc;
	}
	return mark_ready(p, vs, content, size);
}

static int delete_snapshot(ksim_prov *p, const prov_view *v, const cJSON *vsc,
			   const char *handle)
{
	char pv_name[300];
	const char *slash = strchr(handle, '/');
	if (!slash || (size_t)(slash - handle) >= sizeof(pv_name))
		return 0; /* not a handle this provisioner made: nothing on ONTAP to remove */
	snprintf(pv_name, sizeof(pv_name), "%.*s", (int)(slash - handle), handle);
	const char *snap_name = slash + 1;
	const cJSON *pv = prov_find(v->pvs, NULL, pv_name);
	prov_backend *b = NULL;
	mg_ontap_volume vol;
	mg_ontap_error err;
	int rc = MG_ENOTFOUND;
	if (pv) {
		rc = pv_volume(p, pv, &b, &vol, &err);
	} else {
		/* The PV went first: find the volume by Trident's naming on each backend. */
		for (size_t i = 0; i < p->nbackends && rc == MG_ENOTFOUND; i++) {
			char internal[512];
			b = &p->backends[i];
			prov_internal_name(internal, sizeof(internal), b->cfg->prefix, pv_name);
			rc = mg_ontap_volume_get(b->client, b->cfg->svm, internal, &vol, &err);
		}
	}
	mg_ontap_snapshot snap;
	if (rc == 0)
		rc = mg_ontap_snapshot_get(b->client, vol.uuid, snap_name, &snap, &err);
	if (rc == 0) {
		char path[300];
		snprintf(path, sizeof(path), "/api/storage/volumes/%s/snapshots/%s", vol.uuid,
			 snap.uuid);
		rc = mg_ontap_request_wait(b->client, "DELETE", path, NULL, &err);
	}
	if (rc == MG_ENOTFOUND)
		return 0; /* already gone */
	if (rc != 0)
		prov_event(p, p->vsc, vsc, "Warning", "SnapshotDeleteError",
			   "Failed to delete snapshot: rpc error: code = Internal desc = %s",
			   err.message);
	return rc;
}

int prov_snapshot_release(ksim_prov *p, const prov_view *v, const cJSON *vsc)
{
	const char *drv = prov_str(vsc, "spec", "driver", NULL);
	if (!drv || strcmp(drv, KSIM_TRIDENT_DRIVER) != 0)
		return 0;
	const cJSON *ref = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(vsc, "spec"), "volumeSnapshotRef");
	const char *rns = prov_str(ref, "namespace", NULL, NULL);
	const char *rname = prov_str(ref, "name", NULL, NULL);
	const char *ruid = prov_str(ref, "uid", NULL, NULL);
	const cJSON *vs = rname && rns ? prov_find(v->vss, rns, rname) : NULL;
	const char *vuid = vs ? prov_md(vs, "uid") : NULL;
	if (vs && !prov_md(vs, "deletionTimestamp") && (!ruid || (vuid && strcmp(vuid, ruid) == 0)))
		return 0; /* still in use */
	const char *policy = prov_str(vsc, "spec", "deletionPolicy", NULL);
	const char *handle = prov_str(vsc, "status", "snapshotHandle", NULL);
	if (policy && strcmp(policy, "Delete") == 0 && handle) {
		int rc = delete_snapshot(p, v, vsc, handle);
		if (rc != 0)
			return rc;
	} else if (!policy || strcmp(policy, "Delete") != 0) {
		return 0; /* Retain: the content and the ONTAP snapshot stay */
	}
	int rc = prov_delete(p, p->vsc, NULL, prov_md(vsc, "name"), NULL);
	return rc == MG_ENOTFOUND ? 0 : rc;
}
