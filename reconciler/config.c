#include "fence.h"
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mirrorgate/core/doc.h"
#include "mirrorgate/reconcile/trident.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/util/file.h"
#include "mirrorgate/util/log.h"
#include "mirrorgate/util/tls.h"
#include "tbc_backends.h"

#define MAX_CONFIG_BYTES (1024 * 1024)
#define MAX_CRED_BYTES (64 * 1024)

static int field(char *dst, size_t cap, const cJSON *obj, const char *key, bool required,
		 size_t idx, char *why, size_t why_len)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(obj, key);
	dst[0] = '\0';
	if (!n || cJSON_IsNull(n)) {
		if (!required)
			return 0;
		snprintf(why, why_len, "backends[%zu].%s: required", idx, key);
		return MG_EPARSE;
	}
	if (!cJSON_IsString(n) || (required && !n->valuestring[0])) {
		snprintf(why, why_len, "backends[%zu].%s: must be a non-empty string", idx, key);
		return MG_EPARSE;
	}
	if (strlen(n->valuestring) >= cap) {
		snprintf(why, why_len, "backends[%zu].%s: longer than %zu characters", idx, key,
			 cap - 1);
		return MG_EPARSE;
	}
	snprintf(dst, cap, "%s", n->valuestring);
	return 0;
}

int mg_config_parse(mg_config *out, const char *text, size_t len, char *why, size_t why_len)
{
	memset(out, 0, sizeof(*out));
	mg_doc_list docs = {0};
	mg_parse_error perr;
	int rc = mg_doc_parse_yaml(&docs, text, len, &perr);
	if (rc != 0) {
		snprintf(why, why_len, "line %d: %s", perr.line, perr.message);
		return MG_EPARSE;
	}
	const cJSON *root = docs.len ? docs.items[0].root : NULL;
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "backends");
	const cJSON *mode = cJSON_GetObjectItemCaseSensitive(root, "mode");
	enum mg_rec_mode m;
	if (mode && (!cJSON_IsString(mode) || mg_rec_mode_parse(mode->valuestring, &m) != 0)) {
		snprintf(why, why_len, "mode: must be auto, controller or companion");
		rc = MG_EPARSE;
		goto out;
	}
	if (docs.len != 1 || !cJSON_IsArray(list) || cJSON_GetArraySize(list) == 0) {
		snprintf(why, why_len, "the file needs one document with a non-empty backends list");
		rc = MG_EPARSE;
		goto out;
	}
	size_t n = (size_t)cJSON_GetArraySize(list);
	out->backends = calloc(n, sizeof(*out->backends));
	if (!out->backends) {
		rc = MG_ENOMEM;
		goto out;
	}
	size_t i = 0;
	const cJSON *b;
	cJSON_ArrayForEach(b, list)
	{
		mg_backend_config *bc = &out->backends[i];
		if (!cJSON_IsObject(b)) {
			snprintf(why, why_len, "backends[%zu]: must be a mapping", i);
			rc = MG_EPARSE;
			goto out;
		}
		char lif[sizeof(bc->url) - 8];
		if ((rc = field(bc->name, sizeof(bc->name), b, "name", true, i, why, why_len)) ||
		    (rc = field(lif, sizeof(lif), b, "managementLIF", true, i, why, why_len)) ||
		    (rc = field(bc->svm, sizeof(bc->svm), b, "svm", true, i, why, why_len)) ||
		    (rc = field(bc->credentials_file, sizeof(bc->credentials_file), b,
				"credentialsFile", true, i, why, why_len)) ||
		    (rc = field(bc->ca_file, sizeof(bc->ca_file), b, "trustedCAFile", true, i, why,
				why_len)) ||
		    (rc = field(bc->policy, sizeof(bc->policy), b, "replicationPolicy", false, i,
				why, why_len)) ||
		    (rc = field(bc->schedule, sizeof(bc->schedule), b, "replicationSchedule", false,
				i, why, why_len)))
			goto out;
		if (strncmp(lif, "http://", 7) == 0) {
			snprintf(why, why_len, "backends[%zu].managementLIF: ONTAP is reached over "
					       "https only",
				 i);
			rc = MG_EPARSE;
			goto out;
		}
		bool scheme = strncmp(lif, "https://", 8) == 0;
		int w = snprintf(bc->url, sizeof(bc->url), "%s%.500s", scheme ? "" : "https://", lif);
		if (w < 0 || (size_t)w >= sizeof(bc->url)) {
			snprintf(why, why_len, "backends[%zu].managementLIF: too long", i);
			rc = MG_EPARSE;
			goto out;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(out->backends[j].name, bc->name) == 0 ||
			    strcmp(out->backends[j].svm, bc->svm) == 0) {
				snprintf(why, why_len, "backends[%zu]: name and svm must be unique", i);
				rc = MG_EPARSE;
				goto out;
			}
		i++;
	}
	out->nbackends = n;
	if (mode)
		snprintf(out->mode, sizeof(out->mode), "%s", mode->valuestring);
	rc = 0;
out:
	mg_doc_list_free(&docs);
	if (rc != 0) {
		free(out->backends);
		memset(out, 0, sizeof(*out));
	}
	return rc;
}

MG_DEFINE_FILE_LOADER(mg_config_load, mg_config, mg_config_parse, MAX_CONFIG_BYTES)

void mg_config_free(mg_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->backends);
	memset(cfg, 0, sizeof(*cfg));
}

int mg_credentials_read(const char *path, char **username, char **password, char *why,
			size_t why_len)
{
	*username = *password = NULL;
	char *text = NULL;
	size_t len = 0;
	int rc = mg_read_file(path, MAX_CRED_BYTES, &text, &len);
	if (rc != 0) {
		snprintf(why, why_len, "cannot read credentials file %s: %s", path, mg_strerror(rc));
		return rc;
	}
	mg_doc_list docs = {0};
	mg_parse_error perr;
	rc = mg_doc_parse_yaml(&docs, text, len, &perr);
	mg_free_secret(text);
	if (rc != 0) {
		/* the parser's message may quote the file: say where, not what */
		snprintf(why, why_len, "credentials file %s is not YAML (line %d)", path, perr.line);
		return MG_EPARSE;
	}
	const cJSON *root = docs.len ? docs.items[0].root : NULL;
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(root, "username");
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(root, "password");
	if (!cJSON_IsString(u) || !u->valuestring[0] || !cJSON_IsString(p) || !p->valuestring[0]) {
		snprintf(why, why_len, "credentials file %s needs non-empty username and password",
			 path);
		rc = MG_EPARSE;
	} else {
		*username = strdup(u->valuestring);
		*password = strdup(p->valuestring);
		if (!*username || !*password) {
			free(*username);
			mg_free_secret(*password);
			*username = *password = NULL;
			rc = MG_ENOMEM;
		}
	}
	if (cJSON_IsString(p)) {
		volatile char *q = p->valuestring;
		while (*q)
			*q++ = '\0';
	}
	mg_doc_list_free(&docs);
	return rc;
}

static int build_client(mg_ontap_client **out, const mg_backend_config *bc, long timeout_ms,
			mg_fence *fence, bool read_only, char *why, size_t why_len)
{
	char *user = NULL, *pass = NULL;
	int rc = mg_credentials_read(bc->credentials_file, &user, &pass, why, why_len);
	if (rc != 0)
		return rc;
	mg_ontap_config oc = MG_ONTAP_CONFIG_INIT;
	oc.base_url = bc->url;
	oc.ca_file = bc->ca_file[0] ? bc->ca_file : NULL;
	oc.username = user;
	oc.password = pass;
	oc.timeout_ms = timeout_ms;
	oc.read_only = read_only;
	oc.user_agent = MG_RECONCILER_USER_AGENT;
	if (fence) {
		oc.may_write = mg_fence_may_write;
		oc.may_write_ctx = fence;
	}
	/* ONTAP waits for each job itself, so a worker neither polls nor sleeps for the usual
	 * quick job; short, so a stuck job holds a worker only briefly before polling. */
	oc.return_timeout_s = 5;
	rc = mg_ontap_client_new(out, &oc);
	if (rc != 0)
		snprintf(why, why_len, "backend %s: ONTAP client: %s", bc->name, mg_strerror(rc));
	free(user);
	mg_free_secret(pass);
	return rc;
}

static struct timespec mtime_of(const char *path)
{
	struct stat st;
	struct timespec z = {0, 0};
	if (stat(path, &st) != 0)
		return z;
	return st.st_mtim;
}

int mg_backends_init(mg_backends *b, const mg_config *cfg, char *why, size_t why_len)
{
	return mg_backends_init_fenced(b, cfg, NULL, 30000, why, why_len);
}

int mg_backends_init_fenced(mg_backends *b, const mg_config *cfg, mg_fence *fence,
			    long timeout_ms, char *why, size_t why_len)
{
	memset(b, 0, sizeof(*b));
	int rc = MG_ENOMEM;
	if (pthread_rwlock_init(&b->lock, NULL) != 0)
		return MG_ENOMEM;
	b->timeout_ms = timeout_ms > 0 ? timeout_ms : 30000;
	b->fence = fence;
	/* no file backends at all is fine when they come from Trident's TBCs */
	size_t n = cfg->nbackends ? cfg->nbackends : 1;
	b->items = calloc(n, sizeof(*b->items));
	b->cred_mtime = calloc(n, sizeof(*b->cred_mtime));
	b->cfg.backends = calloc(n, sizeof(*b->cfg.backends));
	if (!b->items || !b->cred_mtime || !b->cfg.backends)
		goto out;
	if (cfg->nbackends)
		memcpy(b->cfg.backends, cfg->backends, cfg->nbackends * sizeof(*cfg->backends));
	b->cfg.nbackends = cfg->nbackends;
	for (size_t i = 0; i < cfg->nbackends; i++) {
		const mg_backend_config *bc = &cfg->backends[i];
		mg_backend *it = &b->items[i];
		snprintf(it->name, sizeof(it->name), "%s", bc->name);
		snprintf(it->svm, sizeof(it->svm), "%s", bc->svm);
		snprintf(it->policy, sizeof(it->policy), "%s", bc->policy);
		snprintf(it->schedule, sizeof(it->schedule), "%s", bc->schedule);
		b->cred_mtime[i] = mtime_of(bc->credentials_file);
		rc = build_client(&it->ontap, bc, b->timeout_ms, b->fence, false, why, why_len);
		if (rc != 0)
			goto out;
		b->len = i + 1;
	}
	rc = 0;
out:
	if (rc != 0)
		mg_backends_free(b);
	return rc;
}

int mg_backends_refresh(mg_backends *b)
{
	int rebuilt = 0;
	for (size_t i = 0; i < b->cfg.nbackends && i < b->len; i++) {
		const mg_backend_config *bc = &b->cfg.backends[i];
		struct timespec m = mtime_of(bc->credentials_file);
		if (m.tv_sec == b->cred_mtime[i].tv_sec && m.tv_nsec == b->cred_mtime[i].tv_nsec)
			continue;
		char why[512];
		mg_ontap_client *fresh = NULL;
		if (build_client(&fresh, bc, b->timeout_ms, b->fence, b->read_only, why, sizeof(why)) != 0) {
			mg_warn("credentials changed but are unusable; keeping the old ones", "backend",
				bc->name, "why", why, NULL);
			continue;
		}
		pthread_rwlock_wrlock(&b->lock);
		mg_ontap_client *old = b->items[i].ontap;
		b->items[i].ontap = fresh;
		b->cred_mtime[i] = m;
		pthread_rwlock_unlock(&b->lock);
		mg_ontap_client_free(old);
		mg_info("credentials re-read", "backend", bc->name, NULL);
		rebuilt++;
	}
	return rebuilt;
}

void mg_backends_set_read_only(mg_backends *b, bool read_only)
{
	pthread_rwlock_wrlock(&b->lock);
	b->read_only = read_only;
	for (size_t i = 0; i < b->len; i++)
		mg_ontap_client_set_read_only(b->items[i].ontap, read_only);
	pthread_rwlock_unlock(&b->lock);
}

void mg_backends_free(mg_backends *b)
{
	if (!b)
		return;
	free(b->tbc);
	for (size_t i = 0; b->items && i < b->len; i++)
		mg_ontap_client_free(b->items[i].ontap);
	free(b->items);
	free(b->cred_mtime);
	free(b->cfg.backends);
	pthread_rwlock_destroy(&b->lock);
	memset(b, 0, sizeof(*b));
}
