/*
 * test-status.c - status.json: round trip, atomic replacement, missing and
 * invalid files.
 */
#include "config.h"

#include "vs-status.h"

#include <check.h>
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static vs_instance_status *instance(const char *name, const char *address, int sessions)
{
	vs_instance_status *i = g_new0(vs_instance_status, 1);

	i->name = g_strdup(name);
	i->state = g_strdup("running");
	i->address = g_strdup(address);
	i->lb = g_strdup("enabled");
	i->sessions = sessions;
	return i;
}

static vs_status *sample(void)
{
	vs_status *s = vs_status_new();
	vs_pool_status *web = vs_pool_status_new("web");
	vs_pool_status *db = vs_pool_status_new("db");

	s->time = 1764000000.5;
	s->pid = 123;
	web->desired = 3;
	web->actual = 2;
	g_free(web->phase);
	web->phase = g_strdup("scaling-out");
	web->cooldown_left = 12;
	g_free(web->last_action);
	web->last_action = g_strdup("scale-out");
	g_free(web->last_result);
	web->last_result = g_strdup("failed");
	web->last_time = 1764000000.125;
	g_free(web->last_error);
	web->last_error = g_strdup("clone failed: \"disk\" full \xe2\x80\x94 retry");
	web->scale_outs = 4;
	web->scale_ins = 1;
	web->failures = 1;
	web->alerts = (uint64_t)1 << 40;
	g_ptr_array_add(web->instances, instance("web-01", "127.0.0.1:18101", 12));
	g_ptr_array_add(web->instances, instance("web-02", NULL, -1));
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
		ck_assert_uint_eq(p->actual, q->actual);
		ck_assert_str_eq(p->phase, q->phase);
		ck_assert_uint_eq(p->cooldown_left, q->cooldown_left);
		ck_assert_str_eq(p->last_action, q->last_action);
		ck_assert_str_eq(p->last_result, q->last_result);
		ck_assert_double_eq(p->last_time, q->last_time);
		ck_assert_str_eq(p->last_error, q->last_error);
		ck_assert(p->scale_outs == q->scale_outs && p->scale_ins == q->scale_ins);
		ck_assert(p->failures == q->failures && p->alerts == q->alerts);
		ck_assert_uint_eq(p->instances->len, q->instances->len);
		for (guint j = 0; j < p->instances->len; j++) {
			const vs_instance_status *x = p->instances->pdata[j];
			const vs_instance_status *y = q->instances->pdata[j];

			ck_assert_str_eq(x->name, y->name);
			ck_assert_str_eq(x->state, y->state);
			ck_assert_pstr_eq(x->address, y->address);
			ck_assert_str_eq(x->lb, y->lb);
			ck_assert_int_eq(x->sessions, y->sessions);
		}
	}
}

START_TEST(test_new_defaults)
{
	g_autoptr(vs_status) s = vs_status_new();
	vs_pool_status *p = vs_pool_status_new("web");

	ck_assert_uint_eq(s->pools->len, 0);
	ck_assert_str_eq(p->phase, "idle");
	ck_assert_str_eq(p->last_action, "none");
	ck_assert_str_eq(p->last_result, "none");
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
	g_autoptr(vs_status) s = sample();
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
		const vs_instance_status *i;

		ck_assert_msg(d != NULL, "%s", err ? err->message : "");
		p = vs_status_find_pool(d, "web");
		ck_assert_ptr_nonnull(p);
		ck_assert_uint_eq(p->scale_outs, 4);
		i = p->instances->pdata[0];
		ck_assert_str_eq(i->address, "127.0.0.1:18101");
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
	expect_invalid("{\"v\":1,\"junk\":\"\xff\"}", "not UTF-8");
}
END_TEST

START_TEST(test_write_read)
{
	g_autofree char *dir = g_dir_make_tmp("vs-status-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, VS_STATUS_FILE, NULL);
	g_autoptr(vs_status) s = sample();
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

	/* an unwritable directory: error, nothing created */
	ck_assert(!vs_status_write(s, "/nonexistent-vs-dir", &err));
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
	g_autoptr(vs_status) s = sample();
	pid_t pid;
	int status, reads = 0;

	ck_assert(vs_status_write(s, dir, NULL));
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		vs_status *w = sample();
		vs_pool_status *big = vs_pool_status_new("big");

		/* the second content is much larger, so a torn read would show */
		for (int i = 0; i < 200; i++) {
			char name[16];

			g_snprintf(name, sizeof(name), "big-%03d", i);
			g_ptr_array_add(big->instances, instance(name, "127.0.0.1:80", i));
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

int main(void)
{
	Suite *s = suite_create("status");
	TCase *tc = tcase_create("status");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_new_defaults);
	tcase_add_test(tc, test_json_round_trip);
	tcase_add_test(tc, test_invalid_documents);
	tcase_add_test(tc, test_write_read);
	tcase_add_test(tc, test_atomic_replacement);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
