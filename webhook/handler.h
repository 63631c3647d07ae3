/* One admission call, independent of HTTP: an AdmissionReview body in, the HTTP status and
 * JSON body to answer out, with the metrics and log lines the issue asks for. */
#ifndef MIRRORGATE_WEBHOOK_HANDLER_H
#define MIRRORGATE_WEBHOOK_HANDLER_H

#include <stddef.h>

#include "mirrorgate/rules/lookup.h"
#include "mirrorgate/util/metrics.h"
#include "mirrorgate/util/strbuf.h"

enum mg_wh_endpoint { MG_WH_VALIDATE, MG_WH_MUTATE };

/* The webhook's metrics (names in docs/webhook.md). Handles borrow from `reg`. */
typedef struct mg_wh_metrics {
	mg_metrics *reg;
	mg_metric *requests;     /* {webhook, kind, operation, verdict, dry_run} */
	mg_metric *latency;      /* {webhook} seconds, handler time */
	mg_metric *rejections;   /* {rule} */
	mg_metric *warnings;     /* {rule} */
	mg_metric *http_errors;  /* {code}: requests answered with an HTTP error */
	mg_metric *build_info;   /* {version} = 1 */
	mg_metric *tls_errors;   /* connections closed before any request (failed handshakes) */
	mg_metric *in_flight;
	mg_metric *conn_open;    /* connections the guard tracks */
	mg_metric *conn_closed;  /* {reason}: refused, evicted, header_timeout, ... */
	mg_metric *cert_expiry;  /* notAfter, Unix seconds */
	mg_metric *cert_reloads; /* {result} */
	mg_metric *cert_rejected; /* {reason}: 1 while the files on disk are refused for it */
} mg_wh_metrics;

/* Registers every webhook metric in a new registry; mg_wh_metrics_free releases it. */
int mg_wh_metrics_init(mg_wh_metrics *m);
void mg_wh_metrics_free(mg_wh_metrics *m);

/* Reviews one AdmissionReview body. Always fills *status (200, or 400 for a body that is
 * not a usable AdmissionReview) and `out` (an AdmissionReview, or a metav1.Status for the
 * 400); returns MG_ENOMEM only when it could not build an answer at all. */
int mg_wh_handle(mg_strbuf *out, int *status, enum mg_wh_endpoint ep, const char *body,
		 size_t len, const mg_lookup *lk, mg_wh_metrics *m);

#endif
