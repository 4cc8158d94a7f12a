/*
 * vs-policy.h - the pool scaling policy: the seed algorithms as pure
 * functions (no I/O, no clock: time comes in the sample), shared by the
 * collectd plugin (notifications), the actuator (decisions) and the SNMP
 * subagent (policy state column).
 *
 *  average:      high when avg CPU% > cpu_high OR avg sessions > sessions_high;
 *                low when avg CPU% < cpu_low AND avg sessions < sessions_low.
 *  ratio:        high when EVERY running instance has Ai/SMax >= ratio_high;
 *                low when at least 2 instances are below ratio_low; the
 *                victim is the instance with the fewest sessions.
 *  proportional: desired = ceil(n * metric / target); nothing inside
 *                |metric/target - 1| <= tolerance; scale-in only to the highest
 *                desired count seen within the stabilization window;
 *                steps bounded by max_step_up / max_step_down.
 *  Every kind:   a breach counts only when M of the last N samples are beyond
 *                the threshold (debounce = M/N); desired is bounded by min/max;
 *                high at max is VS_VERDICT_AT_MAX.
 */
#ifndef VS_POLICY_H
#define VS_POLICY_H

#include "vs-config.h"
#include <stdint.h>

#define VS_DEBOUNCE_MAX_N      64
#define VS_STABILIZATION_SLOTS 256

typedef enum {
	VS_VERDICT_OK,
	VS_VERDICT_HIGH,   /* scale out recommended (desired > current) */
	VS_VERDICT_LOW,    /* scale in recommended (desired < current) */
	VS_VERDICT_AT_MAX, /* high, but the pool is at max: alert */
} vs_verdict;

typedef struct vs_policy_sample {
	int64_t now_ms;         /* monotonic milliseconds */
	unsigned n_running;     /* running instances */
	const double *cpu;      /* per running instance, percent of its vCPUs; <0 unknown */
	const double *sessions; /* per running instance, active sessions */
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
	vs_verdict last;
} vs_policy_state;

typedef struct vs_policy_decision {
	vs_verdict verdict;     /* after debounce, min/max */
	bool raw_high, raw_low; /* this sample alone */
	unsigned current;       /* n_running */
	unsigned desired;       /* recommended instance count, within min..max */
	const char *metric;     /* "cpu", "sessions", "ratio" (static string) */
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

/*
 * Vertical scaling of one instance (Xen elastic-cloud paper): +1 vCPU when
 * its CPU% (of its vCPUs) is above cpu_high and it is below vcpu_max, -1 when
 * below cpu_low and above 1, else 0. Debounce is the caller's.
 */
int vs_policy_vertical_vcpu(const vs_pool_config *cfg, double cpu_percent, unsigned vcpu_current,
                            unsigned vcpu_max);

const char *vs_verdict_name(vs_verdict v); /* "ok", "high", "low", "at_max" */

#endif
