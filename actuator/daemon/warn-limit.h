/*
 * warn-limit.h - a bound on how many warnings of one kind are logged: the
 * first @burst of each window are, the rest are only counted and summed up
 * in one line when the window ends ("N more suppressed"). Whoever can
 * write to the socket must not be able to fill the log. Pure (the caller
 * gives the time), for the event loop.
 */
#ifndef VS_WARN_LIMIT_H
#define VS_WARN_LIMIT_H

#include <stdbool.h>
#include <stdint.h>

typedef struct vs_warn_limit {
	int64_t window_us; /* length of a window */
	unsigned burst;    /* warnings logged per window */
	int64_t start_us;  /* start of the current window; 0 = none yet */
	unsigned logged;   /* in the current window */
	uint64_t pending;  /* suppressed in the current window, not yet summed up */
	uint64_t total;    /* suppressed since the start */
} vs_warn_limit;

void vs_warn_limit_init(vs_warn_limit *l, unsigned burst, int64_t window_us);
/* True: log this warning. False: it was counted as suppressed. */
bool vs_warn_limit_allow(vs_warn_limit *l, int64_t now_us);
/* When the window has ended with warnings suppressed: returns how many
 * (and starts afresh), for the one summary line; else 0. */
uint64_t vs_warn_limit_summary(vs_warn_limit *l, int64_t now_us);

#endif
