/* Leader election over an in-memory Lease store on a virtual clock: acquire, renew, the
 * takeover only after a whole lease duration of silence, the old leader stopping before
 * that (renew deadline < lease duration), conflicts, store failures and release. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "leader.h"
#include "mirrorgate/util/err.h"

typedef struct fake_store {
	bool exists;
	mg_lease_record rec;
	long rv;
	int fail_get;    /* this many gets fail with MG_EIO */
	int conflicts;   /* this many updates fail with MG_ECONFLICT */
	int writes;
} fake_store;

static int fs_get(void *ctx, mg_lease_record *out, char *rv, size_t len)
{
	fake_store *s = ctx;
	if (s->fail_get > 0) {
		s->fail_get--;
		return MG_EIO;
	}
	if (!s->exists)
		return MG_ENOTFOUND;
	*out = s->rec;
	snprintf(rv, len, "%ld", s->rv);
	return 0;
}

static int fs_create(void *ctx, const mg_lease_record *rec)
{
	fake_store *s = ctx;
	if (s->exists)
		return MG_EEXIST;
	s->exists = true;
	s->rec = *rec;
	s->rv++;
	s->writes++;
	return 0;
}

static int fs_update(void *ctx, const mg_lease_record *rec, const char *rv)
{
	fake_store *s = ctx;
	char cur[32];
	snprintf(cur, sizeof(cur), "%ld", s->rv);
	if (s->conflicts > 0) {
		s->conflicts--;
		return MG_ECONFLICT;
	}
	if (strcmp(cur, rv) != 0)
		return MG_ECONFLICT;
	s->rec = *rec;
	s->rv++;
	s->writes++;
	return 0;
}

static uint64_t vnow = 5000;
static uint64_t vclock(void *ctx)
{
	(void)ctx;
	return vnow;
}
static int64_t vwall(void *ctx)
{
	(void)ctx;
	return 1764064800000LL + (int64_t)vnow;
}

static int started[2], stopped[2];
static void on_start(void *ctx)
{
	started[*(int *)ctx]++;
}
static void on_stop(void *ctx)
{
	stopped[*(int *)ctx]++;
}
static int ids[2] = {0, 1};

static mg_leader *candidate(fake_store *s, int i)
{
	mg_lease_store st = {fs_get, fs_create, fs_update, s};
	mg_leader_opts o = {.identity = i == 0 ? "replica-a" : "replica-b",
			    .clock = {vclock, NULL}, .wall_ms = vwall,
			    .callbacks = {on_start, on_stop, &ids[i]}};
	mg_leader *l;
	cr_assert_eq(mg_leader_new(&l, &st, &o), 0);
	return l;
}

static void reset(void)
{
	vnow = 5000;
	memset(started, 0, sizeof(started));
	memset(stopped, 0, sizeof(stopped));
}

Test(reconcile_leader, first_candidate_creates_the_lease_and_leads)
{
	reset();
	fake_store s = {0};
	mg_leader *a = candidate(&s, 0);
	cr_expect_not(mg_leader_is_leader(a));
	cr_expect(mg_leader_tick(a));
	cr_expect(mg_leader_is_leader(a));
	cr_expect_eq(started[0], 1);
	cr_expect_str_eq(s.rec.holder, "replica-a");
	cr_expect_eq(s.rec.lease_duration_s, 15, "client-go's default");
	cr_expect_eq(s.rec.transitions, 0);
	cr_expect_str_eq(s.rec.renew_time, "2025-11-25T10:00:05.000000Z");
	/* renewals keep acquireTime and bump renewTime */
	vnow += 2000;
	cr_expect(mg_leader_tick(a));
	cr_expect_str_eq(s.rec.acquire_time, "2025-11-25T10:00:05.000000Z");
	cr_expect_str_eq(s.rec.renew_time, "2025-11-25T10:00:07.000000Z");
	cr_expect_eq(started[0], 1, "started once");
	mg_leader_free(a);
	cr_expect_str_eq(s.rec.holder, "", "released on the way out");
	cr_expect_eq(s.rec.lease_duration_s, 1);
	cr_expect_eq(stopped[0], 1);
}

Test(reconcile_leader, handover_only_after_the_holder_went_silent)
{
	reset();
	fake_store s = {0};
	mg_leader *a = candidate(&s, 0), *b = candidate(&s, 1);
	cr_assert(mg_leader_tick(a));
	/* while a renews every 2 s, b never gets it */
	for (int i = 0; i < 20; i++) {
		vnow += 2000;
		cr_assert(mg_leader_tick(a));
		cr_expect_not(mg_leader_tick(b));
	}
	cr_expect_eq(started[1], 0);
	/* a is cut off from the API server: its gets fail */
	uint64_t last_renew = vnow;
	s.fail_get = 1000;
	bool a_stopped_at_or_before = false;
	for (uint64_t t = 0; t <= 16000; t += 1000) {
		vnow = last_renew + t;
		mg_leader_tick(a);
		if (t >= 10000)
			cr_expect_not(mg_leader_is_leader(a), "a stops by the renew deadline");
		else
			cr_expect(mg_leader_is_leader(a), "a still leads at +%llu ms",
				  (unsigned long long)t);
		if (!mg_leader_is_leader(a))
			a_stopped_at_or_before = true;
	}
	cr_expect(a_stopped_at_or_before);
	cr_expect_eq(stopped[0], 1);
	/* b saw the record last change at last_renew (+0); it may take over only once a whole
	 * lease duration (15 s) has passed on its clock: after a has stopped (10 s). */
	s.fail_get = 0;
	vnow = last_renew + 14000;
	cr_expect_not(mg_leader_tick(b));
	vnow = last_renew + 15000;
	cr_expect(mg_leader_tick(b));
	cr_expect_str_eq(s.rec.holder, "replica-b");
	cr_expect_eq(s.rec.transitions, 1);
	cr_expect_eq(started[1], 1);
	/* a comes back: it sees b's fresh lease and stays a follower */
	cr_expect_not(mg_leader_tick(a));
	cr_expect_not(mg_leader_is_leader(a));
	char holder[64];
	mg_leader_observed_holder(a, holder, sizeof(holder));
	cr_expect_str_eq(holder, "replica-b");
	mg_leader_free(a);
	mg_leader_free(b);
}

Test(reconcile_leader, release_hands_over_at_once)
{
	reset();
	fake_store s = {0};
	mg_leader *a = candidate(&s, 0), *b = candidate(&s, 1);
	cr_assert(mg_leader_tick(a));
	vnow += 1000;
	cr_expect_not(mg_leader_tick(b));
	cr_assert_eq(mg_leader_release(a), 0);
	cr_expect_not(mg_leader_is_leader(a));
	vnow += 10;
	cr_expect(mg_leader_tick(b), "a released holder is free immediately");
	mg_leader_free(a);
	mg_leader_free(b);
}

Test(reconcile_leader, a_conflicting_write_is_not_leadership)
{
	reset();
	fake_store s = {0};
	mg_leader *a = candidate(&s, 0);
	cr_assert(mg_leader_tick(a));
	/* renewals that conflict: still leader until the renew deadline */
	s.conflicts = 100;
	vnow += 2000;
	cr_expect(mg_leader_tick(a), "still leading within the renew deadline");
	cr_expect(mg_leader_is_leader(a));
	vnow += 8000;
	mg_leader_tick(a);
	cr_expect_not(mg_leader_is_leader(a));
	cr_expect_eq(stopped[0], 1);
	/* two candidates racing to create: the loser is not leader */
	fake_store s2 = {0};
	mg_leader *b = candidate(&s2, 1);
	s2.exists = true;
	snprintf(s2.rec.holder, sizeof(s2.rec.holder), "someone-else");
	s2.rec.lease_duration_s = 15;
	cr_expect_not(mg_leader_tick(b));
	mg_leader_free(a);
	mg_leader_free(b);
}

Test(reconcile_leader, rejects_unsafe_timings)
{
	fake_store s = {0};
	mg_lease_store st = {fs_get, fs_create, fs_update, &s};
	mg_leader *l;
	mg_leader_opts o = {.identity = "x", .lease_duration_ms = 10000, .renew_deadline_ms = 10000};
	cr_expect_eq(mg_leader_new(&l, &st, &o), MG_EINVAL, "renew deadline must be shorter");
	o = (mg_leader_opts){.identity = "x", .renew_deadline_ms = 2000, .retry_period_ms = 2000};
	cr_expect_eq(mg_leader_new(&l, &st, &o), MG_EINVAL);
	o = (mg_leader_opts){.identity = ""};
	cr_expect_eq(mg_leader_new(&l, &st, &o), MG_EINVAL);
	o = (mg_leader_opts){.identity = "x"};
	cr_expect_eq(mg_leader_new(&l, NULL, &o), MG_EINVAL);
	mg_leader_free(NULL);
}

Test(reconcile_leader, loop_thread_acquires_and_stops, .timeout = 10)
{
	reset();
	fake_store s = {0};
	mg_lease_store st = {fs_get, fs_create, fs_update, &s};
	mg_leader_opts o = {.identity = "looper", .lease_duration_ms = 3000,
			    .renew_deadline_ms = 2000, .retry_period_ms = 50};
	mg_leader *l;
	cr_assert_eq(mg_leader_new(&l, &st, &o), 0);
	cr_assert_eq(mg_leader_start(l), 0);
	for (int i = 0; i < 200 && !mg_leader_is_leader(l); i++) {
		struct timespec ts = {0, 10000000};
		nanosleep(&ts, NULL);
	}
	cr_expect(mg_leader_is_leader(l));
	mg_leader_stop(l);
	cr_expect_not(mg_leader_is_leader(l));
	mg_leader_free(l);
}
