/*
 * test-validate.c - the allow-list validators against hostile strings:
 * separators of nginx/mail/shell syntax, CR/LF injection, overlong input,
 * invalid UTF-8.
 */
#include "config.h"

#include "vs-validate.h"

#include "testutil.h"

#include <glib.h>
#include <string.h>

/* Strings no name, host or address may ever be. */
static const char *const hostile[] = {
    "",
    " ",
    "web;",
    "web}",
    "web{",
    "web 01",
    "web\n01",
    "web\r\nBcc: x@evil",
    "web\t01",
    "web\"",
    "web'",
    "web`id`",
    "$(reboot)",
    "web/../../etc",
    "web\\x",
    "web\x7f",
    "web\xff",
    "w\xc3\xa9"
    "b", /* valid UTF-8, still not a name */
    "-web",
    ".web",
    "_web",
};

START_TEST(test_domain_and_pool_names)
{
	char longname[70];

	ck_assert(vs_valid_domain_name("web-01"));
	ck_assert(vs_valid_domain_name("Web_01.a+b"));
	ck_assert(vs_valid_domain_name("0"));
	ck_assert(vs_valid_pool_name("web"));
	ck_assert(vs_valid_pool_name("db_1-b"));
	ck_assert(vs_valid_pool_name("Web2"));
	/* '.' ends the nginx include's header sentence and is no nginx token */
	ck_assert(!vs_valid_pool_name("db.1"));
	ck_assert(!vs_valid_pool_name("web."));
	ck_assert(!vs_valid_pool_name("a+b")); /* '+' only in domain names */
	ck_assert(!vs_valid_domain_name(NULL));
	ck_assert(!vs_valid_pool_name(NULL));
	for (size_t i = 0; i < G_N_ELEMENTS(hostile); i++) {
		ck_assert_msg(!vs_valid_domain_name(hostile[i]), "domain accepted '%s'",
		              hostile[i]);
		ck_assert_msg(!vs_valid_pool_name(hostile[i]), "pool accepted '%s'", hostile[i]);
	}
	memset(longname, 'a', sizeof(longname));
	longname[64] = '\0';
	ck_assert(vs_valid_domain_name(longname));
	ck_assert(vs_valid_pool_name(longname));
	longname[64] = 'a';
	longname[65] = '\0';
	ck_assert(!vs_valid_domain_name(longname));
	ck_assert(!vs_valid_pool_name(longname));
}
END_TEST

START_TEST(test_ip_literals)
{
	ck_assert(vs_valid_ip_literal("127.0.0.1"));
	ck_assert(vs_valid_ip_literal("10.0.2.15"));
	ck_assert(vs_valid_ip_literal("::1"));
	ck_assert(vs_valid_ip_literal("fe80::1:2"));
	ck_assert(vs_valid_ip_literal("::ffff:127.0.0.1"));
	ck_assert(!vs_valid_ip_literal(NULL));
	ck_assert(!vs_valid_ip_literal(""));
	ck_assert(!vs_valid_ip_literal("127.1"));
	ck_assert(!vs_valid_ip_literal("0x7f.0.0.1"));
	ck_assert(!vs_valid_ip_literal("256.0.0.1"));
	ck_assert(!vs_valid_ip_literal("127.0.0.1 "));
	ck_assert(!vs_valid_ip_literal("127.0.0.1;"));
	ck_assert(!vs_valid_ip_literal("127.0.0.1\n"));
	ck_assert(!vs_valid_ip_literal("[::1]"));
	ck_assert(!vs_valid_ip_literal("localhost"));
	for (size_t i = 0; i < G_N_ELEMENTS(hostile); i++)
		ck_assert(!vs_valid_ip_literal(hostile[i]));
}
END_TEST

START_TEST(test_hostnames)
{
	char buf[300];

	ck_assert(vs_valid_hostname("localhost"));
	ck_assert(vs_valid_hostname("hv-2.example.org"));
	ck_assert(vs_valid_hostname("127.0.0.1")); /* digits are legal labels */
	ck_assert(vs_valid_hostname("a"));
	ck_assert(!vs_valid_hostname(NULL));
	ck_assert(!vs_valid_hostname("example.org."));
	ck_assert(!vs_valid_hostname(".example.org"));
	ck_assert(!vs_valid_hostname("a..b"));
	ck_assert(!vs_valid_hostname("-a.b"));
	ck_assert(!vs_valid_hostname("a-.b"));
	ck_assert(!vs_valid_hostname("a.b-"));
	ck_assert(!vs_valid_hostname("a_b"));
	ck_assert(!vs_valid_hostname("host:80"));
	for (size_t i = 0; i < G_N_ELEMENTS(hostile); i++)
		ck_assert_msg(!vs_valid_hostname(hostile[i]) || strcmp(hostile[i], "-web") == 0,
		              "accepted '%s'", hostile[i]);
	/* a 64-character label, and more than 253 characters in all */
	memset(buf, 'a', 64);
	buf[64] = '\0';
	ck_assert(!vs_valid_hostname(buf));
	buf[63] = '\0';
	ck_assert(vs_valid_hostname(buf));
	for (size_t i = 0; i < 254; i++)
		buf[i] = (i % 2) ? '.' : 'a';
	buf[254] = '\0';
	buf[253] = 'a';
	ck_assert(!vs_valid_hostname(buf));
	buf[253] = '\0';
	ck_assert(vs_valid_hostname(buf));
}
END_TEST

START_TEST(test_host_port)
{
	ck_assert(vs_valid_host_port("127.0.0.1:80"));
	ck_assert(vs_valid_host_port("localhost:65535"));
	ck_assert(vs_valid_host_port("[::1]:25"));
	ck_assert(vs_valid_host_port("mx.example.org:1"));
	ck_assert(!vs_valid_host_port(NULL));
	ck_assert(!vs_valid_host_port("127.0.0.1"));
	ck_assert(!vs_valid_host_port("127.0.0.1:"));
	ck_assert(!vs_valid_host_port(":80"));
	ck_assert(!vs_valid_host_port("127.0.0.1:0"));
	ck_assert(!vs_valid_host_port("127.0.0.1:65536"));
	ck_assert(!vs_valid_host_port("127.0.0.1:000080"));
	ck_assert(!vs_valid_host_port("127.0.0.1:+80"));
	ck_assert(!vs_valid_host_port("127.0.0.1:80 "));
	ck_assert(!vs_valid_host_port("127.0.0.1:80;"));
	ck_assert(!vs_valid_host_port("127.0.0.1:80\r\nX: y"));
	ck_assert(!vs_valid_host_port("127.0.0.1:80}"));
	ck_assert(!vs_valid_host_port("::1:80"));
	ck_assert(!vs_valid_host_port("[::1]80"));
	ck_assert(!vs_valid_host_port("[127.0.0.1]:80"));
	ck_assert(!vs_valid_host_port("[::1:80"));
	ck_assert(!vs_valid_host_port("[]:80"));
	ck_assert(!vs_valid_host_port("evil host:80"));
	ck_assert(!vs_valid_host_port("a;b:80"));
	for (size_t i = 0; i < G_N_ELEMENTS(hostile); i++) {
		g_autofree char *s = g_strdup_printf("%s:80", hostile[i]);

		ck_assert_msg(!vs_valid_host_port(s) || strcmp(hostile[i], "-web") == 0,
		              "accepted '%s'", s);
	}
}
END_TEST

START_TEST(test_text)
{
	char big[8192];

	ck_assert(vs_valid_text("pool web is high", 16));
	ck_assert(vs_valid_text("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14));
	ck_assert(vs_valid_text("", 0));
	ck_assert(vs_valid_text(NULL, 0));
	ck_assert(!vs_valid_text(NULL, 1));
	ck_assert(!vs_valid_text("a\nb", 3));
	ck_assert(!vs_valid_text("a\rb", 3));
	ck_assert(!vs_valid_text("a\tb", 3));
	ck_assert(!vs_valid_text("a\x1b[2Jb", 6));
	ck_assert(!vs_valid_text("a\x7f", 2));
	ck_assert(!vs_valid_text("a\xc2\x85", 3)); /* NEL, a C1 control */
	ck_assert(!vs_valid_text("a\0b", 3));      /* embedded NUL */
	ck_assert(!vs_valid_text("\xff", 1));
	ck_assert(!vs_valid_text("\xc0\xaf", 2));         /* overlong '/' */
	ck_assert(!vs_valid_text("\xed\xa0\x80", 3));     /* surrogate */
	ck_assert(!vs_valid_text("\xe2\x82", 2));         /* truncated */
	ck_assert(!vs_valid_text("\xf4\x90\x80\x80", 4)); /* beyond U+10FFFF */
	/* the length is honoured: a valid prefix of a longer buffer */
	ck_assert(vs_valid_text("ok\n", 2));
	memset(big, 'x', sizeof(big));
	ck_assert(vs_valid_text(big, sizeof(big)));
	big[sizeof(big) - 1] = '\n';
	ck_assert(!vs_valid_text(big, sizeof(big)));
}
END_TEST

START_TEST(test_sanitize_line)
{
	char out[64];
	char tiny[4];

	vs_sanitize_line("web-01 is high", out, sizeof(out));
	ck_assert_str_eq(out, "web-01 is high");
	vs_sanitize_line("web\r\nBcc: x@evil", out, sizeof(out));
	ck_assert_str_eq(out, "web??Bcc: x@evil");
	vs_sanitize_line("a\tb\x1b[0m\x7f", out, sizeof(out));
	ck_assert_str_eq(out, "a?b?[0m?");
	vs_sanitize_line("bad\xff\xfe utf8 \xc0\xaf", out, sizeof(out));
	ck_assert_str_eq(out, "bad?? utf8 ??");
	vs_sanitize_line("caf\xc3\xa9 \xc2\x85", out, sizeof(out));
	ck_assert_str_eq(out, "caf\xc3\xa9 ?");
	vs_sanitize_line(NULL, out, sizeof(out));
	ck_assert_str_eq(out, "");
	/* truncation never splits a character and always terminates */
	vs_sanitize_line("ab\xe2\x82\xac", tiny, sizeof(tiny));
	ck_assert_str_eq(tiny, "ab");
	vs_sanitize_line("abcdef", tiny, sizeof(tiny));
	ck_assert_str_eq(tiny, "abc");
	vs_sanitize_line("abc", tiny, 1);
	ck_assert_str_eq(tiny, "");
	vs_sanitize_line("abc", NULL, 0); /* no crash */

	/* anything in, valid text out */
	GRand *rand = g_rand_new_with_seed(7);
	for (int round = 0; round < 2000; round++) {
		char in[80];
		size_t n = (size_t)g_rand_int_range(rand, 0, (gint32)sizeof(in));

		for (size_t i = 0; i < n; i++)
			in[i] = (char)g_rand_int_range(rand, 1, 256);
		in[n] = '\0';
		vs_sanitize_line(in, out, sizeof(out));
		ck_assert(strlen(out) < sizeof(out));
		ck_assert(vs_valid_text(out, strlen(out)));
	}
	g_rand_free(rand);
}
END_TEST

Suite *vs_test_suite(void)
{
	Suite *s = suite_create("validate");
	TCase *tc = tcase_create("validate");

	tcase_add_test(tc, test_domain_and_pool_names);
	tcase_add_test(tc, test_ip_literals);
	tcase_add_test(tc, test_hostnames);
	tcase_add_test(tc, test_host_port);
	tcase_add_test(tc, test_text);
	tcase_add_test(tc, test_sanitize_line);
	suite_add_tcase(s, tc);
	return s;
}
