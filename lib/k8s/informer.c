/* The informer: cache, indexes, and the reflector loop in one watch thread. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "informer_map.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/k8s/informer.h"
#include "mirrorgate/util/log.h"
#include "mirrorgate/rules/lookup.h"
#include "mirrorgate/util/strbuf.h"

struct keyset {
	char **keys;
	size_t n;
};

struct index {
	char *name;
	mg_strmap *map; /* index key -> struct keyset of object keys */
};

struct mg_informer {
	mg_k8s_client *client;
	char *group, *version, *resource;
	mg_k8s_resource res;
	char *ns, *label_selector, *field_selector;
	long page_size, backoff_base_ms, backoff_cap_ms, watch_timeout_s;
	mg_informer_handlers h;
	bool strip_last_applied;

	pthread_rwlock_t lock;
	mg_strmap *objs; /* object key -> cJSON * */
	struct index *idx;
	size_t nidx;
	char *rv;

	pthread_mutex_t mu; /* guards the sync/stop condition and rv copies */
	pthread_cond_t cond;
	atomic_int stop;
	atomic_int synced;
	atomic_ulong lists;
	pthread_t thread;
	bool running;
	unsigned int seed;
};

static void keyset_free(void *p)
{
	struct keyset *ks = p;
	if (!ks)
		return;
	for (size_t i = 0; i < ks->n; i++)
		free(ks->keys[i]);
	free(ks->keys);
	free(ks);
}

static void obj_free(void *p)
{
	cJSON_Delete(p);
}

static const char *meta(const cJSON *obj, const char *f)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(obj, "metadata"), f);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static char *obj_key(const char *ns, const char *name)
{
	return ns && *ns ? mg_asprintf("%s/%s", ns, name) : mg_strdup(name);
}

void mg_informer_free(mg_informer *inf)
{
	if (!inf)
		return;
	mg_informer_stop(inf);
	mg_strmap_free(inf->objs);
	for (size_t i = 0; i < inf->nidx; i++) {
		free(inf->idx[i].name);
		mg_strmap_free(inf->idx[i].map);
	}
	free(inf->idx);
	free(inf->group);
	free(inf->version);
	free(inf->resource);
	free(inf->ns);
	free(inf->label_selector);
	free(inf->field_selector);
	free(inf->rv);
	pthread_rwlock_destroy(&inf->lock);
	pthread_mutex_destroy(&inf->mu);
	pthread_cond_destroy(&inf->cond);
	free(inf);
}

static int dup_opt(char **dst, const char *src)
{
	if (!src || !*src)
		return 0;
	return (*dst = mg_strdup(src)) ? 0 : MG_ENOMEM;
}

int mg_informer_new(mg_informer **out, mg_k8s_client *client, const mg_k8s_resource *res,
		    const mg_informer_opts *opts)
{
	mg_informer_opts o = {0};
	if (!out || !client || !res || !res->version || !res->resource)
		return MG_EINVAL;
	if (opts)
		o = *opts;
	mg_informer *inf = calloc(1, sizeof(*inf));
	if (!inf)
		return MG_ENOMEM;
	pthread_rwlockattr_t attr;
	pthread_rwlockattr_init(&attr);
	/* Readers are many and short; a writer must not starve behind them. */
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&inf->lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	pthread_mutex_init(&inf->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&inf->cond, &ca);
	pthread_condattr_destroy(&ca);
	inf->client = client;
	inf->page_size = o.page_size > 0 ? o.page_size : 500;
	inf->backoff_base_ms = o.backoff_base_ms > 0 ? o.backoff_base_ms : 200;
	inf->backoff_cap_ms = o.backoff_cap_ms > 0 ? o.backoff_cap_ms : 30000;
	inf->watch_timeout_s = o.watch_timeout_s > 0 ? o.watch_timeout_s : 300;
	inf->seed = (unsigned int)time(NULL) ^ (unsigned int)(uintptr_t)inf;
	if (o.handlers)
		inf->h = *o.handlers;
	inf->strip_last_applied = o.strip_last_applied;
	int rc = MG_ENOMEM;
	if (dup_opt(&inf->group, res->group ? res->group : "") != 0 ||
	    !(inf->group = inf->group ? inf->group : mg_strdup("")) ||
	    dup_opt(&inf->version, res->version) != 0 || dup_opt(&inf->resource, res->resource) != 0 ||
	    dup_opt(&inf->ns, o.ns) != 0 || dup_opt(&inf->label_selector, o.label_selector) != 0 ||
	    dup_opt(&inf->field_selector, o.field_selector) != 0 ||
	    mg_strmap_new(&inf->objs, obj_free) != 0)
		goto fail;
	inf->res = (mg_k8s_resource){inf->group, inf->version, inf->resource, res->namespaced};
	if (o.nindexes) {
		if (!(inf->idx = calloc(o.nindexes, sizeof(*inf->idx))))
			goto fail;
		for (size_t i = 0; i < o.nindexes; i++) {
			if (!(inf->idx[i].name = mg_strdup(o.indexes[i])) ||
			    mg_strmap_new(&inf->idx[i].map, keyset_free) != 0) {
				free(inf->idx[i].name);
				goto fail;
			}
			inf->nidx++;
		}
	}
	*out = inf;
	return 0;
fail:
	mg_informer_free(inf);
	return rc;
}

/* ---- index maintenance (write lock held) ---- */

struct idx_op {
	struct index *ix;
	const char *objkey;
	int add;
	int rc;
};

static int idx_apply(void *ctx, const char *key)
{
	struct idx_op *op = ctx;
	struct keyset *ks = mg_strmap_get(op->ix->map, key);
	if (op->add) {
		if (!ks) {
			if (!(ks = calloc(1, sizeof(*ks))) || mg_strmap_put(op->ix->map, key, ks) != 0) {
				free(ks);
				return op->rc = MG_ENOMEM;
			}
		}
		for (size_t i = 0; i < ks->n; i++)
			if (strcmp(ks->keys[i], op->objkey) == 0)
				return 0;
		char **nk = realloc(ks->keys, (ks->n + 1) * sizeof(*nk));
		if (!nk)
			return op->rc = MG_ENOMEM;
		ks->keys = nk;
		if (!(nk[ks->n] = mg_strdup(op->objkey)))
			return op->rc = MG_ENOMEM;
		ks->n++;
		return 0;
	}
	if (!ks)
		return 0;
	for (size_t i = 0; i < ks->n; i++) {
		if (strcmp(ks->keys[i], op->objkey) == 0) {
			free(ks->keys[i]);
			ks->keys[i] = ks->keys[--ks->n];
			break;
		}
	}
	if (ks->n == 0)
		keyset_free(mg_strmap_take(op->ix->map, key));
	return 0;
}

static void index_update(mg_informer *inf, const char *objkey, const cJSON *obj, int add)
{
	for (size_t i = 0; i < inf->nidx && obj; i++) {
		struct idx_op op = {&inf->idx[i], objkey, add, 0};
		int rc = mg_index_keys(inf->idx[i].name, obj, idx_apply, &op);
		if (rc == 0)
			rc = op.rc;
		if (rc != 0)
			mg_warn("informer: index not updated", "index", inf->idx[i].name, "object",
				objkey, "error", mg_strerror(rc), NULL);
	}
}

/* What no reader of the cache uses and the API server sends with every object:
 * metadata.managedFields (often most of an object's bytes) always; it may be left out of a
 * PUT of a cached copy, which keeps the stored one. The kubectl last-applied annotation
 * (a second copy of the object) only for read-only caches (strip_last_applied): a PUT of
 * a copy without it would delete it. */
static void trim(const mg_informer *inf, cJSON *obj)
{
	cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	cJSON_DeleteItemFromObjectCaseSensitive(md, "managedFields");
	if (inf->strip_last_applied)
		cJSON_DeleteItemFromObjectCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(md, "annotations"),
			"kubectl.kubernetes.io/last-applied-configuration");
}

/* Stores obj (taking ownership) and calls the handlers. */
static int upsert(mg_informer *inf, cJSON *obj)
{
	trim(inf, obj);
	const char *name = meta(obj, "name");
	if (!name) {
		cJSON_Delete(obj);
		return MG_EPARSE;
	}
	char *key = obj_key(meta(obj, "namespace"), name);
	if (!key) {
		cJSON_Delete(obj);
		return MG_ENOMEM;
	}
	pthread_rwlock_wrlock(&inf->lock);
	cJSON *old = mg_strmap_take(inf->objs, key);
	index_update(inf, key, old, 0);
	int rc = mg_strmap_put(inf->objs, key, obj);
	if (rc == 0)
		index_update(inf, key, obj, 1);
	pthread_rwlock_unlock(&inf->lock);
	if (rc != 0) {
		cJSON_Delete(obj);
	} else if (old && inf->h.on_update) {
		inf->h.on_update(inf->h.ctx, old, obj);
	} else if (!old && inf->h.on_add) {
		inf->h.on_add(inf->h.ctx, obj);
	}
	cJSON_Delete(old);
	free(key);
	return rc;
}

static void remove_key(mg_informer *inf, const char *key)
{
	pthread_rwlock_wrlock(&inf->lock);
	cJSON *old = mg_strmap_take(inf->objs, key);
	index_update(inf, key, old, 0);
	pthread_rwlock_unlock(&inf->lock);
	if (old && inf->h.on_delete)
		inf->h.on_delete(inf->h.ctx, old);
	cJSON_Delete(old);
}

static void set_rv(mg_informer *inf, const char *rv)
{
	char *c = mg_strdup(rv);
	if (!c)
		return;
	pthread_mutex_lock(&inf->mu);
	free(inf->rv);
	inf->rv = c;
	pthread_mutex_unlock(&inf->mu);
}

/* ---- reflector ---- */

struct stale_ctx {
	mg_strmap *fresh_keys; /* a hash set: key -> non-NULL; O(1) look-ups keep a relist O(N) */
	char **stale;
	size_t n;
	int rc;
};

static int find_stale(void *ctx, const char *key, void *val)
{
	(void)val;
	struct stale_ctx *s = ctx;
	if (mg_strmap_get(s->fresh_keys, key))
		return 0;
	char **n = realloc(s->stale, (s->n + 1) * sizeof(*n));
	if (!n)
		return s->rc = MG_ENOMEM;
	s->stale = n;
	if (!(n[s->n] = mg_strdup(key)))
		return s->rc = MG_ENOMEM;
	s->n++;
	return 0;
}

/* Replaces the cache with a fresh list: updates what changed, deletes what vanished. */
static int replace_all(mg_informer *inf, cJSON *items)
{
	struct stale_ctx s = {NULL, NULL, 0, 0};
	int rc = 0;
	if (mg_strmap_new(&s.fresh_keys, NULL) != 0)
		return MG_ENOMEM;
	char present = 1;
	cJSON *it;
	/* detached from the front: cJSON's array removal from the head is O(1) */
	while ((it = cJSON_DetachItemFromArray(items, 0))) {
		const char *name = meta(it, "name");
		char *key = name ? obj_key(meta(it, "namespace"), name) : NULL;
		if (key && mg_strmap_put(s.fresh_keys, key, &present) != 0 && rc == 0)
			rc = MG_ENOMEM;
		free(key);
		int r = upsert(inf, it);
		if (r != 0 && rc == 0)
			rc = r;
	}
	/* with an incomplete set of fresh keys, live objects would look stale: keep them all */
	if (rc != MG_ENOMEM) {
		pthread_rwlock_rdlock(&inf->lock);
		mg_strmap_each(inf->objs, find_stale, &s);
		pthread_rwlock_unlock(&inf->lock);
	}
	for (size_t i = 0; i < s.n; i++) {
		remove_key(inf, s.stale[i]);
		free(s.stale[i]);
	}
	free(s.stale);
	mg_strmap_free(s.fresh_keys);
	return rc ? rc : s.rc;
}

static int on_event(void *ctx, const char *type, const cJSON *obj)
{
	mg_informer *inf = ctx;
	if (strcmp(type, "BOOKMARK") == 0)
		return 0; /* only its resourceVersion matters; mg_k8s_watch records it */
	if (strcmp(type, "DELETED") == 0) {
		const char *name = meta(obj, "name");
		char *key = name ? obj_key(meta(obj, "namespace"), name) : NULL;
		if (key)
			remove_key(inf, key);
		free(key);
		return 0;
	}
	if (strcmp(type, "ADDED") == 0 || strcmp(type, "MODIFIED") == 0) {
		cJSON *copy = cJSON_Duplicate(obj, 1);
		if (copy)
			upsert(inf, copy);
	}
	return 0;
}

/* Sleeps ms unless stopped first; returns non-zero when stopped. */
static int pause_ms(mg_informer *inf, long ms)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&inf->mu);
	while (!atomic_load(&inf->stop)) {
		if (pthread_cond_timedwait(&inf->cond, &inf->mu, &until) != 0)
			break;
	}
	pthread_mutex_unlock(&inf->mu);
	return atomic_load(&inf->stop);
}

static long retry_delay(mg_informer *inf, unsigned *attempt, const mg_k8s_status *st)
{
	double rnd = (double)rand_r(&inf->seed) / ((double)RAND_MAX + 1.0);
	long d = mg_k8s_backoff_ms((*attempt)++, inf->backoff_base_ms, inf->backoff_cap_ms, rnd);
	if (st && st->retry_after > 0 && st->retry_after * 1000 > d)
		d = st->retry_after * 1000;
	return d;
}

static void *run(void *arg)
{
	mg_informer *inf = arg;
	unsigned attempt = 0;
	bool need_list = true;
	char resource_desc[256];
	snprintf(resource_desc, sizeof(resource_desc), "%s%s%s", inf->resource,
		 inf->group[0] ? "." : "", inf->group);
	while (!atomic_load(&inf->stop)) {
		mg_k8s_status st;
		if (need_list) {
			cJSON *items = NULL;
			char *rv = NULL;
			mg_k8s_list_opts lo = {inf->label_selector, inf->field_selector, inf->page_size,
					       NULL, NULL};
			int rc = mg_k8s_list_all(&items, &rv, inf->client, &inf->res, inf->ns, &lo, &st);
			if (rc != 0) {
				mg_warn("informer: list failed", "resource", resource_desc, "error",
					mg_strerror(rc), "detail", st.message, NULL);
				if (pause_ms(inf, retry_delay(inf, &attempt, &st)))
					break;
				continue;
			}
			rc = replace_all(inf, items);
			cJSON_Delete(items);
			set_rv(inf, rv);
			free(rv);
			if (rc != 0)
				mg_warn("informer: some listed objects were not cached", "resource",
					resource_desc, "error", mg_strerror(rc), NULL);
			atomic_fetch_add(&inf->lists, 1);
			need_list = false;
			attempt = 0;
			pthread_mutex_lock(&inf->mu);
			atomic_store(&inf->synced, 1);
			pthread_cond_broadcast(&inf->cond);
			pthread_mutex_unlock(&inf->mu);
		}
		char *rv = mg_informer_resource_version(inf);
		mg_k8s_watch_opts wo = {rv, inf->label_selector, inf->field_selector, true,
					inf->watch_timeout_s, &inf->stop};
		char *last = NULL;
		int rc = mg_k8s_watch(inf->client, &inf->res, inf->ns, &wo, on_event, inf, &last, &st);
		free(rv);
		if (last)
			set_rv(inf, last);
		free(last);
		if (atomic_load(&inf->stop))
			break;
		if (rc == MG_EGONE) {
			/* The version expired: only a fresh list is consistent again. */
			mg_info("informer: watch expired, relisting", "resource", resource_desc, NULL);
			need_list = true;
			continue;
		}
		if (rc == 0) {
			attempt = 0; /* the server ended the watch normally: resume */
			continue;
		}
		mg_warn("informer: watch failed", "resource", resource_desc, "error", mg_strerror(rc),
			"detail", st.message, NULL);
		if (pause_ms(inf, retry_delay(inf, &attempt, &st)))
			break;
	}
	return NULL;
}

int mg_informer_start(mg_informer *inf)
{
	if (!inf || inf->running)
		return MG_EINVAL;
	atomic_store(&inf->stop, 0);
	if (pthread_create(&inf->thread, NULL, run, inf) != 0)
		return MG_ENOMEM;
	inf->running = true;
	return 0;
}

void mg_informer_request_stop(mg_informer *inf)
{
	if (!inf)
		return;
	pthread_mutex_lock(&inf->mu);
	atomic_store(&inf->stop, 1);
	pthread_cond_broadcast(&inf->cond);
	pthread_mutex_unlock(&inf->mu);
}

void mg_informer_stop(mg_informer *inf)
{
	if (!inf || !inf->running)
		return;
	mg_informer_request_stop(inf);
	pthread_join(inf->thread, NULL);
	inf->running = false;
}

bool mg_informer_synced(mg_informer *inf)
{
	return inf && atomic_load(&inf->synced);
}

int mg_informer_wait_synced(mg_informer *inf, long timeout_ms)
{
	if (!inf)
		return MG_EINVAL;
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&inf->mu);
	while (!atomic_load(&inf->synced)) {
		if (pthread_cond_timedwait(&inf->cond, &inf->mu, &until) != 0)
			break;
	}
	pthread_mutex_unlock(&inf->mu);
	return atomic_load(&inf->synced) ? 0 : MG_ETIMEOUT;
}

void mg_informer_read_lock(mg_informer *inf)
{
	pthread_rwlock_rdlock(&inf->lock);
}

void mg_informer_read_unlock(mg_informer *inf)
{
	pthread_rwlock_unlock(&inf->lock);
}

const cJSON *mg_informer_get(mg_informer *inf, const char *ns, const char *name)
{
	if (!inf || !name)
		return NULL;
	char *key = obj_key(inf->res.namespaced ? ns : NULL, name);
	const cJSON *o = key ? mg_strmap_get(inf->objs, key) : NULL;
	free(key);
	return o;
}

struct each_ctx {
	const char *ns;
	size_t nslen;
	int (*fn)(void *ctx, const cJSON *obj);
	void *ctx;
};

static int each_one(void *ctx, const char *key, void *val)
{
	struct each_ctx *e = ctx;
	if (e->ns && (strncmp(key, e->ns, e->nslen) != 0 || key[e->nslen] != '/'))
		return 0;
	return e->fn(e->ctx, val);
}

int mg_informer_each(mg_informer *inf, const char *ns, int (*fn)(void *ctx, const cJSON *obj),
		     void *ctx)
{
	if (!inf || !fn)
		return MG_EINVAL;
	struct each_ctx e = {ns, ns ? strlen(ns) : 0, fn, ctx};
	return mg_strmap_each(inf->objs, each_one, &e);
}

int mg_informer_each_indexed(mg_informer *inf, const char *index, const char *key,
			     int (*fn)(void *ctx, const cJSON *obj), void *ctx)
{
	if (!inf || !index || !key || !fn)
		return MG_EINVAL;
	for (size_t i = 0; i < inf->nidx; i++) {
		if (strcmp(inf->idx[i].name, index) != 0)
			continue;
		const struct keyset *ks = mg_strmap_get(inf->idx[i].map, key);
		for (size_t k = 0; ks && k < ks->n; k++) {
			const cJSON *o = mg_strmap_get(inf->objs, ks->keys[k]);
			int rc = o ? fn(ctx, o) : 0;
			if (rc)
				return rc;
		}
		return 0;
	}
	return MG_EINVAL;
}

size_t mg_informer_count(mg_informer *inf)
{
	pthread_rwlock_rdlock(&inf->lock);
	size_t n = mg_strmap_len(inf->objs);
	pthread_rwlock_unlock(&inf->lock);
	return n;
}

cJSON *mg_informer_get_copy(mg_informer *inf, const char *ns, const char *name)
{
	pthread_rwlock_rdlock(&inf->lock);
	const cJSON *o = mg_informer_get(inf, ns, name);
	cJSON *c = o ? cJSON_Duplicate(o, 1) : NULL;
	pthread_rwlock_unlock(&inf->lock);
	return c;
}

unsigned long mg_informer_list_count(mg_informer *inf)
{
	return atomic_load(&inf->lists);
}

char *mg_informer_resource_version(mg_informer *inf)
{
	pthread_mutex_lock(&inf->mu);
	char *rv = mg_strdup(inf->rv);
	pthread_mutex_unlock(&inf->mu);
	return rv;
}
