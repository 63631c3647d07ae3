/* --state-dir and --topology loading into the in-memory lookup. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/util/tls.h"
#include "state.h"

static char g_dir[64];

static void put(const char *rel, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", g_dir, rel);
	cr_assert_eq(mg_write_file_atomic(path, text, strlen(text), 0600), 0);
}

static void setup(void)
{
	snprintf(g_dir, sizeof(g_dir), "/tmp/mg-state-XXXXXX");
	cr_assert_not_null(mkdtemp(g_dir));
	char sub[128];
	snprintf(sub, sizeof(sub), "%s/nested", g_dir);
	cr_assert_eq(mkdir(sub, 0700), 0);
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", g_dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(webhook_state, .init = setup, .fini = teardown);

Test(webhook_state, loads_recursively_with_lists_and_configmap_topology)
{
	put("a.yaml", "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: p1, "
		      "namespace: ns}\n---\n# empty document\n---\nkind: StorageClass\nmetadata: "
		      "{name: gold}\nprovisioner: csi.trident.netapp.io\n");
	put("nested/b.json", "{\"kind\":\"List\",\"items\":[{\"kind\":\"PersistentVolumeClaim\","
			     "\"metadata\":{\"name\":\"p2\",\"namespace\":\"ns\"}}]}");
	put("nested/topo.yml", "kind: ConfigMap\nmetadata: {name: t, namespace: mirrorgate}\n"
			       "data:\n  topology.yaml: |\n    localSVMs: [svm_b]\n");
	put("nested/kustomization.yaml", "resources: [a.yaml]\n");
	put("notes.txt", "not: [yaml");
	put(".hidden.yaml", "not: [yaml");
	mg_store *s = NULL;
	char *err = NULL;
	cr_assert_eq(mg_wh_state_load(&s, g_dir, NULL, &err), 0, "%s", err);
	mg_lookup lk = mg_store_lookup(s);
	cr_assert_not_null(mg_lookup_get(&lk, MG_KIND_PVC, "ns", "p1"));
	cr_assert_not_null(mg_lookup_get(&lk, MG_KIND_PVC, "ns", "p2"), "List items are expanded");
	cr_assert_not_null(mg_lookup_get(&lk, MG_KIND_SC, NULL, "gold"));
	const mg_topology *t = mg_lookup_topology(&lk);
	cr_assert_not_null(t);
	cr_assert(mg_topology_is_local_svm(t, "svm_b"));
	cr_assert_eq(mg_store_count(s), 4, "3 objects and the ConfigMap; kustomization skipped");
	mg_store_free(s);
}

Test(webhook_state, topology_file_wins)
{
	put("topo.yml", "kind: ConfigMap\nmetadata: {name: t}\ndata:\n  topology.yaml: "
			"\"localSVMs: [from_configmap]\"\n");
	char topo[128];
	snprintf(topo, sizeof(topo), "%s/nested/topology.yaml", g_dir);
	cr_assert_eq(mg_write_file_atomic(topo, "localSVMs: [from_file]\n", 23, 0600), 0);
	mg_store *s = NULL;
	char *err = NULL;
	cr_assert_eq(mg_wh_state_load(&s, g_dir, topo, &err), 0, "%s", err);
	mg_lookup lk = mg_store_lookup(s);
	cr_assert(mg_topology_is_local_svm(mg_lookup_topology(&lk), "from_file"));
	mg_store_free(s);
}

Test(webhook_state, errors_name_file_and_line)
{
	mg_store *s = NULL;
	char *err = NULL;
	put("good.yaml", "kind: StorageClass\nmetadata: {name: a}\n");
	put("nested/bad.yaml", "kind: StorageClass\nmetadata: {name: b\n");
	cr_assert_eq(mg_wh_state_load(&s, g_dir, NULL, &err), MG_EPARSE);
	cr_assert_null(s);
	cr_assert(strstr(err, "/nested/bad.yaml:"), "%s", err);
	free(err);
	err = NULL;
	cr_assert_neq(mg_wh_state_load(&s, "/nonexistent/dir", NULL, &err), 0);
	cr_assert_str_eq(err, "--state-dir /nonexistent/dir: cannot read the directory");
	free(err);
	err = NULL;
	cr_assert_neq(mg_wh_state_load(&s, NULL, "/nonexistent/topo.yaml", &err), 0);
	cr_assert_str_eq(err, "--topology /nonexistent/topo.yaml: not found");
	free(err);
	err = NULL;
	char topo[128];
	snprintf(topo, sizeof(topo), "%s/t.yaml", g_dir);
	cr_assert_eq(mg_write_file_atomic(topo, "localSVMs: 3\n", 13, 0600), 0);
	cr_assert_eq(mg_wh_state_load(&s, NULL, topo, &err), MG_EPARSE);
	cr_assert(strstr(err, "invalid topology: localSVMs"), "%s", err);
	free(err);
	err = NULL;
	put("nested/bad.yaml", "[1, 2]\n");
	cr_assert_eq(mg_wh_state_load(&s, g_dir, NULL, &err), MG_EPARSE);
	cr_assert(strstr(err, "a document must be an object"), "%s", err);
	free(err);
}
