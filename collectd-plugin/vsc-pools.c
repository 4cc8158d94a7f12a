/*
 * vsc-pools.c - the pool worker (see vsc-pools.h).
 *
 * The collector thread only swaps a snapshot reference in (vsc_pools_offer);
 * this thread does the session I/O and the policy, so neither the collector
 * nor collectd's read thread ever waits for a slow session source. When the
 * worker falls behind it skips to the newest snapshot: the policy wants the
 * current state, not a backlog.
 */
#include "vsc-pools.h"

#include "vs-log.h"
#include "vs-pool.h"

#include <pthread.h>
#include <string.h>

typedef struct pool_state {
	const vs_pool_config *cfg;
	vs_policy_state policy;
	vs_verdict notified;  /* state of the last notification sent */
	int64_t last_sent_ms; /* of the last notification, 0 = none */
	uint64_t notifications[4];
	bool sessions_warned;
} pool_state;

struct vsc_pools {
	const vs_config *cfg;
	unsigned interval_ms;
	int64_t last_sample_mono_us; /* worker-only */
	int repeat_interval_s;
	vsc_pool_event_cb cb;
	void *opaque;
	pool_state *states; /* one per cfg->pools entry; worker-only */

	pthread_mutex_t lock; /* protects pending, report, stop */
	pthread_cond_t cond;
	vs_snapshot *pending;
	vsc_pools_report *report;
	bool stop;
};

/**
 * vsc_pools_new:
 * @cfg: the configuration (borrowed; outlives the worker)
 * @interval_ms: the policy's sampling period
 * @repeat_interval_s: seconds between repeats of a lasting breach; < 0 takes
 *   each pool's repeat_interval
 * @cb: called from the worker thread for every notification due
 * @opaque: passed to @cb
 */
vsc_pools *vsc_pools_new(const vs_config *cfg, unsigned interval_ms, int repeat_interval_s,
                         vsc_pool_event_cb cb, void *opaque)
{
	vsc_pools *p = g_new0(vsc_pools, 1);

	p->cfg = cfg;
	p->interval_ms = interval_ms;
	p->repeat_interval_s = repeat_interval_s;
	p->cb = cb;
	p->opaque = opaque;
	p->states = g_new0(pool_state, cfg->pools->len);
	for (guint i = 0; i < cfg->pools->len; i++) {
		p->states[i].cfg = g_ptr_array_index(cfg->pools, i);
		vs_policy_state_init(&p->states[i].policy, p->states[i].cfg);
		p->states[i].notified = VS_VERDICT_OK;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	return p;
}

/**
 * vsc_pools_offer:
 * @p: the pool worker
 * @snap: a new snapshot (a reference is taken)
 */
void vsc_pools_offer(vsc_pools *p, vs_snapshot *snap)
{
	vs_snapshot *old;

	vs_snapshot_ref(snap);
	pthread_mutex_lock(&p->lock);
	old = p->pending;
	p->pending = snap;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	if (old)
		vs_snapshot_unref(old);
}

/**
 * vsc_pools_report_ref: takes a reference to @r.
 */
vsc_pools_report *vsc_pools_report_ref(vsc_pools_report *r)
{
	g_atomic_int_inc(&r->refcount);
	return r;
}

static void pool_report_free(gpointer data)
{
	vsc_pool_report *pr = data;

	for (size_t i = 0; i < pr->n_backends; i++)
		g_free(pr->backends[i].domain);
	g_free(pr->backends);
	g_free(pr->pool);
	g_free(pr);
}

/**
 * vsc_pools_report_unref: drops a reference to @r, freeing it with the last.
 */
void vsc_pools_report_unref(vsc_pools_report *r)
{
	if (r && g_atomic_int_dec_and_test(&r->refcount)) {
		g_ptr_array_unref(r->pools);
		g_free(r);
	}
}

/**
 * vsc_pools_get_report:
 * @p: the pool worker
 *
 * Returns a reference to the newest report, or NULL before the first.
 */
vsc_pools_report *vsc_pools_get_report(vsc_pools *p)
{
	vsc_pools_report *r = NULL;

	pthread_mutex_lock(&p->lock);
	if (p->report)
		r = vsc_pools_report_ref(p->report);
	pthread_mutex_unlock(&p->lock);
	return r;
}

/* Decides whether @d is worth a notification now, and sends it. */
static void maybe_notify(vsc_pools *p, pool_state *ps, const vs_policy_decision *d, int64_t now,
                         double wall)
{
	unsigned repeat_s =
	    p->repeat_interval_s >= 0 ? (unsigned)p->repeat_interval_s : ps->cfg->repeat_interval;
	bool changed = d->verdict != ps->notified;
	bool repeat = !changed && d->verdict != VS_VERDICT_OK && repeat_s > 0 &&
	              now - ps->last_sent_ms >= (int64_t)repeat_s * 1000;
	vsc_pool_event ev;

	if (!changed && !repeat)
		return;
	ev = (vsc_pool_event){
	    .pool = ps->cfg,
	    .verdict = d->verdict,
	    .previous = ps->notified,
	    .repeat = repeat,
	    .decision = *d,
	    .instances = d->current,
	    .time = wall,
	};
	ps->notified = d->verdict;
	ps->last_sent_ms = now;
	ps->notifications[d->verdict]++;
	if (p->cb)
		p->cb(&ev, p->opaque);
}

/* Is the pool's hypervisor connected and listed in @snap? Until then, an empty pool
 * means "not known yet", not "no instances": no policy then. */
static bool pool_host_connected(const vsc_pools *p, const vs_pool_config *pool,
                                const vs_snapshot *snap)
{
	const char *uri = pool->uri ? pool->uri : p->cfg->hosts[0];

	for (guint i = 0; i < snap->hosts->len; i++) {
		const vs_host_status *h = g_ptr_array_index(snap->hosts, i);

		if (h->uri && strcmp(h->uri, uri) == 0)
			return h->state == VS_HOST_CONNECTED && h->refreshes > 0;
	}
	return false;
}

/* Views, sessions, policy and notifications of one pool for one snapshot. */
static vsc_pool_report *evaluate_pool(vsc_pools *p, pool_state *ps, const vs_snapshot *snap)
{
	g_autoptr(vs_pool_view) view = vs_pool_view_build(ps->cfg, snap);
	g_autoptr(GError) error = NULL;
	vsc_pool_report *pr = g_new0(vsc_pool_report, 1);
	g_autofree double *cpu = NULL;
	g_autofree double *sessions = NULL;
	unsigned n = 0;

	pr->pool = g_strdup(ps->cfg->name);
	pr->avg_cpu = pr->avg_sessions = pr->min_ratio = pr->max_ratio = -1;
	pr->verdict = ps->notified;
	if (!view)
		return pr;
	pr->sessions_ok = vs_pool_collect_sessions(p->cfg, view, &error);
	if (!pr->sessions_ok) {
		if (!ps->sessions_warned)
			vs_warning("virtscale: pool %s: cannot count sessions: %s", ps->cfg->name,
			           error ? error->message : "unknown error");
		ps->sessions_warned = true;
	} else {
		ps->sessions_warned = false;
	}
	vs_pool_view_aggregate(view);

	pr->running = view->n_running;
	pr->avg_cpu = view->avg_cpu;
	pr->avg_sessions = view->avg_sessions;
	pr->min_ratio = view->min_ratio;
	pr->max_ratio = view->max_ratio;
	pr->total_sessions = view->total_sessions;
	pr->n_backends = view->n_backends;
	pr->backends = g_new0(vsc_backend_report, MAX(view->n_backends, 1));
	cpu = g_new0(double, MAX(view->n_backends, 1));
	sessions = g_new0(double, MAX(view->n_backends, 1));
	for (size_t i = 0; i < view->n_backends; i++) {
		const vs_backend *b = &view->backends[i];

		pr->backends[i] = (vsc_backend_report){
		    .domain = g_strdup(b->domain->name),
		    .running = b->running,
		    .have_sessions = b->have_sessions,
		    .sessions = b->sessions,
		    .ratio = b->ratio,
		};
		if (b->running) {
			cpu[n] = b->cpu_percent;
			sessions[n] = b->have_sessions ? b->sessions : 0;
			n++;
		}
	}

	/* Without session counts a session-driven policy would see an idle pool
	 * and recommend a scale-in: skip the sample instead. */
	if (pool_host_connected(p, ps->cfg, snap) &&
	    (pr->sessions_ok || (ps->cfg->policy == VS_POLICY_AVERAGE && n > 0))) {
		int64_t now = snap->taken_mono_us / 1000;
		vs_policy_sample sample = {
		    .now_ms = now,
		    .n_running = n,
		    .cpu = cpu,
		    .sessions = pr->sessions_ok ? sessions : NULL,
		};
		vs_policy_decision d = vs_policy_evaluate(ps->cfg, &ps->policy, &sample);

		pr->desired = d.desired;
		maybe_notify(p, ps, &d, now, snap->taken_real_us / 1e6);
		pr->verdict = d.verdict;
	} else {
		pr->desired = pr->running;
	}
	memcpy(pr->notifications, ps->notifications, sizeof(pr->notifications));
	return pr;
}

static void evaluate_snapshot(vsc_pools *p, const vs_snapshot *snap)
{
	vsc_pools_report *r = g_new0(vsc_pools_report, 1);
	vsc_pools_report *old;

	r->refcount = 1;
	r->generation = snap->generation;
	r->taken_real_us = snap->taken_real_us;
	r->pools = g_ptr_array_new_with_free_func(pool_report_free);
	for (guint i = 0; i < p->cfg->pools->len; i++)
		g_ptr_array_add(r->pools, evaluate_pool(p, &p->states[i], snap));

	pthread_mutex_lock(&p->lock);
	old = p->report;
	p->report = r;
	pthread_mutex_unlock(&p->lock);
	vsc_pools_report_unref(old);
}

/**
 * vsc_pools_run:
 * @pools: the vsc_pools
 *
 * The worker: waits for snapshots and evaluates every pool on each one.
 * Returns NULL after vsc_pools_stop().
 */
void *vsc_pools_run(void *pools)
{
	vsc_pools *p = pools;

	for (;;) {
		vs_snapshot *snap;

		pthread_mutex_lock(&p->lock);
		while (!p->stop && !p->pending)
			pthread_cond_wait(&p->cond, &p->lock);
		if (p->stop) {
			pthread_mutex_unlock(&p->lock);
			break;
		}
		snap = p->pending;
		p->pending = NULL;
		pthread_mutex_unlock(&p->lock);

		/* M-of-N counts samples: one per interval, however often the
		 * collector publishes (lifecycle events, slow groups). A little
		 * slack so timer jitter does not skip a period. */
		if (p->last_sample_mono_us &&
		    snap->taken_mono_us - p->last_sample_mono_us < p->interval_ms * 900ll) {
			vs_snapshot_unref(snap);
			continue;
		}
		p->last_sample_mono_us = snap->taken_mono_us;
		evaluate_snapshot(p, snap);
		vs_snapshot_unref(snap);
	}
	return NULL;
}

/**
 * vsc_pools_stop: makes vsc_pools_run() return after the current snapshot.
 */
void vsc_pools_stop(vsc_pools *p)
{
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

/**
 * vsc_pools_free:
 * @p: the pool worker, its thread finished (or never started)
 */
void vsc_pools_free(vsc_pools *p)
{
	if (!p)
		return;
	if (p->pending)
		vs_snapshot_unref(p->pending);
	vsc_pools_report_unref(p->report);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	g_free(p->states);
	g_free(p);
}
