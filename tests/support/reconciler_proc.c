#include "reconciler_proc.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mirrorgate/util/strbuf.h"
#include "mirrorgate/util/tls.h"

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
	if (!p->dir[0]) {
		snprintf(p->dir, sizeof(p->dir), "/tmp/mg-rec-XXXXXX");
		cr_assert_not_null(mkdtemp(p->dir));
	}
	snprintf(out, sizeof(out), "%s/%s.out", p->dir, identity);
	snprintf(p->log, sizeof(p->log), "%s/%s.log", p->dir, identity);
	unlink(out);
	const char *argv[64];
	size_t a = 0;
	for (size_t i = 0; wrapper && wrapper[i] && a < 16; i++)
		argv[a++] = wrapper[i];
	argv[a++] = binary;
	if (p->config[0]) { /* none: the backends come from TridentBackendConfigs */
		argv[a++] = "--config";
		argv[a++] = p->config;
	}
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

/* Removes a tree without following symlinks (a Secret volume is made of them). */
static void remove_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		struct dirent *e;
		while (d && (e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			char f[512];
			snprintf(f, sizeof(f), "%s/%s", path, e->d_name);
			remove_tree(f);
		}
		if (d)
			closedir(d);
		rmdir(path);
	} else {
		unlink(path);
	}
}

void rec_proc_cleanup(rec_proc *p)
{
	if (!p->dir[0])
		return;
	/* for debugging a failure: the binary's log and config outlive the test */
	if (getenv("MG_KEEP_TEST_DIRS")) {
		fprintf(stderr, "kept %s\n", p->dir);
		p->dir[0] = '\0';
		return;
	}
	remove_tree(p->dir);
	p->dir[0] = '\0';
}

void rec_proc_write_credentials(rec_proc *p, const char *text)
{
	char cred[300];
	snprintf(cred, sizeof(cred), "%s/credentials", p->dir);
	cr_assert_eq(mg_write_file_atomic(cred, text, strlen(text), 0600), 0);
}

/* The kubelet's layout: each version of the Secret in its own "..<timestamp>" directory;
 * "..data" points at the current one; each key is a symlink through "..data". */
static void secret_version(rec_proc *p, const char *text, char *name, size_t len)
{
	static unsigned seq;
	snprintf(name, len, "..2026_11_25_12_00_00.%u%ld", ++seq, (long)getpid());
	char d[400], f[500];
	snprintf(d, sizeof(d), "%s/secret/%s", p->dir, name);
	cr_assert_eq(mkdir(d, 0700), 0, "mkdir %s", d);
	snprintf(f, sizeof(f), "%s/credentials", d);
	cr_assert_eq(mg_write_file_atomic(f, text, strlen(text), 0600), 0);
}

void rec_proc_config_secret(rec_proc *p, const char *url, const char *svm, const char *ca_file,
			    const char *user, const char *password)
{
	rec_proc_config(p, url, svm, ca_file, user, password);
	char sdir[300], link[400], text[1024], cred[400];
	snprintf(sdir, sizeof(sdir), "%s/secret", p->dir);
	cr_assert_eq(mkdir(sdir, 0700), 0);
	snprintf(text, sizeof(text), "username: %s\npassword: %s\n", user, password);
	char ver[128];
	secret_version(p, text, ver, sizeof(ver));
	snprintf(link, sizeof(link), "%s/..data", sdir);
	cr_assert_eq(symlink(ver, link), 0);
	snprintf(cred, sizeof(cred), "%s/credentials", sdir);
	cr_assert_eq(symlink("..data/credentials", cred), 0);
	/* point the config at the Secret volume's key instead of the plain file */
	char *cfg = NULL;
	size_t len = 0;
	cr_assert_eq(mg_read_file(p->config, 1 << 16, &cfg, &len), 0);
	char plain[320];
	snprintf(plain, sizeof(plain), "%s/credentials\n", p->dir);
	char *at = strstr(cfg, plain);
	cr_assert_not_null(at);
	mg_strbuf sb = MG_STRBUF_INIT;
	mg_strbuf_append(&sb, cfg, (size_t)(at - cfg));
	mg_strbuf_printf(&sb, "%s\n%s", cred, at + strlen(plain));
	char *out = NULL;
	cr_assert_eq(mg_strbuf_detach(&sb, &out), 0);
	mg_strbuf_free(&sb);
	cr_assert_eq(mg_write_file_atomic(p->config, out, strlen(out), 0644), 0);
	free(out);
	free(cfg);
}

void rec_proc_swap_secret(rec_proc *p, const char *text)
{
	char sdir[300], link[400], tmp[400], old[400], oldpath[800];
	snprintf(sdir, sizeof(sdir), "%s/secret", p->dir);
	snprintf(link, sizeof(link), "%s/..data", sdir);
	snprintf(tmp, sizeof(tmp), "%s/..data_tmp", sdir);
	ssize_t n = readlink(link, old, sizeof(old) - 1);
	cr_assert_gt(n, 0, "no ..data link in %s", sdir);
	old[n] = '\0';
	char ver[128];
	secret_version(p, text, ver, sizeof(ver));
	unlink(tmp);
	cr_assert_eq(symlink(ver, tmp), 0);
	cr_assert_eq(rename(tmp, link), 0);
	snprintf(oldpath, sizeof(oldpath), "%s/%s", sdir, old);
	remove_tree(oldpath);
}
