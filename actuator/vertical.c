/*
 * vertical.c - vertical scaling of running members (Xen elastic-cloud
 * paper): one more vCPU (live, up to the domain's maximum) or a bigger
 * balloon (up to its maximum memory) before cloning, one fewer when idle
 * before stopping instances.
 */
#include "config.h"

#include "actuator.h"
#include "vs-log.h"

#include <libvirt/virterror.h>

static virDomainPtr lookup(vs_worker_ctx *w, const vs_member *m)
{
	for (size_t h = 0; h < w->n_hosts; h++) {
		if (g_strcmp0(vs_virt_uri(w->hosts[h]), m->uri) != 0)
			continue;
		virConnectPtr c = vs_virt_get(w->hosts[h], NULL);
		if (!c)
			return NULL;
		virDomainPtr d = virDomainLookupByName(c, m->name);
		virConnectClose(c);
		return d;
	}
	return NULL;
}

static bool adjust_memory(virDomainPtr d, int direction)
{
	virDomainInfo info;
	if (virDomainGetInfo(d, &info) < 0)
		return false;
	unsigned long step = info.maxMem / 4;
	unsigned long target = direction > 0
	                           ? MIN(info.maxMem, info.memory + step)
	                           : MAX(info.maxMem / 4, info.memory - MIN(step, info.memory));
	if (target == info.memory)
		return false;
	return virDomainSetMemoryFlags(d, target, VIR_DOMAIN_AFFECT_LIVE) == 0;
}

static bool vertical(vs_worker_ctx *w, GPtrArray *members, int direction, char **action,
                     GError **error)
{
	const vs_pool_config *p = w->pool;
	for (guint i = 0; i < members->len; i++) {
		vs_member *m = members->pdata[i];
		if (m->state != VIR_DOMAIN_RUNNING)
			continue;
		bool can_vcpu =
		    p->vertical_vcpu && (direction > 0 ? m->vcpus < m->vcpus_max : m->vcpus > 1);
		if (!can_vcpu && !p->vertical_memory)
			continue;
		virDomainPtr d = lookup(w, m);
		if (!d)
			continue;
		bool done = false;
		if (can_vcpu) {
			unsigned n = direction > 0 ? m->vcpus + 1 : m->vcpus - 1;
			done = virDomainSetVcpusFlags(d, n, VIR_DOMAIN_AFFECT_LIVE) == 0;
			if (done) {
				*action = g_strdup(direction > 0 ? "vcpu-add" : "vcpu-remove");
				vs_info("pool %s: %s now has %u vCPUs", p->name, m->name, n);
			} else {
				vs_set_virt_error(error, "setvcpus");
				vs_notice("pool %s: %s: %s", p->name, m->name, (*error)->message);
				g_clear_error(error);
			}
		}
		if (!done && p->vertical_memory && adjust_memory(d, direction)) {
			done = true;
			*action = g_strdup(direction > 0 ? "memory-add" : "memory-remove");
			vs_info("pool %s: %s balloon %s", p->name, m->name,
			        direction > 0 ? "raised" : "lowered");
		}
		virResetLastError();
		virDomainFree(d);
		if (done)
			return true;
	}
	return false;
}

/** vs_vertical_up: +1 vCPU (or more memory) on one member; false = none could. */
bool vs_vertical_up(vs_worker_ctx *w, GPtrArray *members, char **action, GError **error)
{
	return vertical(w, members, +1, action, error);
}

/** vs_vertical_down: -1 vCPU (or less memory) on one member; false = none could. */
bool vs_vertical_down(vs_worker_ctx *w, GPtrArray *members, char **action, GError **error)
{
	return vertical(w, members, -1, action, error);
}
