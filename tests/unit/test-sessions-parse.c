/*
 * test-sessions-parse.c - the session sources' parsers: Apache
 * balancer-manager XML and HTML (real httpd 2.4.71 answers in tests/data),
 * server-status?auto, nginx stub_status, plain numbers, endpoints. Every
 * real sample is also cut at every byte offset: a cut answer is refused or
 * still gives the right figure, never a different one.
 */
#include "config.h"

#include "vs-sessions.h"

#include "testutil.h"

#include <string.h>

/* A real answer kept in tests/data. */
static char *read_answer(const char *name, size_t *len)
{
	g_autofree char *relative = g_build_filename("tests", "data", name, NULL);

	return vs_test_read_source_len(relative, len);
}

static const vs_balancer_worker *worker(const vs_balancer_state *st, guint i)
{
	ck_assert_uint_lt(i, st->workers->len);
	return g_ptr_array_index(st->workers, i);
}

START_TEST(balancer_xml_idle)
{
	size_t len;
	g_autofree char *xml = read_answer("balancer-manager-idle.xml", &len);
	g_autoptr(GError) err = NULL;
	g_autoptr(vs_balancer_state) st = vs_balancer_parse_xml(xml, len, "web", &err);

	ck_assert_msg(st != NULL, "%s", err ? err->message : "");
	ck_assert_str_eq(st->name, "balancer://web");
	ck_assert_str_eq(st->nonce, "25b5051c-baec-4ffe-be7c-21015c9c9d0e");
	ck_assert_uint_eq(st->workers->len, 3);
	ck_assert_str_eq(worker(st, 0)->name, "http://127.0.0.1:19710");
	ck_assert_str_eq(worker(st, 0)->route, "a");
	ck_assert_uint_eq(worker(st, 0)->lbfactor, 1);
	ck_assert_uint_eq(worker(st, 0)->busy, 0);
	ck_assert(!worker(st, 0)->disabled && !worker(st, 0)->draining);
	ck_assert_str_eq(worker(st, 0)->status, "Init Ok ");
	ck_assert_uint_eq(worker(st, 1)->lbfactor, 2);
	ck_assert_str_eq(worker(st, 2)->name, "http://[::1]:19712");
	ck_assert_str_eq(worker(st, 2)->route, "");
	ck_assert(worker(st, 2)->disabled);
	ck_assert(!worker(st, 2)->stopped && !worker(st, 2)->in_error);
}
END_TEST

START_TEST(balancer_xml_busy_draining)
{
	size_t len;
	g_autofree char *xml = read_answer("balancer-manager-busy.xml", &len);
	g_autoptr(GError) err = NULL;
	g_autoptr(vs_balancer_state) st = vs_balancer_parse_xml(xml, len, "balancer://web", &err);

	ck_assert_msg(st != NULL, "%s", err ? err->message : "");
	ck_assert_uint_eq(worker(st, 0)->busy, 3);
	ck_assert_uint_eq(worker(st, 0)->elected, 3);
	ck_assert(worker(st, 1)->draining);
	ck_assert(!worker(st, 1)->disabled);
	ck_assert_uint_eq(worker(st, 1)->busy, 0);

	/* Any balancer when none is named; an absent one is an error. */
	g_autoptr(vs_balancer_state) any = vs_balancer_parse_xml(xml, len, NULL, NULL);
	ck_assert_ptr_nonnull(any);
	ck_assert_ptr_null(vs_balancer_parse_xml(xml, len, "api", &err));
	ck_assert_ptr_nonnull(err);
}
END_TEST

static void check_every_cut(const char *file)
{
	size_t len;
	g_autofree char *xml = read_answer(file, &len);

	for (size_t cut = 0; cut < len; cut++) {
		g_autoptr(GError) err = NULL;
		/* A copy of exactly @cut bytes, so ASan sees any over-read. */
		g_autofree char *part = g_memdup2(xml, cut ? cut : 1);
		vs_balancer_state *st = vs_balancer_parse_xml(part, cut, "web", &err);

		ck_assert_msg(st == NULL, "%s cut at %zu parsed", file, cut);
		ck_assert_msg(err != NULL, "%s cut at %zu: no error", file, cut);
	}
}

START_TEST(balancer_xml_truncated_everywhere)
{
	check_every_cut("balancer-manager-idle.xml");
	check_every_cut("balancer-manager-busy.xml");
}
END_TEST

START_TEST(balancer_xml_hostile)
{
	static const char *const bad[] = {
	    "",
	    "not xml at all",
	    "<html><body>Balancer Manager</body></html>",
	    /* busy missing */
	    "<m><httpd:balancer><httpd:name>balancer://web</httpd:name><httpd:workers>"
	    "<httpd:worker><httpd:name>http://a:1</httpd:name></httpd:worker>"
	    "</httpd:workers></httpd:balancer></m>",
	    /* name missing */
	    "<m><httpd:balancer><httpd:name>balancer://web</httpd:name><httpd:workers>"
	    "<httpd:worker><httpd:busy>1</httpd:busy></httpd:worker>"
	    "</httpd:workers></httpd:balancer></m>",
	    /* negative, huge, junk busy */
	    "<m><httpd:balancer><httpd:name>balancer://web</httpd:name><httpd:workers>"
	    "<httpd:worker><httpd:name>x</httpd:name><httpd:busy>-1</httpd:busy></httpd:worker>"
	    "</httpd:workers></httpd:balancer></m>",
	    "<m><httpd:balancer><httpd:name>balancer://web</httpd:name><httpd:workers>"
	    "<httpd:worker><httpd:name>x</httpd:name><httpd:busy>99999999999</httpd:busy>"
	    "</httpd:worker></httpd:workers></httpd:balancer></m>",
	    "<m><httpd:balancer><httpd:name>balancer://web</httpd:name><httpd:workers>"
	    "<httpd:worker><httpd:name>x</httpd:name><httpd:busy>3 apples</httpd:busy>"
	    "</httpd:worker></httpd:workers></httpd:balancer></m>",
	    "<m><httpd:balancer><httpd:name>balancer://web</httpd:name><httpd:workers>"
	    "<httpd:worker><httpd:name>x</httpd:name><httpd:busy>1</httpd:busy>"
	    "<httpd:loadfactor>NaN</httpd:loadfactor>"
	    "</httpd:worker></httpd:workers></httpd:balancer></m>",
	    /* a worker outside <workers>, a balancer inside a balancer */
	    "<m><httpd:balancer><httpd:name>balancer://web</httpd:name>"
	    "<httpd:worker><httpd:name>x</httpd:name><httpd:busy>1</httpd:busy></httpd:worker>"
	    "</httpd:balancer></m>",
	    "<m><httpd:balancer><httpd:balancer><httpd:name>balancer://web</httpd:name>"
	    "</httpd:balancer></httpd:balancer></m>",
	    /* unknown entity, mismatched tags, invalid UTF-8, embedded NUL */
	    "<m><httpd:balancer><httpd:name>&evil;</httpd:name></httpd:balancer></m>",
	    "<m><httpd:balancer><httpd:name>balancer://web</httpd:name></m></httpd:balancer>",
	    "<m><httpd:balancer><httpd:name>balancer://w\xff\xfe</httpd:name></httpd:balancer></m>",
	    "<!DOCTYPE m [<!ENTITY a \"aaaaaaaaaa\">]><m>&a;</m>",
	};

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) err = NULL;
		vs_balancer_state *st = vs_balancer_parse_xml(bad[i], strlen(bad[i]), "web", &err);

		ck_assert_msg(st == NULL, "hostile input %zu accepted", i);
		ck_assert_ptr_nonnull(err);
	}

	/* NUL inside, and a NULL buffer. */
	static const char with_nul[] = "<m><httpd:balancer>\0</httpd:balancer></m>";
	ck_assert_ptr_null(vs_balancer_parse_xml(with_nul, sizeof(with_nul) - 1, "web", NULL));
	ck_assert_ptr_null(vs_balancer_parse_xml(NULL, 10, "web", NULL));

	/* Deep nesting: no recursion, no crash, no balancer. */
	GString *deep = g_string_new(NULL);
	for (int i = 0; i < 20000; i++)
		g_string_append(deep, "<a>");
	for (int i = 0; i < 20000; i++)
		g_string_append(deep, "</a>");
	ck_assert_ptr_null(vs_balancer_parse_xml(deep->str, deep->len, "web", NULL));
	g_string_free(deep, TRUE);

	/* An overlong value is refused, not cut. */
	GString *longname = g_string_new("<m><httpd:balancer><httpd:name>balancer://web");
	for (int i = 0; i < 5000; i++)
		g_string_append_c(longname, 'x');
	g_string_append(longname, "</httpd:name></httpd:balancer></m>");
	ck_assert_ptr_null(vs_balancer_parse_xml(longname->str, longname->len, NULL, NULL));
	g_string_free(longname, TRUE);

	/* A valid minimal document parses: the checks above are not blanket. */
	static const char good[] =
	    "<m><httpd:balancer><httpd:name>balancer://web</httpd:name><httpd:workers>"
	    "<httpd:worker><httpd:name>http://127.0.0.1:1</httpd:name><httpd:busy>7</httpd:busy>"
	    "<httpd:status>Init Stop Err Stby </httpd:status>"
	    "</httpd:worker></httpd:workers></httpd:balancer></m>";
	g_autoptr(vs_balancer_state) st = vs_balancer_parse_xml(good, strlen(good), "web", NULL);
	ck_assert_ptr_nonnull(st);
	ck_assert_uint_eq(worker(st, 0)->busy, 7);
	ck_assert(worker(st, 0)->stopped && worker(st, 0)->in_error && worker(st, 0)->hot_standby);
}
END_TEST

START_TEST(balancer_html_nonce)
{
	size_t len;
	g_autofree char *html = read_answer("balancer-manager.html", &len);
	g_autofree char *nonce = vs_balancer_parse_html_nonce(html, len, "web");
	const char *expected = "25b5051c-baec-4ffe-be7c-21015c9c9d0e";

	ck_assert_str_eq(nonce, expected);
	g_autofree char *prefixed = vs_balancer_parse_html_nonce(html, len, "balancer://web");
	ck_assert_str_eq(prefixed, expected);
	ck_assert_ptr_null(vs_balancer_parse_html_nonce(html, len, "we"));
	ck_assert_ptr_null(vs_balancer_parse_html_nonce(html, len, "api"));
	ck_assert_ptr_null(vs_balancer_parse_html_nonce(NULL, 0, "web"));
	/* Cut anywhere: the whole nonce or none, never a prefix of it. */
	for (size_t cut = 0; cut < len; cut++) {
		g_autofree char *part = g_memdup2(html, cut ? cut : 1);
		g_autofree char *n = vs_balancer_parse_html_nonce(part, cut, "web");

		if (n)
			ck_assert_str_eq(n, expected);
	}
	static const char junk[] = "<a href=\"?b=web&amp;nonce=zzz\">";
	ck_assert_ptr_null(vs_balancer_parse_html_nonce(junk, strlen(junk), "web"));
}
END_TEST

/* Every cut of a real status page gives no figure or the right one. */
static void check_status_cuts(const char *file, bool (*parse)(const char *, size_t, unsigned *),
                              unsigned expected)
{
	size_t len;
	g_autofree char *text = read_answer(file, &len);
	unsigned v = 12345;
	unsigned accepted = 0;

	ck_assert(parse(text, len, &v));
	ck_assert_uint_eq(v, expected);
	for (size_t cut = 0; cut < len; cut++) {
		g_autofree char *part = g_memdup2(text, cut ? cut : 1);

		v = 12345;
		if (parse(part, cut, &v)) {
			ck_assert_uint_eq(v, expected);
			accepted++;
		}
	}
	ck_assert_uint_lt(accepted, len);
}

START_TEST(apache_server_status)
{
	unsigned v;

	check_status_cuts("apache-server-status.txt", vs_parse_apache_status, 4);
	/* (Not cut with vs_parse_session_count: the page's first line is the
	 * host name "127.0.0.1", whose cut "127" is a valid plain number; HTTP
	 * itself reports a cut body, see vs_http_fetch.) */
	size_t len;
	g_autofree char *page = read_answer("apache-server-status.txt", &len);
	ck_assert(vs_parse_session_count(page, len, &v));
	ck_assert_uint_eq(v, 4);
	ck_assert(vs_parse_apache_status("BusyWorkers: 12\r\n", 17, &v));
	ck_assert_uint_eq(v, 12);
	/* Cut inside the number: refused, not read as 1. */
	ck_assert(!vs_parse_apache_status("BusyWorkers: 12", 14, &v));
	ck_assert(!vs_parse_apache_status("BusyWorkers: 12", 15, &v));
	ck_assert(!vs_parse_apache_status("BusyWorkers: -3\n", 16, &v));
	ck_assert(!vs_parse_apache_status("BusyWorkers: 3x\n", 16, &v));
	ck_assert(!vs_parse_apache_status("BusyWorkers:\n", 13, &v));
	ck_assert(!vs_parse_apache_status("BusyWorkers: 99999999999\n", 25, &v));
	ck_assert(!vs_parse_apache_status("IdleWorkers: 3\n", 15, &v));
	ck_assert(!vs_parse_apache_status(NULL, 0, &v));
}
END_TEST

START_TEST(nginx_stub_status)
{
	static const char page[] = "Active connections: 291 \n"
	                           "server accepts handled requests\n"
	                           " 16630948 16630948 31070465 \n"
	                           "Reading: 6 Writing: 179 Waiting: 106 \n";
	unsigned v;

	check_status_cuts("nginx-stub-status.txt", vs_parse_nginx_stub_status, 1);
	check_status_cuts("nginx-stub-status.txt", vs_parse_session_count, 1);
	ck_assert(vs_parse_nginx_stub_status(page, sizeof(page) - 1, &v));
	ck_assert_uint_eq(v, 291);
	ck_assert(vs_parse_session_count(page, sizeof(page) - 1, &v));
	ck_assert_uint_eq(v, 291);
	ck_assert(!vs_parse_nginx_stub_status("Active connections: \n", 21, &v));
	ck_assert(!vs_parse_nginx_stub_status("Active connections: 2", 21, &v));
	ck_assert(!vs_parse_nginx_stub_status("active connections: 2\n", 22, &v));
}
END_TEST

START_TEST(plain_numbers_and_garbage)
{
	static const struct {
		const char *text;
		bool ok;
		unsigned value;
	} cases[] = {
	    {"42", true, 42},
	    {"42\n", true, 42},
	    {" 7 \r\n", true, 7},
	    {"0", true, 0},
	    {"", false, 0},
	    {"\n", false, 0},
	    {"abc", false, 0},
	    {"-1", false, 0},
	    {"4 2", false, 0},
	    {"1e3", false, 0},
	    {"12abc", false, 0},
	    {"+5", false, 0},
	    {"99999999999", false, 0},
	    {"3.5", false, 0},
	    {"0x10", false, 0},
	    {"<html>500</html>", false, 0},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		unsigned v = 777;
		bool ok = vs_parse_session_count(cases[i].text, strlen(cases[i].text), &v);

		ck_assert_msg(ok == cases[i].ok, "'%s'", cases[i].text);
		if (ok)
			ck_assert_uint_eq(v, cases[i].value);
		else
			ck_assert_uint_eq(v, 777); /* untouched on failure */
	}
	/* An embedded NUL is garbage, not the end of the number. */
	ck_assert(!vs_parse_session_count("12\0003", 4, &(unsigned){0}));
	ck_assert(!vs_parse_session_count(NULL, 3, &(unsigned){0}));
	/* Binary junk. */
	unsigned char junk[256];
	for (int i = 0; i < 256; i++)
		junk[i] = (unsigned char)(i * 37 + 11);
	ck_assert(!vs_parse_session_count((const char *)junk, sizeof(junk), &(unsigned){0}));
}
END_TEST

START_TEST(endpoints)
{
	vs_endpoint ep;
	static const char *const bad[] = {
	    "",
	    "127.0.0.1",
	    "127.0.0.1:",
	    "127.0.0.1:0",
	    "127.0.0.1:65536",
	    "127.0.0.1:80x",
	    "localhost:80",
	    "::1:80",
	    "[::1]",
	    "[::1]80",
	    "[]:80",
	    "[127.0.0.1]:80",
	    "1.2.3:80",
	    "127.0.0.1:-1",
	    "127.0.0.1:080",
	    "[::1]:99999999999999999999",
	};

	ck_assert(vs_endpoint_parse("127.0.0.1:18100", &ep));
	ck_assert_str_eq(ep.host, "127.0.0.1");
	ck_assert_uint_eq(ep.port, 18100);
	ck_assert(vs_endpoint_parse("[::1]:80", &ep));
	ck_assert_str_eq(ep.host, "::1");
	ck_assert_uint_eq(ep.port, 80);
	ck_assert(vs_endpoint_parse("[fe80::1:2]:65535", &ep));
	ck_assert_uint_eq(ep.port, 65535);
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
		ck_assert_msg(!vs_endpoint_parse(bad[i], &ep), "'%s' accepted", bad[i]);
	ck_assert(!vs_endpoint_parse(NULL, &ep));
}
END_TEST

Suite *vs_test_suite(void)
{
	Suite *s = suite_create("sessions-parse");
	TCase *tc = tcase_create("parsers");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, balancer_xml_idle);
	tcase_add_test(tc, balancer_xml_busy_draining);
	tcase_add_test(tc, balancer_xml_truncated_everywhere);
	tcase_add_test(tc, balancer_xml_hostile);
	tcase_add_test(tc, balancer_html_nonce);
	tcase_add_test(tc, apache_server_status);
	tcase_add_test(tc, nginx_stub_status);
	tcase_add_test(tc, plain_numbers_and_garbage);
	tcase_add_test(tc, endpoints);
	suite_add_tcase(s, tc);
	return s;
}
