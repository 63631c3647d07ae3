#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/util/tls.h"

Test(tls, ca_and_leaf_are_valid_and_match)
{
	mg_pem_pair ca = {0}, leaf = {0};
	const char *sans[] = {"DNS:localhost", "IP:127.0.0.1"};
	cr_assert_eq(mg_tls_make_ca(&ca, "test-ca", 2), 0);
	cr_assert_eq(mg_tls_make_leaf(&leaf, &ca, "localhost", sans, 2, 1, false), 0);
	cr_assert(strstr(leaf.cert_pem, "BEGIN CERTIFICATE"));
	cr_assert(strstr(leaf.key_pem, "PRIVATE KEY"));
	cr_assert_eq(mg_tls_check_pair(leaf.cert_pem, leaf.key_pem), 0);
	cr_assert_eq(mg_tls_check_pair(leaf.cert_pem, ca.key_pem), MG_ETLS);
	time_t not_after;
	cr_assert_eq(mg_tls_cert_not_after(leaf.cert_pem, &not_after), 0);
	time_t now = time(NULL);
	cr_assert(not_after > now + 86400 - 120 && not_after < now + 86400 + 120);
	mg_pem_pair_free(&ca);
	mg_pem_pair_free(&leaf);
}

Test(tls, garbage_pem_is_a_parse_error)
{
	time_t t;
	cr_assert_eq(mg_tls_cert_not_after("not a certificate", &t), MG_EPARSE);
	cr_assert_eq(mg_tls_check_pair("x", "y"), MG_EPARSE);
	mg_pem_pair bogus = {"x", "y"}, out = {0};
	cr_assert_eq(mg_tls_make_leaf(&out, &bogus, "n", NULL, 0, 1, false), MG_EPARSE);
	cr_assert_null(out.cert_pem);
}

Test(tls, files_round_trip_and_limits)
{
	char path[] = "/tmp/mg-tls-test-XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	cr_assert_eq(mg_write_file_atomic(path, "hello", 5, 0600), 0);
	char *data = NULL;
	size_t len = 0;
	cr_assert_eq(mg_read_file(path, 100, &data, &len), 0);
	cr_assert_str_eq(data, "hello");
	cr_assert_eq(len, 5);
	free(data);
	cr_assert_eq(mg_read_file(path, 4, &data, &len), MG_ETOOBIG);
	cr_assert_eq(mg_read_file("/nonexistent/file", 4, &data, &len), MG_ENOTFOUND);
	unlink(path);
}
