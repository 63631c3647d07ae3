/* mirrorgate-hostile: the attacks of issue 14 against a live mirrorgate-webhook (the release
 * binary, --threads 2, default limits) and the reconciler's health server, each while a
 * legitimate client opens a new TLS connection every 100 ms and posts a review.
 *
 * For every attack it prints the legitimate client's success rate, the server's peak RSS
 * (VmHWM: the pod's memory limit applies to it) and the server's CPU during the attack, and
 * checks them: >= 95% served, peak RSS under the pod limit (64 MiB), and under 20% of a core
 * for stalled handshakes. Exit status 1 when a check fails.
 *
 * Loopback only: attackers connect from 127.0.0.2-127.0.0.17 (Linux routes all of 127/8 to
 * lo), the legitimate client from 127.0.0.1, as an API server and an attacker have different
 * addresses. Bounded: every attack stops after --duration seconds; connection counts are
 * fixed (--scale quick for ctest, full for bench/hostile/run.sh).
 *
 * Usage: mirrorgate-hostile --webhook BIN --state DIR --body FILE [--scale quick|full]
 *                           [--duration S] [--only NAME] */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "health.h"
#include "rmetrics.h"

#define POD_LIMIT_MB 64.0
#define MIN_SERVED 0.95
#define MAX_STALL_CPU 0.20
#define ATTACKER_IPS 16

typedef struct cfg {
	const char *webhook, *state, *body_path;
	bool full;
	int duration;
	const char *only;
	char work[64];
	char *body;
	size_t body_len;
} cfg;

typedef struct server {
	pid_t pid;
	int port;
	char ca[128];
} server;

typedef struct result {
	const char *name;
	int sent, served;
	double rss_mb, cpu;
	bool cpu_checked, rss_checked;
	char note[160];
} result;

static atomic_bool g_stop;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf) {
		buf[n] = '\0';
		*len = (size_t)n;
	}
	return buf;
}

/* ---- the server under attack ---------------------------------------------------------- */

static int start_webhook(const cfg *c, server *s)
{
	char port_file[128], err_file[128];
	snprintf(port_file, sizeof(port_file), "%s/port", c->work);
	snprintf(err_file, sizeof(err_file), "%s/webhook.log", c->work);
	snprintf(s->ca, sizeof(s->ca), "%s/ca.pem", c->work);
	unlink(port_file);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open(err_file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		/* The server's own descriptor limit, as in a pod (the attacker raised its own). */
		struct rlimit rl = {1024 * 16, 1024 * 16};
		setrlimit(RLIMIT_NOFILE, &rl);
		execl(c->webhook, c->webhook, "--self-signed", "--ca-out", s->ca, "--address",
		      "127.0.0.1", "--port", "0", "--ready-file", port_file, "--state-dir", c->state,
		      "--threads", "2", "--log-level", "error", (char *)NULL);
		_exit(127);
	}
	s->pid = pid;
	for (int i = 0; i < 100; i++) {
		size_t n = 0;
		char *p = read_all(port_file, &n);
		if (p && n) {
			long port = strtol(p, NULL, 10);
			s->port = port > 0 && port < 65536 ? (int)port : 0;
			free(p);
			if (s->port > 0)
				return 0;
		}
		free(p);
		sleep_ms(50);
	}
	return -1;
}

static void stop_webhook(server *s)
{
	if (s->pid <= 0)
		return;
	kill(s->pid, SIGKILL);
	waitpid(s->pid, NULL, 0);
	s->pid = 0;
}

static double cpu_seconds(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	unsigned long ut = 0, st = 0;
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut,
			 &st) != 2)
		return 0;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Peak resident set (VmHWM), MiB. */
static double peak_rss_mb(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	double kb = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %lf kB", &kb) == 1)
			break;
	fclose(f);
	return kb / 1024.0;
}

/* ---- sockets from an attacker address -------------------------------------------------- */

static int connect_from(int idx, int port, bool block)
{
	int fd = socket(AF_INET, SOCK_STREAM | (block ? 0 : SOCK_NONBLOCK), 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in src = {.sin_family = AF_INET};
	src.sin_addr.s_addr = htonl(0x7f000002u + (uint32_t)(idx % ATTACKER_IPS));
	struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&src, sizeof(src)) ||
	    (connect(fd, (struct sockaddr *)&dst, sizeof(dst)) && errno != EINPROGRESS)) {
		close(fd);
		return -1;
	}
	if (block) {
		struct timeval tv = {2, 0};
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	return fd;
}

/* ---- the legitimate client ------------------------------------------------------------ */

typedef struct legit {
	const cfg *c;
	int port;
	const char *ca;
	const char *path; /* "/validate" (HTTPS) or "/healthz" (plain HTTP) */
	bool https;
	int sent, served;
} legit;

static size_t discard(char *p, size_t s, size_t n, void *u)
{
	(void)p, (void)u;
	return s * n;
}

static void *legit_run(void *arg)
{
	legit *l = arg;
	char url[128];
	snprintf(url, sizeof(url), "%s://127.0.0.1:%d%s", l->https ? "https" : "http", l->port,
		 l->path);
	struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
	while (!atomic_load(&g_stop)) {
		double t0 = now_s();
		CURL *h = curl_easy_init();
		curl_easy_setopt(h, CURLOPT_URL, url);
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, l->https ? 3000L : 1000L);
		curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
		curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
		if (l->https) {
			curl_easy_setopt(h, CURLOPT_CAINFO, l->ca);
			curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, l->c->body);
			curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)l->c->body_len);
		}
		long code = 0;
		CURLcode rc = curl_easy_perform(h);
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
		curl_easy_cleanup(h);
		l->sent++;
		if (rc == CURLE_OK && code == 200)
			l->served++;
		double left = 0.1 - (now_s() - t0);
		if (left > 0)
			sleep_ms((long)(left * 1000));
	}
	curl_slist_free_all(hdr);
	return NULL;
}

/* ---- attacks ---------------------------------------------------------------------------- */

typedef struct attack_ctx {
	const cfg *c;
	int port;
	const char *ca;
	int conns;
	int thread; /* which of the attack threads */
	long answered; /* responses the attack itself got (big bodies) */
} attack_ctx;

/* Bodies for every worker: the refused 3 MB "[0,0,...]", and the worst body within the
 * limits (as many values as allowed, in arrays within the array limit, strings long enough
 * to fill the 3 MiB). */
static char *g_zeros, *g_worst;
static size_t g_zeros_len, g_worst_len;

static void make_bodies(void)
{
	size_t n = 3u * 1024 * 1024;
	g_zeros = malloc(n + 1);
	g_zeros[0] = '[';
	for (size_t i = 1; i + 1 < n; i += 2) {
		g_zeros[i] = '0';
		g_zeros[i + 1] = ',';
	}
	g_zeros[n - 2] = '0';
	g_zeros[n - 1] = ']';
	g_zeros_len = n;
	/* 9 arrays x 10,000 strings of 24 bytes, in an otherwise ordinary review. */
	size_t cap = 4u * 1024 * 1024, len = 0;
	g_worst = malloc(cap);
	len += (size_t)snprintf(g_worst, cap,
				"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
				"\"request\":{\"uid\":\"w\",\"kind\":{\"group\":\"\",\"version\":\"v1\","
				"\"kind\":\"ConfigMap\"},\"resource\":{\"group\":\"\",\"version\":\"v1\","
				"\"resource\":\"configmaps\"},\"operation\":\"CREATE\",\"object\":{");
	for (int a = 0; a < 9; a++) {
		len += (size_t)snprintf(g_worst + len, cap - len, "%s\"a%d\":[", a ? "," : "", a);
		for (int i = 0; i < 10000; i++)
			len += (size_t)snprintf(g_worst + len, cap - len, "%s\"%024d\"", i ? "," : "",
						i);
		g_worst[len++] = ']';
	}
	len += (size_t)snprintf(g_worst + len, cap - len, "}}}");
	g_worst_len = len;
}

static void *attack_big_bodies(void *arg)
{
	attack_ctx *a = arg;
	char url[128];
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/validate", a->port);
	struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
	char iface[32];
	snprintf(iface, sizeof(iface), "127.0.0.%d", 2 + a->thread);
	CURL *h = curl_easy_init();
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(h, CURLOPT_INTERFACE, iface);
	curl_easy_setopt(h, CURLOPT_CAINFO, a->ca);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	for (long i = 0; !atomic_load(&g_stop); i++) {
		bool zeros = i % 2 == 0;
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, zeros ? g_zeros : g_worst);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)(zeros ? g_zeros_len : g_worst_len));
		if (curl_easy_perform(h) == CURLE_OK)
			a->answered++;
	}
	curl_easy_cleanup(h);
	curl_slist_free_all(hdr);
	return NULL;
}

typedef struct tls_conn {
	int fd;
	gnutls_session_t s;
} tls_conn;

static gnutls_certificate_credentials_t g_anon_creds;

static void tls_close(tls_conn *t)
{
	if (t->s)
		gnutls_deinit(t->s);
	if (t->fd >= 0)
		close(t->fd);
	t->s = NULL;
	t->fd = -1;
}

/* A TLS connection that sends a request line and one header, never the blank line. */
static bool tls_open_headers(tls_conn *t, int idx, int port)
{
	t->s = NULL;
	t->fd = connect_from(idx, port, true);
	if (t->fd < 0)
		return false;
	if (gnutls_init(&t->s, GNUTLS_CLIENT) || gnutls_set_default_priority(t->s) ||
	    gnutls_credentials_set(t->s, GNUTLS_CRD_CERTIFICATE, g_anon_creds)) {
		tls_close(t);
		return false;
	}
	gnutls_transport_set_int(t->s, t->fd);
	gnutls_handshake_set_timeout(t->s, 2000);
	int rc;
	do
		rc = gnutls_handshake(t->s);
	while (rc < 0 && !gnutls_error_is_fatal(rc));
	static const char line[] = "POST /validate HTTP/1.1\r\nHost: x\r\n";
	if (rc < 0 || gnutls_record_send(t->s, line, sizeof(line) - 1) < 0) {
		tls_close(t);
		return false;
	}
	return true;
}

static void *attack_header_slowloris(void *arg)
{
	attack_ctx *a = arg;
	tls_conn *t = calloc((size_t)a->conns, sizeof(*t));
	for (int i = 0; i < a->conns; i++)
		t[i].fd = -1;
	while (!atomic_load(&g_stop)) {
		/* (Re)open whatever is closed, then trickle one header byte on each. */
		for (int i = 0; i < a->conns && !atomic_load(&g_stop); i++) {
			if (t[i].fd < 0)
				tls_open_headers(&t[i], a->thread * a->conns + i, a->port);
			else if (gnutls_record_send(t[i].s, "X", 1) < 0)
				tls_close(&t[i]);
		}
		sleep_ms(1000);
	}
	for (int i = 0; i < a->conns; i++)
		tls_close(&t[i]);
	free(t);
	return NULL;
}

/* Plain TCP connections that send nothing; the backlog fills if the server keeps them. */
static void *attack_idle_tcp(void *arg)
{
	attack_ctx *a = arg;
	int *fds = malloc((size_t)a->conns * sizeof(int));
	int open_n = 0;
	for (int i = 0; i < a->conns && !atomic_load(&g_stop); i++) {
		int fd = connect_from(i, a->port, false);
		if (fd >= 0)
			fds[open_n++] = fd;
	}
	while (!atomic_load(&g_stop))
		sleep_ms(100);
	for (int i = 0; i < open_n; i++)
		close(fds[i]);
	free(fds);
	return NULL;
}

/* Part of a TLS ClientHello (a record header announcing 512 bytes, then six), then nothing. */
static void *attack_stalled_handshake(void *arg)
{
	attack_ctx *a = arg;
	static const unsigned char partial[] = {0x16, 3, 1, 2, 0, 1, 0, 1, 252, 3, 3};
	int *fds = malloc((size_t)a->conns * sizeof(int));
	for (int i = 0; i < a->conns; i++) {
		fds[i] = connect_from(i, a->port, true);
		if (fds[i] >= 0 && send(fds[i], partial, sizeof(partial), MSG_NOSIGNAL) < 0) {
			close(fds[i]);
			fds[i] = -1;
		}
	}
	while (!atomic_load(&g_stop)) {
		/* Reconnect the ones the server closed (after the handshake deadline). */
		for (int i = 0; i < a->conns; i++) {
			char b;
			if (fds[i] >= 0 && recv(fds[i], &b, 1, MSG_DONTWAIT) == 0) {
				close(fds[i]);
				fds[i] = connect_from(i, a->port, true);
				if (fds[i] >= 0)
					send(fds[i], partial, sizeof(partial), MSG_NOSIGNAL);
			}
		}
		sleep_ms(200);
	}
	for (int i = 0; i < a->conns; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	return NULL;
}

/* Plain HTTP slowloris on the reconciler's health server: a request line, then a header byte
 * per second, reopened when closed. */
static void *attack_health_slowloris(void *arg)
{
	attack_ctx *a = arg;
	int *fds = malloc((size_t)a->conns * sizeof(int));
	static const char line[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
	for (int i = 0; i < a->conns; i++)
		fds[i] = -1;
	while (!atomic_load(&g_stop)) {
		for (int i = 0; i < a->conns; i++) {
			if (fds[i] < 0) {
				fds[i] = connect_from(i, a->port, true);
				if (fds[i] >= 0 && send(fds[i], line, sizeof(line) - 1, MSG_NOSIGNAL) < 0) {
					close(fds[i]);
					fds[i] = -1;
				}
			} else if (send(fds[i], "X", 1, MSG_NOSIGNAL) < 0) {
				close(fds[i]);
				fds[i] = -1;
			}
		}
		sleep_ms(1000);
	}
	for (int i = 0; i < a->conns; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	return NULL;
}

/* ---- one attack at a time ---------------------------------------------------------------- */

typedef struct attack {
	const char *name;
	void *(*fn)(void *);
	int threads;
	int quick_conns, full_conns; /* per thread */
	bool stall_cpu;  /* the CPU criterion applies */
	bool health;     /* against the reconciler's health server */
	const char *what;
} attack;

static const attack g_attacks[] = {
	{"big_bodies", attack_big_bodies, 4, 1, 1, false, false,
	 "4 clients posting 3 MB [0,0,...] and the worst body within the limits, back to back"},
	{"header_slowloris", attack_header_slowloris, 2, 520, 520, false, false,
	 "TLS connections trickling header bytes, from 16 addresses"},
	{"idle_tcp", attack_idle_tcp, 1, 3000, 10000, false, false,
	 "TCP connections that never send a byte"},
	{"stalled_handshake", attack_stalled_handshake, 1, 20, 100, true, false,
	 "part of a TLS ClientHello, then nothing"},
	{"health_slowloris", attack_health_slowloris, 1, 80, 80, false, true,
	 "HTTP slowloris on the reconciler's health/metrics server"},
};

static bool always_ready(void *ctx)
{
	(void)ctx;
	return true;
}

static int run_attack(const cfg *c, const attack *at, result *r)
{
	server s = {0};
	mg_health *h = NULL;
	mg_rmetrics *rm = NULL;
	int port;
	memset(r, 0, sizeof(*r));
	r->name = at->name;
	if (at->health) {
		mg_health_opts ho = {.address = "127.0.0.1:0", .ready = always_ready};
		if (mg_rmetrics_new(&rm) || (ho.metrics = rm, mg_health_start(&h, &ho))) {
			snprintf(r->note, sizeof(r->note), "cannot start the health server");
			return -1;
		}
		port = mg_health_port(h);
	} else {
		if (start_webhook(c, &s)) {
			snprintf(r->note, sizeof(r->note), "cannot start %s", c->webhook);
			stop_webhook(&s);
			return -1;
		}
		port = s.port;
	}
	atomic_store(&g_stop, false);
	int conns = c->full ? at->full_conns : at->quick_conns;
	attack_ctx ac[8];
	pthread_t th[8];
	for (int i = 0; i < at->threads; i++) {
		ac[i] = (attack_ctx){.c = c, .port = port, .ca = s.ca, .conns = conns, .thread = i};
		pthread_create(&th[i], NULL, at->fn, &ac[i]);
	}
	sleep_ms(1000); /* let the attack take hold before measuring */
	double cpu0 = s.pid ? cpu_seconds(s.pid) : 0, t0 = now_s();
	legit l = {.c = c, .port = port, .ca = s.ca, .https = !at->health,
		   .path = at->health ? "/healthz" : "/validate"};
	pthread_t lt;
	pthread_create(&lt, NULL, legit_run, &l);
	sleep_ms((long)c->duration * 1000);
	double cpu1 = s.pid ? cpu_seconds(s.pid) : 0, t1 = now_s();
	atomic_store(&g_stop, true);
	pthread_join(lt, NULL);
	for (int i = 0; i < at->threads; i++)
		pthread_join(th[i], NULL);
	r->sent = l.sent;
	r->served = l.served;
	if (s.pid) {
		r->rss_mb = peak_rss_mb(s.pid);
		r->rss_checked = true;
		r->cpu = (cpu1 - cpu0) / (t1 - t0);
		r->cpu_checked = at->stall_cpu;
		int alive = waitpid(s.pid, NULL, WNOHANG) == 0;
		if (!alive)
			snprintf(r->note, sizeof(r->note), "the server died");
	}
	long answered = 0;
	for (int i = 0; i < at->threads; i++)
		answered += ac[i].answered;
	if (answered && !r->note[0])
		snprintf(r->note, sizeof(r->note), "attack requests answered: %ld", answered);
	stop_webhook(&s);
	mg_health_stop(h);
	mg_rmetrics_free(rm);
	return 0;
}

static bool passed(const result *r)
{
	if (r->sent == 0 || (double)r->served / r->sent < MIN_SERVED)
		return false;
	if (r->rss_checked && r->rss_mb >= POD_LIMIT_MB)
		return false;
	if (r->cpu_checked && r->cpu >= MAX_STALL_CPU)
		return false;
	return strcmp(r->note, "the server died") != 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: mirrorgate-hostile --webhook BIN --state DIR --body FILE "
			"[--scale quick|full] [--duration S] [--only NAME]\n");
	return 2;
}

int main(int argc, char **argv)
{
	cfg c = {.duration = 6};
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--webhook") == 0)
			c.webhook = argv[i + 1];
		else if (strcmp(argv[i], "--state") == 0)
			c.state = argv[i + 1];
		else if (strcmp(argv[i], "--body") == 0)
			c.body_path = argv[i + 1];
		else if (strcmp(argv[i], "--scale") == 0)
			c.full = strcmp(argv[i + 1], "full") == 0;
		else if (strcmp(argv[i], "--duration") == 0)
			c.duration = (int)strtol(argv[i + 1], NULL, 10); /* < 1 refused below */
		else if (strcmp(argv[i], "--only") == 0)
			c.only = argv[i + 1];
		else
			return usage();
	}
	if (!c.webhook || !c.state || !c.body_path || c.duration < 1)
		return usage();
	if (!(c.body = read_all(c.body_path, &c.body_len))) {
		fprintf(stderr, "hostile: cannot read %s\n", c.body_path);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	snprintf(c.work, sizeof(c.work), "%s/mg-hostile-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(c.work))
		return 2;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	gnutls_global_init();
	gnutls_certificate_allocate_credentials(&g_anon_creds);
	make_bodies();
	printf("%-18s %7s %7s %8s %10s %9s  %s\n", "attack", "legit", "served", "served%",
	       "peakRSS", "CPU", "verdict / notes");
	int failed = 0;
	for (size_t i = 0; i < sizeof(g_attacks) / sizeof(g_attacks[0]); i++) {
		const attack *at = &g_attacks[i];
		if (c.only && strcmp(c.only, at->name) != 0)
			continue;
		result r;
		if (run_attack(&c, at, &r)) {
			printf("%-18s could not run: %s\n", at->name, r.note);
			failed++;
			continue;
		}
		bool ok = passed(&r);
		failed += !ok;
		char rss[16] = "-", cpu[16] = "-";
		if (r.rss_checked)
			snprintf(rss, sizeof(rss), "%.1fMiB", r.rss_mb);
		if (r.rss_checked)
			snprintf(cpu, sizeof(cpu), "%.1f%%", r.cpu * 100);
		printf("%-18s %7d %7d %7.1f%% %10s %9s  %s%s%s\n", r.name, r.sent, r.served,
		       r.sent ? 100.0 * r.served / r.sent : 0.0, rss, cpu, ok ? "PASS" : "FAIL",
		       r.note[0] ? "; " : "", r.note);
		fflush(stdout);
	}
	printf("criteria: legit >= %.0f%% served, peak RSS < %.0f MiB (pod limit), stalled "
	       "handshakes < %.0f%% of a core\n",
	       MIN_SERVED * 100, POD_LIMIT_MB, MAX_STALL_CPU * 100);
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", c.work);
	if (system(cmd) != 0)
		fprintf(stderr, "hostile: could not remove %s\n", c.work);
	gnutls_certificate_free_credentials(g_anon_creds);
	gnutls_global_deinit();
	curl_global_cleanup();
	free(g_zeros);
	free(g_worst);
	free(c.body);
	return failed ? 1 : 0;
}
