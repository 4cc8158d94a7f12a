/*
 * test-migrate-path.c - the live migration's path by dirty rate
 * (actuator/ops/migrate-path.c): the bounds of the cache-assisted
 * migration scheme (10% and 50% of the guest's memory per second by
 * default), an unknown rate, the percentage itself.
 */
#include "config.h"

#include "migrate-path.h"

#include "testutil.h"

START_TEST(paths_by_rate)
{
	ck_assert_int_eq(vs_migrate_path_choose(0, 10, 50), VS_MIGRATE_PATH_PRECOPY);
	ck_assert_int_eq(vs_migrate_path_choose(9.99, 10, 50), VS_MIGRATE_PATH_PRECOPY);
	ck_assert_int_eq(vs_migrate_path_choose(10, 10, 50), VS_MIGRATE_PATH_XBZRLE);
	ck_assert_int_eq(vs_migrate_path_choose(50, 10, 50), VS_MIGRATE_PATH_XBZRLE);
	ck_assert_int_eq(vs_migrate_path_choose(50.01, 10, 50), VS_MIGRATE_PATH_POSTCOPY);
	ck_assert_int_eq(vs_migrate_path_choose(400, 10, 50), VS_MIGRATE_PATH_POSTCOPY);
	/* equal bounds: no middle band */
	ck_assert_int_eq(vs_migrate_path_choose(0, 0, 0), VS_MIGRATE_PATH_XBZRLE);
	ck_assert_int_eq(vs_migrate_path_choose(0.5, 0, 0), VS_MIGRATE_PATH_POSTCOPY);
}
END_TEST

START_TEST(unknown_rate_converges)
{
	ck_assert_int_eq(vs_migrate_path_choose(-1, 10, 50), VS_MIGRATE_PATH_XBZRLE);
	ck_assert(vs_migrate_dirty_percent(-1, 128) < 0);
	ck_assert(vs_migrate_dirty_percent(12, 0) < 0);
}
END_TEST

START_TEST(percent_of_memory)
{
	ck_assert_double_eq_tol(vs_migrate_dirty_percent(64, 128), 50.0, 1e-9);
	ck_assert_double_eq_tol(vs_migrate_dirty_percent(0, 512), 0.0, 1e-9);
	ck_assert_str_eq(vs_migrate_path_name(VS_MIGRATE_PATH_PRECOPY), "pre-copy");
	ck_assert_str_eq(vs_migrate_path_name(VS_MIGRATE_PATH_XBZRLE), "xbzrle");
	ck_assert_str_eq(vs_migrate_path_name(VS_MIGRATE_PATH_POSTCOPY), "post-copy");
}
END_TEST

Suite *vs_test_suite(void)
{
	Suite *s = suite_create("migrate-path");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, paths_by_rate);
	tcase_add_test(tc, unknown_rate_converges);
	tcase_add_test(tc, percent_of_memory);
	suite_add_tcase(s, tc);
	return s;
}
