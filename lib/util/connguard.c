#include "mirrorgate/util/connguard.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mirrorgate/util/err.h"

#define SLACK MG_CONNGUARD_SLACK
/* Under pressure, an idle connection goes once idle this long (not at once, so that a
 * client that already sent its next request rarely loses the race). */
#define PRESSURE_IDLE_MS 1000

enum conn_state { C_FREE, C_FIRST, C_REQUEST, C_IDLE };

typedef struct slot {
	enum conn_state state;
	bool closing; /* shut down already: counted once, not chosen again */
	int fd;
	unsigned char ip[16];
	int64_t since_ms; /* when the current state began */
} slot;

struct mg_connguard {
	mg_connguard_opts o;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	bool stop;
	slot *slots;
	unsigned cap;
	mg_connguard_stats st;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The client's address as 16 bytes (IPv4 mapped into IPv6), so both families compare. */
static void ip_key(const struct sockaddr *sa, unsigned char out[16])
{
	memset(out, 0, 16);
	if (sa && sa->sa_family == AF_INET) {
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa && sa->sa_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	}
}

static void shut(mg_connguard *g, slot *s, unsigned long long *counter)
{
	(void)g;
	s->closing = true;
	(*counter)++;
	shutdown(s->fd, SHUT_RDWR);
}

static int64_t deadline_of(const mg_connguard *g, const slot *s)
{
	switch (s->state) {
	case C_FIRST: return s->since_ms + g->o.header_timeout_ms;
	case C_REQUEST: return s->since_ms + g->o.request_timeout_ms;
	case C_IDLE: return s->since_ms + g->o.idle_timeout_ms;
	case C_FREE: break;
	}
	return INT64_MAX;
}

static void sweep(mg_connguard *g, int64_t now)
{
	bool pressure = g->st.open * 4 >= g->o.max_connections * 3;
	for (unsigned i = 0; i < g->cap; i++) {
		slot *s = &g->slots[i];
		if (s->state == C_FREE || s->closing)
			continue;
		if (now >= deadline_of(g, s)) {
			shut(g, s, s->state == C_FIRST	 ? &g->st.header_timeouts
				   : s->state == C_REQUEST ? &g->st.request_timeouts
							   : &g->st.idle_closed);
		} else if (pressure && s->state == C_IDLE && now - s->since_ms >= PRESSURE_IDLE_MS) {
			shut(g, s, &g->st.idle_closed);
		}
	}
}

static void *run(void *arg)
{
	mg_connguard *g = arg;
	unsigned tick = g->o.tick_ms ? g->o.tick_ms : 100;
	pthread_mutex_lock(&g->mu);
	while (!g->stop) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += (long)tick * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&g->cv, &g->mu, &ts);
		if (!g->stop)
			sweep(g, now_ms());
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

int mg_connguard_new(mg_connguard **out, const mg_connguard_opts *opts)
{
	if (!opts || !opts->max_connections || !opts->max_per_client || !opts->header_timeout_ms ||
	    !opts->request_timeout_ms || !opts->idle_timeout_ms)
		return MG_EINVAL;
	mg_connguard *g = calloc(1, sizeof(*g));
	if (!g)
		return MG_ENOMEM;
	g->o = *opts;
	g->cap = opts->max_connections + SLACK;
	g->slots = calloc(g->cap, sizeof(slot));
	if (!g->slots) {
		free(g);
		return MG_ENOMEM;
	}
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
	if (pthread_create(&g->thread, NULL, run, g)) {
		pthread_cond_destroy(&g->cv);
		pthread_mutex_destroy(&g->mu);
		free(g->slots);
		free(g);
		return MG_ENOMEM;
	}
	*out = g;
	return 0;
}

void mg_connguard_free(mg_connguard *g)
{
	if (!g)
		return;
	pthread_mutex_lock(&g->mu);
	g->stop = true;
	pthread_cond_signal(&g->cv);
	pthread_mutex_unlock(&g->mu);
	pthread_join(g->thread, NULL);
	pthread_cond_destroy(&g->cv);
	pthread_mutex_destroy(&g->mu);
	free(g->slots);
	free(g);
}

/* The oldest connection not in a request (optionally only from ip), or NULL. */
static slot *oldest_evictable(mg_connguard *g, const unsigned char *ip)
{
	slot *best = NULL;
	for (unsigned i = 0; i < g->cap; i++) {
		slot *s = &g->slots[i];
		if (s->state == C_FREE || s->state == C_REQUEST || s->closing)
			continue;
		if (ip && memcmp(s->ip, ip, 16) != 0)
			continue;
		if (!best || s->since_ms < best->since_ms)
			best = s;
	}
	return best;
}

bool mg_connguard_admit(mg_connguard *g, const struct sockaddr *addr, socklen_t len)
{
	unsigned char ip[16];
	(void)len;
	ip_key(addr, ip);
	pthread_mutex_lock(&g->mu);
	unsigned same = 0, live = 0;
	for (unsigned i = 0; i < g->cap; i++) {
		const slot *s = &g->slots[i];
		if (s->state == C_FREE || s->closing)
			continue;
		live++;
		if (memcmp(s->ip, ip, 16) == 0)
			same++;
	}
	bool ok = true;
	if (same >= g->o.max_per_client) {
		/* Its own oldest waiting connection makes room; others are never touched. */
		slot *victim = oldest_evictable(g, ip);
		if (victim)
			shut(g, victim, &g->st.evicted);
		else
			ok = false;
	} else if (live >= g->o.max_connections) {
		slot *victim = oldest_evictable(g, NULL);
		if (victim)
			shut(g, victim, &g->st.evicted);
		else
			ok = false;
	}
	/* Connections being shut down still hold a slot until the server closes them. */
	if (ok && g->st.open >= g->cap)
		ok = false;
	if (!ok)
		g->st.refused++;
	pthread_mutex_unlock(&g->mu);
	return ok;
}

int mg_connguard_add(mg_connguard *g, int fd, const struct sockaddr *addr)
{
	int id = -1;
	pthread_mutex_lock(&g->mu);
	for (unsigned i = 0; i < g->cap; i++) {
		if (g->slots[i].state == C_FREE) {
			slot *s = &g->slots[i];
			s->state = C_FIRST;
			s->closing = false;
			s->fd = fd;
			ip_key(addr, s->ip);
			s->since_ms = now_ms();
			g->st.open++;
			id = (int)i;
			break;
		}
	}
	pthread_mutex_unlock(&g->mu);
	return id;
}

static void set_state(mg_connguard *g, int id, enum conn_state st)
{
	if (id < 0 || (unsigned)id >= g->cap)
		return;
	pthread_mutex_lock(&g->mu);
	slot *s = &g->slots[id];
	if (s->state != C_FREE) {
		s->state = st;
		s->since_ms = now_ms();
	}
	pthread_mutex_unlock(&g->mu);
}

void mg_connguard_request(mg_connguard *g, int id)
{
	set_state(g, id, C_REQUEST);
}

void mg_connguard_answered(mg_connguard *g, int id)
{
	set_state(g, id, C_IDLE);
}

void mg_connguard_remove(mg_connguard *g, int id)
{
	if (id < 0 || (unsigned)id >= g->cap)
		return;
	pthread_mutex_lock(&g->mu);
	if (g->slots[id].state != C_FREE) {
		g->slots[id].state = C_FREE;
		g->st.open--;
	}
	pthread_mutex_unlock(&g->mu);
}

void mg_connguard_get_stats(mg_connguard *g, mg_connguard_stats *out)
{
	pthread_mutex_lock(&g->mu);
	*out = g->st;
	pthread_mutex_unlock(&g->mu);
}
