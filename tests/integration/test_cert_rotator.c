/* mirrorgate-cert-rotator against kube-sim: the CA is made once and kept, the caBundle of
 * both webhook configurations is set to it, the serving certificate is issued from it and
 * re-issued only when it nears expiry, from the same CA (no caBundle change, so no
 * mismatch window); an unusable CA Secret is refused with the reason. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "kube_support.h"
#include "mirrorgate/k8s/client.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/util/tls.h"

static kube_sim_proc K;
static mg_k8s_config *g_cfg;
static mg_k8s_client *g_c;
static const mg_k8s_resource k_vwc = {"admissionregistration.k8s.io", "v1",
				      "validatingwebhookconfigurations", false};
static const mg_k8s_resource k_mwc = {"admissionregistration.k8s.io", "v1",
				      "mutatingwebhookconfigurations", false};

static void create(const mg_k8s_resource *r, const char *ns, const char *json)
{
	cJSON *o = cJSON_Parse(json);
	cr_assert_not_null(o, "%s", json);
	cr_assert_eq(mg_k8s_create(NULL, g_c, r, ns, o, NULL), 0, "%s", json);
	cJSON_Delete(o);
}

static void setup(void)
{
	cr_assert_eq(kube_sim_start(&K, NULL), 0);
	char why[256];
	cr_assert_eq(mg_k8s_config_from_kubeconfig(&g_cfg, K.kubeconfig, NULL, why, sizeof(why)), 0,
		     "%s", why);
	cr_assert_eq(mg_k8s_client_new(&g_c, g_cfg), 0);
	create(&mg_k8s_res_namespace, NULL,
	       "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"mirrorgate\"}}");
	static const char *const kinds[] = {"ValidatingWebhookConfiguration",
					    "MutatingWebhookConfiguration"};
	for (int i = 0; i < 2; i++) {
		char json[1024];
		snprintf(json, sizeof(json),
			 "{\"apiVersion\":\"admissionregistration.k8s.io/v1\",\"kind\":\"%s\","
			 "\"metadata\":{\"name\":\"mirrorgate\"},\"webhooks\":[{\"name\":\"a.mirrorgate.io\","
			 "\"clientConfig\":{\"service\":{\"name\":\"mirrorgate-webhook\",\"namespace\":"
			 "\"mirrorgate\",\"path\":\"/validate\"}},\"rules\":[{\"apiGroups\":[\"trident.netapp.io\"],"
			 "\"apiVersions\":[\"v1\"],\"resources\":[\"tridentmirrorrelationships\"],"
			 "\"operations\":[\"CREATE\"]}],\"failurePolicy\":\"Ignore\",\"sideEffects\":\"None\","
			 "\"admissionReviewVersions\":[\"v1\"]}]}",
			 kinds[i]);
		create(i ? &k_mwc : &k_vwc, NULL, json);
	}
}

static void teardown(void)
{
	mg_k8s_client_free(g_c);
	mg_k8s_config_free(g_cfg);
	kube_sim_stop(&K);
}

TestSuite(cert_rotator, .init = setup, .fini = teardown, .timeout = 120);

static int rotate(char **out, const char *days, const char *renew_before)
{
	const char *argv[] = {MG_BIN_DIR "/mirrorgate-cert-rotator", "--kubeconfig", K.kubeconfig,
			      "--namespace", "mirrorgate", "--days", days, "--renew-before",
			      renew_before, NULL};
	return kube_run(out, 60000, argv, NULL);
}

/* data[key] of Secret ns/name, decoded (caller frees); NULL when absent. */
static char *secret(const char *name, const char *key, char *rv, size_t rv_len)
{
	cJSON *s = NULL;
	if (mg_k8s_get(&s, g_c, &mg_k8s_res_secret, "mirrorgate", name, NULL))
		return NULL;
	const cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(s, "data"), key);
	if (rv)
		snprintf(rv, rv_len, "%s",
			 cJSON_GetObjectItem(cJSON_GetObjectItem(s, "metadata"), "resourceVersion")
				 ->valuestring);
	char *out = NULL;
	if (cJSON_IsString(v)) {
		size_t n = strlen(v->valuestring);
		out = calloc(1, n + 1);
		int len = EVP_DecodeBlock((unsigned char *)out, (unsigned char *)v->valuestring, (int)n);
		while (len > 0 && n > 0 && v->valuestring[n - 1] == '=') {
			len--;
			n--;
		}
		out[len > 0 ? len : 0] = '\0';
	}
	cJSON_Delete(s);
	return out;
}

static void expect_bundles(const char *ca_pem)
{
	size_t n = strlen(ca_pem);
	char *b64 = calloc(1, 4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)ca_pem, (int)n);
	for (int i = 0; i < 2; i++) {
		cJSON *cfg = NULL;
		cr_assert_eq(mg_k8s_get(&cfg, g_c, i ? &k_mwc : &k_vwc, NULL, "mirrorgate", NULL), 0);
		const cJSON *wh = cJSON_GetArrayItem(cJSON_GetObjectItem(cfg, "webhooks"), 0);
		const cJSON *bundle = cJSON_GetObjectItem(cJSON_GetObjectItem(wh, "clientConfig"),
							  "caBundle");
		cr_expect(cJSON_IsString(bundle) && strcmp(bundle->valuestring, b64) == 0,
			  "configuration %d: caBundle is not the CA", i);
		cJSON_Delete(cfg);
	}
	free(b64);
}

Test(cert_rotator, makes_the_ca_once_and_renews_from_it_without_changing_the_bundle)
{
	char *out = NULL;
	cr_assert_eq(rotate(&out, "90", "30"), 0, "%s", out);
	cr_expect(strstr(out, "CA made"), "%s", out);
	cr_expect(strstr(out, "serving certificate issued"), "%s", out);
	cr_expect_null(strstr(out, "PRIVATE"), "keys are never printed");
	free(out);
	char rv1[64], rv2[64], rv3[64];
	char *ca = secret("mirrorgate-webhook-ca", "tls.crt", NULL, 0);
	char *crt = secret("mirrorgate-webhook-tls", "tls.crt", rv1, sizeof(rv1));
	char *key = secret("mirrorgate-webhook-tls", "tls.key", NULL, 0);
	char *bundle = secret("mirrorgate-webhook-tls", "ca.crt", NULL, 0);
	cr_assert(ca && crt && key && bundle);
	cr_expect_eq(mg_tls_check_pair(crt, key), 0);
	cr_expect_str_eq(bundle, ca, "the serving Secret's ca.crt is the CA");
	expect_bundles(ca);
	time_t not_after;
	cr_assert_eq(mg_tls_cert_not_after(crt, &not_after), 0);
	cr_expect(not_after > time(NULL) + 89 * 86400 && not_after < time(NULL) + 91 * 86400);

	/* a second pass changes nothing */
	cr_assert_eq(rotate(&out, "90", "30"), 0, "%s", out);
	cr_expect(strstr(out, "CA kept") && strstr(out, "caBundle already current") &&
			  strstr(out, "serving certificate current"),
		  "%s", out);
	free(out);
	free(secret("mirrorgate-webhook-tls", "tls.crt", rv2, sizeof(rv2)));
	cr_expect_str_eq(rv2, rv1, "the serving Secret was rewritten");

	/* within --renew-before of expiry: a new certificate, from the same CA */
	cr_assert_eq(rotate(&out, "200", "100"), 0, "%s", out);
	cr_expect(strstr(out, "expires soon"), "%s", out);
	cr_expect(strstr(out, "caBundle already current"), "%s", out);
	free(out);
	char *crt2 = secret("mirrorgate-webhook-tls", "tls.crt", rv3, sizeof(rv3));
	char *ca2 = secret("mirrorgate-webhook-ca", "tls.crt", NULL, 0);
	cr_assert(crt2 && ca2);
	cr_expect_str_neq(crt2, crt, "not re-issued");
	cr_expect_str_eq(ca2, ca, "the CA changed");
	expect_bundles(ca);
	free(ca);
	free(ca2);
	free(crt);
	free(crt2);
	free(key);
	free(bundle);
}

Test(cert_rotator, refuses_an_unusable_ca_secret_and_bad_flags)
{
	create(&mg_k8s_res_secret, "mirrorgate",
	       "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":"
	       "\"mirrorgate-webhook-ca\",\"namespace\":\"mirrorgate\"},\"data\":{\"tls.crt\":\"bm90IGEgY2VydA==\"}}");
	char *out = NULL;
	cr_expect_eq(rotate(&out, "90", "30"), 1, "%s", out);
	cr_expect(strstr(out, "does not hold a CA"), "%s", out);
	free(out);
	cr_expect_eq(rotate(&out, "30", "30"), 2, "%s", out);
	cr_expect(strstr(out, "--renew-before < --days"), "%s", out);
	free(out);
	cr_expect_null(secret("mirrorgate-webhook-tls", "tls.crt", NULL, 0), "nothing issued");
}
