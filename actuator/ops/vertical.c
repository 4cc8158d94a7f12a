/*
 * vertical.c - vertical scaling of one member (Xen elastic-cloud paper):
 * one vCPU more or fewer (live hotplug, between 1 and the domain's
 * maximum), or its balloon a step bigger or smaller (lib/vs-vertical.h),
 * on the member whose own windows asked for it (daemon/pool-machine.c).
 * Journaled like every action: a "vertical" record before the change, its
 * end after; an interrupted one is closed by reconcile as it is (libvirt's
 * count is the truth, nothing to undo).
 */
#include "config.h"

#include "ops.h"
#include "vs-log.h"
#include "vs-vertical.h"
#include "vs-wait.h"

#include <libvirt/virterror.h>

static const vs_member *find_member(const vs_pool_view *v, const char *name)
{
	for (guint i = 0; i < v->members->len; i++) {
		const vs_member *m = v->members->pdata[i];

		if (g_strcmp0(m->name, name) == 0)
			return m;
	}
	return NULL;
}

/* libvirt waits 5 s for QEMU's DEVICE_DELETED of the vCPU's alias and then
 * reports a timeout, but the unplug goes on: when the event comes later,
 * libvirt counts the vCPU out then (processDeviceDeletedEvent). So much
 * longer the actuator watches the live count before it calls the step
 * failed. A TCG domain's vCPU is not unplugged at all
 * (vs_vertical_tcg_domain): measured with libvirt 9.0 and QEMU 7.2, the
 * guest ejects it within 0.13 s of device_del, but QEMU sends
 * DEVICE_DELETED only for its lapic, never for its alias, libvirt counts
 * it until libvirtd restarts, and plugging it back after that crashes
 * QEMU. The fault is QEMU's, not libvirt's: QEMU 7.2 driven over QMP alone
 * (device_add, then device_del of the hot-plugged CPU) behaves the same on
 * machine types pc and q35, its second device_add aborts it (pc:
 * "tcg_register_thread: assertion failed: (n < tcg_max_ctxs)"; q35:
 * "corrupted double-linked list"), and with -accel tcg,thread=single the
 * device_del itself aborts it ("qemu_thread_join: Resource deadlock
 * avoided"). */
#define EJECT_WAIT_MS 30000

/* After libvirt's timeout of an unplug: true once the live count is @n. */
static bool wait_ejected(vs_ops_ctx *w, virDomainPtr d, unsigned n)
{
	for (int64_t waited = 0; waited < EJECT_WAIT_MS; waited += 250) {
		int live = virDomainGetVcpusFlags(d, VIR_DOMAIN_AFFECT_LIVE);

		if (live >= 0 && (unsigned)live == n)
			return true;
		virResetLastError();
		if (!vs_wait_ms(w->stop, 250, NULL))
			return false;
	}
	return false;
}

/* The change itself; false with @error when libvirt refuses it. */
static bool apply(vs_ops_ctx *w, virDomainPtr d, const vs_member *m, int vcpu_step, int memory_step,
                  vs_vertical_done *done, GError **error)
{
	if (vcpu_step) {
		unsigned n = vcpu_step > 0 ? m->vcpus + 1 : m->vcpus - 1;

		if (vcpu_step < 0) {
			g_autofree char *xml = virDomainGetXMLDesc(d, 0);

			virResetLastError();
			if (vs_vertical_tcg_domain(xml)) {
				g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_REFUSED,
				            "%s: %u vCPUs: no vCPU unplug under TCG (QEMU does "
				            "not report the vCPU's removal, so libvirt would go on "
				            "counting it)",
				            m->name, n);
				return false;
			}
		}
		/* a removal needs the guest to eject the CPU: libvirt waits for it */
		if (virDomainSetVcpusFlags(d, n, VIR_DOMAIN_AFFECT_LIVE) < 0) {
			virErrorPtr e = virGetLastError();
			bool slow = vcpu_step < 0 && e && e->code == VIR_ERR_OPERATION_TIMEOUT;

			vs_virt_set_error(error, "setvcpus");
			g_prefix_error(error, "%s: %u vCPUs: ", m->name, n);
			if (!slow || !wait_ejected(w, d, n))
				return false;
			vs_info("pool %s: %s ejected its vCPU after libvirt's timeout",
			        w->pool->name, m->name);
			g_clear_error(error);
		}
		done->vcpus = n;
		vs_info("pool %s: %s now has %u vCPUs (of %u)", w->pool->name, m->name, n,
		        m->vcpus_max);
		return true;
	}
	uint64_t target = vs_vertical_memory_target(w->pool, m->mem_kib, m->mem_max_kib,
	                                            done->mem_percent, memory_step);

	if (virDomainSetMemoryFlags(d, target, VIR_DOMAIN_AFFECT_LIVE) < 0) {
		vs_virt_set_error(error, "setmem");
		g_prefix_error(error, "%s: %" G_GUINT64_FORMAT " KiB: ", m->name, target);
		return false;
	}
	done->mem_kib = target;
	vs_info("pool %s: %s balloon %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT
	        " KiB (of %" G_GUINT64_FORMAT ")",
	        w->pool->name, m->name, m->mem_kib, target, m->mem_max_kib);
	return true;
}

/**
 * vs_vertical_member: see ops.h.
 */
bool vs_vertical_member(vs_ops_ctx *w, const vs_pool_view *v, const char *name, int vcpu_step,
                        int memory_step, vs_vertical_done *done, vs_op_outcome *o, GError **error)
{
	const vs_member *m = find_member(v, name);
	bool cpu = vcpu_step != 0;
	uint64_t jid;

	o->step = VS_STEP_VERTICAL;
	o->action = cpu ? (vcpu_step > 0 ? VS_ACTION_VCPU_ADD : VS_ACTION_VCPU_REMOVE)
	                : (memory_step > 0 ? VS_ACTION_MEMORY_ADD : VS_ACTION_MEMORY_REMOVE);
	done->changed = false;
	if (!m || !m->running) {
		vs_info("pool %s: %s no longer runs: no vertical step", w->pool->name, name);
		return true;
	}
	done->vcpus = m->vcpus;
	done->mem_kib = m->mem_kib;
	/* the bounds again, on what libvirt says now */
	if (cpu ? (vcpu_step > 0 ? m->vcpus >= m->vcpus_max : m->vcpus <= 1)
	        : (!m->mem_kib ||
	           vs_vertical_memory_target(w->pool, m->mem_kib, m->mem_max_kib, done->mem_percent,
	                                     memory_step) == m->mem_kib)) {
		vs_info("pool %s: %s: already at its %s", w->pool->name, name,
		        (cpu ? vcpu_step : memory_step) > 0 ? "maximum" : "minimum");
		return true;
	}
	vs_virt *host = vs_ops_host(w, m->host_uri);
	g_autoptr(virConnect) c = host ? vs_virt_get(host, NULL, error) : NULL;
	if (!c) {
		o->step = VS_STEP_CONNECT;
		if (error && !*error)
			g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_NOT_FOUND, "%s: no such host",
			            m->host_uri);
		return false;
	}
	g_autoptr(virDomain) d = virDomainLookupByName(c, m->name);
	if (!d) {
		vs_virt_set_error(error, "lookup");
		return false;
	}
	vs_journal_op op = {
	    .op = "vertical", .pool = w->pool->name, .name = m->name, .uri = m->host_uri};
	jid = vs_journal_begin(w->journal, &op, error);
	if (!jid) {
		o->step = VS_STEP_JOURNAL;
		return false;
	}
	/* the step names the change and the count it aims at */
	g_autofree char *step =
	    cpu ? g_strdup_printf("%s %u", vs_action_name(o->action), m->vcpus + vcpu_step)
	        : g_strdup(vs_action_name(o->action));
	if (!vs_ops_journal_step(w, jid, step, o, error))
		return false;
	o->step = VS_STEP_VERTICAL;
	bool ok = apply(w, d, m, vcpu_step, memory_step, done, error);
	g_autoptr(GError) jerr = NULL;

	if (!vs_journal_end(w->journal, jid, ok ? "ok" : "rolled-back", &jerr))
		vs_warning("pool %s: journal: %s", w->pool->name, jerr->message);
	done->changed = ok;
	return ok;
}
