/* The provisioner's access to kube-sim's store. Reads are copies taken under the store lock
 * so that no ONTAP call ever runs while the lock is held; writes go straight to the store
 * (no admission: they are the controllers' own writes) with the optimistic concurrency a
 * client's update has. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/util/log.h"
#include "mirrorgate/util/strbuf.h"
#include "prov_internal.h"

long long prov_now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

const char *prov_str(const cJSON *o, const char *a, const char *b, const char *c)
{
	const cJSON *n = cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, a) : NULL;
	if (b)
		n = cJSON_IsObject(n) ? cJSON_GetObjectItemCaseSensitive(n, b) : NULL;
	if (c)
		n = cJSON_IsObject(n) ? cJSON_GetObjectItemCaseSensitive(n, c) : NULL;
	return cJSON_IsString(n) && n->valuestring[0] ? n->valuestring : NULL;
}

const char *prov_md(const cJSON *o, const char *field)
{
	return prov_str(o, "metadata", field, NULL);
}

const char *prov_ann(const cJSON *o, const char *key)
{
	return prov_str(o, "metadata", "annotations", key);
}

int prov_set_str(cJSON *o, const char *key, const char *value)
{
	if (!cJSON_IsObject(o))
		return MG_EINVAL;
	cJSON *v = cJSON_CreateString(value);
	if (!v)
		return MG_ENOMEM;
	if (cJSON_GetObjectItemCaseSensitive(o, key))
		cJSON_ReplaceItemInObjectCaseSensitive(o, key, v);
	else
		cJSON_AddItemToObject(o, key, v);
	return 0;
}

cJSON *prov_obj(cJSON *o, const char *key)
{
	if (!cJSON_IsObject(o))
		return NULL;
	cJSON *c = cJSON_GetObjectItemCaseSensitive(o, key);
	if (cJSON_IsObject(c))
		return c;
	cJSON_DeleteItemFromObjectCaseSensitive(o, key);
	return cJSON_AddObjectToObject(o, key);
}

const cJSON *prov_find(const cJSON *list, const char *ns, const char *name)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, list)
	{
		const char *n = prov_md(it, "name"), *s = prov_md(it, "namespace");
		if (n && name && strcmp(n, name) == 0 && (!ns || (s && strcmp(s, ns) == 0)))
			return it;
	}
	return NULL;
}

static cJSON *copy_all(ksim_store *s, const ksim_res *r)
{
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; arr && r && i < s->nobjs; i++) {
		if (s->objs[i].res != r)
			continue;
		cJSON *c = cJSON_Duplicate(s->objs[i].obj, 1);
		if (!c) {
			cJSON_Delete(arr);
			return NULL;
		}
		cJSON_AddItemToArray(arr, c);
	}
	return arr;
}

int prov_view_take(ksim_prov *p, prov_view *v)
{
	ksim_store *s = &p->srv->store;
	memset(v, 0, sizeof(*v));
	pthread_mutex_lock(&s->lock);
	v->pvcs = copy_all(s, p->pvc);
	v->pvs = copy_all(s, p->pv);
	v->scs = copy_all(s, p->sc);
	v->tmrs = copy_all(s, p->tmr);
	v->vss = copy_all(s, p->vs);
	v->vscs = copy_all(s, p->vsc);
	v->vsclasses = copy_all(s, p->vsclass);
	pthread_mutex_unlock(&s->lock);
	if (!v->pvcs || !v->pvs || !v->scs || !v->tmrs || !v->vss || !v->vscs || !v->vsclasses) {
		prov_view_free(v);
		return MG_ENOMEM;
	}
	return 0;
}

void prov_view_free(prov_view *v)
{
	cJSON_Delete(v->pvcs);
	cJSON_Delete(v->pvs);
	cJSON_Delete(v->scs);
	cJSON_Delete(v->tmrs);
	cJSON_Delete(v->vss);
	cJSON_Delete(v->vscs);
	cJSON_Delete(v->vsclasses);
	memset(v, 0, sizeof(*v));
}

cJSON *prov_get(ksim_prov *p, const ksim_res *r, const char *ns, const char *name)
{
	ksim_store *s = &p->srv->store;
	pthread_mutex_lock(&s->lock);
	ksim_obj *o = ksim_store_find(s, r, ns ? ns : "", name);
	cJSON *c = o ? cJSON_Duplicate(o->obj, 1) : NULL;
	pthread_mutex_unlock(&s->lock);
	return c;
}

int prov_create(ksim_prov *p, const ksim_res *r, const char *ns, cJSON *obj)
{
	ksim_server *srv = p->srv;
	int rc = 0;
	char ts[32];
	ksim_now(ts, sizeof(ts));
	char *uid = ksim_new_uid(srv), *av = ksim_res_api_version(r);
	cJSON *md = prov_obj(obj, "metadata");
	const char *name = prov_md(obj, "name");
	if (!uid || !av || !md || !name || prov_set_str(obj, "apiVersion", av) ||
	    prov_set_str(obj, "kind", r->kind) || prov_set_str(md, "uid", uid) ||
	    prov_set_str(md, "creationTimestamp", ts) ||
	    (r->namespaced && prov_set_str(md, "namespace", ns))) {
		rc = name ? MG_ENOMEM : MG_EINVAL;
		goto out;
	}
	pthread_mutex_lock(&srv->store.lock);
	if (ksim_store_find(&srv->store, r, r->namespaced ? ns : "", name)) {
		rc = MG_EEXIST;
	} else {
		rc = ksim_store_put(&srv->store, r, r->namespaced ? ns : "", name, obj, "ADDED");
		if (rc == 0) {
			obj = NULL;
			ksim_snapshot(srv);
		}
	}
	pthread_mutex_unlock(&srv->store.lock);
out:
	free(uid);
	free(av);
	cJSON_Delete(obj);
	return rc;
}

static bool has_finalizers(const cJSON *obj)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(obj, "metadata"), "finalizers");
	return cJSON_IsArray(f) && cJSON_GetArraySize(f) > 0;
}

int prov_replace(ksim_prov *p, const ksim_res *r, const char *ns, const char *name, cJSON *obj,
		 const char *rv)
{
	ksim_server *srv = p->srv;
	const char *key_ns = r->namespaced ? ns : "";
	int rc;
	pthread_mutex_lock(&srv->store.lock);
	ksim_obj *cur = ksim_store_find(&srv->store, r, key_ns, name);
	const char *cur_rv = cur ? prov_md(cur->obj, "resourceVersion") : NULL;
	if (!cur) {
		rc = MG_ENOTFOUND;
	} else if (!rv || !cur_rv || strcmp(rv, cur_rv) != 0) {
		rc = MG_ECONFLICT;
	} else if (prov_md(cur->obj, "deletionTimestamp") && !has_finalizers(obj)) {
		/* The last finalizer went: the object goes, as on the API server. */
		rc = ksim_store_remove(&srv->store, r, key_ns, name);
	} else {
		rc = ksim_store_put(&srv->store, r, key_ns, name, obj, "MODIFIED");
		if (rc == 0)
			obj = NULL;
	}
	if (rc == 0)
		ksim_snapshot(srv);
	pthread_mutex_unlock(&srv->store.lock);
	cJSON_Delete(obj);
	return rc;
}

int prov_delete(ksim_prov *p, const ksim_res *r, const char *ns, const char *name,
		const char *rv)
{
	ksim_server *srv = p->srv;
	const char *key_ns = r->namespaced ? ns : "";
	int rc = 0;
	pthread_mutex_lock(&srv->store.lock);
	ksim_obj *cur = ksim_store_find(&srv->store, r, key_ns, name);
	const char *cur_rv = cur ? prov_md(cur->obj, "resourceVersion") : NULL;
	if (!cur) {
		rc = MG_ENOTFOUND;
	} else if (rv && (!cur_rv || strcmp(rv, cur_rv) != 0)) {
		rc = MG_ECONFLICT;
	} else if (has_finalizers(cur->obj)) {
		if (!prov_md(cur->obj, "deletionTimestamp")) {
			cJSON *next = cJSON_Duplicate(cur->obj, 1);
			char ts[32];
			ksim_now(ts, sizeof(ts));
			rc = next && !prov_set_str(prov_obj(next, "metadata"), "deletionTimestamp", ts)
				     ? ksim_store_put(&srv->store, r, key_ns, name, next, "MODIFIED")
				     : MG_ENOMEM;
			if (rc != 0)
				cJSON_Delete(next);
		}
	} else {
		rc = ksim_store_remove(&srv->store, r, key_ns, name);
	}
	if (rc == 0)
		ksim_snapshot(srv);
	pthread_mutex_unlock(&srv->store.lock);
	return rc;
}

/* client-go's recorder folds a repeat of the same event (object, type, reason, message) into
 * the existing one: count + 1 and a new lastTimestamp. Without that, a claim that keeps
 * failing would add an Event every retry for ever. Returns true when it folded. */
static bool event_fold(ksim_prov *p, const char *ns, const char *uid, const char *name,
		       const char *type, const char *reason, const char *msg)
{
	ksim_store *s = &p->srv->store;
	bool folded = false;
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->nobjs && !folded; i++) {
		ksim_obj *o = &s->objs[i];
		if (o->res != p->event || strcmp(o->ns, ns) != 0)
			continue;
		const char *ouid = prov_str(o->obj, "involvedObject", "uid", NULL);
		const char *oname = prov_str(o->obj, "involvedObject", "name", NULL);
		const char *otype = prov_str(o->obj, "type", NULL, NULL);
		const char *oreason = prov_str(o->obj, "reason", NULL, NULL);
		const char *omsg = prov_str(o->obj, "message", NULL, NULL);
		if (!oname || strcmp(oname, name) != 0 || (uid && (!ouid || strcmp(ouid, uid) != 0)) ||
		    !otype || strcmp(otype, type) != 0 || !oreason || strcmp(oreason, reason) != 0 ||
		    !omsg || strcmp(omsg, msg) != 0)
			continue;
		cJSON *next = cJSON_Duplicate(o->obj, 1);
		const cJSON *cnt = cJSON_GetObjectItemCaseSensitive(o->obj, "count");
		char ts[32];
		ksim_now(ts, sizeof(ts));
		cJSON *n = cJSON_CreateNumber(cJSON_IsNumber(cnt) ? cnt->valuedouble + 1 : 2);
		if (!next || !n || prov_set_str(next, "lastTimestamp", ts)) {
			cJSON_Delete(next);
			cJSON_Delete(n);
			break;
		}
		cJSON_DeleteItemFromObjectCaseSensitive(next, "count");
		cJSON_AddItemToObject(next, "count", n);
		char *oname_copy = mg_strdup(o->name);
		if (oname_copy &&
		    ksim_store_put(s, p->event, ns, oname_copy, next, "MODIFIED") == 0) {
			folded = true;
			ksim_snapshot(p->srv);
		} else {
			cJSON_Delete(next);
		}
		free(oname_copy);
	}
	pthread_mutex_unlock(&s->lock);
	return folded;
}

void prov_event(ksim_prov *p, const ksim_res *r, const cJSON *about, const char *type,
		const char *reason, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	const char *name = prov_md(about, "name"), *ns = prov_md(about, "namespace");
	if (!p->event || !name)
		return;
	/* Events about cluster-scoped objects (PVs, contents) live in "default", as
	 * client-go's recorder puts them. */
	const char *evns = ns ? ns : "default";
	if (event_fold(p, evns, prov_md(about, "uid"), name, type, reason, msg))
		return;
	unsigned long long n = atomic_fetch_add(&p->srv->uid_counter, 1) + 1;
	char ts[32];
	ksim_now(ts, sizeof(ts));
	char *evname = mg_asprintf("%s.%016llx", name, n * 0x9e3779b97f4a7c15ULL);
	char *av = ksim_res_api_version(r);
	cJSON *ev = cJSON_CreateObject();
	cJSON *md = ev ? cJSON_AddObjectToObject(ev, "metadata") : NULL;
	cJSON *io = ev ? cJSON_AddObjectToObject(ev, "involvedObject") : NULL;
	cJSON *src = ev ? cJSON_AddObjectToObject(ev, "source") : NULL;
	if (!evname || !av || !md || !io || !src || !cJSON_AddStringToObject(md, "name", evname) ||
	    !cJSON_AddStringToObject(io, "apiVersion", av) ||
	    !cJSON_AddStringToObject(io, "kind", r->kind) ||
	    !cJSON_AddStringToObject(io, "name", name) ||
	    (ns && !cJSON_AddStringToObject(io, "namespace", ns)) ||
	    (prov_md(about, "uid") && !cJSON_AddStringToObject(io, "uid", prov_md(about, "uid"))) ||
	    !cJSON_AddStringToObject(ev, "type", type) ||
	    !cJSON_AddStringToObject(ev, "reason", reason) ||
	    !cJSON_AddStringToObject(ev, "message", msg) ||
	    !cJSON_AddStringToObject(src, "component", KSIM_TRIDENT_DRIVER) ||
	    !cJSON_AddStringToObject(ev, "reportingComponent", KSIM_TRIDENT_DRIVER) ||
	    !cJSON_AddStringToObject(ev, "firstTimestamp", ts) ||
	    !cJSON_AddStringToObject(ev, "lastTimestamp", ts) ||
	    !cJSON_AddNumberToObject(ev, "count", 1)) {
		cJSON_Delete(ev);
		ev = NULL;
	}
	int rc = ev ? prov_create(p, p->event, evns, ev) : MG_ENOMEM;
	if (rc != 0)
		mg_warn("kube-sim provisioner: cannot record an event", "reason", reason, "error",
			mg_strerror(rc), NULL);
	free(evname);
	free(av);
}
