/*
 * vertical.c - vertical scaling of running members (Xen elastic-cloud
 * paper): one more vCPU (live, up to the domain's maximum) for the member
 * the policy names (vs_pool_view_vertical_vcpu: the busiest one above
 * cpu_high), or a bigger balloon (up to its maximum memory), before cloning;
 * one fewer when idle before stopping instances.
 */
#include "config.h"

#include "ops.h"
#include "vs-log.h"

#include <libvirt/virterror.h>

static virDomainPtr lookup(vs_ops_ctx *w, const vs_member *m)
{
	vs_virt *host = vs_ops_host(w, m->host_uri);
	g_autoptr(virConnect) c = host ? vs_virt_get(host, NULL, NULL) : NULL;

	return c ? virDomainLookupByName(c, m->name) : NULL;
}

/* A quarter of the maximum more or less balloon, within a quarter..all. */
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

static bool change_vcpus(vs_ops_ctx *w, const vs_member *m, int direction, vs_op_outcome *o)
{
	g_autoptr(virDomain) d = lookup(w, m);
	unsigned n = direction > 0 ? m->vcpus + 1 : m->vcpus - 1;

	if (!d || virDomainSetVcpusFlags(d, n, VIR_DOMAIN_AFFECT_LIVE) < 0) {
		vs_notice("pool %s: %s: setvcpus %u: %s", w->pool->name, m->name, n,
		          virGetLastErrorMessage());
		virResetLastError();
		return false;
	}
	o->action = direction > 0 ? VS_ACTION_VCPU_ADD : VS_ACTION_VCPU_REMOVE;
	vs_info("pool %s: %s now has %u vCPUs (%.0f%% busy)", w->pool->name, m->name, n,
	        m->cpu_percent);
	return true;
}

/* The first running member whose balloon can move in @direction. */
static bool change_memory(vs_ops_ctx *w, const vs_pool_view *v, int direction, vs_op_outcome *o)
{
	for (guint i = 0; i < v->members->len; i++) {
		const vs_member *m = v->members->pdata[i];
		g_autoptr(virDomain) d = m->running ? lookup(w, m) : NULL;

		if (d && adjust_memory(d, direction)) {
			o->action = direction > 0 ? VS_ACTION_MEMORY_ADD : VS_ACTION_MEMORY_REMOVE;
			vs_info("pool %s: %s balloon %s", w->pool->name, m->name,
			        direction > 0 ? "raised" : "lowered");
			return true;
		}
		virResetLastError();
	}
	return false;
}

/**
 * vs_vertical: see ops.h. vCPUs first (where the policy names a member),
 * then memory.
 */
bool vs_vertical(vs_ops_ctx *w, const vs_pool_view *v, int direction, vs_op_outcome *o,
                 GError **error)
{
	const vs_pool_config *p = w->pool;
	int who = p->vertical_vcpu ? vs_pool_view_vertical_vcpu(v, direction) : -1;

	o->step = VS_STEP_VERTICAL;
	if (who >= 0 && change_vcpus(w, v->members->pdata[who], direction, o))
		return true;
	return p->vertical_memory && change_memory(w, v, direction, o);
}
