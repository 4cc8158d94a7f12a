/*
 * fuzz-mail-message.c - an alert mail built from hostile names
 * (actuator/mail/mail-message.c): pool and domain names, libvirt and
 * load-balancer error texts and details may carry anything a guest or a
 * message put there. Input: byte 0 picks the alert kind, bytes 1-2 the
 * occurrence count, the rest is NUL-separated fields (pool, step, error,
 * summary, details, host, from, message id, recipients...).
 *
 * Promise: the header block is exactly the headers the builder writes, one
 * per line, printable ASCII, CRLF line ends and no line over 998 bytes
 * (nothing can start a header of its own or end the header block early);
 * the body is valid UTF-8 with CRLF line ends only and no line over 998.
 */
#include "config.h"

#include "alert-internal.h"
#include "fuzz-common.h"

#define RFC5322_LINE_MAX 998

static const char *const headers[] = {
    "Date: ",           "Message-ID: ",        "From: ",         "To: ",
    "Subject: ",        "MIME-Version: ",      "Content-Type: ", "Content-Transfer-Encoding: ",
    "Auto-Submitted: ", "X-Virtscale-Event: ",
};

/* The next line of @p (ending in CRLF) as [*start, *len); NULL at the end. */
static const char *next_line(const char *p, const char **start, size_t *len)
{
	const char *crlf = strstr(p, "\r\n");

	FUZZ_ASSERT(crlf != NULL || *p == '\0');
	if (!crlf)
		return NULL;
	*start = p;
	*len = (size_t)(crlf - p);
	FUZZ_ASSERT(memchr(p, '\r', *len) == NULL && memchr(p, '\n', *len) == NULL);
	FUZZ_ASSERT(*len <= RFC5322_LINE_MAX);
	return crlf + 2;
}

static void check_message(const char *m)
{
	const char *line, *p = m;
	size_t len, h = 0;

	/* headers, in order; only To: continues on lines starting with a space */
	while ((p = next_line(p, &line, &len)) && len > 0) {
		for (size_t i = 0; i < len; i++)
			FUZZ_ASSERT(line[i] >= 0x20 && line[i] < 0x7f);
		if (line[0] == ' ') {
			FUZZ_ASSERT(h > 0 && strcmp(headers[h - 1], "To: ") == 0);
			continue;
		}
		FUZZ_ASSERT(h < G_N_ELEMENTS(headers));
		FUZZ_ASSERT(strncmp(line, headers[h], strlen(headers[h])) == 0);
		h++;
	}
	FUZZ_ASSERT(p != NULL && h == G_N_ELEMENTS(headers));
	/* body */
	FUZZ_ASSERT(g_utf8_validate(p, -1, NULL));
	while ((p = next_line(p, &line, &len)))
		;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	const char *fields[17] = {0}; /* the last stays NULL: ends the recipients */
	size_t n = 0;

	if (!ready) {
		fuzz_setup();
		ready = true;
	}
	if (size < 3)
		return 0;
	vs_alert alert = {.kind = (vs_alert_kind)(data[0] % VS_ALERT_UNKNOWN), .time = 1.7e9};
	unsigned count = (unsigned)data[1] | (unsigned)data[2] << 8;
	char *text = fuzz_strndup(data + 3, size - 3);
	for (const char *f = text; n < G_N_ELEMENTS(fields) - 1 && f <= text + (size - 3);
	     f += strlen(f) + 1)
		fields[n++] = f;
	alert.pool = (char *)fields[0];
	alert.step = (char *)fields[1];
	alert.error = (char *)fields[2];
	alert.summary = (char *)fields[3];
	alert.details = (char *)fields[4];
	vs_mail_message_input in = {
	    .alert = &alert,
	    .count = count,
	    .first_time = 1.6e9,
	    .from = fields[6],
	    .to = (const char *const *)fields + 8,
	    .host = fields[5],
	    .message_id = fields[7],
	    .date = 1.7e9,
	};
	char *m = vs_mail_message_build(&in);
	check_message(m);
	g_free(m);
	char *subject = vs_mail_subject(&alert, count);
	FUZZ_ASSERT(strchr(subject, '\r') == NULL && strchr(subject, '\n') == NULL);
	g_free(subject);
	char *id = vs_mail_new_message_id(fields[5]);
	FUZZ_ASSERT(id[0] == '<' && strchr(id, '>') == id + strlen(id) - 1);
	g_free(id);
	g_free(text);
	return 0;
}
