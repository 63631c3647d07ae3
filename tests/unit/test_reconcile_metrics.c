/* The reconciler's metrics adapter (reconciler/rmetrics.c) over the core registry: lazy
 * registration by name, label keys as pairs, drop, and the reconciler's text format. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirrorgate/util/err.h"
#include "rmetrics.h"

static char *render(mg_rmetrics *m)
{
	char *text = NULL;
	cr_assert_eq(mg_rmetrics_render(m, &text), 0);
	cr_assert_not_null(text);
	return text;
}

static const mg_rmetric_desc k_descs[] = {
	{"r_total", "counter", "Passes."},
	{"state", "gauge", "1 for the state."},
	{"d_seconds", "histogram", "Durations."},
};

static mg_rmetrics *described(void)
{
	mg_rmetrics *m = NULL;
	cr_assert_eq(mg_rmetrics_new(&m), 0);
	mg_rmetrics_describe(m, k_descs, sizeof(k_descs) / sizeof(k_descs[0]));
	return m;
}

Test(reconcile_metrics, described_metrics_render_exactly)
{
	mg_rmetrics *m = described();
	char *text = render(m);
	cr_assert_str_eq(text, "", "no series, no metric");
	free(text);
	const char *a[] = {"controller", "tmr", "outcome", "done", NULL};
	const char *b[] = {"outcome", "done", "controller", "tmr", NULL}; /* same series */
	mg_rmetrics_inc(m, "r_total", a, 1);
	mg_rmetrics_inc(m, "r_total", b, 2);
	mg_rmetrics_set(m, "leader", NULL, 1);
	const char *d[] = {"controller", "tmr", NULL};
	mg_rmetrics_observe(m, "d_seconds", d, 0.004);
	mg_rmetrics_observe(m, "d_seconds", d, 61);
	text = render(m);
	cr_assert_str_eq(text, "# HELP r_total Passes.\n"
			       "# TYPE r_total counter\n"
			       "r_total{controller=\"tmr\",outcome=\"done\"} 3\n"
			       "# TYPE leader gauge\n"
			       "leader{} 1\n"
			       "# HELP d_seconds Durations.\n"
			       "# TYPE d_seconds histogram\n"
			       "d_seconds_bucket{controller=\"tmr\",le=\"0.005\"} 1\n"
			       "d_seconds_bucket{controller=\"tmr\",le=\"0.01\"} 1\n"
			       "d_seconds_bucket{controller=\"tmr\",le=\"0.025\"} 1\n"
			       "d_seconds_bucket{controller=\"tmr\",le=\"0.05\"} 1\n"
			       "d_seconds_bucket{controller=\"tmr\",le=\"0.1\"} 1\n"
			       "d_seconds_bucket{controller=\"tmr\",le=\"0.25\"} 1\n"
			       "d_seconds_bucket{controller=\"tmr\",le=\"0.5\"} 1\n"
			       "d_seconds_bucket{controller=\"tmr\",le=\"1\"} 1\n"
			       "d_seconds_bucket{controller=\"tmr\",le=\"2.5\"} 1\n"
			       "d_seconds_bucket{controller=\"tmr\",le=\"5\"} 1\n"
			       "d_seconds_bucket{controller=\"tmr\",le=\"10\"} 1\n"
			       "d_seconds_bucket{controller=\"tmr\",le=\"30\"} 1\n"
			       "d_seconds_bucket{controller=\"tmr\",le=\"60\"} 1\n"
			       "d_seconds_bucket{controller=\"tmr\",le=\"+Inf\"} 2\n"
			       "d_seconds_sum{controller=\"tmr\"} 61.004\n"
			       "d_seconds_count{controller=\"tmr\"} 2\n");
	free(text);
	mg_rmetrics_free(m);
}

/* A deleted TMR's gauges go; a TMR whose key starts with the deleted one's stays; the
 * metric itself leaves the text once its last series is gone. */
Test(reconcile_metrics, drop_forgets_a_deleted_tmr)
{
	mg_rmetrics *m = described();
	const char *a[] = {"tmr", "app/m", "state", "established", NULL};
	const char *a2[] = {"tmr", "app/m", "state", "promoted", NULL};
	const char *b[] = {"tmr", "app/m2", "state", "established", NULL};
	mg_rmetrics_set(m, "state", a, 1);
	mg_rmetrics_set(m, "state", a2, 0);
	mg_rmetrics_set(m, "state", b, 1);
	mg_rmetrics_drop(m, "state", "tmr", "app/m");
	mg_rmetrics_drop(m, "never_used", "tmr", "app/m"); /* no-op */
	mg_rmetrics_drop(m, "state", "nolabel", "app/m");  /* no-op */
	char *text = render(m);
	cr_assert_str_eq(text, "# HELP state 1 for the state.\n"
			       "# TYPE state gauge\n"
			       "state{tmr=\"app/m2\",state=\"established\"} 1\n");
	free(text);
	mg_rmetrics_drop(m, "state", "tmr", "app/m2");
	text = render(m);
	cr_assert_str_eq(text, "");
	free(text);
	mg_rmetrics_set(m, "state", a, 1);
	text = render(m);
	cr_assert(strstr(text, "state{tmr=\"app/m\",state=\"established\"} 1\n"), "%s", text);
	free(text);
	mg_rmetrics_free(m);
}

/* Samples that do not fit the metric are dropped, never crash, never fail the caller. */
Test(reconcile_metrics, mismatched_samples_are_dropped)
{
	mg_rmetrics *m = described();
	const char *ok[] = {"controller", "tmr", NULL};
	const char *other_key[] = {"kind", "tmr", NULL};
	const char *odd[] = {"controller", NULL, NULL};
	const char *bad_key[] = {"0bad", "x", NULL};
	const char *nine[] = {"a", "1", "b", "1", "c", "1", "d", "1", "e", "1",
			      "f", "1", "g", "1", "h", "1", "i", "1", NULL};
	mg_rmetrics_inc(m, "r_total", ok, 1);
	mg_rmetrics_inc(m, "r_total", other_key, 1);
	mg_rmetrics_inc(m, "r_total", NULL, 1);
	mg_rmetrics_inc(m, "r_total", ok, -1); /* counters never go down */
	mg_rmetrics_set(m, "r_total", ok, 7);  /* not a gauge */
	mg_rmetrics_observe(m, "r_total", ok, 1);
	mg_rmetrics_inc(m, "x_total", odd, 1);
	mg_rmetrics_inc(m, "y_total", bad_key, 1);
	mg_rmetrics_inc(m, "z_total", nine, 1);
	mg_rmetrics_inc(m, "bad-name", NULL, 1);
	mg_rmetrics_inc(m, NULL, NULL, 1);
	char *text = render(m);
	cr_assert_str_eq(text, "# HELP r_total Passes.\n"
			       "# TYPE r_total counter\n"
			       "r_total{controller=\"tmr\"} 1\n");
	free(text);
	cr_assert_eq(mg_rmetrics_render(NULL, &text), MG_EINVAL);
	cr_assert_eq(mg_rmetrics_render(m, NULL), MG_EINVAL);
	mg_rmetrics_free(m);
	mg_rmetrics_set(NULL, "x", NULL, 1);
	mg_rmetrics_observe(NULL, "x", NULL, 1);
	mg_rmetrics_drop(NULL, "x", "k", "v");
}

static mg_rmetrics *g_m;

static void *first_use(void *arg)
{
	const char *l[] = {"worker", (const char *)arg, NULL};
	for (int i = 0; i < 2000; i++) {
		char name[16];
		snprintf(name, sizeof(name), "m%d_total", i % 20);
		mg_rmetrics_inc(g_m, name, l, 1);
	}
	return NULL;
}

/* Workers racing to be a metric's first user register it once and lose no sample. */
Test(reconcile_metrics, racing_first_use_loses_nothing)
{
	cr_assert_eq(mg_rmetrics_new(&g_m), 0);
	/* two workers per label value, so each series is also raced on */
	pthread_t th[4];
	int started = 0;
	while (started < 4 &&
	       pthread_create(&th[started], NULL, first_use, started % 2 ? "b" : "a") == 0)
		started++;
	int ran = started;
	while (started > 0)
		pthread_join(th[--started], NULL);
	cr_assert_eq(ran, 4, "all four workers ran");
	char *text = render(g_m);
	for (int i = 0; i < 20; i++) {
		char want[64];
		snprintf(want, sizeof(want), "# TYPE m%d_total counter\n", i);
		const char *at = strstr(text, want);
		cr_assert(at, "%s", want);
		cr_expect_eq(strstr(at + 1, want), NULL, "registered once");
		snprintf(want, sizeof(want), "m%d_total{worker=\"a\"} 200\n", i);
		cr_expect(strstr(text, want), "%s", want);
		snprintf(want, sizeof(want), "m%d_total{worker=\"b\"} 200\n", i);
		cr_expect(strstr(text, want), "%s", want);
	}
	free(text);
	mg_rmetrics_free(g_m);
}
