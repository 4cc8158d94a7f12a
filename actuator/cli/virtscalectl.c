/*
 * virtscalectl.c - the actuator's command line: status, scale POOL N|auto,
 * notify (JSON lines, collectd exec or snmptrapd traphandle input on
 * stdin), check-config and test-mail. It talks to virtscaled through the
 * same socket and wire format as every other notifier.
 */
#include "config.h"

#include "act-error.h"
#include "alert.h"
#include "ctl-help.h"
#include "ctl-usage.h"
#include "intake.h"
#include "notify-formats.h"
#include "vs-status.h"
#include "vs-validate.h"

#include <errno.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#define EXIT_RUNTIME    1
#define EXIT_REFUSED    3 /* notify: input refused as not ours to obey (a foreign trap) */
#define REPLY_TIMEOUT_S 10
#define MIGRATE_WAIT_S  600 /* migrate: how long to wait for the outcome */

static const char *opt_config = VS_DEFAULT_CONFIG_FILE;
static const char *opt_socket;
static const char *opt_format = "auto";
static const char *opt_pool;
static const char *opt_state;
static gboolean opt_json;
static const char *opt_since;
static const char *opt_file;
static gboolean opt_help;
static gboolean opt_version;

static int connect_actuator(const vs_config *cfg)
{
	const char *path = opt_socket ? opt_socket : cfg->actuator_socket;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (!path || strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "virtscalectl: bad socket path\n");
		return -1;
	}
	g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		fprintf(stderr, "virtscalectl: %s: %s (is virtscaled running?)\n", path,
		        g_strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	struct timeval tv = {.tv_sec = REPLY_TIMEOUT_S};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

static bool send_line(int fd, const char *line)
{
	g_autofree char *l = g_strconcat(line, "\n", NULL);
	size_t len = strlen(l), off = 0;
	while (off < len) {
		ssize_t w = send(fd, l + off, len - off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			fprintf(stderr, "virtscalectl: send: %s\n", g_strerror(errno));
			return false;
		}
		off += (size_t)w;
	}
	return true;
}

static char *read_line(int fd)
{
	GString *s = g_string_new(NULL);
	char c;
	for (;;) {
		ssize_t r = recv(fd, &c, 1, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr, "virtscalectl: no answer from virtscaled\n");
			g_string_free(s, TRUE);
			return NULL;
		}
		if (c == '\n')
			return g_string_free(s, FALSE);
		if (s->len > 16 * 1024 * 1024) {
			g_string_free(s, TRUE);
			return NULL;
		}
		g_string_append_c(s, c);
	}
}

/* One request, one reply line. */
static char *request(const vs_config *cfg, const char *line)
{
	int fd = connect_actuator(cfg);
	if (fd < 0)
		return NULL;
	char *reply = send_line(fd, line) ? read_line(fd) : NULL;
	close(fd);
	return reply;
}

/* A figure in hundredths, or "-" when unknown. */
static char *hundredths_text(long v, const char *unit)
{
	return v < 0 ? g_strdup("-") : g_strdup_printf("%.2f%s", (double)v / 100.0, unit);
}

static const char *host_name_of(const vs_status *st, const char *uri)
{
	for (guint i = 0; uri && i < st->hosts->len; i++) {
		const vs_host_report *h = st->hosts->pdata[i];

		if (g_strcmp0(h->uri, uri) == 0)
			return h->name;
	}
	return uri ? uri : "-";
}

static void print_hosts(const vs_status *st)
{
	for (guint i = 0; i < st->hosts->len; i++) {
		const vs_host_report *h = st->hosts->pdata[i];
		g_autofree char *idle = hundredths_text(h->cpu_idle, "%");
		g_autofree char *mem = hundredths_text(h->mem_free, "%");
		g_autofree char *rtt =
		    h->rtt_us < 0 ? g_strdup("-") : g_strdup_printf("%.2f ms", h->rtt_us / 1000.0);
		g_autofree char *state = h->lost ? g_strdup_printf("lost (%u s)", h->down_for)
		                         : !h->answers
		                             ? g_strdup_printf("silent (%u s)", h->down_for)
		                             : g_strdup("answers");

		printf("host %s (%s): %s, %u instance(s), cpu idle %s, memory free %s, rtt %s\n",
		       h->name, h->uri, state, h->instances, idle, mem, rtt);
	}
}

/* The pools through the one status reader, then the intake counters. */
static void print_status(const char *json)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(vs_status) st = vs_status_from_json(json, strlen(json), &err);
	g_autoptr(JsonParser) p = json_parser_new();

	if (!st) {
		fprintf(stderr, "virtscalectl: unreadable status: %s\n", err->message);
		printf("%s\n", json);
		return;
	}
	for (guint i = 0; i < st->pools->len; i++) {
		const vs_pool_status *po = st->pools->pdata[i];

		printf("pool %s: %s, %u running, desired %u (%s), cooldown %u s", po->name,
		       vs_phase_name(po->phase), po->actual, po->desired,
		       vs_target_source_name(po->target_source), po->cooldown_left);
		if (po->warm)
			printf(", warm %u", po->warm);
		printf("\n");
		printf("  last action: %s (%s)%s%s\n", vs_action_name(po->last_action),
		       vs_result_name(po->last_result), *po->last_error ? ": " : "",
		       po->last_error);
		printf("  scale-outs %" G_GUINT64_FORMAT ", scale-ins %" G_GUINT64_FORMAT
		       ", failures %" G_GUINT64_FORMAT ", alerts %" G_GUINT64_FORMAT
		       " (last: %s)\n",
		       po->scale_outs, po->scale_ins, po->failures, po->alerts,
		       vs_alert_kind_name(po->last_alert));
		if (po->migration)
			printf("  last migration: %s from %s to %s, %s, path %u, %" G_GUINT64_FORMAT
			       " ms, downtime %" G_GUINT64_FORMAT " ms (%" G_GUINT64_FORMAT
			       " migration(s))\n",
			       po->migration->domain, po->migration->from, po->migration->to,
			       vs_result_name(po->migration->result), po->migration->path,
			       po->migration->total_ms, po->migration->downtime_ms, po->migrations);
		if (po->rebalance)
			printf("  last rebalance%s: %s %s from %s (%.0f%% busy) to %s (%.0f%%) "
			       "(%" G_GUINT64_FORMAT " in all)\n",
			       po->rebalance->dry_run ? " (dry run)" : "",
			       po->rebalance->dry_run ? "would migrate" : "migrated",
			       po->rebalance->domain, po->rebalance->from, po->rebalance->from_load,
			       po->rebalance->to, po->rebalance->to_load, po->rebalances);
		if (po->vertical)
			printf("  last vertical step: %s of %s, %s, %u vCPUs, %" G_GUINT64_FORMAT
			       " MiB%s%s (%" G_GUINT64_FORMAT " step(s))\n",
			       vs_action_name(po->vertical->action), po->vertical->domain,
			       vs_result_name(po->vertical->result), po->vertical->vcpus,
			       po->vertical->memory_kib / 1024, *po->vertical->error ? ": " : "",
			       po->vertical->error, po->vertical_steps);
		for (guint k = 0; k < po->instances->len; k++) {
			const vs_member *m = po->instances->pdata[k];

			printf("  %-24s %-10s %-22s lb=%-9s sessions=%-4d host=%s vcpus=%u/%u "
			       "memory=%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT "MiB%s\n",
			       m->name, vs_domain_state_name(m->state),
			       m->address ? m->address : "", vs_lb_state_name(m->lb_state),
			       m->sessions, host_name_of(st, m->host_uri), m->vcpus, m->vcpus_max,
			       m->mem_kib / 1024, m->mem_max_kib / 1024,
			       m->lost   ? " (lost)"
			       : m->warm ? " (warm)"
			                 : "");
		}
	}
	print_hosts(st);
	if (!json_parser_load_from_data(p, json, -1, NULL) ||
	    !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p)))
		return;
	JsonObject *o = json_node_get_object(json_parser_get_root(p));
	if (json_object_has_member(o, "intake")) {
		JsonObject *io = json_object_get_object_member(o, "intake");
		printf("intake: %" G_GINT64_FORMAT " lines, %" G_GINT64_FORMAT
		       " accepted, %" G_GINT64_FORMAT " malformed, %" G_GINT64_FORMAT
		       " oversized, %" G_GINT64_FORMAT " invalid UTF-8, %" G_GINT64_FORMAT
		       " unknown pool\n",
		       json_object_get_int_member(io, "lines"),
		       json_object_get_int_member(io, "accepted"),
		       json_object_get_int_member(io, "malformed"),
		       json_object_get_int_member(io, "oversized"),
		       json_object_get_int_member(io, "invalid_utf8"),
		       json_object_get_int_member(io, "unknown_pool"));
	}
}

static int cmd_status(const vs_config *cfg)
{
	g_autofree char *reply = request(cfg, "{\"v\":1,\"type\":\"status\"}");
	if (!reply)
		return EXIT_RUNTIME;
	if (opt_json)
		printf("%s\n", reply);
	else
		print_status(reply);
	return 0;
}

/* scale POOL N sets a manual target; scale POOL auto ends it. */
static int cmd_scale(const vs_config *cfg, const char *pool, const char *count)
{
	char *end = NULL;
	bool automatic = g_str_equal(count, "auto");
	guint64 n = automatic ? 0 : g_ascii_strtoull(count, &end, 10);
	if (!vs_valid_pool_name(pool) || (!automatic && (!*count || *end || n > 100000))) {
		fprintf(stderr, "virtscalectl: usage: scale POOL N|auto\n");
		return VS_EXIT_CONFIG;
	}
	if (!vs_config_find_pool(cfg, pool)) {
		fprintf(stderr, "virtscalectl: no pool '%s' in %s\n", pool, cfg->path);
		return EXIT_RUNTIME;
	}
	g_autofree char *desired =
	    automatic ? g_strdup("\"auto\"") : g_strdup_printf("%" G_GUINT64_FORMAT, n);
	g_autofree char *line = g_strdup_printf(
	    "{\"v\":1,\"type\":\"scale\",\"pool\":\"%s\",\"desired\":%s}", pool, desired);
	g_autofree char *reply = request(cfg, line);
	if (!reply)
		return EXIT_RUNTIME;
	printf("%s\n", reply);
	return strstr(reply, "\"ok\":true") ? 0 : EXIT_RUNTIME;
}

static bool reply_ok(const char *reply, char **error, bool *retry);

/* The migration of @domain started at or after @since, once it ended:
 * 0 done, 1 failed; -1 not ended yet (or unreadable status). */
static int migration_outcome(const char *json, const char *domain, double since)
{
	g_autoptr(vs_status) st = vs_status_from_json(json, strlen(json), NULL);

	for (guint i = 0; st && i < st->pools->len; i++) {
		const vs_pool_status *po = st->pools->pdata[i];
		const vs_migration_status *mg = po->migration;

		if (!mg || g_strcmp0(mg->domain, domain) != 0 || mg->time < since ||
		    mg->result == VS_RESULT_RUNNING)
			continue;
		printf("%s: %s from %s to %s, %" G_GUINT64_FORMAT " ms, downtime %" G_GUINT64_FORMAT
		       " ms, %" G_GUINT64_FORMAT " iteration(s), %" G_GUINT64_FORMAT
		       " bytes, path %u%s, dirty rate %.1f%%/s%s%s\n",
		       domain, vs_result_name(mg->result), mg->from, mg->to, mg->total_ms,
		       mg->downtime_ms, mg->iterations, mg->bytes, mg->path,
		       mg->postcopy ? " (post-copy)" : "", mg->dirty_rate,
		       mg->result == VS_RESULT_OK ? "" : ": ",
		       mg->result == VS_RESULT_OK ? "" : po->last_error);
		return mg->result == VS_RESULT_OK ? 0 : 1;
	}
	return -1;
}

/* migrate DOMAIN HOST: virtscaled moves the member live, and we wait for
 * the outcome (status.json's migration record). */
static int cmd_migrate(const vs_config *cfg, const char *domain, const char *host)
{
	double since = (double)g_get_real_time() / 1e6 - 1.0;

	if (!vs_valid_domain_name(domain) || !vs_valid_pool_name(host)) {
		fprintf(stderr, "virtscalectl: usage: migrate DOMAIN HOST\n");
		return VS_EXIT_CONFIG;
	}
	g_autofree char *line = g_strdup_printf(
	    "{\"v\":1,\"type\":\"migrate\",\"domain\":\"%s\",\"to\":\"%s\"}", domain, host);
	g_autofree char *reply = request(cfg, line);
	g_autofree char *why = NULL;
	bool retry;

	if (!reply)
		return EXIT_RUNTIME;
	if (!reply_ok(reply, &why, &retry)) {
		fprintf(stderr, "virtscalectl: migrate refused: %s\n", why);
		return EXIT_RUNTIME;
	}
	for (unsigned waited = 0; waited < MIGRATE_WAIT_S * 5; waited++) {
		g_autofree char *status = request(cfg, "{\"v\":1,\"type\":\"status\"}");
		int rc = status ? migration_outcome(status, domain, since) : -1;

		if (rc >= 0)
			return rc == 0 ? 0 : EXIT_RUNTIME;
		g_usleep(200 * 1000);
	}
	fprintf(stderr, "virtscalectl: migration of %s still under way after %u s\n", domain,
	        MIGRATE_WAIT_S);
	return EXIT_RUNTIME;
}

static char *read_stdin(void)
{
	GString *s = g_string_new(NULL);
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0 && s->len < 16 * 1024 * 1024)
		g_string_append_len(s, buf, (gssize)n);
	return g_string_free(s, FALSE);
}

/* One reply line of virtscaled: ok, else its error and whether to retry. */
static bool reply_ok(const char *reply, char **error, bool *retry)
{
	g_autoptr(JsonParser) p = json_parser_new();
	JsonObject *o;

	*retry = false;
	if (!json_parser_load_from_data(p, reply, -1, NULL) ||
	    !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p))) {
		*error = g_strdup("unreadable reply");
		return false;
	}
	o = json_node_get_object(json_parser_get_root(p));
	if (json_object_get_boolean_member_with_default(o, "ok", FALSE))
		return true;
	*retry = json_object_get_boolean_member_with_default(o, "retry", FALSE);
	*error = g_strdup(json_object_get_string_member_with_default(o, "error", "refused"));
	return false;
}

/*
 * Sends @lines on one connection and reads the one reply each gets: a line
 * counts as sent only when virtscaled said so. Returns how many were not
 * taken (each reported on stderr), or -1 when virtscaled cannot be reached.
 * A daemon with no free slot says "retry": tried again a few times.
 */
static int send_notifications(const vs_config *cfg, GPtrArray *lines)
{
	for (int attempt = 0;; attempt++) {
		int fd = connect_actuator(cfg);
		int refused = 0;
		bool retry = false;

		if (fd < 0)
			return -1;
		/* a refused connection is closed under our writes: its reply says why */
		for (guint i = 0; i < lines->len; i++) {
			g_autofree char *l = g_strconcat(lines->pdata[i], "\n", NULL);

			if (send(fd, l, strlen(l), MSG_NOSIGNAL) < 0)
				break;
		}
		shutdown(fd, SHUT_WR);
		for (guint i = 0; i < lines->len; i++) {
			g_autofree char *reply = read_line(fd);
			g_autofree char *error = NULL;
			char safe[256];

			if (!reply) {
				fprintf(stderr, "virtscalectl: %u line(s) not acknowledged\n",
				        lines->len - i);
				refused += (int)(lines->len - i);
				break;
			}
			if (reply_ok(reply, &error, &retry))
				continue;
			if (retry && i == 0)
				break;
			vs_sanitize_line(error, safe, sizeof(safe));
			fprintf(stderr, "virtscalectl: line %u refused by virtscaled: %s\n", i + 1,
			        safe);
			refused++;
		}
		close(fd);
		if (!retry)
			return refused;
		if (attempt == 4) {
			fprintf(stderr, "virtscalectl: virtscaled is busy (too many clients); "
			                "nothing was taken\n");
			return (int)lines->len;
		}
		g_usleep((gulong)200000 << attempt);
	}
}

/* A trap that is not ours to obey: said on stderr and, since snmptrapd
 * keeps no output of its handlers, in the system log, where refused traps
 * can be counted and their senders seen. */
static int refused_trap(const char *input, const char *why)
{
	g_auto(GStrv) lines = g_strsplit(input, "\n", 3);
	char host[128] = "", transport[128] = "";

	if (lines[0]) {
		vs_sanitize_line(g_strstrip(lines[0]), host, sizeof(host));
		if (lines[1])
			vs_sanitize_line(g_strstrip(lines[1]), transport, sizeof(transport));
	}
	fprintf(stderr, "virtscalectl: refused: %s\n", why);
	openlog("virtscalectl", LOG_PID, LOG_DAEMON);
	syslog(LOG_WARNING, "refused trap from %s (%s): %s", host, transport, why);
	closelog();
	return EXIT_REFUSED;
}

static int cmd_notify(const vs_config *cfg)
{
	g_autofree char *input = read_stdin();
	const char *fmt = opt_format;
	if (g_str_equal(fmt, "auto")) {
		const char *p = input;
		while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
			p++;
		fmt = *p == '{'                                     ? "json"
		      : g_ascii_strncasecmp(p, "Severity:", 9) == 0 ? "collectd"
		                                                    : "snmptrap";
	}
	g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
	int rc = 0;
	g_autoptr(GError) err = NULL;
	if (g_str_equal(fmt, "json")) {
		g_auto(GStrv) lines = g_strsplit(input, "\n", -1);
		for (char **l = lines; *l; l++) {
			g_strchomp(*l);
			if (!**l)
				continue;
			g_ptr_array_add(out, g_strdup(*l));
		}
	} else if (g_str_equal(fmt, "collectd")) {
		vs_notification n;

		if (vs_notify_from_collectd_exec(input, opt_pool, opt_state, &n, &err))
			g_ptr_array_add(out, vs_notification_to_json(&n));
	} else if (g_str_equal(fmt, "snmptrap")) {
		vs_notification n;

		if (opt_state) {
			fprintf(stderr, "virtscalectl: --state does not apply to snmptrapd input "
			                "(the notification is the state)\n");
			return VS_EXIT_CONFIG;
		}
		if (vs_notify_from_snmptrap(input, cfg, opt_pool, &n, &err))
			g_ptr_array_add(out, vs_notification_to_json(&n));
		else if (g_error_matches(err, VS_ACT_ERROR, VS_ACT_ERROR_REFUSED))
			return refused_trap(input, err->message);
	} else {
		fprintf(stderr, "virtscalectl: unknown --format %s (json, collectd, snmptrap)\n",
		        fmt);
		return VS_EXIT_CONFIG;
	}
	if (err) {
		fprintf(stderr, "virtscalectl: %s\n", err->message);
		return EXIT_RUNTIME;
	}
	/* validate here too: the sender hears about its own mistakes */
	g_autoptr(GPtrArray) valid = g_ptr_array_new();
	for (guint i = 0; i < out->len; i++) {
		const char *l = out->pdata[i];
		vs_notification n;
		g_autoptr(GError) perr = NULL;
		if (!vs_notification_parse(l, strlen(l), &n, &perr)) {
			char safe[300];
			vs_sanitize_line(perr ? perr->message : "?", safe, sizeof(safe));
			fprintf(stderr, "virtscalectl: line %u: %s\n", i + 1, safe);
			rc = EXIT_RUNTIME;
			continue;
		}
		if (n.pool[0] && !vs_config_find_pool(cfg, n.pool)) {
			fprintf(stderr, "virtscalectl: line %u: unknown pool '%s'\n", i + 1,
			        n.pool);
			rc = EXIT_RUNTIME;
			continue;
		}
		g_ptr_array_add(valid, (gpointer)l);
	}
	if (!valid->len)
		return rc ? rc : 0;
	int refused = send_notifications(cfg, valid);
	return refused != 0 ? EXIT_RUNTIME : rc;
}

static int cmd_check_config(void)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(vs_config) cfg = vs_config_load(opt_config, &err);
	/* and what virtscaled checks on this host before it starts */
	if (!cfg || !vs_intake_check_setup(cfg, false, &err)) {
		fprintf(stderr, "%s\n", err->message);
		return VS_EXIT_CONFIG;
	}
	printf("%s: OK, %u pool(s)\n", opt_config, cfg->pools->len);
	return 0;
}

static int cmd_test_mail(const vs_config *cfg)
{
	g_autofree char *report = NULL;
	g_autoptr(GError) err = NULL;
	bool ok = vs_mail_send_test(cfg, &report, &err);
	if (report)
		printf("%s\n", report);
	if (!ok) {
		fprintf(stderr, "virtscalectl: test mail failed: %s\n", err ? err->message : "?");
		return EXIT_RUNTIME;
	}
	return 0;
}

static GOptionEntry entries[] = {
    {"config", 'c', 0, G_OPTION_ARG_FILENAME, &opt_config, "configuration file", "FILE"},
    {"socket", 's', 0, G_OPTION_ARG_FILENAME, &opt_socket,
     "actuator socket (default: from the configuration)", "PATH"},
    {"format", 'f', 0, G_OPTION_ARG_STRING, &opt_format,
     "notify input: auto, json, collectd, snmptrap", "FMT"},
    {"pool", 'p', 0, G_OPTION_ARG_STRING, &opt_pool, "notify: the pool (collectd/snmptrap input)",
     "POOL"},
    {"state", 0, 0, G_OPTION_ARG_STRING, &opt_state, "notify: the state (high, low, ok, at_max)",
     "STATE"},
    {"json", 'j', 0, G_OPTION_ARG_NONE, &opt_json, "status: print the raw JSON", NULL},
    {"since", 0, 0, G_OPTION_ARG_STRING, &opt_since, "usage: from this time (hourly buckets)", "T"},
    {"file", 0, 0, G_OPTION_ARG_FILENAME, &opt_file, "usage: the state file to read", "PATH"},
    {"help", 'h', 0, G_OPTION_ARG_NONE, &opt_help,
     "print this help (with a COMMAND: the command's help) and exit", NULL},
    {"version", 'V', 0, G_OPTION_ARG_NONE, &opt_version, "print the version and exit", NULL},
    {NULL}};

/* --help, "help" and "help COMMAND": on stdout, exit 0; an unknown
 * command is a usage error. */
static int print_help(GOptionContext *ctx, const char *command)
{
	if (command && !vs_ctl_print_command_help(stdout, command)) {
		fprintf(stderr, "virtscalectl: no command '%s' (see virtscalectl --help)\n",
		        command);
		return VS_EXIT_CONFIG;
	}
	if (!command) {
		g_autofree char *help = g_option_context_get_help(ctx, TRUE, NULL);

		fputs(help, stdout);
		vs_ctl_print_commands(stdout);
	}
	return 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	g_autoptr(GOptionContext) ctx = g_option_context_new(
	    "COMMAND - status | scale POOL N|auto | migrate DOMAIN HOST | notify | check-config | "
	    "test-mail | usage");
	g_option_context_add_main_entries(ctx, entries, NULL);
	/* our own -h/--help: with a command, that command's help */
	g_option_context_set_help_enabled(ctx, FALSE);
	g_autoptr(GError) err = NULL;
	if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
		fprintf(stderr, "virtscalectl: %s\n", err->message);
		return VS_EXIT_CONFIG;
	}
	if (opt_version) {
		printf("virtscalectl %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (opt_help)
		return print_help(ctx, argc >= 2 ? argv[1] : NULL);
	if (argc >= 2 && g_str_equal(argv[1], "help") && argc <= 3)
		return print_help(ctx, argc == 3 ? argv[2] : NULL);
	if (argc < 2) {
		fprintf(stderr, "virtscalectl: a command is needed (see --help)\n");
		return VS_EXIT_CONFIG;
	}
	const char *cmd = argv[1];
	if (g_str_equal(cmd, "check-config"))
		return cmd_check_config();
	if (opt_pool && !vs_valid_pool_name(opt_pool)) {
		fprintf(stderr, "virtscalectl: invalid pool name\n");
		return VS_EXIT_CONFIG;
	}
	vs_config *cfg = vs_config_load_or_exit("virtscalectl", opt_config);
	int rc;
	if (g_str_equal(cmd, "status") && argc == 2)
		rc = cmd_status(cfg);
	else if (g_str_equal(cmd, "scale") && argc == 4)
		rc = cmd_scale(cfg, argv[2], argv[3]);
	else if (g_str_equal(cmd, "migrate") && argc == 4)
		rc = cmd_migrate(cfg, argv[2], argv[3]);
	else if (g_str_equal(cmd, "notify") && argc == 2)
		rc = cmd_notify(cfg);
	else if (g_str_equal(cmd, "test-mail") && argc == 2)
		rc = cmd_test_mail(cfg);
	else if (g_str_equal(cmd, "usage") && argc == 2)
		rc = vs_ctl_usage(cfg, opt_file, opt_pool, opt_since, opt_format);
	else {
		fprintf(stderr, "virtscalectl: unknown command or wrong arguments: %s\n", cmd);
		rc = VS_EXIT_CONFIG;
	}
	vs_config_free(cfg);
	return rc;
}
