/* Kubeconfig and in-cluster configuration variants. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/k8s/client.h"
#include "mirrorgate/util/log.h"
#include "mirrorgate/util/strbuf.h"
#include "mirrorgate/util/tls.h"

static char dir[64];
static mg_pem_pair ca, leaf;

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/mg-k8scfg-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(mg_tls_make_ca(&ca, "cfg-ca", 1), 0);
	cr_assert_eq(mg_tls_make_leaf(&leaf, &ca, "user", NULL, 0, 1, true), 0);
	mg_log_set_level(MG_LOG_ERROR);
}

static void teardown(void)
{
	char *cmd = mg_asprintf("rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
	free(cmd);
	mg_pem_pair_free(&ca);
	mg_pem_pair_free(&leaf);
}

TestSuite(k8s_config, .init = setup, .fini = teardown);

static char *path_of(const char *name)
{
	return mg_asprintf("%s/%s", dir, name);
}

static void put_file(const char *name, const char *text)
{
	char *p = path_of(name);
	cr_assert_eq(mg_write_file_atomic(p, text, strlen(text), 0600), 0);
	free(p);
}

static char *b64(const char *s)
{
	size_t n = strlen(s);
	char *out = malloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
	return out;
}

static int load(mg_k8s_config **cfg, const char *context, char *why, size_t len)
{
	char *p = path_of("kubeconfig");
	int rc = mg_k8s_config_from_kubeconfig(cfg, p, context, why, len);
	free(p);
	return rc;
}

Test(k8s_config, token_and_ca_data_from_current_context)
{
	char *ca64 = b64(ca.cert_pem);
	char *kc = mg_asprintf("apiVersion: v1\nkind: Config\ncurrent-context: b\n"
			       "clusters:\n- name: c1\n  cluster:\n    server: https://10.0.0.1:6443/\n"
			       "    certificate-authority-data: %s\n"
			       "- name: c2\n  cluster: {server: https://10.0.0.2:6443}\n"
			       "contexts:\n- name: a\n  context: {cluster: c2, user: u1}\n"
			       "- name: b\n  context: {cluster: c1, user: u1, namespace: team}\n"
			       "users:\n- name: u1\n  user: {token: s3cret}\n",
			       ca64);
	put_file("kubeconfig", kc);
	mg_k8s_config *cfg = NULL;
	cr_assert_eq(load(&cfg, NULL, NULL, 0), 0);
	cr_assert_str_eq(cfg->server, "https://10.0.0.1:6443/");
	cr_assert_str_eq(cfg->token, "s3cret");
	cr_assert_str_eq(cfg->namespace, "team");
	cr_assert_str_eq(cfg->ca_pem, ca.cert_pem);
	cr_assert_not(cfg->insecure_skip_tls_verify);
	mg_k8s_config_free(cfg);
	/* an explicit context wins over current-context */
	cr_assert_eq(load(&cfg, "a", NULL, 0), 0);
	cr_assert_str_eq(cfg->server, "https://10.0.0.2:6443");
	cr_assert_str_eq(cfg->namespace, "default");
	cr_assert_null(cfg->ca_pem);
	mg_k8s_config_free(cfg);
	char why[256] = "";
	cr_assert_eq(load(&cfg, "nope", why, sizeof(why)), MG_EPARSE);
	cr_assert(strstr(why, "context \"nope\" not found"), "%s", why);
	free(kc);
	free(ca64);
}

Test(k8s_config, client_certificate_files_relative_to_the_kubeconfig)
{
	put_file("ca.crt", ca.cert_pem);
	put_file("user.crt", leaf.cert_pem);
	put_file("user.key", leaf.key_pem);
	put_file("kubeconfig", "current-context: x\n"
			    "clusters:\n- name: c\n  cluster:\n    server: https://k:1\n"
			    "    certificate-authority: ca.crt\n"
			    "contexts:\n- name: x\n  context: {cluster: c, user: u}\n"
			    "users:\n- name: u\n  user:\n    client-certificate: user.crt\n"
			    "    client-key: user.key\n");
	mg_k8s_config *cfg = NULL;
	char why[256] = "";
	cr_assert_eq(load(&cfg, NULL, why, sizeof(why)), 0, "%s", why);
	cr_assert_str_eq(cfg->ca_pem, ca.cert_pem);
	cr_assert_str_eq(cfg->client_cert_pem, leaf.cert_pem);
	cr_assert_str_eq(cfg->client_key_pem, leaf.key_pem);
	cr_assert_null(cfg->token);
	mg_k8s_config_free(cfg);
}

Test(k8s_config, client_certificate_data_and_insecure_skip_verify)
{
	char *c64 = b64(leaf.cert_pem), *k64 = b64(leaf.key_pem);
	char *kc = mg_asprintf("current-context: x\n"
			       "clusters:\n- name: c\n  cluster:\n    server: https://k:1\n"
			       "    insecure-skip-tls-verify: true\n"
			       "contexts:\n- name: x\n  context: {cluster: c, user: u}\n"
			       "users:\n- name: u\n  user:\n    client-certificate-data: %s\n"
			       "    client-key-data: %s\n",
			       c64, k64);
	put_file("kubeconfig", kc);
	mg_k8s_config *cfg = NULL;
	cr_assert_eq(load(&cfg, NULL, NULL, 0), 0);
	cr_assert(cfg->insecure_skip_tls_verify);
	cr_assert_str_eq(cfg->client_key_pem, leaf.key_pem);
	mg_k8s_config_free(cfg);
	free(kc);
	free(c64);
	free(k64);
}

Test(k8s_config, token_file_is_kept_as_a_path_for_rotation)
{
	put_file("kubeconfig", "current-context: x\nclusters:\n- name: c\n  cluster: {server: https://k:1}\n"
			    "contexts:\n- name: x\n  context: {cluster: c, user: u}\n"
			    "users:\n- name: u\n  user: {tokenFile: tok}\n");
	mg_k8s_config *cfg = NULL;
	cr_assert_eq(load(&cfg, NULL, NULL, 0), 0);
	char *want = path_of("tok");
	cr_assert_str_eq(cfg->token_file, want);
	free(want);
	mg_k8s_config_free(cfg);
}

Test(k8s_config, unusable_kubeconfigs_are_explained)
{
	struct {
		const char *text;
		const char *why;
	} cases[] = {
		{"current-context: x\n", "context \"x\" not found"},
		{"clusters: []\n", "no current-context"},
		{"- a\n- b\n", "not one YAML mapping"},
		{"current-context: x\n  bad: [indent\n", "not valid YAML"},
		{"current-context: x\ncontexts:\n- name: x\n  context: {cluster: c}\n", "names no cluster"},
		{"current-context: x\nclusters:\n- name: c\n  cluster: {server: https://k, certificate-authority-data: '!!!'}\n"
		 "contexts:\n- name: x\n  context: {cluster: c}\n",
		 "not valid base64"},
		{"current-context: x\nclusters:\n- name: c\n  cluster: {server: https://k, certificate-authority: /nonexistent/ca}\n"
		 "contexts:\n- name: x\n  context: {cluster: c}\n",
		 "cannot read /nonexistent/ca"},
		{"current-context: x\nclusters:\n- name: c\n  cluster: {server: https://k}\n"
		 "contexts:\n- name: x\n  context: {cluster: c, user: u}\n"
		 "users:\n- name: u\n  user: {exec: {command: aws}}\n",
		 "exec/auth-provider"},
		{"current-context: x\nclusters:\n- name: c\n  cluster: {server: https://k}\n"
		 "contexts:\n- name: x\n  context: {cluster: c, user: u}\n"
		 "users:\n- name: u\n  user: {client-certificate-data: Zm9v}\n",
		 "without a key"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		put_file("kubeconfig", cases[i].text);
		mg_k8s_config *cfg = NULL;
		char why[256] = "";
		int rc = load(&cfg, NULL, why, sizeof(why));
		cr_assert_neq(rc, 0, "case %zu accepted", i);
		cr_assert_null(cfg);
		cr_assert(strstr(why, cases[i].why), "case %zu: %s", i, why);
	}
	mg_k8s_config *cfg = NULL;
	cr_assert_eq(mg_k8s_config_from_kubeconfig(&cfg, "/nonexistent/kc", NULL, NULL, 0), MG_ENOTFOUND);
}

Test(k8s_config, in_cluster_service_account)
{
	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	mg_k8s_config *cfg = NULL;
	cr_assert_eq(mg_k8s_config_in_cluster(&cfg, dir), MG_ENOTFOUND, "no ca.crt yet");
	put_file("ca.crt", ca.cert_pem);
	put_file("token", "sa-token\n");
	put_file("namespace", "mirrorgate-system\n");
	cr_assert_eq(mg_k8s_config_in_cluster(&cfg, dir), 0);
	cr_assert_str_eq(cfg->server, "https://10.96.0.1:443");
	cr_assert_str_eq(cfg->namespace, "mirrorgate-system");
	char *tok = path_of("token");
	cr_assert_str_eq(cfg->token_file, tok);
	free(tok);
	cr_assert_null(cfg->token, "the token is read per request, not cached at config time");
	mg_k8s_config_free(cfg);
	setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
	cr_assert_eq(mg_k8s_config_in_cluster(&cfg, dir), 0);
	cr_assert_str_eq(cfg->server, "https://[fd00::1]:443");
	mg_k8s_config_free(cfg);
	unsetenv("KUBERNETES_SERVICE_HOST");
	cr_assert_eq(mg_k8s_config_in_cluster(&cfg, dir), MG_ENOTFOUND);
}

Test(k8s_config, resource_paths)
{
	char *p = NULL;
	cr_assert_eq(mg_k8s_path(&p, &mg_k8s_res_tmr, "ns", "m", "status"), 0);
	cr_assert_str_eq(p, "/apis/trident.netapp.io/v1/namespaces/ns/tridentmirrorrelationships/m/status");
	free(p);
	cr_assert_eq(mg_k8s_path(&p, &mg_k8s_res_pvc, NULL, NULL, NULL), 0);
	cr_assert_str_eq(p, "/api/v1/persistentvolumeclaims");
	free(p);
	cr_assert_eq(mg_k8s_path(&p, &mg_k8s_res_sc, "ignored", "fast", NULL), 0);
	cr_assert_str_eq(p, "/apis/storage.k8s.io/v1/storageclasses/fast");
	free(p);
	cr_assert_eq(mg_k8s_path(&p, &mg_k8s_res_pvc, "", "x", NULL), MG_EINVAL);
}
