#include "mirrorgate/reconcile/status.h"

#include <limits.h>
#include <stddef.h>
#include <string.h>

#include "mirrorgate/core/jsonnum.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/core/model.h"

static const char *nz(const char *s)
{
	return s ? s : "";
}

/* The string fields of a condition, in Trident's order; the same table drives building and
 * comparing so the two cannot disagree. */
struct field {
	const char *json;
	size_t offset;
};

#define F(name, member) {name, offsetof(mg_tmr_condition_values, member)}
static const struct field k_fields[] = {
	F("state", state),
	F("message", message),
	F("localPVCName", local_pvc_name),
	F("remoteVolumeHandle", remote_volume_handle),
	F("localVolumeHandle", local_volume_handle),
	F("replicationPolicy", replication_policy),
	F("replicationSchedule", replication_schedule),
};
#undef F

static const char *field_value(const mg_tmr_condition_values *v, const struct field *f)
{
	return nz(*(const char *const *)((const char *)v + f->offset));
}

int mg_tmr_status_build(cJSON **out, const mg_tmr_condition_values *v)
{
	int rc = MG_ENOMEM;
	cJSON *status = cJSON_CreateObject();
	cJSON *conds = status ? cJSON_AddArrayToObject(status, "conditions") : NULL;
	cJSON *c = cJSON_CreateObject();
	if (!conds || !c)
		goto out;
	cJSON_AddItemToArray(conds, c);
	if (!cJSON_AddStringToObject(c, "lastTransitionTime", nz(v->last_transition_time)) ||
	    !cJSON_AddNumberToObject(c, "observedGeneration", (double)v->observed_generation))
		goto out;
	for (size_t i = 0; i < sizeof(k_fields) / sizeof(k_fields[0]); i++)
		if (!cJSON_AddStringToObject(c, k_fields[i].json, field_value(v, &k_fields[i])))
			goto out;
	*out = status;
	status = NULL;
	rc = 0;
out:
	if (rc != 0 && !conds)
		cJSON_Delete(c);
	cJSON_Delete(status);
	return rc;
}

bool mg_tmr_status_changed(const cJSON *tmr_obj, const mg_tmr_condition_values *v)
{
	const cJSON *status = cJSON_GetObjectItemCaseSensitive(tmr_obj, "status");
	const cJSON *conds = cJSON_GetObjectItemCaseSensitive(status, "conditions");
	const cJSON *c = cJSON_IsArray(conds) ? cJSON_GetArrayItem(conds, 0) : NULL;
	if (!cJSON_IsObject(c))
		return true;
	for (size_t i = 0; i < sizeof(k_fields) / sizeof(k_fields[0]); i++) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(c, k_fields[i].json);
		const char *stored = cJSON_IsString(n) ? n->valuestring : "";
		if (strcmp(stored, field_value(v, &k_fields[i])) != 0)
			return true;
	}
	const cJSON *g = cJSON_GetObjectItemCaseSensitive(c, "observedGeneration");
	long long stored = 0;
	if (!mg_json_int_in(g, LLONG_MIN, LLONG_MAX, &stored) || stored != v->observed_generation)
		return true;
	return false;
}

bool mg_tmr_event_for(const char *desired, const mg_tmr_condition_values *v, mg_tmr_event *out)
{
	const char *state = nz(v->state);
	if (strcmp(state, MG_STATE_INVALID) == 0) {
		*out = (mg_tmr_event){"Warning", MG_EVENT_REASON_INVALID, nz(v->message)};
		return true;
	}
	if (strcmp(state, MG_STATE_FAILED) == 0) {
		*out = (mg_tmr_event){"Warning", MG_EVENT_REASON_FAILED, nz(v->message)};
		return true;
	}
	if (*state && strcmp(state, nz(desired)) == 0) {
		*out = (mg_tmr_event){"Normal", state, MG_EVENT_DESIRED_REACHED};
		return true;
	}
	return false;
}
