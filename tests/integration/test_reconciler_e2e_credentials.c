/* Credential rotation through the mirrorgate-reconciler binary (issue: "Credentials are
 * re-read when their files change"). ONTAP's password is changed under the running binary:
 * its calls get 401 and nothing changes (no state flips, H2; the ledger stays empty); a
 * garbage rewrite of the credentials file keeps the old client; the file rewritten with the
 * new password (renamed over the old one, or swapped as a Secret volume's ..data symlink)
 * is picked up within the documented ten seconds and the binary reconciles again. No
 * password appears in the binary's log, in a TMR's status or in an Event. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mirrorgate/k8s/client.h"
#include "reconciler_e2e.h"

#define BIN MG_BIN_DIR "/mirrorgate-reconciler"
#define NEW_PASSWORD "Rotated-Secret-7f3a"
/* docs/operations.md: re-read "within ten seconds of a change"; the binary checks every
 * 50 ticks of 200 ms, plus the work of each tick: 12 s allows for a loaded machine, and
 * the waits give up only after 14 s so that a slow re-read is reported as such */
#define DOCUMENTED_MS 12000
#define REREAD_MS 14000

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static rec_env E;
static rec_proc R;

static void setup(void)
{
	rec_e2e_start(&E, NULL);
	memset(&R, 0, sizeof(R));
}

static void teardown(void)
{
	rec_e2e_stop_with_proc(&E, &R);
}

TestSuite(reconciler_e2e_credentials, .init = setup, .fini = teardown, .timeout = 120);

#define RETRIES "mirrorgate_reconcile_total{controller=\"tmr\",outcome=\"retry\"}"

static const char *const k_extra[] = {"--resync-period", "1s", "--leader-elect", "false", NULL};

/* A second destination PVC, app/data2 on vol_dst2, for a TMR created during the outage. */
static void second_pair(void)
{
	rec_env_volume(&E, 0, "vol_src2", "rw");
	rec_env_write(&E, 0, "svm-a:vol_src2");
	rec_env_volume(&E, 1, "vol_dst2", "dp");
	rec_env_pvc(&E, "app", "data2", "vol_dst2");
}

#define TMR2                                                                             \
	"apiVersion: trident.netapp.io/v1\nkind: TridentMirrorRelationship\n"           \
	"metadata: {name: mirror2, namespace: app}\n"                                    \
	"spec:\n  state: established\n  replicationPolicy: MirrorAllSnapshots\n"          \
	"  volumeMappings:\n  - localPVCName: data2\n    remoteVolumeHandle: svm-a:vol_src2\n"

/* Changes cluster-b's admin password in ontap-sim; the test's own cluster-b client follows. */
static void rotate_ontap_password(void)
{
	cr_assert_eq(ontap_sim_control(&E.ontap, "POST", "clusters",
				       "{\"cluster\":\"cluster-b\",\"password\":\"" NEW_PASSWORD "\"}",
				       NULL),
		     200);
	mg_ontap_config oc;
	ontap_sim_client_config(&E.ontap, 1, &oc);
	oc.password = NEW_PASSWORD;
	oc.now_ms = NULL;
	oc.sleep_ms = NULL;
	oc.clock_ctx = NULL;
	mg_ontap_client_free(E.cb);
	E.cb = NULL;
	cr_assert_eq(mg_ontap_client_new(&E.cb, &oc), 0);
}

/* Requests to cluster-b that ontap-sim answered with 401. */
static int refused(void)
{
	cJSON *log = NULL;
	cr_assert_eq(ontap_sim_control(&E.ontap, "GET", "requests", NULL, &log), 200);
	int n = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(log, "requests"))
	{
		const cJSON *cl = cJSON_GetObjectItem(it, "cluster");
		const cJSON *st = cJSON_GetObjectItem(it, "status");
		if (cJSON_IsString(cl) && strcmp(cl->valuestring, "cluster-b") == 0 &&
		    cJSON_IsNumber(st) && st->valueint == 401)
			n++;
	}
	cJSON_Delete(log);
	return n;
}

static bool wait_refused_more_than(int n, long timeout_ms)
{
	for (long t = 0; t < timeout_ms; t += 100) {
		if (refused() > n)
			return true;
		rec_e2e_nap(100);
	}
	return false;
}

/* Neither password (nor the garbage file's marker) in the log, TMRs or Events. */
static void assert_no_secret_anywhere(const char *marker)
{
	const char *secrets[] = {NEW_PASSWORD, "password-b", marker};
	char *tmrs = rec_e2e_list_text(&E, &mg_k8s_res_tmr, "app");
	char *events = rec_e2e_list_text(&E, &mg_k8s_res_event, "app");
	char out[300]; /* the binary's stdout, next to its log */
	snprintf(out, sizeof(out), "%s/r1.out", R.dir);
	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
		if (!secrets[i])
			continue;
		cr_expect_not(rec_e2e_file_contains(R.log, secrets[i]), "'%s' in %s", secrets[i],
			      R.log);
		cr_expect_not(rec_e2e_file_contains(out, secrets[i]), "'%s' in %s", secrets[i], out);
		cr_expect_null(strstr(tmrs, secrets[i]), "'%s' in a TMR: %s", secrets[i], tmrs);
		cr_expect_null(strstr(events, secrets[i]), "'%s' in an Event: %s", secrets[i],
			       events);
	}
	free(tmrs);
	free(events);
}

/* The outage: the established TMR keeps its state and its relationship is untouched (H2),
 * the TMR created meanwhile is not established, and the passes end in errors. */
static void assert_outage_changes_nothing(void)
{
	int before = refused();
	double retries = rec_e2e_metric(&R, RETRIES);
	cr_assert(wait_refused_more_than(before + 2, 10000),
		  "the binary's ONTAP calls are not refused; see %s", R.log);
	cr_expect_str_eq(rec_env_cond(&E, "app", "mirror", "state"), "established",
			 "a refused read is not a state (H2)");
	char state[64];
	cr_expect(rec_env_relationship(&E, "svm-b:vol_dst", state, sizeof(state)));
	cr_expect_str_eq(state, "snapmirrored");
	cr_expect_str_neq(rec_env_cond(&E, "app", "mirror2", "state"), "established");
	cr_expect_not(rec_env_relationship(&E, "svm-b:vol_dst2", NULL, 0),
		      "nothing was created with refused credentials");
	/* the refused passes are retried with backoff (and reported: see
	 * refused_credentials_are_reported) */
	cr_expect_gt(rec_e2e_metric(&R, RETRIES), retries);
}

/* After the re-read: both TMRs established, the first one's message clear. */
static void assert_recovered(void)
{
	cr_assert(rec_e2e_wait_state(&E, "app", "mirror2", "established", 15000),
		  "state '%s' message '%s'; see %s", rec_env_cond(&E, "app", "mirror2", "state"),
		  rec_env_cond(&E, "app", "mirror2", "message"), R.log);
	cr_expect(rec_env_relationship(&E, "svm-b:vol_dst2", NULL, 0));
	cr_expect_str_eq(rec_env_cond(&E, "app", "mirror", "state"), "established");
	cr_expect_str_eq(rec_env_cond(&E, "app", "mirror", "message"), "");
	/* the binary's calls succeed again: no new 401 over a couple of resyncs */
	int n = refused();
	rec_e2e_nap(2500);
	cr_expect_eq(refused(), n, "still refused after the re-read; see %s", R.log);
}

Test(reconciler_e2e_credentials, rotated_file_is_reread_and_garbage_keeps_the_old_client)
{
	rec_e2e_config(&E, &R);
	rec_env_mirror_pair(&E);
	second_pair();
	rec_proc_start(&R, BIN, E.kube.kubeconfig, "r1", k_extra);
	rec_env_create(&E, &mg_k8s_res_tmr, "app", REC_E2E_TMR);
	cr_assert(rec_e2e_wait_state(&E, "app", "mirror", "established", 20000), "see %s", R.log);

	rotate_ontap_password();
	rec_env_create(&E, &mg_k8s_res_tmr, "app", TMR2);
	assert_outage_changes_nothing();

	/* garbage (not YAML): logged without its content, the old client stays */
	rec_proc_write_credentials(&R, "username: admin\npassword: [garbage-marker-91c\n");
	cr_assert(rec_e2e_wait_file(R.log, "credentials changed but are unusable", REREAD_MS),
		  "the garbage file was not noticed; see %s", R.log);
	int n = refused();
	cr_expect(wait_refused_more_than(n, 5000), "the old client is still used");
	cr_expect_not(rec_e2e_file_contains(R.log, "credentials re-read"));
	cr_expect_str_eq(rec_env_cond(&E, "app", "mirror", "state"), "established");
	cr_expect_not(rec_env_relationship(&E, "svm-b:vol_dst2", NULL, 0));

	/* the right password, renamed over the file */
	long t0 = now_ms();
	rec_proc_write_credentials(&R, "username: admin\npassword: " NEW_PASSWORD "\n");
	cr_assert(rec_e2e_wait_file(R.log, "credentials re-read", REREAD_MS),
		  "the rotated file was not re-read; see %s", R.log);
	cr_expect_leq(now_ms() - t0, DOCUMENTED_MS, "re-read after %ld ms", now_ms() - t0);
	assert_recovered();
	assert_no_secret_anywhere("garbage-marker-91c");
	rec_e2e_assert_no_loss(&E);
}

Test(reconciler_e2e_credentials, secret_volume_data_symlink_swap_is_reread)
{
	rec_proc_config_secret(&R, E.ontap.clusters[1].url, "svm-b", E.ontap.ca_file, "admin",
			       "password-b");
	rec_env_mirror_pair(&E);
	second_pair();
	rec_proc_start(&R, BIN, E.kube.kubeconfig, "r1", k_extra);
	rec_env_create(&E, &mg_k8s_res_tmr, "app", REC_E2E_TMR);
	cr_assert(rec_e2e_wait_state(&E, "app", "mirror", "established", 20000), "see %s", R.log);

	rotate_ontap_password();
	rec_env_create(&E, &mg_k8s_res_tmr, "app", TMR2);
	assert_outage_changes_nothing();

	long t0 = now_ms();
	rec_proc_swap_secret(&R, "username: admin\npassword: " NEW_PASSWORD "\n");
	cr_assert(rec_e2e_wait_file(R.log, "credentials re-read", REREAD_MS),
		  "the ..data swap was not noticed; see %s", R.log);
	cr_expect_leq(now_ms() - t0, DOCUMENTED_MS, "re-read after %ld ms", now_ms() - t0);
	assert_recovered();
	assert_no_secret_anywhere(NULL);
	rec_e2e_assert_no_loss(&E);
}

/* An ONTAP error during the volume look-up that starts every TMR pass (a 401 after a
 * password rotation, or ONTAP down) is reported, not retried silently: the TMR keeps its
 * state (H2) and shows the documented "Could not read the SnapMirror relationship from
 * ONTAP: <error>; retrying" (docs/operations.md), mirrorgate_reconcile_errors_total counts
 * it and it is logged at warn level, with no password anywhere. */
Test(reconciler_e2e_credentials, refused_credentials_are_reported)
{
	rec_e2e_config(&E, &R);
	rec_env_mirror_pair(&E);
	rec_proc_start(&R, BIN, E.kube.kubeconfig, "r1", k_extra);
	rec_env_create(&E, &mg_k8s_res_tmr, "app", REC_E2E_TMR);
	cr_assert(rec_e2e_wait_state(&E, "app", "mirror", "established", 20000), "see %s", R.log);
	rotate_ontap_password();
	bool shown = false;
	for (int i = 0; i < 50 && !shown; i++) {
		shown = strstr(rec_env_cond(&E, "app", "mirror", "message"), "Authentication failed");
		rec_e2e_nap(100);
	}
	cr_expect(shown, "the TMR's message is '%s'", rec_env_cond(&E, "app", "mirror", "message"));
	cr_expect(strstr(rec_env_cond(&E, "app", "mirror", "message"),
			 "Could not read the SnapMirror relationship from ONTAP: "),
		  "'%s'", rec_env_cond(&E, "app", "mirror", "message"));
	cr_expect_str_eq(rec_env_cond(&E, "app", "mirror", "state"), "established");
	cr_expect_gt(rec_e2e_metric(&R, "mirrorgate_reconcile_errors_total{controller=\"tmr\"}"), 0);
	cr_expect(rec_e2e_file_contains(R.log, "\"level\":\"warn\""), "nothing logged; see %s",
		  R.log);
	assert_no_secret_anywhere(NULL);
	rec_e2e_assert_no_loss(&E);
}
