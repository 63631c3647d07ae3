#include "server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "admission.h"
#include "certs.h"
#include "mirrorgate/util/connguard.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/util/log.h"

#define CT_JSON "application/json"
#define CT_METRICS "text/plain; version=0.0.4; charset=utf-8"

enum route { R_NONE, R_VALIDATE, R_MUTATE, R_HEALTHZ, R_READYZ, R_METRICS };

struct mg_wh_server {
	struct MHD_Daemon *daemon;
	mg_wh_server_opts opts;
	atomic_int in_flight;
	atomic_bool draining;
	MHD_socket quiesced_fd; /* closed after MHD_stop_daemon, as libmicrohttpd requires */
	int port;
	mg_connguard *guard;
	mg_connguard_stats published;
	/* Request bodies buffered now, against two budgets: large bodies cannot take the room
	 * of the small ones (every real review of mirrorgate's kinds is small). */
	atomic_size_t large_bytes, small_bytes;
	size_t large_budget; /* guard counters already added to the metrics */
};

/* Per HTTP request. */
typedef struct req_ctx {
	enum route route;
	struct timespec start; /* headers complete */
	mg_strbuf body;
	bool too_big;
	bool too_busy; /* the body budget had no room: 429 at the end */
	size_t reserved; /* bytes of the body budget this request holds */
	bool large;      /* ... from the large pool */
	bool answered; /* an early answer (error) was queued with the headers */
} req_ctx;

/* Per connection: how many requests got through (so the TLS handshake completed), and its
 * id in the connection guard (-1: untracked). */
typedef struct conn_ctx {
	unsigned requests;
	int guard_id;
} conn_ctx;

static conn_ctx *conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

/* Adds what the guard counted since the last scrape to the metrics. */
static void publish_guard(mg_wh_server *srv)
{
	mg_connguard_stats st;
	mg_connguard_get_stats(srv->guard, &st);
	const struct {
		const char *reason;
		unsigned long long now, before;
	} rows[] = {
		{"refused", st.refused, srv->published.refused},
		{"evicted", st.evicted, srv->published.evicted},
		{"header_timeout", st.header_timeouts, srv->published.header_timeouts},
		{"request_timeout", st.request_timeouts, srv->published.request_timeouts},
		{"idle", st.idle_closed, srv->published.idle_closed},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *l[] = {rows[i].reason};
		if (rows[i].now > rows[i].before)
			mg_metric_inc(srv->opts.metrics->conn_closed, l,
				      (double)(rows[i].now - rows[i].before));
		else
			mg_metric_inc(srv->opts.metrics->conn_closed, l, 0);
	}
	mg_metric_set(srv->opts.metrics->conn_open, NULL, st.open);
	srv->published = st;
}

static enum route find_route(const char *url)
{
	static const struct {
		const char *path;
		enum route route;
	} routes[] = {{"/validate", R_VALIDATE}, {"/mutate", R_MUTATE}, {"/healthz", R_HEALTHZ},
		      {"/readyz", R_READYZ},     {"/metrics", R_METRICS}};
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (strcmp(url, routes[i].path) == 0)
			return routes[i].route;
	}
	return R_NONE;
}

/* Queues `body` (taken over, also on failure) with a status and content type. */
static enum MHD_Result respond(mg_wh_server *srv, struct MHD_Connection *c, unsigned status,
			       const char *ctype, mg_strbuf *body, const char *allow)
{
	char *data = NULL;
	size_t len = body->len;
	if (body->failed || mg_strbuf_detach(body, &data)) {
		mg_strbuf_free(body);
		return MHD_NO; /* out of memory: close the connection */
	}
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, data,
								     MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(data);
		return MHD_NO;
	}
	enum MHD_Result ok = MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	if (ok && allow)
		ok = MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	/* While draining, tell clients to take their next request elsewhere. */
	if (ok && atomic_load(&srv->draining))
		ok = MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	if (ok)
		ok = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ok;
}

static enum MHD_Result http_error(mg_wh_server *srv, struct MHD_Connection *c, unsigned code,
				  const char *reason, const char *message, const char *allow)
{
	mg_strbuf body = MG_STRBUF_INIT;
	char code_s[8];
	snprintf(code_s, sizeof(code_s), "%u", code);
	const char *l[] = {code_s};
	mg_metric_inc(srv->opts.metrics->http_errors, l, 1);
	mg_debug("http error", "code", code_s, "reason", reason, NULL);
	mg_admission_encode_status(&body, (int)code, reason, message);
	return respond(srv, c, code, CT_JSON, &body, allow);
}

static enum MHD_Result simple_json(mg_wh_server *srv, struct MHD_Connection *c, unsigned code,
				   const char *json)
{
	mg_strbuf body = MG_STRBUF_INIT;
	mg_strbuf_puts(&body, json);
	return respond(srv, c, code, CT_JSON, &body, NULL);
}

/* "application/json", optionally with parameters ("; charset=utf-8"). */
static bool is_json(const char *ctype)
{
	size_t n = strlen(CT_JSON);
	if (!ctype || strncasecmp(ctype, CT_JSON, n) != 0)
		return false;
	return ctype[n] == '\0' || ctype[n] == ';' || ctype[n] == ' ';
}

/* Sizes an empty buffer for a body of known length: one allocation per request instead of
 * a series of doublings. */
static int reserve(mg_strbuf *sb, size_t n)
{
	char *p = realloc(sb->data, n + 1);
	if (!p)
		return MG_ENOMEM;
	p[0] = '\0';
	sb->data = p;
	sb->len = 0;
	sb->cap = n + 1;
	return 0;
}

/* Takes n more bytes of the server's body budget for this request; false when the budget
 * has no room (the request is then answered 429, the server goes on). */
static bool take_from(atomic_size_t *pool, size_t budget, size_t n)
{
	size_t cur = atomic_load(pool);
	do {
		if (n > budget || cur > budget - n)
			return false;
	} while (!atomic_compare_exchange_weak(pool, &cur, cur + n));
	return true;
}

static bool take_budget(mg_wh_server *srv, req_ctx *ctx, size_t n)
{
	size_t total = ctx->reserved + n;
	if (ctx->large || total > MG_WH_SMALL_BODY) {
		/* A body growing past the small size moves its bytes to the large pool. */
		if (!take_from(&srv->large_bytes, srv->large_budget, ctx->large ? n : total))
			return false;
		if (!ctx->large)
			atomic_fetch_sub(&srv->small_bytes, ctx->reserved);
		ctx->large = true;
	} else if (!take_from(&srv->small_bytes, MG_WH_SMALL_BUDGET, n)) {
		return false;
	}
	ctx->reserved = total;
	return true;
}

static void release_budget(mg_wh_server *srv, req_ctx *ctx)
{
	atomic_fetch_sub(ctx->large ? &srv->large_bytes : &srv->small_bytes, ctx->reserved);
	ctx->reserved = 0;
}

/* Decides what can be decided from the request line and headers alone. Returns MHD_YES
 * to go on reading the body; an error answer sets ctx->answered. */
static enum MHD_Result on_headers(mg_wh_server *srv, struct MHD_Connection *c, req_ctx *ctx,
				  const char *url, const char *method)
{
	ctx->route = find_route(url);
	bool post = ctx->route == R_VALIDATE || ctx->route == R_MUTATE;
	ctx->answered = true;
	if (ctx->route == R_NONE)
		return http_error(srv, c, MHD_HTTP_NOT_FOUND, "NotFound",
				  "no such path: use POST /validate or /mutate, GET /healthz, "
				  "/readyz or /metrics",
				  NULL);
	if (post && strcmp(method, "POST") != 0)
		return http_error(srv, c, MHD_HTTP_METHOD_NOT_ALLOWED, "MethodNotAllowed",
				  "this path only accepts POST", "POST");
	if (!post && strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return http_error(srv, c, MHD_HTTP_METHOD_NOT_ALLOWED, "MethodNotAllowed",
				  "this path only accepts GET", "GET, HEAD");
	if (post) {
		const char *ctype = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
								MHD_HTTP_HEADER_CONTENT_TYPE);
		if (!is_json(ctype))
			return http_error(srv, c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
					  "UnsupportedMediaType",
					  "Content-Type must be application/json", NULL);
		const char *clen = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							       MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (clen) {
			char *end = NULL;
			unsigned long long n = strtoull(clen, &end, 10);
			/* Far too big: refused before reading a byte; libmicrohttpd closes the
			 * connection afterwards since the body is left unread. */
			if (end == clen || *end || n > MG_WH_MAX_DISCARD)
				return http_error(srv, c, MHD_HTTP_CONTENT_TOO_LARGE,
						  "RequestEntityTooLarge",
						  "the request body is over 3 MiB", NULL);
			/* Somewhat too big: read and drop it, then answer 413, so that a client
			 * still sending does not get a reset instead of the answer. */
			if (n > MG_WH_MAX_BODY)
				ctx->too_big = true;
			else if (n && !take_budget(srv, ctx, (size_t)n))
				ctx->too_busy = true; /* read and dropped, then 429 */
			else if (n && reserve(&ctx->body, (size_t)n))
				return MHD_NO;
		}
	}
	ctx->answered = false;
	return MHD_YES;
}

/* Ready; but when the certificate files on disk were refused, say so: the previous
 * certificate still serves (so not-ready would only take a working replica out), and the
 * operator reading /readyz learns why the rotation did not happen. */
static enum MHD_Result ready(mg_wh_server *srv, struct MHD_Connection *c)
{
	const char *why = NULL;
	const char *reason = srv->opts.certs ? mg_certs_rejected(srv->opts.certs, &why) : NULL;
	if (!reason)
		return simple_json(srv, c, MHD_HTTP_OK, "{\"status\":\"ready\"}");
	mg_strbuf body = MG_STRBUF_INIT;
	mg_strbuf_puts(&body, "{\"status\":\"ready\",\"certificate\":\"rejected\",\"check\":");
	mg_strbuf_put_json_string(&body, reason);
	mg_strbuf_puts(&body, ",\"reason\":");
	mg_strbuf_put_json_string(&body, why ? why : "");
	mg_strbuf_puts(&body, ",\"serving\":\"the previous certificate\"}");
	return respond(srv, c, MHD_HTTP_OK, CT_JSON, &body, NULL);
}

static enum MHD_Result on_complete(mg_wh_server *srv, struct MHD_Connection *c, req_ctx *ctx)
{
	switch (ctx->route) {
	case R_VALIDATE:
	case R_MUTATE: {
		if (ctx->too_big)
			return http_error(srv, c, MHD_HTTP_CONTENT_TOO_LARGE, "RequestEntityTooLarge",
					  "the request body is over 3 MiB", NULL);
		if (ctx->too_busy)
			return http_error(srv, c, MHD_HTTP_TOO_MANY_REQUESTS, "TooManyRequests",
					  "too many large request bodies in progress; retry", NULL);
		mg_strbuf out = MG_STRBUF_INIT;
		int status = 500;
		int rc = mg_wh_handle(&out, &status,
				      ctx->route == R_MUTATE ? MG_WH_MUTATE : MG_WH_VALIDATE,
				      ctx->body.data, ctx->body.len, srv->opts.lookup,
				      srv->opts.metrics);
		if (rc) {
			mg_strbuf_free(&out);
			return http_error(srv, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "InternalError",
					  mg_strerror(rc), NULL);
		}
		return respond(srv, c, (unsigned)status, CT_JSON, &out, NULL);
	}
	case R_HEALTHZ:
		return simple_json(srv, c, MHD_HTTP_OK, "{\"status\":\"ok\"}");
	case R_READYZ:
		if (atomic_load(&srv->draining))
			return simple_json(srv, c, MHD_HTTP_SERVICE_UNAVAILABLE,
					   "{\"status\":\"not ready\",\"reason\":\"shutting down\"}");
		/* A rotation that never came: clients will refuse the handshake. */
		if (srv->opts.certs && mg_certs_not_after(srv->opts.certs) <= time(NULL))
			return simple_json(srv, c, MHD_HTTP_SERVICE_UNAVAILABLE,
					   "{\"status\":\"not ready\",\"reason\":\"the serving "
					   "certificate has expired\"}");
		if (!mg_lookup_synced(srv->opts.lookup))
			return simple_json(srv, c, MHD_HTTP_SERVICE_UNAVAILABLE,
					   "{\"status\":\"not ready\",\"reason\":\"lookup caches "
					   "not synced\"}");
		return ready(srv, c);
	case R_METRICS: {
		mg_strbuf out = MG_STRBUF_INIT;
		/* Kept in an atomic on the hot path; published here, where it is read. */
		mg_metric_set(srv->opts.metrics->in_flight, NULL, atomic_load(&srv->in_flight));
		publish_guard(srv); /* one scrape at a time: MHD answers it on one thread */
		if (mg_metrics_render(&out, srv->opts.metrics->reg)) {
			mg_strbuf_free(&out);
			return MHD_NO;
		}
		return respond(srv, c, MHD_HTTP_OK, CT_METRICS, &out, NULL);
	}
	case R_NONE:
		break;
	}
	return MHD_NO;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	mg_wh_server *srv = cls;
	req_ctx *ctx = *con_cls;
	(void)version;
	if (!ctx) {
		ctx = calloc(1, sizeof(*ctx));
		if (!ctx)
			return MHD_NO;
		*con_cls = ctx;
		clock_gettime(CLOCK_MONOTONIC, &ctx->start);
		atomic_fetch_add(&srv->in_flight, 1);
		conn_ctx *cc = conn_of(c);
		if (cc) {
			cc->requests++;
			/* Headers complete: the body and the answer are due within the timeout. */
			mg_connguard_request(srv->guard, cc->guard_id);
		}
		return on_headers(srv, c, ctx, url, method);
	}
	if (ctx->answered) {
		*upload_data_size = 0; /* discard what follows an early answer */
		return MHD_YES;
	}
	if (*upload_data_size) {
		/* The idle timeout does not stop a client that trickles a byte now and then:
		 * the whole body must arrive within the timeout too. */
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - ctx->start.tv_sec > (time_t)srv->opts.connection_timeout) {
			mg_debug("request body too slow: closing the connection", NULL);
			return MHD_NO;
		}
		if (!ctx->too_big && ctx->body.len + *upload_data_size > MG_WH_MAX_BODY) {
			/* Chunked bodies have no Content-Length: stop storing, answer 413 at
			 * the end. */
			ctx->too_big = true;
			mg_strbuf_free(&ctx->body);
		}
		/* Without a Content-Length the budget is taken as the body grows. */
		size_t have = ctx->body.len + *upload_data_size;
		if (!ctx->too_big && !ctx->too_busy && have > ctx->reserved &&
		    !take_budget(srv, ctx, have - ctx->reserved)) {
			ctx->too_busy = true;
			mg_strbuf_free(&ctx->body);
		}
		if (!ctx->too_big && !ctx->too_busy &&
		    mg_strbuf_append(&ctx->body, upload_data, *upload_data_size))
			return MHD_NO;
		*upload_data_size = 0;
		return MHD_YES;
	}
	ctx->answered = true;
	return on_complete(srv, c, ctx);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	mg_wh_server *srv = cls;
	req_ctx *ctx = *con_cls;
	(void)toe;
	conn_ctx *cc = conn_of(c);
	if (cc)
		mg_connguard_answered(srv->guard, cc->guard_id);
	if (!ctx)
		return;
	release_budget(srv, ctx);
	mg_strbuf_free(&ctx->body);
	free(ctx);
	*con_cls = NULL;
	atomic_fetch_sub(&srv->in_flight, 1);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	mg_wh_server *srv = cls;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *fd =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		const union MHD_ConnectionInfo *addr =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		int id = fd ? mg_connguard_add(srv->guard, fd->connect_fd,
					       addr ? addr->client_addr : NULL)
			    : -1;
		conn_ctx *cc = calloc(1, sizeof(conn_ctx));
		if (!cc || id < 0) {
			/* Untracked means unbounded: better no connection at all. */
			mg_connguard_remove(srv->guard, id);
			if (fd)
				shutdown(fd->connect_fd, SHUT_RDWR);
			free(cc);
			*socket_context = NULL;
			return;
		}
		cc->guard_id = id;
		*socket_context = cc;
		return;
	}
	conn_ctx *cc = *socket_context;
	if (cc)
		mg_connguard_remove(srv->guard, cc->guard_id);
	/* A connection that ends without a single request is counted as a failed handshake:
	 * plain HTTP, a client refusing our certificate, a port probe. The GnuTLS session
	 * cannot be asked instead: libmicrohttpd may already have freed it by now (valgrind
	 * showed it), and a client that completes a handshake and then sends nothing is rare
	 * enough (the API server connects to send a review). */
	if (cc && cc->requests == 0)
		mg_metric_inc(srv->opts.metrics->tls_errors, NULL, 1);
	free(cc);
	*socket_context = NULL;
}

static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t len)
{
	mg_wh_server *srv = cls;
	return mg_connguard_admit(srv->guard, addr, len) ? MHD_YES : MHD_NO;
}

/* libmicrohttpd's own messages (handshake failures, timeouts) are routine on a busy
 * server: debug level. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	if (!mg_log_enabled(MG_LOG_DEBUG))
		return;
	char buf[512];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	size_t n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	mg_debug("libmicrohttpd", "detail", buf, NULL);
}

int mg_wh_server_start(mg_wh_server **out, const mg_wh_server_opts *opts, const char **why)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	/* poll(), not epoll: libmicrohttpd 0.9.75 in epoll mode spins on a connection that sent
	 * part of a TLS record and stalls (epoll_wait(…, 0) then recv EAGAIN, forever: half a
	 * core per connection, measured). bench/hostile measures the stalled handshake. */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_TLS |
			 MHD_USE_ITC | MHD_USE_ERROR_LOG;
	memset(&ss, 0, sizeof(ss));
	*why = NULL;
	if (opts->port < 0 || opts->port > 65535 || !opts->metrics || !opts->threads) {
		*why = "invalid server options";
		return MG_EINVAL;
	}
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, opts->address, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)opts->port);
		sslen = sizeof(*v4);
	} else if (inet_pton(AF_INET6, opts->address, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)opts->port);
		sslen = sizeof(*v6);
		flags |= MHD_USE_IPv6;
	} else {
		*why = "--address is not an IPv4 or IPv6 address";
		return MG_EINVAL;
	}
	(void)sslen;
	mg_wh_server *srv = calloc(1, sizeof(*srv));
	if (!srv)
		return MG_ENOMEM;
	srv->opts = *opts;
	srv->quiesced_fd = MHD_INVALID_SOCKET;
	mg_connguard_opts go = {
		.max_connections = opts->max_connections,
		.max_per_client = opts->max_per_client ? opts->max_per_client : opts->max_connections,
		.header_timeout_ms = (opts->header_timeout ? opts->header_timeout : 10) * 1000u,
		.request_timeout_ms = opts->connection_timeout * 1000u,
		.idle_timeout_ms = opts->connection_timeout * 1000u,
	};
	int grc = mg_connguard_new(&srv->guard, &go);
	if (grc) {
		*why = "invalid connection limits";
		free(srv);
		return grc;
	}
	atomic_init(&srv->in_flight, 0);
	atomic_init(&srv->draining, false);
	atomic_init(&srv->large_bytes, 0);
	atomic_init(&srv->small_bytes, 0);
	/* A large body for every worker and one more being received: a bound on body memory
	 * that does not depend on the number of connections (docs/webhook.md "Cost per
	 * request"). */
	srv->large_budget = opts->body_budget ? opts->body_budget
					      : ((size_t)opts->threads + 1) * MG_WH_MAX_BODY;

	struct MHD_OptionItem items[16];
	size_t n = 0;
	items[n++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, &ss};
	items[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_CERT_CALLBACK, 0,
					     (void *)mg_certs_retrieve};
	items[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0,
					     (void *)MG_WH_TLS_PRIORITIES};
	/* The guard enforces max_connections; libmicrohttpd's limit leaves room for the
	 * connections it has shut down and libmicrohttpd has not closed yet. */
	items[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT,
					     (intptr_t)(opts->max_connections + MG_CONNGUARD_SLACK),
					     NULL};
	items[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT,
					     (intptr_t)opts->connection_timeout, NULL};
	/* libmicrohttpd zeroes a connection's pool for every request: keep it just large
	 * enough for the API server's headers (bodies go to our own buffer). */
	items[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT,
					     (intptr_t)MG_WH_CONNECTION_MEMORY, NULL};
	if (opts->threads > 1)
		items[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE,
						     (intptr_t)opts->threads, NULL};
	items[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};

	/* The logger goes first so that libmicrohttpd uses it for option errors too. */
	srv->daemon = MHD_start_daemon(
		flags, (uint16_t)opts->port, on_accept, srv, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER,
		on_mhd_log, NULL, MHD_OPTION_ARRAY, items, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
		srv, MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv, MHD_OPTION_END);
	if (!srv->daemon) {
		*why = "cannot listen (address in use, or not an address of this host)";
		mg_connguard_free(srv->guard);
		free(srv);
		return MG_EIO;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(srv->daemon,
							     MHD_DAEMON_INFO_BIND_PORT);
	srv->port = di ? di->port : opts->port;
	*out = srv;
	return 0;
}

int mg_wh_server_port(const mg_wh_server *srv)
{
	return srv->port;
}

int mg_wh_server_drain(mg_wh_server *srv, int timeout_s)
{
	atomic_store(&srv->draining, true);
	if (srv->quiesced_fd == MHD_INVALID_SOCKET) {
		srv->quiesced_fd = MHD_quiesce_daemon(srv->daemon);
		/* shutdown() makes new connects fail at once instead of waiting in the
		 * backlog; the descriptor stays open until MHD_stop_daemon, as required. */
		if (srv->quiesced_fd != MHD_INVALID_SOCKET)
			shutdown(srv->quiesced_fd, SHUT_RDWR);
	}
	struct timespec step = {0, 10 * 1000 * 1000};
	for (long waited_ms = 0; waited_ms < (long)timeout_s * 1000; waited_ms += 10) {
		if (atomic_load(&srv->in_flight) == 0)
			return 0;
		nanosleep(&step, NULL);
	}
	return atomic_load(&srv->in_flight);
}

void mg_wh_server_free(mg_wh_server *srv)
{
	if (!srv)
		return;
	MHD_stop_daemon(srv->daemon);
	if (srv->quiesced_fd != MHD_INVALID_SOCKET)
		close(srv->quiesced_fd);
	mg_connguard_free(srv->guard);
	free(srv);
}
