/*
 * placement.c - which hypervisor gets a new instance. "fewest": the host
 * with the fewest instances of the pool (Luban). "weighted": the best score
 * of free memory and free CPU (Xen elastic-cloud paper), so a host that is
 * already busy gets fewer clones.
 */
#include "config.h"

#include "actuator.h"

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
 * vs_placement_choose: index into the worker's hosts of the host for the
 * next instance; hosts that do not answer are skipped.
 */
size_t vs_placement_choose(vs_worker_ctx *w, const GPtrArray *members)
{
	size_t best = 0;
	double best_score = -1e9;
	for (size_t h = 0; h < w->n_hosts; h++) {
		const char *uri = vs_virt_uri(w->hosts[h]);
		if (w->pool->uri && g_strcmp0(w->pool->uri, uri) != 0)
			continue;
		virConnectPtr c = vs_virt_get(w->hosts[h], NULL);
		if (!c)
			continue;
		double score;
		if (w->pool->placement == VS_PLACEMENT_WEIGHTED) {
			score = host_score(c);
		} else {
			unsigned n = 0;
			for (guint i = 0; i < members->len; i++)
				n += g_strcmp0(((vs_member *)members->pdata[i])->uri, uri) == 0;
			score = -(double)n;
		}
		virConnectClose(c);
		if (score > best_score) {
			best_score = score;
			best = h;
		}
	}
	return best;
}
