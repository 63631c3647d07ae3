/* Fuzz target: arbitrary bytes through the YAML reader and every rule, as CREATE, as UPDATE of
 * the previous document, and as DELETE, with all documents as the cluster state; patches are
 * applied. Nothing may crash, leak or trip a sanitizer. Built as a libFuzzer binary with
 * -DMG_FUZZ=ON and clang, and always as a replay test over the corpus (replay_main.c). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mirrorgate/core/doc.h"
#include "mirrorgate/core/jsonpatch.h"
#include "mirrorgate/rules/lookup.h"
#include "mirrorgate/rules/review.h"
#include "mirrorgate/core/topology.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *kind_of(const cJSON *o)
{
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "kind");
	return cJSON_IsString(k) ? k->valuestring : NULL;
}

static void review(const mg_request *req, const mg_lookup *lk)
{
	mg_verdict v;
	if (mg_review(&v, req, lk, MG_REVIEW_VALIDATE | MG_REVIEW_MUTATE))
		return;
	char *msg = NULL;
	if (!mg_verdict_allowed(&v) && mg_verdict_message(&v, req, &msg) == 0)
		free(msg);
	if (v.patch && req->object) {
		cJSON *copy = cJSON_Duplicate(req->object, 1);
		if (copy && mg_jsonpatch_apply(&copy, v.patch) == 0) {
			/* A mutated object must review again without trouble (reinvocation). */
			mg_request again = *req;
			again.object = copy;
			mg_verdict v2;
			if (mg_review(&v2, &again, lk, MG_REVIEW_VALIDATE | MG_REVIEW_MUTATE) == 0)
				mg_verdict_free(&v2);
		}
		cJSON_Delete(copy);
	}
	mg_verdict_free(&v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mg_doc_list docs;
	mg_parse_error err;
	if (mg_doc_parse_yaml(&docs, (const char *)data, size, &err))
		return 0;
	mg_store *store;
	if (mg_store_new(&store)) {
		mg_doc_list_free(&docs);
		return 0;
	}
	for (size_t i = 0; i < docs.len; i++) {
		const cJSON *root = docs.items[i].root;
		if (!root)
			continue;
		/* A document named "topology" is the topology, to reach the rules that need one. */
		const cJSON *topo = cJSON_GetObjectItemCaseSensitive(root, "topology");
		if (topo) {
			mg_topology t;
			mg_field_errors errs = {0};
			if (mg_topology_from_json(&t, topo, &errs) == 0)
				mg_store_set_topology(store, &t);
			mg_fe_clear(&errs);
		}
		cJSON *copy = cJSON_Duplicate(root, 1);
		if (copy && mg_store_put(store, copy))
			cJSON_Delete(copy);
	}
	mg_lookup lk = mg_store_lookup(store);
	const cJSON *prev = NULL;
	for (size_t i = 0; i < docs.len; i++) {
		const cJSON *obj = docs.items[i].root;
		const char *kind = kind_of(obj);
		if (!kind)
			continue;
		mg_request req = {.op = MG_OP_CREATE, .kind = kind, .object = obj};
		review(&req, &lk);
		if (prev && kind_of(prev) && strcmp(kind_of(prev), kind) == 0) {
			req.op = MG_OP_UPDATE;
			req.old_object = prev;
			review(&req, &lk);
		}
		req = (mg_request){.op = MG_OP_DELETE, .kind = kind, .old_object = obj};
		review(&req, &lk);
		prev = obj;
	}
	mg_store_free(store);
	mg_doc_list_free(&docs);
	return 0;
}
