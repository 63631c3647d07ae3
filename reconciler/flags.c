#include "flags.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirrorgate/reconcile/trident.h"
#include "mirrorgate/util/cli.h"
#include "mirrorgate/util/err.h"

const char mg_flags_usage[] =
	"usage: mirrorgate-reconciler --config FILE | --backends-from-trident [options]\n"
	"Every flag can also be set as MIRRORGATE_<FLAG> in the environment (for example\n"
	"MIRRORGATE_LEASE_NAMESPACE=mirrorgate); a flag on the command line wins.\n"
	"  --config FILE            backends (YAML; see docs/operations.md)\n"
	"  --mode MODE              auto (default: from Trident's objects), controller or\n"
	"                           companion; see docs/deploying-with-trident.md\n"
	"  --allow-controller-beside-trident\n"
	"                           act as controller although Trident's mirror controller is\n"
	"                           active (two writers: only while Trident's is stopped)\n"
	"  --backends-from-trident  ONTAP backends from Trident's TridentBackendConfigs\n"
	"  --trident-namespace NS   Trident's namespace (TBCs and their Secrets; default trident)\n"
	"  --trident-detect-period DUR  re-detection of Trident (default 1m)\n"
	"  --kubeconfig FILE        kubeconfig (or KUBECONFIG); default: in-cluster service account\n"
	"  --context NAME           kubeconfig context\n"
	"  --namespace NS           watch one namespace (default: all)\n"
	"  --workers N              parallel reconciles (default 2)\n"
	"  --resync-period DUR      refresh of settled relationships: lag, health (default 5m)\n"
	"  --metrics-addr ADDR      /healthz /readyz /metrics listener (default :8080)\n"
	"  --leader-elect[=BOOL]    run leader election (default true)\n"
	"  --lease-namespace NS     Lease namespace (default: the client's namespace)\n"
	"  --lease-name NAME        Lease name (default mirrorgate-reconciler)\n"
	"  --identity ID            this replica's identity (default hostname-pid; the manifests\n"
	"                           set MIRRORGATE_IDENTITY to the pod name)\n"
	"  --lease-duration DUR     (default 15s)\n"
	"  --renew-deadline DUR     (default 10s)\n"
	"  --retry-period DUR       (default 2s)\n"
	"  --backoff-base DUR       first retry delay (default 500ms)\n"
	"  --backoff-cap DUR        longest retry delay (default 5m)\n"
	"  --topology-period DUR    refresh of the mirrorgate-topology ConfigMap (default 1m)\n"
	"  --topology-namespace NS  where that ConfigMap is published (default: the Lease's)\n"
	"  --watch-timeout DUR      server-side length of each watch before it is resumed (5m)\n"
	"  --log-level LEVEL        debug, info, warn, error (default info)\n"
	"  --version                print the version and exit\n"
	"  --help                   print this help and exit\n";

int mg_duration_flag(const char *s, uint64_t *ms)
{
	if (!s || !*s)
		return MG_EINVAL;
	char *end = NULL;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || v < 0 || v > 1e9)
		return MG_EINVAL;
	double mult;
	if (strcmp(end, "ms") == 0)
		mult = 1;
	else if (strcmp(end, "s") == 0 || *end == '\0')
		mult = 1000;
	else if (strcmp(end, "m") == 0)
		mult = 60000;
	else if (strcmp(end, "h") == 0)
		mult = 3600000;
	else
		return MG_EINVAL;
	*ms = (uint64_t)(v * mult);
	return 0;
}

enum { O_CONFIG = 1, O_KUBECONFIG, O_CONTEXT, O_NS, O_WORKERS, O_RESYNC, O_METRICS, O_LE,
       O_LNS, O_LNAME, O_ID, O_LDUR, O_RDL, O_RETRY, O_BBASE, O_BCAP, O_LOG, O_TOPO, O_WTO,
       O_TNS, O_HELP, O_VERSION, O_MODE, O_ALLOW, O_TRIDENT_NS, O_TBC, O_DETECT };

static const struct option k_opts[] = {
	{"config", required_argument, NULL, O_CONFIG},
	{"kubeconfig", required_argument, NULL, O_KUBECONFIG},
	{"context", required_argument, NULL, O_CONTEXT},
	{"namespace", required_argument, NULL, O_NS},
	{"workers", required_argument, NULL, O_WORKERS},
	{"resync-period", required_argument, NULL, O_RESYNC},
	{"metrics-addr", required_argument, NULL, O_METRICS},
	{"leader-elect", optional_argument, NULL, O_LE},
	{"lease-namespace", required_argument, NULL, O_LNS},
	{"lease-name", required_argument, NULL, O_LNAME},
	{"identity", required_argument, NULL, O_ID},
	{"lease-duration", required_argument, NULL, O_LDUR},
	{"renew-deadline", required_argument, NULL, O_RDL},
	{"retry-period", required_argument, NULL, O_RETRY},
	{"backoff-base", required_argument, NULL, O_BBASE},
	{"backoff-cap", required_argument, NULL, O_BCAP},
	{"log-level", required_argument, NULL, O_LOG},
	{"topology-period", required_argument, NULL, O_TOPO},
	{"watch-timeout", required_argument, NULL, O_WTO},
	{"topology-namespace", required_argument, NULL, O_TNS},
	{"mode", required_argument, NULL, O_MODE},
	{"allow-controller-beside-trident", optional_argument, NULL, O_ALLOW},
	{"trident-namespace", required_argument, NULL, O_TRIDENT_NS},
	{"backends-from-trident", optional_argument, NULL, O_TBC},
	{"trident-detect-period", required_argument, NULL, O_DETECT},
	{"help", no_argument, NULL, O_HELP},
	{"version", no_argument, NULL, O_VERSION},
	{NULL, 0, NULL, 0},
};

/* Sets one flag from its text; true when the value is bad. */
static bool set_flag(mg_flags *f, int code, const char *v)
{
	bool bad = false;
	switch (code) {
	case O_CONFIG: f->config = v; break;
	case O_KUBECONFIG: f->kubeconfig = v; break;
	case O_CONTEXT: f->context = v; break;
	case O_NS: f->ns = *v ? v : NULL; break;
	case O_WORKERS: {
		char *end = NULL;
		errno = 0;
		long n = strtol(v, &end, 10);
		bad = errno || end == v || *end || n < 1 || n > 32;
		f->workers = bad ? f->workers : (unsigned)n;
		break;
	}
	case O_RESYNC: bad = mg_duration_flag(v, &f->resync_ms); break;
	case O_METRICS: f->metrics_addr = v; break;
	case O_LE: bad = mg_cli_parse_bool(v, &f->leader_elect); break;
	case O_LNS: f->lease_ns = *v ? v : NULL; break;
	case O_LNAME: f->lease_name = v; break;
	case O_ID: f->identity = v; break;
	case O_LDUR: bad = mg_duration_flag(v, &f->lease_ms); break;
	case O_RDL: bad = mg_duration_flag(v, &f->renew_ms); break;
	case O_RETRY: bad = mg_duration_flag(v, &f->retry_ms); break;
	case O_BBASE: bad = mg_duration_flag(v, &f->backoff_base_ms); break;
	case O_BCAP: bad = mg_duration_flag(v, &f->backoff_cap_ms); break;
	case O_LOG: f->log_level = v; break;
	case O_TOPO: bad = mg_duration_flag(v, &f->topology_ms) || !f->topology_ms; break;
	case O_WTO:
		bad = mg_duration_flag(v, &f->watch_timeout_ms) || f->watch_timeout_ms < 1000 ||
		      f->watch_timeout_ms > 3600000;
		break;
	case O_TNS: f->topology_ns = *v ? v : NULL; break;
	case O_MODE: {
		enum mg_rec_mode m;
		bad = mg_rec_mode_parse(v, &m) != 0;
		f->mode = v;
		break;
	}
	case O_ALLOW: bad = v && mg_cli_parse_bool(v, &f->allow_beside_trident); if (!v) f->allow_beside_trident = true; break;
	case O_TRIDENT_NS: f->trident_ns = v; bad = !*v; break;
	case O_TBC: bad = v && mg_cli_parse_bool(v, &f->backends_from_trident); if (!v) f->backends_from_trident = true; break;
	case O_DETECT: bad = mg_duration_flag(v, &f->detect_ms) || f->detect_ms < 100; break;
	default: bad = true; break;
	}
	return bad;
}

int mg_flags_parse(mg_flags *f, int argc, char **argv, char *why, size_t why_len)
{
	memset(f, 0, sizeof(*f));
	/* KUBECONFIG, as kubectl reads it; MIRRORGATE_KUBECONFIG below wins over it */
	f->kubeconfig = getenv("KUBECONFIG");
	f->workers = 2;
	f->resync_ms = 300000;
	f->metrics_addr = ":8080";
	f->leader_elect = true;
	f->lease_ms = 15000;
	f->renew_ms = 10000;
	f->retry_ms = 2000;
	f->backoff_base_ms = 500;
	f->backoff_cap_ms = 300000;
	f->log_level = "info";
	f->topology_ms = 60000;
	f->watch_timeout_ms = 300000;
	f->detect_ms = 60000;
	/* MIRRORGATE_<FLAG> first, so that the command line wins */
	for (const struct option *o = k_opts; o->name; o++) {
		char env[96];
		const char *v;
		if (o->has_arg == no_argument || !mg_cli_env_name(env, sizeof(env), o->name) ||
		    !(v = getenv(env)))
			continue;
		if (set_flag(f, o->val, v)) {
			snprintf(why, why_len, "bad value for %s: %s", env, v);
			return MG_EINVAL;
		}
	}
	optind = 1;
	opterr = 0;
	int c, idx = -1;
	while ((c = getopt_long(argc, argv, "+:", k_opts, &idx)) != -1) {
		char name[64];
		if (c != '?' && c != ':' && idx >= 0)
			snprintf(name, sizeof(name), "--%s", k_opts[idx].name);
		else
			snprintf(name, sizeof(name), "%s",
				 optind > 0 && optind <= argc ? argv[optind - 1] : "?");
		idx = -1;
		if (c == O_HELP) {
			f->help = true;
			return 0;
		}
		if (c == O_VERSION) {
			f->version = true;
			return 0;
		}
		if (c == '?' || c == ':') {
			snprintf(why, why_len, "unknown or incomplete option %s", name);
			return MG_EINVAL;
		}
		const char *v = optarg;
		if (!v && (c == O_LE || c == O_ALLOW || c == O_TBC))
			v = mg_cli_bool_value(argc, argv, &optind);
		if (set_flag(f, c, v)) {
			snprintf(why, why_len, "bad value for %s: %s", name, v);
			return MG_EINVAL;
		}
	}
	if (optind < argc) {
		snprintf(why, why_len, "unexpected argument %s", argv[optind]);
		return MG_EINVAL;
	}
	if ((!f->config || !*f->config) && !f->backends_from_trident) {
		snprintf(why, why_len, "--config or --backends-from-trident is required");
		return MG_EINVAL;
	}
	if (!(f->retry_ms < f->renew_ms && f->renew_ms < f->lease_ms)) {
		snprintf(why, why_len, "need --retry-period < --renew-deadline < --lease-duration");
		return MG_EINVAL;
	}
	if (f->backoff_base_ms == 0 || f->backoff_cap_ms < f->backoff_base_ms) {
		snprintf(why, why_len, "need 0 < --backoff-base <= --backoff-cap");
		return MG_EINVAL;
	}
	return 0;
}
