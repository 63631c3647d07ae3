/* A small Prometheus registry for the reconciler: counters and gauges keyed by a metric
 * name and a rendered label set, histograms of durations, and the text exposition format.
 * Thread-safe. Label values are escaped when rendered. */
#ifndef MG_RECONCILER_METRICS_H
#define MG_RECONCILER_METRICS_H

#include <stddef.h>

typedef struct mg_metrics mg_metrics;

int mg_metrics_new(mg_metrics **out);
void mg_metrics_free(mg_metrics *m);

/* labels: NULL-terminated key, value, key, value, ... (may be NULL for none). */
void mg_metrics_inc(mg_metrics *m, const char *name, const char *const *labels, double by);
void mg_metrics_set(mg_metrics *m, const char *name, const char *const *labels, double value);
/* Removes every series of `name` whose labels include key=value (a deleted TMR's gauges). */
void mg_metrics_drop(mg_metrics *m, const char *name, const char *key, const char *value);
/* Observes seconds into the histogram `name` (buckets 5ms .. 60s). */
void mg_metrics_observe(mg_metrics *m, const char *name, const char *const *labels,
			double seconds);

/* HELP/TYPE lines come from this table: metrics not listed here are rendered untyped. */
typedef struct mg_metric_desc {
	const char *name, *type, *help;
} mg_metric_desc;
void mg_metrics_describe(mg_metrics *m, const mg_metric_desc *descs, size_t n);

/* The exposition text; caller frees. */
int mg_metrics_render(mg_metrics *m, char **out);

#endif
