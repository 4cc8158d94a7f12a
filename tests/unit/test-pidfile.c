/*
 * test-pidfile.c - a daemon's pid file (lib/vs-pidfile.c): what counts as
 * a pid in one, a second lock on a held file refused and told the holder's
 * pid, a file left by a dead daemon taken over, the file removed with its
 * lock, and links and non-files refused. flock locks belong to the open
 * file, so two locks in one process conflict as two daemons' do.
 */
#include "config.h"

#include "vs-error.h"
#include "vs-pidfile.h"

#include "testutil.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#define P(s) vs_pidfile_parse(s, strlen(s))

START_TEST(test_parse)
{
	ck_assert_int_eq(P("1"), 1);
	ck_assert_int_eq(P("4242\n"), 4242);
	ck_assert_int_eq(P("2147483647\n"), 2147483647);
	ck_assert_int_eq(P(""), -1);
	ck_assert_int_eq(P("\n"), -1);
	ck_assert_int_eq(P("0"), -1);
	ck_assert_int_eq(P("0042"), -1);
	ck_assert_int_eq(P("-1"), -1);
	ck_assert_int_eq(P("+5"), -1);
	ck_assert_int_eq(P(" 5"), -1);
	ck_assert_int_eq(P("5 "), -1);
	ck_assert_int_eq(P("5\n\n"), -1);
	ck_assert_int_eq(P("12x"), -1);
	ck_assert_int_eq(P("2147483648"), -1);
	ck_assert_int_eq(P("99999999999"), -1);
	ck_assert_int_eq(vs_pidfile_parse("77\0", 3), -1);
	ck_assert_int_eq(vs_pidfile_parse("77", 1), 7);
	ck_assert_int_eq(vs_pidfile_parse(NULL, 0), -1);
}
END_TEST

/* A fresh directory with the path of a pid file in it. */
typedef struct scratch {
	char *dir;
	char *path;
} scratch;

static scratch *scratch_new(void)
{
	scratch *s = g_new0(scratch, 1);

	s->dir = g_dir_make_tmp("vs-pidfile-XXXXXX", NULL);
	ck_assert_ptr_nonnull(s->dir);
	s->path = g_build_filename(s->dir, "daemon.pid", NULL);
	return s;
}

static void scratch_free(scratch *s)
{
	g_autoptr(GDir) d = g_dir_open(s->dir, 0, NULL);
	const char *name;

	while (d && (name = g_dir_read_name(d))) {
		g_autofree char *child = g_build_filename(s->dir, name, NULL);

		if (g_rmdir(child) != 0)
			g_unlink(child);
	}
	g_rmdir(s->dir);
	g_free(s->path);
	g_free(s->dir);
	g_free(s);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(scratch, scratch_free)

static char *contents(const char *path)
{
	char *text = NULL;

	ck_assert_msg(g_file_get_contents(path, &text, NULL, NULL), "%s unreadable", path);
	return text;
}

START_TEST(test_lock_write_remove)
{
	g_autoptr(scratch) s = scratch_new();
	g_autoptr(GError) err = NULL;
	pid_t holder = 0;
	vs_pidfile *f = vs_pidfile_lock(s->path, &holder, &err);

	ck_assert_msg(f, "%s", err ? err->message : "?");
	ck_assert_int_eq(holder, -1);
	ck_assert_str_eq(vs_pidfile_path(f), s->path);
	ck_assert(vs_pidfile_write(f, 4242, &err));
	g_autofree char *text = contents(s->path);
	ck_assert_str_eq(text, "4242\n");
	/* a shorter pid leaves nothing of the longer one */
	ck_assert(vs_pidfile_write(f, 7, &err));
	g_free(text);
	text = contents(s->path);
	ck_assert_str_eq(text, "7\n");
	vs_pidfile_remove(f);
	ck_assert(!g_file_test(s->path, G_FILE_TEST_EXISTS));
	vs_pidfile_remove(NULL);
}
END_TEST

START_TEST(test_second_lock_refused)
{
	g_autoptr(scratch) s = scratch_new();
	g_autoptr(GError) err = NULL;
	pid_t holder = 0;
	vs_pidfile *first = vs_pidfile_lock(s->path, &holder, &err);

	ck_assert(first);
	/* locked, pid not written yet: refused all the same, no pid to tell */
	ck_assert_ptr_null(vs_pidfile_lock(s->path, &holder, &err));
	ck_assert(g_error_matches(err, VS_PIDFILE_ERROR, VS_PIDFILE_ERROR_HELD));
	ck_assert_int_eq(holder, -1);
	ck_assert_ptr_nonnull(strstr(err->message, s->path));
	g_clear_error(&err);

	ck_assert(vs_pidfile_write(first, 4242, &err));
	ck_assert_ptr_null(vs_pidfile_lock(s->path, &holder, &err));
	ck_assert(g_error_matches(err, VS_PIDFILE_ERROR, VS_PIDFILE_ERROR_HELD));
	ck_assert_int_eq(holder, 4242);
	g_clear_error(&err);
	/* the refusal changed nothing */
	g_autofree char *text = contents(s->path);
	ck_assert_str_eq(text, "4242\n");

	/* released: the next daemon takes it */
	vs_pidfile_remove(first);
	vs_pidfile *second = vs_pidfile_lock(s->path, &holder, &err);
	ck_assert_msg(second, "%s", err ? err->message : "?");
	ck_assert_int_eq(holder, -1);
	vs_pidfile_remove(second);
}
END_TEST

START_TEST(test_stale_file_taken_over)
{
	g_autoptr(scratch) s = scratch_new();
	g_autoptr(GError) err = NULL;
	pid_t holder = 0;

	/* left by a daemon killed with -9: a pid and no lock */
	ck_assert(g_file_set_contents(s->path, "31337\n", -1, NULL));
	vs_pidfile *f = vs_pidfile_lock(s->path, &holder, &err);
	ck_assert_msg(f, "%s", err ? err->message : "?");
	ck_assert_int_eq(holder, 31337);
	/* its pid is gone from the file until ours is written */
	g_autofree char *text = contents(s->path);
	ck_assert_str_eq(text, "");
	ck_assert(vs_pidfile_write(f, 4242, &err));
	g_free(text);
	text = contents(s->path);
	ck_assert_str_eq(text, "4242\n");
	vs_pidfile_remove(f);

	/* garbage in a stale file is no pid, and no obstacle */
	ck_assert(g_file_set_contents(s->path, "not a pid", -1, NULL));
	f = vs_pidfile_lock(s->path, &holder, &err);
	ck_assert(f);
	ck_assert_int_eq(holder, -1);
	vs_pidfile_remove(f);
}
END_TEST

START_TEST(test_links_and_non_files_refused)
{
	g_autoptr(scratch) s = scratch_new();
	g_autoptr(GError) err = NULL;
	g_autofree char *target = g_build_filename(s->dir, "target", NULL);
	g_autofree char *missing = g_build_filename(s->dir, "no-dir", "daemon.pid", NULL);
	pid_t holder = 0;

	ck_assert(g_file_set_contents(target, "keep\n", -1, NULL));
	ck_assert_int_eq(symlink(target, s->path), 0);
	ck_assert_ptr_null(vs_pidfile_lock(s->path, &holder, &err));
	ck_assert(g_error_matches(err, VS_PIDFILE_ERROR, VS_PIDFILE_ERROR_IO));
	g_clear_error(&err);
	g_autofree char *text = contents(target);
	ck_assert_str_eq(text, "keep\n");
	g_unlink(s->path);

	ck_assert_int_eq(g_mkdir(s->path, 0755), 0);
	ck_assert_ptr_null(vs_pidfile_lock(s->path, &holder, &err));
	ck_assert(g_error_matches(err, VS_PIDFILE_ERROR, VS_PIDFILE_ERROR_IO));
	ck_assert_ptr_nonnull(strstr(err->message, s->path));
	g_clear_error(&err);

	ck_assert_ptr_null(vs_pidfile_lock(missing, &holder, &err));
	ck_assert(g_error_matches(err, VS_PIDFILE_ERROR, VS_PIDFILE_ERROR_IO));
}
END_TEST

Suite *vs_test_suite(void)
{
	Suite *s = suite_create("pidfile");
	TCase *tc = tcase_create("pidfile");

	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_lock_write_remove);
	tcase_add_test(tc, test_second_lock_refused);
	tcase_add_test(tc, test_stale_file_taken_over);
	tcase_add_test(tc, test_links_and_non_files_refused);
	suite_add_tcase(s, tc);
	return s;
}
