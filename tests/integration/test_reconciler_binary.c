/* The mirrorgate-reconciler binary against real kube-sim and ontap-sim processes (ontap-sim
 * on its real-time clock): establish through the watch/queue/worker path, the endpoints, a
 * clean SIGTERM that releases the lease, a leader handover between two processes, and a
 * process killed with SIGKILL in the middle of a promote that a restart converges. The
 * ledger is asserted in each. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/k8s/client.h"
#include "mirrorgate/ontap/volume.h"
#include "mirrorgate/util/tls.h"
#include "reconciler_e2e.h"

#define BIN MG_BIN_DIR "/mirrorgate-reconciler"

static rec_env E;
static rec_proc R1, R2;

static void nap(long ms)
{
	rec_e2e_nap(ms);
}

static void setup(void)
{
	rec_e2e_start(&E, NULL);
	memset(&R1, 0, sizeof(R1));
	memset(&R2, 0, sizeof(R2));
	rec_e2e_config(&E, &R1);
	R2 = R1;
	R2.pid = 0;
}

static void teardown(void)
{
	rec_proc_stop(&R1, true);
	rec_proc_stop(&R2, true);
	rec_proc_cleanup(&R1);
	rec_env_stop(&E);
}

TestSuite(reconciler_binary, .init = setup, .fini = teardown, .timeout = 120);

#define TMR REC_E2E_TMR

static void volumes(void)
{
	rec_env_mirror_pair(&E);
}

static bool wait_state(const char *state, long timeout_ms)
{
	return rec_e2e_wait_state(&E, "app", "mirror", state, timeout_ms);
}

static void lease_holder(char *buf, size_t len)
{
	buf[0] = '\0';
	cJSON *l = rec_env_get(&E, &mg_k8s_res_lease, mg_k8s_client_namespace(E.k8s),
			       "mirrorgate-reconciler");
	const cJSON *h = cJSON_GetObjectItem(cJSON_GetObjectItem(l, "spec"), "holderIdentity");
	if (cJSON_IsString(h))
		snprintf(buf, len, "%s", h->valuestring);
	cJSON_Delete(l);
}

static bool wait_holder(const char *who, long timeout_ms)
{
	char h[128];
	for (long t = 0; t < timeout_ms; t += 100) {
		lease_holder(h, sizeof(h));
		if (strcmp(h, who) == 0)
			return true;
		nap(100);
	}
	return false;
}

static void assert_no_loss(void)
{
	rec_e2e_assert_no_loss(&E);
}

Test(reconciler_binary, establishes_serves_endpoints_and_stops_cleanly)
{
	volumes();
	rec_proc_start(&R1, BIN, E.kube.kubeconfig, "r1", NULL);
	cr_assert(wait_holder("r1", 10000), "never became leader; see %s", R1.log);
	for (int i = 0; i < 50 && rec_proc_get(&R1, "/readyz", NULL) != 200; i++)
		nap(100);
	cr_expect_eq(rec_proc_get(&R1, "/readyz", NULL), 200);
	cr_expect_eq(rec_proc_get(&R1, "/healthz", NULL), 200);
	cr_expect_eq(rec_proc_get(&R1, "/nope", NULL), 404);
	rec_env_create(&E, &mg_k8s_res_tmr, "app", TMR);
	cr_assert(wait_state("established", 20000), "state '%s' message '%s'; see %s",
		  rec_env_cond(&E, "app", "mirror", "state"),
		  rec_env_cond(&E, "app", "mirror", "message"), R1.log);
	char *metrics = NULL;
	for (int i = 0; i < 30; i++) {
		free(metrics);
		metrics = NULL;
		cr_assert_eq(rec_proc_get(&R1, "/metrics", &metrics), 200);
		if (strstr(metrics, "mirrorgate_tmr_state{tmr=\"app/mirror\",state=\"established\"} 1"))
			break;
		nap(100);
	}
	cr_expect(strstr(metrics, "mirrorgate_tmr_state{tmr=\"app/mirror\",state=\"established\"} 1"),
		  "%s", metrics);
	cr_expect(strstr(metrics, "mirrorgate_leader{} 1"), "%s", metrics);
	cr_expect(strstr(metrics, "# TYPE mirrorgate_reconcile_duration_seconds histogram"));
	cr_expect(strstr(metrics, "mirrorgate_ontap_calls_total{operation=\"create\",outcome=\"success\"} 1"),
		  "%s", metrics);
	cr_expect(strstr(metrics, "mirrorgate_tmr_healthy{tmr=\"app/mirror\"} 1"), "%s", metrics);
	free(metrics);
	cr_expect_eq(rec_proc_stop(&R1, false), 0, "SIGTERM exits 0");
	char h[128];
	lease_holder(h, sizeof(h));
	cr_expect_str_eq(h, "", "the lease is released on the way out");
	assert_no_loss();
}

Test(reconciler_binary, leader_handover_between_two_processes)
{
	volumes();
	rec_proc_start(&R1, BIN, E.kube.kubeconfig, "r1", NULL);
	cr_assert(wait_holder("r1", 10000));
	rec_proc_start(&R2, BIN, E.kube.kubeconfig, "r2", NULL);
	rec_env_create(&E, &mg_k8s_res_tmr, "app", TMR);
	cr_assert(wait_state("established", 20000), "see %s", R1.log);
	char h[128];
	lease_holder(h, sizeof(h));
	cr_expect_str_eq(h, "r1", "the follower did not take over while r1 renewed");
	/* A replica that never led still exports the series the no-leader alert sums. */
	char *follower = NULL;
	cr_assert_eq(rec_proc_get(&R2, "/metrics", &follower), 200);
	cr_expect(strstr(follower, "mirrorgate_leader{} 0"), "%s", follower);
	cr_expect(strstr(follower, "mirrorgate_build_info{version=\"" MG_VERSION "\"} 1"), "%s",
		  follower);
	free(follower);
	rec_proc_stop(&R1, true); /* no release: r2 must wait out the lease */
	cr_assert(wait_holder("r2", 10000), "r2 never took over; see %s", R2.log);
	rec_env_patch_spec(&E, "app", "mirror", "{\"spec\":{\"state\":\"promoted\"}}");
	cr_assert(wait_state("promoted", 20000), "state '%s' '%s'; see %s",
		  rec_env_cond(&E, "app", "mirror", "state"),
		  rec_env_cond(&E, "app", "mirror", "message"), R2.log);
	cr_expect_not(rec_env_relationship(&E, "svm-b:vol_dst", NULL, 0));
	assert_no_loss();
}

Test(reconciler_binary, sigkill_mid_promote_then_restart_converges)
{
	volumes();
	rec_proc_start(&R1, BIN, E.kube.kubeconfig, "r1", NULL);
	rec_env_create(&E, &mg_k8s_res_tmr, "app", TMR);
	cr_assert(wait_state("established", 20000), "see %s", R1.log);
	/* the quiesce's job never finishes: r1 is inside the promote when it is killed */
	rec_env_fault(&E, "{\"type\":\"job\",\"match\":\"PATCH /api/snapmirror/relationships/*\","
			  "\"mode\":\"stuck\"}");
	int before = ontap_sim_count_requests(&E.ontap, NULL, "PATCH", "/api/snapmirror/");
	rec_env_patch_spec(&E, "app", "mirror", "{\"spec\":{\"state\":\"promoted\"}}");
	for (int i = 0; i < 100 &&
			ontap_sim_count_requests(&E.ontap, NULL, "PATCH", "/api/snapmirror/") == before;
	     i++)
		nap(100);
	cr_assert_gt(ontap_sim_count_requests(&E.ontap, NULL, "PATCH", "/api/snapmirror/"), before,
		     "the promote never started; see %s", R1.log);
	rec_proc_stop(&R1, true);
	rec_env_clear_faults(&E); /* the stuck job completes after the crash */
	rec_proc_start(&R2, BIN, E.kube.kubeconfig, "r2", NULL);
	cr_assert(wait_state("promoted", 30000), "state '%s' '%s'; see %s",
		  rec_env_cond(&E, "app", "mirror", "state"),
		  rec_env_cond(&E, "app", "mirror", "message"), R2.log);
	cr_expect_not(rec_env_relationship(&E, "svm-b:vol_dst", NULL, 0));
	rec_env_write(&E, 1, "svm-b:vol_dst");
	assert_no_loss();
}

Test(reconciler_binary, bad_flags_and_config_are_refused)
{
	char *out = NULL;
	const char *const argv1[] = {BIN, "--config", "/nonexistent/config.yaml", "--kubeconfig",
				     E.kube.kubeconfig, NULL};
	int st = kube_run(&out, 10000, argv1, NULL);
	cr_expect_eq(st, 1, "%s", out);
	cr_expect(strstr(out, "cannot read /nonexistent/config.yaml"), "%s", out);
	free(out);
	const char *const argv2[] = {BIN, "--config", R1.config, "--workers", "0", NULL};
	st = kube_run(&out, 10000, argv2, NULL);
	cr_expect_eq(st, 2, "%s", out);
	cr_expect(strstr(out, "bad value for --workers"), "%s", out);
	free(out);
	const char *const argv3[] = {BIN, "--config", R1.config, "--renew-deadline", "20s", NULL};
	st = kube_run(&out, 10000, argv3, NULL);
	cr_expect_eq(st, 2, "%s", out);
	cr_expect(strstr(out, "--retry-period < --renew-deadline < --lease-duration"), "%s", out);
	free(out);
	/* a credentials file without a password: refused, and the file's content not echoed */
	char cred[300];
	snprintf(cred, sizeof(cred), "%s/credentials", R1.dir);
	cr_assert_eq(mg_write_file_atomic(cred, "username: admin\npassword: \"\"\n",
					  strlen("username: admin\npassword: \"\"\n"), 0600), 0);
	const char *const argv4[] = {BIN, "--config", R1.config, "--kubeconfig", E.kube.kubeconfig,
				     NULL};
	st = kube_run(&out, 10000, argv4, NULL);
	cr_expect_eq(st, 1, "%s", out);
	cr_expect(strstr(out, "needs non-empty username and password"), "%s", out);
	free(out);
}

/* H9: Trident requeues a transitioning TMR without backoff and polls ONTAP in a tight loop.
 * With a baseline that does not finish, the reconciler's reads slow down (capped exponential
 * backoff): over three seconds with a 50 ms base and a 1 s cap, a few passes, not hundreds. */
Test(reconciler_binary, h9_waiting_on_ontap_backs_off)
{
	volumes();
	rec_env_fault(&E, "{\"type\":\"transfer\",\"mode\":\"hang\"}");
	rec_proc_start(&R1, BIN, E.kube.kubeconfig, "r1", NULL);
	rec_env_create(&E, &mg_k8s_res_tmr, "app", TMR);
	cr_assert(wait_state("establishing", 10000), "see %s", R1.log);
	int before = ontap_sim_count_requests(&E.ontap, "cluster-b", "GET",
					      "/api/snapmirror/relationships?");
	nap(3000);
	int reads = ontap_sim_count_requests(&E.ontap, "cluster-b", "GET",
					     "/api/snapmirror/relationships?") -
		    before;
	cr_expect_leq(reads, 20, "%d relationship reads in 3 s", reads);
	cr_expect_geq(reads, 1, "still polling");
	rec_env_clear_faults(&E); /* the baseline finishes */
	cr_assert(wait_state("established", 20000), "see %s", R1.log);
	assert_no_loss();
}

/* Watches that end (1 s server timeout) and resume from a version the API server no longer
 * keeps (history of 3 events: 410 Gone) make the informers relist; objects created after
 * that are still seen and reconciled at once, not at the next resync. */
Test(reconciler_binary, watch_drops_and_410_relist)
{
	static const char *const hist[] = {"--history", "3", NULL};
	rec_e2e_restart_kube(&E, hist);
	volumes();
	static const char *const extra[] = {"--watch-timeout", "1s", "--leader-elect", "false",
					    NULL};
	rec_proc_start(&R1, BIN, E.kube.kubeconfig, "r1", extra);
	nap(1200);
	for (int i = 0; i < 12; i++) {
		char buf[256];
		snprintf(buf, sizeof(buf),
			 "{apiVersion: v1, kind: ConfigMap, metadata: {name: churn-%d}, data: {a: b}}",
			 i);
		rec_env_create(&E, &mg_k8s_res_configmap, "default", buf);
	}
	nap(2500);
	rec_env_create(&E, &mg_k8s_res_tmr, "app", TMR);
	cr_assert(wait_state("established", 15000), "see %s", R1.log);
	char *metrics = NULL;
	cr_assert_eq(rec_proc_get(&R1, "/metrics", &metrics), 200);
	const char *k = "mirrorgate_informer_lists{resource=\"tmr\"} ";
	const char *at = strstr(metrics, k);
	cr_assert_not_null(at, "%s", metrics);
	long lists = strtol(at + strlen(k), NULL, 10);
	cr_expect_geq(lists, 2, "relisted after 410: %ld", lists);
	free(metrics);
	assert_no_loss();
}
