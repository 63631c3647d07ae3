/* SnapMirror relationships and transfers. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/ontap/job.h"
#include "mirrorgate/ontap/snapmirror.h"
#include "mirrorgate/util/strbuf.h"

/* ONTAP 9.8 knows only these; newer fields are added by version (an unknown field fails the
 * whole request with 262197). */
#define REL_FIELDS_98                                                                          \
	"uuid,source.path,source.svm.name,source.cluster.name,destination.path,"               \
	"destination.svm.name,policy.name,policy.type,state,healthy,unhealthy_reason,"         \
	"exported_snapshot,lag_time,transfer.uuid,transfer.state,transfer.bytes_transferred"
#define REL_FIELDS_911 REL_FIELDS_98 ",transfer.end_time,last_transfer_type,transfer_schedule.name"

#define CREATE_READBACK_ATTEMPTS 4

static int rel_fields(mg_ontap_client *c, const char **out, mg_ontap_error *err)
{
	mg_ontap_version v;
	int rc = mg_ontap_client_version(c, &v, err);
	if (rc == 0)
		*out = mg_ontap_version_at_least(&v, 9, 11, 0) ? REL_FIELDS_911 : REL_FIELDS_98;
	return rc;
}

static int rel_decode(mg_ontap_relationship *r, const cJSON *rec)
{
	memset(r, 0, sizeof(*r));
	if (mg_ontap_json_str(r->uuid, sizeof(r->uuid), rec, "uuid") ||
	    mg_ontap_json_str(r->source_path, sizeof(r->source_path), rec, "source.path") ||
	    mg_ontap_json_str(r->source_svm, sizeof(r->source_svm), rec, "source.svm.name") ||
	    mg_ontap_json_str(r->source_cluster, sizeof(r->source_cluster), rec,
			      "source.cluster.name") ||
	    mg_ontap_json_str(r->destination_path, sizeof(r->destination_path), rec,
			      "destination.path") ||
	    mg_ontap_json_str(r->destination_svm, sizeof(r->destination_svm), rec,
			      "destination.svm.name") ||
	    mg_ontap_json_str(r->policy_name, sizeof(r->policy_name), rec, "policy.name") ||
	    mg_ontap_json_str(r->policy_type, sizeof(r->policy_type), rec, "policy.type") ||
	    mg_ontap_json_str(r->state, sizeof(r->state), rec, "state") ||
	    mg_ontap_json_str(r->exported_snapshot, sizeof(r->exported_snapshot), rec,
			      "exported_snapshot") ||
	    mg_ontap_json_str(r->lag_time, sizeof(r->lag_time), rec, "lag_time") ||
	    mg_ontap_json_str(r->transfer_uuid, sizeof(r->transfer_uuid), rec, "transfer.uuid") ||
	    mg_ontap_json_str(r->transfer_state, sizeof(r->transfer_state), rec, "transfer.state") ||
	    mg_ontap_json_str(r->transfer_end_time, sizeof(r->transfer_end_time), rec,
			      "transfer.end_time") ||
	    mg_ontap_json_str(r->last_transfer_type, sizeof(r->last_transfer_type), rec,
			      "last_transfer_type") ||
	    mg_ontap_json_str(r->transfer_schedule, sizeof(r->transfer_schedule), rec,
			      "transfer_schedule.name"))
		return MG_EPARSE;
	if (!r->uuid[0] || !r->destination_path[0])
		return MG_EPARSE;
	/* healthy is missing only in shapes we did not ask for: be pessimistic. */
	r->healthy = mg_ontap_json_bool(rec, "healthy", false);
	r->transfer_bytes = mg_ontap_json_ll(rec, "transfer.bytes_transferred", 0);
	const cJSON *reasons = cJSON_GetObjectItemCaseSensitive(rec, "unhealthy_reason");
	const cJSON *first = cJSON_IsArray(reasons) ? cJSON_GetArrayItem(reasons, 0) : NULL;
	if (first) {
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(first, "code");
		if (cJSON_IsNumber(code))
			snprintf(r->unhealthy_code, sizeof(r->unhealthy_code), "%.0f", code->valuedouble);
		else if (cJSON_IsString(code))
			snprintf(r->unhealthy_code, sizeof(r->unhealthy_code), "%s", code->valuestring);
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(first, "message");
		if (cJSON_IsString(m))
			snprintf(r->unhealthy_reason, sizeof(r->unhealthy_reason), "%s", m->valuestring);
	}
	return 0;
}

static int rel_each(const cJSON *rec, void *ctx)
{
	mg_ontap_relationship_list *l = ctx;
	mg_ontap_relationship *r = mg_ontap_array_push((void **)&l->items, &l->len, sizeof(*r));
	if (!r)
		return MG_ENOMEM;
	return rel_decode(r, rec);
}

void mg_ontap_relationship_list_free(mg_ontap_relationship_list *list)
{
	if (list)
		mg_ontap_array_free((void **)&list->items, &list->len);
}

int mg_ontap_relationships(mg_ontap_client *c, const mg_ontap_relationship_filter *filter,
			       mg_ontap_relationship_list *out, mg_ontap_error *err)
{
	const char *fields = NULL;
	if (!c || !out)
		return mg_ontap_bad_args(err, __func__);
	int rc = rel_fields(c, &fields, err);
	if (rc != 0)
		return rc;
	const mg_ontap_relationship_filter none = {0};
	const mg_ontap_relationship_filter *f = filter ? filter : &none;
	const mg_ontap_param q[] = {{"fields", fields},
				    {"list_destinations_only", f->list_destinations_only ? "true" : NULL},
				    {"source.path", f->source_path},
				    {"destination.path", f->destination_path}};
	return MG_ONTAP_COLLECT_LIST(c, "/api/snapmirror/relationships", q, rel_each, out, err);
}

int mg_ontap_relationship_list_destinations(mg_ontap_client *c, const char *source_path,
					    mg_ontap_relationship_list *out, mg_ontap_error *err)
{
	mg_ontap_relationship_filter f = {source_path, NULL, true};
	return mg_ontap_relationships(c, &f, out, err);
}

int mg_ontap_relationship_get(mg_ontap_client *c, const mg_ontap_relationship_filter *filter,
			      mg_ontap_relationship *out, mg_ontap_error *err)
{
	mg_ontap_relationship_list l;
	if (!filter || !out || (!filter->source_path && !filter->destination_path))
		return mg_ontap_bad_args(err, __func__);
	int rc = mg_ontap_relationships(c, filter, &l, err);
	if (rc != 0)
		return rc;
	if (l.len == 0) {
		rc = mg_ontap_not_found(err, "SnapMirror relationship with source %s, destination %s",
					filter->source_path ? filter->source_path : "*",
					filter->destination_path ? filter->destination_path : "*");
	} else if (l.len > 1) {
		rc = MG_ECONFLICT;
		mg_ontap_error_set(err, rc, MG_ONTAP_SRC_CLIENT,
				   "%zu SnapMirror relationships match; narrow the filter", l.len);
	} else {
		*out = l.items[0];
	}
	mg_ontap_relationship_list_free(&l);
	return rc;
}

static char *rel_path(const char *uuid, const char *suffix)
{
	char *esc = mg_ontap_escape(uuid);
	char *p = esc ? mg_asprintf("/api/snapmirror/relationships/%s%s", esc, suffix) : NULL;
	free(esc);
	return p;
}

int mg_ontap_relationship_get_uuid(mg_ontap_client *c, const char *uuid,
				   mg_ontap_relationship *out, mg_ontap_error *err)
{
	const char *fields = NULL;
	char *path = NULL, *full = NULL;
	cJSON *body = NULL;
	int rc = MG_EINVAL;
	if (!c || !uuid || !out) {
		rc = mg_ontap_bad_args(err, __func__);
		goto out;
	}
	if ((rc = rel_fields(c, &fields, err)) != 0)
		goto out;
	rc = MG_ENOMEM;
	if (!(path = rel_path(uuid, "")) || !(full = mg_asprintf("%s?fields=%s", path, fields)))
		goto out;
	int status;
	if ((rc = mg_ontap_request(c, "GET", full, NULL, &status, &body, err)) != 0)
		goto out;
	if ((rc = rel_decode(out, body)) != 0)
		mg_ontap_error_set(err, rc, MG_ONTAP_SRC_CLIENT, "relationship %s: malformed", uuid);
out:
	cJSON_Delete(body);
	free(path);
	free(full);
	return rc;
}

static cJSON *path_object(cJSON *parent, const char *key, const char *path)
{
	cJSON *o = cJSON_AddObjectToObject(parent, key);
	return o && cJSON_AddStringToObject(o, "path", path) ? o : NULL;
}

int mg_ontap_relationship_create(mg_ontap_client *c, const mg_ontap_relationship_spec *spec,
				 char out_uuid[MG_ONTAP_UUID_MAX], mg_ontap_error *err)
{
	int rc = MG_EINVAL;
	cJSON *body = NULL;
	if (!c || !spec || !spec->source_path || !spec->destination_path) {
		mg_ontap_error_set(err, rc, MG_ONTAP_SRC_CLIENT, "source and destination paths required");
		goto out;
	}
	rc = MG_ENOMEM;
	body = cJSON_CreateObject();
	if (!body || !path_object(body, "source", spec->source_path) ||
	    !path_object(body, "destination", spec->destination_path))
		goto out;
	if (spec->policy) {
		cJSON *p = cJSON_AddObjectToObject(body, "policy");
		if (!p || !cJSON_AddStringToObject(p, "name", spec->policy))
			goto out;
	}
	if (spec->schedule) {
		cJSON *s = cJSON_AddObjectToObject(body, "transfer_schedule");
		if (!s || !cJSON_AddStringToObject(s, "name", spec->schedule))
			goto out;
	}
	rc = mg_ontap_request_wait(c, "POST", "/api/snapmirror/relationships", body, err);
	if (rc == 0 && out_uuid) {
		/* A new relationship can stay invisible to GET for a moment (seen with Ansible):
		 * look a few times before calling the outcome unknown. */
		mg_ontap_relationship r;
		mg_ontap_relationship_filter f = {NULL, spec->destination_path, false};
		uint64_t wait = c->job_initial_interval_ms;
		for (int attempt = 0;; attempt++) {
			rc = mg_ontap_relationship_get(c, &f, &r, err);
			if (rc != MG_ENOTFOUND || attempt == CREATE_READBACK_ATTEMPTS - 1)
				break;
			c->sleep_ms(c->clock_ctx, wait);
			wait *= 2;
		}
		if (rc == 0) {
			snprintf(out_uuid, MG_ONTAP_UUID_MAX, "%s", r.uuid);
		} else if (rc == MG_ENOTFOUND) {
			rc = MG_EUNKNOWN;
			mg_ontap_error_set(err, rc, MG_ONTAP_SRC_UNKNOWN_OUTCOME,
					   "relationship to %s was created but is not visible yet; "
					   "re-read it later", spec->destination_path);
		}
	}
out:
	cJSON_Delete(body);
	return rc;
}

int mg_ontap_relationship_set_state(mg_ontap_client *c, const char *uuid,
				    const mg_ontap_state_change *change, mg_ontap_error *err)
{
	int rc = MG_EINVAL;
	cJSON *body = NULL;
	char *path = NULL;
	if (!c || !uuid || !change || !change->state) {
		mg_ontap_error_set(err, rc, MG_ONTAP_SRC_CLIENT, "relationship uuid and state required");
		goto out;
	}
	rc = MG_ENOMEM;
	body = cJSON_CreateObject();
	if (!body || !cJSON_AddStringToObject(body, "state", change->state) ||
	    (change->restore_to_snapshot &&
	     !cJSON_AddStringToObject(body, "restore_to_snapshot", change->restore_to_snapshot)) ||
	    (change->preserve && !cJSON_AddTrueToObject(body, "preserve")) ||
	    !(path = rel_path(uuid, change->force ? "?force=true" : "")))
		goto out;
	rc = mg_ontap_request_wait(c, "PATCH", path, body, err);
out:
	free(path);
	cJSON_Delete(body);
	return rc;
}

int mg_ontap_relationship_delete(mg_ontap_client *c, const char *uuid,
				 enum mg_ontap_delete_mode mode, mg_ontap_error *err)
{
	static const char *const flags[] = {"", "?destination_only=true", "?source_only=true",
					    "?source_info_only=true"};
	int rc = MG_EINVAL;
	char *path = NULL;
	if (!c || !uuid || (unsigned)mode > MG_ONTAP_DELETE_SOURCE_INFO_ONLY) {
		rc = mg_ontap_bad_args(err, __func__);
		goto out;
	}
	rc = MG_ENOMEM;
	if (!(path = rel_path(uuid, flags[mode])))
		goto out;
	rc = mg_ontap_request_wait(c, "DELETE", path, NULL, err);
out:
	free(path);
	return rc;
}

int mg_ontap_transfer_start(mg_ontap_client *c, const char *relationship_uuid,
			    const char *source_snapshot, char out_uuid[MG_ONTAP_UUID_MAX],
			    mg_ontap_error *err)
{
	int rc = MG_EINVAL;
	cJSON *body = NULL, *resp = NULL;
	char *path = NULL;
	if (!c || !relationship_uuid) {
		rc = mg_ontap_bad_args(err, __func__);
		goto out;
	}
	rc = MG_ENOMEM;
	body = cJSON_CreateObject();
	if (!body || (source_snapshot &&
		      !cJSON_AddStringToObject(body, "source_snapshot", source_snapshot)) ||
	    !(path = rel_path(relationship_uuid, "/transfers")))
		goto out;
	int status;
	rc = mg_ontap_request(c, "POST", path, body, &status, &resp, err);
	if (rc != 0)
		goto out;
	if (out_uuid) {
		out_uuid[0] = '\0';
		/* The 201 body is optional in ONTAP; records[0].uuid when it is there. */
		const cJSON *rec = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(resp, "records"), 0);
		if (mg_ontap_json_str(out_uuid, MG_ONTAP_UUID_MAX, rec ? rec : resp, "uuid") != 0)
			out_uuid[0] = '\0';
	}
	/* Some ONTAP versions answer 202 with a job: honour it. */
	rc = mg_ontap_job_wait_response(c, resp, err);
out:
	free(path);
	cJSON_Delete(body);
	cJSON_Delete(resp);
	return rc;
}

int mg_ontap_transfer_abort(mg_ontap_client *c, const char *relationship_uuid,
			    const char *transfer_uuid, bool hard, mg_ontap_error *err)
{
	int rc = MG_EINVAL;
	cJSON *body = NULL;
	char *path = NULL, *xesc = NULL, *suffix = NULL;
	if (!c || !relationship_uuid || !transfer_uuid) {
		rc = mg_ontap_bad_args(err, __func__);
		goto out;
	}
	rc = MG_ENOMEM;
	body = cJSON_CreateObject();
	if (!body || !cJSON_AddStringToObject(body, "state", hard ? "hard_aborted" : "aborted") ||
	    !(xesc = mg_ontap_escape(transfer_uuid)) ||
	    !(suffix = mg_asprintf("/transfers/%s", xesc)) ||
	    !(path = rel_path(relationship_uuid, suffix)))
		goto out;
	rc = mg_ontap_request_wait(c, "PATCH", path, body, err);
out:
	free(path);
	free(xesc);
	free(suffix);
	cJSON_Delete(body);
	return rc;
}
