/* ontap-sim itself under valgrind memcheck: a scenario that goes through every route group,
 * fault kind and state-machine path, then a clean shutdown that must report no memory error
 * and no definite or indirect leak (exit status 0 rather than valgrind's 99). Skipped in
 * sanitizer builds, where valgrind cannot run the binaries. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/ontap/client.h"
#include "mirrorgate/ontap/cluster.h"
#include "mirrorgate/ontap/snapmirror.h"
#include "mirrorgate/ontap/volume.h"
#include "ontap_sim_proc.h"
#include "sanitizer.h"

static ontap_sim_proc P;

static void stop(void) { ontap_sim_stop(&P); }

Test(ontap_sim_valgrind, scenario_is_memcheck_clean, .fini = stop, .timeout = 240)
{
#ifdef MG_UNDER_ASAN
	cr_skip_test("valgrind does not run sanitizer builds");
#endif
	const char *wrapper[] = {"valgrind", "--quiet", "--leak-check=full",
				 "--errors-for-leak-kinds=definite,indirect", "--error-exitcode=99", NULL};
	ontap_sim_start_wrapped(&P, wrapper, MG_BIN_DIR "/ontap-sim", NULL, NULL);
	mg_ontap_config cfg;
	ontap_sim_client_config(&P, 1, &cfg);
	cfg.timeout_ms = 30000;
	mg_ontap_client *cb = NULL, *ca = NULL;
	cr_assert_eq(mg_ontap_client_new(&cb, &cfg), 0);
	ontap_sim_client_config(&P, 0, &cfg);
	cfg.timeout_ms = 30000;
	cr_assert_eq(mg_ontap_client_new(&ca, &cfg), 0);
	mg_ontap_error err;

	mg_ontap_cluster cl;
	mg_ontap_svm_list svms;
	mg_ontap_svm_peer_list peers;
	mg_ontap_policy pol;
	cr_assert_eq(mg_ontap_cluster_get(cb, &cl, &err), 0, "%s", err.message);
	cr_assert_eq(mg_ontap_svms(cb, NULL, &svms, &err), 0);
	mg_ontap_svm_list_free(&svms);
	cr_assert_eq(mg_ontap_svm_peers(cb, NULL, &peers, &err), 0);
	mg_ontap_svm_peer_list_free(&peers);
	cr_assert_eq(mg_ontap_policy_get(cb, "MirrorAllSnapshots", &pol, &err), 0);

	mg_ontap_volume src;
	mg_ontap_volume_spec s1 = {"svm-a", "vg", "rw", 1u << 30, NULL};
	mg_ontap_volume_spec s2 = {"svm-b", "vg_dp", "dp", 1u << 30, NULL};
	cr_assert_eq(mg_ontap_volume_create(ca, &s1, &src, &err), 0, "%s", err.message);
	cr_assert_eq(mg_ontap_volume_create(cb, &s2, NULL, &err), 0, "%s", err.message);
	cr_assert_eq(mg_ontap_volume_create(cb, &s2, NULL, &err), MG_EREMOTE, "duplicate");
	cr_assert_eq(mg_ontap_snapshot_create(ca, src.uuid, "user1", "daily", &err), 0);
	char uuid[MG_ONTAP_UUID_MAX], xfer[MG_ONTAP_UUID_MAX];
	mg_ontap_relationship_spec rs = {"svm-a:vg", "svm-b:vg_dp", "MirrorAllSnapshots", "hourly"};
	cr_assert_eq(mg_ontap_relationship_create(cb, &rs, uuid, &err), 0, "%s", err.message);
	cr_assert_eq(mg_ontap_relationship_create(cb, &rs, NULL, &err), MG_EEXIST);
	cr_assert_eq(mg_ontap_transfer_start(cb, uuid, NULL, xfer, &err), 0, "%s", err.message);
	cr_assert_neq(mg_ontap_transfer_start(cb, uuid, NULL, NULL, &err), 0, "busy");
	ontap_sim_advance(&P, 5000);
	cr_assert_eq(ontap_sim_control(&P, "POST", "volumes/write",
				       "{\"cluster\":\"cluster-a\",\"path\":\"svm-a:vg\"}", NULL), 200);
	cr_assert_eq(mg_ontap_transfer_start(cb, uuid, "user1", NULL, &err), 0, "%s", err.message);
	mg_ontap_relationship rel;
	cr_assert_eq(mg_ontap_relationship_get_uuid(cb, uuid, &rel, &err), 0);
	cr_assert_eq(mg_ontap_transfer_abort(cb, uuid, rel.transfer_uuid, false, &err), 0, "%s", err.message);
	mg_ontap_state_change q = {"paused", NULL, false, false};
	mg_ontap_state_change b = {"broken_off", NULL, false, false};
	mg_ontap_state_change r = {"snapmirrored", NULL, true, false};
	cr_assert_eq(mg_ontap_relationship_set_state(cb, uuid, &q, &err), 0, "%s", err.message);
	cr_assert_eq(mg_ontap_relationship_set_state(cb, uuid, &b, &err), 0, "%s", err.message);
	cr_assert_eq(ontap_sim_control(&P, "POST", "volumes/write",
				       "{\"cluster\":\"cluster-b\",\"path\":\"svm-b:vg_dp\"}", NULL), 200);
	cr_assert_eq(mg_ontap_relationship_set_state(cb, uuid, &r, &err), 0, "%s", err.message);
	ontap_sim_advance(&P, 5000);

	/* Faults of every kind. */
	cr_assert_eq(ontap_sim_control(&P, "POST", "faults",
				       "{\"type\":\"request\",\"method\":\"GET\",\"path\":\"/api/cluster\",\"drop\":true,\"count\":4}", NULL), 200);
	cr_assert_eq(mg_ontap_cluster_get(ca, &cl, &err), MG_EIO);
	cr_assert_eq(ontap_sim_control(&P, "POST", "faults",
				       "{\"type\":\"request\",\"path\":\"/api/cluster\",\"status\":503,\"latency_ms\":10}", NULL), 200);
	cr_assert_eq(mg_ontap_cluster_get(ca, &cl, &err), MG_EREMOTE);
	cr_assert_eq(ontap_sim_control(&P, "POST", "faults", "{\"type\":\"job\",\"mode\":\"stuck\",\"match\":\"DELETE *\"}", NULL), 200);
	cr_assert_eq(ontap_sim_control(&P, "POST", "faults", "{\"type\":\"transfer\",\"mode\":\"fail\",\"code\":13303869}", NULL), 200);
	cr_assert_eq(ontap_sim_control(&P, "POST", "faults", "{\"type\":\"visibility\",\"count\":1}", NULL), 200);
	cr_assert_eq(ontap_sim_control(&P, "POST", "faults", "{\"type\":\"peer\",\"cluster\":\"cluster-a\",\"reachable\":false}", NULL), 200);
	cr_assert_eq(ontap_sim_control(&P, "GET", "state", NULL, NULL), 200);
	cr_assert_eq(ontap_sim_control(&P, "GET", "ledger", NULL, NULL), 200);
	cr_assert_eq(ontap_sim_control(&P, "GET", "requests", NULL, NULL), 200);
	cr_assert_eq(ontap_sim_control(&P, "DELETE", "faults", NULL, NULL), 200);
	cr_assert_eq(ontap_sim_control(&P, "POST", "seed",
				       "clusters: [{name: cluster-b, svms: [{name: svm-b, volumes: [{name: seeded}]}]}]\n", NULL), 200);
	cr_assert_eq(ontap_sim_control(&P, "POST", "seed", "clusters: [oops\n", NULL), 400);

	mg_ontap_relationship_list l;
	cr_assert_eq(mg_ontap_relationship_list_destinations(ca, NULL, &l, &err), 0);
	mg_ontap_relationship_list_free(&l);
	cr_assert_eq(mg_ontap_relationship_delete(cb, uuid, MG_ONTAP_DELETE_DESTINATION_ONLY, &err), 0, "%s", err.message);
	cr_assert_eq(mg_ontap_relationship_delete(ca, uuid, MG_ONTAP_DELETE_SOURCE_ONLY, &err), 0, "%s", err.message);
	int status = 0;
	cJSON *body = NULL;
	cr_assert_neq(mg_ontap_request(ca, "GET", "/api/storage/volumes?fields=nope", NULL, &status, &body, &err), 0);
	ontap_sim_advance(&P, 400000); /* purges every job */
	mg_ontap_client_free(ca);
	mg_ontap_client_free(cb);
	int rc = ontap_sim_stop_status(&P, 60000);
	cr_assert_eq(rc, 0, "ontap-sim under valgrind exited with %d (99: memory errors or leaks)", rc);
}
