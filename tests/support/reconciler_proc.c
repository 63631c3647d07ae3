#include "reconciler_proc.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mirrorgate/strbuf.h"
#include "mirrorgate/tls.h"

static void nap(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

void rec_proc_config(rec_proc *p, const char *url, const char *svm, const char *ca_file,
		     const char *user, const char *password)
{
	if (!p->dir[0]) {
		snprintf(p->dir, sizeof(p->dir), "/tmp/mg-rec-XXXXXX");
		cr_assert_not_null(mkdtemp(p->dir));
	}
	char cred[300], text[2048];
	snprintf(cred, sizeof(cred), "%s/credentials", p->dir);
	int n = snprintf(text, sizeof(text), "username: %s\npassword: %s\n", user, password);
	cr_assert_eq(mg_write_file_atomic(cred, text, (size_t)n, 0600), 0);
	snprintf(p->config, sizeof(p->config), "%s/config.yaml", p->dir);
	n = snprintf(text, sizeof(text),
		     "backends:\n- name: ontap-b\n  managementLIF: %s\n  svm: %s\n"
		     "  credentialsFile: %s\n  trustedCAFile: %s\n"
		     "  replicationPolicy: MirrorAllSnapshots\n",
		     url, svm, cred, ca_file);
	cr_assert_eq(mg_write_file_atomic(p->config, text, (size_t)n, 0644), 0);
}

void rec_proc_start(rec_proc *p, const char *binary, const char *kubeconfig,
		    const char *identity, const char *const *extra)
{
	rec_proc_start_wrapped(p, NULL, binary, kubeconfig, identity, extra);
}

void rec_proc_start_wrapped(rec_proc *p, const char *const *wrapper, const char *binary,
			    const char *kubeconfig, const char *identity, const char *const *extra)
{
	char out[300];
	snprintf(out, sizeof(out), "%s/%s.out", p->dir, identity);
	snprintf(p->log, sizeof(p->log), "%s/%s.log", p->dir, identity);
	unlink(out);
	const char *argv[64];
	size_t a = 0;
	for (size_t i = 0; wrapper && wrapper[i] && a < 16; i++)
		argv[a++] = wrapper[i];
	argv[a++] = binary;
	argv[a++] = "--config";
	argv[a++] = p->config;
	argv[a++] = "--kubeconfig";
	argv[a++] = kubeconfig;
	argv[a++] = "--identity";
	argv[a++] = identity;
	argv[a++] = "--metrics-addr";
	argv[a++] = "127.0.0.1:0";
	argv[a++] = "--lease-duration";
	argv[a++] = "3s";
	argv[a++] = "--renew-deadline";
	argv[a++] = "2s";
	argv[a++] = "--retry-period";
	argv[a++] = "250ms";
	argv[a++] = "--backoff-base";
	argv[a++] = "50ms";
	argv[a++] = "--backoff-cap";
	argv[a++] = "1s";
	for (size_t i = 0; extra && extra[i] && a < 62; i++)
		argv[a++] = extra[i];
	argv[a] = NULL;
	pid_t pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int fl = open(p->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fo < 0 || fl < 0)
			_exit(127);
		dup2(fo, 1);
		dup2(fl, 2);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	p->pid = pid;
	p->port = 0;
	int tries = wrapper ? 1200 : 200;
	for (int i = 0; i < tries && !p->port; i++) {
		char *text = NULL;
		size_t len = 0;
		if (mg_read_file(out, 4096, &text, &len) == 0) {
			const char *k = strstr(text, "\"metrics_port\":");
			if (k)
				p->port = (int)strtol(k + 15, NULL, 10);
			free(text);
		}
		int st;
		if (!p->port && waitpid(pid, &st, WNOHANG) == pid) {
			p->pid = 0;
			cr_assert_fail("mirrorgate-reconciler exited at start; see %s", p->log);
		}
		if (!p->port)
			nap(50);
	}
	cr_assert_gt(p->port, 0, "no metrics port in time; see %s", p->log);
}

int rec_proc_stop(rec_proc *p, bool hard)
{
	if (p->pid <= 0)
		return -1;
	kill(p->pid, hard ? SIGKILL : SIGTERM);
	int st = 0;
	for (int i = 0; i < 1200; i++) {
		if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
			p->pid = 0;
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		}
		nap(50);
	}
	kill(p->pid, SIGKILL);
	waitpid(p->pid, &st, 0);
	p->pid = 0;
	return -1;
}

static size_t on_write(char *data, size_t size, size_t n, void *ctx)
{
	return mg_strbuf_append(ctx, data, size * n) == 0 ? size * n : 0;
}

int rec_proc_get(rec_proc *p, const char *path, char **body)
{
	CURL *h = curl_easy_init();
	cr_assert_not_null(h);
	char url[256];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", p->port, path);
	mg_strbuf sb = MG_STRBUF_INIT;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 5L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &sb);
	long status = 0;
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(h);
	if (body)
		mg_strbuf_detach(&sb, body);
	mg_strbuf_free(&sb);
	return (int)status;
}

void rec_proc_cleanup(rec_proc *p)
{
	if (!p->dir[0])
		return;
	DIR *d = opendir(p->dir);
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char f[512];
		snprintf(f, sizeof(f), "%s/%s", p->dir, e->d_name);
		unlink(f);
	}
	if (d)
		closedir(d);
	rmdir(p->dir);
	p->dir[0] = '\0';
}
