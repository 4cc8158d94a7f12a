/*
 * test-pool.c - pool membership, endpoints and aggregation math of
 * lib/vs-pool.c, on snapshots built by hand.
 */
#include "config.h"

#include "vs-pool.h"

#include <check.h>
#include <libvirt/libvirt.h>
#include <stdlib.h>

static vs_pool_config web_pool(void)
{
	return (vs_pool_config){
	    .name = "web",
	    .template_name = "web-template",
	    .name_pattern = "web-%02d",
	    .min = 2,
	    .max = 6,
	    .session_capacity = 100,
	    .sessions = VS_SESSIONS_SOCKDIAG,
	};
}

static vs_domain_stats *add_domain(vs_snapshot *s, const char *name, int state, double cpu,
                                   const char *meta_pool, const char *meta_address)
{
	vs_domain_stats *d = vs_domain_stats_new();

	d->host_uri = g_strdup("qemu:///system");
	d->name = g_strdup(name);
	d->state = state;
	d->cpu_percent_of_vcpus = cpu;
	d->meta_pool = g_strdup(meta_pool);
	d->meta_address = g_strdup(meta_address);
	g_ptr_array_add(s->domains, d);
	return d;
}

START_TEST(member_names)
{
	vs_pool_config pool = web_pool();
	g_autofree char *n3 = vs_pool_member_name(&pool, 3);
	g_autofree char *n123 = vs_pool_member_name(&pool, 123);
	unsigned idx = 99;

	ck_assert_str_eq(n3, "web-03");
	ck_assert_str_eq(n123, "web-123");
	ck_assert(vs_pool_match_name(&pool, "web-03", &idx));
	ck_assert_uint_eq(idx, 3);
	ck_assert(vs_pool_match_name(&pool, "web-123", &idx));
	ck_assert_uint_eq(idx, 123);
	/* Only exactly what the pattern produces. */
	ck_assert(!vs_pool_match_name(&pool, "web-3", NULL));
	ck_assert(!vs_pool_match_name(&pool, "web-003", NULL));
	ck_assert(!vs_pool_match_name(&pool, "web-", NULL));
	ck_assert(!vs_pool_match_name(&pool, "web-0x", NULL));
	ck_assert(!vs_pool_match_name(&pool, "web-03b", NULL));
	ck_assert(!vs_pool_match_name(&pool, "xweb-03", NULL));
	ck_assert(!vs_pool_match_name(&pool, "web-template", NULL));
	ck_assert(!vs_pool_match_name(&pool, "web-99999999999", NULL));
	ck_assert(!vs_pool_match_name(&pool, NULL, NULL));

	pool.name_pattern = "app%d.local";
	g_autofree char *a7 = vs_pool_member_name(&pool, 7);
	ck_assert_str_eq(a7, "app7.local");
	ck_assert(vs_pool_match_name(&pool, "app12.local", &idx));
	ck_assert_uint_eq(idx, 12);
	ck_assert(!vs_pool_match_name(&pool, "app012.local", NULL));
	ck_assert(!vs_pool_match_name(&pool, "app12.locale", NULL));

	pool.name_pattern = NULL;
	ck_assert_ptr_null(vs_pool_member_name(&pool, 1));
	ck_assert(!vs_pool_match_name(&pool, "web-01", NULL));
}
END_TEST

START_TEST(membership)
{
	vs_pool_config pool = web_pool();
	g_autoptr(vs_snapshot) snap = vs_snapshot_new();
	g_autoptr(vs_pool_view) v = NULL;

	add_domain(snap, "web-template", VIR_DOMAIN_SHUTOFF, -1, NULL, NULL);
	add_domain(snap, "web-02", VIR_DOMAIN_RUNNING, 40, NULL, "127.0.0.1:18102");
	add_domain(snap, "web-01", VIR_DOMAIN_RUNNING, 20, NULL, "127.0.0.1:18101");
	/* Tagged for another pool: not ours, whatever its name. */
	add_domain(snap, "web-03", VIR_DOMAIN_RUNNING, 90, "api", "127.0.0.1:18103");
	/* Tagged for ours with an unrelated name. */
	add_domain(snap, "custom-backend", VIR_DOMAIN_RUNNING, 60, "web", "[::1]:8080");
	/* A stopped clone is a member, not running. */
	add_domain(snap, "web-04", VIR_DOMAIN_SHUTOFF, -1, NULL, "127.0.0.1:18104");
	add_domain(snap, "db-01", VIR_DOMAIN_RUNNING, 99, NULL, NULL);
	/* The template is never a member, even if tagged. */
	vs_domain_stats *t = g_ptr_array_index(snap->domains, 0);
	t->meta_pool = g_strdup("web");
	/* A bad address gives no endpoint, not a failure. */
	add_domain(snap, "web-05", VIR_DOMAIN_PAUSED, -1, NULL, "localhost:80");

	v = vs_pool_view_build(&pool, snap);
	ck_assert_uint_eq(v->n_backends, 5);
	/* Sorted by index; the untagged-name member has index 0. */
	ck_assert_str_eq(v->backends[0].domain->name, "custom-backend");
	ck_assert_uint_eq(v->backends[0].index, 0);
	ck_assert_str_eq(v->backends[1].domain->name, "web-01");
	ck_assert_uint_eq(v->backends[1].index, 1);
	ck_assert_str_eq(v->backends[2].domain->name, "web-02");
	ck_assert_str_eq(v->backends[3].domain->name, "web-04");
	ck_assert_str_eq(v->backends[4].domain->name, "web-05");

	ck_assert(v->backends[0].have_endpoint);
	ck_assert_str_eq(v->backends[0].endpoint.host, "::1");
	ck_assert_uint_eq(v->backends[0].endpoint.port, 8080);
	ck_assert(v->backends[1].have_endpoint);
	ck_assert_str_eq(v->backends[1].endpoint.host, "127.0.0.1");
	ck_assert_uint_eq(v->backends[1].endpoint.port, 18101);
	ck_assert(!v->backends[4].have_endpoint);

	ck_assert(v->backends[1].running);
	ck_assert(!v->backends[3].running);
	ck_assert(!v->backends[4].running);
	ck_assert_int_eq(v->backends[1].lb_state, VS_LB_STATE_UNKNOWN);

	/* Aggregates without sessions. */
	ck_assert_uint_eq(v->n_running, 3);
	ck_assert_double_eq_tol(v->avg_cpu, (60 + 20 + 40) / 3.0, 1e-9);
	ck_assert_double_lt(v->avg_sessions, 0);
	ck_assert_double_lt(v->min_ratio, 0);
	ck_assert_double_lt(v->max_ratio, 0);
	ck_assert_uint_eq(v->total_sessions, 0);
}
END_TEST

START_TEST(aggregation_math)
{
	vs_pool_config pool = web_pool();
	g_autoptr(vs_snapshot) snap = vs_snapshot_new();
	g_autoptr(vs_pool_view) v = NULL;

	add_domain(snap, "web-01", VIR_DOMAIN_RUNNING, 30, NULL, "127.0.0.1:18101");
	add_domain(snap, "web-02", VIR_DOMAIN_RUNNING, -1, NULL, "127.0.0.1:18102");
	add_domain(snap, "web-03", VIR_DOMAIN_RUNNING, 90, NULL, "127.0.0.1:18103");
	add_domain(snap, "web-04", VIR_DOMAIN_SHUTOFF, -1, NULL, "127.0.0.1:18104");

	v = vs_pool_view_build(&pool, snap);
	ck_assert_uint_eq(v->n_backends, 4);
	/* CPU: unknown figures are left out, not counted as 0. */
	ck_assert_double_eq_tol(v->avg_cpu, 60, 1e-9);

	vs_pool_view_set_sessions(v, 0, 65);
	vs_pool_view_set_sessions(v, 1, 80);
	vs_pool_view_set_sessions(v, 2, 5);
	vs_pool_view_set_sessions(v, 3, 1000); /* not running: ignored */
	vs_pool_view_set_sessions(v, 99, 1);   /* out of range: ignored */
	vs_pool_view_aggregate(v);

	ck_assert_double_eq_tol(v->backends[0].ratio, 0.65, 1e-9);
	ck_assert_double_eq_tol(v->backends[2].ratio, 0.05, 1e-9);
	ck_assert_uint_eq(v->n_running, 3);
	ck_assert_uint_eq(v->total_sessions, 150);
	ck_assert_double_eq_tol(v->avg_sessions, 50, 1e-9);
	ck_assert_double_eq_tol(v->min_ratio, 0.05, 1e-9);
	ck_assert_double_eq_tol(v->max_ratio, 0.80, 1e-9);

	/* Partial session figures: averages over the members that have one. */
	v->backends[1].have_sessions = false;
	vs_pool_view_aggregate(v);
	ck_assert_uint_eq(v->total_sessions, 70);
	ck_assert_double_eq_tol(v->avg_sessions, 35, 1e-9);
	ck_assert_double_eq_tol(v->max_ratio, 0.65, 1e-9);

	/* No capacity configured: ratios 0, no division by zero. */
	pool.session_capacity = 0;
	vs_pool_view_set_sessions(v, 0, 10);
	ck_assert_double_eq(v->backends[0].ratio, 0);
}
END_TEST

START_TEST(empty_pool)
{
	vs_pool_config pool = web_pool();
	g_autoptr(vs_snapshot) snap = vs_snapshot_new();
	g_autoptr(vs_pool_view) v = NULL;

	add_domain(snap, "web-template", VIR_DOMAIN_SHUTOFF, -1, NULL, NULL);
	v = vs_pool_view_build(&pool, snap);
	ck_assert_uint_eq(v->n_backends, 0);
	ck_assert_uint_eq(v->n_running, 0);
	ck_assert_double_lt(v->avg_cpu, 0);
	ck_assert_double_lt(v->avg_sessions, 0);
	/* Collecting from nothing is not an error. */
	ck_assert(vs_pool_collect_sessions(NULL, v, NULL));
}
END_TEST

START_TEST(lb_state_names)
{
	ck_assert_str_eq(vs_lb_state_name(VS_LB_STATE_UNKNOWN), "unknown");
	ck_assert_str_eq(vs_lb_state_name(VS_LB_STATE_ENABLED), "enabled");
	ck_assert_str_eq(vs_lb_state_name(VS_LB_STATE_DRAINING), "draining");
	ck_assert_str_eq(vs_lb_state_name(VS_LB_STATE_DISABLED), "disabled");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pool");
	TCase *tc = tcase_create("pool");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, member_names);
	tcase_add_test(tc, membership);
	tcase_add_test(tc, aggregation_math);
	tcase_add_test(tc, empty_pool);
	tcase_add_test(tc, lb_state_names);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
