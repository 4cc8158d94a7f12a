/*
 * alert-internal.h - the parts of the alerter (alert.c) kept in files of
 * their own so they can be unit-tested: message building (mail-message.c),
 * the journaled queue entries (alert-queue.c) and SMTP delivery
 * (mail-send.c). Not part of the actuator's interface: use alert.h.
 */
#ifndef VS_ALERT_INTERNAL_H
#define VS_ALERT_INTERNAL_H

#include "alert.h"
#include <glib.h>
#include <stdbool.h>

/* One queued alert: the event, how often it happened, where delivery stands. */
typedef struct vs_alert_entry {
	char *id;          /* journal file name stem, unique */
	vs_alert alert;    /* the latest occurrence (owned strings) */
	unsigned count;    /* occurrences coalesced into this message */
	double first_time; /* time of the first occurrence */
	double not_before; /* rate limit: do not send before this time */
	double next_try;   /* backoff: next delivery attempt */
	unsigned attempts; /* delivery attempts so far */
	char *message_id;  /* fixed at creation: a re-send keeps the same id */
	char **rcpt;       /* recipients still to deliver to (NULL-terminated) */
	bool in_flight;    /* the worker is delivering it now */
	unsigned version;  /* bumped by every change the journal must see */
	unsigned on_disk;  /* the version the journal holds (or gave up on) */
} vs_alert_entry;

vs_alert_entry *vs_alert_entry_new(const vs_alert *alert, const char *const *rcpt,
                                   const char *host);
void vs_alert_entry_free(vs_alert_entry *e);
void vs_alert_copy(vs_alert *dst, const vs_alert *src);
void vs_alert_clear(vs_alert *a);

/* Alerts queued and not yet settled (delivered, refused or dropped). */
unsigned vs_alerter_queue_length(vs_alerter *a);

/* Journal: one file per entry in DIR, written atomically (temp, fsync, rename). */
bool vs_alert_journal_write(const char *dir, const vs_alert_entry *e, GError **error);
/* The same in two steps: the content (memory only), then the durable write. */
char *vs_alert_journal_data(const vs_alert_entry *e, gsize *len);
bool vs_alert_journal_write_data(const char *dir, const char *id, const char *data, gsize len,
                                 GError **error);
void vs_alert_journal_remove(const char *dir, const char *id);
/* Loads every entry of DIR into @out (of vs_alert_entry*); skips and logs bad files. */
bool vs_alert_journal_load(const char *dir, GPtrArray *out, GError **error);

/* Everything a message is made of; pure input for vs_mail_message_build(). */
typedef struct vs_mail_message_input {
	const vs_alert *alert;
	unsigned count;
	double first_time;
	const char *from;
	const char *const *to;
	const char *host;
	const char *message_id;
	double date; /* the Date: header, unix seconds */
} vs_mail_message_input;

/* RFC 5322 message, CRLF line ends, sanitized headers, plain-text body. */
char *vs_mail_message_build(const vs_mail_message_input *in);
/* The Subject: value (sanitized, ASCII). */
char *vs_mail_subject(const vs_alert *alert, unsigned count);
/* RFC 5322 date-time for @t (unix seconds), in UTC, locale-independent. */
char *vs_mail_format_date(double t);
/* A new unique Message-ID value, "<...@host>". */
char *vs_mail_new_message_id(const char *host);

/* Outcome of one delivery attempt. */
typedef enum {
	VS_MAIL_SENT,     /* every remaining recipient accepted (or refused 5xx) */
	VS_MAIL_TEMPFAIL, /* retry later: connection failed, 4xx */
	VS_MAIL_PERMFAIL, /* 5xx for the message: do not retry */
} vs_mail_outcome;

typedef struct vs_mail_result {
	vs_mail_outcome outcome;
	int message_code;    /* transfer status code, 0 = none */
	char *message_text;  /* server's text or the local error */
	GPtrArray *accepted; /* recipients that got it (char*) */
	GPtrArray *refused;  /* recipients refused permanently ("addr: 550 text") */
	GPtrArray *deferred; /* recipients to retry (char*) */
	char *report;        /* human-readable, one line per recipient */
} vs_mail_result;

void vs_mail_result_clear(vs_mail_result *r);

/* Sends @message (CRLF text) to @rcpt through the [mail] server of @cfg. */
void vs_mail_deliver(const vs_config *cfg, const char *message, const char *const *rcpt,
                     vs_mail_result *result);

#endif
