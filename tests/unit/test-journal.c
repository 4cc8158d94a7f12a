/*
 * test-journal.c - the action journal read back after a crash or a full
 * disk (actuator/ops/journal-replay.c, journal.c): a torn tail (a record
 * cut short, NUL bytes, garbage) is cut at the last complete record so
 * the next record starts on its own line; a bad line never hides the
 * records after it; an append that fails half-way leaves no partial
 * record behind.
 */
#include "config.h"

#include "journal-replay.h"
#include "journal.h"
#include "testutil.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#define BEGIN_A                                                                                    \
	"{\"id\":1,\"op\":\"clone\",\"pool\":\"web\",\"name\":\"web-01\",\"uri\":\"qemu:///"       \
	"system\",\"vol_pool\":\"default\",\"address\":\"127.0.0.1:18101\",\"vols\":[\"web-01."    \
	"qcow2\"]}\n"
#define STEP_A "{\"id\":1,\"step\":\"defined\"}\n"
#define BEGIN_B                                                                                    \
	"{\"id\":2,\"op\":\"scale-in\",\"pool\":\"web\",\"name\":\"web-02\",\"uri\":\"qemu:///"    \
	"system\",\"vol_pool\":\"default\",\"vols\":[]}\n"
#define END_B "{\"id\":2,\"end\":\"ok\"}\n"

/* A state directory of its own with @data (@len bytes) as its journal. */
static char *dir_with_journal(const char *data, size_t len)
{
	char *dir = g_dir_make_tmp("vs-journal-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "journal", NULL);

	ck_assert_ptr_nonnull(dir);
	ck_assert(g_file_set_contents(path, data, (gssize)len, NULL));
	return dir;
}

static char *journal_text(const char *dir, gsize *len)
{
	g_autofree char *path = g_build_filename(dir, "journal", NULL);
	char *text = NULL;

	ck_assert(g_file_get_contents(path, &text, len, NULL));
	return text;
}

static void remove_dir(char *dir)
{
	g_autofree char *path = g_build_filename(dir, "journal", NULL);

	g_unlink(path);
	g_rmdir(dir);
	g_free(dir);
}

static vs_journal_replay replay(const char *data, size_t len)
{
	vs_journal_replay r = {.open = vs_journal_replay_table()};

	vs_journal_replay_data(&r, data, len);
	return r;
}

static const vs_journal_op *open_op(const vs_journal_replay *r, uint64_t id)
{
	return g_hash_table_lookup(r->open, &id);
}

START_TEST(replay_complete_records)
{
	const char text[] = BEGIN_A STEP_A BEGIN_B END_B;
	vs_journal_replay r = replay(text, strlen(text));

	ck_assert_uint_eq(r.records, 4);
	ck_assert_uint_eq(r.skipped, 0);
	ck_assert_uint_eq(r.good_len, strlen(text));
	ck_assert_uint_eq(g_hash_table_size(r.open), 1);
	ck_assert_str_eq(open_op(&r, 1)->step, "defined");
	ck_assert_str_eq(open_op(&r, 1)->vols[0], "web-01.qcow2");
	ck_assert_uint_eq(r.next_id, 3);
	g_hash_table_destroy(r.open);
}
END_TEST

/* A record cut short (a crash or ENOSPC during its write), even one whose
 * JSON happens to be whole but whose '\n' never made it, is not replayed:
 * its writer was never told it was durable. */
START_TEST(replay_torn_last_record_is_tail)
{
	const char *torn[] = {
	    BEGIN_A "{\"id\":2,\"op\":\"clo",
	    BEGIN_A "{\"id\":2,\"end\":\"ok\"}",
	    BEGIN_A "\n\n",
	};

	for (size_t i = 0; i < G_N_ELEMENTS(torn); i++) {
		vs_journal_replay r = replay(torn[i], strlen(torn[i]));

		ck_assert_uint_eq(r.good_len, strlen(BEGIN_A));
		ck_assert_uint_eq(r.records, 1);
		ck_assert_uint_eq(g_hash_table_size(r.open), 1);
		g_hash_table_destroy(r.open);
	}
}
END_TEST

/* NUL bytes: what some file systems leave where a crash lost a write. In
 * the tail they are cut; glued to a record before the fix they hid it,
 * now the line is judged alone and the records after it still count. */
START_TEST(replay_nul_bytes)
{
	char text[1024];
	size_t n = 0;

	memcpy(text + n, BEGIN_A, strlen(BEGIN_A));
	n += strlen(BEGIN_A);
	memset(text + n, 0, 100);
	n += 100;
	vs_journal_replay r = replay(text, n);
	ck_assert_uint_eq(r.good_len, strlen(BEGIN_A));
	g_hash_table_destroy(r.open);

	/* NULs then a newline, then a good record: one line skipped */
	text[n++] = '\n';
	memcpy(text + n, BEGIN_B, strlen(BEGIN_B));
	n += strlen(BEGIN_B);
	r = replay(text, n);
	ck_assert_uint_eq(r.good_len, n);
	ck_assert_uint_eq(r.skipped, 1);
	ck_assert_uint_eq(g_hash_table_size(r.open), 2);
	ck_assert_str_eq(open_op(&r, 2)->name, "web-02");
	g_hash_table_destroy(r.open);
}
END_TEST

/* Lines that are no record: skipped, counted, never acted on. */
START_TEST(replay_garbage_lines)
{
	const char text[] = "not json\n"
	                    "[1,2,3]\n"
	                    "{\"id\":\"7\",\"end\":\"ok\"}\n"
	                    "{\"id\":-4,\"op\":\"clone\",\"pool\":\"web\",\"name\":\"web-04\"}\n"
	                    "{\"id\":5,\"op\":\"clone\",\"pool\":\"web\",\"name\":\"a b;rm -rf\"}\n"
	                    "{\"id\":6,\"op\":\"clone\",\"pool\":\"web\"}\n"
	                    "{\"id\":8}\n"
	                    "\xff\xfe{\"id\":9,\"end\":\"ok\"}\n" BEGIN_A "trailing garbage\n";
	vs_journal_replay r = replay(text, strlen(text));

	ck_assert_uint_eq(r.records, 1);
	ck_assert_uint_eq(r.skipped, 8);
	ck_assert_uint_eq(r.good_len, strlen(text) - strlen("trailing garbage\n"));
	ck_assert_uint_eq(g_hash_table_size(r.open), 1);
	ck_assert_ptr_nonnull(open_op(&r, 1));
	g_hash_table_destroy(r.open);
}
END_TEST

/* Opening a journal cuts its torn tail: the next record is readable. */
START_TEST(open_cuts_torn_tail)
{
	char text[512];
	size_t n = strlen(BEGIN_A STEP_A);

	memcpy(text, BEGIN_A STEP_A, n);
	memcpy(text + n, "{\"id\":1,\"st", 11);
	memset(text + n + 11, 0, 64);
	g_autoptr(GError) err = NULL;
	char *dir = dir_with_journal(text, n + 11 + 64);
	vs_journal *j = vs_journal_open(dir, &err);
	gsize len = 0;

	ck_assert_msg(j != NULL, "%s", err ? err->message : "?");
	g_autofree char *after_open = journal_text(dir, &len);
	ck_assert_uint_eq(len, n);
	ck_assert(vs_journal_step(j, 1, "started", NULL));
	vs_journal_close(j);

	j = vs_journal_open(dir, &err);
	ck_assert_ptr_nonnull(j);
	g_autoptr(GPtrArray) pending = vs_journal_pending(j, NULL);
	ck_assert_uint_eq(pending->len, 1);
	ck_assert_str_eq(((vs_journal_op *)pending->pdata[0])->step, "started");
	g_autofree char *text2 = journal_text(dir, &len);
	ck_assert_str_eq(text2, BEGIN_A STEP_A "{\"id\":1,\"step\":\"started\"}\n");
	vs_journal_close(j);
	remove_dir(dir);
}
END_TEST

/* An append the file system refuses half-way (here: the file size limit,
 * EFBIG after a short write, as ENOSPC does on a full disk) fails and
 * leaves the file as it was: no partial record for the next one to be
 * glued to. */
START_TEST(append_failure_leaves_no_partial_record)
{
	g_autoptr(GError) err = NULL;
	char *dir = dir_with_journal(BEGIN_A, strlen(BEGIN_A));
	vs_journal *j = vs_journal_open(dir, &err);
	struct rlimit saved, small;
	gsize len = 0;

	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &saved), 0);
	signal(SIGXFSZ, SIG_IGN);
	small = saved;
	small.rlim_cur = strlen(BEGIN_A) + 10; /* 10 bytes of the next record fit */
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
	bool ok = vs_journal_step(j, 1, "a-step-name-longer-than-ten-bytes", &err);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &saved), 0);
	signal(SIGXFSZ, SIG_DFL);

	ck_assert(!ok);
	ck_assert_ptr_nonnull(err);
	ck_assert_ptr_nonnull(strstr(err->message, "journal"));
	g_autofree char *text = journal_text(dir, &len);
	ck_assert_str_eq(text, BEGIN_A);
	/* the step was not recorded in memory either */
	g_autoptr(GPtrArray) pending = vs_journal_pending(j, NULL);
	ck_assert_str_eq(((vs_journal_op *)pending->pdata[0])->step, "begin");
	/* and the next record is whole */
	ck_assert(vs_journal_step(j, 1, "defined", NULL));
	g_autofree char *text2 = journal_text(dir, &len);
	ck_assert_str_eq(text2, BEGIN_A STEP_A);
	vs_journal_close(j);
	remove_dir(dir);
}
END_TEST

/* A failed begin returns 0 and records nothing, in the file or in memory. */
START_TEST(begin_failure_records_nothing)
{
	g_autoptr(GError) err = NULL;
	char *dir = dir_with_journal("", 0);
	vs_journal *j = vs_journal_open(dir, &err);
	char *vols[] = {(char *)"web-01.qcow2", NULL};
	vs_journal_op op = {.op = (char *)"clone",
	                    .pool = (char *)"web",
	                    .name = (char *)"web-01",
	                    .uri = (char *)"qemu:///system",
	                    .vol_pool = (char *)"default",
	                    .vols = vols};
	struct rlimit saved, small;
	gsize len = 1;

	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &saved), 0);
	signal(SIGXFSZ, SIG_IGN);
	small = saved;
	small.rlim_cur = 20;
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
	uint64_t id = vs_journal_begin(j, &op, &err);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &saved), 0);
	signal(SIGXFSZ, SIG_DFL);

	ck_assert_uint_eq(id, 0);
	g_autofree char *text = journal_text(dir, &len);
	ck_assert_uint_eq(len, 0);
	g_autoptr(GPtrArray) pending = vs_journal_pending(j, NULL);
	ck_assert_uint_eq(pending->len, 0);
	vs_journal_close(j);
	remove_dir(dir);
}
END_TEST

/* An operation a running job holds open is no leftover: reconcile (run by
 * the pool's other worker) leaves it alone until its job releases it, and
 * the ones begun with no owner are settleable at once. A restart forgets
 * every owner: what a crashed job left open is settled. */
START_TEST(running_jobs_own_their_operations)
{
	g_autoptr(GError) err = NULL;
	char *dir = dir_with_journal("", 0);
	vs_journal *j = vs_journal_open(dir, &err);
	vs_journal_op op = {.op = (char *)"clone",
	                    .pool = (char *)"web",
	                    .name = (char *)"web-01",
	                    .uri = (char *)"qemu:///system"};
	uint64_t owner = vs_journal_owner_new(), other = vs_journal_owner_new();

	ck_assert_ptr_nonnull(j);
	ck_assert_uint_ne(owner, other);
	ck_assert_uint_ne(owner, 0);
	vs_journal_set_owner(owner);
	ck_assert_uint_eq(vs_journal_get_owner(), owner);
	uint64_t held = vs_journal_begin(j, &op, &err);
	vs_journal_set_owner(0);
	op.name = (char *)"web-02";
	uint64_t loose = vs_journal_begin(j, &op, &err);
	ck_assert_uint_ne(held, 0);
	ck_assert_uint_ne(loose, 0);

	g_autoptr(GPtrArray) all = vs_journal_pending(j, "web");
	ck_assert_uint_eq(all->len, 2);
	g_autoptr(GPtrArray) free_now = vs_journal_settleable(j, "web");
	ck_assert_uint_eq(free_now->len, 1);
	ck_assert_str_eq(((vs_journal_op *)free_now->pdata[0])->name, "web-02");

	vs_journal_release(j, other); /* not its: nothing changes */
	g_autoptr(GPtrArray) still = vs_journal_settleable(j, "web");
	ck_assert_uint_eq(still->len, 1);
	vs_journal_release(j, owner);
	g_autoptr(GPtrArray) released = vs_journal_settleable(j, "web");
	ck_assert_uint_eq(released->len, 2);

	vs_journal_set_owner(owner);
	op.name = (char *)"web-03";
	ck_assert_uint_ne(vs_journal_begin(j, &op, &err), 0);
	vs_journal_set_owner(0);
	vs_journal_close(j);
	j = vs_journal_open(dir, &err);
	ck_assert_ptr_nonnull(j);
	g_autoptr(GPtrArray) after_restart = vs_journal_settleable(j, "web");
	ck_assert_uint_eq(after_restart->len, 3);
	vs_journal_close(j);
	remove_dir(dir);
}
END_TEST

Suite *vs_test_suite(void)
{
	Suite *s = suite_create("journal");
	TCase *tc = tcase_create("replay");

	tcase_add_test(tc, replay_complete_records);
	tcase_add_test(tc, replay_torn_last_record_is_tail);
	tcase_add_test(tc, replay_nul_bytes);
	tcase_add_test(tc, replay_garbage_lines);
	tcase_add_test(tc, open_cuts_torn_tail);
	tcase_add_test(tc, append_failure_leaves_no_partial_record);
	tcase_add_test(tc, begin_failure_records_nothing);
	tcase_add_test(tc, running_jobs_own_their_operations);
	suite_add_tcase(s, tc);
	return s;
}
