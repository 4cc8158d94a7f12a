/*
 * vs-collect-events.c - libvirt's event loop thread and the lifecycle
 * events it delivers.
 *
 * libvirt needs an event implementation registered before the first
 * virConnectOpen() for events and keepalive to work; we use its default
 * one, driven by a thread of its own that does nothing but
 * virEventRunDefaultImpl(). The loop is process-wide and is never stopped
 * (libvirt cannot unregister it).
 */
#include "config.h"

#include <libvirt/virterror.h>

#include "vs-collector-private.h"
#include "vs-log.h"

static void quiet_libvirt_error(void *opaque, virErrorPtr err)
{
	/* Errors are reported where they are handled; libvirt's default
	 * handler would print every failed call of an outage on stderr. */
	(void)opaque;
	(void)err;
}

static gpointer event_loop_thread(gpointer data)
{
	(void)data;
	for (;;) {
		if (virEventRunDefaultImpl() < 0) {
			vs_warning("libvirt event loop: %s", virGetLastErrorMessage());
			g_usleep(100 * 1000);
		}
	}
	return NULL;
}

static gpointer events_init_once(gpointer data)
{
	(void)data;
	virSetErrorFunc(NULL, quiet_libvirt_error);
	if (virInitialize() < 0 || virEventRegisterDefaultImpl() < 0) {
		vs_error("cannot initialise libvirt's event loop: %s", virGetLastErrorMessage());
		return NULL;
	}
	GThread *t = g_thread_new("vs-virt-events", event_loop_thread, NULL);

	g_thread_unref(t); /* detached: runs until the process exits */
	return NULL;
}

/**
 * vs_collect_events_init:
 *
 * Registers libvirt's default event implementation and starts the thread
 * that runs it, once per process. Call before opening any connection.
 */
void vs_collect_events_init(void)
{
	static GOnce once = G_ONCE_INIT;

	g_once(&once, events_init_once, NULL);
}

static int map_started(int detail)
{
	switch (detail) {
	case VIR_DOMAIN_EVENT_STARTED_MIGRATED:
		return VIR_DOMAIN_RUNNING_MIGRATED;
	case VIR_DOMAIN_EVENT_STARTED_RESTORED:
		return VIR_DOMAIN_RUNNING_RESTORED;
	case VIR_DOMAIN_EVENT_STARTED_FROM_SNAPSHOT:
		return VIR_DOMAIN_RUNNING_FROM_SNAPSHOT;
	case VIR_DOMAIN_EVENT_STARTED_WAKEUP:
		return VIR_DOMAIN_RUNNING_WAKEUP;
	default:
		return VIR_DOMAIN_RUNNING_BOOTED;
	}
}

static int map_suspended(int detail)
{
	switch (detail) {
	case VIR_DOMAIN_EVENT_SUSPENDED_PAUSED:
		return VIR_DOMAIN_PAUSED_USER;
	case VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED:
		return VIR_DOMAIN_PAUSED_MIGRATION;
	case VIR_DOMAIN_EVENT_SUSPENDED_IOERROR:
		return VIR_DOMAIN_PAUSED_IOERROR;
	case VIR_DOMAIN_EVENT_SUSPENDED_WATCHDOG:
		return VIR_DOMAIN_PAUSED_WATCHDOG;
	case VIR_DOMAIN_EVENT_SUSPENDED_FROM_SNAPSHOT:
		return VIR_DOMAIN_PAUSED_FROM_SNAPSHOT;
	case VIR_DOMAIN_EVENT_SUSPENDED_POSTCOPY:
		return VIR_DOMAIN_PAUSED_POSTCOPY;
	case VIR_DOMAIN_EVENT_SUSPENDED_POSTCOPY_FAILED:
		return VIR_DOMAIN_PAUSED_POSTCOPY_FAILED;
	default:
		return VIR_DOMAIN_PAUSED_UNKNOWN;
	}
}

static int map_stopped(int detail)
{
	switch (detail) {
	case VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN:
		return VIR_DOMAIN_SHUTOFF_SHUTDOWN;
	case VIR_DOMAIN_EVENT_STOPPED_DESTROYED:
		return VIR_DOMAIN_SHUTOFF_DESTROYED;
	case VIR_DOMAIN_EVENT_STOPPED_CRASHED:
		return VIR_DOMAIN_SHUTOFF_CRASHED;
	case VIR_DOMAIN_EVENT_STOPPED_MIGRATED:
		return VIR_DOMAIN_SHUTOFF_MIGRATED;
	case VIR_DOMAIN_EVENT_STOPPED_SAVED:
		return VIR_DOMAIN_SHUTOFF_SAVED;
	case VIR_DOMAIN_EVENT_STOPPED_FAILED:
		return VIR_DOMAIN_SHUTOFF_FAILED;
	case VIR_DOMAIN_EVENT_STOPPED_FROM_SNAPSHOT:
		return VIR_DOMAIN_SHUTOFF_FROM_SNAPSHOT;
	default:
		return VIR_DOMAIN_SHUTOFF_UNKNOWN;
	}
}

/**
 * vs_collect_event_map:
 * @event: a virDomainEventType
 * @detail: its detail
 * @kind: (out) our event kind
 * @state: (out) the virDomainState the event implies, -1 = unchanged
 * @reason: (out) the state reason it implies
 *
 * Translates a lifecycle event into the state it leaves the domain in, so
 * the snapshot can follow it before the next refresh confirms it. Pure.
 */
void vs_collect_event_map(int event, int detail, vs_event_kind *kind, int *state, int *reason)
{
	*state = -1;
	*reason = 0;
	switch (event) {
	case VIR_DOMAIN_EVENT_DEFINED:
		*kind = VS_EVENT_DEFINED;
		break;
	case VIR_DOMAIN_EVENT_UNDEFINED:
		*kind = VS_EVENT_UNDEFINED;
		break;
	case VIR_DOMAIN_EVENT_STARTED:
		*kind = detail == VIR_DOMAIN_EVENT_STARTED_MIGRATED ? VS_EVENT_MIGRATING
		                                                    : VS_EVENT_STARTED;
		*state = VIR_DOMAIN_RUNNING;
		*reason = map_started(detail);
		break;
	case VIR_DOMAIN_EVENT_SUSPENDED:
		*kind = (detail == VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED ||
		         detail == VIR_DOMAIN_EVENT_SUSPENDED_POSTCOPY)
		            ? VS_EVENT_MIGRATING
		            : VS_EVENT_SUSPENDED;
		*state = VIR_DOMAIN_PAUSED;
		*reason = map_suspended(detail);
		break;
	case VIR_DOMAIN_EVENT_RESUMED:
		*kind = (detail == VIR_DOMAIN_EVENT_RESUMED_MIGRATED ||
		         detail == VIR_DOMAIN_EVENT_RESUMED_POSTCOPY)
		            ? VS_EVENT_MIGRATING
		            : VS_EVENT_RESUMED;
		*state = VIR_DOMAIN_RUNNING;
		switch (detail) {
		case VIR_DOMAIN_EVENT_RESUMED_MIGRATED:
			*reason = VIR_DOMAIN_RUNNING_MIGRATED;
			break;
		case VIR_DOMAIN_EVENT_RESUMED_FROM_SNAPSHOT:
			*reason = VIR_DOMAIN_RUNNING_FROM_SNAPSHOT;
			break;
		case VIR_DOMAIN_EVENT_RESUMED_POSTCOPY:
			*reason = VIR_DOMAIN_RUNNING_POSTCOPY;
			break;
		default:
			*reason = VIR_DOMAIN_RUNNING_UNPAUSED;
		}
		break;
	case VIR_DOMAIN_EVENT_STOPPED:
		*kind = VS_EVENT_STOPPED;
		*state = VIR_DOMAIN_SHUTOFF;
		*reason = map_stopped(detail);
		break;
	case VIR_DOMAIN_EVENT_SHUTDOWN:
		*kind = VS_EVENT_SHUTDOWN;
		break;
	case VIR_DOMAIN_EVENT_PMSUSPENDED:
		*kind = VS_EVENT_PMSUSPENDED;
		*state = VIR_DOMAIN_PMSUSPENDED;
		*reason = VIR_DOMAIN_PMSUSPENDED_UNKNOWN;
		break;
	case VIR_DOMAIN_EVENT_CRASHED:
		*kind = VS_EVENT_CRASHED;
		*state = VIR_DOMAIN_CRASHED;
		*reason = VIR_DOMAIN_CRASHED_PANICKED;
		break;
	default:
		*kind = VS_EVENT_DEFINED; /* an event type newer than us: just refresh */
		break;
	}
}

/**
 * vs_collect_lifecycle_cb:
 *
 * libvirt's VIR_DOMAIN_EVENT_ID_LIFECYCLE callback; runs in the event loop
 * thread and therefore never calls libvirt over the network: it only reads
 * the domain's name and UUID (kept locally in @dom) and hands over.
 */
int vs_collect_lifecycle_cb(virConnectPtr conn, virDomainPtr dom, int event, int detail,
                            void *opaque)
{
	(void)conn;
	unsigned char uuid[VIR_UUID_BUFLEN];
	const char *name = virDomainGetName(dom);

	if (!name || virDomainGetUUID(dom, uuid) < 0)
		return 0;
	vs_collector_handle_lifecycle(opaque, name, uuid, event, detail);
	return 0;
}
