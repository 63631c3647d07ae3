/* The mirrorgate-reconciler binary under valgrind memcheck: watches, queue, workers, ONTAP
 * and Kubernetes clients and the metrics server through an establish and a promote, then
 * SIGTERM: no memory error, no definite or indirect leak (exit 0, not valgrind's 99).
 * Skipped in sanitizer builds, before anything is started. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mirrorgate/k8s.h"
#include "reconciler_env.h"
#include "reconciler_proc.h"

#if defined(__SANITIZE_ADDRESS__)
#define MG_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MG_UNDER_ASAN 1
#endif
#endif

static rec_env E;
static rec_proc R;
static bool started;

static void stop(void)
{
	if (!started)
		return;
	rec_proc_stop(&R, true);
	rec_proc_cleanup(&R);
	rec_env_stop(&E);
}

static void nap(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static bool wait_state(const char *state, long timeout_ms)
{
	for (long t = 0; t < timeout_ms; t += 200) {
		if (strcmp(rec_env_cond(&E, "app", "mirror", "state"), state) == 0)
			return true;
		nap(200);
	}
	return false;
}

Test(reconciler_valgrind, binary_is_memcheck_clean, .fini = stop, .timeout = 240)
{
#ifdef MG_UNDER_ASAN
	cr_skip_test("valgrind does not run sanitizer builds");
#endif
	static const char *const rt[] = {"--realtime", NULL};
	memset(&E, 0, sizeof(E));
	memset(&R, 0, sizeof(R));
	started = true;
	ontap_sim_start(&E.ontap, NULL, rt);
	cr_assert_eq(ontap_sim_control(&E.ontap, "POST", "settings",
				       "{\"job_queue_ms\":10,\"job_run_ms\":30,"
				       "\"transfer_queue_ms\":20,\"transfer_ms\":100}",
				       NULL),
		     200);
	cr_assert_eq(kube_sim_start(&E.kube, NULL), 0);
	mg_k8s_config *cfg = NULL;
	char why[256] = "";
	cr_assert_eq(mg_k8s_config_from_kubeconfig(&cfg, E.kube.kubeconfig, NULL, why, sizeof(why)),
		     0, "%s", why);
	cr_assert_eq(mg_k8s_client_new(&E.k8s, cfg), 0);
	mg_k8s_config_free(cfg);
	mg_ontap_config oc;
	for (int i = 0; i < 2; i++) {
		ontap_sim_client_config(&E.ontap, (size_t)i, &oc);
		oc.now_ms = NULL;
		oc.sleep_ms = NULL;
		oc.clock_ctx = NULL;
		cr_assert_eq(mg_ontap_client_new(i ? &E.cb : &E.ca, &oc), 0);
	}
	rec_proc_config(&R, E.ontap.clusters[1].url, "svm-b", E.ontap.ca_file, "admin",
			"password-b");
	rec_env_volume(&E, 0, "vol_src", "rw");
	rec_env_write(&E, 0, "svm-a:vol_src");
	rec_env_volume(&E, 1, "vol_dst", "dp");
	rec_env_pvc(&E, "app", "data", "vol_dst");

	static const char *const vg[] = {"valgrind", "--quiet", "--leak-check=full",
					 "--errors-for-leak-kinds=definite,indirect",
					 "--error-exitcode=99", NULL};
	static const char *const extra[] = {"--leader-elect", "false", NULL};
	rec_proc_start_wrapped(&R, vg, MG_BIN_DIR "/mirrorgate-reconciler", E.kube.kubeconfig, "vg",
			       extra);
	rec_env_create(&E, &mg_k8s_res_tmr, "app",
		       "apiVersion: trident.netapp.io/v1\nkind: TridentMirrorRelationship\n"
		       "metadata: {name: mirror, namespace: app}\n"
		       "spec:\n  state: established\n  replicationPolicy: MirrorAllSnapshots\n"
		       "  volumeMappings:\n  - localPVCName: data\n"
		       "    remoteVolumeHandle: svm-a:vol_src\n");
	cr_assert(wait_state("established", 120000), "see %s", R.log);
	char *metrics = NULL;
	cr_expect_eq(rec_proc_get(&R, "/metrics", &metrics), 200);
	free(metrics);
	rec_env_patch_spec(&E, "app", "mirror", "{\"spec\":{\"state\":\"promoted\"}}");
	cr_assert(wait_state("promoted", 120000), "see %s", R.log);
	cr_expect_eq(rec_proc_stop(&R, false), 0, "valgrind found errors or leaks; see %s", R.log);
	char *text = NULL;
	cr_expect_eq(rec_env_ledger(&E, &text), 0, "data-loss ledger: %s", text);
	free(text);
}
