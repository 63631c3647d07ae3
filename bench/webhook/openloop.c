/* An open-loop HTTPS load generator: sends POSTs at a fixed rate whatever the server's
 * latency, over a pool of keep-alive connections, and reports latency percentiles measured
 * from each request's scheduled send time (so queueing is counted: no coordinated
 * omission). wrk2 does this but is not packaged in Debian.
 *
 *   mirrorgate-openloop --base https://127.0.0.1:8443 --cacert ca.crt --rate 1000 \
 *       --duration 10 --connections 8 /validate=tmr.json /mutate=pvc.json ...
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mirrorgate/err.h"
#include "mirrorgate/strbuf.h"
#include "mirrorgate/tls.h"

#define MAX_BODIES 32
#define MAX_CONNS 256

typedef struct body {
	char *url;
	char *data;
	size_t len;
} body;

typedef struct slot {
	CURL *curl;
	double scheduled; /* seconds since t0 */
	bool busy;
} slot;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t discard(char *p, size_t size, size_t n, void *u)
{
	(void)p, (void)u;
	return size * n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static long parse_long(const char *s, const char *flag, long min, long max)
{
	char *end = NULL;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		fprintf(stderr, "openloop: %s: expected %ld..%ld, got \"%s\"\n", flag, min, max, s);
		exit(2);
	}
	return v;
}

static void usage(void)
{
	fprintf(stderr, "usage: mirrorgate-openloop --base URL --cacert FILE [--rate N] "
			"[--duration S] [--connections N] PATH=BODYFILE...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *base = NULL, *cacert = NULL;
	long rate = 1000, duration = 10, nconns = 8;
	body bodies[MAX_BODIES];
	size_t nbodies = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--base") == 0 && i + 1 < argc)
			base = argv[++i];
		else if (strcmp(a, "--cacert") == 0 && i + 1 < argc)
			cacert = argv[++i];
		else if (strcmp(a, "--rate") == 0 && i + 1 < argc)
			rate = parse_long(argv[++i], a, 1, 1000000);
		else if (strcmp(a, "--duration") == 0 && i + 1 < argc)
			duration = parse_long(argv[++i], a, 1, 3600);
		else if (strcmp(a, "--connections") == 0 && i + 1 < argc)
			nconns = parse_long(argv[++i], a, 1, MAX_CONNS);
		else if (a[0] == '/' && strchr(a, '=') && nbodies < MAX_BODIES) {
			const char *eq = strchr(a, '=');
			body *b = &bodies[nbodies];
			char *path = strndup(a, (size_t)(eq - a));
			if (!path || mg_read_file(eq + 1, 8 << 20, &b->data, &b->len)) {
				fprintf(stderr, "openloop: cannot read %s\n", eq + 1);
				return 2;
			}
			b->url = path; /* joined with base below */
			nbodies++;
		} else {
			usage();
		}
	}
	if (!base || !nbodies)
		usage();
	for (size_t i = 0; i < nbodies; i++) {
		char *url = mg_asprintf("%s%s", base, bodies[i].url);
		free(bodies[i].url);
		bodies[i].url = url;
		if (!url)
			return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	CURLM *multi = curl_multi_init();
	struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
	headers = curl_slist_append(headers, "Expect:");
	slot slots[MAX_CONNS];
	for (long i = 0; i < nconns; i++) {
		CURL *c = curl_easy_init();
		slots[i] = (slot){c, 0, false};
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
		curl_easy_setopt(c, CURLOPT_PRIVATE, (void *)&slots[i]);
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
		curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		if (cacert)
			curl_easy_setopt(c, CURLOPT_CAINFO, cacert);
	}
	curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, nconns);

	/* Warm-up (not measured): open every connection once. */
	size_t total = (size_t)(rate * duration);
	size_t warm = (size_t)nconns;
	double *lat = calloc(total, sizeof(double));
	if (!lat)
		return 1;
	size_t started = 0, done = 0, errors = 0, next_body = 0;
	double t0 = 0;
	bool measuring = false;
	size_t warm_started = 0, warm_done = 0;
	for (;;) {
		double t = now_s();
		if (!measuring && warm_done == warm) {
			measuring = true;
			t0 = now_s();
			t = t0;
		}
		/* Start every request whose time has come, as long as a connection is free;
		 * the rest wait, and their waiting counts in their latency. */
		for (long i = 0; i < nconns; i++) {
			if (slots[i].busy)
				continue;
			double sched;
			if (!measuring) {
				if (warm_started == warm)
					break;
				warm_started++;
				sched = -1;
			} else {
				if (started == total)
					break;
				sched = (double)started / (double)rate;
				if (t0 + sched > t)
					break;
				started++;
			}
			body *b = &bodies[next_body++ % nbodies];
			curl_easy_setopt(slots[i].curl, CURLOPT_URL, b->url);
			curl_easy_setopt(slots[i].curl, CURLOPT_POSTFIELDS, b->data);
			curl_easy_setopt(slots[i].curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)b->len);
			slots[i].scheduled = sched;
			slots[i].busy = true;
			curl_multi_add_handle(multi, slots[i].curl);
		}
		int running = 0;
		curl_multi_perform(multi, &running);
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(multi, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			slot *s = NULL;
			long status = 0;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
			curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
			bool ok = msg->data.result == CURLE_OK && status == 200;
			curl_multi_remove_handle(multi, msg->easy_handle);
			s->busy = false;
			if (s->scheduled < 0) {
				warm_done++;
				if (!ok)
					errors++;
				continue;
			}
			lat[done++] = now_s() - (t0 + s->scheduled);
			if (!ok)
				errors++;
		}
		if (measuring && done == total)
			break;
		double next = measuring && started < total ? t0 + (double)started / rate : t + 0.001;
		int wait_ms = (int)((next - now_s()) * 1000.0);
		if (wait_ms > 0 || running)
			curl_multi_poll(multi, NULL, 0, wait_ms > 0 ? wait_ms : 0, NULL);
	}
	double elapsed = now_s() - t0;
	qsort(lat, done, sizeof(double), cmp_double);
#define PCT(p) (lat[(size_t)((double)(done - 1) * (p))] * 1e6)
	printf("openloop: rate=%ld/s duration=%lds connections=%ld sent=%zu errors=%zu "
	       "achieved=%.0f/s\n",
	       rate, duration, nconns, done, errors, (double)done / elapsed);
	printf("openloop: latency_us p50=%.0f p90=%.0f p99=%.0f p99.9=%.0f max=%.0f\n", PCT(0.50),
	       PCT(0.90), PCT(0.99), PCT(0.999), lat[done - 1] * 1e6);
	for (long i = 0; i < nconns; i++)
		curl_easy_cleanup(slots[i].curl);
	curl_multi_cleanup(multi);
	curl_slist_free_all(headers);
	for (size_t i = 0; i < nbodies; i++) {
		free(bodies[i].url);
		free(bodies[i].data);
	}
	free(lat);
	curl_global_cleanup();
	return errors ? 1 : 0;
}
