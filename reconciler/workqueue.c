#include "workqueue.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/util/log.h"

/* Linear lists: a reconciler watches thousands of objects at most, and every operation is
 * dwarfed by the API calls a reconcile makes. */
typedef struct strlist {
	char **items;
	size_t len, cap;
} strlist;

typedef struct delayed {
	char *key;
	uint64_t due;
} delayed;

typedef struct failure {
	char *key;
	unsigned count;
} failure;

struct mg_workqueue {
	pthread_mutex_t mu;
	pthread_cond_t cond;
	mg_workqueue_opts opts;
	unsigned rand_state;
	bool shut;
	strlist ready, processing, dirty;
	delayed *delays;
	size_t ndelays, delays_cap;
	failure *fails;
	size_t nfails, fails_cap;
};

static ssize_t sl_find(const strlist *l, const char *key)
{
	for (size_t i = 0; i < l->len; i++)
		if (strcmp(l->items[i], key) == 0)
			return (ssize_t)i;
	return -1;
}

static int grow(void **items, size_t *cap, size_t len, size_t size)
{
	if (len < *cap)
		return 0;
	size_t n = *cap ? *cap * 2 : 16;
	void *p = realloc(*items, n * size);
	if (!p)
		return MG_ENOMEM;
	*items = p;
	*cap = n;
	return 0;
}

static int sl_push(strlist *l, const char *key)
{
	if (grow((void **)&l->items, &l->cap, l->len, sizeof(char *)) != 0)
		return MG_ENOMEM;
	char *copy = strdup(key);
	if (!copy)
		return MG_ENOMEM;
	l->items[l->len++] = copy;
	return 0;
}

static void sl_remove_at(strlist *l, size_t i)
{
	free(l->items[i]);
	memmove(&l->items[i], &l->items[i + 1], (l->len - i - 1) * sizeof(char *));
	l->len--;
}

static void sl_free(strlist *l)
{
	for (size_t i = 0; i < l->len; i++)
		free(l->items[i]);
	free(l->items);
	memset(l, 0, sizeof(*l));
}

static double default_rand(void *ctx)
{
	return (double)rand_r((unsigned *)ctx) / ((double)RAND_MAX + 1.0);
}

int mg_workqueue_new(mg_workqueue **out, const mg_workqueue_opts *opts)
{
	mg_workqueue *q = calloc(1, sizeof(*q));
	if (!q)
		return MG_ENOMEM;
	if (opts)
		q->opts = *opts;
	if (!q->opts.backoff_base_ms)
		q->opts.backoff_base_ms = 500;
	if (!q->opts.backoff_cap_ms)
		q->opts.backoff_cap_ms = 300000;
	if (!q->opts.poll_ms)
		q->opts.poll_ms = 1000;
	q->rand_state = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)q;
	if (!q->opts.rand01) {
		q->opts.rand01 = default_rand;
		q->opts.rand_ctx = &q->rand_state;
	}
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (pthread_mutex_init(&q->mu, NULL) != 0) {
		pthread_condattr_destroy(&ca);
		free(q);
		return MG_ENOMEM;
	}
	if (pthread_cond_init(&q->cond, &ca) != 0) {
		pthread_condattr_destroy(&ca);
		pthread_mutex_destroy(&q->mu);
		free(q);
		return MG_ENOMEM;
	}
	pthread_condattr_destroy(&ca);
	*out = q;
	return 0;
}

void mg_workqueue_free(mg_workqueue *q)
{
	if (!q)
		return;
	mg_workqueue_shutdown(q);
	sl_free(&q->ready);
	sl_free(&q->processing);
	sl_free(&q->dirty);
	for (size_t i = 0; i < q->ndelays; i++)
		free(q->delays[i].key);
	free(q->delays);
	for (size_t i = 0; i < q->nfails; i++)
		free(q->fails[i].key);
	free(q->fails);
	pthread_cond_destroy(&q->cond);
	pthread_mutex_destroy(&q->mu);
	free(q);
}

static ssize_t delay_find(const mg_workqueue *q, const char *key)
{
	for (size_t i = 0; i < q->ndelays; i++)
		if (strcmp(q->delays[i].key, key) == 0)
			return (ssize_t)i;
	return -1;
}

static void delay_remove_at(mg_workqueue *q, size_t i)
{
	free(q->delays[i].key);
	q->delays[i] = q->delays[--q->ndelays];
}

/* Locked. Queues key now unless it is already queued or being processed. */
static int enqueue_locked(mg_workqueue *q, const char *key)
{
	if (sl_find(&q->processing, key) >= 0) {
		if (sl_find(&q->dirty, key) >= 0)
			return 0;
		return sl_push(&q->dirty, key);
	}
	if (sl_find(&q->ready, key) >= 0)
		return 0;
	int rc = sl_push(&q->ready, key);
	if (rc == 0)
		pthread_cond_signal(&q->cond);
	return rc;
}

int mg_workqueue_add(mg_workqueue *q, const char *key)
{
	if (!key)
		return MG_EINVAL;
	pthread_mutex_lock(&q->mu);
	int rc = 0;
	if (!q->shut) {
		ssize_t d = delay_find(q, key);
		if (d >= 0)
			delay_remove_at(q, (size_t)d); /* now is earlier than any delay */
		rc = enqueue_locked(q, key);
	}
	pthread_mutex_unlock(&q->mu);
	return rc;
}

static int add_after_locked(mg_workqueue *q, const char *key, uint64_t delay_ms)
{
	if (delay_ms == 0) {
		ssize_t d = delay_find(q, key);
		if (d >= 0)
			delay_remove_at(q, (size_t)d);
		return enqueue_locked(q, key);
	}
	uint64_t due = mg_clock_now(&q->opts.clock) + delay_ms;
	ssize_t d = delay_find(q, key);
	if (d >= 0) {
		if (due < q->delays[d].due)
			q->delays[d].due = due;
		pthread_cond_broadcast(&q->cond);
		return 0;
	}
	if (grow((void **)&q->delays, &q->delays_cap, q->ndelays, sizeof(delayed)) != 0)
		return MG_ENOMEM;
	char *copy = strdup(key);
	if (!copy)
		return MG_ENOMEM;
	q->delays[q->ndelays++] = (delayed){copy, due};
	/* a sleeping get() may need to wake earlier than it planned */
	pthread_cond_broadcast(&q->cond);
	return 0;
}

int mg_workqueue_add_after(mg_workqueue *q, const char *key, uint64_t delay_ms)
{
	if (!key)
		return MG_EINVAL;
	pthread_mutex_lock(&q->mu);
	int rc = q->shut ? 0 : add_after_locked(q, key, delay_ms);
	pthread_mutex_unlock(&q->mu);
	return rc;
}

uint64_t mg_workqueue_backoff_ms(unsigned n, uint64_t base_ms, uint64_t cap_ms, double rnd)
{
	uint64_t d = base_ms;
	for (unsigned i = 0; i < n && d < cap_ms; i++)
		d *= 2;
	if (d > cap_ms)
		d = cap_ms;
	if (rnd < 0)
		rnd = 0;
	if (rnd >= 1)
		rnd = 0.999999;
	/* Jitter in [d/2, d]: replicas and keys that failed together do not retry together. */
	uint64_t half = d / 2;
	return half + (uint64_t)((double)(d - half) * rnd);
}

static failure *fail_find(mg_workqueue *q, const char *key)
{
	for (size_t i = 0; i < q->nfails; i++)
		if (strcmp(q->fails[i].key, key) == 0)
			return &q->fails[i];
	return NULL;
}

int mg_workqueue_add_rate_limited(mg_workqueue *q, const char *key, uint64_t *delay_out)
{
	if (!key)
		return MG_EINVAL;
	int rc = 0;
	pthread_mutex_lock(&q->mu);
	if (q->shut)
		goto out;
	failure *f = fail_find(q, key);
	if (!f) {
		if (grow((void **)&q->fails, &q->fails_cap, q->nfails, sizeof(failure)) != 0) {
			rc = MG_ENOMEM;
			goto out;
		}
		char *copy = strdup(key);
		if (!copy) {
			rc = MG_ENOMEM;
			goto out;
		}
		f = &q->fails[q->nfails++];
		*f = (failure){copy, 0};
	}
	uint64_t delay = mg_workqueue_backoff_ms(f->count, q->opts.backoff_base_ms,
						 q->opts.backoff_cap_ms,
						 q->opts.rand01(q->opts.rand_ctx));
	if (f->count < 64)
		f->count++;
	if (delay_out)
		*delay_out = delay;
	rc = add_after_locked(q, key, delay ? delay : 1);
out:
	pthread_mutex_unlock(&q->mu);
	return rc;
}

void mg_workqueue_forget(mg_workqueue *q, const char *key)
{
	pthread_mutex_lock(&q->mu);
	for (size_t i = 0; i < q->nfails; i++) {
		if (strcmp(q->fails[i].key, key) == 0) {
			free(q->fails[i].key);
			q->fails[i] = q->fails[--q->nfails];
			break;
		}
	}
	pthread_mutex_unlock(&q->mu);
}

unsigned mg_workqueue_failures(mg_workqueue *q, const char *key)
{
	pthread_mutex_lock(&q->mu);
	failure *f = fail_find(q, key);
	unsigned n = f ? f->count : 0;
	pthread_mutex_unlock(&q->mu);
	return n;
}

/* Locked. Moves due delayed keys to the queue; returns ms until the next one (or
 * UINT64_MAX). */
static uint64_t promote_due_locked(mg_workqueue *q)
{
	uint64_t now = mg_clock_now(&q->opts.clock), next = UINT64_MAX;
	for (size_t i = 0; i < q->ndelays;) {
		if (q->delays[i].due <= now) {
			/* on ENOMEM the key stays delayed and is retried on the next look */
			if (enqueue_locked(q, q->delays[i].key) == 0) {
				delay_remove_at(q, i);
				continue;
			}
		} else if (q->delays[i].due - now < next) {
			next = q->delays[i].due - now;
		}
		i++;
	}
	return next;
}

int mg_workqueue_get(mg_workqueue *q, char **key, uint64_t timeout_ms)
{
	uint64_t start = mg_clock_monotonic_ms(NULL);
	int rc;
	pthread_mutex_lock(&q->mu);
	for (;;) {
		if (q->shut) {
			rc = MG_EGONE;
			break;
		}
		uint64_t next = promote_due_locked(q);
		if (q->ready.len > 0) {
			char *k = q->ready.items[0];
			/* the processing list takes over the ready list's copy */
			if (grow((void **)&q->processing.items, &q->processing.cap,
				 q->processing.len, sizeof(char *)) != 0) {
				rc = MG_ENOMEM;
				break;
			}
			char *copy = strdup(k);
			if (!copy) {
				rc = MG_ENOMEM;
				break;
			}
			memmove(&q->ready.items[0], &q->ready.items[1],
				(q->ready.len - 1) * sizeof(char *));
			q->ready.len--;
			q->processing.items[q->processing.len++] = k;
			*key = copy;
			rc = 0;
			break;
		}
		uint64_t elapsed = mg_clock_monotonic_ms(NULL) - start;
		if (elapsed >= timeout_ms) {
			rc = MG_ETIMEOUT;
			break;
		}
		uint64_t wait = timeout_ms - elapsed;
		if (next < wait)
			wait = next;
		if (q->opts.poll_ms < wait)
			wait = q->opts.poll_ms;
		if (wait == 0)
			wait = 1;
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += (time_t)(wait / 1000);
		ts.tv_nsec += (long)(wait % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		int w = pthread_cond_timedwait(&q->cond, &q->mu, &ts);
		if (w != 0 && w != ETIMEDOUT) {
			rc = MG_EIO;
			break;
		}
	}
	pthread_mutex_unlock(&q->mu);
	return rc;
}

void mg_workqueue_done(mg_workqueue *q, char *key)
{
	if (!key)
		return;
	pthread_mutex_lock(&q->mu);
	ssize_t i = sl_find(&q->processing, key);
	if (i >= 0)
		sl_remove_at(&q->processing, (size_t)i);
	ssize_t d = sl_find(&q->dirty, key);
	if (d >= 0) {
		sl_remove_at(&q->dirty, (size_t)d);
		if (!q->shut && enqueue_locked(q, key) != 0 && add_after_locked(q, key, 1000) != 0)
			/* Out of memory twice: the periodic resync will bring the key back. */
			mg_error("workqueue: dropped a key, out of memory", "key", key, NULL);
	}
	pthread_mutex_unlock(&q->mu);
	free(key);
}

size_t mg_workqueue_len(mg_workqueue *q)
{
	pthread_mutex_lock(&q->mu);
	size_t n = q->ready.len;
	pthread_mutex_unlock(&q->mu);
	return n;
}

size_t mg_workqueue_delayed(mg_workqueue *q)
{
	pthread_mutex_lock(&q->mu);
	size_t n = q->ndelays;
	pthread_mutex_unlock(&q->mu);
	return n;
}

void mg_workqueue_shutdown(mg_workqueue *q)
{
	pthread_mutex_lock(&q->mu);
	q->shut = true;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->mu);
}
