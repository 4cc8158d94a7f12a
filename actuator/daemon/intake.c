/*
 * intake.c - the actuator's Unix socket: one JSON object per line
 * (docs/notification-protocol.md). Non-blocking on the event loop: lines
 * are framed per connection, a line longer than the cap is discarded up to
 * its newline, invalid UTF-8 and invalid JSON are counted and answered -
 * and the connection is kept, so one bad sender line never costs a good
 * one. Every line gets one reply line, in order, so a sender knows what
 * became of it. Replies are queued and written when the socket is
 * writable; a client that does not read them is no longer read from once
 * MAX_PENDING_OUTPUT is queued (it waits, the daemon does not), and is
 * disconnected when it has been silent for idle_timeout.
 *
 * Each client is known by the kernel's credentials of its peer, logged with
 * every warning about it. Warnings a client can cause are bounded
 * (warn-limit.h): a flood of bad lines is counted in full and logged in a
 * few lines.
 */
#include "config.h"

#include "act-error.h"
#include "intake-access.h"
#include "intake.h"
#include "vs-log.h"
#include "vs-validate.h"
#include "warn-limit.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <grp.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_CLIENTS        256
#define MAX_PENDING_OUTPUT (1024 * 1024)
/* a client silent this long may be closed to make room for a new one */
#define EVICT_MIN_IDLE_US (1 * G_USEC_PER_SEC)
/* out of descriptors: accept() is not tried again before this */
#define ACCEPT_PAUSE_MS 1000
#define SWEEP_MS        1000
/* warnings a sender can cause: this many per window, the rest counted */
#define WARN_BURST     10
#define WARN_WINDOW_US (10 * G_USEC_PER_SEC)

#define REPLY_OK "{\"v\":1,\"ok\":true}"

typedef struct vs_client {
	vs_intake *in;
	int fd;
	guint watch;
	GString *buf;
	bool discarding; /* inside an oversized line */
	bool eof;        /* the peer sent all it will: close once replies are out */
	GString *out;
	unsigned id;
	vs_peer peer;
	int64_t last_active; /* monotonic: last byte read or written */
} vs_client;

struct vs_intake {
	const vs_config *cfg;
	vs_intake_handler handler;
	void *opaque;
	int fd;
	guint watch;        /* accept; 0 while paused */
	guint accept_pause; /* timeout that resumes accepting */
	guint sweep;
	char *path;
	size_t cap;
	GHashTable *clients; /* vs_client* set */
	vs_intake_stats stats;
	unsigned next_id;
	GArray *allow_uids, *allow_gids; /* NULL: none */
	int64_t idle_timeout_us;
	vs_warn_limit warn_lines; /* bad lines */
	vs_warn_limit warn_peers; /* refused and evicted connections, accept errors */
};

/* A warning a client can cause: logged within the bound, always counted. */
#define limited_warning(in, limit, ...)                                                            \
	do {                                                                                       \
		if (vs_warn_limit_allow(&(in)->limit, g_get_monotonic_time()))                     \
			vs_warning(__VA_ARGS__);                                                   \
		else                                                                               \
			(in)->stats.warnings_suppressed++;                                         \
	} while (0)

static const char *who(const vs_client *c, char *buf, size_t size)
{
	char cred[96];

	g_snprintf(buf, size, "client %u (%s)", c->id,
	           vs_peer_describe(&c->peer, cred, sizeof(cred)));
	return buf;
}

static void client_free(vs_client *c)
{
	if (c->watch)
		g_source_remove(c->watch);
	close(c->fd);
	g_string_free(c->buf, TRUE);
	g_string_free(c->out, TRUE);
	g_free(c);
}

static void client_close(vs_client *c)
{
	g_hash_table_remove(c->in->clients, c);
}

static gboolean client_io(gint fd, GIOCondition cond, gpointer data);

/* Reads while the replies waiting are below the bound and the peer has not
 * finished; writes while replies wait. */
static void client_rewatch(vs_client *c)
{
	GIOCondition cond = G_IO_HUP | G_IO_ERR;

	if (!c->eof && c->out->len < MAX_PENDING_OUTPUT)
		cond |= G_IO_IN;
	if (c->out->len)
		cond |= G_IO_OUT;
	if (c->watch)
		g_source_remove(c->watch);
	c->watch = g_unix_fd_add(c->fd, cond, client_io, c);
}

static void client_reply(vs_client *c, const char *line)
{
	g_string_append(c->out, line);
	g_string_append_c(c->out, '\n');
}

/* {"v":1,"ok":false,"error":@msg}: @msg never holds what the sender sent
 * (the parser's messages name members and rules only). */
static char *error_reply(const char *msg, bool retry)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autoptr(JsonGenerator) gen = json_generator_new();
	g_autoptr(JsonNode) root = NULL;
	char safe[256];

	vs_sanitize_line(msg, safe, sizeof(safe));
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "v");
	json_builder_add_int_value(b, 1);
	json_builder_set_member_name(b, "ok");
	json_builder_add_boolean_value(b, FALSE);
	json_builder_set_member_name(b, "error");
	json_builder_add_string_value(b, safe);
	if (retry) {
		json_builder_set_member_name(b, "retry");
		json_builder_add_boolean_value(b, TRUE);
	}
	json_builder_end_object(b);
	root = json_builder_get_root(b);
	json_generator_set_root(gen, root);
	return json_generator_to_data(gen, NULL);
}

static void client_refuse_line(vs_client *c, const char *msg)
{
	g_autofree char *r = error_reply(msg, false);

	client_reply(c, r);
}

static void handle_line(vs_client *c, const char *line, size_t len)
{
	vs_intake *in = c->in;
	char w[160];

	in->stats.lines++;
	if (len == 0)
		return;
	if (!g_utf8_validate(line, (gssize)len, NULL)) {
		in->stats.invalid_utf8++;
		limited_warning(in, warn_lines,
		                "intake: %s: line of %zu bytes is not valid UTF-8; ignored",
		                who(c, w, sizeof(w)), len);
		client_refuse_line(c, "invalid UTF-8");
		return;
	}
	vs_notification n;
	g_autoptr(GError) err = NULL;
	if (!vs_notification_parse(line, len, &n, &err)) {
		char safe[200];

		in->stats.malformed++;
		vs_sanitize_line(err ? err->message : "?", safe, sizeof(safe));
		limited_warning(in, warn_lines, "intake: %s: malformed notification: %s",
		                who(c, w, sizeof(w)), safe);
		client_refuse_line(c, safe);
		return;
	}
	if ((n.type == VS_NOTIFY_POOL || n.type == VS_NOTIFY_SCALE ||
	     (n.type == VS_NOTIFY_THRESHOLD && n.pool[0])) &&
	    !vs_config_find_pool(in->cfg, n.pool)) {
		in->stats.unknown_pool++;
		limited_warning(in, warn_lines, "intake: %s: unknown pool '%s'; ignored",
		                who(c, w, sizeof(w)), n.pool);
		client_refuse_line(c, "unknown pool");
		return;
	}
	if (n.type == VS_NOTIFY_STATUS) {
		in->stats.status_requests++;
	} else if (n.type == VS_NOTIFY_SCALE) {
		/* a person's order: who gave it is worth a line */
		in->stats.scale_requests++;
		if (n.desired == VS_NOTIFY_DESIRED_AUTO)
			vs_notice("intake: %s: scale %s to auto (manual target cleared)",
			          who(c, w, sizeof(w)), n.pool);
		else
			vs_notice("intake: %s: scale %s to %d", who(c, w, sizeof(w)), n.pool,
			          n.desired);
	} else if (n.type == VS_NOTIFY_MIGRATE) {
		vs_notice("intake: %s: migrate %s to %s", who(c, w, sizeof(w)), n.domain, n.to);
	}
	in->stats.accepted++;
	g_autofree char *reply = in->handler(&n, in->opaque);
	client_reply(c, reply ? reply : REPLY_OK);
}

static void oversized_line(vs_client *c)
{
	vs_intake *in = c->in;
	char w[160];

	in->stats.oversized++;
	in->stats.lines++;
	limited_warning(in, warn_lines, "intake: %s: line longer than %zu bytes; discarded",
	                who(c, w, sizeof(w)), in->cap);
	client_refuse_line(c, "line too long");
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
			oversized_line(c);
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
					char w[160];

					in->stats.lines++;
					in->stats.malformed++;
					limited_warning(in, warn_lines,
					                "intake: %s: NUL byte in a line; ignored",
					                who(c, w, sizeof(w)));
					client_refuse_line(c, "NUL byte in line");
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

	if (cond & G_IO_OUT && c->out->len) {
		ssize_t w = send(fd, c->out->str, c->out->len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w > 0) {
			g_string_erase(c->out, 0, w);
			c->last_active = g_get_monotonic_time();
		} else if (w < 0 && errno != EAGAIN && errno != EINTR) {
			goto close;
		}
	}
	if (!c->eof && c->out->len < MAX_PENDING_OUTPUT &&
	    (cond & (G_IO_IN | G_IO_HUP | G_IO_ERR))) {
		char buf[8192];
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n > 0) {
			c->last_active = g_get_monotonic_time();
			frame_lines(c, buf, (size_t)n);
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			/* a final line without a newline still counts */
			if (c->buf->len && !c->discarding)
				frame_lines(c, "\n", 1);
			c->eof = true;
			if (n < 0)
				goto close;
		}
	} else if (cond & (G_IO_HUP | G_IO_ERR)) {
		goto close; /* gone while we were not reading */
	}
	/* the peer is done and has its replies (or cannot take them) */
	if (c->eof && (!c->out->len || (cond & G_IO_HUP)))
		goto close;
	c->watch = 0;
	client_rewatch(c);
	return G_SOURCE_REMOVE;
close:
	c->watch = 0;
	client_close(c);
	return G_SOURCE_REMOVE;
}

/* One line to a connection we are about to close, then close it. */
static void refuse_connection(int fd, const char *msg, bool retry)
{
	g_autofree char *r = error_reply(msg, retry);
	g_autofree char *line = g_strconcat(r, "\n", NULL);

	(void)send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
}

static vs_client *idlest_client(vs_intake *in)
{
	GHashTableIter it;
	gpointer key;
	vs_client *best = NULL;

	g_hash_table_iter_init(&it, in->clients);
	while (g_hash_table_iter_next(&it, &key, NULL)) {
		vs_client *c = key;

		if (!best || c->last_active < best->last_active)
			best = c;
	}
	return best;
}

/* Every slot is taken: the client silent the longest makes room, unless
 * even it spoke within EVICT_MIN_IDLE_US (then the newcomer is refused). */
static bool make_room(vs_intake *in)
{
	vs_client *idle = idlest_client(in);
	int64_t now = g_get_monotonic_time();
	char w[160];

	if (!idle || now - idle->last_active < EVICT_MIN_IDLE_US)
		return false;
	in->stats.evicted++;
	limited_warning(in, warn_peers,
	                "intake: %d clients connected; closed %s, silent for %.0f s, to make room",
	                MAX_CLIENTS, who(idle, w, sizeof(w)),
	                (double)(now - idle->last_active) / G_USEC_PER_SEC);
	client_close(idle);
	return true;
}

static gboolean accept_io(gint fd, GIOCondition cond, gpointer data);

static gboolean resume_accept(gpointer data)
{
	vs_intake *in = data;

	in->accept_pause = 0;
	in->watch = g_unix_fd_add(in->fd, G_IO_IN, accept_io, in);
	return G_SOURCE_REMOVE;
}

/* accept() cannot go on (out of descriptors, of memory): the connection
 * stays in the backlog, and the socket is not watched for a while - a
 * level-triggered watch would call us again at once, forever. */
static void pause_accept(vs_intake *in, int err)
{
	in->stats.accept_errors++;
	limited_warning(in, warn_peers, "intake: accept: %s; not accepting for %d ms",
	                g_strerror(err), ACCEPT_PAUSE_MS);
	if (in->watch) {
		g_source_remove(in->watch);
		in->watch = 0;
	}
	if (!in->accept_pause)
		in->accept_pause = g_timeout_add(ACCEPT_PAUSE_MS, resume_accept, in);
}

static void accept_one(vs_intake *in, int cfd)
{
	vs_client *c;
	vs_peer peer;
	char w[160];

	vs_peer_read(cfd, &peer);
	if (!vs_peer_allowed(&peer, in->allow_uids, in->allow_gids, geteuid())) {
		char cred[96];

		in->stats.refused_peers++;
		limited_warning(in, warn_peers,
		                "intake: peer (%s) is not in allow_uids or allow_gids; refused",
		                vs_peer_describe(&peer, cred, sizeof(cred)));
		refuse_connection(cfd, "not allowed", false);
		return;
	}
	if (g_hash_table_size(in->clients) >= MAX_CLIENTS && !make_room(in)) {
		char cred[96];

		in->stats.refused_busy++;
		limited_warning(in, warn_peers, "intake: %d clients connected; refused peer (%s)",
		                MAX_CLIENTS, vs_peer_describe(&peer, cred, sizeof(cred)));
		refuse_connection(cfd, "busy: too many clients", true);
		return;
	}
	c = g_new0(vs_client, 1);
	c->in = in;
	c->fd = cfd;
	c->id = ++in->next_id;
	c->buf = g_string_new(NULL);
	c->out = g_string_new(NULL);
	c->last_active = g_get_monotonic_time();
	c->peer = peer;
	in->stats.connections++;
	vs_debug("intake: %s connected", who(c, w, sizeof(w)));
	g_hash_table_add(in->clients, c);
	client_rewatch(c);
}

static gboolean accept_io(gint fd, GIOCondition cond, gpointer data)
{
	vs_intake *in = data;

	/* a few per wake-up: a burst of connections is taken in one go */
	for (int i = 0; i < 16; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (cfd >= 0) {
			accept_one(in, cfd);
			continue;
		}
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			pause_accept(in, errno);
			return G_SOURCE_REMOVE;
		}
		break; /* EAGAIN, or a connection that went away before accept */
	}
	return G_SOURCE_CONTINUE;
}

static void summarize(vs_intake *in, vs_warn_limit *l, const char *what, int64_t now)
{
	uint64_t n = vs_warn_limit_summary(l, now);

	if (n)
		vs_warning("intake: %" G_GUINT64_FORMAT " more warnings about %s suppressed in the "
		           "last %d s (see the status counters)",
		           n, what, (int)(l->window_us / G_USEC_PER_SEC));
}

/* Once a second: clients silent for idle_timeout go, and suppressed
 * warnings are summed up. */
static gboolean sweep(gpointer data)
{
	vs_intake *in = data;
	int64_t now = g_get_monotonic_time();
	GHashTableIter it;
	gpointer key;
	char w[160];

	g_hash_table_iter_init(&it, in->clients);
	while (g_hash_table_iter_next(&it, &key, NULL)) {
		vs_client *c = key;

		if (now - c->last_active < in->idle_timeout_us)
			continue;
		in->stats.idle_closed++;
		vs_debug("intake: %s silent for %" G_GINT64_FORMAT " s; disconnected",
		         who(c, w, sizeof(w)), (now - c->last_active) / G_USEC_PER_SEC);
		g_hash_table_iter_remove(&it);
	}
	summarize(in, &in->warn_lines, "bad lines", now);
	summarize(in, &in->warn_peers, "connections", now);
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

static GArray *copy_ids(const GArray *ids)
{
	GArray *c;

	if (!ids || !ids->len)
		return NULL;
	c = g_array_sized_new(FALSE, FALSE, sizeof(guint32), ids->len);
	g_array_append_vals(c, ids->data, ids->len);
	return c;
}

/** vs_intake_reconfigure: see intake.h. */
void vs_intake_reconfigure(vs_intake *in, const vs_config *cfg)
{
	if (in->allow_uids)
		g_array_unref(in->allow_uids);
	if (in->allow_gids)
		g_array_unref(in->allow_gids);
	in->allow_uids = copy_ids(cfg->allow_uids);
	in->allow_gids = copy_ids(cfg->allow_gids);
	in->idle_timeout_us =
	    (int64_t)(cfg->idle_timeout ? cfg->idle_timeout : 60) * G_USEC_PER_SEC;
}

/**
 * vs_intake_new: listens on the configured socket (mode 0660, group
 * socket_group, which must exist: see vs_intake_check_setup()) and
 * dispatches valid notifications to @fn on the default main context.
 */
vs_intake *vs_intake_new(const vs_config *cfg, vs_intake_handler fn, void *opaque, GError **error)
{
	const char *path = cfg->actuator_socket;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct group *gr;

	if (!path || strlen(path) >= sizeof(sa.sun_path)) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_INVALID,
		            "socket path missing or too long");
		return NULL;
	}
	if (!vs_intake_check_setup(cfg, true, error) || !remove_stale_socket(path, error))
		return NULL;
	gr = getgrnam(cfg->socket_group);
	if (!gr) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_INVALID, "no group '%s'",
		            cfg->socket_group);
		return NULL;
	}
	g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	mode_t old = umask(0117);
	int rc = fd < 0 ? -1 : bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc != 0 || listen(fd, 64) != 0 || chmod(path, 0660) != 0 ||
	    chown(path, (uid_t)-1, gr->gr_gid) != 0) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_IO, "%s: %s", path,
		            g_strerror(errno));
		if (rc == 0)
			unlink(path);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	vs_intake *in = g_new0(vs_intake, 1);
	in->cfg = cfg;
	in->handler = fn;
	in->opaque = opaque;
	in->fd = fd;
	in->path = g_strdup(path);
	in->cap = cfg->max_line ? cfg->max_line : VS_NOTIFY_MAX_LINE;
	in->clients =
	    g_hash_table_new_full(g_direct_hash, g_direct_equal, (GDestroyNotify)client_free, NULL);
	vs_intake_reconfigure(in, cfg);
	vs_warn_limit_init(&in->warn_lines, WARN_BURST, WARN_WINDOW_US);
	vs_warn_limit_init(&in->warn_peers, WARN_BURST, WARN_WINDOW_US);
	in->watch = g_unix_fd_add(fd, G_IO_IN, accept_io, in);
	in->sweep = g_timeout_add(SWEEP_MS, sweep, in);
	return in;
}

/** vs_intake_free: closes every connection and removes the socket. */
void vs_intake_free(vs_intake *in)
{
	if (!in)
		return;
	if (in->watch)
		g_source_remove(in->watch);
	if (in->accept_pause)
		g_source_remove(in->accept_pause);
	g_source_remove(in->sweep);
	g_hash_table_destroy(in->clients);
	close(in->fd);
	unlink(in->path);
	if (in->allow_uids)
		g_array_unref(in->allow_uids);
	if (in->allow_gids)
		g_array_unref(in->allow_gids);
	g_free(in->path);
	g_free(in);
}

/** vs_intake_get_stats: the intake counters. */
const vs_intake_stats *vs_intake_get_stats(const vs_intake *in)
{
	return &in->stats;
}
