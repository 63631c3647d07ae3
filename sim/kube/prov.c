/* The provisioner's controller thread: wakes on store changes (the store's `changed`
 * condvar) or after a bounded wait, takes copies of the objects it watches, and runs each
 * handler without the store lock. A handler that fails is retried after a capped
 * exponential backoff, per object; nothing is retried in a hot loop. */
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/util/log.h"
#include "mirrorgate/util/strbuf.h"
#include "prov_internal.h"

prov_backend *prov_backend_by_uuid(ksim_prov *p, const char *uuid)
{
	for (size_t i = 0; uuid && i < p->nbackends; i++)
		if (strcmp(p->backends[i].uuid, uuid) == 0)
			return &p->backends[i];
	return NULL;
}

static prov_retry *retry_find(ksim_prov *p, const char *key)
{
	for (size_t i = 0; i < p->nretries; i++)
		if (strcmp(p->retries[i].key, key) == 0)
			return &p->retries[i];
	return NULL;
}

static bool due(ksim_prov *p, const char *key, long long now)
{
	prov_retry *r = retry_find(p, key);
	return !r || r->due_ms <= now;
}

/* Records the outcome of a handler: success forgets the key; failure doubles its wait. */
static void outcome(ksim_prov *p, const char *key, int rc, long long now)
{
	prov_retry *r = retry_find(p, key);
	if (rc == 0) {
		if (r)
			*r = p->retries[--p->nretries];
		return;
	}
	if (!r) {
		if (p->nretries == p->capretries) {
			size_t cap = p->capretries ? p->capretries * 2 : 32;
			prov_retry *n = realloc(p->retries, cap * sizeof(*n));
			if (!n)
				return; /* retried at the next pass instead: still bounded by resync */
			p->retries = n;
			p->capretries = cap;
		}
		r = &p->retries[p->nretries++];
		memset(r, 0, sizeof(*r));
		snprintf(r->key, sizeof(r->key), "%s", key);
	}
	long long wait = p->cfg.retry_base_ms;
	for (unsigned i = 0; i < r->fails && wait < p->cfg.retry_cap_ms; i++)
		wait *= 2;
	if (wait > p->cfg.retry_cap_ms)
		wait = p->cfg.retry_cap_ms;
	r->fails++;
	r->due_ms = now + wait;
}

/* Keys of retries whose object is gone would linger: drop those not seen in a pass. */
static void retries_prune(ksim_prov *p, const prov_view *v)
{
	for (size_t i = 0; i < p->nretries;) {
		char kind[16] = "", ns[256] = "", name[256] = "";
		const char *k = p->retries[i].key;
		bool keep = true;
		if (sscanf(k, "%15[^/]/%255[^/]/%255s", kind, ns, name) == 3) {
			const cJSON *list = strcmp(kind, "pvc") == 0  ? v->pvcs
					    : strcmp(kind, "pv") == 0 ? v->pvs
					    : strcmp(kind, "vs") == 0 ? v->vss
								      : v->vscs;
			keep = prov_find(list, ns[0] == '-' ? NULL : ns, name) != NULL;
		}
		if (keep)
			i++;
		else
			p->retries[i] = p->retries[--p->nretries];
	}
}

static void run(ksim_prov *p, const char *kind, const cJSON *o,
		int (*fn)(ksim_prov *, const prov_view *, const cJSON *), const prov_view *v)
{
	char key[320];
	const char *ns = prov_md(o, "namespace"), *name = prov_md(o, "name");
	if (!name)
		return;
	snprintf(key, sizeof(key), "%s/%s/%s", kind, ns ? ns : "-", name);
	long long now = prov_now_ms();
	if (!due(p, key, now))
		return;
	outcome(p, key, fn(p, v, o), prov_now_ms());
}

static void pass(ksim_prov *p)
{
	prov_view v;
	if (prov_view_take(p, &v) != 0) {
		mg_warn("kube-sim provisioner: out of memory reading the store", NULL);
		return;
	}
	const cJSON *it;
	cJSON_ArrayForEach(it, v.pvcs) run(p, "pvc", it, prov_claim, &v);
	cJSON_ArrayForEach(it, v.pvs) run(p, "pv", it, prov_release, &v);
	cJSON_ArrayForEach(it, v.vss) run(p, "vs", it, prov_snapshot, &v);
	cJSON_ArrayForEach(it, v.vscs) run(p, "vsc", it, prov_snapshot_release, &v);
	retries_prune(p, &v);
	prov_view_free(&v);
}

static void *thread_main(void *arg)
{
	ksim_prov *p = arg;
	ksim_store *s = &p->srv->store;
	unsigned long long seen = 0;
	while (!atomic_load(&s->stopping)) {
		pthread_mutex_lock(&s->lock);
		long long now = prov_now_ms(), wake = now + p->cfg.resync_ms;
		for (size_t i = 0; i < p->nretries; i++)
			if (p->retries[i].due_ms < wake)
				wake = p->retries[i].due_ms;
		if (wake < now + 10)
			wake = now + 10;
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		long long add = wake - now;
		until.tv_sec += add / 1000;
		until.tv_nsec += (add % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (s->rv == seen && !atomic_load(&s->stopping) &&
		       pthread_cond_timedwait(&s->changed, &s->lock, &until) == 0)
			;
		seen = s->rv;
		pthread_mutex_unlock(&s->lock);
		if (atomic_load(&s->stopping))
			break;
		pass(p);
	}
	return NULL;
}

static const ksim_res *find(ksim_server *srv, const char *g, const char *res)
{
	return ksim_types_find(&srv->types, g, "v1", res);
}

static void backends_free(ksim_prov *p)
{
	for (size_t i = 0; i < p->nbackends; i++)
		mg_ontap_client_free(p->backends[i].client);
	free(p->backends);
	p->backends = NULL;
	p->nbackends = 0;
}

int ksim_prov_start(ksim_prov **out, ksim_server *srv, const ksim_prov_config *cfg, char *why,
		    size_t why_len)
{
	int rc = 0;
	ksim_prov *p = calloc(1, sizeof(*p));
	if (!p)
		return MG_ENOMEM;
	p->srv = srv;
	p->cfg = *cfg;
	p->pvc = find(srv, "", "persistentvolumeclaims");
	p->pv = find(srv, "", "persistentvolumes");
	p->sc = find(srv, "storage.k8s.io", "storageclasses");
	p->event = find(srv, "", "events");
	p->vs = find(srv, "snapshot.storage.k8s.io", "volumesnapshots");
	p->vsc = find(srv, "snapshot.storage.k8s.io", "volumesnapshotcontents");
	p->vsclass = find(srv, "snapshot.storage.k8s.io", "volumesnapshotclasses");
	p->tmr = find(srv, "trident.netapp.io", "tridentmirrorrelationships");
	if (!(p->backends = calloc(cfg->nbackends, sizeof(*p->backends)))) {
		rc = MG_ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < cfg->nbackends; i++) {
		const ksim_prov_backend_cfg *b = &cfg->backends[i];
		prov_backend *pb = &p->backends[p->nbackends];
		mg_ontap_config oc = MG_ONTAP_CONFIG_INIT;
		oc.base_url = b->url;
		oc.ca_file = b->ca_file;
		oc.username = b->username;
		oc.password = b->password;
		oc.timeout_ms = cfg->ontap_timeout_ms;
		oc.connect_timeout_ms = cfg->ontap_timeout_ms;
		oc.job_deadline_ms = (uint64_t)cfg->ontap_timeout_ms * 3;
		oc.job_initial_interval_ms = 20;
		oc.job_max_interval_ms = 500;
		oc.user_agent = "kube-sim-provisioner";
		pb->cfg = b;
		/* The client reads the CA at its first call; a typo should stop start-up instead
		 * of failing every provisioning later. */
		if (access(b->ca_file, R_OK) != 0) {
			snprintf(why, why_len, "backend %s: cannot read trustedCAFile %s", b->name,
				 b->ca_file);
			rc = MG_EIO;
			goto fail;
		}
		if ((rc = mg_ontap_client_new(&pb->client, &oc)) != 0) {
			snprintf(why, why_len, "backend %s: cannot use its ONTAP settings (%s)",
				 b->name, mg_strerror(rc));
			goto fail;
		}
		p->nbackends++;
		unsigned char raw[16];
		if (RAND_bytes(raw, sizeof(raw)) != 1) {
			snprintf(why, why_len, "no randomness for a backend UUID");
			rc = MG_EIO;
			goto fail;
		}
		snprintf(pb->uuid, sizeof(pb->uuid),
			 "%02x%02x%02x%02x-%02x%02x-4%x%02x-8%x%02x-%02x%02x%02x%02x%02x%02x", raw[0],
			 raw[1], raw[2], raw[3], raw[4], raw[5], raw[6] & 0xf, raw[7], raw[8] & 0xf,
			 raw[9], raw[10], raw[11], raw[12], raw[13], raw[14], raw[15]);
	}
	if (pthread_create(&p->thread, NULL, thread_main, p) != 0) {
		snprintf(why, why_len, "cannot start the provisioner thread");
		rc = MG_ENOMEM;
		goto fail;
	}
	p->started = true;
	*out = p;
	return 0;
fail:
	backends_free(p);
	free(p);
	return rc;
}

void ksim_prov_stop(ksim_prov *p)
{
	if (!p)
		return;
	if (p->started) {
		ksim_store *s = &p->srv->store;
		atomic_store(&s->stopping, 1);
		pthread_mutex_lock(&s->lock);
		pthread_cond_broadcast(&s->changed);
		pthread_mutex_unlock(&s->lock);
		pthread_join(p->thread, NULL);
	}
	backends_free(p);
	free(p->retries);
	free(p);
}
