/* pool-worker.c - sessions, policy, actuator state and pinning, off the main loop */
#include "config.h"

#include "pool-worker.h"
#include "vs-log.h"
#include "vs-status.h"

#include <libvirt/libvirt.h>
#include <math.h>
#include <string.h>

struct vs_pool_worker {
	const vs_config *cfg;
	vs_collector *collector;
	vs_pool_worker_cb ready;
	void *opaque;
	GThread *thread;
	GMutex lock;
	GCond cond;
	bool stop;
	vs_pools_report *pending; /* newest report not taken yet */
	vs_policy_state *policy;  /* per pool, config order */
	GHashTable *conns;        /* host uri -> virConnectPtr (read-only, pinning) */
	int64_t next_affinity_us;
	GHashTable *affinity; /* last pinning collected */
	unsigned host_cpus;
	uint64_t generation;
};

static void backend_report_clear(gpointer p)
{
	vs_backend_report *b = p;
	g_free(b->domain);
}

static void pool_report_free(gpointer p)
{
	vs_pool_report *r = p;
	g_free(r->name);
	g_free(r->phase);
	g_free(r->last_action);
	g_free(r->last_result);
	g_free(r->last_error);
	if (r->backends)
		g_array_free(r->backends, TRUE);
	g_free(r);
}

/** vs_pools_report_free: frees a report and everything in it. */
void vs_pools_report_free(vs_pools_report *r)
{
	if (!r)
		return;
	g_ptr_array_free(r->pools, TRUE);
	if (r->affinity)
		g_hash_table_unref(r->affinity);
	g_free(r);
}

static vs_lb_state lb_state_from_name(const char *s)
{
	if (!s)
		return VS_LB_STATE_UNKNOWN;
	if (!strcmp(s, "enabled"))
		return VS_LB_STATE_ENABLED;
	if (!strcmp(s, "draining"))
		return VS_LB_STATE_DRAINING;
	if (!strcmp(s, "disabled"))
		return VS_LB_STATE_DISABLED;
	return VS_LB_STATE_UNKNOWN;
}

static void fill_status(vs_pool_report *r, const vs_pool_status *ps)
{
	r->have_status = ps != NULL;
	if (!ps)
		return;
	r->desired = ps->desired;
	r->phase = g_strdup(ps->phase);
	r->last_action = g_strdup(ps->last_action);
	r->last_result = g_strdup(ps->last_result);
	r->last_error = g_strdup(ps->last_error);
	r->last_time = ps->last_time;
	r->scale_outs = ps->scale_outs;
	r->scale_ins = ps->scale_ins;
	r->failures = ps->failures;
	for (guint i = 0; r->backends && i < r->backends->len; i++) {
		vs_backend_report *b = &g_array_index(r->backends, vs_backend_report, i);
		for (guint j = 0; ps->instances && j < ps->instances->len; j++) {
			const vs_instance_status *is = g_ptr_array_index(ps->instances, j);
			if (is->name && !strcmp(is->name, b->domain) &&
			    b->lb == VS_LB_STATE_UNKNOWN)
				b->lb = lb_state_from_name(is->lb);
		}
	}
}

static vs_pool_report *collect_pool(vs_pool_worker *w, size_t i, const vs_pool_config *pc,
                                    const vs_snapshot *snap, const vs_status *status)
{
	vs_pool_report *r = g_new0(vs_pool_report, 1);
	r->name = g_strdup(pc->name);
	r->min = pc->min;
	r->max = pc->max;
	r->policy = pc->policy;
	r->capacity = pc->session_capacity;
	r->backends = g_array_new(FALSE, TRUE, sizeof(vs_backend_report));
	g_array_set_clear_func(r->backends, backend_report_clear);

	g_autoptr(vs_pool_view) view = vs_pool_view_build(pc, snap);
	if (view) {
		g_autoptr(GError) error = NULL;
		if (!vs_pool_collect_sessions(w->cfg, view, &error))
			vs_debug("pool %s: sessions: %s", pc->name,
			         error ? error->message : "failed");
		vs_pool_view_aggregate(view);
		g_autofree double *cpu = g_new0(double, view->n_backends + 1);
		g_autofree double *sessions = g_new0(double, view->n_backends + 1);
		unsigned n = 0;
		for (size_t j = 0; j < view->n_backends; j++) {
			const vs_backend *be = &view->backends[j];
			vs_backend_report b = {0};
			b.domain = g_strdup(be->domain ? be->domain->name : "");
			if (be->domain)
				memcpy(b.uuid_str, be->domain->uuid_str, VS_UUID_STRING_LEN);
			b.index = be->index;
			b.running = be->running;
			b.have_endpoint = be->have_endpoint;
			b.endpoint = be->endpoint;
			b.have_sessions = be->have_sessions;
			b.sessions = be->sessions;
			b.ratio = be->ratio;
			b.cpu = be->cpu_percent;
			b.lb = be->lb_state;
			g_array_append_val(r->backends, b);
			if (be->running) {
				cpu[n] = be->cpu_percent;
				sessions[n] = be->have_sessions ? be->sessions : 0;
				n++;
			}
		}
		r->n_running = view->n_running;
		r->avg_cpu = view->avg_cpu;
		r->avg_sessions = view->avg_sessions;
		r->total_sessions = view->total_sessions;
		vs_policy_sample s = {
		    .now_ms = g_get_monotonic_time() / 1000,
		    .n_running = n,
		    .cpu = cpu,
		    .sessions = sessions,
		};
		vs_policy_decision d = vs_policy_evaluate(pc, &w->policy[i], &s);
		r->evaluated = true;
		r->verdict = d.verdict;
		r->recommended = d.desired;
	}
	fill_status(r, status ? vs_status_find_pool(status, pc->name) : NULL);
	return r;
}

static virConnectPtr host_conn(vs_pool_worker *w, const char *uri)
{
	virConnectPtr c = g_hash_table_lookup(w->conns, uri);
	if (c && virConnectIsAlive(c) == 1)
		return c;
	if (c)
		g_hash_table_remove(w->conns, uri);
	c = virConnectOpenReadOnly(uri);
	if (c)
		g_hash_table_insert(w->conns, g_strdup(uri), c);
	return c;
}

static void close_conn(gpointer p)
{
	virConnectClose(p);
}

/* vCPU pinning of every running domain: one cheap RPC each, every
 * slow_interval. Runs here because it may block while libvirtd is stuck. */
static void collect_affinity(vs_pool_worker *w, const vs_snapshot *snap)
{
	int64_t now = g_get_monotonic_time();
	if (now < w->next_affinity_us)
		return;
	w->next_affinity_us = now + (int64_t)MAX(w->cfg->slow_interval, 1u) * G_USEC_PER_SEC;
	GHashTable *aff = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	                                        (GDestroyNotify)g_byte_array_unref);
	for (guint i = 0; i < snap->domains->len; i++) {
		const vs_domain_stats *d = g_ptr_array_index(snap->domains, i);
		if (d->id < 0 || d->vcpu_current == 0)
			continue;
		virConnectPtr c = host_conn(w, d->host_uri);
		if (!c)
			continue;
		int ncpus = virNodeGetCPUMap(c, NULL, NULL, 0);
		if (ncpus <= 0)
			continue;
		w->host_cpus = ncpus;
		int maplen = VIR_CPU_MAPLEN(ncpus);
		virDomainPtr dom = virDomainLookupByUUID(c, d->uuid);
		if (!dom)
			continue;
		g_autofree unsigned char *maps =
		    g_new0(unsigned char, (size_t)maplen * d->vcpu_current);
		int n = virDomainGetVcpuPinInfo(dom, d->vcpu_current, maps, maplen,
		                                VIR_DOMAIN_AFFECT_LIVE);
		virDomainFree(dom);
		if (n <= 0)
			continue;
		GByteArray *flags = g_byte_array_sized_new(n * ncpus);
		for (int v = 0; v < n; v++)
			for (int p = 0; p < ncpus; p++) {
				guint8 on = VIR_CPU_USABLE(maps, maplen, v, p) ? 1 : 0;
				g_byte_array_append(flags, &on, 1);
			}
		g_hash_table_insert(aff, g_strdup(d->uuid_str), flags);
	}
	if (w->affinity)
		g_hash_table_unref(w->affinity);
	w->affinity = aff;
}

static vs_pools_report *collect(vs_pool_worker *w)
{
	g_autoptr(vs_snapshot) snap = vs_collector_get_snapshot(w->collector);
	g_autoptr(GError) error = NULL;
	g_autoptr(vs_status) status = vs_status_read(w->cfg->state_dir, &error);

	vs_pools_report *r = g_new0(vs_pools_report, 1);
	r->generation = ++w->generation;
	r->actuator_available = status != NULL;
	r->pools = g_ptr_array_new_with_free_func(pool_report_free);
	for (guint i = 0; w->cfg->pools && i < w->cfg->pools->len; i++)
		g_ptr_array_add(r->pools, collect_pool(w, i, g_ptr_array_index(w->cfg->pools, i),
		                                       snap, status));
	collect_affinity(w, snap);
	r->affinity = w->affinity ? g_hash_table_ref(w->affinity) : NULL;
	r->host_cpus = w->host_cpus;
	return r;
}

static gpointer worker_main(gpointer p)
{
	vs_pool_worker *w = p;
	for (;;) {
		vs_pools_report *r = collect(w);
		g_mutex_lock(&w->lock);
		vs_pools_report_free(w->pending);
		w->pending = r;
		g_mutex_unlock(&w->lock);
		w->ready(w->opaque);

		int64_t until = g_get_monotonic_time() +
		                (int64_t)MAX(w->cfg->refresh_interval, 1u) * G_USEC_PER_SEC;
		g_mutex_lock(&w->lock);
		while (!w->stop && g_get_monotonic_time() < until)
			g_cond_wait_until(&w->cond, &w->lock, until);
		bool stop = w->stop;
		g_mutex_unlock(&w->lock);
		if (stop)
			break;
	}
	return NULL;
}

/**
 * vs_pool_worker_start:
 * Starts collecting one report per refresh_interval. @ready runs in the
 * worker thread and must only wake the main loop.
 */
vs_pool_worker *vs_pool_worker_start(const vs_config *cfg, vs_collector *collector,
                                     vs_pool_worker_cb ready, void *opaque)
{
	vs_pool_worker *w = g_new0(vs_pool_worker, 1);
	w->cfg = cfg;
	w->collector = collector;
	w->ready = ready;
	w->opaque = opaque;
	g_mutex_init(&w->lock);
	g_cond_init(&w->cond);
	guint n = cfg->pools ? cfg->pools->len : 0;
	w->policy = g_new0(vs_policy_state, n + 1);
	for (guint i = 0; i < n; i++)
		vs_policy_state_init(&w->policy[i], g_ptr_array_index(cfg->pools, i));
	w->conns = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, close_conn);
	w->thread = g_thread_new("vs-pools", worker_main, w);
	return w;
}

/** vs_pool_worker_take: the newest report (caller frees), or NULL. */
vs_pools_report *vs_pool_worker_take(vs_pool_worker *w)
{
	g_mutex_lock(&w->lock);
	vs_pools_report *r = w->pending;
	w->pending = NULL;
	g_mutex_unlock(&w->lock);
	return r;
}

/**
 * vs_pool_worker_stop:
 * Stops the thread. A thread blocked in a libvirt or HTTP call is left to
 * finish on its own (the process is exiting) rather than hang shutdown.
 */
void vs_pool_worker_stop(vs_pool_worker *w)
{
	if (!w)
		return;
	g_mutex_lock(&w->lock);
	w->stop = true;
	g_cond_signal(&w->cond);
	g_mutex_unlock(&w->lock);
	g_thread_unref(w->thread);
}
