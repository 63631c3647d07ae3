#include "mirrorgate/reconcile/trident.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirrorgate/util/err.h"

static const char *str_at(const cJSON *obj, const char *a, const char *b)
{
	const cJSON *n = cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, a) : NULL;
	if (b)
		n = cJSON_IsObject(n) ? cJSON_GetObjectItemCaseSensitive(n, b) : NULL;
	return cJSON_IsString(n) && n->valuestring[0] ? n->valuestring : NULL;
}

int mg_trident_version_parse(const char *s, int *major, int *minor)
{
	if (!s)
		return MG_EPARSE;
	if (*s == 'v' || *s == 'V')
		s++;
	if (!isdigit((unsigned char)*s))
		return MG_EPARSE;
	char *end;
	long ma = strtol(s, &end, 10);
	if (*end != '.' || !isdigit((unsigned char)end[1]) || ma <= 0 || ma > 999)
		return MG_EPARSE;
	long mi = strtol(end + 1, &end, 10);
	if (mi < 0 || mi > 99)
		return MG_EPARSE;
	*major = (int)ma;
	*minor = (int)mi;
	return 0;
}

static bool at_least(int ma, int mi, int want_ma, int want_mi)
{
	return ma > want_ma || (ma == want_ma && mi >= want_mi);
}

/* spec.enableACP is a bool; the operator's currentInstallationParams carry it as a string */
static bool acp_enabled(const cJSON *torc)
{
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(torc, "spec");
	const cJSON *e = cJSON_IsObject(spec) ? cJSON_GetObjectItemCaseSensitive(spec, "enableACP")
					      : NULL;
	if (cJSON_IsTrue(e))
		return true;
	if (cJSON_IsString(e) && strcmp(e->valuestring, "true") == 0)
		return true;
	const char *cur = str_at(cJSON_GetObjectItemCaseSensitive(torc, "status"),
				 "currentInstallationParams", "enableACP");
	if (cur && strcmp(cur, "true") == 0)
		return true;
	return str_at(torc, "status", "acpVersion") != NULL;
}

void mg_trident_judge(const mg_trident_facts *f, mg_trident_verdict *out)
{
	memset(out, 0, sizeof(*out));
	if (f->api_unreadable) {
		snprintf(out->why, sizeof(out->why),
			 "Trident's objects could not be read; nothing concluded");
		return;
	}
	out->known = true;
	const char *ver = str_at(f->version, "trident_version", NULL);
	const char *src = "TridentVersion";
	const char *torc_status = str_at(f->orchestrator, "status", "status");
	if (!ver && f->orchestrator) {
		ver = str_at(f->orchestrator, "status", "version");
		src = "TridentOrchestrator";
	}
	if (f->orchestrator)
		out->acp = acp_enabled(f->orchestrator);
	if (ver) {
		snprintf(out->version, sizeof(out->version), "%s", ver);
		mg_trident_version_parse(ver, &out->major, &out->minor);
	}
	/* an orchestrator that has not installed (or has uninstalled) Trident runs nothing */
	bool torc_running = f->orchestrator &&
			    (!torc_status || strcmp(torc_status, "Uninstalled") != 0);
	out->present = f->version != NULL || (torc_running && ver) || f->trident_tmr_events > 0;
	if (!out->present) {
		snprintf(out->why, sizeof(out->why),
			 "no TridentVersion, no installed TridentOrchestrator and no Event of "
			 "Trident's CRD controller on a TMR (%u TMRs carry the trident.netapp.io "
			 "finalizer): Trident's mirror controller is not active",
			 f->tmrs_with_finalizer);
		return;
	}
	bool ver_known = out->major > 0;
	/* an unknown version is taken as active: the safe side is not to write beside it */
	out->tmr_active = !ver_known || at_least(out->major, out->minor, 21, 7);
	if (!ver_known)
		out->tamu_active = true;
	else if (at_least(out->major, out->minor, 24, 10))
		out->tamu_active = true;
	else if (at_least(out->major, out->minor, 23, 10))
		out->tamu_active = out->acp;
	if (f->trident_tmr_events > 0)
		out->tmr_active = true;
	const char *tamu_note =
		out->tamu_active ? "handles TMRs, TSIs and TAMUs"
		: ver_known && at_least(out->major, out->minor, 23, 10)
			? "handles TMRs and TSIs; TAMUs wait for ACP (enableACP is off)"
		: out->tmr_active ? "handles TMRs and TSIs; this release does not run TAMUs"
				  : "predates Trident's mirror controller";
	char evidence[160] = "";
	if (f->trident_tmr_events)
		snprintf(evidence, sizeof(evidence), "; %u Event(s) of %s on TMRs",
			 f->trident_tmr_events, MG_TRIDENT_EVENT_COMPONENT);
	char orch[80] = "";
	if (torc_status)
		snprintf(orch, sizeof(orch), ", orchestrator %s", torc_status);
	snprintf(out->why, sizeof(out->why), "Trident %s (from %s%s%s)%s: its CRD controller %s",
		 out->version[0] ? out->version : "of unknown version",
		 out->version[0] ? src : "its Events", out->acp ? ", ACP enabled" : "", orch,
		 evidence, tamu_note);
}

const char *mg_rec_mode_name(enum mg_rec_mode m)
{
	switch (m) {
	case MG_MODE_CONTROLLER: return "controller";
	case MG_MODE_COMPANION: return "companion";
	default: return "auto";
	}
}

int mg_rec_mode_parse(const char *s, enum mg_rec_mode *out)
{
	static const enum mg_rec_mode all[] = {MG_MODE_AUTO, MG_MODE_CONTROLLER,
					       MG_MODE_COMPANION};
	for (size_t i = 0; s && i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(s, mg_rec_mode_name(all[i])) == 0) {
			*out = all[i];
			return 0;
		}
	return MG_EINVAL;
}

void mg_mode_decide(enum mg_rec_mode requested, bool override, const mg_trident_verdict *v,
		    mg_mode_decision *out)
{
	memset(out, 0, sizeof(*out));
	bool active = v->known ? v->tmr_active : true;
	if (requested == MG_MODE_COMPANION) {
		out->mode = MG_MODE_COMPANION;
		snprintf(out->why, sizeof(out->why), "companion mode as configured; %s", v->why);
		return;
	}
	if (requested == MG_MODE_AUTO) {
		out->mode = active ? MG_MODE_COMPANION : MG_MODE_CONTROLLER;
		snprintf(out->why, sizeof(out->why), "%s mode detected: %s",
			 mg_rec_mode_name(out->mode), v->why);
		return;
	}
	out->mode = MG_MODE_CONTROLLER;
	if (!active) {
		snprintf(out->why, sizeof(out->why), "controller mode as configured; %s", v->why);
		return;
	}
	if (override) {
		snprintf(out->why, sizeof(out->why),
			 "controller mode beside an active Trident mirror controller, forced by "
			 "--allow-controller-beside-trident: two writers on every relationship; %s",
			 v->why);
		return;
	}
	out->refused = true;
	snprintf(out->why, sizeof(out->why),
		 "controller mode refused: %s, and two writers on one relationship fight (double "
		 "transfers, finalizers removed mid-operation, Trident undoing a break). Run with "
		 "--mode companion (or auto), or stop Trident's mirror controller; "
		 "--allow-controller-beside-trident overrides this check",
		 v->known ? v->why : "Trident's objects could not be read");
}
