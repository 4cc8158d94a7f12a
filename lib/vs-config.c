/*
 * vs-config.c - the virtscale.conf parser and validator.
 *
 * A small line-based INI reader of our own: GKeyFile forgets line numbers,
 * and every error here must name FILE:LINE so an operator can fix it before
 * anything starts. Keys are described by one table (keys[] below): name,
 * group, value parser, field offset, default and range, so a new key is one
 * line. Defaults are strings run through the same parser as the file, which
 * keeps the documented default and the effective one identical.
 *
 * Error messages: "FILE:LINE: [group] key: what is wrong".
 */
#include "config.h"

#include "vs-config.h"
#include "vs-config-internal.h"
#include "vs-notify.h"
#include "vs-validate.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG_MAX_LINE 4096               /* bytes per line, without the newline */
#define CONFIG_MAX_FILE (16 * 1024 * 1024) /* a config file is never this big */

static const char *const group_names[G_COUNT] = {
    "libvirt", "snmp", "actuator", "nginx", "apache", "mail", "prices", "host", "pool",
};

/* ---- the key table ------------------------------------------------------- */

static const char *const policy_names[] = {"average", "ratio", "proportional", NULL};
static const char *const lb_names[] = {"none", "nginx", "apache", NULL};
static const char *const address_names[] = {"lease", "agent", "arp", "hostfwd", NULL};
static const char *const clone_names[] = {"overlay", "copy", NULL};
static const char *const placement_names[] = {"fewest", "weighted", NULL};
static const char *const rebalance_names[] = {"off", "on", "dry-run", NULL};
static const char *const starttls_names[] = {"no", "optional", "required", NULL};
static const char *const method_names[] = {"round-robin", "least_conn", NULL};
static const char *const fast_path_names[] = {"cgroup", "libvirt", NULL};
/* indexed by vs_metric: only cpu and sessions can be a target */
static const char *const metric_names[] = {"", "cpu", "sessions", NULL};
static const char *const weights_names[] = {"none", "ratio", NULL};
static const char *const vertical_names[] = {"none", "vcpu", "memory", "both", NULL};
static const char *const scale_order_names[] = {"vertical-first", "horizontal-first", NULL};
static const char *const warm_mode_names[] = {"paused", "saved", NULL};

#define NOF      0
#define C(field) offsetof(vs_config, field)
#define P(field) offsetof(vs_pool_config, field)
#define H(field) offsetof(vs_host_config, field)
/* group, name, parser, offset, default, min, max, choices, required */
static const key_desc keys[] = {
    {G_LIBVIRT, "uri", vs_config_value_uri_list, C(hosts), NULL, 0, 0, NULL, false},
    {G_LIBVIRT, "hosts", vs_config_value_uri_list, C(hosts), "qemu:///system", 0, 0, NULL, false},
    {G_LIBVIRT, "refresh_interval", vs_config_value_duration, C(refresh_interval), "1", 1, 3600,
     NULL, false},
    {G_LIBVIRT, "slow_interval", vs_config_value_duration, C(slow_interval), "10", 1, 86400, NULL,
     false},
    {G_LIBVIRT, "fast_path", vs_config_value_fast_path, NOF, "cgroup", 0, 0, fast_path_names,
     false},
    {G_LIBVIRT, "host_grace", vs_config_value_duration, C(host_grace), "30", 1, 86400, NULL, false},

    {G_HOST, "uri", vs_config_value_uri, H(uri), NULL, 0, 0, NULL, true},
    {G_HOST, "hostfwd_address", vs_config_value_ipv4_address, H(hostfwd_address), "127.0.0.1", 0, 0,
     NULL, false},
    {G_HOST, "partition", vs_config_value_path, H(partition), NULL, 0, 0, NULL, false},
    {G_HOST, "migrate_uri", vs_config_value_word, H(migrate_uri), NULL, 0, 0, NULL, false},

    {G_SNMP, "agentx_socket", vs_config_value_word, C(agentx_socket), "/var/agentx/master", 0, 0,
     NULL, false},
    {G_SNMP, "agentx_ping_interval", vs_config_value_duration, C(agentx_ping_interval), "5", 0,
     3600, NULL, false},
    {G_SNMP, "state_file", vs_config_value_path, C(snmp_state_file), NULL, 0, 0, NULL, false},
    {G_SNMP, "pid_file", vs_config_value_path, C(snmp_pid_file), NULL, 0, 0, NULL, false},

    {G_ACTUATOR, "socket", vs_config_value_path, C(actuator_socket),
     RUNSTATEDIR "/virtscale/actuator.sock", 0, 0, NULL, false},
    {G_ACTUATOR, "state_dir", vs_config_value_path, C(state_dir), LOCALSTATEDIR "/lib/virtscale", 0,
     0, NULL, false},
    {G_ACTUATOR, "pid_file", vs_config_value_path, C(actuator_pid_file), NULL, 0, 0, NULL, false},
    {G_ACTUATOR, "socket_group", vs_config_value_unix_group, C(socket_group), "virtscale", 0, 0,
     NULL, false},
    {G_ACTUATOR, "max_line", vs_config_value_uint, C(max_line), "4096", 256, VS_NOTIFY_MAX_LINE,
     NULL, false},
    {G_ACTUATOR, "idle_timeout", vs_config_value_duration, C(idle_timeout), "60", 1, 86400, NULL,
     false},
    {G_ACTUATOR, "allow_uids", vs_config_value_uid_list, C(allow_uids), NULL, 0, 0, NULL, false},
    {G_ACTUATOR, "allow_gids", vs_config_value_gid_list, C(allow_gids), NULL, 0, 0, NULL, false},

    {G_NGINX, "upstream_file", vs_config_value_path, C(nginx_upstream_file), NULL, 0, 0, NULL,
     false},
    {G_NGINX, "upstream", vs_config_value_lb_name, C(nginx_upstream), NULL, 0, 0, NULL, false},
    {G_NGINX, "conf", vs_config_value_path, C(nginx_conf), NULL, 0, 0, NULL, false},
    {G_NGINX, "pid_file", vs_config_value_path, C(nginx_pid_file), "/run/nginx.pid", 0, 0, NULL,
     false},
    {G_NGINX, "binary", vs_config_value_word, C(nginx_binary), "nginx", 0, 0, NULL, false},
    {G_NGINX, "reload_command", vs_config_value_text, C(nginx_reload_command), NULL, 0, 0, NULL,
     false},
    {G_NGINX, "method", vs_config_value_enum, C(nginx_method), "round-robin", 0, 0, method_names,
     false},
    {G_NGINX, "max_conns", vs_config_value_uint, C(nginx_max_conns), "0", 0, 1000000, NULL, false},
    {G_NGINX, "zone", vs_config_value_lb_name, C(nginx_zone), NULL, 0, 0, NULL, false},
    {G_NGINX, "timeout", vs_config_value_duration, C(nginx_timeout), "10", 1, 300, NULL, false},

    {G_APACHE, "balancer_manager", vs_config_value_url, C(apache_balancer_manager), NULL, 0, 0,
     NULL, false},
    {G_APACHE, "balancer", vs_config_value_lb_name, C(apache_balancer), NULL, 0, 0, NULL, false},
    {G_APACHE, "timeout", vs_config_value_duration, C(apache_timeout), "5", 1, 300, NULL, false},

    {G_MAIL, "server", vs_config_value_host_port, C(mail_server), NULL, 0, 0, NULL, false},
    {G_MAIL, "from", vs_config_value_email, C(mail_from), "virtscale@localhost", 0, 0, NULL, false},
    {G_MAIL, "to", vs_config_value_email_list, C(mail_to), NULL, 0, 0, NULL, false},
    {G_MAIL, "starttls", vs_config_value_starttls, NOF, "no", 0, 0, starttls_names, false},
    {G_MAIL, "user", vs_config_value_word, C(mail_user), NULL, 0, 0, NULL, false},
    {G_MAIL, "password_file", vs_config_value_path, C(mail_password_file), NULL, 0, 0, NULL, false},
    {G_MAIL, "allow_cleartext_auth", vs_config_value_bool, C(mail_allow_cleartext_auth), "no", 0, 0,
     NULL, false},
    {G_MAIL, "ca_file", vs_config_value_path, C(mail_ca_file), NULL, 0, 0, NULL, false},
    {G_MAIL, "timeout", vs_config_value_duration, C(mail_timeout), "30", 1, 600, NULL, false},
    {G_MAIL, "rate_limit", vs_config_value_duration, C(mail_rate_limit), "300", 0, 86400, NULL,
     false},
    {G_MAIL, "notify_recovered", vs_config_value_bool, C(mail_notify_recovered), "no", 0, 0, NULL,
     false},
    {G_MAIL, "queue_max", vs_config_value_uint, C(mail_queue_max), "1000", 1, 1000000, NULL, false},

    /* [prices]: one unit price per resource kind (virtscalectl usage) */
    {G_PRICES, "instance_hour", vs_config_value_double, C(prices[0]), "0", 0, 1e12, NULL, false},
    {G_PRICES, "vcpu_hour", vs_config_value_double, C(prices[1]), "0", 0, 1e12, NULL, false},
    {G_PRICES, "cpu_hour", vs_config_value_double, C(prices[2]), "0", 0, 1e12, NULL, false},
    {G_PRICES, "memory_allocated_gib_hour", vs_config_value_double, C(prices[3]), "0", 0, 1e12,
     NULL, false},
    {G_PRICES, "memory_used_gib_hour", vs_config_value_double, C(prices[4]), "0", 0, 1e12, NULL,
     false},
    {G_PRICES, "disk_read_gib", vs_config_value_double, C(prices[5]), "0", 0, 1e12, NULL, false},
    {G_PRICES, "disk_written_gib", vs_config_value_double, C(prices[6]), "0", 0, 1e12, NULL, false},
    {G_PRICES, "net_received_gib", vs_config_value_double, C(prices[7]), "0", 0, 1e12, NULL, false},
    {G_PRICES, "net_sent_gib", vs_config_value_double, C(prices[8]), "0", 0, 1e12, NULL, false},

    {G_POOL, "template", vs_config_value_name, P(template_name), NULL, 0, 0, NULL, true},
    {G_POOL, "name_pattern", vs_config_value_name_pattern, P(name_pattern), NULL, 0, 0, NULL, true},
    {G_POOL, "uri", vs_config_value_uri, P(uri), NULL, 0, 0, NULL, false},
    {G_POOL, "hosts", vs_config_value_word_list, P(host_names), NULL, 0, 0, NULL, false},
    {G_POOL, "host_max", vs_config_value_uint, P(host_max), "0", 0, 1000, NULL, false},
    {G_POOL, "host_min", vs_config_value_uint, P(host_min), "0", 0, 1000, NULL, false},
    {G_POOL, "placement_cpu_weight", vs_config_value_double, P(placement_cpu_weight), "0.4", 0,
     1000, NULL, false},
    {G_POOL, "placement_memory_weight", vs_config_value_double, P(placement_memory_weight), "0.4",
     0, 1000, NULL, false},
    {G_POOL, "placement_rtt_weight", vs_config_value_double, P(placement_rtt_weight), "0.2", 0,
     1000, NULL, false},
    {G_POOL, "min", vs_config_value_uint, P(min), "2", 0, 1000, NULL, false},
    {G_POOL, "max", vs_config_value_uint, P(max), "6", 1, 1000, NULL, false},
    {G_POOL, "policy", vs_config_value_enum, P(policy), "ratio", 0, 0, policy_names, false},
    {G_POOL, "cpu_high", vs_config_value_double, P(cpu_high), "50", 0, 100, NULL, false},
    {G_POOL, "cpu_low", vs_config_value_double, P(cpu_low), "15", 0, 100, NULL, false},
    {G_POOL, "sessions_high", vs_config_value_double, P(sessions_high), "50", 0, 1e6, NULL, false},
    {G_POOL, "sessions_low", vs_config_value_double, P(sessions_low), "5", 0, 1e6, NULL, false},
    {G_POOL, "session_capacity", vs_config_value_double, P(session_capacity), "100", 1, 1e6, NULL,
     false},
    {G_POOL, "ratio_high", vs_config_value_double, P(ratio_high), "60", 0, 100, NULL, false},
    {G_POOL, "ratio_low", vs_config_value_double, P(ratio_low), "10", 0, 100, NULL, false},
    {G_POOL, "debounce", vs_config_value_debounce, NOF, "7/10", 0, 0, NULL, false},
    {G_POOL, "target_metric", vs_config_value_enum, P(target_metric), "sessions", 0, 0,
     metric_names, false},
    {G_POOL, "target", vs_config_value_double, P(target), "50", 0.001, 1e6, NULL, false},
    {G_POOL, "tolerance", vs_config_value_double, P(tolerance), "0.1", 0, 0.99, NULL, false},
    {G_POOL, "stabilization", vs_config_value_duration, P(stabilization), "300", 0, 86400, NULL,
     false},
    {G_POOL, "max_step_up", vs_config_value_uint, P(max_step_up), "1", 1, 1000, NULL, false},
    {G_POOL, "max_step_down", vs_config_value_uint, P(max_step_down), "1", 1, 1000, NULL, false},
    {G_POOL, "sessions", vs_config_value_sessions, NOF, "sockdiag", 0, 0, NULL, false},
    {G_POOL, "backend_port", vs_config_value_uint, P(backend_port), "80", 1, 65535, NULL, false},
    {G_POOL, "lb", vs_config_value_enum, P(lb), "none", 0, 0, lb_names, false},
    {G_POOL, "weights", vs_config_value_enum, P(weights), "none", 0, 0, weights_names, false},
    {G_POOL, "cooldown", vs_config_value_duration, P(cooldown), "60", 0, 86400, NULL, false},
    {G_POOL, "address", vs_config_value_enum, P(address), "lease", 0, 0, address_names, false},
    {G_POOL, "address_cidr", vs_config_value_ipv4_nets, NOF, NULL, 0, 0, NULL, false},
    {G_POOL, "hostfwd_ports", vs_config_value_port_range, NOF, NULL, 0, 0, NULL, false},
    {G_POOL, "probe", vs_config_value_probe, NOF, "http:/", 0, 0, NULL, false},
    {G_POOL, "probe_timeout", vs_config_value_duration, P(probe_timeout), "60", 1, 3600, NULL,
     false},
    {G_POOL, "drain_timeout", vs_config_value_duration, P(drain_timeout), "30", 0, 3600, NULL,
     false},
    {G_POOL, "shutdown_timeout", vs_config_value_duration, P(shutdown_timeout), "30", 0, 3600, NULL,
     false},
    {G_POOL, "sync_interval", vs_config_value_duration, P(sync_interval), "10", 1, 3600, NULL,
     false},
    {G_POOL, "keep_stopped", vs_config_value_bool, P(keep_stopped), "no", 0, 0, NULL, false},
    {G_POOL, "migrate_unsafe", vs_config_value_bool, P(migrate_unsafe), "no", 0, 0, NULL, false},
    {G_POOL, "migrate_dirty_low", vs_config_value_double, P(migrate_dirty_low), "10", 0, 1000, NULL,
     false},
    {G_POOL, "migrate_dirty_high", vs_config_value_double, P(migrate_dirty_high), "50", 0, 1000,
     NULL, false},
    {G_POOL, "migrate_xbzrle_cache", vs_config_value_uint, P(migrate_xbzrle_cache), "4", 1, 65536,
     NULL, false},
    {G_POOL, "migrate_max_iterations", vs_config_value_uint, P(migrate_max_iterations), "9", 1,
     1000, NULL, false},
    {G_POOL, "migrate_auto_converge", vs_config_value_bool, P(migrate_auto_converge), "no", 0, 0,
     NULL, false},
    {G_POOL, "migrate_auto_converge_initial", vs_config_value_uint,
     P(migrate_auto_converge_initial), "0", 0, 99, NULL, false},
    {G_POOL, "migrate_auto_converge_increment", vs_config_value_uint,
     P(migrate_auto_converge_increment), "0", 0, 99, NULL, false},
    {G_POOL, "migrate_max_downtime", vs_config_value_uint, P(migrate_max_downtime), "0", 0, 60000,
     NULL, false},
    {G_POOL, "rebalance", vs_config_value_enum, P(rebalance), "off", 0, 0, rebalance_names, false},
    {G_POOL, "host_cpu_high", vs_config_value_double, P(host_cpu_high), "80", 0, 100, NULL, false},
    {G_POOL, "host_cpu_low", vs_config_value_double, P(host_cpu_low), "15", 0, 100, NULL, false},
    {G_POOL, "rebalance_cooldown", vs_config_value_duration, P(rebalance_cooldown), "300", 0, 86400,
     NULL, false},
    {G_POOL, "clone", vs_config_value_enum, P(clone), "overlay", 0, 0, clone_names, false},
    {G_POOL, "storage_pool", vs_config_value_name, P(storage_pool), "default", 0, 0, NULL, false},
    {G_POOL, "vertical", vs_config_value_vertical, NOF, "none", 0, 0, vertical_names, false},
    {G_POOL, "vertical_cpu_low", vs_config_value_double, P(vertical_cpu_low), "15", 0, 100, NULL,
     false},
    {G_POOL, "vertical_cpu_high", vs_config_value_double, P(vertical_cpu_high), "80", 0, 100, NULL,
     false},
    {G_POOL, "vertical_memory_low", vs_config_value_double, P(vertical_memory_low), "15", 0, 100,
     NULL, false},
    {G_POOL, "vertical_memory_high", vs_config_value_double, P(vertical_memory_high), "80", 0, 100,
     NULL, false},
    {G_POOL, "vertical_debounce", vs_config_value_debounce, P(vertical_debounce), "7/10", 0, 0,
     NULL, false},
    {G_POOL, "vertical_interval", vs_config_value_duration, P(vertical_interval), "5", 1, 3600,
     NULL, false},
    {G_POOL, "scale_order", vs_config_value_enum, P(scale_order), "vertical-first", 0, 0,
     scale_order_names, false},
    {G_POOL, "placement", vs_config_value_enum, P(placement), "fewest", 0, 0, placement_names,
     false},
    {G_POOL, "repeat_interval", vs_config_value_duration, P(repeat_interval), "10", 1, 3600, NULL,
     false},
    {G_POOL, "warm", vs_config_value_uint, P(warm), "0", 0, 1000, NULL, false},
    {G_POOL, "warm_mode", vs_config_value_enum, P(warm_mode), "paused", 0, 0, warm_mode_names,
     false},
    {G_POOL, "warm_memory", vs_config_value_uint, P(warm_memory), "0", 0, 16777216, NULL, false},
    {G_POOL, "step", vs_config_value_uint, P(step), "1", 1, 1000, NULL, false},
    {G_POOL, "max_parallel", vs_config_value_uint, P(max_parallel), "1", 1, 64, NULL, false},
    {G_POOL, "stabilization_up", vs_config_value_duration, P(stabilization_up), "0", 0, 86400, NULL,
     false},
    {G_POOL, "busy_sessions", vs_config_value_uint, P(busy_sessions), "0", 0, 1000000, NULL, false},
    {G_POOL, "warmup", vs_config_value_duration, P(warmup), "0", 0, 86400, NULL, false},
};
#undef C
#undef P
#undef H
#define N_KEYS G_N_ELEMENTS(keys)

/**
 * vs_config_key_at:
 * @i: index into the key table
 * @group: set to the group's name ("pool" for [pool NAME], "host" for [host NAME])
 * @name: set to the key's name
 *
 * Walks the key table, so tests can check that the example file and the
 * manual cover every key. Returns false past the last key.
 */
bool vs_config_key_at(size_t i, const char **group, const char **name)
{
	if (i >= N_KEYS)
		return false;
	*group = group_names[keys[i].group];
	*name = keys[i].name;
	return true;
}

static int find_key(group_id g, const char *name)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		if (keys[i].group == g && strcmp(keys[i].name, name) == 0)
			return (int)i;
	}
	return -1;
}

/* Applies every default of group @g to @base; a bad default is a bug. */
static void apply_defaults(group_id g, void *base)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		g_autofree char *msg = NULL;

		if (keys[i].group != g || !keys[i].def)
			continue;
		if (!keys[i].parse(&keys[i], base, keys[i].def, &msg))
			g_error("virtscale: bad built-in default for %s: %s", keys[i].name, msg);
	}
}

/* ---- parser state -------------------------------------------------------- */

/* Where each key of one group instance was set (0 = not set). */
typedef struct group_lines {
	int header;
	int key[G_N_ELEMENTS(keys)];
} group_lines;

typedef struct parser {
	const char *name; /* file name for messages */
	vs_config *cfg;
	group_lines global[G_HOST]; /* one instance of each fixed group */
	GPtrArray *host_lines;      /* group_lines*, parallel to cfg->host_configs */
	GPtrArray *pool_lines;      /* group_lines*, parallel to cfg->pools */
	group_id group;             /* current group, G_COUNT = none yet */
	void *base;                 /* current struct */
	group_lines *lines;         /* current lines */
	char *group_label;          /* "[pool web]" for messages */
} parser;

static void fail(parser *ps, GError **error, int line, const char *fmt, ...) G_GNUC_PRINTF(4, 5);

/* Sets @error to "FILE:LINE: message"; a line of 0 omits it. */
static void fail(parser *ps, GError **error, int line, const char *fmt, ...)
{
	va_list ap;
	g_autofree char *msg = NULL;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (line > 0)
		g_set_error(error, VS_CONFIG_ERROR, VS_CONFIG_ERROR_PARSE, "%s:%d: %s", ps->name,
		            line, msg);
	else
		g_set_error(error, VS_CONFIG_ERROR, VS_CONFIG_ERROR_PARSE, "%s: %s", ps->name, msg);
}

static char *label_for(group_id g, const char *name)
{
	if (g == G_POOL || g == G_HOST)
		return g_strdup_printf("[%s %s]", group_names[g], name);
	return g_strdup_printf("[%s]", group_names[g]);
}

static void host_config_free(gpointer data)
{
	vs_host_config *h = data;

	if (!h)
		return;
	g_free(h->name);
	g_free(h->uri);
	g_free(h->hostfwd_address);
	g_free(h->partition);
	g_free(h->migrate_uri);
	g_free(h);
}

static void pool_config_free(gpointer data)
{
	vs_pool_config *p = data;

	if (!p)
		return;
	g_free(p->name);
	g_free(p->template_name);
	g_free(p->name_pattern);
	g_free(p->uri);
	g_strfreev(p->hosts);
	g_strfreev(p->host_names);
	g_free(p->sessions_url);
	g_free(p->probe_path);
	g_free(p->storage_pool);
	g_free(p->address_cidr);
	g_free(p);
}

static vs_config *config_new(const char *name)
{
	vs_config *cfg = g_new0(vs_config, 1);

	cfg->path = g_strdup(name);
	cfg->pools = g_ptr_array_new_with_free_func(pool_config_free);
	cfg->host_configs = g_ptr_array_new_with_free_func(host_config_free);
	for (group_id g = G_LIBVIRT; g < G_HOST; g++)
		apply_defaults(g, cfg);
	return cfg;
}

/* Strips leading and trailing blanks in place; returns the new start. */
static char *strip(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	return s;
}

/*
 * Refuses what a text config never contains: NUL bytes, control characters
 * other than TAB, and invalid UTF-8. Returns NULL or a message.
 */
static char *check_line_bytes(const char *line, size_t len)
{
	const char *end;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c == 0)
			return g_strdup("NUL byte: this is not a text file");
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return g_strdup_printf("control character 0x%02x: this is not a text file",
			                       c);
	}
	if (!g_utf8_validate(line, (gssize)len, &end))
		return g_strdup_printf("invalid UTF-8 at column %zu", (size_t)(end - line) + 1);
	return NULL;
}

/* The header of a named group ("pool web", "host hv2"): true with *@g and
 * *@name set when @inner starts with a named group's word and a blank. */
static bool named_group(char *inner, group_id *g, const char **name)
{
	for (group_id i = G_HOST; i <= G_POOL; i++) {
		size_t n = strlen(group_names[i]);

		if (strncmp(inner, group_names[i], n) == 0 &&
		    (inner[n] == ' ' || inner[n] == '\t')) {
			*g = i;
			*name = strip(inner + n);
			return true;
		}
	}
	return false;
}

/* A new [host NAME] or [pool NAME]: unique, valid name, defaults applied. */
static bool start_named_group(parser *ps, int lineno, group_id g, const char *name, GError **error)
{
	GPtrArray *list = g == G_POOL ? ps->cfg->pools : ps->cfg->host_configs;
	GPtrArray *lines = g == G_POOL ? ps->pool_lines : ps->host_lines;
	group_lines *gl;
	void *base;

	if (!vs_valid_pool_name(name)) {
		fail(ps, error, lineno,
		     "%s: invalid %s name (letters, digits, '_' and '-', starting with a letter "
		     "or digit, at most 64 characters)",
		     ps->group_label, group_names[g]);
		return false;
	}
	for (guint i = 0; i < list->len; i++) {
		const char *other = g == G_POOL ? ((vs_pool_config *)list->pdata[i])->name
		                                : ((vs_host_config *)list->pdata[i])->name;

		if (strcmp(other, name) == 0) {
			fail(ps, error, lineno, "%s: duplicate group (first at line %d)",
			     ps->group_label, ((group_lines *)lines->pdata[i])->header);
			return false;
		}
	}
	if (g == G_POOL) {
		vs_pool_config *p = g_new0(vs_pool_config, 1);

		p->name = g_strdup(name);
		p->line = lineno;
		base = p;
	} else {
		vs_host_config *h = g_new0(vs_host_config, 1);

		h->name = g_strdup(name);
		h->line = lineno;
		base = h;
	}
	apply_defaults(g, base);
	gl = g_new0(group_lines, 1);
	gl->header = lineno;
	g_ptr_array_add(list, base);
	g_ptr_array_add(lines, gl);
	ps->group = g;
	ps->base = base;
	ps->lines = gl;
	return true;
}

static bool start_group(parser *ps, int lineno, char *header, GError **error)
{
	char *close = strchr(header, ']');
	char *inner, *after;
	group_id g = G_COUNT;
	const char *name = NULL;

	if (!close) {
		fail(ps, error, lineno, "group header without ']'");
		return false;
	}
	*close = '\0';
	after = strip(close + 1);
	if (*after && *after != ';' && *after != '#') {
		fail(ps, error, lineno, "unexpected text after group header: '%s'", after);
		return false;
	}
	inner = strip(header + 1);
	if (!named_group(inner, &g, &name)) {
		for (group_id i = G_LIBVIRT; i < G_HOST; i++) {
			if (strcmp(inner, group_names[i]) == 0)
				g = i;
		}
	}
	if (g == G_COUNT) {
		if (strcmp(inner, "pool") == 0 || strcmp(inner, "host") == 0)
			fail(ps, error, lineno, "[%s]: a %s group needs a name: [%s NAME]", inner,
			     inner, inner);
		else
			fail(ps, error, lineno, "[%s]: unknown group", inner);
		return false;
	}
	g_free(ps->group_label);
	ps->group_label = label_for(g, name);
	if (g == G_POOL || g == G_HOST)
		return start_named_group(ps, lineno, g, name, error);
	if (ps->global[g].header) {
		fail(ps, error, lineno, "%s: duplicate group (first at line %d)", ps->group_label,
		     ps->global[g].header);
		return false;
	}
	ps->global[g].header = lineno;
	ps->group = g;
	ps->base = ps->cfg;
	ps->lines = &ps->global[g];
	return true;
}

/* Cuts an inline comment: ';' or '#' preceded by a blank. */
static void cut_comment(char *value)
{
	for (char *p = value; *p; p++) {
		if ((*p == ';' || *p == '#') && p > value && (p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			return;
		}
	}
}

static bool set_key(parser *ps, int lineno, char *line, GError **error)
{
	char *eq = strchr(line, '=');
	char *key, *value;
	g_autofree char *msg = NULL;
	int idx;

	if (!eq) {
		fail(ps, error, lineno, "expected 'key = value' (missing '=')");
		return false;
	}
	*eq = '\0';
	key = strip(line);
	value = eq + 1;
	cut_comment(value);
	value = strip(value);
	if (!*key) {
		fail(ps, error, lineno, "missing key before '='");
		return false;
	}
	if (strspn(key, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(key)) {
		fail(ps, error, lineno, "invalid key name: keys are made of [a-z0-9_]");
		return false;
	}
	if (ps->group == G_COUNT) {
		fail(ps, error, lineno, "%s: key outside of any group", key);
		return false;
	}
	idx = find_key(ps->group, key);
	if (idx < 0) {
		fail(ps, error, lineno, "%s %s: unknown key", ps->group_label, key);
		return false;
	}
	if (ps->lines->key[idx]) {
		fail(ps, error, lineno, "%s %s: duplicate key (first at line %d)", ps->group_label,
		     key, ps->lines->key[idx]);
		return false;
	}
	if (!*value) {
		fail(ps, error, lineno, "%s %s: empty value (remove the line to get the default)",
		     ps->group_label, key);
		return false;
	}
	if (!keys[idx].parse(&keys[idx], ps->base, value, &msg)) {
		fail(ps, error, lineno, "%s %s: %s", ps->group_label, key, msg);
		return false;
	}
	ps->lines->key[idx] = lineno;
	return true;
}

static bool parse_lines(parser *ps, const char *data, gsize len, GError **error)
{
	gsize pos = 0;
	int lineno = 0;

	/* a UTF-8 byte order mark, as some editors write it, is not content */
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		pos = 3;
	while (pos < len) {
		const char *start = data + pos;
		const char *nl = memchr(start, '\n', len - pos);
		gsize llen = nl ? (gsize)(nl - start) : len - pos;
		g_autofree char *line = NULL;
		g_autofree char *bad = NULL;
		char *s;

		lineno++;
		pos += llen + (nl ? 1 : 0);
		if (llen > 0 && start[llen - 1] == '\r')
			llen--; /* CRLF files */
		if (llen > CONFIG_MAX_LINE) {
			fail(ps, error, lineno, "line too long (more than %d bytes)",
			     CONFIG_MAX_LINE);
			return false;
		}
		bad = check_line_bytes(start, llen);
		if (bad) {
			fail(ps, error, lineno, "%s", bad);
			return false;
		}
		line = g_strndup(start, llen);
		s = strip(line);
		if (!*s || *s == ';' || *s == '#')
			continue;
		if (*s == '[') {
			if (!start_group(ps, lineno, s, error))
				return false;
			continue;
		}
		if (!set_key(ps, lineno, s, error))
			return false;
	}
	return true;
}

/* ---- cross-checks ---------------------------------------------------------- */

/* The line to blame for key @name in @gl: where it was set, else the header. */
static int blame(const group_lines *gl, group_id g, const char *name)
{
	int idx = find_key(g, name);

	if (idx >= 0 && gl->key[idx])
		return gl->key[idx];
	return gl->header;
}

/* The later of two keys' lines: the one that made the pair inconsistent. */
static int blame2(const group_lines *gl, group_id g, const char *a, const char *b)
{
	int la = blame(gl, g, a), lb = blame(gl, g, b);

	return la > lb ? la : lb;
}

/* The URI of the host @word names (a [host NAME] or a URI), or NULL. */
static const char *resolve_host(const vs_config *cfg, const char *word)
{
	for (guint i = 0; i < cfg->host_configs->len; i++) {
		const vs_host_config *h = cfg->host_configs->pdata[i];

		if (strcmp(h->name, word) == 0 || strcmp(h->uri, word) == 0)
			return h->uri;
	}
	return NULL;
}

/*
 * The hosts a pool spans: uri = (one), hosts = (names or URIs, in the
 * order ties are broken), or every host. host_min and host_max must leave
 * room for min and max on them.
 */
static bool check_pool_hosts(parser *ps, vs_pool_config *p, group_lines *gl, const char *label,
                             GError **error)
{
	const vs_config *cfg = ps->cfg;
	GPtrArray *list = g_ptr_array_new_with_free_func(g_free);
	unsigned n;

	if (p->uri && p->host_names) {
		fail(ps, error, blame2(gl, G_POOL, "uri", "hosts"),
		     "%s hosts: give either uri or hosts, not both", label);
		goto fail;
	}
	if (p->uri) {
		if (!resolve_host(cfg, p->uri)) {
			fail(ps, error, blame(gl, G_POOL, "uri"),
			     "%s uri: '%s' is not one of the configured hosts", label, p->uri);
			goto fail;
		}
		g_ptr_array_add(list, g_strdup(p->uri));
	} else if (p->host_names) {
		for (char **w = p->host_names; *w; w++) {
			const char *uri = resolve_host(cfg, *w);

			if (!uri) {
				fail(ps, error, blame(gl, G_POOL, "hosts"),
				     "%s hosts: '%s' is not a configured host ([host NAME] or a "
				     "URI of [libvirt] hosts)",
				     label, *w);
				goto fail;
			}
			for (guint i = 0; i < list->len; i++) {
				if (strcmp(list->pdata[i], uri) == 0) {
					fail(ps, error, blame(gl, G_POOL, "hosts"),
					     "%s hosts: '%s' is listed twice", label, *w);
					goto fail;
				}
			}
			g_ptr_array_add(list, g_strdup(uri));
		}
	} else {
		for (char **u = cfg->hosts; *u; u++)
			g_ptr_array_add(list, g_strdup(*u));
	}
	n = list->len;
	g_ptr_array_add(list, NULL);
	g_strfreev(p->hosts);
	p->hosts = (char **)g_ptr_array_free(list, FALSE);
	list = NULL;
	if (!p->uri)
		p->uri = g_strdup(p->hosts[0]);
	if (p->host_max && p->host_min > p->host_max) {
		fail(ps, error, blame2(gl, G_POOL, "host_min", "host_max"),
		     "%s host_min: host_min (%u) must not exceed host_max (%u)", label, p->host_min,
		     p->host_max);
		return false;
	}
	if (p->host_max && (guint64)p->host_max * n < p->min) {
		fail(ps, error, blame2(gl, G_POOL, "host_max", "min"),
		     "%s host_max: %u hosts x host_max %u cannot hold min = %u", label, n,
		     p->host_max, p->min);
		return false;
	}
	if ((guint64)p->host_min * n > p->max) {
		fail(ps, error, blame2(gl, G_POOL, "host_min", "max"),
		     "%s host_min: %u hosts x host_min %u exceed max = %u", label, n, p->host_min,
		     p->max);
		return false;
	}
	return true;
fail:
	if (list)
		g_ptr_array_free(list, TRUE);
	return false;
}

/*
 * The hosts: [host NAME] groups, or the URIs of [libvirt] uri/hosts (each
 * named by its URI, its guests' forwards on 127.0.0.1) - not both.
 */
static bool check_hosts(parser *ps, GError **error)
{
	vs_config *cfg = ps->cfg;
	const group_lines *lv = &ps->global[G_LIBVIRT];
	int uri_line = lv->key[find_key(G_LIBVIRT, "uri")];
	int hosts_line = lv->key[find_key(G_LIBVIRT, "hosts")];
	GPtrArray *uris;

	if (cfg->host_configs->len == 0) {
		for (char **u = cfg->hosts; *u; u++) {
			vs_host_config *h = g_new0(vs_host_config, 1);

			h->name = g_strdup(*u);
			h->uri = g_strdup(*u);
			h->hostfwd_address = g_strdup("127.0.0.1");
			h->line = MAX(uri_line, hosts_line);
			g_ptr_array_add(cfg->host_configs, h);
		}
		return true;
	}
	if (uri_line || hosts_line) {
		const group_lines *first = ps->host_lines->pdata[0];

		fail(ps, error, MAX(uri_line, hosts_line),
		     "[libvirt] %s: hosts are given by [host NAME] groups (first at line %d); "
		     "remove this key",
		     uri_line ? "uri" : "hosts", first->header);
		return false;
	}
	uris = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < cfg->host_configs->len; i++) {
		vs_host_config *h = cfg->host_configs->pdata[i];
		group_lines *gl = ps->host_lines->pdata[i];
		g_autofree char *label = label_for(G_HOST, h->name);

		for (size_t k = 0; k < N_KEYS; k++) {
			if (keys[k].group == G_HOST && keys[k].required && !gl->key[k]) {
				fail(ps, error, gl->header, "%s %s: required key missing", label,
				     keys[k].name);
				g_ptr_array_free(uris, TRUE);
				return false;
			}
		}
		for (guint j = 0; j < uris->len; j++) {
			if (strcmp(uris->pdata[j], h->uri) == 0) {
				fail(ps, error, blame(gl, G_HOST, "uri"),
				     "%s uri: '%s' is already the uri of host %s", label, h->uri,
				     ((vs_host_config *)cfg->host_configs->pdata[j])->name);
				g_ptr_array_free(uris, TRUE);
				return false;
			}
		}
		g_ptr_array_add(uris, g_strdup(h->uri));
	}
	g_ptr_array_add(uris, NULL);
	g_strfreev(cfg->hosts);
	cfg->hosts = (char **)g_ptr_array_free(uris, FALSE);
	return true;
}

static bool check_pool(parser *ps, vs_pool_config *p, group_lines *gl, GError **error)
{
	vs_config *cfg = ps->cfg;
	g_autofree char *label = label_for(G_POOL, p->name);

	for (size_t i = 0; i < N_KEYS; i++) {
		if (keys[i].group == G_POOL && keys[i].required && !gl->key[i]) {
			fail(ps, error, gl->header, "%s %s: required key missing", label,
			     keys[i].name);
			return false;
		}
	}
	if (p->min > p->max) {
		fail(ps, error, blame2(gl, G_POOL, "min", "max"),
		     "%s min: min (%u) must not exceed max (%u)", label, p->min, p->max);
		return false;
	}
	if (p->cpu_low >= p->cpu_high) {
		fail(ps, error, blame2(gl, G_POOL, "cpu_low", "cpu_high"),
		     "%s cpu_low: cpu_low (%g) must be below cpu_high (%g)", label, p->cpu_low,
		     p->cpu_high);
		return false;
	}
	if (p->sessions_low >= p->sessions_high) {
		fail(ps, error, blame2(gl, G_POOL, "sessions_low", "sessions_high"),
		     "%s sessions_low: sessions_low (%g) must be below sessions_high (%g)", label,
		     p->sessions_low, p->sessions_high);
		return false;
	}
	if (p->ratio_low >= p->ratio_high) {
		fail(ps, error, blame2(gl, G_POOL, "ratio_low", "ratio_high"),
		     "%s ratio_low: ratio_low (%g) must be below ratio_high (%g)", label,
		     p->ratio_low, p->ratio_high);
		return false;
	}
	if (p->host_cpu_low >= p->host_cpu_high) {
		fail(ps, error, blame2(gl, G_POOL, "host_cpu_low", "host_cpu_high"),
		     "%s host_cpu_low: host_cpu_low (%g) must be below host_cpu_high (%g)", label,
		     p->host_cpu_low, p->host_cpu_high);
		return false;
	}
	if (p->vertical_cpu_low >= p->vertical_cpu_high) {
		fail(ps, error, blame2(gl, G_POOL, "vertical_cpu_low", "vertical_cpu_high"),
		     "%s vertical_cpu_low: vertical_cpu_low (%g) must be below vertical_cpu_high "
		     "(%g)",
		     label, p->vertical_cpu_low, p->vertical_cpu_high);
		return false;
	}
	if (p->vertical_memory_low >= p->vertical_memory_high) {
		fail(ps, error, blame2(gl, G_POOL, "vertical_memory_low", "vertical_memory_high"),
		     "%s vertical_memory_low: vertical_memory_low (%g) must be below "
		     "vertical_memory_high (%g)",
		     label, p->vertical_memory_low, p->vertical_memory_high);
		return false;
	}
	if (p->migrate_dirty_low > p->migrate_dirty_high) {
		fail(ps, error, blame2(gl, G_POOL, "migrate_dirty_low", "migrate_dirty_high"),
		     "%s migrate_dirty_low: migrate_dirty_low (%g) must not be above "
		     "migrate_dirty_high (%g)",
		     label, p->migrate_dirty_low, p->migrate_dirty_high);
		return false;
	}
	if (!check_pool_hosts(ps, p, gl, label, error))
		return false;
	if (p->address == VS_ADDRESS_HOSTFWD) {
		if (!p->hostfwd_first) {
			fail(ps, error, blame(gl, G_POOL, "address"),
			     "%s address: address = hostfwd needs hostfwd_ports = A-B", label);
			return false;
		}
		if (p->hostfwd_last - p->hostfwd_first + 1 < p->max) {
			fail(ps, error, blame2(gl, G_POOL, "hostfwd_ports", "max"),
			     "%s hostfwd_ports: %u-%u has %u ports, fewer than max = %u", label,
			     p->hostfwd_first, p->hostfwd_last,
			     p->hostfwd_last - p->hostfwd_first + 1, p->max);
			return false;
		}
	}
	if (p->address == VS_ADDRESS_HOSTFWD && p->n_address_cidr) {
		fail(ps, error, blame(gl, G_POOL, "address_cidr"),
		     "%s address_cidr: only for addresses a guest reports (address = lease, "
		     "agent or arp); address = hostfwd is set here, not by the guest",
		     label);
		return false;
	}
	if (p->lb == VS_LB_NGINX) {
		const char *missing = !cfg->nginx_upstream_file ? "upstream_file"
		                      : !cfg->nginx_upstream    ? "upstream"
		                      : !cfg->nginx_conf        ? "conf"
		                                                : NULL;
		if (missing) {
			fail(ps, error, blame(gl, G_POOL, "lb"),
			     "%s lb: lb = nginx needs %s in [nginx]", label, missing);
			return false;
		}
	}
	if (p->lb == VS_LB_APACHE || p->sessions == VS_SESSIONS_APACHE) {
		const char *missing = !cfg->apache_balancer_manager ? "balancer_manager"
		                      : !cfg->apache_balancer       ? "balancer"
		                                                    : NULL;
		const char *key = p->lb == VS_LB_APACHE ? "lb" : "sessions";

		if (missing) {
			fail(ps, error, blame(gl, G_POOL, key),
			     "%s %s: %s = apache needs %s in [apache]", label, key, key, missing);
			return false;
		}
	}
	return true;
}

/* Pools share one [nginx]/[apache] upstream and must not share clone names or ports. */
static bool check_pool_pairs(parser *ps, GError **error)
{
	GPtrArray *pools = ps->cfg->pools;

	for (guint i = 0; i < pools->len; i++) {
		vs_pool_config *a = pools->pdata[i];

		for (guint j = i + 1; j < pools->len; j++) {
			vs_pool_config *b = pools->pdata[j];
			group_lines *gl = ps->pool_lines->pdata[j];
			g_autofree char *label = label_for(G_POOL, b->name);

			if (strcmp(a->name_pattern, b->name_pattern) == 0) {
				fail(ps, error, blame(gl, G_POOL, "name_pattern"),
				     "%s name_pattern: same as pool %s", label, a->name);
				return false;
			}
			if (a->lb == b->lb && a->lb != VS_LB_NONE) {
				fail(
				    ps, error, blame(gl, G_POOL, "lb"),
				    "%s lb: pool %s already uses lb = %s (one upstream per config)",
				    label, a->name, vs_lb_kind_name(a->lb));
				return false;
			}
			if (a->address == VS_ADDRESS_HOSTFWD && b->address == VS_ADDRESS_HOSTFWD &&
			    a->hostfwd_first <= b->hostfwd_last &&
			    b->hostfwd_first <= a->hostfwd_last) {
				fail(ps, error, blame(gl, G_POOL, "hostfwd_ports"),
				     "%s hostfwd_ports: overlaps pool %s (%u-%u)", label, a->name,
				     a->hostfwd_first, a->hostfwd_last);
				return false;
			}
		}
	}
	return true;
}

static bool check_config(parser *ps, GError **error)
{
	vs_config *cfg = ps->cfg;
	const group_lines *lv = &ps->global[G_LIBVIRT];
	const group_lines *mail = &ps->global[G_MAIL];

	if (lv->key[find_key(G_LIBVIRT, "uri")] && lv->key[find_key(G_LIBVIRT, "hosts")]) {
		fail(ps, error, blame2(lv, G_LIBVIRT, "uri", "hosts"),
		     "[libvirt] hosts: give either uri or hosts, not both");
		return false;
	}
	if (!check_hosts(ps, error))
		return false;
	if (cfg->slow_interval < cfg->refresh_interval) {
		fail(ps, error, blame2(lv, G_LIBVIRT, "slow_interval", "refresh_interval"),
		     "[libvirt] slow_interval: %u must not be below refresh_interval (%u)",
		     cfg->slow_interval, cfg->refresh_interval);
		return false;
	}
	if (cfg->mail_server && !cfg->mail_to) {
		fail(ps, error, mail->header, "[mail] to: required key missing (server is set)");
		return false;
	}
	/* the password would cross the network as it is (AUTH PLAIN) */
	if (cfg->mail_user && cfg->mail_starttls == VS_STARTTLS_NO &&
	    !cfg->mail_allow_cleartext_auth) {
		fail(ps, error, blame2(mail, G_MAIL, "user", "starttls"),
		     "[mail] user: the password would be sent in clear text with starttls = no; "
		     "use starttls = required (or allow_cleartext_auth = yes)");
		return false;
	}
	if (!cfg->snmp_state_file)
		cfg->snmp_state_file = g_build_filename(cfg->state_dir, "vm-index.map", NULL);
	/* whether the group exists is virtscaled's to check, where it runs */
	cfg->socket_group_line = ps->global[G_ACTUATOR].key[find_key(G_ACTUATOR, "socket_group")];
	for (guint i = 0; i < cfg->pools->len; i++) {
		if (!check_pool(ps, cfg->pools->pdata[i], ps->pool_lines->pdata[i], error))
			return false;
	}
	return check_pool_pairs(ps, error);
}

/* ---- public API -------------------------------------------------------------- */

/**
 * vs_config_load_from_data:
 * @data: file contents (need not be NUL-terminated; may hold junk)
 * @len: length of @data
 * @name: name used in error messages and stored as cfg->path
 * @error: set on failure, "NAME:LINE: [group] key: what is wrong"
 *
 * Parses and validates a whole configuration. Returns NULL on the first
 * error; nothing is partially applied.
 */
vs_config *vs_config_load_from_data(const char *data, gsize len, const char *name, GError **error)
{
	parser ps = {0};
	bool ok;

	g_return_val_if_fail(data != NULL || len == 0, NULL);
	ps.name = name ? name : "(config)";
	ps.cfg = config_new(ps.name);
	ps.pool_lines = g_ptr_array_new_with_free_func(g_free);
	ps.host_lines = g_ptr_array_new_with_free_func(g_free);
	ps.group = G_COUNT;
	ok = parse_lines(&ps, data ? data : "", len, error) && check_config(&ps, error);
	g_ptr_array_free(ps.pool_lines, TRUE);
	g_ptr_array_free(ps.host_lines, TRUE);
	g_free(ps.group_label);
	if (!ok) {
		vs_config_free(ps.cfg);
		return NULL;
	}
	return ps.cfg;
}

/**
 * vs_config_load:
 * @path: the file; NULL means VS_DEFAULT_CONFIG_FILE
 * @error: set on failure, "FILE:LINE: [group] key: what is wrong", or
 *         "FILE: message" when the file cannot be read
 *
 * Reads, parses and validates the whole file. Returns NULL on any error.
 */
vs_config *vs_config_load(const char *path, GError **error)
{
	g_autofree char *data = NULL;
	g_autoptr(GError) err = NULL;
	gsize len = 0;

	if (!path)
		path = VS_DEFAULT_CONFIG_FILE;
	if (!g_file_get_contents(path, &data, &len, &err)) {
		g_set_error(error, VS_CONFIG_ERROR, VS_CONFIG_ERROR_IO, "%s: cannot read: %s", path,
		            err->message);
		return NULL;
	}
	if (len > CONFIG_MAX_FILE) {
		g_set_error(error, VS_CONFIG_ERROR, VS_CONFIG_ERROR_IO,
		            "%s: file too large (%zu bytes; a config is at most %d)", path,
		            (size_t)len, CONFIG_MAX_FILE);
		return NULL;
	}
	return vs_config_load_from_data(data, len, path, error);
}

/**
 * vs_config_free:
 * @cfg: a configuration or NULL
 *
 * Frees @cfg and every pool in it.
 */
void vs_config_free(vs_config *cfg)
{
	if (!cfg)
		return;
	g_free(cfg->path);
	g_strfreev(cfg->hosts);
	g_free(cfg->agentx_socket);
	g_free(cfg->snmp_state_file);
	g_free(cfg->snmp_pid_file);
	g_free(cfg->actuator_pid_file);
	g_free(cfg->actuator_socket);
	g_free(cfg->state_dir);
	g_free(cfg->socket_group);
	if (cfg->allow_uids)
		g_array_unref(cfg->allow_uids);
	if (cfg->allow_gids)
		g_array_unref(cfg->allow_gids);
	g_free(cfg->nginx_upstream_file);
	g_free(cfg->nginx_upstream);
	g_free(cfg->nginx_conf);
	g_free(cfg->nginx_pid_file);
	g_free(cfg->nginx_binary);
	g_free(cfg->nginx_reload_command);
	g_free(cfg->nginx_zone);
	g_free(cfg->apache_balancer_manager);
	g_free(cfg->apache_balancer);
	g_free(cfg->mail_server);
	g_free(cfg->mail_from);
	g_strfreev(cfg->mail_to);
	g_free(cfg->mail_user);
	g_free(cfg->mail_password_file);
	g_free(cfg->mail_ca_file);
	if (cfg->pools)
		g_ptr_array_free(cfg->pools, TRUE);
	if (cfg->host_configs)
		g_ptr_array_free(cfg->host_configs, TRUE);
	g_free(cfg);
}

/**
 * vs_config_find_pool:
 * @cfg: a configuration
 * @name: pool name
 *
 * Returns the pool called @name, or NULL.
 */
const vs_pool_config *vs_config_find_pool(const vs_config *cfg, const char *name)
{
	if (!cfg || !name)
		return NULL;
	for (guint i = 0; i < cfg->pools->len; i++) {
		const vs_pool_config *p = cfg->pools->pdata[i];

		if (strcmp(p->name, name) == 0)
			return p;
	}
	return NULL;
}

/**
 * vs_config_find_host:
 * @cfg: a configuration
 * @uri: a hypervisor URI
 *
 * Returns the host whose URI is @uri, or NULL.
 */
const vs_host_config *vs_config_find_host(const vs_config *cfg, const char *uri)
{
	if (!cfg || !uri)
		return NULL;
	for (guint i = 0; i < cfg->host_configs->len; i++) {
		const vs_host_config *h = cfg->host_configs->pdata[i];

		if (strcmp(h->uri, uri) == 0)
			return h;
	}
	return NULL;
}

/**
 * vs_config_host_name:
 * @cfg: a configuration
 * @uri: a hypervisor URI
 *
 * Returns the name of the host @uri: its [host NAME], else @uri itself.
 */
const char *vs_config_host_name(const vs_config *cfg, const char *uri)
{
	const vs_host_config *h = vs_config_find_host(cfg, uri);

	return h ? h->name : uri;
}

/**
 * vs_policy_kind_name:
 * @k: a policy kind
 *
 * Returns the name used in the config file ("average", "ratio",
 * "proportional"), or "unknown".
 */
const char *vs_policy_kind_name(vs_policy_kind k)
{
	if ((unsigned)k < G_N_ELEMENTS(policy_names) - 1)
		return policy_names[k];
	return "unknown";
}

/**
 * vs_lb_kind_name:
 * @k: a load-balancer kind
 *
 * Returns the name used in the config file ("none", "nginx", "apache"), or
 * "unknown".
 */
const char *vs_lb_kind_name(vs_lb_kind k)
{
	if ((unsigned)k < G_N_ELEMENTS(lb_names) - 1)
		return lb_names[k];
	return "unknown";
}
