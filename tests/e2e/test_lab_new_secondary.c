/* The two-site lab: replicating to a new secondary, as one sequence. After a planned
 * failover B is the primary and A's old copy is given up; a new claim on A (a new, empty DP
 * volume) with its own TMR `established` from B's volume becomes B's new secondary. B's
 * reconciler records A's new volume as a destination of its claim (history role source),
 * a TAMU brings B's writes over, and nothing is lost. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab_steps.h"

TestSuite(lab_new_secondary, .init = lab_setup, .fini = lab_teardown, .timeout = 150);

Test(lab_new_secondary, after_a_failover_b_replicates_to_a_new_claim_on_a)
{
	lab_mirror m;
	lab_make_mirror(&lab, &m);
	char handle[400];
	lab_snapshot(&lab.a, "snap1", handle, sizeof(handle));
	lab_update(&lab.b, "update1", handle);
	char *out = NULL;
	cr_assert_eq(lab_move(&lab.b, &out, "promoted", m.handle_a, handle), 0, "%s", out);
	free(out);
	lab_expect_tmr(&lab.b, "mirror", "promoted");
	cluster_env_write(&lab, 1, "svm-b", m.vol_b);

	/* the new secondary on A: TMR first (the webhook refuses an annotated claim whose TMR
	 * does not exist), then the claim */
	char y[1024];
	snprintf(y, sizeof(y),
		 "apiVersion: trident.netapp.io/v1\nkind: TridentMirrorRelationship\n"
		 "metadata: {name: mirror2, namespace: app}\n"
		 "spec:\n  state: established\n  replicationPolicy: MirrorAllSnapshots\n"
		 "  volumeMappings:\n  - localPVCName: data2\n    remoteVolumeHandle: %s\n",
		 m.handle_b);
	cluster_env_create(&lab.a, &mg_k8s_res_tmr, "app", y);
	cluster_env_create(
		&lab.a, &mg_k8s_res_pvc, "app",
		"apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data2\n"
		"  namespace: app\n  annotations: {trident.netapp.io/mirrorRelationship: mirror2}\n"
		"spec:\n  accessModes: [ReadWriteMany]\n  resources: {requests: {storage: 1Gi}}\n"
		"  storageClassName: trident\n");
	cr_assert(cluster_env_wait_field(&lab.a, &mg_k8s_res_pvc, "app", "data2", "status.phase",
					 "Bound", 15000));
	lab_expect_tmr(&lab.a, "mirror2", "established");
	char vol_new[256];
	const char *pv = lab_field(&lab.a, &mg_k8s_res_pvc, "data2", "spec.volumeName");
	snprintf(vol_new, sizeof(vol_new), "%s",
		 lab_field(&lab.a, &mg_k8s_res_pv, pv, "spec.csi.volumeAttributes.internalName"));
	lab_expect_type(&lab, 0, "svm-a", vol_new, "dp");
	char handle_new[300];
	snprintf(handle_new, sizeof(handle_new), "svm-a:%s", vol_new);
	cr_expect(lab_wait_history(&lab.b, "data", "source", handle_new),
		  "B's claim does not record its new destination %s: %s", handle_new,
		  lab_field(&lab.b, &mg_k8s_res_pvc, "data", LAB_HISTORY));
	/* B's writes reach the new secondary */
	cluster_env_write(&lab, 1, "svm-b", m.vol_b);
	char y2[512];
	snprintf(y2, sizeof(y2),
		 "apiVersion: trident.netapp.io/v1\nkind: TridentActionMirrorUpdate\n"
		 "metadata: {name: update2, namespace: app}\n"
		 "spec: {tridentMirrorRelationshipName: mirror2}\n");
	cluster_env_create(&lab.a, &mg_k8s_res_tamu, "app", y2);
	cr_assert(cluster_env_wait_field(&lab.a, &mg_k8s_res_tamu, "app", "update2", "status.state",
					 "Succeeded", 20000),
		  "TAMU update2: %s", lab_field(&lab.a, &mg_k8s_res_tamu, "update2", "status.message"));
	/* the old copy on A is still there, untouched, read-write (A's own TMR never moved) */
	lab_expect_type(&lab, 0, "svm-a", m.vol_a, "rw");
	lab_expect_ledger(&lab, 0, 0);
}
