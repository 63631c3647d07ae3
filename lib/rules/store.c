/* The in-memory lookup: a flat list of objects. The CLI and tests hold tens of objects,
 * so a linear scan is simpler than indexes and fast enough; the informer serves clusters. */
#include <stdlib.h>
#include <string.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/rules/lookup.h"

struct mg_store {
	cJSON **objects;
	size_t len;
	size_t cap;
	mg_topology topology;
	bool has_topology;
};

static const char *field(const cJSON *obj, const char *a, const char *b)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(obj, a);
	if (b)
		n = cJSON_GetObjectItemCaseSensitive(n, b);
	return cJSON_IsString(n) ? n->valuestring : NULL;
}

static bool same_str(const char *a, const char *b)
{
	return (!a || !*a) ? (!b || !*b) : (b && strcmp(a, b) == 0);
}

static bool matches(const cJSON *obj, const char *kind, const char *ns, const char *name)
{
	return same_str(field(obj, "kind", NULL), kind) &&
	       same_str(field(obj, "metadata", "namespace"), ns) &&
	       same_str(field(obj, "metadata", "name"), name);
}

int mg_store_new(mg_store **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : MG_ENOMEM;
}

int mg_store_put(mg_store *store, cJSON *object)
{
	const char *kind = field(object, "kind", NULL);
	const char *name = field(object, "metadata", "name");
	if (!kind || !name || !*kind || !*name)
		return MG_EINVAL;
	const char *ns = field(object, "metadata", "namespace");
	for (size_t i = 0; i < store->len; i++) {
		if (matches(store->objects[i], kind, ns, name)) {
			cJSON_Delete(store->objects[i]);
			store->objects[i] = object;
			return 0;
		}
	}
	if (store->len == store->cap) {
		size_t cap = store->cap ? store->cap * 2 : 16;
		cJSON **grown = realloc(store->objects, cap * sizeof(*grown));
		if (!grown)
			return MG_ENOMEM;
		store->objects = grown;
		store->cap = cap;
	}
	store->objects[store->len++] = object;
	return 0;
}

void mg_store_set_topology(mg_store *store, mg_topology *t)
{
	mg_topology_free(&store->topology);
	store->topology = *t;
	store->has_topology = true;
	memset(t, 0, sizeof(*t));
}

size_t mg_store_count(const mg_store *store)
{
	return store->len;
}

static const cJSON *store_get(void *self, const char *kind, const char *ns, const char *name)
{
	mg_store *store = self;
	for (size_t i = 0; i < store->len; i++)
		if (matches(store->objects[i], kind, ns, name))
			return store->objects[i];
	return NULL;
}

static int store_each(void *self, const char *kind, const char *ns, mg_lookup_fn fn, void *ctx)
{
	mg_store *store = self;
	for (size_t i = 0; i < store->len; i++) {
		const cJSON *o = store->objects[i];
		if (!same_str(field(o, "kind", NULL), kind))
			continue;
		if (ns && !same_str(field(o, "metadata", "namespace"), ns))
			continue;
		int rc = fn(ctx, o);
		if (rc)
			return rc;
	}
	return 0;
}

static const mg_topology *store_topology(void *self)
{
	mg_store *store = self;
	return store->has_topology ? &store->topology : NULL;
}

static const mg_lookup_ops store_ops = {
	.get = store_get,
	.each = store_each,
	.topology = store_topology,
};

mg_lookup mg_store_lookup(mg_store *store)
{
	return (mg_lookup){&store_ops, store};
}

void mg_store_free(mg_store *store)
{
	if (!store)
		return;
	for (size_t i = 0; i < store->len; i++)
		cJSON_Delete(store->objects[i]);
	free(store->objects);
	mg_topology_free(&store->topology);
	free(store);
}
