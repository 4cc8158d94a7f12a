/*
 * main.c - virtscale-snmp: options, logging, start-up and the net-snmp main
 * loop. See virtscale-snmp(8).
 */
#include "config.h"

#include "agent.h"
#include "vs-log.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested;
static vs_agent *the_agent; /* for the signal handler only */

static void usage(FILE *out)
{
	fprintf(out,
	        "Usage: virtscale-snmp [-f] [-d] [-c FILE] [-x AGENTX_SOCKET]\n"
	        "Serves VM-MIB (RFC 7666) and VIRTSCALE-MIB as a net-snmp AgentX subagent.\n\n"
	        "  -f, --foreground      stay in the foreground, log to stderr\n"
	        "  -c, --config FILE     configuration file (default %s)\n"
	        "  -x, --agentx SOCKET   AgentX master socket (default: [snmp] agentx_socket)\n"
	        "  -d, --debug           debug logging (net-snmp's too)\n"
	        "  -V, --version         print the version and exit\n"
	        "  -h, --help            print this help and exit\n",
	        VS_DEFAULT_CONFIG_FILE);
}

static void log_to_stderr(int priority, const char *message, void *opaque)
{
	fprintf(stderr, "virtscale-snmp: %s\n", message);
}

static void log_to_syslog(int priority, const char *message, void *opaque)
{
	syslog(priority, "%s", message);
}

static void on_signal(int sig)
{
	stop_requested = 1;
	if (the_agent)
		vs_agentx_wake(the_agent);
}

/* Collector thread: must not block and must not touch net-snmp. */
static void on_snapshot(vs_snapshot *snap, void *opaque)
{
	vs_agent *a = opaque;
	g_mutex_lock(&a->lock);
	a->snapshot_pending = true;
	g_mutex_unlock(&a->lock);
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
	snprintf(e->uuid_str, sizeof(e->uuid_str),
	         "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	         ev->uuid[0], ev->uuid[1], ev->uuid[2], ev->uuid[3], ev->uuid[4], ev->uuid[5],
	         ev->uuid[6], ev->uuid[7], ev->uuid[8], ev->uuid[9], ev->uuid[10], ev->uuid[11],
	         ev->uuid[12], ev->uuid[13], ev->uuid[14], ev->uuid[15]);
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

/* Pool worker thread: a new report is ready. */
static void on_pools_ready(void *opaque)
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
	/* A master that goes away under a write must not kill us. */
	signal(SIGPIPE, SIG_IGN);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"foreground", no_argument, NULL, 'f'},
	    {"config", required_argument, NULL, 'c'},
	    {"agentx", required_argument, NULL, 'x'},
	    {"debug", no_argument, NULL, 'd'},
	    {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *config_path = VS_DEFAULT_CONFIG_FILE;
	const char *agentx_socket = NULL;
	bool foreground = false, debug = false;
	int c;

	signal(SIGPIPE, SIG_IGN);
	while ((c = getopt_long(argc, argv, "fc:x:dVh", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			foreground = true;
			break;
		case 'c':
			config_path = optarg;
			break;
		case 'x':
			agentx_socket = optarg;
			break;
		case 'd':
			debug = true;
			break;
		case 'V':
			printf("virtscale-snmp %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return VS_EXIT_CONFIG;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "virtscale-snmp: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return VS_EXIT_CONFIG;
	}

	/* Configuration errors stop us before anything starts (exit 2). */
	vs_config *cfg = vs_config_load_or_exit("virtscale-snmp", config_path);

	if (foreground) {
		vs_log_set_handler(log_to_stderr, NULL);
		snmp_enable_stderrlog();
	} else {
		openlog("virtscale-snmp", LOG_PID, LOG_DAEMON);
		vs_log_set_handler(log_to_syslog, NULL);
		snmp_enable_syslog_ident("virtscale-snmp", LOG_DAEMON);
		if (daemon(0, 0) < 0) {
			perror("virtscale-snmp: daemon");
			return 1;
		}
	}
	if (debug) {
		vs_log_set_level(LOG_DEBUG);
		snmp_set_do_debugging(1);
	}

	vs_agent *a = g_new0(vs_agent, 1);
	a->cfg = cfg;
	a->agentx_socket = agentx_socket ? agentx_socket : cfg->agentx_socket;
	a->foreground = foreground;
	a->debug = debug;
	a->per_vm_notifications = true;
	a->bulk_notifications = true;
	a->bulk_threshold = 4;
	g_mutex_init(&a->lock);
	g_queue_init(&a->events);
	a->oper_by_uuid = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	a->row_key_by_uuid = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	a->absent_since = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	a->undefined = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	a->vm_index = vs_vm_index_load(cfg->snmp_state_file);

	if (!vs_agentx_init(a))
		return 1;
	the_agent = a;
	install_signals();

	vs_collector_options copts = {
	    .on_event = on_event,
	    .on_snapshot = on_snapshot,
	    .opaque = a,
	};
	a->collector = vs_collector_new(cfg, &copts);
	g_autoptr(GError) error = NULL;
	if (!a->collector || !vs_collector_start(a->collector, &error)) {
		vs_error("cannot start the collector: %s", error ? error->message : "unknown");
		return 1;
	}
	a->pool_worker = vs_pool_worker_start(cfg, a->collector, on_pools_ready, a);
	vs_refresh_vm_mib(a);
	vs_refresh_vs_mib(a);
	vs_notice("serving VM-MIB and VIRTSCALE-MIB through %s", a->agentx_socket);

	while (!stop_requested)
		agent_check_and_process(1);

	vs_notice("stopping");
	vs_pool_worker_stop(a->pool_worker);
	vs_collector_stop(a->collector);
	vs_vm_index_save(a->vm_index);
	vs_agentx_shutdown(a);
	return 0;
}
