/*
 * test-rebalance.c - lib/vs-rebalance.c: a hot host gives the instance
 * whose move evens the load best to the best-placed cool host, only after
 * M of N samples, never a move that does not bring the loads closer (no
 * ping-pong), not while a host migrates, not during the cooldown, and
 * not at all with rebalance = off.
 */
#include "config.h"

#include "vs-rebalance.h"

#include "testutil.h"

#include <string.h>

#define HOST_A "qemu:///system"
#define HOST_B "qemu+tcp://127.0.0.1:16510/system"
#define HOST_C "qemu+tcp://127.0.0.1:16511/system"
#define HOSTS                                                                                      \
	"[host a]\nuri = " HOST_A "\n"                                                             \
	"[host b]\nuri = " HOST_B "\nhostfwd_address = 127.0.0.2\n"                                \
	"[host c]\nuri = " HOST_C "\nhostfwd_address = 127.0.0.3\n"                                \
	"[pool web]\ntemplate = web-template\nname_pattern = web-%02d\n"                           \
	"host_cpu_high = 60\nhost_cpu_low = 20\ndebounce = 2/3\n"

/* A host whose guests keep @load percent of its CPUs busy. */
static vs_placement_host host(const char *uri, double load, unsigned running)
{
	return (vs_placement_host){.uri = uri,
	                           .answers = true,
	                           .running = running,
	                           .cpu_idle = 1.0 - load / 100.0,
	                           .mem_free = 0.5,
	                           .rtt_ms = 1};
}

#define S (G_USEC_PER_SEC)

static const vs_pool_config *pool_of(vs_config *c)
{
	return vs_config_find_pool(c, "web");
}

/* A at 90% with members of 45, 30 and 15; B at 5%: after 2 of 3 samples
 * the 45% member goes (45 and 50 after: closer than 60/35 or 75/20). */
START_TEST(hot_to_cool_evens_best)
{
	g_autoptr(vs_config) c =
	    vs_test_config(HOSTS "hosts = a b\nrebalance = on\nrebalance_cooldown = 30\n");
	const vs_pool_config *p = pool_of(c);
	vs_rebalance_state *st = vs_rebalance_state_new(p, 2);
	vs_placement_host h[2] = {host(HOST_A, 90, 3), host(HOST_B, 5, 1)};
	vs_rebalance_member mb[] = {
	    {"web-01", 0, 45}, {"web-02", 0, 30}, {"web-03", 0, 15}, {"web-04", 1, 5}};
	vs_rebalance_move mv;

	/* one sample is not 2 of 3; forgotten samples do not count */
	vs_rebalance_push(p, st, h);
	ck_assert(!vs_rebalance_decide(p, st, h, NULL, mb, 4, 0, &mv));
	vs_rebalance_push(p, st, h);
	vs_rebalance_forget(st);
	vs_rebalance_push(p, st, h);
	ck_assert(!vs_rebalance_decide(p, st, h, NULL, mb, 4, 0, &mv));
	vs_rebalance_push(p, st, h);
	ck_assert(vs_rebalance_decide(p, st, h, NULL, mb, 4, 0, &mv));
	ck_assert_int_eq(mv.from, 0);
	ck_assert_int_eq(mv.to, 1);
	ck_assert_str_eq(mb[mv.member].name, "web-01");
	ck_assert_double_eq_tol(mv.from_after, 45, 1e-9);
	ck_assert_double_eq_tol(mv.to_after, 50, 1e-9);

	/* moved: nothing during the cooldown, and the windows start again */
	vs_rebalance_moved(p, st, 0);
	vs_rebalance_push(p, st, h);
	vs_rebalance_push(p, st, h);
	ck_assert(!vs_rebalance_decide(p, st, h, NULL, mb, 4, 29 * S, &mv));
	ck_assert(vs_rebalance_decide(p, st, h, NULL, mb, 4, 30 * S, &mv));
	vs_rebalance_state_free(st);
}
END_TEST

/* After the move the load is even (50/50): neither host is hot or cool, no
 * move either way however long it lasts. */
START_TEST(no_ping_pong)
{
	g_autoptr(vs_config) c =
	    vs_test_config(HOSTS "hosts = a b\nrebalance = on\nrebalance_cooldown = 0\n");
	const vs_pool_config *p = pool_of(c);
	vs_rebalance_state *st = vs_rebalance_state_new(p, 2);
	vs_placement_host h[2] = {host(HOST_A, 50, 1), host(HOST_B, 50, 1)};
	vs_rebalance_member mb[] = {{"web-01", 0, 50}, {"web-02", 1, 50}};
	vs_rebalance_move mv;

	for (int i = 0; i < 20; i++) {
		vs_rebalance_push(p, st, h);
		ck_assert(!vs_rebalance_decide(p, st, h, NULL, mb, 2, i * S, &mv));
	}
	/* A hot with one big member and B cool: moving it would only swap
	 * the roles (95/2 -> 2/95), so it stays */
	h[0] = host(HOST_A, 95, 1);
	h[1] = host(HOST_B, 2, 1);
	mb[0].cpu = 93;
	mb[1].cpu = 2;
	for (int i = 0; i < 5; i++) {
		vs_rebalance_push(p, st, h);
		ck_assert(!vs_rebalance_decide(p, st, h, NULL, mb, 2, 100 * S, &mv));
	}
	vs_rebalance_state_free(st);
}
END_TEST

/* A move that brings the loads closer even past equality is made (90/5,
 * one member of 60: 30/65); the way back (65 -> 30 with 60) is not. */
START_TEST(closer_past_equality_not_back)
{
	g_autoptr(vs_config) c =
	    vs_test_config(HOSTS "hosts = a b\nrebalance = on\nrebalance_cooldown = 0\n");
	const vs_pool_config *p = pool_of(c);
	vs_rebalance_state *st = vs_rebalance_state_new(p, 2);
	vs_placement_host h[2] = {host(HOST_A, 90, 2), host(HOST_B, 5, 0)};
	vs_rebalance_member mb[] = {{"web-01", 0, 60}, {"web-02", 0, 30}};
	vs_rebalance_move mv;

	vs_rebalance_push(p, st, h);
	vs_rebalance_push(p, st, h);
	ck_assert(vs_rebalance_decide(p, st, h, NULL, mb, 2, 0, &mv));
	/* 60 leaves 30/65 (gap 35), 30 leaves 60/35 (gap 25): the 30 one */
	ck_assert_str_eq(mb[mv.member].name, "web-02");
	vs_rebalance_moved(p, st, 0);
	/* had the 60 one gone: B 65 hot, A 30 cool with its 30 member */
	h[0] = host(HOST_A, 5, 1);
	h[1] = host(HOST_B, 65, 1);
	mb[0].host = 1;
	mb[0].cpu = 60;
	mb[1].cpu = 5;
	for (int i = 0; i < 3; i++)
		vs_rebalance_push(p, st, h);
	/* 65 -> 5 with 60: 5/65, no closer */
	ck_assert(!vs_rebalance_decide(p, st, h, NULL, mb, 2, 0, &mv));
	vs_rebalance_state_free(st);
}
END_TEST

/* Hot but no cool host (B at 40%): nothing; a member of unknown CPU is
 * never chosen; a host that does not answer is neither. */
START_TEST(needs_a_cool_host)
{
	g_autoptr(vs_config) c = vs_test_config(HOSTS "hosts = a b\nrebalance = on\n");
	const vs_pool_config *p = pool_of(c);
	vs_rebalance_state *st = vs_rebalance_state_new(p, 2);
	vs_placement_host h[2] = {host(HOST_A, 90, 2), host(HOST_B, 40, 1)};
	vs_rebalance_member mb[] = {{"web-01", 0, 45}, {"web-02", 0, -1}};
	vs_rebalance_move mv;

	for (int i = 0; i < 3; i++)
		vs_rebalance_push(p, st, h);
	ck_assert(!vs_rebalance_decide(p, st, h, NULL, mb, 2, 0, &mv));
	h[1] = host(HOST_B, 5, 1);
	for (int i = 0; i < 3; i++)
		vs_rebalance_push(p, st, h);
	ck_assert(vs_rebalance_decide(p, st, h, NULL, mb, 2, 0, &mv));
	ck_assert_str_eq(mb[mv.member].name, "web-01");
	mb[0].cpu = -1;
	ck_assert(!vs_rebalance_decide(p, st, h, NULL, mb, 2, 0, &mv));
	mb[0].cpu = 45;
	h[1].answers = false;
	ck_assert(!vs_rebalance_decide(p, st, h, NULL, mb, 2, 0, &mv));
	vs_rebalance_state_free(st);
}
END_TEST

/* Two cool hosts: placement = weighted takes the best score (C has more
 * free memory); a host with a migration under way is skipped, as a
 * source too. */
START_TEST(best_scored_destination_one_migration_per_host)
{
	g_autoptr(vs_config) c =
	    vs_test_config(HOSTS "hosts = a b c\nrebalance = on\nplacement = weighted\n");
	const vs_pool_config *p = pool_of(c);
	vs_rebalance_state *st = vs_rebalance_state_new(p, 3);
	vs_placement_host h[3] = {host(HOST_A, 90, 2), host(HOST_B, 5, 1), host(HOST_C, 5, 1)};
	vs_rebalance_member mb[] = {{"web-01", 0, 45}, {"web-02", 0, 45}};
	bool migrating[3] = {false, false, false};
	vs_rebalance_move mv;

	h[2].mem_free = 0.9;
	vs_rebalance_push(p, st, h);
	vs_rebalance_push(p, st, h);
	ck_assert(vs_rebalance_decide(p, st, h, migrating, mb, 2, 0, &mv));
	ck_assert_int_eq(mv.to, 2);
	ck_assert(h[2].score > h[1].score);
	migrating[2] = true;
	ck_assert(vs_rebalance_decide(p, st, h, migrating, mb, 2, 0, &mv));
	ck_assert_int_eq(mv.to, 1);
	migrating[0] = true;
	ck_assert(!vs_rebalance_decide(p, st, h, migrating, mb, 2, 0, &mv));
	vs_rebalance_state_free(st);
}
END_TEST

/* rebalance = off decides nothing; dry-run decides as on (the caller only
 * reports); host_cpu_low must be below host_cpu_high. */
START_TEST(modes_and_keys)
{
	g_autoptr(vs_config) off = vs_test_config(HOSTS "hosts = a b\n");
	g_autoptr(vs_config) dry = vs_test_config(HOSTS "hosts = a b\nrebalance = dry-run\n");
	vs_placement_host h[2] = {host(HOST_A, 90, 2), host(HOST_B, 5, 1)};
	vs_rebalance_member mb[] = {{"web-01", 0, 45}};
	vs_rebalance_move mv;
	vs_rebalance_state *st = vs_rebalance_state_new(pool_of(off), 2);

	ck_assert_int_eq(pool_of(off)->rebalance, VS_REBALANCE_OFF);
	ck_assert_int_eq(pool_of(dry)->rebalance, VS_REBALANCE_DRY_RUN);
	for (int i = 0; i < 3; i++)
		vs_rebalance_push(pool_of(off), st, h);
	ck_assert(!vs_rebalance_decide(pool_of(off), st, h, NULL, mb, 1, 0, &mv));
	ck_assert(vs_rebalance_decide(pool_of(dry), st, h, NULL, mb, 1, 0, &mv));
	vs_rebalance_state_free(st);

	g_autoptr(GError) err = NULL;
	const char *text = "[pool web]\ntemplate = t\nname_pattern = w-%d\nhost_cpu_low = "
	                   "50\nhost_cpu_high = 40\n";
	g_autoptr(vs_config) bad = vs_config_load_from_data(text, strlen(text), "t.conf", &err);
	ck_assert_ptr_null(bad);
	ck_assert_ptr_nonnull(strstr(err->message, "host_cpu_low"));
}
END_TEST

Suite *vs_test_suite(void)
{
	Suite *s = suite_create("rebalance");
	TCase *tc = tcase_create("rebalance");

	tcase_add_test(tc, hot_to_cool_evens_best);
	tcase_add_test(tc, no_ping_pong);
	tcase_add_test(tc, closer_past_equality_not_back);
	tcase_add_test(tc, needs_a_cool_host);
	tcase_add_test(tc, best_scored_destination_one_migration_per_host);
	tcase_add_test(tc, modes_and_keys);
	suite_add_tcase(s, tc);
	return s;
}
