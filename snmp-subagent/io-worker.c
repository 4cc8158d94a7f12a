/* io-worker.c - the actuator's status and vCPU pinning, off the main loop */
#include "config.h"

#include "io-worker.h"
#include "vs-log.h"
#include "vs-virt.h"

#include <libvirt/libvirt.h>
#include <string.h>

struct vs_io_worker {
	const vs_config *cfg;
	vs_collector *collector;
	vs_io_worker_cb ready;
	void *opaque;
	GThread *thread;
	GMutex lock;
	GCond cond;
	bool stop;
	vs_io_report *pending; /* newest report not taken yet */
	GHashTable *hosts;     /* uri -> vs_virt (pinning) */
	int64_t next_affinity_us;
	GHashTable *affinity; /* last pinning collected */
	unsigned host_cpus;
	uint64_t generation;
};

/** vs_io_report_free: frees a report and everything in it. */
void vs_io_report_free(vs_io_report *r)
{
	if (!r)
		return;
	vs_status_free(r->status);
	if (r->affinity)
		g_hash_table_unref(r->affinity);
	g_free(r);
}

static vs_virt *host_of(vs_io_worker *w, const char *uri)
{
	vs_virt *v = g_hash_table_lookup(w->hosts, uri);

	if (!v) {
		v = vs_virt_new(uri, 0, 0);
		g_hash_table_insert(w->hosts, g_strdup(uri), v);
	}
	return v;
}

/* One domain's pinning: for each vCPU, host_cpus flags. */
static GByteArray *domain_pinning(vs_io_worker *w, virConnectPtr c, const vs_domain_stats *d)
{
	int ncpus = virNodeGetCPUMap(c, NULL, NULL, 0);
	if (ncpus <= 0)
		return NULL;
	w->host_cpus = (unsigned)ncpus;
	int maplen = VIR_CPU_MAPLEN(ncpus);
	g_autoptr(virDomain) dom = virDomainLookupByUUID(c, d->uuid);
	if (!dom)
		return NULL;
	g_autofree unsigned char *maps = g_new0(unsigned char, (size_t)maplen * d->vcpu_current);
	int n = virDomainGetVcpuPinInfo(dom, (int)d->vcpu_current, maps, maplen,
	                                VIR_DOMAIN_AFFECT_LIVE);
	if (n <= 0)
		return NULL;
	GByteArray *flags = g_byte_array_sized_new((guint)(n * ncpus));
	for (int v = 0; v < n; v++)
		for (int p = 0; p < ncpus; p++) {
			guint8 on = VIR_CPU_USABLE(maps, maplen, v, p) ? 1 : 0;
			g_byte_array_append(flags, &on, 1);
		}
	return flags;
}

/* vCPU pinning of every running domain: one cheap RPC each, every
 * slow_interval. Here because it may block while libvirtd is stuck. */
static void collect_affinity(vs_io_worker *w, const vs_snapshot *snap)
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
		g_autoptr(virConnect) c = vs_virt_get(host_of(w, d->host_uri), NULL, NULL);
		GByteArray *flags = c ? domain_pinning(w, c, d) : NULL;
		if (flags)
			g_hash_table_insert(aff, g_strdup(d->uuid_str), flags);
	}
	if (w->affinity)
		g_hash_table_unref(w->affinity);
	w->affinity = aff;
}

static vs_io_report *collect(vs_io_worker *w)
{
	g_autoptr(vs_snapshot) snap = vs_collector_get_snapshot(w->collector);
	g_autoptr(GError) error = NULL;
	vs_io_report *r = g_new0(vs_io_report, 1);

	r->generation = ++w->generation;
	r->status = vs_status_read(w->cfg->state_dir, &error);
	collect_affinity(w, snap);
	r->affinity = w->affinity ? g_hash_table_ref(w->affinity) : NULL;
	r->host_cpus = w->host_cpus;
	return r;
}

static gpointer worker_main(gpointer p)
{
	vs_io_worker *w = p;
	for (;;) {
		vs_io_report *r = collect(w);
		g_mutex_lock(&w->lock);
		vs_io_report_free(w->pending);
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
 * vs_io_worker_start: see io-worker.h.
 */
vs_io_worker *vs_io_worker_start(const vs_config *cfg, vs_collector *collector,
                                 vs_io_worker_cb ready, void *opaque)
{
	vs_io_worker *w = g_new0(vs_io_worker, 1);
	w->cfg = cfg;
	w->collector = collector;
	w->ready = ready;
	w->opaque = opaque;
	g_mutex_init(&w->lock);
	g_cond_init(&w->cond);
	w->hosts =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)vs_virt_free);
	w->thread = g_thread_new("vs-io", worker_main, w);
	return w;
}

/** vs_io_worker_take: the newest report (caller frees), or NULL. */
vs_io_report *vs_io_worker_take(vs_io_worker *w)
{
	g_mutex_lock(&w->lock);
	vs_io_report *r = w->pending;
	w->pending = NULL;
	g_mutex_unlock(&w->lock);
	return r;
}

/**
 * vs_io_worker_stop:
 * Stops the thread. A thread blocked in a libvirt call is left to finish on
 * its own (the process is exiting) rather than hang shutdown.
 */
void vs_io_worker_stop(vs_io_worker *w)
{
	if (!w)
		return;
	g_mutex_lock(&w->lock);
	w->stop = true;
	g_cond_signal(&w->cond);
	g_mutex_unlock(&w->lock);
	g_thread_unref(w->thread);
}
