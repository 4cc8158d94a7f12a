/*
 * warn-limit.c - a bound on warnings of one kind (see warn-limit.h).
 */
#include "config.h"

#include "warn-limit.h"

/** vs_warn_limit_init: @burst warnings logged per window of @window_us. */
void vs_warn_limit_init(vs_warn_limit *l, unsigned burst, int64_t window_us)
{
	*l = (vs_warn_limit){.window_us = window_us, .burst = burst};
}

static void roll(vs_warn_limit *l, int64_t now_us)
{
	if (l->start_us == 0 || now_us - l->start_us >= l->window_us) {
		l->start_us = now_us ? now_us : 1;
		l->logged = 0;
	}
}

/**
 * vs_warn_limit_allow: true when this warning is to be logged, false when
 * it is over the window's burst (then it is counted as suppressed).
 */
bool vs_warn_limit_allow(vs_warn_limit *l, int64_t now_us)
{
	if (l->pending == 0)
		roll(l, now_us);
	if (l->logged < l->burst) {
		l->logged++;
		return true;
	}
	l->pending++;
	l->total++;
	return false;
}

/**
 * vs_warn_limit_summary: the number of warnings suppressed in a window
 * that has ended (0 when none, or the window goes on); the next window
 * starts with the next warning.
 */
uint64_t vs_warn_limit_summary(vs_warn_limit *l, int64_t now_us)
{
	uint64_t n = l->pending;

	if (n == 0 || now_us - l->start_us < l->window_us)
		return 0;
	l->pending = 0;
	l->start_us = 0;
	return n;
}
