/* Detection of Trident's mirror controller from its own objects, for each release and
 * configuration whose behaviour differs (Trident's source, by tag: TMR from 21.07; TAMU
 * off in 23.07's open-source build, behind ACP in 23.10-24.06, always from 24.10), and the
 * mode that follows: auto follows, controller is refused beside an active Trident unless
 * overridden, companion is always granted. Also the companion's helpers: schedule intervals
 * and the one-Event-per-condition memo. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "companion.h"
#include "mirrorgate/reconcile/trident.h"
#include "mirrorgate/util/err.h"

static cJSON *tver(const char *version)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *md = cJSON_AddObjectToObject(o, "metadata");
	cJSON_AddStringToObject(md, "name", "trident");
	cJSON_AddStringToObject(md, "namespace", "trident");
	if (version)
		cJSON_AddStringToObject(o, "trident_version", version);
	return o;
}

/* status.version, spec.enableACP (NULL: absent) and status.acpVersion (NULL: absent) */
static cJSON *torc(const char *status, const char *version, const char *enable_acp,
		   const char *acp_version)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *spec = cJSON_AddObjectToObject(o, "spec");
	cJSON_AddStringToObject(spec, "namespace", "trident");
	if (enable_acp)
		cJSON_AddBoolToObject(spec, "enableACP", strcmp(enable_acp, "true") == 0);
	cJSON *st = cJSON_AddObjectToObject(o, "status");
	if (status)
		cJSON_AddStringToObject(st, "status", status);
	if (version)
		cJSON_AddStringToObject(st, "version", version);
	if (acp_version)
		cJSON_AddStringToObject(st, "acpVersion", acp_version);
	return o;
}

static mg_trident_verdict judge(cJSON *version, cJSON *orch, unsigned events)
{
	mg_trident_facts f = {.version = version, .orchestrator = orch,
			      .trident_tmr_events = events};
	mg_trident_verdict v;
	mg_trident_judge(&f, &v);
	cJSON_Delete(version);
	cJSON_Delete(orch);
	return v;
}

Test(reconcile_trident, no_trident_objects_means_no_mirror_controller)
{
	mg_trident_verdict v = judge(NULL, NULL, 0);
	cr_assert(v.known);
	cr_assert_not(v.present);
	cr_assert_not(v.tmr_active);
	cr_assert_not(v.tamu_active);
	cr_assert(strstr(v.why, "not active"), "%s", v.why);
}

Test(reconcile_trident, release_21_10_handles_tmrs_not_tamus)
{
	mg_trident_verdict v = judge(tver("21.10.1"), NULL, 0);
	cr_assert(v.present && v.tmr_active);
	cr_assert_not(v.tamu_active);
	cr_assert_eq(v.major, 21);
	cr_assert_eq(v.minor, 10);
	cr_assert(strstr(v.why, "does not run TAMUs"), "%s", v.why);
}

Test(reconcile_trident, release_23_07_open_source_build_runs_no_tamus)
{
	mg_trident_verdict v = judge(tver("23.07.1"), NULL, 0);
	cr_assert(v.tmr_active);
	cr_assert_not(v.tamu_active);
}

Test(reconcile_trident, release_24_02_without_acp_handles_tmrs_only)
{
	mg_trident_verdict v = judge(tver("24.02.0"), torc("Installed", "24.02.0", NULL, NULL), 0);
	cr_assert(v.tmr_active);
	cr_assert_not(v.acp);
	cr_assert_not(v.tamu_active);
	cr_assert(strstr(v.why, "TAMUs wait for ACP"), "%s", v.why);
}

Test(reconcile_trident, release_23_10_with_enable_acp_handles_tamus)
{
	mg_trident_verdict v = judge(tver("23.10.0"), torc("Installed", "23.10.0", "true", NULL), 0);
	cr_assert(v.tmr_active && v.tamu_active && v.acp);
	cr_assert(strstr(v.why, "ACP enabled"), "%s", v.why);
}

Test(reconcile_trident, release_24_06_acp_version_in_status_counts_as_acp)
{
	mg_trident_verdict v = judge(NULL, torc("Installed", "v24.06.1", "false", "24.06.0"), 0);
	cr_assert(v.present && v.tmr_active && v.tamu_active && v.acp);
	cr_assert_eq(v.major, 24);
	cr_assert(strstr(v.why, "TridentOrchestrator"), "%s", v.why);
}

Test(reconcile_trident, release_24_06_without_acp_still_gates_tamus)
{
	/* acp/client.go at v24.06.0 still returns "acp is not enabled" */
	mg_trident_verdict v = judge(tver("24.06.0"), NULL, 0);
	cr_assert(v.tmr_active);
	cr_assert_not(v.tamu_active);
}

Test(reconcile_trident, release_24_10_and_later_always_handle_tamus)
{
	const char *versions[] = {"24.10.0", "25.02.1", "25.06.0", "v25.10.0"};
	for (size_t i = 0; i < 4; i++) {
		mg_trident_verdict v = judge(tver(versions[i]), NULL, 0);
		cr_assert(v.tmr_active && v.tamu_active, "%s", versions[i]);
		cr_assert_not(v.acp);
	}
}

Test(reconcile_trident, orchestrator_without_trident_version_is_enough)
{
	mg_trident_verdict v = judge(NULL, torc("Installed", "25.06.0", NULL, NULL), 0);
	cr_assert(v.present && v.tmr_active && v.tamu_active);
	cr_assert(strstr(v.why, "orchestrator Installed"), "%s", v.why);
}

Test(reconcile_trident, uninstalled_orchestrator_runs_nothing)
{
	mg_trident_verdict v = judge(NULL, torc("Uninstalled", "25.06.0", NULL, NULL), 0);
	cr_assert_not(v.present);
	cr_assert_not(v.tmr_active);
}

Test(reconcile_trident, events_of_tridents_controller_prove_it_active)
{
	mg_trident_verdict v = judge(NULL, NULL, 3);
	cr_assert(v.present && v.tmr_active);
	cr_assert(strstr(v.why, "3 Event(s) of trident-crd-controller"), "%s", v.why);
}

Test(reconcile_trident, unparsable_version_is_taken_as_active)
{
	mg_trident_verdict v = judge(tver("custom-build"), NULL, 0);
	cr_assert(v.tmr_active && v.tamu_active);
	cr_assert_eq(v.major, 0);
}

Test(reconcile_trident, unreadable_objects_conclude_nothing)
{
	mg_trident_facts f = {.api_unreadable = true};
	mg_trident_verdict v;
	mg_trident_judge(&f, &v);
	cr_assert_not(v.known);
}

Test(reconcile_trident, version_parse)
{
	int ma = 0, mi = 0;
	cr_assert_eq(mg_trident_version_parse("v24.06.1", &ma, &mi), 0);
	cr_assert_eq(ma, 24);
	cr_assert_eq(mi, 6);
	cr_assert_eq(mg_trident_version_parse("25.10.0-custom.1", &ma, &mi), 0);
	cr_assert_eq(ma, 25);
	const char *bad[] = {NULL, "", "v", "24", "24.", "x24.06", "0.1", "24.x", "1000.1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(mg_trident_version_parse(bad[i], &ma, &mi), MG_EPARSE, "%s",
			     bad[i] ? bad[i] : "(null)");
}

static mg_mode_decision decide(enum mg_rec_mode req, bool override, bool active, bool known)
{
	mg_trident_verdict v = {.known = known, .present = active, .tmr_active = active};
	snprintf(v.why, sizeof(v.why), "%s", active ? "Trident 25.06.0 (test)" : "no Trident");
	mg_mode_decision d;
	mg_mode_decide(req, override, &v, &d);
	return d;
}

Test(reconcile_trident, auto_follows_detection)
{
	mg_mode_decision d = decide(MG_MODE_AUTO, false, true, true);
	cr_assert_eq(d.mode, MG_MODE_COMPANION);
	cr_assert_not(d.refused);
	d = decide(MG_MODE_AUTO, false, false, true);
	cr_assert_eq(d.mode, MG_MODE_CONTROLLER);
	cr_assert_not(d.refused);
	/* unknown: the safe side */
	d = decide(MG_MODE_AUTO, false, false, false);
	cr_assert_eq(d.mode, MG_MODE_COMPANION);
}

Test(reconcile_trident, controller_refused_beside_active_trident)
{
	mg_mode_decision d = decide(MG_MODE_CONTROLLER, false, true, true);
	cr_assert(d.refused);
	cr_assert(strstr(d.why, "controller mode refused"), "%s", d.why);
	cr_assert(strstr(d.why, "--mode companion"), "%s", d.why);
	cr_assert(strstr(d.why, "--allow-controller-beside-trident"), "%s", d.why);
	cr_assert(strstr(d.why, "Trident 25.06.0"), "%s", d.why);
	d = decide(MG_MODE_CONTROLLER, false, false, false);
	cr_assert(d.refused, "unknown Trident state: refused until known");
}

Test(reconcile_trident, controller_granted_without_trident_or_with_override)
{
	mg_mode_decision d = decide(MG_MODE_CONTROLLER, false, false, true);
	cr_assert_eq(d.mode, MG_MODE_CONTROLLER);
	cr_assert_not(d.refused);
	d = decide(MG_MODE_CONTROLLER, true, true, true);
	cr_assert_eq(d.mode, MG_MODE_CONTROLLER);
	cr_assert_not(d.refused);
	cr_assert(strstr(d.why, "two writers"), "%s", d.why);
}

Test(reconcile_trident, companion_always_granted)
{
	mg_mode_decision d = decide(MG_MODE_COMPANION, false, false, true);
	cr_assert_eq(d.mode, MG_MODE_COMPANION);
	cr_assert_not(d.refused);
}

Test(reconcile_trident, mode_names)
{
	enum mg_rec_mode m;
	cr_assert_eq(mg_rec_mode_parse("companion", &m), 0);
	cr_assert_eq(m, MG_MODE_COMPANION);
	cr_assert_eq(mg_rec_mode_parse("controller", &m), 0);
	cr_assert_eq(m, MG_MODE_CONTROLLER);
	cr_assert_eq(mg_rec_mode_parse("auto", &m), 0);
	cr_assert_eq(m, MG_MODE_AUTO);
	cr_assert_eq(mg_rec_mode_parse("Companion", &m), MG_EINVAL);
	cr_assert_eq(mg_rec_mode_parse(NULL, &m), MG_EINVAL);
}

Test(reconcile_trident, schedule_intervals)
{
	cr_assert_eq(mg_schedule_interval_s("5min"), 300);
	cr_assert_eq(mg_schedule_interval_s("hourly"), 3600);
	cr_assert_eq(mg_schedule_interval_s("8hour"), 8 * 3600);
	cr_assert_eq(mg_schedule_interval_s("daily"), 86400);
	cr_assert_eq(mg_schedule_interval_s("weekly"), 7 * 86400);
	cr_assert_eq(mg_schedule_interval_s("my-cron"), 0);
	cr_assert_eq(mg_schedule_interval_s("5sec"), 0);
	cr_assert_eq(mg_schedule_interval_s(""), 0);
	cr_assert_eq(mg_schedule_interval_s(NULL), 0);
}

Test(reconcile_trident, one_event_per_condition)
{
	mg_event_memo *m = NULL;
	cr_assert_eq(mg_event_memo_new(&m), 0);
	cr_assert(mg_event_memo_changed(m, "app/a", "LagBeyondSchedule"));
	cr_assert_not(mg_event_memo_changed(m, "app/a", "LagBeyondSchedule"));
	cr_assert(mg_event_memo_changed(m, "app/b", "LagBeyondSchedule"));
	cr_assert(mg_event_memo_changed(m, "app/a", "ForcedBreakNeeded"));
	cr_assert_not(mg_event_memo_changed(m, "app/a", NULL));
	cr_assert(mg_event_memo_changed(m, "app/a", "ForcedBreakNeeded"), "forgotten: new again");
	mg_event_memo_free(m);
	mg_event_memo_free(NULL);
}
