/* The reconciler's cached reads (reconciler/kcache.c) against kube-sim: a read is served
 * from the informer, and never stale where it matters. Before every write the reconciler
 * holds the resourceVersion it acts on: after its own write, or a 409 from a cache that fell
 * behind, the next read goes to the API server until the cache has moved on. The informer
 * is stopped to freeze the cache where a test needs "the watch has not caught up yet". */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kcache.h"
#include "kube_support.h"
#include "mirrorgate/k8s/client.h"
#include "mirrorgate/k8s/informer.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/util/log.h"

static kube_sim_proc sim;
static mg_k8s_client *client;
static mg_informer *inf;
static mg_kcache *kc;

static void setup(void)
{
	mg_log_set_level(MG_LOG_ERROR);
	cr_assert_eq(kube_sim_start(&sim, NULL), 0);
	mg_k8s_config *cfg = NULL;
	cr_assert_eq(mg_k8s_config_from_kubeconfig(&cfg, sim.kubeconfig, NULL, NULL, 0), 0);
	cr_assert_eq(mg_k8s_client_new(&client, cfg), 0);
	mg_k8s_config_free(cfg);
	cr_assert_eq(mg_kcache_new(&kc, client), 0);
}

static void teardown(void)
{
	mg_informer_free(inf);
	inf = NULL;
	mg_kcache_free(kc);
	kc = NULL;
	mg_k8s_client_free(client);
	kube_sim_stop(&sim);
}

TestSuite(kcache, .init = setup, .fini = teardown, .timeout = 60);

static const char *rv_of(const cJSON *o)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(o, "metadata"), "resourceVersion");
	return cJSON_IsString(v) ? v->valuestring : "";
}

static const char *data_k(const cJSON *o)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(o, "data"), "k");
	return cJSON_IsString(v) ? v->valuestring : "";
}

/* Creates ConfigMap default/name with data.k = v; returns the stored object (caller frees). */
static cJSON *make_cm(const char *name, const char *v)
{
	char json[256];
	snprintf(json, sizeof(json),
		 "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"%s\"},"
		 "\"data\":{\"k\":\"%s\"}}",
		 name, v);
	cJSON *o = cJSON_Parse(json), *stored = NULL;
	mg_k8s_status st;
	cr_assert_eq(mg_k8s_create(&stored, client, &mg_k8s_res_configmap, "default", o, &st), 0, "%s",
		     st.message);
	cJSON_Delete(o);
	return stored;
}

/* A PUT of obj with data.k = v, from obj's resourceVersion. */
static int put(const cJSON *obj, const char *v, cJSON **stored)
{
	cJSON *copy = cJSON_Duplicate(obj, 1);
	cJSON_ReplaceItemInObject(cJSON_GetObjectItem(copy, "data"), "k", cJSON_CreateString(v));
	mg_k8s_status st;
	int rc = mg_k8s_update(stored, client, &mg_k8s_res_configmap, "default", copy, &st);
	cJSON_Delete(copy);
	return rc;
}

static void start_informer(void)
{
	mg_informer_opts o = {.ns = "default"};
	cr_assert_eq(mg_informer_new(&inf, client, &mg_k8s_res_configmap, &o), 0);
	cr_assert_eq(mg_informer_start(inf), 0);
	cr_assert_eq(mg_informer_wait_synced(inf, 30000), 0);
	cr_assert_eq(mg_kcache_add(kc, &mg_k8s_res_configmap, inf), 0);
}

/* Waits until the informer's copy of default/name has resourceVersion rv. */
static void wait_cached(const char *name, const char *rv)
{
	for (int i = 0; i < 500; i++) {
		cJSON *c = mg_informer_get_copy(inf, "default", name);
		bool there = c && strcmp(rv_of(c), rv) == 0;
		cJSON_Delete(c);
		if (there)
			return;
		struct timespec ts = {0, 10000000};
		nanosleep(&ts, NULL);
	}
	cr_assert_fail("the informer never showed %s at %s", name, rv);
}

Test(kcache, a_read_is_served_from_the_informer_without_a_get)
{
	cJSON *stored = make_cm("a", "1");
	start_informer();
	unsigned long reqs0;
	mg_k8s_client_stats(client, &reqs0, NULL);
	cJSON *o = NULL;
	cr_assert_eq(mg_kcache_get(&o, kc, client, &mg_k8s_res_configmap, "default", "a", NULL), 0);
	cr_assert_str_eq(rv_of(o), rv_of(stored));
	cr_assert_str_eq(data_k(o), "1");
	unsigned long reqs1;
	mg_k8s_client_stats(client, &reqs1, NULL);
	cr_assert_eq(reqs1, reqs0, "the read went to the API server");
	mg_kcache_stats s;
	mg_kcache_get_stats(kc, &s);
	cr_assert_eq(s.hits, 1);
	cr_assert_eq(s.gets, 0);
	cJSON_Delete(o);
	cJSON_Delete(stored);
}

Test(kcache, without_an_informer_every_read_is_a_get)
{
	cJSON *stored = make_cm("a", "1");
	cJSON *o = NULL;
	cr_assert_eq(mg_kcache_get(&o, kc, client, &mg_k8s_res_configmap, "default", "a", NULL), 0);
	cr_assert_str_eq(rv_of(o), rv_of(stored));
	cJSON_Delete(o);
	o = NULL;
	cr_assert_eq(mg_kcache_get(&o, NULL, client, &mg_k8s_res_configmap, "default", "nope", NULL),
		     MG_ENOTFOUND);
	mg_kcache_stats s;
	mg_kcache_get_stats(kc, &s);
	cr_assert_eq(s.gets, 1);
	cr_assert_eq(s.hits, 0);
	cJSON_Delete(stored);
}

Test(kcache, after_our_own_write_the_next_read_has_the_written_version)
{
	cJSON *stored = make_cm("a", "1");
	start_informer();
	mg_informer_stop(inf); /* the watch will not see the write below */
	cJSON *cached = NULL, *after = NULL, *o = NULL;
	cr_assert_eq(mg_kcache_get(&cached, kc, client, &mg_k8s_res_configmap, "default", "a", NULL), 0);
	cr_assert_eq(put(cached, "2", &after), 0);
	mg_kcache_wrote(kc, &mg_k8s_res_configmap, "default", "a", rv_of(cached));
	cr_assert_eq(mg_kcache_get(&o, kc, client, &mg_k8s_res_configmap, "default", "a", NULL), 0);
	cr_assert_str_eq(rv_of(o), rv_of(after), "acted on %s, the server has %s", rv_of(o),
			 rv_of(after));
	cr_assert_str_eq(data_k(o), "2");
	/* and a write from what was read succeeds: it carries the current version */
	cJSON *third = NULL;
	cr_assert_eq(put(o, "3", &third), 0);
	mg_kcache_stats s;
	mg_kcache_get_stats(kc, &s);
	cr_assert_eq(s.stale_gets, 1);
	cJSON_Delete(third);
	cJSON_Delete(o);
	cJSON_Delete(after);
	cJSON_Delete(cached);
	cJSON_Delete(stored);
}

Test(kcache, a_conflict_from_a_lagging_cache_is_retried_from_a_fresh_read)
{
	cJSON *stored = make_cm("a", "1");
	start_informer();
	mg_informer_stop(inf);
	/* somebody else writes; our cache does not see it */
	cJSON *theirs = NULL;
	cr_assert_eq(put(stored, "theirs", &theirs), 0);
	cJSON *cached = NULL, *o = NULL, *mine = NULL;
	cr_assert_eq(mg_kcache_get(&cached, kc, client, &mg_k8s_res_configmap, "default", "a", NULL), 0);
	cr_assert_str_eq(data_k(cached), "1", "the frozen cache is behind, as intended");
	cr_assert_eq(put(cached, "mine", NULL), MG_ECONFLICT, "a stale version must be refused");
	mg_kcache_wrote(kc, &mg_k8s_res_configmap, "default", "a", rv_of(cached));
	cr_assert_eq(mg_kcache_get(&o, kc, client, &mg_k8s_res_configmap, "default", "a", NULL), 0);
	cr_assert_str_eq(rv_of(o), rv_of(theirs));
	cr_assert_str_eq(data_k(o), "theirs", "the retry sees the other writer's change");
	cr_assert_eq(put(o, "mine", &mine), 0);
	cJSON_Delete(mine);
	cJSON_Delete(o);
	cJSON_Delete(cached);
	cJSON_Delete(theirs);
	cJSON_Delete(stored);
}

Test(kcache, once_the_watch_catches_up_reads_come_from_the_cache_again)
{
	cJSON *stored = make_cm("a", "1");
	start_informer();
	cJSON *cached = NULL, *after = NULL, *o = NULL;
	cr_assert_eq(mg_kcache_get(&cached, kc, client, &mg_k8s_res_configmap, "default", "a", NULL), 0);
	cr_assert_eq(put(cached, "2", &after), 0);
	mg_kcache_wrote(kc, &mg_k8s_res_configmap, "default", "a", rv_of(cached));
	wait_cached("a", rv_of(after));
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(mg_kcache_get(&o, kc, client, &mg_k8s_res_configmap, "default", "a", NULL),
			     0);
		cr_assert_str_eq(rv_of(o), rv_of(after));
		cJSON_Delete(o);
		o = NULL;
	}
	mg_kcache_stats s;
	mg_kcache_get_stats(kc, &s);
	cr_assert_eq(s.gets, 0);
	cr_assert_eq(s.hits, 3);
	cJSON_Delete(after);
	cJSON_Delete(cached);
	cJSON_Delete(stored);
}

Test(kcache, an_object_the_cache_has_not_seen_yet_is_read_from_the_server)
{
	start_informer();
	mg_informer_stop(inf);
	cJSON *stored = make_cm("late", "1");
	cJSON *o = NULL;
	cr_assert_eq(mg_kcache_get(&o, kc, client, &mg_k8s_res_configmap, "default", "late", NULL), 0);
	cr_assert_str_eq(rv_of(o), rv_of(stored));
	cJSON_Delete(o);
	o = NULL;
	cr_assert_eq(mg_kcache_get(&o, kc, client, &mg_k8s_res_configmap, "default", "gone", NULL),
		     MG_ENOTFOUND);
	cJSON_Delete(stored);
}
