/* mg_lookup over informers: what the webhook sees of the cluster when it has a kubeconfig. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirrorgate/core/doc.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/core/fielderr.h"
#include "mirrorgate/k8s/informer.h"
#include "mirrorgate/util/log.h"
#include "mirrorgate/util/strbuf.h"

enum { I_TMR, I_PVC, I_SC, I_CM, I_COUNT };

struct mg_lookup_informer {
	mg_k8s_client *client; /* for reads past the cache (li_get) */
	mg_k8s_client *owned_client;
	mg_informer *inf[I_COUNT];
	pthread_rwlock_t topo_lock;
	mg_topology topo;
	bool topo_set;
	char *topo_ns, *topo_name;
};

static int kind_index(const char *kind)
{
	if (!kind)
		return -1;
	if (strcmp(kind, MG_KIND_TMR) == 0)
		return I_TMR;
	if (strcmp(kind, MG_KIND_PVC) == 0)
		return I_PVC;
	if (strcmp(kind, MG_KIND_SC) == 0)
		return I_SC;
	if (strcmp(kind, "ConfigMap") == 0)
		return I_CM;
	return -1;
}

/* ---- topology from the ConfigMap ---- */

static void topo_clear(struct mg_lookup_informer *li)
{
	pthread_rwlock_wrlock(&li->topo_lock);
	if (li->topo_set)
		mg_topology_free(&li->topo);
	memset(&li->topo, 0, sizeof(li->topo));
	li->topo_set = false;
	pthread_rwlock_unlock(&li->topo_lock);
}

static void topo_from_cm(struct mg_lookup_informer *li, const cJSON *cm)
{
	const cJSON *text = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(cm, "data"), MG_TOPOLOGY_CONFIGMAP_KEY);
	mg_doc_list docs = {0};
	mg_parse_error perr = {0};
	mg_field_errors errs = {0};
	mg_topology t = {0};
	if (!cJSON_IsString(text)) {
		mg_warn("topology ConfigMap has no " MG_TOPOLOGY_CONFIGMAP_KEY " key; topology unknown",
			NULL);
		topo_clear(li);
		return;
	}
	if (mg_doc_parse_yaml(&docs, text->valuestring, strlen(text->valuestring), &perr) != 0 ||
	    docs.len != 1 || mg_topology_from_json(&t, docs.items[0].root, &errs) != 0) {
		/* Keep the last good topology: a bad edit must not make the webhook forget. */
		mg_warn("topology ConfigMap is invalid; keeping the previous topology", "detail",
			perr.message[0] ? perr.message : "wrong types (rule TOPOLOGY)", NULL);
		mg_doc_list_free(&docs);
		mg_fe_clear(&errs);
		return;
	}
	mg_doc_list_free(&docs);
	mg_fe_clear(&errs);
	pthread_rwlock_wrlock(&li->topo_lock);
	if (li->topo_set)
		mg_topology_free(&li->topo);
	li->topo = t;
	li->topo_set = true;
	pthread_rwlock_unlock(&li->topo_lock);
}

static void cm_add(void *ctx, const cJSON *obj)
{
	topo_from_cm(ctx, obj);
}

static void cm_update(void *ctx, const cJSON *old_obj, const cJSON *new_obj)
{
	(void)old_obj;
	topo_from_cm(ctx, new_obj);
}

static void cm_delete(void *ctx, const cJSON *obj)
{
	(void)obj;
	topo_clear(ctx);
}

/* ---- mg_lookup ops ---- */

/* TMRs read from the API server during one review (li_begin .. li_end), per thread. One
 * `kubectl apply -f dir/` creates a TMR and, milliseconds later, the PVC whose mirror
 * annotation names it; the TMR's watch event may not have reached the informer yet (and
 * cannot while this review holds the caches' read locks). Denying that PVC for "no such TMR"
 * would be false, so a TMR missing from the cache is read once from the API server before
 * the rules are told it does not exist. A handful per review at most: a review looks up the
 * one TMR its PVC names. */
#define MAX_READ_PAST 4
static _Thread_local cJSON *tl_read_past[MAX_READ_PAST];
static _Thread_local size_t tl_nread_past;

static void li_begin(void *self)
{
	struct mg_lookup_informer *li = self;
	for (int i = 0; i < I_COUNT; i++)
		mg_informer_read_lock(li->inf[i]);
	pthread_rwlock_rdlock(&li->topo_lock);
}

static void li_end(void *self)
{
	struct mg_lookup_informer *li = self;
	for (size_t i = 0; i < tl_nread_past; i++) {
		cJSON_Delete(tl_read_past[i]);
		tl_read_past[i] = NULL;
	}
	tl_nread_past = 0;
	pthread_rwlock_unlock(&li->topo_lock);
	for (int i = I_COUNT - 1; i >= 0; i--)
		mg_informer_read_unlock(li->inf[i]);
}

static const cJSON *read_past_cache(struct mg_lookup_informer *li, const char *ns,
				    const char *name)
{
	for (size_t i = 0; i < tl_nread_past; i++) {
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(tl_read_past[i], "metadata");
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(m, "name");
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(m, "namespace");
		if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0 && cJSON_IsString(s) &&
		    ns && strcmp(s->valuestring, ns) == 0)
			return tl_read_past[i];
	}
	if (!li->client || tl_nread_past >= MAX_READ_PAST)
		return NULL;
	cJSON *obj = NULL;
	mg_k8s_status st;
	int rc = mg_k8s_get(&obj, li->client, &mg_k8s_res_tmr, ns, name, &st);
	if (rc != 0) {
		if (rc != MG_ENOTFOUND)
			mg_warn("lookup: reading a TMR missing from the cache failed", "namespace", ns,
				"name", name, "error", mg_strerror(rc), NULL);
		return NULL;
	}
	mg_debug("lookup: TMR read past the cache (not yet watched)", "namespace", ns, "name",
		 name, NULL);
	tl_read_past[tl_nread_past++] = obj;
	return obj;
}

static const cJSON *li_get(void *self, const char *kind, const char *ns, const char *name)
{
	struct mg_lookup_informer *li = self;
	int k = kind_index(kind);
	if (k < 0)
		return NULL;
	const cJSON *obj = mg_informer_get(li->inf[k], ns, name);
	if (!obj && k == I_TMR && name && *name)
		obj = read_past_cache(li, ns, name);
	return obj;
}

static int li_each(void *self, const char *kind, const char *ns, mg_lookup_fn fn, void *ctx)
{
	struct mg_lookup_informer *li = self;
	int k = kind_index(kind);
	return k < 0 ? 0 : mg_informer_each(li->inf[k], ns, fn, ctx);
}

static int li_each_indexed(void *self, const char *index, const char *key, mg_lookup_fn fn,
			   void *ctx)
{
	struct mg_lookup_informer *li = self;
	int k = strcmp(index, MG_INDEX_PVC_BY_MIRROR) == 0 ? I_PVC : I_TMR;
	return mg_informer_each_indexed(li->inf[k], index, key, fn, ctx);
}

static const mg_topology *li_topology(void *self)
{
	struct mg_lookup_informer *li = self;
	return li->topo_set ? &li->topo : NULL;
}

static int li_synced(void *self)
{
	struct mg_lookup_informer *li = self;
	for (int i = 0; i < I_COUNT; i++)
		if (!mg_informer_synced(li->inf[i]))
			return 0;
	return 1;
}

static const mg_lookup_ops li_ops = {li_begin, li_end, li_get, li_each, li_each_indexed,
				     li_topology, li_synced};

mg_lookup mg_lookup_informer_lookup(mg_lookup_informer *li)
{
	mg_lookup lk = {&li_ops, li};
	return lk;
}

void mg_lookup_informer_free(mg_lookup_informer *li)
{
	if (!li)
		return;
	for (int i = 0; i < I_COUNT; i++)
		mg_informer_request_stop(li->inf[i]);
	for (int i = 0; i < I_COUNT; i++)
		mg_informer_free(li->inf[i]);
	if (li->topo_set)
		mg_topology_free(&li->topo);
	pthread_rwlock_destroy(&li->topo_lock);
	free(li->topo_ns);
	free(li->topo_name);
	mg_k8s_client_free(li->owned_client);
	free(li);
}

int mg_lookup_informer_new(mg_lookup_informer **out, mg_k8s_client *client,
			   const mg_lookup_informer_opts *opts)
{
	static const char *const tmr_idx[] = {MG_INDEX_TMR_BY_PVC, MG_INDEX_TMR_BY_REMOTE};
	static const char *const pvc_idx[] = {MG_INDEX_PVC_BY_MIRROR};
	mg_lookup_informer_opts o = {0};
	int rc = MG_ENOMEM;
	if (!out || !client)
		return MG_EINVAL;
	if (opts)
		o = *opts;
	struct mg_lookup_informer *li = calloc(1, sizeof(*li));
	if (!li)
		return MG_ENOMEM;
	pthread_rwlock_init(&li->topo_lock, NULL);
	li->client = client;
	li->topo_ns = mg_strdup(o.topology_ns ? o.topology_ns : mg_k8s_client_namespace(client));
	li->topo_name = mg_strdup(o.topology_name ? o.topology_name : MG_TOPOLOGY_CONFIGMAP_NAME);
	char *fsel = li->topo_name ? mg_asprintf("metadata.name=%s", li->topo_name) : NULL;
	if (!li->topo_ns || !li->topo_name || !fsel)
		goto fail;
	mg_informer_handlers cm_h = {cm_add, cm_update, cm_delete, li};
	mg_informer_opts io[I_COUNT] = {
		{.indexes = tmr_idx, .nindexes = 2},
		{.indexes = pvc_idx, .nindexes = 1},
		{0},
		{.ns = li->topo_ns, .field_selector = fsel, .handlers = &cm_h},
	};
	const mg_k8s_resource *res[I_COUNT] = {&mg_k8s_res_tmr, &mg_k8s_res_pvc, &mg_k8s_res_sc,
					       &mg_k8s_res_configmap};
	for (int i = 0; i < I_COUNT; i++) {
		io[i].backoff_cap_ms = o.backoff_cap_ms;
		io[i].strip_last_applied = true; /* the webhook only reads */
		if ((rc = mg_informer_new(&li->inf[i], client, res[i], &io[i])) != 0)
			goto fail;
	}
	for (int i = 0; i < I_COUNT; i++)
		if ((rc = mg_informer_start(li->inf[i])) != 0)
			goto fail;
	free(fsel);
	*out = li;
	return 0;
fail:
	free(fsel);
	mg_lookup_informer_free(li);
	return rc;
}

int mg_lookup_informer_from_kubeconfig(mg_lookup_informer **out, const char *kubeconfig,
				       const char *context, const mg_lookup_informer_opts *opts,
				       char *why, size_t why_len)
{
	mg_k8s_config *cfg = NULL;
	mg_k8s_client *client = NULL;
	int rc;
	if (kubeconfig)
		rc = mg_k8s_config_from_kubeconfig(&cfg, kubeconfig, context, why, why_len);
	else if ((rc = mg_k8s_config_in_cluster(&cfg, NULL)) != 0 && why)
		snprintf(why, why_len, "not running in a cluster (no KUBERNETES_SERVICE_HOST or "
				       "service-account files) and no kubeconfig given");
	if (rc != 0)
		return rc;
	rc = mg_k8s_client_new(&client, cfg);
	mg_k8s_config_free(cfg);
	if (rc != 0)
		return rc;
	rc = mg_lookup_informer_new(out, client, opts);
	if (rc != 0) {
		mg_k8s_client_free(client);
		return rc;
	}
	(*out)->owned_client = client;
	return 0;
}

mg_informer *mg_lookup_informer_get(mg_lookup_informer *li, const char *kind)
{
	int k = kind_index(kind);
	return li && k >= 0 ? li->inf[k] : NULL;
}

int mg_lookup_informer_wait_synced(mg_lookup_informer *li, long timeout_ms)
{
	for (int i = 0; i < I_COUNT; i++) {
		int rc = mg_informer_wait_synced(li->inf[i], timeout_ms);
		if (rc != 0)
			return rc;
	}
	return 0;
}
