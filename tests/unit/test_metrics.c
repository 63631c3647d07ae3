#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/util/metrics.h"

static void expect_value(mg_metric *m, const char *const *labels, double want)
{
	double v = 0;
	cr_assert_eq(mg_metric_value(&v, m, labels), 0);
	cr_assert_float_eq(v, want, 1e-9);
}

static mg_metrics *new_registry(void)
{
	mg_metrics *reg = NULL;
	cr_assert_eq(mg_metrics_new(&reg), 0);
	return reg;
}

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
	mg_metrics *reg = new_registry();
	mg_metric *c = NULL;
	const char *labels[] = {"kind", "verdict"};
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
	mg_metrics *reg = new_registry();
	mg_metric *g = NULL, *e = NULL;
	const char *l[] = {"path"};
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
	mg_metrics *reg = new_registry();
	mg_metric *h = NULL;
	const double bounds[] = {0.0005, 0.001, 0.5};
	const char *l[] = {"webhook"};
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
	mg_metrics *reg = new_registry();
	mg_metric *m = NULL, *dup = NULL, *g = NULL;
	const double bad_bounds[] = {1, 1};
	const char *le[] = {"le"}, *bad[] = {"0abc"}, *ok[] = {"kind"};
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
	mg_metrics *reg = new_registry();
	const char *l[] = {"t"};
	cr_assert_eq(mg_metrics_counter(&g_shared, reg, "c_total", "", l, 1), 0);
	pthread_t th[4];
	char *names[] = {"a", "b", "a", "b"};
	for (int i = 0; i < 4; i++)
		cr_assert_eq(pthread_create(&th[i], NULL, hammer, names[i]), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	const char *a[] = {"a"};
	expect_value(g_shared, a, 20000.0);
	mg_metrics_free(reg);
}

/* A deleted object's series leave the exposition; others, including one whose value starts
 * with the dropped one, stay, and the freed room can be used again. */
Test(metrics, drop_removes_every_series_with_the_value)
{
	mg_metrics *reg = new_registry();
	mg_metric *g = NULL;
	const char *l[] = {"tmr", "state"};
	cr_assert_eq(mg_metrics_gauge(&g, reg, "mg_state", "State.", l, 2), 0);
	const char *a1[] = {"app/m", "established"}, *a2[] = {"app/m", "promoted"},
		   *b[] = {"app/m2", "established"}, *q[] = {"x\"y", "failed"};
	cr_assert_eq(mg_metric_set(g, a1, 1), 0);
	cr_assert_eq(mg_metric_set(g, b, 1), 0);
	cr_assert_eq(mg_metric_set(g, a2, 0), 0);
	cr_assert_eq(mg_metric_set(g, q, 1), 0);
	cr_assert_eq(mg_metric_drop(g, "tmr", "app/m"), 2);
	cr_assert_eq(mg_metric_drop(g, "tmr", "app/m"), 0, "nothing left to drop");
	cr_assert_eq(mg_metric_drop(g, "state", "failed"), 1, "any label, raw (unescaped) value");
	cr_assert_eq(mg_metric_drop(g, "nope", "app/m"), MG_EINVAL);
	cr_assert_eq(mg_metric_drop(g, NULL, "app/m"), MG_EINVAL);
	cr_assert_eq(mg_metric_drop(NULL, "tmr", "app/m"), MG_EINVAL);
	double v = 0;
	cr_assert_eq(mg_metric_value(&v, g, a1), MG_ENOTFOUND);
	expect_value(g, b, 1);
	char *text = render(reg);
	cr_assert_str_eq(text, "# HELP mg_state State.\n"
			       "# TYPE mg_state gauge\n"
			       "mg_state{tmr=\"app/m2\",state=\"established\"} 1\n");
	free(text);
	/* set again after a drop: a fresh series, not the old value */
	cr_assert_eq(mg_metric_inc(g, a1, 2), 0);
	expect_value(g, a1, 2);
	mg_metrics_free(reg);
}

Test(metrics, drop_frees_room_under_the_series_bound)
{
	mg_metrics *reg = new_registry();
	mg_metric *g = NULL;
	const char *l[] = {"k"};
	cr_assert_eq(mg_metrics_gauge(&g, reg, "g", "", l, 1), 0);
	char name[32];
	for (int i = 0; i < MG_METRICS_MAX_SERIES; i++) {
		snprintf(name, sizeof(name), "v%d", i);
		const char *vals[] = {name};
		cr_assert_eq(mg_metric_set(g, vals, i), 0);
	}
	const char *more[] = {"more"};
	cr_assert_eq(mg_metric_set(g, more, 1), MG_ETOOBIG);
	cr_assert_eq(mg_metric_drop(g, "k", "v7"), 1);
	cr_assert_eq(mg_metric_set(g, more, 1), 0);
	const char *v8[] = {"v8"};
	expect_value(g, v8, 8); /* the shift kept the other series */
	mg_metrics_free(reg);
}

/* The reconciler's rendering: `name{}` for unlabelled series, and a metric without series
 * (never set, or every series dropped: a deleted TMR's gauges) is not rendered at all. */
Test(metrics, empty_braces_and_hidden_empty_metrics)
{
	mg_metrics *reg = NULL;
	mg_metric *leader = NULL, *never = NULL, *tmr = NULL, *h = NULL, *c = NULL;
	const char *l[] = {"tmr"};
	const double bounds[] = {0.25, 1};
	cr_assert_eq(mg_metrics_new_flags(&reg, 0x80), MG_EINVAL, "unknown flags");
	cr_assert_eq(mg_metrics_new_flags(&reg, MG_METRICS_EMPTY_BRACES | MG_METRICS_HIDE_EMPTY),
		     0);
	cr_assert_eq(mg_metrics_gauge(&leader, reg, "leader", "1 while leading.", NULL, 0), 0);
	cr_assert_eq(mg_metrics_gauge(&never, reg, "never", "Never set.", NULL, 0), 0);
	cr_assert_eq(mg_metrics_gauge(&tmr, reg, "tmr_healthy", "Healthy.", l, 1), 0);
	cr_assert_eq(mg_metrics_histogram(&h, reg, "d_seconds", NULL, NULL, 0, bounds, 2), 0);
	cr_assert_eq(mg_metrics_counter(&c, reg, "c_total", NULL, NULL, 0), 0);
	char *text = render(reg);
	cr_assert_str_eq(text, "", "nothing has a series yet");
	free(text);
	const char *m[] = {"app/m\n"};
	cr_assert_eq(mg_metric_set(leader, NULL, 1), 0);
	cr_assert_eq(mg_metric_set(tmr, m, 1), 0);
	cr_assert_eq(mg_metric_observe(h, NULL, 0.3), 0);
	cr_assert_eq(mg_metric_inc(c, NULL, 1), 0);
	text = render(reg);
	cr_assert_str_eq(text, "# HELP leader 1 while leading.\n"
			       "# TYPE leader gauge\n"
			       "leader{} 1\n"
			       "# HELP tmr_healthy Healthy.\n"
			       "# TYPE tmr_healthy gauge\n"
			       "tmr_healthy{tmr=\"app/m\\n\"} 1\n"
			       "# TYPE d_seconds histogram\n"
			       "d_seconds_bucket{le=\"0.25\"} 0\n"
			       "d_seconds_bucket{le=\"1\"} 1\n"
			       "d_seconds_bucket{le=\"+Inf\"} 1\n"
			       "d_seconds_sum{} 0.3\n"
			       "d_seconds_count{} 1\n"
			       "# TYPE c_total counter\n"
			       "c_total{} 1\n");
	free(text);
	cr_assert_eq(mg_metric_drop(tmr, "tmr", "app/m\n"), 1);
	text = render(reg);
	cr_assert_null(strstr(text, "tmr_healthy"), "a gauge whose series are gone leaves: %s",
		       text);
	cr_assert(strstr(text, "leader{} 1\n"), "%s", text);
	free(text);
	mg_metrics_free(reg);
}

Test(metrics, lookup_and_values_from_pairs)
{
	mg_metrics *reg = new_registry();
	mg_metric *c = NULL, *found = NULL, *u = NULL;
	const char *l[] = {"controller", "outcome"};
	cr_assert_eq(mg_metrics_lookup(&found, reg, "r_total"), MG_ENOTFOUND);
	cr_assert_eq(mg_metrics_counter(&c, reg, "r_total", "R.", l, 2), 0);
	cr_assert_eq(mg_metrics_counter(&u, reg, "u_total", "U.", NULL, 0), 0);
	cr_assert_eq(mg_metrics_lookup(&found, reg, "r_total"), 0);
	cr_assert_eq(found, c);
	cr_assert_eq(mg_metrics_lookup(&found, NULL, "r_total"), MG_EINVAL);
	const char *values[MG_METRICS_MAX_LABELS];
	const char *in_order[] = {"controller", "tmr", "outcome", "done", NULL};
	const char *swapped[] = {"outcome", "retry", "controller", "tsi", NULL};
	cr_assert_eq(mg_metric_values_from_pairs(values, c, in_order), 0);
	cr_assert_str_eq(values[0], "tmr");
	cr_assert_str_eq(values[1], "done");
	cr_assert_eq(mg_metric_values_from_pairs(values, c, swapped), 0, "any order");
	cr_assert_str_eq(values[0], "tsi");
	cr_assert_str_eq(values[1], "retry");
	const char *missing[] = {"controller", "tmr", NULL};
	const char *extra[] = {"controller", "tmr", "outcome", "done", "x", "y", NULL};
	const char *wrong[] = {"controller", "tmr", "result", "done", NULL};
	const char *dup[] = {"controller", "tmr", "controller", "tsi", NULL};
	const char *odd[] = {"controller", "tmr", "outcome", NULL};
	cr_assert_eq(mg_metric_values_from_pairs(values, c, missing), MG_EINVAL);
	cr_assert_eq(mg_metric_values_from_pairs(values, c, extra), MG_EINVAL);
	cr_assert_eq(mg_metric_values_from_pairs(values, c, wrong), MG_EINVAL);
	cr_assert_eq(mg_metric_values_from_pairs(values, c, dup), MG_EINVAL);
	cr_assert_eq(mg_metric_values_from_pairs(values, c, odd), MG_EINVAL);
	cr_assert_eq(mg_metric_values_from_pairs(values, c, NULL), MG_EINVAL);
	cr_assert_eq(mg_metric_values_from_pairs(values, u, NULL), 0, "no labels, no pairs");
	cr_assert_eq(mg_metric_values_from_pairs(values, u, in_order), MG_EINVAL);
	cr_assert_eq(mg_metric_values_from_pairs(values, NULL, NULL), MG_EINVAL);
	mg_metrics_free(reg);
}

Test(metrics, series_bound_is_per_registry)
{
	mg_metrics *reg = new_registry();
	mg_metric *small = NULL, *big = NULL;
	const char *l[] = {"k"};
	cr_assert_eq(mg_metrics_set_max_series(reg, 0), MG_EINVAL);
	cr_assert_eq(mg_metrics_set_max_series(NULL, 5), MG_EINVAL);
	cr_assert_eq(mg_metrics_set_max_series(reg, 2), 0);
	cr_assert_eq(mg_metrics_gauge(&small, reg, "small", "", l, 1), 0);
	cr_assert_eq(mg_metrics_set_max_series(reg, 3), 0);
	cr_assert_eq(mg_metrics_gauge(&big, reg, "big", "", l, 1), 0);
	const char *v[][1] = {{"a"}, {"b"}, {"c"}, {"d"}};
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(mg_metric_set(small, v[i], 1), 0);
		cr_assert_eq(mg_metric_set(big, v[i], 1), 0);
	}
	cr_assert_eq(mg_metric_set(small, v[2], 1), MG_ETOOBIG, "registered under the old bound");
	cr_assert_eq(mg_metric_set(big, v[2], 1), 0);
	cr_assert_eq(mg_metric_set(big, v[3], 1), MG_ETOOBIG);
	cr_assert_eq(mg_metric_set(small, v[0], 2), 0, "an existing series still updates");
	mg_metrics_free(reg);
}
