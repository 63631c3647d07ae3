#include "mirrorgate/core/topology.h"

#include <stdlib.h>
#include <string.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/util/strbuf.h"

#define RULE "TOPOLOGY"

static const char *type_of(const cJSON *n)
{
	return cJSON_IsString(n) ? "string" : cJSON_IsNumber(n) ? "number" : cJSON_IsBool(n) ? "boolean"
	     : cJSON_IsArray(n) ? "array" : cJSON_IsObject(n) ? "object" : "null";
}

static int bad_type(mg_field_errors *errs, const char *path, const cJSON *got, const char *want)
{
	int rc = mg_fe_add(errs, RULE, MG_FE_INVALID, path, type_of(got), "must be %s", want);
	return rc ? rc : MG_EPARSE;
}

/* A list of strings into an owned array. */
static int string_list(char ***out, size_t *n, const cJSON *node, const char *path,
		       mg_field_errors *errs)
{
	if (!cJSON_IsArray(node))
		return bad_type(errs, path, node, "a list of names");
	size_t count = (size_t)cJSON_GetArraySize(node);
	char **items = calloc(count ? count : 1, sizeof(*items));
	if (!items)
		return MG_ENOMEM;
	size_t i = 0;
	for (const cJSON *it = node->child; it; it = it->next, i++) {
		if (!cJSON_IsString(it) || !*it->valuestring) {
			char *p = mg_asprintf("%s[%zu]", path, i);
			int rc = p ? bad_type(errs, p, it, "a non-empty string") : MG_ENOMEM;
			free(p);
			*out = items;
			*n = i;
			return rc;
		}
		if (!(items[i] = mg_strdup(it->valuestring))) {
			*out = items;
			*n = i;
			return MG_ENOMEM;
		}
	}
	*out = items;
	*n = count;
	return 0;
}

static void free_list(char **items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(items[i]);
	free(items);
}

static int decode_peers(mg_topology *t, const cJSON *node, mg_field_errors *errs)
{
	if (!cJSON_IsObject(node))
		return bad_type(errs, "peers", node, "a mapping of local SVM name to a list of peer SVMs");
	size_t count = (size_t)cJSON_GetArraySize(node);
	t->peers = calloc(count ? count : 1, sizeof(*t->peers));
	if (!t->peers)
		return MG_ENOMEM;
	for (const cJSON *m = node->child; m; m = m->next) {
		mg_svm_peers *p = &t->peers[t->npeers++];
		if (!(p->svm = mg_strdup(m->string)))
			return MG_ENOMEM;
		char *path = mg_asprintf("peers[%s]", m->string);
		if (!path)
			return MG_ENOMEM;
		int rc = string_list(&p->peers, &p->npeers, m, path, errs);
		free(path);
		if (rc)
			return rc;
	}
	t->peers_known = true;
	return 0;
}

static int decode_policies(mg_topology *t, const cJSON *node, mg_field_errors *errs)
{
	if (!cJSON_IsArray(node))
		return bad_type(errs, "policies", node, "a list of policies");
	size_t count = (size_t)cJSON_GetArraySize(node);
	t->policies = calloc(count ? count : 1, sizeof(*t->policies));
	if (!t->policies)
		return MG_ENOMEM;
	size_t i = 0;
	for (const cJSON *it = node->child; it; it = it->next, i++) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(it, "name");
		const cJSON *type = cJSON_GetObjectItemCaseSensitive(it, "type");
		const cJSON *sync = cJSON_GetObjectItemCaseSensitive(it, "syncType");
		const cJSON *all = cJSON_GetObjectItemCaseSensitive(it, "copyAllSourceSnapshots");
		if (!cJSON_IsString(name) || !cJSON_IsString(type) || (sync && !cJSON_IsString(sync)) ||
		    (all && !cJSON_IsBool(all))) {
			char *p = mg_asprintf("policies[%zu]", i);
			int rc = p ? bad_type(errs, p, it,
					      "{name: string, type: async|sync, syncType: string, "
					      "copyAllSourceSnapshots: bool}")
				   : MG_ENOMEM;
			free(p);
			return rc;
		}
		mg_policy *pol = &t->policies[t->npolicies++];
		pol->name = mg_strdup(name->valuestring);
		pol->type = mg_strdup(type->valuestring);
		pol->sync_type = sync ? mg_strdup(sync->valuestring) : NULL;
		pol->copy_all_source_snapshots = cJSON_IsTrue(all);
		if (!pol->name || !pol->type || (sync && !pol->sync_type))
			return MG_ENOMEM;
	}
	t->policies_known = true;
	return 0;
}

int mg_topology_from_json(mg_topology *out, const cJSON *tree, mg_field_errors *errs)
{
	memset(out, 0, sizeof(*out));
	int rc = 0;
	if (!cJSON_IsObject(tree)) {
		rc = bad_type(errs, "<topology>", tree, "a mapping");
		goto out;
	}
	const cJSON *svms = cJSON_GetObjectItemCaseSensitive(tree, "localSVMs");
	const cJSON *peers = cJSON_GetObjectItemCaseSensitive(tree, "peers");
	const cJSON *policies = cJSON_GetObjectItemCaseSensitive(tree, "policies");
	const cJSON *schedules = cJSON_GetObjectItemCaseSensitive(tree, "schedules");
	if (svms && !cJSON_IsNull(svms)) {
		if ((rc = string_list(&out->local_svms, &out->nlocal_svms, svms, "localSVMs", errs)))
			goto out;
		out->svms_known = true;
	}
	if (peers && !cJSON_IsNull(peers) && (rc = decode_peers(out, peers, errs)))
		goto out;
	if (policies && !cJSON_IsNull(policies) && (rc = decode_policies(out, policies, errs)))
		goto out;
	if (schedules && !cJSON_IsNull(schedules)) {
		if ((rc = string_list(&out->schedules, &out->nschedules, schedules, "schedules",
				      errs)))
			goto out;
		out->schedules_known = true;
	}
out:
	if (rc)
		mg_topology_free(out);
	return rc;
}

bool mg_topology_is_local_svm(const mg_topology *t, const char *svm)
{
	for (size_t i = 0; t && i < t->nlocal_svms; i++)
		if (strcmp(t->local_svms[i], svm) == 0)
			return true;
	return false;
}

const mg_svm_peers *mg_topology_peers_of(const mg_topology *t, const char *svm)
{
	for (size_t i = 0; t && i < t->npeers; i++)
		if (strcmp(t->peers[i].svm, svm) == 0)
			return &t->peers[i];
	return NULL;
}

const mg_policy *mg_topology_policy(const mg_topology *t, const char *name)
{
	for (size_t i = 0; t && i < t->npolicies; i++)
		if (strcmp(t->policies[i].name, name) == 0)
			return &t->policies[i];
	return NULL;
}

bool mg_topology_has_schedule(const mg_topology *t, const char *name)
{
	for (size_t i = 0; t && i < t->nschedules; i++)
		if (strcmp(t->schedules[i], name) == 0)
			return true;
	return false;
}

void mg_topology_free(mg_topology *t)
{
	if (!t)
		return;
	free_list(t->local_svms, t->nlocal_svms);
	for (size_t i = 0; i < t->npeers; i++) {
		free(t->peers[i].svm);
		free_list(t->peers[i].peers, t->peers[i].npeers);
	}
	free(t->peers);
	for (size_t i = 0; i < t->npolicies; i++) {
		free(t->policies[i].name);
		free(t->policies[i].type);
		free(t->policies[i].sync_type);
	}
	free(t->policies);
	free_list(t->schedules, t->nschedules);
	memset(t, 0, sizeof(*t));
}
