#include "tmr_controller.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kobj.h"
#include "rmetrics.h"
#include "mirror_ops.h"
#include "pvc_protect.h"
#include "volume_ref.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/util/log.h"
#include "mirrorgate/ontap/volume.h"
#include "mirrorgate/core/model.h"
#include "mirrorgate/reconcile/reconcile.h"
#include "mirrorgate/reconcile/resolve.h"
#include "mirrorgate/reconcile/status.h"
#include "mirrorgate/reconcile/tamu.h"

/* Everything one pass learns, then writes. */
typedef struct pass {
	const mg_rctx *c;
	cJSON *obj; /* the TMR as last read or written (owned) */
	mg_tmr tmr;
	const char *ns, *name;
	enum mg_tmr_state desired;
	/* condition being built */
	enum mg_tmr_state state;
	bool state_known; /* false: keep the stored state (unknown observation) */
	char message[2048];
	char local_handle[2 * MG_ONTAP_NAME_MAX];
	char policy[MG_ONTAP_NAME_MAX], schedule[MG_ONTAP_NAME_MAX];
	mg_mirror_target target;
	bool pvc_deleting; /* the local PVC is Terminating */
	char lookup_error[512]; /* ONTAP's reason when the volume look-up failed */
	char lookup_defer[512]; /* why the look-up deferred (a missing PVC or PV) */
	char forced_note[2048];  /* this pass broke with force: the promoted status says so */
	const char *extra_reason; /* a Warning Event with the message, when the status changes */
	mg_rec_result *res;
} pass;

static const char *nz(const char *s)
{
	return s ? s : "";
}

static void retry(pass *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void retry(pass *p, const char *fmt, ...)
{
	p->res->outcome = MG_REC_RETRY;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->res->reason, sizeof(p->res->reason), fmt, ap);
	va_end(ap);
}

static void set_msg(pass *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_msg(pass *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->message, sizeof(p->message), fmt, ap);
	va_end(ap);
}

static int reload(pass *p)
{
	cJSON *fresh = NULL;
	mg_k8s_status st;
	/* from the informer, unless our own write (or a 409) left it behind (kcache.h) */
	int rc = mg_kobj_get(&fresh, p->c, &mg_k8s_res_tmr, p->ns, p->name, &st);
	if (rc != 0)
		return rc;
	mg_tmr_free(&p->tmr);
	cJSON_Delete(p->obj);
	p->obj = fresh;
	mg_field_errors errs = {0};
	rc = mg_tmr_decode(&p->tmr, p->obj, &errs);
	mg_fe_clear(&errs);
	return rc;
}

static void tmr_key(const pass *p, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", p->ns, p->name);
}

/* Gauges of a settled pass: the reported state, and health and lag when known. */
static void record_state(pass *p, const char *state)
{
	char key[600];
	tmr_key(p, key, sizeof(key));
	mg_rmetrics_drop(p->c->metrics, "mirrorgate_tmr_state", "tmr", key);
	const char *l[] = {"tmr", key, "state", *state ? state : "none", NULL};
	mg_rmetrics_set(p->c->metrics, "mirrorgate_tmr_state", l, 1);
}

static void record_relationship(pass *p, const mg_ontap_relationship *rel)
{
	char key[600];
	tmr_key(p, key, sizeof(key));
	const char *l[] = {"tmr", key, NULL};
	mg_rmetrics_set(p->c->metrics, "mirrorgate_tmr_healthy", l, rel->healthy ? 1 : 0);
	int64_t lag;
	if (mg_duration_parse(&lag, rel->lag_time) == 0)
		mg_rmetrics_set(p->c->metrics, "mirrorgate_tmr_lag_seconds", l, (double)lag);
}

static void forget_metrics(pass *p)
{
	char key[600];
	tmr_key(p, key, sizeof(key));
	mg_rmetrics_drop(p->c->metrics, "mirrorgate_tmr_state", "tmr", key);
	mg_rmetrics_drop(p->c->metrics, "mirrorgate_tmr_healthy", "tmr", key);
	mg_rmetrics_drop(p->c->metrics, "mirrorgate_tmr_lag_seconds", "tmr", key);
}

/* Writes the condition when it changed (H8), emitting Trident's Event with it. */
static int write_status(pass *p)
{
	const mg_tmr_condition *old = p->tmr.has_condition ? &p->tmr.condition : NULL;
	const mg_tmr_mapping *m = p->tmr.nmappings ? &p->tmr.mappings[0] : NULL;
	char now[40];
	mg_rctx_now_rfc3339(p->c, now, sizeof(now));
	/* copies: a 409 below re-reads the TMR, which frees the strings `old` points into */
	char state[32], pvc[256], remote[512], local[512], policy[MG_ONTAP_NAME_MAX],
		schedule[MG_ONTAP_NAME_MAX];
	snprintf(state, sizeof(state), "%s",
		 p->state_known ? mg_tmr_state_str(p->state) : (old ? nz(old->state) : ""));
	snprintf(pvc, sizeof(pvc), "%s", m ? nz(m->local_pvc_name) : "");
	snprintf(remote, sizeof(remote), "%s", m ? nz(m->remote_volume_handle) : "");
	snprintf(local, sizeof(local), "%s",
		 p->local_handle[0] ? p->local_handle : (old ? nz(old->local_volume_handle) : ""));
	snprintf(policy, sizeof(policy), "%s",
		 p->policy[0] ? p->policy : (old ? nz(old->replication_policy) : ""));
	snprintf(schedule, sizeof(schedule), "%s",
		 p->schedule[0] ? p->schedule : (old ? nz(old->replication_schedule) : ""));
	mg_tmr_condition_values v = {
		.state = state,
		.message = p->message,
		.local_pvc_name = pvc,
		.remote_volume_handle = remote,
		.local_volume_handle = local,
		.replication_policy = policy,
		.replication_schedule = schedule,
		.observed_generation = mg_kobj_generation(p->obj),
		.last_transition_time = now,
	};
	record_state(p, v.state);
	if (!mg_tmr_status_changed(p->obj, &v))
		return 0;
	int rc = 0;
	for (int attempt = 0; attempt < 3; attempt++) {
		cJSON *status = NULL;
		rc = mg_tmr_status_build(&status, &v);
		if (rc != 0)
			return rc;
		cJSON *updated = NULL;
		rc = mg_kobj_write_status(&updated, p->c, &mg_k8s_res_tmr, p->obj, status, true);
		if (rc == 0) {
			mg_tmr_event ev;
			if (mg_tmr_event_for(p->tmr.state, &v, &ev))
				mg_kobj_event(p->c, updated, ev.type, ev.reason, ev.message);
			if (p->extra_reason)
				mg_kobj_event(p->c, updated, "Warning", p->extra_reason, v.message);
			mg_info("TMR status written", "tmr", p->name, "namespace", p->ns, "state",
				v.state, "message", v.message, NULL);
			cJSON_Delete(updated);
			return 0;
		}
		cJSON_Delete(updated);
		if (rc != MG_ECONFLICT)
			break;
		/* somebody wrote in between: take their resourceVersion, keep our condition
		 * unless the spec moved on (then the next pass recomputes it) */
		mg_info("TMR status write conflicted; re-reading", "tmr", p->name, NULL);
		long long gen = mg_kobj_generation(p->obj);
		int lrc = reload(p);
		if (lrc != 0)
			return lrc;
		if (mg_kobj_generation(p->obj) != gen)
			return MG_ECONFLICT;
	}
	if (rc != 0) {
		mg_kobj_event(p->c, p->obj, "Warning", state, MG_EVENT_COULD_NOT_UPDATE);
		mg_warn("could not write TMR status", "tmr", p->name, "error", mg_strerror(rc),
			NULL);
	}
	return rc;
}

/* What the message for a failed step says, as Trident words it. */
static const char *failure_prefix(enum mg_tmr_action a)
{
	switch (a) {
	case MG_ACT_ESTABLISH: return MG_MSG_COULD_NOT_ESTABLISH;
	case MG_ACT_REESTABLISH: return MG_MSG_COULD_NOT_REESTABLISH;
	default: return MG_MSG_COULD_NOT_PROMOTE;
	}
}

typedef struct drive_opts {
	bool for_deletion; /* promote without waiting for a snapshot */
} drive_opts;

/* ONTAP (or the API server) could not be read in this pass: counted and logged at warn, so
 * that an alert sees it whichever read failed. */
static void count_and_warn(pass *p, const char *what, const char *why)
{
	const char *l[] = {"controller", "tmr", NULL};
	mg_rmetrics_inc(p->c->metrics, "mirrorgate_reconcile_errors_total", l, 1);
	mg_warn(what, "tmr", p->name, "namespace", p->ns, "error", why, NULL);
}

/* ONTAP could not be read: counted, logged, and the TMR says so with ONTAP's reason. */
static void ontap_unreadable(pass *p, const char *what, const char *why)
{
	count_and_warn(p, what, why);
	set_msg(p, "Could not read the SnapMirror relationship from ONTAP: %s; retrying", why);
}

static void count_call(pass *p, const char *op, int rc, const mg_ontap_error *err)
{
	const char *ml[] = {"operation", op, "outcome",
			    rc == 0 ? "success" : mg_mirror_err_transient(err) ? "retry" : "error",
			    NULL};
	mg_rmetrics_inc(p->c->metrics, "mirrorgate_ontap_calls_total", ml, 1);
}

/* ONTAP refused the break because the source's cluster cannot be contacted (262224): the
 * site is down, and waiting for it is what an unplanned failover must not do. The break is
 * repeated with ?force=true. The source is not told: its volume stays read-write, so the
 * Event and the promoted status say what to do when it returns. */
static int break_with_force(pass *p, const mg_ontap_relationship *rel, mg_step_args *args,
			    mg_ontap_error *err)
{
	char why[MG_ONTAP_ERR_MESSAGE_MAX];
	snprintf(why, sizeof(why), "%s", err->message);
	const char *source = rel->source_path[0] ? rel->source_path : p->target.remote_path;
	mg_warn("source cluster unreachable: breaking with force", "tmr", p->name, "namespace",
		p->ns, "source", source, "destination", p->target.local_path, "error", why, NULL);
	args->force = true;
	int rc = mg_mirror_step(&p->target, MG_STEP_BREAK, rel, args, err);
	args->force = false;
	count_call(p, "break-forced", rc, err);
	if (rc != 0)
		return rc;
	char cluster[MG_ONTAP_NAME_MAX + 16] = "";
	if (rel->source_cluster[0])
		snprintf(cluster, sizeof(cluster), " (cluster %s)", rel->source_cluster);
	snprintf(p->forced_note, sizeof(p->forced_note),
		 "%s: the source %s%s could not be contacted (%.200s). When it returns, its volume "
		 "is still read-write (split-brain): keep the writes of one side and set the TMR "
		 "of the side that gives them up to spec.state reestablished with the other "
		 "side's handle (on the source's cluster: remoteVolumeHandle %s); its writes since "
		 "the last common snapshot are lost",
		 MG_MSG_FORCED_PROMOTE, source, cluster, why, p->target.local_path);
	mg_kobj_event(p->c, p->obj, "Warning", MG_EVENT_REASON_SOURCE_UNREACHABLE,
		      p->forced_note);
	return 0;
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Keeps the stored message when it starts with `prefix` and the stored state is promoted or
 * promoting: what an earlier pass learnt (a forced break, a split-brain) and this pass
 * cannot see again. */
static void keep_stored(pass *p, const char *prefix)
{
	const mg_tmr_condition *old = p->tmr.has_condition ? &p->tmr.condition : NULL;
	const char *msg = old ? nz(old->message) : "";
	enum mg_tmr_state st = mg_tmr_state_parse(old ? old->state : NULL);
	if ((st == MG_TMR_PROMOTED || st == MG_TMR_PROMOTING) && starts_with(msg, prefix))
		set_msg(p, "%s", msg);
}

/* The promoted status of a TMR whose break was forced keeps saying so while it stays
 * promoted (until the old source has become its mirror, see source_side): a later pass does
 * not know it, the stored message does. */
static void keep_forced_note(pass *p)
{
	if (p->forced_note[0])
		set_msg(p, "%s", p->forced_note);
	else
		keep_stored(p, MG_MSG_FORCED_PROMOTE);
}

/* ONTAP could not be read: the stored state stays (H2), except that a TMR being promoted
 * never keeps reading established (a promote may be half done). */
static void unknown_state(pass *p)
{
	enum mg_tmr_state stored =
		mg_tmr_state_parse(p->tmr.has_condition ? p->tmr.condition.state : NULL);
	p->state_known = mg_tmr_state_while_unknown(p->desired, stored, &p->state);
}

/* Drives ONTAP toward p->desired, one step per fresh read. Fills the condition. */
static void drive(pass *p, const drive_opts *o)
{
	const mg_rctx *c = p->c;
	const mg_tmr_mapping *m = &p->tmr.mappings[0];
	bool has_remote = p->target.remote_path[0] != '\0';
	bool quiesced = false;
	char policy_type[32] = "";
	bool policy_known = false;
	unsigned max = c->max_steps ? c->max_steps : 8;
	for (unsigned i = 0; i < max; i++) {
		mg_ontap_relationship rel;
		bool found = false;
		mg_ontap_error err;
		enum mg_mirror_status obs = MG_MIRROR_NONE;
		if (has_remote) {
			int rc = mg_mirror_read(&p->target, &rel, &found, &err);
			obs = rc != 0 ? MG_MIRROR_UNKNOWN
			      : found ? mg_mirror_status_of(&rel)
				      : MG_MIRROR_NONE;
			if (rc != 0)
				ontap_unreadable(p, "SnapMirror relationship read failed; retrying",
						 err.message);
			else if (obs == MG_MIRROR_UNKNOWN)
				set_msg(p, "SnapMirror relationship is in state %s, which is not "
					   "understood; retrying",
					rel.state);
		}
		if (found) {
			record_relationship(p, &rel);
			if (rel.policy_name[0])
				snprintf(p->policy, sizeof(p->policy), "%s", rel.policy_name);
			if (rel.transfer_schedule[0])
				snprintf(p->schedule, sizeof(p->schedule), "%s", rel.transfer_schedule);
		}
		mg_tmr_decision d = mg_tmr_decide(p->desired, has_remote, obs);
		if (d.action == MG_ACT_RETRY_READ) {
			unknown_state(p); /* H2: keep what we last knew */
			retry(p, "relationship unknown");
			return;
		}
		p->state = d.report;
		p->state_known = true;
		if (d.action == MG_ACT_NONE && p->desired == MG_TMR_PROMOTED && !o->for_deletion &&
		    !found) {
			/* H7: a DP volume without a relationship stays read-only */
			mg_ontap_volume v;
			if (mg_ontap_volume_get(p->target.backend->ontap, p->target.backend->svm,
						p->target.volume, &v, &err) != 0) {
				p->state_known = false;
				set_msg(p, "Could not read volume %s: %s; retrying",
					p->target.local_path, err.message);
				retry(p, "volume read failed");
				return;
			}
			const char *why = mg_tmr_promoted_refusal(p->desired, MG_MIRROR_NONE, v.type);
			if (why) {
				p->state = MG_TMR_FAILED;
				set_msg(p, "%s (volume %s)", why, p->target.local_path);
				retry(p, "read-only DP volume without a relationship");
				return;
			}
		}
		if (d.action == MG_ACT_NONE) {
			if (found && !rel.healthy && rel.unhealthy_reason[0])
				set_msg(p, "SnapMirror relationship is unhealthy: %s",
					rel.unhealthy_reason);
			else
				p->message[0] = '\0';
			if (p->state == MG_TMR_PROMOTED && has_remote)
				keep_forced_note(p);
			p->res->outcome = mg_tmr_state_is_transitioning(p->state) ? MG_REC_RETRY
										   : MG_REC_DONE;
			return;
		}
		if (d.action == MG_ACT_REFUSE) {
			set_msg(p, "%s", d.message);
			retry(p, "refused");
			return;
		}
		enum mg_step step;
		mg_step_args args = {0};
		const mg_ontap_relationship *r = found ? &rel : NULL;
		if (d.action == MG_ACT_ESTABLISH || d.action == MG_ACT_REESTABLISH) {
			step = d.action == MG_ACT_ESTABLISH ? mg_establish_next(r)
							    : mg_reestablish_next(r);
			args.policy = p->tmr.replication_policy && *p->tmr.replication_policy
					      ? p->tmr.replication_policy
					      : p->target.backend->policy;
			args.schedule = p->tmr.replication_schedule && *p->tmr.replication_schedule
						? p->tmr.replication_schedule
						: p->target.backend->schedule;
			if (step == MG_STEP_CREATE && d.action == MG_ACT_ESTABLISH) {
				/* Trident's rule: only an (empty) DP volume can become a destination */
				mg_ontap_volume v;
				int rc = mg_ontap_volume_get(p->target.backend->ontap,
							     p->target.backend->svm, p->target.volume,
							     &v, &err);
				if (rc != 0) {
					set_msg(p, "%s: %s", MG_MSG_COULD_NOT_ESTABLISH, err.message);
					retry(p, "volume read failed");
					return;
				}
				if (strcmp(v.type, "dp") != 0) {
					p->state = MG_TMR_FAILED;
					set_msg(p, "%s: mirrors can only be established with empty DP "
						   "volumes as the destination",
						MG_MSG_COULD_NOT_ESTABLISH);
					retry(p, "not a DP volume");
					return;
				}
			}
		} else {
			const char *snap_handle = o->for_deletion ? NULL
								  : m->promoted_snapshot_handle;
			if (snap_handle && *snap_handle && !policy_known) {
				/* H4: the TMR's own policy, else the relationship's */
				const char *pol = p->tmr.replication_policy &&
							  *p->tmr.replication_policy
						  ? p->tmr.replication_policy
						  : (found ? rel.policy_name : "");
				if (mg_mirror_policy_type(&p->target, pol, policy_type,
							  sizeof(policy_type), &err) != 0) {
					set_msg(p, "%s: %s", MG_MSG_COULD_NOT_PROMOTE, err.message);
					retry(p, "policy read failed");
					return;
				}
				if (!policy_type[0] && found)
					snprintf(policy_type, sizeof(policy_type), "%s",
						 rel.policy_type);
				policy_known = true;
			}
			mg_promote_input in = {.rel = r, .quiesce_requested = quiesced};
			const char *snap = NULL;
			if (mg_promote_waits_for_snapshot(snap_handle, policy_type) &&
			    mg_tamu_snapshot_name(snap_handle, &snap) && snap) {
				in.wait_for_snapshot = true;
				if (mg_mirror_snapshot_present(&p->target, snap, &in.snapshot_present,
							       &err) != 0) {
					set_msg(p, "%s: %s", MG_MSG_COULD_NOT_PROMOTE, err.message);
					retry(p, "snapshot read failed");
					return;
				}
				args.restore_to_snapshot = snap;
			}
			step = mg_promote_next(&in);
		}
		switch (step) {
		case MG_STEP_DONE:
			continue; /* the next read shows the settled state */
		case MG_STEP_WAIT:
			if (found && !rel.healthy && rel.unhealthy_reason[0])
				set_msg(p, "SnapMirror relationship is unhealthy: %s",
					rel.unhealthy_reason);
			else
				p->message[0] = '\0';
			retry(p, "waiting for ONTAP");
			return;
		case MG_STEP_WAIT_SNAPSHOT:
			/* H1: promoting and waiting, never failed */
			set_msg(p, "%s%s", MG_MSG_WAITING_FOR_SNAPSHOT, m->promoted_snapshot_handle);
			retry(p, "waiting for snapshot");
			return;
		case MG_STEP_FAIL:
			p->state = MG_TMR_FAILED;
			set_msg(p, "%s: %s", failure_prefix(d.action),
				found && rel.unhealthy_reason[0]
					? rel.unhealthy_reason
					: "the relationship is broken off; only 'reestablished' "
					  "resyncs it");
			retry(p, "step failed");
			return;
		default:
			break;
		}
		if (!mg_rctx_may_write_ontap(c)) {
			retry(p, "not the leader");
			return;
		}
		/* A destructive step on a stale view is the split-brain case: re-read ONTAP, then
		 * ask for the lease again, right before the write (which the fence checks too). */
		if (r && mg_step_destructive(step)) {
			int rrc = mg_mirror_recheck(&p->target, r, &err);
			if (rrc == 0 && !mg_rctx_may_act(c)) {
				retry(p, "not the leader");
				return;
			}
			if (rrc != 0) {
				set_msg(p, "%s: %s; retrying", failure_prefix(d.action), err.message);
				retry(p, "re-read before %s", mg_step_name(step));
				return;
			}
		}
		mg_info("ONTAP step", "tmr", p->name, "namespace", p->ns, "step", mg_step_name(step),
			"destination", p->target.local_path, NULL);
		int rc = mg_mirror_step(&p->target, step, r, &args, &err);
		count_call(p, mg_step_name(step), rc, &err);
		if (rc != 0 && mg_step_may_force(step, &err))
			rc = break_with_force(p, r, &args, &err);
		if (rc != 0) {
			if (mg_mirror_err_transient(&err)) {
				/* a busy or unreachable ONTAP, or an outcome to re-read (H11) */
				set_msg(p, "%s: %s; retrying", failure_prefix(d.action), err.message);
			} else {
				p->state = MG_TMR_FAILED;
				set_msg(p, "%s: %s", failure_prefix(d.action), err.message);
			}
			retry(p, "step %s failed", mg_step_name(step));
			return;
		}
		if (step == MG_STEP_QUIESCE)
			quiesced = true;
	}
	retry(p, "step budget used");
}

/* The source side of a settled promoted TMR: ONTAP's source-side view of the local volume
 * (list_destinations_only) names every destination it feeds. Each one is recorded on the PVC
 * (history role "source", which the webhook's failback rules read) and the PVC is protected,
 * so that deleting it releases the source-side metadata before the volume goes. A destination
 * whose relationship is broken off was promoted: both volumes are read-write (split-brain),
 * and the status and a Warning Event say so and how to choose. A failed read changes
 * nothing (logged; the next pass reads again). */
static void source_side(pass *p)
{
	const mg_tmr_mapping *m = &p->tmr.mappings[0];
	mg_ontap_relationship_list list = {0};
	mg_ontap_error err;
	int rc = mg_ontap_relationship_list_destinations(p->target.backend->ontap,
							 p->target.local_path, &list, &err);
	if (rc != 0) {
		if (rc != MG_ENOTFOUND) {
			mg_warn("could not list the SnapMirror destinations of the source volume",
				"tmr", p->name, "namespace", p->ns, "volume", p->target.local_path,
				"error", err.message, NULL);
			if (!p->message[0])
				keep_stored(p, MG_MSG_SPLIT_BRAIN); /* unknown is not resolved */
		}
		return;
	}
	for (size_t i = 0; i < list.len; i++) {
		const mg_ontap_relationship *d = &list.items[i];
		if (!d->destination_path[0] || !strchr(d->destination_path, ':'))
			continue;
		int prc = mg_pvc_protect(p->c, p->ns, m->local_pvc_name, d->destination_path,
					 "source", p->name);
		if (prc != 0)
			retry(p, "PVC protection (source): %s", mg_strerror(prc));
		bool mirrored = strcmp(d->state, "snapmirrored") == 0 ||
				strcmp(d->state, "in_sync") == 0;
		if (mirrored && strcmp(d->destination_path, p->target.remote_path) == 0 &&
		    starts_with(p->message, MG_MSG_FORCED_PROMOTE))
			p->message[0] = '\0'; /* the old source is this volume's mirror now */
		if (!mg_destination_promoted(d) || p->message[0])
			continue;
		set_msg(p,
			"%s: this volume %s is read-write, and its SnapMirror destination %s was "
			"promoted (the relationship is broken off), so it is read-write too; writes "
			"on either side are not replicated. Keep the writes of one side: set the TMR "
			"of the side that gives its writes up to spec.state reestablished with the "
			"other side's handle (this TMR with remoteVolumeHandle %s resyncs this volume "
			"from %s; the TMR on the destination's cluster with remoteVolumeHandle %s "
			"resyncs it from this volume). The side that is reestablished loses its "
			"writes since the last common snapshot. If replication was removed on "
			"purpose, release it here: delete this TMR (it releases the source side) "
			"and create it again",
			MG_MSG_SPLIT_BRAIN, p->target.local_path, d->destination_path,
			d->destination_path, d->destination_path, p->target.local_path);
		p->extra_reason = MG_EVENT_REASON_SPLIT_BRAIN;
		mg_warn("split-brain: the destination of this source was promoted", "tmr", p->name,
			"namespace", p->ns, "source", p->target.local_path, "destination",
			d->destination_path, NULL);
	}
	mg_ontap_relationship_list_free(&list);
}

/* A failback reversed the relationship: the old one's source-side record on this volume
 * is removed (info only, snapshots kept), else this volume, promoted again later, would list
 * a broken-off destination and report a split-brain that is not there. */
static void release_stale_reverse(pass *p)
{
	if (!mg_rctx_may_write_ontap(p->c))
		return;
	mg_ontap_error err;
	int n = 0;
	int rc = mg_mirror_release_stale_reverse(&p->target, p->target.remote_path, &n, &err);
	const char *ml[] = {"operation", "release-info", "outcome", rc == 0 ? "success" : "error",
			    NULL};
	if (n || rc)
		mg_rmetrics_inc(p->c->metrics, "mirrorgate_ontap_calls_total", ml, 1);
	if (rc != 0) {
		mg_warn("could not remove the stale source-side record of the reversed relationship",
			"tmr", p->name, "namespace", p->ns, "error", err.message, NULL);
		retry(p, "stale source record: %s", err.message);
	}
}

static int resolve(pass *p, bool *resolved)
{
	*resolved = false;
	const mg_tmr_mapping *m = &p->tmr.mappings[0];
	enum mg_resolve st;
	char why[512], handle[256];
	int rc = mg_volume_ref_resolve_ex(p->c, p->ns, m->local_pvc_name, &p->target, &st, why,
					  sizeof(why), handle, sizeof(handle), &p->pvc_deleting);
	if (rc != 0) {
		snprintf(p->lookup_error, sizeof(p->lookup_error), "%s", why);
		retry(p, "resolve: %s", why);
		return rc;
	}
	if (st == MG_RESOLVE_DEFER) {
		snprintf(p->lookup_defer, sizeof(p->lookup_defer), "%s", why);
		retry(p, "%s", why);
		return 0;
	}
	if (st == MG_RESOLVE_ERROR) {
		p->state = MG_TMR_FAILED;
		p->state_known = true;
		set_msg(p, "Could not find volume at volume handle: %s", handle);
		return 0;
	}
	snprintf(p->local_handle, sizeof(p->local_handle), "%s", p->target.local_path);
	snprintf(p->target.remote_path, sizeof(p->target.remote_path), "%s",
		 nz(m->remote_volume_handle));
	*resolved = true;
	return 0;
}

/* The volume look-up that starts every pass failed: ONTAP refused (a 401 after a password
 * rotation) or could not be reached, or the API server failed. Nothing is known about the
 * relationship, so the state stays (H2); the TMR says why when ONTAP gave a reason, the
 * error is counted and logged, and the pass is retried with backoff. */
static int lookup_failed(pass *p, int rc)
{
	const char *why = p->lookup_error[0] ? p->lookup_error : mg_strerror(rc);
	retry(p, "resolve: %s", why);
	if (!p->lookup_error[0]) {
		/* the API server failed: a status write would fail the same way */
		count_and_warn(p, "TMR volume look-up failed; retrying", why);
		return 0;
	}
	unknown_state(p);
	ontap_unreadable(p, "TMR volume look-up failed; retrying", why);
	int wrc = write_status(p);
	if (wrc != 0)
		mg_warn("could not report the look-up failure", "tmr", p->name, "error",
			mg_strerror(wrc), NULL);
	return 0;
}

/* The claim this TMR mirrored is gone: it resolved once (the condition has a local volume
 * handle), and now the PVC is missing. Trident writes nothing while a PVC does not exist
 * yet, and keeps saying `established` after the claim is gone; the claim's pass released
 * the relationship, so the message says so instead (the state is left: H2). A claim that
 * never existed still defers without a write. */
static bool claim_gone(const pass *p)
{
	return p->tmr.has_condition && p->tmr.condition.local_volume_handle &&
	       p->tmr.condition.local_volume_handle[0] &&
	       strcmp(p->lookup_defer, MG_MSG_PVC_MISSING) == 0;
}

static int handle_deletion(pass *p)
{
	int rc = 0;
	bool resolved = false;
	if (p->tmr.nmappings == 1 && p->tmr.mappings[0].local_pvc_name) {
		rc = resolve(p, &resolved);
		if (rc != 0)
			return rc;
		if (!resolved && p->state_known && p->state == MG_TMR_FAILED)
			p->res->outcome = MG_REC_DONE; /* volume on no backend: nothing to undo */
		else if (!resolved)
			p->res->outcome = MG_REC_DONE; /* PVC/PV gone: nothing on ONTAP is ours */
	}
	if (resolved) {
		enum mg_tmr_state st = mg_tmr_state_parse(p->tmr.has_condition
								  ? p->tmr.condition.state
								  : NULL);
		enum mg_mirror_status obs = MG_MIRROR_NONE;
		if (p->target.remote_path[0]) {
			mg_ontap_relationship rel;
			bool found;
			mg_ontap_error err;
			int r = mg_mirror_read(&p->target, &rel, &found, &err);
			obs = r != 0 ? MG_MIRROR_UNKNOWN
			      : found ? mg_mirror_status_of(&rel)
				      : MG_MIRROR_NONE;
		}
		enum mg_delete_action a = mg_tmr_delete_decide(true, st, obs);
		mg_info("TMR deletion", "tmr", p->name, "namespace", p->ns, "action",
			mg_delete_action_name(a), NULL);
		if (a == MG_DEL_RETRY_READ) {
			retry(p, "relationship unknown during deletion");
			return 0;
		}
		if (a == MG_DEL_RELEASE) {
			if (!mg_rctx_may_write_ontap(p->c)) {
				retry(p, "not the leader");
				return 0;
			}
			mg_ontap_error err;
			rc = mg_mirror_release(&p->target, &err);
			if (rc != 0) {
				retry(p, "release: %s", err.message);
				return 0;
			}
		} else if (a == MG_DEL_PROMOTE) {
			/* research 3.6: a destination is promoted before the finalizer goes,
			 * without waiting for any snapshot */
			p->desired = MG_TMR_PROMOTED;
			drive_opts o = {.for_deletion = true};
			p->res->outcome = MG_REC_DONE;
			drive(p, &o);
			if (!(p->state_known && p->state == MG_TMR_PROMOTED))
				return 0; /* retry decided by drive */
		}
	}
	cJSON *updated = NULL;
	rc = mg_kobj_set_finalizer(&updated, p->c, &mg_k8s_res_tmr, p->obj, MG_TRIDENT_FINALIZER,
				   false);
	cJSON_Delete(updated);
	if (rc != 0) {
		retry(p, "finalizer removal: %s", mg_strerror(rc));
		return 0;
	}
	p->res->outcome = MG_REC_FORGET;
	forget_metrics(p);
	return 0;
}

int mg_tmr_reconcile(const mg_rctx *c, const char *ns, const char *name, mg_rec_result *res)
{
	memset(res, 0, sizeof(*res));
	pass p;
	memset(&p, 0, sizeof(p));
	p.c = c;
	p.ns = ns;
	p.name = name;
	p.res = res;
	int rc = reload(&p);
	if (rc == MG_ENOTFOUND) {
		res->outcome = MG_REC_FORGET;
		forget_metrics(&p);
		rc = 0;
		goto out;
	}
	if (rc != 0) {
		retry(&p, "read TMR: %s", mg_strerror(rc));
		goto out;
	}
	if (mg_kobj_deleting(p.obj)) {
		if (mg_kobj_has_finalizer(p.obj, MG_TRIDENT_FINALIZER)) {
			rc = handle_deletion(&p);
		} else {
			/* ours already removed (or never added): it is going, so are its series */
			res->outcome = MG_REC_FORGET;
			forget_metrics(&p);
		}
		goto out;
	}
	if (!mg_kobj_has_finalizer(p.obj, MG_TRIDENT_FINALIZER)) {
		cJSON *updated = NULL;
		rc = mg_kobj_set_finalizer(&updated, c, &mg_k8s_res_tmr, p.obj, MG_TRIDENT_FINALIZER,
					   true);
		cJSON_Delete(updated);
		if (rc != 0) {
			retry(&p, "add finalizer: %s", mg_strerror(rc));
			rc = 0;
			goto out;
		}
		rc = reload(&p);
		if (rc != 0) {
			retry(&p, "re-read TMR: %s", mg_strerror(rc));
			rc = 0;
			goto out;
		}
	}
	const char *invalid = mg_tmr_invalid_reason(&p.tmr);
	if (invalid) {
		p.state = MG_TMR_INVALID;
		p.state_known = true;
		set_msg(&p, "%s", invalid);
		res->outcome = MG_REC_DONE;
		rc = write_status(&p);
		goto out;
	}
	p.desired = mg_tmr_state_parse(p.tmr.state);
	bool resolved;
	rc = resolve(&p, &resolved);
	if (rc != 0) {
		rc = lookup_failed(&p, rc);
		goto out;
	}
	if (p.pvc_deleting) {
		/* The claim is going: the PVC controller releases its relationship once and lets
		 * the finalizer go. Establishing (and protecting) it again would undo that on
		 * every resync while something else (a pod's pvc-protection) holds the claim. */
		p.state_known = false;
		set_msg(&p, "%s", MG_MSG_LOCAL_PVC_DELETING);
		res->outcome = MG_REC_DONE;
		rc = write_status(&p);
		if (rc != 0) {
			retry(&p, "status write: %s", mg_strerror(rc));
			rc = 0;
		}
		goto out;
	}
	if (!resolved) {
		if (p.state_known) { /* volume on no backend */
			retry(&p, "volume not found");
			rc = write_status(&p);
		} else if (claim_gone(&p)) {
			set_msg(&p, "%s", MG_MSG_LOCAL_PVC_GONE);
			rc = write_status(&p);
		}
		goto out; /* deferred: no status write, as Trident */
	}
	p.res->outcome = MG_REC_DONE;
	drive_opts o = {0};
	drive(&p, &o);
	if (p.state_known && (p.state == MG_TMR_ESTABLISHED || p.state == MG_TMR_REESTABLISHED) &&
	    p.state == p.desired) {
		/* the relationship exists now: record it on the PVC and protect the PVC */
		int prc = mg_pvc_protect(c, ns, p.tmr.mappings[0].local_pvc_name,
					 p.target.remote_path, "destination", name);
		if (prc != 0)
			retry(&p, "PVC protection: %s", mg_strerror(prc));
		if (p.state == MG_TMR_REESTABLISHED)
			release_stale_reverse(&p);
	}
	if (p.state_known && p.state == MG_TMR_PROMOTED && p.desired == MG_TMR_PROMOTED)
		source_side(&p);
	rc = write_status(&p);
	if (rc != 0 && res->outcome != MG_REC_RETRY)
		retry(&p, "status write: %s", mg_strerror(rc));
out:
	mg_tmr_free(&p.tmr);
	cJSON_Delete(p.obj);
	return rc;
}
