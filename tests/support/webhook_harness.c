#include "webhook_harness.h"

#include <criterion/criterion.h>
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

static void put(const char *path, const char *data)
{
	cr_assert_eq(mg_write_file_atomic(path, data, strlen(data), 0600), 0, "write %s", path);
}

static void make_serving_days(mg_wht *w, const char *cn, int days);

static void make_serving(mg_wht *w, const char *cn)
{
	make_serving_days(w, cn, 1);
}

void mg_wht_rotate_expired(mg_wht *w, const char *cn)
{
	make_serving_days(w, cn, 0);
}

static void make_serving_days(mg_wht *w, const char *cn, int days)
{
	mg_pem_pair leaf = {0};
	const char *sans[] = {"IP:127.0.0.1", "DNS:localhost"};
	char ca_cn[128];
	snprintf(ca_cn, sizeof(ca_cn), "%s-ca", cn); /* distinct from the leaf's subject */
	mg_pem_pair_free(&w->ca);
	cr_assert_eq(mg_tls_make_ca(&w->ca, ca_cn, 2), 0);
	cr_assert_eq(mg_tls_make_leaf(&leaf, &w->ca, cn, sans, 2, days, false), 0);
	/* Key first: a reader that sees the new certificate with the old key must keep the
	 * old pair, which the server does; the other order is tested separately. */
	put(w->key_path, leaf.key_pem);
	put(w->cert_path, leaf.cert_pem);
	put(w->ca_path, w->ca.cert_pem);
	mg_pem_pair_free(&leaf);
}

void mg_wht_init(mg_wht *w, const char *bin_dir, const char *source_dir)
{
	memset(w, 0, sizeof(*w));
	w->bin_dir = bin_dir;
	w->source_dir = source_dir;
	w->pid = -1;
	snprintf(w->dir, sizeof(w->dir), "/tmp/mg-wht-XXXXXX");
	cr_assert_not_null(mkdtemp(w->dir));
	snprintf(w->ca_path, sizeof(w->ca_path), "%s/ca.crt", w->dir);
	snprintf(w->cert_path, sizeof(w->cert_path), "%s/tls.crt", w->dir);
	snprintf(w->key_path, sizeof(w->key_path), "%s/tls.key", w->dir);
	snprintf(w->ready_path, sizeof(w->ready_path), "%s/port", w->dir);
	snprintf(w->out_path, sizeof(w->out_path), "%s/stdout", w->dir);
	snprintf(w->err_path, sizeof(w->err_path), "%s/stderr", w->dir);
	make_serving(w, "mirrorgate-test-1");
}

void mg_wht_rotate(mg_wht *w, const char *cn)
{
	make_serving(w, cn);
}

void mg_wht_start(mg_wht *w, const char *const *extra, bool valgrind)
{
	const char *argv[64];
	size_t n = 0;
	/* MG_WHT_VALGRIND=1 runs every server of a test file under memcheck (slow: a manual
	 * check of the whole integration flow, scripts/valgrind-webhook.sh). Errors go to a log
	 * file that mg_wht_cleanup() prints with a marker. */
	const char *env = getenv("MG_WHT_VALGRIND");
	bool all = env && strcmp(env, "1") == 0;
	char vg_log[160];
	snprintf(vg_log, sizeof(vg_log), "--log-file=%s/valgrind.log", w->dir);
	if (all && !valgrind) {
		valgrind = true;
		w->valgrind_log = true;
		argv[n++] = "valgrind";
		argv[n++] = vg_log;
		argv[n++] = "--quiet";
		argv[n++] = "--leak-check=full";
		argv[n++] = "--errors-for-leak-kinds=definite,indirect";
		argv[n++] = "--show-leak-kinds=definite,indirect";
	} else if (valgrind) {
		argv[n++] = "valgrind";
		argv[n++] = "--quiet";
		argv[n++] = "--error-exitcode=99";
		argv[n++] = "--leak-check=full";
		argv[n++] = "--errors-for-leak-kinds=definite,indirect";
		argv[n++] = "--show-leak-kinds=definite,indirect";
	}
	char bin[512];
	snprintf(bin, sizeof(bin), "%s/mirrorgate-webhook", w->bin_dir);
	argv[n++] = bin;
	argv[n++] = "--address=127.0.0.1";
	argv[n++] = "--port=0";
	argv[n++] = "--ready-file";
	argv[n++] = w->ready_path;
	bool self_signed = false;
	for (size_t i = 0; extra && extra[i]; i++)
		self_signed |= strcmp(extra[i], "--self-signed") == 0;
	if (!self_signed) {
		argv[n++] = "--tls-cert-file";
		argv[n++] = w->cert_path;
		argv[n++] = "--tls-key-file";
		argv[n++] = w->key_path;
	}
	for (size_t i = 0; extra && extra[i] && n < 62; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	unlink(w->ready_path);

	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int out = open(w->out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int err = open(w->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (out < 0 || err < 0)
			_exit(127);
		dup2(out, 1);
		dup2(err, 2);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	w->pid = pid;
	/* Bounded wait for the ready file; valgrind makes start-up slower. */
	int limit_ms = valgrind ? 60000 : 10000;
	for (int waited = 0; waited < limit_ms; waited += 20) {
		char *text = NULL;
		if (mg_read_file(w->ready_path, 64, &text, NULL) == 0) {
			char *end = NULL;
			long port = strtol(text, &end, 10);
			bool complete = end && *end == '\n' && port > 0 && port < 65536;
			free(text);
			if (complete) {
				w->port = (int)port;
				return;
			}
		}
		int status;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			w->pid = -1;
			char *log = NULL;
			mg_read_file(w->err_path, 1 << 16, &log, NULL);
			cr_assert_fail("mirrorgate-webhook exited during start-up (status %d): %s", status,
				 log ? log : "");
		}
		struct timespec ts = {0, 20 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	cr_assert_fail("mirrorgate-webhook did not become ready");
}

int mg_wht_stop(mg_wht *w, int sig, int timeout_ms)
{
	if (w->pid <= 0)
		return -1;
	kill(w->pid, sig);
	int status = 0;
	for (int waited = 0; waited <= timeout_ms; waited += 10) {
		pid_t r = waitpid(w->pid, &status, WNOHANG);
		if (r == w->pid) {
			w->pid = -1;
			if (WIFEXITED(status))
				return WEXITSTATUS(status);
			return 128 + WTERMSIG(status);
		}
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	kill(w->pid, SIGKILL);
	waitpid(w->pid, &status, 0);
	w->pid = -1;
	return -1;
}

void mg_wht_cleanup(mg_wht *w)
{
	char *vg = NULL;
	char vg_path[160];
	snprintf(vg_path, sizeof(vg_path), "%s/valgrind.log", w->dir);
	if (w->pid > 0)
		mg_wht_stop(w, w->valgrind_log ? SIGTERM : SIGKILL, w->valgrind_log ? 60000 : 5000);
	/* Criterion ignores failures in a suite's fini: print a marker that
	 * scripts/valgrind-webhook.sh looks for instead. */
	if (w->valgrind_log && mg_read_file(vg_path, 1 << 20, &vg, NULL) == 0 && *vg)
		fprintf(stderr, "MG-VALGRIND-ERRORS\n%s\n", vg);
	free(vg);
	unlink(vg_path);
	const char *files[] = {w->ca_path, w->cert_path, w->key_path, w->ready_path, w->out_path,
			       w->err_path};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		unlink(files[i]);
	rmdir(w->dir);
	mg_pem_pair_free(&w->ca);
}

static size_t collect(char *data, size_t size, size_t nmemb, void *user)
{
	mg_strbuf *sb = user;
	if (mg_strbuf_append(sb, data, size * nmemb))
		return 0;
	return size * nmemb;
}

CURL *mg_wht_curl(mg_wht *w)
{
	CURL *c = curl_easy_init();
	cr_assert_not_null(c);
	curl_easy_setopt(c, CURLOPT_CAINFO, w->ca_path);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	return c;
}

void mg_wht_request(mg_wht *w, CURL *curl, const char *method, const char *path,
		    const char *ctype, const char *body, size_t len, mg_wht_resp *out)
{
	CURL *c = curl ? curl : mg_wht_curl(w);
	mg_strbuf sb = MG_STRBUF_INIT;
	struct curl_slist *headers = NULL;
	char url[256], header[256];
	memset(out, 0, sizeof(*out));
	snprintf(url, sizeof(url), "https://127.0.0.1:%d%s", w->port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &sb);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, NULL);
	curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	else if (strcmp(method, "GET") == 0 && body)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "GET");
	/* No "Expect: 100-continue" round trip for large bodies. */
	headers = curl_slist_append(headers, "Expect:");
	if (ctype) {
		snprintf(header, sizeof(header), "Content-Type: %s", ctype);
		headers = curl_slist_append(headers, header);
	} else {
		headers = curl_slist_append(headers, "Content-Type:");
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	out->curl = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
	curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &out->connects);
	out->len = sb.len;
	if (mg_strbuf_detach(&sb, &out->body))
		out->body = NULL;
	mg_strbuf_free(&sb);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, NULL);
	curl_slist_free_all(headers);
	if (!curl)
		curl_easy_cleanup(c);
}

void mg_wht_resp_free(mg_wht_resp *r)
{
	free(r->body);
	r->body = NULL;
}

char *mg_wht_fixture(mg_wht *w, const char *name, size_t *len)
{
	char path[512];
	char *data = NULL;
	snprintf(path, sizeof(path), "%s/tests/data/webhook/%s", w->source_dir, name);
	cr_assert_eq(mg_read_file(path, 8 << 20, &data, len), 0, "read %s", path);
	return data;
}

double mg_wht_metric(mg_wht *w, const char *series)
{
	mg_wht_resp r;
	double v = -1;
	mg_wht_request(w, NULL, "GET", "/metrics", NULL, NULL, 0, &r);
	cr_assert_eq(r.status, 200);
	size_t n = strlen(series);
	for (const char *p = r.body; p && *p;) {
		const char *eol = strchr(p, '\n');
		if (strncmp(p, series, n) == 0 && p[n] == ' ') {
			v = strtod(p + n + 1, NULL);
			break;
		}
		p = eol ? eol + 1 : NULL;
	}
	mg_wht_resp_free(&r);
	return v;
}
