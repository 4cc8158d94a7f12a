/*
 * alert.h - administrator alerts (e-mail with libesmtp). The actuator
 * enqueues an event and goes on: a worker thread delivers, retries with
 * backoff, journals the queue in state_dir and rate-limits repeats.
 */
#ifndef VS_ALERT_H
#define VS_ALERT_H

#include "vs-config.h"
#include "vs-states.h"

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#define VS_MAIL_ERROR (vs_mail_error_quark())
GQuark vs_mail_error_quark(void);
typedef enum {
	VS_MAIL_ERROR_NOT_CONFIGURED, /* no [mail] server */
	VS_MAIL_ERROR_REFUSED,        /* a recipient was refused for good */
	VS_MAIL_ERROR_NOT_ACCEPTED,   /* the server did not take the message */
} vs_mail_error_code;

typedef struct vs_alert {
	vs_alert_kind kind;
	char *pool;    /* may contain anything: sanitized before use */
	char *step;    /* action failed: "clone", "start", "probe", "lb-add", ... */
	char *error;   /* the libvirt or load-balancer error text */
	char *summary; /* one line: numbers, thresholds */
	char *details; /* multi-line body part: instances, last actions */
	double time;   /* unix seconds */
} vs_alert;

typedef struct vs_alerter vs_alerter;

/* NULL config mail_server = alerts are logged only. */
vs_alerter *vs_alerter_new(const vs_config *cfg, GError **error);
bool vs_alerter_start(vs_alerter *a, GError **error);
/* Never blocks on SMTP. Takes a copy. Returns false when dropped (queue full). */
bool vs_alerter_post(vs_alerter *a, const vs_alert *alert);
void vs_alerter_stop(vs_alerter *a);
void vs_alerter_free(vs_alerter *a);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vs_alerter, vs_alerter_free)

typedef struct vs_alerter_stats {
	uint64_t queued, sent, retried, dropped, refused, coalesced;
} vs_alerter_stats;
void vs_alerter_get_stats(vs_alerter *a, vs_alerter_stats *out);

/*
 * Synchronous test delivery for `virtscalectl test-mail`: sends one message
 * now and returns the server's answer (e.g. "250 OK", per recipient) in
 * @report. False when it was not accepted for every recipient.
 */
bool vs_mail_send_test(const vs_config *cfg, char **report, GError **error);

#endif
