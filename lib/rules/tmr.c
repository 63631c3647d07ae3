/* TridentMirrorRelationship rules. docs/rules.md explains each ID. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/core/history.h"
#include "mirrorgate/core/names.h"
#include "mirrorgate/util/strbuf.h"
#include "rules.h"

#define MAP0 "spec.volumeMappings[0]"
#define P_LOCAL MAP0 ".localPVCName"
#define P_REMOTE MAP0 ".remoteVolumeHandle"
#define P_SNAP MAP0 ".promotedSnapshotHandle"

/* Per-review facts several rules share. */
struct tmr_facts {
	mg_tmr t;
	mg_tmr old;
	bool has_old;
	const char *state;   /* "" when absent */
	const char *local;   /* localPVCName or NULL */
	const char *remote;  /* remoteVolumeHandle or NULL ("" counts as absent) */
	char svm[256];
	char volume[256];
	bool handle_ok;      /* remote parsed and both names valid */
	bool transition;     /* CREATE, or spec.state changed */
};

static int rule_state(struct mg_rule_ctx *c, struct tmr_facts *f)
{
	const char *s = f->state;
	if (!*s || strcmp(s, MG_STATE_PROMOTED) == 0 || mg_state_is_mirror(s))
		return 0;
	return mg_fe_add(&c->v->errors, "TMR-STATE", MG_FE_NOT_SUPPORTED, "spec.state", s,
			 "supported values: \"\", \"promoted\", \"established\", \"reestablished\"");
}

static int rule_mappings(struct mg_rule_ctx *c, struct tmr_facts *f)
{
	if (!f->t.has_mappings || f->t.nmappings == 0)
		return mg_fe_add(&c->v->errors, "TMR-MAPPINGS", MG_FE_REQUIRED, "spec.volumeMappings",
				 NULL, "must contain exactly one volume mapping");
	if (f->t.nmappings > 1) {
		char n[32];
		snprintf(n, sizeof(n), "%zu", f->t.nmappings);
		return mg_fe_add_raw(&c->v->errors, "TMR-MAPPINGS", MG_FE_TOO_MANY,
				     "spec.volumeMappings", n, "must have at most 1 items");
	}
	return 0;
}

static int rule_local_pvc(struct mg_rule_ctx *c, struct tmr_facts *f)
{
	if (!f->t.nmappings)
		return 0;
	if (!f->local || !*f->local)
		return mg_fe_add(&c->v->errors, "TMR-LOCAL-PVC", MG_FE_REQUIRED, P_LOCAL, NULL,
				 "the name of the PersistentVolumeClaim in this namespace to mirror");
	if (!mg_is_dns1123_subdomain(f->local))
		return mg_fe_add(&c->v->errors, "TMR-LOCAL-PVC", MG_FE_INVALID, P_LOCAL, f->local,
				 "%s", mg_dns1123_subdomain_msg);
	return 0;
}

static int rule_promoted_snapshot(struct mg_rule_ctx *c, struct tmr_facts *f)
{
	const char *h = f->t.nmappings ? f->t.mappings[0].promoted_snapshot_handle : NULL;
	if (!h || !*h)
		return 0;
	if (strcmp(f->state, MG_STATE_PROMOTED) != 0)
		return mg_fe_add(&c->v->errors, "TMR-PROMOTED-SNAPSHOT", MG_FE_FORBIDDEN, P_SNAP,
				 NULL, "may only be set when spec.state is \"promoted\"");
	if (!mg_is_snapshot_handle(h))
		return mg_fe_add(&c->v->errors, "TMR-SNAPSHOT-HANDLE", MG_FE_INVALID, P_SNAP, h,
				 "must be <volume>/<snapshot>, the status.snapshotHandle of a "
				 "TridentSnapshotInfo on the source cluster");
	return 0;
}

static int rule_remote_handle(struct mg_rule_ctx *c, struct tmr_facts *f)
{
	if (!f->t.nmappings)
		return 0;
	if (!f->remote) {
		if (!mg_state_is_mirror(f->state))
			return 0;
		return mg_fe_add(&c->v->errors, "TMR-REMOTE-HANDLE", MG_FE_REQUIRED, P_REMOTE, NULL,
				 "required when spec.state is \"established\" or \"reestablished\"");
	}
	if (!mg_split_volume_handle(f->remote, f->svm, sizeof(f->svm), f->volume,
				    sizeof(f->volume)))
		return mg_fe_add(&c->v->errors, "TMR-REMOTE-FORMAT", MG_FE_INVALID, P_REMOTE,
				 f->remote,
				 "must be <svm>:<volume>, the status.conditions[0].localVolumeHandle "
				 "of the TridentMirrorRelationship on the peer cluster");
	if (!mg_is_ontap_svm_name(f->svm))
		return mg_fe_add(&c->v->errors, "TMR-REMOTE-FORMAT", MG_FE_INVALID, P_REMOTE,
				 f->remote,
				 "\"%s\" is not a valid ONTAP SVM name (1-47 letters, digits, '_', "
				 "'-' or '.', starting with a letter or '_')", f->svm);
	if (!mg_is_ontap_volume_name(f->volume))
		return mg_fe_add(&c->v->errors, "TMR-REMOTE-FORMAT", MG_FE_INVALID, P_REMOTE,
				 f->remote,
				 "\"%s\" is not a valid ONTAP volume name (1-203 letters, digits or "
				 "'_', starting with a letter or '_')", f->volume);
	f->handle_ok = true;
	return 0;
}

#define IMMUTABLE_FMT                                                                       \
	"field is immutable: status records \"%s\"; delete this TridentMirrorRelationship and " \
	"create a new one to change it"

/* Trident marks such an update `failed` after the fact; we refuse the write instead. */
static int rule_immutable(struct mg_rule_ctx *c, struct tmr_facts *f)
{
	if (!f->has_old || !f->old.has_condition)
		return 0;
	const mg_tmr_condition *k = &f->old.condition;
	mg_field_errors *e = &c->v->errors;
	int rc = 0;
	if (k->local_pvc_name && *k->local_pvc_name && f->local &&
	    strcmp(f->local, k->local_pvc_name) != 0)
		rc = mg_fe_add(e, "TMR-IMMUTABLE", MG_FE_INVALID, P_LOCAL, f->local, IMMUTABLE_FMT,
			       k->local_pvc_name);
	if (!rc && k->remote_volume_handle && *k->remote_volume_handle && f->t.nmappings &&
	    !mg_str_eq(f->remote, k->remote_volume_handle))
		rc = mg_fe_add(e, "TMR-IMMUTABLE", MG_FE_INVALID, P_REMOTE, f->remote ? f->remote : "",
			       IMMUTABLE_FMT, k->remote_volume_handle);
	if (rc || strcmp(f->state, MG_STATE_PROMOTED) == 0)
		return rc;
	/* Trident's shape: only a change away from both the recorded and the previous value. */
	const char *pol = f->t.replication_policy, *sched = f->t.replication_schedule;
	if (k->replication_policy && *k->replication_policy &&
	    !mg_str_eq(pol, k->replication_policy) && !mg_str_eq(pol, f->old.replication_policy))
		rc = mg_fe_add(e, "TMR-IMMUTABLE", MG_FE_INVALID, "spec.replicationPolicy",
			       pol ? pol : "", IMMUTABLE_FMT, k->replication_policy);
	if (!rc && k->replication_schedule && *k->replication_schedule &&
	    !mg_str_eq(sched, k->replication_schedule) &&
	    !mg_str_eq(sched, f->old.replication_schedule))
		rc = mg_fe_add(e, "TMR-IMMUTABLE", MG_FE_INVALID, "spec.replicationSchedule",
			       sched ? sched : "", IMMUTABLE_FMT, k->replication_schedule);
	return rc;
}

struct other_tmr {
	const char *self;
	const char *found;
};

static int find_other(void *ctx, const cJSON *obj)
{
	struct other_tmr *o = ctx;
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(obj, "metadata"), "name");
	if (cJSON_IsString(name) && strcmp(name->valuestring, o->self) != 0) {
		o->found = name->valuestring;
		return 1;
	}
	return 0;
}

static int rule_unique_pvc(struct mg_rule_ctx *c, struct tmr_facts *f)
{
	if (!f->local || !*f->local)
		return 0;
	char *key = mg_asprintf("%s/%s", c->ns, f->local);
	if (!key)
		return MG_ENOMEM;
	struct other_tmr o = {c->name, NULL};
	int rc = mg_lookup_each_indexed(c->lk, MG_INDEX_TMR_BY_PVC, key, find_other, &o);
	free(key);
	if (rc < 0)
		return rc;
	if (!o.found)
		return 0;
	return mg_fe_add(&c->v->errors, "TMR-UNIQUE-PVC", MG_FE_DUPLICATE, P_LOCAL, f->local,
			 "already mapped by TridentMirrorRelationship \"%s\"; a PVC can be in only "
			 "one relationship", o.found);
}

/* Evidence that the local volume has been mirrored with this remote before. */
static int mirrored_before(struct mg_rule_ctx *c, struct tmr_facts *f, const mg_pvc *pvc,
			   bool *out)
{
	*out = f->has_old && f->old.has_condition &&
	       mg_str_eq(f->old.condition.remote_volume_handle, f->remote);
	const char *history = pvc ? mg_meta_annotation(&pvc->meta, MG_ANN_REPLICATION_HISTORY) : NULL;
	if (*out || !history)
		return 0;
	bool listed = false;
	if (mg_history_contains(history, f->remote, &listed) == MG_EPARSE)
		return mg_rule_warn(c, "TMR-HISTORY",
				    "PVC \"%s\" has a malformed %s annotation; it is ignored",
				    f->local, MG_ANN_REPLICATION_HISTORY);
	*out = listed;
	return 0;
}

static int rules_history(struct mg_rule_ctx *c, struct tmr_facts *f)
{
	if (!f->handle_ok || !f->transition || !mg_state_is_mirror(f->state) || !f->local)
		return 0;
	mg_pvc pvc;
	const cJSON *pvc_obj = mg_lookup_get(c->lk, MG_KIND_PVC, c->ns, f->local);
	int rc = pvc_obj ? mg_pvc_decode(&pvc, pvc_obj, NULL) : 0;
	if (rc < 0)
		return rc;
	bool before = false;
	if ((rc = mirrored_before(c, f, pvc_obj ? &pvc : NULL, &before)))
		return rc;
	mg_field_errors *e = &c->v->errors;
	if (strcmp(f->state, MG_STATE_REESTABLISHED) == 0) {
		if (before)
			return 0;
		return mg_fe_add(e, "TMR-REESTABLISH-HISTORY", MG_FE_INVALID, "spec.state",
				 MG_STATE_REESTABLISHED,
				 "PVC \"%s\" has no record of a SnapMirror relationship with \"%s\" "
				 "(in this TridentMirrorRelationship's status or the PVC's %s "
				 "annotation); a resync would overwrite it with unrelated data: use "
				 "\"established\" for a new mirror (after a failover, on the old "
				 "source: mirrorgate-reconciler records the relationship once this "
				 "TMR, state promoted, has seen it in ONTAP)",
				 f->local, f->remote, MG_ANN_REPLICATION_HISTORY);
	}
	if (before)
		return mg_fe_add(e, "TMR-ESTABLISH-HISTORY", MG_FE_INVALID, "spec.state",
				 MG_STATE_ESTABLISHED,
				 "PVC \"%s\" was in a SnapMirror relationship with \"%s\" before; use "
				 "\"reestablished\" to resync it (\"established\" needs a new, empty "
				 "destination volume)", f->local, f->remote);
	if (pvc_obj && !mg_str_eq(pvc.mirror_relationship, c->name))
		return mg_fe_add(e, "TMR-ESTABLISH-RW-PVC", MG_FE_INVALID, P_LOCAL, f->local,
				 "PVC \"%s\" already exists as an ordinary read-write volume; "
				 "\"established\" mirrors only into a new PVC created with annotation "
				 "%s: %s", f->local, MG_ANN_MIRROR_RELATIONSHIP, c->name);
	return 0;
}

static bool in_list(char *const *items, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(items[i], s) == 0)
			return true;
	return false;
}

static int rules_svm(struct mg_rule_ctx *c, struct tmr_facts *f)
{
	if (!f->handle_ok || !mg_state_is_mirror(f->state))
		return 0;
	const mg_topology *t = mg_lookup_topology(c->lk);
	if (!t || !t->svms_known)
		return mg_rule_warn(c, "TMR-SVM-UNIQUE",
				    "cannot check that SVM \"%s\" is unique and peered: the local "
				    "topology is unknown", f->svm);
	if (mg_topology_is_local_svm(t, f->svm)) {
		const mg_svm_peers *self = mg_topology_peers_of(t, f->svm);
		if (self && in_list(self->peers, self->npeers, f->svm))
			return 0; /* one SVM mirroring to itself, declared in the topology */
		return mg_fe_add(&c->v->errors, "TMR-SVM-UNIQUE", MG_FE_INVALID, P_REMOTE, f->remote,
				 "SVM \"%s\" is also an SVM of this cluster; SVM names must be unique "
				 "across peered clusters (rename one, or peer the SVM with itself for "
				 "intra-SVM mirroring)", f->svm);
	}
	if (!t->peers_known)
		return mg_rule_warn(c, "TMR-SVM-PEER",
				    "cannot check that SVM \"%s\" is peered: SVM peers are unknown",
				    f->svm);
	mg_strbuf known = MG_STRBUF_INIT;
	for (size_t i = 0; i < t->npeers; i++) {
		if (in_list(t->peers[i].peers, t->peers[i].npeers, f->svm)) {
			mg_strbuf_free(&known);
			return 0;
		}
		for (size_t j = 0; j < t->peers[i].npeers; j++)
			mg_strbuf_printf(&known, "%s%s", known.len ? ", " : "", t->peers[i].peers[j]);
	}
	if (known.failed) {
		mg_strbuf_free(&known);
		return MG_ENOMEM;
	}
	int rc = mg_fe_add(&c->v->errors, "TMR-SVM-PEER", MG_FE_INVALID, P_REMOTE, f->remote,
			   "SVM \"%s\" is not peered with an SVM of this cluster (peers: %s); create "
			   "the SVM peer relationship first", f->svm, known.len ? known.data : "none");
	mg_strbuf_free(&known);
	return rc;
}

static int rules_policy(struct mg_rule_ctx *c, struct tmr_facts *f)
{
	const char *pol = f->t.replication_policy, *sched = f->t.replication_schedule;
	if (!mg_state_is_mirror(f->state))
		return 0;
	const mg_topology *t = mg_lookup_topology(c->lk);
	mg_field_errors *e = &c->v->errors;
	const mg_policy *p = NULL;
	int rc = 0;
	if (pol && *pol) {
		if (!t || !t->policies_known) {
			rc = mg_rule_warn(c, "TMR-POLICY",
					  "cannot check replication policy \"%s\": SnapMirror policies "
					  "are unknown", pol);
		} else if (!(p = mg_topology_policy(t, pol))) {
			rc = mg_fe_add(e, "TMR-POLICY", MG_FE_NOT_FOUND, "spec.replicationPolicy", pol,
				       "no SnapMirror policy of that name on this cluster");
		} else if (strcmp(p->type, "async") == 0) {
			if (!p->copy_all_source_snapshots)
				rc = mg_fe_add(e, "TMR-POLICY", MG_FE_INVALID, "spec.replicationPolicy",
					       pol,
					       "policy is async but has no all_source_snapshots rule; "
					       "use a policy like MirrorAllSnapshots");
		} else if (strcmp(p->type, "sync") == 0) {
			if (p->sync_type && strcmp(p->sync_type, "sync") != 0)
				rc = mg_fe_add(e, "TMR-POLICY", MG_FE_INVALID, "spec.replicationPolicy",
					       pol,
					       "policy has sync_type \"%s\"; only async (with "
					       "all_source_snapshots) and plain sync policies are supported",
					       p->sync_type);
		} else {
			rc = mg_fe_add(e, "TMR-POLICY", MG_FE_INVALID, "spec.replicationPolicy", pol,
				       "policy has type \"%s\"; only async and sync SnapMirror policies "
				       "are supported", p->type);
		}
	}
	if (rc || !sched || !*sched)
		return rc;
	if (p && strcmp(p->type, "sync") == 0)
		return mg_rule_warn(c, "TMR-SCHEDULE",
				    "replicationSchedule \"%s\" is ignored: policy \"%s\" is synchronous",
				    sched, pol);
	if (!t || !t->schedules_known)
		return mg_rule_warn(c, "TMR-SCHEDULE",
				    "cannot check replication schedule \"%s\": schedules are unknown",
				    sched);
	if (!mg_topology_has_schedule(t, sched))
		return mg_fe_add(e, "TMR-SCHEDULE", MG_FE_NOT_FOUND, "spec.replicationSchedule", sched,
				 "no job schedule of that name on this cluster");
	return 0;
}

static int rules_data_warnings(struct mg_rule_ctx *c, struct tmr_facts *f)
{
	const char *pvc = f->local ? f->local : "";
	const char *remote = f->remote ? f->remote : "";
	if (c->v->errors.len)
		return 0; /* only an accepted change has consequences to warn about */
	if (c->req->op == MG_OP_DELETE) {
		if (!mg_state_is_mirror(f->state))
			return 0;
		return mg_rule_warn(c, "TMR-DATA-WARNING",
				    "deleting this TMR promotes PVC \"%s\": replication from \"%s\" "
				    "stops", pvc, remote);
	}
	if (!f->transition)
		return 0;
	if (strcmp(f->state, MG_STATE_REESTABLISHED) == 0)
		return mg_rule_warn(c, "TMR-DATA-WARNING",
				    "reestablished resyncs PVC \"%s\" from \"%s\": its writes since "
				    "the last common snapshot will be lost (after a failover both "
				    "sides are writable: reestablish only the side that gives up its "
				    "writes)", pvc, remote);
	if (strcmp(f->state, MG_STATE_PROMOTED) == 0 && f->has_old &&
	    mg_state_is_mirror(f->old.state))
		return mg_rule_warn(c, "TMR-DATA-WARNING",
				    "promoting PVC \"%s\" stops replication from \"%s\"; the volume "
				    "becomes writable; the source stays writable if it still runs, so to "
				    "fail back later set reestablished on the side that gives up its "
				    "writes", pvc, remote);
	return 0;
}

int mg_rules_tmr(struct mg_rule_ctx *c)
{
	struct tmr_facts f;
	memset(&f, 0, sizeof(f));
	const mg_request *r = c->req;
	mg_field_errors *e = &c->v->errors;
	bool deleting = r->op == MG_OP_DELETE;
	int rc = mg_tmr_decode(&f.t, deleting ? r->old_object : r->object, e);
	if (rc < 0)
		goto out;
	if (r->op == MG_OP_UPDATE) {
		rc = mg_tmr_decode(&f.old, r->old_object, NULL);
		if (rc < 0)
			goto out;
		f.has_old = true;
	}
	rc = 0;
	f.state = f.t.state ? f.t.state : "";
	if (f.t.nmappings) {
		f.local = f.t.mappings[0].local_pvc_name;
		f.remote = f.t.mappings[0].remote_volume_handle;
		if (f.remote && !*f.remote)
			f.remote = NULL;
	}
	f.transition = r->op == MG_OP_CREATE || (f.has_old && !mg_str_eq(f.old.state, f.t.state));
	if (deleting) {
		rc = rules_data_warnings(c, &f);
		goto out;
	}
	/* Type errors first and alone: the other rules would only repeat them. An object that is
	 * being deleted, or whose spec did not change, was accepted before: leave it be, so that
	 * finalizer and metadata updates (the reconciler's) always go through. */
	if (e->len || f.t.meta.deletion_timestamp || !c->spec_changed)
		goto out;
	int (*const rules[])(struct mg_rule_ctx *, struct tmr_facts *) = {
		rule_state,	   rule_mappings,   rule_local_pvc, rule_promoted_snapshot,
		rule_remote_handle, rule_immutable, rule_unique_pvc, rules_history,
		rules_svm,	   rules_policy,    rules_data_warnings,
	};
	for (size_t i = 0; !rc && i < sizeof(rules) / sizeof(rules[0]); i++)
		rc = rules[i](c, &f);
out:
	mg_tmr_free(&f.t);
	mg_tmr_free(&f.old);
	return rc < 0 ? rc : 0;
}
