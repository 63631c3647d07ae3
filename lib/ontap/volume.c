/* Volumes and snapshots. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/ontap/job.h"
#include "mirrorgate/ontap/volume.h"
#include "mirrorgate/util/strbuf.h"

#define VOLUME_FIELDS "name,uuid,svm.name,type,state,size,nas.path"

static int volume_each(const cJSON *rec, void *ctx)
{
	mg_ontap_volume *v = ctx;
	if (v->uuid[0])
		return MG_ECONFLICT; /* name+svm is unique: a second record is a broken answer */
	if (mg_ontap_json_str(v->name, sizeof(v->name), rec, "name") ||
	    mg_ontap_json_str(v->uuid, sizeof(v->uuid), rec, "uuid") ||
	    mg_ontap_json_str(v->svm_name, sizeof(v->svm_name), rec, "svm.name") ||
	    mg_ontap_json_str(v->type, sizeof(v->type), rec, "type") ||
	    mg_ontap_json_str(v->state, sizeof(v->state), rec, "state") ||
	    mg_ontap_json_str(v->nas_path, sizeof(v->nas_path), rec, "nas.path"))
		return MG_EPARSE;
	long long size = mg_ontap_json_ll(rec, "size", 0);
	v->size = size > 0 ? (uint64_t)size : 0;
	return v->uuid[0] ? 0 : MG_EPARSE;
}

int mg_ontap_volume_get(mg_ontap_client *c, const char *svm_name, const char *name,
			mg_ontap_volume *out, mg_ontap_error *err)
{
	if (!c || !svm_name || !name || !out)
		return mg_ontap_bad_args(err, __func__);
	memset(out, 0, sizeof(*out));
	mg_strbuf q = MG_STRBUF_INIT;
	const mg_ontap_param params[] = {
		{"svm.name", svm_name}, {"name", name}, {"fields", VOLUME_FIELDS}};
	int rc = mg_ontap_query_build(&q, params, 3);
	if (rc == 0)
		rc = mg_ontap_collect(c, "/api/storage/volumes", q.data, volume_each, out, err);
	mg_strbuf_free(&q);
	if (rc == 0 && !out->uuid[0])
		rc = mg_ontap_not_found(err, "volume %s:%s", svm_name, name);
	return rc;
}

int mg_ontap_volume_create(mg_ontap_client *c, const mg_ontap_volume_spec *spec,
			   mg_ontap_volume *out, mg_ontap_error *err)
{
	int rc = MG_EINVAL;
	cJSON *body = NULL;
	if (!c || !spec || !spec->svm_name || !spec->name || spec->size == 0 ||
	    (spec->type && strcmp(spec->type, "rw") != 0 && strcmp(spec->type, "dp") != 0)) {
		mg_ontap_error_set(err, rc, MG_ONTAP_SRC_CLIENT,
				   "volume create needs svm, name, size > 0 and type rw or dp");
		goto out;
	}
	rc = MG_ENOMEM;
	body = cJSON_CreateObject();
	cJSON *svm = cJSON_AddObjectToObject(body, "svm");
	if (!svm || !cJSON_AddStringToObject(svm, "name", spec->svm_name) ||
	    !cJSON_AddStringToObject(body, "name", spec->name) ||
	    !cJSON_AddStringToObject(body, "type", spec->type ? spec->type : "rw") ||
	    !cJSON_AddNumberToObject(body, "size", (double)spec->size))
		goto out;
	if (spec->aggregate) {
		cJSON *aggrs = cJSON_AddArrayToObject(body, "aggregates");
		cJSON *a = cJSON_CreateObject();
		if (!aggrs || !a || !cJSON_AddItemToArray(aggrs, a) ||
		    !cJSON_AddStringToObject(a, "name", spec->aggregate))
			goto out;
	}
	rc = mg_ontap_request_wait(c, "POST", "/api/storage/volumes", body, err);
	if (rc == 0 && out)
		rc = mg_ontap_volume_get(c, spec->svm_name, spec->name, out, err);
out:
	cJSON_Delete(body);
	return rc;
}

static int snapshot_each(const cJSON *rec, void *ctx)
{
	mg_ontap_snapshot_list *l = ctx;
	mg_ontap_snapshot *s = mg_ontap_array_push((void **)&l->items, &l->len, sizeof(*s));
	if (!s)
		return MG_ENOMEM;
	if (mg_ontap_json_str(s->name, sizeof(s->name), rec, "name") ||
	    mg_ontap_json_str(s->uuid, sizeof(s->uuid), rec, "uuid") ||
	    mg_ontap_json_str(s->create_time, sizeof(s->create_time), rec, "create_time") ||
	    mg_ontap_json_str(s->snapmirror_label, sizeof(s->snapmirror_label), rec,
			      "snapmirror_label"))
		return MG_EPARSE;
	return 0;
}

void mg_ontap_snapshot_list_free(mg_ontap_snapshot_list *list)
{
	if (list)
		mg_ontap_array_free((void **)&list->items, &list->len);
}

static int snapshots(mg_ontap_client *c, const char *volume_uuid, const char *name,
		     mg_ontap_snapshot_list *out, mg_ontap_error *err)
{
	if (!c || !volume_uuid || !out)
		return mg_ontap_bad_args(err, __func__);
	char *esc = mg_ontap_escape(volume_uuid);
	char *path = esc ? mg_asprintf("/api/storage/volumes/%s/snapshots", esc) : NULL;
	free(esc);
	if (!path)
		return MG_ENOMEM;
	const mg_ontap_param q[] = {{"fields", "name,uuid,create_time,snapmirror_label"},
				    {"name", name}};
	int rc = MG_ONTAP_COLLECT_LIST(c, path, q, snapshot_each, out, err);
	free(path);
	return rc;
}

int mg_ontap_snapshots(mg_ontap_client *c, const char *volume_uuid,
			   mg_ontap_snapshot_list *out, mg_ontap_error *err)
{
	return snapshots(c, volume_uuid, NULL, out, err);
}

int mg_ontap_snapshot_get(mg_ontap_client *c, const char *volume_uuid, const char *name,
			  mg_ontap_snapshot *out, mg_ontap_error *err)
{
	mg_ontap_snapshot_list l;
	if (!name || !out)
		return mg_ontap_bad_args(err, __func__);
	int rc = snapshots(c, volume_uuid, name, &l, err);
	if (rc != 0)
		return rc;
	if (l.len == 0)
		rc = mg_ontap_not_found(err, "snapshot %s on volume %s", name, volume_uuid);
	else
		*out = l.items[0];
	mg_ontap_snapshot_list_free(&l);
	return rc;
}

int mg_ontap_snapshot_create(mg_ontap_client *c, const char *volume_uuid, const char *name,
			     const char *label, mg_ontap_error *err)
{
	int rc = MG_EINVAL;
	cJSON *body = NULL;
	char *esc = NULL, *path = NULL;
	if (!c || !volume_uuid || !name || !*name) {
		rc = mg_ontap_bad_args(err, __func__);
		goto out;
	}
	rc = MG_ENOMEM;
	body = cJSON_CreateObject();
	if (!body || !cJSON_AddStringToObject(body, "name", name) ||
	    (label && !cJSON_AddStringToObject(body, "snapmirror_label", label)) ||
	    !(esc = mg_ontap_escape(volume_uuid)) ||
	    !(path = mg_asprintf("/api/storage/volumes/%s/snapshots", esc)))
		goto out;
	rc = mg_ontap_request_wait(c, "POST", path, body, err);
out:
	free(esc);
	free(path);
	cJSON_Delete(body);
	return rc;
}
