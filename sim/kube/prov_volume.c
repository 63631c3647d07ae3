/* PVC → ONTAP FlexVol → PV → bound PVC, as Trident's CSI controller behind the
 * external-provisioner does it (research trident.md section 5), and the way back: a PV whose
 * claim is gone is Released and, with reclaim policy Delete, its volume is deleted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/util/log.h"
#include "mirrorgate/core/model.h"
#include "mirrorgate/core/names.h"
#include "mirrorgate/ontap/cluster.h"
#include "mirrorgate/ontap/job.h"
#include "mirrorgate/ontap/snapmirror.h"
#include "mirrorgate/ontap/volume.h"
#include "mirrorgate/util/strbuf.h"
#include "prov_internal.h"

/* Trident's MinimumVolumeSizeBytes for the ONTAP drivers. */
#define PROV_MIN_VOLUME_BYTES 20971520ULL
#define PROV_ERR_MAX 1024

static int claim_failed(ksim_prov *p, const cJSON *pvc, const char *sc, const char *why)
{
	prov_event(p, p->pvc, pvc, "Warning", "ProvisioningFailed",
		   "failed to provision volume with StorageClass \"%s\": rpc error: code = Unknown "
		   "desc = %s",
		   sc, why);
	mg_info("kube-sim provisioner: provisioning failed", "pvc", prov_md(pvc, "name"), "error",
		why, NULL);
	return MG_EREMOTE;
}

/* research 5.1 getPVCMirrorPeer: which TMR this PVC belongs to and the remote handle a DP
 * destination must be peered with ("" when there is none). */
static int mirror_peer(const prov_view *v, const cJSON *pvc, const char *ann, char *peer,
		       size_t peer_len, char *why, size_t why_len)
{
	const char *ns = prov_md(pvc, "namespace"), *name = prov_md(pvc, "name");
	const cJSON *chosen = NULL;
	peer[0] = '\0';
	if (ann && !(chosen = prov_find(v->tmrs, ns, ann))) {
		snprintf(why, why_len, "the TMR %s for PVC %s does not exist", ann, name);
		return MG_ENOTFOUND;
	}
	const cJSON *tmr;
	cJSON_ArrayForEach(tmr, v->tmrs)
	{
		const char *tns = prov_md(tmr, "namespace"), *tname = prov_md(tmr, "name");
		if (!tns || strcmp(tns, ns) != 0 || !tname)
			continue;
		const cJSON *maps = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(tmr, "spec"), "volumeMappings");
		const cJSON *m;
		cJSON_ArrayForEach(m, maps)
		{
			const char *local = prov_str(m, "localPVCName", NULL, NULL);
			if (!local || strcmp(local, name) != 0)
				continue;
			if (ann && strcmp(tname, ann) != 0) {
				snprintf(why, why_len, "a different TMR refers to the PVC %s", name);
				return MG_EINVAL;
			}
			if (!ann && chosen && chosen != tmr) {
				snprintf(why, why_len, "multiple TMRs refer to PVC %s", name);
				return MG_EINVAL;
			}
			chosen = tmr;
		}
	}
	if (!chosen)
		return 0;
	const char *state = prov_str(chosen, "spec", "state", NULL);
	if (!state || (strcmp(state, "established") != 0 && strcmp(state, "reestablished") != 0))
		return 0;
	const cJSON *m;
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(
				      cJSON_GetObjectItemCaseSensitive(chosen, "spec"), "volumeMappings"))
	{
		const char *local = prov_str(m, "localPVCName", NULL, NULL);
		const char *remote = prov_str(m, "remoteVolumeHandle", NULL, NULL);
		if (local && remote && strcmp(local, name) == 0) {
			snprintf(peer, peer_len, "%s", remote);
			break;
		}
	}
	return 0;
}

/* Trident's checkSVMPeered (research 2.5). */
static int check_peered(prov_backend *b, const char *handle, char *why, size_t why_len)
{
	char svm[MG_ONTAP_NAME_MAX], vol[MG_ONTAP_NAME_MAX];
	if (!mg_split_volume_handle(handle, svm, sizeof(svm), vol, sizeof(vol))) {
		snprintf(why, why_len, "could not determine required peer SVM; invalid volume handle");
		return MG_EINVAL;
	}
	if (strcmp(svm, b->cfg->svm) == 0)
		return 0; /* single-SVM peer mode */
	mg_ontap_svm_peer_list peers = {0};
	mg_ontap_error err;
	int rc = mg_ontap_svm_peers(b->client, b->cfg->svm, &peers, &err);
	if (rc != 0) {
		snprintf(why, why_len, "could not list SVM peers: %s", err.message);
		return rc;
	}
	rc = MG_EINVAL;
	for (size_t i = 0; i < peers.len; i++)
		if (strcmp(peers.items[i].peer_svm_name, svm) == 0 ||
		    strcmp(peers.items[i].name, svm) == 0)
			rc = 0;
	mg_ontap_svm_peer_list_free(&peers);
	if (rc != 0)
		snprintf(why, why_len, "backend SVM %s is not peered with required SVM %s",
			 b->cfg->svm, svm);
	return rc;
}

/* Pools offer replication when their SVM has at least one SVM peer (IsSVMDRCapable). */
static int check_replication(prov_backend *b, char *why, size_t why_len)
{
	mg_ontap_svm_peer_list peers = {0};
	mg_ontap_error err;
	int rc = mg_ontap_svm_peers(b->client, b->cfg->svm, &peers, &err);
	if (rc != 0) {
		snprintf(why, why_len, "could not list SVM peers: %s", err.message);
		return rc;
	}
	size_t n = peers.len;
	mg_ontap_svm_peer_list_free(&peers);
	if (n == 0) {
		snprintf(why, why_len,
			 "SVM %s has no SVM peers, so the backend does not offer replication",
			 b->cfg->svm);
		return MG_EINVAL;
	}
	return 0;
}

/* The FlexVol exists afterwards: made now, or adopted when an earlier attempt (or an answer
 * that got lost) already made it. Never a second one. */
static int ensure_volume(prov_backend *b, const char *internal, const char *type, uint64_t bytes,
			 char *why, size_t why_len)
{
	mg_ontap_volume vol;
	mg_ontap_error err;
	int rc = mg_ontap_volume_get(b->client, b->cfg->svm, internal, &vol, &err);
	if (rc == MG_ENOTFOUND) {
		mg_ontap_volume_spec spec = {b->cfg->svm, internal, type, bytes, NULL};
		rc = mg_ontap_volume_create(b->client, &spec, &vol, &err);
		if (rc == 0)
			return 0;
		if (!mg_ontap_err_is_unknown_outcome(&err) && !mg_ontap_err_is_transport(&err)) {
			snprintf(why, why_len, "%s", err.message);
			return rc;
		}
		/* We cannot know whether the create happened: look. */
		rc = mg_ontap_volume_get(b->client, b->cfg->svm, internal, &vol, &err);
	}
	if (rc != 0) {
		snprintf(why, why_len, "%s", err.message);
		return rc;
	}
	if (strcmp(vol.type, type) != 0) {
		snprintf(why, why_len, "volume %s already exists with type %s", internal, vol.type);
		return MG_EEXIST;
	}
	return 0;
}

void prov_internal_name(char *out, size_t len, const char *prefix, const char *pv_name)
{
	snprintf(out, len, "%s%s", prefix, pv_name);
	for (char *c = out; *c; c++)
		if (*c == '-' || *c == '.')
			*c = '_';
}

static cJSON *dup_or(const cJSON *v, const char *fallback)
{
	if (cJSON_IsArray(v) && cJSON_GetArraySize(v) > 0)
		return cJSON_Duplicate(v, 1);
	cJSON *a = cJSON_CreateArray();
	if (a && !cJSON_AddItemToArray(a, cJSON_CreateString(fallback))) {
		cJSON_Delete(a);
		return NULL;
	}
	return a;
}

static cJSON *make_pv(const prov_backend *b, const cJSON *pvc, const cJSON *sc,
		      const char *pv_name, const char *internal, const char *size)
{
	const cJSON *pspec = cJSON_GetObjectItemCaseSensitive(pvc, "spec");
	const char *reclaim = prov_str(sc, "reclaimPolicy", NULL, NULL);
	const char *mode = prov_str(pspec, "volumeMode", NULL, NULL);
	cJSON *pv = cJSON_CreateObject();
	cJSON *md = cJSON_AddObjectToObject(pv, "metadata");
	cJSON *ann = cJSON_AddObjectToObject(md, "annotations");
	cJSON *spec = cJSON_AddObjectToObject(pv, "spec");
	cJSON *cap = cJSON_AddObjectToObject(spec, "capacity");
	cJSON *ref = cJSON_AddObjectToObject(spec, "claimRef");
	cJSON *csi = cJSON_AddObjectToObject(spec, "csi");
	cJSON *attrs = cJSON_AddObjectToObject(csi, "volumeAttributes");
	cJSON *st = cJSON_AddObjectToObject(pv, "status");
	cJSON *modes = dup_or(cJSON_GetObjectItemCaseSensitive(pspec, "accessModes"),
			      "ReadWriteOnce");
	const cJSON *mopts = cJSON_GetObjectItemCaseSensitive(sc, "mountOptions");
	if (!cJSON_AddStringToObject(md, "name", pv_name) ||
	    !cJSON_AddStringToObject(ann, "pv.kubernetes.io/provisioned-by", KSIM_TRIDENT_DRIVER) ||
	    !modes || !cJSON_AddItemToObject(spec, "accessModes", modes) ||
	    !cJSON_AddStringToObject(cap, "storage", size) ||
	    !cJSON_AddStringToObject(ref, "apiVersion", "v1") ||
	    !cJSON_AddStringToObject(ref, "kind", "PersistentVolumeClaim") ||
	    !cJSON_AddStringToObject(ref, "namespace", prov_md(pvc, "namespace")) ||
	    !cJSON_AddStringToObject(ref, "name", prov_md(pvc, "name")) ||
	    !cJSON_AddStringToObject(ref, "uid", prov_md(pvc, "uid")) ||
	    !cJSON_AddStringToObject(ref, "resourceVersion", prov_md(pvc, "resourceVersion")) ||
	    !cJSON_AddStringToObject(csi, "driver", KSIM_TRIDENT_DRIVER) ||
	    !cJSON_AddStringToObject(csi, "volumeHandle", pv_name) ||
	    !cJSON_AddStringToObject(attrs, "backendUUID", b->uuid) ||
	    !cJSON_AddStringToObject(attrs, "internalName", internal) ||
	    !cJSON_AddStringToObject(attrs, "name", pv_name) ||
	    !cJSON_AddStringToObject(attrs, "protocol", "file") ||
	    !cJSON_AddStringToObject(attrs, "storage.kubernetes.io/csiProvisionerIdentity",
				     KSIM_TRIDENT_DRIVER) ||
	    !cJSON_AddStringToObject(spec, "persistentVolumeReclaimPolicy",
				     reclaim ? reclaim : "Delete") ||
	    !cJSON_AddStringToObject(spec, "storageClassName", prov_md(sc, "name")) ||
	    !cJSON_AddStringToObject(spec, "volumeMode", mode ? mode : "Filesystem") ||
	    (cJSON_IsArray(mopts) &&
	     !cJSON_AddItemToObject(spec, "mountOptions", cJSON_Duplicate(mopts, 1))) ||
	    !cJSON_AddStringToObject(st, "phase", "Bound")) {
		if (!cJSON_GetObjectItemCaseSensitive(spec, "accessModes"))
			cJSON_Delete(modes);
		cJSON_Delete(pv);
		return NULL;
	}
	return pv;
}

/* Binds the claim to the PV, as the PV controller does once the PV exists. */
static int bind(ksim_prov *p, const cJSON *pvc, const cJSON *pv)
{
	const char *ns = prov_md(pvc, "namespace"), *name = prov_md(pvc, "name");
	cJSON *cur = prov_get(p, p->pvc, ns, name);
	int rc = 0;
	if (!cur || !prov_md(cur, "uid") || strcmp(prov_md(cur, "uid"), prov_md(pvc, "uid")) != 0 ||
	    prov_str(cur, "spec", "volumeName", NULL))
		goto out; /* gone, replaced or bound meanwhile: the next pass sees it */
	const char *pv_name = prov_md(pv, "name");
	cJSON *spec = prov_obj(cur, "spec");
	cJSON *ann = prov_obj(prov_obj(cur, "metadata"), "annotations");
	cJSON_DeleteItemFromObjectCaseSensitive(cur, "status");
	cJSON *st = cJSON_AddObjectToObject(cur, "status");
	cJSON *cap = st ? cJSON_AddObjectToObject(st, "capacity") : NULL;
	const cJSON *pvspec = cJSON_GetObjectItemCaseSensitive(pv, "spec");
	cJSON *modes = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(pvspec, "accessModes"), 1);
	if (!spec || !ann || !cap || !modes || prov_set_str(spec, "volumeName", pv_name) ||
	    prov_set_str(ann, "pv.kubernetes.io/bind-completed", "yes") ||
	    prov_set_str(ann, "pv.kubernetes.io/bound-by-controller", "yes") ||
	    prov_set_str(ann, "pv.kubernetes.io/provisioned-by", KSIM_TRIDENT_DRIVER) ||
	    prov_set_str(ann, "volume.kubernetes.io/storage-provisioner", KSIM_TRIDENT_DRIVER) ||
	    prov_set_str(ann, "volume.beta.kubernetes.io/storage-provisioner",
			 KSIM_TRIDENT_DRIVER) ||
	    prov_set_str(st, "phase", "Bound") || !cJSON_AddItemToObject(st, "accessModes", modes) ||
	    prov_set_str(cap, "storage", prov_str(pvspec, "capacity", "storage", NULL))) {
		if (modes && !cJSON_GetObjectItemCaseSensitive(st, "accessModes"))
			cJSON_Delete(modes);
		rc = MG_ENOMEM;
		goto out;
	}
	char rv[32];
	snprintf(rv, sizeof(rv), "%s", prov_md(cur, "resourceVersion"));
	rc = prov_replace(p, p->pvc, ns, name, cur, rv);
	cur = NULL;
	if (rc == 0)
		prov_event(p, p->pvc, pvc, "Normal", "ProvisioningSucceeded",
			   "Successfully provisioned volume %s", pv_name);
out:
	cJSON_Delete(cur);
	return rc;
}

static int place(ksim_prov *p, const cJSON *sc, const char *pv_name, const char *type,
		 uint64_t bytes, const char *peer, prov_backend **chosen, char *internal,
		 size_t internal_len, char *why, size_t why_len)
{
	const char *repl = prov_str(sc, "parameters", "trident.netapp.io/replication", NULL);
	bool want_repl = false;
	if (repl && !mg_parse_go_bool(repl, &want_repl)) {
		snprintf(why, why_len, "invalid value \"%s\" for trident.netapp.io/replication", repl);
		return MG_EINVAL;
	}
	mg_strbuf errs = MG_STRBUF_INIT;
	int rc = MG_ENOTFOUND;
	for (size_t i = 0; i < p->nbackends; i++) {
		prov_backend *b = &p->backends[i];
		char e[PROV_ERR_MAX] = "";
		prov_internal_name(internal, internal_len, b->cfg->prefix, pv_name);
		if ((want_repl && check_replication(b, e, sizeof(e)) != 0) ||
		    (peer[0] && check_peered(b, peer, e, sizeof(e)) != 0) ||
		    ensure_volume(b, internal, type, bytes, e, sizeof(e)) != 0) {
			mg_strbuf_printf(&errs, "%sFailed to create volume %s from backend %s: %s",
					 errs.len ? ", " : "", pv_name, b->cfg->name, e);
			continue;
		}
		*chosen = b;
		rc = 0;
		break;
	}
	if (rc != 0)
		snprintf(why, why_len, "encountered error(s) in creating the volume: [%s]",
			 errs.data ? errs.data : "no backends");
	mg_strbuf_free(&errs);
	return rc;
}

int prov_claim(ksim_prov *p, const prov_view *v, const cJSON *pvc)
{
	const char *sc_name = prov_str(pvc, "spec", "storageClassName", NULL);
	const char *uid = prov_md(pvc, "uid");
	if (prov_md(pvc, "deletionTimestamp") || prov_str(pvc, "spec", "volumeName", NULL) ||
	    !sc_name || !uid)
		return 0; /* bound, going, or no class: nothing for a provisioner to do */
	const cJSON *sc = prov_find(v->scs, NULL, sc_name);
	if (!sc) {
		prov_event(p, p->pvc, pvc, "Warning", "ProvisioningFailed",
			   "storageclass.storage.k8s.io \"%s\" not found", sc_name);
		return MG_ENOTFOUND;
	}
	const char *prov = prov_str(sc, "provisioner", NULL, NULL);
	if (!prov || strcmp(prov, KSIM_TRIDENT_DRIVER) != 0)
		return 0; /* another provisioner's class */
	char pv_name[300], why[2 * PROV_ERR_MAX] = "", peer[512] = "", internal[512] = "";
	snprintf(pv_name, sizeof(pv_name), "pvc-%s", uid);
	const cJSON *pv = prov_find(v->pvs, NULL, pv_name);
	if (pv)
		return bind(p, pvc, pv); /* made by an earlier pass that did not get to bind */
	prov_event(p, p->pvc, pvc, "Normal", "Provisioning",
		   "External provisioner is provisioning volume for claim \"%s/%s\"",
		   prov_md(pvc, "namespace"), prov_md(pvc, "name"));
	const char *size = prov_str(cJSON_GetObjectItemCaseSensitive(
				cJSON_GetObjectItemCaseSensitive(pvc, "spec"), "resources"),
			"requests", "storage", NULL);
	uint64_t bytes = 0;
	if (!size)
		return claim_failed(p, pvc, sc_name, "the claim has no spec.resources.requests.storage");
	if (ksim_parse_quantity(&bytes, size) != 0) {
		snprintf(why, sizeof(why), "invalid requested size \"%s\": not a quantity", size);
		return claim_failed(p, pvc, sc_name, why);
	}
	if (bytes < PROV_MIN_VOLUME_BYTES) {
		snprintf(why, sizeof(why),
			 "requested volume size (%llu bytes) is too small; the minimum volume size "
			 "is %llu bytes",
			 (unsigned long long)bytes, PROV_MIN_VOLUME_BYTES);
		return claim_failed(p, pvc, sc_name, why);
	}
	const char *ann = prov_ann(pvc, MG_ANN_MIRROR_RELATIONSHIP);
	if (mirror_peer(v, pvc, ann, peer, sizeof(peer), why, sizeof(why)) != 0)
		return claim_failed(p, pvc, sc_name, why);
	/* H7, as Trident does it: the annotation alone makes a DP volume. */
	const char *type = ann || peer[0] ? "dp" : "rw";
	prov_backend *b = NULL;
	if (place(p, sc, pv_name, type, bytes, peer, &b, internal, sizeof(internal), why,
		  sizeof(why)) != 0)
		return claim_failed(p, pvc, sc_name, why);
	mg_info("kube-sim provisioner: volume ready", "pvc", prov_md(pvc, "name"), "volume",
		internal, "backend", b->cfg->name, "type", type, NULL);
	cJSON *npv = make_pv(b, pvc, sc, pv_name, internal, size);
	if (!npv)
		return MG_ENOMEM;
	cJSON *keep = cJSON_Duplicate(npv, 1);
	int rc = keep ? prov_create(p, p->pv, NULL, npv) : MG_ENOMEM;
	if (!keep)
		cJSON_Delete(npv);
	if (rc == 0 || rc == MG_EEXIST)
		rc = bind(p, pvc, keep);
	cJSON_Delete(keep);
	return rc;
}

/* ---- the way back ---- */

/* Trident's volume delete (research trident.md 4.6, its #453 fix): a replicated volume first
 * loses its relationships, ignoring "not found" on each: as a destination, the destination
 * side is deleted (destination_only, which keeps common snapshots, then source_info_only,
 * Trident's DeleteViaDestination); as a source, the
 * source-side metadata is released (source_only, found with list_destinations_only). Only
 * then is the volume destroyed. ONTAP (and ontap-sim) still refuse to destroy a source whose
 * destination keeps its relationship: the release tells only the source. */
static int release_replication(prov_backend *b, const char *path, mg_ontap_error *err)
{
	mg_ontap_relationship_filter f = {NULL, path, false};
	mg_ontap_relationship_list list = {0};
	int rc = mg_ontap_relationships(b->client, &f, &list, err);
	for (size_t i = 0; rc == 0 && i < list.len; i++) {
		rc = mg_ontap_relationship_delete(b->client, list.items[i].uuid,
						  MG_ONTAP_DELETE_DESTINATION_ONLY, err);
		if (rc == 0 || rc == MG_ENOTFOUND)
			/* and its source info, as Trident's DeleteViaDestination (either cluster
			 * may remove it; gone already is fine) */
			rc = mg_ontap_relationship_delete(b->client, list.items[i].uuid,
							  MG_ONTAP_DELETE_SOURCE_INFO_ONLY, err);
		if (rc == MG_ENOTFOUND)
			rc = 0;
		else if (rc == 0)
			mg_info("provisioner: deleted the destination side of a relationship",
				"volume", path, "source", list.items[i].source_path, NULL);
	}
	mg_ontap_relationship_list_free(&list);
	if (rc != 0 && rc != MG_ENOTFOUND)
		return rc;
	memset(&list, 0, sizeof(list));
	rc = mg_ontap_relationship_list_destinations(b->client, path, &list, err);
	for (size_t i = 0; rc == 0 && i < list.len; i++) {
		rc = mg_ontap_relationship_delete(b->client, list.items[i].uuid,
						  MG_ONTAP_DELETE_SOURCE_ONLY, err);
		if (rc == MG_ENOTFOUND)
			rc = 0;
		else if (rc == 0)
			mg_info("provisioner: released the source side of a relationship", "volume",
				path, "destination", list.items[i].destination_path, NULL);
	}
	mg_ontap_relationship_list_free(&list);
	return rc == MG_ENOTFOUND ? 0 : rc;
}

static int delete_volume(ksim_prov *p, const cJSON *pv)
{
	const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(pv, "spec"), "csi"),
		"volumeAttributes");
	const char *uuid = prov_str(attrs, "backendUUID", NULL, NULL);
	const char *internal = prov_str(attrs, "internalName", NULL, NULL);
	prov_backend *b = prov_backend_by_uuid(p, uuid);
	if (!b || !internal) {
		prov_event(p, p->pv, pv, "Warning", "VolumeFailedDelete",
			   "rpc error: code = NotFound desc = backend %s not found",
			   uuid ? uuid : "(none)");
		return MG_ENOTFOUND;
	}
	mg_ontap_volume vol;
	mg_ontap_error err;
	int rc = mg_ontap_volume_get(b->client, b->cfg->svm, internal, &vol, &err);
	if (rc == MG_ENOTFOUND)
		return 0;
	if (rc == 0) {
		char rel_path[2 * MG_ONTAP_NAME_MAX];
		snprintf(rel_path, sizeof(rel_path), "%s:%s", b->cfg->svm, internal);
		rc = release_replication(b, rel_path, &err);
	}
	if (rc == 0) {
		char path[160];
		snprintf(path, sizeof(path), "/api/storage/volumes/%s", vol.uuid);
		rc = mg_ontap_request_wait(b->client, "DELETE", path, NULL, &err);
		if (rc == MG_ENOTFOUND || (rc != 0 && mg_ontap_err_is_not_found(&err)))
			rc = 0;
	}
	if (rc != 0)
		prov_event(p, p->pv, pv, "Warning", "VolumeFailedDelete",
			   "rpc error: code = Unknown desc = %s", err.message);
	return rc;
}

int prov_release(ksim_prov *p, const prov_view *v, const cJSON *pv)
{
	const char *driver = prov_str(pv, "spec", "csi", "driver");
	const cJSON *ref = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(pv, "spec"), "claimRef");
	const char *cns = prov_str(ref, "namespace", NULL, NULL);
	const char *cname = prov_str(ref, "name", NULL, NULL);
	const char *cuid = prov_str(ref, "uid", NULL, NULL);
	if (!driver || strcmp(driver, KSIM_TRIDENT_DRIVER) != 0 || !cname || !cns)
		return 0;
	const cJSON *pvc = prov_find(v->pvcs, cns, cname);
	const char *puid = pvc ? prov_md(pvc, "uid") : NULL;
	if (pvc && (!cuid || (puid && strcmp(puid, cuid) == 0)))
		return 0; /* still claimed */
	const char *name = prov_md(pv, "name");
	const char *phase = prov_str(pv, "status", "phase", NULL);
	if (!phase || (strcmp(phase, "Released") != 0 && strcmp(phase, "Failed") != 0)) {
		cJSON *next = cJSON_Duplicate(pv, 1);
		cJSON *st = next ? prov_obj(next, "status") : NULL;
		if (!st || prov_set_str(st, "phase", "Released")) {
			cJSON_Delete(next);
			return MG_ENOMEM;
		}
		int rc = prov_replace(p, p->pv, NULL, name, next, prov_md(pv, "resourceVersion"));
		if (rc != 0)
			return rc;
	}
	const char *policy = prov_str(pv, "spec", "persistentVolumeReclaimPolicy", NULL);
	if (!policy || strcmp(policy, "Delete") != 0)
		return 0; /* Retain: the volume stays, the PV stays Released */
	int rc = delete_volume(p, pv);
	if (rc != 0)
		return rc;
	rc = prov_delete(p, p->pv, NULL, name, NULL);
	return rc == MG_ENOTFOUND ? 0 : rc;
}
