/* The mirrorgate-reconciler binary on a cluster without the snapshot CRDs (kube-sim
 * --without-resource for the three snapshot.storage.k8s.io kinds): its VolumeSnapshot and
 * VolumeSnapshotContent lists get 404 for ever. It must still become ready, establish a
 * TMR, log the failed lists at warn no faster than the informer backoff allows (no hot loop
 * against the API server), defer a TSI without crashing, and lose no data. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/k8s/client.h"
#include "reconciler_e2e.h"

#define BIN MG_BIN_DIR "/mirrorgate-reconciler"

static rec_env E;
static rec_proc R;

static const char *const k_no_snapshots[] = {
	"--without-resource", "snapshot.storage.k8s.io/volumesnapshots",
	"--without-resource", "snapshot.storage.k8s.io/volumesnapshotcontents",
	"--without-resource", "snapshot.storage.k8s.io/volumesnapshotclasses",
	NULL};

static void setup(void)
{
	rec_e2e_start_with_config(&E, &R, k_no_snapshots);
}

static void teardown(void)
{
	rec_e2e_stop_with_proc(&E, &R);
}

TestSuite(reconciler_nosnap, .init = setup, .fini = teardown, .timeout = 120);

static const char *const k_extra[] = {"--resync-period", "2s", "--leader-elect", "false", NULL};

#define TSI                                                                         \
	"apiVersion: trident.netapp.io/v1\nkind: TridentSnapshotInfo\n"             \
	"metadata: {name: info, namespace: app}\nspec: {snapshotName: snap1}\n"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* Lines of the log holding both needles. */
static int log_lines(const char *a, const char *b)
{
	FILE *f = fopen(R.log, "r");
	if (!f)
		return -1;
	int n = 0;
	char line[8192];
	while (fgets(line, sizeof(line), f))
		if (strstr(line, a) && strstr(line, b))
			n++;
	fclose(f);
	return n;
}

/* The most list attempts one informer can make in `ms`: the first at once, then each after
 * a delay of at least half of base * 2^k (capped), the informer's backoff (200 ms, 30 s). */
static int max_attempts(double ms)
{
	int n = 1;
	double d = 200, t = 0;
	while ((t += d / 2) <= ms) {
		n++;
		if (d < 30000)
			d = d * 2 > 30000 ? 30000 : d * 2;
	}
	return n;
}

#define LIST_FAILED "informer: list failed"

Test(reconciler_nosnap, ready_establishes_and_defers_a_tsi_without_a_hot_loop)
{
	rec_env_mirror_pair(&E);
	/* the kinds are really gone from this kube-sim */
	mg_k8s_status st;
	cJSON *vs = NULL;
	cr_assert_eq(mg_k8s_get(&vs, E.k8s, &mg_k8s_res_vs, "app", "snap1", &st), MG_ENOTFOUND);
	cr_assert_eq(st.code, 404);
	double t0 = now_ms();
	rec_proc_start(&R, BIN, E.kube.kubeconfig, "r1", k_extra);

	/* ready although two of its six caches can never sync */
	int ready = 0;
	for (int i = 0; i < 100 && (ready = rec_proc_get(&R, "/readyz", NULL)) != 200; i++)
		rec_e2e_nap(100);
	cr_assert_eq(ready, 200, "/readyz %d; see %s", ready, R.log);

	rec_env_create(&E, &mg_k8s_res_tmr, "app", REC_E2E_TMR);
	cr_assert(rec_e2e_wait_state(&E, "app", "mirror", "established", 20000),
		  "state '%s' message '%s'; see %s", rec_env_cond(&E, "app", "mirror", "state"),
		  rec_env_cond(&E, "app", "mirror", "message"), R.log);

	/* The TSI's VolumeSnapshot reads as absent: deferred, retried, never failed. */
	rec_env_create(&E, &mg_k8s_res_tsi, "app", TSI);
#define TSI_RETRIES "mirrorgate_reconcile_total{controller=\"tsi\",outcome=\"retry\"}"
	for (int i = 0; i < 100 && rec_e2e_metric(&R, TSI_RETRIES) < 2; i++)
		rec_e2e_nap(100);
	cr_assert_geq(rec_e2e_metric(&R, TSI_RETRIES), 2,
		  "the TSI was not deferred and retried; see %s", R.log);
	cr_expect_str_eq(rec_e2e_status(&E, &mg_k8s_res_tsi, "app", "info", "snapshotHandle"), "");
	cr_expect_eq(rec_env_events(&E, "app", "info", "updated"), 0);
	cr_expect_eq(rec_env_events(&E, "app", "info", "updateFailed"), 0,
		     "a missing snapshot kind is not a failure of the TSI");
	cr_expect_eq(rec_e2e_metric(&R, "mirrorgate_reconcile_total{controller=\"tsi\","
					"outcome=\"done\"}"),
		     -1, "nothing resolved it");

	/* Both lists are logged at warn, naming the resource ... */
	cr_expect(rec_e2e_wait_file(R.log, "volumesnapshots.snapshot.storage.k8s.io", 5000),
		  "see %s", R.log);
	cr_expect(rec_e2e_wait_file(R.log, "volumesnapshotcontents.snapshot.storage.k8s.io", 5000),
		  "see %s", R.log);
	cr_expect_gt(log_lines(LIST_FAILED, "\"warn\""), 0, "see %s", R.log);
	cr_expect_gt(log_lines(LIST_FAILED, "is its CRD installed?"), 0, "see %s", R.log);
	/* ... and retried with the backoff, not in a loop: over the whole run and over a
	 * later window, no more attempts than the backoff allows each of the two informers. */
	int first = log_lines(LIST_FAILED, "snapshot.storage.k8s.io");
	double t1 = now_ms();
	cr_expect_geq(first, 2);
	cr_expect_leq(first, 2 * max_attempts(t1 - t0), "%d lines in %.0f ms; see %s", first,
		      t1 - t0, R.log);
	rec_e2e_nap(3000);
	int second = log_lines(LIST_FAILED, "snapshot.storage.k8s.io");
	double t2 = now_ms();
	cr_expect_leq(second, 2 * max_attempts(t2 - t0), "%d lines in %.0f ms; see %s", second,
		      t2 - t0, R.log);
	cr_expect_lt(second - first, 8, "%d lines in 3 s; see %s", second - first, R.log);
	/* The other informers are not affected: one list each, no failure logged. */
	cr_expect_eq(log_lines(LIST_FAILED, "tridentmirrorrelationships"), 0, "see %s", R.log);
	cr_expect_eq(log_lines(LIST_FAILED, "persistentvolumeclaims"), 0, "see %s", R.log);

	/* still alive, still serving, the mirror still established */
	cr_expect_eq(rec_proc_get(&R, "/healthz", NULL), 200);
	cr_expect_eq(rec_proc_get(&R, "/readyz", NULL), 200);
	cr_expect_str_eq(rec_env_cond(&E, "app", "mirror", "state"), "established");
	cr_expect_str_eq(rec_e2e_status(&E, &mg_k8s_res_tsi, "app", "info", "snapshotHandle"), "");
	/* a TERM is a clean exit, not a crash */
	cr_expect_eq(rec_proc_stop(&R, false), 0, "see %s", R.log);
	rec_e2e_assert_no_loss(&E);
}
