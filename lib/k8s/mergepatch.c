/* RFC 7386 merge patch and the subset of strategic merge patch that kubectl sends. */
#include <stdbool.h>
#include <string.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/k8s/mergepatch.h"

#define SMP_MAX_DEPTH 64

/* ---- RFC 7386 ---- */

static cJSON *merge_rec(const cJSON *target, const cJSON *patch, int depth)
{
	if (depth > SMP_MAX_DEPTH)
		return NULL;
	if (!cJSON_IsObject(patch))
		return cJSON_Duplicate(patch, 1);
	cJSON *res = cJSON_IsObject(target) ? cJSON_Duplicate(target, 1) : cJSON_CreateObject();
	if (!res)
		return NULL;
	const cJSON *p;
	cJSON_ArrayForEach(p, patch)
	{
		if (cJSON_IsNull(p)) {
			cJSON_DeleteItemFromObjectCaseSensitive(res, p->string);
			continue;
		}
		cJSON *merged = merge_rec(cJSON_GetObjectItemCaseSensitive(res, p->string), p, depth + 1);
		if (!merged) {
			cJSON_Delete(res);
			return NULL;
		}
		if (cJSON_GetObjectItemCaseSensitive(res, p->string))
			cJSON_ReplaceItemInObjectCaseSensitive(res, p->string, merged);
		else
			cJSON_AddItemToObject(res, p->string, merged);
	}
	return res;
}

int mg_merge_patch_apply(cJSON **out, const cJSON *target, const cJSON *patch)
{
	if (!out || !patch)
		return MG_EINVAL;
	cJSON *res = merge_rec(target, patch, 0);
	if (!res)
		return MG_ENOMEM;
	*out = res;
	return 0;
}

/* ---- strategic merge patch ---- */

struct merge_key {
	const char *field;
	const char *key;
};

/* patchMergeKey tags of the built-in types kubectl applies most (core/v1, apps/v1, meta/v1,
 * admissionregistration/v1). */
static const struct merge_key merge_keys[] = {
	{"containers", "name"},	     {"initContainers", "name"}, {"ephemeralContainers", "name"},
	{"env", "name"},	     {"volumes", "name"},	 {"volumeMounts", "mountPath"},
	{"ports", "containerPort"}, {"ownerReferences", "uid"}, {"webhooks", "name"},
	{"conditions", "type"},      {"imagePullSecrets", "name"}, {"volumeDevices", "devicePath"},
	{"hostAliases", "ip"},	     {"topologySpreadConstraints", "topologyKey"},
};

static const char *merge_key_of(const char *field)
{
	for (size_t i = 0; i < sizeof(merge_keys) / sizeof(merge_keys[0]); i++)
		if (strcmp(merge_keys[i].field, field) == 0)
			return merge_keys[i].key;
	return NULL;
}

/* Lists with patchStrategy merge and no key: merged as a set of scalars. */
static bool is_set_list(const char *field)
{
	return strcmp(field, "finalizers") == 0;
}

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static cJSON *smp_obj(const cJSON *target, const cJSON *patch, int depth, int *err);

static bool scalar_equal(const cJSON *a, const cJSON *b)
{
	return cJSON_Compare(a, b, 1);
}

static const cJSON *find_by_key(const cJSON *list, const char *key, const cJSON *value, int *index)
{
	int i = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, list)
	{
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, key);
		if (v && scalar_equal(v, value)) {
			if (index)
				*index = i;
			return e;
		}
		i++;
	}
	return NULL;
}

static cJSON *smp_keyed_list(const cJSON *target, const cJSON *patch, const char *key, int depth,
			     int *err)
{
	cJSON *res = cJSON_IsArray(target) ? cJSON_Duplicate(target, 1) : cJSON_CreateArray();
	if (!res)
		goto oom;
	const cJSON *p;
	cJSON_ArrayForEach(p, patch)
	{
		const cJSON *kv = cJSON_GetObjectItemCaseSensitive(p, key);
		const cJSON *dir = cJSON_GetObjectItemCaseSensitive(p, "$patch");
		if (!cJSON_IsObject(p) || !kv) {
			/* An element without its merge key cannot be matched: Kubernetes refuses it. */
			*err = MG_EINVAL;
			cJSON_Delete(res);
			return NULL;
		}
		int idx = -1;
		const cJSON *cur = find_by_key(res, key, kv, &idx);
		if (cJSON_IsString(dir) && strcmp(dir->valuestring, "delete") == 0) {
			if (cur)
				cJSON_DeleteItemFromArray(res, idx);
			continue;
		}
		cJSON *merged = smp_obj(cur, p, depth + 1, err);
		if (!merged) {
			cJSON_Delete(res);
			return NULL;
		}
		if (cur)
			cJSON_ReplaceItemInArray(res, idx, merged);
		else
			cJSON_AddItemToArray(res, merged);
	}
	return res;
oom:
	*err = MG_ENOMEM;
	return NULL;
}

static cJSON *smp_set_list(const cJSON *target, const cJSON *patch)
{
	cJSON *res = cJSON_IsArray(target) ? cJSON_Duplicate(target, 1) : cJSON_CreateArray();
	if (!res)
		return NULL;
	const cJSON *p;
	cJSON_ArrayForEach(p, patch)
	{
		bool found = false;
		const cJSON *e;
		cJSON_ArrayForEach(e, res) if (scalar_equal(e, p)) found = true;
		if (!found) {
			cJSON *d = cJSON_Duplicate(p, 1);
			if (!d) {
				cJSON_Delete(res);
				return NULL;
			}
			cJSON_AddItemToArray(res, d);
		}
	}
	return res;
}

static void delete_from_primitive_list(cJSON *obj, const char *field, const cJSON *values)
{
	cJSON *list = cJSON_GetObjectItemCaseSensitive(obj, field);
	if (!cJSON_IsArray(list))
		return;
	const cJSON *v;
	cJSON_ArrayForEach(v, values)
	{
		for (int i = cJSON_GetArraySize(list) - 1; i >= 0; i--)
			if (scalar_equal(cJSON_GetArrayItem(list, i), v))
				cJSON_DeleteItemFromArray(list, i);
	}
}

static int set_member(cJSON *obj, const char *name, cJSON *value)
{
	if (cJSON_GetObjectItemCaseSensitive(obj, name))
		return cJSON_ReplaceItemInObjectCaseSensitive(obj, name, value) ? 0 : MG_ENOMEM;
	return cJSON_AddItemToObject(obj, name, value) ? 0 : MG_ENOMEM;
}

static cJSON *strip_directives(const cJSON *patch)
{
	cJSON *res = cJSON_Duplicate(patch, 1);
	if (!res)
		return NULL;
	cJSON *c = res->child;
	while (c) {
		cJSON *next = c->next;
		if (c->string && c->string[0] == '$')
			cJSON_Delete(cJSON_DetachItemViaPointer(res, c));
		c = next;
	}
	return res;
}

static cJSON *smp_obj(const cJSON *target, const cJSON *patch, int depth, int *err)
{
	if (depth > SMP_MAX_DEPTH) {
		*err = MG_EINVAL;
		return NULL;
	}
	if (!cJSON_IsObject(patch)) {
		cJSON *d = cJSON_Duplicate(patch, 1);
		if (!d)
			*err = MG_ENOMEM;
		return d;
	}
	const cJSON *dir = cJSON_GetObjectItemCaseSensitive(patch, "$patch");
	if (dir) {
		if (!cJSON_IsString(dir)) {
			*err = MG_EINVAL;
			return NULL;
		}
		if (strcmp(dir->valuestring, "replace") == 0) {
			cJSON *r = strip_directives(patch);
			if (!r)
				*err = MG_ENOMEM;
			return r;
		}
		if (strcmp(dir->valuestring, "merge") != 0 && strcmp(dir->valuestring, "delete") != 0) {
			*err = MG_EINVAL;
			return NULL;
		}
	}
	cJSON *res = cJSON_IsObject(target) ? cJSON_Duplicate(target, 1) : cJSON_CreateObject();
	if (!res) {
		*err = MG_ENOMEM;
		return NULL;
	}
	const cJSON *p;
	cJSON_ArrayForEach(p, patch)
	{
		const char *name = p->string;
		if (strcmp(name, "$patch") == 0 || has_prefix(name, "$setElementOrder/") ||
		    strcmp(name, "$retainKeys") == 0)
			continue;
		if (has_prefix(name, "$deleteFromPrimitiveList/")) {
			if (!cJSON_IsArray(p))
				goto invalid;
			delete_from_primitive_list(res, name + strlen("$deleteFromPrimitiveList/"), p);
			continue;
		}
		if (name[0] == '$')
			goto invalid;
		if (cJSON_IsNull(p)) {
			cJSON_DeleteItemFromObjectCaseSensitive(res, name);
			continue;
		}
		const cJSON *pdir = cJSON_GetObjectItemCaseSensitive(p, "$patch");
		if (cJSON_IsObject(p) && cJSON_IsString(pdir) && strcmp(pdir->valuestring, "delete") == 0) {
			cJSON_DeleteItemFromObjectCaseSensitive(res, name);
			continue;
		}
		const cJSON *cur = cJSON_GetObjectItemCaseSensitive(res, name);
		cJSON *merged = NULL;
		const char *key = merge_key_of(name);
		if (cJSON_IsArray(p) && key && (!cur || cJSON_IsArray(cur)))
			merged = smp_keyed_list(cur, p, key, depth + 1, err);
		else if (cJSON_IsArray(p) && is_set_list(name))
			merged = smp_set_list(cur, p);
		else if (cJSON_IsObject(p))
			merged = smp_obj(cur, p, depth + 1, err);
		else
			merged = cJSON_Duplicate(p, 1);
		if (!merged) {
			if (*err == 0)
				*err = MG_ENOMEM;
			cJSON_Delete(res);
			return NULL;
		}
		if (set_member(res, name, merged) != 0) {
			cJSON_Delete(merged);
			*err = MG_ENOMEM;
			cJSON_Delete(res);
			return NULL;
		}
	}
	const cJSON *retain = cJSON_GetObjectItemCaseSensitive(patch, "$retainKeys");
	if (retain) {
		if (!cJSON_IsArray(retain))
			goto invalid;
		cJSON *c = res->child;
		while (c) {
			cJSON *next = c->next;
			bool keep = false;
			const cJSON *k;
			cJSON_ArrayForEach(k, retain) if (cJSON_IsString(k) &&
							  strcmp(k->valuestring, c->string) == 0) keep = true;
			if (!keep)
				cJSON_Delete(cJSON_DetachItemViaPointer(res, c));
			c = next;
		}
	}
	return res;
invalid:
	*err = MG_EINVAL;
	cJSON_Delete(res);
	return NULL;
}

int mg_strategic_merge_patch_apply(cJSON **out, const cJSON *target, const cJSON *patch)
{
	if (!out || !cJSON_IsObject(patch))
		return MG_EINVAL;
	int err = 0;
	cJSON *res = smp_obj(target, patch, 0, &err);
	if (!res)
		return err ? err : MG_ENOMEM;
	*out = res;
	return 0;
}
