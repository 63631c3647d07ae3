/* Connection admission and deadlines for an HTTP server, independent of the HTTP library.
 *
 * libmicrohttpd's own timeout is an idle timeout: a client that sends one header byte every
 * few seconds keeps a connection forever (slowloris), and its connection limit leaves excess
 * connections in the kernel backlog, where a legitimate client waits behind them. The guard
 * adds what it lacks:
 *   - a global limit and a per-client-IP limit, decided at accept time (a refused connection
 *     is closed at once, so the backlog keeps draining);
 *   - deadlines that activity does not extend: accept (TLS handshake included) to the first
 *     request's headers; a request's headers-complete to its answer (the body); the end of a
 *     request to the next one's headers (keep-alive idle);
 *   - under pressure (three quarters of the global limit), idle keep-alive connections are
 *     closed, and at the limit the oldest connection not in a request makes room for a new
 *     one instead of the new one being refused.
 * A connection past its deadline is shut down (shutdown(2), never close(2): the server still
 * owns the descriptor and closes it when it sees the end of the stream). */
#ifndef MIRRORGATE_UTIL_CONNGUARD_H
#define MIRRORGATE_UTIL_CONNGUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* Slots beyond max_connections for connections shut down but not yet closed by the server:
 * the HTTP library's own limit should be max_connections + MG_CONNGUARD_SLACK. */
#define MG_CONNGUARD_SLACK 64u

typedef struct mg_connguard_opts {
	unsigned max_connections;   /* >= 1 */
	unsigned max_per_client;    /* connections from one IP address; >= 1 */
	unsigned header_timeout_ms; /* accept to first request's headers (TLS handshake included) */
	unsigned request_timeout_ms; /* headers complete to answer sent (the body upload) */
	unsigned idle_timeout_ms;   /* end of a request to the next request's headers */
	unsigned tick_ms;           /* how often deadlines are checked; 0: 100 ms */
} mg_connguard_opts;

typedef struct mg_connguard_stats {
	unsigned open;
	unsigned long long refused;        /* at accept: the per-client or global limit */
	unsigned long long evicted;        /* made room for a new connection */
	unsigned long long header_timeouts; /* first request too slow (handshake or headers) */
	unsigned long long request_timeouts;
	unsigned long long idle_closed;    /* idle past the timeout, or under pressure */
} mg_connguard_stats;

typedef struct mg_connguard mg_connguard;

/* Starts the guard's deadline thread. */
int mg_connguard_new(mg_connguard **out, const mg_connguard_opts *opts);
void mg_connguard_free(mg_connguard *g);

/* Accept policy: may a connection from addr be taken? May shut down an older connection to
 * make room. */
bool mg_connguard_admit(mg_connguard *g, const struct sockaddr *addr, socklen_t len);
/* Registers an accepted connection; returns its id (>= 0), or -1 when the table is full
 * (the caller then closes it). */
int mg_connguard_add(mg_connguard *g, int fd, const struct sockaddr *addr);
/* A request's headers are complete; its answer is due within request_timeout_ms. */
void mg_connguard_request(mg_connguard *g, int id);
/* The request is answered; the connection waits for the next one (idle). */
void mg_connguard_answered(mg_connguard *g, int id);
/* The connection is gone (before its descriptor is closed). */
void mg_connguard_remove(mg_connguard *g, int id);

void mg_connguard_get_stats(mg_connguard *g, mg_connguard_stats *out);

#endif
