/*
 * test-usage-store.c - the usage state file (lib/vs-usage-store.c): saved
 * and read back by the next run of the program, a torn or corrupt file
 * moved aside and the last good copy used and written back, and counters
 * from zero (with the time of it) when nothing is usable.
 */
#include "config.h"

#include "vs-usage-store.h"

#include "testutil.h"

#include <glib/gstdio.h>
#include <libvirt/libvirt.h>
#include <string.h>

#define UUID1 "11111111-2222-3333-4444-000000000001"

static char *dir;

static void setup(void)
{
	dir = g_dir_make_tmp("vs-usage-XXXXXX", NULL);
	ck_assert_ptr_nonnull(dir);
}

static void teardown(void)
{
	const char *names[] = {"u.state", "u.state.prev", "u.state.corrupt"};

	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		g_autofree char *p = g_build_filename(dir, names[i], NULL);
		g_unlink(p);
	}
	g_rmdir(dir);
	g_free(dir);
}

static vs_config *config(void)
{
	return vs_test_config("[pool web]\ntemplate = web-template\nname_pattern = web-%02d\n"
	                      "max = 3\n");
}

/* Two snapshots one second apart with web-01 running: 1 instance-second. */
static void run_one_second(vs_usage_store *st, int64_t base_us)
{
	for (int i = 0; i < 2; i++) {
		g_autoptr(vs_snapshot) s = vs_snapshot_new();

		s->taken_mono_us = base_us + i * G_USEC_PER_SEC;
		s->taken_real_us = s->taken_mono_us;
		vs_test_snapshot_host(s, VS_TEST_HOST, VS_HOST_CONNECTED, 3);
		vs_domain_stats *d = vs_test_snapshot_domain(s, VS_TEST_HOST, "web-01",
		                                             VIR_DOMAIN_RUNNING, -1, "web", NULL);
		g_strlcpy(d->uuid_str, UUID1, sizeof(d->uuid_str));
		vs_usage_store_offer(st, s);
	}
}

static uint64_t instance_us(vs_usage_store *st)
{
	g_autoptr(vs_usage) u = vs_usage_store_copy(st);
	const vs_usage_counters *c = vs_usage_pool(u, "web");

	return c ? c->v[VS_USAGE_INSTANCE] : 0;
}

START_TEST(test_saved_and_read_back)
{
	g_autoptr(vs_config) cfg = config();
	g_autofree char *path = g_build_filename(dir, "u.state", NULL);
	vs_usage_store *st = vs_usage_store_open(cfg, path);

	run_one_second(st, 1000 * G_USEC_PER_SEC);
	ck_assert_uint_eq(instance_us(st), G_USEC_PER_SEC);
	vs_usage_store_close(st); /* saves */
	st = vs_usage_store_open(cfg, path);
	ck_assert_uint_eq(instance_us(st), G_USEC_PER_SEC);
	run_one_second(st, 2000 * G_USEC_PER_SEC);
	vs_usage_store_close(st);
	st = vs_usage_store_open(cfg, path);
	ck_assert_uint_eq(instance_us(st), 2 * G_USEC_PER_SEC);
	vs_usage_store_close(st);
	/* the copy before the last save is kept */
	g_autofree char *prev = g_strconcat(path, ".prev", NULL);
	bool used_prev;
	g_autoptr(vs_usage) p = vs_usage_load_file(prev, &used_prev, NULL);
	ck_assert_ptr_nonnull(p);
}
END_TEST

START_TEST(test_corrupt_file_repaired_from_last_good_copy)
{
	g_autoptr(vs_config) cfg = config();
	g_autofree char *path = g_build_filename(dir, "u.state", NULL);
	g_autofree char *aside = g_strconcat(path, ".corrupt", NULL);
	vs_usage_store *st = vs_usage_store_open(cfg, path);

	run_one_second(st, 1000 * G_USEC_PER_SEC);
	ck_assert(vs_usage_store_save(st, NULL)); /* 1 s */
	run_one_second(st, 2000 * G_USEC_PER_SEC);
	vs_usage_store_close(st); /* 2 s; .prev holds 1 s */

	/* torn: the last half of the file lost */
	g_autofree char *text = NULL;
	gsize len;
	ck_assert(g_file_get_contents(path, &text, &len, NULL));
	ck_assert(g_file_set_contents(path, text, (gssize)len / 2, NULL));
	st = vs_usage_store_open(cfg, path);
	ck_assert_uint_eq(instance_us(st), G_USEC_PER_SEC);
	ck_assert(g_file_test(aside, G_FILE_TEST_EXISTS));
	vs_usage_store_close(st);
	/* written back whole */
	bool used_prev;
	g_autoptr(vs_usage) u = vs_usage_load_file(path, &used_prev, NULL);
	ck_assert_ptr_nonnull(u);
	ck_assert(!used_prev);
}
END_TEST

START_TEST(test_nothing_usable_starts_from_zero)
{
	g_autoptr(vs_config) cfg = config();
	g_autofree char *path = g_build_filename(dir, "u.state", NULL);
	int64_t before = g_get_real_time();

	ck_assert(g_file_set_contents(path, "virtscale-usage 1\npool web 1 2", -1, NULL));
	vs_usage_store *st = vs_usage_store_open(cfg, path);
	g_autoptr(vs_usage) u = vs_usage_store_copy(st);

	ck_assert_uint_eq(instance_us(st), 0);
	ck_assert_int_ge(u->discontinuity_us, before);
	vs_usage_store_close(st);
}
END_TEST

START_TEST(test_saver_thread_saves)
{
	g_autoptr(vs_config) cfg = config();
	g_autofree char *path = g_build_filename(dir, "u.state", NULL);
	vs_usage_store *st = vs_usage_store_open(cfg, path);

	run_one_second(st, 1000 * G_USEC_PER_SEC);
	vs_usage_store_start(st, 1);
	for (int i = 0; i < 40 && !g_file_test(path, G_FILE_TEST_EXISTS); i++)
		g_usleep(100000);
	ck_assert(g_file_test(path, G_FILE_TEST_EXISTS));
	vs_usage_store_close(st);
}
END_TEST

Suite *vs_test_suite(void)
{
	Suite *s = suite_create("usage-store");
	TCase *tc = tcase_create("usage-store");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_saved_and_read_back);
	tcase_add_test(tc, test_corrupt_file_repaired_from_last_good_copy);
	tcase_add_test(tc, test_nothing_usable_starts_from_zero);
	tcase_add_test(tc, test_saver_thread_saves);
	suite_add_tcase(s, tc);
	return s;
}
