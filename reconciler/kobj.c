#include "kobj.h"

#include <string.h>

#include "mirrorgate/core/jsonnum.h"
#include "mirrorgate/util/err.h"
#include "kcache.h"
#include "mirrorgate/util/log.h"

const char *mg_kobj_str(const cJSON *obj, const char *a, const char *b)
{
	const cJSON *n = cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, a) : NULL;
	if (b)
		n = cJSON_IsObject(n) ? cJSON_GetObjectItemCaseSensitive(n, b) : NULL;
	return cJSON_IsString(n) ? n->valuestring : NULL;
}

int mg_kobj_get(cJSON **out, const mg_rctx *c, const mg_k8s_resource *r, const char *ns,
		const char *name, mg_k8s_status *st)
{
	return mg_kcache_get(out, c->cache, c->kube, r, ns, name, st);
}

void mg_kobj_wrote(const mg_rctx *c, const mg_k8s_resource *r, const cJSON *obj)
{
	mg_kcache_wrote(c->cache, r, mg_kobj_str(obj, "metadata", "namespace"),
			mg_kobj_str(obj, "metadata", "name"),
			mg_kobj_str(obj, "metadata", "resourceVersion"));
}

bool mg_kobj_open(cJSON **obj, const mg_rctx *c, const mg_k8s_resource *r, const char *ns,
		  const char *name, const char *what, mg_rec_result *res)
{
	*obj = NULL;
	mg_k8s_status st;
	int rc = mg_kobj_get(obj, c, r, ns, name, &st);
	if (rc == 0)
		return true;
	cJSON_Delete(*obj);
	*obj = NULL;
	if (rc == MG_ENOTFOUND)
		res->outcome = MG_REC_FORGET;
	else
		mg_rec_retry(res, "read %s: %s", what, mg_strerror(rc));
	return false;
}

long long mg_kobj_generation(const cJSON *obj)
{
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	const cJSON *g = cJSON_IsObject(md) ? cJSON_GetObjectItemCaseSensitive(md, "generation")
					    : NULL;
	return mg_json_ll_or(g, 0);
}

bool mg_kobj_has_finalizer(const cJSON *obj, const char *finalizer)
{
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	const cJSON *f = cJSON_IsObject(md) ? cJSON_GetObjectItemCaseSensitive(md, "finalizers")
					    : NULL;
	if (!cJSON_IsArray(f))
		return false;
	const cJSON *it;
	cJSON_ArrayForEach(it, f)
		if (cJSON_IsString(it) && strcmp(it->valuestring, finalizer) == 0)
			return true;
	return false;
}

bool mg_kobj_deleting(const cJSON *obj)
{
	const char *ts = mg_kobj_str(obj, "metadata", "deletionTimestamp");
	return ts && *ts;
}

int mg_kobj_set_finalizer(cJSON **updated, const mg_rctx *c, const mg_k8s_resource *res,
			  const cJSON *obj, const char *finalizer, bool present)
{
	if (updated)
		*updated = NULL;
	if (mg_kobj_has_finalizer(obj, finalizer) == present)
		return 0;
	if (!mg_rctx_may_act(c))
		return MG_EAUTH;
	int rc = MG_ENOMEM;
	cJSON *copy = cJSON_Duplicate(obj, true);
	cJSON *md = copy ? cJSON_GetObjectItemCaseSensitive(copy, "metadata") : NULL;
	if (!cJSON_IsObject(md)) {
		rc = copy ? MG_EINVAL : MG_ENOMEM;
		goto out;
	}
	cJSON *list = cJSON_GetObjectItemCaseSensitive(md, "finalizers");
	if (!cJSON_IsArray(list)) {
		cJSON_DeleteItemFromObjectCaseSensitive(md, "finalizers");
		list = cJSON_AddArrayToObject(md, "finalizers");
		if (!list)
			goto out;
	}
	if (present) {
		cJSON *s = cJSON_CreateString(finalizer);
		if (!s)
			goto out;
		cJSON_AddItemToArray(list, s);
	} else {
		for (int i = cJSON_GetArraySize(list) - 1; i >= 0; i--) {
			cJSON *it = cJSON_GetArrayItem(list, i);
			if (cJSON_IsString(it) && strcmp(it->valuestring, finalizer) == 0)
				cJSON_DeleteItemFromArray(list, i);
		}
	}
	const char *ns = mg_kobj_str(obj, "metadata", "namespace");
	mg_k8s_status st;
	cJSON *out_obj = NULL;
	rc = mg_k8s_update(&out_obj, c->kube, res, ns, copy, &st);
	mg_kobj_wrote(c, res, obj);
	if (rc == MG_ENOTFOUND && !present)
		rc = 0; /* removing our finalizer let the API server delete it: done */
	if (updated)
		*updated = out_obj;
	else
		cJSON_Delete(out_obj);
out:
	cJSON_Delete(copy);
	return rc;
}

int mg_kobj_write_status(cJSON **updated, const mg_rctx *c, const mg_k8s_resource *res,
			 const cJSON *obj, cJSON *status, bool status_subresource)
{
	if (updated)
		*updated = NULL;
	if (!mg_rctx_may_act(c)) {
		cJSON_Delete(status);
		return MG_EAUTH;
	}
	cJSON *copy = cJSON_Duplicate(obj, true);
	if (!copy) {
		cJSON_Delete(status);
		return MG_ENOMEM;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(copy, "status");
	cJSON_AddItemToObject(copy, "status", status);
	const char *ns = mg_kobj_str(obj, "metadata", "namespace");
	mg_k8s_status st;
	cJSON *out_obj = NULL;
	int rc = status_subresource ? mg_k8s_update_status(&out_obj, c->kube, res, ns, copy, &st)
				    : mg_k8s_update(&out_obj, c->kube, res, ns, copy, &st);
	mg_kobj_wrote(c, res, obj);
	cJSON_Delete(copy);
	if (updated)
		*updated = out_obj;
	else
		cJSON_Delete(out_obj);
	return rc;
}

void mg_kobj_event(const mg_rctx *c, const cJSON *obj, const char *type, const char *reason,
		   const char *message)
{
	if (!mg_rctx_may_act(c))
		return;
	mg_k8s_status st;
	int rc = mg_k8s_event(c->kube, obj, type, reason, message, MG_RECONCILER_COMPONENT, &st);
	if (rc != 0)
		mg_warn("could not emit an event", "reason", reason, "error", mg_strerror(rc),
			NULL);
}
