/*
 * test-policy.c - the scaling rules of lib/vs-policy.c on pools built by
 * the configuration parser, so every default of virtscale.conf(5) applies:
 * cpu_high 50, cpu_low 15, sessions_high 50, sessions_low 5, SMax 100,
 * ratio 60% / 10%, min 2, max 6, target 50 sessions, tolerance 0.1,
 * stabilization 300 s, one instance per step. Each test names only the
 * keys it changes.
 */
#include "config.h"

#include "vs-policy.h"

#include "testutil.h"

#include <math.h>

/* One sample through the policy. */
static vs_policy_decision eval(const vs_pool_config *cfg, vs_policy_state *st, int64_t now_ms,
                               unsigned n, const double *cpu, const double *sessions)
{
	vs_policy_sample s = {.now_ms = now_ms, .n_running = n, .cpu = cpu, .sessions = sessions};

	return vs_policy_evaluate(cfg, st, &s);
}

START_TEST(debounce_m_of_n)
{
	vs_debounce d;

	vs_debounce_init(&d, 7, 10);
	for (int i = 0; i < 6; i++)
		ck_assert(!vs_debounce_push(&d, true));
	ck_assert(vs_debounce_push(&d, true)); /* 7 of 7 */
	/* Three calm samples: still 7 of the last 10. */
	for (int i = 0; i < 3; i++)
		ck_assert(vs_debounce_push(&d, false));
	/* A fourth drops the oldest breach: 6 of 10. */
	ck_assert(!vs_debounce_push(&d, false));
	vs_debounce_reset(&d);
	ck_assert(!vs_debounce_push(&d, false));

	/* Nonsense M/N is clamped, never overflows the window. */
	vs_debounce_init(&d, 500, 1000);
	ck_assert_uint_eq(d.n, VS_DEBOUNCE_MAX_N);
	ck_assert_uint_eq(d.m, VS_DEBOUNCE_MAX_N);
	vs_debounce_init(&d, 0, 0);
	ck_assert(vs_debounce_push(&d, true));
	ck_assert(!vs_debounce_push(&d, false));
}
END_TEST

START_TEST(state_starts_from_config)
{
	const vs_pool_config *cfg;
	g_autoptr(vs_config) c = vs_test_pool("debounce = 3/5\n", &cfg);
	vs_policy_state st;

	vs_policy_state_init(&st, cfg);
	ck_assert_uint_eq(st.high.m, 3);
	ck_assert_uint_eq(st.high.n, 5);
	ck_assert_uint_eq(st.low.m, 3);
	ck_assert_uint_eq(st.low.n, 5);
	ck_assert_int_eq(st.last, VS_VERDICT_OK);
	ck_assert(!st.high_seen);
	ck_assert_uint_eq(st.n_recent, 0);
}
END_TEST

START_TEST(average_cpu_or_sessions)
{
	const vs_pool_config *cfg;
	g_autoptr(vs_config) c = vs_test_pool("policy = average\ndebounce = 1/1\n", &cfg);
	vs_policy_state st;
	vs_policy_decision d;
	const double cpu_51[] = {40, 62}, cpu_50[] = {50, 50}, cpu_idle[] = {5, 10};
	const double sess_low[] = {2, 3}, sess_51[] = {50, 52}, sess_30[] = {30, 30};
	const double cpu_unknown[] = {-1, 70};

	vs_policy_state_init(&st, cfg);
	d = eval(cfg, &st, 0, 2, cpu_51, sess_low);
	ck_assert_int_eq(d.verdict, VS_VERDICT_HIGH);
	ck_assert_int_eq(d.metric, VS_METRIC_CPU);
	ck_assert_double_eq_tol(d.value, 51, 1e-9);
	ck_assert_double_eq(d.threshold_high, 50);
	ck_assert_double_eq(d.threshold_low, 15);
	ck_assert_uint_eq(d.desired, 3);

	/* Exactly 50 is not above 50. */
	d = eval(cfg, &st, 1000, 2, cpu_50, sess_30);
	ck_assert_int_eq(d.verdict, VS_VERDICT_OK);
	ck_assert(!d.raw_high && !d.raw_low);
	ck_assert_uint_eq(d.desired, 2);

	/* Sessions alone: OR, not AND. */
	d = eval(cfg, &st, 2000, 2, cpu_idle, sess_51);
	ck_assert_int_eq(d.verdict, VS_VERDICT_HIGH);
	ck_assert_int_eq(d.metric, VS_METRIC_SESSIONS);
	ck_assert_double_eq_tol(d.value, 51, 1e-9);
	ck_assert_double_eq(d.threshold_high, 50);
	ck_assert_double_eq(d.threshold_low, 5);

	/* Unknown CPU figures are left out of the average: 70 > 50. */
	d = eval(cfg, &st, 3000, 2, cpu_unknown, sess_low);
	ck_assert(d.raw_high);
	ck_assert_double_eq_tol(d.value, 70, 1e-9);

	/* Idle at min: low, but no scale-in below min. */
	d = eval(cfg, &st, 4000, 2, cpu_idle, sess_low);
	ck_assert(d.raw_low);
	ck_assert_int_eq(d.verdict, VS_VERDICT_OK);
	ck_assert_uint_eq(d.desired, 2);
	ck_assert_int_eq(d.victim, -1);

	/* CPU alone (no session source): decided on CPU */
	d = eval(cfg, &st, 5000, 2, cpu_51, NULL);
	ck_assert_int_eq(d.verdict, VS_VERDICT_HIGH);
	ck_assert_int_eq(d.metric, VS_METRIC_CPU);
}
END_TEST

START_TEST(average_scale_in_above_min)
{
	const vs_pool_config *cfg;
	g_autoptr(vs_config) c = vs_test_pool("policy = average\ndebounce = 1/1\n", &cfg);
	vs_policy_state st;
	const double cpu[] = {5, 10, 2}, sess[] = {3, 1, 4};
	vs_policy_decision d;

	vs_policy_state_init(&st, cfg);
	d = eval(cfg, &st, 0, 3, cpu, sess);
	ck_assert_int_eq(d.verdict, VS_VERDICT_LOW);
	ck_assert_uint_eq(d.desired, 2);
	ck_assert_int_eq(d.victim, 1); /* fewest sessions */
}
END_TEST

START_TEST(ratio_every_instance_above_tupper)
{
	const vs_pool_config *cfg;
	g_autoptr(vs_config) c = vs_test_pool("policy = ratio\ndebounce = 1/1\n", &cfg);
	vs_policy_state st;
	vs_policy_decision d;
	const double all_high[] = {60, 75, 99}, one_below[] = {59, 95, 95};

	vs_policy_state_init(&st, cfg);
	d = eval(cfg, &st, 0, 3, NULL, all_high);
	ck_assert_int_eq(d.verdict, VS_VERDICT_HIGH);
	ck_assert_int_eq(d.metric, VS_METRIC_RATIO);
	ck_assert_double_eq_tol(d.value, 60, 1e-9);
	ck_assert_uint_eq(d.desired, 4);
	ck_assert_double_eq_tol(d.threshold_high, 60, 1e-9);
	ck_assert_double_eq_tol(d.threshold_low, 10, 1e-9);

	/* The average (83%) is high, but one instance is below 60%: no scale-out. */
	d = eval(cfg, &st, 1000, 3, NULL, one_below);
	ck_assert_int_eq(d.verdict, VS_VERDICT_OK);
	ck_assert(!d.raw_high);

	/* No session figures: no verdict at all. */
	d = eval(cfg, &st, 2000, 3, NULL, NULL);
	ck_assert(!d.raw_high && !d.raw_low);
	ck_assert_int_eq(d.verdict, VS_VERDICT_OK);
}
END_TEST

START_TEST(ratio_uses_session_capacity)
{
	const vs_pool_config *cfg;
	g_autoptr(vs_config) c =
	    vs_test_pool("policy = ratio\ndebounce = 1/1\nsession_capacity = 200\n", &cfg);
	vs_policy_state st;
	const double busy_for_100[] = {100, 110, 119}, busy[] = {120, 150, 199};

	vs_policy_state_init(&st, cfg);
	/* 100 sessions is 50% of 200: not high */
	ck_assert_int_eq(eval(cfg, &st, 0, 3, NULL, busy_for_100).verdict, VS_VERDICT_OK);
	ck_assert_int_eq(eval(cfg, &st, 1000, 3, NULL, busy).verdict, VS_VERDICT_HIGH);
}
END_TEST

START_TEST(ratio_two_below_tlower_victim_fewest)
{
	const vs_pool_config *cfg;
	g_autoptr(vs_config) c = vs_test_pool("policy = ratio\ndebounce = 1/1\n", &cfg);
	vs_policy_state st;
	vs_policy_decision d;
	const double two_low[] = {40, 9, 50, 3}, one_low[] = {40, 3, 50, 30};
	const double at_min[] = {1, 2};

	vs_policy_state_init(&st, cfg);
	d = eval(cfg, &st, 0, 4, NULL, two_low);
	ck_assert_int_eq(d.verdict, VS_VERDICT_LOW);
	ck_assert_uint_eq(d.desired, 3);
	ck_assert_int_eq(d.victim, 3);
	ck_assert_double_eq_tol(d.value, 9, 1e-9); /* the second smallest */

	/* One instance below 10% is not enough. */
	d = eval(cfg, &st, 1000, 4, NULL, one_low);
	ck_assert_int_eq(d.verdict, VS_VERDICT_OK);
	ck_assert(!d.raw_low);
	ck_assert_int_eq(d.victim, -1);

	/* Both below, but the pool is at min 2: no scale-in. */
	d = eval(cfg, &st, 2000, 2, NULL, at_min);
	ck_assert(d.raw_low);
	ck_assert_int_eq(d.verdict, VS_VERDICT_OK);
	ck_assert_uint_eq(d.desired, 2);
}
END_TEST

START_TEST(ratio_at_max_alerts)
{
	const vs_pool_config *cfg;
	g_autoptr(vs_config) c = vs_test_pool("policy = ratio\n", &cfg);
	vs_policy_state st;
	vs_policy_decision d = {0};
	const double full[] = {70, 80, 90, 65, 61, 100};

	vs_policy_state_init(&st, cfg);
	/* the default debounce, 7 of 10 */
	for (int i = 0; i < 7; i++) {
		d = eval(cfg, &st, i * 1000, 6, NULL, full);
		ck_assert_int_eq(d.verdict, i < 6 ? VS_VERDICT_OK : VS_VERDICT_AT_MAX);
	}
	ck_assert_uint_eq(d.desired, 6);
	ck_assert_uint_eq(d.current, 6);
	ck_assert_int_eq(st.last, VS_VERDICT_AT_MAX);
	/* at max counts as high for the stabilization */
	ck_assert(st.high_seen);
	ck_assert_int_eq(st.last_high_ms, 6000);
}
END_TEST

START_TEST(debounce_short_spike_suppressed)
{
	const vs_pool_config *cfg;
	g_autoptr(vs_config) c = vs_test_pool("policy = ratio\ndebounce = 7/10\n", &cfg);
	vs_policy_state st;
	vs_policy_decision d;
	const double calm[] = {30, 30, 30}, busy[] = {80, 80, 80};
	int64_t t = 0;

	vs_policy_state_init(&st, cfg);
	for (int i = 0; i < 5; i++, t += 1000)
		ck_assert_int_eq(eval(cfg, &st, t, 3, NULL, calm).verdict, VS_VERDICT_OK);
	/* A 6-sample spike: never 7 of 10. */
	for (int i = 0; i < 6; i++, t += 1000) {
		d = eval(cfg, &st, t, 3, NULL, busy);
		ck_assert(d.raw_high);
		ck_assert_int_eq(d.verdict, VS_VERDICT_OK);
	}
	for (int i = 0; i < 10; i++, t += 1000)
		ck_assert_int_eq(eval(cfg, &st, t, 3, NULL, calm).verdict, VS_VERDICT_OK);

	/* A sustained breach fires on its 7th sample, and keeps firing
	 * (level-triggered) while it lasts. */
	for (int i = 1; i <= 12; i++, t += 1000) {
		d = eval(cfg, &st, t, 3, NULL, busy);
		ck_assert_int_eq(d.verdict, i < 7 ? VS_VERDICT_OK : VS_VERDICT_HIGH);
	}
	ck_assert_uint_eq(d.desired, 4);
}
END_TEST

START_TEST(debounce_flapping_no_action)
{
	static const char *const kinds[] = {"average", "ratio", "proportional"};
	const char *policy = kinds[_i];
	g_autofree char *keys =
	    g_strdup_printf("policy = %s\ndebounce = 7/10\nstabilization = 0\n", policy);
	const vs_pool_config *cfg;
	g_autoptr(vs_config) c = vs_test_pool(keys, &cfg);
	vs_policy_state st;
	const double high_c[] = {90, 90, 90, 90}, low_c[] = {1, 1, 1, 1};
	const double high_s[] = {95, 95, 95, 95}, low_s[] = {1, 2, 1, 2};

	vs_policy_state_init(&st, cfg);
	for (int i = 0; i < 200; i++) {
		bool hi = i % 2 == 0;
		vs_policy_decision d =
		    eval(cfg, &st, i * 1000, 4, hi ? high_c : low_c, hi ? high_s : low_s);

		ck_assert_msg(hi ? d.raw_high : d.raw_low, "%s: sample %d", policy, i);
		ck_assert_int_eq(d.verdict, VS_VERDICT_OK);
		ck_assert_uint_eq(d.desired, 4);
	}
}
END_TEST

START_TEST(proportional_tolerance_and_steps)
{
	const vs_pool_config *cfg, *wide, *by_cpu;
	g_autoptr(vs_config) c = vs_test_pool("policy = proportional\ndebounce = 1/1\n", &cfg);
	g_autoptr(vs_config) c_wide =
	    vs_test_pool("policy = proportional\ndebounce = 1/1\nmax_step_up = 4\n", &wide);
	g_autoptr(vs_config) c_cpu =
	    vs_test_pool("policy = proportional\ndebounce = 1/1\ntarget_metric = cpu\n", &by_cpu);
	vs_policy_state st;
	vs_policy_decision d;
	const double within[] = {54, 54, 54, 54}, double_load[] = {100, 100, 100, 100};
	const double just_out[] = {56, 56, 56, 56};

	vs_policy_state_init(&st, cfg);
	/* 54/50 = 1.08: inside the 0.1 tolerance. */
	d = eval(cfg, &st, 0, 4, NULL, within);
	ck_assert_int_eq(d.verdict, VS_VERDICT_OK);
	ck_assert_uint_eq(d.desired, 4);
	ck_assert(!d.raw_high);
	ck_assert_int_eq(d.metric, VS_METRIC_SESSIONS);
	ck_assert_double_eq_tol(d.threshold_high, 55, 1e-9);
	ck_assert_double_eq_tol(d.threshold_low, 45, 1e-9);

	/* 56/50 = 1.12: ceil(4 * 1.12) = 5. */
	d = eval(cfg, &st, 1000, 4, NULL, just_out);
	ck_assert_int_eq(d.verdict, VS_VERDICT_HIGH);
	ck_assert_uint_eq(d.desired, 5);

	/* ceil(4 * 2) = 8, one step up at a time. */
	d = eval(cfg, &st, 2000, 4, NULL, double_load);
	ck_assert_int_eq(d.verdict, VS_VERDICT_HIGH);
	ck_assert_uint_eq(d.desired, 5);

	/* Bigger steps, still bounded by max 6. */
	vs_policy_state_init(&st, wide);
	d = eval(wide, &st, 3000, 4, NULL, double_load);
	ck_assert_uint_eq(d.desired, 6);

	/* By CPU: the session figures are not looked at. */
	vs_policy_state_init(&st, by_cpu);
	d = eval(by_cpu, &st, 4000, 4, within, double_load);
	ck_assert_int_eq(d.metric, VS_METRIC_CPU);
	ck_assert_int_eq(d.verdict, VS_VERDICT_OK);
	d = eval(by_cpu, &st, 5000, 4, double_load, NULL);
	ck_assert_int_eq(d.metric, VS_METRIC_CPU);
	ck_assert_int_eq(d.verdict, VS_VERDICT_HIGH);
}
END_TEST

START_TEST(proportional_stabilization_window)
{
	const vs_pool_config *cfg;
	g_autoptr(vs_config) c = vs_test_pool("policy = proportional\ndebounce = 1/1\n", &cfg);
	vs_policy_state st;
	vs_policy_decision d;
	const double busy[] = {50, 50, 50, 50}, quiet[] = {10, 10, 10, 10};
	const double hot[] = {90, 90, 90};
	int64_t t;

	vs_policy_state_init(&st, cfg);
	d = eval(cfg, &st, 0, 4, NULL, busy); /* recommends 4 */
	ck_assert_int_eq(d.verdict, VS_VERDICT_OK);
	/* Load drops: ceil(4 * 0.2) = 1 wanted, but 4 was recommended within
	 * the last 300 s: hold. */
	for (t = 10000; t < 300000; t += 10000) {
		d = eval(cfg, &st, t, 4, NULL, quiet);
		ck_assert_int_eq(d.verdict, VS_VERDICT_OK);
		ck_assert_uint_eq(d.desired, 4);
	}
	/* 300 s on, the busy recommendation has left the window (when
	 * vs_policy_stabilized says it ends): scale in, one step. */
	d = eval(cfg, &st, 300000, 4, NULL, quiet);
	ck_assert_int_eq(d.verdict, VS_VERDICT_LOW);
	ck_assert_uint_eq(d.desired, 3);
	ck_assert_int_ge(d.victim, 0);

	/* Scale-out is never delayed by the window. */
	d = eval(cfg, &st, 300002, 3, NULL, hot);
	ck_assert_int_eq(d.verdict, VS_VERDICT_HIGH);
	ck_assert_uint_eq(d.desired, 4);
}
END_TEST

START_TEST(bounds_min_max)
{
	const vs_pool_config *cfg;
	g_autoptr(vs_config) c = vs_test_pool("policy = ratio\n", &cfg);
	vs_policy_state st;
	vs_policy_decision d;
	const double one[] = {0};
	const double seven[] = {50, 50, 50, 50, 50, 50, 1};

	vs_policy_state_init(&st, cfg);
	/* Below min: back to min at once, whatever the load and the debounce. */
	d = eval(cfg, &st, 0, 1, NULL, one);
	ck_assert_int_eq(d.verdict, VS_VERDICT_HIGH);
	ck_assert_uint_eq(d.desired, 2);
	d = eval(cfg, &st, 0, 0, NULL, NULL);
	ck_assert_int_eq(d.verdict, VS_VERDICT_HIGH);
	ck_assert_uint_eq(d.desired, 2);
	/* Above max: back to max, stopping the least busy - right after a
	 * high verdict: converging is no scale-in by load. */
	d = eval(cfg, &st, 0, 7, NULL, seven);
	ck_assert_int_eq(d.verdict, VS_VERDICT_LOW);
	ck_assert_uint_eq(d.desired, 6);
	ck_assert_int_eq(d.victim, 6);
}
END_TEST

START_TEST(no_scale_in_on_a_high_sample)
{
	const vs_pool_config *cfg;
	g_autoptr(vs_config) c = vs_test_pool("policy = ratio\ndebounce = 3/10\n", &cfg);
	vs_policy_state st;
	vs_policy_decision d;
	const double idle[] = {1, 2, 3, 4}, busy[] = {70, 70, 70, 70};

	vs_policy_state_init(&st, cfg);
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(eval(cfg, &st, i, 4, NULL, idle).verdict, VS_VERDICT_OK);
	ck_assert_int_eq(eval(cfg, &st, 2, 4, NULL, idle).verdict, VS_VERDICT_LOW);
	/* Still 3 low of the last 4, but this sample is high: no scale-in. */
	d = eval(cfg, &st, 3, 4, NULL, busy);
	ck_assert(d.raw_high);
	ck_assert_int_eq(d.verdict, VS_VERDICT_OK);
	ck_assert_int_eq(d.victim, -1);
}
END_TEST

/*
 * Stabilization, for every policy: after a high verdict (here: the pool
 * below min) no low verdict for `stabilization` seconds, however idle the
 * pool; then the scale-in comes. The idle samples are low for each policy
 * on their own (average: CPU and sessions under their low bounds; ratio:
 * two instances under 10%; proportional: 10 sessions against a target of
 * 50).
 */
START_TEST(stabilization_blocks_low_after_high)
{
	static const char *const kinds[] = {"average", "ratio", "proportional"};
	const char *policy = kinds[_i];
	g_autofree char *keys = g_strdup_printf("policy = %s\ndebounce = 1/1\n", policy);
	const vs_pool_config *cfg;
	g_autoptr(vs_config) c = vs_test_pool(keys, &cfg);
	vs_policy_state st;
	vs_policy_decision d;
	const double cpu[] = {2, 2, 2}, sessions[] = {1, 2, 1};
	const int64_t t0 = 1000000;

	ck_assert_uint_eq(cfg->stabilization, 300);
	vs_policy_state_init(&st, cfg);
	d = eval(cfg, &st, t0, 1, cpu, sessions);
	ck_assert_int_eq(d.verdict, VS_VERDICT_HIGH);
	ck_assert(st.high_seen);
	ck_assert_int_eq(st.last_high_ms, t0);
	for (int64_t t = t0 + 1000; t < t0 + 300000; t += 7000) {
		d = eval(cfg, &st, t, 3, cpu, sessions);
		ck_assert_msg(d.raw_low, "%s: the idle sample is not low", policy);
		ck_assert_msg(d.verdict == VS_VERDICT_OK, "%s: low %.0f s after a high", policy,
		              (t - t0) / 1000.0);
		ck_assert_uint_eq(d.desired, 3);
		ck_assert_int_eq(d.victim, -1);
	}
	d = eval(cfg, &st, t0 + 299999, 3, cpu, sessions);
	ck_assert_int_eq(d.verdict, VS_VERDICT_OK);
	d = eval(cfg, &st, t0 + 300000, 3, cpu, sessions);
	ck_assert_msg(d.verdict == VS_VERDICT_LOW, "%s: no low after the stabilization", policy);
	ck_assert_uint_eq(d.desired, 2);
	ck_assert_int_ge(d.victim, 0);
}
END_TEST

/* Without any high verdict an idle pool scales in at once; a new high
 * starts the wait over. */
START_TEST(stabilization_counts_from_last_high)
{
	const vs_pool_config *cfg;
	g_autoptr(vs_config) c =
	    vs_test_pool("policy = average\ndebounce = 1/1\nstabilization = 60\n", &cfg);
	vs_policy_state st;
	const double idle_cpu[] = {2, 2, 2}, idle_s[] = {1, 1, 1};
	const double hot_cpu[] = {90, 90, 90};

	vs_policy_state_init(&st, cfg);
	ck_assert_int_eq(eval(cfg, &st, 5, 3, idle_cpu, idle_s).verdict, VS_VERDICT_LOW);
	ck_assert_int_eq(eval(cfg, &st, 10000, 3, hot_cpu, idle_s).verdict, VS_VERDICT_HIGH);
	ck_assert_int_eq(eval(cfg, &st, 40000, 3, hot_cpu, idle_s).verdict, VS_VERDICT_HIGH);
	ck_assert_int_eq(st.last_high_ms, 40000);
	/* 60 s after the first high, but not after the last */
	ck_assert_int_eq(eval(cfg, &st, 70000, 3, idle_cpu, idle_s).verdict, VS_VERDICT_OK);
	ck_assert_int_eq(eval(cfg, &st, 99999, 3, idle_cpu, idle_s).verdict, VS_VERDICT_OK);
	ck_assert_int_eq(eval(cfg, &st, 100000, 3, idle_cpu, idle_s).verdict, VS_VERDICT_LOW);
}
END_TEST

START_TEST(stabilization_after_at_max)
{
	const vs_pool_config *cfg;
	g_autoptr(vs_config) c = vs_test_pool("policy = ratio\ndebounce = 1/1\nmax = 4\n", &cfg);
	vs_policy_state st;
	const double full[] = {90, 90, 90, 90}, idle[] = {1, 1, 1, 1};

	vs_policy_state_init(&st, cfg);
	ck_assert_int_eq(eval(cfg, &st, 0, 4, NULL, full).verdict, VS_VERDICT_AT_MAX);
	ck_assert_int_eq(eval(cfg, &st, 299999, 4, NULL, idle).verdict, VS_VERDICT_OK);
	ck_assert_int_eq(eval(cfg, &st, 300000, 4, NULL, idle).verdict, VS_VERDICT_LOW);
}
END_TEST

START_TEST(stabilized)
{
	const vs_pool_config *cfg, *none;
	g_autoptr(vs_config) c = vs_test_pool("", &cfg);
	g_autoptr(vs_config) c_none = vs_test_pool("stabilization = 0\n", &none);

	ck_assert(!vs_policy_stabilized(cfg, 1000, 1000));
	ck_assert(!vs_policy_stabilized(cfg, 1000, 300999));
	ck_assert(vs_policy_stabilized(cfg, 1000, 301000));
	ck_assert(vs_policy_stabilized(cfg, 1000, 10000000));
	ck_assert(vs_policy_stabilized(none, 1000, 1000));
}
END_TEST

START_TEST(sample_usable)
{
	const vs_pool_config *avg, *ratio, *prop_s, *prop_c;
	g_autoptr(vs_config) c1 = vs_test_pool("policy = average\n", &avg);
	g_autoptr(vs_config) c2 = vs_test_pool("policy = ratio\n", &ratio);
	g_autoptr(vs_config) c3 = vs_test_pool("policy = proportional\n", &prop_s);
	g_autoptr(vs_config) c4 =
	    vs_test_pool("policy = proportional\ntarget_metric = cpu\n", &prop_c);
	const double cpu[] = {30, 40}, sessions[] = {3, 4};
	vs_policy_sample with = {.now_ms = 1, .n_running = 2, .cpu = cpu, .sessions = sessions};
	vs_policy_sample cpu_only = {.now_ms = 1, .n_running = 2, .cpu = cpu};
	vs_policy_sample empty = {.now_ms = 1, .n_running = 0, .cpu = cpu};

	/* with session counts every policy decides */
	ck_assert(vs_policy_sample_usable(avg, &with));
	ck_assert(vs_policy_sample_usable(ratio, &with));
	ck_assert(vs_policy_sample_usable(prop_s, &with));
	ck_assert(vs_policy_sample_usable(prop_c, &with));
	/* without, only those that can decide on CPU alone */
	ck_assert(vs_policy_sample_usable(avg, &cpu_only));
	ck_assert(!vs_policy_sample_usable(ratio, &cpu_only));
	ck_assert(!vs_policy_sample_usable(prop_s, &cpu_only));
	ck_assert(vs_policy_sample_usable(prop_c, &cpu_only));
	/* and only with something running to measure */
	ck_assert(!vs_policy_sample_usable(avg, &empty));
	ck_assert(!vs_policy_sample_usable(prop_c, &empty));
}
END_TEST

START_TEST(threshold_verdict)
{
	ck_assert_int_eq(vs_policy_threshold_verdict(true, 75, 10), VS_VERDICT_OK);
	ck_assert_int_eq(vs_policy_threshold_verdict(true, 5, 10), VS_VERDICT_OK);
	ck_assert_int_eq(vs_policy_threshold_verdict(true, NAN, NAN), VS_VERDICT_OK);
	ck_assert_int_eq(vs_policy_threshold_verdict(false, 5, 10), VS_VERDICT_LOW);
	ck_assert_int_eq(vs_policy_threshold_verdict(false, -3, 0), VS_VERDICT_LOW);
	ck_assert_int_eq(vs_policy_threshold_verdict(false, 75, 10), VS_VERDICT_HIGH);
	/* on the lower threshold is not below it */
	ck_assert_int_eq(vs_policy_threshold_verdict(false, 10, 10), VS_VERDICT_HIGH);
	/* without a lower threshold, or without a value: high */
	ck_assert_int_eq(vs_policy_threshold_verdict(false, 5, NAN), VS_VERDICT_HIGH);
	ck_assert_int_eq(vs_policy_threshold_verdict(false, NAN, 10), VS_VERDICT_HIGH);
	ck_assert_int_eq(vs_policy_threshold_verdict(false, 5, -INFINITY), VS_VERDICT_HIGH);
}
END_TEST

START_TEST(lb_weight)
{
	/* unknown and idle: the most */
	ck_assert_uint_eq(vs_policy_lb_weight(-1), VS_LB_WEIGHT_MAX);
	ck_assert_uint_eq(vs_policy_lb_weight(NAN), VS_LB_WEIGHT_MAX);
	ck_assert_uint_eq(vs_policy_lb_weight(0), 10);
	ck_assert_uint_eq(vs_policy_lb_weight(0.05), 10);
	/* one less per tenth of capacity in use */
	ck_assert_uint_eq(vs_policy_lb_weight(0.1), 9);
	ck_assert_uint_eq(vs_policy_lb_weight(0.15), 9);
	ck_assert_uint_eq(vs_policy_lb_weight(0.25), 8);
	ck_assert_uint_eq(vs_policy_lb_weight(0.5), 5);
	ck_assert_uint_eq(vs_policy_lb_weight(0.85), 2);
	ck_assert_uint_eq(vs_policy_lb_weight(0.95), 1);
	/* full or beyond: still some traffic */
	ck_assert_uint_eq(vs_policy_lb_weight(1.0), 1);
	ck_assert_uint_eq(vs_policy_lb_weight(3.5), 1);
	ck_assert_uint_eq(vs_policy_lb_weight(INFINITY), 1);
	/* busier never weighs more */
	for (int i = 0; i < 200; i++)
		ck_assert_uint_ge(vs_policy_lb_weight(i / 100.0),
		                  vs_policy_lb_weight((i + 1) / 100.0));
}
END_TEST

START_TEST(victim_rule)
{
	const double sessions[] = {4, 1, 7, 1}, cpu[] = {20, 10, 30, 40};
	const double unknown_cpu[] = {-1, -1, -1};
	vs_policy_sample s = {.n_running = 4, .cpu = cpu, .sessions = sessions};
	vs_policy_sample by_cpu = {.n_running = 4, .cpu = cpu};
	vs_policy_sample no_cpu = {.n_running = 3, .cpu = unknown_cpu};
	vs_policy_sample none = {.n_running = 0, .cpu = cpu, .sessions = sessions};

	/* fewest sessions; among equals the last (the youngest clone) */
	ck_assert_int_eq(vs_policy_victim(&s), 3);
	/* no session figures: the lowest CPU */
	ck_assert_int_eq(vs_policy_victim(&by_cpu), 1);
	/* nothing known: the youngest */
	ck_assert_int_eq(vs_policy_victim(&no_cpu), 2);
	ck_assert_int_eq(vs_policy_victim(&none), -1);
}
END_TEST

/* Without session figures the victim is the member with the lowest known
 * CPU: a member whose CPU was not measured yet is no idler than one
 * measured at 10%. */
START_TEST(victim_lowest_known_cpu)
{
	const double cpu[] = {20, -1, 10};
	vs_policy_sample s = {.n_running = 3, .cpu = cpu};

	ck_assert_int_eq(vs_policy_victim(&s), 2);
}
END_TEST

START_TEST(metric_names)
{
	ck_assert_str_eq(vs_metric_name(VS_METRIC_NONE), "none");
	ck_assert_str_eq(vs_metric_name(VS_METRIC_CPU), "cpu");
	ck_assert_str_eq(vs_metric_name(VS_METRIC_SESSIONS), "sessions");
	ck_assert_str_eq(vs_metric_name(VS_METRIC_RATIO), "ratio");
	ck_assert_str_eq(vs_metric_name((vs_metric)99), "none");
}
END_TEST

/* step: a high of the average or ratio policy asks for step instances. */
START_TEST(step_desired)
{
	const vs_pool_config *avg, *ratio;
	g_autoptr(vs_config) c1 =
	    vs_test_pool("policy = average\ndebounce = 1/1\nstep = 4\n", &avg);
	g_autoptr(vs_config) c2 = vs_test_pool(
	    "policy = ratio\ndebounce = 1/1\nstep = 3\nsession_capacity = 10\n", &ratio);
	vs_policy_state st;
	const double cpu_hot[] = {90, 95}, sess[] = {9, 9};

	vs_policy_state_init(&st, avg);
	ck_assert_uint_eq(eval(avg, &st, 0, 2, cpu_hot, NULL).desired, 6);
	vs_policy_state_init(&st, ratio);
	ck_assert_uint_eq(eval(ratio, &st, 0, 2, cpu_hot, sess).desired, 5);
}
END_TEST

Suite *vs_test_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("policy");

	tcase_add_test(tc, debounce_m_of_n);
	tcase_add_test(tc, state_starts_from_config);
	tcase_add_test(tc, average_cpu_or_sessions);
	tcase_add_test(tc, average_scale_in_above_min);
	tcase_add_test(tc, ratio_every_instance_above_tupper);
	tcase_add_test(tc, ratio_uses_session_capacity);
	tcase_add_test(tc, ratio_two_below_tlower_victim_fewest);
	tcase_add_test(tc, ratio_at_max_alerts);
	tcase_add_test(tc, debounce_short_spike_suppressed);
	tcase_add_loop_test(tc, debounce_flapping_no_action, 0, 3);
	tcase_add_test(tc, proportional_tolerance_and_steps);
	tcase_add_test(tc, proportional_stabilization_window);
	tcase_add_test(tc, bounds_min_max);
	tcase_add_test(tc, no_scale_in_on_a_high_sample);
	tcase_add_loop_test(tc, stabilization_blocks_low_after_high, 0, 3);
	tcase_add_test(tc, stabilization_counts_from_last_high);
	tcase_add_test(tc, stabilization_after_at_max);
	tcase_add_test(tc, stabilized);
	tcase_add_test(tc, sample_usable);
	tcase_add_test(tc, threshold_verdict);
	tcase_add_test(tc, lb_weight);
	tcase_add_test(tc, victim_rule);
	tcase_add_test(tc, victim_lowest_known_cpu);
	tcase_add_test(tc, metric_names);
	tcase_add_test(tc, step_desired);
	suite_add_tcase(s, tc);
	return s;
}
