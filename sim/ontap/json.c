/* ONTAP JSON shapes. Fields that appeared after 9.8 are emitted only by newer versions. */
#include "json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool sim_version_at_least(const sim_cluster *c, int g, int ma, int mi)
{
	if (c->generation != g)
		return c->generation > g;
	if (c->major != ma)
		return c->major > ma;
	return c->minor >= mi;
}

__attribute__((format(printf, 2, 3))) static void add_self(cJSON *o, const char *fmt, ...)
{
	char href[SIM_MSG];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(href, sizeof(href), fmt, ap);
	va_end(ap);
	cJSON *links = cJSON_AddObjectToObject(o, "_links");
	cJSON *self = cJSON_AddObjectToObject(links, "self");
	cJSON_AddStringToObject(self, "href", href);
}

static void add_name_uuid(cJSON *o, const char *name, const char *uuid)
{
	cJSON_AddStringToObject(o, "name", name);
	cJSON_AddStringToObject(o, "uuid", uuid);
}

static cJSON *name_uuid(cJSON *parent, const char *key, const char *name, const char *uuid)
{
	cJSON *o = cJSON_AddObjectToObject(parent, key);
	add_name_uuid(o, name, uuid);
	return o;
}

/* A top-level record: every named ONTAP object starts with its name and uuid. */
static cJSON *named_record(const char *name, const char *uuid)
{
	cJSON *o = cJSON_CreateObject();
	add_name_uuid(o, name, uuid);
	return o;
}

/* ONTAP's timestamps (ISO 8601 with offset), from the simulator's milliseconds. */
static void add_time(cJSON *o, const char *key, int64_t ms)
{
	char t[40];
	sim_format_time(ms, t, sizeof(t));
	cJSON_AddStringToObject(o, key, t);
}

/* What a transfer record and a relationship's embedded transfer share; end_time and (in the
 * relationship) type are 9.11 fields. */
static void add_transfer_core(cJSON *o, const sim_cluster *view, const sim_transfer *t)
{
	cJSON_AddStringToObject(o, "uuid", t->uuid);
	cJSON_AddStringToObject(o, "state", t->state);
	cJSON_AddNumberToObject(o, "bytes_transferred", (double)t->bytes);
	if (sim_version_at_least(view, 9, 11, 0) && t->end_ms)
		add_time(o, "end_time", t->end_ms);
	add_self(o, "/api/snapmirror/relationships/%s/transfers/%s", t->rel->uuid, t->uuid);
}

cJSON *sim_json_cluster(const sim_cluster *c)
{
	cJSON *o = named_record(c->name, c->uuid);
	cJSON *v = cJSON_AddObjectToObject(o, "version");
	char full[SIM_MSG];
	snprintf(full, sizeof(full), "NetApp Release %d.%d.%d: ontap-sim", c->generation, c->major,
		 c->minor);
	cJSON_AddStringToObject(v, "full", full);
	cJSON_AddNumberToObject(v, "generation", c->generation);
	cJSON_AddNumberToObject(v, "major", c->major);
	cJSON_AddNumberToObject(v, "minor", c->minor);
	add_self(o, "/api/cluster");
	return o;
}

cJSON *sim_json_cluster_peer(const sim_cluster *self, const sim_cluster *peer)
{
	(void)self;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "uuid", peer->uuid);
	cJSON_AddStringToObject(o, "name", peer->name);
	cJSON *remote = cJSON_AddObjectToObject(o, "remote");
	cJSON_AddStringToObject(remote, "name", peer->name);
	cJSON *st = cJSON_AddObjectToObject(o, "status");
	cJSON_AddStringToObject(st, "state", peer->reachable ? "available" : "unavailable");
	cJSON *auth = cJSON_AddObjectToObject(o, "authentication");
	cJSON_AddStringToObject(auth, "state", "ok");
	add_self(o, "/api/cluster/peers/%s", peer->uuid);
	return o;
}

cJSON *sim_json_svm(const sim_svm *s)
{
	cJSON *o = named_record(s->name, s->uuid);
	cJSON_AddStringToObject(o, "state", s->state);
	cJSON_AddStringToObject(o, "subtype", s->subtype);
	add_self(o, "/api/svm/svms/%s", s->uuid);
	return o;
}

cJSON *sim_json_svm_peer(const sim_svm_peer *p)
{
	cJSON *o = named_record(p->name, p->uuid);
	cJSON_AddStringToObject(o, "state", p->state);
	name_uuid(o, "svm", p->local->name, p->local->uuid);
	cJSON *peer = cJSON_AddObjectToObject(o, "peer");
	name_uuid(peer, "svm", p->peer->name, p->peer->uuid);
	name_uuid(peer, "cluster", p->peer->cluster->name, p->peer->cluster->uuid);
	cJSON *apps = cJSON_AddArrayToObject(o, "applications");
	cJSON_AddItemToArray(apps, cJSON_CreateString("snapmirror"));
	add_self(o, "/api/svm/peers/%s", p->uuid);
	return o;
}

cJSON *sim_json_volume(const sim_volume *v)
{
	cJSON *o = named_record(v->name, v->uuid);
	name_uuid(o, "svm", v->svm->name, v->svm->uuid);
	cJSON_AddStringToObject(o, "type", v->type);
	cJSON_AddStringToObject(o, "state", v->state);
	cJSON_AddStringToObject(o, "style", "flexvol");
	cJSON_AddNumberToObject(o, "size", (double)v->size);
	add_time(o, "create_time", v->create_ms);
	cJSON *nas = cJSON_AddObjectToObject(o, "nas");
	if (v->nas_path[0])
		cJSON_AddStringToObject(nas, "path", v->nas_path);
	cJSON_AddStringToObject(nas, "security_style", "unix");
	add_self(o, "/api/storage/volumes/%s", v->uuid);
	return o;
}

cJSON *sim_json_snapshot(const sim_volume *v, const sim_snapshot *s)
{
	cJSON *o = named_record(s->name, s->uuid);
	add_time(o, "create_time", s->create_ms);
	if (s->label[0])
		cJSON_AddStringToObject(o, "snapmirror_label", s->label);
	cJSON *owners = cJSON_AddArrayToObject(o, "owners");
	if (s->owner_rel[0])
		cJSON_AddItemToArray(owners, cJSON_CreateString("snapmirror_dependent"));
	cJSON_AddStringToObject(o, "state", "valid");
	name_uuid(o, "volume", v->name, v->uuid);
	name_uuid(o, "svm", v->svm->name, v->svm->uuid);
	add_self(o, "/api/storage/volumes/%s/snapshots/%s", v->uuid, s->uuid);
	return o;
}

cJSON *sim_json_policy(const sim_policy *p)
{
	cJSON *o = named_record(p->name, p->uuid);
	cJSON_AddStringToObject(o, "type", p->type);
	if (p->sync_type[0])
		cJSON_AddStringToObject(o, "sync_type", p->sync_type);
	cJSON_AddBoolToObject(o, "copy_all_source_snapshots", p->copy_all);
	cJSON_AddBoolToObject(o, "copy_latest_source_snapshot", p->copy_latest);
	cJSON_AddBoolToObject(o, "create_snapshot_on_source", true);
	cJSON_AddStringToObject(o, "scope", "cluster");
	add_self(o, "/api/snapmirror/policies/%s", p->uuid);
	return o;
}

cJSON *sim_json_schedule(const sim_schedule *s)
{
	cJSON *o = named_record(s->name, s->uuid);
	cJSON_AddStringToObject(o, "type", s->type);
	add_self(o, "/api/cluster/schedules/%s", s->uuid);
	return o;
}

static void endpoint(cJSON *o, const char *key, const char *path, const sim_volume *v,
		     const sim_cluster *view)
{
	cJSON *ep = cJSON_AddObjectToObject(o, key);
	cJSON_AddStringToObject(ep, "path", path);
	name_uuid(ep, "svm", v->svm->name, v->svm->uuid);
	if (v->svm->cluster != view)
		name_uuid(ep, "cluster", v->svm->cluster->name, v->svm->cluster->uuid);
}

static void iso_duration(int64_t ms, char *out, size_t cap)
{
	int64_t s = ms / 1000;
	snprintf(out, cap, "PT%lldH%lldM%lldS", (long long)(s / 3600), (long long)(s / 60 % 60),
		 (long long)(s % 60));
}

cJSON *sim_json_relationship(const sim_fabric *f, const sim_cluster *view, const sim_relationship *r)
{
	bool newer = sim_version_at_least(view, 9, 11, 0);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "uuid", r->uuid);
	endpoint(o, "source", r->src_path, r->src, view);
	endpoint(o, "destination", r->dst_path, r->dst, view);
	if (r->policy) {
		cJSON *p = name_uuid(o, "policy", r->policy->name, r->policy->uuid);
		cJSON_AddStringToObject(p, "type", r->policy->type);
	}
	cJSON_AddStringToObject(o, "state", r->state);
	cJSON_AddBoolToObject(o, "healthy", r->healthy);
	if (!r->healthy) {
		cJSON *arr = cJSON_AddArrayToObject(o, "unhealthy_reason");
		cJSON *reason = cJSON_CreateObject();
		cJSON_AddItemToArray(arr, reason);
		cJSON_AddStringToObject(reason, "code", r->unhealthy_code);
		cJSON_AddStringToObject(reason, "message", r->unhealthy_message);
		cJSON_AddArrayToObject(reason, "arguments");
	}
	if (r->exported_snapshot[0]) {
		cJSON_AddStringToObject(o, "exported_snapshot", r->exported_snapshot);
		char lag[64];
		iso_duration(f->now_ms - r->exported_ms, lag, sizeof(lag));
		cJSON_AddStringToObject(o, "lag_time", lag);
	}
	cJSON_AddBoolToObject(o, "restore", false);
	if (r->transfer) {
		const sim_transfer *t = r->transfer;
		cJSON *x = cJSON_AddObjectToObject(o, "transfer");
		add_transfer_core(x, view, t);
		if (newer)
			cJSON_AddStringToObject(x, "type", t->kind);
	}
	if (newer) {
		if (r->last_transfer_type[0])
			cJSON_AddStringToObject(o, "last_transfer_type", r->last_transfer_type);
		if (r->schedule[0]) {
			cJSON *s = cJSON_AddObjectToObject(o, "transfer_schedule");
			cJSON_AddStringToObject(s, "name", r->schedule);
		}
	}
	add_self(o, "/api/snapmirror/relationships/%s", r->uuid);
	return o;
}

cJSON *sim_json_transfer(const sim_cluster *view, const sim_transfer *t)
{
	cJSON *o = cJSON_CreateObject();
	add_transfer_core(o, view, t);
	cJSON_AddStringToObject(o, "snapshot", t->snapshot);
	if (strcmp(t->state, "aborted") == 0 || strcmp(t->state, "hard_aborted") == 0 ||
	    strcmp(t->state, "failed") == 0) {
		cJSON *ei = cJSON_AddObjectToObject(o, "error_info");
		bool failed = strcmp(t->state, "failed") == 0;
		cJSON_AddNumberToObject(ei, "code", failed ? (double)strtoll(t->fail_code, NULL, 10) : 6620046);
		cJSON_AddStringToObject(ei, "message", failed ? t->fail_message : "Transfer aborted");
	}
	cJSON *rel = cJSON_AddObjectToObject(o, "relationship");
	cJSON_AddStringToObject(rel, "uuid", t->rel->uuid);
	return o;
}

cJSON *sim_json_job(const sim_cluster *view, const sim_job *j)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "uuid", j->uuid);
	cJSON_AddStringToObject(o, "description", j->description);
	cJSON_AddStringToObject(o, "state", j->state);
	cJSON_AddStringToObject(o, "message", j->message[0] ? j->message : j->state);
	cJSON_AddNumberToObject(o, "code", (double)j->code);
	add_time(o, "start_time", j->start_ms);
	if (j->end_ms)
		add_time(o, "end_time", j->end_ms);
	/* job.error appeared after 9.8 (absent from the 9.8 schema). */
	if (sim_version_at_least(view, 9, 9, 0) && strcmp(j->state, "failure") == 0) {
		cJSON *e = cJSON_AddObjectToObject(o, "error");
		char code[32];
		snprintf(code, sizeof(code), "%lld", j->code);
		cJSON_AddStringToObject(e, "code", code);
		cJSON_AddStringToObject(e, "message", j->message);
	}
	add_self(o, "/api/cluster/jobs/%s", j->uuid);
	return o;
}

/* Schemas: every field (with placeholder values) per resource; newer fields by version. */
static const struct {
	const char *resource;
	int g, ma, mi;
	const char *json;
} k_schemas[] = {
	{"cluster", 9, 0, 0, "{\"name\":\"\",\"uuid\":\"\",\"version\":{\"full\":\"\",\"generation\":0,\"major\":0,\"minor\":0}}"},
	{"cluster_peer", 9, 0, 0, "{\"uuid\":\"\",\"name\":\"\",\"remote\":{\"name\":\"\"},\"status\":{\"state\":\"\"},\"authentication\":{\"state\":\"\"}}"},
	{"svm", 9, 0, 0, "{\"name\":\"\",\"uuid\":\"\",\"state\":\"\",\"subtype\":\"\"}"},
	{"svm_peer", 9, 0, 0, "{\"uuid\":\"\",\"name\":\"\",\"state\":\"\",\"svm\":{\"name\":\"\",\"uuid\":\"\"},\"peer\":{\"svm\":{\"name\":\"\",\"uuid\":\"\"},\"cluster\":{\"name\":\"\",\"uuid\":\"\"}},\"applications\":[]}"},
	{"volume", 9, 0, 0, "{\"name\":\"\",\"uuid\":\"\",\"svm\":{\"name\":\"\",\"uuid\":\"\"},\"type\":\"\",\"state\":\"\",\"style\":\"\",\"size\":0,\"create_time\":\"\",\"nas\":{\"path\":\"\",\"security_style\":\"\"}}"},
	{"snapshot", 9, 0, 0, "{\"name\":\"\",\"uuid\":\"\",\"create_time\":\"\",\"snapmirror_label\":\"\",\"owners\":[],\"state\":\"\",\"volume\":{\"name\":\"\",\"uuid\":\"\"},\"svm\":{\"name\":\"\",\"uuid\":\"\"}}"},
	{"policy", 9, 0, 0, "{\"name\":\"\",\"uuid\":\"\",\"type\":\"\",\"sync_type\":\"\",\"copy_all_source_snapshots\":false,\"copy_latest_source_snapshot\":false,\"create_snapshot_on_source\":false,\"scope\":\"\"}"},
	{"schedule", 9, 0, 0, "{\"name\":\"\",\"uuid\":\"\",\"type\":\"\"}"},
	{"relationship", 9, 0, 0, "{\"uuid\":\"\",\"source\":{\"path\":\"\",\"svm\":{\"name\":\"\",\"uuid\":\"\"},\"cluster\":{\"name\":\"\",\"uuid\":\"\"}},\"destination\":{\"path\":\"\",\"svm\":{\"name\":\"\",\"uuid\":\"\"},\"cluster\":{\"name\":\"\",\"uuid\":\"\"}},\"policy\":{\"name\":\"\",\"uuid\":\"\",\"type\":\"\"},\"state\":\"\",\"healthy\":true,\"unhealthy_reason\":{\"code\":\"\",\"message\":\"\",\"arguments\":[]},\"exported_snapshot\":\"\",\"lag_time\":\"\",\"restore\":false,\"transfer\":{\"uuid\":\"\",\"state\":\"\",\"bytes_transferred\":0}}"},
	{"relationship", 9, 11, 0, "{\"transfer\":{\"type\":\"\",\"end_time\":\"\"},\"last_transfer_type\":\"\",\"transfer_schedule\":{\"name\":\"\",\"uuid\":\"\"}}"},
	{"transfer", 9, 0, 0, "{\"uuid\":\"\",\"state\":\"\",\"bytes_transferred\":0,\"snapshot\":\"\",\"error_info\":{\"code\":0,\"message\":\"\"},\"relationship\":{\"uuid\":\"\"}}"},
	{"transfer", 9, 11, 0, "{\"end_time\":\"\"}"},
	{"job", 9, 0, 0, "{\"uuid\":\"\",\"description\":\"\",\"state\":\"\",\"message\":\"\",\"code\":0,\"start_time\":\"\",\"end_time\":\"\"}"},
	{"job", 9, 9, 0, "{\"error\":{\"code\":\"\",\"message\":\"\",\"target\":\"\",\"arguments\":[]}}"},
};

static void merge(cJSON *into, const cJSON *from)
{
	const cJSON *item;
	cJSON_ArrayForEach(item, from) {
		cJSON *have = cJSON_GetObjectItemCaseSensitive(into, item->string);
		if (have && cJSON_IsObject(have) && cJSON_IsObject(item))
			merge(have, item);
		else if (!have)
			cJSON_AddItemToObject(into, item->string, cJSON_Duplicate(item, 1));
	}
}

cJSON *sim_schema(const char *resource, const sim_cluster *c)
{
	cJSON *out = cJSON_CreateObject();
	for (size_t i = 0; out && i < sizeof(k_schemas) / sizeof(k_schemas[0]); i++) {
		if (strcmp(k_schemas[i].resource, resource) != 0 ||
		    !sim_version_at_least(c, k_schemas[i].g, k_schemas[i].ma, k_schemas[i].mi))
			continue;
		cJSON *part = cJSON_Parse(k_schemas[i].json);
		if (part)
			merge(out, part);
		cJSON_Delete(part);
	}
	return out;
}
