/* The serving certificate holder: loading, reload on change, refusing bad updates. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "certs.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/util/tls.h"

static char g_dir[64];
static char g_cert[128], g_key[128];

static void write_pair(const char *cn, int days)
{
	mg_pem_pair ca = {0}, leaf = {0};
	const char *sans[] = {"IP:127.0.0.1"};
	char ca_cn[64];
	snprintf(ca_cn, sizeof(ca_cn), "%s-ca", cn);
	cr_assert_eq(mg_tls_make_ca(&ca, ca_cn, days + 1), 0);
	cr_assert_eq(mg_tls_make_leaf(&leaf, &ca, cn, sans, 1, days, false), 0);
	cr_assert_eq(mg_write_file_atomic(g_key, leaf.key_pem, strlen(leaf.key_pem), 0600), 0);
	cr_assert_eq(mg_write_file_atomic(g_cert, leaf.cert_pem, strlen(leaf.cert_pem), 0600), 0);
	mg_pem_pair_free(&ca);
	mg_pem_pair_free(&leaf);
}

static void setup(void)
{
	snprintf(g_dir, sizeof(g_dir), "/tmp/mg-certs-XXXXXX");
	cr_assert_not_null(mkdtemp(g_dir));
	snprintf(g_cert, sizeof(g_cert), "%s/tls.crt", g_dir);
	snprintf(g_key, sizeof(g_key), "%s/tls.key", g_dir);
}

static char g_ca[128];

static void teardown(void)
{
	unlink(g_ca);
	unlink(g_cert);
	unlink(g_key);
	rmdir(g_dir);
}

TestSuite(webhook_certs, .init = setup, .fini = teardown);

Test(webhook_certs, load_reload_and_refuse_bad_updates)
{
	mg_certs *c = NULL;
	const char *why = NULL;
	bool changed = true;
	write_pair("one", 1);
	cr_assert_eq(mg_certs_from_files(&c, g_cert, g_key, &why), 0, "%s", why);
	time_t first = mg_certs_not_after(c);
	cr_assert(first > time(NULL) + 86000);

	cr_assert_eq(mg_certs_reload(c, &changed, &why), 0);
	cr_assert_not(changed, "same bytes: nothing to do");

	/* The certificate replaced but the key not yet: refused, old pair kept, reported
	 * once. */
	mg_pem_pair ca = {0}, leaf = {0};
	const char *sans[] = {"IP:127.0.0.1"};
	cr_assert_eq(mg_tls_make_ca(&ca, "two-ca", 3), 0);
	cr_assert_eq(mg_tls_make_leaf(&leaf, &ca, "two", sans, 1, 2, false), 0);
	cr_assert_eq(mg_write_file_atomic(g_cert, leaf.cert_pem, strlen(leaf.cert_pem), 0600), 0);
	cr_assert_eq(mg_certs_reload(c, &changed, &why), MG_ETLS);
	cr_assert_not(changed);
	cr_assert_str_eq(why, "the certificate and key do not match");
	cr_assert_eq(mg_certs_reload(c, &changed, &why), MG_ETLS);
	cr_assert_null(why, "the same bad bytes are reported once");
	cr_assert_eq(mg_certs_not_after(c), first);

	/* Now the key arrives: swapped. */
	cr_assert_eq(mg_write_file_atomic(g_key, leaf.key_pem, strlen(leaf.key_pem), 0600), 0);
	cr_assert_eq(mg_certs_reload(c, &changed, &why), 0);
	cr_assert(changed);
	cr_assert(mg_certs_not_after(c) > first + 80000, "the 2-day certificate is current");

	/* A file that vanished (mid-rotation) keeps the current pair. */
	unlink(g_key);
	cr_assert_eq(mg_certs_reload(c, &changed, &why), MG_ENOTFOUND);
	cr_assert_str_eq(why, "the key file does not exist");
	cr_assert_not(changed);
	mg_pem_pair_free(&ca);
	mg_pem_pair_free(&leaf);
	mg_certs_free(c);
	mg_certs_free(NULL);
}

Test(webhook_certs, load_errors_say_why)
{
	mg_certs *c = NULL;
	const char *why = NULL;
	cr_assert_eq(mg_certs_from_files(&c, "/nonexistent/c", "/nonexistent/k", &why),
		     MG_ENOTFOUND);
	cr_assert_str_eq(why, "the certificate file does not exist");
	cr_assert_eq(mg_certs_from_files(&c, NULL, g_key, &why), MG_EINVAL);
	cr_assert_eq(mg_write_file_atomic(g_cert, "garbage", 7, 0600), 0);
	cr_assert_eq(mg_write_file_atomic(g_key, "garbage", 7, 0600), 0);
	cr_assert_neq(mg_certs_from_files(&c, g_cert, g_key, &why), 0);
	cr_assert_not_null(why);
	cr_assert_null(c);
}

Test(webhook_certs, retrieve_serves_the_installed_pair)
{
	mg_certs *c = NULL;
	char *ca = NULL;
	const char *sans[] = {"DNS:localhost"};
	cr_assert_eq(mg_certs_self_signed(&c, &ca, sans, 1), 0);
	cr_assert(strstr(ca, "BEGIN CERTIFICATE"));
	gnutls_pcert_st *pcert = NULL;
	unsigned n = 0;
	gnutls_privkey_t key = NULL;
	cr_assert_eq(mg_certs_retrieve(NULL, NULL, 0, NULL, 0, &pcert, &n, &key), -1,
		     "nothing installed: the handshake fails");
	mg_certs_install(c);
	cr_assert_eq(mg_certs_retrieve(NULL, NULL, 0, NULL, 0, &pcert, &n, &key), 0);
	cr_assert_eq(n, 1);
	cr_assert_not_null(key);
	mg_certs_free(c); /* also uninstalls */
	cr_assert_eq(mg_certs_retrieve(NULL, NULL, 0, NULL, 0, &pcert, &n, &key), -1);
	free(ca);
}

#define SERVICE "mirrorgate-webhook.mirrorgate.svc"

/* A leaf for `san`, valid from now+nb to now+na seconds, signed by ca; written to the files
 * (key first). */
static void write_leaf(const mg_pem_pair *ca, const char *san, long nb, long na)
{
	mg_pem_pair leaf = {0};
	const char *sans[] = {san};
	cr_assert_eq(mg_tls_make_leaf_window(&leaf, ca, "leaf", sans, 1, nb, na, false), 0);
	cr_assert_eq(mg_write_file_atomic(g_key, leaf.key_pem, strlen(leaf.key_pem), 0600), 0);
	cr_assert_eq(mg_write_file_atomic(g_cert, leaf.cert_pem, strlen(leaf.cert_pem), 0600), 0);
	mg_pem_pair_free(&leaf);
}

/* Each pair the API server would refuse is refused at reload: the old one keeps serving,
 * and mg_certs_rejected says why (the metric label and the /readyz sentence). */
Test(webhook_certs, reload_refuses_what_the_api_server_would_refuse)
{
	mg_pem_pair ca = {0}, other = {0};
	cr_assert_eq(mg_tls_make_ca(&ca, "bundle-ca", 3), 0);
	cr_assert_eq(mg_tls_make_ca(&other, "other-ca", 3), 0);
	snprintf(g_ca, sizeof(g_ca), "%s/ca.crt", g_dir);
	cr_assert_eq(mg_write_file_atomic(g_ca, ca.cert_pem, strlen(ca.cert_pem), 0600), 0);
	write_leaf(&ca, "DNS:" SERVICE, -60, 86400);
	mg_certs *c = NULL;
	const char *why = NULL;
	bool changed = false;
	cr_assert_eq(mg_certs_from_files(&c, g_cert, g_key, &why), 0, "%s", why);
	cr_assert_eq(mg_certs_expect(c, SERVICE, g_ca, &why), 0, "%s", why ? why : "");
	cr_assert_null(mg_certs_rejected(c, NULL));
	time_t serving = mg_certs_not_after(c);

	static const struct {
		const char *san;
		long nb, na;
		bool other_ca;
		const char *reason, *why;
	} bad[] = {
		{"DNS:" SERVICE, -7200, -60, false, "expired", "the new certificate has expired"},
		{"DNS:" SERVICE, 3600, 7200, false, "not_yet_valid",
		 "the new certificate is not valid yet (notBefore is in the future)"},
		{"DNS:other.mirrorgate.svc", -60, 7200, false, "name_mismatch",
		 "the new certificate's names (SANs) do not include --tls-server-name"},
		{"DNS:" SERVICE, -60, 7200, true, "untrusted_chain",
		 "the new certificate does not chain to the --tls-ca-file CA"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_leaf(bad[i].other_ca ? &other : &ca, bad[i].san, bad[i].nb, bad[i].na);
		cr_assert_eq(mg_certs_reload(c, &changed, &why), MG_ETLS, "case %zu", i);
		cr_assert_not(changed, "case %zu", i);
		cr_assert_str_eq(why, bad[i].why, "case %zu", i);
		const char *said = NULL;
		cr_assert_str_eq(mg_certs_rejected(c, &said), bad[i].reason, "case %zu", i);
		cr_assert_str_eq(said, bad[i].why);
		cr_assert_eq(mg_certs_not_after(c), serving, "case %zu: the old pair serves", i);
	}
	/* An unreadable CA file refuses too (the API server's bundle cannot be checked). */
	write_leaf(&ca, "DNS:" SERVICE, -60, 7200);
	cr_assert_eq(mg_write_file_atomic(g_ca, "garbage", 7, 0600), 0);
	cr_assert_eq(mg_certs_reload(c, &changed, &why), MG_ETLS);
	cr_assert_str_eq(mg_certs_rejected(c, NULL), "ca_unreadable");
	/* The CA back: the same good pair goes in, and nothing is rejected any more. */
	cr_assert_eq(mg_write_file_atomic(g_ca, ca.cert_pem, strlen(ca.cert_pem), 0600), 0);
	cr_assert_eq(mg_certs_reload(c, &changed, &why), 0);
	cr_assert(changed);
	cr_assert_null(mg_certs_rejected(c, NULL));
	cr_assert_neq(mg_certs_not_after(c), serving);
	mg_pem_pair_free(&ca);
	mg_pem_pair_free(&other);
	mg_certs_free(c);
}

/* Without a server name or CA configured, the validity window is still checked; at start,
 * mg_certs_expect refuses a current pair that already fails. */
Test(webhook_certs, dates_are_always_checked_and_expect_checks_the_current_pair)
{
	mg_pem_pair ca = {0};
	cr_assert_eq(mg_tls_make_ca(&ca, "bundle-ca", 3), 0);
	write_leaf(&ca, "IP:127.0.0.1", -60, 86400);
	mg_certs *c = NULL;
	const char *why = NULL;
	bool changed = false;
	cr_assert_eq(mg_certs_from_files(&c, g_cert, g_key, &why), 0, "%s", why);
	write_leaf(&ca, "IP:127.0.0.1", -7200, -1);
	cr_assert_eq(mg_certs_reload(c, &changed, &why), MG_ETLS);
	cr_assert_str_eq(mg_certs_rejected(c, NULL), "expired");
	cr_assert_eq(mg_certs_expect(c, SERVICE, NULL, &why), MG_ETLS,
		     "the current pair is for 127.0.0.1, not the service");
	cr_assert_str_eq(why, "the new certificate's names (SANs) do not include --tls-server-name");
	mg_pem_pair_free(&ca);
	mg_certs_free(c);
}
