/*
 * intake.h - the actuator's Unix socket: one JSON notification per line
 * (docs/notification-protocol.md), read without ever blocking the event
 * loop. Malformed lines are logged, counted and never acted on.
 */
#ifndef VS_INTAKE_H
#define VS_INTAKE_H

#include "vs-config.h"
#include "vs-notify.h"

#include <glib.h>
#include <stdint.h>

typedef struct vs_intake_stats {
	uint64_t connections, lines, accepted, malformed, oversized, invalid_utf8, unknown_pool,
	    status_requests, scale_requests;
} vs_intake_stats;

typedef struct vs_intake vs_intake;

/* Handles one valid notification of a known pool; returns a reply line or NULL. */
typedef char *(*vs_intake_handler)(const vs_notification *n, void *opaque);

/* Listens on [actuator] socket (mode 0660, group socket_group); @fn runs on
 * the default main context. */
vs_intake *vs_intake_new(const vs_config *cfg, vs_intake_handler fn, void *opaque, GError **error);
void vs_intake_free(vs_intake *in);
const vs_intake_stats *vs_intake_get_stats(const vs_intake *in);

#endif
