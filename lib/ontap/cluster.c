/* Cluster-level reads: cluster/version, SVMs, peers, policies, schedules. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/ontap/cluster.h"
#include "mirrorgate/util/strbuf.h"

bool mg_ontap_version_at_least(const mg_ontap_version *v, int g, int ma, int mi)
{
	if (v->generation != g)
		return v->generation > g;
	if (v->major != ma)
		return v->major > ma;
	return v->minor >= mi;
}

static int bad_record(mg_ontap_error *err, const char *what)
{
	mg_ontap_error_set(err, MG_EPARSE, MG_ONTAP_SRC_CLIENT, "%s: a field is missing or too long",
			   what);
	return MG_EPARSE;
}

int mg_ontap_cluster_get(mg_ontap_client *c, mg_ontap_cluster *out, mg_ontap_error *err)
{
	cJSON *body = NULL;
	int status;
	if (!c || !out)
		return mg_ontap_bad_args(err, __func__);
	int rc = mg_ontap_request(c, "GET", "/api/cluster?fields=name,uuid,version", NULL, &status,
				  &body, err);
	if (rc != 0)
		return rc;
	memset(out, 0, sizeof(*out));
	const cJSON *gen = mg_ontap_json_at(body, "version.generation");
	if (mg_ontap_json_str(out->name, sizeof(out->name), body, "name") ||
	    mg_ontap_json_str(out->uuid, sizeof(out->uuid), body, "uuid") ||
	    mg_ontap_json_str(out->version.full, sizeof(out->version.full), body, "version.full") ||
	    !cJSON_IsNumber(gen)) {
		rc = bad_record(err, "GET /api/cluster");
		goto out;
	}
	out->version.generation = gen->valueint;
	out->version.major = (int)mg_ontap_json_ll(body, "version.major", 0);
	out->version.minor = (int)mg_ontap_json_ll(body, "version.minor", 0);
	pthread_mutex_lock(&c->lock);
	c->version = out->version;
	c->have_version = true;
	pthread_mutex_unlock(&c->lock);
out:
	cJSON_Delete(body);
	return rc;
}

int mg_ontap_client_version(mg_ontap_client *c, mg_ontap_version *out, mg_ontap_error *err)
{
	if (!c || !out)
		return mg_ontap_bad_args(err, __func__);
	pthread_mutex_lock(&c->lock);
	bool have = c->have_version;
	*out = c->version;
	pthread_mutex_unlock(&c->lock);
	if (have)
		return 0;
	mg_ontap_cluster cl;
	int rc = mg_ontap_cluster_get(c, &cl, err);
	if (rc == 0)
		*out = cl.version;
	return rc;
}

/* ---- SVMs ---- */

static int svm_each(const cJSON *rec, void *ctx)
{
	mg_ontap_svm_list *l = ctx;
	mg_ontap_svm *s = mg_ontap_array_push((void **)&l->items, &l->len, sizeof(*s));
	if (!s)
		return MG_ENOMEM;
	if (mg_ontap_json_str(s->name, sizeof(s->name), rec, "name") ||
	    mg_ontap_json_str(s->uuid, sizeof(s->uuid), rec, "uuid") ||
	    mg_ontap_json_str(s->state, sizeof(s->state), rec, "state") ||
	    mg_ontap_json_str(s->subtype, sizeof(s->subtype), rec, "subtype"))
		return MG_EPARSE;
	return 0;
}

void mg_ontap_svm_list_free(mg_ontap_svm_list *list)
{
	if (list)
		mg_ontap_array_free((void **)&list->items, &list->len);
}

int mg_ontap_svms(mg_ontap_client *c, const char *name, mg_ontap_svm_list *out,
		      mg_ontap_error *err)
{
	if (!c || !out)
		return mg_ontap_bad_args(err, __func__);
	const mg_ontap_param q[] = {{"fields", "name,uuid,state,subtype"}, {"name", name}};
	return MG_ONTAP_COLLECT_LIST(c, "/api/svm/svms", q, svm_each, out, err);
}

int mg_ontap_svm_get(mg_ontap_client *c, const char *name, mg_ontap_svm *out, mg_ontap_error *err)
{
	mg_ontap_svm_list l;
	if (!name || !out)
		return mg_ontap_bad_args(err, __func__);
	int rc = mg_ontap_svms(c, name, &l, err);
	if (rc != 0)
		return rc;
	if (l.len == 0)
		rc = mg_ontap_not_found(err, "SVM \"%s\"", name);
	else
		*out = l.items[0];
	mg_ontap_svm_list_free(&l);
	return rc;
}

/* ---- SVM peers ---- */

static int svm_peer_each(const cJSON *rec, void *ctx)
{
	mg_ontap_svm_peer_list *l = ctx;
	mg_ontap_svm_peer *p = mg_ontap_array_push((void **)&l->items, &l->len, sizeof(*p));
	if (!p)
		return MG_ENOMEM;
	if (mg_ontap_json_str(p->uuid, sizeof(p->uuid), rec, "uuid") ||
	    mg_ontap_json_str(p->svm_name, sizeof(p->svm_name), rec, "svm.name") ||
	    mg_ontap_json_str(p->peer_svm_name, sizeof(p->peer_svm_name), rec, "peer.svm.name") ||
	    mg_ontap_json_str(p->peer_cluster_name, sizeof(p->peer_cluster_name), rec,
			      "peer.cluster.name") ||
	    mg_ontap_json_str(p->name, sizeof(p->name), rec, "name") ||
	    mg_ontap_json_str(p->state, sizeof(p->state), rec, "state"))
		return MG_EPARSE;
	const cJSON *app;
	cJSON_ArrayForEach(app, cJSON_GetObjectItemCaseSensitive(rec, "applications"))
		if (cJSON_IsString(app) && strcmp(app->valuestring, "snapmirror") == 0)
			p->snapmirror = true;
	return 0;
}

void mg_ontap_svm_peer_list_free(mg_ontap_svm_peer_list *list)
{
	if (list)
		mg_ontap_array_free((void **)&list->items, &list->len);
}

int mg_ontap_svm_peers(mg_ontap_client *c, const char *svm_name, mg_ontap_svm_peer_list *out,
			   mg_ontap_error *err)
{
	if (!c || !out)
		return mg_ontap_bad_args(err, __func__);
	const mg_ontap_param q[] = {
		{"fields", "uuid,name,state,svm.name,peer.svm.name,peer.cluster.name,applications"},
		{"svm.name", svm_name}};
	return MG_ONTAP_COLLECT_LIST(c, "/api/svm/peers", q, svm_peer_each, out, err);
}

/* ---- cluster peers ---- */

static int cluster_peer_each(const cJSON *rec, void *ctx)
{
	mg_ontap_cluster_peer_list *l = ctx;
	mg_ontap_cluster_peer *p = mg_ontap_array_push((void **)&l->items, &l->len, sizeof(*p));
	if (!p)
		return MG_ENOMEM;
	if (mg_ontap_json_str(p->uuid, sizeof(p->uuid), rec, "uuid") ||
	    mg_ontap_json_str(p->name, sizeof(p->name), rec, "name") ||
	    mg_ontap_json_str(p->state, sizeof(p->state), rec, "status.state"))
		return MG_EPARSE;
	return 0;
}

void mg_ontap_cluster_peer_list_free(mg_ontap_cluster_peer_list *list)
{
	if (list)
		mg_ontap_array_free((void **)&list->items, &list->len);
}

int mg_ontap_cluster_peers(mg_ontap_client *c, mg_ontap_cluster_peer_list *out,
			       mg_ontap_error *err)
{
	if (!c || !out)
		return mg_ontap_bad_args(err, __func__);
	const mg_ontap_param q[] = {{"fields", "uuid,name,status.state"}};
	return MG_ONTAP_COLLECT_LIST(c, "/api/cluster/peers", q, cluster_peer_each, out, err);
}

/* ---- policies and schedules: exactly one record by name ---- */

typedef struct one_ctx {
	cJSON *first;
	size_t n;
} one_ctx;

static int one_each(const cJSON *rec, void *ctx)
{
	one_ctx *o = ctx;
	if (o->n++ == 0 && !(o->first = cJSON_Duplicate(rec, 1)))
		return MG_ENOMEM;
	return 0;
}

static int get_one(mg_ontap_client *c, const char *path, const char *fields, const char *name,
		   const char *what, cJSON **out, mg_ontap_error *err)
{
	one_ctx o = {NULL, 0};
	mg_strbuf q = MG_STRBUF_INIT;
	const mg_ontap_param params[] = {{"name", name}, {"fields", fields}};
	int rc = mg_ontap_query_build(&q, params, 2);
	if (rc == 0)
		rc = mg_ontap_collect(c, path, q.data, one_each, &o, err);
	mg_strbuf_free(&q);
	if (rc == 0 && o.n == 0)
		rc = mg_ontap_not_found(err, "%s \"%s\"", what, name);
	if (rc == 0) {
		*out = o.first;
		o.first = NULL;
	}
	cJSON_Delete(o.first);
	return rc;
}

int mg_ontap_policy_get(mg_ontap_client *c, const char *name, mg_ontap_policy *out,
			mg_ontap_error *err)
{
	cJSON *rec = NULL;
	if (!c || !name || !out)
		return mg_ontap_bad_args(err, __func__);
	int rc = get_one(c, "/api/snapmirror/policies",
			 "name,uuid,type,sync_type,copy_all_source_snapshots,copy_latest_source_snapshot",
			 name, "SnapMirror policy", &rec, err);
	if (rc != 0)
		return rc;
	memset(out, 0, sizeof(*out));
	if (mg_ontap_json_str(out->name, sizeof(out->name), rec, "name") ||
	    mg_ontap_json_str(out->uuid, sizeof(out->uuid), rec, "uuid") ||
	    mg_ontap_json_str(out->type, sizeof(out->type), rec, "type") ||
	    mg_ontap_json_str(out->sync_type, sizeof(out->sync_type), rec, "sync_type"))
		rc = bad_record(err, "SnapMirror policy");
	out->copy_all_source_snapshots = mg_ontap_json_bool(rec, "copy_all_source_snapshots", false);
	out->copy_latest_source_snapshot = mg_ontap_json_bool(rec, "copy_latest_source_snapshot", false);
	cJSON_Delete(rec);
	return rc;
}

int mg_ontap_schedule_get(mg_ontap_client *c, const char *name, mg_ontap_schedule *out,
			  mg_ontap_error *err)
{
	cJSON *rec = NULL;
	if (!c || !name || !out)
		return mg_ontap_bad_args(err, __func__);
	int rc = get_one(c, "/api/cluster/schedules", "name,uuid,type", name, "schedule", &rec, err);
	if (rc != 0)
		return rc;
	memset(out, 0, sizeof(*out));
	if (mg_ontap_json_str(out->name, sizeof(out->name), rec, "name") ||
	    mg_ontap_json_str(out->uuid, sizeof(out->uuid), rec, "uuid") ||
	    mg_ontap_json_str(out->type, sizeof(out->type), rec, "type"))
		rc = bad_record(err, "schedule");
	cJSON_Delete(rec);
	return rc;
}
