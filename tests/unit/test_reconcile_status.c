/* TMR status condition: Trident's exact field names, the write rule (H8: a new message in
 * the same state is written), and the Events with Trident's reasons. */
#include <criterion/criterion.h>
#include <string.h>

#include "mirrorgate/reconcile/status.h"

static mg_tmr_condition_values base(void)
{
	return (mg_tmr_condition_values){
		.state = "established",
		.message = "",
		.local_pvc_name = "data",
		.remote_volume_handle = "svm_a:trident_pvc_1",
		.local_volume_handle = "svm_b:trident_pvc_2",
		.replication_policy = "MirrorAllSnapshots",
		.replication_schedule = "5min",
		.observed_generation = 3,
		.last_transition_time = "2026-11-25T10:00:00Z",
	};
}

static cJSON *as_tmr(cJSON *status)
{
	cJSON *tmr = cJSON_CreateObject();
	cJSON_AddItemToObject(tmr, "status", status);
	return tmr;
}

Test(reconcile_status, condition_has_tridents_field_names)
{
	mg_tmr_condition_values v = base();
	cJSON *st = NULL;
	cr_assert_eq(mg_tmr_status_build(&st, &v), 0);
	char *txt = cJSON_PrintUnformatted(st);
	cr_expect_str_eq(txt,
			 "{\"conditions\":[{\"lastTransitionTime\":\"2026-11-25T10:00:00Z\","
			 "\"observedGeneration\":3,\"state\":\"established\",\"message\":\"\","
			 "\"localPVCName\":\"data\",\"remoteVolumeHandle\":\"svm_a:trident_pvc_1\","
			 "\"localVolumeHandle\":\"svm_b:trident_pvc_2\","
			 "\"replicationPolicy\":\"MirrorAllSnapshots\","
			 "\"replicationSchedule\":\"5min\"}]}");
	free(txt);
	cJSON_Delete(st);
	/* NULLs become "" (Trident writes every string field) */
	mg_tmr_condition_values empty = {0};
	cr_assert_eq(mg_tmr_status_build(&st, &empty), 0);
	const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItem(st, "conditions"), 0);
	cr_expect_str_eq(cJSON_GetObjectItem(c, "state")->valuestring, "");
	cr_expect_str_eq(cJSON_GetObjectItem(c, "replicationSchedule")->valuestring, "");
	cJSON_Delete(st);
}

Test(reconcile_status, unchanged_condition_is_not_rewritten)
{
	mg_tmr_condition_values v = base();
	cJSON *st = NULL;
	cr_assert_eq(mg_tmr_status_build(&st, &v), 0);
	cJSON *tmr = as_tmr(st);
	cr_expect_not(mg_tmr_status_changed(tmr, &v));
	/* only the transition time differs: still no write (no status churn) */
	v.last_transition_time = "2026-11-25T11:00:00Z";
	cr_expect_not(mg_tmr_status_changed(tmr, &v));
	cJSON_Delete(tmr);
}

/* H8: Trident writes the status only when the state string changes, so a second, different
 * failure message (or "Waiting for snapshot") in the same state never reaches the user. */
Test(reconcile_status, h8_message_only_change_is_written)
{
	mg_tmr_condition_values v = base();
	v.state = "failed";
	v.message = "Could not establish mirror: first reason";
	cJSON *st = NULL;
	cr_assert_eq(mg_tmr_status_build(&st, &v), 0);
	cJSON *tmr = as_tmr(st);
	v.message = "Could not establish mirror: second reason";
	cr_expect(mg_tmr_status_changed(tmr, &v));
	v = base();
	v.state = "failed";
	v.message = "Could not establish mirror: first reason";
	cr_expect_not(mg_tmr_status_changed(tmr, &v));
	/* every other field counts too */
	v.replication_schedule = "hourly";
	cr_expect(mg_tmr_status_changed(tmr, &v));
	v.replication_schedule = "5min";
	v.observed_generation = 4;
	cr_expect(mg_tmr_status_changed(tmr, &v));
	v.observed_generation = 3;
	v.local_volume_handle = "svm_b:other";
	cr_expect(mg_tmr_status_changed(tmr, &v));
	cJSON_Delete(tmr);
}

Test(reconcile_status, missing_or_malformed_status_counts_as_changed)
{
	mg_tmr_condition_values v = base();
	cJSON *tmr = cJSON_CreateObject();
	cr_expect(mg_tmr_status_changed(tmr, &v));
	cJSON_AddItemToObject(tmr, "status", cJSON_CreateString("junk"));
	cr_expect(mg_tmr_status_changed(tmr, &v));
	cJSON_DeleteItemFromObject(tmr, "status");
	cJSON *st = cJSON_AddObjectToObject(tmr, "status");
	cJSON_AddArrayToObject(st, "conditions");
	cr_expect(mg_tmr_status_changed(tmr, &v));
	cr_expect(mg_tmr_status_changed(NULL, &v));
	cJSON_Delete(tmr);
}

Test(reconcile_status, events_use_tridents_reasons)
{
	mg_tmr_condition_values v = base();
	mg_tmr_event ev;
	cr_assert(mg_tmr_event_for("established", &v, &ev));
	cr_expect_str_eq(ev.type, "Normal");
	cr_expect_str_eq(ev.reason, "established");
	cr_expect_str_eq(ev.message, "Desired state reached");
	v.state = "establishing";
	cr_expect_not(mg_tmr_event_for("established", &v, &ev));
	v.state = "failed";
	v.message = "Could not promote mirror";
	cr_assert(mg_tmr_event_for("promoted", &v, &ev));
	cr_expect_str_eq(ev.type, "Warning");
	cr_expect_str_eq(ev.reason, "failed");
	cr_expect_str_eq(ev.message, "Could not promote mirror");
	v.state = "invalid";
	v.message = ".spec.volumeMappings must be set";
	cr_assert(mg_tmr_event_for("promoted", &v, &ev));
	cr_expect_str_eq(ev.reason, "invalid");
	cr_expect_str_eq(ev.message, ".spec.volumeMappings must be set");
	/* observe-only "" reaching "" is not an event */
	v.state = "";
	cr_expect_not(mg_tmr_event_for("", &v, &ev));
	cr_expect_not(mg_tmr_event_for(NULL, &v, &ev));
}
