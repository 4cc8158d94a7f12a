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
	double cpu_idle, mem_free, rtt_ms;
	GHashTable *dom_cpu; /* domain name -> percent of the host's CPUs */
	uint64_t samples;
	unsigned migrations;
	/* the sampling thread's alone (no lock): */
	GHashTable *cpu_ns; /* domain UUID -> its cpu.time at the last sample */
	int64_t cpu_sample_us;
};

/** vs_host_health_new: nothing known yet. */
vs_host_health *vs_host_health_new(void)
{
	vs_host_health *h = g_new0(vs_host_health, 1);

	g_mutex_init(&h->lock);
	h->cpu_ns = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	h->dom_cpu = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
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
	g_hash_table_unref(h->cpu_ns);
	g_hash_table_unref(h->dom_cpu);
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

/*
 * The CPU time its running domains used since the last sample (summed over
 * the domains seen both times), as a fraction of @cpus CPUs over that
 * time; <0 on the first sample. One bulk call (cpu-total only).
 */
static double guest_cpu_share(vs_host_health *h, virConnectPtr c, unsigned cpus, int64_t now_us,
                              GHashTable *dom_cpu)
{
	virDomainStatsRecordPtr *recs = NULL;
	int n = virConnectGetAllDomainStats(c, VIR_DOMAIN_STATS_CPU_TOTAL, &recs,
	                                    VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE);
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	uint64_t used = 0;
	double share = -1;
	double span_us = h->cpu_sample_us && now_us > h->cpu_sample_us && cpus
	                     ? (double)(now_us - h->cpu_sample_us) * cpus
	                     : 0;

	if (n < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		char uuid[VIR_UUID_STRING_BUFLEN];
		unsigned long long t = 0;

		if (virDomainGetUUIDString(recs[i]->dom, uuid) < 0 ||
		    virTypedParamsGetULLong(recs[i]->params, recs[i]->nparams, "cpu.time", &t) != 1)
			continue;
		const uint64_t *prev = g_hash_table_lookup(h->cpu_ns, uuid);

		if (prev && t >= *prev) {
			used += t - *prev;
			if (span_us > 0)
				g_hash_table_insert(
				    dom_cpu, g_strdup(virDomainGetName(recs[i]->dom)),
				    g_memdup2(&(double){(double)(t - *prev) / 10.0 / span_us},
				              sizeof(double)));
		}
		g_hash_table_insert(seen, g_strdup(uuid),
		                    g_memdup2(&(uint64_t){t}, sizeof(uint64_t)));
	}
	virDomainStatsRecordListFree(recs);
	if (span_us > 0)
		share = (double)used / 1000.0 / span_us;
	g_hash_table_unref(h->cpu_ns);
	h->cpu_ns = g_hash_table_ref(seen);
	h->cpu_sample_us = now_us;
	return share;
}

/** vs_host_health_sample: see host-health.h. */
void vs_host_health_sample(vs_host_health *h, virConnectPtr c)
{
	virNodeInfo info;
	int64_t t0 = g_get_monotonic_time();
	unsigned long long free_bytes = virNodeGetFreeMemory(c);
	double rtt_ms = (double)(g_get_monotonic_time() - t0) / 1000.0;
	bool ok = free_bytes > 0 && virNodeGetInfo(c, &info) == 0;

	GHashTable *dom_cpu = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	double share = ok ? guest_cpu_share(h, c, info.cpus, g_get_monotonic_time(), dom_cpu) : -1;

	virResetLastError();
	if (!ok) {
		/* the next CPU figure needs two fresh samples */
		g_hash_table_remove_all(h->cpu_ns);
		h->cpu_sample_us = 0;
		vs_host_health_failed(h, g_get_monotonic_time());
		g_hash_table_unref(dom_cpu);
		return;
	}
	g_mutex_lock(&h->lock);
	h->down_since_us = 0;
	h->rtt_ms = rtt_ms;
	/* info.memory is KiB */
	h->mem_free =
	    info.memory ? MIN(1.0, (double)free_bytes / 1024.0 / (double)info.memory) : -1;
	if (share >= 0) {
		h->cpu_idle = MAX(0.0, 1.0 - share);
		h->samples++;
		g_hash_table_unref(h->dom_cpu);
		h->dom_cpu = g_steal_pointer(&dom_cpu);
	}
	g_mutex_unlock(&h->lock);
	if (dom_cpu)
		g_hash_table_unref(dom_cpu);
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

/** vs_host_health_domain_cpu: see host-health.h. */
double vs_host_health_domain_cpu(vs_host_health *h, const char *name)
{
	g_mutex_lock(&h->lock);
	const double *v = g_hash_table_lookup(h->dom_cpu, name);
	double cpu = v ? *v : -1;
	g_mutex_unlock(&h->lock);
	return cpu;
}

/** vs_host_health_samples: see host-health.h. */
uint64_t vs_host_health_samples(vs_host_health *h)
{
	g_mutex_lock(&h->lock);
	uint64_t n = h->samples;
	g_mutex_unlock(&h->lock);
	return n;
}

/** vs_host_health_migration: see host-health.h. */
void vs_host_health_migration(vs_host_health *h, int delta)
{
	g_mutex_lock(&h->lock);
	if (delta > 0)
		h->migrations++;
	else if (h->migrations)
		h->migrations--;
	g_mutex_unlock(&h->lock);
}

/** vs_host_health_migrations: see host-health.h. */
unsigned vs_host_health_migrations(vs_host_health *h)
{
	g_mutex_lock(&h->lock);
	unsigned n = h->migrations;
	g_mutex_unlock(&h->lock);
	return n;
}
