/*
 * vsc-notification.h - pool events as collectd notifications, and collectd
 * notifications as actuator wire messages (vs_notification).
 * Include after collectd.h and plugin.h.
 */
#ifndef VSC_NOTIFICATION_H
#define VSC_NOTIFICATION_H

#include "vs-notify.h"
#include "vs-pool-eval.h"

/* Dispatches a pool notice into collectd's notification chain
 * (notify_email, exec, write_http and our own forwarder see it). */
void vsc_notification_dispatch_pool(const vs_pool_notice *ev);

typedef enum {
	VSC_NOTIF_IGNORE,    /* not about virtscale: not forwarded */
	VSC_NOTIF_POOL,      /* a pool notification of this plugin */
	VSC_NOTIF_THRESHOLD, /* another notification about a virtscale value */
} vsc_notif_kind;

/* Classifies @n and, unless VSC_NOTIF_IGNORE, fills @out for the actuator. */
vsc_notif_kind vsc_notification_from_collectd(const notification_t *n, vs_notification *out);

#endif
