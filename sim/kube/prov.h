/* kube-sim's built-in provisioner ("kube-sim as a cluster"): a controller thread that does
 * what Trident's CSI controller plus the external-provisioner and external-snapshotter
 * sidecars do against ONTAP (ontap-sim), so that tests get PVs, DP volumes and snapshot
 * handles the way a real cluster makes them (docs/kube-sim.md, "Provisioner"). */
#ifndef KSIM_PROV_H
#define KSIM_PROV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "ksim.h"
#include "mirrorgate/ontap/client.h"

#define KSIM_TRIDENT_DRIVER "csi.trident.netapp.io"
#define KSIM_DEFAULT_PREFIX "trident_"

typedef struct ksim_prov_backend_cfg {
	char name[128];
	char url[512];
	char svm[MG_ONTAP_NAME_MAX];
	char username[128];
	char *password; /* owned; wiped on free; never logged */
	char ca_file[1024];
	char prefix[128]; /* storagePrefix */
} ksim_prov_backend_cfg;

typedef struct ksim_prov_config {
	ksim_prov_backend_cfg *backends;
	size_t nbackends;
	long retry_base_ms;   /* first backoff after a failure */
	long retry_cap_ms;    /* backoff cap */
	long resync_ms;       /* pass at least this often without store changes */
	long ontap_timeout_ms; /* per ONTAP HTTP request */
} ksim_prov_config;

/* Reads and checks the --provisioner file; on error `why` names the field. */
int ksim_prov_config_load(ksim_prov_config *out, const char *path, char *why, size_t why_len);
int ksim_prov_config_parse(ksim_prov_config *out, const char *text, size_t len, char *why,
			   size_t why_len);
void ksim_prov_config_free(ksim_prov_config *cfg);

/* Kubernetes resource.Quantity to bytes (rounded up): "1Gi", "500M", "1.5G", "1e9". */
int ksim_parse_quantity(uint64_t *out, const char *s);

typedef struct ksim_prov ksim_prov;

int ksim_prov_start(ksim_prov **out, ksim_server *srv, const ksim_prov_config *cfg, char *why,
		    size_t why_len);
/* Stops and joins the thread; the server's store must still exist. NULL is a no-op. */
void ksim_prov_stop(ksim_prov *p);

#endif
