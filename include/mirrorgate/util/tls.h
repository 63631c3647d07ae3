/* Certificates with OpenSSL: generate a CA and leaf certificates (for --self-signed mode,
 * the simulators and the tests, which make their own and never commit keys), and inspect
 * PEM files (expiry, key match). */
#ifndef MIRRORGATE_TLS_H
#define MIRRORGATE_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

typedef struct mg_pem_pair {
	char *cert_pem; /* owned, NUL-terminated PEM */
	char *key_pem;  /* owned, NUL-terminated PKCS#8 PEM; never logged */
} mg_pem_pair;

/* A self-signed CA (ECDSA P-256), valid from one hour ago for `days` days. */
int mg_tls_make_ca(mg_pem_pair *out, const char *common_name, int days);

/* A leaf certificate signed by `ca`. `sans` are "DNS:name" or "IP:addr" strings. With
 * `client` the extended key usage is clientAuth, otherwise serverAuth. */
int mg_tls_make_leaf(mg_pem_pair *out, const mg_pem_pair *ca, const char *common_name,
		     const char *const *sans, size_t nsans, int days, bool client);

/* The same with a validity window relative to now, in seconds (negative: in the past):
 * for tests of not-yet-valid and expired certificates. */
int mg_tls_make_leaf_window(mg_pem_pair *out, const mg_pem_pair *ca, const char *common_name,
			    const char *const *sans, size_t nsans, long not_before_s,
			    long not_after_s, bool client);

/* notAfter of the first certificate in `cert_pem`. */
int mg_tls_cert_not_after(const char *cert_pem, time_t *out);
/* 0 when `key_pem` is the private key of the first certificate in `cert_pem`. */
int mg_tls_check_pair(const char *cert_pem, const char *key_pem);

void mg_pem_pair_free(mg_pem_pair *pair);

/* Certificates are files: mg_read_file and mg_write_file_atomic live in file.h. */
#include "mirrorgate/util/file.h"

#endif
