/*
 * intake.c - the actuator's Unix socket: one JSON object per line
 * (docs/notification-protocol.md). Non-blocking on the event loop: lines
 * are framed per connection, a line longer than the cap is discarded up to
 * its newline, invalid UTF-8 and invalid JSON are counted and logged - and
 * the connection is kept, so one bad sender line never costs a good one.
 * Replies (status, scale) are queued and written when the socket is
 * writable; a client that never reads loses its replies, not the daemon.
 */
#include "config.h"

#include "act-error.h"
#include "intake.h"
#include "vs-log.h"
#include "vs-validate.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <grp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_CLIENTS        256
#define MAX_PENDING_OUTPUT (1024 * 1024)

typedef struct vs_client {
	vs_intake *in;
	int fd;
	guint watch;
	GString *buf;
	bool discarding; /* inside an oversized line */
	GString *out;
	unsigned id;
} vs_client;

struct vs_intake {
	const vs_config *cfg;
	vs_intake_handler handler;
	void *opaque;
	int fd;
	guint watch;
	char *path;
	size_t cap;
	GHashTable *clients; /* vs_client* set */
	vs_intake_stats stats;
	unsigned next_id;
};

static void client_free(vs_client *c)
{
	if (c->watch)
		g_source_remove(c->watch);
	close(c->fd);
	g_string_free(c->buf, TRUE);
	g_string_free(c->out, TRUE);
	g_free(c);
}

static gboolean client_io(gint fd, GIOCondition cond, gpointer data);

static void client_rewatch(vs_client *c)
{
	if (c->watch)
		g_source_remove(c->watch);
	GIOCondition cond = G_IO_IN | G_IO_HUP | G_IO_ERR;
	if (c->out->len)
		cond |= G_IO_OUT;
	c->watch = g_unix_fd_add(c->fd, cond, client_io, c);
}

static void client_reply(vs_client *c, const char *line)
{
	if (c->out->len + strlen(line) + 1 > MAX_PENDING_OUTPUT) {
		vs_warning("intake: client %u does not read its replies; dropping one", c->id);
		return;
	}
	g_string_append(c->out, line);
	g_string_append_c(c->out, '\n');
}

static void handle_line(vs_client *c, const char *line, size_t len)
{
	vs_intake *in = c->in;
	in->stats.lines++;
	if (len == 0)
		return;
	if (!g_utf8_validate(line, (gssize)len, NULL)) {
		in->stats.invalid_utf8++;
		vs_warning("intake: client %u: line of %zu bytes is not valid UTF-8; ignored",
		           c->id, len);
		return;
	}
	vs_notification n;
	g_autoptr(GError) err = NULL;
	if (!vs_notification_parse(line, len, &n, &err)) {
		in->stats.malformed++;
		char safe[200];
		vs_sanitize_line(err ? err->message : "?", safe, sizeof(safe));
		vs_warning("intake: client %u: malformed notification: %s", c->id, safe);
		return;
	}
	if ((n.type == VS_NOTIFY_POOL || n.type == VS_NOTIFY_SCALE ||
	     (n.type == VS_NOTIFY_THRESHOLD && n.pool[0])) &&
	    !vs_config_find_pool(in->cfg, n.pool)) {
		in->stats.unknown_pool++;
		vs_warning("intake: client %u: unknown pool '%s'; ignored", c->id, n.pool);
		if (n.type == VS_NOTIFY_SCALE) {
			g_autofree char *r =
			    g_strdup_printf("{\"v\":1,\"ok\":false,\"error\":\"unknown pool\"}");
			client_reply(c, r);
		}
		return;
	}
	if (n.type == VS_NOTIFY_STATUS)
		in->stats.status_requests++;
	else if (n.type == VS_NOTIFY_SCALE)
		in->stats.scale_requests++;
	in->stats.accepted++;
	g_autofree char *reply = in->handler(&n, in->opaque);
	if (reply)
		client_reply(c, reply);
}

/* Splits what was read into lines; keeps the partial tail. */
static void frame_lines(vs_client *c, const char *data, size_t len)
{
	vs_intake *in = c->in;
	while (len) {
		const char *nl = memchr(data, '\n', len);
		size_t chunk = nl ? (size_t)(nl - data) : len;
		if (c->discarding) {
			if (nl)
				c->discarding = false;
		} else if (c->buf->len + chunk > in->cap) {
			in->stats.oversized++;
			in->stats.lines++;
			vs_warning("intake: client %u: line longer than %zu bytes; discarded",
			           c->id, in->cap);
			g_string_truncate(c->buf, 0);
			c->discarding = !nl;
		} else {
			g_string_append_len(c->buf, data, (gssize)chunk);
			if (nl) {
				size_t l = c->buf->len;
				if (l && c->buf->str[l - 1] == '\r')
					l--;
				/* a NUL inside the line is not JSON text */
				if (memchr(c->buf->str, '\0', l)) {
					in->stats.lines++;
					in->stats.malformed++;
					vs_warning("intake: client %u: NUL byte in a line; ignored",
					           c->id);
				} else {
					handle_line(c, c->buf->str, l);
				}
				g_string_truncate(c->buf, 0);
			}
		}
		if (!nl)
			break;
		len -= chunk + 1;
		data = nl + 1;
	}
}

static gboolean client_io(gint fd, GIOCondition cond, gpointer data)
{
	vs_client *c = data;
	vs_intake *in = c->in;
	if (cond & G_IO_OUT && c->out->len) {
		ssize_t w = send(fd, c->out->str, c->out->len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0)
			g_string_erase(c->out, 0, w);
		else if (w < 0 && errno != EAGAIN && errno != EINTR)
			goto close;
	}
	if (cond & (G_IO_IN | G_IO_HUP | G_IO_ERR)) {
		char buf[8192];
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			/* a final line without a newline still counts */
			if (c->buf->len && !c->discarding)
				frame_lines(c, "\n", 1);
			if (c->out->len)
				(void)send(fd, c->out->str, c->out->len,
				           MSG_NOSIGNAL | MSG_DONTWAIT);
			goto close;
		}
		if (n > 0)
			frame_lines(c, buf, (size_t)n);
	}
	/* the watch's condition set changes when output appears or drains */
	bool want_out = c->out->len > 0;
	c->watch = 0;
	GIOCondition conds = G_IO_IN | G_IO_HUP | G_IO_ERR | (want_out ? G_IO_OUT : 0);
	c->watch = g_unix_fd_add(fd, conds, client_io, c);
	return G_SOURCE_REMOVE;
close:
	c->watch = 0;
	g_hash_table_remove(in->clients, c);
	return G_SOURCE_REMOVE;
}

static gboolean accept_io(gint fd, GIOCondition cond, gpointer data)
{
	vs_intake *in = data;
	int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return G_SOURCE_CONTINUE;
	if (g_hash_table_size(in->clients) >= MAX_CLIENTS) {
		vs_warning("intake: %d clients connected; refusing another", MAX_CLIENTS);
		close(cfd);
		return G_SOURCE_CONTINUE;
	}
	vs_client *c = g_new0(vs_client, 1);
	c->in = in;
	c->fd = cfd;
	c->id = ++in->next_id;
	c->buf = g_string_new(NULL);
	c->out = g_string_new(NULL);
	in->stats.connections++;
	g_hash_table_add(in->clients, c);
	client_rewatch(c);
	return G_SOURCE_CONTINUE;
}

/* A socket file left by a previous run is removed only when nothing
 * answers on it: two daemons on one socket would both act. */
static bool remove_stale_socket(const char *path, GError **error)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return true;
	if (!S_ISSOCK(st.st_mode)) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_IO, "%s exists and is not a socket",
		            path);
		return false;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
	bool live = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	if (fd >= 0)
		close(fd);
	if (live) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_BUSY,
		            "%s: another virtscaled is running", path);
		return false;
	}
	unlink(path);
	return true;
}

/**
 * vs_intake_new: listens on the configured socket (mode 0660, group
 * socket_group when that group exists) and dispatches valid notifications
 * to @fn on the default main context.
 */
vs_intake *vs_intake_new(const vs_config *cfg, vs_intake_handler fn, void *opaque, GError **error)
{
	const char *path = cfg->actuator_socket;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (!path || strlen(path) >= sizeof(sa.sun_path)) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_INVALID,
		            "socket path missing or too long");
		return NULL;
	}
	g_autofree char *dir = g_path_get_dirname(path);
	if (g_mkdir_with_parents(dir, 0755) != 0) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_IO, "%s: %s", dir, g_strerror(errno));
		return NULL;
	}
	if (!remove_stale_socket(path, error))
		return NULL;
	g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	mode_t old = umask(0117);
	int rc = fd < 0 ? -1 : bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc != 0 || listen(fd, 64) != 0) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_IO, "%s: %s", path,
		            g_strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	chmod(path, 0660);
	struct group *gr = cfg->socket_group ? getgrnam(cfg->socket_group) : NULL;
	if (gr && chown(path, 0, gr->gr_gid) != 0)
		vs_warning("%s: chown to group %s: %s", path, cfg->socket_group, g_strerror(errno));
	vs_intake *in = g_new0(vs_intake, 1);
	in->cfg = cfg;
	in->handler = fn;
	in->opaque = opaque;
	in->fd = fd;
	in->path = g_strdup(path);
	in->cap = cfg->max_line ? cfg->max_line : VS_NOTIFY_MAX_LINE;
	in->clients =
	    g_hash_table_new_full(g_direct_hash, g_direct_equal, (GDestroyNotify)client_free, NULL);
	in->watch = g_unix_fd_add(fd, G_IO_IN, accept_io, in);
	return in;
}

/** vs_intake_free: closes every connection and removes the socket. */
void vs_intake_free(vs_intake *in)
{
	if (!in)
		return;
	g_source_remove(in->watch);
	g_hash_table_destroy(in->clients);
	close(in->fd);
	unlink(in->path);
	g_free(in->path);
	g_free(in);
}

/** vs_intake_get_stats: the intake counters. */
const vs_intake_stats *vs_intake_get_stats(const vs_intake *in)
{
	return &in->stats;
}
