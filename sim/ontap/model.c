/* The fabric's objects: creation, lookup, removal and the data-loss ledger. */
#include "model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/util/strbuf.h"

#define LOG_MAX 2000

int sim_vec_push(sim_vec *v, void *item)
{
	if (v->len == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 8;
		void **grown = realloc(v->items, cap * sizeof(*grown));
		if (!grown)
			return MG_ENOMEM;
		v->items = grown;
		v->cap = cap;
	}
	v->items[v->len++] = item;
	return 0;
}

void sim_vec_remove(sim_vec *v, size_t i)
{
	if (i >= v->len)
		return;
	memmove(&v->items[i], &v->items[i + 1], (v->len - i - 1) * sizeof(*v->items));
	v->len--;
}

static void vec_free_all(sim_vec *v)
{
	for (size_t i = 0; i < v->len; i++)
		free(v->items[i]);
	free(v->items);
	memset(v, 0, sizeof(*v));
}

int sim_fabric_init(sim_fabric *f)
{
	memset(f, 0, sizeof(*f));
	if (pthread_mutex_init(&f->lock, NULL) != 0)
		return MG_ENOMEM;
	/* 2026-01-01T00:00:00Z: a fixed epoch keeps every run's answers identical. */
	f->now_ms = 1767225600000LL;
	f->next_id = 1;
	f->settings.job_queue_ms = 200;
	f->settings.job_run_ms = 800;
	f->settings.job_purge_ms = 300000;
	f->settings.transfer_queue_ms = 500;
	f->settings.transfer_ms = 2000;
	f->settings.bytes_per_generation = 4096;
	/* Generation 0 is "empty"; its parent is itself. */
	return sim_vec_push(&f->gen_parent, (void *)(uintptr_t)0);
}

void sim_fabric_free(sim_fabric *f)
{
	for (size_t i = 0; i < f->volumes.len; i++)
		vec_free_all(&((sim_volume *)f->volumes.items[i])->snaps);
	for (size_t i = 0; i < f->jobs.len; i++)
		cJSON_Delete(((sim_job *)f->jobs.items[i])->args);
	for (size_t i = 0; i < f->log.len; i++) {
		sim_log_entry *e = f->log.items[i];
		free(e->path);
		free(e->body);
	}
	vec_free_all(&f->clusters);
	vec_free_all(&f->svms);
	vec_free_all(&f->svm_peers);
	vec_free_all(&f->volumes);
	vec_free_all(&f->policies);
	vec_free_all(&f->schedules);
	vec_free_all(&f->relationships);
	vec_free_all(&f->transfers);
	vec_free_all(&f->jobs);
	vec_free_all(&f->ledger);
	vec_free_all(&f->request_faults);
	vec_free_all(&f->job_faults);
	vec_free_all(&f->transfer_faults);
	vec_free_all(&f->log);
	free(f->gen_parent.items);
	pthread_mutex_destroy(&f->lock);
}

void sim_new_uuid(sim_fabric *f, char out[SIM_UUID])
{
	/* Deterministic ids make request logs comparable between runs. */
	uint64_t id = f->next_id++;
	snprintf(out, SIM_UUID, "%08llx-5a11-4000-8000-%012llx", (unsigned long long)(id & 0xffffffffu),
		 (unsigned long long)id);
}

uint64_t sim_new_generation(sim_fabric *f, uint64_t parent)
{
	uint64_t g = f->gen_parent.len;
	if (sim_vec_push(&f->gen_parent, (void *)(uintptr_t)parent) != 0)
		return parent; /* out of memory: content unchanged is the safe reading */
	return g;
}

void sim_format_time(int64_t ms, char *out, size_t cap)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, cap, "%Y-%m-%dT%H:%M:%S+00:00", &tm);
}

int sim_parse_version(const char *s, int *g, int *ma, int *mi)
{
	char *end;
	long a = strtol(s, &end, 10);
	if (end == s || *end != '.')
		return MG_EINVAL;
	const char *p = end + 1;
	long b = strtol(p, &end, 10);
	if (end == p)
		return MG_EINVAL;
	long c = 0;
	if (*end == '.') {
		p = end + 1;
		c = strtol(p, &end, 10);
		if (end == p)
			return MG_EINVAL;
	}
	if (*end || a < 9 || a > 99 || b < 0 || b > 99 || c < 0 || c > 99)
		return MG_EINVAL;
	*g = (int)a;
	*ma = (int)b;
	*mi = (int)c;
	return 0;
}

sim_cluster *sim_cluster_add(sim_fabric *f, const char *name, const char *version)
{
	sim_cluster *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	snprintf(c->name, sizeof(c->name), "%s", name);
	sim_new_uuid(f, c->uuid);
	if (sim_parse_version(version ? version : "9.13.1", &c->generation, &c->major, &c->minor) ||
	    sim_vec_push(&f->clusters, c)) {
		free(c);
		return NULL;
	}
	c->reachable = true;
	snprintf(c->username, sizeof(c->username), "admin");
	sim_add_system_policies(f, c);
	return c;
}

sim_svm *sim_svm_add(sim_fabric *f, sim_cluster *c, const char *name)
{
	sim_svm *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	snprintf(s->name, sizeof(s->name), "%s", name);
	sim_new_uuid(f, s->uuid);
	s->cluster = c;
	snprintf(s->state, sizeof(s->state), "running");
	snprintf(s->subtype, sizeof(s->subtype), "default");
	if (sim_vec_push(&f->svms, s)) {
		free(s);
		return NULL;
	}
	return s;
}

static int peer_one(sim_fabric *f, sim_svm *local, sim_svm *peer)
{
	if (sim_svm_peer_find(f, local, peer))
		return 0;
	sim_svm_peer *p = calloc(1, sizeof(*p));
	if (!p)
		return MG_ENOMEM;
	sim_new_uuid(f, p->uuid);
	p->local = local;
	p->peer = peer;
	snprintf(p->name, sizeof(p->name), "%s", peer->name);
	snprintf(p->state, sizeof(p->state), "peered");
	if (sim_vec_push(&f->svm_peers, p)) {
		free(p);
		return MG_ENOMEM;
	}
	return 0;
}

int sim_svm_peer_add(sim_fabric *f, sim_svm *a, sim_svm *b)
{
	if (a == b)
		return MG_EINVAL;
	int rc = peer_one(f, a, b);
	return rc ? rc : peer_one(f, b, a);
}

sim_volume *sim_volume_add(sim_fabric *f, sim_svm *s, const char *name, const char *type,
			   uint64_t size)
{
	sim_volume *v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	snprintf(v->name, sizeof(v->name), "%s", name);
	sim_new_uuid(f, v->uuid);
	v->svm = s;
	snprintf(v->type, sizeof(v->type), "%s", strcmp(type, "dp") == 0 ? "dp" : "rw");
	snprintf(v->state, sizeof(v->state), "online");
	v->size = size;
	v->create_ms = f->now_ms;
	/* A new RW volume holds an empty file system of its own; a DP volume holds nothing
	 * until its baseline arrives. */
	v->afs_gen = strcmp(v->type, "rw") == 0 ? sim_new_generation(f, 0) : 0;
	if (strcmp(v->type, "rw") == 0)
		snprintf(v->nas_path, sizeof(v->nas_path), "/%s", name);
	if (sim_vec_push(&f->volumes, v)) {
		free(v);
		return NULL;
	}
	return v;
}

sim_snapshot *sim_snapshot_add(sim_fabric *f, sim_volume *v, const char *name, const char *label)
{
	sim_snapshot *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	snprintf(s->name, sizeof(s->name), "%s", name);
	snprintf(s->label, sizeof(s->label), "%s", label ? label : "");
	sim_new_uuid(f, s->uuid);
	s->create_ms = f->now_ms;
	s->generation = v->afs_gen;
	s->origin = ++f->next_origin;
	if (sim_vec_push(&v->snaps, s)) {
		free(s);
		return NULL;
	}
	return s;
}

static void add_policy(sim_fabric *f, sim_cluster *c, const char *name, const char *type,
		       const char *sync_type, bool all, bool latest)
{
	sim_policy *p = calloc(1, sizeof(*p));
	if (!p)
		return;
	snprintf(p->name, sizeof(p->name), "%s", name);
	sim_new_uuid(f, p->uuid);
	p->cluster = c;
	snprintf(p->type, sizeof(p->type), "%s", type);
	snprintf(p->sync_type, sizeof(p->sync_type), "%s", sync_type);
	p->copy_all = all;
	p->copy_latest = latest;
	if (sim_vec_push(&f->policies, p))
		free(p);
}

static void add_schedule(sim_fabric *f, sim_cluster *c, const char *name, const char *type)
{
	sim_schedule *s = calloc(1, sizeof(*s));
	if (!s)
		return;
	snprintf(s->name, sizeof(s->name), "%s", name);
	sim_new_uuid(f, s->uuid);
	s->cluster = c;
	snprintf(s->type, sizeof(s->type), "%s", type);
	if (sim_vec_push(&f->schedules, s))
		free(s);
}

void sim_add_system_policies(sim_fabric *f, sim_cluster *c)
{
	add_policy(f, c, "MirrorAllSnapshots", "async", "", true, true);
	add_policy(f, c, "MirrorLatest", "async", "", false, true);
	add_policy(f, c, "MirrorAndVault", "async", "", false, true);
	add_policy(f, c, "Asynchronous", "async", "", false, true);
	add_policy(f, c, "Sync", "sync", "sync", false, false);
	add_policy(f, c, "StrictSync", "sync", "strict_sync", false, false);
	add_schedule(f, c, "5min", "cron");
	add_schedule(f, c, "hourly", "cron");
	add_schedule(f, c, "daily", "cron");
}

sim_cluster *sim_cluster_find(sim_fabric *f, const char *name)
{
	for (size_t i = 0; name && i < f->clusters.len; i++) {
		sim_cluster *c = f->clusters.items[i];
		if (strcmp(c->name, name) == 0)
			return c;
	}
	return NULL;
}

sim_svm *sim_svm_find(sim_fabric *f, sim_cluster *c, const char *name)
{
	for (size_t i = 0; name && i < f->svms.len; i++) {
		sim_svm *s = f->svms.items[i];
		if (s->cluster == c && strcmp(s->name, name) == 0)
			return s;
	}
	return NULL;
}

sim_svm *sim_svm_find_uuid(sim_fabric *f, sim_cluster *c, const char *uuid)
{
	for (size_t i = 0; uuid && i < f->svms.len; i++) {
		sim_svm *s = f->svms.items[i];
		if (s->cluster == c && strcmp(s->uuid, uuid) == 0)
			return s;
	}
	return NULL;
}

sim_svm *sim_svm_resolve(sim_fabric *f, sim_cluster *c, const char *name)
{
	sim_svm *s = sim_svm_find(f, c, name);
	if (s)
		return s;
	for (size_t i = 0; i < f->svm_peers.len; i++) {
		sim_svm_peer *p = f->svm_peers.items[i];
		if (p->local->cluster == c && strcmp(p->name, name) == 0)
			return p->peer;
	}
	return NULL;
}

sim_svm_peer *sim_svm_peer_find(sim_fabric *f, sim_svm *local, sim_svm *peer)
{
	for (size_t i = 0; i < f->svm_peers.len; i++) {
		sim_svm_peer *p = f->svm_peers.items[i];
		if (p->local == local && p->peer == peer)
			return p;
	}
	return NULL;
}

sim_volume *sim_volume_find(sim_fabric *f, sim_svm *s, const char *name)
{
	for (size_t i = 0; name && i < f->volumes.len; i++) {
		sim_volume *v = f->volumes.items[i];
		if (v->svm == s && strcmp(v->name, name) == 0)
			return v;
	}
	return NULL;
}

sim_volume *sim_volume_find_uuid(sim_fabric *f, sim_cluster *c, const char *uuid)
{
	for (size_t i = 0; uuid && i < f->volumes.len; i++) {
		sim_volume *v = f->volumes.items[i];
		if (v->svm->cluster == c && strcmp(v->uuid, uuid) == 0)
			return v;
	}
	return NULL;
}

sim_volume *sim_volume_by_path(sim_fabric *f, sim_cluster *c, const char *path)
{
	const char *colon = path ? strchr(path, ':') : NULL;
	char svm[SIM_NAME];
	if (!colon || (size_t)(colon - path) >= sizeof(svm))
		return NULL;
	memcpy(svm, path, (size_t)(colon - path));
	svm[colon - path] = '\0';
	sim_svm *s = sim_svm_resolve(f, c, svm);
	return s ? sim_volume_find(f, s, colon + 1) : NULL;
}

sim_snapshot *sim_snapshot_find(sim_volume *v, const char *name)
{
	for (size_t i = 0; name && i < v->snaps.len; i++) {
		sim_snapshot *s = v->snaps.items[i];
		if (strcmp(s->name, name) == 0)
			return s;
	}
	return NULL;
}

sim_snapshot *sim_snapshot_find_uuid(sim_volume *v, const char *uuid)
{
	for (size_t i = 0; uuid && i < v->snaps.len; i++) {
		sim_snapshot *s = v->snaps.items[i];
		if (strcmp(s->uuid, uuid) == 0)
			return s;
	}
	return NULL;
}

sim_snapshot *sim_snapshot_find_origin(sim_volume *v, uint64_t origin)
{
	for (size_t i = 0; i < v->snaps.len; i++) {
		sim_snapshot *s = v->snaps.items[i];
		if (s->origin == origin)
			return s;
	}
	return NULL;
}

void sim_snapshot_remove(sim_fabric *f, sim_volume *v, size_t i, const char *operation)
{
	if (i >= v->snaps.len)
		return;
	sim_snapshot *s = v->snaps.items[i];
	uint64_t gen = s->generation;
	char detail[SIM_MSG];
	snprintf(detail, sizeof(detail), "snapshot %s deleted", s->name);
	sim_vec_remove(&v->snaps, i);
	free(s);
	sim_note_discard(f, v, gen, operation, detail);
}

sim_policy *sim_policy_find(sim_fabric *f, sim_cluster *c, const char *name)
{
	for (size_t i = 0; name && i < f->policies.len; i++) {
		sim_policy *p = f->policies.items[i];
		if (p->cluster == c && (strcmp(p->name, name) == 0 || strcmp(p->uuid, name) == 0))
			return p;
	}
	return NULL;
}

sim_schedule *sim_schedule_find(sim_fabric *f, sim_cluster *c, const char *name)
{
	for (size_t i = 0; name && i < f->schedules.len; i++) {
		sim_schedule *s = f->schedules.items[i];
		if (s->cluster == c && strcmp(s->name, name) == 0)
			return s;
	}
	return NULL;
}

sim_relationship *sim_rel_find_uuid(sim_fabric *f, const char *uuid)
{
	for (size_t i = 0; uuid && i < f->relationships.len; i++) {
		sim_relationship *r = f->relationships.items[i];
		if (strcmp(r->uuid, uuid) == 0)
			return r;
	}
	return NULL;
}

sim_relationship *sim_rel_find_dst(sim_fabric *f, sim_volume *dst)
{
	for (size_t i = 0; i < f->relationships.len; i++) {
		sim_relationship *r = f->relationships.items[i];
		if (r->dst == dst && r->dest_record)
			return r;
	}
	return NULL;
}

sim_job *sim_job_find(sim_fabric *f, const char *uuid)
{
	for (size_t i = 0; uuid && i < f->jobs.len; i++) {
		sim_job *j = f->jobs.items[i];
		if (strcmp(j->uuid, uuid) == 0)
			return j;
	}
	return NULL;
}

sim_transfer *sim_transfer_find(sim_fabric *f, const char *uuid)
{
	for (size_t i = 0; uuid && i < f->transfers.len; i++) {
		sim_transfer *t = f->transfers.items[i];
		if (strcmp(t->uuid, uuid) == 0)
			return t;
	}
	return NULL;
}

sim_relationship *sim_rel_using(sim_fabric *f, const sim_volume *v)
{
	for (size_t i = 0; i < f->relationships.len; i++) {
		sim_relationship *r = f->relationships.items[i];
		if (r->src == v || r->dst == v)
			return r;
	}
	return NULL;
}

void sim_volume_remove(sim_fabric *f, sim_volume *v, const char *operation)
{
	for (size_t i = 0; i < f->volumes.len; i++) {
		if (f->volumes.items[i] != v)
			continue;
		sim_vec_remove(&f->volumes, i);
		/* Checked once the volume is gone from the fabric, so that only generations
		 * nothing else holds are recorded. */
		char detail[SIM_MSG];
		snprintf(detail, sizeof(detail), "volume %s deleted", v->name);
		for (size_t k = 0; k < v->snaps.len; k++)
			sim_note_discard(f, v, ((sim_snapshot *)v->snaps.items[k])->generation,
					 operation, detail);
		sim_note_discard(f, v, v->afs_gen, operation, detail);
		vec_free_all(&v->snaps);
		free(v);
		return;
	}
}

void sim_rel_remove(sim_fabric *f, sim_relationship *r)
{
	for (size_t i = 0; i < f->transfers.len;) {
		sim_transfer *t = f->transfers.items[i];
		if (t->rel == r) {
			sim_vec_remove(&f->transfers, i);
			free(t);
		} else {
			i++;
		}
	}
	for (size_t i = 0; i < f->relationships.len; i++)
		if (f->relationships.items[i] == r) {
			sim_vec_remove(&f->relationships, i);
			free(r);
			return;
		}
}

static bool descends_from(const sim_fabric *f, uint64_t g, uint64_t ancestor)
{
	for (size_t steps = 0; steps <= f->gen_parent.len; steps++) {
		if (g == ancestor)
			return true;
		if (g == 0 || g >= f->gen_parent.len)
			return false;
		g = (uint64_t)(uintptr_t)f->gen_parent.items[g];
	}
	return false;
}

static bool gen_survives(const sim_fabric *f, uint64_t gen)
{
	for (size_t i = 0; i < f->volumes.len; i++) {
		const sim_volume *v = f->volumes.items[i];
		if (descends_from(f, v->afs_gen, gen))
			return true;
		for (size_t k = 0; k < v->snaps.len; k++)
			if (descends_from(f, ((sim_snapshot *)v->snaps.items[k])->generation, gen))
				return true;
	}
	return false;
}

void sim_note_discard(sim_fabric *f, sim_volume *v, uint64_t gen, const char *operation,
		      const char *detail)
{
	if (gen == 0 || gen_survives(f, gen))
		return;
	sim_ledger_entry *e = calloc(1, sizeof(*e));
	if (!e)
		return;
	e->seq = ++f->ledger_seq;
	e->at_ms = f->now_ms;
	snprintf(e->cluster, sizeof(e->cluster), "%s", v->svm->cluster->name);
	snprintf(e->volume, sizeof(e->volume), "%s:%s", v->svm->name, v->name);
	e->generation = gen;
	snprintf(e->operation, sizeof(e->operation), "%s", operation);
	snprintf(e->detail, sizeof(e->detail), "%s", detail ? detail : "");
	if (sim_vec_push(&f->ledger, e))
		free(e);
}

void sim_log_request(sim_fabric *f, const char *cluster, const char *method, const char *path,
		     const char *user_agent, const char *body, int status)
{
	sim_log_entry *e = calloc(1, sizeof(*e));
	if (!e)
		return;
	e->seq = ++f->log_seq;
	e->at_ms = f->now_ms;
	snprintf(e->cluster, sizeof(e->cluster), "%s", cluster);
	snprintf(e->method, sizeof(e->method), "%s", method);
	e->path = mg_strdup(path);
	e->body = body ? strndup(body, 4096) : NULL;
	e->status = status;
	snprintf(e->user_agent, sizeof(e->user_agent), "%s", user_agent ? user_agent : "");
	if (!e->path || sim_vec_push(&f->log, e)) {
		free(e->path);
		free(e->body);
		free(e);
		return;
	}
	if (f->log.len > LOG_MAX) {
		sim_log_entry *old = f->log.items[0];
		sim_vec_remove(&f->log, 0);
		free(old->path);
		free(old->body);
		free(old);
	}
}
