/* The provisioner's pure parts in-process: Kubernetes quantities (what a PVC's storage
 * request may say) and the --provisioner file (defaults, every refusal, passwords read from
 * files and wiped, never echoed). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/util/tls.h"
#include "prov.h"

Test(kube_provisioner_config, quantities)
{
	static const struct {
		const char *in;
		uint64_t out;
	} ok[] = {{"1Gi", 1073741824ULL},  {"500Mi", 524288000ULL}, {"1.5G", 1500000000ULL},
		  {"2e9", 2000000000ULL},   {"100", 100},              {"1Ki", 1024},
		  {"1k", 1000},             {"1Ti", 1099511627776ULL}, {"0.5Ki", 512},
		  {"1.0001k", 1001},        {"+3M", 3000000},          {"1E", 1000000000000000000ULL},
		  {"20971520", 20971520ULL}, {"3e-1", 1}};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		uint64_t v = 0;
		cr_expect_eq(ksim_parse_quantity(&v, ok[i].in), 0, "%s", ok[i].in);
		cr_expect_eq(v, ok[i].out, "%s: %llu", ok[i].in, (unsigned long long)v);
	}
	static const char *const bad[] = {"", "lots", "1Gb", "-1Gi", "1 Gi", "Gi", ".", "1e",
					  "1e99", "1.2.3", "0x10", "99999Ei"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t v = 7;
		cr_expect_neq(ksim_parse_quantity(&v, bad[i]), 0, "\"%s\" accepted", bad[i]);
		cr_expect_eq(v, 7, "out untouched for \"%s\"", bad[i]);
	}
	cr_expect_neq(ksim_parse_quantity(NULL, NULL), 0);
}

static int parse(ksim_prov_config *c, const char *text, char *why, size_t len)
{
	why[0] = '\0';
	return ksim_prov_config_parse(c, text, strlen(text), why, len);
}

Test(kube_provisioner_config, defaults_and_password_file)
{
	char dir[] = "/tmp/mg-provcfg-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char pw[128], text[1024], why[512];
	snprintf(pw, sizeof(pw), "%s/pw", dir);
	cr_assert_eq(mg_write_file_atomic(pw, "hunter2\r\n", 9, 0600), 0);
	snprintf(text, sizeof(text),
		 "backends:\n- {name: a, managementLIF: https://h:1, svm: svm-a, passwordFile: %s, "
		 "trustedCAFile: /ca}\n- {name: b, managementLIF: https://h:2, svm: svm-b, username: "
		 "u, password: pw2, trustedCAFile: /ca, storagePrefix: \"\"}\n",
		 pw);
	ksim_prov_config c;
	cr_assert_eq(parse(&c, text, why, sizeof(why)), MG_EPARSE, "empty prefix refused");
	cr_expect(strstr(why, "backends[1]: storagePrefix must be a non-empty string"), "%s", why);
	snprintf(text, sizeof(text),
		 "backends:\n- {name: a, managementLIF: https://h:1, svm: svm-a, passwordFile: %s, "
		 "trustedCAFile: /ca}\n- {name: b, managementLIF: https://h:2, svm: svm-b, username: "
		 "u, password: pw2, trustedCAFile: /ca, storagePrefix: dr_}\n"
		 "settings: {retryBaseMs: 10, retryCapMs: 20}\n",
		 pw);
	cr_assert_eq(parse(&c, text, why, sizeof(why)), 0, "%s", why);
	cr_expect_eq(c.nbackends, 2);
	cr_expect_str_eq(c.backends[0].password, "hunter2", "trailing newline dropped");
	cr_expect_str_eq(c.backends[0].username, "admin");
	cr_expect_str_eq(c.backends[0].prefix, "trident_");
	cr_expect_str_eq(c.backends[1].prefix, "dr_");
	cr_expect_str_eq(c.backends[1].username, "u");
	cr_expect_eq(c.retry_base_ms, 10);
	cr_expect_eq(c.retry_cap_ms, 20);
	cr_expect_eq(c.resync_ms, 1000);
	ksim_prov_config_free(&c);
	ksim_prov_config_free(&c); /* zeroed: freeing again is harmless */
	ksim_prov_config_free(NULL);
	cr_assert_eq(mg_write_file_atomic(pw, "\n", 1, 0600), 0);
	cr_expect_eq(parse(&c, text, why, sizeof(why)), MG_EPARSE);
	cr_expect(strstr(why, "is empty"), "%s", why);
	unlink(pw);
	rmdir(dir);
}

Test(kube_provisioner_config, refusals_say_which_field)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{"", "expected exactly one YAML document"},
		{"- a\n", "the file must be a mapping"},
		{"backends: {}\n", "backends: a non-empty list is required"},
		{"backends: [x]\n", "backends[0]: must be a mapping"},
		{"backends: [{}]\n", "backends[0]: name is required"},
		{"backends: [{name: 3}]\n", "backends[0]: name must be a non-empty string"},
		{"backends: [{name: a, managementLIF: https://x, svm: \"bad svm\", password: p, "
		 "trustedCAFile: /ca}]\n",
		 "svm \"bad svm\" is not a valid SVM name"},
		{"backends: [{name: a, managementLIF: https://x, svm: s, password: p, passwordFile: f, "
		 "trustedCAFile: /ca}]\n",
		 "exactly one of password and passwordFile"},
		{"backends: [{name: a, managementLIF: https://x, svm: s, password: p, "
		 "trustedCAFile: /ca}]\nextra: 1\n",
		 "provisioner: unknown field extra"},
		{"backends: [{name: a, managementLIF: https://x, svm: s, password: p, "
		 "trustedCAFile: /ca}]\nsettings: {retryBaseMs: 500, retryCapMs: 100}\n",
		 "retryCapMs must not be below retryBaseMs"},
		{"backends: [{name: a, managementLIF: https://x, svm: s, password: p, "
		 "trustedCAFile: /ca}]\nsettings: {resyncMs: 1.5}\n",
		 "settings: resyncMs must be a whole number"},
		{"backends: [{name: a, managementLIF: https://x, svm: s, password: p, "
		 "trustedCAFile: /ca}]\nsettings: {nope: 1}\n",
		 "settings: unknown field nope"},
		{"backends: [{name: a, a: 1, a: 2}]\n", "line "},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ksim_prov_config c;
		char why[512];
		cr_expect_neq(parse(&c, cases[i].text, why, sizeof(why)), 0, "accepted: %s",
			      cases[i].text);
		cr_expect(strstr(why, cases[i].want), "want \"%s\", got \"%s\"", cases[i].want, why);
		cr_expect(!strstr(why, "password: p"), "no secret in messages");
	}
}
