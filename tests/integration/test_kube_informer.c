/* (An integration test: it runs kube-sim, which under valgrind takes minutes; the canned
 * unit tests cover the same client code under valgrind in CI.) */
/* The informer and the informer-backed lookup against kube-sim: sync, callbacks, indexes
 * kept in step with updates, the topology ConfigMap, and concurrent readers. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kube_support.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/k8s/informer.h"
#include "mirrorgate/k8s/client.h"
#include "mirrorgate/util/log.h"
#include "mirrorgate/rules/lookup.h"
#include "mirrorgate/util/strbuf.h"

static kube_sim_proc sim;
static mg_k8s_client *client;
/* Freed by teardown too, so that a failed assertion never leaves a watch thread using a
 * freed client. */
static mg_informer *inf;
static mg_lookup_informer *li;
/* Generous: valgrind on a loaded CI machine makes TLS handshakes slow. */
#define SYNC_MS 30000

static void setup(void)
{
	mg_log_set_level(MG_LOG_ERROR);
	cr_assert_eq(kube_sim_start(&sim, NULL), 0);
	mg_k8s_config *cfg = NULL;
	cr_assert_eq(mg_k8s_config_from_kubeconfig(&cfg, sim.kubeconfig, NULL, NULL, 0), 0);
	cr_assert_eq(mg_k8s_client_new(&client, cfg), 0);
	mg_k8s_config_free(cfg);
}

static void teardown(void)
{
	mg_informer_free(inf);
	inf = NULL;
	mg_lookup_informer_free(li);
	li = NULL;
	mg_k8s_client_free(client);
	kube_sim_stop(&sim);
}

TestSuite(k8s_informer, .init = setup, .fini = teardown, .timeout = 60);

static void create(const mg_k8s_resource *r, const char *ns, const char *json)
{
	cJSON *o = cJSON_Parse(json);
	cr_assert_not_null(o, "%s", json);
	mg_k8s_status st;
	cr_assert_eq(mg_k8s_create(NULL, client, r, ns, o, &st), 0, "%s: %s", json, st.message);
	cJSON_Delete(o);
}

static char *tmr_json(const char *name, const char *pvc, const char *remote)
{
	return mg_asprintf("{\"apiVersion\":\"trident.netapp.io/v1\",\"kind\":\"TridentMirrorRelationship\","
			   "\"metadata\":{\"name\":\"%s\"},\"spec\":{\"state\":\"established\","
			   "\"volumeMappings\":[{\"localPVCName\":\"%s\",\"remoteVolumeHandle\":\"%s\"}]}}",
			   name, pvc, remote);
}

struct names {
	char v[8][32];
	int n;
};

static int collect(void *ctx, const cJSON *obj)
{
	struct names *n = ctx;
	const cJSON *nm = cJSON_GetObjectItem(cJSON_GetObjectItem(obj, "metadata"), "name");
	if (n->n < 8)
		snprintf(n->v[n->n++], 32, "%s", nm->valuestring);
	return 0;
}

static int wait_for(bool (*cond)(void *), void *ctx)
{
	for (int i = 0; i < 1500; i++) {
		if (cond(ctx))
			return 0;
		usleep(20000);
	}
	return -1;
}

struct idx_probe {
	mg_informer *inf;
	const char *index, *key;
	int want;
};

static bool idx_count_is(void *ctx)
{
	struct idx_probe *p = ctx;
	struct names n = {0};
	mg_informer_read_lock(p->inf);
	mg_informer_each_indexed(p->inf, p->index, p->key, collect, &n);
	mg_informer_read_unlock(p->inf);
	return n.n == p->want;
}

struct cb_counts {
	atomic_int add, upd, del;
};
static void on_add(void *c, const cJSON *o)
{
	(void)o;
	atomic_fetch_add(&((struct cb_counts *)c)->add, 1);
}
static void on_upd(void *c, const cJSON *a, const cJSON *b)
{
	(void)a;
	(void)b;
	atomic_fetch_add(&((struct cb_counts *)c)->upd, 1);
}
static void on_del(void *c, const cJSON *o)
{
	(void)o;
	atomic_fetch_add(&((struct cb_counts *)c)->del, 1);
}

static bool dels_is_one(void *ctx)
{
	return atomic_load(&((struct cb_counts *)ctx)->del) == 1;
}

Test(k8s_informer, syncs_indexes_and_follows_changes)
{
	char *t1 = tmr_json("m1", "pvc-a", "svm_a:vol1");
	create(&mg_k8s_res_tmr, "default", t1);
	struct cb_counts cb = {0};
	mg_informer_handlers h = {on_add, on_upd, on_del, &cb};
	const char *idx[] = {MG_INDEX_TMR_BY_PVC, MG_INDEX_TMR_BY_REMOTE};
	mg_informer_opts o = {.indexes = idx, .nindexes = 2, .handlers = &h, .page_size = 1};
	cr_assert_eq(mg_informer_new(&inf, client, &mg_k8s_res_tmr, &o), 0);
	cr_assert_eq(mg_informer_start(inf), 0);
	cr_assert_eq(mg_informer_wait_synced(inf, SYNC_MS), 0);
	cr_assert_eq(mg_informer_count(inf), 1);
	cr_assert_eq(atomic_load(&cb.add), 1);
	struct idx_probe p = {inf, MG_INDEX_TMR_BY_PVC, "default/pvc-a", 1};
	cr_assert(idx_count_is(&p));
	/* a new TMR arrives through the watch */
	char *t2 = tmr_json("m2", "pvc-b", "svm_a:vol2");
	create(&mg_k8s_res_tmr, "default", t2);
	struct idx_probe p2 = {inf, MG_INDEX_TMR_BY_REMOTE, "svm_a:vol2", 1};
	cr_assert_eq(wait_for(idx_count_is, &p2), 0);
	/* an update moves m1 from pvc-a to pvc-b in the index */
	cJSON *patch = cJSON_Parse("{\"spec\":{\"volumeMappings\":[{\"localPVCName\":\"pvc-b\","
				   "\"remoteVolumeHandle\":\"svm_a:vol1\"}]}}");
	cr_assert_eq(mg_k8s_patch(NULL, client, &mg_k8s_res_tmr, "default", "m1", NULL,
				  MG_K8S_PATCH_MERGE, patch, NULL), 0);
	struct idx_probe p3 = {inf, MG_INDEX_TMR_BY_PVC, "default/pvc-b", 2};
	cr_assert_eq(wait_for(idx_count_is, &p3), 0);
	struct idx_probe p4 = {inf, MG_INDEX_TMR_BY_PVC, "default/pvc-a", 0};
	cr_assert(idx_count_is(&p4));
	cr_assert_geq(atomic_load(&cb.upd), 1);
	/* a delete leaves the cache and the index */
	cr_assert_eq(mg_k8s_delete(client, &mg_k8s_res_tmr, "default", "m2", NULL, NULL, NULL), 0);
	cr_assert_eq(wait_for(dels_is_one, &cb), 0);
	struct idx_probe p5 = {inf, MG_INDEX_TMR_BY_REMOTE, "svm_a:vol2", 0};
	cr_assert(idx_count_is(&p5));
	cr_assert_eq(mg_informer_count(inf), 1);
	mg_informer_read_lock(inf);
	cr_assert_not_null(mg_informer_get(inf, "default", "m1"));
	cr_assert_null(mg_informer_get(inf, "default", "m2"));
	struct names n = {0};
	cr_assert_eq(mg_informer_each_indexed(inf, MG_INDEX_PVC_BY_MIRROR, "x", collect, &n), MG_EINVAL);
	mg_informer_read_unlock(inf);
	cJSON_Delete(patch);
	free(t1);
	free(t2);
}

struct reader_ctx {
	mg_informer *inf;
	atomic_int stop;
	long reads;
};

static void *reader(void *arg)
{
	struct reader_ctx *r = arg;
	while (!atomic_load(&r->stop)) {
		mg_informer_read_lock(r->inf);
		struct names n = {0};
		mg_informer_each(r->inf, "default", collect, &n);
		const cJSON *o = mg_informer_get(r->inf, "default", "c0");
		if (o)
			cr_assert_not_null(cJSON_GetObjectItem(o, "metadata"));
		mg_informer_read_unlock(r->inf);
		r->reads++;
	}
	return NULL;
}

static bool count_is_20(void *ctx)
{
	return mg_informer_count(ctx) == 20;
}

Test(k8s_informer, concurrent_readers_while_the_watch_writes)
{
	cr_assert_eq(mg_informer_new(&inf, client, &mg_k8s_res_configmap, &(mg_informer_opts){.ns = "default"}), 0);
	cr_assert_eq(mg_informer_start(inf), 0);
	cr_assert_eq(mg_informer_wait_synced(inf, SYNC_MS), 0);
	struct reader_ctx rc[3] = {{.inf = inf}, {.inf = inf}, {.inf = inf}};
	pthread_t th[3];
	for (int i = 0; i < 3; i++)
		cr_assert_eq(pthread_create(&th[i], NULL, reader, &rc[i]), 0);
	for (int i = 0; i < 20; i++) {
		char *j = mg_asprintf("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c%d\"},"
				      "\"data\":{\"i\":\"%d\"}}", i, i);
		create(&mg_k8s_res_configmap, "default", j);
		free(j);
	}
	int w = wait_for(count_is_20, inf);
	for (int i = 0; i < 3; i++) {
		atomic_store(&rc[i].stop, 1);
		pthread_join(th[i], NULL);
		cr_assert_gt(rc[i].reads, 0);
	}
	cr_assert_eq(w, 0);
}

static int count_cb(void *ctx, const cJSON *o)
{
	(void)o;
	(*(int *)ctx)++;
	return 0;
}

struct topo_probe {
	mg_lookup *lk;
	const char *svm;
};

static bool topo_has(void *ctx)
{
	struct topo_probe *p = ctx;
	mg_lookup_begin(p->lk);
	const mg_topology *t = mg_lookup_topology(p->lk);
	bool ok = t && mg_topology_is_local_svm(t, p->svm);
	mg_lookup_end(p->lk);
	return ok;
}

Test(k8s_informer, lookup_over_informers_serves_rules)
{
	create(&mg_k8s_res_sc, NULL,
	       "{\"apiVersion\":\"storage.k8s.io/v1\",\"kind\":\"StorageClass\",\"metadata\":{\"name\":\"gold\"},"
	       "\"provisioner\":\"csi.trident.netapp.io\"}");
	create(&mg_k8s_res_pvc, "default",
	       "{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\",\"metadata\":{\"name\":\"sec\","
	       "\"annotations\":{\"trident.netapp.io/mirrorRelationship\":\"m1\"}},"
	       "\"spec\":{\"accessModes\":[\"ReadWriteOnce\"],\"resources\":{\"requests\":{\"storage\":\"1Gi\"}}}}");
	char *t1 = tmr_json("m1", "sec", "svm_a:vol1");
	create(&mg_k8s_res_tmr, "default", t1);
	create(&mg_k8s_res_configmap, "default",
	       "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"mirrorgate-topology\"},"
	       "\"data\":{\"topology.yaml\":\"localSVMs: [svm_b]\\npeers: {svm_b: [svm_a]}\\n\"}}");
	/* a ConfigMap with another name is not the topology */
	create(&mg_k8s_res_configmap, "default",
	       "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"other\"},"
	       "\"data\":{\"topology.yaml\":\"localSVMs: [svm_z]\\n\"}}");
	char why[256] = "";
	cr_assert_eq(mg_lookup_informer_from_kubeconfig(&li, sim.kubeconfig, NULL, NULL, why, sizeof(why)), 0, "%s", why);
	mg_lookup lk = mg_lookup_informer_lookup(li);
	cr_assert_eq(mg_lookup_informer_wait_synced(li, SYNC_MS), 0);
	cr_assert(mg_lookup_synced(&lk));
	mg_lookup_begin(&lk);
	cr_assert_not_null(mg_lookup_get(&lk, MG_KIND_TMR, "default", "m1"));
	cr_assert_not_null(mg_lookup_get(&lk, MG_KIND_PVC, "default", "sec"));
	cr_assert_not_null(mg_lookup_get(&lk, MG_KIND_SC, NULL, "gold"));
	cr_assert_null(mg_lookup_get(&lk, MG_KIND_TAMU, "default", "x"));
	int n = 0;
	mg_lookup_each_indexed(&lk, MG_INDEX_TMR_BY_REMOTE, "svm_a:vol1", count_cb, &n);
	cr_assert_eq(n, 1);
	n = 0;
	mg_lookup_each_indexed(&lk, MG_INDEX_PVC_BY_MIRROR, "default/m1", count_cb, &n);
	cr_assert_eq(n, 1);
	n = 0;
	mg_lookup_each(&lk, MG_KIND_TMR, NULL, count_cb, &n);
	cr_assert_eq(n, 1);
	const mg_topology *t = mg_lookup_topology(&lk);
	cr_assert_not_null(t);
	cr_assert(mg_topology_is_local_svm(t, "svm_b"));
	cr_assert_not(mg_topology_is_local_svm(t, "svm_z"));
	mg_lookup_end(&lk);
	/* the topology follows ConfigMap edits; an invalid edit keeps the last good one */
	cJSON *p = cJSON_Parse("{\"data\":{\"topology.yaml\":\"localSVMs: {not: a list}\\n\"}}");
	cr_assert_eq(mg_k8s_patch(NULL, client, &mg_k8s_res_configmap, "default", "mirrorgate-topology",
				  NULL, MG_K8S_PATCH_MERGE, p, NULL), 0);
	cJSON_Delete(p);
	p = cJSON_Parse("{\"data\":{\"topology.yaml\":\"localSVMs: [svm_c]\\n\"}}");
	cr_assert_eq(mg_k8s_patch(NULL, client, &mg_k8s_res_configmap, "default", "mirrorgate-topology",
				  NULL, MG_K8S_PATCH_MERGE, p, NULL), 0);
	cJSON_Delete(p);
	struct topo_probe tp = {&lk, "svm_c"};
	cr_assert_eq(wait_for(topo_has, &tp), 0);
	free(t1);
}

Test(k8s_informer, lookup_from_a_bad_kubeconfig_fails_cleanly)
{
	char why[256] = "";
	cr_assert_neq(mg_lookup_informer_from_kubeconfig(&li, "/nonexistent", NULL, NULL, why, sizeof(why)), 0);
	cr_assert_null(li);
	cr_assert(strstr(why, "cannot read kubeconfig"), "%s", why);
	unsetenv("KUBERNETES_SERVICE_HOST");
	cr_assert_eq(mg_lookup_informer_from_kubeconfig(&li, NULL, NULL, NULL, why, sizeof(why)), MG_ENOTFOUND);
	cr_assert(strstr(why, "not running in a cluster"));
}

static bool has_path(const cJSON *o, const char *a, const char *b)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "metadata");
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(m, a);
	return b ? cJSON_GetObjectItemCaseSensitive(x, b) != NULL : x != NULL;
}

#define LAST_APPLIED "kubectl.kubernetes.io/last-applied-configuration"

static void check_trim(bool strip)
{
	create(&mg_k8s_res_configmap, "default",
	       "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"fat\","
	       "\"annotations\":{\"" LAST_APPLIED "\":\"{\\\"big\\\":1}\",\"keep.me/x\":\"y\"},"
	       "\"managedFields\":[{\"manager\":\"kubectl\",\"operation\":\"Update\","
	       "\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:data\":{}}}]},\"data\":{\"k\":\"v\"}}");
	cJSON *live = NULL;
	cr_assert_eq(mg_k8s_get(&live, client, &mg_k8s_res_configmap, "default", "fat", NULL), 0);
	cr_assert(has_path(live, "managedFields", NULL), "kube-sim dropped managedFields itself");
	cJSON_Delete(live);
	mg_informer_opts o = {.ns = "default", .strip_last_applied = strip};
	cr_assert_eq(mg_informer_new(&inf, client, &mg_k8s_res_configmap, &o), 0);
	cr_assert_eq(mg_informer_start(inf), 0);
	cr_assert_eq(mg_informer_wait_synced(inf, SYNC_MS), 0);
	cJSON *c = mg_informer_get_copy(inf, "default", "fat");
	cr_assert_not_null(c);
	cr_assert_not(has_path(c, "managedFields", NULL), "managedFields cached");
	cr_assert(has_path(c, "annotations", "keep.me/x"), "an unrelated annotation was lost");
	cr_assert_eq(has_path(c, "annotations", LAST_APPLIED), !strip);
	cJSON_Delete(c);
}

Test(k8s_informer, cache_drops_managed_fields_and_keeps_last_applied_for_writers)
{
	check_trim(false);
}

Test(k8s_informer, read_only_cache_drops_last_applied_too)
{
	check_trim(true);
}

/* One `kubectl apply -f dir/` creates a TMR and at once the PVC that names it: the review of
 * the PVC must find the TMR even when its watch event has not reached the cache yet. While a
 * review holds the caches (begin .. end) no event can land, so a TMR created inside the
 * bracket is found only by the read past the cache; a TMR that does not exist stays absent. */
Test(k8s_informer, a_tmr_not_yet_in_the_cache_is_read_from_the_api_server)
{
	char why[256] = "";
	cr_assert_eq(mg_lookup_informer_from_kubeconfig(&li, sim.kubeconfig, NULL, NULL, why, sizeof(why)), 0, "%s", why);
	mg_lookup lk = mg_lookup_informer_lookup(li);
	cr_assert_eq(mg_lookup_informer_wait_synced(li, SYNC_MS), 0);
	char *t = tmr_json("late", "data", "svm_a:vol1");
	cJSON *late = cJSON_Parse(t);
	free(t);
	/* Inside the bracket nothing may assert: an abort there would leave the read locks held
	 * and the teardown waiting on them. Record, end, then check. */
	mg_lookup_begin(&lk);
	bool absent_before = mg_lookup_get(&lk, MG_KIND_TMR, "default", "late") == NULL;
	mg_k8s_status st;
	int created = mg_k8s_create(NULL, client, &mg_k8s_res_tmr, "default", late, &st);
	const cJSON *got = mg_lookup_get(&lk, MG_KIND_TMR, "default", "late");
	char state[32] = "";
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(got, "spec"), "state");
	if (cJSON_IsString(s))
		snprintf(state, sizeof(state), "%s", s->valuestring);
	bool same_again = got && mg_lookup_get(&lk, MG_KIND_TMR, "default", "late") == got;
	bool never_absent = mg_lookup_get(&lk, MG_KIND_TMR, "default", "never-made") == NULL;
	bool other_ns_absent = mg_lookup_get(&lk, MG_KIND_TMR, "other", "late") == NULL;
	mg_lookup_end(&lk);
	cJSON_Delete(late);
	cr_assert(absent_before);
	cr_assert_eq(created, 0, "%s", st.message);
	cr_assert(got != NULL, "a TMR the API server has was reported absent");
	cr_expect_str_eq(state, "established");
	cr_expect(same_again, "the same review read it twice");
	cr_expect(never_absent);
	cr_expect(other_ns_absent);
}
