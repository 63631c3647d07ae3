#include "ontap_sim_proc.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mirrorgate/util/strbuf.h"
#include "mirrorgate/util/tls.h"

static void nap_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static void start(ontap_sim_proc *p, const char *const *wrapper, const char *binary,
		  const char *config_yaml, const char *const *extra, int wait_ms)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->dir, sizeof(p->dir), "/tmp/mg-ontap-sim-XXXXXX");
	cr_assert_not_null(mkdtemp(p->dir));
	char ports[128], config[128];
	snprintf(ports, sizeof(ports), "%s/ports.json", p->dir);
	snprintf(p->ca_file, sizeof(p->ca_file), "%s/ca.pem", p->dir);
	snprintf(config, sizeof(config), "%s/topology.yaml", p->dir);
	if (config_yaml)
		cr_assert_eq(mg_write_file_atomic(config, config_yaml, strlen(config_yaml), 0600), 0);
	const char *argv[48];
	size_t n = 0;
	for (size_t i = 0; wrapper && wrapper[i] && n < 24; i++)
		argv[n++] = wrapper[i];
	argv[n++] = binary;
	argv[n++] = "--ports-file";
	argv[n++] = ports;
	argv[n++] = "--ca-out";
	argv[n++] = p->ca_file;
	argv[n++] = "--log-level";
	argv[n++] = "error";
	if (config_yaml) {
		argv[n++] = "--config";
		argv[n++] = config;
	}
	for (size_t i = 0; extra && extra[i] && n < 46; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);
		if (devnull >= 0)
			dup2(devnull, 1);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	p->pid = pid;
	char *text = NULL;
	size_t len = 0;
	for (int i = 0; i < wait_ms / 50 && !text; i++) {
		int status;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			p->pid = 0;
			cr_assert_fail("ontap-sim exited early (status %d)", status);
		}
		if (mg_read_file(ports, 1 << 20, &text, &len) != 0) {
			text = NULL;
			nap_ms(50);
		}
	}
	cr_assert_not_null(text, "ontap-sim did not announce its ports within %d ms", wait_ms);
	cJSON *doc = cJSON_Parse(text);
	free(text);
	cr_assert_not_null(doc);
	const cJSON *c;
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "clusters")) {
		if (p->nclusters == ONTAP_SIM_MAX_CLUSTERS)
			break;
		snprintf(p->clusters[p->nclusters].name, 64, "%s",
			 cJSON_GetObjectItem(c, "name")->valuestring);
		snprintf(p->clusters[p->nclusters].url, 128, "%s",
			 cJSON_GetObjectItem(c, "url")->valuestring);
		p->nclusters++;
	}
	cJSON_Delete(doc);
	p->client_now_ms = 1000000;
}

void ontap_sim_start_bin(ontap_sim_proc *p, const char *binary, const char *config_yaml,
			 const char *const *extra)
{
	start(p, NULL, binary, config_yaml, extra, 30000);
}

void ontap_sim_start_wrapped(ontap_sim_proc *p, const char *const *wrapper, const char *binary,
			     const char *config_yaml, const char *const *extra)
{
	start(p, wrapper, binary, config_yaml, extra, 60000);
}

static int stop_with(ontap_sim_proc *p, int wait_ms)
{
	int result = -1;
	if (p->pid > 0) {
		kill(p->pid, SIGTERM);
		int status = 0;
		bool gone = false;
		for (int i = 0; i < wait_ms / 20 && !gone; i++) {
			if (waitpid(p->pid, &status, WNOHANG) == p->pid)
				gone = true;
			else
				nap_ms(20);
		}
		if (!gone) {
			kill(p->pid, SIGKILL);
			waitpid(p->pid, &status, 0);
		} else if (WIFEXITED(status)) {
			result = WEXITSTATUS(status);
		}
		p->pid = 0;
	}
	char path[160];
	const char *files[] = {"ports.json", "ca.pem", "topology.yaml"};
	for (size_t i = 0; p->dir[0] && i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", p->dir, files[i]);
		unlink(path);
	}
	if (p->dir[0])
		rmdir(p->dir);
	p->dir[0] = '\0';
	return result;
}

void ontap_sim_stop(ontap_sim_proc *p)
{
	stop_with(p, 6000);
}

int ontap_sim_stop_status(ontap_sim_proc *p, int wait_ms)
{
	return stop_with(p, wait_ms);
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	mg_strbuf_append(userdata, ptr, size * nmemb);
	return size * nmemb;
}

int ontap_sim_control(ontap_sim_proc *p, const char *method, const char *path, const char *body,
		      cJSON **out)
{
	CURL *h = curl_easy_init();
	cr_assert_not_null(h);
	char url[512];
	snprintf(url, sizeof(url), "%s/__sim/%s", p->clusters[0].url, path);
	mg_strbuf sb = MG_STRBUF_INIT;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_CAINFO, p->ca_file);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &sb);
	if (body)
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	CURLcode cc = curl_easy_perform(h);
	cr_assert_eq(cc, CURLE_OK, "control %s %s: %s", method, path, curl_easy_strerror(cc));
	long status = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(h);
	if (out)
		*out = sb.data ? cJSON_Parse(sb.data) : NULL;
	mg_strbuf_free(&sb);
	return (int)status;
}

void ontap_sim_advance(ontap_sim_proc *p, int64_t ms)
{
	char body[64];
	snprintf(body, sizeof(body), "{\"ms\":%lld}", (long long)ms);
	cr_assert_eq(ontap_sim_control(p, "POST", "clock/advance", body, NULL), 200);
}

int ontap_sim_count_requests(ontap_sim_proc *p, const char *cluster, const char *method,
			     const char *needle)
{
	cJSON *log = NULL;
	cr_assert_eq(ontap_sim_control(p, "GET", "requests", NULL, &log), 200);
	int n = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(log, "requests")) {
		const char *m = cJSON_GetObjectItem(e, "method")->valuestring;
		const char *path = cJSON_GetObjectItem(e, "path")->valuestring;
		const char *cl = cJSON_GetObjectItem(e, "cluster")->valuestring;
		if ((!cluster || strcmp(cl, cluster) == 0) && (!method || strcmp(m, method) == 0) &&
		    strstr(path, needle))
			n++;
	}
	cJSON_Delete(log);
	return n;
}

static uint64_t virtual_now(void *ctx)
{
	return ((ontap_sim_proc *)ctx)->client_now_ms;
}

static void virtual_sleep(void *ctx, uint64_t ms)
{
	ontap_sim_proc *p = ctx;
	p->client_now_ms += ms;
	ontap_sim_advance(p, (int64_t)ms);
}

void ontap_sim_client_config(ontap_sim_proc *p, size_t i, mg_ontap_config *cfg)
{
	static const char *const passwords[] = {"password-a", "password-b", "password-c",
						"password-d"};
	cr_assert(i < p->nclusters);
	memset(cfg, 0, sizeof(*cfg));
	cfg->base_url = p->clusters[i].url;
	cfg->ca_file = p->ca_file;
	cfg->username = "admin";
	cfg->password = passwords[i];
	/* Generous: under valgrind or a loaded CI machine a TLS handshake can take seconds. */
	cfg->timeout_ms = 30000;
	cfg->now_ms = virtual_now;
	cfg->sleep_ms = virtual_sleep;
	cfg->clock_ctx = p;
	cfg->job_deadline_ms = 60000;
}

mg_ontap_client *ontap_sim_client(ontap_sim_proc *p, size_t i)
{
	mg_ontap_config cfg;
	ontap_sim_client_config(p, i, &cfg);
	mg_ontap_client *c = NULL;
	cr_assert_eq(mg_ontap_client_new(&c, &cfg), 0);
	return c;
}
