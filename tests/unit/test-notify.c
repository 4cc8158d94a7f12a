/*
 * test-notify.c - the notification wire format (lib/vs-notify.c): typed
 * verdicts, the verdict a threshold notification stands for (derived once,
 * at parse time), absent numbers (NaN) left out, exact round trips of
 * every type, every class of malformed input, text copied in from
 * anywhere, and a random-bytes fuzz loop (no crash, always rejected).
 */
#include "config.h"

#include "vs-notify.h"

#include "testutil.h"

#include <glib.h>
#include <math.h>
#include <string.h>

static bool parse_line(const char *line, vs_notification *n, GError **error)
{
	return vs_notification_parse(line, strlen(line), n, error);
}

/* Asserts @line is refused with a message containing @what. */
static void expect_reject_at(const char *line, const char *what, const char *file, int lineno)
{
	vs_notification n;
	GError *err = NULL;

	memset(&n, 0x5a, sizeof(n));
	ck_assert_msg(!parse_line(line, &n, &err), "%s:%d: accepted %s", file, lineno, line);
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

	ck_assert_msg(parse_line(line, &n, &err), "%s", err ? err->message : "");
	ck_assert_int_eq(n.type, VS_NOTIFY_POOL);
	ck_assert_str_eq(n.pool, "web");
	ck_assert_int_eq(n.verdict, VS_VERDICT_HIGH);
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

	ck_assert(parse_line("{\"v\":1,\"type\":\"status\"}", &n, &err));
	ck_assert_int_eq(n.type, VS_NOTIFY_STATUS);
	ck_assert_int_eq(n.desired, -1);
	ck_assert_int_eq(n.instances, -1);
	ck_assert_double_eq(n.time, 0);

	ck_assert(parse_line(
	    " { \"type\" : \"scale\", \"desired\":0, \"pool\":\"db_1\", \"v\":1 }\r", &n, &err));
	ck_assert_int_eq(n.type, VS_NOTIFY_SCALE);
	ck_assert_str_eq(n.pool, "db_1");
	ck_assert_int_eq(n.desired, 0);

	ck_assert(parse_line("{\"v\":1,\"type\":\"threshold\",\"severity\":\"failure\",\"plugin\":"
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
	/* failure without a lower threshold: high */
	ck_assert_int_eq(n.verdict, VS_VERDICT_HIGH);
	ck_assert(isnan(n.threshold_high) && isnan(n.threshold_low));
	ck_assert_ptr_null(err);
}
END_TEST

START_TEST(test_init_absent_values)
{
	vs_notification n;

	memset(&n, 0x5a, sizeof(n));
	vs_notification_init(&n, VS_NOTIFY_POOL);
	ck_assert_int_eq(n.type, VS_NOTIFY_POOL);
	ck_assert_int_eq(n.verdict, VS_VERDICT_OK);
	ck_assert_int_eq(n.severity, VS_SEVERITY_OKAY);
	ck_assert(isnan(n.value));
	ck_assert(isnan(n.threshold_high));
	ck_assert(isnan(n.threshold_low));
	ck_assert_int_eq(n.instances, -1);
	ck_assert_int_eq(n.desired, -1);
	ck_assert_double_eq(n.time, 0);
	ck_assert_str_eq(n.pool, "");
	ck_assert_str_eq(n.message, "");
	ck_assert_str_eq(n.type_instance, "");
}
END_TEST

/* The verdict of a threshold crossing, derived by the parser: okay is ok,
 * a value under a lower threshold is low, anything else high. */
START_TEST(test_threshold_verdict_derived)
{
	static const struct {
		const char *fields;
		vs_verdict verdict;
	} cases[] = {
	    {"\"severity\":\"okay\",\"value\":5,\"threshold_low\":10", VS_VERDICT_OK},
	    {"\"severity\":\"okay\",\"value\":95,\"threshold_high\":90", VS_VERDICT_OK},
	    {"\"severity\":\"okay\"", VS_VERDICT_OK},
	    {"\"severity\":\"warning\",\"value\":5,\"threshold_low\":10", VS_VERDICT_LOW},
	    {"\"severity\":\"failure\",\"value\":-1,\"threshold_low\":0,\"threshold_high\":5",
	     VS_VERDICT_LOW},
	    {"\"severity\":\"warning\",\"value\":75,\"threshold_low\":10,\"threshold_high\":60",
	     VS_VERDICT_HIGH},
	    {"\"severity\":\"warning\",\"value\":10,\"threshold_low\":10", VS_VERDICT_HIGH},
	    {"\"severity\":\"warning\",\"value\":5,\"threshold_high\":60", VS_VERDICT_HIGH},
	    {"\"severity\":\"failure\",\"threshold_low\":10", VS_VERDICT_HIGH},
	    {"\"severity\":\"failure\"", VS_VERDICT_HIGH},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *line =
		    g_strdup_printf("{\"v\":1,\"type\":\"threshold\",\"plugin\":\"virtscale\",%s}",
		                    cases[i].fields);
		vs_notification n;
		g_autoptr(GError) err = NULL;

		ck_assert_msg(parse_line(line, &n, &err), "%s: %s", line, err ? err->message : "");
		ck_assert_msg(n.verdict == cases[i].verdict, "%s: %s, want %s", line,
		              vs_verdict_name(n.verdict), vs_verdict_name(cases[i].verdict));
	}
	/* the state is derived, never given */
	expect_reject("{\"v\":1,\"type\":\"threshold\",\"plugin\":\"x\",\"severity\":\"okay\","
	              "\"state\":\"high\"}",
	              "state: not allowed in a \"threshold\" notification");
}
END_TEST

/* Absent numbers are NaN inside and left out on the wire. */
START_TEST(test_nan_left_out)
{
	vs_notification n, back;
	g_autofree char *json = NULL;
	g_autofree char *some = NULL;

	vs_notification_init(&n, VS_NOTIFY_POOL);
	strcpy(n.pool, "web");
	n.verdict = VS_VERDICT_LOW;
	json = vs_notification_to_json(&n);
	ck_assert_str_eq(json, "{\"v\":1,\"type\":\"pool\",\"pool\":\"web\",\"state\":\"low\","
	                       "\"severity\":\"okay\"}");
	ck_assert(parse_line(json, &back, NULL));
	ck_assert(isnan(back.value) && isnan(back.threshold_high) && isnan(back.threshold_low));
	ck_assert(memcmp(&n, &back, sizeof(n)) == 0);

	/* each one on its own */
	n.threshold_low = 0;
	some = vs_notification_to_json(&n);
	ck_assert_ptr_nonnull(strstr(some, "\"threshold_low\":0"));
	ck_assert_ptr_null(strstr(some, "\"value\""));
	ck_assert_ptr_null(strstr(some, "\"threshold_high\""));
	ck_assert_ptr_null(strstr(some, "NaN"));
	ck_assert_ptr_null(strstr(some, "nan"));
}
END_TEST

START_TEST(test_set_text)
{
	vs_notification n;

	vs_notification_init(&n, VS_NOTIFY_POOL);
	vs_notification_set_text(n.message, "line one\nline two\r\x1b[31m\xff end");
	ck_assert_str_eq(n.message, "line one?line two??[31m? end");
	vs_notification_set_text(n.host, NULL);
	ck_assert_str_eq(n.host, "");
	/* cut to the field, at a character boundary: never half a character */
	{
		GString *euros = g_string_new(NULL);

		for (int i = 0; i < 20; i++)
			g_string_append(euros, "\xe2\x82\xac"); /* 3 bytes each */
		vs_notification_set_text(n.source, euros->str);
		g_string_free(euros, TRUE);
	}
	ck_assert_uint_eq(strlen(n.source), 30);
	ck_assert(g_utf8_validate(n.source, -1, NULL));
	/* a pool notification carrying such text still parses once serialized */
	strcpy(n.pool, "web");
	strcpy(n.source, "cli");
	{
		g_autofree char *json = vs_notification_to_json(&n);
		vs_notification back;
		g_autoptr(GError) err = NULL;

		ck_assert_msg(parse_line(json, &back, &err), "%s", err ? err->message : "");
		ck_assert_str_eq(back.message, n.message);
	}
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
	ck_assert_msg(parse_line(json, &out, &err), "%s: %s", json, err ? err->message : "");
	ck_assert_msg(memcmp(in, &out, sizeof(out)) == 0, "round trip differs: %s", json);
}

START_TEST(test_round_trip)
{
	vs_notification n;

	vs_notification_init(&n, VS_NOTIFY_POOL);
	strcpy(n.pool, "web");
	n.verdict = VS_VERDICT_AT_MAX;
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
	/* what the reader derives: a warning with no lower threshold */
	n.verdict = VS_VERDICT_HIGH;
	round_trip(&n);

	vs_notification_init(&n, VS_NOTIFY_THRESHOLD);
	n.severity = VS_SEVERITY_FAILURE;
	strcpy(n.plugin, "virtscale");
	strcpy(n.pool, "web");
	strcpy(n.type_instance, "sessions");
	n.value = 0.5;
	n.threshold_low = 1;
	n.time = 1764000000.5;
	n.verdict = VS_VERDICT_LOW;
	round_trip(&n);

	/* every verdict of a pool notification */
	for (vs_verdict v = VS_VERDICT_OK; v < VS_VERDICT_UNKNOWN; v++) {
		vs_notification_init(&n, VS_NOTIFY_POOL);
		strcpy(n.pool, "web");
		n.verdict = v;
		round_trip(&n);
	}

	/* the longest message fits a line */
	vs_notification_init(&n, VS_NOTIFY_POOL);
	strcpy(n.pool, "web");
	n.verdict = VS_VERDICT_OK;
	memset(n.message, '"', sizeof(n.message) - 1);
	for (size_t i = 0; i < sizeof(n.host) - 3; i++)
		n.host[i] = (i % 60 == 59) ? '.' : 'h';
	round_trip(&n);
}
END_TEST

/* A collectd Hostname is whatever the operator wrote ("hv_1", with blanks,
 * non-ASCII): the wire carries it as data, never as a name used elsewhere. */
START_TEST(test_host_is_data)
{
	static const char *const hosts[] = {"hv_1",        "hv 1",    "HV_1.example_org",
	                                    "h\xc3\xb4te", "a;b$(c)", "127.0.0.1"};
	vs_notification n;

	for (size_t i = 0; i < G_N_ELEMENTS(hosts); i++) {
		g_autoptr(GError) err = NULL;
		g_autofree char *line = NULL;

		vs_notification_init(&n, VS_NOTIFY_POOL);
		strcpy(n.pool, "web");
		n.verdict = VS_VERDICT_HIGH;
		n.severity = VS_SEVERITY_WARNING;
		vs_notification_set_text(n.host, hosts[i]);
		round_trip(&n);
		line = vs_notification_to_json(&n);
		ck_assert_msg(parse_line(line, &n, &err), "%s: %s", hosts[i],
		              err ? err->message : "");
		ck_assert_str_eq(n.host, hosts[i]);
	}
	/* the longest host collectd has (127 bytes) and the longest the wire takes */
	vs_notification_init(&n, VS_NOTIFY_STATUS);
	memset(n.host, '_', sizeof(n.host) - 1);
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

/* `virtscalectl scale POOL auto`: the manual target ends. Only the exact
 * word, and only in a scale request (a policy's desired is a count). */
START_TEST(test_scale_auto)
{
	vs_notification n;
	g_autoptr(GError) err = NULL;
	g_autofree char *json = NULL;
	const char *line = "{\"v\":1,\"type\":\"scale\",\"pool\":\"web\",\"desired\":\"auto\"}";

	ck_assert_msg(parse_line(line, &n, &err), "%s", err ? err->message : "?");
	ck_assert_int_eq(n.type, VS_NOTIFY_SCALE);
	ck_assert_str_eq(n.pool, "web");
	ck_assert_int_eq(n.desired, VS_NOTIFY_DESIRED_AUTO);
	json = vs_notification_to_json(&n);
	ck_assert_str_eq(json, line);
	/* a count still is one */
	ck_assert(
	    parse_line("{\"v\":1,\"type\":\"scale\",\"pool\":\"web\",\"desired\":0}", &n, &err));
	ck_assert_int_eq(n.desired, 0);

	expect_reject("{\"v\":1,\"type\":\"scale\",\"pool\":\"web\",\"desired\":\"Auto\"}",
	              "desired: must be an integer or \"auto\"");
	expect_reject("{\"v\":1,\"type\":\"scale\",\"pool\":\"web\",\"desired\":\"auto \"}",
	              "desired: must be an integer or \"auto\"");
	expect_reject("{\"v\":1,\"type\":\"scale\",\"pool\":\"web\",\"desired\":\"\"}",
	              "desired: must be an integer or \"auto\"");
	expect_reject("{\"v\":1,\"type\":\"scale\",\"pool\":\"web\",\"desired\":\"clear\"}",
	              "desired: must be an integer or \"auto\"");
	expect_reject("{\"v\":1,\"type\":\"scale\",\"desired\":\"auto\"}", "pool: missing");
	/* a pool notification's desired is the policy's count, never "auto" */
	expect_reject("{\"v\":1,\"type\":\"pool\",\"pool\":\"web\",\"state\":\"high\","
	              "\"desired\":\"auto\"}",
	              "desired: must be an integer");
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
	              "state: must be");
	/* "unknown" is a verdict the programs use, never one to send */
	expect_reject("{\"v\":1,\"type\":\"pool\",\"pool\":\"web\",\"state\":\"unknown\"}",
	              "state: must be");
	expect_reject("{\"v\":1,\"type\":\"pool\",\"pool\":\"web\",\"state\":\"HIGH\"}",
	              "state: must be");
	expect_reject("{\"v\":1,\"type\":\"pool\",\"pool\":\"web\",\"state\":2}", "state: must be");
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
	expect_reject("{\"v\":1,\"type\":\"status\",\"host\":\"a\\u001bb\"}",
	              "host: invalid value");
	expect_reject("{\"v\":1,\"type\":\"status\",\"host\":\"a\\nb\"}", "host: invalid value");
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

/* A migrate request names a domain and a host, nothing else of a pool's. */
START_TEST(test_migrate_request)
{
	vs_notification n;
	GError *err = NULL;

	ck_assert(parse_line("{\"v\":1,\"type\":\"migrate\",\"domain\":\"web-01\",\"to\":\"b\"}",
	                     &n, &err));
	ck_assert_int_eq(n.type, VS_NOTIFY_MIGRATE);
	ck_assert_str_eq(n.domain, "web-01");
	ck_assert_str_eq(n.to, "b");
	g_autofree char *json = vs_notification_to_json(&n);
	ck_assert_ptr_nonnull(strstr(json, "\"domain\":\"web-01\""));
	ck_assert_ptr_nonnull(strstr(json, "\"to\":\"b\""));
	/* required, validated, and only in a migrate request */
	ck_assert(!parse_line("{\"v\":1,\"type\":\"migrate\",\"domain\":\"web-01\"}", &n, NULL));
	ck_assert(!parse_line("{\"v\":1,\"type\":\"migrate\",\"to\":\"b\"}", &n, NULL));
	ck_assert(!parse_line("{\"v\":1,\"type\":\"migrate\",\"domain\":\"a;b\",\"to\":\"b\"}", &n,
	                      NULL));
	ck_assert(!parse_line("{\"v\":1,\"type\":\"migrate\",\"domain\":\"w\",\"to\":\"b c\"}", &n,
	                      NULL));
	ck_assert(!parse_line("{\"v\":1,\"type\":\"status\",\"domain\":\"web-01\"}", &n, NULL));
	ck_assert(!parse_line("{\"v\":1,\"type\":\"migrate\",\"domain\":\"w\",\"to\":\"b\","
	                      "\"pool\":\"web\"}",
	                      &n, NULL));
	ck_assert_ptr_null(err);
}
END_TEST

Suite *vs_test_suite(void)
{
	Suite *s = suite_create("notify");
	TCase *tc = tcase_create("notify");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_parse_pool_example);
	tcase_add_test(tc, test_minimal_messages);
	tcase_add_test(tc, test_init_absent_values);
	tcase_add_test(tc, test_threshold_verdict_derived);
	tcase_add_test(tc, test_nan_left_out);
	tcase_add_test(tc, test_set_text);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_host_is_data);
	tcase_add_test(tc, test_migrate_request);
	tcase_add_test(tc, test_to_json_shape);
	tcase_add_test(tc, test_scale_auto);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_embedded_nul_and_length);
	tcase_add_test(tc, test_fuzz);
	suite_add_tcase(s, tc);
	return s;
}
