/*
 * vertical-watch.c - reading each member's load for vertical scaling (see
 * vertical-watch.h).
 */
#include "config.h"

#include "vertical-watch.h"
#include "vs-log.h"
#include "vs-wait.h"

#include <libvirt/virterror.h>

typedef struct watched {
	char *name, *uri;
	char uuid_str[VS_UUID_STRING_LEN];
} watched;

/* A member's previous CPU reading, for CPU% over the interval. */
typedef struct previous {
	uint64_t cpu_ns;
	int64_t mono_us;
	unsigned vcpus;
} previous;

struct vs_vertical_watch {
	const vs_ops_ctx *ctx;
	vs_vertical_readings_cb cb;
	void *opaque;
	GMutex lock;
	GPtrArray *members; /* of watched*, under lock */
	GHashTable *prev;   /* uuid -> previous*, thread only */
	GCancellable *stop;
	GThread *thread;
	bool stopped; /* event loop: readings still queued are dropped */
};

typedef struct readings_call {
	vs_vertical_watch *w;
	GPtrArray *readings;
} readings_call;

static void watched_free(watched *m)
{
	g_free(m->name);
	g_free(m->uri);
	g_free(m);
}

/** vs_vertical_reading_free: frees one reading. */
void vs_vertical_reading_free(vs_vertical_reading *r)
{
	if (!r)
		return;
	g_free(r->name);
	g_free(r->uri);
	g_free(r);
}

/* The guest's memory use from its balloon statistics, <0 unknown. */
static double memory_use(virDomainPtr d)
{
	virDomainMemoryStatStruct st[VIR_DOMAIN_MEMORY_STAT_NR];
	uint64_t available = 0, usable = 0, unused = 0;
	int n = virDomainMemoryStats(d, st, VIR_DOMAIN_MEMORY_STAT_NR, 0);

	for (int i = 0; i < n; i++) {
		if (st[i].tag == VIR_DOMAIN_MEMORY_STAT_AVAILABLE)
			available = st[i].val;
		else if (st[i].tag == VIR_DOMAIN_MEMORY_STAT_USABLE)
			usable = st[i].val;
		else if (st[i].tag == VIR_DOMAIN_MEMORY_STAT_UNUSED)
			unused = st[i].val;
	}
	if (n < 0)
		virResetLastError();
	return vs_vertical_memory_percent(available, usable, unused);
}

/* One member now; NULL when it cannot be read or does not run. */
static vs_vertical_reading *read_member(vs_vertical_watch *w, const watched *m)
{
	vs_virt *host = vs_ops_host(w->ctx, m->uri);
	g_autoptr(virConnect) c = host ? vs_virt_get(host, NULL, NULL) : NULL;
	g_autoptr(virDomain) d = c ? virDomainLookupByUUIDString(c, m->uuid_str) : NULL;
	virDomainInfo info;
	vs_vertical_reading *r;
	previous *p;
	int max;

	if (!d || virDomainGetInfo(d, &info) < 0 || !vs_pool_member_running(info.state)) {
		virResetLastError();
		g_hash_table_remove(w->prev, m->uuid_str);
		return NULL;
	}
	r = g_new0(vs_vertical_reading, 1);
	r->name = g_strdup(m->name);
	r->uri = g_strdup(m->uri);
	r->s.vcpus = info.nrVirtCpu ? info.nrVirtCpu : 1;
	max = virDomainGetVcpusFlags(d, VIR_DOMAIN_VCPU_MAXIMUM);
	r->s.vcpus_max = max > 0 ? (unsigned)max : r->s.vcpus;
	r->s.mem_kib = info.memory;
	r->s.mem_max_kib = info.maxMem;
	r->s.mem_percent = w->ctx->pool->vertical_memory ? memory_use(d) : -1;
	r->s.cpu_percent = -1;
	virResetLastError();
	p = g_hash_table_lookup(w->prev, m->uuid_str);
	int64_t now = g_get_monotonic_time();
	/* across a vCPU change the time was spent by another number of vCPUs:
	 * this interval is not counted */
	if (p && p->vcpus == r->s.vcpus) {
		double of_host;

		vs_cpu_percent(p->cpu_ns, p->mono_us, info.cpuTime, now, r->s.vcpus, &of_host,
		               &r->s.cpu_percent);
	}
	if (!p) {
		p = g_new0(previous, 1);
		g_hash_table_insert(w->prev, g_strdup(m->uuid_str), p);
	}
	*p = (previous){.cpu_ns = info.cpuTime, .mono_us = now, .vcpus = r->s.vcpus};
	return r;
}

static gboolean readings_on_loop(gpointer data)
{
	readings_call *call = data;

	if (call->w->stopped)
		g_ptr_array_unref(call->readings);
	else
		call->w->cb(call->readings, call->w->opaque);
	g_free(call);
	return G_SOURCE_REMOVE;
}

static gpointer watch_thread(gpointer data)
{
	vs_vertical_watch *w = data;
	unsigned interval_ms = MAX(w->ctx->pool->vertical_interval, 1u) * 1000;

	while (vs_wait_ms(w->stop, interval_ms, NULL)) {
		g_autoptr(GPtrArray) members =
		    g_ptr_array_new_with_free_func((GDestroyNotify)watched_free);
		GPtrArray *readings =
		    g_ptr_array_new_with_free_func((GDestroyNotify)vs_vertical_reading_free);

		g_mutex_lock(&w->lock);
		for (guint i = 0; i < w->members->len; i++) {
			const watched *m = w->members->pdata[i];
			watched *c = g_memdup2(m, sizeof(*m));

			c->name = g_strdup(m->name);
			c->uri = g_strdup(m->uri);
			g_ptr_array_add(members, c);
		}
		g_mutex_unlock(&w->lock);
		for (guint i = 0; i < members->len; i++) {
			vs_vertical_reading *r = read_member(w, members->pdata[i]);

			if (r)
				g_ptr_array_add(readings, r);
		}
		readings_call *call = g_new0(readings_call, 1);

		call->w = w;
		call->readings = readings;
		g_main_context_invoke(NULL, readings_on_loop, call);
	}
	return NULL;
}

/** vs_vertical_watch_start: see vertical-watch.h. */
vs_vertical_watch *vs_vertical_watch_start(const vs_ops_ctx *ctx, vs_vertical_readings_cb cb,
                                           void *opaque)
{
	vs_vertical_watch *w = g_new0(vs_vertical_watch, 1);

	w->ctx = ctx;
	w->cb = cb;
	w->opaque = opaque;
	g_mutex_init(&w->lock);
	w->members = g_ptr_array_new_with_free_func((GDestroyNotify)watched_free);
	w->prev = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	w->stop = g_cancellable_new();
	w->thread = g_thread_new("vs-vertical", watch_thread, w);
	return w;
}

/** vs_vertical_watch_set_members: see vertical-watch.h. */
void vs_vertical_watch_set_members(vs_vertical_watch *w, const vs_pool_view *v)
{
	GPtrArray *members = g_ptr_array_new_with_free_func((GDestroyNotify)watched_free);

	for (guint i = 0; v && i < v->members->len; i++) {
		const vs_member *mb = v->members->pdata[i];
		watched *m;

		if (!mb->running || !mb->uuid_str[0])
			continue;
		m = g_new0(watched, 1);
		m->name = g_strdup(mb->name);
		m->uri = g_strdup(mb->host_uri);
		g_strlcpy(m->uuid_str, mb->uuid_str, sizeof(m->uuid_str));
		g_ptr_array_add(members, m);
	}
	g_mutex_lock(&w->lock);
	g_ptr_array_unref(w->members);
	w->members = members;
	g_mutex_unlock(&w->lock);
}

/** vs_vertical_watch_stop: see vertical-watch.h. */
void vs_vertical_watch_stop(vs_vertical_watch *w)
{
	if (!w || w->stopped)
		return;
	w->stopped = true;
	g_cancellable_cancel(w->stop);
	g_thread_join(w->thread);
}

/** vs_vertical_watch_free: see vertical-watch.h. */
void vs_vertical_watch_free(vs_vertical_watch *w)
{
	if (!w)
		return;
	vs_vertical_watch_stop(w);
	g_object_unref(w->stop);
	g_ptr_array_unref(w->members);
	g_hash_table_destroy(w->prev);
	g_mutex_clear(&w->lock);
	g_free(w);
}
