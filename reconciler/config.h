/* The reconciler's backend configuration file (mounted from a ConfigMap), e.g.
 *
 *   backends:
 *   - name: ontap-b
 *     managementLIF: https://10.0.0.2        # or host[:port]; https is implied
 *     svm: svm-b
 *     credentialsFile: /etc/mirrorgate/ontap-b/credentials   # from a Secret
 *     trustedCAFile: /etc/mirrorgate/ontap-b/ca.pem          # required: verifies ONTAP
 *     replicationPolicy: MirrorAllSnapshots                   # optional default
 *     replicationSchedule: 5min                               # optional default
 *
 * The credentials file holds `username: ...` and `password: ...` (YAML or JSON); it is read
 * at start and re-read whenever it changes (mg_backends_refresh), and never logged. */
#ifndef MG_RECONCILER_CONFIG_H
#define MG_RECONCILER_CONFIG_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "rctx.h"

typedef struct mg_backend_config {
	char name[128];
	char url[512];
	char svm[MG_ONTAP_NAME_MAX];
	char credentials_file[1024];
	char ca_file[1024];
	char policy[MG_ONTAP_NAME_MAX];
	char schedule[MG_ONTAP_NAME_MAX];
} mg_backend_config;

typedef struct mg_config {
	mg_backend_config *backends;
	size_t nbackends;
} mg_config;

/* Parses the file; on MG_EPARSE `why` says which backend and field is wrong. */
int mg_config_load(mg_config *out, const char *path, char *why, size_t why_len);
int mg_config_parse(mg_config *out, const char *text, size_t len, char *why, size_t why_len);
void mg_config_free(mg_config *cfg);

/* The live backends: ONTAP clients built from the configuration and the current
 * credentials. Controllers hold the read lock for a whole pass; a credentials change swaps
 * the client under the write lock. */
typedef struct mg_backends {
	pthread_rwlock_t lock;
	mg_backend *items;
	size_t len;
	mg_config cfg;
	struct timespec *cred_mtime; /* per backend, to notice rotations */
	long timeout_ms;
	struct mg_fence *fence; /* may_write of every client; NULL: unfenced */
} mg_backends;

/* Builds a client per backend. MG_EPARSE/MG_EIO with `why` when credentials are unreadable. */
int mg_backends_init(mg_backends *b, const mg_config *cfg, char *why, size_t why_len);
/* The same with every write fenced by `fence` (fence.h) and requests timing out after
 * timeout_ms (already capped with mg_fence_write_timeout_ms). */
struct mg_fence;
int mg_backends_init_fenced(mg_backends *b, const mg_config *cfg, struct mg_fence *fence,
			    long timeout_ms, char *why, size_t why_len);
/* Re-reads credentials files that changed; a file that cannot be read keeps the old client.
 * Returns how many clients were rebuilt. */
int mg_backends_refresh(mg_backends *b);
void mg_backends_free(mg_backends *b);

/* Reads `username`/`password` from a credentials file. Caller frees both (the password is
 * wiped first). */
int mg_credentials_read(const char *path, char **username, char **password, char *why,
			size_t why_len);

#endif
