/*
 * vs-notify.h - the notification wire format between the collectd plugin
 * (or virtscalectl notify, or any tool) and the actuator: one JSON object per
 * line on the actuator's Unix socket, version 1. Documented in
 * docs/notification-protocol.md. Every field is validated; anything wrong is
 * an error, never a guess.
 *
 *  {"v":1,"type":"pool","pool":"web","state":"high","severity":"warning",
 *   "metric":"sessions","value":72.5,"threshold_high":60,"threshold_low":10,
 *   "instances":3,"desired":4,"time":1764000000.25,"host":"hv1",
 *   "source":"collectd","message":"..."}
 *  {"v":1,"type":"scale","pool":"web","desired":4}       manual target
 *  {"v":1,"type":"scale","pool":"web","desired":"auto"}  manual target cleared
 *  {"v":1,"type":"status"}                                -> one JSON line back
 *  {"v":1,"type":"threshold", ...collectd threshold notification fields...}
 *  {"v":1,"type":"migrate","domain":"web-01","to":"b"}  live migration
 */
#ifndef VS_NOTIFY_H
#define VS_NOTIFY_H

#include "vs-error.h"
#include "vs-states.h"
#include "vs-validate.h"

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#define VS_NOTIFY_VERSION   1
#define VS_NOTIFY_MAX_LINE  4096 /* bytes, without the newline */
#define VS_NOTIFY_MAX_VALUE 1e15 /* largest |value| and |threshold| on the wire */
/* "desired":"auto" of a scale request: the pool's manual target ends and
 * the policy steers it again */
#define VS_NOTIFY_DESIRED_AUTO (-2)

typedef enum {
	VS_NOTIFY_POOL,      /* policy state of a pool */
	VS_NOTIFY_SCALE,     /* manual target */
	VS_NOTIFY_STATUS,    /* status request */
	VS_NOTIFY_THRESHOLD, /* a collectd threshold notification */
	VS_NOTIFY_MIGRATE,   /* move a pool member to another host */
} vs_notify_type;

typedef enum { VS_SEVERITY_OKAY, VS_SEVERITY_WARNING, VS_SEVERITY_FAILURE } vs_severity;

typedef struct vs_notification {
	vs_notify_type type;
	char pool[65];      /* validated pool name, "" when none */
	vs_verdict verdict; /* "state": given in a pool notification, derived from
	                       severity and thresholds in a threshold one */
	vs_severity severity;
	char metric[32]; /* "cpu", "sessions", "ratio", or a collectd type */
	double value;
	double threshold_high;
	double threshold_low;
	int instances;     /* -1 absent */
	int desired;       /* -1 absent; VS_NOTIFY_DESIRED_AUTO (scale only) */
	double time;       /* unix seconds, 0 absent */
	char host[256];    /* "" absent; printable text (the sender's own name for
	                      itself, e.g. a collectd Hostname), never used as a name */
	char source[32];   /* "collectd", "snmptrap", "cli", ... */
	char message[512]; /* printable UTF-8, control characters refused */
	/* threshold notifications: collectd identifier */
	char plugin[64], plugin_instance[128], type_name[64], type_instance[128];
	/* migrate requests: the member and the [host NAME] it moves to */
	char domain[256], to[65];
} vs_notification;

/* Parses one line (no newline). Returns false with @error on any problem. */
bool vs_notification_parse(const char *line, size_t len, vs_notification *out, GError **error);
/* Serializes to one line without the trailing newline. */
char *vs_notification_to_json(const vs_notification *n);
void vs_notification_init(vs_notification *n, vs_notify_type type);
/* Copies text from anywhere (a domain name, a message) into a field of a
 * notification: control characters and invalid UTF-8 become '?', cut at a
 * character boundary, so the line always passes vs_notification_parse(). */
#define vs_notification_set_text(field, src)                                                       \
	vs_sanitize_line((src) ? (src) : "", field, sizeof(field))

const char *vs_severity_name(vs_severity s); /* "okay", "warning", "failure" */

#endif
