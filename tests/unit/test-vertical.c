/*
 * test-vertical.c - vertical scaling per member: each member's own M-of-N
 * windows on its CPU% and memory use (lib/vs-vertical.c), the balloon's
 * steps, and when the pool's machine takes a member's step rather than
 * (or after) an instance (actuator/daemon/decide-vertical.c).
 */
#include "config.h"

#include "decide-vertical.h"
#include "vs-vertical.h"

#include "testutil.h"

#define S(seconds) ((int64_t)(seconds)*G_USEC_PER_SEC)
#define MIB        1024u

static vs_vertical_sample cpu_sample(double cpu, unsigned vcpus, unsigned max)
{
	return (vs_vertical_sample){
	    .cpu_percent = cpu, .vcpus = vcpus, .vcpus_max = max, .mem_percent = -1};
}

static vs_vertical_sample mem_sample(double used, uint64_t kib, uint64_t max_kib)
{
	return (vs_vertical_sample){.cpu_percent = -1,
	                            .vcpus = 1,
	                            .vcpus_max = 1,
	                            .mem_percent = used,
	                            .mem_kib = kib,
	                            .mem_max_kib = max_kib};
}

/* The seed's defaults: lower 15 %, upper 80 %, 7 of 10, every 5 s,
 * vertical first. */
START_TEST(defaults)
{
	const vs_pool_config *p;
	g_autoptr(vs_config) c = vs_test_pool("vertical = vcpu\n", &p);

	ck_assert_double_eq(p->vertical_cpu_low, 15);
	ck_assert_double_eq(p->vertical_cpu_high, 80);
	ck_assert_double_eq(p->vertical_memory_low, 15);
	ck_assert_double_eq(p->vertical_memory_high, 80);
	ck_assert_uint_eq(p->vertical_debounce.m, 7);
	ck_assert_uint_eq(p->vertical_debounce.n, 10);
	ck_assert_uint_eq(p->vertical_interval, 5);
	ck_assert_int_eq(p->scale_order, VS_ORDER_VERTICAL_FIRST);
}
END_TEST

/* +1 vCPU only once 7 of the last 10 samples were above 80 %; not above
 * the maximum (at_max instead); the window starts again when the count
 * changes. */
START_TEST(cpu_window_grows)
{
	const vs_pool_config *p;
	g_autoptr(vs_config) c = vs_test_pool("vertical = vcpu\n", &p);
	vs_vertical_window w;
	vs_vertical_step st;
	vs_vertical_sample busy = cpu_sample(95, 1, 2), calm = cpu_sample(50, 1, 2);

	vs_vertical_window_init(&w, p);
	for (int i = 0; i < 6; i++) {
		st = vs_vertical_push(p, &w, &busy);
		ck_assert_int_eq(st.vcpu, 0);
	}
	/* an in-between sample does not end the breach, it only counts as none */
	st = vs_vertical_push(p, &w, &calm);
	ck_assert_int_eq(st.vcpu, 0);
	st = vs_vertical_push(p, &w, &busy);
	ck_assert_int_eq(st.vcpu, +1);
	ck_assert_int_eq(vs_vertical_direction(&st), +1);
	ck_assert(!st.cpu_at_max);
	/* exactly at the threshold is not above it */
	vs_vertical_window_init(&w, p);
	for (int i = 0; i < 10; i++)
		st = vs_vertical_push(p, &w, &(vs_vertical_sample){80, 1, 2, -1, 0, 0});
	ck_assert_int_eq(st.vcpu, 0);
	/* two vCPUs now: the samples of one meant something else */
	vs_vertical_window_init(&w, p);
	for (int i = 0; i < 10; i++)
		st = vs_vertical_push(p, &w, &busy);
	ck_assert_int_eq(st.vcpu, +1);
	busy.vcpus = 2;
	st = vs_vertical_push(p, &w, &busy);
	ck_assert_int_eq(st.vcpu, 0);
	ck_assert(!st.cpu_at_max);
	for (int i = 0; i < 6; i++)
		st = vs_vertical_push(p, &w, &busy);
	/* 7 of 7 high, but it has all its vCPUs */
	ck_assert_int_eq(st.vcpu, 0);
	ck_assert(st.cpu_at_max);
	ck_assert_int_eq(vs_vertical_direction(&st), 0);
}
END_TEST

/* -1 vCPU below 15 %, never below one; unknown samples count for nothing;
 * a reset (the actuator acted) starts the window again. */
START_TEST(cpu_window_shrinks)
{
	const vs_pool_config *p;
	g_autoptr(vs_config) c = vs_test_pool("vertical = vcpu\nvertical_debounce = 3/4\n", &p);
	vs_vertical_window w;
	vs_vertical_step st;
	vs_vertical_sample idle = cpu_sample(2, 2, 4), unknown = cpu_sample(-1, 2, 4);

	vs_vertical_window_init(&w, p);
	st = vs_vertical_push(p, &w, &idle);
	st = vs_vertical_push(p, &w, &unknown);
	st = vs_vertical_push(p, &w, &unknown);
	ck_assert_int_eq(st.vcpu, 0);
	st = vs_vertical_push(p, &w, &idle);
	ck_assert_int_eq(st.vcpu, 0);
	st = vs_vertical_push(p, &w, &idle);
	ck_assert_int_eq(st.vcpu, -1);
	ck_assert_int_eq(vs_vertical_direction(&st), -1);
	vs_vertical_window_reset(&w, true, false);
	st = vs_vertical_push(p, &w, &idle);
	ck_assert_int_eq(st.vcpu, 0);
	/* one vCPU: nothing to give up */
	vs_vertical_window_init(&w, p);
	idle.vcpus = 1;
	for (int i = 0; i < 4; i++)
		st = vs_vertical_push(p, &w, &idle);
	ck_assert_int_eq(st.vcpu, 0);
	/* a pool that scales memory only never asks for vCPUs */
	g_autoptr(vs_config) m = vs_test_pool("vertical = memory\nvertical_debounce = 1/1\n", &p);
	vs_vertical_window_init(&w, p);
	idle.vcpus = 2;
	st = vs_vertical_push(p, &w, &idle);
	ck_assert_int_eq(st.vcpu, 0);
}
END_TEST

/* Memory: a quarter of the maximum more when high (up to the maximum), a
 * quarter less when low, never below a quarter nor so low that what the
 * guest uses would read as high. */
START_TEST(memory_steps)
{
	const vs_pool_config *p;
	g_autoptr(vs_config) c =
	    vs_test_pool("vertical = memory\nvertical_debounce = 1/1\n", &p); /* 15 / 80 */
	vs_vertical_window w;
	vs_vertical_step st;
	vs_vertical_sample s = mem_sample(90, 512 * MIB, 1024 * MIB);

	vs_vertical_window_init(&w, p);
	st = vs_vertical_push(p, &w, &s);
	ck_assert_int_eq(st.memory, +1);
	ck_assert_int_eq(st.vcpu, 0);
	ck_assert_uint_eq(vs_vertical_memory_target(p, 512 * MIB, 1024 * MIB, 90, +1), 768 * MIB);
	ck_assert_uint_eq(vs_vertical_memory_target(p, 900 * MIB, 1024 * MIB, 90, +1), 1024 * MIB);
	s = mem_sample(90, 1024 * MIB, 1024 * MIB);
	st = vs_vertical_push(p, &w, &s);
	ck_assert_int_eq(st.memory, 0);
	ck_assert(st.mem_at_max);
	/* 10 % of 1024 MiB in use: down a quarter */
	ck_assert_uint_eq(vs_vertical_memory_target(p, 1024 * MIB, 1024 * MIB, 10, -1), 768 * MIB);
	s = mem_sample(10, 1024 * MIB, 1024 * MIB);
	st = vs_vertical_push(p, &w, &s);
	ck_assert_int_eq(st.memory, -1);
	/* never below a quarter of the maximum */
	ck_assert_uint_eq(vs_vertical_memory_target(p, 300 * MIB, 1024 * MIB, 1, -1), 256 * MIB);
	s = mem_sample(1, 256 * MIB, 1024 * MIB);
	st = vs_vertical_push(p, &w, &s);
	ck_assert_int_eq(st.memory, 0);
	/* 14 % of 1024 MiB (143 MiB) fits in 768 at 19 %: fine; of 200 MiB
	 * at 70 % (140 MiB) the floor is 140 / 0.8 = 175 MiB, not 200 - 256 */
	ck_assert_uint_eq(vs_vertical_memory_target(p, 200 * MIB, 1024 * MIB, 70, -1), 200 * MIB);
	ck_assert_uint_eq(vs_vertical_memory_target(p, 700 * MIB, 1024 * MIB, 14, -1), 444 * MIB);
	/* unknown use never shrinks */
	ck_assert_uint_eq(vs_vertical_memory_target(p, 1024 * MIB, 1024 * MIB, -1, -1), 1024 * MIB);
	/* the guest's statistics: what is not usable (else not unused) is used */
	ck_assert_double_eq_tol(vs_vertical_memory_percent(1000, 250, 100), 75, 1e-9);
	ck_assert_double_eq_tol(vs_vertical_memory_percent(1000, 0, 100), 90, 1e-9);
	ck_assert(vs_vertical_memory_percent(0, 250, 100) < 0);
	ck_assert(vs_vertical_memory_percent(1000, 0, 0) < 0);
	ck_assert(vs_vertical_memory_percent(1000, 2000, 0) < 0);
}
END_TEST

/* Bad windows and thresholds are refused with the line. */
START_TEST(config_checks)
{
	GError *err = NULL;
	const char *bad[] = {
	    "vertical_cpu_low = 80\nvertical_cpu_high = 80\n",
	    "vertical_memory_low = 90\nvertical_memory_high = 80\n",
	    "vertical_debounce = 11/10\n",
	    "vertical_debounce = 7\n",
	    "vertical_interval = 0\n",
	    "scale_order = diagonal\n",
	};

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autofree char *text = g_strdup_printf(
		    "[pool web]\ntemplate = t\nname_pattern = web-%%02d\n%s", bad[i]);
		vs_config *c = vs_config_load_from_data(text, strlen(text), "t.conf", &err);

		ck_assert_msg(!c, "accepted: %s", bad[i]);
		ck_assert_msg(strstr(err->message, "t.conf:"), "%s", err->message);
		g_clear_error(&err);
	}
	const vs_pool_config *p;
	g_autoptr(vs_config) c =
	    vs_test_pool("vertical_debounce = 3/4\nscale_order = horizontal-first\n", &p);
	ck_assert_uint_eq(p->vertical_debounce.m, 3);
	ck_assert_uint_eq(p->vertical_debounce.n, 4);
	ck_assert_int_eq(p->scale_order, VS_ORDER_HORIZONTAL_FIRST);
	/* the pool's own debounce is another key */
	ck_assert_uint_eq(p->debounce_m, 7);
	ck_assert_uint_eq(p->debounce_n, 10);
}
END_TEST

static vs_pool_facts quiet_facts(unsigned running)
{
	return (vs_pool_facts){.now_us = S(1000),
	                       .synced = true,
	                       .have_members = true,
	                       .running = running,
	                       .next_sync_us = S(1005),
	                       .manual_target = -1,
	                       .verdict = VS_VERDICT_OK,
	                       .desired = -1,
	                       .refill_target = -1};
}

static vs_pool_facts high(vs_pool_facts f)
{
	f.verdict = VS_VERDICT_HIGH;
	f.verdict_us = f.last_high_us = f.now_us - S(1);
	return f;
}

static vs_next_kind decide(const vs_pool_config *p, const vs_pool_facts *f, unsigned grow,
                           unsigned shrink, int *direction)
{
	vs_vertical_wants v = {.grow = grow, .shrink = shrink};
	vs_pool_next n = vs_pool_decide_vertical(p, f, &v, vs_pool_decide(p, f));

	*direction = n.direction;
	return n.kind;
}

/* vertical-first: a member that asks to grow does before a scale-out, and
 * instead of an at-max alert; with none asking, the pool scales out; the
 * pool's cooldown does not hold a member's step. */
START_TEST(order_vertical_first)
{
	const vs_pool_config *p;
	g_autoptr(vs_config) c = vs_test_pool("min = 2\nmax = 4\nvertical = vcpu\n", &p);
	vs_pool_facts f = high(quiet_facts(3));
	int d;

	ck_assert_int_eq(decide(p, &f, 1, 0, &d), VS_NEXT_VERTICAL);
	ck_assert_int_eq(d, +1);
	/* the busy members are at their maximum (none asks): instances */
	ck_assert_int_eq(decide(p, &f, 0, 0, &d), VS_NEXT_SCALE_OUT);
	/* a shrink never delays a scale-out */
	ck_assert_int_eq(decide(p, &f, 0, 1, &d), VS_NEXT_SCALE_OUT);
	f.running = 4;
	ck_assert_int_eq(decide(p, &f, 1, 0, &d), VS_NEXT_VERTICAL);
	ck_assert_int_eq(decide(p, &f, 0, 0, &d), VS_NEXT_ALERT_AT_MAX);
	/* no notification at all, in a cooldown: a member's own window */
	f = quiet_facts(3);
	f.cooldown_until_us = f.now_us + S(30);
	ck_assert_int_eq(decide(p, &f, 0, 1, &d), VS_NEXT_VERTICAL);
	ck_assert_int_eq(d, -1);
	ck_assert_int_eq(decide(p, &f, 1, 1, &d), VS_NEXT_VERTICAL);
	ck_assert_int_eq(d, +1);
	ck_assert_int_eq(decide(p, &f, 0, 0, &d), VS_NEXT_NOTHING);
	/* at min, a low pool's member still shrinks */
	f = quiet_facts(2);
	f.verdict = VS_VERDICT_LOW;
	f.verdict_us = f.now_us - S(1);
	ck_assert_int_eq(decide(p, &f, 0, 1, &d), VS_NEXT_VERTICAL);
	ck_assert_int_eq(d, -1);
}
END_TEST

/* horizontal-first: instances until max; a member grows only at max and
 * shrinks only at min. */
START_TEST(order_horizontal_first)
{
	const vs_pool_config *p;
	g_autoptr(vs_config) c =
	    vs_test_pool("min = 2\nmax = 4\nvertical = both\nscale_order = horizontal-first\n", &p);
	vs_pool_facts f = high(quiet_facts(3));
	int d;

	ck_assert_int_eq(decide(p, &f, 1, 0, &d), VS_NEXT_SCALE_OUT);
	f.running = 4;
	ck_assert_int_eq(decide(p, &f, 1, 0, &d), VS_NEXT_VERTICAL);
	ck_assert_int_eq(d, +1);
	f = quiet_facts(3);
	ck_assert_int_eq(decide(p, &f, 1, 1, &d), VS_NEXT_NOTHING);
	f.running = 2;
	ck_assert_int_eq(decide(p, &f, 0, 1, &d), VS_NEXT_VERTICAL);
	ck_assert_int_eq(d, -1);
}
END_TEST

/* Before the first sync, in a failure's backoff, towards a manual target or
 * into min..max: instances, not members; a pool without vertical scaling
 * never takes a vertical step. */
START_TEST(instances_first_when_they_must)
{
	const vs_pool_config *p, *plain;
	g_autoptr(vs_config) c = vs_test_pool("min = 2\nmax = 4\nvertical = vcpu\n", &p);
	g_autoptr(vs_config) c2 = vs_test_pool("min = 2\nmax = 4\n", &plain);
	vs_pool_facts f = quiet_facts(3);
	int d;

	f.synced = false;
	ck_assert_int_eq(decide(p, &f, 1, 0, &d), VS_NEXT_SYNC);
	f = quiet_facts(3);
	f.retry_after_us = f.now_us + S(5);
	ck_assert_int_eq(decide(p, &f, 1, 0, &d), VS_NEXT_NOTHING);
	f = quiet_facts(3);
	f.manual_target = 4;
	ck_assert_int_eq(decide(p, &f, 1, 0, &d), VS_NEXT_SCALE_OUT);
	f = quiet_facts(1);
	ck_assert_int_eq(decide(p, &f, 1, 0, &d), VS_NEXT_SCALE_OUT);
	f = quiet_facts(3);
	ck_assert_int_eq(decide(plain, &f, 1, 1, &d), VS_NEXT_NOTHING);
	/* a vertical pool at max and high with no member to grow alerts */
	f = high(quiet_facts(4));
	ck_assert_int_eq(decide(p, &f, 0, 0, &d), VS_NEXT_ALERT_AT_MAX);
	f = quiet_facts(2);
	f.verdict = VS_VERDICT_LOW;
	f.verdict_us = f.now_us - S(1);
	ck_assert_int_ne(decide(p, &f, 0, 0, &d), VS_NEXT_SCALE_IN);
}
END_TEST

/* vCPUs of a TCG domain are not unplugged: its type is read from the XML */
START_TEST(tcg_domain)
{
	ck_assert(vs_vertical_tcg_domain("<domain type='qemu' id='3'>\n  <name>a</name>"));
	ck_assert(vs_vertical_tcg_domain("<domain type=\"qemu\">"));
	ck_assert(vs_vertical_tcg_domain("<domain id='3' type='qemu' xmlns:qemu='x'>"));
	ck_assert(!vs_vertical_tcg_domain("<domain type='kvm' id='3'><name>qemu</name>"));
	ck_assert(!vs_vertical_tcg_domain("<domain type='qemux'>"));
	ck_assert(!vs_vertical_tcg_domain("<domain xmlns:qemu='type=qemu'><x type='qemu'/>"));
	ck_assert(!vs_vertical_tcg_domain("<domain>"));
	ck_assert(!vs_vertical_tcg_domain("<domain type='qemu'"));
	ck_assert(!vs_vertical_tcg_domain(""));
	ck_assert(!vs_vertical_tcg_domain(NULL));
}
END_TEST

Suite *vs_test_suite(void)
{
	Suite *s = suite_create("vertical");
	TCase *tc = tcase_create("vertical");

	tcase_add_test(tc, defaults);
	tcase_add_test(tc, cpu_window_grows);
	tcase_add_test(tc, cpu_window_shrinks);
	tcase_add_test(tc, memory_steps);
	tcase_add_test(tc, config_checks);
	tcase_add_test(tc, order_vertical_first);
	tcase_add_test(tc, order_horizontal_first);
	tcase_add_test(tc, instances_first_when_they_must);
	tcase_add_test(tc, tcg_domain);
	suite_add_tcase(s, tc);
	return s;
}
