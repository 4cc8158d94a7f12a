/*
 * returned.c - a host that was lost answers again. Its instances were
 * counted as lost: they left the load balancer and the pool was refilled
 * on the other hosts, so each of them is now one too many unless there is
 * room. In member order, one is kept when it still runs, answers its probe
 * and the pool runs fewer than max without it (the balancer takes it back
 * at the next sync); otherwise it is drained, stopped and removed like a
 * scale-in (journaled), so max is never exceeded and nothing is left
 * running twice.
 */
#include "config.h"

#include "ops.h"
#include "vs-log.h"

/* A returned instance is given this long to answer its probe. */
#define RETURNED_PROBE_S 5

static bool still_serves(vs_ops_ctx *w, const vs_member *m)
{
	g_autoptr(GError) err = NULL;

	if (!m->running || !m->address)
		return false;
	if (vs_probe_wait(w->pool, m->address, RETURNED_PROBE_S, w->stop, &err))
		return true;
	vs_notice("pool %s: %s came back but does not answer: %s", w->pool->name, m->name,
	          err ? err->message : "?");
	return false;
}

/**
 * vs_reconcile_returned: see ops.h.
 */
void vs_reconcile_returned(vs_ops_ctx *w, vs_pool_view **v, vs_job_result *r)
{
	unsigned running = 0;
	g_autoptr(GPtrArray) returned =
	    g_ptr_array_new_with_free_func((GDestroyNotify)vs_member_free);

	for (guint i = 0; i < (*v)->members->len; i++) {
		const vs_member *m = (*v)->members->pdata[i];

		if (m->returned)
			g_ptr_array_add(returned, vs_member_copy(m));
		else if (m->running)
			running++;
	}
	for (guint i = 0; i < returned->len; i++) {
		const vs_member *m = returned->pdata[i];
		g_autoptr(GError) err = NULL;
		vs_op_outcome o = {0};

		if (running < w->pool->max && still_serves(w, m)) {
			running++;
			r->returned_adopted++;
			vs_notice("pool %s: %s is back on %s and serves: kept", w->pool->name,
			          m->name, vs_config_host_name(w->cfg, m->host_uri));
			continue;
		}
		if (m->state == VIR_DOMAIN_SHUTOFF && w->pool->keep_stopped)
			continue; /* a kept instance: nothing runs */
		vs_notice("pool %s: %s is back on %s: %s; removing it", w->pool->name, m->name,
		          vs_config_host_name(w->cfg, m->host_uri),
		          running >= w->pool->max ? "the pool is at max without it"
		                                  : "it does not serve");
		if (vs_scale_in_member(w, m, &o, &err)) {
			r->returned_removed++;
			continue;
		}
		vs_warning("pool %s: removing %s failed at step %s: %s", w->pool->name, m->name,
		           vs_op_step_name(o.step), err ? err->message : "?");
	}
	/* those kept are in the view already; the removed ones are gone */
	if (r->returned_removed) {
		vs_pool_view *fresh = vs_members_list(w, *v, NULL);

		if (fresh) {
			vs_pool_view_free(*v);
			*v = fresh;
		}
	}
	for (guint i = 0; i < (*v)->members->len; i++)
		((vs_member *)(*v)->members->pdata[i])->returned = false;
}
