/*
 * test-notify.c - the notification wire format: round trips of every type,
 * every class of malformed input, and a random-bytes fuzz loop (no crash,
 * always rejected).
 */
#include "config.h"

#include "vs-notify.h"

#include <check.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

static bool parse(const char *line, vs_notification *n, GError **error)
{
	return vs_notification_parse(line, strlen(line), n, error);
}

/* Asserts @line is refused with a message containing @what. */
static void expect_reject_at(const char *line, const char *what, const char *file, int lineno)
{
	vs_notification n;
	GError *err = NULL;

	memset(&n, 0x5a, sizeof(n));
	ck_assert_msg(!parse(line, &n, &err), "%s:%d: accepted %s", file, lineno, line);
	ck_assert_msg(err != NULL, "%s:%d: no error", file, lineno);
	ck_assert(err->domain == VS_NOTIFY_ERROR);
	ck_assert_msg(strstr(err->message, what) != NULL, "%s:%d: '%s' lacks '%s'", file, lineno,
	              err->message, what);
	/* the output is untouched on failure */
	ck_assert_int_eq(((unsigned char *)&n)[0], 0x5a);
	g_error_free(err);
}
#define expect_reject(line, what) expect_reject_at(line, what, __FILE__, __LINE__)

START_TEST(test_parse_pool_example)
{
	const char *line = "{\"v\":1,\"type\":\"pool\",\"pool\":\"web\",\"state\":\"high\","
	                   "\"severity\":\"warning\",\"metric\":\"sessions\",\"value\":72.5,"
	                   "\"threshold_high\":60,\"threshold_low\":10,\"instances\":3,"
	                   "\"desired\":4,\"time\":1764000000.25,\"host\":\"hv1\","
	                   "\"source\":\"collectd\",\"message\":\"pool web: 72.5 \\u00e9 > 60\"}";
	vs_notification n;
	GError *err = NULL;

	ck_assert_msg(parse(line, &n, &err), "%s", err ? err->message : "");
	ck_assert_int_eq(n.type, VS_NOTIFY_POOL);
	ck_assert_str_eq(n.pool, "web");
	ck_assert_str_eq(n.state, "high");
	ck_assert_int_eq(n.severity, VS_SEVERITY_WARNING);
	ck_assert_str_eq(n.metric, "sessions");
	ck_assert_double_eq(n.value, 72.5);
	ck_assert_double_eq(n.threshold_high, 60);
	ck_assert_double_eq(n.threshold_low, 10);
	ck_assert_int_eq(n.instances, 3);
	ck_assert_int_eq(n.desired, 4);
	ck_assert_double_eq(n.time, 1764000000.25);
	ck_assert_str_eq(n.host, "hv1");
	ck_assert_str_eq(n.source, "collectd");
	ck_assert_str_eq(n.message, "pool web: 72.5 \xc3\xa9 > 60");
	ck_assert_str_eq(n.plugin, "");
}
END_TEST

START_TEST(test_minimal_messages)
{
	vs_notification n;
	GError *err = NULL;

	ck_assert(parse("{\"v\":1,\"type\":\"status\"}", &n, &err));
	ck_assert_int_eq(n.type, VS_NOTIFY_STATUS);
	ck_assert_int_eq(n.desired, -1);
	ck_assert_int_eq(n.instances, -1);
	ck_assert_double_eq(n.time, 0);

	ck_assert(parse(" { \"type\" : \"scale\", \"desired\":0, \"pool\":\"db.1\", \"v\":1 }\r",
	                &n, &err));
	ck_assert_int_eq(n.type, VS_NOTIFY_SCALE);
	ck_assert_str_eq(n.pool, "db.1");
	ck_assert_int_eq(n.desired, 0);

	ck_assert(parse("{\"v\":1,\"type\":\"threshold\",\"severity\":\"failure\",\"plugin\":"
	                "\"virtscale\",\"plugin_instance\":\"web\",\"type_name\":\"percent\","
	                "\"type_instance\":\"cpu\",\"value\":-1.5e2,\"host\":\"127.0.0.1\"}",
	                &n, &err));
	ck_assert_int_eq(n.type, VS_NOTIFY_THRESHOLD);
	ck_assert_int_eq(n.severity, VS_SEVERITY_FAILURE);
	ck_assert_str_eq(n.plugin, "virtscale");
	ck_assert_str_eq(n.plugin_instance, "web");
	ck_assert_str_eq(n.type_name, "percent");
	ck_assert_str_eq(n.type_instance, "cpu");
	ck_assert_double_eq(n.value, -150);
	ck_assert_str_eq(n.host, "127.0.0.1");
	ck_assert_ptr_null(err);
}
END_TEST

static void round_trip(const vs_notification *in)
{
	g_autofree char *json = vs_notification_to_json(in);
	vs_notification out;
	GError *err = NULL;

	ck_assert_ptr_nonnull(json);
	ck_assert_ptr_null(strchr(json, '\n'));
	ck_assert_uint_le(strlen(json), VS_NOTIFY_MAX_LINE);
	ck_assert_msg(parse(json, &out, &err), "%s: %s", json, err ? err->message : "");
	ck_assert_msg(memcmp(in, &out, sizeof(out)) == 0, "round trip differs: %s", json);
}

START_TEST(test_round_trip)
{
	vs_notification n;

	vs_notification_init(&n, VS_NOTIFY_POOL);
	strcpy(n.pool, "web");
	strcpy(n.state, "at_max");
	n.severity = VS_SEVERITY_FAILURE;
	strcpy(n.metric, "ratio");
	n.value = 0.1;
	n.threshold_high = 60;
	n.threshold_low = 1e-3;
	n.instances = 6;
	n.desired = 6;
	n.time = 1764000000.123456;
	strcpy(n.host, "hv-1.example.org");
	strcpy(n.source, "collectd");
	strcpy(n.message, "quote \" backslash \\ slash / unicode \xe2\x82\xac tab-free");
	round_trip(&n);

	vs_notification_init(&n, VS_NOTIFY_SCALE);
	strcpy(n.pool, "a");
	n.desired = 1000;
	strcpy(n.source, "cli");
	round_trip(&n);

	vs_notification_init(&n, VS_NOTIFY_STATUS);
	round_trip(&n);

	vs_notification_init(&n, VS_NOTIFY_THRESHOLD);
	n.severity = VS_SEVERITY_WARNING;
	strcpy(n.plugin, "virt");
	strcpy(n.plugin_instance, "web-01 disk");
	strcpy(n.type_name, "virt_cpu_total");
	n.value = -12345.678;
	n.threshold_high = 1e14;
	round_trip(&n);

	/* the longest message fits a line */
	vs_notification_init(&n, VS_NOTIFY_POOL);
	strcpy(n.pool, "web");
	strcpy(n.state, "ok");
	memset(n.message, '"', sizeof(n.message) - 1);
	for (size_t i = 0; i < sizeof(n.host) - 3; i++)
		n.host[i] = (i % 60 == 59) ? '.' : 'h';
	round_trip(&n);
}
END_TEST

START_TEST(test_to_json_shape)
{
	vs_notification n;
	g_autofree char *json = NULL;

	vs_notification_init(&n, VS_NOTIFY_SCALE);
	strcpy(n.pool, "web");
	n.desired = 4;
	json = vs_notification_to_json(&n);
	ck_assert_str_eq(json, "{\"v\":1,\"type\":\"scale\",\"pool\":\"web\",\"desired\":4}");
	ck_assert_str_eq(vs_severity_name(VS_SEVERITY_OKAY), "okay");
	ck_assert_str_eq(vs_severity_name(VS_SEVERITY_WARNING), "warning");
	ck_assert_str_eq(vs_severity_name(VS_SEVERITY_FAILURE), "failure");
	ck_assert_str_eq(vs_severity_name((vs_severity)9), "unknown");
}
END_TEST

START_TEST(test_malformed)
{
	GString *big;

	/* framing and bytes */
	expect_reject("", "empty line");
	expect_reject("{\"v\":1,\"type\":\"status\"}\n", "control character 0x0a");
	expect_reject("{\"v\":1,\"type\":\"status\",\"message\":\"a\rb\"}", "control character");
	expect_reject("{\"v\":1,\"type\":\"status\",\"message\":\"\xff\"}", "invalid UTF-8");
	expect_reject("{\"v\":1,\"type\":\"status\",\"message\":\"\xc0\xaf\"}", "invalid UTF-8");
	/* JSON */
	expect_reject("{\"v\":1,\"type\":\"status\"", "not valid JSON");
	expect_reject("{\"v\":1,\"type\":\"status\"}}", "not valid JSON");
	expect_reject("{'v':1,'type':'status'}", "not strict JSON");
	expect_reject("{\"v\":1,\"type\":\"status\"} // c", "not strict JSON");
	expect_reject("{\"v\":1,\"type\":\"status\",\"value\":NaN}", "not strict JSON");
	expect_reject("{\"v\":1,\"type\":\"status\",\"time\":Infinity}", "not strict JSON");
	expect_reject("[1,2]", "not a JSON object");
	expect_reject("\"pool\"", "not a JSON object");
	expect_reject("42", "not a JSON object");
	expect_reject("null", "not a JSON object");
	/* version and type */
	expect_reject("{\"type\":\"status\"}", "v: missing");
	expect_reject("{\"v\":2,\"type\":\"status\"}", "unsupported protocol version 2");
	expect_reject("{\"v\":0,\"type\":\"status\"}", "unsupported protocol version 0");
	expect_reject("{\"v\":1.0,\"type\":\"status\"}", "v: must be an integer");
	expect_reject("{\"v\":\"1\",\"type\":\"status\"}", "v: must be an integer");
	expect_reject("{\"v\":1}", "type: missing");
	expect_reject("{\"v\":1,\"type\":\"reboot\"}", "type: must be");
	expect_reject("{\"v\":1,\"type\":1}", "type: must be");
	/* members */
	expect_reject("{\"v\":1,\"type\":\"scale\",\"pool\":\"web\",\"desired\":1,\"desired\":999}",
	              "a member appears twice");
	expect_reject("{\"v\":1,\"type\":\"status\",\"type\":\"scale\"}", "a member appears twice");
	expect_reject("{\"v\":1,\"type\":\"status\",\"shell\":\"rm -rf /\"}",
	              "unknown member \"shell\"");
	expect_reject("{\"v\":1,\"type\":\"status\",\"a\\nb\":1}", "unknown member \"a?b\"");
	expect_reject("{\"v\":1,\"type\":\"status\",\"pool\":\"web\"}",
	              "pool: not allowed in a \"status\" notification");
	expect_reject(
	    "{\"v\":1,\"type\":\"scale\",\"pool\":\"web\",\"desired\":2,\"state\":\"high\"}",
	    "state: not allowed");
	expect_reject("{\"v\":1,\"type\":\"pool\",\"pool\":\"web\"}", "state: missing");
	expect_reject("{\"v\":1,\"type\":\"pool\",\"state\":\"ok\"}", "pool: missing");
	expect_reject("{\"v\":1,\"type\":\"scale\",\"pool\":\"web\"}", "desired: missing");
	expect_reject("{\"v\":1,\"type\":\"threshold\",\"plugin\":\"x\"}", "severity: missing");
	expect_reject("{\"v\":1,\"type\":\"threshold\",\"severity\":\"okay\"}", "plugin: missing");
	/* types, ranges, values */
	expect_reject("{\"v\":1,\"type\":\"scale\",\"pool\":\"web\",\"desired\":\"4\"}",
	              "desired: must be an integer");
	expect_reject("{\"v\":1,\"type\":\"scale\",\"pool\":\"web\",\"desired\":4.5}",
	              "desired: must be an integer");
	expect_reject("{\"v\":1,\"type\":\"scale\",\"pool\":\"web\",\"desired\":-1}",
	              "desired: out of range");
	expect_reject("{\"v\":1,\"type\":\"scale\",\"pool\":\"web\",\"desired\":1001}",
	              "desired: out of range");
	expect_reject(
	    "{\"v\":1,\"type\":\"scale\",\"pool\":\"web\",\"desired\":99999999999999999999}",
	    "desired:");
	expect_reject("{\"v\":1,\"type\":\"scale\",\"pool\":\"web\",\"desired\":null}",
	              "desired: must be");
	expect_reject("{\"v\":1,\"type\":\"scale\",\"pool\":\"web\",\"desired\":[4]}",
	              "desired: must be");
	expect_reject("{\"v\":1,\"type\":\"scale\",\"pool\":\"web\",\"desired\":true}",
	              "desired: must be");
	expect_reject("{\"v\":1,\"type\":\"scale\",\"pool\":\"web;rm\",\"desired\":1}",
	              "pool: invalid value");
	expect_reject("{\"v\":1,\"type\":\"scale\",\"pool\":\"web}\",\"desired\":1}",
	              "pool: invalid value");
	expect_reject("{\"v\":1,\"type\":\"scale\",\"pool\":\"\",\"desired\":1}",
	              "pool: invalid value");
	expect_reject("{\"v\":1,\"type\":\"scale\",\"pool\":\"web\\r\\nX\",\"desired\":1}",
	              "pool: invalid value");
	expect_reject("{\"v\":1,\"type\":\"scale\",\"pool\":{},\"desired\":1}",
	              "pool: must be a string");
	expect_reject("{\"v\":1,\"type\":\"pool\",\"pool\":\"web\",\"state\":\"panic\"}",
	              "state: invalid");
	expect_reject("{\"v\":1,\"type\":\"pool\",\"pool\":\"web\",\"state\":\"ok\",\"severity\":"
	              "\"WARNING\"}",
	              "severity: must be");
	expect_reject(
	    "{\"v\":1,\"type\":\"pool\",\"pool\":\"web\",\"state\":\"ok\",\"value\":\"1\"}",
	    "value: must be a number");
	expect_reject(
	    "{\"v\":1,\"type\":\"pool\",\"pool\":\"web\",\"state\":\"ok\",\"value\":1e300}",
	    "value: out of range");
	expect_reject(
	    "{\"v\":1,\"type\":\"pool\",\"pool\":\"web\",\"state\":\"ok\",\"instances\":-2}",
	    "instances: out of range");
	expect_reject("{\"v\":1,\"type\":\"status\",\"time\":-1}", "time: out of range");
	expect_reject("{\"v\":1,\"type\":\"status\",\"host\":\"evil host\"}",
	              "host: invalid value");
	expect_reject("{\"v\":1,\"type\":\"status\",\"host\":\"\"}", "host: invalid value");
	expect_reject("{\"v\":1,\"type\":\"status\",\"source\":\"a b\"}", "source: invalid value");
	expect_reject("{\"v\":1,\"type\":\"status\",\"message\":\"a\\nBcc: x\"}",
	              "message: invalid value");
	expect_reject("{\"v\":1,\"type\":\"status\",\"message\":\"a\\u0085b\"}",
	              "message: invalid value");
	expect_reject("{\"v\":1,\"type\":\"status\",\"message\":\"a\\u001bb\"}",
	              "message: invalid value");
	expect_reject("{\"v\":1,\"type\":\"status\",\"message\":\"a\\u0000b\"}", "escaped NUL");
	expect_reject("{\"v\":1,\"type\":\"status\",\"message\":\"\\ud800\"}", "");
	expect_reject(
	    "{\"v\":1,\"type\":\"pool\",\"pool\":\"web\",\"state\":\"ok\",\"metric\":\"a;b\"}",
	    "metric: invalid value");

	/* lengths: one byte over each buffer */
	big = g_string_new("{\"v\":1,\"type\":\"status\",\"message\":\"");
	for (int i = 0; i < 512; i++)
		g_string_append_c(big, 'm');
	g_string_append(big, "\"}");
	expect_reject(big->str, "message: too long (at most 511 bytes)");
	g_string_free(big, TRUE);
	big = g_string_new("{\"v\":1,\"type\":\"status\",\"source\":\"");
	for (int i = 0; i < 32; i++)
		g_string_append_c(big, 's');
	g_string_append(big, "\"}");
	expect_reject(big->str, "source: too long");
	g_string_free(big, TRUE);
	big = g_string_new("{\"v\":1,\"type\":\"scale\",\"desired\":1,\"pool\":\"");
	for (int i = 0; i < 65; i++)
		g_string_append_c(big, 'p');
	g_string_append(big, "\"}");
	expect_reject(big->str, "pool: too long");
	g_string_free(big, TRUE);

	/* an oversize line is refused before parsing */
	big = g_string_new("{\"v\":1,\"type\":\"status\",\"message\":\"");
	while (big->len < VS_NOTIFY_MAX_LINE)
		g_string_append_c(big, ' ');
	g_string_append(big, "\"}");
	expect_reject(big->str, "line too long");
	g_string_free(big, TRUE);

	/* deep nesting inside a line: refused, no crash */
	big = g_string_new("{\"v\":1,\"type\":\"status\",\"x\":");
	for (int i = 0; i < 1900; i++)
		g_string_append_c(big, '[');
	for (int i = 0; i < 1900; i++)
		g_string_append_c(big, ']');
	g_string_append(big, "}");
	{
		vs_notification n;
		GError *err = NULL;

		ck_assert(!vs_notification_parse(big->str, big->len, &n, &err));
		ck_assert_ptr_nonnull(err);
		g_error_free(err);
	}
	g_string_free(big, TRUE);
}
END_TEST

START_TEST(test_embedded_nul_and_length)
{
	static const char line[] = "{\"v\":1,\"type\":\"status\"}\0{\"v\":2}";
	vs_notification n;
	GError *err = NULL;

	ck_assert(!vs_notification_parse(line, sizeof(line) - 1, &n, &err));
	ck_assert_ptr_nonnull(strstr(err->message, "NUL byte"));
	g_clear_error(&err);
	/* the length is honoured: the first object alone is fine */
	ck_assert(vs_notification_parse(line, strlen(line), &n, &err));
	ck_assert(!vs_notification_parse(NULL, 0, &n, &err));
	g_clear_error(&err);
}
END_TEST

START_TEST(test_fuzz)
{
	GRand *rand = g_rand_new_with_seed(1234);
	static const char *const seeds[] = {
	    "{\"v\":1,\"type\":\"pool\",\"pool\":\"web\",\"state\":\"high\",\"value\":72.5}",
	    "{\"v\":1,\"type\":\"scale\",\"pool\":\"web\",\"desired\":4}",
	    "{\"v\":1,\"type\":\"threshold\",\"severity\":\"okay\",\"plugin\":\"x\"}",
	};
	unsigned accepted_mutants = 0;

	/* random bytes: always refused (the first byte is never '{') */
	for (int round = 0; round < 3000; round++) {
		char buf[256];
		size_t len = (size_t)g_rand_int_range(rand, 0, (gint32)sizeof(buf));
		vs_notification n;
		GError *err = NULL;

		for (size_t i = 0; i < len; i++)
			buf[i] = (char)g_rand_int_range(rand, 0, 256);
		if (len)
			buf[0] = (char)('{' + 1);
		ck_assert(!vs_notification_parse(buf, len, &n, &err));
		ck_assert_ptr_nonnull(err);
		g_error_free(err);
	}
	/* mutated valid lines: no crash; whatever is accepted serializes and re-parses */
	for (int round = 0; round < 5000; round++) {
		const char *seed = seeds[round % G_N_ELEMENTS(seeds)];
		g_autofree char *buf = g_strdup(seed);
		size_t len = strlen(buf);
		vs_notification n, again;
		GError *err = NULL;
		int flips = g_rand_int_range(rand, 1, 4);

		for (int f = 0; f < flips; f++)
			buf[g_rand_int_range(rand, 0, (gint32)len)] =
			    (char)g_rand_int_range(rand, 1, 256);
		if (vs_notification_parse(buf, len, &n, &err)) {
			g_autofree char *json = vs_notification_to_json(&n);

			accepted_mutants++;
			ck_assert(vs_notification_parse(json, strlen(json), &again, NULL));
			ck_assert(memcmp(&n, &again, sizeof(n)) == 0);
		} else {
			ck_assert_ptr_nonnull(err);
			g_error_free(err);
		}
	}
	ck_assert_uint_lt(accepted_mutants, 5000);
	g_rand_free(rand);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("notify");
	TCase *tc = tcase_create("notify");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_parse_pool_example);
	tcase_add_test(tc, test_minimal_messages);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_to_json_shape);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_embedded_nul_and_length);
	tcase_add_test(tc, test_fuzz);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
