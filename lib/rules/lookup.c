#include "mirrorgate/rules/lookup.h"

#include <stdlib.h>
#include <string.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/util/strbuf.h"

#define ANN_MIRROR "trident.netapp.io/mirrorRelationship"

void mg_lookup_begin(const mg_lookup *lk)
{
	if (lk && lk->ops && lk->ops->begin)
		lk->ops->begin(lk->self);
}

void mg_lookup_end(const mg_lookup *lk)
{
	if (lk && lk->ops && lk->ops->end)
		lk->ops->end(lk->self);
}

const cJSON *mg_lookup_get(const mg_lookup *lk, const char *kind, const char *ns,
			   const char *name)
{
	if (!lk || !lk->ops || !lk->ops->get || !name)
		return NULL;
	return lk->ops->get(lk->self, kind, ns, name);
}

int mg_lookup_each(const mg_lookup *lk, const char *kind, const char *ns, mg_lookup_fn fn,
		   void *ctx)
{
	if (!lk || !lk->ops || !lk->ops->each)
		return 0;
	return lk->ops->each(lk->self, kind, ns, fn, ctx);
}

static const char *index_kind(const char *index)
{
	if (strcmp(index, MG_INDEX_TMR_BY_PVC) == 0 || strcmp(index, MG_INDEX_TMR_BY_REMOTE) == 0)
		return MG_KIND_TMR;
	if (strcmp(index, MG_INDEX_PVC_BY_MIRROR) == 0)
		return MG_KIND_PVC;
	return NULL;
}

struct scan {
	const char *index;
	const char *key;
	mg_lookup_fn fn;
	void *ctx;
	const cJSON *object;
	int matched;
};

static int key_matches(void *ctx, const char *key)
{
	struct scan *s = ctx;
	if (strcmp(key, s->key) == 0)
		s->matched = 1;
	return 0;
}

static int scan_one(void *ctx, const cJSON *object)
{
	struct scan *s = ctx;
	s->matched = 0;
	int rc = mg_index_keys(s->index, object, key_matches, s);
	if (rc)
		return rc;
	return s->matched ? s->fn(s->ctx, object) : 0;
}

int mg_lookup_each_indexed(const mg_lookup *lk, const char *index, const char *key,
			   mg_lookup_fn fn, void *ctx)
{
	if (!lk || !lk->ops)
		return 0;
	if (lk->ops->each_indexed)
		return lk->ops->each_indexed(lk->self, index, key, fn, ctx);
	const char *kind = index_kind(index);
	if (!kind)
		return MG_EINVAL;
	struct scan s = {index, key, fn, ctx, NULL, 0};
	return mg_lookup_each(lk, kind, NULL, scan_one, &s);
}

const mg_topology *mg_lookup_topology(const mg_lookup *lk)
{
	if (!lk || !lk->ops || !lk->ops->topology)
		return NULL;
	return lk->ops->topology(lk->self);
}

int mg_lookup_synced(const mg_lookup *lk)
{
	if (!lk || !lk->ops || !lk->ops->synced)
		return 1;
	return lk->ops->synced(lk->self);
}

static const char *str_at(const cJSON *obj, const char *a, const char *b)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(obj, a);
	if (b)
		n = cJSON_GetObjectItemCaseSensitive(n, b);
	return cJSON_IsString(n) ? n->valuestring : NULL;
}

static int emit_ns_key(const char *ns, const char *value, int (*fn)(void *, const char *),
		       void *ctx)
{
	char *key = mg_asprintf("%s/%s", ns ? ns : "", value);
	if (!key)
		return MG_ENOMEM;
	int rc = fn(ctx, key);
	free(key);
	return rc;
}

int mg_index_keys(const char *index, const cJSON *object, int (*fn)(void *ctx, const char *key),
		  void *ctx)
{
	const char *ns = str_at(object, "metadata", "namespace");
	if (strcmp(index, MG_INDEX_PVC_BY_MIRROR) == 0) {
		const cJSON *ann = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(object, "metadata"), "annotations");
		const char *tmr = str_at(ann, ANN_MIRROR, NULL);
		return tmr ? emit_ns_key(ns, tmr, fn, ctx) : 0;
	}
	bool by_pvc = strcmp(index, MG_INDEX_TMR_BY_PVC) == 0;
	if (!by_pvc && strcmp(index, MG_INDEX_TMR_BY_REMOTE) != 0)
		return MG_EINVAL;
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(object, "spec");
	const cJSON *maps = cJSON_GetObjectItemCaseSensitive(spec, "volumeMappings");
	if (!cJSON_IsArray(maps))
		return 0;
	for (const cJSON *m = maps->child; m; m = m->next) {
		int rc = 0;
		if (by_pvc) {
			const char *pvc = str_at(m, "localPVCName", NULL);
			if (pvc && *pvc)
				rc = emit_ns_key(ns, pvc, fn, ctx);
		} else {
			const char *remote = str_at(m, "remoteVolumeHandle", NULL);
			if (remote && *remote)
				rc = fn(ctx, remote);
		}
		if (rc)
			return rc;
	}
	return 0;
}
