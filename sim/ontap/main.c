/* ontap-sim: simulated ONTAP clusters over HTTPS for tests and demos.
 *
 *   ontap-sim [--config FILE] [--bind 127.0.0.1] [--ports-file FILE] [--ca-out FILE]
 *             [--client-ca FILE] [--realtime] [--idle-timeout SECONDS] [--log-level LEVEL]
 *
 * Prints one JSON line on stdout once listening: {"clusters":[{"name","url","port"}],
 * "ca_file"?, "ca_pem"}; --ports-file writes the same JSON to a file (atomically). */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "http.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/util/log.h"
#include "mirrorgate/util/strbuf.h"
#include "mirrorgate/util/tls.h"

typedef struct options {
	const char *config;
	const char *bind;
	const char *ports_file;
	const char *ca_out;
	const char *client_ca;
	bool realtime;
	unsigned idle_timeout_s;
} options;

static void usage(FILE *out)
{
	fprintf(out, "usage: ontap-sim [--config FILE] [--bind ADDR] [--ports-file FILE] "
		     "[--ca-out FILE] [--client-ca FILE] [--realtime] [--idle-timeout SECONDS] "
		     "[--log-level LEVEL]\n");
}

static int parse_args(options *o, int argc, char **argv)
{
	o->bind = "127.0.0.1";
	o->idle_timeout_s = 30;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--realtime") == 0) {
			o->realtime = true;
			continue;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			exit(0);
		}
		if (!v) {
			fprintf(stderr, "ontap-sim: %s needs a value\n", a);
			return MG_EINVAL;
		}
		i++;
		if (strcmp(a, "--config") == 0)
			o->config = v;
		else if (strcmp(a, "--bind") == 0)
			o->bind = v;
		else if (strcmp(a, "--ports-file") == 0)
			o->ports_file = v;
		else if (strcmp(a, "--ca-out") == 0)
			o->ca_out = v;
		else if (strcmp(a, "--client-ca") == 0)
			o->client_ca = v;
		else if (strcmp(a, "--idle-timeout") == 0) {
			char *end;
			long secs = strtol(v, &end, 10);
			if (end == v || *end || secs < 1 || secs > 3600) {
				fprintf(stderr, "ontap-sim: --idle-timeout takes 1 to 3600 seconds\n");
				return MG_EINVAL;
			}
			o->idle_timeout_s = (unsigned)secs;
		}
		else if (strcmp(a, "--log-level") == 0) {
			enum mg_log_level lvl;
			if (mg_log_parse_level(v, &lvl) != 0) {
				fprintf(stderr, "ontap-sim: unknown log level %s\n", v);
				return MG_EINVAL;
			}
			mg_log_set_level(lvl);
		} else {
			fprintf(stderr, "ontap-sim: unknown option %s\n", a);
			return MG_EINVAL;
		}
	}
	return 0;
}

typedef struct ticker {
	sim_fabric *f;
	volatile bool stop;
} ticker;

/* Real-time mode: virtual time follows the wall clock. */
static void *tick(void *arg)
{
	ticker *t = arg;
	struct timespec last, now, nap = {0, 50 * 1000000L};
	clock_gettime(CLOCK_MONOTONIC, &last);
	while (!t->stop) {
		nanosleep(&nap, NULL);
		clock_gettime(CLOCK_MONOTONIC, &now);
		int64_t ms = (now.tv_sec - last.tv_sec) * 1000 + (now.tv_nsec - last.tv_nsec) / 1000000;
		if (ms <= 0)
			continue;
		last = now;
		pthread_mutex_lock(&t->f->lock);
		sim_clock_advance(t->f, ms);
		pthread_mutex_unlock(&t->f->lock);
	}
	return NULL;
}

static char *announcement(sim_fabric *f, const char *bind, const char *ca_file, const char *ca_pem)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(o, "clusters");
	for (size_t i = 0; i < f->clusters.len; i++) {
		sim_cluster *c = f->clusters.items[i];
		cJSON *jc = cJSON_CreateObject();
		char url[128];
		snprintf(url, sizeof(url), "https://%s:%u", bind, c->port);
		cJSON_AddStringToObject(jc, "name", c->name);
		cJSON_AddStringToObject(jc, "url", url);
		cJSON_AddNumberToObject(jc, "port", c->port);
		cJSON_AddStringToObject(jc, "username", c->username);
		cJSON_AddItemToArray(arr, jc);
	}
	if (ca_file)
		cJSON_AddStringToObject(o, "ca_file", ca_file);
	cJSON_AddStringToObject(o, "ca_pem", ca_pem);
	char *text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

int main(int argc, char **argv)
{
	options opt = {0};
	sim_fabric f;
	mg_pem_pair ca = {0}, leaf = {0};
	char *client_ca = NULL, *text = NULL, *announce = NULL;
	size_t len = 0;
	int rc = 2;
	bool ticking = false;
	ticker tk = {&f, false};
	pthread_t tid;
	if (parse_args(&opt, argc, argv) != 0) {
		usage(stderr);
		return 2;
	}
	if (sim_fabric_init(&f) != 0)
		return 1;
	char msg[SIM_MSG] = "";
	if (opt.config) {
		int err = mg_read_file(opt.config, 4u << 20, &text, &len);
		if (err != 0) {
			fprintf(stderr, "ontap-sim: cannot read %s: %s\n", opt.config, mg_strerror(err));
			goto out;
		}
		if (sim_config_apply_text(&f, text, len, true, msg, sizeof(msg)) != 0) {
			fprintf(stderr, "ontap-sim: %s: %s\n", opt.config, msg);
			goto out;
		}
		if (f.clusters.len == 0) {
			fprintf(stderr, "ontap-sim: %s declares no cluster\n", opt.config);
			goto out;
		}
	} else if (sim_config_default(&f) != 0) {
		goto out;
	}
	if (opt.client_ca && mg_read_file(opt.client_ca, 1u << 20, &client_ca, &len) != 0) {
		fprintf(stderr, "ontap-sim: cannot read %s\n", opt.client_ca);
		goto out;
	}
	const char *sans[] = {"DNS:localhost", "IP:127.0.0.1"};
	char ip_san[80];
	snprintf(ip_san, sizeof(ip_san), "IP:%s", opt.bind);
	const char *sans3[] = {"DNS:localhost", "IP:127.0.0.1", ip_san};
	bool extra = strcmp(opt.bind, "127.0.0.1") != 0 && strcmp(opt.bind, "0.0.0.0") != 0;
	if (mg_tls_make_ca(&ca, "ontap-sim CA", 30) != 0 ||
	    mg_tls_make_leaf(&leaf, &ca, "ontap-sim", extra ? sans3 : sans, extra ? 3 : 2, 30, false) != 0) {
		fprintf(stderr, "ontap-sim: cannot generate certificates\n");
		goto out;
	}
	if (opt.ca_out &&
	    mg_write_file_atomic(opt.ca_out, ca.cert_pem, strlen(ca.cert_pem), 0644) != 0) {
		fprintf(stderr, "ontap-sim: cannot write %s\n", opt.ca_out);
		goto out;
	}
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	/* Block before threads start so that only sigwait sees them. */
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (sim_http_start(&f, opt.bind, leaf.cert_pem, leaf.key_pem, client_ca,
			   opt.idle_timeout_s) != 0) {
		fprintf(stderr, "ontap-sim: cannot start listeners on %s\n", opt.bind);
		goto out;
	}
	if (opt.realtime) {
		f.realtime = true;
		if (pthread_create(&tid, NULL, tick, &tk) != 0)
			goto out;
		ticking = true;
	}
	announce = announcement(&f, opt.bind, opt.ca_out, ca.cert_pem);
	if (!announce)
		goto out;
	if (opt.ports_file &&
	    mg_write_file_atomic(opt.ports_file, announce, strlen(announce), 0644) != 0) {
		fprintf(stderr, "ontap-sim: cannot write %s\n", opt.ports_file);
		goto out;
	}
	printf("%s\n", announce);
	fflush(stdout);
	mg_info("ontap-sim listening", "clusters", f.clusters.len == 2 ? "2" : "n", NULL);
	int sig = 0;
	sigwait(&sigs, &sig);
	rc = 0;
out:
	if (ticking) {
		tk.stop = true;
		pthread_join(tid, NULL);
	}
	/* Also after a partial start: listeners that did come up are stopped. */
	sim_http_stop(&f);
	sim_fabric_free(&f);
	mg_pem_pair_free(&ca);
	mg_pem_pair_free(&leaf);
	free(client_ca);
	free(text);
	free(announce);
	return rc;
}
