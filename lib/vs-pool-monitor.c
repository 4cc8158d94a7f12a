/*
 * vs-pool-monitor.c - pool reports and notices from collector snapshots
 * (see vs-pool-monitor.h).
 *
 * The collector thread only swaps a snapshot reference in; this thread
 * does the session I/O and the policy, so neither the collector nor the
 * host program's own loop ever waits for a slow session source.
 */
#include "config.h"

#include "vs-log.h"
#include "vs-pool-monitor.h"
#include "vs-pool-sessions.h"

typedef struct pool_slot {
	vs_pool_eval eval;
	bool sessions_warned; /* the source's failure was logged */
} pool_slot;

struct vs_pool_monitor {
	const vs_config *cfg;
	vs_pool_monitor_options opts;
	pool_slot *pools;            /* config order; monitor thread only */
	int64_t last_sample_mono_us; /* monitor thread only */

	GMutex lock; /* protects pending, report, stop */
	GCond cond;
	vs_snapshot *pending;
	vs_pools_report *report;
	bool stop;
};

/**
 * vs_pool_monitor_new:
 * @cfg: the configuration (borrowed)
 * @o: cadence and callbacks (may be NULL)
 *
 * Returns a monitor; run vs_pool_monitor_run() in a thread of the caller's.
 */
vs_pool_monitor *vs_pool_monitor_new(const vs_config *cfg, const vs_pool_monitor_options *o)
{
	vs_pool_monitor *m = g_new0(vs_pool_monitor, 1);

	m->cfg = cfg;
	if (o)
		m->opts = *o;
	if (!m->opts.interval_ms)
		m->opts.interval_ms = MAX(cfg->refresh_interval, 1u) * 1000;
	m->pools = g_new0(pool_slot, cfg->pools->len + 1);
	for (guint i = 0; i < cfg->pools->len; i++)
		vs_pool_eval_init(&m->pools[i].eval, g_ptr_array_index(cfg->pools, i));
	g_mutex_init(&m->lock);
	g_cond_init(&m->cond);
	return m;
}

/**
 * vs_pool_monitor_offer:
 * @m: the monitor
 * @snap: a new snapshot (a reference is taken); replaces one not yet taken
 */
void vs_pool_monitor_offer(vs_pool_monitor *m, vs_snapshot *snap)
{
	vs_snapshot *old;

	vs_snapshot_ref(snap);
	g_mutex_lock(&m->lock);
	old = m->pending;
	m->pending = snap;
	g_cond_signal(&m->cond);
	g_mutex_unlock(&m->lock);
	vs_snapshot_unref(old);
}

/**
 * vs_pools_report_ref:
 * @r: a report
 *
 * Returns @r with one more reference (any thread).
 */
vs_pools_report *vs_pools_report_ref(vs_pools_report *r)
{
	g_atomic_int_inc(&r->refcount);
	return r;
}

/**
 * vs_pools_report_unref:
 * @r: a report or NULL; the last reference frees it
 */
void vs_pools_report_unref(vs_pools_report *r)
{
	if (r && g_atomic_int_dec_and_test(&r->refcount)) {
		g_ptr_array_unref(r->pools);
		g_free(r);
	}
}

/**
 * vs_pool_monitor_get_report:
 * @m: the monitor
 *
 * Returns a reference to the newest report, or NULL before the first.
 */
vs_pools_report *vs_pool_monitor_get_report(vs_pool_monitor *m)
{
	vs_pools_report *r = NULL;

	g_mutex_lock(&m->lock);
	if (m->report)
		r = vs_pools_report_ref(m->report);
	g_mutex_unlock(&m->lock);
	return r;
}

/* One pool: view, sessions, evaluation, notice. */
static vs_pool_report *sample_pool(vs_pool_monitor *m, pool_slot *slot, const vs_snapshot *snap)
{
	const vs_pool_config *pool = slot->eval.cfg;
	vs_pool_view *view = vs_pool_view_from_snapshot(pool, snap);
	g_autoptr(GError) error = NULL;
	bool sessions_ok = vs_pool_collect_sessions(m->cfg, view, &error);
	unsigned repeat_s = m->opts.repeat_interval_s >= 0 ? (unsigned)m->opts.repeat_interval_s
	                                                   : pool->repeat_interval;
	vs_pool_notice notice;
	bool due;
	vs_pool_report *r;

	if (!sessions_ok && !slot->sessions_warned)
		vs_warning("pool %s: cannot count sessions: %s", pool->name,
		           error ? error->message : "unknown error");
	slot->sessions_warned = !sessions_ok;
	r = vs_pool_eval_sample(&slot->eval, view, vs_pool_hosts_ready(pool, snap), sessions_ok,
	                        snap->taken_mono_us / 1000, snap->taken_real_us / 1e6, repeat_s,
	                        &notice, &due);
	if (due && m->opts.on_notice)
		m->opts.on_notice(&notice, m->opts.opaque);
	return r;
}

static void sample_snapshot(vs_pool_monitor *m, const vs_snapshot *snap)
{
	vs_pools_report *r = g_new0(vs_pools_report, 1);
	vs_pools_report *old;

	r->refcount = 1;
	r->generation = snap->generation;
	r->taken_real_us = snap->taken_real_us;
	r->pools = g_ptr_array_new_with_free_func((GDestroyNotify)vs_pool_report_free);
	for (guint i = 0; i < m->cfg->pools->len; i++)
		g_ptr_array_add(r->pools, sample_pool(m, &m->pools[i], snap));

	g_mutex_lock(&m->lock);
	old = m->report;
	m->report = r;
	g_mutex_unlock(&m->lock);
	vs_pools_report_unref(old);
	if (m->opts.on_report)
		m->opts.on_report(m->opts.opaque);
}

/**
 * vs_pool_monitor_run:
 * @monitor: the vs_pool_monitor
 *
 * The thread: waits for snapshots and samples every pool on each one taken.
 * Returns NULL after vs_pool_monitor_stop().
 */
void *vs_pool_monitor_run(void *monitor)
{
	vs_pool_monitor *m = monitor;

	for (;;) {
		vs_snapshot *snap;

		g_mutex_lock(&m->lock);
		while (!m->stop && !m->pending)
			g_cond_wait(&m->cond, &m->lock);
		if (m->stop) {
			g_mutex_unlock(&m->lock);
			break;
		}
		snap = g_steal_pointer(&m->pending);
		g_mutex_unlock(&m->lock);

		/* one sample per interval, with a little slack so timer
		 * jitter does not skip a period */
		if (m->last_sample_mono_us &&
		    snap->taken_mono_us - m->last_sample_mono_us < m->opts.interval_ms * 900ll) {
			vs_snapshot_unref(snap);
			continue;
		}
		m->last_sample_mono_us = snap->taken_mono_us;
		sample_snapshot(m, snap);
		vs_snapshot_unref(snap);
	}
	return NULL;
}

/**
 * vs_pool_monitor_stop:
 * @m: the monitor; vs_pool_monitor_run() returns after the current sample
 */
void vs_pool_monitor_stop(vs_pool_monitor *m)
{
	g_mutex_lock(&m->lock);
	m->stop = true;
	g_cond_signal(&m->cond);
	g_mutex_unlock(&m->lock);
}

/**
 * vs_pool_monitor_free:
 * @m: a monitor whose thread has returned, or NULL
 */
void vs_pool_monitor_free(vs_pool_monitor *m)
{
	if (!m)
		return;
	vs_snapshot_unref(m->pending);
	vs_pools_report_unref(m->report);
	g_cond_clear(&m->cond);
	g_mutex_clear(&m->lock);
	g_free(m->pools);
	g_free(m);
}

/**
 * vs_pools_report_host_instances: see vs-pool-monitor.h.
 */
unsigned vs_pools_report_host_instances(const vs_pools_report *r, const char *uri)
{
	unsigned n = 0;

	for (guint i = 0; r && i < r->pools->len; i++) {
		const vs_pool_report *p = g_ptr_array_index(r->pools, i);

		for (guint j = 0; p->view && j < p->view->members->len; j++) {
			const vs_member *m = p->view->members->pdata[j];

			n += m->running && g_strcmp0(m->host_uri, uri) == 0;
		}
	}
	return n;
}
