#include "rmetrics.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mirrorgate/err.h"
#include "mirrorgate/strbuf.h"

static const double k_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
#define NBUCKETS (sizeof(k_buckets) / sizeof(k_buckets[0]))

typedef struct series {
	char *name;
	char *labels; /* rendered: key="value",... (may be "") */
	double value;
	bool histogram;
	double sum;
	unsigned long long count;
	unsigned long long buckets[NBUCKETS];
} series;

struct mg_rmetrics {
	pthread_mutex_t mu;
	series *items;
	size_t len, cap;
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
	*out = m;
	return 0;
}

void mg_rmetrics_free(mg_rmetrics *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->len; i++) {
		free(m->items[i].name);
		free(m->items[i].labels);
	}
	free(m->items);
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

static char *render_labels(const char *const *labels)
{
	mg_strbuf sb = MG_STRBUF_INIT;
	for (size_t i = 0; labels && labels[i] && labels[i + 1]; i += 2) {
		if (i)
			mg_strbuf_putc(&sb, ',');
		mg_strbuf_printf(&sb, "%s=\"", labels[i]);
		for (const char *p = labels[i + 1]; *p; p++) {
			if (*p == '\\' || *p == '"')
				mg_strbuf_putc(&sb, '\\');
			if (*p == '\n')
				mg_strbuf_puts(&sb, "\\n");
			else
				mg_strbuf_putc(&sb, *p);
		}
		mg_strbuf_putc(&sb, '"');
	}
	char *out = NULL;
	if (mg_strbuf_detach(&sb, &out) != 0 || !out)
		out = strdup("");
	return out;
}

/* Locked. NULL on ENOMEM (the sample is dropped: metrics never fail a reconcile). */
static series *find_or_add(mg_rmetrics *m, const char *name, const char *const *labels,
			   bool histogram)
{
	char *l = render_labels(labels);
	if (!l)
		return NULL;
	for (size_t i = 0; i < m->len; i++)
		if (strcmp(m->items[i].name, name) == 0 && strcmp(m->items[i].labels, l) == 0) {
			free(l);
			return &m->items[i];
		}
	if (m->len == m->cap) {
		size_t n = m->cap ? m->cap * 2 : 32;
		series *p = realloc(m->items, n * sizeof(*p));
		if (!p) {
			free(l);
			return NULL;
		}
		m->items = p;
		m->cap = n;
	}
	series *s = &m->items[m->len];
	memset(s, 0, sizeof(*s));
	s->name = strdup(name);
	if (!s->name) {
		free(l);
		return NULL;
	}
	s->labels = l;
	s->histogram = histogram;
	m->len++;
	return s;
}

void mg_rmetrics_inc(mg_rmetrics *m, const char *name, const char *const *labels, double by)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->mu);
	series *s = find_or_add(m, name, labels, false);
	if (s)
		s->value += by;
	pthread_mutex_unlock(&m->mu);
}

void mg_rmetrics_set(mg_rmetrics *m, const char *name, const char *const *labels, double value)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->mu);
	series *s = find_or_add(m, name, labels, false);
	if (s)
		s->value = value;
	pthread_mutex_unlock(&m->mu);
}

void mg_rmetrics_drop(mg_rmetrics *m, const char *name, const char *key, const char *value)
{
	if (!m)
		return;
	const char *const kv[] = {key, value, NULL};
	char *needle = render_labels(kv);
	if (!needle)
		return;
	pthread_mutex_lock(&m->mu);
	for (size_t i = 0; i < m->len;) {
		series *s = &m->items[i];
		if (strcmp(s->name, name) == 0 && strstr(s->labels, needle)) {
			free(s->name);
			free(s->labels);
			m->items[i] = m->items[--m->len];
			continue;
		}
		i++;
	}
	pthread_mutex_unlock(&m->mu);
	free(needle);
}

void mg_rmetrics_observe(mg_rmetrics *m, const char *name, const char *const *labels,
			double seconds)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->mu);
	series *s = find_or_add(m, name, labels, true);
	if (s) {
		s->sum += seconds;
		s->count++;
		for (size_t b = 0; b < NBUCKETS; b++)
			if (seconds <= k_buckets[b])
				s->buckets[b]++;
	}
	pthread_mutex_unlock(&m->mu);
}

static int cmp_series(const void *a, const void *b)
{
	const series *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : strcmp(x->labels, y->labels);
}

int mg_rmetrics_render(mg_rmetrics *m, char **out)
{
	mg_strbuf sb = MG_STRBUF_INIT;
	pthread_mutex_lock(&m->mu);
	qsort(m->items, m->len, sizeof(*m->items), cmp_series);
	const char *last = NULL;
	for (size_t i = 0; i < m->len; i++) {
		series *s = &m->items[i];
		if (!last || strcmp(last, s->name) != 0) {
			for (size_t d = 0; d < m->ndescs; d++)
				if (strcmp(m->descs[d].name, s->name) == 0)
					mg_strbuf_printf(&sb, "# HELP %s %s\n# TYPE %s %s\n", s->name,
							 m->descs[d].help, s->name, m->descs[d].type);
			last = s->name;
		}
		const char *sep = s->labels[0] ? "," : "";
		if (!s->histogram) {
			mg_strbuf_printf(&sb, "%s{%s} %.17g\n", s->name, s->labels, s->value);
			continue;
		}
		for (size_t b = 0; b < NBUCKETS; b++)
			mg_strbuf_printf(&sb, "%s_bucket{%s%sle=\"%g\"} %llu\n", s->name, s->labels, sep,
					 k_buckets[b], s->buckets[b]);
		mg_strbuf_printf(&sb, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", s->name, s->labels, sep,
				 s->count);
		mg_strbuf_printf(&sb, "%s_sum{%s} %.17g\n%s_count{%s} %llu\n", s->name, s->labels,
				 s->sum, s->name, s->labels, s->count);
	}
	pthread_mutex_unlock(&m->mu);
	int rc = mg_strbuf_detach(&sb, out);
	if (rc == 0 && !*out)
		*out = strdup("");
	return rc == 0 && *out ? 0 : MG_ENOMEM;
}
