#include "topology_pub.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/util/log.h"
#include "mirrorgate/ontap/cluster.h"
#include "mirrorgate/core/topology.h"

static bool array_has(const cJSON *arr, const char *s)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, arr)
		if (cJSON_IsString(it) && strcmp(it->valuestring, s) == 0)
			return true;
	return false;
}

static int add_unique(cJSON *arr, const char *s)
{
	if (array_has(arr, s))
		return 0;
	cJSON *v = cJSON_CreateString(s);
	if (!v)
		return MG_ENOMEM;
	cJSON_AddItemToArray(arr, v);
	return 0;
}

/* Every record of a collection GET, following _links.next. */
typedef int (*record_fn)(void *ctx, const cJSON *rec);

static int each_record(mg_ontap_client *o, const char *first, record_fn fn, void *ctx)
{
	char *path = strdup(first);
	int rc = path ? 0 : MG_ENOMEM;
	for (int page = 0; rc == 0 && path && page < 100; page++) {
		cJSON *resp = NULL;
		int status;
		mg_ontap_error err;
		rc = mg_ontap_request(o, "GET", path, NULL, &status, &resp, &err);
		free(path);
		path = NULL;
		if (rc != 0)
			break;
		const cJSON *rec;
		cJSON_ArrayForEach(rec, cJSON_GetObjectItemCaseSensitive(resp, "records"))
			if ((rc = fn(ctx, rec)) != 0)
				break;
		const cJSON *next = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(resp, "_links"),
							 "next"),
			"href");
		if (rc == 0 && cJSON_IsString(next) && strncmp(next->valuestring, "/api/", 5) == 0) {
			path = strdup(next->valuestring);
			if (!path)
				rc = MG_ENOMEM;
		}
		cJSON_Delete(resp);
	}
	free(path);
	return rc;
}

static int add_policy(void *ctx, const cJSON *rec)
{
	cJSON *arr = ctx;
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(rec, "name");
	if (!cJSON_IsString(name))
		return 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, arr)
	{
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(it, "name");
		if (cJSON_IsString(n) && strcmp(n->valuestring, name->valuestring) == 0)
			return 0;
	}
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(rec, "type");
	const cJSON *sync = cJSON_GetObjectItemCaseSensitive(rec, "sync_type");
	const cJSON *all = cJSON_GetObjectItemCaseSensitive(rec, "copy_all_source_snapshots");
	cJSON *p = cJSON_CreateObject();
	if (!p || !cJSON_AddStringToObject(p, "name", name->valuestring) ||
	    (cJSON_IsString(type) && !cJSON_AddStringToObject(p, "type", type->valuestring)) ||
	    (cJSON_IsString(sync) && !cJSON_AddStringToObject(p, "syncType", sync->valuestring)) ||
	    !cJSON_AddBoolToObject(p, "copyAllSourceSnapshots", cJSON_IsTrue(all))) {
		cJSON_Delete(p);
		return MG_ENOMEM;
	}
	cJSON_AddItemToArray(arr, p);
	return 0;
}

static int add_schedule(void *ctx, const cJSON *rec)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(rec, "name");
	return cJSON_IsString(name) ? add_unique(ctx, name->valuestring) : 0;
}

int mg_topology_collect(const mg_rctx *c, cJSON **out)
{
	int rc = MG_ENOMEM;
	cJSON *t = cJSON_CreateObject();
	cJSON *svms = cJSON_CreateArray(), *peers = cJSON_CreateObject();
	cJSON *pols = cJSON_CreateArray(), *scheds = cJSON_CreateArray();
	if (!t || !svms || !peers || !pols || !scheds)
		goto out;
	bool peers_ok = true, pols_ok = true, scheds_ok = true;
	for (size_t i = 0; i < c->nbackends; i++) {
		mg_backend *b = &c->backends[i];
		if (add_unique(svms, b->svm) != 0)
			goto out;
		cJSON *list = cJSON_CreateArray();
		if (!list)
			goto out;
		cJSON_AddItemToObject(peers, b->svm, list);
		mg_ontap_svm_peer_list pl = {0};
		mg_ontap_error err;
		if (mg_ontap_svm_peers(b->ontap, b->svm, &pl, &err) == 0) {
			for (size_t j = 0; j < pl.len; j++) {
				const mg_ontap_svm_peer *sp = &pl.items[j];
				if (!sp->snapmirror || strcmp(sp->state, "peered") != 0)
					continue;
				/* relationship paths use the local alias of the peer SVM */
				if (add_unique(list, sp->name[0] ? sp->name : sp->peer_svm_name) != 0) {
					mg_ontap_svm_peer_list_free(&pl);
					goto out;
				}
			}
			mg_ontap_svm_peer_list_free(&pl);
		} else {
			peers_ok = false;
			mg_warn("topology: SVM peers unreadable", "backend", b->name, "error",
				err.message, NULL);
		}
		if (each_record(b->ontap,
				"/api/snapmirror/policies?fields=name,type,sync_type,"
				"copy_all_source_snapshots",
				add_policy, pols) != 0)
			pols_ok = false;
		if (each_record(b->ontap, "/api/cluster/schedules?fields=name", add_schedule,
				scheds) != 0)
			scheds_ok = false;
	}
	cJSON_AddItemToObject(t, "localSVMs", svms);
	svms = NULL;
	if (peers_ok) {
		cJSON_AddItemToObject(t, "peers", peers);
		peers = NULL;
	}
	if (pols_ok) {
		cJSON_AddItemToObject(t, "policies", pols);
		pols = NULL;
	}
	if (scheds_ok) {
		cJSON_AddItemToObject(t, "schedules", scheds);
		scheds = NULL;
	}
	*out = t;
	t = NULL;
	rc = 0;
out:
	cJSON_Delete(t);
	cJSON_Delete(svms);
	cJSON_Delete(peers);
	cJSON_Delete(pols);
	cJSON_Delete(scheds);
	return rc;
}

int mg_topology_publish(const mg_rctx *c, const char *ns, const char *name, const cJSON *topo,
			bool *written)
{
	*written = false;
	char *text = cJSON_PrintUnformatted(topo); /* JSON is YAML: topology.h reads either */
	if (!text)
		return MG_ENOMEM;
	cJSON *cm = NULL, *obj = NULL;
	mg_k8s_status st;
	int rc = mg_k8s_get(&cm, c->kube, &mg_k8s_res_configmap, ns, name, &st);
	if (rc != 0 && rc != MG_ENOTFOUND)
		goto out;
	const cJSON *cur = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(cm, "data"), MG_TOPOLOGY_CONFIGMAP_KEY);
	if (cm && cJSON_IsString(cur) && strcmp(cur->valuestring, text) == 0) {
		rc = 0;
		goto out;
	}
	if (!mg_rctx_may_act(c)) {
		rc = MG_EAUTH;
		goto out;
	}
	rc = MG_ENOMEM;
	obj = cm ? cJSON_Duplicate(cm, true) : cJSON_CreateObject();
	if (!obj)
		goto out;
	if (!cm) {
		cJSON *md = cJSON_AddObjectToObject(obj, "metadata");
		cJSON *labels = md ? cJSON_AddObjectToObject(md, "labels") : NULL;
		if (!labels || !cJSON_AddStringToObject(obj, "apiVersion", "v1") ||
		    !cJSON_AddStringToObject(obj, "kind", "ConfigMap") ||
		    !cJSON_AddStringToObject(md, "name", name) ||
		    !cJSON_AddStringToObject(md, "namespace", ns) ||
		    !cJSON_AddStringToObject(labels, "app.kubernetes.io/managed-by",
					     "mirrorgate-reconciler"))
			goto out;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(obj, "data");
	cJSON *data = cJSON_AddObjectToObject(obj, "data");
	if (!data || !cJSON_AddStringToObject(data, MG_TOPOLOGY_CONFIGMAP_KEY, text))
		goto out;
	rc = cm ? mg_k8s_update(NULL, c->kube, &mg_k8s_res_configmap, ns, obj, &st)
		: mg_k8s_create(NULL, c->kube, &mg_k8s_res_configmap, ns, obj, &st);
	if (rc == 0) {
		*written = true;
		mg_info("topology published", "configmap", name, "namespace", ns, NULL);
	}
out:
	cJSON_Delete(obj);
	cJSON_Delete(cm);
	free(text);
	return rc;
}
