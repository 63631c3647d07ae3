/* mirrorgate-webhook configuration: defaults, then a --config file (YAML or JSON, keys are
 * the flag names without dashes), then MIRRORGATE_<FLAG> environment variables, then flags.
 * Later sources win. */
#ifndef MIRRORGATE_WEBHOOK_CONFIG_H
#define MIRRORGATE_WEBHOOK_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

typedef struct mg_wh_config {
	char *address;
	int port;               /* 0: pick a free port */
	char *tls_cert_file;
	char *tls_key_file;
	char *tls_server_name;
	char *tls_ca_file;
	bool self_signed;
	char *ca_out;
	char *ready_file;
	char *state_dir;
	char *topology;
	char *topology_namespace; /* informer: where the topology ConfigMap lives */
	char *kubeconfig;
	bool in_cluster;
	char *log_level;
	char *config;
	int threads;            /* libmicrohttpd worker threads; 0: one per CPU */
	int max_connections;
	int max_connections_per_client;
	int connection_timeout; /* seconds a connection may stay idle, and a body may take */
	int header_timeout;     /* seconds from accept to the first request's headers */
	int cert_reload_interval; /* seconds between certificate file checks */
	int shutdown_timeout;   /* seconds in-flight requests get after SIGTERM */
	bool help;
	bool version;
} mg_wh_config;

/* An environment lookup (getenv in production; tests pass their own). */
typedef const char *(*mg_env_fn)(const char *name);

/* Parses argv (argv[0] is the program name) and the environment. On failure returns
 * MG_EINVAL (or MG_ENOMEM, MG_EPARSE, MG_ENOTFOUND for the config file) and *error holds a
 * message naming the flag (caller frees). On success with --help (--version), out->help
 * (out->version) is set and the caller prints mg_wh_config_usage() (the version).
 * The flag convention is that of every mirrorgate binary: mirrorgate/util/cli.h. */
int mg_wh_config_parse(mg_wh_config *out, int argc, char *const *argv, mg_env_fn env,
		       char **error);
void mg_wh_config_usage(FILE *f);
void mg_wh_config_free(mg_wh_config *cfg);

#endif
