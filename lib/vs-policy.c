/*
 * vs-policy.c - the scaling rules (see vs-policy.h).
 *
 * Pure functions: no I/O, no clock (time comes in the sample), no globals,
 * so the collectd plugin, the actuator and the SNMP subagent reach the same
 * verdict from the same samples, and unit tests replay any history.
 */
#include "config.h"

#include "vs-policy.h"

#include <math.h>

/**
 * vs_debounce_init:
 * @d: the window
 * @m: how many samples must be beyond the threshold
 * @n: out of how many recent samples
 *
 * An M-of-N window (Xen elastic-cloud paper). Out-of-range values are
 * clamped so a caller cannot overflow the window: n to 1..VS_DEBOUNCE_MAX_N,
 * m to 1..n.
 */
void vs_debounce_init(vs_debounce *d, unsigned m, unsigned n)
{
	if (n == 0)
		n = 1;
	if (n > VS_DEBOUNCE_MAX_N)
		n = VS_DEBOUNCE_MAX_N;
	if (m == 0)
		m = 1;
	if (m > n)
		m = n;
	d->m = m;
	d->n = n;
	vs_debounce_reset(d);
}

/**
 * vs_debounce_reset:
 * @d: the window
 *
 * Forgets every sample (e.g. after the pool changed size).
 */
void vs_debounce_reset(vs_debounce *d)
{
	d->filled = 0;
	d->pos = 0;
	for (unsigned i = 0; i < VS_DEBOUNCE_MAX_N; i++)
		d->window[i] = false;
}

/**
 * vs_debounce_push:
 * @d: the window
 * @beyond: this sample is beyond the threshold
 *
 * Returns true when at least m of the last n samples (of all samples so far
 * while fewer than n were seen) are beyond the threshold.
 */
bool vs_debounce_push(vs_debounce *d, bool beyond)
{
	unsigned count = 0;

	if (d->n == 0)
		vs_debounce_init(d, 1, 1);
	d->window[d->pos] = beyond;
	d->pos = (d->pos + 1) % d->n;
	if (d->filled < d->n)
		d->filled++;
	for (unsigned i = 0; i < d->filled; i++)
		count += d->window[i] ? 1 : 0;
	return count >= d->m;
}

/**
 * vs_policy_state_init:
 * @st: the state to initialise
 * @cfg: the pool (its debounce M/N)
 *
 * A fresh history: no samples, no recommendations, verdict ok.
 */
void vs_policy_state_init(vs_policy_state *st, const vs_pool_config *cfg)
{
	*st = (vs_policy_state){0};
	vs_debounce_init(&st->high, cfg->debounce_m, cfg->debounce_n);
	vs_debounce_init(&st->low, cfg->debounce_m, cfg->debounce_n);
	st->last = VS_VERDICT_OK;
}

/* The figure the victim is chosen by, <0 when instance @i has none: its
 * sessions when the sample has counts, else its CPU. */
static double victim_figure(const vs_policy_sample *s, unsigned i)
{
	if (s->sessions)
		return s->sessions[i];
	return s->cpu ? s->cpu[i] : -1;
}

/**
 * vs_policy_victim:
 * @s: a sample of the running instances (sorted by clone number)
 *
 * Returns the index into @s of the instance a scale-in stops: the one with
 * the fewest sessions (ties: the last one, the youngest clone); without
 * session figures, the one with the lowest known CPU. An instance whose
 * figure is unknown is chosen only when no instance has one (then the
 * youngest): a silent member may be the busiest. -1 when none runs.
 */
int vs_policy_victim(const vs_policy_sample *s)
{
	int victim = -1;
	double best = INFINITY;
	bool known = false;

	for (unsigned i = 0; i < s->n_running; i++)
		known |= victim_figure(s, i) >= 0;
	for (unsigned i = 0; i < s->n_running; i++) {
		double v = victim_figure(s, i);

		if (known && v < 0)
			continue;
		if (!known || v <= best) {
			best = v;
			victim = (int)i;
		}
	}
	return victim;
}

/* Sessions of instance @i; an unknown count (<0) weighs as none. */
static double sessions_at(const vs_policy_sample *s, unsigned i)
{
	return s->sessions[i] > 0 ? s->sessions[i] : 0;
}

/* Average CPU over instances with a known figure; <0 when none is known. */
static double average_cpu(const vs_policy_sample *s)
{
	double sum = 0;
	unsigned known = 0;

	if (!s->cpu)
		return -1;
	for (unsigned i = 0; i < s->n_running; i++) {
		if (s->cpu[i] >= 0) {
			sum += s->cpu[i];
			known++;
		}
	}
	return known ? sum / known : -1;
}

/* Average sessions per running instance; <0 when unknown. */
static double average_sessions(const vs_policy_sample *s)
{
	double sum = 0;

	if (!s->sessions || s->n_running == 0)
		return -1;
	for (unsigned i = 0; i < s->n_running; i++)
		sum += sessions_at(s, i);
	return sum / s->n_running;
}

/*
 * Average (QoS thesis): high when avg CPU > cpu_high OR avg sessions >
 * sessions_high; low when every known average is below its low bound.
 */
static void evaluate_average(const vs_pool_config *cfg, const vs_policy_sample *s,
                             vs_policy_decision *d)
{
	double cpu = average_cpu(s);
	double sess = average_sessions(s);
	bool cpu_high = cpu >= 0 && cpu > cfg->cpu_high;
	bool sess_high = sess >= 0 && sess > cfg->sessions_high;

	d->raw_high = cpu_high || sess_high;
	d->raw_low = (cpu >= 0 || sess >= 0) && (cpu < 0 || cpu < cfg->cpu_low) &&
	             (sess < 0 || sess < cfg->sessions_low);
	if (sess_high || (!cpu_high && cpu < 0)) {
		d->metric = VS_METRIC_SESSIONS;
		d->value = sess;
		d->threshold_high = cfg->sessions_high;
		d->threshold_low = cfg->sessions_low;
	} else {
		d->metric = VS_METRIC_CPU;
		d->value = cpu;
		d->threshold_high = cfg->cpu_high;
		d->threshold_low = cfg->cpu_low;
	}
	d->desired = d->raw_high  ? s->n_running + MAX(cfg->step, 1u)
	             : d->raw_low ? s->n_running - 1
	                          : s->n_running;
}

/*
 * Per-instance ratio (Luban): Ai/SMax in percent. High when EVERY instance
 * is at or above ratio_high (the minimum is); low when at least two are
 * below ratio_low (the second smallest is).
 */
static void evaluate_ratio(const vs_pool_config *cfg, const vs_policy_sample *s,
                           vs_policy_decision *d)
{
	double smax = cfg->session_capacity > 0 ? cfg->session_capacity : 1;
	double min1 = INFINITY, min2 = INFINITY;
	unsigned below = 0;

	d->metric = VS_METRIC_RATIO;
	d->threshold_high = cfg->ratio_high;
	d->threshold_low = cfg->ratio_low;
	d->value = -1;
	d->desired = s->n_running;
	if (!s->sessions || s->n_running == 0)
		return;
	for (unsigned i = 0; i < s->n_running; i++) {
		double r = 100.0 * sessions_at(s, i) / smax;

		if (r < min1) {
			min2 = min1;
			min1 = r;
		} else if (r < min2) {
			min2 = r;
		}
		if (r < cfg->ratio_low)
			below++;
	}
	d->raw_high = min1 >= cfg->ratio_high;
	d->raw_low = below >= 2;
	d->value = d->raw_low ? min2 : min1;
	d->desired = d->raw_high  ? s->n_running + MAX(cfg->step, 1u)
	             : d->raw_low ? s->n_running - 1
	                          : s->n_running;
}

/* Keeps @desired as a recommendation made at @now_ms (ring buffer). */
static void remember_recommendation(vs_policy_state *st, int64_t now_ms, unsigned desired)
{
	st->recent[st->recent_pos].t_ms = now_ms;
	st->recent[st->recent_pos].desired = desired;
	st->recent_pos = (st->recent_pos + 1) % VS_STABILIZATION_SLOTS;
	if (st->n_recent < VS_STABILIZATION_SLOTS)
		st->n_recent++;
}

/* The highest recommendation made less than @window_ms before @now_ms (the
 * window ends when vs_policy_stabilized() says it does). */
static unsigned highest_recent(const vs_policy_state *st, int64_t now_ms, int64_t window_ms)
{
	unsigned best = 0;

	for (unsigned i = 0; i < st->n_recent; i++) {
		if (now_ms - st->recent[i].t_ms < window_ms && st->recent[i].desired > best)
			best = st->recent[i].desired;
	}
	return best;
}

/*
 * Proportional (Kubernetes HPA): desired = ceil(n * metric / target), no
 * change within the tolerance, scale-in only to the highest recommendation
 * of the stabilization window, steps bounded by max_step_up/down.
 */
static void evaluate_proportional(const vs_pool_config *cfg, vs_policy_state *st,
                                  const vs_policy_sample *s, vs_policy_decision *d)
{
	bool by_cpu = cfg->target_metric == VS_METRIC_CPU;
	double value = by_cpu ? average_cpu(s) : average_sessions(s);
	unsigned n = s->n_running;
	unsigned desired = n;
	unsigned up = cfg->max_step_up ? cfg->max_step_up : 1;
	unsigned down = cfg->max_step_down ? cfg->max_step_down : 1;

	d->metric = by_cpu ? VS_METRIC_CPU : VS_METRIC_SESSIONS;
	d->value = value;
	d->threshold_high = cfg->target * (1 + cfg->tolerance);
	d->threshold_low = cfg->target * (1 - cfg->tolerance);
	if (value >= 0 && cfg->target > 0 && n > 0) {
		double usage = value / cfg->target;

		if (fabs(usage - 1.0) > cfg->tolerance) {
			double want = ceil(n * usage - 1e-9);

			desired =
			    want > VS_STABILIZATION_SLOTS ? VS_STABILIZATION_SLOTS : (unsigned)want;
		}
	}
	remember_recommendation(st, s->now_ms, desired);
	if (desired < n) {
		/* Stabilization: never go below what was wanted recently. */
		unsigned floor = highest_recent(st, s->now_ms, (int64_t)cfg->stabilization * 1000);

		if (floor > desired)
			desired = floor > n ? n : floor;
	}
	if (desired > n + up)
		desired = n + up;
	if (n > down && desired < n - down)
		desired = n - down;
	d->raw_high = desired > n;
	d->raw_low = desired < n;
	d->desired = desired;
}

/**
 * vs_policy_evaluate:
 * @cfg: the pool (policy kind, thresholds, min/max, debounce)
 * @st: the pool's history, updated with this sample
 * @s: this sample (n_running, per-instance CPU and sessions, time)
 *
 * Applies the pool's algorithm to one sample, then the M-of-N debounce,
 * then the min/max bounds: a high breach at max is VS_VERDICT_AT_MAX (alert
 * the administrator), a low breach is VS_VERDICT_LOW only when a scale-in
 * is possible (current > min). A pool outside min..max is brought back
 * within them whatever the load (desired is always within min..max).
 *
 * Returns the decision; @victim names the instance to stop for a scale-in.
 */
vs_policy_decision vs_policy_evaluate(const vs_pool_config *cfg, vs_policy_state *st,
                                      const vs_policy_sample *s)
{
	vs_policy_decision d = {.verdict = VS_VERDICT_OK, .victim = -1, .metric = VS_METRIC_NONE};
	unsigned current = s->n_running;
	unsigned lo = cfg->min, hi = cfg->max >= cfg->min ? cfg->max : cfg->min;
	bool high, low;

	d.current = current;
	switch (cfg->policy) {
	case VS_POLICY_AVERAGE:
		evaluate_average(cfg, s, &d);
		break;
	case VS_POLICY_RATIO:
		evaluate_ratio(cfg, s, &d);
		break;
	case VS_POLICY_PROPORTIONAL:
		evaluate_proportional(cfg, st, s, &d);
		break;
	}
	high = vs_debounce_push(&st->high, d.raw_high);
	low = vs_debounce_push(&st->low, d.raw_low);

	if (current < lo) {
		d.verdict = VS_VERDICT_HIGH;
		d.desired = lo;
	} else if (current > hi) {
		d.verdict = VS_VERDICT_LOW;
		d.desired = hi;
		d.victim = vs_policy_victim(s);
	} else if (high) {
		if (current >= hi) {
			d.verdict = VS_VERDICT_AT_MAX;
			d.desired = hi;
		} else {
			d.verdict = VS_VERDICT_HIGH;
			if (d.desired <= current)
				d.desired = current + 1; /* debounced breach, calm sample */
			if (d.desired > hi)
				d.desired = hi;
		}
	} else if (low && current > lo && !d.raw_high &&
	           (!st->high_seen || vs_policy_stabilized(cfg, st->last_high_ms, s->now_ms))) {
		/* (never scale in on a sample that is itself high) */
		d.verdict = VS_VERDICT_LOW;
		if (d.desired >= current)
			d.desired = current - 1;
		if (d.desired < lo)
			d.desired = lo;
		d.victim = vs_policy_victim(s);
	} else {
		d.desired = current;
	}
	if (d.verdict == VS_VERDICT_HIGH || d.verdict == VS_VERDICT_AT_MAX) {
		st->high_seen = true;
		st->last_high_ms = s->now_ms;
	}
	st->last = d.verdict;
	return d;
}

/**
 * vs_policy_sample_usable:
 * @cfg: the pool
 * @s: a sample, its sessions NULL when the source did not answer
 *
 * Returns true when the pool's policy can decide on @s: without session
 * counts an idle-looking pool would be scaled in, so the ratio policy and
 * the proportional one on sessions skip such a sample; the average policy
 * and the proportional one on CPU decide on CPU alone when some instance
 * runs.
 */
bool vs_policy_sample_usable(const vs_pool_config *cfg, const vs_policy_sample *s)
{
	if (s->sessions)
		return true;
	switch (cfg->policy) {
	case VS_POLICY_AVERAGE:
		return s->n_running > 0;
	case VS_POLICY_PROPORTIONAL:
		return cfg->target_metric == VS_METRIC_CPU && s->n_running > 0;
	case VS_POLICY_RATIO:
		break;
	}
	return false;
}

/**
 * vs_policy_stabilized:
 * @cfg: the pool (stabilization)
 * @last_high_ms: when the pool was last high (any monotonic clock)
 * @now_ms: now, on the same clock
 *
 * Returns true when stabilization seconds have passed since the last high
 * verdict: until then the pool does not scale in (every policy).
 */
bool vs_policy_stabilized(const vs_pool_config *cfg, int64_t last_high_ms, int64_t now_ms)
{
	return now_ms - last_high_ms >= (int64_t)cfg->stabilization * 1000;
}

/**
 * vs_policy_threshold_verdict:
 * @okay: the notification's severity is OKAY
 * @value: the value that crossed (NaN unknown)
 * @low: its lower threshold (NaN none)
 *
 * Returns the verdict a threshold notification stands for: ok when okay,
 * low when the value is under a lower threshold, high otherwise.
 */
vs_verdict vs_policy_threshold_verdict(bool okay, double value, double low)
{
	if (okay)
		return VS_VERDICT_OK;
	if (isfinite(low) && isfinite(value) && value < low)
		return VS_VERDICT_LOW;
	return VS_VERDICT_HIGH;
}

/**
 * vs_policy_lb_weight:
 * @ratio: the instance's sessions / session_capacity; <0 unknown
 *
 * Returns its load-balancer weight under weights = ratio: VS_LB_WEIGHT_MAX
 * when idle, one less per tenth of capacity in use, at least 1. Ten steps
 * keep the balancer from being rewritten for every new session.
 */
unsigned vs_policy_lb_weight(double ratio)
{
	double w;

	if (ratio < 0 || isnan(ratio))
		return VS_LB_WEIGHT_MAX;
	w = VS_LB_WEIGHT_MAX - floor(MIN(ratio, 1.0) * VS_LB_WEIGHT_MAX);
	return w < 1 ? 1 : (unsigned)w;
}

/**
 * vs_metric_name:
 * @m: a metric
 *
 * Returns its name in notifications and collectd values ("cpu", ...).
 */
const char *vs_metric_name(vs_metric m)
{
	switch (m) {
	case VS_METRIC_CPU:
		return "cpu";
	case VS_METRIC_SESSIONS:
		return "sessions";
	case VS_METRIC_RATIO:
		return "ratio";
	case VS_METRIC_NONE:
		break;
	}
	return "none";
}
