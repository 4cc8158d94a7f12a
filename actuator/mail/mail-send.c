/*
 * mail-send.c - one SMTP delivery with libesmtp, checked for real.
 *
 * smtp_start_session() returns success as soon as the dialogue ran, even
 * when the server refused the sender, some recipients or the data. So the
 * outcome is read from the reverse-path status, the message transfer status
 * and each recipient's status: 2xx delivered, 4xx retried later, 5xx
 * refused for good (logged, never retried). STARTTLS verifies the server's
 * certificate against [mail] ca_file or the system trust store (or
 * SSL_CERT_FILE / SSL_CERT_DIR) and its name; the AUTH password comes from a file only
 * and goes out only over TLS unless [mail] allow_cleartext_auth says otherwise:
 * libesmtp itself would send AUTH PLAIN on a plain connection whenever the
 * server offers AUTH and no STARTTLS.
 */
#include "alert-internal.h"
#include "vs-log.h"

/* openssl first: libesmtp.h declares smtp_starttls_set_ctx() only after it */
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <auth-client.h>
#include <libesmtp.h>
#include <string.h>
#include <sys/stat.h>

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

/* Why a delivery without STARTTLS failed when only the password needed it. */
#define TLS_FOR_AUTH " (the password is sent only over TLS: allow_cleartext_auth = no)"

/* What the callbacks need: credentials and the TLS problems seen. */
typedef struct send_ctx {
	const char *user;
	char *password;
	char *tls_problem;
	bool tls_ok;
	bool cleartext_ok; /* [mail] allow_cleartext_auth */
	bool in_auth;      /* monitor: inside the AUTH exchange */
	bool debug;        /* VS_MAIL_DEBUG: log the dialogue */
	char *last_reply;  /* the server's last answer line */
} send_ctx;

static int auth_interact(auth_client_request_t request, char **result, int fields, void *arg)
{
	send_ctx *c = arg;

	/* the last guard: no credentials for a connection without TLS */
	if (!c->tls_ok && !c->cleartext_ok)
		return 0;
	for (int i = 0; i < fields; i++) {
		if (request[i].flags & AUTH_USER)
			result[i] = (char *)c->user;
		else if (request[i].flags & AUTH_PASS)
			result[i] = c->password;
		else
			return 0;
		if (!result[i])
			return 0;
	}
	return 1;
}

/*
 * libesmtp asks here whether to go on despite a certificate problem: we
 * never do (the *ok argument stays 0), but remember why for the report.
 */
static void event_cb(smtp_session_t session, int event, void *arg, ...)
{
	send_ctx *c = arg;
	va_list ap;

	(void)session;
	va_start(ap, arg);
	if (c->debug)
		vs_log(LOG_NOTICE, "smtp event %d", event);
	switch (event) {
	case SMTP_EV_INVALID_PEER_CERTIFICATE: {
		long result = va_arg(ap, long);
		int *ok = va_arg(ap, int *);
		g_free(c->tls_problem);
		c->tls_problem = g_strdup_printf("invalid server certificate: %s",
		                                 X509_verify_cert_error_string(result));
		*ok = 0;
		break;
	}
	case SMTP_EV_NO_PEER_CERTIFICATE:
	case SMTP_EV_WRONG_PEER_CERTIFICATE: {
		int *ok = va_arg(ap, int *);
		g_free(c->tls_problem);
		c->tls_problem = g_strdup(event == SMTP_EV_NO_PEER_CERTIFICATE
		                              ? "server sent no certificate"
		                              : "server certificate does not match its name");
		*ok = 0;
		break;
	}
	case SMTP_EV_STARTTLS_OK:
		c->tls_ok = true;
		break;
	case SMTP_EV_EXTNA_STARTTLS:
		g_free(c->tls_problem);
		c->tls_problem = g_strdup("server does not offer STARTTLS");
		break;
	default:
		break;
	}
	va_end(ap);
}

/*
 * The SMTP dialogue, logged when VS_MAIL_DEBUG is set. The AUTH exchange is
 * hidden: what the client writes from "AUTH" until the server's final
 * answer carries the credentials.
 */
static void monitor_cb(const char *buf, int len, int writing, void *arg)
{
	send_ctx *c = arg;
	bool *in_auth = &c->in_auth;

	if (writing == SMTP_CB_HEADERS)
		return;
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	if (writing && len >= 5 && g_ascii_strncasecmp(buf, "AUTH ", 5) == 0)
		*in_auth = true;
	if (writing && *in_auth) {
		if (c->debug)
			vs_log(LOG_NOTICE, "smtp > (authentication data hidden)");
		return;
	}
	if (!writing && len > 0 && buf[0] != '3')
		*in_auth = false;
	if (!writing) {
		g_free(c->last_reply);
		c->last_reply = g_strndup(buf, (gsize)MAX(len, 0));
		g_strdelimit(c->last_reply, "\r\n", ' ');
	}
	if (!c->debug)
		return;
	vs_log(LOG_NOTICE, "smtp %s %.*s", writing ? ">" : "<", len, buf);
}

/* Reads the password file: first line, without the line end; warns if others can read it. */
static char *read_password(const char *path, GError **error)
{
	g_autofree char *data = NULL;
	struct stat st;
	char *nl;

	if (!g_file_get_contents(path, &data, NULL, error))
		return NULL;
	if (stat(path, &st) == 0 && (st.st_mode & 0007))
		vs_warning("mail: password file %s is readable by others", path);
	nl = strpbrk(data, "\r\n");
	if (nl)
		*nl = '\0';
	return g_steal_pointer(&data);
}

/* The bare address of "Name <addr>" or "addr" (the SMTP envelope needs it bare). */
static char *envelope_address(const char *s)
{
	const char *lt = strrchr(s, '<'), *gt = lt ? strchr(lt, '>') : NULL;

	if (lt && gt)
		return g_strndup(lt + 1, (gsize)(gt - lt - 1));
	return g_strstrip(g_strdup(s));
}

static bool is_2xx(const smtp_status_t *s)
{
	return s && s->code >= 200 && s->code < 300;
}

static bool is_5xx(const smtp_status_t *s)
{
	return s && s->code >= 500 && s->code < 600;
}

static char *status_text(const smtp_status_t *s)
{
	g_autofree char *text = g_strdup(s && s->text ? s->text : "");

	g_strchomp(text);
	for (char *p = text; *p; p++)
		if (*p == '\r' || *p == '\n')
			*p = ' ';
	return g_strdup_printf("%d %s", s ? s->code : 0, text);
}

/* A TLS context that verifies against @ca_file, or the default trust
 * store when it is NULL. NULL with *problem set when @ca_file is unusable. */
static SSL_CTX *make_tls_ctx(const char *ca_file, char **problem)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ctx)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/*
	 * libesmtp 1.1 reads TLS from a non-blocking socket and takes the
	 * SSL_ERROR_WANT_READ that follows a TLS 1.3 NewSessionTicket record
	 * for a dropped connection (seen here on about half the sessions with
	 * aiosmtpd): stay with TLS 1.2, which has no post-handshake records.
	 */
	SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
	/* the chain is checked by libesmtp through the event callback */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	if (ca_file) {
		if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
			*problem = g_strdup_printf("ca_file %s: no CA certificate could be loaded",
			                           ca_file);
			SSL_CTX_free(ctx);
			return NULL;
		}
	} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		vs_warning("mail: cannot load the default certificate store");
	}
	return ctx;
}

static void set_timeouts(smtp_session_t s, unsigned seconds)
{
	long ms = (long)(seconds ? seconds : 30) * 1000;

	smtp_set_timeout(s, Timeout_GREETING | Timeout_OVERRIDE_RFC2822_MINIMUM, ms);
	smtp_set_timeout(s, Timeout_ENVELOPE | Timeout_OVERRIDE_RFC2822_MINIMUM, ms);
	smtp_set_timeout(s, Timeout_DATA | Timeout_OVERRIDE_RFC2822_MINIMUM, ms);
	smtp_set_timeout(s, Timeout_TRANSFER | Timeout_OVERRIDE_RFC2822_MINIMUM, ms);
	smtp_set_timeout(s, Timeout_DATA2 | Timeout_OVERRIDE_RFC2822_MINIMUM, ms);
}

static void fail(vs_mail_result *r, vs_mail_outcome o, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static void fail(vs_mail_result *r, vs_mail_outcome o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	r->outcome = o;
	g_free(r->message_text);
	r->message_text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
}

/*
 * Sorts each recipient into accepted / refused / deferred from the session
 * just run, and decides the outcome.
 */
static void collect(smtp_message_t msg, GPtrArray *recipients, const char *const *rcpt,
                    vs_mail_result *r, GString *report)
{
	const smtp_status_t *mstat = smtp_message_transfer_status(msg);
	const smtp_status_t *rpath = smtp_reverse_path_status(msg);
	g_autofree char *mtext = status_text(mstat);

	g_free(r->message_text);
	r->message_text = g_strdup(mtext);
	r->message_code = mstat ? mstat->code : 0;
	if (rpath && rpath->code >= 400) {
		g_autofree char *t = status_text(rpath);
		g_string_append_printf(report, "MAIL FROM: %s\n", t);
		g_free(r->message_text);
		r->message_text = g_strdup_printf("sender refused: %s", t);
	}
	for (guint i = 0; i < recipients->len; i++) {
		const smtp_status_t *st = smtp_recipient_status(recipients->pdata[i]);
		g_autofree char *t = status_text(st);

		g_string_append_printf(report, "%s: %s\n", rcpt[i], t);
		if (is_2xx(st) && is_2xx(mstat))
			g_ptr_array_add(r->accepted, g_strdup(rcpt[i]));
		else if (is_5xx(st))
			g_ptr_array_add(r->refused, g_strdup_printf("%s: %s", rcpt[i], t));
		else
			g_ptr_array_add(r->deferred, g_strdup(rcpt[i]));
	}
	g_string_append_printf(report, "message: %s\n", mtext);

	if (is_5xx(rpath) || (is_5xx(mstat) && r->deferred->len == 0) ||
	    (r->accepted->len == 0 && r->deferred->len == 0)) {
		/* refused for good: the sender, the data, or every recipient */
		r->outcome = VS_MAIL_PERMFAIL;
		if (r->accepted->len == 0 && r->deferred->len == 0 && r->refused->len) {
			g_free(r->message_text);
			r->message_text = g_strdup("every recipient refused");
		}
		g_ptr_array_set_size(r->deferred, 0);
	} else if (r->deferred->len) {
		r->outcome = VS_MAIL_TEMPFAIL;
	} else {
		r->outcome = VS_MAIL_SENT;
	}
}

/**
 * vs_mail_deliver:
 * @cfg: [mail] settings: server, from, starttls, user, password_file, timeout
 * @message: the whole message (CRLF line ends)
 * @rcpt: envelope recipients (NULL-terminated)
 * @result: (out): outcome, per-recipient lists and a report; clear with
 *   vs_mail_result_clear()
 *
 * Delivers one message in one SMTP session. Blocks up to the configured
 * timeout per step: call it from the alert worker, never from a caller that
 * must not wait.
 */
void vs_mail_deliver(const vs_config *cfg, const char *message, const char *const *rcpt,
                     vs_mail_result *result)
{
	send_ctx c = {.user = cfg->mail_user, .cleartext_ok = cfg->mail_allow_cleartext_auth};
	bool tls_for_auth = false; /* STARTTLS required because of the password */
	smtp_session_t session = NULL;
	smtp_message_t msg;
	auth_context_t auth = NULL;
	SSL_CTX *tls = NULL;
	g_autoptr(GPtrArray) recipients = g_ptr_array_new();
	g_autofree char *from = NULL;
	GString *report = g_string_new(NULL);

	memset(result, 0, sizeof(*result));
	result->accepted = g_ptr_array_new_with_free_func(g_free);
	result->refused = g_ptr_array_new_with_free_func(g_free);
	result->deferred = g_ptr_array_new_with_free_func(g_free);
	result->outcome = VS_MAIL_TEMPFAIL;
	for (const char *const *p = rcpt; p && *p; p++)
		g_ptr_array_add(result->deferred, g_strdup(*p));

	if (!cfg->mail_server || !rcpt || !rcpt[0]) {
		fail(result, VS_MAIL_PERMFAIL, "no mail server or no recipient configured");
		goto out;
	}
	if (cfg->mail_user && cfg->mail_password_file) {
		g_autoptr(GError) err = NULL;
		c.password = read_password(cfg->mail_password_file, &err);
		if (!c.password) {
			fail(result, VS_MAIL_TEMPFAIL, "password file: %s", err->message);
			goto out;
		}
	}
	session = smtp_create_session();
	msg = session ? smtp_add_message(session) : NULL;
	if (!msg) {
		fail(result, VS_MAIL_TEMPFAIL, "libesmtp: cannot create a session");
		goto out;
	}
	smtp_set_server(session, cfg->mail_server);
	set_timeouts(session, cfg->mail_timeout);
	smtp_set_eventcb(session, event_cb, &c);
	c.debug = g_getenv("VS_MAIL_DEBUG") != NULL;
	smtp_set_monitorcb(session, monitor_cb, &c, 0);
	if (cfg->mail_user && c.password && !c.cleartext_ok) {
		if (cfg->mail_starttls == VS_STARTTLS_NO) {
			/* refused by the configuration check; never sent anyway */
			fail(result, VS_MAIL_PERMFAIL,
			     "the password would be sent in clear text (starttls = no)");
			goto out;
		}
		tls_for_auth = cfg->mail_starttls == VS_STARTTLS_OPTIONAL;
	}
	if (cfg->mail_starttls != VS_STARTTLS_NO) {
		g_autofree char *problem = NULL;
		tls = make_tls_ctx(cfg->mail_ca_file, &problem);
		if (problem) {
			fail(result, VS_MAIL_TEMPFAIL, "%s", problem);
			goto out;
		}
		if (tls)
			smtp_starttls_set_ctx(session, tls);
		smtp_starttls_enable(session,
		                     cfg->mail_starttls == VS_STARTTLS_REQUIRED || tls_for_auth
		                         ? Starttls_REQUIRED
		                         : Starttls_ENABLED);
	}
	if (cfg->mail_user && c.password) {
		auth_client_init();
		auth = auth_create_context();
		auth_set_mechanism_flags(auth, AUTH_PLUGIN_PLAIN, 0);
		auth_set_interact_cb(auth, auth_interact, &c);
		smtp_auth_set_context(session, auth);
	}
	from = envelope_address(cfg->mail_from ? cfg->mail_from : "virtscale@localhost");
	smtp_set_reverse_path(msg, from);
	smtp_set_message_str(msg, (void *)message);
	for (const char *const *p = rcpt; *p; p++) {
		g_autofree char *addr = envelope_address(*p);
		g_ptr_array_add(recipients, smtp_add_recipient(msg, addr));
	}

	if (!smtp_start_session(session)) {
		char buf[256];
		fail(result, VS_MAIL_TEMPFAIL, "%s%s%s%s",
		     smtp_strerror(smtp_errno(), buf, sizeof(buf)), c.tls_problem ? ": " : "",
		     c.tls_problem ? c.tls_problem : "",
		     tls_for_auth && !c.tls_ok ? TLS_FOR_AUTH : "");
		goto out;
	}
	if ((cfg->mail_starttls == VS_STARTTLS_REQUIRED || tls_for_auth) && !c.tls_ok) {
		/* never reached with Starttls_REQUIRED, but a plain send must not pass */
		fail(result, VS_MAIL_TEMPFAIL, "STARTTLS required but not used%s%s%s",
		     c.tls_problem ? ": " : "", c.tls_problem ? c.tls_problem : "",
		     tls_for_auth ? TLS_FOR_AUTH : "");
		goto out;
	}
	g_ptr_array_set_size(result->deferred, 0);
	collect(msg, recipients, rcpt, result, report);
	if (result->message_code == 0 && result->outcome != VS_MAIL_SENT) {
		/* the dialogue stopped before DATA (e.g. AUTH refused): say where */
		char ebuf[256];
		int en = smtp_errno();
		g_autofree char *t =
		    g_strdup_printf("no transfer (%s), server's last answer: %s",
		                    en ? smtp_strerror(en, ebuf, sizeof(ebuf)) : "session ended",
		                    c.last_reply ? c.last_reply : "(none)");
		g_free(result->message_text);
		result->message_text = g_steal_pointer(&t);
		g_string_append_printf(report, "%s\n", result->message_text);
	}
	if (c.tls_problem && result->outcome != VS_MAIL_SENT) {
		char *t = g_strdup_printf("%s (%s)", result->message_text, c.tls_problem);
		g_free(result->message_text);
		result->message_text = t;
	}
out:
	if (!report->len && result->message_text)
		g_string_append_printf(report, "%s\n", result->message_text);
	result->report = g_string_free(report, FALSE);
	if (session)
		smtp_destroy_session(session);
	if (auth)
		auth_destroy_context(auth);
	if (tls)
		SSL_CTX_free(tls);
	g_free(c.tls_problem);
	g_free(c.last_reply);
	if (c.password) {
		memset(c.password, 0, strlen(c.password));
		g_free(c.password);
	}
}
