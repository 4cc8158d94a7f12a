/*
 * test-pool-eval.c - one pool sample evaluated as the collectd plugin and
 * the SNMP subagent both do (lib/vs-pool-eval.c): whether the sample is
 * usable (the pool's hypervisors ready; session counts, unless the policy
 * decides on CPU alone), the verdict, and when a notice is due (a changed
 * verdict; a lasting breach every repeat interval; never the first "ok").
 */
#include "config.h"

#include "vs-pool-eval.h"

#include "testutil.h"

#include <libvirt/libvirt.h>
#include <string.h>

/* A view of three running members at @cpu percent, with @sessions each
 * when @sessions >= 0 (then the session source answered). */
static vs_pool_view *three_members(const vs_pool_config *pool, double cpu, int sessions)
{
	vs_pool_view *v = vs_pool_view_new(pool);
	const char *names[] = {"web-01", "web-02", "web-03"};

	for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
		vs_pool_view_add(v, vs_test_member(pool, names[i], VIR_DOMAIN_RUNNING, cpu));
	vs_pool_view_aggregate(v);
	for (guint i = 0; sessions >= 0 && i < v->members->len; i++)
		vs_pool_view_set_sessions(v, i, (unsigned)sessions);
	vs_pool_view_aggregate(v);
	return v;
}

/* One sample of three members; the report is the caller's. */
static vs_pool_report *sample_at(vs_pool_eval *e, int64_t now_ms, double cpu, int sessions,
                                 unsigned repeat_s, vs_pool_notice *notice, bool *due)
{
	vs_pool_view *v = three_members(e->cfg, cpu, sessions);

	return vs_pool_eval_sample(e, v, true, sessions >= 0, now_ms, 1764000000.0 + now_ms / 1e3,
	                           repeat_s, notice, due);
}

START_TEST(init)
{
	const vs_pool_config *pool;
	g_autoptr(vs_config) c = vs_test_pool("debounce = 2/3\n", &pool);
	vs_pool_eval e;

	vs_pool_eval_init(&e, pool);
	ck_assert_ptr_eq(e.cfg, pool);
	ck_assert_int_eq(e.noticed, VS_VERDICT_OK);
	ck_assert_int_eq(e.last_notice_ms, 0);
	ck_assert_uint_eq(e.policy.high.m, 2);
	ck_assert_uint_eq(e.policy.high.n, 3);
	for (int v = 0; v < VS_VERDICT_UNKNOWN; v++)
		ck_assert_uint_eq(e.notices[v], 0);
}
END_TEST

/* The ratio policy cannot judge a pool without its session counts: an
 * idle-looking pool would be scaled in. */
START_TEST(ratio_without_sessions_not_evaluated)
{
	const vs_pool_config *pool;
	g_autoptr(vs_config) c = vs_test_pool("policy = ratio\ndebounce = 1/1\n", &pool);
	vs_pool_eval e;
	vs_pool_notice notice = {0};
	bool due = true;

	vs_pool_eval_init(&e, pool);
	for (int i = 0; i < 5; i++) {
		g_autoptr(vs_pool_report) r =
		    vs_pool_eval_sample(&e, three_members(pool, 1, -1), true, false, 1000 * i,
		                        1764000000, 10, &notice, &due);

		ck_assert(!r->evaluated);
		ck_assert(!r->sessions_ok);
		ck_assert_int_eq(r->verdict, VS_VERDICT_UNKNOWN);
		ck_assert_int_eq(r->decision.verdict, VS_VERDICT_UNKNOWN);
		ck_assert_uint_eq(r->decision.current, 3);
		ck_assert_uint_eq(r->decision.desired, 3);
		ck_assert_int_eq(r->decision.victim, -1);
		ck_assert(!due);
		ck_assert_uint_eq(r->view->n_running, 3);
	}
	/* the policy's history is untouched: M-of-N counts judged samples */
	ck_assert_uint_eq(e.policy.low.filled, 0);
	ck_assert_uint_eq(e.policy.high.filled, 0);
	ck_assert_int_eq(e.noticed, VS_VERDICT_OK);
}
END_TEST

START_TEST(average_decides_on_cpu_alone)
{
	const vs_pool_config *pool;
	g_autoptr(vs_config) c = vs_test_pool("policy = average\ndebounce = 1/1\n", &pool);
	vs_pool_eval e;
	vs_pool_notice notice = {0};
	bool due = false;

	vs_pool_eval_init(&e, pool);
	g_autoptr(vs_pool_report) r = vs_pool_eval_sample(
	    &e, three_members(pool, 90, -1), true, false, 1000, 1764000001, 10, &notice, &due);
	ck_assert(r->evaluated);
	ck_assert(!r->sessions_ok);
	ck_assert_int_eq(r->verdict, VS_VERDICT_HIGH);
	ck_assert_int_eq(r->decision.metric, VS_METRIC_CPU);
	ck_assert_double_eq_tol(r->decision.value, 90, 1e-9);
	ck_assert(due);

	/* but not on an empty pool: nothing to measure */
	g_autoptr(vs_pool_report) empty = vs_pool_eval_sample(
	    &e, vs_pool_view_new(pool), true, false, 2000, 1764000002, 10, &notice, &due);
	ck_assert(!empty->evaluated);
	ck_assert_int_eq(empty->verdict, VS_VERDICT_UNKNOWN);
	ck_assert(!due);
}
END_TEST

START_TEST(proportional_needs_sessions_unless_on_cpu)
{
	const vs_pool_config *by_cpu, *by_sessions;
	g_autoptr(vs_config) c1 =
	    vs_test_pool("policy = proportional\ntarget_metric = cpu\ndebounce = 1/1\n", &by_cpu);
	g_autoptr(vs_config) c2 =
	    vs_test_pool("policy = proportional\ndebounce = 1/1\n", &by_sessions);
	vs_pool_eval e1, e2;
	bool due = false;

	vs_pool_eval_init(&e1, by_cpu);
	vs_pool_eval_init(&e2, by_sessions);
	g_autoptr(vs_pool_report) r1 = vs_pool_eval_sample(
	    &e1, three_members(by_cpu, 100, -1), true, false, 1000, 1764000001, 10, NULL, &due);
	ck_assert(r1->evaluated);
	ck_assert_int_eq(r1->verdict, VS_VERDICT_HIGH);
	ck_assert_int_eq(r1->decision.metric, VS_METRIC_CPU);
	/* a notice is due even when the caller does not want it filled */
	ck_assert(due);

	g_autoptr(vs_pool_report) r2 =
	    vs_pool_eval_sample(&e2, three_members(by_sessions, 100, -1), true, false, 1000,
	                        1764000001, 10, NULL, &due);
	ck_assert(!r2->evaluated);
	ck_assert_int_eq(r2->verdict, VS_VERDICT_UNKNOWN);
	ck_assert(!due);
	/* with the counts it decides */
	g_autoptr(vs_pool_report) r3 = vs_pool_eval_sample(
	    &e2, three_members(by_sessions, 1, 100), true, true, 2000, 1764000002, 10, NULL, &due);
	ck_assert(r3->evaluated);
	ck_assert_int_eq(r3->verdict, VS_VERDICT_HIGH);
	ck_assert_int_eq(r3->decision.metric, VS_METRIC_SESSIONS);
}
END_TEST

START_TEST(hosts_ready)
{
	g_autoptr(vs_config) c =
	    vs_test_config("[libvirt]\nhosts = qemu:///system "
	                   "qemu+ssh://hv2/system\n"
	                   "[pool web]\ntemplate = t\n"
	                   "name_pattern = web-%02d\nhosts = " VS_TEST_HOST "\n");
	const vs_pool_config *pool = vs_config_find_pool(c, "web");
	g_autoptr(vs_snapshot) none = vs_snapshot_new();
	g_autoptr(vs_snapshot) fresh = vs_snapshot_new();
	g_autoptr(vs_snapshot) down = vs_snapshot_new();
	g_autoptr(vs_snapshot) connecting = vs_snapshot_new();
	g_autoptr(vs_snapshot) ready = vs_snapshot_new();
	g_autoptr(vs_snapshot) other_down = vs_snapshot_new();

	/* not known yet: no hypervisor of the pool in the snapshot */
	ck_assert(!vs_pool_hosts_ready(pool, none));
	ck_assert(!vs_pool_hosts_ready(pool, NULL));
	/* connected, but not refreshed once */
	vs_test_snapshot_host(fresh, VS_TEST_HOST, VS_HOST_CONNECTED, 0);
	ck_assert(!vs_pool_hosts_ready(pool, fresh));
	/* refreshed before, disconnected now */
	vs_test_snapshot_host(down, VS_TEST_HOST, VS_HOST_DISCONNECTED, 12);
	ck_assert(!vs_pool_hosts_ready(pool, down));
	vs_test_snapshot_host(connecting, VS_TEST_HOST, VS_HOST_CONNECTING, 0);
	ck_assert(!vs_pool_hosts_ready(pool, connecting));
	vs_test_snapshot_host(ready, VS_TEST_HOST, VS_HOST_CONNECTED, 1);
	ck_assert(vs_pool_hosts_ready(pool, ready));
	/* another hypervisor's trouble is not this pool's */
	vs_test_snapshot_host(other_down, "qemu+ssh://hv2/system", VS_HOST_DISCONNECTED, 0);
	vs_test_snapshot_host(other_down, VS_TEST_HOST, VS_HOST_CONNECTED, 3);
	ck_assert(vs_pool_hosts_ready(pool, other_down));
}
END_TEST

/* Until the hypervisor answered, an empty pool means "not known yet": no
 * verdict, however clear the sample looks. */
START_TEST(hosts_not_ready_not_evaluated)
{
	const vs_pool_config *pool;
	g_autoptr(vs_config) c = vs_test_pool("policy = ratio\ndebounce = 1/1\n", &pool);
	vs_pool_eval e;
	bool due = true;

	vs_pool_eval_init(&e, pool);
	g_autoptr(vs_pool_report) r = vs_pool_eval_sample(&e, three_members(pool, 90, 99), false,
	                                                  true, 1000, 1764000001, 10, NULL, &due);
	ck_assert(!r->evaluated);
	ck_assert(r->sessions_ok);
	ck_assert_int_eq(r->verdict, VS_VERDICT_UNKNOWN);
	ck_assert(!due);
	ck_assert_uint_eq(e.policy.high.filled, 0);
	/* below min while not ready: still nothing (it would read as "high") */
	g_autoptr(vs_pool_report) empty = vs_pool_eval_sample(
	    &e, vs_pool_view_new(pool), false, true, 2000, 1764000002, 10, NULL, &due);
	ck_assert(!empty->evaluated);
	ck_assert(!due);
}
END_TEST

START_TEST(notices)
{
	const vs_pool_config *pool;
	g_autoptr(vs_config) c =
	    vs_test_pool("policy = ratio\ndebounce = 1/1\nstabilization = 0\n", &pool);
	vs_pool_eval e;
	vs_pool_notice n;
	bool due;
	vs_pool_report *r;

	vs_pool_eval_init(&e, pool);
	/* the first "ok" is silent */
	r = sample_at(&e, 1000, 30, 30, 10, &n, &due);
	ck_assert(r->evaluated);
	ck_assert_int_eq(r->verdict, VS_VERDICT_OK);
	ck_assert(!due);
	vs_pool_report_free(r);

	/* a change is noticed */
	memset(&n, 0, sizeof(n));
	r = sample_at(&e, 2000, 50, 80, 10, &n, &due);
	ck_assert_int_eq(r->verdict, VS_VERDICT_HIGH);
	ck_assert(due);
	ck_assert_ptr_eq(n.pool, pool);
	ck_assert_int_eq(n.verdict, VS_VERDICT_HIGH);
	ck_assert_int_eq(n.previous, VS_VERDICT_OK);
	ck_assert(!n.repeat);
	ck_assert_int_eq(n.decision.verdict, VS_VERDICT_HIGH);
	ck_assert_uint_eq(n.decision.desired, 4);
	ck_assert_double_eq_tol(n.avg_cpu, 50, 1e-9);
	ck_assert_double_eq_tol(n.avg_sessions, 80, 1e-9);
	ck_assert_double_eq_tol(n.time, 1764000002.0, 1e-6);
	ck_assert_uint_eq(r->notices[VS_VERDICT_HIGH], 1);
	vs_pool_report_free(r);

	/* the same verdict: nothing until the repeat interval is over */
	for (int64_t t = 3000; t < 12000; t += 1000) {
		r = sample_at(&e, t, 50, 80, 10, &n, &due);
		ck_assert_int_eq(r->verdict, VS_VERDICT_HIGH);
		ck_assert_msg(!due, "repeated %" G_GINT64_FORMAT " ms after the notice", t - 2000);
		vs_pool_report_free(r);
	}
	/* 10 s after the last notice: repeated, marked as such */
	memset(&n, 0, sizeof(n));
	r = sample_at(&e, 12000, 50, 80, 10, &n, &due);
	ck_assert(due);
	ck_assert(n.repeat);
	ck_assert_int_eq(n.verdict, VS_VERDICT_HIGH);
	ck_assert_int_eq(n.previous, VS_VERDICT_HIGH);
	ck_assert_uint_eq(r->notices[VS_VERDICT_HIGH], 2);
	vs_pool_report_free(r);
	/* and counted from the repeat */
	r = sample_at(&e, 21999, 50, 80, 10, &n, &due);
	ck_assert(!due);
	vs_pool_report_free(r);
	r = sample_at(&e, 22000, 50, 80, 10, &n, &due);
	ck_assert(due && n.repeat);
	vs_pool_report_free(r);

	/* an unusable sample says nothing and forgets nothing */
	r = vs_pool_eval_sample(&e, three_members(pool, 50, -1), true, false, 23000, 1764000023, 10,
	                        &n, &due);
	ck_assert(!due);
	ck_assert_int_eq(r->verdict, VS_VERDICT_UNKNOWN);
	vs_pool_report_free(r);
	ck_assert_int_eq(e.noticed, VS_VERDICT_HIGH);

	/* back to ok: noticed once, never repeated */
	memset(&n, 0, sizeof(n));
	r = sample_at(&e, 24000, 30, 30, 10, &n, &due);
	ck_assert(due);
	ck_assert_int_eq(n.verdict, VS_VERDICT_OK);
	ck_assert_int_eq(n.previous, VS_VERDICT_HIGH);
	ck_assert(!n.repeat);
	ck_assert_uint_eq(r->notices[VS_VERDICT_OK], 1);
	vs_pool_report_free(r);
	r = sample_at(&e, 60000, 30, 30, 10, &n, &due);
	ck_assert(!due);
	vs_pool_report_free(r);

	/* low, from ok (two of three below 10%) */
	r = sample_at(&e, 61000, 5, 5, 10, &n, &due);
	ck_assert_int_eq(r->verdict, VS_VERDICT_LOW);
	ck_assert(due);
	ck_assert_int_eq(n.previous, VS_VERDICT_OK);
	ck_assert_uint_eq(r->notices[VS_VERDICT_LOW], 1);
	ck_assert_uint_eq(r->notices[VS_VERDICT_HIGH], 3);
	ck_assert_uint_eq(r->notices[VS_VERDICT_OK], 1);
	ck_assert_uint_eq(r->notices[VS_VERDICT_AT_MAX], 0);
	vs_pool_report_free(r);
	/* the history keeps the counts the reports copy */
	ck_assert_uint_eq(e.notices[VS_VERDICT_HIGH], 3);
	ck_assert_int_eq(e.last_notice_ms, 61000);
}
END_TEST

START_TEST(first_notice_not_ok)
{
	const vs_pool_config *pool;
	g_autoptr(vs_config) c = vs_test_pool("policy = ratio\ndebounce = 1/1\n", &pool);
	vs_pool_eval e;
	vs_pool_notice n = {0};
	bool due = false;

	/* a pool that is low from the first sample is noticed at once */
	vs_pool_eval_init(&e, pool);
	g_autoptr(vs_pool_report) r = sample_at(&e, 1000, 1, 1, 10, &n, &due);
	ck_assert_int_eq(r->verdict, VS_VERDICT_LOW);
	ck_assert(due);
	ck_assert_int_eq(n.previous, VS_VERDICT_OK);
}
END_TEST

START_TEST(repeat_disabled)
{
	const vs_pool_config *pool;
	g_autoptr(vs_config) c = vs_test_pool("policy = ratio\ndebounce = 1/1\n", &pool);
	vs_pool_eval e;
	bool due = false;
	vs_pool_report *r;

	vs_pool_eval_init(&e, pool);
	r = sample_at(&e, 1000, 50, 90, 0, NULL, &due);
	ck_assert(due);
	vs_pool_report_free(r);
	/* repeat_s 0: a lasting breach is told once */
	for (int64_t t = 2000; t < 600000; t += 30000) {
		r = sample_at(&e, t, 50, 90, 0, NULL, &due);
		ck_assert_int_eq(r->verdict, VS_VERDICT_HIGH);
		ck_assert(!due);
		vs_pool_report_free(r);
	}
}
END_TEST

START_TEST(report_copy)
{
	const vs_pool_config *pool;
	g_autoptr(vs_config) c = vs_test_pool("policy = ratio\ndebounce = 1/1\n", &pool);
	vs_pool_eval e;
	bool due = false;
	g_autoptr(vs_pool_report) copy = NULL;

	vs_pool_eval_init(&e, pool);
	{
		g_autoptr(vs_pool_report) r = sample_at(&e, 1000, 50, 90, 10, NULL, &due);

		copy = vs_pool_report_copy(r);
	}
	ck_assert_ptr_eq(copy->cfg, pool);
	ck_assert(copy->evaluated);
	ck_assert_int_eq(copy->verdict, VS_VERDICT_HIGH);
	ck_assert_uint_eq(copy->view->n_running, 3);
	ck_assert_uint_eq(copy->view->total_sessions, 270);
	ck_assert_uint_eq(copy->notices[VS_VERDICT_HIGH], 1);
}
END_TEST

Suite *vs_test_suite(void)
{
	Suite *s = suite_create("pool-eval");
	TCase *tc = tcase_create("pool-eval");

	tcase_add_test(tc, init);
	tcase_add_test(tc, ratio_without_sessions_not_evaluated);
	tcase_add_test(tc, average_decides_on_cpu_alone);
	tcase_add_test(tc, proportional_needs_sessions_unless_on_cpu);
	tcase_add_test(tc, hosts_ready);
	tcase_add_test(tc, hosts_not_ready_not_evaluated);
	tcase_add_test(tc, notices);
	tcase_add_test(tc, first_notice_not_ok);
	tcase_add_test(tc, repeat_disabled);
	tcase_add_test(tc, report_copy);
	suite_add_tcase(s, tc);
	return s;
}
