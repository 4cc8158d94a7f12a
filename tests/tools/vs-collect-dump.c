/*
 * vs-collect-dump.c - runs the libvirt collector and prints every snapshot
 * as one JSON line (every field), and lifecycle events as JSON lines.
 * Used by the integration tests and the collector benchmark.
 *
 *   vs-collect-dump [-c CONFIG | -u URI...] [--once] [--count N]
 *                   [--interval-ms N] [--slow-ms N] [--all-every-refresh]
 *                   [--no-fast-path] [--events] [--duration S] [--quiet]
 *                   [--usage FILE]
 *
 * --usage FILE also accounts usage (lib/vs-usage-store.h) into FILE, saved
 * at exit: the RPC count with and without it shows accounting adds none.
 */
#include "config.h"

#include <json-glib/json-glib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "vs-collector.h"
#include "vs-config.h"
#include "vs-log.h"
#include "vs-usage-store.h"

static GMutex out_lock;
static volatile sig_atomic_t stop_requested;

static const char *event_kind_name(vs_event_kind k)
{
	static const char *const names[] = {
	    [VS_EVENT_DEFINED] = "defined",   [VS_EVENT_UNDEFINED] = "undefined",
	    [VS_EVENT_STARTED] = "started",   [VS_EVENT_SUSPENDED] = "suspended",
	    [VS_EVENT_RESUMED] = "resumed",   [VS_EVENT_STOPPED] = "stopped",
	    [VS_EVENT_SHUTDOWN] = "shutdown", [VS_EVENT_PMSUSPENDED] = "pmsuspended",
	    [VS_EVENT_CRASHED] = "crashed",   [VS_EVENT_MIGRATING] = "migrating",
	};

	return (unsigned)k < G_N_ELEMENTS(names) ? names[k] : "unknown";
}

static const char *host_state_name(vs_host_state s)
{
	switch (s) {
	case VS_HOST_CONNECTING:
		return "connecting";
	case VS_HOST_CONNECTED:
		return "connected";
	case VS_HOST_DISCONNECTED:
		return "disconnected";
	}
	return "unknown";
}

static void print_json(JsonBuilder *b)
{
	g_autoptr(JsonGenerator) gen = json_generator_new();
	g_autoptr(JsonNode) root = json_builder_get_root(b);

	json_generator_set_root(gen, root);
	g_autofree char *text = json_generator_to_data(gen, NULL);

	g_mutex_lock(&out_lock);
	fputs(text, stdout);
	fputc('\n', stdout);
	fflush(stdout);
	g_mutex_unlock(&out_lock);
}

static void add_str(JsonBuilder *b, const char *key, const char *value)
{
	json_builder_set_member_name(b, key);
	if (value)
		json_builder_add_string_value(b, value);
	else
		json_builder_add_null_value(b);
}

#define STR(b, k, v) add_str(b, k, v)
#define INT(b, k, v)                                                                               \
	do {                                                                                       \
		json_builder_set_member_name(b, k);                                                \
		json_builder_add_int_value(b, (gint64)(v));                                        \
	} while (0)
#define DBL(b, k, v)                                                                               \
	do {                                                                                       \
		json_builder_set_member_name(b, k);                                                \
		json_builder_add_double_value(b, v);                                               \
	} while (0)
#define BOOL(b, k, v)                                                                              \
	do {                                                                                       \
		json_builder_set_member_name(b, k);                                                \
		json_builder_add_boolean_value(b, v);                                              \
	} while (0)

static void add_domain(JsonBuilder *b, const vs_domain_stats *d)
{
	json_builder_begin_object(b);
	STR(b, "host", d->host_uri);
	STR(b, "name", d->name);
	STR(b, "uuid", d->uuid_str);
	INT(b, "id", d->id);
	INT(b, "state", d->state);
	STR(b, "state_name", vs_domain_state_name(d->state));
	INT(b, "reason", d->reason);
	BOOL(b, "persistent", d->persistent);
	BOOL(b, "autostart", d->autostart);
	STR(b, "os_type", d->os_type);
	INT(b, "vcpu_current", d->vcpu_current);
	INT(b, "vcpu_max", d->vcpu_max);
	json_builder_set_member_name(b, "vcpus");
	json_builder_begin_array(b);
	for (size_t i = 0; i < d->n_vcpus; i++) {
		json_builder_begin_object(b);
		INT(b, "state", d->vcpus[i].state);
		INT(b, "time_ns", d->vcpus[i].time_ns);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	INT(b, "cpu_time_ns", d->cpu_time_ns);
	DBL(b, "cpu_percent", d->cpu_percent);
	DBL(b, "cpu_percent_of_vcpus", d->cpu_percent_of_vcpus);
	INT(b, "mem_max_kib", d->mem_max_kib);
	INT(b, "mem_current_kib", d->mem_current_kib);
	INT(b, "mem_rss_kib", d->mem_rss_kib);
	INT(b, "mem_usable_kib", d->mem_usable_kib);
	INT(b, "mem_unused_kib", d->mem_unused_kib);
	json_builder_set_member_name(b, "disks");
	json_builder_begin_array(b);
	for (size_t i = 0; i < d->n_disks; i++) {
		const vs_disk_stats *k = &d->disks[i];

		json_builder_begin_object(b);
		STR(b, "target", k->target);
		STR(b, "source", k->source);
		STR(b, "source_type", k->source_type);
		STR(b, "device", k->device);
		STR(b, "format", k->format);
		BOOL(b, "read_only", k->read_only);
		BOOL(b, "have_io", k->have_io);
		INT(b, "rd_reqs", k->rd_reqs);
		INT(b, "rd_bytes", k->rd_bytes);
		INT(b, "rd_times_ns", k->rd_times_ns);
		INT(b, "wr_reqs", k->wr_reqs);
		INT(b, "wr_bytes", k->wr_bytes);
		INT(b, "wr_times_ns", k->wr_times_ns);
		INT(b, "fl_reqs", k->fl_reqs);
		INT(b, "fl_times_ns", k->fl_times_ns);
		INT(b, "errors", k->errors);
		INT(b, "capacity", k->capacity);
		INT(b, "allocation", k->allocation);
		INT(b, "physical", k->physical);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	json_builder_set_member_name(b, "nets");
	json_builder_begin_array(b);
	for (size_t i = 0; i < d->n_nets; i++) {
		const vs_net_stats *n = &d->nets[i];

		json_builder_begin_object(b);
		STR(b, "ifname", n->ifname);
		STR(b, "mac", n->mac);
		STR(b, "model", n->model);
		BOOL(b, "have_io", n->have_io);
		INT(b, "rx_bytes", n->rx_bytes);
		INT(b, "rx_pkts", n->rx_pkts);
		INT(b, "rx_errs", n->rx_errs);
		INT(b, "rx_drop", n->rx_drop);
		INT(b, "tx_bytes", n->tx_bytes);
		INT(b, "tx_pkts", n->tx_pkts);
		INT(b, "tx_errs", n->tx_errs);
		INT(b, "tx_drop", n->tx_drop);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	STR(b, "meta_pool", d->meta_pool);
	STR(b, "meta_address", d->meta_address);
	INT(b, "sample_mono_us", d->sample_mono_us);
	INT(b, "slow_mono_us", d->slow_mono_us);
	INT(b, "started_real_us", d->started_real_us);
	json_builder_end_object(b);
}

static void add_host(JsonBuilder *b, const vs_host_status *h)
{
	json_builder_begin_object(b);
	STR(b, "uri", h->uri);
	STR(b, "state", host_state_name(h->state));
	STR(b, "hypervisor", h->hypervisor);
	INT(b, "hv_version", h->hv_version);
	INT(b, "lib_version", h->lib_version);
	STR(b, "hostname", h->hostname);
	STR(b, "last_error", h->last_error);
	INT(b, "connected_real_us", h->connected_real_us);
	INT(b, "host_cpus", h->host_cpus);
	INT(b, "host_mem_kib", h->host_mem_kib);
	INT(b, "host_free_mem_kib", h->host_free_mem_kib);
	DBL(b, "host_cpu_idle_percent", h->host_cpu_idle_percent);
	INT(b, "refreshes", h->refreshes);
	INT(b, "failures", h->failures);
	INT(b, "reconnects", h->reconnects);
	json_builder_end_object(b);
}

static void print_snapshot(const vs_snapshot *s, bool quiet)
{
	g_autoptr(JsonBuilder) b = json_builder_new();

	json_builder_begin_object(b);
	STR(b, "type", "snapshot");
	INT(b, "generation", s->generation);
	INT(b, "taken_mono_us", s->taken_mono_us);
	INT(b, "taken_real_us", s->taken_real_us);
	INT(b, "last_change_real_us", s->last_change_real_us);
	INT(b, "domain_count", s->domains->len);
	json_builder_set_member_name(b, "hosts");
	json_builder_begin_array(b);
	for (guint i = 0; i < s->hosts->len; i++)
		add_host(b, s->hosts->pdata[i]);
	json_builder_end_array(b);
	if (!quiet) {
		json_builder_set_member_name(b, "domains");
		json_builder_begin_array(b);
		for (guint i = 0; i < s->domains->len; i++)
			add_domain(b, s->domains->pdata[i]);
		json_builder_end_array(b);
	}
	json_builder_end_object(b);
	print_json(b);
}

static void on_event(const vs_lifecycle_event *ev, void *opaque)
{
	(void)opaque;
	g_autoptr(JsonBuilder) b = json_builder_new();
	json_builder_begin_object(b);
	STR(b, "type", "event");
	STR(b, "event", event_kind_name(ev->kind));
	STR(b, "host", ev->host_uri);
	STR(b, "name", ev->name);
	STR(b, "uuid", ev->uuid_str);
	INT(b, "new_state", ev->new_state);
	INT(b, "new_reason", ev->new_reason);
	INT(b, "old_state", ev->old_state);
	INT(b, "libvirt_event", ev->libvirt_event);
	INT(b, "libvirt_detail", ev->libvirt_detail);
	INT(b, "mono_us", g_get_monotonic_time());
	INT(b, "real_us", g_get_real_time());
	json_builder_end_object(b);
	print_json(b);
}

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* --once: a snapshot is complete when every host has been refreshed twice
 * (two samples give CPU%) or has failed. */
static bool complete(const vs_snapshot *s)
{
	for (guint i = 0; i < s->hosts->len; i++) {
		const vs_host_status *h = s->hosts->pdata[i];

		if (h->refreshes < 2 && !(h->state == VS_HOST_DISCONNECTED && h->failures > 0))
			return false;
	}
	return true;
}

static void on_snapshot(vs_snapshot *snap, void *opaque)
{
	vs_usage_store_offer(opaque, snap);
}

int main(int argc, char **argv)
{
	g_autofree char *usage_path = NULL;
	g_autofree char *config_path = NULL;
	g_auto(GStrv) uris = NULL;
	gboolean once = FALSE, all_every = FALSE, no_fast = FALSE, events = FALSE, quiet = FALSE;
	gint count = 0, interval_ms = 0, slow_ms = 0;
	gdouble duration = 0;
	GOptionEntry entries[] = {
	    {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "configuration file", "FILE"},
	    {"uri", 'u', 0, G_OPTION_ARG_STRING_ARRAY, &uris, "hypervisor URI (repeatable)", "URI"},
	    {"once", 0, 0, G_OPTION_ARG_NONE, &once, "print one complete snapshot and exit", NULL},
	    {"count", 0, 0, G_OPTION_ARG_INT, &count, "exit after N snapshots", "N"},
	    {"interval-ms", 0, 0, G_OPTION_ARG_INT, &interval_ms, "refresh interval", "MS"},
	    {"slow-ms", 0, 0, G_OPTION_ARG_INT, &slow_ms, "monitor-bound groups interval", "MS"},
	    {"all-every-refresh", 0, 0, G_OPTION_ARG_NONE, &all_every,
	     "collect every group every refresh", NULL},
	    {"no-fast-path", 0, 0, G_OPTION_ARG_NONE, &no_fast,
	     "state and CPU from libvirt, not the local cgroup", NULL},
	    {"events", 0, 0, G_OPTION_ARG_NONE, &events, "print lifecycle events", NULL},
	    {"duration", 0, 0, G_OPTION_ARG_DOUBLE, &duration, "exit after S seconds", "S"},
	    {"quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "print host status only", NULL},
	    {"usage", 0, 0, G_OPTION_ARG_FILENAME, &usage_path, "account usage into FILE", "FILE"},
	    {NULL},
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new("- print collector snapshots as JSON");
	g_autoptr(GError) error = NULL;

	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
		fprintf(stderr, "vs-collect-dump: %s\n", error->message);
		return 2;
	}
	if ((config_path && uris) || (!config_path && !uris) || count < 0 || interval_ms < 0 ||
	    slow_ms < 0 || duration < 0) {
		fprintf(stderr, "vs-collect-dump: give either -c CONFIG or -u URI..., and "
		                "non-negative numbers\n");
		return 2;
	}
	vs_config *cfg = NULL;
	vs_config manual = {0};

	if (config_path) {
		cfg = vs_config_load_or_exit("vs-collect-dump", config_path);
	} else {
		manual.hosts = uris;
		manual.refresh_interval = 1;
		manual.slow_interval = 10;
		manual.use_cgroup = true;
	}
	vs_collector_options opts = {
	    .refresh_ms = (unsigned)interval_ms,
	    .slow_ms = (unsigned)slow_ms,
	    .slow_every_refresh = all_every,
	    .no_fast_path = no_fast,
	    .on_event = events ? on_event : NULL,
	};
	vs_usage_store *usage = NULL;

	if (usage_path) {
		usage = vs_usage_store_open(cfg ? cfg : &manual, usage_path);
		opts.on_snapshot = on_snapshot;
		opts.opaque = usage;
	}
	vs_collector *c = vs_collector_new(cfg ? cfg : &manual, &opts);

	if (!vs_collector_start(c, &error)) {
		fprintf(stderr, "vs-collect-dump: %s\n", error->message);
		vs_collector_free(c);
		vs_usage_store_close(usage);
		return 1;
	}
	int64_t end = duration > 0 ? g_get_monotonic_time() + (int64_t)(duration * 1e6) : 0;
	uint64_t gen = 0;
	int printed = 0;

	while (!stop_requested) {
		int64_t now = g_get_monotonic_time();

		if (end && now >= end)
			break;
		unsigned wait_ms = end ? (unsigned)MIN((end - now) / 1000 + 1, 500) : 500;
		g_autoptr(vs_snapshot) s = vs_collector_wait_snapshot(c, gen, wait_ms);

		if (s->generation <= gen)
			continue;
		gen = s->generation;
		if (once) {
			if (!complete(s))
				continue;
			print_snapshot(s, quiet);
			break;
		}
		print_snapshot(s, quiet);
		if (count && ++printed >= count)
			break;
	}
	vs_collector_free(c);
	vs_usage_store_close(usage); /* saves */
	if (cfg)
		vs_config_free(cfg);
	return 0;
}
