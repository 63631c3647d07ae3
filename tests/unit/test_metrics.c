#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "mirrorgate/err.h"
#include "mirrorgate/metrics.h"

static char *render(mg_metrics *reg)
{
	mg_strbuf sb = MG_STRBUF_INIT;
	char *text = NULL;
	cr_assert_eq(mg_metrics_render(&sb, reg), 0);
	cr_assert_eq(mg_strbuf_detach(&sb, &text), 0);
	return text;
}

Test(metrics, counter_with_labels_renders_exposition_format)
{
	mg_metrics *reg = NULL;
	mg_metric *c = NULL;
	const char *labels[] = {"kind", "verdict"};
	cr_assert_eq(mg_metrics_new(&reg), 0);
	cr_assert_eq(mg_metrics_counter(&c, reg, "mg_requests_total", "Requests.", labels, 2), 0);
	const char *a[] = {"PVC", "allowed"}, *b[] = {"TMR", "denied"};
	cr_assert_eq(mg_metric_inc(c, a, 1), 0);
	cr_assert_eq(mg_metric_inc(c, a, 2), 0);
	cr_assert_eq(mg_metric_inc(c, b, 1), 0);
	double v = 0;
	cr_assert_eq(mg_metric_value(&v, c, a), 0);
	cr_assert_float_eq(v, 3.0, 1e-9);
	const char *none[] = {"SC", "allowed"};
	cr_assert_eq(mg_metric_value(&v, c, none), MG_ENOTFOUND);
	char *text = render(reg);
	cr_assert_str_eq(text, "# HELP mg_requests_total Requests.\n"
			       "# TYPE mg_requests_total counter\n"
			       "mg_requests_total{kind=\"PVC\",verdict=\"allowed\"} 3\n"
			       "mg_requests_total{kind=\"TMR\",verdict=\"denied\"} 1\n");
	free(text);
	mg_metrics_free(reg);
}

Test(metrics, unlabelled_gauge_and_escaping)
{
	mg_metrics *reg = NULL;
	mg_metric *g = NULL, *e = NULL;
	const char *l[] = {"path"};
	cr_assert_eq(mg_metrics_new(&reg), 0);
	cr_assert_eq(mg_metrics_gauge(&g, reg, "mg_expiry_seconds", "Line1\nback\\slash", NULL, 0),
		     0);
	cr_assert_eq(mg_metrics_gauge(&e, reg, "mg_esc", "x", l, 1), 0);
	char *text = render(reg);
	cr_assert(strstr(text, "# HELP mg_expiry_seconds Line1\\nback\\\\slash\n"));
	cr_assert(strstr(text, "mg_expiry_seconds 0\n"), "unset unlabelled gauge shows 0");
	free(text);
	cr_assert_eq(mg_metric_set(g, NULL, 1767225600), 0);
	cr_assert_eq(mg_metric_inc(g, NULL, -100), 0, "gauges go down");
	const char *weird[] = {"a\"b\\c\nd"};
	cr_assert_eq(mg_metric_set(e, weird, 0.25), 0);
	text = render(reg);
	cr_assert(strstr(text, "mg_expiry_seconds 1767225500\n"), "%s", text);
	cr_assert(strstr(text, "mg_esc{path=\"a\\\"b\\\\c\\nd\"} 0.25\n"), "%s", text);
	free(text);
	mg_metrics_free(reg);
}

Test(metrics, histogram_buckets_are_cumulative)
{
	mg_metrics *reg = NULL;
	mg_metric *h = NULL;
	const double bounds[] = {0.0005, 0.001, 0.5};
	const char *l[] = {"webhook"};
	cr_assert_eq(mg_metrics_new(&reg), 0);
	cr_assert_eq(mg_metrics_histogram(&h, reg, "mg_latency_seconds", "Latency.", l, 1, bounds, 3),
		     0);
	const char *v[] = {"validate"};
	cr_assert_eq(mg_metric_observe(h, v, 0.0001), 0);
	cr_assert_eq(mg_metric_observe(h, v, 0.001), 0, "a value on a bound goes in that bucket");
	cr_assert_eq(mg_metric_observe(h, v, 7), 0);
	char *text = render(reg);
	cr_assert_str_eq(text, "# HELP mg_latency_seconds Latency.\n"
			       "# TYPE mg_latency_seconds histogram\n"
			       "mg_latency_seconds_bucket{webhook=\"validate\",le=\"0.0005\"} 1\n"
			       "mg_latency_seconds_bucket{webhook=\"validate\",le=\"0.001\"} 2\n"
			       "mg_latency_seconds_bucket{webhook=\"validate\",le=\"0.5\"} 2\n"
			       "mg_latency_seconds_bucket{webhook=\"validate\",le=\"+Inf\"} 3\n"
			       "mg_latency_seconds_sum{webhook=\"validate\"} 7.0011\n"
			       "mg_latency_seconds_count{webhook=\"validate\"} 3\n");
	free(text);
	mg_metrics_free(reg);
}

Test(metrics, misuse_is_refused)
{
	mg_metrics *reg = NULL;
	mg_metric *m = NULL, *dup = NULL, *g = NULL;
	const double bad_bounds[] = {1, 1};
	const char *le[] = {"le"}, *bad[] = {"0abc"}, *ok[] = {"kind"};
	cr_assert_eq(mg_metrics_new(&reg), 0);
	cr_assert_eq(mg_metrics_counter(&m, reg, "bad-name", "", NULL, 0), MG_EINVAL);
	cr_assert_eq(mg_metrics_counter(&m, reg, "x_total", "", le, 1), MG_EINVAL);
	cr_assert_eq(mg_metrics_counter(&m, reg, "x_total", "", bad, 1), MG_EINVAL);
	cr_assert_eq(mg_metrics_histogram(&m, reg, "h", "", NULL, 0, bad_bounds, 2), MG_EINVAL);
	cr_assert_eq(mg_metrics_histogram(&m, reg, "h", "", NULL, 0, NULL, 0), MG_EINVAL);
	cr_assert_eq(mg_metrics_counter(&m, reg, "x_total", "", ok, 1), 0);
	cr_assert_eq(mg_metrics_gauge(&dup, reg, "x_total", "", NULL, 0), MG_EEXIST);
	cr_assert_eq(mg_metric_inc(m, NULL, 1), MG_EINVAL, "labels missing");
	const char *k[] = {"PVC"};
	cr_assert_eq(mg_metric_inc(m, k, -1), MG_EINVAL, "counters never go down");
	cr_assert_eq(mg_metric_set(m, k, 5), MG_EINVAL, "set is for gauges");
	cr_assert_eq(mg_metric_observe(m, k, 5), MG_EINVAL);
	cr_assert_eq(mg_metrics_gauge(&g, reg, "g", "", ok, 1), 0);
	char name[32];
	int rc = 0;
	for (int i = 0; i <= MG_METRICS_MAX_SERIES && rc == 0; i++) {
		snprintf(name, sizeof(name), "v%d", i);
		const char *vals[] = {name};
		rc = mg_metric_set(g, vals, i);
	}
	cr_assert_eq(rc, MG_ETOOBIG, "series are bounded");
	mg_metrics_free(reg);
	mg_metrics_free(NULL);
}

static mg_metric *g_shared;

static void *hammer(void *arg)
{
	const char *vals[] = {(const char *)arg};
	for (int i = 0; i < 10000; i++)
		mg_metric_inc(g_shared, vals, 1);
	return NULL;
}

Test(metrics, concurrent_increments_are_not_lost)
{
	mg_metrics *reg = NULL;
	const char *l[] = {"t"};
	cr_assert_eq(mg_metrics_new(&reg), 0);
	cr_assert_eq(mg_metrics_counter(&g_shared, reg, "c_total", "", l, 1), 0);
	pthread_t th[4];
	char *names[] = {"a", "b", "a", "b"};
	for (int i = 0; i < 4; i++)
		cr_assert_eq(pthread_create(&th[i], NULL, hammer, names[i]), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	double v = 0;
	const char *a[] = {"a"};
	cr_assert_eq(mg_metric_value(&v, g_shared, a), 0);
	cr_assert_float_eq(v, 20000.0, 1e-9);
	mg_metrics_free(reg);
}
