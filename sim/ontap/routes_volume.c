/* /api/storage/volumes and their snapshots. */
#include "http.h"

#include <stdio.h>
#include <string.h>

static bool seg(const sim_req *rq, size_t i, const char *s)
{
	return i < rq->nseg && strcmp(rq->segs[i], s) == 0;
}

static const char *jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void volume_post(sim_req *rq, sim_resp *rs)
{
	const cJSON *b = rq->body;
	const char *name = jstr(b, "name");
	const cJSON *svm = cJSON_GetObjectItemCaseSensitive(b, "svm");
	const char *svm_name = jstr(svm, "name");
	const char *svm_uuid = jstr(svm, "uuid");
	const char *type = jstr(b, "type");
	const cJSON *size = cJSON_GetObjectItemCaseSensitive(b, "size");
	if (!svm_name && !svm_uuid) {
		sim_resp_error(rs, 400, "2621707", "Missing value for required field \"svm\".", "svm");
		return;
	}
	if (!name || !*name) {
		sim_resp_error(rs, 400, "2", "Missing value for required field \"name\".", "name");
		return;
	}
	/* Enum input is accepted case-insensitively (Trident posts "DP"). */
	char t[8] = "rw";
	if (type) {
		if (strcasecmp(type, "rw") != 0 && strcasecmp(type, "dp") != 0) {
			sim_resp_error(rs, 400, "2", "Invalid value for field \"type\".", "type");
			return;
		}
		snprintf(t, sizeof(t), "%s", strcasecmp(type, "dp") == 0 ? "dp" : "rw");
	}
	if (!cJSON_IsNumber(size) || size->valuedouble < 20.0 * 1024 * 1024) {
		sim_resp_error(rs, 400, "917534", "The size is too small: the minimum is 20MB.", "size");
		return;
	}
	if (size->valuedouble > SIM_MAX_VOLUME_SIZE) {
		sim_resp_error(rs, 400, "917535", "The size is too large: the maximum is 1PB.", "size");
		return;
	}
	sim_svm *s = svm_name ? sim_svm_find(rq->f, rq->cl, svm_name)
			      : sim_svm_find_uuid(rq->f, rq->cl, svm_uuid);
	if (!s) {
		sim_resp_error(rs, 400, "2621462", "The target SVM does not exist.", "svm.name");
		return;
	}
	cJSON *args = cJSON_CreateObject();
	cJSON_AddStringToObject(args, "svm", s->name);
	cJSON_AddStringToObject(args, "name", name);
	cJSON_AddStringToObject(args, "type", t);
	cJSON_AddNumberToObject(args, "size", size->valuedouble);
	sim_job *j = sim_job_start(rq->f, rq->cl, "POST", "/api/storage/volumes", SIM_OP_VOLUME_CREATE,
				   args);
	if (!j)
		sim_resp_error(rs, 500, "1", "out of memory", NULL);
	else
		sim_resp_job_wait(rq, rs, j, 201);
}

static void volume_delete(sim_req *rq, sim_resp *rs, sim_volume *v)
{
	sim_err e = {0};
	if (sim_volume_delete_check(rq->f, v, &e) != 0) {
		sim_resp_err(rs, &e);
		return;
	}
	char path[SIM_MSG];
	snprintf(path, sizeof(path), "/api/storage/volumes/%s", v->uuid);
	cJSON *args = cJSON_CreateObject();
	if (args)
		cJSON_AddStringToObject(args, "volume", v->uuid);
	sim_job *j = args ? sim_job_start(rq->f, rq->cl, "DELETE", path, SIM_OP_VOLUME_DELETE, args)
			  : NULL;
	if (!j)
		sim_resp_error(rs, 500, "1", "out of memory", NULL);
	else
		sim_resp_job_wait(rq, rs, j, 200);
}

static void snapshot_routes(sim_req *rq, sim_resp *rs, sim_volume *v)
{
	bool get = strcmp(rq->method, "GET") == 0;
	if (rq->nseg == 5) {
		if (get) {
			cJSON *all = cJSON_CreateArray();
			for (size_t i = 0; i < v->snaps.len; i++)
				cJSON_AddItemToArray(all, sim_json_snapshot(v, v->snaps.items[i]));
			sim_respond_collection(rq, rs, "snapshot", all);
			return;
		}
		if (strcmp(rq->method, "POST") != 0) {
			sim_resp_error(rs, 405, "3", "The method is not allowed for this resource.", NULL);
			return;
		}
		const char *name = jstr(rq->body, "name");
		sim_err e = {0};
		/* Refusals ONTAP knows up front come back synchronously. */
		if (!name || !*name)
			sim_err_set(&e, 400, "2", "name", "Missing value for required field \"name\".");
		else if (strcmp(v->type, "rw") != 0)
			sim_err_set(&e, 400, "1638461", NULL,
				    "Snapshots can only be created on read/write (RW) volumes.");
		else if (sim_snapshot_find(v, name))
			sim_err_set(&e, 409, "525059", "name",
				    "A snapshot with the specified name already exists.");
		if (e.status) {
			sim_resp_err(rs, &e);
			return;
		}
		cJSON *args = cJSON_CreateObject();
		cJSON_AddStringToObject(args, "volume", v->uuid);
		cJSON_AddStringToObject(args, "name", name);
		const char *label = jstr(rq->body, "snapmirror_label");
		if (label)
			cJSON_AddStringToObject(args, "label", label);
		char path[SIM_MSG];
		snprintf(path, sizeof(path), "/api/storage/volumes/%s/snapshots", v->uuid);
		sim_job *j = sim_job_start(rq->f, rq->cl, "POST", path, SIM_OP_SNAPSHOT_CREATE, args);
		if (!j)
			sim_resp_error(rs, 500, "1", "out of memory", NULL);
		else
			sim_resp_job_wait(rq, rs, j, 201);
		return;
	}
	sim_snapshot *s = sim_snapshot_find_uuid(v, rq->segs[5]);
	if (!s) {
		sim_resp_error(rs, 404, "4", "entry doesn't exist", "uuid");
		return;
	}
	if (get) {
		sim_respond_record(rq, rs, "snapshot", sim_json_snapshot(v, s));
		return;
	}
	if (strcmp(rq->method, "DELETE") != 0) {
		sim_resp_error(rs, 405, "3", "The method is not allowed for this resource.", NULL);
		return;
	}
	if (strcmp(v->type, "rw") != 0) {
		sim_resp_error(rs, 400, "1638521",
			       "Snapshots can only be deleted on read/write (RW) volumes.", NULL);
		return;
	}
	if (s->owner_rel[0]) {
		sim_resp_error(rs, 409, "1638543", "Failed to delete snapshot because it has an owner.",
			       NULL);
		return;
	}
	for (size_t i = 0; i < v->snaps.len; i++)
		if (v->snaps.items[i] == s) {
			sim_snapshot_remove(rq->f, v, i, "snapshot delete");
			break;
		}
	rs->status = 200;
	rs->body = cJSON_CreateObject();
}

static const void *vol_item(void *ctx, size_t i)
{
	sim_req *rq = ctx;
	sim_volume *v = rq->f->volumes.items[i];
	return v->svm->cluster == rq->cl ? v : NULL;
}

static cJSON *vol_render(void *ctx, const void *item)
{
	(void)ctx;
	return sim_json_volume(item);
}

/* Look-ups by name (the reconciler's) decided without rendering every volume. */
static const char *vol_field(void *ctx, const void *item, const char *key)
{
	(void)ctx;
	const sim_volume *v = item;
	if (strcmp(key, "name") == 0)
		return v->name;
	if (strcmp(key, "uuid") == 0)
		return v->uuid;
	if (strcmp(key, "svm.name") == 0)
		return v->svm->name;
	return NULL;
}

bool sim_route_volume(sim_req *rq, sim_resp *rs)
{
	if (!seg(rq, 1, "storage") || !seg(rq, 2, "volumes"))
		return false;
	bool get = strcmp(rq->method, "GET") == 0;
	if (rq->nseg == 3) {
		if (get) {
			sim_coll_src src = {rq->f->volumes.len, vol_item, vol_render, vol_field, rq};
			sim_respond_collection_src(rq, rs, "volume", &src);
		} else if (strcmp(rq->method, "POST") == 0) {
			volume_post(rq, rs);
		} else {
			sim_resp_error(rs, 405, "3", "The method is not allowed for this resource.", NULL);
		}
		return true;
	}
	sim_volume *v = sim_volume_find_uuid(rq->f, rq->cl, rq->segs[3]);
	if (!v) {
		sim_resp_error(rs, 404, "4", "entry doesn't exist", "uuid");
		return true;
	}
	if (rq->nseg == 4) {
		if (get)
			sim_respond_record(rq, rs, "volume", sim_json_volume(v));
		else if (strcmp(rq->method, "DELETE") == 0)
			volume_delete(rq, rs, v);
		else
			sim_resp_error(rs, 405, "3", "The method is not allowed for this resource.", NULL);
		return true;
	}
	if (seg(rq, 4, "snapshots") && rq->nseg <= 6) {
		snapshot_routes(rq, rs, v);
		return true;
	}
	return false;
}
