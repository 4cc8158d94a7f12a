/*
 * pool-machine.c - one pool's state machine, run by the event loop:
 *
 *   idle --high--> scaling-out --done--> cooldown --cooldown over--> idle
 *   idle --low (stable)--> scaling-in --done--> cooldown
 *
 * Actions run in the pool's own worker thread (a GThreadPool of one), so at
 * most one action per pool runs at a time, pools are independent and the
 * loop never waits. The worker re-reads the real members from libvirt
 * before it acts: a notification only says what to aim for, never how many
 * instances exist. A breach that arrives during cooldown is remembered and
 * acted on when the cooldown ends if no "ok"/"low" came since. Below min or
 * above max the pool converges regardless of notifications.
 */
#include "config.h"

#include "actuator.h"
#include "vs-log.h"

#include <libvirt/virterror.h>
#include <string.h>

#define SYNC_INTERVAL_US (10 * G_USEC_PER_SEC)
#define RETRY_MAX_US     (60 * G_USEC_PER_SEC)

struct vs_pool_machine {
	vs_act *act;
	const vs_pool_config *cfg;
	vs_worker_ctx *ctx;
	GThreadPool *worker;
	bool busy;
	vs_job_kind busy_kind;
	bool synced;
	int64_t cooldown_until_us;
	char last_state[16];
	int64_t last_state_us;
	int64_t last_high_us;
	bool pending_breach; /* a high arrived during cooldown */
	int manual_target;   /* -1 none */
	int last_desired;    /* desired count of the last notification, -1 none */
	bool have_members;
	unsigned running;
	GPtrArray *members;
	char *last_action, *last_result, *last_error;
	double last_time;
	uint64_t scale_outs, scale_ins, failures, alerts;
	unsigned consecutive_failures;
	int64_t retry_after_us;
	int64_t next_sync_us;
	int64_t last_at_max_alert_us;
	bool stopping;
};

typedef struct {
	vs_pool_machine *m;
	vs_job_kind kind;
	unsigned target; /* OUT: up to this many running; IN: down to this many */
	unsigned steps;  /* instances this action may add or remove (max_step_*) */
	bool notified;   /* driven by a notification (vertical first) */
} vs_job;

/** vs_job_result_free: frees a worker's result. */
void vs_job_result_free(vs_job_result *r)
{
	if (!r)
		return;
	g_free(r->action);
	g_free(r->step);
	g_free(r->error);
	if (r->members)
		g_ptr_array_unref(r->members);
	g_free(r);
}

static gboolean job_done(gpointer data);

/* Worker thread: re-read, act, re-read; never touches the machine. */
static void job_run(gpointer data, gpointer user_data)
{
	vs_job *job = data;
	vs_worker_ctx *w = job->m->ctx;
	const vs_pool_config *p = w->pool;
	int64_t t0 = g_get_monotonic_time();
	vs_job_result *r = g_new0(vs_job_result, 1);
	r->machine = job->m;
	r->kind = job->kind;
	g_autoptr(GError) err = NULL;

	vs_reconcile_pool(w, NULL);
	g_autoptr(GPtrArray) members = vs_members_list(w->hosts, w->n_hosts, p, &err);
	if (!members) {
		r->step = g_strdup("list");
		goto done;
	}
	unsigned running = vs_members_running(members);
	if (job->kind == VS_JOB_SYNC) {
		vs_reconcile_lb(w, members);
		r->ok = true;
		r->action = g_strdup("none");
	} else if (job->kind == VS_JOB_SCALE_OUT) {
		if (running >= job->target || running >= p->max) {
			r->ok = true;
			r->at_max = running >= p->max;
			r->action = g_strdup("none");
		} else if ((p->vertical_vcpu || p->vertical_memory) && job->notified &&
		           vs_vertical_up(w, members, &r->action, &err)) {
			r->ok = r->acted = true;
		} else {
			g_clear_error(&err);
			g_clear_pointer(&r->action, g_free);
			r->ok = r->acted = vs_scale_out(w, members, &r->action, &r->step, &err);
			/* a proportional step of more than one instance, one by one */
			for (unsigned k = 1; r->ok && k < job->steps && running + k < job->target;
			     k++) {
				g_ptr_array_unref(g_steal_pointer(&members));
				members = vs_members_list(w->hosts, w->n_hosts, p, &err);
				if (!members)
					break;
				g_clear_pointer(&r->action, g_free);
				g_clear_pointer(&r->step, g_free);
				r->ok = vs_scale_out(w, members, &r->action, &r->step, &err);
			}
		}
	} else {
		if (running <= job->target || running <= p->min) {
			r->ok = true;
			r->action = g_strdup("none");
		} else if ((p->vertical_vcpu || p->vertical_memory) && job->notified &&
		           vs_vertical_down(w, members, &r->action, &err)) {
			r->ok = r->acted = true;
		} else {
			g_clear_error(&err);
			g_clear_pointer(&r->action, g_free);
			r->ok = r->acted = vs_scale_in(w, members, &r->action, &r->step, &err);
			for (unsigned k = 1; r->ok && k < job->steps && running - k > job->target;
			     k++) {
				g_ptr_array_unref(g_steal_pointer(&members));
				members = vs_members_list(w->hosts, w->n_hosts, p, &err);
				if (!members)
					break;
				g_clear_pointer(&r->action, g_free);
				g_clear_pointer(&r->step, g_free);
				r->ok = vs_scale_in(w, members, &r->action, &r->step, &err);
			}
		}
	}
	if (r->acted || !r->ok) {
		g_autoptr(GError) lerr = NULL;
		if (members)
			g_ptr_array_unref(g_steal_pointer(&members));
		members = vs_members_list(w->hosts, w->n_hosts, p, &lerr);
	}
	if (members) {
		vs_members_count_sessions(p, members);
		r->have_members = true;
		r->running = vs_members_running(members);
		r->members = g_steal_pointer(&members);
	}
done:
	r->cancelled = g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED);
	if (err)
		r->error = g_strdup(err->message);
	if (!r->ok && !r->error)
		r->error = g_strdup("failed");
	r->seconds = (double)(g_get_monotonic_time() - t0) / 1e6;
	g_free(job);
	g_main_context_invoke(NULL, job_done, r);
}

static void start_job(vs_pool_machine *m, vs_job_kind kind, unsigned target, unsigned steps,
                      bool notified)
{
	vs_job *job = g_new0(vs_job, 1);
	job->m = m;
	job->kind = kind;
	job->target = target;
	job->steps = MAX(steps, 1u);
	job->notified = notified;
	m->busy = true;
	m->busy_kind = kind;
	if (kind != VS_JOB_SYNC) {
		g_free(m->last_action);
		m->last_action = g_strdup(kind == VS_JOB_SCALE_OUT ? "scale-out" : "scale-in");
		g_free(m->last_result);
		m->last_result = g_strdup("running");
		m->last_time = (double)g_get_real_time() / 1e6;
		vs_act_status_changed(m->act);
	}
	g_thread_pool_push(m->worker, job, NULL);
}

static void alert_at_max(vs_pool_machine *m)
{
	int64_t now = g_get_monotonic_time();
	int64_t every = (int64_t)MAX(m->cfg->cooldown, 1u) * G_USEC_PER_SEC;
	if (m->last_at_max_alert_us && now - m->last_at_max_alert_us < every)
		return;
	m->last_at_max_alert_us = now;
	m->alerts++;
	g_autofree char *summary =
	    g_strdup_printf("pool %s is at max (%u running, max %u) and still high", m->cfg->name,
	                    m->running, m->cfg->max);
	vs_warning("%s", summary);
	vs_act_alert(m->act, VS_ALERT_AT_MAX, m->cfg->name, NULL, NULL, summary);
	vs_act_status_changed(m->act);
}

static gboolean job_done(gpointer data)
{
	vs_job_result *r = data;
	vs_pool_machine *m = r->machine;
	int64_t now = g_get_monotonic_time();
	m->busy = false;
	if (r->have_members) {
		if (m->members)
			g_ptr_array_unref(m->members);
		m->members = g_steal_pointer(&r->members);
		m->running = r->running;
		m->have_members = true;
	}
	if (r->kind == VS_JOB_SYNC) {
		m->synced = r->ok || m->synced;
		m->next_sync_us = now + SYNC_INTERVAL_US;
	}
	if (!r->ok && r->cancelled) {
		/* not a failure of the action: no alert, no backoff to carry */
		vs_notice("pool %s: %s stopped at step %s: virtscaled is stopping", m->cfg->name,
		          r->action ? r->action : "action", r->step ? r->step : "-");
		g_free(m->last_result);
		m->last_result = g_strdup("cancelled");
	} else if (!r->ok) {
		m->failures++;
		m->consecutive_failures++;
		int64_t backoff =
		    MIN((int64_t)G_USEC_PER_SEC << MIN(m->consecutive_failures, 6u), RETRY_MAX_US);
		m->retry_after_us = now + backoff;
		g_free(m->last_result);
		m->last_result = g_strdup("failed");
		g_free(m->last_error);
		m->last_error = g_strdup(r->error ? r->error : "failed");
		if (r->kind != VS_JOB_SYNC || !m->synced) {
			m->last_time = (double)g_get_real_time() / 1e6;
			vs_warning("pool %s: %s failed at step %s: %s", m->cfg->name,
			           r->action ? r->action : "sync", r->step ? r->step : "-",
			           m->last_error);
		}
		if (r->kind != VS_JOB_SYNC)
			vs_act_alert(m->act, VS_ALERT_ACTION_FAILED, m->cfg->name, r->step,
			             r->error, r->action);
	} else {
		m->consecutive_failures = 0;
		m->retry_after_us = 0;
		if (r->kind != VS_JOB_SYNC) {
			g_free(m->last_result);
			m->last_result = g_strdup(r->acted ? "ok" : "none");
			g_free(m->last_action);
			m->last_action = g_strdup(r->action ? r->action : "none");
			g_free(m->last_error);
			m->last_error = g_strdup("");
		}
		if (r->acted) {
			if (r->kind == VS_JOB_SCALE_OUT)
				m->scale_outs++;
			else
				m->scale_ins++;
			m->last_time = (double)g_get_real_time() / 1e6;
			m->cooldown_until_us = now + (int64_t)m->cfg->cooldown * G_USEC_PER_SEC;
			m->pending_breach = false;
			vs_info("pool %s: %s done in %.2f s, %u running; cooldown %u s",
			        m->cfg->name, r->action, r->seconds, m->running, m->cfg->cooldown);
		}
		if (r->at_max && m->manual_target < 0 && g_str_equal(m->last_state, "high"))
			alert_at_max(m);
	}
	vs_job_result_free(r);
	vs_act_status_changed(m->act);
	vs_pool_machine_tick(m);
	return G_SOURCE_REMOVE;
}

/**
 * vs_pool_machine_new: the machine of @cfg; @ctx becomes the machine's.
 * Its first job is a sync: reconcile leftovers and re-read the members.
 */
vs_pool_machine *vs_pool_machine_new(vs_act *act, const vs_pool_config *cfg, vs_worker_ctx *ctx)
{
	vs_pool_machine *m = g_new0(vs_pool_machine, 1);
	m->act = act;
	m->cfg = cfg;
	m->ctx = ctx;
	m->manual_target = -1;
	m->last_desired = -1;
	g_strlcpy(m->last_state, "ok", sizeof(m->last_state));
	m->last_action = g_strdup("none");
	m->last_result = g_strdup("none");
	m->last_error = g_strdup("");
	m->worker = g_thread_pool_new(job_run, m, 1, TRUE, NULL);
	return m;
}

/** vs_pool_machine_busy: is an action (or sync) running? */
bool vs_pool_machine_busy(vs_pool_machine *m)
{
	return m->busy;
}

/**
 * vs_pool_machine_stop: starts no more jobs, waits for the running one and
 * takes its result in, so the final status is true.
 */
void vs_pool_machine_stop(vs_pool_machine *m)
{
	if (m->stopping)
		return;
	m->stopping = true;
	g_thread_pool_free(m->worker, FALSE, TRUE);
	m->worker = NULL;
	while (g_main_context_iteration(NULL, FALSE))
		;
}

/** vs_pool_machine_free: stops, then frees the machine and its worker context. */
void vs_pool_machine_free(vs_pool_machine *m)
{
	if (!m)
		return;
	vs_pool_machine_stop(m);
	vs_lb_free(m->ctx->lb);
	g_free(m->ctx);
	if (m->members)
		g_ptr_array_unref(m->members);
	g_free(m->last_action);
	g_free(m->last_result);
	g_free(m->last_error);
	g_free(m);
}

/**
 * vs_pool_machine_notify: records the pool state a notification reports.
 * Level-triggered: the notifier repeats it while the breach lasts.
 */
void vs_pool_machine_notify(vs_pool_machine *m, const vs_notification *n)
{
	int64_t now = g_get_monotonic_time();
	const char *state = n->state;
	if (n->type == VS_NOTIFY_THRESHOLD) {
		/* collectd threshold: okay = ok; beyond the upper bound = high */
		if (n->severity == VS_SEVERITY_OKAY)
			state = "ok";
		else if (n->threshold_low == n->threshold_low && n->value < n->threshold_low)
			state = "low";
		else
			state = "high";
	}
	if (g_str_equal(state, "at_max")) {
		state = "high";
	}
	if (!g_str_equal(state, "high") && !g_str_equal(state, "low") && !g_str_equal(state, "ok"))
		return;
	if (g_str_equal(state, "high")) {
		m->last_high_us = now;
		if (now < m->cooldown_until_us)
			m->pending_breach = true;
	} else {
		m->pending_breach = false;
	}
	g_strlcpy(m->last_state, state, sizeof(m->last_state));
	m->last_state_us = now;
	m->last_desired = n->type == VS_NOTIFY_POOL ? n->desired : -1;
	vs_pool_machine_tick(m);
}

/** vs_pool_machine_set_target: a manual target within min..max. */
bool vs_pool_machine_set_target(vs_pool_machine *m, unsigned target, GError **error)
{
	if (target < m->cfg->min || target > m->cfg->max) {
		g_set_error(error, VS_ACT_ERROR, 0, "pool %s: %u is outside min %u .. max %u",
		            m->cfg->name, target, m->cfg->min, m->cfg->max);
		return false;
	}
	m->manual_target = (int)target;
	m->retry_after_us = 0;
	vs_notice("pool %s: manual target %u", m->cfg->name, target);
	vs_pool_machine_tick(m);
	return true;
}

/** vs_pool_machine_tick: starts the next job if one is due; see file comment. */
void vs_pool_machine_tick(vs_pool_machine *m)
{
	if (m->busy || m->stopping)
		return;
	const vs_pool_config *p = m->cfg;
	int64_t now = g_get_monotonic_time();
	if (!m->synced) {
		if (now >= m->retry_after_us)
			start_job(m, VS_JOB_SYNC, 0, 0, false);
		return;
	}
	if (now < m->retry_after_us)
		return;
	if (m->manual_target >= 0 && m->have_members) {
		unsigned t = (unsigned)m->manual_target;
		if (m->running < t) {
			start_job(m, VS_JOB_SCALE_OUT, t, 1, false);
			return;
		}
		if (m->running > t) {
			start_job(m, VS_JOB_SCALE_IN, t, 1, false);
			return;
		}
		m->manual_target = -1;
		m->cooldown_until_us = now + (int64_t)p->cooldown * G_USEC_PER_SEC;
	}
	if (m->have_members && m->running < p->min) {
		start_job(m, VS_JOB_SCALE_OUT, p->min, 1, false);
		return;
	}
	if (m->have_members && m->running > p->max) {
		start_job(m, VS_JOB_SCALE_IN, p->max, 1, false);
		return;
	}
	if (now < m->cooldown_until_us)
		return;
	int64_t stale = (int64_t)MAX(3 * p->repeat_interval, 10u) * G_USEC_PER_SEC;
	bool fresh = m->last_state_us && now - m->last_state_us <= stale;
	bool high = g_str_equal(m->last_state, "high") && (fresh || m->pending_breach);
	if (high && m->have_members) {
		if (m->running >= p->max)
			alert_at_max(m);
		else {
			/* the notifier's desired count (proportional policy) may
			 * ask for more than one, within max_step_up */
			unsigned target = p->max, steps = 1;
			if (m->last_desired > (int)m->running) {
				target = MIN(p->max, (unsigned)m->last_desired);
				steps = MIN(MAX(p->max_step_up, 1u), target - m->running);
			}
			start_job(m, VS_JOB_SCALE_OUT, target, steps, true);
			return;
		}
	}
	if (fresh && g_str_equal(m->last_state, "low") && m->have_members && m->running > p->min &&
	    now - m->last_high_us >= (int64_t)p->stabilization * G_USEC_PER_SEC) {
		unsigned target = p->min, steps = 1;
		if (m->last_desired >= 0 && m->last_desired < (int)m->running) {
			target = MAX(p->min, (unsigned)m->last_desired);
			steps = MIN(MAX(p->max_step_down, 1u), m->running - target);
		}
		start_job(m, VS_JOB_SCALE_IN, target, steps, true);
		return;
	}
	if (now >= m->next_sync_us)
		start_job(m, VS_JOB_SYNC, 0, 0, false);
}

static const char *phase_name(vs_pool_machine *m)
{
	if (m->busy && m->busy_kind == VS_JOB_SCALE_OUT)
		return "scaling-out";
	if (m->busy && m->busy_kind == VS_JOB_SCALE_IN)
		return "scaling-in";
	if (g_get_monotonic_time() < m->cooldown_until_us)
		return "cooldown";
	return "idle";
}

/** vs_pool_machine_status: the pool's entry of status.json. */
vs_pool_status *vs_pool_machine_status(vs_pool_machine *m)
{
	vs_pool_status *ps = vs_pool_status_new(m->cfg->name);
	int64_t now = g_get_monotonic_time();
	ps->actual = m->running;
	ps->desired = m->manual_target >= 0 ? (unsigned)m->manual_target : m->running;
	if (m->have_members && m->running < m->cfg->min)
		ps->desired = m->cfg->min;
	if (m->busy && m->busy_kind == VS_JOB_SCALE_OUT)
		ps->desired = MAX(ps->desired, m->running + 1);
	if (m->busy && m->busy_kind == VS_JOB_SCALE_IN && m->running > 0)
		ps->desired = MIN(ps->desired, m->running - 1);
	g_free(ps->phase);
	ps->phase = g_strdup(phase_name(m));
	ps->cooldown_left =
	    now < m->cooldown_until_us
	        ? (unsigned)((m->cooldown_until_us - now + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC)
	        : 0;
	g_free(ps->last_action);
	ps->last_action = g_strdup(m->last_action);
	g_free(ps->last_result);
	ps->last_result = g_strdup(m->last_result);
	ps->last_time = m->last_time;
	g_free(ps->last_error);
	ps->last_error = g_strdup(m->last_error);
	ps->scale_outs = m->scale_outs;
	ps->scale_ins = m->scale_ins;
	ps->failures = m->failures;
	ps->alerts = m->alerts;
	for (guint i = 0; m->members && i < m->members->len; i++) {
		const vs_member *mb = m->members->pdata[i];
		vs_instance_status *is = g_new0(vs_instance_status, 1);
		is->name = g_strdup(mb->name);
		is->state = g_strdup(vs_domain_state_name(mb->state));
		is->address = g_strdup(mb->address);
		is->lb = g_strdup(mb->state == VIR_DOMAIN_RUNNING ? "enabled" : "disabled");
		is->sessions = mb->sessions;
		g_ptr_array_add(ps->instances, is);
	}
	return ps;
}
