/*
 * test-policy.c - the seed algorithms of lib/vs-policy.c against the
 * numbers of DESIGN.md: cpu_high 50, sessions_high 50, SMax 100, Tupper
 * 60%, Tlower 10%, min 2, max 6, debounce 7/10, tolerance 0.1.
 */
#include "config.h"

#include "vs-policy.h"

#include <check.h>
#include <stdlib.h>

/* The pool of DESIGN.md, with the policy kind and debounce chosen by the test. */
static vs_pool_config design_pool(vs_policy_kind kind, unsigned m, unsigned n)
{
	return (vs_pool_config){
	    .name = "web",
	    .min = 2,
	    .max = 6,
	    .policy = kind,
	    .cpu_high = 50,
	    .cpu_low = 15,
	    .sessions_high = 50,
	    .sessions_low = 5,
	    .session_capacity = 100,
	    .ratio_high = 60,
	    .ratio_low = 10,
	    .debounce_m = m,
	    .debounce_n = n,
	    .target_metric = "sessions",
	    .target = 50,
	    .tolerance = 0.1,
	    .stabilization = 300,
	    .max_step_up = 1,
	    .max_step_down = 1,
	};
}

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

START_TEST(average_cpu_or_sessions)
{
	vs_pool_config cfg = design_pool(VS_POLICY_AVERAGE, 1, 1);
	vs_policy_state st;
	vs_policy_decision d;
	const double cpu_51[] = {40, 62}, cpu_50[] = {50, 50}, cpu_idle[] = {5, 10};
	const double sess_low[] = {2, 3}, sess_51[] = {50, 52}, sess_30[] = {30, 30};
	const double cpu_unknown[] = {-1, 70};

	vs_policy_state_init(&st, &cfg);
	d = eval(&cfg, &st, 0, 2, cpu_51, sess_low);
	ck_assert_int_eq(d.verdict, VS_VERDICT_HIGH);
	ck_assert_str_eq(d.metric, "cpu");
	ck_assert_double_eq_tol(d.value, 51, 1e-9);
	ck_assert_uint_eq(d.desired, 3);

	/* Exactly 50 is not above 50. */
	d = eval(&cfg, &st, 1000, 2, cpu_50, sess_30);
	ck_assert_int_eq(d.verdict, VS_VERDICT_OK);
	ck_assert(!d.raw_high && !d.raw_low);
	ck_assert_uint_eq(d.desired, 2);

	/* Sessions alone: OR, not AND. */
	d = eval(&cfg, &st, 2000, 2, cpu_idle, sess_51);
	ck_assert_int_eq(d.verdict, VS_VERDICT_HIGH);
	ck_assert_str_eq(d.metric, "sessions");
	ck_assert_double_eq_tol(d.value, 51, 1e-9);

	/* Unknown CPU figures are left out of the average: 70 > 50. */
	d = eval(&cfg, &st, 3000, 2, cpu_unknown, sess_low);
	ck_assert(d.raw_high);

	/* Idle at min: low, but no scale-in below min. */
	d = eval(&cfg, &st, 4000, 2, cpu_idle, sess_low);
	ck_assert(d.raw_low);
	ck_assert_int_eq(d.verdict, VS_VERDICT_OK);
	ck_assert_uint_eq(d.desired, 2);
	ck_assert_int_eq(d.victim, -1);
}
END_TEST

START_TEST(average_scale_in_above_min)
{
	vs_pool_config cfg = design_pool(VS_POLICY_AVERAGE, 1, 1);
	vs_policy_state st;
	const double cpu[] = {5, 10, 2}, sess[] = {3, 1, 4};
	vs_policy_decision d;

	vs_policy_state_init(&st, &cfg);
	d = eval(&cfg, &st, 0, 3, cpu, sess);
	ck_assert_int_eq(d.verdict, VS_VERDICT_LOW);
	ck_assert_uint_eq(d.desired, 2);
	ck_assert_int_eq(d.victim, 1); /* fewest sessions */
}
END_TEST

START_TEST(ratio_every_instance_above_tupper)
{
	vs_pool_config cfg = design_pool(VS_POLICY_RATIO, 1, 1);
	vs_policy_state st;
	vs_policy_decision d;
	const double all_high[] = {60, 75, 99}, one_below[] = {59, 95, 95};

	vs_policy_state_init(&st, &cfg);
	d = eval(&cfg, &st, 0, 3, NULL, all_high);
	ck_assert_int_eq(d.verdict, VS_VERDICT_HIGH);
	ck_assert_str_eq(d.metric, "ratio");
	ck_assert_double_eq_tol(d.value, 60, 1e-9);
	ck_assert_uint_eq(d.desired, 4);
	ck_assert_double_eq_tol(d.threshold_high, 60, 1e-9);

	/* The average (83%) is high, but one instance is below 60%: no scale-out. */
	d = eval(&cfg, &st, 1000, 3, NULL, one_below);
	ck_assert_int_eq(d.verdict, VS_VERDICT_OK);
	ck_assert(!d.raw_high);

	/* No session figures: no verdict at all. */
	d = eval(&cfg, &st, 2000, 3, NULL, NULL);
	ck_assert(!d.raw_high && !d.raw_low);
	ck_assert_int_eq(d.verdict, VS_VERDICT_OK);
}
END_TEST

START_TEST(ratio_two_below_tlower_victim_fewest)
{
	vs_pool_config cfg = design_pool(VS_POLICY_RATIO, 1, 1);
	vs_policy_state st;
	vs_policy_decision d;
	const double two_low[] = {40, 9, 50, 3}, one_low[] = {40, 3, 50, 30};
	const double at_min[] = {1, 2};

	vs_policy_state_init(&st, &cfg);
	d = eval(&cfg, &st, 0, 4, NULL, two_low);
	ck_assert_int_eq(d.verdict, VS_VERDICT_LOW);
	ck_assert_uint_eq(d.desired, 3);
	ck_assert_int_eq(d.victim, 3);
	ck_assert_double_eq_tol(d.value, 9, 1e-9); /* the second smallest */

	/* One instance below 10% is not enough. */
	d = eval(&cfg, &st, 1000, 4, NULL, one_low);
	ck_assert_int_eq(d.verdict, VS_VERDICT_OK);
	ck_assert(!d.raw_low);
	ck_assert_int_eq(d.victim, -1);

	/* Both below, but the pool is at min 2: no scale-in. */
	d = eval(&cfg, &st, 2000, 2, NULL, at_min);
	ck_assert(d.raw_low);
	ck_assert_int_eq(d.verdict, VS_VERDICT_OK);
	ck_assert_uint_eq(d.desired, 2);
}
END_TEST

START_TEST(ratio_at_max_alerts)
{
	vs_pool_config cfg = design_pool(VS_POLICY_RATIO, 7, 10);
	vs_policy_state st;
	vs_policy_decision d = {0};
	const double full[] = {70, 80, 90, 65, 61, 100};

	vs_policy_state_init(&st, &cfg);
	for (int i = 0; i < 7; i++)
		d = eval(&cfg, &st, i * 1000, 6, NULL, full);
	ck_assert_int_eq(d.verdict, VS_VERDICT_AT_MAX);
	ck_assert_uint_eq(d.desired, 6);
	ck_assert_uint_eq(d.current, 6);
	ck_assert_int_eq(st.last, VS_VERDICT_AT_MAX);
}
END_TEST

START_TEST(debounce_short_spike_suppressed)
{
	vs_pool_config cfg = design_pool(VS_POLICY_RATIO, 7, 10);
	vs_policy_state st;
	vs_policy_decision d;
	const double calm[] = {30, 30, 30}, busy[] = {80, 80, 80};
	int64_t t = 0;

	vs_policy_state_init(&st, &cfg);
	for (int i = 0; i < 5; i++, t += 1000)
		ck_assert_int_eq(eval(&cfg, &st, t, 3, NULL, calm).verdict, VS_VERDICT_OK);
	/* A 6-sample spike: never 7 of 10. */
	for (int i = 0; i < 6; i++, t += 1000) {
		d = eval(&cfg, &st, t, 3, NULL, busy);
		ck_assert(d.raw_high);
		ck_assert_int_eq(d.verdict, VS_VERDICT_OK);
	}
	for (int i = 0; i < 10; i++, t += 1000)
		ck_assert_int_eq(eval(&cfg, &st, t, 3, NULL, calm).verdict, VS_VERDICT_OK);

	/* A sustained breach fires on its 7th sample, and keeps firing
	 * (level-triggered) while it lasts. */
	for (int i = 1; i <= 12; i++, t += 1000) {
		d = eval(&cfg, &st, t, 3, NULL, busy);
		ck_assert_int_eq(d.verdict, i < 7 ? VS_VERDICT_OK : VS_VERDICT_HIGH);
	}
	ck_assert_uint_eq(d.desired, 4);
}
END_TEST

START_TEST(debounce_flapping_no_action)
{
	const vs_policy_kind kinds[] = {VS_POLICY_AVERAGE, VS_POLICY_RATIO, VS_POLICY_PROPORTIONAL};

	for (size_t k = 0; k < G_N_ELEMENTS(kinds); k++) {
		vs_pool_config cfg = design_pool(kinds[k], 7, 10);
		vs_policy_state st;
		const double high_c[] = {90, 90, 90, 90}, low_c[] = {1, 1, 1, 1};
		const double high_s[] = {95, 95, 95, 95}, low_s[] = {1, 2, 1, 2};

		cfg.stabilization = 0;
		vs_policy_state_init(&st, &cfg);
		for (int i = 0; i < 200; i++) {
			bool hi = i % 2 == 0;
			vs_policy_decision d =
			    eval(&cfg, &st, i * 1000, 4, hi ? high_c : low_c, hi ? high_s : low_s);

			ck_assert(hi ? d.raw_high : d.raw_low);
			ck_assert_int_eq(d.verdict, VS_VERDICT_OK);
			ck_assert_uint_eq(d.desired, 4);
		}
	}
}
END_TEST

START_TEST(proportional_tolerance_and_steps)
{
	vs_pool_config cfg = design_pool(VS_POLICY_PROPORTIONAL, 1, 1);
	vs_policy_state st;
	vs_policy_decision d;
	const double within[] = {54, 54, 54, 54}, double_load[] = {100, 100, 100, 100};
	const double just_out[] = {56, 56, 56, 56};

	vs_policy_state_init(&st, &cfg);
	/* 54/50 = 1.08: inside the 0.1 tolerance. */
	d = eval(&cfg, &st, 0, 4, NULL, within);
	ck_assert_int_eq(d.verdict, VS_VERDICT_OK);
	ck_assert_uint_eq(d.desired, 4);
	ck_assert(!d.raw_high);

	/* 56/50 = 1.12: ceil(4 * 1.12) = 5. */
	d = eval(&cfg, &st, 1000, 4, NULL, just_out);
	ck_assert_int_eq(d.verdict, VS_VERDICT_HIGH);
	ck_assert_uint_eq(d.desired, 5);

	/* ceil(4 * 2) = 8, one step up at a time. */
	d = eval(&cfg, &st, 2000, 4, NULL, double_load);
	ck_assert_int_eq(d.verdict, VS_VERDICT_HIGH);
	ck_assert_uint_eq(d.desired, 5);

	/* Bigger steps, still bounded by max 6. */
	cfg.max_step_up = 4;
	d = eval(&cfg, &st, 3000, 4, NULL, double_load);
	ck_assert_uint_eq(d.desired, 6);

	/* By CPU. */
	cfg.target_metric = "cpu";
	d = eval(&cfg, &st, 4000, 4, within, NULL);
	ck_assert_str_eq(d.metric, "cpu");
	ck_assert_int_eq(d.verdict, VS_VERDICT_OK);
}
END_TEST

START_TEST(proportional_stabilization_window)
{
	vs_pool_config cfg = design_pool(VS_POLICY_PROPORTIONAL, 1, 1);
	vs_policy_state st;
	vs_policy_decision d;
	const double busy[] = {50, 50, 50, 50}, quiet[] = {10, 10, 10, 10};
	int64_t t;

	vs_policy_state_init(&st, &cfg);
	d = eval(&cfg, &st, 0, 4, NULL, busy); /* recommends 4 */
	ck_assert_int_eq(d.verdict, VS_VERDICT_OK);
	/* Load drops: ceil(4 * 0.2) = 1 wanted, but 4 was recommended within
	 * the last 300 s: hold. */
	for (t = 10000; t <= 300000; t += 10000) {
		d = eval(&cfg, &st, t, 4, NULL, quiet);
		ck_assert_int_eq(d.verdict, VS_VERDICT_OK);
		ck_assert_uint_eq(d.desired, 4);
	}
	/* The busy recommendation has left the window: scale in, one step. */
	d = eval(&cfg, &st, 300001, 4, NULL, quiet);
	ck_assert_int_eq(d.verdict, VS_VERDICT_LOW);
	ck_assert_uint_eq(d.desired, 3);
	ck_assert_int_ge(d.victim, 0);

	/* Scale-out is never delayed by the window. */
	const double hot[] = {90, 90, 90};
	d = eval(&cfg, &st, 300002, 3, NULL, hot);
	ck_assert_int_eq(d.verdict, VS_VERDICT_HIGH);
	ck_assert_uint_eq(d.desired, 4);
}
END_TEST

START_TEST(bounds_min_max)
{
	vs_pool_config cfg = design_pool(VS_POLICY_RATIO, 7, 10);
	vs_policy_state st;
	vs_policy_decision d;
	const double one[] = {0};
	const double seven[] = {50, 50, 50, 50, 50, 50, 1};

	vs_policy_state_init(&st, &cfg);
	/* Below min: back to min at once, whatever the load. */
	d = eval(&cfg, &st, 0, 1, NULL, one);
	ck_assert_int_eq(d.verdict, VS_VERDICT_HIGH);
	ck_assert_uint_eq(d.desired, 2);
	d = eval(&cfg, &st, 0, 0, NULL, NULL);
	ck_assert_int_eq(d.verdict, VS_VERDICT_HIGH);
	ck_assert_uint_eq(d.desired, 2);
	/* Above max: back to max, stopping the least busy. */
	d = eval(&cfg, &st, 0, 7, NULL, seven);
	ck_assert_int_eq(d.verdict, VS_VERDICT_LOW);
	ck_assert_uint_eq(d.desired, 6);
	ck_assert_int_eq(d.victim, 6);
}
END_TEST

START_TEST(no_scale_in_on_a_high_sample)
{
	vs_pool_config cfg = design_pool(VS_POLICY_RATIO, 3, 10);
	vs_policy_state st;
	vs_policy_decision d;
	const double idle[] = {1, 2, 3, 4}, busy[] = {70, 70, 70, 70};

	vs_policy_state_init(&st, &cfg);
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(eval(&cfg, &st, i, 4, NULL, idle).verdict, VS_VERDICT_OK);
	ck_assert_int_eq(eval(&cfg, &st, 2, 4, NULL, idle).verdict, VS_VERDICT_LOW);
	/* Still 3 low of the last 4, but this sample is high: no scale-in. */
	d = eval(&cfg, &st, 3, 4, NULL, busy);
	ck_assert(d.raw_high);
	ck_assert_int_eq(d.verdict, VS_VERDICT_OK);
	ck_assert_int_eq(d.victim, -1);
}
END_TEST

START_TEST(vertical_vcpu)
{
	vs_pool_config cfg = design_pool(VS_POLICY_AVERAGE, 7, 10);

	cfg.cpu_high = 80; /* the Xen paper's bounds */
	cfg.cpu_low = 15;
	ck_assert_int_eq(vs_policy_vertical_vcpu(&cfg, 85, 1, 4), 1);
	ck_assert_int_eq(vs_policy_vertical_vcpu(&cfg, 85, 4, 4), 0);
	ck_assert_int_eq(vs_policy_vertical_vcpu(&cfg, 10, 2, 4), -1);
	ck_assert_int_eq(vs_policy_vertical_vcpu(&cfg, 10, 1, 4), 0);
	ck_assert_int_eq(vs_policy_vertical_vcpu(&cfg, 50, 2, 4), 0);
	ck_assert_int_eq(vs_policy_vertical_vcpu(&cfg, -1, 2, 4), 0);
}
END_TEST

START_TEST(verdict_names)
{
	ck_assert_str_eq(vs_verdict_name(VS_VERDICT_OK), "ok");
	ck_assert_str_eq(vs_verdict_name(VS_VERDICT_HIGH), "high");
	ck_assert_str_eq(vs_verdict_name(VS_VERDICT_LOW), "low");
	ck_assert_str_eq(vs_verdict_name(VS_VERDICT_AT_MAX), "at_max");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("seeds");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, debounce_m_of_n);
	tcase_add_test(tc, average_cpu_or_sessions);
	tcase_add_test(tc, average_scale_in_above_min);
	tcase_add_test(tc, ratio_every_instance_above_tupper);
	tcase_add_test(tc, ratio_two_below_tlower_victim_fewest);
	tcase_add_test(tc, ratio_at_max_alerts);
	tcase_add_test(tc, debounce_short_spike_suppressed);
	tcase_add_test(tc, debounce_flapping_no_action);
	tcase_add_test(tc, proportional_tolerance_and_steps);
	tcase_add_test(tc, proportional_stabilization_window);
	tcase_add_test(tc, bounds_min_max);
	tcase_add_test(tc, no_scale_in_on_a_high_sample);
	tcase_add_test(tc, vertical_vcpu);
	tcase_add_test(tc, verdict_names);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
