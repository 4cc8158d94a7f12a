/*
 * test-lb-render.c - the pure parts of the load-balancer drivers: the nginx
 * upstream include (render, strict parse-back) and what the Apache driver
 * reads from balancer-manager pages.
 */
#include "config.h"

#include "lb-apache-parse.h"
#include "lb-nginx-render.h"

#include "vs-validate.h"

#include "testutil.h"

#include <string.h>

static vs_lb_entry member(const char *address, vs_lb_state state, unsigned weight, bool backup)
{
	vs_lb_entry m = {.state = state, .weight = weight, .backup = backup, .busy = -1};
	g_strlcpy(m.address, address, sizeof(m.address));
	return m;
}

static const vs_nginx_render_opts rr = {.upstream = "web", .pool = "web"};

START_TEST(renders_round_robin_with_states)
{
	vs_lb_entry ms[] = {
	    member("127.0.0.2:8080", VS_LB_STATE_ENABLED, 0, false),
	    member("10.0.0.5:80", VS_LB_STATE_DRAINING, 3, false),
	    member("[::1]:81", VS_LB_STATE_DISABLED, 0, true),
	};
	g_autofree char *text = vs_nginx_render_upstream(&rr, ms, 3, NULL);
	ck_assert_ptr_nonnull(text);
	ck_assert_str_eq(text, "# virtscale: pool web. Rewritten on every change; do not edit.\n"
	                       "upstream web {\n"
	                       "\tserver 127.0.0.2:8080; # enabled\n"
	                       "\tserver 10.0.0.5:80 weight=3 down; # draining\n"
	                       "\tserver [::1]:81 backup down; # disabled\n"
	                       "}\n");
}
END_TEST

START_TEST(renders_least_conn_zone_max_conns)
{
	vs_nginx_render_opts o = {.upstream = "pool_a",
	                          .pool = "a",
	                          .method = VS_NGINX_LEAST_CONN,
	                          .max_conns = 50,
	                          .zone = "pool_a"};
	vs_lb_entry m = member("web-01.example.org:80", VS_LB_STATE_ENABLED, 2, false);
	g_autofree char *text = vs_nginx_render_upstream(&o, &m, 1, NULL);
	ck_assert_ptr_nonnull(strstr(text, "upstream pool_a {\n\tzone pool_a 64k;\n\tleast_conn;\n"
	                                   "\tserver web-01.example.org:80 weight=2 max_conns=50; "
	                                   "# enabled\n}\n"));
}
END_TEST

START_TEST(empty_upstream_gets_placeholder)
{
	g_autofree char *text = vs_nginx_render_upstream(&rr, NULL, 0, NULL);
	ck_assert_ptr_nonnull(strstr(text, "\tserver 127.0.0.1:1 down; # placeholder\n}\n"));
	g_autoptr(GArray) back = vs_nginx_parse_upstream(text, strlen(text), "web", "f", NULL);
	ck_assert_ptr_nonnull(back);
	ck_assert_uint_eq(back->len, 0);
}
END_TEST

START_TEST(parse_round_trips)
{
	vs_nginx_render_opts o = rr;
	o.method = VS_NGINX_LEAST_CONN;
	o.max_conns = 7;
	o.zone = "z";
	vs_lb_entry ms[] = {
	    member("127.0.0.2:8080", VS_LB_STATE_ENABLED, 0, true),
	    member("127.0.0.3:8080", VS_LB_STATE_DRAINING, 1000, false),
	    member("h.example:1", VS_LB_STATE_DISABLED, 0, false),
	};
	g_autofree char *text = vs_nginx_render_upstream(&o, ms, 3, NULL);
	GError *err = NULL;
	g_autoptr(GArray) back = vs_nginx_parse_upstream(text, strlen(text), "web", "f", &err);
	ck_assert_ptr_nonnull(back);
	ck_assert_uint_eq(back->len, 3);
	for (guint i = 0; i < 3; i++) {
		const vs_lb_entry *m = &g_array_index(back, vs_lb_entry, i);
		ck_assert_str_eq(m->address, ms[i].address);
		ck_assert_int_eq(m->state, ms[i].state);
		ck_assert_uint_eq(m->weight, ms[i].weight);
		ck_assert_int_eq(m->backup, ms[i].backup);
	}
	g_autofree char *again = vs_nginx_render_upstream(&o, (vs_lb_entry *)back->data, 3, NULL);
	ck_assert_str_eq(again, text);
}
END_TEST

START_TEST(render_refuses_hostile_addresses_and_names)
{
	const char *bad[] = {"127.0.0.1:80; server 6.6.6.6:80",
	                     "127.0.0.1:80}",
	                     "a b:80",
	                     "127.0.0.1:80\n}",
	                     "127.0.0.1:0",
	                     "127.0.0.1:65536",
	                     "host:80#x"};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		vs_lb_entry m = member(bad[i], VS_LB_STATE_ENABLED, 0, false);
		GError *err = NULL;
		char *text = vs_nginx_render_upstream(&rr, &m, 1, &err);
		ck_assert_msg(text == NULL, "accepted %s", bad[i]);
		ck_assert_int_eq(err->code, VS_LB_ERROR_INVALID);
		g_error_free(err);
	}
	vs_nginx_render_opts o = rr;
	o.upstream = "web { }";
	ck_assert_ptr_null(vs_nginx_render_upstream(&o, NULL, 0, NULL));
	o = rr;
	o.zone = "z;";
	ck_assert_ptr_null(vs_nginx_render_upstream(&o, NULL, 0, NULL));
}
END_TEST

/* Every name the config accepts for [pool NAME] renders and reads back:
 * a pool that passes check-config never fails at its first nginx call. */
START_TEST(every_valid_pool_name_renders)
{
	const char *names[] = {
	    "web",   "db.1",
	    "a.b.c", "web_1",
	    "Web-2", "0",
	    "x+y",   "w/x",
	    "",      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
	unsigned accepted = 0;
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		if (!vs_valid_pool_name(names[i]))
			continue;
		accepted++;
		vs_nginx_render_opts o = rr;
		o.pool = names[i];
		vs_lb_entry m = member("127.0.0.1:18100", VS_LB_STATE_ENABLED, 0, false);
		GError *err = NULL;
		g_autofree char *text = vs_nginx_render_upstream(&o, &m, 1, &err);
		ck_assert_msg(text != NULL, "pool %s: %s", names[i], err ? err->message : "?");
		GArray *back = vs_nginx_parse_upstream(text, strlen(text), "web", "up.conf", &err);
		ck_assert_msg(back != NULL, "pool %s: %s", names[i], err ? err->message : "?");
		ck_assert_uint_eq(back->len, 1);
		g_array_unref(back);
	}
	ck_assert_uint_eq(accepted, 5);
}
END_TEST

static void assert_refused(const char *text, const char *line)
{
	GError *err = NULL;
	GArray *a = vs_nginx_parse_upstream(text, strlen(text), "web", "up.conf", &err);
	ck_assert_msg(a == NULL, "accepted: %s", text);
	ck_assert_msg(g_str_has_prefix(err->message, line), "%s", err->message);
	g_error_free(err);
}

#define HDR "# virtscale: pool web. Rewritten on every change; do not edit.\n"

START_TEST(parse_is_strict)
{
	assert_refused("", "up.conf:1:");
	assert_refused("upstream web {\n\tserver 1.2.3.4:80; # enabled\n}\n", "up.conf:1:");
	assert_refused(HDR "upstream other {\n\tserver 1.2.3.4:80; # enabled\n}\n", "up.conf:2:");
	assert_refused(HDR "upstream web {\n\tserver 1.2.3.4:80; # enabled\n}", "up.conf:1:");
	assert_refused(HDR "upstream web {\n\tserver 1.2.3.4:80 down; # enabled\n}\n",
	               "up.conf:3:");
	assert_refused(HDR "upstream web {\n\tserver 1.2.3.4:80; # draining\n}\n", "up.conf:3:");
	assert_refused(HDR "upstream web {\n\tserver 1.2.3.4:80 slow_start=3; # enabled\n}\n",
	               "up.conf:3:");
	assert_refused(HDR "upstream web {\n\tserver 1.2.3.4:80; # enabled\n"
	                   "\tserver 1.2.3.4:80; # enabled\n}\n",
	               "up.conf:4:");
	assert_refused(HDR "upstream web {\n\tserver 1.2.3.4:80; # enabled\n\tkeepalive 8;\n}\n",
	               "up.conf:4:");
	assert_refused(HDR "upstream web {\n\tserver 1.2.3.4:80; # enabled\n}\nserver {}\n",
	               "up.conf:4:");
	assert_refused(HDR "upstream web {\n}\n", "up.conf:3:");
	assert_refused(HDR "upstream web {\n\tserver 127.0.0.1:1 down; # placeholder\n"
	                   "\tserver 1.2.3.4:80; # enabled\n}\n",
	               "up.conf:4:");
	assert_refused(HDR "upstream web {\n\tserver 1.2.3.4:80 weight=0; # enabled\n}\n",
	               "up.conf:3:");
}
END_TEST

START_TEST(apache_max_members)
{
	const char *html = "<h3>LoadBalancer Status for <a href=\"/balancer-manager?b=other&amp;"
	                   "nonce=x\">balancer://other</a></h3><table><tr><th>MaxMembers</th>"
	                   "</tr>\n<tr><td>9 [1 Used]</td></tr></table>"
	                   "<h3>LoadBalancer Status for <a href=\"/balancer-manager?b=web&amp;"
	                   "nonce=y\">balancer://web</a> [p_web]</h3>\n\n<table><tr><th>MaxMembers"
	                   "</th><th>StickySession</th></tr>\n<tr><td>3 [2 Used]</td>\n</tr>";
	unsigned max = 0, used = 0;
	ck_assert(vs_apache_parse_max_members(html, strlen(html), "web", &max, &used));
	ck_assert_uint_eq(max, 3);
	ck_assert_uint_eq(used, 2);
	ck_assert(!vs_apache_parse_max_members(html, strlen(html), "missing", &max, &used));
	ck_assert(!vs_apache_parse_max_members(html, 200, "web", &max, &used));
}
END_TEST

START_TEST(apache_worker_address)
{
	struct {
		const char *url, *address;
	} cases[] = {
	    {"http://127.0.0.1:19510", "127.0.0.1:19510"},
	    {"http://127.0.0.1:19510/", "127.0.0.1:19510"},
	    {"HTTP://Web-01.example:8080/app", "Web-01.example:8080"},
	    {"http://10.0.0.9", "10.0.0.9:80"},
	    {"https://[::1]", "[::1]:443"},
	    {"http://[::1]:81/", "[::1]:81"},
	    {"ajp://127.0.0.1:8009", NULL},
	    {"http://bad host:80", NULL},
	    {"http://[::1:80", NULL},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *a = vs_apache_worker_address(cases[i].url);
		if (cases[i].address)
			ck_assert_str_eq(a, cases[i].address);
		else
			ck_assert_ptr_null(a);
	}
}
END_TEST

START_TEST(apache_route_mark)
{
	g_autofree char *mark = vs_apache_route_mark("127.0.0.1:19510");
	g_autofree char *upper = vs_apache_route_mark("Web-01.Example:80");
	g_autofree char *lower = vs_apache_route_mark("web-01.example:80");

	/* "vs-" and 12 hex digits, the same for every spelling of an address,
	 * different for another address */
	ck_assert_uint_eq(strlen(mark), 15);
	ck_assert(g_str_has_prefix(mark, "vs-"));
	for (size_t i = 3; i < 15; i++)
		ck_assert(g_ascii_isxdigit(mark[i]) && !g_ascii_isupper(mark[i]));
	ck_assert_str_eq(upper, lower);
	ck_assert_str_ne(mark, lower);
	ck_assert(vs_apache_route_is_mark(mark, "127.0.0.1:19510"));
	ck_assert(!vs_apache_route_is_mark(mark, "127.0.0.1:19511"));
	ck_assert(!vs_apache_route_is_mark(NULL, "127.0.0.1:19510"));
	ck_assert(!vs_apache_route_is_mark("", "127.0.0.1:19510"));
	ck_assert(!vs_apache_route_is_mark("vs-", "127.0.0.1:19510"));
}
END_TEST

Suite *vs_test_suite(void)
{
	Suite *s = suite_create("lb-render");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, renders_round_robin_with_states);
	tcase_add_test(tc, renders_least_conn_zone_max_conns);
	tcase_add_test(tc, empty_upstream_gets_placeholder);
	tcase_add_test(tc, parse_round_trips);
	tcase_add_test(tc, render_refuses_hostile_addresses_and_names);
	tcase_add_test(tc, every_valid_pool_name_renders);
	tcase_add_test(tc, parse_is_strict);
	tcase_add_test(tc, apache_max_members);
	tcase_add_test(tc, apache_worker_address);
	tcase_add_test(tc, apache_route_mark);
	suite_add_tcase(s, tc);
	return s;
}
