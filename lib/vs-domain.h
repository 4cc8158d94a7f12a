/*
 * vs-domain.h - one sample of every domain, as collected from libvirt.
 *
 * A vs_snapshot is immutable once published and reference counted, so
 * readers in other threads (the AgentX main loop, collectd's read callback)
 * use it without locks and never wait for libvirt.
 */
#ifndef VS_DOMAIN_H
#define VS_DOMAIN_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "vs-states.h"

#define VS_UUID_STRING_LEN 37

typedef struct vs_vcpu_stats {
	int state;        /* virVcpuState */
	uint64_t time_ns; /* cumulative */
} vs_vcpu_stats;

typedef struct vs_disk_stats {
	char *target;      /* "vda" */
	char *source;      /* file path or volume, may be NULL */
	char *source_type; /* "file", "block", "network", "volume", may be NULL */
	char *device;      /* "disk", "cdrom", "floppy", "lun" */
	char *format;      /* image format from <driver type>: "raw", "qcow2", may be NULL */
	bool read_only;
	uint64_t rd_reqs, rd_bytes, rd_times_ns;
	uint64_t wr_reqs, wr_bytes, wr_times_ns;
	uint64_t fl_reqs, fl_times_ns;
	uint64_t errors;
	uint64_t capacity, allocation, physical; /* bytes */
	bool have_io;                            /* the block group was sampled */
} vs_disk_stats;

typedef struct vs_net_stats {
	char *ifname; /* host tap device ("vnet3"), may be NULL (user-mode NIC) */
	char *mac;    /* "52:54:00:..." */
	char *model;  /* "virtio", may be NULL */
	uint64_t rx_bytes, rx_pkts, rx_errs, rx_drop;
	uint64_t tx_bytes, tx_pkts, tx_errs, tx_drop;
	bool have_io;
} vs_net_stats;

typedef struct vs_domain_stats {
	char *host_uri; /* hypervisor this domain lives on */
	char *name;
	unsigned char uuid[16];
	char uuid_str[VS_UUID_STRING_LEN];
	int id;     /* -1 when not running */
	int state;  /* virDomainState */
	int reason; /* state reason, meaning depends on state */
	bool persistent;
	bool autostart;
	char *os_type; /* "hvm" */
	unsigned vcpu_current, vcpu_max;
	vs_vcpu_stats *vcpus; /* vcpu_current entries, may be NULL */
	size_t n_vcpus;
	uint64_t cpu_time_ns; /* cumulative guest CPU time */
	double cpu_percent;   /* over the measured interval, 100 = one host CPU; <0 unknown */
	double cpu_percent_of_vcpus; /* same, 100 = all of the domain's vCPUs busy; <0 unknown */
	uint64_t mem_max_kib;        /* maximum (balloon ceiling) */
	uint64_t mem_current_kib;    /* current balloon */
	uint64_t mem_rss_kib;        /* host RSS of the QEMU process, 0 unknown */
	uint64_t mem_usable_kib;     /* guest-reported usable, 0 unknown */
	uint64_t mem_unused_kib;     /* guest-reported unused, 0 unknown */
	vs_disk_stats *disks;
	size_t n_disks;
	vs_net_stats *nets;
	size_t n_nets;
	/* virtscale metadata (namespace VS_METADATA_NS), set on domains the
	 * actuator created; NULL on others. */
	char *meta_pool;
	char *meta_address;      /* backend address:port */
	bool meta_warm;          /* a warm instance (warm='yes') */
	int64_t sample_mono_us;  /* g_get_monotonic_time() of the fast sample */
	int64_t slow_mono_us;    /* of the last monitor-bound sample, 0 = never */
	int64_t started_real_us; /* wall-clock of the last start seen, 0 = unknown */
} vs_domain_stats;

typedef enum {
	VS_HOST_CONNECTING,
	VS_HOST_CONNECTED,
	VS_HOST_DISCONNECTED, /* reconnecting with backoff */
} vs_host_state;

typedef struct vs_host_status {
	char *uri;
	vs_host_state state;
	char *hypervisor;         /* "QEMU" */
	unsigned long hv_version; /* libvirt encoding major*1e6+minor*1e3+micro */
	unsigned long lib_version;
	char *hostname;
	char *last_error;          /* NULL when none */
	int64_t connected_real_us; /* wall clock of the connection */
	unsigned host_cpus;
	uint64_t host_mem_kib;
	uint64_t host_free_mem_kib;
	double host_cpu_idle_percent; /* <0 unknown */
	double rtt_ms;                /* of the last libvirt call that measured it, <0 unknown */
	int64_t down_since_mono_us;   /* when it stopped answering, 0 = it answers */
	bool lost;                    /* down for [libvirt] host_grace (vs_host_lost) */
	uint64_t refreshes, failures, reconnects;
} vs_host_status;

typedef struct vs_snapshot {
	gint refcount;
	int64_t taken_mono_us;
	int64_t taken_real_us;
	uint64_t generation;         /* +1 per published snapshot */
	int64_t last_change_real_us; /* wall clock of the last domain set/state change */
	GPtrArray *domains;          /* of vs_domain_stats*, sorted by host_uri then name */
	GPtrArray *hosts;            /* of vs_host_status*, in config order */
} vs_snapshot;

vs_snapshot *vs_snapshot_ref(vs_snapshot *s);
void vs_snapshot_unref(vs_snapshot *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vs_snapshot, vs_snapshot_unref)

const vs_domain_stats *vs_snapshot_find_uuid(const vs_snapshot *s, const unsigned char uuid[16]);
const vs_domain_stats *vs_snapshot_find_name(const vs_snapshot *s, const char *host_uri,
                                             const char *name);

/* Builders used by the collector and by unit tests. */
vs_snapshot *vs_snapshot_new(void);
vs_domain_stats *vs_domain_stats_new(void);
void vs_domain_stats_free(vs_domain_stats *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vs_domain_stats, vs_domain_stats_free)
vs_host_status *vs_host_status_new(const char *uri);
void vs_host_status_free(vs_host_status *h);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vs_host_status, vs_host_status_free)
/* Deep copies (the collector publishes copies of its per-host data). */
vs_domain_stats *vs_domain_stats_copy(const vs_domain_stats *d);
vs_host_status *vs_host_status_copy(const vs_host_status *h);
/* How the monitors show @h (NULL: not sampled yet): lost wins over the
 * connection state. */
vs_host_cond vs_host_status_condition(const vs_host_status *h);

/* Name of a virDomainState ("running", "paused", ...). */
const char *vs_domain_state_name(int state);
int vs_domain_state_from_name(const char *name);

/* The canonical text of a UUID ("4b0e...-..."), lower case. */
void vs_uuid_format(const unsigned char uuid[16], char out[VS_UUID_STRING_LEN]);

/*
 * CPU use between two samples of the same run of a domain: @of_host in
 * percent of one host CPU, @of_vcpus in percent of all its @vcpus. False
 * (both -1) when the samples cannot be compared (no earlier one, the clock
 * or the counter went backwards).
 */
bool vs_cpu_percent(uint64_t prev_ns, int64_t prev_us, uint64_t cur_ns, int64_t cur_us,
                    unsigned vcpus, double *of_host, double *of_vcpus);

#define VS_METADATA_NS  "https://virtscale.invalid/xmlns/virtscale/1"
#define VS_METADATA_KEY "virtscale"

#endif
