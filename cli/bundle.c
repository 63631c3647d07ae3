#include "bundle.h"

#include <stdlib.h>
#include <string.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/util/strbuf.h"

bool mg_kind_is_cluster_scoped(const char *kind)
{
	static const char *const kinds[] = {
		"StorageClass", "PersistentVolume", "Namespace", "CustomResourceDefinition",
		"ClusterRole", "ClusterRoleBinding", "ValidatingWebhookConfiguration",
		"MutatingWebhookConfiguration", "VolumeSnapshotClass", "VolumeSnapshotContent",
		"Node", "PriorityClass", "CSIDriver", "APIService",
	};
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kind, kinds[i]) == 0)
			return true;
	return false;
}

static int push(mg_bundle *b, mg_entry *e)
{
	mg_entry *grown = realloc(b->entries, (b->len + 1) * sizeof(*grown));
	if (!grown) {
		cJSON_Delete(e->object);
		free(e->key);
		free(e->problem);
		return MG_ENOMEM;
	}
	b->entries = grown;
	b->entries[b->len++] = *e;
	return 0;
}

static int malformed(mg_bundle *b, const char *file, int line, const mg_doc *doc, char *problem)
{
	if (!problem)
		return MG_ENOMEM;
	mg_entry e = {MG_ENTRY_MALFORMED, file, line, doc, NULL, NULL, problem};
	return push(b, &e);
}

static const char *str_at(const cJSON *obj, const char *a, const char *b)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(obj, a);
	if (b)
		n = cJSON_GetObjectItemCaseSensitive(n, b);
	return cJSON_IsString(n) ? n->valuestring : NULL;
}

static int add_object(mg_bundle *b, const char *file, const mg_doc *doc, const cJSON *node,
		      const char *default_ns, int depth)
{
	int line = mg_doc_line_of(doc, node);
	if (!cJSON_IsObject(node))
		return malformed(b, file, line, doc,
				 mg_strdup("document is not a Kubernetes object (not a mapping)"));
	const char *kind = str_at(node, "kind", NULL);
	const char *api = str_at(node, "apiVersion", NULL);
	if (!kind || !*kind || !api || !*api)
		return malformed(b, file, line, doc,
				 mg_strdup("document is not a Kubernetes object (apiVersion and kind "
					   "are required)"));
	const cJSON *items = cJSON_GetObjectItemCaseSensitive(node, "items");
	size_t klen = strlen(kind);
	if (klen >= 4 && strcmp(kind + klen - 4, "List") == 0 && cJSON_IsArray(items)) {
		if (depth > 2)
			return malformed(b, file, line, doc, mg_strdup("nested lists are not supported"));
		for (const cJSON *it = items->child; it; it = it->next) {
			int rc = add_object(b, file, doc, it, default_ns, depth + 1);
			if (rc)
				return rc;
		}
		return 0;
	}
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(node, "metadata");
	const char *name = str_at(node, "metadata", "name");
	if (!cJSON_IsObject(meta) || !name || !*name)
		return malformed(b, file, line, doc,
				 mg_asprintf("%s has no metadata.name (generateName cannot be "
					     "validated offline)", kind));
	mg_entry e = {MG_ENTRY_OBJECT, file, line, doc, cJSON_Duplicate(node, 1), NULL, NULL};
	if (!e.object)
		return MG_ENOMEM;
	const char *ns = NULL;
	if (!mg_kind_is_cluster_scoped(kind)) {
		ns = str_at(node, "metadata", "namespace");
		if (!ns || !*ns) {
			cJSON *m = cJSON_GetObjectItemCaseSensitive(e.object, "metadata");
			cJSON_DeleteItemFromObjectCaseSensitive(m, "namespace");
			if (!cJSON_AddStringToObject(m, "namespace", default_ns)) {
				cJSON_Delete(e.object);
				return MG_ENOMEM;
			}
			ns = default_ns;
		}
	}
	e.key = mg_asprintf("%s/%s/%s", kind, ns ? ns : "", name);
	if (!e.key) {
		cJSON_Delete(e.object);
		return MG_ENOMEM;
	}
	return push(b, &e);
}

int mg_bundle_load(mg_bundle *out, const mg_inputs *in, const char *default_ns)
{
	memset(out, 0, sizeof(*out));
	out->lists = calloc(in->len ? in->len : 1, sizeof(*out->lists));
	if (!out->lists)
		return MG_ENOMEM;
	out->nlists = in->len;
	for (size_t i = 0; i < in->len; i++) {
		const mg_input *input = &in->items[i];
		int rc = 0;
		if (!input->data) {
			rc = malformed(out, input->path, 0, NULL, mg_strdup(input->error));
		} else {
			mg_parse_error err;
			rc = mg_doc_parse_yaml(&out->lists[i], input->data, input->len, &err);
			if (rc == MG_ENOMEM)
				return rc;
			if (rc) {
				rc = malformed(out, input->path, err.line, NULL,
					       mg_strdup(err.message));
			} else {
				for (size_t d = 0; !rc && d < out->lists[i].len; d++) {
					const mg_doc *doc = &out->lists[i].items[d];
					if (doc->root)
						rc = add_object(out, input->path, doc, doc->root,
								default_ns, 0);
				}
			}
		}
		if (rc)
			return rc;
	}
	return 0;
}

const cJSON *mg_bundle_previous(const mg_bundle *b, size_t i)
{
	const mg_entry *e = &b->entries[i];
	for (size_t j = i; j-- > 0;)
		if (b->entries[j].kind == MG_ENTRY_OBJECT && strcmp(b->entries[j].key, e->key) == 0)
			return b->entries[j].object;
	return NULL;
}

int mg_bundle_state_for(const mg_bundle *b, size_t i, bool lookahead, mg_store **out)
{
	mg_store *store;
	int rc = mg_store_new(&store);
	if (rc)
		return rc;
	const char *self = b->entries[i].key;
	/* Later documents first, last to first, so the first version after i is put last; then
	 * earlier documents in order, so the latest version before i wins. */
	for (size_t pass = 0; pass < 2 && !rc; pass++) {
		size_t n = pass == 0 ? (lookahead ? b->len - i - 1 : 0) : i;
		for (size_t k = 0; k < n && !rc; k++) {
			size_t j = pass == 0 ? b->len - 1 - k : k;
			const mg_entry *e = &b->entries[j];
			if (e->kind != MG_ENTRY_OBJECT || (self && strcmp(e->key, self) == 0))
				continue;
			cJSON *copy = cJSON_Duplicate(e->object, 1);
			rc = copy ? mg_store_put(store, copy) : MG_ENOMEM;
			if (rc)
				cJSON_Delete(copy);
		}
	}
	if (rc) {
		mg_store_free(store);
		return rc;
	}
	*out = store;
	return 0;
}

void mg_bundle_free(mg_bundle *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->len; i++) {
		cJSON_Delete(b->entries[i].object);
		free(b->entries[i].key);
		free(b->entries[i].problem);
	}
	free(b->entries);
	for (size_t i = 0; i < b->nlists; i++)
		mg_doc_list_free(&b->lists[i]);
	free(b->lists);
	memset(b, 0, sizeof(*b));
}
