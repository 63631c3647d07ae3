#include "tbc_backends.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fence.h"
#include "kobj.h"
#include "trident_detect.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/util/file.h"
#include "mirrorgate/util/log.h"

#define SOURCE_TBC "TridentBackendConfig"

/* Standard base64 (whitespace ignored) into a NUL-terminated string; NULL when invalid. */
static char *b64_decode(const char *in)
{
	size_t n = strlen(in);
	char *clean = malloc(n + 1);
	if (!clean)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (!isspace((unsigned char)in[i]))
			clean[k++] = in[i];
	clean[k] = '\0';
	unsigned char *out = NULL;
	if (k == 0 || k % 4 != 0 || !(out = malloc(k / 4 * 3 + 1)))
		goto fail;
	int len = EVP_DecodeBlock(out, (const unsigned char *)clean, (int)k);
	if (len < 0)
		goto fail;
	/* EVP_DecodeBlock counts the padding as data */
	if (clean[k - 1] == '=')
		len--;
	if (clean[k - 2] == '=')
		len--;
	out[len] = '\0';
	if (memchr(out, '\0', (size_t)len)) /* binary: not a string we can use */
		goto fail;
	mg_free_secret(clean);
	return (char *)out;
fail:
	mg_free_secret(clean);
	free(out);
	return NULL;
}

static const char *rv_of(const cJSON *obj)
{
	const char *rv = obj ? mg_kobj_str(obj, "metadata", "resourceVersion") : NULL;
	return rv ? rv : "";
}

static const char *spec_str(const cJSON *tbc, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(tbc, "spec"), key);
	return cJSON_IsString(v) && *v->valuestring ? v->valuestring : NULL;
}

/* A Secret's value for key (any case), decoded from data (base64) or stringData. */
static char *secret_value(const cJSON *secret, const char *key)
{
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(secret, "data");
	const cJSON *it;
	cJSON_ArrayForEach(it, data)
		if (it->string && strcasecmp(it->string, key) == 0 && cJSON_IsString(it))
			return b64_decode(it->valuestring);
	const cJSON *sd = cJSON_GetObjectItemCaseSensitive(secret, "stringData");
	cJSON_ArrayForEach(it, sd)
		if (it->string && strcasecmp(it->string, key) == 0 && cJSON_IsString(it))
			return strdup(it->valuestring);
	return NULL;
}

typedef struct built {
	mg_backend item;
	char fingerprint[96];
} built;

/* Builds the client for one TBC; on failure `problem` says what to fix. */
static int build(built *out, mg_k8s_client *kube, const char *ns, const cJSON *tbc,
		 struct mg_fence *fence, bool read_only, long timeout_ms, char *problem, size_t plen)
{
	memset(out, 0, sizeof(*out));
	const char *name = mg_kobj_str(tbc, "metadata", "name");
	const char *lif = spec_str(tbc, "managementLIF");
	const char *svm = spec_str(tbc, "svm");
	const char *ca_b64 = spec_str(tbc, "trustedCACertificate");
	const char *cert_b64 = spec_str(tbc, "clientCertificate");
	const cJSON *cred = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(tbc, "spec"), "credentials");
	const cJSON *sname = cJSON_GetObjectItemCaseSensitive(cred, "name");
	const cJSON *stype = cJSON_GetObjectItemCaseSensitive(cred, "type");
	char *user = NULL, *pass = NULL, *key_b64 = NULL, *key = NULL, *cert = NULL, *ca = NULL;
	cJSON *secret = NULL;
	int rc = MG_EINVAL;
	if (!lif || !svm) {
		snprintf(problem, plen, "spec.managementLIF and spec.svm are required (mirrorgate "
					"does not discover the SVM)");
		goto out;
	}
	if (!ca_b64 || !(ca = b64_decode(ca_b64)) || !strstr(ca, "BEGIN CERTIFICATE")) {
		snprintf(problem, plen, "spec.trustedCACertificate (base64 PEM) is %s: mirrorgate "
					"verifies ONTAP's certificate",
			 ca_b64 ? "not a base64 PEM certificate" : "missing");
		goto out;
	}
	if (!cJSON_IsString(sname) || !*sname->valuestring) {
		snprintf(problem, plen, "spec.credentials.name names no Secret");
		goto out;
	}
	if (cJSON_IsString(stype) && *stype->valuestring &&
	    strcmp(stype->valuestring, "secret") != 0) {
		snprintf(problem, plen, "spec.credentials.type %s is not supported (only "
					"Kubernetes Secrets)",
			 stype->valuestring);
		goto out;
	}
	mg_k8s_status st;
	rc = mg_k8s_get(&secret, kube, &mg_k8s_res_secret, ns, sname->valuestring, &st);
	if (rc != 0) {
		snprintf(problem, plen, "Secret %s/%s %s", ns, sname->valuestring,
			 rc == MG_ENOTFOUND ? "does not exist"
			 : rc == MG_EAUTH   ? "cannot be read (RBAC: the Role in Trident's "
					      "namespace grants get on Secrets)"
					    : mg_strerror(rc));
		goto out;
	}
	rc = MG_EINVAL;
	user = secret_value(secret, "username");
	pass = secret_value(secret, "password");
	key_b64 = secret_value(secret, "clientPrivateKey");
	if (key_b64 && !(key = b64_decode(key_b64))) {
		snprintf(problem, plen, "Secret %s/%s: clientPrivateKey is not base64 PEM", ns,
			 sname->valuestring);
		goto out;
	}
	if (key && (user || pass)) {
		snprintf(problem, plen, "Secret %s/%s has both username/password and "
					"clientPrivateKey: one authentication method (as Trident)",
			 ns, sname->valuestring);
		goto out;
	}
	if (key && (!cert_b64 || !(cert = b64_decode(cert_b64)))) {
		snprintf(problem, plen, "clientPrivateKey needs spec.clientCertificate (base64 PEM)");
		goto out;
	}
	if (!key && (!user || !pass || !*user || !*pass)) {
		snprintf(problem, plen, "Secret %s/%s needs the keys username and password (or "
					"clientPrivateKey)",
			 ns, sname->valuestring);
		goto out;
	}
	char url[600];
	snprintf(url, sizeof(url), "%s%.500s", strncmp(lif, "https://", 8) == 0 ? "" : "https://",
		 lif);
	mg_ontap_config oc = MG_ONTAP_CONFIG_INIT;
	oc.base_url = url;
	oc.ca_pem = ca;
	oc.username = key ? NULL : user;
	oc.password = key ? NULL : pass;
	oc.client_cert_pem = key ? cert : NULL;
	oc.client_key_pem = key;
	oc.timeout_ms = timeout_ms;
	oc.read_only = read_only;
	oc.user_agent = MG_RECONCILER_USER_AGENT;
	if (fence) { /* the lease fences these writes as the file's backends' (fence.h) */
		oc.may_write = mg_fence_may_write;
		oc.may_write_ctx = fence;
	}
	oc.return_timeout_s = 5;
	rc = mg_ontap_client_new(&out->item.ontap, &oc);
	if (rc != 0) {
		snprintf(problem, plen, "ONTAP client: %s (managementLIF %s)", mg_strerror(rc), lif);
		goto out;
	}
	snprintf(out->item.name, sizeof(out->item.name), "%s", name);
	snprintf(out->item.svm, sizeof(out->item.svm), "%s", svm);
	snprintf(out->fingerprint, sizeof(out->fingerprint), "%s/%s", rv_of(tbc), rv_of(secret));
	rc = 0;
out:
	free(user);
	mg_free_secret(pass);
	mg_free_secret(key_b64);
	mg_free_secret(key);
	free(cert);
	free(ca);
	cJSON_Delete(secret);
	return rc;
}

/* The fingerprint of what a TBC would build from now, without building: a cheap check. */
static void current_fingerprint(mg_k8s_client *kube, const char *ns, const cJSON *tbc,
				char *fp, size_t len)
{
	const cJSON *sname = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(tbc, "spec"),
						 "credentials"),
		"name");
	cJSON *secret = NULL;
	mg_k8s_status st;
	if (cJSON_IsString(sname))
		mg_k8s_get(&secret, kube, &mg_k8s_res_secret, ns, sname->valuestring, &st);
	snprintf(fp, len, "%s/%s", rv_of(tbc), rv_of(secret));
	cJSON_Delete(secret);
}

static void gauge(mg_rmetrics *m, const char *name, bool ready)
{
	const char *l[] = {"backend", name, "source", SOURCE_TBC, NULL};
	mg_rmetrics_set(m, "mirrorgate_backend_ready", l, ready ? 1 : 0);
}

static bool is_ontap(const cJSON *tbc)
{
	const char *d = spec_str(tbc, "storageDriverName");
	return d && strncmp(d, "ontap-", 6) == 0;
}

int mg_backends_sync_tbc(mg_backends *b, mg_k8s_client *kube, const char *ns,
			 mg_rmetrics *metrics, const mg_rctx *event_ctx)
{
	cJSON *tbcs = NULL;
	mg_k8s_status st;
	int rc = mg_k8s_list_all(&tbcs, NULL, kube, &mg_k8s_res_tbc, ns, NULL, &st);
	if (rc != 0) {
		mg_warn("cannot list TridentBackendConfigs; keeping the backends there are",
			"namespace", ns, "error", mg_strerror(rc), NULL);
		return 0;
	}
	size_t nfile = b->cfg.nbackends;
	size_t cap = (size_t)cJSON_GetArraySize(tbcs);
	mg_tbc_entry *entries = calloc(cap + 1, sizeof(*entries));
	bool *reused = calloc(b->ntbc + 1, sizeof(*reused));
	int rebuilt = 0;
	size_t n = 0;
	if (!entries || !reused) {
		free(entries);
		free(reused);
		cJSON_Delete(tbcs);
		return 0;
	}
	pthread_rwlock_rdlock(&b->lock);
	bool ro = b->read_only;
	long timeout = b->timeout_ms;
	pthread_rwlock_unlock(&b->lock);
	const cJSON *tbc;
	cJSON_ArrayForEach(tbc, tbcs)
	{
		const char *name = mg_kobj_str(tbc, "metadata", "name");
		if (!name || !is_ontap(tbc))
			continue;
		/* what this TBC had (this thread is the only writer of the TBC part) */
		size_t old = b->ntbc;
		for (size_t i = 0; i < b->ntbc; i++)
			if (strcmp(b->tbc[i].name, name) == 0)
				old = i;
		const mg_tbc_entry *prev = old < b->ntbc ? &b->tbc[old] : NULL;
		mg_tbc_entry *e = &entries[n++];
		char fp[96];
		current_fingerprint(kube, ns, tbc, fp, sizeof(fp));
		if (prev && prev->item.ontap && strcmp(prev->fingerprint, fp) == 0) {
			*e = *prev; /* unchanged: the same client */
			reused[old] = true;
			continue;
		}
		snprintf(e->name, sizeof(e->name), "%s", name);
		built nb;
		char problem[384] = "";
		if (build(&nb, kube, ns, tbc, b->fence, ro, timeout, problem, sizeof(problem)) == 0) {
			e->item = nb.item;
			snprintf(e->fingerprint, sizeof(e->fingerprint), "%s", nb.fingerprint);
			gauge(metrics, name, true);
			mg_info(prev ? "backend credentials re-read from TridentBackendConfig"
				     : "backend from TridentBackendConfig",
				"backend", name, "svm", nb.item.svm, NULL);
			rebuilt++;
			continue;
		}
		/* unusable: said once per change; the last good client (if any) stays */
		if (prev && prev->item.ontap) {
			e->item = prev->item;
			reused[old] = true;
		}
		snprintf(e->fingerprint, sizeof(e->fingerprint), "%s", fp);
		snprintf(e->problem, sizeof(e->problem), "%s", problem);
		gauge(metrics, name, e->item.ontap != NULL);
		if (!prev || strcmp(prev->problem, problem) != 0) {
			mg_warn("TridentBackendConfig unusable as an ONTAP backend", "tbc", name,
				"namespace", ns, "problem", problem, "kept_previous",
				e->item.ontap ? "true" : "false", NULL);
			if (event_ctx) {
				char msg[512];
				snprintf(msg, sizeof(msg), "mirrorgate cannot use this backend: %s",
					 problem);
				mg_kobj_event(event_ctx, tbc, "Warning", "MirrorgateBackendUnusable",
					      msg);
			}
		}
	}
	cJSON_Delete(tbcs);
	/* the new list: the file's backends, then every TBC with a client */
	mg_backend *items = calloc(nfile + n + 1, sizeof(*items));
	if (!items) {
		for (size_t i = 0; i < n; i++) {
			bool old_client = false;
			for (size_t j = 0; j < b->ntbc; j++)
				old_client |= b->tbc[j].item.ontap == entries[i].item.ontap;
			if (!old_client)
				mg_ontap_client_free(entries[i].item.ontap);
		}
		free(entries);
		free(reused);
		return 0;
	}
	size_t len = 0;
	for (size_t i = 0; i < nfile && i < b->len; i++)
		items[len++] = b->items[i];
	for (size_t i = 0; i < n; i++)
		if (entries[i].item.ontap)
			items[len++] = entries[i].item;
	pthread_rwlock_wrlock(&b->lock);
	mg_backend *old_items = b->items;
	mg_tbc_entry *old_tbc = b->tbc;
	size_t old_ntbc = b->ntbc;
	b->items = items;
	b->len = len;
	b->tbc = entries;
	b->ntbc = n;
	pthread_rwlock_unlock(&b->lock);
	for (size_t j = 0; j < old_ntbc; j++) {
		if (reused[j])
			continue;
		mg_ontap_client_free(old_tbc[j].item.ontap);
		bool still = false;
		for (size_t i = 0; i < n; i++)
			still |= strcmp(entries[i].name, old_tbc[j].name) == 0;
		if (!still) {
			mg_rmetrics_drop(metrics, "mirrorgate_backend_ready", "backend",
					 old_tbc[j].name);
			mg_info("backend gone with its TridentBackendConfig", "backend",
				old_tbc[j].name, NULL);
		}
	}
	free(old_items);
	free(old_tbc);
	free(reused);
	return rebuilt;
}
