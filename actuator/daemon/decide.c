/*
 * decide.c - which job a pool's machine starts next (see decide.h).
 * Pure: no clock, no I/O, no state of its own.
 */
#include "config.h"

#include "decide.h"
#include "vs-policy.h"

#include <glib.h>

static vs_pool_next scale(vs_next_kind kind, unsigned target, unsigned steps, bool notified)
{
	return (vs_pool_next){
	    .kind = kind, .target = target, .steps = MAX(steps, 1u), .notified = notified};
}

/* Towards a count the policy did not ask for (a manual target, a refill,
 * min or max): as many instances per action as the policy's own steps may
 * move, max_step_up out or max_step_down in. */
static vs_pool_next converge(const vs_pool_config *p, unsigned running, unsigned target)
{
	if (running <= target)
		return scale(VS_NEXT_SCALE_OUT, target,
		             MIN(MAX(p->max_step_up, 1u), target - running), false);
	return scale(VS_NEXT_SCALE_IN, target, MIN(MAX(p->max_step_down, 1u), running - target),
	             false);
}

/* High: scale out towards the notifier's desired count; at max, alert
 * (decide-vertical.c may grow a member instead). */
static vs_pool_next on_high(const vs_pool_config *p, const vs_pool_facts *f)
{
	unsigned target, steps;

	if (f->running >= p->max)
		return (vs_pool_next){.kind = VS_NEXT_ALERT_AT_MAX};
	/* the notifier's desired count (the proportional policy's
	 * ceil(n x metric / target), the others' n + step) or, from a
	 * notification without one, step more towards max; at most
	 * max_step_up at once */
	if (f->desired > (int)f->running) {
		target = MIN(p->max, (unsigned)f->desired);
		steps = target - f->running;
	} else {
		target = p->max;
		steps = MIN(MAX(p->step, 1u), target - f->running);
	}
	steps = MIN(MAX(p->max_step_up, 1u), steps);
	return scale(VS_NEXT_SCALE_OUT, target, steps, true);
}

/* stabilization_up: a high acts once it has lasted that long. */
static bool high_stabilized(const vs_pool_config *p, const vs_pool_facts *f)
{
	return !p->stabilization_up || !f->high_since_us ||
	       f->now_us - f->high_since_us >= (int64_t)p->stabilization_up * G_USEC_PER_SEC;
}

static vs_pool_next on_low(const vs_pool_config *p, const vs_pool_facts *f)
{
	unsigned target = p->min, steps = 1;

	if (f->desired >= 0 && f->desired < (int)f->running) {
		target = MAX(p->min, (unsigned)f->desired);
		steps = MIN(MAX(p->max_step_down, 1u), f->running - target);
	}
	return scale(VS_NEXT_SCALE_IN, target, steps, true);
}

/**
 * vs_pool_decide:
 * @cfg: the pool
 * @f: what its machine knows now
 *
 * Returns the next job, or VS_NEXT_NOTHING (see decide.h for the order).
 */
vs_pool_next vs_pool_decide(const vs_pool_config *cfg, const vs_pool_facts *f)
{
	const vs_pool_config *p = cfg;
	int64_t now = f->now_us;
	int64_t stale_us = (int64_t)MAX(3 * p->repeat_interval, 10u) * G_USEC_PER_SEC;
	bool fresh = f->verdict_us && now - f->verdict_us <= stale_us;

	if (!f->synced)
		return (vs_pool_next){.kind = now >= f->retry_after_us ? VS_NEXT_SYNC
		                                                       : VS_NEXT_NOTHING};
	if (now < f->retry_after_us)
		return (vs_pool_next){.kind = VS_NEXT_NOTHING};
	if (f->manual_target >= 0 && f->have_members) {
		unsigned t = (unsigned)f->manual_target;

		if (f->running != t)
			return converge(p, f->running, t);
		if (!f->manual_reached)
			return (vs_pool_next){.kind = VS_NEXT_MANUAL_REACHED};
		/* held: the policy may move the pool from here (which ends it) */
	}
	if (f->refill_target >= 0 && f->have_members && f->running < (unsigned)f->refill_target)
		return converge(p, f->running, MIN((unsigned)f->refill_target, p->max));
	if (f->have_members && f->running < p->min)
		return converge(p, f->running, p->min);
	if (f->have_members && f->running > p->max)
		return converge(p, f->running, p->max);
	bool warm = f->have_members && f->warm_needed && !f->warm_busy && now >= f->warm_retry_us;

	if (now < f->cooldown_until_us)
		return (vs_pool_next){.kind = warm ? VS_NEXT_WARM : VS_NEXT_NOTHING};
	if (f->have_members && (f->verdict == VS_VERDICT_HIGH || f->verdict == VS_VERDICT_AT_MAX) &&
	    (fresh || f->pending_breach) && high_stabilized(p, f))
		return on_high(p, f);
	if (f->have_members && fresh && f->verdict == VS_VERDICT_LOW && f->running > p->min &&
	    (!f->last_high_us || vs_policy_stabilized(p, f->last_high_us / 1000, now / 1000)))
		return on_low(p, f);
	if (warm)
		return (vs_pool_next){.kind = VS_NEXT_WARM};
	if (now >= f->next_sync_us)
		return (vs_pool_next){.kind = VS_NEXT_SYNC};
	return (vs_pool_next){.kind = VS_NEXT_NOTHING};
}
