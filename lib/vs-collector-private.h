/*
 * vs-collector-private.h - what the collector's files share: the per-host
 * worker, the per-domain cache and the helpers of each data source.
 * Not installed; used by vs-collector.c and vs-collect-*.c only.
 */
#ifndef VS_COLLECTOR_PRIVATE_H
#define VS_COLLECTOR_PRIVATE_H

#include <libvirt/libvirt.h>

#include "vs-collector.h"
#include "vs-virt.h"

/* Where the local fast path reads a domain's CPU time from. */
typedef enum {
	VS_CPU_SRC_NONE,    /* not found (yet): use libvirt's cpu-total group */
	VS_CPU_SRC_V2_STAT, /* cgroup v2 cpu.stat usage_usec */
	VS_CPU_SRC_V1_ACCT, /* cgroup v1 cpuacct.usage (ns) */
} vs_cpu_source;

/* One domain as the host worker knows it (worker thread only). */
typedef struct vs_dom_cache {
	vs_domain_stats *d; /* newest complete record, copied on publish */
	bool seen;          /* present in the current refresh */
	bool static_valid;  /* XML-derived data loaded for this run of the domain */
	int static_id;      /* domain id the static data was loaded for */
	/* local fast path */
	vs_cpu_source cpu_src;
	char *cpu_file;
	char *cgroup_dir; /* the domain's cgroup (holds vcpuN/ children) */
	int pid;          /* of its QEMU process */
	int cpu_file_id;  /* domain id the file was found for */
	/* the previous CPU sample, for CPU% over the measured interval */
	uint64_t prev_cpu_ns;
	int64_t prev_mono_us;
	int prev_id;
} vs_dom_cache;

typedef struct vs_host {
	struct vs_collector *c;
	char *uri;
	bool local; /* the local fast path may be used (qemu:///system) */
	GThread *thread;
	vs_virt *virt; /* the connection holder (keepalive, reconnect backoff) */
	/* worker thread only */
	virConnectPtr conn; /* a reference taken from virt */
	int lifecycle_cb_id;
	GHashTable *cache; /* uuid string -> vs_dom_cache* */
	int64_t next_slow_us;
	uint64_t prev_idle_ns, prev_total_ns; /* host CPU counters */
	double rtt_ms;                        /* of the last free-memory call */
	gint conn_closed;                     /* atomic: libvirt closed the connection */
	/* under c->lock */
	GPtrArray *part;        /* vs_domain_stats* of this host, published copies */
	vs_host_status *status; /* published copy source */
	bool kicked;
	GHashTable *invalidate; /* uuid strings whose static data is stale */
	int64_t busy_since_us;  /* a libvirt call is in progress since, 0 = idle */
} vs_host;

struct vs_collector {
	GMutex lock;
	GCond published; /* broadcast on every publish */
	GCond wake;      /* host workers and the watchdog wait on it */
	vs_snapshot *snap;
	uint64_t generation;
	int64_t last_publish_us;
	int64_t last_change_real_us;
	unsigned refresh_ms, slow_ms;
	unsigned host_grace_s; /* [libvirt] host_grace: a host down this long is lost */
	bool slow_every_refresh, no_fast_path;
	vs_event_cb on_event;
	vs_snapshot_cb on_snapshot;
	void *opaque;
	GPtrArray *hosts; /* of vs_host* */
	GThread *watchdog;
	bool stopping, started;
};

/* The stats groups of one refresh (vs_collect_plan_round()). */
typedef struct vs_round_plan {
	unsigned bulk_groups;    /* virConnectGetAllDomainStats: every domain */
	unsigned changed_groups; /* virDomainListGetStats: changed domains only, 0 = none */
} vs_round_plan;

/* vs-collector.c */
bool vs_collect_slow_due(bool every_refresh, int64_t now_us, int64_t next_slow_us);
void vs_collect_plan_round(bool fast, bool slow, vs_round_plan *plan);
void vs_collector_publish(struct vs_collector *c);
void vs_collector_handle_lifecycle(vs_host *h, const char *name, const unsigned char uuid[16],
                                   int event, int detail);

/* vs-collect-events.c */
void vs_collect_events_init(void);
void vs_collect_event_map(int event, int detail, vs_event_kind *kind, int *state, int *reason);
int vs_collect_lifecycle_cb(virConnectPtr conn, virDomainPtr dom, int event, int detail,
                            void *opaque);

/* vs-collect-bulk.c */
void vs_collect_apply_record(vs_domain_stats *d, const virTypedParameter *params, int n,
                             bool *have_cpu);

/* vs-collect-xml.c */
bool vs_collect_parse_domain_xml(vs_domain_stats *d, const char *xml, GError **error);

/* vs-collect-cgroup.c */
bool vs_collect_cgroup_find(vs_dom_cache *dc, const char *name);
bool vs_collect_cgroup_read(vs_dom_cache *dc, uint64_t *cpu_ns);
bool vs_collect_cgroup_vcpus(vs_dom_cache *dc);
uint64_t vs_collect_proc_rss_kib(int pid);
bool vs_collect_local_host_cpu(uint64_t *idle_ns, uint64_t *total_ns);

#endif
