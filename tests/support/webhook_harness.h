/* Test harness for mirrorgate-webhook: makes certificates in a temporary directory,
 * starts the real binary on a free loopback port (optionally under valgrind), and sends
 * HTTPS requests with libcurl. */
#ifndef MG_TEST_WEBHOOK_HARNESS_H
#define MG_TEST_WEBHOOK_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <curl/curl.h>

#include "mirrorgate/util/tls.h"

typedef struct mg_wht {
	pid_t pid;
	int port;
	char dir[64];
	char ca_path[128];   /* CA that signed the current serving certificate */
	char cert_path[128];
	char key_path[128];
	char ready_path[128];
	char out_path[128];  /* the server's stdout */
	char err_path[128];  /* the server's stderr (JSON log lines) */
	mg_pem_pair ca;
	const char *bin_dir;    /* MG_BIN_DIR of the test */
	const char *source_dir; /* MG_SOURCE_DIR of the test */
	bool valgrind_log;      /* started under MG_WHT_VALGRIND=1: check the log at cleanup */
} mg_wht;

/* Creates the temporary directory and a CA + serving certificate for 127.0.0.1 in it.
 * Tests pass MG_BIN_DIR and MG_SOURCE_DIR (defined for test sources only). */
void mg_wht_init(mg_wht *w, const char *bin_dir, const char *source_dir);
/* Replaces the serving certificate files (atomically, as a Secret update does) with one
 * signed by a brand-new CA, which then becomes ca_path's content. `cn` names it. */
void mg_wht_rotate(mg_wht *w, const char *cn);
/* The same with a certificate that is already expired (notAfter = now). */
void mg_wht_rotate_expired(mg_wht *w, const char *cn);
/* Starts the binary with --address 127.0.0.1 --port 0 --ready-file and the certificate
 * flags, plus `extra` (NULL-terminated). With `valgrind` it runs under memcheck. Waits
 * (bounded) until the port is known. */
void mg_wht_start(mg_wht *w, const char *const *extra, bool valgrind);
/* Sends `sig` and waits up to timeout_ms; returns the exit status (-1 if it had to be
 * killed, 128+n if killed by signal n). */
int mg_wht_stop(mg_wht *w, int sig, int timeout_ms);
/* Removes the directory and frees memory. */
void mg_wht_cleanup(mg_wht *w);

typedef struct mg_wht_resp {
	long status;
	char *body;  /* NUL-terminated, owned */
	size_t len;
	CURLcode curl;
	long connects; /* new connections this request needed (keep-alive check) */
} mg_wht_resp;

/* A new easy handle that trusts w->ca_path and talks to 127.0.0.1:port. */
CURL *mg_wht_curl(mg_wht *w);
/* One request; `curl` may be reused for keep-alive (NULL: a one-off handle). */
void mg_wht_request(mg_wht *w, CURL *curl, const char *method, const char *path,
		    const char *ctype, const char *body, size_t len, mg_wht_resp *out);
void mg_wht_resp_free(mg_wht_resp *r);

/* Reads a file under <source_dir>/tests/data/webhook (caller frees). */
char *mg_wht_fixture(mg_wht *w, const char *name, size_t *len);
/* The value of an unlabelled or fully labelled series in the /metrics text, or -1. */
double mg_wht_metric(mg_wht *w, const char *series);

#endif
