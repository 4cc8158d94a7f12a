/*
 * vsc-pools.h - the pool worker: for every new snapshot it builds each
 * pool's view, counts the backends' sessions (I/O: netlink or HTTP, so never
 * in collectd's read callback), runs the pool policy and decides which
 * notifications are due (on a state change, and repeated every
 * repeat_interval while a breach lasts). It publishes an immutable report
 * the read callback dispatches as values.
 *
 * No collectd dependency: notifications leave through a callback.
 */
#ifndef VSC_POOLS_H
#define VSC_POOLS_H

#include "vs-config.h"
#include "vs-domain.h"
#include "vs-policy.h"

typedef struct vsc_backend_report {
	char *domain;
	bool running;
	bool have_sessions;
	unsigned sessions;
	double ratio; /* sessions / session_capacity */
} vsc_backend_report;

typedef struct vsc_pool_report {
	char *pool;
	unsigned running;
	unsigned desired;
	double avg_cpu;              /* <0 unknown */
	double avg_sessions;         /* <0 unknown */
	double min_ratio, max_ratio; /* <0 unknown */
	unsigned total_sessions;
	bool sessions_ok; /* the session source answered */
	vs_verdict verdict;
	vsc_backend_report *backends;
	size_t n_backends;
	uint64_t notifications[4]; /* dispatched so far, by vs_verdict */
} vsc_pool_report;

typedef struct vsc_pools_report {
	gint refcount;
	uint64_t generation; /* of the snapshot it was made from */
	int64_t taken_real_us;
	GPtrArray *pools; /* of vsc_pool_report*, config order */
} vsc_pools_report;

/* One notification to send (the caller dispatches it into collectd). */
typedef struct vsc_pool_event {
	const vs_pool_config *pool;
	vs_verdict verdict;
	vs_verdict previous;
	bool repeat; /* same state as last time, breach still on */
	vs_policy_decision decision;
	unsigned instances;
	double time; /* unix seconds of the sample */
} vsc_pool_event;

typedef void (*vsc_pool_event_cb)(const vsc_pool_event *ev, void *opaque);

typedef struct vsc_pools vsc_pools;

/* @interval_ms: one policy sample per interval (the collector may publish
 * more often); @repeat_interval_s: < 0 = each pool's repeat_interval. */
vsc_pools *vsc_pools_new(const vs_config *cfg, unsigned interval_ms, int repeat_interval_s,
                         vsc_pool_event_cb cb, void *opaque);
/* Hands a new snapshot to the worker (from the collector thread; never blocks
 * for long: a snapshot not yet processed is replaced by the newer one). */
void vsc_pools_offer(vsc_pools *p, vs_snapshot *snap);
/* The worker's body; returns after vsc_pools_stop(). */
void *vsc_pools_run(void *pools);
/* Newest report (a reference), or NULL before the first one. */
vsc_pools_report *vsc_pools_get_report(vsc_pools *p);
void vsc_pools_stop(vsc_pools *p);
void vsc_pools_free(vsc_pools *p);

vsc_pools_report *vsc_pools_report_ref(vsc_pools_report *r);
void vsc_pools_report_unref(vsc_pools_report *r);

#endif
