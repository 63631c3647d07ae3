/* Test helpers: kube-sim as a child process, a canned-response HTTP server, and a bounded
 * command runner (kubectl). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kube_support.h"
#include "mirrorgate/util/strbuf.h"
#include "mirrorgate/util/tls.h"

static long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&t, NULL);
}

int kube_sim_start_at(kube_sim_proc *p, const char *bin_dir, const char *source_dir,
		      const char *const *extra_args)
{
	return kube_sim_start_wrapped_at(p, NULL, bin_dir, source_dir, extra_args);
}

int kube_sim_start_wrapped_at(kube_sim_proc *p, const char *const *wrapper, const char *bin_dir,
			      const char *source_dir, const char *const *extra_args)
{
	char exe[512], crds[512];
	snprintf(exe, sizeof(exe), "%s/kube-sim", bin_dir);
	snprintf(crds, sizeof(crds), "%s/manifests/crds", source_dir);
	memset(p, 0, sizeof(*p));
	snprintf(p->dir, sizeof(p->dir), "/tmp/mg-kube-sim-XXXXXX");
	if (!mkdtemp(p->dir))
		return -1;
	char port_file[300];
	snprintf(port_file, sizeof(port_file), "%s/port", p->dir);
	snprintf(p->kubeconfig, sizeof(p->kubeconfig), "%s/kubeconfig", p->dir);
	snprintf(p->token_file, sizeof(p->token_file), "%s/tokens", p->dir);
	FILE *f = fopen(p->token_file, "w");
	if (!f)
		return -1;
	fclose(f);
	const char *argv[56];
	size_t n = 0;
	for (size_t i = 0; wrapper && wrapper[i] && n < 12; i++)
		argv[n++] = wrapper[i];
	argv[n++] = exe;
	argv[n++] = "--crds";
	argv[n++] = crds;
	argv[n++] = "--port-file";
	argv[n++] = port_file;
	argv[n++] = "--kubeconfig-out";
	argv[n++] = p->kubeconfig;
	argv[n++] = "--token-file";
	argv[n++] = p->token_file;
	argv[n++] = "--log-level";
	argv[n++] = "warn";
	for (size_t i = 0; extra_args && extra_args[i] && n < 55; i++)
		argv[n++] = extra_args[i];
	argv[n] = NULL;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0)
			dup2(null, STDOUT_FILENO);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	p->pid = pid;
	/* A wrapper such as valgrind makes start-up many times slower. */
	long deadline = now_ms() + (wrapper ? 60000 : 10000);
	while (now_ms() < deadline) {
		char *text = NULL;
		size_t len;
		if (mg_read_file(port_file, 64, &text, &len) == 0) {
			char *end;
			long port = strtol(text, &end, 10);
			free(text);
			if (port > 0 && port < 65536) {
				p->port = (int)port;
				return 0;
			}
		}
		int status;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			p->pid = 0;
			return -1;
		}
		sleep_ms(20);
	}
	kube_sim_stop(p);
	return -1;
}

static void rm_rf(const char *dir)
{
	char *cmd = mg_asprintf("rm -rf '%s'", dir);
	if (cmd && strncmp(dir, "/tmp/mg-", 8) == 0) {
		int rc = system(cmd);
		(void)rc; /* best effort: a leftover temp dir is not a test failure */
	}
	free(cmd);
}

int kube_sim_stop_status(kube_sim_proc *p, long wait_ms)
{
	int result = -1;
	if (p->pid > 0) {
		kill(p->pid, SIGTERM);
		long deadline = now_ms() + wait_ms;
		int status = 0;
		pid_t r;
		while ((r = waitpid(p->pid, &status, WNOHANG)) == 0 && now_ms() < deadline)
			sleep_ms(20);
		if (r == p->pid) {
			result = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		} else {
			kill(p->pid, SIGKILL);
			waitpid(p->pid, &status, 0);
		}
		p->pid = 0;
	}
	kube_sim_stop(p);
	return result;
}

void kube_sim_stop(kube_sim_proc *p)
{
	if (p->pid > 0) {
		kill(p->pid, SIGTERM);
		long deadline = now_ms() + 5000;
		int status;
		while (waitpid(p->pid, &status, WNOHANG) == 0) {
			if (now_ms() > deadline) {
				kill(p->pid, SIGKILL);
				waitpid(p->pid, &status, 0);
				break;
			}
			sleep_ms(10);
		}
		p->pid = 0;
	}
	if (p->dir[0])
		rm_rf(p->dir);
	p->dir[0] = '\0';
}

/* ---- canned server ---- */

struct kube_canned {
	int fd;
	int port;
	const kube_canned_resp *resps;
	size_t n;
	pthread_t thread;
	pthread_mutex_t mu;
	char **requests;
	size_t nrequests, nconnections;
	volatile int stop;
};

/* Reads one request (headers and a Content-Length body) with a bounded wait. */
static char *read_request(int cfd)
{
	mg_strbuf sb = MG_STRBUF_INIT;
	char buf[4096];
	long deadline = now_ms() + 5000;
	size_t need = 0;
	char *hdr_end = NULL;
	while (now_ms() < deadline) {
		struct pollfd pfd = {cfd, POLLIN, 0};
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		ssize_t r = read(cfd, buf, sizeof(buf));
		if (r <= 0)
			break;
		mg_strbuf_append(&sb, buf, (size_t)r);
		if (!hdr_end && sb.data && (hdr_end = strstr(sb.data, "\r\n\r\n"))) {
			const char *cl = strstr(sb.data, "\r\nContent-Length:");
			long len = cl ? strtol(cl + 17, NULL, 10) : 0;
			need = (size_t)(hdr_end - sb.data) + 4 + (size_t)(len > 0 ? len : 0);
		}
		if (hdr_end && sb.len >= need)
			break;
	}
	char *out = NULL;
	if (mg_strbuf_detach(&sb, &out) != 0)
		return NULL;
	return out;
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void *canned_run(void *arg)
{
	kube_canned *c = arg;
	size_t next = 0;
	while (!c->stop) {
		struct pollfd pfd = {c->fd, POLLIN, 0};
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		int cfd = accept(c->fd, NULL, NULL);
		if (cfd < 0)
			continue;
		pthread_mutex_lock(&c->mu);
		c->nconnections++;
		pthread_mutex_unlock(&c->mu);
		int keep = 1;
		while (keep && !c->stop) {
			char *req = read_request(cfd);
			if (!req || !*req) {
				free(req); /* the client closed its end */
				break;
			}
			pthread_mutex_lock(&c->mu);
			char **nr = realloc(c->requests, (c->nrequests + 1) * sizeof(*nr));
			if (nr) {
				c->requests = nr;
				c->requests[c->nrequests++] = req;
				req = NULL;
			}
			pthread_mutex_unlock(&c->mu);
			free(req);
			keep = 0;
			if (next < c->n) {
				const kube_canned_resp *r = &c->resps[next++];
				const char *p = r->raw;
				keep = p && *p == KUBE_CANNED_KEEP[0];
				p += keep;
				for (long w = 0; w < r->delay_ms && !c->stop; w += 10)
					sleep_ms(10);
				while (p && *p && !c->stop) {
					const char *ff = strchr(p, '\f');
					size_t len = ff ? (size_t)(ff - p) : strlen(p);
					write_all(cfd, p, len);
					p += len;
					if (ff) {
						p++;
						for (long w = 0; w < r->pause_ms && !c->stop; w += 10)
							sleep_ms(10);
					}
				}
			} else {
				static const char gone[] = "HTTP/1.1 503 Service Unavailable\r\n"
							   "Content-Length: 0\r\nConnection: close\r\n\r\n";
				write_all(cfd, gone, sizeof(gone) - 1);
			}
		}
		shutdown(cfd, SHUT_WR);
		close(cfd);
	}
	return NULL;
}

int kube_canned_start(kube_canned **out, const kube_canned_resp *resps, size_t n)
{
	kube_canned *c = calloc(1, sizeof(*c));
	if (!c)
		return -1;
	c->resps = resps;
	c->n = n;
	pthread_mutex_init(&c->mu, NULL);
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {0};
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t sl = sizeof(sa);
	if (c->fd < 0 || bind(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(c->fd, 16) != 0 || getsockname(c->fd, (struct sockaddr *)&sa, &sl) != 0) {
		if (c->fd >= 0)
			close(c->fd);
		free(c);
		return -1;
	}
	c->port = ntohs(sa.sin_port);
	if (pthread_create(&c->thread, NULL, canned_run, c) != 0) {
		close(c->fd);
		free(c);
		return -1;
	}
	*out = c;
	return 0;
}

int kube_canned_port(const kube_canned *c)
{
	return c->port;
}

const char *kube_canned_request(kube_canned *c, size_t i)
{
	pthread_mutex_lock(&c->mu);
	const char *r = i < c->nrequests ? c->requests[i] : NULL;
	pthread_mutex_unlock(&c->mu);
	return r;
}

size_t kube_canned_count(kube_canned *c)
{
	pthread_mutex_lock(&c->mu);
	size_t n = c->nrequests;
	pthread_mutex_unlock(&c->mu);
	return n;
}

size_t kube_canned_connections(kube_canned *c)
{
	pthread_mutex_lock(&c->mu);
	size_t n = c->nconnections;
	pthread_mutex_unlock(&c->mu);
	return n;
}

void kube_canned_stop(kube_canned *c)
{
	if (!c)
		return;
	c->stop = 1;
	pthread_join(c->thread, NULL);
	close(c->fd);
	for (size_t i = 0; i < c->nrequests; i++)
		free(c->requests[i]);
	free(c->requests);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

int kube_write_kubeconfig(const char *path, const char *server, const char *token,
			  const char *token_file)
{
	mg_strbuf sb = MG_STRBUF_INIT;
	mg_strbuf_printf(&sb,
			 "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
			 "clusters:\n- name: k\n  cluster:\n    server: %s\n"
			 "contexts:\n- name: c\n  context: {cluster: k, user: u, namespace: ns1}\n"
			 "users:\n- name: u\n  user:\n",
			 server);
	if (token)
		mg_strbuf_printf(&sb, "    token: %s\n", token);
	if (token_file)
		mg_strbuf_printf(&sb, "    tokenFile: %s\n", token_file);
	if (!token && !token_file)
		mg_strbuf_puts(&sb, "    {}\n");
	int rc = sb.failed ? -1 : mg_write_file_atomic(path, sb.data, sb.len, 0600);
	mg_strbuf_free(&sb);
	return rc;
}

int kube_run(char **out, long timeout_ms, const char *const *argv, const char *const *env)
{
	int pipefd[2];
	*out = NULL;
	if (pipe(pipefd) != 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		dup2(pipefd[1], STDERR_FILENO);
		close(pipefd[0]);
		close(pipefd[1]);
		for (size_t i = 0; env && env[i]; i++)
			putenv((char *)env[i]);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(pipefd[1]);
	mg_strbuf sb = MG_STRBUF_INIT;
	long deadline = now_ms() + timeout_ms;
	int timed_out = 0;
	for (;;) {
		long left = deadline - now_ms();
		if (left <= 0) {
			timed_out = 1;
			break;
		}
		struct pollfd pfd = {pipefd[0], POLLIN, 0};
		int pr = poll(&pfd, 1, (int)(left < 100 ? left : 100));
		if (pr < 0 && errno != EINTR)
			break;
		if (pr <= 0)
			continue;
		char buf[4096];
		ssize_t r = read(pipefd[0], buf, sizeof(buf));
		if (r <= 0)
			break;
		mg_strbuf_append(&sb, buf, (size_t)r);
	}
	close(pipefd[0]);
	int status = 0;
	if (timed_out)
		kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	if (mg_strbuf_detach(&sb, out) != 0)
		*out = NULL;
	if (timed_out)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
