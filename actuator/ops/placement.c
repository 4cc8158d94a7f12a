/*
 * placement.c - which hypervisor gets a new instance. "fewest": the host
 * with the fewest instances of the pool (Luban). "weighted": the best score
 * of free memory and free CPU (Xen elastic-cloud paper), so a host that is
 * already busy gets fewer clones.
 */
#include "config.h"

#include "ops.h"

static double host_score(virConnectPtr c)
{
	virNodeInfo info;
	if (virNodeGetInfo(c, &info) < 0)
		return -1;
	unsigned long long free_mem = virNodeGetFreeMemory(c);
	double mem_frac = info.memory ? (double)free_mem / 1024.0 / (double)info.memory : 0;
	int n_active = virConnectNumOfDomains(c);
	double cpu_frac =
	    info.cpus ? 1.0 - MIN(1.0, (double)MAX(n_active, 0) / info.cpus / 4.0) : 0;
	return 0.5 * MIN(mem_frac, 1.0) + 0.5 * cpu_frac;
}

/**
 * vs_placement_choose: the hypervisor for the next instance among those the
 * pool lives on; hosts that do not answer are skipped. NULL when none does.
 */
vs_virt *vs_placement_choose(vs_ops_ctx *w, const vs_pool_view *v)
{
	vs_virt *best = NULL;
	double best_score = -1e9;

	for (size_t h = 0; h < w->n_hosts; h++) {
		const char *uri = vs_virt_uri(w->hosts[h]);
		if (!vs_pool_on_host(w->pool, uri))
			continue;
		g_autoptr(virConnect) c = vs_virt_get(w->hosts[h], NULL, NULL);
		if (!c)
			continue;
		double score;
		if (w->pool->placement == VS_PLACEMENT_WEIGHTED) {
			score = host_score(c);
		} else {
			unsigned n = 0;
			for (guint i = 0; i < v->members->len; i++)
				n += g_strcmp0(((const vs_member *)v->members->pdata[i])->host_uri,
				               uri) == 0;
			score = -(double)n;
		}
		if (score > best_score) {
			best_score = score;
			best = w->hosts[h];
		}
	}
	return best;
}
