/*
 * lb-run.c - runs a balancer's helper program (`nginx -t`, a reload
 * command) with a deadline. A helper that hangs would otherwise hold the
 * pool's worker, and with it every later action of the pool and the
 * daemon's shutdown, which waits for the worker. The helper gets a process
 * group of its own so that whatever it started dies with it.
 */
#include "config.h"

#include "lb-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_OUTPUT (64u << 10) /* what is kept of each of stdout and stderr */

/* In the child, between fork and exec: async-signal-safe calls only. */
static void new_process_group(gpointer data)
{
	(void)data;
	setpgid(0, 0);
}

/* Appends what @fd has to @buf (up to MAX_OUTPUT); false at EOF or error. */
static bool read_some(int fd, GString *buf)
{
	char chunk[4096];
	ssize_t n = read(fd, chunk, sizeof(chunk));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0)
		return false;
	if (buf->len < MAX_OUTPUT)
		g_string_append_len(buf, chunk, MIN((gsize)n, MAX_OUTPUT - buf->len));
	return true;
}

/* Kills the helper's whole group and reaps the helper. */
static void kill_group(GPid pid)
{
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL); /* in case it never got its own group */
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* What the helper printed (its errors, else its output), for the message. */
static const char *printed(GString *err, GString *out)
{
	GString *s = err->len ? err : out;

	g_strstrip(s->str);
	return s->str;
}

/* Reads what is left in @fd once the helper exited, without waiting for
 * whatever it started and left holding the pipe. */
static void drain(int fd, GString *buf)
{
	char chunk[4096];
	ssize_t n;

	if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
		return;
	while (buf->len < MAX_OUTPUT && (n = read(fd, chunk, sizeof(chunk))) > 0)
		g_string_append_len(buf, chunk, MIN((gsize)n, MAX_OUTPUT - buf->len));
}

/**
 * vs_lb_run: see lb-internal.h.
 */
bool vs_lb_run(char **argv, unsigned timeout_s, GCancellable *cancel, int code, GError **error)
{
	GError *spawn_err = NULL;
	GPid pid;
	int out_fd = -1, err_fd = -1, in_fd = -1;
	g_autoptr(GString) out = g_string_new(NULL);
	g_autoptr(GString) err = g_string_new(NULL);
	GPollFD cancel_fd = {.fd = -1};
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;
	int status = 0;
	bool exited = false, cancelled = false;

	if (!g_spawn_async_with_pipes(
	        NULL, argv, NULL,
	        G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_CLOEXEC_PIPES,
	        new_process_group, NULL, &pid, &in_fd, &out_fd, &err_fd, &spawn_err)) {
		g_set_error(error, VS_LB_ERROR, code, "%s: %s", argv[0], spawn_err->message);
		g_error_free(spawn_err);
		return false;
	}
	close(in_fd);      /* the helper reads nothing */
	setpgid(pid, pid); /* no race with a kill before the child's own call */
	if (cancel && g_cancellable_make_pollfd(cancel, &cancel_fd))
		cancel_fd.events = G_IO_IN;
	while (!exited) {
		struct pollfd fds[3] = {{.fd = out_fd, .events = POLLIN},
		                        {.fd = err_fd, .events = POLLIN},
		                        {.fd = cancel_fd.fd, .events = POLLIN}};
		gint64 left = deadline - g_get_monotonic_time();
		pid_t r;

		if (g_cancellable_is_cancelled(cancel)) {
			cancelled = true;
			break;
		}
		if (left <= 0)
			break;
		/* short polls: the helper may exit while something it started
		 * keeps the pipes open */
		if (poll(fds, 3, (int)MIN(left / 1000 + 1, 50)) < 0 && errno != EINTR)
			break;
		if (out_fd >= 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    !read_some(out_fd, out)) {
			close(out_fd);
			out_fd = -1;
		}
		if (err_fd >= 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    !read_some(err_fd, err)) {
			close(err_fd);
			err_fd = -1;
		}
		r = waitpid(pid, &status, WNOHANG);
		exited = r == pid || (r < 0 && errno == ECHILD);
	}
	if (out_fd >= 0) {
		if (exited)
			drain(out_fd, out);
		close(out_fd);
	}
	if (err_fd >= 0) {
		if (exited)
			drain(err_fd, err);
		close(err_fd);
	}
	if (cancel_fd.fd >= 0)
		g_cancellable_release_fd(cancel);
	if (!exited) {
		kill_group(pid);
		g_spawn_close_pid(pid);
		if (cancelled)
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
			            "%s: stopped (process group %d killed): virtscaled is stopping",
			            argv[0], (int)pid);
		else
			g_set_error(error, VS_LB_ERROR, code,
			            "%s timed out after %u s: process group %d killed", argv[0],
			            timeout_s, (int)pid);
		return false;
	}
	g_spawn_close_pid(pid);
	if (!g_spawn_check_wait_status(status, NULL)) {
		g_set_error(error, VS_LB_ERROR, code, "%s failed: %s", argv[0], printed(err, out));
		return false;
	}
	return true;
}
