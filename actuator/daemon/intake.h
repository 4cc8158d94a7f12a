/*
 * intake.h - the actuator's Unix socket: one JSON notification per line
 * (docs/notification-protocol.md), read without ever blocking the event
 * loop. Every line gets one reply line: the answer to a status or scale
 * request, {"v":1,"ok":true} for a notification taken, or
 * {"v":1,"ok":false,"error":"..."} for a line refused, so a sender always
 * learns whether it was heard. Malformed lines are counted, logged within
 * a bound, and never acted on. Who may connect is the socket's mode and
 * group, narrowed by [actuator] allow_uids / allow_gids (peer credentials);
 * silent clients are disconnected after idle_timeout; when every slot is
 * taken the longest silent client makes room, or the newcomer is told to
 * come back ("retry":true) rather than accepted and forgotten.
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
	uint64_t refused_peers;       /* not in allow_uids / allow_gids */
	uint64_t refused_busy;        /* every slot taken by clients that are not idle */
	uint64_t evicted;             /* idle clients closed to make room for a new one */
	uint64_t idle_closed;         /* silent for idle_timeout */
	uint64_t accept_errors;       /* accept() failed (out of descriptors ...) */
	uint64_t warnings_suppressed; /* warnings over the log's bound, counted only */
} vs_intake_stats;

typedef struct vs_intake vs_intake;

/* Handles one valid notification of a known pool; returns a reply line or
 * NULL (then the sender gets {"v":1,"ok":true}). */
typedef char *(*vs_intake_handler)(const vs_notification *n, void *opaque);

/*
 * vs_intake_check_setup: what must hold before virtscaled starts anything:
 * socket_group exists on this host (else "FILE:LINE: [actuator]
 * socket_group: ..."), and the socket's directory (made 0755 when missing)
 * belongs to root or to us and is not writable by its group or others.
 * @create_dir false: the directory is only checked when it exists
 * (virtscalectl check-config).
 */
bool vs_intake_check_setup(const vs_config *cfg, bool create_dir, GError **error);

/* Listens on [actuator] socket (mode 0660, group socket_group); @fn runs on
 * the default main context. */
vs_intake *vs_intake_new(const vs_config *cfg, vs_intake_handler fn, void *opaque, GError **error);
/* Takes allow_uids, allow_gids and idle_timeout from @cfg (a configuration
 * read again): they apply to connections made from now on, and the idle
 * timeout to every client. @cfg need not outlive the call. */
void vs_intake_reconfigure(vs_intake *in, const vs_config *cfg);
void vs_intake_free(vs_intake *in);
const vs_intake_stats *vs_intake_get_stats(const vs_intake *in);

#endif
