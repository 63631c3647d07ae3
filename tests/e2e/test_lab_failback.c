/* The two-site lab: restoring the mirror after a failover, in both directions, through the
 * webhooks. After a planned failover to B, A's TMR is set to `reestablished` with B as its
 * remote (A becomes B's destination; the webhook warns that A's writes since the last common
 * snapshot go); then the roles move back: A promoted, B reestablished from A. The only
 * ledger entry allowed is the write made on A after the failover, which the user's
 * `reestablished` was warned about. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab_steps.h"

TestSuite(lab_failback, .init = lab_setup, .fini = lab_teardown, .timeout = 150);

/* kubectl's output for an accepted reestablish carries the webhook's data-loss warning. */
static void expect_loss_warning(const char *out, const char *remote)
{
	cr_expect(out && strstr(out, "Warning:") && strstr(out, "reestablished resyncs") &&
			  strstr(out, remote) && strstr(out, "will be lost"),
		  "no data-loss warning naming %s in: %s", remote, out);
}

Test(lab_failback, restore_the_mirror_both_ways_after_a_failover)
{
	lab_mirror m;
	lab_make_mirror(&lab, &m);
	cluster_env_write(&lab, 0, "svm-a", m.vol_a);
	char handle[400];
	lab_snapshot(&lab.a, "snap1", handle, sizeof(handle));
	lab_update(&lab.b, "update1", handle);
	char *out = NULL;
	cr_assert_eq(lab_move(&lab.b, &out, "promoted", m.handle_a, handle), 0, "%s", out);
	free(out);
	lab_expect_tmr(&lab.b, "mirror", "promoted");
	cluster_env_write(&lab, 1, "svm-b", m.vol_b);
	/* a straggler wrote on A after the failover: the only data a failback may lose */
	long stray = cluster_env_write(&lab, 0, "svm-a", m.vol_a);

	/* B -> A: A's TMR reestablished from B; A's webhook admits it (the reconciler recorded
	 * A's relationship with B as the source side) and warns what will go */
	out = NULL;
	int rc = lab_move(&lab.a, &out, "reestablished", m.handle_b, NULL);
	cr_assert_eq(rc, 0, "A's webhook refused the failback: %s", out);
	expect_loss_warning(out, m.handle_b);
	free(out);
	lab_expect_tmr(&lab.a, "mirror", "reestablished");
	lab_expect_type(&lab, 0, "svm-a", m.vol_a, "dp");
	lab_expect_ledger(&lab, 1, stray);

	/* roles back, A <- B planned: B's latest data goes to A first, then A is promoted */
	char handle_b[400];
	lab_snapshot(&lab.b, "snap2", handle_b, sizeof(handle_b));
	lab_update(&lab.a, "update2", handle_b);
	out = NULL;
	cr_assert_eq(lab_move(&lab.a, &out, "promoted", m.handle_b, handle_b), 0, "%s", out);
	free(out);
	lab_expect_tmr(&lab.a, "mirror", "promoted");
	lab_expect_type(&lab, 0, "svm-a", m.vol_a, "rw");
	const char *snap = strchr(handle_b, '/') + 1;
	cr_expect(cluster_env_has_snapshot(&lab, 0, "svm-a", m.vol_a, snap));

	/* A -> B: B reestablished from A, with the same warning from B's webhook */
	out = NULL;
	rc = lab_move(&lab.b, &out, "reestablished", m.handle_a, NULL);
	cr_assert_eq(rc, 0, "B's webhook refused the failback: %s", out);
	expect_loss_warning(out, m.handle_a);
	free(out);
	lab_expect_tmr(&lab.b, "mirror", "reestablished");
	lab_expect_type(&lab, 1, "svm-b", m.vol_b, "dp");
	cluster_env_write(&lab, 0, "svm-a", m.vol_a);
	/* nothing more lost: B wrote nothing after snap2 went over */
	lab_expect_ledger(&lab, 1, stray);
}

Test(lab_failback, establish_instead_of_reestablish_is_refused)
{
	lab_mirror m;
	lab_make_mirror(&lab, &m);
	char *out = NULL;
	cr_assert_eq(lab_move(&lab.b, &out, "promoted", m.handle_a, NULL), 0, "%s", out);
	free(out);
	lab_expect_tmr(&lab.b, "mirror", "promoted");
	/* "established" on B's old volume would need an empty destination: refused, pointing to
	 * "reestablished" */
	out = NULL;
	cr_expect_neq(lab_move(&lab.b, &out, "established", m.handle_a, NULL), 0, "%s", out);
	cr_expect(out && strstr(out, "use \"reestablished\""), "%s", out);
	free(out);
	cr_expect_str_eq(cluster_env_cond(&lab.b, "mirror", "state"), "promoted");
	lab_expect_ledger(&lab, 0, 0);
}
