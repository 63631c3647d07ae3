/* The control API under /__sim (test-only, unauthenticated: bind to loopback):
 *   GET  /__sim/state            everything, as JSON
 *   GET  /__sim/requests         request log; DELETE clears it
 *   GET  /__sim/ledger           data-loss ledger
 *   GET  /__sim/clock            {"now_ms"}; POST /__sim/clock/advance {"ms"}
 *   POST /__sim/volumes/write    {"cluster","path":"svm:vol"} -> {"generation"}
 *   POST /__sim/snapshots/delete {"cluster","path","name"} (bypasses RW/owner checks)
 *   POST /__sim/faults           request|job|transfer|peer|visibility fault; DELETE clears
 *   POST /__sim/clusters         {"cluster","version"?,"reachable"?,"password"?}
 *   POST /__sim/settings         job/transfer durations
 *   POST /__sim/seed             topology YAML/JSON (existing clusters only) */
#include "config.h"
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
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

static double jnum(const cJSON *o, const char *key, double dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

/* A number clamped into [lo, hi] before any integer conversion (a huge double cast to int is
 * undefined behaviour); out-of-range values become `bad` so that validation refuses them. */
static long long jint(const cJSON *o, const char *key, long long dflt, long long lo, long long hi,
		      long long bad)
{
	double d = jnum(o, key, (double)dflt);
	return d >= (double)lo && d <= (double)hi ? (long long)d : bad;
}

static void ok(sim_resp *rs, cJSON *body)
{
	rs->status = 200;
	rs->body = body ? body : cJSON_CreateObject();
}

static void bad(sim_resp *rs, const char *msg)
{
	sim_resp_error(rs, 400, "2", msg, NULL);
}

static cJSON *dump_volume(const sim_volume *v)
{
	cJSON *o = sim_json_volume(v);
	cJSON_AddNumberToObject(o, "afs_generation", (double)v->afs_gen);
	cJSON *snaps = cJSON_AddArrayToObject(o, "snapshots");
	for (size_t i = 0; i < v->snaps.len; i++) {
		const sim_snapshot *s = v->snaps.items[i];
		cJSON *js = sim_json_snapshot(v, s);
		cJSON_AddNumberToObject(js, "generation", (double)s->generation);
		cJSON_AddNumberToObject(js, "origin_id", (double)s->origin);
		cJSON_AddItemToArray(snaps, js);
	}
	cJSON_AddStringToObject(o, "cluster", v->svm->cluster->name);
	return o;
}

static cJSON *dump_state(sim_fabric *f)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "now_ms", (double)f->now_ms);
	cJSON *cl = cJSON_AddArrayToObject(o, "clusters");
	for (size_t i = 0; i < f->clusters.len; i++) {
		sim_cluster *c = f->clusters.items[i];
		cJSON *jc = sim_json_cluster(c);
		cJSON_AddNumberToObject(jc, "port", c->port);
		cJSON_AddBoolToObject(jc, "reachable", c->reachable);
		cJSON_AddItemToArray(cl, jc);
	}
	cJSON *vols = cJSON_AddArrayToObject(o, "volumes");
	for (size_t i = 0; i < f->volumes.len; i++)
		cJSON_AddItemToArray(vols, dump_volume(f->volumes.items[i]));
	cJSON *rels = cJSON_AddArrayToObject(o, "relationships");
	for (size_t i = 0; i < f->relationships.len; i++) {
		sim_relationship *r = f->relationships.items[i];
		cJSON *jr = sim_json_relationship(f, sim_rel_dst_cluster(r), r);
		cJSON_AddBoolToObject(jr, "destination_record", r->dest_record);
		cJSON_AddBoolToObject(jr, "source_record", r->source_record);
		cJSON_AddItemToArray(rels, jr);
	}
	cJSON *jobs = cJSON_AddArrayToObject(o, "jobs");
	for (size_t i = 0; i < f->jobs.len; i++) {
		sim_job *j = f->jobs.items[i];
		cJSON_AddItemToArray(jobs, sim_json_job(j->cluster, j));
	}
	return o;
}

static cJSON *dump_log(sim_fabric *f)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(o, "requests");
	for (size_t i = 0; i < f->log.len; i++) {
		sim_log_entry *e = f->log.items[i];
		cJSON *je = cJSON_CreateObject();
		cJSON_AddNumberToObject(je, "seq", (double)e->seq);
		cJSON_AddStringToObject(je, "cluster", e->cluster);
		cJSON_AddStringToObject(je, "method", e->method);
		cJSON_AddStringToObject(je, "path", e->path);
		if (e->body)
			cJSON_AddStringToObject(je, "body", e->body);
		cJSON_AddNumberToObject(je, "status", e->status);
		cJSON_AddStringToObject(je, "userAgent", e->user_agent);
		cJSON_AddItemToArray(arr, je);
	}
	return o;
}

static cJSON *dump_ledger(sim_fabric *f)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(o, "entries");
	for (size_t i = 0; i < f->ledger.len; i++) {
		sim_ledger_entry *e = f->ledger.items[i];
		cJSON *je = cJSON_CreateObject();
		cJSON_AddNumberToObject(je, "seq", (double)e->seq);
		char t[40];
		sim_format_time(e->at_ms, t, sizeof(t));
		cJSON_AddStringToObject(je, "time", t);
		cJSON_AddStringToObject(je, "cluster", e->cluster);
		cJSON_AddStringToObject(je, "volume", e->volume);
		cJSON_AddNumberToObject(je, "generation", (double)e->generation);
		cJSON_AddStringToObject(je, "operation", e->operation);
		cJSON_AddStringToObject(je, "detail", e->detail);
		cJSON_AddItemToArray(arr, je);
	}
	return o;
}

static sim_volume *volume_arg(sim_fabric *f, const cJSON *b, sim_resp *rs)
{
	sim_cluster *c = sim_cluster_find(f, jstr(b, "cluster"));
	sim_volume *v = c ? sim_volume_by_path(f, c, jstr(b, "path")) : NULL;
	if (!v)
		sim_resp_error(rs, 404, "4", "no such cluster or volume (cluster, path \"svm:vol\")", NULL);
	return v;
}

static void copy_field(char *dst, size_t cap, const cJSON *b, const char *key)
{
	const char *s = jstr(b, key);
	snprintf(dst, cap, "%s", s ? s : "");
}

static int add_fault(sim_fabric *f, const cJSON *b, sim_resp *rs)
{
	const char *type = jstr(b, "type");
	int count = (int)jint(b, "count", 1, 1, 1000000, 0);
	if (!type || count < 1 || count > 1000000) {
		bad(rs, "a fault needs a type (request, job, transfer, peer, visibility) and count >= 1");
		return -1;
	}
	if (strcmp(type, "request") == 0) {
		sim_request_fault *rf = calloc(1, sizeof(*rf));
		if (!rf)
			return -1;
		copy_field(rf->cluster, sizeof(rf->cluster), b, "cluster");
		copy_field(rf->method, sizeof(rf->method), b, "method");
		copy_field(rf->path, sizeof(rf->path), b, "path");
		if (!rf->path[0])
			snprintf(rf->path, sizeof(rf->path), "*");
		rf->count = count;
		rf->status = (int)jint(b, "status", 0, 0, 599, 1);
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(b, "code");
		if (cJSON_IsNumber(code))
			snprintf(rf->code, sizeof(rf->code), "%.0f", code->valuedouble);
		else
			copy_field(rf->code, sizeof(rf->code), b, "code");
		copy_field(rf->message, sizeof(rf->message), b, "message");
		copy_field(rf->target, sizeof(rf->target), b, "target");
		rf->latency_ms = (int)jint(b, "latency_ms", 0, 0, 60000, -1);
		rf->drop = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(b, "drop"));
		copy_field(rf->body, sizeof(rf->body), b, "body");
		int min_status = rf->body[0] ? 200 : 400;
		if ((rf->status && (rf->status < min_status || rf->status > 599)) || rf->latency_ms < 0 ||
		    (!rf->status && !rf->drop && !rf->latency_ms && !rf->body[0])) {
			free(rf);
			bad(rs, "request fault: status 400-599 (200-599 with body), drop, body or "
				"latency_ms 1-60000 required");
			return -1;
		}
		return sim_vec_push(&f->request_faults, rf) ? (free(rf), -1) : 0;
	}
	if (strcmp(type, "job") == 0) {
		sim_job_fault *jf = calloc(1, sizeof(*jf));
		if (!jf)
			return -1;
		copy_field(jf->match, sizeof(jf->match), b, "match");
		if (!jf->match[0])
			snprintf(jf->match, sizeof(jf->match), "*");
		copy_field(jf->mode, sizeof(jf->mode), b, "mode");
		jf->count = count;
		jf->code = jint(b, "code", 1, 0, 999999999, 1);
		copy_field(jf->message, sizeof(jf->message), b, "message");
		if (!jf->message[0])
			snprintf(jf->message, sizeof(jf->message), "Job failed (injected).");
		if (strcmp(jf->mode, "stuck") && strcmp(jf->mode, "fail") && strcmp(jf->mode, "purge")) {
			free(jf);
			bad(rs, "job fault mode must be stuck, fail or purge");
			return -1;
		}
		return sim_vec_push(&f->job_faults, jf) ? (free(jf), -1) : 0;
	}
	if (strcmp(type, "transfer") == 0) {
		sim_transfer_fault *tf = calloc(1, sizeof(*tf));
		if (!tf)
			return -1;
		copy_field(tf->mode, sizeof(tf->mode), b, "mode");
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(b, "code");
		if (cJSON_IsNumber(code))
			snprintf(tf->code, sizeof(tf->code), "%.0f", code->valuedouble);
		else
			copy_field(tf->code, sizeof(tf->code), b, "code");
		copy_field(tf->message, sizeof(tf->message), b, "message");
		tf->count = count;
		if (strcmp(tf->mode, "fail") && strcmp(tf->mode, "hang")) {
			free(tf);
			bad(rs, "transfer fault mode must be fail or hang");
			return -1;
		}
		return sim_vec_push(&f->transfer_faults, tf) ? (free(tf), -1) : 0;
	}
	if (strcmp(type, "peer") == 0) {
		sim_cluster *c = sim_cluster_find(f, jstr(b, "cluster"));
		if (!c) {
			bad(rs, "peer fault needs an existing cluster");
			return -1;
		}
		c->reachable = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(b, "reachable"));
		return 0;
	}
	if (strcmp(type, "visibility") == 0) {
		f->visibility_delay = count;
		return 0;
	}
	bad(rs, "unknown fault type");
	return -1;
}

static void clear_faults(sim_fabric *f)
{
	sim_vec *all[] = {&f->request_faults, &f->job_faults, &f->transfer_faults};
	for (size_t k = 0; k < 3; k++) {
		for (size_t i = 0; i < all[k]->len; i++)
			free(all[k]->items[i]);
		all[k]->len = 0;
	}
	f->visibility_delay = 0;
	for (size_t i = 0; i < f->clusters.len; i++)
		((sim_cluster *)f->clusters.items[i])->reachable = true;
	/* Stuck jobs and hung transfers resume. */
	for (size_t i = 0; i < f->jobs.len; i++) {
		sim_job *j = f->jobs.items[i];
		if (j->stuck) {
			j->stuck = false;
			if (j->due_ms < f->now_ms)
				j->due_ms = f->now_ms;
		}
	}
	for (size_t i = 0; i < f->transfers.len; i++) {
		sim_transfer *t = f->transfers.items[i];
		if (t->hang) {
			t->hang = false;
			if (t->due_ms < f->now_ms)
				t->due_ms = f->now_ms;
		}
	}
}

void sim_route_control(sim_req *rq, sim_resp *rs)
{
	sim_fabric *f = rq->f;
	bool get = strcmp(rq->method, "GET") == 0, post = strcmp(rq->method, "POST") == 0,
	     del = strcmp(rq->method, "DELETE") == 0;
	const cJSON *b = rq->body;
	if (rq->nseg == 2 && seg(rq, 1, "state") && get) {
		ok(rs, dump_state(f));
	} else if (rq->nseg == 2 && seg(rq, 1, "requests") && (get || del)) {
		if (del) {
			for (size_t i = 0; i < f->log.len; i++) {
				sim_log_entry *e = f->log.items[i];
				free(e->path);
				free(e->body);
				free(e);
			}
			f->log.len = 0;
			ok(rs, NULL);
		} else {
			ok(rs, dump_log(f));
		}
	} else if (rq->nseg == 2 && seg(rq, 1, "ledger") && get) {
		ok(rs, dump_ledger(f));
	} else if (rq->nseg == 2 && seg(rq, 1, "clock") && get) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "now_ms", (double)f->now_ms);
		ok(rs, o);
	} else if (rq->nseg == 3 && seg(rq, 1, "clock") && seg(rq, 2, "advance") && post) {
		double ms = jnum(b, "ms", -1);
		if (ms < 0 || ms > 864000000.0) {
			bad(rs, "clock advance needs ms between 0 and 864000000");
			return;
		}
		sim_clock_advance(f, (int64_t)ms);
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "now_ms", (double)f->now_ms);
		ok(rs, o);
	} else if (rq->nseg == 3 && seg(rq, 1, "volumes") && seg(rq, 2, "write") && post) {
		sim_volume *v = volume_arg(f, b, rs);
		uint64_t gen = 0;
		sim_err e = {0};
		if (!v)
			return;
		if (sim_volume_write(f, v, &gen, &e) != 0) {
			sim_resp_err(rs, &e);
			return;
		}
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "generation", (double)gen);
		ok(rs, o);
	} else if (rq->nseg == 3 && seg(rq, 1, "snapshots") && seg(rq, 2, "delete") && post) {
		sim_volume *v = volume_arg(f, b, rs);
		if (!v)
			return;
		const char *name = jstr(b, "name");
		for (size_t i = 0; name && i < v->snaps.len; i++)
			if (strcmp(((sim_snapshot *)v->snaps.items[i])->name, name) == 0) {
				sim_snapshot_remove(f, v, i, "control snapshot delete");
				ok(rs, NULL);
				return;
			}
		sim_resp_error(rs, 404, "4", "no such snapshot", "name");
	} else if (rq->nseg == 2 && seg(rq, 1, "faults") && (post || del)) {
		if (del) {
			clear_faults(f);
			ok(rs, NULL);
		} else if (add_fault(f, b, rs) == 0) {
			ok(rs, NULL);
		} else if (!rs->body) {
			sim_resp_error(rs, 500, "1", "out of memory", NULL);
		}
	} else if (rq->nseg == 2 && seg(rq, 1, "clusters") && post) {
		sim_cluster *c = sim_cluster_find(f, jstr(b, "cluster"));
		if (!c) {
			bad(rs, "no such cluster");
			return;
		}
		/* a rotated admin password: clients still using the old one get 401 */
		const cJSON *pw = cJSON_GetObjectItemCaseSensitive(b, "password");
		if (pw && (!cJSON_IsString(pw) || !pw->valuestring[0] ||
			   strlen(pw->valuestring) >= sizeof(c->password))) {
			bad(rs, "password must be a non-empty string shorter than 128 characters");
			return;
		}
		const char *version = jstr(b, "version");
		if (version && sim_parse_version(version, &c->generation, &c->major, &c->minor) != 0) {
			bad(rs, "version must look like 9.13.1");
			return;
		}
		const cJSON *reach = cJSON_GetObjectItemCaseSensitive(b, "reachable");
		if (cJSON_IsBool(reach))
			c->reachable = cJSON_IsTrue(reach);
		if (pw)
			snprintf(c->password, sizeof(c->password), "%s", pw->valuestring);
		ok(rs, sim_json_cluster(c));
	} else if (rq->nseg == 2 && seg(rq, 1, "settings") && post) {
		cJSON *doc = cJSON_CreateObject();
		cJSON_AddItemToObject(doc, "settings", cJSON_Duplicate(b, 1));
		char msg[SIM_MSG] = "";
		if (!cJSON_IsObject(b) || sim_config_apply(f, doc, false, msg, sizeof(msg)) != 0)
			bad(rs, msg[0] ? msg : "settings must be an object");
		else
			ok(rs, NULL);
		cJSON_Delete(doc);
	} else if (rq->nseg == 2 && seg(rq, 1, "seed") && post) {
		char msg[SIM_MSG] = "";
		const char *text = rq->body_text ? rq->body_text : "";
		if (sim_config_apply_text(f, text, strlen(text), false, msg, sizeof(msg)) != 0)
			bad(rs, msg[0] ? msg : "invalid topology");
		else
			ok(rs, NULL);
	} else {
		sim_resp_error(rs, 404, "3", "unknown control endpoint", NULL);
	}
}
