/* mirrorgate-reconciler: parses flags and configuration and wires the modules together. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "flags.h"
#include "health.h"
#include "fence.h"
#include "manager.h"
#include "rmetrics.h"
#include "mirrorgate/util/cli.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/k8s/client.h"
#include "mirrorgate/util/log.h"

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

int main(int argc, char **argv)
{
	mg_flags f;
	char why[1024] = "";
	if (mg_flags_parse(&f, argc, argv, why, sizeof(why)) != 0) {
		fprintf(stderr, "mirrorgate-reconciler: %s\n%s", why, mg_flags_usage);
		return 2;
	}
	if (f.version) {
		mg_cli_print_version(stdout, "mirrorgate-reconciler");
		return 0;
	}
	if (f.help) {
		fputs(mg_flags_usage, stdout);
		return 0;
	}
	enum mg_log_level lvl;
	if (mg_log_parse_level(f.log_level, &lvl) != 0) {
		fprintf(stderr, "mirrorgate-reconciler: bad --log-level %s\n", f.log_level);
		return 2;
	}
	mg_log_set_level(lvl);

	int status = 1;
	mg_config cfg = {0};
	mg_backends backends;
	bool have_backends = false;
	mg_k8s_config *kcfg = NULL;
	mg_k8s_client *kube = NULL;
	mg_rmetrics *metrics = NULL;
	mg_health *health = NULL;
	mg_manager *mgr = NULL;

	if (f.config && *f.config && mg_config_load(&cfg, f.config, why, sizeof(why)) != 0) {
		mg_error("bad configuration", "file", f.config, "why", why, NULL);
		goto out;
	}
	/* the flag (or MG_MODE) wins over the file's `mode:`; both were checked when parsed */
	enum mg_rec_mode mode = MG_MODE_AUTO;
	const char *mode_s = f.mode ? f.mode : cfg.mode[0] ? cfg.mode : "auto";
	mg_rec_mode_parse(mode_s, &mode);
	/* Every ONTAP write is fenced by the lease, and no request may outlast the time a
	 * freshly renewed leader is sure to lead (fence.h). */
	static mg_fence fence;
	long ontap_timeout = f.leader_elect ? mg_fence_write_timeout_ms(30000, f.renew_ms, f.retry_ms)
					    : 30000;
	if (mg_backends_init_fenced(&backends, &cfg, f.leader_elect ? &fence : NULL, ontap_timeout,
				    why, sizeof(why)) != 0) {
		mg_error("cannot set up the ONTAP backends", "why", why, NULL);
		goto out;
	}
	have_backends = true;
	int rc = f.kubeconfig && *f.kubeconfig
			 ? mg_k8s_config_from_kubeconfig(&kcfg, f.kubeconfig, f.context, why,
							 sizeof(why))
			 : mg_k8s_config_in_cluster(&kcfg, NULL);
	if (rc != 0) {
		mg_error("no Kubernetes configuration", "error", mg_strerror(rc), "why", why, NULL);
		goto out;
	}
	if ((rc = mg_k8s_client_new(&kube, kcfg)) != 0) {
		mg_error("Kubernetes client", "error", mg_strerror(rc), NULL);
		goto out;
	}
	/* names us in the API server's audit log (and kube-sim's request log) */
	mg_k8s_client_set_user_agent(kube, MG_RECONCILER_USER_AGENT);
	if (mg_rmetrics_new(&metrics) != 0)
		goto out;

	char identity[256];
	if (f.identity && *f.identity) {
		snprintf(identity, sizeof(identity), "%s", f.identity);
	} else {
		char host[128] = "reconciler";
		gethostname(host, sizeof(host) - 1);
		host[sizeof(host) - 1] = '\0';
		snprintf(identity, sizeof(identity), "%s-%ld", host, (long)getpid());
	}
	mg_manager_opts mo = {
		.kube = kube,
		.backends = &backends,
		.metrics = metrics,
		.ns = f.ns,
		.workers = f.workers,
		.refresh_ms = f.resync_ms,
		.queue = {.backoff_base_ms = f.backoff_base_ms, .backoff_cap_ms = f.backoff_cap_ms},
		.leader_elect = f.leader_elect,
		.leader = {.identity = identity, .lease_duration_ms = f.lease_ms,
			   .renew_deadline_ms = f.renew_ms, .retry_period_ms = f.retry_ms},
		.fence = f.leader_elect ? &fence : NULL,
		.lease_ns = f.lease_ns,
		.lease_name = f.lease_name,
		.topology_ms = f.topology_ms,
		.topology_ns = f.topology_ns,
		.watch_timeout_s = (long)(f.watch_timeout_ms / 1000),
		.mode = mode,
		.allow_beside_trident = f.allow_beside_trident,
		.trident_ns = f.trident_ns,
		.detect_ms = f.detect_ms,
		.backends_from_trident = f.backends_from_trident,
	};
	/* bench/reconciler's baseline, never for production: every read a GET and every
	 * request a new connection, as Trident's controller and this reconciler once did. */
	const char *baseline = getenv("MG_BENCH_BASELINE");
	if (baseline && strcmp(baseline, "1") == 0) {
		mo.no_cache = true;
		mg_k8s_client_set_reuse(kube, false);
		mg_warn("MG_BENCH_BASELINE=1: no cache, no connection reuse (benchmark only)", NULL);
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if ((rc = mg_manager_start(&mgr, &mo)) != 0) {
		mg_error("cannot start the controllers", "error", mg_strerror(rc), NULL);
		goto out;
	}
	mg_health_opts ho = {f.metrics_addr, metrics, mg_manager_ready, mgr};
	if ((rc = mg_health_start(&health, &ho)) != 0) {
		mg_error("cannot listen", "address", f.metrics_addr, "error", mg_strerror(rc), NULL);
		goto out;
	}
	char port[16];
	snprintf(port, sizeof(port), "%d", mg_health_port(health));
	mg_info("mirrorgate-reconciler started", "identity", identity, "metrics_port", port,
		"namespace", f.ns ? f.ns : "(all)", NULL);
	/* stdout line for tests and scripts that bind port 0 */
	printf("{\"metrics_port\":%s}\n", port);
	fflush(stdout);
	while (!g_stop) {
		struct timespec ts = {0, 100000000L};
		nanosleep(&ts, NULL);
	}
	mg_info("shutting down", NULL);
	status = 0;
out:
	mg_health_stop(health);
	mg_manager_stop(mgr);
	mg_rmetrics_free(metrics);
	mg_k8s_client_free(kube);
	mg_k8s_config_free(kcfg);
	if (have_backends)
		mg_backends_free(&backends);
	mg_config_free(&cfg);
	return status;
}
