/* Deletion across the two simulated clusters, with the provisioner and real reconcilers:
 * deleting the source claim of a live mirror. The claim goes (nothing holds a source claim
 * whose TMR has no remote), its PV is Released, and ONTAP refuses to delete a volume that is
 * a SnapMirror source: Warning VolumeFailedDelete, retried with backoff, the mirror and the
 * data untouched. Once the relationship is gone from both sides the retry deletes the
 * volume. The ledger then holds exactly one entry: the write made on A after the last
 * transfer, which existed nowhere else and went with the volume the user asked to delete;
 * everything older lives on in B's promoted copy. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_env.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/k8s/client.h"
#include "mirrorgate/ontap/snapmirror.h"

static cluster_env E;

static void setup(void)
{
	cluster_env_start_with_reconcilers(&E, "app");
}

static void teardown(void)
{
	cluster_env_stop(&E);
}

TestSuite(cluster_deletion, .init = setup, .fini = teardown, .timeout = 180);

static void ledger(int expect)
{
	char *text = NULL;
	cr_expect_eq(cluster_env_ledger(&E, &text), expect, "data-loss ledger: %s", text);
	free(text);
}

Test(cluster_deletion, source_claim_of_a_live_mirror_keeps_its_volume_until_released)
{
	char vol_a[256], vol_b[256], body[512], pv[128];
	cluster_env_mirror(&E, "data", vol_a, sizeof(vol_a), vol_b, sizeof(vol_b));
	snprintf(body, sizeof(body), "{\"cluster\":\"cluster-a\",\"path\":\"svm-a:%s\"}", vol_a);
	cJSON *w = NULL;
	cr_assert_eq(ontap_sim_control(&E.ontap, "POST", "volumes/write", body, &w), 200);
	long gen = (long)cJSON_GetNumberValue(cJSON_GetObjectItem(w, "generation"));
	cJSON_Delete(w);
	cJSON *c = cluster_env_get(&E.a, &mg_k8s_res_pvc, "app", "data");
	cluster_env_str(c, "spec.volumeName", pv, sizeof(pv));
	cJSON_Delete(c);

	cluster_env_delete(&E.a, &mg_k8s_res_pvc, "app", "data");
	cr_assert(cluster_env_wait_event(&E.a, NULL, pv, "VolumeFailedDelete", 2, 15000),
		  "no VolumeFailedDelete on %s", pv);
	char m[1024];
	cluster_env_event_message(&E.a, NULL, pv, "VolumeFailedDelete", m, sizeof(m));
	cr_expect(strstr(m, "source endpoint of one or more SnapMirror relationships"), "%s", m);
	cr_expect(cluster_env_wait_field(&E.a, &mg_k8s_res_pv, NULL, pv, "status.phase", "Released",
					 5000));
	cr_expect(cluster_env_volume(&E, 0, "svm-a", vol_a, NULL, 0));
	cr_expect_str_eq(cluster_env_cond(&E.b, "mirror", "state"), "established");
	ledger(0);

	/* The mirror is taken down on B (its TMR deleted: promoted first, research 3.6), and
	 * the source side released on A by hand, as a storage admin would. */
	cluster_env_delete(&E.b, &mg_k8s_res_tmr, "app", "mirror");
	cr_assert(cluster_env_wait_gone(&E.b, &mg_k8s_res_tmr, "app", "mirror", 30000),
		  "B's TMR never went; see %s", E.b.rec.log);
	char type[16] = "";
	cr_assert(cluster_env_volume(&E, 1, "svm-b", vol_b, type, sizeof(type)));
	cr_expect_str_eq(type, "rw", "B's copy was promoted, not lost");
	mg_ontap_relationship_list rels = {0};
	mg_ontap_error err;
	char src[300];
	snprintf(src, sizeof(src), "svm-a:%s", vol_a);
	mg_ontap_relationship_filter f = {src, NULL, true};
	int rc = mg_ontap_relationships(E.ontap_client[0], &f, &rels, &err);
	cr_assert_eq(rc, 0, "%s", err.message);
	for (size_t i = 0; i < rels.len; i++)
		cr_expect_eq(mg_ontap_relationship_delete(E.ontap_client[0], rels.items[i].uuid,
							  MG_ONTAP_DELETE_SOURCE_ONLY, &err),
			     0, "%s", err.message);
	mg_ontap_relationship_list_free(&rels);
	cr_expect(cluster_env_wait_gone(&E.a, &mg_k8s_res_pv, NULL, pv, 15000),
		  "the retry never deleted the PV");
	cr_expect_not(cluster_env_volume(&E, 0, "svm-a", vol_a, NULL, 0));
	char *text = NULL, want[64];
	cr_expect_eq(cluster_env_ledger(&E, &text), 1, "ledger: %s", text);
	snprintf(want, sizeof(want), "\"generation\":%ld,\"operation\":\"volume delete\"", gen);
	cr_expect(text && strstr(text, want), "want %s in %s", want, text);
	free(text);
}
