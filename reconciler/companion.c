#include "companion.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kobj.h"
#include "mirror_ops.h"
#include "pvc_protect.h"
#include "rmetrics.h"
#include "volume_ref.h"
#include "mirrorgate/core/model.h"
#include "mirrorgate/ontap/cluster.h"
#include "mirrorgate/reconcile/reconcile.h"
#include "mirrorgate/reconcile/tamu.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/util/log.h"

typedef struct memo_entry {
	char *key, *reason;
	struct memo_entry *next;
} memo_entry;

struct mg_event_memo {
	pthread_mutex_t lock;
	memo_entry *head;
};

int mg_event_memo_new(mg_event_memo **out)
{
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return MG_ENOMEM;
	pthread_mutex_init(&(*out)->lock, NULL);
	return 0;
}

void mg_event_memo_free(mg_event_memo *m)
{
	if (!m)
		return;
	for (memo_entry *e = m->head, *n; e; e = n) {
		n = e->next;
		free(e->key);
		free(e->reason);
		free(e);
	}
	pthread_mutex_destroy(&m->lock);
	free(m);
}

bool mg_event_memo_changed(mg_event_memo *m, const char *key, const char *reason)
{
	if (!m)
		return reason != NULL;
	bool changed = false;
	pthread_mutex_lock(&m->lock);
	memo_entry **pp = &m->head;
	while (*pp && strcmp((*pp)->key, key) != 0)
		pp = &(*pp)->next;
	memo_entry *e = *pp;
	if (!reason) {
		if (e) {
			*pp = e->next;
			free(e->key);
			free(e->reason);
			free(e);
		}
	} else if (!e || strcmp(e->reason, reason) != 0) {
		char *r = strdup(reason);
		if (r && !e && (e = calloc(1, sizeof(*e))) && (e->key = strdup(key))) {
			e->next = m->head;
			m->head = e;
		} else if (e && !e->key) {
			free(e);
			e = NULL;
		}
		if (r && e) {
			free(e->reason);
			e->reason = r;
			changed = true;
		} else {
			free(r);
		}
	}
	pthread_mutex_unlock(&m->lock);
	return changed;
}

int64_t mg_schedule_interval_s(const char *s)
{
	if (!s || !*s)
		return 0;
	if (strcmp(s, "hourly") == 0)
		return 3600;
	if (strcmp(s, "daily") == 0)
		return 86400;
	if (strcmp(s, "weekly") == 0)
		return 7 * 86400;
	char *end;
	long n = strtol(s, &end, 10);
	if (end == s || n <= 0 || n > 100000)
		return 0;
	if (strcmp(end, "min") == 0)
		return n * 60;
	if (strcmp(end, "hour") == 0)
		return n * 3600;
	return 0;
}

typedef struct cpass {
	const mg_rctx *c;
	mg_event_memo *memo;
	const char *ns, *name;
	char key[600];
	cJSON *obj;
	mg_tmr tmr;
} cpass;

static void gauges_state(cpass *p, const char *state)
{
	mg_rmetrics_drop(p->c->metrics, "mirrorgate_tmr_state", "tmr", p->key);
	const char *l[] = {"tmr", p->key, "state", state && *state ? state : "none", NULL};
	mg_rmetrics_set(p->c->metrics, "mirrorgate_tmr_state", l, 1);
}

static void gauges_forget(cpass *p)
{
	mg_rmetrics_drop(p->c->metrics, "mirrorgate_tmr_state", "tmr", p->key);
	mg_rmetrics_drop(p->c->metrics, "mirrorgate_tmr_healthy", "tmr", p->key);
	mg_rmetrics_drop(p->c->metrics, "mirrorgate_tmr_lag_seconds", "tmr", p->key);
	mg_event_memo_changed(p->memo, p->key, NULL);
}

/* One explanation per condition: the Event is emitted when the reason changes. */
static void explain(cpass *p, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void explain(cpass *p, const char *reason, const char *fmt, ...)
{
	if (!mg_event_memo_changed(p->memo, p->key, reason))
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	mg_kobj_event(p->c, p->obj, "Warning", reason, msg);
	mg_warn("companion: explained", "tmr", p->name, "namespace", p->ns, "reason", reason,
		"message", msg, NULL);
	const char *l[] = {"reason", reason, NULL};
	mg_rmetrics_inc(p->c->metrics, "mirrorgate_companion_explanations_total", l, 1);
}

/* Whether the source of rel sits on a cluster this one's peering reports unavailable. */
static bool source_unreachable(const mg_mirror_target *t, const mg_ontap_relationship *rel)
{
	mg_ontap_cluster_peer_list pl = {0};
	mg_ontap_error err;
	if (mg_ontap_cluster_peers(t->backend->ontap, &pl, &err) != 0)
		return false;
	bool down = false;
	for (size_t i = 0; i < pl.len; i++)
		if ((!rel->source_cluster[0] || strcmp(pl.items[i].name, rel->source_cluster) == 0) &&
		    strcmp(pl.items[i].state, "available") != 0)
			down = true;
	mg_ontap_cluster_peer_list_free(&pl);
	return down;
}

static void destination_checks(cpass *p, const mg_mirror_target *t,
			       const mg_ontap_relationship *rel, const char *trident_state)
{
	const mg_tmr_mapping *m = &p->tmr.mappings[0];
	const char *desired = p->tmr.state ? p->tmr.state : "";
	mg_debug("companion: destination", "tmr", p->name, "desired", desired, "trident_state",
		 trident_state ? trident_state : "", "relationship", rel->state, NULL);
	int64_t lag = -1;
	mg_duration_parse(&lag, rel->lag_time);
	const char *sched = rel->transfer_schedule[0] ? rel->transfer_schedule
			    : p->tmr.replication_schedule ? p->tmr.replication_schedule
							  : "";
	int64_t every = mg_schedule_interval_s(sched);
	bool mirrored = strcmp(rel->state, "snapmirrored") == 0;
	if (strcmp(desired, "promoted") == 0 && strcmp(rel->state, "broken_off") != 0 &&
	    source_unreachable(t, rel)) {
		explain(p, MG_EVENT_FORCED_BREAK_NEEDED,
			"Unplanned failover: the source of %s (%s) is unreachable, so a normal "
			"break fails (ONTAP 262224) and Trident keeps retrying. To promote now, "
			"accepting the loss of what the source wrote since the last transfer, run on "
			"the destination cluster: snapmirror break -destination-path %s -force true "
			"(REST: PATCH /api/snapmirror/relationships/%s?force=true "
			"{\"state\":\"broken_off\"}); Trident then sees the volume promoted",
			t->local_path, rel->source_path, t->local_path, rel->uuid);
		return;
	}
	if (strcmp(desired, "promoted") == 0 && trident_state &&
	    strcmp(trident_state, "failed") == 0 && m->promoted_snapshot_handle &&
	    *m->promoted_snapshot_handle) {
		const char *snap = NULL;
		bool present = true;
		mg_ontap_error err;
		if (mg_tamu_snapshot_name(m->promoted_snapshot_handle, &snap) && snap &&
		    mg_mirror_snapshot_present(t, snap, &present, &err) == 0 && !present) {
			explain(p, MG_EVENT_PROMOTED_SNAPSHOT_PENDING,
				"Trident marked this TMR failed (\"Could not promote mirror\") only "
				"because snapshot %s has not reached %s yet: ONTAP answers NotFound "
				"for a snapshot still to come, and Trident does not retry until the "
				"spec changes. Nothing is broken: the relationship is %s. Wait for the "
				"next transfer (or a TridentActionMirrorUpdate), then re-apply the TMR "
				"(any spec change) so that Trident promotes",
				snap, t->local_path, rel->state);
			return;
		}
	}
	if (mirrored && every > 0 && lag > 2 * every) {
		explain(p, MG_EVENT_LAG_BEYOND_SCHEDULE,
			"SnapMirror lag of %s is %llds, more than twice its schedule %s (%llds)%s%s. "
			"Trident does not report lag. Check: snapmirror show -destination-path %s "
			"-fields lag-time,healthy,unhealthy-reason,last-transfer-error",
			t->local_path, (long long)lag, sched, (long long)every,
			rel->healthy ? "" : "; unhealthy: ",
			rel->healthy ? "" : rel->unhealthy_reason, t->local_path);
		return;
	}
	/* nothing to explain now: the next condition gets its Event again */
	mg_event_memo_changed(p->memo, p->key, NULL);
}

/* Source-side history: every relationship out of the local volume. */
static void source_history(cpass *p, const mg_mirror_target *t)
{
	mg_ontap_relationship_list list = {0};
	mg_ontap_error err;
	if (mg_ontap_relationship_list_destinations(t->backend->ontap, t->local_path, &list,
						    &err) != 0)
		return;
	for (size_t i = 0; i < list.len; i++) {
		int rc = mg_pvc_protect(p->c, p->ns, p->tmr.mappings[0].local_pvc_name,
					list.items[i].destination_path, "source", p->name);
		if (rc != 0)
			mg_warn("companion: source history not written", "tmr", p->name, "error",
				mg_strerror(rc), NULL);
	}
	mg_ontap_relationship_list_free(&list);
}

int mg_companion_tmr_reconcile(const mg_rctx *c, mg_event_memo *memo, const char *ns,
			       const char *name, mg_rec_result *res)
{
	memset(res, 0, sizeof(*res));
	cpass p;
	memset(&p, 0, sizeof(p));
	p.c = c;
	p.memo = memo;
	p.ns = ns;
	p.name = name;
	snprintf(p.key, sizeof(p.key), "%s/%s", ns, name);
	int rc = 0;
	if (!mg_kobj_open(&p.obj, c, &mg_k8s_res_tmr, ns, name, "TMR", res)) {
		if (res->outcome == MG_REC_FORGET)
			gauges_forget(&p);
		return 0;
	}
	if (mg_kobj_deleting(p.obj)) {
		gauges_forget(&p);
		res->outcome = MG_REC_FORGET;
		goto out;
	}
	mg_field_errors errs = {0};
	int drc = mg_tmr_decode(&p.tmr, p.obj, &errs);
	mg_fe_clear(&errs);
	const char *trident_state = p.tmr.has_condition ? p.tmr.condition.state : NULL;
	gauges_state(&p, trident_state);
	res->outcome = MG_REC_DONE;
	if (drc != 0 || mg_tmr_invalid_reason(&p.tmr) || p.tmr.nmappings != 1 ||
	    !p.tmr.mappings[0].local_pvc_name)
		goto out; /* Trident reports invalid ones itself */
	const mg_tmr_mapping *m = &p.tmr.mappings[0];
	mg_mirror_target t;
	enum mg_resolve st;
	char why[512], handle[256];
	bool deleting = false;
	rc = mg_volume_ref_resolve_ex(c, ns, m->local_pvc_name, &t, &st, why, sizeof(why), handle,
				      sizeof(handle), &deleting);
	if (rc != 0 || st != MG_RESOLVED) {
		if (rc != 0 || st == MG_RESOLVE_DEFER)
			mg_rec_retry(res, "resolve: %.200s", why);
		rc = 0;
		goto out;
	}
	snprintf(t.remote_path, sizeof(t.remote_path), "%s",
		 m->remote_volume_handle ? m->remote_volume_handle : "");
	const char *l[] = {"tmr", p.key, NULL};
	if (t.remote_path[0]) {
		mg_ontap_relationship rel;
		bool found = false;
		mg_ontap_error err;
		if (mg_mirror_read(&t, &rel, &found, &err) != 0) {
			mg_rec_retry(res, "relationship read: %.200s", err.message);
			goto out;
		}
		if (found) {
			mg_rmetrics_set(c->metrics, "mirrorgate_tmr_healthy", l, rel.healthy ? 1 : 0);
			int64_t lag;
			if (mg_duration_parse(&lag, rel.lag_time) == 0)
				mg_rmetrics_set(c->metrics, "mirrorgate_tmr_lag_seconds", l,
						(double)lag);
			if (!deleting && (strcmp(rel.state, "snapmirrored") == 0 ||
					  strcmp(rel.state, "in_sync") == 0)) {
				int prc = mg_pvc_protect(c, ns, m->local_pvc_name, t.remote_path,
							 "destination", name);
				if (prc != 0)
					mg_rec_retry(res, "history: %s", mg_strerror(prc));
			}
			destination_checks(&p, &t, &rel, trident_state);
		}
	}
	/* a promoted volume may be the source of relationships (a failed-over destination
	 * too, once it is mirrored back): record each as source */
	if (!deleting && p.tmr.state && strcmp(p.tmr.state, "promoted") == 0)
		source_history(&p, &t);
out:
	mg_tmr_free(&p.tmr);
	cJSON_Delete(p.obj);
	return rc;
}

int mg_companion_tamu_reconcile(const mg_rctx *c, mg_event_memo *memo, bool trident_runs_tamus,
				const char *trident_version, const char *ns, const char *name,
				mg_rec_result *res)
{
	memset(res, 0, sizeof(*res));
	cJSON *obj = NULL;
	if (!mg_kobj_open(&obj, c, &mg_k8s_res_tamu, ns, name, "TAMU", res))
		return 0;
	res->outcome = MG_REC_FORGET; /* TAMUs have no updates worth a re-check (as Trident) */
	char key[600];
	snprintf(key, sizeof(key), "tamu/%s/%s", ns, name);
	const char *state = mg_kobj_str(obj, "status", "state");
	if (!trident_runs_tamus && !(state && *state) && !mg_kobj_deleting(obj) &&
	    mg_event_memo_changed(memo, key, MG_EVENT_TAMU_NOT_RUN)) {
		char msg[640];
		snprintf(msg, sizeof(msg),
			 "Trident %s does not run TridentActionMirrorUpdates (23.07 and earlier "
			 "never; 23.10 to 24.06 only with ACP, enableACP in the TridentOrchestrator), "
			 "and mirrorgate in companion mode does not either: this one stays "
			 "unprocessed. Enable ACP or upgrade Trident, or start the transfer on ONTAP: "
			 "snapmirror update -destination-path <svm>:<volume>",
			 trident_version && *trident_version ? trident_version : "");
		mg_kobj_event(c, obj, "Warning", MG_EVENT_TAMU_NOT_RUN, msg);
		mg_warn("companion: explained", "tamu", name, "namespace", ns, "reason",
			MG_EVENT_TAMU_NOT_RUN, NULL);
		const char *l[] = {"reason", MG_EVENT_TAMU_NOT_RUN, NULL};
		mg_rmetrics_inc(c->metrics, "mirrorgate_companion_explanations_total", l, 1);
	}
	cJSON_Delete(obj);
	return 0;
}
