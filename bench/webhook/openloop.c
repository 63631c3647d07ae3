/* An open-loop HTTPS load generator: sends POSTs at a fixed total rate whatever the server's
 * latency, over N keep-alive connections (one thread each; request k goes out on connection
 * k mod N at t0 + k/rate), and reports latency percentiles measured from each request's
 * scheduled send time, so queueing behind a slow answer is counted (no coordinated
 * omission). wrk2 does this but is not packaged in Debian.
 *
 *   mirrorgate-openloop --base https://127.0.0.1:8443 --cacert ca.crt --rate 1000 \
 *       --duration 10 --connections 8 /validate=tmr.json /mutate=pvc.json ...
 */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/util/strbuf.h"
#include "mirrorgate/util/tls.h"

#define MAX_BODIES 32
#define MAX_CONNS 256

typedef struct body {
	char *url;
	char *data;
	size_t len;
} body;

typedef struct run {
	const char *cacert;
	body *bodies;
	size_t nbodies;
	long rate;
	size_t total;    /* requests over the whole run */
	long nconns;
	struct timespec t0;
	double *lat;     /* per request, seconds; indexed by request number */
	bool *failed;
} run;

typedef struct worker {
	run *r;
	long index;
	pthread_t thread;
} worker;

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

static double since(const struct timespec *t0)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static void *drive(void *arg)
{
	worker *w = arg;
	run *r = w->r;
	CURL *c = curl_easy_init();
	struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
	headers = curl_slist_append(headers, "Expect:");
	if (!c || !headers)
		return NULL;
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
	if (r->cacert)
		curl_easy_setopt(c, CURLOPT_CAINFO, r->cacert);
	/* Warm-up (not measured): open the connection. */
	body *b0 = &r->bodies[0];
	curl_easy_setopt(c, CURLOPT_URL, b0->url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, b0->data);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)b0->len);
	curl_easy_perform(c);
	for (size_t k = (size_t)w->index; k < r->total; k += (size_t)r->nconns) {
		double sched = (double)k / (double)r->rate;
		struct timespec at = r->t0;
		at.tv_sec += (time_t)sched;
		at.tv_nsec += (long)((sched - (double)(time_t)sched) * 1e9);
		if (at.tv_nsec >= 1000000000L) {
			at.tv_sec++;
			at.tv_nsec -= 1000000000L;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) == EINTR)
			;
		body *b = &r->bodies[k % r->nbodies];
		curl_easy_setopt(c, CURLOPT_URL, b->url);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, b->data);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)b->len);
		CURLcode rc = curl_easy_perform(c);
		long status = 0;
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		r->lat[k] = since(&r->t0) - sched;
		r->failed[k] = rc != CURLE_OK || status != 200;
	}
	curl_slist_free_all(headers);
	curl_easy_cleanup(c);
	return NULL;
}

int main(int argc, char **argv)
{
	const char *base = NULL;
	run r = {.rate = 1000, .nconns = 8};
	long duration = 10;
	body bodies[MAX_BODIES];
	size_t nbodies = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--base") == 0 && i + 1 < argc)
			base = argv[++i];
		else if (strcmp(a, "--cacert") == 0 && i + 1 < argc)
			r.cacert = argv[++i];
		else if (strcmp(a, "--rate") == 0 && i + 1 < argc)
			r.rate = parse_long(argv[++i], a, 1, 1000000);
		else if (strcmp(a, "--duration") == 0 && i + 1 < argc)
			duration = parse_long(argv[++i], a, 1, 3600);
		else if (strcmp(a, "--connections") == 0 && i + 1 < argc)
			r.nconns = parse_long(argv[++i], a, 1, MAX_CONNS);
		else if (a[0] == '/' && strchr(a, '=') && nbodies < MAX_BODIES) {
			const char *eq = strchr(a, '=');
			body *b = &bodies[nbodies];
			b->url = mg_asprintf("%s%.*s", base ? base : "", (int)(eq - a), a);
			if (!base || !b->url || mg_read_file(eq + 1, 8 << 20, &b->data, &b->len)) {
				fprintf(stderr, "openloop: --base first; cannot read %s\n", eq + 1);
				return 2;
			}
			nbodies++;
		} else {
			usage();
		}
	}
	if (!base || !nbodies)
		usage();
	r.bodies = bodies;
	r.nbodies = nbodies;
	r.total = (size_t)(r.rate * duration);
	r.lat = calloc(r.total, sizeof(double));
	r.failed = calloc(r.total, sizeof(bool));
	worker *workers = calloc((size_t)r.nconns, sizeof(worker));
	if (!r.lat || !r.failed || !workers)
		return 1;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	/* Start a little in the future so that every connection is open by t0. */
	clock_gettime(CLOCK_MONOTONIC, &r.t0);
	r.t0.tv_sec += 1;
	for (long i = 0; i < r.nconns; i++) {
		workers[i] = (worker){&r, i, 0};
		if (pthread_create(&workers[i].thread, NULL, drive, &workers[i]))
			return 1;
	}
	for (long i = 0; i < r.nconns; i++)
		pthread_join(workers[i].thread, NULL);
	double elapsed = since(&r.t0);
	size_t errors = 0;
	for (size_t k = 0; k < r.total; k++)
		errors += r.failed[k];
	qsort(r.lat, r.total, sizeof(double), cmp_double);
#define PCT(p) (r.lat[(size_t)((double)(r.total - 1) * (p))] * 1e6)
	printf("openloop: rate=%ld/s duration=%lds connections=%ld sent=%zu errors=%zu "
	       "achieved=%.0f/s\n",
	       r.rate, duration, r.nconns, r.total, errors, (double)r.total / elapsed);
	printf("openloop: latency_us p50=%.0f p90=%.0f p99=%.0f p99.9=%.0f max=%.0f\n", PCT(0.50),
	       PCT(0.90), PCT(0.99), PCT(0.999), r.lat[r.total - 1] * 1e6);
	for (size_t i = 0; i < nbodies; i++) {
		free(bodies[i].url);
		free(bodies[i].data);
	}
	free(workers);
	free(r.lat);
	free(r.failed);
	curl_global_cleanup();
	return errors ? 1 : 0;
}
