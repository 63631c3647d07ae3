/* The two-site lab (cluster_env_start_lab: ontap-sim, two kube-sims with provisioners, a
 * mirrorgate-webhook registered in each, a reconciler per site): making a mirror, a TAMU,
 * and a planned failover, every request through the site's webhook. Each asserts status,
 * Events and the data-loss ledger (nothing may be lost: no user asked for a reestablish). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab_steps.h"

TestSuite(lab_mirror, .init = lab_setup, .fini = lab_teardown, .timeout = 120);

Test(lab_mirror, create_a_mirror)
{
	lab_mirror m;
	lab_make_mirror(&lab, &m);
	/* the mutating webhook gave the new TMRs Trident's finalizer */
	cJSON *tmr = cluster_env_get(&lab.b, &mg_k8s_res_tmr, "app", "mirror");
	char *fin = cJSON_PrintUnformatted(cJSON_GetObjectItem(cJSON_GetObjectItem(tmr, "metadata"),
								"finalizers"));
	cr_expect(fin && strstr(fin, "trident.netapp.io"), "finalizers %s", fin);
	free(fin);
	cJSON_Delete(tmr);
	/* the destination claim's DP volume is in a healthy relationship, data flows */
	long g = cluster_env_write(&lab, 0, "svm-a", m.vol_a);
	cr_expect_gt(g, 0);
	/* a second destination claim naming no TMR cannot be made on B: the webhook refuses a
	 * claim that names a TMR that does not exist */
	int rc = cluster_env_try_create(
		&lab.b, &mg_k8s_res_pvc, "app",
		"apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: stray\n"
		"  namespace: app\n  annotations: {trident.netapp.io/mirrorRelationship: nope}\n"
		"spec:\n  accessModes: [ReadWriteMany]\n  resources: {requests: {storage: 1Gi}}\n"
		"  storageClassName: trident\n");
	cr_expect_neq(rc, 0, "the webhook let a claim for a missing TMR in");
	lab_expect_ledger(&lab, 0, 0);
}

Test(lab_mirror, tamu_brings_a_snapshot_over)
{
	lab_mirror m;
	lab_make_mirror(&lab, &m);
	cluster_env_write(&lab, 0, "svm-a", m.vol_a);
	char handle[400];
	lab_snapshot(&lab.a, "snap1", handle, sizeof(handle));
	lab_update(&lab.b, "update1", handle);
	char y[1024];
	const char *snap = strchr(handle, '/') + 1;
	cr_expect(cluster_env_has_snapshot(&lab, 1, "svm-b", m.vol_b, snap), "%s not on B", snap);
	/* a TAMU on the source side is refused by A's webhook: A's TMR is not a destination */
	snprintf(y, sizeof(y),
		 "apiVersion: trident.netapp.io/v1\nkind: TridentActionMirrorUpdate\n"
		 "metadata: {name: wrong-side, namespace: app}\n"
		 "spec: {tridentMirrorRelationshipName: mirror}\n");
	cr_expect_neq(cluster_env_try_create(&lab.a, &mg_k8s_res_tamu, "app", y), 0,
		      "A's webhook admitted a TAMU on the source TMR");
	cr_expect_str_eq(cluster_env_cond(&lab.b, "mirror", "state"), "established");
	lab_expect_ledger(&lab, 0, 0);
}

Test(lab_mirror, planned_failover_to_a_snapshot)
{
	lab_mirror m;
	lab_make_mirror(&lab, &m);
	long g1 = cluster_env_write(&lab, 0, "svm-a", m.vol_a);
	char handle[400];
	lab_snapshot(&lab.a, "snap1", handle, sizeof(handle));
	/* the application stops on A; the snapshot goes over (a TAMU, or the schedule), then B
	 * is promoted to it: the reconciler checks the snapshot is there, then breaks */
	lab_update(&lab.b, "update1", handle);
	char *out = NULL;
	cr_assert_eq(lab_move(&lab.b, &out, "promoted", m.handle_a, handle), 0, "%s", out);
	free(out);
	lab_expect_tmr(&lab.b, "mirror", "promoted");
	lab_expect_type(&lab, 1, "svm-b", m.vol_b, "rw");
	const char *snap = strchr(handle, '/') + 1;
	cr_expect(cluster_env_has_snapshot(&lab, 1, "svm-b", m.vol_b, snap));
	long g2 = cluster_env_write(&lab, 1, "svm-b", m.vol_b); /* the application runs on B */
	cr_expect_gt(g2, g1);
	/* A still thinks it is the source: both TMRs say promoted, A's volume still RW */
	cr_expect_str_eq(cluster_env_cond(&lab.a, "mirror", "state"), "promoted");
	lab_expect_ledger(&lab, 0, 0);
}
