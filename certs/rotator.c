/* mirrorgate-cert-rotator: mirrorgate's own certificates, for clusters without cert-manager
 * (components/self-signed-certs runs it as a Job at install and as a daily CronJob).
 * One pass:
 * 1. the CA: Secret --ca-secret; made once (ten years) and kept, never re-made while it is
 *    valid, so the caBundle the API server trusts does not change when the serving
 *    certificate does;
 * 2. the caBundle of both webhook configurations is set to that CA, before any certificate
 *    it signed is served;
 * 3. the serving certificate: Secret --tls-secret (tls.crt, tls.key, ca.crt), re-issued
 *    from the CA when missing, not signed by this CA, or within --renew-before of expiry.
 * Because the CA is stable and the caBundle is written first, there is no moment at which
 * the served certificate and the caBundle disagree. The webhook re-reads the mounted files
 * on its own (--cert-reload-interval). Exit 0 on success, 1 with the reason on stderr. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "mirrorgate/k8s/client.h"
#include "mirrorgate/util/cli.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/util/strbuf.h"
#include "mirrorgate/util/tls.h"

static const mg_k8s_resource k_vwc = {"admissionregistration.k8s.io", "v1",
				      "validatingwebhookconfigurations", false};
static const mg_k8s_resource k_mwc = {"admissionregistration.k8s.io", "v1",
				      "mutatingwebhookconfigurations", false};

typedef struct opts {
	const char *kubeconfig, *ns, *service, *ca_secret, *tls_secret, *webhooks;
	long days, renew_before_days;
} opts;

static char *b64_encode(const char *data)
{
	size_t n = strlen(data);
	char *out = malloc(4 * ((n + 2) / 3) + 1);
	if (out)
		EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)data, (int)n);
	return out;
}

static char *b64_decode(const char *b64)
{
	size_t n = strlen(b64);
	unsigned char *out = malloc(3 * (n / 4) + 1);
	if (!out)
		return NULL;
	int len = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)n);
	if (len < 0) {
		free(out);
		return NULL;
	}
	while (n > 0 && b64[n - 1] == '=') { /* EVP_DecodeBlock counts the padding */
		len--;
		n--;
	}
	out[len] = '\0';
	return (char *)out;
}

/* data[key] of a Secret, decoded; NULL when absent or not base64. */
static char *secret_get(const cJSON *secret, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(secret, "data"), key);
	return cJSON_IsString(v) ? b64_decode(v->valuestring) : NULL;
}

/* Creates or replaces Secret `name` with data {k: v...} (NULL-terminated pairs). */
static int secret_put(mg_k8s_client *c, const char *ns, const char *name, cJSON *existing,
		      const char *const *kv)
{
	cJSON *obj = existing ? cJSON_Duplicate(existing, true) : cJSON_CreateObject();
	int rc = MG_ENOMEM;
	if (!obj)
		return rc;
	if (!existing) {
		cJSON *meta = cJSON_AddObjectToObject(obj, "metadata");
		cJSON_AddStringToObject(obj, "apiVersion", "v1");
		cJSON_AddStringToObject(obj, "kind", "Secret");
		cJSON_AddStringToObject(obj, "type", "Opaque");
		if (!meta || !cJSON_AddStringToObject(meta, "name", name) ||
		    !cJSON_AddStringToObject(meta, "namespace", ns))
			goto out;
		cJSON *labels = cJSON_AddObjectToObject(meta, "labels");
		if (!labels ||
		    !cJSON_AddStringToObject(labels, "app.kubernetes.io/part-of", "mirrorgate"))
			goto out;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(obj, "data");
	cJSON_DeleteItemFromObjectCaseSensitive(obj, "stringData");
	cJSON *data = cJSON_AddObjectToObject(obj, "data");
	if (!data)
		goto out;
	for (size_t i = 0; kv[i]; i += 2) {
		char *b = b64_encode(kv[i + 1]);
		if (!b || !cJSON_AddStringToObject(data, kv[i], b)) {
			free(b);
			goto out;
		}
		free(b);
	}
	rc = existing ? mg_k8s_update(NULL, c, &mg_k8s_res_secret, ns, obj, NULL)
		      : mg_k8s_create(NULL, c, &mg_k8s_res_secret, ns, obj, NULL);
out:
	cJSON_Delete(obj);
	return rc;
}

/* The CA from its Secret, made and stored when absent. */
static int ensure_ca(mg_k8s_client *c, const opts *o, mg_pem_pair *ca, bool *made)
{
	cJSON *secret = NULL;
	int rc = mg_k8s_get(&secret, c, &mg_k8s_res_secret, o->ns, o->ca_secret, NULL);
	*made = false;
	if (rc == 0) {
		ca->cert_pem = secret_get(secret, "tls.crt");
		ca->key_pem = secret_get(secret, "tls.key");
		cJSON_Delete(secret);
		if (!ca->cert_pem || !ca->key_pem || mg_tls_check_pair(ca->cert_pem, ca->key_pem)) {
			fprintf(stderr, "mirrorgate-cert-rotator: Secret %s/%s does not hold a CA "
					"(tls.crt and tls.key that match); delete it to make a new one\n",
				o->ns, o->ca_secret);
			return MG_EPARSE;
		}
		return 0;
	}
	if (rc != MG_ENOTFOUND)
		return rc;
	if ((rc = mg_tls_make_ca(ca, "mirrorgate-webhook-ca", 3650)))
		return rc;
	const char *kv[] = {"tls.crt", ca->cert_pem, "tls.key", ca->key_pem, NULL};
	if ((rc = secret_put(c, o->ns, o->ca_secret, NULL, kv)) == MG_ECONFLICT) {
		/* another run made it first: use theirs */
		mg_pem_pair_free(ca);
		return ensure_ca(c, o, ca, made);
	}
	*made = rc == 0;
	return rc;
}

/* Sets clientConfig.caBundle of every webhook of configuration `name` to `bundle`. */
static int patch_bundle(mg_k8s_client *c, const mg_k8s_resource *r, const char *name,
			const char *bundle, int *changed)
{
	cJSON *cfg = NULL;
	int rc = mg_k8s_get(&cfg, c, r, NULL, name, NULL);
	if (rc)
		return rc;
	bool dirty = false;
	const cJSON *wh;
	cJSON_ArrayForEach(wh, cJSON_GetObjectItemCaseSensitive(cfg, "webhooks")) {
		cJSON *cc = cJSON_GetObjectItemCaseSensitive(wh, "clientConfig");
		const cJSON *cur = cJSON_GetObjectItemCaseSensitive(cc, "caBundle");
		if (!cc || (cJSON_IsString(cur) && strcmp(cur->valuestring, bundle) == 0))
			continue;
		cJSON_DeleteItemFromObjectCaseSensitive(cc, "caBundle");
		if (!cJSON_AddStringToObject(cc, "caBundle", bundle)) {
			cJSON_Delete(cfg);
			return MG_ENOMEM;
		}
		dirty = true;
	}
	if (dirty && (rc = mg_k8s_update(NULL, c, r, NULL, cfg, NULL)) == 0)
		(*changed)++;
	cJSON_Delete(cfg);
	return rc;
}

/* Whether the serving Secret must be (re)issued, and why (for the log line). */
static const char *needs_issue(const cJSON *secret, const mg_pem_pair *ca, const opts *o)
{
	if (!secret)
		return "missing";
	char *crt = secret_get(secret, "tls.crt"), *key = secret_get(secret, "tls.key");
	char *bundle = secret_get(secret, "ca.crt");
	const char *why = NULL;
	time_t not_after = 0;
	if (!crt || !key || mg_tls_check_pair(crt, key))
		why = "unreadable";
	else if (!bundle || strcmp(bundle, ca->cert_pem) != 0)
		why = "not from this CA";
	else if (mg_tls_cert_not_after(crt, &not_after) ||
		 not_after - time(NULL) < o->renew_before_days * 86400)
		why = "expires soon";
	free(crt);
	free(key);
	free(bundle);
	return why;
}

static int run(const opts *o)
{
	mg_k8s_config *kcfg = NULL;
	mg_k8s_client *c = NULL;
	mg_pem_pair ca = {0}, leaf = {0};
	cJSON *tls = NULL;
	char *bundle = NULL, *cn = NULL, *sans[3] = {0};
	char why[512] = "";
	int rc = o->kubeconfig ? mg_k8s_config_from_kubeconfig(&kcfg, o->kubeconfig, NULL, why,
							       sizeof(why))
			       : mg_k8s_config_in_cluster(&kcfg, NULL);
	if (rc || (rc = mg_k8s_client_new(&c, kcfg))) {
		fprintf(stderr, "mirrorgate-cert-rotator: no Kubernetes client: %s %s\n",
			mg_strerror(rc), why);
		goto out;
	}
	const char *ns = o->ns ? o->ns : mg_k8s_client_namespace(c);
	opts oo = *o;
	oo.ns = ns;
	bool made = false;
	if ((rc = ensure_ca(c, &oo, &ca, &made))) {
		fprintf(stderr, "mirrorgate-cert-rotator: CA Secret %s/%s: %s\n", ns, o->ca_secret,
			mg_strerror(rc));
		goto out;
	}
	fprintf(stderr, "mirrorgate-cert-rotator: CA %s (Secret %s/%s)\n", made ? "made" : "kept",
		ns, o->ca_secret);
	/* caBundle first: a certificate is only ever served after the API server trusts its CA */
	if (!(bundle = b64_encode(ca.cert_pem))) {
		rc = MG_ENOMEM;
		goto out;
	}
	int changed = 0;
	if ((rc = patch_bundle(c, &k_vwc, o->webhooks, bundle, &changed)) ||
	    (rc = patch_bundle(c, &k_mwc, o->webhooks, bundle, &changed))) {
		fprintf(stderr, "mirrorgate-cert-rotator: webhook configuration %s: %s\n",
			o->webhooks, mg_strerror(rc));
		goto out;
	}
	fprintf(stderr, "mirrorgate-cert-rotator: caBundle %s\n",
		changed ? "updated" : "already current");
	rc = mg_k8s_get(&tls, c, &mg_k8s_res_secret, ns, o->tls_secret, NULL);
	if (rc && rc != MG_ENOTFOUND)
		goto out;
	const char *reason = needs_issue(tls, &ca, o);
	if (!reason) {
		fprintf(stderr, "mirrorgate-cert-rotator: serving certificate current\n");
		rc = 0;
		goto out;
	}
	cn = mg_asprintf("%s.%s.svc", o->service, ns);
	sans[0] = mg_asprintf("DNS:%s.%s.svc", o->service, ns);
	sans[1] = mg_asprintf("DNS:%s.%s.svc.cluster.local", o->service, ns);
	sans[2] = mg_asprintf("DNS:%s", o->service);
	if (!cn || !sans[0] || !sans[1] || !sans[2]) {
		rc = MG_ENOMEM;
		goto out;
	}
	if ((rc = mg_tls_make_leaf(&leaf, &ca, cn, (const char *const *)sans, 3, (int)o->days,
				   false)))
		goto out;
	const char *kv[] = {"tls.crt", leaf.cert_pem, "tls.key", leaf.key_pem, "ca.crt",
			    ca.cert_pem, NULL};
	if ((rc = secret_put(c, ns, o->tls_secret, tls, kv))) {
		fprintf(stderr, "mirrorgate-cert-rotator: Secret %s/%s: %s\n", ns, o->tls_secret,
			mg_strerror(rc));
		goto out;
	}
	fprintf(stderr, "mirrorgate-cert-rotator: serving certificate issued for %s (%s), "
			"valid %ld days\n", cn, reason, o->days);
out:
	for (int i = 0; i < 3; i++)
		free(sans[i]);
	free(cn);
	free(bundle);
	cJSON_Delete(tls);
	mg_pem_pair_free(&ca);
	mg_pem_pair_free(&leaf);
	mg_k8s_client_free(c);
	mg_k8s_config_free(kcfg);
	return rc;
}

static const char k_usage[] =
	"usage: mirrorgate-cert-rotator [flags]\n"
	"One pass: keep the CA (made once), set the webhook configurations' caBundle to it, and\n"
	"(re)issue the serving certificate when it is missing or expires within --renew-before.\n"
	"Every flag can also be set as MIRRORGATE_<FLAG>.\n"
	"  --kubeconfig FILE      default: the pod's service account\n"
	"  --namespace NS         default: the service account's namespace\n"
	"  --service NAME         the webhook Service (default mirrorgate-webhook)\n"
	"  --ca-secret NAME       (default mirrorgate-webhook-ca)\n"
	"  --tls-secret NAME      (default mirrorgate-webhook-tls)\n"
	"  --webhooks NAME        the Validating- and MutatingWebhookConfiguration (default mirrorgate)\n"
	"  --days N               serving certificate validity (default 90)\n"
	"  --renew-before N       days before expiry to re-issue (default 30)\n"
	"  --version, --help\n";

int main(int argc, char **argv)
{
	opts o = {NULL, NULL, "mirrorgate-webhook", "mirrorgate-webhook-ca", "mirrorgate-webhook-tls",
		  "mirrorgate", 90, 30};
	static const struct option lo[] = {
		{"kubeconfig", required_argument, NULL, 'k'}, {"namespace", required_argument, NULL, 'n'},
		{"service", required_argument, NULL, 's'},    {"ca-secret", required_argument, NULL, 'c'},
		{"tls-secret", required_argument, NULL, 't'}, {"webhooks", required_argument, NULL, 'w'},
		{"days", required_argument, NULL, 'd'},       {"renew-before", required_argument, NULL, 'r'},
		{"version", no_argument, NULL, 'V'},	      {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;
	/* MIRRORGATE_<FLAG> first, then the command line, as every mirrorgate binary */
	for (const struct option *p = lo; p->name; p++) {
		char env[96];
		const char *v;
		if (p->has_arg == no_argument || !mg_cli_env_name(env, sizeof(env), p->name) ||
		    !(v = getenv(env)))
			continue;
		switch (p->val) {
		case 'k': o.kubeconfig = v; break;
		case 'n': o.ns = v; break;
		case 's': o.service = v; break;
		case 'c': o.ca_secret = v; break;
		case 't': o.tls_secret = v; break;
		case 'w': o.webhooks = v; break;
		case 'd': o.days = strtol(v, NULL, 10); break;
		case 'r': o.renew_before_days = strtol(v, NULL, 10); break;
		}
	}
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", lo, NULL)) != -1) {
		char *end = NULL;
		switch (c) {
		case 'k': o.kubeconfig = optarg; break;
		case 'n': o.ns = optarg; break;
		case 's': o.service = optarg; break;
		case 'c': o.ca_secret = optarg; break;
		case 't': o.tls_secret = optarg; break;
		case 'w': o.webhooks = optarg; break;
		case 'd': o.days = strtol(optarg, &end, 10); break;
		case 'r': o.renew_before_days = strtol(optarg, &end, 10); break;
		case 'V': mg_cli_print_version(stdout, "mirrorgate-cert-rotator"); return 0;
		case 'h': fputs(k_usage, stdout); return 0;
		default:
			fprintf(stderr, "mirrorgate-cert-rotator: unknown or incomplete flag %s\n%s",
				argv[optind - 1], k_usage);
			return 2;
		}
		if (end && *end) {
			fprintf(stderr, "mirrorgate-cert-rotator: not a number: %s\n", optarg);
			return 2;
		}
	}
	if (optind < argc || o.days < 1 || o.days > 3650 || o.renew_before_days < 1 ||
	    o.renew_before_days >= o.days) {
		fprintf(stderr, "mirrorgate-cert-rotator: need 1 <= --renew-before < --days <= 3650 "
				"and no other arguments\n");
		return 2;
	}
	return run(&o) ? 1 : 0;
}
