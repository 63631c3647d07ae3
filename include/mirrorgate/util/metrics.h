/* A small thread-safe Prometheus registry: counters, gauges and histograms, each with an
 * optional fixed set of label names, rendered in the text exposition format (0.0.4).
 *
 * The registry owns its metrics; a metric handle is borrowed and valid until the registry
 * is freed. Series (one per distinct label-value tuple) are created on first use, so a
 * label with unbounded values (a uid) must never be used: the caller picks labels from small
 * fixed sets (kind, operation, verdict, rule ID), or from live objects whose series it drops
 * (mg_metric_drop) when the object goes away. */
#ifndef MIRRORGATE_METRICS_H
#define MIRRORGATE_METRICS_H

#include <stddef.h>

#include "mirrorgate/util/strbuf.h"

#define MG_METRICS_MAX_LABELS 8
/* By default a metric refuses new series past this many (the update returns MG_ETOOBIG),
 * so that a caller bug cannot grow memory without bound. */
#define MG_METRICS_MAX_SERIES 1024

typedef struct mg_metrics mg_metrics;
typedef struct mg_metric mg_metric;

/* Unlabelled series render as `name{} 1` instead of `name 1`: the reconciler's /metrics has
 * always been written that way and scrapers and alerts match it. */
#define MG_METRICS_EMPTY_BRACES 0x1u
/* Metrics are rendered only once they have a series: no `name 0` for an unlabelled metric
 * that was never set, no HELP/TYPE for a labelled one whose series were all dropped. */
#define MG_METRICS_HIDE_EMPTY 0x2u

int mg_metrics_new(mg_metrics **out);
/* `flags`: MG_METRICS_* above. */
int mg_metrics_new_flags(mg_metrics **out, unsigned flags);
/* The series bound of metrics registered from now on (at least 1). A registry labelled by
 * object (one series per TMR, dropped when it is deleted) needs more than the default. */
int mg_metrics_set_max_series(mg_metrics *reg, size_t max);
void mg_metrics_free(mg_metrics *reg);

/* Registers a metric. `name` must be a valid Prometheus metric name and unique in the
 * registry (MG_EEXIST otherwise); label names are copied. */
int mg_metrics_counter(mg_metric **out, mg_metrics *reg, const char *name, const char *help,
		       const char *const *label_names, size_t nlabels);
int mg_metrics_gauge(mg_metric **out, mg_metrics *reg, const char *name, const char *help,
		     const char *const *label_names, size_t nlabels);
/* `bounds` are the upper bounds of the buckets, strictly increasing; +Inf is implicit. */
int mg_metrics_histogram(mg_metric **out, mg_metrics *reg, const char *name, const char *help,
			 const char *const *label_names, size_t nlabels, const double *bounds,
			 size_t nbounds);

/* The registered metric called `name` (MG_ENOTFOUND if none), for callers that register
 * lazily on first use; two threads racing to register the same name see MG_EEXIST in one
 * of them and look the winner up. */
int mg_metrics_lookup(mg_metric **out, mg_metrics *reg, const char *name);

/* Fills `values` (capacity MG_METRICS_MAX_LABELS) in the metric's label order from
 * NULL-terminated key, value, key, value, ... `pairs` (NULL for none). MG_EINVAL unless the
 * keys are exactly the metric's label names, in any order. The values are borrowed. */
int mg_metric_values_from_pairs(const char **values, const mg_metric *m,
				const char *const *pairs);

/* `label_values` has exactly as many entries as the metric has label names (NULL when it
 * has none). Counters only accept non-negative increments (MG_EINVAL otherwise). */
int mg_metric_inc(mg_metric *m, const char *const *label_values, double delta);
/* Gauges only. */
int mg_metric_set(mg_metric *m, const char *const *label_values, double value);
/* Histograms only. */
int mg_metric_observe(mg_metric *m, const char *const *label_values, double value);

/* Current value of a counter or gauge series (tests, readiness decisions); MG_ENOTFOUND
 * when the series was never touched. */
int mg_metric_value(double *out, mg_metric *m, const char *const *label_values);

/* Removes every series whose label `label_name` has `value` (a deleted object's gauges).
 * Returns how many were removed, or MG_EINVAL if the metric has no such label. */
int mg_metric_drop(mg_metric *m, const char *label_name, const char *value);

/* Appends the whole registry in text exposition format. */
int mg_metrics_render(mg_strbuf *out, mg_metrics *reg);

#endif
