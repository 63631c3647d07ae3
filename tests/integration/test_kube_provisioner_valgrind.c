/* kube-sim with the provisioner thread under valgrind memcheck: provisioning, a failure that
 * is retried, a DP destination, a snapshot and its deletion, a claim's deletion, then a
 * clean SIGTERM that must report no memory error and no definite or indirect leak (exit 0,
 * not valgrind's 99). Skipped in sanitizer builds, where valgrind cannot run binaries. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "cluster_env.h"
#include "mirrorgate/k8s/client.h"
#include "sanitizer.h"

static cluster_env E;
static bool started;

static void stop(void)
{
	if (started)
		cluster_env_stop(&E);
}

Test(kube_provisioner_valgrind, provisioner_is_memcheck_clean, .fini = stop, .timeout = 240)
{
#ifdef MG_UNDER_ASAN
	cr_skip_test("valgrind does not run sanitizer builds");
#endif
	const char *wrapper[] = {"valgrind", "--quiet", "--leak-check=full",
				 "--errors-for-leak-kinds=definite,indirect", "--error-exitcode=99",
				 NULL};
	cluster_env_start_ontap(&E, NULL);
	started = true;
	cluster_env_start_side_wrapped(&E, &E.b, wrapper, 1, "svm-b", NULL);
	cluster_env_namespace(&E.b, "app");
	cluster_env_create(&E.b, &mg_k8s_res_pvc, "app",
			   "apiVersion: v1\nkind: PersistentVolumeClaim\n"
			   "metadata: {name: data, namespace: app}\n"
			   "spec: {accessModes: [ReadWriteOnce], storageClassName: trident, "
			   "resources: {requests: {storage: 1Gi}}}\n");
	cluster_env_create(&E.b, &mg_k8s_res_pvc, "app",
			   "apiVersion: v1\nkind: PersistentVolumeClaim\n"
			   "metadata: {name: dest, namespace: app, annotations: "
			   "{trident.netapp.io/mirrorRelationship: mirror}}\n"
			   "spec: {accessModes: [ReadWriteOnce], storageClassName: trident, "
			   "resources: {requests: {storage: 1Gi}}}\n");
	cluster_env_create(&E.b, &mg_k8s_res_pvc, "app",
			   "apiVersion: v1\nkind: PersistentVolumeClaim\n"
			   "metadata: {name: bad, namespace: app}\n"
			   "spec: {storageClassName: trident, resources: {requests: {storage: x}}}\n");
	cr_assert(cluster_env_wait_field(&E.b, &mg_k8s_res_pvc, "app", "data", "status.phase",
					 "Bound", 60000));
	cr_assert(cluster_env_wait_event(&E.b, "app", "dest", "ProvisioningFailed", 1, 60000));
	cr_assert(cluster_env_wait_event(&E.b, "app", "bad", "ProvisioningFailed", 1, 60000));
	cluster_env_create(&E.b, &mg_k8s_res_tmr, "app",
			   "apiVersion: trident.netapp.io/v1\nkind: TridentMirrorRelationship\n"
			   "metadata: {name: mirror, namespace: app}\n"
			   "spec: {state: established, volumeMappings: [{localPVCName: dest, "
			   "remoteVolumeHandle: \"svm-a:src\"}]}\n");
	cr_assert(cluster_env_wait_field(&E.b, &mg_k8s_res_pvc, "app", "dest", "status.phase",
					 "Bound", 60000));
	cluster_env_create(&E.b, &mg_k8s_res_vs, "app",
			   "apiVersion: snapshot.storage.k8s.io/v1\nkind: VolumeSnapshot\n"
			   "metadata: {name: s1, namespace: app}\n"
			   "spec: {volumeSnapshotClassName: trident-snapclass, source: "
			   "{persistentVolumeClaimName: data}}\n");
	cr_assert(cluster_env_wait_field(&E.b, &mg_k8s_res_vs, "app", "s1", "status.readyToUse",
					 "true", 60000));
	char content[128];
	cJSON *vs = cluster_env_get(&E.b, &mg_k8s_res_vs, "app", "s1");
	cluster_env_str(vs, "status.boundVolumeSnapshotContentName", content, sizeof(content));
	cJSON_Delete(vs);
	cluster_env_delete(&E.b, &mg_k8s_res_vs, "app", "s1");
	cr_assert(cluster_env_wait_gone(&E.b, &mg_k8s_res_vsc, NULL, content, 60000));
	char pv[128];
	cJSON *c = cluster_env_get(&E.b, &mg_k8s_res_pvc, "app", "data");
	cluster_env_str(c, "spec.volumeName", pv, sizeof(pv));
	cJSON_Delete(c);
	cluster_env_delete(&E.b, &mg_k8s_res_pvc, "app", "data");
	cr_assert(cluster_env_wait_gone(&E.b, &mg_k8s_res_pv, NULL, pv, 60000));
	mg_k8s_client_free(E.b.k8s);
	E.b.k8s = NULL;
	E.b.up = false;
	cr_expect_eq(kube_sim_stop_status(&E.b.kube, 60000), 0,
		     "kube-sim under valgrind: memory errors or leaks (99) or no clean exit");
}
