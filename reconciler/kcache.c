#include "kcache.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/util/strbuf.h"

#define MAX_SOURCES 8
/* Versions of our own writes the watch has not shown yet. They are short-lived (until the
 * next read of the object, normally the pass the write's own watch event triggers), so a
 * small ring is enough; the oldest is dropped when it is full, by which time its watch
 * event has long arrived. */
#define MAX_PENDING 1024

struct pending {
	const mg_k8s_resource *r;
	char *key; /* "ns/name" */
	char *rv;
};

struct mg_kcache {
	mg_k8s_client *kube;
	struct {
		const mg_k8s_resource *r;
		mg_informer *inf;
	} src[MAX_SOURCES];
	size_t nsrc;
	pthread_mutex_t lock;
	struct pending pend[MAX_PENDING];
	size_t npend, head; /* ring: the oldest at head */
	mg_kcache_stats stats;
};

int mg_kcache_new(mg_kcache **out, mg_k8s_client *kube)
{
	mg_kcache *kc = calloc(1, sizeof(*kc));
	if (!kc)
		return MG_ENOMEM;
	kc->kube = kube;
	pthread_mutex_init(&kc->lock, NULL);
	*out = kc;
	return 0;
}

static void pending_clear(struct pending *p)
{
	free(p->key);
	free(p->rv);
	memset(p, 0, sizeof(*p));
}

void mg_kcache_free(mg_kcache *kc)
{
	if (!kc)
		return;
	for (size_t i = 0; i < MAX_PENDING; i++)
		pending_clear(&kc->pend[i]);
	pthread_mutex_destroy(&kc->lock);
	free(kc);
}

int mg_kcache_add(mg_kcache *kc, const mg_k8s_resource *r, mg_informer *inf)
{
	if (!kc || !r || !inf)
		return MG_EINVAL;
	if (kc->nsrc >= MAX_SOURCES)
		return MG_ETOOBIG;
	kc->src[kc->nsrc].r = r;
	kc->src[kc->nsrc].inf = inf;
	kc->nsrc++;
	return 0;
}

static mg_informer *source(const mg_kcache *kc, const mg_k8s_resource *r)
{
	for (size_t i = 0; kc && i < kc->nsrc; i++)
		if (kc->src[i].r == r)
			return kc->src[i].inf;
	return NULL;
}

static const char *rv_of(const cJSON *obj)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(obj, "metadata"), "resourceVersion");
	return cJSON_IsString(v) ? v->valuestring : "";
}

/* Slot of the pending write for (r, key), or MAX_PENDING. Lock held. */
static size_t pending_find(const mg_kcache *kc, const mg_k8s_resource *r, const char *key)
{
	for (size_t i = 0; i < kc->npend; i++) {
		size_t k = (kc->head + i) % MAX_PENDING;
		if (kc->pend[k].r == r && strcmp(kc->pend[k].key, key) == 0)
			return k;
	}
	return MAX_PENDING;
}

/* Removes slot k, keeping the ring contiguous (the last entry moves into the hole). */
static void pending_remove(mg_kcache *kc, size_t k)
{
	size_t last = (kc->head + kc->npend - 1) % MAX_PENDING;
	pending_clear(&kc->pend[k]);
	if (k != last) {
		kc->pend[k] = kc->pend[last];
		memset(&kc->pend[last], 0, sizeof(kc->pend[last]));
	}
	kc->npend--;
}

static void count(mg_kcache *kc, unsigned long *field)
{
	pthread_mutex_lock(&kc->lock);
	(*field)++;
	pthread_mutex_unlock(&kc->lock);
}

int mg_kcache_get(cJSON **out, mg_kcache *kc, mg_k8s_client *kube, const mg_k8s_resource *r,
		  const char *ns, const char *name, mg_k8s_status *st)
{
	if (!out || !r || !name)
		return MG_EINVAL;
	*out = NULL;
	mg_informer *inf = source(kc, r);
	cJSON *copy = inf ? mg_informer_get_copy(inf, r->namespaced ? ns : NULL, name) : NULL;
	if (copy) {
		char key[600];
		snprintf(key, sizeof(key), "%s/%s", r->namespaced && ns ? ns : "", name);
		pthread_mutex_lock(&kc->lock);
		size_t k = pending_find(kc, r, key);
		bool stale = k < MAX_PENDING && strcmp(kc->pend[k].rv, rv_of(copy)) == 0;
		if (k < MAX_PENDING && !stale)
			pending_remove(kc, k); /* the watch has caught up */
		if (stale)
			kc->stats.stale_gets++;
		else
			kc->stats.hits++;
		pthread_mutex_unlock(&kc->lock);
		if (!stale) {
			if (st) {
				memset(st, 0, sizeof(*st));
				st->code = 200;
				st->retry_after = -1;
			}
			*out = copy;
			return 0;
		}
		cJSON_Delete(copy);
	}
	if (kc)
		count(kc, &kc->stats.gets);
	return mg_k8s_get(out, kube ? kube : kc->kube, r, ns, name, st);
}

void mg_kcache_wrote(mg_kcache *kc, const mg_k8s_resource *r, const char *ns, const char *name,
		     const char *rv_sent)
{
	if (!kc || !r || !name || !rv_sent || !*rv_sent || !source(kc, r))
		return;
	char *key = mg_asprintf("%s/%s", r->namespaced && ns ? ns : "", name);
	char *rv = mg_strdup(rv_sent);
	if (!key || !rv) {
		/* Without the record a later read may be served stale; its write then gets a
		 * 409 and the retry re-reads, so this degrades to a retry, not to a wrong write. */
		free(key);
		free(rv);
		return;
	}
	pthread_mutex_lock(&kc->lock);
	size_t k = pending_find(kc, r, key);
	if (k < MAX_PENDING) {
		free(key);
		free(kc->pend[k].rv);
		kc->pend[k].rv = rv;
	} else {
		if (kc->npend == MAX_PENDING) {
			pending_clear(&kc->pend[kc->head]);
			kc->head = (kc->head + 1) % MAX_PENDING;
			kc->npend--;
		}
		k = (kc->head + kc->npend) % MAX_PENDING;
		kc->pend[k] = (struct pending){r, key, rv};
		kc->npend++;
	}
	pthread_mutex_unlock(&kc->lock);
}

void mg_kcache_get_stats(mg_kcache *kc, mg_kcache_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!kc)
		return;
	pthread_mutex_lock(&kc->lock);
	*out = kc->stats;
	pthread_mutex_unlock(&kc->lock);
}
