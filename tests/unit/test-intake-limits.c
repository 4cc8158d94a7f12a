/*
 * test-intake-limits.c - the intake's pure rules: the bound on warnings a
 * sender can cause (actuator/daemon/warn-limit.c) and who may talk on the
 * socket by its peer's credentials (actuator/daemon/intake-access.c).
 */
#include "config.h"

#include "intake-access.h"
#include "warn-limit.h"

#include "testutil.h"

#include <glib.h>

#define S G_USEC_PER_SEC

START_TEST(warnings_bounded_then_summed_up)
{
	vs_warn_limit l;
	unsigned logged = 0;

	vs_warn_limit_init(&l, 10, 10 * S);
	/* a flood of 5000 in one second: ten logged, the rest counted */
	for (int i = 0; i < 5000; i++)
		logged += vs_warn_limit_allow(&l, 100 * S + i * 200);
	ck_assert_uint_eq(logged, 10);
	ck_assert_uint_eq(l.total, 4990);
	/* the summary waits for the window's end, then comes once */
	ck_assert_uint_eq(vs_warn_limit_summary(&l, 105 * S), 0);
	ck_assert_uint_eq(vs_warn_limit_summary(&l, 110 * S + 1), 4990);
	ck_assert_uint_eq(vs_warn_limit_summary(&l, 111 * S), 0);
	/* a new window logs again */
	ck_assert(vs_warn_limit_allow(&l, 112 * S));
	ck_assert_uint_eq(l.total, 4990);
	/* without a summary, nothing is logged past the window either: the
	 * summary line always comes before the next warnings */
	for (int i = 0; i < 20; i++)
		vs_warn_limit_allow(&l, 113 * S);
	ck_assert(!vs_warn_limit_allow(&l, 200 * S));
	ck_assert_uint_eq(vs_warn_limit_summary(&l, 200 * S), 12); /* 11 + that one */
	ck_assert(vs_warn_limit_allow(&l, 200 * S));
}
END_TEST

static GArray *ids(int n, ...)
{
	GArray *a = g_array_new(FALSE, FALSE, sizeof(guint32));
	va_list ap;

	va_start(ap, n);
	for (int i = 0; i < n; i++) {
		guint32 v = va_arg(ap, guint32);

		g_array_append_val(a, v);
	}
	va_end(ap);
	return a;
}

START_TEST(peers_allowed_by_uid_gid_groups)
{
	vs_peer p = {.known = true, .pid = 42, .uid = 1000, .gid = 1000};
	g_autoptr(GArray) uids = ids(1, (guint32)998);
	g_autoptr(GArray) gids = ids(1, (guint32)997);
	g_autoptr(GArray) none = g_array_new(FALSE, FALSE, sizeof(guint32));
	char buf[96];

	/* no list: the socket's mode decides */
	ck_assert(vs_peer_allowed(&p, NULL, NULL, 0));
	ck_assert(vs_peer_allowed(&p, none, none, 0));
	/* a list: only who is on it, root, and the daemon's own user */
	ck_assert(!vs_peer_allowed(&p, uids, NULL, 0));
	ck_assert(!vs_peer_allowed(&p, uids, gids, 0));
	ck_assert(vs_peer_allowed(&p, uids, gids, 1000));
	p.uid = 998;
	ck_assert(vs_peer_allowed(&p, uids, NULL, 0));
	p.uid = 1000;
	p.gid = 997;
	ck_assert(vs_peer_allowed(&p, NULL, gids, 0));
	p.gid = 1000;
	p.groups[0] = 5;
	p.groups[1] = 997;
	p.n_groups = 2;
	ck_assert(vs_peer_allowed(&p, uids, gids, 0));
	p.n_groups = 1;
	ck_assert(!vs_peer_allowed(&p, uids, gids, 0));
	p.uid = 0;
	ck_assert(vs_peer_allowed(&p, uids, gids, 1234));
	/* credentials the kernel did not give: only without lists */
	vs_peer unknown = {0};
	ck_assert(vs_peer_allowed(&unknown, NULL, NULL, 0));
	ck_assert(!vs_peer_allowed(&unknown, uids, NULL, 0));
	ck_assert_str_eq(vs_peer_describe(&unknown, buf, sizeof(buf)), "credentials unknown");
	vs_peer q = {.known = true, .pid = 42, .uid = 65534, .gid = 65534};
	ck_assert_str_eq(vs_peer_describe(&q, buf, sizeof(buf)), "pid 42, uid 65534, gid 65534");
}
END_TEST

Suite *vs_test_suite(void)
{
	Suite *s = suite_create("intake-limits");
	TCase *tc = tcase_create("pure");

	tcase_add_test(tc, warnings_bounded_then_summed_up);
	tcase_add_test(tc, peers_allowed_by_uid_gid_groups);
	suite_add_tcase(s, tc);
	return s;
}
