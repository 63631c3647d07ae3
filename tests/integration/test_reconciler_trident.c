/* mirrorgate-reconciler beside Trident (docs/deploying-with-trident.md), through the real
 * binary on kube-sim with Trident's own CRDs (TridentVersion, TridentOrchestrator,
 * TridentBackendConfig; tests/data/trident/crds) and ontap-sim:
 * - detection follows Trident's objects as they change (each release and configuration
 *   whose behaviour differs), and `auto` follows it;
 * - `controller` beside an active Trident is refused: not ready, no action, a log line, an
 *   Event and a metric; --allow-controller-beside-trident gets past it;
 * - `companion` over a replication story that the test plays as Trident does (relationship
 *   made on ONTAP, TMR finalizer and status written by "Trident"): zero ONTAP writes and
 *   zero writes to Trident's objects by the reconciler, asserted from ontap-sim's and
 *   kube-sim's request logs (User-Agent mirrorgate-reconciler/...), while the PVC history,
 *   the topology, the gauges and the explaining Events are right;
 * - ONTAP backends from a TridentBackendConfig and its Secret, the Secret rotated under the
 *   running binary, and a broken Secret reported without a crash. */
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mirrorgate/k8s/client.h"
#include "mirrorgate/ontap/snapmirror.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/util/tls.h"
#include "reconciler_e2e.h"

#define BIN MG_BIN_DIR "/mirrorgate-reconciler"
#define UA "mirrorgate-reconciler/"

static const mg_k8s_resource k_tver = {"trident.netapp.io", "v1", "tridentversions", true};
static const mg_k8s_resource k_torc = {"trident.netapp.io", "v1", "tridentorchestrators", false};
static const mg_k8s_resource k_tbc = {"trident.netapp.io", "v1", "tridentbackendconfigs", true};

static rec_env E;
static rec_proc R;
static char g_dir[64];
static char g_kube_log[128];

static void setup(void)
{
	snprintf(g_dir, sizeof(g_dir), "/tmp/mg-trident-XXXXXX");
	cr_assert_not_null(mkdtemp(g_dir));
	snprintf(g_kube_log, sizeof(g_kube_log), "%s/kube-requests.log", g_dir);
	const char *extra[] = {"--crds", MG_SOURCE_DIR "/tests/data/trident/crds", "--request-log",
			       g_kube_log, NULL};
	rec_e2e_start(&E, extra);
	memset(&R, 0, sizeof(R));
	rec_env_create(&E, &mg_k8s_res_namespace, NULL,
		       "{apiVersion: v1, kind: Namespace, metadata: {name: trident}}");
}

static void teardown(void)
{
	rec_e2e_stop_with_proc(&E, &R);
	unlink(g_kube_log);
	rmdir(g_dir);
}

TestSuite(reconciler_trident, .init = setup, .fini = teardown, .timeout = 150);

static void install_version(const char *version)
{
	char y[512];
	snprintf(y, sizeof(y),
		 "apiVersion: trident.netapp.io/v1\nkind: TridentVersion\n"
		 "metadata: {name: trident, namespace: trident}\n"
		 "trident_version: \"%s\"\ntrident_api_version: \"1\"\n",
		 version);
	rec_env_create(&E, &k_tver, "trident", y);
}

static void install_orchestrator(const char *version, bool acp)
{
	char y[512];
	snprintf(y, sizeof(y),
		 "apiVersion: trident.netapp.io/v1\nkind: TridentOrchestrator\n"
		 "metadata: {name: trident}\n"
		 "spec: {namespace: trident, enableACP: %s}\n",
		 acp ? "true" : "false");
	rec_env_create(&E, &k_torc, NULL, y);
	/* the operator writes its status through the status subresource */
	cJSON *o = rec_env_get(&E, &k_torc, NULL, "trident");
	cr_assert_not_null(o);
	cJSON_DeleteItemFromObject(o, "status");
	cJSON *st = cJSON_AddObjectToObject(o, "status");
	cJSON_AddStringToObject(st, "status", "Installed");
	cJSON_AddStringToObject(st, "version", version);
	cJSON_AddStringToObject(st, "namespace", "trident");
	mg_k8s_status ks;
	cr_assert_eq(mg_k8s_update_status(NULL, E.k8s, &k_torc, NULL, o, &ks), 0, "%s", ks.message);
	cJSON_Delete(o);
}

static void remove_obj(const mg_k8s_resource *r, const char *ns, const char *name)
{
	mg_k8s_status st;
	int rc = mg_k8s_delete(E.k8s, r, ns, name, NULL, NULL, &st);
	cr_assert(rc == 0 || rc == MG_ENOTFOUND, "delete %s: %s", name, mg_strerror(rc));
}

static const char *const k_common[] = {"--leader-elect", "false", "--resync-period", "1s",
				       "--trident-detect-period", "200ms", "--topology-period",
				       "1s", NULL};

static void start(const char *const *more)
{
	const char *args[32];
	size_t n = 0;
	for (size_t i = 0; k_common[i]; i++)
		args[n++] = k_common[i];
	for (size_t i = 0; more && more[i] && n < 30; i++)
		args[n++] = more[i];
	args[n] = NULL;
	rec_proc_start(&R, BIN, E.kube.kubeconfig, "r1", args);
}

#define MODE_COMPANION "mirrorgate_mode{mode=\"companion\"} 1"
#define MODE_CONTROLLER "mirrorgate_mode{mode=\"controller\"} 1"
#define TMR_ACTIVE(v) "mirrorgate_trident_mirror_controller_active{} " v
#define TAMU_ACTIVE(v) "mirrorgate_trident_tamu_controller_active{} " v

static void expect_metric(const char *needle)
{
	char *body = NULL;
	bool ok = rec_e2e_wait_metric(&R, needle, true, 8000, &body);
	cr_assert(ok, "no '%s' in /metrics; see %s\n%s", needle, R.log, body ? body : "");
	free(body);
}

/* Each row changes Trident's objects under the running binary (auto mode), which follows
 * within its 200 ms detection period. */
Test(reconciler_trident, detection_follows_each_release_and_configuration)
{
	rec_e2e_config(&E, &R);
	start(NULL);
	expect_metric(MODE_CONTROLLER);
	expect_metric(TMR_ACTIVE("0"));

	install_version("21.10.1"); /* TMRs, no TAMUs */
	expect_metric(MODE_COMPANION);
	expect_metric(TMR_ACTIVE("1"));
	expect_metric(TAMU_ACTIVE("0"));
	cr_assert(rec_e2e_wait_file(R.log, "Trident 21.10.1 (from TridentVersion)", 5000));

	remove_obj(&k_tver, "trident", "trident");
	install_version("23.07.0"); /* TAMU behind DisableExtraFeatures */
	cr_assert(rec_e2e_wait_file(R.log, "Trident 23.07.0", 5000), "see %s", R.log);
	expect_metric(TAMU_ACTIVE("0"));

	remove_obj(&k_tver, "trident", "trident");
	install_version("24.02.0"); /* TAMU behind ACP, which is off */
	install_orchestrator("24.02.0", false);
	cr_assert(rec_e2e_wait_file(R.log, "TAMUs wait for ACP", 5000), "see %s", R.log);
	expect_metric(MODE_COMPANION);
	expect_metric(TAMU_ACTIVE("0"));

	remove_obj(&k_torc, NULL, "trident");
	install_orchestrator("24.02.0", true); /* enableACP */
	cr_assert(rec_e2e_wait_file(R.log, "ACP enabled", 5000), "see %s", R.log);
	expect_metric(TAMU_ACTIVE("1"));

	remove_obj(&k_torc, NULL, "trident");
	remove_obj(&k_tver, "trident", "trident");
	install_version("24.10.0"); /* every ACP feature always on */
	cr_assert(rec_e2e_wait_file(R.log, "Trident 24.10.0", 5000), "see %s", R.log);
	expect_metric(TAMU_ACTIVE("1"));
	expect_metric(MODE_COMPANION);

	/* Trident uninstalled: auto follows back to controller */
	remove_obj(&k_tver, "trident", "trident");
	expect_metric(MODE_CONTROLLER);
	expect_metric(TMR_ACTIVE("0"));
	cr_assert_eq(rec_proc_stop(&R, false), 0, "a clean SIGTERM exit (with MG_SANITIZE: no leak); see %s", R.log);
}

/* Trident's CRD controller writes its Events as trident-crd-controller: an Event on a TMR is
 * enough, without any TridentVersion (e.g. no RBAC to read Trident's namespace). */
Test(reconciler_trident, tridents_events_on_tmrs_are_evidence)
{
	rec_env_pvc(&E, "app", "data", "vol_dst");
	rec_env_create(&E, &mg_k8s_res_tmr, "app", REC_E2E_TMR);
	cJSON *tmr = rec_env_get(&E, &mg_k8s_res_tmr, "app", "mirror");
	mg_k8s_status st;
	cr_assert_eq(mg_k8s_event(E.k8s, tmr, "Normal", "established", "Desired state reached",
				  "trident-crd-controller", &st),
		     0);
	cJSON_Delete(tmr);
	rec_e2e_config(&E, &R);
	start(NULL);
	expect_metric(MODE_COMPANION);
	cr_assert(rec_e2e_wait_file(R.log, "Event(s) of trident-crd-controller on TMRs", 5000));
}

/* Lines of kube-sim's request log written by the reconciler to Trident's objects. */
static int reconciler_trident_writes(int *reads)
{
	char *text = NULL;
	size_t len = 0;
	if (mg_read_file(g_kube_log, 64 << 20, &text, &len) != 0)
		return -1;
	int writes = 0;
	if (reads)
		*reads = 0;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		if (!strstr(line, " " UA))
			continue;
		bool trident = strstr(line, "/apis/trident.netapp.io/") != NULL;
		if (strncmp(line, "GET ", 4) == 0) {
			if (reads && trident)
				(*reads)++;
			continue;
		}
		if (trident) {
			writes++;
			fprintf(stderr, "reconciler wrote a Trident object: %s\n", line);
		}
	}
	free(text);
	return writes;
}

/* Non-GET ONTAP requests by the reconciler (ontap-sim's request log). */
static int reconciler_ontap_writes(int *reads)
{
	cJSON *log = NULL;
	cr_assert_eq(ontap_sim_control(&E.ontap, "GET", "requests", NULL, &log), 200);
	int writes = 0;
	if (reads)
		*reads = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(log, "requests"))
	{
		const char *ua = cJSON_GetObjectItem(e, "userAgent")->valuestring;
		const char *m = cJSON_GetObjectItem(e, "method")->valuestring;
		if (strncmp(ua, UA, strlen(UA)) != 0)
			continue;
		if (strcmp(m, "GET") == 0) {
			if (reads)
				(*reads)++;
		} else {
			writes++;
			fprintf(stderr, "reconciler wrote to ONTAP: %s %s\n", m,
				cJSON_GetObjectItem(e, "path")->valuestring);
		}
	}
	cJSON_Delete(log);
	return writes;
}

static bool tmr_has_finalizer(const char *ns, const char *name)
{
	cJSON *o = rec_env_get(&E, &mg_k8s_res_tmr, ns, name);
	bool yes = false;
	const cJSON *it;
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(cJSON_GetObjectItem(o, "metadata"), "finalizers"))
		yes = yes || (cJSON_IsString(it) && strcmp(it->valuestring, "trident.netapp.io") == 0);
	cJSON_Delete(o);
	return yes;
}

Test(reconciler_trident, controller_refused_while_trident_is_active)
{
	install_version("25.06.0");
	rec_env_mirror_pair(&E);
	rec_env_create(&E, &mg_k8s_res_tmr, "app", REC_E2E_TMR);
	rec_e2e_config(&E, &R);
	start((const char *const[]){"--mode", "controller", NULL});
	expect_metric("mirrorgate_controller_refused{} 1");
	cr_assert_eq(rec_proc_get(&R, "/readyz", NULL), 503, "refused: not ready");
	cr_assert_eq(rec_proc_get(&R, "/healthz", NULL), 200, "alive: it explains itself");
	cr_assert(rec_e2e_wait_file(R.log, "controller mode refused", 5000), "see %s", R.log);
	cr_assert(rec_e2e_file_contains(R.log, "--allow-controller-beside-trident"));
	cr_assert(rec_e2e_file_contains(R.log, "Trident 25.06.0"));
	bool event = false;
	for (int i = 0; i < 50 && !event; i++, rec_e2e_nap(100))
		event = rec_env_events(&E, "trident", "trident", "ControllerModeRefused") > 0;
	cr_assert(event, "an Event about the TridentVersion explains the refusal");
	cr_assert(strstr(rec_env_event_message(&E, "trident", "trident", "ControllerModeRefused"),
			 "--mode companion"));
	/* no action: the TMR is left to Trident (no finalizer, no status, no ONTAP write) */
	rec_e2e_nap(1500);
	cr_assert_not(tmr_has_finalizer("app", "mirror"));
	cr_assert_str_eq(rec_env_cond(&E, "app", "mirror", "state"), "");
	cr_assert_eq(reconciler_ontap_writes(NULL), 0);
	cr_assert_eq(reconciler_trident_writes(NULL), 0);
	cr_assert_eq(rec_proc_stop(&R, false), 0);

	/* the documented override gets past it: controller mode acts */
	start((const char *const[]){"--mode", "controller", "--allow-controller-beside-trident",
				    NULL});
	expect_metric("mirrorgate_controller_refused{} 0");
	expect_metric(MODE_CONTROLLER);
	cr_assert(rec_e2e_wait_state(&E, "app", "mirror", "established", 20000), "see %s", R.log);
	cr_assert(rec_e2e_wait_file(R.log, "forced by --allow-controller-beside-trident", 1000));
}

/* ---- companion: the test plays Trident ---- */

static char g_rel_uuid[MG_ONTAP_UUID_MAX];

/* What Trident's establish does: the relationship on ONTAP (initialized), its finalizer
 * and its status on the TMR. */
static void trident_establishes(void)
{
	mg_ontap_relationship_spec spec = {"svm-a:vol_src", "svm-b:vol_dst", "MirrorAllSnapshots",
					   NULL};
	mg_ontap_error err;
	cr_assert_eq(mg_ontap_relationship_create(E.cb, &spec, g_rel_uuid, &err), 0, "%s",
		     err.message);
	mg_ontap_state_change ch = {.state = "snapmirrored"};
	cr_assert_eq(mg_ontap_relationship_set_state(E.cb, g_rel_uuid, &ch, &err), 0, "%s",
		     err.message);
	for (int i = 0; i < 100; i++, rec_e2e_nap(50)) {
		mg_ontap_relationship rel;
		cr_assert_eq(mg_ontap_relationship_get_uuid(E.cb, g_rel_uuid, &rel, &err), 0);
		if (strcmp(rel.state, "snapmirrored") == 0 && !rel.transfer_state[0])
			break;
		if (strcmp(rel.state, "snapmirrored") == 0 &&
		    strcmp(rel.transfer_state, "transferring") != 0 &&
		    strcmp(rel.transfer_state, "queued") != 0)
			break;
	}
}

/* Trident's status write: finalizer (main resource), then conditions[0] (status). */
static void trident_writes(const char *state, const char *message)
{
	cJSON *o = rec_env_get(&E, &mg_k8s_res_tmr, "app", "mirror");
	cr_assert_not_null(o);
	mg_k8s_status st;
	if (!tmr_has_finalizer("app", "mirror")) {
		cJSON *md = cJSON_GetObjectItem(o, "metadata");
		cJSON *f = cJSON_AddArrayToObject(md, "finalizers");
		cJSON_AddItemToArray(f, cJSON_CreateString("trident.netapp.io"));
		cJSON *upd = NULL;
		cr_assert_eq(mg_k8s_update(&upd, E.k8s, &mg_k8s_res_tmr, "app", o, &st), 0, "%s",
			     st.message);
		cJSON_Delete(o);
		o = upd;
	}
	cJSON_DeleteItemFromObject(o, "status");
	cJSON *status = cJSON_AddObjectToObject(o, "status");
	cJSON *conds = cJSON_AddArrayToObject(status, "conditions");
	cJSON *c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "state", state);
	cJSON_AddStringToObject(c, "message", message);
	cJSON_AddStringToObject(c, "localPVCName", "data");
	cJSON_AddStringToObject(c, "remoteVolumeHandle", "svm-a:vol_src");
	cJSON_AddStringToObject(c, "localVolumeHandle", "svm-b:vol_dst");
	cJSON_AddItemToArray(conds, c);
	cr_assert_eq(mg_k8s_update_status(NULL, E.k8s, &mg_k8s_res_tmr, "app", o, &st), 0, "%s",
		     st.message);
	cJSON_Delete(o);
}

static bool wait_event(const char *ns, const char *name, const char *reason, long ms)
{
	for (long t = 0; t < ms; t += 100, rec_e2e_nap(100))
		if (rec_env_events(&E, ns, name, reason) > 0)
			return true;
	return rec_env_events(&E, ns, name, reason) > 0;
}

static const char *pvc_history(void)
{
	static char buf[2048];
	buf[0] = '\0';
	cJSON *o = rec_env_get(&E, &mg_k8s_res_pvc, "app", "data");
	const cJSON *a = cJSON_GetObjectItem(
		cJSON_GetObjectItem(cJSON_GetObjectItem(o, "metadata"), "annotations"),
		"mirrorgate.io/replication-history");
	if (cJSON_IsString(a))
		snprintf(buf, sizeof(buf), "%s", a->valuestring);
	cJSON_Delete(o);
	return buf;
}

Test(reconciler_trident, companion_story_writes_nothing_trident_owns)
{
	install_version("25.06.0");
	rec_env_mirror_pair(&E);
	/* a 5min schedule on the TMR; the relationship has none, so lag grows */
	rec_env_create(&E, &mg_k8s_res_tmr, "app",
		       "apiVersion: trident.netapp.io/v1\nkind: TridentMirrorRelationship\n"
		       "metadata: {name: mirror, namespace: app}\n"
		       "spec:\n  state: established\n  replicationPolicy: MirrorAllSnapshots\n"
		       "  replicationSchedule: 5min\n"
		       "  volumeMappings:\n  - localPVCName: data\n"
		       "    remoteVolumeHandle: svm-a:vol_src\n");
	trident_establishes();
	trident_writes("established", "");
	/* a TAMU and a TSI: Trident's too */
	rec_env_create(&E, &mg_k8s_res_tamu, "app",
		       "apiVersion: trident.netapp.io/v1\nkind: TridentActionMirrorUpdate\n"
		       "metadata: {name: update-1, namespace: app}\n"
		       "spec: {tridentMirrorRelationshipName: mirror}\n");
	rec_e2e_config(&E, &R);
	start(NULL); /* auto: companion beside Trident 25.06 */
	expect_metric(MODE_COMPANION);
	cr_assert_eq(rec_proc_get(&R, "/readyz", NULL), 200);

	/* observed and exported: Trident's state, health, lag */
	expect_metric("mirrorgate_tmr_state{tmr=\"app/mirror\",state=\"established\"} 1");
	expect_metric("mirrorgate_tmr_healthy{tmr=\"app/mirror\"} 1");
	expect_metric("mirrorgate_tmr_lag_seconds{tmr=\"app/mirror\"}");
	/* history for the webhook, without mirrorgate's PVC finalizer */
	for (int i = 0; i < 80 && !strstr(pvc_history(), "svm-a:vol_src"); i++)
		rec_e2e_nap(100);
	cr_assert(strstr(pvc_history(), "\"remoteVolumeHandle\":\"svm-a:vol_src\""), "%s",
		  pvc_history());
	cr_assert(strstr(pvc_history(), "\"role\":\"destination\""), "%s", pvc_history());
	/* topology published for the webhook */
	cJSON *topo = NULL;
	for (int i = 0; i < 50 && !topo; i++, rec_e2e_nap(100))
		topo = rec_env_get(&E, &mg_k8s_res_configmap, "default", "mirrorgate-topology");
	cr_assert_not_null(topo, "topology ConfigMap; see %s", R.log);
	char *topo_text = cJSON_PrintUnformatted(topo);
	cr_assert(strstr(topo_text, "svm-b"), "%s", topo_text);
	free(topo_text);
	cJSON_Delete(topo);

	/* lag beyond the schedule: 20 minutes without a transfer, twice 5min is 10 */
	ontap_sim_advance(&E.ontap, 20 * 60 * 1000);
	cr_assert(wait_event("app", "mirror", "LagBeyondSchedule", 8000), "see %s", R.log);
	cr_assert(strstr(rec_env_event_message(&E, "app", "mirror", "LagBeyondSchedule"),
			 "snapmirror show -destination-path svm-b:vol_dst"));

	/* planned failover with a snapshot that has not arrived: Trident marks it failed (H1) */
	rec_env_patch_spec(&E, "app", "mirror",
			   "{\"spec\":{\"state\":\"promoted\",\"volumeMappings\":[{"
			   "\"localPVCName\":\"data\",\"remoteVolumeHandle\":\"svm-a:vol_src\","
			   "\"promotedSnapshotHandle\":\"pvc-x/snapshot-not-yet\"}]}}");
	trident_writes("failed", "Could not promote mirror");
	cr_assert(wait_event("app", "mirror", "PromotedSnapshotNotArrived", 8000), "see %s",
		  R.log);
	cr_assert(strstr(rec_env_event_message(&E, "app", "mirror", "PromotedSnapshotNotArrived"),
			 "snapshot-not-yet"));

	/* unplanned failover: the source cluster is down, a normal break cannot work */
	rec_env_patch_spec(&E, "app", "mirror",
			   "{\"spec\":{\"volumeMappings\":[{\"localPVCName\":\"data\","
			   "\"remoteVolumeHandle\":\"svm-a:vol_src\"}]}}");
	trident_writes("promoting", "");
	cr_assert_eq(ontap_sim_control(&E.ontap, "POST", "faults",
				       "{\"type\":\"peer\",\"cluster\":\"cluster-a\","
				       "\"reachable\":false,\"count\":1}",
				       NULL),
		     200);
	cr_assert(wait_event("app", "mirror", "ForcedBreakNeeded", 8000), "see %s", R.log);
	const char *msg = rec_env_event_message(&E, "app", "mirror", "ForcedBreakNeeded");
	cr_assert(strstr(msg, "snapmirror break -destination-path svm-b:vol_dst -force true"),
		  "%s", msg);
	cr_assert(strstr(msg, g_rel_uuid), "%s", msg);
	expect_metric("mirrorgate_companion_explanations_total{reason=\"ForcedBreakNeeded\"} 1");

	/* Trident (here the test) breaks with force and reports promoted */
	mg_ontap_state_change ch = {.state = "broken_off", .force = true};
	mg_ontap_error err;
	cr_assert_eq(mg_ontap_relationship_set_state(E.cb, g_rel_uuid, &ch, &err), 0, "%s",
		     err.message);
	trident_writes("promoted", "");
	expect_metric("mirrorgate_tmr_state{tmr=\"app/mirror\",state=\"promoted\"} 1");
	rec_e2e_nap(1500); /* more passes under the resync period */

	/* nothing Trident owns was written by the reconciler, which did read */
	int k8s_reads = 0, ontap_reads = 0;
	cr_assert_eq(reconciler_trident_writes(&k8s_reads), 0, "see %s", g_kube_log);
	cr_assert_gt(k8s_reads, 0, "the request log sees the reconciler");
	cr_assert_eq(reconciler_ontap_writes(&ontap_reads), 0);
	cr_assert_gt(ontap_reads, 0, "the request log sees the reconciler");
	cr_assert_str_eq(rec_e2e_status(&E, &mg_k8s_res_tamu, "app", "update-1", "state"), "",
			 "the TAMU is Trident's");
	cJSON *pvc = rec_env_get(&E, &mg_k8s_res_pvc, "app", "data");
	char *pvc_text = cJSON_PrintUnformatted(pvc);
	cr_assert_null(strstr(pvc_text, "mirrorgate.io/replication\""),
		       "no PVC finalizer in companion mode: %s", pvc_text);
	free(pvc_text);
	cJSON_Delete(pvc);
	rec_e2e_assert_no_loss(&E);
	cr_assert_eq(rec_proc_stop(&R, false), 0, "a clean SIGTERM exit (with MG_SANITIZE: no leak); see %s", R.log);
}

/* ---- backends from TridentBackendConfigs ---- */

static char *b64(const char *s)
{
	size_t n = strlen(s);
	char *out = malloc(4 * ((n + 2) / 3) + 1);
	cr_assert_not_null(out);
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
	return out;
}

static void put_secret(const char *name, const char *user, const char *password)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "apiVersion", "v1");
	cJSON_AddStringToObject(o, "kind", "Secret");
	cJSON *md = cJSON_AddObjectToObject(o, "metadata");
	cJSON_AddStringToObject(md, "name", name);
	cJSON_AddStringToObject(md, "namespace", "trident");
	cJSON_AddStringToObject(o, "type", "Opaque");
	cJSON *data = cJSON_AddObjectToObject(o, "data");
	/* Trident lower-cases the keys it reads: any case works */
	char *u = user ? b64(user) : NULL, *p = password ? b64(password) : NULL;
	if (u)
		cJSON_AddStringToObject(data, "username", u);
	if (p)
		cJSON_AddStringToObject(data, "Password", p);
	free(u);
	free(p);
	mg_k8s_status st;
	cJSON *cur = rec_env_get(&E, &mg_k8s_res_secret, "trident", name);
	int rc;
	if (cur) {
		cJSON_ReplaceItemInObject(cur, "data", cJSON_Duplicate(data, 1));
		rc = mg_k8s_update(NULL, E.k8s, &mg_k8s_res_secret, "trident", cur, &st);
		cJSON_Delete(cur);
	} else {
		rc = mg_k8s_create(NULL, E.k8s, &mg_k8s_res_secret, "trident", o, &st);
	}
	cr_assert_eq(rc, 0, "%s", st.message);
	cJSON_Delete(o);
}

static void put_tbc_cert(const char *name, const char *secret, const char *client_cert_pem);

static void put_tbc(const char *name, const char *secret)
{
	put_tbc_cert(name, secret, NULL);
}

static void put_tbc_cert(const char *name, const char *secret, const char *client_cert_pem)
{
	char *ca_pem = NULL;
	size_t len = 0;
	cr_assert_eq(mg_read_file(E.ontap.ca_file, 1 << 20, &ca_pem, &len), 0);
	char *ca = b64(ca_pem);
	free(ca_pem);
	char *cert = client_cert_pem ? b64(client_cert_pem) : NULL;
	size_t cap = strlen(ca) + (cert ? strlen(cert) : 0) + 1024;
	char *y = malloc(cap);
	snprintf(y, cap,
		 "{\"apiVersion\":\"trident.netapp.io/v1\",\"kind\":\"TridentBackendConfig\","
		 "\"metadata\":{\"name\":\"%s\",\"namespace\":\"trident\"},"
		 "\"spec\":{\"version\":1,\"storageDriverName\":\"ontap-nas\","
		 "\"managementLIF\":\"%s\",\"svm\":\"svm-b\",\"trustedCACertificate\":\"%s\","
		 "%s%s%s\"credentials\":{\"name\":\"%s\"}}}",
		 name, E.ontap.clusters[1].url + strlen("https://"), ca,
		 cert ? "\"clientCertificate\":\"" : "", cert ? cert : "", cert ? "\"," : "",
		 secret);
	rec_env_create(&E, &k_tbc, "trident", y);
	free(y);
	free(ca);
	free(cert);
}

#define TBC_READY(name, v) "mirrorgate_backend_ready{backend=\"" name "\",source=\"TridentBackendConfig\"} " v

Test(reconciler_trident, backends_from_tridentbackendconfigs)
{
	/* no Trident controller here (no TridentVersion): controller mode, ONTAP from TBCs */
	put_secret("ontap-b-secret", "admin", "password-b");
	put_tbc("ontap-b", "ontap-b-secret");
	put_tbc("ontap-broken", "no-such-secret");
	rec_env_mirror_pair(&E);
	start((const char *const[]){"--backends-from-trident", "--trident-namespace", "trident",
				    "--mode", "controller", NULL});
	expect_metric(TBC_READY("ontap-b", "1"));
	rec_env_create(&E, &mg_k8s_res_tmr, "app", REC_E2E_TMR);
	cr_assert(rec_e2e_wait_state(&E, "app", "mirror", "established", 20000), "see %s", R.log);

	/* a TBC whose Secret is missing: status (metric, log, Event), no crash */
	expect_metric(TBC_READY("ontap-broken", "0"));
	cr_assert(rec_e2e_wait_file(R.log, "Secret trident/no-such-secret does not exist", 3000));
	cr_assert(wait_event("trident", "ontap-broken", "MirrorgateBackendUnusable", 3000));
	cr_assert_eq(rec_proc_get(&R, "/healthz", NULL), 200);

	/* a Secret without a password: said what is missing */
	put_secret("half-secret", "admin", NULL);
	put_tbc("ontap-half", "half-secret");
	cr_assert(rec_e2e_wait_file(R.log, "needs the keys username and password", 5000),
		  "see %s", R.log);
	expect_metric(TBC_READY("ontap-half", "0"));

	/* rotation: ONTAP's password changes, then the Secret; no restart */
	cr_assert_eq(ontap_sim_control(&E.ontap, "POST", "clusters",
				       "{\"cluster\":\"cluster-b\",\"password\":\"Rotated-7f3a\"}",
				       NULL),
		     200);
	put_secret("ontap-b-secret", "admin", "Rotated-7f3a");
	cr_assert(rec_e2e_wait_file(R.log, "backend credentials re-read from TridentBackendConfig",
				    5000),
		  "see %s", R.log);
	/* the new client works: a second relationship is established */
	rec_env_volume(&E, 0, "vol_src2", "rw");
	rec_env_write(&E, 0, "svm-a:vol_src2");
	mg_ontap_client_free(E.cb);
	mg_ontap_config oc;
	ontap_sim_client_config(&E.ontap, 1, &oc);
	oc.password = "Rotated-7f3a";
	oc.now_ms = NULL;
	oc.sleep_ms = NULL;
	oc.clock_ctx = NULL;
	cr_assert_eq(mg_ontap_client_new(&E.cb, &oc), 0);
	rec_env_volume(&E, 1, "vol_dst2", "dp");
	rec_env_pvc(&E, "app", "data2", "vol_dst2");
	rec_env_create(&E, &mg_k8s_res_tmr, "app",
		       "apiVersion: trident.netapp.io/v1\nkind: TridentMirrorRelationship\n"
		       "metadata: {name: mirror2, namespace: app}\n"
		       "spec:\n  state: established\n  replicationPolicy: MirrorAllSnapshots\n"
		       "  volumeMappings:\n  - localPVCName: data2\n"
		       "    remoteVolumeHandle: svm-a:vol_src2\n");
	cr_assert(rec_e2e_wait_state(&E, "app", "mirror2", "established", 20000), "see %s",
		  R.log);
	/* no secret in the log */
	cr_assert_not(rec_e2e_file_contains(R.log, "Rotated-7f3a"));
	cr_assert_not(rec_e2e_file_contains(R.log, "password-b"));

	/* the TBC deleted: its backend and its series go */
	remove_obj(&k_tbc, "trident", "ontap-broken");
	char *body = NULL;
	cr_assert(rec_e2e_wait_metric(&R, "backend=\"ontap-broken\"", false, 5000, &body), "%s",
		  body ? body : "");
	free(body);
	cr_assert_eq(rec_proc_stop(&R, false), 0, "a clean SIGTERM exit (with MG_SANITIZE: no leak); see %s", R.log);
}

/* Trident's other authentication: spec.clientCertificate (base64 PEM) and the Secret's
 * clientPrivateKey (base64 PEM, inside the Secret's own base64), against an ontap-sim that
 * maps the certificate's CN to a user. */
Test(reconciler_trident, backend_from_tbc_with_a_client_certificate)
{
	mg_pem_pair ca = {0}, leaf = {0};
	cr_assert_eq(mg_tls_make_ca(&ca, "client-ca", 1), 0);
	cr_assert_eq(mg_tls_make_leaf(&leaf, &ca, "admin", NULL, 0, 1, true), 0);
	char ca_path[128];
	snprintf(ca_path, sizeof(ca_path), "%s/client-ca.pem", g_dir);
	cr_assert_eq(mg_write_file_atomic(ca_path, ca.cert_pem, strlen(ca.cert_pem), 0600), 0);
	/* ontap-sim again, now accepting client certificates */
	mg_ontap_client_free(E.ca);
	mg_ontap_client_free(E.cb);
	ontap_sim_stop(&E.ontap);
	const char *args[] = {"--realtime", "--client-ca", ca_path, NULL};
	ontap_sim_start_bin(&E.ontap, MG_BIN_DIR "/ontap-sim", NULL, args);
	cr_assert_eq(ontap_sim_control(&E.ontap, "POST", "settings",
				       "{\"job_queue_ms\":10,\"job_run_ms\":30,"
				       "\"transfer_queue_ms\":20,\"transfer_ms\":100}",
				       NULL),
		     200);
	mg_ontap_config oc;
	for (int i = 0; i < 2; i++) {
		ontap_sim_client_config(&E.ontap, (size_t)i, &oc);
		oc.now_ms = NULL;
		oc.sleep_ms = NULL;
		oc.clock_ctx = NULL;
		cr_assert_eq(mg_ontap_client_new(i ? &E.cb : &E.ca, &oc), 0);
	}
	char *key_b64 = b64(leaf.key_pem);
	char *key_data = b64(key_b64); /* the Secret's data encoding on top of Trident's */
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "apiVersion", "v1");
	cJSON_AddStringToObject(o, "kind", "Secret");
	cJSON *md = cJSON_AddObjectToObject(o, "metadata");
	cJSON_AddStringToObject(md, "name", "cert-secret");
	cJSON_AddStringToObject(md, "namespace", "trident");
	cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "data"), "clientPrivateKey", key_data);
	mg_k8s_status st;
	cr_assert_eq(mg_k8s_create(NULL, E.k8s, &mg_k8s_res_secret, "trident", o, &st), 0, "%s",
		     st.message);
	cJSON_Delete(o);
	put_tbc_cert("ontap-cert", "cert-secret", leaf.cert_pem);
	rec_env_mirror_pair(&E);
	start((const char *const[]){"--backends-from-trident", "--mode", "controller", NULL});
	expect_metric(TBC_READY("ontap-cert", "1"));
	rec_env_create(&E, &mg_k8s_res_tmr, "app", REC_E2E_TMR);
	cr_assert(rec_e2e_wait_state(&E, "app", "mirror", "established", 20000), "see %s", R.log);
	cr_assert_not(rec_e2e_file_contains(R.log, key_b64), "no key in the log");
	cr_assert_eq(rec_proc_stop(&R, false), 0, "a clean SIGTERM exit (with MG_SANITIZE: no leak); see %s", R.log);

	free(key_b64);
	free(key_data);
	unlink(ca_path);
	mg_pem_pair_free(&ca);
	mg_pem_pair_free(&leaf);
}
