#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "mirrorgate/core/doc.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/core/history.h"
#include "mirrorgate/core/topology.h"
#include "yaml_fixture.h"

Test(history, append_contains_and_check)
{
	mg_history_entry e = {"svm_a:vol_1", "destination", "mirror", "2026-11-25T10:00:00Z"};
	char *v1 = NULL, *v2 = NULL, *v3 = NULL;
	cr_assert_eq(mg_history_append(NULL, &e, &v1), 0);
	cr_assert_str_eq(v1, "[{\"remoteVolumeHandle\":\"svm_a:vol_1\",\"role\":\"destination\","
			     "\"tmr\":\"mirror\",\"since\":\"2026-11-25T10:00:00Z\"}]");
	cr_assert_eq(mg_history_append(v1, &e, &v2), 0);
	cr_assert_str_eq(v2, v1, "the same remote and role is recorded once");
	mg_history_entry src = {"svm_b:vol_2", "source", NULL, NULL};
	cr_assert_eq(mg_history_append(v2, &src, &v3), 0);
	bool has = false;
	cr_assert_eq(mg_history_contains(v3, "svm_b:vol_2", &has), 0);
	cr_assert(has);
	cr_assert_eq(mg_history_contains(v3, "svm_c:vol_3", &has), 0);
	cr_assert(!has);
	free(v1);
	free(v2);
	free(v3);
	char problem[128];
	cr_assert_eq(mg_history_check("{", problem, sizeof(problem)), MG_EPARSE);
	cr_assert_str_eq(problem, "not valid JSON");
	cr_assert_eq(mg_history_check("{}", problem, sizeof(problem)), MG_EPARSE);
	cr_assert_str_eq(problem, "not a JSON list");
	cr_assert_eq(mg_history_check("[{\"remoteVolumeHandle\":\"novolume\"}]", problem,
				      sizeof(problem)), MG_EPARSE);
	cr_assert_str_eq(problem, "entry 0 has no remoteVolumeHandle of the form <svm>:<volume>");
	cr_assert_eq(mg_history_contains("nope", "x:y", &has), MG_EPARSE);
	char *out = NULL;
	cr_assert_eq(mg_history_append("nope", &e, &out), MG_EPARSE);
	cr_assert_null(out);
}

Test(topology, decode_and_query)
{
	cJSON *t = mg_test_yaml("localSVMs: [svm_b]\npeers: {svm_b: [svm_a, svm_c]}\n"
			"policies:\n- {name: P, type: async, copyAllSourceSnapshots: true}\n"
			"- {name: S, type: sync, syncType: strict_sync}\nschedules: [5min]\n");
	mg_topology topo;
	mg_field_errors errs = {0};
	cr_assert_eq(mg_topology_from_json(&topo, t, &errs), 0);
	cr_assert(topo.svms_known && topo.peers_known && topo.policies_known && topo.schedules_known);
	cr_assert(mg_topology_is_local_svm(&topo, "svm_b"));
	cr_assert(!mg_topology_is_local_svm(&topo, "svm_a"));
	cr_assert_eq(mg_topology_peers_of(&topo, "svm_b")->npeers, 2);
	cr_assert_null(mg_topology_peers_of(&topo, "svm_a"));
	const mg_policy *p = mg_topology_policy(&topo, "P");
	cr_assert(p && p->copy_all_source_snapshots && strcmp(p->type, "async") == 0);
	cr_assert_str_eq(mg_topology_policy(&topo, "S")->sync_type, "strict_sync");
	cr_assert(mg_topology_has_schedule(&topo, "5min"));
	cr_assert(!mg_topology_has_schedule(&topo, "1min"));
	mg_topology_free(&topo);
	cJSON_Delete(t);

	t = mg_test_yaml("localSVMs: [svm_b]\n");
	cr_assert_eq(mg_topology_from_json(&topo, t, &errs), 0);
	cr_assert(topo.svms_known && !topo.peers_known && !topo.policies_known);
	mg_topology_free(&topo);
	cJSON_Delete(t);
}

Test(topology, wrong_types_are_errors_without_leaks)
{
	const char *bad[] = {"localSVMs: svm_b\n", "peers: [a]\n", "peers: {a: b}\n",
			     "policies: [{name: P}]\n", "schedules: [1, 2]\n", "[]\n", NULL};
	const char *want[] = {"localSVMs: Invalid value: \"string\": must be a list of names",
			      "peers: Invalid value: \"array\": must be a mapping of local SVM name to a list of peer SVMs",
			      "peers[a]: Invalid value: \"string\": must be a list of names",
			      ("policies[0]: Invalid value: \"object\": must be {name: string, type: async|sync, "
			       "syncType: string, copyAllSourceSnapshots: bool}"),
			      "schedules[0]: Invalid value: \"number\": must be a non-empty string",
			      "<topology>: Invalid value: \"array\": must be a mapping"};
	for (int i = 0; bad[i]; i++) {
		cJSON *t = mg_test_yaml(bad[i]);
		mg_topology topo;
		mg_field_errors errs = {0};
		cr_assert_eq(mg_topology_from_json(&topo, t, &errs), MG_EPARSE, "%s", bad[i]);
		cr_assert_eq(errs.len, 1);
		char *msg = NULL;
		mg_fe_format_one(&errs.items[0], &msg);
		cr_assert_str_eq(msg, want[i]);
		free(msg);
		mg_fe_clear(&errs);
		cJSON_Delete(t);
	}
}
