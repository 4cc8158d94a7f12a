/*
 * main.c - virtscale-snmp: options, logging, start-up and the net-snmp main
 * loop. See virtscale-snmp(8).
 */
#include "config.h"

#include "agent.h"
#include "vs-daemon.h"
#include "vs-log.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reload_requested;
static vs_agent *the_agent; /* for the signal handler only */

static void log_to_netsnmp_too(vs_daemon *d)
{
	if (d->foreground)
		snmp_enable_stderrlog();
	else
		snmp_enable_syslog_ident("virtscale-snmp", LOG_DAEMON);
	if (d->debug)
		snmp_set_do_debugging(1);
}

static void on_signal(int sig)
{
	stop_requested = 1;
	if (the_agent)
		vs_agentx_wake(the_agent);
}

static void on_hup(int sig)
{
	reload_requested = 1;
	if (the_agent)
		vs_agentx_wake(the_agent);
}

/* SIGHUP: the file is read and validated in a thread of its own (never in
 * net-snmp's loop) and the verdict logged; the running configuration is
 * kept either way: the collector, the pool monitor and the views are built
 * from it, and a restart applies a change. */
static gpointer check_config_thread(gpointer data)
{
	char *path = data;
	g_autoptr(GError) err = NULL;
	g_autoptr(vs_config) cfg = vs_config_load(path, &err);

	if (cfg)
		vs_notice("SIGHUP: %s is valid; changes take effect when virtscale-snmp restarts",
		          path);
	else
		vs_error("SIGHUP: %s; the running configuration is kept", err->message);
	g_free(path);
	return NULL;
}

/* Collector thread: must not block and must not touch net-snmp. */
static void on_snapshot(vs_snapshot *snap, void *opaque)
{
	vs_agent *a = opaque;
	if (a->usage)
		vs_usage_store_offer(a->usage, snap);
	g_mutex_lock(&a->lock);
	a->snapshot_pending = true;
	g_mutex_unlock(&a->lock);
	vs_pool_monitor_offer(a->monitor, snap);
	vs_agentx_wake(a);
}

/* Collector thread: copies the event (its strings are borrowed). */
static void on_event(const vs_lifecycle_event *ev, void *opaque)
{
	vs_agent *a = opaque;
	vs_vm_event *e = g_new0(vs_vm_event, 1);
	e->kind = ev->kind;
	e->name = g_strdup(ev->name);
	memcpy(e->uuid, ev->uuid, 16);
	memcpy(e->uuid_str, ev->uuid_str, sizeof(e->uuid_str));
	e->new_state = ev->new_state;
	e->new_reason = ev->new_reason;
	e->old_state = ev->old_state;
	e->libvirt_event = ev->libvirt_event;
	e->libvirt_detail = ev->libvirt_detail;
	g_mutex_lock(&a->lock);
	g_queue_push_tail(&a->events, e);
	g_mutex_unlock(&a->lock);
	vs_agentx_wake(a);
}

/* Pool monitor thread: a verdict worth a trap (copied for the main loop). */
static void on_pool_notice(const vs_pool_notice *n, void *opaque)
{
	vs_agent *a = opaque;

	if (n->repeat)
		return;
	g_mutex_lock(&a->lock);
	g_queue_push_tail(&a->notices, g_memdup2(n, sizeof(*n)));
	g_mutex_unlock(&a->lock);
	vs_agentx_wake(a);
}

/* Pool monitor or I/O worker thread: a new report is ready. */
static void on_report_ready(void *opaque)
{
	vs_agentx_wake(opaque);
}

static void install_signals(void)
{
	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* the default action of SIGHUP would end us in the middle of anything */
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	/* A master that goes away under a write must not kill us. */
	signal(SIGPIPE, SIG_IGN);
}

/* The collector, the pool monitor and the I/O worker, each in its thread. */
static bool start_workers(vs_agent *a)
{
	g_autoptr(GError) error = NULL;
	vs_collector_options copts = {
	    .on_event = on_event,
	    .on_snapshot = on_snapshot,
	    .opaque = a,
	};
	vs_pool_monitor_options mopts = {
	    .on_notice = on_pool_notice,
	    .on_report = on_report_ready,
	    .opaque = a,
	};

	g_autofree char *usage_path = vs_usage_store_path(a->cfg, "snmp");

	a->usage = vs_usage_store_open(a->cfg, usage_path);
	vs_usage_store_start(a->usage, 0);
	a->monitor = vs_pool_monitor_new(a->cfg, &mopts);
	a->monitor_thread = g_thread_new("vs-pools", vs_pool_monitor_run, a->monitor);
	a->collector = vs_collector_new(a->cfg, &copts);
	if (!a->collector || !vs_collector_start(a->collector, &error)) {
		vs_error("cannot start the collector: %s", error ? error->message : "unknown");
		return false;
	}
	a->io = vs_io_worker_start(a->cfg, a->collector, on_report_ready, a);
	return true;
}

/*
 * Stops the threads in the order they depend on each other: the I/O worker
 * (it pins through the collector's connections), then the pool monitor,
 * joined before the collector that feeds it stops, so no sample is still
 * being taken when the program returns (also when start-up failed half way).
 */
static void stop_workers(vs_agent *a)
{
	if (a->io)
		vs_io_worker_stop(a->io);
	a->io = NULL;
	if (a->monitor_thread) {
		vs_pool_monitor_stop(a->monitor);
		g_thread_join(a->monitor_thread);
		a->monitor_thread = NULL;
	}
	if (a->collector)
		vs_collector_stop(a->collector);
	/* after the collector: no snapshot comes in while the last save runs */
	vs_usage_store_close(a->usage);
	a->usage = NULL;
}

static vs_agent *agent_new(vs_daemon *d, const char *agentx_socket)
{
	vs_agent *a = g_new0(vs_agent, 1);

	a->cfg = d->cfg;
	a->agentx_socket = agentx_socket ? agentx_socket : d->cfg->agentx_socket;
	a->foreground = d->foreground;
	a->debug = d->debug;
	a->per_vm_notifications = true;
	a->bulk_notifications = true;
	a->bulk_threshold = 4;
	g_mutex_init(&a->lock);
	g_queue_init(&a->events);
	g_queue_init(&a->notices);
	a->oper_by_uuid = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	a->row_key_by_uuid = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	a->absent_since = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	a->undefined = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	a->vm_index = vs_vm_index_load(d->cfg->snmp_state_file);
	return a;
}

int main(int argc, char **argv)
{
	const char *agentx_socket = NULL;
	const vs_daemon_option options[] = {
	    {'x', "agentx", "SOCKET", "AgentX master socket (default: [snmp] agentx_socket)",
	     &agentx_socket},
	    {0},
	};
	vs_daemon d;

	vs_daemon_init(&d, "virtscale-snmp",
	               "Serves VM-MIB (RFC 7666) and VIRTSCALE-MIB as a net-snmp AgentX subagent.",
	               argc, argv, options);
	if (!d.pid_file)
		d.pid_file = d.cfg->snmp_pid_file;
	if (!vs_daemon_detach(&d)) {
		perror("virtscale-snmp: daemon");
		return 1;
	}
	log_to_netsnmp_too(&d);

	install_signals();
	vs_agent *a = agent_new(&d, agentx_socket);
	if (!vs_agentx_init(a))
		return 1;
	the_agent = a;
	if (!start_workers(a)) {
		stop_workers(a);
		return 1;
	}
	vs_refresh_vm_mib(a);
	vs_refresh_vs_mib(a);
	vs_notice("serving VM-MIB and VIRTSCALE-MIB through %s", a->agentx_socket);

	while (!stop_requested) {
		agent_check_and_process(1);
		if (reload_requested) {
			reload_requested = 0;
			vs_notice("SIGHUP: re-reading %s", a->cfg->path);
			g_thread_unref(
			    g_thread_new("vs-reload", check_config_thread, g_strdup(a->cfg->path)));
		}
	}

	vs_notice("stopping");
	stop_workers(a);
	vs_vm_index_save(a->vm_index);
	vs_agentx_shutdown(a);
	return 0;
}
