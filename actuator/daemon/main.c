/*
 * main.c - virtscaled, the actuator daemon: loads the configuration (exit 2
 * on any error, before anything starts), opens the journal, starts one
 * state machine per pool, listens for notifications and runs the GMainLoop.
 * See virtscaled(8).
 */
#include "config.h"

#include "act.h"
#include "intake.h"
#include "host-watch.h"
#include "leftovers.h"
#include "pool-machine.h"
#include "status-writer.h"
#include "vs-daemon.h"
#include "vs-log.h"

#include <errno.h>
#include <glib-unix.h>
#include <json-glib/json-glib.h>
#include <libvirt/virterror.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

struct vs_act {
	vs_config *cfg;
	GMainLoop *loop;
	vs_virt **hosts;
	vs_host_health **health; /* parallel to hosts */
	size_t n_hosts;
	vs_host_watch *host_watch;
	vs_journal *journal;
	GMutex alloc_lock;
	GCancellable *stop;  /* cancelled on SIGTERM/SIGINT: running waits end */
	GPtrArray *machines; /* of vs_pool_machine*, config order */
	GHashTable *by_name; /* pool name -> vs_pool_machine* */
	vs_intake *intake;
	vs_alerter *alerter;
	vs_status_writer *status_writer;
	bool status_dirty;
	bool reloading, reload_again; /* SIGHUP: a re-read under way, another asked */
};

/* Host @h as status.json shows it; its instances counted in @s's pools. */
static vs_host_report *host_report(vs_act *act, size_t h, const vs_status *s)
{
	const char *uri = vs_virt_uri(act->hosts[h]);
	vs_host_report *r = vs_host_report_new(vs_config_host_name(act->cfg, uri), uri);
	int64_t down = vs_host_health_down_since(act->health[h]);
	int64_t now = g_get_monotonic_time();
	vs_placement_host fig = {0};

	vs_host_health_figures(act->health[h], &fig);
	r->answers = down == 0;
	r->lost = vs_host_lost(down, now, act->cfg->host_grace);
	r->down_for = down ? (unsigned)((now - down) / G_USEC_PER_SEC) : 0;
	r->cpu_idle = fig.cpu_idle < 0 ? -1 : vs_hundredths(fig.cpu_idle * 100.0);
	r->mem_free = fig.mem_free < 0 ? -1 : vs_hundredths(fig.mem_free * 100.0);
	r->rtt_us = fig.rtt_ms < 0 ? -1 : (long)(fig.rtt_ms * 1000.0 + 0.5);
	for (guint i = 0; i < s->pools->len; i++) {
		const vs_pool_status *p = s->pools->pdata[i];

		for (guint k = 0; k < p->instances->len; k++) {
			const vs_member *m = p->instances->pdata[k];

			r->instances += m->running && g_strcmp0(m->host_uri, uri) == 0;
		}
	}
	return r;
}

static vs_status *build_status(vs_act *act)
{
	vs_status *s = vs_status_new();
	s->time = (double)g_get_real_time() / 1e6;
	s->pid = getpid();
	for (guint i = 0; i < act->machines->len; i++)
		g_ptr_array_add(s->pools, vs_pool_machine_status(act->machines->pdata[i]));
	for (size_t h = 0; h < act->n_hosts; h++)
		g_ptr_array_add(s->hosts, host_report(act, h, s));
	return s;
}

/** vs_act_status_changed: the status file is rewritten soon (coalesced). */
void vs_act_status_changed(vs_act *act)
{
	act->status_dirty = true;
}

static gboolean status_flush(gpointer data)
{
	vs_act *act = data;
	if (act->status_dirty) {
		act->status_dirty = false;
		vs_status_writer_post(act->status_writer, build_status(act));
	}
	return G_SOURCE_CONTINUE;
}

/** vs_act_alert: queues an administrator alert (never blocks). */
void vs_act_alert(vs_act *act, vs_alert_kind kind, const char *pool, const char *step,
                  const char *error, const char *summary)
{
	if (!act->alerter)
		return;
	vs_alert a = {.kind = kind,
	              .pool = (char *)pool,
	              .step = (char *)step,
	              .error = (char *)error,
	              .summary = (char *)summary,
	              .details = (char *)"",
	              .time = (double)g_get_real_time() / 1e6};
	if (!vs_alerter_post(act->alerter, &a))
		vs_warning("alert queue full: alert for pool %s dropped", pool ? pool : "-");
}

static char *json_reply(JsonBuilder *b)
{
	g_autoptr(JsonGenerator) gen = json_generator_new();
	g_autoptr(JsonNode) root = json_builder_get_root(b);

	json_generator_set_root(gen, root);
	return json_generator_to_data(gen, NULL);
}

/* The status reply: status.json plus the intake counters. */
static char *status_reply(vs_act *act)
{
	g_autoptr(vs_status) s = build_status(act);
	g_autofree char *json = vs_status_to_json(s);
	g_autoptr(JsonParser) p = json_parser_new();
	if (!json || !json_parser_load_from_data(p, json, -1, NULL))
		return g_strdup("{\"v\":1,\"ok\":false,\"error\":\"status unavailable\"}");
	JsonNode *root = json_parser_get_root(p);
	JsonObject *o = json_node_get_object(root);
	const vs_intake_stats *st = vs_intake_get_stats(act->intake);
	JsonObject *io = json_object_new();
	json_object_set_int_member(io, "connections", (gint64)st->connections);
	json_object_set_int_member(io, "lines", (gint64)st->lines);
	json_object_set_int_member(io, "accepted", (gint64)st->accepted);
	json_object_set_int_member(io, "malformed", (gint64)st->malformed);
	json_object_set_int_member(io, "oversized", (gint64)st->oversized);
	json_object_set_int_member(io, "invalid_utf8", (gint64)st->invalid_utf8);
	json_object_set_int_member(io, "unknown_pool", (gint64)st->unknown_pool);
	json_object_set_int_member(io, "status_requests", (gint64)st->status_requests);
	json_object_set_int_member(io, "scale_requests", (gint64)st->scale_requests);
	json_object_set_int_member(io, "refused_peers", (gint64)st->refused_peers);
	json_object_set_int_member(io, "refused_busy", (gint64)st->refused_busy);
	json_object_set_int_member(io, "evicted", (gint64)st->evicted);
	json_object_set_int_member(io, "idle_closed", (gint64)st->idle_closed);
	json_object_set_int_member(io, "accept_errors", (gint64)st->accept_errors);
	json_object_set_int_member(io, "warnings_suppressed", (gint64)st->warnings_suppressed);
	json_object_set_object_member(o, "intake", io);
	json_object_set_boolean_member(o, "ok", TRUE);
	g_autoptr(JsonGenerator) gen = json_generator_new();
	json_generator_set_root(gen, root);
	return json_generator_to_data(gen, NULL);
}

static char *scale_reply(vs_act *act, vs_pool_machine *m, const vs_notification *n)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(JsonBuilder) b = json_builder_new();
	bool automatic = n->desired == VS_NOTIFY_DESIRED_AUTO;
	bool ok;

	if (m && automatic)
		vs_pool_machine_clear_target(m);
	ok = m && (automatic ||
	           (n->desired >= 0 && vs_pool_machine_set_target(m, (unsigned)n->desired, &err)));

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "v");
	json_builder_add_int_value(b, 1);
	json_builder_set_member_name(b, "ok");
	json_builder_add_boolean_value(b, ok);
	if (ok) {
		json_builder_set_member_name(b, "pool");
		json_builder_add_string_value(b, n->pool);
		json_builder_set_member_name(b, "desired");
		if (automatic)
			json_builder_add_string_value(b, "auto");
		else
			json_builder_add_int_value(b, n->desired);
		vs_act_status_changed(act);
	} else {
		json_builder_set_member_name(b, "error");
		json_builder_add_string_value(b, err ? err->message : "no desired count");
	}
	json_builder_end_object(b);
	return json_reply(b);
}

/* The pool of member @domain (its name pattern; the job checks the tag)
 * that spans host @host_name; its URI in @uri. */
static vs_pool_machine *migrate_pool(vs_act *act, const char *domain, const char *host_name,
                                     const char **uri, GError **error)
{
	const vs_host_config *hc = NULL;

	for (guint i = 0; i < act->cfg->host_configs->len; i++) {
		const vs_host_config *h = act->cfg->host_configs->pdata[i];

		if (g_strcmp0(h->name, host_name) == 0)
			hc = h;
	}
	if (!hc) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_NOT_FOUND, "no host %s is configured",
		            host_name);
		return NULL;
	}
	*uri = hc->uri;
	for (guint i = 0; i < act->machines->len; i++) {
		const vs_pool_config *p = act->cfg->pools->pdata[i];
		unsigned index;

		if (vs_pool_match_name(p, domain, &index) && vs_pool_on_host(p, hc->uri))
			return act->machines->pdata[i];
	}
	g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_NOT_FOUND,
	            "%s is not a member of a pool on host %s", domain, host_name);
	return NULL;
}

static char *migrate_reply(vs_act *act, const vs_notification *n)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(JsonBuilder) b = json_builder_new();
	const char *uri = NULL;
	vs_pool_machine *m = migrate_pool(act, n->domain, n->to, &uri, &err);
	bool ok = m && vs_pool_machine_migrate(m, n->domain, uri, &err);

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "v");
	json_builder_add_int_value(b, 1);
	json_builder_set_member_name(b, "ok");
	json_builder_add_boolean_value(b, ok);
	if (ok) {
		json_builder_set_member_name(b, "domain");
		json_builder_add_string_value(b, n->domain);
		json_builder_set_member_name(b, "to");
		json_builder_add_string_value(b, n->to);
		vs_act_status_changed(act);
	} else {
		json_builder_set_member_name(b, "error");
		json_builder_add_string_value(b, err ? err->message : "refused");
	}
	json_builder_end_object(b);
	return json_reply(b);
}

static char *handle_notification(const vs_notification *n, void *opaque)
{
	vs_act *act = opaque;
	vs_pool_machine *m = n->pool[0] ? g_hash_table_lookup(act->by_name, n->pool) : NULL;
	switch (n->type) {
	case VS_NOTIFY_STATUS:
		return status_reply(act);
	case VS_NOTIFY_SCALE:
		return scale_reply(act, m, n);
	case VS_NOTIFY_MIGRATE:
		return migrate_reply(act, n);
	case VS_NOTIFY_POOL:
	case VS_NOTIFY_THRESHOLD:
		if (m) {
			vs_debug("pool %s: %s from %s", n->pool, vs_verdict_name(n->verdict),
			         n->source[0] ? n->source : "?");
			vs_pool_machine_notify(m, n);
		}
		return NULL;
	}
	return NULL;
}

static gboolean tick(gpointer data)
{
	vs_act *act = data;
	for (guint i = 0; i < act->machines->len; i++)
		vs_pool_machine_tick(act->machines->pdata[i]);
	return G_SOURCE_CONTINUE;
}

static gboolean on_quit_signal(gpointer data)
{
	vs_act *act = data;
	vs_notice("stopping: a running action ends at its next wait");
	g_cancellable_cancel(act->stop);
	g_main_loop_quit(act->loop);
	return G_SOURCE_CONTINUE;
}

/* SIGHUP, off the event loop (a file and perhaps NSS for user names): the
 * configuration is read and validated as at start-up. */
static void reload_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
	GError *err = NULL;
	vs_config *cfg = vs_config_load(data, &err);

	if (cfg && !vs_intake_check_setup(cfg, false, &err))
		g_clear_pointer(&cfg, vs_config_free);
	if (cfg)
		g_task_return_pointer(task, cfg, (GDestroyNotify)vs_config_free);
	else
		g_task_return_error(task, err);
}

static void start_reload(vs_act *act);

/* Back on the event loop. Only what the intake reads from the
 * configuration is swapped: pools, hosts, drivers and the alerter hold
 * theirs for the life of the daemon (a worker may be in the middle of an
 * action with them), so the rest waits for a restart - and a file that does
 * not load changes nothing at all. */
static void reload_done(GObject *source, GAsyncResult *res, gpointer data)
{
	vs_act *act = data;
	g_autoptr(GError) err = NULL;
	vs_config *cfg = g_task_propagate_pointer(G_TASK(res), &err);

	act->reloading = false;
	if (!cfg) {
		vs_error("SIGHUP: %s; the running configuration is kept", err->message);
	} else {
		if (act->intake)
			vs_intake_reconfigure(act->intake, cfg);
		vs_notice("SIGHUP: %s is valid; [actuator] allow_uids, allow_gids and "
		          "idle_timeout applied, any other change takes effect when virtscaled "
		          "restarts",
		          cfg->path);
		vs_config_free(cfg);
	}
	if (act->reload_again && act->loop && g_main_loop_is_running(act->loop)) {
		act->reload_again = false;
		start_reload(act);
	}
}

static void start_reload(vs_act *act)
{
	g_autoptr(GTask) task = g_task_new(NULL, NULL, reload_done, act);

	act->reloading = true;
	g_task_set_task_data(task, g_strdup(act->cfg->path), g_free);
	g_task_run_in_thread(task, reload_thread);
}

static gboolean on_hup_signal(gpointer data)
{
	vs_act *act = data;

	vs_notice("SIGHUP: re-reading %s", act->cfg->path);
	if (act->reloading)
		act->reload_again = true;
	else
		start_reload(act);
	return G_SOURCE_CONTINUE;
}

/* libvirt errors are reported through GErrors; its default handler would
 * print every expected miss (a name lookup, no metadata) on stderr. */
static void quiet_libvirt_errors(void *opaque, virErrorPtr err)
{
}

/* libvirt, the journal, the hosts and the alerter: false stops start-up. */
static bool open_services(vs_act *act)
{
	g_autoptr(GError) err = NULL;

	virSetErrorFunc(NULL, quiet_libvirt_errors);
	/* libvirt's default event implementation is GLib's default main
	 * context: the GMainLoop below services libvirt's keepalive too, so no
	 * second thread may iterate that context (it would run our callbacks) */
	if (virInitialize() < 0 || virEventRegisterDefaultImpl() < 0) {
		vs_error("cannot initialize libvirt");
		return false;
	}
	act->journal = vs_journal_open(act->cfg->state_dir, &err);
	if (!act->journal) {
		vs_error("journal: %s", err->message);
		return false;
	}
	g_autoptr(GPtrArray) pending = vs_journal_pending(act->journal, NULL);
	if (pending->len)
		vs_notice("journal: %u unfinished operation(s) from a previous run; reconciling",
		          pending->len);
	act->n_hosts = g_strv_length(act->cfg->hosts);
	act->hosts = g_new0(vs_virt *, act->n_hosts + 1);
	act->health = g_new0(vs_host_health *, act->n_hosts + 1);
	for (size_t i = 0; i < act->n_hosts; i++) {
		act->hosts[i] = vs_virt_new(act->cfg->hosts[i], 0, 0);
		act->health[i] = vs_host_health_new();
	}
	act->host_watch = vs_host_watch_start(act->hosts, act->health, act->n_hosts);
	g_mutex_init(&act->alloc_lock);
	act->alerter = vs_alerter_new(act->cfg, &err);
	if (!act->alerter || !vs_alerter_start(act->alerter, &err)) {
		vs_warning("alerts disabled: %s", err ? err->message : "?");
		g_clear_pointer(&act->alerter, vs_alerter_free);
	}
	act->status_writer = vs_status_writer_new(act->cfg->state_dir);
	vs_leftovers_drop(act, act->journal, act->cfg);
	act->stop = g_cancellable_new();
	return true;
}

/* One machine per pool, each with its balancer driver. */
static bool start_machines(vs_act *act)
{
	act->machines = g_ptr_array_new();
	act->by_name = g_hash_table_new(g_str_hash, g_str_equal);
	for (guint i = 0; i < act->cfg->pools->len; i++) {
		const vs_pool_config *p = act->cfg->pools->pdata[i];
		g_autoptr(GError) err = NULL;
		vs_ops_ctx *w = g_new0(vs_ops_ctx, 1);

		*w = (vs_ops_ctx){.cfg = act->cfg,
		                  .pool = p,
		                  .hosts = act->hosts,
		                  .health = act->health,
		                  .n_hosts = act->n_hosts,
		                  .journal = act->journal,
		                  .alloc_lock = &act->alloc_lock,
		                  .stop = act->stop};
		w->lb = vs_lb_open(act->cfg, p, &err);
		if (!w->lb) {
			vs_error("pool %s: %s", p->name, err->message);
			g_free(w);
			return false;
		}
		vs_lb_set_cancellable(w->lb, act->stop);
		vs_pool_machine *m = vs_pool_machine_new(act, p, w);
		g_ptr_array_add(act->machines, m);
		g_hash_table_insert(act->by_name, p->name, m);
	}
	return true;
}

static void run_loop(vs_act *act)
{
	act->loop = g_main_loop_new(NULL, FALSE);
	g_unix_signal_add(SIGTERM, on_quit_signal, act);
	g_unix_signal_add(SIGINT, on_quit_signal, act);
	g_unix_signal_add(SIGHUP, on_hup_signal, act);
	guint tick_id = g_timeout_add(1000, tick, act);
	guint flush_id = g_timeout_add(100, status_flush, act);
	vs_notice("listening on %s; %u pool(s), %zu host(s)", act->cfg->actuator_socket,
	          act->machines->len, act->n_hosts);
	tick(act);
	vs_act_status_changed(act);
	g_main_loop_run(act->loop);
	g_source_remove(tick_id);
	g_source_remove(flush_id);
}

/* Stops taking notifications, lets running actions end, writes the final
 * status, then closes everything. */
static void shut_down(vs_act *act)
{
	g_clear_pointer(&act->intake, vs_intake_free);
	for (guint i = 0; act->machines && i < act->machines->len; i++)
		vs_pool_machine_stop(act->machines->pdata[i]);
	if (act->machines) {
		act->status_dirty = true;
		status_flush(act);
	}
	for (guint i = 0; act->machines && i < act->machines->len; i++)
		vs_pool_machine_free(act->machines->pdata[i]);
	g_clear_pointer(&act->machines, g_ptr_array_unref);
	g_clear_pointer(&act->by_name, g_hash_table_destroy);
	g_clear_pointer(&act->status_writer, vs_status_writer_free);
	if (act->alerter) {
		vs_alerter_stop(act->alerter);
		g_clear_pointer(&act->alerter, vs_alerter_free);
	}
	g_clear_pointer(&act->journal, vs_journal_close);
	g_clear_pointer(&act->host_watch, vs_host_watch_stop);
	for (size_t i = 0; i < act->n_hosts; i++) {
		vs_virt_free(act->hosts[i]);
		if (act->health)
			vs_host_health_free(act->health[i]);
	}
	g_clear_pointer(&act->hosts, g_free);
	g_clear_pointer(&act->health, g_free);
	g_clear_pointer(&act->loop, g_main_loop_unref);
	g_clear_object(&act->stop);
}

int main(int argc, char **argv)
{
	vs_daemon d;
	vs_act act = {0};
	g_autoptr(GError) err = NULL;
	int rc = 1;

	vs_daemon_init(&d, "virtscaled", "Scales virtscale pools: libvirt, load balancer, e-mail.",
	               argc, argv, NULL);
	act.cfg = d.cfg;
	if (!d.pid_file)
		d.pid_file = act.cfg->actuator_pid_file;
	/* until the loop handles it: a SIGHUP during start-up must not kill us */
	signal(SIGHUP, SIG_IGN);
	if (!vs_intake_check_setup(act.cfg, true, &err)) {
		fprintf(stderr, "virtscaled: %s\n", err->message);
		vs_config_free(act.cfg);
		return VS_EXIT_CONFIG;
	}
	if (!vs_daemon_detach(&d)) {
		vs_error("cannot detach: %s", g_strerror(errno));
		return 1;
	}
	if (!open_services(&act) || !start_machines(&act))
		goto out;
	act.intake = vs_intake_new(act.cfg, handle_notification, &act, &err);
	if (!act.intake) {
		vs_error("socket: %s", err->message);
		goto out;
	}
	run_loop(&act);
	rc = 0;
out:
	shut_down(&act);
	vs_notice("%s", rc == 0 ? "stopped" : "not started");
	vs_config_free(act.cfg);
	return rc;
}
