/*
 * host-health.c - what the actuator knows of each hypervisor; see
 * host-health.h.
 */
#include "config.h"

#include "host-health.h"
#include "vs-virt.h"

#include <libvirt/virterror.h>

struct vs_host_health {
	GMutex lock;
	int64_t down_since_us;
	GHashTable *names; /* of the last listing, NULL before the first */
	uint64_t prev_idle, prev_total;
	double cpu_idle, mem_free, rtt_ms;
};

/** vs_host_health_new: nothing known yet. */
vs_host_health *vs_host_health_new(void)
{
	vs_host_health *h = g_new0(vs_host_health, 1);

	g_mutex_init(&h->lock);
	h->cpu_idle = h->mem_free = h->rtt_ms = -1;
	return h;
}

/** vs_host_health_free: frees @h (NULL is fine). */
void vs_host_health_free(vs_host_health *h)
{
	if (!h)
		return;
	g_mutex_clear(&h->lock);
	if (h->names)
		g_hash_table_unref(h->names);
	g_free(h);
}

/** vs_host_health_answered: see host-health.h. */
void vs_host_health_answered(vs_host_health *h, const char *const *names)
{
	g_mutex_lock(&h->lock);
	h->down_since_us = 0;
	if (names) {
		if (h->names)
			g_hash_table_remove_all(h->names);
		else
			h->names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
		for (const char *const *n = names; *n; n++)
			g_hash_table_add(h->names, g_strdup(*n));
	}
	g_mutex_unlock(&h->lock);
}

/** vs_host_health_failed: see host-health.h. */
void vs_host_health_failed(vs_host_health *h, int64_t now_us)
{
	g_mutex_lock(&h->lock);
	if (!h->down_since_us)
		h->down_since_us = now_us;
	h->prev_total = 0; /* the next idle figure needs two fresh samples */
	g_mutex_unlock(&h->lock);
}

/** vs_host_health_down_since: see host-health.h. */
int64_t vs_host_health_down_since(vs_host_health *h)
{
	g_mutex_lock(&h->lock);
	int64_t t = h->down_since_us;
	g_mutex_unlock(&h->lock);
	return t;
}

/** vs_host_health_had_name: see host-health.h. */
bool vs_host_health_had_name(vs_host_health *h, const char *name)
{
	g_mutex_lock(&h->lock);
	bool had = h->names && g_hash_table_contains(h->names, name);
	g_mutex_unlock(&h->lock);
	return had;
}

/** vs_host_health_listed: see host-health.h. */
bool vs_host_health_listed(vs_host_health *h)
{
	g_mutex_lock(&h->lock);
	bool listed = h->names != NULL;
	g_mutex_unlock(&h->lock);
	return listed;
}

/** vs_host_health_sample: see host-health.h. */
void vs_host_health_sample(vs_host_health *h, virConnectPtr c)
{
	virNodeInfo info;
	uint64_t idle, total;
	int64_t t0 = g_get_monotonic_time();
	unsigned long long free_bytes = virNodeGetFreeMemory(c);
	double rtt_ms = (double)(g_get_monotonic_time() - t0) / 1000.0;
	bool ok = free_bytes > 0 && virNodeGetInfo(c, &info) == 0 &&
	          vs_virt_node_cpu_times(c, &idle, &total);

	virResetLastError();
	if (!ok) {
		vs_host_health_failed(h, g_get_monotonic_time());
		return;
	}
	g_mutex_lock(&h->lock);
	h->down_since_us = 0;
	h->rtt_ms = rtt_ms;
	/* info.memory is KiB */
	h->mem_free =
	    info.memory ? MIN(1.0, (double)free_bytes / 1024.0 / (double)info.memory) : -1;
	if (h->prev_total && total > h->prev_total && idle >= h->prev_idle)
		h->cpu_idle = (double)(idle - h->prev_idle) / (double)(total - h->prev_total);
	h->prev_idle = idle;
	h->prev_total = total;
	g_mutex_unlock(&h->lock);
}

/** vs_host_health_figures: see host-health.h. */
void vs_host_health_figures(vs_host_health *h, vs_placement_host *out)
{
	g_mutex_lock(&h->lock);
	out->cpu_idle = h->cpu_idle;
	out->mem_free = h->mem_free;
	out->rtt_ms = h->rtt_ms;
	g_mutex_unlock(&h->lock);
}
