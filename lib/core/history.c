#include "mirrorgate/core/history.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/util/strbuf.h"

static int parse(const char *value, cJSON **out, char *problem, size_t len)
{
	*out = NULL;
	cJSON *list = cJSON_Parse(value ? value : "");
	if (!list) {
		if (problem)
			snprintf(problem, len, "not valid JSON");
		return MG_EPARSE;
	}
	if (!cJSON_IsArray(list)) {
		if (problem)
			snprintf(problem, len, "not a JSON list");
		cJSON_Delete(list);
		return MG_EPARSE;
	}
	int i = 0;
	for (const cJSON *e = list->child; e; e = e->next, i++) {
		const cJSON *remote = cJSON_GetObjectItemCaseSensitive(e, "remoteVolumeHandle");
		if (!cJSON_IsObject(e) || !cJSON_IsString(remote) || !strchr(remote->valuestring, ':')) {
			if (problem)
				snprintf(problem, len,
					 "entry %d has no remoteVolumeHandle of the form <svm>:<volume>", i);
			cJSON_Delete(list);
			return MG_EPARSE;
		}
	}
	*out = list;
	return 0;
}

int mg_history_check(const char *value, char *problem, size_t problem_len)
{
	cJSON *list;
	int rc = parse(value, &list, problem, problem_len);
	cJSON_Delete(list);
	return rc;
}

static const char *member(const cJSON *e, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int mg_history_contains(const char *value, const char *remote, bool *out)
{
	cJSON *list;
	int rc = parse(value, &list, NULL, 0);
	if (rc)
		return rc;
	*out = false;
	for (const cJSON *e = list->child; e; e = e->next)
		if (strcmp(member(e, "remoteVolumeHandle"), remote) == 0)
			*out = true;
	cJSON_Delete(list);
	return 0;
}

static int add_opt(cJSON *obj, const char *key, const char *value)
{
	if (!value)
		return 0;
	return cJSON_AddStringToObject(obj, key, value) ? 0 : MG_ENOMEM;
}

int mg_history_append(const char *value, const mg_history_entry *entry, char **out)
{
	cJSON *list = NULL;
	int rc;
	if (value) {
		if ((rc = parse(value, &list, NULL, 0)))
			return rc;
	} else if (!(list = cJSON_CreateArray())) {
		return MG_ENOMEM;
	}
	bool present = false;
	for (const cJSON *e = list->child; e; e = e->next) {
		const char *role = member(e, "role");
		if (strcmp(member(e, "remoteVolumeHandle"), entry->remote_volume_handle) == 0 &&
		    ((!role && !entry->role) || (role && entry->role && strcmp(role, entry->role) == 0)))
			present = true;
	}
	rc = MG_ENOMEM;
	if (!present) {
		cJSON *e = cJSON_CreateObject();
		if (!e || !cJSON_AddItemToArray(list, e)) {
			cJSON_Delete(e);
			goto out;
		}
		if (add_opt(e, "remoteVolumeHandle", entry->remote_volume_handle) ||
		    add_opt(e, "role", entry->role) || add_opt(e, "tmr", entry->tmr) ||
		    add_opt(e, "since", entry->since))
			goto out;
	}
	*out = cJSON_PrintUnformatted(list);
	rc = *out ? 0 : MG_ENOMEM;
out:
	cJSON_Delete(list);
	return rc;
}
