/*
 * vs-config.h - the one configuration file shared by all virtscale programs.
 *
 * INI format (GKeyFile-like: [group], key = value, ';' or '#' comments,
 * "[pool NAME]" groups). Every key is known to this parser: an unknown key,
 * a bad value or a missing required key is an error naming file:line and the
 * key. Programs call vs_config_load() before starting anything and exit with
 * status 2 (VS_EXIT_CONFIG) when it fails. See virtscale.conf(5).
 */
#ifndef VS_CONFIG_H
#define VS_CONFIG_H

#include "vs-error.h"
#include "vs-ipv4-net.h"

#include <glib.h>
#include <stdbool.h>

#define VS_EXIT_CONFIG         2
#define VS_DEFAULT_CONFIG_FILE SYSCONFDIR "/virtscale/virtscale.conf"

typedef enum { VS_POLICY_AVERAGE, VS_POLICY_RATIO, VS_POLICY_PROPORTIONAL } vs_policy_kind;
typedef enum { VS_LB_NONE, VS_LB_NGINX, VS_LB_APACHE } vs_lb_kind;
typedef enum { VS_SESSIONS_SOCKDIAG, VS_SESSIONS_APACHE, VS_SESSIONS_HTTP } vs_sessions_kind;
typedef enum {
	VS_ADDRESS_LEASE,
	VS_ADDRESS_AGENT,
	VS_ADDRESS_ARP,
	VS_ADDRESS_HOSTFWD
} vs_address_kind;
typedef enum { VS_PROBE_HTTP, VS_PROBE_TCP, VS_PROBE_NONE } vs_probe_kind;
typedef enum { VS_CLONE_OVERLAY, VS_CLONE_COPY } vs_clone_kind;
typedef enum { VS_PLACEMENT_FEWEST, VS_PLACEMENT_WEIGHTED } vs_placement_kind;
typedef enum { VS_REBALANCE_OFF, VS_REBALANCE_ON, VS_REBALANCE_DRY_RUN } vs_rebalance_mode;
typedef enum { VS_STARTTLS_NO, VS_STARTTLS_OPTIONAL, VS_STARTTLS_REQUIRED } vs_starttls_mode;
typedef enum { VS_NGINX_ROUND_ROBIN, VS_NGINX_LEAST_CONN } vs_nginx_method;
typedef enum { VS_METRIC_NONE, VS_METRIC_CPU, VS_METRIC_SESSIONS, VS_METRIC_RATIO } vs_metric;
typedef enum { VS_WEIGHTS_NONE, VS_WEIGHTS_RATIO } vs_weights_kind;
/* which way a pool grows first: a member's vCPUs/memory, or instances */
typedef enum { VS_ORDER_VERTICAL_FIRST, VS_ORDER_HORIZONTAL_FIRST } vs_scale_order;
/* an M-of-N window: a breach counts when M of the last N samples are beyond */
typedef struct vs_m_of_n {
	unsigned m, n;
} vs_m_of_n;
typedef enum { VS_WARM_PAUSED, VS_WARM_SAVED } vs_warm_mode;

/* [host NAME], or one URI of [libvirt] hosts = (then named by its URI) */
typedef struct vs_host_config {
	char *name;
	char *uri;             /* uri = (required) */
	char *hostfwd_address; /* hostfwd_address = 127.0.0.1: where its guests' forwards listen */
	char *partition;       /* partition = : cgroup partition of guests migrated here */
	char *migrate_uri;     /* migrate_uri = : where migration data to this host goes */
	int line;              /* line of the [host NAME] header, or of [libvirt] hosts */
} vs_host_config;

/* [pool NAME] */
#define VS_CONFIG_N_PRICES 9 /* vs_usage_kind's kinds but the pool-only one */

typedef struct vs_pool_config {
	char *name;
	char *template_name; /* template = ; shut-off domain to clone (required) */
	char *name_pattern;  /* name_pattern = web-%02d ; exactly one %d/%0Nd */
	char *uri;           /* uri = ; the one host of a single-host pool; else hosts[0] */
	char **hosts;        /* hosts = ; URIs the pool spans, in tie order (default: all) */
	char **host_names;   /* hosts = as written (names or URIs), resolved into hosts */
	unsigned host_max;   /* host_max = 0: instances per host at most (0 = no limit) */
	unsigned host_min;   /* host_min = 0: instances kept on each answering host */
	double placement_cpu_weight;    /* placement = weighted: score weights, */
	double placement_memory_weight; /* defaults 0.4 / 0.4 / 0.2 */
	double placement_rtt_weight;
	unsigned min;            /* min = 2 */
	unsigned max;            /* max = 6 */
	vs_policy_kind policy;   /* policy = ratio */
	double cpu_high;         /* average: percent, default 50 */
	double cpu_low;          /* average: percent, default 15 */
	double sessions_high;    /* average: sessions per instance, default 50 */
	double sessions_low;     /* average: sessions per instance, default 5 */
	double session_capacity; /* ratio: SMax, default 100 */
	double ratio_high;       /* ratio: percent of SMax, default 60 */
	double ratio_low;        /* ratio: percent of SMax, default 10 */
	unsigned debounce_m;     /* debounce = M/N, default 7/10 */
	unsigned debounce_n;
	vs_metric target_metric;   /* proportional: cpu | sessions, default sessions */
	double target;             /* proportional: target per instance, default 50 */
	double tolerance;          /* proportional: default 0.1 */
	unsigned stabilization;    /* seconds before a scale-in, default 300 */
	unsigned max_step_up;      /* instances added per action, default 1 */
	unsigned max_step_down;    /* instances removed per action, default 1 */
	vs_sessions_kind sessions; /* sessions = sockdiag | apache | http:URL */
	char *sessions_url;        /* with http:URL; "%a" and "%p" expand to address/port */
	unsigned backend_port;     /* backend_port = 80 (port inside the guest) */
	vs_lb_kind lb;             /* lb = nginx | apache | none */
	vs_weights_kind weights;   /* weights = none | ratio: LB weights from Ai/SMax */
	unsigned cooldown;         /* seconds, default 60 */
	vs_address_kind address;   /* address = lease */
	vs_ipv4_net *address_cidr; /* address_cidr = ; networks a reported address must be in */
	size_t n_address_cidr;     /* 0: the guest's libvirt networks, when known */
	unsigned hostfwd_first;    /* hostfwd_ports = 18100-18199 */
	unsigned hostfwd_last;
	vs_probe_kind probe;       /* probe = http:/ | tcp | none */
	char *probe_path;          /* with http:PATH */
	unsigned probe_timeout;    /* seconds, default 60 */
	unsigned drain_timeout;    /* seconds, default 30 */
	unsigned shutdown_timeout; /* seconds before destroy, default 30 */
	unsigned sync_interval; /* seconds between checks against libvirt and the LB, default 10 */
	bool keep_stopped;      /* keep_stopped = no */
	bool migrate_unsafe;    /* migrate_unsafe = no: migrate without shared storage checks */
	/* live migration's path by the guest's dirty rate, in percent of its
	 * memory per second: below low pre-copy, up to high pre-copy with
	 * XBZRLE then post-copy after max_iterations, above high post-copy */
	double migrate_dirty_low;                 /* migrate_dirty_low = 10 */
	double migrate_dirty_high;                /* migrate_dirty_high = 50 */
	unsigned migrate_xbzrle_cache;            /* migrate_xbzrle_cache = 4 (MiB) */
	unsigned migrate_max_iterations;          /* migrate_max_iterations = 9 */
	bool migrate_auto_converge;               /* migrate_auto_converge = no */
	unsigned migrate_auto_converge_initial;   /* = 0 (%, 0: libvirt's) */
	unsigned migrate_auto_converge_increment; /* = 0 (%, 0: libvirt's) */
	unsigned migrate_max_downtime;            /* migrate_max_downtime = 0 (ms, 0: libvirt's) */
	/* rebalancing between the pool's hosts (vs-rebalance.h): a host whose
	 * guests use more than host_cpu_high percent of its CPUs in M of N
	 * samples (debounce) gives one instance to a host below host_cpu_low */
	vs_rebalance_mode rebalance; /* rebalance = off | on | dry-run */
	double host_cpu_high;        /* host_cpu_high = 80 */
	double host_cpu_low;         /* host_cpu_low = 15 */
	unsigned rebalance_cooldown; /* rebalance_cooldown = 300 (seconds) */
	vs_clone_kind clone;         /* clone = overlay | copy */
	char *storage_pool;          /* storage_pool = default */
	bool vertical_vcpu;          /* vertical = none | vcpu | memory | both */
	bool vertical_memory;
	/* each member's own window on its own load (vs-vertical.h) */
	double vertical_cpu_low;     /* vertical_cpu_low = 15 (% of its vCPUs) */
	double vertical_cpu_high;    /* vertical_cpu_high = 80 */
	double vertical_memory_low;  /* vertical_memory_low = 15 (% of its balloon in use) */
	double vertical_memory_high; /* vertical_memory_high = 80 */
	vs_m_of_n vertical_debounce; /* vertical_debounce = 7/10 */
	unsigned vertical_interval;  /* vertical_interval = 5 (seconds between samples) */
	vs_scale_order scale_order;  /* scale_order = vertical-first | horizontal-first */
	vs_placement_kind placement; /* placement = fewest | weighted */
	unsigned repeat_interval;    /* seconds between repeated notifications, default 10 */
	/* warm instances: cloned, booted until they answer, then paused or
	 * saved, out of the balancer and not counted until a scale-out takes one */
	unsigned warm;             /* warm = 0 */
	vs_warm_mode warm_mode;    /* warm_mode = paused | saved */
	unsigned warm_memory;      /* warm_memory = 0: MiB of warm instances per host, 0 no bound */
	unsigned step;             /* step = 1: instances an average/ratio high asks for */
	unsigned max_parallel;     /* max_parallel = 1: clones booting at once in one action */
	unsigned stabilization_up; /* stabilization_up = 0: seconds a high lasts before scale-out */
	unsigned busy_sessions; /* busy_sessions = 0: a drained victim stops at most with these */
	unsigned warmup;        /* warmup = 0: seconds a new member's CPU is not averaged */
	int line;               /* line of the [pool NAME] header */
} vs_pool_config;

typedef struct vs_config {
	char *path;
	/* [libvirt] */
	char **hosts;              /* every host's URI, config order; NULL-terminated, >= 1 */
	GPtrArray *host_configs;   /* of vs_host_config*, parallel to hosts */
	unsigned host_grace;       /* seconds a host may not answer before its instances are lost */
	unsigned refresh_interval; /* seconds between fast collections, default 1 */
	unsigned slow_interval;    /* seconds between monitor-bound groups, default 10 */
	bool use_cgroup;           /* fast_path = cgroup | libvirt (default cgroup) */
	/* [snmp] */
	char *agentx_socket;           /* default /var/agentx/master */
	unsigned agentx_ping_interval; /* default 5 */
	char *snmp_state_file;         /* vmIndex map, default state_dir/vm-index.map */
	char *snmp_pid_file;           /* virtscale-snmp's pid file, default none */
	/* [actuator] */
	char *actuator_socket; /* default /run/virtscale/actuator.sock */
	char *state_dir;       /* default /var/lib/virtscale */
	/* virtscaled's pid file, default none */
	char *actuator_pid_file;
	char *socket_group;    /* default virtscale; must exist where virtscaled runs */
	int socket_group_line; /* the line that set socket_group, 0 = the default */
	unsigned max_line;     /* default 4096 bytes */
	unsigned idle_timeout; /* seconds a socket client may stay silent, default 60 */
	GArray *allow_uids;    /* of guint32; NULL = any peer the socket's mode lets in */
	GArray *allow_gids;    /* of guint32; NULL = likewise */
	/* [nginx] */
	char *nginx_upstream_file;
	char *nginx_upstream; /* upstream name */
	char *nginx_conf;
	char *nginx_pid_file;
	char *nginx_binary;           /* default nginx */
	char *nginx_reload_command;   /* optional: argv, split on spaces, no shell */
	vs_nginx_method nginx_method; /* method = round-robin | least_conn */
	unsigned nginx_max_conns;     /* 0 = unlimited */
	char *nginx_zone;             /* zone name, optional */
	unsigned nginx_timeout;       /* seconds for nginx -t and reload_command, default 10 */
	/* [apache] */
	char *apache_balancer_manager; /* URL */
	char *apache_balancer;         /* balancer name without balancer:// */
	unsigned apache_timeout;       /* seconds, default 5 */
	/* [mail] */
	char *mail_server; /* host:port; NULL = e-mail disabled */
	char *mail_from;
	char **mail_to; /* NULL-terminated */
	vs_starttls_mode mail_starttls;
	char *mail_user;
	char *mail_password_file;
	/* AUTH also without TLS; default no */
	bool mail_allow_cleartext_auth;
	char *mail_ca_file;         /* PEM CA certificates for STARTTLS; NULL = system store */
	unsigned mail_timeout;      /* seconds, default 30 */
	unsigned mail_rate_limit;   /* seconds, default 300 */
	bool mail_notify_recovered; /* default no */
	unsigned mail_queue_max;    /* default 1000 */
	/* [prices]: unit price per kind, in vs_usage_kind order (instance-hour,
	 * vCPU-hour, CPU-hour, GiB-hour allocated, GiB-hour used, GiB read,
	 * written, received, sent); 0 = free */
	double prices[VS_CONFIG_N_PRICES];
	GPtrArray *pools; /* of vs_pool_config* */
} vs_config;

/*
 * vs_config_load:
 * @path: the file
 * @error: set on failure, message "FILE:LINE: [group] key: what is wrong"
 *
 * Parses and validates the whole file. Returns NULL on any error.
 */
vs_config *vs_config_load(const char *path, GError **error);

/* vs_config_load_from_data: the same, from memory (tests); @name names it in errors. */
vs_config *vs_config_load_from_data(const char *data, gsize len, const char *name, GError **error);

/*
 * vs_config_load_or_exit: vs_config_load(), or print the error on stderr
 * prefixed by @program and exit(VS_EXIT_CONFIG). For programs only: it is
 * in lib/vs-daemon.c (libvsmain), which the collectd plugin does not link,
 * since a plugin that exits takes collectd down with it.
 */
vs_config *vs_config_load_or_exit(const char *program, const char *path);

void vs_config_free(vs_config *cfg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vs_config, vs_config_free)

const vs_pool_config *vs_config_find_pool(const vs_config *cfg, const char *name);
/* The host whose URI is @uri, or NULL. */
const vs_host_config *vs_config_find_host(const vs_config *cfg, const char *uri);
/* The name of the host @uri (its URI when it has no [host NAME]). */
const char *vs_config_host_name(const vs_config *cfg, const char *uri);

/* Names for enums, as written in the config file. */
const char *vs_policy_kind_name(vs_policy_kind k);
const char *vs_lb_kind_name(vs_lb_kind k);

#endif
