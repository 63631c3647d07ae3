#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "mirrorgate/util/tls.h"
#include "run_cmd.h"

static X509 *load(const char *path)
{
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	cr_assert_not_null(x);
	return x;
}

Test(cli_certs, serving_certificate_for_the_service)
{
	char dir[] = "/tmp/mg-certs-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char *argv[] = {MG_BIN_DIR "/mirrorgate", "certs", "--out", dir, "--service", "hook",
			"--namespace", "ops", "--days", "30", NULL};
	mg_cmd_result r;
	cr_assert_eq(mg_run_cmd(&r, argv, NULL, 0, 60), 0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_null(strstr(r.out, "PRIVATE"), "the key is never printed");
	cr_assert_null(strstr(r.err, "PRIVATE"));
	char path[256], *ca_pem = NULL, *crt_pem = NULL, *key_pem = NULL;
	snprintf(path, sizeof(path), "%s/tls.key", dir);
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert_eq(mg_read_file(path, 1 << 20, &key_pem, NULL), 0);
	snprintf(path, sizeof(path), "%s/tls.crt", dir);
	cr_assert_eq(mg_read_file(path, 1 << 20, &crt_pem, NULL), 0);
	cr_assert_eq(mg_tls_check_pair(crt_pem, key_pem), 0);
	X509 *leaf = load(path);
	snprintf(path, sizeof(path), "%s/ca.crt", dir);
	cr_assert_eq(mg_read_file(path, 1 << 20, &ca_pem, NULL), 0);
	X509 *ca = load(path);
	/* The leaf verifies against the CA for the Service's DNS name. */
	X509_STORE *store = X509_STORE_new();
	X509_STORE_add_cert(store, ca);
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509_STORE_CTX_init(ctx, store, leaf, NULL);
	X509_VERIFY_PARAM_set1_host(X509_STORE_CTX_get0_param(ctx), "hook.ops.svc", 0);
	cr_assert_eq(X509_verify_cert(ctx), 1, "%s",
		     X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
	cr_assert_eq(X509_check_host(leaf, "other.ops.svc", 0, 0, NULL), 0);
	/* The printed bundle is the CA, base64. */
	unsigned char decoded[8192];
	size_t len = strcspn(r.out, "\n");
	int n = EVP_DecodeBlock(decoded, (const unsigned char *)r.out, (int)len);
	cr_assert(n > 0);
	cr_assert(strncmp((const char *)decoded, ca_pem, strlen(ca_pem)) == 0);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	X509_free(leaf);
	X509_free(ca);
	free(ca_pem);
	free(crt_pem);
	free(key_pem);
	mg_cmd_result_free(&r);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

Test(cli_certs, usage_errors)
{
	char *argv[] = {MG_BIN_DIR "/mirrorgate", "certs", NULL};
	mg_cmd_result r;
	cr_assert_eq(mg_run_cmd(&r, argv, NULL, 0, 30), 0);
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.err, "--out DIR is required"));
	mg_cmd_result_free(&r);
	/* A parent that is a file: the directory cannot be made, and the message says why. */
	char file[] = "/tmp/mg-certs-file-XXXXXX";
	int fd = mkstemp(file);
	cr_assert(fd >= 0);
	close(fd);
	char out[64];
	snprintf(out, sizeof(out), "%s/tls", file);
	char *bad[] = {MG_BIN_DIR "/mirrorgate", "certs", "--out", out, NULL};
	cr_assert_eq(mg_run_cmd(&r, bad, NULL, 0, 30), 0);
	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.err, "exists and is not a directory"), "%s", r.err);
	cr_assert_null(strstr(r.err, "input/output error"), "%s", r.err);
	mg_cmd_result_free(&r);
	unlink(file);
	static const char *const cases[][2] = {
		{"--ip", "10.0.0.300"}, {"--ip", "host.example"}, {"--days", "0"}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *args[] = {MG_BIN_DIR "/mirrorgate", "certs", "--out", "/tmp/unused",
				(char *)cases[i][0], (char *)cases[i][1], NULL};
		cr_assert_eq(mg_run_cmd(&r, args, NULL, 0, 30), 0);
		cr_expect_eq(r.status, 2, "%s %s", cases[i][0], cases[i][1]);
		mg_cmd_result_free(&r);
	}
	char *extra[] = {MG_BIN_DIR "/mirrorgate", "certs", "--out", "/tmp/unused", "stray", NULL};
	cr_assert_eq(mg_run_cmd(&r, extra, NULL, 0, 30), 0);
	cr_expect_eq(r.status, 2);
	cr_expect(strstr(r.err, "unexpected argument stray"), "%s", r.err);
	mg_cmd_result_free(&r);
}

/* --out is created with its parents; --ip adds IP SANs that verify as such. */
Test(cli_certs, creates_the_output_directory_and_ip_sans)
{
	char base[] = "/tmp/mg-certs-XXXXXX";
	cr_assert_not_null(mkdtemp(base));
	char dir[128];
	snprintf(dir, sizeof(dir), "%s/a/tls", base);
	char *argv[] = {MG_BIN_DIR "/mirrorgate", "certs", "--out", dir, "--ip", "10.1.2.3",
			"--ip", "fd00::7", NULL};
	mg_cmd_result r;
	cr_assert_eq(mg_run_cmd(&r, argv, NULL, 0, 60), 0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	mg_cmd_result_free(&r);
	char path[256];
	snprintf(path, sizeof(path), "%s/tls.crt", dir);
	X509 *leaf = load(path);
	cr_expect_eq(X509_check_ip_asc(leaf, "10.1.2.3", 0), 1);
	cr_expect_eq(X509_check_ip_asc(leaf, "fd00::7", 0), 1);
	cr_expect_eq(X509_check_ip_asc(leaf, "10.1.2.4", 0), 0);
	cr_expect_eq(X509_check_host(leaf, "mirrorgate-webhook.mirrorgate.svc", 0, 0, NULL), 1);
	X509_free(leaf);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	cr_expect_eq(system(cmd), 0);
}
