/*
 * test-placement.c - lib/vs-placement.c and the pool view's host rules: the
 * Luban paper's two hosts (new instances on the host with the fewest, ties
 * to host B; at most three per host; at least one per host; scale in on
 * the host with the most), the Xen paper's weighted score, and when a host
 * that stopped answering is lost.
 */
#include "config.h"

#include "vs-placement.h"
#include "vs-pool-eval.h"
#include "vs-pool.h"

#include "testutil.h"

#include <libvirt/libvirt.h>

#define HOST_A "qemu:///system"
#define HOST_B "qemu+tcp://127.0.0.1:16510/system"
#define TWO_HOSTS                                                                                  \
	"[host a]\nuri = " HOST_A "\n"                                                             \
	"[host b]\nuri = " HOST_B "\nhostfwd_address = 127.0.0.2\n"                                \
	"[pool web]\ntemplate = web-template\nname_pattern = web-%02d\n"

static vs_placement_host host(const char *uri, unsigned running)
{
	return (vs_placement_host){.uri = uri,
	                           .answers = true,
	                           .running = running,
	                           .cpu_idle = -1,
	                           .mem_free = -1,
	                           .rtt_ms = -1};
}

/* Seed 001: placement by fewest instances, ties to host B, three per host
 * at most; the pool goes 2 -> 6 alternating hosts. */
START_TEST(fewest_alternates_ties_to_b)
{
	g_autoptr(vs_config) c =
	    vs_test_config(TWO_HOSTS "hosts = b a\nmin = 2\nmax = 6\nhost_max = 3\nhost_min = 1\n");
	const vs_pool_config *pool = vs_config_find_pool(c, "web");
	/* in the pool's order: b first */
	vs_placement_host h[2] = {host(HOST_B, 0), host(HOST_A, 0)};
	const char *expect[] = {HOST_B, HOST_A, HOST_B, HOST_A, HOST_B, HOST_A};

	for (size_t k = 0; k < G_N_ELEMENTS(expect); k++) {
		int i = vs_placement_pick(pool, h, 2);

		ck_assert_int_ge(i, 0);
		ck_assert_str_eq(h[i].uri, expect[k]);
		h[i].running++;
	}
	/* both at host_max = 3: no room anywhere */
	ck_assert_int_eq(vs_placement_pick(pool, h, 2), -1);
	/* a host that does not answer is skipped, whatever its count */
	h[0].running = 0;
	h[0].answers = false;
	h[1].running = 2;
	ck_assert_str_eq(h[vs_placement_pick(pool, h, 2)].uri, HOST_A);
}
END_TEST

/* A host below host_min comes first, even under weighted, where its score
 * is worse. */
START_TEST(host_min_first)
{
	g_autoptr(vs_config) c = vs_test_config(TWO_HOSTS "placement = weighted\nhost_min = 1\n");
	const vs_pool_config *pool = vs_config_find_pool(c, "web");
	vs_placement_host h[2] = {host(HOST_A, 3), host(HOST_B, 0)};

	h[0].cpu_idle = 0.9, h[0].mem_free = 0.9, h[0].rtt_ms = 0.1;
	h[1].cpu_idle = 0.1, h[1].mem_free = 0.1, h[1].rtt_ms = 5;
	ck_assert_str_eq(h[vs_placement_pick(pool, h, 2)].uri, HOST_B);
	h[1].running = 1; /* at host_min: the score decides */
	ck_assert_str_eq(h[vs_placement_pick(pool, h, 2)].uri, HOST_A);
}
END_TEST

/* Seed 003: the weighted score of CPU idle, free memory and RTT; a busy
 * host loses, unknown figures score 0, ties go to the first host. */
START_TEST(weighted_score)
{
	g_autoptr(vs_config) c = vs_test_config(TWO_HOSTS "placement = weighted\n");
	const vs_pool_config *pool = vs_config_find_pool(c, "web");
	vs_placement_host h[2] = {host(HOST_A, 0), host(HOST_B, 4)};

	/* A busy (10% idle), B idle: B wins although it has more instances */
	h[0].cpu_idle = 0.10, h[0].mem_free = 0.5, h[0].rtt_ms = 0.2;
	h[1].cpu_idle = 0.95, h[1].mem_free = 0.5, h[1].rtt_ms = 0.4;
	ck_assert_str_eq(h[vs_placement_pick(pool, h, 2)].uri, HOST_B);
	/* 0.4 * 0.10 + 0.4 * 0.5 + 0.2 * 1 and 0.4 * 0.95 + 0.4 * 0.5 + 0.2 * 0.5 */
	ck_assert_double_eq_tol(h[0].score, 0.44, 1e-9);
	ck_assert_double_eq_tol(h[1].score, 0.68, 1e-9);
	/* equal figures: the first host */
	h[1] = h[0];
	h[1].uri = HOST_B;
	ck_assert_str_eq(h[vs_placement_pick(pool, h, 2)].uri, HOST_A);
	/* nothing measured yet on A: its score is 0 */
	h[0].cpu_idle = h[0].mem_free = h[0].rtt_ms = -1;
	ck_assert_str_eq(h[vs_placement_pick(pool, h, 2)].uri, HOST_B);
	ck_assert_double_eq_tol(h[0].score, 0, 1e-12);
}
END_TEST

START_TEST(weights_from_config)
{
	g_autoptr(vs_config) c =
	    vs_test_config(TWO_HOSTS "placement = weighted\nplacement_cpu_weight = 0\n"
	                             "placement_memory_weight = 1\nplacement_rtt_weight = 0\n");
	const vs_pool_config *pool = vs_config_find_pool(c, "web");
	vs_placement_host h[2] = {host(HOST_A, 0), host(HOST_B, 0)};

	/* only memory counts: A has more free memory, B more idle CPU */
	h[0].cpu_idle = 0.1, h[0].mem_free = 0.8;
	h[1].cpu_idle = 0.9, h[1].mem_free = 0.3;
	ck_assert_str_eq(h[vs_placement_pick(pool, h, 2)].uri, HOST_A);
}
END_TEST

/* Scale-in: from the host with the most, never below host_min; ties to
 * the host with the fewest sessions. */
START_TEST(scale_in_host)
{
	g_autoptr(vs_config) c = vs_test_config(TWO_HOSTS "host_min = 1\n");
	const vs_pool_config *pool = vs_config_find_pool(c, "web");
	vs_placement_host h[2] = {host(HOST_A, 3), host(HOST_B, 2)};

	ck_assert_int_eq(vs_placement_scale_in_host(pool, h, 2), 0);
	h[0].running = 2;
	h[0].sessions = 30;
	h[1].sessions = 10;
	ck_assert_int_eq(vs_placement_scale_in_host(pool, h, 2), 1);
	h[0].running = 1;
	h[1].running = 1;
	ck_assert_int_eq(vs_placement_scale_in_host(pool, h, 2), -1);
}
END_TEST

/* The pool view names the victim on that host (fewest sessions there),
 * and lost members neither run nor count. */
START_TEST(view_victim_on_the_fullest_host)
{
	g_autoptr(vs_config) c = vs_test_config(TWO_HOSTS "host_min = 1\n");
	const vs_pool_config *pool = vs_config_find_pool(c, "web");
	g_autoptr(vs_pool_view) v = vs_pool_view_new(pool);
	struct {
		const char *name, *uri;
		unsigned sessions;
	} members[] = {{"web-01", HOST_A, 5},
	               {"web-02", HOST_B, 1},
	               {"web-03", HOST_A, 9},
	               {"web-04", HOST_A, 7}};

	for (size_t i = 0; i < G_N_ELEMENTS(members); i++) {
		vs_member *m = vs_member_new(members[i].name, members[i].uri);

		m->state = VIR_DOMAIN_RUNNING;
		vs_pool_match_name(pool, m->name, &m->index);
		vs_pool_view_add(v, m);
	}
	vs_pool_view_aggregate(v);
	for (guint i = 0; i < v->members->len; i++)
		vs_pool_view_set_sessions(v, i, members[i].sessions);
	vs_pool_view_aggregate(v);
	/* A has three: of them the fewest sessions (web-01), not B's web-02 */
	ck_assert_str_eq(vs_pool_view_scale_in_host(v), HOST_A);
	ck_assert_str_eq(((vs_member *)v->members->pdata[vs_pool_view_victim(v)])->name, "web-01");

	/* web-03 and web-04 on a lost host: they do not run; A keeps its one */
	g_autoptr(vs_pool_view) w = vs_pool_view_new(pool);
	for (size_t i = 0; i < G_N_ELEMENTS(members); i++) {
		vs_member *m = vs_member_new(members[i].name, members[i].uri);

		m->state = VIR_DOMAIN_RUNNING;
		m->lost = i >= 2;
		vs_pool_match_name(pool, m->name, &m->index);
		vs_pool_view_add(w, m);
	}
	vs_pool_view_aggregate(w);
	ck_assert_uint_eq(w->n_running, 2);
	ck_assert_int_eq(vs_pool_view_victim(w), -1);
}
END_TEST

START_TEST(host_lost_after_grace)
{
	int64_t s = G_USEC_PER_SEC;

	ck_assert(!vs_host_lost(0, 1000 * s, 30));      /* it answers */
	ck_assert(!vs_host_lost(100 * s, 129 * s, 30)); /* inside the grace */
	ck_assert(vs_host_lost(100 * s, 130 * s, 30));
	ck_assert(vs_host_lost(100 * s, 500 * s, 30));
}
END_TEST

/* The monitors' snapshot: a lost host's domains are not running members,
 * and a lost host does not keep the pool from being evaluated. */
START_TEST(snapshot_lost_host)
{
	g_autoptr(vs_config) c = vs_test_config(TWO_HOSTS);
	const vs_pool_config *pool = vs_config_find_pool(c, "web");
	g_autoptr(vs_snapshot) snap = vs_snapshot_new();

	vs_test_snapshot_host(snap, HOST_A, VS_HOST_CONNECTED, 5);
	vs_test_snapshot_host(snap, HOST_B, VS_HOST_DISCONNECTED, 5);
	vs_test_snapshot_domain(snap, HOST_A, "web-01", VIR_DOMAIN_RUNNING, 10, "web",
	                        "127.0.0.1:18101");
	vs_test_snapshot_domain(snap, HOST_B, "web-02", VIR_DOMAIN_RUNNING, 10, "web",
	                        "127.0.0.2:18101");
	ck_assert(!vs_pool_hosts_ready(pool, snap)); /* B down, not lost yet */
	((vs_host_status *)snap->hosts->pdata[1])->lost = true;
	ck_assert(vs_pool_hosts_ready(pool, snap));
	g_autoptr(vs_pool_view) v = vs_pool_view_from_snapshot(pool, snap);
	ck_assert_uint_eq(v->members->len, 2);
	ck_assert_uint_eq(v->n_running, 1);
	ck_assert(((vs_member *)v->members->pdata[1])->lost);
}
END_TEST

Suite *vs_test_suite(void)
{
	Suite *s = suite_create("placement");
	TCase *tc = tcase_create("placement");

	tcase_add_test(tc, fewest_alternates_ties_to_b);
	tcase_add_test(tc, host_min_first);
	tcase_add_test(tc, weighted_score);
	tcase_add_test(tc, weights_from_config);
	tcase_add_test(tc, scale_in_host);
	tcase_add_test(tc, view_victim_on_the_fullest_host);
	tcase_add_test(tc, host_lost_after_grace);
	tcase_add_test(tc, snapshot_lost_host);
	suite_add_tcase(s, tc);
	return s;
}
