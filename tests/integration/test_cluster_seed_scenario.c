/* The seed scenario end to end on two simulated clusters, with no volume or PV made by test
 * code: kube-sim A and kube-sim B each run the built-in Trident-like provisioner (A on
 * cluster-a/svm-a, B on cluster-b/svm-b) and a real mirrorgate-reconciler binary. A's PVC
 * gets a RW volume; B's annotated PVC gets a DP volume; B's reconciler establishes; a
 * VolumeSnapshot and a TSI on A give a handle; a TAMU on B brings that snapshot over; a
 * planned failover promotes B to that snapshot; failback reestablishes A from B, then
 * moves the roles back. The data-loss ledger is asserted at each stage. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster_env.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/k8s/client.h"

static cluster_env E;

static void setup(void)
{
	cluster_env_start_with_reconcilers(&E, "app");
}

static void teardown(void)
{
	cluster_env_stop(&E);
}

TestSuite(cluster_seed_scenario, .init = setup, .fini = teardown, .timeout = 180);

static const char *field(cluster_side *s, const mg_k8s_resource *r, const char *name,
			 const char *path)
{
	static char buf[4][1024];
	static int i;
	char *b = buf[i++ % 4];
	cJSON *o = cluster_env_get(s, r, r->namespaced ? "app" : NULL, name);
	cluster_env_str(o, path, b, 1024);
	cJSON_Delete(o);
	return b;
}

static const char *cond(cluster_side *s, const char *tmr, const char *f)
{
	static char buf[1024];
	cJSON *o = cluster_env_get(s, &mg_k8s_res_tmr, "app", tmr);
	const cJSON *c = cJSON_GetArrayItem(
		cJSON_GetObjectItem(cJSON_GetObjectItem(o, "status"), "conditions"), 0);
	const cJSON *v = cJSON_GetObjectItem(c, f);
	snprintf(buf, sizeof(buf), "%s", cJSON_IsString(v) ? v->valuestring : "");
	cJSON_Delete(o);
	return buf;
}

static void nap(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static bool wait_tmr(cluster_side *s, const char *tmr, const char *state, long timeout_ms)
{
	for (long t = 0; t <= timeout_ms; t += 100) {
		if (strcmp(cond(s, tmr, "state"), state) == 0)
			return true;
		nap(100);
	}
	return false;
}

#define ASSERT_TMR(s, name, state)                                                           \
	cr_assert(wait_tmr((s), (name), (state), 30000),                                      \
		  "TMR %s: state '%s' message '%s' (want %s); logs %s", (name),               \
		  cond((s), (name), "state"), cond((s), (name), "message"), (state), (s)->rec.log)

static void internal_of(cluster_side *s, const char *claim, char *out, size_t len)
{
	const char *pv = field(s, &mg_k8s_res_pvc, claim, "spec.volumeName");
	snprintf(out, len, "%s", field(s, &mg_k8s_res_pv, pv, "spec.csi.volumeAttributes.internalName"));
}

static void ledger(int expect)
{
	char *text = NULL;
	cr_expect_eq(cluster_env_ledger(&E, &text), expect, "data-loss ledger: %s", text);
	free(text);
}

static long write_on(const char *cluster, const char *svm, const char *volume)
{
	char body[512];
	snprintf(body, sizeof(body), "{\"cluster\":\"%s\",\"path\":\"%s:%s\"}", cluster, svm, volume);
	cJSON *out = NULL;
	cr_assert_eq(ontap_sim_control(&E.ontap, "POST", "volumes/write", body, &out), 200, "%s", body);
	long g = (long)cJSON_GetNumberValue(cJSON_GetObjectItem(out, "generation"));
	cJSON_Delete(out);
	return g;
}

static void create(cluster_side *s, const mg_k8s_resource *r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void create(cluster_side *s, const mg_k8s_resource *r, const char *fmt, ...)
{
	char y[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(y, sizeof(y), fmt, ap);
	va_end(ap);
	cluster_env_create(s, r, "app", y);
}

/* Moves side's TMR "mirror" (PVC data) to `state` with this remote handle (and promoted
 * snapshot, may be NULL). */
static void move_tmr(cluster_side *side, const char *state, const char *remote,
		     const char *promoted_snapshot)
{
	char snap[600] = "", patch[1200];
	if (promoted_snapshot)
		snprintf(snap, sizeof(snap), ",\"promotedSnapshotHandle\":\"%s\"",
			 promoted_snapshot);
	snprintf(patch, sizeof(patch),
		 "{\"spec\":{\"state\":\"%s\",\"volumeMappings\":[{\"localPVCName\":\"data\","
		 "\"remoteVolumeHandle\":\"%s\"%s}]}}",
		 state, remote, snap);
	cluster_env_patch(side, &mg_k8s_res_tmr, "app", "mirror", patch);
}

/* The FlexVol exists on ontap-sim cluster `cluster` and has this type (rw or dp). */
static void expect_type(int cluster, const char *svm, const char *volume, const char *want)
{
	char type[16] = "";
	cr_assert(cluster_env_volume(&E, cluster, svm, volume, type, sizeof(type)), "%s:%s", svm,
		  volume);
	cr_expect_str_eq(type, want, "%s:%s", svm, volume);
}

Test(cluster_seed_scenario, replicate_update_fail_over_and_fail_back)
{
	/* 1. The application's claim on A: the provisioner makes a RW volume on svm-a. */
	create(&E.a, &mg_k8s_res_pvc,
	       "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data, namespace: app}\n"
	       "spec:\n  accessModes: [ReadWriteMany]\n  resources: {requests: {storage: 1Gi}}\n"
	       "  storageClassName: trident\n");
	cr_assert(cluster_env_wait_field(&E.a, &mg_k8s_res_pvc, "app", "data", "status.phase",
					 "Bound", 15000));
	char vol_a[256], vol_b[256];
	internal_of(&E.a, "data", vol_a, sizeof(vol_a));
	expect_type(0, "svm-a", vol_a, "rw");
	long g1 = write_on("cluster-a", "svm-a", vol_a);

	/* 2. A's TMR: the source side, promoted, no remote handle. */
	create(&E.a, &mg_k8s_res_tmr,
	       "apiVersion: trident.netapp.io/v1\nkind: TridentMirrorRelationship\n"
	       "metadata: {name: mirror, namespace: app}\n"
	       "spec:\n  state: promoted\n  replicationPolicy: MirrorAllSnapshots\n"
	       "  volumeMappings:\n  - localPVCName: data\n");
	ASSERT_TMR(&E.a, "mirror", "promoted");
	char handle_a[300];
	snprintf(handle_a, sizeof(handle_a), "svm-a:%s", vol_a);
	cr_expect_str_eq(cond(&E.a, "mirror", "localVolumeHandle"), handle_a);

	/* 3. B's TMR (established, remote = A's volume) and B's annotated claim: a DP volume,
	 * then B's reconciler establishes the mirror. */
	create(&E.b, &mg_k8s_res_tmr,
	       "apiVersion: trident.netapp.io/v1\nkind: TridentMirrorRelationship\n"
	       "metadata: {name: mirror, namespace: app}\n"
	       "spec:\n  state: established\n  replicationPolicy: MirrorAllSnapshots\n"
	       "  replicationSchedule: 5min\n"
	       "  volumeMappings:\n  - localPVCName: data\n    remoteVolumeHandle: %s\n",
	       handle_a);
	create(&E.b, &mg_k8s_res_pvc,
	       "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\n"
	       "  namespace: app\n  annotations: {trident.netapp.io/mirrorRelationship: mirror}\n"
	       "spec:\n  accessModes: [ReadWriteMany]\n  resources: {requests: {storage: 1Gi}}\n"
	       "  storageClassName: trident\n");
	cr_assert(cluster_env_wait_field(&E.b, &mg_k8s_res_pvc, "app", "data", "status.phase",
					 "Bound", 15000));
	internal_of(&E.b, "data", vol_b, sizeof(vol_b));
	expect_type(1, "svm-b", vol_b, "dp");
	ASSERT_TMR(&E.b, "mirror", "established");
	char handle_b[300];
	snprintf(handle_b, sizeof(handle_b), "svm-b:%s", vol_b);
	cr_expect_str_eq(cond(&E.b, "mirror", "localVolumeHandle"), handle_b);
	ledger(0);

	/* 4. More writes on A, then a VolumeSnapshot and a TSI on A: the handle. */
	long g2 = write_on("cluster-a", "svm-a", vol_a);
	cr_expect_gt(g2, g1);
	create(&E.a, &mg_k8s_res_vs,
	       "apiVersion: snapshot.storage.k8s.io/v1\nkind: VolumeSnapshot\n"
	       "metadata: {name: snap1, namespace: app}\n"
	       "spec:\n  volumeSnapshotClassName: trident-snapclass\n"
	       "  source: {persistentVolumeClaimName: data}\n");
	cr_assert(cluster_env_wait_field(&E.a, &mg_k8s_res_vs, "app", "snap1", "status.readyToUse",
					 "true", 15000));
	create(&E.a, &mg_k8s_res_tsi,
	       "apiVersion: trident.netapp.io/v1\nkind: TridentSnapshotInfo\n"
	       "metadata: {name: snap1-info, namespace: app}\nspec: {snapshotName: snap1}\n");
	char snap[128], handle[400];
	snprintf(snap, sizeof(snap), "snapshot-%s", field(&E.a, &mg_k8s_res_vs, "snap1", "metadata.uid"));
	snprintf(handle, sizeof(handle), "%s/%s", field(&E.a, &mg_k8s_res_pvc, "data", "spec.volumeName"),
		 snap);
	cr_assert(cluster_env_wait_field(&E.a, &mg_k8s_res_tsi, "app", "snap1-info",
					 "status.snapshotHandle", handle, 15000),
		  "TSI handle '%s', want %s; logs %s",
		  field(&E.a, &mg_k8s_res_tsi, "snap1-info", "status.snapshotHandle"), handle,
		  E.a.rec.log);

	/* 5. A TAMU on B with that handle: Succeeded, and the snapshot is on B. It may end in
	 * the same whole second as the baseline transfer: the reconciler knows its transfer by
	 * uuid, so no pause is needed here. */
	create(&E.b, &mg_k8s_res_tamu,
	       "apiVersion: trident.netapp.io/v1\nkind: TridentActionMirrorUpdate\n"
	       "metadata: {name: update1, namespace: app}\n"
	       "spec: {tridentMirrorRelationshipName: mirror, snapshotHandle: \"%s\"}\n",
	       handle);
	cr_assert(cluster_env_wait_field(&E.b, &mg_k8s_res_tamu, "app", "update1", "status.state",
					 "Succeeded", 20000),
		  "TAMU state '%s' message '%s'; logs %s",
		  field(&E.b, &mg_k8s_res_tamu, "update1", "status.state"),
		  field(&E.b, &mg_k8s_res_tamu, "update1", "status.message"), E.b.rec.log);
	cr_expect(cluster_env_has_snapshot(&E, 1, "svm-b", vol_b, snap));
	ledger(0);

	/* 6. Planned failover: B promoted to the snapshot → B's volume is RW. */
	move_tmr(&E.b, "promoted", handle_a, handle);
	ASSERT_TMR(&E.b, "mirror", "promoted");
	expect_type(1, "svm-b", vol_b, "rw");
	write_on("cluster-b", "svm-b", vol_b); /* the application now runs on B */
	ledger(0);

	/* 7. Failback, as Trident documents it: A's TMR reestablished with B as its remote;
	 * A's volume becomes B's destination (resync from B). Nothing written on A after the
	 * snapshot, so the resync discards nothing. */
	move_tmr(&E.a, "reestablished", handle_b, NULL);
	ASSERT_TMR(&E.a, "mirror", "reestablished");
	expect_type(0, "svm-a", vol_a, "dp");
	ledger(0);

	/* 8. Roles back: promote A (B stops writing first), then B reestablished from A. */
	move_tmr(&E.a, "promoted", handle_b, NULL);
	ASSERT_TMR(&E.a, "mirror", "promoted");
	expect_type(0, "svm-a", vol_a, "rw");
	move_tmr(&E.b, "reestablished", handle_a, NULL);
	ASSERT_TMR(&E.b, "mirror", "reestablished");
	expect_type(1, "svm-b", vol_b, "dp");
	write_on("cluster-a", "svm-a", vol_a);
	ledger(0);
}
