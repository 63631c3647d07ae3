/* The two-site lab: taking replication down, and deleting the pieces of a mirror, with the
 * webhooks in the loop. Removing replication by deleting the secondary TMR (the reconciler
 * promotes before the TMR goes) compared with setting it `promoted` (the TMR stays, with its
 * record of the relationship); deleting the mirrored claim on the source side (released
 * first; the volume goes once B stops mirroring, B keeps the data) and on the destination
 * side (released by B's reconciler before the claim goes); deleting the TMR on each side. Nothing in the ledger: every piece of data deleted still exists on the
 * other side (a TAMU brings the last write over first). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lab_steps.h"
#include "mirrorgate/ontap/snapmirror.h"
#include "mirrorgate/reconcile/status.h"

TestSuite(lab_remove, .init = lab_setup, .fini = lab_teardown, .timeout = 150);

static int kdelete(cluster_side *s, char **out, const char *kind, const char *name)
{
	const char *args[] = {"delete", kind, name, "-n", "app", "--wait=false", NULL};
	return cluster_env_kubectl(s, out, args);
}

/* snapmirror release on A for every destination of this source (source_only). */
static void release_source(const char *source_path)
{
	mg_ontap_relationship_list rels = {0};
	mg_ontap_error err;
	mg_ontap_relationship_filter f = {source_path, NULL, true};
	cr_assert_eq(mg_ontap_relationships(lab.ontap_client[0], &f, &rels, &err), 0, "%s",
		     err.message);
	for (size_t i = 0; i < rels.len; i++)
		cr_expect_eq(mg_ontap_relationship_delete(lab.ontap_client[0], rels.items[i].uuid,
							  MG_ONTAP_DELETE_SOURCE_ONLY, &err),
			     0, "%s", err.message);
	mg_ontap_relationship_list_free(&rels);
}

/* The mirror with A's last write on B too. */
static void mirror_in_sync(lab_mirror *m)
{
	lab_make_mirror(&lab, m);
	cluster_env_write(&lab, 0, "svm-a", m->vol_a);
	lab_update(&lab.b, "sync", NULL);
}

Test(lab_remove, by_deleting_the_secondary_tmr)
{
	lab_mirror m;
	mirror_in_sync(&m);
	char *out = NULL;
	cr_assert_eq(kdelete(&lab.b, &out, "tmr", "mirror"), 0, "%s", out);
	cr_expect(out && strstr(out, "Warning:"), "no warning for deleting a destination TMR: %s",
		  out);
	free(out);
	cr_assert(cluster_env_wait_gone(&lab.b, &mg_k8s_res_tmr, "app", "mirror", 30000),
		  "B's TMR never went; logs %s", lab.b.rec.log);
	/* promoted before it went: B's claim keeps a read-write copy */
	lab_expect_type(&lab, 1, "svm-b", m.vol_b, "rw");
	cr_expect_str_eq(lab_field(&lab.b, &mg_k8s_res_pvc, "data", "status.phase"), "Bound");
	cluster_env_write(&lab, 1, "svm-b", m.vol_b);
	cluster_env_write(&lab, 0, "svm-a", m.vol_a);
	cr_expect_str_eq(cluster_env_cond(&lab.a, "mirror", "state"), "promoted");
	lab_expect_ledger(&lab, 0, 0);
}

Test(lab_remove, by_setting_promoted)
{
	lab_mirror m;
	mirror_in_sync(&m);
	char *out = NULL;
	cr_assert_eq(cluster_env_kpatch(&lab.b, &out, "tmr", "mirror",
					"{\"spec\":{\"state\":\"promoted\"}}"),
		     0, "%s", out);
	cr_expect(out && strstr(out, "Warning:"), "no warning for promoting a destination: %s",
		  out);
	free(out);
	lab_expect_tmr(&lab.b, "mirror", "promoted");
	lab_expect_type(&lab, 1, "svm-b", m.vol_b, "rw");
	/* unlike a deleted TMR, this one keeps the record of the relationship: its status still
	 * names A's volume, and mirroring again is a `reestablished` (an `established` is
	 * refused) */
	cr_expect_str_eq(cluster_env_cond(&lab.b, "mirror", "remoteVolumeHandle"), m.handle_a);
	out = NULL;
	cr_expect_neq(lab_move(&lab.b, &out, "established", m.handle_a, NULL), 0, "%s", out);
	free(out);
	cluster_env_write(&lab, 1, "svm-b", m.vol_b);
	lab_expect_ledger(&lab, 0, 0);
}

Test(lab_remove, delete_the_source_claim)
{
	lab_mirror m;
	mirror_in_sync(&m);
	cluster_env_delete(&lab.a, &mg_k8s_res_pvc, "app", "data");
	/* the claim goes (A's reconciler lets its protection go), the provisioner releases the
	 * source side; ONTAP still refuses to destroy the volume while B mirrors from it */
	cr_assert(cluster_env_wait_gone(&lab.a, &mg_k8s_res_pvc, "app", "data", 30000),
		  "A's claim never went; logs %s", lab.a.rec.log);
	cr_assert(cluster_env_wait_event(&lab.a, NULL, m.pv_a, "VolumeFailedDelete", 1, 15000),
		  "no VolumeFailedDelete on %s", m.pv_a);
	cr_expect(cluster_env_volume(&lab, 0, "svm-a", m.vol_a, NULL, 0));
	cr_expect_str_eq(cluster_env_cond(&lab.b, "mirror", "state"), "established");
	/* B stops mirroring (its TMR deleted: promoted first); then the retry deletes A's
	 * volume, and B's copy holds every write */
	cluster_env_delete(&lab.b, &mg_k8s_res_tmr, "app", "mirror");
	cr_assert(cluster_env_wait_gone(&lab.b, &mg_k8s_res_tmr, "app", "mirror", 30000),
		  "B's TMR never went; logs %s", lab.b.rec.log);
	char ev[1024];
	cr_assert(cluster_env_wait_gone(&lab.a, &mg_k8s_res_pv, NULL, m.pv_a, 30000),
		  "A's PV never went: phase '%s', VolumeFailedDelete '%s'; logs %s",
		  lab_field(&lab.a, &mg_k8s_res_pv, m.pv_a, "status.phase"),
		  cluster_env_event_message(&lab.a, NULL, m.pv_a, "VolumeFailedDelete", ev,
					    sizeof(ev)),
		  lab.a.rec.log);
	cr_expect_not(cluster_env_volume(&lab, 0, "svm-a", m.vol_a, NULL, 0));
	lab_expect_type(&lab, 1, "svm-b", m.vol_b, "rw");
	lab_expect_ledger(&lab, 0, 0);
}

Test(lab_remove, delete_the_destination_claim)
{
	lab_mirror m;
	mirror_in_sync(&m);
	cluster_env_delete(&lab.b, &mg_k8s_res_pvc, "app", "data");
	/* B's reconciler releases the relationship before the claim goes */
	cr_assert(cluster_env_wait_gone(&lab.b, &mg_k8s_res_pvc, "app", "data", 30000),
		  "B's claim never went; logs %s", lab.b.rec.log);
	/* and B's TMR says so, woken by the claim's deletion (not left at the resync):
	 * once it does, it never reads a bare `established` again */
	bool said = false;
	for (int i = 0; i < 200 && !said; i++) {
		said = strcmp(cluster_env_cond(&lab.b, "mirror", "message"),
			      MG_MSG_LOCAL_PVC_GONE) == 0;
		if (!said)
			usleep(50 * 1000);
	}
	cr_assert(said, "B's TMR message: '%s'; logs %s",
		  cluster_env_cond(&lab.b, "mirror", "message"), lab.b.rec.log);
	for (int i = 0; i < 10; i++) {
		cr_expect_str_eq(cluster_env_cond(&lab.b, "mirror", "message"),
				 MG_MSG_LOCAL_PVC_GONE);
		usleep(50 * 1000);
	}
	/* A is untouched and writable */
	lab_expect_type(&lab, 0, "svm-a", m.vol_a, "rw");
	cluster_env_write(&lab, 0, "svm-a", m.vol_a);
	cr_expect_str_eq(cluster_env_cond(&lab.a, "mirror", "state"), "promoted");
	/* ontap-sim refuses to destroy B's volume while A still holds the source-side record
	 * (real ONTAP looks only at the destination's own records): A's side is released by
	 * hand, as a storage admin would, and the provisioner's retry deletes the volume */
	release_source(m.handle_a);
	cr_assert(cluster_env_wait_gone(&lab.b, &mg_k8s_res_pv, NULL, m.pv_b, 30000),
		  "B's PV never went; logs %s", lab.b.rec.log);
	cr_expect_not(cluster_env_volume(&lab, 1, "svm-b", m.vol_b, NULL, 0));
	lab_expect_ledger(&lab, 0, 0);
}

Test(lab_remove, delete_the_tmr_on_each_side)
{
	lab_mirror m;
	mirror_in_sync(&m);
	/* the source side's TMR: it goes; the mirror keeps running (B still established) */
	char *out = NULL;
	cr_assert_eq(kdelete(&lab.a, &out, "tmr", "mirror"), 0, "%s", out);
	free(out);
	cr_assert(cluster_env_wait_gone(&lab.a, &mg_k8s_res_tmr, "app", "mirror", 30000),
		  "A's TMR never went; logs %s", lab.a.rec.log);
	lab_expect_type(&lab, 0, "svm-a", m.vol_a, "rw");
	cluster_env_write(&lab, 0, "svm-a", m.vol_a);
	lab_update(&lab.b, "after-a", NULL);
	cr_expect_str_eq(cluster_env_cond(&lab.b, "mirror", "state"), "established");
	/* then the destination's: promoted, then gone */
	out = NULL;
	cr_assert_eq(kdelete(&lab.b, &out, "tmr", "mirror"), 0, "%s", out);
	free(out);
	cr_assert(cluster_env_wait_gone(&lab.b, &mg_k8s_res_tmr, "app", "mirror", 30000),
		  "B's TMR never went; logs %s", lab.b.rec.log);
	lab_expect_type(&lab, 1, "svm-b", m.vol_b, "rw");
	lab_expect_ledger(&lab, 0, 0);
}
