/* Mutations: what should be automatic. Each is idempotent (the API server may call a
 * mutating webhook again) and adds only what is missing. */
#include <stdlib.h>
#include <string.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/core/jsonpatch.h"
#include "mirrorgate/util/strbuf.h"
#include "rules.h"


static cJSON *patch_of(mg_verdict *v)
{
	if (!v->patch)
		v->patch = cJSON_CreateArray();
	return v->patch;
}

static bool has_member(const cJSON *obj, const char *a, const char *b)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(obj, a);
	return cJSON_GetObjectItemCaseSensitive(n, b) != NULL;
}

/* JSON Patch "add" needs the parent to exist. */
static int ensure_metadata(cJSON *patch, const cJSON *obj)
{
	if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(obj, "metadata")))
		return 0;
	const char *op = cJSON_GetObjectItemCaseSensitive(obj, "metadata") ? "replace" : "add";
	return mg_jsonpatch_append(patch, op, "/metadata", cJSON_CreateObject());
}

int mg_mutate_tmr(struct mg_rule_ctx *c)
{
	if (c->req->op != MG_OP_CREATE)
		return 0;
	mg_meta meta;
	mg_tmr t;
	int rc = mg_tmr_decode(&t, c->req->object, NULL);
	meta = t.meta;
	mg_tmr_free(&t);
	if (rc < 0)
		return rc;
	if (meta.deletion_timestamp || mg_meta_has_finalizer(&meta, MG_TRIDENT_FINALIZER))
		return 0;
	cJSON *patch = patch_of(c->v);
	if (!patch)
		return MG_ENOMEM;
	if ((rc = ensure_metadata(patch, c->req->object)))
		return rc;
	if (!has_member(c->req->object, "metadata", "finalizers") || !meta.finalizers) {
		cJSON *list = cJSON_CreateArray();
		cJSON *item = cJSON_CreateString(MG_TRIDENT_FINALIZER);
		if (!list || !item || !cJSON_AddItemToArray(list, item)) {
			cJSON_Delete(list);
			cJSON_Delete(item);
			return MG_ENOMEM;
		}
		const char *op = has_member(c->req->object, "metadata", "finalizers") ? "replace" : "add";
		rc = mg_jsonpatch_append(patch, op, "/metadata/finalizers", list);
	} else {
		rc = mg_jsonpatch_append(patch, "add", "/metadata/finalizers/-",
					 cJSON_CreateString(MG_TRIDENT_FINALIZER));
	}
	return rc ? rc : mg_rule_fired(c->v, "TMR-FINALIZER");
}

int mg_mutate_pvc(struct mg_rule_ctx *c)
{
	if (c->req->op != MG_OP_CREATE || !*c->name)
		return 0;
	mg_pvc pvc;
	int rc = mg_pvc_decode(&pvc, c->req->object, NULL);
	if (rc < 0)
		return rc;
	if (pvc.mirror_relationship)
		return 0;
	size_t count = 0;
	const char *tmr_name = NULL;
	const cJSON *tmr_obj = NULL;
	if ((rc = mg_tmrs_naming_pvc(c->lk, c->ns, c->name, &count, &tmr_name, &tmr_obj)))
		return rc;
	if (count != 1)
		return 0;
	mg_tmr tmr;
	if ((rc = mg_tmr_decode(&tmr, tmr_obj, NULL)) < 0)
		return rc;
	bool destination = mg_state_is_mirror(tmr.state) && tmr.nmappings &&
			   tmr.mappings[0].remote_volume_handle &&
			   *tmr.mappings[0].remote_volume_handle;
	mg_tmr_free(&tmr);
	if (!destination)
		return 0;
	cJSON *patch = patch_of(c->v);
	if (!patch)
		return MG_ENOMEM;
	if ((rc = ensure_metadata(patch, c->req->object)))
		return rc;
	if (!pvc.meta.annotations) {
		cJSON *ann = cJSON_CreateObject();
		if (!ann || !cJSON_AddStringToObject(ann, MG_ANN_MIRROR_RELATIONSHIP, tmr_name)) {
			cJSON_Delete(ann);
			return MG_ENOMEM;
		}
		const char *op = has_member(c->req->object, "metadata", "annotations") ? "replace" : "add";
		rc = mg_jsonpatch_append(patch, op, "/metadata/annotations", ann);
	} else {
		char *key = mg_json_pointer_escape(MG_ANN_MIRROR_RELATIONSHIP);
		char *path = key ? mg_asprintf("/metadata/annotations/%s", key) : NULL;
		rc = path ? mg_jsonpatch_append(patch, "add", path, cJSON_CreateString(tmr_name))
			  : MG_ENOMEM;
		free(key);
		free(path);
	}
	return rc ? rc : mg_rule_fired(c->v, "PVC-MIRROR-ANNOTATE");
}
