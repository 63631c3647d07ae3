/* TMR passes that read through the informer caches (rctx.cache), against kube-sim and
 * ontap-sim: a TMR establishes as with GETs, every write still carries the version it acts
 * on (the finalizer and status writes after each other never conflict), and once it is
 * settled a pass costs the API server nothing: no read, no write. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kcache.h"
#include "mirrorgate/k8s/informer.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/util/log.h"
#include "reconciler_env.h"

static rec_env E;
static mg_informer *inf[3];
static mg_kcache *kc;

static void setup(void)
{
	mg_log_set_level(MG_LOG_ERROR);
	rec_env_start(&E);
}

static void teardown(void)
{
	for (size_t i = 0; i < 3; i++) {
		mg_informer_free(inf[i]);
		inf[i] = NULL;
	}
	mg_kcache_free(kc);
	kc = NULL;
	rec_env_stop(&E);
}

TestSuite(reconciler_cached_pass, .init = setup, .fini = teardown, .timeout = 120);

static void start_caches(void)
{
	const mg_k8s_resource *res[3] = {&mg_k8s_res_tmr, &mg_k8s_res_pvc, &mg_k8s_res_pv};
	cr_assert_eq(mg_kcache_new(&kc, E.k8s), 0);
	for (size_t i = 0; i < 3; i++) {
		mg_informer_opts o = {0};
		cr_assert_eq(mg_informer_new(&inf[i], E.k8s, res[i], &o), 0);
		cr_assert_eq(mg_informer_start(inf[i]), 0);
		cr_assert_eq(mg_informer_wait_synced(inf[i], 30000), 0);
		cr_assert_eq(mg_kcache_add(kc, res[i], inf[i]), 0);
	}
	E.ctx_b.cache = kc;
}

static const char *rv_of(const cJSON *o)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(o, "metadata"), "resourceVersion");
	return cJSON_IsString(v) ? v->valuestring : "";
}

/* Until the TMR informer holds the version the API server has. */
static void wait_caught_up(void)
{
	cJSON *live = rec_env_get(&E, &mg_k8s_res_tmr, "app", "mirror");
	cr_assert_not_null(live);
	for (int i = 0; i < 500; i++) {
		cJSON *c = mg_informer_get_copy(inf[0], "app", "mirror");
		bool same = c && strcmp(rv_of(c), rv_of(live)) == 0;
		cJSON_Delete(c);
		if (same)
			break;
		struct timespec ts = {0, 10000000};
		nanosleep(&ts, NULL);
	}
	cJSON_Delete(live);
}

Test(reconciler_cached_pass, establishes_and_a_settled_pass_makes_no_request)
{
	rec_env_mirror_pair(&E);
	start_caches();
	rec_env_create(&E, &mg_k8s_res_tmr, "app",
		       "apiVersion: trident.netapp.io/v1\nkind: TridentMirrorRelationship\n"
		       "metadata: {name: mirror, namespace: app}\n"
		       "spec:\n  state: established\n  replicationPolicy: MirrorAllSnapshots\n"
		       "  volumeMappings:\n  - localPVCName: data\n"
		       "    remoteVolumeHandle: svm-a:vol_src\n");
	int n = rec_env_tmr_until(&E, &E.ctx_b, "app", "mirror", "established", 30, 1000);
	cr_assert_gt(n, 0, "never established: '%s'", rec_env_cond(&E, "app", "mirror", "message"));
	mg_kcache_stats s;
	mg_kcache_get_stats(kc, &s);
	cr_assert_gt(s.hits, 0, "nothing was read from the caches");
	wait_caught_up();
	unsigned long before = 0, after = 0;
	mg_k8s_client_stats(E.k8s, &before, NULL);
	cr_assert_eq(rec_env_pass(&E, &E.ctx_b, "app", "mirror"), MG_REC_DONE);
	mg_k8s_client_stats(E.k8s, &after, NULL);
	cr_assert_eq(after, before, "a settled pass made %lu Kubernetes requests", after - before);
	cr_assert_str_eq(rec_env_cond(&E, "app", "mirror", "state"), "established");
}
