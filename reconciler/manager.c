#include "fence.h"
#include "manager.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kcache.h"
#include "lease_k8s.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/k8s/informer.h"
#include "mirrorgate/util/log.h"
#include "mirrorgate/reconcile/snapref.h"
#include "companion.h"
#include "kobj.h"
#include "pvc_protect.h"
#include "tbc_backends.h"
#include "trident_detect.h"
#include "tamu_controller.h"
#include "tmr_controller.h"
#include "topology_pub.h"
#include "tsi_controller.h"

#define MAX_WORKERS 32

struct mg_manager {
	mg_manager_opts o;
	mg_workqueue *q;
	mg_informer *tmr_inf, *tamu_inf, *tsi_inf, *pvc_inf;
	/* VolumeSnapshots and their contents: only to wake the TSIs that wait for them */
	mg_informer *vs_inf, *vsc_inf;
	/* PersistentVolumes: only read (a TMR's and a TSI's volume), never reconciled */
	mg_informer *pv_inf;
	mg_kcache *cache; /* the passes read through it instead of GETting */
	mg_leader *leader;
	mg_lease_k8s lease;
	pthread_t workers[MAX_WORKERS];
	unsigned nworkers;
	pthread_t chores;
	bool chores_started;
	atomic_bool stop;
	atomic_bool leading; /* only when leader election is off */
	/* the mode: decided before the workers start, re-decided every detect_ms */
	atomic_int mode;      /* MG_MODE_CONTROLLER or MG_MODE_COMPANION */
	atomic_bool refused;  /* controller asked for beside an active Trident: act on nothing */
	atomic_bool decided;
	atomic_bool trident_tamus; /* Trident's controller runs TAMUs (release, ACP) */
	char trident_version[64]; /* for the TAMU explanation; written by detect() */
	char last_why[1200];  /* the last decision's explanation (chores thread only) */
	mg_event_memo *memo;
};

static void enqueue_obj(mg_manager *m, const char *kind, const cJSON *obj)
{
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	const cJSON *ns = cJSON_GetObjectItemCaseSensitive(md, "namespace");
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(md, "name");
	if (!cJSON_IsString(ns) || !cJSON_IsString(name))
		return;
	char key[600];
	snprintf(key, sizeof(key), "%s/%s/%s", kind, ns->valuestring, name->valuestring);
	if (mg_workqueue_add(m->q, key) != 0)
		mg_warn("could not queue", "key", key, NULL);
}

#define HANDLERS(kind)                                                               \
	static void on_##kind##_add(void *ctx, const cJSON *obj)                     \
	{                                                                            \
		enqueue_obj(ctx, #kind, obj);                                        \
	}                                                                            \
	static void on_##kind##_update(void *ctx, const cJSON *o, const cJSON *n)    \
	{                                                                            \
		(void)o;                                                             \
		enqueue_obj(ctx, #kind, n);                                          \
	}                                                                            \
	static int each_##kind(void *ctx, const cJSON *obj)                          \
	{                                                                            \
		enqueue_obj(ctx, #kind, obj);                                        \
		return 0;                                                            \
	}
HANDLERS(tmr)
HANDLERS(tamu)
HANDLERS(tsi)

/* A PVC's own pass runs on every event of a claim we protect. The TMRs that name a claim
 * are woken too when it starts going or is gone: their status must stop saying what the
 * released relationship was (nothing else re-reads them before the resync). */
typedef struct tmr_wake {
	mg_manager *m;
	const char *pvc;
} tmr_wake;

static int wake_tmr(void *ctx, const cJSON *tmr)
{
	tmr_wake *w = ctx;
	const cJSON *maps = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(tmr, "spec"), "volumeMappings");
	const cJSON *first = cJSON_IsArray(maps) ? cJSON_GetArrayItem(maps, 0) : NULL;
	const cJSON *local = cJSON_GetObjectItemCaseSensitive(first, "localPVCName");
	if (cJSON_IsString(local) && strcmp(local->valuestring, w->pvc) == 0)
		enqueue_obj(w->m, "tmr", tmr);
	return 0;
}

static void wake_tmrs_of(mg_manager *m, const cJSON *pvc)
{
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(pvc, "metadata");
	const cJSON *ns = cJSON_GetObjectItemCaseSensitive(md, "namespace");
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(md, "name");
	if (!m->tmr_inf || !cJSON_IsString(ns) || !cJSON_IsString(name))
		return;
	tmr_wake w = {m, name->valuestring};
	mg_informer_read_lock(m->tmr_inf);
	mg_informer_each(m->tmr_inf, ns->valuestring, wake_tmr, &w);
	mg_informer_read_unlock(m->tmr_inf);
}

static void on_pvc_add(void *ctx, const cJSON *obj)
{
	enqueue_obj(ctx, "pvc", obj);
}

static void on_pvc_update(void *ctx, const cJSON *o, const cJSON *n)
{
	enqueue_obj(ctx, "pvc", n);
	if (mg_kobj_deleting(n) && !mg_kobj_deleting(o))
		wake_tmrs_of(ctx, n);
}

static void on_pvc_delete(void *ctx, const cJSON *obj)
{
	wake_tmrs_of(ctx, obj);
}

static int each_pvc(void *ctx, const cJSON *obj)
{
	enqueue_obj(ctx, "pvc", obj);
	return 0;
}

/* The TSIs waiting for VolumeSnapshot ns/name: re-read now rather than at their next
 * backoff retry (up to --backoff-cap). */
typedef struct tsi_wake {
	mg_manager *m;
	const char *ns, *vs_name;
} tsi_wake;

static int wake_one(void *ctx, const cJSON *tsi)
{
	tsi_wake *w = ctx;
	if (mg_tsi_refers_to(tsi, w->ns, w->vs_name))
		enqueue_obj(w->m, "tsi", tsi);
	return 0;
}

static void wake_tsis(mg_manager *m, const char *ns, const char *vs_name)
{
	if (!m->tsi_inf || !ns || !vs_name)
		return;
	tsi_wake w = {m, ns, vs_name};
	mg_informer_read_lock(m->tsi_inf);
	mg_informer_each(m->tsi_inf, ns, wake_one, &w);
	mg_informer_read_unlock(m->tsi_inf);
}

static void on_vs(void *ctx, const cJSON *vs)
{
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(vs, "metadata");
	const cJSON *ns = cJSON_GetObjectItemCaseSensitive(md, "namespace");
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(md, "name");
	if (cJSON_IsString(ns) && cJSON_IsString(name))
		wake_tsis(ctx, ns->valuestring, name->valuestring);
}

static void on_vs_update(void *ctx, const cJSON *o, const cJSON *n)
{
	(void)o;
	on_vs(ctx, n);
}

static void on_vsc(void *ctx, const cJSON *vsc)
{
	const char *ns, *name;
	if (mg_vsc_snapshot_ref(&ns, &name, vsc))
		wake_tsis(ctx, ns, name);
}

static void on_vsc_update(void *ctx, const cJSON *o, const cJSON *n)
{
	(void)o;
	on_vsc(ctx, n);
}

static void enqueue_all(mg_informer *inf, int (*fn)(void *, const cJSON *), void *ctx)
{
	if (!inf)
		return;
	mg_informer_read_lock(inf);
	mg_informer_each(inf, NULL, fn, ctx);
	mg_informer_read_unlock(inf);
}

static void started_leading(void *ctx)
{
	mg_manager *m = ctx;
	/* everything gets a pass under the new leader: it may have been left mid-promote */
	enqueue_all(m->tmr_inf, each_tmr, m);
	enqueue_all(m->tamu_inf, each_tamu, m);
	enqueue_all(m->tsi_inf, each_tsi, m);
	enqueue_all(m->pvc_inf, each_pvc, m);
	mg_rmetrics_set(m->o.metrics, "mirrorgate_leader", NULL, 1);
}

static void stopped_leading(void *ctx)
{
	mg_manager *m = ctx;
	mg_rmetrics_set(m->o.metrics, "mirrorgate_leader", NULL, 0);
}

bool mg_manager_leading(mg_manager *m)
{
	return m->leader ? mg_leader_is_leader(m->leader) : atomic_load(&m->leading);
}

static bool may_act(void *ctx)
{
	return mg_manager_leading(ctx);
}

/* refused counts too: a refused controller writes nothing Trident owns */
static bool companion_now(void *ctx)
{
	mg_manager *m = ctx;
	return atomic_load(&m->mode) == MG_MODE_COMPANION || atomic_load(&m->refused);
}

/* The snapshot informers are left out on purpose: on a cluster without the snapshot CRDs
 * their list gets 404 for ever, and TSIs still resolve at their backoff retries. */
bool mg_manager_ready(void *manager)
{
	mg_manager *m = manager;
	if (!atomic_load(&m->decided) || atomic_load(&m->refused))
		return false; /* a refused controller is not ready: it acts on nothing */
	return m->tmr_inf && mg_informer_synced(m->tmr_inf) && m->tamu_inf &&
	       mg_informer_synced(m->tamu_inf) && m->tsi_inf && mg_informer_synced(m->tsi_inf) && m->pvc_inf &&
	       mg_informer_synced(m->pvc_inf);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static const char *outcome_name(enum mg_rec_outcome o)
{
	return o == MG_REC_DONE ? "done" : o == MG_REC_RETRY ? "retry" : "forget";
}

static void process(mg_manager *m, char *key)
{
	char kind[16] = "", ns[260] = "", name[260] = "";
	const char *s1 = strchr(key, '/');
	const char *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
	if (!s2 || (size_t)(s1 - key) >= sizeof(kind) || (size_t)(s2 - s1 - 1) >= sizeof(ns) ||
	    strlen(s2 + 1) >= sizeof(name)) {
		mg_workqueue_forget(m->q, key);
		return;
	}
	memcpy(kind, key, (size_t)(s1 - key));
	memcpy(ns, s1 + 1, (size_t)(s2 - s1 - 1));
	snprintf(name, sizeof(name), "%s", s2 + 1);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_rwlock_rdlock(&m->o.backends->lock);
	bool companion = atomic_load(&m->mode) == MG_MODE_COMPANION;
	mg_rctx c = {.kube = m->o.kube, .backends = m->o.backends->items,
		     .nbackends = m->o.backends->len, .may_act = may_act, .may_act_ctx = m,
		     .metrics = m->o.metrics, .refresh_ms = m->o.refresh_ms,
		     .companion = companion, .companion_now = companion_now,
		     .cache = m->o.no_cache ? NULL : m->cache};
	mg_rec_result res = {0};
	int rc = MG_EINVAL;
	if (companion && strcmp(kind, "tamu") == 0) {
		/* Trident's; one that its release leaves alone gets an explanation */
		rc = mg_companion_tamu_reconcile(&c, m->memo, atomic_load(&m->trident_tamus),
						 m->trident_version, ns, name, &res);
	} else if (companion && strcmp(kind, "tsi") == 0) {
		/* Trident runs them; a mode switch enqueues everything again */
		res.outcome = MG_REC_FORGET;
		rc = 0;
	} else if (companion && strcmp(kind, "tmr") == 0)
		rc = mg_companion_tmr_reconcile(&c, m->memo, ns, name, &res);
	else if (strcmp(kind, "tmr") == 0)
		rc = mg_tmr_reconcile(&c, ns, name, &res);
	else if (strcmp(kind, "tamu") == 0)
		rc = mg_tamu_reconcile(&c, ns, name, &res);
	else if (strcmp(kind, "tsi") == 0)
		rc = mg_tsi_reconcile(&c, ns, name, &res);
	else if (strcmp(kind, "pvc") == 0)
		rc = mg_pvc_reconcile(&c, ns, name, &res);
	pthread_rwlock_unlock(&m->o.backends->lock);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	const char *lbl[] = {"controller", kind, NULL};
	mg_rmetrics_observe(m->o.metrics, "mirrorgate_reconcile_duration_seconds", lbl, secs);
	if (rc != 0) {
		res.outcome = MG_REC_RETRY;
		snprintf(res.reason, sizeof(res.reason), "%s", mg_strerror(rc));
		mg_rmetrics_inc(m->o.metrics, "mirrorgate_reconcile_errors_total", lbl, 1);
	}
	const char *lbl2[] = {"controller", kind, "outcome", outcome_name(res.outcome), NULL};
	mg_rmetrics_inc(m->o.metrics, "mirrorgate_reconcile_total", lbl2, 1);
	switch (res.outcome) {
	case MG_REC_DONE:
		mg_workqueue_forget(m->q, key);
		mg_workqueue_add_after(m->q, key, m->o.refresh_ms);
		break;
	case MG_REC_RETRY: {
		uint64_t delay = 0;
		mg_workqueue_add_rate_limited(m->q, key, &delay);
		char d[32];
		snprintf(d, sizeof(d), "%llu", (unsigned long long)delay);
		mg_debug("requeued", "key", key, "reason", res.reason, "after_ms", d, NULL);
		break;
	}
	case MG_REC_FORGET:
		mg_workqueue_forget(m->q, key);
		break;
	}
}

static void *worker(void *arg)
{
	mg_manager *m = arg;
	while (!atomic_load(&m->stop)) {
		if (!mg_manager_leading(m) || atomic_load(&m->refused) ||
		    !atomic_load(&m->decided)) {
			sleep_ms(100);
			continue;
		}
		char *key = NULL;
		int rc = mg_workqueue_get(m->q, &key, 500);
		if (rc == MG_EGONE)
			break;
		if (rc != 0)
			continue;
		process(m, key);
		mg_workqueue_done(m->q, key);
	}
	return NULL;
}

static void publish_topology(mg_manager *m)
{
	pthread_rwlock_rdlock(&m->o.backends->lock);
	mg_rctx c = {.kube = m->o.kube, .backends = m->o.backends->items,
		     .nbackends = m->o.backends->len, .may_act = may_act, .may_act_ctx = m};
	cJSON *topo = NULL;
	int rc = mg_topology_collect(&c, &topo);
	pthread_rwlock_unlock(&m->o.backends->lock);
	bool written = false;
	if (rc == 0)
		rc = mg_topology_publish(&c, m->o.topology_ns ? m->o.topology_ns : m->lease.ns,
					 m->o.topology_name ? m->o.topology_name
							    : "mirrorgate-topology",
					 topo, &written);
	cJSON_Delete(topo);
	if (rc != 0)
		mg_warn("topology not published", "error", mg_strerror(rc), NULL);
}

enum mg_rec_mode mg_manager_mode(mg_manager *m, bool *refused)
{
	if (refused)
		*refused = atomic_load(&m->refused);
	return (enum mg_rec_mode)atomic_load(&m->mode);
}

static void set_flag(mg_manager *m, const char *name, const char *k, const char *v, bool on)
{
	const char *l[] = {k, v, NULL};
	mg_rmetrics_set(m->o.metrics, name, k ? l : NULL, on ? 1 : 0);
}

/* Detects Trident, decides the mode, and applies it: the ONTAP clients' read-only switch,
 * the gauges, and on a change a log line (and on a refusal an Event); a mode change gives
 * every object a pass under the new mode. */
static void detect(mg_manager *m)
{
	mg_trident_verdict v;
	cJSON *evidence = NULL;
	mg_trident_detect(m->o.kube, m->o.trident_ns, &v, &evidence);
	bool was_decided = atomic_load(&m->decided);
	if (!v.known && was_decided) {
		/* keep what we had: a failed read proves nothing */
		cJSON_Delete(evidence);
		return;
	}
	mg_mode_decision d;
	mg_mode_decide(m->o.mode, m->o.allow_beside_trident, &v, &d);
	enum mg_rec_mode before = (enum mg_rec_mode)atomic_load(&m->mode);
	bool refused_before = atomic_load(&m->refused);
	/* read-only before anything acts in companion (or refused) mode */
	mg_backends_set_read_only(m->o.backends, d.mode == MG_MODE_COMPANION || d.refused);
	if (v.known) {
		snprintf(m->trident_version, sizeof(m->trident_version), "%s",
			 v.version[0] ? v.version : "of unknown version");
		atomic_store(&m->trident_tamus, v.tamu_active);
	}
	atomic_store(&m->mode, d.mode);
	atomic_store(&m->refused, d.refused);
	atomic_store(&m->decided, true);
	set_flag(m, "mirrorgate_mode", "mode", "controller", d.mode == MG_MODE_CONTROLLER);
	set_flag(m, "mirrorgate_mode", "mode", "companion", d.mode == MG_MODE_COMPANION);
	set_flag(m, "mirrorgate_controller_refused", NULL, NULL, d.refused);
	set_flag(m, "mirrorgate_trident_mirror_controller_active", NULL, NULL, v.tmr_active);
	set_flag(m, "mirrorgate_trident_tamu_controller_active", NULL, NULL, v.tamu_active);
	bool changed = !was_decided || before != d.mode || refused_before != d.refused ||
		       strcmp(m->last_why, d.why) != 0;
	if (changed) {
		snprintf(m->last_why, sizeof(m->last_why), "%s", d.why);
		if (d.refused) {
			mg_error("controller mode refused: not ready, taking no action", "why",
				 d.why, NULL);
			if (evidence) {
				mg_rctx c = {.kube = m->o.kube};
				mg_kobj_event(&c, evidence, "Warning", "ControllerModeRefused", d.why);
			}
		} else {
			mg_info("reconciler mode", "mode", mg_rec_mode_name(d.mode), "why", d.why,
				NULL);
		}
	}
	cJSON_Delete(evidence);
	if (was_decided && (before != d.mode || (refused_before && !d.refused)) &&
	    mg_manager_leading(m)) {
		enqueue_all(m->tmr_inf, each_tmr, m);
		enqueue_all(m->tamu_inf, each_tamu, m);
		enqueue_all(m->tsi_inf, each_tsi, m);
		enqueue_all(m->pvc_inf, each_pvc, m);
	}
}

static void sync_tbc(mg_manager *m)
{
	if (!m->o.backends_from_trident)
		return;
	/* every replica reads the TBCs and says what is wrong with one, leader or not: a
	 * standby with a broken backend is worth knowing about before it takes over */
	mg_rctx c = {.kube = m->o.kube};
	mg_backends_sync_tbc(m->o.backends, m->o.kube,
			     m->o.trident_ns ? m->o.trident_ns : "trident", m->o.metrics, &c);
}

/* What the scale work is judged by: requests to the API server, the connections they
 * opened, and how many reads the caches answered. */
static void export_kube_stats(mg_manager *m)
{
	unsigned long reqs = 0, conns = 0;
	mg_k8s_client_stats(m->o.kube, &reqs, &conns);
	mg_rmetrics_set(m->o.metrics, "mirrorgate_kube_requests", NULL, (double)reqs);
	mg_rmetrics_set(m->o.metrics, "mirrorgate_kube_connections", NULL, (double)conns);
	mg_kcache_stats ks;
	mg_kcache_get_stats(m->cache, &ks);
	const char *lc[] = {"source", "cache", NULL}, *la[] = {"source", "api", NULL};
	mg_rmetrics_set(m->o.metrics, "mirrorgate_kube_reads", lc, (double)ks.hits);
	mg_rmetrics_set(m->o.metrics, "mirrorgate_kube_reads", la,
		       (double)(ks.gets + ks.stale_gets));
}

static void *chores(void *arg)
{
	mg_manager *m = arg;
	unsigned ticks = 0;
	uint64_t since_topology = UINT64_MAX / 2, since_detect = 0;
	while (!atomic_load(&m->stop)) {
		sleep_ms(200);
		since_topology += 200;
		since_detect += 200;
		if (since_detect >= m->o.detect_ms) {
			detect(m);
			if (m->o.detect_ms < 10000)
				sync_tbc(m); /* else every 10 s below */
			since_detect = 0;
		}
		if (since_topology >= m->o.topology_ms && mg_manager_leading(m) &&
		    !atomic_load(&m->refused)) { /* refused: no action at all */
			publish_topology(m);
			since_topology = 0;
		}
		if (++ticks % 50 == 0) { /* every 10 s */
			mg_backends_refresh(m->o.backends);
			sync_tbc(m);
		}
		mg_rmetrics_set(m->o.metrics, "mirrorgate_queue_depth", NULL,
			       (double)mg_workqueue_len(m->q));
		const struct {
			const char *res;
			mg_informer *inf;
		} infs[] = {{"tmr", m->tmr_inf},
			    {"tamu", m->tamu_inf},
			    {"tsi", m->tsi_inf},
			    {"pvc", m->pvc_inf},
			    {"volumesnapshot", m->vs_inf},
			    {"volumesnapshotcontent", m->vsc_inf},
			    {"persistentvolume", m->pv_inf}};
		for (size_t i = 0; i < sizeof(infs) / sizeof(infs[0]); i++) {
			const char *l[] = {"resource", infs[i].res, NULL};
			mg_rmetrics_set(m->o.metrics, "mirrorgate_informer_lists", l,
				       (double)mg_informer_list_count(infs[i].inf));
		}
		export_kube_stats(m);
	}
	return NULL;
}

static const mg_rmetric_desc k_descs[] = {
	{"mirrorgate_reconcile_total", "counter", "Reconcile passes by controller and outcome."},
	{"mirrorgate_reconcile_errors_total", "counter", "Reconcile passes that returned an error."},
	{"mirrorgate_reconcile_duration_seconds", "histogram", "Duration of reconcile passes."},
	{"mirrorgate_ontap_calls_total", "counter", "ONTAP steps by operation and outcome."},
	{"mirrorgate_tmr_state", "gauge", "1 for the state each TMR reports."},
	{"mirrorgate_tmr_healthy", "gauge", "1 when the TMR's SnapMirror relationship is healthy."},
	{"mirrorgate_tmr_lag_seconds", "gauge", "SnapMirror lag of the TMR's relationship."},
	{"mirrorgate_queue_depth", "gauge", "Keys ready in the work queue."},
	{"mirrorgate_leader", "gauge", "1 while this replica holds the leader lease."},
	{"mirrorgate_kube_requests", "gauge",
	 "Kubernetes API requests since start (watches excluded)."},
	{"mirrorgate_kube_connections", "gauge",
	 "New connections those requests opened (reuse keeps this near the worker count)."},
	{"mirrorgate_kube_reads", "gauge",
	 "Object reads by the passes, answered by the informer cache or by a GET."},
	{"mirrorgate_informer_lists", "gauge",
	 "Full lists per watched resource (1 + relists after watch expiry, 410)."},
	{"mirrorgate_mode", "gauge", "1 for the reconciler's effective mode (controller, companion)."},
	{"mirrorgate_controller_refused", "gauge",
	 "1 while controller mode is refused beside an active Trident mirror controller."},
	{"mirrorgate_trident_mirror_controller_active", "gauge",
	 "1 when Trident's CRD controller handles TMRs and TSIs (detected)."},
	{"mirrorgate_trident_tamu_controller_active", "gauge",
	 "1 when Trident's CRD controller also handles TAMUs (version, ACP)."},
	{"mirrorgate_companion_explanations_total", "counter",
	 "Events of companion mode explaining what Trident does not, by reason."},
	{"mirrorgate_backend_ready", "gauge",
	 "1 when the backend from a TridentBackendConfig has a usable client."},
	{"mirrorgate_build_info", "gauge", "1, labelled with the running version."},
};

int mg_manager_start(mg_manager **out, const mg_manager_opts *opts)
{
	mg_manager *m = calloc(1, sizeof(*m));
	if (!m)
		return MG_ENOMEM;
	m->o = *opts;
	if (!m->o.workers)
		m->o.workers = 2;
	if (m->o.workers > MAX_WORKERS)
		m->o.workers = MAX_WORKERS;
	if (!m->o.refresh_ms)
		m->o.refresh_ms = 300000;
	if (!m->o.topology_ms)
		m->o.topology_ms = 60000;
	if (!m->o.detect_ms)
		m->o.detect_ms = 60000;
	atomic_store(&m->mode, MG_MODE_CONTROLLER);
	if (mg_event_memo_new(&m->memo) != 0) {
		free(m);
		return MG_ENOMEM;
	}
	if (m->o.metrics) {
		mg_rmetrics_describe(m->o.metrics, k_descs, sizeof(k_descs) / sizeof(k_descs[0]));
		/* Every replica exports mirrorgate_leader from the start (0 until it leads), so
		 * that the alert on sum(mirrorgate_leader) == 0 has a series to see. */
		mg_rmetrics_set(m->o.metrics, "mirrorgate_leader", NULL, 0);
		const char *const version[] = {"version", MG_VERSION, NULL};
		mg_rmetrics_set(m->o.metrics, "mirrorgate_build_info", version, 1);
	}
	int rc = mg_workqueue_new(&m->q, &m->o.queue);
	if (rc != 0)
		goto fail;
	mg_informer_handlers h = {on_tmr_add, on_tmr_update, on_tmr_add, m};
	mg_informer_opts io = {.ns = m->o.ns, .handlers = &h, .watch_timeout_s = m->o.watch_timeout_s};
	rc = mg_informer_new(&m->tmr_inf, m->o.kube, &mg_k8s_res_tmr, &io);
	if (rc != 0)
		goto fail;
	mg_informer_handlers ha = {on_tamu_add, on_tamu_update, NULL, m};
	io.handlers = &ha;
	rc = mg_informer_new(&m->tamu_inf, m->o.kube, &mg_k8s_res_tamu, &io);
	if (rc != 0)
		goto fail;
	mg_informer_handlers hs = {on_tsi_add, on_tsi_update, on_tsi_add, m};
	io.handlers = &hs;
	rc = mg_informer_new(&m->tsi_inf, m->o.kube, &mg_k8s_res_tsi, &io);
	if (rc != 0)
		goto fail;
	/* PVCs only matter once they carry our finalizer; the pass returns at once otherwise */
	mg_informer_handlers hp = {on_pvc_add, on_pvc_update, on_pvc_delete, m};
	io.handlers = &hp;
	rc = mg_informer_new(&m->pvc_inf, m->o.kube, &mg_k8s_res_pvc, &io);
	if (rc != 0)
		goto fail;
	mg_informer_handlers hv = {on_vs, on_vs_update, on_vs, m};
	io.handlers = &hv;
	rc = mg_informer_new(&m->vs_inf, m->o.kube, &mg_k8s_res_vs, &io);
	if (rc != 0)
		goto fail;
	/* contents are cluster-scoped: their snapshot's namespace decides */
	mg_informer_handlers hc = {on_vsc, on_vsc_update, NULL, m};
	mg_informer_opts ioc = io;
	ioc.ns = NULL;
	ioc.handlers = &hc;
	rc = mg_informer_new(&m->vsc_inf, m->o.kube, &mg_k8s_res_vsc, &ioc);
	if (rc != 0)
		goto fail;
	ioc.handlers = NULL;
	rc = mg_informer_new(&m->pv_inf, m->o.kube, &mg_k8s_res_pv, &ioc);
	if (rc != 0)
		goto fail;
	const struct {
		const mg_k8s_resource *r;
		mg_informer *inf;
	} cached[] = {{&mg_k8s_res_tmr, m->tmr_inf}, {&mg_k8s_res_tamu, m->tamu_inf},
		      {&mg_k8s_res_tsi, m->tsi_inf}, {&mg_k8s_res_pvc, m->pvc_inf},
		      {&mg_k8s_res_vs, m->vs_inf},   {&mg_k8s_res_vsc, m->vsc_inf},
		      {&mg_k8s_res_pv, m->pv_inf}};
	if ((rc = mg_kcache_new(&m->cache, m->o.kube)) != 0)
		goto fail;
	for (size_t i = 0; i < sizeof(cached) / sizeof(cached[0]); i++)
		if ((rc = mg_kcache_add(m->cache, cached[i].r, cached[i].inf)) != 0)
			goto fail;
	snprintf(m->lease.ns, sizeof(m->lease.ns), "%s",
		 m->o.lease_ns ? m->o.lease_ns : mg_k8s_client_namespace(m->o.kube));
	if (m->o.leader_elect) {
		snprintf(m->lease.name, sizeof(m->lease.name), "%s",
			 m->o.lease_name ? m->o.lease_name : "mirrorgate-reconciler");
		m->lease.kube = m->o.kube;
		mg_lease_store store;
		mg_lease_k8s_store(&store, &m->lease);
		mg_leader_opts lo = m->o.leader;
		lo.callbacks = (mg_leader_callbacks){started_leading, stopped_leading, m};
		rc = mg_leader_new(&m->leader, &store, &lo);
		if (rc == 0 && m->o.fence)
			mg_fence_set_leader(m->o.fence, m->leader); /* before any worker runs */
		if (rc != 0)
			goto fail;
	}
	if ((rc = mg_informer_start(m->tmr_inf)) != 0 || (rc = mg_informer_start(m->tamu_inf)) != 0 ||
	    (rc = mg_informer_start(m->tsi_inf)) != 0 || (rc = mg_informer_start(m->pvc_inf)) != 0 ||
	    (rc = mg_informer_start(m->vs_inf)) != 0 || (rc = mg_informer_start(m->vsc_inf)) != 0 ||
	    (rc = mg_informer_start(m->pv_inf)) != 0)
		goto fail;
	/* the mode before any worker can act: no write beside an active Trident, not even one */
	detect(m);
	sync_tbc(m);
	for (; m->nworkers < m->o.workers; m->nworkers++)
		if (pthread_create(&m->workers[m->nworkers], NULL, worker, m) != 0) {
			rc = MG_ENOMEM;
			goto fail;
		}
	if (pthread_create(&m->chores, NULL, chores, m) != 0) {
		rc = MG_ENOMEM;
		goto fail;
	}
	m->chores_started = true;
	if (m->leader) {
		rc = mg_leader_start(m->leader);
		if (rc != 0)
			goto fail;
	} else {
		if (mg_informer_wait_synced(m->tmr_inf, 30000) != 0)
			mg_warn("TMR cache not synced yet; starting anyway", NULL);
		atomic_store(&m->leading, true);
		started_leading(m);
	}
	*out = m;
	return 0;
fail:
	mg_manager_stop(m);
	return rc;
}

void mg_manager_stop(mg_manager *m)
{
	if (!m)
		return;
	atomic_store(&m->stop, true);
	if (m->q)
		mg_workqueue_shutdown(m->q);
	/* stop acting first: the lease is released only after the workers are out */
	for (unsigned i = 0; i < m->nworkers; i++)
		pthread_join(m->workers[i], NULL);
	if (m->chores_started)
		pthread_join(m->chores, NULL);
	mg_leader_free(m->leader);
	/* seven watch threads: ask them all first, so they stop in parallel */
	mg_informer *infs[] = {m->tmr_inf, m->tamu_inf, m->tsi_inf, m->pvc_inf,
			       m->vs_inf,  m->vsc_inf,  m->pv_inf};
	for (size_t i = 0; i < sizeof(infs) / sizeof(infs[0]); i++)
		if (infs[i])
			mg_informer_request_stop(infs[i]);
	mg_informer_free(m->tmr_inf);
	mg_informer_free(m->tamu_inf);
	mg_informer_free(m->tsi_inf);
	mg_informer_free(m->pvc_inf);
	mg_informer_free(m->vs_inf);
	mg_informer_free(m->vsc_inf);
	mg_informer_free(m->pv_inf);
	mg_kcache_free(m->cache);
	mg_workqueue_free(m->q);
	mg_event_memo_free(m->memo);
	free(m);
}
