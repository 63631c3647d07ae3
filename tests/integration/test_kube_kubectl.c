/* The real kubectl against kube-sim: discovery (short names, categories), apply (create,
 * then client-side apply patches: strategic merge for built-ins, merge patch for CRDs),
 * get with selectors, patch, delete, and get -w. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kube_support.h"
#include "mirrorgate/util/strbuf.h"
#include "mirrorgate/util/tls.h"

static kube_sim_proc sim;
static char kenv[400], cache[400];

static void setup(void)
{
	cr_assert_eq(kube_sim_start(&sim, NULL), 0);
	snprintf(kenv, sizeof(kenv), "KUBECONFIG=%s", sim.kubeconfig);
	snprintf(cache, sizeof(cache), "%s/cache", sim.dir);
}

static void teardown(void)
{
	kube_sim_stop(&sim);
}

TestSuite(kube_kubectl, .init = setup, .fini = teardown, .timeout = 120);

/* Runs kubectl with up to 8 arguments; returns its exit status and output. */
static int kubectl(char **out, const char *a0, const char *a1, const char *a2, const char *a3,
		   const char *a4, const char *a5)
{
	const char *argv[12] = {"kubectl", "--cache-dir", cache, a0, a1, a2, a3, a4, a5, NULL};
	const char *env[] = {kenv, NULL};
	return kube_run(out, 30000, argv, env);
}

static char *file(const char *name, const char *text)
{
	char *p = mg_asprintf("%s/%s", sim.dir, name);
	cr_assert_eq(mg_write_file_atomic(p, text, strlen(text), 0600), 0);
	return p;
}

#define TMR_YAML(state, sched)                                                                 \
	"apiVersion: trident.netapp.io/v1\nkind: TridentMirrorRelationship\nmetadata:\n"        \
	"  name: m1\n  labels: {team: a}\nspec:\n  state: " state "\n" sched                  \
	"  volumeMappings:\n  - localPVCName: data\n    remoteVolumeHandle: svm_a:vol1\n"

Test(kube_kubectl, apply_get_patch_delete_a_custom_resource)
{
	char *out = NULL;
	char *f = file("tmr.yaml", TMR_YAML("established", "  replicationSchedule: hourly\n"));
	cr_assert_eq(kubectl(&out, "apply", "-f", f, NULL, NULL, NULL), 0, "%s", out);
	cr_assert(strstr(out, "tridentmirrorrelationship.trident.netapp.io/m1 created"), "%s", out);
	free(out);
	/* short name, category and label selector all resolve through discovery */
	cr_assert_eq(kubectl(&out, "get", "tmr", "-l", "team=a", "-o", "name"), 0, "%s", out);
	cr_assert_str_eq(out, "tridentmirrorrelationship.trident.netapp.io/m1\n");
	free(out);
	cr_assert_eq(kubectl(&out, "get", "trident", "-o", "name", NULL, NULL), 0, "%s", out);
	cr_assert(strstr(out, "tridentmirrorrelationship.trident.netapp.io/m1"), "%s", out);
	free(out);
	/* re-apply without the schedule: the merge patch removes it, the spec change bumps
	 * the generation */
	free(f);
	f = file("tmr.yaml", TMR_YAML("promoted", ""));
	cr_assert_eq(kubectl(&out, "apply", "-f", f, NULL, NULL, NULL), 0, "%s", out);
	cr_assert(strstr(out, "configured"), "%s", out);
	free(out);
	cr_assert_eq(kubectl(&out, "get", "tmr", "m1", "-o",
			     "jsonpath={.spec.state}/{.spec.replicationSchedule}/{.metadata.generation}", NULL), 0);
	cr_assert_str_eq(out, "promoted//2");
	free(out);
	cr_assert_eq(kubectl(&out, "patch", "tmr", "m1", "--type=merge", "-p",
			     "{\"spec\":{\"replicationPolicy\":\"MirrorAllSnapshots\"}}"), 0, "%s", out);
	free(out);
	cr_assert_eq(kubectl(&out, "get", "tmr", "m1", "-o", "jsonpath={.spec.replicationPolicy}", NULL), 0);
	cr_assert_str_eq(out, "MirrorAllSnapshots");
	free(out);
	/* the CRD schema refuses what Trident's schema refuses */
	char *bad = file("bad.yaml", "apiVersion: trident.netapp.io/v1\nkind: TridentMirrorRelationship\n"
				     "metadata: {name: bad}\nspec: {state: sideways, volumeMappings: []}\n");
	cr_assert_neq(kubectl(&out, "apply", "-f", bad, NULL, NULL, NULL), 0);
	cr_assert(strstr(out, "spec.state: Unsupported value: \"sideways\""), "%s", out);
	free(out);
	cr_assert_eq(kubectl(&out, "delete", "-f", f, NULL, NULL, NULL), 0, "%s", out);
	cr_assert(strstr(out, "deleted"), "%s", out);
	free(out);
	cr_assert_neq(kubectl(&out, "get", "tmr", "m1", NULL, NULL, NULL), 0);
	cr_assert(strstr(out, "NotFound"), "%s", out);
	free(out);
	free(f);
	free(bad);
}

Test(kube_kubectl, apply_built_ins_with_strategic_merge)
{
	char *out = NULL;
	char *f = file("pvc.yaml", "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\n"
				   "  annotations: {a: '1', b: '2'}\nspec:\n  accessModes: [ReadWriteOnce]\n"
				   "  resources: {requests: {storage: 1Gi}}\n");
	cr_assert_eq(kubectl(&out, "apply", "-f", f, NULL, NULL, NULL), 0, "%s", out);
	free(out);
	free(f);
	f = file("pvc.yaml", "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\n"
			     "  annotations: {a: '1'}\nspec:\n  accessModes: [ReadWriteOnce]\n"
			     "  resources: {requests: {storage: 2Gi}}\n");
	cr_assert_eq(kubectl(&out, "apply", "-f", f, NULL, NULL, NULL), 0, "%s", out);
	cr_assert(strstr(out, "persistentvolumeclaim/data configured"), "%s", out);
	free(out);
	cr_assert_eq(kubectl(&out, "get", "pvc", "data", "-o",
			     "jsonpath={.spec.resources.requests.storage}/{.metadata.annotations.b}/{.status.phase}", NULL), 0);
	cr_assert_str_eq(out, "2Gi//Pending", "apply removed annotation b and kept status");
	free(out);
	cr_assert_eq(kubectl(&out, "create", "-f", f, NULL, NULL, NULL), 1);
	cr_assert(strstr(out, "AlreadyExists"), "%s", out);
	free(out);
	free(f);
}

Test(kube_kubectl, get_watch_streams_changes)
{
	char *out = NULL;
	char *f = file("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: w1}\ndata: {a: b}\n");
	cr_assert_eq(kubectl(&out, "apply", "-f", f, NULL, NULL, NULL), 0, "%s", out);
	free(out);
	/* kubectl get -w in the background; change the object; the change appears */
	char wout[400];
	snprintf(wout, sizeof(wout), "%s/watch.out", sim.dir);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		FILE *o = freopen(wout, "w", stdout);
		(void)o;
		putenv(kenv);
		execlp("kubectl", "kubectl", "--cache-dir", cache, "get", "configmaps", "-w",
		       "--output-watch-events", "-o", "json", (char *)NULL);
		_exit(127);
	}
	usleep(1500000);
	cr_assert_eq(kubectl(&out, "label", "configmap", "w1", "x=y", NULL, NULL), 0, "%s", out);
	free(out);
	cr_assert_eq(kubectl(&out, "delete", "configmap", "w1", NULL, NULL, NULL), 0, "%s", out);
	free(out);
	char *text = NULL;
	size_t len;
	for (int i = 0; i < 100; i++) {
		free(text);
		text = NULL;
		usleep(50000);
		if (mg_read_file(wout, 65536, &text, &len) == 0 && strstr(text, "\"DELETED\""))
			break;
	}
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	cr_assert_not_null(text);
	const char *added = strstr(text, "\"type\":\"ADDED\"");
	const char *modified = strstr(text, "\"type\":\"MODIFIED\"");
	const char *deleted = strstr(text, "\"type\":\"DELETED\"");
	cr_assert(added && modified && deleted, "%s", text);
	cr_assert(added < modified && modified < deleted, "events out of order: %s", text);
	cr_assert(strstr(modified, "\"x\":\"y\""), "the label change is in the event: %s", text);
	free(text);
	free(f);
}
