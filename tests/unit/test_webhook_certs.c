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

static void teardown(void)
{
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
