/* The two-site lab (cluster_env_start_lab: ontap-sim, two kube-sims with provisioners, a
 * mirrorgate-webhook registered in each, a reconciler per site): making a mirror, a TAMU,
 * and a planned failover, every request through the site's webhook. Each asserts status,
 * Events and the data-loss ledger (nothing may be lost: no user asked for a reestablish). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab_steps.h"

static cluster_env E;

static void setup(void)
{
	cluster_env_start_lab(&E, "app");
}

static void teardown(void)
{
	cluster_env_stop(&E);
}

TestSuite(lab_mirror, .init = setup, .fini = teardown, .timeout = 120);

Test(lab_mirror, create_a_mirror)
{
	lab_mirror m;
	lab_make_mirror(&E, &m);
	/* the mutating webhook gave the new TMRs Trident's finalizer */
	cJSON *tmr = cluster_env_get(&E.b, &mg_k8s_res_tmr, "app", "mirror");
	char *fin = cJSON_PrintUnformatted(cJSON_GetObjectItem(cJSON_GetObjectItem(tmr, "metadata"),
								"finalizers"));
	cr_expect(fin && strstr(fin, "trident.netapp.io"), "finalizers %s", fin);
	free(fin);
	cJSON_Delete(tmr);
	/* the destination claim's DP volume is in a healthy relationship, data flows */
	long g = cluster_env_write(&E, 0, "svm-a", m.vol_a);
	cr_expect_gt(g, 0);
	/* a second destination claim naming no TMR cannot be made on B: the webhook refuses a
	 * claim that names a TMR that does not exist */
	int rc = cluster_env_try_create(
		&E.b, &mg_k8s_res_pvc, "app",
		"apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: stray\n"
		"  namespace: app\n  annotations: {trident.netapp.io/mirrorRelationship: nope}\n"
		"spec:\n  accessModes: [ReadWriteMany]\n  resources: {requests: {storage: 1Gi}}\n"
		"  storageClassName: trident\n");
	cr_expect_neq(rc, 0, "the webhook let a claim for a missing TMR in");
	lab_expect_ledger(&E, 0, 0);
}
