/* The --provisioner file: the ONTAP backends this simulated cluster's "Trident" uses.
 *
 *   backends:
 *   - name: ontap-a
 *     managementLIF: https://127.0.0.1:40123
 *     svm: svm-a
 *     username: admin
 *     passwordFile: /path/password      # or password: ...
 *     trustedCAFile: /path/ca.pem
 *     storagePrefix: trident_            # default
 *   settings: {retryBaseMs: 200, retryCapMs: 5000, resyncMs: 1000, ontapTimeoutMs: 10000}
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirrorgate/core/doc.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/core/names.h"
#include "mirrorgate/util/strbuf.h"
#include "mirrorgate/util/file.h"
#include "mirrorgate/util/tls.h"
#include "prov.h"

#define PROV_MAX_FILE (1024 * 1024)
#define PROV_MAX_PASSWORD 4096

static int fail(char *why, size_t why_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
	return MG_EPARSE;
}

/* A string field copied into a fixed buffer; absent is fine unless required. */
static int copy_field(char *dst, size_t cap, const cJSON *item, const char *key, bool required,
		      const char *where, char *why, size_t why_len)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(item, key);
	if (!v) {
		if (required)
			return fail(why, why_len, "%s: %s is required", where, key);
		return 0;
	}
	if (!cJSON_IsString(v) || !v->valuestring[0])
		return fail(why, why_len, "%s: %s must be a non-empty string", where, key);
	if (strlen(v->valuestring) >= cap)
		return fail(why, why_len, "%s: %s is too long", where, key);
	snprintf(dst, cap, "%s", v->valuestring);
	return 0;
}

static int read_password(ksim_prov_backend_cfg *b, const cJSON *item, const char *where,
			 char *why, size_t why_len)
{
	const cJSON *pw = cJSON_GetObjectItemCaseSensitive(item, "password");
	const cJSON *pf = cJSON_GetObjectItemCaseSensitive(item, "passwordFile");
	if ((pw != NULL) == (pf != NULL))
		return fail(why, why_len, "%s: exactly one of password and passwordFile is required", where);
	if (pw) {
		if (!cJSON_IsString(pw) || !pw->valuestring[0])
			return fail(why, why_len, "%s: password must be a non-empty string", where);
		b->password = mg_strdup(pw->valuestring);
		return b->password ? 0 : MG_ENOMEM;
	}
	if (!cJSON_IsString(pf) || !pf->valuestring[0])
		return fail(why, why_len, "%s: passwordFile must be a non-empty string", where);
	char *text = NULL;
	size_t len = 0;
	int rc = mg_read_file(pf->valuestring, PROV_MAX_PASSWORD, &text, &len);
	if (rc != 0) {
		fail(why, why_len, "%s: cannot read passwordFile %s", where, pf->valuestring);
		return MG_EIO;
	}
	/* A Secret mounted as a file often ends with a newline that is not part of it. */
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		text[--len] = '\0';
	if (len == 0) {
		free(text);
		return fail(why, why_len, "%s: passwordFile %s is empty", where, pf->valuestring);
	}
	b->password = text;
	return 0;
}

static int check_keys(const cJSON *obj, const char *const *allowed, const char *where, char *why,
		      size_t why_len)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, obj)
	{
		bool ok = false;
		for (size_t i = 0; allowed[i]; i++)
			ok = ok || strcmp(it->string, allowed[i]) == 0;
		if (!ok)
			return fail(why, why_len, "%s: unknown field %s", where, it->string);
	}
	return 0;
}

static int parse_backend(ksim_prov_backend_cfg *b, const cJSON *item, size_t idx, char *why,
			 size_t why_len)
{
	static const char *const keys[] = {"name", "managementLIF", "svm", "username", "password",
					   "passwordFile", "trustedCAFile", "storagePrefix", NULL};
	char where[64];
	snprintf(where, sizeof(where), "backends[%zu]", idx);
	if (!cJSON_IsObject(item))
		return fail(why, why_len, "%s: must be a mapping", where);
	int rc;
	if ((rc = check_keys(item, keys, where, why, why_len)) != 0 ||
	    (rc = copy_field(b->name, sizeof(b->name), item, "name", true, where, why, why_len)) ||
	    (rc = copy_field(b->url, sizeof(b->url), item, "managementLIF", true, where, why,
			     why_len)) ||
	    (rc = copy_field(b->svm, sizeof(b->svm), item, "svm", true, where, why, why_len)) ||
	    (rc = copy_field(b->username, sizeof(b->username), item, "username", false, where, why,
			     why_len)) ||
	    (rc = copy_field(b->ca_file, sizeof(b->ca_file), item, "trustedCAFile", true, where,
			     why, why_len)) ||
	    (rc = copy_field(b->prefix, sizeof(b->prefix), item, "storagePrefix", false, where, why,
			     why_len)))
		return rc;
	if (strncmp(b->url, "https://", 8) != 0)
		return fail(why, why_len, "%s: managementLIF must be an https:// URL, got \"%s\"", where, b->url);
	if (!mg_is_ontap_svm_name(b->svm))
		return fail(why, why_len, "%s: svm \"%s\" is not a valid SVM name", where, b->svm);
	if (!b->username[0])
		snprintf(b->username, sizeof(b->username), "admin");
	const cJSON *pfx = cJSON_GetObjectItemCaseSensitive(item, "storagePrefix");
	if (!pfx)
		snprintf(b->prefix, sizeof(b->prefix), "%s", KSIM_DEFAULT_PREFIX);
	return read_password(b, item, where, why, why_len);
}

static int parse_ms(long *out, const cJSON *settings, const char *key, long min, long max,
		    char *why, size_t why_len)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(settings, key);
	if (!v)
		return 0;
	if (!cJSON_IsNumber(v) || v->valuedouble < (double)min || v->valuedouble > (double)max ||
	    v->valuedouble != (double)(long)v->valuedouble) {
		char range[64];
		snprintf(range, sizeof(range), "[%ld, %ld]", min, max);
		return fail(why, why_len, "settings: %s must be a whole number in %s", key, range);
	}
	*out = (long)v->valuedouble;
	return 0;
}

static int parse_root(ksim_prov_config *c, const cJSON *root, char *why, size_t why_len)
{
	static const char *const top[] = {"backends", "settings", NULL};
	static const char *const skeys[] = {"retryBaseMs", "retryCapMs", "resyncMs",
					    "ontapTimeoutMs", NULL};
	int rc;
	if (!cJSON_IsObject(root))
		return fail(why, why_len, "the file must be a mapping with backends:");
	if ((rc = check_keys(root, top, "provisioner", why, why_len)) != 0)
		return rc;
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "backends");
	if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) == 0)
		return fail(why, why_len, "backends: a non-empty list is required");
	size_t n = (size_t)cJSON_GetArraySize(list);
	if (!(c->backends = calloc(n, sizeof(*c->backends))))
		return MG_ENOMEM;
	const cJSON *item;
	cJSON_ArrayForEach(item, list)
	{
		if ((rc = parse_backend(&c->backends[c->nbackends], item, c->nbackends, why,
					why_len)) != 0) {
			c->nbackends++; /* so that its password is freed */
			return rc;
		}
		for (size_t i = 0; i < c->nbackends; i++)
			if (strcmp(c->backends[i].name, c->backends[c->nbackends].name) == 0) {
				c->nbackends++;
				return fail(why, why_len, "backends: duplicate name %s", c->backends[i].name);
			}
		c->nbackends++;
	}
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(root, "settings");
	if (s) {
		if (!cJSON_IsObject(s))
			return fail(why, why_len, "settings: must be a mapping");
		if ((rc = check_keys(s, skeys, "settings", why, why_len)) != 0 ||
		    (rc = parse_ms(&c->retry_base_ms, s, "retryBaseMs", 1, 600000, why, why_len)) ||
		    (rc = parse_ms(&c->retry_cap_ms, s, "retryCapMs", 1, 3600000, why, why_len)) ||
		    (rc = parse_ms(&c->resync_ms, s, "resyncMs", 10, 3600000, why, why_len)) ||
		    (rc = parse_ms(&c->ontap_timeout_ms, s, "ontapTimeoutMs", 100, 300000, why,
				   why_len)))
			return rc;
	}
	if (c->retry_cap_ms < c->retry_base_ms)
		return fail(why, why_len, "settings: retryCapMs must not be below retryBaseMs");
	return 0;
}

int ksim_prov_config_parse(ksim_prov_config *out, const char *text, size_t len, char *why,
			   size_t why_len)
{
	ksim_prov_config c = {0};
	c.retry_base_ms = 200;
	c.retry_cap_ms = 5000;
	c.resync_ms = 1000;
	c.ontap_timeout_ms = 10000;
	mg_doc_list docs = {0};
	mg_parse_error perr = {0};
	int rc = mg_doc_parse_yaml(&docs, text, len, &perr);
	if (rc != 0) {
		if (rc == MG_EPARSE)
			snprintf(why, why_len, "line %d: %s", perr.line, perr.message);
		goto out;
	}
	if (docs.len != 1) {
		rc = fail(why, why_len, "expected exactly one YAML document");
		goto out;
	}
	rc = parse_root(&c, docs.items[0].root, why, why_len);
out:
	mg_doc_list_free(&docs);
	if (rc != 0)
		ksim_prov_config_free(&c);
	else
		*out = c;
	return rc;
}

MG_DEFINE_FILE_LOADER(ksim_prov_config_load, ksim_prov_config, ksim_prov_config_parse,
		      PROV_MAX_FILE)

void ksim_prov_config_free(ksim_prov_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->nbackends; i++) {
		mg_free_secret(cfg->backends[i].password);
	}
	free(cfg->backends);
	memset(cfg, 0, sizeof(*cfg));
}

/* Kubernetes quantities: a decimal number, then a binary (Ki..Ei) or decimal (k..E)
 * suffix or an exponent (e3/E3). Bytes cannot be fractional: the result rounds up, as the
 * API server does for Value(). */
int ksim_parse_quantity(uint64_t *out, const char *s)
{
	static const struct {
		const char *sfx;
		double mul;
	} sfx[] = {{"Ki", 1024.0},
		   {"Mi", 1048576.0},
		   {"Gi", 1073741824.0},
		   {"Ti", 1099511627776.0},
		   {"Pi", 1125899906842624.0},
		   {"Ei", 1152921504606846976.0},
		   {"k", 1e3},
		   {"M", 1e6},
		   {"G", 1e9},
		   {"T", 1e12},
		   {"P", 1e15},
		   {"E", 1e18},
		   {"", 1.0}};
	if (!s || !*s || strlen(s) > 64)
		return MG_EINVAL;
	const char *p = s;
	if (*p == '+')
		p++;
	const char *num = p;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (p == num || (p == num + 1 && *num == '.'))
		return MG_EINVAL;
	char buf[72];
	snprintf(buf, sizeof(buf), "%.*s", (int)(p - num), num);
	errno = 0;
	double v = strtod(buf, NULL);
	if (errno)
		return MG_EINVAL;
	double mul = 0;
	if ((*p == 'e' || *p == 'E') && p[1] && (p[1] == '-' || p[1] == '+' || (p[1] >= '0' && p[1] <= '9'))) {
		char *end;
		errno = 0;
		long e = strtol(p + 1, &end, 10);
		if (errno || *end || e < -18 || e > 18)
			return MG_EINVAL;
		mul = 1;
		for (long i = 0; i < (e < 0 ? -e : e); i++)
			mul = e < 0 ? mul / 10 : mul * 10;
	} else {
		for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++)
			if (strcmp(p, sfx[i].sfx) == 0) {
				mul = sfx[i].mul;
				break;
			}
	}
	if (mul == 0)
		return MG_EINVAL;
	double bytes = v * mul;
	if (bytes >= 18446744073709549568.0)
		return MG_ETOOBIG;
	uint64_t b = (uint64_t)bytes;
	if ((double)b < bytes)
		b++;
	*out = b;
	return 0;
}
