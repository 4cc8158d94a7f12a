/*
 * vsc-forward.c - the actuator forwarder (see vsc-forward.h).
 *
 * One worker thread owns the socket. It sleeps in poll() on an eventfd (new
 * lines, stop) and the socket (writable, peer closed), so it neither spins
 * nor blocks on a stalled actuator: a line is written as far as the socket
 * takes it, the rest when it becomes writable again. A line cut by a broken
 * connection is sent again whole on the next one (the actuator drops partial
 * lines; notifications are level-triggered, so a duplicate is harmless).
 */
#include "vsc-forward.h"

#include "vs-backoff.h"
#include "vs-log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS   10000

struct vsc_forwarder {
	char *socket_path;
	unsigned capacity;
	int wake_fd; /* eventfd: lines queued or stop requested */

	pthread_mutex_t lock; /* protects queue, stop and stats */
	GQueue queue;         /* of char* lines, each ending in '\n' */
	bool stop;
	vsc_forwarder_stats stats;

	/* worker-only state */
	int fd;
	char *out; /* line being written, owned */
	size_t out_len, out_off;
	vs_backoff backoff; /* between connection attempts */
	bool warned_down;
};

static int64_t now_ms(void)
{
	return g_get_monotonic_time() / 1000;
}

/**
 * vsc_forwarder_new:
 * @socket_path: the actuator's Unix socket
 * @capacity: most lines kept while the actuator does not read (>= 1)
 *
 * Returns a forwarder, or NULL when no eventfd can be made.
 */
vsc_forwarder *vsc_forwarder_new(const char *socket_path, unsigned capacity)
{
	vsc_forwarder *f = g_new0(vsc_forwarder, 1);

	f->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (f->wake_fd < 0) {
		g_free(f);
		return NULL;
	}
	f->socket_path = g_strdup(socket_path);
	f->capacity = capacity ? capacity : 1;
	f->fd = -1;
	pthread_mutex_init(&f->lock, NULL);
	g_queue_init(&f->queue);
	return f;
}

static void wake(vsc_forwarder *f)
{
	uint64_t one = 1;

	/* EAGAIN means the counter is already non-zero: the worker will wake. */
	if (write(f->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		vs_warning("actuator forwarder: cannot wake worker: %s", g_strerror(errno));
}

/**
 * vsc_forwarder_push:
 * @f: the forwarder
 * @line: one notification, without the newline
 *
 * Queues a copy of @line. When the queue is full the oldest line is dropped
 * (and counted): the newest state of a pool matters more than old ones.
 */
void vsc_forwarder_push(vsc_forwarder *f, const char *line)
{
	char *copy = g_strconcat(line, "\n", NULL);

	pthread_mutex_lock(&f->lock);
	while (g_queue_get_length(&f->queue) >= f->capacity) {
		g_free(g_queue_pop_head(&f->queue));
		f->stats.dropped++;
	}
	g_queue_push_tail(&f->queue, copy);
	f->stats.queued++;
	pthread_mutex_unlock(&f->lock);
	wake(f);
}

/**
 * vsc_forwarder_get_stats:
 * @f: the forwarder
 * @out: filled with the counters and the current state
 */
void vsc_forwarder_get_stats(vsc_forwarder *f, vsc_forwarder_stats *out)
{
	pthread_mutex_lock(&f->lock);
	*out = f->stats;
	out->queue_len = g_queue_get_length(&f->queue);
	pthread_mutex_unlock(&f->lock);
}

static void set_connected(vsc_forwarder *f, bool connected)
{
	pthread_mutex_lock(&f->lock);
	f->stats.connected = connected;
	if (connected)
		f->stats.connects++;
	else
		f->stats.failures++;
	pthread_mutex_unlock(&f->lock);
}

/* Connection failed or broke: schedule the next attempt, doubling the wait. */
static void schedule_reconnect(vsc_forwarder *f, const char *what, int err)
{
	if (!f->warned_down)
		vs_warning("actuator %s: %s: %s (retrying with backoff, queueing up "
		           "to %u notifications)",
		           f->socket_path, what, g_strerror(err), f->capacity);
	f->warned_down = true;
	vs_backoff_failed(&f->backoff, now_ms());
}

static void disconnect(vsc_forwarder *f, const char *what, int err)
{
	close(f->fd);
	f->fd = -1;
	set_connected(f, false);
	f->out_off = 0; /* the line is resent whole on the next connection */
	schedule_reconnect(f, what, err);
}

static void try_connect(vsc_forwarder *f)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(f->socket_path) >= sizeof(sa.sun_path)) {
		schedule_reconnect(f, "socket path too long", ENAMETOOLONG);
		return;
	}
	strcpy(sa.sun_path, f->socket_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		schedule_reconnect(f, "socket", errno);
		return;
	}
	/* A Unix stream connect completes at once or fails (EAGAIN: backlog full). */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = errno;

		close(fd);
		pthread_mutex_lock(&f->lock);
		f->stats.failures++;
		pthread_mutex_unlock(&f->lock);
		schedule_reconnect(f, "connect", err);
		return;
	}
	f->fd = fd;
	vs_backoff_reset(&f->backoff);
	if (f->warned_down)
		vs_notice("actuator %s: connected", f->socket_path);
	f->warned_down = false;
	set_connected(f, true);
}

/* Takes the next line to write, if none is being written. */
static void take_next_line(vsc_forwarder *f)
{
	if (f->out)
		return;
	pthread_mutex_lock(&f->lock);
	f->out = g_queue_pop_head(&f->queue);
	pthread_mutex_unlock(&f->lock);
	if (f->out) {
		f->out_len = strlen(f->out);
		f->out_off = 0;
	}
}

/* Writes as much of the current line as the socket takes now. */
static void write_some(vsc_forwarder *f)
{
	while (f->out && f->fd >= 0) {
		ssize_t n = send(f->fd, f->out + f->out_off, f->out_len - f->out_off,
		                 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				disconnect(f, "write", errno);
			return;
		}
		f->out_off += (size_t)n;
		if (f->out_off == f->out_len) {
			g_clear_pointer(&f->out, g_free);
			pthread_mutex_lock(&f->lock);
			f->stats.sent++;
			pthread_mutex_unlock(&f->lock);
			take_next_line(f);
		}
	}
}

/* Reads and discards what the actuator says; notices when it hangs up. */
static void drain_input(vsc_forwarder *f)
{
	char buf[4096];

	for (;;) {
		ssize_t n = recv(f->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n > 0)
			continue;
		if (n == 0) {
			disconnect(f, "connection closed by the actuator", ECONNRESET);
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			disconnect(f, "read", errno);
		return;
	}
}

static bool stop_requested(vsc_forwarder *f)
{
	bool stop;

	pthread_mutex_lock(&f->lock);
	stop = f->stop;
	pthread_mutex_unlock(&f->lock);
	return stop;
}

/**
 * vsc_forwarder_run:
 * @forwarder: the vsc_forwarder
 *
 * The worker: connects, writes queued lines, reconnects with exponential
 * backoff (100 ms to 10 s). Returns NULL after vsc_forwarder_stop().
 */
void *vsc_forwarder_run(void *forwarder)
{
	vsc_forwarder *f = forwarder;

	vs_backoff_init(&f->backoff, BACKOFF_FIRST_MS, BACKOFF_MAX_MS);
	while (!stop_requested(f)) {
		struct pollfd pfd[2] = {{.fd = f->wake_fd, .events = POLLIN}};
		int nfds = 1, timeout = -1;

		if (f->fd < 0 && vs_backoff_ready(&f->backoff, now_ms()))
			try_connect(f);
		take_next_line(f);
		if (f->fd >= 0)
			write_some(f);
		if (f->fd >= 0) {
			pfd[1].fd = f->fd;
			pfd[1].events = POLLIN | (f->out ? POLLOUT : 0);
			nfds = 2;
		} else {
			timeout = (int)vs_backoff_remaining(&f->backoff, now_ms());
		}
		if (poll(pfd, nfds, timeout) < 0 && errno != EINTR) {
			vs_error("actuator forwarder: poll: %s", g_strerror(errno));
			g_usleep(100000);
			continue;
		}
		if (pfd[0].revents & POLLIN) {
			uint64_t v;

			if (read(f->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				vs_warning("actuator forwarder: eventfd: %s", g_strerror(errno));
		}
		if (nfds == 2 && f->fd >= 0 && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)))
			drain_input(f);
	}
	return NULL;
}

/**
 * vsc_forwarder_stop:
 * @f: the forwarder
 *
 * Makes vsc_forwarder_run() return; lines still queued are discarded by
 * vsc_forwarder_free().
 */
void vsc_forwarder_stop(vsc_forwarder *f)
{
	pthread_mutex_lock(&f->lock);
	f->stop = true;
	pthread_mutex_unlock(&f->lock);
	wake(f);
}

/**
 * vsc_forwarder_free:
 * @f: the forwarder, its worker finished (or never started)
 */
void vsc_forwarder_free(vsc_forwarder *f)
{
	if (!f)
		return;
	if (f->fd >= 0)
		close(f->fd);
	close(f->wake_fd);
	g_free(f->out);
	g_queue_clear_full(&f->queue, g_free);
	pthread_mutex_destroy(&f->lock);
	g_free(f->socket_path);
	g_free(f);
}
