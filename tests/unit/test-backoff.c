/*
 * test-backoff.c - the retry rhythm of lib/vs-backoff.c: first wait, then
 * twice as long per consecutive failure up to the ceiling, back to the
 * first wait after a success; readiness and time left on a clock the test
 * controls.
 */
#include "config.h"

#include "vs-backoff.h"

#include "testutil.h"

#include <limits.h>

START_TEST(delay_doubles_up_to_max)
{
	ck_assert_int_eq(vs_backoff_delay_ms(1000, 60000, 1), 1000);
	ck_assert_int_eq(vs_backoff_delay_ms(1000, 60000, 2), 2000);
	ck_assert_int_eq(vs_backoff_delay_ms(1000, 60000, 3), 4000);
	ck_assert_int_eq(vs_backoff_delay_ms(1000, 60000, 4), 8000);
	ck_assert_int_eq(vs_backoff_delay_ms(1000, 60000, 6), 32000);
	/* 64 s would exceed the ceiling */
	ck_assert_int_eq(vs_backoff_delay_ms(1000, 60000, 7), 60000);
	ck_assert_int_eq(vs_backoff_delay_ms(1000, 60000, 8), 60000);
	/* however many failures: the ceiling, never an overflow */
	ck_assert_int_eq(vs_backoff_delay_ms(1000, 60000, 1000), 60000);
	ck_assert_int_eq(vs_backoff_delay_ms(1000, 60000, UINT_MAX), 60000);
	ck_assert_int_eq(vs_backoff_delay_ms(250, 30000, 200), 30000);
	/* 0 failures counts as the first */
	ck_assert_int_eq(vs_backoff_delay_ms(1000, 60000, 0), 1000);
	/* a ceiling that is a power of two away is reached exactly */
	ck_assert_int_eq(vs_backoff_delay_ms(250, 8000, 6), 8000);
	ck_assert_int_eq(vs_backoff_delay_ms(250, 8000, 5), 4000);
	/* never more than the ceiling, even for the first wait */
	ck_assert_int_eq(vs_backoff_delay_ms(5000, 1000, 1), 1000);
}
END_TEST

START_TEST(init_clamps)
{
	vs_backoff b;

	vs_backoff_init(&b, 0, 0);
	ck_assert_int_eq(b.first_ms, 1);
	ck_assert_int_eq(b.max_ms, 1);
	vs_backoff_init(&b, -5, 100);
	ck_assert_int_eq(b.first_ms, 1);
	ck_assert_int_eq(b.max_ms, 100);
	/* a ceiling below the first wait is raised to it */
	vs_backoff_init(&b, 2000, 500);
	ck_assert_int_eq(b.first_ms, 2000);
	ck_assert_int_eq(b.max_ms, 2000);
	ck_assert_uint_eq(b.failures, 0);
	ck_assert_int_eq(b.not_before_ms, 0);
}
END_TEST

START_TEST(failures_wait_longer_each_time)
{
	vs_backoff b;
	const int64_t expected[] = {1000, 2000, 4000, 8000, 8000, 8000};
	int64_t now = 50000;

	vs_backoff_init(&b, 1000, 8000);
	for (size_t i = 0; i < G_N_ELEMENTS(expected); i++) {
		int64_t wait = vs_backoff_failed(&b, now);

		ck_assert_int_eq(wait, expected[i]);
		ck_assert_uint_eq(b.failures, i + 1);
		ck_assert_int_eq(b.not_before_ms, now + wait);
		/* the next attempt waits exactly that long, measured from the failure */
		now += wait;
	}
}
END_TEST

START_TEST(ready_and_remaining_on_a_clock)
{
	vs_backoff b;

	vs_backoff_init(&b, 1000, 60000);
	/* nothing failed yet: an attempt may be made at once, whatever the clock */
	ck_assert(vs_backoff_ready(&b, 0));
	ck_assert(vs_backoff_ready(&b, 123456));
	ck_assert_int_eq(vs_backoff_remaining(&b, 0), 0);

	ck_assert_int_eq(vs_backoff_failed(&b, 10000), 1000);
	ck_assert(!vs_backoff_ready(&b, 10000));
	ck_assert(!vs_backoff_ready(&b, 10999));
	ck_assert(vs_backoff_ready(&b, 11000));
	ck_assert(vs_backoff_ready(&b, 20000));
	ck_assert_int_eq(vs_backoff_remaining(&b, 10000), 1000);
	ck_assert_int_eq(vs_backoff_remaining(&b, 10400), 600);
	ck_assert_int_eq(vs_backoff_remaining(&b, 11000), 0);
	ck_assert_int_eq(vs_backoff_remaining(&b, 99999), 0);

	/* the second failure, made late, waits twice as long from then */
	ck_assert_int_eq(vs_backoff_failed(&b, 15000), 2000);
	ck_assert(!vs_backoff_ready(&b, 16999));
	ck_assert(vs_backoff_ready(&b, 17000));
	ck_assert_int_eq(vs_backoff_remaining(&b, 15500), 1500);
}
END_TEST

START_TEST(success_starts_over)
{
	vs_backoff b;

	vs_backoff_init(&b, 500, 30000);
	for (int i = 0; i < 5; i++)
		vs_backoff_failed(&b, 1000);
	ck_assert_int_eq(b.not_before_ms, 1000 + 8000);
	ck_assert(!vs_backoff_ready(&b, 2000));

	vs_backoff_reset(&b);
	ck_assert_uint_eq(b.failures, 0);
	ck_assert(vs_backoff_ready(&b, 2000));
	ck_assert_int_eq(vs_backoff_remaining(&b, 2000), 0);
	/* the next failure waits the first delay again, not the sixth */
	ck_assert_int_eq(vs_backoff_failed(&b, 3000), 500);
	ck_assert_int_eq(vs_backoff_remaining(&b, 3000), 500);
	/* reset keeps the configured delays */
	ck_assert_int_eq(b.first_ms, 500);
	ck_assert_int_eq(b.max_ms, 30000);
}
END_TEST

Suite *vs_test_suite(void)
{
	Suite *s = suite_create("backoff");
	TCase *tc = tcase_create("backoff");

	tcase_add_test(tc, delay_doubles_up_to_max);
	tcase_add_test(tc, init_clamps);
	tcase_add_test(tc, failures_wait_longer_each_time);
	tcase_add_test(tc, ready_and_remaining_on_a_clock);
	tcase_add_test(tc, success_starts_over);
	suite_add_tcase(s, tc);
	return s;
}
