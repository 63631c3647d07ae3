/* The work queue: deduplication, per-key serialisation, delays on an injected clock, capped
 * exponential backoff with jitter, and blocking workers that never see one key twice. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirrorgate/util/err.h"
#include "workqueue.h"

static uint64_t vnow;
static uint64_t vclock(void *ctx)
{
	(void)ctx;
	return vnow;
}
static double rnd_val;
static double fixed_rand(void *ctx)
{
	(void)ctx;
	return rnd_val;
}

static mg_workqueue *vqueue(void)
{
	vnow = 1000000;
	rnd_val = 0.999999;
	mg_workqueue_opts o = {.backoff_base_ms = 100, .backoff_cap_ms = 5000,
			       .rand01 = fixed_rand, .clock = {vclock, NULL}, .poll_ms = 5};
	mg_workqueue *q;
	cr_assert_eq(mg_workqueue_new(&q, &o), 0);
	return q;
}

static char *get_now(mg_workqueue *q)
{
	char *k = NULL;
	int rc = mg_workqueue_get(q, &k, 0);
	return rc == 0 ? k : NULL;
}

Test(reconcile_queue, deduplicates_queued_keys)
{
	mg_workqueue *q = vqueue();
	cr_assert_eq(mg_workqueue_add(q, "tmr/app/a"), 0);
	cr_assert_eq(mg_workqueue_add(q, "tmr/app/a"), 0);
	cr_assert_eq(mg_workqueue_add(q, "tmr/app/b"), 0);
	cr_expect_eq(mg_workqueue_len(q), 2);
	char *k = get_now(q);
	cr_assert_not_null(k);
	cr_expect_str_eq(k, "tmr/app/a", "FIFO order");
	mg_workqueue_done(q, k);
	k = get_now(q);
	cr_expect_str_eq(k, "tmr/app/b");
	mg_workqueue_done(q, k);
	cr_expect_null(get_now(q));
	mg_workqueue_free(q);
}

Test(reconcile_queue, a_key_in_process_is_not_handed_out_again)
{
	mg_workqueue *q = vqueue();
	mg_workqueue_add(q, "k");
	char *k = get_now(q);
	cr_assert_not_null(k);
	mg_workqueue_add(q, "k"); /* an event arrives while we reconcile */
	mg_workqueue_add(q, "k");
	cr_expect_eq(mg_workqueue_len(q), 0, "held back, not queued");
	cr_expect_null(get_now(q));
	mg_workqueue_done(q, k);
	cr_expect_eq(mg_workqueue_len(q), 1, "queued once after done");
	k = get_now(q);
	cr_expect_str_eq(k, "k");
	mg_workqueue_done(q, k);
	cr_expect_null(get_now(q));
	mg_workqueue_free(q);
}

Test(reconcile_queue, delays_follow_the_injected_clock)
{
	mg_workqueue *q = vqueue();
	mg_workqueue_add_after(q, "k", 1000);
	cr_expect_eq(mg_workqueue_delayed(q), 1);
	cr_expect_null(get_now(q));
	vnow += 999;
	cr_expect_null(get_now(q));
	vnow += 1;
	char *k = get_now(q);
	cr_assert_not_null(k);
	mg_workqueue_done(q, k);
	/* the earliest pending time wins */
	mg_workqueue_add_after(q, "k", 5000);
	mg_workqueue_add_after(q, "k", 200);
	mg_workqueue_add_after(q, "k", 9000);
	cr_expect_eq(mg_workqueue_delayed(q), 1);
	vnow += 200;
	k = get_now(q);
	cr_assert_not_null(k);
	mg_workqueue_done(q, k);
	vnow += 10000;
	cr_expect_null(get_now(q), "fired once");
	/* an immediate add supersedes a delay */
	mg_workqueue_add_after(q, "j", 5000);
	mg_workqueue_add(q, "j");
	cr_expect_eq(mg_workqueue_delayed(q), 0);
	k = get_now(q);
	cr_expect_str_eq(k, "j");
	mg_workqueue_done(q, k);
	mg_workqueue_free(q);
}

Test(reconcile_queue, backoff_is_capped_exponential_with_jitter)
{
	cr_expect_eq(mg_workqueue_backoff_ms(0, 100, 5000, 0.0), 50);
	cr_expect_eq(mg_workqueue_backoff_ms(0, 100, 5000, 0.999999), 99);
	cr_expect_eq(mg_workqueue_backoff_ms(3, 100, 5000, 0.0), 400);
	cr_expect_eq(mg_workqueue_backoff_ms(10, 100, 5000, 0.0), 2500, "capped at 5000");
	cr_expect_eq(mg_workqueue_backoff_ms(4000000000u, 100, 5000, 0.5), 3750, "no overflow");
	for (double r = 0; r < 1; r += 0.1) {
		uint64_t d = mg_workqueue_backoff_ms(2, 100, 5000, r);
		cr_expect(d >= 200 && d <= 400, "jitter stays in [d/2, d]: %llu",
			  (unsigned long long)d);
	}
	mg_workqueue *q = vqueue();
	uint64_t last = 0, d;
	for (int i = 0; i < 12; i++) {
		cr_assert_eq(mg_workqueue_add_rate_limited(q, "k", &d), 0);
		cr_expect(d >= last, "never shrinks: %llu after %llu", (unsigned long long)d,
			  (unsigned long long)last);
		cr_expect(d <= 5000);
		last = d;
	}
	cr_expect_geq(last, 4900, "reaches the cap");
	cr_expect_eq(mg_workqueue_failures(q, "k"), 12);
	mg_workqueue_forget(q, "k");
	cr_expect_eq(mg_workqueue_failures(q, "k"), 0);
	cr_assert_eq(mg_workqueue_add_rate_limited(q, "k", &d), 0);
	cr_expect_leq(d, 100, "forget starts over");
	mg_workqueue_free(q);
}

Test(reconcile_queue, shutdown_wakes_blocked_workers)
{
	mg_workqueue *q;
	cr_assert_eq(mg_workqueue_new(&q, NULL), 0);
	char *k;
	cr_expect_eq(mg_workqueue_get(q, &k, 20), MG_ETIMEOUT);
	mg_workqueue_shutdown(q);
	cr_expect_eq(mg_workqueue_get(q, &k, 5000), MG_EGONE);
	cr_expect_eq(mg_workqueue_add(q, "late"), 0, "adds after shutdown are dropped");
	cr_expect_eq(mg_workqueue_len(q), 0);
	mg_workqueue_free(q);
	mg_workqueue_free(NULL);
}

/* Two workers, many events per key: a key is never processed by two workers at once, and
 * every key added is processed at least once after its last add. */
#define NKEYS 8
static atomic_int busy[NKEYS];
static atomic_int overlaps;
static atomic_int processed[NKEYS];

static void *worker(void *arg)
{
	mg_workqueue *q = arg;
	for (;;) {
		char *k;
		int rc = mg_workqueue_get(q, &k, 2000);
		if (rc != 0)
			return NULL;
		int i = (int)strtol(k + 1, NULL, 10); /* "k<digit>" fixture keys */
		if (atomic_fetch_add(&busy[i], 1) != 0)
			atomic_fetch_add(&overlaps, 1);
		struct timespec ts = {0, 200000};
		nanosleep(&ts, NULL);
		atomic_fetch_sub(&busy[i], 1);
		atomic_fetch_add(&processed[i], 1);
		mg_workqueue_done(q, k);
	}
}

Test(reconcile_queue, workers_serialise_each_key, .timeout = 20)
{
	mg_workqueue *q;
	cr_assert_eq(mg_workqueue_new(&q, NULL), 0);
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, worker, q);
	for (int round = 0; round < 200; round++) {
		char key[8];
		snprintf(key, sizeof(key), "k%d", round % NKEYS);
		mg_workqueue_add(q, key);
		if (round % 16 == 0) {
			struct timespec ts = {0, 300000};
			nanosleep(&ts, NULL);
		}
	}
	/* let the queue drain */
	for (int i = 0; i < 400 && (mg_workqueue_len(q) > 0); i++) {
		struct timespec ts = {0, 5000000};
		nanosleep(&ts, NULL);
	}
	struct timespec ts = {0, 50000000};
	nanosleep(&ts, NULL);
	mg_workqueue_shutdown(q);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	cr_expect_eq(atomic_load(&overlaps), 0);
	for (int i = 0; i < NKEYS; i++) {
		cr_expect_geq(atomic_load(&processed[i]), 1);
		cr_expect_leq(atomic_load(&processed[i]), 25, "deduplicated: %d",
			      atomic_load(&processed[i]));
	}
	mg_workqueue_free(q);
}
