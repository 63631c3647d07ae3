#include "handler.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admission.h"
#include "arena.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/util/log.h"
#include "mirrorgate/rules/review.h"

/* Fine low buckets: admission latency is judged in milliseconds (the API server's own
 * smallest bucket is 5 ms); see research/admission.md on Gatekeeper #3303. */
static const double g_latency_buckets[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
					   0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
					   1,      2.5};

int mg_wh_metrics_init(mg_wh_metrics *m)
{
	static const char *const req_labels[] = {"webhook", "kind", "operation", "verdict",
						 "dry_run"};
	static const char *const webhook[] = {"webhook"};
	static const char *const rule[] = {"rule"};
	static const char *const code[] = {"code"};
	static const char *const result[] = {"result"};
	static const char *const version[] = {"version"};
	static const char *const k_version[] = {MG_VERSION};
	static const char *const reason[] = {"reason"};
	int rc;
	memset(m, 0, sizeof(*m));
	if ((rc = mg_metrics_new(&m->reg)))
		return rc;
	if ((rc = mg_metrics_counter(&m->requests, m->reg, "mirrorgate_webhook_requests_total",
				     "Admission reviews answered, by webhook, kind, operation "
				     "and verdict.",
				     req_labels, 5)) ||
	    (rc = mg_metrics_histogram(&m->latency, m->reg,
				       "mirrorgate_webhook_request_duration_seconds",
				       "Time to decode, review and encode one admission review.",
				       webhook, 1, g_latency_buckets,
				       sizeof(g_latency_buckets) / sizeof(g_latency_buckets[0]))) ||
	    (rc = mg_metrics_counter(&m->rejections, m->reg, "mirrorgate_webhook_rejections_total",
				     "Field errors that denied a request, by rule ID.", rule, 1)) ||
	    (rc = mg_metrics_counter(&m->warnings, m->reg, "mirrorgate_webhook_warnings_total",
				     "Warnings returned, by rule ID.", rule, 1)) ||
	    (rc = mg_metrics_counter(&m->http_errors, m->reg, "mirrorgate_webhook_http_errors_total",
				     "Requests answered with an HTTP error status (not an "
				     "AdmissionReview), by status code.",
				     code, 1)) ||
	    (rc = mg_metrics_counter(&m->tls_errors, m->reg,
				     "mirrorgate_webhook_tls_handshake_errors_total",
				     "Connections closed before any request: failed or abandoned TLS "
				     "handshakes.",
				     NULL,
				     0)) ||
	    (rc = mg_metrics_gauge(&m->in_flight, m->reg, "mirrorgate_webhook_requests_in_flight",
				   "HTTP requests being received or answered.", NULL, 0)) ||
	    (rc = mg_metrics_gauge(&m->conn_open, m->reg, "mirrorgate_webhook_connections_open",
				   "Client connections open.", NULL, 0)) ||
	    (rc = mg_metrics_counter(&m->conn_closed, m->reg,
				     "mirrorgate_webhook_connections_closed_total",
				     "Connections refused or closed by the server's limits, by reason "
				     "(refused, evicted, header_timeout, request_timeout, idle).",
				     reason, 1)) ||
	    (rc = mg_metrics_gauge(&m->cert_expiry, m->reg,
				   "mirrorgate_webhook_certificate_expiry_timestamp_seconds",
				   "notAfter of the serving certificate, Unix time.", NULL, 0)) ||
	    (rc = mg_metrics_gauge(&m->cert_rejected, m->reg,
				   "mirrorgate_webhook_certificate_rejected",
				   "1 while the certificate files are refused for this reason (the "
				   "previous certificate keeps serving).",
				   reason, 1)) ||
	    (rc = mg_metrics_counter(&m->cert_reloads, m->reg,
				     "mirrorgate_webhook_certificate_reloads_total",
				     "Certificate file changes seen, by result (success, error).",
				     result, 1)) ||
	    (rc = mg_metrics_gauge(&m->build_info, m->reg, "mirrorgate_build_info",
				   "1, labelled with the running version.", version, 1)) ||
	    (rc = mg_metric_set(m->build_info, k_version, 1))) {
		mg_wh_metrics_free(m);
		return rc;
	}
	return 0;
}

void mg_wh_metrics_free(mg_wh_metrics *m)
{
	if (!m)
		return;
	mg_metrics_free(m->reg);
	memset(m, 0, sizeof(*m));
}

/* The metric label for a kind: only the kinds mirrorgate reviews, in their own API group,
 * get their name (anything else is "other", which also keeps the series bounded). */
static const char *kind_label(const mg_gvk *k)
{
	static const struct {
		const char *group, *kind;
	} known[] = {
		{"trident.netapp.io", MG_KIND_TMR}, {"trident.netapp.io", MG_KIND_TAMU},
		{"trident.netapp.io", MG_KIND_TSI}, {"", MG_KIND_PVC},
		{"storage.k8s.io", MG_KIND_SC},
	};
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		if (strcmp(k->kind, known[i].kind) == 0 && strcmp(k->group, known[i].group) == 0)
			return known[i].kind;
	}
	return NULL;
}

static double seconds_since(const struct timespec *start)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static void join_rules(mg_strbuf *sb, const mg_verdict *v)
{
	for (size_t i = 0; i < v->nrules; i++) {
		if (i)
			mg_strbuf_putc(sb, ',');
		mg_strbuf_puts(sb, v->rules[i]);
	}
}

static void count_verdict(mg_wh_metrics *m, const mg_verdict *v)
{
	/* One rejection per rule per request, however many fields it flagged. */
	for (size_t i = 0; i < v->errors.len; i++) {
		const char *rule = v->errors.items[i].rule ? v->errors.items[i].rule : "unknown";
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++) {
			const char *other = v->errors.items[j].rule ? v->errors.items[j].rule : "unknown";
			seen = strcmp(other, rule) == 0;
		}
		if (!seen) {
			const char *l[] = {rule};
			mg_metric_inc(m->rejections, l, 1);
		}
	}
	for (size_t i = 0; i < v->nwarnings; i++) {
		const char *l[] = {v->warnings[i].rule ? v->warnings[i].rule : "unknown"};
		mg_metric_inc(m->warnings, l, 1);
	}
}

static void log_review(const mg_admission_request *r, const char *webhook, const char *verdict,
		       const mg_verdict *v, const char *message, double seconds)
{
	bool denied = strcmp(verdict, "denied") == 0 || strcmp(verdict, "invalid") == 0;
	enum mg_log_level level = denied ? MG_LOG_INFO : MG_LOG_DEBUG;
	if (!mg_log_enabled(level) && !mg_log_enabled(MG_LOG_DEBUG))
		return;
	mg_strbuf rules = MG_STRBUF_INIT;
	char latency[32];
	join_rules(&rules, v);
	snprintf(latency, sizeof(latency), "%.3f", seconds * 1000.0);
	const char *rules_s = rules.data ? rules.data : "";
	const char *ns = r->ns ? r->ns : "";
	const char *name = r->name ? r->name : "";
	const char *dry = r->dry_run ? "true" : "false";
	/* The denial message quotes field values from the object: debug level only. */
	if (denied && mg_log_enabled(MG_LOG_INFO))
		mg_log(MG_LOG_INFO, "admission denied", "uid", r->uid, "webhook", webhook, "kind",
		       r->kind.kind, "namespace", ns, "name", name, "operation", r->operation,
		       "dry_run", dry, "verdict", verdict, "rules", rules_s, "latency_ms", latency,
		       NULL);
	if (mg_log_enabled(MG_LOG_DEBUG))
		mg_log(MG_LOG_DEBUG, "admission review", "uid", r->uid, "webhook", webhook, "kind",
		       r->kind.kind, "namespace", ns, "name", name, "operation", r->operation,
		       "dry_run", dry, "verdict", verdict, "rules", rules_s, "latency_ms", latency,
		       "message", message, NULL);
	mg_strbuf_free(&rules);
}

/* A body that is not a review we can read (400), or one over the decoder's limits (413):
 * a Status, since there may be no uid to echo. */
static int bad_request(mg_strbuf *out, int *status, mg_wh_metrics *m, int rc, const char *why)
{
	bool too_big = rc == MG_ETOOBIG;
	const char *l[] = {too_big ? "413" : "400"};
	*status = too_big ? 413 : 400;
	mg_metric_inc(m->http_errors, l, 1);
	mg_debug("bad admission request", "reason", why, NULL);
	return mg_admission_encode_status(out, *status,
					  too_big ? "RequestEntityTooLarge" : "BadRequest", why);
}

int mg_wh_handle(mg_strbuf *out, int *status, enum mg_wh_endpoint ep, const char *body,
		 size_t len, const mg_lookup *lk, mg_wh_metrics *m)
{
	struct timespec start;
	mg_admission_request r;
	mg_verdict v = {0};
	char *message = NULL, *patch = NULL;
	const char *why = NULL;
	const char *webhook = ep == MG_WH_MUTATE ? "mutate" : "validate";
	int rc;
	clock_gettime(CLOCK_MONOTONIC, &start);
	mg_arena_begin();
	if ((rc = mg_admission_decode(&r, body, len, &why))) {
		mg_arena_end();
		if (rc == MG_ENOMEM)
			return rc;
		return bad_request(out, status, m, rc, why ? why : "not an AdmissionReview");
	}

	mg_admission_response resp = {.uid = r.uid, .allowed = true};
	const char *verdict = "allowed";
	const char *kind = kind_label(&r.kind);
	if (kind) {
		mg_request req = {
			.op = r.op,
			.kind = kind,
			.ns = r.ns,
			.name = r.name,
			.subresource = r.sub_resource,
			.object = r.object,
			.old_object = r.old_object,
		};
		/* mg_review brackets its lookups with mg_lookup_begin/end itself. */
		rc = mg_review(&v, &req, lk, ep == MG_WH_MUTATE ? MG_REVIEW_MUTATE : MG_REVIEW_VALIDATE);
		if (rc) {
			/* Only out of memory gets here; deny rather than let an unchecked object in. */
			resp.allowed = false;
			resp.code = 500;
			resp.reason = "InternalError";
			resp.message = "mirrorgate could not review the request (out of memory)";
			verdict = "error";
		} else if (v.malformed || v.errors.len) {
			resp.allowed = false;
			resp.code = v.malformed ? 400 : 403;
			resp.reason = v.malformed ? "BadRequest" : "Forbidden";
			if (mg_verdict_message(&v, &req, &message) == 0)
				resp.message = message;
			verdict = v.malformed ? "invalid" : "denied";
		}
		if (rc == 0 && v.patch && cJSON_GetArraySize(v.patch) > 0) {
			if (!(patch = cJSON_PrintUnformatted(v.patch))) {
				rc = MG_ENOMEM;
				goto out;
			}
			resp.patch = patch;
			resp.patch_len = strlen(patch);
			if (resp.allowed)
				verdict = "patched";
		}
		resp.rules = v.rules;
		resp.nrules = v.nrules;
		const char **texts = NULL;
		if (v.nwarnings) {
			texts = calloc(v.nwarnings, sizeof(char *));
			if (!texts) {
				rc = MG_ENOMEM;
				goto out;
			}
			for (size_t i = 0; i < v.nwarnings; i++)
				texts[i] = v.warnings[i].text;
		}
		resp.warnings = texts;
		resp.nwarnings = v.nwarnings;
		rc = mg_admission_encode(out, &resp);
		free(texts);
		count_verdict(m, &v);
	} else {
		rc = mg_admission_encode(out, &resp);
	}
	if (rc)
		goto out;
	*status = 200;
	double seconds = seconds_since(&start);
	const char *req_l[] = {webhook, kind ? kind : "other", r.operation, verdict,
			       r.dry_run ? "true" : "false"};
	const char *lat_l[] = {webhook};
	mg_metric_inc(m->requests, req_l, 1);
	mg_metric_observe(m->latency, lat_l, seconds);
	log_review(&r, webhook, verdict, &v, message, seconds);
out:
	cJSON_free(patch);
	free(message);
	mg_verdict_free(&v);
	/* Parsed inside the arena: no need to walk the tree node by node to free it. */
	if (mg_arena_owns(r.root))
		r.root = NULL;
	mg_admission_request_free(&r);
	mg_arena_end();
	return rc;
}
