#include "certs.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/util/log.h"
#include "mirrorgate/util/strbuf.h"
#include "mirrorgate/util/tls.h"

#define MAX_CHAIN 8

typedef struct cert_gen {
	gnutls_pcert_st pcerts[MAX_CHAIN];
	unsigned npcerts;
	gnutls_privkey_t key;
	time_t not_after;
	time_t retired_at;
	struct cert_gen *next; /* retired list */
} cert_gen;

struct mg_certs {
	pthread_mutex_t lock; /* guards current and retired */
	cert_gen *current;
	cert_gen *retired;
	char *cert_file;      /* NULL in self-signed mode */
	char *key_file;
	mg_pem_pair loaded;   /* the bytes behind `current`, to detect a change */
	uint64_t failed_hash; /* last rejected contents, so a bad file is logged once */
	/* What the API server will check (mg_certs_expect); NULL: not checked. */
	char *server_name;
	char *ca_file;
	/* Why the files on disk are not being served (static strings), NULL when they are. */
	const char *rejected_reason, *rejected_why;
};

static pthread_mutex_t g_slot_lock = PTHREAD_MUTEX_INITIALIZER;
static mg_certs *g_slot;

static void gen_free(cert_gen *g)
{
	if (!g)
		return;
	for (unsigned i = 0; i < g->npcerts; i++)
		gnutls_pcert_deinit(&g->pcerts[i]);
	if (g->key)
		gnutls_privkey_deinit(g->key);
	free(g);
}

static int gen_from_pem(cert_gen **out, const mg_pem_pair *pair, const char **why)
{
	int rc = MG_ETLS;
	cert_gen *g = calloc(1, sizeof(*g));
	if (!g)
		return MG_ENOMEM;
	*why = "the certificate and key do not match";
	if (mg_tls_check_pair(pair->cert_pem, pair->key_pem))
		goto out;
	*why = "the certificate has no readable notAfter";
	if (mg_tls_cert_not_after(pair->cert_pem, &g->not_after))
		goto out;
	gnutls_datum_t cert = {(unsigned char *)pair->cert_pem, (unsigned)strlen(pair->cert_pem)};
	gnutls_datum_t key = {(unsigned char *)pair->key_pem, (unsigned)strlen(pair->key_pem)};
	unsigned n = MAX_CHAIN;
	*why = "GnuTLS cannot read the certificate chain";
	if (gnutls_pcert_list_import_x509_raw(g->pcerts, &n, &cert, GNUTLS_X509_FMT_PEM, 0) < 0)
		goto out;
	g->npcerts = n;
	*why = "GnuTLS cannot read the private key";
	if (gnutls_privkey_init(&g->key) < 0)
		goto out;
	if (gnutls_privkey_import_x509_raw(g->key, &key, GNUTLS_X509_FMT_PEM, NULL, 0) < 0)
		goto out;
	*why = NULL;
	*out = g;
	g = NULL;
	rc = 0;
out:
	gen_free(g);
	return rc;
}

/* What the API server checks when it connects, checked before a pair is served: its
 * validity window, the service's host name among the SANs, and a chain to the caBundle CA.
 * *reason is a metric label, *why a sentence for the log and /readyz. */
static int check_policy(const mg_certs *c, const cert_gen *g, time_t now, const char **reason,
			const char **why)
{
	gnutls_x509_crt_t chain[MAX_CHAIN] = {0};
	gnutls_x509_trust_list_t trust = NULL;
	char *ca_pem = NULL;
	int rc = MG_ETLS;
	*reason = "unreadable";
	*why = "GnuTLS cannot read the certificate";
	for (unsigned i = 0; i < g->npcerts; i++) {
		if (gnutls_x509_crt_init(&chain[i]) < 0 ||
		    gnutls_x509_crt_import(chain[i], &g->pcerts[i].cert, GNUTLS_X509_FMT_DER) < 0)
			goto out;
	}
	time_t not_before = gnutls_x509_crt_get_activation_time(chain[0]);
	time_t not_after = gnutls_x509_crt_get_expiration_time(chain[0]);
	if (not_before == (time_t)-1 || not_after == (time_t)-1)
		goto out;
	if (not_before > now) {
		*reason = "not_yet_valid";
		*why = "the new certificate is not valid yet (notBefore is in the future)";
		goto out;
	}
	if (not_after <= now) {
		*reason = "expired";
		*why = "the new certificate has expired";
		goto out;
	}
	if (c->server_name && !gnutls_x509_crt_check_hostname2(chain[0], c->server_name, 0)) {
		*reason = "name_mismatch";
		*why = "the new certificate's names (SANs) do not include --tls-server-name";
		goto out;
	}
	if (c->ca_file) {
		unsigned status = 0;
		*reason = "ca_unreadable";
		*why = "the --tls-ca-file cannot be read";
		if (mg_read_file(c->ca_file, MG_CERTS_MAX_PEM, &ca_pem, NULL))
			goto out;
		gnutls_datum_t ca = {(unsigned char *)ca_pem, (unsigned)strlen(ca_pem)};
		if (gnutls_x509_trust_list_init(&trust, 0) < 0 ||
		    gnutls_x509_trust_list_add_trust_mem(trust, &ca, NULL, GNUTLS_X509_FMT_PEM, 0,
							 0) <= 0)
			goto out;
		*reason = "untrusted_chain";
		*why = "the new certificate does not chain to the --tls-ca-file CA";
		if (gnutls_x509_trust_list_verify_crt(trust, chain, g->npcerts, 0, &status,
						      NULL) < 0 ||
		    status != 0)
			goto out;
	}
	*reason = *why = NULL;
	rc = 0;
out:
	for (unsigned i = 0; i < MAX_CHAIN; i++)
		if (chain[i])
			gnutls_x509_crt_deinit(chain[i]);
	if (trust)
		gnutls_x509_trust_list_deinit(trust, 1);
	free(ca_pem);
	return rc;
}

static int certs_alloc(mg_certs **out)
{
	mg_certs *c = calloc(1, sizeof(*c));
	if (!c)
		return MG_ENOMEM;
	if (pthread_mutex_init(&c->lock, NULL)) {
		free(c);
		return MG_ENOMEM;
	}
	*out = c;
	return 0;
}

static int read_pair(mg_pem_pair *out, const char *cert_file, const char *key_file,
		     const char **why)
{
	mg_pem_pair p = {0};
	int rc = mg_read_file(cert_file, MG_CERTS_MAX_PEM, &p.cert_pem, NULL);
	if (rc) {
		*why = rc == MG_ENOTFOUND ? "the certificate file does not exist"
					  : "the certificate file cannot be read";
		return rc;
	}
	rc = mg_read_file(key_file, MG_CERTS_MAX_PEM, &p.key_pem, NULL);
	if (rc) {
		*why = rc == MG_ENOTFOUND ? "the key file does not exist"
					  : "the key file cannot be read";
		mg_pem_pair_free(&p);
		return rc;
	}
	*out = p;
	return 0;
}

int mg_certs_from_files(mg_certs **out, const char *cert_file, const char *key_file,
			const char **why)
{
	mg_certs *c = NULL;
	int rc;
	*why = NULL;
	if (!cert_file || !key_file) {
		*why = "both --tls-cert-file and --tls-key-file are required";
		return MG_EINVAL;
	}
	if ((rc = certs_alloc(&c)))
		return rc;
	rc = MG_ENOMEM;
	c->cert_file = mg_strdup(cert_file);
	c->key_file = mg_strdup(key_file);
	if (!c->cert_file || !c->key_file)
		goto out;
	if ((rc = read_pair(&c->loaded, cert_file, key_file, why)))
		goto out;
	if ((rc = gen_from_pem(&c->current, &c->loaded, why)))
		goto out;
	*out = c;
	c = NULL;
out:
	mg_certs_free(c);
	return rc;
}

int mg_certs_self_signed(mg_certs **out, char **ca_pem, const char *const *sans, size_t nsans)
{
	mg_certs *c = NULL;
	mg_pem_pair ca = {0};
	const char *why;
	int rc;
	if ((rc = certs_alloc(&c)))
		return rc;
	if ((rc = mg_tls_make_ca(&ca, "mirrorgate-webhook-ca", 365)))
		goto out;
	if ((rc = mg_tls_make_leaf(&c->loaded, &ca, "mirrorgate-webhook", sans, nsans, 365,
				   false)))
		goto out;
	if ((rc = gen_from_pem(&c->current, &c->loaded, &why)))
		goto out;
	*ca_pem = ca.cert_pem;
	ca.cert_pem = NULL;
	*out = c;
	c = NULL;
out:
	mg_pem_pair_free(&ca);
	mg_certs_free(c);
	return rc;
}

static uint64_t fnv1a(const char *a, const char *b)
{
	uint64_t h = 1469598103934665603ULL;
	for (const char *s = a; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	h = (h ^ 0xff) * 1099511628211ULL;
	for (const char *s = b; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static void collect_retired(mg_certs *c, time_t now)
{
	cert_gen **pp = &c->retired;
	while (*pp) {
		cert_gen *g = *pp;
		if (now - g->retired_at >= MG_CERTS_GRACE_SECONDS) {
			*pp = g->next;
			gen_free(g);
		} else {
			pp = &g->next;
		}
	}
}

int mg_certs_reload(mg_certs *c, bool *changed, const char **why)
{
	mg_pem_pair fresh = {0};
	cert_gen *g = NULL;
	int rc = 0;
	*changed = false;
	*why = NULL;
	time_t now = time(NULL);
	pthread_mutex_lock(&c->lock);
	collect_retired(c, now);
	pthread_mutex_unlock(&c->lock);
	if (!c->cert_file)
		return 0;
	/* Compare bytes, not mtimes: a Secret volume swaps a symlink and keeps old mtimes. */
	if ((rc = read_pair(&fresh, c->cert_file, c->key_file, why)))
		goto out;
	if (strcmp(fresh.cert_pem, c->loaded.cert_pem) == 0 &&
	    strcmp(fresh.key_pem, c->loaded.key_pem) == 0) {
		/* Back to the pair being served (a rotation rolled back): nothing rejected. */
		pthread_mutex_lock(&c->lock);
		c->rejected_reason = c->rejected_why = NULL;
		pthread_mutex_unlock(&c->lock);
		goto out;
	}
	uint64_t h = fnv1a(fresh.cert_pem, fresh.key_pem);
	const char *reason = "invalid_pair";
	if ((rc = gen_from_pem(&g, &fresh, why)) ||
	    (rc = check_policy(c, g, now, &reason, why))) {
		pthread_mutex_lock(&c->lock);
		c->rejected_reason = reason;
		c->rejected_why = *why;
		pthread_mutex_unlock(&c->lock);
		/* Often transient (the certificate written, the key not yet): keep serving
		 * the old pair and retry at the next poll. */
		if (h == c->failed_hash)
			*why = NULL; /* already reported */
		c->failed_hash = h;
		goto out;
	}
	c->failed_hash = 0;
	pthread_mutex_lock(&c->lock);
	c->rejected_reason = c->rejected_why = NULL;
	c->current->retired_at = now;
	c->current->next = c->retired;
	c->retired = c->current;
	c->current = g;
	pthread_mutex_unlock(&c->lock);
	g = NULL;
	mg_pem_pair_free(&c->loaded);
	c->loaded = fresh;
	fresh = (mg_pem_pair){0};
	*changed = true;
out:
	gen_free(g);
	mg_pem_pair_free(&fresh);
	return rc;
}

int mg_certs_expect(mg_certs *c, const char *server_name, const char *ca_file,
		    const char **why)
{
	const char *reason;
	*why = NULL;
	free(c->server_name);
	free(c->ca_file);
	c->server_name = server_name ? mg_strdup(server_name) : NULL;
	c->ca_file = ca_file ? mg_strdup(ca_file) : NULL;
	if ((server_name && !c->server_name) || (ca_file && !c->ca_file))
		return MG_ENOMEM;
	pthread_mutex_lock(&c->lock);
	int rc = check_policy(c, c->current, time(NULL), &reason, why);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

const char *mg_certs_rejected(mg_certs *c, const char **why)
{
	pthread_mutex_lock(&c->lock);
	const char *reason = c->rejected_reason;
	if (why)
		*why = c->rejected_why;
	pthread_mutex_unlock(&c->lock);
	return reason;
}

time_t mg_certs_not_after(mg_certs *c)
{
	pthread_mutex_lock(&c->lock);
	time_t t = c->current->not_after;
	pthread_mutex_unlock(&c->lock);
	return t;
}

void mg_certs_install(mg_certs *certs)
{
	pthread_mutex_lock(&g_slot_lock);
	g_slot = certs;
	pthread_mutex_unlock(&g_slot_lock);
}

int mg_certs_retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_rdn, int nreqs,
		      const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
		      gnutls_pcert_st **pcert, unsigned int *pcert_length,
		      gnutls_privkey_t *privkey)
{
	(void)session, (void)req_ca_rdn, (void)nreqs, (void)pk_algos, (void)pk_algos_length;
	int rc = -1;
	pthread_mutex_lock(&g_slot_lock);
	mg_certs *c = g_slot;
	if (c) {
		pthread_mutex_lock(&c->lock);
		/* Borrowed: GnuTLS does not free what a retrieve function returns, and a
		 * replaced pair lives on for MG_CERTS_GRACE_SECONDS. */
		*pcert = c->current->pcerts;
		*pcert_length = c->current->npcerts;
		*privkey = c->current->key;
		pthread_mutex_unlock(&c->lock);
		rc = 0;
	}
	pthread_mutex_unlock(&g_slot_lock);
	return rc;
}

void mg_certs_free(mg_certs *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&g_slot_lock);
	if (g_slot == c)
		g_slot = NULL;
	pthread_mutex_unlock(&g_slot_lock);
	gen_free(c->current);
	while (c->retired) {
		cert_gen *g = c->retired;
		c->retired = g->next;
		gen_free(g);
	}
	mg_pem_pair_free(&c->loaded);
	free(c->cert_file);
	free(c->key_file);
	free(c->server_name);
	free(c->ca_file);
	pthread_mutex_destroy(&c->lock);
	free(c);
}
