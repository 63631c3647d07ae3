/* mirrorgate-webhook: parses the configuration and wires the modules together; the
 * behaviour lives in config.c, state.c, certs.c, server.c and handler.c. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "admission.h"
#include "arena.h"
#include "certs.h"
#include "config.h"
#include "handler.h"
#include "mirrorgate/util/cli.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/k8s/informer.h"
#include "mirrorgate/util/log.h"
#include "mirrorgate/util/tls.h"
#include "server.h"
#include "state.h"

static const char *env_lookup(const char *name)
{
	return getenv(name);
}

static void update_expiry(mg_wh_metrics *m, mg_certs *certs)
{
	mg_metric_set(m->cert_expiry, NULL, (double)mg_certs_not_after(certs));
}

static int load_certs(mg_certs **out, const mg_wh_config *cfg)
{
	const char *why = NULL;
	if (!cfg->self_signed) {
		int rc = mg_certs_from_files(out, cfg->tls_cert_file, cfg->tls_key_file, &why);
		if (rc) {
			mg_error("cannot load the serving certificate", "cert_file",
				 cfg->tls_cert_file, "key_file", cfg->tls_key_file, "reason",
				 why ? why : mg_strerror(rc), NULL);
			return rc;
		}
		/* No previous pair to fall back on: a pair the API server would refuse is an
		 * error at start, visible as a crash loop rather than as failing calls. */
		if ((rc = mg_certs_expect(*out, cfg->tls_server_name, cfg->tls_ca_file, &why))) {
			mg_error("the serving certificate would be refused by the API server",
				 "cert_file", cfg->tls_cert_file, "reason", why ? why : mg_strerror(rc),
				 NULL);
			mg_certs_free(*out);
			*out = NULL;
		}
		return rc;
	}
	/* The names a developer or an in-cluster Service would use. */
	static const char *const sans[] = {
		"DNS:localhost", "IP:127.0.0.1", "IP:::1", "DNS:mirrorgate-webhook",
		"DNS:mirrorgate-webhook.mirrorgate.svc",
		"DNS:mirrorgate-webhook.mirrorgate.svc.cluster.local"};
	char *ca = NULL;
	mg_strbuf b64 = MG_STRBUF_INIT;
	int rc = mg_certs_self_signed(out, &ca, sans, sizeof(sans) / sizeof(sans[0]));
	if (rc) {
		mg_error("cannot generate a self-signed certificate", "reason", mg_strerror(rc),
			 NULL);
		return rc;
	}
	if (cfg->ca_out && (rc = mg_write_file_atomic(cfg->ca_out, ca, strlen(ca), 0644))) {
		mg_error("cannot write the CA certificate", "ca_out", cfg->ca_out, "reason",
			 mg_strerror(rc), NULL);
		goto out;
	}
	if ((rc = mg_base64_encode(&b64, (const unsigned char *)ca, strlen(ca))))
		goto out;
	/* stdout, on purpose: this is the output a developer pastes into caBundle. */
	printf("caBundle: %s\n", b64.data);
	fflush(stdout);
out:
	if (rc) {
		mg_certs_free(*out);
		*out = NULL;
	}
	mg_strbuf_free(&b64);
	free(ca);
	return rc;
}

static void reload_certs(mg_certs *certs, mg_wh_metrics *m)
{
	bool changed = false;
	const char *why = NULL;
	int rc = mg_certs_reload(certs, &changed, &why);
	if (changed) {
		const char *l[] = {"success"};
		mg_metric_inc(m->cert_reloads, l, 1);
		update_expiry(m, certs);
		mg_info("serving certificate reloaded", NULL);
	} else if (rc && why) {
		const char *l[] = {"error"};
		mg_metric_inc(m->cert_reloads, l, 1);
		const char *reason = mg_certs_rejected(certs, NULL);
		mg_warn("serving certificate not reloaded, keeping the current one", "reason", why,
			"check", reason ? reason : "unreadable", NULL);
	}
	/* 1 for the reason the files on disk are refused, 0 for the others: alertable. */
	static const char *const reasons[] = {"invalid_pair",  "not_yet_valid", "expired",
					      "name_mismatch", "ca_unreadable", "untrusted_chain"};
	const char *now = mg_certs_rejected(certs, NULL);
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		const char *l[] = {reasons[i]};
		mg_metric_set(m->cert_rejected, l, now && strcmp(now, reasons[i]) == 0 ? 1 : 0);
	}
}

static int write_ready_file(const char *path, int port)
{
	char text[16];
	int n = snprintf(text, sizeof(text), "%d\n", port);
	return mg_write_file_atomic(path, text, (size_t)n, 0644);
}

/* Runs until SIGTERM/SIGINT, checking the certificate files between signals. */
static void wait_for_shutdown(const sigset_t *set, mg_certs *certs, mg_wh_metrics *m,
			      int interval)
{
	for (;;) {
		struct timespec ts = {interval, 0};
		siginfo_t info;
		int sig = sigtimedwait(set, &info, &ts);
		if (sig == SIGTERM || sig == SIGINT)
			return;
		if (sig < 0 && errno != EAGAIN && errno != EINTR)
			return;
		/* SIGHUP or the interval: look at the certificate files now. */
		reload_certs(certs, m);
	}
}

int main(int argc, char **argv)
{
	mg_wh_config cfg = {0};
	mg_wh_metrics metrics = {0};
	mg_store *store = NULL;
	mg_lookup_informer *informers = NULL;
	mg_certs *certs = NULL;
	mg_wh_server *srv = NULL;
	char *error = NULL;
	int exit_code = 1;
	enum mg_log_level level;

	if (mg_wh_config_parse(&cfg, argc, argv, env_lookup, &error)) {
		fprintf(stderr, "mirrorgate-webhook: %s\n", error ? error : "invalid configuration");
		free(error);
		return 2;
	}
	if (cfg.version) {
		mg_cli_print_version(stdout, "mirrorgate-webhook");
		mg_wh_config_free(&cfg);
		return 0;
	}
	if (cfg.help) {
		mg_wh_config_usage(stdout);
		mg_wh_config_free(&cfg);
		return 0;
	}
	if (mg_log_parse_level(cfg.log_level, &level)) {
		fprintf(stderr, "mirrorgate-webhook: --log-level: expected debug, info, warn or "
				"error, got \"%s\"\n",
			cfg.log_level);
		mg_wh_config_free(&cfg);
		return 2;
	}
	mg_log_set_level(level);

	/* Signals are taken synchronously by the main thread; blocking them first means
	 * libmicrohttpd's threads inherit the mask and never see them. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	mg_arena_install();
	if (mg_wh_metrics_init(&metrics))
		goto out;
	if (mg_wh_state_load(&store, cfg.state_dir, cfg.topology, &error)) {
		mg_error("cannot load the cluster state", "reason", error, NULL);
		goto out;
	}
	if (load_certs(&certs, &cfg))
		goto out;
	update_expiry(&metrics, certs);
	mg_certs_install(certs);

	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	mg_lookup lookup = mg_store_lookup(store);
	if (cfg.kubeconfig || cfg.in_cluster) {
		/* A NULL path is the in-cluster service account. /readyz waits for the sync. */
		char why[512] = "";
		mg_lookup_informer_opts lo = {.topology_ns = cfg.topology_namespace};
		if (mg_lookup_informer_from_kubeconfig(&informers, cfg.kubeconfig, NULL, &lo, why,
						       sizeof(why))) {
			mg_error("cannot watch the cluster", "kubeconfig",
				 cfg.kubeconfig ? cfg.kubeconfig : "(in-cluster)", "reason", why, NULL);
			goto out;
		}
		lookup = mg_lookup_informer_lookup(informers);
	}
	mg_wh_server_opts opts = {
		.address = cfg.address,
		.port = cfg.port,
		.threads = cfg.threads > 0 ? (unsigned)cfg.threads : (unsigned)(cpus > 0 ? cpus : 1),
		.max_connections = (unsigned)cfg.max_connections,
		.connection_timeout = (unsigned)cfg.connection_timeout,
		.max_per_client = (unsigned)cfg.max_connections_per_client,
		.header_timeout = (unsigned)cfg.header_timeout,
		.lookup = &lookup,
		.certs = certs,
		.metrics = &metrics,
	};
	const char *why = NULL;
	if (mg_wh_server_start(&srv, &opts, &why)) {
		char port[16];
		snprintf(port, sizeof(port), "%d", cfg.port);
		mg_error("cannot start the server", "address", cfg.address, "port", port, "reason",
			 why, NULL);
		goto out;
	}
	char port[16], threads[16];
	snprintf(port, sizeof(port), "%d", mg_wh_server_port(srv));
	snprintf(threads, sizeof(threads), "%u", opts.threads);
	if (cfg.ready_file && write_ready_file(cfg.ready_file, mg_wh_server_port(srv))) {
		mg_error("cannot write the ready file", "ready_file", cfg.ready_file, NULL);
		goto out;
	}
	mg_info("serving", "address", cfg.address, "port", port, "threads", threads, NULL);

	wait_for_shutdown(&set, certs, &metrics, cfg.cert_reload_interval);

	mg_info("shutting down: no new connections, finishing requests in progress", NULL);
	int left = mg_wh_server_drain(srv, cfg.shutdown_timeout);
	if (left) {
		char n[16];
		snprintf(n, sizeof(n), "%d", left);
		mg_warn("shutdown timeout: closing requests still in progress", "requests", n, NULL);
	}
	exit_code = 0;
out:
	mg_wh_server_free(srv);
	mg_lookup_informer_free(informers);
	mg_certs_free(certs);
	mg_store_free(store);
	mg_wh_metrics_free(&metrics);
	mg_wh_config_free(&cfg);
	free(error);
	if (exit_code == 0)
		mg_info("stopped", NULL);
	return exit_code;
}
