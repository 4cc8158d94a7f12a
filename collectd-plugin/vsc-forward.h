/*
 * vsc-forward.h - the actuator forwarder: notification lines go into a
 * bounded queue (never blocking whoever pushes them: collectd's notification
 * callbacks run in the dispatching thread) and a worker thread writes them
 * to the actuator's Unix socket, reconnecting with backoff. A line counts
 * as sent only when the actuator acknowledged it ({"v":1,"ok":true}); one
 * not acknowledged (connection lost, no answer in time, "retry": the
 * actuator had no free slot) is sent again; one the actuator refused is
 * counted and logged, never sent again. When the actuator is gone for long
 * the oldest lines are dropped and counted.
 *
 * No collectd dependency: the plugin runs vsc_forwarder_run() in a thread
 * it made with plugin_thread_create().
 */
#ifndef VSC_FORWARD_H
#define VSC_FORWARD_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct vsc_forwarder vsc_forwarder;

typedef struct vsc_forwarder_stats {
	uint64_t queued;    /* lines accepted into the queue */
	uint64_t sent;      /* lines the actuator acknowledged */
	uint64_t refused;   /* lines the actuator answered with an error */
	uint64_t dropped;   /* oldest lines dropped because the queue was full */
	uint64_t connects;  /* successful connections */
	uint64_t failures;  /* failed connection attempts and broken connections */
	unsigned queue_len; /* lines waiting now */
	bool connected;
} vsc_forwarder_stats;

/* @socket_path: the actuator's socket; @capacity: queue bound (lines). */
vsc_forwarder *vsc_forwarder_new(const char *socket_path, unsigned capacity);
/* The worker's body; returns after vsc_forwarder_stop(). */
void *vsc_forwarder_run(void *forwarder);
/* Queues @line (no newline; copied). Never blocks on the socket. */
void vsc_forwarder_push(vsc_forwarder *f, const char *line);
void vsc_forwarder_get_stats(vsc_forwarder *f, vsc_forwarder_stats *out);
/* Asks the worker to finish; it returns from vsc_forwarder_run() promptly. */
void vsc_forwarder_stop(vsc_forwarder *f);
void vsc_forwarder_free(vsc_forwarder *f);

#endif
