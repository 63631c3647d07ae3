/* (An integration test: it runs kube-sim, which under valgrind takes minutes; the canned
 * unit tests cover the same client code under valgrind in CI.) */
/* The Kubernetes client against a real kube-sim process: CRUD, paging, selectors, watch
 * resume and expiry, 409, status subresource, generation, finalizers, token rotation. */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kube_support.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/k8s/client.h"
#include "mirrorgate/util/strbuf.h"
#include "mirrorgate/util/tls.h"

static kube_sim_proc sim;
static mg_k8s_client *client;

static void start_with(const char *const *extra)
{
	cr_assert_eq(kube_sim_start(&sim, extra), 0, "kube-sim did not start");
	mg_k8s_config *cfg = NULL;
	char why[256] = "";
	cr_assert_eq(mg_k8s_config_from_kubeconfig(&cfg, sim.kubeconfig, NULL, why, sizeof(why)), 0,
		     "%s", why);
	cr_assert_eq(mg_k8s_client_new(&client, cfg), 0);
	mg_k8s_config_free(cfg);
}

static void setup(void)
{
	start_with(NULL);
}

static void teardown(void)
{
	mg_k8s_client_free(client);
	client = NULL;
	kube_sim_stop(&sim);
}

static cJSON *cm(const char *name, const char *label)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "apiVersion", "v1");
	cJSON_AddStringToObject(o, "kind", "ConfigMap");
	cJSON *md = cJSON_AddObjectToObject(o, "metadata");
	cJSON_AddStringToObject(md, "name", name);
	if (label) {
		cJSON *l = cJSON_AddObjectToObject(md, "labels");
		cJSON_AddStringToObject(l, "tier", label);
	}
	cJSON *d = cJSON_AddObjectToObject(o, "data");
	cJSON_AddStringToObject(d, "k", "v");
	return o;
}

static cJSON *tmr(const char *name, const char *state)
{
	char *text = mg_asprintf(
		"{\"apiVersion\":\"trident.netapp.io/v1\",\"kind\":\"TridentMirrorRelationship\","
		"\"metadata\":{\"name\":\"%s\"},\"spec\":{\"state\":\"%s\",\"volumeMappings\":"
		"[{\"localPVCName\":\"pvc-%s\",\"remoteVolumeHandle\":\"svm_a:vol_%s\"}]}}",
		name, state, name, name);
	cJSON *o = cJSON_Parse(text);
	free(text);
	return o;
}

static const char *md(const cJSON *o, const char *f)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "metadata"), f);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double gen(const cJSON *o)
{
	return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "metadata"),
						"generation")->valuedouble;
}

TestSuite(k8s_client_sim, .init = setup, .fini = teardown, .timeout = 60);

Test(k8s_client_sim, create_get_update_delete_and_typed_errors)
{
	cJSON *obj = cm("one", NULL), *out = NULL;
	mg_k8s_status st;
	cr_assert_eq(mg_k8s_create(&out, client, &mg_k8s_res_configmap, "default", obj, &st), 0);
	cr_assert_str_eq(md(out, "namespace"), "default");
	cr_assert_not_null(md(out, "uid"));
	char *rv1 = mg_strdup(md(out, "resourceVersion"));
	cJSON_Delete(out);
	/* a second create is AlreadyExists, distinct from a write conflict */
	cr_assert_eq(mg_k8s_create(NULL, client, &mg_k8s_res_configmap, "default", obj, &st), MG_EEXIST);
	cr_assert_eq(st.code, 409);
	cr_assert_str_eq(st.reason, "AlreadyExists");
	cr_assert_eq(mg_k8s_get(&out, client, &mg_k8s_res_configmap, "default", "one", &st), 0);
	cJSON_ReplaceItemInObject(cJSON_GetObjectItem(out, "data"), "k", cJSON_CreateString("v2"));
	cJSON *upd = NULL;
	cr_assert_eq(mg_k8s_update(&upd, client, &mg_k8s_res_configmap, "default", out, &st), 0);
	cr_assert_neq(strcmp(md(upd, "resourceVersion"), rv1), 0, "resourceVersion must move");
	/* the same stale copy again: optimistic concurrency says 409 Conflict */
	cr_assert_eq(mg_k8s_update(NULL, client, &mg_k8s_res_configmap, "default", out, &st), MG_ECONFLICT);
	cr_assert_eq(st.code, 409);
	cr_assert(strstr(st.message, "the object has been modified"), "%s", st.message);
	/* delete with a stale resourceVersion precondition is refused, then succeeds */
	cr_assert_eq(mg_k8s_delete(client, &mg_k8s_res_configmap, "default", "one", NULL, rv1, &st), MG_ECONFLICT);
	cr_assert(strstr(st.message, "Precondition failed"));
	cr_assert_eq(mg_k8s_delete(client, &mg_k8s_res_configmap, "default", "one", md(upd, "uid"),
				   md(upd, "resourceVersion"), &st), 0);
	cr_assert_eq(mg_k8s_get(&out, client, &mg_k8s_res_configmap, "default", "one", &st), MG_ENOTFOUND);
	cr_assert_eq(st.code, 404);
	cJSON_Delete(upd);
	cJSON_Delete(out);
	cJSON_Delete(obj);
	free(rv1);
}

Test(k8s_client_sim, list_pages_with_limit_and_continue_and_label_selector)
{
	for (int i = 0; i < 7; i++) {
		char name[16];
		snprintf(name, sizeof(name), "cm-%d", i);
		cJSON *o = cm(name, i % 2 ? "odd" : "even");
		cr_assert_eq(mg_k8s_create(NULL, client, &mg_k8s_res_configmap, "default", o, NULL), 0);
		cJSON_Delete(o);
	}
	mg_k8s_list_opts lo = {0};
	lo.limit = 3;
	cJSON *page = NULL;
	cr_assert_eq(mg_k8s_list(&page, client, &mg_k8s_res_configmap, "default", &lo, NULL), 0);
	cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(page, "items")), 3);
	const cJSON *cont = cJSON_GetObjectItem(cJSON_GetObjectItem(page, "metadata"), "continue");
	cr_assert(cJSON_IsString(cont), "a first page of 3 out of 7 has a continue token");
	cJSON_Delete(page);
	cJSON *items = NULL;
	char *rv = NULL;
	cr_assert_eq(mg_k8s_list_all(&items, &rv, client, &mg_k8s_res_configmap, "default", &lo, NULL), 0);
	cr_assert_eq(cJSON_GetArraySize(items), 7);
	cr_assert_not_null(rv);
	/* every object exactly once, in name order */
	for (int i = 0; i < 7; i++) {
		char name[16];
		snprintf(name, sizeof(name), "cm-%d", i);
		cr_assert_str_eq(md(cJSON_GetArrayItem(items, i), "name"), name);
	}
	cJSON_Delete(items);
	free(rv);
	lo.label_selector = "tier in (odd)";
	cr_assert_eq(mg_k8s_list_all(&items, &rv, client, &mg_k8s_res_configmap, "default", &lo, NULL), 0);
	cr_assert_eq(cJSON_GetArraySize(items), 3);
	cJSON_Delete(items);
	free(rv);
	lo.label_selector = "tier notin (";
	mg_k8s_status st;
	cr_assert_eq(mg_k8s_list(&page, client, &mg_k8s_res_configmap, "default", &lo, &st), MG_EREMOTE);
	cr_assert_eq(st.code, 400);
}

struct events {
	char types[64][12];
	char names[64][32];
	int n;
	int bookmarks;
	int stop_after;
};

static int collect(void *ctx, const char *type, const cJSON *obj)
{
	struct events *e = ctx;
	if (strcmp(type, "BOOKMARK") == 0) {
		e->bookmarks++;
		return e->stop_after < 0 ? 1 : 0;
	}
	if (e->n < 64) {
		snprintf(e->types[e->n], sizeof(e->types[0]), "%s", type);
		snprintf(e->names[e->n], sizeof(e->names[0]), "%s", md(obj, "name"));
		e->n++;
	}
	return e->stop_after > 0 && e->n >= e->stop_after;
}

Test(k8s_client_sim, watch_resumes_from_the_last_version_seen)
{
	cJSON *items = NULL;
	char *rv = NULL;
	cr_assert_eq(mg_k8s_list_all(&items, &rv, client, &mg_k8s_res_configmap, "default", NULL, NULL), 0);
	cJSON_Delete(items);
	cJSON *a = cm("a", NULL), *b = cm("b", NULL), *c = cm("c", NULL);
	cr_assert_eq(mg_k8s_create(NULL, client, &mg_k8s_res_configmap, "default", a, NULL), 0);
	cr_assert_eq(mg_k8s_create(NULL, client, &mg_k8s_res_configmap, "default", b, NULL), 0);
	struct events ev = {.stop_after = 2};
	mg_k8s_watch_opts wo = {.resource_version = rv, .timeout_seconds = 5};
	char *last = NULL;
	cr_assert_eq(mg_k8s_watch(client, &mg_k8s_res_configmap, "default", &wo, collect, &ev, &last, NULL), 0);
	cr_assert_eq(ev.n, 2);
	cr_assert_str_eq(ev.names[0], "a");
	cr_assert_str_eq(ev.types[0], "ADDED");
	cr_assert_str_eq(ev.names[1], "b");
	cr_assert_not_null(last);
	/* changes after the last seen version arrive, and nothing before it again */
	cr_assert_eq(mg_k8s_create(NULL, client, &mg_k8s_res_configmap, "default", c, NULL), 0);
	cr_assert_eq(mg_k8s_delete(client, &mg_k8s_res_configmap, "default", "a", NULL, NULL, NULL), 0);
	struct events ev2 = {.stop_after = 2};
	wo.resource_version = last;
	cr_assert_eq(mg_k8s_watch(client, &mg_k8s_res_configmap, "default", &wo, collect, &ev2, &last, NULL), 0);
	cr_assert_eq(ev2.n, 2);
	cr_assert_str_eq(ev2.names[0], "c");
	cr_assert_str_eq(ev2.types[0], "ADDED");
	cr_assert_str_eq(ev2.names[1], "a");
	cr_assert_str_eq(ev2.types[1], "DELETED");
	cJSON_Delete(a);
	cJSON_Delete(b);
	cJSON_Delete(c);
	free(rv);
	free(last);
}

Test(k8s_client_sim, watch_stops_promptly_on_request)
{
	atomic_int stop = 0;
	struct events ev = {0};
	mg_k8s_watch_opts wo = {.timeout_seconds = 30, .stop = &stop};
	atomic_store(&stop, 1);
	cr_assert_eq(mg_k8s_watch(client, &mg_k8s_res_configmap, "default", &wo, collect, &ev, NULL, NULL), 0);
}

Test(k8s_client_sim, status_subresource_generation_and_finalizers)
{
	cJSON *t = tmr("m1", "established"), *out = NULL;
	cJSON_AddItemToObject(t, "status", cJSON_Parse("{\"conditions\":[{\"state\":\"bogus\"}]}"));
	cr_assert_eq(mg_k8s_create(&out, client, &mg_k8s_res_tmr, "default", t, NULL), 0);
	cr_assert_null(cJSON_GetObjectItem(out, "status"), "status is dropped on create");
	cr_assert_eq(gen(out), 1);
	/* a status write does not bump the generation and keeps the spec */
	cJSON *st_patch = cJSON_Parse("{\"status\":{\"conditions\":[{\"state\":\"established\"}]},"
				      "\"spec\":{\"state\":\"promoted\"}}");
	cJSON *p1 = NULL;
	cr_assert_eq(mg_k8s_patch(&p1, client, &mg_k8s_res_tmr, "default", "m1", "status",
				  MG_K8S_PATCH_MERGE, st_patch, NULL), 0);
	cr_assert_eq(gen(p1), 1);
	cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(p1, "spec"), "state")->valuestring, "established");
	/* a spec change through the main resource bumps it and cannot change status */
	cJSON *sp = cJSON_Parse("{\"spec\":{\"state\":\"promoted\"},\"status\":{\"conditions\":[]}}");
	cJSON *p2 = NULL;
	cr_assert_eq(mg_k8s_patch(&p2, client, &mg_k8s_res_tmr, "default", "m1", NULL,
				  MG_K8S_PATCH_MERGE, sp, NULL), 0);
	cr_assert_eq(gen(p2), 2);
	cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(p2, "status"), "conditions")), 1);
	/* a metadata-only change does not bump it */
	cJSON *lp = cJSON_Parse("[{\"op\":\"add\",\"path\":\"/metadata/finalizers\",\"value\":[\"trident.netapp.io\"]}]");
	cJSON *p3 = NULL;
	cr_assert_eq(mg_k8s_patch(&p3, client, &mg_k8s_res_tmr, "default", "m1", NULL,
				  MG_K8S_PATCH_JSON, lp, NULL), 0);
	cr_assert_eq(gen(p3), 2);
	/* delete with a finalizer only marks the object */
	cr_assert_eq(mg_k8s_delete(client, &mg_k8s_res_tmr, "default", "m1", NULL, NULL, NULL), 0);
	cJSON *g = NULL;
	cr_assert_eq(mg_k8s_get(&g, client, &mg_k8s_res_tmr, "default", "m1", NULL), 0);
	cr_assert_not_null(md(g, "deletionTimestamp"));
	/* an object being deleted may not gain a finalizer (422, as the API server) */
	cJSON *more = cJSON_Parse("{\"metadata\":{\"finalizers\":[\"trident.netapp.io\","
				  "\"mirrorgate.io/replication\"]}}");
	mg_k8s_status fst;
	cr_assert_eq(mg_k8s_patch(NULL, client, &mg_k8s_res_tmr, "default", "m1", NULL,
				  MG_K8S_PATCH_MERGE, more, &fst), MG_EREMOTE);
	cr_assert_eq(fst.code, 422);
	cr_assert(strstr(fst.message, "metadata.finalizers: Forbidden: no new finalizers can be "
				      "added if the object is being deleted, found new finalizers "
				      "[]string{\"mirrorgate.io/replication\"}"),
		  "%s", fst.message);
	cJSON_Delete(more);
	/* removing the last finalizer completes the deletion */
	cJSON *rm = cJSON_Parse("{\"metadata\":{\"finalizers\":null}}");
	cr_assert_eq(mg_k8s_patch(NULL, client, &mg_k8s_res_tmr, "default", "m1", NULL,
				  MG_K8S_PATCH_MERGE, rm, NULL), 0);
	cJSON *gone = NULL;
	cr_assert_eq(mg_k8s_get(&gone, client, &mg_k8s_res_tmr, "default", "m1", NULL), MG_ENOTFOUND);
	cJSON *vals[] = {t, out, st_patch, p1, sp, p2, lp, p3, g, rm};
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		cJSON_Delete(vals[i]);
}

Test(k8s_client_sim, schema_violations_are_invalid_and_strategic_patch_is_refused_for_crds)
{
	cJSON *t = tmr("bad", "sideways");
	mg_k8s_status st;
	cr_assert_eq(mg_k8s_create(NULL, client, &mg_k8s_res_tmr, "default", t, &st), MG_EREMOTE);
	cr_assert_eq(st.code, 422);
	cr_assert(strstr(st.message, "spec.state: Unsupported value: \"sideways\""), "%s", st.message);
	cJSON *ok = tmr("good", "established");
	cr_assert_eq(mg_k8s_create(NULL, client, &mg_k8s_res_tmr, "default", ok, NULL), 0);
	cJSON *p = cJSON_Parse("{\"spec\":{\"state\":\"promoted\"}}");
	cr_assert_eq(mg_k8s_patch(NULL, client, &mg_k8s_res_tmr, "default", "good", NULL,
				  MG_K8S_PATCH_STRATEGIC, p, &st), MG_EREMOTE);
	cr_assert_eq(st.code, 415);
	cJSON_Delete(t);
	cJSON_Delete(ok);
	cJSON_Delete(p);
}

Test(k8s_client_sim, events_are_created_about_an_object)
{
	cJSON *t = tmr("ev1", "established"), *out = NULL;
	cr_assert_eq(mg_k8s_create(&out, client, &mg_k8s_res_tmr, "default", t, NULL), 0);
	cr_assert_eq(mg_k8s_event(client, out, "Warning", "invalid", "bad things", "mirrorgate-test", NULL), 0);
	cJSON *items = NULL;
	cr_assert_eq(mg_k8s_list_all(&items, NULL, client, &mg_k8s_res_event, "default", NULL, NULL), 0);
	cr_assert_eq(cJSON_GetArraySize(items), 1);
	const cJSON *e = cJSON_GetArrayItem(items, 0);
	cr_assert_str_eq(cJSON_GetObjectItem(e, "reason")->valuestring, "invalid");
	cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(e, "involvedObject"), "kind")->valuestring,
			 "TridentMirrorRelationship");
	cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(e, "involvedObject"), "uid")->valuestring,
			 md(out, "uid"));
	cJSON_Delete(items);
	cJSON_Delete(out);
	cJSON_Delete(t);
}

Test(k8s_client_sim, rotated_token_file_is_re_read)
{
	char tok_path[400];
	snprintf(tok_path, sizeof(tok_path), "%s/client-token", sim.dir);
	/* kube-sim accepts the tokens listed in its token file; the client reads its own file */
	cr_assert_eq(mg_write_file_atomic(sim.token_file, "old-token\n", 10, 0600), 0);
	cr_assert_eq(mg_write_file_atomic(tok_path, "old-token\n", 10, 0600), 0);
	mg_k8s_config *cfg = NULL;
	cr_assert_eq(mg_k8s_config_from_kubeconfig(&cfg, sim.kubeconfig, NULL, NULL, 0), 0);
	free(cfg->token);
	cfg->token = NULL;
	cfg->token_file = mg_strdup(tok_path);
	mg_k8s_client *c2 = NULL;
	cr_assert_eq(mg_k8s_client_new(&c2, cfg), 0);
	mg_k8s_config_free(cfg);
	cJSON *out = NULL;
	cr_assert_eq(mg_k8s_get(&out, c2, &mg_k8s_res_namespace, NULL, "default", NULL), 0);
	cJSON_Delete(out);
	/* the server rotates: the old token stops working */
	cr_assert_eq(mg_write_file_atomic(sim.token_file, "new-token\n", 10, 0600), 0);
	mg_k8s_status st;
	cr_assert_eq(mg_k8s_get(&out, c2, &mg_k8s_res_namespace, NULL, "default", &st), MG_EAUTH);
	cr_assert_eq(st.code, 401);
	/* the kubelet rotates the projected token: the client picks it up without restart */
	cr_assert_eq(mg_write_file_atomic(tok_path, "new-token\n", 10, 0600), 0);
	cr_assert_eq(mg_k8s_get(&out, c2, &mg_k8s_res_namespace, NULL, "default", &st), 0);
	cJSON_Delete(out);
	mg_k8s_client_free(c2);
}

static void setup_short_history(void)
{
	static const char *const extra[] = {"--history", "3", NULL};
	start_with(extra);
}

Test(k8s_client_sim_history, expired_version_is_gone, .init = setup_short_history, .fini = teardown,
     .timeout = 60)
{
	cJSON *items = NULL;
	char *rv = NULL;
	cr_assert_eq(mg_k8s_list_all(&items, &rv, client, &mg_k8s_res_configmap, "default", NULL, NULL), 0);
	cJSON_Delete(items);
	for (int i = 0; i < 5; i++) {
		char name[16];
		snprintf(name, sizeof(name), "x%d", i);
		cJSON *o = cm(name, NULL);
		cr_assert_eq(mg_k8s_create(NULL, client, &mg_k8s_res_configmap, "default", o, NULL), 0);
		cJSON_Delete(o);
	}
	struct events ev = {0};
	mg_k8s_watch_opts wo = {.resource_version = rv, .timeout_seconds = 5};
	mg_k8s_status st;
	cr_assert_eq(mg_k8s_watch(client, &mg_k8s_res_configmap, "default", &wo, collect, &ev, NULL, &st), MG_EGONE);
	cr_assert_eq(st.code, 410);
	cr_assert_eq(ev.n, 0);
	/* a continue token from before the window is 410 too; list_all starts over once */
	mg_k8s_list_opts lo = {.limit = 2};
	cr_assert_eq(mg_k8s_list_all(&items, NULL, client, &mg_k8s_res_configmap, "default", &lo, NULL), 0);
	cr_assert_eq(cJSON_GetArraySize(items), 5);
	cJSON_Delete(items);
	free(rv);
}

static void setup_fast_bookmarks(void)
{
	static const char *const extra[] = {"--bookmark-interval-ms", "100", NULL};
	start_with(extra);
}

Test(k8s_client_sim_bookmarks, bookmarks_carry_the_current_version, .init = setup_fast_bookmarks,
     .fini = teardown, .timeout = 60)
{
	struct events ev = {.stop_after = -1};
	mg_k8s_watch_opts wo = {.resource_version = "1", .allow_bookmarks = true, .timeout_seconds = 5};
	char *last = NULL;
	cJSON *o = cm("bm", NULL), *out = NULL;
	cr_assert_eq(mg_k8s_create(&out, client, &mg_k8s_res_configmap, "kube-system", o, NULL), 0);
	/* the watch is scoped to default: the kube-system change is not an event, but the
	 * bookmark still moves the resume point past it */
	cr_assert_eq(mg_k8s_watch(client, &mg_k8s_res_configmap, "default", &wo, collect, &ev, &last, NULL), 0);
	cr_assert_eq(ev.bookmarks, 1);
	cr_assert_eq(ev.n, 0);
	cr_assert_str_eq(last, md(out, "resourceVersion"));
	free(last);
	cJSON_Delete(o);
	cJSON_Delete(out);
}
