#include "mirrorgate/util/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirrorgate/util/err.h"

enum metric_type { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

typedef struct series {
	char **values;        /* one per label name */
	double value;         /* counter / gauge */
	unsigned long long *counts; /* histogram: per bucket, not cumulative; last is +Inf */
	unsigned long long count;
	double sum;
} series;

struct mg_metric {
	enum metric_type type;
	char *name;
	char *help;
	char **labels;
	size_t nlabels;
	double *bounds;
	size_t nbounds;
	pthread_mutex_t lock; /* guards the series array and every series in it */
	series *series;
	size_t nseries;
	size_t cap;
	size_t max_series;
};

struct mg_metrics {
	pthread_mutex_t lock; /* guards the metric list, not the metrics' values */
	unsigned flags;
	size_t max_series; /* for metrics registered from now on */
	mg_metric **metrics;
	size_t len;
	size_t cap;
};

int mg_metrics_new_flags(mg_metrics **out, unsigned flags)
{
	if (flags & ~(MG_METRICS_EMPTY_BRACES | MG_METRICS_HIDE_EMPTY))
		return MG_EINVAL;
	mg_metrics *reg = calloc(1, sizeof(*reg));
	if (!reg)
		return MG_ENOMEM;
	if (pthread_mutex_init(&reg->lock, NULL)) {
		free(reg);
		return MG_ENOMEM;
	}
	reg->flags = flags;
	reg->max_series = MG_METRICS_MAX_SERIES;
	*out = reg;
	return 0;
}

int mg_metrics_new(mg_metrics **out)
{
	return mg_metrics_new_flags(out, 0);
}

int mg_metrics_set_max_series(mg_metrics *reg, size_t max)
{
	if (!reg || !max)
		return MG_EINVAL;
	pthread_mutex_lock(&reg->lock);
	reg->max_series = max;
	pthread_mutex_unlock(&reg->lock);
	return 0;
}

static void series_clear(series *s, size_t nlabels)
{
	for (size_t i = 0; s->values && i < nlabels; i++)
		free(s->values[i]);
	free(s->values);
	free(s->counts);
}

static void metric_free(mg_metric *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nseries; i++)
		series_clear(&m->series[i], m->nlabels);
	free(m->series);
	for (size_t i = 0; m->labels && i < m->nlabels; i++)
		free(m->labels[i]);
	free(m->labels);
	free(m->bounds);
	free(m->name);
	free(m->help);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

void mg_metrics_free(mg_metrics *reg)
{
	if (!reg)
		return;
	for (size_t i = 0; i < reg->len; i++)
		metric_free(reg->metrics[i]);
	free(reg->metrics);
	pthread_mutex_destroy(&reg->lock);
	free(reg);
}

static int valid_name(const char *s, int allow_colon)
{
	if (!s || !*s || (*s >= '0' && *s <= '9'))
		return 0;
	for (; *s; s++) {
		char c = *s;
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			 c == '_' || (allow_colon && c == ':');
		if (!ok)
			return 0;
	}
	return 1;
}

static int add_metric(mg_metric **out, mg_metrics *reg, enum metric_type type, const char *name,
		      const char *help, const char *const *label_names, size_t nlabels,
		      const double *bounds, size_t nbounds)
{
	int rc = MG_EINVAL;
	mg_metric *m = NULL;
	if (!reg || !valid_name(name, 1) || nlabels > MG_METRICS_MAX_LABELS ||
	    (nlabels && !label_names))
		return MG_EINVAL;
	for (size_t i = 0; i < nlabels; i++) {
		/* "le" is reserved for histogram buckets; "__" prefixes are Prometheus-internal. */
		if (!valid_name(label_names[i], 0) || strcmp(label_names[i], "le") == 0 ||
		    strncmp(label_names[i], "__", 2) == 0)
			return MG_EINVAL;
	}
	for (size_t i = 1; i < nbounds; i++) {
		if (!(bounds[i] > bounds[i - 1]))
			return MG_EINVAL;
	}
	if (type == METRIC_HISTOGRAM && (!bounds || !nbounds))
		return MG_EINVAL;

	rc = MG_ENOMEM;
	m = calloc(1, sizeof(*m));
	if (!m)
		return MG_ENOMEM;
	if (pthread_mutex_init(&m->lock, NULL)) {
		free(m);
		return MG_ENOMEM;
	}
	m->type = type;
	m->name = mg_strdup(name);
	m->help = mg_strdup(help ? help : "");
	if (!m->name || !m->help)
		goto out;
	if (nlabels) {
		m->labels = calloc(nlabels, sizeof(char *));
		if (!m->labels)
			goto out;
		m->nlabels = nlabels;
		for (size_t i = 0; i < nlabels; i++) {
			if (!(m->labels[i] = mg_strdup(label_names[i])))
				goto out;
		}
	}
	if (nbounds) {
		m->bounds = malloc(nbounds * sizeof(double));
		if (!m->bounds)
			goto out;
		memcpy(m->bounds, bounds, nbounds * sizeof(double));
		m->nbounds = nbounds;
	}

	pthread_mutex_lock(&reg->lock);
	m->max_series = reg->max_series;
	for (size_t i = 0; i < reg->len; i++) {
		if (strcmp(reg->metrics[i]->name, name) == 0) {
			pthread_mutex_unlock(&reg->lock);
			rc = MG_EEXIST;
			goto out;
		}
	}
	if (reg->len == reg->cap) {
		size_t cap = reg->cap ? reg->cap * 2 : 16;
		mg_metric **p = realloc(reg->metrics, cap * sizeof(*p));
		if (!p) {
			pthread_mutex_unlock(&reg->lock);
			goto out;
		}
		reg->metrics = p;
		reg->cap = cap;
	}
	reg->metrics[reg->len++] = m;
	pthread_mutex_unlock(&reg->lock);
	*out = m;
	m = NULL;
	rc = 0;
out:
	metric_free(m);
	return rc;
}

int mg_metrics_counter(mg_metric **out, mg_metrics *reg, const char *name, const char *help,
		       const char *const *label_names, size_t nlabels)
{
	return add_metric(out, reg, METRIC_COUNTER, name, help, label_names, nlabels, NULL, 0);
}

int mg_metrics_gauge(mg_metric **out, mg_metrics *reg, const char *name, const char *help,
		     const char *const *label_names, size_t nlabels)
{
	return add_metric(out, reg, METRIC_GAUGE, name, help, label_names, nlabels, NULL, 0);
}

int mg_metrics_histogram(mg_metric **out, mg_metrics *reg, const char *name, const char *help,
			 const char *const *label_names, size_t nlabels, const double *bounds,
			 size_t nbounds)
{
	return add_metric(out, reg, METRIC_HISTOGRAM, name, help, label_names, nlabels, bounds,
			  nbounds);
}

int mg_metrics_lookup(mg_metric **out, mg_metrics *reg, const char *name)
{
	if (!reg || !name)
		return MG_EINVAL;
	int rc = MG_ENOTFOUND;
	pthread_mutex_lock(&reg->lock);
	for (size_t i = 0; i < reg->len; i++) {
		if (strcmp(reg->metrics[i]->name, name) == 0) {
			*out = reg->metrics[i];
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&reg->lock);
	return rc;
}

/* Label names are fixed at registration, so reading them needs no lock. */
int mg_metric_values_from_pairs(const char **values, const mg_metric *m,
				const char *const *pairs)
{
	if (!m || !values)
		return MG_EINVAL;
	size_t npairs = 0;
	while (pairs && pairs[2 * npairs]) {
		if (!pairs[2 * npairs + 1])
			return MG_EINVAL;
		npairs++;
	}
	if (npairs != m->nlabels)
		return MG_EINVAL;
	for (size_t i = 0; i < m->nlabels; i++) {
		values[i] = NULL;
		for (size_t j = 0; j < npairs; j++) {
			if (strcmp(pairs[2 * j], m->labels[i]) == 0) {
				values[i] = pairs[2 * j + 1];
				break;
			}
		}
		if (!values[i])
			return MG_EINVAL;
	}
	return 0;
}

int mg_metric_drop(mg_metric *m, const char *label_name, const char *value)
{
	if (!m || !label_name || !value)
		return MG_EINVAL;
	size_t l = 0;
	while (l < m->nlabels && strcmp(m->labels[l], label_name) != 0)
		l++;
	if (l == m->nlabels)
		return MG_EINVAL;
	int dropped = 0;
	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->nseries;) {
		if (strcmp(m->series[i].values[l], value) != 0) {
			i++;
			continue;
		}
		series_clear(&m->series[i], m->nlabels);
		/* Shifting, not swapping with the last, keeps the rendering order stable. */
		memmove(&m->series[i], &m->series[i + 1], (m->nseries - i - 1) * sizeof(series));
		m->nseries--;
		dropped++;
	}
	pthread_mutex_unlock(&m->lock);
	return dropped;
}

/* Finds or creates the series for these label values; called with m->lock held. */
static int get_series(series **out, mg_metric *m, const char *const *values)
{
	if (m->nlabels && !values)
		return MG_EINVAL;
	for (size_t i = 0; i < m->nlabels; i++) {
		if (!values[i])
			return MG_EINVAL;
	}
	for (size_t i = 0; i < m->nseries; i++) {
		series *s = &m->series[i];
		size_t j = 0;
		while (j < m->nlabels && strcmp(s->values[j], values[j]) == 0)
			j++;
		if (j == m->nlabels) {
			*out = s;
			return 0;
		}
	}
	if (m->nseries >= m->max_series)
		return MG_ETOOBIG;
	if (m->nseries == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 8;
		series *p = realloc(m->series, cap * sizeof(*p));
		if (!p)
			return MG_ENOMEM;
		m->series = p;
		m->cap = cap;
	}
	series s = {0};
	int rc = MG_ENOMEM;
	if (m->nlabels && !(s.values = calloc(m->nlabels, sizeof(char *))))
		goto fail;
	for (size_t i = 0; i < m->nlabels; i++) {
		if (!(s.values[i] = mg_strdup(values[i])))
			goto fail;
	}
	if (m->type == METRIC_HISTOGRAM &&
	    !(s.counts = calloc(m->nbounds + 1, sizeof(unsigned long long))))
		goto fail;
	m->series[m->nseries] = s;
	*out = &m->series[m->nseries++];
	return 0;
fail:
	series_clear(&s, m->nlabels);
	return rc;
}

static int update(mg_metric *m, enum metric_type type, const char *const *values, double v,
		  int set)
{
	if (!m || m->type != type || isnan(v))
		return MG_EINVAL;
	if (type == METRIC_COUNTER && v < 0)
		return MG_EINVAL;
	series *s;
	pthread_mutex_lock(&m->lock);
	int rc = get_series(&s, m, values);
	if (rc == 0) {
		if (type == METRIC_HISTOGRAM) {
			size_t b = 0;
			while (b < m->nbounds && v > m->bounds[b])
				b++;
			s->counts[b]++;
			s->count++;
			s->sum += v;
		} else if (set) {
			s->value = v;
		} else {
			s->value += v;
		}
	}
	pthread_mutex_unlock(&m->lock);
	return rc;
}

int mg_metric_inc(mg_metric *m, const char *const *label_values, double delta)
{
	if (m && m->type == METRIC_GAUGE)
		return update(m, METRIC_GAUGE, label_values, delta, 0);
	return update(m, METRIC_COUNTER, label_values, delta, 0);
}

int mg_metric_set(mg_metric *m, const char *const *label_values, double value)
{
	return update(m, METRIC_GAUGE, label_values, value, 1);
}

int mg_metric_observe(mg_metric *m, const char *const *label_values, double value)
{
	return update(m, METRIC_HISTOGRAM, label_values, value, 0);
}

int mg_metric_value(double *out, mg_metric *m, const char *const *label_values)
{
	if (!m || m->type == METRIC_HISTOGRAM)
		return MG_EINVAL;
	int rc = MG_ENOTFOUND;
	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->nseries; i++) {
		size_t j = 0;
		while (j < m->nlabels && strcmp(m->series[i].values[j], label_values[j]) == 0)
			j++;
		if (j == m->nlabels) {
			*out = m->series[i].value;
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&m->lock);
	return rc;
}

/* The shortest decimal that reads back as the same double, so bucket bounds print as
 * "0.0005", not "0.00050000000000000001". */
static void put_number(mg_strbuf *sb, double v)
{
	if (isinf(v)) {
		mg_strbuf_puts(sb, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	char buf[40];
	/* Whole numbers (counts, Unix times) print in full, never in exponent form. */
	if (v == floor(v) && fabs(v) < 1e15) {
		snprintf(buf, sizeof(buf), "%.0f", v);
		mg_strbuf_puts(sb, buf);
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	mg_strbuf_puts(sb, buf);
}

/* Label values escape backslash, double quote and newline; HELP text only the first and
 * the last (text format 0.0.4). */
static void put_escaped(mg_strbuf *sb, const char *s, int quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			mg_strbuf_puts(sb, "\\\\");
		else if (*s == '\n')
			mg_strbuf_puts(sb, "\\n");
		else if (quote && *s == '"')
			mg_strbuf_puts(sb, "\\\"");
		else
			mg_strbuf_putc(sb, *s);
	}
}

static void put_labels(mg_strbuf *sb, const mg_metric *m, const series *s, const char *le,
		       unsigned flags)
{
	if (!m->nlabels && !le) {
		if (flags & MG_METRICS_EMPTY_BRACES)
			mg_strbuf_puts(sb, "{}");
		return;
	}
	mg_strbuf_putc(sb, '{');
	for (size_t i = 0; i < m->nlabels; i++) {
		if (i)
			mg_strbuf_putc(sb, ',');
		mg_strbuf_puts(sb, m->labels[i]);
		mg_strbuf_puts(sb, "=\"");
		put_escaped(sb, s->values[i], 1);
		mg_strbuf_putc(sb, '"');
	}
	if (le) {
		if (m->nlabels)
			mg_strbuf_putc(sb, ',');
		mg_strbuf_puts(sb, "le=\"");
		mg_strbuf_puts(sb, le);
		mg_strbuf_putc(sb, '"');
	}
	mg_strbuf_putc(sb, '}');
}

static void render_metric(mg_strbuf *sb, mg_metric *m, unsigned flags)
{
	static const char *const type_names[] = {"counter", "gauge", "histogram"};
	pthread_mutex_lock(&m->lock);
	if ((flags & MG_METRICS_HIDE_EMPTY) && m->nseries == 0) {
		pthread_mutex_unlock(&m->lock);
		return;
	}
	/* No HELP line without help text: a metric registered without one stays terse. */
	if (m->help[0]) {
		mg_strbuf_printf(sb, "# HELP %s ", m->name);
		put_escaped(sb, m->help, 0);
		mg_strbuf_putc(sb, '\n');
	}
	mg_strbuf_printf(sb, "# TYPE %s %s\n", m->name, type_names[m->type]);
	if (m->type != METRIC_HISTOGRAM && m->nlabels == 0 && m->nseries == 0) {
		/* An unlabelled counter or gauge exists from registration on, at zero. */
		mg_strbuf_printf(sb, "%s 0\n", m->name);
	}
	for (size_t i = 0; i < m->nseries; i++) {
		const series *s = &m->series[i];
		if (m->type != METRIC_HISTOGRAM) {
			mg_strbuf_puts(sb, m->name);
			put_labels(sb, m, s, NULL, flags);
			mg_strbuf_putc(sb, ' ');
			put_number(sb, s->value);
			mg_strbuf_putc(sb, '\n');
			continue;
		}
		unsigned long long cumulative = 0;
		for (size_t b = 0; b <= m->nbounds; b++) {
			mg_strbuf le = MG_STRBUF_INIT;
			put_number(&le, b < m->nbounds ? m->bounds[b] : INFINITY);
			cumulative += s->counts[b];
			mg_strbuf_printf(sb, "%s_bucket", m->name);
			put_labels(sb, m, s, le.data ? le.data : "", flags);
			mg_strbuf_printf(sb, " %llu\n", cumulative);
			mg_strbuf_free(&le);
		}
		mg_strbuf_printf(sb, "%s_sum", m->name);
		put_labels(sb, m, s, NULL, flags);
		mg_strbuf_putc(sb, ' ');
		put_number(sb, s->sum);
		mg_strbuf_printf(sb, "\n%s_count", m->name);
		put_labels(sb, m, s, NULL, flags);
		mg_strbuf_printf(sb, " %llu\n", s->count);
	}
	pthread_mutex_unlock(&m->lock);
}

int mg_metrics_render(mg_strbuf *out, mg_metrics *reg)
{
	if (!reg || !out)
		return MG_EINVAL;
	pthread_mutex_lock(&reg->lock);
	for (size_t i = 0; i < reg->len; i++)
		render_metric(out, reg->metrics[i], reg->flags);
	pthread_mutex_unlock(&reg->lock);
	return out->failed ? MG_ENOMEM : 0;
}
