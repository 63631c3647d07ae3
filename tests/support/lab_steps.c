#include "lab_steps.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mirrorgate/util/strbuf.h"

const char *lab_field(cluster_side *s, const mg_k8s_resource *r, const char *name,
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

void lab_expect_tmr(cluster_side *s, const char *tmr, const char *state)
{
	cr_assert(cluster_env_wait_tmr(s, tmr, state, 30000),
		  "TMR %s: state '%s' message '%s' (want %s); logs %s", tmr,
		  cluster_env_cond(s, tmr, "state"), cluster_env_cond(s, tmr, "message"), state,
		  s->rec.log);
	cr_expect(cluster_env_wait_event(s, "app", tmr, state, 1, 5000),
		  "no Normal %s Event on TMR %s", state, tmr);
}

void lab_expect_type(cluster_env *e, int cluster, const char *svm, const char *volume,
		     const char *want)
{
	char type[16] = "";
	cr_assert(cluster_env_volume(e, cluster, svm, volume, type, sizeof(type)), "%s:%s gone",
		  svm, volume);
	cr_expect_str_eq(type, want, "%s:%s", svm, volume);
}

void lab_expect_ledger(cluster_env *e, int n, long generation)
{
	char *text = NULL;
	int got = cluster_env_ledger(e, &text);
	cr_expect_eq(got, n, "data-loss ledger: %s", text);
	if (n == 1 && got == 1 && generation > 0) {
		char want[64];
		snprintf(want, sizeof(want), "\"generation\":%ld,", generation);
		cr_expect(strstr(text, want), "want generation %ld lost, ledger %s", generation,
			  text);
	}
	free(text);
}

cluster_env lab;

void lab_setup(void)
{
	cluster_env_start_lab(&lab, "app");
}

void lab_teardown(void)
{
	cluster_env_stop(&lab);
}

static void pv_and_handle(cluster_side *s, char *pv, size_t pv_len, char *vol, size_t vol_len,
			  char *handle, size_t handle_len)
{
	snprintf(pv, pv_len, "%s", lab_field(s, &mg_k8s_res_pvc, "data", "spec.volumeName"));
	snprintf(vol, vol_len, "%s",
		 lab_field(s, &mg_k8s_res_pv, pv, "spec.csi.volumeAttributes.internalName"));
	snprintf(handle, handle_len, "%s:%s", s->svm, vol);
}

void lab_make_mirror(cluster_env *e, lab_mirror *m)
{
	memset(m, 0, sizeof(*m));
	cluster_env_mirror(e, "data", m->vol_a, sizeof(m->vol_a), m->vol_b, sizeof(m->vol_b));
	pv_and_handle(&e->a, m->pv_a, sizeof(m->pv_a), m->vol_a, sizeof(m->vol_a), m->handle_a,
		      sizeof(m->handle_a));
	pv_and_handle(&e->b, m->pv_b, sizeof(m->pv_b), m->vol_b, sizeof(m->vol_b), m->handle_b,
		      sizeof(m->handle_b));
	lab_expect_tmr(&e->a, "mirror", "promoted");
	lab_expect_tmr(&e->b, "mirror", "established");
	cr_expect_str_eq(cluster_env_cond(&e->b, "mirror", "localVolumeHandle"), m->handle_b);
	lab_expect_type(e, 0, "svm-a", m->vol_a, "rw");
	lab_expect_type(e, 1, "svm-b", m->vol_b, "dp");
	/* both sides record the relationship in their claim's history: B as destination, A
	 * (learnt from ONTAP by A's reconciler) as source; failback is admitted from them */
	cr_assert(lab_wait_history(&e->b, "data", "destination", m->handle_a),
		  "B's claim has no destination history entry for %s: %s", m->handle_a,
		  lab_field(&e->b, &mg_k8s_res_pvc, "data", LAB_HISTORY));
	cr_assert(lab_wait_history(&e->a, "data", "source", m->handle_b),
		  "A's claim has no source history entry for %s: %s; logs %s", m->handle_b,
		  lab_field(&e->a, &mg_k8s_res_pvc, "data", LAB_HISTORY), e->a.rec.log);
}

bool lab_wait_history(cluster_side *s, const char *claim, const char *role, const char *remote)
{
	char r[64];
	snprintf(r, sizeof(r), "\"role\":\"%s\"", role);
	for (int t = 0; t < 200; t++) {
		const char *h = lab_field(s, &mg_k8s_res_pvc, claim, LAB_HISTORY);
		if (strstr(h, r) && strstr(h, remote))
			return true;
		struct timespec ts = {0, 50 * 1000000L};
		nanosleep(&ts, NULL);
	}
	return false;
}

int lab_move(cluster_side *s, char **out, const char *state, const char *remote,
	     const char *promoted_snapshot)
{
	char snap[600] = "";
	if (promoted_snapshot)
		snprintf(snap, sizeof(snap), ",\"promotedSnapshotHandle\":\"%s\"", promoted_snapshot);
	char *patch = mg_asprintf("{\"spec\":{\"state\":\"%s\",\"volumeMappings\":[{\"localPVCName\":"
				  "\"data\",\"remoteVolumeHandle\":\"%s\"%s}]}}",
				  state, remote, snap);
	int rc = cluster_env_kpatch(s, out, "tmr", "mirror", patch);
	free(patch);
	return rc;
}

void lab_snapshot(cluster_side *s, const char *name, char *handle, size_t len)
{
	char y[1024];
	snprintf(y, sizeof(y),
		 "apiVersion: snapshot.storage.k8s.io/v1\nkind: VolumeSnapshot\n"
		 "metadata: {name: %s, namespace: app}\n"
		 "spec:\n  volumeSnapshotClassName: trident-snapclass\n"
		 "  source: {persistentVolumeClaimName: data}\n",
		 name);
	cluster_env_create(s, &mg_k8s_res_vs, "app", y);
	cr_assert(cluster_env_wait_field(s, &mg_k8s_res_vs, "app", name, "status.readyToUse", "true",
					 15000),
		  "VolumeSnapshot %s never ready", name);
	snprintf(y, sizeof(y),
		 "apiVersion: trident.netapp.io/v1\nkind: TridentSnapshotInfo\n"
		 "metadata: {name: %s-info, namespace: app}\nspec: {snapshotName: %s}\n",
		 name, name);
	cluster_env_create(s, &mg_k8s_res_tsi, "app", y);
	char want[400], info[300];
	snprintf(want, sizeof(want), "%s/snapshot-%s",
		 lab_field(s, &mg_k8s_res_pvc, "data", "spec.volumeName"),
		 lab_field(s, &mg_k8s_res_vs, name, "metadata.uid"));
	snprintf(info, sizeof(info), "%s-info", name);
	cr_assert(cluster_env_wait_field(s, &mg_k8s_res_tsi, "app", info, "status.snapshotHandle",
					 want, 15000),
		  "TSI %s: handle '%s', want %s; logs %s", info,
		  lab_field(s, &mg_k8s_res_tsi, info, "status.snapshotHandle"), want, s->rec.log);
	snprintf(handle, len, "%s", want);
}

void lab_update(cluster_side *s, const char *name, const char *handle)
{
	char y[1024], h[600] = "";
	if (handle)
		snprintf(h, sizeof(h), ", snapshotHandle: \"%s\"", handle);
	snprintf(y, sizeof(y),
		 "apiVersion: trident.netapp.io/v1\nkind: TridentActionMirrorUpdate\n"
		 "metadata: {name: %s, namespace: app}\n"
		 "spec: {tridentMirrorRelationshipName: mirror%s}\n",
		 name, h);
	cluster_env_create(s, &mg_k8s_res_tamu, "app", y);
	cr_assert(cluster_env_wait_field(s, &mg_k8s_res_tamu, "app", name, "status.state",
					 "Succeeded", 20000),
		  "TAMU %s: state '%s' message '%s'; logs %s", name,
		  lab_field(s, &mg_k8s_res_tamu, name, "status.state"),
		  lab_field(s, &mg_k8s_res_tamu, name, "status.message"), s->rec.log);
}
