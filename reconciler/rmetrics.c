/* The reconciler's name-keyed view of the core registry (lib/metrics.c): a metric is
 * registered on first use, with the label keys of that call and the type and help of its
 * describe entry. Storage, escaping and rendering are the core's. */
#include "rmetrics.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/util/metrics.h"
#include "mirrorgate/util/strbuf.h"

static const double k_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
#define NBUCKETS (sizeof(k_buckets) / sizeof(k_buckets[0]))

/* The per-TMR gauges have one series per live TMR (dropped when it is deleted): room for
 * far more TMRs than a cluster holds, while still bounding a label bug. */
#define MAX_SERIES 65536

enum op { OP_INC, OP_SET, OP_OBSERVE };

struct mg_rmetrics {
	mg_metrics *reg;
	pthread_mutex_t mu; /* guards descs */
	const mg_rmetric_desc *descs;
	size_t ndescs;
};

int mg_rmetrics_new(mg_rmetrics **out)
{
	mg_rmetrics *m = calloc(1, sizeof(*m));
	if (!m)
		return MG_ENOMEM;
	if (pthread_mutex_init(&m->mu, NULL) != 0) {
		free(m);
		return MG_ENOMEM;
	}
	int rc = mg_metrics_new_flags(&m->reg, MG_METRICS_EMPTY_BRACES | MG_METRICS_HIDE_EMPTY);
	if (rc == 0)
		rc = mg_metrics_set_max_series(m->reg, MAX_SERIES);
	if (rc != 0) {
		mg_metrics_free(m->reg);
		pthread_mutex_destroy(&m->mu);
		free(m);
		return rc;
	}
	*out = m;
	return 0;
}

void mg_rmetrics_free(mg_rmetrics *m)
{
	if (!m)
		return;
	mg_metrics_free(m->reg);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

void mg_rmetrics_describe(mg_rmetrics *m, const mg_rmetric_desc *descs, size_t n)
{
	pthread_mutex_lock(&m->mu);
	m->descs = descs;
	m->ndescs = n;
	pthread_mutex_unlock(&m->mu);
}

/* The metric `name`, registered now if this is its first use. A described metric takes the
 * described type; an undescribed one the type its first operation implies. */
static int metric_for(mg_metric **out, mg_rmetrics *m, const char *name,
		      const char *const *labels, enum op op)
{
	int rc = mg_metrics_lookup(out, m->reg, name);
	if (rc != MG_ENOTFOUND)
		return rc;
	const char *keys[MG_METRICS_MAX_LABELS];
	size_t n = 0;
	for (; labels && labels[2 * n]; n++) {
		if (n == MG_METRICS_MAX_LABELS || !labels[2 * n + 1])
			return MG_EINVAL;
		keys[n] = labels[2 * n];
	}
	const char *type = op == OP_OBSERVE ? "histogram" : op == OP_SET ? "gauge" : "counter";
	const char *help = NULL;
	pthread_mutex_lock(&m->mu);
	for (size_t d = 0; d < m->ndescs; d++) {
		if (strcmp(m->descs[d].name, name) == 0) {
			type = m->descs[d].type;
			help = m->descs[d].help;
			break;
		}
	}
	pthread_mutex_unlock(&m->mu);
	if (strcmp(type, "histogram") == 0)
		rc = mg_metrics_histogram(out, m->reg, name, help, keys, n, k_buckets, NBUCKETS);
	else if (strcmp(type, "gauge") == 0)
		rc = mg_metrics_gauge(out, m->reg, name, help, keys, n);
	else
		rc = mg_metrics_counter(out, m->reg, name, help, keys, n);
	if (rc == MG_EEXIST) /* another thread registered it first */
		rc = mg_metrics_lookup(out, m->reg, name);
	return rc;
}

/* A sample that cannot be recorded (ENOMEM, a caller's label mistake) is dropped: metrics
 * never fail a reconcile. */
static void record(mg_rmetrics *m, const char *name, const char *const *labels, enum op op,
		   double v)
{
	if (!m || !name)
		return;
	mg_metric *metric = NULL;
	const char *values[MG_METRICS_MAX_LABELS];
	if (metric_for(&metric, m, name, labels, op) != 0 ||
	    mg_metric_values_from_pairs(values, metric, labels) != 0)
		return;
	if (op == OP_INC)
		(void)mg_metric_inc(metric, values, v);
	else if (op == OP_SET)
		(void)mg_metric_set(metric, values, v);
	else
		(void)mg_metric_observe(metric, values, v);
}

void mg_rmetrics_inc(mg_rmetrics *m, const char *name, const char *const *labels, double by)
{
	record(m, name, labels, OP_INC, by);
}

void mg_rmetrics_set(mg_rmetrics *m, const char *name, const char *const *labels, double value)
{
	record(m, name, labels, OP_SET, value);
}

void mg_rmetrics_observe(mg_rmetrics *m, const char *name, const char *const *labels,
			double seconds)
{
	record(m, name, labels, OP_OBSERVE, seconds);
}

void mg_rmetrics_drop(mg_rmetrics *m, const char *name, const char *key, const char *value)
{
	mg_metric *metric = NULL;
	/* a metric never used has no series to drop */
	if (m && name && mg_metrics_lookup(&metric, m->reg, name) == 0)
		(void)mg_metric_drop(metric, key, value);
}

int mg_rmetrics_render(mg_rmetrics *m, char **out)
{
	if (!m || !out)
		return MG_EINVAL;
	mg_strbuf sb = MG_STRBUF_INIT;
	int rc = mg_metrics_render(&sb, m->reg);
	if (rc == 0)
		rc = mg_strbuf_detach(&sb, out);
	mg_strbuf_free(&sb);
	return rc;
}
