/* kube-sim's built-in provisioner against a real ontap-sim, both as processes: PVC → RW
 * FlexVol + bound PV with Trident's names and attributes, sizes, classes that are not
 * Trident's or do not exist, mirror destinations (DP volumes, TMR look-up, SVM peering,
 * replication-capable placement), ONTAP faults during create (exactly one volume), adoption
 * of an existing volume, VolumeSnapshots and deletion. The data-loss ledger is asserted in
 * every test. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cluster_env.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/k8s/client.h"
#include "mirrorgate/ontap/snapmirror.h"
#include "mirrorgate/ontap/volume.h"

static cluster_env E;
static bool started;

static void nap(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* One cluster ("A": cluster-a/svm-a) unless a test starts its own. */
static void setup_a(void)
{
	cluster_env_start_ontap(&E, NULL);
	cluster_env_start_side(&E, &E.a, 0, "svm-a", NULL);
	cluster_env_namespace(&E.a, "app");
	started = true;
}

static void teardown(void)
{
	if (started)
		cluster_env_stop(&E);
	started = false;
}

static void assert_no_loss(void)
{
	char *text = NULL;
	int n = cluster_env_ledger(&E, &text);
	cr_expect_eq(n, 0, "ledger: %s", text);
	free(text);
}

/* Deleting a claim with reclaim policy Delete is a loss the user asked for: the ledger
 * holds exactly one "volume delete" entry per deleted volume and nothing else. */
static void assert_only_volume_deletes(int volumes)
{
	char *text = NULL;
	int n = cluster_env_ledger(&E, &text);
	cr_expect_eq(n, volumes, "ledger: %s", text);
	int deletes = 0;
	for (const char *p = text; p && (p = strstr(p, "\"operation\":\"volume delete\"")); p++)
		deletes++;
	cr_expect_eq(deletes, volumes, "ledger: %s", text);
	free(text);
}

static void pvc(cluster_side *s, const char *name, const char *size, const char *sc,
		const char *mirror)
{
	char y[1024];
	snprintf(y, sizeof(y),
		 "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: %s\n"
		 "  namespace: app\n%s%s%s"
		 "spec:\n  accessModes: [ReadWriteMany]\n  resources: {requests: {storage: \"%s\"}}\n"
		 "%s%s%s",
		 name, mirror ? "  annotations: {trident.netapp.io/mirrorRelationship: " : "",
		 mirror ? mirror : "", mirror ? "}\n" : "", size, sc ? "  storageClassName: " : "",
		 sc ? sc : "", sc ? "\n" : "");
	cluster_env_create(s, &mg_k8s_res_pvc, "app", y);
}

static void tmr(cluster_side *s, const char *name, const char *state, const char *local,
		const char *remote)
{
	char y[1024];
	snprintf(y, sizeof(y),
		 "apiVersion: trident.netapp.io/v1\nkind: TridentMirrorRelationship\n"
		 "metadata: {name: %s, namespace: app}\n"
		 "spec:\n  state: %s\n  replicationPolicy: MirrorAllSnapshots\n"
		 "  volumeMappings:\n  - localPVCName: %s\n%s%s%s",
		 name, state, local, remote ? "    remoteVolumeHandle: " : "", remote ? remote : "",
		 remote ? "\n" : "");
	cluster_env_create(s, &mg_k8s_res_tmr, "app", y);
}

static const char *field(cluster_side *s, const mg_k8s_resource *r, const char *ns,
			 const char *name, const char *path)
{
	static char buf[4][1024];
	static int i;
	char *b = buf[i++ % 4];
	cJSON *o = cluster_env_get(s, r, ns, name);
	cluster_env_str(o, path, b, 1024);
	cJSON_Delete(o);
	return b;
}

/* Trident's internal name for a claim: trident_ + pvc-<uid> with '-' as '_'. */
static void internal_for(cluster_side *s, const char *claim, char *out, size_t len)
{
	snprintf(out, len, "trident_pvc_%s", field(s, &mg_k8s_res_pvc, "app", claim, "metadata.uid"));
	for (char *c = out; *c; c++)
		if (*c == '-')
			*c = '_';
}

static void wait_bound(cluster_side *s, const char *claim)
{
	cr_assert(cluster_env_wait_field(s, &mg_k8s_res_pvc, "app", claim, "status.phase", "Bound",
					 15000),
		  "PVC %s not bound; events: %s", claim,
		  field(s, &mg_k8s_res_pvc, "app", claim, "status.phase"));
}

static const char *failure(cluster_side *s, const char *claim)
{
	static char buf[2048];
	cr_assert(cluster_env_wait_event(s, "app", claim, "ProvisioningFailed", 1, 10000),
		  "no ProvisioningFailed for %s", claim);
	return cluster_env_event_message(s, "app", claim, "ProvisioningFailed", buf, sizeof(buf));
}

/* Event objects (not occurrences) with this reason about the object. */
static int event_objects(cluster_side *s, const char *name, const char *reason)
{
	cJSON *list = NULL;
	mg_k8s_status st;
	mg_k8s_list_opts o = {0};
	cr_assert_eq(mg_k8s_list(&list, s->k8s, &mg_k8s_res_event, "app", &o, &st), 0);
	int n = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(list, "items"))
	{
		const cJSON *io = cJSON_GetObjectItem(it, "involvedObject");
		const cJSON *nm = cJSON_GetObjectItem(io, "name"), *rs = cJSON_GetObjectItem(it, "reason");
		n += cJSON_IsString(nm) && strcmp(nm->valuestring, name) == 0 && cJSON_IsString(rs) &&
		     strcmp(rs->valuestring, reason) == 0;
	}
	cJSON_Delete(list);
	return n;
}

TestSuite(kube_provisioner, .fini = teardown, .timeout = 120);

Test(kube_provisioner, rw_volume_and_bound_pv_with_tridents_names)
{
	setup_a();
	pvc(&E.a, "data", "1Gi", "trident", NULL);
	wait_bound(&E.a, "data");
	char uid[64], pv_name[128], internal[256], type[16];
	snprintf(uid, sizeof(uid), "%s", field(&E.a, &mg_k8s_res_pvc, "app", "data", "metadata.uid"));
	snprintf(pv_name, sizeof(pv_name), "pvc-%s", uid);
	internal_for(&E.a, "data", internal, sizeof(internal));
	cr_expect_str_eq(field(&E.a, &mg_k8s_res_pvc, "app", "data", "spec.volumeName"), pv_name);
	cr_expect_str_eq(field(&E.a, &mg_k8s_res_pvc, "app", "data",
			       "metadata.annotations.[pv.kubernetes.io/bind-completed]"),
			 "yes");
	cr_expect_str_eq(field(&E.a, &mg_k8s_res_pvc, "app", "data",
			       "metadata.annotations.[pv.kubernetes.io/provisioned-by]"),
			 "csi.trident.netapp.io");
	cr_expect_str_eq(field(&E.a, &mg_k8s_res_pvc, "app", "data", "status.capacity.storage"),
			 "1Gi");
	cJSON *pv = cluster_env_get(&E.a, &mg_k8s_res_pv, NULL, pv_name);
	cr_assert_not_null(pv);
	char b[512];
	cr_expect_str_eq(cluster_env_str(pv, "spec.csi.driver", b, sizeof(b)), "csi.trident.netapp.io");
	cr_expect_str_eq(cluster_env_str(pv, "spec.csi.volumeHandle", b, sizeof(b)), pv_name);
	cr_expect_str_eq(cluster_env_str(pv, "spec.csi.volumeAttributes.internalName", b, sizeof(b)),
			 internal);
	cr_expect_str_eq(cluster_env_str(pv, "spec.csi.volumeAttributes.name", b, sizeof(b)), pv_name);
	cr_expect_str_eq(cluster_env_str(pv, "spec.csi.volumeAttributes.protocol", b, sizeof(b)), "file");
	cr_expect_neq(cluster_env_str(pv, "spec.csi.volumeAttributes.backendUUID", b, sizeof(b))[0], 0);
	cr_expect_str_eq(cluster_env_str(pv, "spec.claimRef.uid", b, sizeof(b)), uid);
	cr_expect_str_eq(cluster_env_str(pv, "spec.claimRef.name", b, sizeof(b)), "data");
	cr_expect_str_eq(cluster_env_str(pv, "spec.persistentVolumeReclaimPolicy", b, sizeof(b)), "Delete");
	cr_expect_str_eq(cluster_env_str(pv, "spec.storageClassName", b, sizeof(b)), "trident");
	cr_expect_str_eq(cluster_env_str(pv, "spec.capacity.storage", b, sizeof(b)), "1Gi");
	cr_expect_str_eq(cluster_env_str(pv, "status.phase", b, sizeof(b)), "Bound");
	cJSON_Delete(pv);
	mg_ontap_volume v;
	mg_ontap_error err;
	cr_assert_eq(mg_ontap_volume_get(E.ontap_client[0], "svm-a", internal, &v, &err), 0, "%s",
		     err.message);
	cr_expect_str_eq(v.type, "rw");
	cr_expect_eq(v.size, 1073741824ULL);
	cr_expect_eq(cluster_env_count_volumes(&E, 0, "trident_"), 1);
	cr_expect_eq(cluster_env_count_volumes(&E, 1, "trident_"), 0);
	cr_expect_geq(cluster_env_events(&E.a, "app", "data", "Provisioning"), 1);
	cr_expect_eq(cluster_env_events(&E.a, "app", "data", "ProvisioningSucceeded"), 1);
	cr_expect_eq(cluster_env_events(&E.a, "app", "data", "ProvisioningFailed"), 0);
	(void)type;
	assert_no_loss();
}

Test(kube_provisioner, sizes_are_kubernetes_quantities)
{
	setup_a();
	static const struct {
		const char *claim, *size;
		unsigned long long bytes;
	} cases[] = {{"mebi", "500Mi", 524288000ULL}, {"giga", "1.5G", 1500000000ULL},
		     {"exp", "2e9", 2000000000ULL}, {"kibi", "102400Ki", 104857600ULL}};
	for (size_t i = 0; i < 4; i++)
		pvc(&E.a, cases[i].claim, cases[i].size, "trident", NULL);
	for (size_t i = 0; i < 4; i++) {
		wait_bound(&E.a, cases[i].claim);
		char internal[256];
		internal_for(&E.a, cases[i].claim, internal, sizeof(internal));
		mg_ontap_volume v;
		mg_ontap_error err;
		cr_assert_eq(mg_ontap_volume_get(E.ontap_client[0], "svm-a", internal, &v, &err), 0);
		cr_expect_eq(v.size, cases[i].bytes, "%s: %llu", cases[i].size,
			     (unsigned long long)v.size);
	}
	assert_no_loss();
}

Test(kube_provisioner, bad_or_too_small_size_fails_without_a_volume)
{
	setup_a();
	pvc(&E.a, "bad", "lots", "trident", NULL);
	pvc(&E.a, "tiny", "1Mi", "trident", NULL);
	cr_expect(strstr(failure(&E.a, "bad"), "invalid requested size \"lots\""), "%s",
		  failure(&E.a, "bad"));
	cr_expect(strstr(failure(&E.a, "tiny"), "requested volume size (1048576 bytes) is too small"),
		  "%s", failure(&E.a, "tiny"));
	cr_expect(strstr(failure(&E.a, "tiny"),
			 "failed to provision volume with StorageClass \"trident\""));
	/* retried with backoff, never bound, never a volume; repeats fold into one Event */
	cr_expect(cluster_env_wait_event(&E.a, "app", "bad", "ProvisioningFailed", 2, 5000));
	cr_expect_eq(event_objects(&E.a, "bad", "ProvisioningFailed"), 1);
	cr_expect_str_eq(field(&E.a, &mg_k8s_res_pvc, "app", "bad", "status.phase"), "Pending");
	cr_expect_str_eq(field(&E.a, &mg_k8s_res_pvc, "app", "tiny", "status.phase"), "Pending");
	cr_expect_eq(cluster_env_count_volumes(&E, 0, ""), 0);
	assert_no_loss();
}

Test(kube_provisioner, other_provisioners_and_classless_claims_are_left_alone)
{
	setup_a();
	cluster_env_create(&E.a, &mg_k8s_res_sc, NULL,
			   "apiVersion: storage.k8s.io/v1\nkind: StorageClass\n"
			   "metadata: {name: ebs}\nprovisioner: ebs.csi.aws.com\n");
	pvc(&E.a, "other", "1Gi", "ebs", NULL);
	pvc(&E.a, "classless", "1Gi", NULL, NULL);
	pvc(&E.a, "mine", "1Gi", "trident", NULL);
	wait_bound(&E.a, "mine"); /* the provisioner has run over all three */
	nap(700);                 /* and at least one resync since */
	cr_expect_str_eq(field(&E.a, &mg_k8s_res_pvc, "app", "other", "status.phase"), "Pending");
	cr_expect_str_eq(field(&E.a, &mg_k8s_res_pvc, "app", "classless", "status.phase"), "Pending");
	cr_expect_eq(cluster_env_events(&E.a, "app", "other", "Provisioning"), 0);
	cr_expect_eq(cluster_env_events(&E.a, "app", "other", "ProvisioningFailed"), 0);
	cr_expect_eq(cluster_env_events(&E.a, "app", "classless", "ProvisioningFailed"), 0);
	cr_expect_eq(cluster_env_count_volumes(&E, 0, "trident_"), 1);
	assert_no_loss();
}

Test(kube_provisioner, missing_class_fails_until_it_exists)
{
	setup_a();
	pvc(&E.a, "data", "1Gi", "later", NULL);
	cr_expect_str_eq(failure(&E.a, "data"), "storageclass.storage.k8s.io \"later\" not found");
	cr_expect_eq(cluster_env_count_volumes(&E, 0, ""), 0);
	cluster_env_create(&E.a, &mg_k8s_res_sc, NULL,
			   "apiVersion: storage.k8s.io/v1\nkind: StorageClass\n"
			   "metadata: {name: later}\nprovisioner: csi.trident.netapp.io\n"
			   "reclaimPolicy: Retain\n");
	wait_bound(&E.a, "data");
	cr_expect_str_eq(field(&E.a, &mg_k8s_res_pv, NULL,
			       field(&E.a, &mg_k8s_res_pvc, "app", "data", "spec.volumeName"),
			       "spec.persistentVolumeReclaimPolicy"),
			 "Retain");
	assert_no_loss();
}

/* B provisions on svm-b; the TMR's remote handle names A's volume on svm-a (peered). */
static void setup_b(void)
{
	cluster_env_start_ontap(&E, NULL);
	cluster_env_start_side(&E, &E.b, 1, "svm-b", NULL);
	cluster_env_namespace(&E.b, "app");
	started = true;
}

/* The claim binds, and its FlexVol on svm-b is a DP volume. */
static void expect_bound_dp(cluster_side *side, const char *claim)
{
	wait_bound(side, claim);
	char internal[256], type[16] = "";
	internal_for(side, claim, internal, sizeof(internal));
	cr_assert(cluster_env_volume(&E, 1, "svm-b", internal, type, sizeof(type)));
	cr_expect_str_eq(type, "dp");
}

Test(kube_provisioner, mirror_destination_is_a_dp_volume)
{
	setup_b();
	tmr(&E.b, "mirror", "established", "data", "svm-a:trident_pvc_src");
	pvc(&E.b, "data", "1Gi", "trident", "mirror");
	expect_bound_dp(&E.b, "data");
	assert_no_loss();
}

Test(kube_provisioner, missing_tmr_fails_then_succeeds_when_it_appears)
{
	setup_b();
	pvc(&E.b, "data", "1Gi", "trident", "mirror");
	cr_expect(strstr(failure(&E.b, "data"), "the TMR mirror for PVC data does not exist"), "%s",
		  failure(&E.b, "data"));
	cr_expect_eq(cluster_env_count_volumes(&E, 1, ""), 0);
	tmr(&E.b, "mirror", "established", "data", "svm-a:trident_pvc_src");
	expect_bound_dp(&E.b, "data");
	assert_no_loss();
}

Test(kube_provisioner, h7_annotation_to_a_promoted_tmr_still_makes_a_dp_volume)
{
	/* Trident's behaviour, imitated on purpose: the webhook is what refuses this. */
	setup_b();
	tmr(&E.b, "mirror", "promoted", "other", NULL);
	pvc(&E.b, "data", "1Gi", "trident", "mirror");
	expect_bound_dp(&E.b, "data");
	assert_no_loss();
}

Test(kube_provisioner, tmr_conflicts_are_refused_like_trident)
{
	setup_b();
	tmr(&E.b, "one", "established", "data", "svm-a:v1");
	tmr(&E.b, "two", "established", "data", "svm-a:v2");
	pvc(&E.b, "data", "1Gi", "trident", NULL);
	cr_expect(strstr(failure(&E.b, "data"), "multiple TMRs refer to PVC data"), "%s",
		  failure(&E.b, "data"));
	tmr(&E.b, "three", "established", "data2", "svm-a:v3");
	pvc(&E.b, "data2", "1Gi", "trident", "one");
	cr_expect(strstr(failure(&E.b, "data2"), "a different TMR refers to the PVC data2"), "%s",
		  failure(&E.b, "data2"));
	cr_expect_eq(cluster_env_count_volumes(&E, 1, ""), 0);
	assert_no_loss();
}

Test(kube_provisioner, remote_handle_on_an_unpeered_svm_is_refused)
{
	setup_b();
	tmr(&E.b, "mirror", "established", "data", "svm-zzz:vol");
	pvc(&E.b, "data", "1Gi", "trident", "mirror");
	const char *m = failure(&E.b, "data");
	cr_expect(strstr(m, "backend SVM svm-b is not peered with required SVM svm-zzz"), "%s", m);
	tmr(&E.b, "bad", "established", "data3", "no-colon");
	pvc(&E.b, "data3", "1Gi", "trident", "bad");
	m = failure(&E.b, "data3");
	cr_expect(strstr(m, "could not determine required peer SVM"), "%s", m);
	cr_expect_eq(cluster_env_count_volumes(&E, 1, ""), 0);
	assert_no_loss();
}

Test(kube_provisioner, replication_class_needs_a_peered_svm)
{
	cluster_env_start_ontap(&E, "clusters:\n"
				    "- {name: cluster-a, password: password-a, svms: [{name: svm-a}]}\n"
				    "- {name: cluster-b, password: password-b, svms: [{name: svm-b}]}\n");
	cluster_env_start_side(&E, &E.a, 0, "svm-a", NULL);
	cluster_env_namespace(&E.a, "app");
	started = true;
	pvc(&E.a, "data", "1Gi", "trident", NULL); /* class `trident` asks for replication */
	const char *m = failure(&E.a, "data");
	cr_expect(strstr(m, "SVM svm-a has no SVM peers"), "%s", m);
	cr_expect_eq(cluster_env_count_volumes(&E, 0, ""), 0);
	cluster_env_create(&E.a, &mg_k8s_res_sc, NULL,
			   "apiVersion: storage.k8s.io/v1\nkind: StorageClass\n"
			   "metadata: {name: plain}\nprovisioner: csi.trident.netapp.io\n");
	pvc(&E.a, "plain", "1Gi", "plain", NULL);
	wait_bound(&E.a, "plain");
	assert_no_loss();
}

static void fault(const char *json)
{
	cr_assert_eq(ontap_sim_control(&E.ontap, "POST", "faults", json, NULL), 200, "%s", json);
}

Test(kube_provisioner, ontap_5xx_on_create_is_retried_to_exactly_one_volume)
{
	setup_a();
	fault("{\"type\":\"request\",\"method\":\"POST\",\"path\":\"/api/storage/volumes\","
	      "\"count\":2,\"status\":500,\"code\":\"1\",\"message\":\"internal error\"}");
	pvc(&E.a, "data", "1Gi", "trident", NULL);
	wait_bound(&E.a, "data");
	cr_expect_geq(cluster_env_events(&E.a, "app", "data", "ProvisioningFailed"), 2);
	cr_expect_eq(cluster_env_count_volumes(&E, 0, "trident_"), 1);
	assert_no_loss();
}

Test(kube_provisioner, dropped_connection_on_create_is_retried_to_exactly_one_volume)
{
	setup_a();
	fault("{\"type\":\"request\",\"method\":\"POST\",\"path\":\"/api/storage/volumes\","
	      "\"count\":1,\"drop\":true}");
	pvc(&E.a, "data", "1Gi", "trident", NULL);
	wait_bound(&E.a, "data");
	cr_expect_eq(cluster_env_count_volumes(&E, 0, "trident_"), 1);
	assert_no_loss();
}

Test(kube_provisioner, create_whose_job_vanishes_is_adopted_not_repeated)
{
	setup_a();
	/* The create happens but its job is purged: the outcome is unknown to the client. */
	fault("{\"type\":\"job\",\"match\":\"POST /api/storage/volumes\",\"mode\":\"purge\"}");
	pvc(&E.a, "data", "1Gi", "trident", NULL);
	wait_bound(&E.a, "data");
	cr_expect_eq(cluster_env_count_volumes(&E, 0, "trident_"), 1);
	cr_expect_eq(ontap_sim_count_requests(&E.ontap, "cluster-a", "POST", "/api/storage/volumes"),
		     1);
	assert_no_loss();
}

Test(kube_provisioner, existing_volume_with_the_right_name_is_adopted)
{
	setup_a();
	pvc(&E.a, "data", "1Gi", "later", NULL); /* waits for its class */
	failure(&E.a, "data");
	char internal[256];
	internal_for(&E.a, "data", internal, sizeof(internal));
	/* as if an earlier provisioner had made the volume and stopped before the PV */
	mg_ontap_volume_spec spec = {"svm-a", internal, "rw", 1073741824ULL, NULL};
	mg_ontap_error err;
	cr_assert_eq(mg_ontap_volume_create(E.ontap_client[0], &spec, NULL, &err), 0, "%s",
		     err.message);
	cluster_env_create(&E.a, &mg_k8s_res_sc, NULL,
			   "apiVersion: storage.k8s.io/v1\nkind: StorageClass\n"
			   "metadata: {name: later}\nprovisioner: csi.trident.netapp.io\n");
	wait_bound(&E.a, "data");
	cr_expect_eq(cluster_env_count_volumes(&E, 0, "trident_"), 1);
	cr_expect_eq(ontap_sim_count_requests(&E.ontap, "cluster-a", "POST", "/api/storage/volumes"),
		     1, "only the test's own create");
	cr_expect_str_eq(field(&E.a, &mg_k8s_res_pv, NULL,
			       field(&E.a, &mg_k8s_res_pvc, "app", "data", "spec.volumeName"),
			       "spec.csi.volumeAttributes.internalName"),
			 internal);
	assert_no_loss();
}

static void snapshot(cluster_side *s, const char *name, const char *claim)
{
	char y[512];
	snprintf(y, sizeof(y),
		 "apiVersion: snapshot.storage.k8s.io/v1\nkind: VolumeSnapshot\n"
		 "metadata: {name: %s, namespace: app}\n"
		 "spec:\n  volumeSnapshotClassName: trident-snapclass\n"
		 "  source: {persistentVolumeClaimName: %s}\n",
		 name, claim);
	cluster_env_create(s, &mg_k8s_res_vs, "app", y);
}

Test(kube_provisioner, volume_snapshot_makes_an_ontap_snapshot_and_a_content_with_tridents_handle)
{
	setup_a();
	pvc(&E.a, "data", "1Gi", "trident", NULL);
	wait_bound(&E.a, "data");
	snapshot(&E.a, "snap1", "data");
	cr_assert(cluster_env_wait_field(&E.a, &mg_k8s_res_vs, "app", "snap1", "status.readyToUse",
					 "true", 10000));
	char vs_uid[64], content[128], snap[128], handle[256], internal[256], pv_name[128];
	snprintf(pv_name, sizeof(pv_name), "%s",
		 field(&E.a, &mg_k8s_res_pvc, "app", "data", "spec.volumeName"));
	snprintf(vs_uid, sizeof(vs_uid), "%s", field(&E.a, &mg_k8s_res_vs, "app", "snap1", "metadata.uid"));
	snprintf(content, sizeof(content), "snapcontent-%s", vs_uid);
	snprintf(snap, sizeof(snap), "snapshot-%s", vs_uid);
	snprintf(handle, sizeof(handle), "%s/%s", pv_name, snap);
	internal_for(&E.a, "data", internal, sizeof(internal));
	cr_expect_str_eq(field(&E.a, &mg_k8s_res_vs, "app", "snap1",
			       "status.boundVolumeSnapshotContentName"),
			 content);
	cr_expect_neq(field(&E.a, &mg_k8s_res_vs, "app", "snap1", "status.creationTime")[0], 0);
	cJSON *vsc = cluster_env_get(&E.a, &mg_k8s_res_vsc, NULL, content);
	cr_assert_not_null(vsc);
	char b[512];
	cr_expect_str_eq(cluster_env_str(vsc, "spec.driver", b, sizeof(b)), "csi.trident.netapp.io");
	cr_expect_str_eq(cluster_env_str(vsc, "spec.source.volumeHandle", b, sizeof(b)), pv_name);
	cr_expect_str_eq(cluster_env_str(vsc, "spec.deletionPolicy", b, sizeof(b)), "Delete");
	cr_expect_str_eq(cluster_env_str(vsc, "spec.volumeSnapshotRef.name", b, sizeof(b)), "snap1");
	cr_expect_str_eq(cluster_env_str(vsc, "spec.volumeSnapshotRef.uid", b, sizeof(b)), vs_uid);
	cr_expect_str_eq(cluster_env_str(vsc, "status.snapshotHandle", b, sizeof(b)), handle);
	cr_expect_str_eq(cluster_env_str(vsc, "status.readyToUse", b, sizeof(b)), "true");
	cr_expect_neq(cluster_env_str(vsc, "status.creationTime", b, sizeof(b))[0], 0);
	cJSON_Delete(vsc);
	cr_expect(cluster_env_has_snapshot(&E, 0, "svm-a", internal, snap));

	/* Deleting the VolumeSnapshot deletes the content and (Delete policy) the snapshot. */
	cluster_env_delete(&E.a, &mg_k8s_res_vs, "app", "snap1");
	cr_expect(cluster_env_wait_gone(&E.a, &mg_k8s_res_vsc, NULL, content, 10000));
	cr_expect_not(cluster_env_has_snapshot(&E, 0, "svm-a", internal, snap));
	assert_no_loss();
}

Test(kube_provisioner, snapshot_of_an_unbound_claim_or_unknown_class_waits)
{
	setup_a();
	pvc(&E.a, "pending", "1Gi", "later", NULL);
	snapshot(&E.a, "s1", "pending");
	cr_expect(cluster_env_wait_event(&E.a, "app", "s1", "SnapshotCreationFailed", 1, 10000));
	cluster_env_create(&E.a, &mg_k8s_res_vs, "app",
			   "apiVersion: snapshot.storage.k8s.io/v1\nkind: VolumeSnapshot\n"
			   "metadata: {name: s2, namespace: app}\n"
			   "spec: {volumeSnapshotClassName: nope, source: {persistentVolumeClaimName: "
			   "pending}}\n");
	cr_expect(cluster_env_wait_event(&E.a, "app", "s2", "GetSnapshotClassFailed", 1, 10000));
	cr_expect_str_eq(field(&E.a, &mg_k8s_res_vs, "app", "s1", "status.readyToUse"), "");
	assert_no_loss();
}

Test(kube_provisioner, deleting_the_claim_deletes_pv_and_volume)
{
	setup_a();
	pvc(&E.a, "data", "1Gi", "trident", NULL);
	pvc(&E.a, "kept", "1Gi", "trident", NULL);
	wait_bound(&E.a, "data");
	wait_bound(&E.a, "kept");
	char pv_name[128], internal[256];
	snprintf(pv_name, sizeof(pv_name), "%s",
		 field(&E.a, &mg_k8s_res_pvc, "app", "data", "spec.volumeName"));
	internal_for(&E.a, "data", internal, sizeof(internal));
	cluster_env_delete(&E.a, &mg_k8s_res_pvc, "app", "data");
	cr_assert(cluster_env_wait_gone(&E.a, &mg_k8s_res_pv, NULL, pv_name, 10000));
	cr_expect_not(cluster_env_volume(&E, 0, "svm-a", internal, NULL, 0));
	cr_expect_eq(cluster_env_count_volumes(&E, 0, "trident_"), 1, "the other claim's stays");
	assert_only_volume_deletes(1);
}

Test(kube_provisioner, deleting_a_claim_with_data_records_only_that_user_requested_loss)
{
	setup_a();
	pvc(&E.a, "data", "1Gi", "trident", NULL);
	wait_bound(&E.a, "data");
	char internal[256], path[300];
	internal_for(&E.a, "data", internal, sizeof(internal));
	snprintf(path, sizeof(path), "{\"cluster\":\"cluster-a\",\"path\":\"svm-a:%s\"}", internal);
	cr_assert_eq(ontap_sim_control(&E.ontap, "POST", "volumes/write", path, NULL), 200);
	cluster_env_delete(&E.a, &mg_k8s_res_pvc, "app", "data");
	for (int i = 0; i < 200 && cluster_env_volume(&E, 0, "svm-a", internal, NULL, 0); i++)
		nap(50);
	cr_assert_not(cluster_env_volume(&E, 0, "svm-a", internal, NULL, 0));
	assert_only_volume_deletes(1);
}

Test(kube_provisioner, snapmirror_source_volume_deletion_is_refused_and_retried)
{
	setup_a();
	pvc(&E.a, "data", "1Gi", "trident", NULL);
	wait_bound(&E.a, "data");
	char internal[256], src[300], dst[300], pv_name[128];
	internal_for(&E.a, "data", internal, sizeof(internal));
	snprintf(pv_name, sizeof(pv_name), "%s",
		 field(&E.a, &mg_k8s_res_pvc, "app", "data", "spec.volumeName"));
	/* someone mirrors it to cluster-b */
	mg_ontap_volume_spec spec = {"svm-b", "mirror_dst", "dp", 1073741824ULL, NULL};
	mg_ontap_error err;
	cr_assert_eq(mg_ontap_volume_create(E.ontap_client[1], &spec, NULL, &err), 0, "%s", err.message);
	snprintf(src, sizeof(src), "svm-a:%s", internal);
	snprintf(dst, sizeof(dst), "svm-b:mirror_dst");
	mg_ontap_relationship_spec rs = {src, dst, "MirrorAllSnapshots", NULL};
	char uuid[MG_ONTAP_UUID_MAX];
	cr_assert_eq(mg_ontap_relationship_create(E.ontap_client[1], &rs, uuid, &err), 0, "%s",
		     err.message);
	cluster_env_delete(&E.a, &mg_k8s_res_pvc, "app", "data");
	cr_assert(cluster_env_wait_event(&E.a, NULL, pv_name, "VolumeFailedDelete", 2, 10000));
	char m[1024];
	cluster_env_event_message(&E.a, NULL, pv_name, "VolumeFailedDelete", m, sizeof(m));
	cr_expect(strstr(m, "source endpoint of one or more SnapMirror relationships"), "%s", m);
	cr_expect_str_eq(field(&E.a, &mg_k8s_res_pv, NULL, pv_name, "status.phase"), "Released");
	cr_expect(cluster_env_volume(&E, 0, "svm-a", internal, NULL, 0));
	/* the relationship goes: the retry succeeds */
	cr_assert_eq(mg_ontap_relationship_delete(E.ontap_client[1], uuid, MG_ONTAP_DELETE_BOTH, &err),
		     0, "%s", err.message);
	cr_expect(cluster_env_wait_gone(&E.a, &mg_k8s_res_pv, NULL, pv_name, 10000));
	cr_expect_not(cluster_env_volume(&E, 0, "svm-a", internal, NULL, 0));
	assert_only_volume_deletes(1);
}

/* Position of the first logged ONTAP request whose method is `method` and whose path
 * contains `needle` (-1: none). */
static int request_index(const char *method, const char *needle)
{
	cJSON *log = NULL;
	cr_assert_eq(ontap_sim_control(&E.ontap, "GET", "requests", NULL, &log), 200);
	int i = 0, found = -1;
	const cJSON *it;
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(log, "requests"))
	{
		const char *m = cJSON_GetStringValue(cJSON_GetObjectItem(it, "method"));
		const char *path = cJSON_GetStringValue(cJSON_GetObjectItem(it, "path"));
		if (found < 0 && m && path && strcmp(m, method) == 0 && strstr(path, needle))
			found = i;
		i++;
	}
	cJSON_Delete(log);
	return found;
}

/* As real Trident: the volume of a replicated claim loses its relationships first. After a
 * failover (the destination broke and deleted its side), the old source still holds the
 * source-side record, which ONTAP would refuse the delete for (18436): the provisioner
 * releases it (source_only) and only then destroys the volume. */
Test(kube_provisioner, replicated_source_is_released_before_its_volume_is_deleted)
{
	setup_a();
	pvc(&E.a, "data", "1Gi", "trident", NULL);
	wait_bound(&E.a, "data");
	char internal[256], src[300], pv_name[128];
	internal_for(&E.a, "data", internal, sizeof(internal));
	snprintf(pv_name, sizeof(pv_name), "%s",
		 field(&E.a, &mg_k8s_res_pvc, "app", "data", "spec.volumeName"));
	mg_ontap_volume_spec spec = {"svm-b", "mirror_dst", "dp", 1073741824ULL, NULL};
	mg_ontap_error err;
	cr_assert_eq(mg_ontap_volume_create(E.ontap_client[1], &spec, NULL, &err), 0, "%s",
		     err.message);
	snprintf(src, sizeof(src), "svm-a:%s", internal);
	mg_ontap_relationship_spec rs = {src, "svm-b:mirror_dst", "MirrorAllSnapshots", NULL};
	char uuid[MG_ONTAP_UUID_MAX];
	cr_assert_eq(mg_ontap_relationship_create(E.ontap_client[1], &rs, uuid, &err), 0, "%s",
		     err.message);
	cr_assert_eq(mg_ontap_transfer_start(E.ontap_client[1], uuid, NULL, NULL, &err), 0, "%s",
		     err.message);
	/* the baseline gives the source its source-side record */
	mg_ontap_relationship_list l = {0};
	for (int i = 0; i < 100; i++) {
		mg_ontap_relationship_list_free(&l);
		memset(&l, 0, sizeof(l));
		cr_assert_eq(mg_ontap_relationship_list_destinations(E.ontap_client[0], src, &l, &err),
			     0, "%s", err.message);
		if (l.len == 1 && strcmp(l.items[0].state, "snapmirrored") == 0)
			break;
		usleep(50000);
	}
	cr_assert_eq(l.len, 1);
	mg_ontap_relationship_list_free(&l);
	/* the failover: B breaks and deletes its side only */
	mg_ontap_state_change br = {"broken_off", NULL, false, false};
	cr_assert_eq(mg_ontap_relationship_set_state(E.ontap_client[1], uuid, &br, &err), 0, "%s",
		     err.message);
	cr_assert_eq(mg_ontap_relationship_delete(E.ontap_client[1], uuid,
						  MG_ONTAP_DELETE_DESTINATION_ONLY, &err),
		     0, "%s", err.message);
	cluster_env_delete(&E.a, &mg_k8s_res_pvc, "app", "data");
	cr_expect(cluster_env_wait_gone(&E.a, &mg_k8s_res_pv, NULL, pv_name, 10000),
		  "the PV never went");
	cr_expect_not(cluster_env_volume(&E, 0, "svm-a", internal, NULL, 0));
	cr_expect_eq(cluster_env_events(&E.a, NULL, pv_name, "VolumeFailedDelete"), 0);
	int release = request_index("DELETE", "source_only=true");
	int destroy = request_index("DELETE", "/api/storage/volumes/");
	cr_expect_geq(release, 0, "no release");
	cr_expect_gt(destroy, release, "the volume went before the release");
	/* B's promoted copy is untouched */
	char type[16] = "";
	cr_expect(cluster_env_volume(&E, 1, "svm-b", "mirror_dst", type, sizeof(type)));
	cr_expect_str_eq(type, "rw");
	assert_only_volume_deletes(0); /* no client writes on A: nothing was lost */
}

Test(kube_provisioner, retain_keeps_the_volume_and_a_released_pv)
{
	setup_a();
	cluster_env_create(&E.a, &mg_k8s_res_sc, NULL,
			   "apiVersion: storage.k8s.io/v1\nkind: StorageClass\n"
			   "metadata: {name: keep}\nprovisioner: csi.trident.netapp.io\n"
			   "reclaimPolicy: Retain\n");
	pvc(&E.a, "data", "1Gi", "keep", NULL);
	wait_bound(&E.a, "data");
	char internal[256], pv_name[128];
	internal_for(&E.a, "data", internal, sizeof(internal));
	snprintf(pv_name, sizeof(pv_name), "%s",
		 field(&E.a, &mg_k8s_res_pvc, "app", "data", "spec.volumeName"));
	cluster_env_delete(&E.a, &mg_k8s_res_pvc, "app", "data");
	cr_expect(cluster_env_wait_field(&E.a, &mg_k8s_res_pv, NULL, pv_name, "status.phase",
					 "Released", 10000));
	nap(600);
	cr_expect(cluster_env_volume(&E, 0, "svm-a", internal, NULL, 0));
	cr_expect_str_eq(field(&E.a, &mg_k8s_res_pv, NULL, pv_name, "status.phase"), "Released");
	assert_no_loss();
}

static void expect_refused(const char *text, const char *want)
{
	char dir[] = "/tmp/mg-prov-bad-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char file[128];
	snprintf(file, sizeof(file), "%s/p.yaml", dir);
	FILE *f = fopen(file, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	const char *argv[] = {MG_BIN_DIR "/kube-sim", "--provisioner", file, NULL};
	char *out = NULL;
	int st = kube_run(&out, 10000, argv, NULL);
	cr_expect_eq(st, 2, "exit %d for:\n%s\n%s", st, text, out);
	cr_expect(out && strstr(out, want), "want \"%s\" in: %s", want, out);
	cr_expect(!out || !strstr(out, "s3cret"), "the password leaked: %s", out);
	free(out);
	unlink(file);
	rmdir(dir);
}

Test(kube_provisioner, bad_provisioner_file_exits_with_a_clear_message)
{
	const char *argv[] = {MG_BIN_DIR "/kube-sim", "--provisioner", "/nonexistent/p.yaml", NULL};
	char *out = NULL;
	cr_expect_eq(kube_run(&out, 10000, argv, NULL), 2);
	cr_expect(out && strstr(out, "cannot read /nonexistent/p.yaml"), "%s", out);
	free(out);
	expect_refused("backends: []\n", "backends: a non-empty list is required");
	expect_refused("backends: [{name: a, managementLIF: http://x, svm: s, password: s3cret, "
		       "trustedCAFile: /ca}]\n",
		       "backends[0]: managementLIF must be an https:// URL");
	expect_refused("backends: [{name: a, managementLIF: https://x, svm: s, trustedCAFile: /ca}]\n",
		       "backends[0]: exactly one of password and passwordFile is required");
	expect_refused("backends: [{name: a, managementLIF: https://x, svm: s, password: s3cret, "
		       "trustedCAFile: /ca, color: red}]\n",
		       "backends[0]: unknown field color");
	expect_refused("backends: [{name: a, managementLIF: https://x, svm: s, password: s3cret}]\n",
		       "backends[0]: trustedCAFile is required");
	expect_refused("backends: [{name: a, managementLIF: https://x, svm: s, password: s3cret, "
		       "trustedCAFile: /ca}, {name: a, managementLIF: https://y, svm: t, password: "
		       "s3cret, trustedCAFile: /ca}]\n",
		       "backends: duplicate name a");
	expect_refused("backends: [{name: a, managementLIF: https://x, svm: s, passwordFile: "
		       "/nonexistent/pw, trustedCAFile: /ca}]\n",
		       "cannot read passwordFile /nonexistent/pw");
	expect_refused("backends: [{name: a, managementLIF: https://x, svm: s, password: s3cret, "
		       "trustedCAFile: /ca}]\nsettings: {retryBaseMs: -5}\n",
		       "settings: retryBaseMs must be a whole number");
	expect_refused("backends: [\n", "line ");
}

Test(kube_provisioner, unusable_ca_file_stops_start_up)
{
	/* well-formed, but the CA file cannot be read: refused at start, not at each call */
	char dir[] = "/tmp/mg-prov-ca-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char file[128];
	snprintf(file, sizeof(file), "%s/p.yaml", dir);
	const char *text = "backends: [{name: a, managementLIF: \"https://127.0.0.1:1\", svm: s, "
			   "password: s3cret, trustedCAFile: /nonexistent/ca.pem}]\n";
	FILE *f = fopen(file, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	const char *argv[] = {MG_BIN_DIR "/kube-sim", "--provisioner", file, NULL};
	char *out = NULL;
	int st = kube_run(&out, 10000, argv, NULL);
	cr_expect_eq(st, 1, "%s", out);
	cr_expect(out && strstr(out, "backend a: cannot read trustedCAFile /nonexistent/ca.pem"),
		  "%s", out);
	cr_expect(!out || !strstr(out, "s3cret"), "%s", out);
	free(out);
	unlink(file);
	rmdir(dir);
}
