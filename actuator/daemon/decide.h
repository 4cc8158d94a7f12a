/*
 * decide.h - when a pool's machine starts which job: a pure function of
 * what the machine knows and the time (passed in), unit-tested like the
 * policy. In order:
 *
 *   not synced yet          -> sync (after the retry backoff)
 *   after a failure         -> nothing until the backoff is over
 *   a manual target         -> towards it, one instance at a time, whatever
 *                              the cooldown; reached the first time: a
 *                              cooldown starts. It holds (a member lost is
 *                              replaced) until the policy moves the pool
 *   instances lost with     -> back towards the count before, one instance
 *     their host               at a time, whatever the cooldown (on the
 *                              hosts that answer); ends when reached or
 *                              when the policy moves the pool
 *   below min / above max   -> converge, whatever the notifications say
 *   in cooldown             -> nothing (a high meanwhile is remembered)
 *   high (fresh, or kept    -> once it has lasted stabilization_up, scale
 *         from the cooldown)   out towards the notifier's desired count (or
 *                              step more; max_step_up at once); at max: alert
 *                              (decide-vertical.c may grow a member first)
 *   low (fresh), stabilized -> scale in towards the notifier's desired
 *                              count (max_step_down at once)
 *   warm pool short/stale   -> its upkeep, also in a cooldown (one
 *                              instance per job: a high gets in between)
 *   every 10 s              -> sync
 *
 * Vertical scaling (a member's own vCPUs or memory) is decided around this,
 * in decide-vertical.h, by scale_order.
 *
 * A notification is fresh for 3 repeat intervals (at least 10 s): the
 * notifiers repeat a lasting breach, so a stale one is over.
 */
#ifndef VS_DECIDE_H
#define VS_DECIDE_H

#include "vs-config.h"
#include "vs-states.h"

#include <stdbool.h>
#include <stdint.h>

/* What a pool's machine knows; times are monotonic microseconds, 0 = never. */
typedef struct vs_pool_facts {
	int64_t now_us;
	bool synced;       /* a sync has finished once */
	bool have_members; /* the member count is known */
	unsigned running;
	int64_t retry_after_us;    /* after a failure, no job before this */
	int64_t cooldown_until_us; /* after an action */
	int64_t next_sync_us;
	int manual_target;     /* -1 none */
	bool manual_reached;   /* the manual target was reached once */
	vs_verdict verdict;    /* of the last notification */
	int64_t verdict_us;    /* when it arrived */
	int64_t last_high_us;  /* when the last high arrived */
	bool pending_breach;   /* a high arrived during the cooldown */
	int desired;           /* the last notification's desired count, -1 none */
	int refill_target;     /* running before a host was lost, -1 none */
	int64_t high_since_us; /* when the current run of highs began, 0 none */
	bool warm_needed;      /* the warm pool is short or holds stale instances */
	bool warm_busy;        /* its upkeep runs (on the pool's second worker) */
	int64_t warm_retry_us; /* after a failed upkeep, none before this */
} vs_pool_facts;

typedef enum {
	VS_NEXT_NOTHING,
	VS_NEXT_SYNC,
	VS_NEXT_SCALE_OUT,
	VS_NEXT_SCALE_IN,
	VS_NEXT_ALERT_AT_MAX,   /* high at max: tell the administrator */
	VS_NEXT_MANUAL_REACHED, /* the manual target reached: start a cooldown */
	VS_NEXT_VERTICAL,       /* a member grows or shrinks (decide-vertical.h) */
	VS_NEXT_WARM,           /* the warm pool's upkeep (one instance per job) */
} vs_next_kind;

typedef struct vs_pool_next {
	vs_next_kind kind;
	unsigned target; /* scale: towards this many running */
	unsigned steps;  /* scale: at most this many instances in this action */
	bool notified;   /* scale: a notification asked */
	int direction;   /* VERTICAL: +1 a member grows, -1 one shrinks */
} vs_pool_next;

vs_pool_next vs_pool_decide(const vs_pool_config *cfg, const vs_pool_facts *f);

#endif
