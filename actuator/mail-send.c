/*
 * mail-send.c - one SMTP delivery with libesmtp, checked for real.
 */
#include "alert-internal.h"

#include <string.h>

/** vs_mail_result_clear: frees what @r holds. */
void vs_mail_result_clear(vs_mail_result *r)
{
	g_free(r->message_text);
	g_free(r->report);
	if (r->accepted)
		g_ptr_array_free(r->accepted, TRUE);
	if (r->refused)
		g_ptr_array_free(r->refused, TRUE);
	if (r->deferred)
		g_ptr_array_free(r->deferred, TRUE);
	memset(r, 0, sizeof(*r));
}

/** vs_mail_deliver: not yet wired to libesmtp; every attempt is deferred. */
void vs_mail_deliver(const vs_config *cfg, const char *message, const char *const *rcpt,
                     vs_mail_result *result)
{
	(void)cfg;
	(void)message;
	(void)rcpt;
	memset(result, 0, sizeof(*result));
	result->outcome = VS_MAIL_TEMPFAIL;
	result->message_text = g_strdup("SMTP delivery not built yet");
}
