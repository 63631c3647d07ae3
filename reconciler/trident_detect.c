#include "trident_detect.h"

#include <string.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/util/log.h"

const mg_k8s_resource mg_k8s_res_tridentversion = {"trident.netapp.io", "v1", "tridentversions",
						   true};
const mg_k8s_resource mg_k8s_res_tridentorchestrator = {"trident.netapp.io", "v1",
							 "tridentorchestrators", false};
const mg_k8s_resource mg_k8s_res_tbc = {"trident.netapp.io", "v1", "tridentbackendconfigs",
					true};

/* The first item of a list; *unreadable when the read failed for another reason than the
 * kind not being served. Caller frees *items. */
static const cJSON *first(cJSON **items, mg_k8s_client *kube, const mg_k8s_resource *r,
			  const char *ns, bool *unreadable)
{
	*items = NULL;
	mg_k8s_status st;
	int rc = mg_k8s_list_all(items, NULL, kube, r, ns, NULL, &st);
	if (rc == MG_ENOTFOUND)
		return NULL;
	if (rc != 0) {
		mg_warn("cannot read Trident's objects", "resource", r->resource, "error",
			mg_strerror(rc), NULL);
		*unreadable = true;
		return NULL;
	}
	return cJSON_GetArrayItem(*items, 0);
}

static bool about_tmr(const cJSON *ev)
{
	const cJSON *io = cJSON_GetObjectItemCaseSensitive(ev, "involvedObject");
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(io, "kind");
	return cJSON_IsString(kind) && strcmp(kind->valuestring, "TridentMirrorRelationship") == 0;
}

static bool by_trident(const cJSON *ev)
{
	const cJSON *src = cJSON_GetObjectItemCaseSensitive(ev, "source");
	const cJSON *comp = cJSON_GetObjectItemCaseSensitive(src, "component");
	const cJSON *rc = cJSON_GetObjectItemCaseSensitive(ev, "reportingComponent");
	return (cJSON_IsString(comp) && strcmp(comp->valuestring, MG_TRIDENT_EVENT_COMPONENT) == 0) ||
	       (cJSON_IsString(rc) && strcmp(rc->valuestring, MG_TRIDENT_EVENT_COMPONENT) == 0);
}

void mg_trident_detect(mg_k8s_client *kube, const char *ns, mg_trident_verdict *out,
		       cJSON **evidence)
{
	if (evidence)
		*evidence = NULL;
	bool unreadable = false;
	cJSON *versions = NULL, *orchs = NULL, *events = NULL, *tmrs = NULL;
	mg_trident_facts f = {0};
	f.version = first(&versions, kube, &mg_k8s_res_tridentversion, ns, &unreadable);
	f.orchestrator = first(&orchs, kube, &mg_k8s_res_tridentorchestrator, NULL, &unreadable);
	const cJSON *ev_about = NULL;
	mg_k8s_list_opts lo = {.field_selector = "involvedObject.kind=TridentMirrorRelationship"};
	mg_k8s_status st;
	int rc = mg_k8s_list_all(&events, NULL, kube, &mg_k8s_res_event, NULL, &lo, &st);
	if (rc == 0) {
		const cJSON *ev;
		cJSON_ArrayForEach(ev, events)
			if (about_tmr(ev) && by_trident(ev)) {
				f.trident_tmr_events++;
				if (!ev_about)
					ev_about = ev;
			}
	} else if (rc != MG_ENOTFOUND) {
		unreadable = true;
	}
	if (mg_k8s_list_all(&tmrs, NULL, kube, &mg_k8s_res_tmr, NULL, NULL, &st) == 0) {
		const cJSON *t;
		cJSON_ArrayForEach(t, tmrs)
		{
			const cJSON *fin = cJSON_GetObjectItemCaseSensitive(
				cJSON_GetObjectItemCaseSensitive(t, "metadata"), "finalizers");
			const cJSON *s;
			cJSON_ArrayForEach(s, fin)
				if (cJSON_IsString(s) && strcmp(s->valuestring, "trident.netapp.io") == 0)
					f.tmrs_with_finalizer++;
		}
	}
	f.api_unreadable = unreadable;
	mg_trident_judge(&f, out);
	if (evidence) {
		const cJSON *e = f.version ? f.version : f.orchestrator;
		if (!e && ev_about) {
			/* the Event's TMR: a minimal object reference for our own Event */
			const cJSON *io = cJSON_GetObjectItemCaseSensitive(ev_about, "involvedObject");
			cJSON *ref = cJSON_CreateObject();
			cJSON *md = ref ? cJSON_AddObjectToObject(ref, "metadata") : NULL;
			const char *keys[] = {"name", "namespace", "uid"};
			if (md) {
				cJSON_AddItemToObject(ref, "apiVersion",
						      cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(io, "apiVersion"), true));
				cJSON_AddItemToObject(ref, "kind",
						      cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(io, "kind"), true));
				for (size_t i = 0; i < 3; i++) {
					const cJSON *v = cJSON_GetObjectItemCaseSensitive(io, keys[i]);
					if (cJSON_IsString(v))
						cJSON_AddStringToObject(md, keys[i], v->valuestring);
				}
			}
			*evidence = ref;
		} else if (e) {
			*evidence = cJSON_Duplicate(e, true);
			/* a list's items carry no kind: the Event needs one */
			if (*evidence && !cJSON_GetObjectItemCaseSensitive(*evidence, "kind")) {
				cJSON_AddStringToObject(*evidence, "kind",
							e == f.version ? "TridentVersion"
								       : "TridentOrchestrator");
				cJSON_AddStringToObject(*evidence, "apiVersion", "trident.netapp.io/v1");
			}
		}
	}
	cJSON_Delete(versions);
	cJSON_Delete(orchs);
	cJSON_Delete(events);
	cJSON_Delete(tmrs);
}
