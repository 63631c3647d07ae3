#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "mirrorgate/core/doc.h"
#include "mirrorgate/util/cli.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/util/strbuf.h"
#include "mirrorgate/util/tls.h"

#define MAX_CONFIG_BYTES (1024 * 1024)

enum opt_type { OPT_STR, OPT_INT, OPT_BOOL };

typedef struct opt {
	const char *name;
	enum opt_type type;
	size_t offset;
	int min, max; /* OPT_INT */
	const char *def;
	const char *help;
} opt;

#define F(field) offsetof(mg_wh_config, field)

static const opt g_opts[] = {
	{"address", OPT_STR, F(address), 0, 0, "0.0.0.0", "listen address"},
	{"port", OPT_INT, F(port), 0, 65535, "8443", "listen port; 0 picks a free port"},
	{"tls-cert-file", OPT_STR, F(tls_cert_file), 0, 0, NULL,
	 "serving certificate (PEM, chain allowed); reloaded when it changes"},
	{"tls-key-file", OPT_STR, F(tls_key_file), 0, 0, NULL, "private key of the certificate (PEM)"},
	{"tls-server-name", OPT_STR, F(tls_server_name), 0, 0, NULL,
	 "host name the API server connects to (<service>.<namespace>.svc); a certificate "
	 "without it among its SANs is not installed"},
	{"tls-ca-file", OPT_STR, F(tls_ca_file), 0, 0, NULL,
	 "the caBundle CA (PEM); a certificate that does not chain to it is not installed"},
	{"self-signed", OPT_BOOL, F(self_signed), 0, 0, "false",
	 "generate a CA and serving certificate in memory and print the caBundle"},
	{"ca-out", OPT_STR, F(ca_out), 0, 0, NULL, "with --self-signed: write the CA PEM here"},
	{"ready-file", OPT_STR, F(ready_file), 0, 0, NULL,
	 "write the bound port to this file once serving"},
	{"state-dir", OPT_STR, F(state_dir), 0, 0, NULL,
	 "directory of YAML/JSON objects used as the cluster state"},
	{"topology", OPT_STR, F(topology), 0, 0, NULL, "ONTAP topology file (YAML or JSON)"},
	{"topology-namespace", OPT_STR, F(topology_namespace), 0, 0, NULL,
	 "with --in-cluster/--kubeconfig: namespace of the mirrorgate-topology ConfigMap the "
	 "reconciler publishes (default: the webhook's own namespace)"},
	{"kubeconfig", OPT_STR, F(kubeconfig), 0, 0, NULL,
	 "watch the cluster through this kubeconfig (informer-backed lookups)"},
	{"in-cluster", OPT_BOOL, F(in_cluster), 0, 0, "false",
	 "watch the cluster with the pod's service account"},
	{"log-level", OPT_STR, F(log_level), 0, 0, "info", "debug, info, warn or error"},
	{"config", OPT_STR, F(config), 0, 0, NULL,
	 "YAML/JSON file of settings, keys named like these flags"},
	{"threads", OPT_INT, F(threads), 0, 256, "0", "worker threads; 0 means one per CPU"},
	{"max-connections", OPT_INT, F(max_connections), 1, 100000, "512",
	 "concurrent connections; more are refused"},
	{"max-connections-per-client", OPT_INT, F(max_connections_per_client), 1, 100000, "128",
	 "concurrent connections from one client IP; beyond it the client's own oldest idle "
	 "connection is closed, or the new one refused"},
	{"connection-timeout", OPT_INT, F(connection_timeout), 1, 3600, "30",
	 "seconds a connection may stay idle, and seconds a request's body may take"},
	{"header-timeout", OPT_INT, F(header_timeout), 1, 600, "10",
	 "seconds from connecting to the end of the first request's headers, TLS handshake "
	 "included"},
	{"cert-reload-interval", OPT_INT, F(cert_reload_interval), 1, 3600, "5",
	 "seconds between checks of the certificate files"},
	{"shutdown-timeout", OPT_INT, F(shutdown_timeout), 1, 300, "10",
	 "seconds in-flight requests get to finish after SIGTERM"},
};

#define NOPTS (sizeof(g_opts) / sizeof(g_opts[0]))

static int fail(char **error, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(char **error, const char *fmt, ...)
{
	mg_strbuf sb = MG_STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	mg_strbuf_vprintf(&sb, fmt, ap);
	va_end(ap);
	free(*error);
	*error = NULL;
	if (mg_strbuf_detach(&sb, error))
		*error = NULL;
	mg_strbuf_free(&sb);
	return MG_EINVAL;
}

/* Sets one option from its text form; `source` names where it came from for messages. */
static int set_opt(mg_wh_config *cfg, const opt *o, const char *value, const char *source,
		   char **error)
{
	void *field = (char *)cfg + o->offset;
	if (o->type == OPT_STR) {
		char *copy = mg_strdup(value);
		if (!copy)
			return MG_ENOMEM;
		free(*(char **)field);
		*(char **)field = copy;
		return 0;
	}
	if (o->type == OPT_BOOL) {
		if (mg_cli_parse_bool(value, (bool *)field))
			return fail(error, "%s: expected true or false, got \"%s\"", source, value);
		return 0;
	}
	char *end = NULL;
	errno = 0;
	long n = strtol(value, &end, 10);
	if (errno || end == value || *end || n < o->min || n > o->max) {
		return fail(error, "%s: expected an integer from %d to %d, got \"%s\"", source,
			    o->min, o->max, value);
	}
	*(int *)field = (int)n;
	return 0;
}

static const opt *find_opt(const char *name, size_t len)
{
	for (size_t i = 0; i < NOPTS; i++) {
		if (strlen(g_opts[i].name) == len && strncmp(g_opts[i].name, name, len) == 0)
			return &g_opts[i];
	}
	return NULL;
}

static int load_file(mg_wh_config *cfg, const char *path, char **error)
{
	char *data = NULL;
	size_t len = 0;
	mg_doc_list docs = {0};
	mg_parse_error perr = {0};
	int rc = mg_read_file(path, MAX_CONFIG_BYTES, &data, &len);
	if (rc) {
		*error = mg_asprintf("--config %s: %s", path, mg_strerror(rc));
		return rc;
	}
	if ((rc = mg_doc_parse_yaml(&docs, data, len, &perr))) {
		*error = mg_asprintf("--config %s:%d: %s", path, perr.line, perr.message);
		goto out;
	}
	rc = MG_EINVAL;
	if (docs.len != 1 || !cJSON_IsObject(docs.items[0].root)) {
		*error = mg_asprintf("--config %s: expected one mapping of setting: value", path);
		goto out;
	}
	const cJSON *item;
	cJSON_ArrayForEach(item, docs.items[0].root) {
		const opt *o = find_opt(item->string, strlen(item->string));
		char num[32];
		const char *value = NULL;
		int line = mg_doc_line_of(&docs.items[0], item);
		if (!o || strcmp(o->name, "config") == 0) {
			*error = mg_asprintf("--config %s:%d: unknown setting \"%s\"", path, line,
					     item->string);
			rc = MG_EINVAL;
			goto out;
		}
		if (cJSON_IsString(item)) {
			value = item->valuestring;
		} else if (cJSON_IsBool(item)) {
			value = cJSON_IsTrue(item) ? "true" : "false";
		} else if (cJSON_IsNumber(item)) {
			snprintf(num, sizeof(num), "%.17g", item->valuedouble);
			value = num;
		} else {
			*error = mg_asprintf("--config %s:%d: %s must be a scalar", path, line,
					     item->string);
			rc = MG_EINVAL;
			goto out;
		}
		char *source = mg_asprintf("--config %s:%d: %s", path, line, o->name);
		if (!source) {
			rc = MG_ENOMEM;
			goto out;
		}
		rc = set_opt(cfg, o, value, source, error);
		free(source);
		if (rc)
			goto out;
	}
	rc = 0;
out:
	mg_doc_list_free(&docs);
	free(data);
	return rc;
}

/* Finds --config in argv or the environment (it must be read before the others). */
static const char *config_path(int argc, char *const *argv, mg_env_fn env)
{
	const char *path = env ? env("MIRRORGATE_CONFIG") : NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			path = argv[i + 1];
		else if (strncmp(argv[i], "--config=", 9) == 0)
			path = argv[i] + 9;
	}
	return path;
}

/* The flags through getopt_long, as every mirrorgate binary parses them
 * (mirrorgate/util/cli.h): each table entry is an option whose value is its index. */
enum { OPT_HELP = 1000, OPT_VERSION, OPT_FIRST = 2000 }; /* clear of '?' and ':' */

static int parse_flags(mg_wh_config *cfg, int argc, char *const *argv, char **error)
{
	struct option longopts[NOPTS + 3];
	for (size_t i = 0; i < NOPTS; i++)
		longopts[i] = (struct option){g_opts[i].name,
					      g_opts[i].type == OPT_BOOL ? optional_argument
									 : required_argument,
					      NULL, OPT_FIRST + (int)i};
	longopts[NOPTS] = (struct option){"help", no_argument, NULL, OPT_HELP};
	longopts[NOPTS + 1] = (struct option){"version", no_argument, NULL, OPT_VERSION};
	longopts[NOPTS + 2] = (struct option){NULL, 0, NULL, 0};
	optind = 1;
	opterr = 0;
	int c;
	/* '+': stop at the first non-flag (reported below); ':': tell a missing value apart */
	while ((c = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
		if (c == 'h' || c == OPT_HELP) {
			cfg->help = true;
			continue;
		}
		if (c == OPT_VERSION) {
			cfg->version = true;
			continue;
		}
		if (c == ':')
			return fail(error, "flag %s needs a value", argv[optind - 1]);
		if (c < OPT_FIRST || (size_t)(c - OPT_FIRST) >= NOPTS) {
			const char *arg = argv[optind - 1];
			return fail(error, "unknown flag \"%.*s\" (see --help)",
				    (int)strcspn(arg, "="), arg);
		}
		const opt *o = &g_opts[c - OPT_FIRST];
		const char *value = optarg;
		if (!value && o->type == OPT_BOOL)
			value = mg_cli_bool_value(argc, argv, &optind);
		char *source = mg_asprintf("--%s", o->name);
		if (!source)
			return MG_ENOMEM;
		int rc = set_opt(cfg, o, value, source, error);
		free(source);
		if (rc)
			return rc;
	}
	if (optind < argc)
		return fail(error, "unexpected argument \"%s\" (see --help)", argv[optind]);
	return 0;
}

static int check(mg_wh_config *cfg, char **error)
{
	if (cfg->help || cfg->version)
		return 0;
	if (cfg->kubeconfig && cfg->in_cluster)
		return fail(error, "--kubeconfig and --in-cluster are exclusive");
	if ((cfg->kubeconfig || cfg->in_cluster) && cfg->state_dir)
		return fail(error, "--state-dir is for running without a cluster; it cannot be "
				   "combined with --kubeconfig or --in-cluster");
	if (cfg->self_signed && (cfg->tls_cert_file || cfg->tls_key_file))
		return fail(error, "--self-signed and --tls-cert-file/--tls-key-file are exclusive");
	if (!cfg->self_signed && (!cfg->tls_cert_file || !cfg->tls_key_file))
		return fail(error, "a serving certificate is required: --tls-cert-file and "
				   "--tls-key-file, or --self-signed");
	if (cfg->ca_out && !cfg->self_signed)
		return fail(error, "--ca-out only applies with --self-signed");
	return 0;
}

int mg_wh_config_parse(mg_wh_config *out, int argc, char *const *argv, mg_env_fn env,
		       char **error)
{
	mg_wh_config cfg = {0};
	int rc = 0;
	*error = NULL;
	for (size_t i = 0; i < NOPTS && !rc; i++) {
		if (g_opts[i].def)
			rc = set_opt(&cfg, &g_opts[i], g_opts[i].def, g_opts[i].name, error);
	}
	if (rc)
		goto out;
	const char *path = config_path(argc, argv, env);
	if (path && (rc = load_file(&cfg, path, error)))
		goto out;
	for (size_t i = 0; env && i < NOPTS; i++) {
		char name[96];
		if (!mg_cli_env_name(name, sizeof(name), g_opts[i].name)) {
			rc = MG_EINVAL;
			goto out;
		}
		const char *value = env(name);
		if (value && (rc = set_opt(&cfg, &g_opts[i], value, name, error)))
			goto out;
	}
	if ((rc = parse_flags(&cfg, argc, argv, error)))
		goto out;
	if ((rc = check(&cfg, error)))
		goto out;
	*out = cfg;
	return 0;
out:
	mg_wh_config_free(&cfg);
	if (!*error)
		*error = mg_asprintf("%s", mg_strerror(rc));
	return rc;
}

void mg_wh_config_usage(FILE *f)
{
	fprintf(f, "Usage: mirrorgate-webhook [flags]\n\n"
		   "Admission webhook for Trident SnapMirror resources (TMR, TAMU, TSI), PVCs and\n"
		   "StorageClasses. Serves POST /validate and /mutate (AdmissionReview v1) and\n"
		   "GET /healthz, /readyz, /metrics over HTTPS.\n\n"
		   "Every flag can also be set as MIRRORGATE_<FLAG> in the environment (for example\n"
		   "MIRRORGATE_PORT=9443) or as \"flag-name: value\" in the --config file;\n"
		   "flags win over the environment, which wins over the file.\n\nFlags:\n");
	for (size_t i = 0; i < NOPTS; i++) {
		const opt *o = &g_opts[i];
		const char *arg = o->type == OPT_INT ? " N" : o->type == OPT_STR ? " VALUE" : "";
		char left[64];
		snprintf(left, sizeof(left), "--%s%s", o->name, arg);
		fprintf(f, "  %-28s %s", left, o->help);
		if (o->def && o->type != OPT_BOOL)
			fprintf(f, " (default %s)", o->def);
		fputc('\n', f);
	}
	fprintf(f, "  %-28s %s\n", "--version", "print the version and exit");
	fprintf(f, "  %-28s %s\n", "--help", "print this help and exit");
}

void mg_wh_config_free(mg_wh_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < NOPTS; i++) {
		if (g_opts[i].type == OPT_STR) {
			char **field = (char **)((char *)cfg + g_opts[i].offset);
			free(*field);
			*field = NULL;
		}
	}
}
