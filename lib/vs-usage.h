/*
 * vs-usage.h - usage accounting: counters that only grow, per domain (by
 * UUID) and per pool, accumulated from successive collector snapshots.
 *
 * Pure: no I/O, no clock. Everything comes from the snapshots the collector
 * already publishes, so accounting costs no libvirt or QEMU call. The
 * keeper that feeds it and persists it is lib/vs-usage-store.c.
 *
 * Rules (docs/accounting.md):
 * - Time-based counters (instance, vCPU and memory) grow over the interval
 *   between two snapshots by what the domain had at the start of the
 *   interval, when it was running then. A stop publishes a snapshot at
 *   once (lifecycle event), so a domain destroyed between two refreshes is
 *   charged up to its stop.
 * - Cumulative counters (CPU time, disk and network bytes) grow by the
 *   difference between two readings of the same run of the domain (same
 *   hypervisor, same domain id). A new run, or a counter that went back,
 *   means the counter restarted from zero: the reading itself is the growth
 *   since then. Never negative, never counted twice.
 * - A domain counts for the pool it was a member of when the growth was
 *   seen; its own counters stay with its UUID whatever pool or host it is
 *   on later.
 */
#ifndef VS_USAGE_H
#define VS_USAGE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "vs-config.h"
#include "vs-domain.h"

/* The resource kinds, in the order of every table and file. */
typedef enum {
	VS_USAGE_INSTANCE,     /* instance-microseconds running */
	VS_USAGE_VCPU,         /* vCPU-microseconds allocated */
	VS_USAGE_CPU,          /* CPU nanoseconds used */
	VS_USAGE_MEM_ALLOC,    /* MiB-milliseconds allocated (balloon current) */
	VS_USAGE_MEM_USED,     /* MiB-milliseconds used (QEMU RSS, else balloon - unused) */
	VS_USAGE_DISK_READ,    /* bytes */
	VS_USAGE_DISK_WRITE,   /* bytes */
	VS_USAGE_NET_RX,       /* bytes */
	VS_USAGE_NET_TX,       /* bytes */
	VS_USAGE_MAX_INSTANCE, /* pools only: instance-µs a fixed pool at max would use */
	VS_USAGE_N_KINDS
} vs_usage_kind;

typedef struct vs_usage_counters {
	uint64_t v[VS_USAGE_N_KINDS];
} vs_usage_counters;

/* A kind's name in files, collectd type instances, csv/json ("instance_seconds"). */
const char *vs_usage_kind_name(vs_usage_kind k);
/* Its exported unit ("s", "MiB-s", "bytes") */
const char *vs_usage_kind_unit(vs_usage_kind k);
/* The kind whose name is @name, -1 when none. */
int vs_usage_kind_from_name(const char *name);
/* A raw counter in the exported unit (seconds, MiB-seconds, bytes), truncated
 * so that it still only grows. */
uint64_t vs_usage_export(vs_usage_kind k, uint64_t raw);
/* The same as a floating number (for prices and derive values). */
double vs_usage_export_double(vs_usage_kind k, uint64_t raw);

/* A device's last reading (a disk by target, a NIC by MAC). */
typedef struct vs_usage_device {
	char *key;
	uint64_t a, b; /* read/written, or received/sent */
} vs_usage_device;

/* One domain: its counters and the baseline of its current run. */
typedef struct vs_usage_domain {
	char uuid[VS_UUID_STRING_LEN];
	char *name;
	char *pool; /* pool it was last a member of, NULL none */
	vs_usage_counters c;
	/* the last reading of the current run */
	char *run_host;
	int run_id;          /* -1: no run seen */
	int64_t run_mono_us; /* the sample that first showed this run */
	bool run_fresh;      /* the run began while watched: first readings count whole */
	bool have_cpu;
	uint64_t cpu_ns;
	GPtrArray *disks; /* of vs_usage_device* */
	GPtrArray *nets;
	/* what the domain had at the previous snapshot (time-based counters) */
	bool was_running;
	unsigned vcpus;
	uint64_t mem_alloc_kib, mem_used_kib;
	int64_t last_seen_real_us;
	bool present; /* in the previous snapshot (not persisted) */
} vs_usage_domain;

/* One hour of growth per pool (for `virtscalectl usage --since`). */
typedef struct vs_usage_bucket {
	int64_t hour;      /* start, seconds since the epoch, a multiple of 3600 */
	GHashTable *pools; /* pool name -> vs_usage_counters* */
} vs_usage_bucket;

#define VS_USAGE_MAX_BUCKETS (24 * 62)                                 /* two months of hours */
#define VS_USAGE_FORGET_US   (62 * 86400 * G_GINT64_CONSTANT(1000000)) /* unseen domains */

typedef struct vs_usage {
	GHashTable *domains;      /* uuid -> vs_usage_domain* */
	GHashTable *pools;        /* name -> vs_usage_counters* */
	GQueue buckets;           /* of vs_usage_bucket*, oldest first */
	int64_t discontinuity_us; /* wall clock when the counters started from zero */
	int64_t last_mono_us;     /* the previous snapshot's, 0 = none yet in this process */
	int64_t last_real_us;
	int64_t saved_mono_us;  /* last_mono_us of the process that wrote the file */
	GHashTable *hosts_read; /* hosts connected and read in the previous snapshot */
	uint64_t updates;
} vs_usage;

/* Empty counters that started from zero at @now_real_us. */
vs_usage *vs_usage_new(int64_t now_real_us);
void vs_usage_free(vs_usage *u);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vs_usage, vs_usage_free)
vs_usage *vs_usage_copy(const vs_usage *u);

/*
 * vs_usage_update:
 * Accounts the interval since the previous snapshot given to @u. The first
 * snapshot after vs_usage_new() or vs_usage_parse() charges no time (the
 * program was not watching), but a cumulative counter of a run already seen
 * before a restart grows by its difference.
 */
void vs_usage_update(vs_usage *u, const vs_config *cfg, const vs_snapshot *snap);

/* Pool @name's counters, NULL when it never had any. */
const vs_usage_counters *vs_usage_pool(const vs_usage *u, const char *name);
/* Domain @uuid's record, NULL when none. */
const vs_usage_domain *vs_usage_domain_get(const vs_usage *u, const char *uuid);
/* Pool names / domain UUIDs, sorted (free the array only, with g_ptr_array_unref). */
GPtrArray *vs_usage_pool_names(const vs_usage *u);
GPtrArray *vs_usage_domain_uuids(const vs_usage *u);

/* Growth of pool @name (NULL: all pools) in buckets starting at or after
 * @since (seconds since the epoch, rounded down to the hour) into @out. */
void vs_usage_since(const vs_usage *u, const char *pool, int64_t since, vs_usage_counters *out);

/* The text of the state file (versioned, with a checksum line at the end). */
char *vs_usage_serialize(const vs_usage *u);
/* Reads that text back; NULL with @error when it is torn, corrupt or of
 * another version (nothing of it is used then). */
vs_usage *vs_usage_parse(const char *text, gsize len, GError **error);

/* [prices] as prices per exported unit (per second, MiB-second, byte). */
void vs_usage_prices_from_config(const vs_config *cfg, double price[VS_USAGE_N_KINDS]);

/* The cost: Σ kinds price[k] · exported usage[k]. */
double vs_usage_cost(const vs_usage_counters *c, const double price[VS_USAGE_N_KINDS]);

#endif
