/* bench/reconciler: the mirrorgate-reconciler binary between kube-sim and ontap-sim (real
 * time, fast jobs) with N TMRs to establish, in one of two modes:
 *   cached   - this reconciler: informer reads, kept-alive connections;
 *   baseline - MG_BENCH_BASELINE=1: every read a GET, a new connection per request (as
 *              Trident's controller, and this reconciler before the scale work).
 * It prints one line of figures: converge time, Kubernetes and ONTAP calls per TMR to
 * converge, calls per minute in the steady state (after convergence, over MG_BENCH_STEADY_S
 * with a --resync-period of MG_BENCH_RESYNC_S), new connections per request, and the
 * reconciler's and the simulators' CPU and RSS. Leader election is off so the Lease does not
 * count. Environment: MG_BENCH_N (100), MG_BENCH_MODE (cached), MG_BENCH_STEADY_S (60),
 * MG_BENCH_RESYNC_S (60), MG_BENCH_WORKERS (2). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mirrorgate/k8s/client.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/util/log.h"
#include "mirrorgate/util/strbuf.h"
#include "reconciler_e2e.h"

#define BIN MG_BIN_DIR "/mirrorgate-reconciler"

static rec_env E;
static rec_proc R;

static long env_long(const char *name, long dflt)
{
	const char *v = getenv(name);
	return v && *v ? strtol(v, NULL, 10) : dflt;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds (user + system) and current RSS (kB) of a process. */
static void proc_usage(pid_t pid, double *cpu_s, long *rss_kb)
{
	char path[64], buf[2048];
	*cpu_s = 0;
	*rss_kb = 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (f) {
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		buf[n] = '\0';
		fclose(f);
		const char *p = strrchr(buf, ')');
		unsigned long ut = 0, st = 0;
		/* after ") ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
		if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut,
				&st) == 2)
			*cpu_s = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
	}
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r"))) {
		while (fgets(buf, sizeof(buf), f))
			if (strncmp(buf, "VmRSS:", 6) == 0)
				*rss_kb = strtol(buf + 6, NULL, 10);
		fclose(f);
	}
}

/* ONTAP requests served so far: the sequence number of the last logged request (the log
 * itself keeps only the latest 2,000). */
static long ontap_calls(void)
{
	cJSON *log = NULL;
	cr_assert_eq(ontap_sim_control(&E.ontap, "GET", "requests", NULL, &log), 200);
	long seq = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(log, "requests")) {
		const cJSON *s = cJSON_GetObjectItem(e, "seq");
		if (cJSON_IsNumber(s) && (long)s->valuedouble > seq)
			seq = (long)s->valuedouble;
	}
	cJSON_Delete(log);
	return seq;
}

static void create(const mg_k8s_resource *r, const char *ns, const char *json)
{
	cJSON *o = cJSON_Parse(json);
	cr_assert_not_null(o, "%s", json);
	mg_k8s_status st;
	int rc = mg_k8s_create(NULL, E.k8s, r, ns, o, &st);
	cr_assert(rc == 0 || rc == MG_EEXIST, "%s: %s", mg_strerror(rc), st.message);
	cJSON_Delete(o);
}

/* N source volumes on svm-a and N empty DP volumes on svm-b, in one seed. */
static void seed_volumes(long n)
{
	mg_strbuf sb = MG_STRBUF_INIT;
	mg_strbuf_puts(&sb, "{\"clusters\":[{\"name\":\"cluster-a\",\"svms\":[{\"name\":\"svm-a\","
			    "\"volumes\":[");
	for (long i = 0; i < n; i++)
		mg_strbuf_printf(&sb, "%s{\"name\":\"src_%ld\",\"type\":\"rw\"}", i ? "," : "", i);
	mg_strbuf_puts(&sb, "]}]},{\"name\":\"cluster-b\",\"svms\":[{\"name\":\"svm-b\",\"volumes\":[");
	for (long i = 0; i < n; i++)
		mg_strbuf_printf(&sb, "%s{\"name\":\"dst_%ld\",\"type\":\"dp\"}", i ? "," : "", i);
	mg_strbuf_puts(&sb, "]}]}]}");
	cr_assert_not(sb.failed);
	cJSON *resp = NULL;
	int status = ontap_sim_control(&E.ontap, "POST", "seed", sb.data, &resp);
	cr_assert_eq(status, 200, "seed: %s", resp ? cJSON_PrintUnformatted(resp) : "");
	cJSON_Delete(resp);
	mg_strbuf_free(&sb);
}

static void seed_kube(long n)
{
	char buf[1024];
	create(&mg_k8s_res_namespace, NULL,
	       "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"app\"}}");
	for (long i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf),
			 "{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolume\",\"metadata\":{\"name\":"
			 "\"pv-%ld\"},\"spec\":{\"capacity\":{\"storage\":\"1Gi\"},\"accessModes\":"
			 "[\"ReadWriteOnce\"],\"claimRef\":{\"namespace\":\"app\",\"name\":\"data-%ld\"},"
			 "\"csi\":{\"driver\":\"csi.trident.netapp.io\",\"volumeHandle\":\"pv-%ld\","
			 "\"volumeAttributes\":{\"internalName\":\"dst_%ld\",\"backendUUID\":\"0000-b\"}}}}",
			 i, i, i, i);
		create(&mg_k8s_res_pv, NULL, buf);
		snprintf(buf, sizeof(buf),
			 "{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\",\"metadata\":{\"name\":"
			 "\"data-%ld\",\"namespace\":\"app\"},\"spec\":{\"accessModes\":[\"ReadWriteOnce\"],"
			 "\"resources\":{\"requests\":{\"storage\":\"1Gi\"}},\"storageClassName\":\"trident\","
			 "\"volumeName\":\"pv-%ld\"}}",
			 i, i);
		create(&mg_k8s_res_pvc, "app", buf);
	}
}

static void create_tmrs(long n)
{
	char buf[1024];
	for (long i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf),
			 "{\"apiVersion\":\"trident.netapp.io/v1\",\"kind\":\"TridentMirrorRelationship\","
			 "\"metadata\":{\"name\":\"m-%ld\",\"namespace\":\"app\"},\"spec\":{\"state\":"
			 "\"established\",\"replicationPolicy\":\"MirrorAllSnapshots\",\"volumeMappings\":"
			 "[{\"localPVCName\":\"data-%ld\",\"remoteVolumeHandle\":\"svm-a:src_%ld\"}]}}",
			 i, i, i);
		create(&mg_k8s_res_tmr, "app", buf);
	}
}

static long established(void)
{
	cJSON *items = NULL;
	mg_k8s_list_opts o = {.limit = 500};
	if (mg_k8s_list_all(&items, NULL, E.k8s, &mg_k8s_res_tmr, "app", &o, NULL) != 0)
		return -1;
	long n = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, items) {
		const cJSON *c = cJSON_GetArrayItem(
			cJSON_GetObjectItem(cJSON_GetObjectItem(it, "status"), "conditions"), 0);
		const cJSON *s = cJSON_GetObjectItem(c, "state");
		if (cJSON_IsString(s) && strcmp(s->valuestring, "established") == 0)
			n++;
	}
	cJSON_Delete(items);
	return n;
}

static double metric(const char *series)
{
	double v = rec_e2e_metric(&R, series);
	return v < 0 ? 0 : v;
}

Test(bench, reconciler, .timeout = 7200)
{
	mg_log_set_level(MG_LOG_ERROR);
	long n = env_long("MG_BENCH_N", 100), steady_s = env_long("MG_BENCH_STEADY_S", 60),
	     resync_s = env_long("MG_BENCH_RESYNC_S", 60), workers = env_long("MG_BENCH_WORKERS", 2);
	const char *mode = getenv("MG_BENCH_MODE") ? getenv("MG_BENCH_MODE") : "cached";
	bool baseline = strcmp(mode, "baseline") == 0;
	rec_e2e_start(&E, NULL);
	memset(&R, 0, sizeof(R));
	rec_e2e_config(&E, &R);
	seed_volumes(n);
	seed_kube(n);
	if (baseline)
		setenv("MG_BENCH_BASELINE", "1", 1);
	else
		unsetenv("MG_BENCH_BASELINE");
	char resync[32], nworkers[32];
	snprintf(resync, sizeof(resync), "--resync-period=%lds", resync_s);
	snprintf(nworkers, sizeof(nworkers), "--workers=%ld", workers);
	char loglevel[32];
	snprintf(loglevel, sizeof(loglevel), "--log-level=%s",
		 getenv("MG_BENCH_LOG") ? getenv("MG_BENCH_LOG") : "error");
	const char *extra[] = {"--leader-elect=false", resync, nworkers, loglevel, NULL};
	rec_proc_start(&R, BIN, E.kube.kubeconfig, "bench", extra);
	cr_assert(rec_e2e_wait_metric(&R, "mirrorgate_informer_lists", true, 60000, NULL),
		  "the reconciler did not come up; see %s", R.log);
	double sim_cpu0, kube_cpu0, rec_cpu0;
	long rss;
	proc_usage(E.ontap.pid, &sim_cpu0, &rss);
	proc_usage(E.kube.pid, &kube_cpu0, &rss);
	proc_usage(R.pid, &rec_cpu0, &rss);
	long ontap0 = ontap_calls();
	double kube0 = metric("mirrorgate_kube_requests{}");
	double t0 = now_s();
	create_tmrs(n);
	/* converged when every TMR reports established; bounded so the run always ends */
	double cap_s = 120 + (double)n * 0.5, t_conv = -1, first = -1;
	while (now_s() - t0 < cap_s) {
		long e = established();
		if (e > 0 && first < 0)
			first = now_s() - t0;
		if (e == n) {
			t_conv = now_s() - t0;
			break;
		}
		rec_e2e_nap(n >= 5000 ? 3000 : 500);
	}
	double rec_cpu1, sim_cpu1, kube_cpu1;
	long rec_rss1, sim_rss, kube_rss;
	proc_usage(R.pid, &rec_cpu1, &rec_rss1);
	proc_usage(E.ontap.pid, &sim_cpu1, &sim_rss);
	proc_usage(E.kube.pid, &kube_cpu1, &kube_rss);
	long ontap1 = ontap_calls();
	double kube1 = metric("mirrorgate_kube_requests{}");
	double conns1 = metric("mirrorgate_kube_connections{}");
	/* steady state: nothing changes; the resync re-checks every TMR */
	rec_e2e_nap(steady_s * 1000);
	long ontap2 = ontap_calls();
	double kube2 = metric("mirrorgate_kube_requests{}"), conns2 = metric("mirrorgate_kube_connections{}");
	double rec_cpu2;
	long rec_rss2;
	proc_usage(R.pid, &rec_cpu2, &rec_rss2);
	double reads_cache = metric("mirrorgate_kube_reads{source=\"cache\"}");
	double reads_api = metric("mirrorgate_kube_reads{source=\"api\"}");
	printf("reconciler mode=%s N=%ld workers=%ld resync=%lds converge_s=%.1f first_established_s=%.1f"
	       " ontap_calls_per_tmr=%.2f kube_calls_per_tmr=%.2f"
	       " steady_kube_calls_per_min=%.1f steady_ontap_calls_per_min=%.1f"
	       " new_conns_per_request=%.3f reads_cache=%.0f reads_api=%.0f"
	       " rec_cpu_s=%.2f sim_cpu_s=%.2f kube_sim_cpu_s=%.2f rec_cpu_per_sim_cpu=%.2f"
	       " steady_rec_cpu_s_per_min=%.2f rec_rss_mb=%.1f rec_rss_steady_mb=%.1f"
	       " ontap_sim_rss_mb=%.1f\n",
	       mode, n, workers, resync_s, t_conv, first, (double)(ontap1 - ontap0) / (double)n,
	       (kube1 - kube0) / (double)n, (kube2 - kube1) * 60.0 / (double)steady_s,
	       (double)(ontap2 - ontap1) * 60.0 / (double)steady_s,
	       kube2 > 0 ? conns2 / kube2 : 0, reads_cache, reads_api, rec_cpu1 - rec_cpu0,
	       sim_cpu1 - sim_cpu0, kube_cpu1 - kube_cpu0,
	       sim_cpu1 - sim_cpu0 > 0 ? (rec_cpu1 - rec_cpu0) / (sim_cpu1 - sim_cpu0) : 0,
	       (rec_cpu2 - rec_cpu1) * 60.0 / (double)steady_s, (double)rec_rss1 / 1024.0,
	       (double)rec_rss2 / 1024.0, (double)sim_rss / 1024.0);
	(void)conns1;
	if (getenv("MG_BENCH_DUMP")) {
		char *text = NULL;
		rec_proc_get(&R, "/metrics", &text);
		printf("%s\n", text ? text : "");
		free(text);
	}
	fflush(stdout);
	rec_proc_stop(&R, false);
	if (getenv("MG_BENCH_LOG")) {
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "cp %s /tmp/mg-bench-reconciler.log", R.log);
		if (system(cmd) != 0)
			fprintf(stderr, "could not keep the log\n");
	}
	rec_proc_cleanup(&R);
	rec_env_stop(&E);
	cr_expect_gt(t_conv, 0, "%ld TMRs did not all converge within %.0f s", n, cap_s);
}
