/*
 * vs-backoff.c - exponential backoff with a ceiling (see vs-backoff.h).
 */
#include "config.h"

#include "vs-backoff.h"

/**
 * vs_backoff_init:
 * @b: the backoff
 * @first_ms: the wait after the first failure (at least 1)
 * @max_ms: the longest wait (at least @first_ms)
 */
void vs_backoff_init(vs_backoff *b, int64_t first_ms, int64_t max_ms)
{
	b->first_ms = first_ms > 0 ? first_ms : 1;
	b->max_ms = max_ms >= b->first_ms ? max_ms : b->first_ms;
	vs_backoff_reset(b);
}

/**
 * vs_backoff_delay_ms:
 * @first_ms: the wait after the first failure
 * @max_ms: the longest wait
 * @failures: consecutive failures so far (0 counts as 1)
 *
 * Returns @first_ms doubled for each failure after the first, at most @max_ms.
 */
int64_t vs_backoff_delay_ms(int64_t first_ms, int64_t max_ms, unsigned failures)
{
	int64_t wait = first_ms;

	for (unsigned i = 1; i < failures && wait < max_ms; i++)
		wait = wait > max_ms / 2 ? max_ms : wait * 2;
	return wait < max_ms ? wait : max_ms;
}

/**
 * vs_backoff_failed:
 * @b: the backoff
 * @now_ms: the time of the failure (any monotonic clock, in ms)
 *
 * Returns the wait before the next attempt: first_ms, then doubled per
 * consecutive failure, never more than max_ms.
 */
int64_t vs_backoff_failed(vs_backoff *b, int64_t now_ms)
{
	int64_t wait = vs_backoff_delay_ms(b->first_ms, b->max_ms, ++b->failures);

	b->not_before_ms = now_ms + wait;
	return wait;
}

/**
 * vs_backoff_reset:
 * @b: the backoff
 *
 * After a success: no wait now, first_ms after the next failure.
 */
void vs_backoff_reset(vs_backoff *b)
{
	b->not_before_ms = 0;
	b->failures = 0;
}

/**
 * vs_backoff_ready:
 * @b: the backoff
 * @now_ms: the time now
 *
 * Returns true when the wait after the last failure is over.
 */
bool vs_backoff_ready(const vs_backoff *b, int64_t now_ms)
{
	return now_ms >= b->not_before_ms;
}

/**
 * vs_backoff_remaining:
 * @b: the backoff
 * @now_ms: the time now
 *
 * Returns the milliseconds left of the wait, 0 when an attempt may be made.
 */
int64_t vs_backoff_remaining(const vs_backoff *b, int64_t now_ms)
{
	return now_ms >= b->not_before_ms ? 0 : b->not_before_ms - now_ms;
}
