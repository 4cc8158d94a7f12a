/*
 * virtscale.c - the collectd plugin "virtscale": registration, start-up and
 * shut-down, the read callback and the notification callback.
 *
 * Threads: lib/'s collector talks to libvirt and publishes snapshots; lib/'s
 * pool monitor counts sessions and runs the policy on each one, exactly as
 * the SNMP subagent does; the forwarder (vsc-forward.c) writes
 * notifications to the actuator.
 * collectd's read callback only takes the newest snapshot and report and
 * dispatches them, so a slow or hung libvirtd never holds a read thread.
 */
#include "collectd.h"
#include "plugin.h"
#include "utils_complain.h"
#include "utils_time.h"

#include "vsc-config.h"
#include "vsc-forward.h"
#include "vsc-notification.h"
#include "vsc-plugin.h"
#include "vsc-usage.h"
#include "vsc-values.h"

#include "vs-collector.h"
#include "vs-config.h"
#include "vs-log.h"
#include "vs-pool-monitor.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>

static vsc_options options;
static bool options_ready;
static vs_config *config;

static vs_collector *collector;
static vs_pool_monitor *pools;
static pthread_t pools_thread;
static bool pools_running;
static vsc_forwarder *forwarder;
static pthread_t forwarder_thread;
static bool forwarder_running;
static vsc_values *values;
static vs_usage_store *usage; /* usage accounting, fed by the collector thread */
/* the actuator's status.json, read by the collector thread (a file read
 * has no place in a read callback) */
static GMutex actuator_lock;
static vs_status *actuator_status;
static cdtime_t read_interval;
static c_complain_t stale_complaint = C_COMPLAIN_INIT_STATIC;

/* lib/ and the forwarder log through collectd's logging, with the
 * plugin's name in front as collectd's own plugins do. */
static void log_to_collectd(int priority, const char *message, void *opaque)
{
	plugin_log(priority, VSC_PLUGIN_NAME ": %s", message);
}

static const char *config_path(void)
{
	return options.config_file ? options.config_file : VS_DEFAULT_CONFIG_FILE;
}

/* Loads virtscale.conf; errors name FILE:LINE. */
static int load_config(void)
{
	g_autoptr(GError) error = NULL;

	if (config)
		return 0;
	config = vs_config_load(config_path(), &error);
	if (!config) {
		ERROR(VSC_PLUGIN_NAME ": configuration error: %s; the plugin is not loaded",
		      error ? error->message : config_path());
		return -1;
	}
	return 0;
}

/* <Plugin virtscale>: parsed and the virtscale config loaded right away, so
 * a bad file fails `collectd -t` and the daemon's start, with file:line. */
static int virtscale_config(oconfig_item_t *ci)
{
	if (!options_ready) {
		vsc_options_init(&options);
		options_ready = true;
	}
	if (vsc_config_parse(ci, &options) != 0) {
		ERROR(VSC_PLUGIN_NAME
		      ": invalid <Plugin virtscale> block; the plugin is not loaded");
		return -1;
	}
	g_clear_pointer(&config, vs_config_free);
	return load_config();
}

/* Collector thread (or libvirt's event thread, right after a lifecycle
 * event), after every snapshot: the state and CPU of a domain that appeared
 * or changed state go to collectd at once; the snapshot goes to the pool
 * monitor. */
static void on_snapshot(vs_snapshot *snap, void *opaque)
{
	if (values)
		vsc_values_dispatch_changes(values, snap, read_interval);
	if (usage)
		vs_usage_store_offer(usage, snap);
	if (pools)
		vs_pool_monitor_offer(pools, snap);
	if (config && config->pools->len) {
		/* absent or unreadable: no actuator, no migration values */
		vs_status *st = vs_status_read(config->state_dir, NULL);

		g_mutex_lock(&actuator_lock);
		vs_status_free(actuator_status);
		actuator_status = st;
		g_mutex_unlock(&actuator_lock);
	}
}

/* Pool monitor thread: a notification is due. */
static void on_pool_notice(const vs_pool_notice *ev, void *opaque)
{
	vsc_notification_dispatch_pool(ev);
}

/* Any notification dispatched in collectd: forward ours and the threshold
 * plugin's about our values. Runs in the dispatching thread: only queues. */
static int virtscale_notify(const notification_t *n, user_data_t *ud)
{
	vs_notification vn;
	vsc_notif_kind kind;
	g_autofree char *line = NULL;

	if (!forwarder)
		return 0;
	kind = vsc_notification_from_collectd(n, &vn);
	if (kind == VSC_NOTIF_IGNORE)
		return 0;
	if (kind == VSC_NOTIF_POOL && !options.forward_notifications)
		return 0;
	if (kind == VSC_NOTIF_THRESHOLD && !options.forward_thresholds)
		return 0;
	line = vs_notification_to_json(&vn);
	if (!line) {
		WARNING(VSC_PLUGIN_NAME ": cannot encode notification \"%s\"", n->message);
		return -1;
	}
	vsc_forwarder_push(forwarder, line);
	return 0;
}

/* Monotonic time of the newest domain sample in @snap, 0 when none. */
static int64_t freshest_sample(const vs_snapshot *snap)
{
	int64_t newest = 0;

	for (guint i = 0; i < snap->domains->len; i++) {
		const vs_domain_stats *d = g_ptr_array_index(snap->domains, i);

		newest = MAX(newest, d->sample_mono_us);
	}
	return newest;
}

static int virtscale_read(user_data_t *ud)
{
	g_autoptr(vs_snapshot) snap = vs_collector_get_snapshot(collector);
	g_autoptr(vs_pools_report) report = NULL;
	int64_t newest, age_us, max_age_us;
	bool any_connected = false, any_lost = false;

	if (!snap || snap->generation == 0)
		return 0; /* the first collection is not done yet */
	for (guint i = 0; i < snap->hosts->len; i++) {
		const vs_host_status *h = g_ptr_array_index(snap->hosts, i);

		if (h->state == VS_HOST_CONNECTED)
			any_connected = true;
		else if (h->state == VS_HOST_DISCONNECTED)
			any_lost = true;
	}
	if (!any_connected && !any_lost)
		return 0; /* still connecting for the first time */
	/* Fail only when the data is old: a host that reconnects within a few
	 * intervals is not worth suspending the read for. */
	newest = freshest_sample(snap);
	age_us = g_get_monotonic_time() - (newest ? newest : snap->taken_mono_us);
	max_age_us = (int64_t)options.max_age_intervals * (int64_t)CDTIME_T_TO_US(read_interval);
	if ((newest && age_us > max_age_us) || (!newest && !any_connected)) {
		/* Fail fast: collectd backs the read off and retries; the
		 * collector keeps reconnecting on its own thread. */
		c_complain(
		    LOG_ERR, &stale_complaint,
		    VSC_PLUGIN_NAME ": no fresh data from libvirt (%s, last sample %.1f s ago)",
		    any_connected ? "hypervisor not answering" : "not connected", age_us / 1e6);
		return -1;
	}
	c_release(LOG_NOTICE, &stale_complaint, VSC_PLUGIN_NAME ": libvirt data fresh again");

	vsc_values_dispatch_domains(values, snap, read_interval);
	if (pools && (report = vs_pool_monitor_get_report(pools)))
		vsc_values_dispatch_pools(values, report, read_interval);
	vsc_values_dispatch_hosts(values, config, snap, report, read_interval);
	if (usage)
		vsc_usage_dispatch(usage, config, read_interval);
	g_mutex_lock(&actuator_lock);
	vsc_values_dispatch_migrations(config, actuator_status, read_interval);
	g_mutex_unlock(&actuator_lock);
	if (forwarder) {
		vsc_forwarder_stats st;

		vsc_forwarder_get_stats(forwarder, &st);
		vsc_values_dispatch_forwarder(&st, read_interval);
	}
	return 0;
}

static int virtscale_shutdown(void);

static int start_forwarder(void)
{
	const char *path =
	    options.actuator_socket ? options.actuator_socket : config->actuator_socket;

	if (!path || !*path || (!options.forward_notifications && !options.forward_thresholds))
		return 0;
	forwarder = vsc_forwarder_new(path, options.queue_length);
	if (!forwarder) {
		ERROR(VSC_PLUGIN_NAME ": cannot create the actuator forwarder");
		return -1;
	}
	if (plugin_thread_create(&forwarder_thread, vsc_forwarder_run, forwarder,
	                         "virtscale fwd") != 0) {
		ERROR(VSC_PLUGIN_NAME ": cannot start the actuator forwarder thread");
		return -1;
	}
	forwarder_running = true;
	return plugin_register_notification(VSC_PLUGIN_NAME, virtscale_notify, NULL);
}

static int start_pools(void)
{
	vs_pool_monitor_options o = {
	    .interval_ms = (unsigned)CDTIME_T_TO_MS(read_interval),
	    .repeat_interval_s = options.repeat_interval_s,
	    .on_notice = on_pool_notice,
	};

	if (config->pools->len == 0)
		return 0;
	pools = vs_pool_monitor_new(config, &o);
	if (plugin_thread_create(&pools_thread, vs_pool_monitor_run, pools, "virtscale pool") !=
	    0) {
		ERROR(VSC_PLUGIN_NAME ": cannot start the pool thread");
		return -1;
	}
	pools_running = true;
	return 0;
}

static int start_collector(void)
{
	g_autoptr(GError) error = NULL;
	vs_collector_options co = {
	    .refresh_ms = (unsigned)(options.interval_s * 1000),
	    .on_snapshot = on_snapshot,
	};

	if (options.slow_interval_s == 0)
		co.slow_every_refresh = true;
	else if (options.slow_interval_s > 0)
		co.slow_ms = (unsigned)(options.slow_interval_s * 1000);
	collector = vs_collector_new(config, &co);
	if (!collector || !vs_collector_start(collector, &error)) {
		ERROR(VSC_PLUGIN_NAME ": cannot start the libvirt collector: %s",
		      error ? error->message : "unknown error");
		return -1;
	}
	return 0;
}

static int virtscale_init(void)
{
	double interval_s;

	if (!options_ready) {
		vsc_options_init(&options);
		options_ready = true;
	}
	/* Our threads write to sockets: a vanished peer must not kill collectd. */
	signal(SIGPIPE, SIG_IGN);
	vs_log_set_handler(log_to_collectd, NULL);
	if (load_config() != 0)
		return -1;
	interval_s = options.interval_s > 0 ? options.interval_s : config->refresh_interval;
	read_interval = DOUBLE_TO_CDTIME_T(interval_s);
	values = vsc_values_new();
	g_autofree char *usage_path = vs_usage_store_path(config, "collectd");

	usage = vs_usage_store_open(config, usage_path);
	vs_usage_store_start(usage, 0);

	if (start_forwarder() != 0 || start_pools() != 0 || start_collector() != 0) {
		virtscale_shutdown();
		return -1;
	}
	INFO(VSC_PLUGIN_NAME ": %s, %u pool(s), interval %.3g s, actuator %s", config_path(),
	     config->pools->len, interval_s, forwarder ? "forwarding" : "not forwarding");
	return plugin_register_complex_read(NULL, VSC_PLUGIN_NAME, virtscale_read, read_interval,
	                                    NULL);
}

static int virtscale_shutdown(void)
{
	/* The pool monitor's thread ends first: it dispatches notifications
	 * and must not outlive what it reports on. The monitor itself is freed
	 * only once the collector, which offers it snapshots, has stopped. */
	if (pools) {
		vs_pool_monitor_stop(pools);
		if (pools_running)
			pthread_join(pools_thread, NULL);
		pools_running = false;
	}
	if (collector) {
		vs_collector_stop(collector);
		g_clear_pointer(&collector, vs_collector_free);
	}
	/* after the collector: no snapshot comes in while the last save runs */
	g_clear_pointer(&usage, vs_usage_store_close);
	g_mutex_lock(&actuator_lock);
	g_clear_pointer(&actuator_status, vs_status_free);
	g_mutex_unlock(&actuator_lock);
	g_clear_pointer(&pools, vs_pool_monitor_free);
	if (forwarder) {
		plugin_unregister_notification(VSC_PLUGIN_NAME);
		vsc_forwarder_stop(forwarder);
		if (forwarder_running)
			pthread_join(forwarder_thread, NULL);
		forwarder_running = false;
		g_clear_pointer(&forwarder, vsc_forwarder_free);
	}
	g_clear_pointer(&values, vsc_values_free);
	g_clear_pointer(&config, vs_config_free);
	if (options_ready)
		vsc_options_clear(&options);
	options_ready = false;
	vs_log_set_handler(NULL, NULL);
	return 0;
}

/**
 * module_register:
 *
 * collectd's entry point: the config, init and shutdown callbacks (read and
 * notification callbacks are registered by init, once the configuration is
 * known to be good).
 */
void module_register(void)
{
	plugin_register_complex_config(VSC_PLUGIN_NAME, virtscale_config);
	plugin_register_init(VSC_PLUGIN_NAME, virtscale_init);
	plugin_register_shutdown(VSC_PLUGIN_NAME, virtscale_shutdown);
}
