/*
 * vs-pool-eval.c - one pool sample, evaluated (see vs-pool-eval.h).
 */
#include "config.h"

#include "vs-pool-eval.h"

#include <string.h>

/**
 * vs_pool_eval_init:
 * @e: the history to reset
 * @cfg: the pool
 */
void vs_pool_eval_init(vs_pool_eval *e, const vs_pool_config *cfg)
{
	*e = (vs_pool_eval){.cfg = cfg, .noticed = VS_VERDICT_OK};
	vs_policy_state_init(&e->policy, cfg);
}

/**
 * vs_pool_hosts_ready:
 * @pool: the pool
 * @snap: a collector snapshot
 *
 * Returns true when every hypervisor the pool lives on is connected and
 * has been refreshed at least once, or is lost (vs_host_lost), and at
 * least one is not.
 */
bool vs_pool_hosts_ready(const vs_pool_config *pool, const vs_snapshot *snap)
{
	bool any = false;

	for (guint i = 0; snap && i < snap->hosts->len; i++) {
		const vs_host_status *h = g_ptr_array_index(snap->hosts, i);

		/* a lost host's instances no longer count: the others decide */
		if (!h->uri || !vs_pool_on_host(pool, h->uri) || h->lost)
			continue;
		if (h->state != VS_HOST_CONNECTED || h->refreshes == 0)
			return false;
		any = true;
	}
	return any;
}

/**
 * vs_pool_eval_sample:
 * See vs-pool-eval.h. A sample that is not usable leaves the policy's
 * history untouched: M-of-N counts samples the policy could judge.
 */
vs_pool_report *vs_pool_eval_sample(vs_pool_eval *e, vs_pool_view *view, bool hosts_ready,
                                    bool sessions_ok, int64_t now_ms, double real_s,
                                    unsigned repeat_s, vs_pool_notice *notice, bool *notice_due)
{
	vs_pool_report *r = g_new0(vs_pool_report, 1);
	vs_policy_sample s = vs_pool_view_sample(view, now_ms, sessions_ok);
	bool changed, repeat;

	*notice_due = false;
	r->cfg = e->cfg;
	r->view = view;
	r->sessions_ok = sessions_ok;
	r->verdict = VS_VERDICT_UNKNOWN;
	r->decision = (vs_policy_decision){.verdict = VS_VERDICT_UNKNOWN,
	                                   .current = view->n_running,
	                                   .desired = view->n_running,
	                                   .victim = -1};
	if (hosts_ready && vs_policy_sample_usable(e->cfg, &s)) {
		r->decision = vs_policy_evaluate(e->cfg, &e->policy, &s);
		r->verdict = r->decision.verdict;
		r->evaluated = true;
		changed = r->verdict != e->noticed;
		repeat = !changed && r->verdict != VS_VERDICT_OK && repeat_s > 0 &&
		         now_ms - e->last_notice_ms >= (int64_t)repeat_s * 1000;
		if (changed || repeat) {
			if (notice)
				*notice = (vs_pool_notice){
				    .pool = e->cfg,
				    .verdict = r->verdict,
				    .previous = e->noticed,
				    .repeat = repeat,
				    .decision = r->decision,
				    .avg_cpu = view->avg_cpu,
				    .avg_sessions = view->avg_sessions,
				    .time = real_s,
				};
			*notice_due = true;
			e->noticed = r->verdict;
			e->last_notice_ms = now_ms;
			e->notices[r->verdict]++;
		}
	}
	memcpy(r->notices, e->notices, sizeof(r->notices));
	return r;
}

/**
 * vs_pool_report_copy:
 * @r: a report
 *
 * Returns a deep copy.
 */
vs_pool_report *vs_pool_report_copy(const vs_pool_report *r)
{
	vs_pool_report *c = g_memdup2(r, sizeof(*r));

	c->view = vs_pool_view_copy(r->view);
	return c;
}

/**
 * vs_pool_report_free:
 * @r: a report or NULL
 */
void vs_pool_report_free(vs_pool_report *r)
{
	if (!r)
		return;
	vs_pool_view_free(r->view);
	g_free(r);
}
