/* Fenced leadership (issue 14): an ONTAP write leaves only while the lease is held with
 * enough time left to cover the request's whole timeout, and a write paused in flight does
 * not land late. The leader runs on a virtual clock over an in-memory lease; the writes go to
 * the real ontap-sim, whose request log shows what was sent. The pause is an in-process hook
 * where the write's connection opens (what a SIGSTOP of the leader with a PATCH in flight
 * looks like from inside). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fence.h"
#include "leader.h"
#include "mirror_ops.h"
#include "mirrorgate/ontap/snapmirror.h"
#include "mirrorgate/util/err.h"
#include "ontap_sim_proc.h"

typedef struct mem_store {
	bool exists;
	mg_lease_record rec;
	long rv;
} mem_store;

static int ms_get(void *ctx, mg_lease_record *out, char *rv, size_t len)
{
	mem_store *s = ctx;
	if (!s->exists)
		return MG_ENOTFOUND;
	*out = s->rec;
	snprintf(rv, len, "%ld", s->rv);
	return 0;
}

static int ms_create(void *ctx, const mg_lease_record *rec)
{
	mem_store *s = ctx;
	if (s->exists)
		return MG_EEXIST;
	s->exists = true;
	s->rec = *rec;
	s->rv++;
	return 0;
}

static int ms_update(void *ctx, const mg_lease_record *rec, const char *rv)
{
	mem_store *s = ctx;
	char cur[32];
	snprintf(cur, sizeof(cur), "%ld", s->rv);
	if (strcmp(cur, rv) != 0)
		return MG_ECONFLICT;
	s->rec = *rec;
	s->rv++;
	return 0;
}

static uint64_t g_vnow = 100000;
static uint64_t vclock(void *ctx)
{
	(void)ctx;
	return g_vnow;
}

static ontap_sim_proc g_sim;
static mem_store g_store;
static mg_leader *g_leader;
static mg_fence g_fence;

/* What the hook does when a write's connection opens. */
static enum { PAUSE_NONE, PAUSE_PAST_RENEW_DEADLINE, PAUSE_PAST_TIMEOUT } g_pause;

static void pause_hook(void *ctx)
{
	(void)ctx;
	if (g_pause == PAUSE_PAST_RENEW_DEADLINE) {
		g_vnow += 11000; /* stopped longer than the renew deadline: another may lead */
	} else if (g_pause == PAUSE_PAST_TIMEOUT) {
		struct timespec ts = {1, 500 * 1000 * 1000}; /* longer than the 1 s timeout */
		nanosleep(&ts, NULL);
	}
}

static void setup(void)
{
	ontap_sim_start(&g_sim, NULL, NULL);
	mg_lease_store st = {ms_get, ms_create, ms_update, &g_store};
	mg_leader_opts o = {.identity = "replica-a", .clock = {vclock, NULL}};
	cr_assert_eq(mg_leader_new(&g_leader, &st, &o), 0);
	cr_assert(mg_leader_tick(g_leader), "leads");
	mg_fence_set_leader(&g_fence, g_leader);
	g_pause = PAUSE_NONE;
}

static void teardown(void)
{
	mg_leader_free(g_leader);
	ontap_sim_stop(&g_sim);
}

TestSuite(reconciler_fence, .init = setup, .fini = teardown);

static mg_ontap_client *fenced_client(long timeout_ms)
{
	mg_ontap_config cfg;
	ontap_sim_client_config(&g_sim, 1, &cfg);
	cfg.timeout_ms = timeout_ms;
	cfg.may_write = mg_fence_may_write;
	cfg.may_write_ctx = &g_fence;
	cfg.write_pause_hook = pause_hook;
	mg_ontap_client *c = NULL;
	cr_assert_eq(mg_ontap_client_new(&c, &cfg), 0);
	return c;
}

static int patches(void)
{
	return ontap_sim_count_requests(&g_sim, NULL, "PATCH", "/snapmirror/relationships");
}

/* A PATCH on some relationship: the answer does not matter, whether it was sent does. */
static int write_once(mg_ontap_client *c, mg_ontap_error *err)
{
	mg_ontap_state_change ch = {.state = "broken_off"};
	return mg_ontap_relationship_set_state(c, "5f2c8f6e-0000-4000-8000-00000000dead", &ch,
					       err);
}

Test(reconciler_fence, the_timeout_is_capped_below_the_renew_deadline)
{
	cr_assert_eq(mg_fence_write_timeout_ms(30000, 10000, 2000), 7000);
	cr_assert_eq(mg_fence_write_timeout_ms(5000, 10000, 2000), 5000);
	cr_assert_eq(mg_fence_write_timeout_ms(30000, 2000, 250), 1550, "the tests' timings");
	cr_assert_eq(mg_fence_write_timeout_ms(30000, 2500, 2000), 1000, "never below 1 s");
	mg_fence none = {0};
	cr_assert(mg_fence_may_write(&none, 30000), "no election: writes always leave");
}

Test(reconciler_fence, a_write_leaves_only_with_enough_lease_left)
{
	long timeout = mg_fence_write_timeout_ms(30000, 10000, 2000);
	mg_ontap_client *c = fenced_client(timeout);
	mg_ontap_error err;
	int before = patches();
	write_once(c, &err); /* just renewed: 10 s left > 7 s */
	cr_assert_eq(patches(), before + 1, "sent");

	g_vnow += 4000; /* no renewal for 4 s: 6 s left, less than the 7 s timeout */
	cr_assert_eq(mg_leader_time_left_ms(g_leader), 6000);
	cr_assert_eq(write_once(c, &err), MG_ECONFLICT);
	cr_assert_eq(err.source, MG_ONTAP_SRC_CLIENT);
	cr_assert_not_null(strstr(err.message, "not sent"), "%s", err.message);
	cr_assert(mg_mirror_err_transient(&err), "retried, never reported as failed");
	cr_assert_eq(patches(), before + 1, "nothing left");

	cr_assert(mg_leader_tick(g_leader), "renewed");
	write_once(c, &err);
	cr_assert_eq(patches(), before + 2, "sent again once renewed");
	mg_ontap_client_free(c);
}

/* The leader stops (SIGSTOP) with the write past the first check; when it resumes, the lease
 * may be another's: the check as the connection opens refuses, nothing reaches ONTAP. */
Test(reconciler_fence, a_write_paused_past_the_renew_deadline_is_not_sent)
{
	mg_ontap_client *c = fenced_client(mg_fence_write_timeout_ms(30000, 10000, 2000));
	mg_ontap_error err;
	int before = patches();
	g_pause = PAUSE_PAST_RENEW_DEADLINE;
	cr_assert_eq(write_once(c, &err), MG_ECONFLICT);
	cr_assert_not_null(strstr(err.message, "leadership was lost"), "%s", err.message);
	cr_assert_not(mg_leader_is_leader(g_leader));
	cr_assert_eq(patches(), before, "the paused write never landed");
	mg_ontap_client_free(c);
}

/* Paused (in real time) longer than the request's whole timeout: libcurl aborts the request
 * when the process resumes instead of sending it late. */
Test(reconciler_fence, a_write_paused_past_its_timeout_is_aborted_unsent)
{
	mg_ontap_client *c = fenced_client(1000);
	mg_ontap_error err;
	int before = patches();
	g_pause = PAUSE_PAST_TIMEOUT;
	int rc = write_once(c, &err);
	cr_assert_neq(rc, 0, "the write did not complete");
	g_pause = PAUSE_NONE;
	/* Give the simulator a moment in case anything were still on its way. */
	struct timespec ts = {0, 300 * 1000 * 1000};
	nanosleep(&ts, NULL);
	cr_assert_eq(patches(), before, "the late write never landed (%s)", err.message);
	mg_ontap_client_free(c);
}
