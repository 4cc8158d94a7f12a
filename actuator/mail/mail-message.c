/*
 * mail-message.c - builds the RFC 5322 text of an alert message. Pure: no
 * I/O, no clock (the caller passes the times), so it is unit-tested
 * directly. Every header value that carries a name from a pool, a domain or
 * an error goes through vs_sanitize_line() and is then restricted to
 * printable ASCII, so no CR/LF can start a header of its own.
 */
#include "alert-internal.h"
#include "vs-validate.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* RFC 5322 2.1.1: lines must not exceed 998 characters. */
#define VS_MAIL_LINE_MAX 990

/*
 * A header-safe copy: vs_sanitize_line() turns control characters into '?',
 * then anything outside printable ASCII becomes '?' too, because a raw
 * 8-bit header would need RFC 2047 encoding we do not do.
 */
static char *header_safe(const char *in, size_t max)
{
	char *out = g_malloc(max + 1);

	vs_sanitize_line(in ? in : "", out, max + 1);
	for (char *p = out; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c >= 0x7f)
			*p = '?';
	}
	return out;
}

/**
 * vs_mail_format_date:
 * @t: unix seconds
 *
 * Returns an RFC 5322 date-time in UTC ("Sat, 21 Nov 2026 23:20:00 +0000"),
 * independent of the locale (strftime's %a/%b are not).
 */
char *vs_mail_format_date(double t)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t secs = (time_t)t;
	struct tm tm;

	gmtime_r(&secs, &tm);
	return g_strdup_printf("%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday],
	                       tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
	                       tm.tm_min, tm.tm_sec);
}

/* ISO 8601 UTC for the body. */
static char *format_iso(double t)
{
	time_t secs = (time_t)t;
	struct tm tm;
	char buf[64];

	gmtime_r(&secs, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm);
	return g_strdup(buf);
}

/**
 * vs_mail_new_message_id:
 * @host: the local host name (sanitized here)
 *
 * Returns a fresh Message-ID "<seconds.random.pid@host>". Made once per
 * queued alert and journaled, so a re-send after a restart carries the
 * same id and a receiving system can recognise a duplicate.
 */
char *vs_mail_new_message_id(const char *host)
{
	g_autofree char *h = header_safe(host && *host ? host : "localhost", 200);

	for (char *p = h; *p; p++)
		if (!g_ascii_isalnum(*p) && *p != '.' && *p != '-')
			*p = '-';
	return g_strdup_printf("<%" G_GINT64_FORMAT ".%08x%08x.%d@virtscale.%s>",
	                       g_get_real_time() / 1000000, g_random_int(), g_random_int(),
	                       (int)getpid(), h);
}

/**
 * vs_mail_subject:
 * @alert: the event
 * @count: occurrences coalesced into the message
 *
 * Returns the Subject: value, sanitized to one line of printable ASCII.
 */
char *vs_mail_subject(const vs_alert *alert, unsigned count)
{
	g_autofree char *pool = header_safe(alert->pool ? alert->pool : "-", 120);
	g_autofree char *step = header_safe(alert->step ? alert->step : "action", 60);
	g_autofree char *what = NULL;
	g_autofree char *raw = NULL;

	switch (alert->kind) {
	case VS_ALERT_AT_MAX:
		what = g_strdup("at maximum size and still overloaded");
		break;
	case VS_ALERT_ACTION_FAILED:
		what = g_strdup_printf("%s failed", step);
		break;
	case VS_ALERT_RECONCILED:
		what = g_strdup("leftovers found and cleaned");
		break;
	case VS_ALERT_RECOVERED:
		what = g_strdup("back to normal");
		break;
	case VS_ALERT_HOST_LOST:
		what = g_strdup("a host stopped answering");
		break;
	case VS_ALERT_HOST_BACK:
		what = g_strdup("a lost host answers again");
		break;
	case VS_ALERT_TEST:
	default:
		what = g_strdup("test message");
		break;
	}
	if (alert->kind == VS_ALERT_TEST && !alert->pool)
		raw = g_strdup_printf("[virtscale] %s", what);
	else
		raw = g_strdup_printf("[virtscale] pool %s: %s", pool, what);
	if (count > 1) {
		char *more = g_strdup_printf("%s (%u times)", raw, count);
		g_free(raw);
		raw = more;
	}
	return header_safe(raw, 200);
}

/*
 * Appends a body line: sanitized (no control characters, valid UTF-8) and
 * cut to the RFC 5322 line limit, then CRLF.
 */
static void body_line(GString *m, const char *text)
{
	char buf[VS_MAIL_LINE_MAX + 1];

	vs_sanitize_line(text, buf, sizeof(buf));
	g_string_append(m, buf);
	g_string_append(m, "\r\n");
}

static void body_field(GString *m, const char *label, const char *value)
{
	g_autofree char *line = NULL;

	if (!value || !*value)
		return;
	line = g_strdup_printf("%-12s %s", label, value);
	body_line(m, line);
}

/* Multi-line text (details): one body line per input line, any line end. */
static void body_text(GString *m, const char *text)
{
	g_autofree char *norm = NULL;
	g_auto(GStrv) lines = NULL;
	char *w;

	if (!text)
		return;
	/* CRLF and lone CR become LF, so each line is split exactly once */
	norm = g_strdup(text);
	w = norm;
	for (const char *r = text; *r; r++) {
		if (*r == '\r') {
			*w++ = '\n';
			if (r[1] == '\n')
				r++;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
	if (w > norm && w[-1] == '\n')
		w[-1] = '\0';
	lines = g_strsplit(norm, "\n", -1);
	for (char **l = lines; *l; l++)
		body_line(m, *l);
}

/**
 * vs_mail_message_build:
 * @in: the event, recipients, host, message id and date
 *
 * Returns the whole message: headers Date, Message-ID, From, To, Subject,
 * MIME-Version, Content-Type (text/plain, UTF-8), Auto-Submitted and
 * X-Virtscale-Event, an empty line, then the plain-text body: event, pool,
 * host, time, occurrences, step and error, the summary line (numbers and
 * thresholds) and the details (instances, last actions). Every line ends
 * with CRLF; no line exceeds 998 characters.
 */
char *vs_mail_message_build(const vs_mail_message_input *in)
{
	const vs_alert *a = in->alert;
	GString *m = g_string_sized_new(1024);
	g_autofree char *date = vs_mail_format_date(in->date);
	g_autofree char *from = header_safe(in->from, 300);
	g_autofree char *msgid = header_safe(in->message_id, 300);
	g_autofree char *subject = vs_mail_subject(a, in->count);
	g_autofree char *when = format_iso(a->time);
	g_autofree char *first = format_iso(in->first_time);
	g_autofree char *host = NULL;
	GString *to = g_string_new(NULL);

	for (const char *const *r = in->to; r && *r; r++) {
		g_autofree char *addr = header_safe(*r, 300);
		if (to->len)
			g_string_append(to, ",\r\n ");
		g_string_append(to, addr);
	}
	g_string_append_printf(m, "Date: %s\r\n", date);
	g_string_append_printf(m, "Message-ID: %s\r\n", msgid);
	g_string_append_printf(m, "From: %s\r\n", from);
	g_string_append_printf(m, "To: %s\r\n", to->len ? to->str : "undisclosed-recipients:;");
	g_string_append_printf(m, "Subject: %s\r\n", subject);
	g_string_append(m, "MIME-Version: 1.0\r\n");
	g_string_append(m, "Content-Type: text/plain; charset=utf-8\r\n");
	g_string_append(m, "Content-Transfer-Encoding: 8bit\r\n");
	g_string_append(m, "Auto-Submitted: auto-generated\r\n");
	g_string_append_printf(m, "X-Virtscale-Event: %s\r\n", vs_alert_kind_name(a->kind));
	g_string_append(m, "\r\n");
	g_string_free(to, TRUE);

	host = g_strdup(in->host ? in->host : "");
	body_line(m, subject);
	body_line(m, "");
	body_field(m, "Event:", vs_alert_kind_name(a->kind));
	body_field(m, "Pool:", a->pool);
	body_field(m, "Host:", host);
	body_field(m, "Time:", when);
	if (in->count > 1) {
		g_autofree char *occ =
		    g_strdup_printf("%u times since %s (rate limit)", in->count, first);
		body_field(m, "Occurrences:", occ);
	}
	body_field(m, "Step:", a->step);
	body_field(m, "Error:", a->error);
	body_field(m, "Summary:", a->summary);
	if (a->details && *a->details) {
		body_line(m, "");
		body_text(m, a->details);
	}
	body_line(m, "");
	body_line(m, "-- ");
	body_line(m, "virtscale actuator");
	return g_string_free(m, FALSE);
}
