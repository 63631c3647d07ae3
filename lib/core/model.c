#include "mirrorgate/core/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/util/strbuf.h"

#define RULE_SCHEMA "SCHEMA"

static const char *json_type_name(const cJSON *n)
{
	if (cJSON_IsString(n)) return "string";
	if (cJSON_IsNumber(n)) return "number";
	if (cJSON_IsBool(n)) return "boolean";
	if (cJSON_IsArray(n)) return "array";
	if (cJSON_IsObject(n)) return "object";
	return "null";
}

/* The API server's structural-schema wording: `<path>: Invalid value: "<type>": <path> in
 * body must be of type <want>: "<type>"`. */
static int wrong_type(mg_field_errors *errs, const char *path, const cJSON *n, const char *want)
{
	if (!errs)
		return 1;
	const char *got = json_type_name(n);
	int rc = mg_fe_add(errs, RULE_SCHEMA, MG_FE_INVALID, path, got,
			   "%s in body must be of type %s: \"%s\"", path, want, got);
	return rc ? rc : 1;
}

/* Reads an optional string member. Absent or null: *out = NULL. Returns <0 on ENOMEM, 1 if a
 * type error was recorded, 0 otherwise. */
static int opt_string(const cJSON *obj, const char *key, const char *path, const char **out,
		      mg_field_errors *errs)
{
	*out = NULL;
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!n || cJSON_IsNull(n))
		return 0;
	if (!cJSON_IsString(n))
		return wrong_type(errs, path, n, "string");
	*out = n->valuestring;
	return 0;
}

static int opt_object(const cJSON *obj, const char *key, const char *path, const cJSON **out,
		      mg_field_errors *errs)
{
	*out = NULL;
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!n || cJSON_IsNull(n))
		return 0;
	if (!cJSON_IsObject(n))
		return wrong_type(errs, path, n, "object");
	*out = n;
	return 0;
}

/* Accumulates: negative (ENOMEM) wins, type errors are remembered but decoding goes on. */
#define TRY(expr)                                     \
	do {                                          \
		int rc_ = (expr);                     \
		if (rc_ < 0)                          \
			return rc_;                   \
	} while (0)

static int decode_meta(mg_meta *m, const cJSON *obj, mg_field_errors *errs)
{
	memset(m, 0, sizeof(*m));
	const cJSON *meta;
	TRY(opt_object(obj, "metadata", "metadata", &meta, errs));
	if (!meta)
		return 0;
	TRY(opt_string(meta, "name", "metadata.name", &m->name, errs));
	TRY(opt_string(meta, "namespace", "metadata.namespace", &m->ns, errs));
	TRY(opt_string(meta, "deletionTimestamp", "metadata.deletionTimestamp",
		       &m->deletion_timestamp, errs));
	TRY(opt_object(meta, "annotations", "metadata.annotations", &m->annotations, errs));
	for (const cJSON *a = m->annotations ? m->annotations->child : NULL; a; a = a->next) {
		if (cJSON_IsString(a))
			continue;
		char *path = mg_asprintf("metadata.annotations[%s]", a->string);
		if (!path)
			return MG_ENOMEM;
		int rc = wrong_type(errs, path, a, "string");
		free(path);
		TRY(rc);
	}
	const cJSON *fin = cJSON_GetObjectItemCaseSensitive(meta, "finalizers");
	if (fin && !cJSON_IsNull(fin)) {
		if (!cJSON_IsArray(fin))
			TRY(wrong_type(errs, "metadata.finalizers", fin, "array"));
		else
			m->finalizers = fin;
	}
	return 0;
}

static int decode_condition(mg_tmr *t, const cJSON *obj, mg_field_errors *errs)
{
	const cJSON *status;
	TRY(opt_object(obj, "status", "status", &status, errs));
	const cJSON *conds = cJSON_GetObjectItemCaseSensitive(status, "conditions");
	if (!conds || cJSON_IsNull(conds))
		return 0;
	if (!cJSON_IsArray(conds))
		return wrong_type(errs, "status.conditions", conds, "array") < 0 ? MG_ENOMEM : 0;
	const cJSON *c = cJSON_GetArrayItem(conds, 0);
	if (!c || !cJSON_IsObject(c))
		return 0;
	mg_tmr_condition *k = &t->condition;
	t->has_condition = true;
	TRY(opt_string(c, "state", "status.conditions[0].state", &k->state, errs));
	TRY(opt_string(c, "message", "status.conditions[0].message", &k->message, errs));
	TRY(opt_string(c, "localPVCName", "status.conditions[0].localPVCName", &k->local_pvc_name,
		       errs));
	TRY(opt_string(c, "remoteVolumeHandle", "status.conditions[0].remoteVolumeHandle",
		       &k->remote_volume_handle, errs));
	TRY(opt_string(c, "localVolumeHandle", "status.conditions[0].localVolumeHandle",
		       &k->local_volume_handle, errs));
	TRY(opt_string(c, "replicationPolicy", "status.conditions[0].replicationPolicy",
		       &k->replication_policy, errs));
	TRY(opt_string(c, "replicationSchedule", "status.conditions[0].replicationSchedule",
		       &k->replication_schedule, errs));
	return 0;
}

static int decode_tmr(mg_tmr *out, const cJSON *obj, mg_field_errors *errs)
{
	memset(out, 0, sizeof(*out));
	TRY(decode_meta(&out->meta, obj, errs));
	const cJSON *spec;
	TRY(opt_object(obj, "spec", "spec", &spec, errs));
	TRY(decode_condition(out, obj, errs));
	if (!spec)
		return 0;
	out->has_spec = true;
	TRY(opt_string(spec, "state", "spec.state", &out->state, errs));
	TRY(opt_string(spec, "replicationPolicy", "spec.replicationPolicy",
		       &out->replication_policy, errs));
	TRY(opt_string(spec, "replicationSchedule", "spec.replicationSchedule",
		       &out->replication_schedule, errs));
	const cJSON *maps = cJSON_GetObjectItemCaseSensitive(spec, "volumeMappings");
	if (!maps || cJSON_IsNull(maps))
		return 0;
	if (!cJSON_IsArray(maps))
		return wrong_type(errs, "spec.volumeMappings", maps, "array") < 0 ? MG_ENOMEM : 0;
	out->has_mappings = true;
	size_t n = (size_t)cJSON_GetArraySize(maps);
	out->mappings = calloc(n ? n : 1, sizeof(*out->mappings));
	if (!out->mappings)
		return MG_ENOMEM;
	out->nmappings = n;
	size_t i = 0;
	for (const cJSON *m = maps->child; m; m = m->next, i++) {
		char path[96];
		snprintf(path, sizeof(path), "spec.volumeMappings[%zu]", i);
		if (!cJSON_IsObject(m)) {
			TRY(wrong_type(errs, path, m, "object"));
			continue;
		}
		char p1[128], p2[128], p3[128];
		snprintf(p1, sizeof(p1), "%s.localPVCName", path);
		snprintf(p2, sizeof(p2), "%s.remoteVolumeHandle", path);
		snprintf(p3, sizeof(p3), "%s.promotedSnapshotHandle", path);
		TRY(opt_string(m, "localPVCName", p1, &out->mappings[i].local_pvc_name, errs));
		TRY(opt_string(m, "remoteVolumeHandle", p2, &out->mappings[i].remote_volume_handle,
			       errs));
		TRY(opt_string(m, "promotedSnapshotHandle", p3,
			       &out->mappings[i].promoted_snapshot_handle, errs));
	}
	return 0;
}

int mg_tmr_decode(mg_tmr *out, const cJSON *obj, mg_field_errors *errs)
{
	int rc = decode_tmr(out, obj, errs);
	if (rc < 0)
		mg_tmr_free(out); /* callers need not free after a failed decode */
	return rc;
}

void mg_tmr_free(mg_tmr *tmr)
{
	if (!tmr)
		return;
	free(tmr->mappings);
	tmr->mappings = NULL;
	tmr->nmappings = 0;
}

int mg_tamu_decode(mg_tamu *out, const cJSON *obj, mg_field_errors *errs)
{
	memset(out, 0, sizeof(*out));
	TRY(decode_meta(&out->meta, obj, errs));
	TRY(opt_object(obj, "spec", "spec", &out->spec, errs));
	TRY(opt_string(out->spec, "tridentMirrorRelationshipName",
		       "spec.tridentMirrorRelationshipName", &out->tmr_name, errs));
	TRY(opt_string(out->spec, "snapshotHandle", "spec.snapshotHandle", &out->snapshot_handle,
		       errs));
	const cJSON *status;
	TRY(opt_object(obj, "status", "status", &status, errs));
	TRY(opt_string(status, "state", "status.state", &out->state, errs));
	return 0;
}

int mg_tsi_decode(mg_tsi *out, const cJSON *obj, mg_field_errors *errs)
{
	memset(out, 0, sizeof(*out));
	TRY(decode_meta(&out->meta, obj, errs));
	TRY(opt_object(obj, "spec", "spec", &out->spec, errs));
	TRY(opt_string(out->spec, "snapshotName", "spec.snapshotName", &out->snapshot_name, errs));
	const cJSON *docs = cJSON_GetObjectItemCaseSensitive(out->spec, "snapshot-name");
	if (docs) {
		out->has_docs_spelling = true;
		out->docs_snapshot_name = cJSON_IsString(docs) ? docs->valuestring : NULL;
	}
	const cJSON *status;
	TRY(opt_object(obj, "status", "status", &status, errs));
	TRY(opt_string(status, "snapshotHandle", "status.snapshotHandle", &out->snapshot_handle,
		       errs));
	return 0;
}

int mg_pvc_decode(mg_pvc *out, const cJSON *obj, mg_field_errors *errs)
{
	memset(out, 0, sizeof(*out));
	TRY(decode_meta(&out->meta, obj, errs));
	const cJSON *spec, *status;
	TRY(opt_object(obj, "spec", "spec", &spec, errs));
	TRY(opt_string(spec, "storageClassName", "spec.storageClassName",
		       &out->storage_class_name, errs));
	TRY(opt_string(spec, "volumeName", "spec.volumeName", &out->volume_name, errs));
	TRY(opt_object(obj, "status", "status", &status, errs));
	TRY(opt_string(status, "phase", "status.phase", &out->phase, errs));
	out->mirror_relationship = mg_meta_annotation(&out->meta, MG_ANN_MIRROR_RELATIONSHIP);
	return 0;
}

int mg_pv_decode(mg_pv *out, const cJSON *obj, mg_field_errors *errs)
{
	memset(out, 0, sizeof(*out));
	TRY(decode_meta(&out->meta, obj, errs));
	const cJSON *spec, *csi, *attrs, *claim;
	TRY(opt_object(obj, "spec", "spec", &spec, errs));
	TRY(opt_object(spec, "csi", "spec.csi", &csi, errs));
	TRY(opt_string(csi, "driver", "spec.csi.driver", &out->csi_driver, errs));
	TRY(opt_string(csi, "volumeHandle", "spec.csi.volumeHandle", &out->volume_handle, errs));
	TRY(opt_object(csi, "volumeAttributes", "spec.csi.volumeAttributes", &attrs, errs));
	TRY(opt_string(attrs, "internalName", "spec.csi.volumeAttributes.internalName",
		       &out->internal_name, errs));
	TRY(opt_object(spec, "claimRef", "spec.claimRef", &claim, errs));
	TRY(opt_string(claim, "namespace", "spec.claimRef.namespace", &out->claim_namespace, errs));
	TRY(opt_string(claim, "name", "spec.claimRef.name", &out->claim_name, errs));
	return 0;
}

int mg_storage_class_decode(mg_storage_class *out, const cJSON *obj, mg_field_errors *errs)
{
	memset(out, 0, sizeof(*out));
	TRY(decode_meta(&out->meta, obj, errs));
	TRY(opt_string(obj, "provisioner", "provisioner", &out->provisioner, errs));
	TRY(opt_object(obj, "parameters", "parameters", &out->parameters, errs));
	for (const cJSON *p = out->parameters ? out->parameters->child : NULL; p; p = p->next) {
		if (cJSON_IsString(p))
			continue;
		char *path = mg_asprintf("parameters[%s]", p->string);
		if (!path)
			return MG_ENOMEM;
		int rc = wrong_type(errs, path, p, "string");
		free(path);
		TRY(rc);
	}
	const char *def = mg_meta_annotation(&out->meta, "storageclass.kubernetes.io/is-default-class");
	out->is_default = def && strcmp(def, "true") == 0;
	return 0;
}

const char *mg_sc_param(const mg_storage_class *sc, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(sc->parameters, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

const char *mg_meta_annotation(const mg_meta *meta, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(meta->annotations, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

bool mg_meta_has_finalizer(const mg_meta *meta, const char *finalizer)
{
	for (const cJSON *f = meta->finalizers ? meta->finalizers->child : NULL; f; f = f->next)
		if (cJSON_IsString(f) && strcmp(f->valuestring, finalizer) == 0)
			return true;
	return false;
}
