/* Topology seeding from a document:
 *
 *   clusters:
 *     - name: cluster-a
 *       version: 9.13.1          # 9.8.0 to exercise version-gated fields
 *       username: admin
 *       password: password-a
 *       readonly_username: viewer  # optional: GET only, else 403
 *       readonly_password: viewer-pw
 *       port: 0                  # 0 = any free port
 *       svms:
 *         - name: svm-a
 *           volumes:
 *             - {name: vol1, type: rw, size: 1073741824}
 *   peers:
 *     - {cluster: cluster-a, svm: svm-a, peer_cluster: cluster-b, peer_svm: svm-b}
 *   settings: {job_queue_ms: 200, job_run_ms: 800, job_purge_ms: 300000,
 *              transfer_queue_ms: 500, transfer_ms: 2000}
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "mirrorgate/core/doc.h"
#include "mirrorgate/util/err.h"

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

__attribute__((format(printf, 3, 4))) static int fail(char *msg, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, cap, fmt, ap);
	va_end(ap);
	return MG_EINVAL;
}


int sim_config_default(sim_fabric *f)
{
	sim_cluster *a = sim_cluster_add(f, "cluster-a", "9.13.1");
	sim_cluster *b = sim_cluster_add(f, "cluster-b", "9.13.1");
	if (!a || !b)
		return MG_ENOMEM;
	snprintf(a->password, sizeof(a->password), "password-a");
	snprintf(b->password, sizeof(b->password), "password-b");
	sim_svm *sa = sim_svm_add(f, a, "svm-a"), *sb = sim_svm_add(f, b, "svm-b");
	if (!sa || !sb)
		return MG_ENOMEM;
	return sim_svm_peer_add(f, sa, sb);
}

static int apply_settings(sim_fabric *f, const cJSON *s, char *msg, size_t cap)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
		{"job_queue_ms", offsetof(sim_settings, job_queue_ms)},
		{"job_run_ms", offsetof(sim_settings, job_run_ms)},
		{"job_purge_ms", offsetof(sim_settings, job_purge_ms)},
		{"transfer_queue_ms", offsetof(sim_settings, transfer_queue_ms)},
		{"transfer_ms", offsetof(sim_settings, transfer_ms)},
	};
	const cJSON *item;
	cJSON_ArrayForEach(item, s) {
		bool known = false;
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			if (strcmp(item->string, keys[i].key) != 0)
				continue;
			known = true;
			if (!cJSON_IsNumber(item) || item->valuedouble < 0 || item->valuedouble > 86400000.0)
				return fail(msg, cap, "settings.%s must be a number of ms (0..86400000)",
					    item->string);
			*(int64_t *)((char *)&f->settings + keys[i].off) = (int64_t)item->valuedouble;
		}
		if (!known)
			return fail(msg, cap, "settings: unknown key %s", item->string);
	}
	return 0;
}

static int apply_svm(sim_fabric *f, sim_cluster *c, const cJSON *js, char *msg, size_t cap)
{
	const char *name = str(js, "name");
	if (!name || !*name)
		return fail(msg, cap, "cluster %s: every SVM needs a name", c->name);
	/* SVM names are unique across the fabric so that paths never need aliases by default. */
	for (size_t i = 0; i < f->svms.len; i++) {
		sim_svm *s = f->svms.items[i];
		if (strcmp(s->name, name) == 0 && s->cluster != c)
			return fail(msg, cap, "SVM name %s is already used on another cluster", name);
	}
	sim_svm *s = sim_svm_find(f, c, name);
	if (!s && !(s = sim_svm_add(f, c, name)))
		return MG_ENOMEM;
	const cJSON *v;
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(js, "volumes")) {
		const char *vn = str(v, "name"), *type = str(v, "type");
		const cJSON *size = cJSON_GetObjectItemCaseSensitive(v, "size");
		if (!vn || !*vn)
			return fail(msg, cap, "SVM %s: every volume needs a name", name);
		if (type && strcmp(type, "rw") != 0 && strcmp(type, "dp") != 0)
			return fail(msg, cap, "volume %s: type must be rw or dp", vn);
		if (sim_volume_find(f, s, vn))
			return fail(msg, cap, "volume %s already exists", vn);
		if (size && (!cJSON_IsNumber(size) || size->valuedouble < 20.0 * 1024 * 1024 ||
			     size->valuedouble > SIM_MAX_VOLUME_SIZE))
			return fail(msg, cap, "volume %s: size must be 20 MiB to 1 PiB", vn);
		uint64_t bytes = size ? (uint64_t)size->valuedouble : 1073741824u;
		if (!sim_volume_add(f, s, vn, type ? type : "rw", bytes))
			return MG_ENOMEM;
	}
	return 0;
}

static int apply_cluster(sim_fabric *f, const cJSON *jc, bool allow_new, char *msg, size_t cap)
{
	const char *name = str(jc, "name");
	if (!name || !*name)
		return fail(msg, cap, "every cluster needs a name");
	sim_cluster *c = sim_cluster_find(f, name);
	if (!c) {
		if (!allow_new)
			return fail(msg, cap, "cluster %s does not exist (clusters are declared at start-up)",
				    name);
		const char *version = str(jc, "version");
		int g, ma, mi;
		if (version && sim_parse_version(version, &g, &ma, &mi) != 0)
			return fail(msg, cap, "cluster version %s is not like 9.13.1", version);
		if (!(c = sim_cluster_add(f, name, version)))
			return MG_ENOMEM;
		const char *user = str(jc, "username"), *pw = str(jc, "password");
		if (!pw || !*pw)
			return fail(msg, cap, "cluster %s needs a password", name);
		snprintf(c->username, sizeof(c->username), "%s", user ? user : "admin");
		snprintf(c->password, sizeof(c->password), "%s", pw);
		const char *ru = str(jc, "readonly_username"), *rp = str(jc, "readonly_password");
		if (ru && rp) {
			snprintf(c->ro_username, sizeof(c->ro_username), "%s", ru);
			snprintf(c->ro_password, sizeof(c->ro_password), "%s", rp);
		}
		const cJSON *port = cJSON_GetObjectItemCaseSensitive(jc, "port");
		if (cJSON_IsNumber(port)) {
			if (port->valuedouble < 0 || port->valuedouble > 65535)
				return fail(msg, cap, "cluster %s: port out of range", name);
			c->port = (unsigned)port->valuedouble;
		}
	}
	const cJSON *s;
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(jc, "svms")) {
		int rc = apply_svm(f, c, s, msg, cap);
		if (rc)
			return rc;
	}
	return 0;
}

int sim_config_apply(sim_fabric *f, const cJSON *doc, bool allow_new, char *msg, size_t cap)
{
	if (!cJSON_IsObject(doc))
		return fail(msg, cap, "the topology must be a mapping");
	const cJSON *item;
	cJSON_ArrayForEach(item, doc) {
		if (strcmp(item->string, "clusters") != 0 && strcmp(item->string, "peers") != 0 &&
		    strcmp(item->string, "settings") != 0)
			return fail(msg, cap, "unknown top-level key %s", item->string);
	}
	int rc;
	const cJSON *c;
	const cJSON *clusters = cJSON_GetObjectItemCaseSensitive(doc, "clusters");
	if (clusters && !cJSON_IsArray(clusters))
		return fail(msg, cap, "clusters must be a list");
	cJSON_ArrayForEach(c, clusters) {
		/* Cluster names are unique: they name listeners, peers and log entries. */
		for (const cJSON *prev = clusters->child; prev != c; prev = prev->next) {
			const char *a = str(prev, "name"), *b = str(c, "name");
			if (a && b && strcmp(a, b) == 0)
				return fail(msg, cap, "cluster %s is declared twice", b);
		}
		if ((rc = apply_cluster(f, c, allow_new, msg, cap)))
			return rc;
	}
	const cJSON *p;
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(doc, "peers")) {
		sim_cluster *ca = sim_cluster_find(f, str(p, "cluster"));
		sim_cluster *cb = sim_cluster_find(f, str(p, "peer_cluster"));
		sim_svm *a = ca ? sim_svm_find(f, ca, str(p, "svm")) : NULL;
		sim_svm *b = cb ? sim_svm_find(f, cb, str(p, "peer_svm")) : NULL;
		if (!a || !b)
			return fail(msg, cap, "peer entry names an unknown cluster or SVM (%s)",
				    str(p, "svm") ? str(p, "svm") : "");
		if ((rc = sim_svm_peer_add(f, a, b)))
			return rc;
	}
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(doc, "settings");
	if (s && (rc = apply_settings(f, s, msg, cap)))
		return rc;
	return 0;
}

int sim_config_apply_text(sim_fabric *f, const char *text, size_t len, bool allow_new, char *msg,
			  size_t cap)
{
	mg_doc_list docs = {0};
	mg_parse_error perr = {0};
	int rc = mg_doc_parse_yaml(&docs, text, len, &perr);
	if (rc != 0) {
		snprintf(msg, cap, "line %d: %s", perr.line, perr.message);
		return rc;
	}
	if (docs.len != 1) {
		mg_doc_list_free(&docs);
		return fail(msg, cap, "expected exactly one topology document");
	}
	rc = sim_config_apply(f, docs.items[0].root, allow_new, msg, cap);
	mg_doc_list_free(&docs);
	return rc;
}
