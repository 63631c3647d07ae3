#include "reconciler_env.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "mirrorgate/core/doc.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/ontap/snapmirror.h"
#include "mirrorgate/ontap/volume.h"
#include "mirrorgate/util/strbuf.h"
#include "../../reconciler/tmr_controller.h"

static const char *const k_cluster[] = {"cluster-a", "cluster-b"};
static const char *const k_svm[] = {"svm-a", "svm-b"};

/* Lease timestamps and lastTransitionTime follow the simulator's clock, not the wall's. */
static int64_t sim_wall(void *ctx)
{
	rec_env *e = ctx;
	return 1764064800000LL + (int64_t)e->ontap.client_now_ms;
}

static void backend(mg_backend *b, const char *name, const char *svm, mg_ontap_client *c)
{
	memset(b, 0, sizeof(*b));
	snprintf(b->name, sizeof(b->name), "%s", name);
	snprintf(b->svm, sizeof(b->svm), "%s", svm);
	b->ontap = c;
	snprintf(b->policy, sizeof(b->policy), "MirrorAllSnapshots");
}

void rec_env_start_at(rec_env *e, const char *bin_dir, const char *source_dir)
{
	memset(e, 0, sizeof(*e));
	char bin[512];
	snprintf(bin, sizeof(bin), "%s/ontap-sim", bin_dir);
	ontap_sim_start_bin(&e->ontap, bin, NULL, NULL);
	cr_assert_eq(kube_sim_start_at(&e->kube, bin_dir, source_dir, NULL), 0,
		     "kube-sim did not start");
	mg_k8s_config *cfg = NULL;
	char why[256] = "";
	cr_assert_eq(mg_k8s_config_from_kubeconfig(&cfg, e->kube.kubeconfig, NULL, why, sizeof(why)),
		     0, "%s", why);
	cr_assert_eq(mg_k8s_client_new(&e->k8s, cfg), 0);
	mg_k8s_config_free(cfg);
	e->ca = ontap_sim_client(&e->ontap, 0);
	e->cb = ontap_sim_client(&e->ontap, 1);
	backend(&e->backend_a, "ontap-a", "svm-a", e->ca);
	backend(&e->backend_b, "ontap-b", "svm-b", e->cb);
	e->ctx_b = (mg_rctx){.kube = e->k8s, .backends = &e->backend_b, .nbackends = 1,
			     .wall_ms = sim_wall, .wall_ctx = e};
	e->ctx_a = (mg_rctx){.kube = e->k8s, .backends = &e->backend_a, .nbackends = 1,
			     .wall_ms = sim_wall, .wall_ctx = e};
}

void rec_env_stop(rec_env *e)
{
	mg_ontap_client_free(e->ca);
	mg_ontap_client_free(e->cb);
	mg_k8s_client_free(e->k8s);
	kube_sim_stop(&e->kube);
	ontap_sim_stop(&e->ontap);
}

static mg_ontap_client *client(rec_env *e, int cluster)
{
	return cluster == 0 ? e->ca : e->cb;
}

void rec_env_volume(rec_env *e, int cluster, const char *name, const char *type)
{
	mg_ontap_error err;
	mg_ontap_volume_spec spec = {k_svm[cluster], name, type, 1u << 30, NULL};
	cr_assert_eq(mg_ontap_volume_create(client(e, cluster), &spec, NULL, &err), 0,
		     "create %s: %s", name, err.message);
}

long rec_env_write(rec_env *e, int cluster, const char *path)
{
	char body[256];
	snprintf(body, sizeof(body), "{\"cluster\":\"%s\",\"path\":\"%s\"}", k_cluster[cluster],
		 path);
	cJSON *out = NULL;
	int st = ontap_sim_control(&e->ontap, "POST", "volumes/write", body, &out);
	cr_assert_eq(st, 200, "write %s", path);
	long gen = (long)cJSON_GetObjectItem(out, "generation")->valuedouble;
	cJSON_Delete(out);
	return gen;
}

static void volume_uuid(rec_env *e, int cluster, const char *volume, char *uuid)
{
	mg_ontap_error err;
	mg_ontap_volume v;
	cr_assert_eq(mg_ontap_volume_get(client(e, cluster), k_svm[cluster], volume, &v, &err), 0,
		     "%s", err.message);
	snprintf(uuid, MG_ONTAP_UUID_MAX, "%s", v.uuid);
}

void rec_env_snapshot(rec_env *e, int cluster, const char *volume, const char *name)
{
	char uuid[MG_ONTAP_UUID_MAX];
	volume_uuid(e, cluster, volume, uuid);
	mg_ontap_error err;
	cr_assert_eq(mg_ontap_snapshot_create(client(e, cluster), uuid, name, NULL, &err), 0, "%s",
		     err.message);
}

const char *rec_env_volume_type(rec_env *e, int cluster, const char *volume)
{
	static char buf[32];
	mg_ontap_error err;
	mg_ontap_volume v;
	cr_assert_eq(mg_ontap_volume_get(client(e, cluster), k_svm[cluster], volume, &v, &err), 0,
		     "%s", err.message);
	snprintf(buf, sizeof(buf), "%s", v.type);
	return buf;
}

bool rec_env_has_snapshot(rec_env *e, int cluster, const char *volume, const char *name)
{
	char uuid[MG_ONTAP_UUID_MAX];
	volume_uuid(e, cluster, volume, uuid);
	mg_ontap_error err;
	mg_ontap_snapshot s;
	int rc = mg_ontap_snapshot_get(client(e, cluster), uuid, name, &s, &err);
	cr_assert(rc == 0 || rc == MG_ENOTFOUND, "%s", err.message);
	return rc == 0;
}

static cJSON *parse(const char *yaml)
{
	mg_doc_list docs = {0};
	mg_parse_error perr;
	cr_assert_eq(mg_doc_parse_yaml(&docs, yaml, strlen(yaml), &perr), 0, "%s", perr.message);
	cJSON *o = cJSON_Duplicate(docs.items[0].root, true);
	mg_doc_list_free(&docs);
	return o;
}

void rec_env_create(rec_env *e, const mg_k8s_resource *r, const char *ns, const char *yaml)
{
	cJSON *o = parse(yaml);
	mg_k8s_status st;
	int rc = mg_k8s_create(NULL, e->k8s, r, ns, o, &st);
	cJSON_Delete(o);
	cr_assert(rc == 0 || rc == MG_EEXIST, "create: %s %s", mg_strerror(rc), st.message);
}

void rec_env_pvc(rec_env *e, const char *ns, const char *pvc, const char *volume)
{
	char buf[2048];
	snprintf(buf, sizeof(buf), "{apiVersion: v1, kind: Namespace, metadata: {name: %s}}", ns);
	rec_env_create(e, &mg_k8s_res_namespace, NULL, buf);
	snprintf(buf, sizeof(buf),
		 "apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: pv-%s-%s}\n"
		 "spec:\n  capacity: {storage: 1Gi}\n  accessModes: [ReadWriteOnce]\n"
		 "  claimRef: {namespace: %s, name: %s}\n"
		 "  csi:\n    driver: csi.trident.netapp.io\n    volumeHandle: pv-%s-%s\n"
		 "    volumeAttributes: {internalName: %s, backendUUID: 0000-b}\n",
		 ns, pvc, ns, pvc, ns, pvc, volume);
	rec_env_create(e, &mg_k8s_res_pv, NULL, buf);
	snprintf(buf, sizeof(buf),
		 "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: %s, namespace: %s}\n"
		 "spec:\n  accessModes: [ReadWriteOnce]\n  resources: {requests: {storage: 1Gi}}\n"
		 "  storageClassName: trident\n  volumeName: pv-%s-%s\n",
		 pvc, ns, ns, pvc);
	rec_env_create(e, &mg_k8s_res_pvc, ns, buf);
}

void rec_env_patch_spec(rec_env *e, const char *ns, const char *name, const char *json)
{
	cJSON *p = cJSON_Parse(json);
	cr_assert_not_null(p, "bad patch %s", json);
	mg_k8s_status st;
	int rc = mg_k8s_patch(NULL, e->k8s, &mg_k8s_res_tmr, ns, name, NULL, MG_K8S_PATCH_MERGE, p,
			      &st);
	cJSON_Delete(p);
	cr_assert_eq(rc, 0, "patch: %s %s", mg_strerror(rc), st.message);
}

cJSON *rec_env_get(rec_env *e, const mg_k8s_resource *r, const char *ns, const char *name)
{
	cJSON *o = NULL;
	mg_k8s_status st;
	int rc = mg_k8s_get(&o, e->k8s, r, ns, name, &st);
	cr_assert(rc == 0 || rc == MG_ENOTFOUND, "get %s: %s", name, mg_strerror(rc));
	return o;
}

const char *rec_env_cond(rec_env *e, const char *ns, const char *name, const char *field)
{
	static char buf[1024];
	buf[0] = '\0';
	cJSON *o = rec_env_get(e, &mg_k8s_res_tmr, ns, name);
	const cJSON *c = cJSON_GetArrayItem(
		cJSON_GetObjectItem(cJSON_GetObjectItem(o, "status"), "conditions"), 0);
	const cJSON *f = cJSON_GetObjectItem(c, field);
	if (cJSON_IsString(f))
		snprintf(buf, sizeof(buf), "%s", f->valuestring);
	else if (cJSON_IsNumber(f))
		snprintf(buf, sizeof(buf), "%lld", (long long)f->valuedouble);
	cJSON_Delete(o);
	return buf;
}

int rec_env_tmr_until(rec_env *e, mg_rctx *ctx, const char *ns, const char *name,
		      const char *state, int max_passes, int64_t step_ms)
{
	for (int i = 1; i <= max_passes; i++) {
		mg_rec_result res;
		int rc = mg_tmr_reconcile(ctx, ns, name, &res);
		cr_assert_eq(rc, 0, "reconcile: %s", mg_strerror(rc));
		if (res.outcome == MG_REC_DONE &&
		    strcmp(rec_env_cond(e, ns, name, "state"), state) == 0)
			return i;
		if (step_ms)
			ontap_sim_advance(&e->ontap, step_ms);
	}
	return -1;
}

int rec_env_tmr_until_gone(rec_env *e, mg_rctx *ctx, const char *ns, const char *name,
			   int max_passes, int64_t step_ms)
{
	for (int i = 1; i <= max_passes; i++) {
		mg_rec_result res;
		int rc = mg_tmr_reconcile(ctx, ns, name, &res);
		cr_assert_eq(rc, 0, "reconcile: %s", mg_strerror(rc));
		cJSON *o = rec_env_get(e, &mg_k8s_res_tmr, ns, name);
		cJSON_Delete(o);
		if (!o)
			return i;
		if (step_ms)
			ontap_sim_advance(&e->ontap, step_ms);
	}
	return -1;
}

int rec_env_ledger(rec_env *e, char **text)
{
	cJSON *out = NULL;
	int st = ontap_sim_control(&e->ontap, "GET", "ledger", NULL, &out);
	cr_assert_eq(st, 200);
	const cJSON *entries = cJSON_GetObjectItem(out, "entries");
	int n = cJSON_GetArraySize(entries);
	if (text)
		*text = cJSON_PrintUnformatted(out);
	cJSON_Delete(out);
	return n;
}

int rec_env_events(rec_env *e, const char *ns, const char *name, const char *reason)
{
	cJSON *list = NULL;
	mg_k8s_status st;
	mg_k8s_list_opts o = {0};
	int rc = mg_k8s_list(&list, e->k8s, &mg_k8s_res_event, ns, &o, &st);
	cr_assert_eq(rc, 0, "list events: %s", mg_strerror(rc));
	int n = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(list, "items"))
	{
		const cJSON *io = cJSON_GetObjectItem(it, "involvedObject");
		const cJSON *nm = cJSON_GetObjectItem(io, "name");
		const cJSON *rs = cJSON_GetObjectItem(it, "reason");
		if (cJSON_IsString(nm) && strcmp(nm->valuestring, name) == 0 && cJSON_IsString(rs) &&
		    strcmp(rs->valuestring, reason) == 0)
			n++;
	}
	cJSON_Delete(list);
	return n;
}

/* Calls fn for each Event about the named object with this reason. */
static void each_event(rec_env *e, const char *ns, const char *name, const char *reason,
		       void (*fn)(const char *message, void *arg), void *arg)
{
	cJSON *list = NULL;
	mg_k8s_status st;
	mg_k8s_list_opts o = {0};
	int rc = mg_k8s_list(&list, e->k8s, &mg_k8s_res_event, ns, &o, &st);
	cr_assert_eq(rc, 0, "list events: %s", mg_strerror(rc));
	const cJSON *it;
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(list, "items"))
	{
		const cJSON *nm = cJSON_GetObjectItem(cJSON_GetObjectItem(it, "involvedObject"), "name");
		const cJSON *rs = cJSON_GetObjectItem(it, "reason");
		const cJSON *msg = cJSON_GetObjectItem(it, "message");
		if (cJSON_IsString(nm) && strcmp(nm->valuestring, name) == 0 && cJSON_IsString(rs) &&
		    strcmp(rs->valuestring, reason) == 0 && cJSON_IsString(msg))
			fn(msg->valuestring, arg);
	}
	cJSON_Delete(list);
}

static void keep_message(const char *message, void *arg)
{
	snprintf(arg, 1024, "%s", message);
}

const char *rec_env_event_message(rec_env *e, const char *ns, const char *name,
				  const char *reason)
{
	static char buf[1024];
	buf[0] = '\0';
	each_event(e, ns, name, reason, keep_message, buf);
	return buf;
}

struct saying {
	const char *prefix;
	int n;
};

static void count_saying(const char *message, void *arg)
{
	struct saying *s = arg;
	if (strncmp(message, s->prefix, strlen(s->prefix)) == 0)
		s->n++;
}

int rec_env_events_saying(rec_env *e, const char *ns, const char *name, const char *reason,
			  const char *prefix)
{
	struct saying s = {prefix, 0};
	each_event(e, ns, name, reason, count_saying, &s);
	return s.n;
}

void rec_env_fault(rec_env *e, const char *json)
{
	int st = ontap_sim_control(&e->ontap, "POST", "faults", json, NULL);
	cr_assert_eq(st, 200, "fault %s refused (%d)", json, st);
}

void rec_env_clear_faults(rec_env *e)
{
	cr_assert_eq(ontap_sim_control(&e->ontap, "DELETE", "faults", NULL, NULL), 200);
}

bool rec_env_relationship(rec_env *e, const char *dest_path, char *state, size_t len)
{
	mg_ontap_relationship_filter f = {NULL, dest_path, false};
	mg_ontap_relationship rel;
	mg_ontap_error err;
	int rc = mg_ontap_relationship_get(e->cb, &f, &rel, &err);
	cr_assert(rc == 0 || rc == MG_ENOTFOUND, "%s", err.message);
	if (state && len)
		snprintf(state, len, "%s", rc == 0 ? rel.state : "");
	return rc == 0;
}

int rec_env_requests_with_body(rec_env *e, const char *method, const char *path_needle,
			       const char *body_needle)
{
	cJSON *log = NULL;
	cr_assert_eq(ontap_sim_control(&e->ontap, "GET", "requests", NULL, &log), 200);
	int n = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(log, "requests"))
	{
		const cJSON *m = cJSON_GetObjectItem(it, "method");
		const cJSON *path = cJSON_GetObjectItem(it, "path");
		const cJSON *body = cJSON_GetObjectItem(it, "body");
		if (cJSON_IsString(m) && (!method || strcmp(m->valuestring, method) == 0) &&
		    cJSON_IsString(path) && strstr(path->valuestring, path_needle) &&
		    cJSON_IsString(body) && strstr(body->valuestring, body_needle))
			n++;
	}
	cJSON_Delete(log);
	return n;
}

void rec_env_set_state(rec_env *e, const char *dest_path, const char *state)
{
	mg_ontap_relationship_filter f = {NULL, dest_path, false};
	mg_ontap_relationship rel;
	mg_ontap_error err;
	cr_assert_eq(mg_ontap_relationship_get(e->cb, &f, &rel, &err), 0, "%s", err.message);
	mg_ontap_state_change ch = {state, NULL, false, false};
	cr_assert_eq(mg_ontap_relationship_set_state(e->cb, rel.uuid, &ch, &err), 0, "%s %s", state,
		     err.message);
}

int rec_env_mutations(rec_env *e)
{
	return ontap_sim_count_requests(&e->ontap, NULL, "PATCH", "/api/snapmirror") +
	       ontap_sim_count_requests(&e->ontap, NULL, "DELETE", "/api/snapmirror") +
	       ontap_sim_count_requests(&e->ontap, NULL, "POST", "/api/snapmirror");
}

int rec_env_pass(rec_env *e, mg_rctx *ctx, const char *ns, const char *name)
{
	(void)e;
	mg_rec_result res;
	int rc = mg_tmr_reconcile(ctx, ns, name, &res);
	cr_assert_eq(rc, 0, "reconcile: %s", mg_strerror(rc));
	return (int)res.outcome;
}

void rec_env_delete(rec_env *e, const mg_k8s_resource *r, const char *ns, const char *name)
{
	mg_k8s_status st;
	int rc = mg_k8s_delete(e->k8s, r, ns, name, NULL, NULL, &st);
	cr_assert(rc == 0 || rc == MG_ENOTFOUND, "delete %s: %s", name, mg_strerror(rc));
}

void rec_env_mirror_pair(rec_env *e)
{
	rec_env_volume(e, 0, "vol_src", "rw");
	rec_env_write(e, 0, "svm-a:vol_src");
	rec_env_volume(e, 1, "vol_dst", "dp");
	rec_env_pvc(e, "app", "data", "vol_dst");
}

void rec_env_transfer(rec_env *e, const char *dest_path)
{
	mg_ontap_relationship_filter f = {NULL, dest_path, false};
	mg_ontap_relationship rel;
	mg_ontap_error err;
	cr_assert_eq(mg_ontap_relationship_get(e->cb, &f, &rel, &err), 0, "%s", err.message);
	cr_assert_eq(mg_ontap_transfer_start(e->cb, rel.uuid, NULL, NULL, &err), 0, "%s",
		     err.message);
}
