/*
 * test-status.c - status.json (lib/vs-status.c): states written and read
 * by their names (an unknown name reads as the unknown state), instances
 * as pool members, free text the writer makes acceptable to the reader,
 * round trips, atomic replacement, missing and invalid files.
 */
#include "config.h"

#include "vs-status.h"
#include "vs-validate.h"

#include "testutil.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <libvirt/libvirt.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* An instance as virtscaled lists it in status.json. */
static vs_member *status_instance(const char *name, int state, const char *address, int sessions,
                                  vs_lb_state lb)
{
	vs_member *m = vs_member_new(name, NULL);

	m->state = state;
	m->running = vs_pool_member_running(state);
	vs_member_set_address(m, address);
	m->lb_state = lb;
	m->sessions = sessions;
	return m;
}

static vs_status *sample_status(void)
{
	vs_status *s = vs_status_new();
	vs_pool_status *web = vs_pool_status_new("web");
	vs_pool_status *db = vs_pool_status_new("db");

	s->time = 1764000000.5;
	s->pid = 123;
	web->desired = 3;
	web->target_source = VS_TARGET_SOURCE_MANUAL;
	web->actual = 2;
	web->phase = VS_PHASE_SCALING_OUT;
	web->cooldown_left = 12;
	web->last_action = VS_ACTION_VCPU_ADD;
	web->last_result = VS_RESULT_CANCELLED;
	web->last_time = 1764000000.125;
	g_free(web->last_error);
	web->last_error = g_strdup("clone failed: \"disk\" full \xe2\x80\x94 retry");
	web->scale_outs = 4;
	web->scale_ins = 1;
	web->failures = 1;
	web->alerts = (uint64_t)1 << 40;
	web->last_alert = VS_ALERT_ACTION_FAILED;
	web->last_alert_time = 1764000001.75;
	g_ptr_array_add(web->instances,
	                status_instance("web-01", VIR_DOMAIN_RUNNING, "127.0.0.1:18101", 12,
	                                VS_LB_STATE_ENABLED));
	g_ptr_array_add(web->instances, status_instance("web-02", VIR_DOMAIN_BLOCKED, NULL, -1,
	                                                VS_LB_STATE_DRAINING));
	g_ptr_array_add(web->instances, status_instance("web-03", VIR_DOMAIN_SHUTOFF, "[::1]:8080",
	                                                0, VS_LB_STATE_UNKNOWN));
	g_ptr_array_add(s->pools, web);
	g_ptr_array_add(s->pools, db);
	return s;
}

static void assert_same(const vs_status *a, const vs_status *b)
{
	ck_assert_double_eq(a->time, b->time);
	ck_assert_int_eq(a->pid, b->pid);
	ck_assert_uint_eq(a->pools->len, b->pools->len);
	for (guint i = 0; i < a->pools->len; i++) {
		const vs_pool_status *p = a->pools->pdata[i], *q = b->pools->pdata[i];

		ck_assert_str_eq(p->name, q->name);
		ck_assert_uint_eq(p->desired, q->desired);
		ck_assert_int_eq(p->target_source, q->target_source);
		ck_assert_uint_eq(p->actual, q->actual);
		ck_assert_int_eq(p->phase, q->phase);
		ck_assert_uint_eq(p->cooldown_left, q->cooldown_left);
		ck_assert_int_eq(p->last_action, q->last_action);
		ck_assert_int_eq(p->last_result, q->last_result);
		ck_assert_double_eq(p->last_time, q->last_time);
		ck_assert_str_eq(p->last_error, q->last_error);
		ck_assert(p->scale_outs == q->scale_outs && p->scale_ins == q->scale_ins);
		ck_assert(p->failures == q->failures && p->alerts == q->alerts);
		ck_assert_int_eq(p->last_alert, q->last_alert);
		ck_assert_double_eq(p->last_alert_time, q->last_alert_time);
		ck_assert_uint_eq(p->instances->len, q->instances->len);
		for (guint j = 0; j < p->instances->len; j++) {
			const vs_member *x = p->instances->pdata[j];
			const vs_member *y = q->instances->pdata[j];

			ck_assert_str_eq(x->name, y->name);
			ck_assert_int_eq(x->state, y->state);
			ck_assert(x->running == y->running);
			ck_assert_pstr_eq(x->address, y->address);
			ck_assert(x->have_endpoint == y->have_endpoint);
			ck_assert_int_eq(x->lb_state, y->lb_state);
			ck_assert_int_eq(x->sessions, y->sessions);
		}
	}
}

START_TEST(test_new_defaults)
{
	g_autoptr(vs_status) s = vs_status_new();
	vs_pool_status *p = vs_pool_status_new("web");

	ck_assert_uint_eq(s->pools->len, 0);
	ck_assert_int_eq(p->phase, VS_PHASE_IDLE);
	ck_assert_int_eq(p->last_action, VS_ACTION_NONE);
	ck_assert_int_eq(p->last_result, VS_RESULT_NONE);
	ck_assert_int_eq(p->last_alert, VS_ALERT_NONE);
	ck_assert_double_eq(p->last_alert_time, 0);
	ck_assert_str_eq(p->last_error, "");
	ck_assert_uint_eq(p->instances->len, 0);
	g_ptr_array_add(s->pools, p);
	ck_assert_ptr_eq(vs_status_find_pool(s, "web"), p);
	ck_assert_ptr_null(vs_status_find_pool(s, "db"));
	ck_assert_ptr_null(vs_status_find_pool(NULL, "web"));
}
END_TEST

START_TEST(test_json_round_trip)
{
	g_autoptr(vs_status) s = sample_status();
	g_autofree char *json = vs_status_to_json(s);
	g_autoptr(vs_status) back = NULL;
	GError *err = NULL;

	ck_assert(g_str_has_suffix(json, "}\n"));
	back = vs_status_from_json(json, strlen(json), &err);
	ck_assert_msg(back != NULL, "%s", err ? err->message : "");
	assert_same(s, back);
	/* the documented example parses; unknown members are ignored */
	{
		const char *doc =
		    "{\"v\":1,\"time\":1764000000.5,\"pid\":123,\"future\":{\"x\":[1]},"
		    "\"pools\":[{\"name\":\"web\",\"desired\":3,\"actual\":3,\"phase\":\"idle\","
		    "\"cooldown_left\":12,\"last_action\":\"scale-out\",\"last_result\":\"ok\","
		    "\"last_time\":1764000000.1,\"last_error\":\"\",\"scale_outs\":4,"
		    "\"scale_ins\":1,\"failures\":0,\"alerts\":0,"
		    "\"instances\":[{\"name\":\"web-01\",\"state\":\"running\","
		    "\"address\":\"127.0.0.1:18101\",\"lb\":\"enabled\",\"sessions\":12}]}]}";
		g_autoptr(vs_status) d = vs_status_from_json(doc, strlen(doc), &err);
		const vs_pool_status *p;
		const vs_member *i;

		ck_assert_msg(d != NULL, "%s", err ? err->message : "");
		p = vs_status_find_pool(d, "web");
		ck_assert_ptr_nonnull(p);
		ck_assert_uint_eq(p->scale_outs, 4);
		ck_assert_int_eq(p->phase, VS_PHASE_IDLE);
		ck_assert_int_eq(p->last_action, VS_ACTION_SCALE_OUT);
		ck_assert_int_eq(p->last_result, VS_RESULT_OK);
		/* absent members keep their defaults */
		ck_assert_int_eq(p->last_alert, VS_ALERT_NONE);
		i = p->instances->pdata[0];
		ck_assert_str_eq(i->name, "web-01");
		ck_assert_int_eq(i->state, VIR_DOMAIN_RUNNING);
		ck_assert(i->running);
		ck_assert_str_eq(i->address, "127.0.0.1:18101");
		ck_assert(i->have_endpoint);
		ck_assert_int_eq(i->lb_state, VS_LB_STATE_ENABLED);
		ck_assert_int_eq(i->sessions, 12);
	}
	/* minimal document */
	{
		g_autoptr(vs_status) m = vs_status_from_json("{\"v\":1}", 7, &err);

		ck_assert_ptr_nonnull(m);
		ck_assert_uint_eq(m->pools->len, 0);
	}
}
END_TEST

/* The JSON member @name of @o as a string (the test reads the file as
 * any other reader would). */
static const char *json_string(JsonObject *o, const char *name)
{
	ck_assert_msg(json_object_has_member(o, name), "no member %s", name);
	return json_object_get_string_member(o, name);
}

START_TEST(test_states_written_by_name)
{
	g_autoptr(vs_status) s = sample_status();
	g_autofree char *json = vs_status_to_json(s);
	g_autoptr(JsonParser) parser = json_parser_new();
	JsonObject *root, *web;
	JsonArray *instances;

	ck_assert(json_parser_load_from_data(parser, json, -1, NULL));
	root = json_node_get_object(json_parser_get_root(parser));
	web = json_array_get_object_element(json_object_get_array_member(root, "pools"), 0);
	ck_assert_str_eq(json_string(web, "phase"), "scaling-out");
	ck_assert_str_eq(json_string(web, "last_action"), "vcpu-add");
	ck_assert_str_eq(json_string(web, "last_result"), "cancelled");
	ck_assert_str_eq(json_string(web, "last_alert"), "action-failed");
	ck_assert_double_eq(json_object_get_double_member(web, "last_alert_time"), 1764000001.75);
	instances = json_object_get_array_member(web, "instances");
	ck_assert_uint_eq(json_array_get_length(instances), 3);
	/* libvirt's state names, as virsh prints them */
	ck_assert_str_eq(json_string(json_array_get_object_element(instances, 0), "state"),
	                 "running");
	ck_assert_str_eq(json_string(json_array_get_object_element(instances, 1), "state"), "idle");
	ck_assert_str_eq(json_string(json_array_get_object_element(instances, 2), "state"),
	                 "shut off");
	ck_assert_str_eq(json_string(json_array_get_object_element(instances, 0), "lb"), "enabled");
	ck_assert_str_eq(json_string(json_array_get_object_element(instances, 1), "lb"),
	                 "draining");
	ck_assert_str_eq(json_string(json_array_get_object_element(instances, 2), "lb"), "unknown");
	ck_assert_int_eq(
	    json_object_get_int_member(json_array_get_object_element(instances, 1), "sessions"),
	    -1);
}
END_TEST

/* Every state of every table survives the file. */
START_TEST(test_every_state_round_trips)
{
	for (unsigned k = 0; k < 16; k++) {
		g_autoptr(vs_status) s = vs_status_new();
		vs_pool_status *p = vs_pool_status_new("web");
		g_autofree char *json = NULL;
		g_autoptr(vs_status) back = NULL;
		g_autoptr(GError) err = NULL;
		const vs_pool_status *q;
		const vs_member *m;

		p->phase = (vs_phase)(k % vs_phase_table.n);
		p->last_action = (vs_action)(k % vs_action_table.n);
		p->last_result = (vs_result)(k % vs_result_table.n);
		p->last_alert = (vs_alert_kind)(k % vs_alert_kind_table.n);
		g_ptr_array_add(p->instances,
		                status_instance("web-01", (int)(k % (VIR_DOMAIN_PMSUSPENDED + 1)),
		                                NULL, (int)k,
		                                (vs_lb_state)(k % vs_lb_state_table.n)));
		g_ptr_array_add(s->pools, p);
		json = vs_status_to_json(s);
		back = vs_status_from_json(json, strlen(json), &err);
		ck_assert_msg(back != NULL, "%s", err ? err->message : "");
		q = vs_status_find_pool(back, "web");
		ck_assert_int_eq(q->phase, p->phase);
		ck_assert_int_eq(q->last_action, p->last_action);
		ck_assert_int_eq(q->last_result, p->last_result);
		ck_assert_int_eq(q->last_alert, p->last_alert);
		m = q->instances->pdata[0];
		ck_assert_int_eq(m->state, ((vs_member *)p->instances->pdata[0])->state);
		ck_assert_int_eq(m->lb_state, ((vs_member *)p->instances->pdata[0])->lb_state);
	}
}
END_TEST

/* A newer writer's states: read as unknown, the rest of the file kept. */
START_TEST(test_unknown_names_read_as_unknown)
{
	const char *doc = "{\"v\":1,\"pools\":[{\"name\":\"web\",\"desired\":4,"
	                  "\"phase\":\"hibernating\",\"last_action\":\"teleport\","
	                  "\"last_result\":\"maybe\",\"last_alert\":\"aliens\","
	                  "\"instances\":[{\"name\":\"web-01\",\"state\":\"frozen\","
	                  "\"lb\":\"sideways\",\"sessions\":3}]}]}";
	g_autoptr(GError) err = NULL;
	g_autoptr(vs_status) s = vs_status_from_json(doc, strlen(doc), &err);
	const vs_pool_status *p;
	const vs_member *m;

	ck_assert_msg(s != NULL, "%s", err ? err->message : "");
	p = vs_status_find_pool(s, "web");
	ck_assert_uint_eq(p->desired, 4);
	ck_assert_int_eq(p->phase, VS_PHASE_UNKNOWN);
	ck_assert_int_eq(p->last_action, VS_ACTION_UNKNOWN);
	ck_assert_int_eq(p->last_result, VS_RESULT_UNKNOWN);
	ck_assert_int_eq(p->last_alert, VS_ALERT_UNKNOWN);
	m = p->instances->pdata[0];
	ck_assert_int_eq(m->lb_state, VS_LB_STATE_UNKNOWN);
	ck_assert_int_eq(m->state, VIR_DOMAIN_NOSTATE);
	ck_assert(!m->running);
	ck_assert_int_eq(m->sessions, 3);
}
END_TEST

/* Where the desired count comes from: written by name, read back; an
 * older writer's file (no target_source) and a newer writer's name read
 * as unknown, the document still accepted. */
START_TEST(test_target_source)
{
	const vs_target_source all[] = {VS_TARGET_SOURCE_MIN, VS_TARGET_SOURCE_POLICY,
	                                VS_TARGET_SOURCE_MANUAL};
	const char *names[] = {"min", "policy", "manual"};

	for (size_t i = 0; i < G_N_ELEMENTS(all); i++) {
		g_autoptr(vs_status) s = vs_status_new();
		vs_pool_status *p = vs_pool_status_new("web");
		g_autoptr(GError) err = NULL;

		p->target_source = all[i];
		g_ptr_array_add(s->pools, p);
		g_autofree char *json = vs_status_to_json(s);
		g_autofree char *want = g_strdup_printf("\"%s\"", names[i]);
		ck_assert_msg(strstr(json, want), "%s not in %s", want, json);
		g_autoptr(vs_status) back = vs_status_from_json(json, strlen(json), &err);
		ck_assert_msg(back != NULL, "%s", err ? err->message : "");
		ck_assert_int_eq(vs_status_find_pool(back, "web")->target_source, all[i]);
	}
	const char *older = "{\"v\":1,\"pools\":[{\"name\":\"web\",\"desired\":2}]}";
	const char *newer = "{\"v\":1,\"pools\":[{\"name\":\"web\",\"desired\":2,"
	                    "\"target_source\":\"schedule\"}]}";
	g_autoptr(vs_status) o = vs_status_from_json(older, strlen(older), NULL);
	g_autoptr(vs_status) n = vs_status_from_json(newer, strlen(newer), NULL);
	ck_assert_ptr_nonnull(o);
	ck_assert_ptr_nonnull(n);
	ck_assert_int_eq(vs_status_find_pool(o, "web")->target_source, VS_TARGET_SOURCE_UNKNOWN);
	ck_assert_int_eq(vs_status_find_pool(n, "web")->target_source, VS_TARGET_SOURCE_UNKNOWN);
	ck_assert_str_eq(vs_target_source_name(VS_TARGET_SOURCE_UNKNOWN), "unknown");
}
END_TEST

/* Writes @error as a pool's last error and reads the file back. */
static char *last_error_after_round_trip(const char *dir, const char *error)
{
	g_autoptr(vs_status) s = vs_status_new();
	vs_pool_status *p = vs_pool_status_new("web");
	g_autoptr(vs_status) back = NULL;
	g_autoptr(GError) err = NULL;

	g_free(p->last_error);
	p->last_error = g_strdup(error);
	g_ptr_array_add(s->pools, p);
	ck_assert_msg(vs_status_write(s, dir, &err), "%s", err ? err->message : "");
	back = vs_status_read(dir, &err);
	ck_assert_msg(back != NULL, "the reader refuses what the writer wrote: %s",
	              err ? err->message : "");
	/* the pool keeps what it was given; only the file is cleaned */
	ck_assert_str_eq(p->last_error, error);
	return g_strdup(vs_status_find_pool(back, "web")->last_error);
}

START_TEST(test_last_error_written_readable)
{
	g_autofree char *dir = g_dir_make_tmp("vs-status-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, VS_STATUS_FILE, NULL);
	GString *long_ascii = g_string_new(NULL);
	GString *long_utf8 = g_string_new(NULL);
	g_autofree char *a = NULL, *b = NULL, *c = NULL, *d = NULL;

	/* what a failing command prints: lines, a tab, colours, a bad byte */
	a = last_error_after_round_trip(
	    dir,
	    "nginx: [emerg] bad\nline 2\r\n\tat \x1b[31mred\x1b[0m \x7f \xff\xfe end \xc3\xa9");
	ck_assert_str_eq(a, "nginx: [emerg] bad?line 2???at ?[31mred?[0m ? ?? end \xc3\xa9");

	/* longer than 1024 bytes: cut to 1024 */
	for (int i = 0; i < 3000; i++)
		g_string_append_c(long_ascii, (char)('a' + i % 26));
	b = last_error_after_round_trip(dir, long_ascii->str);
	ck_assert_uint_eq(strlen(b), 1024);
	ck_assert(strncmp(b, long_ascii->str, 1024) == 0);

	/* cut at a character boundary: 1023 bytes and a 2-byte character
	 * make 1025, so the character goes */
	g_string_append(long_utf8, long_ascii->str);
	g_string_truncate(long_utf8, 1023);
	g_string_append(long_utf8, "\xc3\xa9 and more");
	c = last_error_after_round_trip(dir, long_utf8->str);
	ck_assert_uint_eq(strlen(c), 1023);
	ck_assert(g_utf8_validate(c, -1, NULL));
	/* a 3-byte character right at the end fits when it ends at byte 1024 */
	g_string_truncate(long_utf8, 1021);
	g_string_append(long_utf8, "\xe2\x82\xac tail");
	d = last_error_after_round_trip(dir, long_utf8->str);
	ck_assert_uint_eq(strlen(d), 1024);
	ck_assert(g_str_has_suffix(d, "\xe2\x82\xac"));

	g_string_free(long_ascii, TRUE);
	g_string_free(long_utf8, TRUE);
	g_unlink(path);
	g_rmdir(dir);
}
END_TEST

/* The reader's verdict on one string: what get_string() accepts. */
static bool reader_accepts(const char *s)
{
	return strlen(s) <= VS_STATUS_MAX_STRING && vs_valid_text(s, strlen(s));
}

/* vs_status_text(): multi-line, long, cut inside a character, invalid UTF-8. */
START_TEST(test_status_text)
{
	g_autofree char *lines = vs_status_text("nginx: [emerg] unknown directive \"x\" in "
	                                        "/etc/nginx/conf.d/a.conf:3\nnginx: configuration "
	                                        "file /etc/nginx/nginx.conf test failed\n");
	GString *big = g_string_new(NULL);
	g_autofree char *five_k = NULL, *cut = NULL, *cut4 = NULL, *bad = NULL, *null = NULL;

	ck_assert_str_eq(lines, "nginx: [emerg] unknown directive \"x\" in "
	                        "/etc/nginx/conf.d/a.conf:3?nginx: configuration file "
	                        "/etc/nginx/nginx.conf test failed?");
	ck_assert(reader_accepts(lines));

	/* 5 KiB of lines: cut to the reader's 1024 bytes */
	while (big->len < 5 * 1024)
		g_string_append(big, "nginx: [emerg] host not found in upstream\n");
	five_k = vs_status_text(big->str);
	ck_assert_uint_eq(strlen(five_k), VS_STATUS_MAX_STRING);
	ck_assert(reader_accepts(five_k));
	ck_assert(g_str_has_prefix(five_k, "nginx: [emerg] host not found in upstream?nginx"));

	/* a 3-byte character across the limit (bytes 1023..1025) is left out
	 * whole, never cut in its middle */
	g_string_assign(big, "");
	while (big->len < VS_STATUS_MAX_STRING - 1)
		g_string_append_c(big, 'x');
	g_string_append(big, "\xe2\x82\xac and more");
	cut = vs_status_text(big->str);
	ck_assert_uint_eq(strlen(cut), VS_STATUS_MAX_STRING - 1);
	ck_assert(reader_accepts(cut));
	/* a 4-byte character that would end at byte 1026 */
	g_string_truncate(big, VS_STATUS_MAX_STRING - 2);
	g_string_append(big, "\xf0\x9f\x98\x80");
	cut4 = vs_status_text(big->str);
	ck_assert_uint_eq(strlen(cut4), VS_STATUS_MAX_STRING - 2);
	ck_assert(reader_accepts(cut4));

	/* invalid UTF-8: a lone continuation byte, an overlong '/', a UTF-16
	 * surrogate, a code point above U+10FFFF, a character cut at the end */
	bad = vs_status_text("a\x80"
	                     "b\xc0\xaf"
	                     "c\xed\xa0\x80"
	                     "d\xf4\x90\x80\x80"
	                     "e\xe2\x82");
	ck_assert(reader_accepts(bad));
	ck_assert_str_eq(bad, "a?b??c???d????e??");

	null = vs_status_text(NULL);
	ck_assert_str_eq(null, "");
	g_string_free(big, TRUE);
}
END_TEST

/* Random bytes of every length around the limit: whatever goes in, the
 * reader accepts what comes out. */
START_TEST(test_status_text_random)
{
	GRand *rand = g_rand_new_with_seed(0x5eed);

	for (int i = 0; i < 3000; i++) {
		guint len = (guint)g_rand_int_range(rand, 0, 1400);
		g_autofree char *in = g_malloc(len + 1);
		g_autofree char *out = NULL;

		for (guint j = 0; j < len; j++) {
			/* mostly high bytes: UTF-8 lead and continuation bytes */
			in[j] = (char)(g_rand_boolean(rand) ? g_rand_int_range(rand, 0x80, 0x100)
			                                    : g_rand_int_range(rand, 1, 0x100));
		}
		in[len] = '\0';
		out = vs_status_text(in);
		ck_assert_msg(reader_accepts(out), "input %d refused after sanitizing", i);
	}
	g_rand_free(rand);
}
END_TEST

/*
 * Every string of the document, not only last_error, is written as the
 * reader accepts it: an address with a line break or of 5 KiB, times below
 * zero, a session count below -1; a name the reader would refuse leaves its
 * instance (or pool) out instead of the whole document.
 */
START_TEST(test_every_string_written_readable)
{
	g_autofree char *dir = g_dir_make_tmp("vs-status-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, VS_STATUS_FILE, NULL);
	g_autoptr(vs_status) s = vs_status_new();
	g_autoptr(vs_status) back = NULL;
	g_autoptr(GError) err = NULL;
	vs_pool_status *web = vs_pool_status_new("web");
	vs_pool_status *bad_pool = vs_pool_status_new("bad\npool");
	GString *huge = g_string_new(NULL);
	const vs_pool_status *p;
	const vs_member *m;

	while (huge->len < 5 * 1024)
		g_string_append(huge, "10.0.0.1:80\r\n");
	s->pid = -4;
	s->time = -1;
	web->last_time = -5;
	web->last_alert_time = NAN;
	g_free(web->last_error);
	web->last_error = g_strdup("line one\nline two\t\x1b[0m");
	g_ptr_array_add(web->instances,
	                status_instance("web-01", VIR_DOMAIN_RUNNING, "127.0.0.1:1\nX-Injected: 1",
	                                -7, VS_LB_STATE_ENABLED));
	g_ptr_array_add(web->instances, status_instance("web-02", VIR_DOMAIN_RUNNING, huge->str, 3,
	                                                VS_LB_STATE_ENABLED));
	g_ptr_array_add(web->instances, status_instance("web 03\xff", VIR_DOMAIN_RUNNING,
	                                                "127.0.0.1:3", 1, VS_LB_STATE_ENABLED));
	g_ptr_array_add(s->pools, web);
	g_ptr_array_add(s->pools, bad_pool);

	ck_assert_msg(vs_status_write(s, dir, &err), "%s", err ? err->message : "");
	back = vs_status_read(dir, &err);
	ck_assert_msg(back != NULL, "the reader refuses what the writer wrote: %s",
	              err ? err->message : "");
	ck_assert_uint_eq(back->pools->len, 1);
	ck_assert_int_eq(back->pid, 0);
	ck_assert(back->time == 0);
	p = vs_status_find_pool(back, "web");
	ck_assert_ptr_nonnull(p);
	ck_assert(p->last_time == 0 && p->last_alert_time == 0);
	ck_assert_str_eq(p->last_error, "line one?line two??[0m");
	ck_assert_uint_eq(p->instances->len, 2);
	m = p->instances->pdata[0];
	ck_assert_str_eq(m->name, "web-01");
	ck_assert_str_eq(m->address, "127.0.0.1:1?X-Injected: 1");
	ck_assert_int_eq(m->sessions, -1);
	m = p->instances->pdata[1];
	ck_assert_str_eq(m->name, "web-02");
	ck_assert_uint_eq(strlen(m->address), VS_STATUS_MAX_STRING);
	g_string_free(huge, TRUE);
	g_unlink(path);
	g_rmdir(dir);
}
END_TEST

static void expect_invalid_at(const char *json, const char *what, const char *file, int line)
{
	GError *err = NULL;
	vs_status *s = vs_status_from_json(json, json ? strlen(json) : 0, &err);

	if (s)
		vs_status_free(s);
	ck_assert_msg(s == NULL, "%s:%d: accepted %s", file, line, json);
	ck_assert_msg(strstr(err->message, what) != NULL, "%s:%d: '%s' lacks '%s'", file, line,
	              err->message, what);
	g_error_free(err);
}
#define expect_invalid(json, what) expect_invalid_at(json, what, __FILE__, __LINE__)

START_TEST(test_invalid_documents)
{
	expect_invalid("", "empty");
	expect_invalid(NULL, "empty");
	expect_invalid("{\"v\":1,\"pools\":[", "not valid JSON");
	expect_invalid("[]", "not a JSON object");
	expect_invalid("{}", "status.v: missing");
	expect_invalid("{\"v\":2}", "unsupported version 2");
	expect_invalid("{\"v\":\"1\"}", "status.v: must be an integer");
	expect_invalid("{\"v\":1,\"time\":\"now\"}", "status.time: must be a number");
	expect_invalid("{\"v\":1,\"time\":-5}", "status.time: out of range");
	expect_invalid("{\"v\":1,\"pid\":-5}", "status.pid: out of range");
	expect_invalid("{\"v\":1,\"pools\":{}}", "status.pools: must be an array");
	expect_invalid("{\"v\":1,\"pools\":[1]}", "pools[0]: must be an object");
	expect_invalid("{\"v\":1,\"pools\":[{}]}", "pools[0].name: missing");
	expect_invalid("{\"v\":1,\"pools\":[{\"name\":\"a b\"}]}",
	               "pools[0].name: missing or not a valid");
	expect_invalid("{\"v\":1,\"pools\":[{\"name\":\"w\"},{\"name\":\"w\"}]}",
	               "pools[1].name: duplicate pool");
	expect_invalid("{\"v\":1,\"pools\":[{\"name\":\"w\",\"desired\":-1}]}",
	               "pools[0].desired: out of range");
	expect_invalid("{\"v\":1,\"pools\":[{\"name\":\"w\",\"desired\":1.5}]}",
	               "pools[0].desired: must be an integer");
	expect_invalid("{\"v\":1,\"pools\":[{\"name\":\"w\",\"phase\":7}]}",
	               "pools[0].phase: must be a string");
	expect_invalid("{\"v\":1,\"pools\":[{\"name\":\"w\",\"last_error\":\"a\\nb\"}]}",
	               "pools[0].last_error: too long or not printable");
	expect_invalid("{\"v\":1,\"pools\":[{\"name\":\"w\",\"instances\":[{\"name\":\"x;y\"}]}]}",
	               "pools[0].instances[0].name");
	expect_invalid("{\"v\":1,\"pools\":[{\"name\":\"w\",\"instances\":[{\"name\":\"x\","
	               "\"sessions\":-2}]}]}",
	               "pools[0].instances[0].sessions: out of range");
	expect_invalid("{\"v\":1,\"pools\":[{\"name\":\"w\",\"instances\":\"x\"}]}",
	               "pools[0].instances: must be an array");
	expect_invalid("{\"v\":1,\"pools\":[{\"name\":\"w\",\"last_alert\":false}]}",
	               "pools[0].last_alert: must be a string");
	expect_invalid("{\"v\":1,\"pools\":[{\"name\":\"w\",\"last_alert_time\":-1}]}",
	               "pools[0].last_alert_time: out of range");
	expect_invalid("{\"v\":1,\"pools\":[{\"name\":\"w\",\"instances\":[{\"name\":\"x\","
	               "\"lb\":2}]}]}",
	               "pools[0].instances[0].lb: must be a string");
	expect_invalid("{\"v\":1,\"junk\":\"\xff\"}", "not UTF-8");
}
END_TEST

/* Hosts and each instance's host survive the round trip; unknown figures
 * stay -1. */
/* A pool's migration record is written and read back; a pool without
 * one has none. */
START_TEST(test_migration_round_trip)
{
	g_autoptr(vs_status) s = vs_status_new();
	vs_pool_status *p = vs_pool_status_new("web");
	GError *err = NULL;

	p->migrations = 2;
	p->phase = VS_PHASE_MIGRATING;
	p->last_action = VS_ACTION_MIGRATE;
	p->migration = g_new0(vs_migration_status, 1);
	*p->migration = (vs_migration_status){.domain = g_strdup("web-02"),
	                                      .from = g_strdup("a"),
	                                      .to = g_strdup("b"),
	                                      .result = VS_RESULT_OK,
	                                      .time = 1764000000.5,
	                                      .total_ms = 1040,
	                                      .downtime_ms = 140,
	                                      .bytes = 13312000,
	                                      .iterations = 3,
	                                      .path = 2,
	                                      .dirty_rate = 4.5,
	                                      .postcopy = true};
	g_ptr_array_add(s->pools, p);
	g_ptr_array_add(s->pools, vs_pool_status_new("db"));

	g_autofree char *json = vs_status_to_json(s);
	g_autoptr(vs_status) back = vs_status_from_json(json, strlen(json), &err);
	ck_assert_msg(back != NULL, "%s", err ? err->message : "");
	const vs_pool_status *bp = back->pools->pdata[0];
	const vs_migration_status *m = bp->migration;
	ck_assert_int_eq(bp->phase, VS_PHASE_MIGRATING);
	ck_assert_int_eq(bp->last_action, VS_ACTION_MIGRATE);
	ck_assert_uint_eq(bp->migrations, 2);
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(m->domain, "web-02");
	ck_assert_str_eq(m->from, "a");
	ck_assert_str_eq(m->to, "b");
	ck_assert_int_eq(m->result, VS_RESULT_OK);
	ck_assert_uint_eq(m->total_ms, 1040);
	ck_assert_uint_eq(m->downtime_ms, 140);
	ck_assert_uint_eq(m->bytes, 13312000);
	ck_assert_uint_eq(m->iterations, 3);
	ck_assert_uint_eq(m->path, 2);
	ck_assert_double_eq_tol(m->dirty_rate, 4.5, 1e-9);
	ck_assert(m->postcopy);
	ck_assert_ptr_null(((const vs_pool_status *)back->pools->pdata[1])->migration);
	/* a malformed record is an error, not a guess */
	const char *bad = "{\"v\":1,\"pools\":[{\"name\":\"web\",\"migration\":{\"path\":7}}]}";
	const char *good = "{\"v\":1,\"pools\":[{\"name\":\"web\",\"migration\":{\"path\":3}}]}";
	ck_assert_ptr_null(vs_status_from_json(bad, strlen(bad), NULL));
	g_autoptr(vs_status) ok = vs_status_from_json(good, strlen(good), &err);
	ck_assert_msg(ok != NULL, "%s", err ? err->message : "");
}
END_TEST

/* A pool's last rebalancing move is written and read back, dry-run or
 * not; a pool without one has none; a malformed one is an error. */
START_TEST(test_rebalance_round_trip)
{
	g_autoptr(vs_status) s = vs_status_new();
	vs_pool_status *p = vs_pool_status_new("web");
	GError *err = NULL;

	p->rebalances = 3;
	p->rebalance = g_new0(vs_rebalance_status, 1);
	*p->rebalance = (vs_rebalance_status){.domain = g_strdup("web-01"),
	                                      .from = g_strdup("a"),
	                                      .to = g_strdup("b"),
	                                      .from_load = 92.5,
	                                      .to_load = 3.25,
	                                      .dry_run = true,
	                                      .time = 1764000000.5};
	g_ptr_array_add(s->pools, p);
	g_ptr_array_add(s->pools, vs_pool_status_new("db"));

	g_autofree char *json = vs_status_to_json(s);
	g_autoptr(vs_status) back = vs_status_from_json(json, strlen(json), &err);
	ck_assert_msg(back != NULL, "%s", err ? err->message : "");
	const vs_pool_status *bp = back->pools->pdata[0];
	const vs_rebalance_status *r = bp->rebalance;
	ck_assert_uint_eq(bp->rebalances, 3);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->domain, "web-01");
	ck_assert_str_eq(r->from, "a");
	ck_assert_str_eq(r->to, "b");
	ck_assert_double_eq_tol(r->from_load, 92.5, 1e-9);
	ck_assert_double_eq_tol(r->to_load, 3.25, 1e-9);
	ck_assert(r->dry_run);
	ck_assert_double_eq_tol(r->time, 1764000000.5, 1e-3);
	ck_assert_ptr_null(((const vs_pool_status *)back->pools->pdata[1])->rebalance);
	const char *bad = "{\"v\":1,\"pools\":[{\"name\":\"web\",\"rebalance\":{\"dry_run\":7}}]}";
	ck_assert_ptr_null(vs_status_from_json(bad, strlen(bad), NULL));
}
END_TEST

/* A pool's last vertical step and each instance's vCPUs and memory are
 * written and read back; an older writer's document (none of them) reads
 * as unknown. */
START_TEST(test_vertical_round_trip)
{
	g_autoptr(vs_status) s = vs_status_new();
	vs_pool_status *p = vs_pool_status_new("web");
	vs_member *m = vs_member_new("web-01", "qemu:///system");
	GError *err = NULL;

	m->vcpus = 2;
	m->vcpus_max = 4;
	m->mem_kib = 131072;
	m->mem_max_kib = 262144;
	g_ptr_array_add(p->instances, m);
	p->vertical_steps = 3;
	p->vertical = g_new0(vs_vertical_status, 1);
	*p->vertical = (vs_vertical_status){.domain = g_strdup("web-01"),
	                                    .action = VS_ACTION_VCPU_REMOVE,
	                                    .result = VS_RESULT_FAILED,
	                                    .time = 1764000000.5,
	                                    .vcpus = 2,
	                                    .memory_kib = 131072,
	                                    .error = g_strdup("setvcpus: timed out")};
	g_ptr_array_add(s->pools, p);

	g_autofree char *json = vs_status_to_json(s);
	g_autoptr(vs_status) back = vs_status_from_json(json, strlen(json), &err);
	ck_assert_msg(back != NULL, "%s", err ? err->message : "");
	const vs_pool_status *bp = back->pools->pdata[0];
	const vs_member *bm = bp->instances->pdata[0];
	ck_assert_uint_eq(bm->vcpus, 2);
	ck_assert_uint_eq(bm->vcpus_max, 4);
	ck_assert_uint_eq(bm->mem_kib, 131072);
	ck_assert_uint_eq(bm->mem_max_kib, 262144);
	ck_assert_uint_eq(bp->vertical_steps, 3);
	ck_assert_ptr_nonnull(bp->vertical);
	ck_assert_str_eq(bp->vertical->domain, "web-01");
	ck_assert_int_eq(bp->vertical->action, VS_ACTION_VCPU_REMOVE);
	ck_assert_int_eq(bp->vertical->result, VS_RESULT_FAILED);
	ck_assert_uint_eq(bp->vertical->vcpus, 2);
	ck_assert_uint_eq(bp->vertical->memory_kib, 131072);
	ck_assert_str_eq(bp->vertical->error, "setvcpus: timed out");
	const char *old = "{\"v\":1,\"pools\":[{\"name\":\"web\",\"instances\":"
	                  "[{\"name\":\"web-01\"}]}]}";
	g_autoptr(vs_status) o = vs_status_from_json(old, strlen(old), &err);
	ck_assert_msg(o != NULL, "%s", err ? err->message : "");
	bp = o->pools->pdata[0];
	ck_assert_ptr_null(bp->vertical);
	ck_assert_uint_eq(((const vs_member *)bp->instances->pdata[0])->vcpus, 0);
	const char *bad = "{\"v\":1,\"pools\":[{\"name\":\"web\",\"vertical\":[]}]}";
	ck_assert_ptr_null(vs_status_from_json(bad, strlen(bad), NULL));
}
END_TEST

START_TEST(test_hosts_round_trip)
{
	g_autoptr(vs_status) s = vs_status_new();
	vs_pool_status *p = vs_pool_status_new("web");
	vs_member *m = vs_member_new("web-02", "qemu+tcp://127.0.0.1:16510/system");
	vs_host_report *a = vs_host_report_new("a", "qemu:///system");
	vs_host_report *b = vs_host_report_new("b", "qemu+tcp://127.0.0.1:16510/system");
	GError *err = NULL;

	m->state = VIR_DOMAIN_RUNNING;
	m->lost = true;
	g_ptr_array_add(p->instances, m);
	g_ptr_array_add(s->pools, p);
	a->instances = 3;
	a->cpu_idle = 9512;
	a->mem_free = 6403;
	a->rtt_us = 180;
	b->answers = false;
	b->lost = true;
	b->down_for = 42;
	g_ptr_array_add(s->hosts, a);
	g_ptr_array_add(s->hosts, b);

	g_autofree char *json = vs_status_to_json(s);
	g_autoptr(vs_status) back = vs_status_from_json(json, strlen(json), &err);
	ck_assert_msg(back != NULL, "%s", err ? err->message : "");
	ck_assert_uint_eq(back->hosts->len, 2);
	const vs_host_report *ra = back->hosts->pdata[0], *rb = back->hosts->pdata[1];
	ck_assert_str_eq(ra->name, "a");
	ck_assert_str_eq(ra->uri, "qemu:///system");
	ck_assert(ra->answers && !ra->lost);
	ck_assert_uint_eq(ra->instances, 3);
	ck_assert_int_eq(ra->cpu_idle, 9512);
	ck_assert_int_eq(ra->mem_free, 6403);
	ck_assert_int_eq(ra->rtt_us, 180);
	ck_assert(!rb->answers && rb->lost);
	ck_assert_uint_eq(rb->down_for, 42);
	ck_assert_int_eq(rb->cpu_idle, -1);
	ck_assert_int_eq(rb->rtt_us, -1);
	const vs_member *i = ((vs_pool_status *)back->pools->pdata[0])->instances->pdata[0];
	ck_assert_str_eq(i->host_uri, "qemu+tcp://127.0.0.1:16510/system");
	ck_assert(i->lost);
	ck_assert(!i->running); /* lost: its last state, not counted */

	expect_invalid("{\"v\":1,\"hosts\":[{\"name\":\"a\"}]}", "hosts[0]: a host needs");
	expect_invalid("{\"v\":1,\"hosts\":[{\"name\":\"a\",\"uri\":\"x\",\"lost\":1}]}",
	               "hosts[0].lost: must be true or false");
	expect_invalid("{\"v\":1,\"hosts\":[{\"name\":\"a\",\"uri\":\"x\",\"cpu_idle\":"
	               "10001}]}",
	               "hosts[0].cpu_idle: out of range");
}
END_TEST

START_TEST(test_write_read)
{
	g_autofree char *dir = g_dir_make_tmp("vs-status-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, VS_STATUS_FILE, NULL);
	g_autoptr(vs_status) s = sample_status();
	g_autoptr(vs_status) back = NULL;
	GError *err = NULL;
	GDir *d;
	const char *entry;
	int entries = 0;

	/* missing file: NULL with G_FILE_ERROR_NOENT */
	back = vs_status_read(dir, &err);
	ck_assert_ptr_null(back);
	ck_assert(g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT));
	g_clear_error(&err);

	ck_assert_msg(vs_status_write(s, dir, &err), "%s", err ? err->message : "");
	back = vs_status_read(dir, &err);
	ck_assert_msg(back != NULL, "%s", err ? err->message : "");
	assert_same(s, back);

	/* rewriting replaces the file and leaves no temp file behind */
	s->pid = 456;
	ck_assert(vs_status_write(s, dir, &err));
	g_clear_pointer(&back, vs_status_free);
	back = vs_status_read(dir, &err);
	ck_assert_int_eq(back->pid, 456);
	d = g_dir_open(dir, 0, NULL);
	while ((entry = g_dir_read_name(d)) != NULL) {
		ck_assert_str_eq(entry, VS_STATUS_FILE);
		entries++;
	}
	g_dir_close(d);
	ck_assert_int_eq(entries, 1);

	/* an invalid file: NULL, the message names the file */
	ck_assert(g_file_set_contents(path, "{\"v\":1,\"pools\":[{\"name\"", -1, NULL));
	g_clear_pointer(&back, vs_status_free);
	back = vs_status_read(dir, &err);
	ck_assert_ptr_null(back);
	ck_assert(g_str_has_prefix(err->message, path));
	g_clear_error(&err);

	/* a missing directory: error, nothing created */
	ck_assert(!vs_status_write(s, "/nonexistent-vs-dir", &err));
	ck_assert(g_error_matches(err, VS_FILE_ERROR, VS_FILE_ERROR_CREATE));
	ck_assert_ptr_nonnull(strstr(err->message, "/nonexistent-vs-dir"));
	g_clear_error(&err);

	g_unlink(path);
	g_rmdir(dir);
}
END_TEST

/*
 * Atomicity: while one process rewrites the file as fast as it can with two
 * different contents, every read in another sees one of them whole.
 */
START_TEST(test_atomic_replacement)
{
	g_autofree char *dir = g_dir_make_tmp("vs-status-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, VS_STATUS_FILE, NULL);
	g_autoptr(vs_status) s = sample_status();
	pid_t pid;
	int status, reads = 0;

	ck_assert(vs_status_write(s, dir, NULL));
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		vs_status *w = sample_status();
		vs_pool_status *big = vs_pool_status_new("big");

		/* the second content is much larger, so a torn read would show */
		for (int i = 0; i < 200; i++) {
			char name[16];

			g_snprintf(name, sizeof(name), "big-%03d", i);
			g_ptr_array_add(big->instances,
			                status_instance(name, VIR_DOMAIN_RUNNING, "127.0.0.1:80", i,
			                                VS_LB_STATE_ENABLED));
		}
		g_ptr_array_add(w->pools, big);
		for (int i = 0; i < 150; i++) {
			w->pid = 1000 + i;
			if (!vs_status_write(w, dir, NULL))
				_exit(1);
		}
		vs_status_free(w);
		_exit(0);
	}
	for (;;) {
		GError *err = NULL;
		vs_status *r = vs_status_read(dir, &err);
		pid_t done;

		ck_assert_msg(r != NULL, "torn read: %s", err ? err->message : "");
		ck_assert(r->pools->len == 2 || r->pools->len == 3);
		vs_status_free(r);
		reads++;
		done = waitpid(pid, &status, WNOHANG);
		if (done == pid)
			break;
	}
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_gt(reads, 0);
	g_unlink(path);
	g_rmdir(dir);
}
END_TEST

Suite *vs_test_suite(void)
{
	Suite *s = suite_create("status");
	TCase *tc = tcase_create("status");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_new_defaults);
	tcase_add_test(tc, test_json_round_trip);
	tcase_add_test(tc, test_states_written_by_name);
	tcase_add_test(tc, test_every_state_round_trips);
	tcase_add_test(tc, test_unknown_names_read_as_unknown);
	tcase_add_test(tc, test_last_error_written_readable);
	tcase_add_test(tc, test_status_text);
	tcase_add_test(tc, test_status_text_random);
	tcase_add_test(tc, test_every_string_written_readable);
	tcase_add_test(tc, test_invalid_documents);
	tcase_add_test(tc, test_target_source);
	tcase_add_test(tc, test_hosts_round_trip);
	tcase_add_test(tc, test_migration_round_trip);
	tcase_add_test(tc, test_rebalance_round_trip);
	tcase_add_test(tc, test_vertical_round_trip);
	tcase_add_test(tc, test_write_read);
	tcase_add_test(tc, test_atomic_replacement);
	suite_add_tcase(s, tc);
	return s;
}
