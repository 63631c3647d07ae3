/* The connection guard over socket pairs: the server end is registered, the test watches the
 * client end for the shutdown. Deadlines are short and waits bounded (behaviour, not timing:
 * a check only asks whether the shutdown came within a generous bound). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mirrorgate/util/connguard.h"
#include "mirrorgate/util/err.h"

typedef struct pair {
	int server, client;
} pair;

static pair new_pair(void)
{
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	return (pair){sv[0], sv[1]};
}

static struct sockaddr_in addr_of(const char *ip)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	cr_assert_eq(inet_pton(AF_INET, ip, &a.sin_addr), 1);
	return a;
}

/* Whether the peer of `fd` was shut down within ms. */
static bool shut_within(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	if (poll(&p, 1, ms) <= 0)
		return false;
	char b;
	return read(fd, &b, 1) == 0;
}

static void close_pair(pair *p)
{
	close(p->server);
	close(p->client);
}

static mg_connguard *guard(unsigned max, unsigned per_client, unsigned header_ms,
			   unsigned request_ms, unsigned idle_ms)
{
	mg_connguard_opts o = {.max_connections = max,
			       .max_per_client = per_client,
			       .header_timeout_ms = header_ms,
			       .request_timeout_ms = request_ms,
			       .idle_timeout_ms = idle_ms,
			       .tick_ms = 20};
	mg_connguard *g = NULL;
	cr_assert_eq(mg_connguard_new(&g, &o), 0);
	return g;
}

Test(connguard, bad_options_are_refused)
{
	mg_connguard_opts o = {0};
	mg_connguard *g = NULL;
	cr_assert_eq(mg_connguard_new(&g, &o), MG_EINVAL);
	cr_assert_eq(mg_connguard_new(&g, NULL), MG_EINVAL);
}

/* Headers not complete by the deadline: shut down, and counted as a header timeout. */
Test(connguard, the_first_request_must_come_within_the_header_timeout)
{
	mg_connguard *g = guard(10, 10, 200, 60000, 60000);
	struct sockaddr_in a = addr_of("10.0.0.1");
	pair p = new_pair();
	cr_assert(mg_connguard_admit(g, (struct sockaddr *)&a, sizeof(a)));
	int id = mg_connguard_add(g, p.server, (struct sockaddr *)&a);
	cr_assert_geq(id, 0);
	cr_assert(shut_within(p.client, 3000));
	mg_connguard_stats st;
	mg_connguard_get_stats(g, &st);
	cr_assert_eq(st.header_timeouts, 1);
	cr_assert_eq(st.open, 1, "open until the server removes it");
	mg_connguard_remove(g, id);
	mg_connguard_get_stats(g, &st);
	cr_assert_eq(st.open, 0);
	close_pair(&p);
	mg_connguard_free(g);
}

/* In a request the request timeout applies; once answered, the idle timeout. */
Test(connguard, request_and_idle_deadlines_follow_the_state)
{
	mg_connguard *g = guard(10, 10, 100, 400, 200);
	struct sockaddr_in a = addr_of("10.0.0.1");
	pair p = new_pair();
	int id = mg_connguard_add(g, p.server, (struct sockaddr *)&a);
	mg_connguard_request(g, id);
	cr_assert_not(shut_within(p.client, 200), "the header deadline no longer applies");
	cr_assert(shut_within(p.client, 3000), "the request deadline does");
	mg_connguard_stats st;
	mg_connguard_get_stats(g, &st);
	cr_assert_eq(st.request_timeouts, 1);
	mg_connguard_remove(g, id);
	close_pair(&p);

	p = new_pair();
	id = mg_connguard_add(g, p.server, (struct sockaddr *)&a);
	mg_connguard_request(g, id);
	mg_connguard_answered(g, id);
	cr_assert(shut_within(p.client, 3000), "idle past the idle timeout");
	mg_connguard_get_stats(g, &st);
	cr_assert_eq(st.idle_closed, 1);
	mg_connguard_remove(g, id);
	close_pair(&p);
	mg_connguard_free(g);
}

/* Past the per-client limit the client's own oldest waiting connection goes; a client whose
 * connections are all in requests is refused; other clients are untouched. */
Test(connguard, the_per_client_limit_evicts_the_clients_own_oldest)
{
	mg_connguard *g = guard(100, 2, 60000, 60000, 60000);
	struct sockaddr_in a = addr_of("10.0.0.1"), b = addr_of("10.0.0.2");
	pair other = new_pair(), p1 = new_pair(), p2 = new_pair();
	int io = mg_connguard_add(g, other.server, (struct sockaddr *)&b);
	int i1 = mg_connguard_add(g, p1.server, (struct sockaddr *)&a);
	usleep(20 * 1000);
	int i2 = mg_connguard_add(g, p2.server, (struct sockaddr *)&a);
	cr_assert(mg_connguard_admit(g, (struct sockaddr *)&a, sizeof(a)));
	cr_assert(shut_within(p1.client, 1000), "the oldest of 10.0.0.1 made room");
	cr_assert_not(shut_within(other.client, 100), "10.0.0.2 untouched");
	mg_connguard_remove(g, i1);
	pair p3 = new_pair();
	int i3 = mg_connguard_add(g, p3.server, (struct sockaddr *)&a);
	mg_connguard_request(g, i2);
	mg_connguard_request(g, i3);
	cr_assert_not(mg_connguard_admit(g, (struct sockaddr *)&a, sizeof(a)),
		      "both in requests: nothing to evict");
	cr_assert(mg_connguard_admit(g, (struct sockaddr *)&b, sizeof(b)));
	mg_connguard_stats st;
	mg_connguard_get_stats(g, &st);
	cr_assert_eq(st.evicted, 1);
	cr_assert_eq(st.refused, 1);
	mg_connguard_remove(g, io);
	mg_connguard_remove(g, i2);
	mg_connguard_remove(g, i3);
	close_pair(&other);
	close_pair(&p1);
	close_pair(&p2);
	close_pair(&p3);
	mg_connguard_free(g);
}

/* At the global limit the oldest waiting connection of any client makes room; at three
 * quarters of it, idle keep-alive connections are closed. */
Test(connguard, the_global_limit_and_pressure)
{
	mg_connguard *g = guard(4, 4, 60000, 60000, 60000);
	pair p[4];
	int id[4];
	char ip[16];
	for (int i = 0; i < 4; i++) {
		snprintf(ip, sizeof(ip), "10.0.1.%d", i + 1);
		struct sockaddr_in a = addr_of(ip);
		p[i] = new_pair();
		id[i] = mg_connguard_add(g, p[i].server, (struct sockaddr *)&a);
		mg_connguard_request(g, id[i]);
		usleep(5 * 1000);
	}
	struct sockaddr_in n = addr_of("10.0.2.1");
	cr_assert_not(mg_connguard_admit(g, (struct sockaddr *)&n, sizeof(n)),
		      "all four in requests");
	/* Two answered: idle, and the guard is above 3/4 of its limit: closed after 1 s idle. */
	mg_connguard_answered(g, id[0]);
	mg_connguard_answered(g, id[1]);
	cr_assert(shut_within(p[0].client, 3000));
	cr_assert(shut_within(p[1].client, 3000));
	cr_assert_not(shut_within(p[2].client, 100), "in a request: kept");
	for (int i = 0; i < 4; i++) {
		mg_connguard_remove(g, id[i]);
		close_pair(&p[i]);
	}
	mg_connguard_free(g);
}
