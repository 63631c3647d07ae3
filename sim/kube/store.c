/* kube-sim's object store: objects by (type, namespace, name), one global monotonic
 * resourceVersion, and a bounded history of changes that watches replay. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksim.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/util/strbuf.h"

int ksim_store_init(ksim_store *s, size_t history)
{
	memset(s, 0, sizeof(*s));
	s->ring_cap = history ? history : 1000;
	s->ring = calloc(s->ring_cap, sizeof(*s->ring));
	if (!s->ring)
		return MG_ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->changed, &ca);
	pthread_condattr_destroy(&ca);
	s->rv = 1;
	return 0;
}

static void event_clear(ksim_event *e)
{
	free(e->ns);
	cJSON_Delete(e->obj);
	memset(e, 0, sizeof(*e));
}

void ksim_store_free(ksim_store *s)
{
	if (!s || !s->ring)
		return;
	for (size_t i = 0; i < s->nobjs; i++) {
		free(s->objs[i].ns);
		free(s->objs[i].name);
		cJSON_Delete(s->objs[i].obj);
	}
	free(s->objs);
	for (size_t i = 0; i < s->ring_cap; i++)
		event_clear(&s->ring[i]);
	free(s->ring);
	s->ring = NULL;
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->changed);
}

ksim_obj *ksim_store_find(ksim_store *s, const ksim_res *r, const char *ns, const char *name)
{
	for (size_t i = 0; i < s->nobjs; i++) {
		ksim_obj *o = &s->objs[i];
		if (o->res == r && strcmp(o->ns, ns ? ns : "") == 0 && strcmp(o->name, name) == 0)
			return o;
	}
	return NULL;
}

static int record(ksim_store *s, const ksim_res *r, const char *ns, const cJSON *obj,
		  const char *type)
{
	ksim_event ev = {0};
	ev.rv = s->rv;
	ev.res = r;
	snprintf(ev.type, sizeof(ev.type), "%s", type);
	ev.ns = mg_strdup(ns ? ns : "");
	ev.obj = cJSON_Duplicate(obj, 1);
	if (!ev.ns || !ev.obj) {
		event_clear(&ev);
		return MG_ENOMEM;
	}
	size_t idx;
	if (s->ring_len == s->ring_cap) {
		/* The oldest change falls out of the window: watching from before it is 410. */
		idx = s->ring_start;
		s->compacted_rv = s->ring[idx].rv;
		event_clear(&s->ring[idx]);
		s->ring_start = (s->ring_start + 1) % s->ring_cap;
	} else {
		idx = (s->ring_start + s->ring_len) % s->ring_cap;
		s->ring_len++;
	}
	s->ring[idx] = ev;
	pthread_cond_broadcast(&s->changed);
	return 0;
}

static int stamp_rv(ksim_store *s, cJSON *obj)
{
	char buf[32];
	s->rv++;
	snprintf(buf, sizeof(buf), "%llu", s->rv);
	cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	if (!cJSON_IsObject(md))
		return MG_EINVAL;
	cJSON *v = cJSON_CreateString(buf);
	if (!v)
		return MG_ENOMEM;
	if (cJSON_GetObjectItemCaseSensitive(md, "resourceVersion"))
		cJSON_ReplaceItemInObjectCaseSensitive(md, "resourceVersion", v);
	else
		cJSON_AddItemToObject(md, "resourceVersion", v);
	return 0;
}

int ksim_store_put(ksim_store *s, const ksim_res *r, const char *ns, const char *name,
		   cJSON *obj, const char *type)
{
	int rc;
	if ((rc = stamp_rv(s, obj)) != 0)
		return rc;
	ksim_obj *o = ksim_store_find(s, r, ns, name);
	if (o) {
		cJSON_Delete(o->obj);
		o->obj = obj;
	} else {
		if (s->nobjs == s->capobjs) {
			size_t cap = s->capobjs ? s->capobjs * 2 : 64;
			ksim_obj *n = realloc(s->objs, cap * sizeof(*n));
			if (!n)
				return MG_ENOMEM;
			s->objs = n;
			s->capobjs = cap;
		}
		o = &s->objs[s->nobjs];
		o->res = r;
		o->ns = mg_strdup(ns ? ns : "");
		o->name = mg_strdup(name);
		if (!o->ns || !o->name) {
			free(o->ns);
			free(o->name);
			return MG_ENOMEM;
		}
		o->obj = obj;
		s->nobjs++;
	}
	return record(s, r, ns, obj, type);
}

int ksim_store_remove(ksim_store *s, const ksim_res *r, const char *ns, const char *name)
{
	ksim_obj *o = ksim_store_find(s, r, ns, name);
	if (!o)
		return MG_ENOTFOUND;
	int rc = stamp_rv(s, o->obj);
	if (rc == 0)
		rc = record(s, r, ns, o->obj, "DELETED");
	free(o->ns);
	free(o->name);
	cJSON_Delete(o->obj);
	size_t idx = (size_t)(o - s->objs);
	memmove(&s->objs[idx], &s->objs[idx + 1], (s->nobjs - idx - 1) * sizeof(*o));
	s->nobjs--;
	return rc;
}

void ksim_store_compact(ksim_store *s)
{
	for (size_t i = 0; i < s->ring_cap; i++)
		event_clear(&s->ring[i]);
	s->ring_start = s->ring_len = 0;
	s->compacted_rv = s->rv;
	pthread_cond_broadcast(&s->changed);
}
