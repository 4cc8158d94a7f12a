/*
 * pool-machine.c - one pool's state machine (see pool-machine.h). The
 * machine keeps what it knows (vs_pool_facts), asks decide.c what to start,
 * hands jobs to the pool's worker (a GThreadPool of one) and takes their
 * results back on the loop. The warm pool's upkeep has a worker of its own,
 * so that a clone booting to be kept warm never holds up an action. A notification only says what
 * to aim for: the worker re-reads the real members from libvirt before it acts.
 */
#include "config.h"

#include "decide.h"
#include "pool-machine.h"
#include "pool-vertical.h"
#include "precheck.h"
#include "target-store.h"
#include "vs-backoff.h"
#include "vs-log.h"
#include "vs-rebalance.h"

#include <string.h>

#define RETRY_FIRST_MS 2000
#define RETRY_MAX_MS   60000
/* A host that does not answer is asked again this often, so its instances
 * count as lost soon after host_grace. */
#define RETRY_SILENT_HOST_MS 5000

struct vs_pool_machine {
	vs_act *act;
	const vs_pool_config *cfg;
	vs_ops_ctx *ctx;
	GThreadPool *worker;
	GThreadPool *warm_worker; /* the warm pool's upkeep (VS_JOB_WARM) only */
	bool busy;
	vs_job_kind busy_kind;
	bool busy_notified; /* the running job answers a notification */
	bool stopping;
	vs_pool_facts facts;      /* now_us is set when deciding */
	vs_backoff retry;         /* after failed jobs */
	vs_pool_view *view;       /* the members of the last job, NULL before */
	unsigned warm_ready;      /* warm instances ready, as the last job counted */
	vs_target_store *targets; /* the manual targets, kept across restarts */
	char *draining;           /* the member a running scale-in drains */
	/* for status.json */
	vs_action last_action;
	vs_result last_result;
	char *last_error;
	double last_time;
	uint64_t scale_outs, scale_ins, failures, alerts;
	vs_alert_kind last_alert;
	double last_alert_time;
	int64_t last_at_max_alert_us;
	bool alerted;  /* an at-max or failure alert since the pool was last fine */
	char *blocked; /* the precondition scale-outs are blocked on (precheck.h) */
	/* live migration: the one asked for and not started yet, the last one */
	char *migrate_domain, *migrate_uri;
	vs_migration_status *migration;
	uint64_t migrations;
	char *migrating_from, *migrating_to; /* hosts of the running one (host health) */
	/* rebalancing between the pool's hosts (vs-rebalance.h) */
	vs_rebalance_state *rebalance;
	uint64_t rebalance_seen; /* samples of the first host taken in */
	vs_rebalance_status *rebalance_last;
	uint64_t rebalances;
	bool rebalance_settling;    /* a migration touched the hosts: skip one more sample */
	vs_pool_vertical *vertical; /* NULL: the pool does not scale vertically */
	int busy_direction;         /* a running vertical job: +1 grows, -1 shrinks */
};

typedef struct job_call {
	vs_pool_machine *m;
	vs_job job;
} job_call;

typedef struct job_done_call {
	vs_pool_machine *m;
	vs_job_result *r;
} job_done_call;

typedef struct draining_call {
	vs_pool_machine *m;
	char *member;
} draining_call;

static double now_real(void)
{
	return (double)g_get_real_time() / 1e6;
}

static void raise_alert(vs_pool_machine *m, vs_alert_kind kind, const char *step, const char *error,
                        const char *summary)
{
	m->alerts++;
	m->last_alert = kind;
	m->last_alert_time = now_real();
	if (kind == VS_ALERT_AT_MAX || kind == VS_ALERT_ACTION_FAILED)
		m->alerted = true;
	else if (kind == VS_ALERT_RECOVERED)
		m->alerted = false;
	vs_act_alert(m->act, kind, m->cfg->name, step, error, summary);
	vs_act_status_changed(m->act);
}

/* After an alert, the first sign the pool is fine again is news too. */
static void maybe_recovered(vs_pool_machine *m, const char *why)
{
	g_autofree char *summary = NULL;

	if (!m->alerted)
		return;
	summary = g_strdup_printf("pool %s is back to normal: %s (%u running)", m->cfg->name, why,
	                          m->facts.running);
	vs_notice("%s", summary);
	raise_alert(m, VS_ALERT_RECOVERED, NULL, NULL, summary);
}

static void alert_at_max(vs_pool_machine *m)
{
	int64_t now = g_get_monotonic_time();
	int64_t every = (int64_t)MAX(m->cfg->cooldown, 1u) * G_USEC_PER_SEC;
	g_autofree char *summary = NULL;

	if (m->last_at_max_alert_us && now - m->last_at_max_alert_us < every)
		return;
	m->last_at_max_alert_us = now;
	summary = g_strdup_printf("pool %s is at max (%u running, max %u) and still high",
	                          m->cfg->name, m->facts.running, m->cfg->max);
	vs_warning("%s", summary);
	raise_alert(m, VS_ALERT_AT_MAX, NULL, NULL, summary);
}

/* Worker thread: tells the loop which member a scale-in drains. */
static gboolean draining_on_loop(gpointer data)
{
	draining_call *d = data;

	g_free(d->m->draining);
	d->m->draining = g_steal_pointer(&d->member);
	vs_act_status_changed(d->m->act);
	g_free(d);
	return G_SOURCE_REMOVE;
}

static void warm_tick(vs_pool_machine *m);

/* Worker thread: a warm instance is being taken: the upkeep need not wait
 * for the end of the action to make the next one. */
static gboolean warm_taken_on_loop(gpointer data)
{
	vs_pool_machine *m = data;

	m->facts.warm_needed = true;
	warm_tick(m);
	return G_SOURCE_REMOVE;
}

static void warm_taken_from_worker(void *opaque)
{
	g_main_context_invoke(NULL, warm_taken_on_loop, opaque);
}

static void draining_from_worker(const char *member, void *opaque)
{
	draining_call *d = g_new0(draining_call, 1);

	d->m = opaque;
	d->member = g_strdup(member);
	g_main_context_invoke(NULL, draining_on_loop, d);
}

static gboolean job_done(gpointer data);

/* Worker thread: runs the job, hands the result to the loop. */
static void job_thread(gpointer data, gpointer user_data)
{
	job_call *call = data;
	job_done_call *done = g_new0(job_done_call, 1);

	done->m = call->m;
	done->r = vs_job_run(call->m->ctx, &call->job);
	vs_pool_view_free(call->job.previous);
	g_free(call->job.domain);
	g_free(call->job.dest_uri);
	g_free(call);
	g_main_context_invoke(NULL, job_done, done);
}

/* The member's host now, from the last view. */
static const char *member_host(const vs_pool_machine *m, const char *name)
{
	for (guint i = 0; m->view && i < m->view->members->len; i++) {
		const vs_member *mb = m->view->members->pdata[i];

		if (g_strcmp0(mb->name, name) == 0)
			return vs_config_host_name(m->ctx->cfg, mb->host_uri);
	}
	return "";
}

/* The member's host URI, from the last view; NULL unknown. */
static const char *member_host_uri(const vs_pool_machine *m, const char *name)
{
	for (guint i = 0; m->view && i < m->view->members->len; i++) {
		const vs_member *mb = m->view->members->pdata[i];

		if (g_strcmp0(mb->name, name) == 0)
			return mb->host_uri;
	}
	return NULL;
}

/* Event loop: a migration from @from to @to starts (+1) or ends (-1): at
 * most one per host at a time for rebalancing, whichever pool moves. */
static void count_migration(vs_pool_machine *m, const char *from, const char *to, int delta)
{
	vs_host_health *h;

	if (from && (h = vs_ops_health(m->ctx, from)))
		vs_host_health_migration(h, delta);
	if (to && (h = vs_ops_health(m->ctx, to)))
		vs_host_health_migration(h, delta);
}

static void start_migration_record(vs_pool_machine *m, const char *domain, const char *uri)
{
	vs_migration_status_free(m->migration);
	m->migration = g_new0(vs_migration_status, 1);
	m->migration->domain = g_strdup(domain);
	m->migration->from = g_strdup(member_host(m, domain));
	m->migration->to = g_strdup(vs_config_host_name(m->ctx->cfg, uri));
	m->migration->result = VS_RESULT_RUNNING;
	m->migration->dirty_rate = -1;
	m->migration->time = now_real();
}

/* Event loop: what a migration job measured, and how it ended. */
static void end_migration_record(vs_pool_machine *m, const vs_job_result *r)
{
	vs_migration_status *mg = m->migration;

	if (!mg)
		return;
	mg->result = r->ok ? VS_RESULT_OK : r->cancelled ? VS_RESULT_CANCELLED : VS_RESULT_FAILED;
	mg->total_ms = r->migration.total_ms;
	mg->downtime_ms = r->migration.downtime_ms;
	mg->bytes = r->migration.bytes;
	mg->iterations = r->migration.iterations;
	mg->path = (unsigned)r->migration.path;
	mg->dirty_rate = r->migration.dirty_rate;
	mg->postcopy = r->migration.postcopy;
	if (r->migration.moved)
		m->migrations++;
	if (r->ok)
		vs_notice("pool %s: %s migrated from %s to %s in %" G_GUINT64_FORMAT
		          " ms, downtime %" G_GUINT64_FORMAT " ms",
		          m->cfg->name, mg->domain, mg->from, mg->to, mg->total_ms,
		          mg->downtime_ms);
}

/* @vjob: a VERTICAL job's member and step (vs_pool_vertical_take), its
 * domain taken */
static void start_job_with(vs_pool_machine *m, vs_job_kind kind, const vs_pool_next *next,
                           vs_job *vjob)
{
	job_call *call = g_new0(job_call, 1);

	call->m = m;
	call->job = (vs_job){.kind = kind,
	                     .target = next ? next->target : 0,
	                     .steps = next ? next->steps : 1,
	                     .notified = next && next->notified,
	                     .precheck = kind == VS_JOB_SYNC && (!m->facts.synced || m->blocked),
	                     .previous = m->view ? vs_pool_view_copy(m->view) : NULL};
	if (kind == VS_JOB_WARM) {
		m->facts.warm_busy = true;
		g_thread_pool_push(m->warm_worker, call, NULL);
		return;
	}
	m->busy = true;
	m->busy_kind = kind;
	m->busy_notified = next && next->notified;
	if (kind == VS_JOB_MIGRATE) {
		call->job.domain = g_steal_pointer(&m->migrate_domain);
		call->job.dest_uri = g_steal_pointer(&m->migrate_uri);
		start_migration_record(m, call->job.domain, call->job.dest_uri);
		m->migrating_from = g_strdup(member_host_uri(m, call->job.domain));
		m->migrating_to = g_strdup(call->job.dest_uri);
		count_migration(m, m->migrating_from, m->migrating_to, +1);
	}
	if (kind == VS_JOB_VERTICAL) {
		call->job.domain = g_steal_pointer(&vjob->domain);
		call->job.vcpu_step = vjob->vcpu_step;
		call->job.memory_step = vjob->memory_step;
		call->job.mem_percent = vjob->mem_percent;
		m->busy_direction = vjob->vcpu_step ? vjob->vcpu_step : vjob->memory_step;
	}
	if (kind != VS_JOB_SYNC) {
		m->last_action = kind == VS_JOB_SCALE_OUT ? VS_ACTION_SCALE_OUT
		                 : kind == VS_JOB_MIGRATE ? VS_ACTION_MIGRATE
		                 : kind == VS_JOB_VERTICAL
		                     ? (call->job.vcpu_step > 0     ? VS_ACTION_VCPU_ADD
		                        : call->job.vcpu_step < 0   ? VS_ACTION_VCPU_REMOVE
		                        : call->job.memory_step > 0 ? VS_ACTION_MEMORY_ADD
		                                                    : VS_ACTION_MEMORY_REMOVE)
		                     : VS_ACTION_SCALE_IN;
		if (kind == VS_JOB_VERTICAL)
			vs_pool_vertical_started(m->vertical, &call->job, m->last_action);
		m->last_result = VS_RESULT_RUNNING;
		m->last_time = now_real();
		vs_act_status_changed(m->act);
	}
	g_thread_pool_push(m->worker, call, NULL);
}

static void start_job(vs_pool_machine *m, vs_job_kind kind, const vs_pool_next *next)
{
	start_job_with(m, kind, next, NULL);
}

/* A member's vCPUs or memory, the one vs_pool_vertical_take() names. */
static void start_vertical(vs_pool_machine *m, const vs_pool_next *next)
{
	vs_job vjob = {0};

	if (!vs_pool_vertical_take(m->vertical, next->direction, &vjob))
		return;
	start_job_with(m, VS_JOB_VERTICAL, next, &vjob);
	g_free(vjob.domain);
}

static bool was_lost(const vs_pool_view *v, const char *name)
{
	for (guint i = 0; v && i < v->members->len; i++) {
		const vs_member *p = v->members->pdata[i];

		if (p->lost && g_strcmp0(p->name, name) == 0)
			return true;
	}
	return false;
}

/* Members lost with their host since the last view: one alert, and the
 * pool goes back to the count it had (on the hosts that answer). */
static void on_lost(vs_pool_machine *m, const vs_pool_view *fresh)
{
	g_autoptr(GString) names = g_string_new(NULL);
	g_autoptr(GString) hosts = g_string_new(NULL);
	unsigned lost = 0, running_lost = 0;

	for (guint i = 0; i < fresh->members->len; i++) {
		const vs_member *mb = fresh->members->pdata[i];
		const char *host = vs_config_host_name(m->ctx->cfg, mb->host_uri);

		if (!mb->lost || was_lost(m->view, mb->name))
			continue;
		lost++;
		running_lost += vs_pool_member_running(mb->state);
		g_string_append_printf(names, "%s%s", names->len ? ", " : "", mb->name);
		if (!strstr(hosts->str, host))
			g_string_append_printf(hosts, "%s%s", hosts->len ? ", " : "", host);
	}
	if (!lost)
		return;
	m->facts.refill_target = (int)MIN(fresh->n_running + running_lost, m->cfg->max);
	g_autofree char *summary = g_strdup_printf(
	    "pool %s: host %s has not answered for %u s: %u instance(s) counted as lost (%s), "
	    "out of the load balancer; %u running elsewhere, refilling to %d",
	    m->cfg->name, hosts->str, m->ctx->cfg->host_grace, lost, names->str, fresh->n_running,
	    m->facts.refill_target);
	vs_warning("%s", summary);
	raise_alert(m, VS_ALERT_HOST_LOST, NULL, hosts->str, summary);
}

/* A lost host answers again: what became of its instances. */
static void on_returned(vs_pool_machine *m, const vs_job_result *r)
{
	if (!r->returned_adopted && !r->returned_removed)
		return;
	g_autofree char *summary =
	    g_strdup_printf("pool %s: a lost host answers again: %u of its instance(s) kept, "
	                    "%u removed (max %u)",
	                    m->cfg->name, r->returned_adopted, r->returned_removed, m->cfg->max);
	vs_notice("%s", summary);
	raise_alert(m, VS_ALERT_HOST_BACK, NULL, NULL, summary);
}

static void take_members(vs_pool_machine *m, vs_job_result *r)
{
	on_returned(m, r);
	if (!r->view)
		return;
	on_lost(m, r->view);
	if (m->facts.refill_target >= 0 && r->view->n_running >= (unsigned)m->facts.refill_target) {
		vs_notice("pool %s: refilled to %u running", m->cfg->name, r->view->n_running);
		m->facts.refill_target = -1;
	}
	vs_pool_view_free(m->view);
	m->view = g_steal_pointer(&r->view);
	m->facts.running = m->view->n_running;
	m->facts.have_members = true;
	vs_pool_vertical_set_members(m->vertical, m->view);
}

/* The warm pool after a job: what is ready, whether upkeep is due. */
static void take_warm(vs_pool_machine *m, const vs_job_result *r, int64_t now)
{
	const vs_pool_config *p = m->cfg;

	if (!p->warm)
		return;
	if (r->kind == VS_JOB_WARM && !r->ok && !r->cancelled) {
		vs_warning("pool %s: warm pool upkeep failed at step %s: %s", p->name,
		           vs_op_step_name(r->outcome.step), r->error ? r->error : "failed");
		m->facts.warm_retry_us = now + (int64_t)p->sync_interval * G_USEC_PER_SEC;
	}
	if (!r->view)
		return;
	m->warm_ready = r->warm_ready;
	m->facts.warm_needed =
	    r->warm_stale || r->warm_ready > p->warm ||
	    (r->warm_ready < p->warm && r->view->n_running + r->warm_ready < p->max + p->warm);
}

static void job_failed(vs_pool_machine *m, vs_job_result *r, int64_t now)
{
	const char *step = vs_op_step_name(r->outcome.step);

	m->failures++;
	int64_t wait_ms = vs_backoff_failed(&m->retry, now / 1000);

	if (r->outcome.step == VS_STEP_LIST) /* a host does not answer */
		wait_ms = MIN(wait_ms, RETRY_SILENT_HOST_MS);
	m->facts.retry_after_us = now + wait_ms * (int64_t)G_TIME_SPAN_MILLISECOND;
	m->last_result = VS_RESULT_FAILED;
	g_free(m->last_error);
	m->last_error = g_strdup(r->error ? r->error : "failed");
	if (r->outcome.step == VS_STEP_PRECHECK)
		return; /* nothing was cloned: on_precheck() logs and alerts */
	if (r->kind != VS_JOB_SYNC || !m->facts.synced) {
		m->last_time = now_real();
		vs_warning("pool %s: %s failed at step %s: %s", m->cfg->name,
		           r->kind == VS_JOB_SYNC ? "sync" : vs_action_name(r->outcome.action),
		           step, m->last_error);
	}
	if (r->kind == VS_JOB_MIGRATE && m->migration) {
		/* the mail names the guest and where it stays running */
		g_autofree char *summary = g_strdup_printf(
		    "migrate %s from %s to %s failed%s", m->migration->domain, m->migration->from,
		    m->migration->to, r->migration.moved ? "" : ": it keeps running where it was");
		raise_alert(m, VS_ALERT_ACTION_FAILED, step, r->error, summary);
	} else if (r->kind != VS_JOB_SYNC) {
		raise_alert(m, VS_ALERT_ACTION_FAILED, step, r->error,
		            vs_action_name(r->outcome.action));
	}
}

/* Sets (-1: ends) the manual target and records it for the next start. */
static void set_manual_target(vs_pool_machine *m, int target, const char *why)
{
	if (target < 0 && m->facts.manual_target >= 0)
		vs_notice("pool %s: manual target %d ended: %s", m->cfg->name,
		          m->facts.manual_target, why);
	else if (target >= 0)
		vs_notice("pool %s: manual target %d (%s)", m->cfg->name, target, why);
	m->facts.manual_target = target;
	m->facts.manual_reached = false;
	vs_target_store_set(m->targets, m->cfg->name, target);
	vs_act_status_changed(m->act);
}

static void job_succeeded(vs_pool_machine *m, vs_job_result *r, int64_t now)
{
	if (m->retry.failures)
		maybe_recovered(m, "the last action succeeded");
	vs_backoff_reset(&m->retry);
	m->facts.retry_after_us = 0;
	if (r->kind != VS_JOB_SYNC) {
		m->last_result = r->acted ? VS_RESULT_OK : VS_RESULT_NONE;
		m->last_action = r->outcome.action;
		g_free(m->last_error);
		m->last_error = g_strdup("");
	}
	if (m->busy_notified && !r->acted) {
		/* nothing could be done for the notification (a pool at a bound
		 * whose members cannot grow or shrink): wait for the next one
		 * rather than start the same job every second */
		m->facts.verdict_us = 0;
		m->facts.pending_breach = false;
	}
	if (r->acted && r->kind != VS_JOB_MIGRATE) {
		if (r->kind == VS_JOB_SCALE_OUT)
			m->scale_outs++;
		else if (r->kind == VS_JOB_SCALE_IN)
			m->scale_ins++;
		m->last_time = now_real();
		m->facts.cooldown_until_us = now + (int64_t)m->cfg->cooldown * G_USEC_PER_SEC;
		m->facts.pending_breach = false;
		vs_info("pool %s: %s done in %.2f s, %u running; cooldown %u s", m->cfg->name,
		        vs_action_name(r->outcome.action), r->seconds, m->facts.running,
		        m->cfg->cooldown);
	}
	if (r->acted && m->busy_notified && r->kind != VS_JOB_SYNC && m->facts.manual_target >= 0)
		/* the policy moved the pool: the user's target has done its job */
		set_manual_target(m, -1, "the policy moved the pool");
	if (r->acted && m->busy_notified && r->kind == VS_JOB_SCALE_IN)
		m->facts.refill_target = -1; /* the policy wants fewer now */
	if (r->at_max && (m->facts.manual_target < 0 || m->facts.manual_reached) &&
	    (m->facts.verdict == VS_VERDICT_HIGH || m->facts.verdict == VS_VERDICT_AT_MAX))
		alert_at_max(m);
}

/* The preconditions of a scale-out, checked by the job: one alert when the
 * pool becomes blocked, none while the same condition lasts, recovered when
 * it clears. Blocked, it is checked again at least every sync interval:
 * that clones nothing. */
static void on_precheck(vs_pool_machine *m, const vs_job_result *r, int64_t now)
{
	switch (vs_precheck_track(&m->blocked, r->condition)) {
	case VS_BLOCK_NEW:
		vs_warning("pool %s: scale-out blocked, nothing is cloned until this is fixed: %s",
		           m->cfg->name, r->blocked);
		m->last_time = now_real();
		raise_alert(m, VS_ALERT_ACTION_FAILED, vs_op_step_name(VS_STEP_PRECHECK),
		            r->blocked, "scale-out blocked");
		break;
	case VS_BLOCK_CLEARED:
		vs_notice("pool %s: the preconditions of a scale-out hold again", m->cfg->name);
		if (g_str_has_prefix(m->last_error, "blocked: ")) {
			g_free(m->last_error);
			m->last_error = g_strdup("");
		}
		m->facts.retry_after_us = 0;
		maybe_recovered(m, "the preconditions of a scale-out hold again");
		break;
	case VS_BLOCK_SAME:
	case VS_BLOCK_NONE:
		break;
	}
	if (!m->blocked)
		return;
	m->last_result = VS_RESULT_FAILED;
	g_free(m->last_error);
	m->last_error = g_strdup_printf("blocked: %s", r->blocked);
	m->facts.retry_after_us =
	    MIN(m->facts.retry_after_us, now + (int64_t)m->cfg->sync_interval * G_USEC_PER_SEC);
}

/* The members an upkeep job read: the balancer states of the last view
 * (the upkeep does not read the balancer; it changes no member's state
 * there). */
static void keep_lb_states(const vs_pool_view *old, vs_pool_view *fresh)
{
	for (guint i = 0; old && i < fresh->members->len; i++) {
		vs_member *mb = fresh->members->pdata[i];

		for (guint k = 0; k < old->members->len; k++) {
			const vs_member *was = old->members->pdata[k];

			if (g_strcmp0(was->name, mb->name) == 0)
				mb->lb_state = was->lb_state;
		}
	}
}

/* Event loop: the warm pool's upkeep ended. No action of the pool: no
 * cooldown, no backoff of scaling; a failure is retried after a sync
 * interval. Its view of the members is taken only while no action runs
 * (the action's own view comes with its result). */
static void warm_done(vs_pool_machine *m, vs_job_result *r, int64_t now)
{
	m->facts.warm_busy = false;
	take_warm(m, r, now);
	if (!m->busy && r->view) {
		keep_lb_states(m->view, r->view);
		take_members(m, r);
	}
}

/* Event loop: an action's result (any job of the first worker). */
static void action_done(vs_pool_machine *m, vs_job_result *r, int64_t now)
{
	m->busy = false;
	g_clear_pointer(&m->draining, g_free);
	take_warm(m, r, now); /* before take_members() takes the view */
	take_members(m, r);
	if (r->kind == VS_JOB_MIGRATE) {
		end_migration_record(m, r);
		count_migration(m, m->migrating_from, m->migrating_to, -1);
		g_clear_pointer(&m->migrating_from, g_free);
		g_clear_pointer(&m->migrating_to, g_free);
	}
	if (r->kind == VS_JOB_VERTICAL)
		vs_pool_vertical_ended(m->vertical, r);
	if (r->reconciled) {
		g_autofree char *summary =
		    r->adopted ? g_strdup_printf("pool %s: %u interrupted action(s) settled, %u "
		                                 "finished clone(s) adopted",
		                                 m->cfg->name, r->reconciled, r->adopted)
		               : g_strdup_printf("pool %s: %u interrupted action(s) settled: "
		                                 "leftovers removed",
		                                 m->cfg->name, r->reconciled);
		raise_alert(m, VS_ALERT_RECONCILED, NULL, NULL, summary);
	}
	if (r->kind == VS_JOB_SYNC) {
		m->facts.synced = r->ok || m->facts.synced;
		m->facts.next_sync_us = now + (int64_t)m->cfg->sync_interval * G_USEC_PER_SEC;
	}
	if (!r->ok && r->cancelled) {
		/* not a failure of the action: no alert, no backoff to carry */
		vs_notice("pool %s: %s stopped at step %s: virtscaled is stopping", m->cfg->name,
		          vs_action_name(r->outcome.action), vs_op_step_name(r->outcome.step));
		m->last_result = VS_RESULT_CANCELLED;
	} else if (!r->ok) {
		job_failed(m, r, now);
	} else {
		job_succeeded(m, r, now);
	}
	if (r->prechecked)
		on_precheck(m, r, now);
}

/* Event loop: a job's result. */
static gboolean job_done(gpointer data)
{
	job_done_call *done = data;
	vs_pool_machine *m = done->m;
	int64_t now = g_get_monotonic_time();

	if (done->r->kind == VS_JOB_WARM)
		warm_done(m, done->r, now);
	else
		action_done(m, done->r, now);
	vs_job_result_free(done->r);
	g_free(done);
	vs_act_status_changed(m->act);
	vs_pool_machine_tick(m);
	return G_SOURCE_REMOVE;
}

/* A manual target recorded by an earlier run is the user's still: the
 * pool goes on towards it (unless the configuration moved min or max). */
static void restore_manual_target(vs_pool_machine *m)
{
	int t = vs_target_store_get(m->targets, m->cfg->name);

	if (t < 0)
		return;
	if ((unsigned)t < m->cfg->min || (unsigned)t > m->cfg->max) {
		vs_notice("pool %s: recorded manual target %d is outside min %u .. max %u: dropped",
		          m->cfg->name, t, m->cfg->min, m->cfg->max);
		vs_target_store_set(m->targets, m->cfg->name, -1);
		return;
	}
	m->facts.manual_target = t;
	vs_notice("pool %s: manual target %d restored", m->cfg->name, t);
}

/* Event loop: a round of readings of the members' load. */
static void vertical_changed(void *opaque)
{
	vs_pool_machine_tick(opaque);
}

/**
 * vs_pool_machine_new: see pool-machine.h.
 */
vs_pool_machine *vs_pool_machine_new(vs_act *act, const vs_pool_config *cfg, vs_ops_ctx *ctx)
{
	vs_pool_machine *m = g_new0(vs_pool_machine, 1);

	m->act = act;
	m->cfg = cfg;
	m->ctx = ctx;
	ctx->draining = draining_from_worker;
	ctx->warm_taken = warm_taken_from_worker;
	ctx->opaque = m;
	m->facts.manual_target = -1;
	m->facts.desired = -1;
	m->facts.refill_target = -1;
	m->targets = vs_target_store_open(ctx->cfg->state_dir);
	restore_manual_target(m);
	m->facts.verdict = VS_VERDICT_OK;
	vs_backoff_init(&m->retry, RETRY_FIRST_MS, RETRY_MAX_MS);
	m->last_action = VS_ACTION_NONE;
	m->last_result = VS_RESULT_NONE;
	m->last_alert = VS_ALERT_NONE;
	m->last_error = g_strdup("");
	m->worker = g_thread_pool_new(job_thread, m, 1, TRUE, NULL);
	m->warm_worker = g_thread_pool_new(job_thread, m, 1, TRUE, NULL);
	m->vertical = vs_pool_vertical_new(ctx, vertical_changed, m);
	return m;
}

/**
 * vs_pool_machine_stop: see pool-machine.h.
 */
void vs_pool_machine_stop(vs_pool_machine *m)
{
	if (m->stopping)
		return;
	m->stopping = true;
	vs_pool_vertical_stop(m->vertical);
	g_thread_pool_free(m->worker, FALSE, TRUE);
	m->worker = NULL;
	g_thread_pool_free(m->warm_worker, FALSE, TRUE);
	m->warm_worker = NULL;
	while (g_main_context_iteration(NULL, FALSE))
		;
}

/** vs_pool_machine_free: stops, then frees the machine and its context. */
void vs_pool_machine_free(vs_pool_machine *m)
{
	if (!m)
		return;
	vs_pool_machine_stop(m);
	vs_lb_free(m->ctx->lb);
	g_free(m->ctx);
	vs_pool_view_free(m->view);
	vs_target_store_unref(m->targets);
	g_free(m->draining);
	g_free(m->last_error);
	g_free(m->blocked);
	g_free(m->migrate_domain);
	g_free(m->migrate_uri);
	vs_migration_status_free(m->migration);
	g_free(m->migrating_from);
	g_free(m->migrating_to);
	vs_rebalance_state_free(m->rebalance);
	vs_rebalance_status_free(m->rebalance_last);
	vs_pool_vertical_free(m->vertical);
	g_free(m);
}

/**
 * vs_pool_machine_notify: records the verdict a notification reports (a
 * threshold one's is derived when it is parsed). Level-triggered: the
 * notifier repeats it while the breach lasts.
 */
void vs_pool_machine_notify(vs_pool_machine *m, const vs_notification *n)
{
	int64_t now = g_get_monotonic_time();
	bool high = n->verdict == VS_VERDICT_HIGH || n->verdict == VS_VERDICT_AT_MAX;

	if (n->verdict == VS_VERDICT_UNKNOWN)
		return;
	if (high) {
		bool was_high = (m->facts.verdict == VS_VERDICT_HIGH ||
		                 m->facts.verdict == VS_VERDICT_AT_MAX) &&
		                m->facts.verdict_us;

		if (!was_high || !m->facts.high_since_us)
			m->facts.high_since_us = now;
		m->facts.last_high_us = now;
		if (now < m->facts.cooldown_until_us)
			m->facts.pending_breach = true;
	} else {
		m->facts.pending_breach = false;
		m->facts.high_since_us = 0;
		if (m->facts.verdict == VS_VERDICT_HIGH || m->facts.verdict == VS_VERDICT_AT_MAX)
			maybe_recovered(m, "no longer high");
	}
	m->facts.verdict = n->verdict;
	m->facts.verdict_us = now;
	m->facts.desired = n->type == VS_NOTIFY_POOL ? n->desired : -1;
	vs_pool_machine_tick(m);
}

/** vs_pool_machine_set_target: a manual target within min..max. */
bool vs_pool_machine_set_target(vs_pool_machine *m, unsigned target, GError **error)
{
	if (target < m->cfg->min || target > m->cfg->max) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_STATE,
		            "pool %s: %u is outside min %u .. max %u", m->cfg->name, target,
		            m->cfg->min, m->cfg->max);
		return false;
	}
	set_manual_target(m, (int)target, "virtscalectl scale");
	m->facts.retry_after_us = 0;
	vs_pool_machine_tick(m);
	return true;
}

/** vs_pool_machine_migrate: see pool-machine.h. */
bool vs_pool_machine_migrate(vs_pool_machine *m, const char *domain, const char *uri,
                             GError **error)
{
	const vs_member *mb = NULL;

	if (m->migrate_domain || (m->busy && m->busy_kind == VS_JOB_MIGRATE)) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_STATE,
		            "pool %s: a migration is already under way", m->cfg->name);
		return false;
	}
	/* what the last job saw answers most requests at once (the job checks
	 * again against libvirt) */
	for (guint i = 0; m->view && i < m->view->members->len; i++)
		if (g_strcmp0(((const vs_member *)m->view->members->pdata[i])->name, domain) == 0)
			mb = m->view->members->pdata[i];
	if (m->view && !mb) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_NOT_FOUND,
		            "%s is not a member of pool %s", domain, m->cfg->name);
		return false;
	}
	if (mb && mb->running && g_strcmp0(mb->host_uri, uri) == 0) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_STATE, "%s already runs on %s",
		            domain, vs_config_host_name(m->ctx->cfg, uri));
		return false;
	}
	m->migrate_domain = g_strdup(domain);
	m->migrate_uri = g_strdup(uri);
	vs_notice("pool %s: migration of %s to %s asked for", m->cfg->name, domain,
	          vs_config_host_name(m->ctx->cfg, uri));
	vs_pool_machine_tick(m);
	return true;
}

/** vs_pool_machine_clear_target: see pool-machine.h. */
void vs_pool_machine_clear_target(vs_pool_machine *m)
{
	set_manual_target(m, -1, "virtscalectl scale auto");
	vs_pool_machine_tick(m);
}

/* The pool's hosts as rebalancing sees them now (figures of the host
 * watch, instances of the last view); @migrating: a migration under way. */
static vs_placement_host *rebalance_hosts(vs_pool_machine *m, bool *migrating, size_t n)
{
	vs_placement_host *hosts = g_new0(vs_placement_host, n);

	for (size_t i = 0; i < n; i++) {
		vs_host_health *health = vs_ops_health(m->ctx, m->cfg->hosts[i]);

		hosts[i].uri = m->cfg->hosts[i];
		hosts[i].cpu_idle = hosts[i].mem_free = hosts[i].rtt_ms = -1;
		if (!health)
			continue;
		vs_host_health_figures(health, &hosts[i]);
		hosts[i].answers = vs_host_health_down_since(health) == 0;
		migrating[i] = vs_host_health_migrations(health) > 0;
	}
	if (m->view)
		vs_pool_view_host_counts(m->view, hosts, n);
	return hosts;
}

/* The running members with their share of their host's CPUs. */
static vs_rebalance_member *rebalance_members(vs_pool_machine *m, size_t n_hosts, size_t *n)
{
	vs_rebalance_member *out = g_new0(vs_rebalance_member, MAX(m->view->members->len, 1));

	*n = 0;
	for (guint i = 0; i < m->view->members->len; i++) {
		const vs_member *mb = m->view->members->pdata[i];

		if (!mb->running || mb->lost)
			continue;
		for (size_t h = 0; h < n_hosts; h++) {
			if (g_strcmp0(mb->host_uri, m->cfg->hosts[h]) != 0)
				continue;
			vs_host_health *health = vs_ops_health(m->ctx, mb->host_uri);

			out[*n].name = mb->name;
			out[*n].host = h;
			out[*n].cpu = health ? vs_host_health_domain_cpu(health, mb->name) : -1;
			(*n)++;
			break;
		}
	}
	return out;
}

/* Records, logs and (rebalance = on) asks for the move @mv. */
static void rebalance_act(vs_pool_machine *m, const vs_rebalance_member *members,
                          const vs_rebalance_move *mv, int64_t now)
{
	const vs_pool_config *p = m->cfg;
	const char *from = vs_config_host_name(m->ctx->cfg, p->hosts[mv->from]);
	const char *to = vs_config_host_name(m->ctx->cfg, p->hosts[mv->to]);
	bool dry = p->rebalance == VS_REBALANCE_DRY_RUN;

	vs_rebalance_moved(p, m->rebalance, now);
	m->rebalances++;
	vs_rebalance_status_free(m->rebalance_last);
	m->rebalance_last = g_new0(vs_rebalance_status, 1);
	m->rebalance_last->domain = g_strdup(members[mv->member].name);
	m->rebalance_last->from = g_strdup(from);
	m->rebalance_last->to = g_strdup(to);
	m->rebalance_last->from_load = mv->from_load;
	m->rebalance_last->to_load = mv->to_load;
	m->rebalance_last->dry_run = dry;
	m->rebalance_last->time = now_real();
	vs_notice("pool %s: rebalance%s: %s %s from %s (%.0f%% busy) to %s (%.0f%%), expected "
	          "%.0f%% and %.0f%% after; next in %u s at the earliest",
	          p->name, dry ? " (dry run)" : "", dry ? "would migrate" : "migrating",
	          members[mv->member].name, from, mv->from_load, to, mv->to_load, mv->from_after,
	          mv->to_after, p->rebalance_cooldown);
	vs_act_status_changed(m->act);
	if (dry)
		return;
	m->migrate_domain = g_strdup(members[mv->member].name);
	m->migrate_uri = g_strdup(p->hosts[mv->to]);
}

/* Event loop: one rebalancing round per new sample of the pool's first
 * host (the host watch samples every host in one pass). Only reads what
 * the host watch and the last job left: never blocks. */
static void rebalance_tick(vs_pool_machine *m)
{
	const vs_pool_config *p = m->cfg;
	size_t n = p->hosts ? g_strv_length(p->hosts) : 0;
	vs_host_health *first = n ? vs_ops_health(m->ctx, p->hosts[0]) : NULL;
	int64_t now = g_get_monotonic_time();
	vs_rebalance_move mv;
	uint64_t seen;
	size_t nm = 0;

	if (p->rebalance == VS_REBALANCE_OFF || n < 2 || !first)
		return;
	seen = vs_host_health_samples(first);
	if (seen == m->rebalance_seen)
		return;
	m->rebalance_seen = seen;
	if (!m->rebalance)
		m->rebalance = vs_rebalance_state_new(p, n);
	g_autofree bool *migrating = g_new0(bool, n);
	g_autofree vs_placement_host *hosts = rebalance_hosts(m, migrating, n);
	bool moving = m->busy && m->busy_kind == VS_JOB_MIGRATE;

	for (size_t i = 0; i < n; i++)
		moving = moving || migrating[i];
	if (moving || m->rebalance_settling) {
		/* a sample taken while a guest moves (or the one after, which
		 * may span its last moments) shows neither host as it will be */
		m->rebalance_settling = moving;
		vs_rebalance_forget(m->rebalance);
		return;
	}
	vs_rebalance_push(p, m->rebalance, hosts);
	if (m->busy || m->migrate_domain || !m->view)
		return; /* one action per pool at a time; decided again after it */
	g_autofree vs_rebalance_member *members = rebalance_members(m, n, &nm);

	if (vs_rebalance_decide(p, m->rebalance, hosts, migrating, members, nm, now, &mv))
		rebalance_act(m, members, &mv, now);
}

/* The warm pool's upkeep, on its own worker, whatever the first one does. */
static void warm_tick(vs_pool_machine *m)
{
	const vs_pool_facts *f = &m->facts;

	if (m->stopping || !m->cfg->warm || f->warm_busy || !f->have_members || !f->warm_needed ||
	    g_get_monotonic_time() < f->warm_retry_us)
		return;
	start_job(m, VS_JOB_WARM, NULL);
}

/** vs_pool_machine_tick: starts the next job if one is due (decide.c). */
void vs_pool_machine_tick(vs_pool_machine *m)
{
	vs_pool_next next;

	if (m->stopping)
		return;
	rebalance_tick(m);
	warm_tick(m);
	if (m->busy)
		return;
	if (m->migrate_domain) {
		/* a person's order goes first; the policy decides again after */
		start_job(m, VS_JOB_MIGRATE, NULL);
		return;
	}
	m->facts.now_us = g_get_monotonic_time();
	vs_vertical_wants wants = vs_pool_vertical_wants(m->vertical);
	next =
	    vs_pool_decide_vertical(m->cfg, &m->facts, &wants, vs_pool_decide(m->cfg, &m->facts));
	switch (next.kind) {
	case VS_NEXT_NOTHING:
		break;
	case VS_NEXT_SYNC:
		start_job(m, VS_JOB_SYNC, NULL);
		break;
	case VS_NEXT_SCALE_OUT:
		start_job(m, VS_JOB_SCALE_OUT, &next);
		break;
	case VS_NEXT_SCALE_IN:
		start_job(m, VS_JOB_SCALE_IN, &next);
		break;
	case VS_NEXT_WARM:
		warm_tick(m);
		break;
	case VS_NEXT_ALERT_AT_MAX:
		alert_at_max(m);
		if (m->facts.now_us >= m->facts.next_sync_us)
			start_job(m, VS_JOB_SYNC, NULL);
		break;
	case VS_NEXT_VERTICAL:
		start_vertical(m, &next);
		break;
	case VS_NEXT_MANUAL_REACHED:
		/* kept (and shown as the source) until the policy moves the pool */
		m->facts.manual_reached = true;
		m->facts.cooldown_until_us =
		    m->facts.now_us + (int64_t)m->cfg->cooldown * G_USEC_PER_SEC;
		vs_act_status_changed(m->act);
		break;
	}
}

static vs_phase phase_of(const vs_pool_machine *m, int64_t now)
{
	if (m->busy && m->busy_kind == VS_JOB_MIGRATE)
		return VS_PHASE_MIGRATING;
	if (m->busy && m->busy_kind == VS_JOB_VERTICAL)
		return m->busy_direction > 0 ? VS_PHASE_SCALING_OUT : VS_PHASE_SCALING_IN;
	if (m->busy && m->busy_kind == VS_JOB_SCALE_OUT)
		return VS_PHASE_SCALING_OUT;
	if (m->busy && m->busy_kind == VS_JOB_SCALE_IN)
		return VS_PHASE_SCALING_IN;
	if (now < m->facts.cooldown_until_us)
		return VS_PHASE_COOLDOWN;
	return VS_PHASE_IDLE;
}

/* The count the machine is steering the pool to. */
static unsigned desired_of(const vs_pool_machine *m)
{
	const vs_pool_facts *f = &m->facts;
	unsigned desired = f->manual_target >= 0 ? (unsigned)f->manual_target : f->running;

	if (f->have_members && f->running < m->cfg->min)
		desired = m->cfg->min;
	if (m->busy && m->busy_kind == VS_JOB_SCALE_OUT)
		desired = MAX(desired, f->running + 1);
	if (m->busy && m->busy_kind == VS_JOB_SCALE_IN && f->running > 0)
		desired = MIN(desired, f->running - 1);
	return desired;
}

/* Where the desired count comes from: a user, the pool's min, or the
 * policy (whose notifications move the pool between min and max). */
static vs_target_source source_of(const vs_pool_machine *m, unsigned desired)
{
	if (m->facts.manual_target >= 0)
		return VS_TARGET_SOURCE_MANUAL;
	return desired <= m->cfg->min ? VS_TARGET_SOURCE_MIN : VS_TARGET_SOURCE_POLICY;
}

/** vs_pool_machine_status: the pool's entry of status.json. */
vs_pool_status *vs_pool_machine_status(vs_pool_machine *m)
{
	vs_pool_status *ps = vs_pool_status_new(m->cfg->name);
	int64_t now = g_get_monotonic_time();

	ps->actual = m->facts.running;
	ps->warm = m->warm_ready;
	ps->desired = desired_of(m);
	ps->target_source = source_of(m, ps->desired);
	ps->phase = phase_of(m, now);
	ps->cooldown_left =
	    now < m->facts.cooldown_until_us
	        ? (unsigned)((m->facts.cooldown_until_us - now + G_USEC_PER_SEC - 1) /
	                     G_USEC_PER_SEC)
	        : 0;
	ps->last_action = m->last_action;
	ps->last_result = m->last_result;
	ps->last_time = m->last_time;
	g_free(ps->last_error);
	ps->last_error = g_strdup(m->last_error);
	ps->scale_outs = m->scale_outs;
	ps->scale_ins = m->scale_ins;
	ps->failures = m->failures;
	ps->alerts = m->alerts;
	ps->last_alert = m->last_alert;
	ps->last_alert_time = m->last_alert_time;
	ps->migrations = m->migrations;
	ps->migration = vs_migration_status_copy(m->migration);
	ps->rebalances = m->rebalances;
	ps->rebalance = vs_rebalance_status_copy(m->rebalance_last);
	for (guint i = 0; m->view && i < m->view->members->len; i++) {
		vs_member *mb = vs_member_copy(m->view->members->pdata[i]);

		if (m->draining && g_strcmp0(mb->name, m->draining) == 0)
			mb->lb_state = VS_LB_STATE_DRAINING;
		g_ptr_array_add(ps->instances, mb);
	}
	vs_pool_vertical_status(m->vertical, ps);
	return ps;
}
