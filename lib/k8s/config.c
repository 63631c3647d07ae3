/* Where the API server is and how to authenticate: a kubeconfig or the in-cluster service
 * account, resolved the way client-go's clientcmd does it for the fields we support. */
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "mirrorgate/core/doc.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/k8s/client.h"
#include "mirrorgate/util/log.h"
#include "mirrorgate/util/strbuf.h"
#include "mirrorgate/util/tls.h"

#define KUBECONFIG_MAX (4u * 1024 * 1024)
#define PEM_MAX (1024u * 1024)

void mg_k8s_config_free(mg_k8s_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->server);
	if (cfg->token) {
		/* Wipe the credential before handing the memory back. */
		memset(cfg->token, 0, strlen(cfg->token));
		free(cfg->token);
	}
	free(cfg->token_file);
	free(cfg->ca_pem);
	free(cfg->client_cert_pem);
	if (cfg->client_key_pem) {
		memset(cfg->client_key_pem, 0, strlen(cfg->client_key_pem));
		free(cfg->client_key_pem);
	}
	free(cfg->namespace);
	free(cfg);
}

static void set_why(char *why, size_t why_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_why(char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;
	if (!why || !why_len)
		return;
	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
}

/* Finds the entry named `name` in a kubeconfig list such as clusters[] and returns its
 * inner object (e.g. the "cluster" member). */
static const cJSON *named_entry(const cJSON *root, const char *list, const char *inner,
				const char *name)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(root, list))
	{
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(e, "name");
		if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
			return cJSON_GetObjectItemCaseSensitive(e, inner);
	}
	return NULL;
}

static const char *str_member(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

static int b64_decode(char **out, const char *in)
{
	size_t n = strlen(in);
	unsigned char *buf = malloc(n / 4 * 3 + 4);
	if (!buf)
		return MG_ENOMEM;
	int len = EVP_DecodeBlock(buf, (const unsigned char *)in, (int)n);
	if (len < 0 || n % 4 != 0) {
		free(buf);
		return MG_EPARSE;
	}
	/* EVP_DecodeBlock counts the padding as data bytes. */
	while (n > 0 && in[n - 1] == '=' && len > 0) {
		n--;
		len--;
	}
	buf[len] = '\0';
	*out = (char *)buf;
	return 0;
}

static char *resolve_path(const char *dir, const char *p)
{
	if (p[0] == '/')
		return mg_strdup(p);
	return mg_asprintf("%s/%s", dir, p);
}

/* The value of `<field>-data` (base64) or the contents of the file named by `<field>`. */
static int data_or_file(char **out, const cJSON *obj, const char *field, const char *dir,
			char *why, size_t why_len)
{
	char key[64];
	snprintf(key, sizeof(key), "%s-data", field);
	const char *data = str_member(obj, key);
	if (data) {
		int rc = b64_decode(out, data);
		if (rc == MG_EPARSE)
			set_why(why, why_len, "%s is not valid base64", key);
		return rc;
	}
	const char *file = str_member(obj, field);
	if (!file) {
		*out = NULL;
		return 0;
	}
	char *path = resolve_path(dir, file);
	if (!path)
		return MG_ENOMEM;
	size_t len;
	int rc = mg_read_file(path, PEM_MAX, out, &len);
	if (rc != 0)
		set_why(why, why_len, "cannot read %s", path);
	free(path);
	return rc;
}

int mg_k8s_config_from_kubeconfig(mg_k8s_config **out, const char *path, const char *context,
				  char *why, size_t why_len)
{
	int rc;
	char *text = NULL, *pathcopy = NULL;
	size_t len;
	mg_doc_list docs = {0};
	mg_parse_error perr = {0};
	mg_k8s_config *cfg = NULL;
	if (!out || !path)
		return MG_EINVAL;
	if ((rc = mg_read_file(path, KUBECONFIG_MAX, &text, &len)) != 0) {
		set_why(why, why_len, "cannot read kubeconfig %s", path);
		goto out;
	}
	if ((rc = mg_doc_parse_yaml(&docs, text, len, &perr)) != 0) {
		set_why(why, why_len, "kubeconfig is not valid YAML: %s", perr.message);
		goto out;
	}
	rc = MG_EPARSE;
	const cJSON *root = docs.len == 1 ? docs.items[0].root : NULL;
	if (!cJSON_IsObject(root)) {
		set_why(why, why_len, "kubeconfig %s is not one YAML mapping", path);
		goto out;
	}
	if (!context)
		context = str_member(root, "current-context");
	if (!context) {
		set_why(why, why_len, "kubeconfig has no current-context and none was given");
		goto out;
	}
	const cJSON *ctx = named_entry(root, "contexts", "context", context);
	if (!ctx) {
		set_why(why, why_len, "context \"%s\" not found in kubeconfig", context);
		goto out;
	}
	const char *cluster_name = str_member(ctx, "cluster");
	const char *user_name = str_member(ctx, "user");
	const cJSON *cluster = cluster_name ? named_entry(root, "clusters", "cluster", cluster_name)
					    : NULL;
	if (!cluster || !str_member(cluster, "server")) {
		set_why(why, why_len, "context \"%s\" names no cluster with a server", context);
		goto out;
	}
	const cJSON *user = user_name ? named_entry(root, "users", "user", user_name) : NULL;
	if (!(pathcopy = mg_strdup(path))) {
		rc = MG_ENOMEM;
		goto out;
	}
	const char *dir = dirname(pathcopy);
	if (!(cfg = calloc(1, sizeof(*cfg)))) {
		rc = MG_ENOMEM;
		goto out;
	}
	cfg->server = mg_strdup(str_member(cluster, "server"));
	const char *ns = str_member(ctx, "namespace");
	cfg->namespace = mg_strdup(ns ? ns : "default");
	if (!cfg->server || !cfg->namespace) {
		rc = MG_ENOMEM;
		goto out;
	}
	const cJSON *insecure = cJSON_GetObjectItemCaseSensitive(cluster, "insecure-skip-tls-verify");
	cfg->insecure_skip_tls_verify = cJSON_IsTrue(insecure);
	if ((rc = data_or_file(&cfg->ca_pem, cluster, "certificate-authority", dir, why,
			       why_len)) != 0)
		goto out;
	if (cfg->insecure_skip_tls_verify) {
		mg_warn("kubeconfig disables TLS verification of the API server "
			"(insecure-skip-tls-verify); use only for testing",
			"context", context, NULL);
	}
	if (user) {
		const char *token = str_member(user, "token");
		const char *token_file = str_member(user, "tokenFile");
		if (token && !(cfg->token = mg_strdup(token))) {
			rc = MG_ENOMEM;
			goto out;
		}
		if (!token && token_file && !(cfg->token_file = resolve_path(dir, token_file))) {
			rc = MG_ENOMEM;
			goto out;
		}
		if ((rc = data_or_file(&cfg->client_cert_pem, user, "client-certificate", dir, why,
				       why_len)) != 0 ||
		    (rc = data_or_file(&cfg->client_key_pem, user, "client-key", dir, why,
				       why_len)) != 0)
			goto out;
		if (!cfg->client_cert_pem != !cfg->client_key_pem) {
			rc = MG_EPARSE;
			set_why(why, why_len,
				"user \"%s\" has a client certificate without a key or the reverse",
				user_name);
			goto out;
		}
		if (cJSON_GetObjectItemCaseSensitive(user, "exec") ||
		    cJSON_GetObjectItemCaseSensitive(user, "auth-provider")) {
			rc = MG_EPARSE;
			set_why(why, why_len,
				"user \"%s\" uses an exec/auth-provider plugin, which is not supported",
				user_name);
			goto out;
		}
	}
	*out = cfg;
	cfg = NULL;
	rc = 0;
out:
	if (text) {
		memset(text, 0, len);
		free(text);
	}
	free(pathcopy);
	mg_doc_list_free(&docs);
	mg_k8s_config_free(cfg);
	return rc;
}

int mg_k8s_config_in_cluster(mg_k8s_config **out, const char *sa_dir)
{
	int rc = MG_ENOMEM;
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	mg_k8s_config *cfg = NULL;
	char *ca_path = NULL, *ns_path = NULL;
	size_t len;
	if (!out)
		return MG_EINVAL;
	if (!host || !*host || !port || !*port)
		return MG_ENOTFOUND;
	if (!sa_dir)
		sa_dir = MG_K8S_SA_DIR;
	if (!(cfg = calloc(1, sizeof(*cfg))))
		goto out;
	/* An IPv6 service address needs brackets in a URL. */
	cfg->server = strchr(host, ':') ? mg_asprintf("https://[%s]:%s", host, port)
					: mg_asprintf("https://%s:%s", host, port);
	cfg->token_file = mg_asprintf("%s/token", sa_dir);
	ca_path = mg_asprintf("%s/ca.crt", sa_dir);
	ns_path = mg_asprintf("%s/namespace", sa_dir);
	if (!cfg->server || !cfg->token_file || !ca_path || !ns_path)
		goto out;
	if ((rc = mg_read_file(ca_path, PEM_MAX, &cfg->ca_pem, &len)) != 0) {
		rc = MG_ENOTFOUND;
		goto out;
	}
	if (mg_read_file(ns_path, 256, &cfg->namespace, &len) == 0) {
		while (len > 0 && (cfg->namespace[len - 1] == '\n' || cfg->namespace[len - 1] == ' '))
			cfg->namespace[--len] = '\0';
	}
	if (!cfg->namespace || !cfg->namespace[0]) {
		free(cfg->namespace);
		if (!(cfg->namespace = mg_strdup("default"))) {
			rc = MG_ENOMEM;
			goto out;
		}
	}
	*out = cfg;
	cfg = NULL;
	rc = 0;
out:
	free(ca_path);
	free(ns_path);
	mg_k8s_config_free(cfg);
	return rc;
}
