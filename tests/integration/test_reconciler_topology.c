/* The topology publisher against ontap-sim and kube-sim: what it writes is what the
 * webhook's topology.h reads, a second publish without changes writes nothing, and an
 * unreadable part is left out (unknown), never published as empty. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirrorgate/core/doc.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/core/fielderr.h"
#include "mirrorgate/k8s/client.h"
#include "mirrorgate/core/topology.h"
#include "reconciler_env.h"
#include "topology_pub.h"

static rec_env E;

static void setup(void)
{
	rec_env_start(&E);
}

static void teardown(void)
{
	rec_env_stop(&E);
}

TestSuite(reconciler_topology, .init = setup, .fini = teardown, .timeout = 60);

static void assert_no_loss(void)
{
	char *text = NULL;
	cr_expect_eq(rec_env_ledger(&E, &text), 0, "data-loss ledger: %s", text);
	free(text);
}

/* ONTAP requests that change something. */
static int ontap_writes(void)
{
	return ontap_sim_count_requests(&E.ontap, NULL, "POST", "/api/") +
	       ontap_sim_count_requests(&E.ontap, NULL, "PATCH", "/api/") +
	       ontap_sim_count_requests(&E.ontap, NULL, "DELETE", "/api/");
}

/* Data on both clusters that publishing must leave alone. */
static void some_data(void)
{
	rec_env_volume(&E, 0, "vol_src", "rw");
	rec_env_write(&E, 0, "svm-a:vol_src");
	rec_env_snapshot(&E, 0, "vol_src", "snap-1");
	rec_env_volume(&E, 1, "vol_dst", "dp");
}

static cJSON *published(char *rv, size_t len)
{
	cJSON *cm = rec_env_get(&E, &mg_k8s_res_configmap, "default", "mirrorgate-topology");
	cr_assert_not_null(cm);
	const cJSON *md = cJSON_GetObjectItem(cm, "metadata");
	snprintf(rv, len, "%s", cJSON_GetObjectItem(md, "resourceVersion")->valuestring);
	const cJSON *text = cJSON_GetObjectItem(cJSON_GetObjectItem(cm, "data"), "topology.yaml");
	cr_assert(cJSON_IsString(text));
	mg_doc_list docs = {0};
	mg_parse_error perr;
	cr_assert_eq(mg_doc_parse_yaml(&docs, text->valuestring, strlen(text->valuestring), &perr),
		     0, "%s", perr.message);
	cJSON *tree = cJSON_Duplicate(docs.items[0].root, true);
	mg_doc_list_free(&docs);
	cJSON_Delete(cm);
	return tree;
}

Test(reconciler_topology, publishes_what_the_webhook_reads)
{
	some_data();
	int writes = ontap_writes();
	cJSON *topo = NULL;
	cr_assert_eq(mg_topology_collect(&E.ctx_b, &topo), 0);
	bool written;
	cr_assert_eq(mg_topology_publish(&E.ctx_b, "default", "mirrorgate-topology", topo, &written),
		     0);
	cr_expect(written);
	char rv[64], rv2[64];
	cJSON *tree = published(rv, sizeof(rv));
	mg_topology t;
	mg_field_errors errs = {0};
	cr_assert_eq(mg_topology_from_json(&t, tree, &errs), 0);
	cr_expect(t.svms_known && t.peers_known && t.policies_known && t.schedules_known);
	cr_expect(mg_topology_is_local_svm(&t, "svm-b"));
	cr_expect_not(mg_topology_is_local_svm(&t, "svm-a"));
	const mg_svm_peers *p = mg_topology_peers_of(&t, "svm-b");
	cr_assert_not_null(p);
	cr_assert_eq(p->npeers, 1);
	cr_expect_str_eq(p->peers[0], "svm-a");
	const mg_policy *pol = mg_topology_policy(&t, "MirrorAllSnapshots");
	cr_assert_not_null(pol);
	cr_expect_str_eq(pol->type, "async");
	cr_expect(pol->copy_all_source_snapshots);
	pol = mg_topology_policy(&t, "Sync");
	cr_assert_not_null(pol);
	cr_expect_str_eq(pol->type, "sync");
	cr_expect(mg_topology_has_schedule(&t, "5min"));
	mg_topology_free(&t);
	mg_fe_clear(&errs);
	cJSON_Delete(tree);
	/* unchanged: no write */
	cr_assert_eq(mg_topology_publish(&E.ctx_b, "default", "mirrorgate-topology", topo, &written),
		     0);
	cr_expect_not(written);
	cJSON_Delete(published(rv2, sizeof(rv2)));
	cr_expect_str_eq(rv, rv2);
	cJSON_Delete(topo);
	cr_expect_eq(ontap_writes(), writes, "publishing only reads ONTAP");
	assert_no_loss();
}

Test(reconciler_topology, unreadable_parts_are_unknown_not_empty)
{
	some_data();
	int writes = ontap_writes();
	rec_env_fault(&E, "{\"type\":\"request\",\"cluster\":\"cluster-b\",\"method\":\"GET\","
			  "\"path\":\"/api/snapmirror/policies\",\"count\":5,\"status\":500,"
			  "\"message\":\"internal error\"}");
	cJSON *topo = NULL;
	cr_assert_eq(mg_topology_collect(&E.ctx_b, &topo), 0);
	cr_expect_null(cJSON_GetObjectItem(topo, "policies"));
	cr_expect_not_null(cJSON_GetObjectItem(topo, "schedules"));
	cr_expect_not_null(cJSON_GetObjectItem(topo, "peers"));
	cJSON_Delete(topo);
	cr_expect_eq(ontap_writes(), writes, "an unreadable part changes nothing");
	assert_no_loss();
}
