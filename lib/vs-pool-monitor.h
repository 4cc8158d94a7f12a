/*
 * vs-pool-monitor.h - the thread that turns collector snapshots into pool
 * reports and notices, shared by the collectd plugin and the SNMP
 * subagent. For each new snapshot (at most one per interval: M-of-N counts
 * samples, however often the collector publishes) it builds every pool's
 * view, counts the members' sessions (I/O: never in collectd's read
 * callback or net-snmp's main loop), evaluates it (vs-pool-eval.h) and
 * publishes a reference-counted report. When it falls behind it skips to the
 * newest snapshot: the policy wants the current state, not a backlog.
 */
#ifndef VS_POOL_MONITOR_H
#define VS_POOL_MONITOR_H

#include "vs-domain.h"
#include "vs-pool-eval.h"

typedef struct vs_pools_report {
	gint refcount;
	uint64_t generation;   /* of the snapshot it was made from */
	int64_t taken_real_us; /* when that snapshot was taken */
	GPtrArray *pools;      /* of vs_pool_report*, config order */
} vs_pools_report;

/* Running members of every pool on host @uri (a lost host's members do not
 * run): what vsHostInstances and collectd's vs_host_instances show. */
unsigned vs_pools_report_host_instances(const vs_pools_report *r, const char *uri);

/* Called from the monitor thread; must not block for long. */
typedef void (*vs_pool_notice_cb)(const vs_pool_notice *n, void *opaque);
typedef void (*vs_pools_ready_cb)(void *opaque);

typedef struct vs_pool_monitor_options {
	unsigned interval_ms;        /* one sample per interval (0: [libvirt] refresh_interval) */
	int repeat_interval_s;       /* < 0: each pool's repeat_interval; 0: never repeat */
	vs_pool_notice_cb on_notice; /* a notice is due */
	vs_pools_ready_cb on_report; /* a new report was published */
	void *opaque;
} vs_pool_monitor_options;

typedef struct vs_pool_monitor vs_pool_monitor;

/* @cfg is borrowed and must outlive the monitor. */
vs_pool_monitor *vs_pool_monitor_new(const vs_config *cfg, const vs_pool_monitor_options *o);
/* Hands a new snapshot over (any thread; never waits for the evaluation). */
void vs_pool_monitor_offer(vs_pool_monitor *m, vs_snapshot *snap);
/* The thread's body (pthread and GThread signature); returns after _stop(). */
void *vs_pool_monitor_run(void *monitor);
/* A reference to the newest report, or NULL before the first one. */
vs_pools_report *vs_pool_monitor_get_report(vs_pool_monitor *m);
void vs_pool_monitor_stop(vs_pool_monitor *m);
/* Frees a monitor whose thread has returned (or never ran). */
void vs_pool_monitor_free(vs_pool_monitor *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vs_pool_monitor, vs_pool_monitor_free)

vs_pools_report *vs_pools_report_ref(vs_pools_report *r);
void vs_pools_report_unref(vs_pools_report *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vs_pools_report, vs_pools_report_unref)

#endif
