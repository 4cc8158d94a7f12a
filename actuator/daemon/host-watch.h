/*
 * host-watch.h - a thread of virtscaled that samples every hypervisor
 * every few seconds (CPU idle, free memory, round trip: host-health.h) for
 * placement = weighted, and notices a host that stops answering even when
 * no pool job runs.
 */
#ifndef VS_HOST_WATCH_H
#define VS_HOST_WATCH_H

#include "host-health.h"
#include "vs-virt.h"

#include <gio/gio.h>

#define VS_HOST_WATCH_INTERVAL_MS 2000

typedef struct vs_host_watch vs_host_watch;

/* Starts sampling @hosts into @health (both @n long, owned by the caller,
 * alive until vs_host_watch_stop()). */
vs_host_watch *vs_host_watch_start(vs_virt **hosts, vs_host_health **health, size_t n);
/* Stops and joins the thread. */
void vs_host_watch_stop(vs_host_watch *w);

#endif
