/*
 * vs-pool-eval.h - one pool sample, evaluated the same way for every
 * program: whether the sample is usable at all (the pool's hypervisor
 * answered; the session source answered, or the policy can decide without
 * it), the policy's verdict, and whether a notice is due (the verdict
 * changed, or a breach lasts another repeat interval). The collectd plugin
 * turns notices into notifications, the SNMP subagent into traps. Pure:
 * the view comes with its sessions already counted and time comes in.
 */
#ifndef VS_POOL_EVAL_H
#define VS_POOL_EVAL_H

#include "vs-policy.h"
#include "vs-pool.h"

/* One pool's history across samples. */
typedef struct vs_pool_eval {
	const vs_pool_config *cfg;
	vs_policy_state policy;
	vs_verdict noticed;                   /* verdict of the last notice; ok before the first */
	int64_t last_notice_ms;               /* sample time of the last notice, 0 none */
	uint64_t notices[VS_VERDICT_UNKNOWN]; /* notices given, per verdict */
} vs_pool_eval;

/* What one sample gave. */
typedef struct vs_pool_report {
	const vs_pool_config *cfg;
	vs_pool_view *view; /* members with their sessions, aggregates */
	bool sessions_ok;   /* the session source answered */
	bool evaluated;     /* the sample was usable and the policy ran */
	vs_verdict verdict; /* decision.verdict, or VS_VERDICT_UNKNOWN */
	vs_policy_decision decision;
	uint64_t notices[VS_VERDICT_UNKNOWN];
} vs_pool_report;

/* A verdict worth telling (a notification, a trap). */
typedef struct vs_pool_notice {
	const vs_pool_config *pool;
	vs_verdict verdict;
	vs_verdict previous; /* of the last notice */
	bool repeat;         /* same verdict as the last notice, the breach lasts */
	vs_policy_decision decision;
	double avg_cpu, avg_sessions; /* of the running members, <0 unknown */
	double time;                  /* unix seconds of the sample */
} vs_pool_notice;

void vs_pool_eval_init(vs_pool_eval *e, const vs_pool_config *cfg);

/* Are the hypervisors @pool lives on connected and refreshed in @snap? Until
 * then an empty pool means "not known yet", not "no instances". */
bool vs_pool_hosts_ready(const vs_pool_config *pool, const vs_snapshot *snap);

/*
 * vs_pool_eval_sample:
 * @e: the pool's history
 * @view: the sample (taken), sessions counted where @sessions_ok
 * @hosts_ready: vs_pool_hosts_ready() of the snapshot
 * @now_ms, @real_s: the sample's monotonic and wall-clock time
 * @repeat_s: seconds between repeated notices of a lasting breach (0: none)
 * @notice: filled when a notice is due (may be NULL)
 * Returns the report; *@notice_due says whether @notice was filled.
 */
vs_pool_report *vs_pool_eval_sample(vs_pool_eval *e, vs_pool_view *view, bool hosts_ready,
                                    bool sessions_ok, int64_t now_ms, double real_s,
                                    unsigned repeat_s, vs_pool_notice *notice, bool *notice_due);

vs_pool_report *vs_pool_report_copy(const vs_pool_report *r);
void vs_pool_report_free(vs_pool_report *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vs_pool_report, vs_pool_report_free)

#endif
