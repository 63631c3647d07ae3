/* The SnapMirror relationship state machine (research ontap.md 4.2-4.5): create, the PATCH
 * state transitions with their side effects, and delete/release. Validation that ONTAP does
 * synchronously happens in sim_rel_check_*; the change itself runs when the job finishes. */
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

sim_cluster *sim_rel_src_cluster(const sim_relationship *r) { return r->src->svm->cluster; }
sim_cluster *sim_rel_dst_cluster(const sim_relationship *r) { return r->dst->svm->cluster; }

bool sim_rel_visible(const sim_relationship *r, const sim_cluster *c, bool source_view)
{
	if (source_view)
		return r->source_record && sim_rel_src_cluster(r) == c;
	return r->dest_record && sim_rel_dst_cluster(r) == c;
}

static const char *jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const char *jpath(const cJSON *o, const char *key, const char *sub)
{
	return jstr(cJSON_GetObjectItemCaseSensitive(o, key), sub);
}

static bool jtrue(const cJSON *o, const char *key)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key));
}

int sim_rel_check_create(sim_fabric *f, sim_cluster *c, const cJSON *body, sim_err *e)
{
	const char *src = jpath(body, "source", "path"), *dst = jpath(body, "destination", "path");
	if (!src) {
		sim_err_set(e, 400, "2", "source.path", "Missing value for required field \"source.path\".");
		return -1;
	}
	if (!dst) {
		sim_err_set(e, 400, "2", "destination.path",
			    "Missing value for required field \"destination.path\".");
		return -1;
	}
	if (!strchr(dst, ':')) {
		sim_err_set(e, 400, "13303852", "destination.path",
			    "destination.path provided does not contain \":\".");
		return -1;
	}
	if (!strchr(src, ':')) {
		sim_err_set(e, 400, "13303852", "source.path",
			    "source.path provided does not contain \":\".");
		return -1;
	}
	if (cJSON_GetObjectItemCaseSensitive(body, "state") &&
	    !cJSON_GetObjectItemCaseSensitive(body, "create_destination")) {
		sim_err_set(e, 400, "13303873", "state",
			    "Specifying a state when creating a relationship is only supported when "
			    "creating a destination endpoint.");
		return -1;
	}
	sim_volume *sv = sim_volume_by_path(f, c, src), *dv = sim_volume_by_path(f, c, dst);
	if (sv && sv == dv) {
		sim_err_set(e, 400, "6619441", "destination.path",
			    "The source volume cannot be the same as the destination volume.");
		return -1;
	}
	if (!dv || dv->svm->cluster != c) {
		sim_err_set(e, 404, "4", "destination.path", "entry doesn't exist: volume \"%s\"", dst);
		return -1;
	}
	if (!sv) {
		sim_err_set(e, 404, "4", "source.path", "entry doesn't exist: volume \"%s\"", src);
		return -1;
	}
	if (sv->svm->cluster != c && !sim_svm_peer_find(f, dv->svm, sv->svm)) {
		sim_err_set(e, 400, "13303886", "source.path", "SVM peer permission not found.");
		return -1;
	}
	const char *pol = jpath(body, "policy", "name");
	if (pol && !sim_policy_find(f, c, pol)) {
		sim_err_set(e, 400, "13303821", "policy.name", "Invalid SnapMirror policy name \"%s\".", pol);
		return -1;
	}
	const char *sched = jpath(body, "transfer_schedule", "name");
	if (sched && !sim_schedule_find(f, c, sched)) {
		sim_err_set(e, 400, "6619699", "transfer_schedule.name", "Schedule not found.");
		return -1;
	}
	if (sim_rel_find_dst(f, dv)) {
		sim_err_set(e, 409, "6619637", "destination.path",
			    "Relationship with specified destination volume already exists.");
		return -1;
	}
	return 0;
}

int sim_rel_do_create(sim_fabric *f, sim_cluster *c, const cJSON *args, sim_err *e)
{
	/* Re-check: the world may have changed while the job was queued. */
	if (sim_rel_check_create(f, c, args, e) != 0)
		return -1;
	const char *src = jpath(args, "source", "path"), *dst = jpath(args, "destination", "path");
	sim_relationship *r = calloc(1, sizeof(*r));
	if (!r || sim_vec_push(&f->relationships, r)) {
		free(r);
		sim_err_set(e, 500, "1", NULL, "out of memory");
		return -1;
	}
	sim_new_uuid(f, r->uuid);
	r->src = sim_volume_by_path(f, c, src);
	r->dst = sim_volume_by_path(f, c, dst);
	snprintf(r->src_path, sizeof(r->src_path), "%s", src);
	snprintf(r->dst_path, sizeof(r->dst_path), "%s", dst);
	const char *pol = jpath(args, "policy", "name");
	/* ONTAP 9.7+ defaults to the Asynchronous policy. */
	r->policy = sim_policy_find(f, c, pol ? pol : "Asynchronous");
	const char *sched = jpath(args, "transfer_schedule", "name");
	snprintf(r->schedule, sizeof(r->schedule), "%s", sched ? sched : "");
	/* A RW destination (a failed-over volume being reversed or re-protected) starts
	 * broken_off, waiting for a resync; a DP one waits for its baseline. */
	snprintf(r->state, sizeof(r->state), "%s",
		 strcmp(r->dst->type, "dp") == 0 ? "uninitialized" : "broken_off");
	r->healthy = true;
	r->dest_record = true;
	r->hidden_gets = f->visibility_delay;
	f->visibility_delay = 0;
	return 0;
}

static const char *const k_states[] = {"snapmirrored", "paused", "broken_off", "in_sync"};

int sim_rel_check_patch(sim_fabric *f, sim_cluster *c, sim_relationship *r, const cJSON *body,
			sim_err *e)
{
	(void)f;
	if (!sim_rel_visible(r, c, false)) {
		sim_err_set(e, 404, "4", "uuid", "entry doesn't exist");
		return -1;
	}
	const char *state = jstr(body, "state");
	const char *pol = jpath(body, "policy", "name");
	bool restore = cJSON_GetObjectItemCaseSensitive(body, "restore_to_snapshot") != NULL;
	bool preserve = cJSON_GetObjectItemCaseSensitive(body, "preserve") ||
			cJSON_GetObjectItemCaseSensitive(body, "quick_resync");
	if (!state) {
		if (restore || preserve) {
			sim_err_set(e, 400, "13303837", NULL,
				    "The specified flag is only supported with a state change.");
			return -1;
		}
		if (!pol) {
			sim_err_set(e, 400, "2", NULL, "Nothing to modify: specify state or policy.");
			return -1;
		}
	}
	if (pol && !sim_policy_find(f, c, pol)) {
		sim_err_set(e, 400, "13303821", "policy.name", "Invalid SnapMirror policy name \"%s\".", pol);
		return -1;
	}
	if (!state)
		return 0;
	bool known = false;
	for (size_t i = 0; i < sizeof(k_states) / sizeof(k_states[0]); i++)
		known |= strcmp(state, k_states[i]) == 0;
	if (!known) {
		sim_err_set(e, 400, "13303817", "state", "Unknown value \"%s\" for the SnapMirror state.",
			    state);
		return -1;
	}
	sim_policy *eff = pol ? sim_policy_find(f, c, pol) : r->policy;
	if (strcmp(state, "in_sync") == 0 && !(eff && strcmp(eff->type, "sync") == 0)) {
		sim_err_set(e, 400, "13303829", "state",
			    "State \"in_sync\" is only valid for synchronous relationships.");
		return -1;
	}
	if (restore && strcmp(state, "broken_off") != 0) {
		sim_err_set(e, 400, "13303835", "restore_to_snapshot",
			    "The flag is only supported with state \"broken_off\".");
		return -1;
	}
	if (preserve && strcmp(state, "snapmirrored") != 0 && strcmp(state, "in_sync") != 0) {
		sim_err_set(e, 400, "13303836", "preserve",
			    "The flag is only supported with state \"snapmirrored\" or \"in_sync\".");
		return -1;
	}
	/* Breaking an idle uninitialized relationship is refused up front; while its baseline
	 * runs, the job fails as busy instead (13303808), as research 4.2 records. */
	bool refused = (strcmp(r->state, "uninitialized") == 0 && strcmp(state, "broken_off") == 0 &&
			!sim_transfer_active(r->transfer)) ||
		       (strcmp(r->state, "broken_off") == 0 && strcmp(state, "paused") == 0);
	if (refused) {
		sim_err_set(e, 400, "13303818", "state",
			    "Invalid state transition requested: from \"%s\" to \"%s\".", r->state,
			    state);
		return -1;
	}
	if (restore) {
		const char *snap = jstr(body, "restore_to_snapshot");
		if (!snap || !sim_snapshot_find(r->dst, snap)) {
			sim_err_set(e, 400, "13303808", "restore_to_snapshot",
				    "Transition to broken_off state failed. Reason:Snapshot copy \"%s\" "
				    "does not exist on the destination volume.",
				    snap ? snap : "");
			return -1;
		}
	}
	return 0;
}

static int do_initialize(sim_fabric *f, sim_relationship *r, sim_err *e)
{
	if (sim_transfer_active(r->transfer)) {
		sim_err_set(e, 400, "13303812", NULL,
			    "Initialize operation failed. Reason:Another transfer is in progress.");
		return -1;
	}
	if (sim_check_peer(r, false, e) != 0)
		return -1;
	return sim_transfer_begin(f, r, "initialize", NULL, NULL, e);
}

static int do_quiesce(sim_relationship *r)
{
	/* Quiesce lets a running transfer finish; the relationship is paused after it. */
	if (sim_transfer_active(r->transfer))
		r->quiesce_pending = true;
	else if (strcmp(r->state, "paused") != 0)
		snprintf(r->state, sizeof(r->state), "paused");
	return 0;
}

/* SnapRestore of the destination to snapshot `name`: newer snapshots and newer AFS data go. */
static void restore_to(sim_fabric *f, sim_volume *v, const char *name, const char *op)
{
	size_t idx = v->snaps.len;
	for (size_t i = 0; i < v->snaps.len; i++)
		if (strcmp(((sim_snapshot *)v->snaps.items[i])->name, name) == 0)
			idx = i;
	if (idx == v->snaps.len)
		return;
	sim_snapshot *s = v->snaps.items[idx];
	uint64_t old = v->afs_gen;
	v->afs_gen = s->generation;
	while (v->snaps.len > idx + 1)
		sim_snapshot_remove(f, v, v->snaps.len - 1, op);
	char detail[SIM_MSG];
	snprintf(detail, sizeof(detail), "active file system reverted to snapshot %s", name);
	sim_note_discard(f, v, old, op, detail);
}

static int do_break(sim_fabric *f, sim_relationship *r, const cJSON *args, sim_err *e)
{
	if (sim_transfer_active(r->transfer)) {
		sim_err_set(e, 400, "13303808", NULL,
			    "Transition to broken_off state failed. Reason:Another transfer is in "
			    "progress.");
		return -1;
	}
	if (sim_check_peer(r, jtrue(args, "force"), e) != 0)
		return -1;
	const char *snap = jstr(args, "restore_to_snapshot");
	if (snap) {
		if (!sim_snapshot_find(r->dst, snap)) {
			sim_err_set(e, 400, "13303808", "restore_to_snapshot",
				    "Transition to broken_off state failed. Reason:Snapshot copy \"%s\" "
				    "does not exist on the destination volume.", snap);
			return -1;
		}
		restore_to(f, r->dst, snap, "break restore_to_snapshot");
	}
	snprintf(r->dst->type, sizeof(r->dst->type), "rw");
	snprintf(r->state, sizeof(r->state), "broken_off");
	r->quiesce_pending = false;
	return 0;
}

static int do_resync(sim_fabric *f, sim_relationship *r, const cJSON *args, sim_err *e)
{
	if (sim_transfer_active(r->transfer)) {
		sim_err_set(e, 400, "13303810", NULL,
			    "Transition to snapmirrored state failed. Reason:Another transfer is in "
			    "progress.");
		return -1;
	}
	if (sim_check_peer(r, false, e) != 0)
		return -1;
	/* The newest destination snapshot that still exists on the source. */
	sim_snapshot *common = NULL;
	for (size_t i = r->dst->snaps.len; i-- > 0 && !common;) {
		sim_snapshot *s = r->dst->snaps.items[i];
		if (sim_snapshot_find_origin(r->src, s->origin))
			common = s;
	}
	if (!common) {
		sim_err_set(e, 400, "13303810", NULL,
			    "Transition to snapmirrored state failed. Reason:No common Snapshot copy "
			    "found between the source volume \"%s\" and the destination volume \"%s\".",
			    r->src_path, r->dst_path);
		r->healthy = false;
		snprintf(r->unhealthy_code, sizeof(r->unhealthy_code), "%s", e->code);
		snprintf(r->unhealthy_message, sizeof(r->unhealthy_message), "%s", e->message);
		return -1;
	}
	char name[SIM_NAME];
	snprintf(name, sizeof(name), "%s", common->name);
	if (jtrue(args, "preserve")) {
		/* Newer snapshots stay; the active file system still reverts. */
		uint64_t old = r->dst->afs_gen;
		r->dst->afs_gen = common->generation;
		sim_note_discard(f, r->dst, old, "resync",
				 "active file system reverted to the common snapshot (preserve)");
	} else {
		restore_to(f, r->dst, name, "resync");
	}
	snprintf(r->dst->type, sizeof(r->dst->type), "dp");
	snprintf(r->exported_snapshot, sizeof(r->exported_snapshot), "%s", name);
	return sim_transfer_begin(f, r, "resync", NULL, NULL, e);
}

int sim_rel_do_patch(sim_fabric *f, sim_cluster *c, const cJSON *args, sim_err *e)
{
	sim_relationship *r = sim_rel_find_uuid(f, jstr(args, "uuid"));
	if (!r || !sim_rel_visible(r, c, false)) {
		sim_err_set(e, 404, "4", "uuid", "entry doesn't exist");
		return -1;
	}
	const char *pol = jpath(args, "policy", "name");
	if (pol) {
		sim_policy *p = sim_policy_find(f, c, pol);
		if (!p) {
			sim_err_set(e, 400, "13303821", "policy.name", "Invalid SnapMirror policy name.");
			return -1;
		}
		r->policy = p;
	}
	const char *to = jstr(args, "state");
	if (!to)
		return 0;
	const char *from = r->state;
	if (strcmp(to, "paused") == 0) {
		if (strcmp(from, "broken_off") == 0) {
			sim_err_set(e, 400, "13303818", "state", "Invalid state transition requested.");
			return -1;
		}
		return do_quiesce(r);
	}
	if (strcmp(to, "broken_off") == 0) {
		if (strcmp(from, "broken_off") == 0)
			return 0;
		if (strcmp(from, "uninitialized") == 0 && !sim_transfer_active(r->transfer)) {
			sim_err_set(e, 400, "13303818", "state", "Invalid state transition requested.");
			return -1;
		}
		return do_break(f, r, args, e);
	}
	/* snapmirrored or in_sync (synchronous relationships settle in in_sync) */
	if (strcmp(from, "broken_off") == 0)
		return do_resync(f, r, args, e);
	if (strcmp(from, "uninitialized") == 0)
		return do_initialize(f, r, e);
	if (strcmp(from, "paused") == 0) {
		r->quiesce_pending = false;
		snprintf(r->state, sizeof(r->state), "%s",
			 r->exported_snapshot[0] ? sim_rel_mirrored_state(r) : "uninitialized");
		return 0;
	}
	if (sim_transfer_active(r->transfer)) {
		sim_err_set(e, 400, "13303812", NULL,
			    "Initialize operation failed. Reason:Another transfer is in progress.");
		return -1;
	}
	return 0; /* already snapmirrored and idle: nothing to do */
}

static void delete_sm_snapshots(sim_fabric *f, sim_volume *v, const sim_relationship *r,
				const char *op)
{
	for (size_t i = v->snaps.len; i-- > 0;)
		if (strcmp(((sim_snapshot *)v->snaps.items[i])->owner_rel, r->uuid) == 0)
			sim_snapshot_remove(f, v, i, op);
}

int sim_rel_do_delete(sim_fabric *f, sim_cluster *c, const cJSON *args, sim_err *e)
{
	sim_relationship *r = sim_rel_find_uuid(f, jstr(args, "uuid"));
	const char *mode = jstr(args, "mode");
	bool src_side = strcmp(mode, "source_only") == 0;
	bool info_only = strcmp(mode, "source_info_only") == 0;
	bool visible = r && (src_side ? sim_rel_visible(r, c, true)
			     : info_only ? (sim_rel_visible(r, c, true) || sim_rel_visible(r, c, false))
					 : sim_rel_visible(r, c, false));
	if (!visible) {
		sim_err_set(e, 404, "4", "uuid", "entry doesn't exist");
		return -1;
	}
	if (src_side) {
		if (sim_transfer_active(r->transfer)) {
			sim_err_set(e, 400, "13303822", NULL,
				    "SnapMirror release has failed. Reason: a transfer is in progress.");
			return -1;
		}
		r->source_record = false;
		delete_sm_snapshots(f, r->src, r, "release");
	} else if (info_only) {
		if (!r->source_record) {
			sim_err_set(e, 404, "4", "uuid", "entry doesn't exist");
			return -1;
		}
		r->source_record = false;
	} else {
		/* Deleting the destination record stops any transfer in flight. */
		if (sim_transfer_active(r->transfer)) {
			snprintf(r->transfer->state, sizeof(r->transfer->state), "hard_aborted");
			r->transfer->end_ms = f->now_ms;
		}
		r->dest_record = false;
		if (strcmp(mode, "destination_only") != 0) {
			/* No flag: both sides, and the common snapshots with them. */
			r->source_record = false;
			delete_sm_snapshots(f, r->src, r, "delete");
			delete_sm_snapshots(f, r->dst, r, "delete");
		}
	}
	if (!r->dest_record && !r->source_record)
		sim_rel_remove(f, r);
	return 0;
}
