#include "run_cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/util/strbuf.h"

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int mg_run_cmd(mg_cmd_result *out, char *const argv[], const char *stdin_data, size_t stdin_len,
	       int timeout_s)
{
	memset(out, 0, sizeof(*out));
	int in[2], o[2], e[2];
	if (pipe(in) || pipe(o) || pipe(e))
		return MG_EIO;
	pid_t pid = fork();
	if (pid < 0)
		return MG_EIO;
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(o[1], 1);
		dup2(e[1], 2);
		close(in[1]);
		close(o[0]);
		close(e[0]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(in[0]);
	close(o[1]);
	close(e[1]);
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	signal(SIGPIPE, SIG_IGN);
	mg_strbuf sout = MG_STRBUF_INIT, serr = MG_STRBUF_INIT;
	size_t written = 0;
	if (!stdin_data || stdin_len == 0) {
		close(in[1]);
		in[1] = -1;
	}
	long deadline = now_ms() + timeout_s * 1000L;
	int open_fds = 2;
	while (open_fds > 0 && now_ms() < deadline) {
		struct pollfd p[3] = {{o[0], POLLIN, 0}, {e[0], POLLIN, 0}, {in[1], POLLOUT, 0}};
		if (poll(p, 3, 100) < 0 && errno != EINTR)
			break;
		for (int k = 0; k < 2; k++) {
			if (p[k].fd < 0 || !(p[k].revents & (POLLIN | POLLHUP)))
				continue;
			char buf[65536];
			ssize_t n = read(p[k].fd, buf, sizeof(buf));
			if (n > 0) {
				mg_strbuf_append(k == 0 ? &sout : &serr, buf, (size_t)n);
			} else {
				close(p[k].fd);
				if (k == 0)
					o[0] = -1;
				else
					e[0] = -1;
				open_fds--;
			}
		}
		if (in[1] >= 0 && (p[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t n = write(in[1], stdin_data + written, stdin_len - written);
			if (n > 0)
				written += (size_t)n;
			if (n < 0 || written == stdin_len) {
				close(in[1]);
				in[1] = -1;
			}
		}
	}
	if (in[1] >= 0)
		close(in[1]);
	if (o[0] >= 0)
		close(o[0]);
	if (e[0] >= 0)
		close(e[0]);
	int status = 0;
	if (open_fds > 0)
		kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	out->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	mg_strbuf_detach(&sout, &out->out);
	mg_strbuf_detach(&serr, &out->err);
	return open_fds > 0 ? MG_ETIMEOUT : 0;
}

void mg_cmd_result_free(mg_cmd_result *r)
{
	if (!r)
		return;
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}
