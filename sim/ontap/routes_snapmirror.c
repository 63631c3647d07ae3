/* /api/snapmirror/policies and /api/snapmirror/relationships[/uuid[/transfers[/uuid]]]. */
#include "http.h"

#include <stdio.h>
#include <string.h>

static bool seg(const sim_req *rq, size_t i, const char *s)
{
	return i < rq->nseg && strcmp(rq->segs[i], s) == 0;
}

static bool is(const sim_req *rq, const char *m) { return strcmp(rq->method, m) == 0; }

static void not_allowed(sim_resp *rs)
{
	sim_resp_error(rs, 405, "3", "The method is not allowed for this resource.", NULL);
}

static void not_found(sim_resp *rs)
{
	sim_resp_error(rs, 404, "4", "entry doesn't exist", "uuid");
}

/* A just-created relationship can stay invisible for a few reads (fault). */
static bool hidden(sim_relationship *r)
{
	if (r->hidden_gets > 0) {
		r->hidden_gets--;
		return true;
	}
	return false;
}

struct rel_view {
	sim_req *rq;
	bool source_view;
};

static const void *rel_item(void *ctx, size_t i)
{
	struct rel_view *v = ctx;
	sim_relationship *r = v->rq->f->relationships.items[i];
	return sim_rel_visible(r, v->rq->cl, v->source_view) && !hidden(r) ? r : NULL;
}

static cJSON *rel_render(void *ctx, const void *item)
{
	struct rel_view *v = ctx;
	return sim_json_relationship(v->rq->f, v->rq->cl, item);
}

/* The fields the reconciler filters on, read from the model without rendering. */
static const char *rel_field(void *ctx, const void *item, const char *key)
{
	(void)ctx;
	const sim_relationship *r = item;
	if (strcmp(key, "uuid") == 0)
		return r->uuid;
	if (strcmp(key, "destination.path") == 0)
		return r->dst_path;
	if (strcmp(key, "source.path") == 0)
		return r->src_path;
	if (strcmp(key, "destination.svm.name") == 0)
		return r->dst->svm->name;
	if (strcmp(key, "source.svm.name") == 0)
		return r->src->svm->name;
	return NULL;
}

static void rel_collection(sim_req *rq, sim_resp *rs)
{
	sim_fabric *f = rq->f;
	if (is(rq, "GET")) {
		struct rel_view v = {rq, sim_arg_true(rq, "list_destinations_only")};
		sim_coll_src src = {f->relationships.len, rel_item, rel_render, rel_field, &v};
		sim_respond_collection_src(rq, rs, "relationship", &src);
		return;
	}
	if (!is(rq, "POST")) {
		not_allowed(rs);
		return;
	}
	sim_err e = {0};
	if (!cJSON_IsObject(rq->body)) {
		sim_resp_error(rs, 400, "2", "A JSON object body is required.", NULL);
		return;
	}
	if (sim_rel_check_create(f, rq->cl, rq->body, &e) != 0) {
		sim_resp_err(rs, &e);
		return;
	}
	sim_job *j = sim_job_start(f, rq->cl, "POST", "/api/snapmirror/relationships",
				   SIM_OP_REL_CREATE, cJSON_Duplicate(rq->body, 1));
	if (!j) {
		sim_resp_error(rs, 500, "1", "out of memory", NULL);
		return;
	}
	sim_resp_job_wait(rq, rs, j, 201);
}

static void rel_record(sim_req *rq, sim_resp *rs, sim_relationship *r)
{
	sim_fabric *f = rq->f;
	char path[SIM_MSG];
	snprintf(path, sizeof(path), "/api/snapmirror/relationships/%s", r->uuid);
	if (is(rq, "GET")) {
		if (!(sim_rel_visible(r, rq->cl, false) || sim_rel_visible(r, rq->cl, true)) || hidden(r))
			not_found(rs);
		else
			sim_respond_record(rq, rs, "relationship", sim_json_relationship(f, rq->cl, r));
		return;
	}
	sim_err e = {0};
	if (is(rq, "PATCH")) {
		if (!cJSON_IsObject(rq->body)) {
			sim_resp_error(rs, 400, "2", "A JSON object body is required.", NULL);
			return;
		}
		if (sim_rel_check_patch(f, rq->cl, r, rq->body, &e) != 0) {
			sim_resp_err(rs, &e);
			return;
		}
		cJSON *args = cJSON_Duplicate(rq->body, 1);
		cJSON_AddStringToObject(args, "uuid", r->uuid);
		if (sim_arg_true(rq, "force"))
			cJSON_AddTrueToObject(args, "force");
		sim_job *j = sim_job_start(f, rq->cl, "PATCH", path, SIM_OP_REL_STATE, args);
		if (!j)
			sim_resp_error(rs, 500, "1", "out of memory", NULL);
		else
			sim_resp_job_wait(rq, rs, j, 200);
		return;
	}
	if (is(rq, "DELETE")) {
		static const char *const modes[] = {"destination_only", "source_only", "source_info_only"};
		const char *mode = "";
		int flags = 0;
		for (size_t i = 0; i < 3; i++)
			if (sim_arg_true(rq, modes[i])) {
				mode = modes[i];
				flags++;
			}
		if (flags > 1) {
			sim_resp_error(rs, 400, "2",
				       "The flags destination_only, source_only and source_info_only are "
				       "mutually exclusive.", NULL);
			return;
		}
		bool src_side = strcmp(mode, "source_only") == 0;
		bool any = strcmp(mode, "source_info_only") == 0;
		bool visible = src_side ? sim_rel_visible(r, rq->cl, true)
			       : any ? sim_rel_visible(r, rq->cl, true) || sim_rel_visible(r, rq->cl, false)
				     : sim_rel_visible(r, rq->cl, false);
		if (!visible) {
			not_found(rs);
			return;
		}
		cJSON *args = cJSON_CreateObject();
		cJSON_AddStringToObject(args, "uuid", r->uuid);
		cJSON_AddStringToObject(args, "mode", mode);
		sim_job *j = sim_job_start(f, rq->cl, "DELETE", path, SIM_OP_REL_DELETE, args);
		if (!j)
			sim_resp_error(rs, 500, "1", "out of memory", NULL);
		else
			sim_resp_job_wait(rq, rs, j, 200);
		return;
	}
	not_allowed(rs);
}

static void transfers(sim_req *rq, sim_resp *rs, sim_relationship *r)
{
	sim_fabric *f = rq->f;
	if (!sim_rel_visible(r, rq->cl, false)) {
		not_found(rs);
		return;
	}
	if (rq->nseg == 5) {
		if (is(rq, "GET")) {
			cJSON *all = cJSON_CreateArray();
			for (size_t i = 0; i < f->transfers.len; i++) {
				sim_transfer *t = f->transfers.items[i];
				if (t->rel == r)
					cJSON_AddItemToArray(all, sim_json_transfer(rq->cl, t));
			}
			sim_respond_collection(rq, rs, "transfer", all);
			return;
		}
		if (!is(rq, "POST")) {
			not_allowed(rs);
			return;
		}
		const cJSON *snap = cJSON_GetObjectItemCaseSensitive(rq->body, "source_snapshot");
		if (snap && !cJSON_IsString(snap)) {
			sim_resp_error(rs, 400, "2", "Invalid value for field \"source_snapshot\".",
				       "source_snapshot");
			return;
		}
		sim_err e = {0};
		sim_transfer *t = NULL;
		if (sim_transfer_post(f, r, snap ? snap->valuestring : NULL, &t, &e) != 0) {
			sim_resp_err(rs, &e);
			return;
		}
		/* Synchronous: 201 + Location, no job. */
		rs->status = 201;
		rs->body = cJSON_CreateObject();
		cJSON_AddNumberToObject(rs->body, "num_records", 1);
		cJSON *recs = cJSON_AddArrayToObject(rs->body, "records");
		cJSON *rec = cJSON_CreateObject();
		cJSON_AddItemToArray(recs, rec);
		cJSON_AddStringToObject(rec, "uuid", t->uuid);
		snprintf(rs->location, sizeof(rs->location),
			 "/api/snapmirror/relationships/%s/transfers/%s", r->uuid, t->uuid);
		return;
	}
	sim_transfer *t = sim_transfer_find(f, rq->segs[5]);
	if (!t || t->rel != r) {
		not_found(rs);
		return;
	}
	if (is(rq, "GET")) {
		sim_respond_record(rq, rs, "transfer", sim_json_transfer(rq->cl, t));
		return;
	}
	if (!is(rq, "PATCH")) {
		not_allowed(rs);
		return;
	}
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(rq->body, "state");
	if (!cJSON_IsString(st) || (strcmp(st->valuestring, "aborted") != 0 &&
				    strcmp(st->valuestring, "hard_aborted") != 0)) {
		sim_resp_error(rs, 400, "2", "Field \"state\" must be \"aborted\" or \"hard_aborted\".",
			       "state");
		return;
	}
	sim_err e = {0};
	if (sim_transfer_abort(f, t, strcmp(st->valuestring, "hard_aborted") == 0, &e) != 0) {
		sim_resp_err(rs, &e);
		return;
	}
	rs->status = 200;
	rs->body = cJSON_CreateObject();
}

bool sim_route_snapmirror(sim_req *rq, sim_resp *rs)
{
	sim_fabric *f = rq->f;
	if (!seg(rq, 1, "snapmirror"))
		return false;
	if (seg(rq, 2, "policies") && rq->nseg == 3) {
		if (!is(rq, "GET")) {
			not_allowed(rs);
			return true;
		}
		cJSON *all = cJSON_CreateArray();
		for (size_t i = 0; i < f->policies.len; i++) {
			sim_policy *p = f->policies.items[i];
			if (p->cluster == rq->cl)
				cJSON_AddItemToArray(all, sim_json_policy(p));
		}
		sim_respond_collection(rq, rs, "policy", all);
		return true;
	}
	if (!seg(rq, 2, "relationships"))
		return false;
	if (rq->nseg == 3) {
		rel_collection(rq, rs);
		return true;
	}
	sim_relationship *r = sim_rel_find_uuid(f, rq->segs[3]);
	if (!r) {
		not_found(rs);
		return true;
	}
	if (rq->nseg == 4) {
		rel_record(rq, rs, r);
		return true;
	}
	if (seg(rq, 4, "transfers") && rq->nseg <= 6) {
		transfers(rq, rs, r);
		return true;
	}
	return false;
}
