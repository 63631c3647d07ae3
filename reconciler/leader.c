#include "leader.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/util/log.h"

struct mg_leader {
	mg_lease_store store;
	mg_leader_opts opts;
	char identity[MG_LEASE_HOLDER_MAX];
	pthread_mutex_t mu;
	/* what we last saw in the lease, and when (our monotonic clock) it last changed */
	mg_lease_record observed;
	bool have_observed;
	uint64_t observed_at;
	bool leading;
	uint64_t last_renew; /* monotonic ms of our last successful write */
	/* the loop thread */
	pthread_t thread;
	bool running;
	bool stopping;
	pthread_cond_t cond;
};

static int64_t realtime_ms(void *ctx)
{
	(void)ctx;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void mg_micro_time(char *buf, size_t len, int64_t wall_ms)
{
	time_t secs = (time_t)(wall_ms / 1000);
	struct tm tm;
	char base[32];
	if (!gmtime_r(&secs, &tm) || strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		if (len)
			buf[0] = '\0';
		return;
	}
	snprintf(buf, len, "%s.%06ldZ", base, (long)(wall_ms % 1000) * 1000);
}

int mg_leader_new(mg_leader **out, const mg_lease_store *store, const mg_leader_opts *opts)
{
	if (!store || !store->get || !store->create || !store->update || !opts ||
	    !opts->identity || !*opts->identity ||
	    strlen(opts->identity) >= MG_LEASE_HOLDER_MAX)
		return MG_EINVAL;
	mg_leader *l = calloc(1, sizeof(*l));
	if (!l)
		return MG_ENOMEM;
	l->store = *store;
	l->opts = *opts;
	snprintf(l->identity, sizeof(l->identity), "%s", opts->identity);
	l->opts.identity = l->identity;
	if (!l->opts.lease_duration_ms)
		l->opts.lease_duration_ms = 15000;
	if (!l->opts.renew_deadline_ms)
		l->opts.renew_deadline_ms = 10000;
	if (!l->opts.retry_period_ms)
		l->opts.retry_period_ms = 2000;
	if (!l->opts.wall_ms)
		l->opts.wall_ms = realtime_ms;
	/* client-go refuses these too: a leader must give up before its lease can be taken */
	if (l->opts.renew_deadline_ms >= l->opts.lease_duration_ms ||
	    l->opts.retry_period_ms >= l->opts.renew_deadline_ms ||
	    l->opts.lease_duration_ms < 1000) {
		free(l);
		return MG_EINVAL;
	}
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	int rc = pthread_mutex_init(&l->mu, NULL);
	if (rc == 0 && pthread_cond_init(&l->cond, &ca) != 0) {
		pthread_mutex_destroy(&l->mu);
		rc = -1;
	}
	pthread_condattr_destroy(&ca);
	if (rc != 0) {
		free(l);
		return MG_ENOMEM;
	}
	*out = l;
	return 0;
}

static uint64_t now_ms(const mg_leader *l)
{
	return mg_clock_now(&l->opts.clock);
}

static bool same_record(const mg_lease_record *a, const mg_lease_record *b)
{
	return strcmp(a->holder, b->holder) == 0 && strcmp(a->renew_time, b->renew_time) == 0 &&
	       strcmp(a->acquire_time, b->acquire_time) == 0 &&
	       a->lease_duration_s == b->lease_duration_s && a->transitions == b->transitions;
}

/* Locked. client-go's tryAcquireOrRenew. */
static bool try_acquire_or_renew(mg_leader *l)
{
	char stamp[MG_LEASE_TIME_MAX];
	mg_micro_time(stamp, sizeof(stamp), l->opts.wall_ms(l->opts.wall_ctx));
	mg_lease_record want = {0};
	snprintf(want.holder, sizeof(want.holder), "%s", l->identity);
	want.lease_duration_s = (long)((l->opts.lease_duration_ms + 999) / 1000);
	snprintf(want.acquire_time, sizeof(want.acquire_time), "%s", stamp);
	snprintf(want.renew_time, sizeof(want.renew_time), "%s", stamp);

	mg_lease_record cur;
	char rv[64] = "";
	int rc = l->store.get(l->store.ctx, &cur, rv, sizeof(rv));
	uint64_t now = now_ms(l);
	if (rc == MG_ENOTFOUND) {
		if (l->store.create(l->store.ctx, &want) != 0)
			return false;
		l->observed = want;
		l->have_observed = true;
		l->observed_at = now;
		return true;
	}
	if (rc != 0)
		return false;
	if (!l->have_observed || !same_record(&cur, &l->observed)) {
		l->observed = cur;
		l->have_observed = true;
		l->observed_at = now;
	}
	bool ours = strcmp(cur.holder, l->identity) == 0;
	uint64_t dur = cur.lease_duration_s > 0 ? (uint64_t)cur.lease_duration_s * 1000 : 0;
	if (cur.holder[0] && !ours && l->observed_at + dur > now)
		return false; /* held, and its holder renewed within a lease duration */
	if (ours) {
		snprintf(want.acquire_time, sizeof(want.acquire_time), "%s", cur.acquire_time);
		want.transitions = cur.transitions;
	} else {
		want.transitions = cur.transitions + 1;
	}
	if (l->store.update(l->store.ctx, &want, rv) != 0)
		return false;
	l->observed = want;
	l->observed_at = now;
	return true;
}

bool mg_leader_tick(mg_leader *l)
{
	bool started = false, stopped = false, leading;
	pthread_mutex_lock(&l->mu);
	bool ok = try_acquire_or_renew(l);
	uint64_t now = now_ms(l);
	if (ok) {
		l->last_renew = now;
		if (!l->leading) {
			l->leading = true;
			started = true;
		}
	} else if (l->leading && now - l->last_renew >= l->opts.renew_deadline_ms) {
		l->leading = false;
		stopped = true;
	}
	leading = l->leading;
	pthread_mutex_unlock(&l->mu);
	if (started) {
		mg_info("leader election: started leading", "identity", l->identity, NULL);
		if (l->opts.callbacks.started_leading)
			l->opts.callbacks.started_leading(l->opts.callbacks.ctx);
	}
	if (stopped) {
		mg_warn("leader election: lost the lease (renew deadline passed)", "identity",
			l->identity, NULL);
		if (l->opts.callbacks.stopped_leading)
			l->opts.callbacks.stopped_leading(l->opts.callbacks.ctx);
	}
	return leading;
}

bool mg_leader_is_leader(mg_leader *l)
{
	pthread_mutex_lock(&l->mu);
	bool yes = l->leading && now_ms(l) - l->last_renew < l->opts.renew_deadline_ms;
	pthread_mutex_unlock(&l->mu);
	return yes;
}

uint64_t mg_leader_time_left_ms(mg_leader *l)
{
	pthread_mutex_lock(&l->mu);
	uint64_t since = now_ms(l) - l->last_renew, left = 0;
	if (l->leading && since < l->opts.renew_deadline_ms)
		left = l->opts.renew_deadline_ms - since;
	pthread_mutex_unlock(&l->mu);
	return left;
}

int mg_leader_release(mg_leader *l)
{
	pthread_mutex_lock(&l->mu);
	int rc = 0;
	bool was = l->leading;
	if (was) {
		mg_lease_record cur;
		char rv[64] = "";
		rc = l->store.get(l->store.ctx, &cur, rv, sizeof(rv));
		if (rc == 0 && strcmp(cur.holder, l->identity) == 0) {
			mg_lease_record rel = cur;
			rel.holder[0] = '\0';
			rel.lease_duration_s = 1;
			mg_micro_time(rel.renew_time, sizeof(rel.renew_time),
				      l->opts.wall_ms(l->opts.wall_ctx));
			rc = l->store.update(l->store.ctx, &rel, rv);
		}
		l->leading = false;
	}
	pthread_mutex_unlock(&l->mu);
	if (was) {
		if (rc != 0)
			mg_warn("leader election: could not release the lease", "error",
				mg_strerror(rc), NULL);
		if (l->opts.callbacks.stopped_leading)
			l->opts.callbacks.stopped_leading(l->opts.callbacks.ctx);
	}
	return rc;
}

void mg_leader_observed_holder(mg_leader *l, char *buf, size_t len)
{
	pthread_mutex_lock(&l->mu);
	snprintf(buf, len, "%s", l->have_observed ? l->observed.holder : "");
	pthread_mutex_unlock(&l->mu);
}

static void *loop(void *arg)
{
	mg_leader *l = arg;
	for (;;) {
		mg_leader_tick(l);
		pthread_mutex_lock(&l->mu);
		if (!l->stopping) {
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			uint64_t wait = l->opts.retry_period_ms;
			ts.tv_sec += (time_t)(wait / 1000);
			ts.tv_nsec += (long)(wait % 1000) * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&l->cond, &l->mu, &ts);
		}
		bool stop = l->stopping;
		pthread_mutex_unlock(&l->mu);
		if (stop)
			break;
	}
	return NULL;
}

int mg_leader_start(mg_leader *l)
{
	pthread_mutex_lock(&l->mu);
	if (l->running) {
		pthread_mutex_unlock(&l->mu);
		return MG_EINVAL;
	}
	l->stopping = false;
	int rc = pthread_create(&l->thread, NULL, loop, l);
	if (rc == 0)
		l->running = true;
	pthread_mutex_unlock(&l->mu);
	return rc == 0 ? 0 : MG_ENOMEM;
}

void mg_leader_stop(mg_leader *l)
{
	pthread_mutex_lock(&l->mu);
	bool running = l->running;
	l->stopping = true;
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->mu);
	if (running) {
		pthread_join(l->thread, NULL);
		pthread_mutex_lock(&l->mu);
		l->running = false;
		pthread_mutex_unlock(&l->mu);
	}
	int rc = mg_leader_release(l);
	if (rc != 0)
		mg_debug("leader election: release on stop failed", "error", mg_strerror(rc), NULL);
}

void mg_leader_free(mg_leader *l)
{
	if (!l)
		return;
	mg_leader_stop(l);
	pthread_cond_destroy(&l->cond);
	pthread_mutex_destroy(&l->mu);
	free(l);
}
