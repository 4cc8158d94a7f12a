/*
 * vertical-watch.h - the actuator's own reading of each member's load for
 * vertical scaling: a thread per pool with vertical = vcpu | memory | both
 * that reads every running member every vertical_interval seconds (CPU
 * time, vCPUs, balloon and, for memory, the guest's balloon statistics;
 * a few cheap calls per member, none that waits for a busy domain job) and
 * hands the readings to the event loop, where the pool's machine feeds
 * each member's windows (lib/vs-vertical.h).
 *
 * Threads: vs_vertical_watch_start/_set_members/_stop on the event loop;
 * the callback runs on the event loop (g_main_context_invoke); the thread
 * itself calls libvirt only.
 */
#ifndef VS_VERTICAL_WATCH_H
#define VS_VERTICAL_WATCH_H

#include "ops.h"
#include "vs-vertical.h"

/* One member's reading. */
typedef struct vs_vertical_reading {
	char *name;
	char *uri;
	vs_vertical_sample s;
} vs_vertical_reading;

void vs_vertical_reading_free(vs_vertical_reading *r);

/* On the event loop: @readings (of vs_vertical_reading*, taken). */
typedef void (*vs_vertical_readings_cb)(GPtrArray *readings, void *opaque);

typedef struct vs_vertical_watch vs_vertical_watch;

/* Starts reading the members of @ctx's pool (none until the first
 * vs_vertical_watch_set_members). @ctx outlives the watch. */
vs_vertical_watch *vs_vertical_watch_start(const vs_ops_ctx *ctx, vs_vertical_readings_cb cb,
                                           void *opaque);
/* The members to read from now on: the running ones of @v. */
void vs_vertical_watch_set_members(vs_vertical_watch *w, const vs_pool_view *v);
/* Stops and joins the thread; readings still queued for the loop are
 * dropped when it runs them. */
void vs_vertical_watch_stop(vs_vertical_watch *w);
/* Stops, then frees; only once the main context ran what was queued. */
void vs_vertical_watch_free(vs_vertical_watch *w);

#endif
