/* ontap-sim's SnapMirror state machine, driven in-process (research ontap.md 4.2-4.5): every
 * allowed and refused transition, resync data loss in the ledger, release and delete flags. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "engine.h"

static sim_fabric F;
static sim_cluster *A, *B;
static sim_volume *SRC, *DST;

static void setup(void)
{
	cr_assert_eq(sim_fabric_init(&F), 0);
	cr_assert_eq(sim_config_default(&F), 0);
	A = sim_cluster_find(&F, "cluster-a");
	B = sim_cluster_find(&F, "cluster-b");
	SRC = sim_volume_add(&F, sim_svm_find(&F, A, "svm-a"), "src", "rw", 1u << 30);
	DST = sim_volume_add(&F, sim_svm_find(&F, B, "svm-b"), "dst", "dp", 1u << 30);
	cr_assert(A && B && SRC && DST);
}

static void teardown(void) { sim_fabric_free(&F); }

TestSuite(sm, .init = setup, .fini = teardown);

typedef struct outcome {
	bool sync_refused; /* refused before a job was created */
	char code[24];     /* ONTAP code of the refusal or job failure; "" on success */
	char state[16];    /* job state: success / failure (when a job ran) */
} outcome;

/* The whole job: its queue and run time (1 s by default), nothing more. */
static void run_jobs(void) { sim_clock_advance(&F, F.settings.job_queue_ms + F.settings.job_run_ms); }

static sim_job *last_job(void) { return F.jobs.items[F.jobs.len - 1]; }

static outcome finish(sim_job *j)
{
	outcome o = {0};
	char uuid[SIM_UUID];
	snprintf(uuid, sizeof(uuid), "%s", j->uuid);
	run_jobs();
	sim_job *done = sim_job_find(&F, uuid);
	cr_assert_not_null(done, "job purged too early");
	snprintf(o.state, sizeof(o.state), "%s", done->state);
	if (strcmp(done->state, "failure") == 0)
		snprintf(o.code, sizeof(o.code), "%lld", done->code);
	return o;
}

static outcome patch(sim_relationship *r, const char *json)
{
	outcome o = {0};
	cJSON *body = cJSON_Parse(json);
	cr_assert_not_null(body);
	sim_err e = {0};
	if (sim_rel_check_patch(&F, B, r, body, &e) != 0) {
		cJSON_Delete(body);
		o.sync_refused = true;
		snprintf(o.code, sizeof(o.code), "%s", e.code);
		return o;
	}
	cJSON_AddStringToObject(body, "uuid", r->uuid);
	cr_assert_not_null(sim_job_start(&F, B, "PATCH", "/api/snapmirror/relationships/x",
					 SIM_OP_REL_STATE, body));
	return finish(last_job());
}

static outcome del(sim_relationship *r, sim_cluster *on, const char *mode)
{
	cJSON *args = cJSON_CreateObject();
	cJSON_AddStringToObject(args, "uuid", r->uuid);
	cJSON_AddStringToObject(args, "mode", mode);
	cr_assert_not_null(sim_job_start(&F, on, "DELETE", "/api/snapmirror/relationships/x",
					 SIM_OP_REL_DELETE, args));
	return finish(last_job());
}

static sim_relationship *create(const char *policy)
{
	char json[256];
	snprintf(json, sizeof(json),
		 "{\"source\":{\"path\":\"svm-a:src\"},\"destination\":{\"path\":\"svm-b:dst\"},"
		 "\"policy\":{\"name\":\"%s\"}}", policy);
	cJSON *body = cJSON_Parse(json);
	sim_err e = {0};
	cr_assert_eq(sim_rel_check_create(&F, B, body, &e), 0, "%s", e.message);
	cr_assert_not_null(sim_job_start(&F, B, "POST", "/api/snapmirror/relationships",
					 SIM_OP_REL_CREATE, body));
	outcome o = finish(last_job());
	cr_assert_str_eq(o.state, "success");
	sim_relationship *r = sim_rel_find_dst(&F, DST);
	cr_assert_not_null(r);
	cr_assert_str_eq(r->state, "uninitialized");
	return r;
}

/* Lets every transfer finish. */
static void settle(void) { sim_clock_advance(&F, 10000); }

static sim_relationship *established(const char *policy)
{
	sim_relationship *r = create(policy);
	sim_err e = {0};
	cr_assert_eq(sim_transfer_post(&F, r, NULL, NULL, &e), 0, "%s", e.message);
	settle();
	cr_assert_str_eq(r->state, "snapmirrored");
	cr_assert(r->healthy);
	return r;
}

/* A transfer that does not finish by itself (until faults are cleared). */
static void hang_next_transfer(void)
{
	sim_transfer_fault *tf = calloc(1, sizeof(*tf));
	snprintf(tf->mode, sizeof(tf->mode), "hang");
	tf->count = 1;
	cr_assert_eq(sim_vec_push(&F.transfer_faults, tf), 0);
}

static void release_hung(void)
{
	for (size_t i = 0; i < F.transfers.len; i++) {
		sim_transfer *t = F.transfers.items[i];
		if (t->hang) {
			t->hang = false;
			t->due_ms = F.now_ms;
		}
	}
	settle();
}

/* ---- uninitialized ---- */

Test(sm, uninitialized_to_snapmirrored_initializes_with_a_baseline)
{
	sim_relationship *r = create("MirrorAllSnapshots");
	outcome o = patch(r, "{\"state\":\"snapmirrored\"}");
	cr_assert_str_eq(o.state, "success");
	cr_assert_not_null(r->transfer);
	cr_assert_str_eq(r->state, "uninitialized", "the baseline is still running");
	settle();
	cr_assert_str_eq(r->state, "snapmirrored");
	cr_assert_str_eq(r->transfer->state, "success");
	cr_assert_eq(DST->afs_gen, SRC->afs_gen, "destination holds the source's data");
	cr_assert(r->source_record, "the first transfer creates the source-side record");
	cr_assert_str_eq(r->last_transfer_type, "initialize");
}

Test(sm, uninitialized_to_paused_is_allowed)
{
	sim_relationship *r = create("MirrorAllSnapshots");
	outcome o = patch(r, "{\"state\":\"paused\"}");
	cr_assert_str_eq(o.state, "success");
	cr_assert_str_eq(r->state, "paused");
}

Test(sm, uninitialized_to_broken_off_is_refused)
{
	sim_relationship *r = create("MirrorAllSnapshots");
	outcome o = patch(r, "{\"state\":\"broken_off\"}");
	cr_assert(o.sync_refused);
	cr_assert_str_eq(o.code, "13303818");
	cr_assert_str_eq(DST->type, "dp");
}

Test(sm, uninitialized_while_baseline_runs_refuses_initialize_and_break)
{
	sim_relationship *r = create("MirrorAllSnapshots");
	hang_next_transfer();
	sim_err e = {0};
	cr_assert_eq(sim_transfer_post(&F, r, NULL, NULL, &e), 0);
	outcome o = patch(r, "{\"state\":\"snapmirrored\"}");
	cr_assert_str_eq(o.state, "failure");
	cr_assert_str_eq(o.code, "13303812");
	o = patch(r, "{\"state\":\"broken_off\"}");
	cr_assert_str_eq(o.state, "failure");
	cr_assert_str_eq(o.code, "13303808");
	cr_assert_str_eq(DST->type, "dp");
}

Test(sm, quiesce_during_baseline_pauses_after_the_transfer)
{
	sim_relationship *r = create("MirrorAllSnapshots");
	hang_next_transfer();
	sim_err e = {0};
	cr_assert_eq(sim_transfer_post(&F, r, NULL, NULL, &e), 0);
	outcome o = patch(r, "{\"state\":\"paused\"}");
	cr_assert_str_eq(o.state, "success");
	cr_assert_str_eq(r->state, "uninitialized", "quiescing waits for the transfer");
	release_hung();
	cr_assert_str_eq(r->state, "paused");
	cr_assert_eq(DST->afs_gen, SRC->afs_gen, "the baseline completed");
}

/* ---- snapmirrored ---- */

Test(sm, snapmirrored_to_snapmirrored_when_idle_is_a_no_op)
{
	sim_relationship *r = established("MirrorAllSnapshots");
	size_t before = F.transfers.len;
	outcome o = patch(r, "{\"state\":\"snapmirrored\"}");
	cr_assert_str_eq(o.state, "success");
	cr_assert_str_eq(r->state, "snapmirrored");
	cr_assert_eq(F.transfers.len, before, "no transfer started");
}

Test(sm, snapmirrored_to_snapmirrored_while_transferring_is_busy)
{
	sim_relationship *r = established("MirrorAllSnapshots");
	hang_next_transfer();
	sim_err e = {0};
	cr_assert_eq(sim_transfer_post(&F, r, NULL, NULL, &e), 0);
	outcome o = patch(r, "{\"state\":\"snapmirrored\"}");
	cr_assert_str_eq(o.code, "13303812");
}

Test(sm, snapmirrored_to_paused_quiesces)
{
	sim_relationship *r = established("MirrorAllSnapshots");
	outcome o = patch(r, "{\"state\":\"paused\"}");
	cr_assert_str_eq(o.state, "success");
	cr_assert_str_eq(r->state, "paused");
	sim_err e = {0};
	cr_assert_neq(sim_transfer_post(&F, r, NULL, NULL, &e), 0, "no update while quiesced");
	cr_assert_str_eq(e.code, "13303844");
}

Test(sm, quiesce_during_update_pauses_after_the_transfer)
{
	sim_relationship *r = established("MirrorAllSnapshots");
	hang_next_transfer();
	sim_err e = {0};
	cr_assert_eq(sim_transfer_post(&F, r, NULL, NULL, &e), 0);
	patch(r, "{\"state\":\"paused\"}");
	cr_assert_str_eq(r->state, "snapmirrored");
	release_hung();
	cr_assert_str_eq(r->state, "paused");
}

Test(sm, snapmirrored_to_broken_off_makes_the_destination_writable)
{
	sim_relationship *r = established("MirrorAllSnapshots");
	outcome o = patch(r, "{\"state\":\"broken_off\"}");
	cr_assert_str_eq(o.state, "success");
	cr_assert_str_eq(r->state, "broken_off");
	cr_assert_str_eq(DST->type, "rw");
	uint64_t gen = 0;
	sim_err e = {0};
	cr_assert_eq(sim_volume_write(&F, DST, &gen, &e), 0, "a broken-off destination takes writes");
	cr_assert_neq(sim_transfer_post(&F, r, NULL, NULL, &e), 0, "no update while broken off");
}

Test(sm, snapmirrored_to_broken_off_while_transferring_is_busy)
{
	sim_relationship *r = established("MirrorAllSnapshots");
	hang_next_transfer();
	sim_err e = {0};
	cr_assert_eq(sim_transfer_post(&F, r, NULL, NULL, &e), 0);
	outcome o = patch(r, "{\"state\":\"broken_off\"}");
	cr_assert_str_eq(o.state, "failure");
	cr_assert_str_eq(o.code, "13303808");
	cr_assert_str_eq(DST->type, "dp");
}

/* ---- paused ---- */

Test(sm, paused_to_snapmirrored_resumes)
{
	sim_relationship *r = established("MirrorAllSnapshots");
	patch(r, "{\"state\":\"paused\"}");
	outcome o = patch(r, "{\"state\":\"snapmirrored\"}");
	cr_assert_str_eq(o.state, "success");
	cr_assert_str_eq(r->state, "snapmirrored");
}

Test(sm, paused_to_paused_is_a_no_op)
{
	sim_relationship *r = established("MirrorAllSnapshots");
	patch(r, "{\"state\":\"paused\"}");
	outcome o = patch(r, "{\"state\":\"paused\"}");
	cr_assert_str_eq(o.state, "success");
	cr_assert_str_eq(r->state, "paused");
}

Test(sm, paused_to_broken_off_breaks)
{
	sim_relationship *r = established("MirrorAllSnapshots");
	patch(r, "{\"state\":\"paused\"}");
	outcome o = patch(r, "{\"state\":\"broken_off\"}");
	cr_assert_str_eq(o.state, "success");
	cr_assert_str_eq(r->state, "broken_off");
	cr_assert_str_eq(DST->type, "rw");
}

/* ---- broken_off ---- */

Test(sm, broken_off_to_paused_is_refused)
{
	sim_relationship *r = established("MirrorAllSnapshots");
	patch(r, "{\"state\":\"broken_off\"}");
	outcome o = patch(r, "{\"state\":\"paused\"}");
	cr_assert(o.sync_refused);
	cr_assert_str_eq(o.code, "13303818");
}

Test(sm, broken_off_to_broken_off_is_a_no_op)
{
	sim_relationship *r = established("MirrorAllSnapshots");
	patch(r, "{\"state\":\"broken_off\"}");
	outcome o = patch(r, "{\"state\":\"broken_off\"}");
	cr_assert_str_eq(o.state, "success");
	cr_assert_str_eq(r->state, "broken_off");
}

Test(sm, broken_off_to_snapmirrored_resyncs_without_loss_when_nothing_was_written)
{
	sim_relationship *r = established("MirrorAllSnapshots");
	patch(r, "{\"state\":\"broken_off\"}");
	outcome o = patch(r, "{\"state\":\"snapmirrored\"}");
	cr_assert_str_eq(o.state, "success");
	cr_assert_str_eq(DST->type, "dp", "resync turns the destination back into DP");
	settle();
	cr_assert_str_eq(r->state, "snapmirrored");
	cr_assert_str_eq(r->last_transfer_type, "resync");
	cr_assert_eq(F.ledger.len, 0, "nothing was destroyed");
}

Test(sm, resync_discards_destination_writes_and_records_them_in_the_ledger)
{
	sim_relationship *r = established("MirrorAllSnapshots");
	patch(r, "{\"state\":\"broken_off\"}");
	uint64_t written = 0;
	sim_err e = {0};
	cr_assert_eq(sim_volume_write(&F, DST, &written, &e), 0);
	cr_assert_eq(sim_snapshot_create_checked(&F, DST, "after-break", NULL, &e), 0);
	uint64_t lost_snap_gen = ((sim_snapshot *)DST->snaps.items[DST->snaps.len - 1])->generation;
	outcome o = patch(r, "{\"state\":\"snapmirrored\"}");
	cr_assert_str_eq(o.state, "success");
	cr_assert(!sim_snapshot_find(DST, "after-break"), "newer destination snapshots are deleted");
	cr_assert_neq(DST->afs_gen, written);
	cr_assert_geq(F.ledger.len, 1);
	bool found = false;
	for (size_t i = 0; i < F.ledger.len; i++) {
		sim_ledger_entry *le = F.ledger.items[i];
		cr_assert_str_eq(le->operation, "resync");
		cr_assert_str_eq(le->volume, "svm-b:dst");
		found |= le->generation == written || le->generation == lost_snap_gen;
	}
	cr_assert(found, "the written generation is in the ledger");
}

Test(sm, resync_with_preserve_keeps_newer_snapshots)
{
	sim_relationship *r = established("MirrorAllSnapshots");
	patch(r, "{\"state\":\"broken_off\"}");
	sim_err e = {0};
	cr_assert_eq(sim_snapshot_create_checked(&F, DST, "keep-me", NULL, &e), 0);
	uint64_t written = 0;
	cr_assert_eq(sim_volume_write(&F, DST, &written, &e), 0);
	outcome o = patch(r, "{\"state\":\"snapmirrored\",\"preserve\":true}");
	cr_assert_str_eq(o.state, "success");
	cr_assert_not_null(sim_snapshot_find(DST, "keep-me"));
	cr_assert_eq(F.ledger.len, 1, "only the unsnapshotted write is lost");
	cr_assert_eq(((sim_ledger_entry *)F.ledger.items[0])->generation, written);
}

Test(sm, resync_without_a_common_snapshot_fails_and_marks_unhealthy)
{
	sim_relationship *r = established("MirrorAllSnapshots");
	patch(r, "{\"state\":\"broken_off\"}");
	/* The common snapshots disappear from the source (e.g. released). */
	for (size_t i = SRC->snaps.len; i-- > 0;)
		sim_snapshot_remove(&F, SRC, i, "test");
	uint64_t before = DST->afs_gen;
	outcome o = patch(r, "{\"state\":\"snapmirrored\"}");
	cr_assert_str_eq(o.state, "failure");
	cr_assert_str_eq(o.code, "13303810");
	cr_assert(!r->healthy);
	cr_assert(strstr(r->unhealthy_message, "common Snapshot"));
	cr_assert_str_eq(r->state, "broken_off");
	cr_assert_eq(DST->afs_gen, before, "nothing was rolled back");
}

Test(sm, break_with_restore_to_snapshot_reverts_the_destination)
{
	sim_relationship *r = established("MirrorAllSnapshots");
	sim_err e = {0};
	cr_assert_eq(sim_snapshot_create_checked(&F, SRC, "user-1", NULL, &e), 0);
	uint64_t gen1 = SRC->afs_gen;
	cr_assert_eq(sim_volume_write(&F, SRC, NULL, &e), 0);
	cr_assert_eq(sim_transfer_post(&F, r, NULL, NULL, &e), 0);
	settle();
	cr_assert_not_null(sim_snapshot_find(DST, "user-1"), "MirrorAllSnapshots copies user snapshots");
	cr_assert_neq(DST->afs_gen, gen1);
	outcome o = patch(r, "{\"state\":\"broken_off\",\"restore_to_snapshot\":\"user-1\"}");
	cr_assert_str_eq(o.state, "success");
	cr_assert_eq(DST->afs_gen, gen1);
	cr_assert_eq(F.ledger.len, 0, "the newer data still exists on the source");
}

Test(sm, flags_outside_their_state_are_refused)
{
	sim_relationship *r = established("MirrorAllSnapshots");
	outcome o = patch(r, "{\"state\":\"paused\",\"restore_to_snapshot\":\"x\"}");
	cr_assert(o.sync_refused);
	cr_assert_str_eq(o.code, "13303835");
	o = patch(r, "{\"state\":\"broken_off\",\"preserve\":true}");
	cr_assert_str_eq(o.code, "13303836");
	o = patch(r, "{\"restore_to_snapshot\":\"x\"}");
	cr_assert_str_eq(o.code, "13303837");
	o = patch(r, "{\"state\":\"sideways\"}");
	cr_assert_str_eq(o.code, "13303817");
	o = patch(r, "{\"state\":\"broken_off\",\"restore_to_snapshot\":\"missing\"}");
	cr_assert(o.sync_refused);
	cr_assert_str_eq(r->state, "snapmirrored");
}

Test(sm, break_needs_the_peer_unless_forced)
{
	sim_relationship *r = established("MirrorAllSnapshots");
	A->reachable = false;
	outcome o = patch(r, "{\"state\":\"broken_off\"}");
	cr_assert_str_eq(o.code, "262224");
	cr_assert_str_eq(r->state, "snapmirrored");
	o = patch(r, "{\"state\":\"broken_off\",\"force\":true}");
	cr_assert_str_eq(o.state, "success");
	cr_assert_str_eq(r->state, "broken_off");
}

/* ---- create ---- */

Test(sm, create_is_validated)
{
	struct {
		const char *json;
		const char *code;
	} cases[] = {
		{"{\"source\":{\"path\":\"svm-a:src\"},\"destination\":{\"path\":\"svm-b-dst\"}}", "13303852"},
		{"{\"source\":{\"path\":\"svm-b:dst\"},\"destination\":{\"path\":\"svm-b:dst\"}}", "6619441"},
		{"{\"source\":{\"path\":\"svm-a:src\"},\"destination\":{\"path\":\"svm-b:dst\"},\"state\":\"snapmirrored\"}", "13303873"},
		{"{\"source\":{\"path\":\"svm-a:src\"},\"destination\":{\"path\":\"svm-b:dst\"},\"policy\":{\"name\":\"Nope\"}}", "13303821"},
		{"{\"source\":{\"path\":\"svm-a:src\"},\"destination\":{\"path\":\"svm-b:dst\"},\"transfer_schedule\":{\"name\":\"never\"}}", "6619699"},
		{"{\"source\":{\"path\":\"svm-a:nope\"},\"destination\":{\"path\":\"svm-b:dst\"}}", "4"},
		{"{\"destination\":{\"path\":\"svm-b:dst\"}}", "2"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *b = cJSON_Parse(cases[i].json);
		sim_err e = {0};
		cr_assert_neq(sim_rel_check_create(&F, B, b, &e), 0, "case %zu", i);
		cr_assert_str_eq(e.code, cases[i].code, "case %zu: %s", i, e.message);
		cJSON_Delete(b);
	}
	create("MirrorAllSnapshots");
	sim_err e = {0};
	cJSON *b = cJSON_Parse("{\"source\":{\"path\":\"svm-a:src\"},\"destination\":{\"path\":\"svm-b:dst\"}}");
	cr_assert_neq(sim_rel_check_create(&F, B, b, &e), 0);
	cr_assert_str_eq(e.code, "6619637");
	cr_assert_eq(e.status, 409);
	cJSON_Delete(b);
}

/* ---- transfers ---- */

Test(sm, transfers_refuse_while_busy_and_progress_observably)
{
	sim_relationship *r = create("MirrorAllSnapshots");
	sim_err e = {0};
	sim_transfer *t = NULL;
	cr_assert_eq(sim_transfer_post(&F, r, NULL, &t, &e), 0);
	cr_assert_str_eq(t->state, "queued");
	cr_assert_neq(sim_transfer_post(&F, r, NULL, NULL, &e), 0);
	cr_assert_str_eq(e.code, "13303812");
	cr_assert(strstr(e.message, "Another transfer is in progress"));
	sim_clock_advance(&F, F.settings.transfer_queue_ms);
	cr_assert_str_eq(t->state, "transferring");
	settle();
	cr_assert_str_eq(t->state, "success");
	cr_assert_eq(sim_transfer_post(&F, r, NULL, &t, &e), 0);
	cr_assert_neq(sim_transfer_post(&F, r, NULL, NULL, &e), 0);
	cr_assert_str_eq(e.code, "13303844", "update busy");
}

Test(sm, update_with_source_snapshot_and_policy_copy_rules)
{
	sim_relationship *r = established("MirrorLatest");
	sim_err e = {0};
	cr_assert_eq(sim_snapshot_create_checked(&F, SRC, "s1", NULL, &e), 0);
	cr_assert_eq(sim_snapshot_create_checked(&F, SRC, "s2", NULL, &e), 0);
	cr_assert_eq(sim_transfer_post(&F, r, "s2", NULL, &e), 0);
	settle();
	cr_assert_not_null(sim_snapshot_find(DST, "s2"), "the named snapshot arrives");
	cr_assert_null(sim_snapshot_find(DST, "s1"), "MirrorLatest copies only the transferred one");
	cr_assert_str_eq(r->exported_snapshot, "s2");
	cr_assert_neq(sim_transfer_post(&F, r, "nope", NULL, &e), 0);
	cr_assert_str_eq(e.code, "13303844");
}

Test(sm, snapmirror_snapshots_roll_off_after_two_newer_ones)
{
	sim_relationship *r = established("MirrorAllSnapshots");
	sim_err e = {0};
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(sim_volume_write(&F, SRC, NULL, &e), 0);
		cr_assert_eq(sim_transfer_post(&F, r, NULL, NULL, &e), 0);
		settle();
	}
	size_t sm_src = 0, sm_dst = 0;
	for (size_t i = 0; i < SRC->snaps.len; i++)
		sm_src += ((sim_snapshot *)SRC->snaps.items[i])->owner_rel[0] != '\0';
	for (size_t i = 0; i < DST->snaps.len; i++)
		sm_dst += ((sim_snapshot *)DST->snaps.items[i])->owner_rel[0] != '\0';
	cr_assert_eq(sm_src, 2);
	cr_assert_eq(sm_dst, 2);
	cr_assert_eq(F.ledger.len, 0, "roll-off destroys no data");
}

Test(sm, failed_transfer_marks_the_relationship_unhealthy)
{
	sim_relationship *r = established("MirrorAllSnapshots");
	sim_transfer_fault *tf = calloc(1, sizeof(*tf));
	snprintf(tf->mode, sizeof(tf->mode), "fail");
	snprintf(tf->code, sizeof(tf->code), "13303869");
	snprintf(tf->message, sizeof(tf->message), "network went away");
	tf->count = 1;
	sim_vec_push(&F.transfer_faults, tf);
	sim_err e = {0};
	cr_assert_eq(sim_transfer_post(&F, r, NULL, NULL, &e), 0);
	settle();
	cr_assert_str_eq(r->transfer->state, "failed");
	cr_assert(!r->healthy);
	cr_assert_str_eq(r->unhealthy_message, "network went away");
	cr_assert_str_eq(r->state, "snapmirrored");
}

Test(sm, abort_stops_a_transfer_once)
{
	sim_relationship *r = established("MirrorAllSnapshots");
	sim_err e = {0};
	sim_transfer *t = NULL;
	cr_assert_eq(sim_transfer_post(&F, r, NULL, &t, &e), 0);
	cr_assert_eq(sim_transfer_abort(&F, t, false, &e), 0);
	cr_assert_str_eq(t->state, "aborted");
	cr_assert_neq(sim_transfer_abort(&F, t, true, &e), 0);
	cr_assert_str_eq(e.code, "4");
}

/* ---- delete and release ---- */

static size_t sm_snapshots(sim_volume *v)
{
	size_t n = 0;
	for (size_t i = 0; i < v->snaps.len; i++)
		n += ((sim_snapshot *)v->snaps.items[i])->owner_rel[0] != '\0';
	return n;
}

Test(sm, delete_destination_only_keeps_snapshots_and_the_source_record)
{
	sim_relationship *r = established("MirrorAllSnapshots");
	outcome o = del(r, B, "destination_only");
	cr_assert_str_eq(o.state, "success");
	cr_assert(!r->dest_record);
	cr_assert(r->source_record, "no release on the source");
	cr_assert_eq(sm_snapshots(SRC), 1);
	cr_assert_eq(sm_snapshots(DST), 1);
	cr_assert_null(sim_rel_find_dst(&F, DST));
}

Test(sm, source_info_only_then_nothing_is_left_but_common_snapshots)
{
	sim_relationship *r = established("MirrorAllSnapshots");
	del(r, B, "destination_only");
	outcome o = del(r, A, "source_info_only");
	cr_assert_str_eq(o.state, "success");
	cr_assert_eq(F.relationships.len, 0);
	cr_assert_eq(sm_snapshots(SRC), 1, "common snapshots kept: a path back exists");
	cr_assert_eq(sm_snapshots(DST), 1);
}

Test(sm, release_source_only_deletes_snapmirror_snapshots_on_the_source)
{
	sim_relationship *r = established("MirrorAllSnapshots");
	outcome o = del(r, B, "source_only");
	cr_assert_str_eq(o.code, "4", "release is done on the source cluster");
	o = del(r, A, "source_only");
	cr_assert_str_eq(o.state, "success");
	cr_assert(!r->source_record);
	cr_assert_eq(sm_snapshots(SRC), 0);
	cr_assert_eq(sm_snapshots(DST), 1);
	cr_assert_eq(F.ledger.len, 0, "the source still holds the data");
}

Test(sm, release_during_a_transfer_is_refused)
{
	sim_relationship *r = established("MirrorAllSnapshots");
	hang_next_transfer();
	sim_err e = {0};
	cr_assert_eq(sim_transfer_post(&F, r, NULL, NULL, &e), 0);
	outcome o = del(r, A, "source_only");
	cr_assert_str_eq(o.code, "13303822");
	cr_assert(r->source_record);
}

Test(sm, delete_without_flags_removes_both_sides_and_common_snapshots)
{
	sim_relationship *r = established("MirrorAllSnapshots");
	outcome o = del(r, B, "");
	cr_assert_str_eq(o.state, "success");
	cr_assert_eq(F.relationships.len, 0);
	cr_assert_eq(sm_snapshots(SRC), 0);
	cr_assert_eq(sm_snapshots(DST), 0);
	cr_assert_eq(F.ledger.len, 0, "the destination AFS and the source still hold the data");
}

Test(sm, resync_after_flagless_delete_and_recreate_has_no_common_snapshot)
{
	sim_relationship *r = established("MirrorAllSnapshots");
	patch(r, "{\"state\":\"broken_off\"}");
	del(r, B, "");
	/* Re-protecting the (now RW) destination: the relationship starts broken_off. */
	cJSON *body = cJSON_Parse("{\"source\":{\"path\":\"svm-a:src\"},\"destination\":{\"path\":\"svm-b:dst\"}}");
	sim_err e = {0};
	cr_assert_eq(sim_rel_check_create(&F, B, body, &e), 0, "%s", e.message);
	sim_job_start(&F, B, "POST", "/api/snapmirror/relationships", SIM_OP_REL_CREATE, body);
	finish(last_job());
	r = sim_rel_find_dst(&F, DST);
	cr_assert_not_null(r);
	cr_assert_str_eq(r->state, "broken_off");
	outcome o = patch(r, "{\"state\":\"snapmirrored\"}");
	cr_assert_str_eq(o.code, "13303810", "the flagless delete removed every common snapshot");
}

Test(sm, jobs_are_purged_after_the_configured_time)
{
	sim_relationship *r = established("MirrorAllSnapshots");
	outcome o = patch(r, "{\"state\":\"paused\"}");
	cr_assert_str_eq(o.state, "success");
	size_t n = F.jobs.len;
	cr_assert(n > 0);
	sim_clock_advance(&F, F.settings.job_purge_ms + 1);
	cr_assert_eq(F.jobs.len, 0);
}

Test(sm, reverse_resync_from_a_rw_destination_loses_only_unreplicated_writes)
{
	/* Failover then failback: the old source becomes the destination of a new relationship. */
	sim_relationship *r = established("MirrorAllSnapshots");
	patch(r, "{\"state\":\"broken_off\"}");
	outcome o = del(r, B, "destination_only");
	cr_assert_str_eq(o.state, "success");
	sim_err e = {0};
	uint64_t lost = 0;
	cr_assert_eq(sim_volume_write(&F, SRC, &lost, &e), 0, "a write on the old source after failover");
	cJSON *body = cJSON_Parse("{\"source\":{\"path\":\"svm-b:dst\"},\"destination\":{\"path\":\"svm-a:src\"}}");
	cr_assert_eq(sim_rel_check_create(&F, A, body, &e), 0, "%s", e.message);
	sim_job_start(&F, A, "POST", "/api/snapmirror/relationships", SIM_OP_REL_CREATE, body);
	finish(last_job());
	sim_relationship *rev = sim_rel_find_dst(&F, SRC);
	cr_assert_not_null(rev);
	cr_assert_str_eq(rev->state, "broken_off");
	cJSON *args = cJSON_CreateObject();
	cJSON_AddStringToObject(args, "uuid", rev->uuid);
	cJSON_AddStringToObject(args, "state", "snapmirrored");
	sim_job_start(&F, A, "PATCH", "/api/snapmirror/relationships/x", SIM_OP_REL_STATE, args);
	o = finish(last_job());
	cr_assert_str_eq(o.state, "success");
	settle();
	cr_assert_str_eq(rev->state, "snapmirrored");
	cr_assert_str_eq(SRC->type, "dp");
	cr_assert_eq(F.ledger.len, 1);
	sim_ledger_entry *le = F.ledger.items[0];
	cr_assert_eq(le->generation, lost);
	cr_assert_str_eq(le->volume, "svm-a:src");
	cr_assert_str_eq(le->operation, "resync");
}

/* Synchronous policies (Sync, StrictSync) settle in in_sync, not snapmirrored; in_sync is
 * accepted as a target state only for them. */
Test(sm, sync_policy_settles_in_sync)
{
	sim_relationship *r = create("Sync");
	sim_err e = {0};
	cr_assert_eq(sim_transfer_post(&F, r, NULL, NULL, &e), 0, "%s", e.message);
	settle();
	cr_assert_str_eq(r->state, "in_sync");
	cr_assert_eq(DST->afs_gen, SRC->afs_gen);
	outcome o = patch(r, "{\"state\":\"paused\"}");
	cr_assert_str_eq(o.state, "success");
	o = patch(r, "{\"state\":\"in_sync\"}");
	cr_assert_str_eq(o.state, "success");
	cr_assert_str_eq(r->state, "in_sync", "a resume returns to in_sync");
	o = patch(r, "{\"state\":\"broken_off\"}");
	cr_assert_str_eq(o.state, "success");
	o = patch(r, "{\"state\":\"in_sync\"}");
	cr_assert_str_eq(o.state, "success", "resync with in_sync");
	settle();
	cr_assert_str_eq(r->state, "in_sync");
}

Test(sm, in_sync_is_refused_for_async_relationships)
{
	sim_relationship *r = established("MirrorAllSnapshots");
	outcome o = patch(r, "{\"state\":\"in_sync\"}");
	cr_assert(o.sync_refused);
	cr_assert_str_eq(o.code, "13303829");
	cr_assert_str_eq(r->state, "snapmirrored");
}
