/* The two-site lab: site A is down. Its storage is cut off from its peer (ontap-sim peer
 * fault: cluster-a unreachable) and its reconciler stopped. B's TMR set to `promoted` makes
 * B read-write with a forced break (ONTAP refuses a plain break while the peer is
 * unreachable), status and a SourceUnreachable Event say so. Then site A comes back: its
 * reconciler reports the split-brain (status and a SplitBrain Event naming the fix), and the
 * fix, A's TMR `reestablished` from B, is admitted by A's webhook with its data-loss warning.
 * The ledger: nothing lost until that reestablish, then exactly A's write that never reached
 * B, which the warning announced. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab_steps.h"

TestSuite(lab_site_down, .init = lab_setup, .fini = lab_teardown, .timeout = 150);

static void site_a_down(void)
{
	cluster_env_reachable(&lab, 0, false);
	rec_proc_stop(&lab.a.rec, true);
}

Test(lab_site_down, unplanned_failover_then_site_a_comes_back)
{
	lab_mirror m;
	lab_make_mirror(&lab, &m);
	cluster_env_write(&lab, 0, "svm-a", m.vol_a);
	lab_update(&lab.b, "update1", NULL);
	/* written on A after the last transfer: it exists only on A */
	long only_on_a = cluster_env_write(&lab, 0, "svm-a", m.vol_a);
	site_a_down();

	/* unplanned failover: B promoted without a snapshot handle */
	char *out = NULL;
	cr_assert_eq(cluster_env_kpatch(&lab.b, &out, "tmr", "mirror",
					"{\"spec\":{\"state\":\"promoted\"}}"),
		     0, "%s", out);
	free(out);
	lab_expect_tmr(&lab.b, "mirror", "promoted");
	lab_expect_type(&lab, 1, "svm-b", m.vol_b, "rw");
	const char *msg = cluster_env_cond(&lab.b, "mirror", "message");
	cr_expect(strstr(msg, "Promoted with a forced break") && strstr(msg, m.handle_a),
		  "B's status should name the forced break and the source: %s", msg);
	cr_expect(cluster_env_wait_event(&lab.b, "app", "mirror", "SourceUnreachable", 1, 5000),
		  "no SourceUnreachable Event on B's TMR");
	char ev[1024];
	cluster_env_event_message(&lab.b, "app", "mirror", "SourceUnreachable", ev, sizeof(ev));
	cr_expect(strstr(ev, m.handle_a), "the Event names the unreachable source: %s", ev);
	long on_b = cluster_env_write(&lab, 1, "svm-b", m.vol_b); /* the application runs on B */
	cr_expect_gt(on_b, 0);
	lab_expect_ledger(&lab, 0, 0);

	/* site A came back: both volumes are read-write */
	cluster_env_reachable(&lab, 0, true);
	cluster_env_start_reconciler_with(&lab, &lab.a, "rec-a", cluster_env_lab_reconciler_args);
	cr_assert(cluster_env_wait_event(&lab.a, "app", "mirror", "SplitBrain", 1, 15000),
		  "no SplitBrain Event on A's TMR; message '%s'; logs %s",
		  cluster_env_cond(&lab.a, "mirror", "message"), lab.a.rec.log);
	msg = cluster_env_cond(&lab.a, "mirror", "message");
	cr_expect(strstr(msg, "Split-brain") && strstr(msg, "reestablished") &&
			  strstr(msg, m.handle_b),
		  "A's status should say split-brain and the fix: %s", msg);
	cr_expect_str_eq(cluster_env_cond(&lab.a, "mirror", "state"), "promoted");
	lab_expect_type(&lab, 0, "svm-a", m.vol_a, "rw");
	lab_expect_ledger(&lab, 0, 0);

	/* the fix: A gives up its writes, reestablished from B, warned by A's webhook */
	out = NULL;
	cr_assert_eq(lab_move(&lab.a, &out, "reestablished", m.handle_b, NULL), 0,
		     "A's webhook refused the fix: %s", out);
	cr_expect(out && strstr(out, "Warning:") && strstr(out, "will be lost"),
		  "no data-loss warning: %s", out);
	free(out);
	lab_expect_tmr(&lab.a, "mirror", "reestablished");
	lab_expect_type(&lab, 0, "svm-a", m.vol_a, "dp");
	lab_expect_ledger(&lab, 1, only_on_a);
}

Test(lab_site_down, a_destination_is_never_forced_while_its_source_answers)
{
	lab_mirror m;
	lab_make_mirror(&lab, &m);
	/* A's reconciler is stopped but its storage answers: a plain break, no force */
	rec_proc_stop(&lab.a.rec, true);
	char *out = NULL;
	cr_assert_eq(cluster_env_kpatch(&lab.b, &out, "tmr", "mirror",
					"{\"spec\":{\"state\":\"promoted\"}}"),
		     0, "%s", out);
	free(out);
	lab_expect_tmr(&lab.b, "mirror", "promoted");
	cr_expect_eq(cluster_env_events(&lab.b, "app", "mirror", "SourceUnreachable"), 0);
	cr_expect_not(strstr(cluster_env_cond(&lab.b, "mirror", "message"), "forced"));
	lab_expect_ledger(&lab, 0, 0);
}
