/* The reconciler's metrics: a name-keyed adapter over the core registry
 * (mirrorgate/metrics.h), which stores, escapes and renders them. A metric is registered on
 * its first use with that call's label keys; later calls must use the same keys (in any
 * order) or their sample is dropped. Thread-safe. Unlabelled series render as `name{} v`,
 * and a metric with no series (never used, or all dropped) is not rendered. */
#ifndef MG_RECONCILER_RMETRICS_H
#define MG_RECONCILER_RMETRICS_H

#include <stddef.h>

typedef struct mg_rmetrics mg_rmetrics;

int mg_rmetrics_new(mg_rmetrics **out);
void mg_rmetrics_free(mg_rmetrics *m);

/* labels: NULL-terminated key, value, key, value, ... (may be NULL for none). */
void mg_rmetrics_inc(mg_rmetrics *m, const char *name, const char *const *labels, double by);
void mg_rmetrics_set(mg_rmetrics *m, const char *name, const char *const *labels, double value);
/* Removes every series of `name` whose labels include key=value (a deleted TMR's gauges). */
void mg_rmetrics_drop(mg_rmetrics *m, const char *name, const char *key, const char *value);
/* Observes seconds into the histogram `name` (buckets 5ms .. 60s). */
void mg_rmetrics_observe(mg_rmetrics *m, const char *name, const char *const *labels,
			double seconds);

/* HELP and TYPE come from this table (borrowed; call before the metrics are used). A metric
 * not listed has no HELP line and the type of its first use: inc a counter, set a gauge,
 * observe a histogram. */
typedef struct mg_rmetric_desc {
	const char *name, *type, *help;
} mg_rmetric_desc;
void mg_rmetrics_describe(mg_rmetrics *m, const mg_rmetric_desc *descs, size_t n);

/* The exposition text; caller frees. */
int mg_rmetrics_render(mg_rmetrics *m, char **out);

#endif
