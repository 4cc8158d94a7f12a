/*
 * test-collectd-names.c - the collectd plugin_instance of each host: a
 * [host NAME] as it is, a URI made an identifier, never two alike.
 */
#include "config.h"

#include "vsc-names.h"

#include "testutil.h"

#include <string.h>

static GPtrArray *instances(const char *const *names, size_t n)
{
	return vsc_host_instances(names, n);
}

START_TEST(names_kept_uris_sanitized)
{
	const char *const names[] = {"hv-a", "qemu:///system", "qemu+tcp://127.0.0.1:16510/system",
	                             "test:///default", "Host_B2"};
	g_autoptr(GPtrArray) out = instances(names, G_N_ELEMENTS(names));

	ck_assert_uint_eq(out->len, 5);
	ck_assert_str_eq(out->pdata[0], "hv-a");
	ck_assert_str_eq(out->pdata[1], "qemu_system");
	ck_assert_str_eq(out->pdata[2], "qemu_tcp_127_0_0_1_16510_system");
	ck_assert_str_eq(out->pdata[3], "test_default");
	ck_assert_str_eq(out->pdata[4], "Host_B2");
	for (guint i = 0; i < out->len; i++)
		ck_assert_ptr_null(strpbrk(out->pdata[i], "/:+. "));
}
END_TEST

START_TEST(never_two_alike)
{
	/* two URIs that differ only in characters that are replaced, and a
	 * name that looks like the suffixed one */
	const char *const names[] = {"qemu+ssh://h/system", "qemu+ssh://h:/system",
	                             "qemu_ssh_h_system_2", "qemu+ssh://h//system"};
	g_autoptr(GPtrArray) out = instances(names, G_N_ELEMENTS(names));

	ck_assert_str_eq(out->pdata[0], "qemu_ssh_h_system");
	ck_assert_str_eq(out->pdata[1], "qemu_ssh_h_system_2");
	ck_assert_str_eq(out->pdata[2], "qemu_ssh_h_system_2_3");
	ck_assert_str_eq(out->pdata[3], "qemu_ssh_h_system_4");
	for (guint i = 0; i < out->len; i++)
		for (guint j = i + 1; j < out->len; j++)
			ck_assert_str_ne(out->pdata[i], out->pdata[j]);
}
END_TEST

START_TEST(empty_and_long)
{
	g_autofree char *longname = g_strnfill(300, 'x');
	const char *const names[] = {"://", "", longname, longname};
	g_autoptr(GPtrArray) out = instances(names, G_N_ELEMENTS(names));

	ck_assert_str_eq(out->pdata[0], "host");
	ck_assert_str_eq(out->pdata[1], "host_2");
	ck_assert_uint_eq(strlen(out->pdata[2]), VSC_INSTANCE_MAX);
	ck_assert_uint_eq(strlen(out->pdata[3]), VSC_INSTANCE_MAX);
	ck_assert(g_str_has_suffix(out->pdata[3], "_4"));
}
END_TEST

Suite *vs_test_suite(void)
{
	Suite *s = suite_create("collectd-names");
	TCase *tc = tcase_create("hosts");

	tcase_add_test(tc, names_kept_uris_sanitized);
	tcase_add_test(tc, never_two_alike);
	tcase_add_test(tc, empty_and_long);
	suite_add_tcase(s, tc);
	return s;
}
