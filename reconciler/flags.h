/* Command-line flags of mirrorgate-reconciler, in the convention of every mirrorgate binary
 * (mirrorgate/util/cli.h): MIRRORGATE_<FLAG> environment variables as fallbacks. */
#ifndef MG_RECONCILER_FLAGS_H
#define MG_RECONCILER_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mg_flags {
	const char *config;       /* --config (required) */
	const char *kubeconfig;   /* --kubeconfig / KUBECONFIG; NULL: in-cluster */
	const char *context;      /* --context */
	const char *ns;           /* --namespace: scope; NULL: all namespaces */
	unsigned workers;         /* --workers (2) */
	uint64_t resync_ms;       /* --resync-period (5m): refresh of settled TMRs */
	const char *metrics_addr; /* --metrics-addr (":8080") */
	bool leader_elect;        /* --leader-elect (true) */
	const char *lease_ns;     /* --lease-namespace (the client's namespace) */
	const char *lease_name;   /* --lease-name (mirrorgate-reconciler) */
	const char *identity;     /* --identity (hostname-pid) */
	uint64_t lease_ms, renew_ms, retry_ms; /* --lease-duration 15s --renew-deadline 10s
						* --retry-period 2s */
	uint64_t backoff_base_ms, backoff_cap_ms; /* --backoff-base 500ms --backoff-cap 5m */
	uint64_t topology_ms;     /* --topology-period (1m) */
	uint64_t watch_timeout_ms; /* --watch-timeout (5m): server-side watch duration */
	const char *log_level;    /* --log-level (info) */
	const char *mode;         /* --mode / MIRRORGATE_MODE: auto (default), controller, companion;
				   * NULL: the config file's `mode`, else auto */
	bool allow_beside_trident; /* --allow-controller-beside-trident: the documented override */
	const char *trident_ns;   /* --trident-namespace: where TridentVersion and the TBCs live
				   * (default: every namespace for detection, "trident" for TBCs) */
	bool backends_from_trident; /* --backends-from-trident: ONTAP backends from TBCs */
	uint64_t detect_ms;       /* --trident-detect-period (1m) */
	const char *topology_ns;  /* --topology-namespace (the Lease namespace) */
	bool help;
	bool version;
} mg_flags;

/* Parses argv. MG_EINVAL with a message in why. */
int mg_flags_parse(mg_flags *out, int argc, char **argv, char *why, size_t why_len);
/* "500ms", "15s", "5m", "1h", or plain seconds. */
int mg_duration_flag(const char *s, uint64_t *ms);
extern const char mg_flags_usage[];

#endif
