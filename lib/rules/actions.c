/* TridentActionMirrorUpdate and TridentSnapshotInfo rules (Trident checks these only when it
 * acts, marking the CR Failed; we refuse the write). */
#include <ctype.h>
#include <string.h>

#include "mirrorgate/core/names.h"
#include "rules.h"

#define P_TAMU_TMR "spec.tridentMirrorRelationshipName"

static int tamu_target(struct mg_rule_ctx *c, const mg_tamu *a)
{
	mg_field_errors *e = &c->v->errors;
	if (!a->tmr_name || !*a->tmr_name)
		return mg_fe_add(e, "TAMU-TMR", MG_FE_REQUIRED, P_TAMU_TMR, NULL,
				 "the TridentMirrorRelationship (in this namespace) to update");
	const cJSON *obj = mg_lookup_get(c->lk, MG_KIND_TMR, c->ns, a->tmr_name);
	if (!obj)
		return mg_fe_add(e, "TAMU-TMR", MG_FE_NOT_FOUND, P_TAMU_TMR, a->tmr_name,
				 "no TridentMirrorRelationship \"%s\" in namespace \"%s\"",
				 a->tmr_name, c->ns);
	mg_tmr tmr;
	int rc = mg_tmr_decode(&tmr, obj, NULL);
	if (rc < 0)
		return rc;
	rc = 0;
	const char *state = tmr.has_condition ? tmr.condition.state : NULL;
	const char *policy = tmr.has_condition ? tmr.condition.replication_policy : NULL;
	const mg_topology *t = mg_lookup_topology(c->lk);
	const mg_policy *p = policy && t ? mg_topology_policy(t, policy) : NULL;
	if (!state || !*state) {
		rc = mg_fe_add(e, "TAMU-TMR-STATE", MG_FE_INVALID, P_TAMU_TMR, a->tmr_name,
			       "TridentMirrorRelationship \"%s\" has no status yet; a mirror update "
			       "needs it to report \"established\" or \"reestablished\"", a->tmr_name);
	} else if (!mg_state_is_mirror(state)) {
		rc = mg_fe_add(e, "TAMU-TMR-STATE", MG_FE_INVALID, P_TAMU_TMR, a->tmr_name,
			       "TridentMirrorRelationship \"%s\" is in state \"%s\"; a mirror update "
			       "needs \"established\" or \"reestablished\"", a->tmr_name, state);
	} else if ((p && strcmp(p->type, "sync") == 0) || mg_str_eq(policy, "Sync")) {
		rc = mg_fe_add(e, "TAMU-SYNC", MG_FE_INVALID, P_TAMU_TMR, a->tmr_name,
			       "TridentMirrorRelationship \"%s\" uses synchronous policy \"%s\"; a "
			       "synchronous mirror has no transfers to trigger", a->tmr_name, policy);
	}
	mg_tmr_free(&tmr);
	return rc;
}

int mg_rules_tamu(struct mg_rule_ctx *c)
{
	const mg_request *r = c->req;
	if (r->op == MG_OP_DELETE)
		return 0;
	mg_tamu a;
	mg_field_errors *e = &c->v->errors;
	int rc = mg_tamu_decode(&a, r->object, e);
	if (rc < 0 || e->len || a.meta.deletion_timestamp)
		return rc < 0 ? rc : 0;
	if (r->op == MG_OP_UPDATE) {
		/* TAMU has no status subresource: the controller writes status with a plain update,
		 * so only the spec is frozen. */
		if (!c->spec_changed)
			return 0;
		return mg_fe_add(e, "TAMU-IMMUTABLE", MG_FE_FORBIDDEN, "spec", NULL,
				 "a TridentActionMirrorUpdate is a one-shot action; create a new one "
				 "instead of changing its spec");
	}
	if (a.snapshot_handle && !mg_is_snapshot_handle(a.snapshot_handle) &&
	    (rc = mg_fe_add(e, "TAMU-SNAPSHOT-HANDLE", MG_FE_INVALID, "spec.snapshotHandle",
			    a.snapshot_handle,
			    "must be <volume>/<snapshot>, the status.snapshotHandle of a "
			    "TridentSnapshotInfo on the source cluster")))
		return rc;
	return tamu_target(c, &a);
}

static bool blank(const char *s)
{
	for (; s && *s; s++)
		if (!isspace((unsigned char)*s))
			return false;
	return true;
}

int mg_rules_tsi(struct mg_rule_ctx *c)
{
	const mg_request *r = c->req;
	if (r->op == MG_OP_DELETE)
		return 0;
	mg_tsi s;
	mg_field_errors *e = &c->v->errors;
	int rc = mg_tsi_decode(&s, r->object, e);
	if (rc < 0 || e->len || s.meta.deletion_timestamp || !c->spec_changed)
		return rc < 0 ? rc : 0;
	if (s.has_docs_spelling &&
	    (rc = mg_fe_add(e, "TSI-SPELLING", MG_FE_INVALID, "spec.snapshot-name",
			    s.docs_snapshot_name ? s.docs_snapshot_name : "",
			    "unknown field; the field is spec.snapshotName (the Trident "
			    "documentation's \"snapshot-name\" is not read by Trident)")))
		return rc;
	if (blank(s.snapshot_name))
		return mg_fe_add(e, "TSI-SNAPSHOT-NAME", MG_FE_REQUIRED, "spec.snapshotName", NULL,
				 "the name of a VolumeSnapshot in this namespace");
	if (!mg_is_dns1123_subdomain(s.snapshot_name))
		return mg_fe_add(e, "TSI-SNAPSHOT-NAME", MG_FE_INVALID, "spec.snapshotName",
				 s.snapshot_name, "%s", mg_dns1123_subdomain_msg);
	return 0;
}
