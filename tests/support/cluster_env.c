#include "cluster_env.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "mirrorgate/core/doc.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/ontap/volume.h"
#include "mirrorgate/util/strbuf.h"
#include "mirrorgate/util/tls.h"
#include "run_cmd.h"

const mg_k8s_resource cluster_res_vsclass = {"snapshot.storage.k8s.io", "v1",
					     "volumesnapshotclasses", false};

static const char *const passwords[] = {"password-a", "password-b"};

static void nap(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static cJSON *parse(const char *yaml)
{
	mg_doc_list docs = {0};
	mg_parse_error perr;
	cr_assert_eq(mg_doc_parse_yaml(&docs, yaml, strlen(yaml), &perr), 0, "bad YAML (%s): %s",
		     perr.message, yaml);
	cr_assert_eq(docs.len, 1);
	cJSON *o = docs.items[0].root;
	docs.items[0].root = NULL;
	mg_doc_list_free(&docs);
	return o;
}

void cluster_env_start_ontap_at(cluster_env *e, const char *bin_dir, const char *source_dir,
				const char *config_yaml)
{
	static const char *const rt[] = {"--realtime", NULL};
	memset(e, 0, sizeof(*e));
	snprintf(e->dir, sizeof(e->dir), "/tmp/mg-cluster-XXXXXX");
	cr_assert_not_null(mkdtemp(e->dir));
	snprintf(e->bin_dir, sizeof(e->bin_dir), "%s", bin_dir);
	snprintf(e->source_dir, sizeof(e->source_dir), "%s", source_dir);
	char bin[600];
	snprintf(bin, sizeof(bin), "%s/ontap-sim", bin_dir);
	ontap_sim_start_bin(&e->ontap, bin, config_yaml, rt);
	/* Fast, but still asynchronous: pollers see queued/running jobs and transfers. */
	cr_assert_eq(ontap_sim_control(&e->ontap, "POST", "settings",
				       "{\"job_queue_ms\":10,\"job_run_ms\":30,"
				       "\"transfer_queue_ms\":20,\"transfer_ms\":100}",
				       NULL),
		     200);
	for (size_t i = 0; i < 2 && i < e->ontap.nclusters; i++) {
		mg_ontap_config oc;
		ontap_sim_client_config(&e->ontap, i, &oc);
		oc.now_ms = NULL;
		oc.sleep_ms = NULL;
		oc.clock_ctx = NULL;
		cr_assert_eq(mg_ontap_client_new(&e->ontap_client[i], &oc), 0);
	}
}

void cluster_env_backend_yaml(cluster_env *e, int ontap_index, const char *svm, const char *name,
			      char *out, size_t len)
{
	char pwfile[400];
	snprintf(pwfile, sizeof(pwfile), "%s/password-%d", e->dir, ontap_index);
	/* The password goes in a file, as a mounted Secret would (trailing newline included). */
	char pw[64];
	int n = snprintf(pw, sizeof(pw), "%s\n", passwords[ontap_index]);
	cr_assert_eq(mg_write_file_atomic(pwfile, pw, (size_t)n, 0600), 0);
	snprintf(out, len,
		 "- name: %s\n  managementLIF: %s\n  svm: %s\n  username: admin\n"
		 "  passwordFile: %s\n  trustedCAFile: %s\n",
		 name, e->ontap.clusters[ontap_index].url, svm, pwfile, e->ontap.ca_file);
}

void cluster_env_start_side(cluster_env *e, cluster_side *s, int ontap_index, const char *svm,
			    const char *backends_yaml)
{
	cluster_env_start_side_wrapped(e, s, NULL, ontap_index, svm, backends_yaml);
}

void cluster_env_start_side_wrapped(cluster_env *e, cluster_side *s, const char *const *wrapper,
				    int ontap_index, const char *svm, const char *backends_yaml)
{
	memset(s, 0, sizeof(*s));
	s->ontap_index = ontap_index;
	snprintf(s->svm, sizeof(s->svm), "%s", svm);
	char backends[2048];
	if (!backends_yaml) {
		cluster_env_backend_yaml(e, ontap_index, svm,
					 ontap_index == 0 ? "ontap-a" : "ontap-b", backends,
					 sizeof(backends));
		backends_yaml = backends;
	}
	char text[4096];
	int n = snprintf(text, sizeof(text),
			 "backends:\n%s"
			 "settings: {retryBaseMs: 100, retryCapMs: 1000, resyncMs: 500}\n",
			 backends_yaml);
	snprintf(s->prov_file, sizeof(s->prov_file), "%s/provisioner-%s.yaml", e->dir,
		 s == &e->a ? "a" : "b");
	cr_assert_eq(mg_write_file_atomic(s->prov_file, text, (size_t)n, 0600), 0);
	const char *extra[] = {"--provisioner", s->prov_file, NULL};
	cr_assert_eq(kube_sim_start_wrapped_at(&s->kube, wrapper, e->bin_dir, e->source_dir, extra), 0,
		     "kube-sim with --provisioner did not start");
	s->up = true;
	mg_k8s_config *cfg = NULL;
	char why[256] = "";
	cr_assert_eq(mg_k8s_config_from_kubeconfig(&cfg, s->kube.kubeconfig, NULL, why, sizeof(why)),
		     0, "%s", why);
	cr_assert_eq(mg_k8s_client_new(&s->k8s, cfg), 0);
	mg_k8s_config_free(cfg);
	cluster_env_create(s, &mg_k8s_res_sc, NULL,
			   "apiVersion: storage.k8s.io/v1\nkind: StorageClass\n"
			   "metadata: {name: trident}\nprovisioner: csi.trident.netapp.io\n"
			   "parameters: {backendType: ontap-nas, trident.netapp.io/replication: "
			   "\"true\"}\nreclaimPolicy: Delete\n");
	cluster_env_create(s, &cluster_res_vsclass, NULL,
			   "apiVersion: snapshot.storage.k8s.io/v1\nkind: VolumeSnapshotClass\n"
			   "metadata: {name: trident-snapclass}\ndriver: csi.trident.netapp.io\n"
			   "deletionPolicy: Delete\n");
}

void cluster_env_start_at(cluster_env *e, const char *bin_dir, const char *source_dir)
{
	cluster_env_start_ontap_at(e, bin_dir, source_dir, NULL);
	cluster_env_start_side(e, &e->a, 0, "svm-a", NULL);
	cluster_env_start_side(e, &e->b, 1, "svm-b", NULL);
}

static void side_stop(cluster_side *s)
{
	if (s->wh_up) {
		mg_wht_stop(&s->wh, SIGTERM, 5000);
		mg_wht_cleanup(&s->wh);
		s->wh_up = false;
	}
	if (s->rec.pid > 0)
		rec_proc_stop(&s->rec, false);
	if (!getenv("MG_KEEP_LOGS"))
		rec_proc_cleanup(&s->rec);
	mg_k8s_client_free(s->k8s);
	s->k8s = NULL;
	if (s->up)
		kube_sim_stop(&s->kube);
	s->up = false;
}

void cluster_env_stop(cluster_env *e)
{
	side_stop(&e->a);
	side_stop(&e->b);
	for (int i = 0; i < 2; i++)
		mg_ontap_client_free(e->ontap_client[i]);
	memset(e->ontap_client, 0, sizeof(e->ontap_client));
	ontap_sim_stop(&e->ontap);
	if (e->dir[0]) {
		static const char *const files[] = {"password-0", "password-1", "provisioner-a.yaml",
						    "provisioner-b.yaml"};
		for (size_t i = 0; i < 4; i++) {
			char f[128];
			snprintf(f, sizeof(f), "%s/%s", e->dir, files[i]);
			unlink(f);
		}
		rmdir(e->dir);
		e->dir[0] = '\0';
	}
}

int cluster_env_try_create(cluster_side *s, const mg_k8s_resource *r, const char *ns,
			   const char *yaml)
{
	cJSON *o = parse(yaml);
	mg_k8s_status st;
	int rc = mg_k8s_create(NULL, s->k8s, r, ns, o, &st);
	cJSON_Delete(o);
	return rc;
}

void cluster_env_create(cluster_side *s, const mg_k8s_resource *r, const char *ns,
			const char *yaml)
{
	int rc = cluster_env_try_create(s, r, ns, yaml);
	cr_assert(rc == 0 || rc == MG_EEXIST, "create: %s\n%s", mg_strerror(rc), yaml);
}

void cluster_env_namespace(cluster_side *s, const char *ns)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "{apiVersion: v1, kind: Namespace, metadata: {name: %s}}", ns);
	cluster_env_create(s, &mg_k8s_res_namespace, NULL, buf);
}

cJSON *cluster_env_get(cluster_side *s, const mg_k8s_resource *r, const char *ns,
		       const char *name)
{
	cJSON *o = NULL;
	mg_k8s_status st;
	int rc = mg_k8s_get(&o, s->k8s, r, ns, name, &st);
	cr_assert(rc == 0 || rc == MG_ENOTFOUND, "get %s: %s", name, mg_strerror(rc));
	return o;
}

void cluster_env_delete(cluster_side *s, const mg_k8s_resource *r, const char *ns,
			const char *name)
{
	mg_k8s_status st;
	int rc = mg_k8s_delete(s->k8s, r, ns, name, NULL, NULL, &st);
	cr_assert(rc == 0 || rc == MG_ENOTFOUND, "delete %s: %s", name, mg_strerror(rc));
}

void cluster_env_patch(cluster_side *s, const mg_k8s_resource *r, const char *ns,
		       const char *name, const char *merge_json)
{
	cJSON *p = cJSON_Parse(merge_json);
	cr_assert_not_null(p, "bad patch %s", merge_json);
	mg_k8s_status st;
	int rc = mg_k8s_patch(NULL, s->k8s, r, ns, name, NULL, MG_K8S_PATCH_MERGE, p, &st);
	cJSON_Delete(p);
	cr_assert_eq(rc, 0, "patch %s: %s %s", name, mg_strerror(rc), st.message);
}

const char *cluster_env_str(const cJSON *obj, const char *path, char *buf, size_t len)
{
	buf[0] = '\0';
	const cJSON *n = obj;
	const char *p = path;
	while (n && *p) {
		char key[256];
		size_t k = 0;
		if (*p == '[') {
			p++;
			while (*p && *p != ']' && k + 1 < sizeof(key))
				key[k++] = *p++;
			if (*p == ']')
				p++;
		} else {
			while (*p && *p != '.' && k + 1 < sizeof(key))
				key[k++] = *p++;
		}
		key[k] = '\0';
		if (*p == '.')
			p++;
		n = cJSON_IsObject(n) ? cJSON_GetObjectItemCaseSensitive(n, key) : NULL;
	}
	if (cJSON_IsString(n))
		snprintf(buf, len, "%s", n->valuestring);
	else if (cJSON_IsBool(n))
		snprintf(buf, len, "%s", cJSON_IsTrue(n) ? "true" : "false");
	else if (cJSON_IsNumber(n))
		snprintf(buf, len, "%.0f", n->valuedouble);
	return buf;
}

bool cluster_env_wait_field(cluster_side *s, const mg_k8s_resource *r, const char *ns,
			    const char *name, const char *path, const char *want, long timeout_ms)
{
	for (long t = 0; t <= timeout_ms; t += 50) {
		cJSON *o = cluster_env_get(s, r, ns, name);
		char buf[1024];
		bool ok = o && strcmp(cluster_env_str(o, path, buf, sizeof(buf)), want) == 0;
		cJSON_Delete(o);
		if (ok)
			return true;
		nap(50);
	}
	return false;
}

bool cluster_env_wait_gone(cluster_side *s, const mg_k8s_resource *r, const char *ns,
			   const char *name, long timeout_ms)
{
	for (long t = 0; t <= timeout_ms; t += 50) {
		cJSON *o = cluster_env_get(s, r, ns, name);
		cJSON_Delete(o);
		if (!o)
			return true;
		nap(50);
	}
	return false;
}

static cJSON *events(cluster_side *s, const char *ns)
{
	cJSON *list = NULL;
	mg_k8s_status st;
	mg_k8s_list_opts o = {0};
	int rc = mg_k8s_list(&list, s->k8s, &mg_k8s_res_event, ns, &o, &st);
	cr_assert_eq(rc, 0, "list events: %s", mg_strerror(rc));
	return list;
}

static bool event_matches(const cJSON *ev, const char *name, const char *reason)
{
	const cJSON *nm = cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "involvedObject"), "name");
	const cJSON *rs = cJSON_GetObjectItem(ev, "reason");
	return cJSON_IsString(nm) && strcmp(nm->valuestring, name) == 0 && cJSON_IsString(rs) &&
	       strcmp(rs->valuestring, reason) == 0;
}

int cluster_env_events(cluster_side *s, const char *ns, const char *name, const char *reason)
{
	cJSON *list = events(s, ns);
	int n = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(list, "items"))
	{
		/* a repeated event is one object with a count, as client-go records it */
		const cJSON *cnt = cJSON_GetObjectItem(it, "count");
		if (event_matches(it, name, reason))
			n += cJSON_IsNumber(cnt) && cnt->valuedouble >= 1 ? (int)cnt->valuedouble : 1;
	}
	cJSON_Delete(list);
	return n;
}

bool cluster_env_wait_event(cluster_side *s, const char *ns, const char *name,
			    const char *reason, int min, long timeout_ms)
{
	for (long t = 0; t <= timeout_ms; t += 50) {
		if (cluster_env_events(s, ns, name, reason) >= min)
			return true;
		nap(50);
	}
	return false;
}

const char *cluster_env_event_message(cluster_side *s, const char *ns, const char *name,
				      const char *reason, char *buf, size_t len)
{
	buf[0] = '\0';
	cJSON *list = events(s, ns);
	const cJSON *it;
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(list, "items"))
	{
		const cJSON *m = cJSON_GetObjectItem(it, "message");
		if (event_matches(it, name, reason) && cJSON_IsString(m))
			snprintf(buf, len, "%s", m->valuestring);
	}
	cJSON_Delete(list);
	return buf;
}

bool cluster_env_volume(cluster_env *e, int ontap_index, const char *svm, const char *name,
			char *type, size_t type_len)
{
	mg_ontap_volume v;
	mg_ontap_error err;
	int rc = mg_ontap_volume_get(e->ontap_client[ontap_index], svm, name, &v, &err);
	cr_assert(rc == 0 || rc == MG_ENOTFOUND, "volume get: %s", err.message);
	if (rc == 0 && type)
		snprintf(type, type_len, "%s", v.type);
	return rc == 0;
}

int cluster_env_count_volumes(cluster_env *e, int ontap_index, const char *prefix)
{
	cJSON *resp = NULL;
	int status = 0;
	mg_ontap_error err;
	int rc = mg_ontap_request(e->ontap_client[ontap_index], "GET",
				  "/api/storage/volumes?fields=name&max_records=1000", NULL, &status,
				  &resp, &err);
	cr_assert_eq(rc, 0, "list volumes: %s", err.message);
	int n = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(resp, "records"))
	{
		const cJSON *nm = cJSON_GetObjectItem(it, "name");
		n += cJSON_IsString(nm) && strncmp(nm->valuestring, prefix, strlen(prefix)) == 0;
	}
	cJSON_Delete(resp);
	return n;
}

bool cluster_env_has_snapshot(cluster_env *e, int ontap_index, const char *svm,
			      const char *volume, const char *snapshot)
{
	mg_ontap_volume v;
	mg_ontap_snapshot s;
	mg_ontap_error err;
	mg_ontap_client *c = e->ontap_client[ontap_index];
	if (mg_ontap_volume_get(c, svm, volume, &v, &err) != 0)
		return false;
	return mg_ontap_snapshot_get(c, v.uuid, snapshot, &s, &err) == 0;
}

int cluster_env_ledger(cluster_env *e, char **text)
{
	cJSON *out = NULL;
	cr_assert_eq(ontap_sim_control(&e->ontap, "GET", "ledger", NULL, &out), 200);
	int n = cJSON_GetArraySize(cJSON_GetObjectItem(out, "entries"));
	if (text)
		*text = cJSON_PrintUnformatted(out);
	cJSON_Delete(out);
	return n;
}

void cluster_env_start_reconciler(cluster_env *e, cluster_side *s, const char *identity)
{
	cluster_env_start_reconciler_with(e, s, identity, NULL);
}

void cluster_env_start_reconciler_with(cluster_env *e, cluster_side *s, const char *identity,
				       const char *const *extra)
{
	char bin[600];
	snprintf(bin, sizeof(bin), "%s/mirrorgate-reconciler", e->bin_dir);
	rec_proc_config(&s->rec, e->ontap.clusters[s->ontap_index].url, s->svm, e->ontap.ca_file,
			"admin", passwords[s->ontap_index]);
	rec_proc_start(&s->rec, bin, s->kube.kubeconfig, identity, extra);
}

const char *cluster_env_cond(cluster_side *s, const char *tmr, const char *field)
{
	static char buf[1024];
	cJSON *o = cluster_env_get(s, &mg_k8s_res_tmr, "app", tmr);
	const cJSON *c = cJSON_GetArrayItem(
		cJSON_GetObjectItem(cJSON_GetObjectItem(o, "status"), "conditions"), 0);
	const cJSON *v = cJSON_GetObjectItem(c, field);
	snprintf(buf, sizeof(buf), "%s", cJSON_IsString(v) ? v->valuestring : "");
	cJSON_Delete(o);
	return buf;
}

bool cluster_env_wait_tmr(cluster_side *s, const char *tmr, const char *state, long timeout_ms)
{
	for (long t = 0; t <= timeout_ms; t += 100) {
		if (strcmp(cluster_env_cond(s, tmr, "state"), state) == 0)
			return true;
		nap(100);
	}
	return false;
}

static void internal_of(cluster_side *s, const char *claim, char *out, size_t len)
{
	char pv[256];
	cJSON *c = cluster_env_get(s, &mg_k8s_res_pvc, "app", claim);
	cluster_env_str(c, "spec.volumeName", pv, sizeof(pv));
	cJSON_Delete(c);
	cJSON *v = cluster_env_get(s, &mg_k8s_res_pv, NULL, pv);
	cluster_env_str(v, "spec.csi.volumeAttributes.internalName", out, len);
	cJSON_Delete(v);
}

void cluster_env_mirror(cluster_env *e, const char *claim, char *vol_a, size_t vol_a_len,
			char *vol_b, size_t vol_b_len)
{
	char y[1024];
	snprintf(y, sizeof(y),
		 "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: %s, namespace: app}\n"
		 "spec:\n  accessModes: [ReadWriteMany]\n  resources: {requests: {storage: 1Gi}}\n"
		 "  storageClassName: trident\n",
		 claim);
	cluster_env_create(&e->a, &mg_k8s_res_pvc, "app", y);
	cr_assert(cluster_env_wait_field(&e->a, &mg_k8s_res_pvc, "app", claim, "status.phase",
					 "Bound", 15000));
	internal_of(&e->a, claim, vol_a, vol_a_len);
	snprintf(y, sizeof(y),
		 "apiVersion: trident.netapp.io/v1\nkind: TridentMirrorRelationship\n"
		 "metadata: {name: mirror, namespace: app}\n"
		 "spec:\n  state: promoted\n  replicationPolicy: MirrorAllSnapshots\n"
		 "  volumeMappings:\n  - localPVCName: %s\n",
		 claim);
	cluster_env_create(&e->a, &mg_k8s_res_tmr, "app", y);
	snprintf(y, sizeof(y),
		 "apiVersion: trident.netapp.io/v1\nkind: TridentMirrorRelationship\n"
		 "metadata: {name: mirror, namespace: app}\n"
		 "spec:\n  state: established\n  replicationPolicy: MirrorAllSnapshots\n"
		 "  volumeMappings:\n  - localPVCName: %s\n    remoteVolumeHandle: svm-a:%s\n",
		 claim, vol_a);
	cluster_env_create(&e->b, &mg_k8s_res_tmr, "app", y);
	snprintf(y, sizeof(y),
		 "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: %s\n"
		 "  namespace: app\n  annotations: {trident.netapp.io/mirrorRelationship: mirror}\n"
		 "spec:\n  accessModes: [ReadWriteMany]\n  resources: {requests: {storage: 1Gi}}\n"
		 "  storageClassName: trident\n",
		 claim);
	cluster_env_create(&e->b, &mg_k8s_res_pvc, "app", y);
	cr_assert(cluster_env_wait_field(&e->b, &mg_k8s_res_pvc, "app", claim, "status.phase",
					 "Bound", 15000));
	internal_of(&e->b, claim, vol_b, vol_b_len);
	cr_assert(cluster_env_wait_tmr(&e->b, "mirror", "established", 30000),
		  "B's TMR: state '%s' message '%s'; see %s", cluster_env_cond(&e->b, "mirror", "state"),
		  cluster_env_cond(&e->b, "mirror", "message"), e->b.rec.log);
}

void cluster_env_start_with_reconcilers_at(cluster_env *e, const char *bin_dir,
					    const char *source_dir, const char *ns)
{
	cluster_env_start_at(e, bin_dir, source_dir);
	cluster_env_namespace(&e->a, ns);
	cluster_env_namespace(&e->b, ns);
	cluster_env_start_reconciler(e, &e->a, "rec-a");
	cluster_env_start_reconciler(e, &e->b, "rec-b");
}

/* ---- the two-site lab: a webhook per site, kubectl ---- */

static const mg_k8s_resource res_vwc = {"admissionregistration.k8s.io", "v1",
					"validatingwebhookconfigurations", false};
static const mg_k8s_resource res_mwc = {"admissionregistration.k8s.io", "v1",
					"mutatingwebhookconfigurations", false};

/* Settled relationships are re-read every 2 s instead of 5 min: the source side learns its
 * destinations (and a returning site its split-brain) within a scenario's patience. */
const char *const cluster_env_lab_reconciler_args[] = {"--resync-period", "2s", NULL};

static bool webhook_ready(mg_wht *w)
{
	mg_wht_resp r;
	mg_wht_request(w, NULL, "GET", "/readyz", NULL, NULL, 0, &r);
	bool ok = r.status == 200;
	mg_wht_resp_free(&r);
	return ok;
}

/* The shipped webhook configurations with clientConfig.service replaced by the url of this
 * side's webhook and its CA: the same rules, selectors and failure policies as a cluster. */
static void register_webhooks(cluster_env *e, cluster_side *s)
{
	char path[700], *text = NULL, *ca = NULL;
	size_t len = 0, ca_len = 0;
	snprintf(path, sizeof(path), "%s/manifests/base/webhook/webhooks.yaml", e->source_dir);
	cr_assert_eq(mg_read_file(path, 1 << 20, &text, &len), 0, "read %s", path);
	cr_assert_eq(mg_read_file(s->wh.ca_path, 1 << 20, &ca, &ca_len), 0);
	char *b64 = malloc(4 * ((ca_len + 2) / 3) + 1);
	cr_assert_not_null(b64);
	EVP_EncodeBlock((unsigned char *)b64, (unsigned char *)ca, (int)ca_len);
	mg_doc_list docs = {0};
	mg_parse_error perr;
	cr_assert_eq(mg_doc_parse_yaml(&docs, text, len, &perr), 0, "%s: %s", path, perr.message);
	cr_assert_eq(docs.len, 2, "%s: want a validating and a mutating configuration", path);
	for (size_t d = 0; d < docs.len; d++) {
		cJSON *o = docs.items[d].root;
		const char *kind = cJSON_GetStringValue(cJSON_GetObjectItem(o, "kind"));
		cr_assert_not_null(kind);
		bool mutating = strcmp(kind, "MutatingWebhookConfiguration") == 0;
		cJSON *hook;
		cJSON_ArrayForEach(hook, cJSON_GetObjectItem(o, "webhooks"))
		{
			cJSON *cc = cJSON_GetObjectItem(hook, "clientConfig");
			const char *p = cJSON_GetStringValue(cJSON_GetObjectItem(
				cJSON_GetObjectItem(cc, "service"), "path"));
			cr_assert_not_null(p, "%s: a webhook without clientConfig.service.path", path);
			char url[128];
			snprintf(url, sizeof(url), "https://127.0.0.1:%d%s", s->wh.port, p);
			cJSON *ncc = cJSON_CreateObject();
			cJSON_AddStringToObject(ncc, "url", url);
			cJSON_AddStringToObject(ncc, "caBundle", b64);
			cJSON_ReplaceItemInObject(hook, "clientConfig", ncc);
		}
		mg_k8s_status st;
		int rc = mg_k8s_create(NULL, s->k8s, mutating ? &res_mwc : &res_vwc, NULL, o, &st);
		cr_assert_eq(rc, 0, "register %s: %s %s", kind, mg_strerror(rc), st.message);
	}
	mg_doc_list_free(&docs);
	free(b64);
	free(ca);
	free(text);
}

void cluster_env_start_webhook(cluster_env *e, cluster_side *s)
{
	mg_wht_init(&s->wh, e->bin_dir, e->source_dir);
	const char *extra[] = {"--kubeconfig", s->kube.kubeconfig, "--log-level", "warn",
			       "--shutdown-timeout", "1", NULL};
	mg_wht_start(&s->wh, extra, false);
	s->wh_up = true;
	bool ready = false;
	for (int i = 0; i < 200 && !(ready = webhook_ready(&s->wh)); i++)
		nap(50);
	cr_assert(ready, "the webhook's informers did not sync; see %s", s->wh.err_path);
	register_webhooks(e, s);
}

void cluster_env_start_lab_at(cluster_env *e, const char *bin_dir, const char *source_dir,
			      const char *ns)
{
	cluster_env_start_at(e, bin_dir, source_dir);
	cluster_env_namespace(&e->a, ns);
	cluster_env_namespace(&e->b, ns);
	cluster_env_start_webhook(e, &e->a);
	cluster_env_start_webhook(e, &e->b);
	cluster_env_start_reconciler_with(e, &e->a, "rec-a", cluster_env_lab_reconciler_args);
	cluster_env_start_reconciler_with(e, &e->b, "rec-b", cluster_env_lab_reconciler_args);
}

int cluster_env_kubectl(cluster_side *s, char **out, const char *const *args)
{
	char kc[600], cache[600];
	snprintf(kc, sizeof(kc), "--kubeconfig=%s", s->kube.kubeconfig);
	snprintf(cache, sizeof(cache), "--cache-dir=%s/kubectl-cache", s->kube.dir);
	const char *argv[24] = {"/usr/bin/kubectl", kc, cache};
	size_t n = 3;
	for (size_t i = 0; args[i] && n < 23; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	mg_cmd_result r;
	cr_assert_eq(mg_run_cmd(&r, (char *const *)argv, NULL, 0, 30), 0, "kubectl did not run");
	if (out)
		*out = mg_asprintf("%s%s", r.out ? r.out : "", r.err ? r.err : "");
	int status = r.status;
	mg_cmd_result_free(&r);
	return status;
}

int cluster_env_kpatch(cluster_side *s, char **out, const char *kind, const char *name,
		       const char *merge_json)
{
	const char *args[] = {"patch", kind, name, "-n", "app", "--type=merge", "-p", merge_json,
			      NULL};
	return cluster_env_kubectl(s, out, args);
}

void cluster_env_reachable(cluster_env *e, int ontap_index, bool reachable)
{
	char body[128];
	snprintf(body, sizeof(body), "{\"cluster\":\"%s\",\"reachable\":%s}",
		 e->ontap.clusters[ontap_index].name, reachable ? "true" : "false");
	cr_assert_eq(ontap_sim_control(&e->ontap, "POST", "clusters", body, NULL), 200, "%s", body);
}

long cluster_env_write(cluster_env *e, int ontap_index, const char *svm, const char *volume)
{
	char body[512];
	snprintf(body, sizeof(body), "{\"cluster\":\"%s\",\"path\":\"%s:%s\"}",
		 e->ontap.clusters[ontap_index].name, svm, volume);
	cJSON *out = NULL;
	cr_assert_eq(ontap_sim_control(&e->ontap, "POST", "volumes/write", body, &out), 200, "%s",
		     body);
	long g = (long)cJSON_GetNumberValue(cJSON_GetObjectItem(out, "generation"));
	cJSON_Delete(out);
	return g;
}
