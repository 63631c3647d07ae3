/* The HTTPS server: libmicrohttpd with GnuTLS, a worker thread pool, routing to the
 * admission handler and the health, readiness and metrics endpoints, and a graceful drain
 * for SIGTERM. */
#ifndef MIRRORGATE_WEBHOOK_SERVER_H
#define MIRRORGATE_WEBHOOK_SERVER_H

#include <stdbool.h>

#include "certs.h"
#include "handler.h"
#include "mirrorgate/rules/lookup.h"

/* Bodies above this are refused with 413 (the API server's own limit is 3 MiB). */
#define MG_WH_MAX_BODY (3u * 1024u * 1024u)
/* A declared length up to this is read and dropped before the 413 (a clean answer for a
 * client that sends without waiting); beyond it the 413 comes at once. */
#define MG_WH_MAX_DISCARD (16u * 1024u * 1024u)

/* Bodies up to MG_WH_SMALL_BODY share their own budget of MG_WH_SMALL_BUDGET bytes, so that
 * large bodies (an attacker's) never leave the small ones (the API server's) without room. */
#define MG_WH_SMALL_BODY (64u * 1024u)
#define MG_WH_SMALL_BUDGET (4u * 1024u * 1024u)

/* Per-connection memory for request headers and I/O buffers; headers beyond it get 431. */
#define MG_WH_CONNECTION_MEMORY (8u * 1024u)

/* TLS 1.2 and 1.3 only; AEAD ciphers with forward-secret ECDHE key exchange. X25519 is the
 * first group: under %SERVER_PRECEDENCE a TLS 1.3 client whose key share is X25519 (Go's,
 * so the API server's, and OpenSSL's) would otherwise get a HelloRetryRequest asking for
 * P-256, an extra round trip and a second key exchange on every new connection. */
#define MG_WH_TLS_PRIORITIES                                                                   \
	"SECURE:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:"   \
	"+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:-GROUP-ALL:"       \
	"+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:%SERVER_PRECEDENCE"

typedef struct mg_wh_server_opts {
	const char *address;       /* IPv4 or IPv6 literal */
	int port;                  /* 0: any free port */
	unsigned threads;          /* >= 1 */
	unsigned max_connections;
	unsigned max_per_client;   /* connections from one IP address; 0: max_connections */
	unsigned connection_timeout; /* seconds: idle keep-alive, and a request's body */
	size_t body_budget;        /* bytes of large request bodies buffered at once; 0: (threads
				    * + 1) x MG_WH_MAX_BODY. Beyond it a request gets 429. */
	unsigned header_timeout;   /* seconds from accept to the first request's headers, TLS
				    * handshake included; 0: 10 */
	const mg_lookup *lookup;   /* borrowed, outlives the server */
	mg_certs *certs;           /* borrowed: readiness checks its expiry; may be NULL */
	mg_wh_metrics *metrics;    /* borrowed */
} mg_wh_server_opts;

typedef struct mg_wh_server mg_wh_server;

/* Starts serving; the certificate comes from mg_certs_retrieve() (see certs.h), so one
 * must be installed first. *why names the failure (bad address, port in use). */
int mg_wh_server_start(mg_wh_server **out, const mg_wh_server_opts *opts, const char **why);
/* The port actually bound (useful with port 0). */
int mg_wh_server_port(const mg_wh_server *srv);
/* Stops accepting connections, marks the server not ready, closes keep-alive connections
 * as their current request ends, and waits up to timeout_s seconds for requests in
 * progress. Returns the number still in progress when it gave up (0 when all finished). */
int mg_wh_server_drain(mg_wh_server *srv, int timeout_s);
/* Stops the server (closing whatever is left) and frees it. */
void mg_wh_server_free(mg_wh_server *srv);

#endif
