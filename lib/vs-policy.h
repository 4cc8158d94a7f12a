/*
 * vs-policy.h - every scaling rule, as pure functions (no I/O, no clock:
 * time comes in the sample), shared by the collectd plugin (notifications),
 * the SNMP subagent (vsPoolState), the actuator (what it does and to which
 * member) and the unit tests, which replay any history.
 *
 *  average:      high when avg CPU% > cpu_high OR avg sessions > sessions_high;
 *                low when avg CPU% < cpu_low AND avg sessions < sessions_low.
 *  ratio:        high when EVERY running instance has Ai/SMax >= ratio_high;
 *                low when at least 2 instances are below ratio_low.
 *  proportional: desired = ceil(n * metric / target); nothing inside
 *                |metric/target - 1| <= tolerance; scale-in only to the highest
 *                desired count seen within the stabilization window;
 *                steps bounded by max_step_up / max_step_down.
 *  Every kind:   a breach counts only when M of the last N samples are beyond
 *                the threshold (debounce = M/N); no low verdict until
 *                stabilization seconds after the last high one; desired is
 *                bounded by min/max; high at max is VS_VERDICT_AT_MAX.
 *  Scale-in:     the running instance with the fewest sessions (the youngest
 *                among equals) is the one to stop.
 *  Vertical:     per member, on its own load: vs-vertical.h.
 *  Weights:      with weights = ratio, an instance's load-balancer weight
 *                falls as its Ai/SMax rises: busier instances get less new
 *                traffic (Luban's normalised load factors).
 */
#ifndef VS_POLICY_H
#define VS_POLICY_H

#include "vs-config.h"
#include "vs-states.h"

#include <stdint.h>

#define VS_DEBOUNCE_MAX_N      64
#define VS_STABILIZATION_SLOTS 256
#define VS_LB_WEIGHT_MAX       10 /* the weight of an idle instance */

typedef struct vs_policy_sample {
	int64_t now_ms;         /* monotonic milliseconds */
	unsigned n_running;     /* running instances */
	const double *cpu;      /* per running instance, percent of its vCPUs; <0 unknown */
	const double *sessions; /* per running instance, active sessions (<0 that one's
	                           unknown, counted as none); NULL: none known */
} vs_policy_sample;

/* M-of-N sliding window of booleans. */
typedef struct vs_debounce {
	unsigned m, n;
	unsigned filled;
	unsigned pos;
	bool window[VS_DEBOUNCE_MAX_N];
} vs_debounce;

typedef struct vs_policy_state {
	vs_debounce high;
	vs_debounce low;
	struct {
		int64_t t_ms;
		unsigned desired;
	} recent[VS_STABILIZATION_SLOTS]; /* proportional recommendations */
	unsigned n_recent, recent_pos;
	bool high_seen;       /* a high verdict was given */
	int64_t last_high_ms; /* sample time of the last one */
	vs_verdict last;
} vs_policy_state;

typedef struct vs_policy_decision {
	vs_verdict verdict;     /* after debounce, stabilization, min/max */
	bool raw_high, raw_low; /* this sample alone */
	unsigned current;       /* n_running */
	unsigned desired;       /* recommended instance count, within min..max */
	vs_metric metric;       /* what was compared */
	double value;           /* the value compared */
	double threshold_high;
	double threshold_low;
	int victim; /* scale-in: index into the sample to stop, else -1 */
} vs_policy_decision;

void vs_debounce_init(vs_debounce *d, unsigned m, unsigned n);
/* Adds a sample; returns true when at least m of the last n are true
 * (with fewer than n samples so far: when m of them are). */
bool vs_debounce_push(vs_debounce *d, bool beyond);
void vs_debounce_reset(vs_debounce *d);

void vs_policy_state_init(vs_policy_state *st, const vs_pool_config *cfg);
vs_policy_decision vs_policy_evaluate(const vs_pool_config *cfg, vs_policy_state *st,
                                      const vs_policy_sample *s);

/* Can the pool's policy decide on @s? The ratio policy, and the
 * proportional one on sessions, need session counts; the others decide
 * on CPU alone. */
bool vs_policy_sample_usable(const vs_pool_config *cfg, const vs_policy_sample *s);

/* Scale-in: the index into @s of the running instance to stop, -1 none. */
int vs_policy_victim(const vs_policy_sample *s);

/* Stabilization: may the pool scale in at @now_ms when it was last high at
 * @last_high_ms (0 = never)? */
bool vs_policy_stabilized(const vs_pool_config *cfg, int64_t last_high_ms, int64_t now_ms);

/*
 * A threshold crossing as a verdict (collectd's threshold plugin, its exec
 * notifications): @okay (severity OKAY) is ok; a value below a finite @low
 * is low; anything else is high.
 */
vs_verdict vs_policy_threshold_verdict(bool okay, double value, double low);

/* weights = ratio: the load-balancer weight (1..VS_LB_WEIGHT_MAX) of an
 * instance at @ratio (sessions / session_capacity, <0 unknown: the most). */
unsigned vs_policy_lb_weight(double ratio);

const char *vs_metric_name(vs_metric m); /* "none", "cpu", "sessions", "ratio" */

#endif
