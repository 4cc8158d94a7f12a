/*
 * job.c - what one job of a pool's worker does: settle what interrupted
 * actions left behind, re-read the members from libvirt, act towards the
 * job's target (several instances one after the other when the target is
 * more than one away; or one member's vCPUs or memory, ops/vertical.c),
 * then read the members again for status.json.
 */
#include "config.h"

#include "ops.h"
#include "precheck.h"
#include "vs-log.h"

static const char *const step_names[] = {
    [VS_STEP_NONE] = "-",
    [VS_STEP_LIST] = "list",
    [VS_STEP_CONNECT] = "connect",
    [VS_STEP_TEMPLATE] = "template",
    [VS_STEP_STORAGE] = "storage",
    [VS_STEP_NAME] = "name",
    [VS_STEP_ADDRESS] = "address",
    [VS_STEP_JOURNAL] = "journal",
    [VS_STEP_VOLUME] = "volume",
    [VS_STEP_DEFINE] = "define",
    [VS_STEP_START] = "start",
    [VS_STEP_PROBE] = "probe",
    [VS_STEP_LB_ADD] = "lb-add",
    [VS_STEP_CHOOSE] = "choose",
    [VS_STEP_LB_DRAIN] = "lb-drain",
    [VS_STEP_SHUTDOWN] = "shutdown",
    [VS_STEP_LB_REMOVE] = "lb-remove",
    [VS_STEP_UNDEFINE] = "undefine",
    [VS_STEP_VERTICAL] = "vertical",
    [VS_STEP_PRECHECK] = "precheck",
    [VS_STEP_MIGRATE] = "migrate",
    [VS_STEP_WARM] = "warm",
};

/**
 * vs_op_step_name: the name of @step in logs, status.json and alerts.
 */
const char *vs_op_step_name(vs_op_step step)
{
	return (unsigned)step < G_N_ELEMENTS(step_names) ? step_names[step] : "-";
}

/**
 * vs_ops_journal_step: see ops.h.
 */
bool vs_ops_journal_step(vs_ops_ctx *w, uint64_t jid, const char *step, vs_op_outcome *o,
                         GError **error)
{
	if (!jid || vs_journal_step(w->journal, jid, step, error))
		return true;
	o->step = VS_STEP_JOURNAL;
	g_prefix_error(error, "cannot record step %s: ", step);
	return false;
}

/**
 * vs_ops_journal_member: see ops.h.
 */
uint64_t vs_ops_journal_member(vs_ops_ctx *w, const char *what, const vs_member *m,
                               const char *vol_pool, char **vols, vs_op_outcome *o, GError **error)
{
	vs_journal_op op = {.op = (char *)what,
	                    .pool = w->pool->name,
	                    .name = m->name,
	                    .uri = m->host_uri,
	                    .vol_pool = (char *)vol_pool,
	                    .vols = vols,
	                    .address = m->address};

	o->step = VS_STEP_JOURNAL;
	return vs_journal_begin(w->journal, &op, error);
}

/** vs_job_result_free: frees a job's result. */
void vs_job_result_free(vs_job_result *r)
{
	if (!r)
		return;
	g_free(r->error);
	g_free(r->condition);
	g_free(r->blocked);
	vs_pool_view_free(r->view);
	g_free(r);
}

/* Replaces *@v by the members as libvirt lists them now. */
static bool relist(vs_ops_ctx *w, vs_pool_view **v, vs_op_outcome *o, GError **error)
{
	vs_pool_view *fresh = vs_members_list(w, *v, error);

	if (!fresh) {
		o->step = VS_STEP_LIST;
		return false;
	}
	vs_pool_view_free(*v);
	*v = fresh;
	return true;
}

/* The preconditions of a scale-out, recorded in @r; false with @error when
 * one fails (nothing was cloned). */
static bool precheck(vs_ops_ctx *w, const vs_pool_view *v, vs_job_result *r, GError **error)
{
	GError *err = NULL;

	r->prechecked = true;
	g_clear_pointer(&r->condition, g_free);
	g_clear_pointer(&r->blocked, g_free);
	if (vs_precheck_scale_out(w, v, &r->condition, &err))
		return true;
	if (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
		/* virtscaled is stopping: says nothing about the pool */
		r->prechecked = false;
		g_clear_pointer(&r->condition, g_free);
	}
	r->blocked = g_strdup(err->message);
	g_propagate_error(error, err);
	return false;
}

/* One clone of a parallel scale-out, in a thread of its own. */
typedef struct parallel_clone {
	vs_ops_ctx *w;
	const vs_pool_view *v;
	vs_virt *host;  /* chosen before the threads start (NULL: none has room) */
	uint64_t owner; /* the job's (vs_journal_set_owner) */
	vs_op_outcome outcome;
	GError *error;
	bool ok;
} parallel_clone;

static gpointer parallel_clone_run(gpointer data)
{
	parallel_clone *c = data;

	vs_journal_set_owner(c->owner);
	c->ok = vs_scale_out_clone_on(c->w, c->v, c->host, false, &c->outcome, &c->error);
	return NULL;
}

/* max_parallel > 1: @n instances at once: warm ones first (each taken in
 * tens of milliseconds), then clones booting side by side, at most
 * max_parallel in flight; each clone is journaled on its own. Their hosts
 * are chosen one after the other before they start, each counting the
 * ones placed before it (they all see the same view). The first failure
 * is the job's (the others are kept: each rolled itself back or serves). */
static bool out_parallel(vs_ops_ctx *w, const vs_pool_view *v, unsigned n, vs_job_result *r,
                         GError **error)
{
	unsigned par = MAX(w->pool->max_parallel, 1u), done = 0;
	g_autofree unsigned *placed = g_new0(unsigned, g_strv_length(w->pool->hosts) + 1);
	bool ok = true;

	while (done < n && w->pool->warm) {
		int t = vs_warm_take(w, v, &r->outcome, error);

		if (t < 0 && g_error_matches(*error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			return false;
		g_clear_error(error);
		if (t <= 0)
			break;
		done++;
	}
	while (ok && done < n) {
		unsigned batch = MIN(par, n - done);
		g_autofree parallel_clone *c = g_new0(parallel_clone, batch);
		g_autofree GThread **th = g_new0(GThread *, batch);

		for (unsigned i = 0; i < batch; i++)
			c[i] = (parallel_clone){.w = w,
			                        .v = v,
			                        .host = vs_placement_choose_after(w, v, placed),
			                        .owner = vs_journal_get_owner()};
		for (unsigned i = 0; i < batch; i++)
			th[i] = g_thread_new("vs-clone", parallel_clone_run, &c[i]);
		for (unsigned i = 0; i < batch; i++) {
			g_thread_join(th[i]);
			if (c[i].ok) {
				done++;
			} else if (ok) {
				ok = false;
				r->outcome = c[i].outcome;
				g_propagate_error(error, c[i].error);
				c[i].error = NULL;
			}
			g_clear_error(&c[i].error);
		}
	}
	r->outcome.action = VS_ACTION_SCALE_OUT;
	vs_info("pool %s: %u of %u instance(s) added in one action (max_parallel %u)",
	        w->pool->name, done, n, par);
	return ok;
}

/* Instances added or removed one after the other, up to the job's steps;
 * before each instance added, its preconditions. */
static bool horizontal(vs_ops_ctx *w, const vs_job *job, vs_pool_view **v, vs_job_result *r,
                       GError **error)
{
	vs_op_outcome *o = &r->outcome;

	bool out = job->kind == VS_JOB_SCALE_OUT;
	unsigned start = (*v)->n_running;

	/* in parallel only where clones cannot race for the same thing: a
	 * kept instance to restart, or a host's room under host_max */
	if (out && w->pool->max_parallel > 1 && job->steps > 1 && !w->pool->keep_stopped &&
	    !w->pool->host_max && start < job->target) {
		if (!precheck(w, *v, r, error)) {
			o->action = VS_ACTION_SCALE_OUT;
			o->step = VS_STEP_PRECHECK;
			return false;
		}
		return out_parallel(w, *v, MIN(job->steps, job->target - start), r, error);
	}
	for (unsigned k = 0; k < job->steps; k++) {
		if (k > 0 && !relist(w, v, o, error))
			return false;
		if (out ? (*v)->n_running >= job->target : (*v)->n_running <= job->target)
			break;
		if (out && !precheck(w, *v, r, error)) {
			o->action = VS_ACTION_SCALE_OUT;
			o->step = VS_STEP_PRECHECK;
			return false;
		}
		if (!(out ? vs_scale_out(w, *v, o, error) : vs_scale_in(w, *v, o, error)))
			return false;
		if (out ? start + k + 1 >= job->target : start - k - 1 <= job->target)
			break;
	}
	return true;
}

/* SCALE_OUT / SCALE_IN: nothing when the pool is already there. */
static void scale(vs_ops_ctx *w, const vs_job *job, vs_pool_view **v, vs_job_result *r,
                  GError **error)
{
	const vs_pool_config *p = w->pool;
	bool out = job->kind == VS_JOB_SCALE_OUT;
	unsigned running = (*v)->n_running;

	if (out ? running >= job->target || running >= p->max
	        : running <= job->target || running <= p->min) {
		r->ok = true;
		r->at_max = out && running >= p->max;
		r->outcome.action = VS_ACTION_NONE;
		return;
	}
	r->ok = horizontal(w, job, v, r, error);
	r->acted = r->ok || (*v)->n_running != running;
}

/* The end of every job: what it found, as the loop reads it (@v and
 * @err taken). */
static vs_job_result *finish(vs_ops_ctx *w, vs_job_result *r, vs_pool_view *v, GError *err,
                             uint64_t owner, int64_t t0)
{
	vs_journal_release(w->journal, owner);
	vs_journal_set_owner(0);
	if (v && w->pool->warm)
		vs_warm_count(w, v, &r->warm_ready, &r->warm_stale);
	r->view = v;
	r->cancelled = g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED);
	if (err)
		r->error = g_strdup(err->message);
	if (!r->ok && !r->error)
		r->error = g_strdup("failed");
	r->seconds = (double)(g_get_monotonic_time() - t0) / 1e6;
	g_clear_error(&err);
	return r;
}

/* WARM, on the pool's second worker beside the first: stale warm
 * instances replaced, one more made. It settles nothing and never touches
 * the balancer (the first worker's): it only reads the members, before and
 * after. */
static vs_job_result *warm_job(vs_ops_ctx *w, const vs_job *job, uint64_t owner)
{
	int64_t t0 = g_get_monotonic_time();
	vs_job_result *r = g_new0(vs_job_result, 1);
	g_autoptr(GError) err = NULL;
	vs_pool_view *v = job->previous ? vs_pool_view_copy(job->previous) : NULL;
	vs_op_outcome scratch = {0};

	r->kind = job->kind;
	if (relist(w, &v, &r->outcome, &err)) {
		r->ok = vs_warm_fill(w, v, &r->outcome, &err);
		if (!relist(w, &v, &scratch, NULL))
			g_clear_pointer(&v, vs_pool_view_free);
	} else {
		g_clear_pointer(&v, vs_pool_view_free);
	}
	return finish(w, r, v, g_steal_pointer(&err), owner, t0);
}

/**
 * vs_job_run:
 * @w: the pool's context
 * @job: what to do
 *
 * Runs in one of the pool's worker threads (WARM: the second). Returns the result for the event
 * loop.
 */
vs_job_result *vs_job_run(vs_ops_ctx *w, const vs_job *job)
{
	int64_t t0 = g_get_monotonic_time();
	uint64_t owner = vs_journal_owner_new();
	vs_job_result *r;
	g_autoptr(GError) err = NULL;
	g_autoptr(GError) rerr = NULL;
	vs_pool_view *v;

	vs_journal_set_owner(owner);
	if (job->kind == VS_JOB_WARM)
		return warm_job(w, job, owner);
	r = g_new0(vs_job_result, 1);
	v = job->previous ? vs_pool_view_copy(job->previous) : NULL;
	r->kind = job->kind;
	r->reconciled = vs_reconcile_pool(w, &r->adopted, &rerr);
	if (rerr)
		vs_warning("pool %s: %s", w->pool->name, rerr->message);
	if (!relist(w, &v, &r->outcome, &err))
		goto done;
	vs_reconcile_returned(w, &v, r);
	if (r->returned_adopted && job->kind != VS_JOB_SYNC)
		vs_reconcile_lb(w, v); /* they serve again */
	if (job->kind == VS_JOB_SYNC) {
		vs_reconcile_lb(w, v);
		r->ok = true;
		if (job->precheck)
			precheck(w, v, r, NULL);
	} else {
		vs_op_outcome scratch = {0};

		if (job->kind == VS_JOB_MIGRATE) {
			r->ok = vs_migrate(w, v, job->domain, job->dest_uri, &r->migration,
			                   &r->outcome, &err);
			r->acted = r->migration.moved;
		} else if (job->kind == VS_JOB_VERTICAL) {
			r->vertical.mem_percent = job->mem_percent;
			r->ok =
			    vs_vertical_member(w, v, job->domain, job->vcpu_step, job->memory_step,
			                       &r->vertical, &r->outcome, &err);
			r->acted = r->vertical.changed;
		} else {
			scale(w, job, &v, r, &err);
		}
		/* the members as they are now, for status.json (the outcome
		 * keeps naming the step that failed) */
		if ((r->acted || !r->ok) && !relist(w, &v, &scratch, NULL))
			g_clear_pointer(&v, vs_pool_view_free);
		if (v)
			vs_reconcile_read_lb(w, v);
	}
	return finish(w, r, v, g_steal_pointer(&err), owner, t0);
done:
	vs_pool_view_free(v);
	return finish(w, r, NULL, g_steal_pointer(&err), owner, t0);
}
