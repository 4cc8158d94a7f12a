/*
 * test-mail-message.c - alert message building (actuator/mail/mail-message.c),
 * the alert journal (actuator/mail/alert-queue.c) and who writes it
 * (actuator/mail/alert.c: never the thread that posts).
 */
#include "config.h"

#include "alert-internal.h"

#include "testutil.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

static const char *const two_rcpt[] = {"ops@example.test", "boss@example.test", NULL};

static char *build(const vs_alert *a, unsigned count)
{
	vs_mail_message_input in = {
	    .alert = a,
	    .count = count,
	    .first_time = 1795300000,
	    .from = "virtscale@example.test",
	    .to = two_rcpt,
	    .host = "hv1",
	    .message_id = "<1.2@virtscale.hv1>",
	    .date = 1795303378,
	};
	return vs_mail_message_build(&in);
}

/* The header block (up to the empty line), with folded lines joined. */
static GPtrArray *headers_of(const char *msg)
{
	GPtrArray *h = g_ptr_array_new_with_free_func(g_free);
	const char *end = strstr(msg, "\r\n\r\n");
	g_autofree char *block = g_strndup(msg, (gsize)(end - msg));
	g_auto(GStrv) lines = g_strsplit(block, "\r\n", -1);

	for (char **l = lines; *l; l++) {
		if ((**l == ' ' || **l == '\t') && h->len) {
			char *joined = g_strconcat(h->pdata[h->len - 1], *l, NULL);
			g_free(h->pdata[h->len - 1]);
			h->pdata[h->len - 1] = joined;
		} else {
			g_ptr_array_add(h, g_strdup(*l));
		}
	}
	return h;
}

static unsigned count_header(GPtrArray *h, const char *name)
{
	unsigned n = 0;
	size_t len = strlen(name);

	for (guint i = 0; i < h->len; i++)
		if (g_ascii_strncasecmp(h->pdata[i], name, len) == 0 &&
		    ((char *)h->pdata[i])[len] == ':')
			n++;
	return n;
}

/* Every line ends with CRLF: no bare CR or LF anywhere. */
static void assert_crlf_only(const char *msg)
{
	for (const char *p = msg; *p; p++) {
		if (*p == '\r')
			ck_assert_msg(p[1] == '\n', "bare CR at offset %td", p - msg);
		if (*p == '\n')
			ck_assert_msg(p > msg && p[-1] == '\r', "bare LF at offset %td", p - msg);
	}
	ck_assert(g_str_has_suffix(msg, "\r\n"));
}

START_TEST(test_date_format)
{
	g_autofree char *epoch = vs_mail_format_date(0);
	g_autofree char *d = vs_mail_format_date(1795303378);

	ck_assert_str_eq(epoch, "Thu, 01 Jan 1970 00:00:00 +0000");
	ck_assert_str_eq(d, "Sat, 21 Nov 2026 23:22:58 +0000");
}
END_TEST

START_TEST(test_required_headers)
{
	vs_alert a = {.kind = VS_ALERT_AT_MAX, .pool = "web", .time = 1795303378};
	g_autofree char *m = build(&a, 1);
	g_autoptr(GPtrArray) h = headers_of(m);
	const char *names[] = {"Date", "Message-ID", "From", "To", "Subject"};

	assert_crlf_only(m);
	for (unsigned i = 0; i < G_N_ELEMENTS(names); i++)
		ck_assert_uint_eq(count_header(h, names[i]), 1);
	ck_assert_ptr_nonnull(strstr(m, "Date: Sat, 21 Nov 2026 23:22:58 +0000\r\n"));
	ck_assert_ptr_nonnull(strstr(m, "Message-ID: <1.2@virtscale.hv1>\r\n"));
	ck_assert_ptr_nonnull(strstr(m, "To: ops@example.test,\r\n boss@example.test\r\n"));
	ck_assert_ptr_nonnull(
	    strstr(m, "Subject: [virtscale] pool web: at maximum size and still overloaded\r\n"));
	ck_assert_ptr_nonnull(strstr(m, "X-Virtscale-Event: at-max\r\n"));
}
END_TEST

START_TEST(test_subjects_per_kind)
{
	vs_alert a = {.pool = "web"};
	g_autofree char *s1 = NULL, *s2 = NULL, *s3 = NULL, *s4 = NULL, *s5 = NULL, *s6 = NULL;

	a.kind = VS_ALERT_ACTION_FAILED;
	a.step = "lb-add";
	s1 = vs_mail_subject(&a, 1);
	ck_assert_str_eq(s1, "[virtscale] pool web: lb-add failed");
	a.kind = VS_ALERT_RECONCILED;
	s2 = vs_mail_subject(&a, 1);
	ck_assert_str_eq(s2, "[virtscale] pool web: leftovers found and cleaned");
	a.kind = VS_ALERT_RECOVERED;
	s3 = vs_mail_subject(&a, 1);
	ck_assert_str_eq(s3, "[virtscale] pool web: back to normal");
	a.kind = VS_ALERT_AT_MAX;
	s4 = vs_mail_subject(&a, 4);
	ck_assert_str_eq(s4,
	                 "[virtscale] pool web: at maximum size and still overloaded (4 times)");
	a.kind = VS_ALERT_TEST;
	a.pool = NULL;
	s5 = vs_mail_subject(&a, 1);
	ck_assert_str_eq(s5, "[virtscale] test message");
	a.kind = VS_ALERT_ACTION_FAILED;
	a.pool = "web";
	a.step = NULL;
	s6 = vs_mail_subject(&a, 1);
	ck_assert_str_eq(s6, "[virtscale] pool web: action failed");
}
END_TEST

START_TEST(test_header_injection_is_neutralized)
{
	vs_alert a = {
	    .kind = VS_ALERT_ACTION_FAILED,
	    .pool = "web\r\nBcc: victim@example.test\r\nX-Injected: 1",
	    .step = "clone\nX-Step: 2",
	    .error = "no\r\n\r\nspace",
	    .time = 1795303378,
	};
	g_autofree char *m = build(&a, 1);
	g_autoptr(GPtrArray) h = headers_of(m);

	assert_crlf_only(m);
	ck_assert_uint_eq(count_header(h, "Bcc"), 0);
	ck_assert_uint_eq(count_header(h, "X-Injected"), 0);
	ck_assert_uint_eq(count_header(h, "X-Step"), 0);
	ck_assert_uint_eq(count_header(h, "Subject"), 1);
	ck_assert_ptr_nonnull(
	    strstr(m, "Subject: [virtscale] pool web??Bcc: "
	              "victim@example.test??X-Injected: 1: clone?X-Step: 2 failed\r\n"));
	/* the body keeps the text, on one line, also neutralized */
	ck_assert_ptr_nonnull(strstr(m, "Error:       no????space\r\n"));
}
END_TEST

START_TEST(test_non_ascii_header_and_body)
{
	vs_alert a = {.kind = VS_ALERT_AT_MAX,
	              .pool = "w\xc3\xa9"
	                      "b",
	              .time = 1};
	g_autofree char *m = build(&a, 1);
	g_autofree char *bad = NULL;
	vs_alert b = {.kind = VS_ALERT_AT_MAX,
	              .pool = "x\xff"
	                      "y",
	              .time = 1};

	/* headers stay ASCII; the UTF-8 body keeps the name */
	ck_assert_ptr_nonnull(strstr(m, "Subject: [virtscale] pool w??b: "));
	ck_assert_ptr_nonnull(strstr(m, "Pool:        w\xc3\xa9"
	                                "b\r\n"));
	bad = build(&b, 1);
	ck_assert(g_utf8_validate(bad, -1, NULL));
}
END_TEST

START_TEST(test_body_fields_and_details)
{
	vs_alert a = {
	    .kind = VS_ALERT_ACTION_FAILED,
	    .pool = "web",
	    .step = "start",
	    .error = "virDomainCreate: internal error",
	    .summary = "6 instances (max 6), cpu 90% > 50%",
	    .details = "web-01 cpu 91\r\nweb-02 cpu 89\nweb-03 cpu 90\rlast: scale-out 12:00\n",
	    .time = 1795303378,
	};
	g_autofree char *m = build(&a, 3);
	const char *body = strstr(m, "\r\n\r\n");

	assert_crlf_only(m);
	ck_assert_ptr_nonnull(body);
	ck_assert_ptr_nonnull(strstr(body, "Event:       action-failed\r\n"));
	ck_assert_ptr_nonnull(strstr(body, "Pool:        web\r\n"));
	ck_assert_ptr_nonnull(strstr(body, "Host:        hv1\r\n"));
	ck_assert_ptr_nonnull(strstr(body, "Time:        2026-11-21 23:22:58 UTC\r\n"));
	ck_assert_ptr_nonnull(strstr(body, "Occurrences: 3 times since 2026-11-21 22:26:40 UTC"));
	ck_assert_ptr_nonnull(strstr(body, "Step:        start\r\n"));
	ck_assert_ptr_nonnull(strstr(body, "Error:       virDomainCreate: internal error\r\n"));
	ck_assert_ptr_nonnull(strstr(body, "Summary:     6 instances (max 6), cpu 90% > 50%\r\n"));
	ck_assert_ptr_nonnull(strstr(body, "\r\nweb-01 cpu 91\r\nweb-02 cpu 89\r\nweb-03 cpu 90\r\n"
	                                   "last: scale-out 12:00\r\n\r\n-- \r\n"));
}
END_TEST

START_TEST(test_long_lines_are_cut)
{
	g_autofree char *longtext = g_strnfill(5000, 'x');
	vs_alert a = {.kind = VS_ALERT_AT_MAX, .pool = longtext, .details = longtext, .time = 1};
	g_autofree char *m = build(&a, 1);
	g_auto(GStrv) lines = g_strsplit(m, "\r\n", -1);

	for (char **l = lines; *l; l++)
		ck_assert_uint_le(strlen(*l), 998);
}
END_TEST

START_TEST(test_message_ids_unique)
{
	g_autofree char *a = vs_mail_new_message_id("hv1.example");
	g_autofree char *b = vs_mail_new_message_id("hv1.example");
	g_autofree char *c = vs_mail_new_message_id("bad\r\nhost name");

	ck_assert_str_ne(a, b);
	ck_assert(g_str_has_prefix(a, "<") && g_str_has_suffix(a, "@virtscale.hv1.example>"));
	ck_assert_ptr_null(strpbrk(c, "\r\n "));
}
END_TEST

START_TEST(test_kind_names_roundtrip)
{
	for (int k = VS_ALERT_AT_MAX; k <= VS_ALERT_TEST; k++) {
		vs_alert_kind back;
		ck_assert(vs_alert_kind_from_name(vs_alert_kind_name((vs_alert_kind)k), &back));
		ck_assert_int_eq(back, k);
	}
	vs_alert_kind x;
	ck_assert(!vs_alert_kind_from_name("bogus", &x));
	ck_assert(!vs_alert_kind_from_name(NULL, &x));
}
END_TEST

START_TEST(test_journal_roundtrip)
{
	g_autofree char *dir = g_dir_make_tmp("vs-alert-XXXXXX", NULL);
	g_autofree char *qdir = g_build_filename(dir, "q", NULL);
	vs_alert a = {.kind = VS_ALERT_ACTION_FAILED,
	              .pool = "web\r\nx",
	              .step = "lb-add",
	              .error = "nginx -t: [emerg]",
	              .summary = "s",
	              .details = "line1\nline2",
	              .time = 1795303378.5};
	vs_alert_entry *e = vs_alert_entry_new(&a, two_rcpt, "hv1");
	vs_alert_entry *f = vs_alert_entry_new(&a, two_rcpt, "hv1");
	g_autoptr(GPtrArray) loaded =
	    g_ptr_array_new_with_free_func((GDestroyNotify)vs_alert_entry_free);
	g_autoptr(GError) err = NULL;
	g_autofree char *bad = g_build_filename(qdir, "zz.alert", NULL);
	/* what vs_file_replace() leaves when interrupted before its rename */
	g_autofree char *tmp = g_build_filename(qdir, ".yy.alert.tmp-Ab12Cd", NULL);
	g_autofree char *badkept = g_strconcat(bad, ".bad", NULL);
	const vs_alert_entry *l;

	e->count = 5;
	e->not_before = 1795303400;
	ck_assert(vs_alert_journal_write(qdir, e, &err));
	ck_assert(vs_alert_journal_write(qdir, f, &err));
	ck_assert(g_file_set_contents(bad, "[alert]\nkind=nonsense\n", -1, NULL));
	ck_assert(g_file_set_contents(tmp, "half", -1, NULL));
	ck_assert(vs_alert_journal_load(qdir, loaded, &err));
	ck_assert_uint_eq(loaded->len, 2);
	l = loaded->pdata[0];
	ck_assert_str_eq(l->id, e->id);
	ck_assert_int_eq(l->alert.kind, VS_ALERT_ACTION_FAILED);
	ck_assert_str_eq(l->alert.pool, "web\r\nx");
	ck_assert_str_eq(l->alert.details, "line1\nline2");
	ck_assert_str_eq(l->alert.error, "nginx -t: [emerg]");
	ck_assert_uint_eq(l->count, 5);
	ck_assert(l->not_before == 1795303400);
	ck_assert(l->alert.time == 1795303378.5);
	ck_assert_str_eq(l->message_id, e->message_id);
	ck_assert_uint_eq(g_strv_length(l->rcpt), 2);
	ck_assert_str_eq(l->rcpt[1], "boss@example.test");
	/* the bad file is set aside, the interrupted temp file removed */
	ck_assert(g_file_test(badkept, G_FILE_TEST_EXISTS));
	ck_assert(!g_file_test(tmp, G_FILE_TEST_EXISTS));

	vs_alert_journal_remove(qdir, e->id);
	vs_alert_journal_remove(qdir, f->id);
	g_ptr_array_set_size(loaded, 0);
	ck_assert(vs_alert_journal_load(qdir, loaded, &err));
	ck_assert_uint_eq(loaded->len, 0);

	g_unlink(badkept);
	g_rmdir(qdir);
	g_rmdir(dir);
	vs_alert_entry_free(e);
	vs_alert_entry_free(f);
}
END_TEST

START_TEST(test_journal_missing_dir_is_empty)
{
	g_autoptr(GPtrArray) loaded = g_ptr_array_new();
	ck_assert(vs_alert_journal_load("/nonexistent/vs-alert-queue", loaded, NULL));
	ck_assert_uint_eq(loaded->len, 0);
}
END_TEST

/* A symlink planted where an entry's temporary file once had a fixed name
 * (ID.alert.tmp), or at the entry's file itself, is never followed. */
START_TEST(test_journal_follows_no_planted_symlink)
{
	g_autofree char *dir = g_dir_make_tmp("vs-alert-XXXXXX", NULL);
	g_autofree char *victim = g_build_filename(dir, "victim", NULL);
	vs_alert a = {.kind = VS_ALERT_AT_MAX, .pool = "web", .time = 1};
	vs_alert_entry *e = vs_alert_entry_new(&a, two_rcpt, "hv1");
	g_autofree char *name = g_strconcat(e->id, ".alert", NULL);
	g_autofree char *path = g_build_filename(dir, name, NULL);
	g_autofree char *tmp = g_strconcat(path, ".tmp", NULL);
	g_autoptr(GError) err = NULL;
	g_autofree char *text = NULL;

	ck_assert(g_file_set_contents(victim, "precious\n", -1, NULL));
	ck_assert_int_eq(symlink(victim, tmp), 0);
	ck_assert_msg(vs_alert_journal_write(dir, e, &err), "%s", err ? err->message : "");
	ck_assert(g_file_get_contents(victim, &text, NULL, NULL));
	ck_assert_str_eq(text, "precious\n");
	ck_assert(!g_file_test(path, G_FILE_TEST_IS_SYMLINK));

	g_unlink(path);
	ck_assert_int_eq(symlink(victim, path), 0);
	ck_assert(vs_alert_journal_write(dir, e, &err));
	g_clear_pointer(&text, g_free);
	ck_assert(g_file_get_contents(victim, &text, NULL, NULL));
	ck_assert_str_eq(text, "precious\n");
	ck_assert(!g_file_test(path, G_FILE_TEST_IS_SYMLINK));

	g_unlink(path);
	g_unlink(tmp);
	g_unlink(victim);
	g_rmdir(dir);
	vs_alert_entry_free(e);
}
END_TEST

/* An alerter whose server refuses connections: alerts stay queued. */
static vs_config *unreachable_mail(const char *state_dir)
{
	g_autofree char *text =
	    g_strdup_printf("[actuator]\nstate_dir = %s\n"
	                    "[mail]\nserver = 127.0.0.1:1\nto = ops@example.test\n"
	                    "timeout = 1\n",
	                    state_dir);
	return vs_test_config(text);
}

static guint journal_files(const char *qdir)
{
	g_autoptr(GDir) d = g_dir_open(qdir, 0, NULL);
	guint n = 0;

	for (const char *name; d && (name = g_dir_read_name(d));)
		n += g_str_has_suffix(name, ".alert");
	return n;
}

/* vs_alerter_post() runs on the event loop: it queues and returns, the
 * durable write is the journaler's; stopping writes what is still queued,
 * and the next run finds it. */
START_TEST(test_post_never_writes_the_journal)
{
	g_autofree char *dir = g_dir_make_tmp("vs-alert-XXXXXX", NULL);
	g_autofree char *qdir = g_build_filename(dir, "mail-queue", NULL);
	vs_config *cfg = unreachable_mail(dir);
	vs_alert alert = {.kind = VS_ALERT_AT_MAX, .pool = "web", .summary = "6/6"};
	g_autoptr(GError) err = NULL;
	vs_alerter *a = vs_alerter_new(cfg, &err);

	/* not started: nothing but the poster could write, and it does not */
	ck_assert_msg(a != NULL, "%s", err ? err->message : "");
	ck_assert(vs_alerter_post(a, &alert));
	ck_assert_uint_eq(journal_files(qdir), 0);
	ck_assert_uint_eq(vs_alerter_queue_length(a), 1);
	/* stopping journals what is queued */
	vs_alerter_free(a);
	ck_assert_uint_eq(journal_files(qdir), 1);
	a = vs_alerter_new(cfg, &err);
	ck_assert_uint_eq(vs_alerter_queue_length(a), 1);

	/* started: the journaler writes the next one without being asked */
	ck_assert(vs_alerter_start(a, &err));
	alert.kind = VS_ALERT_ACTION_FAILED;
	ck_assert(vs_alerter_post(a, &alert));
	for (int i = 0; i < 100 && journal_files(qdir) < 2; i++)
		g_usleep(50000);
	ck_assert_uint_eq(journal_files(qdir), 2);
	vs_alerter_free(a);
	a = vs_alerter_new(cfg, &err);
	ck_assert_uint_eq(vs_alerter_queue_length(a), 2);
	vs_alerter_free(a);

	g_autoptr(GDir) d = g_dir_open(qdir, 0, NULL);
	for (const char *name; d && (name = g_dir_read_name(d));) {
		g_autofree char *path = g_build_filename(qdir, name, NULL);
		g_unlink(path);
	}
	g_rmdir(qdir);
	g_rmdir(dir);
	vs_config_free(cfg);
}
END_TEST

Suite *vs_test_suite(void)
{
	Suite *s = suite_create("mail-message");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_date_format);
	tcase_add_test(tc, test_required_headers);
	tcase_add_test(tc, test_subjects_per_kind);
	tcase_add_test(tc, test_header_injection_is_neutralized);
	tcase_add_test(tc, test_non_ascii_header_and_body);
	tcase_add_test(tc, test_body_fields_and_details);
	tcase_add_test(tc, test_long_lines_are_cut);
	tcase_add_test(tc, test_message_ids_unique);
	tcase_add_test(tc, test_kind_names_roundtrip);
	tcase_add_test(tc, test_journal_roundtrip);
	tcase_add_test(tc, test_post_never_writes_the_journal);
	tcase_add_test(tc, test_journal_follows_no_planted_symlink);
	tcase_add_test(tc, test_journal_missing_dir_is_empty);
	suite_add_tcase(s, tc);
	return s;
}
