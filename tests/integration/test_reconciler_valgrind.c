/* The mirrorgate-reconciler binary under valgrind memcheck: watches, queue, workers, ONTAP
 * and Kubernetes clients and the metrics server through an establish and a promote, then
 * SIGTERM: no memory error, no definite or indirect leak (exit 0, not valgrind's 99).
 * Skipped in sanitizer builds, before anything is started. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mirrorgate/k8s/client.h"
#include "reconciler_e2e.h"
#include "sanitizer.h"

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

Test(reconciler_valgrind, binary_is_memcheck_clean, .fini = stop, .timeout = 240)
{
#ifdef MG_UNDER_ASAN
	cr_skip_test("valgrind does not run sanitizer builds");
#endif
	memset(&R, 0, sizeof(R));
	started = true;
	rec_e2e_start(&E, NULL);
	rec_e2e_config(&E, &R);
	rec_env_mirror_pair(&E);

	static const char *const vg[] = {"valgrind", "--quiet", "--leak-check=full",
					 "--errors-for-leak-kinds=definite,indirect",
					 "--error-exitcode=99", NULL};
	static const char *const extra[] = {"--leader-elect", "false", NULL};
	rec_proc_start_wrapped(&R, vg, MG_BIN_DIR "/mirrorgate-reconciler", E.kube.kubeconfig, "vg",
			       extra);
	rec_env_create(&E, &mg_k8s_res_tmr, "app", REC_E2E_TMR);
	cr_assert(rec_e2e_wait_state(&E, "app", "mirror", "established", 120000), "see %s", R.log);
	char *metrics = NULL;
	cr_expect_eq(rec_proc_get(&R, "/metrics", &metrics), 200);
	free(metrics);
	rec_env_patch_spec(&E, "app", "mirror", "{\"spec\":{\"state\":\"promoted\"}}");
	cr_assert(rec_e2e_wait_state(&E, "app", "mirror", "promoted", 120000), "see %s", R.log);
	cr_expect_eq(rec_proc_stop(&R, false), 0, "valgrind found errors or leaks; see %s", R.log);
	rec_e2e_assert_no_loss(&E);
}
