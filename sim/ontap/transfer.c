/* SnapMirror transfers: queued -> transferring -> success | failed | aborted. A successful
 * transfer moves the destination to the transferred snapshot and copies snapshots as the
 * policy says; SnapMirror's own snapshots roll off after two newer ones. */
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool sim_transfer_active(const sim_transfer *t)
{
	return t && (strcmp(t->state, "queued") == 0 || strcmp(t->state, "transferring") == 0);
}

const char *sim_rel_mirrored_state(const sim_relationship *r)
{
	return r->policy && strcmp(r->policy->type, "sync") == 0 ? "in_sync" : "snapmirrored";
}

int sim_check_peer(sim_relationship *r, bool force, sim_err *e)
{
	sim_cluster *src = sim_rel_src_cluster(r), *dst = sim_rel_dst_cluster(r);
	if (force || (src->reachable && dst->reachable) || src == dst)
		return 0;
	sim_cluster *down = src->reachable ? dst : src;
	sim_err_set(e, 400, "262224", NULL,
		    "Failed to contact peer cluster \"%s\" at addresses: 192.0.2.%u. RPC: Remote "
		    "system error - Connection timed out",
		    down->name, (unsigned)(down->port % 250) + 1);
	return -1;
}

static void apply_transfer_faults(sim_fabric *f, sim_transfer *t)
{
	for (size_t i = 0; i < f->transfer_faults.len; i++) {
		sim_transfer_fault *tf = f->transfer_faults.items[i];
		if (tf->count <= 0)
			continue;
		tf->count--;
		if (strcmp(tf->mode, "hang") == 0) {
			t->hang = true;
		} else {
			t->fail = true;
			snprintf(t->fail_code, sizeof(t->fail_code), "%s", tf->code[0] ? tf->code : "13303869");
			snprintf(t->fail_message, sizeof(t->fail_message), "%s",
				 tf->message[0] ? tf->message : "Transfer failed (injected).");
		}
		return;
	}
}

int sim_transfer_begin(sim_fabric *f, sim_relationship *r, const char *kind,
		       const char *source_snapshot, sim_transfer **out, sim_err *e)
{
	char name[SIM_NAME];
	if (source_snapshot) {
		if (!sim_snapshot_find(r->src, source_snapshot)) {
			sim_err_set(e, 400, strcmp(kind, "initialize") == 0 ? "13303812" : "13303844",
				    "source_snapshot",
				    "%s operation failed. Reason: Snapshot copy \"%s\" does not exist "
				    "on the source volume \"%s\".",
				    strcmp(kind, "initialize") == 0 ? "Initialize" : "Update",
				    source_snapshot, r->src_path);
			return -1;
		}
		snprintf(name, sizeof(name), "%s", source_snapshot);
	} else {
		char ts[40];
		sim_format_time(f->now_ms, ts, sizeof(ts));
		ts[19] = '\0'; /* drop the offset */
		for (char *p = ts; *p; p++)
			if (*p == ':')
				*p = '-';
		snprintf(name, sizeof(name), "snapmirror.%s_%u.%s", r->uuid, ++r->sm_seq, ts);
		sim_snapshot *s = sim_snapshot_add(f, r->src, name, "sm_created");
		if (!s) {
			sim_err_set(e, 500, "1", NULL, "out of memory");
			return -1;
		}
		snprintf(s->owner_rel, sizeof(s->owner_rel), "%s", r->uuid);
	}
	sim_transfer *t = calloc(1, sizeof(*t));
	if (!t || sim_vec_push(&f->transfers, t)) {
		free(t);
		sim_err_set(e, 500, "1", NULL, "out of memory");
		return -1;
	}
	sim_new_uuid(f, t->uuid);
	t->rel = r;
	snprintf(t->state, sizeof(t->state), "queued");
	snprintf(t->kind, sizeof(t->kind), "%s", kind);
	snprintf(t->snapshot, sizeof(t->snapshot), "%s", name);
	t->start_ms = f->now_ms;
	t->due_ms = f->now_ms + f->settings.transfer_queue_ms;
	apply_transfer_faults(f, t);
	r->transfer = t;
	if (out)
		*out = t;
	return 0;
}

int sim_transfer_post(sim_fabric *f, sim_relationship *r, const char *source_snapshot,
		      sim_transfer **out, sim_err *e)
{
	bool init = strcmp(r->state, "uninitialized") == 0;
	const char *code = init ? "13303812" : "13303844";
	const char *what = init ? "Initialize" : "Update";
	if (sim_transfer_active(r->transfer)) {
		sim_err_set(e, 400, code, NULL,
			    "%s operation failed. Reason:Another transfer is in progress.", what);
		return -1;
	}
	if (strcmp(r->state, "broken_off") == 0 || strcmp(r->state, "paused") == 0) {
		sim_err_set(e, 400, code, NULL,
			    "%s operation failed. Reason: the relationship is %s; %s it first.", what,
			    strcmp(r->state, "paused") == 0 ? "quiesced" : "broken off",
			    strcmp(r->state, "paused") == 0 ? "resume" : "resync");
		return -1;
	}
	if (sim_check_peer(r, false, e) != 0)
		return -1;
	return sim_transfer_begin(f, r, init ? "initialize" : "update", source_snapshot, out, e);
}

int sim_transfer_abort(sim_fabric *f, sim_transfer *t, bool hard, sim_err *e)
{
	(void)f;
	if (!sim_transfer_active(t)) {
		/* Like 9.8's transfers collection, a finished transfer is no longer addressable. */
		sim_err_set(e, 404, "4", "uuid", "entry doesn't exist");
		return -1;
	}
	snprintf(t->state, sizeof(t->state), "%s", hard ? "hard_aborted" : "aborted");
	t->end_ms = f->now_ms;
	sim_relationship *r = t->rel;
	if (r->quiesce_pending) {
		r->quiesce_pending = false;
		snprintf(r->state, sizeof(r->state), "paused");
	}
	return 0;
}

static bool sm_owned(const sim_snapshot *s, const sim_relationship *r)
{
	return strcmp(s->owner_rel, r->uuid) == 0;
}

/* Keeps the two newest SnapMirror snapshots of r on the source; older ones go on both
 * sides (they are replicas of data the newer ones contain). */
static void roll_off(sim_fabric *f, sim_relationship *r)
{
	size_t keep = 0;
	for (size_t i = r->src->snaps.len; i-- > 0;) {
		sim_snapshot *s = r->src->snaps.items[i];
		if (!sm_owned(s, r))
			continue;
		if (++keep <= 2)
			continue;
		uint64_t origin = s->origin;
		sim_snapshot_remove(f, r->src, i, "snapmirror roll-off");
		for (size_t k = 0; k < r->dst->snaps.len; k++)
			if (((sim_snapshot *)r->dst->snaps.items[k])->origin == origin) {
				sim_snapshot_remove(f, r->dst, k, "snapmirror roll-off");
				break;
			}
	}
}

static int copy_snapshot(sim_fabric *f, sim_volume *dst, const sim_snapshot *src)
{
	if (sim_snapshot_find_origin(dst, src->origin))
		return 0;
	sim_snapshot *s = calloc(1, sizeof(*s));
	if (!s)
		return -1;
	*s = *src;
	sim_new_uuid(f, s->uuid);
	if (sim_vec_push(&dst->snaps, s)) {
		free(s);
		return -1;
	}
	return 0;
}

static void transfer_fail(sim_relationship *r, sim_transfer *t, const char *code, const char *msg)
{
	snprintf(t->state, sizeof(t->state), "failed");
	r->healthy = false;
	snprintf(r->unhealthy_code, sizeof(r->unhealthy_code), "%s", code);
	snprintf(r->unhealthy_message, sizeof(r->unhealthy_message), "%s", msg);
	if (r->quiesce_pending) {
		r->quiesce_pending = false;
		snprintf(r->state, sizeof(r->state), "paused");
	}
}

static void transfer_succeed(sim_fabric *f, sim_relationship *r, sim_transfer *t)
{
	size_t idx = 0;
	sim_snapshot *snap = NULL;
	for (size_t i = 0; i < r->src->snaps.len; i++)
		if (strcmp(((sim_snapshot *)r->src->snaps.items[i])->name, t->snapshot) == 0) {
			snap = r->src->snaps.items[i];
			idx = i;
		}
	if (!snap) {
		transfer_fail(r, t, "13303869",
			      "Transfer failed: the source Snapshot copy was deleted during the transfer.");
		return;
	}
	bool all = r->policy && r->policy->copy_all;
	uint64_t copied = 0;
	for (size_t i = 0; i <= idx; i++) {
		sim_snapshot *s = r->src->snaps.items[i];
		if ((all || s == snap) && !sim_snapshot_find_origin(r->dst, s->origin)) {
			if (copy_snapshot(f, r->dst, s) != 0) {
				transfer_fail(r, t, "13303869", "Transfer failed: out of memory.");
				return;
			}
			copied++;
		}
	}
	uint64_t old = r->dst->afs_gen;
	r->dst->afs_gen = snap->generation;
	sim_note_discard(f, r->dst, old, t->kind, "destination overwritten by transfer");
	snprintf(t->state, sizeof(t->state), "success");
	t->bytes = (copied ? copied : 1) * f->settings.bytes_per_generation;
	snprintf(r->exported_snapshot, sizeof(r->exported_snapshot), "%s", snap->name);
	r->exported_ms = snap->create_ms;
	snprintf(r->last_transfer_type, sizeof(r->last_transfer_type), "%s", t->kind);
	r->source_record = true;
	r->healthy = true;
	r->unhealthy_code[0] = r->unhealthy_message[0] = '\0';
	if (r->quiesce_pending) {
		r->quiesce_pending = false;
		snprintf(r->state, sizeof(r->state), "paused");
	} else if (strcmp(r->state, "uninitialized") == 0 || strcmp(r->state, "broken_off") == 0) {
		snprintf(r->state, sizeof(r->state), "%s", sim_rel_mirrored_state(r));
	}
	roll_off(f, r);
}

void sim_transfer_step(sim_fabric *f, sim_transfer *t)
{
	sim_relationship *r = t->rel;
	if (strcmp(t->state, "queued") == 0) {
		snprintf(t->state, sizeof(t->state), "transferring");
		t->due_ms = f->now_ms + f->settings.transfer_ms;
		return;
	}
	t->end_ms = f->now_ms;
	if (t->fail) {
		transfer_fail(r, t, t->fail_code, t->fail_message);
		return;
	}
	sim_err e;
	if (sim_check_peer(r, false, &e) != 0) {
		transfer_fail(r, t, e.code, e.message);
		return;
	}
	transfer_succeed(f, r, t);
}

int sim_volume_write(sim_fabric *f, sim_volume *v, uint64_t *gen, sim_err *e)
{
	if (strcmp(v->type, "rw") != 0) {
		sim_err_set(e, 400, "13", NULL, "Volume \"%s\" is read-only (type %s).", v->name, v->type);
		return -1;
	}
	v->afs_gen = sim_new_generation(f, v->afs_gen);
	if (gen)
		*gen = v->afs_gen;
	return 0;
}

int sim_snapshot_create_checked(sim_fabric *f, sim_volume *v, const char *name, const char *label,
				sim_err *e)
{
	if (!name || !*name) {
		sim_err_set(e, 400, "2", "name", "Field \"name\" is required.");
		return -1;
	}
	if (strcmp(v->type, "rw") != 0) {
		sim_err_set(e, 400, "1638461", NULL,
			    "Snapshots can only be created on read/write (RW) volumes.");
		return -1;
	}
	if (sim_snapshot_find(v, name)) {
		sim_err_set(e, 409, "525059", "name", "A snapshot with the specified name already exists.");
		return -1;
	}
	if (!sim_snapshot_add(f, v, name, label)) {
		sim_err_set(e, 500, "1", NULL, "out of memory");
		return -1;
	}
	return 0;
}
