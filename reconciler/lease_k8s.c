#include "lease_k8s.h"

#include <stdio.h>
#include <string.h>

#include "mirrorgate/core/jsonnum.h"
#include "mirrorgate/util/err.h"

static void copy_str(char *dst, size_t cap, const cJSON *obj, const char *key)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(obj, key);
	snprintf(dst, cap, "%s", cJSON_IsString(n) ? n->valuestring : "");
}

static long get_long(const cJSON *obj, const char *key)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(obj, key);
	/* Kubernetes stores both as int32: anything else reads as absent. */
	return (long)mg_json_ll_or(n, 0);
}

static int lk_get(void *ctx, mg_lease_record *out, char *rv, size_t rv_len)
{
	mg_lease_k8s *l = ctx;
	cJSON *obj = NULL;
	mg_k8s_status st;
	int rc = mg_k8s_get(&obj, l->kube, &mg_k8s_res_lease, l->ns, l->name, &st);
	if (rc != 0)
		return rc;
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(obj, "spec");
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	memset(out, 0, sizeof(*out));
	copy_str(out->holder, sizeof(out->holder), spec, "holderIdentity");
	copy_str(out->acquire_time, sizeof(out->acquire_time), spec, "acquireTime");
	copy_str(out->renew_time, sizeof(out->renew_time), spec, "renewTime");
	out->lease_duration_s = get_long(spec, "leaseDurationSeconds");
	out->transitions = get_long(spec, "leaseTransitions");
	copy_str(rv, rv_len, md, "resourceVersion");
	cJSON_Delete(obj);
	return 0;
}

static cJSON *lease_obj(const mg_lease_k8s *l, const mg_lease_record *rec, const char *rv)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *md = cJSON_AddObjectToObject(o, "metadata");
	cJSON *spec = cJSON_AddObjectToObject(o, "spec");
	if (!md || !spec || !cJSON_AddStringToObject(o, "apiVersion", "coordination.k8s.io/v1") ||
	    !cJSON_AddStringToObject(o, "kind", "Lease") ||
	    !cJSON_AddStringToObject(md, "name", l->name) ||
	    !cJSON_AddStringToObject(md, "namespace", l->ns) ||
	    (rv && !cJSON_AddStringToObject(md, "resourceVersion", rv)) ||
	    !cJSON_AddStringToObject(spec, "holderIdentity", rec->holder) ||
	    !cJSON_AddNumberToObject(spec, "leaseDurationSeconds", (double)rec->lease_duration_s) ||
	    !cJSON_AddStringToObject(spec, "acquireTime", rec->acquire_time) ||
	    !cJSON_AddStringToObject(spec, "renewTime", rec->renew_time) ||
	    !cJSON_AddNumberToObject(spec, "leaseTransitions", (double)rec->transitions)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static int lk_create(void *ctx, const mg_lease_record *rec)
{
	mg_lease_k8s *l = ctx;
	cJSON *o = lease_obj(l, rec, NULL);
	if (!o)
		return MG_ENOMEM;
	mg_k8s_status st;
	int rc = mg_k8s_create(NULL, l->kube, &mg_k8s_res_lease, l->ns, o, &st);
	cJSON_Delete(o);
	return rc;
}

static int lk_update(void *ctx, const mg_lease_record *rec, const char *rv)
{
	mg_lease_k8s *l = ctx;
	cJSON *o = lease_obj(l, rec, rv);
	if (!o)
		return MG_ENOMEM;
	mg_k8s_status st;
	int rc = mg_k8s_update(NULL, l->kube, &mg_k8s_res_lease, l->ns, o, &st);
	cJSON_Delete(o);
	return rc;
}

void mg_lease_k8s_store(mg_lease_store *store, mg_lease_k8s *ctx)
{
	store->get = lk_get;
	store->create = lk_create;
	store->update = lk_update;
	store->ctx = ctx;
}
