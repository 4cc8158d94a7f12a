/*
 * vs-collector.h - the libvirt collector: one thread per process that keeps
 * a connection to every configured hypervisor, refreshes the snapshot on a
 * timer, listens to lifecycle events and reconnects with backoff.
 *
 * Cost model (see docs/benchmarks.md): state and CPU come on the fast path
 * every refresh_interval (local hypervisor: the domain's cgroup cpu.stat and
 * /proc of the QEMU process; remote: the bulk state+cpu-total groups), the
 * monitor-bound groups (balloon, vcpu, block, interface) every slow_interval
 * with VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT.
 */
#ifndef VS_COLLECTOR_H
#define VS_COLLECTOR_H

#include "vs-config.h"
#include "vs-domain.h"

typedef struct vs_collector vs_collector;

typedef enum {
	VS_EVENT_DEFINED,
	VS_EVENT_UNDEFINED,
	VS_EVENT_STARTED,
	VS_EVENT_SUSPENDED,
	VS_EVENT_RESUMED,
	VS_EVENT_STOPPED,
	VS_EVENT_SHUTDOWN, /* guest began shutting down */
	VS_EVENT_PMSUSPENDED,
	VS_EVENT_CRASHED,
	VS_EVENT_MIGRATING, /* suspended or resumed for migration */
} vs_event_kind;

typedef struct vs_lifecycle_event {
	vs_event_kind kind;
	const char *host_uri;
	const char *name;
	unsigned char uuid[16];
	char uuid_str[VS_UUID_STRING_LEN];
	int new_state; /* virDomainState after the event */
	int new_reason;
	int old_state;      /* from the previous snapshot; -1 unknown */
	int libvirt_event;  /* virDomainEventType */
	int libvirt_detail; /* its detail */
} vs_lifecycle_event;

/* Called from the collector thread; must not block. */
typedef void (*vs_event_cb)(const vs_lifecycle_event *ev, void *opaque);
/* Called from the collector thread after every published snapshot. */
typedef void (*vs_snapshot_cb)(vs_snapshot *snap, void *opaque);

typedef struct vs_collector_options {
	unsigned refresh_ms;     /* fast cadence; 0 = from config */
	unsigned slow_ms;        /* monitor-bound cadence; 0 = from config */
	bool slow_every_refresh; /* every group every refresh (the "same metrics" mode) */
	bool no_fast_path;       /* force libvirt's API for state/CPU */
	vs_event_cb on_event;
	vs_snapshot_cb on_snapshot;
	void *opaque;
} vs_collector_options;

vs_collector *vs_collector_new(const vs_config *cfg, const vs_collector_options *opts);

/* Starts the thread. Returns false with @error if the thread cannot start;
 * an unreachable hypervisor is not an error (it is retried). */
bool vs_collector_start(vs_collector *c, GError **error);

/* Returns a reference to the newest snapshot (never NULL after _new(); the
 * first one is empty). Never blocks on libvirt. */
vs_snapshot *vs_collector_get_snapshot(vs_collector *c);

/* Blocks until a snapshot newer than @generation is published or
 * @timeout_ms passes; returns the newest. For tools and tests only. */
vs_snapshot *vs_collector_wait_snapshot(vs_collector *c, uint64_t generation, unsigned timeout_ms);

void vs_collector_stop(vs_collector *c);
void vs_collector_free(vs_collector *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vs_collector, vs_collector_free)

#endif
