#include "health.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>

#include "mirrorgate/util/connguard.h"
#include "mirrorgate/util/err.h"

/* The kubelet probes with a 1 s timeout and Prometheus scrapes every few seconds: a request
 * takes milliseconds, so the deadlines can be short. 80 slow clients held every one of the
 * 64 connections before (0 of 90 probes answered, the pod restarted by its liveness probe). */
#define HEALTH_MAX_CONNECTIONS 64u
#define HEALTH_MAX_PER_CLIENT 16u
#define HEALTH_HEADER_TIMEOUT_MS 3000u
#define HEALTH_REQUEST_TIMEOUT_MS 3000u
#define HEALTH_IDLE_TIMEOUT_MS 10000u

struct mg_health {
	struct MHD_Daemon *d;
	mg_health_opts opts;
	int port;
	mg_connguard *guard;
};

/* The guard's id of a connection, kept as its socket context (id + 1, so NULL is "none"). */
static int guard_id(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci && ci->socket_context ? (int)(intptr_t)ci->socket_context - 1 : -1;
}

static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t len)
{
	mg_health *h = cls;
	return mg_connguard_admit(h->guard, addr, len) ? MHD_YES : MHD_NO;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	mg_health *h = cls;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *fd =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		const union MHD_ConnectionInfo *addr =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		int id = fd ? mg_connguard_add(h->guard, fd->connect_fd,
					       addr ? addr->client_addr : NULL)
			    : -1;
		if (id < 0 && fd)
			shutdown(fd->connect_fd, SHUT_RDWR); /* untracked would be unbounded */
		*socket_context = id < 0 ? NULL : (void *)(intptr_t)(id + 1);
		return;
	}
	if (*socket_context)
		mg_connguard_remove(h->guard, (int)(intptr_t)*socket_context - 1);
	*socket_context = NULL;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	mg_health *h = cls;
	(void)req_cls, (void)toe;
	mg_connguard_answered(h->guard, guard_id(c));
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type,
			     char *body, bool owned)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		strlen(body), body, owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!r) {
		if (owned)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	enum MHD_Result ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **req_cls)
{
	(void)version;
	(void)upload;
	mg_health *h = cls;
	if (!*req_cls) {
		*req_cls = h; /* first call: headers only */
		mg_connguard_request(h->guard, guard_id(conn));
		return MHD_YES;
	}
	if (*upload_size) {
		*upload_size = 0; /* bodies are ignored */
		return MHD_YES;
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return reply(conn, 405, "text/plain", "method not allowed\n", false);
	if (strcmp(url, "/healthz") == 0)
		return reply(conn, 200, "text/plain", "ok\n", false);
	if (strcmp(url, "/readyz") == 0) {
		bool ready = !h->opts.ready || h->opts.ready(h->opts.ready_ctx);
		return reply(conn, ready ? 200 : 503, "text/plain", ready ? "ok\n" : "not ready\n",
			     false);
	}
	if (strcmp(url, "/metrics") == 0 && h->opts.metrics) {
		char *text = NULL;
		if (mg_rmetrics_render(h->opts.metrics, &text) != 0)
			return reply(conn, 500, "text/plain", "out of memory\n", false);
		return reply(conn, 200, "text/plain; version=0.0.4", text, true);
	}
	return reply(conn, 404, "text/plain", "not found\n", false);
}

static int parse_address(const char *addr, struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	const char *colon = strrchr(addr, ':');
	const char *port_s = colon ? colon + 1 : addr;
	char host[64] = "";
	if (colon) {
		size_t n = (size_t)(colon - addr);
		if (n >= sizeof(host))
			return MG_EINVAL;
		memcpy(host, addr, n);
		host[n] = '\0';
	}
	char *end = NULL;
	errno = 0;
	long port = strtol(port_s, &end, 10);
	if (errno || end == port_s || *end || port < 0 || port > 65535)
		return MG_EINVAL;
	sa->sin_port = htons((uint16_t)port);
	if (!host[0] || strcmp(host, "0.0.0.0") == 0)
		sa->sin_addr.s_addr = htonl(INADDR_ANY);
	else if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return MG_EINVAL;
	return 0;
}

int mg_health_start(mg_health **out, const mg_health_opts *opts)
{
	struct sockaddr_in sa;
	if (!opts || !opts->address || parse_address(opts->address, &sa) != 0)
		return MG_EINVAL;
	mg_health *h = calloc(1, sizeof(*h));
	if (!h)
		return MG_ENOMEM;
	h->opts = *opts;
	mg_connguard_opts go = {
		.max_connections = HEALTH_MAX_CONNECTIONS,
		.max_per_client = HEALTH_MAX_PER_CLIENT,
		.header_timeout_ms = HEALTH_HEADER_TIMEOUT_MS,
		.request_timeout_ms = HEALTH_REQUEST_TIMEOUT_MS,
		.idle_timeout_ms = HEALTH_IDLE_TIMEOUT_MS,
	};
	int rc = mg_connguard_new(&h->guard, &go);
	if (rc) {
		free(h);
		return rc;
	}
	/* poll(), not select(): descriptors above FD_SETSIZE would be refused by select. No
	 * error log: a refused or timed-out client is routine here, and the guard counts it. */
	h->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, 0, on_accept, h,
				handle, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
				MHD_OPTION_CONNECTION_LIMIT,
				(unsigned)(HEALTH_MAX_CONNECTIONS + MG_CONNGUARD_SLACK),
				MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
				MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_END);
	if (!h->d) {
		mg_connguard_free(h->guard);
		free(h);
		return MG_EIO;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info ? info->port : ntohs(sa.sin_port);
	*out = h;
	return 0;
}

int mg_health_port(const mg_health *h)
{
	return h->port;
}

void mg_health_stop(mg_health *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d);
	mg_connguard_free(h->guard);
	free(h);
}
