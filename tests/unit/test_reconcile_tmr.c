/* The TMR decisions: ONTAP -> mirror status (research 4.2), desired x observed (3.5, one row
 * per cell), the step sequences, deletion (3.6), and one test per hazard the pure logic
 * fixes (H1, H2, H3, H4, H6). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "mirrorgate/core/doc.h"
#include "mirrorgate/reconcile/reconcile.h"

static mg_ontap_relationship rel(const char *state, const char *transfer, bool healthy)
{
	mg_ontap_relationship r;
	memset(&r, 0, sizeof(r));
	snprintf(r.uuid, sizeof(r.uuid), "11111111-2222-3333-4444-555555555555");
	snprintf(r.state, sizeof(r.state), "%s", state);
	snprintf(r.transfer_state, sizeof(r.transfer_state), "%s", transfer);
	r.healthy = healthy;
	return r;
}

Test(reconcile_tmr, ontap_relationship_to_mirror_status)
{
	static const struct {
		const char *state, *transfer;
		enum mg_mirror_status want;
	} rows[] = {
		{"uninitialized", "", MG_MIRROR_ESTABLISHING},
		{"uninitialized", "transferring", MG_MIRROR_ESTABLISHING},
		{"snapmirrored", "success", MG_MIRROR_ESTABLISHED},
		{"snapmirrored", "", MG_MIRROR_ESTABLISHED},
		/* an update on an established relationship keeps it established */
		{"snapmirrored", "transferring", MG_MIRROR_ESTABLISHED},
		{"in_sync", "", MG_MIRROR_ESTABLISHED},
		{"synchronizing", "", MG_MIRROR_ESTABLISHING},
		{"out_of_sync", "", MG_MIRROR_ESTABLISHING},
		{"paused", "", MG_MIRROR_QUIESCED},
		{"paused", "transferring", MG_MIRROR_QUIESCED},
		{"broken_off", "", MG_MIRROR_PROMOTING},
		{"broken_off", "success", MG_MIRROR_PROMOTING},
		{"broken-off", "", MG_MIRROR_PROMOTING},
		/* a resync runs while the relationship is still broken off */
		{"broken_off", "transferring", MG_MIRROR_ESTABLISHING},
		{"broken_off", "queued", MG_MIRROR_ESTABLISHING},
		{"snapmirrored", "quiescing", MG_MIRROR_PROMOTING},
		{"snapmirrored", "breaking", MG_MIRROR_PROMOTING},
		{"expanding", "", MG_MIRROR_UNKNOWN},
		{"", "", MG_MIRROR_UNKNOWN},
		{"something-new", "", MG_MIRROR_UNKNOWN},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		mg_ontap_relationship r = rel(rows[i].state, rows[i].transfer, true);
		enum mg_mirror_status got = mg_mirror_status_of(&r);
		cr_expect_eq(got, rows[i].want, "%s/%s: got %s want %s", rows[i].state,
			     rows[i].transfer, mg_mirror_status_name(got),
			     mg_mirror_status_name(rows[i].want));
	}
	cr_expect_eq(mg_mirror_status_of(NULL), MG_MIRROR_NONE);
}

/* Research 3.5, one row per cell, plus the unknown and quiesced columns the fixes add. */
Test(reconcile_tmr, desired_by_observed_matrix)
{
	static const struct {
		enum mg_tmr_state desired;
		enum mg_mirror_status observed;
		enum mg_tmr_action action;
		enum mg_tmr_state report;
	} rows[] = {
		/* established */
		{MG_TMR_ESTABLISHED, MG_MIRROR_NONE, MG_ACT_ESTABLISH, MG_TMR_ESTABLISHING},
		{MG_TMR_ESTABLISHED, MG_MIRROR_ESTABLISHING, MG_ACT_ESTABLISH, MG_TMR_ESTABLISHING},
		{MG_TMR_ESTABLISHED, MG_MIRROR_ESTABLISHED, MG_ACT_NONE, MG_TMR_ESTABLISHED},
		/* Trident breaks and deletes here, then fails on the RW volume; we keep it */
		{MG_TMR_ESTABLISHED, MG_MIRROR_PROMOTING, MG_ACT_REFUSE, MG_TMR_FAILED},
		/* quiesced: resuming loses nothing */
		{MG_TMR_ESTABLISHED, MG_MIRROR_QUIESCED, MG_ACT_ESTABLISH, MG_TMR_ESTABLISHING},
		{MG_TMR_ESTABLISHED, MG_MIRROR_UNKNOWN, MG_ACT_RETRY_READ, MG_TMR_NONE},
		/* reestablished */
		{MG_TMR_REESTABLISHED, MG_MIRROR_NONE, MG_ACT_REESTABLISH, MG_TMR_REESTABLISHING},
		{MG_TMR_REESTABLISHED, MG_MIRROR_ESTABLISHING, MG_ACT_REESTABLISH,
		 MG_TMR_REESTABLISHING},
		{MG_TMR_REESTABLISHED, MG_MIRROR_ESTABLISHED, MG_ACT_NONE, MG_TMR_REESTABLISHED},
		{MG_TMR_REESTABLISHED, MG_MIRROR_PROMOTING, MG_ACT_REESTABLISH, MG_TMR_REESTABLISHING},
		{MG_TMR_REESTABLISHED, MG_MIRROR_QUIESCED, MG_ACT_REESTABLISH, MG_TMR_REESTABLISHING},
		{MG_TMR_REESTABLISHED, MG_MIRROR_UNKNOWN, MG_ACT_RETRY_READ, MG_TMR_NONE},
		/* promoted */
		{MG_TMR_PROMOTED, MG_MIRROR_NONE, MG_ACT_NONE, MG_TMR_PROMOTED},
		{MG_TMR_PROMOTED, MG_MIRROR_ESTABLISHING, MG_ACT_PROMOTE, MG_TMR_PROMOTING},
		{MG_TMR_PROMOTED, MG_MIRROR_ESTABLISHED, MG_ACT_PROMOTE, MG_TMR_PROMOTING},
		{MG_TMR_PROMOTED, MG_MIRROR_PROMOTING, MG_ACT_PROMOTE, MG_TMR_PROMOTING},
		{MG_TMR_PROMOTED, MG_MIRROR_QUIESCED, MG_ACT_PROMOTE, MG_TMR_PROMOTING},
		{MG_TMR_PROMOTED, MG_MIRROR_UNKNOWN, MG_ACT_RETRY_READ, MG_TMR_NONE},
		/* "" observes only: it never finishes anything (Trident finishes a break) */
		{MG_TMR_NONE, MG_MIRROR_NONE, MG_ACT_NONE, MG_TMR_NONE},
		{MG_TMR_NONE, MG_MIRROR_ESTABLISHING, MG_ACT_NONE, MG_TMR_ESTABLISHING},
		{MG_TMR_NONE, MG_MIRROR_ESTABLISHED, MG_ACT_NONE, MG_TMR_ESTABLISHED},
		{MG_TMR_NONE, MG_MIRROR_PROMOTING, MG_ACT_NONE, MG_TMR_PROMOTING},
		{MG_TMR_NONE, MG_MIRROR_QUIESCED, MG_ACT_NONE, MG_TMR_PROMOTING},
		{MG_TMR_NONE, MG_MIRROR_UNKNOWN, MG_ACT_RETRY_READ, MG_TMR_NONE},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		mg_tmr_decision d = mg_tmr_decide(rows[i].desired, true, rows[i].observed);
		cr_expect_eq(d.action, rows[i].action, "desired %s x %s: action %s, want %s",
			     mg_tmr_state_str(rows[i].desired),
			     mg_mirror_status_name(rows[i].observed), mg_tmr_action_name(d.action),
			     mg_tmr_action_name(rows[i].action));
		if (rows[i].action != MG_ACT_RETRY_READ)
			cr_expect_eq(d.report, rows[i].report, "desired %s x %s: report '%s', want '%s'",
				     mg_tmr_state_str(rows[i].desired),
				     mg_mirror_status_name(rows[i].observed),
				     mg_tmr_state_str(d.report), mg_tmr_state_str(rows[i].report));
	}
}

Test(reconcile_tmr, no_remote_handle_is_a_source_and_never_acts)
{
	/* A source-side TMR has no remote: whatever the destination view, nothing happens. */
	mg_tmr_decision d = mg_tmr_decide(MG_TMR_PROMOTED, false, MG_MIRROR_UNKNOWN);
	cr_expect_eq(d.action, MG_ACT_NONE);
	cr_expect_eq(d.report, MG_TMR_PROMOTED);
	d = mg_tmr_decide(MG_TMR_NONE, false, MG_MIRROR_ESTABLISHED);
	cr_expect_eq(d.action, MG_ACT_NONE);
	cr_expect_eq(d.report, MG_TMR_NONE);
}

Test(reconcile_tmr, refuse_says_what_to_do)
{
	mg_tmr_decision d = mg_tmr_decide(MG_TMR_ESTABLISHED, true, MG_MIRROR_PROMOTING);
	cr_assert_not_null(d.message);
	cr_expect(strstr(d.message, "reestablished") && strstr(d.message, "promoted"));
}

/* Research 3.4 with the hazards fixed. */
Test(reconcile_tmr, current_state_table)
{
	static const struct {
		enum mg_tmr_state desired;
		enum mg_mirror_status observed;
		enum mg_tmr_state want;
	} rows[] = {
		{MG_TMR_REESTABLISHED, MG_MIRROR_NONE, MG_TMR_NONE},
		{MG_TMR_PROMOTED, MG_MIRROR_NONE, MG_TMR_PROMOTED},
		{MG_TMR_ESTABLISHED, MG_MIRROR_NONE, MG_TMR_NONE},
		{MG_TMR_REESTABLISHED, MG_MIRROR_ESTABLISHING, MG_TMR_REESTABLISHING},
		{MG_TMR_PROMOTED, MG_MIRROR_ESTABLISHING, MG_TMR_PROMOTING},
		{MG_TMR_ESTABLISHED, MG_MIRROR_ESTABLISHING, MG_TMR_ESTABLISHING},
		{MG_TMR_NONE, MG_MIRROR_ESTABLISHING, MG_TMR_ESTABLISHING},
		{MG_TMR_REESTABLISHED, MG_MIRROR_ESTABLISHED, MG_TMR_REESTABLISHED},
		{MG_TMR_PROMOTED, MG_MIRROR_ESTABLISHED, MG_TMR_PROMOTING},
		{MG_TMR_ESTABLISHED, MG_MIRROR_ESTABLISHED, MG_TMR_ESTABLISHED},
		{MG_TMR_REESTABLISHED, MG_MIRROR_PROMOTING, MG_TMR_PROMOTING},
		{MG_TMR_PROMOTED, MG_MIRROR_PROMOTING, MG_TMR_PROMOTING},
		{MG_TMR_ESTABLISHED, MG_MIRROR_PROMOTING, MG_TMR_PROMOTING},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		enum mg_tmr_state got = MG_TMR_FAILED;
		cr_assert(mg_tmr_current_state(rows[i].desired, rows[i].observed, &got));
		cr_expect_eq(got, rows[i].want, "row %zu: got '%s'", i, mg_tmr_state_str(got));
	}
}

/* H2: Trident maps a non-NotFound read error to "promoted"; with desired promoted that
 * declares success, with desired established it skips the establish. Here an unknown
 * observation has no state at all, and no action but a retry. */
Test(reconcile_tmr, h2_read_error_is_never_promoted)
{
	enum mg_tmr_state out = MG_TMR_FAILED;
	for (int d = MG_TMR_NONE; d <= MG_TMR_PROMOTED; d++) {
		cr_expect_not(mg_tmr_current_state((enum mg_tmr_state)d, MG_MIRROR_UNKNOWN, &out));
		mg_tmr_decision dec = mg_tmr_decide((enum mg_tmr_state)d, true, MG_MIRROR_UNKNOWN);
		cr_expect_eq(dec.action, MG_ACT_RETRY_READ);
		cr_expect_neq(dec.report, MG_TMR_PROMOTED);
	}
	cr_expect_eq(out, MG_TMR_FAILED, "out untouched");
	/* deletion never drops the finalizer on an unknown read of a destination */
	cr_expect_eq(mg_tmr_delete_decide(true, MG_TMR_ESTABLISHED, MG_MIRROR_UNKNOWN),
		     MG_DEL_RETRY_READ);
}

/* H3: after a successful quiesce and a break refused as NotReady, ONTAP shows paused.
 * Trident maps paused to "" and with desired promoted reports promoted: the volume stays a
 * read-only DP volume while the TMR claims success. */
Test(reconcile_tmr, h3_paused_is_promoting_and_the_break_is_retried)
{
	mg_ontap_relationship r = rel("paused", "", true);
	enum mg_mirror_status st = mg_mirror_status_of(&r);
	enum mg_tmr_state cur;
	cr_assert(mg_tmr_current_state(MG_TMR_PROMOTED, st, &cur));
	cr_expect_eq(cur, MG_TMR_PROMOTING);
	mg_tmr_decision d = mg_tmr_decide(MG_TMR_PROMOTED, true, st);
	cr_expect_eq(d.action, MG_ACT_PROMOTE);
	mg_promote_input in = {.rel = &r};
	cr_expect_eq(mg_promote_next(&in), MG_STEP_BREAK);
}

/* H1: Trident fails the promote ("Could not promote mirror") when the snapshot is not on
 * the destination yet, and never retries. Here it is a wait, before anything is quiesced. */
Test(reconcile_tmr, h1_missing_snapshot_is_a_wait_not_a_failure)
{
	mg_ontap_relationship r = rel("snapmirrored", "success", true);
	mg_promote_input in = {.rel = &r, .wait_for_snapshot = true, .snapshot_present = false};
	cr_expect_eq(mg_promote_next(&in), MG_STEP_WAIT_SNAPSHOT);
	/* a running transfer may be the one bringing it: still waiting, not aborting */
	r = rel("snapmirrored", "transferring", true);
	in.quiesce_requested = true;
	cr_expect_eq(mg_promote_next(&in), MG_STEP_WAIT_SNAPSHOT);
	/* once it has arrived the promote proceeds */
	r = rel("snapmirrored", "success", true);
	in = (mg_promote_input){.rel = &r, .wait_for_snapshot = true, .snapshot_present = true};
	cr_expect_eq(mg_promote_next(&in), MG_STEP_QUIESCE);
	/* quiesced without it (someone paused): resume so transfers can bring it */
	r = rel("paused", "", true);
	in = (mg_promote_input){.rel = &r, .wait_for_snapshot = true, .snapshot_present = false};
	cr_expect_eq(mg_promote_next(&in), MG_STEP_RESUME);
}

/* H4: whether the snapshot is waited for depends on the TMR's policy, not the backend's. */
Test(reconcile_tmr, h4_the_tmrs_policy_decides_sync)
{
	cr_expect(mg_promote_waits_for_snapshot("vol/snap1", "async"));
	cr_expect(mg_promote_waits_for_snapshot("vol/snap1", ""));
	cr_expect(mg_promote_waits_for_snapshot("vol/snap1", NULL));
	cr_expect_not(mg_promote_waits_for_snapshot("vol/snap1", "sync"));
	cr_expect_not(mg_promote_waits_for_snapshot("", "async"));
	cr_expect_not(mg_promote_waits_for_snapshot(NULL, "async"));
}

Test(reconcile_tmr, promote_sequence_one_step_per_read)
{
	static const struct {
		const char *state, *transfer;
		bool quiesce_requested;
		enum mg_step want;
	} rows[] = {
		{"snapmirrored", "success", false, MG_STEP_QUIESCE},
		{"snapmirrored", "transferring", false, MG_STEP_QUIESCE},
		{"snapmirrored", "transferring", true, MG_STEP_ABORT},
		{"in_sync", "", false, MG_STEP_QUIESCE},
		{"paused", "transferring", false, MG_STEP_ABORT},
		{"paused", "success", false, MG_STEP_BREAK},
		{"paused", "aborted", false, MG_STEP_BREAK},
		{"broken_off", "success", false, MG_STEP_DELETE_DEST},
		{"broken_off", "transferring", false, MG_STEP_ABORT},
		/* never break an uninitialized relationship: abort the baseline, delete */
		{"uninitialized", "transferring", false, MG_STEP_ABORT},
		{"uninitialized", "", false, MG_STEP_DELETE_DEST},
		{"expanding", "", false, MG_STEP_WAIT},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		mg_ontap_relationship r = rel(rows[i].state, rows[i].transfer, true);
		mg_promote_input in = {.rel = &r, .quiesce_requested = rows[i].quiesce_requested};
		enum mg_step got = mg_promote_next(&in);
		cr_expect_eq(got, rows[i].want, "%s/%s: got %s want %s", rows[i].state,
			     rows[i].transfer, mg_step_name(got), mg_step_name(rows[i].want));
	}
	mg_promote_input none = {0};
	cr_expect_eq(mg_promote_next(&none), MG_STEP_DONE);
	none.wait_for_snapshot = true;
	cr_expect_eq(mg_promote_next(&none), MG_STEP_WAIT_SNAPSHOT);
}

Test(reconcile_tmr, establish_sequence)
{
	cr_expect_eq(mg_establish_next(NULL), MG_STEP_CREATE);
	mg_ontap_relationship r = rel("uninitialized", "", true);
	cr_expect_eq(mg_establish_next(&r), MG_STEP_INITIALIZE);
	r = rel("uninitialized", "transferring", true);
	cr_expect_eq(mg_establish_next(&r), MG_STEP_WAIT);
	r = rel("uninitialized", "failed", false);
	cr_expect_eq(mg_establish_next(&r), MG_STEP_INITIALIZE, "a failed baseline is retried");
	r = rel("snapmirrored", "success", true);
	cr_expect_eq(mg_establish_next(&r), MG_STEP_DONE);
	r = rel("paused", "", true);
	cr_expect_eq(mg_establish_next(&r), MG_STEP_RESUME);
	/* establish never resyncs: that discards data and only reestablish may do it */
	r = rel("broken_off", "", true);
	cr_expect_eq(mg_establish_next(&r), MG_STEP_FAIL);
}

Test(reconcile_tmr, reestablish_sequence)
{
	cr_expect_eq(mg_reestablish_next(NULL), MG_STEP_CREATE);
	mg_ontap_relationship r = rel("broken_off", "", true);
	cr_expect_eq(mg_reestablish_next(&r), MG_STEP_RESYNC);
	r = rel("broken_off", "transferring", true);
	cr_expect_eq(mg_reestablish_next(&r), MG_STEP_WAIT);
	/* a failed resync (no common snapshot) is reported, not repeated or deleted (H10) */
	r = rel("broken_off", "", false);
	cr_expect_eq(mg_reestablish_next(&r), MG_STEP_FAIL);
	r = rel("paused", "", true);
	cr_expect_eq(mg_reestablish_next(&r), MG_STEP_RESUME);
	r = rel("uninitialized", "", true);
	cr_expect_eq(mg_reestablish_next(&r), MG_STEP_INITIALIZE);
	r = rel("snapmirrored", "success", true);
	cr_expect_eq(mg_reestablish_next(&r), MG_STEP_DONE);
	r = rel("snapmirrored", "transferring", true);
	cr_expect_eq(mg_reestablish_next(&r), MG_STEP_WAIT);
}

/* Research 3.6 and the controller test cases of 6.2. */
Test(reconcile_tmr, deletion_decisions)
{
	cr_expect_eq(mg_tmr_delete_decide(false, MG_TMR_ESTABLISHED, MG_MIRROR_ESTABLISHED),
		     MG_DEL_REMOVE_FINALIZER, "PVC gone: nothing on ONTAP is ours");
	cr_expect_eq(mg_tmr_delete_decide(true, MG_TMR_PROMOTED, MG_MIRROR_NONE), MG_DEL_RELEASE);
	cr_expect_eq(mg_tmr_delete_decide(true, MG_TMR_NONE, MG_MIRROR_ESTABLISHED), MG_DEL_RELEASE);
	cr_expect_eq(mg_tmr_delete_decide(true, MG_TMR_ESTABLISHED, MG_MIRROR_NONE),
		     MG_DEL_REMOVE_FINALIZER, "backend says promoted: ready");
	cr_expect_eq(mg_tmr_delete_decide(true, MG_TMR_ESTABLISHED, MG_MIRROR_ESTABLISHED),
		     MG_DEL_PROMOTE);
	cr_expect_eq(mg_tmr_delete_decide(true, MG_TMR_FAILED, MG_MIRROR_QUIESCED), MG_DEL_PROMOTE);
	cr_expect_eq(mg_tmr_delete_decide(true, MG_TMR_PROMOTING, MG_MIRROR_PROMOTING),
		     MG_DEL_PROMOTE);
}

static mg_tmr decode(const char *yaml, cJSON **tree)
{
	mg_doc_list docs = {0};
	mg_parse_error why;
	cr_assert_eq(mg_doc_parse_yaml(&docs, yaml, strlen(yaml), &why), 0, "%s", why.message);
	*tree = cJSON_Duplicate(docs.items[0].root, true);
	mg_doc_list_free(&docs);
	mg_tmr t;
	mg_field_errors errs = {0};
	cr_assert_eq(mg_tmr_decode(&t, *tree, &errs), 0);
	mg_fe_clear(&errs);
	return t;
}

/* Trident's IsValid rules in order, with their exact reasons (research 2.2 / 6.1); H6: the
 * partial objects that panic Trident (no mappings, an empty mapping) are reasons here. */
Test(reconcile_tmr, is_valid_and_h6_partial_objects)
{
	static const struct {
		const char *spec;
		const char *want;
	} rows[] = {
		{"{volumeMappings: [{localPVCName: test}]}", NULL},
		{"{state: established, volumeMappings: [{localPVCName: bar, remoteVolumeHandle: foo}]}",
		 NULL},
		{"{state: reestablished, volumeMappings: [{localPVCName: bar, remoteVolumeHandle: foo}]}",
		 NULL},
		{"{state: promoted, volumeMappings: [{localPVCName: test, promotedSnapshotHandle: test}]}",
		 NULL},
		{"{state: promoted}", ".spec.volumeMappings must be set"},
		{"{}", ".spec.volumeMappings must be set"},
		{"{volumeMappings: []}",
		 ".spec.volumeMappings must contain exactly one element in the list"},
		{"{volumeMappings: [{localPVCName: a}, {localPVCName: b}]}",
		 ".spec.volumeMappings must contain exactly one element in the list"},
		{"{volumeMappings: [{}]}", ".spec.volumeMappings must specify a localPVCName"},
		{"{state: notamirrorstate, volumeMappings: [{localPVCName: test}]}",
		 ".spec.state must be one of established, reestablished, promoted"},
		{"{state: released, volumeMappings: [{localPVCName: test}]}",
		 ".spec.state must be one of established, reestablished, promoted"},
		{"{state: established, volumeMappings: [{localPVCName: test, promotedSnapshotHandle: "
		 "test, remoteVolumeHandle: a:b}]}",
		 ".spec.state must be set to 'promoted' when providing a 'promotedSnapshotHandle'"},
		{"{state: established, volumeMappings: [{localPVCName: test}]}",
		 "A remoteVolumeHandle must be provided if .spec.state is established or reestablished"},
		{"{state: reestablished, volumeMappings: [{localPVCName: test}]}",
		 "A remoteVolumeHandle must be provided if .spec.state is established or reestablished"},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char yaml[512];
		snprintf(yaml, sizeof(yaml), "metadata: {name: t}\nspec: %s\n", rows[i].spec);
		cJSON *tree;
		mg_tmr t = decode(yaml, &tree);
		const char *got = mg_tmr_invalid_reason(&t);
		if (rows[i].want)
			cr_expect(got && strcmp(got, rows[i].want) == 0, "%s: got %s", rows[i].spec,
				  got ? got : "(valid)");
		else
			cr_expect_null(got, "%s: got %s", rows[i].spec, got);
		mg_tmr_free(&t);
		cJSON_Delete(tree);
	}
	/* no spec at all */
	cJSON *tree;
	mg_tmr t = decode("metadata: {name: t}\n", &tree);
	cr_expect_str_eq(mg_tmr_invalid_reason(&t), ".spec.volumeMappings must be set");
	mg_tmr_free(&t);
	cJSON_Delete(tree);
}

Test(reconcile_tmr, state_strings_are_tridents)
{
	cr_expect_str_eq(mg_tmr_state_str(MG_TMR_ESTABLISHED), "established");
	cr_expect_str_eq(mg_tmr_state_str(MG_TMR_ESTABLISHING), "establishing");
	cr_expect_str_eq(mg_tmr_state_str(MG_TMR_REESTABLISHED), "reestablished");
	cr_expect_str_eq(mg_tmr_state_str(MG_TMR_REESTABLISHING), "reestablishing");
	cr_expect_str_eq(mg_tmr_state_str(MG_TMR_PROMOTED), "promoted");
	cr_expect_str_eq(mg_tmr_state_str(MG_TMR_PROMOTING), "promoting");
	cr_expect_str_eq(mg_tmr_state_str(MG_TMR_FAILED), "failed");
	cr_expect_str_eq(mg_tmr_state_str(MG_TMR_INVALID), "invalid");
	cr_expect_str_eq(mg_tmr_state_str(MG_TMR_NONE), "");
	cr_expect_eq(mg_tmr_state_parse(NULL), MG_TMR_NONE);
	cr_expect_eq(mg_tmr_state_parse(""), MG_TMR_NONE);
	cr_expect_eq(mg_tmr_state_parse("promoting"), MG_TMR_PROMOTING);
	cr_expect_eq(mg_tmr_state_parse("released"), MG_TMR_STATE_UNPARSED);
	cr_expect_eq(mg_tmr_state_parse("Established"), MG_TMR_STATE_UNPARSED);
	cr_expect(mg_tmr_state_is_transitioning(MG_TMR_PROMOTING));
	cr_expect_not(mg_tmr_state_is_transitioning(MG_TMR_PROMOTED));
}

Test(reconcile_tmr, time_parsing)
{
	int64_t t;
	cr_assert_eq(mg_time_parse(&t, "1970-01-01T00:00:00Z"), 0);
	cr_expect_eq(t, 0);
	cr_assert_eq(mg_time_parse(&t, "2024-05-01T10:05:00+00:00"), 0);
	int64_t u;
	cr_assert_eq(mg_time_parse(&u, "2024-05-01T03:05:00.000-07:00"), 0);
	cr_expect_eq(t, u);
	cr_assert_eq(mg_time_parse_ms(&u, "2024-05-01T10:05:00.250Z"), 0);
	cr_expect_eq(u, t * 1000 + 250);
	char buf[32];
	mg_time_format(buf, sizeof(buf), t);
	cr_expect_str_eq(buf, "2024-05-01T10:05:00Z");
	static const char *const bad[] = {"", "2024-05-01", "2024-05-01T10:05:00",
					  "2024-13-01T10:05:00Z", "2024-05-01T10:05:00+0000",
					  "2024-05-01T10:05:00Zjunk", "x024-05-01T10:05:00Z"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(mg_time_parse(&t, bad[i]), -3, "%s", bad[i]);
	cr_expect_eq(mg_time_parse(&t, NULL), -3);
	cr_assert_eq(mg_duration_parse(&t, "PT8H35M42S"), 0);
	cr_expect_eq(t, 8 * 3600 + 35 * 60 + 42);
	cr_assert_eq(mg_duration_parse(&t, "P1DT1S"), 0);
	cr_expect_eq(t, 86401);
	static const char *const bad_d[] = {"", "P", "PT", "8H", "P1H", "PT1D", "PT1X", "PT1H2"};
	for (size_t i = 0; i < sizeof(bad_d) / sizeof(bad_d[0]); i++)
		cr_expect_eq(mg_duration_parse(&t, bad_d[i]), -3, "%s", bad_d[i]);
}

/* H7: Trident reports promoted for a DP volume without a relationship; it stays read-only. */
Test(reconcile_tmr, h7_dp_volume_without_relationship_is_not_promoted)
{
	const char *m = mg_tmr_promoted_refusal(MG_TMR_PROMOTED, MG_MIRROR_NONE, "dp");
	cr_assert_not_null(m);
	cr_expect(strstr(m, "read-only DP volume with no SnapMirror relationship"), "%s", m);
	cr_expect(strstr(m, "recreate the PVC without"), "%s", m);
	cr_expect_null(mg_tmr_promoted_refusal(MG_TMR_PROMOTED, MG_MIRROR_NONE, "rw"),
		       "a broken-off destination is RW: promoted");
	cr_expect_null(mg_tmr_promoted_refusal(MG_TMR_PROMOTED, MG_MIRROR_PROMOTING, "dp"),
		       "a relationship still there is the promote's to finish");
	cr_expect_null(mg_tmr_promoted_refusal(MG_TMR_ESTABLISHED, MG_MIRROR_NONE, "dp"),
		       "a DP volume is what establish wants");
	cr_expect_null(mg_tmr_promoted_refusal(MG_TMR_NONE, MG_MIRROR_NONE, "dp"));
}

static mg_ontap_error ontap_err(const char *code, const char *message)
{
	mg_ontap_error e;
	memset(&e, 0, sizeof(e));
	e.source = MG_ONTAP_SRC_HTTP;
	e.http_status = 400;
	snprintf(e.code, sizeof(e.code), "%s", code);
	snprintf(e.message, sizeof(e.message), "%s", message);
	return e;
}

/* Unplanned failover: only a break refused because the peer cannot be contacted (262224) is
 * repeated with force; no other refusal, and no other step, ever is. */
Test(reconcile_tmr, force_only_a_break_refused_for_an_unreachable_peer)
{
	mg_ontap_error peer = ontap_err("262224", "Failed to contact peer cluster \"cluster-a\"");
	cr_expect(mg_step_may_force(MG_STEP_BREAK, &peer));
	for (enum mg_step s = MG_STEP_DONE; s <= MG_STEP_FAIL; s++)
		if (s != MG_STEP_BREAK)
			cr_expect_not(mg_step_may_force(s, &peer), "step %s", mg_step_name(s));
	const char *other[][2] = {
		{"13303808", "Transition to broken_off state failed. Reason:Another transfer is in "
			     "progress."},
		{"13303818", "Invalid state transition requested"},
		{"6619715", "Modification of relationship is in progress."},
		{"4", "entry doesn't exist"},
		{"", "Failed to contact peer cluster (text alone is not the code)"},
	};
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		mg_ontap_error e = ontap_err(other[i][0], other[i][1]);
		cr_expect_not(mg_step_may_force(MG_STEP_BREAK, &e), "code %s", other[i][0]);
	}
	mg_ontap_error transport = ontap_err("", "Connection timed out");
	transport.source = MG_ONTAP_SRC_TRANSPORT;
	transport.http_status = 0;
	cr_expect_not(mg_step_may_force(MG_STEP_BREAK, &transport));
	cr_expect_not(mg_step_may_force(MG_STEP_BREAK, NULL));
}

/* Split-brain evidence on the source: its destination's relationship is broken off. */
Test(reconcile_tmr, destination_promoted_only_when_broken_off)
{
	mg_ontap_relationship r = rel("broken_off", "success", true);
	cr_expect(mg_destination_promoted(&r));
	const char *not_promoted[] = {"snapmirrored", "paused", "uninitialized", "in_sync", ""};
	for (size_t i = 0; i < sizeof(not_promoted) / sizeof(not_promoted[0]); i++) {
		r = rel(not_promoted[i], "success", true);
		cr_expect_not(mg_destination_promoted(&r), "%s", not_promoted[i]);
	}
	cr_expect_not(mg_destination_promoted(NULL));
}

/* A failed read keeps the stored state (H2), except that a TMR asked to be promoted never
 * keeps reading established/reestablished (or their -ing forms): promoting. */
Test(reconcile_tmr, unknown_read_while_promoting_never_reads_established)
{
	enum mg_tmr_state out = MG_TMR_NONE;
	enum mg_tmr_state mirrored[] = {MG_TMR_ESTABLISHED, MG_TMR_REESTABLISHED,
					MG_TMR_ESTABLISHING, MG_TMR_REESTABLISHING};
	for (size_t i = 0; i < sizeof(mirrored) / sizeof(mirrored[0]); i++) {
		out = MG_TMR_NONE;
		cr_expect(mg_tmr_state_while_unknown(MG_TMR_PROMOTED, mirrored[i], &out));
		cr_expect_eq(out, MG_TMR_PROMOTING, "stored %s", mg_tmr_state_str(mirrored[i]));
		/* any other desired state keeps what was stored */
		cr_expect_not(mg_tmr_state_while_unknown(MG_TMR_ESTABLISHED, mirrored[i], &out));
		cr_expect_not(mg_tmr_state_while_unknown(MG_TMR_REESTABLISHED, mirrored[i], &out));
		cr_expect_not(mg_tmr_state_while_unknown(MG_TMR_NONE, mirrored[i], &out));
	}
	enum mg_tmr_state keep[] = {MG_TMR_NONE, MG_TMR_PROMOTED, MG_TMR_PROMOTING, MG_TMR_FAILED,
				    MG_TMR_INVALID};
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		cr_expect_not(mg_tmr_state_while_unknown(MG_TMR_PROMOTED, keep[i], &out), "stored %s",
			      mg_tmr_state_str(keep[i]));
}

/* Whatever the spec asks, ONTAP in the middle of a promote (quiesced, a break or quiesce in
 * progress, broken off not yet deleted) is never reported as established or
 * reestablished. */
Test(reconcile_tmr, mid_promote_observations_never_report_mirrored)
{
	mg_ontap_relationship mid[] = {
		rel("paused", "success", true),     rel("snapmirrored", "quiescing", true),
		rel("snapmirrored", "breaking", true), rel("paused", "breaking", true),
		rel("broken_off", "success", true),  rel("broken_off", "aborted", true),
	};
	enum mg_tmr_state desired[] = {MG_TMR_NONE, MG_TMR_ESTABLISHED, MG_TMR_REESTABLISHED,
				       MG_TMR_PROMOTED};
	for (size_t i = 0; i < sizeof(mid) / sizeof(mid[0]); i++) {
		enum mg_mirror_status obs = mg_mirror_status_of(&mid[i]);
		for (size_t j = 0; j < sizeof(desired) / sizeof(desired[0]); j++) {
			mg_tmr_decision d = mg_tmr_decide(desired[j], true, obs);
			cr_expect(d.report != MG_TMR_ESTABLISHED && d.report != MG_TMR_REESTABLISHED,
				  "%s/%s desired %s reports %s", mid[i].state, mid[i].transfer_state,
				  mg_tmr_state_str(desired[j]), mg_tmr_state_str(d.report));
		}
	}
}
