/*
 * placement.c - which hypervisor gets a new instance: the rule of
 * lib/vs-placement.h (fewest or weighted, host_max, host_min, ties in the
 * pool's host order) on what each host answers right now and what the
 * host watch measured of it.
 */
#include "config.h"

#include "ops.h"
#include "vs-log.h"

/**
 * vs_placement_choose: the hypervisor for the next instance among those the
 * pool lives on; hosts that do not answer are skipped. NULL when none
 * answers with room.
 */
vs_virt *vs_placement_choose(vs_ops_ctx *w, const vs_pool_view *v)
{
	return vs_placement_choose_after(w, v, NULL);
}

/**
 * vs_placement_choose_after: vs_placement_choose() for one of several
 * clones of one action, which all see the same view: @placed (one count
 * per host of the pool, or NULL) keeps those already placed from piling
 * onto the same host.
 */
vs_virt *vs_placement_choose_after(vs_ops_ctx *w, const vs_pool_view *v, unsigned *placed)
{
	size_t n = g_strv_length(w->pool->hosts);
	g_autofree vs_placement_host *hosts = g_new0(vs_placement_host, MAX(n, 1));
	g_autoptr(GString) scores = g_string_new(NULL);
	int64_t t0 = g_get_monotonic_time();
	int best;

	for (size_t i = 0; i < n; i++) {
		vs_placement_host *h = &hosts[i];
		vs_virt *virt = vs_ops_host(w, w->pool->hosts[i]);
		vs_host_health *health = vs_ops_health(w, w->pool->hosts[i]);
		g_autoptr(virConnect) c = virt ? vs_virt_get(virt, NULL, NULL) : NULL;

		h->uri = w->pool->hosts[i];
		h->cpu_idle = h->mem_free = h->rtt_ms = -1;
		if (health)
			vs_host_health_figures(health, h);
		h->answers = c != NULL && virConnectIsAlive(c) == 1 &&
		             (!health || vs_host_health_down_since(health) == 0);
	}
	vs_pool_view_host_counts(v, hosts, n);
	for (size_t i = 0; placed && i < n; i++)
		hosts[i].running += placed[i];
	best = vs_placement_pick(w->pool, hosts, n);
	if (placed && best >= 0)
		placed[best]++;
	double ms = (double)(g_get_monotonic_time() - t0) / 1000.0;
	for (size_t i = 0; i < n; i++) {
		/* placed by this action before this choice: not running yet */
		unsigned before = placed ? placed[i] - ((int)i == best) : 0;

		g_string_append_printf(scores, "%s%s: %u running", i ? ", " : "",
		                       vs_config_host_name(w->cfg, hosts[i].uri),
		                       hosts[i].running - before);
		if (before)
			g_string_append_printf(scores, " + %u placed", before);
		if (!hosts[i].answers)
			g_string_append(scores, " (no answer)");
	}
	if (w->pool->placement == VS_PLACEMENT_WEIGHTED)
		for (size_t i = 0; i < n; i++)
			g_string_append_printf(
			    scores, "; %s score %.3f (idle %.2f, free %.2f, rtt %.2f ms)",
			    vs_config_host_name(w->cfg, hosts[i].uri), hosts[i].score,
			    hosts[i].cpu_idle, hosts[i].mem_free, hosts[i].rtt_ms);
	/* the decision's time includes asking each host whether it answers */
	vs_info("pool %s: placement %s -> %s in %.3f ms (%s)", w->pool->name,
	        w->pool->placement == VS_PLACEMENT_WEIGHTED ? "weighted" : "fewest",
	        best >= 0 ? vs_config_host_name(w->cfg, hosts[best].uri) : "none", ms, scores->str);
	return best >= 0 ? vs_ops_host(w, hosts[best].uri) : NULL;
}
