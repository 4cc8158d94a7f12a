/*
 * vsc-forward.c - the actuator forwarder (see vsc-forward.h).
 *
 * One worker thread owns the socket. It sleeps in poll() on an eventfd (new
 * lines, stop) and the socket (writable, readable, peer closed), so it
 * neither spins nor blocks on a stalled actuator: a line is written as far
 * as the socket takes it, the rest when it becomes writable again.
 *
 * The actuator answers every line (docs/notification-protocol.md): one line
 * is in flight at a time, and it leaves the forwarder's hands only with its
 * answer. A line cut by a broken connection, or not answered within
 * ACK_TIMEOUT_MS, or answered "retry" (the actuator had no free slot) is
 * sent again whole on the next connection (notifications are
 * level-triggered, so a duplicate is harmless); a line answered with an
 * error is counted, logged and dropped. A connection the actuator closes
 * while nothing is in flight (its idle timeout) is opened again when there
 * is something to send.
 */
#include "vsc-forward.h"

#include "vs-backoff.h"
#include "vs-log.h"
#include "vs-validate.h"

#include <json-glib/json-glib.h>
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
#define ACK_TIMEOUT_MS   10000
#define MAX_REPLY        65536 /* a reply line longer than this is not the actuator's */

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
	char *out; /* the line in flight (written or being written), owned */
	size_t out_len, out_off;
	bool awaiting;      /* out written whole: waiting for its answer */
	int64_t ack_due_ms; /* when an answer is overdue */
	GString *in;        /* the actuator's answers, as read */
	bool idle;          /* the actuator closed a connection that had nothing in flight */
	vs_backoff backoff; /* between connection attempts */
	bool warned_down;
	unsigned warned_refused; /* refused lines logged (a few, then one in 100) */
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
	f->in = g_string_new(NULL);
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

static void close_socket(vsc_forwarder *f)
{
	close(f->fd);
	f->fd = -1;
	f->out_off = 0; /* the line in flight is sent again whole */
	f->awaiting = false;
	g_string_truncate(f->in, 0);
}

static void disconnect(vsc_forwarder *f, const char *what, int err)
{
	close_socket(f);
	set_connected(f, false);
	schedule_reconnect(f, what, err);
}

static bool have_lines(vsc_forwarder *f)
{
	bool any;

	pthread_mutex_lock(&f->lock);
	any = f->queue.length > 0;
	pthread_mutex_unlock(&f->lock);
	return any;
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
	f->idle = false;
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

/* Writes as much of the line in flight as the socket takes now; once it is
 * all out, its answer is awaited. */
static void write_some(vsc_forwarder *f)
{
	while (f->out && !f->awaiting && f->fd >= 0) {
		ssize_t n = send(f->fd, f->out + f->out_off, f->out_len - f->out_off,
		                 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* a refused connection is closed under our write: read why first */
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EPIPE)
				disconnect(f, "write", errno);
			return;
		}
		f->out_off += (size_t)n;
		if (f->out_off == f->out_len) {
			f->awaiting = true;
			f->ack_due_ms = now_ms() + ACK_TIMEOUT_MS;
		}
	}
}

/* The line in flight leaves our hands: acknowledged or refused. */
static void line_done(vsc_forwarder *f, bool acknowledged)
{
	g_clear_pointer(&f->out, g_free);
	f->awaiting = false;
	pthread_mutex_lock(&f->lock);
	if (acknowledged)
		f->stats.sent++;
	else
		f->stats.refused++;
	pthread_mutex_unlock(&f->lock);
}

/* One answer of the actuator to the line in flight. */
static void handle_answer(vsc_forwarder *f, const char *line)
{
	g_autoptr(JsonParser) p = json_parser_new();
	JsonObject *o;

	if (!f->awaiting)
		return; /* nothing asked: not ours to act on */
	if (!json_parser_load_from_data(p, line, -1, NULL) ||
	    !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p))) {
		disconnect(f, "unreadable answer", EPROTO);
		return;
	}
	o = json_node_get_object(json_parser_get_root(p));
	if (json_object_get_boolean_member_with_default(o, "ok", FALSE)) {
		line_done(f, true);
		return;
	}
	const char *error = json_object_get_string_member_with_default(o, "error", "refused");
	if (json_object_get_boolean_member_with_default(o, "retry", FALSE)) {
		char safe[200];

		vs_sanitize_line(error, safe, sizeof(safe));
		disconnect(f, safe, EAGAIN); /* the line stays ours, sent again */
		return;
	}
	/* a line of ours the actuator will never take: sending it again is no use */
	if (f->warned_refused < 10 || f->warned_refused % 100 == 0) {
		char safe[200];

		vs_sanitize_line(error, safe, sizeof(safe));
		vs_warning("actuator %s refused a notification: %s", f->socket_path, safe);
	}
	f->warned_refused++;
	line_done(f, false);
}

/* Reads the actuator's answers; notices when it hangs up. */
static void read_answers(vsc_forwarder *f)
{
	char buf[4096];

	while (f->fd >= 0) {
		ssize_t n = recv(f->fd, buf, sizeof(buf), MSG_DONTWAIT);
		char *nl;

		if (n > 0) {
			g_string_append_len(f->in, buf, n);
			while (f->fd >= 0 && (nl = memchr(f->in->str, '\n', f->in->len))) {
				*nl = '\0';
				handle_answer(f, f->in->str);
				if (f->fd >= 0)
					g_string_erase(f->in, 0, nl - f->in->str + 1);
			}
			if (f->fd >= 0 && f->in->len > MAX_REPLY)
				disconnect(f, "answer too long", EPROTO);
			continue;
		}
		if (n == 0) {
			if (f->out) {
				disconnect(f, "connection closed by the actuator", ECONNRESET);
			} else {
				/* its idle timeout: open again when there is something to send */
				close_socket(f);
				pthread_mutex_lock(&f->lock);
				f->stats.connected = false;
				pthread_mutex_unlock(&f->lock);
				f->idle = true;
			}
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
		bool want = !f->idle || f->out || have_lines(f);

		if (f->fd < 0 && want && vs_backoff_ready(&f->backoff, now_ms()))
			try_connect(f);
		take_next_line(f);
		if (f->fd >= 0)
			write_some(f);
		if (f->fd >= 0 && f->awaiting && now_ms() >= f->ack_due_ms)
			disconnect(f, "no answer in time", ETIMEDOUT);
		if (f->fd >= 0) {
			pfd[1].fd = f->fd;
			pfd[1].events = POLLIN | (f->out && !f->awaiting ? POLLOUT : 0);
			nfds = 2;
			if (f->awaiting)
				timeout = (int)MAX(f->ack_due_ms - now_ms(), 0);
		} else if (want) {
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
			read_answers(f);
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
	g_string_free(f->in, TRUE);
	g_queue_clear_full(&f->queue, g_free);
	pthread_mutex_destroy(&f->lock);
	g_free(f->socket_path);
	g_free(f);
}
