/* The serving certificate, as libmicrohttpd's GnuTLS back end sees it: a key pair loaded
 * from PEM files (reloaded when the files change, as cert-manager and Secret volume
 * rotation replace them) or generated in memory (--self-signed). Each new TLS handshake
 * asks mg_certs_retrieve() for the current pair, so a rotation takes effect on the next
 * connection without a restart. */
#ifndef MIRRORGATE_WEBHOOK_CERTS_H
#define MIRRORGATE_WEBHOOK_CERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

/* A retired pair is freed this long after it was replaced: far longer than the one
 * handshake flight in which GnuTLS uses it. */
#define MG_CERTS_GRACE_SECONDS 120
#define MG_CERTS_MAX_PEM (256 * 1024)

typedef struct mg_certs mg_certs;

/* Loads a pair from files. Fails (MG_ENOTFOUND, MG_EPARSE, MG_ETLS) when the files are
 * missing, unreadable or do not match; *why then says which, for the operator. */
int mg_certs_from_files(mg_certs **out, const char *cert_file, const char *key_file,
			const char **why);
/* Generates a CA and a serving certificate for `sans` ("DNS:x", "IP:y"); *ca_pem receives
 * the CA certificate (caller frees) for the webhook configuration's caBundle. */
int mg_certs_self_signed(mg_certs **out, char **ca_pem, const char *const *sans, size_t nsans);

/* Re-reads the files when loaded from files; swaps in the new pair when the bytes changed
 * and the pair is valid (a matching key, and what mg_certs_expect set), keeps the old one
 * otherwise. *changed tells whether it swapped.
 * Also frees retired pairs past their grace period. On failure *why says why, or is NULL
 * when these same bytes already failed at an earlier call (so a bad file is logged once). */
int mg_certs_reload(mg_certs *certs, bool *changed, const char **why);

/* Sets what the API server will check, and checks the current pair against it: from now on
 * a reloaded pair is refused (the current one keeps serving) when it is not yet valid,
 * expired, lacks server_name among its SANs (when non-NULL), or does not chain to the CA
 * in ca_file (when non-NULL; re-read at every check, as the CA rotates too). Returns MG_ETLS
 * with *why when the current pair already fails. */
int mg_certs_expect(mg_certs *certs, const char *server_name, const char *ca_file,
		    const char **why);
/* Why the certificate files on disk are not being served: a metric label (invalid_pair,
 * not_yet_valid, expired, name_mismatch, ca_unreadable, untrusted_chain) and, in *why, a
 * sentence; NULL when the files are what is served. */
const char *mg_certs_rejected(mg_certs *certs, const char **why);

/* notAfter of the current serving certificate. */
time_t mg_certs_not_after(mg_certs *certs);

/* Makes `certs` the source mg_certs_retrieve() serves from (NULL to clear). GnuTLS's
 * retrieve callback carries no closure and libmicrohttpd owns the session pointer, so
 * this one process-wide slot is the only way in; one server per process. */
void mg_certs_install(mg_certs *certs);

/* gnutls_certificate_retrieve_function2 for MHD_OPTION_HTTPS_CERT_CALLBACK. */
int mg_certs_retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_rdn, int nreqs,
		      const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
		      gnutls_pcert_st **pcert, unsigned int *pcert_length,
		      gnutls_privkey_t *privkey);

void mg_certs_free(mg_certs *certs);

#endif
