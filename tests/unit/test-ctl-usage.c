/*
 * test-ctl-usage.c - `virtscalectl usage --since T` (actuator/cli/ctl-usage.c):
 * seconds since the epoch, ISO 8601 with a zone, or a time back from now;
 * anything else refused.
 */
#include "config.h"

#include "ctl-usage.h"

#include "testutil.h"

#define NOW G_GINT64_CONSTANT(1800000000)

START_TEST(test_since_forms)
{
	int64_t t = -1;

	ck_assert(vs_ctl_usage_parse_since("1700000000", NOW, &t));
	ck_assert_int_eq(t, 1700000000);
	ck_assert(vs_ctl_usage_parse_since("90m", NOW, &t));
	ck_assert_int_eq(t, NOW - 5400);
	ck_assert(vs_ctl_usage_parse_since("24h", NOW, &t));
	ck_assert_int_eq(t, NOW - 86400);
	ck_assert(vs_ctl_usage_parse_since("7d", NOW, &t));
	ck_assert_int_eq(t, NOW - 7 * 86400);
	ck_assert(vs_ctl_usage_parse_since("30s", NOW, &t));
	ck_assert_int_eq(t, NOW - 30);
	ck_assert(vs_ctl_usage_parse_since("2026-12-01T00:00:00Z", NOW, &t));
	ck_assert_int_eq(t, 1796083200);
	ck_assert(vs_ctl_usage_parse_since("2026-12-01T01:00:00+01:00", NOW, &t));
	ck_assert_int_eq(t, 1796083200);
}
END_TEST

START_TEST(test_since_refused)
{
	static const char *const bad[] = {"",
	                                  "h",
	                                  "-1",
	                                  "-3h",
	                                  "3w",
	                                  "yesterday",
	                                  "1.5h",
	                                  "2026-12-01",
	                                  "12h ",
	                                  " 12h",
	                                  "99999999999999999999d"};
	int64_t t = 42;

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		ck_assert_msg(!vs_ctl_usage_parse_since(bad[i], NOW, &t), "'%s' taken", bad[i]);
		ck_assert_int_eq(t, 42);
	}
}
END_TEST

Suite *vs_test_suite(void)
{
	Suite *s = suite_create("ctl-usage");
	TCase *tc = tcase_create("ctl-usage");

	tcase_add_test(tc, test_since_forms);
	tcase_add_test(tc, test_since_refused);
	suite_add_tcase(s, tc);
	return s;
}
