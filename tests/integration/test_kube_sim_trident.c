/* kube-sim as a cluster where Trident is installed: a second --crds directory serves
 * Trident's own CRDs (TridentVersion, TridentOrchestrator cluster-scoped with a status
 * subresource, TridentBackendConfig), Events can be selected by involvedObject.kind and
 * source as on the API server, and --request-log records who made each request. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kube_support.h"
#include "mirrorgate/k8s/client.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/util/tls.h"

static kube_sim_proc sim;
static mg_k8s_client *kc;
static char g_log[128];

static const mg_k8s_resource k_tver = {"trident.netapp.io", "v1", "tridentversions", true};
static const mg_k8s_resource k_torc = {"trident.netapp.io", "v1", "tridentorchestrators", false};
static const mg_k8s_resource k_tbc = {"trident.netapp.io", "v1", "tridentbackendconfigs", true};

static void setup(void)
{
	snprintf(g_log, sizeof(g_log), "/tmp/mg-ksim-reqlog-%d.log", (int)getpid());
	unlink(g_log);
	const char *extra[] = {"--crds", MG_SOURCE_DIR "/tests/data/trident/crds", "--request-log",
			       g_log, NULL};
	cr_assert_eq(kube_sim_start(&sim, extra), 0);
	mg_k8s_config *cfg = NULL;
	cr_assert_eq(mg_k8s_config_from_kubeconfig(&cfg, sim.kubeconfig, NULL, NULL, 0), 0);
	cr_assert_eq(mg_k8s_client_new(&kc, cfg), 0);
	mg_k8s_config_free(cfg);
	mg_k8s_client_set_user_agent(kc, "trident-test/1");
}

static void teardown(void)
{
	mg_k8s_client_free(kc);
	kube_sim_stop(&sim);
	unlink(g_log);
}

TestSuite(kube_sim_trident, .init = setup, .fini = teardown, .timeout = 60);

static void create(const mg_k8s_resource *r, const char *ns, const char *json)
{
	cJSON *o = cJSON_Parse(json);
	cr_assert_not_null(o, "%s", json);
	mg_k8s_status st;
	int rc = mg_k8s_create(NULL, kc, r, ns, o, &st);
	cr_assert_eq(rc, 0, "%s: %s", mg_strerror(rc), st.message);
	cJSON_Delete(o);
}

Test(kube_sim_trident, serves_tridents_own_kinds)
{
	create(&mg_k8s_res_namespace, NULL,
	       "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"trident\"}}");
	create(&k_tver, "trident",
	       "{\"apiVersion\":\"trident.netapp.io/v1\",\"kind\":\"TridentVersion\","
	       "\"metadata\":{\"name\":\"trident\",\"namespace\":\"trident\"},"
	       "\"trident_version\":\"25.06.0\"}");
	create(&k_torc, NULL,
	       "{\"apiVersion\":\"trident.netapp.io/v1\",\"kind\":\"TridentOrchestrator\","
	       "\"metadata\":{\"name\":\"trident\"},\"spec\":{\"namespace\":\"trident\","
	       "\"enableACP\":true},\"status\":{\"status\":\"Installed\"}}");
	create(&k_tbc, "trident",
	       "{\"apiVersion\":\"trident.netapp.io/v1\",\"kind\":\"TridentBackendConfig\","
	       "\"metadata\":{\"name\":\"b\",\"namespace\":\"trident\"},\"spec\":{\"version\":1,"
	       "\"storageDriverName\":\"ontap-nas\",\"credentials\":{\"name\":\"s\"}}}");
	cJSON *items = NULL;
	mg_k8s_status st;
	/* TridentVersion keeps its top-level fields (preserve-unknown-fields, no spec) */
	cr_assert_eq(mg_k8s_list_all(&items, NULL, kc, &k_tver, NULL, NULL, &st), 0);
	cr_assert_eq(cJSON_GetArraySize(items), 1);
	cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(items, 0), "trident_version")
				 ->valuestring,
			 "25.06.0");
	cJSON_Delete(items);
	/* TridentOrchestrator is cluster-scoped, its status dropped on create (subresource) */
	cJSON *o = NULL;
	cr_assert_eq(mg_k8s_get(&o, kc, &k_torc, NULL, "trident", &st), 0);
	cr_assert_null(cJSON_GetObjectItem(o, "status"));
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "spec"), "enableACP")));
	cJSON_Delete(o);
	cr_assert_eq(mg_k8s_get(&o, kc, &k_tbc, "trident", "b", &st), 0);
	cJSON_Delete(o);
}

Test(kube_sim_trident, events_by_involved_kind_and_source)
{
	cJSON *tmr = cJSON_Parse("{\"apiVersion\":\"trident.netapp.io/v1\","
				 "\"kind\":\"TridentMirrorRelationship\","
				 "\"metadata\":{\"name\":\"m\",\"namespace\":\"default\"}}");
	cJSON *cm = cJSON_Parse("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\","
				"\"metadata\":{\"name\":\"c\",\"namespace\":\"default\"}}");
	mg_k8s_status st;
	cr_assert_eq(mg_k8s_event(kc, tmr, "Normal", "established", "Desired state reached",
				  "trident-crd-controller", &st),
		     0);
	cr_assert_eq(mg_k8s_event(kc, tmr, "Warning", "x", "y", "mirrorgate-reconciler", &st), 0);
	cr_assert_eq(mg_k8s_event(kc, cm, "Normal", "x", "y", "trident-crd-controller", &st), 0);
	cJSON *items = NULL;
	mg_k8s_list_opts lo = {.field_selector = "involvedObject.kind=TridentMirrorRelationship"};
	cr_assert_eq(mg_k8s_list_all(&items, NULL, kc, &mg_k8s_res_event, NULL, &lo, &st), 0);
	cr_assert_eq(cJSON_GetArraySize(items), 2);
	cJSON_Delete(items);
	mg_k8s_list_opts lo2 = {.field_selector = "source=trident-crd-controller"};
	cr_assert_eq(mg_k8s_list_all(&items, NULL, kc, &mg_k8s_res_event, "default", &lo2, &st), 0);
	cr_assert_eq(cJSON_GetArraySize(items), 2);
	cJSON_Delete(items);
	mg_k8s_list_opts lo3 = {.field_selector = "source!=trident-crd-controller"};
	cr_assert_eq(mg_k8s_list_all(&items, NULL, kc, &mg_k8s_res_event, "default", &lo3, &st), 0);
	cr_assert_eq(cJSON_GetArraySize(items), 1);
	cJSON_Delete(items);
	cJSON_Delete(tmr);
	cJSON_Delete(cm);
}

Test(kube_sim_trident, request_log_names_method_path_status_and_agent)
{
	cJSON *o = NULL;
	mg_k8s_status st;
	cr_assert_eq(mg_k8s_get(&o, kc, &mg_k8s_res_configmap, "default", "nope", &st),
		     MG_ENOTFOUND);
	create(&mg_k8s_res_configmap, "default",
	       "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"a\"}}");
	char *text = NULL;
	size_t len = 0;
	cr_assert_eq(mg_read_file(g_log, 1 << 20, &text, &len), 0);
	cr_assert(strstr(text, "GET /api/v1/namespaces/default/configmaps/nope 404 trident-test/1\n"),
		  "%s", text);
	cr_assert(strstr(text, "POST /api/v1/namespaces/default/configmaps 201 trident-test/1\n"),
		  "%s", text);
	free(text);
}

Test(kube_sim_trident, at_most_two_crd_directories)
{
	kube_sim_proc other;
	const char *extra[] = {"--crds", MG_SOURCE_DIR "/tests/data/trident/crds", "--crds",
			       MG_SOURCE_DIR "/manifests/crds", NULL};
	cr_assert_neq(kube_sim_start(&other, extra), 0, "a third --crds is refused");
	const char *bad_log[] = {"--request-log", "/nonexistent-dir/x.log", NULL};
	cr_assert_neq(kube_sim_start(&other, bad_log), 0, "an unwritable --request-log too");
}
