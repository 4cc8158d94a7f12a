/* refresh.c - the main loop's side of the wake pipe: new snapshots, new
 * pool reports, the actuator's status, lifecycle events and pool notices
 * become views and notifications here, and only here, since net-snmp is
 * not thread-safe. */
#include "config.h"

#include "agent.h"
#include "vs-log.h"

#include <errno.h>
#include <unistd.h>

static void vm_event_free(gpointer p)
{
	vs_vm_event *ev = p;
	g_free(ev->name);
	g_free(ev);
}

/** vs_refresh_vm_mib: rebuilds the VM-MIB view from the collector's newest
 * snapshot, and announces hosts lost or back. */
void vs_refresh_vm_mib(vs_agent *a)
{
	vs_snapshot *snap = vs_collector_get_snapshot(a->collector);
	vs_mib_view *v = vm_mib_build(a, snap);

	host_notify_changes(a, snap);
	vs_mib_subtree_set_view(&a->vm_tree, v);
	if (a->snap)
		vs_snapshot_unref(a->snap);
	a->snap = snap;
}

/** vs_refresh_vs_mib: rebuilds the VIRTSCALE-MIB view from the newest pool
 * report and actuator status (and notifies the actions that changed). */
void vs_refresh_vs_mib(vs_agent *a)
{
	vs_pools_report *pools = a->monitor ? vs_pool_monitor_get_report(a->monitor) : NULL;
	vs_io_report *io = a->io ? vs_io_worker_take(a->io) : NULL;

	if (pools) {
		vs_pools_report_unref(a->pools);
		a->pools = pools;
	}
	if (io) {
		pool_notify_actions(a, a->io_report ? a->io_report->status : NULL, io->status);
		vs_io_report_free(a->io_report);
		a->io_report = io;
	}
	vs_mib_subtree_set_view(&a->vs_tree, vs_mib_build(a));
}

/**
 * vs_refresh_on_wake:
 * register_readfd() callback of the wake pipe. Drains it, then handles, in
 * this order, the lifecycle events (so "previous state" is the state before
 * the event, not the one a newer snapshot already shows), the newest
 * snapshot, the pool notices and the newest pool report and status.
 */
void vs_refresh_on_wake(int fd, void *opaque)
{
	vs_agent *a = opaque;
	char buf[256];
	while (read(fd, buf, sizeof(buf)) > 0)
		;

	GQueue events = G_QUEUE_INIT, notices = G_QUEUE_INIT;
	g_mutex_lock(&a->lock);
	events = a->events;
	g_queue_init(&a->events);
	notices = a->notices;
	g_queue_init(&a->notices);
	bool snapshot = a->snapshot_pending;
	a->snapshot_pending = false;
	a->pools_pending = false;
	g_mutex_unlock(&a->lock);

	if (events.length) {
		vm_notify_events(a, &events);
		g_queue_clear_full(&events, vm_event_free);
	}
	if (snapshot)
		vs_refresh_vm_mib(a);
	if (notices.length) {
		pool_notify_verdicts(a, &notices);
		g_queue_clear_full(&notices, g_free);
	}
	/* the pool report and the status are cheap to check: take them if new */
	vs_refresh_vs_mib(a);
}
