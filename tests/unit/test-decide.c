/*
 * test-decide.c - which job a pool's machine starts next
 * (actuator/daemon/decide.c), a pure function of what the machine knows
 * and the time: sync first and after failures' backoff, manual targets,
 * convergence into min..max, cooldown, scale-out on a fresh high (alert at
 * max), scale-in on a fresh low only once stabilized, periodic sync.
 */
#include "config.h"

#include "decide.h"
#include "vs-policy.h"

#include "testutil.h"

#define S(seconds) ((int64_t)(seconds)*G_USEC_PER_SEC)

/* A pool that is synced, has 3 running members (min 2, max 6), nothing
 * pending and no notification: the state where nothing is due. */
static vs_pool_facts quiet_facts(void)
{
	return (vs_pool_facts){
	    .now_us = S(1000),
	    .synced = true,
	    .have_members = true,
	    .running = 3,
	    .retry_after_us = 0,
	    .cooldown_until_us = 0,
	    .next_sync_us = S(1005),
	    .manual_target = -1,
	    .verdict = VS_VERDICT_OK,
	    .verdict_us = 0,
	    .last_high_us = 0,
	    .pending_breach = false,
	    .desired = -1,
	    .refill_target = -1,
	};
}

/* @f with a notification of @verdict that arrived @age_us ago. */
static vs_pool_facts notified(vs_pool_facts f, vs_verdict verdict, int64_t age_us, int desired)
{
	f.verdict = verdict;
	f.verdict_us = f.now_us - age_us;
	f.desired = desired;
	if (verdict == VS_VERDICT_HIGH || verdict == VS_VERDICT_AT_MAX)
		f.last_high_us = f.verdict_us;
	return f;
}

static void assert_scale_at(vs_pool_next n, vs_next_kind kind, unsigned target, unsigned steps,
                            bool by_notification, int line)
{
	ck_assert_msg(n.kind == kind, "line %d: kind %d, want %d", line, n.kind, kind);
	ck_assert_msg(n.target == target, "line %d: target %u, want %u", line, n.target, target);
	ck_assert_msg(n.steps == steps, "line %d: steps %u, want %u", line, n.steps, steps);
	ck_assert_msg(n.notified == by_notification, "line %d: notified %d", line, n.notified);
}
#define assert_scale(n, kind, target, steps, notified)                                             \
	assert_scale_at(n, kind, target, steps, notified, __LINE__)

START_TEST(quiet_pool_does_nothing)
{
	const vs_pool_config *p;
	g_autoptr(vs_config) c = vs_test_pool("", &p);
	vs_pool_facts f = quiet_facts();

	ck_assert_int_eq(vs_pool_decide(p, &f).kind, VS_NEXT_NOTHING);
	/* an ok notification changes nothing either */
	f = notified(f, VS_VERDICT_OK, S(1), -1);
	ck_assert_int_eq(vs_pool_decide(p, &f).kind, VS_NEXT_NOTHING);
}
END_TEST

START_TEST(sync_first)
{
	const vs_pool_config *p;
	g_autoptr(vs_config) c = vs_test_pool("", &p);
	vs_pool_facts f = notified(quiet_facts(), VS_VERDICT_HIGH, S(1), -1);

	f.synced = false;
	f.have_members = false;
	ck_assert_int_eq(vs_pool_decide(p, &f).kind, VS_NEXT_SYNC);
	/* even a high verdict or a manual target waits for the first sync */
	f.have_members = true;
	f.manual_target = 5;
	ck_assert_int_eq(vs_pool_decide(p, &f).kind, VS_NEXT_SYNC);
	/* a failed sync is retried after its backoff, not before */
	f.retry_after_us = f.now_us + 1;
	ck_assert_int_eq(vs_pool_decide(p, &f).kind, VS_NEXT_NOTHING);
	f.retry_after_us = f.now_us;
	ck_assert_int_eq(vs_pool_decide(p, &f).kind, VS_NEXT_SYNC);
}
END_TEST

START_TEST(failure_backoff)
{
	const vs_pool_config *p;
	g_autoptr(vs_config) c = vs_test_pool("", &p);
	vs_pool_facts f = notified(quiet_facts(), VS_VERDICT_HIGH, S(1), -1);

	f.retry_after_us = f.now_us + S(4);
	f.next_sync_us = 0; /* a sync is due as well */
	ck_assert_int_eq(vs_pool_decide(p, &f).kind, VS_NEXT_NOTHING);
	f.manual_target = 5;
	ck_assert_int_eq(vs_pool_decide(p, &f).kind, VS_NEXT_NOTHING);
	f.running = 1; /* below min */
	ck_assert_int_eq(vs_pool_decide(p, &f).kind, VS_NEXT_NOTHING);
	/* the backoff over: the manual target comes first */
	f.retry_after_us = f.now_us;
	assert_scale(vs_pool_decide(p, &f), VS_NEXT_SCALE_OUT, 5, 1, false);
}
END_TEST

START_TEST(manual_target)
{
	const vs_pool_config *p;
	g_autoptr(vs_config) c = vs_test_pool("max_step_up = 3\nmax_step_down = 3\n", &p);
	vs_pool_facts f = quiet_facts();

	/* as many at once as max_step_up / max_step_down allow (3 running) */
	f.manual_target = 5;
	assert_scale(vs_pool_decide(p, &f), VS_NEXT_SCALE_OUT, 5, 2, false);
	f.manual_target = 9;
	assert_scale(vs_pool_decide(p, &f), VS_NEXT_SCALE_OUT, 9, 3, false);
	f.manual_target = 2;
	assert_scale(vs_pool_decide(p, &f), VS_NEXT_SCALE_IN, 2, 1, false);
	f.manual_target = 0;
	assert_scale(vs_pool_decide(p, &f), VS_NEXT_SCALE_IN, 0, 3, false);
	f.manual_target = 3;
	ck_assert_int_eq(vs_pool_decide(p, &f).kind, VS_NEXT_MANUAL_REACHED);
	/* it overrides notifications and the cooldown */
	f = notified(f, VS_VERDICT_HIGH, S(1), 6);
	f.manual_target = 2;
	f.cooldown_until_us = f.now_us + S(30);
	assert_scale(vs_pool_decide(p, &f), VS_NEXT_SCALE_IN, 2, 1, false);
	/* without a member count it waits (the next sync tells) */
	f.have_members = false;
	f.cooldown_until_us = 0;
	f.next_sync_us = f.now_us;
	ck_assert_int_eq(vs_pool_decide(p, &f).kind, VS_NEXT_SYNC);
}
END_TEST

/* A manual target reached stays the pool's target: a member lost is
 * replaced; the policy may still move the pool from it (which ends it). */
START_TEST(manual_target_held_once_reached)
{
	const vs_pool_config *p;
	g_autoptr(vs_config) c = vs_test_pool("min = 1\nmax = 6\n", &p);
	vs_pool_facts f = quiet_facts();

	f.manual_target = 3;
	f.manual_reached = true;
	ck_assert_int_eq(vs_pool_decide(p, &f).kind, VS_NEXT_NOTHING);
	f.running = 2;
	assert_scale(vs_pool_decide(p, &f), VS_NEXT_SCALE_OUT, 3, 1, false);
	/* reached and held: a fresh high is the policy's to act on */
	f.running = 3;
	f = notified(f, VS_VERDICT_HIGH, S(1), 5);
	assert_scale(vs_pool_decide(p, &f), VS_NEXT_SCALE_OUT, 5, 1, true);
	/* but not in the cooldown that reaching it started */
	f.cooldown_until_us = f.now_us + S(10);
	ck_assert_int_eq(vs_pool_decide(p, &f).kind, VS_NEXT_NOTHING);
}
END_TEST

START_TEST(converge_into_bounds)
{
	const vs_pool_config *p;
	g_autoptr(vs_config) c = vs_test_pool("min = 2\nmax = 6\n", &p);
	vs_pool_facts f = quiet_facts();

	f.running = 1;
	assert_scale(vs_pool_decide(p, &f), VS_NEXT_SCALE_OUT, 2, 1, false);
	f.running = 0;
	assert_scale(vs_pool_decide(p, &f), VS_NEXT_SCALE_OUT, 2, 1, false);
	f.running = 8;
	assert_scale(vs_pool_decide(p, &f), VS_NEXT_SCALE_IN, 6, 1, false);
	/* whatever the notifications say, and during a cooldown */
	f = notified(f, VS_VERDICT_HIGH, S(1), 9);
	f.cooldown_until_us = f.now_us + S(30);
	assert_scale(vs_pool_decide(p, &f), VS_NEXT_SCALE_IN, 6, 1, false);
	f.running = 1;
	f = notified(f, VS_VERDICT_LOW, S(1), 0);
	assert_scale(vs_pool_decide(p, &f), VS_NEXT_SCALE_OUT, 2, 1, false);
	/* without a member count nothing is known to be out of bounds */
	f.have_members = false;
	ck_assert_int_eq(vs_pool_decide(p, &f).kind, VS_NEXT_NOTHING);
}
END_TEST

/* Instances lost with their host are replaced up to the count before,
 * during a cooldown too, never above max. */
START_TEST(refill_after_host_lost)
{
	const vs_pool_config *p;
	g_autoptr(vs_config) c = vs_test_pool("min = 2\nmax = 6\n", &p);
	vs_pool_facts f = quiet_facts();

	f.running = 2; /* 4 before: 2 lost */
	f.refill_target = 4;
	f.cooldown_until_us = f.now_us + S(30);
	assert_scale(vs_pool_decide(p, &f), VS_NEXT_SCALE_OUT, 4, 1, false);
	f.running = 4;
	ck_assert_int_eq(vs_pool_decide(p, &f).kind, VS_NEXT_NOTHING);
	f.running = 2;
	f.refill_target = 9;
	assert_scale(vs_pool_decide(p, &f), VS_NEXT_SCALE_OUT, 6, 1, false);
	/* a manual target comes first */
	f.manual_target = 3;
	f.manual_reached = true;
	assert_scale(vs_pool_decide(p, &f), VS_NEXT_SCALE_OUT, 3, 1, false);
}
END_TEST

/* Into min..max and back to a refill count, max_step_up / max_step_down
 * at a time, as the policy's own steps. */
START_TEST(bounds_in_steps)
{
	const vs_pool_config *p;
	g_autoptr(vs_config) c =
	    vs_test_pool("min = 5\nmax = 8\nmax_step_up = 2\nmax_step_down = 4\n", &p);
	vs_pool_facts f = quiet_facts();

	f.running = 0;
	assert_scale(vs_pool_decide(p, &f), VS_NEXT_SCALE_OUT, 5, 2, false);
	f.running = 4;
	assert_scale(vs_pool_decide(p, &f), VS_NEXT_SCALE_OUT, 5, 1, false);
	f.running = 14;
	assert_scale(vs_pool_decide(p, &f), VS_NEXT_SCALE_IN, 8, 4, false);
	f.running = 10;
	assert_scale(vs_pool_decide(p, &f), VS_NEXT_SCALE_IN, 8, 2, false);
	f.running = 5;
	f.refill_target = 8;
	assert_scale(vs_pool_decide(p, &f), VS_NEXT_SCALE_OUT, 8, 2, false);
	f.running = 7;
	assert_scale(vs_pool_decide(p, &f), VS_NEXT_SCALE_OUT, 8, 1, false);
}
END_TEST

START_TEST(cooldown)
{
	const vs_pool_config *p;
	g_autoptr(vs_config) c = vs_test_pool("", &p);
	vs_pool_facts f = notified(quiet_facts(), VS_VERDICT_HIGH, S(1), -1);

	f.cooldown_until_us = f.now_us + 1;
	ck_assert_int_eq(vs_pool_decide(p, &f).kind, VS_NEXT_NOTHING);
	f = notified(f, VS_VERDICT_LOW, S(1), -1);
	ck_assert_int_eq(vs_pool_decide(p, &f).kind, VS_NEXT_NOTHING);
	/* a sync that is due waits as well */
	f.next_sync_us = 0;
	ck_assert_int_eq(vs_pool_decide(p, &f).kind, VS_NEXT_NOTHING);
	/* over */
	f = notified(f, VS_VERDICT_HIGH, S(1), -1);
	f.cooldown_until_us = f.now_us;
	ck_assert_int_eq(vs_pool_decide(p, &f).kind, VS_NEXT_SCALE_OUT);
}
END_TEST

START_TEST(high_scales_out)
{
	const vs_pool_config *p, *wide;
	g_autoptr(vs_config) c = vs_test_pool("", &p);
	g_autoptr(vs_config) c_wide = vs_test_pool("max_step_up = 3\n", &wide);
	vs_pool_facts f = notified(quiet_facts(), VS_VERDICT_HIGH, S(1), -1);

	/* no desired count: towards max, one step, vertical first */
	assert_scale(vs_pool_decide(p, &f), VS_NEXT_SCALE_OUT, 6, 1, true);
	/* the notifier's desired count, one instance per action */
	f.desired = 5;
	assert_scale(vs_pool_decide(p, &f), VS_NEXT_SCALE_OUT, 5, 1, true);
	/* with max_step_up = 3: up to three at once, within max */
	assert_scale(vs_pool_decide(wide, &f), VS_NEXT_SCALE_OUT, 5, 2, true);
	f.desired = 9;
	assert_scale(vs_pool_decide(wide, &f), VS_NEXT_SCALE_OUT, 6, 3, true);
	f.running = 2;
	assert_scale(vs_pool_decide(wide, &f), VS_NEXT_SCALE_OUT, 6, 3, true);
	f.running = 5;
	assert_scale(vs_pool_decide(wide, &f), VS_NEXT_SCALE_OUT, 6, 1, true);
	/* a desired count at or below what runs says nothing */
	f.running = 3;
	f.desired = 3;
	assert_scale(vs_pool_decide(wide, &f), VS_NEXT_SCALE_OUT, 6, 1, true);
	/* a notifier's at_max while the actuator sees room: scale out */
	f = notified(f, VS_VERDICT_AT_MAX, S(1), 6);
	assert_scale(vs_pool_decide(p, &f), VS_NEXT_SCALE_OUT, 6, 1, true);
}
END_TEST

START_TEST(high_at_max_alerts)
{
	const vs_pool_config *p;
	g_autoptr(vs_config) c = vs_test_pool("max = 4\n", &p);
	vs_pool_facts f = notified(quiet_facts(), VS_VERDICT_HIGH, S(1), 5);

	f.running = 4;
	ck_assert_int_eq(vs_pool_decide(p, &f).kind, VS_NEXT_ALERT_AT_MAX);
	f = notified(f, VS_VERDICT_AT_MAX, S(1), 4);
	ck_assert_int_eq(vs_pool_decide(p, &f).kind, VS_NEXT_ALERT_AT_MAX);
	/* but only for a fresh verdict */
	f = notified(f, VS_VERDICT_AT_MAX, S(3600), 4);
	ck_assert_int_eq(vs_pool_decide(p, &f).kind, VS_NEXT_NOTHING);
}
END_TEST

/* A high that arrived during the cooldown is acted on once it is over,
 * even when the notifier has not repeated it since. */
START_TEST(pending_breach_after_cooldown)
{
	const vs_pool_config *p;
	g_autoptr(vs_config) c = vs_test_pool("", &p);
	vs_pool_facts f = notified(quiet_facts(), VS_VERDICT_HIGH, S(600), -1);

	f.pending_breach = true;
	f.cooldown_until_us = f.now_us + S(1);
	ck_assert_int_eq(vs_pool_decide(p, &f).kind, VS_NEXT_NOTHING);
	f.cooldown_until_us = f.now_us - S(1);
	assert_scale(vs_pool_decide(p, &f), VS_NEXT_SCALE_OUT, 6, 1, true);
	/* without it the stale high is over */
	f.pending_breach = false;
	ck_assert_int_eq(vs_pool_decide(p, &f).kind, VS_NEXT_NOTHING);
	/* a pending breach is a high's: a later low or ok ends it */
	f.pending_breach = true;
	f = notified(f, VS_VERDICT_OK, S(1), -1);
	ck_assert_int_eq(vs_pool_decide(p, &f).kind, VS_NEXT_NOTHING);
}
END_TEST

/* A notification is fresh for three repeat intervals, at least 10 s. */
START_TEST(stale_notification_ignored)
{
	const vs_pool_config *p, *fast, *slow;
	g_autoptr(vs_config) c = vs_test_pool("", &p); /* repeat_interval 10 */
	g_autoptr(vs_config) c_fast = vs_test_pool("repeat_interval = 1\n", &fast);
	g_autoptr(vs_config) c_slow = vs_test_pool("repeat_interval = 60\n", &slow);
	vs_pool_facts f;

	ck_assert_uint_eq(p->repeat_interval, 10);
	f = notified(quiet_facts(), VS_VERDICT_HIGH, S(30), -1);
	ck_assert_int_eq(vs_pool_decide(p, &f).kind, VS_NEXT_SCALE_OUT);
	f = notified(quiet_facts(), VS_VERDICT_HIGH, S(30) + 1, -1);
	ck_assert_int_eq(vs_pool_decide(p, &f).kind, VS_NEXT_NOTHING);

	/* 3 x 1 s is below the 10 s floor */
	f = notified(quiet_facts(), VS_VERDICT_HIGH, S(10), -1);
	ck_assert_int_eq(vs_pool_decide(fast, &f).kind, VS_NEXT_SCALE_OUT);
	f = notified(quiet_facts(), VS_VERDICT_HIGH, S(10) + 1, -1);
	ck_assert_int_eq(vs_pool_decide(fast, &f).kind, VS_NEXT_NOTHING);

	f = notified(quiet_facts(), VS_VERDICT_HIGH, S(180), -1);
	ck_assert_int_eq(vs_pool_decide(slow, &f).kind, VS_NEXT_SCALE_OUT);
	f = notified(quiet_facts(), VS_VERDICT_HIGH, S(181), -1);
	ck_assert_int_eq(vs_pool_decide(slow, &f).kind, VS_NEXT_NOTHING);

	/* the same for a low */
	f = notified(quiet_facts(), VS_VERDICT_LOW, S(30), -1);
	ck_assert_int_eq(vs_pool_decide(p, &f).kind, VS_NEXT_SCALE_IN);
	f = notified(quiet_facts(), VS_VERDICT_LOW, S(31), -1);
	ck_assert_int_eq(vs_pool_decide(p, &f).kind, VS_NEXT_NOTHING);
	/* and no notification at all is no verdict */
	f = quiet_facts();
	f.verdict = VS_VERDICT_HIGH;
	ck_assert_int_eq(vs_pool_decide(p, &f).kind, VS_NEXT_NOTHING);
}
END_TEST

START_TEST(low_scales_in)
{
	const vs_pool_config *p, *wide;
	g_autoptr(vs_config) c = vs_test_pool("", &p);
	g_autoptr(vs_config) c_wide = vs_test_pool("max_step_down = 3\n", &wide);
	vs_pool_facts f = notified(quiet_facts(), VS_VERDICT_LOW, S(1), -1);

	/* never high: at once, towards min, one step */
	assert_scale(vs_pool_decide(p, &f), VS_NEXT_SCALE_IN, 2, 1, true);
	f.running = 6;
	f.desired = 4;
	assert_scale(vs_pool_decide(p, &f), VS_NEXT_SCALE_IN, 4, 1, true);
	assert_scale(vs_pool_decide(wide, &f), VS_NEXT_SCALE_IN, 4, 2, true);
	f.desired = 0; /* never below min */
	assert_scale(vs_pool_decide(wide, &f), VS_NEXT_SCALE_IN, 2, 3, true);
	f.desired = 6; /* not below what runs: towards min */
	assert_scale(vs_pool_decide(wide, &f), VS_NEXT_SCALE_IN, 2, 1, true);
	/* at min: nothing */
	f.running = 2;
	f.desired = 1;
	ck_assert_int_eq(vs_pool_decide(p, &f).kind, VS_NEXT_NOTHING);
	/* without a member count: nothing */
	f.running = 4;
	f.have_members = false;
	ck_assert_int_eq(vs_pool_decide(p, &f).kind, VS_NEXT_NOTHING);
}
END_TEST

/* Scale-in waits `stabilization` seconds after the last high, whatever the
 * pool's policy. */
START_TEST(low_waits_for_stabilization)
{
	static const char *const kinds[] = {"average", "ratio", "proportional"};
	g_autofree char *keys = g_strdup_printf("policy = %s\nstabilization = 300\n", kinds[_i]);
	const vs_pool_config *p;
	g_autoptr(vs_config) c = vs_test_pool(keys, &p);
	vs_pool_facts f = notified(quiet_facts(), VS_VERDICT_LOW, S(1), -1);

	f.last_high_us = f.now_us - S(299);
	ck_assert_msg(vs_pool_decide(p, &f).kind == VS_NEXT_NOTHING,
	              "%s: scaled in 299 s after a high", kinds[_i]);
	/* a due sync still runs meanwhile */
	f.next_sync_us = f.now_us;
	ck_assert_int_eq(vs_pool_decide(p, &f).kind, VS_NEXT_SYNC);
	f.next_sync_us = f.now_us + S(5);
	f.last_high_us = f.now_us - S(300);
	assert_scale(vs_pool_decide(p, &f), VS_NEXT_SCALE_IN, 2, 1, true);
}
END_TEST

START_TEST(periodic_sync)
{
	const vs_pool_config *p;
	g_autoptr(vs_config) c = vs_test_pool("", &p);
	vs_pool_facts f = quiet_facts();

	f.next_sync_us = f.now_us + 1;
	ck_assert_int_eq(vs_pool_decide(p, &f).kind, VS_NEXT_NOTHING);
	f.next_sync_us = f.now_us;
	ck_assert_int_eq(vs_pool_decide(p, &f).kind, VS_NEXT_SYNC);
	/* a job to do comes before the sync */
	f = notified(f, VS_VERDICT_HIGH, S(1), -1);
	ck_assert_int_eq(vs_pool_decide(p, &f).kind, VS_NEXT_SCALE_OUT);
	/* with no member count known, a high waits for the sync */
	f.have_members = false;
	ck_assert_int_eq(vs_pool_decide(p, &f).kind, VS_NEXT_SYNC);
}
END_TEST

/*
 * Stabilization is one rule for the notifiers and the actuator: for every
 * policy, the policy withholds a low verdict exactly as long as the
 * actuator withholds a scale-in after the last high.
 */
START_TEST(policy_and_actuator_stabilize_alike)
{
	static const char *const policies[] = {"average", "ratio", "proportional"};
	g_autofree char *keys = g_strdup_printf("policy = %s\nmin = 2\nmax = 6\ndebounce = 1/1\n"
	                                        "stabilization = 30\ncpu_low = 15\n"
	                                        "sessions_low = 5\nratio_low = 10\n",
	                                        policies[_i]);
	const vs_pool_config *p;
	g_autoptr(vs_config) cfg = vs_test_pool(keys, &p);
	vs_policy_state st;
	/* 3 running: first busy, then idle; times in seconds */
	const double busy_cpu[] = {90, 90, 90}, idle_cpu[] = {1, 1, 1};
	const double busy_sessions[] = {95, 95, 95}, idle_sessions[] = {0, 0, 0};

	vs_policy_state_init(&st, p);
	vs_policy_sample high = {
	    .now_ms = 100000, .n_running = 3, .cpu = busy_cpu, .sessions = busy_sessions};
	ck_assert_int_eq(vs_policy_evaluate(p, &st, &high).verdict, VS_VERDICT_HIGH);
	for (int t = 101; t <= 140; t++) {
		vs_policy_sample idle = {
		    .now_ms = t * 1000, .n_running = 3, .cpu = idle_cpu, .sessions = idle_sessions};
		bool policy_low = vs_policy_evaluate(p, &st, &idle).verdict == VS_VERDICT_LOW;
		vs_pool_facts f = quiet_facts();

		f.now_us = S(t);
		f.next_sync_us = S(t + 100);
		f.verdict = VS_VERDICT_LOW;
		f.verdict_us = S(t);
		f.last_high_us = S(100);
		bool actuator_in = vs_pool_decide(p, &f).kind == VS_NEXT_SCALE_IN;

		ck_assert_msg(policy_low == actuator_in,
		              "%s at %d s: policy low %d, actuator in %d", policies[_i], t - 100,
		              policy_low, actuator_in);
		ck_assert_int_eq(actuator_in, t - 100 >= 30);
	}
}
END_TEST

/* step: a high without a desired count asks for step instances at once,
 * within max_step_up and max; the policy's desired count wins when larger.
 * A load step needing 4 more adds all 4 in one action. */
START_TEST(step_and_desired_count)
{
	const vs_pool_config *p, *q;
	g_autoptr(vs_config) c = vs_test_pool("max = 10\nstep = 3\nmax_step_up = 4\n", &p);
	g_autoptr(vs_config) c2 = vs_test_pool("max = 8\nstep = 3\nmax_step_up = 2\n", &q);
	vs_pool_facts f = notified(quiet_facts(), VS_VERDICT_HIGH, S(1), -1);

	assert_scale(vs_pool_decide(p, &f), VS_NEXT_SCALE_OUT, 10, 3, true);
	/* bounded by max_step_up */
	assert_scale(vs_pool_decide(q, &f), VS_NEXT_SCALE_OUT, 8, 2, true);
	/* bounded by max */
	f.running = 9;
	assert_scale(vs_pool_decide(p, &f), VS_NEXT_SCALE_OUT, 10, 1, true);
	/* the proportional policy: ceil(3 x 130 / 50) = 8 wanted, 4 at once */
	f.running = 3;
	f.desired = 8;
	assert_scale(vs_pool_decide(p, &f), VS_NEXT_SCALE_OUT, 8, 4, true);
	/* 4 more exactly: one action adds 4 */
	f.desired = 7;
	assert_scale(vs_pool_decide(p, &f), VS_NEXT_SCALE_OUT, 7, 4, true);
}
END_TEST

/* stabilization_up: a high acts once it has lasted that long; the window
 * runs from the first high of the run. */
START_TEST(scale_out_stabilization)
{
	const vs_pool_config *p;
	g_autoptr(vs_config) c = vs_test_pool("stabilization_up = 20\n", &p);
	vs_pool_facts f = notified(quiet_facts(), VS_VERDICT_HIGH, S(1), -1);

	f.high_since_us = f.now_us - S(5);
	ck_assert_int_eq(vs_pool_decide(p, &f).kind, VS_NEXT_NOTHING);
	f.high_since_us = f.now_us - S(19);
	ck_assert_int_eq(vs_pool_decide(p, &f).kind, VS_NEXT_NOTHING);
	f.high_since_us = f.now_us - S(20);
	assert_scale(vs_pool_decide(p, &f), VS_NEXT_SCALE_OUT, 6, 1, true);
	/* scale-in keeps its own window (stabilization) */
	f = notified(quiet_facts(), VS_VERDICT_LOW, S(1), -1);
	f.last_high_us = 0;
	ck_assert_int_eq(vs_pool_decide(p, &f).kind, VS_NEXT_SCALE_IN);
}
END_TEST

/* The warm pool's upkeep: when short, also during a cooldown, never before
 * a high or low that is due, not before its retry time, not while it
 * runs. */
START_TEST(warm_upkeep)
{
	const vs_pool_config *p;
	g_autoptr(vs_config) c = vs_test_pool("warm = 2\n", &p);
	vs_pool_facts f = quiet_facts();

	ck_assert_int_eq(vs_pool_decide(p, &f).kind, VS_NEXT_NOTHING);
	f.warm_needed = true;
	ck_assert_int_eq(vs_pool_decide(p, &f).kind, VS_NEXT_WARM);
	f.cooldown_until_us = f.now_us + S(10);
	ck_assert_int_eq(vs_pool_decide(p, &f).kind, VS_NEXT_WARM);
	f.cooldown_until_us = 0;
	f = notified(f, VS_VERDICT_HIGH, S(1), -1);
	ck_assert_int_eq(vs_pool_decide(p, &f).kind, VS_NEXT_SCALE_OUT);
	f = notified(f, VS_VERDICT_OK, S(1), -1);
	f.warm_retry_us = f.now_us + S(5);
	ck_assert_int_eq(vs_pool_decide(p, &f).kind, VS_NEXT_NOTHING);
	f.warm_retry_us = f.now_us;
	ck_assert_int_eq(vs_pool_decide(p, &f).kind, VS_NEXT_WARM);
	/* the upkeep runs on its own worker: meanwhile the first one syncs */
	f.warm_busy = true;
	f.next_sync_us = f.now_us;
	ck_assert_int_eq(vs_pool_decide(p, &f).kind, VS_NEXT_SYNC);
	f.next_sync_us = f.now_us + S(60);
	ck_assert_int_eq(vs_pool_decide(p, &f).kind, VS_NEXT_NOTHING);
	f.warm_busy = false;
	/* below min first */
	f.running = 1;
	ck_assert_int_eq(vs_pool_decide(p, &f).kind, VS_NEXT_SCALE_OUT);
}
END_TEST

Suite *vs_test_suite(void)
{
	Suite *s = suite_create("decide");
	TCase *tc = tcase_create("decide");

	tcase_add_test(tc, quiet_pool_does_nothing);
	tcase_add_test(tc, sync_first);
	tcase_add_test(tc, failure_backoff);
	tcase_add_test(tc, manual_target);
	tcase_add_test(tc, manual_target_held_once_reached);
	tcase_add_test(tc, converge_into_bounds);
	tcase_add_test(tc, refill_after_host_lost);
	tcase_add_test(tc, bounds_in_steps);
	tcase_add_test(tc, cooldown);
	tcase_add_test(tc, high_scales_out);
	tcase_add_test(tc, high_at_max_alerts);
	tcase_add_test(tc, pending_breach_after_cooldown);
	tcase_add_test(tc, stale_notification_ignored);
	tcase_add_test(tc, low_scales_in);
	tcase_add_loop_test(tc, low_waits_for_stabilization, 0, 3);
	tcase_add_test(tc, periodic_sync);
	tcase_add_test(tc, step_and_desired_count);
	tcase_add_test(tc, scale_out_stabilization);
	tcase_add_test(tc, warm_upkeep);
	tcase_add_loop_test(tc, policy_and_actuator_stabilize_alike, 0, 3);
	suite_add_tcase(s, tc);
	return s;
}
